//! The service mesh (`mesh = istio | linkerd`): the mesh authorizes exactly
//! the callers the network policy admits, every pod may reach the control
//! plane, the namespace opts in, and the ingress controller forwards through
//! the Service. Every example and test program is compiled with each mesh
//! switched on.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// `name` places the program, so the files it names (austa-cockpit's sealed
/// Secrets) are found beside it.
fn tree(name: &str, text: &str) -> Result<BTreeMap<String, Value>, Vec<String>> {
    let c = deployc::compile(name, text, &common::Disk);
    let errs: Vec<String> = c.diagnostics.items.iter().map(|d| format!("{}: {}", d.code.as_str(), d.message)).collect();
    let Some((model, graph)) = c.output else { return Err(errs) };
    Ok(emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s, Target::Argocd])
        .into_iter()
        .filter(|a| a.path.ends_with(".yaml"))
        .map(|a| (a.path.clone(), serde_yaml_ng::from_str(&a.contents).expect("YAML")))
        .collect())
}

/// The program with `mesh = KIND` added to its project.
fn with_mesh(text: &str, kind: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        // The program's own mesh gives way to the one under test.
        if line.trim_start().starts_with("mesh ") && line.contains('=') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if !done && line.starts_with("project ") && line.contains('{') {
            out.push_str(&format!("  mesh = {kind}\n"));
            done = true;
        }
    }
    out
}

