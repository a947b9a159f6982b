//! Observability declarations produce objects: every declaration of an
//! example maps to the objects it produced, Prometheus accepts every rule
//! file (`promtool check rules`), and Alertmanager's receivers read Secrets
//! the inventory produces.

mod common;
use deployc::emit::{self, Target};
use deployc::model::{IntegrationKind, Model};
use deployc::plan::observability::receives_alerts;
use deployc::plan::secrets::inventory;
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const PROGRAMS: &[&str] = &[
    "examples/austa-cockpit.dpl",
    "examples/cicd-pipeline.dpl",
    "examples/healthcare-devops.dpl",
    "examples/healthcp.dpl",
    "examples/platform-microservices.dpl",
    "tests/programs/edge.dpl",
    "tests/programs/infra.dpl",
    "tests/programs/shop.dpl",
];

/// One environment's Kubernetes objects, parsed: (kind, name) → document.
type Objects = BTreeMap<(String, String), Value>;

/// Compiles a program and parses its Kubernetes target, per environment.
fn objects(program: &str, mut check: impl FnMut(&Model, &Plan, &BTreeMap<String, Objects>)) {
    let c = common::compile_file(program);
    let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let files = emit::emit(&plan, &[Target::K8s]);
    let mut per_env: BTreeMap<String, Objects> = BTreeMap::new();
    for ep in &plan.envs {
        let prefix = format!("k8s/{}/", ep.env.name);
        let objs = per_env.entry(ep.env.name.clone()).or_default();
        for a in files.iter().filter(|a| a.path.starts_with(&prefix) && !a.path.ends_with("kustomization.yaml")) {
            let doc: Value = serde_yaml_ng::from_str(&a.contents).expect("yaml");
            let kind = doc["kind"].as_str().expect("kind").to_string();
            let name = doc["metadata"]["name"].as_str().expect("name").to_string();
            objs.insert((kind, name), doc);
        }
    }
    check(&model, &plan, &per_env);
}

/// The dashboard JSON a sidecar ConfigMap holds.
fn dashboard_json(cm: &Value) -> Value {
    let data = cm["data"].as_object().expect("data");
    serde_json::from_str(data.values().next().and_then(|v| v.as_str()).expect("one file")).expect("dashboard JSON")
}

fn has_labels(doc: &Value, labels: &BTreeMap<String, String>) -> bool {
    labels.iter().all(|(k, v)| doc["metadata"]["labels"][k].as_str() == Some(v))
}

/// The alert names each `alerts` field produces.
fn declared_alerts(model: &Model, env_has_volumes: bool) -> Vec<(&'static str, Vec<&'static str>)> {
    let Some(a) = &model.observability.alerts else { return Vec::new() };
    let mut out = Vec::new();
    if a.crash_loop {
        out.push(("crash_loop", vec!["PodCrashLooping"]));
    }
    if a.error_rate.is_some() {
        out.push(("error_rate", vec!["HighErrorRate"]));
    }
    if a.latency_ms.is_some() {
        out.push(("latency", vec!["HighLatency"]));
    }
    if a.cert_expiry_ms.is_some() {
        out.push(("cert_expiry", vec!["CertificateExpiringSoon"]));
    }
    if a.resource_exhaustion.is_some() {
        let mut v = vec!["MemoryNearLimit", "CpuThrottled"];
        if env_has_volumes {
            v.push("VolumeNearlyFull");
        }
        out.push(("resource_exhaustion", v));
    }
    if a.database_down {
        out.push(("database_down", vec!["DatabaseDown"]));
    }
    out
}

