//! Off-cluster backup copies on GCP: each environment's dumps go to a GCS
//! bucket of its own, written as a Google service account that only the
//! backup ServiceAccount of that namespace may act as (GKE Workload
//! Identity), with rights on that bucket only; the weekly drill reads the
//! same bucket; production's bucket is a dual-region.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeMap;

/// The program on GCP; `cloud` replaces its cloud.
fn program(cloud: &str) -> String {
    SOURCE.replace(GCP, cloud)
}

const SOURCE: &str = include_str!("cases/pass/gcp_backups_to_gcs.dpl");
const GCP: &str = r#"gcp { project = "acme-shop" region = "europe-west3" }"#;

fn tree() -> BTreeMap<String, Value> {
    common::parsed_tree(&program(GCP), &[Target::K8s, Target::Terraform, Target::Helm])
}

fn script(c: &Value) -> String {
    // Kubernetes turns `$$` into `$` before the shell sees the command.
    c["command"][2].as_str().expect("script").replace("$$", "$")
}

fn env_of(c: &Value, name: &str) -> String {
    c["env"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == name))
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("{name} in {c}"))
        .to_string()
}

/// Every resource of one type in a Terraform file.
fn resources<'a>(t: &'a BTreeMap<String, Value>, file: &str, ty: &str) -> &'a serde_json::Map<String, Value> {
    t[file]["resource"][ty].as_object().unwrap_or_else(|| panic!("{ty} in {file}"))
}

#[test]
fn the_service_account_acts_as_the_google_account_bound_to_exactly_it() {
    let t = tree();
    for env in ["staging", "prod"] {
        let sa = &t[&format!("k8s/{env}/serviceaccount-shop-backup.yaml")];
        let email = sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].as_str().expect("annotation");
        assert_eq!(email, format!("shop-{env}-backup@acme-shop.iam.gserviceaccount.com"));
        assert!(sa["metadata"]["annotations"].get("eks.amazonaws.com/role-arn").is_none());
        let file = format!("terraform/{env}/backups.tf.json");
        let gsa = &resources(&t, &file, "google_service_account")["backup"];
        assert_eq!(format!("{}@acme-shop.iam.gserviceaccount.com", gsa["account_id"].as_str().unwrap()), email);
        let project = t
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("terraform/{env}/")))
            .find_map(|(_, v)| v["variable"]["project"]["default"].as_str());
        assert_eq!(project, Some("acme-shop"));
        // The one Workload Identity binding of the account: this namespace's backup ServiceAccount.
        let wi = resources(&t, &file, "google_service_account_iam_member");
        assert_eq!(wi.len(), 1, "{wi:?}");
        let b = &wi["backup_workload_identity"];
        assert_eq!(b["service_account_id"], "${google_service_account.backup.name}");
        assert_eq!(b["role"], "roles/iam.workloadIdentityUser");
        assert_eq!(b["member"], format!("serviceAccount:${{var.project}}.svc.id.goog[shop-{env}/shop-backup]"));
        assert_eq!(sa["metadata"]["namespace"], format!("shop-{env}"));
        assert_eq!(sa["metadata"]["name"], "shop-backup");
    }
}

#[test]
fn the_google_account_may_create_and_read_objects_of_its_bucket_only() {
    let t = tree();
    for env in ["staging", "prod"] {
        let file = format!("terraform/{env}/backups.tf.json");
        let grants = resources(&t, &file, "google_storage_bucket_iam_member");
        let mut roles: Vec<&str> = grants.values().map(|g| g["role"].as_str().unwrap()).collect();
        roles.sort();
        assert_eq!(roles, ["roles/storage.objectCreator", "roles/storage.objectViewer"]);
        for g in grants.values() {
            assert_eq!(g["bucket"], "${google_storage_bucket.backups.name}");
            assert_eq!(g["member"], "serviceAccount:${google_service_account.backup.email}");
        }
        // No other grant names the account: no project-wide role.
        for (path, v) in t.iter().filter(|(p, _)| p.starts_with("terraform/") && !p.ends_with("/backups.tf.json")) {
            assert!(!v["resource"].to_string().contains("google_service_account.backup."), "{path}");
        }
        let other = resources(&t, &file, "google_kms_crypto_key_iam_member");
        assert!(other.values().all(|g| !g["member"].to_string().contains("google_service_account.backup")));
    }
}

