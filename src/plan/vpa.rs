//! Vertical Pod Autoscalers (`vpa = recommend | initial` on a service): one
//! per service and environment, pointed at the workload the strategy makes.
//! deployc never asks for `Auto` or `Recreate`, so the VPA never evicts pods
//! (the add-on runs without its updater).

use super::EnvPlan;
use crate::model::{Deployment, StrategyKind, VpaMode};
use serde::Serialize;
use std::collections::BTreeMap;

/// A `VerticalPodAutoscaler` (autoscaling.k8s.io/v1).
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Vpa {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Meta,
    pub spec: VpaSpec,
}

#[derive(Serialize, Clone, Debug)]
pub struct Meta {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct VpaSpec {
    pub target_ref: TargetRef,
    pub update_policy: UpdatePolicy,
    pub resource_policy: ResourcePolicy,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePolicy {
    pub update_mode: &'static str,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePolicy {
    pub container_policies: Vec<ContainerPolicy>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPolicy {
    pub container_name: String,
    pub controlled_resources: Vec<&'static str>,
    /// Recommendations never go above the limits the program declares.
    pub max_allowed: BTreeMap<&'static str, String>,
}

/// The workload a strategy makes: a Deployment for rolling updates, an
/// Argo Rollout otherwise (it has the scale subresource a VPA reads).
pub fn workload_ref(kind: &StrategyKind) -> (&'static str, &'static str) {
    match kind {
        StrategyKind::Rolling { .. } => ("apps/v1", "Deployment"),
        _ => ("argoproj.io/v1alpha1", "Rollout"),
    }
}

/// The VPA of one deployed service, when it asks for one.
pub fn vpa(cx: &EnvPlan, d: &Deployment) -> Option<Vpa> {
    let s = cx.model.service(d.service);
    let mode = s.vpa?;
    let (api_version, kind) = workload_ref(&d.strategy.kind);
    Some(Vpa {
        api_version: "autoscaling.k8s.io/v1",
        kind: "VerticalPodAutoscaler",
        metadata: Meta { name: s.name.clone(), namespace: cx.ns().to_string(), labels: cx.labels(&s.name, "service") },
        spec: VpaSpec {
            target_ref: TargetRef { api_version, kind, name: s.name.clone() },
            update_policy: UpdatePolicy {
                update_mode: match mode {
                    VpaMode::Recommend => "Off",
                    VpaMode::Initial => "Initial",
                },
            },
            resource_policy: ResourcePolicy {
                container_policies: vec![ContainerPolicy {
                    container_name: s.name.clone(),
                    controlled_resources: vec!["cpu", "memory"],
                    // No cpu cap where the program wrote no cpu limit.
                    max_allowed: d
                        .cpu
                        .limit
                        .map(|l| ("cpu", super::pod::quantity_cpu(l).0))
                        .into_iter()
                        .chain([("memory", super::pod::quantity_mem(d.memory.limit).0)])
                        .collect(),
                }],
            },
        },
    })
}
