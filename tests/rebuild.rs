//! The rebuild fast path through the real binary: a build records its input
//! fingerprint and each file's metadata (`.deployc-cache/state`); the next
//! `build` or `build --check` with nothing changed answers from it, and any
//! change that could alter the output or the tree sends it down the slow
//! path. Also `build --stdout`, the one-stream mode.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn deployc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deployc"));
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    c
}

fn run(args: &[&str], src: &Path, out: &Path) -> Output {
    deployc().args(args).arg(src).arg("-o").arg(out).output().expect("run")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn example() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcp.dpl")).expect("example")
}

/// A temporary folder with the example program as `app.dpl`, and the path
/// of its output: the folder goes when the first value is dropped.
fn example_dir() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    (dir, src, out)
}

/// Builds and says whether the recorded state answered.
fn build(src: &Path, out: &Path) -> (bool, String) {
    let o = run(&["build"], src, out);
    assert!(o.status.success(), "{}", text(&o));
    (text(&o).contains("(as recorded)"), text(&o))
}

#[test]
fn an_unchanged_rebuild_answers_from_the_state_and_every_change_is_seen() {
    let (_dir, src, out) = example_dir();

    let (fast, msg) = build(&src, &out);
    assert!(!fast && !msg.contains(" 0 written"), "{msg}");
    // The state is machine-local and keeps itself out of git.
    let ignore = fs::read_to_string(out.join(".deployc-cache/.gitignore")).expect("gitignore");
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    assert!(!fs::read_to_string(out.join(".deployc-manifest")).expect("manifest").contains(".deployc-cache"));

    let (fast, msg) = build(&src, &out);
    assert!(fast && msg.contains(" 0 written, 0 removed"), "{msg}");
    let o = run(&["build", "--check"], &src, &out);
    assert!(o.status.success() && text(&o).contains("as recorded"), "{}", text(&o));

    // A generated file edited in place, its size and mtime put back: the
    // inode's change time still tells. The build restores it; --check sees it.
    let file = out.join("k8s/dev/kustomization.yaml");
    let before = fs::read(&file).expect("read");
    let mtime = fs::metadata(&file).expect("meta").modified().expect("mtime");
    let mut edited = before.clone();
    let i = edited.iter().position(|b| *b == b'K').expect("a K");
    edited[i] = b'k';
    fs::write(&file, &edited).expect("write");
    fs::File::options().write(true).open(&file).expect("open").set_modified(mtime).expect("set mtime");
    let o = run(&["build", "--check"], &src, &out);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("changed   k8s/dev/kustomization.yaml"), "{}", text(&o));
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 1 written"), "{msg}");
    assert_eq!(fs::read(&file).expect("read"), before);
    assert!(build(&src, &out).0, "recorded again after the repair");

    // A deleted generated file.
    fs::remove_file(out.join("k8s/dev/kustomization.yaml")).expect("rm");
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 1 written"), "{msg}");

    // A file the team adds to an environment's extra/ folder changes the
    // kustomization: the fingerprint covers what the build reads from the tree.
    fs::create_dir_all(out.join("k8s/dev/extra")).expect("mkdir");
    fs::write(out.join("k8s/dev/extra/sealed.yaml"), "kind: SealedSecret\n").expect("write");
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 2 written"), "kustomization and manifest: {msg}");
    assert!(fs::read_to_string(&file).expect("read").contains("extra/sealed.yaml"));
    assert!(build(&src, &out).0);

    // A changed program, even by one comment, is a different input.
    fs::write(&src, example() + "\n// one more line\n").expect("write");
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 0 written"), "{msg}");
    assert!(build(&src, &out).0);

    // Other targets are another input, and the state follows the last build.
    let o = run(&["build", "--target", "k8s"], &src, &out);
    assert!(o.status.success() && !text(&o).contains("as recorded"), "{}", text(&o));
    let o = run(&["build", "--target", "k8s"], &src, &out);
    assert!(text(&o).contains("as recorded"), "{}", text(&o));
    assert!(!build(&src, &out).0);
}

