//! A GCP cluster root: the VPC network and its subnetwork (with the
//! secondary ranges GKE's VPC-native pods and services use), a Cloud Router
//! with Cloud NAT for the private nodes' way out, the private services
//! range Cloud SQL and Memorystore are reached through, the GKE cluster and
//! its node pool, and how the ArgoCD hub reaches the other clusters.

use super::{account_id, Gx};
use crate::emit::terraform::{attr, expr, Validation};
use crate::model::GkeCluster;
use crate::plan::registry::Mirror;
use crate::plan::topology::{Cluster, Topology};
use serde_json::json;

const NET: &str = "network.tf.json";
const GKE: &str = "cluster.tf.json";

/// The network, subnetwork, NAT and private services access of a cluster.
pub fn network(gx: &mut Gx, c: &Cluster) {
    let cidr = c.cidr.clone().unwrap_or_else(|| "10.0.0.0/16".into());
    gx.m.variable(
        "vpc_cidr",
        "string",
        "address space of the cluster's network (a /16 inside 10.0.0.0/8, distinct from every other cluster's so that networks can be peered); nodes, services, control plane, private services and pods are carved from it",
        Some(json!(cidr)),
    );
    if let Some(v) = gx.m.file("main.tf.json").variable.get_mut("vpc_cidr") {
        v.validation.push(Validation {
            condition: expr("can(cidrnetmask(var.vpc_cidr)) && startswith(var.vpc_cidr, \"10.\") && endswith(var.vpc_cidr, \"/16\")"),
            error_message: "The network range must be a /16 inside 10.0.0.0/8.".into(),
        });
    }
    gx.m.local("nodes_cidr", json!(expr("cidrsubnet(var.vpc_cidr, 4, 0)")));
    gx.m.local("services_cidr", json!(expr("cidrsubnet(var.vpc_cidr, 4, 1)")));
    gx.m.local("control_plane_cidr", json!(expr("cidrsubnet(var.vpc_cidr, 12, 512)")));
    gx.m.local("private_services_cidr", json!(expr("cidrsubnet(var.vpc_cidr, 4, 3)")));
    gx.m.local("pods_cidr", json!(expr("cidrsubnet(var.vpc_cidr, 1, 1)")));
    let m = &mut gx.m;
    m.resource(
        NET,
        "google_compute_network",
        "main",
        json!({
            "name": expr("local.name"),
            "description": format!("network of the {} cluster", c.key),
            "auto_create_subnetworks": false,
            "routing_mode": "REGIONAL"
        }),
    );
    // Below GKE's own rules (priority 1000) and above the implied deny:
    // ingress from anywhere else is refused and logged.
    m.resource(
        NET,
        "google_compute_firewall",
        "deny_ingress",
        json!({
            "name": "${local.name}-deny-ingress",
            "description": "refuse ingress that no GKE or load balancer rule allows, and log it",
            "network": attr("google_compute_network", "main", "name"),
            "direction": "INGRESS",
            "priority": 65534,
            "source_ranges": ["0.0.0.0/0"],
            "deny": [{ "protocol": "all" }],
            "log_config": { "metadata": "INCLUDE_ALL_METADATA" }
        }),
    );
    m.resource(
        NET,
        "google_compute_subnetwork",
        "nodes",
        json!({
            "name": "${local.name}-nodes",
            "network": attr("google_compute_network", "main", "id"),
            "region": expr("var.region"),
            "ip_cidr_range": expr("local.nodes_cidr"),
            "private_ip_google_access": true,
            "secondary_ip_range": [
                { "range_name": "pods", "ip_cidr_range": expr("local.pods_cidr") },
                { "range_name": "services", "ip_cidr_range": expr("local.services_cidr") }
            ],
            "log_config": {
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA"
            }
        }),
    );
    m.resource(
        NET,
        "google_compute_router",
        "main",
        json!({ "name": "${local.name}-router", "region": expr("var.region"), "network": attr("google_compute_network", "main", "id") }),
    );
    m.resource(
        NET,
        "google_compute_router_nat",
        "main",
        json!({
            "name": "${local.name}-nat",
            "router": attr("google_compute_router", "main", "name"),
            "region": expr("var.region"),
            "nat_ip_allocate_option": "AUTO_ONLY",
            "source_subnetwork_ip_ranges_to_nat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
            "log_config": { "enable": true, "filter": "ERRORS_ONLY" }
        }),
    );
    // Cloud SQL and Memorystore live in Google's network, peered to this one
    // over a range reserved here; environments on this cluster share it.
    m.resource(
        NET,
        "google_compute_global_address",
        "private_services",
        json!({
            "name": "${local.name}-private-services",
            "purpose": "VPC_PEERING",
            "address_type": "INTERNAL",
            "address": expr("cidrhost(local.private_services_cidr, 0)"),
            "prefix_length": 20,
            "network": attr("google_compute_network", "main", "id")
        }),
    );
    m.resource(
        NET,
        "google_service_networking_connection",
        "private_services",
        json!({
            "network": attr("google_compute_network", "main", "id"),
            "service": "servicenetworking.googleapis.com",
            "reserved_peering_ranges": [attr("google_compute_global_address", "private_services", "name")]
        }),
    );
    // The address of the cluster's one ingress controller; the environments'
    // DNS records read it by name.
    m.resource(
        NET,
        "google_compute_address",
        "ingress",
        json!({
            "name": "${local.name}-ingress",
            "region": expr("var.region"),
            "address_type": "EXTERNAL",
            "description": "the ingress controller's load balancer (its Service's loadBalancerIP)"
        }),
    );
    m.output("network_id", "the cluster's VPC network", attr("google_compute_network", "main", "id"));
    m.output(
        "ingress_address",
        "the address the ingress controller's Service must request (controller.service.loadBalancerIP)",
        attr("google_compute_address", "ingress", "address"),
    );
}

