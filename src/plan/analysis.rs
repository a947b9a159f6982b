//! Alert rules and the analysis a progressive strategy runs.

use super::crd::Rule;
use super::EnvPlan;
use crate::model::StrategyKind;
use std::collections::BTreeMap;

/// The alert rules of an environment (empty without `alerts`).
pub fn alert_rules(cx: &EnvPlan) -> Vec<Rule> {
    let model = cx.model;
    let mut rules = Vec::new();
    if let Some(a) = &model.observability.alerts {
        let ns = cx.ns().to_string();
        let route: Vec<String> = a.route_to.iter().map(|i| model.integrations[i.index()].name.clone()).collect();
        let rule = |alert: &str, expr: String, severity: &str, summary: &str| Rule {
            alert: alert.into(),
            expr,
            for_: "5m".into(),
            labels: {
                let mut l = BTreeMap::from([("severity".to_string(), severity.to_string())]);
                if !route.is_empty() {
                    l.insert("route".into(), route.join(","));
                }
                l
            },
            annotations: BTreeMap::from([("summary".to_string(), summary.to_string())]),
        };
        if a.crash_loop {
            rules.push(rule(
                "PodCrashLooping",
                format!("increase(kube_pod_container_status_restarts_total{{namespace=\"{ns}\"}}[15m]) > 3"),
                "critical",
                "A container in {{ $labels.pod }} restarted more than 3 times in 15 minutes",
            ));
        }
        if let Some(e) = a.error_rate {
            rules.push(rule(
                "HighErrorRate",
                format!(
                    "sum by (service) (rate(http_requests_total{{namespace=\"{ns}\",code=~\"5..\"}}[5m])) / sum by (service) (rate(http_requests_total{{namespace=\"{ns}\"}}[5m])) > {}",
                    e / 100.0
                ),
                "critical",
                "{{ $labels.service }} answers more than the allowed share of requests with 5xx",
            ));
        }
        if let Some(l) = a.latency_ms {
            rules.push(rule(
                "HighLatency",
                format!(
                    "histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket{{namespace=\"{ns}\"}}[5m]))) > {}",
                    l as f64 / 1000.0
                ),
                "warning",
                "p99 latency of {{ $labels.service }} is above its threshold",
            ));
        }
        if let Some(c) = a.cert_expiry_ms {
            rules.push(rule(
                "CertificateExpiringSoon",
                format!(
                    "certmanager_certificate_expiration_timestamp_seconds{{namespace=\"{ns}\"}} - time() < {}",
                    c / 1000
                ),
                "warning",
                "Certificate {{ $labels.name }} expires soon",
            ));
        }
        if let Some(x) = a.resource_exhaustion {
            rules.push(rule(
                "MemoryNearLimit",
                format!(
                    "sum by (pod) (container_memory_working_set_bytes{{namespace=\"{ns}\",container!=\"\"}}) / sum by (pod) (kube_pod_container_resource_limits{{namespace=\"{ns}\",resource=\"memory\"}}) > {}",
                    x / 100.0
                ),
                "warning",
                "{{ $labels.pod }} uses most of its memory limit",
            ));
            rules.push(rule(
                "CpuThrottled",
                format!(
                    "sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace=\"{ns}\",container!=\"\"}}[5m])) / sum by (pod) (kube_pod_container_resource_limits{{namespace=\"{ns}\",resource=\"cpu\"}}) > {}",
                    x / 100.0
                ),
                "warning",
                "{{ $labels.pod }} uses most of its cpu limit",
            ));
        }
        if a.database_down {
            rules.push(rule(
                "DatabaseDown",
                format!("kube_statefulset_status_replicas_ready{{namespace=\"{ns}\"}} < 1"),
                "critical",
                "In-cluster database {{ $labels.statefulset }} has no ready replica",
            ));
        }
    }
    rules
}

/// The analysis an environment's strategy runs, with the canary's abort
/// thresholds (error rate, latency), if any.
pub fn env_analysis(cx: &EnvPlan) -> Option<(crate::model::Analysis, Option<f64>, Option<u64>)> {
    match &cx.env.strategy.kind {
        StrategyKind::Canary { steps, analysis, abort_error_rate, abort_latency_ms } => {
            // An inline `analysis` step without a declared analysis still needs a template.
            let inline = steps.iter().any(|s| matches!(s, crate::model::Step::Analysis));
            analysis
                .clone()
                .or_else(|| inline.then(default_analysis))
                .map(|a| (a, *abort_error_rate, *abort_latency_ms))
        }
        StrategyKind::BlueGreen { analysis, analyze_after_switch, .. } => {
            analysis.clone().or_else(|| analyze_after_switch.then(default_analysis)).map(|a| (a, None, None))
        }
        _ => None,
    }
}

fn default_analysis() -> crate::model::Analysis {
    crate::model::Analysis {
        provider: None,
        success_rate: 99.0,
        max_latency_ms: None,
        interval_ms: 60_000,
        count: 5,
        failure_limit: 1,
        inconclusive_limit: 1,
        custom: Vec::new(),
    }
}

/// Metadata of a service's ServiceMonitor: the standard labels plus the
/// project's `selector_labels`, which the Prometheus `serviceMonitorSelector`
/// matches (kube-prometheus-stack selects `release: <its release name>`).
pub fn service_monitor_meta(
    cx: &EnvPlan,
    name: &str,
    m: &crate::model::Metrics,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    let mut meta = cx.meta(name, name, "service");
    meta.labels.get_or_insert_with(BTreeMap::new).extend(m.selector_labels.clone());
    meta
}
