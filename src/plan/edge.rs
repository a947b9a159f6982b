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
//! *The CDN* (`cdn { paths }`) is one CloudFront distribution for the
//! environment's one public `alb` host (the checker holds it to one, E0444).
//! The public host's DNS record points at CloudFront; CloudFront forwards
//! to the ALB as `origin.<host>` over HTTPS (TLS 1.2: CloudFront's origin
//! side has no TLS 1.3), so the Ingresses serve the origin host instead of
//! the public one (CloudFront's managed origin request policy
//! `AllViewerExceptHostHeader` sends the origin's name as `Host`), the
//! regional certificate covers it, and its DNS record points at the ALB.
//! The listed paths are cached with the managed `CachingOptimized` policy,
//! everything else passes uncached (`CachingDisabled`). CloudFront needs its
//! certificate and a web ACL of scope `CLOUDFRONT` in us-east-1, so with a
//! CDN the WAF moves there (behind CloudFront the ALB would see CloudFront's
//! addresses, and a per-IP rate limit would throttle whole edge locations),
//! and the ALB admits CloudFront's origin-facing addresses only: a security
//! group Terraform creates with the managed prefix list, named here and
//! attached by the controller through `security-groups`.
//!
//! **Invariant:** every Ingress of class `alb` of an environment with a WAF
//! names the ACL the environment's Terraform root creates, unless a CDN
//! carries the ACL, in which case every one serves the origin host the
//! distribution sends and names the security group admitting CloudFront
//! (`tests/cdn.rs`); Ingresses of one ALB group all carry the same
//! annotations (the controller refuses a group whose members disagree).

use crate::model::{render_env, Environment, Exposure, MinTls, Model};

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
/// group, so every TLS `alb` Ingress of the environment carries it). Behind
/// a CDN the listener's client is CloudFront, which speaks TLS 1.2 to
/// origins; `min_tls` then applies to the viewers, at CloudFront.
pub fn env_ssl_policy(env: &Environment) -> &'static str {
    match &env.edge {
        Some(e) if e.cdn.is_some() => ssl_policy(MinTls::Tls12),
        Some(e) => ssl_policy(e.min_tls.unwrap_or(MinTls::Tls12)),
        None => ssl_policy(MinTls::Tls12),
    }
}

/// The annotation naming the security groups of the ALB (by their `Name` tag).
pub const SECURITY_GROUPS_ANNOTATION: &str = "alb.ingress.kubernetes.io/security-groups";
/// With its own security groups the controller still opens the pods' side to the ALB.
pub const BACKEND_RULES_ANNOTATION: &str = "alb.ingress.kubernetes.io/manage-backend-security-group-rules";

/// CloudFront's viewer security policy: the strictest the AWS provider 5.x
/// writes (TLS 1.2 and 1.3); `min_tls = tls13` with a CDN is E0446.
pub const CDN_VIEWER_POLICY: &str = "TLSv1.2_2021";

/// The AWS managed prefix list of CloudFront's origin-facing addresses.
pub const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

/// The managed policies of the two kinds of behaviour.
pub const CACHE_POLICY_STATIC: &str = "Managed-CachingOptimized";
pub const CACHE_POLICY_DYNAMIC: &str = "Managed-CachingDisabled";
/// Every viewer header, cookie and query string but `Host`, which becomes
/// the origin's name (the host the Ingresses serve).
pub const ORIGIN_REQUEST_POLICY: &str = "Managed-AllViewerExceptHostHeader";
/// Every viewer header, `Host` included: ACME challenges for the public
/// host sent to a warm standby (`plan::failover`).
pub const ORIGIN_REQUEST_POLICY_ALL: &str = "Managed-AllViewer";

/// Anonymisers (VPNs, Tor, hosting providers), which at the edge are the
/// usual source of scraping and credential stuffing: the CloudFront web
/// ACL holds them after IP reputation, beside the regional groups.
pub static ANONYMOUS_IP: ManagedRules = ManagedRules {
    group: "AWSManagedRulesAnonymousIpList",
    metric: "anonymous-ip",
    what: "anonymising services (VPNs, Tor, hosting providers) that hide a client's origin",
};

/// The rule groups of the CloudFront web ACL: [`MANAGED_RULES`] with
/// [`ANONYMOUS_IP`] after the first (IP reputation).
pub fn cdn_rules() -> Vec<&'static ManagedRules> {
    let mut rules: Vec<&'static ManagedRules> = MANAGED_RULES.iter().collect();
    rules.insert(1, &ANONYMOUS_IP);
    rules
}

