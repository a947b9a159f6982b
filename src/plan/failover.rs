//! A warm standby (`standby_of`): one decision, rendered by the primary's
//! Terraform root (the Route 53 health check, the failover record pair,
//! the restore role, the WAF's admission of the health checkers) and by the
//! standby's manifests (the refresh job).
//!
//! How it works when applied:
//! - Route 53 probes the primary's public host through its CloudFront
//!   distribution over HTTPS every 30 seconds; after three failures it
//!   answers the host with the standby's ingress address (the SECONDARY
//!   record), and with CloudFront again once the primary passes.
//! - The standby serves the primary's host beside its own (an Ingress
//!   `<service>-failover` per route), with a certificate cert-manager gets
//!   through HTTP-01: while the primary serves the host, CloudFront sends
//!   `/.well-known/acme-challenge/*` to the standby's own host, so the
//!   certificate is there before it is needed and renews either way.
//! - Every 15 minutes a job in the standby asks Route 53 for the primary's
//!   health check. While the primary is healthy it restores the newest
//!   replicated dump of each database (the replica bucket in the
//!   `recovery { region }`, read as an AWS role that trusts the standby's
//!   Google service account), so a failover loses at most a dump interval,
//!   the replication and 15 minutes (E0340).
//! - The first time it sees the primary unhealthy it holds the failover
//!   (the PRIMARY record's calculated health check set to need 2 of its 1
//!   child) and records that the standby now serves; it never restores over
//!   the standby's data again. Failing back, after the standby's data went
//!   back to the primary, is a person's decision (they lower the threshold
//!   and delete the record; the architecture page says how). A job that
//!   cannot tell fails and restores nothing. An outage shorter than the
//!   job's interval fails back by itself: writes the standby took meanwhile
//!   are not carried back.

use super::backup::{self, OffCluster, StoreKind};
use super::EnvPlan;
use crate::model::{Cloud, Engine, Environment, Exposure, Model, Probe, Resource};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Container, EnvVar, VolumeMount};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The audience of the Google ID token the refresh job trades for AWS
/// credentials (the trust policy's `accounts.google.com:oaud`).
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// The restore role's tag naming the primary's health check: the job reads
/// it from the role it acts as, since the manifests cannot know the id.
pub const HEALTH_CHECK_TAG: &str = "deployc.dev/health-check";
/// The restore role's tag naming the calculated health check of the
/// PRIMARY record, whose threshold the job raises to hold a failover.
pub const LATCH_TAG: &str = "deployc.dev/failover-latch";
/// The path of ACME HTTP-01 challenges, which CloudFront sends to the
/// standby (`Failover::standby_host`) and the web ACL admits from anyone.
pub const ACME_PATH: &str = "/.well-known/acme-challenge/*";
/// When the refresh job runs: every 15 minutes ([`crate::model::STANDBY_REFRESH_MS`]).
pub const REFRESH_SCHEDULE: &str = "*/15 * * * *";
/// How long a refresh may take before it counts as failed.
pub const REFRESH_DEADLINE_SECONDS: i64 = 3600;
/// Where the job records what it restored and whether the standby serves.
pub const STATE_DB: &str = "deployc_standby";
/// Route 53 calls an endpoint healthy while more than this share of its
/// checkers (in percent) report it healthy.
pub const HEALTHY_SHARE: u32 = 18;

/// One primary and its standby.
#[derive(Clone, Debug, PartialEq)]
pub struct Failover {
    pub primary: String,
    pub standby: String,
    /// The primary's public host (its CDN's), which the records switch.
    pub host: String,
    /// The Route 53 zone holding [`Self::host`].
    pub zone: String,
    /// The path Route 53's health check requests on the host: the health
    /// path of a service the host's routes send it to.
    pub health_path: String,
    /// `<project>-<standby>-standby-restore`, in the primary's account.
    pub role_name: String,
    pub role_arn: String,
    /// The standby's own name for the same service (its Ingress host), the
    /// origin CloudFront sends ACME challenges for [`Self::host`] to, so the
    /// standby's certificate for the host is issued and renewed while the
    /// primary serves it; `None` when the two names are the same.
    pub standby_host: Option<String>,
    /// The primary's backup replica and its region.
    pub replica_bucket: String,
    pub replica_region: String,
}

