//! Whole-program rules: the promotion graph, dependency cycles, strategies
//! against services, gates against languages, secrets in production, and the
//! warnings. Each rule reports every violation it finds.

use super::lower::Extra;
use super::schema::{RefKind, GATE_TOOLS};
use super::symbols::Symbols;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::graph::{Edge, Graph, Node};
use crate::model::{Cloud, Model, Placement, Promotion, StrategyKind};
use std::collections::BTreeSet;

/// An RFC 1035 label, as Kubernetes requires for names of Services and Namespaces.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// The nearest valid label: lowercase, `_` and `.` to `-`.
pub fn to_dns_label(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c == '_' || c == '.' { '-' } else { c.to_ascii_lowercase() })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    out.truncate(63);
    out.trim_matches('-').to_string()
}

pub fn whole_program(model: &Model, graph: &Graph, extra: &Extra, diags: &mut Diagnostics) {
    dependency_cycles(model, graph, extra, diags);
    promotion(model, graph, extra, diags);
    blue_green_readiness(model, extra, diags);
    missing_probes(model, extra, diags);
    portless_references(model, extra, diags);
    aws_identities(model, graph, extra, diags);
    analysis_providers(model, extra, diags);
    gate_languages(model, extra, diags);
    recovery_objectives(model, extra, diags);
    recovery_regions(model, extra, diags);
    proxies(model, extra, diags);
    vpa_with_hpa(model, extra, diags);
    queue_scaling(model, extra, diags);
    mesh_ports(model, diags);
    secrets_in_production(model, extra, diags);
    production_warnings(model, extra, diags);
    post_deploy_suites(model, extra, diags);
    unread_alarm_thresholds(model, diags);
    uncharted_metrics(model, diags);
    unmeasured_slos(model, diags);
}

/// An `slo` on a service whose requests nobody measures (E0399): without
/// Prometheus metrics, or on a workload no ServiceMonitor scrapes (no port,
/// `metrics = false`), its burn-rate alerts would read no series and never
/// fire, while the program reads as if the objective were watched.
fn unmeasured_slos(model: &Model, diags: &mut Diagnostics) {
    for s in &model.services {
        let Some(slo) = &s.slo else { continue };
        let problem = if model.observability.metrics.is_none() {
            "the program declares no `metrics = prometheus` in `observability`"
        } else if s.port.is_none() {
            "a workload without a port serves no requests to measure"
        } else if !s.metrics {
            "`metrics = false`: no ServiceMonitor scrapes its requests"
        } else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                Code::E0399,
                format!("nothing measures the requests of `{}` against its objective", s.name),
            )
            .label(slo.span.or(s.span).unwrap_or_default(), problem)
            .help(Code::E0399.info().help),
        );
    }
}

/// `custom_metrics` that no dashboard charts (W0012): no Prometheus metrics
/// or Grafana dashboards, or a service no ServiceMonitor scrapes (no port,
/// or `metrics = false`), the same condition `plan::dashboards` reads.
fn uncharted_metrics(model: &Model, diags: &mut Diagnostics) {
    let obs = &model.observability;
    let charted = obs.metrics.is_some() && obs.dashboards.as_deref() == Some("grafana");
    let why = "declare `metrics = prometheus` and `dashboards = grafana` in `observability`";
    for s in model.services.iter().filter(|s| !s.custom_metrics.is_empty()) {
        let problem = if !charted {
            Some(why)
        } else if s.port.is_none() {
            Some("no ServiceMonitor scrapes a workload without a port")
        } else if !s.metrics {
            Some("`metrics = false`: no ServiceMonitor scrapes it")
        } else {
            None
        };
        if let Some(problem) = problem {
            let mut d = Diagnostic::new(Code::W0012, format!("no dashboard charts the custom metrics of `{}`", s.name))
                .help(format!("Nothing scrapes or charts them: {problem}."));
            if let Some(span) = s.span {
                d = d.label(span, "declares custom_metrics");
            }
            diags.push(d);
        }
    }
    // The project's own list is W0012 in `lower`, where its span is.
}

