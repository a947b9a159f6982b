//! Stamps the commit into `deployc --version`: `0.1.0 (commit 59cf240a1b2c)`.
//! Outside a Git checkout of this crate (a source tarball, `cargo install`
//! from a registry) the version is the package version alone, unless
//! `DEPLOYC_COMMIT` names the commit.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEPLOYC_COMMIT");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let from_env = std::env::var("DEPLOYC_COMMIT").ok().filter(|c| !c.trim().is_empty());
    // Only this crate's own checkout counts, not a repository it happens to sit in.
    let own_checkout = git(&["rev-parse", "--show-toplevel"])
        .and_then(|top| Path::new(&top).canonicalize().ok())
        .is_some_and(|top| Path::new(&manifest).canonicalize().is_ok_and(|m| m == top));
    let commit = from_env.or_else(|| {
        if !own_checkout {
            return None;
        }
        // Rebuild when HEAD moves: HEAD itself, the branch it names, packed refs.
        for file in ["HEAD", "packed-refs"] {
            if let Some(p) = git(&["rev-parse", "--git-path", file]) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        if let Some(p) = git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])) {
            println!("cargo:rerun-if-changed={p}");
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    // Keep only what is safe in a version line.
    let commit = commit
        .map(|c| c.chars().filter(|ch| ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '.').collect::<String>());
    let full = match commit {
        Some(c) if !c.is_empty() => format!("{version} (commit {c})"),
        _ => version,
    };
    println!("cargo:rustc-env=DEPLOYC_VERSION={full}");
}
