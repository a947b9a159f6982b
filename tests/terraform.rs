//! The Terraform target: every reference resolves inside its own module,
//! and what is emitted follows the model (placement per environment, ECR
//! only for ECR, security groups and IAM roles along the dependency graph,
//! secrets by name only).

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Every artifact of `targets` for a program, parsed, by path.
fn build(path: &str, targets: &[Target]) -> BTreeMap<String, Value> {
    let c = common::compile_file(path);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("{path} compiles: {errs:?}"));
    emit::emit(&Plan::new(&model, &graph, &Default::default()), targets)
        .into_iter()
        .filter(|a| !a.path.ends_with(".md"))
        .map(|a| {
            let v: Value = if a.path.ends_with(".json") {
                serde_json::from_str(&a.contents).unwrap_or_else(|e| panic!("{}: {e}", a.path))
            } else {
                serde_yaml_ng::from_str(&a.contents).unwrap_or_else(|e| panic!("{}: {e}", a.path))
            };
            (a.path, v)
        })
        .collect()
}

fn infra() -> BTreeMap<String, Value> {
    build("tests/programs/infra.dpl", &[Target::Terraform, Target::K8s])
}

/// The blocks of one module merged over its files: `kind` → type → name → body.
fn module(tree: &BTreeMap<String, Value>, dir: &str) -> BTreeMap<String, serde_json::Map<String, Value>> {
    let mut out: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for (path, v) in tree.range(format!("{dir}/")..) {
        if !path.starts_with(&format!("{dir}/")) {
            break;
        }
        for (kind, blocks) in v.as_object().into_iter().flatten() {
            let entry = out.entry(kind.clone()).or_default();
            for (k, b) in blocks.as_object().into_iter().flatten() {
                match (entry.get_mut(k), b) {
                    // resource and data: merge the names of one type across files
                    (Some(Value::Object(have)), Value::Object(more)) if kind == "resource" || kind == "data" => {
                        for (n, body) in more {
                            assert!(have.insert(n.clone(), body.clone()).is_none(), "{dir}: {k}.{n} defined twice");
                        }
                    }
                    (Some(_), _) => panic!("{dir}: {kind} {k} defined twice"),
                    (None, _) => {
                        entry.insert(k.clone(), b.clone());
                    }
                }
            }
        }
    }
    out
}

fn block<'a>(
    m: &'a BTreeMap<String, serde_json::Map<String, Value>>,
    kind: &str,
    ty: &str,
    name: &str,
) -> Option<&'a Value> {
    m.get(kind)?.get(ty)?.get(name)
}

/// The root module folders of a tree.
fn modules(tree: &BTreeMap<String, Value>) -> BTreeSet<String> {
    tree.keys()
        .filter(|p| p.starts_with("terraform/") && p.ends_with(".tf.json"))
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
        .collect()
}

/// Every string in a JSON value, with the key it sits under.
fn strings<'a>(v: &'a Value, key: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
    match v {
        Value::String(s) => out.push((key, s)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, key, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| strings(x, k, out)),
        _ => {}
    }
}

