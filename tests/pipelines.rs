//! The GitHub Actions and Jenkins targets: the promotion graph's shape in
//! the deploy jobs' `needs:` and `environment:`, hardening properties of
//! every workflow, and a snapshot of the workflow lines that change when a
//! gate or a promotion rule changes.

mod common;
use deployc::emit::{self, Artifact, Target};
use deployc::pins;
use deployc::plan::delivery::SET_TAG;
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// dev is deployed on every push to main, qa and staging are promoted by
/// hand, and the `sca` gate must pass before staging.
const PROGRAM: &str = r#"
project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
  domain     = "shop.acme.dev"
}
service api {
  language = typescript
  build    { context = "api" }
  port     = 8080
  expose   = ingress { host = "api.${env.domain}" }
  health   = http { path = "/healthz" }
}
gate secrets = gitleaks
gate sca     = grype { fail_on = high }
environment dev     { promote = on_push("main") }
environment qa      { promote = manual(from = dev) approvers = ["acme/qa"] }
environment staging { promote = manual(from = qa) requires = [sca] }
"#;

fn build(text: &str, targets: &[Target]) -> Vec<Artifact> {
    let c = deployc::compile("test.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    emit::emit(&Plan::new(&model, &graph, &Default::default()), targets)
}

fn workflows(text: &str) -> BTreeMap<String, Value> {
    build(text, &[Target::Github])
        .into_iter()
        .filter(|a| a.path.starts_with(".github/workflows/"))
        .map(|a| {
            let v: Value = serde_yaml_ng::from_str(&a.contents).expect("valid yaml");
            (a.path.trim_start_matches(".github/workflows/").to_string(), v)
        })
        .collect()
}

fn job<'a>(w: &'a BTreeMap<String, Value>, file: &str, id: &str) -> &'a Value {
    let f = w.get(file).unwrap_or_else(|| panic!("no {file}; have {:?}", w.keys().collect::<Vec<_>>()));
    let j = &f["jobs"][id];
    assert!(!j.is_null(), "{file} has no job {id}: {:?}", f["jobs"].as_object().map(|o| o.keys().collect::<Vec<_>>()));
    j
}

