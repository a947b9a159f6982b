//! `deployc import`: Sock Shop's published Kubernetes manifests, a Compose
//! file for the same demo and a set of references round-trip through the
//! imported program's build: images, ports, env, probes, resources and
//! replicas, as far as the language carries them.

mod common;
use deployc::emit::{self, Target};
use deployc::onboard::{self, import};
use deployc::plan::Plan;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn data(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import").join(rel))
        .expect("test data")
}

/// Renders the draft, insists it checks without errors, and returns the
/// program and its `k8s/dev/` objects by file name.
fn build(draft: &onboard::Draft) -> (String, BTreeMap<String, Value>) {
    let program = onboard::render(draft);
    let c = deployc::compile("envs.dpl", &program, &common::Disk);
    let errors: Vec<String> =
        c.diagnostics.items.iter().filter(|d| d.code.as_str().starts_with('E')).map(|d| d.message.clone()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{program}");
    let (model, graph) = c.output.as_ref().expect("a model");
    let mut out = BTreeMap::new();
    for a in emit::emit(&Plan::new(model, graph, &Default::default()), &[Target::K8s]) {
        if let Some(file) = a.path.strip_prefix("k8s/dev/") {
            out.insert(file.to_string(), serde_yaml_ng::from_str(&a.contents).expect("YAML"));
        }
    }
    (program, out)
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => v.get(i).unwrap_or(&NULL),
        Err(_) => v.get(k).unwrap_or(&NULL),
    })
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_yaml_ng::to_string(other).unwrap_or_default(),
    }
}

/// The environment a generated container sees: its `env` plus the data of
/// the ConfigMaps it loads with `envFrom`; secret references as `secret:NAME`.
fn env_of(objects: &BTreeMap<String, Value>, container: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for from in at(container, "envFrom").as_sequence().cloned().unwrap_or_default() {
        let cm = s(at(&from, "configMapRef.name"));
        if let Some(data) =
            objects.get(&format!("configmap-{cm}.yaml")).and_then(|o| o.get("data")).and_then(Value::as_mapping)
        {
            env.extend(data.iter().map(|(k, v)| (s(k), s(v))));
        }
    }
    for e in at(container, "env").as_sequence().cloned().unwrap_or_default() {
        let v = if e.get("value").is_some() {
            s(at(&e, "value"))
        } else {
            format!("secret:{}", s(at(&e, "valueFrom.secretKeyRef.name")))
        };
        env.insert(s(at(&e, "name")), v);
    }
    env
}

fn documents(text: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .filter_map(|d| Value::deserialize(d).ok())
        .filter(|v| !v.is_null())
        .collect()
}

#[test]
fn sock_shop_manifests_round_trip() {
    let text = data("sock-shop/complete-demo.yaml");
    let draft = import::kubernetes(&[("complete-demo.yaml".into(), text.clone())], "sock-shop").expect("imports");
    let (program, objects) = build(&draft);
    let docs = documents(&text);
    let mut compared = 0;
    for d in docs.iter().filter(|d| s(at(d, "kind")) == "Deployment") {
        let name = s(at(d, "metadata.name"));
        let original = at(d, "spec.template.spec.containers.0");
        let image = s(at(original, "image"));
        if onboard::resource_of(&image).is_some() {
            assert!(program.contains(&format!("resource {name} = ")), "{name} ({image}) is a resource:\n{program}");
            continue;
        }
        let generated =
            objects.get(&format!("deployment-{name}.yaml")).unwrap_or_else(|| panic!("no Deployment {name}"));
        let c = at(generated, "spec.template.spec.containers.0");
        // Image: a prebuilt image is deployed exactly as the original names it.
        assert_eq!(s(at(c, "image")), image, "{name}: image");
        assert_eq!(at(c, "ports.0.containerPort"), at(original, "ports.0.containerPort"), "{name}: port");
        // Env: every literal of the original, same value.
        let env = env_of(&objects, c);
        for e in at(original, "env").as_sequence().cloned().unwrap_or_default() {
            assert_eq!(env.get(&s(at(&e, "name"))), Some(&s(at(&e, "value"))), "{name}: env {}", s(at(&e, "name")));
        }
        // Probes: kind, path and port.
        for probe in ["livenessProbe", "readinessProbe"] {
            if at(original, probe).is_null() {
                continue;
            }
            assert_eq!(
                at(c, &format!("{probe}.httpGet.path")),
                at(original, &format!("{probe}.httpGet.path")),
                "{name}: {probe}"
            );
            assert_eq!(
                s(at(c, &format!("{probe}.httpGet.port"))),
                s(at(original, &format!("{probe}.httpGet.port"))),
                "{name}: {probe}"
            );
        }
        for q in ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] {
            let want = s(at(original, &format!("resources.{q}")));
            if !want.is_empty() {
                assert_eq!(s(at(c, &format!("resources.{q}"))), want, "{name}: {q}");
            }
        }
        assert_eq!(at(generated, "spec.replicas"), at(d, "spec.replicas"), "{name}: replicas");
        // The Service port.
        let svc = docs
            .iter()
            .find(|o| s(at(o, "kind")) == "Service" && s(at(o, "metadata.name")) == name)
            .expect("a Service");
        let gsvc = objects.get(&format!("service-{name}.yaml")).expect("a generated Service");
        assert_eq!(at(gsvc, "spec.ports.0.port"), at(svc, "spec.ports.0.port"), "{name}: service port");
        compared += 1;
    }
    assert_eq!(compared, 11, "eleven application workloads of Sock Shop compared (three databases are resources)");
    for note in [
        "// not imported: sidecar container rabbitmq-exporter",
        "// not imported: Service type NodePort",
        "// not imported: probe timings",
    ] {
        assert!(program.contains(note), "missing {note:?}");
    }
    assert!(!program.contains("not imported: Service/carts-db"), "a resource's Service is imported with it");
}