/// The `${...}` interpolations of a string (outermost only).
fn interpolations(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            let start = i + 2;
            let mut depth = 1;
            let mut j = start;
            while j < bytes.len() && depth > 0 {
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            out.push(&s[start..j.saturating_sub(1)]);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The references an expression makes: `aws_x.name`, `data.t.name`, `local.x`, `var.x`.
fn references(e: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = Vec::new();
    let chars: Vec<char> = e.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !(ident(chars[i - 1]) || chars[i - 1] == '.' || chars[i - 1] == ':');
        if boundary && chars[i].is_ascii_alphabetic() {
            let mut j = i;
            // identifiers separated by dots
            let mut parts = vec![String::new()];
            while j < chars.len() && (ident(chars[j]) || chars[j] == '.') {
                if chars[j] == '.' {
                    parts.push(String::new());
                } else if let Some(p) = parts.last_mut() {
                    p.push(chars[j]);
                }
                j += 1;
            }
            let take = match parts[0].as_str() {
                "data" if parts.len() >= 3 => Some(3),
                "local" | "var" if parts.len() >= 2 => Some(2),
                p if ["aws_", "google_", "random_"].iter().any(|c| p.starts_with(c)) && parts.len() >= 2 => Some(2),
                _ => None,
            };
            if let Some(n) = take {
                out.push(parts[..n].join("."));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn defined(m: &BTreeMap<String, serde_json::Map<String, Value>>) -> BTreeSet<String> {
    let mut d = BTreeSet::new();
    for (kind, prefix) in [("resource", ""), ("data", "data.")] {
        for (ty, names) in m.get(kind).into_iter().flatten() {
            for n in names.as_object().into_iter().flatten().map(|(n, _)| n) {
                d.insert(format!("{prefix}{ty}.{n}"));
            }
        }
    }
    for (kind, prefix) in [("locals", "local."), ("variable", "var.")] {
        for k in m.get(kind).into_iter().flatten().map(|(k, _)| k) {
            d.insert(format!("{prefix}{k}"));
        }
    }
    d
}

/// Checks one tree: every reference in every module points at a block the
/// same module defines; returns how many references were checked.
fn check_references(tree: &BTreeMap<String, Value>) -> usize {
    let mut checked = 0;
    for dir in modules(tree) {
        let m = module(tree, &dir);
        let defs = defined(&m);
        for (path, v) in tree.range(format!("{dir}/")..).take_while(|(p, _)| p.starts_with(&format!("{dir}/"))) {
            let mut all = Vec::new();
            strings(v, "", &mut all);
            for (key, s) in all {
                let refs: Vec<String> = if key == "depends_on" {
                    vec![s.to_string()]
                } else {
                    interpolations(s).into_iter().flat_map(references).collect()
                };
                for r in refs {
                    assert!(defs.contains(&r), "{path}: `{r}` in {s:?} is not defined in {dir}");
                    checked += 1;
                }
            }
        }
    }
    checked
}

#[test]
fn reference_scanner_finds_what_it_should() {
    assert_eq!(
        references("aws_nat_gateway.main[count.index % local.nat_gateways].id"),
        vec!["aws_nat_gateway.main", "local.nat_gateways"]
    );
    assert_eq!(references("data.aws_lb.ingress[0].dns_name"), vec!["data.aws_lb.ingress"]);
    assert_eq!(references("replace(x, \"https://\", \"\")"), Vec::<String>::new());
    assert_eq!(interpolations("${local.name}-${local.azs[count.index]}"), vec!["local.name", "local.azs[count.index]"]);
    let nested = "jsonencode({\"a\": \"arn:${local.partition}:iam\"})";
    assert_eq!(interpolations(&format!("${{{nested}}}")), vec![nested]);
    assert_eq!(references(nested), vec!["local.partition"]);
}

#[test]
fn a_dangling_reference_is_caught() {
    let tree = BTreeMap::from([(
        "terraform/x/main.tf.json".to_string(),
        serde_json::json!({
            "locals": { "name": "x" },
            "resource": { "aws_vpc": { "main": { "tags": { "Name": "${local.name}" } } },
                          "aws_subnet": { "a": { "vpc_id": "${aws_vpc.other.id}" } } }
        }),
    )]);
    let r = std::panic::catch_unwind(|| check_references(&tree));
    assert!(r.is_err(), "aws_vpc.other is not defined");
    let ok = BTreeMap::from([(
        "terraform/x/main.tf.json".to_string(),
        serde_json::json!({ "resource": { "aws_vpc": { "main": {} }, "aws_subnet": { "a": { "vpc_id": "${aws_vpc.main.id}", "depends_on": ["aws_vpc.main"] } } } }),
    )]);
    assert_eq!(check_references(&ok), 2);
}

#[test]
fn every_reference_points_into_its_own_module() {
    let mut total = check_references(&infra());
    total += check_references(&build("tests/programs/gcp.dpl", &[Target::Terraform]));
    total += check_references(&build("tests/programs/azure.dpl", &[Target::Terraform]));
    for name in ["austa-cockpit", "cicd-pipeline", "healthcare-devops", "healthcp", "platform-microservices"] {
        total += check_references(&build(&format!("examples/{name}.dpl"), &[Target::Terraform]));
    }
    assert!(total > 1000, "the scanner found only {total} references");
}

#[test]
fn placement_decides_managed_or_in_cluster_per_environment() {
    let t = infra();
    let dev = module(&t, "terraform/dev");
    let prod = module(&t, "terraform/prod");
    // db: in the cluster in dev, RDS in prod (with its replica and backups)
    assert!(block(&dev, "resource", "aws_db_instance", "db").is_none());
    assert!(t.contains_key("k8s/dev/statefulset-db.yaml"));
    let db = block(&prod, "resource", "aws_db_instance", "db").expect("RDS in prod");
    assert!(!t.contains_key("k8s/prod/statefulset-db.yaml"));
    assert_eq!(db["engine"], "postgres");
    assert_eq!(db["storage_encrypted"], true);
    assert_eq!(db["backup_retention_period"], 14);
    assert_eq!(block(&prod, "resource", "aws_db_instance", "db_replica").expect("replica")["count"], 1);
    assert_eq!(
        block(&prod, "resource", "aws_backup_plan", "db").expect("plan")["rule"][0]["lifecycle"]["delete_after"],
        14
    );
    // docs: MongoDB in the cluster by default, DocumentDB where managed
    assert!(block(&dev, "resource", "aws_docdb_cluster", "docs").is_none());
    assert!(block(&prod, "resource", "aws_docdb_cluster", "docs").is_some());
    // Aurora when declared
    assert_eq!(block(&prod, "resource", "aws_rds_cluster", "spare").expect("aurora")["engine"], "aurora-postgresql");
    // redis in cluster mode, managed everywhere
    for m in [&dev, &prod] {
        let r = block(m, "resource", "aws_elasticache_replication_group", "cache").expect("redis");
        assert_eq!(r["cluster_mode"], "enabled");
        assert_eq!(r["transit_encryption_enabled"], true);
    }
    // queues are always managed: FIFO with its dead-letter queue
    let q = block(&dev, "resource", "aws_sqs_queue", "jobs").expect("queue");
    // Named by the plan, as the pods' `name` and KEDA's trigger name it.
    assert_eq!(q["name"], "infra-dev-jobs.fifo");
    assert_eq!(
        block(&dev, "resource", "aws_sqs_queue", "jobs_dead_letter").expect("dlq")["name"],
        "infra-dev-jobs-dead-letter.fifo"
    );
    assert!(q["redrive_policy"].as_str().expect("redrive").contains("aws_sqs_queue.jobs_dead_letter.arn"));
}

#[test]
fn ecr_repositories_only_for_an_ecr_registry() {
    let t = infra();
    let shared = module(&t, "terraform/shared");
    let repos = shared["resource"]["aws_ecr_repository"].as_object().expect("repositories");
    assert_eq!(repos.keys().collect::<Vec<_>>(), vec!["api", "web", "worker"]);
    for r in repos.values() {
        assert_eq!(r["image_tag_mutability"], "IMMUTABLE");
        assert_eq!(r["image_scanning_configuration"]["scan_on_push"], true);
    }
    // shop pushes to GHCR: no repository anywhere (the shared module holds
    // only GitHub's OIDC provider)
    let shop = build("tests/programs/shop.dpl", &[Target::Terraform]);
    assert!(!shop.keys().any(|k| k.starts_with("terraform/shared/ecr")));
    assert!(!shop.values().any(|v| v.get("resource").and_then(|r| r.get("aws_ecr_repository")).is_some()));
    assert!(shop.keys().any(|k| k.starts_with("terraform/clusters/") && k.ends_with("/eks.tf.json")));
}

#[test]
fn security_groups_and_roles_follow_the_graph() {
    let t = infra();
    let dev = module(&t, "terraform/dev");
    let prod = module(&t, "terraform/prod");
    // the cache is used by api only; the rule admits the cluster on its port
    let rule = block(&prod, "resource", "aws_vpc_security_group_ingress_rule", "cache_from_cluster").expect("rule");
    assert_eq!(rule["from_port"], 6379);
    assert_eq!(rule["description"], "redis from the cluster, for api");
    // `spare` is used by nobody: its group admits nothing
    assert!(block(&prod, "resource", "aws_security_group", "spare").is_some());
    assert!(block(&prod, "resource", "aws_vpc_security_group_ingress_rule", "spare_from_cluster").is_none());
    // IRSA: worker reaches its queue and bucket; it is not deployed in dev
    let worker = block(&prod, "data", "aws_iam_policy_document", "service_worker").expect("worker policy");
    let text = worker.to_string();
    assert!(text.contains("aws_sqs_queue.jobs.arn") && text.contains("aws_s3_bucket.files.arn"));
    assert!(!text.contains("elasticache"));
    assert!(block(&dev, "resource", "aws_iam_role", "service_worker").is_none());
    // api connects to the IAM-authenticated cache; web uses no cloud API
    let api = block(&prod, "data", "aws_iam_policy_document", "service_api").expect("api policy").to_string();
    assert!(api.contains("elasticache:Connect") && !api.contains("sqs:"));
    assert!(block(&prod, "resource", "aws_iam_role", "service_web").is_none());
    let trust = block(&prod, "data", "aws_iam_policy_document", "service_api_assume").expect("trust");
    assert_eq!(trust["statement"][0]["condition"][0]["values"][0], "system:serviceaccount:${local.namespace}:api");
    assert_eq!(prod["locals"]["namespace"], "infra-prod");
}

#[test]
fn secrets_manager_entries_are_the_names_external_secrets_read() {
    let t = infra();
    for env in ["dev", "prod"] {
        let m = module(&t, &format!("terraform/{env}"));
        let prefix = m["locals"]["store_prefix"].as_str().expect("prefix").to_string();
        let mut tf: Vec<String> = m["resource"]["aws_secretsmanager_secret"]
            .as_object()
            .expect("secrets")
            .values()
            .map(|s| s["name"].as_str().expect("name").replace("${local.store_prefix}", &prefix))
            .collect();
        let mut k8s: Vec<String> = t
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("k8s/{env}/externalsecret-")))
            .map(|(_, v)| v["spec"]["dataFrom"][0]["extract"]["key"].as_str().expect("key").to_string())
            .collect();
        tf.sort();
        k8s.sort();
        assert_eq!(tf, k8s, "{env}");
        assert!(tf.contains(&format!("acme/{env}/jwt")));
        // the role the ServiceAccount annotation names
        let role = block(&m, "resource", "aws_iam_role", "external_secrets").expect("role");
        assert_eq!(role["name"], "${local.name}-external-secrets");
        assert_eq!(m["locals"]["name"], format!("infra-{env}"));
        let sa = &t[&format!("k8s/{env}/serviceaccount-infra-secrets.yaml")];
        assert_eq!(
            sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            format!("arn:aws:iam::123456789012:role/infra-{env}-external-secrets")
        );
    }
}

#[test]
fn no_secret_values_anywhere() {
    let mut trees = vec![infra()];
    for name in ["austa-cockpit", "platform-microservices"] {
        trees.push(build(&format!("examples/{name}.dpl"), &[Target::Terraform]));
    }
    let forbidden = ["password", "master_password", "auth_token", "passwords", "secret_binary"];
    for t in &trees {
        for (path, v) in t.iter().filter(|(p, _)| p.starts_with("terraform/")) {
            fn walk(v: &Value, path: &str, forbidden: &[&str]) {
                if let Value::Object(o) = v {
                    for (k, x) in o {
                        // A password field holds only a password Terraform
                        // generates at apply time, never a literal.
                        if forbidden.contains(&k.as_str()) {
                            let generated = |v: &Value| {
                                v.as_str().is_some_and(|s| {
                                    s.starts_with("${data.aws_secretsmanager_random_password.")
                                        && s.ends_with(".random_password}")
                                })
                            };
                            let ok = match x {
                                Value::Array(items) => !items.is_empty() && items.iter().all(generated),
                                other => generated(other),
                            };
                            assert!(ok, "{path}: `{k}` would hold a secret value: {x}");
                            continue;
                        }
                        // A secret version is written only from values Terraform
                        // makes at apply time (a generated password, an endpoint),
                        // never from a literal in the output.
                        if k == "secret_string" {
                            let s = x.as_str().unwrap_or_default();
                            assert!(s.starts_with("${") && s.ends_with('}'), "{path}: literal secret_string {s}");
                            assert!(
                                [
                                    "aws_secretsmanager_random_password",
                                    "bootstrap_brokers",
                                    "aws_sqs_queue.",
                                    "aws_s3_bucket."
                                ]
                                .iter()
                                .any(|source| s.contains(source)),
                                "{path}: secret_string from an unexpected source: {s}"
                            );
                        }
                        walk(x, path, forbidden);
                    }
                } else if let Value::Array(a) = v {
                    a.iter().for_each(|x| walk(x, path, forbidden));
                }
            }
            walk(v, path, &forbidden);
        }
    }
}

#[test]
fn dns_records_for_each_ingress_host_alias_the_load_balancer() {
    let t = infra();
    let prod = module(&t, "terraform/prod");
    let records = prod["resource"]["aws_route53_record"].as_object().expect("records");
    let names: BTreeSet<&str> = records.values().map(|r| r["name"].as_str().expect("name")).collect();
    assert_eq!(names, BTreeSet::from(["api.infra-prod.infra.example.dev", "infra-prod.infra.example.dev"]));
    for r in records.values() {
        assert_eq!(r["alias"]["name"], "${data.aws_lb.ingress[0].dns_name}");
    }
    assert_eq!(prod["data"]["aws_route53_zone"]["main"]["name"], "infra.example.dev");
}

#[test]
fn cluster_settings_come_from_the_aws_block() {
    let t = infra();
    // dev and prod name no cluster: both run on the one cluster `main`
    let main = module(&t, "terraform/clusters/main");
    let var = |n: &str| main["variable"][n]["default"].clone();
    assert_eq!(var("kubernetes_version"), "1.32");
    assert_eq!(var("node_instance_types"), serde_json::json!(["m7i.large"]));
    assert_eq!(var("node_min_size"), 3);
    assert_eq!(var("node_max_size"), 9);
    assert_eq!(var("vpc_cidr"), "10.0.0.0/16");
    assert_eq!(main["locals"]["azs"], serde_json::json!(["eu-west-1a", "eu-west-1b"]));
    let eks = block(&main, "resource", "aws_eks_cluster", "main").expect("cluster");
    assert_eq!(eks["vpc_config"]["endpoint_public_access"], false);
    let versions = &t["terraform/prod/versions.tf.json"];
    assert_eq!(versions["terraform"]["required_providers"]["aws"]["version"], "~> 5.0");
    assert_eq!(versions["terraform"]["backend"]["s3"]["key"], "prod/terraform.tfstate");
    // a production environment runs on it: one NAT gateway per zone
    assert_eq!(main["locals"]["nat_gateways"], "${length(local.azs)}");
    // the environments create no cluster and no VPC; they look theirs up
    for env in ["dev", "prod"] {
        let m = module(&t, &format!("terraform/{env}"));
        assert!(block(&m, "resource", "aws_eks_cluster", "main").is_none());
        assert!(block(&m, "resource", "aws_vpc", "main").is_none());
        assert_eq!(m["variable"]["cluster_name"]["default"], "infra-main-eks");
    }
}

#[test]
fn environments_naming_clusters_get_one_cluster_each_with_distinct_ranges() {
    let text = r#"
project p { repository = "github.com/acme/p" registry = ecr { region = "us-east-1" account = "123456789012" } }
service api { language = go port = 8080 }
environment dev { promote = on_push("main") cluster = "nonprod" }
environment qa { promote = manual(from = dev) cluster = "nonprod" }
environment prod { promote = manual(from = qa) cluster = "prod" }
"#;
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    let opts = Default::default();
    let plan = Plan::new(&model, &graph, &opts);
    let keys: Vec<(&str, bool, Option<&str>)> =
        plan.topology.clusters.iter().map(|c| (c.key.as_str(), c.hub, c.cidr.as_deref())).collect();
    assert_eq!(keys, vec![("nonprod", false, Some("10.0.0.0/16")), ("prod", true, Some("10.1.0.0/16"))]);
    let tree: BTreeMap<String, Value> = emit::emit(&plan, &[Target::Terraform, Target::Argocd])
        .into_iter()
        .filter(|a| a.path.ends_with(".json") || a.path.ends_with(".yaml"))
        .map(|a| {
            let v = if a.path.ends_with(".json") {
                serde_json::from_str(&a.contents).expect("JSON")
            } else {
                serde_yaml_ng::from_str(&a.contents).expect("YAML")
            };
            (a.path.clone(), v)
        })
        .collect();
    let eks: Vec<&String> = tree.keys().filter(|k| k.ends_with("/eks.tf.json")).collect();
    assert_eq!(eks, vec!["terraform/clusters/nonprod/eks.tf.json", "terraform/clusters/prod/eks.tf.json"]);
    // the hub (prod) runs ArgoCD; nonprod grants it access and peers with it
    let nonprod = module(&tree, "terraform/clusters/nonprod");
    assert!(block(&nonprod, "resource", "aws_eks_access_entry", "argocd").is_some());
    assert!(block(&nonprod, "resource", "aws_vpc_peering_connection", "hub").is_some());
    let prod = module(&tree, "terraform/clusters/prod");
    assert!(block(&prod, "resource", "aws_iam_role", "argocd").is_some());
    assert_eq!(
        tree["argocd/application-p-prod.yaml"]["spec"]["destination"]["server"],
        "https://kubernetes.default.svc"
    );
    assert_eq!(tree["argocd/application-p-dev.yaml"]["spec"]["destination"]["name"], "p-nonprod-eks");
    check_references(&tree.into_iter().filter(|(k, _)| k.starts_with("terraform/")).collect());
}

#[test]
fn service_roles_have_the_names_the_kubernetes_side_can_annotate() {
    let c = common::compile_file("tests/programs/infra.dpl");
    let (model, _) = c.output.expect("compiles");
    let t = infra();
    let prod = module(&t, "terraform/prod");
    let role = block(&prod, "resource", "aws_iam_role", "service_worker").expect("role");
    let name =
        role["name"].as_str().expect("name").replace("${local.name}", prod["locals"]["name"].as_str().expect("local"));
    let env = model.environments.iter().find(|e| e.name == "prod").expect("prod");
    assert_eq!(name, deployc::emit::terraform::service_role_name(&model, env, "worker"));
}

#[test]
fn an_environment_named_shared_does_not_collide_with_the_shared_module() {
    let text = r#"
project p { repository = "github.com/acme/p" registry = ecr { region = "us-east-1" account = "123456789012" } }
service api { language = go port = 8080 }
environment shared { promote = on_push("main") }
"#;
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    let paths: Vec<String> = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Terraform])
        .into_iter()
        .map(|a| a.path)
        .collect();
    assert!(paths.contains(&"terraform/_shared/ecr.tf.json".to_string()));
    assert!(paths.contains(&"terraform/shared/main.tf.json".to_string()));
    assert!(paths.contains(&"terraform/clusters/main/eks.tf.json".to_string()));
    let unique: BTreeSet<&String> = paths.iter().collect();
    assert_eq!(unique.len(), paths.len());
}

/// Every string of a tree, wherever it sits.
fn all_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| all_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| all_strings(i, out)),
        _ => {}
    }
}

