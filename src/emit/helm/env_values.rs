//! One environment's values, derived from the model and the dependency graph
//! with the Kubernetes target's own rules (`k8s::EnvCx`, its name, image,
//! environment and secret helpers), so the chart renders the objects that
//! target writes.

use super::values::*;
use crate::graph::{Edge, Node};
use crate::model::{
    Placement, Probe, Quantity, Replicas, SecretStore as Store, Step, StrategyKind, Surge, WorkloadKind,
};
use crate::plan::analysis::{alert_rules, env_analysis};
use crate::plan::backup::{backup_script, cron};
use crate::plan::engines::{self, engine_env, engine_port, resource_image, BACKUP_RESOURCES};
use crate::plan::env::{container_env, service_image};
use crate::plan::pod::{self, checkov_skips, quantity_mem, DATABASE_SKIPS, SERVICE_SKIPS};
use crate::plan::pod::{probe_timing, ProbeKind};
use crate::plan::routes::{ingress_peers, routes, traffic_routing, BackendPort, Peer as RoutePeer};
use crate::plan::secrets::{external_secrets_role, inventory, Producer};
use crate::plan::{crd, network, observability, EnvPlan};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource};
use std::collections::BTreeMap;

/// The complete values of one environment.
pub fn for_env(cx: &EnvPlan) -> Values {
    let model = cx.model;
    Values {
        project: model.project.name.clone(),
        environment: cx.env.name.clone(),
        namespace: Namespace {
            name: cx.ns().to_string(),
            create: false,
            labels: crate::plan::mesh::namespace_labels(model.project.mesh),
            annotations: cx.namespace_annotations(),
        },
        strategy: strategy(&cx.env.strategy.kind, cx),
        analysis: analysis(cx),
        network: Network {
            monitoring_namespace: network::MONITORING_NAMESPACE.into(),
            private_cidr: network::PRIVATE_CIDR.into(),
            acme_solvers: crate::plan::certificates::solves_in(model, cx.env).then(|| AcmeSolvers {
                policy: crate::plan::certificates::SOLVER_POLICY.into(),
                label: crate::plan::certificates::SOLVER_LABEL.into(),
                port: crate::plan::certificates::SOLVER_PORT,
                ingress_namespace: network::INGRESS_NAMESPACE.into(),
            }),
        },
        annotations: Annotations { workloads: checkov_skips(SERVICE_SKIPS), datastores: checkov_skips(DATABASE_SKIPS) },
        storage_class: crate::plan::addons::storage_class(model.cloud_of(cx.env)).name.into(),
        workloads_after_migrations: cx.runs_migrations(),
        services: cx.env.deployments.iter().map(|d| (model.service(d.service).name.clone(), service(cx, d))).collect(),
        datastores: datastores(cx),
        kafka: kafka(cx),
        external_secrets: external_secrets(cx),
        monitoring: Monitoring {
            service_monitor: model.observability.metrics.as_ref().map(|m| ServiceMonitor {
                path: m.path.clone(),
                interval: crd::duration(m.scrape_interval_ms),
                labels: m.selector_labels.clone(),
            }),
            alerts: {
                let rules = alert_rules(cx);
                (!rules.is_empty()).then(|| Alerts {
                    name: format!("{}-alerts", model.project.name),
                    group: format!("{}.rules", model.project.name),
                    labels: observability::selector_labels(model),
                    rules,
                })
            },
            alertmanager: observability::alertmanager_spec(cx).map(|spec| Alertmanager {
                name: observability::alerts_name(model),
                labels: observability::selector_labels(model),
                spec,
            }),
            dashboards: crate::plan::dashboards::dashboards(cx)
                .into_iter()
                .map(|d| (d.config_map, BTreeMap::from([(d.file, d.json)])))
                .collect(),
        },
        objects: objects(cx),
    }
}

