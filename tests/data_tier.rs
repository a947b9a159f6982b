//! The data tier read as AWS and the pods would: behind `proxy = true` the
//! pods' connection URL names the RDS Proxy endpoint, the proxy reads the
//! very secret that holds the credentials (and only it), from the
//! database's security group, which admits the cluster and itself; with `recovery { region }` production's
//! backups reach the secondary region (a versioned, encrypted replica bucket
//! through the second provider, AWS Backup copies to a vault there), the
//! RPO check counts the copy's lag, and other environments stay put; an
//! in-cluster MongoDB with `read_replicas` runs as a replica set whose
//! members can reach each other and whose URL names them all.

mod common;
use deployc::codes::Code;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

const PROXY: &str = include_str!("cases/pass/rds_proxy.dpl");
const REGION: &str = include_str!("cases/pass/secondary_region.dpl");
const MONGO: &str = include_str!("cases/pass/mongodb_replica_set.dpl");

fn tree(text: &str) -> BTreeMap<String, Value> {
    common::parsed_tree(text, &[Target::K8s, Target::Terraform])
}

fn resource<'a>(t: &'a BTreeMap<String, Value>, env: &str, file: &str, ty: &str, name: &str) -> &'a Value {
    let v = &t[&format!("terraform/{env}/{file}")]["resource"][ty][name];
    assert!(!v.is_null(), "{env}/{file}: no {ty}.{name}");
    v
}

/// The JSON a `${jsonencode({...})}` string encodes, parsed.
fn jsonencoded(s: &Value) -> Value {
    let s = s.as_str().expect("a string");
    let inner = s.strip_prefix("${jsonencode(").and_then(|r| r.strip_suffix(")}")).expect("jsonencode");
    serde_json::from_str(inner).expect("JSON inside jsonencode")
}

