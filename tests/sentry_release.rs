//! The Sentry release after a verified deploy (`integration sentry { org
//! project auth_token }`, `plan::delivery::sentry_release`): one plan entry,
//! rendered by GitHub Actions, Jenkins and GitLab CI; its shell run with
//! bash against stub `python3` (the virtual environment), `pip` and
//! `sentry-cli`, which record their calls.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::delivery::SENTRY_RELEASE_SH;
use deployc::plan::Plan;
use serde_yaml_ng::Value;
use std::process::Command;

fn program(provider: &str, sentry: &str) -> String {
    format!(
        r#"
project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
  domain     = "shop.acme.dev"
}}
service api {{
  language = python
  build    {{ context = "api" }}
  port     = 8080
  expose   = ingress {{ host = "api.${{env.domain}}" }}
  health   = http {{ path = "/healthz" }}
}}
environment staging {{ promote = on_push("main") }}
integration sentry = sentry {{
  dsn = secret("sentry-dsn")
  {sentry}
}}
pipeline {{ provider = {provider} }}
"#
    )
}

const FULL: &str = r#"org = "acme"
  project = "shop"
  auth_token = secret("sentry-auth-token")"#;

fn emitted(text: &str, target: Target, path: &str) -> String {
    let c = deployc::compile("shop.dpl", text, &common::Disk);
    assert!(!c.diagnostics.has_errors(), "{:?}", c.diagnostics.items);
    let (model, graph) = c.output.expect("a model");
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target])
        .into_iter()
        .find(|a| a.path.ends_with(path))
        .map(|a| a.contents)
        .unwrap_or_default()
}

#[test]
fn every_ci_creates_the_release_after_a_verified_deploy_from_one_plan_entry() {
    let gh: Value =
        serde_yaml_ng::from_str(&emitted(&program("github_actions", FULL), Target::Github, "cd.yml")).expect("yaml");
    let steps = gh["jobs"]["deploy-staging"]["steps"].as_sequence().expect("steps");
    let names: Vec<&str> = steps.iter().filter_map(|s| s["name"].as_str()).collect();
    let at = |n: &str| names.iter().position(|x| x.starts_with(n)).unwrap_or_else(|| panic!("{n} in {names:?}"));
    assert!(at("Record the verified release") < at("Create the Sentry release"), "after the checks: {names:?}");
    let step = &steps[at("Create the Sentry release")];
    assert_eq!(step["run"].as_str(), Some(SENTRY_RELEASE_SH));
    assert_eq!(step["env"]["SENTRY_AUTH_TOKEN"].as_str(), Some("${{ secrets.SENTRY_AUTH_TOKEN }}"));
    assert_eq!(step["env"]["SENTRY_ORG"].as_str(), Some("acme"));
    assert_eq!(step["env"]["RELEASED"].as_str(), Some("${{ steps.release.outputs.released }}"));
    assert!(step["if"].is_null(), "runs only when every step before passed");

    let jf = emitted(&program("jenkins", FULL), Target::Jenkins, "Jenkinsfile");
    let success = &jf[jf.find("success {").expect("a success block")..];
    assert!(success.contains("string(credentialsId: 'sentry-auth-token', variable: 'SENTRY_AUTH_TOKEN')"), "{jf}");
    assert!(success.contains("\"$venv/bin/sentry-cli\" releases finalize \"$version\""), "{success}");
    assert!(jf.contains("printf \"released='%s'\\\\n\""), "the release step records its refs");

    let gl: Value =
        serde_yaml_ng::from_str(&emitted(&program("gitlab", FULL), Target::Gitlab, ".gitlab-ci.yml")).expect("yaml");
    let script: Vec<&str> =
        gl["deploy:staging"]["script"].as_sequence().expect("script").iter().filter_map(Value::as_str).collect();
    let sentry = script.iter().position(|s| s.contains("sentry-cli")).expect("the sentry step");
    let record = script.iter().position(|s| s.contains("git tag --force \"$VERIFIED_TAG\"")).expect("record");
    assert!(record < sentry);
    assert!(script[sentry].starts_with("(\n"), "a subshell: its `exit 0` ends only itself");
    assert!(script[sentry].contains(SENTRY_RELEASE_SH.trim_end()));

    // Without an auth token, no release step anywhere.
    let none = program("github_actions", "");
    assert!(!emitted(&none, Target::Github, "cd.yml").contains("sentry-cli"));
}

#[test]
fn a_token_without_org_or_project_is_w0016() {
    let c = deployc::compile("shop.dpl", &program("github_actions", r#"auth_token = secret("t")"#), &common::Disk);
    let codes: Vec<&str> = c.diagnostics.items.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.contains(&"W0016"), "{codes:?}");
    let c = deployc::compile("shop.dpl", &program("github_actions", FULL), &common::Disk);
    assert!(!c.diagnostics.items.iter().any(|d| d.code.as_str() == "W0016"));
}

fn run(released: &str, fail_cli: bool) -> (bool, Vec<String>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let log = tmp.path().join("calls");
    // python3 -m venv DIR: a venv whose pip and sentry-cli record their calls.
    let code = if fail_cli { 1 } else { 0 };
    let log_path = log.display();
    let python = format!(
        "#!/usr/bin/env bash\n[ \"$1 $2\" = \"-m venv\" ] || exit 2\nmkdir -p \"$3/bin\"\nprintf '#!/usr/bin/env bash\\necho \"pip $*\" >> {log_path}\\n' > \"$3/bin/pip\"\nprintf '#!/usr/bin/env bash\\necho \"sentry-cli $*\" >> {log_path}\\nexit {code}\\n' > \"$3/bin/sentry-cli\"\nchmod +x \"$3/bin/pip\" \"$3/bin/sentry-cli\"\n"
    );
    std::fs::write(bin.join("python3"), python).expect("stub");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("python3"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::new("bash")
        .arg("-ec")
        .arg(SENTRY_RELEASE_SH)
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("RELEASED", released)
        .env("ENVIRONMENT", "staging")
        .env("SENTRY_CLI_VERSION", "3.8.2")
        .env("SENTRY_PROJECT", "shop")
        .output()
        .expect("bash");
    let calls = std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_string).collect();
    (out.status.success(), calls)
}

#[test]
fn one_release_per_deployed_tag_named_as_the_pods_report_it() {
    let (ok, calls) =
        run("ghcr.io/acme/api:main-abc1234 ghcr.io/acme/web:main-abc1234 ghcr.io/acme/jobs:main-0000001", false);
    assert!(ok);
    assert_eq!(
        calls,
        [
            "pip install --quiet --disable-pip-version-check sentry-cli==3.8.2",
            "sentry-cli releases new main-0000001 --project shop",
            "sentry-cli releases finalize main-0000001",
            "sentry-cli deploys new --release main-0000001 --env staging",
            "sentry-cli releases new main-abc1234 --project shop",
            "sentry-cli releases finalize main-abc1234",
            "sentry-cli deploys new --release main-abc1234 --env staging",
        ]
    );
    // Sentry failing never fails (and so never rolls back) a verified release.
    let (ok, calls) = run("ghcr.io/acme/api:v1.2.0", true);
    assert!(ok);
    assert_eq!(calls.len(), 2, "{calls:?}");
}
