//! Presets and environment-wide service defaults: the precedence rule of the
//! reference (preset it extends < preset < service < `service_defaults` <
//! the environment's entry for the service), checked on the model.

mod common;
use common::*;
use deployc::model::{Cpu, EnvValue, Model, Replicas};

fn model(rel: &str) -> Model {
    let c = compile_file(rel);
    assert!(c.output.is_some(), "{}", render_all(&c));
    c.output.expect("model").0
}

fn var(env: &std::collections::BTreeMap<String, EnvValue>, k: &str) -> Option<String> {
    match env.get(k)? {
        EnvValue::Literal(t) => t.as_literal(),
        _ => None,
    }
}

#[test]
fn a_service_starts_from_its_preset_chain_and_wins_over_it() {
    let m = model("tests/cases/pass/presets_and_service_defaults.dpl");
    let api = m.services.iter().find(|s| s.name == "api").expect("api");
    // From `base` through `web`.
    assert_eq!(api.cpu, Cpu { request: 100, limit: Some(500) });
    assert_eq!(m.toolchain(api.language().expect("built here")).name, "go");
    // From `web`.
    assert_eq!(api.port, Some(8080));
    assert_eq!(api.replicas, Replicas::Fixed(2));
    assert!(api.health.is_some());
    // The service's own field.
    assert_eq!(api.memory.request, 256 << 20);
    // `env` merges variable by variable; the nearest level wins.
    assert_eq!(var(&api.env, "LOG_FORMAT").as_deref(), Some("json"));
    assert_eq!(var(&api.env, "REGION").as_deref(), Some("ap"));
    let worker = m.services.iter().find(|s| s.name == "worker").expect("worker");
    assert_eq!(worker.port, Some(9000));
    assert_eq!(var(&worker.env, "REGION").as_deref(), Some("eu"));
    assert!(worker.health.is_none(), "`health` of `web` must not leak into a sibling of `base`");
}

#[test]
fn environment_defaults_sit_between_the_service_and_its_override() {
    let m = model("tests/cases/pass/presets_and_service_defaults.dpl");
    let id = |n: &str| m.services.iter().find(|s| s.name == n).expect("service").id;
    let env = |n: &str| m.environments.iter().find(|e| e.name == n).expect("env");
    let dep = |e: &str, s: &str| env(e).deployments.iter().find(|d| d.service == id(s)).expect("deployment").clone();
    // dev has no defaults: the service's values.
    assert_eq!(dep("dev", "api").replicas, Replicas::Fixed(2));
    assert_eq!(var(&dep("dev", "api").env, "LOG_LEVEL"), None);
    // prod's defaults replace the service's replicas for every service ...
    assert_eq!(dep("prod", "worker").replicas, Replicas::Auto { min: 3, max: 6 });
    assert_eq!(var(&dep("prod", "worker").env, "LOG_LEVEL").as_deref(), Some("warn"));
    // ... and the service's own override replaces the defaults, field by field.
    assert_eq!(dep("prod", "api").replicas, Replicas::Auto { min: 4, max: 10 });
    assert_eq!(var(&dep("prod", "api").env, "LOG_LEVEL").as_deref(), Some("warn"));
    assert_eq!(var(&dep("prod", "api").env, "REGION").as_deref(), Some("ap"));
}

/// Every artifact of every target, by path.
fn artifacts(text: &str) -> std::collections::BTreeMap<String, String> {
    let c = deployc::compile("bench.dpl", text, &Disk);
    assert!(c.output.is_some(), "{}", render_all(&c));
    let (model, graph) = c.output.expect("model");
    let options = Default::default();
    let plan = deployc::plan::Plan::new(&model, &graph, &options);
    deployc::emit::emit(&plan, deployc::emit::Target::ALL).into_iter().map(|a| (a.path, a.contents)).collect()
}

#[test]
fn the_peer_workload_with_presets_emits_what_the_full_program_does() {
    let n = 40;
    let full = deployc::synth::peers::full(n);
    let short = deployc::synth::peers::with_presets(n);
    assert!(short.len() * 2 < full.len(), "{} vs {} bytes", short.len(), full.len());
    let (a, b) = (artifacts(&full), artifacts(&short));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.keys().filter(|p| p.starts_with("k8s/prod/")).count() >= 3 * n, "{:?}", a.keys().take(5));
    for (path, text) in &a {
        assert_eq!(text, &b[path], "{path} differs");
    }
}
