//! Pod-level decisions shared by every workload: resources, security contexts, scratch volumes and the Checkov skips with their reasons.

use crate::model::{Probe, ProbeTiming, Service};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMapVolumeSource, EmptyDirVolumeSource, ExecAction, GRPCAction, HTTPGetAction,
    LocalObjectReference, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, PodSecurityContext,
    PreferredSchedulingTerm, Probe as KProbe, ResourceRequirements, SeccompProfile, SecurityContext, TCPSocketAction,
    Toleration, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

// Quantities, skip annotations and checksums are built by pushing strings,
// not with `format!`: they are written for every object of every service.

pub fn quantity_cpu(m: u64) -> Quantity {
    let mut buf = itoa::Buffer::new();
    Quantity(if m % 1000 == 0 { buf.format(m / 1000).to_string() } else { [buf.format(m), "m"].concat() })
}

pub fn quantity_mem(b: u64) -> Quantity {
    const UNITS: [(u64, &str); 4] = [(1 << 40, "Ti"), (1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")];
    for (f, u) in UNITS {
        if b >= f && b % f == 0 {
            return Quantity([itoa::Buffer::new().format(b / f), u].concat());
        }
    }
    Quantity(b.to_string())
}

/// Requests and limits. A cpu written `request..` has no cpu limit (the
/// pod may use idle cores, throttled by nothing but its request's share
/// when the node is busy); memory always has its limit, since memory over
/// the request is not given back and takes the node down with it.
pub fn resources(cpu: impl Into<crate::model::Cpu>, mem: crate::model::Quantity) -> ResourceRequirements {
    let cpu = cpu.into();
    let mut limits = BTreeMap::from([("memory".to_string(), quantity_mem(mem.limit))]);
    if let Some(l) = cpu.limit {
        limits.insert("cpu".to_string(), quantity_cpu(l));
    }
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), quantity_cpu(cpu.request)),
            ("memory".to_string(), quantity_mem(mem.request)),
        ])),
        limits: Some(limits),
        ..Default::default()
    }
}

/// Which probe of a container: each has its own default initial delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    /// The initial delay when the program gives none.
    pub fn default_delay(self) -> i32 {
        match self {
            ProbeKind::Liveness => 10,
            ProbeKind::Readiness => 5,
            ProbeKind::Startup => 0,
        }
    }
}

/// The timing of one probe: the program's `probes { ... }`, else the
/// defaults (period 10s, timeout 3s, 3 failures). The success threshold is
/// written only when the program sets it (liveness and startup probes
/// accept only 1, so it applies to readiness).
///
/// A probe's own block (`probes { liveness { period = 10s } }`) replaces
/// the shared fields one by one. The checker holds a liveness or startup
/// block's success threshold to 1 (E0379), which is Kubernetes' default,
/// so it is never written for them.
pub fn probe_timing(t: &ProbeTiming, kind: ProbeKind) -> KProbe {
    let own = match kind {
        ProbeKind::Liveness => t.liveness.as_deref(),
        ProbeKind::Readiness => t.readiness.as_deref(),
        ProbeKind::Startup => t.startup.as_deref(),
    };
    let pick = |field: fn(&ProbeTiming) -> Option<u32>| own.and_then(field).or_else(|| field(t));
    KProbe {
        initial_delay_seconds: Some(pick(|t| t.initial_delay).map_or(kind.default_delay(), |d| d as i32)),
        period_seconds: Some(pick(|t| t.period).unwrap_or(10) as i32),
        timeout_seconds: Some(pick(|t| t.timeout).unwrap_or(3) as i32),
        failure_threshold: Some(pick(|t| t.failure_threshold).unwrap_or(3) as i32),
        success_threshold: pick(|t| t.success_threshold).filter(|_| kind == ProbeKind::Readiness).map(|n| n as i32),
        ..Default::default()
    }
}

