//! The import rule of `src/emit/`: a target module (a file or folder under
//! `src/emit/`, other than `mod.rs` and the shared `yaml.rs`) never names
//! another target module. What two targets share belongs in `src/plan/`.

use std::path::{Path, PathBuf};

const TARGETS: &[&str] = &["argocd", "docs", "github", "helm", "jenkins", "k8s", "terraform"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src/emit") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The target a file of `src/emit/` belongs to, if any.
fn target_of(root: &Path, file: &Path) -> Option<&'static str> {
    let rel = file.strip_prefix(root).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    TARGETS.iter().copied().find(|t| *t == name)
}

#[test]
fn no_emitter_imports_another() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/emit");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for f in &files {
        let Some(own) = target_of(&root, f) else { continue };
        let text = std::fs::read_to_string(f).expect("read source");
        for other in TARGETS.iter().filter(|t| **t != own) {
            for pat in [format!("emit::{other}::"), format!("super::{other}::"), format!("super::{{{other}")] {
                if text.contains(&pat) || text.contains(&format!("super::super::{other}")) {
                    found.push(format!("{} names {other} ({pat})", f.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "emitters import each other:\n{}", found.join("\n"));
}

#[test]
fn the_checker_does_not_import_emitters_or_the_plan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        assert!(!text.contains("crate::emit::"), "{} imports an emitter", f.display());
        assert!(!text.contains("crate::plan::"), "{} imports the plan, which comes after it", f.display());
    }
}

/// The source of a file up to its test module, where the import rules apply.
fn non_test_source(f: &Path) -> String {
    let text = std::fs::read_to_string(f).expect("read source");
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[test]
fn data_flows_one_way_model_then_plan_then_emitters() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let model = non_test_source(&src.join("model.rs"));
    for later in ["crate::check", "crate::plan", "crate::emit"] {
        assert!(!model.contains(later), "model.rs names {later}: the model owns its types");
    }
    let mut plan = Vec::new();
    rust_files(&src.join("plan"), &mut plan);
    for f in plan {
        let text = non_test_source(&f);
        for later in ["crate::emit", "crate::check"] {
            assert!(!text.contains(later), "{} names {later}: the plan reads only the model", f.display());
        }
    }
}
