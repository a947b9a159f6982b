//! Sealed files beside the program (`secret_store = sealed_secrets { dir }`):
//! each Secret an environment reads comes from `<dir>/<env>/<secret>.yaml`,
//! checked, re-serialized and written into the Kubernetes output and the
//! Helm chart. The committed austa-cockpit tree has a producer for every
//! Secret it reads, holding every key read.

mod common;
use deployc::codes::Code;
use deployc::emit::{self, Target};
use deployc::plan::{Options, Plan};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const PROGRAM: &str = r#"project shop {
  repository   = "github.com/acme/shop"
  registry     = ghcr { owner = "acme" }
  secret_store = sealed_secrets { dir = "sealed" }
}

service api {
  language     = go
  port         = 8080
  health       = http { path = "/healthz" }
  pull_secrets = ["registry"]
  env { API_TOKEN = secret("api-token") }
}

environment dev {
  promote = on_push("main")
}
"#;

const TOKEN: &str = "apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: api-token
  namespace: shop-dev
spec:
  encryptedData:
    value: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq
";

const REGISTRY: &str = "apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: registry
  namespace: shop-dev
spec:
  encryptedData:
    .dockerconfigjson: AgAx
  template:
    type: kubernetes.io/dockerconfigjson
";

/// Compiles [`PROGRAM`] with the given sealed files (path → text).
fn compile(files: &[(&str, &str)]) -> deployc::Compilation {
    let mut fs: BTreeMap<String, String> = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
    fs.insert("main.dpl".into(), PROGRAM.into());
    deployc::compile("main.dpl", PROGRAM, &fs)
}

fn codes(c: &deployc::Compilation) -> Vec<Code> {
    c.diagnostics.items.iter().map(|d| d.code).collect()
}

/// The k8s objects and the Helm values' objects of a compiled program's `env`.
fn outputs(c: &deployc::Compilation, env: &str) -> (Vec<Value>, Vec<Value>) {
    let (model, graph) = c.output.as_ref().expect("compiles");
    let opts = Options::default();
    let plan = Plan::new(model, graph, &opts);
    let files = emit::emit(&plan, &[Target::K8s, Target::Helm]);
    let prefix = format!("k8s/{env}/");
    let k8s = files
        .iter()
        .filter(|a| a.path.starts_with(&prefix) && !a.path.ends_with("kustomization.yaml"))
        .map(|a| serde_yaml_ng::from_str(&a.contents).expect("yaml"))
        .collect();
    // `values-<env>.yaml` is a JSON merge patch over `values.yaml`: a list
    // it does not name is the default's.
    let read = |suffix: &str| -> Value {
        let a = files.iter().find(|a| a.path.starts_with("helm/") && a.path.ends_with(suffix)).expect("values");
        serde_yaml_ng::from_str(&a.contents).expect("values yaml")
    };
    let (defaults, patch) = (read("/values.yaml"), read(&format!("/values-{env}.yaml")));
    let objects = if patch.get("objects").is_some() { &patch["objects"] } else { &defaults["objects"] };
    let helm = objects.as_array().cloned().unwrap_or_default();
    (k8s, helm)
}

fn sealed(objects: &[Value]) -> BTreeMap<String, Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == "SealedSecret")
        .map(|o| (o["metadata"]["name"].as_str().expect("name").to_string(), o.clone()))
        .collect()
}

