//! The resolved model: what the program means, with names resolved, defaults
//! filled in and environment overrides applied. Emitters read only this.
//!
//! **Invariant:** a `Model` exists only for a program without errors; every id
//! in it indexes its vector; vectors are sorted by name (environments in
//! promotion order), so iterating them gives stable output.

use crate::source::Span;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! id {
    ($($name:ident),*) => {$(
        /// A typed index into the model.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        pub struct $name(pub u32);
        impl $name { pub fn index(self) -> usize { self.0 as usize } }
    )*};
}
id!(ServiceId, ResourceId, EnvId, GateId, IntegrationId, ToolchainId);

// ------------------------------------------------------------ values
// Values the checker produces and the model keeps: strings with references,
// promotion rules, triggers and canary steps. The checker builds them; the
// model owns them, so nothing after checking imports `check`.

/// A string, possibly with interpolated references.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Template {
    pub parts: Vec<TPart>,
}

impl Template {
    pub fn literal(s: impl Into<String>) -> Self {
        Template { parts: vec![TPart::Lit(s.into())] }
    }
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                TPart::Lit(s) => out.push_str(s),
                TPart::Ref(_) => return None,
            }
        }
        Some(out)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum TPart {
    Lit(String),
    Ref(AttrRef),
}

/// What an attribute reference points at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum AttrTarget {
    Service(String),
    Resource(String),
    Project,
    Env,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct AttrRef {
    pub target: AttrTarget,
    pub attr: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum Promotion {
    /// Deployed on a push to any of these branches: names or patterns
    /// (`release/*`, `feature/**`; see `plan::branches`), never empty.
    OnPush(Vec<String>),
    OnTag(String),
    /// Promoted by a person from another environment (by id, resolved).
    Manual {
        from: Option<EnvId>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum Trigger {
    PullRequest,
    Push(Option<String>),
    Tag(String),
    Schedule(String),
    Manual,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum Step {
    Weight(f64),
    /// `None` waits for a manual promotion.
    Pause(Option<u64>),
    Analysis,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Model {
    pub project: Project,
    pub toolchains: Vec<Toolchain>,
    pub services: Vec<Service>,
    pub resources: Vec<Resource>,
    pub environments: Vec<Environment>,
    pub gates: Vec<Gate>,
    pub integrations: Vec<Integration>,
    pub pipeline: Pipeline,
    pub observability: Observability,
    /// The team's sealed secrets and where the program reads each secret:
    /// inputs beside the program, not part of its meaning.
    #[serde(skip)]
    pub sealed: Sealed,
}

/// The team's SealedSecrets (`secret_store = sealed_secrets { dir = ... }`):
/// the checker records where each secret is referenced, the driver reads
/// and checks `<dir>/<env>/<secret>.yaml` (`deployc::compile`), the plan
/// writes them into the output.
#[derive(Clone, Debug, Default)]
pub struct Sealed {
    /// Secret name → the first place the program reads it (`secret("x")`,
    /// a `pull_secrets` entry).
    pub secret_refs: BTreeMap<String, Span>,
    /// Resource name → the first reference to one of its attributes (`db.url`).
    pub resource_refs: BTreeMap<String, Span>,
    /// The `dir` value of the secret store.
    pub dir_span: Option<Span>,
    /// (environment, secret) → the checked SealedSecret of its file.
    pub files: BTreeMap<(String, String), SealedFile>,
}

/// A SealedSecret the team sealed with kubeseal, as checked: only the
/// fields deployc writes back out (re-serialized, never pasted).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SealedFile {
    /// The file, relative to the program's folder.
    pub path: String,
    /// `sealedsecrets.bitnami.com/*` annotations (the sealing scope).
    pub annotations: BTreeMap<String, String>,
    /// Key → ciphertext (base64).
    pub encrypted_data: BTreeMap<String, String>,
    /// `spec.template`: the Secret's type, labels, annotations and immutability.
    pub secret_type: Option<String>,
    pub template_labels: BTreeMap<String, String>,
    pub template_annotations: BTreeMap<String, String>,
    pub immutable: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Project {
    pub name: String,
    /// The `cloud` field (or the project declaration), for diagnostics about targets.
    #[serde(skip)]
    pub span: Option<Span>,
    pub repository: String,
    pub branch: String,
    pub registry: Registry,
    pub cloud: Cloud,
    pub gitops: GitOps,
    pub domain: Option<String>,
    pub dns: Option<Dns>,
    pub secret_store: SecretStore,
    pub compliance: Vec<String>,
    pub team: Option<String>,
    /// Admission policies for what the program promises (`policy = kyverno`).
    #[serde(default)]
    pub policy: Option<PodPolicy>,
    /// The service mesh every environment's pods join (`mesh = istio | linkerd`).
    #[serde(default)]
    pub mesh: Option<Mesh>,
    /// AWS Backup of the Terraform state bucket (`state_backup { ... }`).
    #[serde(default)]
    pub state_backup: Option<Backup>,
}

/// `mesh = istio | linkerd`: sidecars with mutual TLS, authorization from the graph.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum Mesh {
    Istio,
    Linkerd,
}

impl Mesh {
    pub fn word(self) -> &'static str {
        match self {
            Mesh::Istio => "istio",
            Mesh::Linkerd => "linkerd",
        }
    }

    /// The ports the mesh's sidecar listens on inside every pod (Istio's
    /// Envoy and agent; Linkerd's proxy): an application port among them
    /// collides (E0390).
    pub fn reserved_ports(self) -> &'static [u16] {
        match self {
            Mesh::Istio => &[15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090],
            Mesh::Linkerd => &[4140, 4143, 4190, 4191],
        }
    }
}

/// `policy = kyverno { ... }`: admission policies in every environment.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct PodPolicy {
    /// Refuse (true) or only report (false) a pod that breaks a promise.
    pub enforce: bool,
    /// Image prefixes allowed besides the program's registry and the engines'.
    pub registries: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum Registry {
    Ecr { region: String, account: Option<String> },
    Ghcr { owner: String },
    DockerHub { namespace: String },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum Cloud {
    /// `account`: the AWS account the clusters and the pipeline roles live in.
    Aws {
        region: String,
        zones: Vec<String>,
        cluster: EksCluster,
        account: Option<String>,
    },
    Gcp {
        project: String,
        region: String,
        cluster: GkeCluster,
    },
    Azure {
        location: String,
        cluster: AksCluster,
    },
}

impl Cloud {
    /// The cloud's keyword: `aws`, `gcp` or `azure`.
    pub fn kind(&self) -> &'static str {
        match self {
            Cloud::Aws { .. } => "aws",
            Cloud::Gcp { .. } => "gcp",
            Cloud::Azure { .. } => "azure",
        }
    }
    /// Whether the Terraform output for this cloud creates a managed resource
    /// of this engine (`aurora`: Aurora PostgreSQL rather than plain).
    /// AWS hosts every engine; GCP (Cloud SQL, Memorystore) and Azure
    /// (PostgreSQL flexible server, Azure Cache for Redis) PostgreSQL and Redis.
    pub fn hosts(&self, engine: &Engine, aurora: bool) -> bool {
        match self {
            Cloud::Aws { .. } => true,
            Cloud::Gcp { .. } | Cloud::Azure { .. } => {
                matches!(engine, Engine::Redis) || (matches!(engine, Engine::Postgres) && !aurora)
            }
        }
    }
}

/// The EKS cluster each environment's Terraform module creates.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct EksCluster {
    /// Kubernetes minor version, e.g. "1.33".
    pub version: String,
    /// EC2 instance types of the managed node group.
    pub node_types: Vec<String>,
    pub min_nodes: u32,
    pub max_nodes: u32,
}

impl Default for EksCluster {
    fn default() -> Self {
        EksCluster { version: "1.33".into(), node_types: vec!["m6i.large".into()], min_nodes: 2, max_nodes: 6 }
    }
}

/// The node pool and release channel of the GKE clusters a GCP program creates.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct GkeCluster {
    /// Compute Engine machine type of the node pool, e.g. "e2-standard-4".
    pub machine_type: String,
    pub min_nodes: u32,
    pub max_nodes: u32,
    /// "RAPID", "REGULAR" or "STABLE".
    pub release_channel: String,
}