/// Metrics, alerts and alert routes: each declaration of each program maps
/// to the objects it produced, and one that produced nothing fails.
#[test]
fn every_observability_declaration_produces_its_objects() {
    let mut carried = BTreeSet::new();
    for program in PROGRAMS {
        objects(program, |model, plan, per_env| {
            let obs = &model.observability;
            let selector = obs.metrics.as_ref().map(|m| m.selector_labels.clone()).unwrap_or_default();
            for ep in &plan.envs {
                let objs = &per_env[&ep.env.name];
                let ns = ep.ns().to_string();
                // metrics → a ServiceMonitor per scraped service, selected by Prometheus.
                if obs.metrics.is_some() {
                    for d in &ep.env.deployments {
                        let s = model.service(d.service);
                        // A workload without a port (worker, job) has nothing to scrape.
                        if !s.metrics || s.port.is_none() {
                            continue;
                        }
                        let sm = objs.get(&("ServiceMonitor".into(), s.name.clone())).unwrap_or_else(|| {
                            panic!("{program}/{}: `metrics` made no ServiceMonitor for {}", ep.env.name, s.name)
                        });
                        assert!(has_labels(sm, &selector), "{program}: ServiceMonitor {} lacks {selector:?}", s.name);
                        assert_eq!(sm["spec"]["endpoints"][0]["port"], "http");
                        carried.insert((program.to_string(), "metrics"));
                    }
                }
                // integration sentry → SENTRY_DSN from its Secret, SENTRY_ENVIRONMENT.
                if let Some(dsn) = deployc::plan::observability::sentry_dsn(model) {
                    for d in &ep.env.deployments {
                        let s = model.service(d.service);
                        let workload = ["Deployment", "Rollout"]
                            .iter()
                            .find_map(|k| objs.get(&(k.to_string(), s.name.clone())))
                            .unwrap_or_else(|| panic!("{program}: no workload for {}", s.name));
                        let env = workload["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env");
                        let var = env.iter().find(|v| v["name"] == "SENTRY_DSN").unwrap_or_else(|| {
                            panic!("{program}/{}: `integration sentry` gave {} no SENTRY_DSN", ep.env.name, s.name)
                        });
                        assert_eq!(var["valueFrom"]["secretKeyRef"]["name"].as_str(), Some(dsn));
                        let inv = inventory(ep);
                        assert!(inv.iter().any(|x| x.name == dsn && x.readers.contains(&s.name)), "{program}: {dsn}");
                        let cm = &objs[&("ConfigMap".to_string(), format!("{}-config", s.name))];
                        assert_eq!(cm["data"]["SENTRY_ENVIRONMENT"].as_str(), Some(ep.env.name.as_str()));
                        carried.insert((program.to_string(), "sentry"));
                    }
                }
                // tracing → the SDK variables on every pod, a collector with
                // its NetworkPolicy, and egress from each service to it.
                if obs.tracing.is_some() {
                    check_tracing(program, model, ep, objs);
                    carried.insert((program.to_string(), "tracing"));
                }
                // dashboards = grafana → an overview and one per scraped service.
                if obs.dashboards.is_some() && obs.metrics.is_some() {
                    let cm = |n: &str| objs.get(&("ConfigMap".to_string(), format!("dashboard-{n}")));
                    let overview = format!("{}-{}", model.project.name, ep.env.name);
                    assert!(cm(&overview).is_some(), "{program}/{}: `dashboards` made no overview", ep.env.name);
                    for d in &ep.env.deployments {
                        let s = model.service(d.service);
                        // One per scraped service; a workload without a port has none.
                        if s.metrics && s.port.is_some() {
                            let c = cm(&s.name).unwrap_or_else(|| panic!("{program}: no dashboard for {}", s.name));
                            assert_eq!(c["metadata"]["labels"]["grafana_dashboard"], "1");
                            // custom_metrics → a panel each on the service's
                            // dashboard and the business dashboard, querying
                            // the series by the labels the ServiceMonitor's
                            // scrape gives them (namespace, service).
                            let sel = format!("namespace=\"{ns}\",service=\"{}\"", s.name);
                            let business = format!("{}-{}-business", model.project.name, ep.env.name);
                            for m in &s.custom_metrics {
                                for (board, title) in [
                                    (s.name.clone(), m.description.clone()),
                                    (business.clone(), format!("{}: {}", s.name, m.description)),
                                ] {
                                    let d =
                                        dashboard_json(cm(&board).unwrap_or_else(|| panic!("{program}: no {board}")));
                                    let p = d["panels"]
                                        .as_array()
                                        .expect("panels")
                                        .iter()
                                        .find(|p| p["title"] == title.as_str());
                                    let p = p.unwrap_or_else(|| {
                                        panic!("{program}/{}: no panel `{title}` on {board}", ep.env.name)
                                    });
                                    let series = if m.kind == deployc::model::MetricKind::Histogram {
                                        format!("{}_bucket{{{sel}}}", m.name)
                                    } else {
                                        format!("{}{{{sel}}}", m.name)
                                    };
                                    for t in p["targets"].as_array().expect("targets") {
                                        let expr = t["expr"].as_str().expect("expr");
                                        assert!(expr.contains(&series), "{program}: {expr} does not read {series}");
                                    }
                                }
                                carried.insert((program.to_string(), "custom_metrics"));
                            }
                        } else {
                            assert!(
                                cm(&s.name).is_none(),
                                "{program}: a dashboard for {}, which nothing scrapes",
                                s.name
                            );
                        }
                    }
                    carried.insert((program.to_string(), "dashboards"));
                    // The project's custom metrics → a panel each on the
                    // business dashboard, per service of the namespace.
                    for m in &obs.custom_metrics {
                        let business = format!("{}-{}-business", model.project.name, ep.env.name);
                        let d = dashboard_json(cm(&business).unwrap_or_else(|| panic!("{program}: no {business}")));
                        let p = d["panels"]
                            .as_array()
                            .expect("panels")
                            .iter()
                            .find(|p| p["title"] == m.description.as_str());
                        let p = p.unwrap_or_else(|| panic!("{program}: no panel for {}", m.name));
                        assert!(p["targets"][0]["expr"]
                            .as_str()
                            .is_some_and(|e| e.contains(&m.name) && e.contains("by (service")));
                        carried.insert((program.to_string(), "custom_metrics"));
                    }
                }
                // alerts → one PrometheusRule holding every declared condition.
                let volumes = model.resources.iter().any(|r| ep.in_cluster(r.id));
                let declared = declared_alerts(model, volumes);
                if !declared.is_empty() {
                    let name = format!("{}-alerts", model.project.name);
                    let pr = objs
                        .get(&("PrometheusRule".into(), name.clone()))
                        .unwrap_or_else(|| panic!("{program}/{}: `alerts` made no PrometheusRule", ep.env.name));
                    assert!(
                        has_labels(pr, &selector),
                        "{program}: PrometheusRule lacks the ruleSelector's {selector:?}"
                    );
                    let rules = pr["spec"]["groups"][0]["rules"].as_array().expect("rules");
                    let names: BTreeSet<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
                    for (field, alerts) in &declared {
                        for a in alerts {
                            assert!(names.contains(a), "{program}/{}: `alerts.{field}` produced no {a}", ep.env.name);
                        }
                        carried.insert((program.to_string(), *field));
                    }
                    for r in rules {
                        // Alertmanager's OnNamespace matcher needs the label on every alert.
                        assert_eq!(r["labels"]["namespace"].as_str(), Some(ns.as_str()), "{program}: {r}");
                        assert!(r["labels"]["severity"].is_string());
                    }
                }
            }
            // The canary analysis reads the metrics the rules and dashboards
            // read, with the same `service` and `namespace` labels.
            for objs in per_env.values() {
                for ((kind, _), doc) in objs {
                    if kind != "AnalysisTemplate" {
                        continue;
                    }
                    for m in doc["spec"]["metrics"].as_array().expect("metrics") {
                        // The program's own queries (`custom`) read what the program says.
                        if !matches!(m["name"].as_str(), Some("success-rate" | "latency-p99")) {
                            continue;
                        }
                        let Some(q) = m["provider"]["prometheus"]["query"].as_str() else { continue };
                        assert!(
                            ["http_requests_total{", "http_request_duration_seconds_bucket{"]
                                .iter()
                                .any(|x| q.contains(x)),
                            "{program}: analysis reads other metrics: {q}"
                        );
                        assert!(q.contains("service=") && q.contains("namespace="), "{program}: {q}");
                        carried.insert((program.to_string(), "analysis"));
                    }
                }
            }
            // route_to → a receiver in the AlertmanagerConfig of the
            // environments it serves (PagerDuty: production only).
            let Some(a) = &obs.alerts else { return };
            for id in &a.route_to {
                let i = &model.integrations[id.index()];
                if !receives_alerts(&i.kind) {
                    continue;
                }
                let mut found = false;
                for ep in &plan.envs {
                    let name = format!("{}-alerts", model.project.name);
                    let Some(amc) = per_env[&ep.env.name].get(&("AlertmanagerConfig".into(), name)) else { continue };
                    assert!(has_labels(amc, &selector));
                    let recv = amc["spec"]["receivers"].as_array().expect("receivers");
                    let Some(r) = recv.iter().find(|r| r["name"] == i.name.as_str()) else { continue };
                    found = true;
                    let (secret, field) = match &i.kind {
                        IntegrationKind::PagerDuty { routing_key, .. } => {
                            assert!(ep.env.production, "{program}: PagerDuty pages from {}", ep.env.name);
                            (routing_key, &r["pagerdutyConfigs"][0]["routingKey"])
                        }
                        IntegrationKind::Slack { webhook, .. } => (webhook, &r["slackConfigs"][0]["apiURL"]),
                        IntegrationKind::Opsgenie { api_key, .. } => {
                            assert!(ep.env.production, "{program}: Opsgenie pages from {}", ep.env.name);
                            (api_key, &r["opsgenieConfigs"][0]["apiKey"])
                        }
                        _ => unreachable!(),
                    };
                    assert_eq!(field["name"].as_str(), Some(secret.as_str()));
                    let inv = inventory(ep);
                    let s = inv.iter().find(|s| &s.name == secret).unwrap_or_else(|| {
                        panic!("{program}/{}: receiver Secret {secret} is not in the inventory", ep.env.name)
                    });
                    assert!(s.keys.contains(field["key"].as_str().expect("key")));
                    // Every route names a receiver that exists.
                    let names: BTreeSet<&str> = recv.iter().filter_map(|r| r["name"].as_str()).collect();
                    assert!(names.contains(amc["spec"]["route"]["receiver"].as_str().expect("root receiver")));
                    for route in amc["spec"]["route"]["routes"].as_array().expect("routes") {
                        assert!(names.contains(route["receiver"].as_str().expect("receiver")));
                    }
                }
                assert!(found, "{program}: `route_to` {} reached no AlertmanagerConfig", i.name);
                carried.insert((program.to_string(), "route_to"));
            }
        });
    }
    // The examples between them declare each of these; a refactoring that
    // drops one everywhere must not pass silently.
    let kinds: BTreeSet<&str> = carried.iter().map(|(_, k)| *k).collect();
    for k in [
        "metrics",
        "sentry",
        "tracing",
        "crash_loop",
        "error_rate",
        "latency",
        "cert_expiry",
        "resource_exhaustion",
        "route_to",
        "custom_metrics",
    ] {
        assert!(kinds.contains(k), "no example exercised `{k}`");
    }
}

