//! The service mesh (`mesh = istio | linkerd`): every pod of an environment's
//! namespace gets a sidecar (the namespace's injection label or annotation),
//! connections between them are mutual TLS, and who may call whom follows
//! the dependency graph — the same edges, ingress controller and Prometheus
//! the network policies admit ([`peers`]).
//!
//! - **Istio**: a namespace-wide `PeerAuthentication` in `STRICT` mode and,
//!   per service, an `AuthorizationPolicy` that allows its callers' service
//!   account principals, the ingress-nginx namespace, and Prometheus's
//!   plain-text `GET` of the metrics path on the scraped port. Ports reached
//!   from outside the mesh (Prometheus, an ALB's ip targets, a
//!   LoadBalancer) are `PERMISSIVE` in a per-service `PeerAuthentication`:
//!   those clients have no sidecar. Canaries route through Istio
//!   (`trafficRouting.istio`, see [`super::routes::traffic_routing`]): a
//!   VirtualService per canary service splits its host between the stable
//!   and the canary Service (host-level splitting: the two Services the
//!   analysis and the network policy already know; subset-level splitting
//!   would need one Service selecting both, which Argo Rollouts' stable
//!   Service is not). nginx (meshed) and every caller inside the cluster
//!   then see the weights; an ALB reaches pods directly and keeps its own.
//! - **Linkerd**: per port a `Server`; per service a `MeshTLSAuthentication`
//!   of its callers' identities (with the ingress-nginx and monitoring
//!   namespaces', both meshed through their add-ons' values) and a
//!   `NetworkAuthentication` for the clients outside the mesh; an
//!   `AuthorizationPolicy` per port and authentication. Canaries keep their
//!   nginx or ALB routing: ingress-nginx (meshed) forwards to the Service,
//!   Linkerd balances to the pods Argo Rollouts put behind it.
//!
//! The ingress controller joins the mesh (its pods are injected by the
//! add-on's values) and forwards to the Service address
//! (`service-upstream`), so its requests to the pods are mutual TLS too;
//! the control planes run the CNI plugin, so injected pods need no
//! `NET_ADMIN` and stay within Pod Security `restricted`; and sidecars run
//! as native sidecars, so Jobs (migrations, backups, drills) complete.
//! HTTP, gRPC and TCP probes keep working (Istio rewrites them to its
//! agent; Linkerd admits the kubelet's probes); exec probes run inside the
//! container and never cross the proxy.
//!
//! **Invariant:** the mesh authorizes exactly the peers the network policy
//! admits (both read [`peers`] or the same graph edges), and the network
//! policy admits what the sidecars need (`allow-mesh`: the control plane).

use super::network::MONITORING_NAMESPACE;
use super::routes::{ingress_peers, Peer};
use super::EnvPlan;
use crate::graph::{Edge, Node};
use crate::model::{Mesh, Service};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One mesh's facts: where its control plane runs, what it listens on,
/// how a namespace opts in, and the ports its sidecar takes.
pub struct MeshSpec {
    pub mesh: Mesh,
    pub name: &'static str,
    /// The control plane's namespace and the ports sidecars reach it on.
    pub control_namespace: &'static str,
    pub control_ports: &'static [u16],
    /// The image prefix of the injected proxy (for `policy = kyverno`).
    pub proxy_images: &'static [&'static str],
}

pub const MESHES: &[MeshSpec] = &[
    MeshSpec {
        mesh: Mesh::Istio,
        name: "istio",
        control_namespace: "istio-system",
        // istiod: xDS and certificates (15012); the injection webhook (15017)
        // is called by the API server, not by pods.
        control_ports: &[15012],
        proxy_images: &["docker.io/istio/proxyv2:"],
    },
    MeshSpec {
        mesh: Mesh::Linkerd,
        name: "linkerd",
        control_namespace: "linkerd",
        // identity (8080), destination (8086), policy (8090).
        control_ports: &[8080, 8086, 8090],
        proxy_images: &["cr.l5d.io/linkerd/proxy:"],
    },
];

pub fn spec(m: Mesh) -> &'static MeshSpec {
    MESHES.iter().find(|s| s.mesh == m).unwrap_or(&MESHES[0])
}

/// The program's mesh, if any.
pub fn mesh(cx: &EnvPlan) -> Option<Mesh> {
    cx.model.project.mesh
}

