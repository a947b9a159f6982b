//! Workload identities on AWS (IRSA): the IAM role each ServiceAccount
//! assumes through the cluster's OIDC provider, decided once here. The
//! Terraform target creates each role (trusting exactly
//! `system:serviceaccount:<namespace>:<account>`, with a policy on the
//! resources listed here); Kubernetes and Helm annotate the ServiceAccount
//! with `eks.amazonaws.com/role-arn` under the same name.
//!
//! A ServiceAccount gets a role only when a service running as it uses
//! something reached through AWS's APIs: a queue, a bucket, or a managed
//! Redis (ElastiCache authenticates with IAM). Services that share a
//! ServiceAccount share its role, whose policy is the union of their uses.
//!
//! **Invariant:** the role ARN on a ServiceAccount names a role the
//! environment's Terraform root creates, trusting that ServiceAccount. When
//! the program names no AWS account the ARN cannot be written: the checker
//! warns (W0018) and the ServiceAccount carries no annotation.

use super::EnvPlan;
use crate::graph::{Edge, Node};
use crate::model::{Cloud, Model, ResourceId};
use std::collections::BTreeMap;

/// The annotation the EKS pod identity webhook reads.
pub const ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// One ServiceAccount's IAM role in one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRole {
    /// The ServiceAccount the role trusts (a service's own name unless it names another).
    pub service_account: String,
    /// The services running as it that need the role, sorted.
    pub services: Vec<String>,
    /// The resources its policy grants access to, in id order.
    pub resources: Vec<ResourceId>,
    /// `<project>-<env>-<account>` (Terraform: `${local.name}-<account>`).
    pub role_name: String,
    /// `arn:aws:iam::<account>:role/<role_name>`; `None` only when the
    /// program names no account (which the checker refuses).
    pub role_arn: Option<String>,
}

/// The resources a service uses that are reached through AWS's APIs in
/// this environment, in id order.
pub fn api_resources(cx: &EnvPlan, service: crate::model::ServiceId) -> Vec<ResourceId> {
    cx.graph
        .targets(Node::Service(service), Edge::Uses)
        .into_iter()
        .filter_map(|n| match n {
            Node::Resource(r) => Some(r),
            _ => None,
        })
        .filter(|r| cx.model.resource(*r).engine.reached_through_api(!cx.in_cluster(*r)))
        .collect()
}

/// The roles of one environment, by ServiceAccount name. Empty unless the
/// environment's cluster runs on AWS.
pub fn service_roles(cx: &EnvPlan) -> BTreeMap<String, ServiceRole> {
    let model = cx.model;
    let mut out: BTreeMap<String, ServiceRole> = BTreeMap::new();
    if !matches!(model.cloud_of(cx.env), Cloud::Aws { .. }) {
        return out;
    }
    let account = super::identity::account(model);
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        let resources = api_resources(cx, s.id);
        if resources.is_empty() {
            continue;
        }
        let sa = super::pod::service_account(s).to_string();
        let role_name = role_name(model, &cx.env.name, &sa);
        let role = out.entry(sa.clone()).or_insert_with(|| ServiceRole {
            service_account: sa,
            services: Vec::new(),
            resources: Vec::new(),
            role_arn: account.map(|a| super::identity::role_arn(a, &role_name)),
            role_name,
        });
        role.services.push(s.name.clone());
        role.resources.extend(resources);
        role.resources.sort();
        role.resources.dedup();
    }
    out
}

/// `<project>-<env>-<account>`: the name Terraform gives the role.
pub fn role_name(model: &Model, env: &str, service_account: &str) -> String {
    model.irsa_role_name(env, service_account)
}

/// The annotations of a ServiceAccount: its role, when it has one here.
pub fn account_annotations(cx: &EnvPlan, service_account: &str) -> Option<BTreeMap<String, String>> {
    let arn = cx.roles().get(service_account)?.role_arn.clone()?;
    Some(BTreeMap::from([(ROLE_ANNOTATION.to_string(), arn)]))
}
