//! The Terraform target for `cloud = azure`: the same layout as AWS and
//! GCP — one root per planned cluster (`clusters/<key>/`: resource group,
//! VNet and its subnets, AKS with the OIDC issuer and workload identity, a
//! user node pool, the ingress controller's static public IP), one root per
//! environment (PostgreSQL flexible server, Azure Cache for Redis, Key
//! Vault with the connection secrets, a user-assigned identity per workload
//! federated with its Kubernetes ServiceAccount, Azure DNS records) and
//! `shared/` (the pipeline's identity, federated with GitHub's OIDC issuer
//! for this repository only). Every root keeps its state in one storage
//! account (`azurerm` backend, key `<root>.tfstate`).
//!
//! Address plan: each created cluster's VNet owns the `10.<n>.0.0/16` that
//! `plan::topology` gives it (so no two clusters overlap and VNets can be
//! peered); inside it, nodes `/20` at `.0`, private endpoints (Redis) `/24`
//! at `.16`, the subnet delegated to PostgreSQL flexible servers `/24` at
//! `.17`. Pods and services use Azure CNI Overlay's cluster-internal ranges
//! (`192.168.0.0/16`, `172.16.0.0/16`): pod traffic leaving a node takes the
//! node's VNet address, so peered networks only ever see the /16s.
//!
//! What has no Azure block yet (managed MongoDB as Cosmos DB, queues,
//! buckets, Kafka, Aurora) is left out with a coded warning (W0008,
//! [`gaps`]), never silently.

mod cluster;
mod data;
mod shared;

use super::{Artifact, Module, Target, TERRAFORM_VERSION};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::graph::Graph;
use crate::model::{Cloud, Engine, Environment, Model, Placement, SecretStore};
use crate::plan::topology::Cluster;
use crate::plan::Options;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The azurerm provider's major version the output is written for.
pub const AZURERM_PROVIDER: &str = "~> 4.0";
/// The random provider (generated database passwords).
pub const RANDOM_PROVIDER: &str = "~> 3.6";

/// Everything the blocks of one Azure root need.
pub struct Ax<'a> {
    pub model: &'a Model,
    pub graph: &'a Graph,
    pub opts: &'a Options,
    /// The Azure location (escaped program text).
    pub location: &'a str,
    /// Whether Azure is the program's own cloud, not a second one.
    pub primary: bool,
    pub m: Module,
}

/// A globally unique Azure name of lowercase letters and digits only
/// (storage accounts: 3–24; Key Vaults: 3–24 with hyphens allowed, kept out
/// here too): the name's letters and digits, cut to fit with a short hash of
/// the whole so two long names stay distinct.
pub fn compact_name(name: &str, max: usize) -> String {
    let mut s: String = name.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert(0, 'a');
    }
    if s.len() > max {
        let hash = Sha256::digest(name.as_bytes());
        let tag = crate::hex(&hash[..3]);
        s = format!("{}{tag}", &s[..max - tag.len()]);
    }
    while s.len() < 3 {
        s.push('0');
    }
    s
}

/// The storage account every root keeps its state in.
pub fn state_account(model: &Model) -> String {
    compact_name(&format!("{}tfstate", model.project.name), 24)
}

/// The resource group of the state storage account.
pub fn state_group(model: &Model) -> String {
    format!("{}-tfstate", model.project.name)
}

/// `versions.tf.json` (providers, azurerm backend) and the provider block.
fn header(m: &mut Module, model: &Model, root: &str, random: bool) {
    let mut providers = json!({ "azurerm": { "source": "hashicorp/azurerm", "version": AZURERM_PROVIDER } });
    if random {
        providers["random"] = json!({ "source": "hashicorp/random", "version": RANDOM_PROVIDER });
    }
    m.file("versions.tf.json").terraform = Some(json!({
        "required_version": TERRAFORM_VERSION,
        "required_providers": providers,
        "backend": { "azurerm": {
            "resource_group_name": state_group(model),
            "storage_account_name": state_account(model),
            "container_name": "tfstate",
            "key": format!("{root}.tfstate"),
            "use_azuread_auth": true
        } }
    }));
    // The subscription comes from ARM_SUBSCRIPTION_ID (the README says so):
    // one output serves every subscription the team applies it to.
    m.file("main.tf.json").provider.insert("azurerm".into(), json!({ "features": {}, "storage_use_azuread": true }));
}

