//! A CDN read as CloudFront, AWS and the load balancer controller would:
//! the distribution's origin is a host every `alb` Ingress of the
//! environment serves (CloudFront sends it as `Host`), over HTTPS, on a
//! certificate the regional root requests for it; the distribution's own
//! certificate and web ACL are in us-east-1; the listed paths are cached
//! and nothing else is; the public host's record points at CloudFront and
//! the origin host's at the ALB, which admits CloudFront only.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

const PROGRAM: &str = include_str!("cases/pass/edge_cdn.dpl");
const HOST: &str = "shop-prod.shop.acme.dev";

fn tree() -> BTreeMap<String, Value> {
    common::parsed_tree(PROGRAM, &[Target::K8s, Target::Terraform, Target::Helm])
}

fn annotation<'a>(ing: &'a Value, key: &str) -> Option<&'a str> {
    ing.pointer(&format!("/metadata/annotations/{}", key.replace('/', "~1"))).and_then(Value::as_str)
}

fn cdn(t: &BTreeMap<String, Value>) -> &Value {
    &t["terraform/prod/cdn.tf.json"]
}

fn distribution(t: &BTreeMap<String, Value>) -> &Value {
    &cdn(t)["resource"]["aws_cloudfront_distribution"]["cdn"]
}

/// `${data.TYPE.NAME.id}` → the data source's `name`.
fn data_name<'a>(t: &'a BTreeMap<String, Value>, reference: &str) -> &'a str {
    let inner = reference.trim_start_matches("${data.").trim_end_matches(".id}");
    let (ty, name) = inner.split_once('.').expect("data.TYPE.NAME");
    t["terraform/prod/data.tf.json"]["data"][ty][name]["name"].as_str().expect("named data source")
}

