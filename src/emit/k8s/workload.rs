//! Services as workloads: ServiceAccount, ConfigMap, Deployment or Rollout,
//! Services, Ingress, HPA, PodDisruptionBudget and the migration Job, all with
//! the secure pod defaults.

use super::EnvCx;
use crate::model::{
    Batch, Deployment as Dep, Placement, Replicas, Service, ServiceKind, StrategyKind, Surge, WorkloadKind,
};
use crate::plan::crd::{self, Rollout};
use crate::plan::env::{config_checksum, container_env, keep_on_delete, label_selector, sync_wave, ContainerEnv, Wave};
use crate::plan::pod::{
    checkov_skips, container_security, pod_security, probe, resources, scratch_volumes, ProbeKind, SERVICE_SKIPS,
};
use crate::plan::routes::{routes, BackendPort};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapEnvSource, Container, ContainerPort, EnvFromSource, Namespace, PodSpec, PodTemplateSpec,
    Service as KService, ServiceAccount, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The pod template of a service (also used by its migration Job).
fn pod_template(
    cx: &EnvCx,
    s: &Service,
    d: &Dep,
    (plain, env): &ContainerEnv,
    pod_name: &str,
    command: Option<Vec<String>>,
) -> PodTemplateSpec {
    let (mut volumes, mut mounts) = scratch_volumes(&s.security.writable_paths);
    // The migration Job's pod (its own command); a job's or cron job's pod
    // runs to completion too.
    let files = crate::plan::pod::config_files(s);
    if let Some(f) = &files {
        volumes.push(f.volume());
        mounts.extend(f.volume_mounts());
    }
    let is_job = command.is_some();
    let runs_once = is_job || !s.kind.long_running();
    // Probes only where the program declares them (W0010 otherwise).
    let liveness = s.health.as_ref();
    let readiness = s.readiness.as_ref().or(liveness);
    let container = Container {
        name: s.name.clone(),
        image: Some(cx.image(s).reference()),
        image_pull_policy: Some("Always".into()),
        // The migration Job runs its own command, without the service's arguments.
        command: command.or_else(|| (!s.command.is_empty()).then(|| s.command.clone())),
        args: (!is_job && !s.args.is_empty()).then(|| s.args.clone()),
        // Only a workload with a port: a worker, job or cron job has none.
        ports: s.port.filter(|_| !is_job).map(|_| {
            crate::plan::ports::ports(s)
                .into_iter()
                .map(|p| ContainerPort {
                    name: Some(p.name),
                    container_port: p.container_port as i32,
                    // TCP is the default; only another protocol is written.
                    protocol: (p.protocol != "TCP").then_some(p.protocol),
                    ..Default::default()
                })
                .collect()
        }),
        env_from: (!plain.is_empty()).then(|| {
            vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource { name: [&s.name, "-config"].concat(), optional: Some(false) }),
                ..Default::default()
            }]
        }),
        env: (!env.is_empty()).then(|| env.clone()),
        resources: Some(resources(d.cpu, d.memory)),
        liveness_probe: liveness.filter(|_| !is_job).map(|p| probe(p, &s.pod.timing, ProbeKind::Liveness)),
        readiness_probe: readiness.filter(|_| !is_job).map(|p| probe(p, &s.pod.timing, ProbeKind::Readiness)),
        startup_probe: s.pod.startup.as_ref().filter(|_| !is_job).map(|p| probe(p, &s.pod.timing, ProbeKind::Startup)),
        security_context: Some(container_security(
            s.security.run_as_user,
            s.security.read_only_root_filesystem,
            s.security.allow_privilege_escalation,
        )),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    let pod = crate::plan::registry::pod_details(cx, s, d.replicas.max());
    // The program's labels first: deployc's own (selector included) win.
    let mut labels = pod.labels.clone();
    labels.extend(cx.labels(pod_name, if is_job { "migration" } else { component(s) }));
    labels.insert("deployc.dev/service".into(), s.name.clone());
    labels.extend(crate::plan::observability::datadog_labels(cx, s));
    let mut annotations = pod.annotations.clone();
    if !plain.is_empty() {
        annotations.insert("checksum/config".to_string(), config_checksum(plain));
    }
    if let Some(f) = &files {
        annotations.insert("checksum/files".to_string(), f.checksum());
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(pod.service_account),
            node_selector: pod.node_selector,
            affinity: pod.affinity,
            tolerations: pod.tolerations,
            topology_spread_constraints: pod.topology_spread_constraints.filter(|_| !is_job),
            image_pull_secrets: pod.image_pull_secrets,
            automount_service_account_token: Some(false),
            security_context: Some(pod_security(s.security.run_as_user)),
            containers: vec![container],
            volumes: Some(volumes),
            restart_policy: runs_once.then(|| "Never".into()),
            ..Default::default()
        }),
    }
}

