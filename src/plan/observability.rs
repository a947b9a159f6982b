//! Observability decided once: the alert rules of an environment, the
//! labels that make Prometheus and Alertmanager select our objects, and
//! where alerts go (an `AlertmanagerConfig` routing them by severity to the
//! declared integrations, with credentials from Secrets the inventory
//! produces). Kubernetes and Helm both render what these functions return.
//!
//! **Invariant:** every rule carries a static `namespace` label, so that the
//! Prometheus Operator's `OnNamespace` matcher on the environment's
//! AlertmanagerConfig matches it even when its expression aggregates the
//! label away (`sum by (service)`).

use super::crd::Rule;
use super::EnvPlan;
use crate::model::{IntegrationKind, Model};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// Severities from the most to the least urgent, as PagerDuty's Events API
/// v2 names them (the schema's `severity` enum of the pagerduty integration).
pub const SEVERITIES: &[&str] = &["critical", "error", "warning", "info"];

/// The key of a Secret that holds one `secret("name")` value, as for
/// environment variables.
pub const SECRET_KEY: &str = "value";

/// The name of an environment's PrometheusRule and AlertmanagerConfig.
pub fn alerts_name(model: &Model) -> String {
    format!("{}-alerts", model.project.name)
}

/// The labels Prometheus selects monitoring objects by (ServiceMonitor,
/// PrometheusRule, AlertmanagerConfig): kube-prometheus-stack's default
/// `serviceMonitorSelector`, `ruleSelector` and `alertmanagerConfigSelector`
/// all match `release: <release name>`. Empty without `metrics`.
pub fn selector_labels(model: &Model) -> BTreeMap<String, String> {
    model.observability.metrics.as_ref().map(|m| m.selector_labels.clone()).unwrap_or_default()
}

/// Metadata of a monitoring object (PrometheusRule, AlertmanagerConfig):
/// the standard labels plus the selector labels.
pub fn monitoring_meta(cx: &EnvPlan, name: &str) -> ObjectMeta {
    let mut meta = cx.meta(name, name, "monitoring");
    meta.labels.get_or_insert_with(BTreeMap::new).extend(selector_labels(cx.model));
    meta
}

/// Whether the environment runs anything with a PersistentVolumeClaim (an
/// in-cluster datastore, its backups).
fn has_volumes(cx: &EnvPlan) -> bool {
    cx.model.resources.iter().any(|r| cx.in_cluster(r.id))
}

/// The alert rules of an environment (empty without `alerts`).
pub fn alert_rules(cx: &EnvPlan) -> Vec<Rule> {
    let model = cx.model;
    let mut rules = Vec::new();
    let ns = cx.ns().to_string();
    let route: Vec<String> = model
        .observability
        .alerts
        .iter()
        .flat_map(|a| &a.route_to)
        .map(|i| model.integrations[i.index()].name.clone())
        .collect();
    // Objectives are guarded whether or not `alerts` is declared; they go
    // where the declared alerts go.
    let mut base = BTreeMap::from([("namespace".to_string(), ns.clone())]);
    if !route.is_empty() {
        base.insert("route".into(), route.join(","));
    }
    let slo_rules = super::slo::alert_rules(cx, &base);
    let Some(a) = &model.observability.alerts else { return slo_rules };
    let rule = |alert: &str, expr: String, severity: &str, summary: &str| Rule {
        alert: alert.into(),
        expr,
        for_: "5m".into(),
        labels: {
            let mut l =
                BTreeMap::from([("severity".to_string(), severity.to_string()), ("namespace".to_string(), ns.clone())]);
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
        // Saturation of a disk is the same declaration as cpu and memory:
        // the kubelet's volume statistics of every claim in the namespace
        // (the datastores' data and their backups).
        if has_volumes(cx) {
            rules.push(rule(
                "VolumeNearlyFull",
                format!(
                    "kubelet_volume_stats_used_bytes{{namespace=\"{ns}\"}} / kubelet_volume_stats_capacity_bytes{{namespace=\"{ns}\"}} > {}",
                    x / 100.0
                ),
                "warning",
                "Volume {{ $labels.persistentvolumeclaim }} is nearly full",
            ));
        }
    }
    if a.database_down {
        rules.push(rule(
            "DatabaseDown",
            format!("kube_statefulset_status_replicas_ready{{namespace=\"{ns}\"}} < 1"),
            "critical",
            "In-cluster database {{ $labels.statefulset }} has no ready replica",
        ));
    }
    rules.extend(slo_rules);
    rules
}

// ------------------------------------------------------------ Alertmanager

/// A key of a Secret in the AlertmanagerConfig's namespace.
#[derive(Clone, Debug, Serialize, JsonSchema, PartialEq)]
pub struct SecretKey {
    pub name: String,
    pub key: String,
}

/// `monitoring.coreos.com/v1alpha1` AlertmanagerConfig.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerConfig {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: AlertmanagerConfigSpec,
}

