//! Typed structs for the custom resources deployc emits (Argo Rollouts,
//! External Secrets Operator, Prometheus Operator), limited to the fields we
//! use, named as in the upstream CRDs. The analysis metrics and alert rules
//! also derive `JsonSchema`: the Helm chart carries them as values.

use super::EnvPlan;
use crate::model::{Analysis, Step, StrategyKind};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: RolloutSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    pub revision_history_limit: i32,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
    pub strategy: RolloutStrategy,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreen>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Canary {
    pub stable_service: String,
    pub canary_service: String,
    pub steps: Vec<CanaryStep>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<BackgroundAnalysis>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_weight: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisRef>,
}

#[derive(Serialize)]
pub struct Pause {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRef {
    pub templates: Vec<TemplateRef>,
    pub args: Vec<Arg>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackgroundAnalysis {
    pub templates: Vec<TemplateRef>,
    pub args: Vec<Arg>,
    pub starting_step: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    pub template_name: String,
}

#[derive(Serialize)]
pub struct Arg {
    pub name: String,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreen {
    pub active_service: String,
    pub preview_service: String,
    pub auto_promotion_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_promotion_seconds: Option<i64>,
    pub scale_down_delay_seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_promotion_analysis: Option<AnalysisRef>,
}

/// Go-style duration text for Argo: `5m`, `30s`, `1h`, `500ms`.
pub fn duration(ms: u64) -> String {
    if ms > 0 && ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms > 0 && ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The name of the environment's AnalysisTemplate.
pub fn analysis_template_name(cx: &EnvPlan) -> String {
    format!("{}-analysis", cx.model.project.name)
}

fn analysis_ref(cx: &EnvPlan, service: &str) -> AnalysisRef {
    AnalysisRef {
        templates: vec![TemplateRef { template_name: analysis_template_name(cx) }],
        args: vec![
            Arg { name: "service-name".into(), value: service.into() },
            Arg { name: "namespace".into(), value: cx.ns().to_string() },
        ],
    }
}

/// The Rollout strategy of a service in an environment with a progressive strategy.
pub fn rollout_strategy(cx: &EnvPlan, service: &str, kind: &StrategyKind) -> RolloutStrategy {
    match kind {
        StrategyKind::Canary { steps, analysis, .. } => {
            let has_inline = steps.iter().any(|s| matches!(s, Step::Analysis));
            let steps = steps
                .iter()
                .map(|s| match s {
                    Step::Weight(w) => CanaryStep { set_weight: Some(w.round() as i32), ..Default::default() },
                    Step::Pause(d) => {
                        CanaryStep { pause: Some(Pause { duration: d.map(duration) }), ..Default::default() }
                    }
                    Step::Analysis => CanaryStep { analysis: Some(analysis_ref(cx, service)), ..Default::default() },
                })
                .collect();
            let background = (analysis.is_some() && !has_inline).then(|| {
                let r = analysis_ref(cx, service);
                BackgroundAnalysis { templates: r.templates, args: r.args, starting_step: 1 }
            });
            RolloutStrategy {
                canary: Some(Canary {
                    stable_service: service.to_string(),
                    canary_service: format!("{service}-canary"),
                    steps,
                    analysis: background,
                }),
                blue_green: None,
            }
        }
        StrategyKind::BlueGreen { auto_promote, auto_promote_after_ms, scale_down_delay_ms, analysis } => {
            RolloutStrategy {
                canary: None,
                blue_green: Some(BlueGreen {
                    active_service: service.to_string(),
                    preview_service: format!("{service}-preview"),
                    auto_promotion_enabled: *auto_promote || auto_promote_after_ms.is_some(),
                    auto_promotion_seconds: auto_promote_after_ms.map(|ms| (ms / 1000) as i64),
                    scale_down_delay_seconds: (*scale_down_delay_ms / 1000) as i64,
                    pre_promotion_analysis: analysis.as_ref().map(|_| analysis_ref(cx, service)),
                }),
            }
        }
        StrategyKind::Rolling { .. } => RolloutStrategy::default(),
    }
}

// ------------------------------------------------------------ AnalysisTemplate

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplate {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: AnalysisTemplateSpec,
}

#[derive(Serialize)]
pub struct AnalysisTemplateSpec {
    pub args: Vec<ArgDecl>,
    pub metrics: Vec<Metric>,
}

#[derive(Serialize)]
pub struct ArgDecl {
    pub name: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub name: String,
    pub interval: String,
    pub count: i32,
    pub failure_limit: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    pub provider: Provider,
}

#[derive(Serialize, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_relic: Option<NewRelicProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datadog: Option<DatadogProvider>,
}

#[derive(Serialize, JsonSchema)]
pub struct PrometheusProvider {
    pub address: String,
    pub query: String,
}

#[derive(Serialize, JsonSchema)]
pub struct NewRelicProvider {
    pub profile: String,
    pub query: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatadogProvider {
    pub api_version: String,
    pub interval: String,
    pub query: String,
}

/// Where the Prometheus Operator's Prometheus answers inside the cluster.
pub const PROMETHEUS_ADDRESS: &str = "http://prometheus-operated.monitoring.svc.cluster.local:9090";

/// The analysis of an environment's strategy, as an AnalysisTemplate.
pub fn analysis_template(
    cx: &EnvPlan,
    a: &Analysis,
    abort_error_rate: Option<f64>,
    abort_latency_ms: Option<u64>,
) -> AnalysisTemplate {
    let provider = a
        .provider
        .clone()
        .or_else(|| cx.model.metrics_providers().first().map(|p| p.to_string()))
        .unwrap_or_else(|| "prometheus".into());
    let svc = "{{args.service-name}}";
    let ns = "{{args.namespace}}";
    let base = |name: &str, success: Option<String>, failure: Option<String>, provider: Provider| Metric {
        name: name.into(),
        interval: duration(a.interval_ms),
        count: a.count as i32,
        failure_limit: a.failure_limit as i32,
        success_condition: success,
        failure_condition: failure,
        provider,
    };
    let mut metrics = Vec::new();
    let rate = a.success_rate / 100.0;
    match provider.as_str() {
        "newrelic" => {
            let profile = cx
                .model
                .integrations
                .iter()
                .find_map(|i| match &i.kind {
                    crate::model::IntegrationKind::NewRelic { api_key, .. } => Some(api_key.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "newrelic".into());
            let nr = |q: String| Provider {
                new_relic: Some(NewRelicProvider { profile: profile.clone(), query: q }),
                ..Default::default()
            };
            metrics.push(base(
                "success-rate",
                Some(format!("result.successRate >= {}", a.success_rate)),
                None,
                nr(format!("FROM Transaction SELECT percentage(count(*), WHERE error IS false) AS successRate WHERE appName = '{svc}' SINCE 5 minutes ago")),
            ));
            if let Some(l) = a.max_latency_ms.or(abort_latency_ms) {
                metrics.push(base(
                    "latency-p99",
                    Some(format!("result.p99 <= {}", l as f64 / 1000.0)),
                    None,
                    nr(format!("FROM Transaction SELECT percentile(duration, 99) AS p99 WHERE appName = '{svc}' SINCE 5 minutes ago")),
                ));
            }
            if let Some(e) = abort_error_rate {
                metrics.push(base(
                    "error-rate-abort",
                    None,
                    Some(format!("result.errorRate > {e}")),
                    nr(format!("FROM Transaction SELECT percentage(count(*), WHERE error IS true) AS errorRate WHERE appName = '{svc}' SINCE 5 minutes ago")),
                ));
            }
        }
        "datadog" => {
            let dd = |q: String| Provider {
                datadog: Some(DatadogProvider { api_version: "v2".into(), interval: "5m".into(), query: q }),
                ..Default::default()
            };
            metrics.push(base(
                "success-rate",
                Some(format!("default(result, 1) >= {rate}")),
                None,
                dd(format!("1 - (sum:trace.http.request.errors{{service:{svc},kube_namespace:{ns}}}.as_count() / sum:trace.http.request.hits{{service:{svc},kube_namespace:{ns}}}.as_count())")),
            ));
            if let Some(l) = a.max_latency_ms.or(abort_latency_ms) {
                metrics.push(base(
                    "latency-p99",
                    Some(format!("default(result, 0) <= {}", l as f64 / 1000.0)),
                    None,
                    dd(format!("p99:trace.http.request.duration{{service:{svc},kube_namespace:{ns}}}")),
                ));
            }
            if let Some(e) = abort_error_rate {
                metrics.push(base(
                    "error-rate-abort",
                    None,
                    Some(format!("default(result, 0) > {}", e / 100.0)),
                    dd(format!("sum:trace.http.request.errors{{service:{svc},kube_namespace:{ns}}}.as_count() / sum:trace.http.request.hits{{service:{svc},kube_namespace:{ns}}}.as_count()")),
                ));
            }
        }
        _ => {
            let prom = |q: String| Provider {
                prometheus: Some(PrometheusProvider { address: PROMETHEUS_ADDRESS.into(), query: q }),
                ..Default::default()
            };
            let total = format!("sum(rate(http_requests_total{{service=\"{svc}\",namespace=\"{ns}\"}}[5m]))");
            let errors =
                format!("sum(rate(http_requests_total{{service=\"{svc}\",namespace=\"{ns}\",code=~\"5..\"}}[5m]))");
            metrics.push(base(
                "success-rate",
                Some(format!("len(result) == 0 || result[0] >= {rate}")),
                None,
                prom(format!("1 - ({errors} / {total})")),
            ));
            if let Some(l) = a.max_latency_ms.or(abort_latency_ms) {
                metrics.push(base(
                    "latency-p99",
                    Some(format!("len(result) == 0 || result[0] <= {}", l as f64 / 1000.0)),
                    None,
                    prom(format!("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{service=\"{svc}\",namespace=\"{ns}\"}}[5m])))")),
                ));
            }
            if let Some(e) = abort_error_rate {
                metrics.push(base(
                    "error-rate-abort",
                    None,
                    Some(format!("len(result) > 0 && result[0] > {}", e / 100.0)),
                    prom(format!("{errors} / {total}")),
                ));
            }
        }
    }
    let name = analysis_template_name(cx);
    AnalysisTemplate {
        api_version: "argoproj.io/v1alpha1",
        kind: "AnalysisTemplate",
        metadata: cx.meta(&name, &name, "analysis"),
        spec: AnalysisTemplateSpec {
            args: vec![ArgDecl { name: "service-name".into() }, ArgDecl { name: "namespace".into() }],
            metrics,
        },
    }
}

// ------------------------------------------------------ External Secrets

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: ExternalSecretSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    pub refresh_interval: String,
    pub secret_store_ref: StoreRef,
    pub target: SecretTarget,
    pub data_from: Vec<DataFrom>,
}

#[derive(Serialize)]
pub struct StoreRef {
    pub name: String,
    pub kind: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretTarget {
    pub name: String,
    pub creation_policy: String,
}

#[derive(Serialize)]
pub struct DataFrom {
    pub extract: Extract,
}

#[derive(Serialize)]
pub struct Extract {
    pub key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretStore {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: SecretStoreSpec,
}

#[derive(Serialize)]
pub struct SecretStoreSpec {
    pub provider: StoreProvider,
}

#[derive(Serialize, Default)]
pub struct StoreProvider {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsProvider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultProvider>,
}

#[derive(Serialize)]
pub struct AwsProvider {
    pub service: String,
    pub region: String,
    pub auth: AwsAuth,
}

#[derive(Serialize)]
pub struct AwsAuth {
    pub jwt: Jwt,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Jwt {
    pub service_account_ref: NameRef,
}

#[derive(Serialize)]
pub struct NameRef {
    pub name: String,
}

#[derive(Serialize)]
pub struct VaultProvider {
    pub server: String,
    pub path: String,
    pub version: String,
    pub auth: VaultAuth,
}

#[derive(Serialize)]
pub struct VaultAuth {
    pub kubernetes: VaultKubernetesAuth,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultKubernetesAuth {
    pub mount_path: String,
    pub role: String,
    pub service_account_ref: NameRef,
}

// ------------------------------------------------------ Prometheus Operator

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitor {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: ServiceMonitorSpec,
}

#[derive(Serialize)]
pub struct ServiceMonitorSpec {
    pub selector: LabelSelector,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
pub struct Endpoint {
    pub port: String,
    pub path: String,
    pub interval: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRule {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: PrometheusRuleSpec,
}

#[derive(Serialize)]
pub struct PrometheusRuleSpec {
    pub groups: Vec<RuleGroup>,
}

#[derive(Serialize)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Serialize, JsonSchema)]
pub struct Rule {
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}
