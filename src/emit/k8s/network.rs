//! Network policies derived from the dependency graph: deny everything, then
//! allow exactly the edges of the graph (plus DNS, the ingress controller for
//! exposed services, Prometheus for scraped ones, and HTTPS to the outside).
//! **Invariant:** a pod may reach another pod only along a graph edge.

use super::EnvCx;
use crate::graph::{Edge, Node};
use crate::model::Placement;
use crate::plan::engines::{self, engine_port, managed_port, pod_labels};
use crate::plan::env::label_selector;
use crate::plan::network::{MONITORING_NAMESPACE, PRIVATE_CIDR};
use crate::plan::routes::{ingress_peers, Peer};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The pods of an in-cluster resource.
fn resource_pods(r: &crate::model::Resource) -> NetworkPolicyPeer {
    let selector = LabelSelector { match_labels: Some(pod_labels(r)), ..Default::default() };
    NetworkPolicyPeer { pod_selector: Some(selector), ..Default::default() }
}

fn pods(name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer { pod_selector: Some(label_selector(name)), ..Default::default() }
}

fn namespace(name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([("kubernetes.io/metadata.name".to_string(), name.to_string())])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn cidr(block: &str, except: Option<Vec<String>>) -> NetworkPolicyPeer {
    NetworkPolicyPeer { ip_block: Some(IPBlock { cidr: block.into(), except }), ..Default::default() }
}

fn tcp(port: u16) -> Vec<NetworkPolicyPort> {
    vec![NetworkPolicyPort { port: Some(IntOrString::Int(port as i32)), protocol: Some("TCP".into()), end_port: None }]
}

fn ingress(from: Vec<NetworkPolicyPeer>, port: u16) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule { from: Some(from), ports: Some(tcp(port)) }
}

/// Admits every declared port of a workload (`http` and the named ones).
fn ingress_all(from: Vec<NetworkPolicyPeer>, ports: &[crate::plan::ports::PortPlan]) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule { from: Some(from), ports: Some(port_list(ports)) }
}

fn port_list(ports: &[crate::plan::ports::PortPlan]) -> Vec<NetworkPolicyPort> {
    ports
        .iter()
        .map(|p| NetworkPolicyPort {
            port: Some(IntOrString::Int(p.container_port as i32)),
            protocol: Some(p.protocol.clone()),
            end_port: None,
        })
        .collect()
}

fn egress(to: Vec<NetworkPolicyPeer>, port: u16) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule { to: Some(to), ports: Some(tcp(port)) }
}

/// HTTPS to addresses outside the cluster network: cloud APIs, telemetry, third-party APIs.
fn https_out() -> NetworkPolicyEgressRule {
    egress(
        vec![cidr("0.0.0.0/0", Some(vec!["10.0.0.0/8".into(), "172.16.0.0/12".into(), "192.168.0.0/16".into()]))],
        443,
    )
}

fn policy(
    cx: &EnvCx,
    name: &str,
    owner: &str,
    selector: LabelSelector,
    ing: Vec<NetworkPolicyIngressRule>,
    eg: Vec<NetworkPolicyEgressRule>,
) -> NetworkPolicy {
    let mut types = Vec::new();
    if !ing.is_empty() {
        types.push("Ingress".to_string());
    }
    if !eg.is_empty() {
        types.push("Egress".to_string());
    }
    NetworkPolicy {
        metadata: cx.meta(name, owner, "network"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector),
            policy_types: Some(types),
            ingress: (!ing.is_empty()).then_some(ing),
            egress: (!eg.is_empty()).then_some(eg),
        }),
    }
}