#[test]
fn references_and_probe_kinds_round_trip() {
    let draft = import::kubernetes(&[("refs.yaml".into(), data("refs.yaml"))], "fin").expect("imports");
    let (program, objects) = build(&draft);
    let ledger = &objects["deployment-ledger.yaml"];
    let c = at(ledger, "spec.template.spec.containers.0");
    assert_eq!(s(at(ledger, "spec.replicas")), "3");
    assert_eq!(s(at(c, "livenessProbe.grpc.port")), "9000");
    assert_eq!(s(at(c, "readinessProbe.tcpSocket.port")), "9000", "the named port `grpc` resolved");
    assert_eq!((s(at(c, "resources.requests.cpu")), s(at(c, "resources.limits.cpu"))), ("250m".into(), "1".into()));
    assert_eq!(
        (s(at(c, "resources.requests.memory")), s(at(c, "resources.limits.memory"))),
        ("128Mi".into(), "1Gi".into())
    );
    let env = env_of(&objects, c);
    assert_eq!(env.get("REGION").map(String::as_str), Some("eu-west-1"), "a ConfigMap key becomes its value");
    assert!(env.get("DB_PASSWORD").is_some_and(|v| v.starts_with("secret:")), "a Secret stays a secret: {env:?}");
    assert!(program.contains("DB_PASSWORD = secret(\"ledger-db\")"));
    assert_eq!(s(at(&objects["service-ledger.yaml"], "spec.ports.0.port")), "443");
    let audit = at(&objects["deployment-audit.yaml"], "spec.template.spec.containers.0");
    assert_eq!(
        at(audit, "livenessProbe.exec.command"),
        &serde_yaml_ng::from_str::<Value>("[python, -m, audit.health]").unwrap()
    );
    // Prebuilt images, from any registry, tagged or by digest: deployed as
    // written, with no toolchain to build them.
    assert_eq!(s(at(c, "image")), "registry.example.com:5000/fin/ledger-go:2.1.0");
    assert!(s(at(audit, "image")).starts_with("ghcr.io/fin/audit-python@sha256:"));
    assert!(!program.lines().any(|l| l.trim_start().starts_with("language")), "{program}");
    for note in ["// not imported: env POD_IP", "// not imported: Ingress/ledger"] {
        assert!(program.contains(note), "missing {note:?}");
    }
}