impl Default for GkeCluster {
    fn default() -> Self {
        GkeCluster {
            machine_type: "e2-standard-4".into(),
            min_nodes: 1,
            max_nodes: 6,
            release_channel: "REGULAR".into(),
        }
    }
}

/// The node pools of the AKS clusters an Azure program creates.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct AksCluster {
    /// Virtual machine size of the node pools, e.g. "Standard_D4s_v5".
    pub vm_size: String,
    pub min_nodes: u32,
    pub max_nodes: u32,
}

impl Default for AksCluster {
    fn default() -> Self {
        AksCluster { vm_size: "Standard_D4s_v5".into(), min_nodes: 2, max_nodes: 6 }
    }
}

/// A repository hosting service the output knows (webhooks, Dependabot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoHost {
    GitHub,
    GitLab,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum GitOpsMode {
    Application,
    ApplicationSet,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GitOps {
    pub namespace: String,
    pub mode: GitOpsMode,
    pub revision: String,
    pub path: String,
    /// The environments' sync settings (`self_heal`, `prune`, `retry`).
    #[serde(default)]
    pub sync: SyncSettings,
    /// The program's secret ArgoCD verifies the repository's push webhook
    /// with (`webhook = secret("...")`), if the repository notifies it.
    #[serde(default)]
    pub webhook: Option<String>,
}

/// How ArgoCD syncs the environments' Applications: whether an automatic
/// sync reverts changes made in the cluster by hand and deletes what the
/// tree no longer holds, and how often a failed sync is retried. Whether an
/// environment syncs automatically at all follows its promotion
/// (`on_push`/`on_tag` do, `manual` waits for the deploy job's sync).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct SyncSettings {
    pub self_heal: bool,
    pub prune: bool,
    pub retry: i64,
}

/// The retry limits `retry` accepts: 0 never retries; beyond 50 a broken
/// sync keeps retrying (every 5 minutes) for hours after the deploy gave up.
pub const SYNC_RETRY: std::ops::RangeInclusive<i64> = 0..=50;

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings { self_heal: true, prune: true, retry: 10 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Dns {
    pub zone: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum SecretStore {
    Kubernetes,
    SealedSecrets {
        controller_namespace: String,
        /// The folder, relative to the program's, of the team's kubeseal
        /// output: `<dir>/<env>/<secret>.yaml`.
        #[serde(default)]
        dir: Option<String>,
    },
    AwsSecretsManager {
        region: String,
        prefix: String,
    },
    Vault {
        address: String,
        path: String,
        role: String,
    },
    /// Google Secret Manager of a GCP project, read through GKE Workload Identity.
    GcpSecretManager {
        project: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Toolchain {
    pub id: ToolchainId,
    pub name: String,
    pub family: String,
    pub version: Option<String>,
    pub install: Option<String>,
    pub lint: Vec<String>,
    pub typecheck: Vec<String>,
    /// Unit test commands (`test`), run in CI without any service.
    pub test: Vec<String>,
    /// Integration test commands, run in CI with the service's databases and
    /// caches as service containers, and against a deployed environment
    /// whose `after` lists `integration_tests`.
    pub integration: Vec<String>,
    /// Smoke test commands, run against a deployed environment whose `after`
    /// lists `smoke_tests`.
    pub smoke: Vec<String>,
    /// Performance test commands, run against a deployed environment whose
    /// `after` lists `performance_tests`.
    pub performance: Vec<String>,
    pub coverage: Option<String>,
    pub build: Option<String>,
    pub cache: Option<String>,
    /// Benchmarks the pull-request check compares (`benchmark { ... }`).
    #[serde(default)]
    pub benchmark: Option<Benchmark>,
}

/// A toolchain's benchmarks: the command, the file it writes (relative to
/// the build context) and that file's format, as github-action-benchmark
/// names its tools (`pytest`, `go`, `benchmarkjs`, ...).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Benchmark {
    pub command: String,
    pub output: String,
    pub format: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Quantity {
    pub request: u64,
    pub limit: u64,
}

/// A worker scaled on the depth of a queue it reads (`queue_scaling`):
/// a KEDA ScaledObject between its replica range's bounds.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct QueueScaling {
    /// The queue, Redis or Kafka resource it reads.
    pub resource: ResourceId,
    /// The Redis list or the Kafka topic (none for a queue).
    pub name: Option<String>,
    /// The Kafka consumer group.
    pub group: Option<String>,
    /// Messages waiting per replica (KEDA's target).
    pub per_replica: u32,
}

/// A service's cpu: a request and, unless the program wrote `request..`,
/// a limit (millicores). Only cpu may go without a limit: a pod over its
/// cpu request is only throttled when the node is busy, while a pod
/// without a memory limit can take the node's memory and get other pods
/// OOM-killed, so memory stays a [`Quantity`] with its limit.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Cpu {
    pub request: u64,
    pub limit: Option<u64>,
}

impl From<Quantity> for Cpu {
    fn from(q: Quantity) -> Cpu {
        Cpu { request: q.request, limit: Some(q.limit) }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum Replicas {
    Fixed(u32),
    Auto { min: u32, max: u32 },
}

impl Replicas {
    pub fn max(self) -> u32 {
        match self {
            Replicas::Fixed(n) => n,
            Replicas::Auto { max, .. } => max,
        }
    }
    pub fn min(self) -> u32 {
        match self {
            Replicas::Fixed(n) => n,
            Replicas::Auto { min, .. } => min,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum Probe {
    Http { path: String, port: u16 },
    Grpc { port: u16 },
    Tcp { port: u16 },
    Exec { command: Vec<String> },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum Exposure {
    Internal,
    LoadBalancer,
    Ingress {
        host: Template,
        path: String,
        tls: bool,
        class: String,
        /// ACM certificate ARN (ALB), if the program names one.
        certificate: Option<Template>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum EnvValue {
    Literal(Template),
    Ref(AttrRef),
    Secret { name: String, key: Option<String> },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Migrations {
    pub command: Vec<String>,
    pub tool: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Security {
    pub run_as_user: u32,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
    pub writable_paths: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    #[serde(skip)]
    pub span: Option<Span>,
    pub image: String,
    pub build_context: String,
    pub dockerfile: String,
    pub build_target: Option<String>,
    /// Built here (with its toolchain) or prebuilt; `image`, `build_context`,
    /// `dockerfile` and `build_target` only mean something for a built one.
    pub source: ImageSource,
    pub framework: Option<String>,
    /// The container's command and arguments; empty keeps the image's
    /// ENTRYPOINT and CMD.
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// The container port; `None` for a workload nothing connects to (a
    /// worker, a job, a cron job, or a service that only makes calls).
    pub port: Option<u16>,
    pub service_port: Option<u16>,
    pub expose: Exposure,
    pub health: Option<Probe>,
    pub readiness: Option<Probe>,
    pub cpu: Cpu,
    pub memory: Quantity,
    pub replicas: Replicas,
    pub target_cpu: u32,
    pub env: BTreeMap<String, EnvValue>,
    pub migrations: Option<Migrations>,
    /// Services this one depends on: declared and derived from references, sorted.
    pub depends_on: Vec<ServiceId>,
    /// Resources this one uses: declared and derived from references, sorted.
    pub uses: Vec<ResourceId>,
    pub security: Security,
    pub metrics: bool,
    /// Metrics this service exposes beside the standard ones, charted on
    /// its dashboard and the environment's business dashboard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_metrics: Vec<AppMetric>,
    /// The service's availability objective (`slo { ... }`, `plan::slo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
    /// How it runs in local development (`local { ... }`); `None` runs the
    /// image as built.
    #[serde(default)]
    pub local: Option<LocalDev>,
    /// A Vertical Pod Autoscaler for the service (`vpa = ...`).
    #[serde(default)]
    pub vpa: Option<VpaMode>,
    // ---- workload kinds and per-service strategy (issue 11)
    /// What runs: a long-running server, a worker, a Job per release or a CronJob.
    #[serde(default)]
    pub kind: WorkloadKind,
    /// The service's own rollout strategy (`strategy = ...`), replacing the
    /// environment's; `None` follows the environment.
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// Named ports beside the main one (`http`): gRPC, metrics, ...
    #[serde(default)]
    pub ports: Vec<NamedPort>,
    /// Services beside the main one, each with its own name and type.
    #[serde(default)]
    pub services: Vec<ExtraService>,
    /// Scaling on a queue's depth (KEDA) instead of cpu (the HPA).
    #[serde(default)]
    pub queue_scaling: Option<QueueScaling>,
    /// The names of the canary and preview Services (`<name>-canary`, `<name>-preview` by default).
    #[serde(default)]
    pub canary_service: Option<String>,
    #[serde(default)]
    pub preview_service: Option<String>,
    /// Pod details (issue 11, item 5).
    #[serde(default)]
    pub pod: PodDetails,
}

/// What a service says about its pods beyond the container.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Default)]
pub struct PodDetails {
    /// The ServiceAccount's name; the service's name when absent.
    pub service_account: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub node_selector: BTreeMap<String, String>,
    /// Node labels preferred, not required (`prefer_nodes`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prefer_nodes: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    /// `spread`: `Some(true)` zones, `Some(false)` none, `None` the plan's default.
    pub spread: Option<bool>,
    pub pull_secrets: Vec<String>,
    pub timing: ProbeTiming,
    pub startup: Option<Probe>,
    /// Config files: mount path → content.
    pub files: BTreeMap<String, String>,
}

/// A taint the pods tolerate.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Toleration {
    pub key: String,
    /// `None`: any value (operator `Exists`).
    pub value: Option<String>,
    /// `None`: every effect.
    pub effect: Option<String>,
}

/// Probe timings, in seconds; `None` keeps the default.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq, Default)]
pub struct ProbeTiming {
    pub period: Option<u32>,
    pub timeout: Option<u32>,
    pub failure_threshold: Option<u32>,
    pub success_threshold: Option<u32>,
    pub initial_delay: Option<u32>,
    /// `probes { liveness { ... } }`: one probe's own timings, each field
    /// replacing the shared one above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Box<ProbeTiming>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Box<ProbeTiming>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<Box<ProbeTiming>>,
}

/// Parses a toleration as `kubectl taint` writes a taint: `key=value:Effect`,
/// `key:Effect` or `key`. `Err` says what is wrong.
pub fn parse_toleration(text: &str) -> Result<Toleration, &'static str> {
    let (kv, effect) = match text.rsplit_once(':') {
        Some((kv, e)) => (kv, Some(e)),
        None => (text, None),
    };
    if let Some(e) = effect {
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&e) {
            return Err("the effect is one of NoSchedule, PreferNoSchedule, NoExecute");
        }
    }
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (kv, None),
    };
    if crate::model::label_key_problem(key).is_some() {
        return Err("the key is a Kubernetes label key (`[prefix/]name`)");
    }
    if let Some(v) = value {
        if label_value_problem(v).is_some() {
            return Err("the value is a Kubernetes label value (63 characters at most: letters, digits, `-_.`)");
        }
    }
    Ok(Toleration { key: key.into(), value: value.map(str::to_string), effect: effect.map(str::to_string) })
}

fn dns_label_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// What is wrong with a Kubernetes label (or annotation) key: an optional
/// DNS-subdomain prefix and `/`, then a name of 63 characters at most,
/// alphanumeric at both ends, with `-_.` inside.
pub fn label_key_problem(key: &str) -> Option<&'static str> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.len() > 253 || !p.split('.').all(|l| dns_label_ok(l, 63)) {
            return Some("the prefix before `/` must be a DNS subdomain (lowercase letters, digits, `-`, `.`)");
        }
    }
    if name.is_empty() || name.len() > 63 {
        return Some("the name must be 1 to 63 characters");
    }
    let edge = |c: char| c.is_ascii_alphanumeric();
    if !name.starts_with(edge) || !name.ends_with(edge) {
        return Some("the name must begin and end with a letter or digit");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Some("the name may hold only letters, digits, `-`, `_` and `.`");
    }
    None
}

/// What is wrong with a Kubernetes label value (empty is allowed).
pub fn label_value_problem(v: &str) -> Option<&'static str> {
    if v.is_empty() {
        return None;
    }
    if v.len() > 63 {
        return Some("a label value is 63 characters at most");
    }
    let edge = |c: char| c.is_ascii_alphanumeric();
    if !v.starts_with(edge) || !v.ends_with(edge) {
        return Some("a label value begins and ends with a letter or digit");
    }
    if !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Some("a label value holds only letters, digits, `-`, `_` and `.`");
    }
    None
}

/// A named port of a workload beside its main `http` port.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub port: u16,
    pub service_port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    pub app_protocol: Option<String>,
}

/// A Service of a workload beside its main one.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct ExtraService {
    pub name: String,
    pub kind: ServiceKind,
    /// The ports it serves, by name; empty serves every port.
    pub ports: Vec<String>,
}

/// The type of a Kubernetes Service.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum ServiceKind {
    ClusterIp,
    LoadBalancer,
    NodePort,
    /// A ClusterIP Service without a cluster IP (`clusterIP: None`): DNS names each pod.
    Headless,
}