/// The environment's own NetworkPolicies: deny by default, DNS, the ACME
/// solvers' and each in-cluster resource's. Each service's are
/// [`service_policies`], rendered with its other objects.
pub fn policies(cx: &mut EnvCx) {
    let model = cx.model;
    let graph = cx.graph;
    let deny = NetworkPolicy {
        metadata: cx.meta("default-deny", "default-deny", "network"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..Default::default()
        }),
    };
    cx.push("NetworkPolicy", "default-deny", &deny);
    let dns_peer = NetworkPolicyPeer {
        namespace_selector: namespace("kube-system").namespace_selector,
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let dns = policy(
        cx,
        "allow-dns",
        "allow-dns",
        LabelSelector::default(),
        vec![],
        vec![NetworkPolicyEgressRule {
            to: Some(vec![dns_peer]),
            ports: Some(vec![
                NetworkPolicyPort { port: Some(IntOrString::Int(53)), protocol: Some("UDP".into()), end_port: None },
                NetworkPolicyPort { port: Some(IntOrString::Int(53)), protocol: Some("TCP".into()), end_port: None },
            ]),
        }],
    );
    cx.push("NetworkPolicy", "allow-dns", &dns);
    if crate::plan::certificates::solves_in(model, cx.env) {
        use crate::plan::certificates::{SOLVER_LABEL, SOLVER_POLICY, SOLVER_PORT};
        let solvers = LabelSelector {
            match_labels: Some(BTreeMap::from([(SOLVER_LABEL.to_string(), "true".to_string())])),
            ..Default::default()
        };
        let from = vec![namespace(crate::plan::network::INGRESS_NAMESPACE)];
        let p = policy(cx, SOLVER_POLICY, SOLVER_POLICY, solvers, vec![ingress(from, SOLVER_PORT)], vec![]);
        cx.push("NetworkPolicy", SOLVER_POLICY, &p);
    }

    let env = cx.env;
    let is_deployed = |n: &Node| matches!(n, Node::Service(s) if env.deploys(*s));
    for r in &model.resources {
        if cx.resource_use(r.id).placement != Placement::InCluster || !r.engine.can_run_in_cluster() {
            continue;
        }
        let port = engine_port(&r.engine);
        let mut from: Vec<NetworkPolicyPeer> = Vec::new();
        for n in graph.sources(Node::Resource(r.id), Edge::Uses).iter().filter(|n| is_deployed(n)) {
            if let Node::Service(sid) = n {
                let s = model.service(*sid);
                from.push(pods(&s.name));
                if s.migrations.is_some() && cx.env.before.iter().any(|b| b == "migrations") {
                    from.push(pods(&format!("{}-migrate", s.name)));
                }
            }
        }
        // KEDA's operator reads a list's length or a consumer group's lag.
        if crate::plan::keda::measures(cx.plan, r) {
            let mut peer = namespace(crate::plan::keda::NAMESPACE);
            let (k, v) = crate::plan::keda::OPERATOR_LABEL;
            peer.pod_selector = Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(k.into(), v.into())])),
                ..Default::default()
            });
            from.push(peer);
        }
        let backup = format!("{}-backup", r.name);
        if r.backup.is_some() {
            from.push(pods(&backup));
        }
        // A warm standby restores its primary's dumps into it.
        if crate::plan::failover::of_standby(cx.model, cx.env).is_some()
            && crate::plan::failover::restored(cx.plan).iter().any(|x| x.id == r.id)
        {
            from.push(pods(&crate::plan::failover::job_name(r)));
        }
        // A replica set's members replicate from each other; its Job
        // initiates the set.
        let rs = crate::plan::replica_set::of(cx.plan, r);
        if rs.is_some() {
            from.push(resource_pods(r));
            from.push(pods(&crate::plan::replica_set::job_name(r)));
        }
        let ing = if from.is_empty() { vec![] } else { vec![ingress(from, port)] };
        // A database needs no egress beyond DNS; listing Egress with no rule
        // denies it. Kafka's brokers talk to each other on every port, and its
        // entity operator to the Kubernetes API (in the VPC's range, on 443);
        // Strimzi's own policies admit its replication and control ports.
        let eg = match engines::spec(&r.engine).operator {
            Some(_) => vec![
                NetworkPolicyEgressRule { to: Some(vec![resource_pods(r)]), ports: None },
                egress(vec![cidr(PRIVATE_CIDR, None)], 443),
            ],
            None if rs.is_some() => vec![egress(vec![resource_pods(r)], port)],
            None => vec![],
        };
        let selector = LabelSelector { match_labels: Some(pod_labels(r)), ..Default::default() };
        let mut p = policy(cx, &r.name, &r.name, selector, ing, eg);
        if let Some(spec) = p.spec.as_mut() {
            spec.policy_types = Some(vec!["Ingress".into(), "Egress".into()]);
        }
        cx.push("NetworkPolicy", &r.name, &p);
        if r.backup.is_some() {
            let mut eg = vec![egress(vec![pods(&r.name)], port)];
            // The upload reaches the store over HTTPS (and on GKE the
            // metadata server for its identity).
            if let Some(store) = crate::plan::backup::off_cluster(cx) {
                eg.extend(crate::plan::backup::store_egress(&store));
            }
            let p = policy(cx, &backup, &backup, label_selector(&backup), vec![], eg);
            cx.push("NetworkPolicy", &backup, &p);
        }
        if rs.is_some() {
            let job = crate::plan::replica_set::job_name(r);
            let p = policy(cx, &job, &job, label_selector(&job), vec![], vec![egress(vec![resource_pods(r)], port)]);
            cx.push("NetworkPolicy", &job, &p);
        }
    }
}