#[derive(Serialize, JsonSchema)]
pub struct AlertmanagerConfigSpec {
    pub route: Route,
    pub receivers: Vec<Receiver>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub receiver: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<Matcher>,
    #[serde(rename = "continue", default, skip_serializing_if = "std::ops::Not::not")]
    pub continue_: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub match_type: String,
    pub value: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receiver {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerDutyConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opsgenie_configs: Vec<OpsgenieConfig>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpsgenieConfig {
    pub api_key: SecretKey,
    #[serde(rename = "apiURL")]
    pub api_url: String,
    pub message: String,
    pub priority: String,
    pub send_resolved: bool,
}

/// Opsgenie's API per instance (`region`).
pub fn opsgenie_api_url(region: &str) -> &'static str {
    match region {
        "eu" => "https://api.eu.opsgenie.com/",
        _ => "https://api.opsgenie.com/",
    }
}

/// Opsgenie priority from the rule's severity, as a Go template.
pub const OPSGENIE_PRIORITY: &str = "{{ if eq .CommonLabels.severity \"critical\" }}P1{{ else if eq .CommonLabels.severity \"error\" }}P2{{ else if eq .CommonLabels.severity \"warning\" }}P3{{ else }}P5{{ end }}";

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PagerDutyConfig {
    pub routing_key: SecretKey,
    pub severity: String,
    pub send_resolved: bool,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlackConfig {
    #[serde(rename = "apiURL")]
    pub api_url: SecretKey,
    pub channel: String,
    pub send_resolved: bool,
    pub title: String,
    pub text: String,
}

/// Whether an integration kind can receive alerts from Alertmanager.
pub fn receives_alerts(kind: &IntegrationKind) -> bool {
    matches!(kind, IntegrationKind::Slack { .. } | IntegrationKind::PagerDuty { .. } | IntegrationKind::Opsgenie { .. })
}

/// A program string as a Go template that prints it verbatim: Alertmanager
/// expands templates in most notifier fields (a Slack channel among them),
/// so a `{{` from the program must not start an action.
pub fn go_template_literal(s: &str) -> String {
    s.replace("{{", "{{ \"{{\" }}")
}

/// The integrations that receive this environment's alerts, with the
/// severities each is sent. PagerDuty and Opsgenie page only for production
/// environments, and only at or above its declared severity; chat gets
/// every severity everywhere.
fn alert_targets<'m>(cx: &EnvPlan<'m>) -> Vec<(&'m crate::model::Integration, Vec<&'static str>)> {
    let model = cx.model;
    let Some(a) = &model.observability.alerts else { return Vec::new() };
    let mut out = Vec::new();
    for id in &a.route_to {
        let i = &model.integrations[id.index()];
        match &i.kind {
            IntegrationKind::PagerDuty { severity, .. } | IntegrationKind::Opsgenie { severity, .. }
                if cx.env.production =>
            {
                let upto = SEVERITIES.iter().position(|s| s == severity).unwrap_or(0);
                out.push((i, SEVERITIES[..=upto].to_vec()));
            }
            IntegrationKind::Slack { .. } => out.push((i, SEVERITIES.to_vec())),
            _ => {}
        }
    }
    out
}

/// The Secrets (name, key) the environment's alert receivers read; the
/// secret inventory adds them, so each has a producer.
pub fn receiver_secrets(cx: &EnvPlan) -> Vec<(String, String)> {
    if alert_rules(cx).is_empty() {
        return Vec::new();
    }
    alert_targets(cx)
        .into_iter()
        .filter_map(|(i, _)| match &i.kind {
            IntegrationKind::PagerDuty { routing_key, .. } => Some(routing_key.clone()),
            IntegrationKind::Slack { webhook, .. } => Some(webhook.clone()),
            IntegrationKind::Opsgenie { api_key, .. } => Some(api_key.clone()),
            _ => None,
        })
        .filter(|n| !n.is_empty())
        .map(|n| (n, SECRET_KEY.to_string()))
        .collect()
}

/// The receiver that drops what no integration takes: Alertmanager needs a
/// root receiver, and every real receiver hangs off a child route.
pub const NULL_RECEIVER: &str = "none";

/// The environment's AlertmanagerConfig spec: one child route per
/// integration, matching the severities it takes, each with `continue` so
/// an alert reaches every integration that wants it. `None` when there are
/// no rules or no integration receives this environment's alerts.
pub fn alertmanager_spec(cx: &EnvPlan) -> Option<AlertmanagerConfigSpec> {
    if alert_rules(cx).is_empty() {
        return None;
    }
    let targets = alert_targets(cx);
    if targets.is_empty() {
        return None;
    }
    let mut receivers = vec![Receiver {
        name: NULL_RECEIVER.into(),
        pagerduty_configs: Vec::new(),
        slack_configs: Vec::new(),
        opsgenie_configs: Vec::new(),
    }];
    let mut routes = Vec::new();
    for (i, severities) in targets {
        let mut r = Receiver {
            name: i.name.clone(),
            pagerduty_configs: Vec::new(),
            slack_configs: Vec::new(),
            opsgenie_configs: Vec::new(),
        };
        match &i.kind {
            IntegrationKind::PagerDuty { routing_key, .. } => r.pagerduty_configs.push(PagerDutyConfig {
                routing_key: SecretKey { name: routing_key.clone(), key: SECRET_KEY.into() },
                // The rule's own severity: every rule's is one of PagerDuty's four.
                severity: "{{ .CommonLabels.severity }}".into(),
                send_resolved: true,
            }),
            IntegrationKind::Slack { channel, webhook, .. } => r.slack_configs.push(SlackConfig {
                api_url: SecretKey { name: webhook.clone(), key: SECRET_KEY.into() },
                channel: go_template_literal(channel),
                send_resolved: true,
                title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})".into(),
                text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}".into(),
            }),
            IntegrationKind::Opsgenie { api_key, region, .. } => r.opsgenie_configs.push(OpsgenieConfig {
                api_key: SecretKey { name: api_key.clone(), key: SECRET_KEY.into() },
                api_url: opsgenie_api_url(region).into(),
                message: "{{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})".into(),
                priority: OPSGENIE_PRIORITY.into(),
                send_resolved: true,
            }),
            _ => continue,
        }
        receivers.push(r);
        routes.push(Route {
            receiver: i.name.clone(),
            group_by: Vec::new(),
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
            matchers: vec![Matcher { name: "severity".into(), match_type: "=~".into(), value: severities.join("|") }],
            continue_: true,
            routes: Vec::new(),
        });
    }
    Some(AlertmanagerConfigSpec {
        route: Route {
            receiver: NULL_RECEIVER.into(),
            // Severity is in the grouping so that `.CommonLabels.severity`
            // is always set for PagerDuty.
            group_by: vec!["alertname".into(), "namespace".into(), "severity".into()],
            group_wait: Some("30s".into()),
            group_interval: Some("5m".into()),
            repeat_interval: Some("4h".into()),
            matchers: Vec::new(),
            continue_: false,
            routes,
        },
        receivers,
    })
}

