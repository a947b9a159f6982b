//! The Secrets cluster add-ons read, decided once: the log agent's (the
//! Datadog API key, Fluent Bit's log store password: plan/logs.rs) on every
//! cluster, and ArgoCD's webhook secret (plan/webhook.rs) on the hub.
//!
//! With an external store, `k8s/_addons/<cluster>/` holds a
//! `ClusterSecretStore` that authenticates as the External Secrets
//! ServiceAccount of the cluster's secrets environment (its production one,
//! or else its last) and admits only the add-ons' namespaces, and one
//! ExternalSecret per Secret: a Secret of its own (the log agent's), or
//! keys merged into a Secret the add-on's own install made (ArgoCD's
//! `argocd-secret`). `deployc secrets` lists them. With Sealed Secrets or
//! plain Secrets the team provides them.

use super::secrets::{Origin, Producer, SecretPlan};
use super::topology::{Cluster, Topology};
use super::Plan;
use crate::model::{EnvId, Model, SecretStore as Store};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Folder of the add-ons' objects per cluster (their Secrets).
pub const ADDONS_DIR: &str = "k8s/_addons";

/// What one add-on needs from the store.
pub struct Need {
    /// The program's secret (the store entry's name).
    pub name: String,
    pub namespace: String,
    /// The key the add-on reads.
    pub key: String,
    /// Who reads it (the inventory's reader).
    pub reader: String,
    /// `app.kubernetes.io/component` of its objects.
    pub component: &'static str,
    /// `None`: a Secret of its own, named as the program's secret.
    /// `Some(s)`: its key is merged into the existing Secret `s`.
    pub merge_into: Option<String>,
    /// On the hub only (ArgoCD's), or on every cluster (the log agent's).
    pub hub_only: bool,
}

fn needs(model: &Model) -> Vec<Need> {
    let mut out = Vec::new();
    if let Some((name, namespace, key, reader)) = super::logs::addon_secret(model) {
        out.push(Need {
            name,
            namespace: namespace.into(),
            key: key.into(),
            reader: reader.into(),
            component: "logs",
            merge_into: None,
            hub_only: false,
        });
    }
    out.extend(super::webhook::addon_secret(model));
    out
}

/// The environment whose External Secrets identity reads an add-on's
/// secrets on a cluster: its production environment, or else its last.
pub fn secrets_env(plan: &Plan, c: &Cluster) -> Option<EnvId> {
    env_of(plan.model, c)
}

fn env_of(model: &Model, c: &Cluster) -> Option<EnvId> {
    c.envs.iter().copied().find(|e| model.env(*e).production).or_else(|| c.envs.last().copied())
}

/// One Secret an add-on reads on one cluster.
#[derive(Clone, Debug)]
pub struct AddonSecret {
    pub cluster: String,
    /// The environment whose store entry and identity it comes from.
    pub env: EnvId,
    pub namespace: String,
    /// The Secret in the cluster (the merge target's name for a merge).
    pub secret: SecretPlan,
    /// The program's secret: the store entry and the ExternalSecret's name.
    pub entry: String,
    pub component: &'static str,
    /// The existing Secret its key is merged into, if not a Secret of its own.
    pub merge_into: Option<String>,
}

/// The names of the add-on Secrets whose store entries live under an
/// environment (the secret store's Terraform creates them and lets the
/// environment's External Secrets role read them).
pub fn addon_secret_names(model: &Model, env: EnvId) -> Vec<String> {
    let topology = Topology::new(model);
    let c = topology.of(env);
    if env_of(model, c) != Some(env) {
        return Vec::new();
    }
    needs(model).into_iter().filter(|n| !n.hub_only || c.hub).map(|n| n.name).collect()
}

/// The add-on entries whose keys are merged into a Secret the add-on's own
/// install made (ArgoCD's `argocd-secret`), by entry: that Secret's name.
pub fn merge_targets(model: &Model) -> std::collections::BTreeMap<String, String> {
    needs(model).into_iter().filter_map(|n| n.merge_into.map(|m| (n.name, m))).collect()
}

