//! Backups of in-cluster resources: the schedule and the script.

use super::engines::secret_env;
use super::env::connection_secret;
use super::EnvPlan;
use crate::model::{Engine, Resource};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec, ServiceAccount, Volume, VolumeMount};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub fn cron(schedule: &str) -> &'static str {
    match schedule {
        "every_30m" => "*/30 * * * *",
        "hourly" => "0 * * * *",
        "every_6h" => "0 */6 * * *",
        "weekly" => "30 2 * * 0",
        _ => "30 2 * * *",
    }
}

/// The shell script of a backup job and the environment it needs. The dump
/// goes to a partial file first and is kept only when the tool succeeded and
/// wrote something, so a failed or empty dump never replaces good backups,
/// and retention only prunes after a good one. No pipes: the tools write
/// compressed files themselves, so no exit status is lost in a pipeline.
pub fn backup_script(cx: &EnvPlan, r: &Resource, b: &crate::model::Backup) -> (String, Vec<EnvVar>) {
    let host = format!("{}.{}.svc.cluster.local", r.name, cx.ns());
    let secret = connection_secret(&r.name);
    let (dump, ext, env) = match r.engine {
        Engine::Postgres => (
            format!("pg_dump -h {host} -U app -d {} --format=custom --compress=6 --file=\"$out.partial\"", r.database),
            "dump",
            vec![secret_env("PGPASSWORD", &secret, "password")],
        ),
        Engine::Redis => (
            format!("redis-cli -h {host} -a \"$REDIS_PASSWORD\" --no-auth-warning --rdb \"$out.partial\""),
            "rdb",
            vec![secret_env("REDIS_PASSWORD", &secret, "password")],
        ),
        Engine::MongoDb => (
            format!(
                "mongodump --host {host} -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --gzip --archive=\"$out.partial\""
            ),
            "archive.gz",
            vec![secret_env("MONGO_PASSWORD", &secret, "password")],
        ),
        // Managed queues and buckets are backed up by the cloud; Kafka keeps
        // replicated logs and declares no backup.
        Engine::Queue | Engine::Bucket | Engine::Kafka => (String::new(), "", Vec::new()),
    };
    // `$$(` keeps Kubernetes from expanding the shell's command substitution.
    let script = format!(
        "set -eu\nrm -f /backups/*.partial\nout=/backups/{name}-$$(date +%Y%m%d-%H%M%S).{ext}\n{dump}\n\
         test -s \"$out.partial\" || {{ echo 'backup is empty: keeping the previous ones' >&2; exit 1; }}\n\
         mv \"$out.partial\" \"$out\"\nfind /backups -name '*.{ext}' -mtime +{days} -delete\n",
        name = r.name,
        days = b.retain_days
    );
    (script, env)
}

// ------------------------------------------------------------ off-cluster copies

/// The AWS CLI image that uploads dumps and fetches them for the drill,
/// pinned to a release.
pub const AWS_CLI_IMAGE: &str = "public.ecr.aws/aws-cli/aws-cli:2.27.50";
/// When the recovery drill runs: Mondays 05:00, after the nightly backups.
pub const DRILL_SCHEDULE: &str = "0 5 * * 1";
/// How long a drill may take before it counts as failed.
pub const DRILL_DEADLINE_SECONDS: i64 = 2 * 3600;

/// The google-cloud-cli image that uploads dumps to GCS and fetches them
/// for the drill, pinned to a release (`VERSION-stable`: gcloud on Debian).
pub const GCLOUD_IMAGE: &str = "gcr.io/google.com/cloudsdktool/google-cloud-cli:573.0.0-stable";

/// Where an environment's in-cluster backups are copied off the cluster: a
/// bucket per environment (each environment is its own Terraform root and
/// namespace, so a bucket per environment keeps retention, IAM scope and
/// deletion of one environment apart from the others), written by the
/// backup ServiceAccount of that namespace only, through the cloud's
/// workload identity.
#[derive(Clone, Debug, PartialEq)]
pub struct OffCluster {
    /// `<project>-<env>-backups` (Terraform: `${local.name}-backups`).
    pub bucket: String,
    /// The ServiceAccount the backup and drill pods run as: `<project>-backup`.
    pub service_account: String,
    /// The cloud's store and the identity the ServiceAccount acts as.
    pub kind: StoreKind,
}

