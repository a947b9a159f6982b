//! `cdn.tf.json` of an environment with `edge { cdn { ... } }`: the
//! CloudFront distribution `plan::edge` decides, in front of the
//! environment's ALB. Its certificate, its web ACL (scope `CLOUDFRONT`) and
//! its logs live in us-east-1, where CloudFront reads them, through the
//! provider `aws.us_east_1`; its access logs (standard logging v2) go to a
//! CloudWatch log group there, encrypted with a key of that region. The
//! security group admitting CloudFront's origin-facing addresses to the
//! ALB is created here and attached by the load balancer controller (the
//! Ingresses name it), so Terraform sees it unattached.
//!
//! **Invariant:** every resource in us-east-1 names the provider
//! `aws.us_east_1`; the distribution's origin is the origin host the
//! Ingresses serve, and its certificate the one issued in us-east-1.

use super::edge::{acl, AclPlace};
use super::{attr, expr, jsonencode, Cx};
use crate::plan::edge::{self, Cdn, LOG_RETENTION_DAYS};
use serde_json::{json, Value};

const FILE: &str = "cdn.tf.json";
/// The provider configuration of us-east-1.
pub const PROVIDER: &str = "aws.us_east_1";
/// CloudFront's hosted zone, the target zone of every alias record to a distribution.
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

/// The environment's CDN, when it declares one.
pub fn of(cx: &Cx) -> Option<Cdn> {
    edge::edge(cx.model, cx.env)?.cdn
}

/// Adds the us-east-1 provider configuration beside the others.
fn provider(cx: &mut Cx) {
    cx.m.aws_provider_alias("us_east_1", "us-east-1");
}

/// The key encrypting the CDN's log groups in us-east-1 (a log group's key
/// must be in its region).
fn key(cx: &mut Cx) {
    use super::security::{account_statement, kms_key, logs_statement};
    let statements = vec![account_statement(), logs_statement("us-east-1")];
    kms_key(cx, FILE, "cdn", Some(PROVIDER), "${local.name}: CDN logs in us-east-1", "${local.name}-cdn", statements);
}

/// The public host's certificate in us-east-1, validated by DNS: through
/// the Route53 zone when the program declares one, else by the records the
/// team creates (an output; the ACM console shows them while apply waits).
/// Returns the ARN the distribution names, once issued.
fn certificate(cx: &mut Cx, cdn: &Cdn) -> String {
    cx.m.resource(
        FILE,
        "aws_acm_certificate",
        "cdn",
        json!({
            "provider": PROVIDER,
            "domain_name": cdn.host,
            "validation_method": "DNS",
            "lifecycle": { "create_before_destroy": true },
            "tags": cx.tags(&cx.name("cdn"))
        }),
    );
    let options = "aws_acm_certificate.cdn.domain_validation_options";
    let mut validation = json!({ "provider": PROVIDER, "certificate_arn": attr("aws_acm_certificate", "cdn", "arn") });
    if let Some(fqdns) = super::security::validation_records(cx, FILE, "cdn", "cdn_certificate_validation") {
        validation["validation_record_fqdns"] = json!(fqdns);
    } else {
        cx.m.output(
            "cdn_certificate_validation_records",
            "DNS records that validate the CDN certificate (us-east-1): create them in the zone that serves the host; apply waits until ACM has issued it",
            expr(&format!("[for o in {options} : {{ name = o.resource_record_name, type = o.resource_record_type, value = o.resource_record_value }}]")),
        );
    }
    cx.m.resource(FILE, "aws_acm_certificate_validation", "cdn", validation);
    attr("aws_acm_certificate_validation", "cdn", "certificate_arn")
}

