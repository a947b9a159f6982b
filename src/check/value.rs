//! Checking one syntax value against a [`Ty`], producing a typed [`Val`].
//!
//! Every mismatch becomes a diagnostic and an [`V::Error`] placeholder, so the
//! checker keeps going and reports everything in one run.

use super::schema::{FieldSpec, RefKind, Ty, Variant};
use super::symbols::Symbols;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
pub use crate::model::{AttrRef, AttrTarget, Step, TPart, Template, Trigger};

/// A promotion rule as written: the source environment by name. Lowering
/// resolves it to the model's `Promotion`, which holds an `EnvId`.
#[derive(Clone, Debug, PartialEq)]
pub enum PromotionRule {
    /// Branch names or patterns; empty: the project's branch.
    OnPush(Vec<String>),
    OnTag(String),
    Manual {
        from: Option<String>,
    },
}
use crate::source::Span;
use crate::suggest::with_article;
use crate::syntax::ast::{self, Block, StrPart, Unit, ValueKind};
use indexmap::IndexMap;

/// A checked value with the span it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Val {
    pub v: V,
    pub span: Span,
}

/// Field names are few per block: hashed with fixed keys, which keeps each
/// map a word pair smaller than with a random state (a map per block of a
/// program, thousands of them).
pub type Fields =
    IndexMap<String, (Span, Val), std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Str(Template),
    Int(i64),
    Bool(bool),
    Port(u16),
    /// Millicores.
    Cpu(u64),
    /// Bytes.
    Memory(u64),
    /// Milliseconds.
    Duration(u64),
    Percent(f64),
    /// `lo..hi`; `lo..` (no upper bound) only where the type is an open range.
    Range(Box<Val>, Option<Box<Val>>),
    List(Vec<Val>),
    Map(Fields),
    Ref(RefKind, String),
    Enum(String),
    Tagged(String, Fields),
    Struct(Fields),
    Secret {
        name: String,
        key: Option<String>,
    },
    /// `db.url`: a reference to an attribute of another declaration.
    Attr(AttrRef),
    Promotion(PromotionRule),
    Trigger(Trigger),
    Step(Step),
    Pause(Option<u64>),
    Error,
}

/// State shared while checking values: the symbol table and the diagnostics.
pub struct Cx<'a> {
    pub syms: &'a Symbols,
    pub diags: &'a mut Diagnostics,
}

fn mismatch(expected: &str, value: &ast::Value) -> Diagnostic {
    Diagnostic::new(Code::E0301, format!("expected {expected}, found {}", value.describe()))
        .label(value.span, format!("expected {expected}"))
}

pub fn describe_ty(ty: &Ty) -> String {
    match ty {
        Ty::Str => "a string".into(),
        Ty::Text => "a string (newlines allowed)".into(),
        Ty::RelPath => "a relative path".into(),
        Ty::Branch => "a branch name".into(),
        Ty::Host => "a host name".into(),
        Ty::UrlPath => "a URL path".into(),
        Ty::Int => "a whole number".into(),
        Ty::Bool => "`true` or `false`".into(),
        Ty::Port => "a port number".into(),
        Ty::Cpu => "a cpu quantity (250m, 1)".into(),
        Ty::Memory => "a memory quantity (512Mi, 1Gi)".into(),
        Ty::Duration => "a duration (30s, 5m, 6h)".into(),
        Ty::Percent => "a percentage (10%)".into(),
        Ty::Range(t) => format!("{} or a range of them", describe_ty(t)),
        Ty::OpenRange(t) => format!("{}, a range of them or `low..` without an upper bound", describe_ty(t)),
        Ty::List(t) => format!("a list of {}", describe_plural(t)),
        Ty::Map(_) | Ty::Struct(_) | Ty::Keyed(..) => "a block `{ ... }`".into(),
        Ty::Ref(k) => format!("the name of {}", with_article(k.word())),
        Ty::Enum(vs) => format!("one of {}", vs.join(", ")),
        Ty::Tagged(vs) => format!("one of {}", vs.iter().map(|v| v.tag).collect::<Vec<_>>().join(", ")),
        Ty::Strategy => "a strategy".into(),
        Ty::Analysis => "a metrics provider or an analysis block".into(),
        Ty::EnvValue => "a string, number, reference or secret(...)".into(),
        Ty::Secret => "secret(\"name\")".into(),
        Ty::Promotion => "on_push(...), on_tag(...) or manual(from = ...)".into(),
        Ty::Trigger => "a trigger (pull_request, push, tag(...), schedule(...))".into(),
        Ty::Step => "a weight (10%), pause(...) or analysis".into(),
        Ty::Pause => "a duration or `manual`".into(),
        Ty::Surge => "a percentage or a pod count".into(),
    }
}

/// The items of a list of `ty`, in the plural: "strings", "gate names".
fn describe_plural(ty: &Ty) -> String {
    match ty {
        Ty::Str => "strings".into(),
        Ty::Text => "strings (newlines allowed)".into(),
        Ty::RelPath => "relative paths".into(),
        Ty::Branch => "branch names".into(),
        Ty::Host => "host names".into(),
        Ty::UrlPath => "URL paths".into(),
        Ty::Int => "whole numbers".into(),
        Ty::Bool => "`true` or `false` values".into(),
        Ty::Port => "port numbers".into(),
        Ty::Cpu => "cpu quantities (250m, 1)".into(),
        Ty::Memory => "memory quantities (512Mi, 1Gi)".into(),
        Ty::Duration => "durations (30s, 5m, 6h)".into(),
        Ty::Percent => "percentages (10%)".into(),
        Ty::Range(t) | Ty::OpenRange(t) => format!("{} or ranges of them", describe_plural(t)),
        Ty::List(t) => format!("lists of {}", describe_plural(t)),
        Ty::Map(_) | Ty::Struct(_) | Ty::Keyed(..) => "blocks `{ ... }`".into(),
        Ty::Ref(k) => format!("{} names", k.word()),
        Ty::Enum(vs) => format!("names, each one of {}", vs.join(", ")),
        Ty::Tagged(vs) => format!("kinds, each one of {}", vs.iter().map(|v| v.tag).collect::<Vec<_>>().join(", ")),
        Ty::Strategy => "strategies".into(),
        Ty::Analysis => "analyses".into(),
        Ty::EnvValue => "strings, numbers, references or secret(...) values".into(),
        Ty::Secret => "secret(\"name\") values".into(),
        Ty::Promotion => "promotions".into(),
        Ty::Trigger => "triggers (pull_request, push, tag(...), schedule(...))".into(),
        Ty::Step => "canary steps (10%, pause(...), analysis)".into(),
        Ty::Pause => "pauses (a duration or `manual`)".into(),
        Ty::Surge => "percentages or pod counts".into(),
    }
}