#[test]
fn program_strings_cannot_inject_terraform_expressions() {
    let text = r#"
project p {
  repository = "github.com/acme/p"
  registry   = ecr { region = "us-east-1" account = "123456789012" }
  team       = "t%{ if true }x%{ endif }"
}
resource db = postgres { database = "x\${file(\"/etc/passwd\")}" }
service api { language = go port = 8080 env { DATABASE_URL = db.url } }
environment dev { promote = on_push("main") }
"#;
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    let tree: BTreeMap<String, Value> =
        emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Terraform])
            .into_iter()
            .filter(|a| a.path.ends_with(".json"))
            .map(|a| (a.path.clone(), serde_json::from_str(&a.contents).expect("JSON")))
            .collect();
    let mut strings = Vec::new();
    tree.values().for_each(|v| all_strings(v, &mut strings));
    assert!(strings.contains(&"x$${file(\"/etc/passwd\")}"), "the database name is written as an inert literal");
    assert!(strings.iter().any(|s| s.contains("t%%{ if true }x%%{ endif }")), "directives are escaped too");
    for s in strings {
        assert!(!s.replace("$${", "").contains("${file("), "live expression in {s:?}");
        assert!(!s.replace("%%{", "").contains("%{"), "live directive in {s:?}");
    }
    // The module's own references still resolve, escaped text is not read as one.
    check_references(&tree);
}

