//! The GitHub Actions target: CI, quality and security gates, PR checks,
//! image build and push, and CD along the promotion graph, written under
//! `pipeline.workflows_dir` (default `.github/workflows/`) when the program's
//! pipeline provider is GitHub Actions.
//!
//! | file | runs on | holds |
//! | --- | --- | --- |
//! | `ci.yml` | `pipeline.triggers` (+ the `when` of lint/type/test gates) | per service: lint, type check, tests with coverage thresholds, build; Docker build test; pre-commit; lint/type/test gates |
//! | `security.yml` | the `when` of the security gates | one job per gate, with the tool's own invocation, threshold and SARIF upload |
//! | `pr-checks.yml` | pull requests | title, size labels, conflicts, labels by path |
//! | `cd.yml` | pushes and tags | build, sign and push images; deploy the automatically promoted environments |
//! | `promote-<env>.yml` | `workflow_dispatch` | deploy a manually promoted environment, behind its GitHub environment |
//!
//! Workflows are typed structs ([`wf`]) serialised by our YAML writer; the
//! pin table ([`pins`]) supplies every action's commit. A deploy job `needs`
//! exactly the gate jobs its environment `requires`, so GitHub enforces the
//! program's promotion conditions.
//!
//! **Invariant:** no `run:` script contains `${{ }}`; values reach scripts
//! through `env`. Top-level permissions are empty; jobs ask for their own.

mod cd;
mod ci;
mod dependabot;
pub mod deploy;
pub mod gates;
pub mod steps;
pub mod wf;

use super::{Artifact, Target};
use crate::model::{Model, Trigger};
use crate::pins;
pub use crate::plan::delivery::dedup;
use crate::plan::Plan;
use wf::{Cron, Empty, On, PullRequest, Push, Workflow};

/// Emits the workflows, or nothing when the pipeline runs on another provider.
pub fn emit(plan: &Plan) -> Vec<Artifact> {
    let model = plan.model;
    let cx = Cx::new(model);
    // Dependabot runs for a repository on GitHub, whichever CI builds it.
    let mut out: Vec<Artifact> = dependabot::dependabot(&cx).into_iter().collect();
    if model.pipeline.provider != crate::model::PipelineProvider::GithubActions
        || model.built_services().next().is_none()
    {
        return out;
    }
    out.push(ci::ci(&cx));
    if let Some(a) = gates::security(&cx) {
        out.push(a);
    }
    out.extend(ci::pr_checks(&cx));
    out.push(cd::cd(&cx));
    out.extend(cd::promotions(&cx));
    out
}

/// What every workflow builder reads.
pub struct Cx<'a> {
    pub model: &'a Model,
    /// The workflows folder inside the output tree, without trailing slash.
    pub dir: String,
}

impl<'a> Cx<'a> {
    pub fn new(model: &'a Model) -> Self {
        let dir = model.pipeline.workflows_dir.trim_matches('/').to_string();
        let dir = if dir.is_empty() { ".github/workflows".to_string() } else { dir };
        Cx { model, dir }
    }
    pub fn path(&self, file: &str) -> String {
        format!("{}/{file}", self.dir)
    }
    /// The folder above the workflows (`.github`), where GitHub reads its
    /// other configuration files (labeler, Dependabot).
    pub fn github_dir(&self) -> String {
        self.dir.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_else(|| ".github".into())
    }
    /// Where the generated tree lives in the repository (`project.gitops.path`).
    pub fn gitops_path(&self) -> String {
        crate::plan::delivery::gitops_path(self.model)
    }
    /// The branch GitOps commits go to: the revision ArgoCD tracks, or the
    /// project's branch when it tracks HEAD.
    pub fn gitops_branch(&self) -> String {
        data(&crate::plan::delivery::gitops_branch(self.model))
    }
    /// The services CI builds (a prebuilt image is neither linted nor built).
    pub fn services(&self) -> impl Iterator<Item = crate::model::Built<'a>> {
        self.model.built_services()
    }
    /// One matrix entry per service with what a Docker build needs, and its
    /// image repository when the build pushes.
    pub fn build_matrix(&self, with_image: bool) -> Vec<wf::Map> {
        self.services()
            .map(|s| {
                let mut m = wf::Map::from([
                    ("service".to_string(), s.name.clone()),
                    ("context".to_string(), data(&s.build_context)),
                    ("dockerfile".to_string(), data(&s.dockerfile)),
                    ("target".to_string(), data(s.build_target.as_deref().unwrap_or_default())),
                ]);
                if with_image {
                    m.insert("image".to_string(), data(&crate::plan::env::image_repository(self.model, &s.image)));
                    if let Some(mirror) = crate::plan::delivery::image_mirror(self.model) {
                        m.insert("mirror".to_string(), data(&mirror.image(&s.image)));
                    }
                }
                m
            })
            .collect()
    }
}

