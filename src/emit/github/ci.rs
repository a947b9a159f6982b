//! `ci.yml` (per service: lint, type check, tests with coverage thresholds,
//! build; the Docker build test; pre-commit; lint/type/test gates) and
//! `pr-checks.yml` with the labeler configuration it reads.

use super::gates;
use super::steps::{self, checkout, coverage_check, coverage_report, prepare, test_commands};
use super::wf::{Concurrency, Container, Job, Map, PullRequest, Step, Workflow};
use super::{dedup, file, job_if, on_for, secret_ref, Cx};
use crate::emit::Artifact;
use crate::model::{Built, Gate, IntegrationKind, Service, Trigger};
use crate::pins;
use indexmap::IndexMap;
use serde::Serialize;

fn cancel_superseded() -> Option<Concurrency> {
    Some(Concurrency { group: "${{ github.workflow }}-${{ github.ref }}".into(), cancel_in_progress: true })
}

/// The coverage gates covering a service; their highest minimum is its CI threshold.
fn coverage_min(cx: &Cx, s: &Service) -> Option<f64> {
    cx.model
        .gates
        .iter()
        .filter(|g| g.kind == "coverage" && (g.services.is_empty() || g.services.contains(&s.id)))
        .filter_map(|g| g.min)
        .fold(None, |a: Option<f64>, m| Some(a.map_or(m, |a| a.max(m))))
}

fn codecov_token(cx: &Cx) -> Option<String> {
    cx.model.integrations.iter().find_map(|i| match &i.kind {
        IntegrationKind::Codecov { token } => Some(token.clone()),
        _ => None,
    })
}

/// The CI job of one service, its steps taken from the toolchain preset.
fn service_job(cx: &Cx, s: Built, cache: bool) -> Job {
    let tc = s.toolchain;
    let mut parts = Vec::new();
    if !tc.lint.is_empty() {
        parts.push("lint");
    }
    if !tc.typecheck.is_empty() {
        parts.push("type check");
    }
    if tc.coverage.is_some() || !tc.test.is_empty() {
        parts.push("test");
    }
    if tc.build.is_some() {
        parts.push("build");
    }
    let what = if parts.is_empty() { "install".to_string() } else { parts.join(", ") };
    let mut job = Job::new(format!("{} ({what})", s.name)).working_directory(&s.build_context);
    job = job.step(checkout());
    job = job.steps(prepare(tc, &s, cache).into_iter().map(|mut st| {
        // The job's default working directory already is the build context.
        st.working_directory = None;
        st
    }));
    for l in &tc.lint {
        job = job.step(Step::run(format!("Lint: {l}"), l.clone()));
    }
    for t in &tc.typecheck {
        job = job.step(Step::run(format!("Type check: {t}"), t.clone()));
    }
    // Prisma checks its schema without a database; the other migration
    // tools need one, so their migrations are checked where they run.
    if s.migrations.as_ref().is_some_and(|m| m.tool == "prisma") {
        job = job.step(Step::run("Validate the Prisma schema and migrations", "npx prisma validate"));
    }
    for (n, c) in test_commands(tc) {
        job = job.step(Step::run(n, c));
    }
    if tc.coverage.is_some() {
        if let Some(min) = coverage_min(cx, &s) {
            job = job.step(coverage_check(
                tc,
                &format!("Coverage at least {}% (coverage gate)", steps::pct(min)),
                min,
                ".",
            ));
        }
        if let Some(min) = cx.model.pipeline.pr_checks.coverage {
            job = job.step(
                coverage_check(tc, &format!("Coverage at least {}% (pull request check)", steps::pct(min)), min, ".")
                    .when("github.event_name == 'pull_request'"),
            );
        }
        if let Some(token) = codecov_token(cx) {
            job = job.step(
                Step::uses("Upload coverage to Codecov", "codecov/codecov-action")
                    .when("${{ !cancelled() }}")
                    .with("token", secret_ref(&token))
                    .with("files", steps::join(&s.build_context, coverage_report(tc)))
                    .with("flags", s.name.clone())
                    .with("fail_ci_if_error", false),
            );
        }
    }
    if let Some(b) = &tc.build {
        job = job.step(Step::run("Build", b.clone()));
    }
    job
}

