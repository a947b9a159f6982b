//! The rules of an environment's `standby_of` (E0459-E0461): the primary
//! is another production environment with no other standby, the pair is
//! the topology the failover is rendered for, and the project's Route 53
//! zone holds the primary's public host.
//!
//! **Invariant:** in a checked model, a standby's primary is a production
//! environment on AWS behind `edge { cdn }` whose in-cluster databases with
//! backups are MongoDB replicated to a `recovery { region }`; the standby
//! runs on GCP; the program names its AWS account and a `dns = route53`
//! zone holding the primary's public host; each primary has one standby.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Cloud, Engine, Exposure, Model, Placement};

pub fn check(model: &Model, diags: &mut Diagnostics) {
    for env in &model.environments {
        let (Some(of), Some(span)) = (&env.standby_of, env.standby_span) else { continue };
        let Some(primary) = model.environments.iter().find(|e| &e.name == of) else { continue };
        let bad = |why: String| {
            Diagnostic::new(Code::E0459, format!("`{}` cannot be a standby of `{of}`", env.name))
                .label(span, why)
                .help(Code::E0459.info().help)
        };
        if primary.name == env.name {
            diags.push(bad("an environment cannot take over its own host".into()));
            continue;
        }
        if !primary.production {
            diags.push(bad(format!("`{of}` is not `production = true`")));
            continue;
        }
        if primary.standby_of.is_some() {
            diags.push(bad(format!("`{of}` is itself a standby")));
            continue;
        }
        if let Some(first) = model.environments.iter().find(|e| e.standby_of.as_ref() == Some(of)) {
            if first.name != env.name {
                diags.push(bad(format!("`{}` is already `{of}`'s standby", first.name)));
                continue;
            }
        }
        let mut unsupported = Vec::new();
        if !matches!(model.cloud_of(primary), Cloud::Aws { .. }) {
            unsupported.push(format!("`{of}` is not on AWS"));
        }
        let host = cdn_host(model, primary);
        if host.is_none() {
            unsupported.push(format!("`{of}` has no `edge {{ cdn }}` for Route 53's health check to probe"));
        }
        if !matches!(model.cloud_of(env), Cloud::Gcp { .. }) {
            unsupported.push(format!("`{}` is not on GCP", env.name));
        }
        if model.aws_account().is_none() {
            unsupported.push("the program names no AWS account for the restore role".into());
        }
        for r in &model.resources {
            let in_cluster = primary.resources[r.id.index()].placement == Placement::InCluster;
            if r.backup.is_none() || !in_cluster || !r.engine.can_run_in_cluster() {
                continue;
            }
            match r.engine {
                Engine::MongoDb if r.dr_region.is_some() => {}
                Engine::MongoDb => {
                    unsupported.push(format!("`{}` has no `recovery {{ region }}` to restore from", r.name))
                }
                Engine::Redis => {}
                _ => unsupported.push(format!("`{}` is {}: only MongoDB is restored", r.name, r.engine.word())),
            }
        }
        if !unsupported.is_empty() {
            diags.push(
                Diagnostic::new(Code::E0460, format!("the failover of `{of}` to `{}` is not rendered", env.name))
                    .label(span, unsupported.join("; "))
                    .help(Code::E0460.info().help),
            );
            continue;
        }
        let zone = model.project.dns.as_ref().map(|d| d.zone.trim_end_matches('.'));
        let host = host.unwrap_or_default();
        if !zone.is_some_and(|z| host == z || host.ends_with(&format!(".{z}"))) {
            diags.push(
                Diagnostic::new(
                    Code::E0461,
                    format!("no Route 53 zone holds `{host}`, the host `{}` would take over", env.name),
                )
                .label(span, "the failover records have no zone to go into")
                .help(Code::E0461.info().help),
            );
        }
    }
}

/// The primary's public host behind its CDN: its TLS `alb` Ingress host.
fn cdn_host(model: &Model, env: &crate::model::Environment) -> Option<String> {
    env.edge.as_ref()?.cdn.as_ref()?;
    env.deployments.iter().find_map(|d| match &model.service(d.service).expose {
        Exposure::Ingress { host, class, tls: true, .. } if class == "alb" => {
            Some(crate::model::render_env(host, &model.project, &env.name, &env.namespace, &env.domain))
        }
        _ => None,
    })
}
