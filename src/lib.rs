//! deployc: a compiler from `.dpl` programs to deployment artifacts.
//!
//! The library is pure: it never touches the filesystem or the terminal.
//! `main.rs` reads files, renders diagnostics and writes output.
//! See ARCHITECTURE.md for the pipeline and the code map.
#![deny(clippy::unwrap_used)]

pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod emit;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod image;
pub mod load;
pub mod lsp;
pub mod model;
pub mod onboard;
pub mod par;
pub mod pins;
pub mod plan;
pub mod reference;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod synth;

/// Whether the process ends once its one compilation is done (`check`,
/// `build --stdout`): the checker then leaves its per-declaration values
/// to the operating system instead of freeing a million small allocations
/// one by one. A build and the language server free them: a build's
/// rendering reuses that memory, which bounds its peak.
static EXITS_AFTER_COMPILING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Declares that the process exits after its one compilation (see
/// [`exits_after_compiling`]).
pub fn set_exits_after_compiling() {
    EXITS_AFTER_COMPILING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Bytes in lowercase hex: file hashes, config checksums, short tags in
/// names. One function for all of them, without a `format!` per byte (a
/// build hashes every one of its 35,000 files at 1,000 services x 4).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Whether [`set_exits_after_compiling`] was called.
pub fn exits_after_compiling() -> bool {
    EXITS_AFTER_COMPILING.load(std::sync::atomic::Ordering::Relaxed)
}

use diagnostic::Diagnostics;
use load::{FileProvider, Program};

/// The result of compiling a program up to its model.
pub struct Compilation {
    pub program: Program,
    pub diagnostics: Diagnostics,
    pub output: Option<(model::Model, graph::Graph)>,
}

/// Loads, parses and checks a program. Never panics; diagnostics are sorted.
pub fn compile(root_name: &str, root_text: &str, files: &dyn FileProvider) -> Compilation {
    compile_bytes(root_name, root_text.as_bytes().to_vec(), files)
}

/// [`compile`] for a root file read as bytes: text that is not UTF-8 is an
/// error (E0008) with a position, not a failure to read.
pub fn compile_bytes(root_name: &str, root: Vec<u8>, files: &dyn FileProvider) -> Compilation {
    let mut diagnostics = Diagnostics::default();
    let mut program = load::load_bytes(root_name, root, files, &mut diagnostics);
    let mut output = check::check(&program, &mut diagnostics);
    if let Some((model, graph)) = &mut output {
        for d in emit::check_patches(model, graph) {
            diagnostics.push(d);
        }
        read_sealed(root_name, files, &mut program, model, graph, &mut diagnostics);
    }
    diagnostics.sort();
    let output = if diagnostics.has_errors() { None } else { output };
    Compilation { program, diagnostics, output }
}

/// Reads and checks the team's sealed files (`secret_store = sealed_secrets
/// { dir = ... }`), relative to the root file as imports are. Each file read
/// joins the program's sources, so diagnostics can point into it and a
/// build's fingerprint covers it; each one that passes goes into the model
/// for the plan to write out.
fn read_sealed(
    root_name: &str,
    files: &dyn FileProvider,
    program: &mut Program,
    model: &mut model::Model,
    graph: &graph::Graph,
    diags: &mut Diagnostics,
) {
    if !matches!(&model.project.secret_store, model::SecretStore::SealedSecrets { dir: Some(_), .. }) {
        return;
    }
    let wanted = {
        let opts = plan::Options::default();
        plan::sealed::wanted(&plan::Plan::new(model, graph, &opts))
    };
    for w in wanted {
        let path = load::join(root_name, &w.file);
        let Some(bytes) = files.read_bytes(&path) else {
            diags.push(plan::sealed::missing(&w));
            continue;
        };
        let (text, _) = load::decode(bytes);
        let id = program.sources.find(&path).unwrap_or_else(|| program.sources.add(path.clone(), text.clone()));
        match plan::sealed::check(&w, &text, id) {
            Ok(f) => {
                model.sealed.files.insert((w.env.clone(), w.secret.name.clone()), f);
            }
            Err(ds) => ds.into_iter().for_each(|d| diags.push(d)),
        }
    }
}