/// Per environment folder: the callers (pod names) each service's network
/// policy admits, and each workload's service account.
fn admitted(t: &BTreeMap<String, Value>, env: &str) -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, String>) {
    let mut callers = BTreeMap::new();
    let mut sa = BTreeMap::new();
    for (path, doc) in t {
        let Some(file) = path.strip_prefix(&format!("k8s/{env}/")) else { continue };
        if file.starts_with("rollout-") || file.starts_with("deployment-") {
            let name = doc["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let account = doc["spec"]["template"]["spec"]["serviceAccountName"].as_str().unwrap_or_default();
            sa.insert(name, account.to_string());
        }
        if file.starts_with("networkpolicy-") {
            let name = doc["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let from: BTreeSet<String> = doc["spec"]["ingress"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["from"].as_array().cloned().unwrap_or_default())
                .filter(|p| p.get("namespaceSelector").is_none())
                .filter_map(|p| p["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().map(String::from))
                .collect();
            callers.insert(name, from);
        }
    }
    (callers, sa)
}

fn envs(t: &BTreeMap<String, Value>) -> BTreeSet<String> {
    t.keys()
        .filter_map(|p| p.strip_prefix("k8s/")?.split_once('/').map(|(e, _)| e.to_string()))
        .filter(|e| !e.starts_with('_'))
        .collect()
}

#[test]
fn the_mesh_authorizes_exactly_the_callers_the_network_policy_admits() {
    let mut checked = 0;
    for (path, text) in common::programs() {
        for kind in ["istio", "linkerd"] {
            let t = match tree(&path, &with_mesh(&text, kind)) {
                Ok(t) => t,
                Err(errs) => panic!("{path} {kind}: {errs:?}"),
            };
            for env in envs(&t) {
                let get = |f: &str| t.get(&format!("k8s/{env}/{f}"));
                let ns = t
                    .iter()
                    .find(|(p, _)| p.starts_with(&format!("k8s/{env}/namespace-")))
                    .map(|(_, d)| d.clone())
                    .unwrap_or_else(|| panic!("{path}: namespace of {env}"));
                let mesh_np =
                    get("networkpolicy-allow-mesh.yaml").unwrap_or_else(|| panic!("{path} {env}: allow-mesh"));
                assert_eq!(mesh_np["spec"]["podSelector"], serde_json::json!({}), "{path}");
                let (callers, sa) = admitted(&t, &env);
                let namespace = ns["metadata"]["name"].as_str().unwrap_or_default();
                for (service, account) in &sa {
                    let Some(from) = callers.get(service) else { continue };
                    let want: BTreeSet<String> = from.iter().filter_map(|c| sa.get(c)).cloned().collect();
                    let got: BTreeSet<String> = if kind == "istio" {
                        assert_eq!(ns["metadata"]["labels"]["istio-injection"], "enabled", "{path}");
                        let Some(ap) = get(&format!("authorizationpolicy-{service}.yaml")) else { continue };
                        ap["spec"]["rules"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|r| r["from"].as_array().cloned().unwrap_or_default())
                            .flat_map(|f| f["source"]["principals"].as_array().cloned().unwrap_or_default())
                            .filter_map(|p| {
                                p.as_str()?.strip_prefix(&format!("cluster.local/ns/{namespace}/sa/")).map(String::from)
                            })
                            .collect()
                    } else {
                        assert_eq!(ns["metadata"]["annotations"]["linkerd.io/inject"], "enabled", "{path}");
                        let Some(m) = get(&format!("meshtlsauthentication-{service}-clients.yaml")) else {
                            assert!(want.is_empty(), "{path} {env} {service}: no MeshTLSAuthentication for {want:?}");
                            continue;
                        };
                        m["spec"]["identities"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|i| {
                                i.as_str()?
                                    .strip_suffix(&format!(
                                        ".{namespace}.serviceaccount.identity.linkerd.cluster.local"
                                    ))
                                    .map(String::from)
                            })
                            .collect()
                    };
                    assert_eq!(got, want, "{path} {kind} {env} {service} ({account})");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} services checked");
}

#[test]
fn linkerd_program_routes_through_the_mesh() {
    let t = tree("tests/programs/mesh.dpl", &std::fs::read_to_string("tests/programs/mesh.dpl").expect("program"))
        .expect("compiles");
    let web = &t["k8s/prod/ingress-web.yaml"];
    assert_eq!(web["metadata"]["annotations"]["nginx.ingress.kubernetes.io/service-upstream"], "true");
    // The ALB's ip targets are outside the mesh: a NetworkAuthentication for the VPC.
    let out = &t["k8s/prod/networkauthentication-partners-outside.yaml"];
    assert_eq!(out["spec"]["networks"][0]["cidr"], "10.0.0.0/8");
    let authz = &t["k8s/prod/authorizationpolicy-partners-http-outside.yaml"];
    assert_eq!(authz["spec"]["targetRef"]["name"], "partners-http");
    // Prometheus (meshed) reaches the metrics port.
    let m = &t["k8s/prod/meshtlsauthentication-ledger-clients.yaml"];
    let ids = m["spec"]["identities"].to_string();
    assert!(ids.contains("*.monitoring.serviceaccount.identity.linkerd.cluster.local"), "{ids}");
    assert!(t.contains_key("k8s/prod/server-ledger-metrics.yaml"));
    // The control plane's ports, and the add-ons with the CNI plugin.
    let np = &t["k8s/prod/networkpolicy-allow-mesh.yaml"];
    assert_eq!(np["spec"]["egress"][0]["ports"].as_array().map(Vec::len), Some(3));
    let cp = t.iter().find(|(p, _)| p.ends_with("-linkerd-control-plane.yaml")).expect("control plane add-on").1;
    assert!(cp["spec"]["source"]["helm"]["values"].as_str().unwrap_or_default().contains("cniEnabled: true"));
    let app = t.iter().find(|(p, _)| p.starts_with("argocd/application-mesh-prod")).expect("application").1;
    assert_eq!(app["spec"]["syncPolicy"]["managedNamespaceMetadata"]["annotations"]["linkerd.io/inject"], "enabled");
}

#[test]
fn istio_leaves_plain_text_ports_permissive_and_strict_elsewhere() {
    let t =
        tree("examples/austa-cockpit.dpl", &std::fs::read_to_string("examples/austa-cockpit.dpl").expect("example"))
            .expect("compiles");
    let d = &t["k8s/production/peerauthentication-default.yaml"];
    assert_eq!(d["spec"]["mtls"]["mode"], "STRICT");
    // Prometheus scrapes the main port without a sidecar: that port alone is PERMISSIVE,
    // and the plain-text rule allows only GET of the metrics path.
    let b = &t["k8s/production/peerauthentication-backend.yaml"];
    assert_eq!(b["spec"]["portLevelMtls"]["3000"]["mode"], "PERMISSIVE");
    let ap = &t["k8s/production/authorizationpolicy-backend.yaml"];
    let plain =
        ap["spec"]["rules"].as_array().expect("rules").iter().find(|r| r.get("from").is_none()).expect("plain rule");
    assert_eq!(plain["to"][0]["operation"]["paths"][0], "/metrics");
    assert_eq!(plain["to"][0]["operation"]["methods"][0], "GET");
    let web = &t["k8s/production/ingress-frontend.yaml"];
    assert_eq!(
        web["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-vhost"],
        "frontend.austa-cockpit-production.svc.cluster.local"
    );
    let preview = &t["k8s/production/ingress-frontend-preview.yaml"];
    assert_eq!(
        preview["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-vhost"],
        "frontend-preview.austa-cockpit-production.svc.cluster.local"
    );
}

#[test]
fn istio_canaries_route_through_a_virtual_service() {
    let text = with_mesh(&std::fs::read_to_string("tests/programs/shop.dpl").expect("program"), "istio");
    let t = tree("p.dpl", &text).expect("compiles");
    // staging runs the canary: web behind nginx, api internal.
    for s in ["web", "api"] {
        let r = &t[&format!("k8s/staging/rollout-{s}.yaml")]["spec"]["strategy"]["canary"];
        assert_eq!(r["trafficRouting"]["istio"]["virtualService"]["name"], s, "{s}");
        assert!(r["trafficRouting"].get("nginx").is_none(), "{s}: nginx routing under Istio");
        let vs = &t[&format!("k8s/staging/virtualservice-{s}.yaml")]["spec"];
        assert_eq!(vs["hosts"][0], s);
        let route = &vs["http"][0];
        assert_eq!(route["name"], "primary");
        assert_eq!(route["route"][0]["destination"]["host"], s);
        assert_eq!(route["route"][0]["weight"], 100);
        assert_eq!(route["route"][1]["destination"]["host"], r["canaryService"]);
        assert_eq!(route["route"][1]["weight"], 0);
    }
    let ns =
        t.keys().find_map(|p| p.strip_prefix("k8s/staging/namespace-")).expect("namespace").trim_end_matches(".yaml");
    let web = &t["k8s/staging/ingress-web.yaml"]["metadata"]["annotations"];
    assert_eq!(web["nginx.ingress.kubernetes.io/upstream-vhost"], format!("web.{ns}.svc.cluster.local"));
    // Blue-green and rolling environments have no VirtualService.
    assert!(!t.keys().any(|p| p.starts_with("k8s/prod/virtualservice-") || p.starts_with("k8s/dev/virtualservice-")));
}