/// The failover of which `env` is the primary, if it has a standby.
pub fn of_primary(model: &Model, env: &Environment) -> Option<Failover> {
    let standby = model.environments.iter().find(|e| e.standby_of.as_ref() == Some(&env.name))?;
    plan(model, env, standby)
}

/// The failover of which `env` is the standby.
pub fn of_standby(model: &Model, env: &Environment) -> Option<Failover> {
    let primary = model.environments.iter().find(|e| Some(&e.name) == env.standby_of.as_ref())?;
    plan(model, primary, env)
}

fn plan(model: &Model, primary: &Environment, standby: &Environment) -> Option<Failover> {
    let cdn = super::edge::edge(model, primary)?.cdn?;
    let zone = model.project.dns.as_ref()?.zone.trim_end_matches('.').to_string();
    let store = backup::off_cluster_of(model, primary)?;
    let replica_region = backup::secondary_region(model, primary)?.to_string();
    let account = super::identity::account(model)?;
    if !matches!(model.cloud_of(standby), Cloud::Gcp { .. }) {
        return None;
    }
    let role_name = format!("{}-{}-standby-restore", model.project.name, standby.name);
    let standby_host = standby.deployments.iter().find_map(|d| match &model.service(d.service).expose {
        Exposure::Ingress { host, .. }
            if crate::model::render_env(host, &model.project, &primary.name, &primary.namespace, &primary.domain)
                == cdn.host =>
        {
            Some(crate::model::render_env(host, &model.project, &standby.name, &standby.namespace, &standby.domain))
        }
        _ => None,
    });
    Some(Failover {
        primary: primary.name.clone(),
        standby: standby.name.clone(),
        health_path: health_path(model, primary, &cdn.host),
        standby_host: standby_host.filter(|h| *h != cdn.host),
        host: cdn.host,
        zone,
        role_arn: super::identity::role_arn(account, &role_name),
        role_name,
        replica_bucket: backup::replica_bucket(&store, &replica_region),
        replica_region,
    })
}

/// The health path of a service that the host's longest matching route
/// sends that path to (an Ingress path covers its prefix), so the probe
/// reaches a pod through CloudFront and the ALB; `/` when none does.
pub fn health_path(model: &Model, env: &Environment, host: &str) -> String {
    let routes: Vec<(&str, &crate::model::Service)> = env
        .deployments
        .iter()
        .map(|d| model.service(d.service))
        .filter_map(|s| match &s.expose {
            Exposure::Ingress { host: h, path, .. }
                if crate::model::render_env(h, &model.project, &env.name, &env.namespace, &env.domain) == host =>
            {
                Some((path.as_str(), s))
            }
            _ => None,
        })
        .collect();
    let covers = |prefix: &str, p: &str| {
        let prefix = prefix.trim_end_matches('/');
        p == prefix || p.starts_with(&format!("{prefix}/"))
    };
    for (_, s) in &routes {
        let Some(Probe::Http { path, port }) = &s.health else { continue };
        if s.port != Some(*port) {
            continue;
        }
        let served_by = routes.iter().filter(|(prefix, _)| covers(prefix, path)).max_by_key(|(prefix, _)| prefix.len());
        if served_by.is_some_and(|(_, t)| t.name == s.name) {
            return path.clone();
        }
    }
    "/".into()
}

/// The in-cluster MongoDB resources the standby restores.
pub fn restored<'m>(cx: &EnvPlan<'m>) -> Vec<&'m Resource> {
    backup::backed_up(cx).into_iter().filter(|r| r.engine == Engine::MongoDb).collect()
}

