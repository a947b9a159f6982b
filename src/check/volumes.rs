//! The rules of an environment's `volume_backups` block (E0436-E0438):
//! Velero with its AWS plugin needs an EKS cluster whose Terraform root this
//! output writes (the bucket and the IAM role live there), the AWS account
//! (the ServiceAccount names the role by ARN), and a TTL of at least one
//! interval of its schedule.
//!
//! **Invariant:** an environment of a checked model with `volume_backups`
//! runs on AWS in a cluster this output creates, the program names the AWS
//! account, and each backup outlives the interval to the next one.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Cloud, Model, VolumeBackups};

/// Whether this output creates the cluster an environment runs on (a
/// name, or none: the hub), rather than deploying to an existing one's URL.
pub fn creates_cluster(model: &Model, env: &crate::model::Environment) -> bool {
    let key = model.cluster_key(env);
    !(key.starts_with("https://") || key.starts_with("http://"))
}

pub fn check(model: &Model, diags: &mut Diagnostics) {
    for env in &model.environments {
        let Some(vb) = &env.volume_backups else { continue };
        let Some(span) = vb.span else { continue };
        if !matches!(model.cloud_of(env), Cloud::Aws { .. }) {
            diags.push(
                Diagnostic::new(Code::E0436, format!("`volume_backups` of `{}` needs an EKS cluster", env.name))
                    .label(span, "Velero's AWS plugin writes to S3 and snapshots EBS volumes")
                    .label_opt(env.cloud_span.or(model.project.span), "this environment's cloud is not AWS")
                    .help(Code::E0436.info().help),
            );
            continue;
        }
        if !creates_cluster(model, env) {
            diags.push(
                Diagnostic::new(
                    Code::E0437,
                    format!("`volume_backups` of `{}` runs on a cluster this output does not create", env.name),
                )
                .label(span, "Velero's bucket and IAM role are created with the cluster's Terraform root")
                .help("Name the cluster (`cluster = \"prod\"`) so that this output creates it, with Velero's bucket and role."),
            );
        } else if model.aws_account().is_none() {
            diags.push(
                Diagnostic::new(Code::E0437, format!("`volume_backups` of `{}` needs the AWS account", env.name))
                    .label(span, "Velero's ServiceAccount names its IAM role by ARN")
                    .label_opt(model.project.span, "no `account` in the `aws` cloud block")
                    .help(
                        "Name the account in the `aws` cloud block: `cloud = aws { ... account = \"123456789012\" }`.",
                    ),
            );
        }
        let interval = VolumeBackups::interval_minutes(&vb.schedule);
        if vb.retain_minutes < interval {
            diags.push(
                Diagnostic::new(
                    Code::E0438,
                    format!("`volume_backups` of `{}` keeps each backup for less than its interval", env.name),
                )
                .label(
                    vb.retain_span.unwrap_or(span),
                    format!(
                        "kept {}, but `{}` backs up every {}",
                        minutes(vb.retain_minutes),
                        vb.schedule,
                        minutes(interval)
                    ),
                )
                .help(Code::E0438.info().help),
            );
        }
    }
}

/// A duration as the program writes it: `3d`, `6h`, `30m`.
fn minutes(m: u64) -> String {
    match m {
        0 => "0m".into(),
        m if m % (24 * 60) == 0 => format!("{}d", m / (24 * 60)),
        m if m % 60 == 0 => format!("{}h", m / 60),
        m => format!("{m}m"),
    }
}