/// The integration stage of one service: its `integration` commands with
/// its databases and caches as service containers, after its unit tests.
fn integration_job(cx: &Cx, s: Built, cache: bool) -> Job {
    let tc = s.toolchain;
    let mut job = Job::new(format!("{} (integration tests)", s.name)).working_directory(&s.build_context);
    for t in crate::plan::delivery::test_services(cx.model, &s) {
        let env: Map = t.container_env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        job.services.insert(
            t.alias.to_string(),
            Container {
                image: t.image.to_string(),
                env,
                ports: vec![format!("{0}:{0}", t.port)],
                options: format!(
                    "--health-cmd \"{}\" --health-interval 5s --health-timeout 5s --health-retries 20",
                    t.ready.replace('"', "\\\"")
                ),
            },
        );
        job.env.insert(t.var.to_string(), t.url_at("localhost", &t.port.to_string()));
    }
    job = job.step(checkout());
    job = job.steps(prepare(tc, &s, cache).into_iter().map(|mut st| {
        st.working_directory = None;
        st
    }));
    for c in &tc.integration {
        job = job.step(Step::run(format!("Integration tests: {c}"), c.clone()));
    }
    job
}

/// Builds every image without pushing it: the Dockerfiles still build.
fn docker_job(cx: &Cx) -> Job {
    let include = cx.build_matrix(false);
    let mut j = Job::new("Docker build test (${{ matrix.service }})").matrix(include);
    j = j.steps([
        checkout(),
        Step::uses("Set up Buildx", "docker/setup-buildx-action"),
        Step::uses("Build the image", "docker/build-push-action")
            .with("context", "${{ matrix.context }}")
            .with("file", "${{ matrix.dockerfile }}")
            .with("target", "${{ matrix.target }}")
            .with("push", false)
            .with("tags", "${{ matrix.service }}:ci"),
    ]);
    j
}

fn pre_commit_job() -> Job {
    Job::new("pre-commit hooks").steps([
        checkout(),
        Step::uses("Set up Python", "actions/setup-python").with("python-version", "3.12"),
        Step::run(
            "Install pre-commit",
            format!("python -m pip install --disable-pip-version-check 'pre-commit=={}'", pins::tool("pre-commit")),
        ),
        Step::run("Run every hook on every file", "pre-commit run --all-files --show-diff-on-failure"),
    ])
}