/// Labels the mesh adds to an environment's Namespace.
pub fn namespace_labels(mesh: Option<Mesh>) -> BTreeMap<String, String> {
    match mesh {
        Some(Mesh::Istio) => BTreeMap::from([("istio-injection".to_string(), "enabled".to_string())]),
        _ => BTreeMap::new(),
    }
}

/// Annotations the mesh adds to an environment's Namespace (Linkerd reads
/// an annotation, not a label).
pub fn namespace_annotations(mesh: Option<Mesh>) -> BTreeMap<String, String> {
    match mesh {
        Some(Mesh::Linkerd) => BTreeMap::from([("linkerd.io/inject".to_string(), "enabled".to_string())]),
        _ => BTreeMap::new(),
    }
}

/// Annotations an nginx Ingress needs under the mesh: forward to the
/// Service address, so the controller's sidecar (not nginx) picks the pod
/// and speaks mutual TLS; for Istio also the Service's host name, which
/// Istio's outbound routes match on (an unmatched host would pass through
/// in plain text, which `STRICT` refuses).
pub fn nginx_annotations(cx: &EnvPlan, service: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(m) = mesh(cx) else { return out };
    out.insert("nginx.ingress.kubernetes.io/service-upstream".into(), "true".into());
    if m == Mesh::Istio {
        out.insert(
            "nginx.ingress.kubernetes.io/upstream-vhost".into(),
            format!("{service}.{}.svc.cluster.local", cx.ns()),
        );
    }
    out
}

/// Who reaches a service's pods, as the network policy admits them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peers {
    /// The service accounts of the deployed services that depend on it.
    pub callers: Vec<String>,
    /// Namespaces whose (meshed) pods reach every port: the ingress controller.
    pub namespaces: Vec<String>,
    /// Address blocks outside the mesh that reach every port (ALB, LoadBalancer).
    pub cidrs: Vec<String>,
    /// Ports published to any address by an extra LoadBalancer or NodePort Service.
    pub public_ports: Vec<u16>,
    /// The scraped port and path, when Prometheus scrapes the service.
    pub metrics: Option<(u16, String)>,
}

/// The peers of a service in an environment (the network policy's ingress rules).
pub fn peers(cx: &EnvPlan, s: &Service) -> Peers {
    let (model, graph) = (cx.model, cx.graph);
    let mut p = Peers::default();
    for n in graph.sources(Node::Service(s.id), Edge::DependsOn) {
        if let Node::Service(c) = n {
            if cx.env.deploys(c) {
                p.callers.push(super::pod::service_account(model.service(c)).to_string());
            }
        }
    }
    p.callers.sort();
    p.callers.dedup();
    for peer in ingress_peers(cx, s) {
        match peer {
            Peer::Namespace(n) => p.namespaces.push(n),
            Peer::Cidr(c) => p.cidrs.push(c),
        }
    }
    p.public_ports = super::ports::public_ports(s).iter().map(|x| x.container_port).collect();
    if let Some(m) = &model.observability.metrics {
        if s.metrics {
            let name = super::ports::metrics_port(s);
            if let Some(port) = super::ports::ports(s).iter().find(|x| x.name == name) {
                p.metrics = Some((port.container_port, m.path.clone()));
            }
        }
    }
    p
}

fn meta(cx: &EnvPlan, name: &str, owner: &str) -> Value {
    json!({ "name": name, "namespace": cx.ns(), "labels": cx.labels(owner, "mesh") })
}

fn selector(name: &str) -> Value {
    json!({ "matchLabels": super::env::selector(name) })
}

/// The mesh's objects in an environment's namespace, as (kind, name, object).
pub fn objects(cx: &EnvPlan) -> Vec<(&'static str, String, Value)> {
    let Some(m) = mesh(cx) else { return Vec::new() };
    let mut out = vec![allow_mesh(cx, spec(m))];
    match m {
        Mesh::Istio => istio(cx, &mut out),
        Mesh::Linkerd => linkerd(cx, &mut out),
    }
    out
}

