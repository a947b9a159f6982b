//! The open documents and what the compiler makes of them.
//!
//! Every open `.dpl` document is compiled as a program root, exactly as
//! `deployc check` would compile it; a document that another open document
//! imports is analysed as part of that program instead (so its references
//! resolve and it is not blamed for declaring no project). Imports are read
//! from the open documents first, then from disk through the [`Host`].
//!
//! Files are named as the loader names them: relative to the workspace root
//! when they lie under it (the names `deployc check` prints when run from
//! there), absolute otherwise; standard modules are `std/...` and live at
//! URIs under [`Workspace::stdlib_base`].

use super::text::LineIndex;
use crate::graph::Graph;
use crate::load::FileProvider;
use crate::model::Model;
use crate::source::{SourceId, Span};
use crate::syntax::ast::{DeclBody, Item, ValueKind};
use crate::Compilation;
use lsp_types::Url;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the server needs from the outside world: reading files the open
/// documents import. The binary reads the disk; tests use a map.
pub trait Host {
    /// The text of the file at an absolute path, if it exists.
    fn read_file(&self, path: &Path) -> Option<String>;
}

/// An in-memory host for tests and tools.
impl Host for BTreeMap<PathBuf, String> {
    fn read_file(&self, path: &Path) -> Option<String> {
        self.get(path).cloned()
    }
}

#[derive(Clone, Debug)]
pub struct Document {
    pub text: String,
    pub version: i32,
}

/// One declaration of a program, for lookups by kind and name.
#[derive(Clone, Debug)]
pub struct DeclInfo {
    pub keyword: String,
    pub name: Option<String>,
    /// The name's span, else the keyword's.
    pub anchor: Span,
    pub span: Span,
    /// The kind of a tagged declaration: `postgres`, `canary`, `grype`.
    pub tag: Option<String>,
    pub is_std: bool,
}

/// One compiled program.
pub struct Analysis {
    /// The document compiled as the root; `None` for the stand-in program
    /// that loads a standard module opened on its own.
    pub root: Option<Url>,
    pub compilation: Compilation,
    /// The URI of each source, by [`SourceId`].
    pub uris: Vec<Option<Url>>,
    /// Whether each source is a standard module.
    pub is_std: Vec<bool>,
    pub decls: Vec<DeclInfo>,
}

impl Analysis {
    pub fn source_of(&self, uri: &Url) -> Option<SourceId> {
        self.uris.iter().position(|u| u.as_ref() == Some(uri)).map(|i| SourceId(i as u32))
    }
    pub fn uri(&self, id: SourceId) -> Option<&Url> {
        self.uris.get(id.0 as usize).and_then(Option::as_ref)
    }
    pub fn text(&self, id: SourceId) -> &str {
        &self.compilation.program.sources.get(id).text
    }
    /// The declaration of `keyword name`.
    pub fn decl(&self, keyword: &str, name: &str) -> Option<&DeclInfo> {
        self.decls.iter().find(|d| d.keyword == keyword && d.name.as_deref() == Some(name))
    }
    /// The declared names of one keyword, sorted, without repeats.
    pub fn names(&self, keyword: &str) -> Vec<&DeclInfo> {
        let mut out: Vec<&DeclInfo> = self.decls.iter().filter(|d| d.keyword == keyword && d.name.is_some()).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        out
    }
    /// A span as an LSP location.
    pub fn location(&self, span: Span) -> Option<lsp_types::Location> {
        let uri = self.uri(span.file)?.clone();
        let text = self.text(span.file);
        let range = LineIndex::new(text).range(text, span.start as usize, span.end as usize);
        Some(lsp_types::Location { uri, range })
    }
}

pub struct Workspace {
    /// The workspace folder: file names under it are relative, as `deployc check` run there prints them.
    pub root: Option<PathBuf>,
    /// The folder URI holding `std/<module>.dpl` (ends with `/`).
    pub stdlib_base: Url,
    pub docs: BTreeMap<Url, Document>,
    /// The programs of the open documents, recomputed by [`Workspace::refresh`].
    pub analyses: Vec<Analysis>,
    /// The last model of each root that compiled without errors, so hovers
    /// can still show resolved values while the program is being edited.
    pub last_good: BTreeMap<Url, (Model, Graph)>,
}

impl Workspace {
    pub fn new(root: Option<PathBuf>, stdlib_base: Url) -> Self {
        Workspace { root, stdlib_base, docs: BTreeMap::new(), analyses: Vec::new(), last_good: BTreeMap::new() }
    }

    /// The standard module a URI shows (`std/strategies`), if it is one.
    pub fn std_module(&self, uri: &Url) -> Option<String> {
        let rest = uri.as_str().strip_prefix(self.stdlib_base.as_str())?;
        let name = rest.strip_suffix(".dpl")?;
        crate::load::stdlib_module(name).map(|_| name.to_string())
    }

    pub fn std_uri(&self, module: &str) -> Option<Url> {
        self.stdlib_base.join(&format!("{module}.dpl")).ok()
    }

    /// The loader's name for a document.
    pub fn name_of(&self, uri: &Url) -> String {
        let Ok(path) = uri.to_file_path() else { return uri.to_string() };
        let rel = self.root.as_deref().and_then(|r| path.strip_prefix(r).ok()).filter(|p| !p.as_os_str().is_empty());
        rel.unwrap_or(&path).to_string_lossy().replace('\\', "/")
    }

