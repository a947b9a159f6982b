//! Incremental builds (`pipeline { incremental = true }`, `plan::changes`):
//! the generated scope job's shell and the deploy job's release step, run
//! with bash against a real git repository (a bare remote and a clone, as
//! `fetch-depth: 0` gives) and a stub registry: `docker buildx imagetools
//! inspect` answers from files the test writes when it "pushes" an image.
//!
//! The flow is CD's own: the deploy commits the released tags into the
//! GitOps tree on `main`, the next push builds on top of that commit, a
//! failed release is reverted, a tag can vanish from the registry. In
//! every case a service is either built or kept at a tag the registry has.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROGRAM: &str = r#"
project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
  domain     = "shop.acme.dev"
}
service api {
  language = python
  build    { context = "api" }
  port     = 8080
  expose   = ingress { host = "api.${env.domain}" }
  health   = http { path = "/healthz" }
}
service web {
  language = typescript
  build    { context = "web" }
  port     = 8080
  expose   = ingress { host = "${env.domain}" }
  health   = http { path = "/" }
}
environment staging { promote = on_push("main") }
environment production {
  production = true
  promote    = on_push("release/*")
}
pipeline {
  triggers    = [push, pull_request]
  incremental = true
}
"#;

const API: &str = "ghcr.io/acme/api";
const WEB: &str = "ghcr.io/acme/web";

fn outputs_of(text: &str) -> Vec<(String, String)> {
    let c = deployc::compile("shop.dpl", text, &common::Disk);
    assert!(!c.diagnostics.has_errors(), "{:?}", c.diagnostics.items);
    let (model, graph) = c.output.expect("a model");
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Github, Target::K8s])
        .into_iter()
        .map(|a| (a.path, a.contents))
        .collect()
}

use common::git;

struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    remote: PathBuf,
    /// The developer's clone: pushes source commits.
    dev: PathBuf,
    bin: PathBuf,
    registry: PathBuf,
    cd: Value,
}

/// The step of `job` whose `id` is `id`, or the one named `name`.
fn step<'a>(cd: &'a Value, job: &str, pick: &dyn Fn(&Value) -> bool) -> &'a Value {
    cd["jobs"][job]["steps"].as_sequence().expect("steps").iter().find(|s| pick(s)).expect("the step")
}

impl World {
    fn new() -> World {
        let files = outputs_of(PROGRAM);
        let cd: Value = serde_yaml_ng::from_str(&files.iter().find(|(p, _)| p.ends_with("cd.yml")).expect("cd.yml").1)
            .expect("yaml");
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let remote = root.join("remote.git");
        std::fs::create_dir_all(&remote).expect("mkdir");
        git(&remote, &["init", "--quiet", "--bare", "-b", "main"]);
        let dev = root.join("dev");
        std::fs::create_dir_all(&dev).expect("mkdir");
        git(&dev, &["init", "--quiet", "-b", "main"]);
        // The generated tree where the scope job reads it.
        let scope = step(&cd, "scope", &|s| s["id"].as_str() == Some("scope"));
        let kustomizations = scope["env"]["KUSTOMIZATIONS"].as_str().expect("KUSTOMIZATIONS");
        for line in kustomizations.lines() {
            let (env, path) = line.split_once(' ').expect("env path");
            let (_, text) = files
                .iter()
                .find(|(p, _)| p == &format!("k8s/{env}/kustomization.yaml"))
                .unwrap_or_else(|| panic!("no kustomization of {env}"));
            let target = dev.join(path);
            std::fs::create_dir_all(target.parent().expect("dir")).expect("mkdir");
            std::fs::write(&target, text).expect("write");
        }
        for (path, text) in [
            ("shop.dpl", PROGRAM),
            ("README.md", "# shop\n"),
            ("api/app.py", "print('api')\n"),
            ("api/Dockerfile", "FROM python\n"),
            ("web/index.js", "console.log('web')\n"),
            ("web/Dockerfile", "FROM node\n"),
        ] {
            let target = dev.join(path);
            std::fs::create_dir_all(target.parent().expect("dir")).expect("mkdir");
            std::fs::write(&target, text).expect("write");
        }
        git(&dev, &["add", "."]);
        git(&dev, &["commit", "--quiet", "-m", "first"]);
        git(&dev, &["remote", "add", "origin", remote.to_str().expect("utf8")]);
        git(&dev, &["push", "--quiet", "origin", "main"]);
        let bin = root.join("bin");
        let registry = root.join("registry");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::create_dir_all(&registry).expect("mkdir");
        // docker buildx imagetools inspect REF --format ...: the pushed
        // image's config (as a multi-platform image answers), or "not found".
        let docker = bin.join("docker");
        std::fs::write(
            &docker,
            "#!/usr/bin/env bash\nf=\"$STUB_REGISTRY/$(printf %s \"$4\" | tr '/:' '__')\"\n[ \"$1 $2 $3\" = \"buildx imagetools inspect\" ] || exit 2\n[ -f \"$f\" ] || { echo \"ERROR: $4: not found\" >&2; exit 1; }\ncat \"$f\"\n",
        )
        .expect("stub");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::write(
            root.join("gitconfig"),
            format!(
                "[url \"{}\"]\n\tinsteadOf = https://x-access-token:token@github.com/acme/shop.git\n",
                remote.display()
            ),
        )
        .expect("gitconfig");
        World { _tmp: tmp, root, remote, dev, bin, registry, cd }
    }

