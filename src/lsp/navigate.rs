//! Go to definition and the document outline.
//!
//! Definitions resolve through the declarations of the whole program, so a
//! name jumps to the file that declares it: an imported file, or a standard
//! module (the prelude's toolchains, `std/strategies`, ...) whose read-only
//! copy lives under the server's stdlib folder.

use super::cursor::{self, Shape, Site, Want};
use super::workspace::{Analysis, Workspace};
use crate::check::schema::{RefKind, Ty};
use crate::syntax::ast::{self, DeclBody, Item, ValueKind};
use lsp_types::{DocumentSymbol, Location, Position, Range, SymbolKind, Url};

/// Where the name at byte `offset` of `uri` is declared.
pub fn definition(ws: &Workspace, uri: &Url, text: &str, offset: usize) -> Option<Location> {
    let at = cursor::at(text, offset);
    let (a, here) = ws.analysis_for(uri)?;
    let word = at.word.as_ref().map(|w| w.text.as_str());
    let decl = match &at.site {
        Site::Value { want: Want::Ty(Ty::Ref(kind)) } => a.decl(kind.word(), word?),
        Site::Value { want: Want::Ty(Ty::Strategy) } => a.decl("strategy", word?),
        Site::Key { shape: Shape::Keyed(kind, _), .. } => a.decl(kind.word(), word?),
        Site::DeclName { keyword } => a.decl(keyword, word?),
        Site::Attr { segments, index: 0 } => match segments.first()?.text.as_str() {
            "project" => a.decls.iter().find(|d| d.keyword == "project"),
            "env" => None,
            head => a.decl(RefKind::Service.word(), head).or_else(|| a.decl(RefKind::Resource.word(), head)),
        },
        Site::Import { path, .. } => return import_target(ws, a, here, path),
        _ => None,
    }?;
    a.location(decl.anchor)
}

/// The file an import names, at its start.
fn import_target(ws: &Workspace, a: &Analysis, here: crate::source::SourceId, path: &str) -> Option<Location> {
    let uri = if path.starts_with("std/") {
        ws.std_uri(path.trim_end_matches(".dpl"))?
    } else {
        let from = &a.compilation.program.sources.get(here).name;
        ws.uri_of(&crate::load::join(from, path))?
    };
    let start = Position { line: 0, character: 0 };
    Some(Location { uri, range: Range { start, end: start } })
}

/// The declarations of a document and, under each, its fields.
pub fn symbols(text: &str) -> Vec<DocumentSymbol> {
    let mut ignored = crate::diagnostic::Diagnostics::default();
    let file = crate::syntax::parse(crate::source::SourceId(0), text, &mut ignored);
    let ix = super::text::LineIndex::new(text);
    let range = |s: crate::source::Span| ix.range(text, s.start as usize, s.end as usize);
    let mut out = Vec::new();
    for item in &file.items {
        let Item::Decl(d) = item else { continue };
        let name = match &d.name {
            Some(n) => n.name.clone(),
            None => d.keyword.name.clone(),
        };
        let (detail, children) = match &d.body {
            DeclBody::Block(b) => (d.keyword.name.clone(), fields(b, &range)),
            DeclBody::Value(v) => {
                let tag = match &v.kind {
                    ValueKind::Path { segments, .. } => segments.first().map(|s| s.name.clone()).unwrap_or_default(),
                    _ => String::new(),
                };
                let children = match &v.kind {
                    ValueKind::Path { block: Some(b), .. } => fields(b, &range),
                    _ => Vec::new(),
                };
                (format!("{} = {tag}", d.keyword.name), children)
            }
        };
        let anchor = d.name.as_ref().map(|n| n.span).unwrap_or(d.keyword.span);
        #[allow(deprecated)] // `deprecated` is a required field of the struct.
        out.push(DocumentSymbol {
            name,
            detail: Some(detail),
            kind: symbol_kind(&d.keyword.name),
            tags: None,
            deprecated: None,
            range: range(d.span),
            selection_range: range(anchor),
            children: Some(children),
        });
    }
    out
}

/// The fields of a block, with the fields of nested blocks under them.
fn fields(b: &ast::Block, range: &dyn Fn(crate::source::Span) -> Range) -> Vec<DocumentSymbol> {
    b.fields
        .iter()
        .map(|f| {
            let nested = match &f.value.kind {
                ValueKind::Block(inner) => fields(inner, range),
                ValueKind::Path { block: Some(inner), .. } => fields(inner, range),
                _ => Vec::new(),
            };
            #[allow(deprecated)]
            DocumentSymbol {
                name: f.key.name.clone(),
                detail: None,
                kind: SymbolKind::FIELD,
                tags: None,
                deprecated: None,
                range: range(f.span),
                selection_range: range(f.key.span),
                children: (!nested.is_empty()).then_some(nested),
            }
        })
        .collect()
}

/// The outline icon of each declaration keyword.
pub fn symbol_kind(keyword: &str) -> SymbolKind {
    match keyword {
        "project" => SymbolKind::PACKAGE,
        "service" => SymbolKind::CLASS,
        "resource" => SymbolKind::STRUCT,
        "environment" => SymbolKind::NAMESPACE,
        "strategy" => SymbolKind::ENUM,
        "gate" => SymbolKind::EVENT,
        "integration" => SymbolKind::INTERFACE,
        "toolchain" => SymbolKind::MODULE,
        "preset" => SymbolKind::CLASS,
        _ => SymbolKind::OBJECT,
    }
}
