//! Services as workloads: ServiceAccount, ConfigMap, Deployment or Rollout,
//! Services, Ingress, HPA, PodDisruptionBudget and the migration Job, all with
//! the secure pod defaults.

use super::crd::{self, Rollout};
use super::EnvCx;
use crate::check::lower::render_env;
use crate::model::{
    AttrRef, AttrTarget, Deployment as Dep, Engine, EnvValue, Exposure, Placement, Probe, Replicas, Service,
    StrategyKind, Surge, TPart, Template,
};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapEnvSource, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    EnvVarSource, ExecAction, GRPCAction, HTTPGetAction, Namespace, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe as KProbe, ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, Service as KService,
    ServiceAccount, ServicePort, ServiceSpec, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Default port of each engine.
pub fn engine_port(e: &Engine) -> u16 {
    match e {
        Engine::Postgres => 5432,
        Engine::Redis => 6379,
        Engine::MongoDb => 27017,
        _ => 443,
    }
}

/// The Secret holding a backing resource's connection details.
pub fn connection_secret(resource: &str) -> String {
    format!("{resource}-connection")
}

/// Name of a managed queue or bucket in the cloud.
pub fn cloud_name(cx: &EnvCx, resource: &str) -> String {
    format!("{}-{}-{}", cx.model.project.name, cx.env.name, resource)
}

/// Where an environment variable's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Plain(String),
    Secret { name: String, key: String },
}

/// Resolves one attribute reference in this environment.
pub fn resolve_attr(cx: &EnvCx, r: &AttrRef) -> Source {
    let m = cx.model;
    let ns = cx.ns();
    match &r.target {
        AttrTarget::Service(name) => {
            let Some(s) = m.service_by_name(name) else { return Source::Plain(String::new()) };
            let host = format!("{name}.{ns}.svc.cluster.local");
            Source::Plain(match r.attr.as_str() {
                "url" => format!("http://{host}:{}", s.service_port),
                "address" => format!("{host}:{}", s.service_port),
                "host" => host,
                _ => s.service_port.to_string(),
            })
        }
        AttrTarget::Resource(name) => {
            let Some(res) = m.resource_by_name(name) else { return Source::Plain(String::new()) };
            let placement = cx.resource_use(res.id).placement;
            let secret = |key: &str| Source::Secret { name: connection_secret(name), key: key.into() };
            match (&res.engine, r.attr.as_str(), placement) {
                (_, "url", _) => secret("url"),
                (Engine::Queue | Engine::Bucket, "arn", _) => secret("arn"),
                (Engine::Queue | Engine::Bucket, "name", _) => {
                    let n = cloud_name(cx, name);
                    Source::Plain(if res.fifo { format!("{n}.fifo") } else { n })
                }
                (_, "host", Placement::InCluster) => Source::Plain(format!("{name}.{ns}.svc.cluster.local")),
                (_, "host", Placement::Managed) => secret("host"),
                (_, "port", _) => Source::Plain(engine_port(&res.engine).to_string()),
                (_, "name", _) => Source::Plain(res.database.clone()),
                _ => secret(&r.attr),
            }
        }
        AttrTarget::Project | AttrTarget::Env => {
            Source::Plain(render(cx, &Template { parts: vec![TPart::Ref(r.clone())] }))
        }
    }
}

/// Renders a string template in this environment. References to secrets
/// become `$(VAR)` expansions that the caller must define first.
pub fn render(cx: &EnvCx, t: &Template) -> String {
    let env = cx.env;
    render_env(t, &cx.model.project, &env.name, &env.namespace, &env.domain)
}