    /// A developer commit on top of the remote's main (CI's deploy commits included).
    fn commit(&self, path: &str, text: &str) -> String {
        git(&self.dev, &["pull", "--quiet", "--rebase", "origin", "main"]);
        let target = self.dev.join(path);
        std::fs::create_dir_all(target.parent().expect("dir")).expect("mkdir");
        std::fs::write(&target, text).expect("write");
        git(&self.dev, &["add", "."]);
        git(&self.dev, &["commit", "--quiet", "-m", &format!("change {path}")]);
        git(&self.dev, &["push", "--quiet", "origin", "main"]);
        git(&self.dev, &["rev-parse", "HEAD"])
    }

    /// The build job's push: the image, labelled with its source commit.
    fn push(&self, image: &str, tag: &str, revision: Option<&str>) {
        let labels = match revision {
            Some(r) => serde_json::json!({"org.opencontainers.image.revision": r}),
            None => serde_json::json!({}),
        };
        let config = serde_json::json!({"config": {"Labels": labels}});
        let doc = serde_json::json!({"linux/amd64": config, "linux/arm64": config});
        std::fs::write(self.registry.join(format!("{image}:{tag}").replace(['/', ':'], "_")), doc.to_string())
            .expect("push");
    }

    fn forget(&self, image: &str, tag: &str) {
        std::fs::remove_file(self.registry.join(format!("{image}:{tag}").replace(['/', ':'], "_"))).expect("rm");
    }