#[test]
fn literal_escapes_interpolations_and_directives_only() {
    use deployc::emit::terraform::literal;
    assert_eq!(literal("a${b}c%{d}$e%f{"), "a$${b}c%%{d}$e%f{");
    assert_eq!(literal("plain"), "plain");
}

#[test]
fn in_cluster_database_credentials_are_generated_once_by_terraform() {
    let t = infra();
    let dev = module(&t, "terraform/dev");
    let version = block(&dev, "resource", "aws_secretsmanager_secret_version", "db_connection").expect("version");
    let s = version["secret_string"].as_str().expect("expression");
    assert!(s.contains("data.aws_secretsmanager_random_password.db_connection.random_password"), "{s}");
    assert!(s.contains("@db.infra-dev.svc.cluster.local:5432/"), "{s}");
    // Written once: the database is initialised with the first password.
    assert_eq!(version["lifecycle"]["ignore_changes"], serde_json::json!(["secret_string"]));
    assert!(block(&dev, "data", "aws_secretsmanager_random_password", "db_connection").is_some());
}

#[test]
fn alb_hosts_get_an_acm_certificate_the_controller_can_find() {
    let t = build("examples/platform-microservices.dpl", &[Target::Terraform, Target::K8s]);
    let prod = module(&t, "terraform/production");
    let cert = block(&prod, "resource", "aws_acm_certificate", "ingress").expect("certificate");
    assert_eq!(cert["validation_method"], "DNS");
    let mut covered: Vec<String> = vec![cert["domain_name"].as_str().expect("name").to_string()];
    covered.extend(
        cert["subject_alternative_names"]
            .as_array()
            .expect("sans")
            .iter()
            .map(|v| v.as_str().expect("san").to_string()),
    );
    // Every ALB Ingress host of the environment is covered, so the controller
    // finds an issued certificate for its HTTPS listener.
    for (path, v) in t.iter().filter(|(p, _)| p.starts_with("k8s/production/ingress-")) {
        if v["spec"]["ingressClassName"] == "alb" {
            for rule in v["spec"]["rules"].as_array().expect("rules") {
                let host = rule["host"].as_str().expect("host");
                assert!(covered.iter().any(|c| c == host), "{path}: {host} has no certificate");
            }
        }
    }
}

