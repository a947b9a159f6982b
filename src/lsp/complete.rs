//! Completion: declaration keywords between declarations, the fields of the
//! block the cursor is in (from the schema, with their docs), and where a
//! value goes, what the schema expects there: declared names of the right
//! kind (services, environments, gates, strategies, ...), kinds, enum
//! values, calls, and the attributes of a reference after its dot.

use super::cursor::{self, Shape, Site, Want, Word};
use super::hover;
use super::workspace::{Analysis, DeclInfo, Workspace};
use crate::check::schema::{self, FieldSpec, RefKind, Ty, Variant};
use crate::syntax::parser::KEYWORDS;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, MarkupContent, MarkupKind, TextEdit, Url,
};

/// The completions at byte `offset` of the document `uri`.
pub fn complete(ws: &Workspace, uri: &Url, text: &str, offset: usize) -> Vec<CompletionItem> {
    let at = cursor::at(text, offset);
    let a = ws.analysis_for(uri).map(|(a, _)| a);
    // The typed part of the word is replaced, so names with `-` complete whole.
    let mut word = at.word.clone().map(|w| Word { end: offset.max(w.start), ..w }).unwrap_or(Word {
        text: String::new(),
        start: offset,
        end: offset,
    });
    let mut items = match &at.site {
        Site::TopLevel | Site::Keyword => keywords(),
        Site::Key { shape: Shape::Fields(specs), present } => {
            fields(specs).into_iter().filter(|i| !present.contains(&i.label)).collect()
        }
        Site::Key { shape: Shape::Keyed(kind, _), present } => a
            .map(|a| names(ws, a, *kind))
            .unwrap_or_default()
            .into_iter()
            .filter(|i| !present.contains(&i.label))
            .collect(),
        Site::Value { want } => values(ws, a, *want),
        Site::Attr { index: 0, .. } => a.map(|a| heads(ws, a)).unwrap_or_default(),
        Site::Attr { segments, index: _ } => match (a, segments.first()) {
            (Some(a), Some(head)) => hover::attributes(a, &head.text)
                .iter()
                .map(|attr| item(attr, CompletionItemKind::PROPERTY, Some(format!("{}.{attr}", head.text)), None))
                .collect(),
            _ => Vec::new(),
        },
        Site::Import { start, end, .. } => {
            // The whole path inside the quotes is replaced.
            let closed = *end > start + 1 && text[..*end].ends_with('"');
            word = Word { text: String::new(), start: start + 1, end: if closed { end - 1 } else { *end } };
            crate::load::STDLIB
                .iter()
                .map(|(m, _)| item(m, CompletionItemKind::MODULE, Some("standard module".into()), None))
                .collect()
        }
        Site::ArgName { call } if call == "manual" => vec![item("from", CompletionItemKind::PROPERTY, None, None)],
        Site::ArgName { call } if call == "secret" => vec![item("key", CompletionItemKind::PROPERTY, None, None)],
        _ => Vec::new(),
    };
    let ix = super::text::LineIndex::new(text);
    let range = ix.range(text, word.start, word.end);
    for (i, it) in items.iter_mut().enumerate() {
        let insert = it.insert_text.take().unwrap_or_else(|| it.label.clone());
        it.text_edit = Some(CompletionTextEdit::Edit(TextEdit { range, new_text: insert }));
        it.filter_text = Some(it.label.clone());
        it.sort_text.get_or_insert_with(|| format!("{i:04}"));
    }
    items
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>, doc: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        documentation: doc
            .map(|value| Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value })),
        ..Default::default()
    }
}

fn keywords() -> Vec<CompletionItem> {
    KEYWORDS
        .iter()
        .chain(["import"].iter())
        .map(|k| item(k, CompletionItemKind::KEYWORD, None, hover::keyword_blurb(k).map(str::to_string)))
        .collect()
}

/// A block's fields, required ones first, in schema order.
fn fields(specs: &'static [FieldSpec]) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut it = item(
                s.name,
                CompletionItemKind::FIELD,
                Some(crate::reference::ty_text(&s.ty)),
                Some(hover::field_doc(s)),
            );
            it.sort_text = Some(format!("{}{i:04}", if s.required { 0 } else { 1 }));
            it
        })
        .collect();
    out.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
    out
}

/// The declared names of one kind, each with its declaration as documentation.
fn names(ws: &Workspace, a: &Analysis, kind: RefKind) -> Vec<CompletionItem> {
    a.names(kind.word()).into_iter().filter_map(|d| decl_item(ws, a, d, kind_icon(kind))).collect()
}

