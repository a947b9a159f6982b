//! Progressive delivery that really works, asserted on the Kubernetes output
//! of every example and test program: canary weights move user traffic
//! through the Ingress, blue-green previews have a route, analyses measure
//! the new version and never succeed without data, ALB Ingresses are served.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::BTreeMap;

/// One environment's documents: (kind, name) → document.
type Docs = BTreeMap<(String, String), Value>;

/// Every program's Kubernetes documents, per environment folder.
fn trees() -> Vec<(String, Docs)> {
    let mut files: Vec<String> = Vec::new();
    for dir in ["examples", "tests/programs"] {
        for e in std::fs::read_dir(dir).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "dpl") {
                files.push(common::rel(&p));
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let c = common::compile_file(&f);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{f} compiles"));
        let mut envs: BTreeMap<String, Docs> = BTreeMap::new();
        for a in emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s]) {
            let Some(rest) = a.path.strip_prefix("k8s/") else { continue };
            let Some((env, _)) = rest.split_once('/') else { continue };
            let v: Value = serde_yaml_ng::from_str(&a.contents).expect("yaml");
            let (Some(kind), Some(name)) = (v["kind"].as_str(), v["metadata"]["name"].as_str()) else { continue };
            let key = (kind.to_string(), name.to_string());
            envs.entry(format!("{f}:{env}")).or_default().insert(key, v);
        }
        out.extend(envs);
    }
    assert!(out.len() > 10, "programs found");
    out
}

fn of_kind<'a>(docs: &'a Docs, kind: &str) -> impl Iterator<Item = &'a Value> {
    let kind = kind.to_string();
    docs.iter().filter(move |((k, _), _)| *k == kind).map(|(_, v)| v)
}

/// The (Service, port) backends of an Ingress.
fn backends(ing: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for rule in ing["spec"]["rules"].as_array().into_iter().flatten() {
        for p in rule["http"]["paths"].as_array().into_iter().flatten() {
            let s = &p["backend"]["service"];
            out.push((s["name"].as_str().unwrap_or_default().to_string(), s["port"].clone()));
        }
    }
    out
}

