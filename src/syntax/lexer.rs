//! Text to tokens. Whitespace is dropped and comments go to a side list
//! (the parser never sees them; the formatter puts them back); bad characters
//! become diagnostics and are skipped, so the token stream is always usable.

use super::ast::{Ident, Quantity, StrPart, Unit};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{SourceId, Span};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(Vec<StrPart>),
    Num(Quantity),
    /// A number with an unknown unit suffix, already reported (E0005).
    BadNum(String),
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
            Tok::BadNum(t) => format!("`{t}`"),
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

/// A comment, kept beside the token stream for the formatter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    /// From the `//`, `#` or `/*` to the end of the line (newline excluded)
    /// or the closing `*/`.
    pub span: Span,
    pub kind: CommentKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentKind {
    /// `// ...` or `# ...`: ends the line.
    Line,
    /// `/* ... */`, possibly over several lines.
    Block,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Splits `text` into tokens; the last token is always [`Tok::Eof`].
pub fn lex(file: SourceId, text: &str, diags: &mut Diagnostics) -> Vec<Token> {
    lex_with_comments(file, text, diags).0
}

/// [`lex`], and the comments of the text in order.
pub fn lex_with_comments(file: SourceId, text: &str, diags: &mut Diagnostics) -> (Vec<Token>, Vec<Comment>) {
    // About one token per six bytes of a program: reserved once rather
    // than copied at each doubling (capacity never written costs no memory).
    let mut out = Vec::with_capacity(text.len() / 4 + 1);
    let comments = lex_into(file, text, diags, &mut |t| out.push(t));
    (out, comments)
}

/// [`lex_with_comments`], handing each token to `emit` as it is read (the
/// parser of a large file reads them while the rest is lexed on another
/// core); returns the comments.
pub fn lex_into(file: SourceId, text: &str, diags: &mut Diagnostics, emit: &mut dyn FnMut(Token)) -> Vec<Comment> {
    let b = text.as_bytes();
    let mut comments = Vec::new();
    // A UTF-8 byte-order mark (some Windows editors write one) is not a token.
    let mut i = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
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
                comments.push(Comment { span: sp(start, i), kind: CommentKind::Line });
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                comments.push(Comment { span: sp(start, i), kind: CommentKind::Line });
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
                comments.push(Comment { span: sp(start, i), kind: CommentKind::Block });
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
                emit(Token { tok, span: sp(start, i) });
            }
            b'.' => {
                if b.get(i + 1) == Some(&b'.') {
                    i += 2;
                    emit(Token { tok: Tok::DotDot, span: sp(start, i) });
                } else {
                    i += 1;
                    emit(Token { tok: Tok::Dot, span: sp(start, i) });
                }
            }
            b'"' => {
                let (tok, end) = lex_string(file, text, i, diags);
                i = end;
                emit(Token { tok, span: sp(start, i) });
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
                let tok = if suffix.is_empty() {
                    Tok::Num(Quantity { value, unit: None, text: text[start..i].to_string() })
                } else {
                    match Unit::parse(suffix) {
                        Some(u) => Tok::Num(Quantity { value, unit: Some(u), text: text[start..i].to_string() }),
                        None => {
                            diags.push(unknown_unit(sp(start, num_end), sp(num_end, i), number, suffix));
                            // Reported: the parser turns it into an error value, so
                            // the checker does not report the quantity again.
                            Tok::BadNum(text[start..i].to_string())
                        }
                    }
                };
                emit(Token { tok, span: sp(start, i) });
            }
            c if is_ident_start(c) => {
                while i < b.len() && is_ident_continue(b[i]) {
                    i += 1;
                }
                emit(Token { tok: Tok::Ident(text[start..i].to_string()), span: sp(start, i) });
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
    emit(Token { tok: Tok::Eof, span: sp(b.len(), b.len()) });
    comments
}

/// The units people write by habit, and deployc's spelling of each.
/// The unit and what it measures.
fn habitual_unit(suffix: &str) -> Option<(&'static str, &'static str)> {
    Some(match suffix {
        "MB" | "mb" | "Mb" | "MiB" | "mi" | "mib" => ("Mi", "Mebibytes"),
        "GB" | "gb" | "Gb" | "GiB" | "gi" | "gib" => ("Gi", "Gibibytes"),
        "KB" | "kb" | "Kb" | "KiB" | "ki" | "kib" => ("Ki", "Kibibytes"),
        "TB" | "tb" | "Tb" | "TiB" | "ti" | "tib" => ("Ti", "Tebibytes"),
        "min" | "mins" | "minute" | "minutes" => ("m", "Minutes"),
        "sec" | "secs" | "second" | "seconds" | "S" => ("s", "Seconds"),
        "hr" | "hrs" | "hour" | "hours" | "H" => ("h", "Hours"),
        "day" | "days" | "D" => ("d", "Days"),
        "wk" | "wks" | "week" | "weeks" | "W" => ("w", "Weeks"),
        "msec" | "msecs" | "millis" | "MS" | "Ms" => ("ms", "Milliseconds"),
        "core" | "cores" | "cpu" | "cpus" => ("", "Cores"),
        _ => return None,
    })
}

/// E0005 for `number` followed by the unknown `suffix`, with the likely unit as a fix.
fn unknown_unit(num: Span, suffix_span: Span, number: &str, suffix: &str) -> Diagnostic {
    let d = Diagnostic::new(Code::E0005, format!("unknown unit `{suffix}`")).label(suffix_span, "not a unit");
    match habitual_unit(suffix) {
        Some(("", what)) => d
            .help(format!("did you mean `{number}`? {what} are a plain number, without a unit."))
            .suggest(num.to(suffix_span), number),
        Some((unit, what)) => d
            .help(format!("did you mean `{number}{unit}`? {what} are written `{unit}`."))
            .suggest(num.to(suffix_span), format!("{number}{unit}")),
        None => {
            let units = ["m", "Ki", "Mi", "Gi", "Ti", "K", "M", "G", "ms", "s", "h", "d", "w"];
            d.did_you_mean(suffix_span, suffix, units, Code::E0005.info().help)
        }
    }
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
            let mut d =
                Diagnostic::new(Code::E0002, "unterminated string").label(sp(open, i), "this string is never closed");
            if let Some(close) = continuation_close(text, i) {
                // The string was broken across two lines: its end is the lone
                // quote of the next line. Take it in, so lexing resumes after it.
                d = d.help("Strings cannot span lines; write `\\n` for a line break inside one.");
                cur.push_str(&text[i..close]);
                i = close + 1;
            }
            diags.push(d);
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
                    Some(c @ ('"' | '\\' | '$')) => cur.push(c),
                    Some(other) => {
                        // Kept as written, so the rest of the string still reads right.
                        cur.push('\\');
                        cur.push(other);
                        diags.push(
                            Diagnostic::new(Code::E0009, format!("unknown escape `\\{}`", other.escape_debug()))
                                .label(sp(i, i + 1 + other.len_utf8()), "not an escape deployc knows"),
                        );
                    }
                    None => {}
                }
                i += 1 + esc.map(|c| c.len_utf8()).unwrap_or(0);
            }
            b'$' if b.get(i + 1) == Some(&b'{') => match interpolation(file, text, i + 2) {
                Ok((segs, end)) => {
                    if !cur.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut cur)));
                    }
                    parts.push(StrPart::Interp(segs));
                    i = end;
                }
                Err(()) => {
                    // Skip through the next `}`, or up to the end of the string.
                    let rest = &text[i + 2..];
                    let end = match rest.find(['}', '"', '\n']) {
                        Some(k) if rest.as_bytes()[k] == b'}' => i + 2 + k + 1,
                        Some(k) => i + 2 + k,
                        None => text.len(),
                    };
                    diags.push(
                        Diagnostic::new(Code::E0006, "invalid interpolation")
                            .label(sp(i, end), "expected `${name}` or `${name.attribute}`"),
                    );
                    i = end;
                }
            },
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

