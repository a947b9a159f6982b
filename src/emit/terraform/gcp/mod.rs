//! The Terraform target for `cloud = gcp`: the same layout as AWS — one
//! root per planned cluster (`clusters/<key>/`: VPC network, subnetwork
//! with the pods' and services' secondary ranges, Cloud NAT, private
//! services access, GKE with Workload Identity and a node pool), one root
//! per environment (Cloud SQL for PostgreSQL, Memorystore for Redis,
//! Secret Manager, a Google service account per workload that reads
//! secrets, Cloud DNS, the GCS bucket of the off-cluster backup copies) and `shared/` (the project's APIs, GitHub Workload
//! Identity Federation and the deploy service account). Every root keeps
//! its state in one GCS bucket under `<root>/`.
//!
//! Address plan: each created cluster owns the `10.<n>.0.0/16` that
//! `plan::topology` gives it (so no two clusters overlap and their networks
//! can be peered); inside it, nodes `/20` at `.0`, services `/20` at `.16`,
//! the control plane `/28` at `.32`, the private services range (Cloud SQL,
//! Memorystore) `/20` at `.48`, pods `/17` at `.128`.
//!
//! What has no GCP block yet (managed MongoDB, queues, buckets, Kafka) is
//! left out with a coded warning (W0008, [`gaps`]), never silently.

mod backup;
mod cluster;
mod data;
mod shared;

use super::{expr, Artifact, Module, Target, TERRAFORM_VERSION};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::graph::Graph;
use crate::model::{Cloud, Engine, Environment, Model, Placement, SecretStore};
use crate::plan::topology::Cluster;
use crate::plan::Options;
use serde_json::json;

/// The google provider's major version the output is written for.
pub const GOOGLE_PROVIDER: &str = "~> 6.0";
/// The random provider (generated database passwords).
pub const RANDOM_PROVIDER: &str = "~> 3.6";

/// Everything the blocks of one GCP root need.
pub struct Gx<'a> {
    pub model: &'a Model,
    pub graph: &'a Graph,
    pub opts: &'a Options,
    /// The GCP project id (escaped program text).
    pub project: &'a str,
    pub region: &'a str,
    /// Whether GCP is the program's own cloud, not a second one.
    pub primary: bool,
    pub m: Module,
}

/// A customer-managed key in `ring` (the key ring's body), named `key` in
/// Cloud KMS and `id` in Terraform, rotated every 90 days and never
/// destroyed (every copy under it would become unreadable), that the
/// service agent `agent` (an IAM member) may encrypt and decrypt with.
pub fn cmek(m: &mut Module, file: &'static str, id: &str, ring: serde_json::Value, key: &str, agent: String) {
    m.resource(file, "google_kms_key_ring", id, ring);
    m.resource(
        file,
        "google_kms_crypto_key",
        id,
        json!({
            "name": key,
            "key_ring": super::attr("google_kms_key_ring", id, "id"),
            "rotation_period": "7776000s",
            // Destroying the key would make every copy unreadable.
            "lifecycle": { "prevent_destroy": true }
        }),
    );
    m.resource(
        file,
        "google_kms_crypto_key_iam_member",
        id,
        json!({
            "crypto_key_id": super::attr("google_kms_crypto_key", id, "id"),
            "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            "member": agent
        }),
    );
}

/// The GCS bucket every root keeps its state in: `<gcp project>-terraform-state`.
pub fn state_bucket(project: &str) -> String {
    format!("{project}-terraform-state")
}

/// A Google service account id ([`crate::plan::identity::gcp_account_id`]).
pub fn account_id(name: &str) -> String {
    crate::plan::identity::gcp_account_id(name)
}

/// The email of a service account this output creates.
pub fn account_email(id: &str) -> String {
    format!("{id}@${{var.project}}.iam.gserviceaccount.com")
}

/// `versions.tf.json` (providers, GCS backend) and the provider block.
fn header(m: &mut Module, project: &str, root: &str, random: bool) {
    let mut providers = json!({ "google": { "source": "hashicorp/google", "version": GOOGLE_PROVIDER } });
    if random {
        providers["random"] = json!({ "source": "hashicorp/random", "version": RANDOM_PROVIDER });
    }
    m.file("versions.tf.json").terraform = Some(json!({
        "required_version": TERRAFORM_VERSION,
        "required_providers": providers,
        "backend": { "gcs": { "bucket": state_bucket(project), "prefix": root } }
    }));
    m.file("main.tf.json").provider.insert(
        "google".into(),
        json!({ "project": expr("var.project"), "region": expr("var.region"), "default_labels": expr("local.labels") }),
    );
}

