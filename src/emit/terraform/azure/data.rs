//! An Azure environment root: what runs on the cluster's VNet for this
//! environment, in a resource group of its own. Managed PostgreSQL is a
//! flexible server in the cluster's delegated subnet (no public access,
//! TLS required, backups kept as the program says, geo-redundant and zone
//! redundant in production), managed Redis is Azure Cache for Redis (TLS
//! port only, reached through a private endpoint), every Secret the
//! environment's pods read is a Key Vault secret (the credentials this
//! output owns written there), each workload that reads secrets gets a
//! user-assigned identity federated with its Kubernetes ServiceAccount and
//! allowed to read exactly those secrets, and with a domain, Azure DNS
//! records point the environment's hosts at the cluster's ingress address.

use super::{compact_name, served, Ax};
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

/// A flexible server SKU when the program's `instance` is not one (it defaults to an AWS class).
const PG_SKU: &str = "GP_Standard_D2ds_v5";
/// Storage sizes a flexible server accepts (MB).
const PG_STORAGE_MB: &[u64] = &[32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304];

fn rg() -> String {
    attr("azurerm_resource_group", "main", "name")
}

pub fn environment(ax: &mut Ax, env: &Environment, c: &Cluster) {
    let default = if c.created { Some(json!(c.name)) } else { None };
    ax.m.variable("cluster_name", "string", "name of the AKS cluster this environment runs on", default.clone());
    ax.m.variable(
        "cluster_resource_group",
        "string",
        "resource group of that cluster and its VNet (the cluster root names it <cluster>-rg)",
        default.map(|d| json!(format!("{}-rg", d.as_str().unwrap_or_default()))),
    );
    ax.m.variable(
        "key_vault_allowed_ranges",
        "list(string)",
        "public ranges Terraform and operators reach this environment's Key Vault from",
        None,
    );
    ax.m.data(
        "data.tf.json",
        "azurerm_kubernetes_cluster",
        "main",
        json!({ "name": expr("var.cluster_name"), "resource_group_name": expr("var.cluster_resource_group") }),
    );
    ax.m.data(
        "data.tf.json",
        "azurerm_virtual_network",
        "main",
        json!({ "name": "${var.cluster_name}-vnet", "resource_group_name": expr("var.cluster_resource_group") }),
    );
    for subnet in ["nodes", "endpoints", "postgres"] {
        ax.m.data(
            "data.tf.json",
            "azurerm_subnet",
            subnet,
            json!({
                "name": subnet,
                "virtual_network_name": attr("data.azurerm_virtual_network", "main", "name"),
                "resource_group_name": expr("var.cluster_resource_group")
            }),
        );
    }
    ax.m.resource(
        "main.tf.json",
        "azurerm_resource_group",
        "main",
        json!({ "name": "${local.name}-rg", "location": expr("var.location"), "tags": expr("local.tags") }),
    );
    let k8s = EnvPlan::new(ax.model, ax.graph, env, ax.opts);
    let mut urls: BTreeMap<String, Value> = BTreeMap::new();
    for r in &ax.model.resources {
        let u = &env.resources[r.id.index()];
        if u.placement != Placement::Managed || !served(&r.engine) {
            continue;
        }
        match r.engine {
            Engine::Postgres if !r.aurora => {
                urls.insert(connection_secret(&r.name), postgres(ax, env, r, u));
            }
            Engine::Redis => {
                urls.insert(connection_secret(&r.name), redis(ax, env, r, u));
            }
            _ => {}
        }
    }
    secrets(ax, env, &k8s, &urls);
    dns(ax, env, &k8s);
}