/// What `tracing` must produce in one environment.
fn check_tracing(program: &str, model: &Model, ep: &deployc::plan::EnvPlan, objs: &Objects) {
    use deployc::plan::tracing;
    let env = &ep.env.name;
    let name = tracing::collector_name(model);
    let get = |kind: &str| {
        objs.get(&(kind.to_string(), name.clone()))
            .unwrap_or_else(|| panic!("{program}/{env}: `tracing` made no {kind} {name}"))
    };
    let collector = get("OpenTelemetryCollector");
    assert_eq!(collector["spec"]["serviceAccount"].as_str(), Some(name.as_str()));
    get("ServiceAccount");
    assert_eq!(get("RoleBinding")["roleRef"]["name"].as_str(), Some(name.as_str()));
    let config = &collector["spec"]["config"];
    let pipeline = &config["service"]["pipelines"]["traces"];
    let processors: Vec<&str> =
        pipeline["processors"].as_array().expect("processors").iter().filter_map(|p| p.as_str()).collect();
    // service.version follows the running image: k8sattributes reads the
    // container's tag, the transform copies it.
    assert!(
        processors.contains(&"k8sattributes") && processors.contains(&"transform/version"),
        "{program}: {processors:?}"
    );
    let extracted = config["processors"]["k8sattributes"]["extract"]["metadata"].to_string();
    assert!(extracted.contains("container.image.tag"), "{program}: {extracted}");
    let statements = config["processors"]["transform/version"]["trace_statements"].to_string();
    assert!(statements.contains("service.version") && statements.contains("container.image.tag"), "{statements}");
    for e in pipeline["exporters"].as_array().expect("exporters") {
        assert!(config["exporters"].get(e.as_str().expect("name")).is_some(), "{program}: exporter {e} undefined");
    }
    // The collector's pods: OTLP in, and a policy that selects them.
    let np = get("NetworkPolicy");
    for (k, v) in tracing::collector_pod_labels(ep) {
        assert_eq!(np["spec"]["podSelector"]["matchLabels"][&k].as_str(), Some(v.as_str()));
    }
    let ratio = tracing::sampling_ratio(ep).expect("ratio");
    for d in &ep.env.deployments {
        let s = model.service(d.service);
        let workload = ["Deployment", "Rollout"]
            .iter()
            .find_map(|k| objs.get(&(k.to_string(), s.name.clone())))
            .unwrap_or_else(|| panic!("{program}: no workload for {}", s.name));
        let vars = workload["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env");
        let pos = |n: &str| vars.iter().position(|v| v["name"] == n);
        let uid = pos("K8S_POD_UID").unwrap_or_else(|| panic!("{program}/{env}: {} lacks K8S_POD_UID", s.name));
        assert_eq!(vars[uid]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.uid");
        let attrs = pos("OTEL_RESOURCE_ATTRIBUTES").expect("OTEL_RESOURCE_ATTRIBUTES");
        // Kubernetes expands $(K8S_POD_UID) only from an earlier entry.
        assert!(uid < attrs, "{program}: K8S_POD_UID must precede OTEL_RESOURCE_ATTRIBUTES");
        let a = vars[attrs]["value"].as_str().expect("value");
        assert!(
            a.contains(&format!("deployment.environment={env}")) && a.contains("k8s.pod.uid=$(K8S_POD_UID)"),
            "{a}"
        );
        // No literal version anywhere: CD rewrites image tags only.
        assert!(!a.contains("service.version"), "{program}: a literal service.version would drift: {a}");
        let cm = &objs[&("ConfigMap".to_string(), format!("{}-config", s.name))]["data"];
        assert_eq!(cm["OTEL_SERVICE_NAME"].as_str(), Some(s.name.as_str()));
        assert_eq!(cm["OTEL_EXPORTER_OTLP_ENDPOINT"].as_str(), Some(tracing::otlp_endpoint(ep).as_str()));
        assert_eq!(cm["OTEL_TRACES_SAMPLER_ARG"].as_str().and_then(|r| r.parse::<f64>().ok()), Some(ratio));
        assert!(cm.get("OTEL_RESOURCE_ATTRIBUTES").is_none());
        // The service may reach the collector on OTLP/HTTP.
        let pol = &objs[&("NetworkPolicy".to_string(), s.name.clone())];
        let reaches = pol["spec"]["egress"].as_array().expect("egress").iter().any(|r| {
            r["ports"][0]["port"] == tracing::OTLP_HTTP_PORT
                && tracing::collector_pod_labels(ep)
                    .iter()
                    .all(|(k, v)| r["to"][0]["podSelector"]["matchLabels"][k].as_str() == Some(v.as_str()))
        });
        assert!(reaches, "{program}/{env}: {} has no egress to the collector", s.name);
    }
}

/// `logs = datadog`: unified service tagging. DD_VERSION comes from the
/// pod's version label (downward API), that label starts equal to the
/// image tag, and the kustomization copies CD's tag into it.
#[test]
fn datadog_version_follows_the_image_tag() {
    use deployc::plan::observability::{DD_ENV_LABEL, DD_SERVICE_LABEL, DD_VERSION_LABEL};
    let mut checked = 0;
    for program in PROGRAMS {
        let c = common::compile_file(program);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
        if !deployc::plan::observability::datadog(&model) {
            continue;
        }
        let opts = Default::default();
        let plan = Plan::new(&model, &graph, &opts);
        let files = emit::emit(&plan, &[Target::K8s]);
        for ep in &plan.envs {
            let doc = |path: String| -> Value {
                let a = files.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{program}: no {path}"));
                serde_yaml_ng::from_str(&a.contents).expect("yaml")
            };
            let kustomization = doc(format!("k8s/{}/kustomization.yaml", ep.env.name));
            for d in &ep.env.deployments {
                let s = model.service(d.service);
                // The service's own strategy decides (a worker in a progressive
                // environment rolls out as a Deployment), and the replacement
                // must select that workload, or kustomize refuses the build.
                let kind = match d.strategy.kind {
                    deployc::model::StrategyKind::Rolling { .. } => "Deployment",
                    _ => "Rollout",
                };
                let w = doc(format!("k8s/{}/{}-{}.yaml", ep.env.name, kind.to_lowercase(), s.name));
                let labels = &w["spec"]["template"]["metadata"]["labels"];
                assert_eq!(labels[DD_ENV_LABEL].as_str(), Some(ep.env.name.as_str()), "{program}");
                assert_eq!(labels[DD_SERVICE_LABEL].as_str(), Some(s.name.as_str()), "{program}");
                let container = &w["spec"]["template"]["spec"]["containers"][0];
                let image = container["image"].as_str().expect("image");
                let tag = image.rsplit_once(':').map(|(_, t)| t).expect("tagged image");
                assert_eq!(labels[DD_VERSION_LABEL].as_str(), Some(tag), "{program}: version label is the tag");
                let vars = container["env"].as_array().expect("env");
                for (var, label) in
                    [("DD_ENV", DD_ENV_LABEL), ("DD_SERVICE", DD_SERVICE_LABEL), ("DD_VERSION", DD_VERSION_LABEL)]
                {
                    let v = vars.iter().find(|v| v["name"] == var).unwrap_or_else(|| panic!("{program}: no {var}"));
                    assert_eq!(
                        v["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
                        Some(format!("metadata.labels['{label}']").as_str()),
                        "{program}: {var} must come from the label"
                    );
                }
                // CD rewrites `images:` only; the replacement carries the tag to the label.
                let reps = kustomization["replacements"].as_array().expect("replacements");
                let rep = reps
                    .iter()
                    .find(|r| r["source"]["name"] == s.name.as_str())
                    .unwrap_or_else(|| panic!("{program}/{}: no version replacement for {}", ep.env.name, s.name));
                assert_eq!(
                    rep["source"]["fieldPath"].as_str(),
                    Some(format!("spec.template.spec.containers.[name={}].image", s.name).as_str())
                );
                assert_eq!(rep["source"]["kind"], kind, "{program}/{}: {}", ep.env.name, s.name);
                assert_eq!(rep["source"]["options"]["delimiter"], ":");
                assert_eq!(rep["source"]["options"]["index"], 1);
                let targets = rep["targets"].to_string();
                assert!(targets.contains("tags\\\\.datadoghq\\\\.com/version"), "{targets}");
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no program declares logs = datadog");
}

/// Sampling differs per environment: production keeps fewer traces than
/// the others by default, and both shares are settable.
#[test]
fn trace_sampling_is_per_environment_and_settable() {
    let ratios = |text: &str| -> BTreeMap<(String, bool), f64> {
        let c = deployc::compile("p.dpl", text, &common::Disk);
        let errors = common::render_all(&c);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errors}"));
        let opts = Default::default();
        let plan = Plan::new(&model, &graph, &opts);
        plan.envs
            .iter()
            .map(|ep| {
                ((ep.env.name.clone(), ep.env.production), deployc::plan::tracing::sampling_ratio(ep).expect("ratio"))
            })
            .collect()
    };
    let path = "examples/platform-microservices.dpl";
    let text = std::fs::read_to_string(path).expect("example");
    let default = ratios(&text);
    assert!(default.keys().any(|(_, p)| *p) && default.keys().any(|(_, p)| !*p), "{default:?}");
    for ((env, production), r) in &default {
        assert_eq!(*r, if *production { 0.1 } else { 1.0 }, "{env}");
    }
    let decl = "tracing    = jaeger { endpoint = \"http://jaeger-collector.observability.svc.cluster.local:14268/api/traces\" }";
    assert!(text.contains(decl));
    let set = ratios(&text.replace(
        decl,
        "tracing = otlp { endpoint = \"https://tempo.example.com:4318\" sampling = 50% production_sampling = 2% }",
    ));
    for ((env, production), r) in &set {
        assert_eq!(*r, if *production { 0.02 } else { 0.5 }, "{env}");
    }
}

/// Prometheus accepts every generated rule group: `promtool check rules`
/// parses each expression and each annotation template. Without promtool
/// the test fails under CI (`CI` set) and says so loudly elsewhere.
#[test]
fn promtool_accepts_every_rule_file() {
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    if std::process::Command::new(&promtool).arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool not found ({promtool}); .ci/run installs Debian's `prometheus` package, which ships it"
        );
        eprintln!("!!!!!!!! promtool not found: rule files NOT checked (CI fails here) !!!!!!!!");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut checked = 0;
    for program in PROGRAMS {
        objects(program, |_, _, per_env| {
            for (env, objs) in per_env {
                for ((kind, name), doc) in objs {
                    if kind != "PrometheusRule" {
                        continue;
                    }
                    let file = dir.path().join(format!("{}-{env}-{name}.yaml", program.replace('/', "_")));
                    let text = serde_yaml_ng::to_string(&doc["spec"]).expect("yaml");
                    std::fs::write(&file, text).expect("write rules");
                    let out = std::process::Command::new(&promtool)
                        .args(["check", "rules"])
                        .arg(&file)
                        .output()
                        .expect("run promtool");
                    assert!(
                        out.status.success(),
                        "promtool rejects {program} {env}/{name}:\n{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    checked += 1;
                }
            }
        });
    }
    assert!(checked >= 3, "only {checked} rule files checked");
}

/// Every dashboard is a Grafana dashboard Grafana can load and show: JSON
/// with the fields its dashboard model requires to import a file (`title`,
/// a `uid` of at most 40 characters, unique across the program,
/// `schemaVersion`, `panels`), each panel with a unique `id`, a `type`,
/// a `gridPos` and queries with distinct `refId`s; and every query is
/// PromQL that Prometheus parses (promtool, through recording rules).
#[test]
fn dashboards_are_grafana_json_with_valid_queries() {
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let have_promtool = std::process::Command::new(&promtool).arg("--version").output().is_ok();
    assert!(have_promtool || std::env::var_os("CI").is_none(), "promtool not found under CI");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut seen = 0;
    for program in PROGRAMS {
        let mut uids = BTreeSet::new();
        objects(program, |_, _, per_env| {
            for objs in per_env.values() {
                for ((kind, name), doc) in objs {
                    if kind != "ConfigMap" || doc["metadata"]["labels"]["grafana_dashboard"] != "1" {
                        continue;
                    }
                    let data = doc["data"].as_object().expect("data");
                    assert_eq!(data.len(), 1, "{name}: one dashboard per ConfigMap");
                    let (file, text) = data.iter().next().expect("file");
                    assert!(file.ends_with(".json"), "{file}");
                    let d: Value = serde_json::from_str(text.as_str().expect("string")).expect("dashboard JSON parses");
                    assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()), "{name}: title");
                    let uid = d["uid"].as_str().expect("uid");
                    assert!(!uid.is_empty() && uid.len() <= 40, "{name}: uid {uid}");
                    assert!(uids.insert(uid.to_string()), "{program}: uid {uid} twice");
                    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 36), "{name}: schemaVersion");
                    let panels = d["panels"].as_array().expect("panels");
                    assert!(!panels.is_empty());
                    let mut ids = BTreeSet::new();
                    let mut rules = Vec::new();
                    for p in panels {
                        assert!(ids.insert(p["id"].as_u64().expect("panel id")), "{name}: panel ids unique");
                        assert!(p["type"].is_string() && p["title"].is_string());
                        for k in ["h", "w", "x", "y"] {
                            assert!(p["gridPos"][k].is_u64(), "{name}: gridPos.{k}");
                        }
                        assert!(
                            p["gridPos"]["x"].as_u64().unwrap_or(99) + p["gridPos"]["w"].as_u64().unwrap_or(99) <= 24
                        );
                        let mut refs = BTreeSet::new();
                        for t in p["targets"].as_array().expect("targets") {
                            assert!(refs.insert(t["refId"].as_str().expect("refId").to_string()));
                            let expr = t["expr"].as_str().expect("expr");
                            assert!(!expr.contains('$'), "{name}: {expr} uses a variable promtool cannot check");
                            rules.push(expr.to_string());
                        }
                    }
                    seen += 1;
                    if have_promtool {
                        let groups = serde_json::json!({ "groups": [{ "name": name, "rules": rules.iter().enumerate()
                            .map(|(i, e)| serde_json::json!({ "record": format!("dashboard:query{i}"), "expr": e }))
                            .collect::<Vec<_>>() }] });
                        let file = dir.path().join(format!("{}-{name}.yaml", program.replace('/', "_")));
                        std::fs::write(&file, serde_json::to_string(&groups).expect("json")).expect("write");
                        let out = std::process::Command::new(&promtool)
                            .args(["check", "rules"])
                            .arg(&file)
                            .output()
                            .expect("promtool");
                        assert!(out.status.success(), "{program} {name}: {}", String::from_utf8_lossy(&out.stdout));
                    }
                }
            }
        });
    }
    assert!(seen >= 4, "only {seen} dashboards");
}

