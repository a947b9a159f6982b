//! eks.tf.json: the EKS cluster (private API endpoint, secrets encrypted
//! with the environment's key, every control-plane log), its managed node
//! group (IMDSv2 only, encrypted volumes), the OIDC provider IRSA trusts,
//! and the add-ons: the VPC CNI with network-policy enforcement, so the
//! Kubernetes target's NetworkPolicies are enforced, and the EBS CSI driver
//! for the volumes of in-cluster databases.

use super::security::{attach, irsa_role, service_role};
use super::{attr, expr, Cx};
use serde_json::json;

const FILE: &str = "eks.tf.json";

pub fn eks(cx: &mut Cx) {
    service_role(cx, "cluster", "${local.name}-cluster", "eks.amazonaws.com");
    attach(cx, "iam.tf.json", "cluster", "AmazonEKSClusterPolicy");
    service_role(cx, "nodes", "${local.name}-nodes", "ec2.amazonaws.com");
    attach(cx, "iam.tf.json", "nodes", "AmazonEKSWorkerNodePolicy");
    attach(cx, "iam.tf.json", "nodes", "AmazonEC2ContainerRegistryReadOnly");
    let m = &mut cx.m;
    m.local("cluster_name", json!(expr("local.name")));
    m.local("oidc_issuer", json!(expr("replace(aws_eks_cluster.main.identity[0].oidc[0].issuer, \"https://\", \"\")")));
    // EKS writes here; creating the group first sets retention and encryption.
    m.resource(
        FILE,
        "aws_cloudwatch_log_group",
        "eks",
        json!({
            "name": "/aws/eks/${local.cluster_name}/cluster",
            "retention_in_days": 365,
            "kms_key_id": attr("aws_kms_key", "main", "arn")
        }),
    );
    m.resource(
        FILE,
        "aws_eks_cluster",
        "main",
        json!({
            "name": expr("local.cluster_name"),
            "version": expr("var.kubernetes_version"),
            "role_arn": attr("aws_iam_role", "cluster", "arn"),
            "enabled_cluster_log_types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
            // The API is reachable from inside the VPC only (a VPN, a
            // bastion, or ArgoCD running in a peered network).
            "vpc_config": {
                "subnet_ids": expr("aws_subnet.private[*].id"),
                "endpoint_private_access": true,
                "endpoint_public_access": false
            },
            "encryption_config": {
                "resources": ["secrets"],
                "provider": { "key_arn": attr("aws_kms_key", "main", "arn") }
            },
            "access_config": {
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": true
            },
            "depends_on": ["aws_iam_role_policy_attachment.cluster_amazoneksclusterpolicy", "aws_cloudwatch_log_group.eks"]
        }),
    );
    m.resource(
        FILE,
        "aws_iam_openid_connect_provider",
        "eks",
        json!({
            "url": expr("aws_eks_cluster.main.identity[0].oidc[0].issuer"),
            "client_id_list": ["sts.amazonaws.com"]
        }),
    );
    m.resource(
        FILE,
        "aws_launch_template",
        "nodes",
        json!({
            "name": "${local.name}-nodes",
            "update_default_version": true,
            // IMDSv2 only, one hop: pods cannot borrow the node's role and
            // use their own IRSA roles instead.
            "metadata_options": {
                "http_endpoint": "enabled",
                "http_tokens": expr("local.imds_mode"),
                "http_put_response_hop_limit": 1
            },
            "block_device_mappings": [{
                "device_name": "/dev/xvda",
                "ebs": { "volume_size": 50, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true" }
            }],
            "tag_specifications": [{ "resource_type": "instance", "tags": { "Name": "${local.name}-node" } }]
        }),
    );
    m.resource(
        FILE,
        "aws_eks_node_group",
        "main",
        json!({
            "cluster_name": attr("aws_eks_cluster", "main", "name"),
            "node_group_name": "${local.name}-default",
            "node_role_arn": attr("aws_iam_role", "nodes", "arn"),
            "subnet_ids": expr("aws_subnet.private[*].id"),
            "instance_types": expr("var.node_instance_types"),
            "scaling_config": {
                "min_size": expr("var.node_min_size"),
                "max_size": expr("var.node_max_size"),
                "desired_size": expr("var.node_desired_size")
            },
            "update_config": { "max_unavailable": 1 },
            "launch_template": {
                "id": attr("aws_launch_template", "nodes", "id"),
                "version": attr("aws_launch_template", "nodes", "latest_version")
            },
            "lifecycle": { "ignore_changes": ["scaling_config[0].desired_size"] },
            "depends_on": [
                "aws_iam_role_policy_attachment.nodes_amazoneksworkernodepolicy",
                "aws_iam_role_policy_attachment.nodes_amazonec2containerregistryreadonly"
            ]
        }),
    );

    // The CNI's own role instead of node permissions, and network policies on.
    irsa_role(cx, "vpc_cni", "${local.name}-vpc-cni", "kube-system", "aws-node", vec![]);
    irsa_role(cx, "ebs_csi", "${local.name}-ebs-csi", "kube-system", "ebs-csi-controller-sa", vec![]);
    attach(cx, "irsa.tf.json", "vpc_cni", "AmazonEKS_CNI_Policy");
    attach(cx, "irsa.tf.json", "ebs_csi", "service-role/AmazonEBSCSIDriverPolicy");
    let addon = |name: &str, role: Option<&str>, config: Option<serde_json::Value>| {
        let mut a = json!({
            "cluster_name": attr("aws_eks_cluster", "main", "name"),
            "addon_name": name,
            "resolve_conflicts_on_update": "OVERWRITE"
        });
        if let Some(r) = role {
            a["service_account_role_arn"] = json!(attr("aws_iam_role", r, "arn"));
        }
        if let Some(c) = config {
            a["configuration_values"] = json!(super::jsonencode(&c));
        }
        a
    };
    let cni = addon("vpc-cni", Some("vpc_cni"), Some(json!({ "enableNetworkPolicy": "true" })));
    let mut ebs = addon("aws-ebs-csi-driver", Some("ebs_csi"), None);
    ebs["depends_on"] = json!(["aws_eks_node_group.main"]);
    let mut dns = addon("coredns", None, None);
    dns["depends_on"] = json!(["aws_eks_node_group.main"]);
    let proxy = addon("kube-proxy", None, None);
    cx.m.resource(FILE, "aws_eks_addon", "vpc_cni", cni);
    cx.m.resource(FILE, "aws_eks_addon", "ebs_csi", ebs);
    cx.m.resource(FILE, "aws_eks_addon", "coredns", dns);
    cx.m.resource(FILE, "aws_eks_addon", "kube_proxy", proxy);

    let m = &mut cx.m;
    m.output("cluster_name", "the EKS cluster", attr("aws_eks_cluster", "main", "name"));
    m.output(
        "cluster_endpoint",
        "API server URL (ArgoCD's cluster address)",
        attr("aws_eks_cluster", "main", "endpoint"),
    );
    m.output(
        "cluster_certificate_authority",
        "base64 CA certificate of the API server",
        expr("aws_eks_cluster.main.certificate_authority[0].data"),
    );
    m.output(
        "cluster_security_group_id",
        "security group of the control plane and the nodes",
        expr("aws_eks_cluster.main.vpc_config[0].cluster_security_group_id"),
    );
    m.output(
        "oidc_provider_arn",
        "the OIDC provider IRSA roles trust",
        attr("aws_iam_openid_connect_provider", "eks", "arn"),
    );
}
