//! eks.tf.json: the EKS cluster (private API endpoint, secrets encrypted
//! with the environment's key, every control-plane log), its managed node
//! group (IMDSv2 only, encrypted volumes), the OIDC provider IRSA trusts,
//! and the add-ons: the VPC CNI with network-policy enforcement, so the
//! Kubernetes target's NetworkPolicies are enforced, and the EBS CSI driver
//! for the volumes of in-cluster databases.

use super::security::{attach, irsa_role, irsa_role_for, service_role};
use super::{attr, expr, Cx};
use crate::plan::topology::{Cluster, Topology};
use serde_json::{json, Value};

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
    m.local("oidc_provider_arn", json!(attr("aws_iam_openid_connect_provider", "eks", "arn")));
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
    m.output(
        "oidc_issuer",
        "the cluster's OIDC issuer URL (clusters in other clouds trust the hub's ArgoCD through it: their hub_oidc_issuer)",
        expr("aws_eks_cluster.main.identity[0].oidc[0].issuer"),
    );
}

fn arn(service: &str, what: &str) -> String {
    format!("arn:${{local.partition}}:{service}:${{var.region}}:${{local.account_id}}:{what}")
}

fn stmt(sid: &str, actions: &[&str], resources: Vec<String>, conditions: Vec<Value>) -> Value {
    let mut s = json!({ "sid": sid, "actions": actions, "resources": resources });
    if !conditions.is_empty() {
        s["condition"] = json!(conditions);
    }
    s
}

/// What the load balancer controller needs for `wafv2-acl-name` and
/// `shield-advanced-protection` (the upstream policy's WAFv2 and Shield
/// statements, scoped to regional web ACLs, this account's Shield
/// protections and application load balancers). Listing web ACLs (to find
/// one by name) and reading the subscription state have no resource.
fn edge_statements() -> Vec<Value> {
    let elb_app = arn("elasticloadbalancing", "loadbalancer/app/*/*");
    vec![
        stmt("EdgeRead", &["wafv2:ListWebACLs", "shield:GetSubscriptionState"], vec!["*".into()], vec![]),
        stmt(
            "WebAcl",
            &["wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"],
            vec![arn("wafv2", "regional/webacl/*/*"), elb_app.clone()],
            vec![],
        ),
        stmt("WebAclOnLoadBalancers", &["elasticloadbalancing:SetWebAcl"], vec![elb_app], vec![]),
        stmt(
            "Shield",
            &["shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection"],
            vec!["arn:${local.partition}:shield::${local.account_id}:protection/*".into()],
            vec![],
        ),
    ]
}

fn cond(test: &str, variable: &str, values: &[&str]) -> Value {
    json!({ "test": test, "variable": variable, "values": values })
}

