//! The suites after a deploy (smoke, integration, performance) install a
//! service's dependencies once, before its first suite, in every CI: the
//! later suites run in the same job or stage, where they already are.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_yaml_ng::Value;

fn program(provider: &str) -> String {
    format!(
        r##"
project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
  domain     = "shop.acme.dev"
}}
toolchain api-node {{
  family      = node
  version     = "20"
  install     = "npm ci --prefer-offline"
  test        = ["npx jest --ci"]
  smoke       = ["npm run test:smoke"]
  integration = ["npm run test:integration"]
  performance = ["npm run test:performance"]
}}
service api {{
  language = api-node
  build    {{ context = "api" }}
  port     = 3000
  expose   = ingress {{ host = "api.${{env.domain}}" }}
  health   = http {{ path = "/health" }}
}}
service web {{
  language = api-node
  build    {{ context = "web" }}
  port     = 8080
  expose   = ingress {{ host = "${{env.domain}}" }}
  health   = http {{ path = "/" }}
}}
environment staging {{
  promote = on_push("main")
  after   = [health_check, smoke_tests, integration_tests, performance_tests]
}}
pipeline {{ provider = {provider} }}
"##
    )
}

fn build(provider: &str, target: Target, path: &str) -> String {
    let c = deployc::compile("test.dpl", &program(provider), &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target]);
    out.into_iter().find(|a| a.path.ends_with(path)).map(|a| a.contents).unwrap_or_else(|| panic!("no {path}"))
}

/// The positions of `needle` in `hay`.
fn at(hay: &str, needle: &str) -> Vec<usize> {
    hay.match_indices(needle).map(|(i, _)| i).collect()
}

#[test]
fn jenkins_installs_once_per_service_before_its_first_suite() {
    let jf = build("jenkins", Target::Jenkins, "jenkins/Jenkinsfile");
    let stage = &jf[jf.find("stage('Deploy: staging')").expect("the staging stage")..];
    let stage = &stage[..stage.find("post {").expect("post")];
    // Two services, three suites each: two installs.
    assert_eq!(at(stage, "sh 'npm ci --prefer-offline'").len(), 2, "{stage}");
    for dir in ["api", "web"] {
        let dirs = at(stage, &format!("dir('{dir}')"));
        assert_eq!(dirs.len(), 3, "{dir}: three suites");
        let first = &stage[dirs[0]..dirs[1]];
        assert!(first.contains("npm ci --prefer-offline"), "{dir}'s first suite installs");
    }
    let smoke = stage.find("npm run test:smoke").expect("smoke");
    let install = stage.find("npm ci --prefer-offline").expect("install");
    assert!(install < smoke, "dependencies before the first suite");
    for s in ["test:integration", "test:performance"] {
        let i = stage.find(s).expect(s);
        assert_eq!(at(&stage[smoke..i], "npm ci").len(), 1, "only web's install between api's smoke and {s}");
    }
}

#[test]
fn gitlab_installs_once_per_service() {
    let y: Value = serde_yaml_ng::from_str(&build("gitlab", Target::Gitlab, ".gitlab-ci.yml")).expect("yaml");
    let job = &y["deploy:staging"];
    let vars: Vec<String> = job["variables"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str().map(str::to_string).or_else(|| v["value"].as_str().map(str::to_string)))
        .collect();
    let installs = vars.iter().filter(|v| v.as_str() == "npm ci --prefer-offline").count();
    let suites = vars.iter().filter(|v| v.starts_with("npm run test:")).count();
    assert_eq!(suites, 6, "{vars:?}");
    assert_eq!(installs, 2, "one install per service: {vars:?}");
}

#[test]
fn github_sets_up_each_service_once() {
    let wf: Value = serde_yaml_ng::from_str(&build("github_actions", Target::Github, "cd.yml")).expect("yaml");
    let steps = wf["jobs"]["deploy-staging"]["steps"].as_sequence().expect("steps");
    let names: Vec<&str> = steps.iter().filter_map(|s| s["name"].as_str()).collect();
    for svc in ["api", "web"] {
        let installs = names.iter().filter(|n| **n == format!("Install {svc} dependencies")).count();
        assert_eq!(installs, 1, "{svc}: {names:?}");
        let first_install = names.iter().position(|n| *n == format!("Install {svc} dependencies")).expect("install");
        let first_suite =
            names.iter().position(|n| n.ends_with(&format!("of {svc}: npm run test:smoke"))).expect("smoke");
        assert!(first_install < first_suite, "{names:?}");
    }
    let setups =
        steps.iter().filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/setup-node"))).count();
    assert_eq!(setups, 2, "{names:?}");
}