/// The objects the plan gives whole, as the Kubernetes target writes them.
fn objects(cx: &EnvPlan) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = cx
        .env
        .deployments
        .iter()
        .filter_map(|d| crate::plan::vpa::vpa(cx, d))
        .filter_map(|v| serde_json::to_value(v).ok())
        .collect();
    out.extend(crate::plan::policy::kyverno(cx).and_then(|p| serde_json::to_value(p).ok()));
    if let Some(store) = crate::plan::backup::off_cluster(cx) {
        out.extend(serde_json::to_value(crate::plan::backup::service_account(cx, &store)).ok());
        for r in crate::plan::backup::backed_up(cx) {
            if let Some(cj) = crate::plan::backup::drill(cx, &store, r) {
                out.extend(serde_json::to_value(cj).ok());
                out.extend(serde_json::to_value(crate::plan::backup::drill_policy(cx, &store, r)).ok());
            }
        }
    }
    out.extend(crate::plan::failover::objects(cx).into_iter().map(|(_, _, o)| o));
    out.extend(crate::plan::tracing::objects(cx).into_iter().map(|(_, _, o)| o));
    out.extend(crate::plan::sealed::objects(cx).into_iter().map(|(_, _, o)| o));
    out.extend(crate::plan::mesh::objects(cx).into_iter().map(|(_, _, o)| o));
    out.extend(crate::plan::keda::objects(cx).into_iter().map(|(_, _, o)| o));
    out.extend(crate::plan::registry::objects(cx).into_iter().map(|(_, _, o)| o));
    out
}

fn strategy(kind: &StrategyKind, cx: &EnvPlan) -> Strategy {
    match kind {
        StrategyKind::Rolling { max_surge, max_unavailable } => {
            let v = |s: &Surge| match s {
                Surge::Percent(p) => IntOrPercent::Percent(format!("{}%", *p as i64)),
                Surge::Count(n) => IntOrPercent::Int(*n),
            };
            Strategy::Rolling(Rolling { max_surge: v(max_surge), max_unavailable: v(max_unavailable) })
        }
        StrategyKind::Canary { steps, analysis, .. } => {
            let inline = steps.iter().any(|s| matches!(s, Step::Analysis));
            Strategy::Canary(Canary {
                steps: steps
                    .iter()
                    .map(|s| match s {
                        Step::Weight(w) => CanaryStep::SetWeight(w.round() as u32),
                        Step::Pause(d) => CanaryStep::Pause(Pause { duration: d.map(crd::duration) }),
                        Step::Analysis => CanaryStep::Analysis(Empty {}),
                    })
                    .collect(),
                background_analysis: analysis.is_some() && !inline,
            })
        }
        StrategyKind::BlueGreen { auto_promote, auto_promote_after_ms, analysis, .. } => {
            Strategy::BlueGreen(BlueGreen {
                auto_promotion_enabled: *auto_promote || auto_promote_after_ms.is_some(),
                auto_promotion_seconds: auto_promote_after_ms.map(|ms| ms / 1000),
                scale_down_delay_seconds: crd::scale_down_delay_seconds(cx) as u64,
                pre_promotion_analysis: analysis.is_some(),
                post_promotion_analysis: crd::post_promotion_analysis(cx).is_some(),
            })
        }
    }
}

fn analysis(cx: &EnvPlan) -> Option<AnalysisValues> {
    let (a, e, l) = env_analysis(cx)?;
    if cx.env.deployments.is_empty() {
        return None;
    }
    let t = crd::analysis_template(cx, &a, e, l);
    Some(AnalysisValues { metrics: t.spec.metrics })
}

fn resources(cpu: impl Into<crate::model::Cpu>, mem: Quantity) -> Resources {
    // The Kubernetes target's own formatting of quantities.
    let r = pod::resources(cpu, mem);
    let get = |m: &Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>, k: &str| {
        m.as_ref().and_then(|m| m.get(k)).map(|q| q.0.clone()).unwrap_or_default()
    };
    Resources {
        requests: CpuMemory { cpu: get(&r.requests, "cpu"), memory: get(&r.requests, "memory") },
        limits: Limits {
            cpu: r.limits.as_ref().and_then(|m| m.get("cpu")).map(|q| q.0.clone()),
            memory: get(&r.limits, "memory"),
        },
    }
}