fn decl_item(ws: &Workspace, a: &Analysis, d: &DeclInfo, kind: CompletionItemKind) -> Option<CompletionItem> {
    let name = d.name.as_deref()?;
    let detail = match &d.tag {
        Some(t) => format!("{} = {t}", d.keyword),
        None => d.keyword.clone(),
    };
    let mut it = item(name, kind, Some(detail), hover::decl_summary(ws, a, d));
    // The program's own names before the standard library's.
    it.sort_text = Some(format!("{}{name}", if d.is_std { 1 } else { 0 }));
    Some(it)
}

fn kind_icon(kind: RefKind) -> CompletionItemKind {
    match kind {
        RefKind::Service => CompletionItemKind::CLASS,
        RefKind::Resource => CompletionItemKind::STRUCT,
        RefKind::Environment => CompletionItemKind::MODULE,
        RefKind::Strategy => CompletionItemKind::ENUM,
        RefKind::Gate => CompletionItemKind::EVENT,
        RefKind::Integration => CompletionItemKind::INTERFACE,
        RefKind::Toolchain => CompletionItemKind::MODULE,
        RefKind::Preset => CompletionItemKind::CLASS,
    }
}

fn tags(variants: &[Variant], what: &str) -> Vec<CompletionItem> {
    variants
        .iter()
        .map(|v| item(v.tag, CompletionItemKind::ENUM_MEMBER, None, Some(hover::variant_doc(what, v))))
        .collect()
}

fn calls(names: &[(&str, &str)]) -> Vec<CompletionItem> {
    names
        .iter()
        .map(|(label, insert)| {
            let mut it = item(label, CompletionItemKind::FUNCTION, None, hover::call_doc(label).map(str::to_string));
            it.insert_text = Some(insert.to_string());
            it
        })
        .collect()
}

/// What may be written where a value of `want` goes.
fn values(ws: &Workspace, a: Option<&Analysis>, want: Want) -> Vec<CompletionItem> {
    let ty = match want {
        Want::Tags(vs) => return tags(vs, "kind"),
        Want::Ty(ty) => ty,
        Want::Unknown => return Vec::new(),
    };
    match ty {
        Ty::Ref(kind) => a.map(|a| names(ws, a, *kind)).unwrap_or_default(),
        Ty::Strategy => {
            let mut out = a.map(|a| names(ws, a, RefKind::Strategy)).unwrap_or_default();
            out.extend(tags(schema::STRATEGIES, "strategy kind"));
            out
        }
        Ty::Tagged(vs) => tags(vs, "kind"),
        Ty::Enum(options) => options.iter().map(|o| item(o, CompletionItemKind::ENUM_MEMBER, None, None)).collect(),
        Ty::Bool => ["true", "false"].iter().map(|b| item(b, CompletionItemKind::KEYWORD, None, None)).collect(),
        Ty::Analysis => ["prometheus", "newrelic", "datadog"]
            .iter()
            .map(|p| item(p, CompletionItemKind::ENUM_MEMBER, Some("metrics provider".into()), None))
            .collect(),
        Ty::EnvValue => {
            let mut out = a.map(|a| heads(ws, a)).unwrap_or_default();
            out.extend(calls(&[("secret", "secret(\"\")")]));
            out
        }
        Ty::Secret => calls(&[("secret", "secret(\"\")")]),
        Ty::Promotion => {
            calls(&[("on_push", "on_push(\"main\")"), ("on_tag", "on_tag(\"v*\")"), ("manual", "manual(from = )")])
        }
        Ty::Trigger => calls(&[
            ("pull_request", "pull_request"),
            ("push", "push(\"main\")"),
            ("tag", "tag(\"v*\")"),
            ("schedule", "schedule(\"0 3 * * *\")"),
            ("manual", "manual"),
        ]),
        Ty::Step => calls(&[("pause", "pause(5m)"), ("analysis", "analysis")]),
        Ty::Pause => {
            vec![item("manual", CompletionItemKind::KEYWORD, None, hover::call_doc("pause").map(str::to_string))]
        }
        Ty::Range(t) | Ty::OpenRange(t) | Ty::List(t) => values(ws, a, Want::Ty(t)),
        _ => Vec::new(),
    }
}

/// The heads of a reference: services, resources, `project`, `env`.
fn heads(ws: &Workspace, a: &Analysis) -> Vec<CompletionItem> {
    let mut out = names(ws, a, RefKind::Service);
    out.extend(names(ws, a, RefKind::Resource));
    for (name, doc) in [
        ("env", "the environment being deployed: `name`, `namespace`, `domain`"),
        ("project", "the project: `name`, `domain`, `repository`"),
    ] {
        let mut it = item(name, CompletionItemKind::VARIABLE, None, Some(doc.to_string()));
        it.sort_text = Some(format!("2{name}"));
        out.push(it);
    }
    out
}