/// The environment of a service's container: plain values for the ConfigMap,
/// and `env` entries (secrets, and strings that embed secrets).
pub fn container_env(cx: &EnvCx, d: &Dep) -> (BTreeMap<String, String>, Vec<EnvVar>) {
    let mut plain = BTreeMap::new();
    let mut env = Vec::new();
    let secret_var = |name: &str, secret: &str, key: &str| EnvVar {
        name: name.to_string(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: Some(false) }),
            ..Default::default()
        }),
        ..Default::default()
    };
    for (name, v) in &d.env {
        match v {
            EnvValue::Secret { name: s, key } => env.push(secret_var(name, s, key.as_deref().unwrap_or("value"))),
            EnvValue::Ref(r) => match resolve_attr(cx, r) {
                Source::Plain(p) => {
                    plain.insert(name.clone(), p);
                }
                Source::Secret { name: s, key } => env.push(secret_var(name, &s, &key)),
            },
            EnvValue::Literal(t) => {
                // Parts that resolve to secrets are injected through helper
                // variables and Kubernetes' $(VAR) expansion, never in clear.
                let mut text = String::new();
                let mut helpers = Vec::new();
                for p in &t.parts {
                    match p {
                        TPart::Lit(s) => text.push_str(&s.replace("$(", "$$(")),
                        TPart::Ref(r) => match resolve_attr(cx, r) {
                            Source::Plain(p) => text.push_str(&p),
                            Source::Secret { name: s, key } => {
                                let helper = format!("DEPLOYC_{}_{}", name, helpers.len());
                                text.push_str(&format!("$({helper})"));
                                helpers.push(secret_var(&helper, &s, &key));
                            }
                        },
                    }
                }
                if helpers.is_empty() {
                    plain.insert(name.clone(), text);
                } else {
                    env.extend(helpers);
                    env.push(EnvVar { name: name.clone(), value: Some(text), ..Default::default() });
                }
            }
        }
    }
    (plain, env)
}

fn quantity_cpu(m: u64) -> Quantity {
    Quantity(if m % 1000 == 0 { (m / 1000).to_string() } else { format!("{m}m") })
}

pub fn quantity_mem(b: u64) -> Quantity {
    const UNITS: [(u64, &str); 4] = [(1 << 40, "Ti"), (1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")];
    for (f, u) in UNITS {
        if b >= f && b % f == 0 {
            return Quantity(format!("{}{u}", b / f));
        }
    }
    Quantity(b.to_string())
}

pub fn resources(cpu: crate::model::Quantity, mem: crate::model::Quantity) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), quantity_cpu(cpu.request)),
            ("memory".to_string(), quantity_mem(mem.request)),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), quantity_cpu(cpu.limit)),
            ("memory".to_string(), quantity_mem(mem.limit)),
        ])),
        ..Default::default()
    }
}

fn probe(p: &Probe, initial_delay: i32) -> KProbe {
    let mut k = KProbe {
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(10),
        timeout_seconds: Some(3),
        failure_threshold: Some(3),
        ..Default::default()
    };
    match p {
        Probe::Http { path, port } => {
            k.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::Int(*port as i32),
                ..Default::default()
            })
        }
        Probe::Grpc { port } => k.grpc = Some(GRPCAction { port: *port as i32, service: None }),
        Probe::Tcp { port } => {
            k.tcp_socket = Some(TCPSocketAction { port: IntOrString::Int(*port as i32), ..Default::default() })
        }
        Probe::Exec { command } => k.exec = Some(ExecAction { command: Some(command.clone()) }),
    }
    k
}

/// The container security context every workload gets.
pub fn container_security(user: u32, read_only: bool, escalate: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(escalate),
        read_only_root_filesystem: Some(read_only),
        run_as_non_root: Some(true),
        run_as_user: Some(user as i64),
        run_as_group: Some(user as i64),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
        ..Default::default()
    }
}

/// The pod security context every workload gets.
pub fn pod_security(user: u32) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(user as i64),
        run_as_group: Some(user as i64),
        fs_group: Some(user as i64),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
        ..Default::default()
    }
}

