//! The checker: names, types, units and the rules of the brief, turning the
//! syntax trees of a [`Program`] into a [`Model`] and its [`Graph`].
//!
//! It runs in passes that each report everything they find: declarations are
//! collected into a symbol table ([`symbols`]), every body is checked against
//! its schema ([`schema`], [`value`]), the model is built ([`lower`]) and the
//! whole-program rules run over it ([`rules`]).
//!
//! **Invariant:** the checker never panics and never stops at the first
//! error; a model is returned only when there are no errors.

pub mod alarms;
pub mod clouds;
pub mod edge;
pub mod lower;
pub mod metrics;
pub mod preset;
pub mod risk;
pub mod rules;
pub mod schema;
pub mod standby;
pub mod symbols;
pub mod value;
pub mod volumes;

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::graph::Graph;
use crate::load::Program;
use crate::model::Model;
use crate::source::Span;
use crate::syntax::ast::{self, DeclBody, Ident, Item};
use schema::{DeclShape, RefKind};
use symbols::{Sym, Symbols};
use value::{Cx, Fields, V};

/// One declaration after its body was checked.
#[derive(Clone, Debug)]
pub struct Checked {
    pub keyword: String,
    pub name: Option<Ident>,
    /// The tag of a tagged declaration, with its span.
    pub tag: Option<(String, Span)>,
    pub fields: Fields,
    pub span: Span,
    pub is_std: bool,
}

impl Checked {
    /// Where to point for the declaration as a whole: its name, else its keyword.
    pub fn anchor(&self) -> Span {
        self.name
            .as_ref()
            .map(|n| n.span)
            .unwrap_or(Span { end: self.span.start + self.keyword.len() as u32, ..self.span })
    }
    pub fn name(&self) -> &str {
        self.name.as_ref().map(|n| n.name.as_str()).unwrap_or("")
    }
}

/// Declarations per piece of the parallel check: enough that a piece
/// outweighs handing it to a thread, few enough to share the work evenly.
const DECLS_PER_PIECE: usize = 64;

/// Checks a loaded program. Returns the model and graph when there are no errors.
pub fn check(program: &Program, diags: &mut Diagnostics) -> Option<(Model, Graph)> {
    let mut syms = Symbols::default();
    let decls = collect(program, &mut syms, diags);
    // Each declaration is checked on its own: pieces of them run on all
    // cores, their results and diagnostics joined in declaration order.
    let pieces: Vec<&[(&ast::Decl, bool)]> = decls.chunks(DECLS_PER_PIECE).collect();
    let done = crate::par::map(&pieces, |piece| {
        let mut diags = Diagnostics::default();
        let mut cx = Cx { syms: &syms, diags: &mut diags };
        let checked: Vec<Checked> = piece.iter().filter_map(|(d, is_std)| check_decl(&mut cx, d, *is_std)).collect();
        (checked, diags)
    });
    let mut checked = Vec::with_capacity(decls.len());
    for (c, d) in done {
        checked.extend(c);
        diags.extend(d);
    }
    preset::apply(&mut Cx { syms: &syms, diags }, &mut checked);
    let (mut model, extra) = lower::lower(&checked, diags)?;
    secret_refs(&checked, &mut model.sealed);
    // The whole-program rules run even after earlier errors, on a model built
    // with defaults, so one run reports everything; they skip what an earlier
    // error already explains.
    let graph = Graph::build(&model);
    rules::whole_program(&model, &graph, &extra, diags);
    edge::check(&model, diags);
    volumes::check(&model, diags);
    risk::check(&model, diags);
    standby::check(&model, diags);
    clouds::clouds(&model, diags);
    maintenance(&model, diags);
    if diags.has_errors() {
        return None;
    }
    // Unused names are only worth a warning once every reference resolved.
    rules::unused(&syms, diags);
    if crate::exits_after_compiling() {
        // Freeing them costs a tenth of checking a large program.
        std::mem::forget((checked, decls, syms));
    }
    Some((model, graph))
}

/// Update pull requests are Dependabot's, which only runs for a repository
/// on GitHub (W0019).
fn maintenance(model: &crate::model::Model, diags: &mut crate::diagnostic::Diagnostics) {
    use crate::codes::Code;
    let Some(m) = &model.pipeline.maintenance else { return };
    if model.repository_on_github() {
        return;
    }
    if let Some(span) = m.span {
        diags.push(
            crate::diagnostic::Diagnostic::new(Code::W0019, "no update pull requests: the repository is not on GitHub")
                .label(span, "written as `.github/dependabot.yml`, which only GitHub reads")
                .label_opt(model.project.span, "the project's repository")
                .help(Code::W0019.info().help),
        );
    }
}

