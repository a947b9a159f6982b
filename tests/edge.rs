//! Edge protection read as AWS and the load balancer controller would: the
//! web ACL an environment's Terraform creates is the one every `alb`
//! Ingress of that environment names (Kubernetes and Helm alike), with the
//! managed rule groups, the declared rate limit and logging; the
//! controller's role may find it by name and associate it; nothing of it
//! appears where `edge` is not declared.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

const PROGRAM: &str = include_str!("cases/pass/edge_protection.dpl");

fn tree(text: &str) -> BTreeMap<String, Value> {
    common::parsed_tree(text, &[Target::K8s, Target::Terraform, Target::Argocd, Target::Helm])
}

fn annotation<'a>(ing: &'a Value, key: &str) -> Option<&'a str> {
    ing.pointer(&format!("/metadata/annotations/{}", key.replace('/', "~1"))).and_then(Value::as_str)
}

fn acl(t: &BTreeMap<String, Value>, env: &str) -> Value {
    t[&format!("terraform/{env}/edge.tf.json")]["resource"]["aws_wafv2_web_acl"]["edge"].clone()
}

#[test]
fn every_alb_ingress_names_the_acl_its_environment_creates() {
    let t = tree(PROGRAM);
    for env in ["staging", "prod"] {
        let name = acl(&t, env)["name"].as_str().expect("the ACL has a literal name").to_string();
        assert_eq!(name, format!("shop-{env}"));
        let web = &t[&format!("k8s/{env}/ingress-web.yaml")];
        assert_eq!(annotation(web, "alb.ingress.kubernetes.io/wafv2-acl-name"), Some(name.as_str()));
        // The nginx Ingress is behind a Network Load Balancer: no WAF there.
        let admin = &t[&format!("k8s/{env}/ingress-admin.yaml")];
        assert_eq!(annotation(admin, "alb.ingress.kubernetes.io/wafv2-acl-name"), None);
        // Helm renders the same annotations from the environment's values
        // (the first environment's are the chart's defaults).
        let file = if env == "staging" { "values.yaml".to_string() } else { format!("values-{env}.yaml") };
        let values = serde_json::to_string(&t[&format!("helm/shop/{file}")]).unwrap();
        assert!(values.contains(&format!("\"alb.ingress.kubernetes.io/wafv2-acl-name\":\"{name}\"")), "{env}");
        let outputs = &t[&format!("terraform/{env}/outputs.tf.json")]["output"];
        assert_eq!(outputs["waf_acl_arn"]["value"], "${aws_wafv2_web_acl.edge.arn}");
    }
    // Shield only where declared.
    let shield = "alb.ingress.kubernetes.io/shield-advanced-protection";
    assert_eq!(annotation(&t["k8s/prod/ingress-web.yaml"], shield), Some("true"));
    assert_eq!(annotation(&t["k8s/staging/ingress-web.yaml"], shield), None);
}

#[test]
fn the_acl_holds_the_rate_limit_and_the_managed_groups_and_logs() {
    let t = tree(PROGRAM);
    for (env, limit) in [("staging", 2000), ("prod", 500)] {
        let a = acl(&t, env);
        assert_eq!(a["scope"], "REGIONAL");
        let rules = a["rule"].as_array().unwrap();
        assert_eq!(rules[0]["statement"]["rate_based_statement"]["limit"], limit);
        assert!(rules[0]["action"]["block"].is_object());
        let groups: Vec<&str> = rules[1..]
            .iter()
            .map(|r| r["statement"]["managed_rule_group_statement"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            groups,
            [
                "AWSManagedRulesAmazonIpReputationList",
                "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet"
            ]
        );
        let mut priorities: Vec<u64> = rules.iter().map(|r| r["priority"].as_u64().unwrap()).collect();
        priorities.dedup();
        assert_eq!(priorities.len(), rules.len(), "priorities are distinct");
        let res = &t[&format!("terraform/{env}/edge.tf.json")]["resource"];
        let group = res["aws_cloudwatch_log_group"]["waf"]["name"].as_str().unwrap();
        assert!(group.starts_with("aws-waf-logs-"), "WAF only logs to groups with this prefix");
        let logging = &res["aws_wafv2_web_acl_logging_configuration"]["edge"];
        assert_eq!(logging["resource_arn"], "${aws_wafv2_web_acl.edge.arn}");
        assert_eq!(logging["log_destination_configs"][0], "${aws_cloudwatch_log_group.waf.arn}");
    }
}

#[test]
fn the_controller_may_find_and_associate_the_acl() {
    let t = tree(PROGRAM);
    let policy = serde_json::to_string(
        &t["terraform/clusters/main/irsa.tf.json"]["data"]["aws_iam_policy_document"]["load_balancer_controller"],
    )
    .unwrap();
    for action in
        ["wafv2:ListWebACLs", "wafv2:AssociateWebACL", "shield:CreateProtection", "elasticloadbalancing:SetWebAcl"]
    {
        assert!(policy.contains(action), "{action}");
    }
    // `wafv2-acl-name` needs controller v2.14.1 (chart 1.14.1) or later.
    let app = &t["argocd/addons/application-shop-aws-load-balancer-controller.yaml"];
    let v = app.pointer("/spec/source/targetRevision").and_then(Value::as_str).unwrap();
    let parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts >= vec![1, 14, 1], "{v}");
}

