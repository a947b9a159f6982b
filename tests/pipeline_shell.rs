//! Runs the generated deploy and promotion jobs' shell, step by step, the
//! way the runner would: each `run:` script under `bash -e` with the job's
//! and the step's environment, `if:` conditions evaluated, `${{ }}`
//! expressions substituted. `git` is real, against a local bare remote that
//! holds the committed example tree; `argocd`, `curl`, `sudo`, `aws`,
//! `docker` and `kubectl` are stubs on PATH that record their arguments.
//! Steps that are actions (`uses:`) are not run: the test does the checkout
//! itself (a clone of the remote, as `fetch-depth: 0` gives), and the Argo
//! CD CLI install is skipped (it downloads a release).
//!
//! Scenarios (healthcp, seed 000): a first deploy, a second run of the same
//! commit, a deploy whose health check fails (the rollback), and a
//! promotion that copies the source environment's *verified* tag rather
//! than the tag at the branch head. The Jenkinsfile renders the same plan
//! shell (`plan::delivery`); here the GitHub rendering is executed, and
//! the GitLab rendering's `deploy:staging` job (tests/programs/gitlab.dpl):
//! its `script:` as one bash script, then `after_script:` with
//! `$CI_JOB_STATUS` — a first deploy, a re-run, a failed health check.

mod common;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = "acme/healthcp";
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/healthcp";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).output().expect("git runs");
    assert!(out.status.success(), "git {args:?} in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// A stub: records `name args…` in `$STUB_LOG` (one line, arguments
/// shell-quoted where needed), then behaves as `body` says.
fn stub(bin: &Path, name: &str, body: &str) {
    let path = bin.join(name);
    std::fs::write(
        &path,
        format!("#!/usr/bin/env bash\n{{ printf '%s' {name}; printf ' %q' \"$@\"; echo; }} >> \"$STUB_LOG\"\n{body}\n"),
    )
    .expect("stub");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    remote: PathBuf,
    bin: PathBuf,
    log: PathBuf,
    example: String,
}

impl World {
    /// A bare remote whose `main` holds the example's committed tree under `out/`.
    fn new(example: &str) -> World {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let remote = root.join("remote.git");
        std::fs::create_dir_all(&remote).expect("mkdir");
        git(&remote, &["init", "--quiet", "--bare", "-b", "main"]);
        let seed = root.join("seed");
        std::fs::create_dir_all(&seed).expect("mkdir");
        git(&seed, &["init", "--quiet", "-b", "main"]);
        copy_dir(&Path::new("examples").join(example).join("out"), &seed.join("out"));
        git(&seed, &["add", "."]);
        git(&seed, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "generated tree"]);
        git(&seed, &["push", "--quiet", remote.to_str().expect("utf8"), "main"]);
        // GitFlow programs (healthcare-devops) deploy from develop.
        git(&seed, &["push", "--quiet", remote.to_str().expect("utf8"), "main:develop"]);
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        // argocd: `app get --output json` answers from $STUB_ARGO_JSON.
        stub(&bin, "argocd", "case \"$*\" in *'app get'*'--output json'*) cat \"$STUB_ARGO_JSON\" ;; esac");
        // curl: fails like `--fail` on an error status for URLs containing
        // $STUB_CURL_FAIL; `--write-out` answers 200; API calls answer `{}`.
        stub(
            &bin,
            "curl",
            "if [ -n \"$STUB_CURL_FAIL\" ]; then case \"$*\" in *\"$STUB_CURL_FAIL\"*) exit 22 ;; esac; fi\ncase \"$*\" in *--write-out*) printf 200 ;; *) echo '{}' ;; esac",
        );
        // The post-deploy suites (integration, performance) run their runtime's tools.
        for name in ["sudo", "aws", "docker", "kubectl", "crane", "npm", "npx", "pip", "pytest", "go"] {
            stub(&bin, name, "");
        }
        // The workflow's authenticated remote URL is this bare repository.
        let gitconfig = root.join("gitconfig");
        std::fs::write(
            &gitconfig,
            format!(
                "[url \"{}\"]\n\tinsteadOf = https://x-access-token:token@github.com/{REPO}.git\n",
                remote.display()
            ),
        )
        .expect("gitconfig");
        let log = root.join("calls.log");
        World { _tmp: tmp, root, remote, bin, log, example: example.to_string() }
    }

    fn workflow(&self, name: &str) -> Value {
        let path = Path::new("examples").join(&self.example).join("out/.github/workflows").join(name);
        serde_yaml_ng::from_str(&std::fs::read_to_string(&path).expect("workflow")).expect("yaml")
    }

    fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, args)
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_string).collect()
    }
}