/// What kind of workload a service is.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum WorkloadKind {
    /// A long-running server: a Deployment or Rollout, Services for its port.
    #[default]
    Service,
    /// A long-running process nothing connects to (a queue consumer): a
    /// Deployment or Rollout, no port, no Service, no ingress.
    Worker,
    /// A Job run once per release, after the release is live (an ArgoCD
    /// PostSync hook; a Helm post-install/post-upgrade hook).
    Job(Batch),
    /// A CronJob on a schedule.
    Cron { schedule: String, concurrency: Concurrency, batch: Batch },
}

impl WorkloadKind {
    /// Long-running: a Deployment or Rollout (services and workers).
    pub fn long_running(&self) -> bool {
        matches!(self, WorkloadKind::Service | WorkloadKind::Worker)
    }
    pub fn word(&self) -> &'static str {
        match self {
            WorkloadKind::Service => "service",
            WorkloadKind::Worker => "worker",
            WorkloadKind::Job(_) => "job",
            WorkloadKind::Cron { .. } => "cron",
        }
    }
}

/// How a job or cron job's runs are bounded.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Batch {
    /// Retries of a failed pod (`backoffLimit`).
    pub retries: u32,
    /// How long a run may take before it is killed (`activeDeadlineSeconds`).
    pub deadline_secs: u64,
}

/// What a cron job does when a run is due while the last is still running.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum Concurrency {
    Forbid,
    Replace,
    Allow,
}

impl Concurrency {
    pub fn k8s(self) -> &'static str {
        match self {
            Concurrency::Forbid => "Forbid",
            Concurrency::Replace => "Replace",
            Concurrency::Allow => "Allow",
        }
    }
}

/// A service's local-development settings (the compose target).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Default)]
pub struct LocalDev {
    /// Where in the container the build context is synced on change.
    pub sync: Option<String>,
    /// The command run instead of the image's; empty keeps the image's.
    pub command: Vec<String>,
    /// The port on the developer's machine, when the program names one.
    pub port: Option<u16>,
    /// Paths of the build context not synced.
    pub ignore: Vec<String>,
}

/// Where a service's image comes from.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum ImageSource {
    /// CI builds the image from the repository and pushes it to the
    /// project's registry as `image`; CD sets its tag per environment.
    Build { language: ToolchainId },
    /// A prebuilt image, deployed exactly as written (a tag or a digest):
    /// CI does not build it, CD does not retag it.
    Prebuilt { reference: String },
}

/// A service CI builds from the repository, with its toolchain. It reads as
/// the service (`Deref`), so code written for services takes it as is.
#[derive(Clone, Copy, Debug)]
pub struct Built<'m> {
    pub service: &'m Service,
    pub toolchain: &'m Toolchain,
}

