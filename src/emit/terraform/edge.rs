//! `edge.tf.json` of an environment with `edge { waf ... }`: the regional
//! WAF web ACL the environment's ALB is associated with (by name, through
//! the Ingress annotation `plan::edge` decides), its request logging to a
//! KMS-encrypted CloudWatch log group kept a year, and the log group's
//! resource policy for WAF's log delivery.

use super::{attr, jsonencode, Cx};
use crate::plan::edge::{self, WebAcl, LOG_RETENTION_DAYS};
use serde_json::{json, Value};

const FILE: &str = "edge.tf.json";

fn visibility(metric: &str) -> Value {
    json!({ "cloudwatch_metrics_enabled": true, "metric_name": metric, "sampled_requests_enabled": true })
}

/// Where a web ACL goes: its file and resource names, its scope, and the
/// provider, region and key of it and its log group.
pub struct AclPlace<'a> {
    pub file: &'static str,
    pub id: &'a str,
    pub log_id: &'a str,
    pub scope: &'a str,
    pub provider: Option<&'a str>,
    pub region: &'a str,
    pub key: String,
    pub what: &'a str,
}

/// With a provider alias, the body names it.
fn placed(mut v: Value, provider: Option<&str>) -> Value {
    if let (Some(p), Some(o)) = (provider, v.as_object_mut()) {
        o.insert("provider".into(), json!(p));
    }
    v
}

pub fn web_acl(cx: &mut Cx) {
    let Some(edge) = edge::edge(cx.model, cx.env) else { return };
    let Some(waf) = edge.waf else { return };
    let key = attr("aws_kms_key", "main", "arn");
    let place = AclPlace {
        file: FILE,
        id: "edge",
        log_id: "waf",
        scope: "REGIONAL",
        provider: None,
        region: "${var.region}",
        key,
        what: "edge protection of the environment load balancer, managed by deployc",
    };
    acl(cx, &waf, &place);
    cx.m.output(
        "waf_acl_arn",
        "the web ACL of this environment's ALB (the Ingresses name it: alb.ingress.kubernetes.io/wafv2-acl-name)",
        attr("aws_wafv2_web_acl", "edge", "arn"),
    );
    cx.m.output(
        "waf_acl_name",
        "the web ACL's name, as the Ingresses carry it",
        attr("aws_wafv2_web_acl", "edge", "name"),
    );
}