/// The object store of an [`OffCluster`] copy, one per cloud.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreKind {
    /// An S3 bucket in the environment's region, written through an IRSA
    /// role; a production environment's is replicated to the program's
    /// `recovery { region }` ([`secondary_region`]).
    S3 {
        region: String,
        /// `<project>-<env>-backup-upload` (Terraform: `${local.name}-backup-upload`).
        role_name: String,
        role_arn: String,
    },
    /// A GCS bucket in the environment's GCP project, written as a Google
    /// service account that only the backup ServiceAccount of the namespace
    /// may act as (GKE Workload Identity).
    Gcs {
        /// The GCP project id (the environment's `gcp { project }`).
        project: String,
        location: GcsLocation,
        /// The Google service account's id: `<project>-<env>-backup`, fitted to Google's rules.
        account_id: String,
        /// `<account_id>@<project>.iam.gserviceaccount.com`, the KSA's `iam.gke.io/gcp-service-account`.
        account_email: String,
    },
}

/// Where a GCS backup bucket keeps its objects. A production environment's
/// bucket is a configurable dual-region — its own region and a partner on
/// the same continent ([`dual_region_partner`]) — with turbo replication
/// (every object in both regions within 15 minutes, as S3 Replication Time
/// Control promises for the AWS copy); other environments, and regions
/// without a partner, keep a single region.
#[derive(Clone, Debug, PartialEq)]
pub struct GcsLocation {
    /// The bucket's `location`: the region (`US-CENTRAL1`), or the
    /// continent of a dual-region (`US`).
    pub location: String,
    /// The two regions of a dual-region, the environment's first.
    pub dual: Option<[String; 2]>,
}

impl GcsLocation {
    /// The Cloud KMS location of the bucket's key: the region, or the
    /// multi-region a dual-region belongs to (`us`).
    pub fn kms_location(&self) -> String {
        self.location.to_ascii_lowercase()
    }
}

/// The region a production GCS backup bucket pairs with the environment's
/// into a dual-region, and the continent code (the bucket's `location`):
/// `us-central1` with `us-east1`, other North American regions with
/// `us-central1`, `europe-west1` with `europe-west4`, other European ones
/// with `europe-west1`, `asia-east1` with `asia-southeast1`, other Asian
/// ones with `asia-east1`. Elsewhere (Australia, South America, the Middle
/// East, Africa) GCS has no configurable dual-region: `None`.
pub fn dual_region_partner(region: &str) -> Option<(&'static str, &'static str)> {
    let r = region.to_ascii_lowercase();
    Some(match r.as_str() {
        "us-central1" => ("US", "us-east1"),
        _ if r.starts_with("us-") || r.starts_with("northamerica-") => ("US", "us-central1"),
        "europe-west1" => ("EU", "europe-west4"),
        _ if r.starts_with("europe-") => ("EU", "europe-west1"),
        "asia-east1" => ("ASIA", "asia-southeast1"),
        _ if r.starts_with("asia-") => ("ASIA", "asia-east1"),
        _ => return None,
    })
}

impl OffCluster {
    /// The bucket as a URL of its cloud's CLI: `s3://…` or `gs://…`.
    pub fn url(&self) -> String {
        match self.kind {
            StoreKind::S3 { .. } => format!("s3://{}", self.bucket),
            StoreKind::Gcs { .. } => format!("gs://{}", self.bucket),
        }
    }

    /// The S3 region, on AWS.
    pub fn s3_region(&self) -> Option<&str> {
        match &self.kind {
            StoreKind::S3 { region, .. } => Some(region),
            StoreKind::Gcs { .. } => None,
        }
    }

    /// The CLI image of the upload and fetch containers.
    pub fn cli_image(&self) -> &'static str {
        match self.kind {
            StoreKind::S3 { .. } => AWS_CLI_IMAGE,
            StoreKind::Gcs { .. } => GCLOUD_IMAGE,
        }
    }
}

/// The in-cluster resources of an environment whose backups are taken by a CronJob.
pub fn backed_up<'m>(cx: &EnvPlan<'m>) -> Vec<&'m Resource> {
    backed_up_in(cx.model, cx.env)
}

