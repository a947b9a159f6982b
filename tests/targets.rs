//! A target that cannot serve a program says so with a coded warning
//! (W0005) instead of writing nothing without a word.

use std::process::Command;

const GCP: &str = r#"project p {
  repository = "github.com/acme/p"
  registry   = ghcr { owner = "acme" }
  cloud      = gcp { project = "acme" region = "europe-west1" }
}
service api {
  image    = "p/api"
  language = node
  port     = 8080
}
environment dev { promote = on_push("main") }
"#;

fn build(extra: &[&str]) -> (bool, String, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("p.dpl");
    std::fs::write(&file, GCP).expect("write");
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(["--color", "never", "build"])
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .args(extra)
        .output()
        .expect("runs");
    (o.status.success(), String::from_utf8_lossy(&o.stderr).to_string(), out, dir)
}

#[test]
fn terraform_for_a_gcp_program_warns_and_the_rest_is_built() {
    let (ok, err, out, _d) = build(&[]);
    assert!(ok, "{err}");
    assert!(err.contains("W0005") && err.contains("target `terraform` has nothing to emit"), "{err}");
    assert!(!err.contains("target `jenkins`"), "the provider not chosen is no surprise: {err}");
    assert!(out.join("k8s/dev/kustomization.yaml").exists());
    assert!(!out.join("terraform/dev").exists());
}

#[test]
fn an_explicit_target_that_does_not_apply_warns_and_fails_with_deny() {
    let (ok, err, _out, _d) = build(&["--target", "jenkins", "--deny", "warnings"]);
    assert!(!ok);
    assert!(err.contains("target `jenkins` has nothing to emit"), "{err}");
}
