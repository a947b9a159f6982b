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

/// The shell script of a backup job and the environment it needs.
pub fn backup_script(cx: &EnvPlan, r: &Resource, b: &crate::model::Backup) -> (String, Vec<EnvVar>) {
    let host = format!("{}.{}.svc.cluster.local", r.name, cx.ns());
    // `$$(` keeps Kubernetes from expanding the shell's command substitution.
    let stamp = "$$(date +%Y%m%d-%H%M%S)";
    let (dump, ext, env) = match r.engine {
        Engine::Postgres => (
            format!("pg_dump -h {host} -U app -d {} | gzip > /backups/{}-{stamp}.sql.gz", r.database, r.name),
            "sql.gz",
            vec![secret_env("PGPASSWORD", &connection_secret(&r.name), "password")],
        ),
        Engine::Redis => (
            format!("redis-cli -h {host} -a \"$REDIS_PASSWORD\" --no-auth-warning --rdb /backups/{}-{stamp}.rdb", r.name),
            "rdb",
            vec![secret_env("REDIS_PASSWORD", &connection_secret(&r.name), "password")],
        ),
        _ => (
            format!(
                "mongodump --host {host} -u admin -p \"$MONGO_PASSWORD\" --authenticationDatabase admin --gzip --archive=/backups/{}-{stamp}.archive.gz",
                r.name
            ),
            "archive.gz",
            vec![secret_env("MONGO_PASSWORD", &connection_secret(&r.name), "password")],
        ),
    };
    let script = format!("set -eu\n{dump}\nfind /backups -name '*.{ext}' -mtime +{} -delete\n", b.retain_days);
    (script, env)
}
