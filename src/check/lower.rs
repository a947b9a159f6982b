//! Building the [`Model`] from checked declarations: defaults filled in,
//! references turned into typed ids, environment overrides applied. Rules that
//! only need one declaration (names, canary steps, security relaxations) are
//! checked here, where the spans are at hand.

use super::value::{AttrTarget, Fields, PromotionRule, Step, Template, Val, V};
use super::Checked;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};

/// Spans the whole-program rules need, kept beside the model.
#[derive(Default, Debug)]
pub struct Extra {
    /// Per environment: the span of its strategy value and of its promotion.
    pub env_strategy: BTreeMap<String, Span>,
    pub env_promote: BTreeMap<String, Span>,
    /// Per environment: the span of its `after` list.
    pub env_after: BTreeMap<String, Span>,
    /// The span of each `from = x` in a manual promotion.
    pub env_from: BTreeMap<String, Span>,
    /// Analyses: the span, the provider named (if any), and the named strategy
    /// it belongs to (`None` for an inline strategy, which is always checked).
    pub analyses: Vec<Analyzed>,
    /// Gate name to the span of its tool.
    pub gate_tool: BTreeMap<String, Span>,
    /// Literal values of secret-looking variables.
    pub secret_literals: Vec<SecretLiteral>,
    /// Named strategies declared in standard modules.
    pub std_strategies: BTreeSet<String>,
    /// (environment, service, variable) set by an environment's override.
    pub env_overrides: BTreeSet<(String, String, String)>,
    /// Services whose `language` did not resolve (already reported).
    pub unresolved_language: BTreeSet<String>,
    /// Service name to the span of each dependency it declares or references.
    pub dep_spans: BTreeMap<(String, String), Span>,
    /// Where a service first references a resource (service, resource).
    pub use_spans: BTreeMap<(String, String), Span>,
    /// The span of the `latest` tag policy entry.
    pub latest_tag: Option<Span>,
    /// Services whose probes were written (even if wrongly): no E0403 for them.
    pub probe_given: BTreeSet<String>,
    /// Environments whose promotion had an error: treated as entry points.
    pub bad_promote: BTreeSet<String>,
    /// Service name to the span of its `vpa` value.
    pub vpa_spans: BTreeMap<String, Span>,
    /// Each service's `queue_scaling` block.
    pub queue_scaling_spans: BTreeMap<String, Span>,
    /// Resource name to the span of its `recovery { rpo = ... }` value.
    pub rpo_spans: BTreeMap<String, Span>,
    /// Resource name to the span of its `recovery { region = ... }` value.
    pub region_spans: BTreeMap<String, Span>,
    /// Resource name to the span of its `proxy = true`.
    pub proxy_spans: BTreeMap<String, Span>,
}

impl Extra {
    /// Takes in what a piece of lowering recorded on its own, as if it had
    /// been recorded here after everything so far (the first span wins
    /// where a loop would have kept the first).
    fn absorb(&mut self, other: Extra) {
        let Extra {
            env_strategy,
            env_promote,
            env_after,
            env_from,
            mut analyses,
            gate_tool,
            mut secret_literals,
            std_strategies,
            env_overrides,
            unresolved_language,
            dep_spans,
            use_spans,
            latest_tag,
            probe_given,
            bad_promote,
            vpa_spans,
            queue_scaling_spans,
            rpo_spans,
            region_spans,
            proxy_spans,
        } = other;
        self.env_strategy.extend(env_strategy);
        self.env_promote.extend(env_promote);
        self.env_after.extend(env_after);
        self.env_from.extend(env_from);
        self.analyses.append(&mut analyses);
        self.gate_tool.extend(gate_tool);
        self.secret_literals.append(&mut secret_literals);
        self.std_strategies.extend(std_strategies);
        self.env_overrides.extend(env_overrides);
        self.unresolved_language.extend(unresolved_language);
        for (k, v) in dep_spans {
            self.dep_spans.entry(k).or_insert(v);
        }
        for (k, v) in use_spans {
            self.use_spans.entry(k).or_insert(v);
        }
        self.latest_tag = latest_tag.or(self.latest_tag);
        self.probe_given.extend(probe_given);
        self.bad_promote.extend(bad_promote);
        self.vpa_spans.extend(vpa_spans);
        self.queue_scaling_spans.extend(queue_scaling_spans);
        self.rpo_spans.extend(rpo_spans);
        self.region_spans.extend(region_spans);
        self.proxy_spans.extend(proxy_spans);
    }
}

/// Services a piece of lowering takes: at 1,000 services, 16 pieces keep
/// both cores busy to the end.
const SERVICES_PER_PIECE: usize = 64;

/// An analysis of a strategy, for the metrics-provider rule.
#[derive(Debug)]
pub struct Analyzed {
    pub span: Span,
    pub provider: Option<String>,
    pub strategy: Option<String>,
}

/// A secret-looking variable given a literal value.
#[derive(Debug)]
pub struct SecretLiteral {
    pub span: Span,
    pub var: String,
    pub service: String,
    /// The environment whose override sets it; `None` for the service's own `env`.
    pub env: Option<String>,
}

fn get<'a>(f: &'a Fields, k: &str) -> Option<&'a Val> {
    f.get(k).map(|(_, v)| v).filter(|v| v.v != V::Error)
}
fn tpl(f: &Fields, k: &str) -> Option<Template> {
    match &get(f, k)?.v {
        V::Str(t) => Some(t.clone()),
        _ => None,
    }
}
/// A resource's `storage_class`: a Kubernetes object name (a DNS subdomain:
/// lowercase letters, digits, `-` and `.`, at most 253 characters), E0375
/// otherwise, since the API server would refuse the claim.
fn storage_class(f: &Fields, diags: &mut Diagnostics) -> Option<String> {
    let span = get(f, "storage_class")?.span;
    let name = lit(f, "storage_class")?;
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        return Some(name);
    }
    diags.push(
        Diagnostic::new(Code::E0375, format!("`{name}` is not a storage class name"))
            .label(span, "a StorageClass name is lowercase letters, digits, `-` and `.`")
            .help("Name a StorageClass the cluster has, e.g. `storage_class = \"gp3-encrypted\"`, or leave it out for the class deployc generates."),
    );
    None
}

fn lit(f: &Fields, k: &str) -> Option<String> {
    tpl(f, k).map(|t| render_static(&t))
}
fn boolean(f: &Fields, k: &str, default: bool) -> bool {
    match get(f, k).map(|v| &v.v) {
        Some(V::Bool(b)) => *b,
        _ => default,
    }
}
fn int(f: &Fields, k: &str, default: i64) -> i64 {
    match get(f, k).map(|v| &v.v) {
        Some(V::Int(n)) => *n,
        _ => default,
    }
}
fn port(f: &Fields, k: &str) -> Option<u16> {
    match get(f, k)?.v {
        V::Port(p) => Some(p),
        _ => None,
    }
}
fn dur(f: &Fields, k: &str) -> Option<u64> {
    match get(f, k)?.v {
        V::Duration(d) => Some(d),
        _ => None,
    }
}
fn pct(f: &Fields, k: &str) -> Option<f64> {
    match get(f, k)?.v {
        V::Percent(p) => Some(p),
        _ => None,
    }
}
fn mem(f: &Fields, k: &str) -> Option<u64> {
    match get(f, k)?.v {
        V::Memory(m) => Some(m),
        _ => None,
    }
}
fn enm(f: &Fields, k: &str) -> Option<String> {
    match &get(f, k)?.v {
        V::Enum(s) => Some(s.clone()),
        _ => None,
    }
}
fn list<'a>(f: &'a Fields, k: &str) -> &'a [Val] {
    match get(f, k).map(|v| &v.v) {
        Some(V::List(items)) => items,
        _ => &[],
    }
}
fn list_str(f: &Fields, k: &str) -> Vec<String> {
    list(f, k)
        .iter()
        .filter_map(|v| match &v.v {
            V::Str(t) => Some(render_static(t)),
            V::Enum(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}
fn list_refs(f: &Fields, k: &str) -> Vec<(String, Span)> {
    list(f, k)
        .iter()
        .filter_map(|v| match &v.v {
            V::Ref(_, n) => Some((n.clone(), v.span)),
            _ => None,
        })
        .collect()
}
fn tagged<'a>(f: &'a Fields, k: &str) -> Option<(&'a str, &'a Fields)> {
    match &get(f, k)?.v {
        V::Tagged(t, fs) => Some((t.as_str(), fs)),
        _ => None,
    }
}
/// A `cloud = ...` value (the project's, or an environment's cluster's).
fn lower_cloud(t: Option<(&str, &Fields)>, diags: &mut Diagnostics) -> Cloud {
    match t {
        Some(("gcp", f)) => {
            let mut cluster = GkeCluster::default();
            if let Some(t) = lit(f, "machine_type") {
                cluster.machine_type = t;
            }
            let nodes = replicas(get(f, "nodes"), Replicas::Auto { min: cluster.min_nodes, max: cluster.max_nodes });
            // A node pool needs at least one node to run the cluster's own add-ons.
            cluster.min_nodes = nodes.min().max(1);
            cluster.max_nodes = nodes.max().max(cluster.min_nodes);
            if let Some(c) = enm(f, "release_channel") {
                cluster.release_channel = c.to_ascii_uppercase();
            }
            check_cloud_name(f, "project", CloudName::GcpProject, diags);
            check_cloud_name(f, "region", CloudName::GcpRegion, diags);
            check_cloud_name(f, "machine_type", CloudName::GcpMachineType, diags);
            Cloud::Gcp {
                project: lit(f, "project").unwrap_or_default(),
                region: lit(f, "region").unwrap_or_default(),
                cluster,
            }
        }
        Some(("azure", f)) => {
            let mut cluster = AksCluster::default();
            if let Some(t) = lit(f, "vm_size") {
                cluster.vm_size = t;
            }
            let nodes = replicas(get(f, "nodes"), Replicas::Auto { min: cluster.min_nodes, max: cluster.max_nodes });
            cluster.min_nodes = nodes.min().max(1);
            cluster.max_nodes = nodes.max().max(cluster.min_nodes);
            check_cloud_name(f, "location", CloudName::AzureLocation, diags);
            check_cloud_name(f, "vm_size", CloudName::AzureVmSize, diags);
            Cloud::Azure { location: lit(f, "location").unwrap_or_default(), cluster }
        }
        Some((_, f)) => {
            let region = lit(f, "region").unwrap_or_else(|| "us-east-1".into());
            let mut zones = list_str(f, "zones");
            if zones.is_empty() {
                zones = ["a", "b", "c"].iter().map(|z| format!("{region}{z}")).collect();
            }
            let mut cluster = EksCluster::default();
            if let Some(v) = lit(f, "kubernetes") {
                cluster.version = v;
            }
            let types = list_str(f, "node_types");
            if !types.is_empty() {
                cluster.node_types = types;
            }
            let nodes = replicas(get(f, "nodes"), Replicas::Auto { min: cluster.min_nodes, max: cluster.max_nodes });
            // A node group needs at least one node to run the cluster's own add-ons.
            cluster.min_nodes = nodes.min().max(1);
            cluster.max_nodes = nodes.max().max(cluster.min_nodes);
            check_account(f, diags);
            check_cloud_name(f, "region", CloudName::AwsRegion, diags);
            check_cloud_name(f, "zones", CloudName::AwsZone, diags);
            check_cloud_name(f, "node_types", CloudName::AwsInstanceType, diags);
            check_cloud_name(f, "kubernetes", CloudName::K8sVersion, diags);
            Cloud::Aws { region, zones, cluster, account: lit(f, "account") }
        }
        None => Cloud::Aws {
            region: "us-east-1".into(),
            zones: vec!["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()],
            cluster: EksCluster::default(),
            account: None,
        },
    }
}
fn strukt<'a>(f: &'a Fields, k: &str) -> Option<&'a Fields> {
    match &get(f, k)?.v {
        V::Struct(fs) => Some(fs),
        _ => None,
    }
}
fn secret_name(f: &Fields, k: &str) -> String {
    match get(f, k).map(|v| &v.v) {
        Some(V::Secret { name, .. }) => name.clone(),
        _ => String::new(),
    }
}

/// Renders a template whose references are not known here as `${...}` text.
/// Only used for fields that the schema documents as plain strings.
pub(super) fn render_static(t: &Template) -> String {
    t.parts
        .iter()
        .map(|p| match p {
            TPart::Lit(s) => s.clone(),
            TPart::Ref(r) => format!("${{{}}}", attr_text(r)),
        })
        .collect()
}

fn range_q(v: Option<&Val>, default: (u64, u64)) -> Quantity {
    let one = |v: &Val| match v.v {
        V::Cpu(n) | V::Memory(n) => Some(n),
        _ => None,
    };
    match v.map(|v| &v.v) {
        Some(V::Range(lo, hi)) => {
            Quantity { request: one(lo).unwrap_or(default.0), limit: hi.as_deref().and_then(one).unwrap_or(default.1) }
        }
        // A single value is both request and limit: the guaranteed QoS class.
        Some(V::Cpu(n)) | Some(V::Memory(n)) => Quantity { request: *n, limit: *n },
        _ => Quantity { request: default.0, limit: default.1 },
    }
}

/// A service's `queue_scaling { .. }`, its resource's engine tag known:
/// the list, topic and group each engine needs (E0377, E0378).
fn queue_scaling(
    q: &Fields,
    resource: ResourceId,
    tag: &str,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<QueueScaling> {
    let mut plain = |k: &str| {
        lit(q, k).filter(|n| {
            let ok = !n.is_empty()
                && n.len() <= 249
                && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
            if !ok {
                diags.push(
                    Diagnostic::new(Code::E0378, format!("`{k}` is not a plain list, topic or group name"))
                        .label(get(q, k).map_or(span, |v| v.span), "letters, digits and `-_.:` only")
                        .help(Code::E0378.info().help),
                );
            }
            ok
        })
    };
    let (list, group) = (plain("list"), plain("group"));
    let missing = |what: &str, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::new(Code::E0378, format!("queue scaling on a {tag} needs {what}"))
                .label(span, format!("a {tag}"))
                .help(Code::E0378.info().help),
        );
    };
    match tag {
        "queue" if list.is_some() || group.is_some() => missing("no `list` or `group`", diags),
        "queue" => {}
        "redis" if list.is_none() => missing("the `list` it measures", diags),
        "redis" if group.is_some() => missing("no `group`", diags),
        "redis" => {}
        "kafka" if list.is_none() || group.is_none() => missing("the topic (`list`) and consumer `group`", diags),
        "kafka" => {}
        // Not a queue: E0377 from the rules, with the environments.
        _ => {}
    }
    let per_replica = int(q, "per_replica", 5).max(1) as u32;
    Some(QueueScaling { resource, name: list, group, per_replica })
}