/// The GitHub secret a `secret("name")` of the program is read from:
/// upper case, `-` and `.` as `_` (`slack-webhook` → `SLACK_WEBHOOK`).
pub fn secret_name(s: &str) -> String {
    s.to_ascii_uppercase().replace(['-', '.'], "_")
}

/// `${{ secrets.NAME }}` for a program secret.
pub fn secret_ref(s: &str) -> String {
    format!("${{{{ secrets.{} }}}}", secret_name(s))
}

/// The `on:` block that fires for every trigger in the list.
pub fn on_for(triggers: &[Trigger]) -> On {
    let mut on = On::default();
    let mut branches = Vec::new();
    let mut tags = Vec::new();
    let mut any_branch = false;
    for t in dedup(triggers) {
        match t {
            Trigger::PullRequest => on.pull_request = Some(PullRequest::default()),
            Trigger::Push(None) => any_branch = true,
            Trigger::Push(Some(b)) => branches.push(b),
            Trigger::Tag(p) => tags.push(p),
            Trigger::Schedule(c) => on.schedule.push(Cron { cron: c }),
            Trigger::Manual => on.workflow_dispatch = Some(Empty {}),
        }
    }
    if any_branch {
        branches = vec!["**".into()];
    }
    if !branches.is_empty() || !tags.is_empty() {
        on.push = Some(Push { branches: dedup(&branches), tags: dedup(&tags) });
    }
    on
}

/// A string literal in a GitHub expression. A value holding `${` is
/// written through `format()` with `$` as an argument, so the expression's
/// text never contains `${{` (GitHub would evaluate it, even inside quotes).
fn quote(s: &str) -> String {
    let lit = s.replace('\'', "''");
    if !s.contains("${") {
        return format!("'{lit}'");
    }
    let fmt = lit.replace('{', "{{").replace('}', "}}").replace('$', "{0}");
    format!("format('{fmt}', '$')")
}

/// A program string as a workflow value: GitHub evaluates `${{ }}` in
/// `env:`, `with:` and matrix values, so each `${{` of the program becomes
/// the expression `${{ '${{' }}`, which yields `${{` itself.
pub fn data(s: &str) -> String {
    s.replace("${{", "${{ '${{' }}")
}

