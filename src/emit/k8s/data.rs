//! Backing resources run in the cluster (StatefulSet, headless Service, backup
//! CronJob), secrets from an external store (SecretStore, ExternalSecret) and
//! monitoring (ServiceMonitor, PrometheusRule, AnalysisTemplate).

use super::crd::{self, ExternalSecret, PrometheusRule, Rule, RuleGroup, SecretStore, ServiceMonitor};
use super::workload::{self, checkov_skips, connection_secret, engine_port, resolve_attr, Source};
use super::EnvCx;
use crate::model::{Engine, EnvValue, Registry, Resource, SecretStore as Store, StrategyKind, TPart};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, EnvVarSource, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Probe, SecretKeySelector, Service, ServiceAccount,
    ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, BTreeSet};

/// Per engine: the uid to run as, where it keeps data, and the other paths
/// it writes. The official images support an arbitrary non-root uid when the
/// data volume is writable by the pod's fsGroup, so all run as a high uid
/// that cannot collide with a host user.
pub fn engine_runtime(e: &Engine) -> (u32, &'static str, &'static [&'static str]) {
    match e {
        Engine::Postgres => (10001, "/var/lib/postgresql/data", &["/var/run/postgresql", "/tmp"]),
        Engine::Redis => (10001, "/data", &["/tmp"]),
        _ => (10001, "/data/db", &["/tmp", "/data/configdb"]),
    }
}

fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: Some(false) }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), ..Default::default() }
}

pub fn engine_env(r: &Resource) -> Vec<EnvVar> {
    let secret = connection_secret(&r.name);
    match r.engine {
        Engine::Postgres => vec![
            plain_env("POSTGRES_USER", "app"),
            plain_env("POSTGRES_DB", &r.database),
            plain_env("PGDATA", "/var/lib/postgresql/data/pgdata"),
            secret_env("POSTGRES_PASSWORD", &secret, "password"),
        ],
        Engine::Redis => vec![secret_env("REDIS_PASSWORD", &secret, "password")],
        _ => vec![
            plain_env("MONGO_INITDB_ROOT_USERNAME", "admin"),
            plain_env("MONGO_INITDB_DATABASE", &r.database),
            secret_env("MONGO_INITDB_ROOT_PASSWORD", &secret, "password"),
        ],
    }
}

/// The arguments of an engine's container, if its image needs any.
pub fn engine_args(e: &Engine) -> Option<Vec<String>> {
    match e {
        Engine::Redis => Some(
            ["--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"].map(String::from).to_vec(),
        ),
        _ => None,
    }
}

/// CPU (millicores) and memory (bytes) of an engine's container.
pub fn engine_resources(e: &Engine) -> (crate::model::Quantity, crate::model::Quantity) {
    use crate::model::Quantity;
    match e {
        Engine::Redis => (Quantity { request: 100, limit: 500 }, Quantity { request: 256 << 20, limit: 512 << 20 }),
        _ => (Quantity { request: 250, limit: 1000 }, Quantity { request: 512 << 20, limit: 1 << 30 }),
    }
}

/// CPU (millicores) and memory (bytes) of a backup job's container.
pub const BACKUP_RESOURCES: (crate::model::Quantity, crate::model::Quantity) = (
    crate::model::Quantity { request: 100, limit: 500 },
    crate::model::Quantity { request: 128 << 20, limit: 512 << 20 },
);

fn pod_meta(cx: &EnvCx, name: &str, component: &str) -> ObjectMeta {
    ObjectMeta { labels: Some(cx.labels(name, component)), ..Default::default() }
}

/// Checks of Checkov that do not apply to the official database images.
pub const DATABASE_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_43", "official images are pinned by version tag; digests differ per architecture"),
    ("CKV_K8S_35", "the database image reads its credentials from environment variables"),
];

fn workload_meta(cx: &EnvCx, name: &str, component: &str) -> ObjectMeta {
    let mut m = cx.meta(name, name, component);
    m.annotations = Some(checkov_skips(DATABASE_SKIPS));
    m
}