/// A service's cpu: like [`range_q`], and `request..` is a request
/// without a limit.
fn range_cpu(v: Option<&Val>, default: Cpu) -> Cpu {
    match v.map(|v| &v.v) {
        Some(V::Range(lo, None)) => match lo.v {
            V::Cpu(n) => Cpu { request: n, limit: None },
            _ => default,
        },
        Some(V::Range(lo, Some(hi))) => match (&lo.v, &hi.v) {
            (V::Cpu(a), V::Cpu(b)) => Cpu { request: *a, limit: Some(*b) },
            _ => default,
        },
        Some(V::Cpu(n)) => Cpu { request: *n, limit: Some(*n) },
        _ => default,
    }
}

fn replicas(v: Option<&Val>, default: Replicas) -> Replicas {
    match v.map(|v| &v.v) {
        Some(V::Int(n)) => Replicas::Fixed(*n as u32),
        Some(V::Range(lo, Some(hi))) => match (&lo.v, &hi.v) {
            (V::Int(a), V::Int(b)) if a == b => Replicas::Fixed(*a as u32),
            (V::Int(a), V::Int(b)) => Replicas::Auto { min: *a as u32, max: *b as u32 },
            _ => default,
        },
        _ => default,
    }
}

/// A block of plain strings (`labels { team = "cart" }`), with each key's span.
fn map_str(f: &Fields, k: &str) -> Vec<(String, Span, String)> {
    match get(f, k).map(|v| &v.v) {
        Some(V::Map(m)) => m
            .iter()
            .filter_map(|(key, (span, v))| match &v.v {
                V::Str(t) => Some((key.clone(), *span, render_static(t))),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A service's pod details, with the Kubernetes syntax of labels,
/// annotation keys and tolerations checked (E0370–E0372).
fn pod_details(f: &Fields, port: Option<u16>, diags: &mut Diagnostics) -> crate::model::PodDetails {
    use crate::model::{label_key_problem, label_value_problem, parse_toleration, PodDetails, ProbeTiming};
    let labels_of = |k: &str, diags: &mut Diagnostics| {
        let mut out = BTreeMap::new();
        for (key, span, value) in map_str(f, k) {
            let problem =
                label_key_problem(&key).map(|p| ("key", p)).or(label_value_problem(&value).map(|p| ("value", p)));
            if let Some((what, why)) = problem {
                diags.push(
                    Diagnostic::new(Code::E0370, format!("`{key}` = \"{value}\" is not a valid Kubernetes label"))
                        .label(span, format!("invalid label {what}: {why}")),
                );
                continue;
            }
            out.insert(key, value);
        }
        out
    };
    let labels = labels_of("labels", diags);
    let node_selector = labels_of("node_selector", diags);
    let prefer_nodes = labels_of("prefer_nodes", diags);
    let mut annotations = BTreeMap::new();
    for (key, span, value) in map_str(f, "annotations") {
        match label_key_problem(&key) {
            Some(why) => diags.push(
                Diagnostic::new(Code::E0371, format!("`{key}` is not a valid Kubernetes annotation key"))
                    .label(span, why),
            ),
            None => {
                annotations.insert(key, value);
            }
        }
    }
    let mut tolerations = Vec::new();
    for v in list(f, "tolerations") {
        let V::Str(t) = &v.v else { continue };
        let text = render_static(t);
        match parse_toleration(&text) {
            Ok(t) => tolerations.push(t),
            Err(why) => {
                diags.push(Diagnostic::new(Code::E0372, format!("\"{text}\" is not a toleration")).label(v.span, why))
            }
        }
    }
    let secs = |fs: &Fields, k: &str| dur(fs, k).map(|ms| ms.div_ceil(1000) as u32);
    let count = |fs: &Fields, k: &str| match get(fs, k).map(|v| &v.v) {
        Some(V::Int(n)) => Some(*n as u32),
        _ => None,
    };
    let times = |t: &Fields| ProbeTiming {
        period: secs(t, "period"),
        timeout: secs(t, "timeout"),
        failure_threshold: count(t, "failure_threshold"),
        success_threshold: count(t, "success_threshold"),
        initial_delay: secs(t, "initial_delay"),
        ..Default::default()
    };
    let timing = strukt(f, "probes")
        .map(|t| {
            let mut own = |kind: &str| {
                let o = strukt(t, kind)?;
                // Kubernetes refuses a liveness or startup probe whose
                // success threshold is not 1.
                if kind != "readiness" {
                    if let Some(v) = get(o, "success_threshold").filter(|v| !matches!(v.v, V::Int(1))) {
                        diags.push(
                            Diagnostic::new(Code::E0379, format!("a {kind} probe's success threshold must be 1"))
                                .label(v.span, "Kubernetes accepts only 1 here")
                                .help("Drop `success_threshold` here; set it in `readiness { ... }` (or the shared block, which times readiness) instead."),
                        );
                    }
                }
                Some(Box::new(times(o)))
            };
            let (liveness, readiness, startup) = (own("liveness"), own("readiness"), own("startup"));
            ProbeTiming { liveness, readiness, startup, ..times(t) }
        })
        .unwrap_or_default();
    let mut files = BTreeMap::new();
    let mut names = std::collections::BTreeSet::new();
    for (path, span, content) in map_str(f, "files") {
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let why = if !path.starts_with('/') {
            Some("the mount path must be absolute")
        } else if path.split('/').any(|seg| seg == ".." || seg == ".") {
            Some("the mount path must not hold `.` or `..` segments")
        } else if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            Some("the file name must be letters, digits, `-`, `_` and `.`")
        } else if !names.insert(name.clone()) {
            Some("another file of this service has the same name")
        } else {
            None
        };
        match why {
            Some(why) => diags.push(
                Diagnostic::new(Code::E0374, format!("`{path}` cannot be mounted as a config file")).label(span, why),
            ),
            None => {
                files.insert(path, content);
            }
        }
    }
    PodDetails {
        files,
        service_account: lit(f, "service_account"),
        labels,
        annotations,
        node_selector,
        prefer_nodes,
        tolerations,
        spread: enm(f, "spread").map(|s| s == "zones"),
        pull_secrets: list_str(f, "pull_secrets"),
        timing,
        startup: probe(f, "startup", port),
    }
}

fn probe(f: &Fields, k: &str, default_port: Option<u16>) -> Option<Probe> {
    let (tag, fs) = tagged(f, k)?;
    // A probe without a port on a workload without one is E0362.
    let p = port(fs, "port").or(default_port).unwrap_or_default();
    Some(match tag {
        "http" => Probe::Http { path: lit(fs, "path").unwrap_or_else(|| "/".into()), port: p },
        "grpc" => Probe::Grpc { port: p },
        "tcp" => Probe::Tcp { port: p },
        _ => Probe::Exec { command: list_str(fs, "command") },
    })
}

/// Variables whose names say they hold a secret: the name ends with a marker
/// (`DB_PASSWORD`, `JWT_SECRET`), so `PASSWORD_MIN_LENGTH` or `TOKEN_TTL` do not.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["SECRET", "PASSWORD", "PASSWD", "TOKEN", "API_KEY", "PRIVATE_KEY", "_KEY", "DSN", "CREDENTIALS"]
        .iter()
        .any(|m| n.ends_with(m))
}

/// A literal that is a plain number (`3600`, `0.5`): no credential.
fn is_plain_number(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.parse::<f64>().is_ok() && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
}

/// `pipeline.actions`: each key names an action of the pin table (by its
/// repository without the owner), each value is `"<40-hex commit> <tag>"`.
fn action_pins(f: &Fields, diags: &mut Diagnostics) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let Some(Val { v: V::Map(m), .. }) = get(f, "actions") else {
        return out;
    };
    let known: Vec<&str> =
        crate::pins::table().actions.keys().filter_map(|k| k.split_once('/').map(|(_, n)| n)).collect();
    for (name, (key_span, val)) in m {
        if !known.contains(&name.as_str()) {
            diags.push(
                Diagnostic::new(Code::E0203, format!("`{name}` is not an action deployc uses"))
                    .label(*key_span, "no action of stdlib/actions.toml has this name")
                    .did_you_mean(
                        *key_span,
                        name,
                        known.iter().copied(),
                        format!("Name one of: {}.", known.join(", ")),
                    ),
            );
            continue;
        }
        let text = match &val.v {
            V::Str(t) => render_static(t),
            _ => continue,
        };
        let mut words = text.split_whitespace();
        let (sha, tag) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let is_sha = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !is_sha || tag.is_empty() || words.next().is_some() {
            diags.push(
                Diagnostic::new(Code::E0303, format!("`{text}` is not a pinned action"))
                    .label(val.span, "expected a 40-hex commit and the tag it stands for")
                    .help(format!(
                        "Write the full commit the release tag points at and the tag, e.g. {name} = \"{} v1.2.3\" (git rev-parse v1.2.3^{{commit}}).",
                        "0123456789abcdef0123456789abcdef01234567"
                    )),
            );
            continue;
        }
        out.insert(name.clone(), (sha.to_string(), tag.to_string()));
    }
    out
}

/// Where the Prometheus Operator's Prometheus answers inside the cluster
/// (the `prometheus-operated` Service it creates, kube-prometheus-stack in
/// the `monitoring` namespace).
const DEFAULT_PROMETHEUS: &str = "http://prometheus-operated.monitoring.svc.cluster.local:9090";

/// The variables of `f.k`. `service` owns them; `env` is the environment of an override.
fn env_map(f: &Fields, k: &str, extra: &mut Extra, service: &str, env: Option<&str>) -> BTreeMap<String, EnvValue> {
    let mut out = BTreeMap::new();
    let Some(Val { v: V::Map(m), .. }) = get(f, k) else {
        return out;
    };
    for (name, (_, val)) in m {
        if let Some(e) = env {
            extra.env_overrides.insert((e.to_string(), service.to_string(), name.clone()));
        }
        let ev = match &val.v {
            V::Str(t) => {
                if looks_secret(name) && t.as_literal().is_some_and(|l| !is_plain_number(&l)) {
                    extra.secret_literals.push(SecretLiteral {
                        span: val.span,
                        var: name.clone(),
                        service: service.to_string(),
                        env: env.map(str::to_string),
                    });
                }
                EnvValue::Literal(t.clone())
            }
            V::Attr(r) => EnvValue::Ref(r.clone()),
            V::Secret { name, key } => EnvValue::Secret { name: name.clone(), key: key.clone() },
            _ => continue,
        };
        out.insert(name.clone(), ev);
    }
    out
}

fn analysis(fs: &Fields, strategy: Option<&str>, extra: &mut Extra) -> Option<Analysis> {
    let a = strukt(fs, "analysis")?;
    let span = get(fs, "analysis").map(|v| v.span)?;
    let provider = enm(a, "provider");
    extra.analyses.push(Analyzed { span, provider: provider.clone(), strategy: strategy.map(str::to_string) });
    Some(Analysis {
        provider,
        success_rate: pct(a, "success_rate").unwrap_or(99.0),
        max_latency_ms: dur(a, "max_latency"),
        interval_ms: dur(a, "interval").unwrap_or(60_000),
        count: int(a, "count", 5) as u32,
        failure_limit: int(a, "failure_limit", 1) as u32,
        inconclusive_limit: int(a, "inconclusive_limit", 1) as u32,
        custom: match get(a, "metrics") {
            Some(Val { v: V::Map(m), .. }) => m
                .iter()
                .filter_map(|(name, (_, v))| match &v.v {
                    V::Struct(f) => Some(CustomMetric {
                        name: name.clone(),
                        query: lit(f, "query")?,
                        success: lit(f, "success")?,
                        failure: lit(f, "failure"),
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
    })
}

/// Builds a strategy and checks canary steps (E0401, E0402, E0405).
fn strategy(
    tag: &str,
    fs: &Fields,
    name: Option<String>,
    anchor: Span,
    extra: &mut Extra,
    diags: &mut Diagnostics,
) -> Strategy {
    let surge = |k: &str, d: Surge| match get(fs, k).map(|v| &v.v) {
        Some(V::Percent(p)) => Surge::Percent(*p),
        Some(V::Int(n)) => Surge::Count(*n as u32),
        _ => d,
    };
    let kind = match tag {
        "canary" => {
            let mut steps = Vec::new();
            let mut last: Option<(f64, Span)> = None;
            let pause = match get(fs, "pause").map(|v| &v.v) {
                Some(V::Pause(p)) => Some(*p),
                _ => None,
            };
            let items = list(fs, "steps");
            let weights = items.iter().filter(|v| matches!(v.v, V::Step(Step::Weight(_)))).count();
            let mut seen = 0;
            for item in items {
                let V::Step(step) = &item.v else { continue };
                if let Step::Weight(w) = step {
                    seen += 1;
                    if *w < 1.0 || *w > 100.0 {
                        diags.push(
                            Diagnostic::new(Code::E0402, format!("canary weight {w}% is outside 1%–100%"))
                                .label(item.span, "weights must be between 1% and 100%"),
                        );
                    }
                    if let Some((prev, prev_span)) = last {
                        if *w <= prev {
                            diags.push(
                                Diagnostic::new(
                                    Code::E0401,
                                    format!("canary weight {w}% does not increase on {prev}%"),
                                )
                                .label(item.span, "not larger than the step before")
                                .label(prev_span, "previous weight"),
                            );
                        }
                    }
                    last = Some((*w, item.span));
                    steps.push(step.clone());
                    // The shared pause goes between weights, not after the last one.
                    if let Some(p) = pause {
                        if seen < weights {
                            steps.push(Step::Pause(p));
                        }
                    }
                } else {
                    steps.push(step.clone());
                }
            }
            if weights == 0 && get(fs, "steps").is_some() {
                diags.push(
                    Diagnostic::new(Code::E0405, "canary has no weight steps")
                        .label(get(fs, "steps").map(|v| v.span).unwrap_or(anchor), "no weights here"),
                );
            }
            let abort = strukt(fs, "abort");
            StrategyKind::Canary {
                steps,
                analysis: analysis(fs, name.as_deref(), extra),
                abort_error_rate: abort.and_then(|a| pct(a, "error_rate")),
                abort_latency_ms: abort.and_then(|a| dur(a, "latency")),
            }
        }
        "blue_green" => StrategyKind::BlueGreen {
            auto_promote: boolean(fs, "auto_promote", false),
            auto_promote_after_ms: dur(fs, "auto_promote_after"),
            scale_down_delay_ms: dur(fs, "scale_down_delay").unwrap_or(30_000),
            analysis: analysis(fs, name.as_deref(), extra),
            analyze_after_switch: boolean(fs, "analyze_after_switch", false),
        },
        _ => StrategyKind::Rolling {
            max_surge: surge("max_surge", Surge::Percent(25.0)),
            max_unavailable: surge("max_unavailable", Surge::Count(0)),
        },
    };
    Strategy { name, kind }
}

fn check_k8s_name(c: &Checked, diags: &mut Diagnostics) {
    if let Some(n) = &c.name {
        if !super::rules::is_dns_label(&n.name) {
            let fixed = super::rules::to_dns_label(&n.name);
            let mut d = Diagnostic::new(Code::E0206, format!("`{}` is not a valid Kubernetes name", n.name))
                .label(n.span, format!("{} names become Kubernetes object names", c.keyword));
            if super::rules::is_dns_label(&fixed) {
                d = d.help(format!("Did you mean `{fixed}`? Names use lowercase letters, digits and `-`, start with a letter and have at most 63 characters.")).suggest(n.span, fixed);
            }
            diags.push(d);
        }
    }
}

/// Builds the model. Returns `None` only when there is no project to build on.
pub fn lower(decls: &[Checked], diags: &mut Diagnostics) -> Option<(Model, Extra)> {
    let mut extra = Extra::default();
    let by_kw = |kw: &str| -> Vec<&Checked> {
        let mut v: Vec<&Checked> = decls.iter().filter(|d| d.keyword == kw).collect();
        v.sort_by(|a, b| a.name().cmp(b.name()));
        v
    };
    for kw in ["project", "service", "resource", "environment"] {
        for c in by_kw(kw) {
            check_k8s_name(c, diags);
        }
    }

    // ---- toolchains, ids first so services can point at them
    let toolchains: Vec<Toolchain> = by_kw("toolchain")
        .iter()
        .enumerate()
        .map(|(i, c)| Toolchain {
            id: ToolchainId(i as u32),
            name: c.name().to_string(),
            family: enm(&c.fields, "family").unwrap_or_default(),
            version: lit(&c.fields, "version"),
            install: lit(&c.fields, "install"),
            lint: list_str(&c.fields, "lint"),
            typecheck: list_str(&c.fields, "typecheck"),
            test: list_str(&c.fields, "test"),
            integration: list_str(&c.fields, "integration"),
            smoke: list_str(&c.fields, "smoke"),
            performance: list_str(&c.fields, "performance"),
            coverage: lit(&c.fields, "coverage"),
            build: lit(&c.fields, "build"),
            cache: lit(&c.fields, "cache"),
            benchmark: strukt(&c.fields, "benchmark").map(|b| Benchmark {
                command: lit(b, "command").unwrap_or_default(),
                output: lit(b, "output").unwrap_or_default(),
                format: enm(b, "format").unwrap_or_default(),
            }),
        })
        .collect();
    let service_decls = by_kw("service");
    let resource_decls = by_kw("resource");
    // Name-to-id maps keep lowering linear in the number of declarations.
    let service_ids: BTreeMap<&str, ServiceId> =
        service_decls.iter().enumerate().map(|(i, c)| (c.name(), ServiceId(i as u32))).collect();
    let resource_ids: BTreeMap<&str, ResourceId> =
        resource_decls.iter().enumerate().map(|(i, c)| (c.name(), ResourceId(i as u32))).collect();
    let known = Known {
        toolchains: &toolchains,
        service_ids: &service_ids,
        resource_ids: &resource_ids,
        resource_decls: &resource_decls,
    };

    // ---- project
    let project_decl = by_kw("project").into_iter().next()?;
    let pf = &project_decl.fields;
    let project_name = project_decl.name().to_string();
    let registry = match tagged(pf, "registry") {
        Some(("ecr", f)) => {
            check_account(f, diags);
            check_cloud_name(f, "region", CloudName::AwsRegion, diags);
            Registry::Ecr { region: lit(f, "region").unwrap_or_default(), account: lit(f, "account") }
        }
        Some(("dockerhub", f)) => {
            check_registry_part(f, RegistryPart::DockerHubNamespace, diags);
            Registry::DockerHub { namespace: lit(f, "namespace").unwrap_or_default() }
        }
        // GitHub names are case-insensitive and GHCR's repositories lower
        // case: `AcmeCorp` pushes to `ghcr.io/acmecorp/...`.
        Some((_, f)) => {
            check_registry_part(f, RegistryPart::GhcrOwner, diags);
            Registry::Ghcr { owner: lit(f, "owner").unwrap_or_default().to_ascii_lowercase() }
        }
        None => Registry::Ghcr { owner: String::new() },
    };
    check_repository(pf, diags);
    let cloud = lower_cloud(tagged(pf, "cloud"), diags);
    let gitops = match tagged(pf, "gitops") {
        Some((_, f)) => GitOps {
            namespace: lit(f, "namespace").unwrap_or_else(|| "argocd".into()),
            mode: if enm(f, "mode").as_deref() == Some("applicationset") {
                GitOpsMode::ApplicationSet
            } else {
                GitOpsMode::Application
            },
            revision: lit(f, "revision").unwrap_or_else(|| "HEAD".into()),
            path: lit(f, "path").unwrap_or_else(|| "out".into()),
            sync: sync_settings(f, diags),
            webhook: get(f, "webhook").map(|_| secret_name(f, "webhook")),
        },
        None => GitOps {
            namespace: "argocd".into(),
            mode: GitOpsMode::Application,
            revision: "HEAD".into(),
            path: "out".into(),
            sync: SyncSettings::default(),
            webhook: None,
        },
    };
    // `self_heal = true` / `prune = true` act on automatic syncs only.
    let sync_flags: Vec<(&str, Span)> = tagged(pf, "gitops")
        .map(|(_, f)| {
            ["self_heal", "prune"]
                .into_iter()
                .filter_map(|k| get(f, k).filter(|v| matches!(v.v, V::Bool(true))).map(|v| (k, v.span)))
                .collect()
        })
        .unwrap_or_default();
    let webhook_span = tagged(pf, "gitops").and_then(|(_, f)| get(f, "webhook")).map(|v| v.span);
    let state_backup_span = get(pf, "state_backup").map(|v| v.span);
    let secret_store = match tagged(pf, "secret_store") {
        Some(("sealed_secrets", f)) => SecretStore::SealedSecrets {
            controller_namespace: lit(f, "controller_namespace").unwrap_or_else(|| "kube-system".into()),
            dir: lit(f, "dir").map(|d| d.trim_end_matches('/').to_string()),
        },
        Some(("aws_secrets_manager", f)) => {
            check_cloud_name(f, "region", CloudName::AwsRegion, diags);
            SecretStore::AwsSecretsManager {
                region: lit(f, "region").unwrap_or_default(),
                prefix: lit(f, "prefix").unwrap_or_else(|| project_name.clone()),
            }
        }
        Some(("vault", f)) => {
            check_cloud_name(f, "address", CloudName::VaultAddress, diags);
            SecretStore::Vault {
                address: lit(f, "address").unwrap_or_default(),
                path: lit(f, "path").unwrap_or_else(|| "secret".into()),
                role: lit(f, "role").unwrap_or_else(|| project_name.clone()),
            }
        }
        Some(("gcp_secret_manager", f)) => {
            check_cloud_name(f, "project", CloudName::GcpProject, diags);
            SecretStore::GcpSecretManager { project: lit(f, "project").unwrap_or_default() }
        }
        _ => SecretStore::Kubernetes,
    };
    let domain = lit(pf, "domain");
    let project = Project {
        span: Some(get(pf, "cloud").map_or_else(|| project_decl.anchor(), |v| v.span)),
        name: project_name.clone(),
        repository: lit(pf, "repository").unwrap_or_default(),
        branch: lit(pf, "branch").unwrap_or_else(|| "main".into()),
        registry,
        cloud,
        gitops,
        dns: tagged(pf, "dns")
            .map(|(_, f)| Dns { zone: lit(f, "zone").or_else(|| domain.clone()).unwrap_or_default() }),
        domain,
        secret_store,
        compliance: list_str(pf, "compliance"),
        team: lit(pf, "team"),
        policy: tagged(pf, "policy").map(|(_, f)| pod_policy(f, diags)),
        mesh: tagged(pf, "mesh").and_then(|(kind, _)| match kind {
            "istio" => Some(Mesh::Istio),
            "linkerd" => Some(Mesh::Linkerd),
            _ => None,
        }),
        state_backup: strukt(pf, "state_backup").map(backup),
    };

    // ---- services: each lowered on its own, pieces of them on all cores,
    // then joined in declaration order (as one loop would have pushed
    // their diagnostics and spans).
    let numbered: Vec<(usize, &Checked)> = service_decls.iter().copied().enumerate().collect();
    let lowered = crate::par::map(&numbered.chunks(SERVICES_PER_PIECE).collect::<Vec<_>>(), |piece| {
        piece
            .iter()
            .map(|&(i, c)| {
                let mut extra = Extra::default();
                let mut diags = Diagnostics::default();
                let (service, stop) = lower_service(i, c, &known, &mut extra, &mut diags);
                (service, extra, diags, stop)
            })
            .collect::<Vec<_>>()
    });
    let mut services = Vec::with_capacity(service_decls.len());
    // Host ports named by `local { port = ... }`, with the service and span:
    // taken in declaration order, so this part runs on one core.
    let mut local_ports: BTreeMap<u16, String> = BTreeMap::new();
    for ((mut service, own, own_diags, stop), c) in lowered.into_iter().flatten().zip(&service_decls) {
        service.local = strukt(&c.fields, "local").map(|l| local_dev(c.name(), l, &mut local_ports, diags));
        extra.absorb(own);
        diags.extend(own_diags);
        services.push(service);
        if stop {
            return None;
        }
    }

    // ---- resources
    let mut resources = Vec::new();
    for (i, c) in resource_decls.iter().enumerate() {
        let f = &c.fields;
        let tag = c.tag.as_ref().map(|t| t.0.as_str()).unwrap_or("");
        let engine = match tag {
            "postgres" => Engine::Postgres,
            "redis" => Engine::Redis,
            "mongodb" => Engine::MongoDb,
            "queue" => Engine::Queue,
            "kafka" => Engine::Kafka,
            _ => Engine::Bucket,
        };
        let default_placement =
            if matches!(engine, Engine::MongoDb | Engine::Kafka) { "in_cluster" } else { "managed" };
        let placement = if enm(f, "placement").as_deref().unwrap_or(default_placement) == "in_cluster" {
            Placement::InCluster
        } else {
            Placement::Managed
        };
        let default_version = match engine {
            Engine::Postgres => "16",
            Engine::Redis | Engine::MongoDb => "7",
            Engine::Kafka => "3.9.0",
            Engine::Queue | Engine::Bucket => "",
        };
        let default_instance = match engine {
            Engine::Postgres => "db.t4g.medium",
            Engine::Redis => "cache.t4g.small",
            Engine::Kafka => "kafka.m7g.large",
            Engine::MongoDb | Engine::Queue | Engine::Bucket => "",
        };
        let default_storage: u64 = match engine {
            Engine::Redis => 1 << 30,
            Engine::Kafka => 100 << 30,
            _ => 20 << 30,
        };
        let default_retention = if engine == Engine::Kafka { 7 } else { 4 } * 86_400_000;
        if engine == Engine::Kafka {
            check_topics(f, diags);
        }
        if let Some(v) = strukt(f, "recovery").and_then(|r| get(r, "rpo")) {
            extra.rpo_spans.insert(c.name().to_string(), v.span);
        }
        if let Some(v) = strukt(f, "recovery").and_then(|r| get(r, "region")) {
            extra.region_spans.insert(c.name().to_string(), v.span);
        }
        if let Some(v) = get(f, "proxy").filter(|v| v.v == V::Bool(true)) {
            if matches!(engine, Engine::Redis | Engine::MongoDb) {
                let service = if engine == Engine::Redis { "ElastiCache" } else { "DocumentDB" };
                diags.push(
                    Diagnostic::new(Code::E0430, format!("`{}`: RDS Proxy cannot serve {}", c.name(), engine.word()))
                        .label(v.span, format!("RDS Proxy has no {service} target"))
                        .help(format!(
                            "Remove `proxy`: {service} is reached directly, and the driver's own connection pool does the pooling."
                        )),
                );
            } else {
                extra.proxy_spans.insert(c.name().to_string(), v.span);
            }
        }
        resources.push(Resource {
            id: ResourceId(i as u32),
            name: c.name().to_string(),
            span: c.name.as_ref().map(|n| n.span),
            version: lit(f, "version").unwrap_or_else(|| default_version.into()),
            placement,
            aurora: boolean(f, "aurora", false),
            serverless: serverless(c.name(), f, diags),
            instance: lit(f, "instance").unwrap_or_else(|| default_instance.into()),
            storage: mem(f, "storage").unwrap_or(default_storage),
            read_replicas: int(f, "read_replicas", 0) as u32,
            multi_az: boolean(f, "multi_az", false),
            cluster: boolean(f, "cluster", false),
            replicas: int(f, "replicas", 0) as u32,
            backup: strukt(f, "backup").map(backup),
            rpo_ms: strukt(f, "recovery").and_then(|r| dur(r, "rpo")),
            rto_ms: strukt(f, "recovery").and_then(|r| dur(r, "rto")),
            dr_region: strukt(f, "recovery").and_then(|r| lit(r, "region")),
            proxy: boolean(f, "proxy", false),
            database: lit(f, "database").unwrap_or_else(|| c.name().replace('-', "_")),
            fifo: boolean(f, "fifo", false),
            retention_ms: dur(f, "retention").unwrap_or(default_retention),
            brokers: int(f, "brokers", 3) as u32,
            topics: list_str(f, "topics"),
            partitions: int(f, "partitions", 3) as u32,
            dead_letter: boolean(f, "dead_letter", true),
            visibility_timeout_ms: dur(f, "visibility_timeout").unwrap_or(30_000),
            versioning: boolean(f, "versioning", true),
            expire_after_ms: dur(f, "expire_after"),
            auth: boolean(f, "auth", true),
            cpu: get(f, "cpu").map(|v| range_q(Some(v), (0, 0))),
            memory: get(f, "memory").map(|v| range_q(Some(v), (0, 0))),
            storage_class: storage_class(f, diags),
            engine,
            alarms: BTreeMap::new(),
        });
        let r = resources.last_mut().expect("just pushed");
        r.alarms = super::alarms::thresholds(strukt(f, "alarms"), r, r.storage, diags);
    }

    // ---- gates and integrations
    let gate_decls = by_kw("gate");
    let gates: Vec<Gate> = gate_decls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let f = &c.fields;
            let tool = c.tag.as_ref().map(|t| t.0.clone()).unwrap_or_default();
            if let Some((_, span)) = &c.tag {
                extra.gate_tool.insert(c.name().to_string(), *span);
            }
            let kind = enm(f, "kind").unwrap_or_else(|| {
                super::schema::GATE_TOOLS.iter().find(|t| t.0 == tool).map(|t| t.1.to_string()).unwrap_or_default()
            });
            let when: Vec<Trigger> = list(f, "when")
                .iter()
                .filter_map(|v| match &v.v {
                    V::Trigger(t) => Some(t.clone()),
                    _ => None,
                })
                .collect();
            Gate {
                id: GateId(i as u32),
                name: c.name().to_string(),
                min: pct(f, "min").or(if kind == "coverage" { Some(70.0) } else { None }),
                kind,
                fail_on: enm(f, "fail_on").unwrap_or_else(|| "high".into()),
                blocking: boolean(f, "blocking", true),
                when: if when.is_empty() { vec![Trigger::PullRequest, Trigger::Push(None)] } else { when },
                services: list_refs(f, "services").iter().filter_map(|(n, _)| known.service_id(n)).collect(),
                sarif: boolean(f, "sarif", true),
                config: lit(f, "config"),
                // An unknown tool is a checking error, and no model is made.
                tool: GateTool::parse(&tool).unwrap_or(GateTool::Tests),
            }
        })
        .collect();
    let integration_decls = by_kw("integration");
    // A Sentry release names its organisation and project (W0016).
    for c in &integration_decls {
        if c.tag.as_ref().map(|t| t.0.as_str()) != Some("sentry") {
            continue;
        }
        let Some(token) = get(&c.fields, "auth_token") else { continue };
        let missing: Vec<&str> = ["org", "project"].into_iter().filter(|k| lit(&c.fields, k).is_none()).collect();
        if !missing.is_empty() {
            let what = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ");
            diags.push(
                Diagnostic::new(Code::W0016, format!("`{}` creates no Sentry releases without {what}", c.name()))
                    .label(token.span, "CI would create releases with this token")
                    .help(format!(
                        "Name the Sentry organisation and project slugs (`org = \"acme\"`, `project = \"shop\"`) in `{}`, or remove `auth_token`.",
                        c.name()
                    )),
            );
        }
    }
    let integration_id =
        |n: &str| integration_decls.iter().position(|c| c.name() == n).map(|i| IntegrationId(i as u32));
    let integrations: Vec<Integration> = integration_decls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let f = &c.fields;
            let kind = match c.tag.as_ref().map(|t| t.0.as_str()).unwrap_or("") {
                "slack" => IntegrationKind::Slack {
                    channel: lit(f, "channel").unwrap_or_default(),
                    webhook: secret_name(f, "webhook"),
                    events: {
                        let e: Vec<NotifyEvent> =
                            list_str(f, "events").iter().filter_map(|w| NotifyEvent::parse(w)).collect();
                        if e.is_empty() {
                            vec![NotifyEvent::Deploy, NotifyEvent::Failure]
                        } else {
                            e
                        }
                    },
                },
                "jira" => IntegrationKind::Jira {
                    url: lit(f, "url").unwrap_or_default(),
                    project: lit(f, "project").unwrap_or_default(),
                    token: secret_name(f, "token"),
                },
                "pagerduty" => IntegrationKind::PagerDuty {
                    routing_key: secret_name(f, "routing_key"),
                    severity: enm(f, "severity").unwrap_or_else(|| "critical".into()),
                },
                "opsgenie" => IntegrationKind::Opsgenie {
                    api_key: secret_name(f, "api_key"),
                    severity: enm(f, "severity").unwrap_or_else(|| "critical".into()),
                    region: enm(f, "region").unwrap_or_else(|| "us".into()),
                },
                "newrelic" => IntegrationKind::NewRelic {
                    account_id: lit(f, "account_id").unwrap_or_default(),
                    api_key: secret_name(f, "api_key"),
                    region: enm(f, "region").unwrap_or_else(|| "us".into()),
                },
                "datadog" => IntegrationKind::Datadog {
                    site: lit(f, "site").unwrap_or_else(|| "datadoghq.com".into()),
                    api_key: secret_name(f, "api_key"),
                    app_key: secret_name(f, "app_key"),
                },
                "sentry" => IntegrationKind::Sentry {
                    dsn: secret_name(f, "dsn"),
                    org: lit(f, "org"),
                    project: lit(f, "project"),
                    auth_token: secret_name(f, "auth_token"),
                },
                _ => IntegrationKind::Codecov { token: secret_name(f, "token") },
            };
            Integration { id: IntegrationId(i as u32), name: c.name().to_string(), kind }
        })
        .collect();

    // ---- named strategies
    let mut named = BTreeMap::new();
    for c in by_kw("strategy") {
        let tag = c.tag.as_ref().map(|t| t.0.as_str()).unwrap_or("rolling");
        // Analyses of named strategies are recorded once, here.
        if c.is_std {
            extra.std_strategies.insert(c.name().to_string());
        }
        named.insert(
            c.name().to_string(),
            strategy(tag, &c.fields, Some(c.name().to_string()), c.anchor(), &mut extra, diags),
        );
    }

    // ---- per-service strategies (issue 11): a service's own replaces its
    // environments'; workers never take a progressive one (no traffic to
    // split, nothing to analyse), jobs and cron jobs have no rollout (E0364).
    for (c, s) in service_decls.iter().zip(services.iter_mut()) {
        let Some(v) = get(&c.fields, "strategy") else { continue };
        let own = match &v.v {
            V::Ref(_, n) => named.get(n).cloned(),
            V::Tagged(tag, fs) => Some(strategy(tag, fs, None, c.anchor(), &mut extra, diags)),
            _ => None,
        };
        let progressive = own.as_ref().is_some_and(|o| !matches!(o.kind, StrategyKind::Rolling { .. }));
        let refused = match s.kind {
            WorkloadKind::Job(_) | WorkloadKind::Cron { .. } => true,
            WorkloadKind::Worker => progressive,
            WorkloadKind::Service => false,
        };
        if refused {
            let word = s.kind.word();
            diags.push(
                Diagnostic::new(Code::E0364, format!("`{}` is a {word}: it cannot roll out with this strategy", s.name))
                    .label(v.span, if progressive && word == "worker" { "canary and blue-green split traffic a worker does not take" } else { "a job runs to completion; it has no rollout" })
                    .help("Remove `strategy`: a worker rolls out with a rolling update, a job or cron job runs its pods to completion."),
            );
            continue;
        }
        s.strategy = own;
    }

    // ---- environments, in promotion order
    let env_decls = by_kw("environment");
    let order = promotion_order(&env_decls);
    // Environment ids are positions in promotion order.
    let env_ids: BTreeMap<&str, EnvId> =
        order.iter().enumerate().map(|(pos, &di)| (env_decls[di].name(), EnvId(pos as u32))).collect();
    let gate_id = |n: &str| gate_decls.iter().position(|c| c.name() == n).map(|i| GateId(i as u32));
    let mut environments = Vec::new();
    for (pos, &di) in order.iter().enumerate() {
        let c = env_decls[di];
        let f = &c.fields;
        let name = c.name().to_string();
        if let Some(v) = get(f, "strategy") {
            extra.env_strategy.insert(name.clone(), v.span);
        }
        match f.get("promote") {
            Some((_, v)) if v.v == V::Error => {
                extra.bad_promote.insert(name.clone());
            }
            Some((_, v)) => {
                extra.env_promote.insert(name.clone(), v.span);
            }
            None => {
                extra.bad_promote.insert(name.clone());
            }
        }
        let strategy = match get(f, "strategy").map(|v| &v.v) {
            Some(V::Ref(_, n)) => named.get(n).cloned().unwrap_or(Strategy { name: None, kind: default_rolling() }),
            Some(V::Tagged(tag, fs)) => strategy(tag, fs, None, c.anchor(), &mut extra, diags),
            _ => Strategy { name: None, kind: default_rolling() },
        };
        let promote = match get(f, "promote").map(|v| &v.v) {
            Some(V::Promotion(p)) => match p {
                PromotionRule::OnPush(b) if b.is_empty() => Promotion::OnPush(vec![project.branch.clone()]),
                PromotionRule::OnPush(b) => Promotion::OnPush(b.clone()),
                PromotionRule::OnTag(t) => Promotion::OnTag(t.clone()),
                // An unknown name has its own error; the model keeps no dangling id.
                PromotionRule::Manual { from } => {
                    Promotion::Manual { from: from.as_deref().and_then(|n| env_ids.get(n).copied()) }
                }
            },
            _ => Promotion::Manual { from: None },
        };
        let namespace_t = tpl(f, "namespace");
        let domain_t = tpl(f, "domain");
        let default_ns = format!("{}-{}", project.name, name);
        let namespace = namespace_t.map(|t| render_env(&t, &project, &name, &default_ns, "")).unwrap_or(default_ns);
        let default_domain = match &project.domain {
            Some(d) => format!("{}-{}.{}", project.name, name, d),
            None => format!("{}-{}.local", project.name, name),
        };
        let domain =
            domain_t.map(|t| render_env(&t, &project, &name, &namespace, &default_domain)).unwrap_or(default_domain);
        if let Some(ns) = get(f, "namespace") {
            if !super::rules::is_dns_label(&namespace) {
                diags.push(
                    Diagnostic::new(Code::E0206, format!("namespace `{namespace}` is not a valid Kubernetes name"))
                        .label(ns.span, "namespaces are DNS labels"),
                );
            }
        }
        // Overrides, borrowed: the program's own, often one per service.
        let no_overrides = Fields::default();
        let overrides = match get(f, "services").map(|v| &v.v) {
            Some(V::Map(m)) => m,
            _ => &no_overrides,
        };
        // Precedence: the service (its preset merged in) < this environment's
        // `service_defaults` < the service's entry in `services`.
        let defaults = match get(f, "service_defaults").map(|v| &v.v) {
            Some(V::Struct(d)) => Some(d),
            _ => None,
        };
        let mut deployments = Vec::new();
        for s in &services {
            let own = match overrides.get(&s.name).map(|(_, v)| &v.v) {
                Some(V::Struct(o)) => Some(o),
                _ => None,
            };
            let o: Option<std::borrow::Cow<Fields>> = match (defaults, own) {
                (Some(d), Some(o)) => Some(std::borrow::Cow::Owned(super::preset::merge(d, o))),
                (d, o) => d.or(o).map(std::borrow::Cow::Borrowed),
            };
            if let Some(o) = &o {
                if !boolean(o, "enabled", true) {
                    continue;
                }
            }
            let mut env = s.env.clone();
            if let Some(o) = &o {
                env.extend(env_map(o, "env", &mut extra, &s.name, Some(&name)));
            }
            deployments.push(Deployment {
                service: s.id,
                replicas: o.as_ref().map(|o| replicas(get(o, "replicas"), s.replicas)).unwrap_or(s.replicas),
                cpu: o.as_ref().and_then(|o| get(o, "cpu")).map(|v| range_cpu(Some(v), s.cpu)).unwrap_or(s.cpu),
                memory: o
                    .as_ref()
                    .and_then(|o| get(o, "memory"))
                    .map(|v| range_q(Some(v), (s.memory.request, s.memory.limit)))
                    .unwrap_or(s.memory),
                env,
                target_cpu: o.as_ref().and_then(|o| pct(o, "target_cpu")).map_or(s.target_cpu, |p| p as u32),
                strategy: match (&s.strategy, &s.kind) {
                    (Some(own), _) => own.clone(),
                    (None, WorkloadKind::Service) => strategy.clone(),
                    // A worker follows a rolling environment's settings, and a
                    // progressive one with the default rolling update.
                    (None, WorkloadKind::Worker) if matches!(strategy.kind, StrategyKind::Rolling { .. }) => {
                        strategy.clone()
                    }
                    (None, _) => Strategy { name: None, kind: default_rolling() },
                },
            });
        }
        let roverrides = match get(f, "resources").map(|v| &v.v) {
            Some(V::Map(m)) => m,
            _ => &no_overrides,
        };
        let env_multi_az = boolean(f, "multi_az", false);
        let res_uses = resources
            .iter()
            .map(|r| {
                let o = match roverrides.get(&r.name).map(|(_, v)| &v.v) {
                    Some(V::Struct(o)) => Some(o),
                    _ => None,
                };
                let placement = match o.as_ref().and_then(|o| enm(o, "placement")) {
                    Some(p) if p == "in_cluster" && r.engine.can_run_in_cluster() => Placement::InCluster,
                    Some(p) if p == "managed" => Placement::Managed,
                    _ => r.placement,
                };
                ResourceUse {
                    resource: r.id,
                    placement,
                    instance: o.as_ref().and_then(|o| lit(o, "instance")).unwrap_or_else(|| r.instance.clone()),
                    read_replicas: o
                        .as_ref()
                        .map(|o| int(o, "read_replicas", r.read_replicas as i64) as u32)
                        .unwrap_or(r.read_replicas),
                    multi_az: o
                        .as_ref()
                        .map(|o| boolean(o, "multi_az", r.multi_az || env_multi_az))
                        .unwrap_or(r.multi_az || env_multi_az),
                    storage: o.as_ref().and_then(|o| mem(o, "storage")).unwrap_or(r.storage),
                    cpu: o.as_ref().and_then(|o| get(o, "cpu")).map(|v| range_q(Some(v), (0, 0))).or(r.cpu),
                    memory: o.as_ref().and_then(|o| get(o, "memory")).map(|v| range_q(Some(v), (0, 0))).or(r.memory),
                    alarms: BTreeMap::new(),
                }
            })
            .collect::<Vec<_>>();
        // The environment's alarm thresholds over the resource's, checked
        // against the storage the resource has here.
        let res_uses = res_uses
            .into_iter()
            .zip(resources.iter())
            .map(|(mut u, r)| {
                let o = match roverrides.get(&r.name).map(|(_, v)| &v.v) {
                    Some(V::Struct(o)) => strukt(o, "alarms"),
                    _ => None,
                };
                let own = super::alarms::thresholds(o, r, u.storage, diags);
                // The resource's free-storage threshold against the storage
                // this environment gives it, where an alarm reads it (its
                // own threshold is checked above).
                if let (Some(free), None, Some((kspan, _))) =
                    (r.alarms.get("free_storage"), own.get("free_storage"), roverrides.get(&r.name))
                {
                    if *free >= u.storage as f64 && u.placement == Placement::Managed {
                        diags.push(
                            Diagnostic::new(Code::E0392, "alarm threshold `free_storage` out of range")
                                .label(*kspan, format!(
                                    "the resource's free_storage is not below the {} GiB it has here: the alarm would always fire",
                                    u.storage as f64 / (1u64 << 30) as f64
                                ))
                                .help("Set `alarms { free_storage = ... }` for this environment below its storage, or give it more storage."),
                        );
                    }
                }
                u.alarms = r.alarms.clone();
                u.alarms.extend(own);
                u
            })
            .collect();
        // Placing a queue or bucket in the cluster is not possible: say so.
        for (rname, (kspan, v)) in roverrides {
            if let V::Struct(o) = &v.v {
                if enm(o, "placement").as_deref() == Some("in_cluster") {
                    if let Some(r) = resources.iter().find(|r| &r.name == rname) {
                        if !r.engine.can_run_in_cluster() {
                            diags.push(
                                Diagnostic::new(
                                    Code::E0208,
                                    format!(
                                        "{} cannot run in the cluster",
                                        crate::suggest::with_article(r.engine.word())
                                    ),
                                )
                                .label(*kspan, "only postgres, redis and mongodb can be in_cluster")
                                .help("Remove the placement; queues and buckets are always managed cloud resources."),
                            );
                        }
                    }
                }
            }
        }
        let mut before: Vec<BeforeHook> = list_str(f, "before").iter().filter_map(|w| BeforeHook::parse(w)).collect();
        if get(f, "before").is_none() {
            before = vec![BeforeHook::Migrations];
        }
        if let Some(v) = get(f, "after") {
            extra.env_after.insert(c.name().to_string(), v.span);
        }
        let mut after: Vec<AfterHook> = list_str(f, "after").iter().filter_map(|w| AfterHook::parse(w)).collect();
        if get(f, "after").is_none() {
            after = vec![AfterHook::HealthCheck];
        }
        environments.push(Environment {
            id: EnvId(pos as u32),
            span: c.name.as_ref().map(|n| n.span),
            namespace,
            cluster: lit(f, "cluster").unwrap_or_else(|| "https://kubernetes.default.svc".into()),
            cloud: tagged(f, "cloud").map(|t| lower_cloud(Some(t), diags)),
            cloud_span: get(f, "cloud").map(|v| v.span),
            domain,
            strategy,
            promote,
            production: boolean(f, "production", false),
            requires: list_refs(f, "requires").iter().filter_map(|(n, _)| gate_id(n)).collect(),
            approvers: list_str(f, "approvers"),
            deployments,
            resources: res_uses,
            notify: list_refs(f, "notify").iter().filter_map(|(n, _)| integration_id(n)).collect(),
            before,
            after,
            multi_az: env_multi_az,
            edge: edge(f),
            volume_backups: volume_backups(f),
            risk: risk(f),
            standby_of: match get(f, "standby_of").map(|v| &v.v) {
                Some(V::Ref(_, n)) => Some(n.clone()),
                _ => None,
            },
            standby_span: get(f, "standby_of").map(|v| v.span),
            patches: patches(f, diags),
            name,
        });
        if let Some(Val { v: V::Promotion(PromotionRule::Manual { from: Some(_) }), span }) = get(f, "promote") {
            extra.env_from.insert(c.name().to_string(), *span);
        }
    }

    // ---- pipeline and observability
    let pipeline_decl = by_kw("pipeline").into_iter().next();
    let empty = Fields::default();
    let pl = pipeline_decl.map(|c| &c.fields).unwrap_or(&empty);
    let triggers: Vec<Trigger> = list(pl, "triggers")
        .iter()
        .filter_map(|v| match &v.v {
            V::Trigger(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    for v in list(pl, "tags") {
        if v.v == V::Enum("latest".into()) {
            extra.latest_tag = Some(v.span);
        }
    }
    let prc = strukt(pl, "pr_checks");
    let pr_spans = PrSpans {
        block: get(pl, "pr_checks").map(|v| v.span),
        complexity: prc.and_then(|p| get(p, "complexity")).map(|v| v.span),
        benchmarks: prc.and_then(|p| get(p, "benchmarks")).map(|v| v.span),
    };
    let pipeline = Pipeline {
        provider: enm(pl, "provider")
            .and_then(|w| PipelineProvider::parse(&w))
            .unwrap_or(PipelineProvider::GithubActions),
        triggers: if triggers.is_empty() {
            vec![Trigger::Push(Some(project.branch.clone())), Trigger::PullRequest]
        } else {
            triggers
        },
        platforms: {
            let p = list_str(pl, "platforms");
            if p.is_empty() {
                vec!["amd64".into()]
            } else {
                p
            }
        },
        sbom: boolean(pl, "sbom", false),
        tags: {
            let t: Vec<TagPolicy> = list_str(pl, "tags").iter().filter_map(|w| TagPolicy::parse(w)).collect();
            if t.is_empty() {
                vec![TagPolicy::BranchSha]
            } else {
                t
            }
        },
        cache: boolean(pl, "cache", true),
        incremental: boolean(pl, "incremental", false),
        pr_checks: prc
            .map(|p| PrChecks {
                title: boolean(p, "title", false),
                size_labels: boolean(p, "size_labels", false),
                coverage: pct(p, "coverage"),
                conflicts: boolean(p, "conflicts", false),
                auto_label: boolean(p, "auto_label", false),
                changed_files: boolean(p, "changed_files", false),
                complexity: get(p, "complexity").map(|_| int(p, "complexity", 0).clamp(0, u32::MAX as i64) as u32),
                benchmarks: pct(p, "benchmarks"),
            })
            .unwrap_or_default(),
        pre_commit: boolean(pl, "pre_commit", false),
        workflows_dir: lit(pl, "workflows_dir").unwrap_or_else(|| ".github/workflows".into()),
        actions: action_pins(pl, diags),
        maintenance: strukt(pl, "maintenance").map(|m| {
            let every = |k: &str, default| enm(m, k).and_then(|w| UpdateInterval::parse(&w)).unwrap_or(default);
            crate::model::Maintenance {
                dependencies: every("dependencies", UpdateInterval::Weekly),
                base_images: every("base_images", UpdateInterval::Monthly),
                span: get(pl, "maintenance").map(|v| v.span),
            }
        }),
    };
    let obs_decl = by_kw("observability").into_iter().next();
    let ob = obs_decl.map(|c| &c.fields).unwrap_or(&empty);
    let sink = |k: &str| {
        tagged(ob, k).map(|(t, f)| Sink {
            kind: t.to_string(),
            endpoint: lit(f, "endpoint").or_else(|| lit(f, "group")),
            sampling: pct(f, "sampling"),
            production_sampling: pct(f, "production_sampling"),
            user: lit(f, "user"),
            password: get(f, "password").map(|_| secret_name(f, "password")).filter(|n| !n.is_empty()),
        })
    };
    // Log shipping (plan/logs.rs): Fluent Bit for elk, loki and cloudwatch,
    // the Datadog agent for datadog. What no output can ship is W0006.
    if let Some((t, f)) = tagged(ob, "logs") {
        let span = get(ob, "logs").map(|v| v.span);
        match t {
            "elk" | "loki" => {
                // Basic auth: a user Fluent Bit's configuration can carry,
                // with the password from the store, both or neither.
                match (get(f, "user"), get(f, "password")) {
                    (Some(v), None) | (None, Some(v)) => diags.push(
                        Diagnostic::new(Code::E0396, "log shipping basic auth needs both `user` and `password`")
                            .label(v.span, "set without the other")
                            .help("Set `user` and `password = secret(\"...\")` together, or neither for an endpoint without authentication."),
                    ),
                    _ => {}
                }
                if let (Some(v), Some(user)) = (get(f, "user"), lit(f, "user")) {
                    let ok = !user.is_empty()
                        && user.len() <= 128
                        && user.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-'));
                    if !ok {
                        diags.push(
                            Diagnostic::new(Code::E0397, format!("`{}` is not a log shipping user", user.escape_debug()))
                                .label(v.span, "letters, digits and `._@+-` only, at most 128")
                                .help("Use the user name as the log store knows it; it is written into Fluent Bit's configuration, which has no quoting."),
                        );
                    }
                }
                if let Some(v) = get(f, "endpoint") {
                    let text = lit(f, "endpoint").unwrap_or_default();
                    if crate::model::LogEndpoint::parse(&text).is_none() {
                        diags.push(
                            Diagnostic::new(
                                Code::E0385,
                                format!("log endpoint `{}` cannot be a Fluent Bit output", text.escape_debug()),
                            )
                            .label(v.span, "not an http(s) URL with a host, optional port and plain path"),
                        );
                    }
                }
            }
            "cloudwatch" => {
                if let (Some(v), Some(g)) = (get(f, "group"), lit(f, "group")) {
                    if !crate::model::valid_log_group(&g) {
                        diags.push(
                            Diagnostic::new(
                                Code::E0386,
                                format!("`{}` is not a CloudWatch log group name", g.escape_debug()),
                            )
                            .label(v.span, "letters, digits and `_-/.#` only"),
                        );
                    }
                }
                if !matches!(project.cloud, crate::model::Cloud::Aws { .. }) {
                    if let Some(span) = span {
                        diags.push(
                            Diagnostic::new(Code::W0006, "logs = cloudwatch ships no logs on this cloud")
                                .label(
                                    span,
                                    "only the AWS Terraform creates the log groups and the role Fluent Bit writes with",
                                )
                                .help("Use `logs = elk`, `loki` or `datadog`, or move the project to `cloud = aws`."),
                        );
                    }
                }
            }
            "datadog" => {
                let has_key = integration_decls.iter().any(|c| c.tag.as_ref().is_some_and(|t| t.0 == "datadog"));
                if let (false, Some(span)) = (has_key, span) {
                    diags.push(
                        Diagnostic::new(Code::W0006, "logs = datadog ships no logs without a datadog integration")
                            .label(span, "the Datadog agent needs the integration's `api_key` and `site`")
                            .help("Declare `integration datadog = datadog { site = \"datadoghq.com\" api_key = secret(\"datadog-api-key\") }`."),
                    );
                }
            }
            _ => {}
        }
    }
    let observability = Observability {
        metrics: tagged(ob, "metrics").map(|(t, f)| Metrics {
            provider: t.to_string(),
            scrape_interval_ms: dur(f, "scrape_interval").unwrap_or(30_000),
            path: lit(f, "path").unwrap_or_else(|| "/metrics".into()),
            address: lit(f, "address").unwrap_or_else(|| DEFAULT_PROMETHEUS.into()),
            selector_labels: match get(f, "selector_labels") {
                Some(Val { v: V::Map(m), .. }) => m
                    .iter()
                    .filter_map(|(k, (_, v))| match &v.v {
                        V::Str(t) => Some((k.clone(), render_static(t))),
                        _ => None,
                    })
                    .collect(),
                _ => BTreeMap::from([("release".to_string(), "kube-prometheus-stack".to_string())]),
            },
        }),
        dashboards: enm(ob, "dashboards"),
        alerts: strukt(ob, "alerts").map(|a| {
            // Alertmanager has receivers for chat and paging only (plan/observability.rs).
            for (n, span) in list_refs(a, "route_to") {
                let tag = integration_decls
                    .iter()
                    .find(|c| c.name() == n)
                    .and_then(|c| c.tag.as_ref())
                    .map(|t| t.0.as_str())
                    .unwrap_or("");
                if !tag.is_empty() && !matches!(tag, "slack" | "pagerduty" | "opsgenie") {
                    diags.push(
                        Diagnostic::new(Code::W0006, format!("alerts cannot be routed to {tag} integration `{n}`"))
                            .label(span, "no Alertmanager receiver for this kind"),
                    );
                }
            }
            Alerts {
                crash_loop: boolean(a, "crash_loop", false),
                error_rate: pct(a, "error_rate"),
                latency_ms: dur(a, "latency"),
                cert_expiry_ms: dur(a, "cert_expiry"),
                resource_exhaustion: pct(a, "resource_exhaustion"),
                database_down: boolean(a, "database_down", false),
                route_to: list_refs(a, "route_to").iter().filter_map(|(n, _)| integration_id(n)).collect(),
            }
        }),
        tracing: sink("tracing"),
        logs: sink("logs"),
        custom_metrics: super::metrics::custom_metrics(list(ob, "custom_metrics"), &services, diags),
    };
    if let Some(v) = get(ob, "custom_metrics").filter(|_| !observability.custom_metrics.is_empty()) {
        if observability.metrics.is_none() || observability.dashboards.as_deref() != Some("grafana") {
            diags.push(
                Diagnostic::new(Code::W0012, "no dashboard charts the project's custom metrics")
                    .label(v.span, "declared here")
                    .help("Nothing scrapes or charts them: declare `metrics = prometheus` and `dashboards = grafana` in `observability`."),
            );
        }
    }
    let model = Model {
        project,
        toolchains,
        services,
        resources,
        environments,
        gates,
        integrations,
        pipeline,
        observability,
        sealed: Sealed::default(),
    };
    sync_without_auto(&model, &sync_flags, diags);
    webhook_without_host(&model, webhook_span, diags);
    state_backup_off_aws(&model, state_backup_span, diags);
    pr_check_rules(&model, &pr_spans, diags);
    Some((model, extra))
}

/// The `argocd { self_heal prune retry }` settings; E0428 for a retry
/// limit outside [`SYNC_RETRY`].
/// What a service's lowering looks up among the other declarations.
struct Known<'a> {
    toolchains: &'a [Toolchain],
    service_ids: &'a BTreeMap<&'a str, ServiceId>,
    resource_ids: &'a BTreeMap<&'a str, ResourceId>,
    resource_decls: &'a [&'a Checked],
}

impl Known<'_> {
    fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.service_ids.get(name).copied()
    }
    fn resource_id(&self, name: &str) -> Option<ResourceId> {
        self.resource_ids.get(name).copied()
    }
}

/// Lowers one service declaration (the `i`-th), with its spans in `extra`
/// and its diagnostics in `diags`; `true` when lowering must stop after it
/// (no language resolved and no toolchain to fall back on).
fn lower_service(i: usize, c: &Checked, known: &Known, extra: &mut Extra, diags: &mut Diagnostics) -> (Service, bool) {
    let f = &c.fields;
    let kind = workload_kind(c.name(), f, diags);
    let port_ = port(f, "port");
    let language = match get(f, "language").map(|v| &v.v) {
        Some(V::Ref(_, n)) => known.toolchains.iter().position(|t| &t.name == n),
        _ => None,
    };
    let prebuilt = image_source(c, diags);
    if language.is_none() && prebuilt.is_none() {
        extra.unresolved_language.insert(c.name().to_string());
    }
    let mut deps = BTreeSet::new();
    let mut uses = BTreeSet::new();
    let env = env_map(f, "env", extra, c.name(), None);
    let mut note_ref = |r: &AttrRef, span: Span, extra: &mut Extra| match &r.target {
        AttrTarget::Service(n) => {
            if let Some(id) = known.service_id(n) {
                deps.insert(id);
                extra.dep_spans.entry((c.name().to_string(), n.clone())).or_insert(span);
            }
        }
        AttrTarget::Resource(n) => {
            if let Some(id) = known.resource_id(n) {
                uses.insert(id);
                extra.use_spans.entry((c.name().to_string(), n.clone())).or_insert(span);
            }
        }
        _ => {}
    };
    if let Some(Val { v: V::Map(m), .. }) = get(f, "env") {
        for (_, val) in m.values() {
            match &val.v {
                V::Attr(r) => note_ref(r, val.span, extra),
                V::Str(t) => t.parts.iter().for_each(|p| {
                    if let TPart::Ref(r) = p {
                        note_ref(r, val.span, extra)
                    }
                }),
                _ => {}
            }
        }
    }
    for (n, span) in list_refs(f, "depends_on") {
        if let Some(id) = known.service_id(&n) {
            deps.insert(id);
            extra.dep_spans.entry((c.name().to_string(), n)).or_insert(span);
        }
    }
    for (n, _) in list_refs(f, "uses") {
        if let Some(id) = known.resource_id(&n) {
            uses.insert(id);
        }
    }
    let sec = strukt(f, "security");
    let security = Security {
        run_as_user: sec.map(|s| int(s, "run_as_user", 10001)).unwrap_or(10001) as u32,
        read_only_root_filesystem: sec.map(|s| boolean(s, "read_only_root_filesystem", true)).unwrap_or(true),
        allow_privilege_escalation: sec.map(|s| boolean(s, "allow_privilege_escalation", false)).unwrap_or(false),
        writable_paths: sec
            .map(|s| list_str(s, "writable_paths"))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| vec!["/tmp".into()]),
    };
    if let Some(s) = sec {
        for (key, bad) in [("read_only_root_filesystem", false), ("allow_privilege_escalation", true)] {
            if let Some((kspan, Val { v: V::Bool(b), .. })) = s.get(key) {
                if *b == bad {
                    diags.push(
                        Diagnostic::new(Code::W0003, format!("service `{}` relaxes `{key}`", c.name()))
                            .label(*kspan, "secure default relaxed here"),
                    );
                }
            }
        }
        if let Some((kspan, Val { v: V::Int(0), .. })) = s.get("run_as_user") {
            diags.push(
                Diagnostic::new(Code::E0303, "run_as_user 0 would run the container as root")
                    .label(*kspan, "root is refused")
                    .help("Use a non-zero user id such as 10001; deployc always sets runAsNonRoot."),
            );
        }
    }
    let build = strukt(f, "build");
    let build_context = build.and_then(|b| lit(b, "context")).unwrap_or_else(|| ".".into());
    let dockerfile = build.and_then(|b| lit(b, "dockerfile")).unwrap_or_else(|| {
        if build_context == "." {
            "Dockerfile".into()
        } else {
            format!("{build_context}/Dockerfile")
        }
    });
    let expose = match tagged(f, "expose") {
        Some(("ingress", e)) => Exposure::Ingress {
            host: tpl(e, "host").unwrap_or_else(|| Template::literal("")),
            path: lit(e, "path").unwrap_or_else(|| "/".into()),
            tls: boolean(e, "tls", true),
            class: lit(e, "class").unwrap_or_else(|| "nginx".into()),
            certificate: tpl(e, "certificate"),
        },
        Some(("load_balancer", _)) => Exposure::LoadBalancer,
        _ => Exposure::Internal,
    };
    let health = probe(f, "health", port_);
    for k in ["health", "readiness"] {
        if let (Some((_, v)), None) = (f.get(k), port_) {
            let needs_port = matches!(&v.v, V::Tagged(tag, fs) if tag != "exec" && port(fs, "port").is_none());
            if needs_port {
                diags.push(
                    Diagnostic::new(Code::E0362, format!("`{k}` of `{}` probes a port it does not have", c.name()))
                        .label(v.span, "no `port` here, and the workload declares none")
                        .help("Name the port the process listens on, e.g. `http { path = \"/healthz\" port = 9090 }`, or check it with `exec { command = [...] }`."),
                );
            }
        }
    }
    if f.contains_key("health") || f.contains_key("readiness") {
        extra.probe_given.insert(c.name().to_string());
    }
    if let Some(v) = get(f, "vpa") {
        extra.vpa_spans.insert(c.name().to_string(), v.span);
    }
    let mut service = Service {
        id: ServiceId(i as u32),
        name: c.name().to_string(),
        span: c.name.as_ref().map(|n| n.span),
        image: lit(f, "image").unwrap_or_else(|| c.name().to_string()),
        build_context,
        dockerfile,
        build_target: build.and_then(|b| lit(b, "target")),
        source: match prebuilt {
            Some(reference) => ImageSource::Prebuilt { reference },
            None => ImageSource::Build { language: ToolchainId(language.unwrap_or(0) as u32) },
        },
        framework: lit(f, "framework"),
        command: list_str(f, "command"),
        args: list_str(f, "args"),
        port: port_,
        service_port: port(f, "service_port").or(port_),
        expose,
        readiness: probe(f, "readiness", port_).or_else(|| health.clone()),
        health,
        cpu: range_cpu(get(f, "cpu"), Cpu { request: 100, limit: Some(500) }),
        memory: range_q(get(f, "memory"), (128 << 20, 256 << 20)),
        replicas: replicas(get(f, "replicas"), Replicas::Fixed(1)),
        target_cpu: pct(f, "target_cpu").unwrap_or(70.0) as u32,
        env,
        migrations: strukt(f, "migrations").map(|m| Migrations {
            command: list_str(m, "command"),
            tool: enm(m, "tool").unwrap_or_else(|| "custom".into()),
        }),
        depends_on: deps.into_iter().collect(),
        uses: uses.into_iter().collect(),
        security,
        metrics: boolean(f, "metrics", true),
        custom_metrics: super::metrics::custom_metrics(list(f, "custom_metrics"), &[], diags),
        slo: slo(f, diags),
        // Taken in declaration order by the caller.
        local: None,
        vpa: enm(f, "vpa").and_then(|w| VpaMode::parse(&w)),
        pod: pod_details(f, port_, diags),
        kind,
        strategy: None,
        ports: named_ports(c.name(), f, port_, diags),
        services: Vec::new(),
        canary_service: lit(f, "canary_service"),
        preview_service: lit(f, "preview_service"),
        queue_scaling: strukt(f, "queue_scaling").and_then(|q| {
            let (name, span) = match get(q, "queue") {
                Some(Val { v: V::Ref(_, n), span }) => (n.clone(), *span),
                _ => return None,
            };
            let id = known.resource_id(&name)?;
            let tag = known.resource_decls[id.index()].tag.as_ref().map(|t| t.0.as_str()).unwrap_or("");
            queue_scaling(q, id, tag, span, diags)
        }),
    };
    if let Some(q) = service.queue_scaling.clone() {
        if let Some(v) = get(f, "queue_scaling") {
            extra.queue_scaling_spans.insert(c.name().to_string(), v.span);
        }
        // KEDA reads the resource: the service uses it.
        if !service.uses.contains(&q.resource) {
            service.uses.push(q.resource);
            service.uses.sort();
        }
    }
    service.services = extra_services(&service, f, diags);
    let stop = language.is_none() && known.toolchains.is_empty() && service.prebuilt().is_none();
    (service, stop)
}

