//! `deployc build` end to end, through the real binary: the committed example
//! output is current, builds are atomic and incremental, and `--check` finds
//! drift.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deployc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deployc"));
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    c
}

fn examples() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".dpl"))
        .map(|n| n.trim_end_matches(".dpl").to_string())
        .collect();
    v.sort();
    assert_eq!(v.len(), 5, "one example per seed");
    v
}

/// Every file of a tree with its bytes, for before/after comparisons.
/// Every file of an output tree, without the machine-local build state
/// (`.deployc-cache/`: inodes and times, no part of the output).
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("dir").filter_map(|e| e.ok()) {
            let p = e.path();
            if p == root.join(".deployc-cache") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(root).expect("under root").to_path_buf(), fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_example_output_is_current() {
    // Byte for byte: `--check` compares every generated file with the
    // committed tree. Regenerate with scripts/regenerate-examples.sh.
    for name in examples() {
        let out = deployc()
            .args(["build", "--check", &format!("examples/{name}.dpl"), "-o", &format!("examples/{name}/out")])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "examples/{name}/out is stale:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn build(src: &Path, out: &Path) -> std::process::Output {
    deployc().args(["build"]).arg(src).arg("-o").arg(out).output().expect("run")
}

fn example_text() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcp.dpl")).expect("example")
}

#[test]
fn second_build_rewrites_nothing_and_output_is_deterministic() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example_text()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    let first = snapshot(&out);
    let r = build(&src, &out);
    assert!(r.status.success());
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains(" 0 written, 0 removed"), "{stdout}");
    assert_eq!(first, snapshot(&out));
    // A fresh build elsewhere gives byte-identical files.
    let out2 = dir.path().join("out2");
    assert!(build(&src, &out2).status.success());
    assert_eq!(first, snapshot(&out2));
}

#[test]
fn failed_build_leaves_previous_output_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example_text()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    fs::write(out.join("NOTES.md"), "kept by the team\n").expect("write");
    let before = snapshot(&out);
    // Break the program: a wrong unit and an unknown name.
    let broken = example_text().replacen("port", "prot", 1) + "\nservice x { port = 99999 }\n";
    fs::write(&src, broken).expect("write");
    let r = build(&src, &out);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("nothing was written"));
    assert_eq!(before, snapshot(&out), "a failed build changed the output tree");
}

#[test]
fn check_reports_edited_missing_and_stale_files_and_build_repairs_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example_text()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    let check = || deployc().args(["build", "--check", "--diff"]).arg(&src).arg("-o").arg(&out).output().expect("run");
    assert!(check().status.success());

    // A hand edit, a deleted file, and a file the team added.
    let edited = out.join("k8s/dev/service-api.yaml");
    let text = fs::read_to_string(&edited).expect("read");
    fs::write(&edited, text.replace("port: 8080", "port: 9090")).expect("write");
    fs::remove_file(out.join("k8s/dev/networkpolicy-default-deny.yaml")).expect("rm");
    fs::write(out.join("k8s/dev/extra.yaml"), "kind: Mine\n").expect("write");
    let r = check();
    assert_eq!(r.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("changed   k8s/dev/service-api.yaml"), "{stdout}");
    assert!(
        stdout.contains("--- a/k8s/dev/service-api.yaml") && stdout.contains("+++ b/k8s/dev/service-api.yaml"),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l.starts_with('-') && l.contains("9090")), "the diff shows the edit: {stdout}");
    assert!(stdout.contains("missing   k8s/dev/networkpolicy-default-deny.yaml"), "{stdout}");
    assert!(!stdout.contains("extra.yaml"), "files deployc did not generate are not its business");

    // Drop an environment: its files become stale, then are removed by a build.
    let fewer = example_text().replace("environment staging", "environment staging2");
    fs::write(&src, &fewer).expect("write");
    let r = check();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("stale     k8s/staging/"), "{stdout}");
    let r = build(&src, &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!out.join("k8s/staging").exists(), "stale generated files and their folder are removed");
    assert!(out.join("k8s/staging2/kustomization.yaml").exists());
    assert!(out.join("k8s/dev/extra.yaml").exists(), "never delete files deployc did not write");
    assert!(check().status.success());
}

#[test]
fn released_image_tags_survive_a_rebuild() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example_text()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    // CD releases a new tag by editing the kustomization, as its deploy job does.
    let k = out.join("k8s/qa/kustomization.yaml");
    let text = fs::read_to_string(&k).expect("read");
    let tag_line = text.lines().find(|l| l.trim_start().starts_with("newTag:")).expect("a tag").to_string();
    fs::write(&k, text.replace(&tag_line, "    newTag: main-abc1234")).expect("write");
    assert!(build(&src, &out).status.success());
    let rollout = fs::read_to_string(out.join("k8s/qa/rollout-api.yaml")).expect("read");
    assert!(rollout.contains(":main-abc1234"), "{rollout}");
    assert!(fs::read_to_string(&k).expect("read").contains("newTag: main-abc1234"));
    let dev = fs::read_to_string(out.join("k8s/dev/kustomization.yaml")).expect("read");
    assert!(!dev.contains("main-abc1234"), "tags are per environment");
}

#[test]
fn a_cd_release_leaves_no_drift() {
    // The deploy job's own shell function edits the committed tree; the next
    // `deployc build --check` must find it exactly as deployc would write it.
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example_text()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/healthcp";
    let script = format!("{}set_tag \"$1\" {image} main-abc1234\n", deployc::plan::delivery::SET_TAG);
    let k = out.join("k8s/qa/kustomization.yaml");
    let r = Command::new("bash").arg("-c").arg(&script).arg("set_tag").arg(&k).output().expect("bash");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rollout = fs::read_to_string(out.join("k8s/qa/rollout-api.yaml")).expect("read");
    assert!(rollout.contains(&format!("image: \"{image}:main-abc1234\"")), "{rollout}");
    let check = deployc().args(["build", "--check"]).arg(&src).arg("-o").arg(&out).output().expect("run");
    assert!(check.status.success(), "drift after a release:\n{}", String::from_utf8_lossy(&check.stdout));
}