/// `logs = ...` → the objects that ship them, per cluster: Fluent Bit's
/// Application whose generated configuration reads every environment's
/// namespace and writes it to the declared sink (an index prefix, a Loki
/// label, a CloudWatch log group the cluster's Terraform creates with a
/// role limited to it), or the Datadog agent's Application with the
/// integration's site and the Secret its API key comes from, which the
/// store's Terraform creates and an ExternalSecret in the agent's namespace
/// produces. Fails when a declaration produces nothing.
#[test]
fn every_logs_declaration_ships_logs() {
    use deployc::plan::addon_secrets;
    use deployc::plan::logs::{self, LogSink};
    let mut carried = BTreeSet::new();
    for program in PROGRAMS {
        let c = common::compile_file(program);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
        let Some(declared) = model.observability.logs.as_ref() else { continue };
        let opts = Default::default();
        let plan = Plan::new(&model, &graph, &opts);
        let sink = logs::sink(&model).unwrap_or_else(|| panic!("{program}: logs = {} ships nothing", declared.kind));
        let files = emit::emit(&plan, &[Target::K8s, Target::Argocd, Target::Terraform]);
        let file = |path: &str| files.iter().find(|a| a.path == path).map(|a| a.contents.as_str());
        let apps: Vec<Value> = files
            .iter()
            .filter(|a| a.path.starts_with("argocd/addons/application-"))
            .map(|a| serde_yaml_ng::from_str(&a.contents).expect("yaml"))
            .collect();
        let chart = if matches!(sink, LogSink::Datadog { .. }) { "datadog" } else { "fluent-bit" };
        for cl in &plan.topology.clusters {
            let nss: Vec<String> = cl.envs.iter().map(|e| plan.envs[e.index()].ns().to_string()).collect();
            let app = apps
                .iter()
                .find(|a| {
                    a["spec"]["source"]["chart"] == chart
                        && nss.iter().all(|ns| {
                            a["spec"]["source"]["helm"]["values"].as_str().unwrap_or("").contains(ns.as_str())
                        })
                })
                .unwrap_or_else(|| panic!("{program}: no {chart} Application covers cluster {}", cl.key));
            assert!(app["spec"]["source"]["targetRevision"].as_str().is_some_and(|v| !v.is_empty()));
            let values: Value =
                serde_yaml_ng::from_str(app["spec"]["source"]["helm"]["values"].as_str().expect("values"))
                    .expect("values are YAML");
            match &sink {
                LogSink::Datadog { site, api_key } => {
                    assert_eq!(values["datadog"]["site"].as_str(), Some(site.as_str()));
                    assert_eq!(values["datadog"]["logs"]["enabled"], true);
                    let params = app["spec"]["source"]["helm"]["parameters"].as_array().expect("parameters");
                    assert!(params
                        .iter()
                        .any(|p| p["name"] == "datadog.apiKeyExistingSecret" && p["value"] == api_key.as_str()));
                    // The Secret: an ExternalSecret in the agent's namespace,
                    // listed by `deployc secrets`, readable by the identity it uses.
                    let secrets = addon_secrets::addon_secrets(&plan);
                    let s = secrets.iter().find(|s| s.cluster == cl.key).expect("add-on secret listed");
                    assert_eq!(&s.secret.name, api_key);
                    let dir = addon_secrets::addons_dir(&plan, cl);
                    let es: Value = serde_yaml_ng::from_str(
                        file(&format!("{dir}/externalsecret-{api_key}.yaml")).expect("ExternalSecret of the API key"),
                    )
                    .expect("yaml");
                    assert_eq!(es["metadata"]["namespace"], logs::DATADOG_NAMESPACE);
                    let store: Value = serde_yaml_ng::from_str(
                        file(&format!("{dir}/clustersecretstore-{}.yaml", addon_secrets::addon_store_name(&model)))
                            .expect("store"),
                    )
                    .expect("yaml");
                    assert_eq!(store["spec"]["conditions"][0]["namespaces"][0], logs::DATADOG_NAMESPACE);
                    let e = model.env(s.env);
                    let env = &e.name;
                    // An environment on another cloud than the project's has
                    // its roots under terraform/<cloud>/, and its store entry
                    // is that cloud's (Secret Manager: `<project>-<env>-<name>`).
                    let (dir, entry) = if model.cloud_of(e).kind() == model.project.cloud.kind() {
                        (format!("terraform/{env}"), format!("/{api_key}\""))
                    } else {
                        (
                            format!("terraform/{}/{env}", model.cloud_of(e).kind()),
                            format!("\"{}-{env}-{api_key}\"", model.project.name),
                        )
                    };
                    let tf = file(&format!("{dir}/secrets.tf.json")).expect("secrets.tf.json");
                    assert!(tf.contains(&entry), "{program}: Terraform creates no {api_key} entry in {dir}");
                    carried.insert("datadog");
                }
                _ => {
                    let cfg = &values["config"];
                    let (inputs, outputs) =
                        (cfg["inputs"].as_str().expect("inputs"), cfg["outputs"].as_str().expect("outputs"));
                    assert!(cfg["filters"].as_str().expect("filters").contains("Name kubernetes"));
                    assert!(cfg["filters"].as_str().expect("filters").contains("Name multiline"));
                    assert!(cfg["customParsers"].as_str().expect("parsers").contains("Format json"));
                    for e in &cl.envs {
                        let ns = plan.envs[e.index()].ns();
                        assert!(
                            inputs.contains(&format!("/var/log/containers/*_{ns}_*.log")),
                            "{program}: {ns} not read"
                        );
                        let out = outputs
                            .split("[OUTPUT]")
                            .find(|o| o.contains(&format!("Match kube.*_{ns}_*")))
                            .unwrap_or_else(|| panic!("{program}: no output for {ns}"));
                        match &sink {
                            LogSink::Elasticsearch(ep) => {
                                assert!(out.contains("Name es") && out.contains(&format!("Host {}", ep.host)));
                                assert!(out.contains(&format!("Port {}", ep.port)));
                                assert_eq!(out.contains("tls On"), ep.tls);
                                carried.insert("elk");
                            }
                            LogSink::Loki(ep) => {
                                assert!(out.contains("Name loki") && out.contains(&format!("Host {}", ep.host)));
                                assert!(out.contains(&format!("environment={}", model.env(*e).name)));
                                carried.insert("loki");
                            }
                            LogSink::CloudWatch { .. } => {
                                let group = logs::log_group(&model, model.env(*e)).expect("group");
                                assert!(out.contains(&format!("log_group_name {group}")));
                                let tf =
                                    file(&format!("terraform/clusters/{}/logs.tf.json", cl.key)).expect("logs.tf.json");
                                assert!(
                                    tf.contains(&format!("\"name\": \"{group}\"")),
                                    "{program}: no log group {group}"
                                );
                                assert!(tf.contains("\"kms_key_id\""));
                                let irsa = file(&format!("terraform/clusters/{}/irsa.tf.json", cl.key)).expect("irsa");
                                assert!(irsa.contains("system:serviceaccount:logging:fluent-bit"));
                                assert!(irsa.contains("logs:PutLogEvents"));
                                let role = logs::fluent_bit_role_name(cl);
                                assert_eq!(
                                    values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
                                        .as_str()
                                        .map(|a| a.ends_with(&format!(":role/{role}"))),
                                    Some(true)
                                );
                                carried.insert("cloudwatch");
                            }
                            LogSink::Datadog { .. } => unreachable!(),
                        }
                        // user + password → basic auth on the output, the
                        // password from the variable the Secret sets.
                        if let Some((user, _)) = logs::credentials(&model) {
                            let (u, p) = if matches!(sink, LogSink::Loki(_)) {
                                ("http_user", "http_passwd")
                            } else {
                                ("HTTP_User", "HTTP_Passwd")
                            };
                            assert!(out.contains(&format!("{u} {user}\n")), "{program}: no {u} in {out}");
                            assert!(out.contains(&format!("{p} ${{{}}}\n", logs::PASSWORD_VAR)), "{program}: {p}");
                        }
                    }
                    // The password's Secret: read into the variable, produced
                    // in Fluent Bit's namespace by an ExternalSecret through
                    // the add-ons' store (which admits that namespace), its
                    // store entry created by the log environment's Terraform.
                    if let Some((_, secret)) = logs::credentials(&model) {
                        // Chart parameters (`--set`), which Helm merges over the values.
                        let params = app["spec"]["source"]["helm"]["parameters"].as_array().expect("parameters");
                        let param = |n: &str| params.iter().find(|p| p["name"] == n).map(|p| p["value"].clone());
                        assert!(values.get("env").is_none(), "{program}: the env is set by parameters only");
                        assert_eq!(param("env[0].name"), Some(logs::PASSWORD_VAR.into()));
                        assert_eq!(param("env[0].valueFrom.secretKeyRef.name"), Some(secret.as_str().into()));
                        assert_eq!(param("env[0].valueFrom.secretKeyRef.key"), Some(logs::PASSWORD_KEY.into()));
                        let secrets = addon_secrets::addon_secrets(&plan);
                        let s = secrets.iter().find(|s| s.cluster == cl.key).expect("the password's Secret is listed");
                        assert_eq!((&s.secret.name, s.namespace.as_str()), (&secret, logs::FLUENT_BIT_NAMESPACE));
                        assert!(s.secret.keys.contains(logs::PASSWORD_KEY));
                        let dir = addon_secrets::addons_dir(&plan, cl);
                        let es: Value = serde_yaml_ng::from_str(
                            file(&format!("{dir}/externalsecret-{secret}.yaml"))
                                .expect("ExternalSecret of the password"),
                        )
                        .expect("yaml");
                        assert_eq!(es["metadata"]["namespace"], logs::FLUENT_BIT_NAMESPACE);
                        assert_eq!(es["spec"]["target"]["name"], secret.as_str());
                        let store: Value = serde_yaml_ng::from_str(
                            file(&format!("{dir}/clustersecretstore-{}.yaml", addon_secrets::addon_store_name(&model)))
                                .expect("store"),
                        )
                        .expect("yaml");
                        assert_eq!(store["spec"]["conditions"][0]["namespaces"][0], logs::FLUENT_BIT_NAMESPACE);
                        let tf =
                            file(&format!("terraform/{}/secrets.tf.json", model.env(s.env).name)).expect("secrets");
                        assert!(tf.contains(&format!("/{secret}\"")), "{program}: Terraform creates no {secret} entry");
                        carried.insert("log credentials");
                    }
                }
            }
        }
    }
    for k in ["elk", "loki", "cloudwatch", "datadog", "log credentials"] {
        assert!(carried.contains(k), "no program exercised `logs = {k}`");
    }
}

