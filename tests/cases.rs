//! The case corpus: `tests/cases/pass/*.dpl` must check clean,
//! `tests/cases/fail/*.dpl` must produce the codes named in their header, and
//! the rendered diagnostics of each failing case are pinned by a snapshot.

mod common;
use common::*;
use deployc::codes::Severity;
use deployc::codes::REGISTRY;
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn passing_cases_check_clean() {
    insta::glob!("cases/pass/*.dpl", |path| {
        let c = compile_file(&rel(path));
        let errors: Vec<String> = c
            .diagnostics
            .items
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .map(|d| format!("{}: {}", d.code.as_str(), d.message))
            .collect();
        assert!(errors.is_empty(), "{}: unexpected errors: {errors:#?}", rel(path));
        assert!(c.output.is_some(), "{}: no model", rel(path));
    });
}

#[test]
fn failing_cases_report_their_codes() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/cases");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("cases/fail/*.dpl", |path| {
            let text = std::fs::read_to_string(path).expect("readable");
            let expected = expected_codes(&text);
            assert!(!expected.is_empty(), "{}: no `// expect: CODE` header", rel(path));
            let c = compile_file(&rel(path));
            let got: BTreeSet<&str> = c.diagnostics.items.iter().map(|d| d.code.as_str()).collect();
            for code in &expected {
                assert!(got.contains(code.as_str()), "{}: expected {code}, got {got:?}", rel(path));
            }
            if expected.iter().any(|c| c.starts_with('E')) {
                assert!(c.output.is_none(), "{}: errors must withhold the model", rel(path));
            }
            for d in &c.diagnostics.items {
                assert!(!d.help.is_empty(), "{}: {} has no help", rel(path), d.code.as_str());
                assert!(d.primary_span().is_some(), "{}: {} has no span", rel(path), d.code.as_str());
            }
            insta::assert_snapshot!(render_all(&c));
        });
    });
}

#[test]
fn every_code_has_a_failing_case_and_an_explanation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/fail");
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("fail dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "dpl") {
            covered.extend(expected_codes(&std::fs::read_to_string(&path).expect("readable")));
        }
    }
    let fail_cases = std::fs::read_dir(&dir)
        .expect("fail dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "dpl")))
        .count();
    assert!(fail_cases >= 60, "only {fail_cases} failing cases");
    // Codes the build finds after checking: the targets' own test covers them.
    const BUILD_CODES: &[&str] = &["W0005", "W0007", "W0008", "W0014"]; // tests/targets.rs, tests/patches.rs, tests/backup.rs
    for info in REGISTRY {
        let code = info.code.as_str();
        // The writer's I/O codes (E09xx) name a path, not a span, and come
        // from the binary: tests/writer.rs provokes them.
        assert!(
            covered.contains(code) || BUILD_CODES.contains(&code) || code.starts_with("E09"),
            "no failing case expects {code}"
        );
        assert!(info.explanation.len() > 40, "{code} has no real explanation");
        assert!(!info.help.is_empty() && !info.title.is_empty(), "{code} lacks help or title");
    }
}
