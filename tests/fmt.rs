//! `deployc fmt`: the formatter's two properties over every program of the
//! repository (idempotent, meaning-preserving), a property test that moves
//! comments and line breaks around, and the command through the binary.

mod common;
use common::{rel, Disk};
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.dpl` file under the given folders of the repository, sorted.
fn files(dirs: &[&str]) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(d).expect("dir").filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "dpl") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for d in dirs {
        walk(&root().join(d), &mut out);
    }
    out.sort();
    out
}

/// The corpus: examples, the standard library, the test programs and cases.
fn corpus() -> Vec<PathBuf> {
    files(&["examples", "stdlib", "tests/cases/pass", "tests/cases/fail", "tests/programs"])
}

/// A file's syntax errors, if any: those files are not formatted.
fn parses(text: &str) -> bool {
    let mut d = deployc::diagnostic::Diagnostics::default();
    deployc::syntax::parse(deployc::source::SourceId(0), text, &mut d);
    d.items.is_empty()
}

/// What a program means: its model as JSON, or its diagnostics (code and
/// message; spans move when the layout changes).
fn meaning(name: &str, text: &str) -> serde_json::Value {
    let c = deployc::compile(name, text, &Disk);
    match &c.output {
        Some((model, _)) => serde_json::to_value(model).expect("model serialises"),
        None => serde_json::Value::Array(
            c.diagnostics.items.iter().map(|d| serde_json::json!([d.code.as_str(), d.message])).collect(),
        ),
    }
}

#[test]
fn formatting_is_idempotent_over_the_corpus() {
    let mut formatted = 0;
    for path in corpus() {
        let name = rel(&path);
        let text = fs::read_to_string(&path).expect("readable");
        if !parses(&text) {
            assert!(name.starts_with("tests/cases/fail/"), "{name} does not parse");
            assert!(deployc::fmt::format(&name, &text).is_err_and(|d| !d.items.is_empty()));
            continue;
        }
        let once = deployc::fmt::format(&name, &text).unwrap_or_else(|d| panic!("{name}: {:?}", d.items));
        let twice = deployc::fmt::format(&name, &once).unwrap_or_else(|d| panic!("{name} again: {:?}", d.items));
        assert_eq!(once, twice, "{name}: formatting twice differs from formatting once");
        formatted += 1;
    }
    assert!(formatted > 100, "only {formatted} files formatted");
}

#[test]
fn formatting_preserves_the_meaning_of_the_corpus() {
    let mut models = 0;
    for path in corpus() {
        let name = rel(&path);
        let text = fs::read_to_string(&path).expect("readable");
        let Ok(out) = deployc::fmt::format(&name, &text) else { continue };
        let before = meaning(&name, &text);
        assert_eq!(before, meaning(&name, &out), "{name}: the formatted file means something else");
        models += usize::from(before.is_object());
    }
    // The examples, the passing cases and the test program have a model.
    assert!(models >= 17, "only {models} files with a model");
}

#[test]
fn every_file_in_the_repository_is_formatted() {
    for path in corpus() {
        let name = rel(&path);
        let text = fs::read_to_string(&path).expect("readable");
        if let Ok(out) = deployc::fmt::format(&name, &text) {
            assert!(out == text, "{name} is not formatted: run `deployc fmt {name}`");
        }
    }
}

// ------------------------------------------------------------- property

/// Offsets between two tokens of `text`, where whitespace may go.
fn gaps(text: &str) -> Vec<usize> {
    let mut d = deployc::diagnostic::Diagnostics::default();
    let toks = deployc::syntax::lexer::lex(deployc::source::SourceId(0), text, &mut d);
    toks.iter().map(|t| t.span.end as usize).collect()
}

const NOISE: &[&str] =
    &["\n", "\n\n\n", " ", "\t", "/* c */", "// line\n", "# hash\n", "/* two\n lines */", "\n// own\n"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Comments and blank lines dropped between any two tokens
    /// of an example: the result still formats, to a fixed point, and means
    /// what the example means.
    #[test]
    fn noise_between_tokens_keeps_meaning_and_formats_stably(
        example in 0usize..5,
        inserts in proptest::collection::vec((any::<usize>(), 0..NOISE.len()), 1..12),
    ) {
        let path = &files(&["examples"])[example];
        let name = rel(path);
        let text = fs::read_to_string(path).expect("readable");
        let at = gaps(&text);
        let mut spots: Vec<(usize, &str)> = inserts.iter().map(|(i, k)| (at[i % at.len()], NOISE[*k])).collect();
        spots.sort();
        let mut noisy = text.clone();
        for (pos, s) in spots.iter().rev() {
            noisy.insert_str(*pos, s);
        }
        prop_assert!(parses(&noisy));
        let once = deployc::fmt::format(&name, &noisy).map_err(|d| TestCaseError::fail(format!("{:?}\n{noisy}", d.items)))?;
        let twice = deployc::fmt::format(&name, &once).map_err(|d| TestCaseError::fail(format!("{:?}", d.items)))?;
        prop_assert_eq!(&once, &twice, "not idempotent for:\n{}", noisy);
        prop_assert_eq!(meaning(&name, &text), meaning(&name, &once));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Whole tokens cut out of an example (with the comments between them):
    /// whatever still parses formats, to a fixed point.
    #[test]
    fn cut_programs_that_parse_format_stably(
        example in 0usize..5,
        cuts in proptest::collection::vec((any::<usize>(), 1usize..6), 1..6),
    ) {
        let path = &files(&["examples"])[example];
        let name = rel(path);
        let mut text = fs::read_to_string(path).expect("readable");
        for (at, len) in cuts {
            let mut d = deployc::diagnostic::Diagnostics::default();
            let toks = deployc::syntax::lexer::lex(deployc::source::SourceId(0), &text, &mut d);
            let i = at % toks.len();
            let j = (i + len).min(toks.len() - 1);
            if i >= j {
                continue;
            }
            let (a, b) = (toks[i].span.start as usize, toks[j].span.start as usize);
            text.replace_range(a..b, " ");
        }
        if parses(&text) {
            let once = deployc::fmt::format(&name, &text).map_err(|d| TestCaseError::fail(format!("{:?}\n{text}", d.items)))?;
            let twice = deployc::fmt::format(&name, &once).map_err(|d| TestCaseError::fail(format!("{:?}", d.items)))?;
            prop_assert_eq!(&once, &twice, "not idempotent for:\n{}", text);
        }
    }
}

// -------------------------------------------------------------- binary

fn deployc(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deployc"));
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

const MESSY: &str = "service api {\n  port=8080\n    language = python // why\n}\n";
const TIDY: &str = "service api {\n  port     = 8080\n  language = python // why\n}\n";

#[test]
fn fmt_check_names_the_files_that_would_change_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join("messy.dpl"), MESSY).expect("write");
    fs::write(dir.path().join("tidy.dpl"), TIDY).expect("write");
    fs::create_dir_all(dir.path().join("target")).expect("mkdir");
    fs::write(dir.path().join("target/ignored.dpl"), MESSY).expect("write");
    let out = deployc(dir.path()).args(["fmt", "--check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "would reformat messy.dpl\n");
    assert_eq!(fs::read_to_string(dir.path().join("messy.dpl")).expect("read"), MESSY);

    let out = deployc(dir.path()).arg("fmt").output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "formatted messy.dpl\n");
    assert_eq!(fs::read_to_string(dir.path().join("messy.dpl")).expect("read"), TIDY);
    assert_eq!(fs::read_to_string(dir.path().join("target/ignored.dpl")).expect("read"), MESSY, "target/ is skipped");
    let out = deployc(dir.path()).args(["fmt", "--check", "messy.dpl", "tidy.dpl"]).output().expect("run");
    assert!(out.status.success());
}

#[test]
fn fmt_refuses_a_file_with_syntax_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let broken = "service api {\n  port = \n}\n";
    fs::write(dir.path().join("broken.dpl"), broken).expect("write");
    fs::write(dir.path().join("messy.dpl"), MESSY).expect("write");
    let out = deployc(dir.path()).arg("fmt").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E0003") && stderr.contains("broken.dpl"), "{stderr}");
    assert_eq!(fs::read_to_string(dir.path().join("broken.dpl")).expect("read"), broken);
    assert_eq!(fs::read_to_string(dir.path().join("messy.dpl")).expect("read"), TIDY, "the other files are formatted");

    // Deliberately broken inputs can be skipped.
    let out = deployc(dir.path()).args(["fmt", "--check", "--skip-unparsable"]).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped broken.dpl"));
}

#[test]
fn fmt_reads_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = deployc(dir.path())
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    child.stdin.take().expect("stdin").write_all(MESSY.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), TIDY);
}
