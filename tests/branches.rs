//! GitFlow: `on_push(...)` with several branches and patterns (seed 004:
//! develop → staging; release branches and main → production). Each CI
//! renders the same set of branches: GitHub's `on.push.branches` and job
//! `if:`, a Jenkins `branch pattern: ..., comparator: 'GLOB'`, a GitLab
//! `$CI_COMMIT_BRANCH =~ /.../` regex. The regexes are run (bash's ERE,
//! which reads these as RE2 and Java do) against a reference matcher of the
//! patterns' meaning: `*` within one `/`-separated part, a last part `**`
//! any rest.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::{branches, Plan};
use proptest::prelude::*;
use serde_yaml_ng::Value;
use std::process::Command;

fn program(provider: &str, production: &str) -> String {
    format!(
        r##"
project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
  domain     = "shop.acme.dev"
  branch     = "develop"
}}
service api {{
  language = python
  build    {{ context = "api" }}
  port     = 8080
  expose   = ingress {{ host = "api.${{env.domain}}" }}
  health   = http {{ path = "/healthz" }}
}}
environment staging {{ promote = on_push("develop") }}
environment production {{
  production = true
  promote    = on_push({production})
  approvers  = ["release-managers"]
}}
pipeline {{ provider = {provider} }}
"##
    )
}

const GITFLOW: &str = r#""main", "release/*""#;

fn compile(text: &str) -> Result<deployc::Compilation, Vec<String>> {
    let c = deployc::compile("test.dpl", text, &common::Disk);
    if c.output.is_some() && !c.diagnostics.has_errors() {
        Ok(c)
    } else {
        Err(c.diagnostics.items.iter().map(|d| format!("{}: {}", d.code.as_str(), d.message)).collect())
    }
}

fn build(text: &str, target: Target) -> Vec<(String, String)> {
    let c = compile(text).unwrap_or_else(|e| panic!("compiles: {e:?}"));
    let (model, graph) = c.output.expect("a model");
    let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target]);
    out.into_iter().map(|a| (a.path, a.contents)).collect()
}

fn file(files: &[(String, String)], path: &str) -> String {
    files.iter().find(|(p, _)| p.ends_with(path)).map(|(_, t)| t.clone()).unwrap_or_else(|| panic!("no {path}"))
}

/// What a pattern means: `*` any run within one part, `**` as the last part any rest.
fn reference(pattern: &str, branch: &str) -> bool {
    fn part(p: &[char], b: &[char]) -> bool {
        match p.split_first() {
            None => b.is_empty(),
            Some(('*', rest)) => (0..=b.len()).any(|i| part(rest, &b[i..])),
            Some((c, rest)) => b.first() == Some(c) && part(rest, &b[1..]),
        }
    }
    let ps: Vec<&str> = pattern.split('/').collect();
    let bs: Vec<&str> = branch.split('/').collect();
    if ps.last() == Some(&"**") {
        let n = ps.len() - 1;
        return bs.len() > n
            && ps[..n]
                .iter()
                .zip(&bs)
                .all(|(p, b)| part(&p.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>()));
    }
    ps.len() == bs.len()
        && ps.iter().zip(&bs).all(|(p, b)| part(&p.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>()))
}

/// Which of the branches the regex matches, by bash's `[[ =~ ]]`.
fn regex_matches(regex: &str, branches: &[&str]) -> Vec<bool> {
    let script = "re=$1; shift; for b in \"$@\"; do if [[ $b =~ $re ]]; then echo y; else echo n; fi; done";
    let out = Command::new("bash").arg("-c").arg(script).arg("bash").arg(regex).args(branches).output().expect("bash");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l == "y").collect()
}

const BRANCHES: &[&str] = &[
    "main",
    "mainline",
    "develop",
    "release/1.2",
    "release/1.2/hotfix",
    "release/",
    "xrelease/1.2",
    "feature/a",
    "feature/a/b",
    "feature",
    "v1.2-rc1",
    "v1x2-rc1",
    "hotfix-9/x",
];

#[test]
fn regexes_match_what_the_patterns_mean() {
    for p in ["main", "release/*", "feature/**", "**", "*", "v1.2-rc*", "hot*-*/x", "*/a"] {
        let want: Vec<bool> = BRANCHES.iter().map(|b| reference(p, b)).collect();
        // The GitLab literal's `\/` is `/` to an ERE too.
        let got = regex_matches(&branches::regex(p), BRANCHES);
        assert_eq!(got, want, "{p}: {}", branches::regex(p));
    }
    assert!(reference("release/*", "release/1.2") && !reference("release/*", "release/1.2/hotfix"));
}