#[test]
fn every_canary_behind_an_ingress_routes_user_traffic_through_it() {
    let mut checked = 0;
    for (at, docs) in trees() {
        for r in of_kind(&docs, "Rollout") {
            let c = &r["spec"]["strategy"]["canary"];
            if c.is_null() {
                continue;
            }
            let stable = c["stableService"].as_str().expect("stableService");
            let routed: Vec<&Value> =
                of_kind(&docs, "Ingress").filter(|i| backends(i).iter().any(|(s, _)| s == stable)).collect();
            if routed.is_empty() {
                continue;
            }
            let tr = &c["trafficRouting"];
            let ing = tr["nginx"]["stableIngress"].as_str().or(tr["alb"]["ingress"].as_str());
            let ing = ing.unwrap_or_else(|| panic!("{at}: canary {stable} behind an Ingress has no trafficRouting"));
            assert!(routed.iter().any(|i| i["metadata"]["name"] == ing), "{at}: {stable} routes through {ing}");
            if !tr["alb"].is_null() {
                // Argo Rollouts splits the weights in the forward action it writes.
                let i = routed.iter().find(|i| i["metadata"]["name"] == ing).expect("ingress");
                assert_eq!(backends(i)[0].1["name"], "use-annotation", "{at}: {ing}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "canaries checked: {checked}");
}

#[test]
fn every_manually_promoted_or_exposed_preview_has_a_route() {
    let mut checked = 0;
    for (at, docs) in trees() {
        for r in of_kind(&docs, "Rollout") {
            let bg = &r["spec"]["strategy"]["blueGreen"];
            if bg.is_null() {
                continue;
            }
            let active = bg["activeService"].as_str().expect("active");
            let preview = bg["previewService"].as_str().expect("preview");
            let exposed = of_kind(&docs, "Ingress").any(|i| backends(i).iter().any(|(s, _)| s == active));
            if !exposed && bg["autoPromotionEnabled"] == true {
                continue;
            }
            let route = of_kind(&docs, "Ingress").find(|i| backends(i).iter().any(|(s, _)| s == preview));
            let route = route.unwrap_or_else(|| panic!("{at}: no route to the preview Service {preview}"));
            let host = route["spec"]["rules"][0]["host"].as_str().expect("host");
            assert!(host.starts_with("preview-"), "{at}: preview host {host}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "previews checked: {checked}");
}

/// The value a Rollout passes for an analysis argument.
fn arg<'a>(a: &'a Value, name: &str) -> &'a Value {
    let args = a["args"].as_array().expect("args");
    let found = args.iter().find(|x| x["name"] == name).unwrap_or_else(|| panic!("arg {name}"));
    if found["value"].is_null() {
        &found["valueFrom"]
    } else {
        &found["value"]
    }
}

#[test]
fn analyses_measure_the_new_version() {
    let mut checked = 0;
    for (at, docs) in trees() {
        for r in of_kind(&docs, "Rollout") {
            let s = &r["spec"]["strategy"];
            let mut runs: Vec<(&Value, Value)> = Vec::new();
            let canary = &s["canary"]["canaryService"];
            if !s["canary"]["analysis"].is_null() {
                runs.push((&s["canary"]["analysis"], canary.clone()));
            }
            for step in s["canary"]["steps"].as_array().into_iter().flatten() {
                if !step["analysis"].is_null() {
                    runs.push((&step["analysis"], canary.clone()));
                }
            }
            if !s["blueGreen"]["prePromotionAnalysis"].is_null() {
                runs.push((&s["blueGreen"]["prePromotionAnalysis"], s["blueGreen"]["previewService"].clone()));
            }
            if !s["blueGreen"]["postPromotionAnalysis"].is_null() {
                // After the switch the active Service selects the new pods.
                runs.push((&s["blueGreen"]["postPromotionAnalysis"], s["blueGreen"]["activeService"].clone()));
                let delay = s["blueGreen"]["scaleDownDelaySeconds"].as_i64().expect("delay");
                assert!(delay >= 60, "{at}: the old version is kept while the analysis after the switch runs");
            }
            for (a, measured) in runs {
                assert_eq!(arg(a, "service-name"), &measured, "{at}");
                assert_eq!(arg(a, "pod-hash")["podTemplateHashValue"], "Latest", "{at}");
                checked += 1;
            }
        }
        for t in of_kind(&docs, "AnalysisTemplate") {
            for m in t["spec"]["metrics"].as_array().expect("metrics") {
                let p = &m["provider"];
                let q = [&p["prometheus"]["query"], &p["newRelic"]["query"], &p["datadog"]["query"]]
                    .into_iter()
                    .find_map(|q| q.as_str())
                    .expect("query");
                assert!(
                    q.contains("service=\"{{args.service-name}}\"") || q.contains("{{args.pod-hash}}"),
                    "{at}: query scoped to the measured Service or pods: {q}"
                );
            }
        }
    }
    assert!(checked >= 8, "analysis runs checked: {checked}");
}

/// Evaluates the data guard of a condition on a measurement without data,
/// as Argo Rollouts' expression language would: `result` is an empty list
/// (Prometheus), nil (Datadog) or a map without fields (New Relic).
fn guard_on_empty(guard: &str) -> bool {
    match guard {
        "len(result) > 0" => false,     // len([]) == 0
        "result != nil" => false,       // nil != nil
        "result.requests > 0" => false, // nil field: the comparison is false
        other => panic!("unknown data guard `{other}`"),
    }
}

#[test]
fn an_analysis_without_data_never_succeeds() {
    let mut checked = 0;
    for (at, docs) in trees() {
        for t in of_kind(&docs, "AnalysisTemplate") {
            for m in t["spec"]["metrics"].as_array().expect("metrics") {
                let name = m["name"].as_str().expect("name");
                let success = m["successCondition"].as_str().unwrap_or_else(|| panic!("{at}: {name} success"));
                let failure = m["failureCondition"].as_str().unwrap_or_else(|| panic!("{at}: {name} failure"));
                // `guard && x`: false whenever the guard is, whatever x is.
                for c in [success, failure] {
                    let (guard, _) = c.split_once(" && ").unwrap_or_else(|| panic!("{at}: {name}: `{c}` unguarded"));
                    assert!(!c.contains("||"), "{at}: {name}: `{c}`");
                    assert!(!guard_on_empty(guard), "{at}: {name}: `{c}` holds without data");
                }
                // Neither condition holds: the measurement is Inconclusive, and
                // inconclusiveLimit bounds how many before the rollout pauses.
                assert!(m["inconclusiveLimit"].as_i64().is_some(), "{at}: {name}");
                let (count, limit) = (m["count"].as_i64().expect("count"), m["failureLimit"].as_i64().expect("limit"));
                assert!(limit < count, "{at}: {name} can fail");
                if let Some(q) = m["provider"]["prometheus"]["query"].as_str() {
                    // Zero traffic: every division is by a rate filtered `> 0`
                    // (no sample, so no data), never 0/0 = NaN.
                    for denominator in q.split(" / ").skip(1) {
                        assert!(
                            denominator.starts_with("(sum(rate(") && denominator.ends_with("[5m])) > 0)"),
                            "{at}: {q}"
                        );
                    }
                    if q.starts_with("histogram_quantile") {
                        assert!(q.ends_with(">= 0"), "{at}: the NaN quantile without requests is dropped: {q}");
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 8, "metrics checked: {checked}");
}

#[test]
fn alb_ingresses_are_served_and_admitted() {
    let mut checked = 0;
    for (at, docs) in trees() {
        let mut groups = Vec::new();
        for i in of_kind(&docs, "Ingress").filter(|i| i["spec"]["ingressClassName"] == "alb") {
            let a = &i["metadata"]["annotations"];
            assert_eq!(a["alb.ingress.kubernetes.io/scheme"], "internet-facing", "{at}");
            assert_eq!(a["alb.ingress.kubernetes.io/target-type"], "ip", "{at}");
            // Set from the service's probe (healthcare-devops' frontend probes `/` itself).
            assert!(
                a["alb.ingress.kubernetes.io/healthcheck-path"].as_str().is_some_and(|p| p.starts_with('/')),
                "{at}"
            );
            assert!(i["spec"]["tls"].is_null(), "{at}: the ALB never reads TLS Secrets");
            groups.push(a["alb.ingress.kubernetes.io/group.name"].clone());
            // The pods behind it admit the VPC, where ALB ip targets are reached from.
            let svc = &backends(i)[0].0;
            let np = &docs[&("NetworkPolicy".to_string(), svc.clone())];
            let blocks: Vec<&Value> = np["spec"]["ingress"]
                .as_array()
                .expect("ingress rules")
                .iter()
                .flat_map(|r| r["from"].as_array().into_iter().flatten())
                .filter_map(|p| p["ipBlock"]["cidr"].as_str().map(|_| p))
                .collect();
            assert!(!blocks.is_empty(), "{at}: {svc} admits the ALB");
            checked += 1;
        }
        groups.dedup();
        assert!(groups.len() <= 1, "{at}: one ALB group per environment: {groups:?}");
    }
    assert!(checked >= 6, "ALB Ingresses checked: {checked}");
}