    /// Runs one step's `run:` in a fresh clone at `sha` (as the runner's
    /// checkout), with the step's `env:` (expressions replaced by `vars`).
    /// Returns the `$GITHUB_OUTPUT` lines, or `Err` with the log.
    fn run(
        &self,
        job: &str,
        id: &str,
        sha: &str,
        vars: &BTreeMap<&str, String>,
    ) -> Result<BTreeMap<String, String>, String> {
        let s = step(&self.cd, job, &|s| s["id"].as_str() == Some(id));
        let work = self.root.join(format!("work-{job}-{id}"));
        let _ = std::fs::remove_dir_all(&work);
        git(&self.root, &["clone", "--quiet", self.remote.to_str().expect("utf8"), work.to_str().expect("utf8")]);
        git(&work, &["checkout", "--quiet", "--detach", sha]);
        let out = self.root.join("github-output");
        std::fs::write(&out, "").expect("output");
        let script = self.root.join("step.sh");
        std::fs::write(&script, s["run"].as_str().expect("run")).expect("script");
        let mut cmd = Command::new("bash");
        cmd.arg("-e").arg(&script).current_dir(&work);
        cmd.env("PATH", format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default()));
        cmd.env("GIT_CONFIG_GLOBAL", self.root.join("gitconfig"));
        cmd.env("GIT_CONFIG_NOSYSTEM", "1");
        cmd.env("STUB_REGISTRY", &self.registry);
        cmd.env("GITHUB_OUTPUT", &out);
        cmd.env("GITHUB_SERVER_URL", "https://github.com");
        cmd.env("GITHUB_REPOSITORY", "acme/shop");
        cmd.env("GITHUB_REF", "refs/heads/main");
        let job_env = self.cd["jobs"][job]["env"].as_mapping().cloned().unwrap_or_default();
        for (k, v) in job_env.iter().chain(s["env"].as_mapping().expect("env")) {
            let k = k.as_str().expect("key");
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| serde_yaml_ng::to_string(v).expect("scalar").trim().to_string());
            let v = if v.contains("${{") {
                vars.get(k).cloned().unwrap_or_else(|| panic!("the test sets no value for {k} = {v}"))
            } else {
                v
            };
            cmd.env(k, v);
        }
        let o = cmd.output().expect("bash");
        let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        if !o.status.success() {
            return Err(log);
        }
        let mut map = BTreeMap::new();
        for line in std::fs::read_to_string(&out).expect("output").lines() {
            if let Some((k, v)) = line.split_once('=') {
                map.insert(k.to_string(), v.to_string());
            }
        }
        map.insert("log".into(), log);
        Ok(map)
    }

    /// The scope job on a push of `branch` at `sha`: its outputs, the
    /// matrix step's included.
    fn scope(&self, branch: &str, sha: &str) -> BTreeMap<String, String> {
        let vars = BTreeMap::from([("REF_KIND", "branch".to_string()), ("REF_NAME", branch.to_string())]);
        let mut out = self.run("scope", "scope", sha, &vars).unwrap_or_else(|e| panic!("scope fails:\n{e}"));
        let vars = BTreeMap::from([("BUILD", out.get("build").cloned().unwrap_or_default())]);
        let m = self.run("scope", "matrix", sha, &vars).unwrap_or_else(|e| panic!("matrix fails:\n{e}"));
        out.insert("matrix".into(), m["matrix"].clone());
        out
    }

    /// The staging deploy job's release step with the scope's outputs.
    fn release(&self, sha: &str, tag: &str, scope: &BTreeMap<String, String>) -> Result<String, String> {
        let vars = BTreeMap::from([
            ("GITHUB_TOKEN", "token".to_string()),
            ("TAG", tag.to_string()),
            ("BUILT", scope["built"].clone()),
            ("KEPT", scope["kept"].clone()),
        ]);
        self.run("deploy-staging", "release", sha, &vars).map(|o| o["log"].clone())
    }

    /// The tag staging runs at the remote's main.
    fn deployed(&self, image: &str) -> String {
        let scope = step(&self.cd, "scope", &|s| s["id"].as_str() == Some("scope"));
        let line = scope["env"]["KUSTOMIZATIONS"]
            .as_str()
            .expect("k")
            .lines()
            .find(|l| l.starts_with("staging "))
            .expect("staging")
            .to_string();
        let path = line.split_once(' ').expect("path").1;
        let text = git(&self.remote, &["show", &format!("main:{path}")]);
        let mut lines = text.lines().skip_while(|l| !l.contains(&format!("name: {image}")));
        lines.nth(1).expect("newTag").trim().trim_start_matches("newTag:").trim().trim_matches('"').to_string()
    }

    /// Every tag staging runs is in the registry.
    fn all_deployed_tags_exist(&self) {
        for image in [API, WEB] {
            let tag = self.deployed(image);
            let f = self.registry.join(format!("{image}:{tag}").replace(['/', ':'], "_"));
            assert!(f.exists(), "staging runs {image}:{tag}, which was never pushed");
        }
    }
}

