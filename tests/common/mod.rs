//! Helpers shared by the integration tests.
#![allow(dead_code)]

use deployc::load::FileProvider;
use std::path::Path;

/// Reads imports from the repository, as the CLI does from its working directory.
pub struct Disk;

impl FileProvider for Disk {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).ok()
    }
    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).ok()
    }
}

/// Compiles a file of the repository by its path relative to the crate root.
pub fn compile_file(rel: &str) -> deployc::Compilation {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).expect("test file readable");
    deployc::compile(rel, &text, &Disk)
}

/// Renders all diagnostics as a user sees them, without colour, 80 columns wide.
pub fn render_all(c: &deployc::Compilation) -> String {
    let mut out = String::new();
    for d in &c.diagnostics.items {
        out.push_str(&deployc::diagnostic::render(d, &c.program.sources, false, 80));
        out.push('\n');
    }
    out
}

/// The path of `p` relative to the crate root, with `/` separators.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// The codes a failing case expects, from its `// expect: E0201, E0203` header.
pub fn expected_codes(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("// expect:"))
        .flat_map(|rest| rest.split(',').map(|c| c.trim().to_string()))
        .filter(|c| !c.is_empty())
        .collect()
}

/// Every program of the examples and of `tests/programs/`, with its text, by
/// path relative to the crate root, sorted.
pub fn programs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["examples", "tests/programs"] {
        for e in std::fs::read_dir(root.join(dir)).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "dpl") {
                out.push((rel(&p), std::fs::read_to_string(&p).expect("readable")));
            }
        }
    }
    out.sort();
    out
}

/// A program's output for `targets`, each YAML or JSON file parsed (the
/// other files left out), by path. Panics with the diagnostics when the
/// program does not compile.
pub fn parsed_tree(
    text: &str,
    targets: &[deployc::emit::Target],
) -> std::collections::BTreeMap<String, serde_json::Value> {
    use deployc::plan::Plan;
    let c = deployc::compile("p.dpl", text, &Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    deployc::emit::emit(&Plan::new(&model, &graph, &Default::default()), targets)
        .into_iter()
        .filter_map(|a| {
            let v = if a.path.ends_with(".yaml") {
                serde_yaml_ng::from_str(&a.contents).ok()?
            } else if a.path.ends_with(".json") {
                serde_json::from_str(&a.contents).ok()?
            } else {
                return None;
            };
            Some((a.path.clone(), v))
        })
        .collect()
}

/// Runs git in `dir` as a committer named `t`, without the machine's
/// configuration or commit signing; fails the test when git does.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
