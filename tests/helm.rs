//! The Helm chart, checked without Helm: every values file parses, layers over
//! `values.yaml` into exactly that environment's values, and validates against
//! `values.schema.json`, which rejects wrong values. Rendering the chart and
//! comparing with the Kubernetes target needs Helm's library:
//! `scripts/helm_equivalence.py`, run by `.ci/run`.

mod common;
use deployc::emit::{self, helm, Target};
use deployc::plan::Plan;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The example programs and the emitter test programs.
fn programs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
        .expect("examples")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dpl"))
        .map(|n| format!("examples/{n}"))
        .collect();
    out.sort();
    out.push("tests/programs/shop.dpl".into());
    out.push("tests/programs/edge.dpl".into());
    out
}

struct Chart {
    program: String,
    /// Files of `helm/<project>/` by path inside the chart.
    files: BTreeMap<String, String>,
    /// The values the emitter computed for each environment, in promotion order.
    envs: Vec<(String, Value)>,
}

fn charts() -> Vec<Chart> {
    programs()
        .into_iter()
        .map(|program| {
            let c = common::compile_file(&program);
            let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
            let prefix = format!("helm/{}/", model.project.name);
            let files = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Helm])
                .into_iter()
                .map(|a| {
                    (
                        a.path.strip_prefix(&prefix).unwrap_or_else(|| panic!("{} in the chart", a.path)).to_string(),
                        a.contents,
                    )
                })
                .collect();
            let envs = helm::environment_values(&Plan::new(&model, &graph, &Default::default()))
                .iter()
                .map(|v| (v.environment.clone(), serde_json::to_value(v).expect("values convert")))
                .collect();
            Chart { program, files, envs }
        })
        .collect()
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).expect("values file is YAML")
}

fn schema(chart: &Chart) -> jsonschema::Validator {
    let s: Value = serde_json::from_str(&chart.files["values.schema.json"]).expect("schema is JSON");
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::validator_for(&s).expect("schema compiles")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn values_files_layer_into_each_environment() {
    for chart in charts() {
        let base = yaml(&chart.files["values.yaml"]);
        assert_eq!(base, chart.envs[0].1, "{}: values.yaml is the first environment", chart.program);
        let files: Vec<&String> = chart.files.keys().filter(|k| k.starts_with("values-")).collect();
        assert_eq!(files.len(), chart.envs.len(), "{}: one values file per environment", chart.program);
        for (env, full) in &chart.envs {
            let patch = yaml(&chart.files[&format!("values-{env}.yaml")]);
            // What Helm does with `-f values-<env>.yaml`.
            let merged = helm::patch::apply(&base, &patch);
            assert_eq!(&merged, full, "{} {env}: defaults + values-{env}.yaml", chart.program);
            assert_eq!(merged["environment"], json!(env));
        }
    }
}

#[test]
fn every_environment_validates_against_the_schema() {
    for chart in charts() {
        let v = schema(&chart);
        for (env, full) in &chart.envs {
            assert_eq!(errors(&v, full), Vec::<String>::new(), "{} {env}", chart.program);
        }
    }
}

#[test]
fn the_schema_rejects_wrong_values() {
    let chart = charts().into_iter().find(|c| c.program.ends_with("shop.dpl")).expect("shop");
    let v = schema(&chart);
    let base = chart.envs[0].1.clone();
    let bad = [
        ("a string for a count", json!({"services": {"api": {"replicas": "two"}}})),
        ("a misspelt key", json!({"services": {"api": {"replicaz": 2}}})),
        (
            "a weight over 100%",
            json!({"strategy": {"rolling": null, "canary": {"steps": [{"setWeight": 150}], "backgroundAnalysis": false}}}),
        ),
        ("two strategies", json!({"strategy": {"canary": {"steps": [], "backgroundAnalysis": false}}})),
        ("an unknown probe", json!({"services": {"api": {"livenessProbe": {"httpGet": null, "ping": {}}}}})),
        ("a port out of range", json!({"services": {"api": {"port": 70000}}})),
        ("a namespace that is no DNS label", json!({"namespace": {"name": "Shop_Dev"}})),
        ("a cpu quantity with a unit typo", json!({"services": {"api": {"resources": {"limits": {"cpu": "1core"}}}}})),
        ("a missing image tag", json!({"services": {"api": {"image": {"tag": null}}}})),
        ("a short digest", json!({"services": {"api": {"image": {"digest": "sha256:abc"}}}})),
    ];
    for (what, patch) in bad {
        let merged = helm::patch::apply(&base, &patch);
        assert!(!errors(&v, &merged).is_empty(), "the schema accepts {what}");
    }
    // A sensible override passes.
    let ok = helm::patch::apply(&base, &json!({"services": {"api": {"replicas": 4, "image": {"tag": "v1.2.3"}}}}));
    assert_eq!(errors(&v, &ok), Vec::<String>::new());
}

#[test]
fn the_chart_ships_every_template_and_a_v2_chart_file() {
    let mut on_disk: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/emit/helm/templates"))
        .expect("templates folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut shipped: Vec<String> = helm::TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
    shipped.sort();
    assert_eq!(shipped, on_disk, "src/emit/helm/templates/ and helm::TEMPLATES differ");
    for chart in charts() {
        let meta = yaml(&chart.files["Chart.yaml"]);
        assert_eq!(meta["apiVersion"], "v2", "{}", chart.program);
        assert_eq!(meta["type"], "application");
        for (name, text) in helm::TEMPLATES {
            assert_eq!(&chart.files[&format!("templates/{name}")], text, "{} copies {name} verbatim", chart.program);
        }
    }
}

#[test]
fn values_name_the_workloads_the_kubernetes_target_writes() {
    for program in programs() {
        let c = common::compile_file(&program);
        let (model, graph) = c.output.expect("compiles");
        let k8s: Vec<String> = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s])
            .into_iter()
            .map(|a| a.path)
            .collect();
        for v in helm::environment_values(&Plan::new(&model, &graph, &Default::default())) {
            let v = serde_json::to_value(&v).expect("values");
            let env = v["environment"].as_str().expect("env");
            let mut workloads: Vec<String> = k8s
                .iter()
                .filter_map(|p| p.strip_prefix(&format!("k8s/{env}/")))
                .filter_map(|f| {
                    ["deployment-", "rollout-", "statefulset-"]
                        .iter()
                        .find_map(|k| f.strip_prefix(k))
                        .map(|n| n.trim_end_matches(".yaml").to_string())
                })
                .collect();
            workloads.sort();
            let mut named: Vec<String> = ["services", "datastores"]
                .iter()
                .flat_map(|k| v[k].as_object().expect("map").keys().cloned())
                .collect();
            named.sort();
            assert_eq!(named, workloads, "{program} {env}");
        }
    }
}
