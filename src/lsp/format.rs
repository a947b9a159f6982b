//! `textDocument/formatting`: the canonical layout of `deployc fmt`
//! ([`crate::fmt::format`]). A document with syntax errors is left alone
//! (no edits); its diagnostics already say what is wrong.

use super::text::LineIndex;
use lsp_types::TextEdit;

/// The formatted text of a document, or `None` when it cannot be formatted.
pub fn format_text(text: &str) -> Option<String> {
    crate::fmt::format("document.dpl", text).ok()
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

#[cfg(test)]
mod tests {
    #[test]
    fn formats_with_deployc_fmt_and_leaves_broken_text_alone() {
        let messy = "service api {\nport=8080\n      language = go }\n";
        let edits = super::edits(messy);
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].new_text, deployc_fmt(messy));
        assert!(super::edits(&deployc_fmt(messy)).is_empty(), "formatted text needs no edit");
        assert!(super::edits("service api { port = }").is_empty());
    }

    fn deployc_fmt(t: &str) -> String {
        crate::fmt::format("t.dpl", t).expect("formats")
    }
}
