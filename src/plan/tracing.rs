//! Traces decided once (`tracing = jaeger { .. }` or `otlp { .. }`): every
//! pod of a service gets the OpenTelemetry SDK variables, and each
//! environment gets an `OpenTelemetryCollector` (the OpenTelemetry
//! Operator's `opentelemetry.io/v1beta1`) that forwards to the endpoint the
//! program names. Kubernetes and Helm both render what these functions
//! return (Helm through its `objects` list).
//!
//! **service.version = the deployed image tag, without a literal.** CD
//! rewrites image tags only (kustomize `images:`), so a version written into
//! an environment variable would be stale after the first release. The
//! collector's `k8sattributes` processor reads the tag of the running
//! container from the Kubernetes API (`container.image.tag`, found through
//! the `k8s.pod.uid` and `k8s.container.name` the pod reports), and a
//! `transform` statement copies it to `service.version` when the SDK did not
//! set one. The version therefore follows whatever image actually runs.

use super::network::PRIVATE_CIDR;
use super::EnvPlan;
use crate::model::{Deployment, Model, Sink};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// OTLP/HTTP, the port services send to (the SDKs' `http/protobuf`).
pub const OTLP_HTTP_PORT: u16 = 4318;
/// OTLP/gRPC, where Jaeger (1.35 and later) receives OTLP.
pub const OTLP_GRPC_PORT: u16 = 4317;

/// The collector image, pinned (the contrib distribution carries the
/// `k8sattributes` and `transform` processors).
pub const COLLECTOR_IMAGE: &str = "otel/opentelemetry-collector-contrib:0.114.0";

/// The program's tracing sink, if any.
pub fn sink(model: &Model) -> Option<&Sink> {
    model.observability.tracing.as_ref()
}

/// Name of the environment's `OpenTelemetryCollector`.
pub fn collector_name(model: &Model) -> String {
    format!("{}-otel", model.project.name)
}

/// The labels the OpenTelemetry Operator puts on the collector's pods
/// (`app.kubernetes.io/component` and `instance`, `<namespace>.<name>`).
pub fn collector_pod_labels(cx: &EnvPlan) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/component".to_string(), "opentelemetry-collector".to_string()),
        ("app.kubernetes.io/instance".to_string(), format!("{}.{}", cx.ns(), collector_name(cx.model))),
    ])
}

/// Where services send traces: the Service the operator makes for the
/// collector (`<name>-collector`), OTLP/HTTP.
pub fn otlp_endpoint(cx: &EnvPlan) -> String {
    format!("http://{}-collector.{}.svc.cluster.local:{OTLP_HTTP_PORT}", collector_name(cx.model), cx.ns())
}

/// The share of traces kept in this environment, as a ratio (0..=1):
/// `production_sampling` (10% unless set) in production environments,
/// `sampling` (100% unless set) elsewhere.
pub fn sampling_ratio(cx: &EnvPlan) -> Option<f64> {
    let s = sink(cx.model)?;
    let pct = if cx.env.production { s.production_sampling.unwrap_or(10.0) } else { s.sampling.unwrap_or(100.0) };
    Some((pct / 100.0).clamp(0.0, 1.0))
}