/// The `app.kubernetes.io/component` of a service's objects: its kind.
pub fn component(s: &Service) -> &'static str {
    s.kind.word()
}

/// Metadata of a workload object, carrying Checkov's skip annotations.
pub fn workload_meta(cx: &EnvCx, name: &str, owner: &str, component: &str, skips: &[(&str, &str)]) -> ObjectMeta {
    let mut m = cx.meta(name, owner, component);
    m.annotations = Some(checkov_skips(skips));
    m
}

/// A workload's metadata with the skips its own workload adds (a worker
/// without probes, a cpu request without a limit here).
fn worker_meta(mut m: ObjectMeta, s: &Service, d: &Dep) -> ObjectMeta {
    m.annotations.get_or_insert_with(Default::default).extend(crate::plan::pod::extra_skips(s, d.cpu));
    m
}

pub fn namespace(cx: &mut EnvCx) {
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(cx.ns().to_string()),
            labels: Some(cx.namespace_labels()),
            annotations: Some({
                let mut a = keep_on_delete();
                a.extend(cx.namespace_annotations());
                a
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let name = cx.ns().to_string();
    cx.push("Namespace", &name, &ns);
}

/// A workload's metadata, placed after the migrations when the environment
/// runs them, so new code never starts on an old schema.
fn waved(cx: &EnvCx, mut meta: ObjectMeta, service: &str) -> ObjectMeta {
    if cx.runs_migrations() {
        let (k, v) = sync_wave(Wave::Workloads);
        meta.annotations.get_or_insert_with(BTreeMap::new).insert(k, v);
    }
    if let Some((k, v)) = crate::plan::secrets::reload_annotation(cx, service) {
        meta.annotations.get_or_insert_with(BTreeMap::new).insert(k, v);
    }
    meta
}

/// Everything one service needs in one environment.
pub fn service(cx: &mut EnvCx, d: &Dep) {
    let model = cx.model;
    let s = model.service(d.service);
    let name = s.name.as_str();

    let comp = component(s);
    let account = crate::plan::pod::service_account(s).to_string();
    let mut sa_meta = cx.meta(&account, &account, comp);
    // IRSA: the IAM role Terraform creates for this ServiceAccount.
    if let Some(a) = crate::plan::irsa::account_annotations(cx, &account) {
        sa_meta.annotations.get_or_insert_with(BTreeMap::new).extend(a);
    }
    let sa = ServiceAccount { metadata: sa_meta, automount_service_account_token: Some(false), ..Default::default() };
    // Services sharing a ServiceAccount get it once.
    cx.push_once("ServiceAccount", &account, &sa);

    // Worked out once for the ConfigMap, the pod template and the migration Job.
    let vars = container_env(cx, d);
    if !vars.0.is_empty() {
        let config = [name, "-config"].concat();
        let cm = ConfigMap { metadata: cx.meta(&config, name, comp), data: Some(vars.0.clone()), ..Default::default() };
        cx.push("ConfigMap", &config, &cm);
    }

    if let Some(f) = crate::plan::pod::config_files(s) {
        let cm =
            ConfigMap { metadata: cx.meta(&f.config_map, name, "service"), data: Some(f.data), ..Default::default() };
        cx.push("ConfigMap", &f.config_map, &cm);
    }

    let template = pod_template(cx, s, d, &vars, name, None);
    match &s.kind {
        WorkloadKind::Job(batch) => {
            let mut job = release_job(cx, s, batch, template);
            job.metadata.annotations.get_or_insert_with(BTreeMap::new).extend(crate::plan::pod::extra_skips(s, d.cpu));
            cx.push("Job", name, &job);
            return migrations(cx, s, d, &vars);
        }
        WorkloadKind::Cron { schedule, concurrency, batch } => {
            let cron = CronJob {
                metadata: worker_meta(workload_meta(cx, name, name, comp, SERVICE_SKIPS), s, d),
                spec: Some(CronJobSpec {
                    schedule: schedule.clone(),
                    time_zone: Some("Etc/UTC".into()),
                    concurrency_policy: Some(concurrency.k8s().into()),
                    // A run missed by more than five minutes (controller down) is skipped, not caught up.
                    starting_deadline_seconds: Some(300),
                    successful_jobs_history_limit: Some(3),
                    failed_jobs_history_limit: Some(3),
                    job_template: JobTemplateSpec {
                        metadata: None,
                        spec: Some(JobSpec {
                            backoff_limit: Some(batch.retries as i32),
                            active_deadline_seconds: Some(batch.deadline_secs as i64),
                            template,
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            };
            cx.push("CronJob", name, &cron);
            return migrations(cx, s, d, &vars);
        }
        WorkloadKind::Service | WorkloadKind::Worker => {}
    }
    let fixed = match d.replicas {
        Replicas::Fixed(n) => Some(n as i32),
        Replicas::Auto { .. } => None,
    };
    let strategy = &d.strategy.kind;
    let workload_kind = match strategy {
        StrategyKind::Rolling { max_surge, max_unavailable } => {
            let surge = |s: &Surge| match s {
                Surge::Percent(p) => IntOrString::String(format!("{}%", *p as i64)),
                Surge::Count(n) => IntOrString::Int(*n as i32),
            };
            let dep = Deployment {
                metadata: waved(cx, worker_meta(workload_meta(cx, name, name, comp, SERVICE_SKIPS), s, d), name),
                spec: Some(DeploymentSpec {
                    replicas: fixed,
                    revision_history_limit: Some(5),
                    selector: label_selector(name),
                    strategy: Some(DeploymentStrategy {
                        type_: Some("RollingUpdate".into()),
                        rolling_update: Some(RollingUpdateDeployment {
                            max_surge: Some(surge(max_surge)),
                            max_unavailable: Some(surge(max_unavailable)),
                        }),
                    }),
                    template,
                    ..Default::default()
                }),
                ..Default::default()
            };
            cx.push("Deployment", name, &dep);
            ("apps/v1", "Deployment")
        }
        _ => {
            let rollout = Rollout {
                api_version: "argoproj.io/v1alpha1",
                kind: "Rollout",
                metadata: waved(cx, cx.meta(name, name, comp), name),
                spec: crd::RolloutSpec {
                    replicas: fixed,
                    revision_history_limit: 5,
                    selector: label_selector(name),
                    template,
                    strategy: crd::rollout_strategy(cx, s, strategy),
                },
            };
            cx.push("Rollout", name, &rollout);
            ("argoproj.io/v1alpha1", "Rollout")
        }
    };

    // Services: the main one, the canary or preview one of a progressive
    // strategy, and the extra ones; none for a workload without a port.
    for sp in crate::plan::ports::services(cx, s) {
        let svc = KService {
            metadata: cx.meta(&sp.name, name, comp),
            spec: Some(ServiceSpec {
                type_: Some(sp.type_().into()),
                cluster_ip: (sp.kind == ServiceKind::Headless).then(|| "None".into()),
                selector: Some(crate::plan::env::selector(name)),
                ports: Some(
                    sp.ports
                        .iter()
                        .map(|p| ServicePort {
                            name: Some(p.name.clone()),
                            port: p.service_port as i32,
                            target_port: Some(IntOrString::String(p.name.clone())),
                            protocol: Some(p.protocol.clone()),
                            app_protocol: p.app_protocol.clone(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("Service", &sp.name, &svc);
    }

    for r in routes(cx, s) {
        let ing = Ingress {
            metadata: ObjectMeta {
                annotations: (!r.annotations.is_empty()).then_some(r.annotations),
                ..cx.meta(&r.name, name, "service")
            },
            spec: Some(IngressSpec {
                ingress_class_name: Some(r.class),
                tls: r
                    .tls_secret
                    .map(|secret| vec![IngressTLS { hosts: Some(vec![r.host.clone()]), secret_name: Some(secret) }]),
                rules: Some(vec![IngressRule {
                    host: Some(r.host),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some(r.path),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: r.service,
                                    port: Some(match r.port {
                                        BackendPort::Number(n) => {
                                            ServiceBackendPort { number: Some(n as i32), name: None }
                                        }
                                        BackendPort::UseAnnotation => {
                                            ServiceBackendPort { number: None, name: Some("use-annotation".into()) }
                                        }
                                    }),
                                }),
                                resource: None,
                            },
                        }],
                    }),
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("Ingress", &r.name, &ing);
    }

    // KEDA's ScaledObject makes the HPA of a service scaled on a queue.
    let keda = crate::plan::keda::scales(cx.plan, d);
    if let (Replicas::Auto { min, max }, false) = (d.replicas, keda) {
        let hpa = HorizontalPodAutoscaler {
            metadata: cx.meta(name, name, comp),
            spec: Some(HorizontalPodAutoscalerSpec {
                min_replicas: Some(min as i32),
                max_replicas: max as i32,
                scale_target_ref: CrossVersionObjectReference {
                    api_version: Some(workload_kind.0.into()),
                    kind: workload_kind.1.into(),
                    name: name.to_string(),
                },
                metrics: Some(vec![MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: "cpu".into(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(d.target_cpu as i32),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("HorizontalPodAutoscaler", name, &hpa);
    }

    if d.replicas.max() > 1 {
        let pdb = PodDisruptionBudget {
            metadata: cx.meta(name, name, comp),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(label_selector(name)),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("PodDisruptionBudget", name, &pdb);
    }

    migrations(cx, s, d, &vars);
}

/// The migration Job of a service, where the environment runs migrations.
fn migrations(cx: &mut EnvCx, s: &Service, d: &Dep, vars: &ContainerEnv) {
    let name = s.name.as_str();
    if let Some(m) = &s.migrations {
        if cx.env.before.iter().any(|b| b == "migrations") {
            let job_name = format!("{name}-migrate");
            let mut meta = workload_meta(cx, &job_name, &job_name, "migration", SERVICE_SKIPS);
            meta.annotations.get_or_insert_with(BTreeMap::new).extend(BTreeMap::from([
                ("argocd.argoproj.io/hook".to_string(), "Sync".to_string()),
                ("argocd.argoproj.io/hook-delete-policy".to_string(), "BeforeHookCreation".to_string()),
                sync_wave(Wave::Migrate),
            ]));
            let job = Job {
                metadata: meta,
                spec: Some(JobSpec {
                    backoff_limit: Some(1),
                    active_deadline_seconds: Some(900),
                    template: pod_template(cx, s, d, vars, &job_name, Some(m.command.clone())),
                    ..Default::default()
                }),
                ..Default::default()
            };
            cx.push("Job", &job_name, &job);
        }
    }
}

/// A `kind = job` service: a Job run once per release, after the release
/// is live. ArgoCD runs it as a PostSync hook (only once every object of
/// the sync is healthy; recreated on each sync, since a Job's pod template
/// cannot change in place); Helm as a post-install/post-upgrade hook.
/// *Why after, not before:* what must happen before new code runs is a
/// migration (`migrations`, a Sync hook before the workloads); a release
/// job (reindex, cache warm-up, notify) acts on the live release.
pub fn release_job(cx: &EnvCx, s: &Service, batch: &Batch, template: PodTemplateSpec) -> Job {
    let name = s.name.as_str();
    let mut meta = workload_meta(cx, name, name, component(s), SERVICE_SKIPS);
    meta.annotations.get_or_insert_with(BTreeMap::new).extend(BTreeMap::from([
        ("argocd.argoproj.io/hook".to_string(), "PostSync".to_string()),
        ("argocd.argoproj.io/hook-delete-policy".to_string(), "BeforeHookCreation".to_string()),
    ]));
    Job {
        metadata: meta,
        spec: Some(JobSpec {
            backoff_limit: Some(batch.retries as i32),
            active_deadline_seconds: Some(batch.deadline_secs as i64),
            template,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Placement-independent name of the policy target for a resource's pods.
pub fn is_in_cluster(cx: &EnvCx, r: crate::model::ResourceId) -> bool {
    cx.resource_use(r).placement == Placement::InCluster
}
