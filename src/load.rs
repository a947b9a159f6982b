//! Loading a program: the root file, the files it imports and the standard
//! library, each parsed once, with import cycles and missing files reported.
//!
//! The loader does no IO itself: the driver passes a [`FileProvider`] (the
//! filesystem in `main.rs`, a map in tests). The standard library is embedded
//! in the binary.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{SourceId, SourceMap, Span};
use crate::syntax::{self, ast};

/// Reads imported files. Paths are as the loader computed them (joined with `/`).
pub trait FileProvider {
    fn read(&self, path: &str) -> Option<String>;
    /// The file's bytes, so that a file that is not UTF-8 is reported as
    /// such (E0008) rather than as missing. By default, [`read`](Self::read)'s text.
    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        self.read(path).map(String::into_bytes)
    }
}

/// A file's bytes as text: invalid UTF-8 sequences become U+FFFD, and the
/// byte range of the first one (in the returned text) is returned with it.
pub fn decode(bytes: Vec<u8>) -> (String, Option<(usize, usize)>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            // Everything before the first bad sequence is unchanged, so it
            // starts at the same offset in the lossy text.
            let start = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            (text, Some((start, start + '\u{fffd}'.len_utf8())))
        }
    }
}

/// A provider backed by a list of in-memory files, for tests and tools.
impl FileProvider for std::collections::BTreeMap<String, String> {
    fn read(&self, path: &str) -> Option<String> {
        self.get(path).cloned()
    }
}

/// The embedded standard library: module name and text.
pub static STDLIB: &[(&str, &str)] = &[
    ("std/toolchains", include_str!("../stdlib/std/toolchains.dpl")),
    ("std/strategies", include_str!("../stdlib/std/strategies.dpl")),
    ("std/gates/healthcare", include_str!("../stdlib/std/gates/healthcare.dpl")),
    ("std/gates/baseline", include_str!("../stdlib/std/gates/baseline.dpl")),
];

/// Loaded implicitly into every program.
pub const PRELUDE: &str = "std/toolchains";

pub fn stdlib_module(name: &str) -> Option<&'static str> {
    STDLIB.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The standard module that declares `keyword name` (`strategy canary-standard`
/// is in `std/strategies`), for the help of an unknown name whose module was
/// not imported. The modules are parsed once, on first use.
pub fn std_home(keyword: &str, name: &str) -> Option<&'static str> {
    static DECLS: std::sync::OnceLock<Vec<(&'static str, String, String)>> = std::sync::OnceLock::new();
    let decls = DECLS.get_or_init(|| {
        let mut out = Vec::new();
        for (module, text) in STDLIB {
            let mut ignored = Diagnostics::default();
            for item in syntax::parse(SourceId(0), text, &mut ignored).items {
                if let ast::Item::Decl(ast::Decl { keyword, name: Some(n), .. }) = item {
                    out.push((*module, keyword.name, n.name));
                }
            }
        }
        out
    });
    decls.iter().find(|(_, k, n)| k == keyword && n == name).map(|(m, _, _)| *m)
}

/// A parsed file of the program.
#[derive(Debug, Clone)]
pub struct Module {
    pub source: SourceId,
    pub ast: ast::File,
    pub is_std: bool,
}

/// All files of a program, in a defined order (depth-first import order).
#[derive(Debug, Default, Clone)]
pub struct Program {
    pub sources: SourceMap,
    pub modules: Vec<Module>,
}

/// Loads `root` (already read by the driver) and everything it imports.
pub fn load(root_name: &str, root_text: &str, files: &dyn FileProvider, diags: &mut Diagnostics) -> Program {
    load_bytes(root_name, root_text.as_bytes().to_vec(), files, diags)
}

/// [`load`] for a root file read as bytes, which may not be UTF-8.
pub fn load_bytes(root_name: &str, root: Vec<u8>, files: &dyn FileProvider, diags: &mut Diagnostics) -> Program {
    let mut l = Loader { program: Program::default(), files, stack: Vec::new() };
    let prelude = stdlib_module(PRELUDE).unwrap_or("");
    l.visit(PRELUDE.to_string(), prelude.as_bytes().to_vec(), true, diags);
    l.visit(root_name.to_string(), root, false, diags);
    l.program
}

struct Loader<'a> {
    program: Program,
    files: &'a dyn FileProvider,
    /// Files being loaded, outermost first, for cycle detection.
    stack: Vec<String>,
}

