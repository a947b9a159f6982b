//! Grafana dashboards generated from the model (`dashboards = grafana`):
//! one per scraped service (requests, errors, latency, saturation, and the
//! metrics it declares in `custom_metrics`), one per environment (every
//! service's traffic, restarts, datastores and volumes) and, where the
//! program declares custom metrics, a business dashboard per environment
//! (the project's metrics per service, then each service's own) and, where
//! services declare an `slo`, an SLO dashboard per environment
//! (`plan::slo`), shipped as ConfigMaps that Grafana's dashboard sidecar loads
//! (label `grafana_dashboard: "1"`; kube-prometheus-stack's sidecar must
//! search the application namespaces, `sidecar.dashboards.searchNamespace:
//! ALL`).
//!
//! **Invariant:** every panel query is plain PromQL with fixed ranges (no
//! Grafana variables), so `promtool` can check it (`tests/observability.rs`),
//! and reads the metrics the ServiceMonitors scrape and the alert rules use.

use super::EnvPlan;
use crate::model::{AppMetric, MetricKind};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The label Grafana's dashboard sidecar selects ConfigMaps by.
pub const SIDECAR_LABEL: (&str, &str) = ("grafana_dashboard", "1");

/// One dashboard: the ConfigMap's name, the file name inside it, its JSON.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub config_map: String,
    pub file: String,
    pub json: String,
}

/// A panel: title, unit and the PromQL queries (expression, legend), and
/// the panel's description (a custom metric's).
struct Panel {
    title: String,
    unit: &'static str,
    queries: Vec<(String, String)>,
    description: Option<String>,
}

impl Panel {
    fn new(title: &str, unit: &'static str, queries: Vec<(String, &str)>) -> Panel {
        Panel {
            title: title.to_string(),
            unit,
            queries: queries.into_iter().map(|(q, l)| (q, l.to_string())).collect(),
            description: None,
        }
    }
}

/// The panel of a metric the application exposes (`custom_metrics`), over
/// the series matching `sel` (the labels the ServiceMonitor's scrape gives
/// them: `namespace` and `service`), summed `by` those labels (`service` on
/// the business dashboard, none on a service's own): a counter's rate per
/// second, a gauge's value, a histogram's p50 and p99. The name is checked
/// as a metric name (E0393), so it is safe in PromQL.
fn app_metric_panel(m: &AppMetric, sel: &str, by: &[&str]) -> Panel {
    let name = &m.name;
    let (group, legend) = if by.is_empty() {
        (String::new(), name.clone())
    } else {
        (format!(" by ({})", by.join(", ")), by.iter().map(|l| format!("{{{{{l}}}}}")).collect::<Vec<_>>().join(" "))
    };
    let with_le = |extra: &str| {
        let mut labels: Vec<&str> = by.to_vec();
        labels.push(extra);
        format!(" by ({})", labels.join(", "))
    };
    let (unit, queries) = match m.kind {
        MetricKind::Counter => ("ops", vec![(format!("sum{group} (rate({name}{{{sel}}}[5m]))"), legend)]),
        MetricKind::Gauge => ("short", vec![(format!("sum{group} ({name}{{{sel}}})"), legend)]),
        MetricKind::Histogram => (
            "short",
            [("0.5", "p50"), ("0.99", "p99")]
                .into_iter()
                .map(|(q, p)| {
                    (
                        format!("histogram_quantile({q}, sum{} (rate({name}_bucket{{{sel}}}[5m])))", with_le("le")),
                        if by.is_empty() { p.to_string() } else { format!("{legend} {p}") },
                    )
                })
                .collect(),
        ),
    };
    Panel { title: m.description.clone(), unit, queries, description: Some(format!("{name} ({})", m.kind.word())) }
}

/// Grafana's uid is at most 40 characters: a readable prefix and a hash.
fn uid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(parts.join("/").as_bytes());
    let hex = crate::hex(&h[..6]);
    let mut prefix: String = parts.last().copied().unwrap_or("").chars().take(26).collect();
    prefix.push('-');
    prefix + &hex
}

