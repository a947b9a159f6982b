//! What the cursor is on: a declaration keyword, a field name (and the table
//! it belongs to), a value (and the type the schema expects there), a dotted
//! reference, an import path.
//!
//! The tree from [`crate::syntax`] is not enough while someone types: half a
//! field (`lan`, `strategy = `) is a syntax error the parser skips. So this
//! module walks the *tokens* up to the cursor with a small tolerant
//! recursive descent that mirrors the parser and carries the schema type of
//! each position along, the way [`crate::check::value`] does. It never fails:
//! on tokens it does not expect it skips ahead, and a declaration keyword
//! inside a block closes the block (as the parser's recovery does).

use crate::check::schema::{self, DeclShape, FieldSpec, RefKind, Ty, Variant};
use crate::diagnostic::Diagnostics;
use crate::source::SourceId;
use crate::syntax::lexer::{lex, Tok, Token};
use crate::syntax::parser::KEYWORDS;

/// An identifier (or the part of one before the cursor) and its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// What a block's keys are.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Fields of a schema table.
    Fields(&'static [FieldSpec]),
    /// Free keys (environment variables), values of a type.
    Map(&'static Ty),
    /// Keys naming declarations of a kind (`services { api { ... } }`).
    Keyed(RefKind, &'static Ty),
    Unknown,
}

impl Shape {
    pub fn field(self, key: &str) -> Option<&'static FieldSpec> {
        match self {
            Shape::Fields(specs) => specs.iter().find(|s| s.name == key),
            _ => None,
        }
    }
    fn value_want(self, key: &str) -> Want {
        match self {
            Shape::Fields(_) => self.field(key).map(|s| Want::Ty(&s.ty)).unwrap_or(Want::Unknown),
            Shape::Map(t) | Shape::Keyed(_, t) => Want::Ty(t),
            Shape::Unknown => Want::Unknown,
        }
    }
}

/// What a value position expects.
#[derive(Clone, Copy, Debug)]
pub enum Want {
    Ty(&'static Ty),
    /// The kind of a tagged declaration: `resource db = postgres`.
    Tags(&'static [Variant]),
    Unknown,
}

impl Want {
    /// The shape of a block given as this value, after the tag `tag` if any.
    fn block(self, tag: Option<&str>) -> Shape {
        let variant = |vs: &'static [Variant]| {
            tag.and_then(|t| vs.iter().find(|v| v.tag == t)).map(|v| Shape::Fields(v.fields)).unwrap_or(Shape::Unknown)
        };
        match self {
            Want::Tags(vs) | Want::Ty(&Ty::Tagged(vs)) => variant(vs),
            Want::Ty(Ty::Strategy) => variant(schema::STRATEGIES),
            Want::Ty(Ty::Struct(specs)) if tag.is_none() => Shape::Fields(specs),
            Want::Ty(Ty::Analysis) if tag.is_none() => Shape::Fields(schema::ANALYSIS),
            Want::Ty(Ty::Map(t)) if tag.is_none() => Shape::Map(t),
            Want::Ty(Ty::Keyed(k, t)) if tag.is_none() => Shape::Keyed(*k, t),
            Want::Ty(Ty::Range(t) | Ty::OpenRange(t)) => Want::Ty(t).block(tag),
            _ => Shape::Unknown,
        }
    }
    fn item(self) -> Want {
        match self {
            Want::Ty(Ty::List(t)) => Want::Ty(t),
            Want::Ty(Ty::Step) => Want::Ty(&Ty::Step),
            _ => Want::Unknown,
        }
    }
    fn range_bound(self) -> Want {
        match self {
            Want::Ty(Ty::Range(t) | Ty::OpenRange(t)) => Want::Ty(t),
            w => w,
        }
    }
}

static ENV_REF: Ty = Ty::Ref(RefKind::Environment);
static PAUSE: Ty = Ty::Pause;

/// What an argument of `call(...)` expects.
fn arg_want(call: &str, arg: Option<&str>) -> Want {
    match (call, arg) {
        ("manual", None | Some("from")) => Want::Ty(&ENV_REF),
        ("pause", None) => Want::Ty(&PAUSE),
        _ => Want::Unknown,
    }
}

/// Where the cursor is.
#[derive(Clone, Debug)]
pub enum Site {
    /// Between declarations.
    TopLevel,
    /// On a declaration keyword (or a word where one would go).
    Keyword,
    DeclName {
        keyword: String,
    },
    /// A field name of a block, or where one would go.
    Key {
        shape: Shape,
        /// The keys the block already has, before and after the cursor.
        present: Vec<String>,
    },
    /// A value (a name, a tag, a call's name), or where one would go.
    Value {
        want: Want,
    },
    /// `db.url`, `env.domain`, also inside `"${...}"`; the cursor is on `segments[index]`.
    Attr {
        segments: Vec<Word>,
        index: usize,
    },
    /// The name of an argument: `from` in `manual(from = dev)`.
    ArgName {
        call: String,
    },
    /// The string of an `import`.
    Import {
        path: String,
        start: usize,
        end: usize,
    },
    /// Inside a string, a number or a comment.
    Nothing,
}

#[derive(Clone, Debug)]
pub struct At {
    /// The identifier under the cursor, or the one the cursor ends.
    pub word: Option<Word>,
    pub site: Site,
}

impl At {
    fn site(site: Site) -> Option<At> {
        Some(At { word: None, site })
    }
}

/// What is at byte `offset` of `text`.
pub fn at(text: &str, offset: usize) -> At {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    if in_comment(text, offset) {
        return At { word: None, site: Site::Nothing };
    }
    let mut ignored = Diagnostics::default();
    let toks = lex(SourceId(0), text, &mut ignored);
    let mut w = Walker { text, toks: &toks, pos: 0, off: offset, unwind: false };
    w.top()
}

/// Whether `offset` is inside a line comment (`//` or `#` outside a string).
fn in_comment(text: &str, offset: usize) -> bool {
    let line_start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let mut in_str = false;
    let mut prev = '\0';
    for ch in text[line_start..offset].chars() {
        match ch {
            '"' if prev != '\\' => in_str = !in_str,
            '#' if !in_str => return true,
            '/' if !in_str && prev == '/' => return true,
            _ => {}
        }
        prev = if prev == '\\' && ch == '\\' { '\0' } else { ch };
    }
    false
}

struct Walker<'a> {
    text: &'a str,
    toks: &'a [Token],
    pos: usize,
    off: usize,
    /// Set when a declaration starts inside a block: every level returns to the top.
    unwind: bool,
}

impl Walker<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }
    fn bump(&mut self) {
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
    }
    fn start(t: &Token) -> usize {
        t.span.start as usize
    }
    fn end(t: &Token) -> usize {
        t.span.end as usize
    }
    /// The cursor is before this token (in the whitespace in front of it).
    /// An identifier starting at the cursor is *under* it instead.
    fn passed(&self, t: &Token) -> bool {
        let s = Self::start(t);
        self.off < s || (self.off == s && !matches!(t.tok, Tok::Ident(_))) || matches!(t.tok, Tok::Eof)
    }
    /// The cursor is on or right after this identifier.
    fn touches(&self, t: &Token) -> bool {
        Self::start(t) <= self.off && self.off <= Self::end(t)
    }
    /// The cursor is strictly inside this (non-identifier) token.
    fn inside(&self, t: &Token) -> bool {
        let (s, e) = (Self::start(t), Self::end(t));
        // A string still being typed has no closing quote: its end is inside it too.
        let open_string = matches!(t.tok, Tok::Str(_)) && (e - s < 2 || !self.text[..e].ends_with('"'));
        s < self.off && (self.off < e || self.off == e && open_string)
    }
    fn word(t: &Token) -> Option<Word> {
        match &t.tok {
            Tok::Ident(n) => Some(Word { text: n.clone(), start: Self::start(t), end: Self::end(t) }),
            _ => None,
        }
    }
    /// `KW NAME {`, `KW NAME =`, `pipeline {`: a declaration starts here.
    fn at_decl_start(&self) -> bool {
        match &self.peek().tok {
            Tok::Ident(k) if KEYWORDS.contains(&k.as_str()) => {
                matches!(self.peek_at(1), Tok::Ident(_)) && matches!(self.peek_at(2), Tok::LBrace | Tok::Eq)
                    || matches!(self.peek_at(1), Tok::LBrace) && matches!(k.as_str(), "pipeline" | "observability")
            }
            Tok::Ident(k) if k == "import" => matches!(self.peek_at(1), Tok::Str(_)),
            _ => false,
        }
    }
    /// The cursor inside a string or number token: `${...}` references, else nothing.
    fn in_literal(&self, t: &Token) -> At {
        match t.tok {
            Tok::Str(_) => interpolation(self.text, Self::start(t), self.off),
            _ => At { word: None, site: Site::Nothing },
        }
    }

    fn top(&mut self) -> At {
        loop {
            self.unwind = false;
            let t = self.peek().clone();
            if self.passed(&t) {
                return At { word: None, site: Site::TopLevel };
            }
            let Tok::Ident(kw) = &t.tok else {
                if self.inside(&t) {
                    return self.in_literal(&t);
                }
                self.bump();
                continue;
            };
            if self.touches(&t) {
                return At { word: Self::word(&t), site: Site::Keyword };
            }
            self.bump();
            if kw == "import" {
                let p = self.peek().clone();
                if let Tok::Str(parts) = &p.tok {
                    if Self::start(&p) <= self.off && self.off <= Self::end(&p) {
                        let path = parts
                            .iter()
                            .map(|x| match x {
                                crate::syntax::ast::StrPart::Lit(s) => s.as_str(),
                                crate::syntax::ast::StrPart::Interp(_) => "",
                            })
                            .collect();
                        return At {
                            word: None,
                            site: Site::Import { path, start: Self::start(&p), end: Self::end(&p) },
                        };
                    }
                    self.bump();
                }
                continue;
            }
            let n = self.peek().clone();
            if let Tok::Ident(_) = n.tok {
                if self.passed(&n) || self.touches(&n) {
                    return At { word: Self::word(&n).filter(|_| self.touches(&n)), site: decl_name(kw) };
                }
                self.bump();
            } else if self.passed(&n) && !matches!(n.tok, Tok::Eq | Tok::LBrace) {
                return At { word: None, site: decl_name(kw) };
            }
            let shape = schema::decl_shape(kw);
            let found = match self.peek().tok {
                Tok::Eq => {
                    self.bump();
                    let want = match shape {
                        Some(DeclShape::NamedTagged(vs)) => Want::Tags(vs),
                        _ => Want::Unknown,
                    };
                    self.value(want)
                }
                Tok::LBrace => {
                    self.bump();
                    let shape = match shape {
                        Some(DeclShape::Named(specs) | DeclShape::Singleton(specs)) => Shape::Fields(specs),
                        _ => Shape::Unknown,
                    };
                    self.block(shape)
                }
                _ => None,
            };
            if let Some(at) = found {
                return at;
            }
        }
    }

    /// After `{`: keys and their values up to the matching `}`.
    fn block(&mut self, shape: Shape) -> Option<At> {
        let mut present = Vec::new();
        loop {
            let t = self.peek().clone();
            if self.passed(&t) {
                present.extend(self.keys_from(self.pos));
                return At::site(Site::Key { shape, present });
            }
            match &t.tok {
                Tok::RBrace => {
                    self.bump();
                    return None;
                }
                Tok::Ident(_) if self.at_decl_start() && !self.touches(&t) => {
                    self.unwind = true;
                    return None;
                }
                Tok::Ident(key) => {
                    if self.touches(&t) {
                        present.extend(self.keys_from(self.pos + 1));
                        return Some(At { word: Self::word(&t), site: Site::Key { shape, present } });
                    }
                    present.push(key.clone());
                    self.bump();
                    let want = shape.value_want(key);
                    let found = match self.peek().tok {
                        Tok::Eq => {
                            self.bump();
                            self.value(want)
                        }
                        Tok::LBrace => self.value(want),
                        // `language python`: the parser takes the value anyway.
                        Tok::Str(_) | Tok::Num(_) | Tok::LBracket => self.value(want),
                        Tok::Ident(_) if !matches!(self.peek_at(1), Tok::Eq) && !self.at_decl_start() => {
                            self.value(want)
                        }
                        _ => None,
                    };
                    if found.is_some() || self.unwind {
                        return found;
                    }
                }
                _ => {
                    if self.inside(&t) {
                        return Some(self.in_literal(&t));
                    }
                    self.bump();
                }
            }
        }
    }

    /// The keys of the block the token at `from` is in, from there to its `}`.
    fn keys_from(&self, from: usize) -> Vec<String> {
        let mut keys = Vec::new();
        let mut depth = 0usize;
        for (i, t) in self.toks.iter().enumerate().skip(from) {
            match &t.tok {
                Tok::LBrace | Tok::LBracket | Tok::LParen => depth += 1,
                Tok::RBrace | Tok::RBracket | Tok::RParen if depth == 0 => break,
                Tok::RBrace | Tok::RBracket | Tok::RParen => depth -= 1,
                Tok::Ident(k) if depth == 0 => {
                    let next = self.toks.get(i + 1).map(|n| &n.tok);
                    let after = self.toks.get(i + 2).map(|n| &n.tok);
                    if KEYWORDS.contains(&k.as_str()) && matches!(next, Some(Tok::Ident(_))) {
                        // The next declaration: this block was left open.
                        if matches!(after, Some(Tok::LBrace | Tok::Eq)) {
                            break;
                        }
                    }
                    if matches!(next, Some(Tok::Eq | Tok::LBrace)) {
                        keys.push(k.clone());
                    }
                }
                Tok::Eof => break,
                _ => {}
            }
        }
        keys
    }

    /// A value, possibly a range `lo..hi`.
    fn value(&mut self, want: Want) -> Option<At> {
        let found = self.atom(want.range_bound());
        if found.is_some() || self.unwind {
            return found;
        }
        if matches!(self.peek().tok, Tok::DotDot) && !self.passed(&self.peek().clone()) {
            self.bump();
            return self.atom(want.range_bound());
        }
        None
    }

    fn atom(&mut self, want: Want) -> Option<At> {
        let t = self.peek().clone();
        if self.passed(&t) {
            return At::site(Site::Value { want });
        }
        match &t.tok {
            Tok::LBracket => {
                self.bump();
                self.list(want.item())
            }
            Tok::LBrace => {
                self.bump();
                self.block(want.block(None))
            }
            Tok::Ident(_) if self.at_decl_start() && !self.touches(&t) => {
                self.unwind = true;
                None
            }
            Tok::Ident(_) => self.path(want),
            _ => {
                if self.inside(&t) {
                    return Some(self.in_literal(&t));
                }
                self.bump();
                None
            }
        }
    }

    /// `name`, `a.b`, `call(args)`, `tag { fields }`.
    fn path(&mut self, want: Want) -> Option<At> {
        let first = self.peek().clone();
        let mut segments = vec![Self::word(&first)?];
        let mut touched = self.touches(&first).then_some(0);
        self.bump();
        while matches!(self.peek().tok, Tok::Dot) {
            let dot_end = Self::end(self.peek());
            self.bump();
            let t = self.peek().clone();
            if touched.is_none() && self.off >= dot_end && self.passed(&t) {
                // `db.` with nothing after the dot yet.
                touched = Some(segments.len());
                segments.push(Word { text: String::new(), start: self.off, end: self.off });
                break;
            }
            let Some(w) = Self::word(&t) else { break };
            if self.touches(&t) {
                touched = Some(segments.len());
            }
            segments.push(w);
            self.bump();
        }
        let dotted = segments.len() > 1;
        if let Some(index) = touched {
            let word = segments.get(index).cloned();
            if dotted || matches!(want, Want::Ty(Ty::EnvValue)) && !matches!(self.peek().tok, Tok::LParen) {
                return Some(At { word, site: Site::Attr { segments, index } });
            }
            return Some(At { word, site: Site::Value { want } });
        }
        let head = segments[0].text.clone();
        if matches!(self.peek().tok, Tok::LParen) && !self.passed(&self.peek().clone()) {
            self.bump();
            let found = self.args(&head);
            if found.is_some() || self.unwind {
                return found;
            }
        }
        if matches!(self.peek().tok, Tok::LBrace) && !self.passed(&self.peek().clone()) {
            self.bump();
            return self.block(want.block(Some(&head)));
        }
        None
    }

    fn list(&mut self, item: Want) -> Option<At> {
        loop {
            let t = self.peek().clone();
            if self.passed(&t) {
                return At::site(Site::Value { want: item });
            }
            match t.tok {
                Tok::RBracket => {
                    self.bump();
                    return None;
                }
                // The enclosing block ends: the `]` is missing.
                Tok::RBrace => return None,
                Tok::Comma => self.bump(),
                _ => {
                    let before = self.pos;
                    let found = self.value(item);
                    if found.is_some() || self.unwind {
                        return found;
                    }
                    if self.pos == before {
                        self.bump();
                    }
                }
            }
        }
    }

    fn args(&mut self, call: &str) -> Option<At> {
        loop {
            let t = self.peek().clone();
            if self.passed(&t) {
                return At::site(Site::Value { want: arg_want(call, None) });
            }
            match &t.tok {
                Tok::RParen => {
                    self.bump();
                    return None;
                }
                Tok::RBrace => return None,
                Tok::Comma => self.bump(),
                Tok::Ident(name) if matches!(self.peek_at(1), Tok::Eq) => {
                    if self.touches(&t) {
                        return Some(At { word: Self::word(&t), site: Site::ArgName { call: call.to_string() } });
                    }
                    let name = name.clone();
                    self.bump();
                    self.bump();
                    let found = self.value(arg_want(call, Some(&name)));
                    if found.is_some() || self.unwind {
                        return found;
                    }
                }
                _ => {
                    let before = self.pos;
                    let found = self.value(arg_want(call, None));
                    if found.is_some() || self.unwind {
                        return found;
                    }
                    if self.pos == before {
                        self.bump();
                    }
                }
            }
        }
    }
}