/// StatefulSets, headless Services and backups for in-cluster resources.
pub fn resources(cx: &mut EnvCx) {
    let model = cx.model;
    for r in &model.resources {
        if !cx.in_cluster(r.id) || !r.engine.can_run_in_cluster() {
            continue;
        }
        let u = cx.resource_use(r.id);
        let name = r.name.as_str();
        let port = engine_port(&r.engine) as i32;
        let (uid, data_path, scratch) = engine_runtime(&r.engine);
        let scratch: Vec<String> = scratch.iter().map(|s| s.to_string()).collect();
        let (mut volumes, mut mounts) = workload::scratch_volumes(&scratch);
        mounts.push(VolumeMount { name: "data".into(), mount_path: data_path.into(), ..Default::default() });
        let args = engine_args(&r.engine);
        let (cpu, mem) = engine_resources(&r.engine);
        let tcp = || Probe {
            tcp_socket: Some(TCPSocketAction { port: IntOrString::Int(port), ..Default::default() }),
            initial_delay_seconds: Some(10),
            period_seconds: Some(10),
            ..Default::default()
        };
        let container = Container {
            name: r.engine.word().into(),
            image: Some(super::resource_image(&r.engine, &r.version)),
            image_pull_policy: Some("Always".into()),
            args,
            ports: Some(vec![ContainerPort { name: Some("tcp".into()), container_port: port, ..Default::default() }]),
            env: Some(engine_env(r)),
            resources: Some(workload::resources(cpu, mem)),
            liveness_probe: Some(tcp()),
            readiness_probe: Some(tcp()),
            security_context: Some(workload::container_security(uid, true, false)),
            volume_mounts: Some(mounts),
            ..Default::default()
        };
        let pvc = PersistentVolumeClaim {
            metadata: ObjectMeta { name: Some("data".into()), ..Default::default() },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), workload::quantity_mem(u.storage))])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let sts = StatefulSet {
            metadata: workload_meta(cx, name, "database"),
            spec: Some(StatefulSetSpec {
                service_name: Some(name.to_string()),
                replicas: Some(1),
                selector: super::label_selector(name),
                template: PodTemplateSpec {
                    metadata: Some(pod_meta(cx, name, "database")),
                    spec: Some(PodSpec {
                        automount_service_account_token: Some(false),
                        security_context: Some(workload::pod_security(uid)),
                        containers: vec![container],
                        volumes: Some(std::mem::take(&mut volumes)),
                        ..Default::default()
                    }),
                },
                volume_claim_templates: Some(vec![pvc]),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("StatefulSet", name, &sts);
        let svc = Service {
            metadata: cx.meta(name, name, "database"),
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".into()),
                selector: Some(super::selector(name)),
                ports: Some(vec![ServicePort {
                    name: Some("tcp".into()),
                    port,
                    target_port: Some(IntOrString::String("tcp".into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("Service", name, &svc);
        if let Some(b) = &r.backup {
            backup(cx, r, b, uid);
        }
    }
}

pub fn cron(schedule: &str) -> &'static str {
    match schedule {
        "hourly" => "0 * * * *",
        "every_6h" => "0 */6 * * *",
        "weekly" => "30 2 * * 0",
        _ => "30 2 * * *",
    }
}

/// The shell script of a backup job and the environment it needs.
pub fn backup_script(cx: &EnvCx, r: &Resource, b: &crate::model::Backup) -> (String, Vec<EnvVar>) {
    let host = format!("{}.{}.svc.cluster.local", r.name, cx.ns());
    // `$$(` keeps Kubernetes from expanding the shell's command substitution.
    let stamp = "$$(date +%Y%m%d-%H%M%S)";
    let (dump, ext, env) = match r.engine {
        Engine::Postgres => (
            format!("pg_dump -h {host} -U app -d {} | gzip > /backups/{}-{stamp}.sql.gz", r.database, r.name),
            "sql.gz",
            vec![secret_env("PGPASSWORD", &connection_secret(&r.name), "password")],
        ),
        Engine::Redis => (
            format!("redis-cli -h {host} -a \"$REDIS_PASSWORD\" --no-auth-warning --rdb /backups/{}-{stamp}.rdb", r.name),
            "rdb",
            vec![secret_env("REDIS_PASSWORD", &connection_secret(&r.name), "password")],
        ),
        _ => (
            format!(
                "mongodump --host {host} -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --gzip --archive=/backups/{}-{stamp}.archive.gz",
                r.name
            ),
            "archive.gz",
            vec![secret_env("MONGO_PASSWORD", &connection_secret(&r.name), "password")],
        ),
    };
    let script = format!("set -eu\n{dump}\nfind /backups -name '*.{ext}' -mtime +{} -delete\n", b.retain_days);
    (script, env)
}

fn backup(cx: &mut EnvCx, r: &Resource, b: &crate::model::Backup, uid: u32) {
    let name = format!("{}-backup", r.name);
    let (script, env) = backup_script(cx, r, b);
    let pvc_name = format!("{}-backups", r.name);
    let pvc = PersistentVolumeClaim {
        metadata: cx.meta(&pvc_name, &r.name, "backup"),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    workload::quantity_mem(cx.resource_use(r.id).storage * 2),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    cx.push("PersistentVolumeClaim", &pvc_name, &pvc);
    let (mut volumes, mut mounts) = workload::scratch_volumes(&["/tmp".to_string()]);
    volumes.push(Volume {
        name: "backups".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource { claim_name: pvc_name, read_only: None }),
        ..Default::default()
    });
    mounts.push(VolumeMount { name: "backups".into(), mount_path: "/backups".into(), ..Default::default() });
    let container = Container {
        name: "backup".into(),
        image: Some(super::resource_image(&r.engine, &r.version)),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), script]),
        env: Some(env),
        resources: Some(workload::resources(BACKUP_RESOURCES.0, BACKUP_RESOURCES.1)),
        security_context: Some(workload::container_security(uid, true, false)),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    let cj = CronJob {
        metadata: workload_meta(cx, &name, "backup"),
        spec: Some(CronJobSpec {
            schedule: cron(&b.schedule).into(),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template: PodTemplateSpec {
                        metadata: Some(pod_meta(cx, &name, "backup")),
                        spec: Some(PodSpec {
                            automount_service_account_token: Some(false),
                            security_context: Some(workload::pod_security(uid)),
                            restart_policy: Some("OnFailure".into()),
                            containers: vec![container],
                            volumes: Some(volumes),
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    cx.push("CronJob", &name, &cj);
}

/// The Kubernetes Secrets this environment's workloads read, sorted.
pub fn secret_names(cx: &EnvCx) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in &cx.env.deployments {
        for v in d.env.values() {
            let refs: Vec<&crate::model::AttrRef> = match v {
                EnvValue::Secret { name, .. } => {
                    out.insert(name.clone());
                    continue;
                }
                EnvValue::Ref(r) => vec![r],
                EnvValue::Literal(t) => t
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        TPart::Ref(r) => Some(r),
                        _ => None,
                    })
                    .collect(),
            };
            for r in refs {
                if let Source::Secret { name, .. } = resolve_attr(cx, r) {
                    out.insert(name);
                }
            }
        }
    }
    for r in &cx.model.resources {
        if cx.in_cluster(r.id) && r.engine.can_run_in_cluster() {
            out.insert(connection_secret(&r.name));
        }
    }
    out
}

/// The IAM role that Terraform creates for External Secrets (IRSA), when
/// secrets live in AWS Secrets Manager and the account is known.
pub fn external_secrets_role(cx: &EnvCx) -> Option<String> {
    let model = cx.model;
    match (&model.project.secret_store, &model.project.registry) {
        (Store::AwsSecretsManager { .. }, Registry::Ecr { account: Some(account), .. }) => {
            Some(format!("arn:aws:iam::{account}:role/{}-{}-external-secrets", model.project.name, cx.env.name))
        }
        _ => None,
    }
}

/// SecretStore and ExternalSecrets when secrets live in an external store.
/// With Sealed Secrets or plain Secrets, the team owns those objects and the
/// workloads only reference the Secret names.
pub fn secrets(cx: &mut EnvCx) {
    let model = cx.model;
    let store_name = format!("{}-secrets", model.project.name);
    let (provider, prefix) = match &model.project.secret_store {
        Store::AwsSecretsManager { region, prefix } => (
            crd::StoreProvider {
                aws: Some(crd::AwsProvider {
                    service: "SecretsManager".into(),
                    region: region.clone(),
                    auth: crd::AwsAuth {
                        jwt: crd::Jwt { service_account_ref: crd::NameRef { name: store_name.clone() } },
                    },
                }),
                vault: None,
            },
            prefix.clone(),
        ),
        Store::Vault { address, path, role } => (
            crd::StoreProvider {
                aws: None,
                vault: Some(crd::VaultProvider {
                    server: address.clone(),
                    path: path.clone(),
                    version: "v2".into(),
                    auth: crd::VaultAuth {
                        kubernetes: crd::VaultKubernetesAuth {
                            mount_path: "kubernetes".into(),
                            role: role.clone(),
                            service_account_ref: crd::NameRef { name: store_name.clone() },
                        },
                    },
                }),
            },
            model.project.name.clone(),
        ),
        _ => return,
    };
    let mut sa_meta = cx.meta(&store_name, &store_name, "secrets");
    if let Some(arn) = external_secrets_role(cx) {
        sa_meta.annotations = Some(BTreeMap::from([("eks.amazonaws.com/role-arn".to_string(), arn)]));
    }
    let sa = ServiceAccount { metadata: sa_meta, automount_service_account_token: Some(false), ..Default::default() };
    cx.push("ServiceAccount", &store_name, &sa);
    let store = SecretStore {
        api_version: "external-secrets.io/v1",
        kind: "SecretStore",
        metadata: cx.meta(&store_name, &store_name, "secrets"),
        spec: crd::SecretStoreSpec { provider },
    };
    cx.push("SecretStore", &store_name, &store);
    for name in secret_names(cx) {
        let es = ExternalSecret {
            api_version: "external-secrets.io/v1",
            kind: "ExternalSecret",
            metadata: cx.meta(&name, &store_name, "secrets"),
            spec: crd::ExternalSecretSpec {
                refresh_interval: "1h".into(),
                secret_store_ref: crd::StoreRef { name: store_name.clone(), kind: "SecretStore".into() },
                target: crd::SecretTarget { name: name.clone(), creation_policy: "Owner".into() },
                data_from: vec![crd::DataFrom {
                    extract: crd::Extract { key: format!("{prefix}/{}/{name}", cx.env.name) },
                }],
            },
        };
        cx.push("ExternalSecret", &name, &es);
    }
}

/// ServiceMonitors, alert rules and the canary analysis template.
pub fn monitoring(cx: &mut EnvCx) {
    let model = cx.model;
    let obs = &model.observability;
    if let Some(m) = &obs.metrics {
        for d in &cx.env.deployments {
            let s = model.service(d.service);
            if !s.metrics {
                continue;
            }
            let sm = ServiceMonitor {
                api_version: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: cx.meta(&s.name, &s.name, "service"),
                spec: crd::ServiceMonitorSpec {
                    selector: super::label_selector(&s.name),
                    endpoints: vec![crd::Endpoint {
                        port: "http".into(),
                        path: m.path.clone(),
                        interval: crd::duration(m.scrape_interval_ms),
                    }],
                },
            };
            cx.push("ServiceMonitor", &s.name, &sm);
        }
    }
    let rules = alert_rules(cx);
    if !rules.is_empty() {
        let name = format!("{}-alerts", model.project.name);
        let pr = PrometheusRule {
            api_version: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: cx.meta(&name, &name, "monitoring"),
            spec: crd::PrometheusRuleSpec {
                groups: vec![RuleGroup { name: format!("{}.rules", model.project.name), rules }],
            },
        };
        cx.push("PrometheusRule", &name, &pr);
    }
    if let Some((a, e, l)) = env_analysis(cx) {
        if !cx.env.deployments.is_empty() {
            let t = crd::analysis_template(cx, &a, e, l);
            let name = crd::analysis_template_name(cx);
            cx.push("AnalysisTemplate", &name, &t);
        }
    }
}

/// The alert rules of an environment (empty without `alerts`).
pub fn alert_rules(cx: &EnvCx) -> Vec<Rule> {
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
pub fn env_analysis(cx: &EnvCx) -> Option<(crate::model::Analysis, Option<f64>, Option<u64>)> {
    match &cx.env.strategy.kind {
        StrategyKind::Canary { steps, analysis, abort_error_rate, abort_latency_ms } => {
            // An inline `analysis` step without a declared analysis still needs a template.
            let inline = steps.iter().any(|s| matches!(s, crate::model::Step::Analysis));
            analysis
                .clone()
                .or_else(|| inline.then(default_analysis))
                .map(|a| (a, *abort_error_rate, *abort_latency_ms))
        }
        StrategyKind::BlueGreen { analysis, .. } => analysis.clone().map(|a| (a, None, None)),
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
    }
}