impl std::ops::Deref for Built<'_> {
    type Target = Service;
    fn deref(&self) -> &Service {
        self.service
    }
}

impl Service {
    /// The toolchain of a service built here; `None` for a prebuilt image.
    pub fn language(&self) -> Option<ToolchainId> {
        match self.source {
            ImageSource::Build { language } => Some(language),
            ImageSource::Prebuilt { .. } => None,
        }
    }
    /// The full reference of a prebuilt image.
    pub fn prebuilt(&self) -> Option<&str> {
        match &self.source {
            ImageSource::Prebuilt { reference } => Some(reference),
            ImageSource::Build { .. } => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Redis,
    MongoDb,
    Queue,
    Bucket,
    Kafka,
}

impl Engine {
    pub fn word(&self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Redis => "redis",
            Engine::MongoDb => "mongodb",
            Engine::Queue => "queue",
            Engine::Bucket => "bucket",
            Engine::Kafka => "kafka",
        }
    }
    /// Queues and buckets only exist as managed cloud resources.
    pub fn can_run_in_cluster(&self) -> bool {
        matches!(self, Engine::Postgres | Engine::Redis | Engine::MongoDb | Engine::Kafka)
    }
    /// Whether pods reach it through the cloud's APIs, and so need cloud
    /// credentials (on AWS an IRSA role): queues and buckets always, a
    /// managed Redis too (ElastiCache authenticates with IAM).
    pub fn reached_through_api(&self, managed: bool) -> bool {
        match self {
            Engine::Queue | Engine::Bucket => true,
            Engine::Redis => managed,
            Engine::Postgres | Engine::MongoDb | Engine::Kafka => false,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
pub enum Placement {
    Managed,
    InCluster,
}

/// How long a copy takes to reach the secondary region: S3 Replication Time
/// Control's 15 minutes for the off-cluster dumps, and as long again for an
/// AWS Backup copy job started when its backup completes.
pub const REPLICATION_LAG_MS: u64 = 15 * 60_000;

/// How often a warm standby (`standby_of`) restores its primary's newest
/// replicated backup: what a failover to it loses on top of the replica's age.
pub const STANDBY_REFRESH_MS: u64 = 15 * 60_000;

/// The most data a failover of `r` to its secondary region can lose, in ms,
/// and how: the newest copy there is one backup interval plus the copy old.
/// Managed databases are copied by AWS Backup, which runs at most hourly.
pub fn failover_point(r: &crate::model::Resource, placement: crate::model::Placement) -> Option<(u64, String)> {
    use crate::model::Placement;
    const HOUR: u64 = 3_600_000;
    let region = r.dr_region.as_deref()?;
    let b = r.backup.as_ref()?;
    if !matches!(r.engine, crate::model::Engine::Postgres | crate::model::Engine::MongoDb) {
        return None;
    }
    let every = match (placement, b.schedule.as_str()) {
        (Placement::Managed, "every_30m" | "hourly") => HOUR,
        (_, "every_30m") => HOUR / 2,
        (_, "hourly") => HOUR,
        (_, "every_6h") => 6 * HOUR,
        (_, "weekly") => 7 * 24 * HOUR,
        _ => 24 * HOUR,
    };
    let how = match placement {
        Placement::InCluster => "dumps copied by S3 replication (15 minutes with Replication Time Control)",
        Placement::Managed => "AWS Backup copies, at most hourly, each taking about 15 minutes",
    };
    Some((every + REPLICATION_LAG_MS, format!("{how} to {region}")))
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Backup {
    pub schedule: String,
    pub retain_days: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Resource {
    pub id: ResourceId,
    pub name: String,
    #[serde(skip)]
    pub span: Option<Span>,
    pub engine: Engine,
    pub version: String,
    pub placement: Placement,
    pub aurora: bool,
    /// Aurora Serverless v2 capacity (`serverless = min..max`), in half ACUs
    /// (0.5 ACU = 1), so the table stays in whole numbers.
    #[serde(default)]
    pub serverless: Option<(u32, u32)>,
    pub instance: String,
    pub storage: u64,
    pub read_replicas: u32,
    pub multi_az: bool,
    pub cluster: bool,
    pub replicas: u32,
    pub backup: Option<Backup>,
    /// The recovery point objective (`recovery { rpo = ... }`), in ms.
    #[serde(default)]
    pub rpo_ms: Option<u64>,
    /// The recovery time objective (`recovery { rto = ... }`), in ms.
    #[serde(default)]
    pub rto_ms: Option<u64>,
    /// The secondary AWS region the production backups are copied to
    /// (`recovery { region = ... }`).
    #[serde(default)]
    pub dr_region: Option<String>,
    /// An RDS Proxy between the pods and the managed database (`proxy`).
    #[serde(default)]
    pub proxy: bool,
    pub database: String,
    pub fifo: bool,
    pub retention_ms: u64,
    pub dead_letter: bool,
    pub visibility_timeout_ms: u64,
    pub versioning: bool,
    pub expire_after_ms: Option<u64>,
    /// Kafka: brokers, topics and partitions per topic.
    pub brokers: u32,
    pub topics: Vec<String>,
    pub partitions: u32,
    // ---- in-cluster sizing and auth (issue 11, item 6)
    /// Clients authenticate with a password from the connection Secret
    /// (`auth = false`: a Redis without a password, as many apps expect).
    #[serde(default = "yes")]
    pub auth: bool,
    /// The StatefulSet's cpu and memory when it runs in the cluster (the
    /// engine's defaults when absent).
    #[serde(default)]
    pub cpu: Option<Quantity>,
    #[serde(default)]
    pub memory: Option<Quantity>,
    /// The StorageClass of its data volume in the cluster (`storage_class`;
    /// the generated class when absent).
    #[serde(default)]
    pub storage_class: Option<String>,
    /// CloudWatch alarm thresholds the program sets (`alarms { cpu = 90% }`),
    /// by field name, in the program's units (see [`AlarmField`]); the
    /// alarm table's defaults apply to the others.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alarms: BTreeMap<String, f64>,
}

/// A CloudWatch alarm threshold a program may set (`alarms { ... }` on a
/// managed resource or an environment's resource override): its field, the
/// unit it is written and kept in, and the engines whose alarms read it.
/// `plan::alarms`' table names the same fields (a test there holds the two
/// together).
pub struct AlarmField {
    pub name: &'static str,
    pub unit: AlarmUnit,
    pub engines: &'static [Engine],
}

/// The unit of an alarm threshold as the program writes it and the model
/// keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmUnit {
    /// `90%`, kept as 90.0.
    Percent,
    /// `10Gi`, kept in bytes.
    Bytes,
    /// `30s`, kept in milliseconds.
    Duration,
    /// `5000`, a count.
    Count,
}

pub const ALARM_FIELDS: &[AlarmField] = &[
    AlarmField { name: "cpu", unit: AlarmUnit::Percent, engines: &[Engine::Postgres, Engine::MongoDb, Engine::Redis] },
    AlarmField { name: "free_storage", unit: AlarmUnit::Bytes, engines: &[Engine::Postgres] },
    AlarmField { name: "free_memory", unit: AlarmUnit::Bytes, engines: &[Engine::Postgres, Engine::MongoDb] },
    AlarmField { name: "memory_used", unit: AlarmUnit::Percent, engines: &[Engine::Redis] },
    AlarmField { name: "replica_lag", unit: AlarmUnit::Duration, engines: &[Engine::Postgres, Engine::MongoDb] },
    AlarmField { name: "age", unit: AlarmUnit::Duration, engines: &[Engine::Queue] },
    AlarmField { name: "depth", unit: AlarmUnit::Count, engines: &[Engine::Queue] },
    AlarmField { name: "dead_letters", unit: AlarmUnit::Count, engines: &[Engine::Queue] },
    AlarmField { name: "offline_partitions", unit: AlarmUnit::Count, engines: &[Engine::Kafka] },
];

impl Resource {
    /// The alarm thresholds this resource's CloudWatch alarms read, when it
    /// is managed: by engine, less what its shape lacks (Aurora has no
    /// allocated storage to run out of, a queue without a dead-letter queue
    /// no dead letters).
    pub fn alarm_fields(&self) -> Vec<&'static AlarmField> {
        ALARM_FIELDS
            .iter()
            .filter(|a| a.engines.contains(&self.engine))
            .filter(|a| !(a.name == "free_storage" && self.aurora))
            .filter(|a| a.name != "dead_letters" || self.dead_letter)
            .collect()
    }
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum Surge {
    Percent(f64),
    Count(u32),
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct Analysis {
    pub provider: Option<String>,
    pub success_rate: f64,
    pub max_latency_ms: Option<u64>,
    pub interval_ms: u64,
    pub count: u32,
    pub failure_limit: u32,
    /// Measurements without data tolerated before the rollout pauses.
    pub inconclusive_limit: u32,
    /// The program's own metrics, by name.
    pub custom: Vec<CustomMetric>,
}

/// A metric the program writes itself: a query and its conditions on `result`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct CustomMetric {
    pub name: String,
    pub query: String,
    pub success: String,
    pub failure: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum StrategyKind {
    Rolling {
        max_surge: Surge,
        max_unavailable: Surge,
    },
    Canary {
        steps: Vec<Step>,
        analysis: Option<Analysis>,
        abort_error_rate: Option<f64>,
        abort_latency_ms: Option<u64>,
    },
    BlueGreen {
        auto_promote: bool,
        auto_promote_after_ms: Option<u64>,
        scale_down_delay_ms: u64,
        analysis: Option<Analysis>,
        /// Run the analysis again after the switch (postPromotionAnalysis).
        analyze_after_switch: bool,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct Strategy {
    /// The `strategy` declaration it came from, if named.
    pub name: Option<String>,
    pub kind: StrategyKind,
}

/// A service as deployed in one environment, overrides applied.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Deployment {
    pub service: ServiceId,
    pub replicas: Replicas,
    pub cpu: Cpu,
    pub memory: Quantity,
    pub env: BTreeMap<String, EnvValue>,
    /// The HPA's cpu utilisation target here (the service's unless overridden).
    #[serde(default)]
    pub target_cpu: u32,
    /// How this service rolls out here: its own strategy, else the
    /// environment's; a worker follows a progressive environment with a
    /// plain rolling update (it takes no traffic to split or analyse), and
    /// a job or cron job has no rollout (rolling, unused).
    pub strategy: Strategy,
}

/// A resource as provided in one environment, overrides applied.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceUse {
    pub resource: ResourceId,
    pub placement: Placement,
    pub instance: String,
    pub read_replicas: u32,
    pub multi_az: bool,
    pub storage: u64,
    /// The StatefulSet's cpu and memory here, when the program sets them.
    #[serde(default)]
    pub cpu: Option<Quantity>,
    #[serde(default)]
    pub memory: Option<Quantity>,
    /// The resource's alarm thresholds with this environment's
    /// `alarms { ... }` laid over them, field by field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alarms: BTreeMap<String, f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Environment {
    pub id: EnvId,
    pub name: String,
    #[serde(skip)]
    pub span: Option<Span>,
    pub namespace: String,
    pub cluster: String,
    /// The cloud of the cluster it runs on, when the environment names one
    /// (`cloud = gcp { ... }`); else the project's. See [`Model::cloud_of`].
    #[serde(default)]
    pub cloud: Option<Cloud>,
    /// The `cloud` field, for diagnostics about what that cloud can host.
    #[serde(skip)]
    pub cloud_span: Option<Span>,
    pub domain: String,
    pub strategy: Strategy,
    pub promote: Promotion,
    pub production: bool,
    pub requires: Vec<GateId>,
    pub approvers: Vec<String>,
    pub deployments: Vec<Deployment>,
    pub resources: Vec<ResourceUse>,
    pub notify: Vec<IntegrationId>,
    pub before: Vec<BeforeHook>,
    pub after: Vec<AfterHook>,
    pub multi_az: bool,
    /// Edge protection of the environment's ALB (`edge { ... }`), if declared.
    pub edge: Option<EdgeProtection>,
    /// Velero backups of the namespace and its volumes (`volume_backups { ... }`), if declared.
    #[serde(default)]
    pub volume_backups: Option<VolumeBackups>,
    /// When the canary runs (`risk { ... }`): only for high-risk releases; if declared.
    #[serde(default)]
    pub risk: Option<RiskRule>,
    /// The production environment this one is a warm standby of
    /// (`standby_of = production`): it takes that environment's public host
    /// when Route 53's health check of it fails, and restores its replicated
    /// database backups until then (`plan::failover`).
    #[serde(default)]
    pub standby_of: Option<String>,
    #[serde(skip)]
    #[schemars(skip)]
    pub standby_span: Option<Span>,
    /// The team's patches of generated objects, in program order.
    pub patches: Vec<Patch>,
}

/// An environment's `risk` block: the canary strategy runs only for a
/// high-risk release, which CI decides from the files changed since the
/// environment's last verified release and the commits' trailers
/// (`plan::risk`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RiskRule {
    /// Patterns of repository files whose change makes a release high-risk.
    pub paths: Vec<String>,
    /// The commit trailer line that makes a release high-risk (`Risk: high`).
    pub trailer: String,
    #[serde(skip)]
    #[schemars(skip)]
    pub span: Option<Span>,
    #[serde(skip)]
    #[schemars(skip)]
    pub path_spans: Vec<Option<Span>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub trailer_span: Option<Span>,
}

/// An environment's `volume_backups` block: how often Velero backs up the
/// namespace with snapshots of its persistent volumes, and how long each
/// backup is kept. The plan (`plan::velero`) turns it into a Schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VolumeBackups {
    /// `every_30m`, `hourly`, `every_6h`, `daily` or `weekly`.
    pub schedule: String,
    /// The backups' TTL, in whole minutes (rounded up).
    pub retain_minutes: u64,
    #[serde(skip)]
    #[schemars(skip)]
    pub span: Option<Span>,
    #[serde(skip)]
    #[schemars(skip)]
    pub retain_span: Option<Span>,
}

impl VolumeBackups {
    /// The interval of a schedule, in minutes.
    pub fn interval_minutes(schedule: &str) -> u64 {
        match schedule {
            "every_30m" => 30,
            "hourly" => 60,
            "every_6h" => 6 * 60,
            "weekly" => 7 * 24 * 60,
            _ => 24 * 60,
        }
    }

    /// The TTL as Go's `time.Duration` writes it (`720h0m0s`), which Velero reads.
    pub fn ttl(&self) -> String {
        format!("{}h{}m0s", self.retain_minutes / 60, self.retain_minutes % 60)
    }
}

/// An environment's `edge` block: what guards its Application Load
/// Balancer (AWS). The plan (`plan::edge`) turns it into the web ACL, its
/// logging and the Ingress annotations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EdgeProtection {
    /// An AWS WAF web ACL with the managed rule groups and the rate limit.
    pub waf: bool,
    /// Requests per client IP in any 5 minutes before the WAF blocks it.
    pub rate_limit: u64,
    /// Shield Advanced protection of the ALB.
    pub shield: bool,
    /// The oldest TLS version the ALB's HTTPS listener accepts, when the
    /// program states one (TLS 1.2 otherwise).
    pub min_tls: Option<MinTls>,
    /// A CloudFront distribution in front of the ALB (`cdn { ... }`), if declared.
    #[serde(default)]
    pub cdn: Option<Cdn>,
    #[serde(skip)]
    pub span: Option<Span>,
    #[serde(skip)]
    pub rate_limit_span: Option<Span>,
    #[serde(skip)]
    pub min_tls_span: Option<Span>,
}

/// An environment's `edge { cdn { ... } }`: the path patterns CloudFront
/// caches. The plan (`plan::edge`) decides the distribution around them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cdn {
    /// CloudFront path patterns (`/static/*`) cached at the edge, in program order.
    pub paths: Vec<String>,
    #[serde(skip)]
    #[schemars(skip)]
    pub span: Option<Span>,
    /// The span of each path, in the order of `paths`.
    #[serde(skip)]
    #[schemars(skip)]
    pub path_spans: Vec<Option<Span>>,
}

/// Whether a CloudFront path pattern is one CloudFront accepts and that
/// leaves something to the default (uncached) behaviour: it starts with
/// `/`, is at most 255 characters of `A-Z a-z 0-9 _ - . * $ / ~ " ' @ : + &`
/// (`*` and `?` as wildcards), and is not `/*` or another pattern of only
/// `/` and `*`, which would match everything.
pub fn cdn_path_problem(p: &str) -> Option<&'static str> {
    if !p.starts_with('/') {
        return Some("a CloudFront path pattern starts with `/`");
    }
    if p.len() > 255 {
        return Some("CloudFront path patterns are at most 255 characters");
    }
    if !p.chars().all(|c| c.is_ascii_alphanumeric() || "_-.*$/~\"'@:+&?".contains(c)) {
        return Some("CloudFront path patterns hold only letters, digits and `_ - . * ? $ / ~ \" ' @ : + &`");
    }
    // `/*`, `/**`, `/*/*`: every path. (`/` alone is the root page only.)
    if p != "/" && p.chars().all(|c| c == '/' || c == '*') {
        return Some("this pattern matches every path: nothing would be left uncached");
    }
    None
}

/// The bounds AWS WAF accepts for a rate-based rule's limit (5-minute window).
pub const WAF_RATE_LIMIT: std::ops::RangeInclusive<u64> = 10..=2_000_000_000;

/// A patch the team keeps in `k8s/<env>/patches/`, applied by the
/// environment's kustomization to one generated object.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Patch {
    /// The object's kind as Kubernetes spells it (`Deployment`).
    pub kind: String,
    pub name: String,
    /// The file, relative to `k8s/<env>/patches/`.
    pub file: String,
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Environment {
    /// The progressive strategy rolling out here, which the environment's
    /// AnalysisTemplate, rollback and pipeline timing follow: the
    /// environment's own when progressive, else the first service's own
    /// progressive strategy, else the environment's (rolling).
    pub fn progressive(&self) -> &StrategyKind {
        let rolling = |k: &StrategyKind| matches!(k, StrategyKind::Rolling { .. });
        if !rolling(&self.strategy.kind) {
            return &self.strategy.kind;
        }
        self.deployments.iter().map(|d| &d.strategy.kind).find(|k| !rolling(k)).unwrap_or(&self.strategy.kind)
    }

    /// The deployment of a service here, if it runs here.
    pub fn deployment(&self, s: ServiceId) -> Option<&Deployment> {
        self.deployments.binary_search_by(|d| d.service.cmp(&s)).ok().map(|i| &self.deployments[i])
    }

    /// How a service rolls out here (the environment's strategy when it does not run here).
    pub fn strategy_of(&self, s: ServiceId) -> &StrategyKind {
        self.deployment(s).map_or(&self.strategy.kind, |d| &d.strategy.kind)
    }

    /// Whether the service runs in this environment. Deployments are in
    /// service id order, so this is a binary search.
    pub fn deploys(&self, s: ServiceId) -> bool {
        self.deployments.binary_search_by(|d| d.service.cmp(&s)).is_ok()
    }

    /// The environment this one is promoted from, if any.
    pub fn promoted_from<'m>(&self, model: &'m Model) -> Option<&'m Environment> {
        match &self.promote {
            Promotion::Manual { from: Some(f) } => Some(model.env(*f)),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gate {
    pub id: GateId,
    pub name: String,
    pub tool: GateTool,
    pub kind: String,
    pub fail_on: String,
    pub min: Option<f64>,
    pub blocking: bool,
    pub when: Vec<Trigger>,
    /// Empty means every service.
    pub services: Vec<ServiceId>,
    pub sarif: bool,
    pub config: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub enum IntegrationKind {
    Slack {
        channel: String,
        webhook: String,
        events: Vec<NotifyEvent>,
    },
    Jira {
        url: String,
        project: String,
        token: String,
    },
    PagerDuty {
        routing_key: String,
        severity: String,
    },
    Opsgenie {
        api_key: String,
        severity: String,
        region: String,
    },
    NewRelic {
        account_id: String,
        api_key: String,
        region: String,
    },
    Datadog {
        site: String,
        api_key: String,
        app_key: String,
    },
    Sentry {
        dsn: String,
        org: Option<String>,
        project: Option<String>,
        /// The CI secret CI creates releases with; empty when not given.
        auth_token: String,
    },
    Codecov {
        token: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    pub kind: IntegrationKind,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
pub struct PrChecks {
    pub title: bool,
    pub size_labels: bool,
    pub coverage: Option<f64>,
    pub conflicts: bool,
    pub auto_label: bool,
    /// A summary of the changed files by service, as incremental builds see them.
    #[serde(default)]
    pub changed_files: bool,
    /// The highest cyclomatic complexity a changed function may have.
    #[serde(default)]
    pub complexity: Option<u32>,
    /// How much worse than the default branch's benchmark results fails a
    /// pull request (50%: 1.5 times as slow).
    #[serde(default)]
    pub benchmarks: Option<f64>,
}

/// A closed set of words from the schema, as an enum after checking: each
/// variant with the word the program writes (`word`, `parse`).
macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $w:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $w)] $v),+ }
        impl $name {
            /// Every variant, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The word the program writes.
            pub fn word(self) -> &'static str {
                match self { $($name::$v => $w),+ }
            }
            /// The variant of a word the schema accepted.
            pub fn parse(w: &str) -> Option<Self> {
                match w { $($w => Some($name::$v),)+ _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.word())
            }
        }
    };
}