impl Loader<'_> {
    fn visit(&mut self, name: String, bytes: Vec<u8>, is_std: bool, diags: &mut Diagnostics) {
        let (text, invalid) = decode(bytes);
        let id = self.program.sources.add(name.clone(), text);
        if let Some((start, end)) = invalid {
            diags.push(
                Diagnostic::new(Code::E0008, format!("`{name}` is not valid UTF-8"))
                    .label(Span::new(id, start, end), format!("invalid byte sequence at byte {start}")),
            );
        }
        let text = self.program.sources.get(id).text.clone();
        let file = syntax::parse(id, &text, diags);
        let imports: Vec<ast::Import> = file
            .items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Import(imp) => Some(imp.clone()),
                _ => None,
            })
            .collect();
        self.program.modules.push(Module { source: id, ast: file, is_std });
        self.stack.push(name.clone());
        for imp in imports {
            self.import(&name, &imp, diags);
        }
        self.stack.pop();
    }

    fn import(&mut self, from: &str, imp: &ast::Import, diags: &mut Diagnostics) {
        let (target, is_std) = if imp.path.starts_with("std/") {
            (imp.path.trim_end_matches(".dpl").to_string(), true)
        } else {
            (join(from, &imp.path), false)
        };
        if let Some(pos) = self.stack.iter().position(|n| *n == target) {
            let mut chain: Vec<String> = self.stack[pos..].to_vec();
            chain.push(target.clone());
            diags.push(
                Diagnostic::new(Code::E0102, format!("import cycle: {}", chain.join(" → ")))
                    .label(imp.path_span, format!("`{}` imports `{}`, which is already being loaded", from, target)),
            );
            return;
        }
        // Each file is loaded once, whoever imports it.
        if self.program.sources.find(&target).is_some() {
            return;
        }
        let text =
            if is_std { stdlib_module(&target).map(|t| t.as_bytes().to_vec()) } else { self.files.read_bytes(&target) };
        match text {
            Some(text) => {
                self.visit(target, text, is_std, diags);
            }
            None => {
                let d = Diagnostic::new(Code::E0101, format!("cannot find `{}`", imp.path)).label(
                    imp.path_span,
                    if is_std { "no such standard module".to_string() } else { format!("looked for `{target}`") },
                );
                let d = if is_std {
                    let names: Vec<&str> = STDLIB.iter().map(|(n, _)| *n).collect();
                    let span = imp.path_span;
                    let fallback = format!("Standard modules: {}.", names.join(", "));
                    let d = d.did_you_mean(span, &target, names, fallback);
                    // The replacement must keep the quotes of the literal.
                    match d.suggestion.clone() {
                        Some(s) => d.suggest(s.span, format!("\"{}\"", s.replacement)),
                        None => d,
                    }
                } else {
                    d
                };
                diags.push(d);
            }
        }
    }
}

/// Joins an import path onto the directory of the importing file.
pub fn join(from: &str, path: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") && !parts.is_empty() {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::join;
    #[test]
    fn joins_relative_paths() {
        assert_eq!(join("examples/a.dpl", "./b.dpl"), "examples/b.dpl");
        assert_eq!(join("examples/x/a.dpl", "../b.dpl"), "examples/b.dpl");
        assert_eq!(join("a.dpl", "lib/b.dpl"), "lib/b.dpl");
    }
}
