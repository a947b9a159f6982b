//! The generated half of the language reference.
//!
//! [`markdown`] renders every declaration keyword, field, type, default and
//! doc string as Markdown tables, built only from the static tables in
//! [`crate::check::schema`], so the reference cannot describe a language the
//! checker does not accept. grammar/README.md embeds the output between its
//! `<!-- BEGIN GENERATED REFERENCE -->` and `<!-- END GENERATED REFERENCE -->`
//! markers; `tests/reference.rs` fails when the two drift apart, and
//! `UPDATE_REFERENCE=1 cargo test --test reference` rewrites the section.
//!
//! The output is deterministic: tables are walked in schema order and nothing
//! is hashed.

use crate::check::schema::{
    self, DeclShape, FieldSpec, RefKind, Ty, Variant, ANALYSIS, ENV_ATTRS, GATE_TOOLS, PROJECT_ATTRS, RESOURCES,
    SERVICE_ATTRS,
};
use std::fmt::Write as _;

/// The declaration keywords, in the order the reference documents them (the parser's order).
use crate::syntax::parser::KEYWORDS;

/// Renders the field reference as Markdown. Headings start at level 3 so the
/// text can sit under a level-2 heading of the hand-written reference.
pub fn markdown() -> String {
    let mut g = Gen::default();
    g.legend();
    for kw in KEYWORDS {
        if let Some(shape) = schema::decl_shape(kw) {
            g.declaration(kw, &shape);
        }
    }
    g.gate_tools();
    g.attributes();
    let mut out = g.out.trim_end().to_string();
    out.push('\n');
    out
}

