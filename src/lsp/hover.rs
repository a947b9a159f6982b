//! Hovers: what a keyword declares; a field's type, units, default and doc
//! (from [`crate::check::schema`]); what a name refers to (its declaration,
//! with the values the model resolved); what a reference such as `db.url`
//! becomes in each environment (resolved the way the Kubernetes manifests
//! resolve it).

use super::cursor::{self, At, Shape, Site, Want, Word};
use super::workspace::{Analysis, DeclInfo, Workspace};
use crate::check::schema::{self, FieldSpec, Ty, Variant};
use crate::model::{AttrRef, AttrTarget, Exposure, Model, Placement, Promotion, Replicas, StrategyKind};
use crate::plan::env::{resolve_attr, Source};
use crate::plan::{EnvPlan, Options};
use crate::reference::ty_text;
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Url};
use std::fmt::Write as _;

/// The hover at byte `offset` of the document `uri`.
pub fn hover(ws: &Workspace, uri: &Url, text: &str, offset: usize) -> Option<Hover> {
    let at = cursor::at(text, offset);
    let analysis = ws.analysis_for(uri).map(|(a, _)| a);
    let markdown = describe(ws, analysis, &at)?;
    let range = at.word.as_ref().map(|w| {
        let ix = super::text::LineIndex::new(text);
        ix.range(text, w.start, w.end)
    });
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }),
        range,
    })
}

fn describe(ws: &Workspace, a: Option<&Analysis>, at: &At) -> Option<String> {
    let word = at.word.as_ref().map(|w| w.text.as_str());
    match &at.site {
        Site::Keyword => keyword_doc(word?),
        Site::DeclName { keyword } => decl_summary(ws, a?, a?.decl(keyword, word?)?),
        Site::Key { shape, .. } => match shape {
            Shape::Fields(_) => Some(field_doc(shape.field(word?)?)),
            Shape::Keyed(kind, _) => decl_summary(ws, a?, a?.decl(kind.word(), word?)?),
            Shape::Map(_) | Shape::Unknown => None,
        },
        Site::Value { want } => value_doc(ws, a, *want, word?),
        Site::Attr { segments, index } => attr_doc(ws, a?, segments, *index),
        Site::ArgName { call } => call_doc(call).map(str::to_string),
        Site::Import { path, .. } => import_doc(a, path),
        Site::TopLevel | Site::Nothing => None,
    }
}

// ------------------------------------------------------------------ schema

/// What each declaration keyword introduces.
pub fn keyword_blurb(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "project" => "The project: repository, container registry, cloud, GitOps engine, DNS and secret store.",
        "service" => "A container workload built from the repository and deployed to every environment.",
        "resource" => "A backing resource services use: a database, a cache, a queue or a bucket.",
        "environment" => "A deployment target on the promotion path, with its strategy, gates and overrides.",
        "strategy" => "A named rollout strategy environments refer to: rolling, canary or blue-green.",
        "gate" => "A quality gate CI runs before a deployment: a scanner, linter or test step.",
        "integration" => "An external tool deployments report to: chat, tickets, paging, APM.",
        "pipeline" => "The CI pipeline: provider, triggers, platforms, image tags, pull-request checks.",
        "observability" => "Metrics, dashboards, alerts, tracing and logs.",
        "preset" => "Service fields several services share; a service starts from one with `extends = NAME`.",
        "toolchain" => "A language preset: the lint, type-check, test and build commands of a runtime.",
        "import" => "Loads another file (a path relative to this one) or a standard module (`std/...`).",
        _ => return None,
    })
}

fn keyword_doc(keyword: &str) -> Option<String> {
    let mut out = format!("**{keyword}** — {}\n\n", keyword_blurb(keyword)?);
    match schema::decl_shape(keyword) {
        Some(schema::DeclShape::Named(fields)) => {
            let _ = write!(out, "Written `{keyword} NAME {{ ... }}`. Fields: {}.", field_list(fields));
        }
        Some(schema::DeclShape::Singleton(fields)) => {
            let _ = write!(out, "Written `{keyword} {{ ... }}`, once per program. Fields: {}.", field_list(fields));
        }
        Some(schema::DeclShape::NamedTagged(variants)) => {
            let tags: Vec<String> = variants.iter().map(|v| format!("`{}`", v.tag)).collect();
            let _ = write!(out, "Written `{keyword} NAME = KIND {{ ... }}`. Kinds: {}.", tags.join(", "));
        }
        None => out.push_str("Written `import \"std/strategies\"` or `import \"./other.dpl\"`."),
    }
    Some(out)
}

fn field_list(fields: &[FieldSpec]) -> String {
    fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
}

