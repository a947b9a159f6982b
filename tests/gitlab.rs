//! The GitLab CI target: the third renderer of the delivery plan. Its
//! behaviour: integration tests get the service's databases as service
//! containers, deploy commits never start a pipeline, promotions wait for a
//! person, a failed release is rolled back, the same gates, backups and
//! notifications as GitHub Actions and Jenkins, and no program string in a
//! script. Schema validation (`check-jsonschema --builtin-schema
//! vendor.gitlab-ci`, from PyPI) runs in `.ci/run`.

mod common;
use deployc::emit::{self, Target};
use deployc::pins;
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
toolchain py {{
  family      = python
  version     = "3.12"
  install     = "pip install -r requirements.txt -r requirements-dev.txt"
  lint        = ["ruff check ."]
  test        = ["pytest tests/unit"]
  integration = ["pytest tests/integration"]
}}
service api {{
  language = py
  build    {{ context = "api" }}
  port     = 8080
  uses     = [db, cache]
  expose   = ingress {{ host = "api.${{env.domain}}" }}
  health   = http {{ path = "/healthz" }}
}}
service web {{
  language = typescript
  build    {{ context = "web" }}
  port     = 3000
}}
resource db = postgres {{
  placement = managed
  backup {{ schedule = daily retain = 7d }}
}}
resource cache = redis {{ }}
integration chat = slack {{
  channel = "#deploys"
  webhook = secret("slack-webhook")
  events  = [deploy, failure, rollback]
}}
gate lint = ruff
gate sca  = trivy {{ fail_on = high kind = sca }}
environment dev  {{ promote = on_push("main") notify = [chat] after = [health_check, smoke_tests] }}
environment prod {{ promote = manual(from = dev) before = [backup] notify = [chat] approvers = ["acme/ops"] }}
pipeline {{ provider = {provider} }}
"##
    )
}

