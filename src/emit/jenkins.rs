//! The Jenkins target: when the program's pipeline provider is Jenkins, a
//! declarative `jenkins/Jenkinsfile` with the stages of the GitHub
//! workflows: Build, Test and Code Quality per service (parallel), the
//! Security Scan gates, Push Images, then one stage per environment along
//! the promotion path (Deploy, Canary Release, Blue-Green Deploy, with an
//! `input` approval where promotion is manual or `approvers` are named) and a Release stage that
//! promotes a paused rollout after a second approval.
//!
//! The Jenkinsfile is text, so it comes from a minijinja template
//! (`Jenkinsfile.j2`); the shell scripts inside are built here, shared with
//! the GitHub target where they are the same.

use super::{Artifact, Target};
use crate::model::{
    Environment, Gate, GateTool, IntegrationKind, Model, Promotion, Registry, Service, StrategyKind, TagPolicy, Trigger,
};
use crate::pins;
use crate::plan::branches;
use crate::plan::changes;
use crate::plan::delivery::{
    self as deploy, check_command, coverage_script, covered, decisions_path, dedup, is_quality, pct, requirement_files,
    tag_order, test_commands, Backup, BuildCache, Check, Outcome, Suite, IMAGE_MIRROR_KEY, MIRROR_IMAGE_SH,
    MIRROR_LOGIN_SH, SET_TAG,
};
use crate::plan::env::image_repository;
use crate::plan::gates::threshold;
use crate::plan::risk;
use crate::plan::Plan;
use serde::Serialize;

const TEMPLATE: &str = include_str!("Jenkinsfile.j2");

/// What the Jenkinsfile's builders read.
struct Cx<'m> {
    model: &'m Model,
}

impl<'m> Cx<'m> {
    /// The services CI builds (a prebuilt image is neither linted nor built).
    fn services(&self) -> impl Iterator<Item = crate::model::Built<'m>> {
        self.model.built_services()
    }
    fn gitops_branch(&self) -> String {
        deploy::gitops_branch(self.model)
    }
}

#[derive(Serialize)]
struct Ctx {
    project: String,
    header: String,
    timeout_hours: u64,
    crons: Vec<String>,
    environment: Vec<(String, String)>,
    tag_script: String,
    services: Vec<Svc>,
    quality: Vec<GateCx>,
    security: Vec<GateCx>,
    push_when: String,
    push_env: Vec<String>,
    login: String,
    /// The copies to the Artifact Registry repository the GKE clusters
    /// pull from (`plan::registry::Mirror`): the login with the service
    /// account's key file and one copy per image pushed.
    mirror: Option<String>,
    /// With incremental builds, the step that decides what to push.
    scope: Option<String>,
    branch: String,
    envs: Vec<EnvCx>,
    /// Whether a service has integration tests (the Integration Test stage).
    integration: bool,
}

#[derive(Serialize)]
struct Svc {
    name: String,
    dir: String,
    install: Option<String>,
    build: Option<String>,
    tests: Vec<String>,
    /// The integration stage's script: sidecar containers, then the commands.
    integration: Option<String>,
    coverage: Option<String>,
    coverage_min: String,
    quality: Vec<String>,
    image_build: String,
    image_push: String,
}

#[derive(Serialize)]
struct GateCx {
    title: String,
    body: String,
}

#[derive(Serialize)]
struct Input {
    message: String,
    ok: String,
    submitter: String,
}

#[derive(Serialize, Clone)]
struct Notice {
    credentials: String,
    script: String,
}

#[derive(Serialize)]
struct ReleaseStage {
    title: String,
    /// The approval runs in a stage of its own, for high-risk releases only
    /// (`env.RELEASE_RISK`, set by the deploy stage's risk step).
    approval: Option<String>,
    message: String,
    submitter: String,
    script: String,
    after: Vec<String>,
    record: String,
    rollback: String,
    notify_success: Vec<Notice>,
    notify_failure: Vec<Notice>,
    notify_rollback: Vec<Notice>,
}

#[derive(Serialize)]
struct EnvCx {
    name: String,
    title: String,
    when: String,
    input: Option<Input>,
    app: String,
    kustomization: String,
    images: String,
    before: Vec<String>,
    release: String,
    wait: String,
    after: Vec<String>,
    /// Moves the environment's verified tag (empty while a paused rollout
    /// awaits promotion: the release stage records it).
    record: String,
    rollback: String,
    notify_success: Vec<Notice>,
    notify_failure: Vec<Notice>,
    notify_rollback: Vec<Notice>,
    release_stage: Option<ReleaseStage>,
    /// The canary runs for high-risk releases only (`risk { ... }`).
    risky: bool,
}

/// The git identity of the pipeline's commits and the remote (through the
/// `git-push` credential helper), for the plan's shell (`$remote`), and the
/// file the release step records its commits in (one per environment, in
/// the git directory so no commit ever holds it), read back by the record
/// and rollback steps (`commit=`, `head=`).
const GIT_SETUP: &str = "git config user.name jenkins\ngit config user.email jenkins@localhost\nremote=origin\nRELEASE_OUT=\"$(git rev-parse --git-dir)/deployc-release-$ENVIRONMENT.env\"\n";

/// Where the scope of an incremental build is kept between stages.
/// Where the risk step keeps its decision between stages (`plan::risk`).
const RISK_FILE: &str = "RISK_OUT=\"$(git rev-parse --git-dir)/deployc-risk-$ENVIRONMENT.env\"\n";

const SCOPE_FILE: &str = "SCOPE_FILE=\"$(git rev-parse --git-dir)/deployc-scope.env\"\n";