/// The units a type accepts, for hovers and completion docs.
pub fn units(ty: &Ty) -> Option<&'static str> {
    Some(match ty {
        Ty::Cpu => "cores: `250m` is 250 millicores, `1` or `1.5` are cores",
        Ty::Memory => "bytes: `Ki` `Mi` `Gi` `Ti` (powers of 1024), `K` `M` `G` (powers of 1000), e.g. `512Mi`",
        Ty::Duration => "`ms`, `s`, `m`, `h`, `d`, `w`, e.g. `30s`, `5m` (a bare `0` is allowed)",
        Ty::Percent => "`%`, from `0%` to `100%`",
        Ty::Surge => "a percentage `25%` or a pod count `1`",
        Ty::Port => "a plain number 1–65535, no unit",
        Ty::Int => "a plain whole number, no unit",
        Ty::Pause => "a duration (`5m`) or `manual`",
        Ty::Range(t) | Ty::OpenRange(t) | Ty::List(t) => return units(t),
        _ => return None,
    })
}

/// A field's hover: name, type, required or default, doc, units.
pub fn field_doc(spec: &FieldSpec) -> String {
    let mut out = format!("**{}**: {}", spec.name, ty_text(&spec.ty));
    if spec.required {
        out.push_str(" · required");
    } else if !spec.default.is_empty() {
        let _ = write!(out, " · default `{}`", spec.default);
    }
    let _ = write!(out, "\n\n{}", sentence(spec.doc));
    if let Some(u) = units(&spec.ty) {
        let _ = write!(out, "\n\nUnits: {u}.");
    }
    if matches!(spec.ty, Ty::Range(_) | Ty::OpenRange(_)) {
        out.push_str("\n\nA range `min..max` is request..limit (cpu, memory) or an autoscaler's bounds (replicas).");
    }
    if matches!(spec.ty, Ty::OpenRange(_)) {
        out.push_str(" `request..` (no upper bound) requests cpu without a cpu limit.");
    }
    out
}

fn sentence(doc: &str) -> String {
    let mut c = doc.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// A kind's hover: its doc and fields.
pub fn variant_doc(what: &str, v: &Variant) -> String {
    let mut out = format!("**{}** — {what}", v.tag);
    if !v.doc.is_empty() {
        let _ = write!(out, ": {}", v.doc);
    } else if let Some((_, kind, families)) = schema::GATE_TOOLS.iter().find(|(t, _, _)| *t == v.tag) {
        let langs = if families.is_empty() { "services of any language".to_string() } else { families.join(", ") };
        let _ = write!(out, ": a gate tool; checks `{kind}`, for {langs}");
    }
    if !v.fields.is_empty() {
        let _ = write!(out, "\n\nFields: {}.", field_list(v.fields));
    }
    out
}

/// What the calls of promotions, triggers and canary steps do.
pub fn call_doc(name: &str) -> Option<&'static str> {
    Some(match name {
        "on_push" => "`on_push(\"branch\", ...)`: deploy every push to the branches, names or patterns (`release/*`: `*` within one `/`-separated part; `feature/**`: any rest); `on_push()`: the project's branch.",
        "on_tag" => "`on_tag(\"v*\")`: deploy tags matching the pattern.",
        "manual" => "`manual(from = ENV)`: promote by hand what runs in `ENV`; as a trigger, a manual run.",
        "pull_request" => "`pull_request`: run on pull requests.",
        "push" => "`push` or `push(\"main\")`: run on pushes (to the branch).",
        "tag" => "`tag(\"v*\")`: run on tags matching the pattern.",
        "schedule" => "`schedule(\"0 3 * * *\")`: run on a cron schedule (UTC).",
        "pause" => "`pause(5m)` waits, `pause()` or `pause(manual)` waits for a promotion.",
        "analysis" => "`analysis`: run the strategy's analysis before the next step.",
        "secret" => "`secret(\"name\")` or `secret(\"name\", key = \"k\")`: a value from the project's secret store, never written into generated files.",
        _ => return None,
    })
}

fn value_doc(ws: &Workspace, a: Option<&Analysis>, want: Want, word: &str) -> Option<String> {
    match want {
        Want::Ty(Ty::Ref(kind)) => decl_summary(ws, a?, a?.decl(kind.word(), word)?),
        Want::Ty(Ty::Strategy) => match a.and_then(|a| a.decl("strategy", word)) {
            Some(d) => decl_summary(ws, a?, d),
            None => schema::STRATEGIES.iter().find(|v| v.tag == word).map(|v| variant_doc("strategy kind", v)),
        },
        Want::Tags(vs) | Want::Ty(&Ty::Tagged(vs)) => vs.iter().find(|v| v.tag == word).map(|v| variant_doc("kind", v)),
        Want::Ty(Ty::Enum(options)) if options.contains(&word) => {
            Some(format!("**{word}** — one of {}", options.join(", ")))
        }
        Want::Ty(Ty::Analysis) => Some(format!("**{word}** — the metrics provider the analysis queries")),
        _ => call_doc(word).map(str::to_string),
    }
}