#[test]
fn checked_files_reach_the_kubernetes_output_and_the_helm_chart() {
    let c = compile(&[("sealed/dev/api-token.yaml", TOKEN), ("sealed/dev/registry.yaml", REGISTRY)]);
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics.items);
    let (k8s, helm) = outputs(&c, "dev");
    let (k8s, helm) = (sealed(&k8s), sealed(&helm));
    assert_eq!(k8s.keys().collect::<Vec<_>>(), ["api-token", "registry"]);
    assert_eq!(k8s, helm, "the chart carries the same SealedSecrets");
    let token = &k8s["api-token"];
    assert_eq!(token["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(token["metadata"]["namespace"], "shop-dev");
    assert_eq!(token["spec"]["encryptedData"]["value"], "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq");
    assert_eq!(k8s["registry"]["spec"]["template"]["type"], "kubernetes.io/dockerconfigjson");
    // Listed by the kustomization.
    let (model, graph) = c.output.as_ref().expect("compiles");
    let opts = Options::default();
    let files = emit::emit(&Plan::new(model, graph, &opts), &[Target::K8s]);
    let k = files.iter().find(|a| a.path == "k8s/dev/kustomization.yaml").expect("kustomization");
    assert!(k.contents.contains("- sealedsecret-api-token.yaml"), "{}", k.contents);
    // Ciphertext carries the secret scanners' allowlist comment.
    let f = files.iter().find(|a| a.path == "k8s/dev/sealedsecret-api-token.yaml").expect("file");
    assert!(
        f.contents.contains("value: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq # pragma: allowlist secret\n"),
        "{}",
        f.contents
    );
}

#[test]
fn each_problem_has_its_code() {
    let missing = compile(&[("sealed/dev/registry.yaml", REGISTRY)]);
    assert_eq!(codes(&missing), [Code::E0380]);
    assert!(missing.output.is_none());
    let d = &missing.diagnostics.items[0];
    assert!(
        d.help.contains("kubectl create secret generic api-token -n shop-dev --from-literal=value=... --dry-run=client -o yaml | kubeseal --controller-namespace kube-system --format yaml > sealed/dev/api-token.yaml"),
        "{}",
        d.help
    );
    // The span is on the secret reference in the program.
    let span = d.primary_span().expect("span");
    assert_eq!(missing.program.sources.slice(span), "secret(\"api-token\")");

    let cases: &[(&str, String, Code)] = &[
        ("not YAML", "kind: SealedSecret\nspec: [unclosed\n".into(), Code::E0381),
        ("a plain Secret", TOKEN.replace("kind: SealedSecret", "kind: Secret"), Code::E0381),
        ("another API", TOKEN.replace("bitnami.com/v1alpha1", "bitnami.com/v1"), Code::E0381),
        ("two documents", format!("{TOKEN}---\n{TOKEN}"), Code::E0381),
        ("a plain value", TOKEN.replace("AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq", "s3cr3t pass"), Code::E0381),
        ("plain template data", format!("{TOKEN}  template:\n    data:\n      value: s3cr3t\n"), Code::E0381),
        ("a key Kubernetes refuses", TOKEN.replace("    value:", "    \"a b\": AgAx\n    value:"), Code::E0381),
        ("another name", TOKEN.replace("name: api-token", "name: api-key"), Code::E0382),
        ("another namespace", TOKEN.replace("namespace: shop-dev", "namespace: shop-prod"), Code::E0382),
        ("no namespace", TOKEN.replace("  namespace: shop-dev\n", ""), Code::E0382),
        ("another key", TOKEN.replace("    value:", "    token:"), Code::E0383),
        ("a YAML list", "- a\n- b\n".into(), Code::E0381),
        ("an empty file", String::new(), Code::E0381),
        ("a huge file", format!("{TOKEN}# {}\n", "x".repeat(deployc::plan::sealed::MAX_BYTES)), Code::E0381),
    ];
    for (what, text, code) in cases {
        let c = compile(&[("sealed/dev/api-token.yaml", text), ("sealed/dev/registry.yaml", REGISTRY)]);
        assert!(codes(&c).contains(code), "{what}: expected {code:?}, got {:?}", c.diagnostics.items);
        assert!(c.output.is_none(), "{what}: errors withhold the model");
        for d in &c.diagnostics.items {
            assert!(d.primary_span().is_some() && !d.help.is_empty(), "{what}: {d:?}");
        }
    }
    let opaque = REGISTRY.replace("kubernetes.io/dockerconfigjson", "Opaque");
    let c = compile(&[("sealed/dev/api-token.yaml", TOKEN), ("sealed/dev/registry.yaml", &opaque)]);
    assert_eq!(codes(&c), [Code::E0384]);
}

#[test]
fn scope_annotations_free_the_namespace() {
    let cluster_wide = TOKEN
        .replace("  namespace: shop-dev\n", "  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n");
    let c = compile(&[("sealed/dev/api-token.yaml", &cluster_wide), ("sealed/dev/registry.yaml", REGISTRY)]);
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics.items);
    let (k8s, _) = outputs(&c, "dev");
    let token = &sealed(&k8s)["api-token"];
    assert_eq!(token["metadata"]["namespace"], "shop-dev", "written into the environment's namespace");
    assert_eq!(token["metadata"]["annotations"]["sealedsecrets.bitnami.com/cluster-wide"], "true");
    // Namespace-wide still binds the namespace.
    let namespace_wide = TOKEN.replace(
        "  namespace: shop-dev\n",
        "  namespace: shop-prod\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
    );
    let c = compile(&[("sealed/dev/api-token.yaml", &namespace_wide), ("sealed/dev/registry.yaml", REGISTRY)]);
    assert_eq!(codes(&c), [Code::E0382]);
}