/// What a job run did.
struct JobRun {
    failed: bool,
    /// Step names that ran, with their exit status.
    ran: Vec<(String, bool)>,
    outputs: BTreeMap<String, String>,
}

/// Substitutes the `${{ }}` expressions the deploy jobs use.
fn expand(s: &str, outputs: &BTreeMap<String, String>, needs: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").expect("closed expression") + i;
        out.push_str(&value(rest[i + 3..j].trim(), outputs, needs));
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

fn value(expr: &str, outputs: &BTreeMap<String, String>, needs: &BTreeMap<String, String>) -> String {
    if let Some(k) = expr.strip_prefix("steps.release.outputs.") {
        return outputs.get(k).cloned().unwrap_or_default();
    }
    if let Some(k) = expr.strip_prefix("needs.") {
        return needs.get(k).cloned().unwrap_or_default();
    }
    if expr.starts_with("secrets.") {
        return "token".into();
    }
    match expr {
        "github.run_id" => "42".into(),
        "'${{'" => "${{".into(),
        _ => panic!("the test does not know the expression {expr}"),
    }
}

/// `if:` as the runner evaluates the forms the deploy jobs use.
fn condition(
    c: Option<&str>,
    failed: bool,
    outputs: &BTreeMap<String, String>,
    needs: &BTreeMap<String, String>,
) -> bool {
    let Some(c) = c else { return !failed };
    let c = c.trim().trim_start_matches("${{").trim_end_matches("}}").trim();
    match c {
        "!cancelled()" => true,
        "success()" => !failed,
        "failure()" => failed,
        _ => {
            let rest = c.strip_prefix("failure() && ").unwrap_or_else(|| panic!("unknown condition {c}"));
            let expr = rest.strip_suffix(" != ''").unwrap_or_else(|| panic!("unknown condition {c}"));
            failed && !value(expr, outputs, needs).is_empty()
        }
    }
}

fn run_job(w: &World, wf: &Value, job: &str, needs: &BTreeMap<String, String>, env: &[(&str, &str)]) -> JobRun {
    let j = &wf["jobs"][job];
    assert!(j.is_mapping(), "no job {job}");
    let work = w.root.join(format!("work-{job}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    git(&w.root, &["clone", "--quiet", w.remote.to_str().expect("utf8"), work.to_str().expect("utf8")]);
    let temp = w.root.join("runner-temp");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let mut outputs = BTreeMap::new();
    let mut failed = false;
    let mut ran = Vec::new();
    let steps = j["steps"].as_sequence().expect("steps");
    for (n, step) in steps.iter().enumerate() {
        let name = step["name"].as_str().unwrap_or("").to_string();
        let Some(script) = step["run"].as_str() else { continue };
        if name == "Install the Argo CD CLI" {
            continue;
        }
        if !condition(step["if"].as_str(), failed, &outputs, needs) {
            continue;
        }
        let file = temp.join(format!("step-{n}.sh"));
        std::fs::write(&file, script).expect("script");
        let gh_out = temp.join(format!("output-{n}"));
        std::fs::write(&gh_out, "").expect("output");
        let mut cmd = Command::new("bash");
        cmd.arg("-e").arg(&file).current_dir(&work);
        cmd.env("PATH", format!("{}:{}", w.bin.display(), std::env::var("PATH").unwrap_or_default()));
        cmd.env("GIT_CONFIG_GLOBAL", w.root.join("gitconfig"));
        cmd.env("GIT_CONFIG_NOSYSTEM", "1");
        cmd.env("STUB_LOG", &w.log);
        cmd.env("GITHUB_OUTPUT", &gh_out);
        cmd.env("GITHUB_STEP_SUMMARY", temp.join("summary.md"));
        cmd.env("RUNNER_TEMP", &temp);
        cmd.env("GITHUB_SERVER_URL", "https://github.com");
        cmd.env("GITHUB_REPOSITORY", REPO);
        cmd.env("GITHUB_RUN_ID", "42");
        cmd.env("GITHUB_REF", "refs/heads/main");
        for map in [&wf["env"], &j["env"], &step["env"]] {
            if let Some(m) = map.as_mapping() {
                for (k, v) in m {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => serde_yaml_ng::to_string(other).expect("scalar").trim().to_string(),
                    };
                    cmd.env(k.as_str().expect("key"), expand(&v, &outputs, needs));
                }
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash runs");
        let ok = out.status.success();
        if !ok {
            eprintln!(
                "step {name:?} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if step["id"].as_str() == Some("release") {
            for line in std::fs::read_to_string(&gh_out).expect("output").lines() {
                if let Some((k, v)) = line.split_once('=') {
                    outputs.insert(k.to_string(), v.to_string());
                }
            }
        }
        ran.push((name, ok));
        failed |= !ok;
    }
    JobRun { failed, ran, outputs }
}

fn argo_json(w: &World, images: &[&str], hooks: &[(&str, &str)]) -> PathBuf {
    let path = w.root.join(format!("argo-{}-{}.json", images.join("+").replace(['/', ':'], "_"), hooks.len()));
    let resources: Vec<serde_json::Value> = hooks
        .iter()
        .map(|(name, phase)| serde_json::json!({"kind": "Job", "name": name, "hookPhase": phase}))
        .collect();
    let doc = serde_json::json!({
        "status": {
            "summary": {"images": images},
            "operationState": {"syncResult": {"resources": resources}}
        }
    });
    std::fs::write(&path, doc.to_string()).expect("json");
    path
}

fn tag_in(w: &World, rev: &str, env: &str) -> String {
    let k = w.remote_git(&["show", &format!("{rev}:out/k8s/{env}/kustomization.yaml")]);
    let line = k.lines().find(|l| l.trim_start().starts_with("newTag:")).expect("newTag line");
    line.split_once(':').expect("colon").1.trim().trim_matches('"').to_string()
}

fn needs_build(tag: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("build.outputs.tag".to_string(), tag.to_string())])
}

fn ran(r: &JobRun, name: &str) -> bool {
    r.ran.iter().any(|(n, _)| n.starts_with(name))
}

#[test]
fn a_first_deploy_commits_syncs_checks_records_and_reports() {
    let w = World::new("healthcp");
    let cd = w.workflow("cd.yml");
    let json = argo_json(&w, &[], &[]);
    let r = run_job(&w, &cd, "deploy-dev", &needs_build("main-abc1234"), &[("STUB_ARGO_JSON", json.to_str().unwrap())]);
    assert!(!r.failed, "the deploy passes: {:?}", r.ran);
    assert_eq!(tag_in(&w, "main", "dev"), "main-abc1234");
    let subject = w.remote_git(&["log", "-1", "--format=%s", "main"]);
    assert_eq!(subject, format!("deploy(dev): {IMAGE}:main-abc1234 [skip ci]"));
    // The verified tag is the release commit, moved only after the checks.
    let head = w.remote_git(&["rev-parse", "main"]);
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-dev^{commit}"]), head);
    assert_eq!(r.outputs.get("commit"), Some(&head));
    let calls = w.calls();
    let argocd: Vec<&String> = calls.iter().filter(|c| c.starts_with("argocd ")).collect();
    assert_eq!(argocd[0], "argocd app get healthcp-dev --refresh");
    assert!(argocd[1].starts_with("argocd app wait healthcp-dev --sync --health --operation --timeout"), "{argocd:?}");
    assert!(calls.iter().any(|c| c.starts_with("curl ") && c.contains("https://healthcp-dev.agent.opsera.dev")));
    // Slack (the webhook is the secret's value, "token" here) after the checks.
    let slack = calls.iter().position(|c| c.starts_with("curl ") && c.contains("-X POST") && c.ends_with(" token"));
    let health = calls.iter().position(|c| c.contains("https://healthcp-dev.agent.opsera.dev"));
    assert!(slack.expect("slack message") > health.expect("health check"));
    assert!(!ran(&r, "Roll dev back"), "no rollback on success");
}

#[test]
fn a_second_run_of_the_same_commit_changes_nothing_and_passes() {
    let w = World::new("healthcp");
    let cd = w.workflow("cd.yml");
    let json = argo_json(&w, &[], &[]);
    let env = [("STUB_ARGO_JSON", json.to_str().unwrap())];
    let first = run_job(&w, &cd, "deploy-dev", &needs_build("main-abc1234"), &env);
    assert!(!first.failed);
    let head = w.remote_git(&["rev-parse", "main"]);
    let second = run_job(&w, &cd, "deploy-dev", &needs_build("main-abc1234"), &env);
    assert!(!second.failed, "a re-run passes: {:?}", second.ran);
    assert_eq!(w.remote_git(&["rev-parse", "main"]), head, "no second commit");
    assert_eq!(second.outputs.get("commit").map(String::as_str), Some(""));
    assert_eq!(second.outputs.get("head"), Some(&head));
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-dev^{commit}"]), head);
}

#[test]
fn a_failed_health_check_reverts_the_release_commit_and_keeps_the_verified_tag() {
    let w = World::new("healthcp");
    let cd = w.workflow("cd.yml");
    let json = argo_json(&w, &[], &[]);
    let ok = [("STUB_ARGO_JSON", json.to_str().unwrap())];
    assert!(!run_job(&w, &cd, "deploy-dev", &needs_build("main-good"), &ok).failed);
    let verified = w.remote_git(&["rev-parse", "deployc-verified-dev^{commit}"]);
    let bad = [("STUB_ARGO_JSON", json.to_str().unwrap()), ("STUB_CURL_FAIL", "https://healthcp-dev.agent.opsera.dev")];
    let r = run_job(&w, &cd, "deploy-dev", &needs_build("main-bad"), &bad);
    assert!(r.failed, "the run is failed");
    assert!(r.ran.iter().any(|(n, ok)| n.starts_with("Health check") && !ok));
    assert!(r.ran.iter().any(|(n, ok)| n.starts_with("Roll dev back") && *ok), "the rollback ran: {:?}", r.ran);
    assert!(!ran(&r, "Record the verified release"), "a failed release is not recorded");
    // git says again what ran before: a revert commit on top of the release.
    let log = w.remote_git(&["log", "--format=%s", "-3", "main"]);
    let subjects: Vec<&str> = log.lines().collect();
    let release = r.outputs.get("commit").expect("release commit");
    assert_eq!(subjects[0], format!("rollback(dev): revert {release} [skip ci]"));
    assert!(subjects[1].starts_with("deploy(dev): ") && subjects[1].contains("main-bad"));
    assert_eq!(tag_in(&w, "main", "dev"), "main-good");
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-dev^{commit}"]), verified);
    // After the revert, Argo CD is asked to look again and waited for.
    let calls = w.calls();
    let last_wait = calls.iter().rposition(|c| c.starts_with("argocd app wait")).expect("wait");
    let last_refresh = calls.iter().rposition(|c| c == "argocd app get healthcp-dev --refresh").expect("refresh");
    assert!(last_refresh < last_wait);
}

#[test]
fn a_promotion_copies_the_verified_tag_not_the_branch_head() {
    let w = World::new("healthcp");
    let cd = w.workflow("cd.yml");
    let promote = w.workflow("promote-qa.yml");
    let json = argo_json(&w, &[], &[]);
    let ok = [("STUB_ARGO_JSON", json.to_str().unwrap())];
    // Before dev verified anything, promoting it fails.
    let early = run_job(&w, &promote, "deploy-qa", &BTreeMap::new(), &ok);
    assert!(early.failed && !ran(&early, "Roll qa back"), "{:?}", early.ran);
    assert!(!run_job(&w, &cd, "deploy-dev", &needs_build("main-good"), &ok).failed);
    // Someone (or a deploy that never verified) leaves another tag at the
    // head of the branch: promotions must not pick it up.
    let seed = w.root.join("hand");
    git(&w.root, &["clone", "--quiet", w.remote.to_str().unwrap(), seed.to_str().unwrap()]);
    let k = seed.join("out/k8s/dev/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap().replace("newTag: main-good", "newTag: main-unverified");
    std::fs::write(&k, text).unwrap();
    git(&seed, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "an unverified dev tag"]);
    git(&seed, &["push", "--quiet", "origin", "main"]);
    let r = run_job(&w, &promote, "deploy-qa", &BTreeMap::new(), &ok);
    assert!(!r.failed, "{:?}", r.ran);
    assert_eq!(tag_in(&w, "main", "qa"), "main-good", "qa gets what dev verified");
    assert_eq!(tag_in(&w, "main", "dev"), "main-unverified");
}

#[test]
fn the_shell_form_of_the_verified_tag_is_the_plan_s() {
    let out = Command::new("bash")
        .arg("-ec")
        .arg(format!("{}printf %s \"$VERIFIED_TAG\"", deployc::plan::delivery::VERIFIED_TAG_SH))
        .env("ENVIRONMENT", "qa")
        .output()
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "deployc-verified-qa");
    // And the GitHub rendering names the same tag.
    let w = World::new("healthcp");
    let cd = w.workflow("cd.yml");
    let steps = cd["jobs"]["deploy-dev"]["steps"].as_sequence().expect("steps");
    let record = steps.iter().find(|s| s["name"].as_str().is_some_and(|n| n.starts_with("Record"))).expect("record");
    assert_eq!(record["env"]["VERIFIED_TAG"].as_str(), Some("deployc-verified-dev"));
}

// ---- Jenkins: the same plan, rendered as `sh` steps of a declarative stage.

/// Undoes the Groovy escaping of a single-quoted literal's body.
fn groovy_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The single-quoted literals of a line (`withEnv(['A=1', 'B=2'])`).
fn groovy_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '\'' {
            let mut j = i + 1;
            let mut body = String::new();
            while j < b.len() && b[j] != '\'' {
                if b[j] == '\\' && j + 1 < b.len() {
                    body.push(b[j]);
                    j += 1;
                }
                body.push(b[j]);
                j += 1;
            }
            out.push(groovy_unescape(&body));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// The lines inside the block that opens on `lines[start]`, skipping the
/// bodies of `sh '''` scripts (their braces are shell's and awk's).
fn block<'a>(lines: &[&'a str], start: usize) -> Vec<&'a str> {
    let n = indent(lines[start]);
    let mut in_script = false;
    for i in start + 1..lines.len() {
        let t = lines[i].trim();
        if in_script {
            in_script = lines[i] != "'''";
        } else if t.starts_with("sh '''") {
            in_script = true;
        } else if indent(lines[i]) == n && t == "}" {
            return lines[start + 1..i].to_vec();
        }
    }
    panic!("no closing brace for {}", lines[start]);
}

