//! The backing-resource engines as one table: every fact that varies by
//! engine (port, image, runtime user and paths, resources, arguments, the
//! environment of its container, the backup tool) is a row here, read by the
//! plan, the Kubernetes and Helm renderers, Terraform and the docs.

use super::addons::Addon;
use super::env::connection_secret;
use crate::model::{Engine, Quantity, Resource};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, SecretKeySelector};

/// How an engine runs inside the cluster (StatefulSet + headless Service).
pub struct InCluster {
    /// Official image repository; the tag is `{version}{tag_suffix}`.
    pub image: &'static str,
    pub tag_suffix: &'static str,
    /// The uid to run as. The official images support an arbitrary non-root
    /// uid when the data volume is writable by the pod's fsGroup, so all run
    /// as a high uid that cannot collide with a host user.
    pub uid: u32,
    /// Where it keeps its data (the persistent volume's mount).
    pub data_path: &'static str,
    /// Other paths it writes (emptyDir volumes under a read-only root).
    pub scratch: &'static [&'static str],
    pub cpu: Quantity,
    pub memory: Quantity,
    /// Container arguments (`$(VAR)` expands from the container's env).
    pub args: &'static [&'static str],
    /// The admin user the image creates and the connection Secret names.
    pub user: &'static str,
}

/// One engine's row.
pub struct EngineSpec {
    pub engine: Engine,
    /// The port clients connect to in the cluster.
    pub port: u16,
    /// The port of the managed service, where it differs (MSK's TLS listener).
    pub managed_port: u16,
    /// In the cluster as our own StatefulSet.
    pub in_cluster: Option<InCluster>,
    /// In the cluster through an operator's resources instead (Strimzi).
    pub operator: Option<Addon>,
    /// The Secret keys clients read from the connection Secret, when the
    /// engine runs in the cluster (a Kafka bootstrap address needs none).
    pub secret_in_cluster: bool,
}

const SMALL: (Quantity, Quantity) =
    (Quantity { request: 100, limit: 500 }, Quantity { request: 256 << 20, limit: 512 << 20 });
const DB: (Quantity, Quantity) =
    (Quantity { request: 250, limit: 1000 }, Quantity { request: 512 << 20, limit: 1 << 30 });

/// The table, one row per [`Engine`] variant.
pub const ENGINES: &[EngineSpec] = &[
    EngineSpec {
        engine: Engine::Postgres,
        port: 5432,
        managed_port: 5432,
        operator: None,
        secret_in_cluster: true,
        in_cluster: Some(InCluster {
            image: "docker.io/library/postgres",
            tag_suffix: "-alpine",
            uid: 10001,
            data_path: "/var/lib/postgresql/data",
            scratch: &["/var/run/postgresql", "/tmp"],
            cpu: DB.0,
            memory: DB.1,
            args: &[],
            user: "app",
        }),
    },
    EngineSpec {
        engine: Engine::Redis,
        port: 6379,
        managed_port: 6379,
        operator: None,
        secret_in_cluster: true,
        in_cluster: Some(InCluster {
            image: "docker.io/library/redis",
            tag_suffix: "-alpine",
            uid: 10001,
            data_path: "/data",
            scratch: &["/tmp"],
            cpu: SMALL.0,
            memory: SMALL.1,
            args: &["--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"],
            user: "default",
        }),
    },
    EngineSpec {
        engine: Engine::MongoDb,
        port: 27017,
        managed_port: 27017,
        operator: None,
        secret_in_cluster: true,
        in_cluster: Some(InCluster {
            image: "docker.io/library/mongo",
            tag_suffix: "",
            uid: 10001,
            data_path: "/data/db",
            scratch: &["/tmp", "/data/configdb"],
            cpu: DB.0,
            memory: DB.1,
            args: &[],
            user: "admin",
        }),
    },
    EngineSpec {
        engine: Engine::Queue,
        port: 443,
        managed_port: 443,
        in_cluster: None,
        operator: None,
        secret_in_cluster: false,
    },
    EngineSpec {
        engine: Engine::Bucket,
        port: 443,
        managed_port: 443,
        in_cluster: None,
        operator: None,
        secret_in_cluster: false,
    },
    EngineSpec {
        engine: Engine::Kafka,
        port: 9092,
        managed_port: 9094,
        in_cluster: None,
        operator: Some(Addon::Strimzi),
        secret_in_cluster: false,
    },
];

/// The row of an engine. Every variant has one (a unit test checks).
pub fn spec(e: &Engine) -> &'static EngineSpec {
    ENGINES.iter().find(|s| &s.engine == e).unwrap_or(&ENGINES[0])
}

/// The labels of the pods an in-cluster resource runs in: our StatefulSet's
/// selector, or the label Strimzi puts on every pod of a Kafka cluster.
pub fn pod_labels(r: &Resource) -> std::collections::BTreeMap<String, String> {
    match spec(&r.engine).operator {
        Some(Addon::Strimzi) => super::kafka::cluster_label(&r.name),
        _ => super::env::selector(&r.name),
    }
}