/// `emptyDir` volumes for the paths a read-only container may write to.
pub fn scratch_volumes(paths: &[String]) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mut vols = Vec::new();
    let mut mounts = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let name = if i == 0 { "tmp".to_string() } else { format!("scratch-{i}") };
        vols.push(Volume {
            name: name.clone(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        mounts.push(VolumeMount { name, mount_path: p.clone(), ..Default::default() });
    }
    (vols, mounts)
}

/// The pod template of a service (also used by its migration Job).
fn pod_template(cx: &EnvCx, s: &Service, d: &Dep, pod_name: &str, command: Option<Vec<String>>) -> PodTemplateSpec {
    let (plain, env) = container_env(cx, d);
    let (volumes, mounts) = scratch_volumes(&s.security.writable_paths);
    let is_job = command.is_some();
    let default_probe = Probe::Tcp { port: s.port };
    let liveness = s.health.as_ref().unwrap_or(&default_probe);
    let readiness = s.readiness.as_ref().unwrap_or(liveness);
    let container = Container {
        name: s.name.clone(),
        image: Some(cx.image(&s.image)),
        image_pull_policy: Some("Always".into()),
        command,
        ports: (!is_job).then(|| {
            vec![ContainerPort { name: Some("http".into()), container_port: s.port as i32, ..Default::default() }]
        }),
        env_from: (!plain.is_empty()).then(|| {
            vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource { name: format!("{}-config", s.name), optional: Some(false) }),
                ..Default::default()
            }]
        }),
        env: (!env.is_empty()).then_some(env),
        resources: Some(resources(d.cpu, d.memory)),
        liveness_probe: (!is_job).then(|| probe(liveness, 10)),
        readiness_probe: (!is_job).then(|| probe(readiness, 5)),
        security_context: Some(container_security(
            s.security.run_as_user,
            s.security.read_only_root_filesystem,
            s.security.allow_privilege_escalation,
        )),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    let mut labels = cx.labels(pod_name, if is_job { "migration" } else { "service" });
    labels.insert("deployc.dev/service".into(), s.name.clone());
    PodTemplateSpec {
        metadata: Some(ObjectMeta { labels: Some(labels), ..Default::default() }),
        spec: Some(PodSpec {
            service_account_name: Some(s.name.clone()),
            automount_service_account_token: Some(false),
            security_context: Some(pod_security(s.security.run_as_user)),
            containers: vec![container],
            volumes: Some(volumes),
            restart_policy: is_job.then(|| "Never".into()),
            ..Default::default()
        }),
    }
}

/// Checks of Checkov that do not apply to a service workload, with the reason.
pub const SERVICE_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_43", "images are pinned by immutable release tags that CD sets through kustomize"),
    ("CKV_K8S_35", "the application reads 12-factor environment variables; values come from the secret store"),
];

/// Metadata of a workload object, carrying Checkov's skip annotations.
pub fn workload_meta(cx: &EnvCx, name: &str, owner: &str, component: &str, skips: &[(&str, &str)]) -> ObjectMeta {
    let mut m = cx.meta(name, owner, component);
    m.annotations = Some(checkov_skips(skips));
    m
}

/// Checkov's skip annotations, one per check, each with its reason.
pub fn checkov_skips(skips: &[(&str, &str)]) -> BTreeMap<String, String> {
    skips
        .iter()
        .enumerate()
        .map(|(i, (id, why))| (format!("checkov.io/skip{}", i + 1), format!("{id}={why}")))
        .collect()
}

pub fn namespace(cx: &mut EnvCx) {
    let mut labels = BTreeMap::from([
        ("app.kubernetes.io/part-of".to_string(), cx.model.project.name.clone()),
        ("app.kubernetes.io/managed-by".to_string(), "deployc".to_string()),
        ("deployc.dev/environment".to_string(), cx.env.name.clone()),
    ]);
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), "restricted".into());
    }
    let ns = Namespace {
        metadata: ObjectMeta { name: Some(cx.ns().to_string()), labels: Some(labels), ..Default::default() },
        ..Default::default()
    };
    let name = cx.ns().to_string();
    cx.push("Namespace", &name, &ns);
}

