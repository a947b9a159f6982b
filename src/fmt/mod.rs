//! The formatter: one canonical layout for `.dpl` files (`deployc fmt`), used
//! by the command line and the language server.
//!
//! The file is parsed with its comments ([`crate::syntax::parse_with_comments`])
//! and printed again from the tree, the comments put back between the tokens
//! they were written between. The layout:
//!
//! - two spaces of indentation; one field, list item or argument per line in
//!   a block, list or call that was written over several lines (or holds a
//!   comment), everything on one line in one that was written on one line:
//!   `{ a = 1 b = 2 }`, `[x, y]`, `f(a, k = v)`; empty ones as `{}`, `[]`, `()`;
//! - a bare block field without `=` (`env { ... }`), every other field and
//!   value declaration with ` = `; `,` and `;` between fields are dropped,
//!   list items and arguments are separated by `, ` (and end with `,` when one
//!   per line);
//! - the `=` of consecutive fields (and of consecutive top-level value
//!   declarations) aligned, like `terraform fmt`, and separately the `{` of
//!   consecutive one-line block fields (`frontend { replicas = 2 }`): a blank
//!   line, an import or a field whose block spans several lines starts a new
//!   group, and a field whose value spans several lines ends its group;
//! - the comments at the end of consecutive lines aligned one space after the
//!   longest of those lines, like `gofmt` (but a line more than 20 columns
//!   wider or narrower than the one before starts a new group, so one long
//!   line does not push its neighbours' comments far right); own-line comments indented with the
//!   line that follows; at most one blank line in a row, none at the start of
//!   a file or block, none before a closing brace; a newline at the end;
//! - strings, numbers and names exactly as written (escapes are not
//!   rewritten).
//!
//! **Invariant:** formatting never changes the meaning of a file and never
//! loses or reorders a comment: [`format`] re-parses its output and returns it
//! only if the tree (spans aside) and the comments are the ones it started
//! from. Formatting is idempotent: a formatted file formats to itself.

mod printer;
mod same;

use crate::diagnostic::Diagnostics;
use crate::source::SourceId;
use crate::syntax::{self, Comment};

/// Formats one `.dpl` file.
///
/// `name` is the file's display name (reserved for messages; the layout does
/// not depend on it). Returns the formatted text, which may equal `text`.
///
/// Errors:
/// - the file has syntax errors: `Err` with every lexer and parser diagnostic,
///   sorted; their spans are byte offsets into `text`, under `SourceId(0)`
///   (put `text` first into a fresh [`crate::source::SourceMap`] to render
///   them). A file with syntax errors is never formatted.
/// - `Err` with **no** diagnostics: the formatter could not print the file
///   without changing its tree or its comments. That is a bug in the
///   formatter; the file should be left as it is.
///
/// Checker errors (unknown names, wrong units) do not stop formatting.
pub fn format(name: &str, text: &str) -> Result<String, Diagnostics> {
    let _ = name;
    let mut diags = Diagnostics::default();
    let (file, comments) = syntax::parse_with_comments(SourceId(0), text, &mut diags);
    if !diags.items.is_empty() {
        diags.sort();
        return Err(diags);
    }
    let mut out = printer::print(text, &file, &comments);
    // A byte-order mark is the editor's choice of encoding, not layout: keep it.
    if text.starts_with('\u{feff}') {
        out.insert(0, '\u{feff}');
    }
    // The safety net: the output must mean the same and keep every comment.
    let mut again = Diagnostics::default();
    let (file2, comments2) = syntax::parse_with_comments(SourceId(0), &out, &mut again);
    if !again.items.is_empty()
        || !same::same_file(&file, &file2)
        || comment_texts(text, &comments) != comment_texts(&out, &comments2)
    {
        return Err(Diagnostics::default());
    }
    Ok(out)
}

/// The text of each comment as the printer writes it.
fn comment_texts(text: &str, comments: &[Comment]) -> Vec<String> {
    comments.iter().map(|c| printer::comment_text(text, c)).collect()
}

#[cfg(test)]
mod tests {
    use super::format;

    fn fmt(s: &str) -> String {
        match format("t.dpl", s) {
            Ok(out) => {
                assert_eq!(format("t.dpl", &out).ok().as_deref(), Some(out.as_str()), "not idempotent:\n{out}");
                out
            }
            Err(d) => panic!("not formatted: {:#?}", d.items),
        }
    }