#[test]
fn a_quote_in_a_database_name_stays_inside_the_generated_url() {
    let text = r#"
project p {
  repository   = "github.com/acme/p"
  registry     = ecr { region = "us-east-1" account = "123456789012" }
  secret_store = aws_secrets_manager { region = "us-east-1" }
}
resource db = postgres { placement = in_cluster database = "x\", evil = file(\"/etc/passwd\"), y = \"" }
service api { language = go port = 8080 env { DATABASE_URL = db.url } }
environment dev { promote = on_push("main") }
"#;
    let c = deployc::compile("p.dpl", text, &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    let files = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Terraform]);
    let secrets = files.iter().find(|a| a.path == "terraform/dev/secrets.tf.json").expect("secrets");
    let v: Value = serde_json::from_str(&secrets.contents).expect("JSON");
    let s = v["resource"]["aws_secretsmanager_secret_version"]["db_connection"]["secret_string"].as_str().expect("s");
    // The URL literal runs from `url = "` to the first unescaped quote, which
    // must be the one that closes it: nothing of the name becomes HCL.
    let start = s.find("url = \"").expect("url") + "url = \"".len();
    let bytes = s.as_bytes();
    let mut i = start;
    while bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    assert_eq!(&s[i..], "\"})}", "the URL literal closes only at its end: {s}");
    assert!(s[start..i].contains("file(\\\"/etc/passwd\\\")"), "{s}");
}

/// Every key a pod reads from a resource's connection secret is written by
/// Terraform into the Secrets Manager entry External Secrets extracts, for
/// managed resources (endpoints Terraform knows) and in-cluster ones
/// (generated credentials): no ExternalSecret waits on an empty entry.
#[test]
fn every_connection_key_a_pod_reads_is_written_by_terraform() {
    let t = infra();
    let mut checked = 0;
    for env in ["dev", "prod"] {
        let m = module(&t, &format!("terraform/{env}"));
        let versions = m["resource"]["aws_secretsmanager_secret_version"].as_object().expect("secret versions");
        let mut refs = BTreeSet::new();
        for (path, doc) in t.iter().filter(|(p, _)| p.starts_with(&format!("k8s/{env}/"))) {
            let mut stack = vec![doc];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Object(o) => {
                        if let Some(r) = o.get("secretKeyRef") {
                            let (name, key) = (r["name"].as_str().expect("name"), r["key"].as_str().expect("key"));
                            if name.ends_with("-connection") {
                                refs.insert((name.to_string(), key.to_string(), path.clone()));
                            }
                        }
                        stack.extend(o.values());
                    }
                    Value::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
        }
        assert!(!refs.is_empty(), "{env}: no connection secrets read");
        for (name, key, path) in refs {
            let id = name.replace('-', "_");
            let version = versions.get(&id).unwrap_or_else(|| panic!("{env}: nothing writes {name}, read by {path}"));
            let s = version["secret_string"].as_str().expect("secret_string");
            // jsonencode of a JSON object (`"key":`) or of an HCL one (`key =`).
            let has =
                [format!("\"{key}\":"), format!("({{{key} ="), format!(", {key} =")].iter().any(|p| s.contains(p));
            assert!(has, "{env}: {name} has no key {key} (read by {path}): {s}");
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} keys checked");
}

/// The resources of one type in a module, by name.
fn of_type<'a>(m: &'a BTreeMap<String, serde_json::Map<String, Value>>, ty: &str) -> BTreeMap<&'a str, &'a Value> {
    m.get("resource")
        .and_then(|r| r.get(ty))
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

#[test]
fn gcp_program_gets_gke_clusters_cloud_sql_memorystore_and_workload_identity() {
    let tree = build("tests/programs/gcp.dpl", &[Target::Terraform]);
    let dirs = modules(&tree);
    for d in
        ["terraform/shared", "terraform/clusters/nonprod", "terraform/clusters/prod", "terraform/dev", "terraform/prod"]
    {
        assert!(dirs.contains(d), "{d} missing: {dirs:?}");
    }
    assert!(!tree.keys().any(|p| p.contains("aws")), "no AWS file in a GCP tree");
    // Each created cluster: its own /16, private nodes, Workload Identity, a node pool.
    let mut ranges = BTreeSet::new();
    for key in ["nonprod", "prod"] {
        let m = module(&tree, &format!("terraform/clusters/{key}"));
        let cidr = m["variable"]["vpc_cidr"]["default"].as_str().expect("cidr").to_string();
        assert!(ranges.insert(cidr.clone()), "{cidr} used twice");
        // The node pool as the gcp block says.
        assert_eq!(m["variable"]["machine_type"]["default"], "n2-standard-4");
        assert_eq!(m["variable"]["node_min_count"]["default"], 2);
        assert_eq!(m["variable"]["node_max_count"]["default"], 8);
        assert_eq!(m["variable"]["release_channel"]["default"], "STABLE");
        let gke = of_type(&m, "google_container_cluster")["main"];
        assert_eq!(gke["name"], format!("gshop-{key}-gke"));
        assert_eq!(gke["private_cluster_config"]["enable_private_nodes"], true);
        assert_eq!(gke["workload_identity_config"]["workload_pool"], "${var.project}.svc.id.goog");
        assert_eq!(gke["deletion_protection"], key == "prod", "{key}");
        let sub = of_type(&m, "google_compute_subnetwork")["nodes"];
        let names: Vec<&str> = sub["secondary_ip_range"]
            .as_array()
            .expect("ranges")
            .iter()
            .filter_map(|r| r["range_name"].as_str())
            .collect();
        assert_eq!(names, ["pods", "services"]);
        assert!(of_type(&m, "google_compute_router_nat").contains_key("main"));
        assert!(of_type(&m, "google_compute_address").contains_key("ingress"), "one ingress address per cluster");
        assert!(of_type(&m, "google_service_networking_connection").contains_key("private_services"));
        assert!(of_type(&m, "google_container_node_pool")["main"]["autoscaling"].is_object());
        let backend = &tree[&format!("terraform/clusters/{key}/versions.tf.json")]["terraform"]["backend"]["gcs"];
        assert_eq!(backend["prefix"], format!("clusters/{key}"));
    }
    // The hub (prod, the last environment's cluster) holds ArgoCD's identity.
    let hub = module(&tree, "terraform/clusters/prod");
    let wi = of_type(&hub, "google_service_account_iam_member");
    assert!(wi
        .values()
        .any(|b| b["member"] == "serviceAccount:${var.project}.svc.id.goog[argocd/argocd-application-controller]"));
    // prod runs db and cache managed: Cloud SQL on the private network, Memorystore, the URL in Secret Manager.
    let prod = module(&tree, "terraform/prod");
    let sql = of_type(&prod, "google_sql_database_instance");
    assert_eq!(sql["db"]["settings"]["ip_configuration"]["ipv4_enabled"], false);
    assert_eq!(sql["db"]["deletion_protection"], true);
    assert_eq!(sql["db"]["settings"]["backup_configuration"]["backup_retention_settings"]["retained_backups"], 14);
    assert!(sql.contains_key("db_replica_0"));
    assert_eq!(of_type(&prod, "google_redis_instance")["cache"]["auth_enabled"], true);
    let versions = of_type(&prod, "google_secret_manager_secret_version");
    assert!(versions["db_connection"]["secret_data"].as_str().is_some_and(|s| s.contains("private_ip_address")));
    // api reads db, cache and jwt: its own Google service account, bound to its ServiceAccount.
    let members = of_type(&prod, "google_service_account_iam_member");
    assert_eq!(
        members["service_api_workload_identity"]["member"],
        "serviceAccount:${var.project}.svc.id.goog[gshop-prod/api]"
    );
    let access = of_type(&prod, "google_secret_manager_secret_iam_member");
    for s in ["db_connection", "cache_connection", "jwt"] {
        assert!(access.contains_key(format!("service_api_{s}").as_str()), "api cannot read {s}");
    }
    assert!(!access.keys().any(|k| k.starts_with("service_web_")), "web reads no secret");
    // dev runs both in the cluster: no Cloud SQL, a generated password instead.
    let dev = module(&tree, "terraform/dev");
    assert!(of_type(&dev, "google_sql_database_instance").is_empty());
    assert!(of_type(&dev, "random_password").contains_key("db_connection"));
    // Cloud DNS: one A record per host, at the reserved ingress address.
    let records = of_type(&prod, "google_dns_record_set");
    let names: BTreeSet<&str> = records.values().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, BTreeSet::from(["gshop-prod.gshop.example.dev.", "api.gshop-prod.gshop.example.dev."]));
    // GitHub: a pool whose provider accepts only this repository.
    let shared = module(&tree, "terraform/shared");
    let provider = of_type(&shared, "google_iam_workload_identity_pool_provider")["github"];
    let condition = provider["attribute_condition"].as_str().unwrap_or_default();
    assert!(condition.starts_with("assertion.repository == \"acme/gshop\" && (assertion.sub == "), "{condition}");
}

