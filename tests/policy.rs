//! Policy as code (`policy = kyverno`): the Kyverno Policy of each
//! environment is evaluated against every pod the same environment's output
//! generates, with a small evaluator of the pattern subset the policy uses
//! (plain and `=(key)` conditional keys, one-element arrays applied to every
//! element, `*`/`?` wildcards, `!` negation, `|` alternatives). Every
//! example and test program is compiled with the policy switched on: the
//! policy must not refuse deployc's own pods, and must refuse broken ones.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn glob(pat: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    go(&p, &s)
}

fn string_matches(pat: &str, v: &str) -> bool {
    pat.split(" | ").any(|alt| match alt.trim().strip_prefix('!') {
        Some(neg) => !glob(neg, v),
        None => glob(alt.trim(), v),
    })
}

/// Whether `v` satisfies the Kyverno pattern `p`.
fn matches(p: &Value, v: Option<&Value>) -> bool {
    match p {
        Value::Object(map) => {
            let Some(Value::Object(obj)) = v else { return false };
            map.iter().all(|(k, sub)| match k.strip_prefix("=(").and_then(|k| k.strip_suffix(')')) {
                Some(cond) => obj.get(cond).is_none_or(|x| matches(sub, Some(x))),
                None => matches(sub, obj.get(k)),
            })
        }
        Value::Array(items) => {
            let Some(Value::Array(vs)) = v else { return false };
            vs.iter().all(|x| matches(&items[0], Some(x)))
        }
        Value::String(s) => match v {
            Some(Value::String(x)) => string_matches(s, x),
            Some(Value::Number(n)) => string_matches(s, &n.to_string()),
            _ => false,
        },
        other => v == Some(other),
    }
}

/// The pods a workload object makes: `{metadata, spec}` of its pod template.
fn pod_of(doc: &Value) -> Option<Value> {
    let t = match doc["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "Job" | "Rollout" | "DaemonSet" => &doc["spec"]["template"],
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"],
        "Pod" => doc,
        _ => return None,
    };
    Some(json!({ "metadata": t["metadata"], "spec": t["spec"] }))
}

fn with_policy(text: &str) -> String {
    let start = text.find("\nproject ").map(|i| i + 1).unwrap_or_else(|| text.find("project ").expect("a project"));
    let brace = start + text[start..].find('{').expect("project block");
    format!("{}{{\n  policy = kyverno\n{}", &text[..brace], &text[brace + 1..])
}

/// One environment's Kyverno Policy (if any) and its pods by file.
type EnvPods = (Option<Value>, Vec<(String, Value)>);

/// A way to break a pod, named by the rule that must refuse it.
type Breaker = (&'static str, Box<dyn Fn(&mut Value)>);

/// Per environment folder: the policy and the pods.
fn outputs(rel: &str, text: &str) -> BTreeMap<String, EnvPods> {
    let c = deployc::compile(rel, text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("{rel} compiles: {errs:?}"));
    let mut out: BTreeMap<String, EnvPods> = BTreeMap::new();
    for a in emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s]) {
        let Some(env) = a.environment.clone() else { continue };
        if !a.path.ends_with(".yaml") || a.path.ends_with("kustomization.yaml") {
            continue;
        }
        let doc: Value = serde_yaml_ng::from_str(&a.contents).expect("YAML");
        let e = out.entry(env).or_default();
        if doc["kind"] == "Policy" && doc["apiVersion"] == "kyverno.io/v1" {
            e.0 = Some(doc);
        } else if let Some(p) = pod_of(&doc) {
            e.1.push((a.path.clone(), p));
        }
    }
    out
}

