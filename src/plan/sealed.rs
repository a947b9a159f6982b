//! The team's SealedSecrets (`secret_store = sealed_secrets { dir = "..." }`):
//! which file provides each Secret, the checks a file must pass, and the
//! objects the Kubernetes and Helm targets write from it.
//!
//! The files are kubeseal's output, committed beside the program as
//! `<dir>/<env>/<secret>.yaml`. `deployc::compile` reads them through its
//! `FileProvider` (this module does no IO) and [`check`] turns each into a
//! [`SealedFile`]: only the fields a SealedSecret needs, so the output is
//! re-serialized by our YAML writer, never pasted. A file is untrusted
//! input: comments, extra documents, anchors and fields deployc does not
//! know cannot reach the output.
//!
//! **Invariant:** with a `dir`, every Secret the environment reads has a
//! checked SealedSecret in its output folder and the Helm chart, holding
//! every key the readers use (`tests/sealed.rs`).

use super::secrets::{Origin, Producer, SecretPlan};
use super::{EnvPlan, Plan};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::SealedFile;
use crate::source::{SourceId, Span};
use serde::Serialize;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The SealedSecret API, as the Sealed Secrets controller serves it.
pub const API_VERSION: &str = "bitnami.com/v1alpha1";
/// The annotations that widen a SealedSecret's sealing scope.
pub const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";
pub const NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// A larger file is refused before parsing (a Kubernetes object is at most 1 MiB).
pub const MAX_BYTES: usize = 1 << 20;

/// The file that provides `name` in `env`, relative to the program's folder.
pub fn file_of(dir: &str, env: &str, name: &str) -> String {
    format!("{dir}/{env}/{name}.yaml")
}

/// The `kubectl create secret` command that makes the Secret's plain form.
pub fn create_command(ns: &str, s: &SecretPlan) -> String {
    match s.origin {
        Origin::PullSecret => format!(
            "kubectl create secret docker-registry {} -n {ns} --docker-server=... --docker-username=... --docker-password=...",
            s.name
        ),
        _ => {
            let literals: Vec<String> = s.keys.iter().map(|k| format!("--from-literal={k}=...")).collect();
            format!("kubectl create secret generic {} -n {ns} {}", s.name, literals.join(" "))
        }
    }
}

/// The whole command that seals the Secret into `out`.
pub fn seal_command(ns: &str, s: &SecretPlan, controller_namespace: &str, out: &str) -> String {
    format!(
        "{} --dry-run=client -o yaml | kubeseal --controller-namespace {controller_namespace} --format yaml > {out}",
        create_command(ns, s)
    )
}

/// One Secret a sealed file must provide.
#[derive(Clone, Debug)]
pub struct Wanted {
    pub env: String,
    pub namespace: String,
    pub secret: SecretPlan,
    /// Relative to the program's folder.
    pub file: String,
    pub controller_namespace: String,
    /// Where the program reads the secret (else the store's `dir`).
    pub span: Option<Span>,
}

impl Wanted {
    fn command(&self) -> String {
        seal_command(&self.namespace, &self.secret, &self.controller_namespace, &self.file)
    }
    fn help(&self) -> String {
        format!("Seal it from the program's folder: {}", self.command())
    }
}

/// Every sealed file the program's environments need, in promotion order
/// and by secret name.
pub fn wanted(plan: &Plan) -> Vec<Wanted> {
    let sealed = &plan.model.sealed;
    let mut out = Vec::new();
    for cx in &plan.envs {
        for s in cx.secrets() {
            let Producer::SealedByTeam { controller_namespace, file: Some(file) } = &s.producer else { continue };
            let span = sealed
                .secret_refs
                .get(&s.name)
                .copied()
                .or_else(|| match &s.origin {
                    Origin::Connection { resource } => sealed
                        .resource_refs
                        .get(resource)
                        .copied()
                        .or_else(|| plan.model.resources.iter().find(|r| &r.name == resource).and_then(|r| r.span)),
                    _ => None,
                })
                .or(sealed.dir_span);
            out.push(Wanted {
                env: cx.env.name.clone(),
                namespace: cx.ns().to_string(),
                secret: s.clone(),
                file: file.clone(),
                controller_namespace: controller_namespace.clone(),
                span,
            });
        }
    }
    out
}

