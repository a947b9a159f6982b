//! `risk { paths trailer }`: the risk script (`plan::risk::RISK_SH`) run
//! with bash against a real git repository whose remote holds the tag of
//! the last verified source commit, and the Jenkinsfile's gating of the
//! canary's approval and the full promotion on its result. Under GitHub
//! Actions and GitLab CI the rule is W0021 and changes nothing.

mod common;
use common::git;
use deployc::emit::{self, Target};
use deployc::plan::{risk, Plan};
use std::path::Path;
use std::process::Command;

fn program(provider: &str, paths: &str) -> String {
    format!(
        r#"
project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "acme" }}
}}
service api {{
  language = go
  build    {{ context = "api" }}
  port     = 8080
  health   = http {{ path = "/healthz" }}
}}
environment production {{
  production = true
  promote    = on_push("main")
  approvers  = ["release-managers"]
  strategy   = canary {{ steps = [10%, pause(10m), pause(manual), 100%] }}
  risk {{
    paths   = [{paths}]
    trailer = "Risk: high"
  }}
}}
pipeline {{
  provider = {provider}
}}
"#
    )
}

const PATHS: &str = r#""api/db/**", "api/migrations/**""#;

fn build(text: &str, target: Target) -> Vec<(String, String)> {
    let c = deployc::compile("shop.dpl", text, &common::Disk);
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {:#?}", c.diagnostics));
    let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target]);
    out.into_iter().map(|a| (a.path, a.contents)).collect()
}

fn jenkinsfile(text: &str) -> String {
    build(text, Target::Jenkins).into_iter().find(|(p, _)| p.ends_with("Jenkinsfile")).expect("a Jenkinsfile").1
}

fn write(dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A repository with its remote (a bare repository): a first commit on
/// `main`, pushed. Returns the temporary folder, the work tree and the remote.
fn repo() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let remote = tmp.path().join("origin.git");
    let d = tmp.path().join("work");
    std::fs::create_dir_all(&d).expect("mkdir");
    git(tmp.path(), &["init", "-q", "--bare", "origin.git"]);
    git(&d, &["init", "-q", "-b", "main"]);
    git(&d, &["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    write(&d, "api/main.go", "package main\n");
    write(&d, "api/db/schema.sql", "create table a (id int);\n");
    write(&d, "README.md", "shop\n");
    commit(&d, "first");
    git(&d, &["push", "-q", "origin", "main"]);
    (tmp, d, remote)
}

fn commit(d: &Path, message: &str) {
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", message]);
}

/// Records HEAD as production's last verified source commit, as the
/// record step does (`plan::risk::RECORD_BASE`).
fn verify(d: &Path) {
    git(d, &["tag", "--force", "deployc-verified-production-source", "HEAD"]);
    git(d, &["push", "-q", "--force", "origin", "refs/tags/deployc-verified-production-source"]);
    // The runner's clone starts without the tag: the script fetches it.
    git(d, &["tag", "-d", "deployc-verified-production-source"]);
}

/// Runs the risk script in `d`; returns its decision and log.
fn decide(d: &Path, paths: &str, trailer: &str) -> (String, String) {
    let out = d.parent().expect("parent").join("risk.env");
    let _ = std::fs::remove_file(&out);
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("set -eo pipefail\n{}", risk::risk_script()))
        .current_dir(d)
        .env("ENVIRONMENT", "production")
        .env("remote", "origin")
        .env("RISK_PATHS", paths)
        .env("RISK_TRAILER", trailer)
        .env("IGNORED", "k8s/")
        .env("RISK_OUT", &out)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("bash runs");
    let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "the risk script failed: {log}");
    let text = std::fs::read_to_string(&out).expect("the script writes its decision");
    let risk = text.lines().find_map(|l| l.strip_prefix("risk=")).expect("risk=").to_string();
    let source = text.lines().find_map(|l| l.strip_prefix("source=")).expect("source=").to_string();
    assert_eq!(source, git(d, &["rev-parse", "HEAD"]), "the source is the commit checked out");
    (risk, log)
}

const RULE: &str = "api/db/**\napi/migrations/**\n";

#[test]
fn a_change_to_low_risk_paths_only_is_low() {
    let (_tmp, d, _) = repo();
    verify(&d);
    write(&d, "api/main.go", "package main\n\nfunc main() {}\n");
    write(&d, "README.md", "shop, again\n");
    // A deploy commit's folder is never a change.
    write(&d, "k8s/production/kustomization.yaml", "images: []\n");
    commit(&d, "handler\n\nRisk: low");
    let (risk, log) = decide(&d, RULE, "Risk: high");
    assert_eq!(risk, "low", "{log}");
}

#[test]
fn a_change_to_a_high_risk_path_is_high() {
    let (_tmp, d, _) = repo();
    verify(&d);
    write(&d, "api/main.go", "package main\n\nfunc main() {}\n");
    commit(&d, "handler");
    write(&d, "api/migrations/0002_add_index.sql", "create index i on a (id);\n");
    commit(&d, "migration");
    let (risk, log) = decide(&d, RULE, "Risk: high");
    assert_eq!(risk, "high", "{log}");
    assert!(log.contains("api/migrations/0002_add_index.sql changed"), "{log}");
    // Removing a high-risk file is a high-risk change too.
    let (_tmp, d, _) = repo();
    verify(&d);
    std::fs::remove_file(d.join("api/db/schema.sql")).expect("rm");
    commit(&d, "drop the schema");
    assert_eq!(decide(&d, RULE, "Risk: high").0, "high");
}