#[test]
fn azure_program_gets_aks_clusters_flexible_servers_redis_key_vault_and_workload_identity() {
    let tree = build("tests/programs/azure.dpl", &[Target::Terraform]);
    let dirs = modules(&tree);
    for d in
        ["terraform/shared", "terraform/clusters/nonprod", "terraform/clusters/prod", "terraform/dev", "terraform/prod"]
    {
        assert!(dirs.contains(d), "{d} missing: {dirs:?}");
    }
    assert!(!tree.keys().any(|p| p.contains("aws") || p.contains("google")), "no other cloud's file in an Azure tree");
    for (path, v) in &tree {
        let text = v.to_string();
        assert!(!text.contains("\"aws_") && !text.contains("\"google_"), "{path}: another cloud's block");
    }
    // Each created cluster: its own /16 VNet, AKS with OIDC issuer and workload identity, a user pool.
    let mut ranges = BTreeSet::new();
    for key in ["nonprod", "prod"] {
        let m = module(&tree, &format!("terraform/clusters/{key}"));
        let cidr = m["variable"]["vnet_cidr"]["default"].as_str().expect("cidr").to_string();
        assert!(ranges.insert(cidr.clone()), "{cidr} used twice");
        assert_eq!(m["variable"]["vm_size"]["default"], "Standard_D8s_v5");
        assert_eq!(m["variable"]["node_min_count"]["default"], 3);
        assert_eq!(m["variable"]["node_max_count"]["default"], 9);
        // Someone must say who reaches the API server: no default, never empty.
        assert!(m["variable"]["api_authorized_ranges"].get("default").is_none());
        let aks = of_type(&m, "azurerm_kubernetes_cluster")["main"];
        assert_eq!(aks["name"], format!("ashop-{key}-aks"));
        assert_eq!(aks["oidc_issuer_enabled"], true);
        assert_eq!(aks["workload_identity_enabled"], true);
        assert_eq!(aks["local_account_disabled"], true);
        assert_eq!(aks["network_profile"]["network_policy"], "cilium");
        assert_eq!(aks["api_server_access_profile"]["authorized_ip_ranges"], "${var.api_authorized_ranges}");
        assert_eq!(aks["sku_tier"], if key == "prod" { "Standard" } else { "Free" });
        assert_eq!(of_type(&m, "azurerm_virtual_network")["main"]["address_space"][0], "${var.vnet_cidr}");
        let subnets = of_type(&m, "azurerm_subnet");
        assert_eq!(
            subnets["postgres"]["delegation"][0]["service_delegation"]["name"],
            "Microsoft.DBforPostgreSQL/flexibleServers"
        );
        assert!(of_type(&m, "azurerm_public_ip").contains_key("ingress"), "one ingress address per cluster");
        assert_eq!(of_type(&m, "azurerm_kubernetes_cluster_node_pool")["apps"]["mode"], "User");
        let backend = &tree[&format!("terraform/clusters/{key}/versions.tf.json")]["terraform"]["backend"]["azurerm"];
        assert_eq!(backend["key"], format!("clusters/{key}.tfstate"));
        assert_eq!(backend["storage_account_name"], "ashoptfstate");
    }
    // The hub (prod) holds ArgoCD's identity, federated with its controller's ServiceAccount;
    // the other cluster grants that identity access to itself only.
    let hub = module(&tree, "terraform/clusters/prod");
    let fed = of_type(&hub, "azurerm_federated_identity_credential");
    assert!(fed.values().any(|b| b["subject"] == "system:serviceaccount:argocd:argocd-application-controller"));
    let nonprod = module(&tree, "terraform/clusters/nonprod");
    let grant = of_type(&nonprod, "azurerm_role_assignment")["argocd"];
    assert_eq!(grant["scope"], "${azurerm_kubernetes_cluster.main.id}");
    assert_eq!(nonprod["variable"]["argocd_hub_cluster"]["default"], "ashop-prod-aks");
    // prod runs db and cache managed: a private, TLS-only flexible server, TLS-only Redis.
    let prod = module(&tree, "terraform/prod");
    let pg = of_type(&prod, "azurerm_postgresql_flexible_server");
    assert_eq!(pg["db"]["public_network_access_enabled"], false);
    assert_eq!(pg["db"]["backup_retention_days"], 14);
    assert_eq!(pg["db"]["geo_redundant_backup_enabled"], true);
    assert_eq!(pg["db"]["high_availability"]["mode"], "ZoneRedundant");
    assert_eq!(pg["db_replica_0"]["create_mode"], "Replica");
    assert_eq!(
        of_type(&prod, "azurerm_postgresql_flexible_server_configuration")["db_require_secure_transport"]["value"],
        "on"
    );
    let redis = of_type(&prod, "azurerm_redis_cache");
    assert_eq!(redis["cache"]["non_ssl_port_enabled"], false);
    assert_eq!(redis["cache"]["public_network_access_enabled"], false);
    // Connection secrets written to Key Vault from references, never literals.
    let secrets = of_type(&prod, "azurerm_key_vault_secret");
    let db_url = secrets["db_connection"]["value"].as_str().expect("db value");
    assert!(
        db_url.contains("azurerm_postgresql_flexible_server.db.fqdn") && db_url.contains("random_password.db.result")
    );
    let cache_url = secrets["cache_connection"]["value"].as_str().expect("cache value");
    assert!(
        cache_url.contains("rediss://") && cache_url.contains(":6380/") && cache_url.contains("primary_access_key")
    );
    // The secret people own is created unset and left to them.
    assert_eq!(secrets["jwt"]["value"], "unset");
    assert_eq!(secrets["jwt"]["lifecycle"]["ignore_changes"][0], "value");
    for (name, s) in &secrets {
        let v = s["value"].as_str().unwrap_or_default();
        assert!(v == "unset" || (v.starts_with("${") && v.ends_with('}')), "{name}: literal secret value {v}");
    }
    // api reads db, cache and jwt: its own identity, federated with its ServiceAccount, reading exactly those.
    let fed = of_type(&prod, "azurerm_federated_identity_credential");
    assert_eq!(fed["service_api"]["subject"], "system:serviceaccount:ashop-prod:api");
    assert_eq!(fed["service_api"]["issuer"], "${data.azurerm_kubernetes_cluster.main.oidc_issuer_url}");
    let grants = of_type(&prod, "azurerm_role_assignment");
    for s in ["db_connection", "cache_connection", "jwt"] {
        let g = grants.get(format!("service_api_{s}").as_str()).unwrap_or_else(|| panic!("api cannot read {s}"));
        assert_eq!(g["scope"], format!("${{azurerm_key_vault_secret.{s}.resource_versionless_id}}"));
        assert_eq!(g["role_definition_name"], "Key Vault Secrets User");
    }
    assert!(!grants.keys().any(|k| k.starts_with("service_web_")), "web reads no secret");
    // dev runs both in the cluster: no flexible server, a generated password instead.
    let dev = module(&tree, "terraform/dev");
    assert!(of_type(&dev, "azurerm_postgresql_flexible_server").is_empty());
    assert!(of_type(&dev, "random_password").contains_key("db_connection"));
    // Azure DNS: one A record per host, aliasing the cluster's ingress address.
    let records = of_type(&prod, "azurerm_dns_a_record");
    let names: BTreeSet<&str> = records.values().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, BTreeSet::from(["ashop-prod", "api.ashop-prod"]));
    // GitHub: federated credentials for this repository's refs and environments only.
    let shared = module(&tree, "terraform/shared");
    let subjects: BTreeSet<&str> = of_type(&shared, "azurerm_federated_identity_credential")
        .values()
        .filter_map(|c| c["subject"].as_str())
        .collect();
    assert!(subjects.contains("repo:acme/ashop:ref:refs/heads/main"), "{subjects:?}");
    assert!(subjects.contains("repo:acme/ashop:environment:prod"), "{subjects:?}");
    assert!(subjects.iter().all(|s| s.starts_with("repo:acme/ashop:")), "{subjects:?}");
}

