//! Text to tokens. Comments and whitespace are dropped; bad characters become
//! diagnostics and are skipped, so the token stream is always usable.

use super::ast::{Ident, Quantity, StrPart, Unit};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{SourceId, Span};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(Vec<StrPart>),
    Num(Quantity),
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Eq,
    Comma,
    Semi,
    Dot,
    DotDot,
    Eof,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(n) => format!("`{n}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Num(q) => format!("`{}`", q.text),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Eq => "`=`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Semi => "`;`".into(),
            Tok::Dot => "`.`".into(),
            Tok::DotDot => "`..`".into(),
            Tok::Eof => "end of file".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Splits `text` into tokens; the last token is always [`Tok::Eof`].
pub fn lex(file: SourceId, text: &str, diags: &mut Diagnostics) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let sp = |s: usize, e: usize| Span::new(file, s, e);
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                loop {
                    if i + 1 >= b.len() {
                        diags.push(
                            Diagnostic::new(Code::E0004, "unclosed block comment")
                                .label(sp(start, start + 2), "comment opened here")
                                .help("Close the comment with `*/`."),
                        );
                        i = b.len();
                        break;
                    }
                    if b[i] == b'*' && b[i + 1] == b'/' {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'=' | b',' | b';' => {
                let tok = match c {
                    b'{' => Tok::LBrace,
                    b'}' => Tok::RBrace,
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'=' => Tok::Eq,
                    b',' => Tok::Comma,
                    _ => Tok::Semi,
                };
                i += 1;
                out.push(Token { tok, span: sp(start, i) });
            }
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    i += 2;
                    out.push(Token { tok: Tok::DotDot, span: sp(start, i) });
                } else {
                    i += 1;
                    out.push(Token { tok: Tok::Dot, span: sp(start, i) });
                }
            }
            b'"' => {
                let (tok, end) = lex_string(file, text, i, diags);
                i = end;
                out.push(Token { tok, span: sp(start, i) });
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                // A fraction needs a digit after the dot, so `2..10` stays a range.
                if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let num_end = i;
                while i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'%') {
                    i += 1;
                }
                let number = &text[start..num_end];
                let suffix = &text[num_end..i];
                let value: f64 = number.parse().unwrap_or(0.0);
                let unit = if suffix.is_empty() {
                    None
                } else {
                    match Unit::parse(suffix) {
                        Some(u) => Some(u),
                        None => {
                            let d = Diagnostic::new(Code::E0005, format!("unknown unit `{suffix}`"))
                                .label(sp(num_end, i), "not a unit");
                            let units = ["m", "Ki", "Mi", "Gi", "Ti", "K", "M", "G", "ms", "s", "h", "d", "w"];
                            let fix = Span::new(file, num_end, i);
                            diags.push(d.did_you_mean(fix, suffix, units, Code::E0005.info().help));
                            None
                        }
                    }
                };
                out.push(Token {
                    tok: Tok::Num(Quantity { value, unit, text: text[start..i].to_string() }),
                    span: sp(start, i),
                });
            }
            c if is_ident_start(c) => {
                while i < b.len() && is_ident_continue(b[i]) {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident(text[start..i].to_string()), span: sp(start, i) });
            }
            _ => {
                // Skip one whole character, not one byte, so spans stay on char boundaries.
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                i += ch.len_utf8();
                diags.push(
                    Diagnostic::new(Code::E0001, format!("unexpected character `{}`", ch.escape_debug()))
                        .label(sp(start, i), "not part of any token"),
                );
            }
        }
    }
    out.push(Token { tok: Tok::Eof, span: sp(b.len(), b.len()) });
    out
}

/// Lexes a string starting at the opening quote; returns the token and the end offset.
fn lex_string(file: SourceId, text: &str, open: usize, diags: &mut Diagnostics) -> (Tok, usize) {
    let b = text.as_bytes();
    let sp = |s: usize, e: usize| Span::new(file, s, e);
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut i = open + 1;
    loop {
        if i >= b.len() || b[i] == b'\n' {
            diags.push(
                Diagnostic::new(Code::E0002, "unterminated string").label(sp(open, i), "this string is never closed"),
            );
            break;
        }
        match b[i] {
            b'"' => {
                i += 1;
                break;
            }
            b'\\' => {
                let esc = text[i + 1..].chars().next();
                match esc {
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some('"') => cur.push('"'),
                    Some('\\') => cur.push('\\'),
                    Some('$') => cur.push('$'),
                    Some(other) => {
                        cur.push(other);
                    }
                    None => {}
                }
                i += 1 + esc.map(|c| c.len_utf8()).unwrap_or(0);
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                let start = i;
                let mut j = i + 2;
                let mut segs = Vec::new();
                let mut ok = true;
                loop {
                    while j < b.len() && b[j] == b' ' {
                        j += 1;
                    }
                    let s = j;
                    if j < b.len() && is_ident_start(b[j]) {
                        while j < b.len() && is_ident_continue(b[j]) {
                            j += 1;
                        }
                        segs.push(Ident { name: text[s..j].to_string(), span: sp(s, j) });
                    } else {
                        ok = false;
                        break;
                    }
                    while j < b.len() && b[j] == b' ' {
                        j += 1;
                    }
                    match b.get(j) {
                        Some(b'.') => j += 1,
                        Some(b'}') => {
                            j += 1;
                            break;
                        }
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    if !cur.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut cur)));
                    }
                    parts.push(StrPart::Interp(segs));
                    i = j;
                } else {
                    let end =
                        text[start..].find(['}', '"', '\n']).map(|k| start + k + 1).unwrap_or(b.len()).min(b.len());
                    let end = if end > start + 2 && b.get(end - 1) != Some(&b'}') { end - 1 } else { end };
                    diags.push(
                        Diagnostic::new(Code::E0006, "invalid interpolation")
                            .label(sp(start, end.max(start + 2)), "expected `${name}` or `${name.attribute}`"),
                    );
                    i = end.max(start + 2);
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                cur.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(StrPart::Lit(cur));
    }
    (Tok::Str(parts), i)
}