    /// The URI of a loader name (not a standard module).
    pub fn uri_of(&self, name: &str) -> Option<Url> {
        if let Some(doc) = self.docs.keys().find(|u| self.name_of(u) == name) {
            return Some(doc.clone());
        }
        Url::from_file_path(self.path_of(name)).ok().or_else(|| Url::parse(name).ok())
    }

    fn path_of(&self, name: &str) -> PathBuf {
        let p = Path::new(name);
        match &self.root {
            Some(r) if p.is_relative() => r.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// Recompiles every open document. Call after any change.
    pub fn refresh(&mut self, host: &dyn Host) {
        let files = Files { ws: self, host };
        let mut compiled: Vec<Analysis> = Vec::new();
        let mut std_docs = Vec::new();
        for (uri, doc) in &self.docs {
            if let Some(module) = self.std_module(uri) {
                std_docs.push(module);
                continue;
            }
            let c = crate::compile(&self.name_of(uri), &doc.text, &files);
            compiled.push(self.analysis(Some(uri.clone()), c));
        }
        // A document another open document imports is part of that program.
        // (Two documents importing each other, an error, both stay roots.)
        let imports = |a: &Analysis, b: &Analysis| match (&a.root, &b.root) {
            (Some(x), Some(y)) => x != y && a.source_of(y).is_some(),
            _ => false,
        };
        let covered: Vec<bool> =
            compiled.iter().map(|a| compiled.iter().any(|b| imports(b, a) && !imports(a, b))).collect();
        let mut analyses: Vec<Analysis> =
            compiled.into_iter().zip(covered).filter(|(_, c)| !c).map(|(a, _)| a).collect();
        // A standard module opened on its own (after "go to definition") is
        // analysed in a stand-in program that imports it.
        for module in std_docs {
            if analyses.iter().any(|a| a.std_source(&module).is_some()) {
                continue;
            }
            let c = crate::compile("<stdlib>", &format!("import \"{module}\"\n"), &files);
            analyses.push(self.analysis(None, c));
        }
        for a in &analyses {
            if let (Some(root), Some(out)) = (&a.root, &a.compilation.output) {
                self.last_good.insert(root.clone(), out.clone());
            }
        }
        self.last_good.retain(|u, _| self.docs.contains_key(u));
        self.analyses = analyses;
    }

    fn analysis(&self, root: Option<Url>, compilation: Compilation) -> Analysis {
        let program = &compilation.program;
        let mut is_std = vec![false; program.sources.len()];
        for m in &program.modules {
            is_std[m.source.0 as usize] = m.is_std;
        }
        let uris = (0..program.sources.len())
            .map(|i| {
                let name = &program.sources.get(SourceId(i as u32)).name;
                if is_std[i] {
                    self.std_uri(name)
                } else if root.is_none() {
                    None
                } else {
                    self.uri_of(name)
                }
            })
            .collect();
        let decls = program
            .modules
            .iter()
            .flat_map(|m| m.ast.items.iter().map(move |i| (m, i)))
            .filter_map(|(m, item)| match item {
                Item::Decl(d) => Some(DeclInfo {
                    keyword: d.keyword.name.clone(),
                    name: d.name.as_ref().map(|n| n.name.clone()),
                    anchor: d.name.as_ref().map(|n| n.span).unwrap_or(d.keyword.span),
                    span: d.span,
                    tag: match &d.body {
                        DeclBody::Value(v) => match &v.kind {
                            ValueKind::Path { segments, .. } => segments.first().map(|s| s.name.clone()),
                            _ => None,
                        },
                        DeclBody::Block(_) => None,
                    },
                    is_std: m.is_std,
                }),
                Item::Import(_) => None,
            })
            .collect();
        Analysis { root, compilation, uris, is_std, decls }
    }

    /// The program a document is best analysed in, and its source there:
    /// its own when it is a root, else one that imports it.
    pub fn analysis_for(&self, uri: &Url) -> Option<(&Analysis, SourceId)> {
        if let Some(a) = self.analyses.iter().find(|a| a.root.as_ref() == Some(uri)) {
            return a.source_of(uri).map(|id| (a, id));
        }
        self.analyses.iter().find_map(|a| a.source_of(uri).map(|id| (a, id)))
    }

    /// The last error-free model of the program `a`.
    pub fn model<'a>(&'a self, a: &'a Analysis) -> Option<(&'a Model, &'a Graph, bool)> {
        if let Some((m, g)) = &a.compilation.output {
            return Some((m, g, true));
        }
        a.root.as_ref().and_then(|r| self.last_good.get(r)).map(|(m, g)| (m, g, false))
    }
}

impl Analysis {
    fn std_source(&self, module: &str) -> Option<SourceId> {
        let id = self.compilation.program.sources.find(module)?;
        self.is_std[id.0 as usize].then_some(id)
    }
}

/// Imports: open documents first, then the disk.
struct Files<'a> {
    ws: &'a Workspace,
    host: &'a dyn Host,
}

impl FileProvider for Files<'_> {
    fn read(&self, path: &str) -> Option<String> {
        if let Some((_, doc)) = self.ws.docs.iter().find(|(u, _)| self.ws.name_of(u) == path) {
            return Some(doc.text.clone());
        }
        self.host.read_file(&self.ws.path_of(path))
    }
}
