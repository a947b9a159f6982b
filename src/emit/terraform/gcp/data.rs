//! A GCP environment root: what runs on the cluster's network for this
//! environment. Managed PostgreSQL is Cloud SQL (private IP only, through
//! the cluster root's private services range; backups with point-in-time
//! recovery; deletion protection in production), managed Redis is
//! Memorystore (AUTH and TLS), every Secret the environment's pods read has
//! a Secret Manager secret, the credentials this output owns are generated
//! here and written there, each workload that reads secrets gets a Google
//! service account bound to its Kubernetes ServiceAccount through Workload
//! Identity, and with a domain, Cloud DNS records point the environment's
//! hosts at a reserved ingress address.

use super::{account_id, served, Gx};
use crate::emit::terraform::{attr, expr, hcl_quoted, ident};
use crate::model::{Engine, Environment, Exposure, Placement, Resource, ResourceUse};
use crate::plan::env::{connection_secret, render};
use crate::plan::secrets::Origin;
use crate::plan::topology::Cluster;
use crate::plan::EnvPlan;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const DB: &str = "databases.tf.json";
const SECRETS: &str = "secrets.tf.json";
const IDENTITY: &str = "identity.tf.json";
const DNS: &str = "dns.tf.json";

/// A Cloud SQL tier when the program's `instance` is not one (it defaults to an AWS class).
const SQL_TIER: &str = "db-custom-2-7680";

pub fn environment(gx: &mut Gx, env: &Environment, c: &Cluster) {
    let default = if c.created { Some(json!(c.name)) } else { None };
    gx.m.variable("cluster_name", "string", "name of the GKE cluster this environment runs on", default.clone());
    gx.m.variable(
        "network_name",
        "string",
        "VPC network of that cluster (the cluster root names it after the cluster)",
        default,
    );
    gx.m.data("data.tf.json", "google_compute_network", "main", json!({ "name": expr("var.network_name") }));
    let k8s = EnvPlan::new(gx.model, gx.graph, env, gx.opts);
    let mut urls: BTreeMap<String, Value> = BTreeMap::new();
    for r in &gx.model.resources {
        let u = &env.resources[r.id.index()];
        if u.placement != Placement::Managed || !served(&r.engine) {
            continue;
        }
        match r.engine {
            Engine::Postgres if !r.aurora => {
                urls.insert(connection_secret(&r.name), cloud_sql(gx, env, r, u));
            }
            Engine::Redis => {
                urls.insert(connection_secret(&r.name), memorystore(gx, env, r, u));
            }
            _ => {}
        }
    }
    secrets(gx, env, &k8s, &urls);
    dns(gx, env, &k8s);
}

/// A generated password (letters and digits, so it needs no escaping in a URL).
fn password(gx: &mut Gx, id: &str) -> String {
    gx.m.resource(DB, "random_password", id, json!({ "length": 32, "special": false }));
    format!("random_password.{id}.result")
}

/// A connection URL as an HCL template: the program's text quoted, the
/// host and password references live.
fn url_template(r: &Resource, host: &str, password: &str, suffix: &str) -> Option<String> {
    const HOST: &str = "\u{0}host\u{0}";
    const PW: &str = "\u{0}password\u{0}";
    let url = crate::plan::engines::connection_url(r, HOST, PW)?;
    Some(
        hcl_quoted(&format!("{url}{suffix}"))
            .replace(HOST, &format!("${{{host}}}"))
            .replace(PW, &format!("${{{password}}}")),
    )
}

