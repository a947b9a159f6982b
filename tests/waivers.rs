//! Policy waivers (plan/waivers.rs) as Checkov and the generated gates read
//! them: the baseline names resources the output really writes, in the
//! file it names, with a reason for each check; every Checkov gate (GitHub,
//! Jenkins, GitLab) passes the baseline where the repository holds it; an
//! output without waivers has no baseline and no `--baseline`.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;

fn build(text: &str) -> Vec<(String, String)> {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    let targets = [Target::Terraform, Target::Github, Target::Jenkins, Target::Gitlab];
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &targets)
        .into_iter()
        .map(|a| (a.path, a.contents))
        .collect()
}

fn program(edge: &str, provider: &str) -> String {
    format!(
        r#"project shop {{
  repository = "github.com/acme/shop"
  registry   = ecr {{ region = "eu-west-1" account = "123456789012" }}
  cloud      = aws {{ region = "eu-west-1" }}
  domain     = "shop.acme.dev"
  dns        = route53 {{ zone = "acme.dev" }}
  gitops     = argocd {{ path = "deploy" }}
}}
gate iac = checkov {{ }}
service web {{
  language = go
  port     = 8080
  health   = http {{ path = "/healthz" }}
  expose   = ingress {{ host = "${{env.domain}}" class = "alb" }}
}}
environment production {{
  production = true
  promote    = on_push("main")
  requires   = [iac]
  edge {{ {edge} }}
}}
pipeline {{ provider = {provider} }}
"#
    )
}

fn file<'a>(out: &'a [(String, String)], path: &str) -> Option<&'a str> {
    out.iter().find(|(p, _)| p == path).map(|(_, c)| c.as_str())
}

#[test]
fn the_baseline_names_what_the_cdn_file_holds() {
    let out = build(&program("cdn { paths = [\"/static/*\"] }", "github_actions"));
    let baseline: Value =
        serde_json::from_str(file(&out, "terraform/.checkov.baseline").expect("baseline")).expect("JSON");
    let files = baseline["failed_checks"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["file"], "/terraform/production/cdn.tf.json");
    let tf: Value =
        serde_json::from_str(file(&out, "terraform/production/cdn.tf.json").expect("cdn file")).expect("JSON");
    let mut checks = Vec::new();
    for f in files[0]["findings"].as_array().expect("findings") {
        let resource = f["resource"].as_str().expect("resource");
        // `type.name` must be a resource of that file; Checkov's own
        // `resource.name` form must name one of them.
        let (ty, name) = resource.split_once('.').expect("type.name");
        if ty == "resource" {
            let found = tf["resource"].as_object().expect("resources").values().any(|r| r.get(name).is_some());
            assert!(found, "{resource}");
        } else {
            assert!(tf.pointer(&format!("/resource/{ty}/{name}")).is_some(), "{resource} is not in cdn.tf.json");
        }
        for c in f["check_ids"].as_array().expect("checks") {
            let c = c.as_str().expect("id");
            let reason = f["reasons"][c].as_str().unwrap_or_default();
            assert!(reason.len() > 40, "{c} on {resource}: a reason");
            checks.push(c.to_string());
        }
    }
    checks.sort();
    checks.dedup();
    assert_eq!(checks, ["CKV2_AWS_5", "CKV_AWS_305", "CKV_AWS_310", "CKV_AWS_374", "CKV_AWS_86"]);
}

#[test]
fn every_checkov_gate_passes_the_baseline() {
    let path = "deploy/terraform/.checkov.baseline";
    let gh = build(&program("cdn { paths = [\"/static/*\"] }", "github_actions"));
    let gates = gh.iter().find(|(p, c)| p.contains("workflows/") && c.contains("checkov --directory")).expect("gate");
    assert!(gates.1.contains(&format!("BASELINE: \"--baseline {path}\"")), "GitHub");
    let jk = build(&program("cdn { paths = [\"/static/*\"] }", "jenkins"));
    let jf = file(&jk, "jenkins/Jenkinsfile").expect("Jenkinsfile");
    assert!(
        jf.contains(&format!("withEnv(['BASELINE={path}'])")) && jf.contains("--baseline \"$BASELINE\""),
        "Jenkins"
    );
    let gl = build(&program("cdn { paths = [\"/static/*\"] }", "gitlab"));
    let ci = file(&gl, ".gitlab-ci.yml").expect("GitLab CI");
    assert!(ci.contains(&format!("value: {path}")) && ci.contains("--baseline \\\"$BASELINE\\\""), "GitLab");
}

#[test]
fn no_waiver_no_baseline() {
    let out = build(&program("", "github_actions"));
    assert!(file(&out, "terraform/.checkov.baseline").is_none());
    assert!(!out.iter().any(|(_, c)| c.contains("--baseline deploy/")), "no --baseline without waivers");
}