fn needs(j: &Value) -> Vec<String> {
    j["needs"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn the_promotion_graph_shapes_needs_and_environments() {
    let w = workflows(PROGRAM);
    assert_eq!(
        w.keys().collect::<Vec<_>>(),
        ["cd.yml", "ci.yml", "promote-qa.yml", "promote-staging.yml", "security.yml"]
    );
    // dev: automatic, in cd.yml, after the image build, nothing required.
    let dev = job(&w, "cd.yml", "deploy-dev");
    assert_eq!(needs(dev), ["build"]);
    assert_eq!(dev["environment"]["name"], "dev");
    assert_eq!(dev["environment"]["url"], "https://api.shop-dev.shop.acme.dev");
    assert_eq!(dev["concurrency"]["group"], "deploy-shop-dev");
    assert!(w["cd.yml"]["on"]["push"]["branches"].as_array().expect("branches").contains(&Value::from("main")));
    // qa: manual, its own workflow_dispatch workflow, behind its environment.
    let qa_wf = &w["promote-qa.yml"];
    assert!(qa_wf["on"]["workflow_dispatch"].is_object());
    assert!(qa_wf["on"]["push"].is_null());
    let qa = job(&w, "promote-qa.yml", "deploy-qa");
    assert!(needs(qa).is_empty(), "qa requires no gate: {:?}", needs(qa));
    assert_eq!(qa["environment"]["name"], "qa");
    let qa_source = qa["steps"].as_array().expect("steps").iter().find_map(|s| s["env"]["SOURCE"].as_str());
    assert_eq!(qa_source, Some("out/k8s/dev/kustomization.yaml"), "qa is promoted from what dev runs");
    // staging: manual from qa, after the sca gate, which runs in the same workflow.
    let st = job(&w, "promote-staging.yml", "deploy-staging");
    assert_eq!(needs(st), ["gate-sca"]);
    assert_eq!(st["environment"]["name"], "staging");
    let st_source = st["steps"].as_array().expect("steps").iter().find_map(|s| s["env"]["SOURCE"].as_str());
    assert_eq!(st_source, Some("out/k8s/qa/kustomization.yaml"));
    let gate = job(&w, "promote-staging.yml", "gate-sca");
    let grype = gate["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("anchore/scan-action@")));
    assert_eq!(grype.expect("grype step")["with"]["severity-cutoff"], "high");
    // Only the gates an environment requires run before it.
    assert!(w["promote-staging.yml"]["jobs"]["gate-secrets"].is_null());
    assert!(w["promote-qa.yml"]["jobs"]["gate-sca"].is_null());
}

#[test]
fn every_workflow_is_hardened() {
    let sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    for example in ["healthcp", "austa-cockpit", "cicd-pipeline", "platform-microservices"] {
        let c = common::compile_file(&format!("examples/{example}.dpl"));
        let (model, graph) = c.output.expect("example compiles");
        for a in emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Github]) {
            if !a.path.starts_with(".github/workflows/") {
                continue;
            }
            let v: Value = serde_yaml_ng::from_str(&a.contents).expect("yaml");
            assert_eq!(v["permissions"], serde_json::json!({}), "{}: top-level permissions", a.path);
            for (id, j) in v["jobs"].as_object().expect("jobs") {
                assert!(j["permissions"].is_object(), "{}: {id} states its permissions", a.path);
                for s in j["steps"].as_array().expect("steps") {
                    if let Some(run) = s["run"].as_str() {
                        assert!(!run.contains("${{"), "{}: {id}: expression in a script: {run}", a.path);
                    }
                    if let Some(u) = s["uses"].as_str() {
                        let (_, r) = u.rsplit_once('@').expect("a ref");
                        assert!(sha(r), "{}: {u} is not pinned to a commit", a.path);
                    }
                    if s["uses"].as_str().is_some_and(|u| u.starts_with("actions/checkout@")) {
                        let persist = s["with"]["persist-credentials"].as_bool();
                        assert_eq!(persist, Some(false), "{}: {id} leaves the token in .git", a.path);
                    }
                    for (k, val) in s["env"].as_object().into_iter().flatten() {
                        let val = val.as_str().unwrap_or_default();
                        assert!(
                            !val.contains("github.event") || k == "PR",
                            "{}: {id}: event data only as the pull request number: {k}={val}",
                            a.path
                        );
                    }
                }
            }
            // Every pinned SHA carries its release as a comment.
            for line in a.contents.lines().filter(|l| l.contains("uses: ")) {
                assert!(line.contains(" # v") || line.contains(" # 0"), "{}: no version comment: {line}", a.path);
            }
        }
    }
}

#[test]
fn the_pin_table_holds_full_commit_shas() {
    let t = pins::table();
    assert!(t.actions.len() >= 20, "table parsed: {}", t.actions.len());
    for (name, p) in &t.actions {
        assert_eq!(p.sha.len(), 40, "{name}");
        assert!(p.sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{name}");
        assert!(!p.version.is_empty(), "{name}");
    }
    assert_ne!(pins::tool("argocd"), "latest");
}

fn diff(a: &str, b: &str) -> String {
    let fa: BTreeMap<String, String> = build(a, &[Target::Github]).into_iter().map(|x| (x.path, x.contents)).collect();
    let fb: BTreeMap<String, String> = build(b, &[Target::Github]).into_iter().map(|x| (x.path, x.contents)).collect();
    let mut out = String::new();
    let paths: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    for p in paths {
        let x = fa.get(p).map(String::as_str).unwrap_or("");
        let y = fb.get(p).map(String::as_str).unwrap_or("");
        if x != y {
            let d = similar::TextDiff::from_lines(x, y);
            out.push_str(&d.unified_diff().context_radius(2).header(&format!("a/{p}"), &format!("b/{p}")).to_string());
        }
    }
    out
}

#[test]
fn changing_a_gate_changes_its_threshold_lines_only() {
    let d = diff(PROGRAM, &PROGRAM.replace("grype { fail_on = high }", "grype { fail_on = critical }"));
    insta::with_settings!({ snapshot_path => "../snapshots/pipelines" }, {
        insta::assert_snapshot!("gate_threshold", d);
    });
}

#[test]
fn requiring_a_gate_earlier_adds_it_to_that_deploy_only() {
    let d = diff(
        PROGRAM,
        &PROGRAM.replace("approvers = [\"acme/qa\"] }", "approvers = [\"acme/qa\"] requires = [secrets] }"),
    );
    insta::with_settings!({ snapshot_path => "../snapshots/pipelines" }, {
        insta::assert_snapshot!("gate_required_in_qa", d);
    });
}

#[test]
fn a_promotion_rule_moves_a_deploy_between_workflows() {
    // staging released from version tags instead of by hand from qa.
    let d =
        diff(PROGRAM, &PROGRAM.replace("promote = manual(from = qa) requires", "promote = on_tag(\"v*\") requires"));
    insta::with_settings!({ snapshot_path => "../snapshots/pipelines" }, {
        insta::assert_snapshot!("staging_on_tags", d);
    });
}

#[test]
fn jenkins_replaces_the_workflows_when_the_program_selects_it() {
    let text = format!("{PROGRAM}\npipeline {{ provider = jenkins }}\n");
    let all = build(&text, Target::ALL);
    assert!(all.iter().all(|a| !a.path.starts_with(".github/")), "no workflows for a Jenkins pipeline");
    let j = all.iter().find(|a| a.path == "jenkins/Jenkinsfile").expect("a Jenkinsfile");
    let stages: Vec<&str> = j
        .contents
        .lines()
        .filter_map(|l| l.trim().strip_prefix("stage('"))
        .map(|l| l.split('\'').next().unwrap_or(""))
        .collect();
    for s in [
        "Build",
        "Test",
        "Code Quality",
        "Security Scan",
        "Push Images",
        "Deploy: dev",
        "Deploy: qa",
        "Deploy: staging",
    ] {
        assert!(stages.contains(&s), "stage {s} in {stages:?}");
    }
    // The manual promotions wait for an approval, by the declared approvers.
    let qa = &j.contents[j.contents.find("stage('Deploy: qa')").expect("qa")..];
    let qa = &qa[..qa.find("stage('Deploy: staging')").expect("staging after qa")];
    assert!(qa.contains("input {") && qa.contains("submitter 'acme/qa'"), "{qa}");
    let github = build(PROGRAM, Target::ALL);
    assert!(github.iter().all(|a| a.path != "jenkins/Jenkinsfile"), "no Jenkinsfile for GitHub Actions");
}

#[test]
fn the_deploy_script_rewrites_exactly_the_tag_line() {
    // Run the awk program the deploy jobs use on a committed kustomization.
    let k = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcp/out/k8s/qa/kustomization.yaml");
    let before = std::fs::read_to_string(&k).expect("kustomization");
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("kustomization.yaml");
    std::fs::write(&f, &before).expect("write");
    let script =
        format!("{SET_TAG}set_tag \"$1\" 123456789012.dkr.ecr.us-east-1.amazonaws.com/healthcp main-abc1234\n");
    let out = std::process::Command::new("bash").arg("-c").arg(&script).arg("set_tag").arg(&f).output().expect("bash");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = std::fs::read_to_string(&f).expect("read");
    let changed: Vec<(&str, &str)> = before.lines().zip(after.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].1, "    newTag: main-abc1234");
    assert_eq!(before.lines().count(), after.lines().count());
    // A tag YAML would read as a number is quoted, as deployc writes it.
    let script = format!("{SET_TAG}set_tag \"$1\" 123456789012.dkr.ecr.us-east-1.amazonaws.com/healthcp 1.2\n");
    let out = std::process::Command::new("bash").arg("-c").arg(&script).arg("set_tag").arg(&f).output().expect("bash");
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&f).expect("read").contains("    newTag: \"1.2\""));
}

