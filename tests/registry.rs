//! A GKE cluster pulls the project's ECR images natively, from a copy CI
//! pushes to Artifact Registry in the cluster's project, read as GKE,
//! kustomize, IAM and the CIs would: the GKE environment's kustomization
//! renames every released image to `REGION-docker.pkg.dev/PROJECT/REPO/SERVICE`
//! with the same tag, and its Helm values name that repository; no pod
//! needs a pull secret; the GCP shared root creates that repository and
//! grants CI's service account (keyless from GitHub Actions, through the
//! Workload Identity pool, for this repository only) `artifactregistry.writer`
//! on it, and the cluster root grants the nodes' service account
//! `artifactregistry.reader` on the same repository; each CI copies every
//! image it pushes there, with the values in environment variables.
//! Environments on EKS keep ECR, and an AKS standby still warns (W0015).

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

fn program(dr_cloud: &str, ci: &str) -> String {
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
pipeline {{ provider = {ci} }}
"#
    )
}

const GKE: &str = r#"gcp { project = "acme-dr" region = "us-central1" }"#;
const COPY: &str = "us-central1-docker.pkg.dev/acme-dr/shop/api";
const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api";

fn tree(text: &str) -> BTreeMap<String, Value> {
    common::parsed_tree(text, &[Target::K8s, Target::Terraform, Target::Helm])
}

/// The text of every artifact of the targets, by path.
fn texts(text: &str, targets: &[Target]) -> BTreeMap<String, String> {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    deployc::emit::emit(&deployc::plan::Plan::new(&model, &graph, &Default::default()), targets)
        .into_iter()
        .map(|a| (a.path.clone(), a.contents.clone()))
        .collect()
}