#[test]
fn sock_shop_compose_round_trips() {
    let text = data("sock-shop-compose/docker-compose.yml");
    let draft = import::compose(&text, "sock-shop").expect("imports");
    let (program, objects) = build(&draft);
    let front = &objects["deployment-front-end.yaml"];
    let c = at(front, "spec.template.spec.containers.0");
    assert!(s(at(c, "image")).starts_with("weaveworksdemos/front-end:"), "a prebuilt image, as written");
    assert_eq!(s(at(c, "ports.0.containerPort")), "8079");
    assert_eq!(s(at(&objects["service-front-end.yaml"], "spec.ports.0.port")), "80");
    assert_eq!(s(at(front, "spec.replicas")), "2");
    assert_eq!(s(at(c, "resources.requests.cpu")), "100m");
    assert_eq!(s(at(c, "resources.limits.memory")), "1000Mi", "Compose memory units are binary");
    assert_eq!(
        at(c, "livenessProbe.exec.command"),
        &serde_yaml_ng::from_str::<Value>("[wget, -q, -O-, 'http://localhost:8079/']").unwrap()
    );
    assert_eq!(env_of(&objects, c).get("SESSION_REDIS").map(String::as_str), Some("true"));
    let cat = at(&objects["deployment-catalogue.yaml"], "spec.template.spec.containers.0");
    assert_eq!(s(at(cat, "ports.0.containerPort")), "80", "`expose:` gives the port");
    assert_eq!(s(at(cat, "readinessProbe.exec.command.2")), "wget -q -O- http://localhost/health || exit 1");
    let carts = at(&objects["deployment-carts.yaml"], "spec.template.spec.containers.0");
    assert!(env_of(&objects, carts)["JAVA_OPTS"].starts_with("-Xms64m"));
    let db = at(&objects["deployment-catalogue-db.yaml"], "spec.template.spec.containers.0");
    assert_eq!(env_of(&objects, db).get("MYSQL_DATABASE").map(String::as_str), Some("socksdb"));
    assert!(
        program.contains("resource carts-db = mongodb")
            && program.contains("resource session-db = redis { version = \"7\" }")
    );
    assert!(program.contains("uses         = [session-db]") || program.contains("uses = [session-db]"), "{program}");
    for note in [
        "// not imported: command",
        "// not imported: env MYSQL_ALLOW_EMPTY_PASSWORD",
        "// not imported: port 15672:15672",
    ] {
        assert!(program.contains(note), "missing {note:?}\n{program}");
    }
}

#[test]
fn hostile_strings_stay_values() {
    // A value, a name and an image crafted to break out of a .dpl string or
    // a comment: the program must check, with the value intact.
    let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: "Evil_App\n}\nservice x {" }
spec:
  template:
    metadata: { labels: { a: b } }
    spec:
      containers:
        - name: c
          image: "acme/app\nproject p {"
          ports: [{ containerPort: 8080 }]
          env:
            - { name: GREETING, value: "a\"} // ${env.name} \\ \n end" }
            - { name: "BAD NAME", value: x }
---
apiVersion: v1
kind: Secret
metadata: { name: "s\n// not a comment\nservice y { port = 1 }" }
"#;
    let draft = import::kubernetes(&[("evil.yaml".into(), yaml.into())], "p").expect("imports");
    let (program, objects) = build(&draft);
    let (name, d) = objects.iter().find(|(k, _)| k.starts_with("deployment-")).expect("one Deployment");
    assert_eq!(name, "deployment-evil-app-service-x.yaml");
    let env = env_of(&objects, at(d, "spec.template.spec.containers.0"));
    assert_eq!(env["GREETING"], "a\"} // ${env.name} \\ \n end");
    assert!(!program.lines().any(|l| l.trim_start().starts_with("service y")), "{program}");
}

#[test]
fn the_command_reads_a_folder_and_a_stream_alike() {
    let bin = env!("CARGO_BIN_EXE_deployc");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import/sock-shop");
    let folder = std::process::Command::new(bin)
        .arg("import")
        .arg(&dir)
        .args(["--project", "sock-shop"])
        .output()
        .expect("runs");
    assert!(folder.status.success(), "{}", String::from_utf8_lossy(&folder.stderr));
    let stream = std::process::Command::new(bin)
        .args(["import", "-", "--project", "sock-shop"])
        .stdin(std::fs::File::open(dir.join("complete-demo.yaml")).expect("file"))
        .output()
        .expect("runs");
    assert!(stream.status.success());
    let (a, b) = (String::from_utf8(folder.stdout).unwrap(), String::from_utf8(stream.stdout).unwrap());
    assert_eq!(a, b);
    assert!(a.contains("service front-end {"));
}