#[test]
fn the_program_can_override_a_pin() {
    // actions/checkout v4.2.2, the commit its tag points at.
    let text = format!(
        "{PROGRAM}\npipeline {{ actions {{ checkout = \"11bd71901bbe5b1630ceea73d27597364c9af683 v4.2.2\" }} }}\n"
    );
    let files = build(&text, &[Target::Github]);
    let ci = files.iter().find(|a| a.path.ends_with("/ci.yml")).expect("ci.yml");
    assert!(ci.contents.contains("uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"));
    let table = &pins::table().actions["actions/checkout"];
    assert!(!ci.contents.contains(&table.sha), "the table's pin is replaced everywhere");
}

#[test]
fn workflows_dir_places_the_workflows() {
    let text = format!("{PROGRAM}\npipeline {{ workflows_dir = \"ci/workflows\" }}\n");
    let files = build(&text, &[Target::Github]);
    assert!(
        files.iter().all(|a| a.path.starts_with("ci/workflows/")),
        "{:?}",
        files.iter().map(|a| &a.path).collect::<Vec<_>>()
    );
}

/// A program on either CI: a managed database backed up before production,
/// a ruff gate, and Slack told about promotions only.
fn shared_program(provider: &str) -> String {
    format!(
        r##"
project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
  domain     = "shop.acme.dev"
}}
toolchain api-py {{
  family      = python
  install     = "pip install -r requirements.txt"
  test        = ["pytest tests/unit"]
  integration = ["pytest tests/integration"]
  smoke       = ["pytest tests/smoke"]
  performance = ["locust --headless -f perf.py"]
}}
service api {{
  language = api-py
  build    {{ context = "api" }}
  port     = 8080
  expose   = ingress {{ host = "api.${{env.domain}}" }}
  uses     = [db]
}}
resource db = postgres {{
  placement = managed
  backup {{ schedule = daily retain = 7d }}
}}
integration chat = slack {{
  channel = "#deploys"
  webhook = secret("slack-webhook")
  events  = [promotion]
}}
gate lint = ruff
environment dev  {{ promote = on_push("main") notify = [chat] }}
environment prod {{
  promote = manual(from = dev)
  before  = [backup]
  after   = [health_check, smoke_tests, performance_tests]
  notify  = [chat]
}}
pipeline {{ provider = {provider} }}
"##
    )
}

