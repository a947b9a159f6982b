//! Edge protection of an environment (`edge { ... }`, AWS): the WAF web ACL
//! in front of its Application Load Balancer, what the ACL holds, where it
//! logs, and how the ALB is tied to it — decided once here. Terraform
//! creates the ACL and its logging; Kubernetes and Helm put the annotations
//! on the environment's `alb` Ingresses.
//!
//! *How the ACL reaches the Ingress.* A WAFv2 ARN ends in an id AWS picks
//! at creation (`.../regional/webacl/<name>/<uuid>`), so no ARN can be
//! written into a manifest before `terraform apply`. As for IRSA roles, the
//! plan decides the *name* (`<project>-<env>`), Terraform creates the ACL
//! under exactly that name (and outputs its ARN), and the Ingress names it
//! with `alb.ingress.kubernetes.io/wafv2-acl-name`, which the AWS Load
//! Balancer Controller (v2.14.1 and later, with `wafv2:ListWebACLs`)
//! resolves to the ARN when it reconciles. A web ACL's name is unique per
//! account, region and scope, so the name is as exact as the ARN.
//!
//! *Shield Advanced* protects the ALB through the controller's
//! `shield-advanced-protection` annotation: Terraform cannot name the ALB
//! (the controller creates it after the apply), so an `aws_shield_protection`
//! would have no resource ARN to point at. Both need the account's Shield
//! Advanced subscription, which is a yearly commitment deployc never creates.
//!
//! **Invariant:** every Ingress of class `alb` of an environment with a WAF
//! names the ACL the environment's Terraform root creates; Ingresses of one
//! ALB group all carry the same annotations (the controller refuses a group
//! whose members disagree).

use crate::model::{Environment, MinTls, Model};

/// The annotation naming the web ACL an ALB is associated with.
pub const WAF_ANNOTATION: &str = "alb.ingress.kubernetes.io/wafv2-acl-name";
/// The annotation that enables Shield Advanced on an ALB.
pub const SHIELD_ANNOTATION: &str = "alb.ingress.kubernetes.io/shield-advanced-protection";

/// The annotation choosing the security policy of the ALB's HTTPS listener.
pub const SSL_POLICY_ANNOTATION: &str = "alb.ingress.kubernetes.io/ssl-policy";

/// The ALB security policy of each minimum TLS version. Without one the
/// controller creates HTTPS listeners with `ELBSecurityPolicy-2016-08`
/// (the default of every API path but the console), which still accepts
/// TLS 1.0 and 1.1; AWS's TLS 1.3 policies accept 1.2 and 1.3, or 1.3 only.
pub fn ssl_policy(min: MinTls) -> &'static str {
    match min {
        MinTls::Tls12 => "ELBSecurityPolicy-TLS13-1-2-2021-06",
        MinTls::Tls13 => "ELBSecurityPolicy-TLS13-1-3-2021-06",
    }
}

/// The security policy of an environment's ALB HTTPS listener (one per ALB
/// group, so every TLS `alb` Ingress of the environment carries it).
pub fn env_ssl_policy(env: &Environment) -> &'static str {
    ssl_policy(env.edge.as_ref().and_then(|e| e.min_tls).unwrap_or(MinTls::Tls12))
}

/// One AWS managed rule group of the web ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManagedRules {
    /// The group's name in AWS (vendor `AWS`).
    pub group: &'static str,
    /// The CloudWatch metric of the rule (also the rule's name in the ACL).
    pub metric: &'static str,
    pub what: &'static str,
}

/// The AWS managed rule groups every web ACL holds, in evaluation order
/// after the rate limit: cheap IP reputation first, then the OWASP-style
/// common rules, then known bad inputs (Log4j, Java deserialisation).
pub static MANAGED_RULES: &[ManagedRules] = &[
    ManagedRules {
        group: "AWSManagedRulesAmazonIpReputationList",
        metric: "ip-reputation",
        what: "addresses Amazon threat intelligence lists as bots and attackers",
    },
    ManagedRules {
        group: "AWSManagedRulesCommonRuleSet",
        metric: "common",
        what: "the common web exploits (OWASP Top 10 classes)",
    },
    ManagedRules {
        group: "AWSManagedRulesKnownBadInputsRuleSet",
        metric: "known-bad-inputs",
        what: "request patterns known to be malicious (Log4j, Java deserialisation)",
    },
];

/// How long WAF request logs are kept (days): a year, what HIPAA-style audits
/// and Checkov's CloudWatch retention check ask for.
pub const LOG_RETENTION_DAYS: u32 = 365;

/// The web ACL of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct WebAcl {
    /// `<project>-<env>`: the ACL's name in AWS and in the Ingress annotation.
    pub name: String,
    /// Requests per client IP in any 5 minutes before it is blocked.
    pub rate_limit: u64,
    pub rules: &'static [ManagedRules],
    /// The CloudWatch log group of its request logs (WAF requires the
    /// `aws-waf-logs-` prefix).
    pub log_group: String,
}

/// The edge protection of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub waf: Option<WebAcl>,
    /// Shield Advanced on the environment's ALB.
    pub shield: bool,
}

impl Edge {
    /// The annotations every `alb` Ingress of the environment carries.
    pub fn annotations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(acl) = &self.waf {
            out.push((WAF_ANNOTATION.to_string(), acl.name.clone()));
        }
        if self.shield {
            out.push((SHIELD_ANNOTATION.to_string(), "true".to_string()));
        }
        out
    }
}

/// The edge protection of an environment, if it declares one.
pub fn edge(model: &Model, env: &Environment) -> Option<Edge> {
    let e = env.edge.as_ref()?;
    let name = format!("{}-{}", model.project.name, env.name);
    Some(Edge {
        waf: e.waf.then(|| WebAcl {
            log_group: format!("aws-waf-logs-{name}"),
            name,
            rate_limit: e.rate_limit,
            rules: MANAGED_RULES,
        }),
        shield: e.shield,
    })
}
