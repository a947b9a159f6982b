//! Find references and rename. A declaration's references are the places
//! "go to definition" resolves to it: every whole-word occurrence of its
//! name in the program's own files (not the standard library) is resolved
//! exactly as [`navigate::definition`] resolves it, and kept when it lands
//! on the same declaration. So a service `api` and a field value `api` of
//! another kind, or a word in a comment or a string, are never confused.

use super::navigate;
use super::workspace::Workspace;
use lsp_types::{Location, TextEdit, Url, WorkspaceEdit};
use std::collections::HashMap;

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Every place the symbol at `offset` of `uri` is referenced, its
/// declaration first when `include_declaration`.
pub fn references(ws: &Workspace, uri: &Url, text: &str, offset: usize, include_declaration: bool) -> Vec<Location> {
    let Some(target) = navigate::definition(ws, uri, text, offset) else { return Vec::new() };
    let Some((a, _)) = ws.analysis_for(uri) else { return Vec::new() };
    let Some(decl_uri_id) = a.source_of(&target.uri) else { return Vec::new() };
    let decl_text = a.text(decl_uri_id);
    let ix = super::text::LineIndex::new(decl_text);
    let start = ix.offset(decl_text, target.range.start);
    let end = ix.offset(decl_text, target.range.end);
    let name = &decl_text[start..end];
    if name.is_empty() || !name.chars().all(is_word) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, is_std) in a.is_std.iter().enumerate() {
        let id = crate::source::SourceId(i as u32);
        let Some(file_uri) = a.uri(id) else { continue };
        if *is_std {
            continue;
        }
        // The editor's text of an open file, else what the analysis read.
        let file_text = ws.docs.get(file_uri).map(|d| d.text.as_str()).unwrap_or_else(|| a.text(id));
        let lines = super::text::LineIndex::new(file_text);
        for (at, _) in file_text.match_indices(name) {
            let before = file_text[..at].chars().next_back();
            let after = file_text[at + name.len()..].chars().next();
            if before.is_some_and(is_word) || after.is_some_and(is_word) {
                continue;
            }
            let Some(found) = navigate::definition(ws, file_uri, file_text, at) else { continue };
            if found != target {
                continue;
            }
            let loc = Location { uri: file_uri.clone(), range: lines.range(file_text, at, at + name.len()) };
            if loc == target && !include_declaration {
                continue;
            }
            out.push(loc);
        }
    }
    // The declaration first, then in file and position order.
    out.sort_by_key(|l| (l != &target, l.uri.to_string(), l.range.start.line, l.range.start.character));
    out
}

/// Renames the declaration at `offset` and every reference to it; an error
/// message when the name is not one, or the declaration is the standard
/// library's.
pub fn rename(
    ws: &Workspace,
    uri: &Url,
    text: &str,
    offset: usize,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>, String> {
    let mut chars = new_name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') || !chars.all(is_word) {
        return Err(format!("`{new_name}` is not a name: letters, digits, `_` and `-`, starting with a letter"));
    }
    let Some(target) = navigate::definition(ws, uri, text, offset) else { return Ok(None) };
    if let Some((a, _)) = ws.analysis_for(uri) {
        if a.source_of(&target.uri).is_none_or(|id| a.is_std.get(id.0 as usize).copied().unwrap_or(true)) {
            return Err("a declaration of the standard library cannot be renamed".into());
        }
    }
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for loc in references(ws, uri, text, offset, true) {
        changes.entry(loc.uri).or_default().push(TextEdit { range: loc.range, new_text: new_name.to_string() });
    }
    Ok((!changes.is_empty()).then(|| WorkspaceEdit { changes: Some(changes), ..Default::default() }))
}