/// A table the reference documents in its own section.
#[derive(Clone, Copy)]
enum Block {
    Fields(&'static [FieldSpec]),
    Variants(&'static [Variant]),
}

impl Block {
    /// Identity of the static table, so a table used in several places (the
    /// probes of `health` and `readiness`, the backups of every database) is
    /// documented once and referred to afterwards.
    fn key(self) -> Option<usize> {
        match self {
            Block::Fields(f) if !f.is_empty() => Some(f.as_ptr() as usize),
            Block::Variants(v) if !v.is_empty() => Some(v.as_ptr() as usize | 1),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Gen {
    out: String,
    /// Tables already given a section: identity and section path.
    seen: Vec<(usize, String)>,
}

impl Gen {
    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn legend(&mut self) {
        self.line("### Reading the tables");
        self.line("");
        self.line(
            "Each declaration lists its fields. *required* fields have no default; every other \
             field may be left out, and the *default* column says what deployc assumes then \
             (code-formatted defaults are written as in a program, the others are described). \
             A field whose value is a block or a kind has its own table, named by its path, \
             e.g. `service.build`. The type names mean:",
        );
        self.line("");
        self.line("| type | accepts |");
        self.line("| --- | --- |");
        let rows: &[(&str, &str)] = &[
            ("string", "`\"text\"`, with `${...}` interpolation"),
            ("whole number", "`3` (no unit, no fraction)"),
            ("bool", "`true` or `false`"),
            ("port", "a whole number 1–65535"),
            ("cpu", "`250m` (millicores), `1`, `1.5` (cores)"),
            ("memory", "`512Mi`, `1Gi`, `1Ti`, `500M`, `1G`, `64Ki`, `1000K`"),
            ("duration", "`500ms`, `30s`, `5m`, `6h`, `30d`, `1w` (and a bare `0`)"),
            ("percentage", "`10%`, at most `100%`"),
            ("*X* range", "one *X*, or `min..max` (cpu and memory: request..limit; replicas: an autoscaler)"),
            ("list of *X*", "`[a, b, c]`"),
            ("map of *X*", "a block `{ KEY = X ... }` with free keys"),
            ("block keyed by *kind* name", "a block whose keys name declarations of that kind"),
            ("name of a *kind*", "the name of a declaration of that kind"),
            ("one of: *a, b*", "exactly one of the listed names"),
            ("block", "`{ field = value ... }`, see the table named by the field's path"),
            ("kind, one of: *a, b*", "`a` or `a { field = value ... }`, see the table named by the field's path"),
            (
                "strategy",
                "the name of a `strategy` declaration, or an inline `rolling`, `canary { ... }`, `blue_green { ... }`",
            ),
            ("analysis", "a metrics provider name (`prometheus`, `newrelic`, `datadog`) or an analysis block"),
            ("env value", "a string (may interpolate), number, bool, reference such as `db.url`, or `secret(...)`"),
            ("secret", "`secret(\"name\")` or `secret(\"name\", key = \"k\")`"),
            (
                "promotion",
                "`on_push(\"branch\")`, `on_push(\"main\", \"release/*\")` (branches and patterns), `on_push()` (the project's branch), `on_tag(\"v*\")`, `manual(from = ENV)`",
            ),
            ("trigger", "`pull_request`, `push`, `push(\"main\")`, `tag(\"v*\")`, `schedule(\"0 3 * * *\")`, `manual`"),
            ("canary step", "a weight `10%`, `pause(5m)`, `pause(manual)`, `pause()`, or `analysis`"),
            ("pause", "a duration, or `manual` (wait for a promotion)"),
            ("surge", "a percentage `25%` or a pod count `1`"),
        ];
        for (t, a) in rows {
            self.line(&format!("| {t} | {} |", esc(a)));
        }
        self.line("");
    }

    fn declaration(&mut self, kw: &str, shape: &DeclShape) {
        self.line(&format!("### `{kw}`"));
        self.line("");
        match shape {
            // A preset takes a service's table, with nothing required.
            DeclShape::Named(fields) if kw == "preset" && std::ptr::eq(*fields, schema::SERVICE) => {
                let excluded: Vec<&str> = schema::PRESET_EXCLUDED.iter().map(|(f, _)| *f).collect();
                self.line(&format!(
                    "Written `preset NAME {{ ... }}`. Takes every field of `service` except {}, none of \
                     them required; see the precedence under `preset` above.",
                    code_list(&excluded)
                ));
                self.line("");
            }
            DeclShape::Named(fields) => {
                self.line(&format!("Written `{kw} NAME {{ ... }}`."));
                self.line("");
                self.fields_section(kw, fields);
            }
            DeclShape::Singleton(fields) => {
                self.line(&format!("Written `{kw} {{ ... }}`, without a name, at most once per program."));
                self.line("");
                self.fields_section(kw, fields);
            }
            DeclShape::NamedTagged(variants) => {
                let tags: Vec<&str> = variants.iter().map(|v| v.tag).collect();
                self.line(&format!(
                    "Written `{kw} NAME = KIND {{ ... }}`, or `{kw} NAME = KIND` when no field is \
                     needed. Kinds: {}.",
                    code_list(&tags)
                ));
                self.line("");
                let shared = variants
                    .first()
                    .filter(|first| variants.len() > 1 && variants.iter().all(|v| std::ptr::eq(v.fields, first.fields)))
                    .map(|first| first.fields);
                match shared {
                    Some(fields) => {
                        self.line("Every kind takes the same fields:");
                        self.line("");
                        self.fields_section(kw, fields);
                    }
                    None => {
                        for v in variants.iter() {
                            self.line(&format!("#### `{kw} NAME = {}`", v.tag));
                            self.line("");
                            if !v.doc.is_empty() {
                                self.line(&format!("{}.", sentence(v.doc)));
                                self.line("");
                            }
                            self.fields_section(&format!("{kw}.{}", v.tag), v.fields);
                        }
                    }
                }
            }
        }
    }

    /// A field table, then a section for each block or kind it leads to.
    fn fields_section(&mut self, path: &str, fields: &'static [FieldSpec]) {
        if fields.is_empty() {
            self.line("No fields.");
            self.line("");
            return;
        }
        let mut pending: Vec<(String, Block, &'static FieldSpec)> = Vec::new();
        let mut rows = Vec::new();
        for spec in fields {
            let mut ty = ty_text(&spec.ty);
            if let Some((block, suffix)) = block_of(&spec.ty) {
                let sub = format!("{path}.{}{suffix}", spec.name);
                match block.key().and_then(|k| self.path_of(k)) {
                    Some(earlier) => {
                        let _ = write!(ty, ", see `{earlier}`");
                    }
                    None => {
                        if let Some(k) = block.key() {
                            self.seen.push((k, sub.clone()));
                        }
                        let _ = write!(ty, ", see `{sub}`");
                        pending.push((sub, block, spec));
                    }
                }
            }
            if matches!(spec.ty, Ty::Strategy) {
                ty.push_str(", see `strategy`");
            }
            rows.push(format!(
                "| `{}` | {} | {} | {} | {} |",
                spec.name,
                esc(&ty),
                if spec.required { "yes" } else { "no" },
                default_text(spec.default),
                esc(spec.doc),
            ));
        }
        self.line("| field | type | required | default | description |");
        self.line("| --- | --- | --- | --- | --- |");
        for r in rows {
            self.line(&r);
        }
        self.line("");
        for (sub, block, spec) in pending {
            self.line(&format!("#### `{sub}`"));
            self.line("");
            match block {
                Block::Fields(fields) => {
                    self.line(&format!("{}.", sentence(spec.doc)));
                    self.line("");
                    self.fields_section(&sub, fields);
                }
                Block::Variants(variants) => {
                    let tags: Vec<&str> = variants.iter().map(|v| v.tag).collect();
                    self.line(&format!(
                        "{}: one of {}, written `{} = KIND` or `{} = KIND {{ ... }}`.",
                        sentence(spec.doc),
                        code_list(&tags),
                        spec.name,
                        spec.name
                    ));
                    self.line("");
                    for v in variants.iter() {
                        self.line(&format!("##### `{}`", v.tag));
                        self.line("");
                        if !v.doc.is_empty() {
                            self.line(&format!("{}.", sentence(v.doc)));
                            self.line("");
                        }
                        self.fields_section(&format!("{sub}.{}", v.tag), v.fields);
                    }
                }
            }
        }
    }

    fn path_of(&self, key: usize) -> Option<String> {
        self.seen.iter().find(|(k, _)| *k == key).map(|(_, p)| p.clone())
    }

    fn gate_tools(&mut self) {
        self.line("### Gate tools");
        self.line("");
        self.line(
            "The tool a gate runs (`gate NAME = TOOL`), the kind the gate defaults to, and the \
             toolchain families whose services the tool can check. A gate whose tool is limited \
             to some families fails with E0601 when its `services` name a service of another \
             family, or, when it covers all services, when no service is of one of them.",
        );
        self.line("");
        self.line("| tool | kind | languages |");
        self.line("| --- | --- | --- |");
        for (tool, kind, families) in GATE_TOOLS {
            let langs = if families.is_empty() { "any".to_string() } else { families.join(", ") };
            self.line(&format!("| `{tool}` | {kind} | {langs} |"));
        }
        self.line("");
    }

    fn attributes(&mut self) {
        self.line("### Reference attributes");
        self.line("");
        self.line(
            "What `NAME.ATTRIBUTE` may read, in environment variables (`DB = db.url`) and in \
             string interpolation (`\"https://${env.domain}\"`).",
        );
        self.line("");
        self.line("| target | attributes |");
        self.line("| --- | --- |");
        self.line(&format!("| `project` | {} |", code_list(PROJECT_ATTRS)));
        self.line(&format!("| `env` (the environment being deployed) | {} |", code_list(ENV_ATTRS)));
        self.line(&format!("| a {} | {} |", RefKind::Service.word(), code_list(SERVICE_ATTRS)));
        for v in RESOURCES {
            let attrs = schema::resource_attrs(v.tag);
            if !attrs.is_empty() {
                self.line(&format!("| a `{}` {} | {} |", v.tag, RefKind::Resource.word(), code_list(attrs)));
            }
        }
        self.line("");
    }
}

/// The table a type leads to, and the path suffix of its section.
fn block_of(ty: &Ty) -> Option<(Block, String)> {
    match ty {
        Ty::Struct(f) => Some((Block::Fields(f), String::new())),
        Ty::Tagged(v) => Some((Block::Variants(v), String::new())),
        Ty::Analysis => Some((Block::Fields(ANALYSIS), String::new())),
        Ty::Range(t) | Ty::OpenRange(t) => block_of(t),
        Ty::List(t) => block_of(t).map(|(b, s)| (b, format!("[]{s}"))),
        Ty::Map(t) => block_of(t).map(|(b, s)| (b, format!(".KEY{s}"))),
        Ty::Keyed(k, t) => block_of(t).map(|(b, s)| (b, format!(".<{}>{s}", k.word()))),
        _ => None,
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A type as a reader would say it: `cpu range`, `list of string`.
pub fn ty_text(ty: &Ty) -> String {
    match ty {
        Ty::Str => "string".into(),
        Ty::Text => "text".into(),
        Ty::RelPath => "relative path".into(),
        Ty::Branch => "branch name".into(),
        Ty::Host => "host name".into(),
        Ty::UrlPath => "URL path".into(),
        Ty::Int => "whole number".into(),
        Ty::Bool => "bool".into(),
        Ty::Port => "port".into(),
        Ty::Cpu => "cpu".into(),
        Ty::Memory => "memory".into(),
        Ty::Duration => "duration".into(),
        Ty::Percent => "percentage".into(),
        Ty::Range(t) => format!("{} range", ty_text(t)),
        Ty::OpenRange(t) => format!("{} range, upper bound optional", ty_text(t)),
        Ty::List(t) => match t {
            Ty::Enum(vs) => format!("list, each one of: {}", vs.join(", ")),
            Ty::Ref(k) => format!("list of {} names", k.word()),
            _ => format!("list of {}", ty_text(t)),
        },
        Ty::Map(t) => format!("map of {}", ty_text(t)),
        Ty::Keyed(k, _) => format!("block keyed by {} name", k.word()),
        Ty::Ref(k) => format!("name of {} {}", article(k.word()), k.word()),
        Ty::Enum(vs) => format!("one of: {}", vs.join(", ")),
        Ty::Struct(_) => "block".into(),
        Ty::Tagged(vs) => format!("kind, one of: {}", vs.iter().map(|v| v.tag).collect::<Vec<_>>().join(", ")),
        Ty::Strategy => "strategy".into(),
        Ty::Analysis => "analysis".into(),
        Ty::EnvValue => "env value".into(),
        Ty::Secret => "secret".into(),
        Ty::Promotion => "promotion".into(),
        Ty::Trigger => "trigger".into(),
        Ty::Step => "canary step".into(),
        Ty::Pause => "pause".into(),
        Ty::Surge => "surge".into(),
    }
}

/// Defaults written as in a program are code; described ones stay prose.
fn default_text(d: &str) -> String {
    if d.is_empty() {
        return "—".into();
    }
    let code =
        d.starts_with(['"', '[', '{']) || d.contains('{') || !(d.contains(char::is_whitespace) || d.contains('\''));
    if code {
        format!("`{}`", esc(d))
    } else {
        esc(d)
    }
}

/// `a`, `b`, `c`
fn code_list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// A doc string as the start of a sentence; `gRPC` and the like stay as they are.
fn sentence(doc: &str) -> String {
    let mut c = doc.chars();
    match (c.next(), c.clone().next()) {
        (Some(_), Some(second)) if second.is_uppercase() => doc.to_string(),
        (Some(first), _) => first.to_uppercase().chain(c).collect(),
        (None, _) => String::new(),
    }
}

/// Escapes a table cell.
fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_complete() {
        let a = markdown();
        assert_eq!(a, markdown());
        for kw in KEYWORDS {
            assert!(a.contains(&format!("### `{kw}`")), "{kw} missing");
        }
        for (tool, _, _) in GATE_TOOLS {
            assert!(a.contains(&format!("| `{tool}` |")), "{tool} missing");
        }
        assert!(a.contains("cpu range"));
        assert!(a.contains("one of: low, medium, high, critical"));
        assert!(a.contains("list of gate names"));
    }

    #[test]
    fn types_read_naturally() {
        assert_eq!(ty_text(&Ty::Ref(RefKind::Gate)), "name of a gate");
        assert_eq!(ty_text(&Ty::Ref(RefKind::Environment)), "name of an environment");
        assert_eq!(ty_text(&Ty::List(&Ty::Str)), "list of string");
        assert_eq!(default_text("service name"), "service name");
        assert_eq!(default_text("100m..500m"), "`100m..500m`");
        assert_eq!(default_text("service's"), "service's");
    }
}