/// The security group of the ALB: HTTPS from CloudFront's origin-facing
/// addresses only, and connections from the ALB to the pods in the VPC.
fn origin_group(cx: &mut Cx, cdn: &Cdn) {
    cx.m.data(
        "data.tf.json",
        "aws_ec2_managed_prefix_list",
        "cloudfront",
        json!({ "name": edge::CLOUDFRONT_PREFIX_LIST }),
    );
    cx.m.data("data.tf.json", "aws_vpc", "main", json!({ "id": expr("local.vpc_id") }));
    cx.m.resource(
        FILE,
        "aws_security_group",
        "cdn_origin",
        json!({
            "name": cdn.security_group,
            "description": format!("ALB of {}: HTTPS from CloudFront only (attached by the load balancer controller)", cdn.origin_host),
            "vpc_id": expr("local.vpc_id"),
            "tags": cx.tags(&cdn.security_group)
        }),
    );
    cx.m.resource(
        FILE,
        "aws_vpc_security_group_ingress_rule",
        "cdn_origin_https",
        json!({
            "security_group_id": attr("aws_security_group", "cdn_origin", "id"),
            "prefix_list_id": attr("data.aws_ec2_managed_prefix_list", "cloudfront", "id"),
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "description": "HTTPS from CloudFront's origin-facing addresses"
        }),
    );
    cx.m.resource(
        FILE,
        "aws_vpc_security_group_egress_rule",
        "cdn_origin_targets",
        json!({
            "security_group_id": attr("aws_security_group", "cdn_origin", "id"),
            "cidr_ipv4": attr("data.aws_vpc", "main", "cidr_block"),
            "ip_protocol": "tcp",
            "from_port": 1,
            "to_port": 65535,
            "description": "the ALB to its pod targets in the VPC"
        }),
    );
}

/// CloudFront's access logs (standard logging v2) to a log group in us-east-1.
fn logging(cx: &mut Cx, cdn: &Cdn) {
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_group",
        "cdn",
        json!({
            "provider": PROVIDER,
            "name": cdn.log_group,
            "retention_in_days": LOG_RETENTION_DAYS,
            "kms_key_id": attr("aws_kms_key", "cdn", "arn"),
            "tags": cx.tags(&cdn.log_group)
        }),
    );
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudFrontLogDelivery",
            "Effect": "Allow",
            "Principal": { "Service": "delivery.logs.amazonaws.com" },
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{}:*", attr("aws_cloudwatch_log_group", "cdn", "arn")),
            "Condition": {
                "StringEquals": { "aws:SourceAccount": "${local.account_id}" },
                "ArnLike": { "aws:SourceArn": "arn:${local.partition}:logs:us-east-1:${local.account_id}:*" }
            }
        }]
    });
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_resource_policy",
        "cdn",
        json!({ "provider": PROVIDER, "policy_name": cx.name("cdn-logs"), "policy_document": jsonencode(&policy) }),
    );
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_delivery_source",
        "cdn",
        json!({
            "provider": PROVIDER,
            "name": cx.name("cdn"),
            "log_type": "ACCESS_LOGS",
            "resource_arn": attr("aws_cloudfront_distribution", "cdn", "arn")
        }),
    );
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_delivery_destination",
        "cdn",
        json!({
            "provider": PROVIDER,
            "name": cx.name("cdn-logs"),
            "output_format": "json",
            "delivery_destination_configuration": [{
                "destination_resource_arn": attr("aws_cloudwatch_log_group", "cdn", "arn")
            }]
        }),
    );
    cx.m.resource(
        FILE,
        "aws_cloudwatch_log_delivery",
        "cdn",
        json!({
            "provider": PROVIDER,
            "delivery_source_name": attr("aws_cloudwatch_log_delivery_source", "cdn", "name"),
            "delivery_destination_arn": attr("aws_cloudwatch_log_delivery_destination", "cdn", "arn"),
            "depends_on": ["aws_cloudwatch_log_resource_policy.cdn"]
        }),
    );
}

/// The security headers every response carries (HSTS for a year with
/// subdomains, no MIME sniffing, no full referrer to other origins).
fn headers(cx: &mut Cx) {
    cx.m.resource(
        FILE,
        "aws_cloudfront_response_headers_policy",
        "cdn",
        json!({
            "name": cx.name("cdn"),
            "comment": "security headers of ${local.name}, managed by deployc",
            "security_headers_config": [{
                "strict_transport_security": [{
                    "access_control_max_age_sec": 31536000,
                    "include_subdomains": true,
                    "preload": true,
                    "override": true
                }],
                "content_type_options": [{ "override": true }],
                "referrer_policy": [{ "referrer_policy": "strict-origin-when-cross-origin", "override": false }]
            }]
        }),
    );
}