fn env_entries(vars: Vec<EnvVar>) -> Vec<EnvEntry> {
    vars.into_iter()
        .map(|v| match v.value_from {
            Some(EnvVarSource { secret_key_ref: Some(r), .. }) => {
                EnvEntry::Secret { name: v.name, secret_key_ref: KeyRef { name: r.name, key: r.key } }
            }
            Some(EnvVarSource { field_ref: Some(f), .. }) => {
                EnvEntry::Field { name: v.name, field_ref: FieldRef { field_path: f.field_path } }
            }
            _ => EnvEntry::Value { name: v.name, value: v.value.unwrap_or_default() },
        })
        .collect()
}

fn probe(p: &Probe) -> ProbeHandler {
    match p {
        Probe::Http { path, port } => ProbeHandler::HttpGet(HttpGet { path: path.clone(), port: *port }),
        Probe::Grpc { port } => ProbeHandler::Grpc(Port { port: *port }),
        Probe::Tcp { port } => ProbeHandler::TcpSocket(Port { port: *port }),
        Probe::Exec { command } => ProbeHandler::Exec(Exec { command: command.clone() }),
    }
}

/// Whether the environment runs migrations before a sync.
fn runs_migrations(cx: &EnvPlan) -> bool {
    cx.env.before.iter().any(|b| b == "migrations")
}

fn service(cx: &EnvPlan, d: &crate::model::Deployment) -> ServiceValues {
    let model = cx.model;
    let s = model.service(d.service);
    let (config, env) = container_env(cx, d);
    // Probes only where the program declares them, as the k8s target.
    let liveness = s.health.as_ref();
    let readiness = s.readiness.as_ref().or(liveness);
    // The chart keeps the tag policy's first tag: Helm releases set the tag
    // they deploy (`--set`), and CD's released tags live in the kustomizations.
    let image = service_image(model, cx.env, s, &crate::plan::Options::default());
    let pod = crate::plan::registry::pod_details(cx, s, d.replicas.max());
    ServiceValues {
        image: Image {
            repository: image.pulled_from.unwrap_or(image.repository),
            tag: image.tag,
            digest: image.digest,
            pull_policy: PullPolicy::Always,
        },
        command: s.command.clone(),
        args: s.args.clone(),
        port: s.port,
        service_port: s.service_port,
        kind: match s.kind {
            WorkloadKind::Service => Kind::Service,
            WorkloadKind::Worker => Kind::Worker,
            WorkloadKind::Job(_) => Kind::Job,
            WorkloadKind::Cron { .. } => Kind::Cron,
        },
        strategy: strategy(&d.strategy.kind, cx),
        ports: port_values(s),
        kube_services: crate::plan::ports::services(cx, s)
            .into_iter()
            .map(|sp| KubeService {
                name: sp.name.clone(),
                type_: sp.type_().into(),
                headless: sp.kind == crate::model::ServiceKind::Headless,
                ports: sp.ports.into_iter().map(port_value).collect(),
            })
            .collect(),
        canary_service: crate::plan::ports::canary_name(s),
        preview_service: crate::plan::ports::preview_name(s),
        metrics_port: crate::plan::ports::metrics_port(s).into(),
        checkov_skips: crate::plan::pod::extra_skips(s, d.cpu),
        batch: match &s.kind {
            WorkloadKind::Job(b) => Some(BatchValues {
                schedule: None,
                concurrency_policy: None,
                backoff_limit: b.retries,
                active_deadline_seconds: b.deadline_secs,
            }),
            WorkloadKind::Cron { schedule, concurrency, batch: b } => Some(BatchValues {
                schedule: Some(schedule.clone()),
                concurrency_policy: Some(concurrency.k8s().into()),
                backoff_limit: b.retries,
                active_deadline_seconds: b.deadline_secs,
            }),
            _ => None,
        },
        replicas: if s.kind.long_running() { d.replicas.min() } else { 1 },
        autoscaling: match d.replicas {
            // A job or cron job has no HPA (nor a PDB: `replicas` is 1).
            _ if !s.kind.long_running() => None,
            Replicas::Auto { min, max } => Some(Autoscaling {
                min_replicas: min,
                max_replicas: max,
                target_cpu_utilization_percentage: d.target_cpu,
            }),
            Replicas::Fixed(_) => None,
        },
        resources: resources(d.cpu, d.memory),
        scaled_by_keda: crate::plan::keda::scales(cx, d),
        liveness_probe: liveness.map(probe),
        readiness_probe: readiness.map(probe),
        security_context: SecurityValues {
            run_as_user: s.security.run_as_user,
            read_only_root_filesystem: s.security.read_only_root_filesystem,
            allow_privilege_escalation: s.security.allow_privilege_escalation,
        },
        writable_paths: s.security.writable_paths.clone(),
        config,
        env: env_entries(env),
        ingresses: routes(cx, s)
            .into_iter()
            .map(|r| Ingress {
                name: r.name,
                class_name: r.class,
                host: r.host,
                path: r.path,
                service: r.service,
                port: match r.port {
                    BackendPort::Number(n) => PortRef::Number(n),
                    BackendPort::UseAnnotation => PortRef::Name("use-annotation".into()),
                },
                annotations: r.annotations,
                tls: r.tls_secret.map(|secret_name| IngressTls { secret_name }),
            })
            .collect(),
        traffic_routing: matches!(d.strategy.kind, StrategyKind::Canary { .. })
            .then(|| traffic_routing(cx, s))
            .flatten(),
        // Scraped on its port: a worker or job has none.
        metrics: s.metrics && s.port.is_some(),
        reload_on_change: crate::plan::secrets::reload_annotation(cx, &s.name).map(|(_, v)| v),
        migration: s
            .migrations
            .as_ref()
            .filter(|_| runs_migrations(cx))
            .map(|m| Migration { command: m.command.clone() }),
        network: service_network(cx, d.service),
        role_arn: cx.roles().get(&pod.service_account).and_then(|r| r.role_arn.clone()),
        service_account: pod.service_account,
        pod_labels: pod.labels,
        pod_annotations: pod.annotations,
        node_selector: pod.node_selector.unwrap_or_default(),
        affinity: pod.affinity.as_ref().map(to_value),
        tolerations: pod.tolerations.unwrap_or_default().iter().map(to_value).collect(),
        topology_spread_constraints: pod.topology_spread_constraints.unwrap_or_default().iter().map(to_value).collect(),
        image_pull_secrets: pod.image_pull_secrets.unwrap_or_default().iter().map(to_value).collect(),
        probe_timing: ProbeTimings {
            liveness: to_value(&probe_timing(&s.pod.timing, ProbeKind::Liveness)),
            readiness: to_value(&probe_timing(&s.pod.timing, ProbeKind::Readiness)),
            startup: to_value(&probe_timing(&s.pod.timing, ProbeKind::Startup)),
        },
        startup_probe: s.pod.startup.as_ref().map(probe),
        files: crate::plan::pod::config_files(s).map(|f| FilesValues { data: f.data, mounts: f.mounts }),
        unified_tags: observability::datadog_labels(cx, s)
            .into_iter()
            .filter(|(k, _)| !observability::version_label_keys(model).contains(&k.as_str()))
            .collect(),
        version_labels: observability::version_label_keys(model),
    }
}

