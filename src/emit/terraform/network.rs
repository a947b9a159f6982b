//! network.tf.json: the VPC with public, private and database subnets in
//! every zone of the project, NAT, route tables, the database subnets'
//! network ACL and flow logs.
//!
//! Address plan inside `var.vpc_cidr` (a /16 by default): private subnets
//! are the first /19 blocks (8,190 addresses each: pods take VPC addresses
//! with the VPC CNI), public and database subnets /24 blocks from the top of
//! the range. Six zones fit, the most any AWS region has.

use super::{attr, expr, Cx};
use serde_json::json;

const FILE: &str = "network.tf.json";

/// The cluster's VPC; `per_zone_nat` when an environment on it must survive
/// a zone outage (a production or multi-AZ environment).
pub fn vpc(cx: &mut Cx, per_zone_nat: bool) {
    let m = &mut cx.m;
    m.local(
        "nat_gateways",
        // One NAT gateway per zone where the environment must survive a zone
        // outage; one for the whole VPC elsewhere, which is much cheaper.
        if per_zone_nat { json!(expr("length(local.azs)")) } else { json!(1) },
    );
    m.resource(
        FILE,
        "aws_vpc",
        "main",
        json!({
            "cidr_block": expr("var.vpc_cidr"),
            "enable_dns_hostnames": true,
            "enable_dns_support": true,
            "tags": { "Name": expr("local.name") }
        }),
    );
    // Takes over the VPC's default group and removes its rules: nothing may
    // fall back to it.
    m.resource(
        FILE,
        "aws_default_security_group",
        "main",
        json!({ "vpc_id": attr("aws_vpc", "main", "id"), "tags": { "Name": format!("{}-default", expr("local.name")) } }),
    );
    m.resource(
        FILE,
        "aws_internet_gateway",
        "main",
        json!({ "vpc_id": attr("aws_vpc", "main", "id"), "tags": { "Name": expr("local.name") } }),
    );
    let subnet = |kind: &str, cidr: &str, extra: serde_json::Value| {
        let mut tags = json!({ "Name": format!("${{local.name}}-{kind}-${{local.azs[count.index]}}"), "tier": kind });
        if let (Some(t), Some(e)) = (tags.as_object_mut(), extra.as_object()) {
            t.extend(e.clone());
        }
        json!({
            "count": expr("length(local.azs)"),
            "vpc_id": attr("aws_vpc", "main", "id"),
            "availability_zone": expr("local.azs[count.index]"),
            "cidr_block": expr(cidr),
            // Nothing in the VPC gets a public address by default; the load
            // balancers and NAT gateways bring their own.
            "map_public_ip_on_launch": false,
            "tags": tags
        })
    };
    // The role tags tell the AWS Load Balancer Controller where to place
    // internet-facing and internal load balancers.
    m.resource(
        FILE,
        "aws_subnet",
        "public",
        subnet("public", "cidrsubnet(var.vpc_cidr, 8, 224 + count.index)", json!({ "kubernetes.io/role/elb": "1" })),
    );
    m.resource(
        FILE,
        "aws_subnet",
        "private",
        subnet(
            "private",
            "cidrsubnet(var.vpc_cidr, 3, count.index)",
            json!({ "kubernetes.io/role/internal-elb": "1" }),
        ),
    );
    m.resource(
        FILE,
        "aws_subnet",
        "database",
        subnet("database", "cidrsubnet(var.vpc_cidr, 8, 240 + count.index)", json!({})),
    );

    m.resource(
        FILE,
        "aws_eip",
        "nat",
        json!({
            "count": expr("local.nat_gateways"),
            "domain": "vpc",
            "tags": { "Name": "${local.name}-nat-${local.azs[count.index]}" }
        }),
    );
    m.resource(
        FILE,
        "aws_nat_gateway",
        "main",
        json!({
            "count": expr("local.nat_gateways"),
            "allocation_id": expr("aws_eip.nat[count.index].id"),
            "subnet_id": expr("aws_subnet.public[count.index].id"),
            "tags": { "Name": "${local.name}-${local.azs[count.index]}" },
            "depends_on": ["aws_internet_gateway.main"]
        }),
    );
    m.resource(
        FILE,
        "aws_route_table",
        "public",
        json!({ "vpc_id": attr("aws_vpc", "main", "id"), "tags": { "Name": "${local.name}-public" } }),
    );
    m.resource(
        FILE,
        "aws_route",
        "public_internet",
        json!({
            "route_table_id": attr("aws_route_table", "public", "id"),
            "destination_cidr_block": "0.0.0.0/0",
            "gateway_id": attr("aws_internet_gateway", "main", "id")
        }),
    );
    m.resource(
        FILE,
        "aws_route_table",
        "private",
        json!({
            "count": expr("length(local.azs)"),
            "vpc_id": attr("aws_vpc", "main", "id"),
            "tags": { "Name": "${local.name}-private-${local.azs[count.index]}" }
        }),
    );
    m.resource(
        FILE,
        "aws_route",
        "private_nat",
        json!({
            "count": expr("length(local.azs)"),
            "route_table_id": expr("aws_route_table.private[count.index].id"),
            "destination_cidr_block": "0.0.0.0/0",
            "nat_gateway_id": expr("aws_nat_gateway.main[count.index % local.nat_gateways].id")
        }),
    );
    // Database subnets have no route out of the VPC at all.
    m.resource(
        FILE,
        "aws_route_table",
        "database",
        json!({ "vpc_id": attr("aws_vpc", "main", "id"), "tags": { "Name": "${local.name}-database" } }),
    );
    for (kind, table) in [
        ("public", "aws_route_table.public.id"),
        ("private", "aws_route_table.private[count.index].id"),
        ("database", "aws_route_table.database.id"),
    ] {
        m.resource(
            FILE,
            "aws_route_table_association",
            kind,
            json!({
                "count": expr("length(local.azs)"),
                "subnet_id": expr(&format!("aws_subnet.{kind}[count.index].id")),
                "route_table_id": expr(table)
            }),
        );
    }

    // The database subnets' network ACL: traffic to and from the VPC's own
    // range only, in both directions (ACLs are stateless: the replies to
    // clients leave on their ephemeral ports, which the egress rule
    // covers, and replies come back on ours, which the ingress rule does), so nothing outside the VPC (the internet, a peered hub's
    // VPC) reaches a database even if a security group were opened. The
    // public and private subnets keep the default ACL: the load balancers
    // preserve client addresses, so their targets must accept any source
    // on ephemeral ports anyway, and the security groups and
    // NetworkPolicies decide there.
    m.resource(
        FILE,
        "aws_network_acl",
        "database",
        json!({
            "vpc_id": attr("aws_vpc", "main", "id"),
            "subnet_ids": expr("aws_subnet.database[*].id"),
            "tags": { "Name": "${local.name}-database" }
        }),
    );
    // In: TCP from 1024 up, which holds every engine's port (5432, 6379,
    // 27017, MSK's 9092-9098) and the replies to what the subnets open
    // themselves (RDS Proxy to its database); out: anything to the VPC.
    let rule = |egress: bool| {
        let mut r = json!({
            "network_acl_id": attr("aws_network_acl", "database", "id"),
            "rule_number": 100,
            "egress": egress,
            "protocol": "-1",
            "rule_action": "allow",
            "cidr_block": expr("var.vpc_cidr")
        });
        if !egress {
            r["protocol"] = json!("tcp");
            r["from_port"] = json!(1024);
            r["to_port"] = json!(65535);
        }
        r
    };
    m.resource(FILE, "aws_network_acl_rule", "database_in_from_vpc", rule(false));
    m.resource(FILE, "aws_network_acl_rule", "database_out_to_vpc", rule(true));

    // Flow logs: every accepted and rejected connection, kept a year,
    // encrypted with the environment's key.
    m.resource(
        FILE,
        "aws_cloudwatch_log_group",
        "flow_logs",
        json!({
            "name": "/aws/vpc/${local.name}/flow-logs",
            "retention_in_days": 365,
            "kms_key_id": attr("aws_kms_key", "main", "arn")
        }),
    );
    super::security::service_role(cx, "flow_logs", "${local.name}-flow-logs", "vpc-flow-logs.amazonaws.com");
    let m = &mut cx.m;
    m.data(
        FILE,
        "aws_iam_policy_document",
        "flow_logs",
        json!({
            "statement": [{
                "sid": "WriteFlowLogs",
                "actions": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "resources": ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
            }]
        }),
    );
    m.resource(
        FILE,
        "aws_iam_role_policy",
        "flow_logs",
        json!({
            "name": "write-flow-logs",
            "role": attr("aws_iam_role", "flow_logs", "id"),
            "policy": attr("data.aws_iam_policy_document", "flow_logs", "json")
        }),
    );
    m.resource(
        FILE,
        "aws_flow_log",
        "main",
        json!({
            "vpc_id": attr("aws_vpc", "main", "id"),
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": attr("aws_cloudwatch_log_group", "flow_logs", "arn"),
            "iam_role_arn": attr("aws_iam_role", "flow_logs", "arn"),
            "max_aggregation_interval": 60
        }),
    );
    m.output("vpc_id", "the VPC", attr("aws_vpc", "main", "id"));
    m.output("private_subnet_ids", "subnets of the nodes and pods", expr("aws_subnet.private[*].id"));
    m.output("database_subnet_ids", "subnets of the managed databases and caches", expr("aws_subnet.database[*].id"));
}