/// The environment's AlertmanagerConfig object.
pub fn alertmanager_config(cx: &EnvPlan) -> Option<AlertmanagerConfig> {
    let spec = alertmanager_spec(cx)?;
    Some(AlertmanagerConfig {
        api_version: "monitoring.coreos.com/v1alpha1",
        kind: "AlertmanagerConfig",
        metadata: monitoring_meta(cx, &alerts_name(cx.model)),
        spec,
    })
}

// ------------------------------------------------------------- pod variables

/// A variable the observability declarations give a service's container.
#[derive(Clone, Debug, PartialEq)]
pub enum PodVar {
    /// A value, written to the service's ConfigMap like the program's own.
    Plain(String),
    /// A key of a Secret the inventory produces.
    Secret { name: String, key: String },
    /// A field of the pod, through the downward API (`metadata.uid`).
    Field(String),
    /// An `env` value expanding earlier variables (`$(NAME)`); never in
    /// the ConfigMap, where Kubernetes does not expand.
    Expanded(String),
}

/// The DSN Secret of the program's Sentry integration, which applies to
/// every service (the first one, if several are declared).
pub fn sentry_dsn(model: &Model) -> Option<&str> {
    model.integrations.iter().find_map(|i| match &i.kind {
        IntegrationKind::Sentry { dsn, .. } if !dsn.is_empty() => Some(dsn.as_str()),
        _ => None,
    })
}