/// The rules a pod breaks.
fn broken(policy: &Value, pod: &Value) -> Vec<String> {
    // A `match`/`exclude` entry applies to a pod whose labels meet its
    // selector (Exists and In, the operators deployc writes).
    let selects = |entries: &Value| {
        entries["any"].as_array().into_iter().flatten().any(|e| {
            let exprs = e["resources"]["selector"]["matchExpressions"].as_array();
            exprs.is_some_and(|xs| {
                xs.iter().all(|x| {
                    let v = &pod["metadata"]["labels"][x["key"].as_str().unwrap_or_default()];
                    match x["operator"].as_str() {
                        Some("Exists") => !v.is_null(),
                        Some("In") => x["values"].as_array().is_some_and(|vs| vs.contains(v)),
                        op => panic!("operator {op:?}"),
                    }
                })
            }) || (exprs.is_none() && e["resources"]["kinds"].is_array())
        })
    };
    policy["spec"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| selects(&r["match"]) && !selects(&r["exclude"]))
        .filter(|r| !matches(&r["validate"]["pattern"], Some(pod)))
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_policy_admits_every_pod_deployc_generates() {
    let mut pods = 0;
    for (rel, text) in common::programs() {
        let declared = text.lines().any(|l| l.trim_start().starts_with("policy ") && l.contains("kyverno"));
        let text = if declared { text } else { with_policy(&text) };
        for (env, (policy, envpods)) in outputs(&rel, &text) {
            let policy = policy.unwrap_or_else(|| panic!("{rel} {env}: no Kyverno Policy"));
            // A seventh rule holds the pods of services without a cpu limit
            // to a memory limit and a cpu request.
            let unlimited = text.lines().any(|l| l.contains("cpu") && l.trim_end().ends_with(".."));
            let rules = if unlimited { 7 } else { 6 };
            assert_eq!(policy["spec"]["rules"].as_array().map(Vec::len), Some(rules), "{rel} {env}");
            for (path, pod) in envpods {
                let b = broken(&policy, &pod);
                assert!(b.is_empty(), "{rel}: {path} breaks {b:?}");
                pods += 1;
            }
        }
    }
    assert!(pods > 50, "only {pods} pods evaluated");
}

#[test]
fn the_policy_refuses_pods_that_break_a_promise() {
    let (_, text) =
        common::programs().into_iter().find(|(r, _)| r.ends_with("healthcare-devops.dpl")).expect("example");
    let out = outputs("examples/healthcare-devops.dpl", &with_policy(&text));
    let (policy, pods) = out.get("staging").expect("staging");
    let policy = policy.as_ref().expect("policy");
    let good = pods.iter().find(|(p, _)| p.contains("deployment-api")).expect("api pod").1.clone();
    let cases: Vec<Breaker> = vec![
        ("run-as-non-root", Box::new(|p| p["spec"]["securityContext"]["runAsNonRoot"] = json!(false))),
        (
            "read-only-root-filesystem",
            Box::new(|p| p["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = json!(false)),
        ),
        (
            "no-latest-tag",
            Box::new(|p| {
                p["spec"]["containers"][0]["image"] = json!("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:latest")
            }),
        ),
        (
            "require-image-tag",
            Box::new(|p| {
                p["spec"]["containers"][0]["image"] = json!("123456789012.dkr.ecr.us-east-1.amazonaws.com/api")
            }),
        ),
        ("resource-limits", Box::new(|p| p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "1"}}))),
        ("allowed-registries", Box::new(|p| p["spec"]["containers"][0]["image"] = json!("docker.io/evil/api:v1"))),
    ];
    assert!(broken(policy, &good).is_empty());
    for (rule, break_it) in cases {
        let mut pod = good.clone();
        break_it(&mut pod);
        assert!(broken(policy, &pod).contains(&rule.to_string()), "{rule} does not refuse {pod}");
    }
}

