//! Volume backups read as Velero and AWS read them: every Schedule names a
//! storage and snapshot location the Velero chart of its cluster creates;
//! the role on Velero's ServiceAccount is the role the cluster's Terraform
//! root creates, trusted by exactly that ServiceAccount in the namespace
//! Velero is installed in, and allowed on exactly the bucket its storage
//! location names; the Sealed Secrets keys' Schedule selects the label the
//! controller puts on its keys, in the namespace it is installed in; and
//! each Schedule's TTL is the program's `retain`.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::BTreeMap;

/// The label the Sealed Secrets controller puts on every key Secret it
/// generates (`sealedsecrets.bitnami.com/sealed-secrets-key: active`), as
/// the controller's code names it; written here, not taken from deployc.
const SEALED_KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

struct Out {
    files: BTreeMap<String, Value>,
    /// Per environment namespace, `retain` in minutes.
    retain: BTreeMap<String, u64>,
    account: String,
}

fn build(name: &str, text: &str) -> Out {
    let c = deployc::compile(name, text, &common::Disk);
    let errs: Vec<String> = c.diagnostics.items.iter().map(|d| format!("{}: {}", d.code.as_str(), d.message)).collect();
    let Some((model, graph)) = c.output else { panic!("{name}: {errs:?}") };
    let files =
        emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s, Target::Argocd, Target::Terraform])
            .into_iter()
            .filter_map(|a| {
                let v: Value = if a.path.ends_with(".yaml") {
                    serde_yaml_ng::from_str(&a.contents).ok()?
                } else if a.path.ends_with(".json") {
                    serde_json::from_str(&a.contents).ok()?
                } else {
                    return None;
                };
                Some((a.path.clone(), v))
            })
            .collect();
    let retain = model
        .environments
        .iter()
        .filter_map(|e| e.volume_backups.as_ref().map(|v| (e.namespace.clone(), v.retain_minutes)))
        .collect();
    Out { files, retain, account: model.aws_account().unwrap_or_default().to_string() }
}

/// Go's `time.ParseDuration` for the units Velero's TTLs use, in minutes.
fn go_minutes(d: &str) -> u64 {
    let (mut total, mut num) = (0f64, String::new());
    let mut chars = d.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: f64 = num.parse().unwrap_or_else(|_| panic!("bad duration {d}"));
        num.clear();
        total += match unit.as_str() {
            "h" => n * 60.0,
            "m" => n,
            "s" => n / 60.0,
            "ms" => n / 60_000.0,
            u => panic!("unit {u} in {d}"),
        };
    }
    assert!(num.is_empty(), "duration {d} ends without a unit");
    total.round() as u64
}

fn app<'a>(out: &'a Out, path: &str) -> &'a Value {
    out.files.get(path).unwrap_or_else(|| panic!("{path} missing"))
}

/// `${local.name}` and friends as Terraform evaluates them in a root.
fn resolve(root: &Value, s: &str) -> String {
    let mut s = s.to_string();
    if let Some(locals) = root["locals"].as_object() {
        for (k, v) in locals {
            if let Some(v) = v.as_str() {
                s = s.replace(&format!("${{local.{k}}}"), v);
            }
        }
    }
    s
}