    #[test]
    fn a_byte_order_mark_is_kept() {
        assert_eq!(
            fmt("\u{feff}service api {\n port = 1 }\n"),
            fmt("service api {\n port = 1 }\n").replacen("", "\u{feff}", 1)
        );
    }

    #[test]
    fn aligns_fields_and_keeps_inline_blocks() {
        let src = "service api {\n  language=python\n  port = 8080 ; cpu=250m..1\n  build{ context = \"x\" ,}\n\n\n  env {\n A = db.url\n  LONG_NAME = secret(\"x\" , key=\"k\")\n  }\n  depends_on = [a,b]\n}\n";
        let want = "service api {\n  language = python\n  port     = 8080\n  cpu      = 250m..1\n  build { context = \"x\" }\n\n  env {\n    A         = db.url\n    LONG_NAME = secret(\"x\", key = \"k\")\n  }\n  depends_on = [a, b]\n}\n";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn keeps_comments_where_they_were() {
        let src = "// header\n\n\n# hash\nproject p { // after brace\n  // own line\n  a = 1 // trailing\n  bb = \"x\" /* block */\n  /* multi\n     line */\n  c = [ // list\n    1, // one\n    2\n    // end of list\n  ]\n  // before close\n}\n// tail\n";
        let want = "// header\n\n# hash\nproject p { // after brace\n  // own line\n  a  = 1   // trailing\n  bb = \"x\" /* block */\n  /* multi\n     line */\n  c  = [ // list\n    1,   // one\n    2,\n    // end of list\n  ]\n  // before close\n}\n// tail\n";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn aligns_top_level_value_declarations_and_trailing_comments() {
        let src = "gate secrets = gitleaks // a\ngate sca = grype { fail_on = high }   // b\n\ngate x = y\n";
        let want = "gate secrets = gitleaks                 // a\ngate sca     = grype { fail_on = high } // b\n\ngate x = y\n";
        assert_eq!(fmt(src), want);
    }

    #[test]
    fn comments_inside_values_stay_in_order() {
        let src = "service a { cpu = /* c */ 1..2 port = // why\n 80 x = f(1, // one\n 2) }\n";
        let out = fmt(src);
        assert!(out.contains("/* c */") && out.contains("// why") && out.contains("// one"), "{out}");
    }

    #[test]
    fn refuses_syntax_errors() {
        let err = format("t.dpl", "service a { port = }").expect_err("syntax error");
        assert_eq!(err.items[0].code, crate::codes::Code::E0003);
        assert!(format("t.dpl", "service a { x = 512MB }").is_err(), "lexer errors too");
    }

    #[test]
    fn crlf_and_tabs_become_the_canonical_layout() {
        let src = "service a {\r\n\tport = 1 // x\r\n\t/* b\r\n c */\r\n}\r\n";
        assert_eq!(fmt(src), "service a {\n  port = 1 // x\n  /* b\n c */\n}\n");
    }

    #[test]
    fn carriage_returns_before_a_line_end_in_a_block_comment_all_go() {
        // Found by fuzzing: `\r\r\n` became `\r\n`, which the next run changed again.
        let once = fmt("/*a\r\r\nb\r\r\r\n*/\n");
        assert_eq!(once, "/*a\nb\n*/\n");
        assert_eq!(fmt(&once), once);
        let fuzzed = "/*\u{fffd}\0\r\r\r\n\r\r\u{f}\r\r\r\0\u{3}*TiB\u{fffd}*/";
        assert!(format("t.dpl", fuzzed).is_ok());
    }

    #[test]
    fn comments_in_odd_places() {
        for src in [
            "service /* a */ api { port = 1 }",
            "service // a\n api { port = 1 }",
            "service api { x = f(/* c */) }",
            "service api { x = f( // c\n) y = [ // d\n] }",
            "service api { x = a.// c\n b }",
            "service api { x = 1 .. // c\n 2 }",
            "import // c\n \"std/strategies\"",
            "gate a = x /* c */ gate b = y",
        ] {
            let out = fmt(src);
            assert_eq!(
                out.matches("/*").count() + out.matches("//").count(),
                src.matches("/*").count() + src.matches("//").count(),
                "{src}\n{out}"
            );
        }
    }

    #[test]
    fn empty_and_blank_files() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n  \n"), "");
        assert_eq!(fmt("// only\n\n"), "// only\n");
        assert_eq!(fmt("pipeline {\n}\nobservability { }"), "pipeline {}\nobservability {}\n");
    }
}
