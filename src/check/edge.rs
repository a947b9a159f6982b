//! The rules of an environment's `edge` block (E0422-E0425, E0435,
//! E0444-E0446): it needs AWS, an Application Load Balancer to guard, a rate
//! limit AWS WAF accepts, an HTTPS listener for its `min_tls`, and something
//! to create; a `cdn` needs one public TLS host on that ALB, path patterns
//! CloudFront accepts, and a `min_tls` CloudFront can hold.
//!
//! **Invariant:** an environment of a checked model with `edge` runs on
//! AWS, deploys at least one service behind an `alb` Ingress, and its rate
//! limit is within [`WAF_RATE_LIMIT`].

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{cdn_path_problem, Cloud, Environment, Exposure, MinTls, Model, StrategyKind, WAF_RATE_LIMIT};

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
        if let Some(cdn) = &edge.cdn {
            check_cdn(model, env, cdn, diags);
            if let (Some(MinTls::Tls13), Some(cdn_span)) = (edge.min_tls, cdn.span) {
                diags.push(
                    Diagnostic::new(
                        Code::E0446,
                        format!("`min_tls = tls13` of `{}` cannot hold behind CloudFront", env.name),
                    )
                    .label(edge.min_tls_span.unwrap_or(span), "TLS 1.3 only")
                    .label(cdn_span, "CloudFront reaches the ALB over TLS 1.2 and offers viewers TLS 1.2 and 1.3")
                    .help(Code::E0446.info().help),
                );
            }
        }
        if !edge.waf && !edge.shield && edge.min_tls.is_none() && edge.cdn.is_none() {
            diags.push(
                Diagnostic::new(Code::E0425, format!("`edge` of `{}` creates nothing", env.name))
                    .label(span, "`waf = false` and no `shield = true`"),
            );
        }
    }
}

/// E0444 (one public TLS host on the ALB, no preview host beside it) and
/// E0445 (path patterns) of an environment's `cdn`.
fn check_cdn(model: &Model, env: &Environment, cdn: &crate::model::Cdn, diags: &mut Diagnostics) {
    let Some(span) = cdn.span else { return };
    let mut hosts: Vec<&crate::model::Template> = Vec::new();
    for d in &env.deployments {
        let s = model.service(d.service);
        let Exposure::Ingress { host, class, tls, certificate, .. } = &s.expose else { continue };
        if class != "alb" {
            continue;
        }
        let why = if !tls {
            Some(format!("`{}` is exposed without TLS: CloudFront reaches the ALB over HTTPS only", s.name))
        } else if certificate.is_some() {
            Some(format!(
                "`{}` names its own certificate: the ALB's certificate must also cover the origin host CloudFront sends",
                s.name
            ))
        } else if matches!(env.strategy_of(s.id), StrategyKind::BlueGreen { .. }) {
            Some(format!("`{}` is blue-green here: its preview host would be a second host behind CloudFront", s.name))
        } else {
            None
        };
        if let Some(why) = why {
            diags.push(
                Diagnostic::new(Code::E0444, format!("`cdn` of `{}` cannot front `{}`", env.name, s.name))
                    .label(span, why)
                    .label_opt(s.span, "exposed here")
                    .help(Code::E0444.info().help),
            );
        }
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    if hosts.len() > 1 {
        diags.push(
            Diagnostic::new(
                Code::E0444,
                format!("`cdn` of `{}` has {} public hosts on its ALB; it fronts one", env.name, hosts.len()),
            )
            .label(span, "every TLS `alb` Ingress of the environment must share one host")
            .help(Code::E0444.info().help),
        );
    }
    if cdn.paths.is_empty() {
        diags.push(
            Diagnostic::new(Code::E0445, format!("`cdn` of `{}` caches no path", env.name))
                .label(span, "`paths` is empty")
                .help(Code::E0445.info().help),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, p) in cdn.paths.iter().enumerate() {
        let at = cdn.path_spans.get(i).copied().flatten().unwrap_or(span);
        let problem =
            if seen.contains(&p.as_str()) { Some("this pattern is listed twice") } else { cdn_path_problem(p) };
        seen.push(p);
        if let Some(problem) = problem {
            diags.push(
                Diagnostic::new(Code::E0445, format!("`{p}` is not a CloudFront path pattern to cache"))
                    .label(at, problem)
                    .help(Code::E0445.info().help),
            );
        }
    }
}
