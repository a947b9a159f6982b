//! `custom_metrics`: metrics the application exposes itself. Each name is
//! the one a panel queries, so it is checked as Prometheus reads a metric
//! name (E0393), with the suffix its kind implies (E0394), once per service
//! (E0395).

use super::value::{Val, V};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{AppMetric, MetricKind, Service};

/// Suffixes Prometheus client libraries add to a histogram's series (and
/// `_total`, `_created` to a counter's): a gauge or histogram named with one
/// would be read as another metric's series.
const SERIES_SUFFIXES: &[&str] = &["_total", "_bucket", "_count", "_sum", "_created", "_info"];

/// Why `name` is not a metric name a panel can query, if it is not: the
/// data model's `[a-zA-Z_:][a-zA-Z0-9_:]*`, without colons (reserved for
/// recording rules) and without the `__` prefix (reserved for Prometheus).
pub fn name_problem(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Some("a metric name starts with a letter or `_`");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some("a metric name holds only letters, digits and `_` (`:` is for recording rules)");
    }
    if name.starts_with("__") {
        return Some("names starting with `__` are reserved for Prometheus itself");
    }
    if name.len() > 200 {
        return Some("a metric name of more than 200 characters");
    }
    None
}

/// The checked metrics of one `custom_metrics` list. `services`: for the
/// project's list, the services already lowered, whose own lists must not
/// repeat a project metric.
pub fn custom_metrics(items: &[Val], services: &[Service], diags: &mut Diagnostics) -> Vec<AppMetric> {
    let mut out: Vec<AppMetric> = Vec::new();
    for item in items {
        let V::Struct(f) = &item.v else { continue };
        let field = |k: &str| f.get(k).map(|(_, v)| v).filter(|v| v.v != V::Error);
        let (Some(name_v), Some(kind_v)) = (field("name"), field("kind")) else { continue };
        let (V::Str(name), V::Enum(kind)) = (&name_v.v, &kind_v.v) else { continue };
        let name = super::lower::render_static(name);
        let kind = match kind.as_str() {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            _ => MetricKind::Histogram,
        };
        if let Some(why) = name_problem(&name) {
            diags.push(
                Diagnostic::new(Code::E0393, format!("\"{name}\" is not a Prometheus metric name"))
                    .label(name_v.span, why)
                    .help("Write the name exactly as the application exposes it, e.g. `appointments_booked_total`."),
            );
            continue;
        }
        let suffix = SERIES_SUFFIXES.iter().find(|s| name.ends_with(*s));
        let problem = match (kind, suffix) {
            (MetricKind::Counter, Some(&"_total")) => None,
            (MetricKind::Counter, _) => Some(format!(
                "client libraries expose a counter with `_total` at the end: `{}_total`",
                name.trim_end_matches(suffix.copied().unwrap_or(""))
            )),
            (_, Some(s)) => {
                Some(format!("`{s}` ends a series of a counter or histogram, not the name of a {}", kind.word()))
            }
            (_, None) => None,
        };
        if let Some(why) = problem {
            diags.push(
                Diagnostic::new(Code::E0394, format!("metric name \"{name}\" does not fit its kind"))
                    .label(name_v.span, why)
                    .help("Name a counter `<what>_total`; name a gauge or histogram without `_total`, `_bucket`, `_count`, `_sum`, `_created` or `_info` (a histogram's series add them)."),
            );
            continue;
        }
        let twice = if out.iter().any(|m| m.name == name) {
            Some("declared twice in this list".to_string())
        } else {
            services
                .iter()
                .find(|s| s.custom_metrics.iter().any(|m| m.name == name))
                .map(|s| format!("service `{}` declares it too", s.name))
        };
        if let Some(why) = twice {
            diags.push(
                Diagnostic::new(Code::E0395, format!("metric \"{name}\" declared twice"))
                    .label(name_v.span, why)
                    .help("Declare a metric once: on the service that exposes it, or in `observability` when several services do."),
            );
            continue;
        }
        let description = match field("description").map(|v| &v.v) {
            Some(V::Str(t)) => super::lower::render_static(t),
            _ => name.clone(),
        };
        out.push(AppMetric { name, kind, description });
    }
    out
}