/// The number of a quantity without its unit: `8081` of `8081s`.
fn number_text(q: &ast::Quantity) -> &str {
    q.text.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%')
}

impl Cx<'_> {
    fn err(&mut self, d: Diagnostic) -> V {
        self.diags.push(d);
        V::Error
    }

    /// Checks `value` against `ty`.
    pub fn value(&mut self, value: &ast::Value, ty: &Ty) -> Val {
        let v = if matches!(value.kind, ValueKind::Error) { V::Error } else { self.value_kind(value, ty) };
        Val { v, span: value.span }
    }

    fn value_kind(&mut self, value: &ast::Value, ty: &Ty) -> V {
        // A range is only welcome where the type says so.
        if let ValueKind::Range(lo, hi) = &value.kind {
            return match (ty, hi) {
                (Ty::Range(inner) | Ty::OpenRange(inner), Some(hi)) => self.range(lo, hi, inner),
                (Ty::OpenRange(inner), None) => V::Range(Box::new(self.value(lo, inner)), None),
                (Ty::Range(_), None) => self.err(
                    Diagnostic::new(Code::E0373, "range without an upper bound")
                        .label(value.span, "nothing after `..`")
                        .help(Code::E0373.info().help),
                ),
                _ => self.err(mismatch(&describe_ty(ty), value)),
            };
        }
        match ty {
            Ty::Str | Ty::RelPath | Ty::Host | Ty::UrlPath => match &value.kind {
                ValueKind::Str(parts) => {
                    match unsafe_text(parts, matches!(ty, Ty::RelPath), value).or_else(|| web_text(parts, ty, value)) {
                        Some(d) => self.err(d),
                        None => V::Str(self.template(parts)),
                    }
                }
                _ => self.err(mismatch(&describe_ty(ty), value)),
            },
            Ty::Text => match &value.kind {
                ValueKind::Str(parts) => {
                    let bad = parts.iter().any(|p| match p {
                        ast::StrPart::Lit(s) => s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                        ast::StrPart::Interp(_) => false,
                    });
                    if bad {
                        self.err(control_character(value))
                    } else {
                        V::Str(self.template(parts))
                    }
                }
                _ => self.err(mismatch(&describe_ty(ty), value)),
            },
            Ty::Branch => match (&value.kind, value.as_plain_str()) {
                (ValueKind::Str(parts), Some(s)) => match branch_problem(&s) {
                    Some(why) => self.err(bad_branch(&s, why, value)),
                    None => V::Str(self.template(parts)),
                },
                _ => self.err(mismatch("a branch name (a plain string)", value)),
            },
            Ty::Int => self.int(value, 0, 1_000_000, "a whole number").map(V::Int).unwrap_or(V::Error),
            Ty::Port => self.int(value, 1, 65535, "a port number").map(|p| V::Port(p as u16)).unwrap_or(V::Error),
            Ty::Bool => match &value.kind {
                ValueKind::Bool(b) => V::Bool(*b),
                _ => self.err(mismatch("`true` or `false`", value)),
            },
            Ty::Cpu | Ty::Memory | Ty::Duration | Ty::Percent => self.quantity(value, ty),
            Ty::Range(inner) | Ty::OpenRange(inner) => self.value(value, inner).v,
            Ty::List(inner) => match &value.kind {
                ValueKind::List(items) => V::List(items.iter().map(|i| self.value(i, inner)).collect()),
                _ => self.err(mismatch(&describe_ty(ty), value)),
            },
            Ty::Map(inner) => match &value.kind {
                ValueKind::Block(b) => V::Map(self.map(b, inner)),
                _ => self.err(mismatch("a block `{ ... }`", value)),
            },
            Ty::Keyed(kind, inner) => match &value.kind {
                ValueKind::Block(b) => {
                    for f in &b.fields {
                        self.resolve(&f.key, *kind);
                    }
                    V::Map(self.map(b, inner))
                }
                _ => self.err(mismatch("a block `{ ... }`", value)),
            },
            Ty::Ref(kind) => match value.as_name() {
                Some(id) => match self.resolve(id, *kind) {
                    true => V::Ref(*kind, id.name.clone()),
                    false => V::Error,
                },
                None => self.err(mismatch(&format!("the name of {}", with_article(kind.word())), value)),
            },
            Ty::Enum(options) => match value.as_name() {
                Some(id) if options.contains(&id.name.as_str()) => V::Enum(id.name.clone()),
                Some(id) => self.err(
                    Diagnostic::new(Code::E0208, format!("unknown variant `{}`", id.name))
                        .label(id.span, format!("expected one of {}", options.join(", ")))
                        .did_you_mean(
                            id.span,
                            &id.name,
                            options.iter().copied(),
                            format!("Use one of: {}.", options.join(", ")),
                        ),
                ),
                None => self.err(mismatch(&describe_ty(ty), value)),
            },
            Ty::Struct(specs) => match &value.kind {
                ValueKind::Block(b) => V::Struct(self.fields(b, specs, b.span)),
                _ => self.err(mismatch("a block `{ ... }`", value)),
            },
            Ty::Tagged(variants) => self.tagged(value, variants),
            Ty::Strategy => self.strategy(value),
            Ty::Analysis => match &value.kind {
                ValueKind::Block(b) => V::Struct(self.fields(b, super::schema::ANALYSIS, b.span)),
                _ => {
                    let providers = &["prometheus", "newrelic", "datadog"];
                    match self.value(value, &Ty::Enum(providers)).v {
                        V::Enum(p) => {
                            let mut m = Fields::default();
                            m.insert("provider".into(), (value.span, Val { v: V::Enum(p), span: value.span }));
                            V::Struct(m)
                        }
                        other => other,
                    }
                }
            },
            Ty::EnvValue => self.env_value(value),
            Ty::Secret => self.secret(value),
            Ty::Promotion => self.promotion(value),
            Ty::Trigger => self.trigger(value),
            Ty::Step => match &value.kind {
                // A weight's range is the canary rule's to check (E0402), not
                // the generic percentage range.
                ValueKind::Num(q) if q.unit == Some(Unit::Percent) => V::Step(Step::Weight(q.value)),
                ValueKind::Num(_) => self.quantity(value, &Ty::Percent),
                _ => match self.call(value, &["pause", "analysis"]) {
                    Some(("pause", args)) => match args.first() {
                        Some(a) => match self.pause(&a.value) {
                            V::Pause(p) => V::Step(Step::Pause(p)),
                            other => other,
                        },
                        None => V::Step(Step::Pause(None)),
                    },
                    Some(_) => V::Step(Step::Analysis),
                    None => V::Error,
                },
            },
            Ty::Pause => self.pause(value),
            Ty::Surge => match &value.kind {
                ValueKind::Num(q) if q.unit == Some(Unit::Percent) => self.quantity(value, &Ty::Percent),
                _ => self.int(value, 0, 1000, "a percentage or a pod count").map(V::Int).unwrap_or(V::Error),
            },
        }
    }

    fn pause(&mut self, value: &ast::Value) -> V {
        if value.as_name().is_some_and(|n| n.name == "manual") {
            return V::Pause(None);
        }
        match self.quantity(value, &Ty::Duration) {
            V::Duration(d) => V::Pause(Some(d)),
            other => other,
        }
    }

    fn range(&mut self, lo: &ast::Value, hi: &ast::Value, inner: &Ty) -> V {
        let l = self.value(lo, inner);
        let h = self.value(hi, inner);
        if let (Some(a), Some(b)) = (magnitude(&l.v), magnitude(&h.v)) {
            if a > b {
                self.diags.push(
                    Diagnostic::new(Code::E0304, "range has its lower bound above its upper bound")
                        .label(lo.span, "this is larger")
                        .label(hi.span, "than this"),
                );
                return V::Error;
            }
        }
        V::Range(Box::new(l), Some(Box::new(h)))
    }

    fn int(&mut self, value: &ast::Value, min: i64, max: i64, what: &str) -> Option<i64> {
        match &value.kind {
            ValueKind::Num(q) if q.unit.is_none() => {
                if q.value.fract() != 0.0 {
                    self.diags.push(
                        Diagnostic::new(Code::E0301, format!("expected {what}, found {}", q.text))
                            .label(value.span, format!("expected {what}"))
                            .help("Use a whole number."),
                    );
                    return None;
                }
                let n = q.value as i64;
                if n < min || n > max {
                    self.diags.push(
                        Diagnostic::new(Code::E0303, format!("{n} is out of range"))
                            .label(value.span, format!("expected {min}–{max}")),
                    );
                    return None;
                }
                Some(n)
            }
            ValueKind::Num(q) => {
                let number = number_text(q);
                let help = if what == "a port number" {
                    format!("Ports are plain numbers and take no unit: write `{number}`.")
                } else {
                    format!("Counts are plain numbers and take no unit: write `{number}`.")
                };
                self.diags.push(
                    Diagnostic::new(Code::E0302, format!("expected {what} without a unit, found `{}`", q.text))
                        .label(value.span, "remove the unit")
                        .help(help)
                        .suggest(value.span, number),
                );
                None
            }
            _ => {
                self.diags.push(mismatch(what, value));
                None
            }
        }
    }

    fn quantity(&mut self, value: &ast::Value, ty: &Ty) -> V {
        let q = match &value.kind {
            ValueKind::Num(q) => q,
            _ => return self.err(mismatch(&describe_ty(ty), value)),
        };
        let n = q.value;
        let converted = match (ty, q.unit) {
            (Ty::Cpu, None) => Some(V::Cpu((n * 1000.0).round() as u64)),
            (Ty::Cpu, Some(Unit::M)) => Some(V::Cpu(n.round() as u64)),
            (Ty::Memory, Some(u)) => memory_factor(u).map(|f| V::Memory((n * f as f64).round() as u64)),
            (Ty::Duration, Some(u)) => duration_factor(u).map(|f| V::Duration((n * f as f64).round() as u64)),
            (Ty::Duration, None) if n == 0.0 => Some(V::Duration(0)),
            (Ty::Percent, Some(Unit::Percent)) => {
                if n > 100.0 {
                    return self.err(
                        Diagnostic::new(Code::E0303, format!("{} is more than 100%", q.text))
                            .label(value.span, "expected 0%–100%"),
                    );
                }
                Some(V::Percent(n))
            }
            _ => None,
        };
        match converted {
            Some(v) => v,
            None => {
                let want = describe_ty(ty);
                let hint = match (ty, q.unit) {
                    (Ty::Memory, Some(Unit::M)) => " (`m` means millicores; memory uses Mi or Gi)".to_string(),
                    (Ty::Memory, None) => " (a bare number is ambiguous; add Mi or Gi)".to_string(),
                    (Ty::Duration, None) => " (add s, m, h or d)".to_string(),
                    _ => String::new(),
                };
                let mut d = Diagnostic::new(Code::E0302, format!("expected {want}, found `{}`", q.text))
                    .label(value.span, format!("wrong unit for {}{hint}", want.trim_start_matches("a ")));
                if matches!((ty, q.unit), (Ty::Memory, Some(Unit::M))) {
                    let fixed = format!("{}Mi", number_text(q));
                    d = d.suggest(value.span, fixed.clone()).help(format!("Did you mean `{fixed}`?"));
                } else if matches!((ty, q.unit), (Ty::Memory, None)) {
                    d = d.suggest(value.span, format!("{}Mi", q.text)).help(format!("Did you mean `{}Mi`?", q.text));
                } else if matches!((ty, q.unit), (Ty::Duration, None)) {
                    d = d.suggest(value.span, format!("{}s", q.text)).help(format!("Did you mean `{}s`?", q.text));
                }
                self.err(d)
            }
        }
    }

    pub fn template(&mut self, parts: &[StrPart]) -> Template {
        let mut out = Vec::new();
        for p in parts {
            match p {
                StrPart::Lit(s) => out.push(TPart::Lit(s.clone())),
                StrPart::Interp(segs) => {
                    if let Some(r) = self.attr_ref(segs, false) {
                        out.push(TPart::Ref(r));
                    }
                }
            }
        }
        Template { parts: out }
    }

    /// Resolves `target.attr` (also `project.domain`, `env.name`). `bare` is
    /// true for an unquoted reference (`DB = db.url`), false inside `${...}`.
    fn attr_ref(&mut self, segs: &[ast::Ident], bare: bool) -> Option<AttrRef> {
        let head = segs.first()?;
        let span = segs[0].span.to(segs[segs.len() - 1].span);
        let (target, attrs): (AttrTarget, &[&str]) = match head.name.as_str() {
            "project" => (AttrTarget::Project, super::schema::PROJECT_ATTRS),
            "env" => (AttrTarget::Env, super::schema::ENV_ATTRS),
            name => {
                if let Some(sym) = self.syms.get(RefKind::Service, name) {
                    let _ = sym;
                    self.syms.mark_used(RefKind::Service, name);
                    (AttrTarget::Service(name.to_string()), super::schema::SERVICE_ATTRS)
                } else if let Some(engine) = self.syms.get(RefKind::Resource, name).map(|s| s.tag.clone()) {
                    self.syms.mark_used(RefKind::Resource, name);
                    (AttrTarget::Resource(name.to_string()), super::schema::resource_attrs(&engine))
                } else {
                    let mut cands: Vec<&str> =
                        self.syms.names(RefKind::Service).chain(self.syms.names(RefKind::Resource)).collect();
                    cands.extend(["project", "env"]);
                    let d = Diagnostic::new(Code::E0201, format!("unknown name `{name}`"))
                        .label(head.span, "no service or resource has this name");
                    let d = if bare && segs.len() == 1 {
                        // `LOG_LEVEL = debug`: most likely meant as text.
                        let quote = format!("To pass the text `{name}`, quote it: \"{name}\".");
                        match crate::suggest::closest(name, cands) {
                            Some(best) => d.help(format!("did you mean `{best}`? {quote}")).suggest(head.span, best),
                            None => d.help(quote).suggest(head.span, format!("\"{name}\"")),
                        }
                    } else {
                        d.did_you_mean(
                            head.span,
                            name,
                            cands,
                            "References name a service, a resource, `project` or `env`.",
                        )
                    };
                    self.diags.push(d);
                    return None;
                }
            }
        };
        let Some(attr) = segs.get(1) else {
            self.diags.push(
                Diagnostic::new(Code::E0205, format!("`{}` needs an attribute", head.name))
                    .label(span, format!("add one of: {}", attrs.join(", ")))
                    .help(format!("Write e.g. `{}.{}`.", head.name, attrs.first().unwrap_or(&"url"))),
            );
            return None;
        };
        if !attrs.contains(&attr.name.as_str()) {
            self.diags.push(
                Diagnostic::new(Code::E0205, format!("`{}` has no attribute `{}`", head.name, attr.name))
                    .label(attr.span, format!("expected one of {}", attrs.join(", ")))
                    .did_you_mean(
                        attr.span,
                        &attr.name,
                        attrs.iter().copied(),
                        format!("Use one of: {}.", attrs.join(", ")),
                    ),
            );
            return None;
        }
        if let Some(extra) = segs.get(2) {
            let tail = extra.span.to(segs[segs.len() - 1].span);
            let whole = format!("{}.{}", head.name, attr.name);
            self.diags.push(
                Diagnostic::new(Code::E0205, format!("`{whole}` has no attributes of its own"))
                    .label(tail, format!("`{whole}` ends the reference; remove this"))
                    .help(format!("A reference is `name.attribute`: write `{whole}`."))
                    .suggest(span, whole),
            );
            return None;
        }
        Some(AttrRef { target, attr: attr.name.clone() })
    }

    fn env_value(&mut self, value: &ast::Value) -> V {
        match &value.kind {
            ValueKind::Str(parts) => V::Str(self.template(parts)),
            ValueKind::Num(q) => V::Str(Template::literal(q.text.clone())),
            ValueKind::Bool(b) => V::Str(Template::literal(b.to_string())),
            ValueKind::Path { segments, args: None, block: None } => match self.attr_ref(segments, true) {
                Some(r) => V::Attr(r),
                None => V::Error,
            },
            ValueKind::Path { args: Some(_), .. } => self.secret(value),
            _ => self.err(mismatch("a string, number, reference or secret(...)", value)),
        }
    }

    fn secret(&mut self, value: &ast::Value) -> V {
        if let ValueKind::Str(_) = value.kind {
            return self.err(
                Diagnostic::new(Code::E0701, "secret given as a literal value")
                    .label(value.span, "this value would be written into generated files")
                    .help(
                        "Reference the secret instead: `secret(\"name\")`, resolved from the project's secret store.",
                    ),
            );
        }
        let Some((_, args)) = self.call(value, &["secret"]) else {
            return V::Error;
        };
        let mut name = None;
        let mut key = None;
        let mut seen = Vec::new();
        let mut repeated = false;
        for a in &args {
            let (slot, arg) = match a.name.as_ref().map(|n| n.name.as_str()) {
                None | Some("name") => (&mut name, "name"),
                Some("key") => (&mut key, "key"),
                Some(other) => {
                    let span = a.name.as_ref().map(|n| n.span).unwrap_or(value.span);
                    self.diags.push(
                        Diagnostic::new(Code::E0203, format!("unknown argument `{other}`"))
                            .label(span, "secret(...) takes a name and an optional key")
                            .did_you_mean(
                                span,
                                other,
                                ["name", "key"],
                                "Write `secret(\"name\")` or `secret(\"name\", key = \"k\")`.",
                            ),
                    );
                    continue;
                }
            };
            if self.repeated_arg(&mut seen, arg, a, "secret") {
                repeated = true;
                continue;
            }
            match a.value.as_plain_str() {
                Some(s) => *slot = Some((s, a.value.span)),
                None => self.diags.push(mismatch("a plain string", &a.value)),
            }
        }
        if repeated {
            return V::Error;
        }
        match name {
            Some((n, span)) => {
                if !super::rules::is_dns_label(&n) {
                    let fixed = super::rules::to_dns_label(&n);
                    let mut d = Diagnostic::new(Code::E0206, format!("`{n}` is not a valid Kubernetes name"))
                        .label(span, "secret names become Kubernetes Secret names");
                    if super::rules::is_dns_label(&fixed) {
                        d = d
                            .help(format!(
                                "Did you mean `{fixed}`? Names use lowercase letters, digits and `-`, start with a \
                                 letter and have at most 63 characters."
                            ))
                            .suggest(span, format!("\"{fixed}\""));
                    }
                    self.diags.push(d);
                    return V::Error;
                }
                V::Secret { name: n, key: key.map(|k| k.0) }
            }
            None => self.err(
                Diagnostic::new(Code::E0204, "secret(...) needs a name")
                    .label(value.span, "name missing")
                    .help("Write `secret(\"name\")`."),
            ),
        }
    }

    /// Reports an argument of `call(...)` given twice (E0207). `arg` is the
    /// parameter `a` fills, also when `a` is positional.
    fn repeated_arg(
        &mut self,
        seen: &mut Vec<(&'static str, Span)>,
        arg: &'static str,
        a: &ast::Arg,
        call: &str,
    ) -> bool {
        let span = a.name.as_ref().map(|n| n.span).unwrap_or(a.value.span);
        match seen.iter().find(|(n, _)| *n == arg) {
            Some((_, first)) => {
                self.diags.push(
                    Diagnostic::new(Code::E0207, format!("argument `{arg}` of {call}(...) is given twice"))
                        .label(span, "given again here")
                        .label(*first, "first given here")
                        .help("Remove one of the two arguments."),
                );
                true
            }
            None => {
                seen.push((arg, span));
                false
            }
        }
    }

    /// Matches `name(args)` or a bare `name` against the allowed call names.
    fn call(&mut self, value: &ast::Value, allowed: &[&'static str]) -> Option<(&'static str, Vec<ast::Arg>)> {
        let ValueKind::Path { segments, args, block: None } = &value.kind else {
            self.diags.push(mismatch(&format!("one of {}", allowed.join(", ")), value));
            return None;
        };
        let head = &segments[0];
        match allowed.iter().find(|a| **a == head.name) {
            Some(name) if segments.len() == 1 => {
                Some((name, args.as_ref().map(|a| a.items.clone()).unwrap_or_default()))
            }
            _ => {
                self.diags.push(
                    Diagnostic::new(Code::E0208, format!("unknown variant `{}`", head.name))
                        .label(head.span, format!("expected one of {}", allowed.join(", ")))
                        .did_you_mean(
                            head.span,
                            &head.name,
                            allowed.iter().copied(),
                            format!("Use one of: {}.", allowed.join(", ")),
                        ),
                );
                None
            }
        }
    }

    /// The first argument of a call, a plain string; `example` is the call written right.
    fn string_arg(&mut self, args: &[ast::Arg], value: &ast::Value, what: &str, example: &str) -> Option<String> {
        match args.first() {
            Some(a) => match a.value.as_plain_str() {
                Some(s) if s.chars().any(char::is_control) => {
                    self.diags.push(control_character(&a.value));
                    None
                }
                Some(s) => Some(s),
                None => {
                    self.diags.push(mismatch(what, &a.value));
                    None
                }
            },
            None => {
                self.diags.push(
                    Diagnostic::new(Code::E0204, format!("missing {what}"))
                        .label(value.span, format!("add {what} in parentheses"))
                        .help(format!("Write e.g. `{example}`.")),
                );
                None
            }
        }
    }

    /// `on_push(...)`'s arguments: branch names or patterns (E0330, E0603).
    fn branch_patterns(&mut self, args: &[ast::Arg], value: &ast::Value) -> V {
        let mut out = Vec::new();
        let mut ok = true;
        for a in args {
            if let Some(n) = &a.name {
                self.diags.push(
                    Diagnostic::new(Code::E0203, format!("unknown argument `{}`", n.name))
                        .label(n.span, "on_push(...) takes branch names")
                        .help("Write e.g. `on_push(\"main\", \"release/*\")`."),
                );
                ok = false;
                continue;
            }
            let Some(b) = self.string_arg(std::slice::from_ref(a), value, "a branch name", "on_push(\"main\")") else {
                ok = false;
                continue;
            };
            let problem = if b.contains('*') {
                pattern_problem(&b).map(|why| bad_pattern(&b, why, &a.value))
            } else if let Some(why) = branch_problem(&b) {
                Some(bad_branch(&b, why, &a.value))
            } else {
                special_problem(&b).map(|why| bad_pattern(&b, why, &a.value))
            };
            match problem {
                Some(d) => {
                    self.diags.push(d);
                    ok = false;
                }
                None if out.contains(&b) => {
                    self.diags.push(
                        Diagnostic::new(Code::E0604, format!("branch `{b}` is listed twice"))
                            .label(a.value.span, "already listed")
                            .help("List each branch or pattern once."),
                    );
                    ok = false;
                }
                None => out.push(b),
            }
        }
        if ok {
            V::Promotion(PromotionRule::OnPush(out))
        } else {
            V::Error
        }
    }

    fn promotion(&mut self, value: &ast::Value) -> V {
        let Some((name, args)) = self.call(value, &["on_push", "on_tag", "manual"]) else {
            return V::Error;
        };
        match name {
            "on_push" => self.branch_patterns(&args, value),
            "on_tag" => self
                .string_arg(&args, value, "a tag pattern", "on_tag(\"v*\")")
                .map(|t| V::Promotion(PromotionRule::OnTag(t)))
                .unwrap_or(V::Error),
            _ => {
                // Any error makes the whole promotion an error value, so the
                // environment counts as explained (no E0502 on top).
                let mut from = None;
                let mut ok = true;
                let mut seen = Vec::new();
                for a in &args {
                    match a.name.as_ref().map(|n| n.name.as_str()) {
                        None | Some("from") => {
                            if self.repeated_arg(&mut seen, "from", a, "manual") {
                                ok = false;
                                continue;
                            }
                            match a.value.as_name() {
                                Some(id) if self.resolve(id, RefKind::Environment) => from = Some(id.name.clone()),
                                Some(_) => ok = false,
                                None => {
                                    self.diags.push(mismatch("the name of an environment", &a.value));
                                    ok = false;
                                }
                            }
                        }
                        Some(other) => {
                            let span = a.name.as_ref().map(|n| n.span).unwrap_or(value.span);
                            self.diags.push(
                                Diagnostic::new(Code::E0203, format!("unknown argument `{other}`"))
                                    .label(span, "manual(...) takes `from`")
                                    .did_you_mean(span, other, ["from"], "Write `manual(from = qa)`."),
                            );
                            ok = false;
                        }
                    }
                }
                if ok {
                    V::Promotion(PromotionRule::Manual { from })
                } else {
                    V::Error
                }
            }
        }
    }

    fn trigger(&mut self, value: &ast::Value) -> V {
        let Some((name, args)) = self.call(value, &["pull_request", "push", "tag", "schedule", "manual"]) else {
            return V::Error;
        };
        let t = match name {
            "pull_request" => Trigger::PullRequest,
            "manual" => Trigger::Manual,
            "push" if args.is_empty() => Trigger::Push(None),
            "push" => match self.string_arg(&args, value, "a branch name", "push(\"main\")") {
                Some(b) => Trigger::Push(Some(b)),
                None => return V::Error,
            },
            "tag" => match self.string_arg(&args, value, "a tag pattern", "tag(\"v*\")") {
                Some(t) => Trigger::Tag(t),
                None => return V::Error,
            },
            _ => match self.string_arg(&args, value, "a cron expression", "schedule(\"0 3 * * *\")") {
                Some(c) if c.split_whitespace().count() == 5 => match cron_out_of_range(&c) {
                    Some(problem) => {
                        return self.err(
                            Diagnostic::new(Code::E0303, format!("cron field out of range: {problem}"))
                                .label(value.span, "minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7")
                                .help("Write e.g. `schedule(\"0 3 * * *\")` for daily at 03:00 UTC."),
                        )
                    }
                    None => Trigger::Schedule(c),
                },
                Some(_) => {
                    return self.err(
                        Diagnostic::new(Code::E0303, "a cron expression has five fields")
                            .label(value.span, "expected \"minute hour day month weekday\"")
                            .help("Write e.g. `schedule(\"0 3 * * *\")` for daily at 03:00 UTC."),
                    )
                }
                None => return V::Error,
            },
        };
        V::Trigger(t)
    }

    fn strategy(&mut self, value: &ast::Value) -> V {
        if let Some(id) = value.as_name() {
            if self.syms.get(RefKind::Strategy, &id.name).is_some() {
                self.syms.mark_used(RefKind::Strategy, &id.name);
                return V::Ref(RefKind::Strategy, id.name.clone());
            }
            if !super::schema::STRATEGIES.iter().any(|v| v.tag == id.name) {
                let mut cands: Vec<&str> = self.syms.names(RefKind::Strategy).collect();
                cands.extend(super::schema::STRATEGIES.iter().map(|v| v.tag));
                let d = Diagnostic::new(Code::E0201, format!("unknown strategy `{}`", id.name))
                    .label(id.span, "no strategy has this name");
                if let Some(d) = std_import_help(d.clone(), RefKind::Strategy, id) {
                    return self.err(d);
                }
                return self.err(d.did_you_mean(
                    id.span,
                    &id.name,
                    cands,
                    "Name a `strategy` declaration, or write rolling, canary { ... } or blue_green { ... }.",
                ));
            }
        }
        self.tagged(value, super::schema::STRATEGIES)
    }

    /// `tag` or `tag { fields }`.
    pub fn tagged(&mut self, value: &ast::Value, variants: &'static [Variant]) -> V {
        let (head, block) = match &value.kind {
            ValueKind::Path { segments, args: None, block } if segments.len() == 1 => (&segments[0], block.as_ref()),
            _ => {
                return self.err(mismatch(&describe_ty(&Ty::Tagged(variants)), value));
            }
        };
        let Some(variant) = variants.iter().find(|v| v.tag == head.name) else {
            let tags: Vec<&str> = variants.iter().map(|v| v.tag).collect();
            return self.err(
                Diagnostic::new(Code::E0208, format!("unknown variant `{}`", head.name))
                    .label(head.span, format!("expected one of {}", tags.join(", ")))
                    .did_you_mean(
                        head.span,
                        &head.name,
                        tags.iter().copied(),
                        format!("Use one of: {}.", tags.join(", ")),
                    ),
            );
        };
        let fields = match block {
            Some(b) => self.fields(b, variant.fields, head.span),
            None => self.fields(&Block { fields: Vec::new(), span: head.span }, variant.fields, head.span),
        };
        V::Tagged(variant.tag.to_string(), fields)
    }

    /// Checks a block against a field table: unknown, duplicate and missing fields.
    pub fn fields(&mut self, block: &Block, specs: &'static [FieldSpec], anchor: Span) -> Fields {
        let out = self.fields_only(block, specs);
        self.required(&out, specs, anchor);
        out
    }

    /// [`Cx::fields`] without the check for required fields: a preset's, or a
    /// service's before its preset is merged in.
    pub fn fields_only(&mut self, block: &Block, specs: &'static [FieldSpec]) -> Fields {
        // Sized for every field at once: growing rehashes the keys so far.
        let mut out = Fields::with_capacity_and_hasher(block.fields.len(), Default::default());
        for field in &block.fields {
            let key = &field.key;
            let Some(spec) = specs.iter().find(|s| s.name == key.name) else {
                let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                let fallback = if names.is_empty() {
                    "This block takes no fields.".to_string()
                } else {
                    format!("Known fields: {}.", names.join(", "))
                };
                self.diags.push(
                    Diagnostic::new(Code::E0203, format!("unknown field `{}`", key.name))
                        .label(key.span, "not a field here")
                        .did_you_mean(key.span, &key.name, names, fallback),
                );
                continue;
            };
            if let Some((first, _)) = out.get(&key.name) {
                self.diags.push(
                    Diagnostic::new(Code::E0207, format!("field `{}` is given twice", key.name))
                        .label(key.span, "given again here")
                        .label(*first, "first given here"),
                );
                continue;
            }
            let mut val = self.value(&field.value, &spec.ty);
            if !self.within_limits(&key.name, &val) {
                val.v = V::Error;
            }
            out.insert(key.name.clone(), (key.span, val));
        }
        out
    }

    /// E0204 for each required field of `specs` that `out` lacks, at `anchor`.
    pub fn required(&mut self, out: &Fields, specs: &'static [FieldSpec], anchor: Span) {
        for spec in specs.iter().filter(|s| s.required) {
            if !out.contains_key(spec.name) {
                self.diags.push(
                    Diagnostic::new(Code::E0204, format!("missing required field `{}`", spec.name))
                        .label(anchor, format!("needs `{}`: {}", spec.name, spec.doc))
                        .help(format!("Add `{} = ...` ({}).", spec.name, describe_ty(&spec.ty))),
                );
            }
        }
    }

    /// The limits some fields put on top of their type: replica counts are
    /// 0–1000, and some durations must be positive. Reports E0303 when `val`
    /// breaks them.
    fn within_limits(&mut self, field: &str, val: &Val) -> bool {
        const MAX_REPLICAS: i64 = 1000;
        const POSITIVE: &[&str] =
            &["expire_after", "retain", "scale_down_delay", "pause", "interval", "scrape_interval"];
        let mut ok = true;
        if matches!(field, "replicas" | "read_replicas") {
            let items: Vec<&Val> = match &val.v {
                V::Range(lo, hi) => std::iter::once(&**lo).chain(hi.as_deref()).collect(),
                _ => vec![val],
            };
            for item in items {
                if let V::Int(n) = item.v {
                    if n > MAX_REPLICAS {
                        self.diags.push(
                            Diagnostic::new(Code::E0303, format!("{n} is out of range"))
                                .label(item.span, format!("expected 0–{MAX_REPLICAS}"))
                                .help(format!("Replica counts go up to {MAX_REPLICAS}.")),
                        );
                        ok = false;
                    }
                }
            }
        }
        if POSITIVE.contains(&field) && matches!(val.v, V::Duration(0) | V::Pause(Some(0))) {
            self.diags.push(
                Diagnostic::new(Code::E0303, format!("`{field}` must be a positive duration"))
                    .label(val.span, "expected more than 0")
                    .help(format!("Give `{field}` a duration such as 30s, 5m or 1h, or leave it out.")),
            );
            ok = false;
        }
        ok
    }

    fn map(&mut self, block: &Block, ty: &Ty) -> Fields {
        let mut out = Fields::with_capacity_and_hasher(block.fields.len(), Default::default());
        for field in &block.fields {
            if let Some((first, _)) = out.get(&field.key.name) {
                self.diags.push(
                    Diagnostic::new(Code::E0207, format!("`{}` is given twice", field.key.name))
                        .label(field.key.span, "given again here")
                        .label(*first, "first given here"),
                );
                continue;
            }
            let val = self.value(&field.value, ty);
            out.insert(field.key.name.clone(), (field.key.span, val));
        }
        out
    }

    /// Resolves a name of the given kind, reporting it when unknown. Marks it used.
    pub fn resolve(&mut self, id: &ast::Ident, kind: RefKind) -> bool {
        if self.syms.get(kind, &id.name).is_some() {
            self.syms.mark_used(kind, &id.name);
            return true;
        }
        let other = self.syms.kind_of(&id.name);
        let mut d = Diagnostic::new(Code::E0201, format!("unknown {} `{}`", kind.word(), id.name));
        d = match other {
            Some(k) => {
                d.label(id.span, format!("this is {}, not {}", with_article(k.word()), with_article(kind.word())))
            }
            None => d.label(id.span, format!("no {} has this name", kind.word())),
        };
        if let Some(d) = std_import_help(d.clone(), kind, id) {
            self.diags.push(d);
            return false;
        }
        let names: Vec<&str> = self.syms.names(kind).collect();
        let fallback = if names.is_empty() {
            format!("Declare {} named `{}`.", with_article(kind.word()), id.name)
        } else {
            format!("Known {}s: {}.", kind.word(), names.join(", "))
        };
        self.diags.push(d.did_you_mean(id.span, &id.name, names, fallback));
        false
    }
}

/// When `id` names a declaration of a standard module that was not imported,
/// `d` with the help to import it (and the import as the fix).
fn std_import_help(d: Diagnostic, kind: RefKind, id: &ast::Ident) -> Option<Diagnostic> {
    let module = crate::load::std_home(kind.word(), &id.name)?;
    let top = Span { start: 0, end: 0, ..id.span };
    Some(
        d.help(format!("`{}` is declared in `{module}`; add `import \"{module}\"`.", id.name))
            .suggest(top, format!("import \"{module}\"\n")),
    )
}

/// A comparable size of a scalar, for range checks.
fn magnitude(v: &V) -> Option<f64> {
    Some(match v {
        V::Int(n) => *n as f64,
        V::Cpu(n) | V::Memory(n) | V::Duration(n) => *n as f64,
        V::Percent(p) => *p,
        V::Port(p) => *p as f64,
        _ => return None,
    })
}

fn memory_factor(u: Unit) -> Option<u64> {
    Some(match u {
        Unit::Ki => 1 << 10,
        Unit::Mi => 1 << 20,
        Unit::Gi => 1 << 30,
        Unit::Ti => 1 << 40,
        Unit::K => 1_000,
        Unit::Mega => 1_000_000,
        Unit::G => 1_000_000_000,
        _ => return None,
    })
}

fn duration_factor(u: Unit) -> Option<u64> {
    Some(match u {
        Unit::Ms => 1,
        Unit::S => 1_000,
        Unit::M => 60_000,
        Unit::H => 3_600_000,
        Unit::D => 86_400_000,
        Unit::W => 7 * 86_400_000,
        _ => return None,
    })
}

/// E0305 at a string holding a control character.
fn control_character(value: &ast::Value) -> Diagnostic {
    Diagnostic::new(Code::E0305, "control character in a single-line value")
        .label(value.span, "this string holds a newline, tab or other control character")
}

/// Why a string cannot be a single-line value (or, with `path`, a
/// relative path inside a tree): generated files could change structure
/// or point outside their tree. Interpolated names are checked elsewhere.
fn unsafe_text(parts: &[ast::StrPart], path: bool, value: &ast::Value) -> Option<Diagnostic> {
    let lits: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            ast::StrPart::Lit(s) => Some(s.as_str()),
            ast::StrPart::Interp(_) => None,
        })
        .collect();
    if lits.iter().any(|s| s.chars().any(char::is_control)) {
        return Some(control_character(value));
    }
    let text = lits.concat();
    if path && (text.starts_with('/') || text.split(['/', '\\']).any(|seg| seg == "..")) {
        return Some(
            Diagnostic::new(Code::E0306, format!("`{text}` leaves its tree"))
                .label(value.span, "an absolute path or a `..` segment"),
        );
    }
    None
}

