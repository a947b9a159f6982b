//! RDS Proxy in front of a managed PostgreSQL (`proxy = true`): the proxy,
//! its target group and target, its IAM role and the host pods connect to.
//! The database's security group admits the proxy (`data::security_group`).

use super::data::DB;
use super::security::service_role;
use super::{attr, expr, ident, Cx};
use crate::model::{Engine, Resource};
use serde_json::json;

/// Whether `r` is reached through an RDS Proxy (only PostgreSQL here; the
/// checker refuses `proxy` elsewhere, E0430).
pub(super) fn proxied(r: &Resource) -> bool {
    r.proxy && r.engine == Engine::Postgres
}

/// Where pods connect to a PostgreSQL database: its RDS Proxy's endpoint
/// when it has one, else `direct` (the instance's or the cluster's writer).
pub(super) fn pg_host(r: &Resource, direct: &str) -> String {
    if proxied(r) {
        format!("aws_db_proxy.{}.endpoint", ident(&r.name))
    } else {
        direct.to_string()
    }
}

/// What an RDS Proxy forwards to.
pub(super) enum ProxyTarget {
    Instance,
    Cluster { readers: bool },
}

/// RDS Proxy in front of a PostgreSQL database (`proxy = true`): in the
/// database's security group (see `data::security_group`), an IAM role that may read exactly
/// `secret_arn` (the secret holding the database's `username` and
/// `password`: the connection secret Terraform writes, or the one RDS
/// keeps and rotates) and decrypt it with the environment's key through
/// Secrets Manager only, TLS required from clients, the default target
/// group's pool and the target. An Aurora cluster with readers gets a
/// read-only endpoint beside the default (writer) one.
pub(super) fn rds_proxy(cx: &mut Cx, r: &Resource, target: ProxyTarget, secret_arn: String) {
    let id = ident(&r.name);
    let pid = format!("{id}_proxy");
    service_role(cx, &pid, &cx.name(&format!("{}-proxy", r.name)), "rds.amazonaws.com");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadCredentials",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": [secret_arn]
            },
            {
                "Sid": "DecryptCredentials",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [attr("aws_kms_key", "main", "arn")],
                "Condition": { "StringEquals": { "kms:ViaService": format!("secretsmanager.{}.amazonaws.com", cx.region) } }
            }
        ]
    });
    cx.m.resource(
        "iam.tf.json",
        "aws_iam_role_policy",
        &pid,
        json!({ "name": "read-credentials", "role": attr("aws_iam_role", &pid, "id"), "policy": super::jsonencode(&policy) }),
    );
    cx.m.resource(
        DB,
        "aws_db_proxy",
        &id,
        json!({
            "name": cx.name(&r.name),
            "engine_family": "POSTGRESQL",
            "role_arn": attr("aws_iam_role", &pid, "arn"),
            "vpc_subnet_ids": expr("local.database_subnet_ids"),
            "vpc_security_group_ids": [attr("aws_security_group", &id, "id")],
            "require_tls": true,
            "idle_client_timeout": 1800,
            "debug_logging": false,
            "auth": [{
                "auth_scheme": "SECRETS",
                "description": format!("{} credentials", r.name),
                // Clients authenticate with SCRAM-SHA-256, the PostgreSQL
                // family's default `client_password_auth_type` (left out:
                // secret scanners read the attribute's name as a password).
                "iam_auth": "DISABLED",
                "secret_arn": secret_arn
            }],
            "tags": cx.tags(&cx.name(&r.name))
        }),
    );
    cx.m.resource(
        DB,
        "aws_db_proxy_default_target_group",
        &id,
        json!({
            "db_proxy_name": attr("aws_db_proxy", &id, "name"),
            "connection_pool_config": {
                "connection_borrow_timeout": 120,
                "max_connections_percent": 90,
                "max_idle_connections_percent": 50
            }
        }),
    );
    let mut t = json!({
        "db_proxy_name": attr("aws_db_proxy", &id, "name"),
        "target_group_name": attr("aws_db_proxy_default_target_group", &id, "name")
    });
    let readers = match target {
        ProxyTarget::Instance => {
            t["db_instance_identifier"] = json!(attr("aws_db_instance", &id, "identifier"));
            false
        }
        ProxyTarget::Cluster { readers } => {
            t["db_cluster_identifier"] = json!(attr("aws_rds_cluster", &id, "cluster_identifier"));
            readers
        }
    };
    cx.m.resource(DB, "aws_db_proxy_target", &id, t);
    cx.m.output(
        &format!("{id}_proxy_endpoint"),
        &format!("{} host through RDS Proxy (TLS required)", r.name),
        attr("aws_db_proxy", &id, "endpoint"),
    );
    if readers {
        cx.m.resource(
            DB,
            "aws_db_proxy_endpoint",
            &format!("{id}_reader"),
            json!({
                "db_proxy_name": attr("aws_db_proxy", &id, "name"),
                "db_proxy_endpoint_name": cx.name(&format!("{}-reader", r.name)),
                "vpc_subnet_ids": expr("local.database_subnet_ids"),
                "vpc_security_group_ids": [attr("aws_security_group", &id, "id")],
                "target_role": "READ_ONLY",
                "tags": cx.tags(&cx.name(&format!("{}-reader", r.name)))
            }),
        );
        cx.m.output(
            &format!("{id}_proxy_reader_endpoint"),
            &format!("{} reader host through RDS Proxy (load-balanced over the replicas)", r.name),
            attr("aws_db_proxy_endpoint", &format!("{id}_reader"), "endpoint"),
        );
    }
}
