//! Alert rules and the analysis a progressive strategy runs.

use super::EnvPlan;
use crate::model::StrategyKind;
use std::collections::BTreeMap;

pub use super::observability::alert_rules;

/// The analysis an environment's strategy runs, with the canary's abort
/// thresholds (error rate, latency), if any.
pub fn env_analysis(cx: &EnvPlan) -> Option<(crate::model::Analysis, Option<f64>, Option<u64>)> {
    match cx.env.progressive() {
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
