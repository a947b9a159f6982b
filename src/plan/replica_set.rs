//! In-cluster MongoDB replica sets (`read_replicas = N` on a mongodb
//! resource the environment runs in the cluster): a StatefulSet of 1 + N
//! members started with `--replSet rs0` and an internal-authentication key
//! file, a Job that initiates the set (or adds and removes members when N
//! changes), and the connection URL that names every member with the set's
//! name and `readPreference=secondaryPreferred`, so drivers send writes to
//! the primary and reads to the secondaries.
//!
//! **The key file.** Members authenticate to each other with a shared key
//! (`--keyFile`), the `keyfile` entry of the resource's connection Secret.
//! mongod refuses a key file that its group may read, and a Secret volume
//! with an `fsGroup` always is, so an init container copies it to a
//! memory-backed `emptyDir` with mode 0400, owned by the database's user.
//!
//! **First start.** The image's entrypoint creates the root user when the
//! data directory is empty; only member 0 does (the other members start
//! without the `MONGO_INITDB_*` variables), and the others receive the users
//! by initial sync once the Job has initiated the set on member 0.
//!
//! A managed MongoDB (DocumentDB) takes `read_replicas` as its replica
//! instances instead, and its URL already carries the set and the read
//! preference (`emit::terraform`).

use super::engines::{plain_env, resource_image, secret_env, spec};
use super::env::connection_secret;
use super::EnvPlan;
use crate::model::{Engine, Resource};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, KeyToPath, PodSpec, PodTemplateSpec, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// The replica set's name, in the members' arguments and the URL.
pub const NAME: &str = "rs0";
/// The connection Secret's key holding the members' shared key.
pub const KEYFILE_KEY: &str = "keyfile";
const KEYFILE_DIR: &str = "/etc/mongo-keyfile";
const KEYFILE_SECRET_DIR: &str = "/etc/mongo-keyfile-secret";

/// A replica set in one environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaSet {
    /// 1 + `read_replicas`.
    pub members: u32,
    /// `db-0.db.<namespace>.svc.cluster.local:27017`, ... (the headless
    /// Service gives each member a stable name).
    pub hosts: Vec<String>,
}

/// The replica set `r` runs as in this environment, if any: a mongodb in
/// the cluster with read replicas.
pub fn of(cx: &EnvPlan, r: &Resource) -> Option<ReplicaSet> {
    if r.engine != Engine::MongoDb || !cx.in_cluster(r.id) {
        return None;
    }
    let replicas = cx.resource_use(r.id).read_replicas;
    if replicas == 0 {
        return None;
    }
    let members = 1 + replicas;
    let port = spec(&r.engine).port;
    let ns = &cx.env.namespace;
    let hosts = (0..members).map(|i| format!("{}-{i}.{}.{ns}.svc.cluster.local:{port}", r.name, r.name)).collect();
    Some(ReplicaSet { members, hosts })
}

/// The URL clients read: every member, the set's name, reads from the
/// secondaries when one is up (writes always go to the primary).
pub fn url(r: &Resource, rs: &ReplicaSet, password: &str) -> String {
    format!(
        "mongodb://admin:{password}@{}/{}?authSource=admin&replicaSet={NAME}&readPreference=secondaryPreferred",
        rs.hosts.join(","),
        r.database
    )
}

/// The members' command: the image's entrypoint with the set's arguments;
/// members other than 0 start without the root-user variables.
pub fn command() -> Vec<String> {
    let script = format!(
        "case \"$HOSTNAME\" in\n  *-0) ;;\n  *) unset MONGO_INITDB_ROOT_USERNAME MONGO_INITDB_ROOT_PASSWORD MONGO_INITDB_DATABASE ;;\nesac\n\
         exec docker-entrypoint.sh mongod --replSet {NAME} --keyFile {KEYFILE_DIR}/{KEYFILE_KEY}\n"
    );
    vec!["/bin/sh".into(), "-c".into(), script]
}