/// E0331/E0332 at a host name or URL path with characters that do not
/// belong there. Only the literal parts are checked: an interpolated value
/// is checked where it is written.
fn web_text(parts: &[ast::StrPart], ty: &Ty, value: &ast::Value) -> Option<Diagnostic> {
    let lits = || {
        parts.iter().filter_map(|p| match p {
            ast::StrPart::Lit(s) => Some(s.as_str()),
            ast::StrPart::Interp(_) => None,
        })
    };
    let first = match parts.first() {
        Some(ast::StrPart::Lit(s)) => Some(s.as_str()),
        _ => None,
    };
    match ty {
        Ty::Host => {
            let body = first.and_then(|s| s.strip_prefix("*.")).map_or(0, |_| 2);
            let bad = lits().enumerate().any(|(i, s)| {
                let s = if i == 0 && first.is_some() { &s[body..] } else { s };
                s.chars().any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
                    // An empty label. (A dot at either end is left alone: an
                    // interpolation the parser dropped may have stood there.)
                    || s.contains("..")
            });
            bad.then(|| {
                Diagnostic::new(Code::E0331, format!("`{}` is not a DNS host name", lits().collect::<String>()))
                    .label(
                        value.span,
                        "only lowercase letters, digits and `-`, in labels between single dots (and `*.` first)",
                    )
                    .help("Write a lowercase DNS name such as \"api.example.com\" or \"api.${env.domain}\".")
            })
        }
        Ty::UrlPath => {
            let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~/%?=&+:@,".contains(c);
            let bad = lits().any(|s| !s.chars().all(allowed)) || first.is_some_and(|s| !s.starts_with('/'));
            bad.then(|| {
                Diagnostic::new(Code::E0332, format!("`{}` is not an absolute URL path", lits().collect::<String>()))
                    .label(value.span, "a path starts with `/` and holds letters, digits and `-._~/%?=&+:@,`")
                    .help("Write a path such as \"/\", \"/api\" or \"/healthz\"; percent-encode other characters.")
            })
        }
        _ => None,
    }
}