/// The GKE cluster (private nodes, Workload Identity, Dataplane V2, which
/// enforces the Kubernetes target's NetworkPolicies) and its node pool,
/// run by a node service account with only the logging and monitoring roles.
pub fn gke(gx: &mut Gx, c: &Cluster, pool: &GkeCluster, production: bool, mirror: Option<&Mirror>) {
    gx.m.variable("release_channel", "string", "GKE release channel", Some(json!(pool.release_channel)));
    gx.m.variable("machine_type", "string", "machine type of the node pool", Some(json!(pool.machine_type)));
    gx.m.variable("node_min_count", "number", "smallest node count (whole pool)", Some(json!(pool.min_nodes)));
    gx.m.variable("node_max_count", "number", "largest node count (whole pool)", Some(json!(pool.max_nodes)));
    gx.m.variable(
        "api_authorized_cidr",
        "string",
        "the one range allowed to reach the control plane's IP endpoint (the DNS endpoint is gated by IAM)",
        Some(json!("10.0.0.0/8")),
    );
    gx.m.variable(
        "rbac_security_group",
        "string",
        "the Google Group whose member groups Kubernetes RBAC may name: `gke-security-groups@<your Workspace domain>`",
        None,
    );
    let nodes = account_id(&format!("{}-nodes", c.name));
    let m = &mut gx.m;
    m.resource(
        GKE,
        "google_service_account",
        "nodes",
        json!({ "account_id": nodes, "display_name": format!("nodes of {}", c.name) }),
    );
    for (id, role) in [
        ("log_writer", "roles/logging.logWriter"),
        ("metric_writer", "roles/monitoring.metricWriter"),
        ("monitoring_viewer", "roles/monitoring.viewer"),
        ("metadata_writer", "roles/stackdriver.resourceMetadata.writer"),
        ("registry_reader", "roles/artifactregistry.reader"),
    ] {
        // Where the cluster pulls from a copy in the project's repository,
        // the nodes read that repository only (below), not the project's.
        if id == "registry_reader" && mirror.is_some() {
            continue;
        }
        m.resource(
            GKE,
            "google_project_iam_member",
            &format!("nodes_{id}"),
            json!({
                "project": expr("var.project"),
                "role": role,
                "member": format!("serviceAccount:{}", attr("google_service_account", "nodes", "email"))
            }),
        );
    }
    if let Some(mirror) = mirror {
        // The repository the GCP shared root creates and CI copies the
        // released images into: the nodes pull them natively, no pull secret.
        m.resource(
            GKE,
            "google_artifact_registry_repository_iam_member",
            "nodes_registry_reader",
            json!({
                "project": expr("var.project"),
                "location": mirror.location,
                "repository": mirror.repository,
                "role": "roles/artifactregistry.reader",
                "member": format!("serviceAccount:{}", attr("google_service_account", "nodes", "email"))
            }),
        );
    }
    // Written out rather than `local.labels`, so that policy scanners see them.
    let labels = m.file("main.tf.json").locals.get("labels").cloned().unwrap_or_else(|| json!({}));
    m.resource(
        GKE,
        "google_container_cluster",
        "main",
        json!({
            "name": c.name,
            "location": expr("var.region"),
            "network": attr("google_compute_network", "main", "id"),
            "subnetwork": attr("google_compute_subnetwork", "nodes", "id"),
            "networking_mode": "VPC_NATIVE",
            "ip_allocation_policy": {
                "cluster_secondary_range_name": "pods",
                "services_secondary_range_name": "services"
            },
            // The node pool below replaces the default one.
            "remove_default_node_pool": true,
            "initial_node_count": 1,
            "private_cluster_config": {
                "enable_private_nodes": true,
                "enable_private_endpoint": false,
                "master_ipv4_cidr_block": expr("local.control_plane_cidr")
            },
            "master_authorized_networks_config": {
                "gcp_public_cidrs_access_enabled": false,
                "cidr_blocks": [{ "cidr_block": expr("var.api_authorized_cidr"), "display_name": "private" }]
            },
            "control_plane_endpoints_config": { "dns_endpoint_config": { "allow_external_traffic": true } },
            "workload_identity_config": { "workload_pool": "${var.project}.svc.id.goog" },
            "release_channel": { "channel": expr("var.release_channel") },
            "datapath_provider": "ADVANCED_DATAPATH",
            // Dataplane V2 enforces NetworkPolicies itself; the Calico
            // add-on stays off (GKE refuses both).
            "network_policy": { "enabled": false },
            "master_auth": { "client_certificate_config": { "issue_client_certificate": false } },
            // The project's Binary Authorization policy (allow-all until
            // the team writes one) admits every pod the cluster runs.
            "binary_authorization": { "evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE" },
            // Only the default pool, removed at creation, reads this; the
            // node pool below sets the same.
            "node_config": {
                "workload_metadata_config": { "mode": "GKE_METADATA" },
                "shielded_instance_config": { "enable_secure_boot": true, "enable_integrity_monitoring": true }
            },
            // Kubernetes RBAC may name Google Groups (members of the group
            // `gke-security-groups` of the organisation's domain).
            "authenticator_groups_config": { "security_group": expr("var.rbac_security_group") },
            "enable_shielded_nodes": true,
            "enable_intranode_visibility": true,
            "addons_config": { "gce_persistent_disk_csi_driver_config": { "enabled": true } },
            "deletion_protection": production,
            "resource_labels": labels
        }),
    );
    m.resource(
        GKE,
        "google_container_node_pool",
        "main",
        json!({
            "name": "main",
            "cluster": attr("google_container_cluster", "main", "id"),
            "location": expr("var.region"),
            "initial_node_count": 1,
            "autoscaling": {
                "total_min_node_count": expr("var.node_min_count"),
                "total_max_node_count": expr("var.node_max_count"),
                "location_policy": "BALANCED"
            },
            "management": { "auto_repair": true, "auto_upgrade": true },
            "node_config": {
                "machine_type": expr("var.machine_type"),
                "disk_type": "pd-balanced",
                "disk_size_gb": 100,
                "image_type": "COS_CONTAINERD",
                "service_account": attr("google_service_account", "nodes", "email"),
                "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                "workload_metadata_config": { "mode": "GKE_METADATA" },
                "shielded_instance_config": { "enable_secure_boot": true, "enable_integrity_monitoring": true },
                "metadata": { "disable-legacy-endpoints": "true" },
                "resource_labels": expr("local.labels")
            },
            "lifecycle": { "ignore_changes": ["initial_node_count"] }
        }),
    );
    m.output("cluster_name", "the GKE cluster", attr("google_container_cluster", "main", "name"));
    m.output(
        "cluster_dns_endpoint",
        "the control plane's DNS endpoint (IAM-authenticated), which ArgoCD registers",
        expr("google_container_cluster.main.control_plane_endpoints_config[0].dns_endpoint_config[0].endpoint"),
    );
}