/// The shell steps of a block, in order, each with its `withEnv` bindings.
fn sh_steps(lines: &[&str]) -> Vec<(Vec<(String, String)>, String)> {
    let mut out = Vec::new();
    let mut frames: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim();
        if t.starts_with("withEnv([") {
            let binds = groovy_strings(t)
                .into_iter()
                .map(|b| {
                    let (k, v) = b.split_once('=').expect("K=V");
                    (k.to_string(), v.to_string())
                })
                .collect();
            frames.push((indent(l), binds));
        } else if t == "}" && frames.last().is_some_and(|f| f.0 == indent(l)) {
            frames.pop();
        } else if t == "sh '''#!/usr/bin/env bash" {
            let mut body = vec!["#!/usr/bin/env bash"];
            i += 1;
            while lines[i] != "'''" {
                body.push(lines[i]);
                i += 1;
            }
            let script = body.join("\n").replace("\\'\\'\\'", "'''").replace("\\\\", "\\");
            out.push((frames.iter().flat_map(|f| f.1.clone()).collect(), script));
        } else if let Some(rest) = t.strip_prefix("sh '") {
            let script = groovy_strings(&format!("'{rest}"))[0].clone();
            out.push((frames.iter().flat_map(|f| f.1.clone()).collect(), script));
        }
        i += 1;
    }
    out
}