#[test]
fn the_bucket_is_private_versioned_encrypted_and_kept_as_long_as_declared() {
    let t = tree();
    for env in ["staging", "prod"] {
        let file = format!("terraform/{env}/backups.tf.json");
        let b = &resources(&t, &file, "google_storage_bucket")["backups"];
        assert_eq!(b["name"], "${local.name}-backups");
        assert_eq!(t[&format!("terraform/{env}/main.tf.json")]["locals"]["name"], format!("shop-{env}"));
        assert_eq!(b["uniform_bucket_level_access"], true);
        assert_eq!(b["public_access_prevention"], "enforced");
        assert_eq!(b["versioning"]["enabled"], true);
        assert_eq!(b["force_destroy"], false);
        assert_eq!(b["encryption"]["default_kms_key_name"], "${google_kms_crypto_key.backups.id}");
        // The longest `retain` (30d), for current objects and for noncurrent versions.
        let rules = b["lifecycle_rule"].as_array().expect("rules");
        assert!(rules.iter().any(|r| r["condition"]["age"] == 30 && r["action"]["type"] == "Delete"));
        assert!(rules.iter().any(|r| r["condition"]["days_since_noncurrent_time"] == 30));
        // The key is usable by Cloud Storage's service agent, in the bucket's location.
        let ring = &resources(&t, &file, "google_kms_key_ring")["backups"];
        let key = &resources(&t, &file, "google_kms_crypto_key_iam_member")["backups"];
        assert_eq!(key["member"], "serviceAccount:${data.google_storage_project_service_account.this.email_address}");
        if env == "prod" {
            // Production: a dual-region on the environment's continent, every
            // object in both regions within 15 minutes; its key in the multi-region.
            assert_eq!(b["location"], "EU");
            assert_eq!(
                b["custom_placement_config"]["data_locations"],
                serde_json::json!(["EUROPE-WEST3", "EUROPE-WEST1"])
            );
            assert_eq!(b["rpo"], "ASYNC_TURBO");
            assert_eq!(ring["location"], "eu");
        } else {
            assert_eq!(b["location"], "EUROPE-WEST3");
            assert!(b.get("custom_placement_config").is_none() && b.get("rpo").is_none());
            assert_eq!(ring["location"], "europe-west3");
        }
    }
    // The shared root turns on the APIs and Cloud Storage's data access logs.
    let services = &t["terraform/shared/services.tf.json"]["resource"]["google_project_service"];
    let services = services.as_object().unwrap();
    assert!(services.contains_key("cloudkms") && services.contains_key("storage"));
    let audit = &t["terraform/shared/audit.tf.json"]["resource"]["google_project_iam_audit_config"]["storage"];
    assert_eq!(audit["service"], "storage.googleapis.com");
}