/// `alarms { ... }` on a resource no environment runs managed on AWS: the
/// thresholds reach no CloudWatch alarm (W0011). A threshold set for an
/// environment where the resource runs in the cluster, while another runs
/// it managed, is not flagged: the resource-level view is what the author
/// reads.
fn unread_alarm_thresholds(model: &Model, diags: &mut Diagnostics) {
    for r in &model.resources {
        let set =
            !r.alarms.is_empty() || model.environments.iter().any(|e| !e.resources[r.id.index()].alarms.is_empty());
        let read = model.environments.iter().any(|e| {
            e.resources[r.id.index()].placement == Placement::Managed && matches!(model.cloud_of(e), Cloud::Aws { .. })
        });
        if set && !read {
            let mut d = Diagnostic::new(
                Code::W0011,
                format!("alarm thresholds of `{}` reach no CloudWatch alarm", r.name),
            )
            .help("CloudWatch alarms watch resources managed on AWS; in the cluster, Prometheus' alert rules watch it. Remove `alarms`, or run the resource managed in an environment on AWS.");
            if let Some(span) = r.span {
                d = d.label(span, "runs in the cluster, or off AWS, in every environment");
            }
            diags.push(d);
        }
    }
}

/// `after = [integration_tests]` or `[performance_tests]` where no deployed
/// service's toolchain declares those commands runs nothing (E0602); a
/// service whose toolchain declares them but has no public route cannot be
/// reached from CI and is skipped (W0013). `smoke_tests` without commands
/// checks the routes instead, so it is neither.
fn post_deploy_suites(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{AfterHook, Exposure};
    for env in &model.environments {
        let span = extra.env_after.get(&env.name).copied().or(env.span);
        for hook in &env.after {
            let (field, what) = match hook {
                AfterHook::IntegrationTests => ("integration", "integration tests"),
                AfterHook::PerformanceTests => ("performance", "performance tests"),
                AfterHook::SmokeTests => ("smoke", "smoke tests"),
                AfterHook::HealthCheck | AfterHook::Verification => continue,
            };
            let mut runs = false;
            for d in &env.deployments {
                let s = model.service(d.service);
                let Some(b) = model.built(s) else { continue };
                let commands = match hook {
                    AfterHook::IntegrationTests => &b.toolchain.integration,
                    AfterHook::PerformanceTests => &b.toolchain.performance,
                    _ => &b.toolchain.smoke,
                };
                if commands.is_empty() {
                    continue;
                }
                if matches!(s.expose, Exposure::Ingress { .. }) {
                    runs = true;
                } else {
                    diags.push(
                        Diagnostic::new(
                            Code::W0013,
                            format!("the {what} of `{}` do not run after a deploy to `{}`", s.name, env.name),
                        )
                        .label_opt(span, format!("asks for {what}"))
                        .label_opt(s.span, "no public route (`expose = ingress`): CI cannot reach it")
                        .help(format!(
                            "Expose `{}` through an ingress, or run its `{field}` commands from a service that is exposed.",
                            s.name
                        )),
                    );
                }
            }
            if !runs && *hook != AfterHook::SmokeTests {
                diags.push(
                    Diagnostic::new(Code::E0602, format!("`{}` asks for {what} that no service declares", env.name))
                        .label_opt(span, format!("`{}` runs nothing here", hook.word()))
                        .help(format!(
                            "Give the toolchain of a public service deployed to `{}` its `{field}` commands (`{field} = [\"...\"]`), or remove `{}` from `after`.",
                            env.name,
                            hook.word()
                        )),
                );
            }
        }
    }
}

fn dependency_cycles(model: &Model, graph: &Graph, extra: &Extra, diags: &mut Diagnostics) {
    for cycle in graph.cycles(Edge::DependsOn) {
        let names: Vec<String> = cycle.iter().map(|n| graph.name(model, *n)).collect();
        let mut d = Diagnostic::new(Code::E0801, format!("dependency cycle: {}", names.join(" → ")));
        for pair in names.windows(2) {
            if let Some(span) = extra.dep_spans.get(&(pair[0].clone(), pair[1].clone())) {
                d = d.label(*span, format!("`{}` depends on `{}`", pair[0], pair[1]));
            }
        }
        diags.push(d);
    }
}

