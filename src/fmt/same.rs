//! Structural equality of two syntax trees, spans aside: what the formatter
//! checks its output against.

use crate::source::Span;
use crate::syntax::ast::*;

/// Whether two files have the same tree once every span is ignored.
pub fn same_file(a: &File, b: &File) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    erase_file(&mut a);
    erase_file(&mut b);
    a == b
}

fn erase_file(f: &mut File) {
    for item in &mut f.items {
        match item {
            Item::Import(i) => {
                i.span = Span::default();
                i.path_span = Span::default();
            }
            Item::Decl(d) => {
                d.span = Span::default();
                erase_ident(&mut d.keyword);
                if let Some(n) = &mut d.name {
                    erase_ident(n);
                }
                match &mut d.body {
                    DeclBody::Value(v) => erase_value(v),
                    DeclBody::Block(b) => erase_block(b),
                }
            }
        }
    }
}

fn erase_ident(i: &mut Ident) {
    i.span = Span::default();
}

fn erase_block(b: &mut Block) {
    b.span = Span::default();
    for f in &mut b.fields {
        f.span = Span::default();
        erase_ident(&mut f.key);
        erase_value(&mut f.value);
    }
}

fn erase_value(v: &mut Value) {
    v.span = Span::default();
    match &mut v.kind {
        ValueKind::Str(parts) => {
            for p in parts {
                if let StrPart::Interp(segs) = p {
                    segs.iter_mut().for_each(erase_ident);
                }
            }
        }
        ValueKind::Num(_) | ValueKind::Bool(_) | ValueKind::Error => {}
        ValueKind::List(items) => items.iter_mut().for_each(erase_value),
        ValueKind::Block(b) => erase_block(b),
        ValueKind::Path { segments, args, block } => {
            segments.iter_mut().for_each(erase_ident);
            if let Some(a) = args {
                a.span = Span::default();
                for arg in &mut a.items {
                    if let Some(n) = &mut arg.name {
                        erase_ident(n);
                    }
                    erase_value(&mut arg.value);
                }
            }
            if let Some(b) = block {
                erase_block(b);
            }
        }
        ValueKind::Range(lo, hi) => {
            erase_value(lo);
            if let Some(hi) = hi {
                erase_value(hi);
            }
        }
    }
}
