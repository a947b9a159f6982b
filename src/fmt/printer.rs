//! The printer: a syntax tree and its comments back to text, in the layout
//! described in [`super`].
//!
//! Output is built as a list of lines (indentation, code, trailing comment),
//! so that alignment can be applied once a group of lines is known. Comments
//! are taken strictly in source order while the tree is walked in source
//! order, which is why they can never be reordered: each one is written
//! before the first token that followed it in the input. Between the entries
//! of a block, list or call, a comment on the line of the previous entry
//! stays at the end of that line and the others get lines of their own;
//! inside a value kept on one line, a block comment stays inline and a line
//! comment ends the line, the value continuing on the next.

use crate::syntax::ast::*;
use crate::syntax::{Comment, CommentKind};

/// Prints a file that parsed without errors.
pub fn print(text: &str, file: &File, comments: &[Comment]) -> String {
    let mut p = Printer { text, comments, next: 0, lines: Vec::new(), open: false };
    let entries: Vec<Entry> = file.items.iter().map(Entry::Item).collect();
    p.entries(&entries, 0, 0, text.len(), true);
    p.finish()
}

/// The text of a comment as printed: a line comment without trailing
/// whitespace, a block comment with `\n` line ends. Every carriage return
/// before a line end goes, not only one: replacing `\r\n` once would turn
/// `\r\r\n` into a new `\r\n`, and formatting would not be idempotent.
pub fn comment_text(text: &str, c: &Comment) -> String {
    let raw = text.get(c.span.start as usize..c.span.end as usize).unwrap_or("");
    match c.kind {
        CommentKind::Line => raw.trim_end().to_string(),
        CommentKind::Block => raw.split('\n').map(|l| l.trim_end_matches('\r')).collect::<Vec<_>>().join("\n"),
    }
}

struct Line {
    /// Indentation in levels of two spaces.
    indent: usize,
    code: String,
    /// A comment after the code, aligned with its neighbours' at the end.
    comment: Option<String>,
    blank_before: bool,
    /// Started after a comment that ended the previous line in mid-value.
    continuation: bool,
    /// The width the line is padded to before its comment.
    comment_col: usize,
}

/// One element of a block or of the file: a field, or a top-level item.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Field(&'a Field),
    Item(&'a Item),
}

/// How an entry takes part in `=` alignment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `head = value`.
    Eq,
    /// `head { ... }`: aligned only when it fits on one line.
    Block,
    /// An import or a declaration with a block body: never aligned.
    Plain,
}

impl Entry<'_> {
    fn start(&self) -> usize {
        match self {
            Entry::Field(f) => f.span.start as usize,
            Entry::Item(Item::Import(i)) => i.span.start as usize,
            Entry::Item(Item::Decl(d)) => d.span.start as usize,
        }
    }
    fn end(&self) -> usize {
        match self {
            Entry::Field(f) => f.span.end as usize,
            Entry::Item(Item::Import(i)) => i.span.end as usize,
            Entry::Item(Item::Decl(d)) => d.span.end as usize,
        }
    }
}

/// Where an entry landed in the output, for alignment.
struct Placed {
    first: usize,
    last: usize,
    /// Byte offset in the first line's code where padding goes.
    pad_at: usize,
    head_width: usize,
    shape: Shape,
}

struct Printer<'a> {
    text: &'a str,
    comments: &'a [Comment],
    /// The first comment not yet printed.
    next: usize,
    lines: Vec<Line>,
    /// Whether the last line still takes code.
    open: bool,
}

