//! `edge.tf.json` of an environment with `edge { waf ... }`: the regional
//! WAF web ACL the environment's ALB is associated with (by name, through
//! the Ingress annotation `plan::edge` decides), its request logging to a
//! KMS-encrypted CloudWatch log group kept a year, and the log group's
//! resource policy for WAF's log delivery.

use super::{attr, jsonencode, Cx};
use crate::plan::edge::{self, LOG_RETENTION_DAYS};
use serde_json::{json, Value};

const FILE: &str = "edge.tf.json";

fn visibility(metric: &str) -> Value {
    json!({ "cloudwatch_metrics_enabled": true, "metric_name": metric, "sampled_requests_enabled": true })
}

pub fn web_acl(cx: &mut Cx) {
    let Some(edge) = edge::edge(cx.model, cx.env) else { return };
    let Some(acl) = edge.waf else { return };
    // The rate limit first: a flood is cut before the managed groups spend
    // capacity on it.
    let mut rules = vec![json!({
        "name": "rate-limit",
        "priority": 0,
        "action": { "block": {} },
        "statement": { "rate_based_statement": { "limit": acl.rate_limit, "aggregate_key_type": "IP" } },
        "visibility_config": visibility(&format!("{}-rate-limit", acl.name))
    })];
    for (i, r) in acl.rules.iter().enumerate() {
        rules.push(json!({
            "name": r.metric,
            "priority": i + 1,
            "override_action": { "none": {} },
            "statement": { "managed_rule_group_statement": { "name": r.group, "vendor_name": "AWS" } },
            "visibility_config": visibility(&format!("{}-{}", acl.name, r.metric))
        }));
    }
    cx.m.resource(
        FILE,
        "aws_wafv2_web_acl",
        "edge",
        json!({
            "name": acl.name,
            "description": "edge protection of the environment load balancer, managed by deployc",
            "scope": "REGIONAL",
            "default_action": { "allow": {} },
            "rule": rules,
            "visibility_config": visibility(&acl.name),
            "tags": cx.tags(&acl.name)
        }),
    );
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_group",
        "waf",
        json!({
            "name": acl.log_group,
            "retention_in_days": LOG_RETENTION_DAYS,
            "kms_key_id": attr("aws_kms_key", "main", "arn"),
            "tags": cx.tags(&acl.log_group)
        }),
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
            "Resource": format!("{}:*", attr("aws_cloudwatch_log_group", "waf", "arn")),
            "Condition": {
                "StringEquals": { "aws:SourceAccount": "${local.account_id}" },
                "ArnLike": { "aws:SourceArn": "arn:${local.partition}:logs:${var.region}:${local.account_id}:*" }
            }
        }]
    });
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_resource_policy",
        "waf",
        json!({ "policy_name": format!("{}-waf-logs", acl.name), "policy_document": jsonencode(&policy) }),
    );
    // Credentials and session cookies never reach the logs.
    cx.m.resource(
        FILE,
        "aws_wafv2_web_acl_logging_configuration",
        "edge",
        json!({
            "resource_arn": attr("aws_wafv2_web_acl", "edge", "arn"),
            "log_destination_configs": [attr("aws_cloudwatch_log_group", "waf", "arn")],
            "redacted_fields": [
                { "single_header": { "name": "authorization" } },
                { "single_header": { "name": "cookie" } }
            ],
            "depends_on": ["aws_cloudwatch_log_resource_policy.waf"]
        }),
    );
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