/// A Kubernetes object as JSON (always possible for these plain structs).
fn to_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

fn port_value(p: crate::plan::ports::PortPlan) -> PortValues {
    PortValues {
        name: p.name,
        container_port: p.container_port,
        service_port: p.service_port,
        protocol: p.protocol,
        app_protocol: p.app_protocol,
    }
}

fn port_values(s: &crate::model::Service) -> Vec<PortValues> {
    crate::plan::ports::ports(s).into_iter().map(port_value).collect()
}

fn deployed(cx: &EnvPlan, n: &Node) -> bool {
    matches!(n, Node::Service(s) if cx.env.deployments.iter().any(|d| d.service == *s))
}

/// The graph edges of one service, as the Kubernetes target's policies read them.
fn service_network(cx: &EnvPlan, sid: crate::model::ServiceId) -> ServiceNetwork {
    let (model, graph) = (cx.model, cx.graph);
    let me = Node::Service(sid);
    // A workload without a port (a worker, a job) admits nothing.
    let has_port = model.service(sid).port.is_some();
    let from = graph
        .sources(me, Edge::DependsOn)
        .iter()
        .filter(|n| has_port && deployed(cx, n))
        .map(|n| graph.name(model, *n))
        .collect();
    let to_services = graph
        .targets(me, Edge::DependsOn)
        .iter()
        .filter(|n| deployed(cx, n))
        .filter_map(|n| match n {
            Node::Service(t) => {
                let ports = port_values(model.service(*t));
                (!ports.is_empty()).then(|| PodPort { name: model.service(*t).name.clone(), ports })
            }
            _ => None,
        })
        .collect();
    let mut to_resources = Vec::new();
    for n in graph.targets(me, Edge::Uses) {
        let Node::Resource(rid) = n else { continue };
        let r = model.resource(rid);
        let port = engine_port(&r.engine);
        match (cx.resource_use(rid).placement, r.engine.can_run_in_cluster()) {
            (Placement::InCluster, true) if engines::spec(&r.engine).operator.is_some() => {
                to_resources.push(Peer::Labels { labels: engines::pod_labels(r), port })
            }
            (Placement::InCluster, true) => to_resources.push(Peer::Pods { pods: r.name.clone(), port }),
            (_, true) => to_resources
                .push(Peer::Cidr { cidr: network::PRIVATE_CIDR.into(), port: engines::managed_port(&r.engine) }),
            // Queues and buckets are AWS APIs, reached over HTTPS.
            _ => {}
        }
    }
    // Traces, to the environment's OpenTelemetry Collector.
    if crate::plan::tracing::sink(model).is_some() {
        to_resources.push(Peer::Labels {
            labels: crate::plan::tracing::collector_pod_labels(cx),
            port: crate::plan::tracing::OTLP_HTTP_PORT,
        });
    }
    let outside = ingress_peers(cx, model.service(sid))
        .into_iter()
        .filter(|_| has_port)
        .map(|p| match p {
            RoutePeer::Namespace(namespace) => Outside::Namespace { namespace },
            RoutePeer::Cidr(cidr) => Outside::Cidr { cidr },
        })
        .collect();
    let public = crate::plan::ports::public_ports(model.service(sid)).into_iter().map(port_value).collect();
    ServiceNetwork { from, outside, public, to_services, to_resources }
}