fn build(text: &str, target: Target) -> String {
    let c = deployc::compile("test.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target]).into_iter().map(|a| a.contents).collect()
}

fn gitlab(text: &str) -> Value {
    let s = build(text, Target::Gitlab);
    serde_yaml_ng::from_str(&s).expect("valid YAML")
}

fn scripts(job: &Value) -> String {
    ["script", "after_script"]
        .iter()
        .filter_map(|k| job[*k].as_sequence())
        .flatten()
        .filter_map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn only_a_gitlab_program_gets_a_gitlab_ci_file() {
    assert!(build(&program("github_actions"), Target::Gitlab).is_empty());
    assert!(build(&program("jenkins"), Target::Gitlab).is_empty());
    assert!(build(&program("gitlab"), Target::Github).is_empty());
    assert!(build(&program("gitlab"), Target::Jenkins).is_empty());
}

#[test]
fn integration_tests_get_the_service_s_databases_as_service_containers() {
    let y = gitlab(&program("gitlab"));
    // Unit tests run alone; the integration job gets the containers.
    assert!(y["test:api"]["services"].is_null(), "unit tests need no containers");
    let api = &y["integration:api"];
    let names: Vec<&str> =
        api["services"].as_sequence().expect("services").iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.iter().any(|n| n.starts_with("postgres:")), "api uses postgres: {names:?}");
    assert!(names.iter().any(|n| n.starts_with("redis:")), "api uses redis: {names:?}");
    assert!(api["variables"]["DATABASE_URL"]["value"].as_str().expect("DATABASE_URL").contains("@postgres:5432/"));
    // web uses nothing: no containers.
    assert!(y["test:web"]["services"].is_null());
    // Python dev dependencies come before the checks.
    let s = scripts(&y["test:api"]);
    assert!(s.find("requirements-dev.txt").expect("dev deps") < s.find("COMMAND_0").expect("commands"));
}

#[test]
fn deploy_commits_never_start_a_pipeline() {
    let text = build(&program("gitlab"), Target::Gitlab);
    let y: Value = serde_yaml_ng::from_str(&text).expect("yaml");
    let rules = y["workflow"]["rules"].as_sequence().expect("workflow rules");
    let first = &rules[0];
    assert_eq!(first["when"].as_str(), Some("never"));
    let cond = first["if"].as_str().expect("if");
    assert!(cond.contains("deploy|rollback") && cond.contains("skip ci"), "{cond}");
    for env in ["dev", "prod"] {
        let s = scripts(&y[format!("deploy:{env}").as_str()]);
        // Every push of the job carries ci.skip, and the commit says [skip ci].
        assert!(s.contains("git config push.pushOption ci.skip"), "{env}");
        assert!(s.contains("[skip ci]"), "{env}");
        let pushes = s.matches("git push").count();
        assert!(pushes >= 2, "{env}: release and record push");
        let first_push = s.find("git push").expect("push");
        assert!(s[..first_push].contains("push.pushOption ci.skip"), "{env}: ci.skip set before the first push");
    }
}

#[test]
fn a_promotion_to_production_waits_for_a_person_and_promotes_what_was_verified() {
    let y = gitlab(&program("gitlab"));
    let prod = &y["deploy:prod"];
    let rule = &prod["rules"][0];
    assert_eq!(rule["when"].as_str(), Some("manual"));
    assert_eq!(rule["allow_failure"].as_bool(), Some(false), "a manual gate blocks the pipeline");
    assert_eq!(prod["needs"][0].as_str(), Some("deploy:dev"));
    assert_eq!(prod["environment"]["name"].as_str(), Some("prod"));
    assert_eq!(prod["variables"]["SOURCE_TAG"]["value"].as_str(), Some("deployc-verified-dev"));
    assert!(scripts(prod).contains("git show \"refs/tags/$SOURCE_TAG:$SOURCE\""));
    // dev is automatic.
    assert!(y["deploy:dev"]["rules"][0]["when"].is_null());
    // The backup comes before the release commit.
    let s = scripts(prod);
    assert!(s.find("aws rds create-db-snapshot").expect("snapshot") < s.find("git commit").expect("commit"));
}

#[test]
fn a_failed_release_is_rolled_back_and_reported() {
    let y = gitlab(&program("gitlab"));
    let dev = &y["deploy:dev"];
    let after = dev["after_script"].as_sequence().expect("after_script")[0].as_str().expect("str").to_string();
    assert!(after.starts_with("if [ \"$CI_JOB_STATUS\" != failed ]; then exit 0; fi"));
    assert!(after.contains("git revert --no-edit --no-commit \"$DEPLOY_COMMIT\""));
    // The rollback notice's wording is a variable of the job (program text is never in a script).
    let vars = serde_yaml_ng::to_string(&dev["variables"]).expect("vars");
    assert!(vars.contains("failed its checks and was rolled back"));
    assert!(after.contains("could not send a rollback notice"));
    // The record of this run survives into after_script and the release job.
    assert_eq!(dev["artifacts"]["when"].as_str(), Some("always"));
    // Recording the verified tag is the last step before the notices, after the checks.
    let s = y["deploy:dev"]["script"].as_sequence().expect("script");
    let pos = |needle: &str| s.iter().position(|l| l.as_str().unwrap_or("").contains(needle)).expect(needle);
    assert!(pos("HEALTH_URLS") < pos("git tag --force") && pos("ROUTES") < pos("git tag --force"));
}

#[test]
fn gates_backups_and_notifications_are_the_same_plan_as_jenkins() {
    let gl = build(&program("gitlab"), Target::Gitlab);
    let jf = build(&program("jenkins"), Target::Jenkins);
    for needle in [
        format!("ruff=={}", pins::tool("ruff")),
        "aws rds create-db-snapshot".to_string(),
        "trivy fs --exit-code 1 --severity".to_string(),
        "docker buildx create --name deployc".to_string(),
        "deployc-verified-".to_string(),
        "argocd app actions run".to_string(),
    ] {
        assert!(
            gl.contains(&needle) && jf.contains(&needle),
            "{needle}: GitLab {} Jenkins {}",
            gl.contains(&needle),
            jf.contains(&needle)
        );
    }
    // Slack on deploy, failure and rollback on both.
    for outcome in [" failed", " failed its checks and was rolled back"] {
        assert!(gl.contains(outcome) && jf.contains(outcome), "{outcome}");
    }
}

#[test]
fn program_strings_reach_scripts_only_through_variables() {
    let y = gitlab(&program("gitlab"));
    let map = y.as_mapping().expect("map");
    for (name, job) in map {
        let Some(name) = name.as_str() else { continue };
        if job["script"].is_null() {
            continue;
        }
        let s = scripts(job);
        for program_text in ["#deploys", "acme/ops", "shop.acme.dev", "ghcr.io/acme", "api.shop", "slack-webhook"] {
            assert!(!s.contains(program_text), "{name}: {program_text} in a script");
        }
        // Every variable carrying program text is literal (GitLab does not expand it).
        if let Some(vars) = job["variables"].as_mapping() {
            for (k, v) in vars {
                if let Some(s) = v.as_str() {
                    assert!(
                        !s.contains("acme") && !s.contains("deploys"),
                        "{name}: {k:?} holds program text in an expanding variable"
                    );
                }
            }
        }
    }
}

/// The shape of the GitLab pipeline of tests/programs/gitlab.dpl (seed 004
/// on GitLab): each job's stage, needs, rules and environment, one a line.
#[test]
fn the_gitlab_pipeline_of_the_test_program() {
    let text = std::fs::read_to_string("tests/programs/gitlab.dpl").expect("program");
    let y = gitlab(&text);
    let mut lines = vec![format!("stages: {}", serde_json::to_string(&y["stages"]).expect("json"))];
    for (name, job) in y.as_mapping().expect("map") {
        let name = name.as_str().unwrap_or("");
        if job["script"].is_null() {
            continue;
        }
        let rules: Vec<String> = job["rules"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|r| {
                format!(
                    "{}{}",
                    r["if"].as_str().unwrap_or(""),
                    r["when"].as_str().map(|w| format!(" ({w})")).unwrap_or_default()
                )
            })
            .collect();
        lines.push(format!(
            "{name}: stage {} | needs {} | rules {} | env {} | services {}",
            job["stage"].as_str().unwrap_or(""),
            serde_json::to_string(&job["needs"]).expect("json"),
            rules.join("; "),
            job["environment"]["name"].as_str().unwrap_or("-"),
            job["services"].as_sequence().map_or(0, |s| s.len()),
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_deploy_waits_for_the_gates_its_environment_requires() {
    let text = program("gitlab");
    let text = text.replace(
        "environment dev  { promote = on_push(\"main\")",
        "environment dev  { promote = on_push(\"main\") requires = [sca]",
    );
    let y = gitlab(&text);
    let needs: Vec<&str> =
        y["deploy:dev"]["needs"].as_sequence().expect("needs").iter().filter_map(|n| n.as_str()).collect();
    assert!(needs.contains(&"sca:api") && needs.contains(&"sca:web"), "{needs:?}");
    assert!(!needs.iter().any(|n| n.starts_with("lint:")), "lint is not required: {needs:?}");
}