#[test]
fn a_forged_or_torn_state_only_costs_the_slow_path() {
    let (_dir, src, out) = example_dir();
    build(&src, &out);
    let state = out.join(".deployc-cache/state");
    let good = fs::read_to_string(&state).expect("state");
    assert!(good.starts_with("deployc state 1\nfingerprint\t"), "{good}");

    // Torn, and listing a file outside the output: ignored.
    for bad in [good[..good.len() / 2].to_string(), good.replacen("\tk8s/", "\t../k8s/", 1)] {
        fs::write(&state, bad).expect("write");
        let (fast, msg) = build(&src, &out);
        assert!(!fast && msg.contains(" 0 written"), "{msg}");
    }
    // A state that claims an edited file is as recorded: the edit changed
    // the file's inode change time, which nobody can set back.
    assert!(build(&src, &out).0);
    let good = fs::read_to_string(&state).expect("state");
    let file = out.join("k8s/dev/kustomization.yaml");
    fs::write(&file, "kind: Edited\n").expect("write");
    fs::write(&state, &good).expect("write");
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 1 written"), "{msg}");
}

/// A build leaves the files and folders it wrote in its last 50 ms "racy"
/// (checked by content, folders listed). The next unchanged `build`
/// records those that checked out and are old enough as plain entries;
/// `build --check` writes nothing; an edit made later is still seen.
#[test]
fn an_unchanged_build_clears_racy_entries_and_a_check_leaves_the_state() {
    let (_dir, src, out) = example_dir();
    build(&src, &out);
    let state = out.join(".deployc-cache/state");
    let racy = |s: &str| {
        s.lines()
            .filter(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                f.len() == 6 && (f[4].len() == 64 || f[4] == "dir?")
            })
            .count()
    };
    // Racy entries whatever the timing: a file with its content's hash (from
    // the manifest) and its folder.
    let path = "k8s/dev/kustomization.yaml";
    let manifest = fs::read_to_string(out.join(".deployc-manifest")).expect("manifest");
    let hash = manifest.lines().find_map(|l| l.strip_suffix(&format!("  {path}"))).expect("listed");
    let forged: String = fs::read_to_string(&state)
        .expect("state")
        .lines()
        .map(|l| {
            let l = if l.ends_with(&format!("\t-\t{path}")) {
                l.replace(&format!("\t-\t{path}"), &format!("\t{hash}\t{path}"))
            } else if l.ends_with("\tdir\tk8s/dev") {
                l.replace("\tdir\tk8s/dev", "\tdir?\tk8s/dev")
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    assert!(racy(&forged) >= 2, "{forged}");
    fs::write(&state, &forged).expect("write");
    std::thread::sleep(std::time::Duration::from_millis(120));

    let o = run(&["build", "--check"], &src, &out);
    assert!(o.status.success() && text(&o).contains("as recorded"), "{}", text(&o));
    assert_eq!(fs::read_to_string(&state).expect("state"), forged, "a check writes nothing");
    assert!(build(&src, &out).0);
    let refreshed = fs::read_to_string(&state).expect("state");
    assert_eq!(racy(&refreshed), 0, "{refreshed}");
    // Only the kinds changed: every other field of every line is the same.
    let others = |s: &str| -> Vec<Vec<String>> {
        s.lines()
            .map(|l| l.split('\t').enumerate().filter(|(i, _)| *i != 4).map(|(_, f)| f.to_string()).collect())
            .collect()
    };
    assert_eq!(others(&refreshed), others(&forged));
    assert!(build(&src, &out).0, "the refreshed state answers");

    // Edited since: the file's change time is past the state's.
    let file = out.join(path);
    let mut edited = fs::read(&file).expect("read");
    edited.push(b'\n');
    fs::write(&file, &edited).expect("write");
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 1 written"), "{msg}");
}

/// Builds the Kubernetes tree and the stream of `src`; asserts the stream
/// holds every object of the tree, in path order, and nothing else.
fn stream_is_the_tree(src: &Path, out: &Path) -> String {
    let o = run(&["build", "--target", "k8s"], src, out);
    assert!(o.status.success(), "{}", text(&o));
    let o = deployc().args(["build", "--stdout"]).arg(src).output().expect("run");
    assert!(o.status.success(), "{}", text(&o));
    let stream = String::from_utf8(o.stdout).expect("utf-8");
    let files: Vec<String> = fs::read_to_string(out.join(".deployc-manifest"))
        .expect("manifest")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p.to_string()))
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect();
    let mut expected: Vec<String> = files.iter().map(|p| fs::read_to_string(out.join(p)).expect("read")).collect();
    assert!(stream.starts_with("---\n"), "{stream}");
    let docs: Vec<&str> = stream[4..].split("\n---\n").collect();
    let mut got: Vec<String> =
        docs.iter().map(|d| if d.ends_with('\n') { d.to_string() } else { format!("{d}\n") }).collect();
    got.sort();
    expected.sort();
    assert!(got == expected, "the stream holds the tree's objects, each once");
    applies_in_order(&docs);
    stream
}