/// Everything one service needs in one environment.
pub fn service(cx: &mut EnvCx, d: &Dep) {
    let model = cx.model;
    let s = model.service(d.service);
    let name = s.name.as_str();

    let sa = ServiceAccount {
        metadata: cx.meta(name, name, "service"),
        automount_service_account_token: Some(false),
        ..Default::default()
    };
    cx.push("ServiceAccount", name, &sa);

    let (plain, _) = container_env(cx, d);
    if !plain.is_empty() {
        let cm = ConfigMap {
            metadata: cx.meta(&format!("{name}-config"), name, "service"),
            data: Some(plain),
            ..Default::default()
        };
        cx.push("ConfigMap", &format!("{name}-config"), &cm);
    }

    let template = pod_template(cx, s, d, name, None);
    let fixed = match d.replicas {
        Replicas::Fixed(n) => Some(n as i32),
        Replicas::Auto { .. } => None,
    };
    let strategy = &cx.env.strategy.kind;
    let workload_kind = match strategy {
        StrategyKind::Rolling { max_surge, max_unavailable } => {
            let surge = |s: &Surge| match s {
                Surge::Percent(p) => IntOrString::String(format!("{}%", *p as i64)),
                Surge::Count(n) => IntOrString::Int(*n as i32),
            };
            let dep = Deployment {
                metadata: workload_meta(cx, name, name, "service", SERVICE_SKIPS),
                spec: Some(DeploymentSpec {
                    replicas: fixed,
                    revision_history_limit: Some(5),
                    selector: super::label_selector(name),
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
                metadata: cx.meta(name, name, "service"),
                spec: crd::RolloutSpec {
                    replicas: fixed,
                    revision_history_limit: 5,
                    selector: super::label_selector(name),
                    template,
                    strategy: crd::rollout_strategy(cx, name, strategy),
                },
            };
            cx.push("Rollout", name, &rollout);
            ("argoproj.io/v1alpha1", "Rollout")
        }
    };

    // Services: the stable one, plus canary or preview for progressive delivery.
    let mut services = vec![name.to_string()];
    match strategy {
        StrategyKind::Canary { .. } => services.push(format!("{name}-canary")),
        StrategyKind::BlueGreen { .. } => services.push(format!("{name}-preview")),
        _ => {}
    }
    let lb = matches!(s.expose, Exposure::LoadBalancer);
    for (i, svc_name) in services.iter().enumerate() {
        let svc = KService {
            metadata: cx.meta(svc_name, name, "service"),
            spec: Some(ServiceSpec {
                type_: Some(if lb && i == 0 { "LoadBalancer" } else { "ClusterIP" }.into()),
                selector: Some(super::selector(name)),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: s.service_port as i32,
                    target_port: Some(IntOrString::String("http".into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("Service", svc_name, &svc);
    }

    if let Exposure::Ingress { host, path, tls, class } = &s.expose {
        let host = render(cx, host);
        let mut meta = cx.meta(name, name, "service");
        if *tls {
            meta.annotations =
                Some(BTreeMap::from([("cert-manager.io/cluster-issuer".to_string(), "letsencrypt".to_string())]));
        }
        let ing = Ingress {
            metadata: meta,
            spec: Some(IngressSpec {
                ingress_class_name: Some(class.clone()),
                tls: tls.then(|| {
                    vec![IngressTLS { hosts: Some(vec![host.clone()]), secret_name: Some(format!("{name}-tls")) }]
                }),
                rules: Some(vec![IngressRule {
                    host: Some(host.clone()),
                    http: Some(HTTPIngressRuleValue {
                        paths: vec![HTTPIngressPath {
                            path: Some(path.clone()),
                            path_type: "Prefix".into(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: name.to_string(),
                                    port: Some(ServiceBackendPort { number: Some(s.service_port as i32), name: None }),
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
        cx.push("Ingress", name, &ing);
    }

    if let Replicas::Auto { min, max } = d.replicas {
        let hpa = HorizontalPodAutoscaler {
            metadata: cx.meta(name, name, "service"),
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
                            average_utilization: Some(s.target_cpu as i32),
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
            metadata: cx.meta(name, name, "service"),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(super::label_selector(name)),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("PodDisruptionBudget", name, &pdb);
    }

    if let Some(m) = &s.migrations {
        if cx.env.before.iter().any(|b| b == "migrations") {
            let job_name = format!("{name}-migrate");
            let mut meta = workload_meta(cx, &job_name, &job_name, "migration", SERVICE_SKIPS);
            meta.annotations.get_or_insert_with(BTreeMap::new).extend(BTreeMap::from([
                ("argocd.argoproj.io/hook".to_string(), "PreSync".to_string()),
                ("argocd.argoproj.io/hook-delete-policy".to_string(), "BeforeHookCreation".to_string()),
            ]));
            let job = Job {
                metadata: meta,
                spec: Some(JobSpec {
                    backoff_limit: Some(1),
                    active_deadline_seconds: Some(900),
                    template: pod_template(cx, s, d, &job_name, Some(m.command.clone())),
                    ..Default::default()
                }),
                ..Default::default()
            };
            cx.push("Job", &job_name, &job);
        }
    }
}

/// Placement-independent name of the policy target for a resource's pods.
pub fn is_in_cluster(cx: &EnvCx, r: crate::model::ResourceId) -> bool {
    cx.resource_use(r).placement == Placement::InCluster
}
