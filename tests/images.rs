//! A service's image is decided once (`plan::env::service_image`): a
//! prebuilt image reaches every target exactly as written, and only images
//! built here are built, pushed, retagged or given a registry repository.

mod common;
use deployc::emit::{self, Artifact, Target};
use deployc::plan::Plan;
use serde_json::Value;

const ADS: &str = "us-central1-docker.pkg.dev/google-samples/microservices-demo/adservice:v0.10.6";
const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn program(provider: &str) -> String {
    format!(
        r#"
project demo {{
  repository = "github.com/acme/demo"
  registry   = ecr {{ region = "us-east-1" account = "123456789012" }}
}}
pipeline {{ provider = {provider} }}
service api {{
  language = node
  port     = 8080
  health   = http {{ path = "/healthz" }}
}}
service rollouts {{ image = "argoproj/rollouts-demo:blue"  port = 8080  health = http {{ path = "/" }} }}
service ads {{ image = "{ADS}"  port = 9555  health = grpc {{ }} }}
service cache {{ image = "redis@{DIGEST}"  port = 6379  health = tcp {{ }} }}
environment dev {{ promote = on_push("main") }}
"#
    )
}

fn build(provider: &str, targets: &[Target]) -> Vec<Artifact> {
    let text = program(provider);
    let c = deployc::compile("images.dpl", &text, &common::Disk);
    assert!(!c.diagnostics.has_errors(), "{}", common::render_all(&c));
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    emit::emit(&plan, targets)
}

fn file<'a>(files: &'a [Artifact], path: &str) -> &'a str {
    &files.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{path} is emitted")).contents
}

fn container_image(files: &[Artifact], service: &str) -> String {
    let doc: Value = serde_yaml_ng::from_str(file(files, &format!("k8s/dev/deployment-{service}.yaml"))).expect("yaml");
    doc["spec"]["template"]["spec"]["containers"][0]["image"].as_str().expect("image").to_string()
}

#[test]
fn prebuilt_images_are_deployed_as_written() {
    let files = build("github_actions", &[Target::K8s, Target::Helm]);
    assert_eq!(container_image(&files, "rollouts"), "argoproj/rollouts-demo:blue");
    assert_eq!(container_image(&files, "ads"), ADS);
    assert_eq!(container_image(&files, "cache"), format!("redis@{DIGEST}"));
    assert_eq!(container_image(&files, "api"), "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:main-initial");

    // CD rewrites only the tags of images built here.
    let k: Value = serde_yaml_ng::from_str(file(&files, "k8s/dev/kustomization.yaml")).expect("yaml");
    let names: Vec<&str> = k["images"].as_array().expect("images").iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["123456789012.dkr.ecr.us-east-1.amazonaws.com/api"]);

    // The chart's values carry the same parts.
    let v: Value = serde_yaml_ng::from_str(file(&files, "helm/demo/values.yaml")).expect("yaml");
    let img = |s: &str| &v["services"][s]["image"];
    assert_eq!(img("ads")["repository"], "us-central1-docker.pkg.dev/google-samples/microservices-demo/adservice");
    assert_eq!(img("ads")["tag"], "v0.10.6");
    assert_eq!(img("cache")["repository"], "redis");
    assert_eq!(img("cache")["digest"], DIGEST);
    assert!(img("cache").get("tag").is_none(), "a digest-only image has no tag");
}

#[test]
fn pipelines_build_only_images_built_here() {
    let gh = build("github_actions", &[Target::Github, Target::Terraform, Target::Docs]);
    let workflows: String = gh.iter().filter(|a| a.path.contains(".github/")).map(|a| a.contents.as_str()).collect();
    assert!(!workflows.is_empty(), "workflows are emitted");
    assert!(workflows.contains("amazonaws.com/api"), "the built image is pushed");
    for prebuilt in ["rollouts-demo", "adservice", "redis", "service: rollouts", "service: ads", "service: cache"] {
        assert!(!workflows.contains(prebuilt), "workflows mention the prebuilt `{prebuilt}`");
    }
    let tf: String = gh.iter().filter(|a| a.path.starts_with("terraform/")).map(|a| a.contents.as_str()).collect();
    assert!(tf.contains("aws_ecr_repository"), "the built image gets a repository");
    let repos: Vec<&str> = tf.match_indices("\"aws_ecr_repository\"").map(|(i, _)| &tf[i..]).collect();
    assert!(!repos.is_empty());
    for prebuilt in ["rollouts", "adservice", "redis"] {
        assert!(!tf.contains(prebuilt), "Terraform mentions the prebuilt `{prebuilt}`");
    }
    let docs = file(&gh, "docs/ARCHITECTURE.md");
    assert!(docs.contains("| `ads` | prebuilt |"), "{docs}");

    let jenkins = build("jenkins", &[Target::Jenkins]);
    let jf = file(&jenkins, "jenkins/Jenkinsfile");
    assert!(jf.contains("amazonaws.com/api"));
    for prebuilt in ["rollouts-demo", "adservice", "redis"] {
        assert!(!jf.contains(prebuilt), "the Jenkinsfile mentions the prebuilt `{prebuilt}`");
    }
}

#[test]
fn a_program_of_prebuilt_images_has_no_pipeline() {
    let text = r#"
project demo {
  repository = "github.com/acme/demo"
  registry   = ghcr { owner = "acme" }
}
service demo { image = "argoproj/rollouts-demo:blue"  port = 8080  health = http { path = "/" } }
environment dev { promote = on_push("main") }
"#;
    let c = deployc::compile("only.dpl", text, &common::Disk);
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    assert!(Target::Github.unserved(&model).is_some(), "nothing to build: GitHub Actions has nothing to emit");
    assert!(emit::emit(&plan, &[Target::Github]).is_empty());
}

/// GitHub names are case-insensitive and GHCR's repositories lower case: an
/// organisation written as GitHub shows it (`AcmeCorp`) pushes and pulls
/// `ghcr.io/acmecorp/...` in every target, never an upper-case reference a
/// registry or the kubelet would refuse.
#[test]
fn a_ghcr_owner_reaches_every_image_reference_in_lower_case() {
    let text = program("github_actions").replace(
        r#"registry   = ecr { region = "us-east-1" account = "123456789012" }"#,
        r#"registry   = ghcr { owner = "AcmeCorp" }"#,
    );
    let c = deployc::compile("images.dpl", &text, &common::Disk);
    assert!(!c.diagnostics.has_errors(), "{}", common::render_all(&c));
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let files = emit::emit(&plan, &[Target::K8s, Target::Helm, Target::Github]);
    assert_eq!(container_image(&files, "api"), "ghcr.io/acmecorp/api:main-initial");
    for a in &files {
        assert!(!a.contents.contains("ghcr.io/AcmeCorp"), "{} keeps the upper-case owner", a.path);
    }
    assert!(file(&files, ".github/workflows/cd.yml").contains("ghcr.io/acmecorp/api"));
}
