//! Vertical Pod Autoscalers: one per service that asks, aimed at the
//! workload its environment's strategy makes, never above the limits.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::BTreeMap;

fn tree(text: &str) -> BTreeMap<String, Value> {
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s, Target::Argocd])
        .into_iter()
        .filter(|a| a.path.ends_with(".yaml"))
        .map(|a| (a.path.clone(), serde_yaml_ng::from_str(&a.contents).expect("YAML")))
        .collect()
}

const PROGRAM: &str = r#"project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
}
service api {
  language  = node
  port      = 8080
  health    = http { path = "/healthz" }
  cpu       = 250m..1
  memory    = 256Mi..512Mi
  replicas  = 2..6
  vpa       = recommend
}
service web {
  language = node
  port     = 8080
  health   = http { path = "/healthz" }
}
environment dev { promote = on_push("main") }
environment production {
  production = true
  promote    = manual(from = dev)
  strategy   = blue_green
}
"#;

#[test]
fn each_environment_gets_a_vpa_on_its_workload_kind() {
    let t = tree(PROGRAM);
    let dev = &t["k8s/dev/verticalpodautoscaler-api.yaml"];
    assert_eq!(dev["spec"]["targetRef"]["kind"], "Deployment");
    assert!(t.contains_key("k8s/dev/deployment-api.yaml"));
    assert_eq!(dev["spec"]["updatePolicy"]["updateMode"], "Off");
    let limits = &dev["spec"]["resourcePolicy"]["containerPolicies"][0];
    assert_eq!(limits["containerName"], "api");
    assert_eq!(limits["maxAllowed"]["cpu"], "1");
    assert_eq!(limits["maxAllowed"]["memory"], "512Mi");
    let prod = &t["k8s/production/verticalpodautoscaler-api.yaml"];
    assert_eq!(prod["spec"]["targetRef"]["kind"], "Rollout");
    assert_eq!(prod["spec"]["targetRef"]["apiVersion"], "argoproj.io/v1alpha1");
    assert!(t.contains_key("k8s/production/rollout-api.yaml"));
    // Only the service that asks gets one, and the add-on is installed.
    assert!(!t.keys().any(|k| k.ends_with("verticalpodautoscaler-web.yaml")));
    assert!(
        t.keys().any(|k| k.starts_with("argocd/addons/") && k.contains("vpa")),
        "{:?}",
        t.keys().collect::<Vec<_>>()
    );
    let kust = &t["k8s/dev/kustomization.yaml"]["resources"];
    assert!(kust.as_array().is_some_and(|r| r.iter().any(|f| f == "verticalpodautoscaler-api.yaml")));
}