words! {
    /// How often update pull requests are opened (`pipeline.maintenance`).
    UpdateInterval { Daily = "daily", Weekly = "weekly", Monthly = "monthly", Never = "never" }
}

words! {
    /// The oldest TLS version an environment's load balancer accepts (`edge.min_tls`).
    MinTls { Tls12 = "tls12", Tls13 = "tls13" }
}

words! {
    /// How a service's Vertical Pod Autoscaler acts (`vpa`).
    VpaMode { Recommend = "recommend", Initial = "initial" }
}

words! {
    /// The CI system the pipeline runs on.
    PipelineProvider { GithubActions = "github_actions", Jenkins = "jenkins", Gitlab = "gitlab" }
}

words! {
    /// One rule of the image tag policy (`pipeline.tags`).
    TagPolicy { Latest = "latest", BranchSha = "branch_sha", Sha = "sha", Semver = "semver" }
}

words! {
    /// A step run before deploying to an environment (`before`).
    BeforeHook { Backup = "backup", Migrations = "migrations" }
}

words! {
    /// A check run after deploying to an environment (`after`).
    AfterHook {
        SmokeTests = "smoke_tests",
        HealthCheck = "health_check",
        Verification = "verification",
        IntegrationTests = "integration_tests",
        PerformanceTests = "performance_tests",
    }
}

