//! Typed structs for the custom resources deployc emits (Argo Rollouts,
//! External Secrets Operator, Prometheus Operator), limited to the fields we
//! use, named as in the upstream CRDs. The analysis metrics and alert rules
//! also derive `JsonSchema`: the Helm chart carries them as values.

use super::analysis::env_analysis;
use super::routes::traffic_routing;
use super::EnvPlan;
use crate::model::{Analysis, Service, Step, StrategyKind};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_routing: Option<TrafficRouting>,
    pub steps: Vec<CanaryStep>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<BackgroundAnalysis>,
}

/// How canary weights reach user traffic: through the service's Ingress.
#[derive(Serialize, JsonSchema, Clone, Debug)]
pub struct TrafficRouting {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nginx: Option<NginxRouting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alb: Option<AlbRouting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio: Option<IstioRouting>,
}

/// Istio host-level splitting: Argo Rollouts sets the weights of the
/// VirtualService's route between the stable and the canary Service.
#[derive(Serialize, JsonSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct IstioRouting {
    pub virtual_service: VirtualServiceRef,
}

#[derive(Serialize, JsonSchema, Clone, Debug)]
pub struct VirtualServiceRef {
    pub name: String,
    pub routes: Vec<String>,
}

#[derive(Serialize, JsonSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct NginxRouting {
    pub stable_ingress: String,
}