/// E0380: the file is not there.
pub fn missing(w: &Wanted) -> Diagnostic {
    Diagnostic::new(
        Code::E0380,
        format!("no sealed file `{}` for Secret `{}` in environment `{}`", w.file, w.secret.name, w.env),
    )
    .label_opt(w.span, format!("`{}` is read here; `{}` must provide it", w.secret.name, w.file))
    .help(w.help())
}

/// Checks the text of `w`'s file (source `file`): one SealedSecret of the
/// right name and namespace, sealed for every key the readers use, of the
/// right type. Every problem is reported, not only the first.
pub fn check(w: &Wanted, text: &str, file: SourceId) -> Result<SealedFile, Vec<Diagnostic>> {
    let whole = Span::new(file, 0, text.lines().next().map_or(0, str::len));
    // The value of the first line whose key is `key` (else the key itself,
    // else the first line): where a label in the file points.
    let at = |key: &str| -> Span {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let body = line.trim_start();
            let indent = line.len() - body.len();
            let key_len = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")]
                .iter()
                .find(|k| !key.is_empty() && body.starts_with(k.as_str()))
                .map(String::len);
            if let Some(n) = key_len {
                let value = body[n..].trim_end();
                let lead = value.len() - value.trim_start().len();
                let value = value.trim_start();
                let start = offset + indent + n + lead;
                return if value.is_empty() {
                    Span::new(file, offset + indent, offset + indent + n - 1)
                } else {
                    Span::new(file, start, start + value.len())
                };
            }
            offset += line.len();
        }
        whole
    };
    let malformed = |what: String, span: Span| {
        Diagnostic::new(Code::E0381, format!("`{}` is not a usable SealedSecret: {what}", w.file))
            .label(span, what)
            .label_opt(w.span, format!("`{}` is read here", w.secret.name))
            .help(format!(
                "Commit kubeseal's YAML output unchanged (one SealedSecret, ciphertext in `spec.encryptedData`). {}",
                w.help()
            ))
    };
    if text.len() > MAX_BYTES {
        return Err(vec![malformed(format!("{} bytes, more than a Kubernetes object may hold", text.len()), whole)]);
    }
    let value: Value = match serde_yaml_ng::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let span = e.location().map_or(whole, |l| {
                // At the end of the text, point at its last character.
                let i = l.index().min(text.trim_end().len().saturating_sub(1));
                let end = text[i..].chars().next().map_or(i, |c| i + c.len_utf8());
                Span::new(file, i, end)
            });
            return Err(vec![malformed(format!("not YAML: {e}"), span)]);
        }
    };
    let str_at = |v: &Value, path: &[&str]| -> Option<Value> {
        let mut cur = v;
        for p in path {
            cur = cur.get(*p)?;
        }
        Some(cur.clone())
    };
    let string = |v: &Value, path: &[&str]| str_at(v, path).and_then(|v| v.as_str().map(str::to_string));
    let mut errors = Vec::new();
    if !value.is_mapping() {
        return Err(vec![malformed("not a YAML mapping (one object)".into(), whole)]);
    }
    let kind = string(&value, &["kind"]).unwrap_or_default();
    let api = string(&value, &["apiVersion"]).unwrap_or_default();
    if kind != "SealedSecret" || api != API_VERSION {
        let what = format!("`kind: {kind}` of `apiVersion: {api}`, not `kind: SealedSecret` of `{API_VERSION}`");
        return Err(vec![malformed(what, at(if kind != "SealedSecret" { "kind" } else { "apiVersion" }))]);
    }
    // A string → string map at `path` (absent or null is empty).
    let map = |path: &[&str], errors: &mut Vec<Diagnostic>| -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match str_at(&value, path) {
            None | Some(Value::Null) => {}
            Some(Value::Mapping(m)) => {
                for (k, v) in m {
                    match (k.as_str(), v.as_str()) {
                        (Some(k), Some(v)) => {
                            out.insert(k.to_string(), v.to_string());
                        }
                        _ => errors.push(malformed(
                            format!("`{}` holds a value that is not a string", path.join(".")),
                            at(k.as_str().unwrap_or_default()),
                        )),
                    }
                }
            }
            Some(_) => errors.push(malformed(
                format!("`{}` is not a mapping", path.join(".")),
                at(path.last().copied().unwrap_or_default()),
            )),
        }
        out
    };
    let annotations = map(&["metadata", "annotations"], &mut errors);
    let encrypted = map(&["spec", "encryptedData"], &mut errors);
    let template_labels = map(&["spec", "template", "metadata", "labels"], &mut errors);
    let template_annotations = map(&["spec", "template", "metadata", "annotations"], &mut errors);
    // Fields of `spec` and `spec.template` change the Secret; one deployc
    // does not carry would be lost, so it is refused rather than dropped.
    for (path, known) in [
        (&["spec"][..], &["encryptedData", "template"][..]),
        (&["spec", "template"][..], &["metadata", "type", "immutable", "data"][..]),
    ] {
        if let Some(Value::Mapping(m)) = str_at(&value, path) {
            for (k, v) in m {
                let k = k.as_str().unwrap_or_default();
                let plain_data = k == "data" && !v.is_null();
                if !known.contains(&k) || plain_data {
                    errors.push(malformed(
                        format!(
                            "`{}.{k}` is not carried into the output (seal every key into `spec.encryptedData`)",
                            path.join(".")
                        ),
                        at(k),
                    ));
                }
            }
        }
    }
    let secret_type = string(&value, &["spec", "template", "type"]);
    let immutable = str_at(&value, &["spec", "template", "immutable"]).and_then(|v| v.as_bool());
    for (k, v) in &encrypted {
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
            errors.push(malformed(format!("`{k}` is not a Secret key (letters, digits, `-`, `_` and `.`)"), at(k)));
        } else if !is_base64(v) {
            errors.push(malformed(
                format!(
                    "the value of `{k}` is not kubeseal ciphertext (base64); a plain value must never be committed"
                ),
                at(k),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let yes = |k: &str| annotations.get(k).is_some_and(|v| v == "true");
    let (cluster_wide, namespace_wide) = (yes(CLUSTER_WIDE), yes(NAMESPACE_WIDE));
    let name = string(&value, &["metadata", "name"]);
    let namespace = string(&value, &["metadata", "namespace"]);
    let place = |what: String, span: Span| {
        Diagnostic::new(Code::E0382, format!("`{}` {what}", w.file))
            .label_opt(w.span, format!("`{}` is read here, in namespace `{}`", w.secret.name, w.namespace))
            .label(span, what)
            .help(w.help())
    };
    if name.as_deref() != Some(w.secret.name.as_str()) {
        let found = name.as_deref().unwrap_or("");
        errors.push(place(
            format!(
                "seals `{}`, not Secret `{}`: the controller names the Secret after the SealedSecret",
                if found.is_empty() { "a SealedSecret without a name" } else { found },
                w.secret.name
            ),
            at("name"),
        ));
    }
    if !cluster_wide && namespace.as_deref() != Some(w.namespace.as_str()) {
        let found = namespace.as_deref().unwrap_or("");
        let scope = if namespace_wide { "namespace-wide" } else { "strict" };
        errors.push(place(
            format!(
                "is sealed ({scope} scope) for namespace `{}`, but environment `{}` runs in `{}`: the controller cannot decrypt it there",
                if found.is_empty() { "(none)" } else { found },
                w.env,
                w.namespace
            ),
            at("namespace"),
        ));
    }
    let missing: Vec<&str> = w.secret.keys.iter().filter(|k| !encrypted.contains_key(*k)).map(String::as_str).collect();
    if !missing.is_empty() {
        let readers: Vec<&str> = w.secret.readers.iter().map(String::as_str).collect();
        errors.push(
            Diagnostic::new(
                Code::E0383,
                format!(
                    "`{}` has no key {} that {} read{}",
                    w.file,
                    missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                    readers.join(", "),
                    if readers.len() == 1 { "s" } else { "" }
                ),
            )
            .label_opt(w.span, format!("`{}` is read here, with keys {}", w.secret.name, keys(&w.secret.keys)))
            .label(at("encryptedData"), "sealed keys")
            .help(format!("Seal every key together (kubeseal replaces the whole file): {}", w.command())),
        );
    }
    let wanted_type = super::secrets::secret_type(&w.secret);
    if let Some(t) = wanted_type {
        if secret_type.as_deref() != Some(t) {
            errors.push(
                Diagnostic::new(
                    Code::E0384,
                    format!(
                        "`{}` unseals to a Secret of type `{}`, but `{}` is an image pull secret",
                        w.file,
                        secret_type.as_deref().unwrap_or("Opaque"),
                        w.secret.name
                    ),
                )
                .label_opt(w.span, format!("the kubelet reads `{}` as registry credentials", w.secret.name))
                .label(at("type"), format!("must be `{t}`"))
                .help(w.help()),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SealedFile {
        path: w.file.clone(),
        annotations: annotations.into_iter().filter(|(k, _)| k.starts_with("sealedsecrets.bitnami.com/")).collect(),
        encrypted_data: encrypted,
        secret_type,
        template_labels,
        template_annotations,
        immutable,
    })
}

fn keys(keys: &BTreeSet<String>) -> String {
    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

/// Standard base64 with padding, as kubeseal writes ciphertext.
fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !s.is_empty()
        && s.len() % 4 == 0
        && s.len() - body.len() <= 2
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    pub spec: SealedSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSpec {
    pub encrypted_data: BTreeMap<String, String>,
    pub template: SealedTemplate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedTemplate {
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

/// The environment's checked SealedSecrets, by name: deployc's labels on
/// the object, the team's sealing scope, ciphertext and Secret template.
pub fn sealed_secrets(cx: &EnvPlan) -> Vec<SealedSecret> {
    let model = cx.model;
    let mut out = Vec::new();
    for s in cx.secrets() {
        let Some(f) = model.sealed.files.get(&(cx.env.name.clone(), s.name.clone())) else { continue };
        let mut metadata = cx.meta(&s.name, &s.name, "secrets");
        if !f.annotations.is_empty() {
            metadata.annotations = Some(f.annotations.clone());
        }
        let non_empty = |m: &BTreeMap<String, String>| (!m.is_empty()).then(|| m.clone());
        let template = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(s.name.clone()),
            namespace: Some(cx.ns().to_string()),
            labels: non_empty(&f.template_labels),
            annotations: non_empty(&f.template_annotations),
            ..Default::default()
        };
        out.push(SealedSecret {
            api_version: API_VERSION,
            kind: "SealedSecret",
            metadata,
            spec: SealedSpec {
                encrypted_data: f.encrypted_data.clone(),
                template: SealedTemplate { metadata: template, type_: f.secret_type.clone(), immutable: f.immutable },
            },
        });
    }
    out
}

/// The same as (kind, name, JSON value), for the targets that take objects whole.
pub fn objects(cx: &EnvPlan) -> Vec<(&'static str, String, serde_json::Value)> {
    sealed_secrets(cx)
        .into_iter()
        .filter_map(|s| {
            let name = s.metadata.name.clone().unwrap_or_default();
            serde_json::to_value(&s).ok().map(|v| ("SealedSecret", name, v))
        })
        .collect()
}
