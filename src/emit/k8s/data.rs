//! Backing resources run in the cluster (StatefulSet, headless Service, backup
//! CronJob), secrets from an external store (SecretStore, ExternalSecret) and
//! monitoring (ServiceMonitor, PrometheusRule, AnalysisTemplate).

use super::EnvCx;
use crate::model::{Resource, SecretStore as Store};
use crate::plan::addons::storage_class;
use crate::plan::analysis::{alert_rules, env_analysis, service_monitor_meta};
use crate::plan::backup::{backup_script, cron};
use crate::plan::crd::{self, ExternalSecret, PrometheusRule, RuleGroup, SecretStore, ServiceMonitor};
use crate::plan::engines::{self, engine_env, engine_port, resource_image, BACKUP_RESOURCES};
use crate::plan::env::{keep_on_delete, label_selector, sync_wave, Wave};
use crate::plan::pod::{
    self, checkov_skips, container_security, pod_security, quantity_mem, scratch_volumes, DATABASE_SKIPS,
};
use crate::plan::secrets::{external_secrets_role, inventory, Producer};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource,
    PodSpec, PodTemplateSpec, Probe, Service, ServiceAccount, ServicePort, ServiceSpec, TCPSocketAction, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

fn pod_meta(cx: &EnvCx, name: &str, component: &str) -> ObjectMeta {
    ObjectMeta { labels: Some(cx.labels(name, component)), ..Default::default() }
}

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
        if engines::spec(&r.engine).operator.is_some() {
            kafka(cx, r);
            continue;
        }
        let Some(spec) = &engines::spec(&r.engine).in_cluster else { continue };
        let (uid, data_path) = (spec.uid, spec.data_path);
        let scratch: Vec<String> = spec.scratch.iter().map(|s| s.to_string()).collect();
        let (mut volumes, mut mounts) = scratch_volumes(&scratch);
        mounts.push(VolumeMount { name: "data".into(), mount_path: data_path.into(), ..Default::default() });
        let args = Some(engines::engine_args(r)).filter(|a| !a.is_empty());
        let rs = crate::plan::replica_set::of(cx, r);
        if rs.is_some() {
            mounts.push(crate::plan::replica_set::keyfile_mount());
            volumes.extend(crate::plan::replica_set::keyfile_volumes(r));
        }
        let (cpu, mem) = engines::engine_resources(r);
        let tcp = || Probe {
            tcp_socket: Some(TCPSocketAction { port: IntOrString::Int(port), ..Default::default() }),
            initial_delay_seconds: Some(10),
            period_seconds: Some(10),
            ..Default::default()
        };
        let container = Container {
            name: r.engine.word().into(),
            image: Some(resource_image(&r.engine, &r.version)),
            image_pull_policy: Some("Always".into()),
            command: rs.as_ref().map(|_| crate::plan::replica_set::command()),
            args,
            ports: Some(vec![ContainerPort { name: Some("tcp".into()), container_port: port, ..Default::default() }]),
            env: Some(engine_env(r)).filter(|e| !e.is_empty()),
            resources: Some(pod::resources(cpu, mem)),
            liveness_probe: Some(tcp()),
            readiness_probe: Some(tcp()),
            security_context: Some(container_security(uid, true, false)),
            volume_mounts: Some(mounts),
            ..Default::default()
        };
        let pvc = PersistentVolumeClaim {
            metadata: ObjectMeta { name: Some("data".into()), ..Default::default() },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: Some(crate::plan::addons::data_class(cx.model, cx.env, r).into()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), quantity_mem(u.storage))])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut sts_meta = workload_meta(cx, name, "database");
        if let Some((k, v)) = crate::plan::secrets::reload_annotation(cx, name) {
            sts_meta.annotations.get_or_insert_with(BTreeMap::new).insert(k, v);
        }
        let sts = StatefulSet {
            metadata: sts_meta,
            spec: Some(StatefulSetSpec {
                service_name: Some(name.to_string()),
                replicas: Some(rs.as_ref().map_or(1, |rs| rs.members as i32)),
                selector: label_selector(name),
                template: PodTemplateSpec {
                    metadata: Some(pod_meta(cx, name, "database")),
                    spec: Some(PodSpec {
                        automount_service_account_token: Some(false),
                        security_context: Some(pod_security(uid)),
                        init_containers: rs
                            .as_ref()
                            .and_then(|_| crate::plan::replica_set::keyfile_container(r))
                            .map(|c| vec![c]),
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
                selector: Some(crate::plan::env::selector(name)),
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
        if let Some(job) = rs.as_ref().and_then(|rs| crate::plan::replica_set::job(cx, r, rs)) {
            cx.push("Job", &crate::plan::replica_set::job_name(r), &job);
        }
        if let Some(b) = &r.backup {
            backup(cx, r, b, uid);
        }
    }
    // Off-cluster copies: the ServiceAccount with the IRSA role or the Google
    // service account, and the
    // weekly recovery drill of each backed-up resource.
    if let Some(store) = crate::plan::backup::off_cluster(cx) {
        let sa = crate::plan::backup::service_account(cx, &store);
        cx.push("ServiceAccount", &store.service_account, &sa);
        for r in crate::plan::backup::backed_up(cx) {
            if let Some(cj) = crate::plan::backup::drill(cx, &store, r) {
                let name = crate::plan::backup::drill_name(r);
                cx.push("CronJob", &name, &cj);
                let p = crate::plan::backup::drill_policy(cx, &store, r);
                cx.push("NetworkPolicy", &name, &p);
            }
        }
    }
    // A warm standby's refresh of its primary's databases.
    for (kind, name, o) in crate::plan::failover::objects(cx) {
        cx.push(kind, &name, &o);
    }
}

/// A custom resource: our typed spec under the usual envelope.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Custom<'a, S> {
    api_version: &'a str,
    kind: &'a str,
    metadata: ObjectMeta,
    spec: &'a S,
}

/// Strimzi's node pool, Kafka cluster and topics for an in-cluster Kafka.
fn kafka(cx: &mut EnvCx, r: &Resource) {
    use crate::plan::kafka::{self, API_VERSION};
    let k = kafka::plan(cx, r);
    let name = r.name.as_str();
    let labelled = |cx: &EnvCx, object: &str| {
        let mut m = cx.meta(object, name, "kafka");
        m.labels.get_or_insert_with(BTreeMap::new).extend(kafka::cluster_label(name));
        m
    };
    let pool = kafka::pool_name(name);
    let meta = labelled(cx, &pool);
    cx.push(
        "KafkaNodePool",
        &pool,
        &Custom { api_version: API_VERSION, kind: "KafkaNodePool", metadata: meta, spec: &k.node_pool },
    );
    let mut meta = cx.meta(name, name, "kafka");
    meta.annotations = Some(kafka::kafka_annotations());
    cx.push("Kafka", name, &Custom { api_version: API_VERSION, kind: "Kafka", metadata: meta, spec: &k.kafka });
    for (topic, spec) in &k.topics {
        let meta = labelled(cx, topic);
        cx.push("KafkaTopic", topic, &Custom { api_version: API_VERSION, kind: "KafkaTopic", metadata: meta, spec });
    }
}

fn backup(cx: &mut EnvCx, r: &Resource, b: &crate::model::Backup, uid: u32) {
    let name = format!("{}-backup", r.name);
    let (script, env) = backup_script(cx, r, b);
    let pvc_name = format!("{}-backups", r.name);
    let mut pvc_meta = cx.meta(&pvc_name, &r.name, "backup");
    // A pre-deploy backup Job (the delivery plan's `before = [backup]`) is the
    // volume's first consumer: the claim comes in the Job's wave, so a
    // WaitForFirstConsumer claim binds for it instead of waiting for the
    // CronJob's first run.
    let predeploy = crate::plan::delivery::backups(cx.model, cx.env).into_iter().find_map(|x| match x {
        crate::plan::delivery::Backup::Hook { resource, job } if resource == r.name => Some(job),
        _ => None,
    });
    let mut keep = keep_on_delete();
    keep.extend([sync_wave(if predeploy.is_some() { Wave::Backup } else { Wave::Deferred })]);
    pvc_meta.annotations = Some(keep);
    let pvc = PersistentVolumeClaim {
        metadata: pvc_meta,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: Some(storage_class(cx.model.cloud_of(cx.env)).name.into()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    quantity_mem(cx.resource_use(r.id).storage * 2),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    cx.push("PersistentVolumeClaim", &pvc_name, &pvc);
    let (mut volumes, mut mounts) = scratch_volumes(&["/tmp".to_string()]);
    volumes.push(Volume {
        name: "backups".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource { claim_name: pvc_name, read_only: None }),
        ..Default::default()
    });
    mounts.push(VolumeMount { name: "backups".into(), mount_path: "/backups".into(), ..Default::default() });
    let container = Container {
        name: "backup".into(),
        image: Some(resource_image(&r.engine, &r.version)),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), script]),
        env: Some(env),
        resources: Some(pod::resources(BACKUP_RESOURCES.0, BACKUP_RESOURCES.1)),
        security_context: Some(container_security(uid, true, false)),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    // With an off-cluster store the dump runs as the init container and the
    // upload as the container: the upload starts only after the dump and its
    // size check succeeded.
    let store = crate::plan::backup::off_cluster(cx);
    let (init, containers) = match &store {
        Some(s) => (Some(vec![container.clone()]), vec![crate::plan::backup::upload_container(s, r, uid)]),
        None => (None, vec![container.clone()]),
    };
    let pod = |cx: &EnvCx, restart: &str| PodTemplateSpec {
        // The pods of both jobs carry the CronJob's labels, so the network
        // policy that lets backups reach the database admits them alike.
        metadata: Some(pod_meta(cx, &name, "backup")),
        spec: Some(PodSpec {
            automount_service_account_token: Some(false),
            security_context: Some(pod_security(uid)),
            restart_policy: Some(restart.into()),
            service_account_name: store.as_ref().map(|s| s.service_account.clone()),
            init_containers: init.clone(),
            containers: containers.clone(),
            volumes: Some(volumes.clone()),
            ..Default::default()
        }),
    };
    if let Some(job) = &predeploy {
        let mut meta = workload_meta(cx, job, "backup");
        meta.annotations.get_or_insert_with(BTreeMap::new).extend(BTreeMap::from([
            ("argocd.argoproj.io/hook".to_string(), "Sync".to_string()),
            ("argocd.argoproj.io/hook-delete-policy".to_string(), "BeforeHookCreation".to_string()),
            sync_wave(Wave::Backup),
        ]));
        let j = Job {
            metadata: meta,
            spec: Some(JobSpec {
                backoff_limit: Some(1),
                active_deadline_seconds: Some(3600),
                template: pod(cx, "Never"),
                ..Default::default()
            }),
            ..Default::default()
        };
        cx.push("Job", job, &j);
    }
    let mut cj_meta = workload_meta(cx, &name, "backup");
    cj_meta.annotations.get_or_insert_with(BTreeMap::new).extend([sync_wave(Wave::Deferred)]);
    let cj = CronJob {
        metadata: cj_meta,
        spec: Some(CronJobSpec {
            schedule: cron(&b.schedule).into(),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec { backoff_limit: Some(2), template: pod(cx, "OnFailure"), ..Default::default() }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    cx.push("CronJob", &name, &cj);
}

/// SecretStore and ExternalSecrets when secrets live in an external store.
/// With Sealed Secrets or plain Secrets, the team owns those objects and the
/// workloads only reference the Secret names.
pub fn secrets(cx: &mut EnvCx) {
    let model = cx.model;
    let store_name = format!("{}-secrets", model.project.name);
    let provider = match &model.secret_store_of(cx.env) {
        Store::AwsSecretsManager { region, .. } => crd::StoreProvider {
            aws: Some(crd::AwsProvider {
                service: "SecretsManager".into(),
                region: region.clone(),
                auth: crd::AwsAuth { jwt: crd::Jwt { service_account_ref: crd::NameRef { name: store_name.clone() } } },
            }),
            vault: None,
            gcpsm: None,
        },
        Store::GcpSecretManager { project } => crd::StoreProvider {
            aws: None,
            vault: None,
            gcpsm: Some(crd::GcpsmProvider {
                project_id: project.clone(),
                auth: crd::GcpsmAuth {
                    workload_identity: crd::Jwt { service_account_ref: crd::NameRef { name: store_name.clone() } },
                },
            }),
        },
        Store::Vault { address, path, role } => crd::StoreProvider {
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
            gcpsm: None,
        },
        _ => return,
    };
    let mut sa_meta = cx.meta(&store_name, &store_name, "secrets");
    if let Some(arn) = external_secrets_role(cx) {
        sa_meta.annotations = Some(BTreeMap::from([("eks.amazonaws.com/role-arn".to_string(), arn)]));
    }
    if let Some(account) = crate::plan::secrets::external_secrets_gcp_account(cx) {
        sa_meta.annotations = Some(BTreeMap::from([("iam.gke.io/gcp-service-account".to_string(), account)]));
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
    for s in inventory(cx) {
        let template = crate::plan::secrets::secret_type(&s).map(|t| crd::SecretTemplate { type_: t.into() });
        let Producer::ExternalSecret { key, .. } = s.producer else { continue };
        let name = s.name;
        let es = ExternalSecret {
            api_version: "external-secrets.io/v1",
            kind: "ExternalSecret",
            metadata: cx.meta(&name, &store_name, "secrets"),
            spec: crd::ExternalSecretSpec {
                refresh_interval: "1h".into(),
                secret_store_ref: crd::StoreRef { name: store_name.clone(), kind: "SecretStore".into() },
                target: crd::SecretTarget { name: name.clone(), creation_policy: "Owner".into(), template },
                data_from: vec![crd::DataFrom { extract: crd::Extract { key } }],
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
            // Scraped on its port: a worker or job has none.
            if !s.metrics || s.port.is_none() {
                continue;
            }
            let sm = ServiceMonitor {
                api_version: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: service_monitor_meta(cx, &s.name, m),
                spec: crd::ServiceMonitorSpec {
                    selector: label_selector(&s.name),
                    endpoints: vec![crd::Endpoint {
                        port: crate::plan::ports::metrics_port(s).into(),
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
            metadata: crate::plan::observability::monitoring_meta(cx, &name),
            spec: crd::PrometheusRuleSpec {
                groups: vec![RuleGroup { name: format!("{}.rules", model.project.name), rules }],
            },
        };
        cx.push("PrometheusRule", &name, &pr);
    }
    for d in crate::plan::dashboards::dashboards(cx) {
        let mut metadata = cx.meta(&d.config_map, &d.config_map, "monitoring");
        metadata.labels.get_or_insert_with(BTreeMap::new).extend(crate::plan::dashboards::sidecar_labels());
        let cm = k8s_openapi::api::core::v1::ConfigMap {
            metadata,
            data: Some(BTreeMap::from([(d.file, d.json)])),
            ..Default::default()
        };
        cx.push("ConfigMap", &d.config_map, &cm);
    }
    if let Some(amc) = crate::plan::observability::alertmanager_config(cx) {
        cx.push("AlertmanagerConfig", &crate::plan::observability::alerts_name(model), &amc);
    }
    if let Some((a, e, l)) = env_analysis(cx) {
        if !cx.env.deployments.is_empty() {
            let t = crd::analysis_template(cx, &a, e, l);
            let name = crd::analysis_template_name(cx);
            cx.push("AnalysisTemplate", &name, &t);
        }
    }
}