/// Roles for the controllers the cluster's workloads rely on: the AWS Load
/// Balancer Controller (`kube-system/aws-load-balancer-controller`), which
/// may only change load balancers, target groups and security groups it
/// tagged for this cluster, and the Cluster Autoscaler
/// (`kube-system/cluster-autoscaler`), which may only resize this cluster's
/// node groups (EKS tags their Auto Scaling groups `k8s.io/cluster-autoscaler/<cluster>`).
///
/// When an environment on the cluster declares `edge`, the controller may
/// also associate the environment's web ACL (found by name, `plan::edge`)
/// with the load balancers it owns and turn on Shield Advanced for them.
pub fn addon_roles(cx: &mut Cx, edge: bool) {
    let tagged = || cond("Null", "aws:ResourceTag/elbv2.k8s.aws/cluster", &["false"]);
    let requested = || cond("Null", "aws:RequestTag/elbv2.k8s.aws/cluster", &["false"]);
    let elb = |what: &str| arn("elasticloadbalancing", what);
    let lbs = || vec![elb("loadbalancer/app/*/*"), elb("loadbalancer/net/*/*"), elb("targetgroup/*/*")];
    // The upstream policy's Outposts actions (customer-owned IP pools) are
    // left out: they are resource-scoped, and no cluster here runs on Outposts.
    let lbc = vec![
        stmt(
            "Read",
            &[
                "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags",
 "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeListenerAttributes",
                "acm:ListCertificates", "iam:ListServerCertificates",
            ],
            vec!["*".into()],
            vec![],
        ),
        stmt(
            "ServiceLinkedRole",
            &["iam:CreateServiceLinkedRole"],
            vec!["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing".into()],
            vec![cond("StringEquals", "iam:AWSServiceName", &["elasticloadbalancing.amazonaws.com"])],
        ),
        stmt(
            "CreateSecurityGroups",
            &["ec2:CreateSecurityGroup", "ec2:CreateTags"],
            vec![arn("ec2", "security-group/*"), arn("ec2", "vpc/${aws_vpc.main.id}")],
            vec![],
        ),
        stmt(
            "OwnSecurityGroups",
            &["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup", "ec2:DeleteTags"],
            vec![arn("ec2", "security-group/*")],
            vec![tagged()],
        ),
        stmt(
            "CreateLoadBalancers",
            &["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags"],
            lbs(),
            vec![requested()],
        ),
        stmt(
            "OwnLoadBalancers",
            &[
                "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:CreateListener", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
            ],
            lbs(),
            vec![tagged()],
        ),
        stmt(
            "Listeners",
            &[
                "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:AddTags",
            ],
            vec![elb("listener/app/*/*/*"), elb("listener/net/*/*/*"), elb("listener-rule/app/*/*/*/*"), elb("listener-rule/net/*/*/*/*")],
            vec![],
        ),
    ];
    let mut lbc = lbc;
    if edge {
        lbc.extend(edge_statements());
    }
    irsa_role(
        cx,
        "load_balancer_controller",
        "${local.name}-lb-controller",
        "kube-system",
        "aws-load-balancer-controller",
        lbc,
    );
    let ca = vec![
        stmt(
            "Read",
            &[
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            vec!["*".into()],
            vec![],
        ),
        stmt("NodeGroups", &["eks:DescribeNodegroup"], vec![attr("aws_eks_node_group", "main", "arn")], vec![]),
        stmt(
            "Resize",
            &["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            vec![arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*")],
            vec![cond("StringEquals", "aws:ResourceTag/k8s.io/cluster-autoscaler/${local.cluster_name}", &["owned"])],
        ),
    ];
    irsa_role(cx, "cluster_autoscaler", "${local.name}-cluster-autoscaler", "kube-system", "cluster-autoscaler", ca);
    cx.m.output(
        "controller_role_arns",
        "IAM roles of the load balancer controller and the cluster autoscaler (annotation eks.amazonaws.com/role-arn)",
        expr("{\"aws-load-balancer-controller\" = aws_iam_role.load_balancer_controller.arn, \"cluster-autoscaler\" = aws_iam_role.cluster_autoscaler.arn}"),
    );
}

/// The role ArgoCD's controller and server run as in the hub cluster.
pub fn argocd_role_name(hub: &Cluster) -> String {
    format!("{}-argocd", hub.name)
}