/// `<resource>-standby-refresh`.
pub fn job_name(r: &Resource) -> String {
    format!("{}-standby-refresh", r.name)
}

/// Reads what the standby last restored, or `serving`, into `/work/state`.
pub const STATE_SCRIPT: &str = "set -eu\n\
mongosh \"$MONGO_URI\" -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --quiet --eval 'const s = db.getSiblingDB(\"deployc_standby\").state.findOne({_id: \"standby\"}); print(s && s.serving ? \"serving\" : (s && s.restored) || \"\")' > /work/state\n";

/// Fetches a Google ID token for the pod's Google service account (GKE
/// Workload Identity's metadata server), the web identity the AWS CLI
/// trades for the restore role's credentials.
pub const TOKEN_SCRIPT: &str = "set -eu\n\
curl -sSf -H 'Metadata-Flavor: Google' \"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity?audience=$TOKEN_AUDIENCE\" -o /work/token\n\
test -s /work/token\n";

/// Decides what the restore step does (`/work/action`): nothing while the
/// standby serves (`disarmed`), `serve` when the primary's health check
/// fails — after holding the failover (the latch's threshold to 2), so
/// Route 53 does not fail back onto older data by itself —, `restore` with the newest replicated dump in `/work/latest` when
/// it is newer than the last restored one, `none` otherwise. Anything it
/// cannot read fails the job and restores nothing.
pub const DECIDE_SCRIPT: &str = "set -eu\n\
fail() { echo \"STANDBY REFRESH FAILED: $1\" >&2; exit 1; }\n\
state=$$(cat /work/state)\n\
if [ \"$state\" = serving ]; then echo disarmed > /work/action; exit 0; fi\n\
id=$$(aws iam list-role-tags --role-name \"$RESTORE_ROLE\" --query \"Tags[?Key=='$HEALTH_CHECK_TAG'].Value\" --output text) || fail 'cannot read the restore role'\n\
if [ -z \"$id\" ] || [ \"$id\" = None ]; then fail 'the restore role names no health check'; fi\n\
aws route53 get-health-check-status --health-check-id \"$id\" --query '[length(HealthCheckObservations), length(HealthCheckObservations[?starts_with(StatusReport.Status, `Success`)])]' --output text > /work/health || fail \"cannot read health check $id\"\n\
read -r seen ok < /work/health\n\
[ \"$seen\" -gt 0 ] 2>/dev/null || fail \"health check $id has no observations\"\n\
if [ $$((ok * 100)) -le $$((seen * HEALTHY_SHARE)) ]; then\n\
  echo \"the primary fails its health check ($ok of $seen checkers pass)\"\n\
  latch=$$(aws iam list-role-tags --role-name \"$RESTORE_ROLE\" --query \"Tags[?Key=='$LATCH_TAG'].Value\" --output text) || fail 'cannot read the restore role'\n\
  if [ -z \"$latch\" ] || [ \"$latch\" = None ]; then fail 'the restore role names no failover latch'; fi\n\
  aws route53 update-health-check --health-check-id \"$latch\" --health-threshold 2 > /dev/null || fail \"cannot hold the failover on $latch\"\n\
  echo serve > /work/action; exit 0\n\
fi\n\
key=$$(aws s3api list-objects-v2 --bucket \"$BACKUP_BUCKET\" --prefix \"$BACKUP_PREFIX/\" --query 'sort_by(Contents, &LastModified)[-1].Key' --output text) || fail \"cannot list s3://$BACKUP_BUCKET/$BACKUP_PREFIX/\"\n\
if [ -z \"$key\" ] || [ \"$key\" = None ]; then echo \"no replicated backup under s3://$BACKUP_BUCKET/$BACKUP_PREFIX/ yet\"; echo none > /work/action; exit 0; fi\n\
if [ \"$key\" = \"$state\" ]; then echo \"up to date with $key\"; echo none > /work/action; exit 0; fi\n\
aws s3 cp \"s3://$BACKUP_BUCKET/$key\" /work/latest --only-show-errors || fail \"cannot fetch $key\"\n\
test -s /work/latest || fail \"$key is empty\"\n\
printf '%s' \"$key\" > /work/key\n\
echo restore > /work/action\n";

