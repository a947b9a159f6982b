//! `deployc diff`: what a build would change in the committed output, per
//! environment and per object, down to the changed fields.
//!
//! It starts from the writer's drift check ([`writer::drift`]: missing,
//! changed and stale files), parses both sides of every YAML or JSON file
//! into documents, pairs the documents by kind and name, and compares them
//! field by field. Other files (a Jenkinsfile, Markdown) get a unified diff.
//! Files are grouped by the environment their path names (`k8s/<env>/`,
//! `application-<project>-<env>.yaml`); the rest is project-wide.

use super::{artifacts, out_dir, read_root, report, Color, DiffFormat, Format, Fs, Stream};
use crate::writer::{self, Drift, MANIFEST};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The whole report; `--format json` prints it as one document.
#[derive(Serialize)]
struct DiffReport {
    /// The output directory compared.
    root: String,
    /// Whether anything differs (the exit code says the same).
    changed: bool,
    added: usize,
    removed: usize,
    modified: usize,
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    /// The environment, or `null` for project-wide files.
    environment: Option<String>,
    objects: Vec<ObjectDiff>,
}

#[derive(Serialize)]
struct ObjectDiff {
    path: String,
    kind: Option<String>,
    name: Option<String>,
    status: Status,
    /// Field changes of a changed YAML or JSON object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldChange>,
    /// A unified diff, for a changed file that is neither YAML nor JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Status {
    Added,
    Removed,
    Changed,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
        }
    }
}

#[derive(Serialize)]
struct FieldChange {
    /// `spec.replicas`, `spec.template.spec.containers[name=api].image`.
    path: String,
    change: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<Value>,
}

