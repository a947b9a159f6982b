//! Volume backups with Velero (`volume_backups { ... }` on an environment),
//! decided once per cluster: Velero and its AWS plugin run once in each EKS
//! cluster where an environment declares them, with one S3 bucket and one
//! IAM role (IRSA) that the cluster's Terraform root creates
//! (`<cluster name>-velero` both), a BackupStorageLocation on that bucket
//! and a VolumeSnapshotLocation in the cluster's region (chart values), and
//! a `Schedule` per declaring environment that backs up its namespace with
//! snapshots of its persistent volumes. Under Sealed Secrets one Schedule
//! more backs up the controller's key Secrets, so SealedSecrets committed
//! to Git can still be decrypted after the cluster is lost.
//!
//! The Terraform target (bucket, role, trust), the ArgoCD target (the chart
//! and its values) and the Kubernetes target (the Schedules) all read this
//! module, so the names cannot drift apart.
//!
//! **Invariant:** every Schedule names the storage location the chart
//! creates; the role annotation on Velero's ServiceAccount names the role
//! Terraform creates, which trusts exactly `system:serviceaccount:velero:velero`
//! and may use exactly the bucket named in the storage location
//! (`tests/velero.rs`).

use crate::model::{Cloud, Model, SecretStore, VolumeBackups};
use serde_json::{json, Value};

use super::topology::Cluster;

/// The namespace Velero runs in (its Schedules live there too).
pub const NAMESPACE: &str = "velero";
/// The ServiceAccount of Velero's server, which the IAM role trusts.
pub const SERVICE_ACCOUNT: &str = "velero";
/// The storage and snapshot locations' name.
pub const LOCATION: &str = "default";
/// Velero's AWS plugin: v1.14.x is the line built for Velero 1.18
/// (the chart row's 12.2.1 ships Velero 1.18.2).
pub const AWS_PLUGIN_IMAGE: &str = "velero/velero-plugin-for-aws:v1.14.2";
/// The label the Sealed Secrets controller puts on each of its key Secrets
/// (`active`, or `compromised` once rotated out; both still decrypt).
pub const SEALED_KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The Schedule of the Sealed Secrets controller's keys.
pub const SEALED_KEYS_SCHEDULE: &str = "sealed-secrets-keys";

/// Velero in one cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterVelero {
    /// `<cluster name>-velero` (Terraform: `${local.name}-velero`).
    pub bucket: String,
    pub region: String,
    /// `<cluster name>-velero` (Terraform: `${local.name}-velero`).
    pub role_name: String,
    pub role_arn: String,
    /// One per declaring environment, then the Sealed Secrets keys', by name.
    pub schedules: Vec<Schedule>,
}

/// One Velero `Schedule`.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub name: String,
    /// Cron, in UTC.
    pub cron: &'static str,
    /// The backups' TTL as Go writes durations (`720h0m0s`).
    pub ttl: String,
    /// The same, in minutes.
    pub ttl_minutes: u64,
    pub namespaces: Vec<String>,
    /// `Some(key)`: only objects carrying the label `key` (any value).
    pub label_key: Option<&'static str>,
    /// Empty: every kind.
    pub resources: Vec<&'static str>,
    pub snapshot_volumes: bool,
}

/// The namespace the Sealed Secrets controller runs in, when the program's
/// store is Sealed Secrets.
pub fn sealed_secrets_namespace(model: &Model) -> Option<&str> {
    match &model.project.secret_store {
        SecretStore::SealedSecrets { controller_namespace, .. } => Some(controller_namespace),
        _ => None,
    }
}

/// Velero in a cluster: `None` unless it is an EKS cluster this output
/// creates, some environment on it declares `volume_backups`, and the
/// program names the AWS account (the checker refuses the rest, E0436-E0437).
pub fn of(model: &Model, cluster: &Cluster) -> Option<ClusterVelero> {
    let Cloud::Aws { region, .. } = &cluster.cloud else { return None };
    let account = model.aws_account()?;
    if !cluster.created {
        return None;
    }
    let declaring: Vec<(&crate::model::Environment, &VolumeBackups)> = cluster
        .envs
        .iter()
        .map(|id| model.env(*id))
        .filter_map(|e| e.volume_backups.as_ref().map(|v| (e, v)))
        .collect();
    if declaring.is_empty() {
        return None;
    }
    let mut schedules: Vec<Schedule> = declaring
        .iter()
        .map(|(e, v)| Schedule {
            name: format!("{}-volumes", e.namespace),
            cron: super::backup::cron(&v.schedule),
            ttl: v.ttl(),
            ttl_minutes: v.retain_minutes,
            namespaces: vec![e.namespace.clone()],
            label_key: None,
            resources: Vec::new(),
            snapshot_volumes: true,
        })
        .collect();
    // The keys as often as the most frequent environment, kept as long as
    // the longest: a restore of any volume backup finds its keys.
    if let Some(ns) = sealed_secrets_namespace(model) {
        let most_often = declaring
            .iter()
            .min_by_key(|(_, v)| VolumeBackups::interval_minutes(&v.schedule))
            .map(|(_, v)| v.schedule.as_str())
            .unwrap_or("daily");
        let longest = declaring.iter().map(|(_, v)| *v).max_by_key(|v| v.retain_minutes);
        if let Some(longest) = longest {
            schedules.push(Schedule {
                name: SEALED_KEYS_SCHEDULE.into(),
                cron: super::backup::cron(most_often),
                ttl: longest.ttl(),
                ttl_minutes: longest.retain_minutes,
                namespaces: vec![ns.to_string()],
                label_key: Some(SEALED_KEY_LABEL),
                resources: vec!["secrets"],
                snapshot_volumes: false,
            });
        }
    }
    schedules.sort_by(|a, b| a.name.cmp(&b.name));
    let name = format!("{}-velero", cluster.name);
    Some(ClusterVelero {
        bucket: name.clone(),
        region: region.clone(),
        role_arn: super::identity::role_arn(account, &name),
        role_name: name,
        schedules,
    })
}