#[test]
fn the_origin_host_is_the_host_every_alb_ingress_serves() {
    let t = tree();
    let d = distribution(&t);
    assert_eq!(d["aliases"], serde_json::json!([HOST]));
    let origins = d["origin"].as_array().unwrap();
    assert_eq!(origins.len(), 1);
    let origin = origins[0]["domain_name"].as_str().unwrap();
    assert_eq!(origin, format!("origin.{HOST}"));
    let custom = &origins[0]["custom_origin_config"][0];
    assert_eq!(custom["origin_protocol_policy"], "https-only");
    assert_eq!(custom["origin_ssl_protocols"], serde_json::json!(["TLSv1.2"]));
    let values = serde_json::to_string(&t["helm/shop/values-prod.yaml"]).unwrap();
    for svc in ["web", "api"] {
        let ing = &t[&format!("k8s/prod/ingress-{svc}.yaml")];
        let hosts: Vec<&str> =
            ing["spec"]["rules"].as_array().unwrap().iter().map(|r| r["host"].as_str().unwrap()).collect();
        assert_eq!(hosts, [origin], "{svc} serves the Host CloudFront sends");
        // The ALB admits CloudFront only, and has no WAF of its own (the ACL
        // is CloudFront's: behind it, every client IP is an edge location's).
        let group = annotation(ing, "alb.ingress.kubernetes.io/security-groups").expect("security group");
        let sg = &cdn(&t)["resource"]["aws_security_group"]["cdn_origin"];
        assert_eq!(sg["tags"]["Name"], group, "the controller finds the group by its Name tag");
        assert_eq!(annotation(ing, "alb.ingress.kubernetes.io/manage-backend-security-group-rules"), Some("true"));
        assert_eq!(annotation(ing, "alb.ingress.kubernetes.io/wafv2-acl-name"), None);
        assert_eq!(annotation(ing, "alb.ingress.kubernetes.io/listen-ports"), Some(r#"[{"HTTPS": 443}]"#));
        // CloudFront speaks TLS 1.2 to origins: the listener must accept it.
        assert_eq!(
            annotation(ing, "alb.ingress.kubernetes.io/ssl-policy"),
            Some("ELBSecurityPolicy-TLS13-1-2-2021-06")
        );
    }
    // Helm renders the same host.
    assert!(values.contains(&format!("\"host\":\"{origin}\"")), "{values}");
    assert!(!values.contains(&format!("\"host\":\"{HOST}\"")));
    // The ALB's certificate (found by host) covers the origin host.
    let cert = &t["terraform/prod/certificates.tf.json"]["resource"]["aws_acm_certificate"]["ingress"];
    assert_eq!(cert["domain_name"], origin);
    // Only CloudFront's origin-facing addresses reach the ALB, on 443.
    let res = &cdn(&t)["resource"];
    let rule = &res["aws_vpc_security_group_ingress_rule"]["cdn_origin_https"];
    assert_eq!((rule["from_port"].as_u64(), rule["to_port"].as_u64()), (Some(443), Some(443)));
    assert_eq!(rule["prefix_list_id"], "${data.aws_ec2_managed_prefix_list.cloudfront.id}");
    assert_eq!(
        t["terraform/prod/data.tf.json"]["data"]["aws_ec2_managed_prefix_list"]["cloudfront"]["name"],
        "com.amazonaws.global.cloudfront.origin-facing"
    );
    assert_eq!(res["aws_vpc_security_group_ingress_rule"].as_object().unwrap().len(), 1);
}

#[test]
fn certificate_and_web_acl_are_in_us_east_1() {
    let t = tree();
    let providers = t["terraform/prod/main.tf.json"]["provider"]["aws"].as_array().expect("several providers").clone();
    let east = providers.iter().find(|p| p["alias"] == "us_east_1").expect("the us-east-1 alias");
    assert_eq!(east["region"], "us-east-1");
    let res = &cdn(&t)["resource"];
    let cert = &res["aws_acm_certificate"]["cdn"];
    assert_eq!(cert["provider"], "aws.us_east_1");
    assert_eq!(cert["domain_name"], HOST);
    assert_eq!(cert["validation_method"], "DNS");
    assert_eq!(res["aws_acm_certificate_validation"]["cdn"]["provider"], "aws.us_east_1");
    let viewer = &distribution(&t)["viewer_certificate"][0];
    assert_eq!(viewer["acm_certificate_arn"], "${aws_acm_certificate_validation.cdn.certificate_arn}");
    assert_eq!(viewer["ssl_support_method"], "sni-only");
    assert_eq!(viewer["minimum_protocol_version"], "TLSv1.2_2021");
    let acl = &res["aws_wafv2_web_acl"]["cdn"];
    assert_eq!(acl["scope"], "CLOUDFRONT");
    assert_eq!(acl["provider"], "aws.us_east_1");
    assert_eq!(distribution(&t)["web_acl_id"], "${aws_wafv2_web_acl.cdn.arn}");
    let groups: Vec<&str> = acl["rule"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["statement"]["managed_rule_group_statement"]["name"].as_str())
        .collect();
    assert!(
        groups.contains(&"AWSManagedRulesKnownBadInputsRuleSet") && groups.contains(&"AWSManagedRulesAnonymousIpList")
    );
    // Everything CloudFront reads from us-east-1 is created there.
    for ty in [
        "aws_acm_certificate",
        "aws_acm_certificate_validation",
        "aws_kms_key",
        "aws_kms_alias",
        "aws_wafv2_web_acl",
        "aws_wafv2_web_acl_logging_configuration",
        "aws_cloudwatch_log_group",
        "aws_cloudwatch_log_resource_policy",
        "aws_cloudwatch_log_delivery_source",
        "aws_cloudwatch_log_delivery_destination",
        "aws_cloudwatch_log_delivery",
        "aws_shield_protection",
    ] {
        for (name, body) in res[ty].as_object().unwrap_or_else(|| panic!("{ty}")) {
            assert_eq!(body["provider"], "aws.us_east_1", "{ty}.{name}");
        }
    }
    // The log groups use the us-east-1 key.
    for (name, body) in res["aws_cloudwatch_log_group"].as_object().unwrap() {
        assert_eq!(body["kms_key_id"], "${aws_kms_key.cdn.arn}", "{name}");
    }
    // Staging keeps its regional ACL on its ALB, and no CDN.
    assert!(!t.contains_key("terraform/staging/cdn.tf.json"));
    assert_eq!(t["terraform/staging/edge.tf.json"]["resource"]["aws_wafv2_web_acl"]["edge"]["scope"], "REGIONAL");
    assert_eq!(
        annotation(&t["k8s/staging/ingress-web.yaml"], "alb.ingress.kubernetes.io/wafv2-acl-name"),
        Some("shop-staging")
    );
    assert!(!t.contains_key("terraform/prod/edge.tf.json"), "no regional ACL behind the CDN");
}

#[test]
fn the_static_paths_are_cached_and_nothing_else() {
    let t = tree();
    let d = distribution(&t);
    let ordered = d["ordered_cache_behavior"].as_array().unwrap();
    let paths: Vec<&str> = ordered.iter().map(|b| b["path_pattern"].as_str().unwrap()).collect();
    assert_eq!(paths, ["/static/*", "/assets/*.js", "/favicon.ico"]);
    for b in ordered {
        assert_eq!(data_name(&t, b["cache_policy_id"].as_str().unwrap()), "Managed-CachingOptimized");
        // No origin request policy: CloudFront sends the origin's name as Host.
        assert!(b.get("origin_request_policy_id").is_none());
        assert_eq!(b["allowed_methods"], serde_json::json!(["GET", "HEAD", "OPTIONS"]));
        assert_eq!(b["viewer_protocol_policy"], "redirect-to-https");
    }
    let default = &d["default_cache_behavior"][0];
    assert_eq!(data_name(&t, default["cache_policy_id"].as_str().unwrap()), "Managed-CachingDisabled");
    assert_eq!(
        data_name(&t, default["origin_request_policy_id"].as_str().unwrap()),
        "Managed-AllViewerExceptHostHeader"
    );
    assert!(default["allowed_methods"].as_array().unwrap().contains(&Value::from("POST")));
    let target = |b: &Value| b["target_origin_id"].as_str().unwrap().to_string();
    assert!(ordered.iter().chain([default]).all(|b| target(b) == d["origin"][0]["origin_id"].as_str().unwrap()));
    assert!(d["response_headers_policy_id"].is_null());
    assert_eq!(default["response_headers_policy_id"], "${aws_cloudfront_response_headers_policy.cdn.id}");
}

#[test]
fn the_public_host_points_at_cloudfront_and_the_origin_host_at_the_alb() {
    let t = tree();
    let res = &cdn(&t)["resource"]["aws_route53_record"];
    for ty in ["a", "aaaa"] {
        let r = &res[&format!("cdn_{ty}")];
        assert_eq!(r["name"], HOST);
        assert_eq!(r["alias"]["name"], "${aws_cloudfront_distribution.cdn.domain_name}");
        assert_eq!(r["alias"]["zone_id"], "Z2FDTNDATAQYW2");
    }
    let dns = &t["terraform/prod/dns.tf.json"]["resource"]["aws_route53_record"];
    let names: Vec<&str> = dns.as_object().unwrap().values().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, [format!("origin.{HOST}")], "the ALB's record is the origin host's only");
    // Staging's host still points at its ALB.
    let staging = &t["terraform/staging/dns.tf.json"]["resource"]["aws_route53_record"];
    let names: Vec<&str> = staging.as_object().unwrap().values().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shop-staging.shop.acme.dev"]);
}

#[test]
fn path_patterns_are_those_cloudfront_accepts_and_leave_something_uncached() {
    use deployc::model::cdn_path_problem;
    for ok in ["/static/*", "/assets/*.js", "/favicon.ico", "/", "/img/??.png"] {
        assert_eq!(cdn_path_problem(ok), None, "{ok}");
    }
    for bad in ["static/*", "/*", "/**", "/*/*", "/a b", "/q?x=1&y=<2>", &format!("/{}", "a".repeat(255))] {
        assert!(cdn_path_problem(bad).is_some(), "{bad}");
    }
}