/// `kubectl apply -f -` creates objects in the order it reads them: every
/// object comes after its Namespace, and a workload after the
/// ServiceAccount and ConfigMaps its pods use.
fn applies_in_order(docs: &[&str]) {
    use serde_yaml_ng::Value;
    let docs: Vec<Value> = docs.iter().map(|d| serde_yaml_ng::from_str(d).expect("yaml")).collect();
    let str_at = |v: &Value, path: &[&str]| -> Option<String> {
        path.iter().try_fold(v, |v, k| v.get(*k)).and_then(|v| v.as_str()).map(str::to_string)
    };
    let key = |v: &Value| {
        (
            str_at(v, &["kind"]).unwrap_or_default(),
            str_at(v, &["metadata", "namespace"]),
            str_at(v, &["metadata", "name"]),
        )
    };
    let at: std::collections::HashMap<_, usize> = docs.iter().enumerate().map(|(i, d)| (key(d), i)).collect();
    let before = |i: usize, kind: &str, ns: Option<String>, name: String| {
        let j = at.get(&(kind.to_string(), ns.clone(), Some(name.clone())));
        assert!(j.is_some_and(|j| *j < i), "{kind} {ns:?}/{name} comes before document {i}: {:?}", key(&docs[i]));
    };
    // Admission policies judge the pods created after them only.
    let policies: Vec<(usize, Option<String>)> = docs
        .iter()
        .enumerate()
        .filter(|(_, d)| str_at(d, &["apiVersion"]).is_some_and(|a| a.starts_with("kyverno.io/")))
        .map(|(i, d)| (i, str_at(d, &["metadata", "namespace"])))
        .collect();
    let (mut namespaced, mut workloads) = (0, 0);
    for (i, d) in docs.iter().enumerate() {
        let ns = str_at(d, &["metadata", "namespace"]);
        if let Some(n) = &ns {
            before(i, "Namespace", None, n.clone());
            namespaced += 1;
        }
        let Some(pod) = ["spec", "template", "spec"].iter().try_fold(d, |v, k| v.get(*k)) else { continue };
        workloads += 1;
        for (p, pns) in &policies {
            let judges = pns.is_none() || *pns == ns;
            assert!(!judges || *p < i, "the policy at {p} comes before document {i}: {:?}", key(d));
        }
        if let Some(sa) = str_at(pod, &["serviceAccountName"]) {
            before(i, "ServiceAccount", ns.clone(), sa);
        }
        for c in pod.get("containers").and_then(Value::as_sequence).into_iter().flatten() {
            for e in c.get("envFrom").and_then(Value::as_sequence).into_iter().flatten() {
                if let Some(cm) = str_at(e, &["configMapRef", "name"]) {
                    before(i, "ConfigMap", ns.clone(), cm);
                }
            }
        }
    }
    assert!(namespaced > 0 && workloads > 0, "{namespaced} namespaced objects, {workloads} workloads");
}

/// The stream renders an environment's services in pieces on all cores: a
/// ServiceAccount services in different pieces share is still one object,
/// the first service's, as in the tree.
#[test]
fn a_stream_of_many_services_is_still_the_tree() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    let mut program = String::from(
        "project shop {\n  repository = \"github.com/acme/shop\"\n  registry = ghcr { owner = \"acme\" }\n}\n\n",
    );
    for i in 0..200 {
        // Services 0 and 150 (far apart) share an account; the others have their own.
        let account = if i % 150 == 0 { "  service_account = \"shared\"\n".to_string() } else { String::new() };
        program.push_str(&format!(
            "service svc-{i:03} {{\n  language = go\n  port = {}\n  health = http {{ path = \"/healthz\" }}\n{account}}}\n",
            8000 + i
        ));
    }
    program.push_str("environment dev {\n  promote = on_push(\"main\")\n}\nenvironment prod {\n  production = true\n  promote = manual(from = dev)\n}\n");
    fs::write(&src, &program).expect("write");
    let stream = stream_is_the_tree(&src, &dir.path().join("out"));
    assert_eq!(stream.matches("kind: Deployment\n").count(), 400);
    assert_eq!(stream.matches("kind: ServiceAccount\n").count(), 2 * 199, "one shared account per environment");
}