/// A comment line that stays one line whatever the program's strings hold.
pub fn comment(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// `github.ref` compared with a ref pattern: equality, or a test of the
/// literal text before the first and after the last `*` (`v*`,
/// `release/*`). GitHub expressions have no glob matching, so the test is
/// looser than the pattern (`release/*` also admits `release/a/b`). Where
/// the workflow's `on.push` filter (which globs exactly) does not already
/// exclude such refs, cd.yml's scope job matches the ref with the pattern's
/// regex (`plan::changes`) and the deploy job requires its answer.
fn ref_test(prefix: &str, pattern: &str) -> String {
    match (pattern.find('*'), pattern.rfind('*')) {
        (Some(i), Some(j)) => {
            let start = format!("startsWith(github.ref, {})", quote(&format!("{prefix}{}", &pattern[..i])));
            match &pattern[j + 1..] {
                "" => start,
                end => format!("{start} && endsWith(github.ref, {})", quote(end)),
            }
        }
        _ => format!("github.ref == {}", quote(&format!("{prefix}{pattern}"))),
    }
}

/// The expression that is true when `t` fired, in a workflow started by `all`.
pub fn trigger_test(t: &Trigger, all: &[Trigger]) -> String {
    let has_tags = all.iter().any(|x| matches!(x, Trigger::Tag(_)));
    let schedules = all.iter().filter(|x| matches!(x, Trigger::Schedule(_))).count();
    match t {
        Trigger::PullRequest => "github.event_name == 'pull_request'".into(),
        Trigger::Push(None) if has_tags => "github.event_name == 'push' && github.ref_type == 'branch'".into(),
        Trigger::Push(None) => "github.event_name == 'push'".into(),
        Trigger::Push(Some(b)) => format!("github.event_name == 'push' && {}", ref_test("refs/heads/", b)),
        Trigger::Tag(p) => format!("github.event_name == 'push' && {}", ref_test("refs/tags/", p)),
        Trigger::Schedule(c) if schedules > 1 => {
            format!("github.event_name == 'schedule' && github.event.schedule == {}", quote(c))
        }
        Trigger::Schedule(_) => "github.event_name == 'schedule'".into(),
        Trigger::Manual => "github.event_name == 'workflow_dispatch'".into(),
    }
}

/// Whether the job's triggers include every trigger of the workflow.
fn covers(job: &[Trigger], all: &[Trigger]) -> bool {
    all.iter()
        .all(|t| job.iter().any(|j| j == t || (matches!(j, Trigger::Push(None)) && matches!(t, Trigger::Push(_)))))
}

/// The `if:` of a job that runs on `job` triggers in a workflow started by
/// `all`; `None` when it runs on all of them.
pub fn job_if(job: &[Trigger], all: &[Trigger]) -> Option<String> {
    if covers(job, all) {
        return None;
    }
    let tests: Vec<String> = dedup(job).iter().map(|t| trigger_test(t, all)).collect();
    Some(or(&tests))
}

/// `a || b`, parenthesising conjunctions.
pub fn or(tests: &[String]) -> String {
    if tests.len() == 1 {
        return tests[0].clone();
    }
    tests.iter().map(|t| if t.contains("&&") { format!("({t})") } else { t.clone() }).collect::<Vec<_>>().join(" || ")
}

/// A finished workflow file: a header comment, the YAML with action versions
/// annotated, and justified Checkov skips placed inside the jobs they concern.
pub fn file(cx: &Cx, name: &str, header: &[String], wf: &Workflow, skips: &[(String, String)]) -> Artifact {
    let yaml = super::yaml::to_string(wf).unwrap_or_else(|e| format!("# deployc: serialization failed: {e}\n"));
    let yaml = pins::annotate(&yaml, &cx.model.pipeline.actions);
    let mut body = String::with_capacity(yaml.len() + 512);
    for line in yaml.lines() {
        // Checkov reads `# checkov:skip=ID: reason` comments inside the
        // block a check looks at; a job's first line is inside `jobs`.
        for (job, comment) in skips {
            if line == format!("  {job}:") {
                body.push_str("  # ");
                body.push_str(comment);
                body.push('\n');
            }
        }
        body.push_str(line);
        body.push('\n');
    }
    let mut contents = format!(
        "# Generated by deployc from the {} program; edit the program, not this file.\n",
        cx.model.project.name
    );
    for h in header {
        if h.is_empty() {
            contents.push_str("#\n");
        } else {
            contents.push_str("# ");
            contents.push_str(&comment(h));
            contents.push('\n');
        }
    }
    contents.push_str(&body);
    Artifact::new(Target::Github, None, cx.path(name), contents)
}