fn sync_settings(f: &Fields, diags: &mut Diagnostics) -> SyncSettings {
    let d = SyncSettings::default();
    let retry = int(f, "retry", d.retry);
    if let Some(v) = get(f, "retry") {
        if !SYNC_RETRY.contains(&retry) {
            diags.push(
                Diagnostic::new(Code::E0428, format!("a sync retry limit of {retry} is out of range"))
                    .label(v.span, "expected 0 to 50 retries"),
            );
        }
    }
    SyncSettings {
        self_heal: boolean(f, "self_heal", d.self_heal),
        prune: boolean(f, "prune", d.prune),
        retry: retry.clamp(*SYNC_RETRY.start(), *SYNC_RETRY.end()),
    }
}

/// E0429: `self_heal = true` or `prune = true` written where no environment
/// syncs automatically (none is promoted `on_push`): they would change nothing.
fn sync_without_auto(model: &Model, flags: &[(&str, Span)], diags: &mut Diagnostics) {
    if flags.is_empty() || model.environments.iter().any(|e| matches!(e.promote, Promotion::OnPush(_))) {
        return;
    }
    for (k, span) in flags {
        diags.push(
            Diagnostic::new(Code::E0429, format!("`{k} = true` applies to no environment"))
                .label(*span, "only automatic syncs heal and prune, and no environment is promoted `on_push`"),
        );
    }
}