/// Why `name` is not a branch name git accepts (`git check-ref-format
/// --branch`), or `None`. Branch names reach workflow filters, `if:`
/// conditions, Groovy and shell: refusing what git refuses also keeps
/// quotes, spaces and `${{` out of them.
fn branch_problem(name: &str) -> Option<&'static str> {
    const FORBIDDEN: &[char] = &[' ', '~', '^', ':', '?', '*', '[', '\\', '\'', '"', '`', '$', '{', '}'];
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.chars().any(|c| c.is_control() || FORBIDDEN.contains(&c)) {
        return Some("it holds a space, a quote or one of ~ ^ : ? * [ \\ $ { }");
    }
    if name.starts_with('-') || name == "@" || name.contains("@{") {
        return Some("it starts with `-`, is `@` or holds `@{`");
    }
    if name.contains("..") || name.ends_with('.') {
        return Some("it holds `..` or ends with `.`");
    }
    if name.split('/').any(|c| c.is_empty() || c.starts_with('.') || c.ends_with(".lock")) {
        return Some("a `/`-separated part is empty, starts with `.` or ends with `.lock`");
    }
    None
}

/// Why GitHub, Jenkins and GitLab would read a branch name or pattern
/// differently: the characters GitHub's filters treat as pattern syntax
/// (`+`, `!`, `[`, `]`, `?`), which deployc does not translate.
fn special_problem(name: &str) -> Option<&'static str> {
    if name.contains(['+', '!', '[', ']', '?']) {
        return Some("GitHub's branch filters read `+`, `!`, `[`, `]` and `?` as pattern syntax");
    }
    None
}

