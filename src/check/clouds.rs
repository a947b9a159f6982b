//! Clouds per cluster: an environment's `cloud` is the cloud of the cluster
//! it runs on (the project's `cloud` by default), so one program can place
//! environments on clusters in different clouds. These rules keep that
//! coherent: one cloud per cluster (E0410), managed resources only where
//! that cloud's Terraform can create them (E0411), and one setting per
//! cloud, since each cloud's Terraform roots share a provider, a state
//! backend and a pipeline identity (E0412).

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Cloud, Environment, Model, Placement};
use std::collections::BTreeMap;

pub fn clouds(model: &Model, diags: &mut Diagnostics) {
    one_cloud_per_cluster(model, diags);
    hosted(model, diags);
    one_setting_per_cloud(model, diags);
    registry_reach(model, diags);
    azure_store(model, diags);
}

/// A cloud's own secret store follows a cluster to GKE (Secret Manager)
/// and EKS (Secrets Manager), but no store of the language reads Azure Key
/// Vault yet: External Secrets' `azurekv` store needs each reader's
/// workload identity client id, a GUID known only after the Terraform
/// apply. An AKS cluster of a program whose store is another cloud's has no
/// identity to read it with (W0008, as for a `cloud = azure` program).
fn azure_store(model: &Model, diags: &mut Diagnostics) {
    use crate::model::SecretStore;
    if model.project.cloud.kind() == "azure" {
        return;
    }
    let native = matches!(
        model.project.secret_store,
        SecretStore::AwsSecretsManager { .. } | SecretStore::GcpSecretManager { .. }
    );
    for e in model.environments.iter().filter(|e| native && model.cloud_of(e).kind() == "azure") {
        diags.push(
            Diagnostic::new(
                Code::W0008,
                format!("environment `{}` runs on AKS, which has no identity to read the project's secret store with", e.name),
            )
            .label_opt(e.cloud_span, "on Azure")
            .help("Use a store every cluster reaches (`vault`), or `sealed_secrets`; Key Vault has no External Secrets store in deployc yet."),
        );
    }
}

/// Built images on ECR deployed to a cluster outside AWS that nothing gives
/// access: GKE and AKS nodes have no AWS identity, and ECR's pull tokens
/// last 12 hours, so a stored pull secret would not do either. A GKE
/// cluster the output creates pulls a copy CI pushes to Artifact Registry
/// in its project (`plan::registry`); AKS clusters and existing clusters
/// do not (W0015).
fn registry_reach(model: &Model, diags: &mut Diagnostics) {
    if !matches!(model.project.registry, crate::model::Registry::Ecr { .. }) {
        return;
    }
    let far: Vec<&Environment> = model
        .environments
        .iter()
        .filter(|e| {
            !matches!(model.cloud_of(e), Cloud::Aws { .. })
                && !model.mirrors_to_artifact_registry(e)
                && !model.pulls_ecr_with_token(e)
        })
        .filter(|e| e.deployments.iter().any(|d| model.built(model.service(d.service)).is_some()))
        .collect();
    for e in far {
        diags.push(
            Diagnostic::new(
                Code::W0015,
                format!(
                    "environment `{}` runs in {} but its images are on ECR, which its cluster's nodes cannot pull from",
                    e.name,
                    model.cloud_of(e).kind()
                ),
            )
            .label_opt(e.cloud_span.or(e.span), format!("`{}` runs in {}", e.name, model.cloud_of(e).kind()))
            .help(Code::W0015.info().help),
        );
    }
}

/// Environments sharing a cluster must agree on its cloud.
fn one_cloud_per_cluster(model: &Model, diags: &mut Diagnostics) {
    let mut first: BTreeMap<String, &Environment> = BTreeMap::new();
    for e in &model.environments {
        let key = model.cluster_key(e);
        let Some(other) = first.get(&key) else {
            first.insert(key, e);
            continue;
        };
        let (a, b) = (model.cloud_of(other), model.cloud_of(e));
        if a.kind() == b.kind() {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::E0410,
                format!(
                    "environments `{}` and `{}` share cluster `{key}` but put it in different clouds ({} and {})",
                    other.name,
                    e.name,
                    a.kind(),
                    b.kind()
                ),
            )
            .label_opt(e.cloud_span.or(e.span), format!("`{}` runs on `{key}` in {}", e.name, b.kind()))
            .label_opt(other.cloud_span.or(other.span), format!("`{}` runs on `{key}` in {}", other.name, a.kind()))
            .help(Code::E0410.info().help),
        );
    }
}

/// A managed resource of an environment whose cluster is in a cloud the
/// Terraform output cannot create it in. (On the project's own cloud the
/// same gap is W0008 at build time, as before clouds per cluster; an
/// environment that names another cloud chose it, so there it is an error.)
fn hosted(model: &Model, diags: &mut Diagnostics) {
    for e in &model.environments {
        let Some(cloud) = &e.cloud else { continue };
        for r in &model.resources {
            if e.resources[r.id.index()].placement != Placement::Managed || cloud.hosts(&r.engine, r.aurora) {
                continue;
            }
            let what = if r.aurora { "Aurora PostgreSQL" } else { r.engine.word() };
            diags.push(
                Diagnostic::new(
                    Code::E0411,
                    format!("managed {what} `{}` cannot run in {} for environment `{}`", r.name, cloud.kind(), e.name),
                )
                .label_opt(e.cloud_span, format!("`{}` runs in {}", e.name, cloud.kind()))
                .label_opt(r.span, "managed here")
                .help(Code::E0411.info().help),
            );
        }
    }
}

/// Every environment naming a cloud of one kind gives it the same settings.
fn one_setting_per_cloud(model: &Model, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, (&Cloud, Option<&Environment>)> = BTreeMap::new();
    seen.insert(model.project.cloud.kind(), (&model.project.cloud, None));
    for e in &model.environments {
        let Some(c) = &e.cloud else { continue };
        match seen.get(c.kind()) {
            None => {
                seen.insert(c.kind(), (c, Some(e)));
            }
            Some((other, by)) if *other != c => {
                let by = by.map(|b| format!("environment `{}`", b.name)).unwrap_or_else(|| "the project".into());
                diags.push(
                    Diagnostic::new(
                        Code::E0412,
                        format!("environment `{}` sets up {} differently from {by}", e.name, c.kind()),
                    )
                    .label_opt(e.cloud_span, "these settings differ")
                    .help(Code::E0412.info().help),
                );
            }
            Some(_) => {}
        }
    }
}