#[test]
fn the_file_is_re_serialized_not_pasted() {
    // Comments, foreign metadata, anchors and unknown annotations stay out.
    let text = "# owner: alice\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: api-token\n  namespace: shop-dev\n  creationTimestamp: null\n  labels:\n    injected: \"yes\\n---\\nkind: Pod\"\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: \"{}\"\n    sealedsecrets.bitnami.com/managed: \"true\"\n  ownerReferences: [{kind: Pod}]\nspec:\n  encryptedData:\n    value: &c AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n  template:\n    metadata:\n      labels:\n        team: \"a: b\"\n    data: null\n";
    let c = compile(&[("sealed/dev/api-token.yaml", text), ("sealed/dev/registry.yaml", REGISTRY)]);
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics.items);
    let (model, graph) = c.output.as_ref().expect("compiles");
    let opts = Options::default();
    let files = emit::emit(&Plan::new(model, graph, &opts), &[Target::K8s]);
    let f = files.iter().find(|a| a.path == "k8s/dev/sealedsecret-api-token.yaml").expect("file");
    for absent in ["alice", "injected", "kind: Pod", "last-applied", "ownerReferences", "creationTimestamp", "&c"] {
        assert!(!f.contents.contains(absent), "{absent} reached the output:\n{}", f.contents);
    }
    let doc: Value = serde_yaml_ng::from_str(&f.contents).expect("one document");
    assert_eq!(doc["metadata"]["annotations"], serde_json::json!({"sealedsecrets.bitnami.com/managed": "true"}));
    assert_eq!(doc["spec"]["template"]["metadata"]["labels"]["team"], "a: b");
}

#[test]
fn without_a_dir_the_team_seals_into_extra() {
    let program = PROGRAM.replace(" dir = \"sealed\" ", " ");
    let mut fs = BTreeMap::new();
    fs.insert("main.dpl".to_string(), program.clone());
    let c = deployc::compile("main.dpl", &program, &fs);
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics.items);
    let (k8s, helm) = outputs(&c, "dev");
    assert!(sealed(&k8s).is_empty() && sealed(&helm).is_empty());
}

/// Secret names and keys a pod template reads.
fn reads(v: &Value, out: &mut BTreeSet<(String, Option<String>)>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("secretKeyRef") {
                out.insert((r["name"].as_str().expect("name").into(), r["key"].as_str().map(str::to_string)));
            }
            if let Some(r) = m.get("secretRef") {
                out.insert((r["name"].as_str().expect("name").into(), None));
            }
            if let Some(n) = m.get("secret").and_then(|r| r["secretName"].as_str()) {
                out.insert((n.into(), None));
            }
            for p in m.get("imagePullSecrets").and_then(|p| p.as_array()).into_iter().flatten() {
                out.insert((p["name"].as_str().expect("name").into(), Some(".dockerconfigjson".into())));
            }
            m.values().for_each(|x| reads(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| reads(x, out)),
        _ => {}
    }
}

#[test]
fn every_secret_austa_cockpit_reads_has_a_producer_in_its_committed_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/austa-cockpit/out/k8s");
    let mut envs = 0;
    for env in ["staging", "production"] {
        let dir = root.join(env);
        let listed = std::fs::read_to_string(dir.join("kustomization.yaml")).expect("kustomization");
        let mut wanted = BTreeSet::new();
        let mut produced: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for e in std::fs::read_dir(&dir).expect("env folder") {
            let path = e.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_string();
            if !name.ends_with(".yaml") || name == "kustomization.yaml" {
                continue;
            }
            assert!(listed.contains(&format!("- {name}\n")), "{env}: {name} is not in the kustomization");
            let doc: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&path).expect("read")).expect("yaml");
            match doc["kind"].as_str() {
                Some("SealedSecret") => {
                    let keys =
                        doc["spec"]["encryptedData"].as_object().expect("encryptedData").keys().cloned().collect();
                    produced.insert(doc["metadata"]["name"].as_str().expect("name").into(), keys);
                }
                Some("Secret") | Some("ExternalSecret") => panic!("{env}: austa-cockpit's Secrets are sealed"),
                _ => reads(&doc, &mut wanted),
            }
        }
        assert!(!wanted.is_empty(), "{env}: the pods read Secrets");
        for (name, key) in &wanted {
            let keys = produced.get(name).unwrap_or_else(|| panic!("{env}: nothing produces Secret {name}"));
            if let Some(k) = key {
                assert!(keys.contains(k), "{env}: SealedSecret {name} has no key {k}");
            }
        }
        envs += 1;
    }
    assert_eq!(envs, 2);
}