#[derive(Serialize, JsonSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AlbRouting {
    pub ingress: String,
    pub service_port: u16,
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
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ArgValueFrom>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgValueFrom {
    /// `Latest`: the pod-template-hash of the new version.
    pub pod_template_hash_value: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_promotion_analysis: Option<AnalysisRef>,
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

/// The arguments every AnalysisTemplate of deployc declares, in order:
/// `service-name` the Service whose traffic is measured (the canary or
/// preview Service while the new version is judged, the active one after a
/// blue-green switch), `app` the service's name (APM application name),
/// `namespace`, and `pod-hash` the new version's pod-template-hash.
pub const ANALYSIS_ARGS: [&str; 4] = ["service-name", "app", "namespace", "pod-hash"];

/// The analysis of `service` measuring the traffic of the Service `measured`.
pub fn analysis_ref(cx: &EnvPlan, service: &str, measured: &str) -> AnalysisRef {
    let v = |name: &str, value: &str| Arg { name: name.into(), value: Some(value.into()), value_from: None };
    AnalysisRef {
        templates: vec![TemplateRef { template_name: analysis_template_name(cx) }],
        args: vec![
            v("service-name", measured),
            v("app", service),
            v("namespace", cx.ns()),
            Arg {
                name: "pod-hash".into(),
                value: None,
                value_from: Some(ArgValueFrom { pod_template_hash_value: "Latest".into() }),
            },
        ],
    }
}

/// How long an analysis runs: `count` measurements `interval` apart.
pub fn analysis_duration_ms(a: &Analysis) -> u64 {
    a.interval_ms * u64::from(a.count)
}

/// The Rollout strategy of a service in an environment with a progressive strategy.
pub fn rollout_strategy(cx: &EnvPlan, s: &Service, kind: &StrategyKind) -> RolloutStrategy {
    let service = s.name.as_str();
    match kind {
        StrategyKind::Canary { steps, analysis, .. } => {
            let has_inline = steps.iter().any(|s| matches!(s, Step::Analysis));
            let canary = super::ports::canary_name(s);
            let steps = steps
                .iter()
                .map(|s| match s {
                    Step::Weight(w) => CanaryStep { set_weight: Some(w.round() as i32), ..Default::default() },
                    Step::Pause(d) => {
                        CanaryStep { pause: Some(Pause { duration: d.map(duration) }), ..Default::default() }
                    }
                    Step::Analysis => {
                        CanaryStep { analysis: Some(analysis_ref(cx, service, &canary)), ..Default::default() }
                    }
                })
                .collect();
            let background = (analysis.is_some() && !has_inline).then(|| {
                let r = analysis_ref(cx, service, &canary);
                BackgroundAnalysis { templates: r.templates, args: r.args, starting_step: 1 }
            });
            RolloutStrategy {
                canary: Some(Canary {
                    stable_service: service.to_string(),
                    canary_service: canary,
                    traffic_routing: traffic_routing(cx, s),
                    steps,
                    analysis: background,
                }),
                blue_green: None,
            }
        }
        StrategyKind::BlueGreen { auto_promote, auto_promote_after_ms, analysis, .. } => {
            let preview = super::ports::preview_name(s);
            let post = post_promotion_analysis(cx);
            RolloutStrategy {
                canary: None,
                blue_green: Some(BlueGreen {
                    active_service: service.to_string(),
                    preview_service: preview.clone(),
                    auto_promotion_enabled: *auto_promote || auto_promote_after_ms.is_some(),
                    auto_promotion_seconds: auto_promote_after_ms.map(|ms| (ms / 1000) as i64),
                    scale_down_delay_seconds: scale_down_delay_seconds(cx),
                    pre_promotion_analysis: analysis.as_ref().map(|_| analysis_ref(cx, service, &preview)),
                    // After the switch the active Service selects the new pods.
                    post_promotion_analysis: post.map(|_| analysis_ref(cx, service, service)),
                }),
            }
        }
        StrategyKind::Rolling { .. } => RolloutStrategy::default(),
    }
}

/// The analysis a blue-green environment runs after the switch, if any.
pub fn post_promotion_analysis(cx: &EnvPlan) -> Option<Analysis> {
    match cx.env.progressive() {
        StrategyKind::BlueGreen { analyze_after_switch: true, .. } => env_analysis(cx).map(|(a, _, _)| a),
        _ => None,
    }
}

/// How long a blue-green switch keeps the old version: the declared delay,
/// and at least as long as the post-promotion analysis runs (plus a
/// minute), so that a failing analysis switches back to pods still running.
pub fn scale_down_delay_seconds(cx: &EnvPlan) -> i64 {
    let StrategyKind::BlueGreen { scale_down_delay_ms, .. } = cx.env.progressive() else { return 0 };
    let post = post_promotion_analysis(cx).map(|a| analysis_duration_ms(&a) + 60_000).unwrap_or(0);
    ((*scale_down_delay_ms).max(post) / 1000) as i64
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
    pub inconclusive_limit: i32,
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

/// Where the Prometheus Operator's Prometheus answers inside the cluster,
/// unless `observability { metrics = prometheus { address = ... } }` says otherwise.
pub const PROMETHEUS_ADDRESS: &str = "http://prometheus-operated.monitoring.svc.cluster.local:9090";

/// The Prometheus the analysis queries: the program's, else the default.
fn prometheus_address(cx: &EnvPlan) -> String {
    cx.model.observability.metrics.as_ref().map(|m| m.address.clone()).unwrap_or_else(|| PROMETHEUS_ADDRESS.into())
}

/// The New Relic profile (credentials Secret) of the program's integration.
fn new_relic_profile(cx: &EnvPlan) -> String {
    cx.model
        .integrations
        .iter()
        .find_map(|i| match &i.kind {
            crate::model::IntegrationKind::NewRelic { api_key, .. } => Some(api_key.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "newrelic".into())
}

/// A metric's conditions: `ok` (the measurement passes) and its negation,
/// both behind a `guard` that holds only when the measurement has data.
/// Without data (no series, no traffic, NaN) neither holds, so Argo Rollouts
/// counts the measurement as Inconclusive (up to `inconclusiveLimit`, then
/// the rollout pauses for a person): never Successful.
fn guarded(guard: &str, ok: String, bad: String) -> (Option<String>, Option<String>) {
    (Some(format!("{guard} && {ok}")), Some(format!("{guard} && {bad}")))
}

/// The analysis of an environment's strategy, as an AnalysisTemplate. Every
/// query measures the Service (or pods) the Rollout passes as arguments:
/// the canary or preview while the new version is judged.
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
    let app = "{{args.app}}";
    let ns = "{{args.namespace}}";
    let hash = "{{args.pod-hash}}";
    let base = |name: &str, (success, failure): (Option<String>, Option<String>), provider: Provider| Metric {
        name: name.into(),
        interval: duration(a.interval_ms),
        count: a.count as i32,
        failure_limit: a.failure_limit as i32,
        inconclusive_limit: a.inconclusive_limit as i32,
        success_condition: success,
        failure_condition: failure,
        provider,
    };
    let mut metrics = Vec::new();
    let rate = a.success_rate / 100.0;
    let latency = a.max_latency_ms.or(abort_latency_ms).map(|l| l as f64 / 1000.0);
    match provider.as_str() {
        "newrelic" => {
            let profile = new_relic_profile(cx);
            let nr = |q: String| Provider {
                new_relic: Some(NewRelicProvider { profile: profile.clone(), query: q }),
                ..Default::default()
            };
            // The new version's pods: Rollouts pod names carry the pod-template-hash.
            let scope = format!("appName = '{app}' AND k8s.podName LIKE '%-{hash}-%' SINCE 5 minutes ago");
            let guard = "result.requests > 0";
            metrics.push(base(
                "success-rate",
                guarded(
                    guard,
                    format!("result.successRate >= {}", a.success_rate),
                    format!("result.successRate < {}", a.success_rate),
                ),
                nr(format!(
                    "FROM Transaction SELECT count(*) AS requests, percentage(count(*), WHERE error IS false) AS successRate WHERE {scope}"
                )),
            ));
            if let Some(l) = latency {
                metrics.push(base(
                    "latency-p99",
                    guarded(guard, format!("result.p99 <= {l}"), format!("result.p99 > {l}")),
                    nr(format!(
                        "FROM Transaction SELECT count(*) AS requests, percentile(duration, 99) AS p99 WHERE {scope}"
                    )),
                ));
            }
            if let Some(e) = abort_error_rate {
                metrics.push(base(
                    "error-rate-abort",
                    guarded(guard, format!("result.errorRate <= {e}"), format!("result.errorRate > {e}")),
                    nr(format!(
                        "FROM Transaction SELECT count(*) AS requests, percentage(count(*), WHERE error IS true) AS errorRate WHERE {scope}"
                    )),
                ));
            }
        }
        "datadog" => {
            let dd = |q: String| Provider {
                datadog: Some(DatadogProvider { api_version: "v2".into(), interval: "5m".into(), query: q }),
                ..Default::default()
            };
            // The Datadog Agent tags pods with the rollouts pod-template-hash
            // label (podLabelsAsTags), so the queries see the new version only.
            let tags = format!("service:{app},kube_namespace:{ns},rollouts_pod_template_hash:{hash}");
            // No traffic: the division has no points and the result is nil.
            let guard = "result != nil";
            let error_share = format!(
                "sum:trace.http.request.errors{{{tags}}}.as_count() / sum:trace.http.request.hits{{{tags}}}.as_count()"
            );
            metrics.push(base(
                "success-rate",
                guarded(guard, format!("result >= {rate}"), format!("result < {rate}")),
                dd(format!("1 - ({error_share})")),
            ));
            if let Some(l) = latency {
                metrics.push(base(
                    "latency-p99",
                    guarded(guard, format!("result <= {l}"), format!("result > {l}")),
                    dd(format!("p99:trace.http.request.duration{{{tags}}}")),
                ));
            }
            if let Some(e) = abort_error_rate {
                let e = e / 100.0;
                metrics.push(base(
                    "error-rate-abort",
                    guarded(guard, format!("result <= {e}"), format!("result > {e}")),
                    dd(error_share),
                ));
            }
        }
        _ => {
            let address = prometheus_address(cx);
            let prom = |q: String| Provider {
                prometheus: Some(PrometheusProvider { address: address.clone(), query: q }),
                ..Default::default()
            };
            // `service` is the Service through which the ServiceMonitor found
            // the pod: the canary/preview Service selects the new pods only.
            let sel = format!("service=\"{svc}\",namespace=\"{ns}\"");
            // Requests per second, and only when there are some: `> 0` drops
            // the sample at zero traffic, so the result is empty (no data),
            // never 0/0 = NaN. Errors default to 0 (`or vector(0)`) because
            // a version without 5xx has no error series at all.
            let total = format!("(sum(rate(http_requests_total{{{sel}}}[5m])) > 0)");
            let errors = format!("(sum(rate(http_requests_total{{{sel},code=~\"5..\"}}[5m])) or vector(0))");
            let guard = "len(result) > 0";
            metrics.push(base(
                "success-rate",
                guarded(guard, format!("result[0] >= {rate}"), format!("result[0] < {rate}")),
                prom(format!("1 - {errors} / {total}")),
            ));
            if let Some(l) = latency {
                // `>= 0` drops the NaN histogram_quantile gives without requests.
                metrics.push(base(
                    "latency-p99",
                    guarded(guard, format!("result[0] <= {l}"), format!("result[0] > {l}")),
                    prom(format!(
                        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m]))) >= 0"
                    )),
                ));
            }
            if let Some(e) = abort_error_rate {
                let e = e / 100.0;
                metrics.push(base(
                    "error-rate-abort",
                    guarded(guard, format!("result[0] <= {e}"), format!("result[0] > {e}")),
                    prom(format!("{errors} / {total}")),
                ));
            }
        }
    }
    // The program's own metrics, behind the provider's data guard.
    for c in &a.custom {
        let guard = match provider.as_str() {
            "newrelic" | "datadog" => "result != nil",
            _ => "len(result) > 0",
        };
        let failure = c.failure.clone().unwrap_or_else(|| format!("!({})", c.success));
        let p = match provider.as_str() {
            "newrelic" => Provider {
                new_relic: Some(NewRelicProvider { profile: new_relic_profile(cx), query: c.query.clone() }),
                ..Default::default()
            },
            "datadog" => Provider {
                datadog: Some(DatadogProvider {
                    api_version: "v2".into(),
                    interval: "5m".into(),
                    query: c.query.clone(),
                }),
                ..Default::default()
            },
            _ => Provider {
                prometheus: Some(PrometheusProvider { address: prometheus_address(cx), query: c.query.clone() }),
                ..Default::default()
            },
        };
        metrics.push(base(&c.name, guarded(guard, format!("({})", c.success), format!("({failure})")), p));
    }
    let name = analysis_template_name(cx);
    AnalysisTemplate {
        api_version: "argoproj.io/v1alpha1",
        kind: "AnalysisTemplate",
        metadata: cx.meta(&name, &name, "analysis"),
        spec: AnalysisTemplateSpec {
            args: ANALYSIS_ARGS.iter().map(|n| ArgDecl { name: n.to_string() }).collect(),
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
    /// The Secret's type when it is not Opaque (an image pull secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<SecretTemplate>,
}

#[derive(Serialize)]
pub struct SecretTemplate {
    #[serde(rename = "type")]
    pub type_: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcpsm: Option<GcpsmProvider>,
}

/// Google Secret Manager, reached as the Google service account the store's
/// ServiceAccount is bound to (GKE Workload Identity; ESO finds the cluster
/// through the metadata server).
#[derive(Serialize)]
pub struct GcpsmProvider {
    #[serde(rename = "projectID")]
    pub project_id: String,
    pub auth: GcpsmAuth,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcpsmAuth {
    pub workload_identity: Jwt,
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
