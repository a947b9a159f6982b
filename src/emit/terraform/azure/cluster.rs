//! An Azure cluster root: a resource group, the VNet and its subnets (nodes
//! with a Key Vault service endpoint, private endpoints, the subnet
//! delegated to PostgreSQL flexible servers), the static public IP of the
//! cluster's one ingress controller, AKS and its user node pool, and how
//! the ArgoCD hub reaches the other clusters.
//!
//! AKS decisions: a public API server limited to `api_authorized_ranges`
//! (a variable with no default: someone must say which ranges; a private
//! API server would need every peered VNet linked to its private DNS zone
//! and CI runners inside the network), local accounts off and Kubernetes
//! RBAC through Entra ID, the OIDC issuer and workload identity on, Azure
//! CNI Overlay powered by Cilium, which enforces the Kubernetes target's
//! NetworkPolicies.

use super::Ax;
use crate::emit::terraform::{attr, expr, Validation};
use crate::model::AksCluster;
use crate::plan::topology::Cluster;
use serde_json::json;

const NET: &str = "network.tf.json";
const AKS: &str = "cluster.tf.json";

fn rg() -> String {
    attr("azurerm_resource_group", "main", "name")
}

/// The resource group, VNet, subnets and ingress address of a cluster.
pub fn network(ax: &mut Ax, c: &Cluster) {
    let cidr = c.cidr.clone().unwrap_or_else(|| "10.0.0.0/16".into());
    ax.m.variable(
        "vnet_cidr",
        "string",
        "address space of the cluster's VNet (a /16 inside 10.0.0.0/8, distinct from every other cluster's so that VNets can be peered); nodes, private endpoints and the PostgreSQL subnet are carved from it",
        Some(json!(cidr)),
    );
    if let Some(v) = ax.m.file("main.tf.json").variable.get_mut("vnet_cidr") {
        v.validation.push(Validation {
            condition: expr("can(cidrnetmask(var.vnet_cidr)) && startswith(var.vnet_cidr, \"10.\") && endswith(var.vnet_cidr, \"/16\")"),
            error_message: "The VNet range must be a /16 inside 10.0.0.0/8.".into(),
        });
    }
    let m = &mut ax.m;
    m.resource(
        NET,
        "azurerm_resource_group",
        "main",
        json!({ "name": "${local.name}-rg", "location": expr("var.location"), "tags": expr("local.tags") }),
    );
    m.resource(
        NET,
        "azurerm_virtual_network",
        "main",
        json!({
            "name": "${local.name}-vnet",
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "address_space": [expr("var.vnet_cidr")],
            "tags": expr("local.tags")
        }),
    );
    m.resource(
        NET,
        "azurerm_subnet",
        "nodes",
        json!({
            "name": "nodes",
            "resource_group_name": rg(),
            "virtual_network_name": attr("azurerm_virtual_network", "main", "name"),
            "address_prefixes": [expr("cidrsubnet(var.vnet_cidr, 4, 0)")],
            "service_endpoints": ["Microsoft.KeyVault"]
        }),
    );
    m.resource(
        NET,
        "azurerm_subnet",
        "endpoints",
        json!({
            "name": "endpoints",
            "resource_group_name": rg(),
            "virtual_network_name": attr("azurerm_virtual_network", "main", "name"),
            "address_prefixes": [expr("cidrsubnet(var.vnet_cidr, 8, 16)")]
        }),
    );
    m.resource(
        NET,
        "azurerm_subnet",
        "postgres",
        json!({
            "name": "postgres",
            "resource_group_name": rg(),
            "virtual_network_name": attr("azurerm_virtual_network", "main", "name"),
            "address_prefixes": [expr("cidrsubnet(var.vnet_cidr, 8, 17)")],
            "service_endpoints": ["Microsoft.Storage"],
            "delegation": [{
                "name": "postgres",
                "service_delegation": {
                    "name": "Microsoft.DBforPostgreSQL/flexibleServers",
                    "actions": ["Microsoft.Network/virtualNetworks/subnets/join/action"]
                }
            }]
        }),
    );
    // The address of the cluster's one ingress controller; the environments'
    // DNS records read it by name.
    m.resource(
        NET,
        "azurerm_public_ip",
        "ingress",
        json!({
            "name": "${local.name}-ingress",
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "allocation_method": "Static",
            "sku": "Standard",
            "zones": ["1", "2", "3"],
            "tags": expr("local.tags")
        }),
    );
    m.output("vnet_id", "the cluster's VNet (peer other VNets with it)", attr("azurerm_virtual_network", "main", "id"));
    m.output(
        "ingress_address",
        "the address the ingress controller's Service requests (controller.service.loadBalancerIP, with the annotation service.beta.kubernetes.io/azure-load-balancer-resource-group set to the resource group output)",
        attr("azurerm_public_ip", "ingress", "ip_address"),
    );
    m.output("resource_group", "the cluster's resource group", rg());
}

