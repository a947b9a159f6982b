//! Ingresses reach a controller that serves them, on every cloud, and every
//! certificate an Ingress asks cert-manager for can be issued, read as the
//! cluster, ArgoCD and cert-manager would:
//! - an `alb` Ingress of an environment on GKE or AKS is served by
//!   ingress-nginx (no AWS Load Balancer Controller runs there), which is
//!   installed on that cluster and binds the address Terraform reserved for
//!   it, by the name the cluster root gives it;
//! - each ClusterIssuer an Ingress names exists on its environment's
//!   cluster, synced by an Application after cert-manager;
//! - the namespace's network policies let ingress-nginx reach
//!   cert-manager's HTTP-01 solver pods, which no other policy admits;
//! - an add-on an environment's routes need is installed (a preview route
//!   needs ingress-nginx even when no service is exposed through it).

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

const TARGETS: &[Target] = &[Target::K8s, Target::Argocd, Target::Terraform, Target::Helm];

fn program(dr_cloud: &str) -> String {
    format!(
        r#"project shop {{
  repository = "github.com/acme/shop"
  registry   = ecr {{ region = "us-east-1" account = "123456789012" }}
  cloud      = aws {{ region = "us-east-1" }}
  domain     = "shop.example.com"
}}
service web {{
  language = node
  port     = 8080
  health   = http {{ path = "/healthz" }}
  expose   = ingress {{ host = "${{env.domain}}" class = "alb" }}
}}
service api {{
  language = node
  port     = 8080
  health   = http {{ path = "/healthz" }}
  expose   = ingress {{ host = "api.${{env.domain}}" }}
}}
environment prod {{ promote = on_push("main") production = true }}
environment dr {{
  promote = manual(from = prod)
  cluster = "dr"
  cloud   = {dr_cloud}
}}
"#
    )
}

const GKE: &str = r#"gcp { project = "acme-dr" region = "us-central1" }"#;
const AKS: &str = r#"azure { location = "westeurope" }"#;

fn tree(text: &str) -> BTreeMap<String, Value> {
    common::parsed_tree(text, TARGETS)
}

/// Every document of a folder, by file name.
fn folder<'a>(t: &'a BTreeMap<String, Value>, dir: &str) -> Vec<(&'a str, &'a Value)> {
    t.iter()
        .filter_map(|(p, v)| p.strip_prefix(&format!("{dir}/")).filter(|f| !f.contains('/')).map(|f| (f, v)))
        .collect()
}

fn ingresses<'a>(t: &'a BTreeMap<String, Value>, env: &str) -> Vec<&'a Value> {
    folder(t, &format!("k8s/{env}")).into_iter().filter(|(_, v)| v["kind"] == "Ingress").map(|(_, v)| v).collect()
}

/// The add-on Applications deploying to a cluster, by chart or path.
fn addon_apps<'a>(t: &'a BTreeMap<String, Value>, cluster_suffix: &str) -> Vec<&'a Value> {
    folder(t, "argocd/addons")
        .into_iter()
        .filter(|(f, v)| f.ends_with(&format!("-{cluster_suffix}.yaml")) && v["kind"] == "Application")
        .map(|(_, v)| v)
        .collect()
}

fn chart_app<'a>(apps: &[&'a Value], chart: &str) -> Option<&'a Value> {
    apps.iter().copied().find(|a| a.pointer("/spec/source/chart") == Some(&Value::from(chart)))
}

fn values(app: &Value) -> Value {
    serde_yaml_ng::from_str(app.pointer("/spec/source/helm/values").and_then(Value::as_str).unwrap_or("{}"))
        .expect("values parse")
}

