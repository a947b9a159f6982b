//! Managed backing resources: RDS PostgreSQL or Aurora, DocumentDB for a
//! managed MongoDB, ElastiCache Redis, SQS queues, S3 buckets, and the AWS
//! Backup plans that keep database backups for the declared retention.
//!
//! Only what an environment runs as `managed` is emitted here; what it runs
//! `in_cluster` is a StatefulSet of the Kubernetes target instead.
//!
//! **Security groups follow the graph.** Each database and cache has its own
//! group, which admits its port from the cluster only when a service
//! deployed in this environment uses it, and nothing else; which pods inside
//! the cluster may open that connection is decided by the Kubernetes
//! target's NetworkPolicies (one egress rule per edge of the graph), which
//! the VPC CNI enforces (see [`super::cluster`]). Per-service groups through
//! "security groups for pods" were the alternative: they need a
//! SecurityGroupPolicy object per service on the Kubernetes side, trunk
//! network interfaces that cap pods per node, and would leave groups that
//! no Terraform resource is attached to.

use super::proxy::{pg_host, proxied, rds_proxy, ProxyTarget};
use super::security::{attach, service_role};
use super::{attr, expr, ident, Cx};
use crate::graph::{Edge, Node};
use crate::model::{Engine, Resource, ResourceUse};
use crate::plan::alarms::cache_nodes;
use crate::plan::engines::managed_port;
use serde_json::{json, Value};

pub(super) const DB: &str = "databases.tf.json";
const BACKUP: &str = "backup.tf.json";

/// Backups are taken in this window (UTC), maintenance after it.
const BACKUP_WINDOW: &str = "03:00-04:00";
const MAINTENANCE_WINDOW: &str = "sun:05:00-sun:06:00";

/// The services deployed in this environment that use `r`, sorted.
fn users(cx: &Cx, r: &Resource) -> Vec<String> {
    cx.graph
        .sources(Node::Resource(r.id), Edge::Uses)
        .into_iter()
        .filter_map(|n| match n {
            Node::Service(s) if cx.env.deploys(s) => Some(cx.model.service(s).name.clone()),
            _ => None,
        })
        .collect()
}

/// Days backups are kept: the declared retention within what the service allows.
fn retention_days(r: &Resource) -> u64 {
    r.backup.as_ref().map(|b| b.retain_days).unwrap_or(7).clamp(1, 35)
}

pub fn resources(cx: &mut Cx) {
    let model = cx.model;
    let mut backed_up = Vec::new();
    for r in &model.resources {
        if !cx.managed(r.id) {
            continue;
        }
        let u = &cx.env.resources[r.id.index()];
        match r.engine {
            Engine::Postgres if r.aurora => {
                aurora(cx, r, u);
                backed_up.push((r, attr("aws_rds_cluster", &ident(&r.name), "arn")));
            }
            Engine::Postgres => {
                postgres(cx, r, u);
                backed_up.push((r, attr("aws_db_instance", &ident(&r.name), "arn")));
            }
            Engine::MongoDb => {
                documentdb(cx, r, u);
                backed_up.push((r, attr("aws_docdb_cluster", &ident(&r.name), "arn")));
            }
            Engine::Redis => redis(cx, r, u),
            Engine::Queue => queue(cx, r),
            Engine::Bucket => bucket(cx, r),
            Engine::Kafka => msk(cx, r, u),
        }
    }
    if !backed_up.is_empty() {
        backups(cx, &backed_up);
    }
}

/// The security group of one database or cache, open to the cluster only
/// when a service of this environment uses it.
fn security_group(cx: &mut Cx, r: &Resource) -> String {
    let id = ident(&r.name);
    let users = users(cx, r);
    let port = managed_port(&r.engine);
    let who = if users.is_empty() { "no service".to_string() } else { users.join(", ") };
    cx.m.resource(
        DB,
        "aws_security_group",
        &id,
        json!({
            "name": cx.name(&r.name),
            "description": format!("{} {}: reached from the pods of {who}", r.engine.word(), r.name),
            "vpc_id": expr("local.vpc_id"),
            "tags": cx.tags(&cx.name(&r.name))
        }),
    );
    if proxied(r) {
        // RDS Proxy sits in the database's own group (Checkov's CKV2_AWS_5
        // does not know that aws_db_proxy attaches groups, so a group of
        // the proxy's own would be reported as unattached): the group
        // admits itself, so the proxy reaches the database, and Terraform
        // having removed the default allow-all egress, the proxy may open
        // connections within the group and nowhere else.
        cx.m.resource(
            DB,
            "aws_vpc_security_group_ingress_rule",
            &format!("{id}_from_proxy"),
            json!({
                "security_group_id": attr("aws_security_group", &id, "id"),
                "referenced_security_group_id": attr("aws_security_group", &id, "id"),
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "description": format!("{} from its RDS Proxy", r.engine.word())
            }),
        );
        cx.m.resource(
            DB,
            "aws_vpc_security_group_egress_rule",
            &format!("{id}_proxy_to_db"),
            json!({
                "security_group_id": attr("aws_security_group", &id, "id"),
                "referenced_security_group_id": attr("aws_security_group", &id, "id"),
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "description": format!("RDS Proxy to {}", r.name)
            }),
        );
    }
    if !users.is_empty() {
        cx.m.resource(
            DB,
            "aws_vpc_security_group_ingress_rule",
            &format!("{id}_from_cluster"),
            json!({
                "security_group_id": attr("aws_security_group", &id, "id"),
                "referenced_security_group_id": expr("local.cluster_security_group_id"),
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "description": if proxied(r) {
                    format!("{} through its RDS Proxy from the cluster, for {who}", r.engine.word())
                } else {
                    format!("{} from the cluster, for {who}", r.engine.word())
                }
            }),
        );
    }
    attr("aws_security_group", &id, "id")
}

fn subnet_group(cx: &mut Cx, ty: &str) {
    cx.m.resource(
        DB,
        ty,
        "main",
        json!({ "name": expr("local.name"), "description": "database subnets", "subnet_ids": expr("local.database_subnet_ids") }),
    );
}