/// Providers, the project and region variables and the labels every root shares.
fn common(gx: &mut Gx, root: &str, name: &str, labels: &[(&str, &str)], random: bool) {
    header(&mut gx.m, gx.project, root, random);
    gx.m.variable("project", "string", "GCP project id", Some(json!(gx.project)));
    gx.m.variable("region", "string", "GCP region", Some(json!(gx.region)));
    let mut all = serde_json::Map::new();
    // Label values: lowercase letters, digits, `-` and `_`, at most 63.
    let label = |s: &str| -> String {
        s.to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
            .take(63)
            .collect()
    };
    all.insert("project".into(), json!(label(&gx.model.project.name)));
    all.insert("managed-by".into(), json!("deployc"));
    if let Some(team) = &gx.model.project.team {
        all.insert("team".into(), json!(label(team)));
    }
    for (k, v) in labels {
        all.insert((*k).into(), json!(label(v)));
    }
    gx.m.local("labels", serde_json::Value::Object(all));
    gx.m.local("name", json!(name));
}

/// The roots of a `cloud = gcp` program.
pub fn emit(
    model: &Model,
    graph: &Graph,
    opts: &Options,
    topology: &crate::plan::topology::Topology,
    primary: bool,
) -> Vec<Artifact> {
    let Cloud::Gcp { project, region, cluster: gke } = &model.project.cloud else { return Vec::new() };
    let mut out = Vec::new();
    let shared_dir = super::shared_dir(model);
    let clusters_dir = super::clusters_dir(model);
    let mut gx = Gx { model, graph, opts, project, region, primary, m: Module::default() };
    // The Artifact Registry repository the created clusters pull from
    // (one per project and region: one `gcp` setting per program, E0412).
    let mirror = topology
        .clusters
        .iter()
        .filter(|c| c.created)
        .flat_map(|c| c.envs.iter())
        .find_map(|id| crate::plan::registry::mirror(model, &model.environments[id.index()]));
    // Whether an environment here copies its backups to GCS (under a KMS key).
    let backups = model.environments.iter().filter(|e| topology.runs(e.id)).any(|e| {
        crate::plan::backup::off_cluster_of(model, e)
            .is_some_and(|s| matches!(s.kind, crate::plan::backup::StoreKind::Gcs { .. }))
    });
    common(&mut gx, shared_dir, &model.project.name, &[], false);
    shared::module(&mut gx, mirror.as_ref(), backups);
    out.extend(std::mem::take(&mut gx.m).artifacts(&format!("terraform/{shared_dir}"), None));
    let mut created: Vec<&Cluster> = topology.clusters.iter().filter(|c| c.created).collect();
    for c in &created {
        let root = format!("{clusters_dir}/{}", c.key);
        let envs: Vec<&Environment> = c.envs.iter().map(|id| &model.environments[id.index()]).collect();
        common(&mut gx, &root, &c.name, &[("cluster", &c.key)], false);
        cluster::network(&mut gx, c);
        let pulls = envs.iter().find_map(|e| crate::plan::registry::mirror(model, e));
        cluster::gke(&mut gx, c, gke, envs.iter().any(|e| e.production), pulls.as_ref());
        cluster::argocd_access(&mut gx, topology, c);
        if let Some(hub) = &topology.foreign_hub {
            cluster::foreign_hub_access(&mut gx, c, hub);
        }
        out.extend(std::mem::take(&mut gx.m).artifacts(&format!("terraform/{root}"), None));
    }
    for env in model.environments.iter().filter(|e| topology.runs(e.id)) {
        let name = format!("{}-{}", model.project.name, env.name);
        common(&mut gx, &env.name, &name, &[("environment", &env.name)], true);
        gx.m.local("namespace", json!(env.namespace));
        data::environment(&mut gx, env, topology.of(env.id));
        backup::store(&mut gx, env);
        out.extend(std::mem::take(&mut gx.m).artifacts(&format!("terraform/{}", env.name), Some(&env.name)));
    }
    created.sort_by_key(|c| !c.hub);
    let mut roots = vec![format!("terraform/{shared_dir}")];
    roots.extend(created.iter().map(|c| format!("terraform/{clusters_dir}/{}", c.key)));
    roots.extend(model.environments.iter().filter(|e| topology.runs(e.id)).map(|e| format!("terraform/{}", e.name)));
    let mut doc = readme(project, region, &roots);
    if let Some(hub) = &topology.foreign_hub {
        doc.contents.push_str(&hub_readme(model, hub, &created));
    }
    if let Some(mirror) = &mirror {
        doc.contents.push_str(&registry_readme(model, mirror));
    }
    if backups {
        doc.contents.push_str(BACKUPS_README);
    }
    out.push(doc);
    out
}