pub fn run(
    file: &Path,
    out: Option<PathBuf>,
    format: DiffFormat,
    targets: &[deployc::emit::Target],
    color: Color,
) -> ExitCode {
    // The root's display name titles the report, so read it here.
    let (name, text) = match read_root(file) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let c = deployc::compile_bytes(&name, text, &Fs);
    let Some((model, graph)) = c.output.as_ref() else {
        report(&c.diagnostics, &c.program.sources, Format::Human, color);
        eprintln!("diff failed: the program has errors");
        return ExitCode::from(2);
    };
    let root = out_dir(file, out);
    let artifacts = artifacts(model, graph, targets, super::options(&root));
    let drift = match writer::drift(&root, &artifacts) {
        Ok((drift, recovered)) => {
            super::report_recovery(&root, recovered);
            drift
        }
        Err(e) => return super::write_failed(&e, color),
    };
    let envs: Vec<String> = model.environments.iter().map(|e| e.name.clone()).collect();
    let generated: BTreeMap<&str, &str> = artifacts.iter().map(|a| (a.path.as_str(), a.contents.as_str())).collect();
    let owners: BTreeMap<&str, Option<&str>> =
        artifacts.iter().map(|a| (a.path.as_str(), a.environment.as_deref())).collect();
    let report = build_report(&root, &drift, &generated, &owners, &envs);
    match format {
        DiffFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => super::print_out(&(s + "\n")),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        DiffFormat::Text => super::print_out(&render_text(&report, &name, color.enabled(Stream::Stdout))),
    }
    if report.changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `generated`: the artifacts by path, for the text of missing files;
/// `owners`: the environment each artifact belongs to (its emitter says).
fn build_report(
    root: &Path,
    drift: &[Drift],
    generated: &BTreeMap<&str, &str>,
    owners: &BTreeMap<&str, Option<&str>>,
    envs: &[String],
) -> DiffReport {
    let mut objects: Vec<(Option<String>, ObjectDiff)> = Vec::new();
    let only_manifest = drift.iter().all(|d| drift_path(d) == MANIFEST);
    // Environment names: the declared ones, and the folders of ones that
    // were removed (`k8s/<old>/...`), so their other files group with them.
    let mut known: Vec<String> = envs.to_vec();
    for d in drift {
        if let Some(e) = environment_of(drift_path(d), &[]) {
            if !known.contains(&e) {
                known.push(e);
            }
        }
    }
    for d in drift {
        let path = drift_path(d);
        // The manifest is bookkeeping: it changes with every added or removed
        // file, so it is only worth a line when nothing else changed.
        if path == MANIFEST && !only_manifest {
            continue;
        }
        // A file still produced belongs where its emitter put it; only the
        // stale files of a removed environment are placed by their path.
        let env = match owners.get(path) {
            Some(owner) => owner.map(str::to_string),
            None => environment_of(path, &known),
        };
        let (old, new) = match d {
            Drift::Missing(p) => (None, Some(generated.get(p.as_str()).copied().unwrap_or("").to_string())),
            Drift::Stale(p) => (Some(std::fs::read_to_string(root.join(p)).unwrap_or_default()), None),
            Drift::Changed { on_disk, expected, .. } => (Some(on_disk.clone()), Some(expected.clone())),
        };
        for o in compare_file(path, old.as_deref(), new.as_deref()) {
            objects.push((env.clone(), o));
        }
    }
    let count = |s: Status| objects.iter().filter(|(_, o)| o.status == s).count();
    let (added, removed, modified) = (count(Status::Added), count(Status::Removed), count(Status::Changed));
    // Environments in promotion order, then ones no longer declared, then the rest.
    let rank = |e: &Option<String>| match e {
        Some(name) => (0, envs.iter().position(|n| n == name).unwrap_or(usize::MAX), name.clone()),
        None => (1, 0, String::new()),
    };
    let mut grouped: BTreeMap<(u8, usize, String), Group> = BTreeMap::new();
    for (env, o) in objects {
        grouped
            .entry(rank(&env))
            .or_insert_with(|| Group { environment: env.clone(), objects: Vec::new() })
            .objects
            .push(o);
    }
    DiffReport {
        root: super::display(root),
        changed: !drift.is_empty(),
        added,
        removed,
        modified,
        groups: grouped.into_values().collect(),
    }
}

fn drift_path(d: &Drift) -> &str {
    match d {
        Drift::Missing(p) | Drift::Stale(p) => p,
        Drift::Changed { path, .. } => path,
    }
}

/// The environment a file that is no longer produced belonged to, from its path.
fn environment_of(path: &str, envs: &[String]) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    if segs.len() > 2 && matches!(segs[0], "k8s" | "terraform") {
        return Some(segs[1].to_string());
    }
    let file = segs.last().copied().unwrap_or("");
    let stem = file.split('.').next().unwrap_or(file);
    envs.iter().filter(|e| stem == e.as_str() || stem.ends_with(&format!("-{e}"))).max_by_key(|e| e.len()).cloned()
}

/// The documents of a YAML or JSON file, or `None` for other files and
/// files that do not parse.
fn documents(path: &str, text: &str) -> Option<Vec<Value>> {
    use serde::Deserialize;
    if path.ends_with(".json") {
        return serde_json::from_str(text).ok().map(|v| vec![v]);
    }
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        return None;
    }
    let mut docs = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).ok()?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    Some(docs)
}

/// `(kind, name)` of a Kubernetes-style document.
fn identity(doc: &Value) -> (Option<String>, Option<String>) {
    let s = |v: &Value| v.as_str().map(str::to_string);
    (doc.get("kind").and_then(s), doc.pointer("/metadata/name").and_then(s))
}