/// ArgoCD's identity. In the hub: a Google service account that ArgoCD's
/// controller and server act as through Workload Identity, allowed to
/// administer the project's GKE clusters (ArgoCD creates namespaces). The
/// other clusters need nothing more: their DNS endpoints accept that
/// identity's tokens, so ArgoCD registers them by name (a cluster Secret
/// with the `cluster_dns_endpoint` output and `execProviderConfig` running
/// `argocd-k8s-auth gcp`).
pub fn argocd_access(gx: &mut Gx, topology: &Topology, c: &Cluster) {
    if !c.hub || topology.clusters.iter().filter(|c| c.created).count() < 2 {
        return;
    }
    let ns = gx.model.project.gitops.namespace.clone();
    let id = account_id(&format!("{}-argocd", c.name));
    let file = "argocd.tf.json";
    let m = &mut gx.m;
    m.resource(
        file,
        "google_service_account",
        "argocd",
        json!({ "account_id": id, "display_name": "ArgoCD: deploys to the project's other clusters" }),
    );
    m.resource(
        file,
        "google_project_iam_member",
        "argocd_clusters",
        json!({
            "project": expr("var.project"),
            "role": "roles/container.admin",
            "member": format!("serviceAccount:{}", attr("google_service_account", "argocd", "email"))
        }),
    );
    for ksa in ["argocd-application-controller", "argocd-server"] {
        m.resource(
            file,
            "google_service_account_iam_member",
            &format!("argocd_{}", ksa.trim_start_matches("argocd-").replace('-', "_")),
            json!({
                "service_account_id": attr("google_service_account", "argocd", "name"),
                "role": "roles/iam.workloadIdentityUser",
                "member": format!("serviceAccount:${{var.project}}.svc.id.goog[{ns}/{ksa}]"),
                // The identity pool exists once the cluster does.
                "depends_on": ["google_container_cluster.main"]
            }),
        );
    }
    m.output(
        "argocd_service_account",
        "the Google service account ArgoCD acts as (annotation iam.gke.io/gcp-service-account)",
        attr("google_service_account", "argocd", "email"),
    );
}