/// A `backup { schedule retain }` block (`retain` in whole days, a week by default).
fn backup(b: &Fields) -> Backup {
    Backup {
        schedule: enm(b, "schedule").unwrap_or_else(|| "daily".into()),
        retain_days: dur(b, "retain").map(|d| d.div_ceil(86_400_000)).unwrap_or(7),
    }
}

/// Where the `pr_checks` block and its checked fields are written.
struct PrSpans {
    block: Option<Span>,
    complexity: Option<Span>,
    benchmarks: Option<Span>,
}

/// E0451: `benchmarks` where no built service's toolchain has a
/// `benchmark` (the check would compare nothing); E0452: a complexity
/// limit below 1; W0020: pull-request checks under a CI other than GitHub
/// Actions, which alone renders them.
fn pr_check_rules(model: &Model, spans: &PrSpans, diags: &mut Diagnostics) {
    let pc = &model.pipeline.pr_checks;
    if let (Some(span), true) = (spans.benchmarks, pc.benchmarks.is_some()) {
        if !model.built_services().any(|b| b.toolchain.benchmark.is_some()) {
            diags.push(
                Diagnostic::new(Code::E0451, "pull-request benchmarks with nothing to run")
                    .label(span, "no toolchain of a service CI builds declares `benchmark`"),
            );
        }
    }
    if let (Some(span), Some(0)) = (spans.complexity, pc.complexity) {
        diags.push(
            Diagnostic::new(Code::E0452, "a complexity limit below 1 fails every function")
                .label(span, "the least cyclomatic complexity of a function is 1"),
        );
    }
    if let (Some(span), false) = (spans.block, model.pipeline.provider == PipelineProvider::GithubActions) {
        diags.push(
            Diagnostic::new(
                Code::W0020,
                format!("pull-request checks are not rendered for {}", model.pipeline.provider.word()),
            )
            .label(span, "only GitHub Actions runs these checks (`pr-checks.yml`)"),
        );
    }
}