/// A CloudFront distribution in front of an environment's ALB.
#[derive(Clone, Debug, PartialEq)]
pub struct Cdn {
    /// The public host: the distribution's alias and certificate (us-east-1).
    pub host: String,
    /// `origin.<host>`: what CloudFront connects to and sends as `Host`,
    /// what the Ingresses serve and the regional certificate covers.
    pub origin_host: String,
    /// Path patterns cached with [`CACHE_POLICY_STATIC`], in program order.
    pub paths: Vec<String>,
    /// The `Name` tag of the security group admitting CloudFront to the ALB.
    pub security_group: String,
    /// The CloudFront-scope web ACL (us-east-1), when the edge has a WAF.
    pub waf: Option<WebAcl>,
    /// Shield Advanced on the distribution.
    pub shield: bool,
    /// CloudFront's access logs (standard logging v2, CloudWatch Logs in us-east-1).
    pub log_group: String,
}

/// The origin host CloudFront reaches a public host's ALB by.
pub fn origin_host(host: &str) -> String {
    format!("origin.{host}")
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
    pub rules: Vec<&'static ManagedRules>,
    /// The CloudWatch log group of its request logs (WAF requires the
    /// `aws-waf-logs-` prefix).
    pub log_group: String,
    /// The path Route 53's health checkers request, admitted ahead of every
    /// other rule from their published addresses: the anonymiser group
    /// blocks hosting providers, AWS among them, and a blocked probe would
    /// fail the primary over (`plan::failover`). With it, ACME challenges
    /// (the standby's certificate for the host) are admitted from anyone:
    /// certificate authorities validate from cloud addresses too.
    pub health_checks: Option<String>,
}

/// The edge protection of one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// The regional web ACL on the ALB (none when a CDN carries it).
    pub waf: Option<WebAcl>,
    /// Shield Advanced on the environment's ALB.
    pub shield: bool,
    pub cdn: Option<Cdn>,
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
        if let Some(cdn) = &self.cdn {
            out.push((SECURITY_GROUPS_ANNOTATION.to_string(), cdn.security_group.clone()));
            out.push((BACKEND_RULES_ANNOTATION.to_string(), "true".to_string()));
        }
        out
    }

    /// The host an `alb` Ingress serves for a public host: the origin host
    /// behind a CDN, else the host itself.
    pub fn ingress_host(&self, host: &str) -> String {
        match &self.cdn {
            Some(cdn) if cdn.host == host => cdn.origin_host.clone(),
            _ => host.to_string(),
        }
    }
}

/// The one public host of an environment's TLS `alb` Ingresses (the
/// checker holds a CDN's environment to one, E0444).
fn alb_host(model: &Model, env: &Environment) -> Option<String> {
    env.deployments.iter().find_map(|d| match &model.service(d.service).expose {
        Exposure::Ingress { host, class, tls: true, .. } if class == "alb" => {
            Some(render_env(host, &model.project, &env.name, &env.namespace, &env.domain))
        }
        _ => None,
    })
}

/// The edge protection of an environment, if it declares one.
pub fn edge(model: &Model, env: &Environment) -> Option<Edge> {
    let e = env.edge.as_ref()?;
    let name = format!("{}-{}", model.project.name, env.name);
    let cdn = e.cdn.as_ref().and_then(|c| {
        let host = alb_host(model, env)?;
        let health_checks = model
            .environments
            .iter()
            .any(|s| s.standby_of.as_ref() == Some(&env.name))
            .then(|| super::failover::health_path(model, env, &host));
        Some(Cdn {
            origin_host: origin_host(&host),
            host,
            paths: c.paths.clone(),
            security_group: format!("{name}-cdn-origin"),
            // A CLOUDFRONT-scope ACL's name is unique per account apart
            // from the regional ones; the suffix keeps the two apart in logs.
            waf: e.waf.then(|| WebAcl {
                log_group: format!("aws-waf-logs-{name}-cdn"),
                name: format!("{name}-cdn"),
                rate_limit: e.rate_limit,
                rules: cdn_rules(),
                health_checks,
            }),
            shield: e.shield,
            log_group: format!("/aws/cloudfront/{name}"),
        })
    });
    Some(Edge {
        waf: (e.waf && cdn.is_none()).then(|| WebAcl {
            log_group: format!("aws-waf-logs-{name}"),
            name,
            rate_limit: e.rate_limit,
            rules: MANAGED_RULES.iter().collect(),
            health_checks: None,
        }),
        shield: e.shield,
        cdn,
    })
}
