//! `terraform/shared/` on GCP: the project's APIs every other root needs,
//! and GitHub Actions' way in: a Workload Identity pool with GitHub's OIDC
//! provider, accepting only this repository's tokens, and the deploy
//! service account those tokens may act as. The registry stays the
//! program's (`ghcr` or `dockerhub`): the language has no Artifact
//! Registry kind yet, so no repository is created here.

use super::{account_id, Gx};
use crate::emit::terraform::{attr, expr};
use crate::plan::identity::{github_repository, GITHUB_OIDC_HOST};
use serde_json::json;

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

pub fn module(gx: &mut Gx) {
    for s in SERVICES {
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
