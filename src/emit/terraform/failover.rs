//! `failover.tf.json` of a primary with a warm standby (`plan::failover`):
//! Route 53's HTTPS health check of the public host through CloudFront and
//! the calculated check over it that latches a failover,
//! the SECONDARY record to the standby's ingress address (the PRIMARY one
//! is `cdn.rs`'s alias record), and the role the standby's refresh job acts
//! as: it trusts only the standby's Google service account, reads only the
//! backup replica, and names the health check in a tag, since the job's
//! manifests cannot know its id.

use super::{attr, expr, literal, Cx, Validation, Variable};
use crate::plan::failover::{Failover, AUDIENCE, HEALTH_CHECK_TAG, LATCH_TAG};
use serde_json::json;

const FILE: &str = "failover.tf.json";

/// The id of the health check the PRIMARY record carries: the calculated
/// check that latches a failover ([`health_check`]).
pub fn health_check_id() -> String {
    attr("aws_route53_health_check", "failover", "id")
}

/// The id of the HTTPS probe of the primary.
fn probe_id() -> String {
    attr("aws_route53_health_check", "primary", "id")
}

fn variable(cx: &mut Cx, name: &str, description: &str, condition: &str, error: &str) {
    let v = Variable {
        ty: "string".into(),
        description: description.into(),
        default: Some(json!("")),
        sensitive: None,
        validation: vec![Validation { condition: expr(condition), error_message: error.into() }],
    };
    cx.m.file("main.tf.json").variable.insert(name.into(), v);
}

pub fn primary(cx: &mut Cx) {
    let Some(f) = crate::plan::failover::of_primary(cx.model, cx.env) else { return };
    health_check(cx, &f);
    secondary(cx, &f);
    role(cx, &f);
}

/// Three failed probes 30 seconds apart fail the primary over; a pass
/// brings it back. The probe goes through CloudFront, the ALB and a pod.
fn health_check(cx: &mut Cx, f: &Failover) {
    cx.m.resource(
        FILE,
        "aws_route53_health_check",
        "primary",
        json!({
            "fqdn": attr("aws_cloudfront_distribution", "cdn", "domain_name"),
            "type": "HTTPS",
            "port": 443,
            "enable_sni": true,
            "resource_path": literal(&f.health_path),
            "request_interval": 30,
            "failure_threshold": 3,
            "tags": cx.tags(&format!("{}-{}-primary", cx.model.project.name, f.primary))
        }),
    );
    // Route 53 fails back by itself once the probe passes, onto data older
    // than the standby's. The PRIMARY record therefore carries a
    // calculated check over the probe: healthy while the probe is (1 of 1
    // child). The standby's job latches a failover by raising its threshold
    // to 2 of 1, which Route 53 holds unhealthy; a person lowers it again
    // to fail back, so Terraform leaves the threshold alone.
    cx.m.resource(
        FILE,
        "aws_route53_health_check",
        "failover",
        json!({
            "type": "CALCULATED",
            "child_healthchecks": [probe_id()],
            "child_health_threshold": 1,
            "lifecycle": { "ignore_changes": ["child_health_threshold"] },
            "tags": cx.tags(&format!("{}-{}-failover", cx.model.project.name, f.primary))
        }),
    );
    cx.m.output("health_check_id", "Route 53's HTTPS probe of the primary", probe_id());
    cx.m.output(
        "failover_latch_id",
        "the calculated health check of the PRIMARY record: threshold 2 holds a failover, 1 fails back (aws route53 update-health-check --health-check-id ID --health-threshold 1)",
        health_check_id(),
    );
}