/// The objects of one file that differ. `old` is on disk, `new` generated;
/// either may be absent (an added or a removed file).
fn compare_file(path: &str, old: Option<&str>, new: Option<&str>) -> Vec<ObjectDiff> {
    let parsed = (old.map(|t| documents(path, t)), new.map(|t| documents(path, t)));
    let (old_docs, new_docs) = match parsed {
        (Some(Some(o)), Some(Some(n))) => (o, n),
        (None, Some(Some(n))) => (Vec::new(), n),
        (Some(Some(o)), None) => (o, Vec::new()),
        _ => {
            // Not structured (or not parseable): the file as a whole.
            let status = match (old, new) {
                (None, _) => Status::Added,
                (_, None) => Status::Removed,
                _ => Status::Changed,
            };
            let diff =
                (status == Status::Changed).then(|| writer::unified_diff(path, old.unwrap_or(""), new.unwrap_or("")));
            return vec![ObjectDiff {
                path: path.to_string(),
                kind: None,
                name: None,
                status,
                fields: Vec::new(),
                diff,
            }];
        }
    };
    // Pair documents by (kind, name); unnamed ones by position.
    let key = |i: usize, d: &Value| match identity(d) {
        (Some(k), Some(n)) => format!("{k}/{n}"),
        _ => format!("#{i}"),
    };
    let old_map: BTreeMap<String, &Value> = old_docs.iter().enumerate().map(|(i, d)| (key(i, d), d)).collect();
    let new_map: BTreeMap<String, &Value> = new_docs.iter().enumerate().map(|(i, d)| (key(i, d), d)).collect();
    let mut keys: Vec<&String> = old_map.keys().chain(new_map.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let (o, n) = (old_map.get(k), new_map.get(k));
        let doc = n.or(o).copied().unwrap_or(&Value::Null);
        let (kind, name) = identity(doc);
        let object = |status, fields| ObjectDiff { path: path.to_string(), kind, name, status, fields, diff: None };
        match (o, n) {
            (None, Some(_)) => out.push(object(Status::Added, Vec::new())),
            (Some(_), None) => out.push(object(Status::Removed, Vec::new())),
            (Some(o), Some(n)) => {
                let mut fields = Vec::new();
                diff_values("", o, n, &mut fields);
                if !fields.is_empty() {
                    out.push(object(Status::Changed, fields));
                }
            }
            (None, None) => {}
        }
    }
    if out.is_empty() && old != new {
        // Same documents, different text (formatting, comments).
        out.push(ObjectDiff {
            path: path.to_string(),
            kind: None,
            name: None,
            status: Status::Changed,
            fields: Vec::new(),
            diff: Some(writer::unified_diff(path, old.unwrap_or(""), new.unwrap_or(""))),
        });
    }
    out
}

/// `a.b`, or `a["b.c"]` for keys that are not plain words.
fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

/// The `name` of every element, when all are objects with distinct names:
/// then list elements are paired by name rather than by position.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items.iter().map(|v| v.get("name").and_then(Value::as_str)).collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

/// One side or both of a field or list element: compare, or record it as added or removed.
fn pair(p: &str, x: Option<&Value>, y: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (x, y) {
        (Some(x), Some(y)) => diff_values(p, x, y, out),
        (Some(x), None) => {
            out.push(FieldChange { path: p.to_string(), change: Status::Removed, old: Some(x.clone()), new: None })
        }
        (None, Some(y)) => {
            out.push(FieldChange { path: p.to_string(), change: Status::Added, old: None, new: Some(y.clone()) })
        }
        (None, None) => {}
    }
}

fn diff_values(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    let change = |change, old: Option<&Value>, new: Option<&Value>| FieldChange {
        path: if path.is_empty() { ".".to_string() } else { path.to_string() },
        change,
        old: old.cloned(),
        new: new.cloned(),
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = join_key(path, k);
                pair(&p, a.get(k), b.get(k), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.iter().chain(b).all(Value::is_object) => {
            if let (Some(na), Some(nb)) = (names(a), names(b)) {
                let mut all: Vec<&str> = na.iter().chain(&nb).copied().collect();
                all.sort();
                all.dedup();
                for n in all {
                    let p = format!("{path}[name={n}]");
                    let x = na.iter().position(|m| *m == n).map(|i| &a[i]);
                    let y = nb.iter().position(|m| *m == n).map(|i| &b[i]);
                    pair(&p, x, y, out);
                }
            } else {
                for i in 0..a.len().max(b.len()) {
                    let p = format!("{path}[{i}]");
                    pair(&p, a.get(i), b.get(i), out);
                }
            }
        }
        // Scalars and lists of scalars change as a whole: `[a, b] → [a, c]`.
        _ => out.push(change(Status::Changed, Some(old), Some(new))),
    }
}

// ------------------------------------------------------------------ text

/// A value for a Markdown line: scalars bare, the rest as compact JSON,
/// shortened.
fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = s.replace('\n', "\\n").replace('`', "'");
    if s.chars().count() > 100 {
        format!("{}…", s.chars().take(99).collect::<String>())
    } else {
        s
    }
}

