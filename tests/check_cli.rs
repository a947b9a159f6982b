//! The `check`, `explain` and `graph` commands through the real binary:
//! exit codes, the JSON diagnostic shape and the graph output.

use std::process::Command;

fn deployc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deployc"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run deployc")
}

#[test]
fn check_exit_codes() {
    assert_eq!(deployc(&["check", "examples/healthcp.dpl"]).status.code(), Some(0));
    assert_eq!(deployc(&["check", "tests/cases/fail/E0401_weights_decreasing.dpl"]).status.code(), Some(1));
    assert_eq!(deployc(&["check", "no/such/file.dpl"]).status.code(), Some(2));
    assert_eq!(deployc(&["check"]).status.code(), Some(2), "usage error");
    // A warning fails only with --deny warnings.
    let warn = "tests/cases/fail/W0001_unused_strategy.dpl";
    assert_eq!(deployc(&["check", warn]).status.code(), Some(0));
    assert_eq!(deployc(&["check", "--deny", "warnings", warn]).status.code(), Some(1));
}

#[test]
fn json_diagnostics_have_every_field() {
    let out = deployc(&["check", "--format", "json", "tests/cases/fail/E0201_several_mistakes.dpl"]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(lines.len() >= 4, "all mistakes in one run: {lines:#?}");
    for d in &lines {
        for key in ["code", "severity", "message", "file", "line", "column", "span", "labels", "help"] {
            assert!(d.get(key).is_some_and(|v| !v.is_null()), "missing {key} in {d}");
        }
        assert!(d["span"]["end"].as_u64() >= d["span"]["start"].as_u64());
    }
    let codes: Vec<&str> = lines.iter().filter_map(|d| d["code"].as_str()).collect();
    for c in ["E0201", "E0302", "E0401", "E0202"] {
        assert!(codes.contains(&c), "{c} missing from {codes:?}");
    }
}

#[test]
fn explain_prints_the_registry_text() {
    let out = deployc(&["explain", "e0401"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("E0401: canary weights not increasing"), "{text}");
    assert_eq!(deployc(&["explain", "E9999"]).status.code(), Some(2));
    let all = String::from_utf8_lossy(&deployc(&["explain", "all"]).stdout).to_string();
    assert_eq!(all.lines().count(), deployc::codes::REGISTRY.len());
}

#[test]
fn graph_prints_dependencies_and_promotions() {
    let dot = deployc(&["graph", "tests/programs/shop.dpl"]);
    assert_eq!(dot.status.code(), Some(0));
    let mermaid = deployc(&["graph", "--format", "mermaid", "tests/programs/shop.dpl"]);
    let text = format!("{}\n{}", String::from_utf8_lossy(&dot.stdout), String::from_utf8_lossy(&mermaid.stdout));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/cli");
    settings.bind(|| insta::assert_snapshot!("shop_graph", text));
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::Stdio;
    // Like `deployc build --check --diff ... | head -1`: the reader goes away
    // while far more than a pipe buffer of diff is still to come.
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("synth.dpl");
    std::fs::write(&src, deployc::synth::program(60, 2)).expect("write");
    let out = dir.path().join("out");
    let built =
        Command::new(env!("CARGO_BIN_EXE_deployc")).arg("build").arg(&src).arg("-o").arg(&out).output().expect("build");
    assert!(built.status.success());
    let k8s = out.join("k8s/env-0");
    for e in std::fs::read_dir(&k8s).expect("env dir").filter_map(|e| e.ok()) {
        let text = std::fs::read_to_string(e.path()).expect("read");
        std::fs::write(e.path(), text.replace(": ", ":  ")).expect("edit");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(["build", "--check", "--diff"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 1];
    child.stdout.take().expect("stdout").read_exact(&mut first).expect("some output");
    let done = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_root_file_that_is_not_utf8_is_a_coded_error_with_a_position() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("latin1.dpl");
    std::fs::write(&src, b"project shop {\n  repository = \"caf\xe9\"\n}\n").expect("write");
    let out = deployc(&["check", src.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1), "checked, not unreadable");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("E0008") && err.contains("latin1.dpl:2:20"), "{err}");
}