/// The init container that puts the key file where mongod accepts it.
pub fn keyfile_container(r: &Resource) -> Option<Container> {
    let c = spec(&r.engine).in_cluster.as_ref()?;
    Some(Container {
        name: "keyfile".into(),
        image: Some(resource_image(&r.engine, &r.version)),
        image_pull_policy: Some("Always".into()),
        command: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            format!(
                "cp {KEYFILE_SECRET_DIR}/{KEYFILE_KEY} {KEYFILE_DIR}/{KEYFILE_KEY} && chmod 0400 {KEYFILE_DIR}/{KEYFILE_KEY}"
            ),
        ]),
        resources: Some(super::pod::resources(super::engines::BACKUP_RESOURCES.0, super::engines::BACKUP_RESOURCES.1)),
        security_context: Some(super::pod::container_security(c.uid, true, false)),
        volume_mounts: Some(vec![
            VolumeMount { name: "keyfile-secret".into(), mount_path: KEYFILE_SECRET_DIR.into(), read_only: Some(true), ..Default::default() },
            VolumeMount { name: "keyfile".into(), mount_path: KEYFILE_DIR.into(), ..Default::default() },
        ]),
        ..Default::default()
    })
}

/// The mount of the copied key file in the member container.
pub fn keyfile_mount() -> VolumeMount {
    VolumeMount { name: "keyfile".into(), mount_path: KEYFILE_DIR.into(), read_only: Some(true), ..Default::default() }
}

/// The key file's volumes: the Secret's entry, and the memory-backed copy.
pub fn keyfile_volumes(r: &Resource) -> Vec<Volume> {
    vec![
        Volume {
            name: "keyfile-secret".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(connection_secret(&r.name)),
                items: Some(vec![KeyToPath { key: KEYFILE_KEY.into(), path: KEYFILE_KEY.into(), mode: None }]),
                default_mode: Some(0o400),
                optional: Some(false),
            }),
            ..Default::default()
        },
        Volume {
            name: "keyfile".into(),
            empty_dir: Some(EmptyDirVolumeSource { medium: Some("Memory".into()), size_limit: None }),
            ..Default::default()
        },
    ]
}

/// `<resource>-replica-set`: the Job's name, and its pods' name label.
pub fn job_name(r: &Resource) -> String {
    format!("{}-replica-set", r.name)
}

/// What the Job runs: wait until every member answers, then on member 0
/// initiate the set, or once it exists add and remove members (one at a
/// voting member per reconfiguration, as MongoDB requires, retried while
/// the previous one commits) until they are the declared ones, on the primary. Idempotent:
/// ArgoCD runs it after every sync. `$$` is a literal `$` for Kubernetes.
const JOB_SCRIPT: &str = "set -eu\n\
for h in $MEMBERS; do\n\
  n=0\n\
  until mongosh --quiet \"mongodb://$h/admin?directConnection=true\" --eval 'db.adminCommand({ping: 1}).ok' >/dev/null 2>&1; do\n\
    n=$$((n + 1)); test \"$n\" -lt 120 || { echo \"member $h does not answer\" >&2; exit 1; }\n\
    sleep 5\n\
  done\n\
done\n\
first=$${MEMBERS%% *}\n\
mongosh --quiet \"mongodb://$first/admin?directConnection=true\" -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --eval '\n\
const hosts = process.env.MEMBERS.split(\" \");\n\
let conf = null;\n\
try { conf = db.adminCommand({ replSetGetConfig: 1 }).config; } catch (e) { if (e.codeName !== \"NotYetInitialized\") throw e; }\n\
if (conf === null) {\n\
  db.adminCommand({ replSetInitiate: { _id: process.env.REPLICA_SET, members: hosts.map((host, i) => ({ _id: i, host })) } });\n\
  print(\"replica set initiated: \" + hosts.join(\", \"));\n\
} else {\n\
  const primary = db.adminCommand({ hello: 1 }).primary;\n\
  const admin = connect(\"mongodb://admin:\" + encodeURIComponent(process.env.MONGO_PASSWORD) + \"@\" + primary + \"/admin?directConnection=true&authSource=admin\");\n\
  const change = (edit) => {\n\
    for (let i = 0; ; i++) {\n\
      const cfg = admin.adminCommand({ replSetGetConfig: 1 }).config;\n\
      if (!edit(cfg)) return;\n\
      cfg.version += 1;\n\
      try { admin.adminCommand({ replSetReconfig: cfg }); return; } catch (e) { if (i >= 60) throw e; sleep(5000); }\n\
    }\n\
  };\n\
  for (const h of hosts) change((cfg) => {\n\
    if (cfg.members.some((m) => m.host === h)) return false;\n\
    cfg.members.push({ _id: Math.max(...cfg.members.map((m) => m._id)) + 1, host: h });\n\
    print(\"adding \" + h);\n\
    return true;\n\
  });\n\
  for (const h of conf.members.map((m) => m.host)) change((cfg) => {\n\
    if (hosts.includes(h) || !cfg.members.some((m) => m.host === h)) return false;\n\
    cfg.members = cfg.members.filter((m) => m.host !== h);\n\
    print(\"removing \" + h);\n\
    return true;\n\
  });\n\
  print(\"replica set members: \" + hosts.join(\", \"));\n\
}'\n";

