//! Tokens to tree: hand-written recursive descent with error recovery.
//!
//! Recovery works at two levels. Inside a block, a broken field is skipped up
//! to the next `name =`, `name {` or the closing `}`. At the top level, a
//! broken declaration is skipped up to the next declaration keyword. A block
//! left open when the next declaration starts is reported as unclosed and
//! closed there, so one missing `}` costs one diagnostic, not a cascade.

use super::ast::*;
use super::lexer::{lex_into, lex_with_comments, Comment, Tok, Token};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{SourceId, Span};

/// The words that start a top-level declaration.
pub const KEYWORDS: &[&str] = &[
    "project",
    "service",
    "resource",
    "environment",
    "strategy",
    "gate",
    "integration",
    "pipeline",
    "observability",
    "toolchain",
    "preset",
];

/// Parses one file. Never fails: errors go to `diags`, the tree keeps what parsed.
pub fn parse(file: SourceId, text: &str, diags: &mut Diagnostics) -> File {
    parse_with_comments(file, text, diags).0
}

/// [`parse`], and the comments of the file in order (the tree has none).
///
/// A large file is lexed on a second thread while it is parsed, the tokens
/// handed over in chunks: the whole token list of a 2.5 MB program is 35 MB
/// that is never held, and lexing (12 ms of the 31 ms it takes to read that
/// program) runs beside parsing. The lexer's diagnostics come first either
/// way, as when it ran before the parser.
pub fn parse_with_comments(file: SourceId, text: &str, diags: &mut Diagnostics) -> (File, Vec<Comment>) {
    parse_in(file, text, diags, text.len() >= THREADED_FROM)
}

/// [`parse_with_comments`], lexing on a thread of its own or not.
fn parse_in(file: SourceId, text: &str, diags: &mut Diagnostics, threaded: bool) -> (File, Vec<Comment>) {
    if !threaded {
        let (tokens, comments) = lex_with_comments(file, text, diags);
        let mut p = Parser::new(Tokens::whole(tokens), diags);
        return (p.file(), comments);
    }
    let mut parsed = Diagnostics::default();
    let (tree, comments, lexed) = std::thread::scope(|s| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Token>>(CHUNKS_AHEAD);
        let lexer = s.spawn(move || {
            let mut diags = Diagnostics::default();
            let mut chunk = Vec::with_capacity(CHUNK);
            let comments = lex_into(file, text, &mut diags, &mut |t| {
                chunk.push(t);
                if chunk.len() == CHUNK {
                    // A parser that stopped reading (it panicked) needs no more.
                    let _ = send.send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
                }
            });
            if !chunk.is_empty() {
                let _ = send.send(chunk);
            }
            (comments, diags)
        });
        let tree = Parser::new(Tokens::streamed(receive), &mut parsed).file();
        let (comments, lexed) = lexer.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (tree, comments, lexed)
    });
    diags.extend(lexed);
    diags.extend(parsed);
    (tree, comments)
}

/// Files at least this large are lexed on a thread of their own while they
/// are parsed; a small one costs less than starting a thread.
const THREADED_FROM: usize = 256 * 1024;
/// Tokens per chunk handed from the lexer to the parser, and chunks the
/// lexer may run ahead.
const CHUNK: usize = 4096;
const CHUNKS_AHEAD: usize = 8;
/// Tokens the parser looks ahead: the current one and two more.
const LOOKAHEAD: usize = 3;

/// Deep nesting is refused rather than overflowing the stack on hostile input.
const MAX_DEPTH: usize = 64;

/// The parser's window on the tokens: the chunk being read and, near its
/// end, the next one. The last token of all is `Eof`.
struct Tokens {
    cur: Vec<Token>,
    at: usize,
    next: Vec<Token>,
    more: Option<std::sync::mpsc::Receiver<Vec<Token>>>,
}