/// Providers, the location variable and the tags every root shares.
fn common(ax: &mut Ax, root: &str, name: &str, tags: &[(&str, &str)], random: bool) {
    header(&mut ax.m, ax.model, root, random);
    ax.m.variable("location", "string", "Azure location", Some(json!(ax.location)));
    let mut all = serde_json::Map::new();
    all.insert("project".into(), json!(ax.model.project.name));
    all.insert("managed-by".into(), json!("deployc"));
    if let Some(team) = &ax.model.project.team {
        all.insert("team".into(), json!(team));
    }
    for (k, v) in tags {
        all.insert((*k).into(), json!(v));
    }
    ax.m.local("tags", serde_json::Value::Object(all));
    ax.m.local("name", json!(name));
    ax.m.data("data.tf.json", "azurerm_client_config", "current", json!({}));
}

/// The roots of a `cloud = azure` program.
pub fn emit(
    model: &Model,
    graph: &Graph,
    opts: &Options,
    topology: &crate::plan::topology::Topology,
    primary: bool,
) -> Vec<Artifact> {
    let Cloud::Azure { location, cluster: aks } = &model.project.cloud else { return Vec::new() };
    let mut out = Vec::new();
    let shared_dir = super::shared_dir(model);
    let clusters_dir = super::clusters_dir(model);
    let mut ax = Ax { model, graph, opts, location, primary, m: Module::default() };
    common(&mut ax, shared_dir, &model.project.name, &[], false);
    shared::module(&mut ax);
    out.extend(std::mem::take(&mut ax.m).artifacts(&format!("terraform/{shared_dir}"), None));
    let mut created: Vec<&Cluster> = topology.clusters.iter().filter(|c| c.created).collect();
    let hub = created.iter().find(|c| c.hub).map(|c| c.name.clone()).filter(|_| created.len() > 1);
    for c in &created {
        let root = format!("{clusters_dir}/{}", c.key);
        let envs: Vec<&Environment> = c.envs.iter().map(|id| &model.environments[id.index()]).collect();
        common(&mut ax, &root, &c.name, &[("cluster", &c.key)], false);
        cluster::network(&mut ax, c);
        cluster::aks(&mut ax, c, aks, envs.iter().any(|e| e.production));
        cluster::argocd_access(&mut ax, c, hub.as_deref());
        if let Some(hub) = &topology.foreign_hub {
            cluster::foreign_hub_access(&mut ax, c, hub);
        }
        out.extend(std::mem::take(&mut ax.m).artifacts(&format!("terraform/{root}"), None));
    }
    for env in model.environments.iter().filter(|e| topology.runs(e.id)) {
        let name = format!("{}-{}", model.project.name, env.name);
        common(&mut ax, &env.name, &name, &[("environment", &env.name)], true);
        ax.m.local("namespace", json!(env.namespace));
        data::environment(&mut ax, env, topology.of(env.id));
        out.extend(std::mem::take(&mut ax.m).artifacts(&format!("terraform/{}", env.name), Some(&env.name)));
    }
    created.sort_by_key(|c| !c.hub);
    let mut roots = vec![format!("terraform/{shared_dir}")];
    roots.extend(created.iter().map(|c| format!("terraform/{clusters_dir}/{}", c.key)));
    roots.extend(model.environments.iter().filter(|e| topology.runs(e.id)).map(|e| format!("terraform/{}", e.name)));
    let mut doc = readme(model, location, &roots);
    if let Some(hub) = &topology.foreign_hub {
        doc.contents.push_str(&hub_readme(model, hub, &created));
    }
    out.push(doc);
    out
}