/// E0450: `state_backup` where the state is not in S3 (a GCP or Azure
/// project keeps it in GCS or Azure Storage, which AWS Backup cannot read).
fn state_backup_off_aws(model: &Model, span: Option<Span>, diags: &mut Diagnostics) {
    let Some(span) = span else { return };
    if !matches!(model.project.cloud, crate::model::Cloud::Aws { .. }) {
        diags.push(Diagnostic::new(Code::E0450, "the Terraform state is backed up on AWS only").label(
            span,
            format!("the project's cloud is {}, where the state is not in S3", model.project.cloud.kind()),
        ));
    }
}

/// E0449: a push webhook for a repository on a host ArgoCD's webhook
/// handler is not configured for here (only GitHub and GitLab are).
fn webhook_without_host(model: &Model, span: Option<Span>, diags: &mut Diagnostics) {
    let Some(span) = span else { return };
    if model.repository_host().is_none() {
        diags.push(
            Diagnostic::new(
                Code::E0449,
                format!(
                    "no push webhook for repository `{}`: its host is not GitHub or GitLab",
                    model.project.repository
                ),
            )
            .label(span, "the webhook is configured on github.com or gitlab.com only"),
        );
    }
}

/// Characters Kyverno reads as pattern operators in an image pattern.
const PATTERN_CHARS: &[char] = &['*', '?', '|', '!', '&', '<', '>', '=', '(', ')', ' '];