pub fn probe(p: &Probe, t: &ProbeTiming, kind: ProbeKind) -> KProbe {
    let mut k = probe_timing(t, kind);
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

/// Checks of Checkov that do not apply to a service workload, with the reason.
/// Every workload object carries them: Deployments, Jobs and CronJobs (which
/// Checkov 3.3 scans, `base_container_check.SUPPORTED_ENTITIES`) and
/// Rollouts (which it does not scan: the kind is not in that list, so a
/// Rollout's pod template never yields a finding).
pub const SERVICE_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_43", "images are pinned by immutable release tags that CD sets through kustomize"),
    ("CKV_K8S_35", "the application reads 12-factor environment variables; values come from the secret store"),
];

/// Checks of Checkov waived for a worker that declares no probe: it serves
/// no traffic, and deployc invents no probe (a guessed one restarts a busy
/// worker or passes for a hung one).
const PROBELESS_WORKER_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_8", "a worker serves no traffic and the program declares no liveness probe; deployc invents none"),
    ("CKV_K8S_9", "a worker is in no Service, so readiness gates nothing; the program declares no probe"),
];

/// Checkov's cpu limit check, waived for a workload whose program wrote a
/// (No `=` in any reason: Checkov splits `ID=reason` on every `=` and its
/// Kubernetes runner crashes on a third part; tests/policy.rs checks.)
///
/// cpu request without a limit (`cpu = 100m..`): the team's explicit
/// choice, so the waiver is on that object only and says so.
const NO_CPU_LIMIT_SKIP: (&str, &str) = (
    "CKV_K8S_11",
    "the program requests cpu without a limit (an open cpu range) so the pod may use idle cores; memory keeps its limit",
);

/// The Checkov skips a service's Deployment or Rollout carries beyond
/// `SERVICE_SKIPS` (numbered after them, so both targets can add them to the
/// shared ones), given its cpu in this environment.
pub fn extra_skips(s: &Service, cpu: crate::model::Cpu) -> BTreeMap<String, String> {
    let probeless_worker =
        matches!(s.kind, crate::model::WorkloadKind::Worker) && s.health.is_none() && s.readiness.is_none();
    let mut extra: Vec<(&str, &str)> = if probeless_worker { PROBELESS_WORKER_SKIPS.to_vec() } else { Vec::new() };
    if cpu.limit.is_none() {
        extra.push(NO_CPU_LIMIT_SKIP);
    }
    extra.iter().enumerate().map(|(i, skip)| skip_annotation(SERVICE_SKIPS.len() + i + 1, skip)).collect()
}

/// Checkov's skip annotations, one per check, each with its reason.
pub fn checkov_skips(skips: &[(&str, &str)]) -> BTreeMap<String, String> {
    skips.iter().enumerate().map(|(i, skip)| skip_annotation(i + 1, skip)).collect()
}

/// The `n`th skip annotation: `checkov.io/skip<n>: <check>=<why>`.
fn skip_annotation(n: usize, (id, why): &(&str, &str)) -> (String, String) {
    (["checkov.io/skip", itoa::Buffer::new().format(n)].concat(), [id, "=", why].concat())
}

/// Checks of Checkov that do not apply to the official database images.
pub const DATABASE_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_43", "official images are pinned by version tag; digests differ per architecture"),
    ("CKV_K8S_35", "the database image reads its credentials from environment variables"),
];

// ---- pod details (issue 11, item 5)

/// The ServiceAccount a service's pods run as: the program's name, else the service's.
pub fn service_account(s: &Service) -> &str {
    s.pod.service_account.as_deref().unwrap_or(&s.name)
}

/// The topology key replicas are spread over.
pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";

/// Whether a service's replicas are spread across zones here: as the
/// program says (`spread`), else in a production environment whenever it
/// may run more than one replica.
pub fn spreads(production: bool, s: &Service, max_replicas: u32) -> bool {
    s.pod.spread.unwrap_or(production && max_replicas > 1)
}

/// The pod spec details beyond the container, decided once for both targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodDetails {
    pub service_account: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub affinity: Option<Affinity>,
    pub tolerations: Option<Vec<Toleration>>,
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
}