/// An OTEL_RESOURCE_ATTRIBUTES value: the specification's W3C-baggage
/// format percent-encodes `,`, `=`, `%` and spaces in values.
fn attr_value(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ',' | '=' | '%' | ' ' | ';' | '\\' | '"' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// The tracing variables of a service's container, in order: the downward
/// API's pod uid first, because `OTEL_RESOURCE_ATTRIBUTES` expands it
/// (`$(K8S_POD_UID)`, which Kubernetes expands only from earlier entries).
pub fn pod_vars(cx: &EnvPlan, d: &Deployment) -> Vec<(String, super::observability::PodVar)> {
    use super::observability::PodVar;
    let Some(ratio) = sampling_ratio(cx) else { return Vec::new() };
    let s = cx.model.service(d.service);
    // `$(` in a program string must not start an expansion in an `env` value.
    let esc = |v: &str| attr_value(v).replace("$(", "$$(");
    vec![
        ("K8S_POD_UID".into(), PodVar::Field("metadata.uid".into())),
        ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), PodVar::Plain(otlp_endpoint(cx))),
        ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), PodVar::Plain("http/protobuf".into())),
        (
            "OTEL_RESOURCE_ATTRIBUTES".into(),
            PodVar::Expanded(format!(
                "deployment.environment={},k8s.namespace.name={},k8s.container.name={},k8s.pod.uid=$(K8S_POD_UID)",
                esc(&cx.env.name),
                esc(cx.ns()),
                esc(&s.name)
            )),
        ),
        ("OTEL_SERVICE_NAME".into(), PodVar::Plain(s.name.clone())),
        ("OTEL_TRACES_SAMPLER".into(), PodVar::Plain("parentbased_traceidratio".into())),
        ("OTEL_TRACES_SAMPLER_ARG".into(), PodVar::Plain(format!("{ratio}"))),
    ]
}

/// Where the collector exports, from the program's endpoint: `(exporter
/// name, exporter config, host, port)`. Jaeger's declared endpoint is its
/// collector (often the legacy Thrift `:14268/api/traces`); the OTLP gRPC
/// receiver Jaeger has had since 1.35 listens on 4317 of the same host.
fn exporter(s: &Sink) -> (String, serde_json::Value, String, u16) {
    let raw = s.endpoint.clone().unwrap_or_default();
    let (scheme, rest) = raw.split_once("://").unwrap_or(("http", raw.as_str()));
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse::<u16>().ok()),
        None => (authority.to_string(), None),
    };
    // The collector expands `${...}` in its configuration: `$$` is a literal `$`.
    let lit = |v: &str| v.replace('$', "$$");
    let insecure = scheme != "https";
    match s.kind.as_str() {
        "jaeger" => (
            "otlp/jaeger".into(),
            json!({ "endpoint": lit(&format!("{host}:{OTLP_GRPC_PORT}")), "tls": { "insecure": insecure } }),
            host,
            OTLP_GRPC_PORT,
        ),
        _ => {
            let port = port.unwrap_or(if insecure { 80 } else { 443 });
            ("otlphttp".into(), json!({ "endpoint": lit(&raw) }), host, port)
        }
    }
}

/// `opentelemetry.io/v1beta1` OpenTelemetryCollector.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Collector {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: serde_json::Value,
}

/// The collector's pipeline: OTLP in; `k8sattributes` (limited to the
/// environment's namespace, so a Role suffices) and the version copy;
/// batches out to the program's endpoint.
pub fn collector(cx: &EnvPlan) -> Option<Collector> {
    let s = sink(cx.model)?;
    let name = collector_name(cx.model);
    let (exp, exp_config, _, _) = exporter(s);
    let config = json!({
        "receivers": { "otlp": { "protocols": {
            "grpc": { "endpoint": format!("0.0.0.0:{OTLP_GRPC_PORT}") },
            "http": { "endpoint": format!("0.0.0.0:{OTLP_HTTP_PORT}") }
        } } },
        "processors": {
            "memory_limiter": { "check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20 },
            "k8sattributes": {
                "filter": { "namespace": cx.ns() },
                "pod_association": [ { "sources": [ { "from": "resource_attribute", "name": "k8s.pod.uid" } ] } ],
                "extract": { "metadata": [ "k8s.pod.name", "k8s.deployment.name", "container.image.name", "container.image.tag" ] }
            },
            "transform/version": { "error_mode": "ignore", "trace_statements": [ {
                "context": "resource",
                "statements": [
                    "set(attributes[\"service.version\"], attributes[\"container.image.tag\"]) where attributes[\"service.version\"] == nil and attributes[\"container.image.tag\"] != nil"
                ]
            } ] },
            "batch": {}
        },
        "exporters": { exp.clone(): exp_config },
        "service": { "pipelines": { "traces": {
            "receivers": ["otlp"],
            "processors": ["memory_limiter", "k8sattributes", "transform/version", "batch"],
            "exporters": [exp]
        } } }
    });
    Some(Collector {
        api_version: "opentelemetry.io/v1beta1",
        kind: "OpenTelemetryCollector",
        metadata: cx.meta(&name, &name, "tracing"),
        spec: json!({
            "mode": "deployment",
            "replicas": 1,
            "image": COLLECTOR_IMAGE,
            "serviceAccount": name,
            "resources": {
                "requests": { "cpu": "100m", "memory": "128Mi" },
                "limits": { "cpu": "500m", "memory": "512Mi" }
            },
            "podSecurityContext": { "runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": { "type": "RuntimeDefault" } },
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "readOnlyRootFilesystem": true,
                "capabilities": { "drop": ["ALL"] }
            },
            "config": config
        }),
    })
}