fn promotion(model: &Model, graph: &Graph, extra: &Extra, diags: &mut Diagnostics) {
    let mut in_cycle = BTreeSet::new();
    for cycle in graph.cycles(Edge::Promotes) {
        let names: Vec<String> = cycle.iter().map(|n| graph.name(model, *n)).collect();
        in_cycle.extend(names.iter().cloned());
        let mut d = Diagnostic::new(Code::E0501, format!("promotion cycle: {}", names.join(" → ")));
        for pair in names.windows(2) {
            if let Some(span) = extra.env_from.get(&pair[1]) {
                d = d.label(*span, format!("`{}` is promoted from `{}`", pair[1], pair[0]));
            }
        }
        diags.push(d);
    }
    // Reachability from the entry points (and from anything whose rule was
    // already reported broken, so one mistake is not reported twice).
    let mut reached = BTreeSet::new();
    let mut stack: Vec<Node> = model
        .environments
        .iter()
        .filter(|e| {
            matches!(e.promote, Promotion::OnPush(_) | Promotion::OnTag(_)) || extra.bad_promote.contains(&e.name)
        })
        .map(|e| Node::Env(e.id))
        .collect();
    while let Some(n) = stack.pop() {
        if reached.insert(n) {
            stack.extend(graph.targets(n, Edge::Promotes));
        }
    }
    for e in &model.environments {
        if reached.contains(&Node::Env(e.id)) || in_cycle.contains(&e.name) {
            continue;
        }
        let why = match &e.promote {
            Promotion::Manual { from: None } => "promoted manually, but from no environment".to_string(),
            Promotion::Manual { from: Some(f) } => {
                format!("promoted from `{}`, which is never reached itself", model.env(*f).name)
            }
            _ => "never reached".to_string(),
        };
        let span = extra.env_promote.get(&e.name).copied().or(e.span);
        diags.push(
            Diagnostic::new(Code::E0502, format!("environment `{}` is unreachable", e.name)).label_opt(span, why),
        );
    }
}

fn blue_green_readiness(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    for e in &model.environments {
        if !matches!(e.strategy.kind, StrategyKind::BlueGreen { .. }) {
            continue;
        }
        for d in &e.deployments {
            let s = model.service(d.service);
            if s.readiness.is_some() || extra.probe_given.contains(&s.name) {
                continue;
            }
            let diag = Diagnostic::new(
                Code::E0403,
                format!("blue-green in `{}` needs a readiness probe on service `{}`", e.name, s.name),
            )
            .label_opt(s.span, "this service has no `health` or `readiness` probe")
            .label_opt(extra.env_strategy.get(&e.name).copied(), "blue-green chosen here")
            .help(format!("Add e.g. `health = http {{ path = \"/healthz\" }}` to service `{}`.", s.name));
            diags.push(diag);
        }
    }
}

/// A service with a port but no probe, deployed to production: deployc adds
/// none of its own (a guessed probe restarts a pod that is fine, or passes
/// one that is not), so it says so where a stuck pod costs. Development
/// environments are left alone, so sketches and test programs stay quiet.
/// A reference to the address of a workload without a port (a worker, a
/// job, a cron job, a service without `port`) would be an address nothing
/// listens on (E0366).
fn portless_references(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{AttrTarget, EnvValue, TPart};
    let envs = model.services.iter().map(|s| (s, &s.env)).chain(
        model.environments.iter().flat_map(|e| e.deployments.iter().map(|d| (model.service(d.service), &d.env))),
    );
    let mut seen = std::collections::BTreeSet::new();
    for (s, env) in envs {
        for v in env.values() {
            let refs: Vec<&crate::model::AttrRef> = match v {
                EnvValue::Ref(r) => vec![r],
                EnvValue::Literal(t) => t
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        TPart::Ref(r) => Some(r),
                        _ => None,
                    })
                    .collect(),
                EnvValue::Secret { .. } => Vec::new(),
            };
            for r in refs {
                let AttrTarget::Service(t) = &r.target else { continue };
                let Some(target) = model.service_by_name(t) else { continue };
                if target.port.is_some() || !seen.insert((s.name.clone(), t.clone())) {
                    continue;
                }
                diags.push(
                    Diagnostic::new(
                        Code::E0366,
                        format!("`{}` reads the address of `{t}`, a {} without a port", s.name, target.kind.word()),
                    )
                    .label_opt(extra.dep_spans.get(&(s.name.clone(), t.clone())).copied(), "nothing listens there")
                    .label_opt(target.span, "declared without `port`")
                    .help("Reach it through what it consumes (a queue, a database), or give it a `port` as a `kind = service`."),
                );
            }
        }
    }
}

fn missing_probes(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    for s in &model.services {
        if s.health.is_some() || s.readiness.is_some() || extra.probe_given.contains(&s.name) {
            continue;
        }
        // Only a workload with a port: a worker or job has nothing to probe by default.
        let Some(port) = s.port else { continue };
        let Some(prod) = model.environments.iter().find(|e| e.production && e.deploys(s.id)) else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                Code::W0010,
                format!("service `{}` listens on port {} but has no probe in production", s.name, port),
            )
            .label_opt(s.span, "no `health` or `readiness`")
            .label_opt(prod.span, "deployed to this production environment")
                .help(format!(
                    "Declare how to tell it is alive, e.g. `health = http {{ path = \"/healthz\" }}`, `grpc {{ }}` or `tcp {{ }}`; without one, Kubernetes restarts nothing and routes to pods before they are ready ({}).",
                    s.name
                )),
        );
    }
}

