//! A warm standby (`standby_of`): Route 53 fails the primary's public host
//! over to the standby on a health check that reaches a pod through
//! CloudFront (and that the WAF lets through), the standby's refresh job
//! acts as a role that trusts exactly its Google service account and
//! reads exactly the replica, and the job's scripts restore only while the
//! primary is healthy, stop for good once it is not, and restore nothing
//! when they cannot tell.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

const SOURCE: &str = include_str!("cases/pass/failover_standby.dpl");
const HOST: &str = "shop-prod.shop.acme.dev";

fn tree() -> BTreeMap<String, Value> {
    common::parsed_tree(SOURCE, &[Target::K8s, Target::Terraform, Target::Helm])
}

fn resource<'a>(t: &'a BTreeMap<String, Value>, file: &str, ty: &str, name: &str) -> &'a Value {
    let v = &t[file]["resource"][ty][name];
    assert!(!v.is_null(), "{ty}.{name} in {file}");
    v
}

fn pod(t: &BTreeMap<String, Value>) -> &Value {
    &t["k8s/dr/cronjob-docs-standby-refresh.yaml"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["containers"].as_array().unwrap())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("container {name}"))
}

fn env_of(c: &Value, name: &str) -> String {
    c["env"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == name))
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("{name} in {c}"))
        .to_string()
}

#[test]
fn route53_switches_the_public_host_on_a_health_check_through_cloudfront() {
    let t = tree();
    let hc = resource(&t, "terraform/prod/failover.tf.json", "aws_route53_health_check", "primary");
    assert_eq!(hc["fqdn"], "${aws_cloudfront_distribution.cdn.domain_name}");
    assert_eq!(hc["type"], "HTTPS");
    // `/healthz` on the host reaches `web` (route `/`), whose health path it is.
    assert_eq!(hc["resource_path"], "/healthz");
    let primary = resource(&t, "terraform/prod/cdn.tf.json", "aws_route53_record", "cdn_a");
    assert_eq!(primary["name"], HOST);
    assert_eq!(primary["failover_routing_policy"]["type"], "PRIMARY");
    // The record carries the calculated check over the probe, which the
    // standby's job latches; Terraform leaves its threshold alone.
    assert_eq!(primary["health_check_id"], "${aws_route53_health_check.failover.id}");
    let latch = resource(&t, "terraform/prod/failover.tf.json", "aws_route53_health_check", "failover");
    assert_eq!(latch["type"], "CALCULATED");
    assert_eq!(latch["child_healthchecks"][0], "${aws_route53_health_check.primary.id}");
    assert_eq!(latch["child_health_threshold"], 1);
    assert_eq!(latch["lifecycle"]["ignore_changes"][0], "child_health_threshold");
    // No AAAA record: the standby has no IPv6 address to fail over to.
    assert!(t["terraform/prod/cdn.tf.json"]["resource"]["aws_route53_record"].get("cdn_aaaa").is_none());
    let secondary = resource(&t, "terraform/prod/failover.tf.json", "aws_route53_record", "standby");
    assert_eq!(secondary["name"], HOST);
    assert_eq!(secondary["type"], "A");
    assert_eq!(secondary["failover_routing_policy"]["type"], "SECONDARY");
    assert_eq!(secondary["records"][0], "${var.standby_address}");
    assert_eq!(secondary["zone_id"], primary["zone_id"]);
    // The standby's root says what to set: its address.
    assert!(!t["terraform/gcp/dr/outputs.tf.json"]["output"]["ingress_address"].is_null());
}