/// The pods that connect to an in-cluster resource: the services that use
/// it and their migration Jobs.
fn clients(cx: &EnvPlan, r: &crate::model::Resource) -> Vec<String> {
    let (model, graph) = (cx.model, cx.graph);
    let mut clients = Vec::new();
    for n in graph.sources(Node::Resource(r.id), Edge::Uses).iter().filter(|n| deployed(cx, n)) {
        if let Node::Service(sid) = n {
            let s = model.service(*sid);
            clients.push(s.name.clone());
            if s.migrations.is_some() && runs_migrations(cx) {
                clients.push(format!("{}-migrate", s.name));
            }
        }
    }
    clients
}

fn kafka(cx: &EnvPlan) -> BTreeMap<String, KafkaValues> {
    let model = cx.model;
    let mut out = BTreeMap::new();
    for r in &model.resources {
        if !cx.in_cluster(r.id) || engines::spec(&r.engine).operator.is_none() {
            continue;
        }
        let clients = clients(cx, r);
        let values = KafkaValues {
            plan: crate::plan::kafka::plan(cx, r),
            port: engine_port(&r.engine),
            clients,
            keda: crate::plan::keda::measures(cx, r),
        };
        out.insert(r.name.clone(), values);
    }
    out
}

fn datastores(cx: &EnvPlan) -> BTreeMap<String, Datastore> {
    let model = cx.model;
    let mut out = BTreeMap::new();
    for r in &model.resources {
        if !cx.in_cluster(r.id) || !r.engine.can_run_in_cluster() {
            continue;
        }
        let u = cx.resource_use(r.id);
        let Some(spec) = &engines::spec(&r.engine).in_cluster else { continue };
        let (uid, data_path, scratch) = (spec.uid, spec.data_path, spec.scratch);
        let (cpu, mem) = engines::engine_resources(r);
        let clients = clients(cx, r);
        let backup = r.backup.as_ref().map(|b| {
            let (script, env) = backup_script(cx, r, b);
            let store = crate::plan::backup::off_cluster(cx);
            Backup {
                schedule: cron(&b.schedule).into(),
                script,
                env: env_entries(env),
                resources: resources(BACKUP_RESOURCES.0, BACKUP_RESOURCES.1),
                storage: quantity_mem(u.storage * 2).0,
                predeploy: crate::plan::delivery::backups(model, cx.env).into_iter().find_map(|x| match x {
                    crate::plan::delivery::Backup::Hook { resource, job } if resource == r.name => Some(job),
                    _ => None,
                }),
                upload: store
                    .as_ref()
                    .and_then(|s| serde_json::to_value(crate::plan::backup::upload_container(s, r, uid)).ok()),
                upload_egress: store
                    .as_ref()
                    .and_then(|s| serde_json::to_value(crate::plan::backup::store_egress(s)).ok()),
                service_account: store.map(|s| s.service_account),
            }
        });
        out.insert(
            r.name.clone(),
            Datastore {
                engine: r.engine.word().into(),
                image: resource_image(&r.engine, &r.version),
                port: engine_port(&r.engine),
                run_as_user: uid,
                data_path: data_path.into(),
                writable_paths: scratch.iter().map(|s| s.to_string()).collect(),
                args: engines::engine_args(r),
                env: env_entries(engine_env(r)),
                resources: resources(cpu, mem),
                storage: quantity_mem(u.storage).0,
                storage_class: crate::plan::addons::data_class(model, cx.env, r).into(),
                reload_on_change: crate::plan::secrets::reload_annotation(cx, &r.name).map(|(_, v)| v),
                clients,
                keda: crate::plan::keda::measures(cx, r),
                backup,
                standby_refresh: (crate::plan::failover::refreshes(cx)
                    && crate::plan::failover::restored(cx).iter().any(|x| x.id == r.id))
                .then(|| crate::plan::failover::job_name(r)),
                replica_set: replica_set(cx, r),
            },
        );
    }
    out
}

