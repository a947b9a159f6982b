//! How the architecture page names things: products, strategies, promotion
//! rules, durations. Plain functions of the model, shared by the tables and
//! the diagrams.

use crate::model::*;

/// `300000` → `5m`; whole units only, else the next smaller unit.
pub fn duration(ms: u64) -> String {
    const UNITS: &[(u64, &str)] =
        &[(604_800_000, "w"), (86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")];
    for (size, unit) in UNITS {
        if ms >= *size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// `10` → `10%`, `12.5` → `12.5%`.
pub fn percent(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{}%", p as i64)
    } else {
        format!("{p}%")
    }
}

fn surge(s: &Surge) -> String {
    match s {
        Surge::Percent(p) => percent(*p),
        Surge::Count(n) => n.to_string(),
    }
}

/// The weights of a canary: `10% → 30% → 100%`.
pub fn canary_weights(steps: &[Step]) -> String {
    let w: Vec<String> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Weight(w) => Some(percent(*w)),
            _ => None,
        })
        .collect();
    w.join(" → ")
}

fn analysis(a: &Option<Analysis>) -> Option<String> {
    a.as_ref().map(|a| {
        let provider = a.provider.as_deref().unwrap_or("metrics");
        format!("analysis by {provider}: success rate ≥ {}", percent(a.success_rate))
    })
}

/// A strategy in a few words, for diagrams: `Canary 10% → 30% → 100%`.
pub fn strategy_short(s: &Strategy) -> String {
    match &s.kind {
        StrategyKind::Rolling { .. } => "Rolling update".into(),
        StrategyKind::Canary { steps, .. } => format!("Canary {}", canary_weights(steps)),
        StrategyKind::BlueGreen { .. } => "Blue-green (preview + active)".into(),
    }
}

/// A strategy with its parameters, for the environment table.
pub fn strategy_long(s: &Strategy) -> String {
    let mut details = Vec::new();
    let head = match &s.kind {
        StrategyKind::Rolling { max_surge, max_unavailable } => {
            details.push(format!("max surge {}, max unavailable {}", surge(max_surge), surge(max_unavailable)));
            "Rolling update".to_string()
        }
        StrategyKind::Canary { steps, analysis: a, abort_error_rate, abort_latency_ms } => {
            let mut pauses: Vec<String> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Pause(Some(ms)) => Some(format!("pause {}", duration(*ms))),
                    Step::Pause(None) => Some("manual pause".to_string()),
                    _ => None,
                })
                .collect();
            pauses.dedup();
            details.extend(pauses);
            if steps.iter().any(|s| matches!(s, Step::Analysis)) {
                details.extend(analysis(a));
            }
            if let Some(e) = abort_error_rate {
                details.push(format!("abort above {} errors", percent(*e)));
            }
            if let Some(l) = abort_latency_ms {
                details.push(format!("abort above {} latency", duration(*l)));
            }
            format!("Canary {}", canary_weights(steps))
        }
        StrategyKind::BlueGreen {
            auto_promote,
            auto_promote_after_ms,
            scale_down_delay_ms,
            analysis: a,
            analyze_after_switch,
        } => {
            details.push(match (auto_promote, auto_promote_after_ms) {
                (_, Some(ms)) => format!("switches automatically after {}", duration(*ms)),
                (true, None) => "switches automatically when the preview is ready".to_string(),
                (false, None) => "switch by manual promotion".to_string(),
            });
            details.extend(analysis(a));
            if *analyze_after_switch {
                details.push("analysis again after the switch, switching back on failure".to_string());
            }
            details.push(format!("old version kept {}", duration(*scale_down_delay_ms)));
            "Blue-green (preview + active)".to_string()
        }
    };
    let mut out = head;
    if !details.is_empty() {
        out = format!("{out}; {}", details.join("; "));
    }
    if let Some(n) = &s.name {
        out = format!("{out} (strategy `{n}`)");
    }
    out
}

/// A strategy in one or two words, inside a sentence of the pipeline.
pub fn strategy_word(s: &Strategy) -> String {
    match &s.kind {
        StrategyKind::Rolling { .. } => "rolling".into(),
        StrategyKind::Canary { steps, .. } => format!("canary {}", canary_weights(steps)),
        StrategyKind::BlueGreen { .. } => "blue-green".into(),
    }
}

/// The steps run before deploying to `e` that do something: migrations only
/// when a service has them.
pub fn before_steps<'m>(model: &Model, e: &'m Environment) -> Vec<&'m str> {
    let migrations = model.services.iter().any(|s| s.migrations.is_some());
    e.before.iter().filter(|b| **b != BeforeHook::Migrations || migrations).map(|b| b.word()).collect()
}