/// Does what [`DECIDE_SCRIPT`] decided. A restore replaces the primary's
/// databases in the standby (`--drop`), never its users, its own state or
/// the server's (`admin`, `config`, `local`); the first `serve` records the
/// failover and fails the job once, so the Job-failed alert says it.
pub const RESTORE_SCRIPT: &str = "set -eu\n\
fail() { echo \"STANDBY REFRESH FAILED: $1\" >&2; exit 1; }\n\
mark() { mongosh \"$MONGO_URI\" -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --quiet --eval \"$1\"; }\n\
case \"$$(cat /work/action)\" in\n\
disarmed) echo 'this standby serves since a failover: nothing is restored over its data until a person deletes deployc_standby.state' ;;\n\
serve)\n\
  mark 'db.getSiblingDB(\"deployc_standby\").state.updateOne({_id: \"standby\"}, {$set: {serving: true, since: new Date()}}, {upsert: true})' || fail 'cannot record the failover'\n\
  echo 'FAILOVER: the primary fails its health check; this standby keeps its own data from now on' >&2\n\
  exit 1 ;;\n\
restore)\n\
  mongorestore --uri \"$MONGO_URI\" -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --gzip --archive=/work/latest --drop --nsExclude 'admin.*' --nsExclude 'config.*' --nsExclude 'local.*' --nsExclude 'deployc_standby.*' || fail 'mongorestore'\n\
  KEY=$$(cat /work/key)\n\
  export KEY\n\
  mark 'db.getSiblingDB(\"deployc_standby\").state.updateOne({_id: \"standby\"}, {$set: {restored: process.env.KEY, at: new Date()}}, {upsert: true})' || fail 'cannot record the restore'\n\
  echo \"restored $KEY\" ;;\n\
*) echo 'nothing to restore' ;;\n\
esac\n";

fn plain(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), value_from: None }
}

/// The URI of the standby's server: every replica set member with the
/// set's name (writes find the primary), or the Service.
fn mongo_uri(cx: &EnvPlan, r: &Resource) -> String {
    match super::replica_set::of(cx, r) {
        Some(rs) => format!("mongodb://{}/?replicaSet={}", rs.hosts.join(","), super::replica_set::NAME),
        None => format!("mongodb://{}.{}.svc.cluster.local:{}/", r.name, cx.ns(), super::engines::spec(&r.engine).port),
    }
}

