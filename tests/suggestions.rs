//! `--format json` carries a machine-applicable `suggestion` where a
//! diagnostic has an obvious fix (a misspelt name, a missing or habitual
//! unit): the replacement is right, and applying it fixes the program. The
//! language server offers the same replacements as code actions.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn check_json(dir: &Path, file: &str) -> (Option<i32>, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_deployc"))
        .current_dir(dir)
        .args(["check", "--format", "json", file])
        .output()
        .expect("run");
    let diags = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (out.status.code(), diags)
}

/// Applies every suggestion of `diags` to `text` (back to front).
fn apply(text: &str, diags: &[Value]) -> String {
    let mut edits: Vec<(usize, usize, String)> = diags
        .iter()
        .filter_map(|d| {
            let s = d.get("suggestion")?.as_object()?;
            let start = s["span"]["start"].as_u64()? as usize;
            let end = s["span"]["end"].as_u64()? as usize;
            Some((start, end, s["replacement"].as_str()?.to_string()))
        })
        .collect();
    edits.sort();
    let mut out = text.to_string();
    for (start, end, rep) in edits.into_iter().rev() {
        out.replace_range(start..end, &rep);
    }
    out
}

/// (failing case, code, the text the suggestion replaces, its replacement)
const CASES: &[(&str, &str, &str, &str)] = &[
    ("E0203_field_typo_replicas.dpl", "E0203", "replcias", "replicas"),
    ("E0203_manual_form_argument.dpl", "E0203", "form", "from"),
    ("E0201_unknown_toolchain.dpl", "E0201", "pyhton", "python"),
    ("E0201_unknown_promote_from.dpl", "E0201", "stagng", "staging"),
    ("E0208_gate_tool_typo.dpl", "E0208", "gitleak", "gitleaks"),
    ("E0208_strategy_kind_typo.dpl", "E0208", "bluegreen", "blue_green"),
    ("E0205_resource_attribute_typo.dpl", "E0205", "uri", "url"),
    ("E0007_servce_typo.dpl", "E0007", "servce", "service"),
    ("E0005_memory_512MB.dpl", "E0005", "512MB", "512Mi"),
    ("E0005_duration_5min.dpl", "E0005", "5min", "5m"),
    ("E0302_memory_without_unit.dpl", "E0302", "512", "512Mi"),
    ("E0302_duration_without_unit.dpl", "E0302", "30", "30s"),
];

#[test]
fn misspelt_names_and_missing_units_carry_a_suggestion_that_fixes_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tmp");
    for (case, code, wrong, right) in CASES {
        let rel = format!("tests/cases/fail/{case}");
        let text = std::fs::read_to_string(root.join(&rel)).expect("case");
        let (status, diags) = check_json(root, &rel);
        assert_eq!(status, Some(1), "{case}");
        let d = diags.iter().find(|d| d["code"] == *code).unwrap_or_else(|| panic!("{case}: no {code} in {diags:#?}"));
        let s = &d["suggestion"];
        assert_eq!(s["replacement"], *right, "{case}: {d:#}");
        assert_eq!(s["file"], rel.as_str(), "{case}");
        let (start, end) = (s["span"]["start"].as_u64().expect("start"), s["span"]["end"].as_u64().expect("end"));
        assert_eq!(&text[start as usize..end as usize], *wrong, "{case}: the span covers the wrong text");

        // Applying the suggestions gives a program without that error.
        let fixed = apply(&text, &diags);
        std::fs::write(dir.path().join(case), &fixed).expect("write");
        let (_, after) = check_json(dir.path(), case);
        assert!(
            !after.iter().any(|d| d["code"] == *code && d["severity"] == "error"),
            "{case}: still {code} after the fix:\n{fixed}\n{after:#?}"
        );
    }
}

#[test]
fn every_suggestion_in_the_corpus_replaces_text_inside_its_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("tests/cases/fail")).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "dpl") {
            continue;
        }
        let rel = format!("tests/cases/fail/{}", path.file_name().expect("name").to_string_lossy());
        let (_, diags) = check_json(root, &rel);
        for d in diags.iter().filter(|d| !d["suggestion"].is_null()) {
            let s = &d["suggestion"];
            let file = s["file"].as_str().expect("file");
            let text = if file.starts_with("std/") {
                continue;
            } else {
                std::fs::read_to_string(root.join(file)).expect("suggestion file readable")
            };
            let (start, end) = (s["span"]["start"].as_u64().expect("start"), s["span"]["end"].as_u64().expect("end"));
            assert!(start <= end && (end as usize) <= text.len(), "{rel}: {d:#}");
            assert!(text.is_char_boundary(start as usize) && text.is_char_boundary(end as usize), "{rel}: {d:#}");
            seen += 1;
        }
    }
    assert!(seen >= 30, "only {seen} suggestions in the corpus");
}