fn secondary(cx: &mut Cx, f: &Failover) {
    variable(
        cx,
        "standby_address",
        &format!(
            "the standby's ingress address (terraform/gcp/{}'s output ingress_address); the SECONDARY record of {} is created once it is set",
            f.standby, f.host
        ),
        "var.standby_address == \"\" || can(cidrhost(format(\"%s/32\", var.standby_address), 0))",
        "standby_address must be an IPv4 address.",
    );
    cx.m.data("data.tf.json", "aws_route53_zone", "main", json!({ "name": f.zone, "private_zone": false }));
    cx.m.resource(
        FILE,
        "aws_route53_record",
        "standby",
        json!({
            "count": expr("var.standby_address == \"\" ? 0 : 1"),
            "zone_id": attr("data.aws_route53_zone", "main", "zone_id"),
            "name": f.host,
            "type": "A",
            "ttl": 60,
            "records": [expr("var.standby_address")],
            "set_identifier": "standby",
            "failover_routing_policy": { "type": "SECONDARY" }
        }),
    );
    // The standby's own name, which CloudFront sends ACME challenges to.
    if let Some(own) = f.standby_host.as_ref().filter(|h| h.ends_with(&format!(".{}", f.zone)) || **h == f.zone) {
        cx.m.resource(
            FILE,
            "aws_route53_record",
            "standby_host",
            json!({
                "count": expr("var.standby_address == \"\" ? 0 : 1"),
                "zone_id": attr("data.aws_route53_zone", "main", "zone_id"),
                "name": own,
                "type": "A",
                "ttl": 300,
                "records": [expr("var.standby_address")]
            }),
        );
    }
}

fn role(cx: &mut Cx, f: &Failover) {
    variable(
        cx,
        "standby_identity",
        &format!(
            "the unique id of the standby's backup Google service account (terraform/gcp/{}'s output backup_identity); the restore role is created once it is set",
            f.standby
        ),
        "var.standby_identity == \"\" || can(regex(\"^[0-9]{21}$\", var.standby_identity))",
        "standby_identity must be a Google service account's 21-digit unique id.",
    );
    cx.m.data(
        FILE,
        "aws_iam_policy_document",
        "standby_restore_assume",
        json!({
            "statement": [{
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{ "type": "Federated", "identifiers": ["accounts.google.com"] }],
                // `aud` is the token's `azp` (the service account), `oaud`
                // its audience, `sub` the service account again.
                "condition": [
                    { "test": "StringEquals", "variable": "accounts.google.com:aud", "values": [expr("var.standby_identity")] },
                    { "test": "StringEquals", "variable": "accounts.google.com:sub", "values": [expr("var.standby_identity")] },
                    { "test": "StringEquals", "variable": "accounts.google.com:oaud", "values": [AUDIENCE] }
                ]
            }]
        }),
    );
    let mut tags = cx.tags(&f.role_name);
    tags[HEALTH_CHECK_TAG] = json!(probe_id());
    tags[LATCH_TAG] = json!(health_check_id());
    cx.m.resource(
        FILE,
        "aws_iam_role",
        "standby_restore",
        json!({
            "count": expr("var.standby_identity == \"\" ? 0 : 1"),
            "name": f.role_name,
            "description": format!("{}'s refresh job: reads {}'s backup replica and health check", f.standby, f.primary),
            "assume_role_policy": attr("data.aws_iam_policy_document", "standby_restore_assume", "json"),
            "max_session_duration": 3600,
            "tags": tags
        }),
    );
    cx.m.data(
        FILE,
        "aws_iam_policy_document",
        "standby_restore",
        json!({
            "statement": [
                { "sid": "ListReplica", "actions": ["s3:ListBucket"], "resources": [attr("aws_s3_bucket", "backups_replica", "arn")] },
                { "sid": "ReadReplica", "actions": ["s3:GetObject"], "resources": [format!("{}/*", attr("aws_s3_bucket", "backups_replica", "arn"))] },
                { "sid": "DecryptReplica", "actions": ["kms:Decrypt"], "resources": [attr("aws_kms_key", "secondary", "arn")] },
                { "sid": "PrimaryHealth", "actions": ["route53:GetHealthCheckStatus"],
                  "resources": [format!("arn:${{local.partition}}:route53:::healthcheck/{}", probe_id())] },
                { "sid": "HoldFailover", "actions": ["route53:UpdateHealthCheck"],
                  "resources": [format!("arn:${{local.partition}}:route53:::healthcheck/{}", health_check_id())] },
                { "sid": "OwnTags", "actions": ["iam:ListRoleTags"],
                  "resources": [format!("arn:${{local.partition}}:iam::${{local.account_id}}:role/{}", f.role_name)] }
            ]
        }),
    );
    cx.m.resource(
        FILE,
        "aws_iam_role_policy",
        "standby_restore",
        json!({
            "count": expr("var.standby_identity == \"\" ? 0 : 1"),
            "name": "restore",
            "role": expr("aws_iam_role.standby_restore[0].id"),
            "policy": attr("data.aws_iam_policy_document", "standby_restore", "json")
        }),
    );
}