#[test]
fn pods_reach_the_database_through_the_proxy_that_reads_their_secret() {
    let t = tree(PROXY);
    // The pod reads DATABASE_URL from the connection Secret's `url` key,
    // which External Secrets fills from the Secrets Manager secret
    // Terraform writes.
    let deploy = serde_json::to_string(&t["k8s/prod/deployment-api.yaml"]).unwrap();
    assert!(
        deploy.contains(r#"{"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"key":"url","name":"db-connection""#)
    );
    let es = &t["k8s/prod/externalsecret-db-connection.yaml"];
    assert_eq!(es["spec"]["dataFrom"][0]["extract"]["key"], "shop/prod/db-connection");
    let secret = resource(&t, "prod", "secrets.tf.json", "aws_secretsmanager_secret", "db_connection");
    assert_eq!(secret["name"], "${local.store_prefix}/db-connection");
    let version = resource(&t, "prod", "databases.tf.json", "aws_secretsmanager_secret_version", "db_connection");
    assert_eq!(version["secret_id"], "${aws_secretsmanager_secret.db_connection.id}");
    let values = jsonencoded(&version["secret_string"]);
    let proxy_host = "${aws_db_proxy.db.endpoint}";
    assert_eq!(values["host"], proxy_host);
    assert!(values["url"].as_str().unwrap().contains(&format!("@{proxy_host}:5432/db?sslmode=require")));
    assert!(!version["secret_string"].as_str().unwrap().contains("aws_db_instance.db.address"));
    // RDS Proxy reads `username` and `password` from that same secret.
    assert_eq!(values["username"], "app");
    assert!(values["password"].as_str().unwrap().contains("random_password"));
    let proxy = resource(&t, "prod", "databases.tf.json", "aws_db_proxy", "db");
    assert_eq!(proxy["engine_family"], "POSTGRESQL");
    assert_eq!(proxy["require_tls"], true);
    assert_eq!(proxy["auth"][0]["secret_arn"], "${aws_secretsmanager_secret.db_connection.arn}");
    assert_eq!(proxy["role_arn"], "${aws_iam_role.db_proxy.arn}");
    // The proxy's role reads exactly that secret.
    let policy = jsonencoded(&resource(&t, "prod", "iam.tf.json", "aws_iam_role_policy", "db_proxy")["policy"]);
    let read = &policy["Statement"][0];
    assert_eq!(read["Resource"], serde_json::json!(["${aws_secretsmanager_secret.db_connection.arn}"]));
    assert_eq!(
        policy["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"],
        "secretsmanager.us-east-1.amazonaws.com"
    );
    // The target is the instance; the target group is the proxy's default.
    let target = resource(&t, "prod", "databases.tf.json", "aws_db_proxy_target", "db");
    assert_eq!(target["db_instance_identifier"], "${aws_db_instance.db.identifier}");
    assert_eq!(target["target_group_name"], "${aws_db_proxy_default_target_group.db.name}");
    // Aurora: the cluster, and a read-only endpoint for its reader.
    let ledger = resource(&t, "prod", "databases.tf.json", "aws_db_proxy_target", "ledger");
    assert_eq!(ledger["db_cluster_identifier"], "${aws_rds_cluster.ledger.cluster_identifier}");
    let reader = resource(&t, "prod", "databases.tf.json", "aws_db_proxy_endpoint", "ledger_reader");
    assert_eq!(reader["target_role"], "READ_ONLY");
}

#[test]
fn the_proxy_shares_the_database_group_which_admits_the_cluster_and_itself() {
    let t = tree(PROXY);
    let rules = &t["terraform/prod/databases.tf.json"]["resource"]["aws_vpc_security_group_ingress_rule"];
    let into = |sg: &str| -> Vec<&Value> {
        let mut v: Vec<&Value> = rules
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["security_group_id"] == format!("${{aws_security_group.{sg}.id}}"))
            .map(|r| &r["referenced_security_group_id"])
            .collect();
        v.sort_by_key(|x| x.to_string());
        v
    };
    assert_eq!(into("db"), vec!["${aws_security_group.db.id}", "${local.cluster_security_group_id}"]);
    let proxy = resource(&t, "prod", "databases.tf.json", "aws_db_proxy", "db");
    assert_eq!(proxy["vpc_security_group_ids"], serde_json::json!(["${aws_security_group.db.id}"]));
    let egress = resource(&t, "prod", "databases.tf.json", "aws_vpc_security_group_egress_rule", "db_proxy_to_db");
    assert_eq!(egress["referenced_security_group_id"], "${aws_security_group.db.id}");
    assert_eq!(egress["from_port"], 5432);
    // In dev `ledger` is proxied and `db` runs in the cluster (no group).
    let dev = &t["terraform/dev/databases.tf.json"]["resource"];
    assert!(dev["aws_vpc_security_group_egress_rule"].get("ledger_proxy_to_db").is_some());
    assert!(dev["aws_vpc_security_group_ingress_rule"].get("db_from_proxy").is_none());
}

#[test]
fn an_environment_running_the_database_in_the_cluster_connects_directly() {
    let t = tree(PROXY);
    let dev = &t["terraform/dev/databases.tf.json"]["resource"];
    assert!(dev["aws_db_proxy"].get("db").is_none(), "dev runs db in the cluster");
    assert!(dev["aws_db_proxy"].get("ledger").is_some(), "dev runs ledger on Aurora");
}

#[test]
fn without_a_secrets_manager_store_the_proxy_reads_the_secret_rds_rotates() {
    let program = PROXY.replace("  secret_store = aws_secrets_manager { region = \"us-east-1\" }\n", "");
    let t = tree(&program);
    let proxy = resource(&t, "prod", "databases.tf.json", "aws_db_proxy", "db");
    assert_eq!(proxy["auth"][0]["secret_arn"], "${aws_db_instance.db.master_user_secret[0].secret_arn}");
    let db = resource(&t, "prod", "databases.tf.json", "aws_db_instance", "db");
    assert_eq!(db["manage_master_user_password"], true);
    let outputs = &t["terraform/prod/outputs.tf.json"]["output"];
    assert_eq!(outputs["db_proxy_endpoint"]["value"], "${aws_db_proxy.db.endpoint}");
}