/// The Secrets the add-ons read, per cluster.
pub fn addon_secrets(plan: &Plan) -> Vec<AddonSecret> {
    let model = plan.model;
    let needs = needs(model);
    let mut out = Vec::new();
    for c in &plan.topology.clusters {
        let Some(env) = secrets_env(plan, c) else { continue };
        let env_name = &model.env(env).name;
        for n in needs.iter().filter(|n| !n.hub_only || c.hub) {
            // The store the cluster reads (a cloud's own store follows its cloud).
            let producer = match &model.secret_store_of(model.env(env)) {
                Store::AwsSecretsManager { prefix, .. } => Producer::ExternalSecret {
                    store: "aws_secrets_manager".into(),
                    key: format!("{prefix}/{env_name}/{}", n.name),
                },
                Store::Vault { .. } => Producer::ExternalSecret {
                    store: "vault".into(),
                    key: format!("{}/{env_name}/{}", model.project.name, n.name),
                },
                Store::GcpSecretManager { .. } => Producer::ExternalSecret {
                    store: "gcp_secret_manager".into(),
                    key: super::secrets::gcp_secret_id(model, model.env(env), &n.name),
                },
                // No environment's kustomization may write the add-on's
                // namespace: the team creates (or seals and applies) it there.
                Store::SealedSecrets { .. } | Store::Kubernetes => Producer::CreatedByTeam,
            };
            out.push(AddonSecret {
                cluster: c.key.clone(),
                env,
                namespace: n.namespace.clone(),
                secret: SecretPlan {
                    name: n.merge_into.clone().unwrap_or_else(|| n.name.clone()),
                    keys: BTreeSet::from([n.key.clone()]),
                    readers: BTreeSet::from([n.reader.clone()]),
                    origin: Origin::Program,
                    producer,
                },
                entry: n.name.clone(),
                component: n.component,
                merge_into: n.merge_into.clone(),
            });
        }
    }
    out
}

/// The folder of a cluster's add-on objects: `k8s/_addons/<key>`, or
/// `k8s/_addons/cluster-<n>` for a cluster named by its URL.
pub fn addons_dir(plan: &Plan, c: &Cluster) -> String {
    let n = plan.topology.clusters.iter().position(|x| x.key == c.key).unwrap_or(0);
    if c.created {
        format!("{ADDONS_DIR}/{}", c.key)
    } else {
        format!("{ADDONS_DIR}/cluster-{}", n + 1)
    }
}

/// The name of the `ClusterSecretStore` the add-ons' ExternalSecrets use.
pub fn addon_store_name(model: &Model) -> String {
    format!("{}-addons", model.project.name)
}

/// The objects of `k8s/_addons/<cluster>/`: the ClusterSecretStore (the
/// log environment's identity, admitting only the add-ons' namespaces) and
/// one ExternalSecret per add-on Secret, as `(kind, name, object)`.
pub fn addon_objects(plan: &Plan, c: &Cluster) -> Vec<(&'static str, String, Value)> {
    use super::secrets::Producer;
    let model = plan.model;
    let secrets: Vec<AddonSecret> = addon_secrets(plan).into_iter().filter(|s| s.cluster == c.key).collect();
    let Some(first) = secrets.first() else { return Vec::new() };
    // By id from the model: a build of some environments (`--env`) plans
    // only those, and the cluster's secrets environment may not be one.
    let env = model.env(first.env);
    let ns = env.namespace.clone();
    // The environment's External Secrets ServiceAccount (emit/k8s/data.rs).
    let sa = json!({ "name": format!("{}-secrets", model.project.name), "namespace": ns });
    let provider = match &model.secret_store_of(env) {
        Store::AwsSecretsManager { region, .. } => {
            json!({ "aws": { "service": "SecretsManager", "region": region, "auth": { "jwt": { "serviceAccountRef": sa } } } })
        }
        Store::GcpSecretManager { project } => {
            json!({ "gcpsm": { "projectID": project, "auth": { "workloadIdentity": { "serviceAccountRef": sa } } } })
        }
        Store::Vault { address, path, role } => json!({ "vault": {
            "server": address, "path": path, "version": "v2",
            "auth": { "kubernetes": { "mountPath": "kubernetes", "role": role, "serviceAccountRef": sa } }
        } }),
        _ => return Vec::new(),
    };
    let labels = |component: &str| {
        json!({
            "app.kubernetes.io/part-of": model.project.name,
            "app.kubernetes.io/managed-by": "deployc",
            "app.kubernetes.io/component": component
        })
    };
    let store = addon_store_name(model);
    let namespaces: BTreeSet<&str> = secrets.iter().map(|s| s.namespace.as_str()).collect();
    let mut out = vec![(
        "ClusterSecretStore",
        store.clone(),
        json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": { "name": store, "labels": labels("addons") },
            "spec": {
                "provider": provider,
                "conditions": [ { "namespaces": namespaces } ]
            }
        }),
    )];
    for s in &secrets {
        let Producer::ExternalSecret { key, .. } = &s.secret.producer else { continue };
        // A merge adds the keys to a Secret the add-on's install owns
        // (`creationPolicy: Merge` waits for it to exist and leaves it there).
        let policy = if s.merge_into.is_some() { "Merge" } else { "Owner" };
        out.push((
            "ExternalSecret",
            s.entry.clone(),
            json!({
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": { "name": s.entry, "namespace": s.namespace, "labels": labels(s.component) },
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": { "name": store, "kind": "ClusterSecretStore" },
                    "target": { "name": s.secret.name, "creationPolicy": policy },
                    "dataFrom": [ { "extract": { "key": key } } ]
                }
            }),
        ));
    }
    out
}
