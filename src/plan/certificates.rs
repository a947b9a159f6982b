//! The certificates of the Ingresses ingress-nginx serves over TLS, decided
//! once. Each such Ingress names the ClusterIssuer [`ISSUER`]
//! (`cert-manager.io/cluster-issuer`); every cluster where one runs gets
//! that issuer: Let's Encrypt's ACME server, answering HTTP-01 challenges
//! through ingress-nginx. cert-manager answers a challenge with a solver
//! pod in the Ingress's namespace, which the namespace's default-deny
//! network policy would cut off from ingress-nginx, so each such
//! environment admits ingress-nginx to the solver pods on their port
//! ([`SOLVER_PORT`]); a mesh leaves them out (the load balancer's
//! challenge traffic reaches them as plain HTTP).
//!
//! **Invariant:** every `cert-manager.io/cluster-issuer` an Ingress names
//! exists on its cluster.

use super::routes::IngressUse;
use super::topology::Cluster;
use super::Plan;
use crate::model::{Environment, Mesh, Model};
use serde_json::{json, Value};

/// The ClusterIssuer every nginx TLS Ingress names.
pub const ISSUER: &str = "letsencrypt";
/// Let's Encrypt's production ACME directory.
pub const ACME_SERVER: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// The Secret cert-manager keeps the ACME account's key in.
pub const ACCOUNT_KEY_SECRET: &str = "letsencrypt-account-key";
/// The port cert-manager's HTTP-01 solver pods listen on.
pub const SOLVER_PORT: u16 = 8089;
/// The label cert-manager puts on its HTTP-01 solver pods.
pub const SOLVER_LABEL: &str = "acme.cert-manager.io/http01-solver";
/// The network policy admitting ingress-nginx to the solver pods.
pub const SOLVER_POLICY: &str = "allow-acme-http01";

/// Whether cert-manager answers challenges in an environment's namespace.
pub fn solves_in(model: &Model, env: &Environment) -> bool {
    IngressUse::of_env(model, env).cert_manager
}

/// Whether a cluster needs the issuer.
pub fn needed_on(model: &Model, cluster: &Cluster) -> bool {
    super::addons::cluster_ingress(model, cluster).cert_manager
}

/// The folder of a cluster's issuer: `k8s/_addons/<cluster>/cert-manager`,
/// applied by an Application of its own after cert-manager's CRDs.
pub fn issuer_dir(plan: &Plan, cluster: &Cluster) -> String {
    format!("{}/cert-manager", super::addon_secrets::addons_dir(plan, cluster))
}

/// The ClusterIssuer.
pub fn issuer(model: &Model) -> Value {
    let mut ingress = json!({ "ingressClassName": "nginx" });
    // A solver pod injected into the mesh would expect mutual TLS from a
    // load balancer that speaks plain HTTP.
    match model.project.mesh {
        Some(Mesh::Istio) => {
            ingress["podTemplate"] = json!({ "metadata": { "labels": { "sidecar.istio.io/inject": "false" } } })
        }
        Some(Mesh::Linkerd) => {
            ingress["podTemplate"] = json!({ "metadata": { "annotations": { "linkerd.io/inject": "disabled" } } })
        }
        None => {}
    }
    json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {
            "name": ISSUER,
            "labels": {
                "app.kubernetes.io/part-of": model.project.name,
                "app.kubernetes.io/managed-by": "deployc",
                "app.kubernetes.io/component": "certificates"
            }
        },
        "spec": {
            "acme": {
                "server": ACME_SERVER,
                "privateKeySecretRef": { "name": ACCOUNT_KEY_SECRET },
                "solvers": [ { "http01": { "ingress": ingress } } ]
            }
        }
    })
}
