//! Backups of in-cluster resources: the schedule and the script.

use super::engines::secret_env;
use super::env::connection_secret;
use super::EnvPlan;
use crate::model::{Engine, Resource};
use k8s_openapi::api::core::v1::EnvVar;

pub fn cron(schedule: &str) -> &'static str {
    match schedule {
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