#[test]
fn the_policy_allows_only_the_registry_the_engines_and_the_programs_prefixes() {
    let (_, text) =
        common::programs().into_iter().find(|(r, _)| r.ends_with("healthcare-devops.dpl")).expect("example");
    let text = with_policy(&text)
        .replace("policy = kyverno", "policy = kyverno { registries = [\"public.ecr.aws/acme/\"] action = audit }");
    let out = outputs("examples/healthcare-devops.dpl", &text);
    let policy = out["staging"].0.as_ref().expect("policy");
    let rule = policy["spec"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["name"] == "allowed-registries")
        .expect("rule");
    assert_eq!(
        rule["validate"]["pattern"]["spec"]["containers"][0]["image"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/* | docker.io/library/mongo:* | public.ecr.aws/acme/* | public.ecr.aws/aws-cli/aws-cli:*"
    );
    assert_eq!(rule["validate"]["failureAction"], "Audit");
}

#[test]
fn a_service_without_a_cpu_limit_is_still_held_to_its_memory_limit_and_cpu_request() {
    let text = std::fs::read_to_string("tests/programs/worker.dpl").expect("program");
    let out = outputs("tests/programs/worker.dpl", &with_policy(&text));
    let (policy, pods) = out.get("prod").expect("prod");
    let policy = policy.as_ref().expect("policy");
    let worker = pods.iter().find(|(p, _)| p.contains("deployment-worker")).expect("worker pod").1.clone();
    let api = pods.iter().find(|(p, _)| p.contains("rollout-api")).expect("api pod").1.clone();
    assert!(broken(policy, &worker).is_empty(), "the worker's pod without a cpu limit is admitted");
    // Taking the api's cpu limit away is still refused: only the worker and
    // the cron job opted out.
    let mut api_unlimited = api.clone();
    api_unlimited["spec"]["containers"][0]["resources"]["limits"].as_object_mut().unwrap().remove("cpu");
    assert_eq!(broken(policy, &api_unlimited), vec!["resource-limits".to_string()]);
    let mut no_memory = worker.clone();
    no_memory["spec"]["containers"][0]["resources"]["limits"].as_object_mut().unwrap().remove("memory");
    assert_eq!(broken(policy, &no_memory), vec!["memory-limit-cpu-request".to_string()]);
    let mut no_request = worker;
    no_request["spec"]["containers"][0]["resources"]["requests"].as_object_mut().unwrap().remove("cpu");
    assert_eq!(broken(policy, &no_request), vec!["memory-limit-cpu-request".to_string()]);
}

/// Collects every `checkov.io/skip*` annotation value under `v`.
fn skip_values(v: &serde_yaml_ng::Value, out: &mut Vec<String>) {
    match v {
        serde_yaml_ng::Value::Mapping(m) => {
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    (Some(k), Some(s)) if k.starts_with("checkov.io/skip") => out.push(s.to_string()),
                    _ => skip_values(v, out),
                }
            }
        }
        serde_yaml_ng::Value::Sequence(s) => s.iter().for_each(|v| skip_values(v, out)),
        _ => {}
    }
}

/// Checkov reads `checkov.io/skipN: ID=reason` by splitting on every `=`:
/// a reason with an `=` in it crashes its Kubernetes runner (the whole scan,
/// not one check), so every skip deployc writes, in the manifests and in
/// the chart's values, is one check id, one `=` and a reason.
#[test]
fn every_checkov_skip_is_one_id_and_one_reason() {
    let mut seen = 0;
    for (rel, _) in common::programs() {
        let c = common::compile_file(&rel);
        let (model, graph) = c.output.as_ref().unwrap_or_else(|| panic!("{rel} compiles"));
        for a in emit::emit(&Plan::new(model, graph, &Default::default()), &[Target::K8s, Target::Helm]) {
            if !a.path.ends_with(".yaml") {
                continue;
            }
            let mut values = Vec::new();
            for doc in serde_yaml_ng::Deserializer::from_str(&a.contents) {
                // A chart template is not YAML until rendered; its
                // values file and the manifests are.
                let Ok(v) = serde_yaml_ng::Value::deserialize(doc) else { break };
                skip_values(&v, &mut values);
            }
            for s in values {
                seen += 1;
                let parts: Vec<&str> = s.split('=').collect();
                assert!(
                    parts.len() == 2 && parts[0].starts_with("CKV") && !parts[1].trim().is_empty(),
                    "{rel}: {}: checkov skip {s:?} is not ID=reason",
                    a.path
                );
            }
        }
    }
    assert!(seen > 100, "only {seen} skips seen");
}
