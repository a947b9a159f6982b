//! Off-cluster backup copies and the recovery drill: the backup pod uploads
//! only after the dump passed its size check, as a ServiceAccount whose IRSA
//! role trusts exactly it; the bucket keeps dumps as long as declared; the
//! drill restores the newest object and fails loudly.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

fn compile(text: &str) -> (deployc::model::Model, deployc::graph::Graph) {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"))
}

fn tree(text: &str, targets: &[Target]) -> BTreeMap<String, Value> {
    common::parsed_tree(text, targets)
}

fn program(account: &str) -> String {
    format!(
        r#"project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
  cloud      = aws {{ region = "eu-west-1"{account} }}
}}
resource db = postgres {{
  placement = in_cluster
  backup {{ schedule = daily retain = 14d }}
}}
resource docs = mongodb {{
  placement = in_cluster
  backup {{ schedule = hourly retain = 30d }}
}}
service api {{
  language = go
  port     = 8080
  health   = http {{ path = "/healthz" }}
  env {{
    DATABASE_URL = db.url
    MONGO_URL    = docs.url
  }}
}}
environment prod {{ promote = on_push("main") }}
"#
    )
}

const ACCOUNT: &str = r#" account = "123456789012""#;

fn script(c: &Value) -> String {
    // Kubernetes turns `$$` into `$` before the shell sees the command.
    c["command"][2].as_str().expect("script").replace("$$", "$")
}

#[test]
fn backup_pod_uploads_only_after_the_size_check_as_the_annotated_service_account() {
    let t = tree(&program(ACCOUNT), &[Target::K8s]);
    let sa = &t["k8s/prod/serviceaccount-shop-backup.yaml"];
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/shop-prod-backup-upload"
    );
    for r in ["db", "docs"] {
        let pod = &t[&format!("k8s/prod/cronjob-{r}-backup.yaml")]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "shop-backup", "{r}: a producer for the SA it names");
        // The dump and its size check run as the init container: the upload
        // container starts only when they exited 0.
        let init = pod["initContainers"].as_array().expect("init containers");
        assert_eq!(init.len(), 1);
        let dump = script(&init[0]);
        assert!(dump.contains("test -s \"$out.partial\"") && !dump.contains("aws "), "{dump}");
        let containers = pod["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "only the upload runs after the dump");
        assert_eq!(containers[0]["name"], "upload");
        let up = script(&containers[0]);
        let check = up.find("test -s").expect("upload re-checks the size");
        let copy = up.find("aws s3 cp").expect("upload copies");
        assert!(check < copy, "{up}");
        // Bucket and prefix reach the script through env, never formatted in.
        assert!(!up.contains("shop-prod-backups") && up.contains("$BACKUP_BUCKET"), "{up}");
        let env: BTreeMap<String, String> = containers[0]["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap_or("").to_string()))
            .collect();
        assert_eq!(env["BACKUP_BUCKET"], "shop-prod-backups");
        assert_eq!(env["BACKUP_PREFIX"], r);
        // The backup's network policy lets the upload reach S3.
        let np = &t[&format!("k8s/prod/networkpolicy-{r}-backup.yaml")];
        assert!(np["spec"]["egress"].as_array().unwrap().iter().any(|e| e["ports"][0]["port"] == 443));
    }
}