#[test]
fn the_waf_admits_route53s_checkers_on_the_health_path_before_any_rule() {
    let t = tree();
    let acl = resource(&t, "terraform/prod/cdn.tf.json", "aws_wafv2_web_acl", "cdn");
    let rules = acl["rule"].as_array().unwrap();
    let first = &rules[0];
    assert_eq!(first["priority"], 0);
    assert!(first["action"].get("allow").is_some());
    let parts = first["statement"]["and_statement"]["statement"].as_array().unwrap();
    assert_eq!(parts[0]["ip_set_reference_statement"]["arn"], "${aws_wafv2_ip_set.route53_health_checks.arn}");
    assert_eq!(parts[1]["byte_match_statement"]["search_string"], "/healthz");
    assert_eq!(parts[1]["byte_match_statement"]["positional_constraint"], "EXACTLY");
    let set = resource(&t, "terraform/prod/cdn.tf.json", "aws_wafv2_ip_set", "route53_health_checks");
    assert_eq!(set["scope"], "CLOUDFRONT");
    assert_eq!(set["provider"], "aws.us_east_1");
    let ranges = &t["terraform/prod/cdn.tf.json"]["data"]["aws_ip_ranges"]["route53_health_checks"];
    assert_eq!(ranges["services"][0], "route53_healthchecks");
    let mut priorities: Vec<i64> = rules.iter().map(|r| r["priority"].as_i64().unwrap()).collect();
    priorities.dedup();
    assert_eq!(priorities, (0..rules.len() as i64).collect::<Vec<_>>());
}

#[test]
fn the_restore_role_trusts_exactly_the_standbys_google_account_and_reads_the_replica() {
    let t = tree();
    let file = "terraform/prod/failover.tf.json";
    let trust = &t[file]["data"]["aws_iam_policy_document"]["standby_restore_assume"]["statement"][0];
    assert_eq!(trust["principals"][0]["identifiers"][0], "accounts.google.com");
    let cond: BTreeMap<&str, &Value> = trust["condition"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["variable"].as_str().unwrap(), &c["values"][0]))
        .collect();
    assert_eq!(cond["accounts.google.com:aud"], "${var.standby_identity}");
    assert_eq!(cond["accounts.google.com:sub"], "${var.standby_identity}");
    assert_eq!(cond["accounts.google.com:oaud"], "sts.amazonaws.com");
    // The standby's root outputs the id the variable takes.
    assert_eq!(
        t["terraform/gcp/dr/outputs.tf.json"]["output"]["backup_identity"]["value"],
        "${google_service_account.backup.unique_id}"
    );
    let role = resource(&t, file, "aws_iam_role", "standby_restore");
    assert_eq!(role["tags"]["deployc.dev/health-check"], "${aws_route53_health_check.primary.id}");
    assert_eq!(role["tags"]["deployc.dev/failover-latch"], "${aws_route53_health_check.failover.id}");
    let pod = pod(&t);
    let decide = container(pod, "decide");
    assert_eq!(env_of(decide, "RESTORE_ROLE"), role["name"].as_str().unwrap());
    assert_eq!(
        env_of(decide, "AWS_ROLE_ARN"),
        format!("arn:aws:iam::123456789012:role/{}", role["name"].as_str().unwrap())
    );
    assert_eq!(env_of(container(pod, "token"), "TOKEN_AUDIENCE"), "sts.amazonaws.com");
    // The bucket it lists is the replica the primary's root creates.
    let replica = resource(&t, "terraform/prod/recovery.tf.json", "aws_s3_bucket", "backups_replica");
    assert_eq!(
        replica["bucket"].as_str().unwrap().replace("${local.name}", "shop-prod"),
        env_of(decide, "BACKUP_BUCKET")
    );
    assert_eq!(env_of(decide, "AWS_REGION"), "us-west-2");
    let actions: Vec<&str> = t[file]["data"]["aws_iam_policy_document"]["standby_restore"]["statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            "s3:ListBucket",
            "s3:GetObject",
            "kms:Decrypt",
            "route53:GetHealthCheckStatus",
            "route53:UpdateHealthCheck",
            "iam:ListRoleTags"
        ]
    );
    // The pod runs as the backup ServiceAccount, bound to the Google account.
    assert_eq!(pod["serviceAccountName"], "shop-backup");
    assert!(t["k8s/dr/serviceaccount-shop-backup.yaml"]["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
        .as_str()
        .is_some());
}

