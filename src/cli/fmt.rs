//! `deployc fmt`: finds the files, formats each with
//! [`deployc::fmt::format`], writes the changed ones (or, with `--check`,
//! names them).

use super::{display, report, Color, Format};
use deployc::source::SourceMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Directories never searched for `.dpl` files.
const SKIP_DIRS: &[&str] = &["target", ".git"];

pub fn run(files: &[PathBuf], check: bool, skip_unparsable: bool, color: Color) -> ExitCode {
    if files.len() == 1 && files[0] == Path::new("-") {
        return stdin(check, color);
    }
    let roots: Vec<PathBuf> = if files.is_empty() { vec![PathBuf::from(".")] } else { files.to_vec() };
    let mut paths = Vec::new();
    for root in &roots {
        if root.is_dir() {
            if let Err(e) = walk(root, &mut paths) {
                eprintln!("error: cannot list {}: {e}", root.display());
                return ExitCode::from(2);
            }
        } else {
            paths.push(root.clone());
        }
    }
    let mut failed = false;
    let (mut changed, mut unchanged, mut skipped) = (0, 0, 0);
    for path in &paths {
        let name = display(path.strip_prefix("./").unwrap_or(path));
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read {name}: {e}");
                return ExitCode::from(2);
            }
        };
        match deployc::fmt::format(&name, &text) {
            Ok(out) if out == text => unchanged += 1,
            Ok(out) => {
                changed += 1;
                if check {
                    println!("would reformat {name}");
                    failed = true;
                } else if let Err(e) = write_atomically(path, &out) {
                    eprintln!("error: cannot write {name}: {e}");
                    return ExitCode::from(2);
                } else {
                    println!("formatted {name}");
                }
            }
            Err(diags) if diags.items.is_empty() => {
                eprintln!(
                    "error: {name}: deployc fmt could not lay this file out without changing its meaning; \
                     it was left as it is (a bug in deployc, please report it)"
                );
                failed = true;
            }
            Err(_) if skip_unparsable => {
                eprintln!("skipped {name}: syntax errors (see `deployc check {name}`)");
                skipped += 1;
            }
            Err(diags) => {
                let mut sources = SourceMap::new();
                sources.add(name.clone(), text);
                report(&diags, &sources, Format::Human, color);
                eprintln!("{name}: not formatted: fix the syntax errors first");
                failed = true;
            }
        }
    }
    let verb = if check { "would be reformatted" } else { "reformatted" };
    let mut summary = format!("{changed} file(s) {verb}, {unchanged} already formatted");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    eprintln!("{summary}");
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `deployc fmt -`: standard input to standard output.
fn stdin(check: bool, color: Color) -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("error: cannot read standard input: {e}");
        return ExitCode::from(2);
    }
    match deployc::fmt::format("<stdin>", &text) {
        Ok(out) => {
            if check {
                if out == text {
                    return ExitCode::SUCCESS;
                }
                println!("would reformat <stdin>");
                return ExitCode::from(1);
            }
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(diags) => {
            if diags.items.is_empty() {
                eprintln!("error: deployc fmt could not lay the input out without changing its meaning (a bug)");
            } else {
                let mut sources = SourceMap::new();
                sources.add("<stdin>", text);
                report(&diags, &sources, Format::Human, color);
            }
            ExitCode::from(1)
        }
    }
}

/// Collects the `.dpl` files under `dir`, sorted, skipping [`SKIP_DIRS`].
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !SKIP_DIRS.iter().any(|s| name == *s) {
                walk(&path, out)?;
            }
        } else if ty.is_file() && path.extension().is_some_and(|x| x == "dpl") {
            out.push(path);
        }
    }
    Ok(())
}

/// Replaces a file through a temporary sibling, so an interrupted run never
/// leaves half a program behind.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.deployc-fmt-tmp"));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path)
}