/// Whether the Azure output has blocks for a managed resource of this engine.
pub fn served(engine: &Engine) -> bool {
    matches!(engine, Engine::Postgres | Engine::Redis)
}

/// What a `cloud = azure` program asks for that the Azure output cannot
/// give yet (W0008): managed resources without an Azure block here, and a
/// secret store the AKS clusters have no identity for or that does not
/// read Key Vault, where this output writes the credentials it generates.
pub fn gaps(model: &Model) -> Vec<Diagnostic> {
    if !matches!(model.project.cloud, Cloud::Azure { .. }) {
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
        if envs.is_empty() || (served(&r.engine) && !r.aurora) {
            continue;
        }
        let what = if r.engine == Engine::Postgres { "Aurora PostgreSQL" } else { r.engine.word() };
        out.push(
            Diagnostic::new(
                Code::W0008,
                format!("managed {what} `{}` has no Azure Terraform yet (environments: {})", r.name, envs.join(", ")),
            )
            .label_opt(r.span, "managed on Azure here")
            .help(Code::W0008.info().help),
        );
    }
    let generated: Vec<&str> = model
        .resources
        .iter()
        .filter(|r| {
            model.environments.iter().any(|e| match e.resources[r.id.index()].placement {
                Placement::Managed => served(&r.engine) && !r.aurora,
                Placement::InCluster => crate::plan::engines::spec(&r.engine).secret_in_cluster,
            })
        })
        .map(|r| r.name.as_str())
        .collect();
    let store = match &model.project.secret_store {
        SecretStore::Kubernetes => "kubernetes",
        SecretStore::SealedSecrets { .. } => "sealed_secrets",
        SecretStore::AwsSecretsManager { .. } => "aws_secrets_manager",
        SecretStore::Vault { .. } => "vault",
        SecretStore::GcpSecretManager { .. } => "gcp_secret_manager",
    };
    if !generated.is_empty() {
        out.push(
            Diagnostic::new(
                Code::W0008,
                format!(
                    "the credentials Terraform generates for {} go to Azure Key Vault, which secret store `{store}` does not read",
                    generated.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .label_opt(model.project.span, "this cloud")
            .help("Copy each `<resource>-connection` secret from the environment's Key Vault into the store; deployc has no `azure_key_vault` store yet."),
        );
    }
    let foreign = match model.project.secret_store {
        SecretStore::AwsSecretsManager { .. } => Some(("aws_secrets_manager", "AWS")),
        SecretStore::GcpSecretManager { .. } => Some(("gcp_secret_manager", "Google")),
        _ => None,
    };
    if let Some((store, cloud)) = foreign {
        out.push(
            Diagnostic::new(
                Code::W0008,
                format!("secret store `{store}` on an Azure cloud: the AKS clusters have no {cloud} identity to read it with"),
            )
            .label_opt(model.project.span, "this cloud")
            .help(Code::W0008.info().help),
        );
    }
    out
}

/// `terraform/README.md` for Azure: the state account's bootstrap and the order of applies.
fn readme(model: &Model, location: &str, roots: &[String]) -> Artifact {
    let (group, account) = (state_group(model), state_account(model));
    let mut text = format!(
        "# Terraform\n\n\
Generated by deployc. Every folder is a root module with its own state in the Azure\n\
storage account `{account}` (resource group `{group}`, container `tfstate`, blob\n\
`<folder>.tfstate`; Azure Storage leases lock the state). Set `ARM_SUBSCRIPTION_ID`\n\
(and sign in with `az login` or a federated identity) before `terraform init`.\n\n\
## Bootstrap (once per subscription)\n\n\
The backend must exist before the first `terraform init`:\n\n\
```sh\n\
az group create --name {group} --location {location}\n\
az storage account create --name {account} --resource-group {group} --location {location} \\\n\
  --sku Standard_GRS --kind StorageV2 --min-tls-version TLS1_2 \\\n\
  --allow-blob-public-access false --allow-shared-key-access false\n\
az storage account blob-service-properties update --account-name {account} \\\n\
  --resource-group {group} --enable-versioning true --enable-delete-retention true --delete-retention-days 30\n\
az storage container create --name tfstate --account-name {account} --auth-mode login\n\
# whoever applies needs data access to the state (the backend uses Entra ID, not keys):\n\
az role assignment create --role \"Storage Blob Data Contributor\" --assignee <object id> \\\n\
  --scope $(az storage account show --name {account} --resource-group {group} --query id -o tsv)\n\
```\n\n\
Blob versioning keeps every earlier state: recovering infrastructure is `terraform apply`\n\
from the state (promote an older blob version to roll the state back).\n\n\
## Before the first apply\n\n\
- Each cluster root needs `api_authorized_ranges`: the public ranges allowed to reach the\n\
  AKS API server (your operators, CI runners, and the ArgoCD hub's `outbound_ips` output).\n\
- Each environment root needs `key_vault_allowed_ranges`: the public ranges Terraform writes\n\
  secrets from (the nodes reach the vault through their subnet's service endpoint).\n\
- Environment roots with DNS records need `dns_zone_resource_group`: the resource group of\n\
  the Azure DNS zone the team already has.\n\
- Secrets people own (`secret(\"...\")` in the program) are created with the value `unset`:\n\
  set them with `az keyvault secret set`; Terraform ignores their value afterwards.\n\n\
## Order of applies\n\n"
    );
    for (n, r) in roots.iter().enumerate() {
        text.push_str(&format!("{}. `{r}`\n", n + 1));
    }
    text.push_str(
        "\nThe shared module first (the pipeline's identity), then the clusters (the ArgoCD\n\
hub's first: the others grant its identity access), then the environments, which\n\
find their cluster, its network and its ingress address by name.\n",
    );
    Artifact::new(Target::Terraform, None, "terraform/README.md".to_string(), text)
}

/// How ArgoCD in a hub of another cloud reaches these clusters.
fn hub_readme(model: &Model, hub: &Cluster, created: &[&Cluster]) -> String {
    let ns = &model.project.gitops.namespace;
    let mut t = format!(
        "\n## ArgoCD in the hub `{}` (another cloud)\n\n\
ArgoCD runs in `{}`. Each cluster root here creates an identity federated with that cluster's\n\
OIDC issuer for ArgoCD's ServiceAccounts `{ns}/argocd-application-controller` and\n\
`{ns}/argocd-server` (variable `hub_oidc_issuer`: the hub root's `oidc_issuer` output), with\n\
the AKS RBAC Cluster Admin role on that cluster only. Add the hub's egress addresses (its NAT\n\
gateways' public IPs) to `api_authorized_ranges`. On the hub, give both ArgoCD components a\n\
projected ServiceAccount token volume with audience `api://AzureADTokenExchange` mounted so the\n\
token is at `{}`. Then register each cluster under the name the Applications use, as a Secret in\n\
`{ns}` labelled `argocd.argoproj.io/secret-type: cluster`, with `server` and `config` from the\n\
root's `argocd_cluster_server` and `argocd_cluster_config` outputs:\n\n",
        hub.key,
        hub.name,
        cluster::HUB_TOKEN_PATH,
    );
    for c in created {
        t.push_str(&format!("- `{}` (root `clusters/{}`)\n", c.name, c.key));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::compact_name;

    #[test]
    fn compact_names_fit_azure_rules() {
        for n in ["a", "shop", "a-very-long-project-name-tfstate", "1abc", "x_y"] {
            let s = compact_name(n, 24);
            assert!((3..=24).contains(&s.len()), "{s}");
            assert!(s.starts_with(|c: char| c.is_ascii_lowercase()), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{s}");
        }
        assert_ne!(compact_name("a-very-long-project-name-one", 24), compact_name("a-very-long-project-name-two", 24));
    }
}