// ------------------------------------------------------ Datadog service tags

/// Datadog's unified service tagging labels.
pub const DD_ENV_LABEL: &str = "tags.datadoghq.com/env";
pub const DD_SERVICE_LABEL: &str = "tags.datadoghq.com/service";
pub const DD_VERSION_LABEL: &str = "tags.datadoghq.com/version";
/// The pods' version label Sentry's release is read from (`SENTRY_RELEASE`).
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";

/// The pod labels that hold the deployed image tag: Datadog's version tag
/// (`logs = datadog`) and `app.kubernetes.io/version` (Sentry's release),
/// each kept equal to the tag CD deploys by [`version_replacement`].
pub fn version_label_keys(model: &Model) -> Vec<&'static str> {
    let mut out = Vec::new();
    if datadog(model) {
        out.push(DD_VERSION_LABEL);
    }
    if sentry_dsn(model).is_some() {
        out.push(VERSION_LABEL);
    }
    out
}

/// Whether the program ships logs to Datadog (`logs = datadog`).
pub fn datadog(model: &Model) -> bool {
    model.observability.logs.as_ref().is_some_and(|l| l.kind == "datadog")
}

/// The unified service tagging labels of a service's pods: environment,
/// service and, when the image has a tag, the version = that tag. The
/// version label is kept equal to the tag CD deploys by a kustomize
/// `replacements` entry copying it from the container image (see
/// [`version_replacement`]); the Helm chart derives it from the image tag
/// value the release sets.
///
/// With Sentry, `app.kubernetes.io/version` = the tag too, kept the same way.
pub fn datadog_labels(cx: &EnvPlan, s: &crate::model::Service) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    if datadog(cx.model) {
        l.insert(DD_ENV_LABEL.to_string(), cx.env.name.clone());
        l.insert(DD_SERVICE_LABEL.to_string(), s.name.clone());
    }
    // The image is resolved only when a version label wants its tag.
    let keys = version_label_keys(cx.model);
    if let Some(tag) = (!keys.is_empty()).then(|| cx.image(s).tag).flatten() {
        for k in keys {
            l.insert(k.to_string(), tag.clone());
        }
    }
    l
}

