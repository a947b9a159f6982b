//! The syntax tree. It mirrors the text (nothing is resolved yet) and every
//! node carries the [`Span`] it came from.

use crate::source::Span;

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Decl(Decl),
}

/// `import "std/strategies"`
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: String,
    /// The span of the string literal.
    pub path_span: Span,
    pub span: Span,
}

/// `KEYWORD [NAME] ( = value | { fields } )`
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub keyword: Ident,
    pub name: Option<Ident>,
    pub body: DeclBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeclBody {
    Value(Value),
    Block(Block),
}

impl DeclBody {
    /// The body as a value: a bare block is an untagged map.
    pub fn as_value(&self) -> Value {
        match self {
            DeclBody::Value(v) => v.clone(),
            DeclBody::Block(b) => Value { kind: ValueKind::Block(b.clone()), span: b.span },
        }
    }
}

/// `{ key = value ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Str(Vec<StrPart>),
    Num(Quantity),
    Bool(bool),
    List(Vec<Value>),
    Block(Block),
    /// A name, a dotted reference, a call or a tagged block:
    /// `dev`, `db.url`, `secret("jwt")`, `canary { steps = [...] }`.
    /// (Arguments and block are boxed: most values are neither, and the
    /// variant sets the size of every value of the tree.)
    Path {
        segments: Vec<Ident>,
        args: Option<Box<Args>>,
        block: Option<Box<Block>>,
    },
    /// `lo..hi`, or `lo..` with no upper bound (the checker accepts the
    /// open form only where the type allows it: a service's cpu request).
    Range(Box<Value>, Option<Box<Value>>),
    /// Stands in for a value that failed to parse; the error is already reported.
    Error,
}

impl Value {
    pub fn error(span: Span) -> Value {
        Value { kind: ValueKind::Error, span }
    }
    /// The single identifier of a bare name (`dev`), if that is what this is.
    pub fn as_name(&self) -> Option<&Ident> {
        match &self.kind {
            ValueKind::Path { segments, args: None, block: None } if segments.len() == 1 => segments.first(),
            _ => None,
        }
    }
    /// The literal text of a string without interpolations.
    pub fn as_plain_str(&self) -> Option<String> {
        match &self.kind {
            ValueKind::Str(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        StrPart::Lit(t) => s.push_str(t),
                        StrPart::Interp(_) => return None,
                    }
                }
                Some(s)
            }
            _ => None,
        }
    }
    /// A short word for the kind of value, used in type errors.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            ValueKind::Str(_) => "a string",
            ValueKind::Num(q) if q.unit.is_some() => "a quantity with a unit",
            ValueKind::Num(_) => "a number",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::List(_) => "a list",
            ValueKind::Block(_) => "a block",
            ValueKind::Path { args: Some(_), .. } => "a call",
            ValueKind::Path { block: Some(_), .. } => "a tagged block",
            ValueKind::Path { segments, .. } if segments.len() > 1 => "a reference",
            ValueKind::Path { .. } => "a name",
            ValueKind::Range(..) => "a range",
            ValueKind::Error => "an invalid value",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    /// `${a.b}` with the span of the path inside the braces.
    Interp(Vec<Ident>),
}

/// A number with an optional unit suffix, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub unit: Option<Unit>,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `m`: millicores for cpu, minutes for durations.
    M,
    Ki,
    Mi,
    Gi,
    Ti,
    K,
    Mega,
    G,
    Ms,
    S,
    H,
    D,
    W,
    Percent,
}

impl Unit {
    pub fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "m" => Unit::M,
            "Ki" => Unit::Ki,
            "Mi" => Unit::Mi,
            "Gi" => Unit::Gi,
            "Ti" => Unit::Ti,
            "K" => Unit::K,
            "M" => Unit::Mega,
            "G" => Unit::G,
            "ms" => Unit::Ms,
            "s" => Unit::S,
            "h" => Unit::H,
            "d" => Unit::D,
            "w" => Unit::W,
            "%" => Unit::Percent,
            _ => return None,
        })
    }
}

/// `( [name =] value, ... )`
#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    pub items: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Value,
}