words! {
    /// What a chat integration announces (`events`).
    NotifyEvent { Deploy = "deploy", Failure = "failure", Promotion = "promotion", Rollback = "rollback" }
}

words! {
    /// The tool a gate runs (the schema's `GATE_TOOLS`).
    GateTool {
        Gitleaks = "gitleaks",
        Trufflehog = "trufflehog",
        DetectSecrets = "detect-secrets",
        Codeql = "codeql",
        Semgrep = "semgrep",
        Sonarqube = "sonarqube",
        Bandit = "bandit",
        Grype = "grype",
        Snyk = "snyk",
        Safety = "safety",
        PipAudit = "pip-audit",
        NpmAudit = "npm-audit",
        Trivy = "trivy",
        Checkov = "checkov",
        Tfsec = "tfsec",
        LicenseFinder = "license-finder",
        Coverage = "coverage",
        Eslint = "eslint",
        Ruff = "ruff",
        Flake8 = "flake8",
        GolangciLint = "golangci-lint",
        Tsc = "tsc",
        Mypy = "mypy",
        Tests = "tests"
    }
}

/// The checker's tables and messages compare tool words with gates.
impl PartialEq<GateTool> for &str {
    fn eq(&self, other: &GateTool) -> bool {
        *self == other.word()
    }
}