/// `ci.yml`.
pub fn ci(cx: &Cx) -> Artifact {
    let p = &cx.model.pipeline;
    let quality: Vec<&Gate> =
        cx.model.gates.iter().filter(|g| crate::plan::delivery::is_quality(g) && g.kind != "coverage").collect();
    // Tags go to cd.yml, which builds the release; CI tested the commit on
    // its branch. Workflows started by tags also must not restore caches a
    // pull request could have written.
    let mut ci_triggers: Vec<Trigger> = p.triggers.iter().filter(|t| !matches!(t, Trigger::Tag(_))).cloned().collect();
    if ci_triggers.is_empty() {
        ci_triggers = vec![Trigger::Push(Some(cx.model.project.branch.clone())), Trigger::PullRequest];
    }
    let mut all: Vec<Trigger> = ci_triggers.clone();
    for g in &quality {
        all.extend(g.when.iter().cloned());
    }
    let all = dedup(&all);
    let ci_if = job_if(&ci_triggers, &all);
    let cache = !all.iter().any(|t| matches!(t, Trigger::Tag(_)));
    let mut jobs = IndexMap::new();
    for s in cx.services() {
        let mut j = service_job(cx, s, cache);
        j.if_ = ci_if.clone();
        jobs.insert(format!("test-{}", s.name), j);
        if !s.toolchain.integration.is_empty() {
            let mut j = integration_job(cx, s, cache);
            j.if_ = ci_if.clone();
            j.needs = vec![format!("test-{}", s.name)];
            jobs.insert(format!("integration-{}", s.name), j);
        }
    }
    let mut d = docker_job(cx);
    d.if_ = ci_if.clone();
    jobs.insert("docker-build".to_string(), d);
    if p.pre_commit {
        let mut j = pre_commit_job();
        j.if_ = ci_if.clone();
        jobs.insert("pre-commit".to_string(), j);
    }
    let mut skips = vec![(
        "docker-build".to_string(),
        "checkov:skip=CKV_GHA_5,CKV_GHA_6:this job only tests that the Dockerfiles build and pushes nothing; cd.yml signs and attests the images it publishes".to_string(),
    )];
    for g in &quality {
        let (mut j, s) = gates::job(cx, g, !all.iter().any(|t| matches!(t, Trigger::Tag(_))));
        j.if_ = job_if(&g.when, &all);
        skips.extend(s);
        jobs.insert(gates::job_id(g), j);
    }
    let wf = Workflow {
        name: "CI".into(),
        on: on_for(&all),
        permissions: Map::new(),
        concurrency: cancel_superseded(),
        jobs,
    };
    let mut header = vec![
        "CI: per service, the steps of its toolchain preset (install, lint, type".to_string(),
        "check, tests or the coverage command, build), coverage thresholds from the".to_string(),
        "program's coverage gates and pull-request checks, and a build of every".to_string(),
        "Dockerfile.".to_string(),
    ];
    if codecov_token(cx).is_some() {
        header.push("Coverage reports go to Codecov (secret from the codecov integration).".into());
    }
    file(cx, "ci.yml", &header, &wf, &skips)
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Glob {
    any_glob_to_any_file: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ChangedFiles {
    changed_files: Vec<Glob>,
}

/// The labeler's configuration: one label per service, by its folder, and
/// one for changes to the generated deployment tree.
fn labeler(cx: &Cx, path: &str) -> Artifact {
    let mut m: IndexMap<String, Vec<ChangedFiles>> = IndexMap::new();
    for s in cx.services() {
        let glob = steps::join(&s.build_context, "**");
        m.insert(s.name.clone(), vec![ChangedFiles { changed_files: vec![Glob { any_glob_to_any_file: vec![glob] }] }]);
    }
    let gitops = format!("{}**", cx.gitops_path());
    m.insert("deploy".into(), vec![ChangedFiles { changed_files: vec![Glob { any_glob_to_any_file: vec![gitops] }] }]);
    let yaml = crate::emit::yaml::to_string(&m).unwrap_or_default();
    Artifact::new(
        crate::emit::Target::Github,
        None,
        path.to_string(),
        format!(
            "# Generated by deployc from the {} program: labels for actions/labeler (pr-checks.yml).\n{yaml}",
            cx.model.project.name
        ),
    )
}

/// The base of a pull request's changes: the checkout is GitHub's merge
/// commit, whose first parent is the base branch as merged (no event data
/// reaches the script).
const MERGE_BASE: &str = "BASE_SHA=$(git rev-parse HEAD^1)\n";

/// The pull request's changed files by the services they rebuild
/// (`plan::changes::PR_FILES_SH`), in the job summary.
fn changed_files_job(cx: &Cx) -> Job {
    use crate::plan::changes;
    let m = cx.model;
    let script = format!(
        "{MERGE_BASE}SUMMARY=\"$GITHUB_STEP_SUMMARY\"\nOUT=\"$GITHUB_OUTPUT\"\n{}{}",
        changes::MATCHES_SH,
        changes::PR_FILES_SH
    );
    let mut j = Job::new("Changed files by service").permissions(&[("contents", "read")]).timeout(5);
    j.outputs.insert("services".into(), "${{ steps.changes.outputs.services }}".into());
    j.step(steps::checkout_history()).step(
        Step::run("Summarise the changed files", script)
            .id("changes")
            .env("SERVICES", super::data(&changes::services_var(m)))
            .env("SHARED", super::data(&changes::shared_var(m)))
            .env("IGNORED", super::data(&changes::ignored(m))),
    )
}

/// Fails when a function in a changed file is more complex than `max`
/// (lizard's cyclomatic complexity); files lizard cannot read are skipped.
fn complexity_job(max: u32) -> Job {
    let script = r#"git diff --name-only --diff-filter=ACMR -z "$BASE_SHA" HEAD > changed-files < /dev/null
if [ ! -s changed-files ]; then
  echo "no file added or changed"
  exit 0
fi
python -m pip install --quiet "lizard==$LIZARD_VERSION"
# lizard scans the working directory when given no file: the check above
# keeps it to the pull request's files.
xargs -0 lizard --CCN "$MAX_CCN" --warnings_only < changed-files"#;
    let script = format!("{MERGE_BASE}{script}");
    Job::new(format!("Complexity at most {max}"))
        .permissions(&[("contents", "read")])
        .timeout(10)
        .step(steps::checkout_history())
        .step(Step::uses("Set up Python", "actions/setup-python").with("python-version", "3.12"))
        .step(
            Step::run("Cyclomatic complexity of the changed functions (lizard)", script)
                .env("MAX_CCN", max.to_string())
                .env("LIZARD_VERSION", pins::tool("lizard")),
        )
}

/// The formats of `benchmark { format }`, as github-action-benchmark's `tool`.
const BENCHMARK_TOOLS: &[(&str, &str)] = &[
    ("pytest", "pytest"),
    ("go", "go"),
    ("cargo", "cargo"),
    ("benchmarkjs", "benchmarkjs"),
    ("benchmarkdotnet", "benchmarkdotnet"),
    ("googlecpp", "googlecpp"),
    ("catch2", "catch2"),
    ("julia", "julia"),
    ("custom_bigger_is_better", "customBiggerIsBetter"),
    ("custom_smaller_is_better", "customSmallerIsBetter"),
];

/// One service's benchmarks: run, compared with the default branch's last
/// results (kept in the Actions cache by the runs on that branch), failing
/// a pull request `worse` percent worse than them.
fn benchmark_job(cx: &Cx, s: &Built, worse: f64) -> Job {
    let Some(b) = &s.toolchain.benchmark else { return Job::new("benchmarks") };
    let tool = BENCHMARK_TOOLS.iter().find(|(w, _)| *w == b.format).map_or("customSmallerIsBetter", |(_, t)| *t);
    let data = format!(".benchmarks/{}", s.name);
    let key = format!("benchmarks-{}-", s.name);
    let on_default =
        format!("github.event_name == 'push' && github.ref_name == {}", super::quote(&cx.model.project.branch));
    let mut j = Job::new(format!("{} (benchmarks)", s.name)).permissions(&[("contents", "read")]).timeout(30);
    j = j.step(checkout());
    j = j.steps(prepare(s.toolchain, s, false));
    j.step(Step::run(format!("Benchmarks: {}", b.command), b.command.clone()).dir(&s.build_context))
        .step(
            Step::uses("The default branch's last results", "actions/cache/restore")
                .with("path", data.clone())
                .with("key", format!("{key}${{{{ github.sha }}}}"))
                .with("restore-keys", key.clone()),
        )
        .step(
            Step::uses("Compare with them", "benchmark-action/github-action-benchmark")
                .with("name", s.name.clone())
                .with("tool", tool)
                .with("output-file-path", steps::join(&s.build_context, &b.output))
                .with("external-data-json-path", format!("{data}/data.json"))
                // The action's threshold is the ratio to the baseline.
                .with("alert-threshold", format!("{}%", steps::pct(100.0 + worse)))
                .with("fail-on-alert", true)
                .with("summary-always", true)
                .with("save-data-file", "${{ github.event_name == 'push' }}"),
        )
        .step(
            Step::uses("Keep them as the baseline", "actions/cache/save")
                .when(&on_default)
                .with("path", data)
                .with("key", format!("{key}${{{{ github.sha }}}}")),
        )
}

/// `pr-checks.yml` and the labeler configuration, when the program asks for PR checks.
pub fn pr_checks(cx: &Cx) -> Vec<Artifact> {
    let pc = &cx.model.pipeline.pr_checks;
    let benched: Vec<Built> = match pc.benchmarks {
        Some(_) => cx.services().filter(|s| s.toolchain.benchmark.is_some()).collect(),
        None => Vec::new(),
    };
    if !(pc.title || pc.size_labels || pc.conflicts || pc.auto_label || pc.changed_files || pc.complexity.is_some())
        && benched.is_empty()
    {
        return Vec::new();
    }
    let same_repo = "github.event.pull_request.head.repo.full_name == github.repository";
    let mut jobs = IndexMap::new();
    if pc.title {
        jobs.insert(
            "title".to_string(),
            Job::new("Conventional-commit title").permissions(&[("pull-requests", "read")]).timeout(5).step(
                Step::uses("Validate the title", "amannn/action-semantic-pull-request")
                    .env("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}"),
            ),
        );
    }
    if pc.size_labels {
        let mut j = Job::new("Size label")
            .permissions(&[("contents", "read"), ("issues", "write"), ("pull-requests", "write")])
            .timeout(5);
        // Pull requests from forks get a read-only token: nothing to label with.
        j.if_ = Some(same_repo.into());
        j = j.step(
            Step::run(
                "Label by lines changed",
                r#"changed=$(gh pr view "$PR" --json additions,deletions --jq '.additions + .deletions')
if [ "$changed" -lt 10 ]; then size=XS
elif [ "$changed" -lt 100 ]; then size=S
elif [ "$changed" -lt 500 ]; then size=M
elif [ "$changed" -lt 1000 ]; then size=L
else size=XL
fi
echo "$changed lines changed: size/$size"
gh label create "size/$size" --color ededed --description "pull request size" --force
for old in $(gh pr view "$PR" --json labels --jq '.labels[].name | select(startswith("size/"))'); do
  [ "$old" = "size/$size" ] || gh pr edit "$PR" --remove-label "$old"
done
gh pr edit "$PR" --add-label "size/$size""#,
            )
            .env("GH_TOKEN", "${{ secrets.GITHUB_TOKEN }}")
            .env("GH_REPO", "${{ github.repository }}")
            .env("PR", "${{ github.event.pull_request.number }}"),
        );
        jobs.insert("size".to_string(), j);
    }
    if pc.conflicts {
        jobs.insert(
            "conflicts".to_string(),
            Job::new("Merge conflicts")
                .permissions(&[("contents", "read"), ("pull-requests", "read")])
                .timeout(5)
                .step(
                    Step::run(
                        "Fail when the branch does not merge cleanly",
                        r#"# GitHub computes mergeability in the background: UNKNOWN means not yet.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  state=$(gh pr view "$PR" --json mergeable --jq .mergeable)
  [ "$state" != "UNKNOWN" ] && break
  sleep 6
done
echo "mergeable: $state"
if [ "$state" = "CONFLICTING" ]; then
  echo "::error::this pull request has merge conflicts with its base branch"
  exit 1
fi"#,
                    )
                    .env("GH_TOKEN", "${{ secrets.GITHUB_TOKEN }}")
                    .env("GH_REPO", "${{ github.repository }}")
                    .env("PR", "${{ github.event.pull_request.number }}"),
                ),
        );
    }
    let mut out = Vec::new();
    if pc.auto_label {
        let config = format!("{}/labeler.yml", cx.github_dir());
        let mut j = Job::new("Labels by changed paths")
            .permissions(&[("contents", "read"), ("pull-requests", "write")])
            .timeout(5);
        j.if_ = Some(same_repo.into());
        j = j.step(
            Step::uses("Label", "actions/labeler").with("configuration-path", config.clone()).with("sync-labels", true),
        );
        jobs.insert("labels".to_string(), j);
        out.push(labeler(cx, &config));
    }
    if pc.changed_files {
        jobs.insert("changed-files".to_string(), changed_files_job(cx));
    }
    if let Some(max) = pc.complexity {
        jobs.insert("complexity".to_string(), complexity_job(max));
    }
    for s in &benched {
        jobs.insert(format!("benchmarks-{}", s.name), benchmark_job(cx, s, pc.benchmarks.unwrap_or(50.0)));
    }
    // Benchmarks also run on pushes to the default branch: their results
    // are the baseline pull requests compare with. The other checks are
    // about pull requests only.
    let baseline = !benched.is_empty();
    let mut on = on_for(&[Trigger::PullRequest]);
    on.pull_request =
        Some(PullRequest { types: vec!["opened".into(), "edited".into(), "synchronize".into(), "reopened".into()] });
    if baseline {
        on.push = on_for(&[Trigger::Push(Some(cx.model.project.branch.clone()))]).push;
        for (name, j) in jobs.iter_mut() {
            if !name.starts_with("benchmarks-") {
                j.if_ = Some(match j.if_.take() {
                    Some(c) => format!("github.event_name == 'pull_request' && {c}"),
                    None => "github.event_name == 'pull_request'".into(),
                });
            }
        }
    }
    let wf = Workflow { name: "PR checks".into(), on, permissions: Map::new(), concurrency: cancel_superseded(), jobs };
    let mut header = vec!["Pull-request checks the program declares (pipeline.pr_checks).".to_string()];
    if let Some(c) = pc.coverage {
        header.push(format!("The {}% coverage check runs in ci.yml's test jobs, on pull requests.", steps::pct(c)));
    }
    out.push(file(cx, "pr-checks.yml", &header, &wf, &[]));
    out
}