impl Tokens {
    fn whole(tokens: Vec<Token>) -> Tokens {
        Tokens { cur: tokens, at: 0, next: Vec::new(), more: None }
    }

    fn streamed(more: std::sync::mpsc::Receiver<Vec<Token>>) -> Tokens {
        let mut t = Tokens { cur: Vec::new(), at: 0, next: Vec::new(), more: Some(more) };
        t.fill();
        t
    }

    /// Keeps [`LOOKAHEAD`] tokens in view while more are to come.
    fn fill(&mut self) {
        if self.at == self.cur.len() && !self.next.is_empty() {
            self.cur = std::mem::take(&mut self.next);
            self.at = 0;
        }
        while self.cur.len() - self.at + self.next.len() < LOOKAHEAD {
            let Some(chunk) = self.more.as_ref().and_then(|r| r.recv().ok()) else {
                self.more = None;
                break;
            };
            if self.at == self.cur.len() {
                self.cur = chunk;
                self.at = 0;
            } else {
                self.next.extend(chunk);
            }
        }
    }

    /// The token `n` after the current one, or the last (`Eof`) past the end.
    fn get(&self, n: usize) -> &Token {
        let i = self.at + n;
        if i < self.cur.len() {
            return &self.cur[i];
        }
        match self.next.get(i - self.cur.len()) {
            Some(t) => t,
            None => self.next.last().or(self.cur.last()).expect("the lexer always ends with Eof"),
        }
    }

    /// Whether the current token is the last one.
    fn at_last(&self) -> bool {
        self.at + 1 >= self.cur.len() && self.next.is_empty() && self.more.is_none()
    }

    /// Moves the current token out, leaving its span behind.
    fn take(&mut self) -> Token {
        let span = self.cur[self.at].span;
        let t = std::mem::replace(&mut self.cur[self.at], Token { tok: Tok::Eof, span });
        self.at += 1;
        self.fill();
        t
    }
}

struct Parser<'d> {
    toks: Tokens,
    /// Tokens consumed so far: loops check they made progress.
    pos: usize,
    /// The span of the last token consumed (the first token's before any).
    prev: Span,
    diags: &'d mut Diagnostics,
    depth: usize,
    /// A block's fields gather here, one buffer per depth, and leave as a
    /// vector of their exact size: growing each block's own vector from
    /// empty reallocated it two or three times.
    gather: Vec<Vec<Field>>,
}