#[test]
fn github_deploys_production_from_main_and_release_branches() {
    let files = build(&program("github_actions", GITFLOW), Target::Github);
    let cd: Value = serde_yaml_ng::from_str(&file(&files, "cd.yml")).expect("yaml");
    let pushed: Vec<&str> =
        cd["on"]["push"]["branches"].as_sequence().expect("branches").iter().filter_map(Value::as_str).collect();
    for b in ["develop", "main", "release/*"] {
        assert!(pushed.contains(&b), "{b} in {pushed:?}");
    }
    let prod = cd["jobs"]["deploy-production"]["if"].as_str().expect("if");
    assert!(prod.contains("github.ref == 'refs/heads/main'"), "{prod}");
    assert!(prod.contains("startsWith(github.ref, 'refs/heads/release/')"), "{prod}");
    assert!(!prod.contains("develop"), "{prod}");
    let staging = cd["jobs"]["deploy-staging"]["if"].as_str().expect("if");
    assert!(staging.contains("refs/heads/develop") && !staging.contains("release"), "{staging}");
    // The approvers are the GitHub environment's reviewers.
    assert_eq!(cd["jobs"]["deploy-production"]["environment"]["name"].as_str(), Some("production"));
    assert!(file(&files, "cd.yml").contains("required reviewers of the \"production\" environment"));
}

#[test]
fn jenkins_matches_release_branches_with_an_ant_glob_behind_an_approval() {
    let jf = file(&build(&program("jenkins", GITFLOW), Target::Jenkins), "jenkins/Jenkinsfile");
    let cond = "anyOf { branch 'main'; branch pattern: 'release/*', comparator: 'GLOB' }";
    let stage = &jf[jf.find("stage('Deploy production')").or(jf.find("production")).expect("production")..];
    assert!(jf.contains(cond), "{jf}");
    assert!(jf.contains("branch 'develop'"));
    // The production stage waits for a release manager, though a push starts it.
    let prod = jf.find(cond).expect("production's when");
    let input = jf[prod..].find("input {").expect("an input");
    assert!(jf[prod + input..].starts_with("input {\n        message 'Deploy shop to production?'"), "{stage}");
    assert!(jf[prod..].contains("submitter 'release-managers'"));
}

