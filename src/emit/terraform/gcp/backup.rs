//! The off-cluster copies of an environment's in-cluster backups on GCP
//! (`plan::backup::off_cluster`, `StoreKind::Gcs`): a GCS bucket in the
//! environment's root — uniform bucket-level access, public access
//! prevention enforced, versioned, encrypted under a Cloud KMS key of its
//! own (as the Artifact Registry copy is), objects and their noncurrent
//! versions deleted after the longest `backup { retain }`, and in
//! production a dual-region with turbo replication — and the Google service
//! account the backup ServiceAccount acts as through GKE Workload Identity,
//! which may create and read objects in that bucket and nothing else.
//!
//! **Invariant:** the bucket, the account id and the Workload Identity
//! member are the plan's (`tests/backup_gcs.rs`): the KSA annotation names
//! this account, and this account is bound to exactly
//! `<namespace>/<backup ServiceAccount>`.

use super::Gx;
use crate::emit::terraform::{attr, expr};
use crate::model::Environment;
use crate::plan::backup::{OffCluster, StoreKind};
use serde_json::json;

const FILE: &str = "backups.tf.json";

/// The bucket, its key and the backup identity, when the environment copies
/// its backups to GCS.
pub fn store(gx: &mut Gx, env: &Environment) {
    let plan = crate::plan::EnvPlan::new(gx.model, gx.graph, env, gx.opts);
    let Some(store) = crate::plan::backup::off_cluster(&plan) else { return };
    let StoreKind::Gcs { location, account_id, .. } = &store.kind else { return };
    // The CronJob prunes its volume after `retain` days; the bucket keeps
    // each dump as long, and an overwritten or deleted version as long again.
    let days = crate::plan::backup::backed_up(&plan)
        .iter()
        .filter_map(|r| r.backup.as_ref())
        .map(|b| b.retain_days)
        .max()
        .unwrap_or(7)
        .max(1);
    let m = &mut gx.m;
    // The key: Cloud Storage's service agent encrypts and decrypts with it.
    // A dual-region bucket's key lives in the multi-region around it.
    m.data(FILE, "google_storage_project_service_account", "this", json!({}));
    super::cmek(
        m,
        FILE,
        "backups",
        json!({ "name": "${local.name}-backups", "location": location.kms_location() }),
        "backups",
        format!("serviceAccount:{}", attr("data.google_storage_project_service_account", "this", "email_address")),
    );
    let mut bucket = json!({
        "name": "${local.name}-backups",
        "location": location.location,
        "storage_class": "STANDARD",
        "force_destroy": false,
        "uniform_bucket_level_access": true,
        "public_access_prevention": "enforced",
        "versioning": { "enabled": true },
        "encryption": { "default_kms_key_name": attr("google_kms_crypto_key", "backups", "id") },
        "lifecycle_rule": [
            { "condition": { "age": days }, "action": { "type": "Delete" } },
            { "condition": { "days_since_noncurrent_time": days }, "action": { "type": "Delete" } },
            { "condition": { "age": 1 }, "action": { "type": "AbortIncompleteMultipartUpload" } }
        ],
        "labels": expr("local.labels"),
        "depends_on": ["google_kms_crypto_key_iam_member.backups"]
    });
    if let Some(regions) = &location.dual {
        bucket["custom_placement_config"] =
            json!({ "data_locations": regions.iter().map(|r| r.to_ascii_uppercase()).collect::<Vec<_>>() });
        // Every object in both regions within 15 minutes.
        bucket["rpo"] = json!("ASYNC_TURBO");
    }
    m.resource(FILE, "google_storage_bucket", "backups", bucket);
    identity(gx, env, &store, account_id);
    gx.m.output(
        "backup_bucket",
        "Bucket of the off-cluster backup copies",
        attr("google_storage_bucket", "backups", "name"),
    );
    gx.m.output(
        "backup_service_account",
        "Google service account of the backup service account (annotation iam.gke.io/gcp-service-account)",
        attr("google_service_account", "backup", "email"),
    );
    // (The checker holds a standby to the one topology rendered, E0460;
    // this root's model sees the project's cloud as GCP, so the plan of the
    // pair is not asked here.)
    if let Some(primary) = &env.standby_of {
        gx.m.output(
            "backup_identity",
            &format!(
                "unique id of the backup Google service account: the variable standby_identity of terraform/{}, whose restore role trusts it",
                primary
            ),
            attr("google_service_account", "backup", "unique_id"),
        );
    }
}

/// The Google service account of the backup and drill pods: acted as by the
/// backup ServiceAccount of this namespace only, allowed to create objects
/// in the bucket (the uploads) and to list and read them (the drill), on
/// that bucket only. Neither role overwrites or deletes an object.
fn identity(gx: &mut Gx, env: &Environment, store: &OffCluster, account_id: &str) {
    let m = &mut gx.m;
    m.resource(
        FILE,
        "google_service_account",
        "backup",
        json!({ "account_id": account_id, "display_name": format!("{} in {}", store.service_account, env.namespace) }),
    );
    m.resource(
        FILE,
        "google_service_account_iam_member",
        "backup_workload_identity",
        json!({
            "service_account_id": attr("google_service_account", "backup", "name"),
            "role": "roles/iam.workloadIdentityUser",
            "member": format!("serviceAccount:${{var.project}}.svc.id.goog[{}/{}]", env.namespace, store.service_account)
        }),
    );
    for (id, role) in
        [("backup_writer", "roles/storage.objectCreator"), ("backup_reader", "roles/storage.objectViewer")]
    {
        m.resource(
            FILE,
            "google_storage_bucket_iam_member",
            id,
            json!({
                "bucket": attr("google_storage_bucket", "backups", "name"),
                "role": role,
                "member": format!("serviceAccount:{}", attr("google_service_account", "backup", "email"))
            }),
        );
    }
}
