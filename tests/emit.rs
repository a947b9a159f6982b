//! What the Kubernetes and ArgoCD targets emit for a small program, asserted
//! on parsed documents, plus one snapshot of the whole tree for review.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::BTreeMap;

fn tree() -> BTreeMap<String, Value> {
    tree_of(&std::fs::read_to_string("tests/programs/shop.dpl").expect("shop"))
}

fn tree_of(text: &str) -> BTreeMap<String, Value> {
    let c = deployc::compile("tests/programs/shop.dpl", text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("compiles: {errs:?}"));
    emit::emit(&Plan::new(&model, &graph, &Default::default()), Target::ALL)
        .into_iter()
        // The YAML documents; text outputs (the docs page) are not YAML, and
        // Helm templates are YAML only once rendered (tests/helm.rs).
        .filter(|a| a.path.ends_with(".yaml") && !a.path.contains("/templates/"))
        .map(|a| {
            let v: Value = serde_yaml_ng::from_str(&a.contents).expect("valid yaml");
            (a.path, v)
        })
        .collect()
}

fn get<'a>(t: &'a BTreeMap<String, Value>, path: &str) -> &'a Value {
    t.get(path).unwrap_or_else(|| panic!("no {path}; have {:?}", t.keys().collect::<Vec<_>>()))
}

#[test]
fn canary_steps_follow_the_strategy() {
    let t = tree();
    let r = get(&t, "k8s/staging/rollout-api.yaml");
    let steps = &r["spec"]["strategy"]["canary"]["steps"];
    let expected: Value = serde_json::json!([
        {"setWeight": 10}, {"pause": {"duration": "2m"}},
        {"setWeight": 50}, {"pause": {"duration": "2m"}},
        {"setWeight": 100}
    ]);
    assert_eq!(steps, &expected);
    assert_eq!(r["spec"]["strategy"]["canary"]["canaryService"], "api-canary");
    assert_eq!(r["spec"]["strategy"]["canary"]["analysis"]["templates"][0]["templateName"], "shop-analysis");
    let at = get(&t, "k8s/staging/analysistemplate-shop-analysis.yaml");
    assert!(at["spec"]["metrics"][0]["provider"]["prometheus"]["query"]
        .as_str()
        .expect("query")
        .contains("http_requests_total"));
    assert_eq!(at["spec"]["metrics"][0]["successCondition"], "len(result) > 0 && result[0] >= 0.99");
    assert_eq!(at["spec"]["metrics"][0]["failureCondition"], "len(result) > 0 && result[0] < 0.99");
    assert!(t.contains_key("k8s/staging/service-api-canary.yaml"));
}

#[test]
fn blue_green_has_active_and_preview_services() {
    let t = tree();
    let bg = &get(&t, "k8s/prod/rollout-api.yaml")["spec"]["strategy"]["blueGreen"];
    assert_eq!(bg["activeService"], "api");
    assert_eq!(bg["previewService"], "api-preview");
    assert_eq!(bg["autoPromotionEnabled"], false);
    assert_eq!(bg["scaleDownDelaySeconds"], 60);
    assert!(t.contains_key("k8s/prod/service-api-preview.yaml"));
}

#[test]
fn rolling_environments_use_deployments_and_hpa_targets_the_workload() {
    let t = tree();
    assert!(t.contains_key("k8s/dev/deployment-web.yaml"));
    assert!(!t.keys().any(|k| k.starts_with("k8s/dev/rollout-")));
    let hpa = get(&t, "k8s/dev/horizontalpodautoscaler-web.yaml");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 6);
    let hpa = get(&t, "k8s/prod/horizontalpodautoscaler-api.yaml");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Rollout");
    assert_eq!(hpa["spec"]["maxReplicas"], 12, "the prod override applies");
    assert!(get(&t, "k8s/prod/rollout-api.yaml")["spec"].get("replicas").is_none(), "the HPA owns replicas");
    assert!(!t.contains_key("k8s/dev/horizontalpodautoscaler-api.yaml"), "fixed replicas: no HPA");
    assert!(!t.contains_key("k8s/dev/poddisruptionbudget-api.yaml"), "one replica: no PDB");
    assert!(t.contains_key("k8s/dev/poddisruptionbudget-web.yaml"));
}

