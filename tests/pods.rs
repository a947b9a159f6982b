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
