//! Terraform state backups as AWS Backup reads them: the plan's selection
//! is exactly the S3 bucket every root's backend keeps its state in, on the
//! declared schedule and retention, with a copy into a vault of the
//! program's secondary region (a provider configured for that region), and
//! the role AWS Backup assumes may read and restore S3.

mod common;
use deployc::emit::Target;
use serde_json::Value;

fn terraform(text: &str) -> Vec<(String, Value)> {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    let options = Default::default();
    let plan = deployc::plan::Plan::new(&model, &graph, &options);
    deployc::emit::emit(&plan, &[Target::Terraform])
        .into_iter()
        .filter(|a| a.path.ends_with(".tf.json"))
        .map(|a| (a.path.clone(), serde_json::from_str(&a.contents).expect("JSON")))
        .collect()
}

fn program(extra_project: &str, recovery: &str) -> String {
    format!(
        "project shop {{\n  repository = \"github.com/acme/shop\"\n  registry = ecr {{ region = \"us-east-1\" account = \"123456789012\" }}\n  \
         cloud = aws {{ region = \"us-east-1\" }}\n  {extra_project}\n}}\n\
         service web {{\n  language = go\n  port = 8080\n  health = http {{ path = \"/healthz\" }}\n  uses = [db]\n}}\n\
         resource db = postgres {{ placement = managed backup {{ schedule = every_6h retain = 7d }} {recovery} }}\n\
         environment staging {{ promote = on_push(\"main\") }}\n         environment prod {{ production = true promote = manual(from = staging) }}\n"
    )
}

fn file<'a>(tf: &'a [(String, Value)], path: &str) -> &'a Value {
    &tf.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path} written")).1
}

#[test]
fn the_selection_is_the_backends_bucket_copied_to_the_secondary_region() {
    let tf = terraform(&program(
        "state_backup { schedule = daily retain = 35d }",
        "recovery { rpo = 12h region = \"us-west-2\" }",
    ));
    // Every root keeps its state in one bucket: the one the plan selects.
    let buckets: std::collections::BTreeSet<&str> =
        tf.iter().filter_map(|(_, v)| v.pointer("/terraform/backend/s3/bucket").and_then(Value::as_str)).collect();
    assert_eq!(buckets.len(), 1, "{buckets:?}");
    let bucket = buckets.into_iter().next().expect("bucket");
    let b = file(&tf, "terraform/shared/state-backup.tf.json");
    let r = |p: &str| b.pointer(&format!("/resource{p}")).unwrap_or_else(|| panic!("{p}"));
    assert_eq!(
        r("/aws_backup_selection/state/resources/0"),
        &Value::from(format!("arn:${{data.aws_partition.current.partition}}:s3:::{bucket}"))
    );
    let rule = r("/aws_backup_plan/state/rule/0");
    assert_eq!(rule["schedule"], "cron(0 3 * * ? *)", "daily");
    assert_eq!(rule["lifecycle"]["delete_after"], 35);
    assert_eq!(rule["copy_action"][0]["destination_vault_arn"], "${aws_backup_vault.state_copy.arn}");
    assert_eq!(rule["copy_action"][0]["lifecycle"]["delete_after"], 35);
    // The copy's vault and key live in the secondary region's provider.
    assert_eq!(r("/aws_backup_vault/state_copy/provider"), "aws.state_copy");
    assert_eq!(r("/aws_kms_key/state_copy/provider"), "aws.state_copy");
    let providers = file(&tf, "terraform/shared/main.tf.json")["provider"]["aws"].as_array().expect("two providers");
    assert!(providers.iter().any(|p| p["alias"] == "state_copy" && p["region"] == "us-west-2"), "{providers:?}");
    // The role AWS Backup assumes reads and restores S3.
    let role_policies: Vec<&str> = b["resource"]["aws_iam_role_policy_attachment"]
        .as_object()
        .expect("attachments")
        .values()
        .filter(|a| a["role"] == "${aws_iam_role.state_backup.name}")
        .filter_map(|a| a["policy_arn"].as_str())
        .collect();
    for p in ["AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore"] {
        assert!(role_policies.iter().any(|a| a.ends_with(&format!("policy/{p}"))), "{p}: {role_policies:?}");
    }
    assert_eq!(r("/aws_backup_selection/state/iam_role_arn"), "${aws_iam_role.state_backup.arn}");
}

#[test]
fn without_a_secondary_region_nothing_is_copied() {
    let tf = terraform(&program("state_backup { schedule = weekly }", ""));
    let b = file(&tf, "terraform/shared/state-backup.tf.json");
    let rule = &b["resource"]["aws_backup_plan"]["state"]["rule"][0];
    assert_eq!(rule["schedule"], "cron(0 3 ? * SUN *)");
    assert_eq!(rule["lifecycle"]["delete_after"], 7, "a week by default");
    assert!(rule.get("copy_action").is_none());
    assert!(file(&tf, "terraform/shared/main.tf.json")["provider"]["aws"].is_object(), "one provider");
}

#[test]
fn no_state_backup_no_plan() {
    let tf = terraform(&program("", ""));
    assert!(!tf.iter().any(|(p, _)| p.ends_with("state-backup.tf.json")));
}