impl PartialEq<GateTool> for String {
    fn eq(&self, other: &GateTool) -> bool {
        self == other.word()
    }
}

/// Lets emitters not yet moved to the enum compare with the word
/// (`before.iter().any(|b| b == "migrations")`).
impl PartialEq<str> for BeforeHook {
    fn eq(&self, other: &str) -> bool {
        self.word() == other
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pipeline {
    pub provider: PipelineProvider,
    pub triggers: Vec<Trigger>,
    pub platforms: Vec<String>,
    pub sbom: bool,
    pub tags: Vec<TagPolicy>,
    pub cache: bool,
    /// Build only the services whose sources changed (`plan::changes`).
    pub incremental: bool,
    pub pr_checks: PrChecks,
    pub pre_commit: bool,
    pub workflows_dir: String,
    /// Pin overrides: action repository name (no owner) → (commit, tag).
    pub actions: BTreeMap<String, (String, String)>,
    /// Scheduled update pull requests (`maintenance { ... }`, `plan::maintenance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<Maintenance>,
}

/// A service level objective on the share of requests answered without a
/// server error, over a rolling window.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Slo {
    /// Percent of requests that must not fail with a 5xx (`99.9`).
    pub availability: f64,
    /// The rolling window the objective is measured over.
    pub window_ms: u64,
    #[serde(skip)]
    pub span: Option<Span>,
}

/// The windows an objective may be measured over: a day to a quarter.
pub const SLO_WINDOW_DAYS: std::ops::RangeInclusive<u64> = 1..=90;

/// How often the repository's dependencies and base images are brought up
/// to date by update pull requests (Dependabot).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Maintenance {
    /// The services' package manifests (npm, pip, Go modules, Maven, Gradle).
    pub dependencies: UpdateInterval,
    /// The `FROM` images of the services' Dockerfiles.
    pub base_images: UpdateInterval,
    #[serde(skip)]
    pub span: Option<Span>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
pub struct Alerts {
    pub crash_loop: bool,
    pub error_rate: Option<f64>,
    pub latency_ms: Option<u64>,
    pub cert_expiry_ms: Option<u64>,
    pub resource_exhaustion: Option<f64>,
    pub database_down: bool,
    pub route_to: Vec<IntegrationId>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, Default)]
pub struct Observability {
    pub metrics: Option<Metrics>,
    pub dashboards: Option<String>,
    pub alerts: Option<Alerts>,
    pub tracing: Option<Sink>,
    pub logs: Option<Sink>,
    /// Metrics several services expose (`observability { custom_metrics }`),
    /// charted per service on the environment's business dashboard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_metrics: Vec<AppMetric>,
}

/// A metric the application exposes itself on its scraped port
/// (`custom_metrics = [{ name kind description }]`): a business figure such
/// as bookings, or a cache's hits and misses as the application counts them.
/// The name is the one the application exposes, checked as a Prometheus
/// metric name with the suffix its kind implies (E0393-E0395).
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq)]
pub struct AppMetric {
    pub name: String,
    pub kind: MetricKind,
    /// What it counts or measures: the panel's title and description.
    pub description: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub fn word(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Metrics {
    pub provider: String,
    pub scrape_interval_ms: u64,
    pub path: String,
    /// Where the analysis queries Prometheus.
    pub address: String,
    /// Labels on every ServiceMonitor, so that Prometheus selects them.
    pub selector_labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sink {
    pub kind: String,
    pub endpoint: Option<String>,
    /// Tracing: share of traces kept outside production, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<f64>,
    /// Tracing: share of traces kept in production environments, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_sampling: Option<f64>,
    /// Logs (`elk`, `loki`): the basic-auth user and the Secret whose
    /// `password` key holds the password, both or neither (E0396).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A log sink's endpoint (`logs = elk { endpoint = .. }`, `loki`), split as
/// Fluent Bit's outputs take it. Only `http`/`https` URLs whose host is a DNS
/// name or an IPv4 address, an optional port and a path of URL-safe
/// characters are accepted (E0385), so no program text can break out of a
/// Fluent Bit configuration line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEndpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Empty, or starting with `/`, without a trailing `/`.
    pub path: String,
}

impl LogEndpoint {
    pub fn parse(raw: &str) -> Option<LogEndpoint> {
        let (scheme, rest) = raw.split_once("://")?;
        let tls = match scheme {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p > 0)?),
            None => (authority, if tls { 443 } else { 80 }),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let path_ok = path.chars().all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c)) && !path.contains("//");
        (host_ok && path_ok).then(|| LogEndpoint {
            tls,
            host: host.to_ascii_lowercase(),
            port,
            path: path.trim_end_matches('/').to_string(),
        })
    }
}

/// Whether a CloudWatch Logs group name is valid (1 to 512 characters of
/// `A-Za-z0-9_-/.#`), E0386. The environment's name is appended after a `/`.
pub fn valid_log_group(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 480
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c))
        && !name.starts_with("aws/")
        && !name.starts_with("/aws/")
}

pub fn attr_text(r: &AttrRef) -> String {
    let head = match &r.target {
        AttrTarget::Service(n) | AttrTarget::Resource(n) => n.as_str(),
        AttrTarget::Project => "project",
        AttrTarget::Env => "env",
    };
    format!("{head}.{}", r.attr)
}

/// Renders a template where only `project.*` and `env.*` may appear.
pub fn render_env(t: &Template, project: &Project, env_name: &str, namespace: &str, domain: &str) -> String {
    t.parts
        .iter()
        .map(|p| match p {
            TPart::Lit(s) => s.clone(),
            TPart::Ref(r) => match (&r.target, r.attr.as_str()) {
                (AttrTarget::Project, "name") => project.name.clone(),
                (AttrTarget::Project, "domain") => project.domain.clone().unwrap_or_default(),
                (AttrTarget::Project, _) => project.repository.clone(),
                (AttrTarget::Env, "name") => env_name.to_string(),
                (AttrTarget::Env, "namespace") => namespace.to_string(),
                (AttrTarget::Env, _) => domain.to_string(),
                _ => format!("${{{}}}", attr_text(r)),
            },
        })
        .collect()
}

/// A Kubernetes object name for a Kafka topic: lowercase, `_` as `-`.
pub fn topic_object_name(topic: &str) -> String {
    topic.to_ascii_lowercase().replace('_', "-")
}

/// The cluster an environment names, unless it is ArgoCD's own address.
fn named_cluster(e: &Environment) -> Option<String> {
    (!e.cluster.is_empty() && e.cluster != "https://kubernetes.default.svc").then(|| e.cluster.clone())
}

/// IAM role names are at most 64 characters long.
pub const IAM_ROLE_NAME_MAX: usize = 64;

/// Why KEDA's operator cannot read an SQS queue's depth from an
/// environment's cluster (`queue_scaling` on a `queue`). The operator
/// calls `sqs:GetQueueAttributes` as an IAM role of its own, which the
/// cluster's Terraform root creates and its ServiceAccount names by ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqsScalingGap {
    /// The environment's cluster is not on AWS.
    NotAws,
    /// The cluster is an existing one (an `https://` URL): no root of this
    /// output creates the operator's role there.
    ExistingCluster,
    /// The program names no AWS account, so neither the queue's URL nor
    /// the role's ARN can be written (W0018).
    NoAccount,
}