/// The JWT audience of the hub's ArgoCD tokens for Google's STS.
pub const HUB_AUDIENCE: &str = "argocd-gcp";
/// Where the hub's ArgoCD reads its projected token for Google.
pub const HUB_TOKEN_PATH: &str = "/var/run/secrets/gcp/token";

/// ArgoCD's access from a hub in another cloud (EKS, AKS): a workload
/// identity pool trusting the hub cluster's OIDC issuer (`hub_oidc_issuer`,
/// the hub root's `oidc_issuer` output) for ArgoCD's two ServiceAccounts
/// only, a Google service account they impersonate, allowed to administer
/// this project's GKE clusters, and the two documents the hub needs as
/// outputs: the credential configuration (`GOOGLE_APPLICATION_CREDENTIALS`
/// of the controller and server, with a projected token of audience
/// [`HUB_AUDIENCE`] at [`HUB_TOKEN_PATH`]) and the `config` of ArgoCD's
/// cluster Secret for this cluster's DNS endpoint (`argocd-k8s-auth gcp`).
/// No network path is needed: the DNS endpoint is public and gated by IAM.
pub fn foreign_hub_access(gx: &mut Gx, c: &Cluster, hub: &Cluster) {
    let ns = gx.model.project.gitops.namespace.clone();
    gx.m.variable(
        "hub_oidc_issuer",
        "string",
        &format!("OIDC issuer URL of the ArgoCD hub `{}` (its root's `oidc_issuer` output)", hub.key),
        None,
    );
    let file = "argocd.tf.json";
    let pool = account_id(&format!("{}-hub", c.name));
    let subjects: Vec<String> = ["argocd-application-controller", "argocd-server"]
        .iter()
        .map(|a| format!("system:serviceaccount:{ns}:{a}"))
        .collect();
    let condition = subjects
        .iter()
        .map(|s| format!("assertion.sub == \"{}\"", crate::emit::terraform::hcl_quoted(s)))
        .collect::<Vec<_>>()
        .join(" || ");
    let m = &mut gx.m;
    m.resource(
        file,
        "google_iam_workload_identity_pool",
        "hub",
        json!({
            "workload_identity_pool_id": pool,
            "display_name": "ArgoCD hub",
            "description": format!("ArgoCD of the hub cluster {}", hub.name)
        }),
    );
    m.resource(
        file,
        "google_iam_workload_identity_pool_provider",
        "hub",
        json!({
            "workload_identity_pool_id": attr("google_iam_workload_identity_pool", "hub", "workload_identity_pool_id"),
            "workload_identity_pool_provider_id": "argocd",
            "display_name": "hub cluster OIDC",
            "attribute_mapping": { "google.subject": "assertion.sub" },
            "attribute_condition": condition,
            "oidc": { "issuer_uri": expr("var.hub_oidc_issuer"), "allowed_audiences": [HUB_AUDIENCE] }
        }),
    );
    m.resource(
        file,
        "google_service_account",
        "argocd",
        json!({ "account_id": account_id(&format!("{}-argocd", c.name)), "display_name": "ArgoCD of the hub in another cloud" }),
    );
    m.resource(
        file,
        "google_project_iam_member",
        "argocd_clusters",
        json!({
            "project": expr("var.project"),
            "role": "roles/container.admin",
            "member": format!("serviceAccount:{}", attr("google_service_account", "argocd", "email"))
        }),
    );
    for s in &subjects {
        let id = s.rsplit(':').next().unwrap_or(s).trim_start_matches("argocd-").replace('-', "_");
        m.resource(
            file,
            "google_service_account_iam_member",
            &format!("hub_{id}"),
            json!({
                "service_account_id": attr("google_service_account", "argocd", "name"),
                "role": "roles/iam.workloadIdentityUser",
                "member": format!("principal://iam.googleapis.com/{}/subject/{s}", attr("google_iam_workload_identity_pool", "hub", "name"))
            }),
        );
    }
    let credentials = json!({
        "type": "external_account",
        "audience": format!("//iam.googleapis.com/{}", attr("google_iam_workload_identity_pool_provider", "hub", "name")),
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "service_account_impersonation_url": format!(
            "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:generateAccessToken",
            attr("google_service_account", "argocd", "email")
        ),
        "credential_source": { "file": HUB_TOKEN_PATH }
    });
    m.output(
        "argocd_credential_config",
        "GOOGLE_APPLICATION_CREDENTIALS of the hub's ArgoCD controller and server (a ConfigMap file)",
        crate::emit::terraform::jsonencode(&credentials),
    );
    let cluster_config = json!({
        "execProviderConfig": {
            "command": "argocd-k8s-auth",
            "args": ["gcp"],
            "apiVersion": "client.authentication.k8s.io/v1beta1"
        },
        "tlsClientConfig": { "insecure": false }
    });
    m.output(
        "argocd_cluster_server",
        &format!("`server` of ArgoCD's cluster Secret `{}` (the DNS endpoint)", c.name),
        format!(
            "https://{}",
            expr("google_container_cluster.main.control_plane_endpoints_config[0].dns_endpoint_config[0].endpoint")
        ),
    );
    m.output(
        "argocd_cluster_config",
        &format!("`config` of ArgoCD's cluster Secret `{}`", c.name),
        crate::emit::terraform::jsonencode(&cluster_config),
    );
}