#[test]
fn an_alb_ingress_on_gke_is_served_by_ingress_nginx_on_the_reserved_address() {
    let t = tree(&program(GKE));
    for i in ingresses(&t, "dr") {
        assert_eq!(i["spec"]["ingressClassName"], "nginx", "{i}");
        let annotations = i["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
        assert!(!annotations.keys().any(|k| k.starts_with("alb.ingress.kubernetes.io/")), "{annotations:?}");
    }
    // On EKS the same program keeps its ALB.
    let web = &t["k8s/prod/ingress-web.yaml"];
    assert_eq!(web["spec"]["ingressClassName"], "alb");
    let apps = addon_apps(&t, "dr");
    assert!(chart_app(&apps, "aws-load-balancer-controller").is_none(), "no ALB controller on GKE");
    let nginx = chart_app(&apps, "ingress-nginx").expect("ingress-nginx on the GKE cluster");
    let service = values(nginx)["controller"]["service"].clone();
    // The address the cluster root reserves: `${local.name}-ingress`.
    let root = &t["terraform/gcp/clusters/dr/main.tf.json"];
    let name = root["locals"]["name"].as_str().expect("cluster root name");
    let address = &t["terraform/gcp/clusters/dr/network.tf.json"]["resource"]["google_compute_address"]["ingress"];
    assert_eq!(address["name"], "${local.name}-ingress");
    assert_eq!(address["address_type"], "EXTERNAL");
    assert_eq!(service["annotations"]["networking.gke.io/load-balancer-ip-addresses"], format!("{name}-ingress"));
    assert_eq!(service["loadBalancerClass"], "networking.gke.io/l4-regional-external");
    // The environment's DNS record points at that address.
    let dns = &t["terraform/gcp/dr/dns.tf.json"]["data"]["google_compute_address"]["ingress"];
    assert_eq!(dns["name"], "${var.cluster_name}-ingress");
    assert_eq!(t["terraform/gcp/dr/main.tf.json"]["variable"]["cluster_name"]["default"], name);
    // EKS runs no ingress-nginx for `prod`'s ALB service, only for `api`.
    let hub = addon_apps(&t, "main");
    assert!(chart_app(&hub, "aws-load-balancer-controller").is_some());
}

#[test]
fn an_alb_ingress_on_aks_binds_the_public_ip_by_name() {
    let t = tree(&program(AKS));
    for i in ingresses(&t, "dr") {
        assert_eq!(i["spec"]["ingressClassName"], "nginx", "{i}");
    }
    let apps = addon_apps(&t, "dr");
    let nginx = chart_app(&apps, "ingress-nginx").expect("ingress-nginx on the AKS cluster");
    let annotations = values(nginx)["controller"]["service"]["annotations"].clone();
    let root = &t["terraform/azure/clusters/dr/main.tf.json"];
    let name = root["locals"]["name"].as_str().expect("cluster root name");
    let ip = &t["terraform/azure/clusters/dr/network.tf.json"]["resource"]["azurerm_public_ip"]["ingress"];
    assert_eq!(ip["name"], "${local.name}-ingress");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-pip-name"], format!("{name}-ingress"));
    let group = &t["terraform/azure/clusters/dr/network.tf.json"]["resource"]["azurerm_resource_group"]["main"];
    assert_eq!(group["name"], "${local.name}-rg");
    assert_eq!(annotations["service.beta.kubernetes.io/azure-load-balancer-resource-group"], format!("{name}-rg"));
}

/// Each issuer an Ingress of `env` names, checked against the issuers the
/// ArgoCD Application of `cluster` syncs.
fn assert_issuers_exist(t: &BTreeMap<String, Value>, env: &str, cluster_suffix: &str) {
    let named: Vec<String> = ingresses(t, env)
        .iter()
        .filter_map(|i| i.pointer("/metadata/annotations/cert-manager.io~1cluster-issuer").and_then(Value::as_str))
        .map(String::from)
        .collect();
    assert!(!named.is_empty(), "{env} has TLS nginx Ingresses");
    let app = addon_apps(t, cluster_suffix)
        .into_iter()
        .find(|a| a.pointer("/spec/source/path").and_then(Value::as_str).is_some_and(|p| p.ends_with("/cert-manager")))
        .unwrap_or_else(|| panic!("an Application syncs the issuer on {cluster_suffix}"));
    let path = app.pointer("/spec/source/path").and_then(Value::as_str).unwrap();
    let dir = path.strip_prefix("out/").unwrap_or(path);
    let k = &t[&format!("{dir}/kustomization.yaml")];
    let listed: Vec<&Value> = k["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|f| &t[&format!("{dir}/{}", f.as_str().unwrap())])
        .collect();
    for n in named {
        let issuer = listed
            .iter()
            .find(|o| o["kind"] == "ClusterIssuer" && o["metadata"]["name"] == n.as_str())
            .unwrap_or_else(|| panic!("ClusterIssuer {n} on {cluster_suffix}"));
        assert_eq!(issuer["spec"]["acme"]["server"], "https://acme-v02.api.letsencrypt.org/directory");
        assert_eq!(issuer["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClassName"], "nginx");
    }
    // After cert-manager (wave -2), which brings the CRD.
    let wave = |a: &Value| {
        a.pointer("/metadata/annotations/argocd.argoproj.io~1sync-wave")
            .and_then(Value::as_str)
            .and_then(|w| w.parse::<i32>().ok())
            .unwrap()
    };
    let cm = chart_app(&addon_apps(t, cluster_suffix), "cert-manager").expect("cert-manager installed");
    assert!(wave(app) > wave(cm));
}

#[test]
fn every_issuer_an_ingress_names_exists_on_its_cluster() {
    let t = tree(&program(GKE));
    assert_issuers_exist(&t, "prod", "main");
    assert_issuers_exist(&t, "dr", "dr");
}

#[test]
fn ingress_nginx_reaches_the_solver_pods_and_nothing_else_does() {
    let t = tree(&program(GKE));
    for env in ["prod", "dr"] {
        let policies: Vec<&Value> = folder(&t, &format!("k8s/{env}"))
            .into_iter()
            .filter(|(_, v)| v["kind"] == "NetworkPolicy")
            .map(|(_, v)| v)
            .collect();
        let solver = BTreeMap::from([("acme.cert-manager.io/http01-solver".to_string(), Value::from("true"))]);
        let selecting: Vec<&&Value> = policies
            .iter()
            .filter(|p| {
                let m = p["spec"]["podSelector"]["matchLabels"].as_object();
                // An empty selector (default-deny, DNS) selects every pod.
                m.is_none_or(|m| m.is_empty() || m.iter().all(|(k, v)| solver.get(k) == Some(v)))
            })
            .collect();
        let admitting: Vec<&&&Value> =
            selecting.iter().filter(|p| p["spec"]["ingress"].as_array().is_some_and(|a| !a.is_empty())).collect();
        assert_eq!(admitting.len(), 1, "{env}: one policy admits traffic to the solvers: {admitting:?}");
        let rule = &admitting[0]["spec"]["ingress"][0];
        assert_eq!(rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "ingress-nginx");
        assert_eq!(rule["ports"][0]["port"], 8089);
        assert_eq!(rule["ports"][0]["protocol"], "TCP");
    }
}

#[test]
fn an_environment_without_nginx_tls_gets_no_solver_policy_and_no_issuer() {
    let text = program(GKE).replace(r#"expose   = ingress { host = "api.${env.domain}" }"#, "");
    let t = tree(&text.replace(r#"cloud   = gcp { project = "acme-dr" region = "us-central1" }"#, ""));
    assert!(!t.keys().any(|p| p.ends_with("networkpolicy-allow-acme-http01.yaml")), "ALB only: no solver policy");
    assert!(!t.keys().any(|p| p.contains("/cert-manager/")), "ALB only: no issuer");
    assert!(!t.keys().any(|p| p.contains("ingress-nginx") || p.contains("cert-manager")), "ALB only: no nginx");
}

#[test]
fn a_preview_route_installs_the_controller_it_goes_through() {
    let text = r#"project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
  cloud      = aws { region = "us-east-1" }
  domain     = "shop.example.com"
}
service api {
  language = node
  port     = 8080
  health   = http { path = "/healthz" }
}
environment prod {
  promote    = on_push("main")
  production = true
  strategy   = blue_green { auto_promote = false }
}
"#;
    let t = tree(text);
    let preview = &t["k8s/prod/ingress-api-preview.yaml"];
    assert_eq!(preview["spec"]["ingressClassName"], "nginx");
    let apps: Vec<&Value> = folder(&t, "argocd/addons").into_iter().map(|(_, v)| v).collect();
    assert!(chart_app(&apps, "ingress-nginx").is_some(), "the preview route's controller is installed");
    assert!(chart_app(&apps, "cert-manager").is_some(), "and the issuer of its certificate");
    assert!(t.contains_key("k8s/prod/networkpolicy-allow-acme-http01.yaml"));
}

#[test]
fn a_standby_on_a_second_cloud_asks_for_its_records_instead_of_guessing_a_zone() {
    // The domain's DNS is not GCP's: no Cloud DNS zone is looked up (that
    // lookup fails where the zone does not exist), the address is an output.
    let t = tree(&program(GKE));
    let dns = &t["terraform/gcp/dr/dns.tf.json"];
    assert!(dns.pointer("/data/google_dns_managed_zone").is_none(), "{dns}");
    assert!(dns.pointer("/resource/google_dns_record_set").is_none(), "{dns}");
    let out = &t["terraform/gcp/dr/outputs.tf.json"]["output"]["ingress_address"];
    assert_eq!(out["value"], "${data.google_compute_address.ingress.address}");
    let said = out["description"].as_str().expect("description");
    // It names every host the environment's Ingresses serve.
    for i in ingresses(&t, "dr") {
        let host = i["spec"]["rules"][0]["host"].as_str().expect("host");
        assert!(said.contains(&format!("{host},")) || said.contains(&format!("{host} ")), "{host} in {said}");
    }
    let t = tree(&program(AKS));
    let dns = &t["terraform/azure/dr/dns.tf.json"];
    assert!(dns.pointer("/data/azurerm_dns_zone").is_none(), "{dns}");
    assert_eq!(
        t["terraform/azure/dr/outputs.tf.json"]["output"]["ingress_address"]["value"],
        "${data.azurerm_public_ip.ingress.ip_address}"
    );
    // A program whose own cloud is GCP keeps writing its records there.
    let gcp = std::fs::read_to_string("tests/programs/gcp.dpl").expect("program");
    let t = tree(&gcp);
    let records: Vec<&String> = t.keys().filter(|p| p.ends_with("/dns.tf.json")).collect();
    assert!(!records.is_empty());
    for p in records {
        assert!(t[p].pointer("/resource/google_dns_record_set").is_some(), "{p}");
    }
}