/// Where the program first reads each secret and each resource's
/// attributes, and the span of the secret store's `dir`: diagnostics about
/// a sealed file point there.
fn secret_refs(checked: &[Checked], out: &mut crate::model::Sealed) {
    fn walk(key: &str, v: &value::Val, out: &mut crate::model::Sealed) {
        match &v.v {
            V::Secret { name, .. } => {
                out.secret_refs.entry(name.clone()).or_insert(v.span);
            }
            V::Attr(r) => {
                if let crate::model::AttrTarget::Resource(name) = &r.target {
                    out.resource_refs.entry(name.clone()).or_insert(v.span);
                }
            }
            V::Str(t) => {
                for p in &t.parts {
                    if let crate::model::TPart::Ref(crate::model::AttrRef {
                        target: crate::model::AttrTarget::Resource(name),
                        ..
                    }) = p
                    {
                        out.resource_refs.entry(name.clone()).or_insert(v.span);
                    }
                }
                // `pull_secrets = ["registry-credentials"]` names a Secret.
                if key == "pull_secrets" {
                    if let Some(name) = t.as_literal() {
                        out.secret_refs.entry(name).or_insert(v.span);
                    }
                }
            }
            V::Range(a, b) => {
                walk(key, a, out);
                if let Some(b) = b {
                    walk(key, b, out);
                }
            }
            V::List(items) => items.iter().for_each(|i| walk(key, i, out)),
            V::Map(fs) | V::Tagged(_, fs) | V::Struct(fs) => {
                for (k, (_, v)) in fs {
                    walk(k, v, out);
                }
            }
            _ => {}
        }
    }
    for c in checked.iter().filter(|c| !c.is_std) {
        for (k, (_, v)) in &c.fields {
            walk(k, v, out);
        }
        if c.keyword == "project" {
            if let Some((_, v)) = c.fields.get("secret_store") {
                if let V::Tagged(_, fs) = &v.v {
                    out.dir_span = fs.get("dir").map(|(_, v)| v.span);
                }
            }
        }
    }
}

/// Pass 1: every declaration into the symbol table; duplicates and unknown keywords reported.
fn collect<'p>(program: &'p Program, syms: &mut Symbols, diags: &mut Diagnostics) -> Vec<(&'p ast::Decl, bool)> {
    let mut out = Vec::new();
    let mut project: Option<Span> = None;
    let mut singletons: Vec<(String, Span)> = Vec::new();
    for module in &program.modules {
        for item in &module.ast.items {
            let Item::Decl(d) = item else { continue };
            let kw = d.keyword.name.as_str();
            let Some(shape) = schema::decl_shape(kw) else {
                diags.push(
                    Diagnostic::new(Code::E0007, format!("unknown declaration `{kw}`"))
                        .label(d.keyword.span, "not a declaration keyword")
                        .did_you_mean(
                            d.keyword.span,
                            kw,
                            crate::syntax::parser::KEYWORDS.iter().copied(),
                            Code::E0007.info().help,
                        ),
                );
                continue;
            };
            match shape {
                DeclShape::Singleton(_) => {
                    if let Some(n) = &d.name {
                        diags.push(
                            Diagnostic::new(Code::E0003, format!("`{kw}` takes no name"))
                                .label(n.span, "remove this name")
                                .help(format!("Write `{kw} {{ ... }}`; there is one per program.")),
                        );
                    }
                    if let Some((_, first)) = singletons.iter().find(|(k, _)| k == kw) {
                        diags.push(
                            Diagnostic::new(
                                Code::E0202,
                                format!("`{kw}` is declared twice{}", also_in(program, d.keyword.span, *first)),
                            )
                            .label(d.keyword.span, "declared again here")
                            .label(*first, "first declared here")
                            .help(format!("Merge the two `{kw}` blocks into one.")),
                        );
                        continue;
                    }
                    singletons.push((kw.to_string(), d.keyword.span));
                }
                DeclShape::Named(_) | DeclShape::NamedTagged(_) => {
                    let Some(name) = &d.name else {
                        if kw == "project" && project.is_none() {
                            // A project is there, only its name is missing: no E0209 too.
                            project = Some(d.keyword.span);
                        }
                        diags.push(
                            Diagnostic::new(Code::E0003, format!("`{kw}` needs a name"))
                                .label(d.keyword.span, "name missing after this")
                                .help(format!("Write `{kw} NAME ...`.")),
                        );
                        continue;
                    };
                    if kw == "project" {
                        if let Some(first) = project {
                            diags.push(
                                Diagnostic::new(
                                    Code::E0209,
                                    format!("more than one project{}", also_in(program, name.span, first)),
                                )
                                .label(name.span, "second project here")
                                .label(first, "first project here"),
                            );
                            continue;
                        }
                        project = Some(name.span);
                    } else if let Some(kind) = RefKind::from_keyword(kw) {
                        let tag = match &d.body {
                            DeclBody::Value(v) => match &v.kind {
                                ast::ValueKind::Path { segments, .. } => segments[0].name.clone(),
                                _ => String::new(),
                            },
                            DeclBody::Block(_) => String::new(),
                        };
                        let sym = Sym {
                            span: name.span,
                            from_std: module.is_std,
                            tag,
                            used: Default::default(),
                            decl: out.len(),
                        };
                        if let Err(first) = syms.insert(kind, &name.name, sym) {
                            diags.push(duplicate(program, kw, name, module.is_std, first));
                            continue;
                        }
                    }
                }
            }
            out.push((d, module.is_std));
        }
    }
    if project.is_none() {
        let root = program.modules.iter().rfind(|m| !m.is_std).map(|m| m.source).unwrap_or_default();
        diags.push(
            Diagnostic::new(Code::E0209, "the program declares no project")
                .label(Span::new(root, 0, 0), "expected `project NAME { ... }` in this program"),
        );
    }
    out
}