/// AKS, its control plane identity, and the user node pool.
pub fn aks(ax: &mut Ax, c: &Cluster, pool: &AksCluster, production: bool) {
    ax.m.variable("vm_size", "string", "virtual machine size of the node pools", Some(json!(pool.vm_size)));
    ax.m.variable("node_min_count", "number", "smallest node count of the user pool", Some(json!(pool.min_nodes)));
    ax.m.variable("node_max_count", "number", "largest node count of the user pool", Some(json!(pool.max_nodes)));
    ax.m.variable(
        "api_authorized_ranges",
        "list(string)",
        "public ranges allowed to reach the API server (operators, CI runners, the ArgoCD hub's outbound_ips)",
        None,
    );
    if let Some(v) = ax.m.file("main.tf.json").variable.get_mut("api_authorized_ranges") {
        v.validation.push(Validation {
            condition: expr("length(var.api_authorized_ranges) > 0"),
            error_message: "Name at least one range: an empty list would open the API server to everyone.".into(),
        });
    }
    let m = &mut ax.m;
    m.resource(
        AKS,
        "azurerm_user_assigned_identity",
        "cluster",
        json!({
            "name": "${local.name}-control-plane",
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "tags": expr("local.tags")
        }),
    );
    // The control plane attaches the ingress address and joins nodes to the
    // subnet: both live in this resource group.
    m.resource(
        AKS,
        "azurerm_role_assignment",
        "cluster_network",
        json!({
            "scope": attr("azurerm_resource_group", "main", "id"),
            "role_definition_name": "Network Contributor",
            "principal_id": attr("azurerm_user_assigned_identity", "cluster", "principal_id")
        }),
    );
    m.resource(
        AKS,
        "azurerm_kubernetes_cluster",
        "main",
        json!({
            "name": c.name,
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "dns_prefix": expr("local.name"),
            "sku_tier": if production { "Standard" } else { "Free" },
            "automatic_upgrade_channel": "stable",
            "node_os_upgrade_channel": "NodeImage",
            "oidc_issuer_enabled": true,
            "workload_identity_enabled": true,
            "local_account_disabled": true,
            "role_based_access_control_enabled": true,
            "azure_active_directory_role_based_access_control": {
                "azure_rbac_enabled": true,
                "tenant_id": attr("data.azurerm_client_config", "current", "tenant_id")
            },
            "azure_policy_enabled": true,
            "api_server_access_profile": { "authorized_ip_ranges": expr("var.api_authorized_ranges") },
            "identity": {
                "type": "UserAssigned",
                "identity_ids": [attr("azurerm_user_assigned_identity", "cluster", "id")]
            },
            "default_node_pool": {
                "name": "system",
                "vm_size": expr("var.vm_size"),
                "vnet_subnet_id": attr("azurerm_subnet", "nodes", "id"),
                "auto_scaling_enabled": true,
                "min_count": 1,
                "max_count": 3,
                "zones": ["1", "2", "3"],
                "only_critical_addons_enabled": true,
                "os_disk_type": "Ephemeral",
                "os_disk_size_gb": 64,
                "max_pods": 110,
                "temporary_name_for_rotation": "systemtmp",
                "upgrade_settings": { "max_surge": "10%" },
                "tags": expr("local.tags")
            },
            "network_profile": {
                "network_plugin": "azure",
                "network_plugin_mode": "overlay",
                "network_data_plane": "cilium",
                "network_policy": "cilium",
                "pod_cidr": "192.168.0.0/16",
                "service_cidr": "172.16.0.0/16",
                "dns_service_ip": "172.16.0.10",
                "load_balancer_sku": "standard",
                "outbound_type": "loadBalancer"
            },
            "tags": expr("local.tags"),
            "depends_on": ["azurerm_role_assignment.cluster_network"]
        }),
    );
    m.resource(
        AKS,
        "azurerm_kubernetes_cluster_node_pool",
        "apps",
        json!({
            "name": "apps",
            "kubernetes_cluster_id": attr("azurerm_kubernetes_cluster", "main", "id"),
            "mode": "User",
            "vm_size": expr("var.vm_size"),
            "vnet_subnet_id": attr("azurerm_subnet", "nodes", "id"),
            "auto_scaling_enabled": true,
            "min_count": expr("var.node_min_count"),
            "max_count": expr("var.node_max_count"),
            "zones": ["1", "2", "3"],
            "os_disk_type": "Ephemeral",
            "os_disk_size_gb": 64,
            "max_pods": 110,
            "upgrade_settings": { "max_surge": "10%" },
            "tags": expr("local.tags")
        }),
    );
    m.output("cluster_name", "the AKS cluster", attr("azurerm_kubernetes_cluster", "main", "name"));
    m.output(
        "oidc_issuer_url",
        "the cluster's OIDC issuer, which workload identities' federated credentials trust",
        attr("azurerm_kubernetes_cluster", "main", "oidc_issuer_url"),
    );
    m.output(
        "outbound_ips",
        "the cluster's egress addresses (add the hub's to the other clusters' api_authorized_ranges)",
        expr("azurerm_kubernetes_cluster.main.network_profile[0].load_balancer_profile[0].effective_outbound_ips"),
    );
}