/// The URL clients of an in-cluster engine connect with, around a password
/// (a literal or an expression of the tool that fills it in). The user and
/// database are the ones the engine's container is initialised with
/// (`engine_env`). `None` for engines without credentials.
pub fn connection_url(r: &Resource, host: &str, password: &str) -> Option<String> {
    let port = spec(&r.engine).port;
    let db = &r.database;
    match r.engine {
        Engine::Postgres => Some(format!("postgresql://app:{password}@{host}:{port}/{db}")),
        Engine::Redis => Some(format!("redis://:{password}@{host}:{port}/0")),
        Engine::MongoDb => Some(format!("mongodb://admin:{password}@{host}:{port}/{db}?authSource=admin")),
        Engine::Queue | Engine::Bucket | Engine::Kafka => None,
    }
}

/// Whether clients of `r` in the cluster authenticate with a password from
/// its connection Secret (and so whether that Secret exists at all).
pub fn uses_password(r: &Resource) -> bool {
    spec(&r.engine).secret_in_cluster && r.auth
}

/// The URL of an in-cluster resource that takes no password (`auth = false`).
pub fn open_url(r: &Resource, host: &str) -> Option<String> {
    let port = spec(&r.engine).port;
    match r.engine {
        Engine::Redis => Some(format!("redis://{host}:{port}/0")),
        _ => None,
    }
}

/// The container arguments of an in-cluster engine: the table's, without
/// the password option when the resource takes none.
pub fn engine_args(r: &Resource) -> Vec<String> {
    let Some(c) = &spec(&r.engine).in_cluster else { return Vec::new() };
    let mut out = Vec::new();
    let mut args = c.args.iter();
    while let Some(a) = args.next() {
        if *a == "--requirepass" && !r.auth {
            args.next();
            continue;
        }
        out.push(a.to_string());
    }
    out
}

/// CPU and memory of an in-cluster engine's container: the program's, else the table's.
pub fn engine_resources(r: &Resource) -> (Quantity, Quantity) {
    let Some(c) = &spec(&r.engine).in_cluster else { return SMALL };
    (r.cpu.unwrap_or(c.cpu), r.memory.unwrap_or(c.memory))
}

/// The port clients connect to in the cluster.
pub fn engine_port(e: &Engine) -> u16 {
    spec(e).port
}

/// The port clients connect to when the engine is a managed service.
pub fn managed_port(e: &Engine) -> u16 {
    spec(e).managed_port
}

/// A container image pinned to a version, for a resource run in-cluster.
/// The engine's variant suffix (`-alpine`) is added to a bare version number
/// (`16`, `7.2`) only; any other tag (`alpine`, `16.4-bookworm`) is used
/// exactly as written.
pub fn resource_image(e: &Engine, version: &str) -> String {
    let bare = !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.');
    match &spec(e).in_cluster {
        Some(c) if bare => format!("{}:{version}{}", c.image, c.tag_suffix),
        Some(c) => format!("{}:{version}", c.image),
        None => String::new(),
    }
}

#[cfg(test)]
mod image_tests {
    use super::*;

    #[test]
    fn a_tag_that_is_not_a_bare_version_is_used_as_written() {
        assert_eq!(resource_image(&Engine::Redis, "7"), "docker.io/library/redis:7-alpine");
        assert_eq!(resource_image(&Engine::Redis, "7.2"), "docker.io/library/redis:7.2-alpine");
        assert_eq!(resource_image(&Engine::Redis, "alpine"), "docker.io/library/redis:alpine");
        assert_eq!(resource_image(&Engine::Postgres, "16.4-bookworm"), "docker.io/library/postgres:16.4-bookworm");
    }
}

/// CPU (millicores) and memory (bytes) of a backup job's container.
pub const BACKUP_RESOURCES: (Quantity, Quantity) = SMALL_BACKUP;
const SMALL_BACKUP: (Quantity, Quantity) =
    (Quantity { request: 100, limit: 500 }, Quantity { request: 128 << 20, limit: 512 << 20 });

pub fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: Some(false) }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), ..Default::default() }
}

/// The environment of an in-cluster engine's container.
pub fn engine_env(r: &Resource) -> Vec<EnvVar> {
    let secret = connection_secret(&r.name);
    match r.engine {
        Engine::Postgres => vec![
            plain_env("POSTGRES_USER", "app"),
            plain_env("POSTGRES_DB", &r.database),
            plain_env("PGDATA", "/var/lib/postgresql/data/pgdata"),
            secret_env("POSTGRES_PASSWORD", &secret, "password"),
        ],
        Engine::Redis if !r.auth => Vec::new(),
        Engine::Redis => vec![secret_env("REDIS_PASSWORD", &secret, "password")],
        Engine::MongoDb => vec![
            plain_env("MONGO_INITDB_ROOT_USERNAME", "admin"),
            plain_env("MONGO_INITDB_DATABASE", &r.database),
            secret_env("MONGO_INITDB_ROOT_PASSWORD", &secret, "password"),
        ],
        Engine::Queue | Engine::Bucket | Engine::Kafka => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_has_exactly_one_row() {
        for e in [Engine::Postgres, Engine::Redis, Engine::MongoDb, Engine::Queue, Engine::Bucket, Engine::Kafka] {
            assert_eq!(ENGINES.iter().filter(|s| s.engine == e).count(), 1, "{e:?}");
            let s = spec(&e);
            assert_eq!(e.can_run_in_cluster(), s.in_cluster.is_some() || s.operator.is_some(), "{e:?}");
        }
    }
}