/// How an environment receives a release.
pub fn promotion(model: &Model, env: &Environment) -> String {
    let mut s = match &env.promote {
        Promotion::OnPush(b) => format!("automatic on push to {}", crate::plan::branches::listed(b)),
        Promotion::OnTag(p) => format!("automatic on tags `{p}`"),
        Promotion::Manual { from: Some(f) } => format!("manual, from `{}`", model.env(*f).name),
        Promotion::Manual { from: None } => "manual".to_string(),
    };
    if !env.approvers.is_empty() {
        s.push_str(&format!(", approved by {}", env.approvers.join(", ")));
    }
    s
}

pub fn trigger(t: &Trigger) -> String {
    match t {
        Trigger::PullRequest => "pull requests".into(),
        Trigger::Push(None) => "pushes".into(),
        Trigger::Push(Some(b)) => format!("pushes to `{b}`"),
        Trigger::Tag(p) => format!("tags `{p}`"),
        Trigger::Schedule(c) => format!("schedule `{c}`"),
        Trigger::Manual => "manual runs".into(),
    }
}

/// The hosting service of a repository address.
pub fn repo_host(repository: &str) -> &'static str {
    let host = repository.trim_start_matches("https://").split('/').next().unwrap_or("");
    match host {
        "github.com" => "GitHub",
        "gitlab.com" => "GitLab",
        "bitbucket.org" => "Bitbucket",
        _ => "Git",
    }
}

pub fn ci(provider: PipelineProvider) -> &'static str {
    match provider {
        PipelineProvider::GithubActions => "GitHub Actions",
        PipelineProvider::Jenkins => "Jenkins",
        PipelineProvider::Gitlab => "GitLab CI",
    }
}

/// The registry's product name and where it is.
pub fn registry(r: &Registry) -> (&'static str, String) {
    match r {
        Registry::Ecr { region, account } => (
            "AWS ECR",
            match account {
                Some(a) => format!("{a} · {region}"),
                None => region.clone(),
            },
        ),
        Registry::Ghcr { owner } => ("GitHub Container Registry", format!("ghcr.io/{owner}")),
        Registry::DockerHub { namespace } => ("Docker Hub", format!("docker.io/{namespace}")),
    }
}

/// The managed Kubernetes of a cloud.
pub fn kubernetes(c: &Cloud) -> &'static str {
    match c {
        Cloud::Aws { .. } => "AWS EKS",
        Cloud::Gcp { .. } => "Google GKE",
        Cloud::Azure { .. } => "Azure AKS",
    }
}

pub fn cloud(c: &Cloud) -> &'static str {
    match c {
        Cloud::Aws { .. } => "AWS",
        Cloud::Gcp { .. } => "Google Cloud",
        Cloud::Azure { .. } => "Azure",
    }
}

/// The cluster an environment deploys to: ArgoCD's own, or a host.
pub fn cluster(url: &str) -> String {
    if url == "https://kubernetes.default.svc" {
        "in-cluster (ArgoCD's own)".to_string()
    } else {
        url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_string()
    }
}

/// What a gate checks.
pub fn gate_checks(g: &Gate) -> String {
    let severity = format!("fails on {} and above", g.fail_on);
    match g.kind.as_str() {
        "secrets" => "secrets committed to the repository".into(),
        "sast" => format!("static analysis of the code, {severity}"),
        "sca" => format!("known vulnerabilities in dependencies, {severity}"),
        "container" => format!("vulnerabilities in the container images, {severity}"),
        "iac" => format!("infrastructure-as-code misconfigurations, {severity}"),
        "license" => "licences of the dependencies".into(),
        "coverage" => format!("test coverage of at least {}", percent(g.min.unwrap_or(70.0))),
        "lint" => "lint rules".into(),
        "types" => "type check".into(),
        "tests" => "the test suites".into(),
        other => other.to_string(),
    }
}

