//! `terraform/shared/` on GCP: the project's APIs every other root needs,
//! and GitHub Actions' way in: a Workload Identity pool with GitHub's OIDC
//! provider, accepting only this repository's tokens, and the deploy
//! service account those tokens may act as. Where the GKE clusters pull
//! the project's ECR images from a copy (`plan::registry::Mirror`), also
//! the Artifact Registry repository of that copy and the service account
//! CI pushes it as (`roles/artifactregistry.writer` on that repository
//! only): GitHub Actions act as it through the pool, keyless; Jenkins and
//! GitLab CI through a key the team creates for it (the README says how).
//! Other registries (`ghcr`, `dockerhub`) stay the program's. Where an
//! environment copies its backups to GCS, Cloud Audit Logs' data access
//! logs of Cloud Storage.

use super::{account_id, Gx};
use crate::emit::terraform::{attr, expr};
use crate::model::PipelineProvider;
use crate::plan::identity::{github_repository, GITHUB_OIDC_HOST};
use crate::plan::registry::Mirror;
use serde_json::json;

const REGISTRY_FILE: &str = "registry.tf.json";

const FILE: &str = "github.tf.json";

/// The APIs the cluster and environment roots call.
const SERVICES: &[&str] = &[
    "compute.googleapis.com",
    "container.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "dns.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
];

pub fn module(gx: &mut Gx, mirror: Option<&Mirror>, backups: bool) {
    let mut apis: Vec<&str> = SERVICES.to_vec();
    if mirror.is_some() {
        apis.push("artifactregistry.googleapis.com");
    }
    // The registry's key and the backup buckets' keys.
    if mirror.is_some() || backups {
        apis.push("cloudkms.googleapis.com");
    }
    if backups {
        apis.push("storage.googleapis.com");
    }
    for s in apis {
        let id = s.trim_end_matches(".googleapis.com");
        gx.m.resource(
            "services.tf.json",
            "google_project_service",
            id,
            // Other roots (and other projects' tools) use them too: never
            // switch an API off on destroy.
            json!({ "project": expr("var.project"), "service": s, "disable_on_destroy": false }),
        );
    }
    if backups {
        // Reads and writes of the backup copies (and of every other object
        // of the project) reach Cloud Audit Logs, which Google recommends
        // over a bucket's legacy usage logs (plan/waivers.rs: CKV_GCP_62).
        gx.m.resource(
            "audit.tf.json",
            "google_project_iam_audit_config",
            "storage",
            json!({
                "project": expr("var.project"),
                "service": "storage.googleapis.com",
                "audit_log_config": [{ "log_type": "DATA_READ" }, { "log_type": "DATA_WRITE" }]
            }),
        );
    }
    let repo = github_repository(gx.model);
    let pool = account_id(&format!("{}-github", gx.model.project.name));
    let m = &mut gx.m;
    m.resource(
        FILE,
        "google_iam_workload_identity_pool",
        "github",
        json!({
            "workload_identity_pool_id": pool,
            "display_name": "GitHub Actions",
            "description": format!("GitHub Actions runs of {repo}"),
            "depends_on": ["google_project_service.iam", "google_project_service.sts"]
        }),
    );
    m.resource(
        FILE,
        "google_iam_workload_identity_pool_provider",
        "github",
        json!({
            "workload_identity_pool_id": attr("google_iam_workload_identity_pool", "github", "workload_identity_pool_id"),
            "workload_identity_pool_provider_id": "github",
            "display_name": "GitHub OIDC",
            "attribute_mapping": {
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.ref": "assertion.ref",
                "attribute.environment": "assertion.environment"
            },
            // Only the runs the pipeline's identities serve: tokens of any
            // other repository, ref or environment are refused by the
            // provider itself.
            "attribute_condition": attribute_condition(gx.model, &repo),
            "oidc": { "issuer_uri": format!("https://{GITHUB_OIDC_HOST}") }
        }),
    );
    let deploy = account_id(&format!("{}-github-deploy", gx.model.project.name));
    m.resource(
        FILE,
        "google_service_account",
        "github_deploy",
        json!({ "account_id": deploy, "display_name": format!("GitHub Actions deploy jobs of {repo}") }),
    );
    m.resource(
        FILE,
        "google_service_account_iam_member",
        "github_deploy",
        json!({
            "service_account_id": attr("google_service_account", "github_deploy", "name"),
            "role": "roles/iam.workloadIdentityUser",
            "member": format!(
                "principalSet://iam.googleapis.com/{}/attribute.repository/{repo}",
                attr("google_iam_workload_identity_pool", "github", "name")
            )
        }),
    );
    if let Some(mirror) = mirror {
        registry(gx, mirror, &repo);
    }
    let m = &mut gx.m;
    m.output(
        "github_workload_identity_provider",
        "workload_identity_provider of google-github-actions/auth",
        attr("google_iam_workload_identity_pool_provider", "github", "name"),
    );
    m.output(
        "github_deploy_service_account",
        "service_account of google-github-actions/auth in deploy jobs",
        attr("google_service_account", "github_deploy", "email"),
    );
}