impl Model {
    /// The cloud an environment's cluster is in: its own `cloud`, else the project's.
    pub fn cloud_of<'a>(&'a self, env: &'a Environment) -> &'a Cloud {
        env.cloud.as_ref().unwrap_or(&self.project.cloud)
    }
    /// The secret store an environment's cluster reads. A cloud's own store
    /// (`aws_secrets_manager`, `gcp_secret_manager`) follows the cluster to
    /// the other cloud's store: a GKE cluster reads Secret Manager in the
    /// `gcp` cloud's project, an EKS cluster Secrets Manager in the `aws`
    /// cloud's region under the same prefix. Stores that are no cloud's
    /// (Vault, Sealed Secrets, Kubernetes) and Azure, whose Key Vault no store
    /// of the language reads yet, keep the project's.
    pub fn secret_store_of(&self, env: &Environment) -> SecretStore {
        let store = &self.project.secret_store;
        let native = matches!(store, SecretStore::AwsSecretsManager { .. } | SecretStore::GcpSecretManager { .. });
        if !native || self.cloud_of(env).kind() == self.project.cloud.kind() {
            return store.clone();
        }
        let prefix = match store {
            SecretStore::AwsSecretsManager { prefix, .. } => prefix.clone(),
            _ => self.project.name.clone(),
        };
        match self.cloud_of(env) {
            Cloud::Gcp { project, .. } => SecretStore::GcpSecretManager { project: project.clone() },
            Cloud::Aws { region, .. } => SecretStore::AwsSecretsManager { region: region.clone(), prefix },
            Cloud::Azure { .. } => store.clone(),
        }
    }
    /// Whether this output creates the cluster an environment runs on (it
    /// is named, not an existing cluster's `https://` URL).
    pub fn creates_cluster(&self, env: &Environment) -> bool {
        let key = self.cluster_key(env);
        !(key.starts_with("https://") || key.starts_with("http://"))
    }
    /// Why KEDA could not scale a worker of this environment on an SQS
    /// queue, if it could not: the checker's E0377 and the plan
    /// (`plan::keda`) share this predicate.
    pub fn sqs_scaling_gap(&self, env: &Environment) -> Option<SqsScalingGap> {
        if !matches!(self.cloud_of(env), Cloud::Aws { .. }) {
            Some(SqsScalingGap::NotAws)
        } else if !self.creates_cluster(env) {
            Some(SqsScalingGap::ExistingCluster)
        } else if self.aws_account().is_none() {
            Some(SqsScalingGap::NoAccount)
        } else {
            None
        }
    }
    /// The key of the cluster an environment runs on: its `cluster` (a name,
    /// or an existing cluster's `https://` URL), else the hub: the cluster
    /// named by the last environment in promotion order that names one, or
    /// `main`. The plan's topology and the checker's cloud rules share it.
    pub fn cluster_key(&self, env: &Environment) -> String {
        named_cluster(env).unwrap_or_else(|| self.hub_key())
    }
    /// The key of the cluster ArgoCD runs in (see [`Model::cluster_key`]):
    /// in the project's cloud, the cluster of the last environment in
    /// promotion order naming one; else `main`, where environments naming
    /// no cluster run; else the last named cluster of another cloud. (A
    /// disaster-recovery environment promoted from production on another
    /// cloud's cluster so does not pull ArgoCD and production over there.)
    pub fn hub_key(&self) -> String {
        let is_url = |s: &str| s.starts_with("https://") || s.starts_with("http://");
        let created = |e: &Environment| named_cluster(e).filter(|c| !is_url(c));
        let home = |e: &&Environment| self.cloud_of(e).kind() == self.project.cloud.kind();
        if let Some(k) = self.environments.iter().rev().filter(home).find_map(created) {
            return k;
        }
        if self.environments.iter().all(|e| named_cluster(e).is_some()) {
            if let Some(k) = self.environments.iter().rev().find_map(created) {
                return k;
            }
        }
        "main".into()
    }
    /// The AWS account the program names: the ECR registry's, else the
    /// `aws` cloud block's.
    pub fn aws_account(&self) -> Option<&str> {
        match (&self.project.registry, &self.project.cloud) {
            (Registry::Ecr { account: Some(a), .. }, _) => Some(a),
            (_, Cloud::Aws { account, .. }) => account.as_deref(),
            _ => None,
        }
    }
    /// Whether an environment's cluster pulls the project's ECR images from
    /// a copy in its own cloud's registry (`plan::registry`): it runs on a
    /// GKE cluster this output creates, whose node service account the GCP
    /// cluster root grants read access to the Artifact Registry repository
    /// CI copies every released image into. Environments outside AWS for
    /// which neither this nor [`Model::pulls_ecr_with_token`] holds cannot
    /// pull their images (W0015).
    pub fn mirrors_to_artifact_registry(&self, env: &Environment) -> bool {
        matches!(self.project.registry, Registry::Ecr { .. })
            && matches!(self.cloud_of(env), Cloud::Gcp { .. })
            && self.creates_cluster(env)
    }
    /// Whether an environment pulls the project's ECR images with a token
    /// External Secrets refreshes (`plan::registry`): it runs on a GKE
    /// cluster this output creates (whose OIDC issuer is known), the
    /// program names the AWS account the pull role lives in, and the
    /// cluster does not pull from an Artifact Registry copy instead (which
    /// every such cluster now does: the token is the fallback the plan
    /// keeps for a GKE cluster that cannot have one).
    pub fn pulls_ecr_with_token(&self, env: &Environment) -> bool {
        matches!(self.project.registry, Registry::Ecr { .. })
            && matches!(self.cloud_of(env), Cloud::Gcp { .. })
            && self.aws_account().is_some()
            && self.creates_cluster(env)
            && !self.mirrors_to_artifact_registry(env)
    }
    /// The IAM role a ServiceAccount assumes in an environment (IRSA):
    /// `<project>-<env>-<service account>`.
    pub fn irsa_role_name(&self, env: &str, service_account: &str) -> String {
        format!("{}-{env}-{service_account}", self.project.name)
    }
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.index()]
    }
    pub fn resource(&self, id: ResourceId) -> &Resource {
        &self.resources[id.index()]
    }
    pub fn env(&self, id: EnvId) -> &Environment {
        &self.environments[id.index()]
    }
    /// Whether the repository is hosted on GitHub (`github.com/...`), where
    /// Dependabot reads `.github/dependabot.yml`.
    pub fn repository_on_github(&self) -> bool {
        self.repository_host() == Some(RepoHost::GitHub)
    }
    /// The hosting service of the repository, when the output knows it.
    pub fn repository_host(&self) -> Option<RepoHost> {
        let r = self.project.repository.trim_start_matches("https://");
        [("github.com/", RepoHost::GitHub), ("gitlab.com/", RepoHost::GitLab)]
            .into_iter()
            .find(|(prefix, _)| r.starts_with(prefix))
            .map(|(_, h)| h)
    }
    pub fn toolchain(&self, id: ToolchainId) -> &Toolchain {
        &self.toolchains[id.index()]
    }
    /// The services CI builds from the repository, with their toolchains:
    /// the ones lint, test and image builds run for.
    pub fn built_services(&self) -> impl Iterator<Item = Built<'_>> {
        self.services.iter().filter_map(|s| self.built(s))
    }
    /// The service with its toolchain, when CI builds it.
    pub fn built<'m>(&'m self, s: &'m Service) -> Option<Built<'m>> {
        s.language().map(|l| Built { service: s, toolchain: self.toolchain(l) })
    }
    pub fn service_by_name(&self, name: &str) -> Option<&Service> {
        // Services are sorted by name (an invariant of the model).
        self.services.binary_search_by(|s| s.name.as_str().cmp(name)).ok().map(|i| &self.services[i])
    }
    pub fn resource_by_name(&self, name: &str) -> Option<&Resource> {
        self.resources.binary_search_by(|r| r.name.as_str().cmp(name)).ok().map(|i| &self.resources[i])
    }
    /// The metrics providers the program declares (observability and integrations).
    pub fn metrics_providers(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.observability.metrics.is_some() {
            out.push("prometheus");
        }
        for i in &self.integrations {
            match i.kind {
                IntegrationKind::NewRelic { .. } => out.push("newrelic"),
                IntegrationKind::Datadog { .. } => out.push("datadog"),
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