fn monitoring_role(cx: &mut Cx) {
    if cx.m.file("iam.tf.json").resource.get("aws_iam_role").is_some_and(|r| r.contains_key("rds_monitoring")) {
        return;
    }
    service_role(cx, "rds_monitoring", "${local.name}-rds-monitoring", "monitoring.rds.amazonaws.com");
    attach(cx, "iam.tf.json", "rds_monitoring", "service-role/AmazonRDSEnhancedMonitoringRole");
}

/// PostgreSQL's major version ("16" of "16.4").
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Parameters every PostgreSQL gets: TLS only, DDL and slow statements logged.
fn pg_parameters() -> Value {
    json!([
        { "name": "rds.force_ssl", "value": "1" },
        { "name": "log_statement", "value": "ddl" },
        { "name": "log_min_duration_statement", "value": "1000" }
    ])
}

/// The database name PostgreSQL accepts for a model name.
fn db_name(r: &Resource) -> String {
    r.database.replace('-', "_")
}

/// The Terraform name of `r`'s connection secret when Terraform writes its
/// values: Secrets Manager is the store and a workload of this environment
/// reads it (External Secrets delivers it). `None`: nothing reads it, or
/// the team provides it (another store).
fn connection_secret(cx: &Cx, r: &Resource) -> Option<String> {
    let name = crate::plan::env::connection_secret(&r.name);
    (super::secrets_manager(cx.model).is_some() && cx.store_secrets().contains(&name)).then(|| ident(&name))
}

/// A password generated by Secrets Manager's own generator (no other
/// provider needed), as an expression. Each plan draws a new candidate:
/// whatever is initialised with it ignores later changes.
fn generated_password(cx: &mut Cx, secret: &str) -> String {
    cx.m.data(
        DB,
        "aws_secretsmanager_random_password",
        secret,
        json!({ "password_length": 32, "exclude_punctuation": true }),
    );
    format!("data.aws_secretsmanager_random_password.{secret}.random_password")
}

/// The values of a connection secret: the keys apps read (`url`, `host`,
/// `port`, `user`, `password`, `arn`, ...). With a generated password the
/// first version is kept, as the resource keeps the password it was
/// created with.
fn write_connection(cx: &mut Cx, file: &'static str, secret: &str, values: Value, keep_first: bool) {
    let mut version = json!({
        "secret_id": attr("aws_secretsmanager_secret", secret, "id"),
        "secret_string": super::jsonencode(&values)
    });
    if keep_first {
        version["lifecycle"] = json!({ "ignore_changes": ["secret_string"] });
    }
    cx.m.resource(file, "aws_secretsmanager_secret_version", secret, version);
}

/// A managed database's master credentials: generated by Terraform and
/// written to the connection secret when the pods read it from Secrets
/// Manager (the URL needs the password); otherwise kept by the service in
/// its own secret (`manage_master_user_password`), which the team reads.
/// Returns the password expression when Terraform generates it.
fn master_password(cx: &mut Cx, r: &Resource, block: &mut Value, field: &str) -> Option<(String, String)> {
    match connection_secret(cx, r) {
        Some(secret) => {
            let pw = generated_password(cx, &secret);
            block[field] = json!(format!("${{{pw}}}"));
            block["lifecycle"] = json!({ "ignore_changes": [field] });
            Some((secret, pw))
        }
        None => {
            // The service keeps the master password in Secrets Manager,
            // encrypted with the environment's key.
            block["manage_master_user_password"] = json!(true);
            None
        }
    }
}

/// A database's connection values around its host expression.
fn db_connection(r: &Resource, host: &str, pw: &str, port: u16) -> Value {
    let db = &r.database;
    let (host, pw) = (format!("${{{host}}}"), format!("${{{pw}}}"));
    let url = match r.engine {
        Engine::MongoDb => format!(
            "mongodb://app:{pw}@{host}:{port}/{db}?tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false"
        ),
        _ => format!("postgresql://app:{pw}@{host}:{port}/{db}?sslmode=require"),
    };
    let mut values = json!({
        "url": url, "host": host, "port": port.to_string(), "address": format!("{host}:{port}"),
        "user": "app", "password": pw, "database": db
    });
    // RDS Proxy reads the credentials from this secret under the keys
    // `username` and `password`.
    if proxied(r) {
        values["username"] = json!("app");
    }
    values
}

/// What every RDS database needs first: its security group (returned), the
/// environment's DB subnet group and the enhanced-monitoring role.
fn rds_prelude(cx: &mut Cx, r: &Resource) -> String {
    let sg = security_group(cx, r);
    if !cx.m.file(DB).resource.get("aws_db_subnet_group").is_some_and(|g| g.contains_key("main")) {
        subnet_group(cx, "aws_db_subnet_group");
    }
    monitoring_role(cx);
    sg
}