fn import_doc(a: Option<&Analysis>, path: &str) -> Option<String> {
    let a = a?;
    let module = path.trim_end_matches(".dpl");
    let mut out = format!("**import** `{path}`");
    let names: Vec<String> = a
        .decls
        .iter()
        .filter(|d| a.compilation.program.sources.get(d.span.file).name.ends_with(module.trim_start_matches("./")))
        .filter_map(|d| d.name.as_ref().map(|n| format!("{} `{n}`", d.keyword)))
        .collect();
    if !names.is_empty() {
        let _ = write!(out, "\n\nDeclares: {}.", names.join(", "));
    }
    Some(out)
}

// ------------------------------------------------------------ declarations

/// A declaration's hover: where it is, what the model made of it, its text.
pub fn decl_summary(ws: &Workspace, a: &Analysis, d: &DeclInfo) -> Option<String> {
    let name = d.name.as_deref()?;
    let sources = &a.compilation.program.sources;
    let file = &sources.get(d.span.file).name;
    let (line, _) = sources.line_col(d.span.file, d.span.start);
    let mut out = format!("**{} `{name}`**", d.keyword);
    if let Some(tag) = &d.tag {
        let _ = write!(out, " = `{tag}`");
    }
    if d.is_std {
        let _ = write!(out, " — standard module `{file}`");
    } else {
        let _ = write!(out, " — `{file}` line {line}");
    }
    if let Some((model, _, fresh)) = ws.model(a) {
        if let Some(facts) = model_facts(model, &d.keyword, name) {
            let _ = write!(out, "\n\n{facts}");
            if !fresh {
                out.push_str("\n\n_(as of the last version without errors)_");
            }
        }
    }
    let text = sources.slice(d.span);
    let mut excerpt: Vec<&str> = text.lines().take(12).collect();
    if text.lines().count() > 12 {
        excerpt.push("  ...");
    }
    let _ = write!(out, "\n\n```dpl\n{}\n```", excerpt.join("\n"));
    Some(out)
}

/// What the model resolved for a service, resource or environment: the
/// defaults and overrides a reader would otherwise work out by hand.
fn model_facts(m: &Model, keyword: &str, name: &str) -> Option<String> {
    match keyword {
        "service" => {
            let s = m.service_by_name(name)?;
            let expose = match &s.expose {
                Exposure::Internal => "internal".to_string(),
                Exposure::LoadBalancer => "load balancer".to_string(),
                Exposure::Ingress { .. } => "ingress".to_string(),
            };
            let mut out = format!(
                "{} · {} · {expose} · {} · cpu {} · memory {}",
                match &s.source {
                    crate::model::ImageSource::Build { language } =>
                        format!("language `{}`", m.toolchain(*language).name),
                    crate::model::ImageSource::Prebuilt { reference } => format!("prebuilt image `{reference}`"),
                },
                match (s.port, s.service_port) {
                    (Some(p), Some(sp)) => format!("port {p} (Service port {sp})"),
                    _ => format!("{} without a port", s.kind.word()),
                },
                replicas(s.replicas),
                cpu(s.cpu.request, s.cpu.limit),
                memory(s.memory.request, s.memory.limit)
            );
            let deps: Vec<String> = s.depends_on.iter().map(|d| format!("`{}`", m.service(*d).name)).collect();
            let uses: Vec<String> = s.uses.iter().map(|r| format!("`{}`", m.resource(*r).name)).collect();
            if !deps.is_empty() {
                let _ = write!(out, "\n\ndepends on {}", deps.join(", "));
            }
            if !uses.is_empty() {
                let _ = write!(out, "\n\nuses {}", uses.join(", "));
            }
            Some(out)
        }
        "resource" => {
            let r = m.resource_by_name(name)?;
            let places: Vec<String> = m
                .environments
                .iter()
                .map(|e| {
                    let p = e.resources.get(r.id.index()).map(|u| u.placement).unwrap_or(r.placement);
                    format!("{}: {}", e.name, placement(p))
                })
                .collect();
            Some(format!("{} {} · {}", r.engine.word(), r.version, places.join(" · ")))
        }
        "environment" => {
            let e = m.environments.iter().find(|e| e.name == name)?;
            let strategy = match &e.strategy.kind {
                StrategyKind::Rolling { .. } => "rolling",
                StrategyKind::Canary { .. } => "canary",
                StrategyKind::BlueGreen { .. } => "blue-green",
            };
            let strategy = match &e.strategy.name {
                Some(n) => format!("{strategy} (`{n}`)"),
                None => strategy.to_string(),
            };
            let promote = match &e.promote {
                Promotion::OnPush(b) => format!("on push to {}", crate::plan::branches::listed(b)),
                Promotion::OnTag(t) => format!("on tags `{t}`"),
                Promotion::Manual { from: Some(f) } => format!("manual from `{}`", m.env(*f).name),
                Promotion::Manual { from: None } => "manual".into(),
            };
            Some(format!(
                "namespace `{}` · domain `{}` · strategy {strategy} · promoted {promote}{}",
                e.namespace,
                e.domain,
                if e.production { " · production" } else { "" }
            ))
        }
        _ => None,
    }
}

