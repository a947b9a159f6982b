//! Positions: byte offsets (what spans hold, see [`crate::source`]) to LSP
//! positions and back, and incremental edits of a document's text.
//!
//! LSP counts columns in UTF-16 code units unless both sides negotiate
//! otherwise; deployc always uses UTF-16, the encoding every client supports.
//! Offsets past the end are clamped and offsets inside a character are moved
//! to its start, so a stale position from the client never panics.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// The byte offset where each line starts, for one text.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The LSP position of a byte offset of `text`.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position { line: line as u32, character: col as u32 }
    }

    /// The byte offset of an LSP position in `text`. A column past the end of
    /// its line means the end of the line; a line past the end, the end of text.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else { return text.len() };
        let end = self.starts.get(pos.line as usize + 1).map(|e| e - 1).unwrap_or(text.len());
        let mut units = 0usize;
        for (i, ch) in text[start..end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += ch.len_utf16();
        }
        end
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range { start: self.position(text, start), end: self.position(text, end) }
    }
}

/// The largest char boundary at or before `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Applies `didChange` events in order: a change without a range replaces the
/// whole text.
pub fn apply_changes(text: &mut String, changes: Vec<TextDocumentContentChangeEvent>) {
    for change in changes {
        match change.range {
            Some(range) => {
                let index = LineIndex::new(text);
                let start = index.offset(text, range.start);
                let end = index.offset(text, range.end).max(start);
                text.replace_range(start..end, &change.text);
            }
            None => *text = change.text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn utf16_columns_round_trip() {
        // `é` is 2 bytes and 1 UTF-16 unit; `𝄞` is 4 bytes and 2 units.
        let text = "ab\né𝄞x\n\nlast";
        let ix = LineIndex::new(text);
        assert_eq!(ix.position(text, 0), pos(0, 0));
        assert_eq!(ix.position(text, 3), pos(1, 0));
        let x = text.find('x').expect("x");
        assert_eq!(ix.position(text, x), pos(1, 3));
        assert_eq!(ix.offset(text, pos(1, 3)), x);
        assert_eq!(ix.offset(text, pos(1, 1)), text.find('𝄞').expect("clef"));
        assert_eq!(ix.position(text, text.len()), pos(3, 4));
        // Clamping: past the line's end, past the last line, inside a character.
        assert_eq!(ix.offset(text, pos(0, 99)), 2);
        assert_eq!(ix.offset(text, pos(9, 0)), text.len());
        assert_eq!(ix.position(text, x - 1), pos(1, 1));
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let mut text = "service api {\n  port = 8080\n}\n".to_string();
        let change = |l1, c1, l2, c2, t: &str| TextDocumentContentChangeEvent {
            range: Some(Range { start: pos(l1, c1), end: pos(l2, c2) }),
            range_length: None,
            text: t.to_string(),
        };
        apply_changes(&mut text, vec![change(1, 9, 1, 13, "9090"), change(0, 8, 0, 11, "web")]);
        assert_eq!(text, "service web {\n  port = 9090\n}\n");
        apply_changes(
            &mut text,
            vec![TextDocumentContentChangeEvent { range: None, range_length: None, text: "x".into() }],
        );
        assert_eq!(text, "x");
    }
}