/// The Job that initiates or reconfigures the set, as an ArgoCD PostSync
/// hook (recreated at every sync, so it also follows a change of N).
pub fn job(cx: &EnvPlan, r: &Resource, rs: &ReplicaSet) -> Option<Job> {
    let c = spec(&r.engine).in_cluster.as_ref()?;
    let name = job_name(r);
    let container = Container {
        name: "initiate".into(),
        image: Some(resource_image(&r.engine, &r.version)),
        image_pull_policy: Some("Always".into()),
        command: Some(vec!["/bin/sh".into(), "-c".into(), JOB_SCRIPT.into()]),
        env: Some(vec![
            plain_env("MEMBERS", &rs.hosts.join(" ")),
            plain_env("REPLICA_SET", NAME),
            plain_env("HOME", "/tmp"),
            secret_env("MONGO_PASSWORD", &connection_secret(&r.name), "password"),
        ]),
        resources: Some(super::pod::resources(super::engines::BACKUP_RESOURCES.0, super::engines::BACKUP_RESOURCES.1)),
        security_context: Some(super::pod::container_security(c.uid, true, false)),
        volume_mounts: Some(vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..Default::default() }]),
        ..Default::default()
    };
    let mut meta = cx.meta(&name, &name, "database");
    let mut annotations = super::pod::checkov_skips(super::pod::DATABASE_SKIPS);
    annotations.insert("argocd.argoproj.io/hook".into(), "PostSync".into());
    annotations.insert("argocd.argoproj.io/hook-delete-policy".into(), "BeforeHookCreation".into());
    meta.annotations = Some(annotations);
    Some(Job {
        metadata: meta,
        spec: Some(JobSpec {
            backoff_limit: Some(6),
            active_deadline_seconds: Some(1800),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(cx.labels(&name, "database")), ..Default::default() }),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    security_context: Some(super::pod::pod_security(c.uid)),
                    restart_policy: Some("Never".into()),
                    containers: vec![container],
                    volumes: Some(vec![Volume {
                        name: "tmp".into(),
                        empty_dir: Some(Default::default()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    })
}

/// The Job's annotations as the chart writes them (its values carry the
/// spec; the chart adds the metadata).
pub fn job_annotations() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("argocd.argoproj.io/hook".to_string(), "PostSync".to_string()),
        ("argocd.argoproj.io/hook-delete-policy".to_string(), "BeforeHookCreation".to_string()),
    ])
}