impl Printer<'_> {
    // ------------------------------------------------------------ lines

    fn start_line(&mut self, indent: usize, blank_before: bool) {
        self.lines.push(Line {
            indent,
            code: String::new(),
            comment: None,
            blank_before,
            continuation: false,
            comment_col: 0,
        });
        self.open = true;
    }

    fn push(&mut self, s: &str) {
        if let Some(l) = self.lines.last_mut() {
            l.code.push_str(s);
        }
    }

    fn close(&mut self) {
        self.open = false;
    }

    fn slice(&self, span: crate::source::Span) -> &str {
        self.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    // --------------------------------------------------------- comments

    /// The next unprinted comment, if it starts before `pos`.
    fn comment_before(&self, pos: usize) -> Option<Comment> {
        self.comments.get(self.next).filter(|c| (c.span.start as usize) < pos).copied()
    }

    fn has_comment_in(&self, start: usize, end: usize) -> bool {
        let i = self.comments.partition_point(|c| (c.span.start as usize) < start);
        self.comments.get(i).is_some_and(|c| (c.span.end as usize) <= end)
    }

    /// Adds `comment` to the end of the last line.
    fn trail(&mut self, comment: String) {
        if let Some(l) = self.lines.last_mut() {
            l.comment = Some(match l.comment.take() {
                Some(prev) => format!("{prev} {comment}"),
                None => comment,
            });
        }
    }

    /// Prints the comments before `pos`, which lie inside a value printed on
    /// one line: a one-line block comment stays inline, anything else ends
    /// the line and the value continues on the next.
    fn comments_inline(&mut self, pos: usize) {
        while let Some(c) = self.comment_before(pos) {
            self.next += 1;
            let text = comment_text(self.text, &c);
            if c.kind == CommentKind::Block && !text.contains('\n') {
                self.push(&text);
                self.push(" ");
                continue;
            }
            let (indent, continuation) = match self.lines.last_mut() {
                Some(l) => {
                    let trimmed = l.code.trim_end().len();
                    l.code.truncate(trimmed);
                    if l.code.is_empty() {
                        l.code = text;
                    } else {
                        l.comment = Some(text);
                    }
                    (l.indent, l.continuation)
                }
                None => (0, true),
            };
            self.start_line(if continuation { indent } else { indent + 1 }, false);
            if let Some(l) = self.lines.last_mut() {
                l.continuation = true;
            }
        }
    }

    /// Prints the comments between two entries of a block (or the file),
    /// from `prev_end` to `next_start`: those on the line of the previous
    /// entry at its end, the others on lines of their own at `indent`.
    /// Closes the last line. Returns whether a blank line separates the last
    /// of them from what follows. `at_start`: nothing precedes in this block,
    /// so no blank line is kept.
    fn gap(&mut self, prev_end: usize, next_start: usize, indent: usize, at_start: bool) -> bool {
        let mut cursor = prev_end;
        let mut same_line = self.open;
        let mut first = at_start;
        while let Some(c) = self.comment_before(next_start) {
            self.next += 1;
            let between = self.text.get(cursor..c.span.start as usize).unwrap_or("");
            let newlines = between.matches('\n').count();
            let text = comment_text(self.text, &c);
            if same_line && newlines == 0 {
                self.trail(text);
            } else {
                same_line = false;
                self.close();
                self.start_line(indent, newlines >= 2 && !first);
                self.push(&text);
                self.close();
                first = false;
            }
            cursor = c.span.end as usize;
        }
        self.close();
        let between = self.text.get(cursor..next_start).unwrap_or("");
        between.matches('\n').count() >= 2 && !first
    }

    // ---------------------------------------------------------- entries

    /// Prints entries one per line at `indent`, between an opener ending at
    /// `open_end` and a closer at `close_at`, then aligns them.
    fn entries(&mut self, entries: &[Entry], indent: usize, open_end: usize, close_at: usize, at_start: bool) {
        let mut prev = open_end;
        let mut placed = Vec::with_capacity(entries.len());
        let mut first = at_start;
        for e in entries {
            let blank = self.gap(prev, e.start(), indent, first);
            first = false;
            self.start_line(indent, blank);
            let line = self.lines.len() - 1;
            let (pad_at, head_width, shape) = self.entry(e, indent);
            placed.push(Placed { first: line, last: self.lines.len() - 1, pad_at, head_width, shape });
            prev = e.end();
        }
        self.gap(prev, close_at, indent, first);
        self.align(&placed);
    }

    /// Prints one entry on the line just started; returns where its head
    /// ends, how wide it is, and its shape.
    fn entry(&mut self, e: &Entry, indent: usize) -> (usize, usize, Shape) {
        match e {
            Entry::Field(f) => {
                let key = key_text(&f.key.name);
                self.push(&key);
                let head = (self.cur_len(), key.chars().count());
                match &f.value.kind {
                    ValueKind::Block(b) => {
                        self.push(" ");
                        self.block(b, indent);
                        (head.0, head.1, Shape::Block)
                    }
                    _ => {
                        self.push(" = ");
                        self.value(&f.value, indent);
                        (head.0, head.1, Shape::Eq)
                    }
                }
            }
            Entry::Item(Item::Import(i)) => {
                self.push("import ");
                self.comments_inline(i.path_span.start as usize);
                let path = self.slice(i.path_span).to_string();
                self.push(&path);
                (0, 0, Shape::Plain)
            }
            Entry::Item(Item::Decl(d)) => {
                let line = self.lines.len() - 1;
                self.push(&d.keyword.name);
                let mut width = d.keyword.name.chars().count();
                if let Some(n) = &d.name {
                    self.push(" ");
                    self.comments_inline(n.span.start as usize);
                    self.push(&n.name);
                    width += 1 + n.name.chars().count();
                }
                let head = self.cur_len();
                // A comment between keyword and name broke the head over two
                // lines: nothing to align.
                let broken_head = self.lines.len() - 1 != line;
                match &d.body {
                    DeclBody::Block(b) => {
                        // `service a { ... }` is never padded to line up
                        // with a neighbouring `gate x = ...`.
                        self.push(" ");
                        self.block(b, indent);
                        (head, width, Shape::Plain)
                    }
                    DeclBody::Value(v) => {
                        self.push(" = ");
                        self.value(v, indent);
                        (head, width, if broken_head { Shape::Plain } else { Shape::Eq })
                    }
                }
            }
        }
    }

    fn cur_len(&self) -> usize {
        self.lines.last().map(|l| l.code.len()).unwrap_or(0)
    }

    /// Pads the heads of each alignment group to the group's widest: the
    /// `=` of value fields line up, and separately the `{` of one-line block
    /// fields (a table of `name { replicas = 2 }` overrides).
    fn align(&mut self, placed: &[Placed]) {
        // Indices into `placed`: the open `=` group and `{` group.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let (mut eq, mut blocks) = (Vec::new(), Vec::new());
        fn flush(groups: &mut Vec<Vec<usize>>, eq: &mut Vec<usize>, blocks: &mut Vec<usize>) {
            groups.push(std::mem::take(eq));
            groups.push(std::mem::take(blocks));
        }
        for (i, p) in placed.iter().enumerate() {
            let blank = i > 0 && (placed[i - 1].last + 1..=p.first).any(|l| self.lines[l].blank_before);
            if blank {
                flush(&mut groups, &mut eq, &mut blocks);
            }
            let multi = p.last > p.first;
            match p.shape {
                Shape::Plain => flush(&mut groups, &mut eq, &mut blocks),
                Shape::Block if multi => flush(&mut groups, &mut eq, &mut blocks),
                Shape::Block => blocks.push(i),
                Shape::Eq => {
                    eq.push(i);
                    if multi {
                        flush(&mut groups, &mut eq, &mut blocks);
                    }
                }
            }
        }
        flush(&mut groups, &mut eq, &mut blocks);
        for g in groups {
            let width = g.iter().map(|&i| placed[i].head_width).max().unwrap_or(0);
            for i in g {
                let p = &placed[i];
                let pad = " ".repeat(width - p.head_width);
                self.lines[p.first].code.insert_str(p.pad_at, &pad);
            }
        }
    }

    // ----------------------------------------------------------- values

    fn value(&mut self, v: &Value, indent: usize) {
        self.comments_inline(v.span.start as usize);
        match &v.kind {
            ValueKind::Str(_) | ValueKind::Error => {
                let s = self.slice(v.span).to_string();
                self.push(&s);
            }
            ValueKind::Num(q) => self.push(&q.text),
            ValueKind::Bool(b) => self.push(if *b { "true" } else { "false" }),
            ValueKind::List(items) => self.list(items, v.span, indent),
            ValueKind::Block(b) => self.block(b, indent),
            ValueKind::Path { segments, args, block } => {
                for (i, s) in segments.iter().enumerate() {
                    if i > 0 {
                        self.push(".");
                    }
                    self.comments_inline(s.span.start as usize);
                    self.push(&s.name);
                }
                if let Some(a) = args {
                    self.comments_inline(a.span.start as usize);
                    self.args(a, indent);
                }
                if let Some(b) = block {
                    self.push(" ");
                    self.block(b, indent);
                }
            }
            ValueKind::Range(lo, hi) => {
                self.value(lo, indent);
                self.push("..");
                self.value(hi, indent);
            }
        }
    }

    /// Whether a container spanning `start..end` is printed one entry per line.
    fn broken(&self, start: usize, end: usize, empty: bool) -> bool {
        let has_comment = self.has_comment_in(start, end);
        if empty && !has_comment {
            return false;
        }
        has_comment || self.text.get(start..end).is_some_and(|s| s.contains('\n'))
    }

    fn block(&mut self, b: &Block, indent: usize) {
        let (start, end) = (b.span.start as usize, b.span.end as usize);
        self.comments_inline(start);
        if !self.broken(start, end, b.fields.is_empty()) {
            if b.fields.is_empty() {
                self.push("{}");
                return;
            }
            self.push("{ ");
            for (i, f) in b.fields.iter().enumerate() {
                if i > 0 {
                    self.push(" ");
                }
                self.push(&key_text(&f.key.name));
                if let ValueKind::Block(inner) = &f.value.kind {
                    self.push(" ");
                    self.block(inner, indent);
                } else {
                    self.push(" = ");
                    self.value(&f.value, indent);
                }
            }
            self.push(" }");
            return;
        }
        self.push("{");
        let entries: Vec<Entry> = b.fields.iter().map(Entry::Field).collect();
        self.entries(&entries, indent + 1, start + 1, end.saturating_sub(1), true);
        self.start_line(indent, false);
        self.push("}");
    }

    fn list(&mut self, items: &[Value], span: crate::source::Span, indent: usize) {
        let (start, end) = (span.start as usize, span.end as usize);
        if !self.broken(start, end, items.is_empty()) {
            self.push("[");
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.value(v, indent);
            }
            self.push("]");
            return;
        }
        self.push("[");
        let mut prev = start + 1;
        for (i, v) in items.iter().enumerate() {
            let blank = self.gap(prev, v.span.start as usize, indent + 1, i == 0);
            self.start_line(indent + 1, blank);
            self.value(v, indent + 1);
            self.push(",");
            prev = v.span.end as usize;
        }
        self.gap(prev, end.saturating_sub(1), indent + 1, items.is_empty());
        self.start_line(indent, false);
        self.push("]");
    }

    fn args(&mut self, a: &Args, indent: usize) {
        let (start, end) = (a.span.start as usize, a.span.end as usize);
        let arg_start = |arg: &Arg| arg.name.as_ref().map(|n| n.span.start).unwrap_or(arg.value.span.start) as usize;
        if !self.broken(start, end, a.items.is_empty()) {
            self.push("(");
            for (i, arg) in a.items.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.arg(arg, indent);
            }
            self.push(")");
            return;
        }
        self.push("(");
        let mut prev = start + 1;
        for (i, arg) in a.items.iter().enumerate() {
            let blank = self.gap(prev, arg_start(arg), indent + 1, i == 0);
            self.start_line(indent + 1, blank);
            self.arg(arg, indent + 1);
            self.push(",");
            prev = arg.value.span.end as usize;
        }
        self.gap(prev, end.saturating_sub(1), indent + 1, a.items.is_empty());
        self.start_line(indent, false);
        self.push(")");
    }

    fn arg(&mut self, arg: &Arg, indent: usize) {
        if let Some(n) = &arg.name {
            self.comments_inline(n.span.start as usize);
            self.push(&n.name);
            self.push(" = ");
        }
        self.value(&arg.value, indent);
    }

    // ----------------------------------------------------------- output

    fn finish(mut self) -> String {
        // Whatever is left (nothing, for a file that parsed) goes at the end.
        let end = self.text.len();
        self.gap(end, end, 0, self.lines.is_empty());
        self.lines.retain(|l| !l.code.trim().is_empty() || l.comment.is_some());
        align_comments(&mut self.lines);
        let mut out = String::new();
        for (i, l) in self.lines.iter().enumerate() {
            if l.blank_before && i > 0 {
                out.push('\n');
            }
            let mut line = "  ".repeat(l.indent);
            line.push_str(l.code.trim_end());
            if let Some(c) = &l.comment {
                let width = line.chars().count();
                line.push_str(&" ".repeat(l.comment_col.saturating_sub(width) + 1));
                line.push_str(c);
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Lines whose code widths differ by more than this do not align their
/// comments: one long line would push its neighbours' comments far right.
const MAX_COMMENT_SHIFT: usize = 20;

/// Aligns the trailing comments of consecutive lines one space after the
/// longest of those lines (the comment's own leading space is added when
/// printing). A blank line, a line without a trailing comment, or a line
/// much wider or narrower than the one before ends a group.
fn align_comments(lines: &mut [Line]) {
    let width = |l: &Line| 2 * l.indent + l.code.trim_end().chars().count();
    let aligned = |l: &Line| l.comment.as_ref().is_some_and(|c| !c.contains('\n')) && !l.code.trim().is_empty();
    let mut i = 0;
    while i < lines.len() {
        if !aligned(&lines[i]) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < lines.len()
            && aligned(&lines[j])
            && !lines[j].blank_before
            && width(&lines[j]).abs_diff(width(&lines[j - 1])) <= MAX_COMMENT_SHIFT
        {
            j += 1;
        }
        let col = lines[i..j].iter().map(width).max().unwrap_or(0);
        for l in &mut lines[i..j] {
            l.comment_col = col;
        }
        i = j;
    }
}

/// A field key as written: a name as it is, any other key quoted
/// (`"example.com/team"`), with `"`, `\\` and `$` escaped.
fn key_text(key: &str) -> String {
    let mut chars = key.chars();
    let is_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if is_name {
        return key.to_string();
    }
    let mut out = String::from("\"");
    for c in key.chars() {
        match c {
            '"' | '\\' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