fn pull_secrets(t: &BTreeMap<String, Value>, path: &str) -> Vec<String> {
    t[path]
        .pointer("/spec/template/spec/imagePullSecrets")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r["name"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[test]
fn gke_pulls_the_artifact_registry_copy_with_the_same_tag() {
    let t = tree(&program(GKE, "github_actions"));
    let images =
        |env: &str| t[&format!("k8s/{env}/kustomization.yaml")]["images"].as_array().cloned().unwrap_or_default();
    let dr = images("dr");
    assert_eq!(dr.len(), 1, "only the built image: {dr:?}");
    // The name CD's tag rewrites and promotions read stays the project's;
    // the cluster pulls the copy, with the tag production runs.
    assert_eq!(dr[0]["name"], ECR);
    assert_eq!(dr[0]["newName"], COPY);
    let prod = images("prod");
    assert_eq!(prod[0]["name"], ECR);
    assert!(prod[0].get("newName").is_none(), "EKS pulls ECR: {prod:?}");
    assert_eq!(dr[0]["newTag"], prod[0]["newTag"]);
    // No pull secret anywhere: the nodes read the repository.
    assert!(pull_secrets(&t, "k8s/dr/deployment-api.yaml").is_empty());
    assert!(!t.keys().any(|p| p.contains("ecr-pull")), "no ECR token objects");
    let values = &t["helm/shop/values-dr.yaml"];
    assert_eq!(values.pointer("/services/api/image/repository"), Some(&Value::from(COPY)), "{values:?}");
    // Production keeps the chart's default, the ECR repository.
    assert!(t["helm/shop/values-prod.yaml"].pointer("/services/api/image/repository").is_none());
    assert_eq!(t["helm/shop/values.yaml"].pointer("/services/api/image/repository"), Some(&Value::from(ECR)));
}

#[test]
fn the_nodes_read_and_ci_writes_the_same_repository() {
    let t = tree(&program(GKE, "github_actions"));
    let shared = &t["terraform/gcp/shared/registry.tf.json"]["resource"];
    let repo = &shared["google_artifact_registry_repository"]["images"];
    assert_eq!(repo["repository_id"], "shop");
    assert_eq!(repo["location"], "us-central1");
    assert_eq!(repo["format"], "DOCKER");
    // The copy's path is the repository's: host, project, repository.
    let vars = &t["terraform/gcp/shared/main.tf.json"]["variable"];
    assert_eq!(vars["project"]["default"], "acme-dr");
    assert!(COPY.starts_with(&format!("{}-docker.pkg.dev/acme-dr/{}/", repo["location"].as_str().unwrap(), "shop")));

    let writer = &shared["google_artifact_registry_repository_iam_member"]["image_push_writer"];
    assert_eq!(writer["role"], "roles/artifactregistry.writer");
    assert_eq!(writer["repository"], "${google_artifact_registry_repository.images.name}");
    assert_eq!(writer["member"], "serviceAccount:${google_service_account.image_push.email}");
    let account = shared["google_service_account"]["image_push"]["account_id"].as_str().expect("account id");
    // GitHub Actions act as it keylessly, for this repository only.
    let wif = &shared["google_service_account_iam_member"]["image_push"];
    assert_eq!(wif["role"], "roles/iam.workloadIdentityUser");
    assert_eq!(
        wif["member"],
        "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/acme/shop"
    );
    let github = &t["terraform/gcp/shared/github.tf.json"]["resource"];
    let condition = github["google_iam_workload_identity_pool_provider"]["github"]["attribute_condition"]
        .as_str()
        .expect("condition");
    assert!(condition.starts_with("assertion.repository == \"acme/shop\" && "), "{condition}");

    let cluster = &t["terraform/gcp/clusters/dr/cluster.tf.json"]["resource"];
    let reader = &cluster["google_artifact_registry_repository_iam_member"]["nodes_registry_reader"];
    assert_eq!(reader["role"], "roles/artifactregistry.reader");
    assert_eq!(reader["repository"], repo["repository_id"]);
    assert_eq!(reader["location"], repo["location"]);
    assert_eq!(reader["member"], "serviceAccount:${google_service_account.nodes.email}");
    // The nodes read that repository, not every repository of the project.
    assert!(cluster["google_project_iam_member"].get("nodes_registry_reader").is_none());

    // The workflow pushes the copy as that account.
    let wf = texts(&program(GKE, "github_actions"), &[Target::Github]);
    let cd = &wf[".github/workflows/cd.yml"];
    assert!(cd.contains("uses: google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093 # v3.0.0"), "{cd}");
    assert!(cd.contains(&format!("service_account: {account}@acme-dr.iam.gserviceaccount.com")), "{cd}");
    assert!(cd.contains(&format!("mirror: {COPY}")), "{cd}");
    assert!(cd.contains("docker buildx imagetools create --tag \"$MIRROR:$TAG\" \"$IMAGE:$TAG\""), "{cd}");
}

#[test]
fn jenkins_and_gitlab_copy_with_a_documented_key() {
    let j = texts(&program(GKE, "jenkins"), &[Target::Jenkins, Target::Terraform]);
    let jf = &j["jenkins/Jenkinsfile"];
    assert!(jf.contains("withCredentials([file(credentialsId: 'gcp-image-push-key', variable: 'KEY_FILE')])"), "{jf}");
    assert!(jf.contains(&format!("'IMAGE={ECR}', 'MIRROR={COPY}'")), "{jf}");
    assert!(jf.contains("docker buildx imagetools create --tag \"$MIRROR:$TAG\" \"$IMAGE:$TAG\""), "{jf}");
    let readme = &j["terraform/gcp/README.md"];
    assert!(readme.contains("`gcp-image-push-key`") && readme.contains("gcloud iam service-accounts keys create"));
    // No keyless binding where no GitHub run asks for one.
    assert!(!j["terraform/gcp/shared/registry.tf.json"].contains("workloadIdentityUser"));

    let g = texts(&program(GKE, "gitlab"), &[Target::Gitlab]);
    let ci = &g[".gitlab-ci.yml"];
    assert!(ci.contains("KEY_FILE=\"$GCP_IMAGE_PUSH_KEY\""), "{ci}");
    assert!(ci.contains("# GCP_IMAGE_PUSH_KEY (type File)"), "{ci}");
    assert!(ci.contains(&format!("value: {COPY}")), "{ci}");
}

#[test]
fn an_aks_standby_gets_no_copy_and_is_warned() {
    let text = program(r#"azure { location = "eastus2" }"#, "github_actions");
    let c = deployc::compile("p.dpl", &text, &common::Disk);
    assert!(c.diagnostics.items.iter().any(|d| d.code.as_str() == "W0015"));
    let t = tree(&text);
    assert!(!t.keys().any(|p| p.contains("ecr-pull")));
    assert!(pull_secrets(&t, "k8s/dr/deployment-api.yaml").is_empty());
    assert!(t["k8s/dr/kustomization.yaml"]["images"][0].get("newName").is_none());
    let gke = deployc::compile("p.dpl", &program(GKE, "github_actions"), &common::Disk);
    assert!(!gke.diagnostics.items.iter().any(|d| d.code.as_str() == "W0015"));
}