fn replicas(r: Replicas) -> String {
    match r {
        Replicas::Fixed(1) => "1 replica".into(),
        Replicas::Fixed(n) => format!("{n} replicas"),
        Replicas::Auto { min, max } => format!("{min}..{max} replicas (autoscaled)"),
    }
}

fn cpu(req: u64, lim: Option<u64>) -> String {
    let one = |m: u64| if m % 1000 == 0 { (m / 1000).to_string() } else { format!("{m}m") };
    format!("{}..{}", one(req), lim.map(one).unwrap_or_default())
}

fn memory(req: u64, lim: u64) -> String {
    let one = |b: u64| {
        if b % (1 << 30) == 0 {
            format!("{}Gi", b >> 30)
        } else if b % (1 << 20) == 0 {
            format!("{}Mi", b >> 20)
        } else {
            b.to_string()
        }
    };
    format!("{}..{}", one(req), one(lim))
}

fn placement(p: Placement) -> &'static str {
    match p {
        Placement::Managed => "managed",
        Placement::InCluster => "in cluster",
    }
}

// -------------------------------------------------------------- references

/// `db.url`: the target's summary on the head, the value per environment on the attribute.
fn attr_doc(ws: &Workspace, a: &Analysis, segments: &[Word], index: usize) -> Option<String> {
    let head = segments.first()?.text.as_str();
    let decl = a.decl("service", head).or_else(|| a.decl("resource", head));
    if index == 0 {
        return match head {
            "project" => Some("**project** — the project's `name`, `domain` and `repository`".into()),
            "env" => Some("**env** — the environment being deployed: its `name`, `namespace` and `domain`".into()),
            _ => decl_summary(ws, a, decl?),
        };
    }
    let attr = segments.get(index)?.text.as_str();
    let (target, what) = match (head, decl) {
        ("project", _) => (AttrTarget::Project, "the project".to_string()),
        ("env", _) => (AttrTarget::Env, "the environment being deployed".to_string()),
        (_, Some(d)) if d.keyword == "service" => (AttrTarget::Service(head.into()), format!("service `{head}`")),
        (_, Some(d)) => {
            let engine = d.tag.as_deref().unwrap_or("resource");
            (AttrTarget::Resource(head.into()), format!("resource `{head}` ({engine})"))
        }
        (_, None) => return None,
    };
    let mut out = format!("**`{head}.{attr}`** — `{attr}` of {what}");
    let Some((model, graph, fresh)) = ws.model(a) else {
        out.push_str("\n\nThe value in each environment shows once the program compiles without errors.");
        return Some(out);
    };
    let r = AttrRef { target, attr: attr.to_string() };
    let opts = Options::default();
    out.push_str("\n\n| environment | value |\n| --- | --- |");
    for env in &model.environments {
        let cx = EnvPlan::new(model, graph, env, &opts);
        let value = match resolve_attr(&cx, &r) {
            Source::Plain(p) => format!("`{p}`"),
            Source::Secret { name, key } => format!("Secret `{name}`, key `{key}`"),
        };
        let _ = write!(out, "\n| `{}` | {} |", env.name, value.replace('|', "\\|"));
    }
    if !fresh {
        out.push_str("\n\n_(as of the last version without errors)_");
    }
    Some(out)
}

/// The attributes a reference head offers, for completion.
pub fn attributes(a: &Analysis, head: &str) -> &'static [&'static str] {
    match head {
        "project" => schema::PROJECT_ATTRS,
        "env" => schema::ENV_ATTRS,
        _ if a.decl("service", head).is_some() => schema::SERVICE_ATTRS,
        _ => a.decl("resource", head).and_then(|d| d.tag.as_deref()).map(schema::resource_attrs).unwrap_or(&[]),
    }
}