/// Managed resources → CloudWatch alarms (the alarm table's rows for their
/// engine) notifying the environment's KMS-encrypted SNS topic, which the
/// paging integrations of `route_to` subscribe to in production.
#[test]
fn managed_resources_have_cloudwatch_alarms_routed_to_the_integrations() {
    use deployc::plan::alarms::{paging, rows, threshold, watched};
    let mut checked = 0;
    let mut set = 0;
    for program in PROGRAMS {
        let c = common::compile_file(program);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
        if !matches!(model.project.cloud, deployc::model::Cloud::Aws { .. }) {
            continue;
        }
        let opts = Default::default();
        let plan = Plan::new(&model, &graph, &opts);
        let files = emit::emit(&plan, &[Target::Terraform]);
        // CloudWatch watches what AWS runs: environments on GKE or AKS have
        // no alarm table yet.
        for env in model.environments.iter().filter(|e| matches!(model.cloud_of(e), deployc::model::Cloud::Aws { .. }))
        {
            let want: Vec<_> = model
                .resources
                .iter()
                .filter(|r| env.resources[r.id.index()].placement == deployc::model::Placement::Managed)
                .flat_map(|r| watched(r, env.resources[r.id.index()].read_replicas).into_iter().map(move |w| (r, w)))
                .collect();
            let path = format!("terraform/{}/alarms.tf.json", env.name);
            let Some(a) = files.iter().find(|a| a.path == path) else {
                assert!(want.is_empty(), "{program}/{}: managed resources without alarms", env.name);
                continue;
            };
            let doc: Value = serde_json::from_str(&a.contents).expect("json");
            let alarms = doc["resource"]["aws_cloudwatch_metric_alarm"].as_object().expect("alarms");
            assert!(doc["resource"]["aws_sns_topic"]["alarms"]["kms_master_key_id"].is_string());
            for (r, w) in &want {
                let u = &env.resources[r.id.index()];
                for row in rows(*w) {
                    // The threshold is the program's where `alarms` (the
                    // resource's, with the environment's over it) sets the
                    // row's field, else the table's.
                    let (limit, _) = threshold(row, &u.alarms);
                    let program_set = row.field.and_then(|(f, _)| u.alarms.get(f));
                    set += program_set.is_some() as usize;
                    let hit = alarms.values().any(|x| {
                        x["metric_name"] == row.metric
                            && x["alarm_name"].as_str().is_some_and(|n| n.contains(&format!("-{}-{}", r.name, row.key)))
                            && x["alarm_actions"][0] == "${aws_sns_topic.alarms.arn}"
                            && x["threshold"].as_f64() == Some(limit)
                            && (program_set.is_some() || x["threshold"].as_f64() == Some(row.threshold))
                    });
                    assert!(hit, "{program}/{}: no {} alarm for {} at {limit}", env.name, row.metric, r.name);
                    checked += 1;
                }
            }
            let subs = doc["resource"]["aws_sns_topic_subscription"].as_object().map(|m| m.len()).unwrap_or(0);
            assert_eq!(subs, paging(&model, env.production).len(), "{program}/{}: paging subscriptions", env.name);
        }
    }
    assert!(checked > 0, "no program runs a managed resource");
    assert!(set > 0, "no program sets an alarm threshold");
}

