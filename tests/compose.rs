//! The compose target (local development): every example's and test
//! program's `compose/docker-compose.yml` against the Compose Specification's
//! JSON schema (vendored: tests/data/compose-spec.json, see
//! tests/data/README.md), always; and through `docker compose config` when
//! the machine has the Compose plugin, which says so either way.

mod common;
use deployc::emit::{self, Artifact, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn compose_of(rel: &str, text: &str) -> Vec<Artifact> {
    let c = deployc::compile(rel, text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("{rel} compiles: {errs:?}"));
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Compose])
}

fn file<'a>(arts: &'a [Artifact], path: &str) -> &'a str {
    &arts.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("no {path}")).contents
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compose-spec.json"))
        .expect("vendored schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft7::new(&schema).expect("schema compiles")
}

#[test]
fn every_compose_file_follows_the_compose_specification() {
    let v = validator();
    let mut checked = 0;
    for (rel, text) in common::programs() {
        let arts = compose_of(&rel, &text);
        if arts.is_empty() {
            continue;
        }
        let doc: Value = serde_yaml_ng::from_str(file(&arts, "compose/docker-compose.yml")).expect("YAML");
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{rel}: {errors:#?}");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} compose files checked");
}

#[test]
fn the_schema_rejects_what_compose_rejects() {
    // The check above is only worth something if the schema bites.
    let v = validator();
    let bad: Value = serde_json::json!({"services": {"api": {"depends_on": {"db": {"condition": "when_ready"}}}}});
    assert!(v.iter_errors(&bad).next().is_some());
}

/// `docker compose config` resolves the file as Compose itself does. The
/// plugin is not on every machine: the test prints whether it ran, and the
/// schema test above always runs.
#[test]
fn docker_compose_config_accepts_healthcare_devops_when_available() {
    let has_compose = Command::new("docker").args(["compose", "version"]).output().is_ok_and(|o| o.status.success());
    if !has_compose {
        eprintln!("docker compose is not installed here: only the JSON schema check ran for compose files");
        return;
    }
    let rel = "examples/healthcare-devops.dpl";
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).expect("example");
    let dir = tempfile::tempdir().expect("tmp");
    for a in compose_of(rel, &text) {
        let p = dir.path().join(&a.path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, &a.contents).expect("write");
    }
    let env: String = file(&compose_of(rel, &text), "compose/.env.example")
        .lines()
        .filter(|l| l.ends_with('='))
        .map(|l| format!("{l}localonly\n"))
        .collect();
    std::fs::write(dir.path().join("compose/.env"), env).expect(".env");
    let o = Command::new("docker")
        .args(["compose", "config", "--quiet"])
        .current_dir(dir.path().join("compose"))
        .output()
        .expect("docker runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

const PROGRAM: &str = r#"project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
  gitops     = argocd { path = "deploy/out" }
}
service api {
  language = node
  port     = 8080
  build { context = "services/api" dockerfile = "docker/api.Dockerfile" }
  env {
    DATABASE_URL = db.url
    PRICE        = "$5 ${env.name}"
    TOKEN        = secret("api-token", key = "value")
    EVENTS       = events.url
  }
  migrations { command = ["npm", "run", "migrate"] }
  local { sync = "/app" command = ["npm", "run", "dev"] port = 9000 ignore = ["node_modules/"] }
}
service web {
  language = node
  port     = 8080
  env { API = api.url }
}
resource db = postgres
resource events = queue
"#;

fn services(arts: &[Artifact]) -> Value {
    let doc: Value = serde_yaml_ng::from_str(file(arts, "compose/docker-compose.yml")).expect("YAML");
    doc["services"].clone()
}

#[test]
fn services_build_from_the_repository_and_reach_each_other_by_name() {
    let arts = compose_of("p.dpl", PROGRAM);
    let s = services(&arts);
    // deploy/out/compose → three levels up to the repository root.
    assert_eq!(s["api"]["build"]["context"], "../../../services/api");
    assert_eq!(s["api"]["build"]["dockerfile"], "../../docker/api.Dockerfile");
    assert_eq!(s["web"]["build"]["context"], "../../..");
    assert_eq!(s["web"]["environment"]["API"], "http://api:8080");
    // The named port, then the next free one for the other service on 8080.
    assert_eq!(s["api"]["ports"][0], "127.0.0.1:9000:8080");
    assert_eq!(s["web"]["ports"][0], "127.0.0.1:8080:8080");
    assert_eq!(s["db"]["ports"][0], "127.0.0.1:5432:5432");
    assert_eq!(s["web"]["depends_on"]["api"]["condition"], "service_started");
}

#[test]
fn migrations_run_once_after_the_database_is_healthy_and_before_the_service() {
    let s = services(&compose_of("p.dpl", PROGRAM));
    assert_eq!(s["api-migrate"]["command"], serde_json::json!(["npm", "run", "migrate"]));
    assert_eq!(s["api-migrate"]["restart"], "no");
    assert_eq!(s["api-migrate"]["depends_on"]["db"]["condition"], "service_healthy");
    assert_eq!(s["api"]["depends_on"]["api-migrate"]["condition"], "service_completed_successfully");
    assert_eq!(s["api"]["depends_on"]["db"]["condition"], "service_healthy");
    assert!(s["db"]["healthcheck"]["test"].as_array().is_some_and(|t| !t.is_empty()));
}

#[test]
fn hot_reload_syncs_the_build_context_and_runs_the_dev_command() {
    let s = services(&compose_of("p.dpl", PROGRAM));
    let w = &s["api"]["develop"]["watch"][0];
    assert_eq!(w["action"], "sync");
    assert_eq!(w["path"], "../../../services/api");
    assert_eq!(w["target"], "/app");
    assert_eq!(w["ignore"][0], "node_modules/");
    assert_eq!(s["api"]["command"], serde_json::json!(["npm", "run", "dev"]));
    // Without `local`, a change rebuilds the image.
    assert_eq!(s["web"]["develop"]["watch"][0]["action"], "rebuild");
}

#[test]
fn no_secret_value_is_written_and_program_dollars_are_data() {
    let arts = compose_of("p.dpl", PROGRAM);
    let s = services(&arts);
    let need = |v: &str| format!("${{{v}:?set {v} in compose/.env (see .env.example)}}");
    assert_eq!(s["api"]["environment"]["TOKEN"], need("SECRET_API_TOKEN__VALUE"));
    assert_eq!(s["db"]["environment"]["POSTGRES_PASSWORD"], need("DB_PASSWORD"));
    assert_eq!(s["api"]["environment"]["DATABASE_URL"], format!("postgresql://app:{}@db:5432/db", need("DB_PASSWORD")));
    // A queue exists only in the cloud: the developer names one.
    assert_eq!(s["api"]["environment"]["EVENTS"], need("EVENTS_URL"));
    // `$5` would be an interpolation; `${env.name}` is the local environment.
    assert_eq!(s["api"]["environment"]["PRICE"], "$$5 local");
    let env = file(&arts, "compose/.env.example");
    for v in ["DB_PASSWORD=", "EVENTS_URL=", "SECRET_API_TOKEN__VALUE="] {
        assert!(env.lines().any(|l| l == v), "{v} missing from .env.example:\n{env}");
    }
    assert_eq!(file(&arts, "compose/.gitignore"), ".env\n");
}

#[test]
fn a_program_without_services_gets_no_compose_file_and_a_warning() {
    let text = "project p {\n  repository = \"github.com/acme/p\"\n  registry = ghcr { owner = \"acme\" }\n}\n";
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let (model, _) = c.output.expect("compiles");
    assert!(Target::Compose.unserved(&model).is_some());
}