impl<'d> Parser<'d> {
    fn new(toks: Tokens, diags: &'d mut Diagnostics) -> Parser<'d> {
        let prev = toks.get(0).span;
        Parser { toks, pos: 0, prev, diags, depth: 0, gather: Vec::new() }
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks.get(0).tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks.get(n).tok
    }
    fn span(&self) -> Span {
        self.toks.get(0).span
    }
    fn prev_span(&self) -> Span {
        self.prev
    }
    /// The current token, moved out: the parser never reads a consumed
    /// token again but for its span, which stays. The last token (`Eof`)
    /// is never consumed.
    fn bump(&mut self) -> Token {
        if self.toks.at_last() {
            return self.toks.get(0).clone();
        }
        let t = self.toks.take();
        self.pos += 1;
        self.prev = t.span;
        t
    }
    fn at(&self, t: &Tok) -> bool {
        self.peek() == t
    }
    fn error_expected(&mut self, what: &str) {
        let found = self.peek().describe();
        let span = self.span();
        self.diags.push(
            Diagnostic::new(Code::E0003, format!("expected {what}, found {found}"))
                .label(span, format!("expected {what}")),
        );
    }
    /// `KW NAME {` or `KW NAME =` or `KW {`: the start of a declaration, which
    /// can never be a field, so seeing it inside a block means a `}` is missing.
    fn at_decl_start(&self) -> bool {
        match self.peek() {
            Tok::Ident(k) if KEYWORDS.contains(&k.as_str()) => {
                matches!(self.peek_at(1), Tok::Ident(_)) && matches!(self.peek_at(2), Tok::LBrace | Tok::Eq)
                    || matches!(self.peek_at(1), Tok::LBrace) && matches!(k.as_str(), "pipeline" | "observability")
            }
            Tok::Ident(k) if k == "import" => matches!(self.peek_at(1), Tok::Str(_)),
            _ => false,
        }
    }

    fn file(&mut self) -> File {
        let mut items = Vec::new();
        while !self.at(&Tok::Eof) {
            let before = self.pos;
            match self.item() {
                Some(it) => items.push(it),
                None => self.recover_top(),
            }
            if self.pos == before {
                self.bump();
            }
        }
        File { items }
    }

    /// Skips to the next token that can start a declaration.
    fn recover_top(&mut self) {
        let mut depth = 0i32;
        while !self.at(&Tok::Eof) {
            match self.peek() {
                Tok::LBrace | Tok::LBracket | Tok::LParen => depth += 1,
                Tok::RBrace | Tok::RBracket | Tok::RParen => depth -= 1,
                Tok::Ident(k) if depth <= 0 && (KEYWORDS.contains(&k.as_str()) || k == "import") => return,
                _ => {}
            }
            if self.at_decl_start() {
                return;
            }
            self.bump();
        }
    }

    fn ident(&mut self, what: &str) -> Option<Ident> {
        if matches!(self.peek(), Tok::Ident(_)) {
            if let Token { tok: Tok::Ident(name), span } = self.bump() {
                return Some(Ident { name, span });
            }
        }
        self.error_expected(what);
        None
    }

    fn item(&mut self) -> Option<Item> {
        let start = self.span();
        let keyword = self.ident("a declaration such as `service NAME { ... }`")?;
        if keyword.name == "import" {
            return match self.peek() {
                Tok::Str(parts) => {
                    let path = parts
                        .iter()
                        .map(|p| match p {
                            StrPart::Lit(s) => s.clone(),
                            StrPart::Interp(_) => String::new(),
                        })
                        .collect();
                    let t = self.bump();
                    Some(Item::Import(Import { path, path_span: t.span, span: start.to(t.span) }))
                }
                _ => {
                    self.error_expected("a quoted path after `import`");
                    None
                }
            };
        }
        let name = match self.peek() {
            Tok::Ident(_) => self.ident("a name"),
            _ => None,
        };
        let body = match self.peek() {
            Tok::Eq => {
                self.bump();
                DeclBody::Value(self.value()?)
            }
            Tok::LBrace => DeclBody::Block(self.block()),
            _ => {
                self.error_expected(if name.is_some() { "`=` or `{`" } else { "a name, `=` or `{`" });
                return None;
            }
        };
        let end = self.prev_span();
        Some(Item::Decl(Decl { keyword, name, body, span: start.to(end) }))
    }

    /// Parses `{ fields }`, the current token being `{`.
    fn block(&mut self) -> Block {
        let open = self.bump().span;
        if self.too_deep(open) {
            return Block { fields: Vec::new(), span: open.to(self.prev_span()) };
        }
        let depth = self.depth;
        if self.gather.len() <= depth {
            self.gather.resize_with(depth + 1, Vec::new);
        }
        let mut fields = std::mem::take(&mut self.gather[depth]);
        self.depth += 1;
        loop {
            match self.peek() {
                Tok::RBrace => {
                    self.bump();
                    break;
                }
                Tok::Eof => {
                    self.unclosed(open, "`}`");
                    break;
                }
                Tok::Comma | Tok::Semi => {
                    self.bump();
                }
                _ if self.at_decl_start() => {
                    self.unclosed(open, "`}`");
                    break;
                }
                _ => {
                    let before = self.pos;
                    match self.field() {
                        Some(f) => fields.push(f),
                        None => self.recover_field(),
                    }
                    if self.pos == before {
                        self.bump();
                    }
                }
            }
        }
        self.depth -= 1;
        let mut exact = Vec::with_capacity(fields.len());
        exact.append(&mut fields);
        self.gather[depth] = fields;
        Block { fields: exact, span: open.to(self.prev_span()) }
    }

    fn unclosed(&mut self, open: Span, closer: &str) {
        self.diags.push(
            Diagnostic::new(Code::E0004, format!("unclosed delimiter, expected {closer}"))
                .label(open, "opened here and never closed")
                .help(format!("Add {closer} to close it.")),
        );
    }

    /// Refuses nesting beyond [`MAX_DEPTH`] (after the opener at `open` was
    /// consumed): reports it and skips to the matching closer.
    fn too_deep(&mut self, open: Span) -> bool {
        if self.depth < MAX_DEPTH {
            return false;
        }
        self.diags.push(
            Diagnostic::new(Code::E0003, "nested too deeply")
                .label(open, format!("more than {MAX_DEPTH} levels deep"))
                .help("Flatten the structure; no deployc field needs this much nesting."),
        );
        let mut depth = 1;
        while depth > 0 && !self.at(&Tok::Eof) {
            match self.bump().tok {
                Tok::LBrace | Tok::LBracket | Tok::LParen => depth += 1,
                Tok::RBrace | Tok::RBracket | Tok::RParen => depth -= 1,
                _ => {}
            }
        }
        true
    }

    /// Skips to the next `name =`, `name {` or `}` at this nesting level.
    fn recover_field(&mut self) {
        let mut depth = 0i32;
        while !self.at(&Tok::Eof) {
            if depth == 0 {
                match self.peek() {
                    Tok::RBrace => return,
                    Tok::Ident(_) | Tok::Str(_) if matches!(self.peek_at(1), Tok::Eq | Tok::LBrace) => return,
                    _ if self.at_decl_start() => return,
                    _ => {}
                }
            }
            match self.peek() {
                Tok::LBrace | Tok::LBracket | Tok::LParen => depth += 1,
                Tok::RBrace | Tok::RBracket | Tok::RParen => depth -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    fn field(&mut self) -> Option<Field> {
        let key = match self.quoted_key() {
            Some(k) => k,
            None => self.ident("a field name")?,
        };
        match self.peek() {
            Tok::Eq => {
                self.bump();
                let value = self.value()?;
                let span = key.span.to(value.span);
                Some(Field { key, value, span })
            }
            Tok::LBrace => {
                let b = self.block();
                let value = Value { span: b.span, kind: ValueKind::Block(b) };
                let span = key.span.to(value.span);
                Some(Field { key, value, span })
            }
            _ if self.missing_eq() => {
                // `language python`: report the missing `=` and take the value anyway.
                let found = self.peek().describe();
                let at = Span { start: key.span.end, ..key.span };
                self.diags.push(
                    Diagnostic::new(Code::E0003, format!("expected `=` after the field name, found {found}"))
                        .label(self.span(), "expected `=` before this value")
                        .help(format!("Write `{} = ...`.", key.name))
                        .suggest(at, " ="),
                );
                let value = self.value()?;
                let span = key.span.to(value.span);
                Some(Field { key, value, span })
            }
            _ => {
                self.error_expected("`=` or `{` after the field name");
                None
            }
        }
    }

    /// A quoted key (`"example.com/team" = ...`): label and annotation keys
    /// hold `.` and `/`, which a name cannot. Plain text only, and `=` or
    /// `{` after it; the checker accepts such keys in free-key blocks only.
    fn quoted_key(&mut self) -> Option<Ident> {
        let Tok::Str(parts) = self.peek() else { return None };
        if !matches!(self.peek_at(1), Tok::Eq | Tok::LBrace) {
            return None;
        }
        let mut name = String::new();
        for p in parts {
            match p {
                StrPart::Lit(s) => name.push_str(s),
                StrPart::Interp(_) => return None,
            }
        }
        let t = self.bump();
        Some(Ident { name, span: t.span })
    }

    /// After a field name: does a value follow directly, its `=` left out?
    /// A name followed by `=` is the next field, not a value.
    fn missing_eq(&self) -> bool {
        match self.peek() {
            Tok::Str(_) | Tok::Num(_) | Tok::BadNum(_) | Tok::LBracket => true,
            Tok::Ident(_) => !matches!(self.peek_at(1), Tok::Eq) && !self.at_decl_start(),
            _ => false,
        }
    }

    fn value(&mut self) -> Option<Value> {
        let lo = self.atom()?;
        if self.at(&Tok::DotDot) {
            let dots = self.bump().span;
            // `cpu = 5m..` then the next field or the end of the block: the
            // upper bound is missing.
            let ends = match self.peek() {
                Tok::RBrace | Tok::RBracket | Tok::RParen | Tok::Comma | Tok::Semi | Tok::Eof => true,
                Tok::Ident(_) | Tok::Str(_) => matches!(self.peek_at(1), Tok::Eq | Tok::LBrace) || self.at_decl_start(),
                _ => false,
            };
            if ends {
                // The checker decides whether the type allows no upper
                // bound (a cpu request without a limit) or reports E0373.
                let span = lo.span.to(dots);
                return Some(Value { kind: ValueKind::Range(Box::new(lo), None), span });
            }
            let hi = self.atom()?;
            let span = lo.span.to(hi.span);
            return Some(Value { kind: ValueKind::Range(Box::new(lo), Some(Box::new(hi))), span });
        }
        Some(lo)
    }

    fn atom(&mut self) -> Option<Value> {
        let start = self.span();
        match self.peek() {
            Tok::Str(_) | Tok::Num(_) => {
                let kind = match self.bump().tok {
                    Tok::Str(parts) => ValueKind::Str(parts),
                    Tok::Num(q) => ValueKind::Num(q),
                    _ => return None,
                };
                Some(Value { kind, span: start })
            }
            Tok::BadNum(_) => {
                // The lexer reported the unknown unit (E0005).
                self.bump();
                Some(Value::error(start))
            }
            Tok::LBracket => Some(self.list()),
            Tok::LBrace => {
                let b = self.block();
                Some(Value { span: b.span, kind: ValueKind::Block(b) })
            }
            Tok::Ident(name) if name == "true" || name == "false" => {
                let yes = name == "true";
                self.bump();
                Some(Value { kind: ValueKind::Bool(yes), span: start })
            }
            Tok::Ident(_) => {
                let mut segments = vec![self.ident("a name")?];
                while self.at(&Tok::Dot) {
                    self.bump();
                    segments.push(self.ident("a name after `.`")?);
                }
                let args = if self.at(&Tok::LParen) { Some(Box::new(self.args())) } else { None };
                let block = if self.at(&Tok::LBrace) { Some(Box::new(self.block())) } else { None };
                let span = start.to(self.prev_span());
                Some(Value { kind: ValueKind::Path { segments, args, block }, span })
            }
            _ => {
                self.error_expected("a value");
                None
            }
        }
    }

    fn list(&mut self) -> Value {
        let open = self.bump().span;
        let mut items = Vec::new();
        if self.too_deep(open) {
            return Value { kind: ValueKind::List(items), span: open.to(self.prev_span()) };
        }
        self.depth += 1;
        loop {
            match self.peek() {
                Tok::RBracket => {
                    self.bump();
                    break;
                }
                Tok::Eof => {
                    self.unclosed(open, "`]`");
                    break;
                }
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {
                    // The enclosing block ends here: the `]` is missing.
                    self.unclosed(open, "`]`");
                    break;
                }
                _ => {
                    let before = self.pos;
                    match self.value() {
                        Some(v) => items.push(v),
                        None => {
                            // Skip the bad token and carry on with the next item.
                            if self.pos == before {
                                self.bump();
                            }
                        }
                    }
                }
            }
        }
        self.depth -= 1;
        Value { kind: ValueKind::List(items), span: open.to(self.prev_span()) }
    }

    fn args(&mut self) -> Args {
        let open = self.bump().span;
        let mut items = Vec::new();
        if self.too_deep(open) {
            return Args { items, span: open.to(self.prev_span()) };
        }
        self.depth += 1;
        loop {
            match self.peek() {
                Tok::RParen => {
                    self.bump();
                    break;
                }
                Tok::Eof | Tok::RBrace => {
                    self.unclosed(open, "`)`");
                    break;
                }
                Tok::Comma => {
                    self.bump();
                }
                _ => {
                    let before = self.pos;
                    let name = if matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Eq) {
                        let n = self.ident("an argument name");
                        self.bump();
                        n
                    } else {
                        None
                    };
                    match self.value() {
                        Some(value) => items.push(Arg { name, value }),
                        None if self.pos == before => {
                            self.bump();
                        }
                        None => {}
                    }
                }
            }
        }
        self.depth -= 1;
        Args { items, span: open.to(self.prev_span()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    /// A program large enough for many chunks, with errors of the lexer and
    /// of the parser in several of them (the last one left open at the end),
    /// reads the same lexed on a thread of its own as lexed first.
    #[test]
    fn a_file_lexed_beside_its_parser_reads_as_one_lexed_first() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!(
                "service s{i} {{\n  image = \"a/s{i}\"\n  port = {}\n  cpu = 100m..500m\n",
                8000 + i
            ));
            match i % 700 {
                13 => text.push_str("  x = = 1\n"),
                14 => text.push_str("  y = 5Qi $\n"),
                15 => text.push_str("  z = [1, 2\n"),
                _ => {}
            }
            text.push_str("}\n");
        }
        text.push_str("service last {\n  a = /* open");
        let (mut a, mut b) = (Diagnostics::default(), Diagnostics::default());
        let whole = parse_in(SourceId(0), &text, &mut a, false);
        let streamed = parse_in(SourceId(0), &text, &mut b, true);
        let tokens = super::lex_with_comments(SourceId(0), &text, &mut Diagnostics::default()).0.len();
        assert!(tokens > 10 * super::CHUNK, "several chunks: {tokens} tokens");
        assert!(a.items.len() >= 10, "errors in several chunks: {}", a.items.len());
        assert_eq!(whole, streamed);
        assert_eq!(format!("{:?}", a.items), format!("{:?}", b.items));
    }

    fn parse_str(s: &str) -> (File, Diagnostics) {
        let mut d = Diagnostics::default();
        let f = parse(SourceId(0), s, &mut d);
        (f, d)
    }

    #[test]
    fn parses_declarations_and_values() {
        let (f, d) = parse_str(
            r#"service api { port = 8080 cpu = 250m..1 env { DB = db.url S = secret("jwt") } }
               gate sca = grype { fail_on = high }
               environment qa { promote = manual(from = dev) steps = [10%, 30%] }"#,
        );
        assert!(d.items.is_empty(), "{:?}", d.items);
        assert_eq!(f.items.len(), 3);
    }

    #[test]
    fn reports_every_error_and_recovers() {
        let (f, d) = parse_str(
            "service a { port = }\nservice b { port 8080 }\nservice c { cpu = @ }\nservice d { x = [1, 2 }\nservice e { y = \"open }\nservice f { ok = 1 }",
        );
        assert!(d.items.len() >= 5, "{:#?}", d.items);
        assert_eq!(f.items.len(), 6);
    }

    #[test]
    fn missing_brace_costs_one_error() {
        let (f, d) = parse_str("service a { port = 1\nservice b { port = 2 }");
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].code, Code::E0004);
        assert_eq!(f.items.len(), 2);
    }
}
