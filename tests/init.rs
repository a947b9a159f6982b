//! `deployc init` on a sample repository (tests/data/init-sample): the
//! services it finds, a program that checks clean and builds, and never an
//! overwrite without --force. Also `check -` and `--version`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn deployc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("deployc runs")
}

/// A copy of the sample repository in a fresh folder named `shop`.
fn sample() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("shop");
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/init-sample"), &root);
    (tmp, root)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("readdir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn init_writes_a_program_that_checks_clean_and_builds() {
    let (_tmp, root) = sample();
    let out = deployc(&["init", "--yes"], &root);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let program = std::fs::read_to_string(root.join("envs.dpl")).expect("envs.dpl written");
    for want in [
        "project shop {",
        "service web {",
        "language     = typescript",
        "port         = 3000",
        "service_port = 8080",
        "service api {",
        "language = python",
        "port     = 8000",
        "service billing {",
        "language = java",
        "service worker {",
        "language = go",
        "resource db = postgres { version = \"16\" }",
        "uses     = [db]",
        "depends_on   = [api]",
        "// worker has no Dockerfile",
        "health   = exec { command = [\"curl\", \"-f\", \"http://localhost:8000/healthz\"] }",
        "LOG_LEVEL    = \"info\"",
    ] {
        assert!(program.contains(want), "missing {want:?} in:\n{program}");
    }
    assert!(!program.contains("left-pad"), "node_modules is never searched");
    let check = deployc(&["check", "--deny", "warnings", "envs.dpl"], &root);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let build = deployc(&["build", "envs.dpl", "-o", "out"], &root);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    assert!(root.join("out/k8s/dev/deployment-web.yaml").is_file());
    assert!(root.join("out/.github/workflows/ci.yml").is_file());
    // The formatter's layout.
    let fmt = deployc(&["fmt", "--check", "envs.dpl"], &root);
    assert!(fmt.status.success(), "{}", String::from_utf8_lossy(&fmt.stdout));
}

#[test]
fn init_never_overwrites_without_force() {
    let (_tmp, root) = sample();
    std::fs::write(root.join("envs.dpl"), "// mine\n").expect("write");
    let out = deployc(&["init", "--yes"], &root);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(root.join("envs.dpl")).unwrap(), "// mine\n");
    let forced = deployc(&["init", "--yes", "--force"], &root);
    assert!(forced.status.success());
    assert!(std::fs::read_to_string(root.join("envs.dpl")).unwrap().contains("service web"));
}

#[test]
fn init_without_a_terminal_asks_for_yes() {
    let (_tmp, root) = sample();
    let out = deployc(&["init"], &root);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(!root.join("envs.dpl").exists());
}

#[test]
fn check_reads_standard_input() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_deployc"))
            .args(["check", "-", "--format", "json"])
            .current_dir(dir)
            .stdin(std::fs::File::open(dir.join(file)).expect("file"))
            .output()
            .expect("runs")
    };
    assert!(run("tests/cases/pass/minimal_rolling_ghcr.dpl").status.success());
    let bad = run("tests/cases/fail/E0203_field_typo_replicas.dpl");
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("\"code\":\"E0203\"") && text.contains("\"file\":\"<stdin>\""), "{text}");
}

#[test]
fn version_names_the_commit_in_a_checkout() {
    let out = deployc(&["--version"], Path::new(env!("CARGO_MANIFEST_DIR")));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.starts_with(&format!("deployc {}", env!("CARGO_PKG_VERSION"))), "{text}");
    // Built from a Git checkout (as the tests are), the commit is named.
    let head =
        Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(env!("CARGO_MANIFEST_DIR")).output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(text.contains("(commit "), "{text}");
        // The binary may predate the last commit by one rebuild; the form is what counts.
        let commit = text.split("(commit ").nth(1).and_then(|r| r.split(')').next()).unwrap_or("");
        assert_eq!(commit.len(), head.len(), "{text} vs {head}");
    } else {
        assert_eq!(text.trim(), format!("deployc {}", env!("CARGO_PKG_VERSION")), "no Git, no commit");
    }
}