/// The folder of a cluster's Schedules: `k8s/_addons/<cluster>/velero`,
/// applied by an Application of its own (the folder above is the log
/// add-ons' kustomization, which does not list it).
pub fn schedules_dir(plan: &super::Plan, cluster: &Cluster) -> String {
    format!("{}/velero", super::addon_secrets::addons_dir(plan, cluster))
}

/// Whether Velero runs in some cluster of the output.
pub fn any(model: &Model, clusters: &[Cluster]) -> bool {
    clusters.iter().any(|c| of(model, c).is_some())
}

/// The chart's values in a cluster: the AWS plugin as an init container,
/// the storage location on the bucket, the snapshot location in the
/// region, and the role annotation on
/// the server's ServiceAccount. No node agent: volumes are EBS snapshots.
pub fn values(v: &ClusterVelero) -> Value {
    json!({
        "initContainers": [{
            "name": "velero-plugin-for-aws",
            "image": AWS_PLUGIN_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "volumeMounts": [{ "mountPath": "/target", "name": "plugins" }]
        }],
        "configuration": {
            "backupStorageLocation": [{
                "name": LOCATION,
                "provider": "aws",
                "bucket": v.bucket,
                "default": true,
                "config": { "region": v.region }
            }],
            "volumeSnapshotLocation": [{
                "name": LOCATION,
                "provider": "aws",
                "config": { "region": v.region }
            }]
        },
        "snapshotsEnabled": true,
        "deployNodeAgent": false,
        "serviceAccount": {
            "server": {
                "create": true,
                "name": SERVICE_ACCOUNT,
                "annotations": { super::irsa::ROLE_ANNOTATION: v.role_arn }
            }
        }
    })
}

/// Chart parameters (Argo CD's `helm.parameters`, one `--set` each):
/// credentials from IRSA rather than a Secret (`credentials.useSecret`).
/// A parameter rather than a value, as the log add-ons' (`logs::parameters`):
/// `useSecret: false` on one line reads to secret scanners as a credential.
pub fn parameters(a: super::addons::Addon) -> Vec<(String, String)> {
    match a {
        super::addons::Addon::Velero => vec![("credentials.useSecret".to_string(), "false".to_string())],
        _ => Vec::new(),
    }
}

/// The Schedules of a cluster as Velero objects, by name.
pub fn objects(model: &Model, v: &ClusterVelero) -> Vec<(String, Value)> {
    let labels = json!({
        "app.kubernetes.io/part-of": model.project.name,
        "app.kubernetes.io/managed-by": "deployc",
        "app.kubernetes.io/component": "volume-backups"
    });
    v.schedules
        .iter()
        .map(|s| {
            let mut template = json!({
                "includedNamespaces": s.namespaces,
                "snapshotVolumes": s.snapshot_volumes,
                "storageLocation": LOCATION,
                "ttl": s.ttl
            });
            if s.snapshot_volumes {
                template["volumeSnapshotLocations"] = json!([LOCATION]);
            }
            if !s.resources.is_empty() {
                template["includedResources"] = json!(s.resources);
                template["includeClusterResources"] = json!(false);
            }
            if let Some(key) = s.label_key {
                template["labelSelector"] = json!({ "matchExpressions": [{ "key": key, "operator": "Exists" }] });
            }
            let obj = json!({
                "apiVersion": "velero.io/v1",
                "kind": "Schedule",
                "metadata": { "name": s.name, "namespace": NAMESPACE, "labels": labels },
                "spec": {
                    "schedule": s.cron,
                    "useOwnerReferencesInBackup": false,
                    "template": template
                }
            });
            (s.name.clone(), obj)
        })
        .collect()
}
