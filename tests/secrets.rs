//! Every Secret a pod reads has a producer: the plan's inventory lists it,
//! and when the producer is the external store the output ships the
//! ExternalSecret that creates it. Team-provided Secrets (Sealed Secrets,
//! plain Kubernetes) reach the cluster through `k8s/<env>/extra/`, which the
//! kustomization lists.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::secrets::{inventory, Producer};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const PROGRAMS: &[&str] = &[
    "examples/austa-cockpit.dpl",
    "examples/cicd-pipeline.dpl",
    "examples/healthcare-devops.dpl",
    "examples/healthcp.dpl",
    "examples/platform-microservices.dpl",
    "tests/programs/edge.dpl",
    "tests/programs/infra.dpl",
    "tests/programs/pods.dpl",
    "tests/programs/shop.dpl",
];

/// Secret names referenced by any object (secretKeyRef, secretRef, volumes).
fn referenced(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for key in ["secretKeyRef", "secretRef"] {
                if let Some(n) = m.get(key).and_then(|r| r["name"].as_str()) {
                    out.insert(n.to_string());
                }
            }
            if let Some(n) = m.get("secret").and_then(|r| r["secretName"].as_str()) {
                out.insert(n.to_string());
            }
            // Image pull secrets are Secrets too.
            for p in m.get("imagePullSecrets").and_then(|p| p.as_array()).into_iter().flatten() {
                if let Some(n) = p["name"].as_str() {
                    out.insert(n.to_string());
                }
            }
            m.values().for_each(|x| referenced(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| referenced(x, out)),
        _ => {}
    }
}

#[test]
fn every_referenced_secret_has_a_producer() {
    for program in PROGRAMS {
        let c = common::compile_file(program);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
        let opts = Default::default();
        let plan = Plan::new(&model, &graph, &opts);
        let files = emit::emit(&plan, &[Target::K8s]);
        for ep in &plan.envs {
            let prefix = format!("k8s/{}/", ep.env.name);
            let mut refs = BTreeSet::new();
            let mut external = BTreeSet::new();
            for a in files.iter().filter(|a| a.path.starts_with(&prefix)) {
                let doc: Value = serde_yaml_ng::from_str(&a.contents).expect("yaml");
                if doc["kind"] == "ExternalSecret" {
                    external.insert(doc["spec"]["target"]["name"].as_str().expect("target").to_string());
                } else {
                    referenced(&doc, &mut refs);
                }
            }
            let inv: BTreeMap<String, Producer> = inventory(ep).into_iter().map(|s| (s.name, s.producer)).collect();
            for name in &refs {
                let producer = inv.get(name).unwrap_or_else(|| {
                    panic!("{program} {}: Secret {name} is read but not in the inventory", ep.env.name)
                });
                if let Producer::ExternalSecret { .. } = producer {
                    assert!(external.contains(name), "{program} {}: no ExternalSecret creates {name}", ep.env.name);
                }
            }
        }
    }
}

#[test]
fn the_kustomization_lists_the_teams_extra_files_and_builds_keep_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    let bin = env!("CARGO_BIN_EXE_deployc");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().expect("runs");
    let o = out.to_str().expect("utf-8");
    assert!(run(&["build", "tests/programs/shop.dpl", "-o", o]).status.success());
    let extra = out.join("k8s/dev/extra");
    std::fs::create_dir_all(&extra).expect("mkdir");
    let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: jwt\n";
    std::fs::write(extra.join("sealedsecret-jwt.yaml"), sealed).expect("write");
    // The committed output is now stale: the kustomization must list the file.
    assert!(!run(&["build", "--check", "tests/programs/shop.dpl", "-o", o]).status.success());
    assert!(run(&["build", "tests/programs/shop.dpl", "-o", o]).status.success());
    let k = std::fs::read_to_string(out.join("k8s/dev/kustomization.yaml")).expect("kustomization");
    assert!(k.contains("- extra/sealedsecret-jwt.yaml"), "{k}");
    assert_eq!(std::fs::read_to_string(extra.join("sealedsecret-jwt.yaml")).expect("kept"), sealed);
    let other = std::fs::read_to_string(out.join("k8s/prod/kustomization.yaml")).expect("prod");
    assert!(!other.contains("extra/"), "only the environment that has the file lists it");
    assert!(run(&["build", "--check", "tests/programs/shop.dpl", "-o", o]).status.success());
}

#[test]
fn the_secrets_command_lists_producers() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(["secrets", "examples/austa-cockpit.dpl", "--format", "json"])
        .output()
        .expect("runs");
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let staging = v.as_array().expect("envs").iter().find(|e| e["environment"] == "staging").expect("staging");
    let jwt = staging["secrets"].as_array().expect("list").iter().find(|s| s["name"] == "jwt-secret").expect("jwt");
    assert_eq!(jwt["producer"]["kind"], "sealed_by_team");
    assert_eq!(jwt["origin"]["kind"], "program");
    assert!(jwt["readers"].as_array().expect("readers").iter().any(|r| r == "backend-migrate"));
}