#[test]
fn a_trailer_makes_a_release_high() {
    let (_tmp, d, _) = repo();
    verify(&d);
    write(&d, "api/main.go", "package main\n\nfunc main() {}\n");
    commit(&d, "switch the session store\n\nThe new store is untested under load.\n\nrisk: HIGH");
    write(&d, "README.md", "shop, again\n");
    commit(&d, "docs");
    let (risk, log) = decide(&d, RULE, "Risk: high");
    assert_eq!(risk, "high", "{log}");
    // A mention in the body is not a trailer.
    let (_tmp, d, _) = repo();
    verify(&d);
    write(&d, "README.md", "shop, again\n");
    commit(&d, "Risk: high is what this is not\n\nNo trailer here.\nSigned-off-by: t <t@t>");
    assert_eq!(decide(&d, RULE, "Risk: high").0, "low");
}

#[test]
fn without_a_verified_release_a_release_is_high() {
    let (_tmp, d, _) = repo();
    write(&d, "README.md", "shop, again\n");
    commit(&d, "docs");
    let (risk, log) = decide(&d, RULE, "Risk: high");
    assert_eq!(risk, "high", "{log}");
    assert!(log.contains("no verified release yet"), "{log}");
}

#[test]
fn a_verified_commit_the_history_lacks_is_high() {
    let (_tmp, d, _) = repo();
    // The tag names a commit of another history (a rewritten branch).
    let other = d.parent().expect("parent").join("other");
    std::fs::create_dir_all(&other).expect("mkdir");
    git(&other, &["init", "-q", "-b", "main"]);
    write(&other, "x", "x\n");
    commit(&other, "elsewhere");
    git(
        &other,
        &[
            "push",
            "-q",
            "--force",
            d.parent().expect("p").join("origin.git").to_str().expect("utf-8"),
            "HEAD:refs/tags/deployc-verified-production-source",
        ],
    );
    write(&d, "README.md", "shop, again\n");
    commit(&d, "docs");
    // Unrelated histories compare as every file changed: high.
    assert_eq!(decide(&d, RULE, "Risk: high").0, "high");
}

/// The Groovy single-quoted literal after `key=` in `text`, unescaped.
fn groovy_binding(text: &str, key: &str) -> String {
    let start = text.find(&format!("'{key}=")).unwrap_or_else(|| panic!("{key} is bound")) + key.len() + 2;
    let mut out = String::new();
    let mut chars = text[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => return out,
            '\\' => match chars.next().expect("escape") {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated literal")
}

#[test]
fn a_hostile_pattern_stays_inert() {
    let hostile = r#"x'; touch pwned; echo '$(touch pwned2)`touch pwned3`"#;
    let text = program("jenkins", &format!("{PATHS}, \"{}\"", hostile.replace('\\', "\\\\").replace('"', "\\\"")));
    let jf = jenkinsfile(&text);
    // Never in a script's text: a binding of the step's environment only.
    assert_eq!(jf.matches("touch pwned2").count(), 1, "the pattern is somewhere else than its binding");
    let paths = groovy_binding(&jf, "RISK_PATHS");
    assert!(paths.lines().any(|l| l == hostile), "{paths:?}");
    let (_tmp, d, _) = repo();
    verify(&d);
    write(&d, "README.md", "shop, again\n");
    commit(&d, "docs");
    let (risk, log) = decide(&d, &paths, &groovy_binding(&jf, "RISK_TRAILER"));
    assert_eq!(risk, "low", "{log}");
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(!d.join(f).exists(), "the pattern ran a command: {log}");
    }
}

/// The body of the stage titled `title`, up to the next stage.
fn stage<'a>(jf: &'a str, title: &str) -> &'a str {
    let start = jf.find(&format!("stage('{title}')")).unwrap_or_else(|| panic!("no stage {title}"));
    let rest = &jf[start + 1..];
    let end = rest.find("\n    stage(").map_or(rest.len(), |i| i + 1);
    &jf[start..start + end]
}

