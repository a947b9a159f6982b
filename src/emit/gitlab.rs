//! The GitLab CI target: when the program's pipeline provider is GitLab, a
//! `.gitlab-ci.yml` rendering the same delivery plan as the GitHub
//! workflows and the Jenkinsfile: per service a test job (with the
//! service's databases and caches as `services:` containers), the lint and
//! security gates, image builds (merge requests) and pushes (deploy refs),
//! then one deploy job per environment along the promotion path, manual
//! (`when: manual`, behind the environment's protection) where promotion is
//! manual, and a manual release job for a rollout that waits for a person.
//!
//! **Invariant:** program strings reach scripts only through job
//! `variables:` (non-expanding, `expand: false`); every `script:` line is
//! text from this module or `plan::delivery`. Deploy commits never start a
//! pipeline: they are pushed with the `ci.skip` push option, say
//! `[skip ci]`, and the `workflow:` rules drop them as well.

use super::{Artifact, Target};
use crate::model::{Environment, Gate, GateTool, IntegrationKind, Model, Promotion, Registry, TagPolicy};
use crate::pins;
use crate::plan::branches;
use crate::plan::changes;
use crate::plan::delivery::{
    self as deploy, check_command, coverage_script, covered, decisions_path, is_quality, pct, requirement_files,
    tag_order, test_commands, Backup, BuildCache, Check, Outcome, IMAGE_MIRROR_KEY_VARIABLE, MIRROR_LOGIN_SH, READ_TAG,
    SET_TAG,
};
use crate::plan::env::image_repository;
use crate::plan::gates::threshold;
use crate::plan::identity;
use crate::plan::Plan;
use indexmap::IndexMap;
use serde::Serialize;

/// The file GitLab reads.
pub const PATH: &str = ".gitlab-ci.yml";

/// One job variable: a program string never expanded by GitLab
/// (`expand: false`), or a reference to a CI/CD variable or a predefined one.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Var {
    Literal { value: String, expand: bool },
    Reference(String),
}