/// The Artifact Registry repository of the images' copies and the one
/// identity allowed to write it.
fn registry(gx: &mut Gx, mirror: &Mirror, repo: &str) {
    let github = gx.model.pipeline.provider == PipelineProvider::GithubActions;
    let m = &mut gx.m;
    // Encrypted under a key of the project's, as the ECR repositories are
    // under a KMS key: Artifact Registry's service agent may use it.
    m.data(REGISTRY_FILE, "google_project", "this", json!({ "project_id": expr("var.project") }));
    super::cmek(
        m,
        REGISTRY_FILE,
        "registry",
        json!({
            "name": format!("{}-registry", mirror.repository),
            "location": mirror.location,
            "depends_on": ["google_project_service.cloudkms"]
        }),
        "images",
        format!(
            "serviceAccount:service-{}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
            expr("data.google_project.this.number")
        ),
    );
    m.resource(
        REGISTRY_FILE,
        "google_artifact_registry_repository",
        "images",
        json!({
            "location": mirror.location,
            "repository_id": mirror.repository,
            "format": "DOCKER",
            "description": format!("copies of the images of {repo} CI pushes for the GKE clusters"),
            // Release tags are never moved, as in ECR: a tag names one build forever.
            "docker_config": { "immutable_tags": true },
            "kms_key_name": attr("google_kms_crypto_key", "registry", "id"),
            "depends_on": ["google_project_service.artifactregistry", "google_kms_crypto_key_iam_member.registry"]
        }),
    );
    m.resource(
        REGISTRY_FILE,
        "google_service_account",
        "image_push",
        json!({
            // `plan::delivery::image_mirror_account` names it in the CIs.
            "account_id": account_id(&format!("{}-image-push", gx.model.project.name)),
            "display_name": format!("CI image copies of {repo}")
        }),
    );
    m.resource(
        REGISTRY_FILE,
        "google_artifact_registry_repository_iam_member",
        "image_push_writer",
        json!({
            "project": attr("google_artifact_registry_repository", "images", "project"),
            "location": attr("google_artifact_registry_repository", "images", "location"),
            "repository": attr("google_artifact_registry_repository", "images", "name"),
            "role": "roles/artifactregistry.writer",
            "member": format!("serviceAccount:{}", attr("google_service_account", "image_push", "email"))
        }),
    );
    if github {
        // Keyless: runs of this repository that the provider admits act as
        // the account (google-github-actions/auth in the CD build job).
        m.resource(
            REGISTRY_FILE,
            "google_service_account_iam_member",
            "image_push",
            json!({
                "service_account_id": attr("google_service_account", "image_push", "name"),
                "role": "roles/iam.workloadIdentityUser",
                "member": format!(
                    "principalSet://iam.googleapis.com/{}/attribute.repository/{repo}",
                    attr("google_iam_workload_identity_pool", "github", "name")
                )
            }),
        );
    }
    m.output("artifact_registry", "the repository the GKE clusters pull the images' copies from", mirror.prefix());
    m.output(
        "image_push_service_account",
        if github {
            "service_account of google-github-actions/auth in the CD build job"
        } else {
            "the service account CI pushes the images' copies as (create its key for CI: terraform/README.md)"
        },
        attr("google_service_account", "image_push", "email"),
    );
}

/// The CEL condition of the GitHub provider: this repository, and a subject
/// the pipeline uses (the refs that push images, the environments that
/// deploy); a ref pattern (`refs/tags/v*`) is a prefix.
fn attribute_condition(model: &crate::model::Model, repo: &str) -> String {
    use crate::plan::identity::{deploy_subject, push_subjects};
    let q = crate::emit::terraform::hcl_quoted;
    let mut subjects = push_subjects(model);
    subjects.extend(model.environments.iter().map(|e| deploy_subject(model, e)));
    let tests: Vec<String> = subjects
        .iter()
        .map(|s| match s.strip_suffix('*') {
            Some(prefix) => format!("assertion.sub.startsWith(\"{}\")", q(prefix)),
            None => format!("assertion.sub == \"{}\"", q(s)),
        })
        .collect();
    format!("assertion.repository == \"{}\" && ({})", q(repo), tests.join(" || "))
}