/// Why a branch pattern (a name holding `*`) cannot be translated to the
/// same set of branches in GitHub filters, a Jenkins Ant glob and a GitLab
/// regex: `*` matches within one `/`-separated part, and `**` only as the
/// last part (any rest, `/` included).
pub(crate) fn pattern_problem(pattern: &str) -> Option<&'static str> {
    if pattern.contains("***") {
        return Some("it holds `***`");
    }
    let parts: Vec<&str> = pattern.split('/').collect();
    let last = parts.len() - 1;
    if parts.iter().enumerate().any(|(i, p)| p.contains("**") && (*p != "**" || i != last)) {
        return Some("`**` may only be the whole last `/`-separated part (\"feature/**\")");
    }
    if let Some(why) = special_problem(pattern) {
        return Some(why);
    }
    // The literal parts must be what a branch name may hold.
    branch_problem(&pattern.replace('*', "x"))
}

/// E0603 at a branch pattern deployc cannot translate.
fn bad_pattern(pattern: &str, why: &str, value: &ast::Value) -> Diagnostic {
    Diagnostic::new(Code::E0603, format!("`{pattern}` is not a branch pattern deployc can translate"))
        .label(value.span, why.to_string())
        .help("Use `*` within one `/`-separated part (\"release/*\") or `**` as the whole last part (\"feature/**\"), with branch-name characters in between.")
}