fn short(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

#[test]
fn only_changed_services_are_built_and_the_others_keep_a_pushed_tag() {
    let w = World::new();
    let c1 = git(&w.dev, &["rev-parse", "HEAD"]);

    // First build: the tree's tags were never pushed, so everything builds.
    let s = w.scope("main", &c1);
    assert_eq!(s["deploy-staging"], "true");
    assert_eq!(s["deploy-production"], "false");
    assert_eq!(s["build"], "api web", "{}", s["log"]);
    assert_eq!(s["kept"], "");
    assert!(s["log"].contains("is not in the registry"), "{}", s["log"]);
    assert!(s["matrix"].contains("\"service\":\"api\"") && s["matrix"].contains("\"service\":\"web\""));
    w.push(API, &short(&c1), Some(&c1));
    w.push(WEB, &short(&c1), Some(&c1));
    let log = w.release(&c1, &short(&c1), &s).expect("the first release");
    assert_eq!(w.deployed(API), short(&c1), "{log}");
    w.all_deployed_tags_exist();

    // A change to api only, pushed on top of CI's deploy commit.
    let c2 = w.commit("api/app.py", "print('api 2')\n");
    let s = w.scope("main", &c2);
    assert_eq!(s["build"], "api", "{}", s["log"]);
    assert_eq!(s["kept"], format!("{WEB}:{}", short(&c1)));
    assert_eq!(
        s["matrix"],
        r#"[{"service":"api","context":"api","dockerfile":"api/Dockerfile","target":"","image":"ghcr.io/acme/api"}]"#
    );
    w.push(API, &short(&c2), Some(&c2));
    w.release(&c2, &short(&c2), &s).expect("the second release");
    assert_eq!(w.deployed(API), short(&c2));
    assert_eq!(w.deployed(WEB), short(&c1), "web keeps the tag it runs");
    w.all_deployed_tags_exist();

    // The same commit again (a re-run after the deploy): nothing to build.
    let again = w.scope("main", &c2);
    assert_eq!(again["build"], "");
    assert_eq!(again["matrix"], "[]");

    // A README at the root is no source of either image.
    let c3 = w.commit("README.md", "# shop, documented\n");
    let s = w.scope("main", &c3);
    assert_eq!(s["build"], "", "{}", s["log"]);
    assert_eq!(s["kept"], format!("{API}:{} {WEB}:{}", short(&c2), short(&c1)));

    // The program is shared: every service builds.
    let c4 = w.commit("shop.dpl", &format!("{PROGRAM}\n// edited\n"));
    let s = w.scope("main", &c4);
    assert_eq!(s["build"], "api web", "{}", s["log"]);
    assert!(s["log"].contains("shop.dpl changed (shared)"), "{}", s["log"]);
    // So is a root lockfile; a lockfile inside a service is that service's.
    let c5 = w.commit("web/package-lock.json", "{}\n");
    let s = w.scope("main", &c5);
    assert!(s["build"].contains("web"), "{}", s["log"]);
    let c6 = w.commit("package-lock.json", "{}\n");
    assert_eq!(w.scope("main", &c6)["build"], "api web");
}

#[test]
fn a_rolled_back_release_and_a_lost_tag_are_rebuilt() {
    let w = World::new();
    let c1 = git(&w.dev, &["rev-parse", "HEAD"]);
    let s = w.scope("main", &c1);
    w.push(API, &short(&c1), Some(&c1));
    w.push(WEB, &short(&c1), Some(&c1));
    w.release(&c1, &short(&c1), &s).expect("the first release");

    // api changes, is released, fails its checks and is reverted (as the
    // deploy job's rollback does).
    let c2 = w.commit("api/app.py", "print('broken')\n");
    let s = w.scope("main", &c2);
    assert_eq!(s["build"], "api");
    w.push(API, &short(&c2), Some(&c2));
    w.release(&c2, &short(&c2), &s).expect("the release");
    let deploy = git(&w.remote, &["rev-parse", "main"]);
    git(&w.dev, &["pull", "--quiet", "--rebase", "origin", "main"]);
    git(&w.dev, &["revert", "--no-edit", &deploy]);
    git(&w.dev, &["push", "--quiet", "origin", "main"]);
    assert_eq!(w.deployed(API), short(&c1));

    // The next push changes web only: api's change since the image staging
    // runs (c1) is built again rather than left undeployed.
    let c3 = w.commit("web/index.js", "console.log('web 2')\n");
    let s = w.scope("main", &c3);
    assert_eq!(s["build"], "api web", "{}", s["log"]);

    // A kept tag that vanished from the registry, and an image that records
    // no source commit, are built.
    w.push(API, &short(&c3), Some(&c3));
    w.push(WEB, &short(&c3), None);
    w.release(&c3, &short(&c3), &s).expect("the release");
    let c4 = w.commit("README.md", "# again\n");
    let s = w.scope("main", &c4);
    assert_eq!(s["build"], "web", "{}", s["log"]);
    assert!(s["log"].contains("records no source revision"), "{}", s["log"]);
    w.forget(API, &short(&c3));
    let s = w.scope("main", &c4);
    assert_eq!(s["build"], "api web", "{}", s["log"]);
    w.all_deployed_tags_exist_or_build(&s);
}

impl World {
    /// Every image staging runs is either in the registry or being built.
    fn all_deployed_tags_exist_or_build(&self, s: &BTreeMap<String, String>) {
        for image in [API, WEB] {
            let tag = self.deployed(image);
            let f = self.registry.join(format!("{image}:{tag}").replace(['/', ':'], "_"));
            assert!(f.exists() || s["built"].split(' ').any(|b| b == image), "{image}:{tag}");
        }
    }
}

#[test]
fn a_release_refuses_an_image_neither_built_nor_kept() {
    let w = World::new();
    let c1 = git(&w.dev, &["rev-parse", "HEAD"]);
    let before = git(&w.remote, &["rev-parse", "main"]);
    let scope = BTreeMap::from([("built".to_string(), API.to_string()), ("kept".to_string(), String::new())]);
    let err = w.release(&c1, &short(&c1), &scope).expect_err("web has no tag to deploy");
    assert!(err.contains("ghcr.io/acme/web was neither built by this run nor found in the registry"), "{err}");
    assert_eq!(git(&w.remote, &["rev-parse", "main"]), before, "nothing was committed");
}

#[test]
fn the_ref_is_matched_exactly_and_a_ref_that_deploys_nothing_builds_everything() {
    let w = World::new();
    let c1 = git(&w.dev, &["rev-parse", "HEAD"]);
    // `release/*` is one part: a GitHub expression (startsWith) would admit
    // release/1/2, the scope job does not.
    let s = w.scope("release/1.2", &c1);
    assert_eq!((s["deploy-production"].as_str(), s["deploy-staging"].as_str()), ("true", "false"));
    let s = w.scope("release/1/2", &c1);
    assert_eq!(s["deploy-production"], "false");
    assert_eq!(s["deploys"], "");
    assert_eq!(s["build"], "api web");
    assert!(s["log"].contains("this ref deploys no environment"), "{}", s["log"]);
    // The deploy jobs require the exact match.
    let prod = w.cd["jobs"]["deploy-production"]["if"].as_str().expect("if");
    assert!(prod.ends_with("&& needs.scope.outputs.deploy-production == 'true'"), "{prod}");
    let needs: Vec<&str> = w.cd["jobs"]["deploy-production"]["needs"]
        .as_sequence()
        .expect("needs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(needs.contains(&"scope") && needs.contains(&"build"), "{needs:?}");
    // No build when nothing changed: the build job (and so the deploys) skip.
    assert_eq!(w.cd["jobs"]["build"]["if"].as_str(), Some("needs.scope.outputs.build != ''"));
}

fn emitted(text: &str, target: Target, path: &str) -> String {
    let c = deployc::compile("shop.dpl", text, &common::Disk);
    assert!(!c.diagnostics.has_errors(), "{:?}", c.diagnostics.items);
    let (model, graph) = c.output.expect("a model");
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target])
        .into_iter()
        .find(|a| a.path.ends_with(path))
        .unwrap_or_else(|| panic!("no {path}"))
        .contents
}