/// `alarms { ... }` reaches the alarms in CloudWatch's units: tests/programs/infra.dpl
/// sets thresholds on the resources and overrides one per environment.
#[test]
fn alarm_thresholds_are_the_programs_in_the_metrics_units() {
    let c = common::compile_file("tests/programs/infra.dpl");
    let (model, graph) = c.output.expect("compiles");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let files = emit::emit(&plan, &[Target::Terraform]);
    let doc: Value = serde_json::from_str(
        &files.iter().find(|a| a.path == "terraform/prod/alarms.tf.json").expect("prod alarms").contents,
    )
    .expect("json");
    let alarms = &doc["resource"]["aws_cloudwatch_metric_alarm"];
    let gib = 1024.0 * 1024.0 * 1024.0;
    for (id, want) in [
        ("db_free_storage", 2.0 * gib),         // the resource's 2Gi, in bytes
        ("db_replica_replica_lag", 30.0),       // 30s: RDS ReplicaLag is in seconds
        ("db_cpu", 70.0),                       // prod's override
        ("db_memory", 256.0 * 1024.0 * 1024.0), // the table's
        ("docs_replica_lag", 500.0),            // prod's 500ms: DocumentDB's lag is in ms
        ("cache_memory", 75.0),                 // on every node
        ("jobs_age", 3600.0),                   // 1h in seconds
        ("jobs_depth", 5000.0),
        ("jobs_dlq_dead_letters", 0.0),
    ] {
        assert_eq!(alarms[id]["threshold"].as_f64(), Some(want), "{id}");
    }
    assert_eq!(alarms["db_cpu"]["alarm_description"], "postgres db: CPUUtilization (Average) above 70% for 15 minutes");
}

