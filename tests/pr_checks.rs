//! Pull-request checks as GitHub runs them: the changed-files summary and
//! the complexity check run with bash against a real git repository checked
//! out as GitHub checks out a pull request (its merge commit, whose first
//! parent is the base branch), the complexity check with a
//! stub `lizard` that records what it was given; the benchmark job's
//! comparison and baseline as the workflow wires them.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_yaml_ng::Value;
use std::path::Path;
use std::process::Command;

const PROGRAM: &str = r#"
project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
}
toolchain py {
  family  = python
  install = "pip install -r requirements.txt"
  benchmark {
    command = "pytest bench --benchmark-json out.json"
    output  = "out.json"
    format  = pytest
  }
}
service api {
  language = py
  build    { context = "api" }
  port     = 8080
  health   = http { path = "/healthz" }
}
service web {
  language = typescript
  build    { context = "web" }
  port     = 8080
  health   = http { path = "/" }
}
environment staging { promote = on_push("main") }
pipeline {
  pr_checks {
    changed_files = true
    complexity    = 12
    benchmarks    = 25%
  }
}
"#;

fn workflow() -> Value {
    let c = deployc::compile("shop.dpl", PROGRAM, &common::Disk);
    assert!(!c.diagnostics.has_errors(), "{:?}", c.diagnostics.items);
    let (model, graph) = c.output.expect("a model");
    let arts = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Github]);
    let a = arts.iter().find(|a| a.path.ends_with("pr-checks.yml")).expect("pr-checks.yml");
    serde_yaml_ng::from_str(&a.contents).expect("YAML")
}

fn step<'a>(wf: &'a Value, job: &str, name_prefix: &str) -> &'a Value {
    wf["jobs"][job]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name_prefix)))
        .unwrap_or_else(|| panic!("{job}: step {name_prefix}"))
}

use common::git;

fn write(dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A repository with a base commit on `main`; returns its directory and the base SHA.
fn repo() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "api/main.py", "def f():\n    return 1\n");
    write(d, "web/index.ts", "export const a = 1;\n");
    write(d, "README.md", "shop\n");
    write(d, "shop.dpl", "project shop {}\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "base"]);
    let base = git(d, &["rev-parse", "HEAD"]);
    git(d, &["branch", "-q", "feature"]);
    (tmp, base)
}

/// Commits `change` on the pull request's branch, then checks out what
/// GitHub does: the merge of that branch into the base.
fn pr(d: &Path, base: &str, change: impl FnOnce(&Path)) {
    git(d, &["checkout", "-q", "feature"]);
    change(d);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "change"]);
    git(d, &["checkout", "-q", "--detach", base]);
    git(d, &["merge", "-q", "--no-ff", "-m", "merge", "feature"]);
}

fn files<'a>(files: &'a [(&'a str, &'a str)]) -> impl FnOnce(&Path) + 'a {
    move |d: &Path| {
        for (f, t) in files {
            write(d, f, t);
        }
    }
}

/// Runs a step's script in `d` with its env and GitHub's output files;
/// returns (exit code, $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY).
fn run(step: &Value, d: &Path, path: Option<&Path>) -> (i32, String, String) {
    let out = d.join(".gh-output");
    let summary = d.join(".gh-summary");
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(step["run"].as_str().expect("run")).current_dir(d);
    for (k, v) in step["env"].as_mapping().expect("env") {
        cmd.env(k.as_str().expect("key"), v.as_str().expect("value"));
    }
    cmd.env("GITHUB_OUTPUT", &out).env("GITHUB_STEP_SUMMARY", &summary);
    if let Some(p) = path {
        cmd.env("PATH", format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default()));
    }
    let o = cmd.output().expect("bash runs");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (o.status.code().unwrap_or(-1), read(&out), read(&summary))
}

#[test]
fn changed_files_name_the_services_they_rebuild() {
    let wf = workflow();
    let s = step(&wf, "changed-files", "Summarise");
    let (tmp, base) = repo();
    let d = tmp.path();
    pr(d, &base, files(&[("api/util.py", "x = 1\n"), ("README.md", "shop!\n")]));
    let (code, out, summary) = run(s, d, None);
    assert_eq!(code, 0, "{summary}");
    assert!(out.contains("services=api\n"), "{out}");
    assert!(summary.contains("| api | 1 | `api/util.py` |"), "{summary}");
    assert!(summary.contains("| web | 0 |"), "{summary}");
    // A shared file (the program) rebuilds every service.
    pr(d, &base, files(&[("shop.dpl", "project shop { }\n")]));
    let (_, out, summary) = run(s, d, None);
    assert!(out.contains("services=api web\n"), "{out}");
    assert!(summary.contains("A shared file changed (`shop.dpl`)"), "{summary}");
}