#[test]
fn gcp_secret_manager_store_reads_the_secrets_the_gcp_terraform_writes_as_its_service_account() {
    let tree = build("tests/programs/gcp.dpl", &[Target::Terraform, Target::K8s]);
    for env in ["dev", "staging", "prod"] {
        let m = module(&tree, &format!("terraform/{env}"));
        let ids: BTreeSet<&str> =
            of_type(&m, "google_secret_manager_secret").values().filter_map(|s| s["secret_id"].as_str()).collect();
        let keys: BTreeSet<&str> = tree
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("k8s/{env}/externalsecret-")))
            .filter_map(|(_, v)| v["spec"]["dataFrom"][0]["extract"]["key"].as_str())
            .collect();
        assert!(!keys.is_empty(), "{env}: no ExternalSecret");
        assert!(keys.is_subset(&ids), "{env}: ExternalSecrets read {keys:?}, Terraform writes {ids:?}");
        let store = &tree[&format!("k8s/{env}/secretstore-gshop-secrets.yaml")];
        assert_eq!(store["spec"]["provider"]["gcpsm"]["projectID"], "acme-gshop");
        assert_eq!(
            store["spec"]["provider"]["gcpsm"]["auth"]["workloadIdentity"]["serviceAccountRef"]["name"],
            "gshop-secrets"
        );
        // The ServiceAccount acts as the Google service account Terraform
        // binds to exactly that Kubernetes ServiceAccount.
        let sa = &tree[&format!("k8s/{env}/serviceaccount-gshop-secrets.yaml")];
        let email = sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].as_str().expect("annotation");
        let gsa = of_type(&m, "google_service_account")["external_secrets"]["account_id"].as_str().expect("id");
        assert_eq!(email, format!("{gsa}@acme-gshop.iam.gserviceaccount.com"));
        let binding = &of_type(&m, "google_service_account_iam_member")["external_secrets_workload_identity"];
        assert_eq!(
            binding["member"],
            format!("serviceAccount:${{var.project}}.svc.id.goog[gshop-{env}/gshop-secrets]")
        );
    }
}

/// A GitLab pipeline's build jobs push to ECR with GitLab.com's ID token:
/// the shared module trusts gitlab.com (not GitHub) for this project's
/// pushes, under the role name the `.gitlab-ci.yml` assumes.
#[test]
fn a_gitlab_pipeline_gets_gitlab_s_oidc_provider_and_push_role() {
    let tree = build("tests/programs/gitlab.dpl", &[Target::Terraform, Target::Gitlab]);
    let shared = module(&tree, "terraform/shared");
    let provider = block(&shared, "resource", "aws_iam_openid_connect_provider", "gitlab").expect("provider");
    assert_eq!(provider["url"], "https://gitlab.com");
    assert_eq!(provider["client_id_list"], serde_json::json!(["sts.amazonaws.com"]));
    assert!(block(&shared, "resource", "aws_iam_openid_connect_provider", "github").is_none(), "no GitHub provider");
    let trust = block(&shared, "data", "aws_iam_policy_document", "gitlab_ecr_push_assume").expect("trust");
    let conds = trust["statement"][0]["condition"].as_array().expect("conditions");
    let aud = conds.iter().find(|c| c["variable"] == "gitlab.com:aud").expect("aud");
    assert_eq!(aud["test"], "StringEquals");
    assert_eq!(aud["values"], serde_json::json!(["sts.amazonaws.com"]));
    let sub = conds.iter().find(|c| c["variable"] == "gitlab.com:sub").expect("sub");
    let subs: Vec<&str> = sub["values"].as_array().expect("subjects").iter().filter_map(Value::as_str).collect();
    assert!(subs.contains(&"project_path:acme/healthcare-devops:ref_type:branch:ref:develop"), "{subs:?}");
    assert!(subs.contains(&"project_path:acme/healthcare-devops:ref_type:tag:ref:v*"), "{subs:?}");
    assert!(subs.iter().all(|s| s.starts_with("project_path:acme/healthcare-devops:ref_type:")), "{subs:?}");
    // The role the build jobs assume is the one created here.
    let role = block(&shared, "resource", "aws_iam_role", "gitlab_ecr_push").expect("role");
    let name = role["name"].as_str().expect("name");
    let ci = &tree[".gitlab-ci.yml"];
    let arns: Vec<&str> = ci
        .as_object()
        .expect("jobs")
        .values()
        .filter_map(|j| j["variables"]["AWS_ROLE_ARN"]["value"].as_str().or(j["variables"]["AWS_ROLE_ARN"].as_str()))
        .collect();
    assert!(!arns.is_empty(), "some job assumes the push role");
    assert!(arns.iter().all(|a| a.ends_with(&format!(":role/{name}"))), "{arns:?} vs {name}");
}

