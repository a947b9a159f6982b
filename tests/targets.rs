//! A target that cannot serve a program says so with a coded warning
//! (W0005) instead of writing nothing without a word, and what a cloud
//! cannot serve of a program is a coded warning too (W0008).

use std::process::Command;

const AZURE: &str = r#"project p {
  repository = "github.com/acme/p"
  registry   = ghcr { owner = "acme" }
  cloud      = azure { location = "westeurope" }
}
service api {
  image    = "p/api"
  language = node
  port     = 8080
}
environment dev { promote = on_push("main") }
"#;

fn build(extra: &[&str]) -> (bool, String, std::path::PathBuf, tempfile::TempDir) {
    build_program(AZURE, extra)
}

fn build_program(program: &str, extra: &[&str]) -> (bool, String, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("p.dpl");
    std::fs::write(&file, program).expect("write");
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
fn an_azure_program_gets_terraform_and_no_target_warning() {
    let (ok, err, out, _d) = build(&[]);
    assert!(ok, "{err}");
    assert!(!err.contains("W0005"), "Azure has Terraform now: {err}");
    assert!(!err.contains("target `jenkins`"), "the provider not chosen is no surprise: {err}");
    assert!(out.join("k8s/dev/kustomization.yaml").exists());
    assert!(out.join("terraform/dev/versions.tf.json").exists());
    assert!(out.join("terraform/shared/github.tf.json").exists());
}

const AZURE_GAPS: &str = r#"project p {
  repository   = "github.com/acme/p"
  registry     = ghcr { owner = "acme" }
  cloud        = azure { location = "westeurope" }
  secret_store = aws_secrets_manager { region = "eu-west-1" }
}
resource db   = postgres {}
resource docs = mongodb {}
resource jobs = queue {}
service api {
  image    = "p/api"
  language = node
  port     = 8080
  env { DATABASE_URL = db.url MONGO_URL = docs.url QUEUE_URL = jobs.url }
}
environment dev { promote = on_push("main") resources { docs { placement = in_cluster } } }
environment prod { promote = manual(from = dev) production = true resources { docs { placement = managed } jobs { placement = managed } } }
"#;

#[test]
fn what_azure_cannot_serve_is_a_coded_warning_and_the_rest_is_written() {
    let (ok, err, out, _d) = build_program(AZURE_GAPS, &["--target", "terraform"]);
    assert!(ok, "{err}");
    assert!(err.contains("managed mongodb `docs` has no Azure Terraform yet (environments: prod)"), "{err}");
    assert!(err.contains("`jobs` has no Azure Terraform yet"), "{err}");
    assert!(err.contains("secret store `aws_secrets_manager` on an Azure cloud"), "{err}");
    assert!(err.contains("go to Azure Key Vault"), "{err}");
    let db = std::fs::read_to_string(out.join("terraform/prod/databases.tf.json")).expect("prod databases");
    assert!(db.contains("azurerm_postgresql_flexible_server"));
    assert!(!db.contains("cosmos") && !db.contains("servicebus"), "nothing half-written for the gaps");
}

#[test]
fn an_explicit_target_that_does_not_apply_warns_and_fails_with_deny() {
    let (ok, err, _out, _d) = build(&["--target", "jenkins", "--deny", "warnings"]);
    assert!(!ok);
    assert!(err.contains("target `jenkins` has nothing to emit"), "{err}");
}

const GCP_GAPS: &str = r#"project p {
  repository   = "github.com/acme/p"
  registry     = ghcr { owner = "acme" }
  cloud        = gcp { project = "acme-prod" region = "europe-west1" }
  secret_store = aws_secrets_manager { region = "eu-west-1" }
}
resource db   = postgres {}
resource docs = mongodb {}
service api {
  image    = "p/api"
  language = node
  port     = 8080
  env { DATABASE_URL = db.url MONGO_URL = docs.url }
}
environment dev { promote = on_push("main") resources { docs { placement = in_cluster } } }
environment prod { promote = manual(from = dev) production = true resources { docs { placement = managed } } }
"#;

#[test]
fn what_gcp_cannot_serve_is_a_coded_warning_and_the_rest_is_written() {
    let (ok, err, out, _d) = build_program(GCP_GAPS, &["--target", "terraform"]);
    assert!(ok, "{err}");
    assert!(err.contains("W0008") && err.contains("`docs` has no GCP Terraform yet (environments: prod)"), "{err}");
    assert!(err.contains("secret store `aws_secrets_manager` on a GCP cloud"), "{err}");
    assert!(!err.contains("W0005"), "{err}");
    assert!(err.contains("the credentials Terraform generates for `db`, `docs` go to GCP Secret Manager"), "{err}");
    assert!(!err.contains("`db` has no GCP Terraform"), "Cloud SQL serves db: {err}");
    let db = std::fs::read_to_string(out.join("terraform/prod/databases.tf.json")).expect("prod databases");
    assert!(db.contains("google_sql_database_instance") && !db.contains("docs"), "{db}");
    let (ok, err, _out, _d) = build_program(GCP_GAPS, &["--target", "terraform", "--deny", "warnings"]);
    assert!(!ok, "{err}");
}

#[test]
fn a_gcp_secret_manager_store_reads_the_generated_credentials_so_no_warning_says_otherwise() {
    let program = GCP_GAPS
        .replace(
            r#"secret_store = aws_secrets_manager { region = "eu-west-1" }"#,
            r#"secret_store = gcp_secret_manager { project = "acme-prod" }"#,
        )
        .replace("resources { docs { placement = managed } }", "");
    let (ok, err, out, _d) = build_program(&program, &["--target", "terraform", "--target", "k8s"]);
    assert!(ok, "{err}");
    assert!(!err.contains("does not read") && !err.contains("no AWS identity"), "{err}");
    let store = std::fs::read_to_string(out.join("k8s/prod/secretstore-p-secrets.yaml")).expect("store");
    assert!(store.contains("gcpsm:") && store.contains("projectID: acme-prod"), "{store}");
}
