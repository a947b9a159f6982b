//! The secondary region of a production environment (`recovery { region }`):
//! a second AWS provider configuration for that region, a KMS key there,
//! the replica of the off-cluster backup bucket (versioned, encrypted with
//! that key, public access blocked, TLS only, the same retention) that S3
//! replicates every dump to within 15 minutes (Replication Time Control),
//! and an AWS Backup vault there that each managed database's backups are
//! copied to.
//!
//! **Invariant:** every resource in the secondary region names the
//! provider `aws.secondary`; everything else uses the default provider.

use super::{attr, expr, jsonencode, Cx};
use serde_json::{json, Value};

const FILE: &str = "recovery.tf.json";
/// The provider configuration of the secondary region.
pub const PROVIDER: &str = "aws.secondary";

/// The environment's secondary region, when it has one.
pub fn region<'m>(cx: &Cx<'m>) -> Option<&'m str> {
    crate::plan::backup::secondary_region(cx.model, cx.env)
}

/// The provider alias and the key of the secondary region, once.
pub fn prelude(cx: &mut Cx, region: &str) {
    if cx.m.file(FILE).resource.get("aws_kms_key").is_some_and(|k| k.contains_key("secondary")) {
        return;
    }
    cx.m.aws_provider_alias("secondary", region);
    // The replication and backup roles use the key through IAM policies.
    super::security::kms_key(
        cx,
        FILE,
        "secondary",
        Some(PROVIDER),
        &format!("${{local.name}}: backup copies in {region}"),
        "${local.name}-recovery",
        vec![super::security::account_statement()],
    );
    cx.m.output(
        "recovery_kms_key_arn",
        &format!("the key encrypting the backup copies in {region}"),
        attr("aws_kms_key", "secondary", "arn"),
    );
}

/// The replica of the backup bucket `source` (a resource name in this
/// module) in `region`, and the replication of every object to it; `days`
/// is the source's retention, kept there too.
pub fn replicate_bucket(cx: &mut Cx, region: &str, source: &str, bucket: &str, days: u64) {
    prelude(cx, region);
    let id = "backups_replica";
    let b = attr("aws_s3_bucket", id, "id");
    let arn = attr("aws_s3_bucket", id, "arn");
    let on = |v: Value| -> Value {
        let mut v = v;
        v["provider"] = json!(PROVIDER);
        v
    };
    cx.m.resource(FILE, "aws_s3_bucket", id, on(json!({ "bucket": bucket, "tags": cx.tags(bucket) })));
    cx.m.resource(
        FILE,
        "aws_s3_bucket_public_access_block",
        id,
        on(json!({
            "bucket": b,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true
        })),
    );
    cx.m.resource(
        FILE,
        "aws_s3_bucket_ownership_controls",
        id,
        on(json!({ "bucket": b, "rule": { "object_ownership": "BucketOwnerEnforced" } })),
    );
    cx.m.resource(
        FILE,
        "aws_s3_bucket_server_side_encryption_configuration",
        id,
        on(json!({
            "bucket": b,
            "rule": [{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": attr("aws_kms_key", "secondary", "arn")
                },
                "bucket_key_enabled": true
            }]
        })),
    );
    // Replication needs versioning on both buckets.
    cx.m.resource(
        FILE,
        "aws_s3_bucket_versioning",
        id,
        on(json!({ "bucket": b, "versioning_configuration": { "status": "Enabled" } })),
    );
    cx.m.resource(
        FILE,
        "aws_s3_bucket_lifecycle_configuration",
        id,
        on(json!({
            "bucket": b,
            "rule": [{
                "id": "retention",
                "status": "Enabled",
                "filter": {},
                "expiration": { "days": days },
                "noncurrent_version_expiration": { "noncurrent_days": days },
                "abort_incomplete_multipart_upload": { "days_after_initiation": 1 }
            }]
        })),
    );
    cx.m.resource(FILE, "aws_s3_bucket_notification", id, on(json!({ "bucket": b, "eventbridge": true })));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": { "AWS": "*" },
            "Action": "s3:*",
            "Resource": [arn, format!("${{aws_s3_bucket.{id}.arn}}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    });
    cx.m.resource(FILE, "aws_s3_bucket_policy", id, on(json!({ "bucket": b, "policy": jsonencode(&policy) })));
    cx.m.variable(
        "backup_replica_access_log_bucket",
        "string",
        &format!("Bucket (SSE-S3) in {region} that receives the server access logs of the backup replica; null (the default) writes none"),
        Some(json!(null)),
    );
    cx.m.resource(
        FILE,
        "aws_s3_bucket_logging",
        id,
        on(json!({
            "count": expr("var.backup_replica_access_log_bucket == null ? 0 : 1"),
            "bucket": b,
            "target_bucket": expr("var.backup_replica_access_log_bucket"),
            "target_prefix": format!("{bucket}/")
        })),
    );
    let replicate = super::data::replication_policy(
        source,
        format!("${{aws_s3_bucket.{id}.arn}}/*"),
        vec![
            json!({
                "Sid": "DecryptSource",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [attr("aws_kms_key", "main", "arn")]
            }),
            json!({
                "Sid": "EncryptReplica",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": [attr("aws_kms_key", "secondary", "arn")]
            }),
        ],
    );
    cx.m.resource(
        "iam.tf.json",
        "aws_iam_role_policy",
        "backup_replication",
        json!({
            "name": "replicate",
            "role": attr("aws_iam_role", "backup_replication", "id"),
            "policy": jsonencode(&replicate)
        }),
    );
    cx.m.resource(
        "backups.tf.json",
        "aws_s3_bucket_replication_configuration",
        source,
        json!({
            "depends_on": [format!("aws_s3_bucket_versioning.{source}"), format!("aws_s3_bucket_versioning.{id}")],
            "bucket": attr("aws_s3_bucket", source, "id"),
            "role": attr("aws_iam_role", "backup_replication", "arn"),
            "rule": [{
                "id": "secondary-region",
                "status": "Enabled",
                "filter": {},
                "delete_marker_replication": { "status": "Enabled" },
                "source_selection_criteria": { "sse_kms_encrypted_objects": { "status": "Enabled" } },
                "destination": {
                    "bucket": arn,
                    "storage_class": "STANDARD",
                    "encryption_configuration": { "replica_kms_key_id": attr("aws_kms_key", "secondary", "arn") },
                    // Replication Time Control: 99.99% of objects within
                    // 15 minutes, the lag the checker counts against the RPO.
                    "replication_time": { "status": "Enabled", "time": { "minutes": 15 } },
                    "metrics": { "status": "Enabled", "event_threshold": { "minutes": 15 } }
                }
            }]
        }),
    );
    cx.m.output("backup_replica_bucket", &format!("Replica of the backup bucket in {region}"), b);
}

/// The AWS Backup vault in the secondary region that managed databases'
/// backups are copied to; returns its ARN expression.
pub fn vault(cx: &mut Cx, region: &str) -> String {
    prelude(cx, region);
    cx.m.resource(
        FILE,
        "aws_backup_vault",
        "secondary",
        json!({
            "provider": PROVIDER,
            "name": "${local.name}-recovery",
            "kms_key_arn": attr("aws_kms_key", "secondary", "arn")
        }),
    );
    cx.m.output(
        "recovery_vault_arn",
        &format!("AWS Backup vault in {region} holding the copies of the database backups"),
        attr("aws_backup_vault", "secondary", "arn"),
    );
    attr("aws_backup_vault", "secondary", "arn")
}