/// `policy = kyverno { ... }`; E0334 for an allowed registry that is empty
/// or holds a character Kyverno's patterns would read as an operator.
fn pod_policy(f: &Fields, diags: &mut Diagnostics) -> PodPolicy {
    for v in list(f, "registries") {
        let V::Str(t) = &v.v else { continue };
        let text = render_static(t);
        if text.is_empty() || text.contains(PATTERN_CHARS) {
            diags.push(
                Diagnostic::new(Code::E0334, format!("allowed registry {text:?} is not a plain image prefix"))
                    .label(v.span, "a prefix such as \"public.ecr.aws/acme/\"")
                    .help("Write the beginning of the allowed image names, without `*`, `?`, `|`, `!`, `&`, `<`, `>`, `=`, parentheses or spaces: the policy adds the wildcard itself."),
            );
        }
    }
    PodPolicy {
        enforce: enm(f, "action").is_none_or(|a| a == "enforce"),
        registries: list(f, "registries")
            .iter()
            .filter_map(|v| match &v.v {
                V::Str(t) => Some(render_static(t)),
                _ => None,
            })
            .collect(),
    }
}

/// A service's `local { ... }` block; E0333 for a relative `sync`, an empty
/// `command` and a host port another service already took.
fn local_dev(service: &str, f: &Fields, ports: &mut BTreeMap<u16, String>, diags: &mut Diagnostics) -> LocalDev {
    let sync = lit(f, "sync");
    if let (Some(path), Some(v)) = (&sync, get(f, "sync")) {
        if !path.starts_with('/') {
            diags.push(
                Diagnostic::new(Code::E0333, format!("`sync` of service `{service}` is not an absolute path"))
                    .label(v.span, "a path inside the container, from its root")
                    .help("Write the folder the container runs from, e.g. `sync = \"/app\"`."),
            );
        }
    }
    let command = list_str(f, "command");
    if let (true, Some(v)) = (command.is_empty(), get(f, "command")) {
        diags.push(
            Diagnostic::new(Code::E0333, format!("empty `command` for service `{service}`"))
                .label(v.span, "no command")
                .help("Name the dev command, e.g. `command = [\"npm\", \"run\", \"dev\"]`, or leave the field out to run the image's."),
        );
    }
    let port = port(f, "port");
    if let (Some(p), Some(v)) = (port, get(f, "port")) {
        if let Some(other) = ports.get(&p) {
            diags.push(
                Diagnostic::new(Code::E0333, format!("services `{other}` and `{service}` both take local port {p}"))
                    .label(v.span, format!("already taken by `{other}`"))
                    .help("Give each service its own `local { port = ... }`; a service without one gets the next free port."),
            );
        } else {
            ports.insert(p, service.to_string());
        }
    }
    LocalDev { sync, command, port, ignore: list_str(f, "ignore") }
}

