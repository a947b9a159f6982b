//! Keys, identities, secrets and names: the environment's KMS key, IAM roles
//! for AWS services and for Kubernetes service accounts (IRSA), Secrets
//! Manager entries for the secrets the workloads read, and Route53 records.
//!
//! IRSA follows the dependency graph: a service gets a role only when it
//! uses something reached through AWS's APIs (a queue, a bucket, a managed
//! Redis, which authenticates with IAM), and the role's policy names exactly
//! those resources. Secrets Manager entries are names only: values are put
//! there by people or rotation, never by this output.

use super::{attr, expr, ident, jsonencode, secrets_manager, Cx};
use crate::model::{Engine, Exposure};
use crate::plan::env::render;
use crate::plan::secrets::secret_names;
use crate::plan::EnvPlan;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The key-policy statement delegating use of a key to this account's IAM
/// policies, as AWS's default key policy does.
pub fn account_statement() -> Value {
    json!({
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": { "AWS": "arn:${local.partition}:iam::${local.account_id}:root" },
        "Action": "kms:*",
        "Resource": "*"
    })
}

/// The key-policy statement letting CloudWatch Logs in `region` (a name or
/// an expression) encrypt this account's log groups there with the key.
pub fn logs_statement(region: &str) -> Value {
    json!({
        "Sid": "CloudWatchLogs",
        "Effect": "Allow",
        "Principal": { "Service": format!("logs.{region}.amazonaws.com") },
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn":
                    format!("arn:${{local.partition}}:logs:{region}:${{local.account_id}}:log-group:*")
            }
        }
    })
}

/// A customer-managed key (rotated, 30 days from deletion to destruction)
/// with the policy `statements` and its alias `alias/<alias>`;
/// `provider` places both in another region's provider configuration.
pub fn kms_key(
    cx: &mut Cx,
    file: &'static str,
    id: &str,
    provider: Option<&str>,
    description: &str,
    alias: &str,
    statements: Vec<Value>,
) {
    let policy = json!({ "Version": "2012-10-17", "Statement": statements });
    let mut key = json!({
        "description": description,
        "enable_key_rotation": true,
        "deletion_window_in_days": 30,
        "policy": jsonencode(&policy)
    });
    let mut named = json!({ "name": format!("alias/{alias}"), "target_key_id": attr("aws_kms_key", id, "key_id") });
    if let Some(p) = provider {
        key["provider"] = json!(p);
        named["provider"] = json!(p);
    }
    cx.m.resource(file, "aws_kms_key", id, key);
    cx.m.resource(file, "aws_kms_alias", id, named);
}

/// The key that encrypts everything of one environment at rest: secrets in
/// etcd, databases, caches, queues, logs, backups and Secrets Manager.
pub fn kms(cx: &mut Cx, alarms: bool) {
    let mut statements = vec![account_statement(), logs_statement("${var.region}")];
    // CloudWatch alarms publish to the environment's encrypted SNS topic.
    if alarms {
        statements.push(json!({
            "Sid": "CloudWatchAlarms",
            "Effect": "Allow",
            "Principal": { "Service": "cloudwatch.amazonaws.com" },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": { "StringEquals": { "aws:SourceAccount": "${local.account_id}" } }
        }));
    }
    kms_key(cx, "kms.tf.json", "main", None, "${local.name}: data at rest", "${local.name}", statements);
    cx.m.output("kms_key_arn", "the key encrypting this environment's data", attr("aws_kms_key", "main", "arn"));
}

/// The records in the program's Route 53 zone that validate the ACM
/// certificate `cert` (`aws_route53_record.<records>`, one per name);
/// returns the `validation_record_fqdns` expression, or `None` without a
/// Route 53 zone (the caller outputs the records to create by hand).
pub fn validation_records(cx: &mut Cx, file: &'static str, cert: &str, records: &str) -> Option<String> {
    let zone = cx.model.project.dns.as_ref()?.zone.trim_end_matches('.').to_string();
    cx.m.data("data.tf.json", "aws_route53_zone", "main", json!({ "name": zone, "private_zone": false }));
    let options = format!("aws_acm_certificate.{cert}.domain_validation_options");
    cx.m.resource(
        file,
        "aws_route53_record",
        records,
        json!({
            "for_each": expr(&format!("{{ for o in {options} : o.domain_name => o }}")),
            "zone_id": attr("data.aws_route53_zone", "main", "zone_id"),
            "name": expr("each.value.resource_record_name"),
            "type": expr("each.value.resource_record_type"),
            "records": [expr("each.value.resource_record_value")],
            "ttl": 300,
            "allow_overwrite": true
        }),
    );
    Some(expr(&format!("[for r in aws_route53_record.{records} : r.fqdn]")))
}