/// A generated password (letters and digits, so it needs no escaping in a URL).
fn password(ax: &mut Ax, id: &str) -> String {
    ax.m.resource(DB, "random_password", id, json!({ "length": 32, "special": false }));
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

/// A private DNS zone linked to the cluster's VNet.
fn private_zone(ax: &mut Ax, id: &str, zone: &str) {
    ax.m.resource(
        DB,
        "azurerm_private_dns_zone",
        id,
        json!({ "name": zone, "resource_group_name": rg(), "tags": expr("local.tags") }),
    );
    ax.m.resource(
        DB,
        "azurerm_private_dns_zone_virtual_network_link",
        id,
        json!({
            "name": format!("${{local.name}}-{}", id.replace('_', "-")),
            "resource_group_name": rg(),
            "private_dns_zone_name": attr("azurerm_private_dns_zone", id, "name"),
            "virtual_network_id": attr("data.azurerm_virtual_network", "main", "id"),
            "registration_enabled": false,
            "tags": expr("local.tags")
        }),
    );
}

/// A PostgreSQL flexible server; returns the connection secret's content (an HCL object).
fn postgres(ax: &mut Ax, env: &Environment, r: &Resource, u: &ResourceUse) -> Value {
    let id = ident(&r.name);
    let major = r.version.split('.').next().unwrap_or(&r.version).to_string();
    let sku =
        if ["B_", "GP_", "MO_"].iter().any(|p| u.instance.starts_with(p)) { u.instance.clone() } else { PG_SKU.into() };
    let sku_var = format!("{id}_sku");
    ax.m.variable(&sku_var, "string", &format!("flexible server SKU of {}", r.name), Some(json!(sku)));
    let retained = r.backup.as_ref().map(|b| b.retain_days).unwrap_or(7).clamp(7, 35);
    let mb = u.storage >> 20;
    let storage = PG_STORAGE_MB.iter().copied().find(|s| *s >= mb).unwrap_or(32768);
    let ha = u.multi_az || env.production;
    let zone_name = format!("${{local.name}}-{}.private.postgres.database.azure.com", r.name);
    private_zone(ax, &format!("{id}_postgres"), &zone_name);
    let pw = password(ax, &id);
    let mut server = json!({
        "name": format!("${{local.name}}-{}", r.name),
        "resource_group_name": rg(),
        "location": expr("var.location"),
        "version": major,
        "sku_name": expr(&format!("var.{sku_var}")),
        "storage_mb": storage,
        "auto_grow_enabled": true,
        "delegated_subnet_id": attr("data.azurerm_subnet", "postgres", "id"),
        "private_dns_zone_id": attr("azurerm_private_dns_zone", &format!("{id}_postgres"), "id"),
        "public_network_access_enabled": false,
        "administrator_login": "app",
        "administrator_password": expr(&pw),
        "backup_retention_days": retained,
        "geo_redundant_backup_enabled": env.production,
        "zone": "1",
        "maintenance_window": { "day_of_week": 0, "start_hour": 5, "start_minute": 0 },
        "tags": expr("local.tags"),
        "depends_on": [format!("azurerm_private_dns_zone_virtual_network_link.{id}_postgres")],
        "lifecycle": { "ignore_changes": ["zone", "high_availability[0].standby_availability_zone"], "prevent_destroy": env.production }
    });
    if ha {
        server["high_availability"] = json!({ "mode": "ZoneRedundant", "standby_availability_zone": "2" });
    }
    ax.m.resource(DB, "azurerm_postgresql_flexible_server", &id, server);
    for (name, value) in [
        ("require_secure_transport", "on"),
        ("ssl_min_protocol_version", "TLSv1.2"),
        ("log_connections", "on"),
        ("log_checkpoints", "on"),
    ] {
        ax.m.resource(
            DB,
            "azurerm_postgresql_flexible_server_configuration",
            &format!("{id}_{name}"),
            json!({ "name": name, "server_id": attr("azurerm_postgresql_flexible_server", &id, "id"), "value": value }),
        );
    }
    for n in 0..u.read_replicas {
        ax.m.resource(
            DB,
            "azurerm_postgresql_flexible_server",
            &format!("{id}_replica_{n}"),
            json!({
                "name": format!("${{local.name}}-{}-replica-{n}", r.name),
                "resource_group_name": rg(),
                "location": expr("var.location"),
                "create_mode": "Replica",
                "source_server_id": attr("azurerm_postgresql_flexible_server", &id, "id"),
                "version": major,
                "sku_name": expr(&format!("var.{sku_var}")),
                "storage_mb": storage,
                "delegated_subnet_id": attr("data.azurerm_subnet", "postgres", "id"),
                "private_dns_zone_id": attr("azurerm_private_dns_zone", &format!("{id}_postgres"), "id"),
                "public_network_access_enabled": false,
                "tags": expr("local.tags"),
                "lifecycle": { "ignore_changes": ["zone"] }
            }),
        );
    }
    ax.m.resource(
        DB,
        "azurerm_postgresql_flexible_server_database",
        &id,
        json!({
            "name": r.database,
            "server_id": attr("azurerm_postgresql_flexible_server", &id, "id"),
            "charset": "UTF8",
            "collation": "en_US.utf8"
        }),
    );
    let host = format!("azurerm_postgresql_flexible_server.{id}.fqdn");
    let url = url_template(r, &host, &pw, "?sslmode=require").unwrap_or_default();
    json!(format!("{{password = {pw}, host = {host}, url = \"{url}\"}}"))
}

/// Azure Cache for Redis (TLS port only, no public access, a private
/// endpoint in the cluster's VNet); returns the connection secret's content.
fn redis(ax: &mut Ax, env: &Environment, r: &Resource, u: &ResourceUse) -> Value {
    let id = ident(&r.name);
    let ha = u.multi_az || env.production || r.replicas > 0;
    let cap_var = format!("{id}_capacity");
    ax.m.variable(&cap_var, "number", &format!("Azure Cache for Redis capacity of {} (0-6)", r.name), Some(json!(1)));
    ax.m.resource(
        DB,
        "azurerm_redis_cache",
        &id,
        json!({
            "name": format!("${{local.name}}-{}", r.name),
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "capacity": expr(&format!("var.{cap_var}")),
            "family": if ha { "P" } else { "C" },
            "sku_name": if ha { "Premium" } else { "Standard" },
            "non_ssl_port_enabled": false,
            "minimum_tls_version": "1.2",
            "public_network_access_enabled": false,
            "redis_version": "6",
            "redis_configuration": {},
            "tags": expr("local.tags")
        }),
    );
    // One privatelink zone for every cache of the environment.
    let zone = "redis";
    if !ax.m.file(DB).resource.get("azurerm_private_dns_zone").is_some_and(|z| z.contains_key(zone)) {
        private_zone(ax, zone, "privatelink.redis.cache.windows.net");
    }
    ax.m.resource(
        DB,
        "azurerm_private_endpoint",
        &id,
        json!({
            "name": format!("${{local.name}}-{}", r.name),
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "subnet_id": attr("data.azurerm_subnet", "endpoints", "id"),
            "private_service_connection": {
                "name": "redis",
                "private_connection_resource_id": attr("azurerm_redis_cache", &id, "id"),
                "subresource_names": ["redisCache"],
                "is_manual_connection": false
            },
            "private_dns_zone_group": {
                "name": "redis",
                "private_dns_zone_ids": [attr("azurerm_private_dns_zone", zone, "id")]
            },
            "tags": expr("local.tags")
        }),
    );
    let pw = format!("azurerm_redis_cache.{id}.primary_access_key");
    let host = format!("azurerm_redis_cache.{id}.hostname");
    // TLS on 6380: rediss://.
    let url = url_template(r, &host, &pw, "").unwrap_or_default().replacen("redis://", "rediss://", 1).replacen(
        &format!(":{}/", crate::plan::engines::engine_port(&r.engine)),
        ":6380/",
        1,
    );
    json!(format!("{{password = {pw}, host = {host}, url = \"{url}\"}}"))
}

/// A Key Vault secret name for a Kubernetes Secret (letters, digits and `-`).
pub fn secret_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

/// The environment's Key Vault, a secret for every Secret the pods read
/// (the values this output owns written, the others created `unset` for
/// people to fill), and who may read them: External Secrets' identity all
/// of them, each workload's identity those it reads.
fn secrets(ax: &mut Ax, env: &Environment, k8s: &EnvPlan, urls: &BTreeMap<String, Value>) {
    // Generated Secrets (the ECR pull token) have no store entry.
    let inventory: Vec<_> = k8s.secrets().iter().filter(|s| s.in_store()).cloned().collect();
    let mut names: BTreeSet<String> = inventory.iter().map(|s| s.name.clone()).collect();
    names.extend(urls.keys().cloned());
    if names.is_empty() {
        return;
    }
    let vault = compact_name(&format!("{}-{}-kv", ax.model.project.name, env.name), 24);
    ax.m.resource(
        SECRETS,
        "azurerm_key_vault",
        "main",
        json!({
            "name": vault,
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "tenant_id": attr("data.azurerm_client_config", "current", "tenant_id"),
            "sku_name": "standard",
            "rbac_authorization_enabled": true,
            "purge_protection_enabled": true,
            "soft_delete_retention_days": if env.production { 90 } else { 7 },
            "public_network_access_enabled": true,
            "network_acls": {
                "default_action": "Deny",
                "bypass": "AzureServices",
                "ip_rules": expr("var.key_vault_allowed_ranges"),
                "virtual_network_subnet_ids": [attr("data.azurerm_subnet", "nodes", "id")]
            },
            "tags": expr("local.tags")
        }),
    );
    // Whoever applies writes the secrets.
    ax.m.resource(
        SECRETS,
        "azurerm_role_assignment",
        "terraform_secrets",
        json!({
            "scope": attr("azurerm_key_vault", "main", "id"),
            "role_definition_name": "Key Vault Secrets Officer",
            "principal_id": attr("data.azurerm_client_config", "current", "object_id")
        }),
    );
    let mut readers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let deployed: BTreeSet<String> = env.deployments.iter().map(|d| ax.model.service(d.service).name.clone()).collect();
    for name in &names {
        let id = ident(&name.replace('.', "_"));
        let owned = inventory.iter().find(|s| &s.name == name).map(|s| &s.origin);
        let value = if let Some(content) = urls.get(name) {
            Some(format!("${{jsonencode({})}}", content.as_str().unwrap_or_default()))
        } else if let Some(Origin::Connection { resource }) = owned {
            in_cluster_credential(ax, env, k8s, &id, resource)
        } else {
            None
        };
        let mut body = json!({
            "name": secret_name(name),
            "key_vault_id": attr("azurerm_key_vault", "main", "id"),
            "content_type": "application/json",
            "tags": { "kubernetes-object": name },
            "depends_on": ["azurerm_role_assignment.terraform_secrets"]
        });
        match value {
            Some(v) => body["value"] = json!(v),
            // A value only people have: created so the identities can be
            // granted it, set with `az keyvault secret set`, then left alone.
            None => {
                body["value"] = json!("unset");
                body["content_type"] = json!("text/plain");
                body["lifecycle"] = json!({ "ignore_changes": ["value", "content_type"] });
            }
        }
        ax.m.resource(SECRETS, "azurerm_key_vault_secret", &id, body);
        if let Some(s) = inventory.iter().find(|s| &s.name == name) {
            for reader in s.readers.iter().filter(|r| deployed.contains(*r)) {
                readers.entry(reader.clone()).or_default().insert(id.clone());
            }
        }
    }
    let store = format!("{}-secrets", ax.model.project.name);
    workload_identity(ax, env, "external_secrets", &store, None);
    let mut out = Vec::new();
    for (service, ids) in &readers {
        let key = format!("service_{}", ident(service));
        workload_identity(ax, env, &key, service, Some(ids));
        out.push(format!("\"{}\" = azurerm_user_assigned_identity.{key}.client_id", hcl_quoted(service)));
    }
    ax.m.output(
        "external_secrets_client_id",
        "client id of External Secrets' identity (annotation azure.workload.identity/client-id)",
        attr("azurerm_user_assigned_identity", "external_secrets", "client_id"),
    );
    ax.m.output(
        "key_vault_uri",
        "the environment's Key Vault (vaultUrl of the azurekv store)",
        attr("azurerm_key_vault", "main", "vault_uri"),
    );
    if !out.is_empty() {
        ax.m.output(
            "workload_client_ids",
            "client id of each workload that reads secrets (annotation azure.workload.identity/client-id)",
            expr(&format!("{{{}}}", out.join(", "))),
        );
    }
}

/// The value of a database this output runs in the cluster: a password
/// generated once and kept (the database was initialised with it).
fn in_cluster_credential(ax: &mut Ax, env: &Environment, k8s: &EnvPlan, id: &str, resource: &str) -> Option<String> {
    let r = ax.model.resource_by_name(resource)?;
    // A managed resource Azure cannot serve yet (W0008) has no credential to generate.
    if !k8s.in_cluster(r.id) || !crate::plan::engines::spec(&r.engine).secret_in_cluster {
        return None;
    }
    let host = format!("{}.{}.svc.cluster.local", r.name, env.namespace);
    let pw = password(ax, id);
    const PW: &str = "\u{0}password\u{0}";
    let url = crate::plan::engines::connection_url(r, &host, PW)?;
    let url = hcl_quoted(&url).replace(PW, &format!("${{{pw}}}"));
    Some(format!("${{jsonencode({{password = {pw}, url = \"{url}\"}})}}"))
}

/// A user-assigned identity for one Kubernetes ServiceAccount of the
/// namespace, federated with the cluster's OIDC issuer, allowed to read the
/// given secrets (Terraform names), or the whole vault when `None`.
fn workload_identity(ax: &mut Ax, env: &Environment, key: &str, ksa: &str, secrets: Option<&BTreeSet<String>>) {
    ax.m.resource(
        IDENTITY,
        "azurerm_user_assigned_identity",
        key,
        json!({
            "name": format!("${{local.name}}-{}", ksa),
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "tags": expr("local.tags")
        }),
    );
    ax.m.resource(
        IDENTITY,
        "azurerm_federated_identity_credential",
        key,
        json!({
            "name": "kubernetes",
            "resource_group_name": rg(),
            "parent_id": attr("azurerm_user_assigned_identity", key, "id"),
            "audience": ["api://AzureADTokenExchange"],
            "issuer": attr("data.azurerm_kubernetes_cluster", "main", "oidc_issuer_url"),
            "subject": format!("system:serviceaccount:{}:{ksa}", env.namespace)
        }),
    );
    let scopes: Vec<(String, String)> = match secrets {
        None => vec![(format!("{key}_vault"), attr("azurerm_key_vault", "main", "id"))],
        Some(ids) => ids
            .iter()
            .map(|s| (format!("{key}_{s}"), attr("azurerm_key_vault_secret", s, "resource_versionless_id")))
            .collect(),
    };
    for (name, scope) in scopes {
        ax.m.resource(
            IDENTITY,
            "azurerm_role_assignment",
            &name,
            json!({
                "scope": scope,
                "role_definition_name": "Key Vault Secrets User",
                "principal_id": attr("azurerm_user_assigned_identity", key, "principal_id")
            }),
        );
    }
}

/// Azure DNS: an A record for every host of this environment under the
/// project's domain, in the zone the team already has, at the address the
/// cluster root reserved for its ingress controller.
fn dns(ax: &mut Ax, env: &Environment, k8s: &EnvPlan) {
    let Some(domain) = &ax.model.project.domain else { return };
    let zone = ax.model.project.dns.as_ref().map(|d| d.zone.clone()).unwrap_or_else(|| domain.clone());
    let zone = zone.trim_end_matches('.').to_string();
    let mut hosts = BTreeSet::new();
    for d in &env.deployments {
        if let Exposure::Ingress { host, .. } = &ax.model.service(d.service).expose {
            hosts.insert(render(k8s, host));
        }
    }
    hosts.retain(|h| h == &zone || h.ends_with(&format!(".{zone}")));
    if hosts.is_empty() {
        return;
    }
    // One ingress controller per cluster, so its address is the cluster root's.
    let address =
        json!({ "name": "${var.cluster_name}-ingress", "resource_group_name": expr("var.cluster_resource_group") });
    if !crate::plan::topology::records_in_own_dns(ax.model, ax.primary) {
        ax.m.data(DNS, "azurerm_public_ip", "ingress", address);
        let list = hosts.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        ax.m.output(
            "ingress_address",
            &format!("create an A record at this address for each of {list}, where the DNS of {zone} is served"),
            attr("data.azurerm_public_ip", "ingress", "ip_address"),
        );
        return;
    }
    ax.m.variable("dns_zone_name", "string", "Azure DNS zone of the project's domain", Some(json!(zone)));
    ax.m.variable("dns_zone_resource_group", "string", "resource group of that DNS zone", None);
    ax.m.data(
        DNS,
        "azurerm_dns_zone",
        "main",
        json!({ "name": expr("var.dns_zone_name"), "resource_group_name": expr("var.dns_zone_resource_group") }),
    );
    ax.m.data(DNS, "azurerm_public_ip", "ingress", address);
    // Keyed by position among the sorted hosts: a Terraform name never
    // carries program text.
    for (n, h) in hosts.iter().enumerate() {
        let relative = if h == &zone { "@".to_string() } else { h[..h.len() - zone.len() - 1].to_string() };
        ax.m.resource(
            DNS,
            "azurerm_dns_a_record",
            &format!("host_{n}"),
            json!({
                "name": relative,
                "zone_name": attr("data.azurerm_dns_zone", "main", "name"),
                "resource_group_name": attr("data.azurerm_dns_zone", "main", "resource_group_name"),
                "ttl": 300,
                "target_resource_id": attr("data.azurerm_public_ip", "ingress", "id"),
                "tags": expr("local.tags")
            }),
        );
    }
}