/// The NetworkPolicy every pod's sidecar needs: egress to the control plane.
fn allow_mesh(cx: &EnvPlan, m: &MeshSpec) -> (&'static str, String, Value) {
    let name = "allow-mesh".to_string();
    let ports: Vec<Value> = m.control_ports.iter().map(|p| json!({ "port": p, "protocol": "TCP" })).collect();
    let np = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(cx, &name, &name),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": m.control_namespace } } }],
                "ports": ports,
            }],
        },
    });
    ("NetworkPolicy", name, np)
}

/// The route of a service's VirtualService whose weights Argo Rollouts sets.
pub const PRIMARY_ROUTE: &str = "primary";

/// The VirtualService of a canary under Istio: on the main port, all of
/// the stable Service's traffic, none of the canary's, until Argo Rollouts
/// moves the weights (`trafficRouting.istio`).
pub fn virtual_service(cx: &EnvPlan, s: &Service) -> Option<Value> {
    let routing = super::routes::traffic_routing(cx, s)?;
    routing.istio.as_ref()?;
    let port = s.service_port?;
    let dest = |host: String, weight: u32| json!({ "destination": { "host": host, "port": { "number": port } }, "weight": weight });
    Some(json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": meta(cx, &s.name, &s.name),
        "spec": {
            "hosts": [s.name],
            "http": [{
                "name": PRIMARY_ROUTE,
                "match": [{ "port": port }],
                "route": [dest(s.name.clone(), 100), dest(super::ports::canary_name(s), 0)],
            }],
        },
    }))
}

fn istio(cx: &EnvPlan, out: &mut Vec<(&'static str, String, Value)>) {
    let model = cx.model;
    out.push((
        "PeerAuthentication",
        "default".into(),
        json!({
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": meta(cx, "default", "default"),
            "spec": { "mtls": { "mode": "STRICT" } },
        }),
    ));
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        let ports = super::ports::ports(s);
        if ports.is_empty() {
            continue;
        }
        if matches!(cx.env.strategy_of(s.id), crate::model::StrategyKind::Canary { .. }) {
            if let Some(vs) = virtual_service(cx, s) {
                out.push(("VirtualService", s.name.clone(), vs));
            }
        }
        let p = peers(cx, s);
        let all: Vec<String> = ports.iter().map(|x| x.container_port.to_string()).collect();
        // Ports plain-text clients reach: every port for an ALB or a
        // LoadBalancer, the published ones, the scraped one.
        let mut plain: Vec<u16> =
            if p.cidrs.is_empty() { Vec::new() } else { ports.iter().map(|x| x.container_port).collect() };
        plain.extend(&p.public_ports);
        plain.extend(p.metrics.iter().map(|(port, _)| *port));
        plain.sort();
        plain.dedup();
        if !plain.is_empty() {
            let levels: BTreeMap<String, Value> =
                plain.iter().map(|port| (port.to_string(), json!({ "mode": "PERMISSIVE" }))).collect();
            out.push((
                "PeerAuthentication",
                s.name.clone(),
                json!({
                    "apiVersion": "security.istio.io/v1",
                    "kind": "PeerAuthentication",
                    "metadata": meta(cx, &s.name, &s.name),
                    "spec": {
                        "selector": selector(&s.name),
                        "mtls": { "mode": "STRICT" },
                        "portLevelMtls": levels,
                    },
                }),
            ));
        }
        let mut rules = Vec::new();
        if !p.callers.is_empty() {
            let principals: Vec<String> =
                p.callers.iter().map(|sa| format!("cluster.local/ns/{}/sa/{sa}", cx.ns())).collect();
            rules.push(json!({
                "from": [{ "source": { "principals": principals } }],
                "to": [{ "operation": { "ports": all } }],
            }));
        }
        if !p.namespaces.is_empty() {
            rules.push(json!({
                "from": [{ "source": { "namespaces": p.namespaces } }],
                "to": [{ "operation": { "ports": all } }],
            }));
        }
        if !p.cidrs.is_empty() {
            rules.push(json!({
                "from": [{ "source": { "ipBlocks": p.cidrs } }],
                "to": [{ "operation": { "ports": all } }],
            }));
        }
        if !p.public_ports.is_empty() {
            let public: Vec<String> = p.public_ports.iter().map(|x| x.to_string()).collect();
            rules.push(json!({ "to": [{ "operation": { "ports": public } }] }));
        }
        if let Some((port, path)) = &p.metrics {
            rules.push(json!({
                "to": [{ "operation": { "ports": [port.to_string()], "methods": ["GET"], "paths": [path] } }],
            }));
        }
        // An ALLOW policy without rules allows nothing: a service nobody calls is closed.
        let mut spec = json!({ "selector": selector(&s.name), "action": "ALLOW" });
        if !rules.is_empty() {
            spec["rules"] = Value::Array(rules);
        }
        out.push((
            "AuthorizationPolicy",
            s.name.clone(),
            json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": meta(cx, &s.name, &s.name),
                "spec": spec,
            }),
        ));
    }
}