/// The refresh job of one database in the standby: four steps in one pod,
/// sharing `/work` (an `emptyDir`), as the backup ServiceAccount (the
/// Google service account through Workload Identity).
pub fn refresh(cx: &EnvPlan, f: &Failover, store: &OffCluster, r: &Resource) -> Option<CronJob> {
    let spec = super::engines::spec(&r.engine).in_cluster.as_ref()?;
    let name = job_name(r);
    let secret = super::env::connection_secret(&r.name);
    let mounts = vec![
        VolumeMount { name: "work".into(), mount_path: "/work".into(), ..Default::default() },
        VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..Default::default() },
    ];
    let db_env = vec![
        plain("MONGO_URI", &mongo_uri(cx, r)),
        super::engines::secret_env("MONGO_PASSWORD", &secret, "password"),
        plain("HOME", "/tmp"),
    ];
    let step = |n: &str, image: &str, script: &str, env: Vec<EnvVar>, big: bool| Container {
        name: n.into(),
        image: Some(image.into()),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), script.into()]),
        env: Some(env),
        resources: Some(if big {
            super::pod::resources(spec.cpu, spec.memory)
        } else {
            super::pod::resources(super::engines::BACKUP_RESOURCES.0, super::engines::BACKUP_RESOURCES.1)
        }),
        security_context: Some(super::pod::container_security(spec.uid, true, false)),
        volume_mounts: Some(mounts.clone()),
        ..Default::default()
    };
    let image = super::engines::resource_image(&r.engine, &r.version);
    let aws_env = vec![
        plain("AWS_ROLE_ARN", &f.role_arn),
        plain("AWS_ROLE_SESSION_NAME", &name),
        plain("AWS_WEB_IDENTITY_TOKEN_FILE", "/work/token"),
        plain("AWS_REGION", &f.replica_region),
        plain("RESTORE_ROLE", &f.role_name),
        plain("HEALTH_CHECK_TAG", HEALTH_CHECK_TAG),
        plain("LATCH_TAG", LATCH_TAG),
        plain("HEALTHY_SHARE", &HEALTHY_SHARE.to_string()),
        plain("BACKUP_BUCKET", &f.replica_bucket),
        plain("BACKUP_PREFIX", &r.name),
        plain("HOME", "/tmp"),
    ];
    let init = vec![
        step("state", &image, STATE_SCRIPT, db_env.clone(), false),
        step(
            "token",
            backup::GCLOUD_IMAGE,
            TOKEN_SCRIPT,
            vec![plain("TOKEN_AUDIENCE", AUDIENCE), plain("HOME", "/tmp")],
            false,
        ),
        step("decide", backup::AWS_CLI_IMAGE, DECIDE_SCRIPT, aws_env, false),
    ];
    let restore = step("restore", &image, RESTORE_SCRIPT, db_env, true);
    let job = backup::DatabaseJob {
        name: &name,
        schedule: REFRESH_SCHEDULE,
        deadline: REFRESH_DEADLINE_SECONDS,
        keep_seconds: 86_400,
    };
    Some(backup::database_cron_job(cx, &job, &store.service_account, spec.uid, init, vec![restore], &["work", "tmp"]))
}

/// The refresh pod reaches the database, AWS's APIs over HTTPS and the GKE
/// metadata server ([`backup::store_egress`]); nothing reaches it.
pub fn refresh_policy(cx: &EnvPlan, store: &OffCluster, r: &Resource) -> NetworkPolicy {
    let name = job_name(r);
    let mut egress = vec![NetworkPolicyEgressRule {
        to: Some(vec![NetworkPolicyPeer {
            pod_selector: Some(super::env::label_selector(&r.name)),
            ..Default::default()
        }]),
        ports: Some(vec![NetworkPolicyPort {
            port: Some(IntOrString::Int(super::engines::spec(&r.engine).port as i32)),
            protocol: Some("TCP".into()),
            end_port: None,
        }]),
    }];
    egress.extend(backup::store_egress(store));
    backup::job_policy(cx, &name, egress)
}

/// Whether this environment runs refresh jobs (a standby on GKE with
/// in-cluster MongoDB to restore).
pub fn refreshes(cx: &EnvPlan) -> bool {
    of_standby(cx.model, cx.env).is_some()
        && backup::off_cluster(cx).is_some_and(|s| matches!(s.kind, StoreKind::Gcs { .. }))
        && !restored(cx).is_empty()
}

/// The standby's refresh objects, as `(kind, name, object)`.
pub fn objects(cx: &EnvPlan) -> Vec<(&'static str, String, serde_json::Value)> {
    let (Some(f), Some(store)) = (of_standby(cx.model, cx.env), backup::off_cluster(cx)) else { return Vec::new() };
    if !matches!(store.kind, StoreKind::Gcs { .. }) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in restored(cx) {
        let name = job_name(r);
        if let Some(cj) = refresh(cx, &f, &store, r).and_then(|c| serde_json::to_value(c).ok()) {
            out.push(("CronJob", name.clone(), cj));
        }
        if let Ok(p) = serde_json::to_value(refresh_policy(cx, &store, r)) {
            out.push(("NetworkPolicy", name, p));
        }
    }
    out
}