/// How the ArgoCD hub reaches this cluster. In the hub itself: an IRSA role
/// for ArgoCD's controller and server, which the other clusters trust. In
/// every other cluster: an access entry for that role (cluster admin, as
/// ArgoCD creates namespaces), a peering to the hub's VPC with routes both
/// ways, and HTTPS from the hub's range to the private API endpoint. ArgoCD
/// then registers the cluster under its name (`argocd cluster add`, or a
/// cluster Secret with `awsAuthConfig.roleARN` and the `cluster_endpoint`
/// and `cluster_certificate_authority` outputs).
pub fn argocd_access(cx: &mut Cx, topology: &Topology, c: &Cluster) {
    let Some(hub) = topology.hub() else { return };
    let ns = cx.model.project.gitops.namespace.clone();
    let role = argocd_role_name(hub);
    if c.hub {
        let subjects: Vec<String> = ["argocd-application-controller", "argocd-server"]
            .iter()
            .map(|a| format!("system:serviceaccount:{ns}:{a}"))
            .collect();
        irsa_role_for(cx, "argocd", &role, &subjects, vec![]);
        cx.m.output(
            "argocd_role_arn",
            "the role ArgoCD reaches the other clusters with",
            attr("aws_iam_role", "argocd", "arn"),
        );
        return;
    }
    let principal = format!("arn:${{local.partition}}:iam::${{local.account_id}}:role/{role}");
    let file = "argocd.tf.json";
    let m = &mut cx.m;
    m.resource(
        file,
        "aws_eks_access_entry",
        "argocd",
        json!({ "cluster_name": attr("aws_eks_cluster", "main", "name"), "principal_arn": principal, "type": "STANDARD" }),
    );
    m.resource(
        file,
        "aws_eks_access_policy_association",
        "argocd",
        json!({
            "cluster_name": attr("aws_eks_cluster", "main", "name"),
            "principal_arn": attr("aws_eks_access_entry", "argocd", "principal_arn"),
            "policy_arn": "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "access_scope": { "type": "cluster" }
        }),
    );
    m.data(file, "aws_vpc", "hub", json!({ "tags": { "Name": hub.name } }));
    m.data(
        file,
        "aws_route_tables",
        "hub_private",
        json!({ "vpc_id": attr("data.aws_vpc", "hub", "id"), "filter": [{ "name": "tag:Name", "values": [format!("{}-private-*", hub.name)] }] }),
    );
    m.resource(
        file,
        "aws_vpc_peering_connection",
        "hub",
        json!({ "vpc_id": attr("aws_vpc", "main", "id"), "peer_vpc_id": attr("data.aws_vpc", "hub", "id"), "auto_accept": true, "tags": { "Name": format!("{}-to-{}", c.name, hub.name) } }),
    );
    m.resource(
        file,
        "aws_route",
        "to_hub",
        json!({
            "count": expr("length(local.azs)"),
            "route_table_id": expr("aws_route_table.private[count.index].id"),
            "destination_cidr_block": attr("data.aws_vpc", "hub", "cidr_block"),
            "vpc_peering_connection_id": attr("aws_vpc_peering_connection", "hub", "id")
        }),
    );
    m.resource(
        file,
        "aws_route",
        "from_hub",
        json!({
            "for_each": expr("toset(data.aws_route_tables.hub_private.ids)"),
            "route_table_id": expr("each.value"),
            "destination_cidr_block": expr("var.vpc_cidr"),
            "vpc_peering_connection_id": attr("aws_vpc_peering_connection", "hub", "id")
        }),
    );
    m.resource(
        file,
        "aws_vpc_security_group_ingress_rule",
        "api_from_hub",
        json!({
            "description": "ArgoCD in the hub cluster reaches the private API endpoint",
            "security_group_id": expr("aws_eks_cluster.main.vpc_config[0].cluster_security_group_id"),
            "cidr_ipv4": attr("data.aws_vpc", "hub", "cidr_block"),
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443
        }),
    );
}

