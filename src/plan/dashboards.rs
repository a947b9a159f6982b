//! Grafana dashboards generated from the model (`dashboards = grafana`):
//! one per scraped service (requests, errors, latency, saturation) and one
//! per environment (every service's traffic, restarts, datastores and
//! volumes), shipped as ConfigMaps that Grafana's dashboard sidecar loads
//! (label `grafana_dashboard: "1"`; kube-prometheus-stack's sidecar must
//! search the application namespaces, `sidecar.dashboards.searchNamespace:
//! ALL`).
//!
//! **Invariant:** every panel query is plain PromQL with fixed ranges (no
//! Grafana variables), so `promtool` can check it (`tests/observability.rs`),
//! and reads the metrics the ServiceMonitors scrape and the alert rules use.

use super::EnvPlan;
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

/// A panel: title, unit and the PromQL queries (expression, legend).
struct Panel {
    title: &'static str,
    unit: &'static str,
    queries: Vec<(String, &'static str)>,
}

/// Grafana's uid is at most 40 characters: a readable prefix and a hash.
fn uid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(parts.join("/").as_bytes());
    let hex: String = h.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let mut prefix: String = parts.last().copied().unwrap_or("").chars().take(26).collect();
    prefix.push('-');
    prefix + &hex
}

fn dashboard(title: String, uid: String, tags: Vec<String>, panels: Vec<Panel>) -> Value {
    let panels: Vec<Value> = panels
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
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
            })
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
        Panel {
            title: "Requests per service",
            unit: "reqps",
            queries: vec![(
                format!("sum by (service) (rate(http_requests_total{{namespace=\"{ns}\"}}[5m]))"),
                "{{service}}",
            )],
        },
        Panel {
            title: "5xx share per service",
            unit: "percentunit",
            queries: vec![(
                format!(
                    "sum by (service) (rate(http_requests_total{{namespace=\"{ns}\",code=~\"5..\"}}[5m])) / sum by (service) (rate(http_requests_total{{namespace=\"{ns}\"}}[5m]))"
                ),
                "{{service}}",
            )],
        },
        Panel {
            title: "Container restarts (15m)",
            unit: "short",
            queries: vec![(
                format!("sum by (pod) (increase(kube_pod_container_status_restarts_total{{namespace=\"{ns}\"}}[15m]))"),
                "{{pod}}",
            )],
        },
    ];
    if model.resources.iter().any(|r| cx.in_cluster(r.id)) {
        overview.push(Panel {
            title: "Datastores: ready replicas",
            unit: "short",
            queries: vec![(format!("kube_statefulset_status_replicas_ready{{namespace=\"{ns}\"}}"), "{{statefulset}}")],
        });
        overview.push(Panel {
            title: "Volume usage",
            unit: "percentunit",
            queries: vec![(
                format!(
                    "kubelet_volume_stats_used_bytes{{namespace=\"{ns}\"}} / kubelet_volume_stats_capacity_bytes{{namespace=\"{ns}\"}}"
                ),
                "{{persistentvolumeclaim}}",
            )],
        });
    }
    add(
        format!("{project}-{env}"),
        dashboard(format!("{project} / {env}"), uid(&[project, env, "overview"]), tags.clone(), overview),
    );
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
        let panels = vec![
            Panel {
                title: "Requests",
                unit: "reqps",
                queries: vec![(format!("sum by (code) (rate(http_requests_total{{{sel}}}[5m]))"), "{{code}}")],
            },
            Panel {
                title: "Errors (5xx share)",
                unit: "percentunit",
                queries: vec![(
                    format!(
                        "sum(rate(http_requests_total{{{sel},code=~\"5..\"}}[5m])) / sum(rate(http_requests_total{{{sel}}}[5m]))"
                    ),
                    "5xx",
                )],
            },
            Panel {
                title: "Latency",
                unit: "s",
                queries: vec![
                    (
                        format!("histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"),
                        "p50",
                    ),
                    (
                        format!("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))"),
                        "p99",
                    ),
                ],
            },
            Panel {
                title: "Saturation (share of limits)",
                unit: "percentunit",
                queries: vec![
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
            },
        ];
        let mut t = tags.clone();
        t.push(svc.to_string());
        add(svc.to_string(), dashboard(format!("{project} / {env} / {svc}"), uid(&[project, env, svc]), t, panels));
    }
    out.into_values().collect()
}

/// The labels of a dashboard ConfigMap besides the standard ones.
pub fn sidecar_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(SIDECAR_LABEL.0.to_string(), SIDECAR_LABEL.1.to_string())])
}