fn analysis_providers(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    let providers = model.metrics_providers();
    for a in &extra.analyses {
        let missing = match &a.provider {
            Some(p) if !providers.contains(&p.as_str()) => Some(p.as_str()),
            None if providers.is_empty() => None,
            _ => continue,
        };
        let help = match missing {
            Some("prometheus") => "Add `observability { metrics = prometheus }`.".to_string(),
            Some(p) => format!("Add `integration {p} = {p} {{ ... }}` with its credentials."),
            None => Code::E0404.info().help.to_string(),
        };
        let (inline, of_std) = match missing {
            Some(p) => {
                let what = format!("uses `{p}`, which the program does not declare");
                (format!("analysis {what}"), what)
            }
            None => ("analysis without a metrics provider".to_string(), "has no metrics provider".to_string()),
        };
        let label = match missing {
            Some(p) => format!("no {p} metrics provider is declared"),
            None => "nothing to query".to_string(),
        };
        match &a.strategy {
            // Inline: always checked, at the analysis.
            None => diags.push(Diagnostic::new(Code::E0404, inline.clone()).label(a.span, label).help(help)),
            // A named strategy matters only where an environment uses it
            // (importing std/strategies must not require Prometheus).
            Some(s) if !extra.std_strategies.contains(s) => {
                if model.environments.iter().any(|e| e.strategy.name.as_deref() == Some(s)) {
                    diags.push(Diagnostic::new(Code::E0404, inline.clone()).label(a.span, label).help(help));
                }
            }
            // A standard strategy cannot be edited: point at each use.
            Some(s) => {
                for e in model.environments.iter().filter(|e| e.strategy.name.as_deref() == Some(s)) {
                    diags.push(
                        Diagnostic::new(Code::E0404, format!("the analysis of strategy `{s}` {of_std}"))
                            .label_opt(extra.env_strategy.get(&e.name).copied(), format!("`{s}` runs an analysis"))
                            .label(a.span, label.clone())
                            .help(help.clone()),
                    );
                }
            }
        }
    }
}

fn gate_languages(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    for g in &model.gates {
        let Some((_, _, families)) = GATE_TOOLS.iter().find(|t| t.0 == g.tool) else {
            continue;
        };
        if families.is_empty() {
            continue;
        }
        // A service whose language did not resolve (already reported) may
        // fit or not: it is given the benefit of the doubt.
        let fits = |sid: &crate::model::ServiceId| {
            let s = model.service(*sid);
            extra.unresolved_language.contains(&s.name)
                || s.language().is_some_and(|l| families.contains(&model.toolchain(l).family.as_str()))
        };
        let span = extra.gate_tool.get(&g.name).copied();
        let want = families.join("/");
        if g.services.is_empty() {
            if !model.services.iter().any(|s| fits(&s.id)) {
                let kind = GATE_TOOLS.iter().find(|t| t.0 == g.tool).map(|t| t.1).unwrap_or("");
                let general: Vec<&str> =
                    GATE_TOOLS.iter().filter(|t| t.1 == kind && t.2.is_empty()).map(|t| t.0).collect();
                let help = if general.is_empty() {
                    format!("No service is written in {want}; remove the gate.")
                } else {
                    format!(
                        "No service is written in {want}; remove the gate, or use a tool for every language: {}.",
                        general.join(", ")
                    )
                };
                diags.push(
                    Diagnostic::new(
                        Code::E0601,
                        format!("gate `{}` uses {}, but no service is written in {want}", g.name, g.tool),
                    )
                    .label_opt(span, format!("{} only checks {want} code", g.tool))
                    .help(help),
                );
            }
        } else {
            for sid in g.services.iter().filter(|s| !fits(s)) {
                let s = model.service(*sid);
                let lang = &s
                    .language()
                    .map_or_else(|| "no code here (a prebuilt image)".to_string(), |l| model.toolchain(l).name.clone());
                diags.push(
                    Diagnostic::new(
                        Code::E0601,
                        format!("gate `{}` uses {} on `{}`, which is written in {lang}", g.name, g.tool, s.name),
                    )
                    .label_opt(span, format!("{} only checks {want} code", g.tool))
                    .label_opt(s.span, format!("`{}` is {lang}", s.name))
                    .help(format!(
                        "Remove `{}` from the gate's `services`, or use a tool that checks {lang} code.",
                        s.name
                    )),
                );
            }
        }
    }
}