fn postgres(cx: &mut Cx, r: &Resource, u: &ResourceUse) {
    let id = ident(&r.name);
    let sg = rds_prelude(cx, r);
    cx.m.resource(
        DB,
        "aws_db_parameter_group",
        &id,
        json!({
            "name": cx.name(&r.name),
            "family": format!("postgres{}", major(&r.version)),
            "description": format!("{}: TLS only, DDL and slow statements logged", r.name),
            "parameter": pg_parameters()
        }),
    );
    let gib = (u.storage >> 30).max(20);
    let common = |v: &mut Value| {
        let extra = json!({
            "instance_class": u.instance,
            "storage_encrypted": true,
            "kms_key_id": attr("aws_kms_key", "main", "arn"),
            "vpc_security_group_ids": [sg],
            "parameter_group_name": attr("aws_db_parameter_group", &id, "name"),
            "multi_az": u.multi_az,
            "publicly_accessible": false,
            "iam_database_authentication_enabled": true,
            "auto_minor_version_upgrade": true,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "copy_tags_to_snapshot": true,
            "deletion_protection": true,
            "backup_retention_period": retention_days(r),
            "backup_window": BACKUP_WINDOW,
            "maintenance_window": MAINTENANCE_WINDOW,
            "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
            "monitoring_interval": 60,
            "monitoring_role_arn": attr("aws_iam_role", "rds_monitoring", "arn"),
            "performance_insights_enabled": true,
            "performance_insights_kms_key_id": attr("aws_kms_key", "main", "arn")
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
    };
    let mut primary = json!({
        "identifier": cx.name(&r.name),
        "engine": "postgres",
        "engine_version": r.version,
        "db_name": db_name(r),
        "username": "app",
        "allocated_storage": gib,
        "max_allocated_storage": gib * 4,
        "storage_type": "gp3",
        "db_subnet_group_name": attr("aws_db_subnet_group", "main", "name"),
        "skip_final_snapshot": false,
        "final_snapshot_identifier": cx.name(&format!("{}-final", r.name)),
        "tags": cx.tags(&cx.name(&r.name))
    });
    common(&mut primary);
    let generated = master_password(cx, r, &mut primary, "password");
    if generated.is_none() {
        primary["master_user_secret_kms_key_id"] = json!(attr("aws_kms_key", "main", "arn"));
    }
    cx.m.resource(DB, "aws_db_instance", &id, primary);
    cx.m.output(&format!("{id}_address"), &format!("{} primary host", r.name), attr("aws_db_instance", &id, "address"));
    cx.m.output(&format!("{id}_port"), &format!("{} port", r.name), attr("aws_db_instance", &id, "port"));
    let credentials = match generated {
        Some((secret, pw)) => {
            let host = pg_host(r, &format!("aws_db_instance.{id}.address"));
            let values = db_connection(r, &host, &pw, managed_port(&r.engine));
            write_connection(cx, DB, &secret, values, true);
            attr("aws_secretsmanager_secret", &secret, "arn")
        }
        None => {
            let arn = expr(&format!("aws_db_instance.{id}.master_user_secret[0].secret_arn"));
            cx.m.output(
                &format!("{id}_master_secret_arn"),
                &format!("Secrets Manager secret RDS keeps the {} master password in", r.name),
                arn.clone(),
            );
            arn
        }
    };
    if proxied(r) {
        rds_proxy(cx, r, ProxyTarget::Instance, credentials);
    }
    if u.read_replicas > 0 {
        let mut replica = json!({
            "count": u.read_replicas,
            "identifier": format!("{}-replica-${{count.index + 1}}", cx.name(&r.name)),
            "replicate_source_db": attr("aws_db_instance", &id, "identifier"),
            "storage_type": "gp3",
            "skip_final_snapshot": true,
            "tags": cx.tags(&format!("{}-replica", cx.name(&r.name)))
        });
        common(&mut replica);
        cx.m.resource(DB, "aws_db_instance", &format!("{id}_replica"), replica);
        cx.m.output(
            &format!("{id}_replica_addresses"),
            &format!("{} read replica hosts", r.name),
            expr(&format!("aws_db_instance.{id}_replica[*].address")),
        );
    }
}

fn aurora(cx: &mut Cx, r: &Resource, u: &ResourceUse) {
    let id = ident(&r.name);
    let sg = rds_prelude(cx, r);
    cx.m.resource(
        DB,
        "aws_rds_cluster_parameter_group",
        &id,
        json!({
            "name": cx.name(&r.name),
            "family": format!("aurora-postgresql{}", major(&r.version)),
            "description": format!("{}: TLS only, DDL and slow statements logged", r.name),
            "parameter": pg_parameters()
        }),
    );
    let mut cluster = json!({
            "cluster_identifier": cx.name(&r.name),
            "engine": "aurora-postgresql",
            "engine_version": r.version,
            "database_name": db_name(r),
            "master_username": "app",
            "storage_encrypted": true,
            "kms_key_id": attr("aws_kms_key", "main", "arn"),
            "db_subnet_group_name": attr("aws_db_subnet_group", "main", "name"),
            "vpc_security_group_ids": [sg],
            "db_cluster_parameter_group_name": attr("aws_rds_cluster_parameter_group", &id, "name"),
            "iam_database_authentication_enabled": true,
            "backup_retention_period": retention_days(r),
            "preferred_backup_window": BACKUP_WINDOW,
            "preferred_maintenance_window": MAINTENANCE_WINDOW,
            "copy_tags_to_snapshot": true,
            "deletion_protection": true,
            "skip_final_snapshot": false,
            "final_snapshot_identifier": cx.name(&format!("{}-final", r.name)),
            "enabled_cloudwatch_logs_exports": ["postgresql"],
            "tags": cx.tags(&cx.name(&r.name))
    });
    // Aurora Serverless v2: provisioned mode with `db.serverless` instances
    // that scale within the declared ACUs (the model keeps half ACUs).
    if let Some((lo, hi)) = r.serverless {
        cluster["engine_mode"] = json!("provisioned");
        cluster["serverlessv2_scaling_configuration"] =
            json!({ "min_capacity": f64::from(lo) / 2.0, "max_capacity": f64::from(hi) / 2.0 });
    }
    let generated = master_password(cx, r, &mut cluster, "master_password");
    if generated.is_none() {
        cluster["master_user_secret_kms_key_id"] = json!(attr("aws_kms_key", "main", "arn"));
    }
    cx.m.resource(DB, "aws_rds_cluster", &id, cluster);
    let instance_class = if r.serverless.is_some() { "db.serverless".to_string() } else { u.instance.clone() };
    // A writer plus the read replicas; a multi-AZ cluster without replicas
    // still gets a second instance to fail over to.
    let instances = 1 + u.read_replicas.max(u.multi_az as u32);
    cx.m.resource(
        DB,
        "aws_rds_cluster_instance",
        &id,
        json!({
            "count": instances,
            "identifier": format!("{}-${{count.index + 1}}", cx.name(&r.name)),
            "cluster_identifier": attr("aws_rds_cluster", &id, "id"),
            "engine": attr("aws_rds_cluster", &id, "engine"),
            "engine_version": attr("aws_rds_cluster", &id, "engine_version"),
            "instance_class": instance_class,
            "db_subnet_group_name": attr("aws_db_subnet_group", "main", "name"),
            "publicly_accessible": false,
            "auto_minor_version_upgrade": true,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "monitoring_interval": 60,
            "monitoring_role_arn": attr("aws_iam_role", "rds_monitoring", "arn"),
            "performance_insights_enabled": true,
            "performance_insights_kms_key_id": attr("aws_kms_key", "main", "arn"),
            "tags": cx.tags(&cx.name(&r.name))
        }),
    );
    cx.m.output(
        &format!("{id}_endpoint"),
        &format!("{} writer host", r.name),
        attr("aws_rds_cluster", &id, "endpoint"),
    );
    cx.m.output(
        &format!("{id}_reader_endpoint"),
        &format!("{} reader host (load-balanced over the replicas)", r.name),
        attr("aws_rds_cluster", &id, "reader_endpoint"),
    );
    let credentials = match generated {
        Some((secret, pw)) => {
            let host = pg_host(r, &format!("aws_rds_cluster.{id}.endpoint"));
            let values = db_connection(r, &host, &pw, managed_port(&r.engine));
            write_connection(cx, DB, &secret, values, true);
            attr("aws_secretsmanager_secret", &secret, "arn")
        }
        None => {
            let arn = expr(&format!("aws_rds_cluster.{id}.master_user_secret[0].secret_arn"));
            cx.m.output(
                &format!("{id}_master_secret_arn"),
                &format!("Secrets Manager secret RDS keeps the {} master password in", r.name),
                arn.clone(),
            );
            arn
        }
    };
    if proxied(r) {
        rds_proxy(cx, r, ProxyTarget::Cluster { readers: instances > 1 && u.read_replicas > 0 }, credentials);
    }
}

/// A managed MongoDB is Amazon DocumentDB (MongoDB-compatible).
fn documentdb(cx: &mut Cx, r: &Resource, u: &ResourceUse) {
    let id = ident(&r.name);
    let sg = security_group(cx, r);
    if !cx.m.file(DB).resource.get("aws_docdb_subnet_group").is_some_and(|g| g.contains_key("main")) {
        subnet_group(cx, "aws_docdb_subnet_group");
    }
    let v5 = major(&r.version).parse::<u32>().unwrap_or(5) >= 5;
    cx.m.resource(
        DB,
        "aws_docdb_cluster_parameter_group",
        &id,
        json!({
            "name": cx.name(&r.name),
            "family": if v5 { "docdb5.0" } else { "docdb4.0" },
            "description": format!("{}: TLS only, audit log on", r.name),
            "parameter": [{ "name": "tls", "value": "enabled" }, { "name": "audit_logs", "value": "enabled" }]
        }),
    );
    let mut cluster = json!({
            "cluster_identifier": cx.name(&r.name),
            "engine": "docdb",
            "engine_version": if v5 { "5.0.0" } else { "4.0.0" },
            "master_username": "app",
            "storage_encrypted": true,
            "kms_key_id": attr("aws_kms_key", "main", "arn"),
            "db_subnet_group_name": attr("aws_docdb_subnet_group", "main", "name"),
            "vpc_security_group_ids": [sg],
            "db_cluster_parameter_group_name": attr("aws_docdb_cluster_parameter_group", &id, "name"),
            "backup_retention_period": retention_days(r),
            "preferred_backup_window": BACKUP_WINDOW,
            "preferred_maintenance_window": MAINTENANCE_WINDOW,
            "enabled_cloudwatch_logs_exports": ["audit", "profiler"],
            "deletion_protection": true,
            "skip_final_snapshot": false,
            "final_snapshot_identifier": cx.name(&format!("{}-final", r.name)),
            "tags": cx.tags(&cx.name(&r.name))
    });
    let generated = master_password(cx, r, &mut cluster, "master_password");
    cx.m.resource(DB, "aws_docdb_cluster", &id, cluster);
    if let Some((secret, pw)) = generated {
        let values = db_connection(r, &format!("aws_docdb_cluster.{id}.endpoint"), &pw, managed_port(&r.engine));
        write_connection(cx, DB, &secret, values, true);
    }
    cx.m.resource(
        DB,
        "aws_docdb_cluster_instance",
        &id,
        json!({
            "count": 1 + u.read_replicas.max(u.multi_az as u32),
            "identifier": format!("{}-${{count.index + 1}}", cx.name(&r.name)),
            "cluster_identifier": attr("aws_docdb_cluster", &id, "id"),
            "instance_class": u.instance,
            "auto_minor_version_upgrade": true,
            "tags": cx.tags(&cx.name(&r.name))
        }),
    );
    cx.m.output(
        &format!("{id}_endpoint"),
        &format!("{} writer host", r.name),
        attr("aws_docdb_cluster", &id, "endpoint"),
    );
    cx.m.output(
        &format!("{id}_reader_endpoint"),
        &format!("{} reader host", r.name),
        attr("aws_docdb_cluster", &id, "reader_endpoint"),
    );
}

/// ElastiCache's version for a declared Redis version ("7" → "7.1").
fn redis_version(v: &str) -> String {
    match v {
        "7" => "7.1".into(),
        "6" => "6.2".into(),
        v if v.contains('.') => v.into(),
        v => format!("{v}.0"),
    }
}

/// Redis with TLS and IAM authentication: the default user is switched off,
/// and the one application user authenticates with IAM, so no password
/// exists; services that use the cache get `elasticache:Connect` through
/// their IRSA role.
fn redis(cx: &mut Cx, r: &Resource, u: &ResourceUse) {
    let id = ident(&r.name);
    let sg = security_group(cx, r);
    if !cx.m.file(DB).resource.get("aws_elasticache_subnet_group").is_some_and(|g| g.contains_key("main")) {
        subnet_group(cx, "aws_elasticache_subnet_group");
    }
    let users_file = DB;
    cx.m.resource(
        users_file,
        "aws_elasticache_user",
        &format!("{id}_default"),
        json!({
            "user_id": cx.name(&format!("{}-default", r.name)),
            "user_name": "default",
            "engine": "REDIS",
            "access_string": "off -@all",
            "authentication_mode": { "type": "no-password-required" }
        }),
    );
    // Pods that read a URL from Secrets Manager get a password user (an
    // IAM user needs a signed token the app would have to make itself);
    // otherwise the app authenticates with IAM through its role.
    let secret = connection_secret(cx, r);
    let password = secret.as_deref().map(|s| generated_password(cx, s));
    let mut app = json!({
        "user_id": cx.name(&format!("{}-app", r.name)),
        "user_name": cx.name(&format!("{}-app", r.name)),
        "engine": "REDIS",
        "access_string": "on ~* +@all",
        "authentication_mode": { "type": "iam" }
    });
    if let Some(pw) = &password {
        app["authentication_mode"] = json!({ "type": "password", "passwords": [format!("${{{pw}}}")] });
        app["lifecycle"] = json!({ "ignore_changes": ["authentication_mode"] });
    }
    cx.m.resource(users_file, "aws_elasticache_user", &format!("{id}_app"), app);
    cx.m.resource(
        users_file,
        "aws_elasticache_user_group",
        &id,
        json!({
            "user_group_id": cx.name(&r.name),
            "engine": "REDIS",
            "user_ids": [
                attr("aws_elasticache_user", &format!("{id}_default"), "user_id"),
                attr("aws_elasticache_user", &format!("{id}_app"), "user_id")
            ]
        }),
    );
    cx.m.resource(
        DB,
        "aws_cloudwatch_log_group",
        &format!("{id}_slow_log"),
        json!({
            "name": format!("/aws/elasticache/{}/slow-log", cx.name(&r.name)),
            "retention_in_days": 365,
            "kms_key_id": attr("aws_kms_key", "main", "arn")
        }),
    );
    // Production and multi-AZ environments keep a replica in another zone
    // (the plan's node counts, which the alarms watch node by node).
    let spread = u.multi_az || cx.env.production;
    let nodes = cache_nodes(r, u, cx.env.production);
    let replicas = nodes.replicas;
    let failover = replicas >= 1;
    let mut group = json!({
        "replication_group_id": cx.name(&r.name),
        "description": format!("redis {}", r.name),
        "engine": "redis",
        "engine_version": redis_version(&r.version),
        "node_type": u.instance,
        "port": 6379,
        "subnet_group_name": attr("aws_elasticache_subnet_group", "main", "name"),
        "security_group_ids": [sg],
        "at_rest_encryption_enabled": true,
        "kms_key_id": attr("aws_kms_key", "main", "arn"),
        "transit_encryption_enabled": true,
        "user_group_ids": [attr("aws_elasticache_user_group", &id, "user_group_id")],
        "automatic_failover_enabled": failover,
        "multi_az_enabled": failover && spread,
        "auto_minor_version_upgrade": true,
        "maintenance_window": MAINTENANCE_WINDOW,
        "snapshot_retention_limit": if r.backup.is_some() { retention_days(r) } else { 0 },
        "log_delivery_configuration": [{
            "destination": attr("aws_cloudwatch_log_group", &format!("{id}_slow_log"), "name"),
            "destination_type": "cloudwatch-logs",
            "log_format": "json",
            "log_type": "slow-log"
        }],
        "tags": cx.tags(&cx.name(&r.name))
    });
    if r.backup.is_some() {
        group["snapshot_window"] = json!(BACKUP_WINDOW);
    }
    if let Some(shards) = nodes.shards {
        group["cluster_mode"] = json!("enabled");
        group["parameter_group_name"] = json!(format!("default.redis{}.cluster.on", major(&r.version)));
        group["num_node_groups"] = json!(shards);
        group["replicas_per_node_group"] = json!(replicas);
    } else {
        group["parameter_group_name"] = json!(format!("default.redis{}", major(&r.version)));
        group["num_cache_clusters"] = json!(1 + replicas);
    }
    cx.m.resource(DB, "aws_elasticache_replication_group", &id, group);
    let endpoint = if r.cluster { "configuration_endpoint_address" } else { "primary_endpoint_address" };
    cx.m.output(
        &format!("{id}_endpoint"),
        &format!("{} host (TLS, IAM authentication)", r.name),
        attr("aws_elasticache_replication_group", &id, endpoint),
    );
    cx.m.output(
        &format!("{id}_user"),
        &format!("the user {} clients authenticate as", r.name),
        attr("aws_elasticache_user", &format!("{id}_app"), "user_name"),
    );
    if let (Some(secret), Some(pw)) = (secret, password) {
        let host = format!("${{aws_elasticache_replication_group.{id}.{endpoint}}}");
        let user = format!("${{aws_elasticache_user.{id}_app.user_name}}");
        let pw = format!("${{{pw}}}");
        let values = json!({
            "url": format!("rediss://{user}:{pw}@{host}:6379/0"),
            "host": host, "port": "6379", "address": format!("{host}:6379"), "user": user, "password": pw
        });
        write_connection(cx, DB, &secret, values, true);
    }
}

/// Amazon MSK: brokers spread over the database subnets (a multiple of the
/// zones), TLS between clients and brokers and inside the cluster,
/// encrypted at rest with the environment's key, broker logs in CloudWatch.
/// Clients reach the TLS listener from the cluster only (security group);
/// with Secrets Manager as the store, the bootstrap address is written to
/// the resource's connection secret, which External Secrets delivers.
fn msk(cx: &mut Cx, r: &Resource, u: &ResourceUse) {
    let file = "kafka.tf.json";
    let id = ident(&r.name);
    let sg = security_group(cx, r);
    let zones = cx.zones.len().max(1) as u32;
    let nodes = r.brokers.max(1).div_ceil(zones) * zones;
    cx.m.resource(
        file,
        "aws_cloudwatch_log_group",
        &format!("{id}_broker_logs"),
        json!({
            "name": format!("/aws/msk/{}", cx.name(&r.name)),
            "retention_in_days": 365,
            "kms_key_id": attr("aws_kms_key", "main", "arn")
        }),
    );
    cx.m.resource(
        file,
        "aws_msk_cluster",
        &id,
        json!({
            "cluster_name": cx.name(&r.name),
            "kafka_version": r.version,
            "number_of_broker_nodes": nodes,
            "broker_node_group_info": {
                "instance_type": u.instance,
                "client_subnets": expr("local.database_subnet_ids"),
                "security_groups": [sg],
                "storage_info": { "ebs_storage_info": { "volume_size": (u.storage >> 30).max(1) } }
            },
            "encryption_info": {
                "encryption_at_rest_kms_key_arn": attr("aws_kms_key", "main", "arn"),
                "encryption_in_transit": { "client_broker": "TLS", "in_cluster": true }
            },
            "logging_info": {
                "broker_logs": {
                    "cloudwatch_logs": {
                        "enabled": true,
                        "log_group": attr("aws_cloudwatch_log_group", &format!("{id}_broker_logs"), "name")
                    }
                }
            },
            "enhanced_monitoring": "PER_BROKER",
            "tags": cx.tags(&cx.name(&r.name))
        }),
    );
    if let Some(secret) = connection_secret(cx, r) {
        let values = json!({ "url": attr("aws_msk_cluster", &id, "bootstrap_brokers_tls") });
        write_connection(cx, file, &secret, values, false);
    }
}

/// An SQS queue, encrypted with the environment's key, with its dead-letter queue.
fn queue(cx: &mut Cx, r: &Resource) {
    let file = "queues.tf.json";
    let id = ident(&r.name);
    let suffix = if r.fifo { ".fifo" } else { "" };
    let mut q = json!({
        // The plan's name, which KEDA's trigger and its operator's policy also use.
        "name": crate::plan::env::queue_name(cx.model, cx.env, r),
        "message_retention_seconds": r.retention_ms / 1000,
        "visibility_timeout_seconds": r.visibility_timeout_ms / 1000,
        "kms_master_key_id": attr("aws_kms_key", "main", "arn"),
        "kms_data_key_reuse_period_seconds": 300,
        "tags": cx.tags(&cx.name(&r.name))
    });
    if r.fifo {
        q["fifo_queue"] = json!(true);
        q["content_based_deduplication"] = json!(true);
    }
    if r.dead_letter {
        let dlq = format!("{id}_dead_letter");
        let mut d = json!({
            "name": format!("{}-dead-letter{suffix}", crate::plan::env::cloud_name(cx.model, cx.env, &r.name)),
            // The longest SQS allows: time to look at what failed.
            "message_retention_seconds": 1_209_600,
            "kms_master_key_id": attr("aws_kms_key", "main", "arn"),
            "kms_data_key_reuse_period_seconds": 300,
            "tags": cx.tags(&cx.name(&format!("{}-dead-letter", r.name)))
        });
        if r.fifo {
            d["fifo_queue"] = json!(true);
        }
        cx.m.resource(file, "aws_sqs_queue", &dlq, d);
        q["redrive_policy"] = json!(super::jsonencode(&json!({
            "deadLetterTargetArn": attr("aws_sqs_queue", &dlq, "arn"),
            "maxReceiveCount": 5
        })));
        cx.m.resource(
            file,
            "aws_sqs_queue_redrive_allow_policy",
            &dlq,
            json!({
                "queue_url": attr("aws_sqs_queue", &dlq, "id"),
                "redrive_allow_policy": super::jsonencode(&json!({
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [attr("aws_sqs_queue", &id, "arn")]
                }))
            }),
        );
        cx.m.output(
            &format!("{id}_dead_letter_url"),
            &format!("{} dead-letter queue URL", r.name),
            attr("aws_sqs_queue", &dlq, "url"),
        );
    }
    cx.m.resource(file, "aws_sqs_queue", &id, q);
    cx.m.output(&format!("{id}_url"), &format!("{} queue URL", r.name), attr("aws_sqs_queue", &id, "url"));
    cx.m.output(&format!("{id}_arn"), &format!("{} queue ARN", r.name), attr("aws_sqs_queue", &id, "arn"));
    if let Some(secret) = connection_secret(cx, r) {
        let values = json!({ "url": attr("aws_sqs_queue", &id, "url"), "arn": attr("aws_sqs_queue", &id, "arn") });
        write_connection(cx, file, &secret, values, false);
    }
}

/// An S3 bucket: encrypted with the environment's key, public access
/// blocked, ACLs disabled, TLS only, versioned as declared.
fn bucket(cx: &mut Cx, r: &Resource) {
    let file = "buckets.tf.json";
    let id = ident(&r.name);
    let b = attr("aws_s3_bucket", &id, "id");
    cx.m.resource(
        file,
        "aws_s3_bucket",
        &id,
        json!({ "bucket": cx.name(&r.name), "tags": cx.tags(&cx.name(&r.name)) }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_public_access_block",
        &id,
        json!({
            "bucket": b,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true
        }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_ownership_controls",
        &id,
        json!({ "bucket": b, "rule": { "object_ownership": "BucketOwnerEnforced" } }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_server_side_encryption_configuration",
        &id,
        json!({
            "bucket": b,
            "rule": [{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": attr("aws_kms_key", "main", "arn")
                },
                "bucket_key_enabled": true
            }]
        }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_versioning",
        &id,
        json!({ "bucket": b, "versioning_configuration": { "status": if r.versioning { "Enabled" } else { "Suspended" } } }),
    );
    let mut rules = vec![json!({
        "id": "abort-incomplete-uploads",
        "status": "Enabled",
        "filter": {},
        "abort_incomplete_multipart_upload": { "days_after_initiation": 7 },
        "noncurrent_version_expiration": { "noncurrent_days": 90 }
    })];
    if let Some(ms) = r.expire_after_ms {
        rules.push(json!({
            "id": "expire-objects",
            "status": "Enabled",
            "filter": {},
            "expiration": { "days": (ms / 86_400_000).max(1) }
        }));
    }
    cx.m.resource(file, "aws_s3_bucket_lifecycle_configuration", &id, json!({ "bucket": b, "rule": rules }));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": { "AWS": "*" },
            "Action": "s3:*",
            "Resource": [attr("aws_s3_bucket", &id, "arn"), format!("${{aws_s3_bucket.{id}.arn}}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    });
    cx.m.resource(file, "aws_s3_bucket_policy", &id, json!({ "bucket": b, "policy": super::jsonencode(&policy) }));
    cx.m.output(&format!("{id}_bucket"), &format!("{} bucket name", r.name), b.clone());
    cx.m.output(&format!("{id}_arn"), &format!("{} bucket ARN", r.name), attr("aws_s3_bucket", &id, "arn"));
    if let Some(secret) = connection_secret(cx, r) {
        let values =
            json!({ "url": format!("s3://${{aws_s3_bucket.{id}.id}}"), "arn": attr("aws_s3_bucket", &id, "arn") });
        write_connection(cx, file, &secret, values, false);
    }
}

/// AWS Backup's schedule expression for a backup schedule.
pub(super) fn cron(schedule: &str) -> &'static str {
    match schedule {
        // AWS Backup runs at most hourly.
        "every_30m" | "hourly" => "cron(0 * * * ? *)",
        "every_6h" => "cron(0 */6 * * ? *)",
        "weekly" => "cron(0 3 ? * SUN *)",
        _ => "cron(0 3 * * ? *)",
    }
}

/// One AWS Backup plan per database, on its declared schedule and retention
/// (past the 35 days RDS keeps automated backups itself), into a vault
/// encrypted with the environment's key.
fn backups(cx: &mut Cx, dbs: &[(&Resource, String)]) {
    cx.m.resource(
        BACKUP,
        "aws_backup_vault",
        "main",
        json!({ "name": expr("local.name"), "kms_key_arn": attr("aws_kms_key", "main", "arn") }),
    );
    service_role(cx, "backup", "${local.name}-backup", "backup.amazonaws.com");
    attach(cx, "iam.tf.json", "backup", "service-role/AWSBackupServiceRolePolicyForBackup");
    attach(cx, "iam.tf.json", "backup", "service-role/AWSBackupServiceRolePolicyForRestores");
    // A production environment with a secondary region copies each backup
    // into the vault there as soon as it completes.
    let copy_to = super::recovery::region(cx).map(|region| super::recovery::vault(cx, region));
    for (r, arn) in dbs {
        let id = ident(&r.name);
        let (schedule, days) = match &r.backup {
            Some(b) => (cron(&b.schedule), b.retain_days.max(1)),
            None => (cron("daily"), 7),
        };
        let mut rule = json!({
            "rule_name": format!("{}-{}", r.name, r.backup.as_ref().map(|b| b.schedule.as_str()).unwrap_or("daily")),
            "target_vault_name": attr("aws_backup_vault", "main", "name"),
            "schedule": schedule,
            "lifecycle": { "delete_after": days }
        });
        if let Some(vault) = &copy_to {
            rule["copy_action"] = json!([{ "destination_vault_arn": vault, "lifecycle": { "delete_after": days } }]);
        }
        cx.m.resource(BACKUP, "aws_backup_plan", &id, json!({ "name": cx.name(&r.name), "rule": [rule] }));
        cx.m.resource(
            BACKUP,
            "aws_backup_selection",
            &id,
            json!({
                "name": cx.name(&r.name),
                "plan_id": attr("aws_backup_plan", &id, "id"),
                "iam_role_arn": attr("aws_iam_role", "backup", "arn"),
                "resources": [arn]
            }),
        );
    }
}

/// The off-cluster copies of the in-cluster backups (`plan::backup::off_cluster`):
/// one bucket per environment (versioned, encrypted with the environment's
/// key, public access blocked, TLS only, objects expiring after the longest
/// declared retention) and the IRSA role of the backup ServiceAccount, which
/// may write and read backups there and nothing else.
pub fn backup_store(cx: &mut Cx) {
    let plan = crate::plan::EnvPlan::new(cx.model, cx.graph, cx.env, cx.opts);
    let Some(store) = crate::plan::backup::off_cluster(&plan) else { return };
    let days =
        crate::plan::backup::backed_up(&plan).iter().filter_map(|r| r.backup.as_ref()).map(|b| b.retain_days).max();
    let file = "backups.tf.json";
    let id = "backups";
    let b = attr("aws_s3_bucket", id, "id");
    let arn = attr("aws_s3_bucket", id, "arn");
    // The CronJob prunes its volume after `retain` days; the bucket keeps
    // each dump as long, and an overwritten or deleted version as long again.
    let days = days.unwrap_or(7).max(1);
    store_bucket(cx, file, id, &cx.name("backups"), days);
    match super::recovery::region(cx) {
        Some(region) => {
            let bucket = crate::plan::backup::replica_bucket(&store, region);
            let bucket = bucket.replacen(&store.bucket, &cx.name("backups"), 1);
            super::recovery::replicate_bucket(cx, region, id, &bucket, days);
        }
        None => backup_replication_by_variable(cx, file, id),
    }
    let statements = vec![
        json!({ "sid": "ListBackups", "actions": ["s3:ListBucket"], "resources": [arn] }),
        json!({
            "sid": "ReadWriteBackups",
            "actions": ["s3:PutObject", "s3:GetObject"],
            "resources": [format!("${{aws_s3_bucket.{id}.arn}}/*")]
        }),
        json!({
            "sid": "BackupKey",
            "actions": ["kms:Decrypt", "kms:GenerateDataKey"],
            "resources": [attr("aws_kms_key", "main", "arn")]
        }),
    ];
    // Trusted by exactly the backup ServiceAccount of this environment's namespace.
    super::security::irsa_role(
        cx,
        "backup_upload",
        &cx.name("backup-upload"),
        &expr("local.namespace"),
        &store.service_account,
        statements,
    );
    cx.m.output("backup_bucket", "Bucket of the off-cluster backup copies", b);
    cx.m.output(
        "backup_role_arn",
        "IAM role of the backup service account (annotation eks.amazonaws.com/role-arn)",
        attr("aws_iam_role", "backup_upload", "arn"),
    );
}

/// A bucket for backups: versioned, encrypted with the root's key, public
/// access blocked, owner-enforced, TLS only, current objects expiring after
/// `days` and noncurrent versions as long again, uploads reported to
/// EventBridge, and the access-log bucket the team may name.
pub fn store_bucket(cx: &mut Cx, file: &'static str, id: &str, name: &str, days: u64) {
    let b = attr("aws_s3_bucket", id, "id");
    let arn = attr("aws_s3_bucket", id, "arn");
    cx.m.resource(file, "aws_s3_bucket", id, json!({ "bucket": name, "tags": cx.tags(name) }));
    cx.m.resource(
        file,
        "aws_s3_bucket_public_access_block",
        id,
        json!({
            "bucket": b,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true
        }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_ownership_controls",
        id,
        json!({ "bucket": b, "rule": { "object_ownership": "BucketOwnerEnforced" } }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_server_side_encryption_configuration",
        id,
        json!({
            "bucket": b,
            "rule": [{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": attr("aws_kms_key", "main", "arn")
                },
                "bucket_key_enabled": true
            }]
        }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_versioning",
        id,
        json!({ "bucket": b, "versioning_configuration": { "status": "Enabled" } }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_lifecycle_configuration",
        id,
        json!({
            "bucket": b,
            "rule": [{
                "id": "retention",
                "status": "Enabled",
                "filter": {},
                "expiration": { "days": days },
                "noncurrent_version_expiration": { "noncurrent_days": days },
                "abort_incomplete_multipart_upload": { "days_after_initiation": 1 }
            }]
        }),
    );
    // Uploads and deletions reach EventBridge, where a rule can watch for
    // missing backups.
    cx.m.resource(file, "aws_s3_bucket_notification", id, json!({ "bucket": b, "eventbridge": true }));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": { "AWS": "*" },
            "Action": "s3:*",
            "Resource": [arn, format!("${{aws_s3_bucket.{id}.arn}}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        }]
    });
    cx.m.resource(file, "aws_s3_bucket_policy", id, json!({ "bucket": b, "policy": super::jsonencode(&policy) }));
    backup_store_options(cx, file, id, name);
}

/// What the team names for the backup bucket (variables, null by default,
/// so `plan` never stops to ask): the access-log bucket of the organisation
/// (server access logs go to an SSE-S3 bucket, which this output does not
/// create beside a KMS-encrypted one), and a bucket in a secondary region
/// with its KMS key to replicate every backup to. Each is written when named.
fn backup_store_options(cx: &mut Cx, file: &'static str, id: &str, name: &str) {
    let b = attr("aws_s3_bucket", id, "id");
    cx.m.variable(
        "backup_access_log_bucket",
        "string",
        "Bucket (SSE-S3) that receives the server access logs of the backup bucket; null (the default) writes none",
        Some(json!(null)),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_logging",
        id,
        json!({
            "count": expr("var.backup_access_log_bucket == null ? 0 : 1"),
            "bucket": b,
            "target_bucket": expr("var.backup_access_log_bucket"),
            "target_prefix": format!("{name}/")
        }),
    );
    service_role(cx, "backup_replication", &cx.name("backup-replication"), "s3.amazonaws.com");
}

/// The IAM policy S3 replication runs with: read the source bucket's
/// versions, write them to the replica's objects (`replica_objects`), and
/// the key statements of the two buckets' encryption (`keys`).
pub(super) fn replication_policy(source: &str, replica_objects: String, keys: Vec<Value>) -> Value {
    let mut statements = vec![
        json!({
            "Sid": "ReadSource",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket", "s3:GetObjectVersionForReplication",
                       "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Resource": [attr("aws_s3_bucket", source, "arn"), format!("${{aws_s3_bucket.{source}.arn}}/*")]
        }),
        json!({
            "Sid": "WriteReplica",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": [replica_objects]
        }),
    ];
    statements.extend(keys);
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Without a secondary region in the program, the team may still name a
/// replica bucket of their own (variables, null by default).
pub fn backup_replication_by_variable(cx: &mut Cx, file: &'static str, id: &str) {
    cx.m.variable(
        "backup_replica_bucket_arn",
        "string",
        "ARN of a versioned bucket in a secondary region that every backup is replicated to; null (the default) keeps the backups in this region",
        Some(json!(null)),
    );
    cx.m.variable(
        "backup_replica_kms_key_arn",
        "string",
        "KMS key in the replica bucket's region that replicated backups are encrypted with (required with backup_replica_bucket_arn)",
        Some(json!(null)),
    );
    let b = attr("aws_s3_bucket", id, "id");
    let replica = replication_policy(
        id,
        "${var.backup_replica_bucket_arn}/*".into(),
        vec![json!({
            "Sid": "Keys",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [attr("aws_kms_key", "main", "arn"), expr("var.backup_replica_kms_key_arn")]
        })],
    );
    cx.m.resource(
        "iam.tf.json",
        "aws_iam_role_policy",
        "backup_replication",
        json!({
            "count": expr("var.backup_replica_bucket_arn == null ? 0 : 1"),
            "name": "replicate",
            "role": attr("aws_iam_role", "backup_replication", "id"),
            "policy": super::jsonencode(&replica)
        }),
    );
    cx.m.resource(
        file,
        "aws_s3_bucket_replication_configuration",
        id,
        json!({
            "count": expr("var.backup_replica_bucket_arn == null ? 0 : 1"),
            "depends_on": [format!("aws_s3_bucket_versioning.{id}")],
            "bucket": b,
            "role": attr("aws_iam_role", "backup_replication", "arn"),
            "rule": [{
                "id": "secondary-region",
                "status": "Enabled",
                "filter": {},
                "delete_marker_replication": { "status": "Enabled" },
                "source_selection_criteria": { "sse_kms_encrypted_objects": { "status": "Enabled" } },
                "destination": {
                    "bucket": expr("var.backup_replica_bucket_arn"),
                    "encryption_configuration": { "replica_kms_key_id": expr("var.backup_replica_kms_key_arn") }
                }
            }]
        }),
    );
}
