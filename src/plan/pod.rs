//! Pod-level decisions shared by every workload: resources, security contexts, scratch volumes and the Checkov skips with their reasons.

use crate::model::Probe;
use k8s_openapi::api::core::v1::{
    Capabilities, EmptyDirVolumeSource, ExecAction, GRPCAction, HTTPGetAction, PodSecurityContext, Probe as KProbe,
    ResourceRequirements, SeccompProfile, SecurityContext, TCPSocketAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub fn quantity_cpu(m: u64) -> Quantity {
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

pub fn probe(p: &Probe, initial_delay: i32) -> KProbe {
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

/// Checks of Checkov that do not apply to a service workload, with the reason.
pub const SERVICE_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_43", "images are pinned by immutable release tags that CD sets through kustomize"),
    ("CKV_K8S_35", "the application reads 12-factor environment variables; values come from the secret store"),
];

/// Checkov's skip annotations, one per check, each with its reason.
pub fn checkov_skips(skips: &[(&str, &str)]) -> BTreeMap<String, String> {
    skips
        .iter()
        .enumerate()
        .map(|(i, (id, why))| (format!("checkov.io/skip{}", i + 1), format!("{id}={why}")))
        .collect()
}

/// Checks of Checkov that do not apply to the official database images.
pub const DATABASE_SKIPS: &[(&str, &str)] = &[
    ("CKV_K8S_43", "official images are pinned by version tag; digests differ per architecture"),
    ("CKV_K8S_35", "the database image reads its credentials from environment variables"),
];
