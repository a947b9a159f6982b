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

/// Declarations are checked in pieces on all cores: a program large enough
/// to be split still reports every mistake once, in source order, and a
/// name used only from a late piece is not reported unused.
#[test]
fn a_program_checked_in_pieces_reports_as_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let check = |misspelt: &[usize]| -> Vec<(String, u64, String)> {
        let mut program = String::from(
            "project shop {\n  repository = \"github.com/acme/shop\"\n  registry = ghcr { owner = \"acme\" }\n}\n\n",
        );
        // Declared first; the environment, declared last, uses one.
        program.push_str("strategy careful = canary {\n  steps = [10%, 50%, 100%]\n  pause = 5m\n}\n");
        program.push_str("strategy unused = canary {\n  steps = [20%, 100%]\n  pause = 1m\n}\n");
        for i in 0..300 {
            let field = if misspelt.contains(&i) { "langauge" } else { "language" };
            program.push_str(&format!(
                "service svc-{i:03} {{\n  {field} = go\n  port = {}\n  health = http {{ path = \"/healthz\" }}\n}}\n",
                8000 + i
            ));
        }
        program.push_str("environment dev {\n  promote = on_push(\"main\")\n  strategy = careful\n}\n");
        let src = dir.path().join("big.dpl");
        std::fs::write(&src, &program).expect("write");
        let path = src.to_str().expect("utf-8 path");
        let runs: Vec<String> = (0..3)
            .map(|_| String::from_utf8(deployc(&["check", "--format", "json", path]).stdout).expect("utf-8"))
            .collect();
        assert!(runs.iter().all(|r| r == &runs[0]), "the same diagnostics on every run");
        runs[0]
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            .map(|d| {
                (d["code"].as_str().unwrap_or("").into(), d["line"].as_u64().unwrap_or(0), d["message"].to_string())
            })
            .collect()
    };
    // Services start at line 14, five lines each: each misspelt one lacks
    // its language (at the name) and has an unknown field (the next line).
    let errors: Vec<(String, u64)> = check(&[10, 150, 290]).into_iter().map(|(c, l, _)| (c, l)).collect();
    let expected: Vec<(String, u64)> =
        [10, 150, 290].iter().flat_map(|i| [("E0204".into(), 14 + i * 5), ("E0203".into(), 14 + i * 5 + 1)]).collect();
    assert_eq!(errors, expected);
    // Without errors, the one unused name is reported (unused names wait
    // for every reference to resolve).
    let warnings = check(&[]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].0 == "W0001" && warnings[0].1 == 10 && warnings[0].2.contains("unused"), "{warnings:?}");
}