/// The kustomize `replacements` entry that copies the deployed image tag
/// into the pods' version label, after kustomize's `images:` transformer
/// has set the tag CD released: `(workload kind, workload name, image
/// container, targets (kind, name))`. None when the image is not released
/// by CD (its tag never changes) or its repository names a registry port
/// (a `:` before the tag, which the split on `:` would take for it).
pub fn version_replacement(cx: &EnvPlan, d: &crate::model::Deployment) -> Option<serde_json::Value> {
    let keys = version_label_keys(cx.model);
    if keys.is_empty() {
        return None;
    }
    let s = cx.model.service(d.service);
    let image = cx.image(s);
    if !image.released || image.tag.is_none() || image.digest.is_some() || image.repository.contains(':') {
        return None;
    }
    // The service's own strategy decides the workload (a worker in a
    // progressive environment is a Deployment); a job's pod template sits
    // one level deeper in a CronJob.
    let (kind, template) = match s.kind {
        crate::model::WorkloadKind::Job(_) => ("Job", "spec.template"),
        crate::model::WorkloadKind::Cron { .. } => ("CronJob", "spec.jobTemplate.spec.template"),
        _ => (super::vpa::workload_ref(&d.strategy.kind).1, "spec.template"),
    };
    let label: Vec<String> =
        keys.iter().map(|k| format!("{template}.metadata.labels.{}", k.replace('.', "\\."))).collect();
    let mut targets = vec![serde_json::json!({ "select": { "kind": kind, "name": s.name }, "fieldPaths": label })];
    if s.migrations.is_some() && cx.runs_migrations() {
        targets.push(serde_json::json!({
            "select": { "kind": "Job", "name": format!("{}-migrate", s.name) },
            "fieldPaths": label
        }));
    }
    Some(serde_json::json!({
        "source": {
            "kind": kind,
            "name": s.name,
            "fieldPath": format!("{template}.spec.containers.[name={}].image", s.name),
            "options": { "delimiter": ":", "index": 1 }
        },
        "targets": targets
    }))
}

/// The variables observability adds to a service's container, sorted by
/// name; a variable the service sets itself is left to the service.
///
/// Sentry: `SENTRY_DSN` from the Secret, `SENTRY_ENVIRONMENT`, the
/// environment's name, and `SENTRY_RELEASE`, the deployed image tag read
/// from the pod's `app.kubernetes.io/version` label through the downward
/// API. CD rewrites tags in image references only (`SET_TAG` in
/// `plan/delivery.rs`), so a literal would be stale after every deploy;
/// the label follows the image through kustomize's `replacements`
/// ([`version_replacement`], as Datadog's version does) and the chart's
/// image tag value. An image without a tag (a digest) sets no release.
///
/// Tracing: the OpenTelemetry SDK variables of `plan/tracing.rs`, in the
/// order it gives (a variable expanding another comes after it).
pub fn pod_env(cx: &EnvPlan, d: &crate::model::Deployment) -> Vec<(String, PodVar)> {
    let mut out = BTreeMap::new();
    if let Some(dsn) = sentry_dsn(cx.model) {
        out.insert("SENTRY_DSN".to_string(), PodVar::Secret { name: dsn.to_string(), key: SECRET_KEY.into() });
        out.insert("SENTRY_ENVIRONMENT".to_string(), PodVar::Plain(cx.env.name.clone()));
    }
    let labels = datadog_labels(cx, cx.model.service(d.service));
    if sentry_dsn(cx.model).is_some() && labels.contains_key(VERSION_LABEL) {
        out.insert("SENTRY_RELEASE".to_string(), PodVar::Field(format!("metadata.labels['{VERSION_LABEL}']")));
    }
    // Datadog: DD_ENV, DD_SERVICE, DD_VERSION read from the pod's labels
    // through the downward API, so the version follows the label.
    for (var, label) in [("DD_ENV", DD_ENV_LABEL), ("DD_SERVICE", DD_SERVICE_LABEL), ("DD_VERSION", DD_VERSION_LABEL)] {
        if labels.contains_key(label) {
            out.insert(var.to_string(), PodVar::Field(format!("metadata.labels['{label}']")));
        }
    }
    let mut out: Vec<(String, PodVar)> = out.into_iter().collect();
    out.extend(super::tracing::pod_vars(cx, d));
    out.into_iter().filter(|(k, _)| !d.env.contains_key(k)).collect()
}
