//! Which Secrets an environment reads, and who provides them.

use super::env::{connection_secret, resolve_attr, Source};
use super::EnvPlan;
use crate::model::{EnvValue, Registry, SecretStore as Store, TPart};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Who creates a Secret that the environment's pods read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Producer {
    /// An ExternalSecret the output ships copies it from the external store
    /// (AWS Secrets Manager, Vault or Google Secret Manager) entry at `key`.
    ExternalSecret { store: String, key: String },
    /// The team seals it with kubeseal: into `file` (`<dir>/<env>/<name>.yaml`
    /// beside the program, checked and written into the output as
    /// `sealedsecret-<name>.yaml`) when the store names a `dir`, else into
    /// `k8s/<env>/extra/`, which the environment's kustomization lists.
    SealedByTeam {
        controller_namespace: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// The team creates it in the namespace (`secret_store = kubernetes`).
    CreatedByTeam,
    /// An ExternalSecret the output ships writes it from a generator's
    /// output, refreshed (the ECR pull token of `plan::registry`): no store
    /// entry, nothing for the team to set.
    Generated { generator: String },
}

/// Where the value of a Secret comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// `secret("name")` in the program: a value only people have.
    Program,
    /// The connection details of a backing resource (`db.url`): the
    /// credentials the platform owns.
    Connection { resource: String },
    /// Registry credentials a service's pods pull their image with
    /// (`pull_secrets`): a Secret of type `kubernetes.io/dockerconfigjson`
    /// whose one key, `.dockerconfigjson`, the store entry holds.
    PullSecret,
}

/// The Kubernetes type of a Secret, when it is not `Opaque`.
pub fn secret_type(s: &SecretPlan) -> Option<&'static str> {
    (s.origin == Origin::PullSecret).then_some("kubernetes.io/dockerconfigjson")
}

/// One Secret of one environment: its keys, readers, producer and origin.
#[derive(Clone, Debug, Serialize)]
pub struct SecretPlan {
    pub name: String,
    pub keys: BTreeSet<String>,
    /// Objects that read it (services, their migration Jobs, datastores).
    pub readers: BTreeSet<String>,
    pub origin: Origin,
    pub producer: Producer,
}

/// The annotation that has Reloader roll a workload when a Secret it reads
/// changes (a rotation in the store, a resealed value): environment
/// variables are read only at start, and the Secrets' contents are not in
/// the output, so no checksum on the pod template could notice.
pub fn reload_annotation(cx: &EnvPlan, reader: &str) -> Option<(String, String)> {
    cx.reloads().get(reader).map(|names| ("secret.reloader.stakater.com/reload".to_string(), names.clone()))
}

/// Every Secret the environment reads, sorted by name, with who produces it.
/// **Invariant:** every secret reference the Kubernetes and Helm renderers
/// write names a Secret in this list (tests check it on the output).
pub fn inventory(cx: &EnvPlan) -> Vec<SecretPlan> {
    cx.secrets().to_vec()
}