/// ArgoCD's identity. In the hub: a user-assigned identity that ArgoCD's
/// controller and server act as through workload identity. In every other
/// cluster: that identity, found by name, gets the AKS RBAC cluster admin
/// role on this cluster only, so ArgoCD registers it by name (a cluster
/// Secret with `execProviderConfig` running `kubelogin` in workload
/// identity mode).
pub fn argocd_access(ax: &mut Ax, c: &Cluster, hub: Option<&str>) {
    let Some(hub) = hub else { return };
    let ns = ax.model.project.gitops.namespace.clone();
    let file = "argocd.tf.json";
    let m = &mut ax.m;
    if c.hub {
        m.resource(
            file,
            "azurerm_user_assigned_identity",
            "argocd",
            json!({
                "name": "${local.name}-argocd",
                "location": expr("var.location"),
                "resource_group_name": rg(),
                "tags": expr("local.tags")
            }),
        );
        for ksa in ["argocd-application-controller", "argocd-server"] {
            m.resource(
                file,
                "azurerm_federated_identity_credential",
                &format!("argocd_{}", ksa.trim_start_matches("argocd-").replace('-', "_")),
                json!({
                    "name": ksa,
                    "resource_group_name": rg(),
                    "parent_id": attr("azurerm_user_assigned_identity", "argocd", "id"),
                    "audience": ["api://AzureADTokenExchange"],
                    "issuer": attr("azurerm_kubernetes_cluster", "main", "oidc_issuer_url"),
                    "subject": format!("system:serviceaccount:{ns}:{ksa}")
                }),
            );
        }
        m.output(
            "argocd_client_id",
            "client id ArgoCD's ServiceAccounts carry (annotation azure.workload.identity/client-id)",
            attr("azurerm_user_assigned_identity", "argocd", "client_id"),
        );
        return;
    }
    ax.m.variable("argocd_hub_cluster", "string", "name of the cluster ArgoCD runs in", Some(json!(hub)));
    let m = &mut ax.m;
    m.data(
        file,
        "azurerm_user_assigned_identity",
        "argocd",
        json!({ "name": "${var.argocd_hub_cluster}-argocd", "resource_group_name": "${var.argocd_hub_cluster}-rg" }),
    );
    m.resource(
        file,
        "azurerm_role_assignment",
        "argocd",
        json!({
            "scope": attr("azurerm_kubernetes_cluster", "main", "id"),
            "role_definition_name": "Azure Kubernetes Service RBAC Cluster Admin",
            "principal_id": attr("data.azurerm_user_assigned_identity", "argocd", "principal_id")
        }),
    );
}