fn check(name: &str, text: &str) -> usize {
    let out = build(name, text);
    let mut checked = 0;
    let schedules: Vec<(&String, &Value)> =
        out.files.iter().filter(|(p, v)| p.starts_with("k8s/_addons/") && v["kind"] == "Schedule").collect();
    assert!(!schedules.is_empty(), "{name}: no Schedule");
    for (path, schedule) in schedules {
        // k8s/_addons/<key>/velero/schedule-<name>.yaml
        let key = path.split('/').nth(2).expect("cluster key");
        let folder = path.rsplit_once('/').expect("folder").0;
        // The Application applying the folder, and Velero's in that cluster.
        let apps: Vec<&Value> =
            out.files.iter().filter(|(p, _)| p.starts_with("argocd/addons/application-")).map(|(_, v)| v).collect();
        let schedules_app = apps
            .iter()
            .find(|a| a["spec"]["source"]["path"].as_str().is_some_and(|p| p.ends_with(folder)))
            .unwrap_or_else(|| panic!("{name}: no Application applies {folder}"));
        let dest = &schedules_app["spec"]["destination"];
        let velero = apps
            .iter()
            .find(|a| {
                a["spec"]["source"]["chart"] == "velero"
                    && a["spec"]["destination"]["server"] == dest["server"]
                    && a["spec"]["destination"]["name"] == dest["name"]
            })
            .unwrap_or_else(|| panic!("{name}: no Velero chart in the cluster of {folder}"));
        let velero_ns = velero["spec"]["destination"]["namespace"].as_str().expect("namespace");
        assert_eq!(schedule["metadata"]["namespace"], velero_ns, "{path}: a Schedule lives in Velero's namespace");
        let values: Value =
            serde_yaml_ng::from_str(velero["spec"]["source"]["helm"]["values"].as_str().expect("values"))
                .expect("values YAML");
        // The storage location exists, and the snapshot locations.
        let bsl = values["configuration"]["backupStorageLocation"].as_array().expect("locations");
        let location = schedule["spec"]["template"]["storageLocation"].as_str().expect("storageLocation");
        let bsl =
            bsl.iter().find(|l| l["name"] == location).unwrap_or_else(|| panic!("{path}: no location {location}"));
        assert_eq!(bsl["provider"], "aws");
        if schedule["spec"]["template"]["snapshotVolumes"] == true {
            let vsl = values["configuration"]["volumeSnapshotLocation"].as_array().expect("snapshot locations");
            for l in
                schedule["spec"]["template"]["volumeSnapshotLocations"].as_array().expect("snapshot location names")
            {
                let v =
                    vsl.iter().find(|v| v["name"] == *l).unwrap_or_else(|| panic!("{path}: no snapshot location {l}"));
                assert_eq!(v["config"]["region"], bsl["config"]["region"]);
            }
        }
        // Credentials come from the role, not from a Secret.
        let params = velero["spec"]["source"]["helm"]["parameters"].as_array().expect("parameters");
        assert!(
            params.iter().any(|p| p["name"] == "credentials.useSecret" && p["value"] == "false"),
            "{name}: useSecret"
        );
        // The role on the ServiceAccount is the role Terraform creates.
        let sa = values["serviceAccount"]["server"]["name"].as_str().expect("ServiceAccount");
        let arn =
            values["serviceAccount"]["server"]["annotations"]["eks.amazonaws.com/role-arn"].as_str().expect("role");
        let root = format!("terraform/clusters/{key}");
        let main = app(&out, &format!("{root}/main.tf.json"));
        let irsa = app(&out, &format!("{root}/irsa.tf.json"));
        let tf = app(&out, &format!("{root}/velero.tf.json"));
        let (role_id, role) = irsa["resource"]["aws_iam_role"]
            .as_object()
            .expect("roles")
            .iter()
            .find(|(_, r)| {
                format!("arn:aws:iam::{}:role/{}", out.account, resolve(main, r["name"].as_str().unwrap_or_default()))
                    == arn
            })
            .unwrap_or_else(|| panic!("{name}: {root} creates no role {arn}"));
        // Its trust names exactly that ServiceAccount.
        let assume = role["assume_role_policy"].as_str().expect("trust");
        let doc = assume.trim_start_matches("${data.aws_iam_policy_document.").trim_end_matches(".json}");
        let trust = &irsa["data"]["aws_iam_policy_document"][doc]["statement"][0];
        let sub = trust["condition"]
            .as_array()
            .expect("conditions")
            .iter()
            .find(|c| c["variable"].as_str().is_some_and(|v| v.ends_with(":sub")))
            .expect("sub");
        assert_eq!(sub["test"], "StringEquals");
        assert_eq!(
            sub["values"],
            serde_json::json!([format!("system:serviceaccount:{velero_ns}:{sa}")]),
            "{name}: trust"
        );
        // Its policy names the bucket Terraform creates, which the location names.
        let buckets = tf["resource"]["aws_s3_bucket"].as_object().expect("bucket");
        let (bucket_id, bucket) = buckets.iter().next().expect("one bucket");
        assert_eq!(
            resolve(main, bucket["bucket"].as_str().expect("name")),
            bsl["bucket"].as_str().expect("bsl bucket"),
            "{name}: bucket"
        );
        let policy = &irsa["data"]["aws_iam_policy_document"][role_id.as_str()]["statement"];
        let on = |action: &str| -> Vec<String> {
            policy
                .as_array()
                .expect("statements")
                .iter()
                .filter(|s| s["actions"].as_array().is_some_and(|a| a.iter().any(|x| x == action)))
                .flat_map(|s| s["resources"].as_array().cloned().unwrap_or_default())
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        };
        let arn_ref = format!("${{aws_s3_bucket.{bucket_id}.arn}}");
        assert_eq!(on("s3:ListBucket"), vec![arn_ref.clone()], "{name}: ListBucket");
        for a in ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] {
            assert_eq!(on(a), vec![format!("{arn_ref}/*")], "{name}: {a}");
        }
        for a in ["ec2:CreateSnapshot", "ec2:CreateVolume", "ec2:DeleteSnapshot", "ec2:DescribeVolumes"] {
            assert!(!on(a).is_empty(), "{name}: {a}");
        }
        // What the Schedule selects, and for how long.
        let t = &schedule["spec"]["template"];
        let ttl = go_minutes(t["ttl"].as_str().expect("ttl"));
        let namespaces: Vec<&str> =
            t["includedNamespaces"].as_array().expect("namespaces").iter().filter_map(Value::as_str).collect();
        let selects_keys = t["labelSelector"]["matchExpressions"]
            .as_array()
            .is_some_and(|m| m.iter().any(|e| e["key"] == SEALED_KEY_LABEL && e["operator"] == "Exists"))
            || t["labelSelector"]["matchLabels"].get(SEALED_KEY_LABEL).is_some();
        if selects_keys {
            let sealed = apps
                .iter()
                .find(|a| {
                    a["spec"]["source"]["chart"] == "sealed-secrets"
                        && a["spec"]["destination"]["server"] == dest["server"]
                        && a["spec"]["destination"]["name"] == dest["name"]
                })
                .expect("sealed-secrets in the cluster");
            assert_eq!(
                namespaces,
                vec![sealed["spec"]["destination"]["namespace"].as_str().expect("ns")],
                "{path}: keys' namespace"
            );
            assert_eq!(t["includedResources"], serde_json::json!(["secrets"]));
            // Kept as long as the longest `retain` of the cluster's environments.
            let longest = out
                .files
                .iter()
                .filter(|(p, v)| p.starts_with(&format!("{folder}/")) && v["kind"] == "Schedule")
                .flat_map(|(_, v)| v["spec"]["template"]["includedNamespaces"].as_array().cloned().unwrap_or_default())
                .filter_map(|n| n.as_str().and_then(|n| out.retain.get(n)).copied())
                .max();
            assert_eq!(Some(ttl), longest, "{path}: TTL");
        } else {
            assert_eq!(namespaces.len(), 1);
            assert_eq!(t["snapshotVolumes"], true, "{path}: snapshots");
            assert_eq!(Some(ttl), out.retain.get(namespaces[0]).copied(), "{path}: TTL = retain");
        }
        checked += 1;
    }
    // Under Sealed Secrets every cluster with Velero backs the keys up.
    let sealed_program = text.contains("sealed_secrets");
    let key_schedules = out.files.iter().filter(|(p, _)| p.ends_with("/schedule-sealed-secrets-keys.yaml")).count();
    let clusters =
        out.files.keys().filter(|p| p.starts_with("terraform/clusters/") && p.ends_with("/velero.tf.json")).count();
    assert_eq!(key_schedules, if sealed_program { clusters } else { 0 }, "{name}: keys' Schedules");
    checked
}