/// The scope step of the Push Images stage (`plan::changes`): which
/// environments this branch or tag deploys (the stages' `when` decide the
/// same with Ant globs) and which services to push. Reads the deployed
/// kustomizations at the GitOps branch's head (fetched with the
/// `git-push` credentials) and the registry (logged in before).
fn scope_step(m: &crate::model::Model) -> String {
    let script = format!(
        "SCOPE_OUT=\"$(git rev-parse --git-dir)/deployc-scope.env\"\n: > \"$SCOPE_OUT\"\nif [ -n \"${{TAG_NAME:-}}\" ]; then REF_KIND=tag; REF_NAME=\"$TAG_NAME\"; else REF_KIND=branch; REF_NAME=\"$BRANCH_NAME\"; fi\n# A failed fetch leaves the ref missing: every service is then built.\ngit fetch --quiet origin \"+refs/heads/$GITOPS_BRANCH:refs/remotes/origin/$GITOPS_BRANCH\" || echo \"could not fetch $GITOPS_BRANCH\"\nGITOPS_REF=\"origin/$GITOPS_BRANCH\"\n{}",
        changes::scope_script()
    );
    let env = [
        ("ROUTES", changes::routes_var(m)),
        ("INCREMENTAL", "true".to_string()),
        ("SERVICES", changes::services_var(m)),
        ("SHARED", changes::shared_var(m)),
        ("IGNORED", changes::ignored(m)),
        ("KUSTOMIZATIONS", changes::kustomizations_var(m)),
        ("GITOPS_BRANCH", deploy::gitops_branch(m)),
    ];
    format!("withCredentials([gitUsernamePassword(credentialsId: 'git-push')]) {{\n{}\n}}", sh_env(&script, &env))
}

/// Reads the refs the release step recorded into `$RELEASED`.
const READ_RELEASED: &str =
    "released=\"\"\nif [ -f \"$RELEASE_OUT\" ]; then . \"$RELEASE_OUT\"; fi\nRELEASED=\"$released\"\n";

/// Records the released refs (`image:tag`, no quote in either) for later steps.
const RECORD_RELEASED: &str = "printf \"released='%s'\\n\" \"${released# }\" >> \"$RELEASE_OUT\"\n";

/// Reads the release step's record into `DEPLOY_COMMIT` and `VERIFIED_COMMIT`.
const READ_RELEASE: &str = "commit=\"\"\nhead=\"\"\nif [ -f \"$RELEASE_OUT\" ]; then . \"$RELEASE_OUT\"; fi\nDEPLOY_COMMIT=\"$commit\"\nVERIFIED_COMMIT=\"$head\"\n";

/// A shell step in Groovy: single-quoted (no Groovy interpolation), with
/// backslashes and quotes escaped; multi-line scripts in a `'''` string,
/// run by bash (Jenkins uses /bin/sh unless a script names its shell),
/// whose lines stay unindented (heredocs need their terminator in column 0).
fn sh(script: &str) -> String {
    let body = script.replace('\\', "\\\\");
    if script.contains('\n') {
        format!("sh '''#!/usr/bin/env bash\nset -eo pipefail\n{}\n'''", body.replace("'''", "\\'\\'\\'"))
    } else {
        format!("sh {}", groovy(script))
    }
}

fn credential(id: &str, var: &str) -> String {
    format!("string(credentialsId: {}, variable: '{var}')", groovy(id))
}