/// Runs `script` under bash in `dir` with `env`, the stub registry's docker
/// on PATH (it logs `docker ARGS` to `$STUB_LOG`).
fn bash_in(dir: &Path, script: &str, env: &[(&str, &str)]) -> (bool, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let docker = bin.join("docker");
    std::fs::write(&docker, "#!/usr/bin/env bash\necho \"docker $*\" >> \"$STUB_LOG\"\n").expect("stub");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::new("bash")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("STUB_LOG", dir.join("calls"))
        .envs(env.iter().copied())
        .output()
        .expect("bash");
    let log = std::fs::read_to_string(dir.join("calls")).unwrap_or_default();
    (out.status.success(), format!("{log}{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn gitlab_pushes_only_what_the_scope_job_builds_and_deploys_what_it_keeps() {
    let text = PROGRAM.replace("  triggers    = [push, pull_request]\n", "  provider    = gitlab\n");
    let y: Value = serde_yaml_ng::from_str(&emitted(&text, Target::Gitlab, ".gitlab-ci.yml")).expect("yaml");
    // The scope job runs the plan's script, on every deploy ref, with the
    // whole history, and hands its file on as an artifact.
    let scope = &y["scope"];
    assert_eq!(
        scope["variables"]["DEPLOYC_SCOPE"]["value"].as_str(),
        Some(deployc::plan::changes::scope_script().as_str())
    );
    assert_eq!(scope["variables"]["GIT_DEPTH"]["value"].as_str(), Some("0"));
    assert_eq!(scope["artifacts"]["paths"][0].as_str(), Some(".deployc/scope.env"));
    assert_eq!(scope["rules"], y["push-image:api"]["rules"]);
    let needs: Vec<&str> =
        y["deploy:staging"]["needs"].as_sequence().expect("needs").iter().filter_map(Value::as_str).collect();
    assert!(needs.contains(&"scope"), "{needs:?}");
    // The push job of an unchanged service stops before building.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join(".deployc")).expect("mkdir");
    std::fs::write(tmp.path().join(".deployc/scope.env"), format!("build=web\nbuilt={WEB}\nkept={API}:main-1111111\n"))
        .expect("scope");
    let dir = tmp.path().to_str().expect("utf8");
    for (service, pushed) in [("api", false), ("web", true)] {
        let job = &y[format!("push-image:{service}").as_str()];
        let script: Vec<&str> = job["script"].as_sequence().expect("script").iter().filter_map(Value::as_str).collect();
        let _ = std::fs::remove_file(tmp.path().join("calls"));
        let (ok, log) = bash_in(
            tmp.path(),
            &script.join("\n"),
            &[
                ("CI_PROJECT_DIR", dir),
                ("SERVICE", service),
                ("CI_COMMIT_BRANCH", "main"),
                ("CI_COMMIT_SHA", "2222222aaaa"),
                ("IMAGE", if service == "api" { API } else { WEB }),
                ("DOCKERFILE", "Dockerfile"),
                ("CONTEXT", service),
            ],
        );
        assert!(ok, "{log}");
        assert_eq!(log.contains("docker buildx build"), pushed, "{service}: {log}");
        if pushed {
            assert!(log.contains("--label org.opencontainers.image.revision=2222222aaaa"), "{log}");
        }
    }
    // The deploy sets the built image to this pipeline's tag and the kept one to its tag.
    let release = y["deploy:staging"]["script"]
        .as_sequence()
        .expect("script")
        .iter()
        .filter_map(Value::as_str)
        .find(|s| s.contains("released_tag"))
        .expect("the release");
    assert!(release.contains(&deployc::plan::changes::release_sh("$IMAGE_TAG")), "{release}");
}

#[test]
fn jenkins_scopes_in_the_push_stage_and_skips_unchanged_pushes() {
    let text = PROGRAM.replace("  triggers    = [push, pull_request]\n", "  provider    = jenkins\n");
    let jf = emitted(&text, Target::Jenkins, "Jenkinsfile");
    let push = &jf[jf.find("stage('Push Images')").expect("push stage")..];
    let push = &push[..push.find("stage('Deploy").expect("a deploy stage")];
    // The plan's script, as `sh` writes it into a ''' string.
    let scope = deployc::plan::changes::scope_script().replace('\\', "\\\\");
    assert!(push.contains(&scope), "{push}");
    assert!(push.contains("git fetch --quiet origin \"+refs/heads/$GITOPS_BRANCH:refs/remotes/origin/$GITOPS_BRANCH\""));
    assert_eq!(push.matches("*) echo \"$SERVICE: nothing it is built from changed").count(), 2, "{push}");
    assert_eq!(push.matches("--label \"org.opencontainers.image.revision=$GIT_COMMIT\"").count(), 2);
    // Scope before the pushes, after the login.
    assert!(push.find("docker login").expect("login") < push.find("SCOPE_OUT=").expect("scope"));
    assert!(push.find("SCOPE_OUT=").expect("scope") < push.find("docker buildx build").expect("push"));
    let deploy = &jf[jf.find("KUSTOMIZATION = 'out/k8s/staging/kustomization.yaml'").expect("staging")..];
    assert!(deploy.contains("tag=$(released_tag \"$image\") || exit 1"), "{deploy}");
}
