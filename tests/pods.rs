//! Pod details and configurable in-cluster resources (issue 11, items 5 and
//! 6), on `tests/programs/pods.dpl`: what the program says reaches the
//! Kubernetes output, and the plan's decisions (no password Secret for a
//! Redis without auth, connection attributes) hold.

mod common;
use deployc::emit::{self, Artifact, Target};
use deployc::plan::secrets::inventory;
use deployc::plan::Plan;
use serde_json::Value;

fn build(text: Option<&str>) -> Vec<Artifact> {
    let c = match text {
        Some(t) => deployc::compile("tests/programs/pods.dpl", t, &common::Disk),
        None => common::compile_file("tests/programs/pods.dpl"),
    };
    assert!(!c.diagnostics.has_errors(), "{}", common::render_all(&c));
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    emit::emit(&plan, &[Target::K8s])
}

fn doc(files: &[Artifact], path: &str) -> Value {
    let a = files.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{path} is emitted"));
    serde_yaml_ng::from_str(&a.contents).expect("yaml")
}

#[test]
fn a_redis_without_auth_has_no_password_and_no_secret() {
    let c = common::compile_file("tests/programs/pods.dpl");
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    for ep in &plan.envs {
        let names: Vec<String> = inventory(ep).into_iter().map(|s| s.name).collect();
        assert!(!names.contains(&"redis-cart-connection".to_string()), "{}: {names:?}", ep.env.name);
        assert!(names.contains(&"orders-db-connection".to_string()), "{}: {names:?}", ep.env.name);
    }
    let files = emit::emit(&plan, &[Target::K8s]);
    let sts = doc(&files, "k8s/prod/statefulset-redis-cart.yaml");
    let ct = &sts["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(ct["image"], "docker.io/library/redis:alpine");
    let args: Vec<&str> = ct["args"].as_array().expect("args").iter().filter_map(|a| a.as_str()).collect();
    assert!(!args.contains(&"--requirepass"), "{args:?}");
    assert!(ct.get("env").is_none(), "no password variable: {ct}");
    // Sizing as the program says it.
    assert_eq!(ct["resources"]["requests"]["cpu"], "70m");
    assert_eq!(ct["resources"]["limits"]["memory"], "256Mi");
    let claim = &sts["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "2Gi");
}

#[test]
fn dependents_read_the_address_form_and_the_attributes_one_by_one() {
    let files = build(None);
    let cm = doc(&files, "k8s/prod/configmap-cart-config.yaml");
    assert_eq!(cm["data"]["REDIS_ADDR"], "redis-cart.pods-prod.svc.cluster.local:6379");
    assert_eq!(cm["data"]["REDIS_URL"], "redis://redis-cart.pods-prod.svc.cluster.local:6379/0");
    let orders = doc(&files, "k8s/prod/deployment-orders.yaml");
    let env = orders["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env").clone();
    let key = |var: &str| {
        env.iter()
            .find(|e| e["name"] == var)
            .map(|e| e["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(key("DB_ADDR").as_deref(), Some("address"));
    assert_eq!(key("DB_USER").as_deref(), Some("user"));
    assert_eq!(key("DB_PASSWORD").as_deref(), Some("password"));
    let cm = doc(&files, "k8s/prod/configmap-orders-config.yaml");
    assert_eq!(cm["data"]["DB_NAME"], "orders_db");
    assert_eq!(cm["data"]["DB_PORT"], "5432");
}

#[test]
fn production_replicas_spread_across_zones_and_dev_ones_do_not() {
    let files = build(None);
    let spread = |env: &str| {
        doc(&files, &format!("k8s/{env}/deployment-orders.yaml"))["spec"]["template"]["spec"]
            ["topologySpreadConstraints"]
            .clone()
    };
    let prod = spread("prod");
    assert_eq!(prod[0]["topologyKey"], "topology.kubernetes.io/zone", "{prod}");
    assert_eq!(prod[0]["maxSkew"], 1);
    assert_eq!(prod[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"], "orders");
    assert!(spread("dev").is_null(), "one replica in dev: nothing to spread");
    // One replica in production: nothing to spread either.
    let cart = doc(&files, "k8s/prod/deployment-cart.yaml");
    assert!(cart["spec"]["template"]["spec"]["topologySpreadConstraints"].is_null());
    // `spread = none` turns the default off.
    let text = std::fs::read_to_string("tests/programs/pods.dpl").expect("program");
    let off = text.replacen("  replicas = 2\n", "  replicas = 2\n  spread   = none\n", 1);
    assert_ne!(off, text);
    let files = build(Some(&off));
    let d = doc(&files, "k8s/prod/deployment-orders.yaml");
    assert!(d["spec"]["template"]["spec"]["topologySpreadConstraints"].is_null());
}

#[test]
fn a_config_file_change_rolls_the_pods() {
    let checksum = |files: &[Artifact]| {
        let d = doc(files, "k8s/prod/deployment-cart.yaml");
        d["spec"]["template"]["metadata"]["annotations"]["checksum/files"].as_str().expect("checksum").to_string()
    };
    let files = build(None);
    let cm = doc(&files, "k8s/prod/configmap-cart-files.yaml");
    assert!(cm["data"]["appsettings.json"].as_str().expect("file").contains("\"Default\": \"Information\""));
    let d = doc(&files, "k8s/prod/deployment-cart.yaml");
    let spec = &d["spec"]["template"]["spec"];
    let mount = &spec["containers"][0]["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["name"] == "files")
        .cloned()
        .expect("file mount");
    assert_eq!(mount["mountPath"], "/etc/cart/appsettings.json");
    assert_eq!(mount["subPath"], "appsettings.json");
    let before = checksum(&files);
    let text = std::fs::read_to_string("tests/programs/pods.dpl").expect("program");
    let changed = text.replacen("Information", "Warning", 1);
    assert_ne!(changed, text);
    assert_ne!(checksum(&build(Some(&changed))), before, "the pod template changes with the file");
}

#[test]
fn the_pull_secret_has_a_producer_of_the_docker_config_type() {
    let c = common::compile_file("tests/programs/pods.dpl");
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    for ep in &plan.envs {
        let inv = inventory(ep);
        let s = inv.iter().find(|s| s.name == "registry-credentials").expect("pull secret in the inventory");
        assert!(s.readers.contains("cart"));
        assert!(s.keys.contains(".dockerconfigjson"));
    }
    let files = emit::emit(&plan, &[Target::K8s]);
    let es = doc(&files, "k8s/prod/externalsecret-registry-credentials.yaml");
    assert_eq!(es["spec"]["target"]["template"]["type"], "kubernetes.io/dockerconfigjson");
    let d = doc(&files, "k8s/prod/deployment-cart.yaml");
    assert_eq!(d["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"], "registry-credentials");
}

#[test]
fn pod_details_reach_the_pod_spec() {
    let files = build(None);
    let d = doc(&files, "k8s/prod/deployment-cart.yaml");
    let t = &d["spec"]["template"];
    let spec = &t["spec"];
    assert_eq!(spec["serviceAccountName"], "cart-sa");
    let sa = doc(&files, "k8s/prod/serviceaccount-cart-sa.yaml");
    assert_eq!(sa["metadata"]["name"], "cart-sa");
    assert_eq!(t["metadata"]["labels"]["example.com/team"], "checkout");
    assert_eq!(t["metadata"]["labels"]["app.kubernetes.io/name"], "cart", "deployc's labels stay");
    assert_eq!(t["metadata"]["annotations"]["example.com/owner"], "checkout team <checkout@example.com>");
    assert_eq!(spec["nodeSelector"]["kubernetes.io/os"], "linux");
    // `prefer_nodes`: a preference the scheduler weighs, not a requirement.
    let node = &spec["affinity"]["nodeAffinity"];
    assert!(node["requiredDuringSchedulingIgnoredDuringExecution"].is_null());
    let pref = &node["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(pref["weight"], 100);
    let term = &pref["preference"]["matchExpressions"][0];
    assert_eq!((term["key"].as_str(), term["operator"].as_str()), (Some("karpenter.sh/capacity-type"), Some("In")));
    assert_eq!(term["values"], serde_json::json!(["on-demand"]));
    assert_eq!(spec["tolerations"][0]["operator"], "Equal");
    assert_eq!(spec["tolerations"][1]["operator"], "Exists");
    assert_eq!(spec["tolerations"][1]["effect"], "NoExecute");
    let ct = &spec["containers"][0];
    assert_eq!(ct["livenessProbe"]["periodSeconds"], 15);
    assert_eq!(ct["livenessProbe"]["timeoutSeconds"], 5);
    assert_eq!(ct["livenessProbe"]["failureThreshold"], 5);
    assert!(ct["livenessProbe"]["successThreshold"].is_null(), "liveness accepts only 1");
    assert_eq!(ct["readinessProbe"]["successThreshold"], 2);
    assert_eq!(ct["startupProbe"]["grpc"]["port"], 7070);
    // The HPA target set for production only.
    let hpa = doc(&files, "k8s/prod/horizontalpodautoscaler-orders.yaml");
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 60);
}
