//! `tests/programs/boutique.dpl` transcribes Google's Online Boutique
//! (microservices-demo, release/kubernetes-manifests.yaml, v0.10.x). This
//! test holds the facts written down from those published manifests and
//! checks that the Kubernetes output says the same: image, container port,
//! Services (name, type, port), probes and their timings, resources and
//! environment of every workload, the load generator (a worker, no Service)
//! included.
//!
//! Known gaps (the language cannot say them) are listed in the program and,
//! where they are a probe timing, in `GAPS` below, which the test checks still
//! differ (so a fix shows up here).

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::BTreeMap;

const REGISTRY: &str = "us-central1-docker.pkg.dev/google-samples/microservices-demo";

/// One Deployment and its Services of the published manifests.
struct Fact {
    name: &'static str,
    /// The image below `REGISTRY`, or a full reference (with a `:`).
    image: &'static str,
    /// The container port (`0`: none, a worker).
    port: i64,
    /// Every Service: name, type, port (targeting `port`).
    services: &'static [(&'static str, &'static str, i64)],
    /// `grpc`, `tcp` or an HTTP path (`""`: no probe).
    probe: &'static str,
    /// `(periodSeconds, initialDelaySeconds)` of the readiness and the
    /// liveness probe; the timeout is Kubernetes' default of 1s everywhere.
    timing: [(i64, i64); 2],
    cpu: (&'static str, &'static str),
    memory: (&'static str, &'static str),
    env: &'static [(&'static str, &'static str)],
}

const PROFILER_OFF: (&str, &str) = ("DISABLE_PROFILER", "1");