#[test]
fn github_jenkins_and_gitlab_share_gates_backups_notifications_and_stages() {
    let gh = build(&shared_program("github_actions"), &[Target::Github]);
    let jf = build(&shared_program("jenkins"), &[Target::Jenkins]);
    let gl = build(&shared_program("gitlab"), &[Target::Gitlab]);
    let gh_text: String = gh.iter().map(|a| a.contents.as_str()).collect();
    let jf = &jf.iter().find(|a| a.path == "jenkins/Jenkinsfile").expect("a Jenkinsfile").contents;
    let gl = &gl.iter().find(|a| a.path == ".gitlab-ci.yml").expect("a .gitlab-ci.yml").contents;
    // ruff is pinned on all three.
    let ruff = format!("ruff=={}", pins::tool("ruff"));
    assert!(gh_text.contains(&ruff) && jf.contains(&ruff) && gl.contains(&ruff), "ruff pinned on all three");
    // The managed database is snapshotted before prod on all three.
    for t in [gh_text.as_str(), jf, gl] {
        assert!(t.contains("aws rds create-db-snapshot"));
    }
    // `promotion`: prod (promoted by hand) is announced, dev (automatic) is not.
    let cd = &gh.iter().find(|a| a.path.ends_with("/cd.yml")).expect("cd.yml").contents;
    let promote = &gh.iter().find(|a| a.path.ends_with("/promote-prod.yml")).expect("promote-prod.yml").contents;
    assert!(!cd.contains("Tell Slack") && promote.contains("Tell Slack"));
    let dev = &jf[jf.find("stage('Deploy: dev')").expect("dev stage")..jf.find("stage('Deploy: prod')").expect("prod")];
    let prod = &jf[jf.find("stage('Deploy: prod')").expect("prod stage")..];
    assert!(!dev.contains("SLACK_WEBHOOK_URL") && prod.contains("SLACK_WEBHOOK_URL"), "Jenkins: promotion means prod");
    let gl_yaml: Value = serde_yaml_ng::from_str(gl).expect("GitLab YAML");
    let gl_job = |k: &str| serde_json::to_string(&gl_yaml[k]).expect("job");
    let (gl_dev, gl_prod) = (gl_job("deploy:dev"), gl_job("deploy:prod"));
    assert!(
        !gl_dev.contains("SLACK_WEBHOOK_URL") && gl_prod.contains("SLACK_WEBHOOK_URL"),
        "GitLab: promotion means prod"
    );

    // Unit tests, then integration tests beside a PostgreSQL container, on all three.
    let ci: Value = serde_yaml_ng::from_str(&gh.iter().find(|a| a.path.ends_with("/ci.yml")).expect("ci.yml").contents)
        .expect("ci");
    let unit = serde_json::to_string(&ci["jobs"]["test-api"]).expect("unit job");
    let integ = &ci["jobs"]["integration-api"];
    assert!(unit.contains("pytest tests/unit") && !unit.contains("pytest tests/integration"), "{unit}");
    assert_eq!(integ["needs"][0].as_str(), Some("test-api"));
    assert_eq!(integ["services"]["postgres"]["image"].as_str(), Some("postgres:16"));
    assert_eq!(integ["env"]["DATABASE_URL"].as_str(), Some("postgresql://test@localhost:5432/test"));
    assert!(serde_json::to_string(integ).expect("job").contains("pytest tests/integration"));
    let (t, i, q) = (
        jf.find("stage('Test')").expect("Test"),
        jf.find("stage('Integration Test')").expect("Integration Test"),
        jf.find("stage('Code Quality')").expect("Code Quality"),
    );
    assert!(t < i && i < q, "Jenkins: unit, then integration");
    let jf_integ = &jf[i..q];
    assert!(jf_integ.contains("docker run --detach --publish 127.0.0.1::5432"), "{jf_integ}");
    assert!(jf_integ.contains("export DATABASE_URL=\"postgresql://test@127.0.0.1:$port/test\""), "{jf_integ}");
    assert!(jf_integ.contains("pytest tests/integration") && !jf[t..i].contains("pytest tests/integration"));
    let gl_integ = &gl_yaml["integration:api"];
    assert_eq!(gl_integ["stage"].as_str(), Some("integration"));
    assert_eq!(gl_integ["services"][0]["name"].as_str(), Some("postgres:16"));
    assert_eq!(gl_integ["variables"]["DATABASE_URL"]["value"].as_str(), Some("postgresql://test@postgres:5432/test"));
    assert!(gl_yaml["test:api"]["services"].is_null(), "unit tests run without containers");

    // After the prod deploy and before the verified release is recorded:
    // the health check, the smoke suite and the performance suite against
    // the public URL, in `after`'s order, on all three (dev asks for none).
    let base = "https://api.shop-prod.shop.acme.dev";
    let order = |text: &str, marks: &[&str]| -> Vec<usize> {
        marks.iter().map(|m| text.find(m).unwrap_or_else(|| panic!("{m} missing in:\n{text}"))).collect()
    };
    for (what, text) in [("GitHub", promote.as_str()), ("Jenkins", prod)] {
        let at = order(text, &["pytest tests/smoke", "locust --headless -f perf.py", "git tag --force"]);
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{what}: suites run in order, before the record: {at:?}");
        assert!(text.contains(base), "{what}: BASE_URL is the public route");
    }
    // GitLab: the commands live in variables; the script reads them by name.
    let job = &gl_yaml["deploy:prod"];
    let var_of = |value: &str| -> String {
        job["variables"]
            .as_object()
            .expect("variables")
            .iter()
            .find(|(_, v)| v["value"].as_str() == Some(value))
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("no variable holds {value}"))
    };
    let script: Vec<&str> = job["script"].as_array().expect("script").iter().filter_map(|l| l.as_str()).collect();
    let line_of = |needle: &str| script.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}"));
    let at = [
        line_of(&format!("\"${}\"", var_of("pytest tests/smoke"))),
        line_of(&format!("\"${}\"", var_of("locust --headless -f perf.py"))),
        line_of("git tag --force \"$VERIFIED_TAG\""),
    ];
    assert!(at.windows(2).all(|w| w[0] < w[1]), "GitLab: suites in order, before the record: {at:?}");
    assert!(gl_prod.contains(base), "GitLab: BASE_URL is the public route");
    for text in [cd.as_str(), dev, gl_dev.as_str()] {
        assert!(!text.contains("pytest tests/smoke") && !text.contains("locust"), "dev asks for no suite");
    }
}