fn secrets_in_production(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    let prod: Vec<&crate::model::Environment> = model.environments.iter().filter(|e| e.production).collect();
    for lit in &extra.secret_literals {
        // The production environments where this literal is the effective value.
        let offending: Vec<&str> = match &lit.env {
            Some(e) => prod.iter().filter(|p| &p.name == e).map(|p| p.name.as_str()).collect(),
            None => prod
                .iter()
                .filter(|p| {
                    let deployed = p.deployments.iter().any(|d| model.service(d.service).name == lit.service);
                    let key = (p.name.clone(), lit.service.clone(), lit.var.clone());
                    deployed && !extra.env_overrides.contains(&key)
                })
                .map(|p| p.name.as_str())
                .collect(),
        };
        if offending.is_empty() {
            continue;
        }
        let var = &lit.var;
        let envs = offending.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
        let plural = if offending.len() > 1 { "s" } else { "" };
        diags.push(
            Diagnostic::new(
                Code::E0701,
                format!("`{var}` is a secret given as a literal value in production environment{plural} {envs}"),
            )
            .label(lit.span, "this value would be committed in plain text")
            .help(format!(
                "Use `{var} = secret(\"{}\")` and keep the value in the secret store.",
                super::rules::to_dns_label(var)
            )),
        );
    }
}