/// `queue_scaling` on an SQS queue (infra.dpl's worker, in prod): KEDA's
/// trigger names the queue Terraform creates by the URL SQS gives it (not
/// its dead-letter queue), and KEDA's operator reads it as a role of its
/// own: created by the cluster's root, trusting the operator's
/// ServiceAccount, allowed to read exactly that queue, and put on the
/// ServiceAccount by the KEDA add-on's values.
#[test]
fn keda_reads_the_sqs_queue_terraform_creates_as_its_operator_s_own_role() {
    let tree = build("tests/programs/infra.dpl", &[Target::Terraform, Target::K8s, Target::Argocd]);
    let account = "123456789012";
    let prod = module(&tree, "terraform/prod");
    let var_default = |m: &BTreeMap<String, serde_json::Map<String, Value>>, name: &str| {
        m["variable"][name]["default"].as_str().expect("variable default").to_string()
    };
    let region = var_default(&prod, "region");
    // The queue Terraform creates, by the name SQS puts in its URL.
    let queue = block(&prod, "resource", "aws_sqs_queue", "jobs").expect("the jobs queue");
    let name = queue["name"].as_str().expect("a literal queue name");
    assert_eq!(name, "infra-prod-jobs.fifo");
    let dead_letter = block(&prod, "resource", "aws_sqs_queue", "jobs_dead_letter").expect("its dead-letter queue");
    assert_ne!(dead_letter["name"].as_str(), Some(name));
    let url = format!("https://sqs.{region}.amazonaws.com/{account}/{name}");
    let arn = format!("arn:aws:sqs:{region}:{account}:{name}");

    let so = &tree["k8s/prod/scaledobject-worker.yaml"];
    assert_eq!(so["spec"]["scaleTargetRef"]["name"], "worker");
    assert_eq!((so["spec"]["minReplicaCount"].as_u64(), so["spec"]["maxReplicaCount"].as_u64()), (Some(1), Some(10)));
    let t = &so["spec"]["triggers"][0];
    assert_eq!(t["type"], "aws-sqs-queue");
    assert_eq!(t["metadata"]["queueURL"].as_str(), Some(url.as_str()));
    assert_eq!(t["metadata"]["queueLength"], "50");
    assert_eq!(t["metadata"]["awsRegion"].as_str(), Some(region.as_str()));
    // Authenticated as KEDA's operator, through its IRSA role.
    let auth = t["authenticationRef"]["name"].as_str().expect("authenticationRef");
    let ta = &tree[&format!("k8s/prod/triggerauthentication-{auth}.yaml")];
    assert_eq!(ta["metadata"]["namespace"], "infra-prod");
    assert_eq!(ta["spec"]["podIdentity"], serde_json::json!({ "provider": "aws", "identityOwner": "keda" }));
    assert!(ta["spec"].get("secretTargetRef").is_none());
    // KEDA owns the replica count: no HPA of ours. The worker is off in dev.
    assert!(!tree.contains_key("k8s/prod/horizontalpodautoscaler-worker.yaml"));
    assert!(!tree.keys().any(|p| p.starts_with("k8s/dev/") && p.contains("scaledobject")));

    // The operator's role, in the cluster's root.
    let cluster = module(&tree, "terraform/clusters/main");
    let cluster_region = var_default(&cluster, "region");
    let role = block(&cluster, "resource", "aws_iam_role", "keda_operator").expect("KEDA's operator role");
    let role_name = role["name"].as_str().expect("a literal role name");
    let policy = block(&cluster, "data", "aws_iam_policy_document", "keda_operator").expect("its policy");
    let statements = policy["statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 1, "{policy}");
    assert_eq!(statements[0]["actions"], serde_json::json!(["sqs:GetQueueAttributes"]));
    let resources: Vec<String> = statements[0]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            r.as_str()
                .expect("an ARN")
                .replace("${local.partition}", "aws")
                .replace("${var.region}", &cluster_region)
                .replace("${local.account_id}", account)
        })
        .collect();
    assert_eq!(resources, vec![arn.clone()], "exactly the scaled queue, not its dead-letter queue");
    // It trusts the operator's ServiceAccount, and only that one.
    let trust = block(&cluster, "data", "aws_iam_policy_document", "keda_operator_assume").expect("its trust");
    let conditions = trust["statement"][0]["condition"].as_array().expect("conditions");
    let sub = conditions
        .iter()
        .find(|c| c["variable"].as_str().is_some_and(|v| v.ends_with(":sub")))
        .expect("a subject condition");
    assert_eq!(sub["values"], serde_json::json!(["system:serviceaccount:keda:keda-operator"]));

    // The KEDA add-on: installed into `keda`, its operator's ServiceAccount
    // named `keda-operator` and annotated with that role.
    let app = &tree["argocd/addons/application-infra-keda.yaml"];
    assert_eq!(app["spec"]["destination"]["namespace"], "keda");
    assert_eq!(app["spec"]["source"]["targetRevision"], "2.16.1");
    let values: Value =
        serde_yaml_ng::from_str(app["spec"]["source"]["helm"]["values"].as_str().expect("values")).expect("yaml");
    assert_eq!(values["podIdentity"]["aws"]["irsa"]["enabled"], true);
    assert_eq!(
        values["podIdentity"]["aws"]["irsa"]["roleArn"].as_str(),
        Some(format!("arn:aws:iam::{account}:role/{role_name}").as_str())
    );
    assert_eq!(values["serviceAccount"]["operator"]["name"], "keda-operator");
    // Nothing deployc writes restricts the operator's egress to the SQS API.
    assert!(!tree.values().any(|v| v["kind"] == "NetworkPolicy" && v["metadata"]["namespace"] == "keda"));
}