/// Kyverno's policies are in place before the first pod they judge, as
/// their sync wave puts them in the tree.
#[test]
fn a_stream_applies_admission_policies_before_workloads() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/pass/policy_kyverno_audit.dpl");
    let stream = stream_is_the_tree(&src, &dir.path().join("out"));
    assert!(stream.contains("apiVersion: kyverno.io/v1\nkind: Policy\n"), "{stream}");
}

#[test]
fn stdout_prints_the_kubernetes_objects_as_one_stream() {
    let (_dir, src, out) = example_dir();
    let stream = stream_is_the_tree(&src, &out);

    // `-o -` is the same; --env picks environments; other targets are refused.
    let o = deployc().args(["build", "-o", "-"]).arg(&src).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&o.stdout), stream);
    let o = deployc().args(["build", "--stdout", "--env", "dev"]).arg(&src).output().expect("run");
    let dev = String::from_utf8(o.stdout).expect("utf-8");
    assert!(dev.contains("namespace: healthcp-dev") && !dev.contains("deployc.dev/environment: staging"), "{dev}");
    assert!(dev.len() < stream.len() / 2, "{} of {}", dev.len(), stream.len());
    let o = deployc().args(["build", "--stdout", "--env", "nowhere"]).arg(&src).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = deployc().args(["build", "--stdout", "--target", "terraform"]).arg(&src).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = deployc().args(["build", "--env", "dev"]).arg(&src).arg("-o").arg(&out).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_quiet_build_records_its_sources_and_an_edited_import_is_still_seen() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    // A file beside the program, imported (its content is not used here).
    let program = example().replacen("project ", "import \"lib/strategies.dpl\"\n\nproject ", 1);
    fs::write(&src, &program).expect("write");
    fs::create_dir_all(dir.path().join("lib")).expect("mkdir");
    let lib = dir.path().join("lib/strategies.dpl");
    fs::write(&lib, "// the team's strategies\n").expect("write");
    let out = dir.path().join("out");
    let (fast, msg) = build(&src, &out);
    assert!(!fast, "{msg}");
    // Every loaded source, in load order: the prelude, the program, its import.
    let state = fs::read_to_string(out.join(".deployc-cache/state")).expect("state");
    let sources: Vec<&str> = state.lines().filter(|l| l.starts_with("source\t")).collect();
    assert_eq!(sources.len(), 3, "{state}");
    assert_eq!(sources[0], "source\tstd\tstd/toolchains");
    assert!(sources[1].ends_with("/app.dpl") && sources[2].ends_with("/lib/strategies.dpl"), "{sources:?}");
    assert!(build(&src, &out).0, "nothing changed");

    // The import changes (not the output): a different input.
    fs::write(&lib, "// the team's strategies, none yet\n").expect("write");
    let (fast, msg) = build(&src, &out);
    assert!(!fast && msg.contains(" 0 written"), "{msg}");
    assert!(build(&src, &out).0);
    // A missing import: the build compiles and fails with the loader's error.
    fs::remove_file(&lib).expect("rm");
    let o = run(&["build"], &src, &out);
    assert!(!o.status.success() && text(&o).contains("E0101"), "{}", text(&o));
}

#[test]
fn a_build_with_warnings_reports_them_on_every_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    // A production environment deployed on every push: W0002.
    let program =
        "project shop {\n  repository = \"github.com/acme/shop\"\n  registry   = ghcr { owner = \"acme\" }\n}\n\n\
                   service api {\n  language = go\n  port     = 8080\n  health   = http { path = \"/healthz\" }\n}\n\n\
                   environment prod {\n  production = true\n  promote    = on_push(\"main\")\n}\n";
    fs::write(&src, program).expect("write");
    let out = dir.path().join("out");
    for _ in 0..3 {
        let o = run(&["build"], &src, &out);
        assert!(o.status.success() && text(&o).contains("W0002"), "{}", text(&o));
    }
    let state = fs::read_to_string(out.join(".deployc-cache/state")).expect("state");
    assert!(!state.contains("\nsource\t"), "no sources for a build with warnings: {state}");
    // And --deny still refuses it, up to date or not.
    let o = run(&["build", "--deny", "warnings"], &src, &out);
    assert!(!o.status.success(), "{}", text(&o));
}