/// A Linkerd identity of a service account in a namespace (`*` for all).
fn linkerd_identity(sa: &str, ns: &str) -> String {
    format!("{sa}.{ns}.serviceaccount.identity.linkerd.cluster.local")
}

fn linkerd(cx: &EnvPlan, out: &mut Vec<(&'static str, String, Value)>) {
    let model = cx.model;
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        let ports = super::ports::ports(s);
        if ports.is_empty() {
            continue;
        }
        let p = peers(cx, s);
        let mut identities: Vec<String> = p.callers.iter().map(|sa| linkerd_identity(sa, cx.ns())).collect();
        identities.extend(p.namespaces.iter().map(|n| linkerd_identity("*", n)));
        // Prometheus is meshed (the add-on's values), so it scrapes over mutual TLS.
        if p.metrics.is_some() {
            identities.push(linkerd_identity("*", MONITORING_NAMESPACE));
        }
        let mesh_auth = format!("{}-clients", s.name);
        if !identities.is_empty() {
            out.push((
                "MeshTLSAuthentication",
                mesh_auth.clone(),
                json!({
                    "apiVersion": "policy.linkerd.io/v1alpha1",
                    "kind": "MeshTLSAuthentication",
                    "metadata": meta(cx, &mesh_auth, &s.name),
                    "spec": { "identities": identities },
                }),
            ));
        }
        let net_auth = format!("{}-outside", s.name);
        let mut networks: Vec<String> = p.cidrs.clone();
        if !p.public_ports.is_empty() && !networks.iter().any(|c| c == "0.0.0.0/0") {
            networks.push("0.0.0.0/0".into());
        }
        if !networks.is_empty() {
            let nets: Vec<Value> = networks.iter().map(|c| json!({ "cidr": c })).collect();
            out.push((
                "NetworkAuthentication",
                net_auth.clone(),
                json!({
                    "apiVersion": "policy.linkerd.io/v1alpha1",
                    "kind": "NetworkAuthentication",
                    "metadata": meta(cx, &net_auth, &s.name),
                    "spec": { "networks": nets },
                }),
            ));
        }
        for port in &ports {
            let server = format!("{}-{}", s.name, port.name);
            out.push((
                "Server",
                server.clone(),
                json!({
                    "apiVersion": "policy.linkerd.io/v1beta3",
                    "kind": "Server",
                    "metadata": meta(cx, &server, &s.name),
                    "spec": {
                        "podSelector": selector(&s.name),
                        "port": port.container_port,
                        "accessPolicy": "deny",
                    },
                }),
            ));
            let mut authz = |suffix: &str, kind: &str, auth: &str| {
                let name = format!("{server}-{suffix}");
                out.push((
                    "AuthorizationPolicy",
                    name.clone(),
                    json!({
                        "apiVersion": "policy.linkerd.io/v1alpha1",
                        "kind": "AuthorizationPolicy",
                        "metadata": meta(cx, &name, &s.name),
                        "spec": {
                            "targetRef": { "group": "policy.linkerd.io", "kind": "Server", "name": server },
                            "requiredAuthenticationRefs": [{ "group": "policy.linkerd.io", "kind": kind, "name": auth }],
                        },
                    }),
                ));
            };
            if !identities.is_empty() {
                authz("mesh", "MeshTLSAuthentication", &mesh_auth);
            }
            let outside = !p.cidrs.is_empty() || p.public_ports.contains(&port.container_port);
            if outside {
                authz("outside", "NetworkAuthentication", &net_auth);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mesh_has_exactly_one_row() {
        for m in [Mesh::Istio, Mesh::Linkerd] {
            assert_eq!(MESHES.iter().filter(|s| s.mesh == m).count(), 1, "{m:?}");
        }
    }
}