fn decl_name(keyword: &str) -> Site {
    Site::DeclName { keyword: keyword.to_string() }
}

/// The cursor at `off` inside the string starting at `open`: a reference when
/// it is inside `${...}` (complete or still being typed), else nothing.
fn interpolation(text: &str, open: usize, off: usize) -> At {
    let before = &text[open..off];
    let nothing = At { word: None, site: Site::Nothing };
    let Some(rel) = before.rfind("${") else { return nothing };
    let inner_start = open + rel + 2;
    if text[inner_start..off].contains('}') {
        return nothing;
    }
    // The reference runs to the `}` (or the end of what is typed).
    let rest = &text[inner_start..];
    let inner_end = inner_start + rest.find(['}', '"', '\n']).unwrap_or(rest.len());
    let mut segments = Vec::new();
    let mut index = 0;
    let mut start = inner_start;
    for (i, part) in text[inner_start..inner_end].split('.').enumerate() {
        let lead = part.len() - part.trim_start().len();
        let s = start + lead;
        if (start..=start + part.len()).contains(&off) {
            index = i;
        }
        segments.push(Word { text: part.trim().to_string(), start: s, end: s + part.trim().len() });
        start += part.len() + 1;
    }
    let word = segments.get(index).cloned();
    At { word, site: Site::Attr { segments, index } }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The site at the `|` in `src` (the bar is removed first).
    fn site(src: &str) -> At {
        let off = src.find('|').expect("cursor marker");
        let text = src.replacen('|', "", 1);
        at(&text, off)
    }

    fn key_fields(a: &At) -> Vec<&'static str> {
        match &a.site {
            Site::Key { shape: Shape::Fields(specs), .. } => specs.iter().map(|s| s.name).collect(),
            other => panic!("not a key site: {other:?}"),
        }
    }

    #[test]
    fn top_level_and_keywords() {
        assert!(matches!(site("|").site, Site::TopLevel));
        assert!(matches!(site("service a { port = 1 }\n|").site, Site::TopLevel));
        let a = site("serv|");
        assert!(matches!(a.site, Site::Keyword));
        assert_eq!(a.word.map(|w| w.text).as_deref(), Some("serv"));
        assert!(matches!(site("service a|pi {").site, Site::DeclName { .. }));
        assert!(matches!(site("// service |").site, Site::Nothing));
        assert!(matches!(site("import \"std/str|ategies\"").site, Site::Import { .. }));
    }

    #[test]
    fn keys_follow_the_schema_into_nested_blocks() {
        assert!(key_fields(&site("service api {\n  |\n}")).contains(&"language"));
        let a = site("service api {\n  lan|\n}");
        assert!(key_fields(&a).contains(&"language"));
        assert_eq!(a.word.map(|w| w.text).as_deref(), Some("lan"));
        assert!(key_fields(&site("service api { expose = ingress { | } }")).contains(&"host"));
        assert!(key_fields(&site("resource db = postgres { backup { | } }")).contains(&"schedule"));
        assert!(key_fields(&site("environment dev { services { api { | } } }")).contains(&"replicas"));
        assert!(key_fields(&site("strategy s = canary { analysis { | } }")).contains(&"success_rate"));
        assert!(matches!(
            site("environment dev { services { a| } }").site,
            Site::Key { shape: Shape::Keyed(RefKind::Service, _), .. }
        ));
        match site("service api {\n  port = 1\n  |\n  env { A = \"b\" }\n  health = tcp\n}").site {
            Site::Key { present, .. } => assert_eq!(present, ["port", "env", "health"]),
            other => panic!("{other:?}"),
        }
        // An unclosed block ends where the next declaration starts.
        assert!(matches!(site("service a { port = 1\nservice b { port = 2 }\n|").site, Site::TopLevel));
    }

    #[test]
    fn values_carry_their_type() {
        let want = |src: &str| match site(src).site {
            Site::Value { want } => want,
            other => panic!("not a value site in {src:?}: {other:?}"),
        };
        assert!(matches!(want("environment qa { strategy = | }"), Want::Ty(Ty::Strategy)));
        assert!(matches!(want("environment qa { strategy = can| }"), Want::Ty(Ty::Strategy)));
        assert!(matches!(want("environment qa { requires = [sca, |] }"), Want::Ty(Ty::Ref(RefKind::Gate))));
        assert!(matches!(want("environment qa { promote = manual(from = d|) }"), Want::Ty(Ty::Ref(_))));
        assert!(matches!(want("resource db = post|"), Want::Tags(_)));
        assert!(matches!(want("service a { language = |\n port = 1 }"), Want::Ty(Ty::Ref(RefKind::Toolchain))));
        assert!(matches!(want("service a { cpu = 1..|"), Want::Ty(Ty::Cpu)));
        assert!(matches!(site("service a { port = 80|80 }").site, Site::Nothing));
    }

    #[test]
    fn dotted_references_and_interpolations() {
        let attr = |src: &str| match site(src) {
            At { site: Site::Attr { segments, index }, .. } => {
                (segments.iter().map(|w| w.text.clone()).collect::<Vec<_>>(), index)
            }
            other => panic!("not a reference in {src:?}: {other:?}"),
        };
        assert_eq!(attr("service a { env { DB = db.u|rl } }"), (vec!["db".into(), "url".into()], 1));
        assert_eq!(attr("service a { env { DB = d|b.url } }"), (vec!["db".into(), "url".into()], 0));
        assert_eq!(attr("service a { env { DB = db.| } }"), (vec!["db".into(), "".into()], 1));
        assert_eq!(attr("service a { env { DB = d| } }"), (vec!["d".into()], 0));
        assert_eq!(
            attr("service a { expose = ingress { host = \"api.${env.dom|ain}\" } }"),
            (vec!["env".into(), "domain".into()], 1)
        );
        assert_eq!(attr("service a { env { U = \"${db.|"), (vec!["db".into(), "".into()], 1));
        assert!(matches!(site("service a { env { U = \"plain |text\" } }").site, Site::Nothing));
    }
}