/// An integration's product and what it is for.
pub fn integration(i: &Integration) -> (&'static str, String) {
    match &i.kind {
        IntegrationKind::Slack { channel, events, .. } => {
            ("Slack", format!("notifications to {channel} ({})", words_of(events)))
        }
        IntegrationKind::Jira { url, project, .. } => ("Jira", format!("deployment tracking in {project} ({url})")),
        IntegrationKind::PagerDuty { severity, .. } => ("PagerDuty", format!("incident alerts, severity {severity}")),
        IntegrationKind::NewRelic { region, .. } => ("New Relic", format!("APM and canary analysis ({region} region)")),
        IntegrationKind::Datadog { site, .. } => ("Datadog", format!("APM, metrics and canary analysis ({site})")),
        IntegrationKind::Sentry { .. } => ("Sentry", "error tracking and release markers".into()),
        IntegrationKind::Codecov { .. } => ("Codecov", "coverage reports from CI".into()),
        IntegrationKind::Opsgenie { severity, region, .. } => {
            ("Opsgenie", format!("alerts from Alertmanager, severity {severity} and above ({region} instance)"))
        }
    }
}

pub fn secret_store(s: &SecretStore) -> Option<(&'static str, String)> {
    match s {
        SecretStore::Kubernetes => None,
        SecretStore::SealedSecrets { controller_namespace, .. } => {
            Some(("Sealed Secrets", format!("encrypted secrets in Git, controller in `{controller_namespace}`")))
        }
        SecretStore::AwsSecretsManager { region, prefix } => {
            Some(("AWS Secrets Manager", format!("secrets under `{prefix}/` in {region}, through External Secrets")))
        }
        SecretStore::Vault { address, path, .. } => {
            Some(("HashiCorp Vault", format!("secrets under `{path}` at {address}, through External Secrets")))
        }
        SecretStore::GcpSecretManager { project } => Some((
            "Google Secret Manager",
            format!(
                "secrets `<project>-<env>-<name>` in project {project}, through External Secrets and Workload Identity"
            ),
        )),
    }
}

/// A resource's engine as people name it.
pub fn engine(r: &Resource) -> String {
    let name = match r.engine {
        Engine::Postgres if r.aurora => "Aurora PostgreSQL",
        Engine::Postgres => "PostgreSQL",
        Engine::Redis => "Redis",
        Engine::MongoDb => "MongoDB",
        Engine::Queue => "queue",
        Engine::Bucket => "object storage",
        Engine::Kafka => "Kafka",
    };
    if r.version.is_empty() || !r.engine.can_run_in_cluster() {
        name.to_string()
    } else {
        format!("{name} {}", r.version)
    }
}

/// `536870912` → `512Mi`.
pub fn bytes(b: u64) -> String {
    const UNITS: &[(u64, &str)] = &[(1 << 40, "Ti"), (1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")];
    for (size, unit) in UNITS {
        if b >= *size && b % size == 0 {
            return format!("{}{unit}", b / size);
        }
    }
    b.to_string()
}

pub fn replicas(r: Replicas) -> String {
    match r {
        Replicas::Fixed(n) => n.to_string(),
        Replicas::Auto { min, max } => format!("{min}–{max} (autoscaled)"),
    }
}

/// Markdown table cell text: no pipes, no line breaks.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Environments in the order releases reach them: each environment that
/// starts a flow (a push to a branch first, then manual-only, then tags),
/// followed by the chain of environments promoted from it.
pub fn delivery_order(model: &Model) -> Vec<&Environment> {
    let rank = |e: &Environment| match e.promote {
        Promotion::OnPush(_) => 0,
        Promotion::Manual { from: None } => 1,
        Promotion::OnTag(_) => 2,
        Promotion::Manual { from: Some(_) } => 3,
    };
    let mut roots: Vec<&Environment> = model.environments.iter().filter(|e| e.promoted_from(model).is_none()).collect();
    // Among roots of one rank, production last (GitFlow: develop → staging
    // before main → production).
    roots.sort_by_key(|e| (rank(e), e.production));
    let mut out: Vec<&Environment> = Vec::new();
    fn visit<'m>(model: &'m Model, e: &'m Environment, out: &mut Vec<&'m Environment>) {
        if out.iter().any(|x| x.id == e.id) {
            return;
        }
        out.push(e);
        for next in model.environments.iter().filter(|n| n.promoted_from(model).is_some_and(|f| f.id == e.id)) {
            visit(model, next, out);
        }
    }
    for r in roots {
        visit(model, r, &mut out);
    }
    // Anything the walk missed keeps its model order.
    for e in &model.environments {
        if !out.iter().any(|x| x.id == e.id) {
            out.push(e);
        }
    }
    out
}

/// Schema words, comma-separated.
pub fn words_of<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

/// A program string for inside a Markdown code span: a backtick (which
/// would end the span) or a control character becomes `?`.
pub fn code(s: &str) -> String {
    s.chars().map(|c| if c == '`' || c.is_control() { '?' } else { c }).collect()
}

/// Items as a sentence's list: `a`, `a or b`, `a, b or c`.
pub fn list_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
