//! Workload identities on AWS (IRSA) read as EKS would: every ServiceAccount
//! of a service that uses a queue, bucket or managed Redis names, by ARN, a
//! role the environment's Terraform creates under that name, trusting
//! exactly that ServiceAccount in that namespace, with a policy on the
//! resources it uses; and the cluster autoscaler runs in every created
//! cluster as the ServiceAccount its Terraform role trusts.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

fn tree(text: &str) -> BTreeMap<String, Value> {
    common::parsed_tree(text, &[Target::K8s, Target::Terraform, Target::Argocd])
}

fn program(account: &str) -> String {
    format!(
        r#"project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
  cloud      = aws {{ region = "eu-west-1"{account} }}
}}
resource jobs = queue {{}}
resource uploads = bucket {{}}
resource db = postgres {{ placement = managed }}
service api {{
  language        = go
  port            = 8080
  health          = http {{ path = "/healthz" }}
  service_account = "shop-app"
  env {{ JOBS_QUEUE = jobs.url }}
}}
service worker {{
  kind            = worker
  language        = go
  service_account = "shop-app"
  env {{ UPLOADS_BUCKET = uploads.name }}
}}
service reports {{
  language = go
  port     = 8081
  health   = http {{ path = "/healthz" }}
  env {{ DATABASE_URL = db.url }}
}}
environment dev {{ promote = on_push("main") }}
environment prod {{ promote = manual(from = dev) }}
"#
    )
}

fn role_arn(sa: &Value) -> Option<&str> {
    sa.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").and_then(Value::as_str)
}

#[test]
fn service_accounts_name_the_role_terraform_creates_for_them() {
    let t = tree(&program(" account = \"123456789012\""));
    for env in ["dev", "prod"] {
        let sa = &t[&format!("k8s/{env}/serviceaccount-shop-app.yaml")];
        let ns = sa.pointer("/metadata/namespace").and_then(Value::as_str).expect("namespace");
        assert_eq!(role_arn(sa), Some(format!("arn:aws:iam::123456789012:role/shop-{env}-shop-app").as_str()));
        // A service that uses only Postgres assumes no role.
        assert_eq!(role_arn(&t[&format!("k8s/{env}/serviceaccount-reports.yaml")]), None);

        let irsa = &t[&format!("terraform/{env}/irsa.tf.json")];
        let main = &t[&format!("terraform/{env}/main.tf.json")];
        let local = |k: &str| main.pointer(&format!("/locals/{k}")).and_then(Value::as_str).expect(k).to_string();
        let name = irsa
            .pointer("/resource/aws_iam_role/service_shop_app/name")
            .and_then(Value::as_str)
            .expect("role")
            .replace("${local.name}", &local("name"));
        assert_eq!(format!("arn:aws:iam::123456789012:role/{name}"), role_arn(sa).expect("arn"));
        // Trust: exactly this ServiceAccount in this namespace.
        let cond = irsa
            .pointer("/data/aws_iam_policy_document/service_shop_app_assume/statement/0/condition/0/values")
            .expect("subjects");
        let subjects: Vec<String> = cond
            .as_array()
            .expect("list")
            .iter()
            .map(|v| v.as_str().expect("str").replace("${local.namespace}", &local("namespace")))
            .collect();
        assert_eq!(subjects, vec![format!("system:serviceaccount:{ns}:shop-app")]);
        // Policy: the two resources the services running as it use, nothing else.
        let statements = irsa.pointer("/data/aws_iam_policy_document/service_shop_app/statement").expect("policy");
        let resources: Vec<&str> = statements
            .as_array()
            .expect("list")
            .iter()
            .flat_map(|s| s["resources"].as_array().expect("resources").iter().map(|r| r.as_str().expect("str")))
            .collect();
        assert!(resources.contains(&"${aws_sqs_queue.jobs.arn}"), "{resources:?}");
        assert!(resources.contains(&"${aws_s3_bucket.uploads.arn}/*"), "{resources:?}");
        assert!(resources.iter().all(|r| !r.contains('*') || r.ends_with("uploads.arn}/*")), "{resources:?}");
        assert!(irsa.pointer("/resource/aws_iam_role/service_reports").is_none());
    }
}

#[test]
fn the_cluster_autoscaler_runs_as_its_terraform_role() {
    let t = tree(&program(" account = \"123456789012\""));
    let app = t
        .iter()
        .find(|(p, _)| p.starts_with("argocd/addons/application-shop-cluster-autoscaler"))
        .map(|(_, v)| v)
        .expect("autoscaler application");
    let values: Value =
        serde_yaml_ng::from_str(app.pointer("/spec/source/helm/values").and_then(Value::as_str).expect("values"))
            .expect("values parse");
    let cluster_root =
        t.keys().find(|p| p.starts_with("terraform/clusters/") && p.ends_with("/irsa.tf.json")).expect("root");
    let dir = cluster_root.trim_end_matches("/irsa.tf.json");
    let main = &t[&format!("{dir}/main.tf.json")];
    let name = main.pointer("/locals/name").and_then(Value::as_str).expect("local.name");
    assert_eq!(values.pointer("/autoDiscovery/clusterName").and_then(Value::as_str), Some(name));
    let sa = values.pointer("/rbac/serviceAccount").expect("sa");
    assert_eq!(sa["name"], "cluster-autoscaler");
    assert_eq!(
        sa.pointer("/annotations/eks.amazonaws.com~1role-arn").and_then(Value::as_str),
        Some(format!("arn:aws:iam::123456789012:role/{name}-cluster-autoscaler").as_str())
    );
    let irsa = &t[cluster_root];
    assert_eq!(
        irsa.pointer("/resource/aws_iam_role/cluster_autoscaler/name").and_then(Value::as_str),
        Some("${local.name}-cluster-autoscaler")
    );
    let subjects =
        irsa.pointer("/data/aws_iam_policy_document/cluster_autoscaler_assume/statement/0/condition/0/values");
    assert_eq!(subjects, Some(&serde_json::json!(["system:serviceaccount:kube-system:cluster-autoscaler"])));
}

#[test]
fn without_an_account_nothing_names_a_role() {
    let t = tree(&program(""));
    assert_eq!(role_arn(&t["k8s/dev/serviceaccount-shop-app.yaml"]), None);
    assert!(!t.keys().any(|p| p.contains("cluster-autoscaler")), "no autoscaler without credentials");
}