/// Where the in-cluster backups go, and what the shared root turns on for them.
const BACKUPS_README: &str = "\n## Backup copies\n\n\
Each environment root with in-cluster databases that declare `backup` creates the GCS bucket\n\
`<project>-<env>-backups` (`backup_bucket` output) and the Google service account its backup\n\
ServiceAccount acts as (`backup_service_account`), which may create and read objects there and\n\
nothing else. The shared root turns on Cloud Storage's data access audit logs for the project\n\
(`google_project_iam_audit_config.storage`, authoritative for `storage.googleapis.com`): remove\n\
it there if the organisation already manages that service's audit configuration.\n";

/// How CI copies the images into the repository the GKE clusters pull from.
fn registry_readme(model: &Model, mirror: &crate::plan::registry::Mirror) -> String {
    use crate::model::PipelineProvider;
    use crate::plan::delivery::{image_mirror_account, IMAGE_MIRROR_KEY, IMAGE_MIRROR_KEY_VARIABLE};
    let account = image_mirror_account(model, mirror);
    let mut t = format!(
        "\n## Images for the GKE clusters\n\n\
The GKE nodes pull the images from `{}` (Artifact Registry, created by `shared`; the nodes'\n\
service account may read it), never from the project's registry: CI copies every image it\n\
pushes there with the same tag (`docker buildx imagetools create`, every platform) as\n\
`{account}`, the only identity allowed to write it. Images pushed before the repository existed\n\
have no copy: before promoting a release CI built earlier to a GKE environment, copy its tags once\n\
(`docker buildx imagetools create --tag <copy>:<tag> <image>:<tag>`), or release a new build.\n\n",
        mirror.prefix()
    );
    t.push_str(&match model.pipeline.provider {
        PipelineProvider::GithubActions => {
            "GitHub Actions act as it through Workload Identity Federation, keyless: set the repository\n\
variable `GCP_WORKLOAD_IDENTITY_PROVIDER` to the `shared` root's `github_workload_identity_provider`\n\
output. The build job logs Docker in with `gcloud auth print-access-token`: gcloud is on GitHub's\n\
hosted runners; a self-hosted runner needs it installed.\n"
                .to_string()
        }
        ci => {
            let (ci, how) = match ci {
                PipelineProvider::Jenkins => {
                    ("Jenkins", format!("a credential `{IMAGE_MIRROR_KEY}` of kind *Secret file*"))
                }
                _ => ("GitLab CI", format!("a masked CI/CD variable `{IMAGE_MIRROR_KEY_VARIABLE}` of type *File*")),
            };
            format!(
                "{ci} has no federated identity for Google Cloud: create a key for the account once and\n\
store it as {how}, then delete the local file:\n\n\
```sh\n\
gcloud iam service-accounts keys create image-push-key.json --iam-account {account}\n\
```\n\n\
Rotate it by creating a new key, replacing the stored file and deleting the old key.\n"
            )
        }
    });
    t
}

/// How ArgoCD in a hub of another cloud reaches these clusters.
fn hub_readme(model: &Model, hub: &Cluster, created: &[&Cluster]) -> String {
    let ns = &model.project.gitops.namespace;
    let mut t = format!(
        "\n## ArgoCD in the hub `{}` (another cloud)\n\n\
ArgoCD runs in `{}`. Each cluster root here trusts that cluster's OIDC issuer for ArgoCD's\n\
ServiceAccounts `{ns}/argocd-application-controller` and `{ns}/argocd-server` (variable\n\
`hub_oidc_issuer`: the hub root's `oidc_issuer` output) and lets them act as a Google service\n\
account that administers the GKE clusters. On the hub, give both ArgoCD components\n\
(argo-cd chart values `controller` and `server`):\n\n\
- a projected ServiceAccount token volume with audience `{}` mounted so the token is at\n\
  `{}`;\n\
- the root's `argocd_credential_config` output as a file (a ConfigMap) and\n\
  `GOOGLE_APPLICATION_CREDENTIALS` pointing at it.\n\n\
Then register each cluster under the name the Applications use, as a Secret in `{ns}` labelled\n\
`argocd.argoproj.io/secret-type: cluster`, with `server` and `config` from the root's\n\
`argocd_cluster_server` and `argocd_cluster_config` outputs:\n\n",
        hub.key,
        hub.name,
        cluster::HUB_AUDIENCE,
        cluster::HUB_TOKEN_PATH,
    );
    for c in created {
        t.push_str(&format!("- `{}` (root `clusters/{}`)\n", c.name, c.key));
    }
    t
}

/// Whether the GCP output has blocks for a managed resource of this engine.
pub fn served(engine: &Engine) -> bool {
    matches!(engine, Engine::Postgres | Engine::Redis)
}