/// Kafka topic names: what Kafka accepts, and distinct as KafkaTopic objects.
fn check_topics(f: &Fields, diags: &mut Diagnostics) {
    let mut objects: BTreeMap<String, String> = BTreeMap::new();
    for v in list(f, "topics") {
        let V::Str(t) = &v.v else { continue };
        let name = render_static(t);
        let legal = !name.is_empty()
            && name.len() <= 249
            && name != "."
            && name != ".."
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        let object = topic_object_name(&name);
        let clash = objects.insert(object.clone(), name.clone());
        let problem = if !legal {
            Some((
                "Kafka accepts letters, digits, `.`, `_` and `-`, at most 249 of them".to_string(),
                Code::E0307.info().help.to_string(),
            ))
        } else {
            clash.map(|other| {
                (
                    format!("`{other}` names the same KafkaTopic object `{object}`"),
                    "Rename one of the two topics so they still differ in lowercase with `_` written as `-`."
                        .to_string(),
                )
            })
        };
        if let Some((why, help)) = problem {
            diags.push(
                Diagnostic::new(Code::E0307, format!("invalid Kafka topic name `{name}`"))
                    .label(v.span, why)
                    .help(help),
            );
        }
    }
}

/// An environment's `patches`; E0230 for a target that is not `Kind/name`.
/// Aurora Serverless v2 capacity (`serverless = 0.5..16`) in half ACUs:
/// Aurora takes 0.5 to 256 ACUs in steps of 0.5, the minimum not above the
/// maximum (E0427), and only on an Aurora cluster (E0426).
fn serverless(name: &str, f: &Fields, diags: &mut Diagnostics) -> Option<(u32, u32)> {
    let v = get(f, "serverless")?;
    let q = range_q(Some(v), (0, 0));
    if !boolean(f, "aurora", false) {
        diags.push(
            Diagnostic::new(Code::E0426, format!("`{name}` sets a serverless capacity but is not Aurora"))
                .label(v.span, "Aurora Serverless v2 capacity"),
        );
        return None;
    }
    let ok = |m: u64| m % 500 == 0 && (500..=256_000).contains(&m);
    if !ok(q.request) || !ok(q.limit) || q.request > q.limit {
        diags.push(
            Diagnostic::new(
                Code::E0427,
                format!("`{name}`: serverless capacity must be min..max ACUs between 0.5 and 256 in steps of 0.5"),
            )
            .label(v.span, "not a capacity Aurora Serverless v2 accepts"),
        );
        return None;
    }
    if let Some(i) = get(f, "instance") {
        diags.push(
            Diagnostic::new(Code::W0017, format!("`{name}`: `instance` is unused under `serverless`"))
                .label(i.span, "ignored: every instance is `db.serverless`")
                .label(v.span, "the capacity comes from here"),
        );
    }
    Some(((q.request / 500) as u32, (q.limit / 500) as u32))
}

/// A service's `slo`: an objective strictly between 0% and 100% (at 100%
/// the error budget is zero and every burn-rate alert divides by it) over
/// a window of a day to a quarter (E0398).
fn slo(f: &Fields, diags: &mut Diagnostics) -> Option<Slo> {
    let s = strukt(f, "slo")?;
    let span = get(f, "slo").map(|v| v.span);
    let availability = pct(s, "availability").unwrap_or(99.9);
    let window_ms = dur(s, "window").unwrap_or(30 * 86_400_000);
    if !(availability > 0.0 && availability < 100.0) {
        diags.push(
            Diagnostic::new(
                Code::E0398,
                format!("an availability objective of {availability}% leaves no error budget to alert on"),
            )
            .label(get(s, "availability").map(|v| v.span).or(span).unwrap_or_default(), "above 0% and below 100%")
            .help(Code::E0398.info().help),
        );
    }
    let days_exact = window_ms % 86_400_000 == 0;
    if !days_exact || !SLO_WINDOW_DAYS.contains(&(window_ms / 86_400_000)) {
        diags.push(
            Diagnostic::new(Code::E0398, "an SLO window is whole days, from 1d to 90d")
                .label(
                    get(s, "window").map(|v| v.span).or(span).unwrap_or_default(),
                    "not a window the alerts can measure",
                )
                .help(Code::E0398.info().help),
        );
    }
    Some(Slo { availability, window_ms, span })
}

/// An environment's `volume_backups` block; its rules need the cluster and
/// the cloud and run in `volumes::check`.
fn volume_backups(f: &Fields) -> Option<crate::model::VolumeBackups> {
    let span = get(f, "volume_backups")?.span;
    let b = strukt(f, "volume_backups")?;
    Some(crate::model::VolumeBackups {
        schedule: enm(b, "schedule").unwrap_or_else(|| "daily".into()),
        retain_minutes: dur(b, "retain").map(|d| d.div_ceil(60_000)).unwrap_or(30 * 24 * 60),
        span: Some(span),
        retain_span: get(b, "retain").map(|v| v.span),
    })
}

/// An environment's `risk` block; its rules need the strategy and the
/// pipeline and run in `risk::check`.
fn risk(f: &Fields) -> Option<crate::model::RiskRule> {
    let span = get(f, "risk")?.span;
    let r = strukt(f, "risk")?;
    let mut paths = Vec::new();
    let mut path_spans = Vec::new();
    for v in list(r, "paths") {
        if let V::Str(t) = &v.v {
            paths.push(render_static(t));
            path_spans.push(Some(v.span));
        }
    }
    let trailer = match get(r, "trailer").map(|v| &v.v) {
        Some(V::Str(t)) => render_static(t),
        _ => "Risk: high".into(),
    };
    Some(crate::model::RiskRule {
        paths,
        trailer,
        span: Some(span),
        path_spans,
        trailer_span: get(r, "trailer").map(|v| v.span),
    })
}

