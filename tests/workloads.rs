//! Workload kinds and per-service strategy (`tests/programs/worker.dpl`): a
//! worker has no port, Service, probe of its own or ingress; a cron job is
//! a CronJob on the schedule written; a job runs once per release, after
//! the release is live; the API's own canary holds in an environment whose
//! strategy is rolling, and the worker never gets one. The Helm chart
//! renders the same objects (scripts/helm_equivalence.py, in CI).

mod common;
use deployc::emit::{self, Artifact, Target};
use deployc::plan::Plan;
use serde_json::Value;

fn output(targets: &[Target]) -> Vec<Artifact> {
    let c = common::compile_file("tests/programs/worker.dpl");
    assert!(c.diagnostics.items.is_empty(), "{}", common::render_all(&c));
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    emit::emit(&plan, targets)
}

fn doc(files: &[Artifact], path: &str) -> Value {
    let a = files.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{path} is emitted"));
    serde_yaml_ng::from_str(&a.contents).expect("yaml")
}

fn has(files: &[Artifact], path: &str) -> bool {
    files.iter().any(|a| a.path == path)
}

#[test]
fn a_worker_has_no_port_service_or_invented_probe() {
    let files = output(&[Target::K8s]);
    for env in ["dev", "prod"] {
        let d = doc(&files, &format!("k8s/{env}/deployment-worker.yaml"));
        let ct = &d["spec"]["template"]["spec"]["containers"][0];
        assert!(ct["ports"].is_null(), "{env}: a worker declares no container port");
        // Its own exec probe, nothing guessed.
        assert_eq!(ct["livenessProbe"]["exec"]["command"][2], "tasks.alive", "{env}");
        assert_eq!(ct["command"][2], "tasks.worker", "{env}");
        assert!(!has(&files, &format!("k8s/{env}/service-worker.yaml")), "{env}: no Service for a worker");
        assert!(!has(&files, &format!("k8s/{env}/servicemonitor-worker.yaml")), "{env}: nothing to scrape");
        // The network policy admits nothing, and lets it reach its dependencies.
        let np = doc(&files, &format!("k8s/{env}/networkpolicy-worker.yaml"));
        assert!(np["spec"]["ingress"].is_null(), "{env}: a worker admits no traffic");
        assert_eq!(np["spec"]["policyTypes"], serde_json::json!(["Egress"]), "{env}");
        let egress = serde_json::to_string(&np["spec"]["egress"]).unwrap();
        assert!(egress.contains("6379") && egress.contains("5432"), "{env}: egress to Redis and Postgres: {egress}");
    }
    // Production's replicas override applies, and a PDB guards them.
    assert_eq!(doc(&files, "k8s/prod/deployment-worker.yaml")["spec"]["replicas"], 3);
    assert!(has(&files, "k8s/prod/poddisruptionbudget-worker.yaml"));
}

#[test]
fn the_cron_job_runs_on_its_schedule_and_never_overlaps() {
    let files = output(&[Target::K8s]);
    let cj = doc(&files, "k8s/prod/cronjob-nightly.yaml");
    let spec = &cj["spec"];
    assert_eq!(spec["schedule"], "30 2 * * *");
    assert_eq!(spec["timeZone"], "Etc/UTC");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    assert_eq!(spec["jobTemplate"]["spec"]["activeDeadlineSeconds"], 1800, "deadline = 30m");
    assert_eq!(spec["jobTemplate"]["spec"]["backoffLimit"], 1, "retries = 1");
    assert!(spec["successfulJobsHistoryLimit"].as_i64().is_some_and(|n| n > 0));
    assert!(spec["failedJobsHistoryLimit"].as_i64().is_some_and(|n| n > 0));
    let pod = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert!(pod["containers"][0]["ports"].is_null());
    assert!(pod["containers"][0]["livenessProbe"].is_null());
    // It runs the image the worker's build pushes.
    assert_eq!(pod["containers"][0]["image"], "ghcr.io/acme/worker:main-initial");
    for kind in ["deployment", "rollout", "service", "horizontalpodautoscaler", "poddisruptionbudget"] {
        assert!(!has(&files, &format!("k8s/prod/{kind}-nightly.yaml")), "no {kind} for a cron job");
    }
}

#[test]
fn the_job_runs_once_per_release_after_it_is_live() {
    let files = output(&[Target::K8s]);
    let job = doc(&files, "k8s/prod/job-reindex.yaml");
    let ann = &job["metadata"]["annotations"];
    // PostSync: after every object of the sync (the workloads included) is healthy.
    assert_eq!(ann["argocd.argoproj.io/hook"], "PostSync");
    assert_eq!(ann["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation");
    assert_eq!(job["spec"]["backoffLimit"], 2);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 3600);
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    for kind in ["deployment", "rollout", "service", "horizontalpodautoscaler", "poddisruptionbudget"] {
        assert!(!has(&files, &format!("k8s/prod/{kind}-reindex.yaml")), "no {kind} for a job");
    }
    // The chart runs it as a hook after install and upgrade.
    let chart = output(&[Target::Helm]);
    let batch = chart.iter().find(|a| a.path.ends_with("templates/batch.yaml")).expect("batch template");
    assert!(batch.contents.contains("helm.sh/hook: post-install,post-upgrade"));
}

