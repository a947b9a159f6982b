//! `deployc init` and `deployc import`: read the repository or the
//! manifests, let `deployc::onboard` draft a program, write it (never over
//! an existing file without `--force`) and check what was written.

use super::{display, Fs};
use deployc::onboard::{self, init};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Files larger than this are not build manifests; they are skipped.
const MAX_FILE: u64 = 1 << 20;

/// The files `init` reads under `root`, at most four folders deep, never
/// through a symlink.
fn scan(root: &Path, rel: &str, depth: usize, out: &mut Vec<init::Found>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else { return };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name().to_string_lossy().to_string();
        let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if ft.is_dir() && depth < 4 && !init::SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
            scan(root, &path, depth + 1, out);
        } else if ft.is_file() && init::WANTED.contains(&name.as_str()) {
            if e.metadata().map(|m| m.len() > MAX_FILE).unwrap_or(true) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                out.push(init::Found { path, text });
            }
        }
    }
}

/// `github.com/owner/repo` from the repository's `origin` remote, if any.
fn remote(dir: &Path) -> Option<String> {
    let out =
        std::process::Command::new("git").arg("-C").arg(dir).args(["remote", "get-url", "origin"]).output().ok()?;
    let url = String::from_utf8(out.stdout).ok()?.trim().to_string();
    let url = url.strip_suffix(".git").unwrap_or(&url);
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("git@")).unwrap_or(url);
    let rest = rest.replacen(':', "/", 1);
    (out.status.success() && rest.split('/').count() == 3 && !rest.chars().any(char::is_control)).then_some(rest)
}

/// Writes `text` to `path` unless it exists (without `force`), then checks it.
fn write_program(path: &Path, text: &str, force: bool) -> ExitCode {
    if path.exists() && !force {
        eprintln!("error: {} exists; pass --force to overwrite it", path.display());
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    let c = deployc::compile_bytes(&display(path), text.as_bytes().to_vec(), &Fs);
    let errors = c.diagnostics.error_count();
    println!("wrote {}", path.display());
    if errors > 0 {
        super::report(&c.diagnostics, &c.program.sources, super::Format::Human, super::Color::Auto);
        eprintln!("the program has errors to fix before it builds");
        return ExitCode::from(1);
    }
    println!("next: deployc check {0} && deployc build {0}", path.display());
    ExitCode::SUCCESS
}

pub fn init(dir: Option<PathBuf>, yes: bool, force: bool) -> ExitCode {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        eprintln!("error: {} is not a folder", dir.display());
        return ExitCode::from(2);
    }
    let target = dir.join("envs.dpl");
    if target.exists() && !force {
        eprintln!("error: {} exists; pass --force to overwrite it", target.display());
        return ExitCode::from(2);
    }
    let mut found = Vec::new();
    scan(&dir, "", 0, &mut found);
    let repo_name = std::fs::canonicalize(&dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| "app".into());
    let draft = init::draft(&repo_name, remote(&dir).as_deref(), &found);
    if draft.services.is_empty() {
        eprintln!("note: no service found (no Dockerfile or build manifest); writing a program with none");
    }
    for s in &draft.services {
        println!("service {:<20} {:<12} port {}", s.name, s.language, s.port.map_or("?".into(), |p| p.to_string()));
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("error: not a terminal; pass --yes to write {} without asking", target.display());
            return ExitCode::from(2);
        }
        print!("write {}? [Y/n] ", target.display());
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if answer.trim().to_ascii_lowercase().starts_with('n') {
            println!("nothing written");
            return ExitCode::SUCCESS;
        }
    }
    write_program(&target, &onboard::render(&draft), force)
}

pub fn import(inputs: &[PathBuf], out: Option<PathBuf>, project: Option<String>, force: bool) -> ExitCode {
    let mut texts = Vec::new();
    let mut compose = None;
    for input in inputs {
        if input == Path::new("-") {
            let mut t = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut t) {
                eprintln!("error: cannot read standard input: {e}");
                return ExitCode::from(2);
            }
            texts.push(("<stdin>".to_string(), t));
        } else if input.is_dir() {
            let mut files = Vec::new();
            collect_yaml(input, 0, &mut files);
            for f in files {
                match std::fs::read_to_string(&f) {
                    Ok(t) => texts.push((display(&f), t)),
                    Err(e) => eprintln!("warning: skipped {}: {e}", f.display()),
                }
            }
        } else {
            match std::fs::read_to_string(input) {
                Ok(t) if t.lines().any(|l| l.starts_with("services:")) => compose = Some((display(input), t)),
                Ok(t) => texts.push((display(input), t)),
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", input.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    let project = project.unwrap_or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
            .unwrap_or_else(|| "app".into())
    });
    let draft = match (&compose, texts.is_empty()) {
        (Some((path, t)), true) => onboard::import::compose(t, &project).map_err(|e| format!("{path}: {e}")),
        (None, false) => onboard::import::kubernetes(&texts, &project),
        (Some(_), false) => Err("give either Kubernetes manifests or one Compose file, not both".into()),
        (None, true) => Err("nothing to import: name a folder of manifests, a file, `-` or a Compose file".into()),
    };
    let draft = match draft {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = onboard::render(&draft);
    match out {
        Some(path) => write_program(&path, &text, force),
        None => {
            super::print_out(&text);
            ExitCode::SUCCESS
        }
    }
}

/// `.yaml`/`.yml` files under `dir`, sorted, never through a symlink.
fn collect_yaml(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() && depth < 8 {
            collect_yaml(&p, depth + 1, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}
