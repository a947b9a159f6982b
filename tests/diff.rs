//! `deployc diff` through the binary: nothing to report on a fresh build,
//! then field-level changes, added and removed objects grouped by
//! environment, as Markdown and as JSON, with the documented exit codes.

use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn deployc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deployc")).current_dir(dir).env("NO_COLOR", "1").args(args).output().expect("run")
}

fn example() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcp.dpl")).expect("example")
}

/// A temporary project with the healthcp example built into `out/`.
fn built() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("app.dpl"), example()).expect("write");
    let b = deployc(dir.path(), &["build", "app.dpl"]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    dir
}

#[test]
fn nothing_to_report_after_a_build() {
    let dir = built();
    let out = deployc(dir.path(), &["diff", "app.dpl"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("No changes"));
    let out = deployc(dir.path(), &["diff", "app.dpl", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["changed"], false);
    assert_eq!(v["groups"], serde_json::json!([]));
}

#[test]
fn field_changes_and_added_and_removed_objects_per_environment() {
    let dir = built();
    // Three replicas, another probe path, and staging renamed to stage.
    let changed = example()
        .replace("replicas = 2", "replicas = 3")
        .replace("path = \"/healthz\"", "path = \"/ready\"")
        .replace("environment staging", "environment stage");
    fs::write(dir.path().join("app.dpl"), changed).expect("write");
    let before: Vec<_> = fs::read_dir(dir.path().join("out/k8s")).expect("dir").map(|e| e.expect("e").path()).collect();

    let out = deployc(dir.path(), &["diff", "app.dpl", "-o", "out"]);
    assert_eq!(out.status.code(), Some(1), "something differs");
    let text = String::from_utf8_lossy(&out.stdout);
    let section = |env: &str| {
        let start = text.find(&format!("### environment `{env}`")).unwrap_or_else(|| panic!("no {env}:\n{text}"));
        let rest = &text[start + 3..];
        rest[..rest.find("\n### ").unwrap_or(rest.len())].to_string()
    };
    let dev = section("dev");
    assert!(dev.contains("- changed **Deployment/api** (`k8s/dev/deployment-api.yaml`)"), "{dev}");
    assert!(dev.contains("  - `spec.replicas`: `2` → `3`"), "{dev}");
    assert!(
        dev.contains("`spec.template.spec.containers[name=api].readinessProbe.httpGet.path`: `/healthz` → `/ready`"),
        "{dev}"
    );
    let stage = section("stage");
    assert!(stage.contains("- added **Rollout/api** (`k8s/stage/rollout-api.yaml`)"), "{stage}");
    assert!(stage.contains("- added **Application/healthcp-stage**"), "{stage}");
    let staging = section("staging");
    assert!(staging.contains("- removed **Namespace/healthcp-staging**"), "{staging}");
    assert!(
        staging.contains("- removed **Application/healthcp-staging**"),
        "a removed environment's files group together"
    );
    assert!(text.contains("### project-wide"), "{text}");
    assert!(text.contains("`resources`: + `application-healthcp-stage.yaml`; - `application-healthcp-staging.yaml`"));
    assert!(!text.contains(".deployc-manifest"), "bookkeeping is not reported");

    // The same as JSON, for bots.
    let out = deployc(dir.path(), &["diff", "app.dpl", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["changed"], true);
    let groups = v["groups"].as_array().expect("groups");
    let envs: Vec<&Value> = groups.iter().map(|g| &g["environment"]).collect();
    assert_eq!(
        envs,
        [&Value::from("dev"), &Value::from("qa"), &Value::from("stage"), &Value::from("staging"), &Value::Null]
    );
    let deployment = &groups[0]["objects"][0];
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["status"], "changed");
    assert_eq!(
        deployment["fields"][0],
        serde_json::json!({"path": "spec.replicas", "change": "changed", "old": 2, "new": 3})
    );
    assert!(v["added"].as_u64().expect("added") >= 10 && v["removed"].as_u64().expect("removed") >= 10);

    // diff writes nothing.
    let after: Vec<_> = fs::read_dir(dir.path().join("out/k8s")).expect("dir").map(|e| e.expect("e").path()).collect();
    assert_eq!(before, after);
    assert!(!dir.path().join("out/k8s/stage").exists());
}

#[test]
fn hand_edits_and_unstructured_files() {
    let dir = built();
    let svc = dir.path().join("out/k8s/dev/service-api.yaml");
    fs::write(&svc, fs::read_to_string(&svc).expect("read").replace("port: 8080", "port: 9090")).expect("write");
    let manifest = dir.path().join("out/.deployc-manifest");
    // A file an earlier build wrote, listed with the hash of its content.
    let notes = "a file an earlier build wrote\n";
    let line = format!("{:x}  notes.txt\n", <sha2::Sha256 as sha2::Digest>::digest(notes));
    fs::write(&manifest, fs::read_to_string(&manifest).expect("read") + &line).expect("write");
    fs::write(dir.path().join("out/notes.txt"), notes).expect("write");
    let out = deployc(dir.path(), &["diff", "app.dpl"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("- changed **Service/api**") && text.contains("`9090` → `8080`"), "{text}");
    assert!(text.contains("- removed `notes.txt`"), "{text}");
}

#[test]
fn errors_in_the_program_exit_2() {
    let dir = built();
    fs::write(dir.path().join("app.dpl"), example().replace("port     = 8080", "port     = 99999")).expect("write");
    let out = deployc(dir.path(), &["diff", "app.dpl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0303"));
}

#[test]
fn color_always_marks_the_changes() {
    let dir = built();
    fs::write(dir.path().join("app.dpl"), example().replace("replicas = 2", "replicas = 3")).expect("write");
    let out = deployc(dir.path(), &["--color", "always", "diff", "app.dpl"]);
    assert!(out.stdout.windows(2).any(|w| w == b"\x1b["));
    let out = deployc(dir.path(), &["diff", "app.dpl"]);
    assert!(!out.stdout.windows(2).any(|w| w == b"\x1b["));
}