/// [`backed_up`] from the model alone.
pub fn backed_up_in<'m>(model: &'m crate::model::Model, env: &crate::model::Environment) -> Vec<&'m Resource> {
    model
        .resources
        .iter()
        .filter(|r| r.backup.is_some() && r.engine.can_run_in_cluster())
        .filter(|r| env.resources[r.id.index()].placement == crate::model::Placement::InCluster)
        .filter(|r| matches!(r.engine, Engine::Postgres | Engine::Redis | Engine::MongoDb))
        .collect()
}

/// The off-cluster store of an environment, when it has in-cluster backups
/// and runs on AWS with the account named (the role ARN needs it) or on
/// GCP. Azure keeps the backups in the cluster (warning W0014).
pub fn off_cluster(cx: &EnvPlan) -> Option<OffCluster> {
    off_cluster_of(cx.model, cx.env)
}

/// [`off_cluster`] from the model alone.
pub fn off_cluster_of(model: &crate::model::Model, env: &crate::model::Environment) -> Option<OffCluster> {
    if backed_up_in(model, env).is_empty() {
        return None;
    }
    let prefix = format!("{}-{}", model.project.name, env.name);
    let kind = match model.cloud_of(env) {
        crate::model::Cloud::Aws { region, .. } => {
            let account = super::identity::account(model)?;
            let role_name = format!("{prefix}-backup-upload");
            StoreKind::S3 {
                region: region.clone(),
                role_arn: super::identity::role_arn(account, &role_name),
                role_name,
            }
        }
        crate::model::Cloud::Gcp { project, region, .. } => {
            let dual = if env.production { dual_region_partner(region) } else { None };
            let location = match dual {
                Some((continent, partner)) => GcsLocation {
                    location: continent.to_string(),
                    dual: Some([region.to_ascii_lowercase(), partner.to_string()]),
                },
                None => GcsLocation { location: region.to_ascii_uppercase(), dual: None },
            };
            let account_id = super::identity::gcp_account_id(&format!("{prefix}-backup"));
            StoreKind::Gcs {
                account_email: format!("{account_id}@{project}.iam.gserviceaccount.com"),
                project: project.clone(),
                location,
                account_id,
            }
        }
        crate::model::Cloud::Azure { .. } => return None,
    };
    Some(OffCluster {
        bucket: format!("{prefix}-backups"),
        service_account: format!("{}-backup", model.project.name),
        kind,
    })
}

/// The secondary AWS region a production environment's backups are copied
/// to: the `recovery { region }` of a PostgreSQL or MongoDB resource with
/// backups (the checker admits one region per program, E0433, and never
/// the project's own, E0432). Other environments keep their backups in the
/// project's region.
pub fn secondary_region<'m>(model: &'m crate::model::Model, env: &crate::model::Environment) -> Option<&'m str> {
    if !env.production || !matches!(model.cloud_of(env), crate::model::Cloud::Aws { .. }) {
        return None;
    }
    model
        .resources
        .iter()
        .filter(|r| r.backup.is_some() && matches!(r.engine, Engine::Postgres | Engine::MongoDb))
        .find_map(|r| r.dr_region.as_deref())
}

/// The Terraform state's backups (`project { state_backup }`): how often,
/// how many days each is kept, and the secondary region a copy goes to (the
/// program's one `recovery { region }`, E0433), on an AWS project.
pub struct StateBackup<'m> {
    pub schedule: &'m str,
    pub days: u64,
    pub copy_to: Option<&'m str>,
}

pub fn state_backup(model: &crate::model::Model) -> Option<StateBackup<'_>> {
    let b = model.project.state_backup.as_ref()?;
    if !matches!(model.project.cloud, crate::model::Cloud::Aws { .. }) {
        return None;
    }
    let copy_to = model
        .resources
        .iter()
        .filter(|r| matches!(r.engine, Engine::Postgres | Engine::MongoDb))
        .find_map(|r| r.dr_region.as_deref());
    Some(StateBackup { schedule: &b.schedule, days: b.retain_days.max(1), copy_to })
}