/// Runs one stage of the Jenkinsfile: its steps until one fails, then its
/// `post` block for the result. Returns whether the stage failed.
fn run_stage(w: &World, jenkinsfile: &str, title: &str, env: &[(&str, &str)]) -> bool {
    let lines: Vec<&str> = jenkinsfile.lines().collect();
    let start = lines.iter().position(|l| l.trim() == format!("stage('{title}') {{")).expect("stage");
    let stage = block(&lines, start);
    let sub = |name: &str, within: &[&str]| -> Option<Vec<String>> {
        within.iter().position(|l| l.trim() == format!("{name} {{") && indent(l) > 0).map(|i| {
            let owned: Vec<&str> = within.to_vec();
            block(&owned, i).iter().map(|s| s.to_string()).collect()
        })
    };
    let mut vars: Vec<(String, String)> = Vec::new();
    for l in sub("environment", &stage).expect("environment") {
        if let Some((k, v)) = l.split_once(" = ") {
            vars.push((k.trim().to_string(), groovy_strings(v)[0].clone()));
        }
    }
    let work = w.root.join(format!("jenkins-{}", title.replace([' ', ':'], "-")));
    let branch = vars.iter().find(|(k, _)| k == "BRANCH").map(|(_, v)| v.clone()).expect("BRANCH");
    if !work.exists() {
        let (remote, dir) = (w.remote.to_str().expect("utf8"), work.to_str().expect("utf8"));
        git(&w.root, &["clone", "--quiet", "-b", &branch, remote, dir]);
    } else {
        git(&work, &["pull", "--quiet", "--ff-only"]);
    }
    let run = |binds: &[(String, String)], script: &str| -> bool {
        let file = w.root.join("jenkins-step.sh");
        std::fs::write(&file, script).expect("script");
        let mut cmd = Command::new("bash");
        cmd.arg(&file).current_dir(&work);
        cmd.env("PATH", format!("{}:{}", w.bin.display(), std::env::var("PATH").unwrap_or_default()));
        cmd.env("GIT_CONFIG_GLOBAL", w.root.join("gitconfig")).env("GIT_CONFIG_NOSYSTEM", "1");
        cmd.env("STUB_LOG", &w.log).env("BUILD_URL", "https://jenkins.example/job/1/").env("BUILD_NUMBER", "1");
        for (k, v) in vars.iter().chain(binds) {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash");
        if !out.status.success() {
            eprintln!("sh failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        out.status.success()
    };
    let steps: Vec<String> = sub("steps", &stage).expect("steps");
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    let failed = !sh_steps(&steps).iter().all(|(b, s)| run(b, s));
    let post = sub("post", &stage).unwrap_or_default();
    let post: Vec<&str> = post.iter().map(String::as_str).collect();
    if let Some(block) = sub(if failed { "failure" } else { "success" }, &post) {
        let block: Vec<&str> = block.iter().map(String::as_str).collect();
        for (b, s) in sh_steps(&block) {
            run(&b, &s);
        }
    }
    failed
}

#[test]
fn jenkins_records_a_good_release_and_reverts_a_failed_one() {
    let w = World::new("healthcare-devops");
    let jf = std::fs::read_to_string("examples/healthcare-devops/out/jenkins/Jenkinsfile").expect("Jenkinsfile");
    let json = argo_json(&w, &[], &[]);
    let host = "https://healthcare-devops-staging.health.acme.dev";
    let ok = [("STUB_ARGO_JSON", json.to_str().unwrap()), ("IMAGE_TAG", "develop-good")];
    assert!(!run_stage(&w, &jf, "Deploy: staging", &ok), "the deploy passes");
    let head = w.remote_git(&["rev-parse", "develop"]);
    assert!(w.remote_git(&["log", "-1", "--format=%s", "develop"]).starts_with("deploy(staging): "));
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-staging^{commit}"]), head);
    let bad = [("STUB_ARGO_JSON", json.to_str().unwrap()), ("IMAGE_TAG", "develop-bad"), ("STUB_CURL_FAIL", host)];
    assert!(run_stage(&w, &jf, "Deploy: staging", &bad), "the health check fails the stage");
    let subjects = w.remote_git(&["log", "--format=%s", "-2", "develop"]);
    let subjects: Vec<&str> = subjects.lines().collect();
    assert!(subjects[0].starts_with("rollback(staging): revert "), "{subjects:?}");
    assert!(subjects[1].contains("develop-bad"));
    let k = w.remote_git(&["show", "develop:out/k8s/staging/kustomization.yaml"]);
    assert!(k.contains("newTag: develop-good") && !k.contains("develop-bad"), "{k}");
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-staging^{commit}"]), head, "the verified tag stays");
}

/// Seed 003 (cicd-pipeline): production backs up, then migrates, in the
/// sync itself; the job accepts the release only when the backup hook ran
/// and succeeded, and the released images run.
#[test]
fn a_release_without_its_pre_deploy_backup_is_rolled_back() {
    let w = World::new("cicd-pipeline");
    let cd = w.workflow("cd.yml");
    let images = cd["jobs"]["deploy-production"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find_map(|s| s["env"]["IMAGES"].as_str())
        .expect("IMAGES")
        .to_string();
    let running: Vec<String> = images.split(' ').map(|i| format!("{i}:v1.2.3")).collect();
    let running: Vec<&str> = running.iter().map(String::as_str).collect();
    let good = argo_json(&w, &running, &[("db-predeploy-backup", "Succeeded")]);
    let r =
        run_job(&w, &cd, "deploy-production", &needs_build("v1.2.3"), &[("STUB_ARGO_JSON", good.to_str().unwrap())]);
    assert!(!r.failed, "{:?}", r.ran);
    assert!(ran(&r, "Check the pre-deploy backup of db ran"));
    let verified = w.remote_git(&["rev-parse", "deployc-verified-production^{commit}"]);
    // No sync runs the hook (say, the Job was deleted from git by hand).
    let missing = argo_json(&w, &running, &[]);
    let r =
        run_job(&w, &cd, "deploy-production", &needs_build("v1.2.4"), &[("STUB_ARGO_JSON", missing.to_str().unwrap())]);
    assert!(r.failed);
    assert!(r.ran.iter().any(|(n, ok)| n.starts_with("Check the pre-deploy backup") && !ok), "{:?}", r.ran);
    assert!(r.ran.iter().any(|(n, ok)| n.starts_with("Roll production back") && *ok), "{:?}", r.ran);
    assert!(w.remote_git(&["log", "-1", "--format=%s", "main"]).starts_with("rollback(production): revert "));
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-production^{commit}"]), verified);
}

// ---------------------------------------------------------------- GitLab CI

/// The `.gitlab-ci.yml` of tests/programs/gitlab.dpl (healthcare-devops with
/// its pipeline on GitLab; its Kubernetes tree is the example's).
fn gitlab_ci() -> Value {
    let text = std::fs::read_to_string("tests/programs/gitlab.dpl").expect("program");
    let c = deployc::compile("gitlab.dpl", &text, &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    let out = deployc::emit::emit(
        &deployc::plan::Plan::new(&model, &graph, &Default::default()),
        &[deployc::emit::Target::Gitlab],
    );
    serde_yaml_ng::from_str(&out[0].contents).expect("yaml")
}

/// Runs a GitLab job the way the runner does: all `script:` lines as one
/// bash script (`set -eo pipefail`), then `after_script:` as another with
/// `$CI_JOB_STATUS`, with the job's literal variables and the predefined
/// ones. The tool install (`apk`, the Argo CD download) is left out.
fn run_gitlab_job(w: &World, ci: &Value, job: &str, work: &Path, env: &[(&str, &str)]) -> (bool, bool) {
    let j = &ci[job];
    assert!(j.is_mapping(), "no job {job}");
    if !work.exists() {
        git(
            &w.root,
            &[
                "clone",
                "--quiet",
                "--branch",
                "develop",
                w.remote.to_str().expect("utf8"),
                work.to_str().expect("utf8"),
            ],
        );
    }
    let join = |k: &str| -> String {
        let lines: Vec<String> = j[k]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|l| l.as_str())
                    .map(|l| l.replace(deployc::emit::gitlab::DEPLOY_SETUP, ":"))
                    .collect()
            })
            .unwrap_or_default();
        format!("set -eo pipefail\n{}\n", lines.join("\n"))
    };
    let run = |script: String, status: &str| -> bool {
        let file = w.root.join(format!("{}-{status}.sh", job.replace(':', "-")));
        std::fs::write(&file, script).expect("script");
        let mut cmd = Command::new("bash");
        cmd.arg(&file).current_dir(work);
        cmd.env("PATH", format!("{}:{}", w.bin.display(), std::env::var("PATH").unwrap_or_default()));
        cmd.env("GIT_CONFIG_GLOBAL", w.root.join("gitconfig"));
        cmd.env("GIT_CONFIG_NOSYSTEM", "1");
        cmd.env("STUB_LOG", &w.log);
        cmd.env("CI_PROJECT_DIR", work);
        cmd.env("CI_COMMIT_BRANCH", "develop");
        cmd.env("CI_COMMIT_SHA", "abc1234def5678");
        cmd.env("CI_JOB_URL", "https://gitlab.example/job/1");
        cmd.env("CI_PIPELINE_ID", "7");
        cmd.env("CI_JOB_STATUS", status);
        cmd.env("GITOPS_REMOTE", &w.remote);
        if let Some(vars) = j["variables"].as_mapping() {
            for (k, v) in vars {
                if let Some(value) = v["value"].as_str() {
                    cmd.env(k.as_str().expect("key"), value);
                    if k.as_str().is_some_and(|k| k.ends_with("_SECRET")) {
                        cmd.env(value, "token");
                    }
                }
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("bash runs");
        if !out.status.success() {
            eprintln!(
                "{job} ({status}):\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    };
    let ok = run(join("script"), "running");
    let after = run(join("after_script"), if ok { "success" } else { "failed" });
    (ok, after)
}

#[test]
fn gitlab_deploys_records_and_rolls_back_a_failed_release() {
    let w = World::new("healthcare-devops");
    // GitLab accepts push options (`-o ci.skip`); a bare repository does when told.
    w.remote_git(&["config", "receive.advertisePushOptions", "true"]);
    let ci = gitlab_ci();
    let json = argo_json(&w, &[], &[]);
    let env = [("STUB_ARGO_JSON", json.to_str().expect("utf8"))];
    let before = w.remote_git(&["rev-parse", "develop"]);
    // A first deploy: committed with [skip ci], synced, checked, recorded.
    let (ok, after) = run_gitlab_job(&w, &ci, "deploy:staging", &w.root.join("gl-1"), &env);
    assert!(ok && after, "the deploy passes");
    let head = w.remote_git(&["rev-parse", "develop"]);
    assert_ne!(head, before, "a release commit");
    let subject = w.remote_git(&["log", "-1", "--format=%s", "develop"]);
    assert!(subject.starts_with("deploy(staging): ") && subject.ends_with("[skip ci]"), "{subject}");
    assert_eq!(tag_in(&w, "develop", "staging"), "sha-abc1234");
    assert_eq!(w.remote_git(&["rev-parse", "deployc-verified-staging^{commit}"]), head);
    assert!(w.calls().iter().any(|c| c.starts_with("argocd app get healthcare-devops-staging --refresh")));
    // A second run of the same commit changes nothing and passes.
    let (ok, _) = run_gitlab_job(&w, &ci, "deploy:staging", &w.root.join("gl-2"), &env);
    assert!(ok, "a re-run passes");
    assert_eq!(w.remote_git(&["rev-parse", "develop"]), head, "no second commit");
    // A new build whose health check fails is reverted by after_script.
    let failing = [
        ("STUB_ARGO_JSON", json.to_str().expect("utf8")),
        ("STUB_CURL_FAIL", "health"),
        ("CI_COMMIT_SHA", "fff0000aaaa"),
    ];
    let (ok, after) = run_gitlab_job(&w, &ci, "deploy:staging", &w.root.join("gl-3"), &failing);
    assert!(!ok, "the health check fails the job");
    assert!(after, "the rollback succeeds");
    let subject = w.remote_git(&["log", "-1", "--format=%s", "develop"]);
    assert!(subject.starts_with("rollback(staging): revert "), "{subject}");
    assert_eq!(tag_in(&w, "develop", "staging"), "sha-abc1234", "the revert restores the verified tag");
    assert_eq!(
        w.remote_git(&["rev-parse", "deployc-verified-staging^{commit}"]),
        head,
        "the verified tag did not move"
    );
}