fn dashboard(title: String, uid: String, tags: Vec<String>, panels: Vec<Panel>) -> Value {
    let panels: Vec<Value> = panels
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut panel = json!({
                "id": i + 1,
                "type": "timeseries",
                "title": p.title,
                "datasource": { "type": "prometheus", "uid": "${datasource}" },
                "gridPos": { "h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8 },
                "fieldConfig": { "defaults": { "unit": p.unit }, "overrides": [] },
                "options": { "legend": { "displayMode": "list", "placement": "bottom" } },
                "targets": p.queries.iter().enumerate().map(|(j, (expr, legend))| json!({
                    "refId": ((b'A' + j as u8) as char).to_string(),
                    "expr": expr,
                    "legendFormat": legend,
                })).collect::<Vec<_>>(),
            });
            if let Some(d) = p.description {
                panel["description"] = json!(d);
            }
            panel
        })
        .collect();
    json!({
        "title": title,
        "uid": uid,
        "tags": tags,
        "schemaVersion": 39,
        "version": 1,
        "editable": false,
        "timezone": "utc",
        "time": { "from": "now-6h", "to": "now" },
        "refresh": "30s",
        "templating": { "list": [{
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
        }] },
        "annotations": { "list": [] },
        "panels": panels,
    })
}

/// The environment's dashboards, sorted by ConfigMap name; empty unless the
/// program declares `dashboards = grafana` and Prometheus metrics.
pub fn dashboards(cx: &EnvPlan) -> Vec<Dashboard> {
    let model = cx.model;
    let obs = &model.observability;
    if obs.dashboards.as_deref() != Some("grafana") || obs.metrics.is_none() {
        return Vec::new();
    }
    let ns = cx.ns();
    let (project, env) = (model.project.name.as_str(), cx.env.name.as_str());
    let tags = vec!["deployc".to_string(), project.to_string(), env.to_string()];
    let mut out = BTreeMap::new();
    let mut add = |name: String, v: Value| {
        let json = serde_json::to_string_pretty(&v).unwrap_or_default();
        out.insert(
            format!("dashboard-{name}"),
            Dashboard { config_map: format!("dashboard-{name}"), file: format!("{name}.json"), json },
        );
    };
    let mut overview = vec![
        Panel::new(
            "Requests per service",
            "reqps",
            vec![(
                format!("sum by (service) (rate(http_requests_total{{namespace=\"{ns}\"}}[5m]))"),
                "{{service}}",
            )],
        ),
        Panel::new(
            "5xx share per service",
            "percentunit",
            vec![(
                format!(
                    "sum by (service) (rate(http_requests_total{{namespace=\"{ns}\",code=~\"5..\"}}[5m])) / sum by (service) (rate(http_requests_total{{namespace=\"{ns}\"}}[5m]))"
                ),
                "{{service}}",
            )],
        ),
        Panel::new(
            "Container restarts (15m)",
            "short",
            vec![(
                format!("sum by (pod) (increase(kube_pod_container_status_restarts_total{{namespace=\"{ns}\"}}[15m]))"),
                "{{pod}}",
            )],
        ),
    ];
    if model.resources.iter().any(|r| cx.in_cluster(r.id)) {
        overview.push(Panel::new(
            "Datastores: ready replicas",
            "short",
            vec![(format!("kube_statefulset_status_replicas_ready{{namespace=\"{ns}\"}}"), "{{statefulset}}")],
        ));
        overview.push(Panel::new(
            "Volume usage",
            "percentunit",
            vec![(
                format!(
                    "kubelet_volume_stats_used_bytes{{namespace=\"{ns}\"}} / kubelet_volume_stats_capacity_bytes{{namespace=\"{ns}\"}}"
                ),
                "{{persistentvolumeclaim}}",
            )],
        ));
    }
    add(
        format!("{project}-{env}"),
        dashboard(format!("{project} / {env}"), uid(&[project, env, "overview"]), tags.clone(), overview),
    );
    let mut business: Vec<Panel> = Vec::new();
    for d in &cx.env.deployments {
        let s = model.service(d.service);
        // Only what a ServiceMonitor scrapes: a workload without a port
        // (worker, job) has no request metrics to chart.
        if !s.metrics || s.port.is_none() {
            continue;
        }
        let svc = s.name.as_str();
        let sel = format!("namespace=\"{ns}\",service=\"{svc}\"");
        // The container is named after the service, in every pod that runs it.
        let pods = format!("namespace=\"{ns}\",container=\"{svc}\"");
        let mut panels = vec![
            Panel::new(
                "Requests",
                "reqps",
                vec![(format!("sum by (code) (rate(http_requests_total{{{sel}}}[5m]))"), "{{code}}")],
            ),
            Panel::new(
                "Errors (5xx share)",
                "percentunit",
                vec![(
                    format!(
                        "sum(rate(http_requests_total{{{sel},code=~\"5..\"}}[5m])) / sum(rate(http_requests_total{{{sel}}}[5m]))"
                    ),
                    "5xx",
                )],
            ),
            Panel::new(
                "Latency",
                "s",
                vec![
                    (
                        format!("histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"),
                        "p50",
                    ),
                    (
                        format!("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"),
                        "p99",
                    ),
                ],
            ),
            Panel::new(
                "Saturation (share of limits)",
                "percentunit",
                vec![
                    (
                        format!(
                            "sum(rate(container_cpu_usage_seconds_total{{{pods}}}[5m])) / sum(kube_pod_container_resource_limits{{{pods},resource=\"cpu\"}})"
                        ),
                        "cpu",
                    ),
                    (
                        format!(
                            "sum(container_memory_working_set_bytes{{{pods}}}) / sum(kube_pod_container_resource_limits{{{pods},resource=\"memory\"}})"
                        ),
                        "memory",
                    ),
                ],
            ),
        ];
        // The metrics the service exposes itself, on its own series.
        panels.extend(s.custom_metrics.iter().map(|m| app_metric_panel(m, &sel, &[])));
        business.extend(s.custom_metrics.iter().map(|m| {
            let mut p = app_metric_panel(m, &sel, &[]);
            p.title = format!("{svc}: {}", p.title);
            p
        }));
        let mut t = tags.clone();
        t.push(svc.to_string());
        add(svc.to_string(), dashboard(format!("{project} / {env} / {svc}"), uid(&[project, env, svc]), t, panels));
    }
    // The SLO dashboard: each objective's availability, budget and burn rate.
    let slo: Vec<Panel> = super::slo::services(cx)
        .flat_map(|(s, o)| super::slo::panels(ns, s, o))
        .map(|(title, unit, queries)| Panel { title, unit, queries, description: None })
        .collect();
    if !slo.is_empty() {
        let mut t = tags.clone();
        t.push("slo".to_string());
        add(
            format!("{project}-{env}-slo"),
            dashboard(format!("{project} / {env} / SLOs"), uid(&[project, env, "slo"]), t, slo),
        );
    }
    // The business dashboard: the project's metrics per scraped service of
    // the namespace, then each service's own.
    let project_wide =
        obs.custom_metrics.iter().map(|m| app_metric_panel(m, &format!("namespace=\"{ns}\""), &["service"]));
    let business: Vec<Panel> = project_wide.chain(business).collect();
    if !business.is_empty() {
        let mut t = tags.clone();
        t.push("business".to_string());
        add(
            format!("{project}-{env}-business"),
            dashboard(format!("{project} / {env} / business"), uid(&[project, env, "business"]), t, business),
        );
    }
    out.into_values().collect()
}

/// The labels of a dashboard ConfigMap besides the standard ones.
pub fn sidecar_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(SIDECAR_LABEL.0.to_string(), SIDECAR_LABEL.1.to_string())])
}