#[test]
fn a_file_name_cannot_break_the_summary_table() {
    let wf = workflow();
    let s = step(&wf, "changed-files", "Summarise");
    let (tmp, base) = repo();
    pr(tmp.path(), &base, files(&[("web/a`|b<script>.ts", "x\n")]));
    let (code, _, summary) = run(s, tmp.path(), None);
    assert_eq!(code, 0);
    let row = summary.lines().find(|l| l.starts_with("| web |")).expect("web row");
    assert_eq!(row.matches('|').count(), 4, "three cells: {row}");
    assert!(!row.contains('<') && row.matches('`').count() == 2, "{row}");
}

/// Stubs for `python -m pip install` and `lizard`; lizard records its
/// arguments, one per line, and fails when asked to, as on a warning.
fn stubs(d: &Path, lizard_fails: bool) -> tempfile::TempDir {
    let bin = tempfile::tempdir().expect("bin");
    let exec = |name: &str, body: &str| {
        let p = bin.path().join(name);
        std::fs::write(&p, format!("#!/usr/bin/env bash\n{body}\n")).expect("stub");
        Command::new("chmod").arg("+x").arg(&p).status().expect("chmod");
    };
    exec("python", "exit 0");
    let record = d.join(".lizard-args");
    exec(
        "lizard",
        &format!("printf '%s\\n' \"$@\" > '{}'\nexit {}", record.display(), if lizard_fails { 1 } else { 0 }),
    );
    bin
}

#[test]
fn complexity_reads_only_the_changed_files() {
    let wf = workflow();
    let s = step(&wf, "complexity", "Cyclomatic");
    let (tmp, base) = repo();
    let d = tmp.path();
    pr(d, &base, |d| {
        files(&[("api/util.py", "x = 1\n"), ("web/new file.ts", "y\n")])(d);
        std::fs::remove_file(d.join("README.md")).expect("rm");
    });
    let bin = stubs(d, false);
    let (code, ..) = run(s, d, Some(bin.path()));
    assert_eq!(code, 0);
    let args = std::fs::read_to_string(d.join(".lizard-args")).expect("lizard ran");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args, ["--CCN", "12", "--warnings_only", "api/util.py", "web/new file.ts"], "deleted files left out");
    // A warning fails the job (xargs reports lizard's failure as 123).
    let bin = stubs(d, true);
    assert_ne!(run(s, d, Some(bin.path())).0, 0);
}

#[test]
fn complexity_never_scans_the_whole_tree() {
    let wf = workflow();
    let s = step(&wf, "complexity", "Cyclomatic");
    let (tmp, base) = repo();
    let d = tmp.path();
    // Only a deletion: nothing added or changed, so lizard must not run
    // (given no file, it would scan the working directory).
    pr(d, &base, |d| std::fs::remove_file(d.join("README.md")).expect("rm"));
    let bin = stubs(d, true);
    let (code, ..) = run(s, d, Some(bin.path()));
    assert_eq!(code, 0);
    assert!(!d.join(".lizard-args").exists(), "lizard ran without files");
}

#[test]
fn benchmarks_compare_with_the_default_branch_baseline() {
    let wf = workflow();
    let job = &wf["jobs"]["benchmarks-api"];
    assert!(wf["jobs"].get("benchmarks-web").is_none(), "web's toolchain has no benchmark");
    let run = step(&wf, "benchmarks-api", "Benchmarks:");
    assert_eq!(run["working-directory"], "api");
    let cmp = step(&wf, "benchmarks-api", "Compare");
    assert_eq!(cmp["with"]["tool"], "pytest");
    assert_eq!(cmp["with"]["output-file-path"], "api/out.json");
    assert_eq!(cmp["with"]["alert-threshold"], "125%", "25% worse than the baseline");
    assert_eq!(cmp["with"]["fail-on-alert"], true);
    let data = cmp["with"]["external-data-json-path"].as_str().expect("data file");
    let restore = step(&wf, "benchmarks-api", "The default branch");
    let save = step(&wf, "benchmarks-api", "Keep");
    // The baseline is restored from and saved to the same place, and only
    // a push to the default branch saves it.
    assert_eq!(Path::new(data).parent().and_then(Path::to_str), restore["with"]["path"].as_str());
    assert_eq!(restore["with"]["path"], save["with"]["path"]);
    assert!(save["with"]["key"]
        .as_str()
        .expect("key")
        .starts_with(restore["with"]["restore-keys"].as_str().expect("prefix")));
    assert_eq!(save["if"], "github.event_name == 'push' && github.ref_name == 'main'");
    assert!(job.get("if").is_none(), "benchmarks run on pushes too");
    // The workflow runs on pushes to main for the baseline; the other
    // checks still only look at pull requests.
    assert_eq!(wf["on"]["push"]["branches"][0], "main");
    assert_eq!(wf["jobs"]["complexity"]["if"], "github.event_name == 'pull_request'");
    assert_eq!(wf["jobs"]["changed-files"]["if"], "github.event_name == 'pull_request'");
}