fn production_warnings(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    for e in model.environments.iter().filter(|e| e.production) {
        // Approvers put a person in front of every deploy here (a Jenkins
        // `input`, the GitHub and GitLab environments' required reviewers).
        if let (Promotion::OnPush(branch), true) = (&e.promote, e.approvers.is_empty()) {
            diags.push(
                Diagnostic::new(
                    Code::W0002,
                    format!(
                        "production environment `{}` is deployed on every push to {}",
                        e.name,
                        branch.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .label_opt(extra.env_promote.get(&e.name).copied(), "automatic promotion"),
            );
        }
    }
    let tags = &model.pipeline.tags;
    let immutable = tags.iter().any(|t| *t != crate::model::TagPolicy::Latest);
    if !immutable && model.environments.iter().any(|e| e.production) {
        diags.push(
            Diagnostic::new(Code::W0004, "production deploys the mutable `latest` tag")
                .label_opt(extra.latest_tag, "the only tag policy is `latest`"),
        );
    }
}

/// W0001: declared in the program, never used. Standard-library names are exempt.
pub fn unused(syms: &Symbols, diags: &mut Diagnostics) {
    for ((kind, name), sym) in syms.iter() {
        // Codecov, Sentry, New Relic and Datadog configure the whole pipeline
        // or every service; only notification targets need a reference.
        let global =
            *kind == RefKind::Integration && matches!(sym.tag.as_str(), "codecov" | "sentry" | "newrelic" | "datadog");
        let counts = matches!(
            kind,
            RefKind::Strategy | RefKind::Resource | RefKind::Integration | RefKind::Toolchain | RefKind::Preset
        ) && !global;
        if counts && !sym.used.load(std::sync::atomic::Ordering::Relaxed) && !sym.from_std {
            diags.push(
                Diagnostic::new(Code::W0001, format!("{} `{name}` is never used", kind.word()))
                    .label(sym.span, "declared here"),
            );
        }
    }
}

/// The most data a restore of `r` can lose where it is placed, in ms, and
/// how that comes about: managed PostgreSQL (RDS, Aurora) and DocumentDB
/// restore to a point in time (about five minutes behind), ElastiCache keeps
/// one snapshot a day, and in the cluster the backup CronJob's schedule is
/// the gap. `None` without backups.
pub fn recovery_point(r: &crate::model::Resource, placement: crate::model::Placement) -> Option<(u64, String)> {
    use crate::model::{Engine, Placement};
    const HOUR: u64 = 3_600_000;
    let b = r.backup.as_ref()?;
    Some(match (placement, &r.engine) {
        (Placement::Managed, Engine::Postgres | Engine::MongoDb) => {
            (5 * 60_000, "managed point-in-time recovery, about 5 minutes behind".to_string())
        }
        (Placement::Managed, Engine::Redis) => (24 * HOUR, "ElastiCache keeps one snapshot a day".to_string()),
        _ => {
            let every = match b.schedule.as_str() {
                "every_30m" => HOUR / 2,
                "hourly" => HOUR,
                "every_6h" => 6 * HOUR,
                "weekly" => 7 * 24 * HOUR,
                _ => 24 * HOUR,
            };
            (every, format!("the backup CronJob runs `{}`", b.schedule))
        }
    })
}

pub fn words(ms: u64) -> String {
    const HOUR: u64 = 3_600_000;
    match ms {
        m if m % (24 * HOUR) == 0 => format!("{}d", m / (24 * HOUR)),
        m if m % HOUR == 0 => format!("{}h", m / HOUR),
        m if m % 60_000 == 0 && m > HOUR => format!("{}h{}m", m / HOUR, (m % HOUR) / 60_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m => format!("{}s", m.div_ceil(1000)),
    }
}

/// E0340: a declared recovery point objective that the backups cannot meet
/// in some environment (or no backups at all).
fn recovery_objectives(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    for r in &model.resources {
        let (Some(rpo), Some(span)) = (r.rpo_ms, extra.rpo_spans.get(&r.name)) else { continue };
        if r.backup.is_none() {
            diags.push(
                Diagnostic::new(
                    Code::E0340,
                    format!("resource `{}` declares an RPO of {} but no backups", r.name, words(rpo)),
                )
                .label(*span, "nothing is backed up to meet this")
                .help(format!(
                    "Add `backup {{ schedule = hourly }}` (or a schedule at least as frequent as {}) to the resource.",
                    words(rpo)
                )),
            );
            continue;
        }
        for env in &model.environments {
            let Some(u) = env.resources.iter().find(|u| u.resource == r.id) else { continue };
            let Some((gap, how)) = recovery_point(r, u.placement) else { continue };
            // A production environment's backups are also copied to the
            // secondary region: a failover there loses the copy's lag too.
            // A warm standby of the environment restores the copy every
            // 15 minutes: its failover loses that too.
            let standby = model.environments.iter().any(|e| e.standby_of.as_ref() == Some(&env.name));
            let failover = if env.production { crate::model::failover_point(r, u.placement) } else { None };
            let failover = match failover {
                Some((g, h)) if standby => Some((
                    g + crate::model::STANDBY_REFRESH_MS,
                    format!("{h}, restored by the standby every 15 minutes"),
                )),
                f => f,
            };
            let (gap, how, in_failover) = match failover {
                Some((g, h)) if g > gap => (g, format!("in a failover: {h}"), true),
                _ => (gap, how, false),
            };
            if gap > rpo {
                let fix = match (u.placement, in_failover) {
                    (crate::model::Placement::InCluster, false) => "Back up more often (`schedule = hourly`)",
                    (crate::model::Placement::InCluster, true) => {
                        "Back up more often (`schedule = every_30m`) so the copy in the secondary region stays within it"
                    }
                    (crate::model::Placement::Managed, _) => {
                        "Run the resource in the cluster with more frequent backups there"
                    }
                };
                diags.push(
                    Diagnostic::new(
                        Code::E0340,
                        format!(
                            "resource `{}` can lose {} of data in `{}`, more than its RPO of {}",
                            r.name,
                            words(gap),
                            env.name,
                            words(rpo)
                        ),
                    )
                    .label(*span, format!("{how} in `{}`", env.name))
                    .help(format!("{fix}, or raise the RPO to at least {}.", words(gap))),
                );
            }
        }
    }
}

/// Whether `s` reads as an AWS region name (`us-east-1`, `us-gov-west-1`).
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else { return false };
    (3..=4).contains(&parts.len())
        && first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.len() <= 2
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// E0432-E0434: a `recovery { region }` must be an AWS region other than
/// the project's (on AWS), the same for every resource (each environment has
/// one backup bucket, replicated to one region), on a database whose
/// backups the output can copy.
fn recovery_regions(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{Cloud, Engine};
    let mut first: Option<(&str, &str, crate::source::Span)> = None;
    for r in &model.resources {
        let (Some(region), Some(span)) = (r.dr_region.as_deref(), extra.region_spans.get(&r.name)) else { continue };
        if !matches!(r.engine, Engine::Postgres | Engine::MongoDb) {
            diags.push(
                Diagnostic::new(
                    Code::E0434,
                    format!("`{}`: the output copies no {} backups to another region", r.name, r.engine.word()),
                )
                .label(*span, "nothing would be copied there"),
            );
            continue;
        }
        let primary = match &model.project.cloud {
            Cloud::Aws { region, .. } => Some(region.as_str()),
            _ => None,
        };
        if !is_aws_region(region) || primary.is_none() || primary == Some(region) {
            let why = match primary {
                None => "the project's cloud is not AWS".to_string(),
                Some(p) if p == region => format!("the project already runs in `{p}`"),
                Some(_) => "not an AWS region name".to_string(),
            };
            diags.push(
                Diagnostic::new(Code::E0432, format!("`{}`: `{region}` cannot be the secondary region", r.name))
                    .label(*span, why),
            );
            continue;
        }
        match first {
            Some((other, name, at)) if other != region => diags.push(
                Diagnostic::new(
                    Code::E0433,
                    format!("`{}` copies its backups to `{region}`, `{name}` to `{other}`", r.name),
                )
                .label(*span, "a second secondary region")
                .label(at, "the first one"),
            ),
            Some(_) => {}
            None => first = Some((region, &r.name, *span)),
        }
    }
}

/// E0431: `proxy = true` where no environment runs the database managed on
/// AWS (RDS Proxy serves RDS and Aurora only).
fn proxies(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{Cloud, Placement};
    for r in &model.resources {
        let (true, Some(span)) = (r.proxy, extra.proxy_spans.get(&r.name)) else { continue };
        let managed: Vec<&crate::model::Environment> = model
            .environments
            .iter()
            .filter(|e| e.resources.iter().any(|u| u.resource == r.id && u.placement == Placement::Managed))
            .collect();
        let off_aws = managed.iter().find(|e| !matches!(model.cloud_of(e), Cloud::Aws { .. }));
        let why = match (managed.is_empty(), off_aws) {
            (true, _) => "no environment runs it as RDS: it runs in the cluster".to_string(),
            (false, Some(e)) => format!("`{}` runs it managed outside AWS", e.name),
            (false, None) => continue,
        };
        diags.push(
            Diagnostic::new(Code::E0431, format!("`{}`: RDS Proxy needs the database managed on AWS", r.name))
                .label(*span, why),
        );
    }
}

/// E0350: a VPA that sets cpu and memory requests (`initial`) on a service an
/// HPA scales on cpu utilisation in some environment: the two would fight,
/// each new request changing the utilisation the HPA reads.
fn vpa_with_hpa(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{Replicas, VpaMode};
    for s in &model.services {
        let (Some(VpaMode::Initial), Some(span)) = (s.vpa, extra.vpa_spans.get(&s.name)) else { continue };
        let hpa_envs: Vec<&str> = model
            .environments
            .iter()
            .filter(|e| e.deployments.iter().any(|d| d.service == s.id && matches!(d.replicas, Replicas::Auto { .. })))
            .map(|e| e.name.as_str())
            .collect();
        if !hpa_envs.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::E0350,
                    format!("service `{}` has a VPA setting requests and an HPA in `{}`", s.name, hpa_envs.join("`, `")),
                )
                .label(*span, "sets the requests the HPA's cpu target is measured against")
                .help("Use `vpa = recommend` (recommendations only) with a replica range, or fixed replicas with `vpa = initial`."),
            );
        }
    }
}

