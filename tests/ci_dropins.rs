//! The CI drop-ins: `--format github` annotations (escaped workflow
//! commands), the composite action (`action.yml`) and the pre-commit hooks.
//! actionlint itself runs over the action in CI (scripts/check-action.sh).

use serde_yaml_ng::Value;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn github_annotations_are_escaped_workflow_commands() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A file name with the characters that separate properties.
    let name = "a,b:c%.dpl";
    std::fs::write(
        tmp.path().join(name),
        "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n}\n\nservice api {\n  language = python\n  port     = 8080\n  replcias = 2\n}\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(["check", name, "--format", "github"])
        .current_dir(tmp.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one command per diagnostic, no raw newline: {text}");
    let line = lines[0];
    assert!(line.starts_with("::error file=a%2Cb%3Ac%25.dpl,line=9,col=3,title=E0203::"), "{line}");
    let message = line.splitn(3, "::").nth(2).expect("a message");
    assert!(message.contains("%0Ahelp: "), "the help line follows, escaped: {message}");
    assert!(!message.contains('\n') && !message.contains('\r'));
}

#[test]
fn the_action_checks_and_runs_the_drift_check_without_expressions_in_scripts() {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let action: Value = serde_yaml_ng::from_str(&text).expect("YAML");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let scripts: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(scripts.iter().any(|s| s.contains("cargo install --locked")), "installs deployc");
    assert!(scripts.iter().any(|s| s.contains("check \"$DPL_FILE\" --format github")), "annotates");
    assert!(scripts.iter().any(|s| s.contains("build \"$DPL_FILE\" --check")), "drift check");
    // Inputs reach the scripts through the environment, never as `${{ }}`
    // inside a script (a crafted input would be shell code).
    for s in &scripts {
        assert!(!s.contains("${{"), "an expression inside a script: {s}");
    }
    for input in ["file", "out", "deny-warnings", "drift-check"] {
        assert!(action["inputs"][input]["description"].is_string(), "input {input}");
    }
}

#[test]
fn the_pre_commit_hooks_run_deployc() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect(".pre-commit-hooks.yaml");
    let hooks: Vec<Value> = serde_yaml_ng::from_str(&text).expect("YAML list");
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(ids, ["deployc-fmt", "deployc-check", "deployc-drift"]);
    for h in &hooks {
        assert!(h["entry"].as_str().is_some_and(|e| e.starts_with("deployc ")));
        assert_eq!(h["language"].as_str(), Some("rust"), "pre-commit builds the hook repository with cargo");
        assert_eq!(h["files"].as_str(), Some("\\.dpl$"));
    }
}