#[test]
fn the_database_admits_the_refresh_and_the_refresh_reaches_aws_and_the_metadata_server() {
    let t = tree();
    let db = &t["k8s/dr/networkpolicy-docs.yaml"]["spec"]["ingress"][0]["from"];
    assert!(db
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "docs-standby-refresh"));
    let np = &t["k8s/dr/networkpolicy-docs-standby-refresh.yaml"]["spec"];
    let egress = np["egress"].as_array().unwrap();
    assert!(egress.iter().any(|e| e["ports"][0]["port"] == 27017));
    assert!(egress.iter().any(|e| e["ports"][0]["port"] == 443));
    assert!(egress.iter().any(|e| e["to"][0]["ipBlock"]["cidr"] == "169.254.169.254/32"));
    // The primary has no refresh job.
    assert!(!t.contains_key("k8s/prod/cronjob-docs-standby-refresh.yaml"));
    // The chart carries it too.
    let values = &t["helm/shop/values-dr.yaml"];
    assert!(values.to_string().contains("docs-standby-refresh"));
}

// ------------------------------------------------------------------ scripts

struct Sandbox {
    _dir: tempfile::TempDir,
    work: std::path::PathBuf,
    bin: std::path::PathBuf,
    log: std::path::PathBuf,
}

fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.path().join("calls.log");
    let l = log.display();
    // aws: the role's tag, the health check's (seen, ok), the newest key, a copy.
    let aws = format!(
        "#!/bin/sh\necho \"aws $*\" >> '{l}'\n[ -n \"${{AWS_DOWN:-}}\" ] && exit 255\n\
         case \"$1 $2\" in\n\
         'iam list-role-tags') case \"$*\" in *failover-latch*) echo \"${{LATCH_ID-latch-1}}\" ;; *) echo \"$HC_ID\" ;; esac ;;\n\
         'route53 update-health-check') if [ -n \"${{LATCH_DOWN:-}}\" ]; then exit 254; fi ;;\n\
         'route53 get-health-check-status') printf '%s\\t%s\\n' \"$SEEN\" \"$OK\" ;;\n\
         's3api list-objects-v2') echo \"$NEWEST\" ;;\n\
         's3 cp') echo dump > \"$4\" ;;\n\
         esac\n"
    );
    let mongosh = format!("#!/bin/sh\nfor a; do last=$a; done\necho \"mongosh $last KEY=${{KEY:-}}\" >> '{l}'\n");
    let mongorestore = format!("#!/bin/sh\necho \"mongorestore $*\" >> '{l}'\n");
    for (name, text) in [("aws", aws), ("mongosh", mongosh), ("mongorestore", mongorestore)] {
        std::fs::write(bin.join(name), text).unwrap();
        Command::new("chmod").arg("+x").arg(bin.join(name)).status().unwrap();
    }
    Sandbox { _dir: dir, work, bin, log }
}

impl Sandbox {
    /// Runs one container's script as Kubernetes would hand it to the shell.
    fn run(&self, c: &Value, vars: &[(&str, &str)]) -> std::process::Output {
        let script = c["command"][2]
            .as_str()
            .unwrap()
            .replace("$$", "$")
            .replace("/work/", &format!("{}/", self.work.display()));
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script).env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()));
        for e in c["env"].as_array().unwrap() {
            if let Some(v) = e["value"].as_str() {
                cmd.env(e["name"].as_str().unwrap(), v);
            }
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
    fn read(&self, f: &str) -> String {
        std::fs::read_to_string(self.work.join(f)).unwrap_or_default()
    }
    fn calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    fn state(&self, s: &str) {
        std::fs::write(self.work.join("state"), s).unwrap();
    }
}

const HEALTHY: &[(&str, &str)] =
    &[("HC_ID", "hc-1"), ("SEEN", "16"), ("OK", "15"), ("NEWEST", "docs/docs-2.archive.gz")];