/// `queue_scaling` in each environment a service is deployed to: a replica
/// range to scale in (E0376), and the resource where KEDA can measure it
/// (E0377): a Redis or Kafka the environment runs in the cluster (deployc
/// connects KEDA to it there), or an SQS queue from an EKS cluster this
/// output creates, with the AWS account named (`Model::sqs_scaling_gap`:
/// the operator's IAM role is the cluster root's, and the queue's URL and
/// the role's ARN need the account).
fn queue_scaling(model: &Model, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{Engine, Placement, Replicas, SqsScalingGap};
    for s in &model.services {
        let (Some(q), Some(span)) = (&s.queue_scaling, extra.queue_scaling_spans.get(&s.name)) else { continue };
        let r = model.resource(q.resource);
        let mut fixed = Vec::new();
        let mut managed = Vec::new();
        // The first environment where KEDA's operator could not read the queue.
        let mut sqs_gap = None;
        for e in &model.environments {
            let Some(d) = e.deployments.iter().find(|d| d.service == s.id) else { continue };
            if !matches!(d.replicas, Replicas::Auto { .. }) || !s.kind.long_running() {
                fixed.push(e.name.as_str());
            }
            if e.resources[r.id.index()].placement != Placement::InCluster {
                managed.push(e.name.as_str());
            }
            if sqs_gap.is_none() {
                sqs_gap = model.sqs_scaling_gap(e).map(|g| (g, e));
            }
        }
        if !fixed.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::E0376,
                    format!("queue scaling of `{}` without a replica range in `{}`", s.name, fixed.join("`, `")),
                )
                .label(*span, "KEDA scales between the bounds of `replicas`")
                .help(Code::E0376.info().help),
            );
        }
        let sqs_help = "KEDA's operator reads an SQS queue's depth as an IAM role the Terraform of the cluster creates: run the environment on an EKS cluster this output creates (`cluster = \"name\"`, not an `https://` URL), and name the AWS account (`cloud = aws { account = \"...\" }` or the ECR registry's).";
        let (why, help) = match (&r.engine, sqs_gap) {
            (Engine::Redis | Engine::Kafka, _) if !managed.is_empty() => (
                Some(format!("`{}` is managed in `{}`, not in the cluster", r.name, managed.join("`, `"))),
                Code::E0377.info().help,
            ),
            (Engine::Redis | Engine::Kafka, _) | (Engine::Queue, None) => (None, ""),
            (Engine::Queue, Some((gap, e))) => {
                let why = match gap {
                    SqsScalingGap::NotAws => format!("`{}` runs on a cluster outside AWS", e.name),
                    SqsScalingGap::ExistingCluster => {
                        format!("`{}` runs on an existing cluster, where no root creates KEDA's IAM role", e.name)
                    }
                    SqsScalingGap::NoAccount => {
                        "the program names no AWS account (the queue's URL and KEDA's role ARN hold it)".to_string()
                    }
                };
                (Some(format!("`{}` is an SQS queue and {why}", r.name)), sqs_help)
            }
            _ => (Some(format!("`{}` is a {}, not a queue", r.name, r.engine.word())), Code::E0377.info().help),
        };
        if let Some(why) = why {
            diags.push(
                Diagnostic::new(Code::E0377, format!("KEDA cannot measure the depth of `{}` here", r.name))
                    .label(*span, why)
                    .help(help),
            );
        }
    }
}

