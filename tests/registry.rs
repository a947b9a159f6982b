//! A GKE cluster pulls the project's ECR images, read as GKE, External
//! Secrets and IAM would: every built service's pods in a GKE environment
//! name the `ecr-pull` Secret; an ExternalSecret writes it as a
//! dockerconfigjson for the ECR host from an ECRAuthorizationToken
//! generator; the generator authenticates as a ServiceAccount whose role
//! ARN names the role the AWS shared root creates; that role trusts exactly
//! that ServiceAccount's token from the GKE cluster's issuer, which is the
//! issuer of the cluster the GCP root creates. Environments on EKS get none
//! of it, and an AKS standby still warns (W0015).

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

fn program(dr_cloud: &str) -> String {
    format!(
        r#"project shop {{
  repository = "github.com/acme/shop"
  registry   = ecr {{ region = "us-east-1" account = "123456789012" }}
  cloud      = aws {{ region = "us-east-1" }}
}}
service api {{
  language = node
  port     = 8080
  health   = http {{ path = "/healthz" }}
}}
service cache {{
  image = "redis:7"
  port  = 6379
}}
environment prod {{ promote = on_push("main") production = true }}
environment dr {{
  promote = manual(from = prod)
  cluster = "dr"
  cloud   = {dr_cloud}
}}
"#
    )
}

const GKE: &str = r#"gcp { project = "acme-dr" region = "us-central1" }"#;

fn tree(text: &str) -> BTreeMap<String, Value> {
    common::parsed_tree(text, &[Target::K8s, Target::Terraform, Target::Helm])
}

fn pull_secrets(t: &BTreeMap<String, Value>, path: &str) -> Vec<String> {
    t[path]
        .pointer("/spec/template/spec/imagePullSecrets")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r["name"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[test]
fn gke_pods_pull_with_the_secret_the_generator_refreshes() {
    let t = tree(&program(GKE));
    assert_eq!(pull_secrets(&t, "k8s/dr/deployment-api.yaml"), ["ecr-pull"]);
    // A prebuilt public image needs no ECR token; EKS nodes pull with their role.
    assert!(pull_secrets(&t, "k8s/dr/deployment-cache.yaml").is_empty());
    assert!(!t.keys().any(|p| p.starts_with("k8s/prod/") && p.contains("ecr-pull")));
    assert!(pull_secrets(&t, "k8s/prod/deployment-api.yaml").is_empty());

    let es = &t["k8s/dr/externalsecret-ecr-pull.yaml"];
    assert_eq!(es.pointer("/spec/target/name"), Some(&Value::from("ecr-pull")));
    assert_eq!(es.pointer("/spec/target/template/type"), Some(&Value::from("kubernetes.io/dockerconfigjson")));
    assert_eq!(es.pointer("/spec/dataFrom/0/sourceRef/generatorRef/kind"), Some(&Value::from("ECRAuthorizationToken")));
    let config = es.pointer("/spec/target/template/data/.dockerconfigjson").and_then(Value::as_str).expect("config");
    // Rendered the way External Secrets' template would, it is Docker's config for the ECR host.
    let rendered = config
        .replace("{{ .username }}", "AWS")
        .replace("{{ .password }}", "token")
        .replace("{{ printf `%s:%s` .username .password | b64enc }}", "QVdTOnRva2Vu");
    let auths: Value = serde_json::from_str(&rendered).expect("docker config JSON");
    assert_eq!(auths["auths"]["123456789012.dkr.ecr.us-east-1.amazonaws.com"]["auth"], "QVdTOnRva2Vu");

    let generator = &t["k8s/dr/ecrauthorizationtoken-ecr-pull.yaml"];
    assert_eq!(generator.pointer("/spec/region"), Some(&Value::from("us-east-1")));
    assert_eq!(generator.pointer("/spec/auth/jwt/serviceAccountRef/name"), Some(&Value::from("ecr-pull")));
    let sa = &t["k8s/dr/serviceaccount-ecr-pull.yaml"];
    let arn = sa.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").and_then(Value::as_str).expect("arn");
    let role = arn.strip_prefix("arn:aws:iam::123456789012:role/").expect("a role of the account");

    // The AWS shared root creates that role, trusting that ServiceAccount's
    // token from the issuer of the cluster the GCP root creates.
    let shared = &t["terraform/shared/github.tf.json"];
    let roles = shared.pointer("/resource/aws_iam_role").and_then(Value::as_object).expect("roles");
    let (id, _) = roles.iter().find(|(_, r)| r["name"] == role).expect("the role the ServiceAccount names");
    let trust = &shared["data"]["aws_iam_policy_document"][format!("{id}_assume")]["statement"][0];
    let provider = &shared["resource"]["aws_iam_openid_connect_provider"][id.as_str()];
    let issuer = provider["url"].as_str().expect("issuer");
    let gke = &t["terraform/gcp/clusters/dr/cluster.tf.json"]["resource"]["google_container_cluster"]["main"];
    let vars = &t["terraform/gcp/clusters/dr/main.tf.json"]["variable"];
    assert_eq!(
        issuer,
        format!(
            "https://container.googleapis.com/v1/projects/{}/locations/{}/clusters/{}",
            vars["project"]["default"].as_str().expect("project"),
            vars["region"]["default"].as_str().expect("region"),
            gke["name"].as_str().expect("name")
        )
    );
    let host = issuer.trim_start_matches("https://");
    let conditions = trust["condition"].as_array().expect("conditions");
    let values = |var: &str| conditions.iter().find(|c| c["variable"] == var).map(|c| c["values"].clone());
    assert_eq!(values(&format!("{host}:sub")), Some(serde_json::json!(["system:serviceaccount:shop-dr:ecr-pull"])));
    assert_eq!(values(&format!("{host}:aud")), Some(serde_json::json!(["sts.amazonaws.com"])));
    let policy = &shared["data"]["aws_iam_policy_document"][id.as_str()]["statement"];
    let actions: Vec<&str> = policy
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["actions"].as_array().into_iter().flatten().filter_map(Value::as_str))
        .collect();
    assert!(actions.contains(&"ecr:GetAuthorizationToken") && actions.contains(&"ecr:BatchGetImage"), "{actions:?}");
    assert!(!actions.iter().any(|a| a.contains("Put") || a.contains("Upload")), "pull only: {actions:?}");

    // The Helm chart carries the same objects and pull secret.
    let values = &t["helm/shop/values-dr.yaml"];
    let kinds: Vec<&str> =
        values["objects"].as_array().into_iter().flatten().filter_map(|o| o["kind"].as_str()).collect();
    assert!(kinds.contains(&"ECRAuthorizationToken") && kinds.contains(&"ExternalSecret"), "{kinds:?}");
}

#[test]
fn an_aks_standby_gets_no_token_and_is_warned() {
    let text = program(r#"azure { location = "eastus2" }"#);
    let c = deployc::compile("p.dpl", &text, &common::Disk);
    assert!(c.diagnostics.items.iter().any(|d| d.code.as_str() == "W0015"));
    let t = tree(&text);
    assert!(!t.keys().any(|p| p.contains("ecr-pull")));
    assert!(pull_secrets(&t, "k8s/dr/deployment-api.yaml").is_empty());
    let gke = deployc::compile("p.dpl", &program(GKE), &common::Disk);
    assert!(!gke.diagnostics.items.iter().any(|d| d.code.as_str() == "W0015"));
}