/// The bucket in the secondary region that the off-cluster backups are
/// replicated to: `<project>-<env>-backups-<region>`.
pub fn replica_bucket(store: &OffCluster, region: &str) -> String {
    format!("{}-{region}", store.bucket)
}

/// The file suffix of a resource's dumps.
pub fn extension(e: &Engine) -> &'static str {
    match e {
        Engine::Postgres => "dump",
        Engine::Redis => "rdb",
        Engine::MongoDb => "archive.gz",
        _ => "",
    }
}

fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), value_from: None }
}

/// The environment of the CLI containers: bucket, key prefix (the
/// resource's name) and, on AWS, the region reach the scripts only through
/// these. gcloud keeps its configuration under `$HOME` (the writable
/// `/tmp`) and never prompts.
fn cli_env(store: &OffCluster, r: &Resource) -> Vec<EnvVar> {
    let mut env = vec![plain_env("BACKUP_BUCKET", &store.bucket), plain_env("BACKUP_PREFIX", &r.name)];
    match &store.kind {
        StoreKind::S3 { region, .. } => env.push(plain_env("AWS_REGION", region)),
        StoreKind::Gcs { .. } => env.push(plain_env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")),
    }
    env.push(plain_env("HOME", "/tmp"));
    env
}

/// The script of the upload step. It runs as the pod's container after the
/// dump ran as its init container, so a dump that failed or came out empty
/// (the size check in [`backup_script`]) never reaches the bucket; it
/// uploads the newest dump on the volume: the last in glob order, since dump
/// names carry a sortable UTC timestamp (modification times can tie within a
/// clock tick, and `-nt` then keeps the older file).
/// The copy command is the store's CLI (`aws s3 cp`, `gcloud storage cp`),
/// to `<scheme>://$BACKUP_BUCKET/$BACKUP_PREFIX/<file>`.
pub fn upload_script(store: &OffCluster, r: &Resource) -> String {
    let (scheme, cp, quiet) = match store.kind {
        StoreKind::S3 { .. } => ("s3", "aws s3 cp", " --only-show-errors"),
        StoreKind::Gcs { .. } => ("gs", "gcloud storage cp", " --no-user-output-enabled"),
    };
    format!(
        "set -eu\nf=''\nfor b in /backups/*.{ext}; do f=$b; done\n\
         test -s \"$f\" || {{ echo 'no backup to upload' >&2; exit 1; }}\n\
         {cp} \"$f\" \"{scheme}://$BACKUP_BUCKET/$BACKUP_PREFIX/$$(basename \"$f\")\"{quiet}\n\
         echo \"uploaded $f to {scheme}://$BACKUP_BUCKET/$BACKUP_PREFIX/\"\n",
        ext = extension(&r.engine)
    )
}

/// The upload container of a backup pod.
pub fn upload_container(store: &OffCluster, r: &Resource, uid: u32) -> Container {
    Container {
        name: "upload".into(),
        image: Some(store.cli_image().into()),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), upload_script(store, r)]),
        env: Some(cli_env(store, r)),
        resources: Some(super::pod::resources(super::engines::BACKUP_RESOURCES.0, super::engines::BACKUP_RESOURCES.1)),
        security_context: Some(super::pod::container_security(uid, true, false)),
        volume_mounts: Some(vec![
            VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..Default::default() },
            VolumeMount { name: "backups".into(), mount_path: "/backups".into(), ..Default::default() },
        ]),
        ..Default::default()
    }
}

/// The ServiceAccount backup and drill pods run as, annotated with the
/// identity it acts as: the IRSA role, or the Google service account.
pub fn service_account(cx: &EnvPlan, store: &OffCluster) -> ServiceAccount {
    let mut meta = cx.meta(&store.service_account, &store.service_account, "backup");
    let annotation = match &store.kind {
        StoreKind::S3 { role_arn, .. } => ("eks.amazonaws.com/role-arn", role_arn),
        StoreKind::Gcs { account_email, .. } => ("iam.gke.io/gcp-service-account", account_email),
    };
    meta.annotations = Some(BTreeMap::from([(annotation.0.to_string(), annotation.1.clone())]));
    ServiceAccount { metadata: meta, automount_service_account_token: Some(false), ..Default::default() }
}