/// Where the hub's ArgoCD reads its projected token for Entra ID.
pub const HUB_TOKEN_PATH: &str = "/var/run/secrets/azure/tokens/azure-identity-token";

/// ArgoCD's access from a hub in another cloud (EKS, GKE): a user-assigned
/// identity federated with the hub cluster's OIDC issuer (`hub_oidc_issuer`)
/// for ArgoCD's two ServiceAccounts, the AKS RBAC Cluster Admin role on this
/// cluster only, and the `server` and `config` of ArgoCD's cluster Secret
/// (`argocd-k8s-auth azure` in workload identity mode) as outputs.
pub fn foreign_hub_access(ax: &mut Ax, c: &Cluster, hub: &Cluster) {
    let ns = ax.model.project.gitops.namespace.clone();
    ax.m.variable(
        "hub_oidc_issuer",
        "string",
        &format!("OIDC issuer URL of the ArgoCD hub `{}` (its root's `oidc_issuer` output)", hub.key),
        None,
    );
    let file = "argocd.tf.json";
    let m = &mut ax.m;
    m.resource(
        file,
        "azurerm_user_assigned_identity",
        "hub_argocd",
        json!({
            "name": "${local.name}-hub-argocd",
            "location": expr("var.location"),
            "resource_group_name": rg(),
            "tags": expr("local.tags")
        }),
    );
    for ksa in ["argocd-application-controller", "argocd-server"] {
        m.resource(
            file,
            "azurerm_federated_identity_credential",
            &format!("hub_{}", ksa.trim_start_matches("argocd-").replace('-', "_")),
            json!({
                "name": format!("hub-{ksa}"),
                "resource_group_name": rg(),
                "parent_id": attr("azurerm_user_assigned_identity", "hub_argocd", "id"),
                "audience": ["api://AzureADTokenExchange"],
                "issuer": expr("var.hub_oidc_issuer"),
                "subject": format!("system:serviceaccount:{ns}:{ksa}")
            }),
        );
    }
    m.resource(
        file,
        "azurerm_role_assignment",
        "hub_argocd",
        json!({
            "scope": attr("azurerm_kubernetes_cluster", "main", "id"),
            "role_definition_name": "Azure Kubernetes Service RBAC Cluster Admin",
            "principal_id": attr("azurerm_user_assigned_identity", "hub_argocd", "principal_id")
        }),
    );
    let config = json!({
        "execProviderConfig": {
            "command": "argocd-k8s-auth",
            "args": ["azure"],
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "env": {
                "AAD_LOGIN_METHOD": "workloadidentity",
                "AZURE_CLIENT_ID": attr("azurerm_user_assigned_identity", "hub_argocd", "client_id"),
                "AZURE_TENANT_ID": attr("azurerm_user_assigned_identity", "hub_argocd", "tenant_id"),
                "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
                "AZURE_FEDERATED_TOKEN_FILE": HUB_TOKEN_PATH
            }
        },
        "tlsClientConfig": {
            "insecure": false,
            "caData": expr("azurerm_kubernetes_cluster.main.kube_config[0].cluster_ca_certificate")
        }
    });
    m.output(
        "argocd_cluster_server",
        &format!("`server` of ArgoCD's cluster Secret `{}`", c.name),
        format!("https://{}:443", attr("azurerm_kubernetes_cluster", "main", "fqdn")),
    );
    // The cluster's CA certificate is part of the sensitive kube_config.
    m.sensitive_output(
        "argocd_cluster_config",
        &format!("`config` of ArgoCD's cluster Secret `{}`", c.name),
        crate::emit::terraform::jsonencode(&config),
    );
}