/// ElastiCache alarms watch every node of a replication group, not only its
/// first: per metric of the alarm table, one alarm instance per node the
/// emitted group creates (`num_cache_clusters`, or `num_node_groups` ×
/// (1 + `replicas_per_node_group`) in cluster mode), each on the
/// `CacheClusterId` ElastiCache gives that member (`<group>-00N`, or
/// `<group>-000S-00N` per shard), with keys Terraform knows at plan time.
#[test]
fn elasticache_alarms_watch_every_node() {
    use deployc::plan::alarms::{rows, Watched};
    let (mut groups, mut most) = (0, 0);
    for program in PROGRAMS {
        let c = common::compile_file(program);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
        let opts = Default::default();
        let plan = Plan::new(&model, &graph, &opts);
        let files = emit::emit(&plan, &[Target::Terraform]);
        for env in model.environments.iter().filter(|e| matches!(model.cloud_of(e), deployc::model::Cloud::Aws { .. }))
        {
            let prefix = format!("terraform/{}/", env.name);
            let docs: Vec<Value> = files
                .iter()
                .filter(|a| a.path.starts_with(&prefix) && a.path.ends_with(".tf.json"))
                .map(|a| serde_json::from_str(&a.contents).expect("json"))
                .collect();
            for doc in &docs {
                let Some(rgs) = doc["resource"]["aws_elasticache_replication_group"].as_object() else { continue };
                for (id, g) in rgs {
                    let nodes: Vec<String> = match g["num_node_groups"].as_u64() {
                        Some(shards) => {
                            let per = 1 + g["replicas_per_node_group"].as_u64().expect("replicas per shard");
                            (1..=shards).flat_map(|s| (1..=per).map(move |n| format!("{s:04}-{n:03}"))).collect()
                        }
                        None => (1..=g["num_cache_clusters"].as_u64().expect("node count"))
                            .map(|n| format!("{n:03}"))
                            .collect(),
                    };
                    let alarms = docs
                        .iter()
                        .find_map(|d| d["resource"]["aws_cloudwatch_metric_alarm"].as_object())
                        .unwrap_or_else(|| panic!("{program}/{}: no alarms for {id}", env.name));
                    for row in rows(Watched::ElastiCache) {
                        let key = format!("{id}_{}", row.key.replace('-', "_"));
                        let a = &alarms.get(&key).unwrap_or_else(|| panic!("{program}/{}: no {key}", env.name));
                        assert_eq!(a["metric_name"], row.metric);
                        let each = a["for_each"].as_str().expect("for_each");
                        let list = each
                            .strip_prefix("${toset(")
                            .and_then(|x| x.strip_suffix(")}"))
                            .unwrap_or_else(|| panic!("{key}: for_each of literals, known at plan time: {each}"));
                        let keys: Vec<String> = serde_json::from_str(list).expect("literal list");
                        assert_eq!(keys, nodes, "{program}/{}: {key} watches one alarm per node", env.name);
                        assert_eq!(
                            a["dimensions"]["CacheClusterId"],
                            format!("${{aws_elasticache_replication_group.{id}.replication_group_id}}-${{each.key}}")
                        );
                        assert!(
                            a["alarm_name"].as_str().is_some_and(|n| n.ends_with("-${each.key}")),
                            "{key}: name per node"
                        );
                        assert!(a.get("count").is_none());
                    }
                    groups += 1;
                    most = most.max(nodes.len());
                }
            }
        }
    }
    assert!(groups > 0, "no program runs ElastiCache");
    assert!(most >= 4, "no cluster-mode group with several shards and replicas was checked");
}