/// A Groovy single-quoted string literal holding exactly `s`: no
/// interpolation, `\\` and `'` escaped, control characters as escapes, so
/// no program string can end the literal or the line it is on.
pub fn groovy(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A shell step that reads program values from environment variables
/// (`withEnv`, each binding a Groovy single-quoted string), never from its
/// own text.
fn sh_env(script: &str, env: &[(&str, String)]) -> String {
    if env.is_empty() {
        return sh(script);
    }
    let binds: Vec<String> = env.iter().map(|(k, v)| groovy(&format!("{k}={v}"))).collect();
    format!("withEnv([{}]) {{\n{}\n}}", binds.join(", "), sh(script))
}

/// A comment line that stays one line whatever the program's strings hold.
/// Groovy reads `\uXXXX` escapes everywhere in a source file, comments
/// included, so backslashes are doubled (an even run is never an escape).
fn comment(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().replace('\\', "\\\\")
}

/// The Jenkinsfile, or nothing when the pipeline runs on another provider.
pub fn emit(plan: &Plan) -> Vec<Artifact> {
    let model = plan.model;
    if model.pipeline.provider != crate::model::PipelineProvider::Jenkins || model.built_services().next().is_none() {
        return Vec::new();
    }
    let cx = Cx { model };
    let ctx = context(&cx);
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("sh", |s: String| sh(&s));
    env.add_filter("g", |s: String| groovy(&s));
    env.add_filter("block", |s: String, n: usize| indent(&[s], n).trim_start().to_string());
    let contents = env
        .template_from_str(TEMPLATE)
        .and_then(|t| t.render(&ctx))
        .unwrap_or_else(|e| format!("// deployc: the Jenkinsfile template failed: {e}\n"));
    let mut contents = contents.trim_end().to_string();
    contents.push('\n');
    vec![Artifact::new(Target::Jenkins, None, "jenkins/Jenkinsfile".into(), contents)]
}

/// Indents Groovy lines by block depth from `n` spaces; the bodies of
/// multi-line `sh \'\'\'` strings stay as they are (they are shell text).
fn indent(lines: &[String], n: usize) -> String {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_sh = false;
    for l in lines.iter().flat_map(|l| l.split('\n')) {
        if in_sh {
            out.push(l.to_string());
            if l == "\'\'\'" {
                in_sh = false;
            }
            continue;
        }
        let t = l.trim();
        if t.starts_with('}') {
            depth = depth.saturating_sub(1);
        }
        out.push(format!("{}{t}", " ".repeat(n + 2 * depth)));
        if t.ends_with('{') {
            depth += 1;
        }
        if t.starts_with("sh '''") {
            in_sh = true;
        }
    }
    out.join("\n")
}

/// A gate as a parallel stage body: its commands, in the covered services'
/// folders, tolerated (UNSTABLE) when the gate is not blocking.
fn gate_body(cx: &Cx, g: &Gate) -> String {
    let covered = covered(cx.model, g);
    let in_dir = |s: &Service, step: String| format!("dir({}) {{\n{step}\n}}", groovy(&s.build_context));
    let in_dirs = |cmd: &str| -> Vec<String> { covered.iter().map(|s| in_dir(s, sh(cmd))).collect() };
    let sev_list = threshold(g.tool, &g.fail_on).unwrap_or_default();
    let mut creds: Vec<String> = Vec::new();
    let mut lines: Vec<String> = match g.tool {
        GateTool::Gitleaks => vec![sh("gitleaks detect --source . --redact --exit-code 1 --report-format sarif --report-path gitleaks.sarif")],
        GateTool::Trufflehog => vec![sh("trufflehog git file://. --results=verified,unknown --fail")],
        GateTool::DetectSecrets => vec![sh("detect-secrets scan > detect-secrets.json\njq -e '.results == {}' detect-secrets.json > /dev/null || { jq '.results' detect-secrets.json; exit 1; }")],
        GateTool::Codeql => {
            let langs: Vec<&str> = {
                let mut v: Vec<&str> = covered
                    .iter()
                    .map(|s| match s.toolchain.family.as_str() {
                        "node" => "javascript-typescript",
                        "python" => "python",
                        "go" => "go",
                        _ => "java-kotlin",
                    })
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            vec![sh(&format!(
                "for lang in {}; do\n  codeql database create \"codeql-db-$lang\" --language=\"$lang\" --source-root . --overwrite\n  codeql database analyze \"codeql-db-$lang\" --format=sarif-latest --output=\"codeql-$lang.sarif\"\ndone",
                langs.join(" ")
            ))]
        }
        GateTool::Semgrep => {
            let sev = match g.fail_on.as_str() {
                "low" => "",
                "medium" => " --severity ERROR --severity WARNING",
                _ => " --severity ERROR",
            };
            vec![sh_env(
                &format!("semgrep scan --config \"$SEMGREP_RULES\" --metrics off --error{sev} --sarif --output semgrep.sarif"),
                &[("SEMGREP_RULES", g.config.clone().unwrap_or_else(|| "p/default".into()))],
            )]
        }
        GateTool::Sonarqube => vec![format!(
            "withSonarQubeEnv('sonarqube') {{\n{}\n}}",
            sh_env(
                "sonar-scanner -Dsonar.projectKey=\"$PROJECT_KEY\" -Dsonar.qualitygate.wait=true",
                &[("PROJECT_KEY", cx.model.project.name.clone())]
            )
        )],
        GateTool::Bandit => {
            let level = threshold(g.tool, &g.fail_on).unwrap_or_default();
            in_dirs(&format!("bandit -r . --severity-level {level}"))
        }
        GateTool::Grype => {
            if g.services.is_empty() {
                vec![sh(&format!("grype dir:. --fail-on {}", g.fail_on))]
            } else {
                in_dirs(&format!("grype dir:. --fail-on {}", g.fail_on))
            }
        }
        GateTool::Snyk => {
            creds.push(credential("snyk-token", "SNYK_TOKEN"));
            in_dirs(&format!("snyk test --severity-threshold={}", g.fail_on))
        }
        GateTool::Safety | GateTool::PipAudit => covered
            .iter()
            .map(|s| {
                let files: Vec<String> =
                    requirement_files(s.toolchain).iter().map(|f| format!("-r {f}")).collect();
                let cmd = if g.tool == GateTool::Safety {
                    "safety check $REQUIREMENTS --full-report"
                } else {
                    "pip-audit $REQUIREMENTS --desc"
                };
                in_dir(s, sh_env(cmd, &[("REQUIREMENTS", files.join(" "))]))
            })
            .collect(),
        GateTool::NpmAudit => {
            let level = threshold(g.tool, &g.fail_on).unwrap_or_default();
            in_dirs(&format!("npm audit --audit-level={level}"))
        }
        GateTool::Trivy => covered
            .iter()
            .map(|s| {
                if g.kind == "container" {
                    sh_env(
                        &format!("trivy image --exit-code 1 --severity {} \"$IMAGE:$IMAGE_TAG\"", sev_list),
                        &[("IMAGE", image_repository(cx.model, &s.image))],
                    )
                } else {
                    sh_env(
                        &format!("trivy fs --exit-code 1 --severity {} \"$CONTEXT\"", sev_list),
                        &[("CONTEXT", s.build_context.clone())],
                    )
                }
            })
            .collect(),
        // The findings the output waives by design (plan/waivers.rs).
        GateTool::Checkov => match crate::plan::waivers::baseline_in_repo(cx.model) {
            Some(b) => vec![sh_env("checkov --directory . --quiet --compact --baseline \"$BASELINE\"", &[("BASELINE", b)])],
            None => vec![sh("checkov --directory . --quiet --compact")],
        },
        GateTool::Tfsec => vec![sh(&format!("tfsec . --minimum-severity {}", threshold(g.tool, &g.fail_on).unwrap_or_default()))],
        GateTool::LicenseFinder => {
            let decisions = g.config.clone().unwrap_or_else(|| "doc/dependency_decisions.yml".into());
            covered
                .iter()
                .map(|s| {
                    let path = decisions_path(&s.build_context, &decisions);
                    in_dir(s, sh_env("license_finder --decisions-file \"$DECISIONS\"", &[("DECISIONS", path)]))
                })
                .collect()
        }
        GateTool::Coverage | GateTool::Tests => covered
            .iter()
            .flat_map(|s| {
                let tc = s.toolchain;
                test_commands(tc).into_iter().map(move |(_, c)| in_dir(s, sh(&c)))
            })
            .collect(),
        tool @ (GateTool::Eslint | GateTool::Ruff | GateTool::Flake8 | GateTool::GolangciLint | GateTool::Tsc | GateTool::Mypy) => in_dirs(&check_command(tool).unwrap_or_default()),
    };
    if !creds.is_empty() {
        let mut wrapped = vec![format!("withCredentials([{}]) {{", creds.join(", "))];
        wrapped.append(&mut lines);
        wrapped.push("}".into());
        lines = wrapped;
    }
    if !g.blocking {
        let mut wrapped = vec!["catchError(buildResult: 'SUCCESS', stageResult: 'UNSTABLE') {".to_string()];
        wrapped.append(&mut lines);
        wrapped.push("}".into());
        lines = wrapped;
    }
    format!("          steps {{\n{}\n          }}", indent(&lines, 12))
}

/// The Groovy `when` condition of an environment's chain root trigger.
fn when(model: &Model, env: &Environment) -> String {
    let mut e = env;
    for _ in 0..model.environments.len() {
        match &e.promote {
            Promotion::OnPush(bs) => {
                let conds: Vec<String> = bs
                    .iter()
                    .map(|b| match branches::is_glob(b) {
                        // An Ant glob: `*` stays within one `/`-separated part, `**` spans them.
                        true => format!("branch pattern: {}, comparator: 'GLOB'", groovy(b)),
                        false => format!("branch {}", groovy(b)),
                    })
                    .collect();
                return match conds.len() {
                    1 => conds.join(""),
                    _ => format!("anyOf {{ {} }}", conds.join("; ")),
                };
            }
            Promotion::OnTag(t) => return format!("tag {}", groovy(t)),
            Promotion::Manual { from } => match from.map(|f| model.env(f)) {
                Some(f) => e = f,
                None => break,
            },
        }
    }
    format!("branch {}", groovy(&model.project.branch))
}

/// The success, failure and rollback messages of an environment.
fn notices(cx: &Cx, env: &Environment) -> (Vec<Notice>, Vec<Notice>, Vec<Notice>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let mut back = Vec::new();
    // What happened, finished by the shell: "<project>: released <tag> to <env>".
    let what = format!("{}: released", cx.model.project.name);
    if let Some(r) = deploy::sentry_release(cx.model) {
        // The refs the release step recorded; after a success only.
        ok.push(Notice {
            credentials: credential(&r.token, "SENTRY_AUTH_TOKEN"),
            script: sh_env(
                &format!(
                    "RELEASE_OUT=\"$(git rev-parse --git-dir)/deployc-release-$ENVIRONMENT.env\"\n{READ_RELEASED}{}",
                    deploy::SENTRY_RELEASE_SH
                ),
                &[
                    ("SENTRY_CLI_VERSION", pins::tool("sentry-cli").to_string()),
                    ("SENTRY_ORG", r.org.clone()),
                    ("SENTRY_PROJECT", r.project.clone()),
                ],
            ),
        });
    }
    for id in &env.notify {
        let i = &cx.model.integrations[id.index()];
        match &i.kind {
            IntegrationKind::Slack { channel, webhook, events } => {
                let script = |text: &str| Notice {
                    credentials: credential(webhook, "SLACK_WEBHOOK_URL"),
                    script: sh_env(
                        "payload=$(jq -n --arg channel \"$CHANNEL\" --arg text \"$TEXT $IMAGE_TAG to $ENVIRONMENT$OUTCOME ($BUILD_URL)\" '{channel: $channel, text: $text}')\ncurl --fail --silent --show-error -X POST -H 'Content-Type: application/json' --data \"$payload\" \"$SLACK_WEBHOOK_URL\"",
                        &[("CHANNEL", channel.clone()), ("TEXT", what.clone()), ("OUTCOME", text.to_string())],
                    ),
                };
                if deploy::notify_success(events, env) {
                    ok.push(script(""));
                }
                if deploy::notify_failure(events) {
                    bad.push(script(" failed"));
                }
                if deploy::notify_rollback(events) {
                    back.push(script(" failed its checks and was rolled back"));
                }
            }
            IntegrationKind::Datadog { site, api_key, .. } => {
                let script = |alert: &str| Notice {
                    credentials: credential(api_key, "DD_API_KEY"),
                    script: sh_env(
                        &format!("payload=$(jq -n --arg title \"$TEXT $IMAGE_TAG to $ENVIRONMENT\" --arg alert {alert} --arg env \"env:$ENVIRONMENT\" '{{title: $title, text: $title, alert_type: $alert, tags: [$env, \"source:jenkins\"]}}')\ncurl --fail --silent --show-error -H 'Content-Type: application/json' -H \"DD-API-KEY: $DD_API_KEY\" --data \"$payload\" \"https://api.$DD_SITE/api/v1/events\""),
                        &[("TEXT", what.clone()), ("DD_SITE", site.clone())],
                    ),
                };
                ok.push(script("success"));
                bad.push(script("error"));
            }
            IntegrationKind::PagerDuty { routing_key, severity } => bad.push(Notice {
                credentials: credential(routing_key, "ROUTING_KEY"),
                script: sh_env(
                    "payload=$(jq -n --arg key \"$ROUTING_KEY\" --arg summary \"$TEXT $IMAGE_TAG to $ENVIRONMENT failed\" --arg severity \"$SEVERITY\" '{routing_key: $key, event_action: \"trigger\", payload: {summary: $summary, source: \"jenkins\", severity: $severity}}')\ncurl --fail --silent --show-error -H 'Content-Type: application/json' --data \"$payload\" https://events.pagerduty.com/v2/enqueue",
                    &[("TEXT", what.clone()), ("SEVERITY", severity.clone())],
                ),
            }),
            IntegrationKind::Jira { url, project, token } => ok.push(Notice {
                credentials: credential(token, "JIRA_AUTH"),
                script: sh_env(
                    "payload=$(jq -n --arg key \"$JIRA_PROJECT\" --arg summary \"$TEXT $IMAGE_TAG to $ENVIRONMENT\" '{fields: {project: {key: $key}, issuetype: {name: \"Task\"}, summary: $summary, labels: [\"deployment\"]}}')\ncurl --fail --silent --show-error -u \"$JIRA_AUTH\" -H 'Content-Type: application/json' --data \"$payload\" \"$JIRA_URL/rest/api/2/issue\"",
                    &[("TEXT", what.clone()), ("JIRA_PROJECT", project.clone()), ("JIRA_URL", url.trim_end_matches('/').to_string())],
                ),
            }),
            IntegrationKind::NewRelic { .. }
            | IntegrationKind::Sentry { .. }
            | IntegrationKind::Codecov { .. }
            | IntegrationKind::Opsgenie { .. } => {}
        }
    }
    (ok, bad, back)
}

fn env_cx(cx: &Cx, env: &Environment) -> EnvCx {
    let m = cx.model;
    let kind = match &env.strategy.kind {
        StrategyKind::Rolling { .. } => "Deploy",
        StrategyKind::Canary { .. } => "Canary Release",
        StrategyKind::BlueGreen { .. } => "Blue-Green Deploy",
    };
    // Approvers approve every deploy here, a push's too.
    let manual = matches!(env.promote, Promotion::Manual { .. }) || !env.approvers.is_empty();
    let submitter = env.approvers.join(",");
    let input = manual.then(|| Input {
        message: format!("Deploy {} to {}?", m.project.name, env.name),
        ok: "Deploy".into(),
        submitter: submitter.clone(),
    });
    // The workspace outlives the build: a record left by an earlier build
    // must never be what a failure here rolls back.
    let mut before = vec![sh("rm -f \"$(git rev-parse --git-dir)/deployc-release-$ENVIRONMENT.env\"")];
    let mut hooks = Vec::new();
    for b in deploy::backups(m, env) {
        match b {
            // In the sync itself, before the migrations: checked after it.
            Backup::Hook { job, .. } => hooks.push(sh_env(deploy::CHECK_BACKUP_HOOK, &[("JOB", job)])),
            Backup::Snapshot { id, script, .. } => before.push(sh_env(
                &format!("SNAPSHOT=\"$ID-predeploy-$BUILD_NUMBER\"\n{script}"),
                &[("ID", id), ("AWS_DEFAULT_REGION", deploy::aws_region(m))],
            )),
        }
    }
    let rule = risk::rule(m, env);
    if let Some(r) = rule {
        // Decided before the release commit, on the source commit; the
        // stages after read `env.RELEASE_RISK` and the file.
        let decide = sh_env(
            &format!("{GIT_SETUP}{RISK_FILE}rm -f \"$RISK_OUT\"\n{}", risk::risk_script()),
            &[
                ("RISK_PATHS", risk::paths_var(r)),
                ("RISK_TRAILER", r.trailer.clone()),
                ("IGNORED", changes::ignored(m)),
            ],
        );
        before.push(format!("withCredentials([gitUsernamePassword(credentialsId: 'git-push')]) {{\n{decide}\n}}"));
        before.push(format!(
            "script {{\nenv.RELEASE_RISK = sh(returnStdout: true, script: {}).trim()\n}}",
            groovy(&format!("{RISK_FILE}{}echo \"$RELEASE_RISK\"", risk::READ_RISK))
        ));
    }
    let incremental = m.pipeline.incremental;
    let pick = if incremental {
        format!("{SCOPE_FILE}{}{}", changes::READ_SCOPE, changes::release_sh("$IMAGE_TAG"))
    } else {
        "released=\"\"\nfor image in $IMAGES; do\n  set_tag \"$KUSTOMIZATION\" \"$image\" \"$IMAGE_TAG\"\n  released=\"$released $image:$IMAGE_TAG\"\ndone\n"
            .to_string()
    };
    let release = format!(
        "{GIT_SETUP}: > \"$RELEASE_OUT\"\n{SET_TAG}{pick}{RECORD_RELEASED}RELEASED=\"${{released# }}\"\n{}",
        deploy::COMMIT_RELEASE
    );
    let auto = matches!(env.promote, Promotion::OnPush(_));
    let start = if auto { "argocd app get \"$APP\" --refresh > /dev/null" } else { "argocd app sync \"$APP\" --async" };
    let paused = deploy::outcome(env) == Outcome::AwaitingPromotion;
    // A risk rule waits for the canary's first pause too: a low-risk
    // release is promoted in full from there.
    let flags = if paused || rule.is_some() {
        "--sync --health --suspended --operation"
    } else {
        "--sync --health --operation"
    };
    let wait = format!("{start}\nargocd app wait \"$APP\" {flags} --timeout {}", deploy::rollout_seconds(env));
    let mut checks = Vec::new();
    for c in deploy::checks(m, env) {
        match c {
            Check::Health { urls } => checks.push(sh_env(deploy::HEALTH_CHECK, &[("HEALTH_URLS", urls.join(" "))])),
            Check::Routes { urls } => checks.push(sh_env(deploy::SMOKE_TESTS, &[("ROUTES", urls.join(" "))])),
            Check::Verification if incremental => checks.push(sh(&format!(
                "{SCOPE_FILE}{}{}",
                changes::READ_SCOPE,
                changes::verify_sh("$IMAGE_TAG")
            ))),
            Check::Verification => checks.push(sh(
                "live=$(argocd app get \"$APP\" --output json | jq -r '.status.summary.images[]?')\nfor image in $IMAGES; do\n  grep -qxF \"$image:$IMAGE_TAG\" <<< \"$live\" || { echo \"$image:$IMAGE_TAG is not running\"; exit 1; }\ndone",
            )),
            Check::Suite(suite) => checks.push(suite_block(m, &suite)),
        }
    }
    let record_base =
        if rule.is_some() { format!("{RISK_FILE}{}{}", risk::READ_RISK, risk::RECORD_BASE) } else { String::new() };
    let record =
        sh(&format!("{GIT_SETUP}{READ_RELEASE}{}{}{record_base}", deploy::VERIFIED_TAG_SH, deploy::RECORD_VERIFIED));
    let rollback = sh_env(
        &format!("{GIT_SETUP}{READ_RELEASE}{}", deploy::ROLLBACK),
        &[
            ("ROLLOUTS", deploy::rollouts(m, env).join(" ")),
            ("AUTO_SYNC", auto.to_string()),
            ("TIMEOUT", deploy::rollout_seconds(env).to_string()),
        ],
    );
    let (notify_success, notify_failure, notify_rollback) = notices(cx, env);
    let mut after = hooks;
    if rule.is_some() {
        after.push(sh_env(
            &format!("{RISK_FILE}{}", risk::finish_sh(paused)),
            &[("ROLLOUTS", deploy::rollouts(m, env).join(" ")), ("TIMEOUT", deploy::rollout_seconds(env).to_string())],
        ));
    }
    let release_stage = paused.then(|| ReleaseStage {
        title: format!("{}: {}", if env.production { "Production Release" } else { "Release" }, env.name),
        approval: rule.map(|_| format!("Approve Canary: {}", env.name)),
        message: format!("Promote the paused rollout in {} to all traffic?", env.name),
        submitter: submitter.clone(),
        script: match rule {
            Some(_) => sh_env(
                &format!("{RISK_FILE}{}{}", risk::READ_RISK, risk::PROMOTE_SH),
                &[("TIMEOUT", deploy::rollout_seconds(env).to_string())],
            ),
            None => sh_env(deploy::PROMOTE_ROLLOUT, &[("TIMEOUT", deploy::rollout_seconds(env).to_string())]),
        },
        after: std::mem::take(&mut checks),
        record: record.clone(),
        rollback: rollback.clone(),
        notify_success: notify_success.clone(),
        notify_failure: notify_failure.clone(),
        notify_rollback: notify_rollback.clone(),
    });
    after.extend(checks);
    let (record, notify_success) = if paused { (String::new(), Vec::new()) } else { (record, notify_success) };
    EnvCx {
        name: env.name.clone(),
        title: format!("{kind}: {}", env.name),
        when: when(m, env),
        input,
        app: deploy::app_name(cx.model, env),
        kustomization: deploy::kustomization(cx.model, env),
        images: deploy::images(cx.model, env).join(" "),
        before,
        release,
        wait,
        after,
        record,
        rollback,
        notify_success,
        notify_failure,
        notify_rollback,
        release_stage,
        risky: rule.is_some(),
    }
}

/// A toolchain's suite against the deployed environment, in the service's
/// folder with `BASE_URL` bound (the agent has the language runtimes).
fn suite_block(m: &Model, suite: &Suite) -> String {
    let Some(b) = m.built(m.service(suite.service)) else { return String::new() };
    let tc = b.toolchain;
    let mut lines = Vec::new();
    if suite.install {
        lines.extend(tc.install.iter().map(|i| sh(i)));
    }
    lines.extend(suite.commands.iter().map(|c| sh(c)));
    let binds = groovy(&format!("BASE_URL={}", suite.base_url));
    format!("dir({}) {{\nwithEnv([{binds}]) {{\n{}\n}}\n}}", groovy(&suite.dir), lines.join("\n"))
}

/// The integration tests of a service on the agent's Docker: each database
/// or cache as a sidecar container published on a free loopback port,
/// waited for, removed on exit; the tests read its URL.
fn integration_script(m: &Model, s: &Service, commands: &[String]) -> String {
    let mut out = String::from(
        "containers=\"\"\ntrap 'if [ -n \"$containers\" ]; then docker rm --force $containers > /dev/null; fi' EXIT\n",
    );
    for t in deploy::test_services(m, s) {
        let env: String = t.container_env.iter().map(|(k, v)| format!(" --env {k}={v}")).collect();
        out.push_str(&format!(
            "c=$(docker run --detach --publish 127.0.0.1::{port}{env} {image})\ncontainers=\"$containers $c\"\nport=$(docker port \"$c\" {port}/tcp | head -n 1 | sed 's/.*://')\nfor attempt in $(seq 60); do docker exec \"$c\" {ready} > /dev/null 2>&1 && break; sleep 2; done\ndocker exec \"$c\" {ready} > /dev/null\nexport {var}=\"{url}\"\n",
            port = t.port,
            image = t.image,
            ready = t.ready,
            var = t.var,
            url = t.url_at("127.0.0.1", "$port"),
        ));
    }
    for c in commands {
        out.push_str(c);
        out.push('\n');
    }
    out.trim_end().to_string()
}

fn tag_script(policy: &[TagPolicy]) -> String {
    // In the plan's order (`delivery::tag_order`), as Groovy conditions.
    let rules = tag_order(policy).into_iter().map(|t| match t {
        TagPolicy::Semver => (Some("env.TAG_NAME && env.TAG_NAME ==~ /v\\d+\\.\\d+\\.\\d+.*/"), "env.TAG_NAME"),
        TagPolicy::BranchSha => {
            (Some("env.BRANCH_NAME && !env.TAG_NAME"), "env.BRANCH_NAME.replaceAll('[^A-Za-z0-9_.-]', '-') + '-' + sha")
        }
        TagPolicy::Sha => (None, "'sha-' + sha"),
        TagPolicy::Latest => (Some("env.BRANCH_NAME == env.DEFAULT_BRANCH"), "'latest'"),
    });
    let mut out = String::from("          ");
    for (i, (cond, value)) in rules.enumerate() {
        let body = format!("{{\n            env.IMAGE_TAG = {value}\n          }}");
        match (i, cond) {
            (0, Some(c)) => out.push_str(&format!("if ({c}) {body}")),
            (0, None) => out.push_str(&format!("if (true) {body}")),
            (_, Some(c)) => out.push_str(&format!(" else if ({c}) {body}")),
            (_, None) => {
                out.push_str(&format!(" else {body}"));
                break;
            }
        }
    }
    out
}

fn service_cx(cx: &Cx, s: crate::model::Built) -> Svc {
    let m = cx.model;
    let tc = s.toolchain;
    let min = m
        .gates
        .iter()
        .filter(|g| g.kind == "coverage" && (g.services.is_empty() || g.services.contains(&s.id)))
        .filter_map(|g| g.min)
        .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
    let image = image_repository(m, &s.image);
    let target = if s.build_target.is_some() { " --target \"$TARGET\"" } else { "" };
    let platforms: Vec<String> = m.pipeline.platforms.iter().map(|p| format!("linux/{p}")).collect();
    let mut build_env =
        vec![("IMAGE", image), ("DOCKERFILE", s.dockerfile.clone()), ("CONTEXT", s.build_context.clone())];
    if let Some(t) = &s.build_target {
        build_env.push(("TARGET", t.clone()));
    }
    let cache = match deploy::build_cache(m) {
        BuildCache::Off => "",
        BuildCache::RegistryTag => {
            " --cache-from \"type=registry,ref=$IMAGE:buildcache\" --cache-to \"type=registry,ref=$IMAGE:buildcache,mode=max,image-manifest=true,oci-mediatypes=true\""
        }
        // Immutable tags: the agent keeps the cache; the export goes to a new
        // folder that then replaces the old one (a local cache only grows).
        BuildCache::CiStore => {
            " --cache-from \"type=local,src=$CACHE\" --cache-to \"type=local,dest=$CACHE.new,mode=max\""
        }
    };
    // Incremental builds read the commit an image was built from off this label.
    let label = if m.pipeline.incremental { " --label \"org.opencontainers.image.revision=$GIT_COMMIT\"" } else { "" };
    let push = format!(
        "docker buildx build --builder deployc --push --platform {} --tag \"$IMAGE:$IMAGE_TAG\"{label}{cache} --file \"$DOCKERFILE\"{target} \"$CONTEXT\"",
        platforms.join(",")
    );
    let mut push_env = build_env.clone();
    let push = if deploy::immutable_tags(m) {
        // A re-run of the same commit keeps the tag it already pushed.
        let mut script = format!(
            "if docker buildx imagetools inspect \"$IMAGE:$IMAGE_TAG\" > /dev/null 2>&1; then\n  echo \"$IMAGE:$IMAGE_TAG is already pushed (a re-run): keeping it\"\n  exit 0\nfi\n{push}"
        );
        if deploy::build_cache(m) == BuildCache::CiStore {
            script = script
                .replace("fi\ndocker buildx build", "fi\nmkdir -p \"$(dirname \"$CACHE\")\"\ndocker buildx build");
            script.push_str("\nrm -rf \"$CACHE\"\nmv \"$CACHE.new\" \"$CACHE\"");
            push_env.push(("CACHE", format!("/var/tmp/deployc-buildx-cache/{}/{}", m.project.name, s.name)));
        }
        script
    } else {
        push
    };
    let push = if m.pipeline.incremental {
        push_env.push(("SERVICE", s.name.clone()));
        format!("{SCOPE_FILE}{}{}{push}", changes::READ_SCOPE, changes::SKIP_UNCHANGED)
    } else {
        push
    };
    Svc {
        name: s.name.clone(),
        dir: s.build_context.clone(),
        install: tc.install.clone(),
        build: tc.build.clone(),
        tests: test_commands(tc).into_iter().map(|(_, c)| c).collect(),
        integration: (!tc.integration.is_empty()).then(|| sh(&integration_script(m, &s, &tc.integration))),
        coverage: (tc.coverage.is_some() && min.is_some()).then(|| coverage_script(tc)),
        coverage_min: min.map(pct).unwrap_or_default(),
        quality: tc.lint.iter().chain(&tc.typecheck).cloned().collect(),
        image_build: sh_env(
            &format!(
                "docker buildx build --load --tag \"$IMAGE:$IMAGE_TAG\" --file \"$DOCKERFILE\"{target} \"$CONTEXT\""
            ),
            &build_env,
        ),
        image_push: sh_env(&push, &push_env),
    }
}

/// The Push Images stage's copies to Artifact Registry: a `docker login`
/// with the key file credential, then each pushed image copied with its
/// tag. With incremental builds an image the run did not build is not
/// copied: the run that built its kept tag did.
fn mirror_steps(cx: &Cx) -> Option<String> {
    let m = cx.model;
    let mirror = deploy::image_mirror(m)?;
    let login = sh_env(MIRROR_LOGIN_SH.trim_end(), &[("MIRROR_HOST", mirror.host())]);
    let mut out = format!(
        "withCredentials([file(credentialsId: {}, variable: 'KEY_FILE')]) {{\n{login}\n}}",
        groovy(IMAGE_MIRROR_KEY)
    );
    let mut seen = Vec::new();
    for s in cx.services() {
        let image = image_repository(m, &s.service.image);
        if m.pipeline.incremental {
            // Per service, as the pushes: the scope names services.
        } else if seen.contains(&image) {
            continue;
        }
        seen.push(image.clone());
        let mut env = vec![("IMAGE", image), ("MIRROR", mirror.image(&s.service.image))];
        let script = if m.pipeline.incremental {
            env.push(("SERVICE", s.service.name.clone()));
            format!(
                "{SCOPE_FILE}{}{}TAG=\"$IMAGE_TAG\"\n{MIRROR_IMAGE_SH}",
                changes::READ_SCOPE,
                changes::SKIP_UNCHANGED
            )
        } else {
            format!("TAG=\"$IMAGE_TAG\"\n{MIRROR_IMAGE_SH}")
        };
        out.push('\n');
        out.push_str(&sh_env(script.trim_end(), &env));
    }
    Some(out)
}

fn context(cx: &Cx) -> Ctx {
    let m = cx.model;
    let p = &m.project;
    let (login, push_env) = match &p.registry {
        Registry::Ecr { region, account } => {
            let host = format!("{}.dkr.ecr.{region}.amazonaws.com", account.as_deref().unwrap_or("000000000000"));
            (
                sh_env(
                    "aws ecr get-login-password --region \"$ECR_REGION\" | docker login --username AWS --password-stdin \"$REGISTRY\"",
                    &[("ECR_REGION", region.clone()), ("REGISTRY", host)],
                ),
                Vec::new(),
            )
        }
        Registry::Ghcr { .. } => (
            sh("echo \"$REGISTRY_PASSWORD\" | docker login ghcr.io --username \"$REGISTRY_USER\" --password-stdin"),
            vec!["usernamePassword(credentialsId: 'ghcr', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')".to_string()],
        ),
        Registry::DockerHub { .. } => (
            sh("echo \"$REGISTRY_PASSWORD\" | docker login --username \"$REGISTRY_USER\" --password-stdin"),
            vec!["usernamePassword(credentialsId: 'dockerhub', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')".to_string()],
        ),
    };
    let mut crons: Vec<String> = m
        .pipeline
        .triggers
        .iter()
        .chain(m.gates.iter().flat_map(|g| g.when.iter()))
        .filter_map(|t| if let Trigger::Schedule(c) = t { Some(c.clone()) } else { None })
        .collect();
    crons.sort();
    crons.dedup();
    let quality: Vec<GateCx> = m
        .gates
        .iter()
        .filter(|g| is_quality(g) && g.kind != "coverage")
        .map(|g| GateCx { title: g.name.clone(), body: gate_body(cx, g) })
        .collect();
    let security: Vec<GateCx> = m
        .gates
        .iter()
        .filter(|g| !is_quality(g))
        .map(|g| GateCx { title: g.name.clone(), body: gate_body(cx, g) })
        .collect();
    let mut push_when: Vec<String> = m.environments.iter().map(|e| when(m, e)).collect();
    push_when.sort();
    push_when.dedup();
    let push_when =
        if push_when.len() == 1 { push_when.remove(0) } else { format!("anyOf {{ {} }}", push_when.join("; ")) };
    let envs: Vec<EnvCx> = m.environments.iter().map(|e| env_cx(cx, e)).collect();
    let wait_secs: u64 = m.environments.iter().map(deploy::rollout_seconds).sum();
    let mut header = vec![
        "Declarative pipeline: Build, Test, Code Quality, Security Scan, Push Images,".to_string(),
        "then the promotion path:".to_string(),
    ];
    for e in &envs {
        header.push(format!(
            "  {} ({}){}",
            e.title,
            e.when,
            if e.input.is_some() { ", after an input approval" } else { "" }
        ));
        if e.risky {
            header.push(format!(
                "    the canary's steps{} for high-risk releases only; others are promoted in full after the sync",
                if e.release_stage.is_some() { " and its approval" } else { "" }
            ));
        }
    }
    header.push(String::new());
    header.push("Agents need docker (buildx), git, jq, curl, the language runtimes, the Argo CD".into());
    let tools: Vec<String> = m
        .gates
        .iter()
        .filter(|g| !matches!(g.tool, GateTool::Coverage | GateTool::Tests))
        .map(|g| {
            // The pin table writes the gem's name.
            let key = if g.tool == GateTool::LicenseFinder { "license_finder" } else { g.tool.word() };
            let v = pins::tool(key);
            if v == "latest" {
                g.tool.to_string()
            } else {
                format!("{} {v}", g.tool)
            }
        })
        .collect();
    header.push(format!("CLI {} and the gate tools: {}.", pins::tool("argocd"), dedup(&tools).join(", ")));
    let mut creds: Vec<String> = vec!["argocd-server".into(), "argocd-auth-token".into(), "git-push".into()];
    for e in &envs {
        for n in e.notify_success.iter().chain(&e.notify_failure).chain(&e.notify_rollback) {
            if let Some(id) = n.credentials.split('\'').nth(1) {
                creds.push(id.to_string());
            }
        }
    }
    creds.extend(push_env.iter().filter_map(|c| c.split('\'').nth(1).map(str::to_string)));
    if m.gates.iter().any(|g| g.tool == GateTool::Snyk) {
        creds.push("snyk-token".into());
    }
    let mirror = deploy::image_mirror(m).is_some();
    if mirror {
        creds.push(IMAGE_MIRROR_KEY.into());
    }
    header.push(format!("Jenkins credentials: {} (git-push: a user and token allowed", dedup(&creds).join(", ")));
    if mirror {
        header.push(format!(
            "to push the GitOps commit; {IMAGE_MIRROR_KEY}: a secret file, the key of the Google service account that"
        ));
        header.push("copies the images to Artifact Registry, terraform/gcp/README.md; the others secret text).".into());
    } else {
        header.push("to push the GitOps commit; the others secret text).".into());
    }
    Ctx {
        project: p.name.clone(),
        header: header
            .iter()
            .map(|l| if l.is_empty() { "//".to_string() } else { format!("// {}", comment(l)) })
            .collect::<Vec<_>>()
            .join("\n"),
        timeout_hours: 2 + wait_secs / 3600,
        crons,
        environment: vec![
            ("ARGOCD_SERVER".into(), "credentials('argocd-server')".into()),
            ("ARGOCD_AUTH_TOKEN".into(), "credentials('argocd-auth-token')".into()),
            ("ARGOCD_OPTS".into(), "'--grpc-web'".into()),
            ("DEFAULT_BRANCH".into(), groovy(&p.branch)),
        ],
        tag_script: tag_script(&m.pipeline.tags),
        integration: cx.services().any(|s| !s.toolchain.integration.is_empty()),
        services: cx.services().map(|s| service_cx(cx, s)).collect(),
        quality,
        security,
        push_when,
        push_env,
        login,
        mirror: mirror_steps(cx),
        scope: m.pipeline.incremental.then(|| scope_step(m)),
        branch: cx.gitops_branch(),
        envs,
    }
}