/// Soft node affinity from `prefer_nodes`: one preference per label, each
/// of the full weight, so a node matching more of them scores higher and a
/// pod still schedules where none matches (`node_selector` is the hard form).
fn preferred_nodes(prefer: &BTreeMap<String, String>) -> Option<Affinity> {
    (!prefer.is_empty()).then(|| Affinity {
        node_affinity: Some(NodeAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(
                prefer
                    .iter()
                    .map(|(k, v)| PreferredSchedulingTerm {
                        weight: 100,
                        preference: NodeSelectorTerm {
                            match_expressions: Some(vec![NodeSelectorRequirement {
                                key: k.clone(),
                                operator: "In".into(),
                                values: Some(vec![v.clone()]),
                            }]),
                            ..Default::default()
                        },
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A service's pod details in an environment. Zone spreading is soft
/// (`ScheduleAnyway`, skew 1): the scheduler places replicas in different
/// zones whenever it can, and still schedules them when a zone is down or
/// the cluster has one zone, where a hard constraint would leave them pending.
pub fn details(production: bool, s: &Service, max_replicas: u32) -> PodDetails {
    let p = &s.pod;
    let spread = spreads(production, s, max_replicas).then(|| {
        vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: ZONE_KEY.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(super::env::label_selector(&s.name)),
            ..Default::default()
        }]
    });
    PodDetails {
        service_account: service_account(s).to_string(),
        labels: p.labels.clone(),
        annotations: p.annotations.clone(),
        node_selector: (!p.node_selector.is_empty()).then(|| p.node_selector.clone()),
        affinity: preferred_nodes(&p.prefer_nodes),
        tolerations: (!p.tolerations.is_empty()).then(|| {
            p.tolerations
                .iter()
                .map(|t| Toleration {
                    key: Some(t.key.clone()),
                    operator: Some(if t.value.is_some() { "Equal" } else { "Exists" }.into()),
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                    toleration_seconds: None,
                })
                .collect()
        }),
        topology_spread_constraints: spread,
        image_pull_secrets: (!p.pull_secrets.is_empty())
            .then(|| p.pull_secrets.iter().map(|n| LocalObjectReference { name: n.clone() }).collect()),
    }
}

/// A service's config files (`files`): the ConfigMap `<service>-files` keyed
/// by file name, and where each is mounted (name → absolute path). Each is
/// mounted alone (`subPath`), so the directory around it stays the image's;
/// `checksum/files` on the pod template rolls the pods when a file changes.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigFiles {
    pub config_map: String,
    pub data: BTreeMap<String, String>,
    pub mounts: BTreeMap<String, String>,
}

/// The volume holding the config files.
pub const FILES_VOLUME: &str = "files";

pub fn config_files(s: &Service) -> Option<ConfigFiles> {
    if s.pod.files.is_empty() {
        return None;
    }
    let mut data = BTreeMap::new();
    let mut mounts = BTreeMap::new();
    for (path, content) in &s.pod.files {
        // The checker refused a path without a file name (E0374).
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        data.insert(name.clone(), content.clone());
        mounts.insert(name, path.clone());
    }
    Some(ConfigFiles { config_map: format!("{}-files", s.name), data, mounts })
}

impl ConfigFiles {
    pub fn volume(&self) -> Volume {
        Volume {
            name: FILES_VOLUME.into(),
            config_map: Some(ConfigMapVolumeSource { name: self.config_map.clone(), ..Default::default() }),
            ..Default::default()
        }
    }
    pub fn volume_mounts(&self) -> Vec<VolumeMount> {
        self.mounts
            .iter()
            .map(|(name, path)| VolumeMount {
                name: FILES_VOLUME.into(),
                mount_path: path.clone(),
                sub_path: Some(name.clone()),
                read_only: Some(true),
                ..Default::default()
            })
            .collect()
    }
    /// The annotation that rolls the pods when a file changes.
    pub fn checksum(&self) -> String {
        super::env::config_checksum(&self.data)
    }
}