#[test]
fn production_backups_reach_the_secondary_region() {
    let t = tree(REGION);
    let providers = &t["terraform/prod/main.tf.json"]["provider"]["aws"];
    assert_eq!(providers[1]["alias"], "secondary");
    assert_eq!(providers[1]["region"], "us-west-2");
    assert_eq!(providers[0].get("alias"), None);
    let recovery = "recovery.tf.json";
    // The replica bucket: in the secondary region, versioned (replication
    // needs it on both sides), encrypted with that region's key.
    let replica = resource(&t, "prod", recovery, "aws_s3_bucket", "backups_replica");
    assert_eq!(replica["provider"], "aws.secondary");
    assert_eq!(replica["bucket"], "${local.name}-backups-us-west-2");
    let versioning = resource(&t, "prod", recovery, "aws_s3_bucket_versioning", "backups_replica");
    assert_eq!(versioning["versioning_configuration"]["status"], "Enabled");
    assert_eq!(versioning["provider"], "aws.secondary");
    let source_versioning = resource(&t, "prod", "backups.tf.json", "aws_s3_bucket_versioning", "backups");
    assert_eq!(source_versioning["versioning_configuration"]["status"], "Enabled");
    let key = resource(&t, "prod", recovery, "aws_kms_key", "secondary");
    assert_eq!(key["provider"], "aws.secondary");
    let sse = resource(&t, "prod", recovery, "aws_s3_bucket_server_side_encryption_configuration", "backups_replica");
    assert_eq!(
        sse["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"],
        "${aws_kms_key.secondary.arn}"
    );
    // Replication from the primary bucket to it, with the 15 minutes the
    // checker counts.
    let repl = resource(&t, "prod", "backups.tf.json", "aws_s3_bucket_replication_configuration", "backups");
    assert!(repl.get("count").is_none());
    let dest = &repl["rule"][0]["destination"];
    assert_eq!(dest["bucket"], "${aws_s3_bucket.backups_replica.arn}");
    assert_eq!(dest["encryption_configuration"]["replica_kms_key_id"], "${aws_kms_key.secondary.arn}");
    assert_eq!(dest["replication_time"]["time"]["minutes"], 15);
    assert_eq!(repl["role"], "${aws_iam_role.backup_replication.arn}");
    let policy =
        jsonencoded(&resource(&t, "prod", "iam.tf.json", "aws_iam_role_policy", "backup_replication")["policy"]);
    let text = policy.to_string();
    assert!(text.contains("${aws_s3_bucket.backups_replica.arn}/*") && text.contains("${aws_kms_key.secondary.arn}"));
    // The managed database's backups are copied to the vault there.
    let vault = resource(&t, "prod", recovery, "aws_backup_vault", "secondary");
    assert_eq!(vault["provider"], "aws.secondary");
    assert_eq!(vault["kms_key_arn"], "${aws_kms_key.secondary.arn}");
    let plan = resource(&t, "prod", "backup.tf.json", "aws_backup_plan", "db");
    assert_eq!(plan["rule"][0]["copy_action"][0]["destination_vault_arn"], "${aws_backup_vault.secondary.arn}");
}

#[test]
fn other_environments_keep_their_backups_in_the_region() {
    let t = tree(REGION);
    assert!(!t.contains_key("terraform/staging/recovery.tf.json"));
    assert!(t["terraform/staging/main.tf.json"]["provider"]["aws"].is_object());
    let plan = resource(&t, "staging", "backup.tf.json", "aws_backup_plan", "db");
    assert!(plan["rule"][0].get("copy_action").is_none());
    let repl = resource(&t, "staging", "backups.tf.json", "aws_s3_bucket_replication_configuration", "backups");
    assert_eq!(repl["count"], "${var.backup_replica_bucket_arn == null ? 0 : 1}");
}

fn codes(text: &str) -> Vec<Code> {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    c.diagnostics.items.iter().map(|d| d.code).collect()
}

