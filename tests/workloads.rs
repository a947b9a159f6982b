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
    // Production's replica range applies (KEDA owns the count), and a PDB guards them.
    assert!(doc(&files, "k8s/prod/deployment-worker.yaml")["spec"]["replicas"].is_null());
    assert_eq!(doc(&files, "k8s/prod/scaledobject-worker.yaml")["spec"]["minReplicaCount"], 3);
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

#[test]
fn a_cpu_request_without_a_limit_keeps_the_memory_limit_and_says_why_checkov_is_skipped() {
    let files = output(&[Target::K8s]);
    for (path, request) in [("k8s/prod/deployment-worker.yaml", "50m"), ("k8s/prod/cronjob-nightly.yaml", "100m")] {
        let d = doc(&files, path);
        let pod =
            if d["kind"] == "CronJob" { &d["spec"]["jobTemplate"]["spec"]["template"] } else { &d["spec"]["template"] };
        let res = &pod["spec"]["containers"][0]["resources"];
        assert_eq!(res["requests"]["cpu"], request, "{path}");
        assert!(res["limits"].get("cpu").is_none(), "{path}: no cpu limit: {res}");
        assert_eq!(res["limits"]["memory"], "256Mi", "{path}: memory keeps its limit");
        let skips = serde_json::to_string(&d["metadata"]["annotations"]).unwrap();
        assert!(skips.contains("CKV_K8S_11="), "{path}: the cpu limit check is waived on this object: {skips}");
    }
    // The API writes no cpu, so it keeps the default limit and no waiver.
    let api = doc(&files, "k8s/prod/rollout-api.yaml");
    assert_eq!(api["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"], "500m");
    assert!(!serde_json::to_string(&api["metadata"]).unwrap().contains("CKV_K8S_11"));
}

#[test]
fn the_worker_scales_on_its_redis_list_through_keda_and_has_no_hpa() {
    let files = output(&[Target::K8s, Target::Argocd]);
    for (env, min, max) in [("dev", 2, 8), ("prod", 3, 12)] {
        let so = doc(&files, &format!("k8s/{env}/scaledobject-worker.yaml"));
        assert_eq!(so["apiVersion"], "keda.sh/v1alpha1");
        // It targets the worker's Deployment (rolling), within the replica range here.
        let target = &so["spec"]["scaleTargetRef"];
        assert_eq!((target["kind"].as_str(), target["name"].as_str()), (Some("Deployment"), Some("worker")), "{env}");
        assert!(has(&files, &format!("k8s/{env}/deployment-worker.yaml")));
        assert_eq!(
            (so["spec"]["minReplicaCount"].as_u64(), so["spec"]["maxReplicaCount"].as_u64()),
            (Some(min), Some(max))
        );
        let t = &so["spec"]["triggers"][0];
        assert_eq!(t["type"], "redis");
        assert_eq!(t["metadata"]["address"], format!("queue.tasks-{env}.svc.cluster.local:6379"));
        assert_eq!(t["metadata"]["listName"], "tasks");
        assert_eq!(t["metadata"]["listLength"], "20");
        // The trigger authentication it names exists and reads the Redis
        // password from the connection Secret the Redis itself uses.
        let auth = t["authenticationRef"]["name"].as_str().expect("authenticationRef");
        let ta = doc(&files, &format!("k8s/{env}/triggerauthentication-{auth}.yaml"));
        assert_eq!(ta["kind"], "TriggerAuthentication");
        assert_eq!(ta["spec"]["secretTargetRef"][0]["name"], "queue-connection");
        assert_eq!(ta["spec"]["secretTargetRef"][0]["parameter"], "password");
        let redis = doc(&files, &format!("k8s/{env}/statefulset-queue.yaml"));
        let redis_env = serde_json::to_string(&redis["spec"]["template"]["spec"]["containers"][0]["env"]).unwrap();
        assert!(redis_env.contains("queue-connection"), "{env}: {redis_env}");
        // No HPA of our own fights KEDA's; the API keeps its cpu HPA.
        assert!(!has(&files, &format!("k8s/{env}/horizontalpodautoscaler-worker.yaml")), "{env}");
        assert!(has(&files, &format!("k8s/{env}/horizontalpodautoscaler-api.yaml")), "{env}");
        // KEDA's operator may reach the Redis.
        let np = serde_json::to_string(&doc(&files, &format!("k8s/{env}/networkpolicy-queue.yaml"))["spec"]["ingress"])
            .unwrap();
        assert!(np.contains("keda-operator") && np.contains("\"keda\""), "{env}: {np}");
    }
    // The KEDA add-on is installed, pinned, before the environments.
    let addon =
        files.iter().find(|a| a.path.contains("argocd") && a.path.contains("keda")).expect("KEDA add-on application");
    assert!(
        addon.contents.contains("https://kedacore.github.io/charts") && addon.contents.contains("2.16.1"),
        "{}",
        addon.contents
    );
}