/// A cache behaviour's common part.
fn behaviour(cx_policy: &str, methods: &[&str]) -> Value {
    json!({
        "target_origin_id": "alb",
        "viewer_protocol_policy": "redirect-to-https",
        "allowed_methods": methods,
        "cached_methods": ["GET", "HEAD"],
        "cache_policy_id": attr("data.aws_cloudfront_cache_policy", cx_policy, "id"),
        "response_headers_policy_id": attr("aws_cloudfront_response_headers_policy", "cdn", "id"),
        "compress": true
    })
}

pub fn distribution(cx: &mut Cx) {
    let Some(cdn) = of(cx) else { return };
    provider(cx);
    key(cx);
    let certificate = certificate(cx, &cdn);
    origin_group(cx, &cdn);
    for (id, name) in [("static", edge::CACHE_POLICY_STATIC), ("dynamic", edge::CACHE_POLICY_DYNAMIC)] {
        cx.m.data("data.tf.json", "aws_cloudfront_cache_policy", id, json!({ "name": name }));
    }
    cx.m.data(
        "data.tf.json",
        "aws_cloudfront_origin_request_policy",
        "all_viewer_except_host",
        json!({ "name": edge::ORIGIN_REQUEST_POLICY }),
    );
    headers(cx);
    if let Some(waf) = &cdn.waf {
        acl(
            cx,
            waf,
            &AclPlace {
                file: FILE,
                id: "cdn",
                log_id: "cdn_waf",
                scope: "CLOUDFRONT",
                provider: Some(PROVIDER),
                region: "us-east-1",
                key: attr("aws_kms_key", "cdn", "arn"),
                what: "edge protection of the environment CDN, managed by deployc",
            },
        );
    }
    // Everything not listed goes to the ALB uncached, with every viewer
    // header, cookie and query string but `Host` (CloudFront sends the
    // origin's name, the host the Ingresses serve).
    let mut default = behaviour("dynamic", &["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]);
    default["origin_request_policy_id"] =
        json!(attr("data.aws_cloudfront_origin_request_policy", "all_viewer_except_host", "id"));
    // Static paths are cached by path and compression only; without an
    // origin request policy CloudFront sends the origin's name as `Host`.
    let mut ordered: Vec<Value> = cdn
        .paths
        .iter()
        .map(|p| {
            let mut b = behaviour("static", &["GET", "HEAD", "OPTIONS"]);
            b["path_pattern"] = json!(p);
            b
        })
        .collect();
    // A warm standby's certificate for this host: ACME challenges go to it
    // by its own name, with the viewer's `Host` (its solver answers for this
    // host), uncached, first of all paths. The validator's HTTP request is
    // redirected to HTTPS like any other (certificate authorities follow
    // that redirect); the origin leg is HTTP, where the solver listens.
    let standby = crate::plan::failover::of_primary(cx.model, cx.env).and_then(|f| f.standby_host);
    if standby.is_some() {
        cx.m.data(
            "data.tf.json",
            "aws_cloudfront_origin_request_policy",
            "all_viewer",
            json!({ "name": edge::ORIGIN_REQUEST_POLICY_ALL }),
        );
        let mut b = behaviour("dynamic", &["GET", "HEAD"]);
        b["path_pattern"] = json!(crate::plan::failover::ACME_PATH);
        b["target_origin_id"] = json!("standby");
        b["compress"] = json!(false);
        b["origin_request_policy_id"] = json!(attr("data.aws_cloudfront_origin_request_policy", "all_viewer", "id"));
        ordered.insert(0, b);
    }
    let mut body = json!({
        "enabled": true,
        "is_ipv6_enabled": true,
        "http_version": "http2and3",
        "comment": format!("CDN of {}, managed by deployc", cdn.host),
        "aliases": [cdn.host],
        "origin": [{
            "origin_id": "alb",
            "domain_name": cdn.origin_host,
            "custom_origin_config": [{
                "http_port": 80,
                "https_port": 443,
                "origin_protocol_policy": "https-only",
                "origin_ssl_protocols": ["TLSv1.2"]
            }]
        }],
        "default_cache_behavior": [default],
        "ordered_cache_behavior": ordered,
        "restrictions": [{ "geo_restriction": [{ "restriction_type": "none", "locations": [] }] }],
        "viewer_certificate": [{
            "acm_certificate_arn": certificate,
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": edge::CDN_VIEWER_POLICY
        }],
        "tags": cx.tags(&cx.name("cdn"))
    });
    if let (Some(host), Some(origins)) = (&standby, body["origin"].as_array_mut()) {
        origins.push(json!({
            "origin_id": "standby",
            "domain_name": host,
            "custom_origin_config": [{
                "http_port": 80,
                "https_port": 443,
                "origin_protocol_policy": "http-only",
                "origin_ssl_protocols": ["TLSv1.2"]
            }]
        }));
    }
    if cdn.waf.is_some() {
        body["web_acl_id"] = json!(attr("aws_wafv2_web_acl", "cdn", "arn"));
    }
    cx.m.resource(FILE, "aws_cloudfront_distribution", "cdn", body);
    logging(cx, &cdn);
    if cdn.shield {
        cx.m.resource(
            FILE,
            "aws_shield_protection",
            "cdn",
            json!({
                "provider": PROVIDER,
                "name": cx.name("cdn"),
                "resource_arn": attr("aws_cloudfront_distribution", "cdn", "arn"),
                "tags": cx.tags(&cx.name("cdn"))
            }),
        );
    }
    dns(cx, &cdn);
    cx.m.output(
        "cdn_domain_name",
        &format!("the CloudFront name {} points at", cdn.host),
        attr("aws_cloudfront_distribution", "cdn", "domain_name"),
    );
    cx.m.output(
        "cdn_distribution_id",
        "the distribution's id (for invalidations)",
        attr("aws_cloudfront_distribution", "cdn", "id"),
    );
}

/// The public host's alias records to the distribution, when the zone is
/// the program's; otherwise the records to create are an output. (The
/// origin host's record to the ALB is `security::dns`'s, as every other
/// ALB host's.)
fn dns(cx: &mut Cx, cdn: &Cdn) {
    let zone = cx.model.project.dns.as_ref().map(|d| d.zone.trim_end_matches('.').to_string());
    match zone {
        Some(zone) if cdn.host == zone || cdn.host.ends_with(&format!(".{zone}")) => {
            // With a standby the A record is the PRIMARY of a failover pair
            // (`failover.rs`); the standby has no IPv6 address, so no AAAA
            // record would send IPv6 clients to a failed primary.
            let failover = crate::plan::failover::of_primary(cx.model, cx.env).is_some();
            let types: &[&str] = if failover { &["A"] } else { &["A", "AAAA"] };
            for ty in types {
                let mut record = json!({
                    "zone_id": attr("data.aws_route53_zone", "main", "zone_id"),
                    "name": cdn.host,
                    "type": ty,
                    "alias": {
                        "name": attr("aws_cloudfront_distribution", "cdn", "domain_name"),
                        "zone_id": CLOUDFRONT_ZONE,
                        "evaluate_target_health": false
                    }
                });
                if failover {
                    record["set_identifier"] = json!("primary");
                    record["failover_routing_policy"] = json!({ "type": "PRIMARY" });
                    record["health_check_id"] = json!(super::failover::health_check_id());
                }
                cx.m.resource(FILE, "aws_route53_record", &format!("cdn_{}", ty.to_lowercase()), record);
            }
        }
        _ => cx.m.output(
            "cdn_dns_records",
            "DNS records to create: the public host to CloudFront, and the origin host CloudFront connects to to the ingress load balancer",
            expr(&format!(
                "[{{ name = \"{}\", type = \"CNAME\", value = aws_cloudfront_distribution.cdn.domain_name }}, {{ name = \"{}\", type = \"CNAME\", value = \"the DNS name of the ALB of group {}\" }}]",
                cdn.host,
                cdn.origin_host,
                crate::plan::routes::alb_group_name(cx.model, cx.env)
            )),
        ),
    }
}
