//! The checker's diagnostics as LSP diagnostics, and their suggestions as
//! quick fixes.
//!
//! A diagnostic keeps the code, message and primary span `deployc check`
//! reports; the primary label, the other labels and the help line become
//! related information (the way rust-analyzer shows rustc's notes), so an
//! editor shows everything the terminal report shows. Each diagnostic is
//! published to the file its primary span is in, which may be a file the
//! open document imports.

use super::text::LineIndex;
use super::workspace::{Analysis, Workspace};
use crate::codes::Severity;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag,
    NumberOrString, Range, TextEdit, Url, WorkspaceEdit,
};
use std::collections::{BTreeMap, HashMap};

/// The diagnostics of every file the open programs touch, by URI. Files of
/// the programs without diagnostics are included with an empty list, so
/// fixed problems disappear from the editor.
pub fn by_file(ws: &Workspace) -> BTreeMap<Url, Vec<lsp_types::Diagnostic>> {
    let mut out: BTreeMap<Url, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for a in ws.analyses.iter().filter(|a| a.root.is_some()) {
        for (i, uri) in a.uris.iter().enumerate() {
            if let (Some(uri), false) = (uri, a.is_std[i]) {
                out.entry(uri.clone()).or_default();
            }
        }
        for d in &a.compilation.diagnostics.items {
            if let Some((uri, diag)) = convert(a, d) {
                let list = out.entry(uri).or_default();
                // Two open roots importing one file report its problems twice.
                if !list.contains(&diag) {
                    list.push(diag);
                }
            }
        }
    }
    out
}

/// One diagnostic, with the URI of the file it belongs to.
pub fn convert(a: &Analysis, d: &Diagnostic) -> Option<(Url, lsp_types::Diagnostic)> {
    // Diagnostics about the program as a whole have no span: they go to the root.
    let primary = d.primary_span().or_else(|| {
        let root = a.root.as_ref().and_then(|r| a.source_of(r))?;
        Some(Span { file: root, start: 0, end: 0 })
    })?;
    let here = a.location(primary)?;
    let mut related: Vec<DiagnosticRelatedInformation> = Vec::new();
    for (i, label) in d.labels.iter().enumerate() {
        if label.message.is_empty() {
            continue;
        }
        if let Some(location) = a.location(label.span) {
            let message = if i == 0 { label.message.clone() } else { format!("note: {}", label.message) };
            related.push(DiagnosticRelatedInformation { location, message });
        }
    }
    if !d.help.is_empty() {
        related.push(DiagnosticRelatedInformation { location: here.clone(), message: format!("help: {}", d.help) });
    }
    let diag = lsp_types::Diagnostic {
        range: here.range,
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        code_description: None,
        source: Some("deployc".into()),
        message: d.message.clone(),
        related_information: Some(related),
        tags: (d.code == crate::codes::Code::W0001).then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: None,
    };
    Some((here.uri, diag))
}

/// Quick fixes for the diagnostics of `uri` whose range meets `range`: each
/// diagnostic with a suggestion becomes an edit replacing the suggested span.
pub fn code_actions(ws: &Workspace, uri: &Url, range: Range) -> Vec<CodeActionOrCommand> {
    let Some((a, _)) = ws.analysis_for(uri) else { return Vec::new() };
    let mut out = Vec::new();
    for d in &a.compilation.diagnostics.items {
        let Some(s) = &d.suggestion else { continue };
        let Some((diag_uri, diag)) = convert(a, d) else { continue };
        if &diag_uri != uri || !overlaps(diag.range, range) {
            continue;
        }
        let (Some(edit_uri), text) = (a.uri(s.span.file), a.text(s.span.file)) else { continue };
        let edit = TextEdit {
            range: LineIndex::new(text).range(text, s.span.start as usize, s.span.end as usize),
            new_text: s.replacement.clone(),
        };
        let old = a.compilation.program.sources.slice(s.span);
        let title = if old.is_empty() {
            format!("Insert `{}`", s.replacement.trim_end())
        } else {
            format!("Replace `{old}` with `{}`", s.replacement)
        };
        #[allow(clippy::mutable_key_type)] // lsp-types keys edits by Url, as the protocol does.
        let changes: HashMap<Url, Vec<TextEdit>> = HashMap::from([(edit_uri.clone(), vec![edit])]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diag]),
            edit: Some(WorkspaceEdit { changes: Some(changes), document_changes: None, change_annotations: None }),
            command: None,
            is_preferred: Some(true),
            disabled: None,
            data: None,
        }));
    }
    out
}

/// Whether two ranges share a position (touching counts: a cursor at the end
/// of a misspelt word still gets its fix).
fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}