const FACTS: &[Fact] = &[
    Fact {
        name: "emailservice",
        image: "emailservice",
        port: 8080,
        services: &[("emailservice", "ClusterIP", 5000)],
        probe: "grpc",
        timing: [(5, 0), (5, 0)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[("PORT", "8080"), PROFILER_OFF],
    },
    Fact {
        name: "checkoutservice",
        image: "checkoutservice",
        port: 5050,
        services: &[("checkoutservice", "ClusterIP", 5050)],
        probe: "grpc",
        timing: [(10, 0), (10, 0)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[
            ("PORT", "5050"),
            ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550"),
            ("SHIPPING_SERVICE_ADDR", "shippingservice:50051"),
            ("PAYMENT_SERVICE_ADDR", "paymentservice:50051"),
            ("EMAIL_SERVICE_ADDR", "emailservice:5000"),
            ("CURRENCY_SERVICE_ADDR", "currencyservice:7000"),
            ("CART_SERVICE_ADDR", "cartservice:7070"),
        ],
    },
    Fact {
        name: "recommendationservice",
        image: "recommendationservice",
        port: 8080,
        services: &[("recommendationservice", "ClusterIP", 8080)],
        probe: "grpc",
        timing: [(5, 0), (5, 0)],
        cpu: ("100m", "200m"),
        memory: ("220Mi", "450Mi"),
        env: &[("PORT", "8080"), ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550"), PROFILER_OFF],
    },
    Fact {
        name: "frontend",
        image: "frontend",
        port: 8080,
        services: &[("frontend", "ClusterIP", 80), ("frontend-external", "LoadBalancer", 80)],
        probe: "/_healthz",
        timing: [(10, 10), (10, 10)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[
            ("PORT", "8080"),
            ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550"),
            ("CURRENCY_SERVICE_ADDR", "currencyservice:7000"),
            ("CART_SERVICE_ADDR", "cartservice:7070"),
            ("RECOMMENDATION_SERVICE_ADDR", "recommendationservice:8080"),
            ("SHIPPING_SERVICE_ADDR", "shippingservice:50051"),
            ("CHECKOUT_SERVICE_ADDR", "checkoutservice:5050"),
            ("AD_SERVICE_ADDR", "adservice:9555"),
            ("SHOPPING_ASSISTANT_SERVICE_ADDR", "shoppingassistantservice:80"),
            ("ENABLE_PROFILER", "0"),
        ],
    },
    Fact {
        name: "paymentservice",
        image: "paymentservice",
        port: 50051,
        services: &[("paymentservice", "ClusterIP", 50051)],
        probe: "grpc",
        timing: [(10, 0), (10, 0)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[("PORT", "50051"), PROFILER_OFF],
    },
    Fact {
        name: "productcatalogservice",
        image: "productcatalogservice",
        port: 3550,
        services: &[("productcatalogservice", "ClusterIP", 3550)],
        probe: "grpc",
        timing: [(10, 0), (10, 0)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[("PORT", "3550"), PROFILER_OFF],
    },
    Fact {
        name: "cartservice",
        image: "cartservice",
        port: 7070,
        services: &[("cartservice", "ClusterIP", 7070)],
        probe: "grpc",
        timing: [(10, 15), (10, 15)],
        cpu: ("200m", "300m"),
        memory: ("64Mi", "128Mi"),
        env: &[("REDIS_ADDR", "redis-cart:6379")],
    },
    Fact {
        name: "currencyservice",
        image: "currencyservice",
        port: 7000,
        services: &[("currencyservice", "ClusterIP", 7000)],
        probe: "grpc",
        timing: [(10, 0), (10, 0)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[("PORT", "7000"), PROFILER_OFF],
    },
    Fact {
        name: "shippingservice",
        image: "shippingservice",
        port: 50051,
        services: &[("shippingservice", "ClusterIP", 50051)],
        probe: "grpc",
        timing: [(5, 0), (10, 0)],
        cpu: ("100m", "200m"),
        memory: ("64Mi", "128Mi"),
        env: &[("PORT", "50051"), PROFILER_OFF],
    },
    Fact {
        name: "redis-cart",
        image: "redis:alpine",
        port: 6379,
        services: &[("redis-cart", "ClusterIP", 6379)],
        probe: "tcp",
        timing: [(5, 0), (5, 0)],
        cpu: ("70m", "125m"),
        memory: ("200Mi", "256Mi"),
        env: &[],
    },
    Fact {
        name: "adservice",
        image: "adservice",
        port: 9555,
        services: &[("adservice", "ClusterIP", 9555)],
        probe: "grpc",
        timing: [(15, 20), (15, 20)],
        cpu: ("200m", "300m"),
        memory: ("180Mi", "300Mi"),
        env: &[("PORT", "9555")],
    },
    Fact {
        name: "loadgenerator",
        image: "loadgenerator",
        port: 0,
        services: &[],
        probe: "",
        timing: [(0, 0), (0, 0)],
        cpu: ("300m", "500m"),
        memory: ("256Mi", "512Mi"),
        env: &[("FRONTEND_ADDR", "frontend:80"), ("USERS", "10")],
    },
];

/// Published probe timings the program cannot say: (workload, probe, field,
/// published value). None left: shippingservice's liveness period (10s
/// beside its readiness probe's 5s) is `probes { liveness { period = 10s } }`.
const GAPS: &[(&str, &str, &str, i64)] = &[];

#[test]
fn the_output_matches_the_published_manifests() {
    let c = common::compile_file("tests/programs/boutique.dpl");
    assert!(c.diagnostics.items.is_empty(), "{}", common::render_all(&c));
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let files = emit::emit(&plan, &[Target::K8s]);
    let doc = |path: String| -> Value {
        let a = files.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{path} is emitted"));
        serde_yaml_ng::from_str(&a.contents).expect("yaml")
    };
    // The references name each Service in full; the manifests use the short name.
    let short = |v: &str| v.replace(".boutique-dev.svc.cluster.local", "");
    assert_eq!(model.services.len(), FACTS.len(), "one service per published Deployment");
    // Every Service the output has is a published one.
    let published: Vec<String> = FACTS.iter().flat_map(|f| f.services.iter().map(|s| s.0.to_string())).collect();
    for a in files.iter().filter(|a| a.path.starts_with("k8s/dev/service-")) {
        let name = a.path.trim_start_matches("k8s/dev/service-").trim_end_matches(".yaml");
        assert!(published.iter().any(|p| p == name), "{name}: a Service the manifests do not have");
    }
    for f in FACTS {
        let d = doc(format!("k8s/dev/deployment-{}.yaml", f.name));
        let ct = &d["spec"]["template"]["spec"]["containers"][0];
        let image = if f.image.contains(':') { f.image.to_string() } else { format!("{REGISTRY}/{}:v0.10.2", f.image) };
        assert_eq!(ct["image"], image.as_str(), "{}: image", f.name);
        if f.port == 0 {
            assert!(ct.get("ports").is_none(), "{}: a worker listens on no port", f.name);
        } else {
            assert_eq!(ct["ports"][0]["containerPort"], f.port, "{}: container port", f.name);
        }
        for (probe, (period, delay)) in ["readinessProbe", "livenessProbe"].into_iter().zip(f.timing) {
            let p = &ct[probe];
            match f.probe {
                "" => {
                    assert!(p.is_null(), "{}: {probe} is not published", f.name);
                    continue;
                }
                "grpc" => assert_eq!(p["grpc"]["port"], f.port, "{}: {probe}", f.name),
                "tcp" => assert_eq!(p["tcpSocket"]["port"], f.port, "{}: {probe}", f.name),
                path => {
                    assert_eq!(p["httpGet"]["path"], path, "{}: {probe}", f.name);
                    assert_eq!(p["httpGet"]["port"], f.port, "{}: {probe}", f.name);
                }
            }
            let gap = |field: &str| GAPS.iter().find(|g| g.0 == f.name && g.1 == probe && g.2 == field).map(|g| g.3);
            for (field, want) in [("periodSeconds", period), ("initialDelaySeconds", delay), ("timeoutSeconds", 1)] {
                match gap(field) {
                    Some(published) => {
                        assert_eq!(published, want, "{}: {probe}.{field}: the gap records the fact", f.name);
                        assert_ne!(p[field], want, "{}: {probe}.{field} is now expressible: drop it from GAPS", f.name);
                    }
                    None => assert_eq!(p[field], want, "{}: {probe}.{field}", f.name),
                }
            }
        }
        let r = &ct["resources"];
        assert_eq!((&r["requests"]["cpu"], &r["limits"]["cpu"]), (&f.cpu.0.into(), &f.cpu.1.into()), "{}", f.name);
        assert_eq!(
            (&r["requests"]["memory"], &r["limits"]["memory"]),
            (&f.memory.0.into(), &f.memory.1.into()),
            "{}",
            f.name
        );

        // Plain values are in the ConfigMap the container reads whole.
        let env: BTreeMap<String, String> = if f.env.is_empty() {
            BTreeMap::new()
        } else {
            let cm = doc(format!("k8s/dev/configmap-{}-config.yaml", f.name));
            cm["data"]
                .as_object()
                .expect("data")
                .iter()
                .map(|(k, v)| (k.clone(), short(v.as_str().expect("string"))))
                .collect()
        };
        let want: BTreeMap<String, String> = f.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(env, want, "{}: environment", f.name);

        for (name, type_, port) in f.services {
            let s = doc(format!("k8s/dev/service-{name}.yaml"));
            assert_eq!(s["spec"]["type"], *type_, "{name}: type");
            assert_eq!(s["spec"]["selector"]["app.kubernetes.io/name"], f.name, "{name}: selects {}", f.name);
            assert_eq!(s["spec"]["ports"].as_array().map(Vec::len), Some(1), "{name}: one port");
            assert_eq!(s["spec"]["ports"][0]["port"], *port, "{name}: Service port");
            // The target port may be the container port's name, as the kubelet resolves it.
            let target = &s["spec"]["ports"][0]["targetPort"];
            let resolved = match target.as_str() {
                Some(name) => ct["ports"]
                    .as_array()
                    .expect("ports")
                    .iter()
                    .find(|p| p["name"] == name)
                    .map(|p| &p["containerPort"]),
                None => Some(target),
            };
            assert_eq!(resolved, Some(&Value::from(f.port)), "{name}: target port");
        }
    }
}
