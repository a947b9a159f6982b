//! `deployc lsp` (binary side): the stdio transport, files read from disk,
//! and the standard library materialised for editors.
//!
//! The standard library is embedded in the binary ([`deployc::load::STDLIB`]).
//! "Go to definition" on `canary-standard` or `node` must open a file, and
//! every editor opens `file://` URIs while a custom scheme needs per-editor
//! glue (a VS Code content provider, a Neovim `BufReadCmd`). So the modules
//! are written once, read-only, to
//! `$XDG_CACHE_HOME/deployc/stdlib/<version>-<hash>/std/<module>.dpl`
//! (`~/.cache/...` without XDG, the temporary folder as a last resort). The
//! hash of the embedded texts keeps two builds of one version apart; files
//! that are already right are left alone, and each is written to a temporary
//! sibling and renamed, so two servers starting at once do not race.

use deployc::load::STDLIB;
use deployc::lsp::{self, Connection, Host};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Disk;

impl Host for Disk {
    fn read_file(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// Runs the server on stdin/stdout until the client exits.
pub fn run() -> ExitCode {
    let base = match materialise_stdlib() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("deployc lsp: cannot write the standard library for editors: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(base) = lsp_types::Url::from_directory_path(&base) else {
        eprintln!("deployc lsp: {} is not an absolute path", base.display());
        return ExitCode::from(2);
    };
    let (connection, io) = Connection::stdio();
    let result = lsp::run(&connection, &Disk, base);
    // Closing our end lets the writer thread finish once the last message is out.
    drop(connection);
    let joined = io.join();
    match (result, joined) {
        (Ok(true), Ok(())) => ExitCode::SUCCESS,
        // `exit` without `shutdown` (or the client vanishing) is exit code 1 by the protocol.
        (Ok(false), _) => ExitCode::from(1),
        (Err(e), _) => {
            eprintln!("deployc lsp: {e}");
            ExitCode::from(1)
        }
        (Ok(true), Err(e)) => {
            eprintln!("deployc lsp: {e}");
            ExitCode::from(1)
        }
    }
}

/// The folder holding `std/<module>.dpl`, created if needed.
fn materialise_stdlib() -> std::io::Result<PathBuf> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    STDLIB.hash(&mut hasher);
    let version = format!("{}-{:08x}", env!("CARGO_PKG_VERSION"), hasher.finish() as u32);
    let mut last_err = None;
    for cache in cache_dirs() {
        let dir = cache.join("deployc").join("stdlib").join(&version);
        match write_stdlib(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no cache folder")))
}

fn cache_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute()) {
        out.push(x);
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from).filter(|p| p.is_absolute()) {
        out.push(home.join(".cache"));
    }
    out.push(std::env::temp_dir());
    out
}

fn write_stdlib(dir: &Path) -> std::io::Result<()> {
    for (module, text) in STDLIB {
        let path = dir.join(format!("{module}.dpl"));
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension(format!("dpl.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text)?;
        // Read-only, so an editor that opens it after "go to definition" says so.
        let mut perms = std::fs::metadata(&tmp)?.permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&tmp, perms)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}