/// A role an AWS service assumes (flow logs, RDS monitoring, AWS Backup, EKS).
pub fn service_role(cx: &mut Cx, id: &str, name: &str, service: &str) {
    let file = "iam.tf.json";
    cx.m.data(
        file,
        "aws_iam_policy_document",
        &format!("{id}_assume"),
        json!({
            "statement": [{
                "actions": ["sts:AssumeRole"],
                "principals": [{ "type": "Service", "identifiers": [service] }]
            }]
        }),
    );
    cx.m.resource(
        file,
        "aws_iam_role",
        id,
        json!({ "name": name, "assume_role_policy": attr("data.aws_iam_policy_document", &format!("{id}_assume"), "json") }),
    );
}

/// Attaches an AWS managed policy (`AmazonEKSClusterPolicy`,
/// `service-role/...`) to a role; the attachment is `<role>_<policy>`.
pub fn attach(cx: &mut Cx, file: &'static str, role: &str, policy: &str) {
    let short = policy.rsplit('/').next().unwrap_or(policy).to_ascii_lowercase();
    cx.m.resource(
        file,
        "aws_iam_role_policy_attachment",
        &format!("{role}_{short}"),
        json!({
            "role": attr("aws_iam_role", role, "name"),
            "policy_arn": format!("arn:${{local.partition}}:iam::aws:policy/{policy}")
        }),
    );
}

/// An IAM role for a Kubernetes service account: only pods running as
/// `namespace/account` in this cluster can assume it.
pub fn irsa_role(cx: &mut Cx, id: &str, name: &str, namespace: &str, account: &str, statements: Vec<Value>) {
    irsa_role_for(cx, id, name, &[format!("system:serviceaccount:{namespace}:{account}")], statements);
}

/// [`irsa_role`] for several service accounts (`system:serviceaccount:<ns>:<name>`).
pub fn irsa_role_for(cx: &mut Cx, id: &str, name: &str, subjects: &[String], statements: Vec<Value>) {
    let file = "irsa.tf.json";
    cx.m.data(
        file,
        "aws_iam_policy_document",
        &format!("{id}_assume"),
        json!({
            "statement": [{
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{ "type": "Federated", "identifiers": [expr("local.oidc_provider_arn")] }],
                "condition": [
                    { "test": "StringEquals", "variable": "${local.oidc_issuer}:sub",
                      "values": subjects },
                    { "test": "StringEquals", "variable": "${local.oidc_issuer}:aud", "values": ["sts.amazonaws.com"] }
                ]
            }]
        }),
    );
    cx.m.resource(
        file,
        "aws_iam_role",
        id,
        json!({ "name": name, "assume_role_policy": attr("data.aws_iam_policy_document", &format!("{id}_assume"), "json") }),
    );
    if statements.is_empty() {
        return;
    }
    cx.m.data(file, "aws_iam_policy_document", id, json!({ "statement": statements }));
    cx.m.resource(
        file,
        "aws_iam_role_policy",
        id,
        json!({
            "name": "access",
            "role": attr("aws_iam_role", id, "id"),
            "policy": attr("data.aws_iam_policy_document", id, "json")
        }),
    );
}

fn statement(sid: &str, actions: &[&str], resources: Vec<String>) -> Value {
    json!({ "sid": sid, "actions": actions, "resources": resources })
}