/// Parses the dotted name of an interpolation starting after `${`; returns
/// the segments and the offset after the closing `}`.
fn interpolation(file: SourceId, text: &str, from: usize) -> Result<(Vec<Ident>, usize), ()> {
    let b = text.as_bytes();
    let skip_spaces = |mut j: usize| {
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        j
    };
    let mut segs = Vec::new();
    let mut j = from;
    loop {
        j = skip_spaces(j);
        let s = j;
        if !b.get(j).is_some_and(|c| is_ident_start(*c)) {
            return Err(());
        }
        while b.get(j).is_some_and(|c| is_ident_continue(*c)) {
            j += 1;
        }
        segs.push(Ident { name: text[s..j].to_string(), span: Span::new(file, s, j) });
        j = skip_spaces(j);
        match b.get(j) {
            Some(b'.') => j += 1,
            Some(b'}') => return Ok((segs, j + 1)),
            _ => return Err(()),
        }
    }
}

/// When a string is left open at the newline at `nl`, and the next line holds
/// exactly one quote followed by nothing but closers, the string was broken
/// across the two lines: returns the offset of that quote.
fn continuation_close(text: &str, nl: usize) -> Option<usize> {
    if text.as_bytes().get(nl) != Some(&b'\n') {
        return None;
    }
    let start = nl + 1;
    let line_end = text[start..].find('\n').map(|k| start + k).unwrap_or(text.len());
    let line = &text[start..line_end];
    let quotes: Vec<usize> = line.match_indices('"').map(|(k, _)| k).collect();
    let [q] = quotes[..] else { return None };
    if line[..q].contains('\\') || line[..q].contains("${") {
        return None;
    }
    let after = line[q + 1..].trim_start();
    let closes = after.chars().all(|c| c.is_whitespace() || "}])),;".contains(c))
        || after.trim_start_matches(['}', ']', ')', ',', ';', ' ', '\t']).starts_with("//")
        || after.trim_start_matches(['}', ']', ')', ',', ';', ' ', '\t']).starts_with('#');
    closes.then_some(start + q)
}