fn lit(v: impl Into<String>) -> Var {
    Var::Literal { value: v.into(), expand: false }
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Rule {
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub cond: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_failure: Option<bool>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Image {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
}

#[derive(Serialize, Clone, Debug)]
pub struct ServiceContainer {
    pub name: String,
    pub alias: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct EnvRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub deployment_tier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Aud {
    pub aud: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Artifacts {
    pub when: String,
    pub paths: Vec<String>,
    pub expire_in: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Cache {
    pub key: String,
    pub paths: Vec<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Job {
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceContainer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub id_tokens: IndexMap<String, Aud>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub variables: IndexMap<String, Var>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<Cache>,
    pub script: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after_script: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Artifacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_failure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

impl Job {
    fn new(stage: &str) -> Job {
        Job { stage: stage.into(), ..Job::default() }
    }
    fn var(&mut self, k: &str, v: Var) {
        self.variables.insert(k.to_string(), v);
    }
    /// Runs `script` with `env` bound: each value becomes a numbered job
    /// variable and the script reads it through a shell assignment, in a
    /// subshell so bindings of one step never leak into the next.
    fn step<K: AsRef<str>>(&mut self, script: &str, env: &[(K, String)]) -> String {
        if env.is_empty() {
            return script.to_string();
        }
        let n = self.variables.keys().filter(|k| k.starts_with("STEP")).count();
        let mut head = String::from("(\n");
        for (i, (k, v)) in env.iter().enumerate() {
            let k = k.as_ref();
            let name = format!("STEP{n}_{i}_{k}");
            head.push_str(&format!("{k}=\"${name}\"\n"));
            self.variables.insert(name, lit(v.clone()));
        }
        format!("{head}{script}\n)")
    }
}

#[derive(Serialize)]
struct Workflow {
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Pipeline {
    workflow: Workflow,
    stages: Vec<String>,
    variables: IndexMap<String, Var>,
    #[serde(flatten)]
    jobs: IndexMap<String, Job>,
}

/// Commits CD pushes (`deploy(env): …`, `rollback(env): …`, both `[skip ci]`)
/// and the verified-version tags never start a pipeline.
pub const SKIP_DEPLOY_COMMITS: &str = "$CI_COMMIT_MESSAGE =~ /^(deploy|rollback)\\(.*\\[skip ci\\]/";
const SKIP_VERIFIED_TAGS: &str = "$CI_COMMIT_TAG =~ /^deployc-verified-/";

/// The git identity, the push remote (`$GITOPS_REMOTE`, built from the
/// `GITOPS_TOKEN` CI/CD variable) and the record file the release step
/// writes (`.deployc/`, kept as an artifact for the release and rollback).
/// Every push carries `-o ci.skip`, so no deploy commit starts a pipeline.
pub const GIT_SETUP: &str = "git config user.name gitlab-ci\ngit config user.email gitlab-ci@localhost\ngit config push.pushOption ci.skip\nremote=\"$GITOPS_REMOTE\"\nmkdir -p \"$CI_PROJECT_DIR/.deployc\"\nRELEASE_OUT=\"$CI_PROJECT_DIR/.deployc/release-$ENVIRONMENT.env\"\n";

const READ_RELEASE: &str = "commit=\"\"\nhead=\"\"\nif [ -f \"$RELEASE_OUT\" ]; then . \"$RELEASE_OUT\"; fi\nDEPLOY_COMMIT=\"$commit\"\nVERIFIED_COMMIT=\"$head\"\n";

/// Tools the deploy jobs need, on a pinned Alpine with the Argo CD CLI of the pin table.
pub const DEPLOY_SETUP: &str = "apk add --no-cache bash git jq curl aws-cli > /dev/null\ncurl --fail --silent --show-error --location --output /usr/local/bin/argocd \"https://github.com/argoproj/argo-cd/releases/download/$ARGOCD_VERSION/argocd-linux-amd64\"\nchmod +x /usr/local/bin/argocd";

fn alpine() -> Image {
    Image { name: "alpine:3.20".into(), entrypoint: None }
}

fn tool_image(name: &str, pin_key: &str) -> Image {
    let v = pins::tool(pin_key);
    let tag = if v == "latest" {
        v.to_string()
    } else if name.contains("gitleaks") {
        format!("v{v}")
    } else {
        v.to_string()
    };
    Image { name: format!("{name}:{tag}"), entrypoint: Some(vec![String::new()]) }
}

/// The runtime image of a toolchain family at the toolchain's version.
fn runtime_image(tc: &crate::model::Toolchain) -> Image {
    let v = tc.version.clone();
    let name = match tc.family.as_str() {
        "node" => format!("node:{}", v.unwrap_or_else(|| "20".into())),
        "python" => format!("python:{}", v.unwrap_or_else(|| "3.12".into())),
        "go" => format!("golang:{}", v.unwrap_or_else(|| "1.22".into())),
        _ => {
            let jdk = v.unwrap_or_else(|| "21".into());
            if tc.cache.as_deref() == Some("gradle") || tc.install.as_deref().unwrap_or("").contains("gradle") {
                format!("gradle:jdk{jdk}")
            } else {
                format!("maven:3-eclipse-temurin-{jdk}")
            }
        }
    };
    Image { name, entrypoint: None }
}

/// The integration stage of a service: its `integration` commands, after its
/// unit tests, with its databases and caches as `services:` containers.
fn integration_job(m: &Model, s: &crate::model::Built, rules: &[Rule]) -> Job {
    let tc = s.toolchain;
    let mut job = Job::new("integration");
    job.image = Some(runtime_image(tc));
    job.rules = rules.to_vec();
    job.needs = Some(vec![format!("test:{}", s.name)]);
    for t in deploy::test_services(m, s) {
        job.services.push(ServiceContainer { name: t.image.into(), alias: t.alias.into() });
        for (k, v) in t.container_env {
            job.var(k, lit(*v));
        }
        job.var(t.var, lit(t.url_at(t.alias, &t.port.to_string())));
    }
    job.var("SERVICE_DIR", lit(s.build_context.clone()));
    let mut script = vec!["cd \"$SERVICE_DIR\"".to_string()];
    if tc.family == "python" {
        script.push("if [ -f requirements-dev.txt ]; then python -m pip install -r requirements-dev.txt; fi".into());
    }
    for (i, c) in tc.install.iter().chain(&tc.integration).enumerate() {
        let name = format!("COMMAND_{i}");
        job.var(&name, lit(c.clone()));
        script.push(format!("bash -c \"${name}\""));
    }
    job.script = script;
    job
}

/// The `.gitlab-ci.yml`, or nothing when the pipeline runs on another provider.
pub fn emit(plan: &Plan) -> Vec<Artifact> {
    let model = plan.model;
    if model.pipeline.provider != crate::model::PipelineProvider::Gitlab || model.built_services().next().is_none() {
        return Vec::new();
    }
    let p = pipeline(model);
    let body = super::yaml::to_string(&p).unwrap_or_else(|e| format!("# deployc: {e}\n"));
    let mut header = String::from(
        "# GitLab CI rendered by deployc from the same delivery plan as the GitHub workflows and the Jenkinsfile.\n",
    );
    for l in notes(model) {
        header
            .push_str(&format!("# {}\n", l.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>()));
    }
    vec![Artifact::new(Target::Gitlab, None, PATH.into(), format!("{header}{body}"))]
}

fn notes(m: &Model) -> Vec<String> {
    let mut out = vec![
        "CI/CD variables (protected, masked): GITOPS_TOKEN (write_repository, pushes the deploy commits),".to_string(),
        "ARGOCD_SERVER, ARGOCD_AUTH_TOKEN, and the integrations' secrets named below.".to_string(),
    ];
    match &m.project.registry {
        Registry::Ecr { .. } => out.push(format!(
            "ECR through GitLab's OIDC id_token: the role {} (terraform/shared/gitlab.tf.json) trusts this project's pushes.",
            identity::ecr_push_role(m)
        )),
        Registry::Ghcr { .. } | Registry::DockerHub { .. } => {
            out.push("Registry login: REGISTRY_USER and REGISTRY_PASSWORD CI/CD variables.".into())
        }
    }
    if let Some(mirror) = deploy::image_mirror(m) {
        out.push(format!(
            "{IMAGE_MIRROR_KEY_VARIABLE} (type File): the key of {}, which copies the images to {} (terraform/gcp/README.md).",
            deploy::image_mirror_account(m, &mirror),
            mirror.prefix()
        ));
    }
    for e in &m.environments {
        if matches!(e.promote, Promotion::Manual { .. }) || e.production {
            let who = if e.approvers.is_empty() { "the maintainers".to_string() } else { e.approvers.join(", ") };
            out.push(format!(
                "Protect the environment {} (Settings > CI/CD > Protected environments): approvers {who}.",
                e.name
            ));
        }
    }
    out
}

/// A CI/CD variable name for a secret the program names (`slack-webhook` → `SLACK_WEBHOOK`).
pub fn secret_var(id: &str) -> String {
    let s: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("S_{s}")
    } else {
        s
    }
}

/// The shell that sets `$IMAGE_TAG` from the tag policy, most specific rule first.
fn tag_script(policy: &[TagPolicy]) -> String {
    // In the plan's order (`delivery::tag_order`), as shell tests.
    let rules: Vec<(Option<&str>, &str)> = tag_order(policy)
        .into_iter()
        .map(|t| match t {
            TagPolicy::Semver => (Some("case \"$CI_COMMIT_TAG\" in v[0-9]*.[0-9]*.[0-9]*) true ;; *) false ;; esac"), "$CI_COMMIT_TAG"),
            TagPolicy::BranchSha => (
                Some("[ -n \"$CI_COMMIT_BRANCH\" ]"),
                "$(printf %s \"$CI_COMMIT_BRANCH\" | tr -c 'A-Za-z0-9_.-' '-')-$(printf %s \"$CI_COMMIT_SHA\" | cut -c1-7)",
            ),
            TagPolicy::Sha => (None, "sha-$(printf %s \"$CI_COMMIT_SHA\" | cut -c1-7)"),
            TagPolicy::Latest => (Some("[ \"$CI_COMMIT_BRANCH\" = \"$CI_DEFAULT_BRANCH\" ]"), "latest"),
        })
        .collect();
    let mut out = String::from("IMAGE_TAG=\"\"\n");
    for (i, (cond, value)) in rules.iter().enumerate() {
        let kw = if i == 0 { "if" } else { "elif" };
        match cond {
            Some(c) => out.push_str(&format!("{kw} {c}; then IMAGE_TAG=\"{value}\"\n")),
            None if i == 0 => {
                out = format!("IMAGE_TAG=\"{value}\"\n");
                return out;
            }
            None => {
                out.push_str(&format!("else IMAGE_TAG=\"{value}\"\n"));
                out.push_str("fi\nexport IMAGE_TAG\necho \"image tag: $IMAGE_TAG\"");
                return out;
            }
        }
    }
    if !rules.is_empty() {
        out.push_str("fi\n");
    }
    out.push_str("export IMAGE_TAG\necho \"image tag: $IMAGE_TAG\"");
    out
}

/// A glob (`v*`) as a GitLab rules regex: `*` any run, the rest literal.
fn glob_regex(glob: &str) -> String {
    let mut out = String::from("/^");
    for c in glob.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out.push_str("$/");
    out
}

/// `rules: if:` for a push to any of the branches: names compared, patterns
/// matched with their regex (`plan::branches`). The checker allows no
/// quote, `$` or `/`-delimiter problem in either (E0330, E0603).
fn branch_rule(branches: &[String]) -> String {
    let tests: Vec<String> = branches
        .iter()
        .map(|b| match branches::is_glob(b) {
            true => format!("$CI_COMMIT_BRANCH =~ /{}/", branches::regex(b)),
            false => format!("$CI_COMMIT_BRANCH == \"{b}\""),
        })
        .collect();
    tests.join(" || ")
}

/// The rule of an environment's chain root trigger (as the Jenkinsfile's `when`).
fn trigger_rule(model: &Model, env: &Environment) -> String {
    let mut e = env;
    for _ in 0..model.environments.len() {
        match &e.promote {
            Promotion::OnPush(bs) => return branch_rule(bs),
            Promotion::OnTag(t) => return format!("$CI_COMMIT_TAG =~ {}", glob_regex(t)),
            Promotion::Manual { from } => match from.map(|f| model.env(f)) {
                Some(f) => e = f,
                None => break,
            },
        }
    }
    format!("$CI_COMMIT_BRANCH == \"{}\"", model.project.branch)
}

fn deploy_rules(m: &Model) -> Vec<Rule> {
    let mut conds: Vec<String> = m.environments.iter().map(|e| trigger_rule(m, e)).collect();
    conds.sort();
    conds.dedup();
    conds.into_iter().map(|c| Rule { cond: Some(c), ..Rule::default() }).collect()
}

fn mr_rule() -> Rule {
    Rule { cond: Some("$CI_PIPELINE_SOURCE == \"merge_request_event\"".into()), ..Rule::default() }
}

/// Registry login for jobs that talk to the registry: the script, and the
/// job's id_tokens / variables it needs.
fn registry_auth(m: &Model, job: &mut Job) -> String {
    match &m.project.registry {
        Registry::Ecr { region, account } => {
            let acct = identity::account(m).unwrap_or("000000000000").to_string();
            job.id_tokens.insert("AWS_ID_TOKEN".into(), Aud { aud: "sts.amazonaws.com".into() });
            job.var("AWS_ROLE_ARN", lit(identity::role_arn(&acct, &identity::ecr_push_role(m))));
            job.var("AWS_DEFAULT_REGION", lit(region.clone()));
            job.var(
                "REGISTRY",
                lit(format!("{}.dkr.ecr.{region}.amazonaws.com", account.as_deref().unwrap_or("000000000000"))),
            );
            job.var("AWS_WEB_IDENTITY_TOKEN_FILE", Var::Reference("$CI_PROJECT_DIR/.deployc/aws-web-identity".into()));
            "mkdir -p \"$CI_PROJECT_DIR/.deployc\"\nprintf %s \"$AWS_ID_TOKEN\" > \"$AWS_WEB_IDENTITY_TOKEN_FILE\""
                .into()
        }
        Registry::Ghcr { .. } => {
            job.var("REGISTRY", lit("ghcr.io"));
            String::new()
        }
        Registry::DockerHub { .. } => {
            job.var("REGISTRY", lit("docker.io"));
            String::new()
        }
    }
}

fn docker_login(m: &Model) -> &'static str {
    match &m.project.registry {
        Registry::Ecr { .. } => {
            "aws ecr get-login-password | docker login --username AWS --password-stdin \"$REGISTRY\""
        }
        Registry::Ghcr { .. } | Registry::DockerHub { .. } => {
            "echo \"$REGISTRY_PASSWORD\" | docker login \"$REGISTRY\" --username \"$REGISTRY_USER\" --password-stdin"
        }
    }
}

/// The scope job of incremental builds.
const SCOPE_JOB: &str = "scope";

/// Where the scope job leaves its decision (an artifact of that job).
const SCOPE_FILE: &str = "SCOPE_FILE=\"$CI_PROJECT_DIR/.deployc/scope.env\"\n";

/// The scope job (`plan::changes`): on a deploy ref, which environments it
/// deploys (the deploy jobs' rules decide the same with these regexes) and
/// which services to push, from the deployed kustomizations at the GitOps
/// branch's head and the registry. Its `.deployc/scope.env` reaches the
/// push jobs (a later stage) and the deploy jobs (`needs`).
fn scope_job(m: &Model, rules: &[Rule]) -> Job {
    let mut job = Job::new("build");
    dind(&mut job);
    job.rules = rules.to_vec();
    // The deployed images' commits must be in the clone.
    job.var("GIT_DEPTH", lit("0"));
    job.var("ROUTES", lit(changes::routes_var(m)));
    job.var("INCREMENTAL", lit("true"));
    job.var("SERVICES", lit(changes::services_var(m)));
    job.var("SHARED", lit(changes::shared_var(m)));
    job.var("IGNORED", lit(changes::ignored(m)));
    job.var("KUSTOMIZATIONS", lit(changes::kustomizations_var(m)));
    job.var("GITOPS_BRANCH", lit(deploy::gitops_branch(m)));
    job.var("DEPLOYC_SCOPE", lit(changes::scope_script()));
    let auth = registry_auth(m, &mut job);
    let mut script = vec![if matches!(m.project.registry, Registry::Ecr { .. }) {
        "apk add --no-cache bash git jq aws-cli > /dev/null".to_string()
    } else {
        "apk add --no-cache bash git jq > /dev/null".to_string()
    }];
    if !auth.is_empty() {
        script.push(auth);
    }
    script.push(docker_login(m).into());
    script.push(
        "mkdir -p \"$CI_PROJECT_DIR/.deployc\"\nexport SCOPE_OUT=\"$CI_PROJECT_DIR/.deployc/scope.env\"\n: > \"$SCOPE_OUT\"\nif [ -n \"$CI_COMMIT_TAG\" ]; then export REF_KIND=tag REF_NAME=\"$CI_COMMIT_TAG\"; else export REF_KIND=branch REF_NAME=\"$CI_COMMIT_BRANCH\"; fi\n# A failed fetch leaves the ref missing: every service is then built.\ngit fetch --quiet origin \"+refs/heads/$GITOPS_BRANCH:refs/remotes/origin/$GITOPS_BRANCH\" || echo \"could not fetch $GITOPS_BRANCH\"\nexport GITOPS_REF=\"origin/$GITOPS_BRANCH\""
            .into(),
    );
    script.push("bash -c \"$DEPLOYC_SCOPE\"".into());
    job.script = script;
    job.artifacts = Some(Artifacts {
        when: "on_success".into(),
        paths: vec![".deployc/scope.env".into()],
        expire_in: "1 week".into(),
    });
    job
}

fn dind(job: &mut Job) {
    job.image = Some(Image { name: "docker:27-cli".into(), entrypoint: None });
    job.services = vec![ServiceContainer { name: "docker:27-dind".into(), alias: "docker".into() }];
    job.var("DOCKER_HOST", Var::Reference("tcp://docker:2376".into()));
    job.var("DOCKER_TLS_CERTDIR", Var::Reference("/certs".into()));
    job.var("DOCKER_CERT_PATH", Var::Reference("/certs/client".into()));
    job.var("DOCKER_TLS_VERIFY", Var::Reference("1".into()));
}

fn pipeline(m: &Model) -> Pipeline {
    let mut jobs: IndexMap<String, Job> = IndexMap::new();
    let tag = tag_script(&m.pipeline.tags);
    let deploy_refs = deploy_rules(m);
    let on_change = {
        let mut r = vec![mr_rule()];
        r.extend(deploy_refs.iter().cloned());
        r
    };

    // Tests per service, with its databases and caches as service containers.
    for s in m.built_services() {
        let tc = s.toolchain;
        let mut job = Job::new("test");
        job.image = Some(runtime_image(tc));
        job.rules = on_change.clone();
        job.var("SERVICE_DIR", lit(s.build_context.clone()));
        let mut script = vec!["cd \"$SERVICE_DIR\"".to_string()];
        if tc.family == "python" {
            // Dev dependencies (requirements-dev.txt) before the checks, when present.
            script
                .push("if [ -f requirements-dev.txt ]; then python -m pip install -r requirements-dev.txt; fi".into());
        }
        let mut cmds: Vec<String> = Vec::new();
        cmds.extend(tc.install.iter().cloned());
        cmds.extend(tc.build.iter().cloned());
        cmds.extend(tc.lint.iter().cloned());
        cmds.extend(tc.typecheck.iter().cloned());
        cmds.extend(test_commands(tc).into_iter().map(|(_, c)| c));
        for (i, c) in cmds.into_iter().enumerate() {
            let name = format!("COMMAND_{i}");
            job.var(&name, lit(c));
            // A program's command is its own shell text: run as such, from a variable.
            script.push(format!("bash -c \"${name}\""));
        }
        let min = m
            .gates
            .iter()
            .filter(|g| g.kind == "coverage" && (g.services.is_empty() || g.services.contains(&s.id)))
            .filter_map(|g| g.min)
            .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
        if let (Some(_), Some(min)) = (&tc.coverage, min) {
            job.var("COVERAGE_MIN", lit(pct(min)));
            script.push(coverage_script(tc));
        }
        job.script = script;
        jobs.insert(format!("test:{}", s.name), job);
        if !tc.integration.is_empty() {
            jobs.insert(format!("integration:{}", s.name), integration_job(m, &s, &on_change));
        }
    }

    // Gates.
    for g in &m.gates {
        if g.kind == "coverage" || matches!(g.tool, GateTool::Coverage | GateTool::Tests) {
            continue; // the test jobs run them
        }
        for (suffix, job) in gate_jobs(m, g, &tag, &on_change) {
            jobs.insert(format!("{}:{}", g.name, suffix), job);
        }
    }

    // Incremental builds: the scope job decides what the push jobs push
    // and which deployed tags the deploy jobs keep.
    let incremental = m.pipeline.incremental;
    if incremental {
        jobs.insert(SCOPE_JOB.into(), scope_job(m, &deploy_refs));
    }

    // Images: built on merge requests, pushed on deploy refs.
    let cache = deploy::build_cache(m);
    for s in m.built_services() {
        let image = image_repository(m, &s.image);
        let mut base = Vec::new();
        base.push(("IMAGE", image));
        base.push(("DOCKERFILE", s.dockerfile.clone()));
        base.push(("CONTEXT", s.build_context.clone()));
        let target = if let Some(t) = &s.build_target {
            base.push(("TARGET", t.clone()));
            " --target \"$TARGET\""
        } else {
            ""
        };
        let mut build = Job::new("build");
        dind(&mut build);
        build.rules = vec![mr_rule()];
        for (k, v) in &base {
            build.var(k, lit(v.clone()));
        }
        build.script = vec![
            tag.clone(),
            format!("docker build --tag \"$IMAGE:$IMAGE_TAG\" --file \"$DOCKERFILE\"{target} \"$CONTEXT\""),
        ];
        jobs.insert(format!("build-image:{}", s.name), build);

        let mut push = Job::new("push");
        dind(&mut push);
        push.rules = deploy_refs.clone();
        for (k, v) in &base {
            push.var(k, lit(v.clone()));
        }
        let auth = registry_auth(m, &mut push);
        let platforms: Vec<String> = m.pipeline.platforms.iter().map(|p| format!("linux/{p}")).collect();
        let cache_flags = match cache {
            BuildCache::Off => "",
            BuildCache::RegistryTag => " --cache-from \"type=registry,ref=$IMAGE:buildcache\" --cache-to \"type=registry,ref=$IMAGE:buildcache,mode=max,image-manifest=true,oci-mediatypes=true\"",
            BuildCache::CiStore => " --cache-from \"type=local,src=.buildx-cache\" --cache-to \"type=local,dest=.buildx-cache-new,mode=max\"",
        };
        if cache == BuildCache::CiStore {
            push.cache = Some(Cache { key: format!("buildx-{}", s.name), paths: vec![".buildx-cache".into()] });
        }
        let mut script = vec![tag.clone()];
        if incremental {
            push.var("SERVICE", lit(s.name.clone()));
            script
                .push(format!("{SCOPE_FILE}{}{}", changes::READ_SCOPE, changes::SKIP_UNCHANGED).trim_end().to_string());
        }
        if matches!(m.project.registry, Registry::Ecr { .. }) {
            script.push("apk add --no-cache aws-cli > /dev/null".into());
        }
        if !auth.is_empty() {
            script.push(auth);
        }
        script.push(docker_login(m).into());
        script.push("docker buildx create --name deployc --driver docker-container --use".into());
        // Incremental builds read the commit an image was built from off this label.
        let label = if incremental { " --label \"org.opencontainers.image.revision=$CI_COMMIT_SHA\"" } else { "" };
        let mut build_push = format!(
            "docker buildx build --builder deployc --push --platform {} --tag \"$IMAGE:$IMAGE_TAG\"{label}{cache_flags} --file \"$DOCKERFILE\"{target} \"$CONTEXT\"",
            platforms.join(",")
        );
        if cache == BuildCache::CiStore {
            build_push.push_str("\nrm -rf .buildx-cache\nmv .buildx-cache-new .buildx-cache");
        }
        if deploy::immutable_tags(m) {
            build_push = format!("if docker buildx imagetools inspect \"$IMAGE:$IMAGE_TAG\" > /dev/null 2>&1; then\n  echo \"$IMAGE:$IMAGE_TAG is already pushed (a re-run): keeping it\"\nelse\n{build_push}\nfi");
        }
        script.push(build_push);
        if let Some(mirror) = deploy::image_mirror(m) {
            // The copy the GKE clusters pull, as the service account whose
            // key the File variable holds (terraform/gcp/README.md).
            push.var("MIRROR", lit(mirror.image(&s.image)));
            push.var("MIRROR_HOST", lit(mirror.host()));
            script.push(format!(
                "KEY_FILE=\"${IMAGE_MIRROR_KEY_VARIABLE}\"\n{MIRROR_LOGIN_SH}TAG=\"$IMAGE_TAG\"\n{}",
                deploy::MIRROR_IMAGE_SH.trim_end()
            ));
        }
        push.script = script;
        jobs.insert(format!("push-image:{}", s.name), push);
    }

    // Environments.
    let mut stages = vec![
        "test".to_string(),
        "integration".into(),
        "quality".into(),
        "security".into(),
        "build".into(),
        "push".into(),
        "scan".into(),
    ];
    for env in &m.environments {
        let stage = format!("deploy-{}", env.name);
        stages.push(stage.clone());
        let (mut deploy_job, release) = env_jobs(m, env, &stage, &tag);
        if incremental && matches!(env.promote, Promotion::OnPush(_) | Promotion::OnTag(_)) {
            if let Some(needs) = deploy_job.needs.as_mut() {
                needs.push(SCOPE_JOB.into());
            }
        }
        // The gates the environment requires pass first (with `needs`, stage
        // order alone would not wait for them).
        for g in &env.requires {
            let prefix = format!("{}:", m.gates[g.index()].name);
            let required: Vec<String> = jobs.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
            if let Some(needs) = deploy_job.needs.as_mut() {
                for r in required {
                    if !needs.contains(&r) {
                        needs.push(r);
                    }
                }
            }
        }
        jobs.insert(format!("deploy:{}", env.name), deploy_job);
        if let Some(r) = release {
            jobs.insert(format!("release:{}", env.name), r);
        }
    }
    // Stages no job uses are dropped: GitLab accepts them, readers do not need them.
    stages.retain(|s| jobs.values().any(|j| &j.stage == s));

    let mut variables = IndexMap::new();
    variables.insert("ARGOCD_VERSION".into(), Var::Reference(pins::tool("argocd").to_string()));
    variables.insert("ARGOCD_OPTS".into(), Var::Reference("--grpc-web".into()));
    Pipeline {
        workflow: Workflow {
            rules: vec![
                Rule { cond: Some(SKIP_DEPLOY_COMMITS.into()), when: Some("never".into()), allow_failure: None },
                Rule { cond: Some(SKIP_VERIFIED_TAGS.into()), when: Some("never".into()), allow_failure: None },
                Rule { cond: Some("$CI_PIPELINE_SOURCE == \"merge_request_event\"".into()), ..Rule::default() },
                Rule {
                    cond: Some("$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS".into()),
                    when: Some("never".into()),
                    allow_failure: None,
                },
                Rule { cond: Some("$CI_COMMIT_BRANCH || $CI_COMMIT_TAG".into()), ..Rule::default() },
            ],
        },
        stages,
        variables,
        jobs,
    }
}

/// A gate's command in one covered service's folder, with its variables.
type ServiceScript<'a> = dyn Fn(&crate::model::Built) -> (String, Vec<(&'static str, String)>) + 'a;

/// The jobs of one gate: one per covered service folder where the tool runs
/// in a folder, else one for the repository; container scans after the push.
fn gate_jobs(m: &Model, g: &Gate, tag: &str, rules: &[Rule]) -> Vec<(String, Job)> {
    let stage = if is_quality(g) { "quality" } else { "security" };
    let cov = covered(m, g);
    let sev = threshold(g.tool, &g.fail_on).unwrap_or_default();
    let mk = |image: Image| {
        let mut j = Job::new(stage);
        j.image = Some(image);
        j.rules = rules.to_vec();
        j.needs = Some(Vec::new());
        if !g.blocking {
            j.allow_failure = Some(true);
        }
        j
    };
    let repo = |image: Image, script: String, env: Vec<(&str, String)>| {
        let mut j = mk(image);
        for (k, v) in env {
            j.var(k, lit(v));
        }
        j.script = vec![script];
        vec![("repository".to_string(), j)]
    };
    // One job per covered service, in its folder.
    let per_service = |image: &dyn Fn(&crate::model::Toolchain) -> Image, script: &ServiceScript| {
        cov.iter()
            .map(|s| {
                let mut j = mk(image(s.toolchain));
                j.var("SERVICE_DIR", lit(s.build_context.clone()));
                let (sc, env) = script(s);
                for (k, v) in env {
                    j.var(k, lit(v));
                }
                j.script = vec!["cd \"$SERVICE_DIR\"".into(), sc];
                (s.name.clone(), j)
            })
            .collect::<Vec<_>>()
    };
    let fixed = |cmd: String| move |_: &crate::model::Built| (cmd.clone(), Vec::new());
    let rt = |tc: &crate::model::Toolchain| runtime_image(tc);
    let py = |tc: &crate::model::Toolchain| runtime_image(tc);
    match g.tool {
        GateTool::Gitleaks => repo(
            tool_image("zricethezav/gitleaks", "gitleaks"),
            "gitleaks detect --source . --redact --exit-code 1 --report-format sarif --report-path gitleaks.sarif".into(),
            vec![],
        ),
        GateTool::Trufflehog => repo(
            tool_image("trufflesecurity/trufflehog", "trufflehog"),
            "trufflehog git file://. --results=verified,unknown --fail".into(),
            vec![],
        ),
        GateTool::DetectSecrets => repo(
            Image { name: "python:3.12".into(), entrypoint: None },
            format!("python -m pip install 'detect-secrets=={}'\ndetect-secrets scan > detect-secrets.json\npython -c 'import json,sys; r=json.load(open(\"detect-secrets.json\"))[\"results\"]; print(r) if r else None; sys.exit(1 if r else 0)'", pins::tool("detect-secrets")),
            vec![],
        ),
        GateTool::Codeql => repo(
            alpine(),
            "echo 'CodeQL runs as GitHub code scanning; on GitLab use its SAST template' >&2\nexit 1".into(),
            vec![],
        ),
        GateTool::Semgrep => {
            let sev = match g.fail_on.as_str() {
                "low" => "",
                "medium" => " --severity ERROR --severity WARNING",
                _ => " --severity ERROR",
            };
            repo(
                tool_image("semgrep/semgrep", "semgrep"),
                format!("semgrep scan --config \"$SEMGREP_RULES\" --metrics off --error{sev} --sarif --output semgrep.sarif"),
                vec![("SEMGREP_RULES", g.config.clone().unwrap_or_else(|| "p/default".into()))],
            )
        }
        GateTool::Sonarqube => repo(
            tool_image("sonarsource/sonar-scanner-cli", "sonar-scanner"),
            "sonar-scanner -Dsonar.projectKey=\"$PROJECT_KEY\" -Dsonar.qualitygate.wait=true".into(),
            vec![("PROJECT_KEY", m.project.name.clone())],
        ),
        GateTool::Bandit => per_service(&py, &fixed(format!("python -m pip install 'bandit=={}'\nbandit -r . --severity-level {sev}", pins::tool("bandit")))),
        GateTool::Grype => {
            let cmd = format!("grype dir:. --fail-on {}", g.fail_on);
            if g.services.is_empty() {
                repo(tool_image("anchore/grype", "grype"), cmd, vec![])
            } else {
                per_service(&|_| tool_image("anchore/grype", "grype"), &fixed(cmd))
            }
        }
        GateTool::Snyk => per_service(&rt, &fixed(format!("npx --yes snyk test --severity-threshold={}", g.fail_on))),
        GateTool::Safety | GateTool::PipAudit => per_service(&py, &|s| {
            let files: Vec<String> = requirement_files(s.toolchain).iter().map(|f| format!("-r {f}")).collect();
            let cmd = if g.tool == GateTool::Safety {
                "python -m pip install safety\nsafety check $REQUIREMENTS --full-report"
            } else {
                "python -m pip install pip-audit\npip-audit $REQUIREMENTS --desc"
            };
            (cmd.to_string(), vec![("REQUIREMENTS", files.join(" "))])
        }),
        GateTool::NpmAudit => per_service(&rt, &fixed(format!("npm audit --audit-level={sev}"))),
        GateTool::Trivy if g.kind == "container" => cov
            .iter()
            .map(|s| {
                let mut j = mk(tool_image("aquasec/trivy", "trivy"));
                j.stage = "scan".into();
                j.rules = deploy_rules(m);
                j.needs = Some(vec![format!("push-image:{}", s.name)]);
                j.var("IMAGE", lit(image_repository(m, &s.image)));
                let auth = registry_auth(m, &mut j);
                let creds = match m.project.registry {
                    Registry::Ecr { .. } => String::new(),
                    _ => "export TRIVY_USERNAME=\"$REGISTRY_USER\" TRIVY_PASSWORD=\"$REGISTRY_PASSWORD\"".into(),
                };
                j.script = [tag.to_string(), auth, creds, format!("trivy image --exit-code 1 --severity {sev} \"$IMAGE:$IMAGE_TAG\"")]
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .collect();
                (s.name.clone(), j)
            })
            .collect(),
        GateTool::Trivy => per_service(&|_| tool_image("aquasec/trivy", "trivy"), &fixed(format!("trivy fs --exit-code 1 --severity {sev} ."))),
        // The findings the output waives by design (plan/waivers.rs).
        GateTool::Checkov => match crate::plan::waivers::baseline_in_repo(m) {
            Some(b) => repo(
                tool_image("bridgecrew/checkov", "checkov"),
                "checkov --directory . --quiet --compact --baseline \"$BASELINE\"".into(),
                vec![("BASELINE", b)],
            ),
            None => repo(tool_image("bridgecrew/checkov", "checkov"), "checkov --directory . --quiet --compact".into(), vec![]),
        },
        GateTool::Tfsec => repo(tool_image("aquasec/tfsec", "tfsec"), format!("tfsec . --minimum-severity {sev}"), vec![]),
        GateTool::LicenseFinder => {
            let decisions = g.config.clone().unwrap_or_else(|| "doc/dependency_decisions.yml".into());
            per_service(&|_| tool_image("licensefinder/license_finder", "license_finder"), &|s| {
                ("license_finder --decisions-file \"$DECISIONS\"".to_string(), vec![("DECISIONS", decisions_path(&s.build_context, &decisions))])
            })
        }
        GateTool::Coverage | GateTool::Tests => Vec::new(),
        tool @ (GateTool::Eslint | GateTool::Ruff | GateTool::Flake8 | GateTool::GolangciLint | GateTool::Tsc | GateTool::Mypy) => {
            let cmd = check_command(tool).unwrap_or_default();
            per_service(&rt, &move |s| {
                let mut c = String::new();
                if s.toolchain.family == "python" {
                    c.push_str("if [ -f requirements-dev.txt ]; then python -m pip install -r requirements-dev.txt; fi\n");
                }
                if s.toolchain.family == "node" {
                    c.push_str("npm ci\n");
                }
                c.push_str(&cmd);
                (c, Vec::new())
            })
        }
    }
}

fn tier(env: &Environment) -> String {
    let n = env.name.to_ascii_lowercase();
    if env.production {
        "production"
    } else if n.contains("stag") {
        "staging"
    } else if n.contains("test") || n.contains("qa") {
        "testing"
    } else if n.contains("dev") {
        "development"
    } else {
        "other"
    }
    .into()
}

/// Notification scripts of an environment: on success, failure and rollback.
fn notices(m: &Model, env: &Environment, job: &mut Job) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut ok, mut bad, mut back) = (Vec::new(), Vec::new(), Vec::new());
    let what = format!("{}: released", m.project.name);
    if let Some(r) = deploy::sentry_release(m) {
        // The refs the release step recorded (the release job reads them
        // from the deploy job's artifact); after a success only.
        ok.push(job.step(
            &format!(
                "apk add --no-cache python3 py3-pip > /dev/null\nSENTRY_AUTH_TOKEN=$(printenv \"$SECRET\")\nexport SENTRY_AUTH_TOKEN SENTRY_ORG SENTRY_PROJECT\nRELEASE_OUT=\"$CI_PROJECT_DIR/.deployc/release-$ENVIRONMENT.env\"\nreleased=\"\"\nif [ -f \"$RELEASE_OUT\" ]; then . \"$RELEASE_OUT\"; fi\nRELEASED=\"$released\"\n{}",
                deploy::SENTRY_RELEASE_SH
            ),
            &[
                ("SECRET", secret_var(&r.token)),
                ("SENTRY_CLI_VERSION", pins::tool("sentry-cli").to_string()),
                ("SENTRY_ORG", r.org.clone()),
                ("SENTRY_PROJECT", r.project.clone()),
            ],
        ));
    }
    for id in &env.notify {
        let i = &m.integrations[id.index()];
        match &i.kind {
            IntegrationKind::Slack { channel, webhook, events } => {
                let slack = |job: &mut Job, outcome: &str| {
                    job.step(
                        "SLACK_WEBHOOK_URL=$(printenv \"$SECRET\")\npayload=$(jq -n --arg channel \"$CHANNEL\" --arg text \"$TEXT $IMAGE_TAG to $ENVIRONMENT$OUTCOME ($CI_JOB_URL)\" '{channel: $channel, text: $text}')\ncurl --fail --silent --show-error -X POST -H 'Content-Type: application/json' --data \"$payload\" \"$SLACK_WEBHOOK_URL\"",
                        &[("SECRET", secret_var(webhook)), ("CHANNEL", channel.clone()), ("TEXT", what.clone()), ("OUTCOME", outcome.to_string())],
                    )
                };
                if deploy::notify_success(events, env) {
                    ok.push(slack(job, ""));
                }
                if deploy::notify_failure(events) {
                    bad.push(slack(job, " failed"));
                }
                if deploy::notify_rollback(events) {
                    back.push(slack(job, " failed its checks and was rolled back"));
                }
            }
            IntegrationKind::Datadog { site, api_key, .. } => {
                for (list, alert) in [(&mut ok, "success"), (&mut bad, "error")] {
                    list.push(job.step(
                        "DD_API_KEY=$(printenv \"$SECRET\")\npayload=$(jq -n --arg title \"$TEXT $IMAGE_TAG to $ENVIRONMENT\" --arg alert \"$ALERT\" --arg env \"env:$ENVIRONMENT\" '{title: $title, text: $title, alert_type: $alert, tags: [$env, \"source:gitlab\"]}')\ncurl --fail --silent --show-error -H 'Content-Type: application/json' -H \"DD-API-KEY: $DD_API_KEY\" --data \"$payload\" \"https://api.$DD_SITE/api/v1/events\"",
                        &[("SECRET", secret_var(api_key)), ("TEXT", what.clone()), ("ALERT", alert.into()), ("DD_SITE", site.clone())],
                    ));
                }
            }
            IntegrationKind::PagerDuty { routing_key, severity } => bad.push(job.step(
                "ROUTING_KEY=$(printenv \"$SECRET\")\npayload=$(jq -n --arg key \"$ROUTING_KEY\" --arg summary \"$TEXT $IMAGE_TAG to $ENVIRONMENT failed\" --arg severity \"$SEVERITY\" '{routing_key: $key, event_action: \"trigger\", payload: {summary: $summary, source: \"gitlab\", severity: $severity}}')\ncurl --fail --silent --show-error -H 'Content-Type: application/json' --data \"$payload\" https://events.pagerduty.com/v2/enqueue",
                &[("SECRET", secret_var(routing_key)), ("TEXT", what.clone()), ("SEVERITY", severity.clone())],
            )),
            IntegrationKind::Jira { url, project, token } => ok.push(job.step(
                "JIRA_AUTH=$(printenv \"$SECRET\")\npayload=$(jq -n --arg key \"$JIRA_PROJECT\" --arg summary \"$TEXT $IMAGE_TAG to $ENVIRONMENT\" '{fields: {project: {key: $key}, issuetype: {name: \"Task\"}, summary: $summary, labels: [\"deployment\"]}}')\ncurl --fail --silent --show-error -u \"$JIRA_AUTH\" -H 'Content-Type: application/json' --data \"$payload\" \"$JIRA_URL/rest/api/2/issue\"",
                &[("SECRET", secret_var(token)), ("TEXT", what.clone()), ("JIRA_PROJECT", project.clone()), ("JIRA_URL", url.trim_end_matches('/').to_string())],
            )),
            IntegrationKind::NewRelic { .. }
            | IntegrationKind::Sentry { .. }
            | IntegrationKind::Codecov { .. }
            | IntegrationKind::Opsgenie { .. } => {}
        }
    }
    (ok, bad, back)
}

/// The after_script of a deploy or release job: on failure roll back (the
/// record says what this run committed), then report failure and rollback.
fn on_failure(rollback: String, bad: &[String], back: &[String]) -> Vec<String> {
    let mut s = format!("if [ \"$CI_JOB_STATUS\" != failed ]; then exit 0; fi\n{DEPLOY_SETUP}\n");
    for n in bad {
        s.push_str(&format!("{n} || echo 'could not send a failure notice'\n"));
    }
    // The rollback runs with `set -e` of its own: a subshell in an `if` or
    // after `||` would run with `-e` ignored.
    s.push_str(&format!(
        "set +e\n{rollback}\nrolled_back=$?\nset -e\nif [ \"$rolled_back\" -eq 0 ]; then\n  echo 'rolled back'\n"
    ));
    for n in back {
        s.push_str(&format!("{n} || echo 'could not send a rollback notice'\n"));
    }
    s.push_str("else\n  echo 'the rollback failed: fix the environment by hand' >&2\n  exit 1\nfi");
    vec![s]
}

/// The names a suite's commands reach its script by (its install command first).
fn suite_command(i: usize) -> String {
    format!("SUITE_COMMAND_{i}")
}

/// The image of the job that runs an environment's checks: Alpine, or the
/// Alpine build of the first suite's runtime at its toolchain's version (the
/// deploy setup installs its tools with `apk`), and the Alpine packages of
/// the other suites' runtimes.
fn check_image(m: &Model, env: &Environment) -> (Image, Vec<&'static str>) {
    let mut families: Vec<&crate::model::Toolchain> = Vec::new();
    for c in deploy::checks(m, env) {
        if let Check::Suite(s) = c {
            if let Some(b) = m.built(m.service(s.service)) {
                if !families.iter().any(|t| t.family == b.toolchain.family) {
                    families.push(b.toolchain);
                }
            }
        }
    }
    let Some(first) = families.first() else { return (alpine(), Vec::new()) };
    let mut image = runtime_image(first);
    // node:20-alpine, python:3.11-alpine, golang:1.22-alpine, gradle:jdk21-alpine,
    // maven:3-eclipse-temurin-21-alpine.
    image.name = format!("{}-alpine", image.name);
    let mut extra = Vec::new();
    for t in &families[1..] {
        extra.extend(match t.family.as_str() {
            "node" => &["nodejs", "npm"][..],
            "python" => &["python3", "py3-pip"][..],
            "go" => &["go"][..],
            _ => &["openjdk21-jdk", "maven"][..],
        });
    }
    (image, extra)
}

fn env_jobs(m: &Model, env: &Environment, stage: &str, tag: &str) -> (Job, Option<Job>) {
    let mut job = Job::new(stage);
    job.image = Some(alpine());
    job.rules = vec![Rule {
        cond: Some(trigger_rule(m, env)),
        when: matches!(env.promote, Promotion::Manual { .. }).then(|| "manual".to_string()),
        allow_failure: matches!(env.promote, Promotion::Manual { .. }).then_some(false),
    }];
    let source = match &env.promote {
        Promotion::Manual { from: Some(f) } => Some(m.env(*f)),
        _ => None,
    };
    let mut needs: Vec<String> = m.built_services().map(|s| format!("push-image:{}", s.name)).collect();
    if let Some(f) = source {
        needs = vec![format!("deploy:{}", f.name)];
        if deploy::outcome(f) == Outcome::AwaitingPromotion {
            needs = vec![format!("release:{}", f.name)];
        }
    }
    job.needs = Some(needs);
    let routes = deploy::routes(m, env);
    job.environment = Some(EnvRef {
        name: env.name.clone(),
        url: routes.first().map(|r| r.base.clone()),
        deployment_tier: tier(env),
        action: None,
    });
    job.resource_group = Some(env.name.clone());
    job.timeout = Some(format!("{}m", 30 + deploy::rollout_seconds(env) / 60));
    let auto = matches!(env.promote, Promotion::OnPush(_));
    job.var("ENVIRONMENT", lit(env.name.clone()));
    job.var("APP", lit(deploy::app_name(m, env)));
    job.var("KUSTOMIZATION", lit(deploy::kustomization(m, env)));
    job.var("IMAGES", lit(deploy::images(m, env).join(" ")));
    job.var("BRANCH", lit(deploy::gitops_branch(m)));
    job.var("ROLLOUTS", lit(deploy::rollouts(m, env).join(" ")));
    job.var("AUTO_SYNC", lit(auto.to_string()));
    job.var("TIMEOUT", lit(deploy::rollout_seconds(env).to_string()));
    job.var("VERIFIED_TAG", lit(deploy::verified_tag(env)));
    job.var(
        "GITOPS_REMOTE",
        Var::Reference("https://oauth2:${GITOPS_TOKEN}@${CI_SERVER_HOST}/${CI_PROJECT_PATH}.git".into()),
    );
    // The rollback may wait for a whole rollout.
    job.var("RUNNER_AFTER_SCRIPT_TIMEOUT", Var::Reference(format!("{}s", deploy::rollout_seconds(env) + 300)));
    let mut script = vec![
        DEPLOY_SETUP.to_string(),
        tag.to_string(),
        "rm -f \"$CI_PROJECT_DIR/.deployc/release-$ENVIRONMENT.env\"".into(),
    ];
    let mut hooks = Vec::new();
    for b in deploy::backups(m, env) {
        match b {
            Backup::Hook { job: j, .. } => hooks.push((deploy::CHECK_BACKUP_HOOK, vec![("JOB", j)])),
            Backup::Snapshot { id, script: s, .. } => {
                let st = job.step(
                    &format!("SNAPSHOT=\"$ID-predeploy-$CI_PIPELINE_ID\"\n{s}"),
                    &[("ID", id), ("AWS_DEFAULT_REGION", deploy::aws_region(m))],
                );
                script.push(st);
            }
        }
    }
    let pick = match source {
        None if m.pipeline.incremental => format!(
            "case \"$IMAGE_TAG\" in\n  \"\") echo \"the tag policy gives no image tag for this ref\" >&2; exit 1 ;;\n  latest) echo \"refusing to deploy the mutable tag latest\" >&2; exit 1 ;;\nesac\n{SCOPE_FILE}{}{}",
            changes::READ_SCOPE,
            changes::release_sh("$IMAGE_TAG")
        ),
        None => "case \"$IMAGE_TAG\" in\n  \"\") echo \"the tag policy gives no image tag for this ref\" >&2; exit 1 ;;\n  latest) echo \"refusing to deploy the mutable tag latest\" >&2; exit 1 ;;\nesac\nreleased=\"\"\nfor image in $IMAGES; do\n  set_tag \"$KUSTOMIZATION\" \"$image\" \"$IMAGE_TAG\"\n  released=\"$released $image:$IMAGE_TAG\"\ndone\n".to_string(),
        Some(f) => {
            job.var("SOURCE", lit(deploy::kustomization(m, f)));
            job.var("SOURCE_ENVIRONMENT", lit(f.name.clone()));
            job.var("SOURCE_TAG", lit(deploy::verified_tag(f)));
            format!("{READ_TAG}SOURCE_FILE=\"$CI_PROJECT_DIR/.deployc/source-kustomization.yaml\"\n{}released=\"\"\nfor image in $IMAGES; do\n  tag=$(tag_of \"$SOURCE_FILE\" \"$image\")\n  if [ -z \"$tag\" ]; then echo \"$SOURCE_ENVIRONMENT verified no tag of $image\" >&2; exit 1; fi\n  set_tag \"$KUSTOMIZATION\" \"$image\" \"$tag\"\n  released=\"$released $image:$tag\"\ndone\n", deploy::READ_VERIFIED)
        }
    };
    script.push(format!(
        "{GIT_SETUP}: > \"$RELEASE_OUT\"\n{SET_TAG}{pick}printf \"released='%s'\\n\" \"${{released# }}\" >> \"$RELEASE_OUT\"\nRELEASED=\"${{released# }}\"\n{}",
        deploy::COMMIT_RELEASE
    ));
    let start = if auto { "argocd app get \"$APP\" --refresh > /dev/null" } else { "argocd app sync \"$APP\" --async" };
    let paused = deploy::outcome(env) == Outcome::AwaitingPromotion;
    let flags = if paused { "--sync --health --suspended --operation" } else { "--sync --health --operation" };
    script.push(format!("{start}\nargocd app wait \"$APP\" {flags} --timeout \"$TIMEOUT\""));
    for (s, env_) in hooks {
        let st = job.step(s, &env_);
        script.push(st);
    }
    let mut checks = Vec::new();
    let (image, extra) = check_image(m, env);
    if !extra.is_empty() {
        checks.push((format!("apk add --no-cache {} > /dev/null", extra.join(" ")), vec![]));
        if extra.contains(&"py3-pip") {
            // Alpine's Python is the system's: pip installs into it only when told.
            job.var("PIP_BREAK_SYSTEM_PACKAGES", lit("1"));
        }
    }
    for c in deploy::checks(m, env) {
        match c {
            Check::Health { urls } => checks.push((deploy::HEALTH_CHECK.to_string(), vec![("HEALTH_URLS".into(), urls.join(" "))])),
            Check::Routes { urls } => checks.push((deploy::SMOKE_TESTS.to_string(), vec![("ROUTES".into(), urls.join(" "))])),
            Check::Verification if m.pipeline.incremental && source.is_none() => checks.push((
                format!("{SCOPE_FILE}{}{}", changes::READ_SCOPE, changes::verify_sh("$IMAGE_TAG")).trim_end().to_string(),
                vec![],
            )),
            Check::Verification => checks.push((
                "live=$(argocd app get \"$APP\" --output json | jq -r '.status.summary.images[]?')\nfor image in $IMAGES; do\n  printf '%s\\n' \"$live\" | grep -qxF \"$image:$IMAGE_TAG\" || { echo \"$image:$IMAGE_TAG is not running\"; exit 1; }\ndone".to_string(),
                vec![],
            )),
            Check::Suite(suite) => {
                let tc = m.built(m.service(suite.service)).map(|b| b.toolchain);
                let mut env_: Vec<(String, String)> =
                    vec![("SUITE_DIR".into(), suite.dir.clone()), ("BASE_URL".into(), suite.base_url.clone())];
                let mut script = String::from("export BASE_URL\ncd \"$CI_PROJECT_DIR/$SUITE_DIR\"\n");
                let cmds: Vec<String> =
                    tc.and_then(|t| t.install.clone().filter(|_| suite.install))
                        .into_iter()
                        .chain(suite.commands.iter().cloned())
                        .collect();
                for (i, c) in cmds.into_iter().enumerate() {
                    env_.push((suite_command(i), c));
                    script.push_str(&format!("bash -c \"${}\"\n", suite_command(i)));
                }
                checks.push((script.trim_end().to_string(), env_));
            }
        }
    }
    job.image = Some(image.clone());
    let record = format!("{GIT_SETUP}{READ_RELEASE}{}", deploy::RECORD_VERIFIED);
    let rollback = format!("(\nset -e\n{GIT_SETUP}{READ_RELEASE}{}\n)", deploy::ROLLBACK);
    job.artifacts =
        Some(Artifacts { when: "always".into(), paths: vec![".deployc/".into()], expire_in: "1 week".into() });
    if paused {
        // Awaiting promotion: nothing reported or recorded until the release job.
        let mut rel = Job::new(stage);
        rel.image = Some(image);
        rel.rules =
            vec![Rule { cond: Some(trigger_rule(m, env)), when: Some("manual".into()), allow_failure: Some(false) }];
        rel.needs = Some(vec![format!("deploy:{}", env.name)]);
        rel.environment = Some(EnvRef {
            name: env.name.clone(),
            url: job.environment.as_ref().and_then(|e| e.url.clone()),
            deployment_tier: tier(env),
            action: None,
        });
        rel.resource_group = Some(env.name.clone());
        rel.timeout = job.timeout.clone();
        rel.variables =
            job.variables.iter().filter(|(k, _)| !k.starts_with("STEP")).map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut s = vec![DEPLOY_SETUP.to_string(), tag.to_string(), deploy::PROMOTE_ROLLOUT.to_string()];
        for (c, e) in &checks {
            let st = rel.step(c, e);
            s.push(st);
        }
        s.push(record);
        let (ok, bad, back) = notices(m, env, &mut rel);
        s.extend(ok);
        rel.script = s;
        rel.after_script = on_failure(rollback.clone(), &bad, &back);
        rel.artifacts = job.artifacts.clone();
        let (_, bad, back) = notices(m, env, &mut job);
        job.script = script;
        job.after_script = on_failure(rollback, &bad, &back);
        (job, Some(rel))
    } else {
        for (c, e) in &checks {
            let st = job.step(c, e);
            script.push(st);
        }
        script.push(record);
        let (ok, bad, back) = notices(m, env, &mut job);
        script.extend(ok);
        job.script = script;
        job.after_script = on_failure(rollback, &bad, &back);
        (job, None)
    }
}