/// A web ACL with its rate limit and managed rule groups, its request
/// logging to a KMS-encrypted log group kept a year, and the log group's
/// resource policy for WAF's log delivery.
pub fn acl(cx: &mut Cx, acl: &WebAcl, at: &AclPlace) {
    let (file, id, log_id) = (at.file, at.id, at.log_id);
    // The rate limit first: a flood is cut before the managed groups spend
    // capacity on it.
    let mut rules = vec![json!({
        "name": "rate-limit",
        "priority": 0,
        "action": { "block": {} },
        "statement": { "rate_based_statement": { "limit": acl.rate_limit, "aggregate_key_type": "IP" } },
        "visibility_config": visibility(&format!("{}-rate-limit", acl.name))
    })];
    // Route 53's health checkers, on the health path only, before all:
    // they come from AWS's own addresses, which the anonymiser group blocks.
    if let Some(path) = &acl.health_checks {
        cx.m.data(file, "aws_ip_ranges", "route53_health_checks", json!({ "services": ["route53_healthchecks"] }));
        cx.m.resource(
            file,
            "aws_wafv2_ip_set",
            "route53_health_checks",
            placed(
                json!({
                    "name": format!("{}-route53-health-checks", acl.name),
                    "description": "Route 53 health checkers (AWS ip-ranges ROUTE53_HEALTHCHECKS)",
                    "scope": at.scope,
                    "ip_address_version": "IPV4",
                    "addresses": attr("data.aws_ip_ranges", "route53_health_checks", "cidr_blocks"),
                    "tags": cx.tags(&format!("{}-route53-health-checks", acl.name))
                }),
                at.provider,
            ),
        );
        rules.insert(0, json!({
            "name": "route53-health-checks",
            "priority": 0,
            "action": { "allow": {} },
            "statement": { "and_statement": { "statement": [
                { "ip_set_reference_statement": { "arn": attr("aws_wafv2_ip_set", "route53_health_checks", "arn") } },
                { "byte_match_statement": {
                    "field_to_match": { "uri_path": {} },
                    "positional_constraint": "EXACTLY",
                    "search_string": path,
                    "text_transformation": [{ "priority": 0, "type": "NONE" }]
                } }
            ] } },
            "visibility_config": visibility(&format!("{}-route53-health-checks", acl.name))
        }));
        // A warm standby's ACME challenges, which CloudFront sends to it.
        rules.insert(
            1,
            json!({
                "name": "acme-challenges",
                "priority": 1,
                "action": { "allow": {} },
                "statement": { "byte_match_statement": {
                    "field_to_match": { "uri_path": {} },
                    "positional_constraint": "STARTS_WITH",
                    "search_string": crate::plan::failover::ACME_PATH.trim_end_matches('*'),
                    "text_transformation": [{ "priority": 0, "type": "NONE" }]
                } },
                "visibility_config": visibility(&format!("{}-acme-challenges", acl.name))
            }),
        );
        rules[2]["priority"] = json!(2);
    }
    let first = rules.len();
    for (i, r) in acl.rules.iter().enumerate() {
        rules.push(json!({
            "name": r.metric,
            "priority": i + first,
            "override_action": { "none": {} },
            "statement": { "managed_rule_group_statement": { "name": r.group, "vendor_name": "AWS" } },
            "visibility_config": visibility(&format!("{}-{}", acl.name, r.metric))
        }));
    }
    cx.m.resource(
        file,
        "aws_wafv2_web_acl",
        id,
        placed(
            json!({
                "name": acl.name,
                "description": at.what,
                "scope": at.scope,
                "default_action": { "allow": {} },
                "rule": rules,
                "visibility_config": visibility(&acl.name),
                "tags": cx.tags(&acl.name)
            }),
            at.provider,
        ),
    );
    cx.m.resource(
        file,
        "aws_cloudwatch_log_group",
        log_id,
        placed(
            json!({
                "name": acl.log_group,
                "retention_in_days": LOG_RETENTION_DAYS,
                "kms_key_id": at.key,
                "tags": cx.tags(&acl.log_group)
            }),
            at.provider,
        ),
    );
    // WAF delivers its logs through CloudWatch Logs' log delivery service;
    // this policy lets it write to this group only, for this account.
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WafLogDelivery",
            "Effect": "Allow",
            "Principal": { "Service": "delivery.logs.amazonaws.com" },
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{}:*", attr("aws_cloudwatch_log_group", log_id, "arn")),
            "Condition": {
                "StringEquals": { "aws:SourceAccount": "${local.account_id}" },
                "ArnLike": { "aws:SourceArn": format!("arn:${{local.partition}}:logs:{}:${{local.account_id}}:*", at.region) }
            }
        }]
    });
    cx.m.resource(
        file,
        "aws_cloudwatch_log_resource_policy",
        log_id,
        placed(
            json!({ "policy_name": format!("{}-waf-logs", acl.name), "policy_document": jsonencode(&policy) }),
            at.provider,
        ),
    );
    // Credentials and session cookies never reach the logs.
    cx.m.resource(
        file,
        "aws_wafv2_web_acl_logging_configuration",
        id,
        placed(
            json!({
                "resource_arn": attr("aws_wafv2_web_acl", id, "arn"),
                "log_destination_configs": [attr("aws_cloudwatch_log_group", log_id, "arn")],
                "redacted_fields": [
                    { "single_header": { "name": "authorization" } },
                    { "single_header": { "name": "cookie" } }
                ],
                "depends_on": [format!("aws_cloudwatch_log_resource_policy.{log_id}")]
            }),
            at.provider,
        ),
    );
}