/// What a service's pods may do with one resource they use, if it is reached through AWS's APIs.
fn access(cx: &Cx, rid: crate::model::ResourceId) -> Vec<Value> {
    let r = cx.model.resource(rid);
    let id = ident(&r.name);
    let sid = |s: &str| format!("{}{s}", id.replace('_', ""));
    let key =
        || statement(&sid("Key"), &["kms:Decrypt", "kms:GenerateDataKey"], vec![attr("aws_kms_key", "main", "arn")]);
    match r.engine {
        Engine::Queue => vec![
            statement(
                &sid("Messages"),
                &[
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                vec![attr("aws_sqs_queue", &id, "arn")],
            ),
            key(),
        ],
        Engine::Bucket => vec![
            statement(&sid("List"), &["s3:ListBucket"], vec![attr("aws_s3_bucket", &id, "arn")]),
            statement(
                &sid("Objects"),
                &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                vec![format!("${{aws_s3_bucket.{id}.arn}}/*")],
            ),
            key(),
        ],
        Engine::Redis if cx.managed(rid) => vec![statement(
            &sid("Connect"),
            &["elasticache:Connect"],
            vec![
                attr("aws_elasticache_replication_group", &id, "arn"),
                attr("aws_elasticache_user", &format!("{id}_app"), "arn"),
            ],
        )],
        _ => vec![],
    }
}

/// Roles for the ServiceAccounts of services that use cloud APIs (as
/// `plan::irsa` decided them), and for External Secrets.
pub fn irsa(cx: &mut Cx) {
    let plan = crate::plan::EnvPlan::new(cx.model, cx.graph, cx.env, cx.opts);
    let mut roles = Vec::new();
    for (account, role) in crate::plan::irsa::service_roles(&plan) {
        let statements: Vec<Value> = role.resources.iter().flat_map(|r| access(cx, *r)).collect();
        let id = format!("service_{}", ident(&account));
        let ns = expr("local.namespace");
        // `${local.name}-<account>`: the name plan::irsa::role_name gives,
        // trusting exactly the ServiceAccount the pods run as.
        irsa_role(cx, &id, &cx.name(&account), &ns, &account, statements);
        roles.push((account, id));
    }
    if !roles.is_empty() {
        let map: Vec<String> = roles.iter().map(|(name, id)| format!("\"{name}\" = aws_iam_role.{id}.arn")).collect();
        cx.m.output(
            "service_role_arns",
            "IAM role of each service account that uses cloud APIs (annotation eks.amazonaws.com/role-arn)",
            expr(&format!("{{{}}}", map.join(", "))),
        );
    }
}

/// Secrets Manager entries (names only) for every secret the workloads of
/// this environment read, under the names the ExternalSecrets extract, and
/// the role External Secrets reads them with.
/// The credentials of a database or cache this output runs in the cluster
/// are the platform's, not the team's: Terraform generates the password
/// (Secrets Manager's own generator, so no other provider is needed) and
/// writes it with the connection URL into the connection secret, once.
/// Later plans generate a new candidate; `ignore_changes` keeps the first,
/// which the database was initialised with.
fn owned_credential(cx: &mut Cx, plan: &EnvPlan, file: &'static str, name: &str, id: &str) {
    let Some(r) = cx.model.resources.iter().find(|r| {
        crate::plan::env::connection_secret(&r.name) == name
            && plan.in_cluster(r.id)
            && crate::plan::engines::uses_password(r)
    }) else {
        return;
    };
    let host = format!("{}.{}.svc.cluster.local", r.name, cx.env.namespace);
    let password = format!("data.aws_secretsmanager_random_password.{id}.random_password");
    // The URL is an HCL string inside the expression: its program text (the
    // database name, the namespace) is quoted for HCL, then the password
    // reference goes in where the placeholder stands.
    const PW: &str = "\u{0}password\u{0}";
    // A replica set's URL names every member (plan/replica_set.rs).
    let rs = crate::plan::replica_set::of(plan, r);
    let url = match &rs {
        Some(rs) => Some(crate::plan::replica_set::url(r, rs, PW)),
        None => crate::plan::engines::connection_url(r, &host, PW),
    };
    let Some(url) = url else { return };
    let url = super::hcl_quoted(&url).replace(PW, &format!("${{{password}}}"));
    cx.m.data(
        file,
        "aws_secretsmanager_random_password",
        id,
        json!({ "password_length": 32, "exclude_punctuation": true }),
    );
    // The members' shared key: 6 to 1024 base64 characters, which
    // letters and digits are.
    let keyfile = match rs {
        Some(_) => {
            let kid = format!("{id}_keyfile");
            cx.m.data(
                file,
                "aws_secretsmanager_random_password",
                &kid,
                json!({ "password_length": 756, "exclude_punctuation": true }),
            );
            format!(
                ", {} = data.aws_secretsmanager_random_password.{kid}.random_password",
                crate::plan::replica_set::KEYFILE_KEY
            )
        }
        None => String::new(),
    };
    cx.m.resource(
        file,
        "aws_secretsmanager_secret_version",
        id,
        json!({
            "secret_id": attr("aws_secretsmanager_secret", id, "id"),
            "secret_string": format!("${{jsonencode({{password = {password}, url = \"{url}\"{keyfile}}})}}"),
            "lifecycle": { "ignore_changes": ["secret_string"] }
        }),
    );
}

pub fn secrets(cx: &mut Cx) {
    let Some(prefix) = secrets_manager(cx.model) else { return };
    let prefix = prefix.to_string();
    let k8s = EnvPlan::new(cx.model, cx.graph, cx.env, cx.opts);
    let mut names = secret_names(&k8s);
    // The cluster add-ons' Secrets this environment's identity reads (plan/logs.rs).
    names.extend(crate::plan::addon_secrets::addon_secret_names(cx.model, cx.env.id));
    let file = "secrets.tf.json";
    cx.m.local("store_prefix", json!(format!("{prefix}/{}", cx.env.name)));
    if !names.is_empty() {
        cx.m.variable(
            "secret_rotation_lambda_arn",
            "string",
            "Lambda function that rotates this environment's secrets every 30 days; null (the default) leaves rotation to the owners of the values (an API key rotates at its issuer)",
            Some(json!(null)),
        );
    }
    let merged = crate::plan::addon_secrets::merge_targets(cx.model);
    let mut arns = Vec::new();
    for name in &names {
        let id = ident(name);
        let description = match merged.get(name) {
            Some(target) => format!("{name}: merged by External Secrets into the Secret {target}"),
            None => format!("{name}: read by External Secrets into the Secret {name}"),
        };
        owned_credential(cx, &k8s, file, name, &id);
        cx.m.resource(
            file,
            "aws_secretsmanager_secret",
            &id,
            json!({
                "name": format!("${{local.store_prefix}}/{name}"),
                "description": description,
                "kms_key_id": attr("aws_kms_key", "main", "arn"),
                "recovery_window_in_days": 30
            }),
        );
        cx.m.resource(
            file,
            "aws_secretsmanager_secret_rotation",
            &id,
            json!({
                // `plan` never stops to ask for a rotation function.
                "count": expr("var.secret_rotation_lambda_arn == null ? 0 : 1"),
                "secret_id": attr("aws_secretsmanager_secret", &id, "id"),
                "rotation_lambda_arn": expr("var.secret_rotation_lambda_arn"),
                "rotation_rules": { "automatically_after_days": 30 }
            }),
        );
        arns.push(attr("aws_secretsmanager_secret", &id, "arn"));
    }
    let account = format!("{}-secrets", cx.model.project.name);
    let statements = if arns.is_empty() {
        vec![]
    } else {
        vec![
            statement("ReadSecrets", &["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], arns),
            statement("DecryptSecrets", &["kms:Decrypt"], vec![attr("aws_kms_key", "main", "arn")]),
        ]
    };
    let ns = expr("local.namespace");
    // The name the Kubernetes side's ServiceAccount annotation points at.
    irsa_role(cx, "external_secrets", &cx.name("external-secrets"), &ns, &account, statements);
    cx.m.output(
        "external_secrets_role_arn",
        "IAM role of the External Secrets service account",
        attr("aws_iam_role", "external_secrets", "arn"),
    );
}

/// A Terraform name for a host name.
fn host_ident(host: &str) -> String {
    format!("host_{}", host.replace(['.', '-'], "_"))
}

/// Route53 alias records for every ingress host of the environment, once
/// the ingress controller's load balancer exists: it is created from inside
/// the cluster, so its name is a variable set after the first apply.
/// The ACM certificate the ALB finds by host: every host an ALB route of
/// this environment serves over TLS without a certificate named in the
/// program (the Ingress asks for HTTPS through `listen-ports`, and the
/// controller picks the issued certificate that covers the host). Validated
/// by DNS: through the Route53 zone when the program declares one, else the
/// records to create are an output.
pub fn certificates(cx: &mut Cx) {
    let plan = EnvPlan::new(cx.model, cx.graph, cx.env, cx.opts);
    let mut hosts = BTreeSet::new();
    for d in &cx.env.deployments {
        let s = cx.model.service(d.service);
        if let Exposure::Ingress { tls: true, certificate: None, .. } = &s.expose {
            for r in crate::plan::routes::routes(&plan, s) {
                if r.controller == crate::plan::routes::Controller::Alb {
                    hosts.insert(r.host);
                }
            }
        }
    }
    let Some(first) = hosts.iter().next().cloned() else { return };
    let rest: Vec<&String> = hosts.iter().skip(1).collect();
    let file = "certificates.tf.json";
    cx.m.resource(
        file,
        "aws_acm_certificate",
        "ingress",
        json!({
            "domain_name": first,
            "subject_alternative_names": rest,
            "validation_method": "DNS",
            "lifecycle": { "create_before_destroy": true },
            "tags": cx.tags(&cx.name("ingress"))
        }),
    );
    let options = "aws_acm_certificate.ingress.domain_validation_options";
    match validation_records(cx, file, "ingress", "certificate_validation") {
        Some(fqdns) => {
            cx.m.resource(
                file,
                "aws_acm_certificate_validation",
                "ingress",
                json!({
                    "certificate_arn": attr("aws_acm_certificate", "ingress", "arn"),
                    "validation_record_fqdns": fqdns
                }),
            );
        }
        None => cx.m.output(
            "certificate_validation_records",
            "DNS records that validate the ingress certificate: create them in the zone that serves these hosts",
            expr(&format!("[for o in {options} : {{ name = o.resource_record_name, type = o.resource_record_type, value = o.resource_record_value }}]")),
        ),
    }
    cx.m.output(
        "ingress_certificate_arn",
        "ACM certificate the ALB serves the ingress hosts with",
        attr("aws_acm_certificate", "ingress", "arn"),
    );
}

pub fn dns(cx: &mut Cx) {
    let Some(dns) = &cx.model.project.dns else { return };
    let k8s = EnvPlan::new(cx.model, cx.graph, cx.env, cx.opts);
    let edge = crate::plan::edge::edge(cx.model, cx.env);
    let mut hosts = BTreeSet::new();
    for d in &cx.env.deployments {
        if let Exposure::Ingress { host, .. } = &cx.model.service(d.service).expose {
            // Behind a CDN the public host is CloudFront's (`cdn.rs`), and
            // the ALB answers for the origin host.
            let host = render(&k8s, host);
            hosts.insert(edge.as_ref().map_or_else(|| host.clone(), |e| e.ingress_host(&host)));
        }
    }
    let zone = dns.zone.trim_end_matches('.').to_string();
    hosts.retain(|h| h == &zone || h.ends_with(&format!(".{zone}")));
    if hosts.is_empty() {
        return;
    }
    cx.m.variable(
        "ingress_load_balancer",
        "string",
        "name of the load balancer the ingress controller created; the DNS records are created once it is set",
        Some(json!("")),
    );
    cx.m.data("data.tf.json", "aws_route53_zone", "main", json!({ "name": zone, "private_zone": false }));
    cx.m.data(
        "data.tf.json",
        "aws_lb",
        "ingress",
        json!({ "count": expr("var.ingress_load_balancer == \"\" ? 0 : 1"), "name": expr("var.ingress_load_balancer") }),
    );
    for h in &hosts {
        cx.m.resource(
            "dns.tf.json",
            "aws_route53_record",
            &host_ident(h),
            json!({
                "count": expr("var.ingress_load_balancer == \"\" ? 0 : 1"),
                "zone_id": attr("data.aws_route53_zone", "main", "zone_id"),
                "name": h,
                "type": "A",
                "alias": {
                    "name": expr("data.aws_lb.ingress[0].dns_name"),
                    "zone_id": expr("data.aws_lb.ingress[0].zone_id"),
                    "evaluate_target_health": true
                }
            }),
        );
    }
}