/// The ALB's HTTPS listener as the controller creates it: the security
/// policy of the environment's `min_tls` (TLS 1.3 only in prod here, TLS
/// 1.2 and 1.3 in staging), in Kubernetes and Helm alike.
#[test]
fn the_https_listener_accepts_the_declared_tls_versions_only() {
    let t = tree(PROGRAM);
    let policy = "alb.ingress.kubernetes.io/ssl-policy";
    for (env, expected) in
        [("staging", "ELBSecurityPolicy-TLS13-1-2-2021-06"), ("prod", "ELBSecurityPolicy-TLS13-1-3-2021-06")]
    {
        assert_eq!(annotation(&t[&format!("k8s/{env}/ingress-web.yaml")], policy), Some(expected), "{env}");
        // ingress-nginx terminates TLS itself: no ALB policy there.
        assert_eq!(annotation(&t[&format!("k8s/{env}/ingress-admin.yaml")], policy), None, "{env}");
        let file = if env == "staging" { "values.yaml".to_string() } else { format!("values-{env}.yaml") };
        let values = serde_json::to_string(&t[&format!("helm/shop/{file}")]).unwrap();
        assert!(values.contains(&format!("\"{policy}\":\"{expected}\"")), "{env}: {values}");
    }
}

/// Without the annotation the controller gives an HTTPS listener
/// `ELBSecurityPolicy-2016-08`, which accepts TLS 1.0 and 1.1: every TLS
/// `alb` Ingress of every example and test program names a TLS 1.3 policy.
#[test]
fn no_alb_https_listener_accepts_tls_below_1_2() {
    let mut seen = 0;
    for (name, _) in common::programs() {
        let c = common::compile_file(&name);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{name} compiles"));
        let options = Default::default();
        let plan = deployc::plan::Plan::new(&model, &graph, &options);
        for a in deployc::emit::emit(&plan, &[Target::K8s]) {
            let (path, Ok(doc)) = (&a.path, serde_yaml_ng::from_str::<Value>(&a.contents)) else { continue };
            if doc["kind"] != "Ingress" || doc.pointer("/spec/ingressClassName") != Some(&Value::from("alb")) {
                continue;
            }
            let doc = &doc;
            let https = annotation(doc, "alb.ingress.kubernetes.io/listen-ports").is_some_and(|p| p.contains("HTTPS"));
            if !https {
                continue;
            }
            let policy = annotation(doc, "alb.ingress.kubernetes.io/ssl-policy");
            assert!(
                matches!(policy, Some("ELBSecurityPolicy-TLS13-1-2-2021-06" | "ELBSecurityPolicy-TLS13-1-3-2021-06")),
                "{name} {path}: {policy:?}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 2, "only {seen} HTTPS ALB Ingresses seen");
}

#[test]
fn without_edge_there_is_no_acl_and_no_annotation() {
    let plain = PROGRAM
        .replace("  edge {}\n", "")
        .replace("  edge {\n    rate_limit = 500\n    shield     = true\n    min_tls    = tls13\n  }\n", "");
    assert!(!plain.contains("edge"), "{plain}");
    let t = tree(&plain);
    assert!(!t.keys().any(|k| k.ends_with("edge.tf.json")));
    assert_eq!(annotation(&t["k8s/prod/ingress-web.yaml"], "alb.ingress.kubernetes.io/wafv2-acl-name"), None);
    let policy = serde_json::to_string(&t["terraform/clusters/main/irsa.tf.json"]).unwrap();
    assert!(!policy.contains("wafv2:"));
}

/// Aurora Serverless v2 as RDS reads it: a provisioned-mode cluster with the
/// declared ACU range, and every instance `db.serverless`.
#[test]
fn aurora_serverless_instances_scale_within_the_declared_capacity() {
    let t = tree(include_str!("cases/pass/aurora_serverless.dpl"));
    let res = &t["terraform/prod/databases.tf.json"]["resource"];
    let cluster = &res["aws_rds_cluster"]["db"];
    assert_eq!(cluster["engine_mode"], "provisioned");
    assert_eq!(cluster["serverlessv2_scaling_configuration"]["min_capacity"], 0.5);
    assert_eq!(cluster["serverlessv2_scaling_configuration"]["max_capacity"], 16.0);
    let instances = &res["aws_rds_cluster_instance"]["db"];
    assert_eq!(instances["instance_class"], "db.serverless");
    assert_eq!(instances["count"], 2, "the writer and the read replica");
}