#[test]
fn the_api_keeps_its_own_canary_and_the_worker_rolls() {
    let files = output(&[Target::K8s]);
    // Production's own strategy is rolling; the API's canary replaces it.
    let r = doc(&files, "k8s/prod/rollout-api.yaml");
    let canary = &r["spec"]["strategy"]["canary"];
    assert_eq!(canary["canaryService"], "api-next");
    assert_eq!(canary["steps"][0]["setWeight"], 20);
    assert!(has(&files, "k8s/prod/service-api-next.yaml"));
    assert!(has(&files, "k8s/prod/analysistemplate-tasks-analysis.yaml"), "the API's analysis has its template");
    assert!(!has(&files, "k8s/prod/deployment-api.yaml"));
    // The worker rolls out with a rolling update, never a canary.
    let w = doc(&files, "k8s/prod/deployment-worker.yaml");
    assert_eq!(w["spec"]["strategy"]["type"], "RollingUpdate");
    assert!(!has(&files, "k8s/prod/rollout-worker.yaml"));
    // The HPA targets what the API's strategy makes.
    let hpa = doc(&files, "k8s/prod/horizontalpodautoscaler-api.yaml");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Rollout");
}

#[test]
fn ci_builds_the_images_jobs_and_workers_run() {
    let files = output(&[Target::Github]);
    let all: String = files.iter().map(|a| a.contents.as_str()).collect();
    assert!(all.contains("acme/worker"), "the worker's image is built");
    assert!(all.contains("acme/api"), "the API's image is built");
}

#[test]
fn the_api_has_named_ports_and_a_second_service_of_its_own_type() {
    let files = output(&[Target::K8s]);
    let r = doc(&files, "k8s/prod/rollout-api.yaml");
    let names: Vec<&str> = r["spec"]["template"]["spec"]["containers"][0]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["http", "grpc", "metrics"]);
    // The main Service stays ClusterIP (behind the Ingress) with every port.
    let main = doc(&files, "k8s/prod/service-api.yaml");
    assert_eq!(main["spec"]["type"], "ClusterIP");
    assert_eq!(main["spec"]["ports"].as_array().map(Vec::len), Some(3));
    // The partners' Service is a LoadBalancer serving gRPC only.
    let partners = doc(&files, "k8s/prod/service-api-partners.yaml");
    assert_eq!(partners["spec"]["type"], "LoadBalancer");
    assert_eq!(partners["spec"]["ports"][0]["name"], "grpc");
    assert_eq!(partners["spec"]["ports"][0]["appProtocol"], "grpc");
    assert_eq!(partners["spec"]["ports"].as_array().map(Vec::len), Some(1));
    assert_eq!(partners["spec"]["selector"]["app.kubernetes.io/name"], "api");
    // The canary Service has the chosen name, and the Rollout and its analysis use it.
    assert!(has(&files, "k8s/prod/service-api-next.yaml"));
    assert!(!has(&files, "k8s/prod/service-api-canary.yaml"));
    // Prometheus scrapes the metrics port.
    let sm = doc(&files, "k8s/prod/servicemonitor-api.yaml");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
    // The network policy admits every declared port, and the internet only on gRPC.
    let np = serde_json::to_string(&doc(&files, "k8s/prod/networkpolicy-api.yaml")["spec"]["ingress"]).unwrap();
    for port in ["3000", "50051", "9464"] {
        assert!(np.contains(port), "port {port} admitted: {np}");
    }
    let rules = doc(&files, "k8s/prod/networkpolicy-api.yaml")["spec"]["ingress"].clone();
    let public = rules
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["from"][0]["ipBlock"]["cidr"] == "0.0.0.0/0")
        .expect("a rule for the LoadBalancer");
    assert_eq!(public["ports"].as_array().map(Vec::len), Some(1));
    assert_eq!(public["ports"][0]["port"], 50051);
}

/// `storage_class` names the data volume's class in both targets; a
/// resource without it keeps the generated encrypted class, and backups
/// always do (tests/cases/pass/storage_class.dpl).
#[test]
fn storage_class_names_the_data_volume_in_both_targets() {
    let c = common::compile_file("tests/cases/pass/storage_class.dpl");
    assert!(c.diagnostics.items.is_empty(), "{}", common::render_all(&c));
    let (model, graph) = c.output.expect("model");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let files = emit::emit(&plan, &[Target::K8s, Target::Helm]);
    let class = |name: &str| {
        let s = doc(&files, &format!("k8s/dev/statefulset-{name}.yaml"));
        s["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"].clone()
    };
    assert_eq!(class("db"), "io2-encrypted");
    assert_eq!(class("cache"), "gp3-encrypted");
    let values = doc(&files, "helm/shop/values.yaml");
    let datastores = &values["datastores"];
    let (db, cache) = (&datastores["db"]["storageClass"], &datastores["cache"]["storageClass"]);
    assert_eq!((db.as_str(), cache.as_str()), (Some("io2-encrypted"), Some("gp3-encrypted")), "{values}");
    let template = files.iter().find(|a| a.path == "helm/shop/templates/datastore.yaml").expect("template");
    assert!(template.contents.contains("storageClassName: {{ $d.storageClass | quote }}"));
}