fn peers(rules: &Value, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for rule in rules.as_array().into_iter().flatten() {
        for p in rule[key].as_array().into_iter().flatten() {
            if let Some(n) = p["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str() {
                out.push(format!("pod:{n}:{}", rule["ports"][0]["port"]));
            }
            if let Some(n) = p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str() {
                out.push(format!("ns:{n}:{}", rule["ports"][0]["port"]));
            }
            if let Some(c) = p["ipBlock"]["cidr"].as_str() {
                out.push(format!("cidr:{c}:{}", rule["ports"][0]["port"]));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn network_policies_follow_the_graph() {
    let t = tree();
    let deny = get(&t, "k8s/dev/networkpolicy-default-deny.yaml");
    assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
    assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    let api = &get(&t, "k8s/dev/networkpolicy-api.yaml")["spec"];
    // Only web calls api; Prometheus scrapes it.
    assert_eq!(peers(&api["ingress"], "from"), vec!["ns:monitoring:8080", "pod:web:8080"]);
    // api reaches the in-cluster db and HTTPS outside, nothing else.
    assert_eq!(peers(&api["egress"], "to"), vec!["cidr:0.0.0.0/0:443", "pod:db:5432"]);
    let web = &get(&t, "k8s/dev/networkpolicy-web.yaml")["spec"];
    assert_eq!(peers(&web["ingress"], "from"), vec!["ns:ingress-nginx:3000", "ns:monitoring:3000"]);
    assert_eq!(peers(&web["egress"], "to"), vec!["cidr:0.0.0.0/0:443", "pod:api:8080"]);
    let db = &get(&t, "k8s/dev/networkpolicy-db.yaml")["spec"];
    assert_eq!(peers(&db["ingress"], "from"), vec!["pod:api-migrate:5432", "pod:api:5432", "pod:db-backup:5432"]);
    // In prod the database is managed: api reaches the VPC, and there is no db policy.
    let api = &get(&t, "k8s/prod/networkpolicy-api.yaml")["spec"];
    assert_eq!(peers(&api["egress"], "to"), vec!["cidr:0.0.0.0/0:443", "cidr:10.0.0.0/8:5432"]);
    assert!(!t.contains_key("k8s/prod/networkpolicy-db.yaml"));
    assert!(!t.contains_key("k8s/prod/statefulset-db.yaml"));
}

#[test]
fn every_pod_is_locked_down() {
    let t = tree();
    let mut pods = 0;
    for (path, doc) in &t {
        let spec = match doc["kind"].as_str() {
            Some("Deployment" | "Rollout" | "StatefulSet" | "Job") => &doc["spec"]["template"]["spec"],
            Some("CronJob") => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        pods += 1;
        assert_eq!(spec["automountServiceAccountToken"], false, "{path}");
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{path}");
        assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{path}");
        for c in spec["containers"].as_array().expect("containers") {
            let sc = &c["securityContext"];
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{path}");
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{path}");
            assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{path}");
            assert!(sc["runAsUser"].as_i64().expect("uid") > 0, "{path}");
            assert!(
                c["resources"]["requests"]["cpu"].is_string() && c["resources"]["limits"]["memory"].is_string(),
                "{path}"
            );
            let image = c["image"].as_str().expect("image");
            assert!(!image.ends_with(":latest") && image.contains(':'), "{path}: {image}");
            if doc["kind"] != "Job" && doc["kind"] != "CronJob" {
                assert!(c["livenessProbe"].is_object() && c["readinessProbe"].is_object(), "{path}");
            }
        }
        assert!(spec["volumes"].as_array().expect("volumes").iter().any(|v| v["name"] == "tmp"), "{path}");
    }
    assert!(pods > 10);
}

#[test]
fn secrets_are_references_and_come_from_the_store() {
    let t = tree();
    let d = get(&t, "k8s/dev/deployment-api.yaml");
    let env = &d["spec"]["template"]["spec"]["containers"][0]["env"];
    let by_name: BTreeMap<&str, &Value> =
        env.as_array().expect("env").iter().map(|e| (e["name"].as_str().expect("n"), e)).collect();
    assert_eq!(by_name["JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"], "jwt");
    assert_eq!(by_name["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"], "db-connection");
    assert_eq!(get(&t, "k8s/dev/configmap-api-config.yaml")["data"]["LOG_LEVEL"], "info");
    let es = get(&t, "k8s/dev/externalsecret-jwt.yaml");
    assert_eq!(es["spec"]["dataFrom"][0]["extract"]["key"], "shop/dev/jwt");
    assert_eq!(get(&t, "k8s/dev/secretstore-shop-secrets.yaml")["spec"]["provider"]["aws"]["region"], "eu-west-1");
    assert!(t.contains_key("k8s/dev/externalsecret-db-connection.yaml"));
    assert!(!t.keys().any(|k| k.contains("/secret-")), "deployc never writes a Secret");
    let web = get(&t, "k8s/dev/configmap-web-config.yaml");
    assert_eq!(web["data"]["API_URL"], "http://api.shop-dev.svc.cluster.local:8080");
    let worker = get(&t, "k8s/prod/configmap-worker-config.yaml");
    assert_eq!(worker["data"]["QUEUE_NAME"], "shop-prod-jobs");
}

/// Kubernetes expands `$(VAR)` in a container's `env` values only: text
/// there is escaped (`$$(`), text in the ConfigMap is kept as written.
#[test]
fn dollar_parens_are_escaped_only_where_kubernetes_expands_them() {
    let text = std::fs::read_to_string("tests/programs/shop.dpl").expect("shop").replace(
        "LOG_LEVEL = \"info\" }",
        "LOG_LEVEL = \"info\" GREETING = \"hi \\$(whoami)\" LINK = \"x=\\$(y)/${db.url}\" }",
    );
    let t = tree_of(&text);
    assert_eq!(get(&t, "k8s/dev/configmap-api-config.yaml")["data"]["GREETING"], "hi $(whoami)");
    let d = get(&t, "k8s/dev/deployment-api.yaml");
    let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array().expect("env");
    let dsn = env.iter().find(|e| e["name"] == "LINK").expect("LINK in env");
    assert_eq!(dsn["value"], "x=$$(y)/$(DEPLOYC_LINK_0)");
}

fn wave(doc: &serde_json::Value) -> i64 {
    doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().map_or(0, |w| w.parse().expect("wave"))
}

#[test]
fn migrations_run_before_sync_and_backups_on_schedule() {
    let t = tree();
    let job = get(&t, "k8s/dev/job-api-migrate.yaml");
    // A Sync hook, not PreSync: ArgoCD applies the Sync phase by waves, so
    // what the Job reads exists (wave 0) before it runs (wave 2, after the
    // pre-deploy backups of wave 1), and the workloads (wave 3) start only
    // on the migrated schema.
    assert_eq!(job["metadata"]["annotations"]["argocd.argoproj.io/hook"], "Sync");
    assert_eq!(wave(job), 2);
    let pod = &job["spec"]["template"]["spec"];
    let sa = get(&t, &format!("k8s/dev/serviceaccount-{}.yaml", pod["serviceAccountName"].as_str().expect("sa")));
    assert!(wave(sa) < wave(job) && sa["metadata"]["annotations"].get("argocd.argoproj.io/hook").is_none());
    for from in pod["containers"][0]["envFrom"].as_array().into_iter().flatten() {
        let cm = get(&t, &format!("k8s/dev/configmap-{}.yaml", from["configMapRef"]["name"].as_str().expect("cm")));
        assert!(wave(cm) < wave(job));
    }
    for env in pod["containers"][0]["env"].as_array().into_iter().flatten() {
        if let Some(secret) = env["valueFrom"]["secretKeyRef"]["name"].as_str() {
            let es = get(&t, &format!("k8s/dev/externalsecret-{secret}.yaml"));
            assert!(wave(es) < wave(job), "{secret} is produced before the migration");
        }
    }
    assert!(wave(get(&t, "k8s/dev/statefulset-db.yaml")) < wave(job));
    for (path, doc) in &t {
        if path.starts_with("k8s/dev/deployment-") || path.starts_with("k8s/dev/rollout-") {
            assert!(wave(doc) > wave(job), "{path} starts after the migration");
        }
    }
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["command"],
        serde_json::json!(["alembic", "upgrade", "head"])
    );
    let cj = get(&t, "k8s/dev/cronjob-db-backup.yaml");
    assert_eq!(cj["spec"]["schedule"], "30 2 * * *");
    let script =
        cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2].as_str().expect("script");
    // No pipeline can hide a failed dump, an empty dump never replaces the
    // good ones, and retention runs only after a good one.
    assert!(!script.replace("||", "").contains('|') || script.contains("pipefail"), "{script}");
    let check = script.find("test -s").expect("size check");
    assert!(check < script.find("-mtime +7 -delete").expect("retention"));
    let sts = get(&t, "k8s/dev/statefulset-db.yaml");
    assert_eq!(sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "20Gi");
    assert_eq!(get(&t, "k8s/dev/service-db.yaml")["spec"]["clusterIP"], "None");
}

#[test]
fn volumes_name_a_storage_class_the_output_defines_and_survive_app_deletion() {
    let t = tree();
    let classes: Vec<&str> = t
        .iter()
        .filter(|(p, _)| p.starts_with("k8s/_cluster/storageclass-"))
        .map(|(_, d)| d["metadata"]["name"].as_str().expect("name"))
        .collect();
    assert!(!classes.is_empty());
    let sts = get(&t, "k8s/dev/statefulset-db.yaml");
    let class = sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"].as_str().expect("class");
    assert!(classes.contains(&class));
    let pvc = get(&t, "k8s/dev/persistentvolumeclaim-db-backups.yaml");
    assert!(classes.contains(&pvc["spec"]["storageClassName"].as_str().expect("class")));
    assert_eq!(pvc["metadata"]["annotations"]["argocd.argoproj.io/sync-options"], "Delete=false");
    let ns = t.iter().find(|(p, _)| p.starts_with("k8s/dev/namespace-")).expect("namespace").1;
    assert_eq!(ns["metadata"]["annotations"]["argocd.argoproj.io/sync-options"], "Delete=false");
}

#[test]
fn a_config_change_rolls_the_pods() {
    let checksum = |text: &str| {
        let t = tree_of(text);
        let d = t.iter().find(|(p, _)| p.starts_with("k8s/dev/deployment-api")).expect("api").1.clone();
        d["spec"]["template"]["metadata"]["annotations"]["checksum/config"].as_str().expect("checksum").to_string()
    };
    let src = std::fs::read_to_string("tests/programs/shop.dpl").expect("shop");
    let changed = src.replacen("LOG_LEVEL = \"info\"", "LOG_LEVEL = \"debug\"", 1);
    assert_ne!(src, changed);
    assert_ne!(checksum(&src), checksum(&changed));
}

#[test]
fn argocd_syncs_automatic_environments_only() {
    let t = tree();
    let dev = get(&t, "argocd/application-shop-dev.yaml");
    assert_eq!(dev["spec"]["syncPolicy"]["automated"], serde_json::json!({"prune": true, "selfHeal": true}));
    assert_eq!(dev["spec"]["source"]["path"], "out/k8s/dev");
    assert_eq!(dev["spec"]["source"]["repoURL"], "https://github.com/acme/shop.git");
    let prod = get(&t, "argocd/application-shop-prod.yaml");
    assert!(prod["spec"]["syncPolicy"].get("automated").is_none());
    assert_eq!(prod["spec"]["destination"]["namespace"], "shop-prod");
}

#[test]
fn argocd_sync_settings_shape_the_sync_policy() {
    let src = std::fs::read_to_string("tests/programs/shop.dpl").expect("shop");
    let with = |gitops: &str| {
        let text = src.replacen(
            "  domain       = \"shop.example.dev\"",
            &format!("  domain       = \"shop.example.dev\"\n  gitops       = {gitops}"),
            1,
        );
        assert_ne!(text, src);
        tree_of(&text)
    };
    // Applications: the automatic environment heals and prunes as written;
    // every environment retries as often as written.
    let t = with("argocd { self_heal = false prune = false retry = 3 }");
    let dev = get(&t, "argocd/application-shop-dev.yaml");
    assert_eq!(dev["spec"]["syncPolicy"]["automated"], serde_json::json!({"prune": false, "selfHeal": false}));
    assert_eq!(dev["spec"]["syncPolicy"]["retry"]["limit"], 3);
    let prod = get(&t, "argocd/application-shop-prod.yaml");
    assert!(prod["spec"]["syncPolicy"].get("automated").is_none());
    assert_eq!(prod["spec"]["syncPolicy"]["retry"]["limit"], 3);
    // The defaults are today's: heal, prune, 10 retries.
    let t = tree();
    let dev = get(&t, "argocd/application-shop-dev.yaml");
    assert_eq!(dev["spec"]["syncPolicy"]["retry"]["limit"], 10);
    // An ApplicationSet: the template retries as written, and the patch that
    // automates the environments promoted on push carries the settings.
    let t = with("argocd { mode = applicationset self_heal = true prune = false retry = 0 }");
    let set = get(&t, "argocd/applicationset-shop.yaml");
    assert_eq!(set["spec"]["template"]["spec"]["syncPolicy"]["retry"]["limit"], 0);
    assert!(set["spec"]["template"]["spec"]["syncPolicy"].get("automated").is_none());
    let patch = set["spec"]["templatePatch"].as_str().expect("templatePatch");
    // Rendered for an automatic element (as ArgoCD's Go template would).
    let rendered: String = patch.lines().filter(|l| !l.starts_with("{{")).collect::<Vec<_>>().join("\n");
    let rendered: Value = serde_yaml_ng::from_str(&rendered).expect("patch yaml");
    assert_eq!(rendered["spec"]["syncPolicy"]["automated"], serde_json::json!({"prune": false, "selfHeal": true}));
    assert!(patch.starts_with("{{- if eq .autoSync \"true\" }}\n") && patch.ends_with("{{- end }}\n"));
}

#[test]
fn the_whole_tree_is_pinned_by_a_snapshot() {
    let c = common::compile_file("tests/programs/shop.dpl");
    let (model, graph) = c.output.expect("compiles");
    let mut all = String::new();
    for a in emit::emit(&Plan::new(&model, &graph, &Default::default()), Target::ALL) {
        if a.path.contains("/templates/") {
            // Copied verbatim from src/emit/helm/templates/: the path is enough.
            all.push_str(&format!("//// {} (verbatim)\n", a.path));
        } else {
            all.push_str(&format!("//// {}\n{}", a.path, a.contents));
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/emit");
    settings.bind(|| insta::assert_snapshot!("shop", all));
}

/// Seed 003's "1. Database backup, 2. Run migrations": the backup that must
/// precede the migration is a Job in the environment's folder, a Sync hook
/// one wave before the migration hook and after the database, whose pods
/// the backup network policy admits, and whose volume comes in its wave.
#[test]
fn the_pre_deploy_backup_is_a_hook_between_the_database_and_the_migration() {
    let dir = std::path::Path::new("examples/cicd-pipeline/out/k8s/production");
    let read =
        |f: &str| -> Value { serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join(f)).expect(f)).expect("yaml") };
    let backup = read("job-db-predeploy-backup.yaml");
    let migrate = read("job-backend-migrate.yaml");
    let db = read("statefulset-db.yaml");
    assert_eq!(backup["metadata"]["annotations"]["argocd.argoproj.io/hook"], "Sync");
    assert_eq!(backup["metadata"]["annotations"]["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation");
    assert!(wave(&db) < wave(&backup) && wave(&backup) < wave(&migrate));
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).expect("kustomization");
    assert!(kustomization.contains("- job-db-predeploy-backup.yaml"), "the Job is in git and in the kustomization");
    let pvc = read("persistentvolumeclaim-db-backups.yaml");
    assert_eq!(wave(&pvc), wave(&backup), "the claim binds for its first consumer");
    let labels = &backup["spec"]["template"]["metadata"]["labels"];
    let policy = read("networkpolicy-db.yaml");
    let admitted = serde_json::to_string(&policy["spec"]["ingress"]).expect("json");
    assert!(admitted.contains(labels["app.kubernetes.io/name"].as_str().expect("name")), "{admitted}");
    // The pipeline checks that hook after the sync, not a Job outside git.
    let cd = std::fs::read_to_string("examples/cicd-pipeline/out/.github/workflows/cd.yml").expect("cd.yml");
    assert!(cd.contains("JOB: db-predeploy-backup") && !cd.contains("create-job"));
}