/// Cloud SQL for PostgreSQL; returns the connection secret's content (an HCL object).
fn cloud_sql(gx: &mut Gx, env: &Environment, r: &Resource, u: &ResourceUse) -> Value {
    let id = ident(&r.name);
    let major = r.version.split('.').next().unwrap_or(&r.version).to_string();
    let tier = if u.instance.starts_with("db-") { u.instance.clone() } else { SQL_TIER.to_string() };
    let tier_var = format!("{id}_tier");
    gx.m.variable(&tier_var, "string", &format!("Cloud SQL machine tier of {}", r.name), Some(json!(tier)));
    let retained = r.backup.as_ref().map(|b| b.retain_days).unwrap_or(7).clamp(1, 365);
    let gib = (u.storage >> 30).max(10);
    let pw = password(gx, &id);
    gx.m.resource(
        DB,
        "google_sql_database_instance",
        &id,
        json!({
            "name": format!("${{local.name}}-{}", r.name),
            "database_version": format!("POSTGRES_{major}"),
            "region": expr("var.region"),
            "deletion_protection": env.production,
            "settings": {
                "tier": expr(&format!("var.{tier_var}")),
                "availability_type": if u.multi_az || env.production { "REGIONAL" } else { "ZONAL" },
                "disk_type": "PD_SSD",
                "disk_size": gib,
                "disk_autoresize": true,
                "deletion_protection_enabled": env.production,
                "user_labels": expr("local.labels"),
                "ip_configuration": {
                    "ipv4_enabled": false,
                    "private_network": attr("data.google_compute_network", "main", "id"),
                    "ssl_mode": "ENCRYPTED_ONLY"
                },
                "backup_configuration": {
                    "enabled": true,
                    "start_time": "03:00",
                    "point_in_time_recovery_enabled": true,
                    "transaction_log_retention_days": 7,
                    "backup_retention_settings": { "retained_backups": retained, "retention_unit": "COUNT" }
                },
                "maintenance_window": { "day": 7, "hour": 5 },
                "insights_config": { "query_insights_enabled": true },
                "database_flags": [
                    { "name": "log_statement", "value": "ddl" },
                    { "name": "log_min_duration_statement", "value": "1000" },
                    { "name": "log_checkpoints", "value": "on" },
                    { "name": "log_connections", "value": "on" },
                    { "name": "log_disconnections", "value": "on" }
                ]
            }
        }),
    );
    for n in 0..u.read_replicas {
        gx.m.resource(
            DB,
            "google_sql_database_instance",
            &format!("{id}_replica_{n}"),
            json!({
                "name": format!("${{local.name}}-{}-replica-{n}", r.name),
                "database_version": format!("POSTGRES_{major}"),
                "region": expr("var.region"),
                "master_instance_name": attr("google_sql_database_instance", &id, "name"),
                "deletion_protection": env.production,
                "settings": {
                    "tier": expr(&format!("var.{tier_var}")),
                    "availability_type": "ZONAL",
                    "disk_autoresize": true,
                    "user_labels": expr("local.labels"),
                    "ip_configuration": {
                        "ipv4_enabled": false,
                        "private_network": attr("data.google_compute_network", "main", "id"),
                        "ssl_mode": "ENCRYPTED_ONLY"
                    }
                }
            }),
        );
    }
    gx.m.resource(
        DB,
        "google_sql_database",
        &id,
        json!({ "name": r.database, "instance": attr("google_sql_database_instance", &id, "name") }),
    );
    gx.m.resource(
        DB,
        "google_sql_user",
        &id,
        json!({ "name": "app", "instance": attr("google_sql_database_instance", &id, "name"), "password": expr(&pw) }),
    );
    let host = format!("google_sql_database_instance.{id}.private_ip_address");
    let url = url_template(r, &host, &pw, "?sslmode=require").unwrap_or_default();
    json!(format!("{{password = {pw}, host = {host}, url = \"{url}\"}}"))
}

/// Memorystore for Redis (AUTH on, TLS in transit); returns the connection secret's content.
fn memorystore(gx: &mut Gx, env: &Environment, r: &Resource, u: &ResourceUse) -> Value {
    let id = ident(&r.name);
    let mem_var = format!("{id}_memory_gb");
    gx.m.variable(&mem_var, "number", &format!("Memorystore memory of {} (GB)", r.name), Some(json!(1)));
    let ha = u.multi_az || env.production || r.replicas > 0;
    let minor: Vec<&str> = r.version.split('.').take(2).collect();
    let version = if minor.len() == 2 { format!("REDIS_{}_{}", minor[0], minor[1]) } else { "REDIS_7_2".into() };
    gx.m.resource(
        DB,
        "google_redis_instance",
        &id,
        json!({
            "name": format!("${{local.name}}-{}", r.name),
            "region": expr("var.region"),
            "tier": if ha { "STANDARD_HA" } else { "BASIC" },
            "memory_size_gb": expr(&format!("var.{mem_var}")),
            "redis_version": version,
            "authorized_network": attr("data.google_compute_network", "main", "id"),
            "connect_mode": "PRIVATE_SERVICE_ACCESS",
            "auth_enabled": true,
            "transit_encryption_mode": "SERVER_AUTHENTICATION",
            "labels": expr("local.labels"),
            "maintenance_policy": { "weekly_maintenance_window": [{ "day": "SUNDAY", "start_time": { "hours": 5, "minutes": 0 } }] }
        }),
    );
    let pw = format!("google_redis_instance.{id}.auth_string");
    let host = format!("google_redis_instance.{id}.host");
    // TLS: rediss://, and the server's CA beside the URL for clients that verify it.
    let url = url_template(r, &host, &pw, "").unwrap_or_default().replacen("redis://", "rediss://", 1);
    json!(format!(
        "{{password = {pw}, host = {host}, url = \"{url}\", ca = google_redis_instance.{id}.server_ca_certs[0].cert}}"
    ))
}