/// ECR tags are immutable: no build pushes a fixed cache tag, and a re-run
/// of the same commit keeps the tag it pushed, on both CIs.
#[test]
fn immutable_registries_get_no_fixed_tags_and_idempotent_pushes() {
    let ecr = |p: &str| {
        shared_program(p).replace(
            r#"registry   = ghcr { owner = "acme" }"#,
            r#"registry   = ecr { region = "eu-west-1" account = "123456789012" }"#,
        )
    };
    let gh: String = build(&ecr("github_actions"), &[Target::Github]).iter().map(|a| a.contents.clone()).collect();
    let jf: String = build(&ecr("jenkins"), &[Target::Jenkins]).iter().map(|a| a.contents.clone()).collect();
    for text in [&gh, &jf] {
        assert!(!text.contains(":buildcache"), "a fixed cache tag on ECR");
        assert!(text.contains("docker buildx imagetools inspect \"$IMAGE:"), "no existing-tag check");
    }
    assert!(gh.contains("type=gha,scope=${{ matrix.service }}"));
    assert!(jf.contains("type=local,dest=$CACHE.new") && jf.contains("docker buildx create --name deployc"));
    // A mutable registry keeps its registry cache.
    let ghcr: String =
        build(&shared_program("github_actions"), &[Target::Github]).iter().map(|a| a.contents.clone()).collect();
    assert!(ghcr.contains(":buildcache") && !ghcr.contains("imagetools inspect"));
}