#[test]
fn gitlab_matches_release_branches_with_a_regex() {
    let text = file(&build(&program("gitlab", GITFLOW), Target::Gitlab), ".gitlab-ci.yml");
    let y: Value = serde_yaml_ng::from_str(&text).expect("yaml");
    let cond = y["deploy:production"]["rules"][0]["if"].as_str().expect("if");
    assert_eq!(cond, r#"$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_BRANCH =~ /^release\/[^\/]*$/"#);
    let staging = y["deploy:staging"]["rules"][0]["if"].as_str().expect("if");
    assert_eq!(staging, r#"$CI_COMMIT_BRANCH == "develop""#);
    // The regex between the slashes: every `/` of it escaped, so GitLab's
    // lexer ends the literal where it should.
    let re = cond.split("=~ /").nth(1).expect("regex").strip_suffix('/').expect("closing slash");
    assert!(!re.replace("\\/", "").contains('/'), "{re}");
    let got = regex_matches(re, BRANCHES);
    let want: Vec<bool> = BRANCHES.iter().map(|b| reference("release/*", b)).collect();
    assert_eq!(got, want);
}

#[test]
fn untranslatable_patterns_are_refused_with_their_codes() {
    for (p, code) in [
        (r#""release/**/fix""#, "E0603"),
        (r#""a***""#, "E0603"),
        (r#""rel+*""#, "E0603"),
        (r#""[ab]*""#, "E0603"),
        (r#""main", "main""#, "E0604"),
        (r#""ma in*""#, "E0603"),
        (r#""main branch""#, "E0330"),
    ] {
        let errs = compile(&program("gitlab", p)).err().unwrap_or_else(|| panic!("{p} is refused"));
        assert!(errs.iter().any(|e| e.starts_with(code)), "{p}: {errs:?}");
    }
}

fn hostile_pattern() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("*".to_string()),
        Just("**".to_string()),
        Just("/".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("$".to_string()),
        Just("\\".to_string()),
        Just("{".to_string()),
        Just(")".to_string()),
        Just("|".to_string()),
        Just("#".to_string()),
        Just(".".to_string()),
        "[a-z0-9-]{1,4}",
    ];
    prop::collection::vec(piece, 1..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// An accepted pattern reaches GitLab as an anchored regex that means
    /// what the pattern means, and Jenkins only inside a Groovy literal.
    #[test]
    fn accepted_patterns_render_as_they_mean(p in hostile_pattern()) {
        let text = program("gitlab", &format!("\"main\", \"{}\"", p.replace('\\', "\\\\").replace('"', "\\\"")));
        if compile(&text).is_ok() && p != "main" {
            let y: Value = serde_yaml_ng::from_str(&file(&build(&text, Target::Gitlab), ".gitlab-ci.yml")).expect("yaml");
            let cond = y["deploy:production"]["rules"][0]["if"].as_str().expect("if").to_string();
            prop_assert!(!cond.contains('\''), "{}", cond);
            if p.contains('*') {
                let re = branches::regex(&p);
                prop_assert!(cond.ends_with(&format!("=~ /{re}/")), "{}", cond);
                prop_assert!(!re.replace("\\/", "").contains('/'));
                let mut names: Vec<String> = BRANCHES.iter().map(|s| s.to_string()).collect();
                names.push(p.replace("**", "a/b").replace('*', "x"));
                names.push(p.replace("**", "a").replace('*', ""));
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let want: Vec<bool> = refs.iter().map(|b| reference(&p, b)).collect();
                prop_assert_eq!(regex_matches(&re, &refs), want, "{}", re);
            }
        }
    }
}

/// The deploy job's expression cannot glob (`startsWith` admits
/// `release/a/b`), and the workflow runs on every branch (`push`), so the
/// scope job matches the ref with the same regex as above and the deploy
/// job requires its answer; run here with bash as the runner would.
#[test]
fn github_gates_release_branches_exactly_through_the_scope_job() {
    let text = program("github_actions", GITFLOW).replace(
        "pipeline { provider = github_actions }",
        "pipeline {\n  provider = github_actions\n  triggers = [push, pull_request]\n}",
    );
    let cd: Value = serde_yaml_ng::from_str(&file(&build(&text, Target::Github), "cd.yml")).expect("yaml");
    assert_eq!(cd["on"]["push"]["branches"][0].as_str(), Some("**"), "every branch reaches the workflow");
    let prod = cd["jobs"]["deploy-production"]["if"].as_str().expect("if");
    assert!(prod.ends_with("&& needs.scope.outputs.deploy-production == 'true'"), "{prod}");
    let step = cd["jobs"]["scope"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| s["id"].as_str() == Some("scope"))
        .expect("the scope step");
    let routes = step["env"]["ROUTES"].as_str().expect("ROUTES");
    assert!(routes.contains(&format!("production branch {}\n", branches::regex("release/*"))), "{routes}");
    for b in BRANCHES {
        let out = tempfile::NamedTempFile::new().expect("tmp");
        let run = Command::new("bash")
            .arg("-ec")
            .arg(step["run"].as_str().expect("run"))
            .env("GITHUB_OUTPUT", out.path())
            .env("REF_KIND", "branch")
            .env("REF_NAME", b)
            .env("ROUTES", routes)
            .env("INCREMENTAL", "false")
            .output()
            .expect("bash");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let got = std::fs::read_to_string(out.path()).expect("output");
        let want = reference("main", b) || reference("release/*", b);
        assert!(got.contains(&format!("deploy-production={want}\n")), "{b}: {got}");
        assert!(got.contains(&format!("deploy-staging={}\n", *b == "develop")), "{b}: {got}");
    }
    // A tag push deploys neither.
    let out = tempfile::NamedTempFile::new().expect("tmp");
    Command::new("bash")
        .arg("-ec")
        .arg(step["run"].as_str().expect("run"))
        .env("GITHUB_OUTPUT", out.path())
        .env("REF_KIND", "tag")
        .env("REF_NAME", "main")
        .env("ROUTES", routes)
        .env("INCREMENTAL", "false")
        .output()
        .expect("bash");
    assert!(std::fs::read_to_string(out.path()).expect("output").contains("deploys=\n"));
}