#[test]
fn upload_script_sends_the_newest_dump_and_refuses_an_empty_one() {
    let t = tree(&program(ACCOUNT), &[Target::K8s]);
    let pod = &t["k8s/prod/cronjob-db-backup.yaml"]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let dir = std::env::temp_dir().join(format!("deployc-upload-{}", std::process::id()));
    let backups = dir.join("backups");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&backups).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("aws.log");
    std::fs::write(bin.join("aws"), format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display())).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(bin.join("aws")).status().unwrap();
    let up = script(&pod["containers"][0]).replace("/backups", backups.to_str().unwrap());
    let run = || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&up)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("BACKUP_BUCKET", "b")
            .env("BACKUP_PREFIX", "db")
            .output()
            .unwrap()
    };
    std::fs::write(backups.join("db-20260101-000000.dump"), "old").unwrap();
    std::process::Command::new("touch")
        .args(["-d", "2026-01-01"])
        .arg(backups.join("db-20260101-000000.dump"))
        .status()
        .unwrap();
    std::fs::write(backups.join("db-20260102-000000.dump"), "new").unwrap();
    assert!(run().status.success());
    let sent = std::fs::read_to_string(&log).unwrap();
    assert!(sent.contains("db-20260102-000000.dump s3://b/db/db-20260102-000000.dump"), "{sent}");
    // An empty newest dump is never uploaded.
    std::fs::write(backups.join("db-20260103-000000.dump"), "").unwrap();
    // Same modification time as the previous dump (two dumps in one clock
    // tick): the name's timestamp still decides which is newest.
    std::process::Command::new("touch")
        .arg("-r")
        .arg(backups.join("db-20260102-000000.dump"))
        .arg(backups.join("db-20260103-000000.dump"))
        .status()
        .unwrap();
    std::fs::remove_file(&log).unwrap();
    assert!(!run().status.success());
    assert!(!log.exists(), "nothing uploaded");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn role_trusts_exactly_the_backup_service_account_and_bucket_keeps_the_retention() {
    let t = tree(&program(ACCOUNT), &[Target::Terraform]);
    let k = tree(&program(ACCOUNT), &[Target::K8s]);
    let ns = k["k8s/prod/serviceaccount-shop-backup.yaml"]["metadata"]["namespace"].as_str().unwrap().to_string();
    let locals = t
        .iter()
        .find_map(|(p, v)| (p.starts_with("terraform/prod/") && v["locals"].is_object()).then(|| v["locals"].clone()));
    let locals = locals.expect("locals");
    assert_eq!(locals["namespace"], ns.as_str());
    assert_eq!(locals["name"], "shop-prod");
    let irsa = &t["terraform/prod/irsa.tf.json"];
    let role = &irsa["resource"]["aws_iam_role"]["backup_upload"];
    assert_eq!(role["name"], "${local.name}-backup-upload", "the name the annotation's ARN gives");
    let trust = &irsa["data"]["aws_iam_policy_document"]["backup_upload_assume"]["statement"][0]["condition"][0];
    assert_eq!(trust["variable"], "${local.oidc_issuer}:sub");
    assert_eq!(trust["values"], serde_json::json!(["system:serviceaccount:${local.namespace}:shop-backup"]));
    let b = &t["terraform/prod/backups.tf.json"]["resource"];
    assert_eq!(b["aws_s3_bucket"]["backups"]["bucket"], "${local.name}-backups");
    let rule = &b["aws_s3_bucket_lifecycle_configuration"]["backups"]["rule"][0];
    assert_eq!(rule["expiration"]["days"], 30, "the longest declared retention");
    assert_eq!(b["aws_s3_bucket_versioning"]["backups"]["versioning_configuration"]["status"], "Enabled");
    let sse = &b["aws_s3_bucket_server_side_encryption_configuration"]["backups"]["rule"][0];
    assert_eq!(sse["apply_server_side_encryption_by_default"]["sse_algorithm"], "aws:kms");
    let pab = &b["aws_s3_bucket_public_access_block"]["backups"];
    for k in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"] {
        assert_eq!(pab[k], true);
    }
    // Access logs and replication exist only once the team names their targets.
    assert_eq!(b["aws_s3_bucket_logging"]["backups"]["count"], "${var.backup_access_log_bucket == null ? 0 : 1}");
    let rep = &b["aws_s3_bucket_replication_configuration"]["backups"];
    assert_eq!(rep["count"], "${var.backup_replica_bucket_arn == null ? 0 : 1}");
    assert_eq!(rep["rule"][0]["destination"]["bucket"], "${var.backup_replica_bucket_arn}");
    let policy = b["aws_s3_bucket_policy"]["backups"]["policy"].as_str().unwrap();
    assert!(policy.contains("aws:SecureTransport"), "{policy}");
}

#[test]
fn drill_restores_the_newest_object_into_a_scratch_server_and_fails_loudly() {
    let t = tree(&program(ACCOUNT), &[Target::K8s]);
    for (r, restore, verify) in
        [("db", "pg_restore", "information_schema.tables"), ("docs", "mongorestore", "listDatabases")]
    {
        let cj = &t[&format!("k8s/prod/cronjob-{r}-restore-drill.yaml")];
        let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "shop-backup");
        assert_eq!(cj["spec"]["jobTemplate"]["spec"]["backoffLimit"], 0, "a failed drill is not retried away");
        let fetch = script(&pod["initContainers"][0]);
        assert!(fetch.contains("sort_by(Contents, &LastModified)[-1].Key"), "the newest object: {fetch}");
        assert!(fetch.contains("RESTORE DRILL FAILED") && fetch.contains("--prefix \"$BACKUP_PREFIX/\""), "{fetch}");
        let check = script(&pod["containers"][0]);
        let (a, b) = (check.find(restore).expect("restores"), check.find(verify).expect("verifies"));
        assert!(a < b, "{check}");
        assert!(check.contains("127.0.0.1"), "a scratch server in the pod, never the live database: {check}");
        // Scratch data lives and dies with the pod.
        assert!(pod["volumes"].as_array().unwrap().iter().all(|v| v.get("emptyDir").is_some()));
        assert!(t.contains_key(&format!("k8s/prod/networkpolicy-{r}-restore-drill.yaml")));
    }
}

#[test]
fn without_an_account_backups_stay_in_the_cluster_with_w0014() {
    let (model, _) = compile(&program(""));
    let w = deployc::emit::unserved(&model, &[Target::K8s]);
    assert!(w.iter().any(|d| d.code.as_str() == "W0014" && d.message.contains("`db`")), "{w:?}");
    let t = tree(&program(""), &[Target::K8s, Target::Terraform]);
    assert!(!t.keys().any(|k| k.contains("restore-drill")
        || k.contains("serviceaccount-shop-backup")
        || k.ends_with("backups.tf.json")));
    let pod = &t["k8s/prod/cronjob-db-backup.yaml"]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert!(pod.get("serviceAccountName").is_none() && pod.get("initContainers").is_none());
}