/// The script that fetches the newest object under the resource's prefix.
pub fn fetch_script(store: &OffCluster) -> &'static str {
    match store.kind {
        StoreKind::S3 { .. } => FETCH_SCRIPT,
        StoreKind::Gcs { .. } => GCS_FETCH_SCRIPT,
    }
}

/// The newest object under the resource's prefix in S3, by modification time.
pub const FETCH_SCRIPT: &str = "set -eu\n\
key=$$(aws s3api list-objects-v2 --bucket \"$BACKUP_BUCKET\" --prefix \"$BACKUP_PREFIX/\" --query 'sort_by(Contents, &LastModified)[-1].Key' --output text)\n\
if [ -z \"$key\" ] || [ \"$key\" = None ]; then echo \"RESTORE DRILL FAILED: no backup under s3://$BACKUP_BUCKET/$BACKUP_PREFIX/\" >&2; exit 1; fi\n\
aws s3 cp \"s3://$BACKUP_BUCKET/$key\" /restore/latest --only-show-errors\n\
test -s /restore/latest || { echo \"RESTORE DRILL FAILED: $key is empty\" >&2; exit 1; }\n\
echo \"restoring $key\"\n";

/// The newest object under the resource's prefix in GCS: the last one
/// listed, since GCS lists names in lexicographic order and dump names end
/// in a sortable UTC timestamp. A listing that fails (no object matched,
/// or no access) fails the drill; no pipe hides an exit status.
pub const GCS_FETCH_SCRIPT: &str = "set -eu\n\
if ! gcloud storage ls \"gs://$BACKUP_BUCKET/$BACKUP_PREFIX/\" > /tmp/objects; then echo \"RESTORE DRILL FAILED: cannot list gs://$BACKUP_BUCKET/$BACKUP_PREFIX/\" >&2; exit 1; fi\n\
key=$$(tail -n 1 /tmp/objects)\n\
case \"$key\" in \"gs://$BACKUP_BUCKET/$BACKUP_PREFIX/\"?*) ;; *) echo \"RESTORE DRILL FAILED: no backup under gs://$BACKUP_BUCKET/$BACKUP_PREFIX/\" >&2; exit 1;; esac\n\
gcloud storage cp \"$key\" /restore/latest --no-user-output-enabled\n\
test -s /restore/latest || { echo \"RESTORE DRILL FAILED: $key is empty\" >&2; exit 1; }\n\
echo \"restoring $key\"\n";

/// The script that restores `/restore/latest` into a scratch server started
/// inside the drill pod and checks that it holds data; `None` for engines
/// without a drill.
pub fn restore_script(e: &Engine) -> Option<&'static str> {
    Some(match e {
        Engine::Postgres => "set -eu\nfail() { echo \"RESTORE DRILL FAILED: $1\" >&2; exit 1; }\n\
mkdir -p /tmp/drill\n\
initdb -D /tmp/drill/data -U drill --auth=trust >/dev/null || fail 'initdb'\n\
pg_ctl -D /tmp/drill/data -o '-c listen_addresses=127.0.0.1 -p 5433 -k /tmp/drill' -l /tmp/drill/log -w start || fail 'scratch server did not start'\n\
createdb -h 127.0.0.1 -p 5433 -U drill scratch\n\
pg_restore -h 127.0.0.1 -p 5433 -U drill -d scratch --no-owner --no-privileges --exit-on-error /restore/latest || fail 'pg_restore'\n\
n=$$(psql -h 127.0.0.1 -p 5433 -U drill -d scratch -tAc \"select count(*) from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')\")\n\
test \"$n\" -gt 0 || fail 'the restored database has no tables'\n\
pg_ctl -D /tmp/drill/data -m fast stop\n\
echo \"restore drill passed: $n tables\"\n",
        Engine::MongoDb => "set -eu\nfail() { echo \"RESTORE DRILL FAILED: $1\" >&2; exit 1; }\n\
mkdir -p /tmp/drill/db\n\
mongod --dbpath /tmp/drill/db --bind_ip 127.0.0.1 --port 27018 --fork --logpath /tmp/drill/mongod.log || fail 'scratch server did not start'\n\
mongorestore --host 127.0.0.1 --port 27018 --gzip --archive=/restore/latest || fail 'mongorestore'\n\
n=$$(mongosh --host 127.0.0.1 --port 27018 --quiet --eval 'db.adminCommand({listDatabases: 1}).databases.filter(d => ![\"admin\", \"local\", \"config\"].includes(d.name)).length')\n\
test \"$n\" -gt 0 || fail 'the restored server has no databases'\n\
mongod --dbpath /tmp/drill/db --shutdown\n\
echo \"restore drill passed: $n databases\"\n",
        Engine::Redis => "set -eu\nfail() { echo \"RESTORE DRILL FAILED: $1\" >&2; exit 1; }\n\
redis-check-rdb /restore/latest || fail 'redis-check-rdb'\n\
redis-server --port 6380 --bind 127.0.0.1 --dir /restore --dbfilename latest --save '' --appendonly no --daemonize yes\n\
for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli -p 6380 ping >/dev/null 2>&1 && break; sleep 1; done\n\
n=$$(redis-cli -p 6380 dbsize) || fail 'the restored snapshot did not load'\n\
redis-cli -p 6380 shutdown nosave || true\n\
echo \"restore drill passed: $n keys\"\n",
        _ => return None,
    })
}