/// ` (also in `file`)` when `other` is in another file than `here`: miette
/// only draws the labels of the primary file, so the message names the other.
fn also_in(program: &Program, here: Span, other: Span) -> String {
    if here.file == other.file {
        String::new()
    } else {
        format!(" (also in `{}`)", program.sources.get(other.file).name)
    }
}

/// E0202 for a second declaration `name` (in a std module when `is_std`) of a
/// name already declared as `first`. The primary label goes on the user's own
/// declaration: a name from a standard module cannot be changed.
fn duplicate(program: &Program, kw: &str, name: &Ident, is_std: bool, first: &Sym) -> Diagnostic {
    let (primary, other, std_side) = match (first.from_std, is_std) {
        (false, true) => (first.span, name.span, true),
        (true, false) => (name.span, first.span, true),
        _ => (name.span, first.span, false),
    };
    let d = Diagnostic::new(
        Code::E0202,
        format!("{kw} `{}` is defined twice{}", name.name, also_in(program, primary, other)),
    );
    if std_side {
        let module = &program.sources.get(other.file).name;
        d.label(primary, format!("clashes with the {kw} of `{module}`"))
            .label(other, "also defined here")
            .help("Rename yours; names from standard modules cannot be changed.")
    } else {
        d.label(primary, "defined again here").label(other, "first defined here")
    }
}

/// Pass 2: one declaration's body against its schema.
fn check_decl(cx: &mut Cx, d: &ast::Decl, is_std: bool) -> Option<Checked> {
    let shape = schema::decl_shape(&d.keyword.name)?;
    let anchor = d.name.as_ref().map(|n| n.span).unwrap_or(d.keyword.span);
    let (tag, fields) = match (shape, &d.body) {
        // A service's required fields may come from its preset: `preset::apply`
        // checks them after merging. A preset requires nothing.
        (DeclShape::Named(specs), DeclBody::Block(b)) if matches!(d.keyword.name.as_str(), "service" | "preset") => {
            (None, cx.fields_only(b, specs))
        }
        (DeclShape::Named(specs) | DeclShape::Singleton(specs), DeclBody::Block(b)) => {
            (None, cx.fields(b, specs, anchor))
        }
        (DeclShape::NamedTagged(variants), DeclBody::Value(v)) => match cx.tagged(v, variants) {
            V::Tagged(tag, fields) => {
                let tag_span = match &v.kind {
                    ast::ValueKind::Path { segments, .. } => segments[0].span,
                    _ => v.span,
                };
                (Some((tag, tag_span)), fields)
            }
            _ => return None,
        },
        (DeclShape::NamedTagged(variants), DeclBody::Block(b)) => {
            let tags: Vec<&str> = variants.iter().map(|v| v.tag).collect();
            cx.diags.push(
                Diagnostic::new(Code::E0003, format!("`{}` needs a kind: `= {} {{ ... }}`", d.keyword.name, tags[0]))
                    .label(
                        b.span.to(Span { end: b.span.start + 1, ..b.span }),
                        "expected `=` and a kind before the block",
                    )
                    .help(format!(
                        "Write `{} {} = {} {{ ... }}`; kinds: {}.",
                        d.keyword.name,
                        d.name.as_ref().map(|n| n.name.as_str()).unwrap_or("NAME"),
                        tags[0],
                        tags.join(", ")
                    )),
            );
            return None;
        }
        (_, DeclBody::Value(v)) => {
            cx.diags.push(
                Diagnostic::new(Code::E0003, format!("`{}` takes a block, not `= value`", d.keyword.name))
                    .label(v.span, "expected `{ ... }`")
                    .help(format!(
                        "Write `{} {} {{ ... }}`.",
                        d.keyword.name,
                        d.name.as_ref().map(|n| n.name.as_str()).unwrap_or("")
                    )),
            );
            return None;
        }
    };
    Some(Checked { keyword: d.keyword.name.clone(), name: d.name.clone(), tag, fields, span: d.span, is_std })
}
