//! The chart's values, as typed structs: serialised into `values.yaml` and
//! `values-<env>.yaml`, and the source of `values.schema.json` (schemars), so
//! Helm and editors reject a misspelt key or a wrong type.
//!
//! Values hold what the model decides per environment, already resolved
//! (names, hosts, connection strings, image tags); the templates hold the
//! structure of the objects. Keys are camelCase, as in most charts.

use crate::plan::crd::{Metric, Rule, TrafficRouting};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything one environment of the project needs.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Values {
    /// The deployc project: the `app.kubernetes.io/part-of` label and the prefix of shared objects.
    pub project: String,
    /// The environment these values describe: the `deployc.dev/environment` label.
    pub environment: String,
    pub namespace: Namespace,
    /// How services roll out: a Deployment for `rolling`, an Argo Rollout otherwise.
    pub strategy: Strategy,
    /// The AnalysisTemplate that canary and blue-green steps run, if the strategy analyses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisValues>,
    /// Who may reach the pods from outside the namespace.
    pub network: Network,
    /// Annotations of the workloads (policy-check exemptions with their reasons).
    pub annotations: Annotations,
    /// The StorageClass every volume names (`k8s/_cluster/` defines it).
    pub storage_class: String,
    /// Place the workloads in a later ArgoCD sync wave than the migrations.
    pub workloads_after_migrations: bool,
    /// The services, by name.
    pub services: BTreeMap<String, ServiceValues>,
    /// Backing resources this environment runs in the cluster, by name.
    pub datastores: BTreeMap<String, Datastore>,
    /// Kafka clusters this environment runs in the cluster (Strimzi), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka: BTreeMap<String, KafkaValues>,
    /// SecretStore and ExternalSecrets, when secrets live in an external store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_secrets: Option<ExternalSecrets>,
    pub monitoring: Monitoring,
    /// Objects the plan gives whole, rendered as they are: the Kyverno
    /// Policy and the VerticalPodAutoscalers of the environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<serde_json::Value>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Namespace {
    /// The namespace of every object (connection strings in these values name it too).
    #[schemars(pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), length(max = 63))]
    pub name: String,
    /// Render the Namespace (Pod Security `restricted`) too; off by default, as Helm
    /// usually installs into an existing namespace (`--create-namespace`).
    pub create: bool,
    /// Labels and annotations the mesh adds to the Namespace (its injection switch).
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A Kubernetes int-or-string: a count or a percentage.
#[derive(Serialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum IntOrPercent {
    Int(u32),
    /// A percentage such as `25%`.
    Percent(String),
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Service,
    Worker,
    Job,
    Cron,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BatchValues {
    /// A cron job's schedule (five fields, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<String>,
    pub backoff_limit: u32,
    pub active_deadline_seconds: u64,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub enum Strategy {
    Rolling(Rolling),
    Canary(Canary),
    BlueGreen(BlueGreen),
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Rolling {
    pub max_surge: IntOrPercent,
    pub max_unavailable: IntOrPercent,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Canary {
    pub steps: Vec<CanaryStep>,
    /// Run the analysis in the background from the first step (when no step runs it inline).
    pub background_analysis: bool,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub enum CanaryStep {
    /// Send this share of traffic (percent) to the new version.
    SetWeight(#[schemars(range(min = 0, max = 100))] u32),
    /// Wait, for a duration or (without one) until promoted by hand.
    Pause(Pause),
    /// Run the AnalysisTemplate and abort on failure.
    Analysis(Empty),
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Pause {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[0-9]+(ms|s|m|h)$"))]
    pub duration: Option<String>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Empty {}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct BlueGreen {
    pub auto_promotion_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_promotion_seconds: Option<u64>,
    pub scale_down_delay_seconds: u64,
    /// Run the AnalysisTemplate against the preview before promotion.
    pub pre_promotion_analysis: bool,
    /// Run it again against the active Service after the switch; a failure switches back.
    pub post_promotion_analysis: bool,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AnalysisValues {
    /// The metrics of the AnalysisTemplate `<project>-analysis`, which the Rollouts reference.
    pub metrics: Vec<Metric>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Network {
    /// Namespace of Prometheus, allowed to scrape services.
    pub monitoring_namespace: String,
    /// The private address space of the VPC (managed data stores, the API server).
    pub private_cidr: String,
    /// cert-manager's HTTP-01 solver pods, reached by ingress-nginx (plan/certificates.rs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme_solvers: Option<AcmeSolvers>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct AcmeSolvers {
    /// The network policy's name.
    pub policy: String,
    /// The label cert-manager gives its solver pods.
    pub label: String,
    /// Their port.
    pub port: u16,
    /// The ingress controller's namespace.
    pub ingress_namespace: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Annotations {
    /// On service Deployments, Rollouts and migration Jobs.
    pub workloads: BTreeMap<String, String>,
    /// On the StatefulSets and backup CronJobs of datastores.
    pub datastores: BTreeMap<String, String>,
}

/// A service as deployed in this environment.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceValues {
    pub image: Image,
    /// The container's command and arguments (the image's when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The container port; absent for a worker, job or cron job (no Service).
    #[schemars(range(min = 1, max = 65535))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The port of the Service in front of it.
    #[schemars(range(min = 1, max = 65535))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_port: Option<u16>,
    // ---- workload kinds and per-service strategy (issue 11)
    /// `service`, `worker` (a Deployment or Rollout), `job` (a post-release hook Job) or `cron` (a CronJob).
    pub kind: Kind,
    /// How this service rolls out: its own strategy, else the environment's.
    pub strategy: Strategy,
    /// A job's or cron job's run: schedule, concurrency, retries, deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchValues>,
    /// Every port, the main one (`http`) first.
    pub ports: Vec<PortValues>,
    /// Its Services: the main one, the canary or preview one, the extra ones.
    pub kube_services: Vec<KubeService>,
    /// The names of its canary and preview Services.
    pub canary_service: String,
    pub preview_service: String,
    /// The port Prometheus scrapes, by name.
    pub metrics_port: String,
    /// Checkov skips this workload adds to `annotations.workloads` (a worker without probes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checkov_skips: BTreeMap<String, String>,
    /// Replicas when not autoscaled.
    pub replicas: u32,
    /// An HPA on CPU, which then owns the replica count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    /// KEDA's ScaledObject (in `objects`) scales it: no HPA of the chart's.
    pub scaled_by_keda: bool,
    pub resources: Resources,
    /// Only when the program declares a probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<ProbeHandler>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<ProbeHandler>,
    pub security_context: SecurityValues,
    /// Paths the read-only container may write to (each an emptyDir; the first is `tmp`).
    pub writable_paths: Vec<String>,
    /// Plain settings, delivered through the ConfigMap `<service>-config`.
    pub config: BTreeMap<String, String>,
    /// Variables set on the container itself: secret references, and values
    /// that embed them through `$(VAR)` expansion.
    pub env: Vec<EnvEntry>,
    /// The Ingresses routing users to it: the main route and, for blue-green, the preview route.
    pub ingresses: Vec<Ingress>,
    /// Canary traffic routing through the Ingress (Rollout `trafficRouting`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_routing: Option<TrafficRouting>,
    /// Scraped by Prometheus (a ServiceMonitor, when `monitoring.serviceMonitor` is set).
    pub metrics: bool,
    /// A Sync-hook Job running the migrations before the workloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<Migration>,
    /// The Secrets it reads, comma-separated: Reloader rolls it when one changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_on_change: Option<String>,
    pub network: ServiceNetwork,
    /// Datadog's unified service tags on its pods (`tags.datadoghq.com/env`
    /// and `service`); the version label is the image tag the release sets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unified_tags: BTreeMap<String, String>,
    /// The pod labels set to the image tag the release deploys (Datadog's
    /// version tag, Sentry's `app.kubernetes.io/version`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub version_labels: Vec<&'static str>,
    // ---- pod details (issue 11, item 5): decided in plan/pod.rs, given whole.
    /// The ServiceAccount the pods run as.
    pub service_account: String,
    /// The IAM role its ServiceAccount assumes (IRSA), when it uses AWS APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Extra labels and annotations of the pods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// The pod's `affinity`, as Kubernetes writes it (`prefer_nodes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<serde_json::Value>,
    /// Pod spec lists, as Kubernetes writes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<serde_json::Value>,
    /// The timing fields of each probe (initialDelaySeconds, periodSeconds, ...).
    pub probe_timing: ProbeTimings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<ProbeHandler>,
    /// Config files: the ConfigMap `<service>-files`, mounted one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<FilesValues>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FilesValues {
    /// File name → content.
    pub data: BTreeMap<String, String>,
    /// File name → absolute mount path.
    pub mounts: BTreeMap<String, String>,
}

/// Timing fields of the liveness, readiness and startup probes.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ProbeTimings {
    pub liveness: serde_json::Value,
    pub readiness: serde_json::Value,
    pub startup: serde_json::Value,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
// A built image has a tag; a prebuilt one a tag, a digest or both: never neither.
#[schemars(extend("anyOf" = [{"required": ["tag"]}, {"required": ["digest"]}]))]
pub struct Image {
    pub repository: String,
    /// The released tag; CD sets it (never `latest`). A prebuilt image
    /// pinned by digest alone has none.
    #[schemars(pattern(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// A prebuilt image's digest (`sha256:...`), as the program wrote it.
    #[schemars(pattern(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub pull_policy: PullPolicy,
}

#[derive(Serialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Autoscaling {
    #[schemars(range(min = 1))]
    pub min_replicas: u32,
    #[schemars(range(min = 1))]
    pub max_replicas: u32,
    #[schemars(range(min = 1, max = 100))]
    #[serde(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu_utilization_percentage: u32,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Resources {
    pub requests: CpuMemory,
    pub limits: Limits,
}

/// Limits: memory always, cpu unless the program wrote `cpu = request..`.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Limits {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[0-9]+(\.[0-9]+)?m?$"))]
    pub cpu: Option<String>,
    #[schemars(pattern(r"^[0-9]+(Ki|Mi|Gi|Ti)?$"))]
    pub memory: String,
}

/// Kubernetes quantities, as strings (`250m`, `1`, `512Mi`).
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CpuMemory {
    #[schemars(pattern(r"^[0-9]+(\.[0-9]+)?m?$"))]
    pub cpu: String,
    #[schemars(pattern(r"^[0-9]+(Ki|Mi|Gi|Ti)?$"))]
    pub memory: String,
}

/// What a probe checks; the chart adds the timing.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub enum ProbeHandler {
    HttpGet(HttpGet),
    Grpc(Port),
    TcpSocket(Port),
    Exec(Exec),
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct HttpGet {
    pub path: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Port {
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Exec {
    pub command: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SecurityValues {
    /// User and group of the pod (non-root).
    #[schemars(range(min = 1))]
    pub run_as_user: u32,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
}

/// A container variable: a literal `value`, or a key of a Secret.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvEntry {
    Value {
        name: String,
        value: String,
    },
    #[serde(rename_all = "camelCase")]
    Secret {
        name: String,
        secret_key_ref: KeyRef,
    },
    /// A field of the pod, through the downward API.
    #[serde(rename_all = "camelCase")]
    Field {
        name: String,
        field_ref: FieldRef,
    },
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    pub field_path: String,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct KeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Ingress {
    pub name: String,
    pub class_name: String,
    pub host: String,
    pub path: String,
    /// The backend Service.
    pub service: String,
    /// The backend port: a number, or `use-annotation` for the ALB action Argo Rollouts writes.
    pub port: PortRef,
    pub annotations: BTreeMap<String, String>,
    /// TLS through cert-manager (nginx); the ALB uses an ACM certificate instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<IngressTls>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IngressTls {
    /// The Secret cert-manager fills with the certificate.
    pub secret_name: String,
}

/// A Service port by number, or by name.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Migration {
    pub command: Vec<String>,
}

/// The edges of the dependency graph that touch this service.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceNetwork {
    /// Services (pods) that call this one.
    pub from: Vec<String>,
    /// Peers outside the namespace that reach it: the ingress controller's
    /// namespace (nginx), the VPC (ALB ip targets), anyone (LoadBalancer).
    pub outside: Vec<Outside>,
    /// Ports an extra LoadBalancer or NodePort Service publishes to any address.
    pub public: Vec<PortValues>,
    /// Services this one calls, with their container ports.
    pub to_services: Vec<PodPort>,
    /// Backing resources it uses: in-cluster pods, or the private network for managed ones.
    /// The migration Job gets these too.
    pub to_resources: Vec<Peer>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PodPort {
    pub name: String,
    /// Every port of the service it calls.
    pub ports: Vec<PortValues>,
}

/// A port of a workload: on its container, its Services and its network policy.
#[derive(Serialize, JsonSchema, Clone)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PortValues {
    pub name: String,
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: u16,
    #[schemars(range(min = 1, max = 65535))]
    pub service_port: u16,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// A Service of a workload, as the plan decides it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KubeService {
    pub name: String,
    /// `ClusterIP`, `LoadBalancer` or `NodePort`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A headless Service (`clusterIP: None`).
    pub headless: bool,
    pub ports: Vec<PortValues>,
}

#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Outside {
    Namespace { namespace: String },
    Cidr { cidr: String },
}

#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Peer {
    Pods {
        pods: String,
        port: u16,
    },
    /// Pods another controller labels (Strimzi's Kafka pods).
    Labels {
        labels: BTreeMap<String, String>,
        port: u16,
    },
    Cidr {
        cidr: String,
        port: u16,
    },
}

/// An in-cluster Kafka (Strimzi): the specs of its node pool, cluster and
/// topics, and the pods allowed to connect.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KafkaValues {
    #[serde(flatten)]
    pub plan: crate::plan::kafka::KafkaPlan,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    pub clients: Vec<String>,
    /// KEDA's operator measures a consumer group's lag here (`queue_scaling`).
    pub keda: bool,
}

/// A backing resource run in the cluster: a StatefulSet with a headless Service.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Datastore {
    /// postgres, redis or mongodb: also the container's name.
    pub engine: String,
    pub image: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    #[schemars(range(min = 1))]
    pub run_as_user: u32,
    /// Where the data volume is mounted.
    pub data_path: String,
    pub writable_paths: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<EnvEntry>,
    pub resources: Resources,
    /// Size of the data volume.
    pub storage: String,
    /// StorageClass of the data volume.
    pub storage_class: String,
    /// Pods allowed to connect (services and their migration Jobs).
    pub clients: Vec<String>,
    /// KEDA's operator measures a list's length here (`queue_scaling`).
    pub keda: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<Backup>,
    /// A warm standby's refresh job, which restores into it (`plan::failover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby_refresh: Option<String>,
    /// The Secrets it reads, comma-separated: Reloader rolls it when one changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_on_change: Option<String>,
    /// A MongoDB replica set (`read_replicas`): members, their command, the
    /// key file's init container, volumes and mount, and the Job that
    /// initiates the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_set: Option<ReplicaSetValues>,
}

/// The parts of a MongoDB replica set the chart adds to its datastore
/// (`plan::replica_set` decides them; the chart places them).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ReplicaSetValues {
    #[schemars(range(min = 2))]
    pub members: u32,
    pub command: Vec<String>,
    pub init_container: serde_json::Value,
    pub volumes: serde_json::Value,
    pub volume_mount: serde_json::Value,
    /// The name of the Job and of its pods.
    pub job_name: String,
    /// The Job's annotations (ArgoCD's PostSync hook, Checkov's skips).
    pub job_annotations: serde_json::Value,
    /// The Job's spec.
    pub job: serde_json::Value,
}

/// A CronJob dumping the datastore into a PersistentVolumeClaim.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Backup {
    /// Cron syntax.
    pub schedule: String,
    /// The shell script run by `/bin/sh -c`.
    pub script: String,
    pub env: Vec<EnvEntry>,
    pub resources: Resources,
    /// Size of the backup volume.
    pub storage: String,
    /// The Job that backs up before each sync (`before = [backup]`), an
    /// ArgoCD Sync hook in the backup wave; its volume comes in that wave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predeploy: Option<String>,
    /// The container that copies the dump off the cluster (an S3 or GCS upload);
    /// with it, the dump runs as the init container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<serde_json::Value>,
    /// The ServiceAccount (with the upload role) the pod runs as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// The egress rules the upload adds to the backup's NetworkPolicy
    /// (`plan::backup::store_egress`: the store's HTTPS endpoints, on GKE
    /// the metadata server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_egress: Option<serde_json::Value>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ExternalSecrets {
    /// Name of the SecretStore and of its ServiceAccount.
    pub store: String,
    pub provider: StoreProvider,
    /// IAM role of the store's ServiceAccount (IRSA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Google service account of the store's ServiceAccount (GKE Workload Identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp_service_account: Option<String>,
    pub refresh_interval: String,
    /// The Secrets to create, sorted by name. A list rather than a map
    /// keyed by Secret name: a name such as `jwt-secret` as a key reads as a
    /// leaked credential to secret scanners.
    pub secrets: Vec<StoreEntry>,
}

/// One Secret and the entry of the external store it is copied from.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StoreEntry {
    pub name: String,
    pub path: String,
    /// The Secret's type when not Opaque (`kubernetes.io/dockerconfigjson`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub enum StoreProvider {
    /// AWS Secrets Manager, reached with the ServiceAccount's IAM role.
    Aws(AwsStore),
    /// HashiCorp Vault (KV v2), with Kubernetes authentication.
    Vault(VaultStore),
    /// Google Secret Manager, with GKE Workload Identity.
    Gcp(GcpStore),
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GcpStore {
    pub project_id: String,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AwsStore {
    pub region: String,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VaultStore {
    pub server: String,
    pub path: String,
    pub role: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Monitoring {
    /// ServiceMonitors for services with `metrics: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_monitor: Option<ServiceMonitor>,
    /// A PrometheusRule with these alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Alerts>,
    /// An AlertmanagerConfig routing the alerts to the integrations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alertmanager: Option<Alertmanager>,
    /// Grafana dashboards, by ConfigMap name: file name → dashboard JSON.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dashboards: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Alertmanager {
    /// The AlertmanagerConfig's name.
    pub name: String,
    /// Extra labels the Alertmanager `alertmanagerConfigSelector` matches.
    pub labels: BTreeMap<String, String>,
    pub spec: crate::plan::observability::AlertmanagerConfigSpec,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ServiceMonitor {
    pub path: String,
    pub interval: String,
    /// Extra labels the Prometheus `serviceMonitorSelector` matches.
    pub labels: BTreeMap<String, String>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Alerts {
    /// The PrometheusRule's name.
    pub name: String,
    /// The rule group's name.
    pub group: String,
    /// Extra labels the Prometheus `ruleSelector` matches.
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
}