/// The recovery drill of one resource: a CronJob whose pod fetches the
/// newest off-cluster backup (init container, the store's CLI), restores it into a
/// scratch server inside the pod (the engine's image, data on an `emptyDir`)
/// and checks that data came back. A failure fails the Job, which stays in
/// the CronJob's history and fires the Job-failed alerts of the cluster's
/// monitoring; the scratch data goes with the pod.
pub fn drill(cx: &EnvPlan, store: &OffCluster, r: &Resource) -> Option<CronJob> {
    let restore = restore_script(&r.engine)?;
    let spec = super::engines::spec(&r.engine).in_cluster.as_ref()?;
    let name = drill_name(r);
    let mounts = |tmp: bool| {
        let mut m = vec![VolumeMount { name: "restore".into(), mount_path: "/restore".into(), ..Default::default() }];
        if tmp {
            m.push(VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..Default::default() });
        }
        m
    };
    let fetch = Container {
        name: "fetch".into(),
        image: Some(store.cli_image().into()),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), fetch_script(store).into()]),
        env: Some(cli_env(store, r)),
        resources: Some(super::pod::resources(super::engines::BACKUP_RESOURCES.0, super::engines::BACKUP_RESOURCES.1)),
        security_context: Some(super::pod::container_security(spec.uid, true, false)),
        volume_mounts: Some(mounts(true)),
        ..Default::default()
    };
    let check = Container {
        name: "restore".into(),
        image: Some(super::engines::resource_image(&r.engine, &r.version)),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), restore.into()]),
        env: Some(vec![plain_env("HOME", "/tmp")]),
        resources: Some(super::pod::resources(spec.cpu, spec.memory)),
        security_context: Some(super::pod::container_security(spec.uid, true, false)),
        volume_mounts: Some(mounts(true)),
        ..Default::default()
    };
    let job = DatabaseJob {
        name: &name,
        schedule: DRILL_SCHEDULE,
        deadline: DRILL_DEADLINE_SECONDS,
        keep_seconds: 7 * 86_400,
    };
    Some(database_cron_job(cx, &job, &store.service_account, spec.uid, vec![fetch], vec![check], &["tmp", "restore"]))
}

/// The schedule and limits of a [`database_cron_job`].
pub struct DatabaseJob<'a> {
    pub name: &'a str,
    pub schedule: &'a str,
    /// Seconds a run may take before it counts as failed.
    pub deadline: i64,
    /// Seconds a finished run is kept.
    pub keep_seconds: i32,
}

