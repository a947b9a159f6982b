//! CloudWatch alarms for the environment's managed resources (the alarm
//! table, `plan/alarms.rs`), the environment's SNS topic (its key), and the
//! subscriptions AWS can deliver: the paging integrations' HTTPS endpoints
//! (sensitive variables, null until set) and Slack through AWS Chatbot
//! (once the workspace is authorised in the Chatbot console: its id and the
//! channel's are variables).

use super::security::service_role;
use super::{attr, expr, ident, Cx};
use crate::plan::alarms::{cache_nodes, paging, rows, slack, threshold, watched, Watched};
use serde_json::json;

const FILE: &str = "alarms.tf.json";

/// Whether the environment runs anything its alarms watch.
pub fn any(cx: &Cx) -> bool {
    cx.model
        .resources
        .iter()
        .any(|r| cx.managed(r.id) && !watched(r, cx.env.resources[r.id.index()].read_replicas).is_empty())
}

pub fn alarms(cx: &mut Cx) {
    if !any(cx) {
        return;
    }
    let model = cx.model;
    cx.m.resource(
        FILE,
        "aws_sns_topic",
        "alarms",
        json!({
            "name": cx.name("alarms"),
            "kms_master_key_id": attr("aws_kms_key", "main", "id"),
            "tags": cx.tags(&cx.name("alarms"))
        }),
    );
    let topic = attr("aws_sns_topic", "alarms", "arn");
    cx.m.output("alarm_topic_arn", "SNS topic every CloudWatch alarm of this environment notifies", topic.clone());
    for r in &model.resources {
        if !cx.managed(r.id) {
            continue;
        }
        let u = &cx.env.resources[r.id.index()];
        let id = ident(&r.name);
        for w in watched(r, u.read_replicas) {
            // An alarm per replica (`count`) or per cache node (`for_each`).
            let mut count: Option<u32> = None;
            let mut each: Option<Vec<String>> = None;
            let (dimension, value): (&str, String) = match w {
                Watched::RdsInstance => ("DBInstanceIdentifier", format!("${{aws_db_instance.{id}.identifier}}")),
                Watched::RdsReplica => {
                    count = Some(u.read_replicas);
                    ("DBInstanceIdentifier", format!("${{aws_db_instance.{id}_replica[count.index].identifier}}"))
                }
                Watched::Aurora => ("DBClusterIdentifier", format!("${{aws_rds_cluster.{id}.cluster_identifier}}")),
                Watched::DocumentDb => {
                    ("DBClusterIdentifier", format!("${{aws_docdb_cluster.{id}.cluster_identifier}}"))
                }
                // Every node of the group: its CacheClusterId is the group's
                // id and the member suffix ElastiCache gives it (`-001`, or
                // `-0001-001` per shard in cluster mode), derived from the
                // node counts the group is created with. Not `for_each` over
                // the group's `member_clusters`: that set is known only after
                // apply, and `for_each` needs its keys at plan time, so the
                // first plan would fail ("Invalid for_each argument"). The
                // suffixes are literals and the group id is configuration, so
                // the keys and dimensions are known when planning; changing
                // the node counts adds or removes exactly the alarms of the
                // nodes added or removed.
                Watched::ElastiCache => {
                    each = Some(cache_nodes(r, u, cx.env.production).members());
                    (
                        "CacheClusterId",
                        format!("${{aws_elasticache_replication_group.{id}.replication_group_id}}-${{each.key}}"),
                    )
                }
                Watched::Queue => ("QueueName", format!("${{aws_sqs_queue.{id}.name}}")),
                Watched::DeadLetter => ("QueueName", format!("${{aws_sqs_queue.{id}_dead_letter.name}}")),
                Watched::Msk => ("Cluster Name", format!("${{aws_msk_cluster.{id}.cluster_name}}")),
            };
            for row in rows(w) {
                let suffix = if count.is_some() {
                    "-${count.index + 1}"
                } else if each.is_some() {
                    "-${each.key}"
                } else {
                    ""
                };
                let (limit, what) = threshold(row, &u.alarms);
                let mut alarm = json!({
                    "alarm_name": format!("{}-{}{suffix}", cx.name(&r.name), row.key),
                    "alarm_description": format!("{} {}: {what}", r.engine.word(), r.name),
                    "namespace": row.namespace,
                    "metric_name": row.metric,
                    "statistic": row.statistic,
                    "comparison_operator": row.comparison,
                    "threshold": limit,
                    "period": row.period_s,
                    "evaluation_periods": row.periods,
                    "dimensions": { dimension: value },
                    "treat_missing_data": "notBreaching",
                    "actions_enabled": true,
                    "alarm_actions": [topic],
                    "ok_actions": [topic],
                    "tags": cx.tags(&cx.name(&r.name))
                });
                if let Some(n) = count {
                    alarm["count"] = json!(n);
                }
                if let Some(members) = &each {
                    alarm["alarm_description"] =
                        json!(format!("{} {} node ${{each.key}}: {what}", r.engine.word(), r.name));
                    let keys: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
                    alarm["for_each"] = json!(expr(&format!("toset([{}])", keys.join(", "))));
                }
                let tf_id = format!("{id}_{}", row.key.replace('-', "_"));
                let tf_id = if matches!(w, Watched::RdsReplica | Watched::DeadLetter) {
                    format!(
                        "{id}_{}_{}",
                        if w == Watched::RdsReplica { "replica" } else { "dlq" },
                        row.key.replace('-', "_")
                    )
                } else {
                    tf_id
                };
                cx.m.resource(FILE, "aws_cloudwatch_metric_alarm", &tf_id, alarm);
            }
        }
    }
    // Paging: PagerDuty's and Opsgenie's CloudWatch integrations take SNS
    // over HTTPS and confirm the subscription themselves.
    for (name, kind) in paging(model, cx.env.production) {
        let var = format!("{}_alarm_endpoint", ident(&name));
        cx.m.variable(
            &var,
            "string",
            &format!(
                "HTTPS endpoint of the {kind} integration `{name}` for CloudWatch (with its integration key); null (the default) leaves the alarms unrouted to it"
            ),
            Some(json!(null)),
        );
        if let Some(v) = cx.m.file("main.tf.json").variable.get_mut(&var) {
            v.sensitive = Some(true);
        }
        cx.m.resource(
            FILE,
            "aws_sns_topic_subscription",
            &format!("alarms_{}", ident(&name)),
            json!({
                "count": expr(&format!("var.{var} == null ? 0 : 1")),
                "topic_arn": topic,
                "protocol": "https",
                "endpoint": expr(&format!("var.{var}")),
                "endpoint_auto_confirms": true
            }),
        );
    }
    // Slack: AWS Chatbot, after the workspace is authorised in its console
    // (which only a person can do); then its id and the channel's are set.
    if let Some(name) = slack(model) {
        for (var, what) in [
            ("slack_workspace_id", "Slack workspace (team) id AWS Chatbot was authorised for"),
            ("slack_channel_id", "Slack channel id the alarms are posted to"),
        ] {
            cx.m.variable(
                var,
                "string",
                &format!("{what}, for the `{name}` integration; null (the default) posts nothing"),
                Some(json!(null)),
            );
        }
        service_role(cx, "chatbot", &cx.name("chatbot"), "chatbot.amazonaws.com");
        let readonly = "arn:${local.partition}:iam::aws:policy/CloudWatchReadOnlyAccess";
        cx.m.resource(
            FILE,
            "aws_chatbot_slack_channel_configuration",
            "alarms",
            json!({
                "count": expr("var.slack_workspace_id == null || var.slack_channel_id == null ? 0 : 1"),
                "configuration_name": cx.name("alarms"),
                "iam_role_arn": attr("aws_iam_role", "chatbot", "arn"),
                "slack_team_id": expr("var.slack_workspace_id"),
                "slack_channel_id": expr("var.slack_channel_id"),
                "sns_topic_arns": [topic],
                "guardrail_policy_arns": [readonly],
                "tags": cx.tags(&cx.name("alarms"))
            }),
        );
    }
}
