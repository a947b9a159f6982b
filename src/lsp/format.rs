//! `textDocument/formatting`, behind one function.
//!
//! The canonical layout is `deployc fmt`'s; the formatter is being built on
//! its own branch (`deployc::fmt::format`). Until it lands, [`format_text`]
//! formats nothing and the request answers with no edits, which editors
//! treat as "already formatted". Pointing [`format_text`] at the formatter
//! is the only change the server needs.

use super::text::LineIndex;
use lsp_types::TextEdit;

/// The formatted text of a document, or `None` when it cannot be formatted
/// (for now always: no formatter yet).
pub fn format_text(_text: &str) -> Option<String> {
    None
}

/// The edits that format `text`: one edit replacing the whole document when
/// the layout changes, none otherwise.
pub fn edits(text: &str) -> Vec<TextEdit> {
    match format_text(text) {
        Some(formatted) if formatted != text => {
            let range = LineIndex::new(text).range(text, 0, text.len());
            vec![TextEdit { range, new_text: formatted }]
        }
        _ => Vec::new(),
    }
}