/// E0330 at a branch name git would refuse.
fn bad_branch(name: &str, why: &str, value: &ast::Value) -> Diagnostic {
    Diagnostic::new(Code::E0330, format!("`{name}` is not a valid branch name"))
        .label(value.span, why.to_string())
        .help("Write the branch as git names it, e.g. \"main\", \"develop\" or \"release/1.2\".")
}

/// The first field of a five-field cron expression outside its range, named.
pub(crate) fn cron_out_of_range(cron: &str) -> Option<String> {
    const FIELDS: [(&str, u32, u32); 5] =
        [("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)];
    const NAMES: [&[&str]; 5] = [
        &[],
        &[],
        &[],
        &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ];
    for (i, field) in cron.split_whitespace().enumerate() {
        let (name, lo, hi) = FIELDS[i];
        let number_ok = |t: &str| {
            t.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
                || NAMES[i].contains(&t.to_ascii_lowercase().as_str())
        };
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            let range_ok = range == "*"
                || match range.split_once('-') {
                    Some((a, b)) => number_ok(a) && number_ok(b),
                    None => number_ok(range),
                };
            let step_ok = step.is_none_or(|s| s.parse::<u32>().is_ok_and(|n| n >= 1 && n <= hi.max(1)));
            if !range_ok || !step_ok {
                return Some(format!("{name} `{item}` (allowed {lo}-{hi})"));
            }
        }
    }
    None
}

#[cfg(test)]
mod cron_tests {
    use super::cron_out_of_range;

    #[test]
    fn cron_fields_are_checked_against_their_ranges() {
        for ok in ["0 3 * * *", "*/15 0-6 1,15 * mon-fri", "59 23 31 12 7", "0 0 * jan sun"] {
            assert_eq!(cron_out_of_range(ok), None, "{ok}");
        }
        for bad in ["99 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "*/0 * * * *", "a * * * *"] {
            assert!(cron_out_of_range(bad).is_some(), "{bad}");
        }
    }
}