/// A Secret Manager secret id for a Kubernetes Secret: `<project>-<env>-<name>`
/// (Secret Manager takes letters, digits, `-` and `_`).
pub fn secret_id(gx: &Gx, env: &Environment, name: &str) -> String {
    crate::plan::secrets::gcp_secret_id(gx.model, env, name)
}

/// Secret Manager secrets for every Secret the pods read, the values this
/// output owns (managed and in-cluster credentials), and who may read them:
/// External Secrets' service account all of them, each workload's service
/// account those it reads.
fn secrets(gx: &mut Gx, env: &Environment, k8s: &EnvPlan, urls: &BTreeMap<String, Value>) {
    // Generated Secrets (the ECR pull token) have no store entry.
    let inventory: Vec<_> = k8s.secrets().iter().filter(|s| s.in_store()).cloned().collect();
    let mut readers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let deployed: BTreeSet<String> = env.deployments.iter().map(|d| gx.model.service(d.service).name.clone()).collect();
    let mut names: BTreeSet<String> = inventory.iter().map(|s| s.name.clone()).collect();
    names.extend(urls.keys().cloned());
    // The cluster add-ons' Secrets this environment's identity reads (plan/logs.rs).
    names.extend(crate::plan::addon_secrets::addon_secret_names(gx.model, env.id));
    for name in &names {
        let id = ident(&name.replace('.', "_"));
        gx.m.resource(
            SECRETS,
            "google_secret_manager_secret",
            &id,
            json!({
                "secret_id": secret_id(gx, env, name),
                "replication": { "auto": {} },
                "labels": expr("local.labels"),
                "annotations": { "kubernetes-object": name }
            }),
        );
        let owned = inventory.iter().find(|s| &s.name == name).map(|s| &s.origin);
        if let Some(content) = urls.get(name) {
            let content = content.as_str().unwrap_or_default();
            gx.m.resource(
                SECRETS,
                "google_secret_manager_secret_version",
                &id,
                json!({
                    "secret": attr("google_secret_manager_secret", &id, "id"),
                    "secret_data": format!("${{jsonencode({content})}}")
                }),
            );
        } else if let Some(Origin::Connection { resource }) = owned {
            in_cluster_credential(gx, env, k8s, &id, resource);
        }
        if let Some(s) = inventory.iter().find(|s| &s.name == name) {
            for reader in s.readers.iter().filter(|r| deployed.contains(*r)) {
                readers.entry(reader.clone()).or_default().insert(id.clone());
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let store = format!("{}-secrets", gx.model.project.name);
    let all: BTreeSet<String> = names.iter().map(|n| ident(&n.replace('.', "_"))).collect();
    workload_identity(gx, env, "external_secrets", &store, &all);
    let mut out = Vec::new();
    for (service, ids) in &readers {
        let key = format!("service_{}", ident(service));
        // The ServiceAccount the service's pods run as (`service_account`).
        let ksa = gx.model.service_by_name(service).map_or(service.as_str(), crate::plan::pod::service_account);
        workload_identity(gx, env, &key, ksa, ids);
        out.push(format!("\"{}\" = google_service_account.{key}.email", hcl_quoted(service)));
    }
    gx.m.output(
        "external_secrets_service_account",
        "Google service account of External Secrets (annotation iam.gke.io/gcp-service-account)",
        attr("google_service_account", "external_secrets", "email"),
    );
    if !out.is_empty() {
        gx.m.output(
            "service_accounts",
            "Google service account of each workload that reads secrets (annotation iam.gke.io/gcp-service-account)",
            expr(&format!("{{{}}}", out.join(", "))),
        );
    }
}

/// The password of a database this output runs in the cluster, generated
/// once and kept (the database was initialised with it).
fn in_cluster_credential(gx: &mut Gx, env: &Environment, k8s: &EnvPlan, id: &str, resource: &str) {
    let Some(r) = gx.model.resource_by_name(resource) else { return };
    // A managed resource GCP cannot serve yet (W0008) has no credential to generate.
    if !k8s.in_cluster(r.id) || !crate::plan::engines::uses_password(r) {
        return;
    }
    let host = format!("{}.{}.svc.cluster.local", r.name, env.namespace);
    let pw = password(gx, id);
    const PW: &str = "\u{0}password\u{0}";
    let Some(url) = crate::plan::engines::connection_url(r, &host, PW) else { return };
    let url = hcl_quoted(&url).replace(PW, &format!("${{{pw}}}"));
    gx.m.resource(
        SECRETS,
        "google_secret_manager_secret_version",
        id,
        json!({
            "secret": attr("google_secret_manager_secret", id, "id"),
            "secret_data": format!("${{jsonencode({{password = {pw}, url = \"{url}\"}})}}")
        }),
    );
}

/// A Google service account for one Kubernetes ServiceAccount of the
/// namespace, with read access to the given secrets (Terraform names).
fn workload_identity(gx: &mut Gx, env: &Environment, key: &str, ksa: &str, secrets: &BTreeSet<String>) {
    let account = account_id(&format!("{}-{}-{ksa}", gx.model.project.name, env.name));
    gx.m.resource(
        IDENTITY,
        "google_service_account",
        key,
        json!({ "account_id": account, "display_name": format!("{ksa} in {}", env.namespace) }),
    );
    gx.m.resource(
        IDENTITY,
        "google_service_account_iam_member",
        &format!("{key}_workload_identity"),
        json!({
            "service_account_id": attr("google_service_account", key, "name"),
            "role": "roles/iam.workloadIdentityUser",
            "member": format!("serviceAccount:${{var.project}}.svc.id.goog[{}/{ksa}]", env.namespace)
        }),
    );
    for s in secrets {
        gx.m.resource(
            IDENTITY,
            "google_secret_manager_secret_iam_member",
            &format!("{key}_{s}"),
            json!({
                "secret_id": attr("google_secret_manager_secret", s, "id"),
                "role": "roles/secretmanager.secretAccessor",
                "member": format!("serviceAccount:{}", attr("google_service_account", key, "email"))
            }),
        );
    }
}

/// Cloud DNS: an A record for every host of this environment under the
/// project's domain, in the managed zone the team already has, at the
/// address the cluster root reserved for its ingress controller.
fn dns(gx: &mut Gx, env: &Environment, k8s: &EnvPlan) {
    let Some(domain) = &gx.model.project.domain else { return };
    let zone = gx.model.project.dns.as_ref().map(|d| d.zone.clone()).unwrap_or_else(|| domain.clone());
    let zone = zone.trim_end_matches('.').to_string();
    let mut hosts = BTreeSet::new();
    for d in &env.deployments {
        if let Exposure::Ingress { host, .. } = &gx.model.service(d.service).expose {
            hosts.insert(render(k8s, host));
        }
    }
    hosts.retain(|h| h == &zone || h.ends_with(&format!(".{zone}")));
    if hosts.is_empty() {
        return;
    }
    // One ingress controller per cluster, so its address is the cluster root's.
    let address = json!({ "name": "${var.cluster_name}-ingress", "region": expr("var.region") });
    if !crate::plan::topology::records_in_own_dns(gx.model, gx.primary) {
        gx.m.data(DNS, "google_compute_address", "ingress", address);
        let list = hosts.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        gx.m.output(
            "ingress_address",
            &format!("create an A record at this address for each of {list}, where the DNS of {zone} is served"),
            attr("data.google_compute_address", "ingress", "address"),
        );
        return;
    }
    let zone_name: String =
        zone.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    gx.m.variable("dns_zone_name", "string", &format!("Cloud DNS managed zone of {zone}"), Some(json!(zone_name)));
    gx.m.data(DNS, "google_dns_managed_zone", "main", json!({ "name": expr("var.dns_zone_name") }));
    gx.m.data(DNS, "google_compute_address", "ingress", address);
    // Keyed by position among the sorted hosts: a Terraform name never
    // carries program text.
    for (n, h) in hosts.iter().enumerate() {
        gx.m.resource(
            DNS,
            "google_dns_record_set",
            &format!("host_{n}"),
            json!({
                "managed_zone": attr("data.google_dns_managed_zone", "main", "name"),
                "name": format!("{h}."),
                "type": "A",
                "ttl": 300,
                "rrdatas": [attr("data.google_compute_address", "ingress", "address")]
            }),
        );
    }
}