/// `logs = cloudwatch`: a log group per environment on the cluster
/// (`<group>/<env>`, a year's retention, the cluster's key) and the role
/// Fluent Bit (`logging/fluent-bit`) writes with, limited to those groups'
/// streams (plan/logs.rs).
pub fn log_groups(cx: &mut Cx, envs: &[&crate::model::Environment]) {
    let file = "logs.tf.json";
    let mut streams = Vec::new();
    for env in envs {
        let Some(group) = crate::plan::logs::log_group(cx.model, env) else { return };
        let id = format!("logs_{}", super::ident(&env.name));
        cx.m.resource(
            file,
            "aws_cloudwatch_log_group",
            &id,
            json!({
                "name": group,
                "retention_in_days": crate::plan::logs::RETENTION_DAYS,
                "kms_key_id": attr("aws_kms_key", "main", "arn"),
                "tags": { "environment": env.name }
            }),
        );
        streams.push(format!("${{aws_cloudwatch_log_group.{id}.arn}}:*"));
    }
    if streams.is_empty() {
        return;
    }
    let statements = vec![stmt(
        "WriteLogs",
        &["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        streams,
        vec![],
    )];
    irsa_role(
        cx,
        "fluent_bit",
        "${local.name}-fluent-bit",
        crate::plan::logs::FLUENT_BIT_NAMESPACE,
        crate::plan::logs::FLUENT_BIT_ACCOUNT,
        statements,
    );
    cx.m.output(
        "fluent_bit_role_arn",
        "IAM role Fluent Bit writes to CloudWatch Logs with (annotation eks.amazonaws.com/role-arn on logging/fluent-bit)",
        attr("aws_iam_role", "fluent_bit", "arn"),
    );
}

/// KEDA's operator (`keda/keda-operator`) when an environment on the
/// cluster scales a worker on an SQS queue (`plan::keda`): a role that may
/// only read those queues' attributes (their depth), named by ARN from the
/// plan's queue names, since the queues are the environments' roots'. The
/// KEDA add-on's values put the role on the operator's ServiceAccount.
pub fn keda_operator_role(cx: &mut Cx, c: &Cluster, envs: &[&crate::model::Environment]) {
    let queues: Vec<String> =
        envs.iter().flat_map(|e| crate::plan::keda::sqs_queues(cx.model, e)).map(|name| arn("sqs", &name)).collect();
    if queues.is_empty() {
        return;
    }
    let statements = vec![stmt("QueueDepth", &["sqs:GetQueueAttributes"], queues, vec![])];
    irsa_role(
        cx,
        "keda_operator",
        &crate::plan::keda::operator_role_name(c),
        crate::plan::keda::NAMESPACE,
        crate::plan::keda::OPERATOR_ACCOUNT,
        statements,
    );
    cx.m.output(
        "keda_operator_role_arn",
        "IAM role KEDA's operator reads SQS queue depths with (annotation eks.amazonaws.com/role-arn on keda/keda-operator)",
        attr("aws_iam_role", "keda_operator", "arn"),
    );
}

/// velero.tf.json: Velero's bucket and IAM role (`plan::velero`), when an
/// environment on this cluster declares `volume_backups`. The bucket is the
/// backup buckets' kind (versioned, this cluster's key, public access
/// blocked, TLS only) and outlives the cluster: `prevent_destroy`, since a
/// restore after losing the cluster reads it. Current objects expire a week
/// after the longest TTL, so the lifecycle never removes a backup Velero
/// still counts on (Velero deletes expired backups and their snapshots
/// itself). The role is trusted by exactly `velero/velero` and may do what
/// the AWS plugin's documentation lists — EBS snapshots, and objects of
/// this bucket — and use the key that encrypts the bucket.
pub fn velero(cx: &mut Cx, v: &crate::plan::velero::ClusterVelero) {
    use crate::plan::velero::{NAMESPACE, SERVICE_ACCOUNT};
    let file = "velero.tf.json";
    let id = "velero";
    let ttl_days = v.schedules.iter().map(|s| s.ttl_minutes).max().unwrap_or(0).div_ceil(24 * 60);
    super::data::store_bucket(cx, file, id, "${local.name}-velero", ttl_days + 7);
    if let Some(bucket) = cx.m.file(file).resource.get_mut("aws_s3_bucket").and_then(|r| r.get_mut(id)) {
        bucket["lifecycle"] = json!({ "prevent_destroy": true });
    }
    super::data::backup_replication_by_variable(cx, file, id);
    let bucket = attr("aws_s3_bucket", id, "arn");
    // The plugin's documented EC2 actions. Describing has no resource
    // level; the others are held to this region's volumes and snapshots
    // (a snapshot's ARN names no account).
    let volumes = arn("ec2", "volume/*");
    let snapshots = "arn:${local.partition}:ec2:${var.region}::snapshot/*".to_string();
    let statements = vec![
        stmt("Describe", &["ec2:DescribeVolumes", "ec2:DescribeSnapshots"], vec!["*".into()], vec![]),
        stmt(
            "Snapshots",
            &["ec2:CreateTags", "ec2:CreateVolume", "ec2:CreateSnapshot"],
            vec![volumes, snapshots.clone()],
            vec![],
        ),
        stmt("DeleteSnapshots", &["ec2:DeleteSnapshot"], vec![snapshots], vec![]),
        stmt(
            "Objects",
            &[
                "s3:GetObject",
                "s3:DeleteObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            vec![format!("${{aws_s3_bucket.{id}.arn}}/*")],
            vec![],
        ),
        stmt("Bucket", &["s3:ListBucket"], vec![bucket], vec![]),
        stmt("BucketKey", &["kms:Decrypt", "kms:GenerateDataKey"], vec![attr("aws_kms_key", "main", "arn")], vec![]),
    ];
    irsa_role(cx, id, "${local.name}-velero", NAMESPACE, SERVICE_ACCOUNT, statements);
    cx.m.output("velero_bucket", "Velero's backup bucket", attr("aws_s3_bucket", id, "id"));
    cx.m.output(
        "velero_role_arn",
        "IAM role of Velero's ServiceAccount (annotation eks.amazonaws.com/role-arn)",
        attr("aws_iam_role", id, "arn"),
    );
}