/// What a `cloud = gcp` program asks for that the GCP output cannot give
/// yet (W0008): managed resources without a GCP block here, and a secret
/// store the GKE clusters have no identity for.
pub fn gaps(model: &Model) -> Vec<Diagnostic> {
    if !matches!(model.project.cloud, Cloud::Gcp { .. }) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in &model.resources {
        let envs: Vec<&str> = model
            .environments
            .iter()
            .filter(|e| e.resources[r.id.index()].placement == Placement::Managed)
            .map(|e| e.name.as_str())
            .collect();
        if envs.is_empty() || served(&r.engine) || (r.engine == Engine::Postgres && !r.aurora) {
            continue;
        }
        let what = if r.engine == Engine::Postgres { "Aurora PostgreSQL" } else { r.engine.word() };
        out.push(
            Diagnostic::new(
                Code::W0008,
                format!("managed {what} `{}` has no GCP Terraform yet (environments: {})", r.name, envs.join(", ")),
            )
            .label_opt(r.span, "managed on GCP here")
            .help(Code::W0008.info().help),
        );
    }
    // The credentials this output generates (Cloud SQL, Memorystore, the
    // in-cluster databases) land in Secret Manager, which no secret store
    // of the language reads yet.
    let generated: Vec<&str> = model
        .resources
        .iter()
        .filter(|r| {
            model.environments.iter().any(|e| match e.resources[r.id.index()].placement {
                Placement::Managed => served(&r.engine) && !r.aurora,
                Placement::InCluster => crate::plan::engines::uses_password(r),
            })
        })
        .map(|r| r.name.as_str())
        .collect();
    let store = match &model.project.secret_store {
        SecretStore::Kubernetes => Some("kubernetes"),
        SecretStore::SealedSecrets { .. } => Some("sealed_secrets"),
        SecretStore::AwsSecretsManager { .. } => Some("aws_secrets_manager"),
        SecretStore::Vault { .. } => Some("vault"),
        // External Secrets reads them where Terraform writes them.
        SecretStore::GcpSecretManager { .. } => None,
    };
    if let (false, Some(store)) = (generated.is_empty(), store) {
        out.push(
            Diagnostic::new(
                Code::W0008,
                format!(
                    "the credentials Terraform generates for {} go to GCP Secret Manager, which secret store `{store}` does not read",
                    generated.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .label_opt(model.project.span, "this cloud")
            .help("Copy each `<project>-<env>-<resource>-connection` secret from Secret Manager into the store; or choose `secret_store = gcp_secret_manager { project = ... }`, which External Secrets reads through Workload Identity."),
        );
    }
    if let SecretStore::AwsSecretsManager { .. } = model.project.secret_store {
        out.push(
            Diagnostic::new(
                Code::W0008,
                "secret store `aws_secrets_manager` on a GCP cloud: the GKE clusters have no AWS identity to read it with",
            )
            .label_opt(model.project.span, "this cloud")
            .help(Code::W0008.info().help),
        );
    }
    out
}

/// `terraform/README.md` for GCP: the state bucket's bootstrap and the order of applies.
fn readme(project: &str, region: &str, roots: &[String]) -> Artifact {
    let b = state_bucket(project);
    let mut text = format!(
        "# Terraform\n\n\
Generated by deployc. Every folder is a root module with its own state in the GCS\n\
bucket `{b}` (prefix `<folder>`; GCS locks the state itself), project `{project}`.\n\n\
## Bootstrap (once per project)\n\n\
The backend must exist before the first `terraform init`:\n\n\
```sh\n\
gcloud storage buckets create gs://{b} --project {project} --location {region} \\\n\
  --uniform-bucket-level-access --public-access-prevention\n\
gcloud storage buckets update gs://{b} --versioning\n\
```\n\n\
Versioning keeps every earlier state: recovering infrastructure is `terraform apply`\n\
from the state (restore an older object generation to roll the state back).\n\n\
## Order of applies\n\n"
    );
    for (n, r) in roots.iter().enumerate() {
        text.push_str(&format!("{}. `{r}`\n", n + 1));
    }
    text.push_str(
        "\nThe shared module first (the project's APIs, GitHub's Workload Identity Federation),\n\
then the clusters (the ArgoCD hub's first), then the environments, which find their\n\
cluster and its network by name.\n",
    );
    Artifact::new(Target::Terraform, None, "terraform/README.md".to_string(), text)
}

#[cfg(test)]
mod tests {
    use super::account_id;

    #[test]
    fn account_ids_fit_google_rules() {
        for n in ["a", "shop-dev-api", "a-very-long-project-name-production-ai-service", "1abc", "x_y"] {
            let id = account_id(n);
            assert!((6..=30).contains(&id.len()), "{id}");
            assert!(id.starts_with(|c: char| c.is_ascii_lowercase()), "{id}");
            assert!(!id.ends_with('-'), "{id}");
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{id}");
        }
        assert_ne!(
            account_id("a-very-long-project-name-production-ai-service"),
            account_id("a-very-long-project-name-production-ai-servicf")
        );
    }
}