/// A CronJob of a database's backup tooling (the drill, a standby's
/// refresh): one run at a time, never retried (a failure stays in the
/// history and fires the Job-failed alerts), synced after the workloads,
/// its pod as `account` with `emptyDir` volumes `volumes`.
pub fn database_cron_job(
    cx: &EnvPlan,
    job: &DatabaseJob,
    account: &str,
    uid: u32,
    init: Vec<Container>,
    containers: Vec<Container>,
    volumes: &[&str],
) -> CronJob {
    let name = job.name;
    let empty = |n: &str| Volume { name: n.into(), empty_dir: Some(Default::default()), ..Default::default() };
    let mut meta = cx.meta(name, name, "backup");
    meta.annotations = Some(super::pod::checkov_skips(super::pod::DATABASE_SKIPS));
    meta.annotations.get_or_insert_with(BTreeMap::new).extend([super::env::sync_wave(super::env::Wave::Deferred)]);
    CronJob {
        metadata: meta,
        spec: Some(CronJobSpec {
            schedule: job.schedule.into(),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(0),
                    active_deadline_seconds: Some(job.deadline),
                    ttl_seconds_after_finished: Some(job.keep_seconds),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta { labels: Some(cx.labels(name, "backup")), ..Default::default() }),
                        spec: Some(PodSpec {
                            service_account_name: Some(account.to_string()),
                            automount_service_account_token: Some(false),
                            security_context: Some(super::pod::pod_security(uid)),
                            restart_policy: Some("Never".into()),
                            init_containers: Some(init),
                            containers,
                            volumes: Some(volumes.iter().map(|v| empty(v)).collect()),
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    }
}

/// `<resource>-restore-drill`.
pub fn drill_name(r: &Resource) -> String {
    format!("{}-restore-drill", r.name)
}

/// The drill pod reaches only the store (HTTPS outside the private ranges),
/// on GKE the metadata server its identity comes from ([`store_egress`]),
/// and DNS.
pub fn drill_policy(cx: &EnvPlan, store: &OffCluster, r: &Resource) -> NetworkPolicy {
    job_policy(cx, &drill_name(r), store_egress(store))
}

/// The policy of a job's pods `name`: nothing reaches them, they reach `egress`.
pub fn job_policy(cx: &EnvPlan, name: &str, egress: Vec<NetworkPolicyEgressRule>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: cx.meta(name, name, "network"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(super::env::label_selector(name)),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: Some(egress),
        }),
    }
}

/// What a pod that reads or writes the store may reach: HTTPS to the
/// store's public endpoints, and on GCP the GKE metadata server, which
/// hands out the Workload Identity tokens — `169.254.169.254:80` under GKE
/// Dataplane V2 (the clusters this output creates), `169.254.169.252:988`
/// on clusters without it.
pub fn store_egress(store: &OffCluster) -> Vec<NetworkPolicyEgressRule> {
    let mut out = vec![https_out()];
    if let StoreKind::Gcs { .. } = store.kind {
        for (cidr, port) in [("169.254.169.254/32", 80), ("169.254.169.252/32", 988)] {
            out.push(NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock { cidr: cidr.into(), except: None }),
                    ..Default::default()
                }]),
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(port)),
                    protocol: Some("TCP".into()),
                    end_port: None,
                }]),
            });
        }
    }
    out
}

/// HTTPS to addresses outside the private ranges (S3's and GCS's public endpoints).
pub fn https_out() -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(vec![NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: "0.0.0.0/0".into(),
                except: Some(vec!["10.0.0.0/8".into(), "172.16.0.0/12".into(), "192.168.0.0/16".into()]),
            }),
            ..Default::default()
        }]),
        ports: Some(vec![NetworkPolicyPort {
            port: Some(IntOrString::Int(443)),
            protocol: Some("TCP".into()),
            end_port: None,
        }]),
    }
}

/// Why the in-cluster backups of a program stay in the cluster, when they do
/// (W0014): Azure, which has no off-cluster store yet, or no AWS account for
/// the role ARN.
pub fn stays_in_cluster(model: &crate::model::Model, env: &crate::model::Environment) -> Option<&'static str> {
    match model.cloud_of(env) {
        crate::model::Cloud::Aws { .. } if super::identity::account(model).is_some() => None,
        crate::model::Cloud::Aws { .. } => Some(
            "the program names no AWS account (the `aws` cloud's or the ECR registry's `account`) for the upload role",
        ),
        crate::model::Cloud::Gcp { .. } => None,
        crate::model::Cloud::Azure { .. } => Some("Azure has no off-cluster backup copy yet"),
    }
}
