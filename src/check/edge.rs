//! The rules of an environment's `edge` block (E0422-E0425, E0435): it needs
//! AWS, an Application Load Balancer to guard, a rate limit AWS WAF accepts,
//! an HTTPS listener for its `min_tls`, and something to create.
//!
//! **Invariant:** an environment of a checked model with `edge` runs on
//! AWS, deploys at least one service behind an `alb` Ingress, and its rate
//! limit is within [`WAF_RATE_LIMIT`].

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Cloud, Exposure, Model, WAF_RATE_LIMIT};

/// Whether a service is exposed through an Ingress of class `alb`.
pub fn behind_alb(expose: &Exposure) -> bool {
    matches!(expose, Exposure::Ingress { class, .. } if class == "alb")
}

pub fn check(model: &Model, diags: &mut Diagnostics) {
    for env in &model.environments {
        let Some(edge) = &env.edge else { continue };
        let Some(span) = edge.span else { continue };
        if !matches!(model.project.cloud, Cloud::Aws { .. }) {
            diags.push(
                Diagnostic::new(Code::E0422, format!("`edge` of `{}` needs `cloud = aws`", env.name))
                    .label(span, "AWS WAF and Shield guard an AWS load balancer")
                    .label_opt(model.project.span, "the project's cloud is not AWS"),
            );
            continue;
        }
        if !env.deployments.iter().any(|d| behind_alb(&model.service(d.service).expose)) {
            diags.push(
                Diagnostic::new(
                    Code::E0423,
                    format!("`edge` of `{}` has no Application Load Balancer to protect", env.name),
                )
                .label(span, "no service deployed here is exposed with `class = \"alb\"`"),
            );
        }
        if edge.waf && !WAF_RATE_LIMIT.contains(&edge.rate_limit) {
            diags.push(
                Diagnostic::new(Code::E0424, format!("a WAF rate limit of {} is out of range", edge.rate_limit))
                    .label(edge.rate_limit_span.unwrap_or(span), "AWS WAF accepts 10 to 2000000000 per 5 minutes"),
            );
        }
        let tls_alb = env.deployments.iter().any(|d| {
            matches!(&model.service(d.service).expose, Exposure::Ingress { class, tls: true, .. } if class == "alb")
        });
        if let (Some(min), false) = (edge.min_tls, tls_alb) {
            diags.push(
                Diagnostic::new(
                    Code::E0435,
                    format!("`min_tls = {min}` of `{}` has no HTTPS listener to set", env.name),
                )
                .label(edge.min_tls_span.unwrap_or(span), "no service deployed here has a TLS `alb` Ingress")
                .help(Code::E0435.info().help),
            );
        }
        if !edge.waf && !edge.shield && edge.min_tls.is_none() {
            diags.push(
                Diagnostic::new(Code::E0425, format!("`edge` of `{}` creates nothing", env.name))
                    .label(span, "`waf = false` and no `shield = true`"),
            );
        }
    }
}