/// Builds the inventory; [`EnvPlan::secrets`] keeps it.
pub(super) fn build_inventory(cx: &EnvPlan) -> Vec<SecretPlan> {
    let model = cx.model;
    let mut found: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, Origin)> = BTreeMap::new();
    let mut add = |name: &str, key: &str, reader: &str, origin: Origin| {
        let e = found.entry(name.to_string()).or_insert_with(|| (BTreeSet::new(), BTreeSet::new(), origin));
        e.0.insert(key.to_string());
        e.1.insert(reader.to_string());
    };
    // Named once: a lookup per reference, not a name built per resource.
    let connections: HashMap<String, &str> =
        model.resources.iter().rev().map(|r| (connection_secret(&r.name), r.name.as_str())).collect();
    let connection_of =
        |name: &str| connections.get(name).map_or(Origin::Program, |r| Origin::Connection { resource: r.to_string() });
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        let mut readers = vec![s.name.clone()];
        if s.migrations.is_some() && cx.runs_migrations() {
            readers.push(format!("{}-migrate", s.name));
        }
        for v in d.env.values() {
            let refs: Vec<&crate::model::AttrRef> = match v {
                EnvValue::Secret { name, key } => {
                    for r in &readers {
                        add(name, key.as_deref().unwrap_or("value"), r, Origin::Program);
                    }
                    continue;
                }
                EnvValue::Ref(r) => vec![r],
                EnvValue::Literal(t) => t
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        TPart::Ref(r) => Some(r),
                        _ => None,
                    })
                    .collect(),
            };
            for r in refs {
                if let Source::Secret { name, key } = resolve_attr(cx, r) {
                    for reader in &readers {
                        add(&name, &key, reader, connection_of(&name));
                    }
                }
            }
        }
    }
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        let mut readers = vec![s.name.clone()];
        if s.migrations.is_some() && cx.runs_migrations() {
            readers.push(format!("{}-migrate", s.name));
        }
        for (_, v) in super::observability::pod_env(cx, d) {
            if let super::observability::PodVar::Secret { name, key } = v {
                for r in &readers {
                    add(&name, &key, r, Origin::Program);
                }
            }
        }
    }
    for r in &model.resources {
        if cx.in_cluster(r.id) && super::engines::uses_password(r) {
            let name = connection_secret(&r.name);
            add(&name, "password", &r.name, Origin::Connection { resource: r.name.clone() });
            // A warm standby's refresh job restores into it.
            if super::failover::of_standby(model, cx.env).is_some()
                && super::failover::restored(cx).iter().any(|x| x.id == r.id)
            {
                add(&name, "password", &super::failover::job_name(r), Origin::Connection { resource: r.name.clone() });
            }
            // A replica set's members share a key file (plan/replica_set.rs).
            if super::replica_set::of(cx, r).is_some() {
                add(&name, super::replica_set::KEYFILE_KEY, &r.name, Origin::Connection { resource: r.name.clone() });
                add(
                    &name,
                    "password",
                    &super::replica_set::job_name(r),
                    Origin::Connection { resource: r.name.clone() },
                );
            }
        }
    }
    // Image pull secrets: read by the kubelet for the service's pods.
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        for name in &s.pod.pull_secrets {
            add(name, ".dockerconfigjson", &s.name, Origin::PullSecret);
        }
    }
    // Alertmanager's receivers (a Slack webhook, a PagerDuty routing key).
    let reader = super::observability::alerts_name(model);
    for (name, key) in super::observability::receiver_secrets(cx) {
        add(&name, &key, &reader, Origin::Program);
    }
    let env = &cx.env.name;
    let store = model.secret_store_of(cx.env);
    let mut out: Vec<SecretPlan> = found
        .into_iter()
        .map(|(name, (keys, readers, origin))| {
            let producer = match &store {
                Store::AwsSecretsManager { prefix, .. } => Producer::ExternalSecret {
                    store: "aws_secrets_manager".into(),
                    key: format!("{prefix}/{env}/{name}"),
                },
                // The KV mount is the store's `path`; keys live under the project.
                Store::Vault { .. } => Producer::ExternalSecret {
                    store: "vault".into(),
                    key: format!("{}/{env}/{name}", model.project.name),
                },
                Store::GcpSecretManager { .. } => Producer::ExternalSecret {
                    store: "gcp_secret_manager".into(),
                    key: gcp_secret_id(model, cx.env, &name),
                },
                Store::SealedSecrets { controller_namespace, dir } => Producer::SealedByTeam {
                    controller_namespace: controller_namespace.clone(),
                    file: dir.as_ref().map(|d| super::sealed::file_of(d, env, &name)),
                },
                Store::Kubernetes => Producer::CreatedByTeam,
            };
            SecretPlan { name, keys, readers, origin, producer }
        })
        .chain(generated(cx))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The Secrets the output generates (the ECR pull secret of a GKE
/// environment), read by the kubelet for the built services' pods.
fn generated(cx: &EnvPlan) -> Vec<SecretPlan> {
    let model = cx.model;
    let pull = super::registry::pull_secrets(cx);
    let readers: BTreeSet<String> = cx
        .env
        .deployments
        .iter()
        .map(|d| model.service(d.service))
        .filter(|s| model.built(s).is_some())
        .map(|s| s.name.clone())
        .collect();
    if readers.is_empty() {
        return Vec::new();
    }
    pull.into_iter()
        .map(|name| SecretPlan {
            name,
            keys: BTreeSet::from([".dockerconfigjson".to_string()]),
            readers: readers.clone(),
            origin: Origin::PullSecret,
            producer: Producer::Generated { generator: "ECRAuthorizationToken".into() },
        })
        .collect()
}

/// The Secret Manager secret id of a Kubernetes Secret: `<project>-<env>-<name>`
/// (Secret Manager takes letters, digits, `-` and `_`). The GCP Terraform
/// creates it under this id; the ExternalSecret reads it under this id.
pub fn gcp_secret_id(model: &crate::model::Model, env: &crate::model::Environment, name: &str) -> String {
    format!("{}-{}-{name}", model.project.name, env.name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// The Google service account External Secrets acts as through Workload
/// Identity (annotation `iam.gke.io/gcp-service-account`), which the GCP
/// Terraform creates as `<project>-<env>-<project>-secrets`.
pub fn external_secrets_gcp_account(cx: &EnvPlan) -> Option<String> {
    let model = cx.model;
    let Store::GcpSecretManager { project } = model.secret_store_of(cx.env) else { return None };
    let id = super::identity::gcp_account_id(&format!(
        "{}-{}-{}-secrets",
        model.project.name, cx.env.name, model.project.name
    ));
    Some(format!("{id}@{project}.iam.gserviceaccount.com"))
}

/// The Kubernetes Secrets this environment's workloads read that the
/// store holds (all but the generated ones), sorted.
pub fn secret_names(cx: &EnvPlan) -> BTreeSet<String> {
    cx.secrets().iter().filter(|s| s.in_store()).map(|s| s.name.clone()).collect()
}

impl SecretPlan {
    /// Whether its value lives in the secret store (or with the team):
    /// every Secret but those the output generates.
    pub fn in_store(&self) -> bool {
        !matches!(self.producer, Producer::Generated { .. })
    }
}

/// The IAM role that Terraform creates for External Secrets (IRSA), when
/// secrets live in AWS Secrets Manager and the account is known.
pub fn external_secrets_role(cx: &EnvPlan) -> Option<String> {
    let model = cx.model;
    match (&model.secret_store_of(cx.env), &model.project.registry) {
        (Store::AwsSecretsManager { .. }, Registry::Ecr { account: Some(account), .. }) => {
            Some(format!("arn:aws:iam::{account}:role/{}-{}-external-secrets", model.project.name, cx.env.name))
        }
        _ => None,
    }
}