#[test]
fn a_healthy_primary_with_a_newer_dump_is_restored_and_recorded() {
    let t = tree();
    let s = sandbox();
    s.state("docs/docs-1.archive.gz");
    let out = s.run(container(pod(&t), "decide"), HEALTHY);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(s.read("action").trim(), "restore");
    assert_eq!(s.read("key"), "docs/docs-2.archive.gz");
    assert!(s.calls().contains("get-health-check-status --health-check-id hc-1"), "{}", s.calls());
    let out = s.run(container(pod(&t), "restore"), &[("MONGO_PASSWORD", "pw")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let calls = s.calls();
    let restore = calls.lines().find(|l| l.starts_with("mongorestore")).expect("mongorestore ran");
    for arg in ["--drop", "--nsExclude admin.*", "--nsExclude deployc_standby.*", "--nsExclude local.*"] {
        assert!(restore.contains(arg), "{arg} in {restore}");
    }
    assert!(calls.contains("restored: process.env.KEY") && calls.contains("KEY=docs/docs-2.archive.gz"), "{calls}");
}

#[test]
fn a_dump_already_restored_is_not_restored_again() {
    let t = tree();
    let s = sandbox();
    s.state("docs/docs-2.archive.gz");
    assert!(s.run(container(pod(&t), "decide"), HEALTHY).status.success());
    assert_eq!(s.read("action").trim(), "none");
    assert!(!s.calls().contains("s3 cp"));
    assert!(s.run(container(pod(&t), "restore"), &[("MONGO_PASSWORD", "pw")]).status.success());
    assert!(!s.calls().contains("mongorestore"));
}

#[test]
fn a_failing_primary_stops_the_refresh_for_good_and_says_so_once() {
    let t = tree();
    let s = sandbox();
    s.state("docs/docs-1.archive.gz");
    // 2 of 16 checkers pass: 12.5%, not above Route 53's 18%.
    let failing = [("HC_ID", "hc-1"), ("SEEN", "16"), ("OK", "2"), ("NEWEST", "docs/docs-2.archive.gz")];
    assert!(s.run(container(pod(&t), "decide"), &failing).status.success());
    assert_eq!(s.read("action").trim(), "serve");
    assert!(!s.calls().contains("s3 cp"), "nothing is fetched");
    // The failover is held first: Route 53 must not fail back onto older data.
    assert!(s.calls().contains("update-health-check --health-check-id latch-1 --health-threshold 2"), "{}", s.calls());
    let out = s.run(container(pod(&t), "restore"), &[("MONGO_PASSWORD", "pw")]);
    assert!(!out.status.success(), "the first failover fails the Job, which alerts");
    assert!(s.calls().contains("serving: true"));
    assert!(!s.calls().contains("mongorestore"));
    // From then on the standby is disarmed, whatever the primary's health.
    let s = sandbox();
    s.state("serving");
    assert!(s.run(container(pod(&t), "decide"), HEALTHY).status.success());
    assert_eq!(s.read("action").trim(), "disarmed");
    assert!(!s.calls().contains("aws "), "no AWS call once disarmed");
    assert!(s.run(container(pod(&t), "restore"), &[("MONGO_PASSWORD", "pw")]).status.success());
    assert!(!s.calls().contains("mongorestore"));
}

#[test]
fn a_refresh_that_cannot_tell_fails_and_restores_nothing() {
    let t = tree();
    for vars in [
        vec![("AWS_DOWN", "1")],
        vec![("HC_ID", "None"), ("SEEN", "16"), ("OK", "16"), ("NEWEST", "k")],
        vec![("HC_ID", "hc-1"), ("SEEN", "0"), ("OK", "0"), ("NEWEST", "k")],
        // A failover it cannot hold is not recorded: the next run tries again.
        vec![("HC_ID", "hc-1"), ("SEEN", "16"), ("OK", "0"), ("NEWEST", "k"), ("LATCH_DOWN", "1")],
        vec![("HC_ID", "hc-1"), ("SEEN", "16"), ("OK", "0"), ("NEWEST", "k"), ("LATCH_ID", "None")],
    ] {
        let s = sandbox();
        s.state("");
        let out = s.run(container(pod(&t), "decide"), &vars);
        assert!(!out.status.success(), "{vars:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("STANDBY REFRESH FAILED"), "{vars:?}");
        assert_eq!(s.read("action"), "", "{vars:?}");
    }
}

#[test]
fn the_standby_counts_toward_the_rpo() {
    // every_30m + 15 min replication meets 50m; the standby's 15 min more do not.
    let text = SOURCE.replace("rpo = 1h", "rpo = 50m");
    let c = deployc::compile("p.dpl", &text, &common::Disk);
    let e: Vec<_> = c.diagnostics.items.iter().filter(|d| d.code.as_str() == "E0340").collect();
    assert_eq!(e.len(), 1, "{:?}", c.diagnostics.items.iter().map(|d| &d.message).collect::<Vec<_>>());
    assert!(e[0].message.contains("1h"), "{}", e[0].message);
    let without = text.replace("  standby_of = prod\n", "");
    let c = deployc::compile("p.dpl", &without, &common::Disk);
    assert!(c.diagnostics.items.iter().all(|d| d.code.as_str() != "E0340"));
}

#[test]
fn the_standby_serves_the_primarys_host_with_a_certificate_issued_through_cloudfront() {
    let t = tree();
    // An Ingress per route for the primary's host, beside the standby's own.
    for s in ["web", "api"] {
        let own = &t[&format!("k8s/dr/ingress-{s}.yaml")]["spec"];
        let failover = &t[&format!("k8s/dr/ingress-{s}-failover.yaml")];
        assert_eq!(failover["spec"]["rules"][0]["host"], HOST);
        assert_eq!(failover["spec"]["rules"][0]["http"], own["rules"][0]["http"]);
        assert_eq!(failover["spec"]["tls"][0]["hosts"][0], HOST);
        assert_eq!(failover["spec"]["tls"][0]["secretName"], format!("{s}-failover-tls"));
        assert_eq!(failover["metadata"]["annotations"]["cert-manager.io/cluster-issuer"], "letsencrypt");
    }
    let own_host = t["k8s/dr/ingress-web.yaml"]["spec"]["rules"][0]["host"].as_str().unwrap().to_string();
    assert_ne!(own_host, HOST);
    // CloudFront sends the host's ACME challenges to the standby's own name,
    // over HTTP to the solver, with the viewer's Host, before any other path.
    let cdn = resource(&t, "terraform/prod/cdn.tf.json", "aws_cloudfront_distribution", "cdn");
    let origin = cdn["origin"].as_array().unwrap().iter().find(|o| o["origin_id"] == "standby").expect("origin");
    assert_eq!(origin["domain_name"], own_host.as_str());
    assert_eq!(origin["custom_origin_config"][0]["origin_protocol_policy"], "http-only");
    let acme = &cdn["ordered_cache_behavior"][0];
    assert_eq!(acme["path_pattern"], "/.well-known/acme-challenge/*");
    assert_eq!(acme["target_origin_id"], "standby");
    assert_eq!(acme["viewer_protocol_policy"], "redirect-to-https");
    assert_eq!(acme["origin_request_policy_id"], "${data.aws_cloudfront_origin_request_policy.all_viewer.id}");
    assert_eq!(
        t["terraform/prod/data.tf.json"]["data"]["aws_cloudfront_origin_request_policy"]["all_viewer"]["name"],
        "Managed-AllViewer"
    );
    // The WAF lets the certificate authority's validators through.
    let acl = resource(&t, "terraform/prod/cdn.tf.json", "aws_wafv2_web_acl", "cdn");
    let rule = acl["rule"].as_array().unwrap().iter().find(|r| r["name"] == "acme-challenges").expect("rule");
    assert!(rule["action"].get("allow").is_some());
    assert_eq!(rule["statement"]["byte_match_statement"]["search_string"], "/.well-known/acme-challenge/");
    // The standby's own name resolves to its address.
    let rec = resource(&t, "terraform/prod/failover.tf.json", "aws_route53_record", "standby_host");
    assert_eq!(rec["name"], own_host.as_str());
    assert_eq!(rec["records"][0], "${var.standby_address}");
    // The primary serves no failover route of its own.
    assert!(!t.contains_key("k8s/prod/ingress-web-failover.yaml"));
}