/// `integration sentry`: SENTRY_RELEASE is the deployed image tag, read from
/// the pod's `app.kubernetes.io/version` label, which the kustomization
/// keeps equal to the tag CD sets in `images:` (checked by building the
/// kustomization with a new tag when kubectl is on the machine).
#[test]
fn sentry_release_follows_the_deployed_image_tag() {
    use serde::Deserialize;
    let program = "examples/cicd-pipeline.dpl";
    let c = common::compile_file(program);
    let (model, graph) = c.output.expect("compiles");
    assert!(deployc::plan::observability::sentry_dsn(&model).is_some(), "{program} declares sentry");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let files = emit::emit(&plan, &[Target::K8s]);
    let dir = tempfile::tempdir().expect("tempdir");
    for a in files.iter().filter(|a| a.path.starts_with("k8s/production/")) {
        let p = dir.path().join(&a.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &a.contents).unwrap();
    }
    let ks = dir.path().join("k8s/production/kustomization.yaml");
    let text = std::fs::read_to_string(&ks).unwrap();
    let rollout: Value = serde_yaml_ng::from_str(
        &files.iter().find(|a| a.path == "k8s/production/rollout-backend.yaml").expect("rollout").contents,
    )
    .unwrap();
    let pod = &rollout["spec"]["template"];
    let tag = pod["spec"]["containers"][0]["image"].as_str().unwrap().rsplit_once(':').unwrap().1.to_string();
    assert_eq!(pod["metadata"]["labels"]["app.kubernetes.io/version"].as_str(), Some(tag.as_str()));
    let release = pod["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "SENTRY_RELEASE")
        .expect("SENTRY_RELEASE")
        .clone();
    assert_eq!(release["valueFrom"]["fieldRef"]["fieldPath"], "metadata.labels['app.kubernetes.io/version']");
    if std::process::Command::new("kubectl").arg("version").arg("--client").output().is_err() {
        return;
    }
    // CD releases v9.9.9: only `newTag` changes; the label must follow.
    assert!(text.contains(&format!("newTag: {tag}")) || text.contains(&format!("newTag: \"{tag}\"")), "{text}");
    std::fs::write(&ks, text.replace(&tag, "v9.9.9")).unwrap();
    let out = std::process::Command::new("kubectl")
        .args(["kustomize", dir.path().join("k8s/production").to_str().unwrap()])
        .output()
        .expect("kubectl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let built = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<Value> =
        serde_yaml_ng::Deserializer::from_str(&built).map(|d| Value::deserialize(d).unwrap()).collect();
    let r = docs.iter().find(|d| d["kind"] == "Rollout" && d["metadata"]["name"] == "backend").expect("rollout");
    assert_eq!(r["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"], "v9.9.9");
    assert!(r["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().ends_with(":v9.9.9"));
}