/// An environment's `edge` block; its rules need the whole program (the
/// cloud, the services' ingress classes) and run in `rules::edge`.
fn edge(f: &Fields) -> Option<crate::model::EdgeProtection> {
    let span = get(f, "edge")?.span;
    let e = strukt(f, "edge")?;
    let rate_limit = match get(e, "rate_limit").map(|v| &v.v) {
        Some(V::Int(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 2000,
    };
    Some(crate::model::EdgeProtection {
        waf: boolean(e, "waf", true),
        rate_limit,
        shield: boolean(e, "shield", false),
        min_tls: enm(e, "min_tls").and_then(|w| crate::model::MinTls::parse(&w)),
        span: Some(span),
        rate_limit_span: get(e, "rate_limit").map(|v| v.span),
        min_tls_span: get(e, "min_tls").map(|v| v.span),
        cdn: cdn(e),
    })
}

/// The `cdn` block of an environment's `edge`; its rules run in `check::edge`.
fn cdn(e: &Fields) -> Option<crate::model::Cdn> {
    let span = get(e, "cdn")?.span;
    let c = strukt(e, "cdn")?;
    let mut paths = Vec::new();
    let mut path_spans = Vec::new();
    for v in list(c, "paths") {
        if let V::Str(t) = &v.v {
            paths.push(render_static(t));
            path_spans.push(Some(v.span));
        }
    }
    Some(crate::model::Cdn { paths, span: Some(span), path_spans })
}

fn patches(f: &Fields, diags: &mut Diagnostics) -> Vec<Patch> {
    let mut out = Vec::new();
    for v in list(f, "patches") {
        let V::Struct(p) = &v.v else { continue };
        let (Some(target), Some(file)) = (lit(p, "target"), lit(p, "file")) else { continue };
        let span = get(p, "target").map(|t| t.span);
        match target.split_once('/') {
            Some((kind, name))
                if kind.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && kind.chars().all(|c| c.is_ascii_alphanumeric())
                    && !name.is_empty()
                    && !name.contains('/') =>
            {
                out.push(Patch { kind: kind.to_string(), name: name.to_string(), file, span });
            }
            _ => diags.push(
                Diagnostic::new(Code::E0230, format!("`{target}` does not name an object"))
                    .label_opt(span, "expected `Kind/name`")
                    .help(
                        "Name the patched object as `Kind/name`, the kind spelt as Kubernetes does: `Deployment/api`.",
                    ),
            ),
        }
    }
    out
}

/// Reads a service's `image`: `Some(reference)` for a prebuilt image (a tag
/// or a digest), `None` for one built here. A reference that does not parse
/// is E0310; `language` or `build` beside a prebuilt image, or neither
/// beside a built one, is E0311 / E0204.
fn image_source(c: &Checked, diags: &mut Diagnostics) -> Option<String> {
    let f = &c.fields;
    let (span, text) = match f.get("image") {
        Some((_, v @ Val { v: V::Str(t), .. })) => (v.span, t.as_literal()?),
        // The image defaults to the service name, which E0206 checks.
        _ => (c.anchor(), c.name().to_ascii_lowercase()),
    };
    let r = match crate::image::parse(&text) {
        Ok(r) => r,
        Err(_) if !f.contains_key("image") => {
            crate::image::ImageRef { registry: None, repository: text.clone(), tag: None, digest: None }
        }
        Err(e) => {
            diags.push(
                Diagnostic::new(Code::E0310, e.message(&text))
                    .label(span, "not a valid image reference")
                    .help(e.help()),
            );
            return None;
        }
    };
    if !r.is_pinned() {
        if !f.contains_key("language") {
            diags.push(
                Diagnostic::new(Code::E0204, "missing required field `language`")
                    .label(c.anchor(), format!("`{text}` is built here, so it needs a toolchain"))
                    .help("Add `language = ...` (the toolchain that lints and tests it), or give `image` a tag or digest to deploy a prebuilt image."),
            );
        }
        return None;
    }
    for key in ["language", "build"] {
        if let Some((kspan, _)) = f.get(key) {
            diags.push(
                Diagnostic::new(Code::E0311, format!("`{key}` is set for the prebuilt image `{text}`"))
                    .label(*kspan, "nothing is built for this service")
                    .label(span, "a tag or digest makes this a prebuilt image")
                    .help("Remove the field, or write `image` without a tag to build the image from this repository."),
            );
        }
    }
    Some(text)
}

// ---- workload kinds (issue 11)

/// The workload kind of a service, with its rules: a cron job needs a valid
/// schedule (E0360); a worker, job or cron job takes no connections, so no
/// `port`, `service_port` or `expose` (E0361); the schedule, concurrency,
/// retries and deadline belong to jobs and cron jobs (E0363).
fn workload_kind(name: &str, f: &Fields, diags: &mut Diagnostics) -> WorkloadKind {
    let word = enm(f, "kind").unwrap_or_else(|| "service".into());
    let kind_span = f.get("kind").map(|(_, v)| v.span);
    if word != "service" {
        for k in ["port", "service_port", "expose", "ports", "services", "canary_service", "preview_service"] {
            if let Some((_, v)) = f.get(k) {
                diags.push(
                    Diagnostic::new(Code::E0361, format!("a {word} takes no connections, but `{name}` sets `{k}`"))
                        .label(v.span, "nothing connects to it")
                        .label_opt(kind_span, format!("`{name}` is a {word}"))
                        .help("Remove it; a process that serves a port is a `kind = service` (the default)."),
                );
            }
        }
    }
    let batch_fields = ["schedule", "concurrency", "retries", "deadline"];
    for k in batch_fields {
        let allowed = match word.as_str() {
            "cron" => true,
            "job" => k == "retries" || k == "deadline",
            _ => false,
        };
        if let (false, Some((_, v))) = (allowed, f.get(k)) {
            diags.push(
                Diagnostic::new(Code::E0363, format!("`{k}` does not apply to `{name}`, a {word}"))
                    .label(v.span, format!("only for {}", if k == "schedule" || k == "concurrency" { "`kind = cron`" } else { "`kind = job` or `kind = cron`" }))
                    .label_opt(kind_span, format!("`{name}` is a {word}"))
                    .help("Set `kind = cron` with a `schedule` for a recurring run, or `kind = job` for one run per release."),
            );
        }
    }
    let batch = Batch {
        retries: int(f, "retries", 2).max(0) as u32,
        deadline_secs: dur(f, "deadline").map(|ms| (ms / 1000).max(1)).unwrap_or(3600),
    };
    match word.as_str() {
        "worker" => WorkloadKind::Worker,
        "job" => WorkloadKind::Job(batch),
        "cron" => {
            let schedule = lit(f, "schedule").unwrap_or_default();
            let span = f.get("schedule").map(|(_, v)| v.span);
            let problem = match span {
                None => Some("a cron job needs a `schedule`".to_string()),
                Some(_) if schedule.split_whitespace().count() != 5 => {
                    Some(format!("`{schedule}` is not a cron expression of five fields"))
                }
                Some(_) => super::value::cron_out_of_range(&schedule).map(|p| format!("cron field out of range: {p}")),
            };
            if let Some(problem) = problem {
                let d = Diagnostic::new(Code::E0360, format!("{problem} (`{name}`)"));
                let d = match span {
                    Some(s) => d.label(s, "minute hour day-of-month month day-of-week, in UTC"),
                    None => d.label_opt(kind_span, "`kind = cron` without a `schedule`"),
                };
                diags.push(d.help("Write e.g. `schedule = \"0 3 * * *\"` for every night at 03:00 UTC."));
            }
            let concurrency = match enm(f, "concurrency").as_deref() {
                Some("replace") => Concurrency::Replace,
                Some("allow") => Concurrency::Allow,
                _ => Concurrency::Forbid,
            };
            WorkloadKind::Cron {
                schedule: schedule.split_whitespace().collect::<Vec<_>>().join(" "),
                concurrency,
                batch,
            }
        }
        _ => WorkloadKind::Service,
    }
}

// ---- several ports and Services (issue 11)

/// Whether `n` is a Kubernetes port name (IANA service name): at most 15
/// lowercase letters, digits and `-`, with a letter, no `-` at either end
/// or doubled.
fn is_port_name(n: &str) -> bool {
    (1..=15).contains(&n.len())
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && n.bytes().any(|b| b.is_ascii_lowercase())
        && !n.starts_with('-')
        && !n.ends_with('-')
        && !n.contains("--")
}

/// The named ports beside the main one, checked (E0365): valid, unique
/// names other than `http`, unique numbers, and a main port to stand beside.
fn named_ports(name: &str, f: &Fields, main: Option<u16>, diags: &mut Diagnostics) -> Vec<NamedPort> {
    let mut out: Vec<NamedPort> = Vec::new();
    for item in list(f, "ports") {
        let V::Struct(p) = &item.v else { continue };
        let (Some(pname), Some(port_)) = (lit(p, "name"), port(p, "port")) else { continue };
        let problem = if main.is_none() {
            Some("a workload without a main `port` cannot have more".to_string())
        } else if !is_port_name(&pname) {
            Some(format!("`{pname}` is not a port name (at most 15 lowercase letters, digits and `-`)"))
        } else if pname == "http" || out.iter().any(|o| o.name == pname) {
            Some(format!("the port name `{pname}` is taken (`http` is the main port's)"))
        } else if main == Some(port_) || out.iter().any(|o| o.port == port_) {
            Some(format!("port {port_} is declared twice"))
        } else {
            None
        };
        if let Some(problem) = problem {
            diags.push(
                Diagnostic::new(Code::E0365, format!("{problem} (`{name}`)"))
                    .label(item.span, "this port")
                    .help("Give each extra port its own name (`grpc`, `metrics`) and number, beside the main `port`."),
            );
            continue;
        }
        out.push(NamedPort {
            name: pname,
            port: port_,
            service_port: port(p, "service_port").unwrap_or(port_),
            protocol: enm(p, "protocol").unwrap_or_else(|| "tcp".into()).to_ascii_uppercase(),
            app_protocol: lit(p, "app_protocol"),
        });
    }
    out
}

/// The Services beside the main one, checked (E0365): DNS names that clash
/// with no other Service of the program's workload, serving declared ports.
fn extra_services(s: &Service, f: &Fields, diags: &mut Diagnostics) -> Vec<ExtraService> {
    let canary = s.canary_service.clone().unwrap_or_else(|| format!("{}-canary", s.name));
    let preview = s.preview_service.clone().unwrap_or_else(|| format!("{}-preview", s.name));
    let mut taken = vec![s.name.clone(), canary.clone(), preview.clone()];
    for (k, chosen) in [("canary_service", &s.canary_service), ("preview_service", &s.preview_service)] {
        let Some(n) = chosen else { continue };
        if !super::rules::is_dns_label(n) || n == &s.name || canary == preview {
            diags.push(
                Diagnostic::new(Code::E0365, format!("`{k}` `{n}` cannot name a Service of `{}`", s.name))
                    .label_opt(f.get(k).map(|(_, v)| v.span), "a DNS label other than the workload's other Services")
                    .help("Choose a lowercase name such as `canary-demo-preview`, distinct from the service's own."),
            );
        }
    }
    let names: Vec<&str> = std::iter::once("http").chain(s.ports.iter().map(|p| p.name.as_str())).collect();
    let mut out = Vec::new();
    for item in list(f, "services") {
        let V::Struct(e) = &item.v else { continue };
        let Some(n) = lit(e, "name") else { continue };
        let ports = list_str(e, "ports");
        let problem = if s.port.is_none() {
            Some("a workload without a `port` has no Service".to_string())
        } else if !super::rules::is_dns_label(&n) {
            Some(format!("`{n}` is not a Service name (a lowercase DNS label)"))
        } else if taken.contains(&n) {
            Some(format!("the Service name `{n}` is taken"))
        } else {
            ports.iter().find(|p| !names.contains(&p.as_str())).map(|p| format!("no port is named `{p}`"))
        };
        if let Some(problem) = problem {
            diags.push(
                Diagnostic::new(Code::E0365, format!("{problem} (`{}`)", s.name))
                    .label(item.span, "this Service")
                    .help("Give each Service its own DNS name and list ports by name: `http` or a name from `ports`."),
            );
            continue;
        }
        taken.push(n.clone());
        let kind = match enm(e, "type").as_deref() {
            Some("load_balancer") => ServiceKind::LoadBalancer,
            Some("node_port") => ServiceKind::NodePort,
            Some("headless") => ServiceKind::Headless,
            _ => ServiceKind::ClusterIp,
        };
        out.push(ExtraService { name: n, kind, ports });
    }
    out
}

fn default_rolling() -> StrategyKind {
    StrategyKind::Rolling { max_surge: Surge::Percent(25.0), max_unavailable: Surge::Count(0) }
}

/// Environment declarations ordered along the promotion graph: entry points
/// (by name) first, then each environment after the one it is promoted from.
fn promotion_order(envs: &[&Checked]) -> Vec<usize> {
    let from = |c: &Checked| match get(&c.fields, "promote").map(|v| &v.v) {
        Some(V::Promotion(PromotionRule::Manual { from: Some(f) })) => Some(f.clone()),
        _ => None,
    };
    let mut order = Vec::new();
    let mut placed = vec![false; envs.len()];
    let mut queue: Vec<usize> = (0..envs.len()).filter(|&i| from(envs[i]).is_none()).collect();
    while let Some(i) = (!queue.is_empty()).then(|| queue.remove(0)) {
        if placed[i] {
            continue;
        }
        placed[i] = true;
        order.push(i);
        let name = envs[i].name();
        let children = (0..envs.len()).filter(|&j| !placed[j] && from(envs[j]).as_deref() == Some(name));
        queue.extend(children);
    }
    // Environments in a promotion cycle come last; the rules report them.
    order.extend((0..envs.len()).filter(|&i| !placed[i]));
    order
}

/// The registry fields every image reference of the project starts with.
#[derive(Clone, Copy)]
enum RegistryPart {
    GhcrOwner,
    DockerHubNamespace,
}

/// A GHCR owner is a GitHub user or organisation name; a Docker Hub
/// namespace is one repository part. Either goes into every image
/// reference, every push and every manifest, so a space, a shell character
/// or a `/` there would break them all (E0310). A namespace with a dot is
/// a registry host in the wrong place (W0022).
fn check_registry_part(f: &Fields, part: RegistryPart, diags: &mut Diagnostics) {
    let (field, what, example) = match part {
        RegistryPart::GhcrOwner => ("owner", "a GitHub user or organisation name", "ghcr.io"),
        RegistryPart::DockerHubNamespace => ("namespace", "a Docker Hub namespace", "docker.io"),
    };
    let (Some(v), Some(text)) = (get(f, field), lit(f, field)) else { return };
    let ok = match part {
        // GitHub's rule: letters, digits and single hyphens, at most 39,
        // no hyphen at either end.
        RegistryPart::GhcrOwner => {
            (1..=39).contains(&text.len())
                && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !text.starts_with('-')
                && !text.ends_with('-')
                && !text.contains("--")
        }
        RegistryPart::DockerHubNamespace => {
            !text.contains('/') && crate::image::parse(&text).is_ok_and(|r| r.repository == text)
        }
    };
    if !ok {
        let help = match part {
            RegistryPart::GhcrOwner => "Write the GitHub user or organisation that owns the packages, such as \"acme\": letters, digits and single hyphens, at most 39 characters.",
            RegistryPart::DockerHubNamespace => "Write the Docker Hub user or organisation, such as \"acme\": lowercase letters and digits (a repository part: `.`, `_` or `-` only between them).",
        };
        diags.push(
            Diagnostic::new(Code::E0310, format!("`{text}` is not {what}"))
                .label(v.span, format!("every image reference starts `{example}/{text}/`"))
                .help(help),
        );
    }
    if matches!(part, RegistryPart::DockerHubNamespace) && text.contains('.') {
        diags.push(
            Diagnostic::new(Code::W0022, format!("Docker Hub namespace `{text}` reads as a registry host"))
                .label(v.span, format!("images would be pushed to `docker.io/{text}/...`"))
                .help("Write the Docker Hub user or organisation, such as \"acme\" (Docker Hub names hold no dots); for another registry use `ghcr` or `ecr`, or deploy prebuilt images by their full reference."),
        );
    }
}

/// Cloud names the output builds hosts, ARNs and provider settings from.
#[derive(Clone, Copy)]
enum CloudName {
    AwsRegion,
    GcpRegion,
    GcpProject,
    /// An availability zone of this region: `us-east-1a`.
    AwsZone,
    AwsInstanceType,
    GcpMachineType,
    AzureLocation,
    AzureVmSize,
    /// `1.33`: what EKS takes as a cluster version.
    K8sVersion,
    VaultAddress,
}

impl CloudName {
    /// What it is, an example, and whether `s` has its form.
    fn rule(self, s: &str) -> (&'static str, &'static str, bool) {
        let lower_digit_dash = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        match self {
            CloudName::AwsRegion => ("an AWS region", "us-east-1", super::rules::is_aws_region(s)),
            // `us-central1`, `northamerica-northeast2`: words, the last
            // ending in its number.
            CloudName::GcpRegion => {
                let words: Vec<&str> = s.split('-').collect();
                let last = words.last().copied().unwrap_or("");
                let digits = last.bytes().rev().take_while(u8::is_ascii_digit).count();
                let ok = words.len() >= 2
                    && words.iter().all(|w| !w.is_empty() && lower_digit_dash(w))
                    && words[..words.len() - 1].iter().all(|w| w.bytes().all(|b| b.is_ascii_lowercase()))
                    && (1..=2).contains(&digits)
                    && digits < last.len()
                    && last[..last.len() - digits].bytes().all(|b| b.is_ascii_lowercase());
                ("a GCP region", "us-central1", ok)
            }
            // Google's rule: 6 to 30 characters, a lowercase letter first,
            // lowercase letters, digits and hyphens, no hyphen last.
            CloudName::GcpProject => {
                let ok = (6..=30).contains(&s.len())
                    && s.starts_with(|c: char| c.is_ascii_lowercase())
                    && !s.ends_with('-')
                    && lower_digit_dash(s);
                ("a GCP project id", "acme-prod-1", ok)
            }
            // The region's name and a zone letter; Local Zones add words
            // (`us-west-2-lax-1a`).
            CloudName::AwsZone => {
                let parts: Vec<&str> = s[..s.len().saturating_sub(1)].split('-').collect();
                let ok = s.bytes().last().is_some_and(|b| b.is_ascii_lowercase())
                    && lower_digit_dash(s)
                    && (3..=4).any(|n| n <= parts.len() && super::rules::is_aws_region(&parts[..n].join("-")));
                ("an availability zone", "us-east-1a", ok)
            }
            // `m6i.large`, `c7gn.16xlarge`: a family and a size.
            CloudName::AwsInstanceType => {
                let ok = s.split_once('.').is_some_and(|(family, size)| {
                    let part = |p: &str| {
                        !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    };
                    part(family) && part(size)
                });
                ("an EC2 instance type", "m6i.large", ok)
            }
            CloudName::GcpMachineType => {
                let ok = !s.is_empty() && s.starts_with(|c: char| c.is_ascii_lowercase()) && lower_digit_dash(s);
                ("a GCE machine type", "e2-standard-4", ok)
            }
            // `westeurope`, or the display name the provider also takes
            // (`West Europe`).
            CloudName::AzureLocation => {
                let ok = s.starts_with(|c: char| c.is_ascii_alphabetic())
                    && !s.ends_with(' ')
                    && !s.contains("  ")
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
                ("an Azure location", "westeurope", ok)
            }
            CloudName::AzureVmSize => {
                let ok = s.starts_with(|c: char| c.is_ascii_alphabetic())
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                ("an Azure VM size", "Standard_D4s_v5", ok)
            }
            CloudName::K8sVersion => {
                let ok = s.split_once('.').is_some_and(|(major, minor)| {
                    let number = |p: &str| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
                    number(major) && number(minor)
                });
                ("a Kubernetes version", "1.33", ok)
            }
            CloudName::VaultAddress => {
                let host = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or("");
                let ok = !host.is_empty()
                    && !host.starts_with(['/', ':'])
                    && s.bytes().all(|b| b.is_ascii_graphic())
                    && !s.contains(['"', '\'', '`', '$', '\\', '<', '>', '{', '}']);
                ("a Vault URL", "https://vault.example.com:8200", ok)
            }
        }
    }
}

/// E0303: a region or project id that its cloud would refuse, and that
/// every generated host name, ARN and provider block would carry.
/// A list field's items are checked one by one.
fn check_cloud_name(f: &Fields, field: &str, name: CloudName, diags: &mut Diagnostics) {
    let Some(v) = get(f, field) else { return };
    let items: Vec<&Val> = match &v.v {
        V::List(items) => items.iter().collect(),
        _ => vec![v],
    };
    for item in items {
        let V::Str(t) = &item.v else { continue };
        let text = render_static(t);
        let (what, example, ok) = name.rule(&text);
        if !ok {
            diags.push(
                Diagnostic::new(Code::E0303, format!("`{text}` is not {what}"))
                    .label(item.span, format!("expected {what}, such as `{example}`"))
                    .help(format!("Write {what} in the form its provider takes, such as \"{example}\".")),
            );
        }
    }
}

/// E0303: the repository is `HOST/OWNER/NAME` (GitLab nests groups:
/// `HOST/GROUP/SUBGROUP/NAME`), optionally after `https://`. ArgoCD's
/// `repoURL`, the CI checkouts and the cloud trust policies' subjects
/// (`repo:OWNER/NAME:...`) are built from it, so a space or a `#` there
/// breaks them all.
fn check_repository(f: &Fields, diags: &mut Diagnostics) {
    let (Some(v), Some(text)) = (get(f, "repository"), lit(f, "repository")) else { return };
    let rest = text.strip_prefix("https://").unwrap_or(&text);
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or("");
    let path: Vec<&str> = parts.collect();
    let host_ok = host.split_once(':').map_or(host, |(h, port)| {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            ""
        }
    });
    let host_ok = host_ok.contains('.')
        && host_ok
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    let segment = |p: &&str| {
        !p.is_empty()
            && *p != "."
            && *p != ".."
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    if !(host_ok && path.len() >= 2 && path.iter().all(segment)) {
        diags.push(
            Diagnostic::new(Code::E0303, format!("`{text}` is not a repository address"))
                .label(v.span, "expected HOST/OWNER/NAME, such as `github.com/acme/shop`")
                .help("Write the repository as its host shows it, such as \"github.com/acme/shop\" or \"gitlab.example.com/platform/infra/shop\": letters, digits, `.`, `_` and `-` in each part."),
        );
    }
}

/// An `account` field must be a 12-digit AWS account id: it is written into
/// ARNs in workflows and Terraform.
fn check_account(f: &Fields, diags: &mut Diagnostics) {
    if let Some(v) = get(f, "account") {
        let text = lit(f, "account").unwrap_or_default();
        if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
            diags.push(
                Diagnostic::new(Code::E0303, format!("`{text}` is not an AWS account id"))
                    .label(v.span, "expected 12 digits")
                    .help("Write the 12-digit id of the AWS account, e.g. \"123456789012\"."),
            );
        }
    }
}
