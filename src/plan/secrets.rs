//! Which Secrets an environment reads, and who provides them.

use super::env::{connection_secret, resolve_attr, Source};
use super::EnvPlan;
use crate::model::{EnvValue, Registry, SecretStore as Store, TPart};
use std::collections::BTreeSet;

/// The Kubernetes Secrets this environment's workloads read, sorted.
pub fn secret_names(cx: &EnvPlan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in &cx.env.deployments {
        for v in d.env.values() {
            let refs: Vec<&crate::model::AttrRef> = match v {
                EnvValue::Secret { name, .. } => {
                    out.insert(name.clone());
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
                if let Source::Secret { name, .. } = resolve_attr(cx, r) {
                    out.insert(name);
                }
            }
        }
    }
    for r in &cx.model.resources {
        if cx.in_cluster(r.id) && r.engine.can_run_in_cluster() {
            out.insert(connection_secret(&r.name));
        }
    }
    out
}

/// The IAM role that Terraform creates for External Secrets (IRSA), when
/// secrets live in AWS Secrets Manager and the account is known.
pub fn external_secrets_role(cx: &EnvPlan) -> Option<String> {
    let model = cx.model;
    match (&model.project.secret_store, &model.project.registry) {
        (Store::AwsSecretsManager { .. }, Registry::Ecr { account: Some(account), .. }) => {
            Some(format!("arn:aws:iam::{account}:role/{}-{}-external-secrets", model.project.name, cx.env.name))
        }
        _ => None,
    }
}