#[test]
fn the_rpo_check_counts_the_copy_to_the_secondary_region_in_production_only() {
    assert!(codes(REGION).is_empty());
    // Hourly dumps: 1h15m behind in us-west-2, more than the RPO of 1h.
    let hourly = REGION.replace("schedule = every_30m", "schedule = hourly");
    assert_eq!(codes(&hourly), vec![Code::E0340]);
    // The same dumps without a secondary region meet it.
    let no_region = hourly.replace("recovery { rpo = 1h rto = 4h region = \"us-west-2\" }", "recovery { rpo = 1h }");
    assert!(codes(&no_region).is_empty());
    // Hourly AWS Backup copies of the managed database: 1h15m against 1h.
    let tight = REGION.replace("recovery { rpo = 2h region", "recovery { rpo = 1h region");
    assert_eq!(codes(&tight), vec![Code::E0340]);
    // A staging-only program copies nothing, so nothing lags.
    let staging_only = hourly.replace("  production = true\n", "");
    assert!(codes(&staging_only).is_empty());
}

#[test]
fn an_in_cluster_mongodb_with_read_replicas_is_a_replica_set_its_clients_read_from() {
    let t = tree(MONGO);
    let sts = &t["k8s/prod/statefulset-docs.yaml"]["spec"];
    assert_eq!(sts["replicas"], 3);
    assert_eq!(sts["serviceName"], "docs");
    let pod = &sts["template"]["spec"];
    let script = pod["containers"][0]["command"][2].as_str().unwrap();
    assert!(script.contains("exec docker-entrypoint.sh mongod --replSet rs0 --keyFile /etc/mongo-keyfile/keyfile"));
    // Only member 0 creates the root user.
    assert!(script.contains("*-0) ;;") && script.contains("unset MONGO_INITDB_ROOT_USERNAME"));
    // The key file: copied from the Secret with mode 0400 into memory.
    let init = &pod["initContainers"][0];
    assert!(init["command"][2].as_str().unwrap().contains("chmod 0400 /etc/mongo-keyfile/keyfile"));
    let volumes = serde_json::to_string(&pod["volumes"]).unwrap();
    assert!(volumes.contains(r#""secretName":"docs-connection""#) && volumes.contains(r#""key":"keyfile""#));
    // The headless Service gives each member the name the URL and the Job use.
    assert_eq!(t["k8s/prod/service-docs.yaml"]["spec"]["clusterIP"], "None");
    let hosts: Vec<String> = (0..3).map(|i| format!("docs-{i}.docs.shop-prod.svc.cluster.local:27017")).collect();
    let job = &t["k8s/prod/job-docs-replica-set.yaml"];
    assert_eq!(job["metadata"]["annotations"]["argocd.argoproj.io/hook"], "PostSync");
    let env = serde_json::to_string(&job["spec"]["template"]["spec"]["containers"][0]["env"]).unwrap();
    assert!(env.contains(&format!(r#""name":"MEMBERS","value":"{}""#, hosts.join(" "))), "{env}");
    let job_script = job["spec"]["template"]["spec"]["containers"][0]["command"][2].as_str().unwrap();
    assert!(job_script.contains("replSetInitiate") && job_script.contains("replSetReconfig"));
    // The URL the pods read names every member, the set and the read preference.
    let secret = resource(&t, "prod", "secrets.tf.json", "aws_secretsmanager_secret_version", "docs_connection");
    let text = secret["secret_string"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "@{}/docs?authSource=admin&replicaSet=rs0&readPreference=secondaryPreferred",
            hosts.join(",")
        )),
        "{text}"
    );
    assert!(text.contains("keyfile = data.aws_secretsmanager_random_password.docs_connection_keyfile.random_password"));
    // Dev keeps a standalone member and the plain URL.
    assert_eq!(t["k8s/dev/statefulset-docs.yaml"]["spec"]["replicas"], 1);
    assert!(!t.contains_key("k8s/dev/job-docs-replica-set.yaml"));
    let dev = resource(&t, "dev", "secrets.tf.json", "aws_secretsmanager_secret_version", "docs_connection");
    assert!(!dev["secret_string"].as_str().unwrap().contains("replicaSet"));
}

#[test]
fn replica_set_members_and_its_job_may_reach_each_other() {
    let t = tree(MONGO);
    let p = &t["k8s/prod/networkpolicy-docs.yaml"]["spec"];
    let from = serde_json::to_string(&p["ingress"][0]["from"]).unwrap();
    assert!(from.contains(r#"{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"docs"}}}"#));
    assert!(from.contains(r#"{"podSelector":{"matchLabels":{"app.kubernetes.io/name":"docs-replica-set"}}}"#));
    assert_eq!(p["egress"][0]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "docs");
    assert_eq!(p["egress"][0]["ports"][0]["port"], 27017);
    let job = &t["k8s/prod/networkpolicy-docs-replica-set.yaml"]["spec"];
    assert_eq!(job["egress"][0]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "docs");
    // A standalone member needs no egress but DNS.
    assert!(t["k8s/dev/networkpolicy-docs.yaml"]["spec"].get("egress").is_none());
}

#[test]
fn a_managed_mongodb_gets_its_read_replicas_as_documentdb_instances() {
    let t = tree(MONGO);
    let instances = resource(&t, "prod", "databases.tf.json", "aws_docdb_cluster_instance", "catalog");
    assert_eq!(instances["count"], 3);
    let secret = resource(&t, "prod", "databases.tf.json", "aws_secretsmanager_secret_version", "catalog_connection");
    assert!(secret["secret_string"].as_str().unwrap().contains("replicaSet=rs0&readPreference=secondaryPreferred"));
}

#[test]
fn database_subnets_admit_the_vpc_only_both_ways() {
    let t = tree(PROXY);
    let (key, file) = t
        .iter()
        .find(|(k, v)| {
            k.starts_with("terraform/clusters/")
                && k.ends_with("/network.tf.json")
                && !v["resource"]["aws_vpc"].is_null()
        })
        .expect("a cluster root with the VPC");
    let r = &file["resource"];
    let acl = &r["aws_network_acl"]["database"];
    assert_eq!(acl["subnet_ids"], "${aws_subnet.database[*].id}", "{key}");
    let rules: Vec<&Value> = r["aws_network_acl_rule"].as_object().unwrap().values().collect();
    assert_eq!(rules.len(), 2);
    // Stateless: one rule in, one out, both the VPC's range, so replies to
    // clients' ephemeral ports leave and replies to the proxy come back.
    assert_eq!(rules.iter().filter(|x| x["egress"] == true).count(), 1);
    for rule in rules {
        assert_eq!(rule["network_acl_id"], "${aws_network_acl.database.id}");
        assert_eq!(rule["cidr_block"], "${var.vpc_cidr}");
        assert_eq!(rule["rule_action"], "allow");
        if rule["egress"] == false {
            // Every engine port and every ephemeral port, TCP.
            assert_eq!(
                (rule["protocol"].as_str(), &rule["from_port"], &rule["to_port"]),
                (Some("tcp"), &1024.into(), &65535.into())
            );
        } else {
            assert_eq!(rule["protocol"], "-1");
        }
    }
    // The nodes' and load balancers' subnets keep the default ACL.
    assert!(r["aws_network_acl"].as_object().unwrap().len() == 1);
}

#[test]
fn a_secondary_region_is_an_aws_region_name_or_nothing_reaches_the_output() {
    // The region is written into bucket names, provider blocks and the
    // architecture page: anything but a region name is refused first.
    for hostile in ["us-west-2\"}", "${var.x}", "us-west-2 ", "eu-west-1\nx", "US-WEST-2", "us-west-22a", "x", ""] {
        let text = REGION.replace(
            "region = \"us-west-2\" }\n}\n\nresource db",
            &format!("region = {hostile:?} }}\n}}\n\nresource db"),
        );
        assert_ne!(text, REGION);
        let codes = codes(&text);
        // `${` (an interpolation) and a line break the checker refuses in
        // their own ways.
        let other = hostile.contains("${") || hostile.contains('\n');
        let refused = codes.contains(&Code::E0432) || (other && !codes.is_empty());
        assert!(refused, "{hostile:?}: {codes:?}");
    }
    assert!(codes(&REGION.replace("us-west-2", "us-gov-west-1")).is_empty());
}