fn tcp(port: u16) -> Vec<NetworkPolicyPort> {
    vec![NetworkPolicyPort { port: Some(IntOrString::Int(port as i32)), protocol: Some("TCP".into()), end_port: None }]
}

/// The in-cluster namespace of a `*.svc[.cluster.local]` host.
fn cluster_namespace(host: &str) -> Option<&str> {
    let parts: Vec<&str> = host.split('.').collect();
    (parts.len() >= 3 && parts[2] == "svc").then(|| parts[1])
}

/// Every object of the environment's tracing, as `(kind, name, object)`:
/// the collector's ServiceAccount, the Role and RoleBinding letting
/// `k8sattributes` read the namespace's pods, the collector, and its
/// NetworkPolicy (OTLP in from the environment's pods; out to the endpoint
/// and to the Kubernetes API).
pub fn objects(cx: &EnvPlan) -> Vec<(&'static str, String, serde_json::Value)> {
    let Some(s) = sink(cx.model) else { return Vec::new() };
    let Some(c) = collector(cx) else { return Vec::new() };
    let name = collector_name(cx.model);
    let meta = || cx.meta(&name, &name, "tracing");
    let sa = ServiceAccount { metadata: meta(), automount_service_account_token: Some(true), ..Default::default() };
    let role = Role {
        metadata: meta(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into()]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            ..Default::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta(),
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "Role".into(), name: name.clone() },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: name.clone(),
            namespace: Some(cx.ns().to_string()),
            ..Default::default()
        }]),
    };
    let (_, _, host, port) = exporter(s);
    let out_peer = match cluster_namespace(&host) {
        Some(ns) => NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])),
                ..Default::default()
            }),
            ..Default::default()
        },
        None => NetworkPolicyPeer {
            ip_block: Some(IPBlock { cidr: "0.0.0.0/0".into(), except: None }),
            ..Default::default()
        },
    };
    let np = NetworkPolicy {
        metadata: meta(),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(collector_pod_labels(cx)), ..Default::default() }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector::default()),
                    ..Default::default()
                }]),
                ports: Some([OTLP_HTTP_PORT, OTLP_GRPC_PORT].into_iter().flat_map(tcp).collect()),
            }]),
            egress: Some(vec![
                NetworkPolicyEgressRule { to: Some(vec![out_peer]), ports: Some(tcp(port)) },
                // The Kubernetes API, for k8sattributes.
                NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        ip_block: Some(IPBlock { cidr: PRIVATE_CIDR.into(), except: None }),
                        ..Default::default()
                    }]),
                    ports: Some(tcp(443)),
                },
            ]),
        }),
    };
    vec![
        ("ServiceAccount", name.clone(), to_json(&sa)),
        ("Role", name.clone(), to_json(&role)),
        ("RoleBinding", name.clone(), to_json(&binding)),
        ("OpenTelemetryCollector", name.clone(), to_json(&c)),
        ("NetworkPolicy", name, to_json(&np)),
    ]
}

/// An object as JSON (k8s-openapi's types add their `apiVersion` and `kind`).
fn to_json<T: Serialize>(x: &T) -> serde_json::Value {
    serde_json::to_value(x).unwrap_or_default()
}
