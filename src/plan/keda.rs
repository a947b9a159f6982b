//! Queue-driven autoscaling (`queue_scaling { .. }` on a worker): a KEDA
//! `ScaledObject` per service and environment, pointed at the workload the
//! strategy makes, scaling between the bounds of its replica range on the
//! length of a Redis list or the lag of a Kafka consumer group, and the
//! `TriggerAuthentication` that hands KEDA the Redis password from the
//! resource's connection Secret. KEDA creates the HorizontalPodAutoscaler
//! itself, so the targets write none for such a service (two HPAs on one
//! workload fight over its replica count).
//!
//! **Invariant:** a service scaled here has an in-cluster Redis or Kafka
//! in this environment and a replica range (the checker refuses the rest,
//! E0376-E0378); the resource's network policy admits KEDA's operator.

use super::EnvPlan;
use crate::model::{Deployment, Engine, Placement, QueueScaling, Replicas, Resource};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where KEDA's operator runs (the add-on's namespace) and its pods' name
/// label: the network policies of measured resources admit it.
pub const NAMESPACE: &str = "keda";
pub const OPERATOR_LABEL: (&str, &str) = ("app.kubernetes.io/name", "keda-operator");

/// The same name/namespace/labels metadata the VPA objects carry.
pub use super::vpa::Meta;

/// A `ScaledObject` (keda.sh/v1alpha1).
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObject {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Meta,
    pub spec: ScaledObjectSpec,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    pub scale_target_ref: super::vpa::TargetRef,
    pub min_replica_count: u32,
    pub max_replica_count: u32,
    pub triggers: Vec<Trigger>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub metadata: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthRef>,
}

#[derive(Serialize, Clone, Debug)]
pub struct AuthRef {
    pub name: String,
}

/// A `TriggerAuthentication` (keda.sh/v1alpha1) reading a Secret's key.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthentication {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Meta,
    pub spec: TriggerAuthSpec,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthSpec {
    pub secret_target_ref: Vec<SecretTargetRef>,
}

#[derive(Serialize, Clone, Debug)]
pub struct SecretTargetRef {
    pub parameter: &'static str,
    pub name: String,
    pub key: &'static str,
}

/// The queue a deployed service scales on here, when KEDA can measure it.
pub fn scaling<'a>(cx: &EnvPlan<'a>, d: &Deployment) -> Option<(&'a QueueScaling, &'a Resource, u32, u32)> {
    let s = cx.model.service(d.service);
    let q = s.queue_scaling.as_ref()?;
    let Replicas::Auto { min, max } = d.replicas else { return None };
    if !s.kind.long_running() {
        return None;
    }
    let r = cx.model.resource(q.resource);
    let in_cluster = cx.resource_use(r.id).placement == Placement::InCluster;
    matches!((&r.engine, in_cluster), (Engine::Redis | Engine::Kafka, true)).then_some((q, r, min, max))
}

/// Whether KEDA scales this deployed service (and so no HPA is written).
pub fn scales(cx: &EnvPlan, d: &Deployment) -> bool {
    scaling(cx, d).is_some()
}

/// The name of a service's TriggerAuthentication.
fn auth_name(service: &str) -> String {
    format!("{service}-keda")
}

/// A service's ScaledObject and, for a Redis with a password, its
/// TriggerAuthentication.
pub fn objects(cx: &EnvPlan) -> Vec<(&'static str, String, serde_json::Value)> {
    let mut out = Vec::new();
    for d in &cx.env.deployments {
        let Some((q, r, min, max)) = scaling(cx, d) else { continue };
        let s = cx.model.service(d.service);
        let meta = |name: String| Meta { labels: cx.labels(&s.name, s.kind.word()), namespace: cx.ns().into(), name };
        let ns = cx.ns();
        let port = super::engines::engine_port(&r.engine);
        let topic = q.name.clone().unwrap_or_default();
        let (type_, metadata, auth) = match r.engine {
            Engine::Kafka => (
                "kafka",
                BTreeMap::from([
                    ("bootstrapServers", format!("{}-kafka-bootstrap.{ns}.svc.cluster.local:{port}", r.name)),
                    ("consumerGroup", q.group.clone().unwrap_or_default()),
                    ("topic", topic),
                    ("lagThreshold", q.per_replica.to_string()),
                ]),
                false,
            ),
            _ => (
                "redis",
                BTreeMap::from([
                    ("address", format!("{}.{ns}.svc.cluster.local:{port}", r.name)),
                    ("listName", topic),
                    ("listLength", q.per_replica.to_string()),
                ]),
                super::engines::uses_password(r),
            ),
        };
        if auth {
            let ta = TriggerAuthentication {
                api_version: "keda.sh/v1alpha1",
                kind: "TriggerAuthentication",
                metadata: meta(auth_name(&s.name)),
                spec: TriggerAuthSpec {
                    secret_target_ref: vec![SecretTargetRef {
                        parameter: "password",
                        name: super::env::connection_secret(&r.name),
                        key: "password",
                    }],
                },
            };
            out.extend(serde_json::to_value(ta).ok().map(|v| ("TriggerAuthentication", auth_name(&s.name), v)));
        }
        let (api_version, kind) = super::vpa::workload_ref(&d.strategy.kind);
        let so = ScaledObject {
            api_version: "keda.sh/v1alpha1",
            kind: "ScaledObject",
            metadata: meta(s.name.clone()),
            spec: ScaledObjectSpec {
                scale_target_ref: super::vpa::TargetRef { api_version, kind, name: s.name.clone() },
                min_replica_count: min,
                max_replica_count: max,
                triggers: vec![Trigger {
                    type_,
                    metadata,
                    authentication_ref: auth.then(|| AuthRef { name: auth_name(&s.name) }),
                }],
            },
        };
        out.extend(serde_json::to_value(so).ok().map(|v| ("ScaledObject", s.name.clone(), v)));
    }
    out
}

/// Whether KEDA's operator reads resource `r` in this environment (its
/// network policy admits the operator then).
pub fn measures(cx: &EnvPlan, r: &Resource) -> bool {
    cx.env.deployments.iter().any(|d| scaling(cx, d).is_some_and(|(_, res, _, _)| res.id == r.id))
}