/// A MongoDB replica set's parts, as the Kubernetes target writes them.
fn replica_set(cx: &EnvPlan, r: &crate::model::Resource) -> Option<super::values::ReplicaSetValues> {
    use crate::plan::replica_set as rs;
    let set = rs::of(cx, r)?;
    let job = rs::job(cx, r, &set)?;
    Some(super::values::ReplicaSetValues {
        members: set.members,
        command: rs::command(),
        init_container: serde_json::to_value(rs::keyfile_container(r)?).ok()?,
        volumes: serde_json::to_value(rs::keyfile_volumes(r)).ok()?,
        volume_mount: serde_json::to_value(rs::keyfile_mount()).ok()?,
        job_name: rs::job_name(r),
        job_annotations: serde_json::to_value(job.metadata.annotations).ok()?,
        job: serde_json::to_value(job.spec).ok()?,
    })
}

fn external_secrets(cx: &EnvPlan) -> Option<ExternalSecrets> {
    let model = cx.model;
    let store = format!("{}-secrets", model.project.name);
    let provider = match &model.secret_store_of(cx.env) {
        Store::AwsSecretsManager { region, .. } => StoreProvider::Aws(AwsStore { region: region.clone() }),
        Store::Vault { address, path, role } => {
            StoreProvider::Vault(VaultStore { server: address.clone(), path: path.clone(), role: role.clone() })
        }
        Store::GcpSecretManager { project } => StoreProvider::Gcp(GcpStore { project_id: project.clone() }),
        _ => return None,
    };
    let role_arn = external_secrets_role(cx);
    let secrets = inventory(cx)
        .into_iter()
        .filter_map(|s| match s.producer.clone() {
            Producer::ExternalSecret { key, .. } => Some(StoreEntry {
                type_: crate::plan::secrets::secret_type(&s).map(str::to_string),
                name: s.name,
                path: key,
            }),
            Producer::SealedByTeam { .. } | Producer::CreatedByTeam | Producer::Generated { .. } => None,
        })
        .collect();
    let gcp_service_account = crate::plan::secrets::external_secrets_gcp_account(cx);
    Some(ExternalSecrets { store, provider, role_arn, gcp_service_account, refresh_interval: "1h".into(), secrets })
}
