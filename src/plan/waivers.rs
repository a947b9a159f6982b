//! Policy waivers, decided once: the Checkov findings a construct leaves by
//! design, each for one resource of one Terraform file, with its reason.
//!
//! Checkov cannot skip a check inline in Terraform JSON, so the waivers
//! travel as a Checkov baseline, `terraform/.checkov.baseline`: the
//! generated Checkov gates pass it (`--baseline`), and Checkov then reports
//! only findings not in it. Checkov matches a baseline entry by resource and
//! check (not by file), so each entry names a resource this output alone
//! writes. The `.ci/run` gate is stricter: file, resource and check.

use crate::model::Model;

/// Where the waivers are written, relative to the output tree.
pub const BASELINE: &str = "terraform/.checkov.baseline";

/// One waived finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    pub check: &'static str,
    /// The file, relative to the output tree.
    pub file: String,
    /// `type.name` of the resource.
    pub resource: String,
    pub reason: &'static str,
}

/// The CloudFront distribution's (`edge { cdn }`, emit/terraform/cdn.rs):
/// `(check, resource, reason)`.
const CDN: &[(&str, &str, &str)] = &[
    (
        "CKV_AWS_86",
        "aws_cloudfront_distribution.cdn",
        "access logs go through CloudFront standard logging v2 to a KMS-encrypted log group; Checkov reads only the legacy S3 `logging_config`, which needs a bucket with ACLs (itself CKV2_AWS_65)",
    ),
    (
        "CKV_AWS_305",
        "aws_cloudfront_distribution.cdn",
        "a default root object maps `/` of an S3 origin; the origin is the application, which answers `/` itself",
    ),
    (
        "CKV_AWS_310",
        "aws_cloudfront_distribution.cdn",
        "origin failover needs a second origin serving the same application; the environment has one load balancer",
    ),
    (
        "CKV_AWS_374",
        "aws_cloudfront_distribution.cdn",
        "a geo restriction is a decision about the application's users, which the program does not state",
    ),
    (
        "CKV2_AWS_5",
        "aws_security_group.cdn_origin",
        "the AWS Load Balancer Controller attaches the group to the ALB it creates (the Ingresses name it), outside Terraform",
    ),
];

/// The GCS bucket of an environment's off-cluster backups (emit/terraform/gcp/backup.rs).
const GCS_BACKUPS: (&str, &str, &str) = (
    "CKV_GCP_62",
    "google_storage_bucket.backups",
    "reads and writes of the backups reach Cloud Audit Logs (data access logs of Cloud Storage, enabled by the shared root), which Google recommends over the legacy usage logs this check looks for",
);

/// The records of a primary's warm standby, the SECONDARY failover record
/// and the standby's own name (emit/terraform/failover.rs).
const STANDBY_RECORD: (&str, &str, &str) = (
    "CKV2_AWS_23",
    "aws_route53_record.standby",
    "the records point at the standby's ingress address, which the standby's GCP root reserves (a static google_compute_address); Checkov only sees addresses of AWS resources",
);

/// Every waiver of the output, by file and resource.
pub fn all(model: &Model) -> Vec<Waiver> {
    let mut out = Vec::new();
    for e in &model.environments {
        let gcs = super::backup::off_cluster_of(model, e)
            .is_some_and(|s| matches!(s.kind, super::backup::StoreKind::Gcs { .. }));
        if gcs {
            // Another cloud's roots are under `terraform/<cloud>/`.
            let dir = if model.project.cloud.kind() == "gcp" { String::new() } else { "gcp/".into() };
            let (check, resource, reason) = GCS_BACKUPS;
            out.push(Waiver {
                check,
                file: format!("terraform/{dir}{}/backups.tf.json", e.name),
                resource: resource.to_string(),
                reason,
            });
        }
        if let Some(f) = super::failover::of_primary(model, e) {
            let (check, resource, reason) = STANDBY_RECORD;
            let own = f.standby_host.is_some().then_some("aws_route53_record.standby_host");
            for resource in std::iter::once(resource).chain(own) {
                out.push(Waiver {
                    check,
                    file: format!("terraform/{}/failover.tf.json", e.name),
                    resource: resource.to_string(),
                    reason,
                });
            }
        }
        if super::edge::edge(model, e).is_some_and(|x| x.cdn.is_some()) {
            out.extend(CDN.iter().map(|(check, resource, reason)| Waiver {
                check,
                file: format!("terraform/{}/cdn.tf.json", e.name),
                resource: resource.to_string(),
                reason,
            }));
        }
    }
    out
}

/// The baseline as the repository holds it (under the GitOps path), for
/// the Checkov gates' `--baseline`, when the output waives anything.
pub fn baseline_in_repo(model: &Model) -> Option<String> {
    (!all(model).is_empty()).then(|| format!("{}{BASELINE}", super::delivery::gitops_path(model)))
}

/// The resource names Checkov 3's Terraform JSON runner reports: a
/// resource's own checks name it `resource.<name>`, graph checks
/// `<type>.<name>`. The baseline lists both, so a later Checkov that
/// reports `<type>.<name>` everywhere still matches.
pub fn checkov_names(resource: &str) -> Vec<String> {
    let name = resource.split_once('.').map_or(resource, |(_, n)| n);
    vec![resource.to_string(), format!("resource.{name}")]
}

/// The Checkov baseline of the waivers (Checkov's `--create-baseline`
/// format, each finding with a `reasons` map Checkov ignores), or `None`.
pub fn baseline(model: &Model) -> Option<String> {
    use std::collections::BTreeMap;
    let waivers = all(model);
    if waivers.is_empty() {
        return None;
    }
    // file → resource name → check → reason
    let mut by: BTreeMap<String, BTreeMap<String, BTreeMap<&str, &str>>> = BTreeMap::new();
    for w in &waivers {
        for name in checkov_names(&w.resource) {
            by.entry(format!("/{}", w.file)).or_default().entry(name).or_default().insert(w.check, w.reason);
        }
    }
    let failed: Vec<serde_json::Value> = by
        .into_iter()
        .map(|(file, resources)| {
            let findings: Vec<serde_json::Value> = resources
                .into_iter()
                .map(|(resource, checks)| {
                    serde_json::json!({
                        "resource": resource,
                        "check_ids": checks.keys().collect::<Vec<_>>(),
                        "reasons": checks
                    })
                })
                .collect();
            serde_json::json!({ "file": file, "findings": findings })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "failed_checks": failed })).ok().map(|s| s + "\n")
}