/// A service that reaches a resource through AWS's APIs (a queue, a bucket,
/// a managed Redis) runs as a ServiceAccount annotated with its IAM role's
/// ARN (IRSA, `plan::irsa`). The ARN needs the AWS account (W0018), and the
/// role's name `<project>-<env>-<account>` must fit IAM's 64 characters
/// (E0421); without either, the pods get no credentials.
fn aws_identities(model: &Model, graph: &Graph, extra: &Extra, diags: &mut Diagnostics) {
    use crate::model::{Cloud, Placement};
    let mut no_account = BTreeSet::new();
    let mut too_long = BTreeSet::new();
    // Environments on GKE or AKS have no IRSA role.
    for e in model.environments.iter().filter(|e| matches!(model.cloud_of(e), Cloud::Aws { .. })) {
        for d in &e.deployments {
            let s = model.service(d.service);
            let used: Vec<&crate::model::Resource> = graph
                .targets(Node::Service(s.id), Edge::Uses)
                .into_iter()
                .filter_map(|n| match n {
                    Node::Resource(r) => Some(model.resource(r)),
                    _ => None,
                })
                .filter(|r| r.engine.reached_through_api(e.resources[r.id.index()].placement == Placement::Managed))
                .collect();
            let Some(first) = used.first() else { continue };
            if model.aws_account().is_none() && no_account.insert(s.name.clone()) {
                diags.push(
                    Diagnostic::new(
                        Code::W0018,
                        format!(
                            "`{}` uses {} `{}` through AWS's API, but its ServiceAccount cannot name its IAM role: the program names no AWS account",
                            s.name,
                            first.engine.word(),
                            first.name
                        ),
                    )
                    .label_opt(extra.use_spans.get(&(s.name.clone(), first.name.clone())).copied(), "needs AWS credentials")
                    .label_opt(model.project.span, "no `account` here")
                    .help(Code::W0018.info().help),
                );
            }
            let account = s.pod.service_account.as_deref().unwrap_or(&s.name);
            let role = model.irsa_role_name(&e.name, account);
            if role.len() > crate::model::IAM_ROLE_NAME_MAX && too_long.insert(role.clone()) {
                diags.push(
                    Diagnostic::new(
                        Code::E0421,
                        format!(
                            "the IAM role of ServiceAccount `{account}` in `{}` would be named `{role}`, {} characters (IAM allows {})",
                            e.name,
                            role.len(),
                            crate::model::IAM_ROLE_NAME_MAX
                        ),
                    )
                    .label_opt(s.span, "its pods assume that role")
                    .help(Code::E0421.info().help),
                );
            }
        }
    }
}

/// A port the mesh's sidecar takes in every pod (E0390): the application
/// could not bind it, or the sidecar could not.
fn mesh_ports(model: &Model, diags: &mut Diagnostics) {
    let Some(mesh) = model.project.mesh else { return };
    for s in &model.services {
        let ports =
            s.port.into_iter().map(|p| ("port".to_string(), p)).chain(s.ports.iter().map(|p| (p.name.clone(), p.port)));
        for (name, port) in ports {
            if mesh.reserved_ports().contains(&port) {
                diags.push(
                    Diagnostic::new(
                        Code::E0390,
                        format!("port {port} of `{}` ({name}) is taken by the {} sidecar", s.name, mesh.word()),
                    )
                    .label_opt(s.span, "declared here")
                    .label_opt(model.project.span, "the mesh injects its sidecar into this service's pods")
                    .help(format!(
                        "Move the service off the ports the {} sidecar listens on: {}.",
                        mesh.word(),
                        mesh.reserved_ports().iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        }
    }
}