/// A list of scalars that changed: the items added and removed, or
/// "reordered".
fn list_change(a: &[Value], b: &[Value], color: bool) -> String {
    let added: Vec<String> = b.iter().filter(|v| !a.contains(v)).map(|v| format!("`{}`", show(v))).collect();
    let removed: Vec<String> = a.iter().filter(|v| !b.contains(v)).map(|v| format!("`{}`", show(v))).collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("{} {}", paint("+", Status::Added, color), added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("{} {}", paint("-", Status::Removed, color), removed.join(", ")));
    }
    if parts.is_empty() {
        return format!("reordered to `{}`", show(&Value::Array(b.to_vec())));
    }
    parts.join("; ")
}

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match status {
        Status::Added => "32",
        Status::Removed => "31",
        Status::Changed => "33",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Longest unified diff shown for one file.
const MAX_DIFF_LINES: usize = 60;

fn render_text(r: &DiffReport, program: &str, color: bool) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if !r.changed {
        let _ = writeln!(s, "No changes: `{}` is what `{program}` produces.", r.root);
        return s;
    }
    let _ = writeln!(
        s,
        "## deployc diff: `{}`\n\n{} added, {} removed, {} changed (run `deployc build {program} -o {}` and commit to apply).",
        r.root, r.added, r.removed, r.modified, r.root
    );
    for g in &r.groups {
        match &g.environment {
            Some(e) => {
                let _ = writeln!(s, "\n### environment `{e}`\n");
            }
            None => {
                let _ = writeln!(s, "\n### project-wide\n");
            }
        }
        for o in &g.objects {
            let what = match (&o.kind, &o.name) {
                (Some(k), Some(n)) => format!("**{k}/{n}** (`{}`)", o.path),
                (Some(k), None) => format!("**{k}** (`{}`)", o.path),
                _ => format!("`{}`", o.path),
            };
            let _ = writeln!(s, "- {} {what}", paint(o.status.word(), o.status, color));
            for f in &o.fields {
                let line = match (f.change, &f.old, &f.new) {
                    (Status::Changed, Some(Value::Array(a)), Some(Value::Array(b))) => {
                        format!("`{}`: {}", f.path, list_change(a, b, color))
                    }
                    (Status::Changed, Some(a), Some(b)) => format!("`{}`: `{}` → `{}`", f.path, show(a), show(b)),
                    (Status::Added, _, Some(b)) => {
                        format!("{} `{}`: `{}`", paint("+", f.change, color), f.path, show(b))
                    }
                    (Status::Removed, Some(a), _) => {
                        format!("{} `{}`: `{}`", paint("-", f.change, color), f.path, show(a))
                    }
                    _ => format!("`{}`", f.path),
                };
                let _ = writeln!(s, "  - {line}");
            }
            if let Some(d) = &o.diff {
                let lines: Vec<&str> = d.lines().collect();
                let _ = writeln!(s, "\n  ```diff");
                for l in lines.iter().take(MAX_DIFF_LINES) {
                    let _ = writeln!(s, "  {l}");
                }
                if lines.len() > MAX_DIFF_LINES {
                    let _ = writeln!(s, "  … {} more lines", lines.len() - MAX_DIFF_LINES);
                }
                let _ = writeln!(s, "  ```\n");
            }
        }
    }
    s
}