#[test]
fn the_example_backs_up_volumes_and_sealed_keys() {
    let text = std::fs::read_to_string("examples/austa-cockpit.dpl").expect("example");
    assert_eq!(check("examples/austa-cockpit.dpl", &text), 4);
}

#[test]
fn the_case_backs_up_on_its_own_cadence() {
    let path = "tests/cases/pass/volume_backups_sealed.dpl";
    let text = std::fs::read_to_string(path).expect("case");
    assert_eq!(check(path, &text), 4);
}

#[test]
fn without_sealed_secrets_no_keys_are_backed_up() {
    let path = "tests/cases/pass/volume_backups_sealed.dpl";
    let text = std::fs::read_to_string(path).expect("case");
    let text = text.replace("  secret_store = sealed_secrets { controller_namespace = \"kube-system\" }\n", "");
    assert_eq!(check(path, &text), 2);
}

#[test]
fn go_durations_read_as_velero_reads_them() {
    assert_eq!(go_minutes("720h0m0s"), 720 * 60);
    assert_eq!(go_minutes("1h30m"), 90);
}

#[test]
fn the_keys_are_backed_up_where_the_controller_runs() {
    let path = "tests/cases/pass/volume_backups_sealed.dpl";
    let text = std::fs::read_to_string(path).expect("case");
    let text = text.replace("controller_namespace = \"kube-system\"", "controller_namespace = \"sealed-secrets\"");
    assert_eq!(check(path, &text), 4);
}
