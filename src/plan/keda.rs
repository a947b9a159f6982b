//! Queue-driven autoscaling (`queue_scaling { .. }` on a worker): a KEDA
//! `ScaledObject` per service and environment, pointed at the workload the
//! strategy makes, scaling between the bounds of its replica range on the
//! length of a Redis list, the lag of a Kafka consumer group or the depth
//! of an SQS queue, and the `TriggerAuthentication` that hands KEDA the
//! Redis password from the resource's connection Secret or, for SQS, tells
//! it to call AWS as its operator's own IAM role. KEDA creates the
//! HorizontalPodAutoscaler itself, so the targets write none for such a
//! service (two HPAs on one workload fight over its replica count).
//!
//! SQS: the trigger names the queue by the URL SQS gives the queue
//! Terraform creates (`https://sqs.<region>.amazonaws.com/<account>/<name>`,
//! the name [`super::env::queue_name`]), never its dead-letter queue. The
//! operator (`keda/keda-operator`) runs as an IRSA role of its cluster,
//! `<cluster>-keda-operator`, which the cluster's Terraform root creates
//! with `sqs:GetQueueAttributes` on exactly the queues scaled there
//! ([`sqs_queues`]) and the add-on's chart values put on its
//! ServiceAccount (`plan::addons::cluster_values`). *Why the operator's
//! role rather than each workload's:* KEDA would otherwise need
//! `sts:AssumeRole` into every worker's role, and those roles to trust it;
//! one role per cluster that may only read queue attributes is narrower.
//! No NetworkPolicy selects the `keda` namespace (the chart's own is off by
//! default), so the operator reaches the SQS API on 443.
//!
//! **Invariant:** a service scaled here has an in-cluster Redis or Kafka,
//! or an SQS queue on an EKS cluster this output creates with the AWS
//! account known (`Model::sqs_scaling_gap`), in this environment, and a
//! replica range (the checker refuses the rest, E0376-E0378); the
//! resource's network policy admits KEDA's operator.

use super::EnvPlan;
use crate::model::{Cloud, Deployment, Engine, Environment, Model, Placement, QueueScaling, Replicas, Resource};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where KEDA's operator runs (the add-on's namespace) and its pods' name
/// label: the network policies of measured resources admit it.
pub const NAMESPACE: &str = "keda";
pub const OPERATOR_LABEL: (&str, &str) = ("app.kubernetes.io/name", "keda-operator");
/// The operator's ServiceAccount (the chart's default name, pinned in its
/// values): the subject its IAM role trusts.
pub const OPERATOR_ACCOUNT: &str = "keda-operator";

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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secret_target_ref: Vec<SecretTargetRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_identity: Option<PodIdentity>,
}

/// `podIdentity`: `provider: aws` with `identityOwner: keda` makes the
/// scaler call AWS as the operator's own IRSA role.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentity {
    pub provider: &'static str,
    pub identity_owner: &'static str,
}

#[derive(Serialize, Clone, Debug)]
pub struct SecretTargetRef {
    pub parameter: &'static str,
    pub name: String,
    pub key: &'static str,
}

/// The queue a deployed service scales on here, when KEDA can measure it.
pub fn scaling<'a>(cx: &EnvPlan<'a>, d: &Deployment) -> Option<(&'a QueueScaling, &'a Resource, u32, u32)> {
    scaling_in(cx.model, cx.env, d)
}

/// [`scaling`] from the model alone (the Terraform target has no `EnvPlan`).
fn scaling_in<'a>(
    model: &'a Model,
    env: &Environment,
    d: &Deployment,
) -> Option<(&'a QueueScaling, &'a Resource, u32, u32)> {
    let s = model.service(d.service);
    let q = s.queue_scaling.as_ref()?;
    let Replicas::Auto { min, max } = d.replicas else { return None };
    if !s.kind.long_running() {
        return None;
    }
    let r = model.resource(q.resource);
    let placement = env.resources[r.id.index()].placement;
    let measurable = match r.engine {
        Engine::Redis | Engine::Kafka => placement == Placement::InCluster,
        Engine::Queue => placement == Placement::Managed && model.sqs_scaling_gap(env).is_none(),
        _ => false,
    };
    measurable.then_some((q, r, min, max))
}

/// The names of the SQS queues KEDA scales workers on in an environment
/// (sorted, each once): what its operator's role may read.
pub fn sqs_queues(model: &Model, env: &Environment) -> Vec<String> {
    let mut out: Vec<String> = env
        .deployments
        .iter()
        .filter_map(|d| scaling_in(model, env, d))
        .filter(|(_, r, _, _)| r.engine == Engine::Queue)
        .map(|(_, r, _, _)| super::env::queue_name(model, env, r))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The IAM role KEDA's operator runs as in a cluster, which the cluster's
/// Terraform root creates: `<cluster name>-keda-operator`.
pub fn operator_role_name(cluster: &super::topology::Cluster) -> String {
    format!("{}-{OPERATOR_ACCOUNT}", cluster.name)
}

/// The URL SQS gives a queue this environment's Terraform creates:
/// `https://sqs.<region>.amazonaws.com/<account>/<name>`. `None` off AWS
/// or without the account (the checker refuses scaling on it then).
pub fn queue_url(model: &Model, env: &Environment, r: &Resource) -> Option<String> {
    let Cloud::Aws { region, .. } = model.cloud_of(env) else { return None };
    let account = model.aws_account()?;
    Some(format!("https://sqs.{region}.amazonaws.com/{account}/{}", super::env::queue_name(model, env, r)))
}

/// Whether KEDA scales this deployed service (and so no HPA is written).
pub fn scales(cx: &EnvPlan, d: &Deployment) -> bool {
    scaling(cx, d).is_some()
}

/// The name of a service's TriggerAuthentication.
fn auth_name(service: &str) -> String {
    format!("{service}-keda")
}

/// A service's ScaledObject and, for a Redis with a password or an SQS
/// queue, its TriggerAuthentication.
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
                None,
            ),
            Engine::Queue => {
                let Cloud::Aws { region, .. } = cx.model.cloud_of(cx.env) else { continue };
                let Some(url) = queue_url(cx.model, cx.env, r) else { continue };
                (
                    "aws-sqs-queue",
                    BTreeMap::from([
                        ("queueURL", url),
                        ("queueLength", q.per_replica.to_string()),
                        ("awsRegion", region.clone()),
                    ]),
                    Some(TriggerAuthSpec {
                        secret_target_ref: Vec::new(),
                        pod_identity: Some(PodIdentity { provider: "aws", identity_owner: "keda" }),
                    }),
                )
            }
            _ => (
                "redis",
                BTreeMap::from([
                    ("address", format!("{}.{ns}.svc.cluster.local:{port}", r.name)),
                    ("listName", topic),
                    ("listLength", q.per_replica.to_string()),
                ]),
                super::engines::uses_password(r).then(|| TriggerAuthSpec {
                    secret_target_ref: vec![SecretTargetRef {
                        parameter: "password",
                        name: super::env::connection_secret(&r.name),
                        key: "password",
                    }],
                    pod_identity: None,
                }),
            ),
        };
        let has_auth = auth.is_some();
        if let Some(spec) = auth {
            let ta = TriggerAuthentication {
                api_version: "keda.sh/v1alpha1",
                kind: "TriggerAuthentication",
                metadata: meta(auth_name(&s.name)),
                spec,
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
                    authentication_ref: has_auth.then(|| AuthRef { name: auth_name(&s.name) }),
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