#[test]
fn the_upload_runs_after_the_dump_and_quotes_everything() {
    let t = tree();
    for r in ["db", "docs"] {
        let pod = &t[&format!("k8s/prod/cronjob-{r}-backup.yaml")]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "shop-backup");
        assert_eq!(pod["initContainers"].as_array().expect("the dump").len(), 1);
        let up = &pod["containers"][0];
        assert_eq!(up["name"], "upload");
        let image = up["image"].as_str().unwrap();
        let (repo, tag) = image.rsplit_once(':').expect("a tag");
        assert_eq!(repo, "gcr.io/google.com/cloudsdktool/google-cloud-cli");
        assert!(tag.starts_with(|c: char| c.is_ascii_digit()), "pinned to a release: {image}");
        let s = script(up);
        assert!(s.contains(r#"gcloud storage cp "$f" "gs://$BACKUP_BUCKET/$BACKUP_PREFIX/$(basename "$f")""#), "{s}");
        assert!(s.find("test -s \"$f\"").unwrap() < s.find("gcloud storage cp").unwrap(), "{s}");
        assert!(!s.replace("||", "").contains('|') && !s.contains("aws "), "no pipe: {s}");
        // Program text reaches the script only through the environment.
        assert!(!s.contains("shop") && !s.contains(&format!("{r}-")), "{s}");
        assert_eq!(env_of(up, "BACKUP_BUCKET"), "shop-prod-backups");
        assert_eq!(env_of(up, "BACKUP_PREFIX"), r);
        // The upload reaches Google's APIs and the GKE metadata server that
        // hands out the Workload Identity token.
        let np = &t[&format!("k8s/prod/networkpolicy-{r}-backup.yaml")];
        let egress = np["spec"]["egress"].to_string();
        assert!(egress.contains("169.254.169.254/32") && egress.contains("\"port\":443"), "{egress}");
    }
}

#[test]
fn the_drill_restores_the_newest_object_of_the_same_bucket() {
    let t = tree();
    for r in ["db", "docs"] {
        let cj = &t[&format!("k8s/prod/cronjob-{r}-restore-drill.yaml")];
        let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "shop-backup");
        let fetch = &pod["initContainers"][0];
        assert_eq!(env_of(fetch, "BACKUP_BUCKET"), "shop-prod-backups");
        assert_eq!(env_of(fetch, "BACKUP_PREFIX"), r);
        let s = script(fetch);
        assert!(s.contains(r#"gcloud storage ls "gs://$BACKUP_BUCKET/$BACKUP_PREFIX/" > /tmp/objects"#), "{s}");
        assert!(s.contains("key=$(tail -n 1 /tmp/objects)"), "the last name is the newest: {s}");
        assert!(s.contains(r#"gcloud storage cp "$key" /restore/latest"#), "{s}");
        assert!(s.contains("RESTORE DRILL FAILED") && !s.replace("||", "").contains('|'), "no pipe: {s}");
        let np = t[&format!("k8s/prod/networkpolicy-{r}-restore-drill.yaml")]["spec"]["egress"].to_string();
        assert!(np.contains("169.254.169.254/32"), "{np}");
    }
    // The drill reads what the upload writes: the Terraform bucket of the same root.
    let c = deployc::compile("p.dpl", &program(GCP), &common::Disk);
    let (model, graph) = c.output.expect("compiles");
    let opts = Default::default();
    let plan = deployc::plan::Plan::new(&model, &graph, &opts);
    for cx in &plan.envs {
        let store = deployc::plan::backup::off_cluster(cx).expect("a store");
        assert_eq!(store.url(), format!("gs://shop-{}-backups", cx.env.name));
    }
}

#[test]
fn gke_runs_workload_identity_on_every_node_pool() {
    let t = tree();
    let (_, cluster) = t
        .iter()
        .find(|(p, v)| p.starts_with("terraform/clusters/") && v["resource"]["google_container_cluster"].is_object())
        .expect("a GKE cluster root");
    for c in cluster["resource"]["google_container_cluster"].as_object().unwrap().values() {
        assert_eq!(c["workload_identity_config"]["workload_pool"], "${var.project}.svc.id.goog");
        assert_eq!(c["node_config"]["workload_metadata_config"]["mode"], "GKE_METADATA");
    }
    for p in cluster["resource"]["google_container_node_pool"].as_object().unwrap().values() {
        assert_eq!(p["node_config"]["workload_metadata_config"]["mode"], "GKE_METADATA");
    }
}

#[test]
fn gcp_backups_leave_the_cluster_and_azure_ones_stay_with_w0014() {
    let warnings = |cloud: &str| {
        let c = deployc::compile("p.dpl", &program(cloud), &common::Disk);
        let (model, _) = c.output.expect("compiles");
        deployc::emit::unserved(&model, &[Target::K8s])
    };
    assert!(!warnings(GCP).iter().any(|d| d.code.as_str() == "W0014"));
    let w = warnings(r#"azure { location = "westeurope" }"#);
    assert!(w.iter().any(|d| d.code.as_str() == "W0014" && d.message.contains("Azure")), "{w:?}");
}

#[test]
fn the_bucket_logging_finding_is_waived_for_that_bucket_only() {
    let c = deployc::compile("p.dpl", &program(GCP), &common::Disk);
    let (model, _) = c.output.expect("compiles");
    let w = deployc::plan::waivers::all(&model);
    let files: Vec<&str> = w.iter().filter(|w| w.check == "CKV_GCP_62").map(|w| w.file.as_str()).collect();
    assert_eq!(files, ["terraform/staging/backups.tf.json", "terraform/prod/backups.tf.json"]);
    assert!(w.iter().all(|w| w.resource == "google_storage_bucket.backups"));
}
