//! The escape hatch: an environment's `patches` reach its kustomization,
//! kustomize applies them (strategic merge and JSON 6902), builds never touch
//! the team's patch files, and the Helm target says it cannot carry them (W0007).

use std::path::Path;
use std::process::Command;

const PROGRAM: &str = "tests/cases/pass/patches.dpl";

fn deployc(args: &[&str], file: &Path, out: &Path) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(["--color", "never", "build"])
        .arg(file)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .expect("run deployc");
    (o.status.success(), String::from_utf8_lossy(&o.stderr).to_string())
}

/// A temporary output whose `prod` environment holds the team's two patches.
fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("patches.dpl");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(PROGRAM), &file).expect("copy");
    let out = dir.path().join("out");
    let patches = out.join("k8s/prod/patches");
    std::fs::create_dir_all(&patches).expect("mkdir");
    std::fs::write(
        patches.join("api-priority.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      priorityClassName: high\n",
    )
    .expect("write");
    std::fs::write(
        patches.join("api-service.json"),
        r#"[{"op": "add", "path": "/metadata/annotations", "value": {"owner": "team-shop"}}]"#,
    )
    .expect("write");
    (dir, file, out)
}

#[test]
fn kustomize_applies_both_kinds_of_patch_and_builds_keep_the_files() {
    let (_dir, file, out) = setup();
    let (ok, err) = deployc(&[], &file, &out);
    assert!(ok, "{err}");
    let k = std::fs::read_to_string(out.join("k8s/prod/kustomization.yaml")).expect("kustomization");
    assert!(
        k.contains(
            "patches:\n  - path: patches/api-priority.yaml\n    target:\n      kind: Rollout\n      name: api\n"
        ),
        "{k}"
    );
    assert!(!std::fs::read_to_string(out.join("k8s/dev/kustomization.yaml")).expect("dev").contains("patches:"));
    // A second build and the drift check leave the team's files alone.
    let (ok, err) = deployc(&[], &file, &out);
    assert!(ok, "{err}");
    let (ok, err) = deployc(&["--check"], &file, &out);
    assert!(ok, "drift reported for the team's patches: {err}");
    assert!(out.join("k8s/prod/patches/api-service.json").exists());
    // kustomize (kubectl's) applies them; CI's machine image has kubectl.
    let o = Command::new("kubectl")
        .arg("kustomize")
        .arg(out.join("k8s/prod"))
        .output()
        .expect("kubectl is needed for this test (CI's image has it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rendered = String::from_utf8_lossy(&o.stdout);
    assert!(rendered.contains("priorityClassName: high"), "strategic merge patch not applied");
    assert!(rendered.contains("owner: team-shop"), "JSON 6902 patch not applied");
}

#[test]
fn the_helm_target_warns_that_it_cannot_carry_patches() {
    let (_dir, file, out) = setup();
    let (ok, err) = deployc(&["--target", "helm"], &file, &out);
    assert!(ok, "{err}");
    assert!(err.contains("W0007") && err.contains("environment `prod`"), "{err}");
    let (ok, err) = deployc(&["--target", "k8s", "--deny", "warnings"], &file, &out);
    assert!(ok && !err.contains("W0007"), "{err}");
    let (ok, _) = deployc(&["--target", "helm", "--deny", "warnings"], &file, &out);
    assert!(!ok, "W0007 is a warning that --deny warnings refuses");
}