#[test]
fn a_kafka_consumer_scales_on_its_group_lag_at_the_in_cluster_bootstrap_service() {
    let text = r#"
project stream {
  repository = "github.com/acme/stream"
  registry   = ghcr { owner = "acme" }
}
resource events = kafka { version = "3.9.0" placement = in_cluster topics = ["orders"] }
service consumer {
  kind          = worker
  language      = python
  replicas      = 1..6
  health        = exec { command = ["python", "-m", "alive"] }
  queue_scaling { queue = events  list = "orders"  group = "billing"  per_replica = 50 }
}
environment dev { promote = on_push("main") }
"#;
    let c = deployc::compile("stream.dpl", text, &common::Disk);
    assert!(
        c.diagnostics.items.iter().all(|d| d.code.severity() != deployc::codes::Severity::Error),
        "{}",
        common::render_all(&c)
    );
    let (model, graph) = c.output.expect("model");
    let files = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s]);
    let so = doc(&files, "k8s/dev/scaledobject-consumer.yaml");
    assert_eq!(so["spec"]["scaleTargetRef"]["name"], "consumer");
    let t = &so["spec"]["triggers"][0];
    assert_eq!(t["type"], "kafka");
    assert_eq!(t["metadata"]["bootstrapServers"], "events-kafka-bootstrap.stream-dev.svc.cluster.local:9092");
    assert_eq!(
        (t["metadata"]["topic"].as_str(), t["metadata"]["consumerGroup"].as_str()),
        (Some("orders"), Some("billing"))
    );
    assert_eq!(t["metadata"]["lagThreshold"], "50");
    // A plain listener: no credentials, so no TriggerAuthentication.
    assert!(t["authenticationRef"].is_null());
    assert!(!files.iter().any(|a| a.path.contains("triggerauthentication")));
    assert!(!has(&files, "k8s/dev/horizontalpodautoscaler-consumer.yaml"));
    let np = serde_json::to_string(&doc(&files, "k8s/dev/networkpolicy-events.yaml")["spec"]["ingress"]).unwrap();
    assert!(np.contains("keda-operator"), "{np}");
}

#[test]
fn sqs_scaling_on_two_clusters_gives_each_operator_a_role_on_its_own_queues() {
    let text = r#"
project shop {
  repository   = "github.com/acme/shop"
  registry     = ghcr { owner = "acme" }
  cloud        = aws { region = "us-east-1" account = "123456789012" }
  secret_store = aws_secrets_manager { region = "us-east-1" }
}
resource jobs = queue { dead_letter = true }
service worker {
  kind          = worker
  language      = go
  health        = exec { command = ["/app/alive"] }
  replicas      = 1..20
  queue_scaling { queue = jobs  per_replica = 10 }
  env { JOBS_QUEUE = jobs.url }
}
environment dev {
  promote = on_push("main")
  cluster = "dev"
}
environment prod {
  promote    = manual(from = dev)
  production = true
  cluster    = "prod"
}
"#;
    let c = deployc::compile("shop.dpl", text, &common::Disk);
    assert!(
        c.diagnostics.items.iter().all(|d| d.code.severity() != deployc::codes::Severity::Error),
        "{}",
        common::render_all(&c)
    );
    let (model, graph) = c.output.expect("model");
    let files =
        emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::K8s, Target::Argocd, Target::Terraform]);
    for env in ["dev", "prod"] {
        let so = doc(&files, &format!("k8s/{env}/scaledobject-worker.yaml"));
        let t = &so["spec"]["triggers"][0];
        assert_eq!(t["type"], "aws-sqs-queue");
        assert_eq!(
            t["metadata"]["queueURL"],
            format!("https://sqs.us-east-1.amazonaws.com/123456789012/shop-{env}-jobs")
        );
        assert_eq!(t["metadata"]["queueLength"], "10");
        assert_eq!(t["metadata"]["awsRegion"], "us-east-1");
        assert!(!has(&files, &format!("k8s/{env}/horizontalpodautoscaler-worker.yaml")), "{env}");
        // Each cluster's operator may read its own environment's queue only.
        let irsa = files
            .iter()
            .find(|a| a.path == format!("terraform/clusters/{env}/irsa.tf.json"))
            .expect("the cluster's roles");
        let v: Value = serde_json::from_str(&irsa.contents).expect("json");
        let role = &v["resource"]["aws_iam_role"]["keda_operator"];
        assert_eq!(role["name"], format!("shop-{env}-eks-keda-operator"));
        let resources = &v["data"]["aws_iam_policy_document"]["keda_operator"]["statement"][0]["resources"];
        assert_eq!(
            resources,
            &serde_json::json!([format!(
                "arn:${{local.partition}}:sqs:${{var.region}}:${{local.account_id}}:shop-{env}-jobs"
            )])
        );
        // Its KEDA add-on names that role.
        let app = doc(&files, &format!("argocd/addons/application-shop-keda-{env}.yaml"));
        let values: Value =
            serde_yaml_ng::from_str(app["spec"]["source"]["helm"]["values"].as_str().expect("values")).expect("yaml");
        assert_eq!(
            values["podIdentity"]["aws"]["irsa"]["roleArn"],
            format!("arn:aws:iam::123456789012:role/shop-{env}-eks-keda-operator")
        );
    }
}