#[test]
fn jenkins_gates_the_approval_and_the_full_promotion_on_the_risk() {
    let jf = jenkinsfile(&program("jenkins", PATHS));
    let deploy = stage(&jf, "Canary Release: production");
    // The risk is decided before the release commit, and kept for the stages after.
    let decided = deploy.find("release risk: $risk").expect("the risk step");
    assert!(decided < deploy.find("git commit --quiet").expect("the release commit"));
    assert!(deploy.contains("env.RELEASE_RISK = sh(returnStdout: true"), "{deploy}");
    // Low risk: every rollout promoted in full right after the sync.
    let promote = deploy.find("if [ \"$RELEASE_RISK\" = low ]; then").expect("the low-risk branch");
    assert!(deploy[promote..].contains("promote-full --kind Rollout --group argoproj.io --resource-name \"$rollout\""));
    assert!(deploy.find("--suspended").expect("waits for the first pause") < promote);
    // High risk only: the person's approval, in a stage of its own.
    let approval = stage(&jf, "Approve Canary: production");
    assert!(approval.contains("expression { env.RELEASE_RISK != 'low' }"), "{approval}");
    assert!(approval.contains("input {") && approval.contains("submitter 'release-managers'"), "{approval}");
    let release = stage(&jf, "Production Release: production");
    assert!(!release.contains("input {"), "the release stage asks nobody: {release}");
    assert!(release.contains("if [ \"$RELEASE_RISK\" = low ]; then\n  echo \"low-risk release: promoted in full after the sync\"\nelse\n  argocd app actions run \"$APP\" promote-full"), "{release}");
    // Recorded with the verified tag, after the checks.
    assert!(release.contains("git tag --force \"$RISK_BASE_TAG\" \"$RISK_SOURCE\""), "{release}");
    // Rolled back the same way whatever the risk.
    assert!(release.contains("git revert --no-edit --no-commit \"$DEPLOY_COMMIT\""));
    // Without the rule, the approval is the release stage's own, as before.
    let plain = program("jenkins", PATHS).replace(
        "  risk {\n    paths   = [\"api/db/**\", \"api/migrations/**\"]\n    trailer = \"Risk: high\"\n  }\n",
        "",
    );
    let jf = jenkinsfile(&plain);
    assert!(!jf.contains("RELEASE_RISK") && !jf.contains("Approve Canary"));
    assert!(stage(&jf, "Production Release: production").contains("input {"));
}

#[test]
fn elsewhere_the_rule_is_w0021_and_every_release_takes_the_canary() {
    let strip = |t: &str| {
        t.replace(
            "  risk {\n    paths   = [\"api/db/**\", \"api/migrations/**\"]\n    trailer = \"Risk: high\"\n  }\n",
            "",
        )
    };
    for (provider, target) in [("github_actions", Target::Github), ("gitlab", Target::Gitlab)] {
        let text = program(provider, PATHS);
        let c = deployc::compile("shop.dpl", &text, &common::Disk);
        let codes: Vec<String> = c.diagnostics.items.iter().map(|d| d.code.as_str().to_string()).collect();
        assert!(codes.contains(&"W0021".to_string()), "{provider}: {codes:?}");
        assert_eq!(build(&text, target), build(&strip(&text), target), "{provider}: the rule changed the output");
    }
}

/// The `sh '''...'''` script of `stage` that contains `marker`, as bash reads it.
fn script(stage: &str, marker: &str) -> String {
    let at = stage.find(marker).unwrap_or_else(|| panic!("no script with {marker:?}"));
    let start = stage[..at].rfind("sh '''").expect("a multi-line sh step") + "sh '''".len();
    let end = at + stage[at..].find("'''").expect("the script ends");
    stage[start..end].replace("\\\\", "\\")
}

/// Runs a Jenkins script in a repository whose risk file says `risk`, with
/// a stub `argocd` that records its arguments; returns them.
fn run_with_risk(script: &str, risk: Option<&str>) -> String {
    let (tmp, d, _) = repo();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let log = tmp.path().join("argocd.log");
    let stub = bin.join("argocd");
    std::fs::write(&stub, format!("#!/usr/bin/env bash\necho \"$*\" >> '{}'\n", log.display())).expect("stub");
    std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    if let Some(r) = risk {
        write(&d, ".git/deployc-risk-production.env", &format!("risk={r}\nsource=abc\n"));
    }
    let o = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(&d)
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("ENVIRONMENT", "production")
        .env("APP", "shop-production")
        .env("ROLLOUTS", "api")
        .env("TIMEOUT", "1500")
        .output()
        .expect("bash runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&log).unwrap_or_default()
}

#[test]
fn jenkins_promotes_in_full_exactly_the_low_risk_releases() {
    let jf = jenkinsfile(&program("jenkins", PATHS));
    let after_sync = script(stage(&jf, "Canary Release: production"), "low-risk release: promoting");
    let release = script(stage(&jf, "Production Release: production"), "promoted in full after the sync");
    // Low: promoted in full after the sync; the release step only waits.
    let calls = run_with_risk(&after_sync, Some("low"));
    assert_eq!(
        calls,
        "app actions run shop-production promote-full --kind Rollout --group argoproj.io --resource-name api\napp wait shop-production --sync --health --timeout 1500\n"
    );
    assert_eq!(run_with_risk(&release, Some("low")), "app wait shop-production --sync --health --timeout 1500\n");
    // High, or no decision at all: nothing promoted until the approved release step.
    for risk in [Some("high"), None, Some("")] {
        assert_eq!(run_with_risk(&after_sync, risk), "", "{risk:?}");
        assert_eq!(
            run_with_risk(&release, risk),
            "app actions run shop-production promote-full --kind Rollout --group argoproj.io --all\napp wait shop-production --sync --health --timeout 1500\n",
            "{risk:?}"
        );
    }
}