/// The NetworkPolicy of one deployed service (and of its migration Job):
/// in from its callers, the outside it is published to and the metrics
/// scraper; out to what it depends on and uses, and HTTPS.
pub fn service_policies(cx: &mut EnvCx, sid: crate::model::ServiceId) {
    let (model, graph, env) = (cx.model, cx.graph, cx.env);
    let is_deployed = |n: &Node| matches!(n, Node::Service(s) if env.deploys(*s));
    let s = model.service(sid);
    let me = Node::Service(sid);
    let mut ing = Vec::new();
    let callers: Vec<NetworkPolicyPeer> = graph
        .sources(me, Edge::DependsOn)
        .iter()
        .filter(|n| is_deployed(n))
        .map(|n| pods(&graph.name(model, *n)))
        .collect();
    // Every declared port; a workload without one (a worker, a job) admits nothing.
    let ports = crate::plan::ports::ports(s);
    if !callers.is_empty() && !ports.is_empty() {
        ing.push(ingress_all(callers, &ports));
    }
    let outside: Vec<NetworkPolicyPeer> = ingress_peers(cx, s)
        .into_iter()
        .map(|p| match p {
            Peer::Namespace(n) => namespace(&n),
            Peer::Cidr(c) => cidr(&c, None),
        })
        .collect();
    if !outside.is_empty() && !ports.is_empty() {
        ing.push(ingress_all(outside, &ports));
    }
    let public = crate::plan::ports::public_ports(s);
    if !public.is_empty() {
        ing.push(ingress_all(vec![cidr("0.0.0.0/0", None)], &public));
    }
    if model.observability.metrics.is_some() && s.metrics && !ports.is_empty() {
        ing.push(ingress_all(vec![namespace(MONITORING_NAMESPACE)], &ports));
    }
    let mut eg = Vec::new();
    for n in graph.targets(me, Edge::DependsOn).iter().filter(|n| is_deployed(n)) {
        if let Node::Service(t) = n {
            let ports = crate::plan::ports::ports(model.service(*t));
            if !ports.is_empty() {
                eg.push(NetworkPolicyEgressRule {
                    to: Some(vec![pods(&model.service(*t).name)]),
                    ports: Some(port_list(&ports)),
                });
            }
        }
    }
    let resource_egress = resource_egress(cx, me);
    eg.extend(resource_egress.iter().cloned());
    eg.push(https_out());
    let p = policy(cx, &s.name, &s.name, label_selector(&s.name), ing, eg);
    cx.push("NetworkPolicy", &s.name, &p);
    if s.migrations.is_some() && cx.env.before.iter().any(|b| b == "migrations") {
        let job = format!("{}-migrate", s.name);
        let mut eg = resource_egress;
        eg.push(https_out());
        let p = policy(cx, &job, &job, label_selector(&job), vec![], eg);
        cx.push("NetworkPolicy", &job, &p);
    }
}

/// Egress from a service's pods to the backing resources it uses.
fn resource_egress(cx: &EnvCx, me: Node) -> Vec<NetworkPolicyEgressRule> {
    let model = cx.model;
    let mut out = Vec::new();
    for n in cx.graph.targets(me, Edge::Uses) {
        let Node::Resource(rid) = n else { continue };
        let r = model.resource(rid);
        match (cx.resource_use(rid).placement, r.engine.can_run_in_cluster()) {
            (Placement::InCluster, true) => out.push(egress(vec![resource_pods(r)], engine_port(&r.engine))),
            // Managed databases and caches sit in the VPC's private subnets.
            (_, true) => out.push(egress(vec![cidr(PRIVATE_CIDR, None)], managed_port(&r.engine))),
            // Queues and buckets are AWS APIs, reached over HTTPS.
            _ => {}
        }
    }
    // Traces, to the environment's OpenTelemetry Collector.
    if crate::plan::tracing::sink(model).is_some() {
        let selector =
            LabelSelector { match_labels: Some(crate::plan::tracing::collector_pod_labels(cx)), ..Default::default() };
        out.push(egress(
            vec![NetworkPolicyPeer { pod_selector: Some(selector), ..Default::default() }],
            crate::plan::tracing::OTLP_HTTP_PORT,
        ));
    }
    out
}
