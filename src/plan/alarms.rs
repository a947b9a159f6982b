//! CloudWatch alarms for what Terraform runs managed on AWS (RDS, Aurora,
//! DocumentDB, ElastiCache, SQS, MSK): Prometheus cannot see inside them,
//! so "database down" and "disk full" come from CloudWatch instead. Which
//! metric fits which engine is **the alarm table** below; the Terraform
//! emitter names each alarm's resource. Every alarm of an environment
//! notifies one SNS topic (the environment's key), which the declared
//! paging integrations subscribe to where AWS can deliver to them.

use crate::model::{Engine, IntegrationKind, Model, Resource, ResourceUse};

/// The kind of managed object an alarm watches, with its CloudWatch dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watched {
    /// An RDS instance (`DBInstanceIdentifier`).
    RdsInstance,
    /// Each read replica of an RDS instance (`DBInstanceIdentifier`).
    RdsReplica,
    /// An Aurora cluster (`DBClusterIdentifier`).
    Aurora,
    /// A DocumentDB cluster (`DBClusterIdentifier`).
    DocumentDb,
    /// Each node of an ElastiCache replication group (`CacheClusterId`,
    /// one per member: [`CacheNodes::members`]).
    ElastiCache,
    /// An SQS queue (`QueueName`).
    Queue,
    /// The dead-letter queue of an SQS queue (`QueueName`).
    DeadLetter,
    /// An MSK cluster (`Cluster Name`).
    Msk,
}

/// One alarm row: what it watches, the metric and when it fires.
pub struct AlarmRow {
    pub watched: Watched,
    /// Suffix of the alarm's name and Terraform id.
    pub key: &'static str,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub statistic: &'static str,
    pub comparison: &'static str,
    pub threshold: f64,
    pub period_s: u32,
    pub periods: u32,
    pub what: &'static str,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

macro_rules! row {
    ($w:ident, $key:literal, $ns:literal, $metric:literal, $stat:literal, $cmp:literal, $t:expr, $p:literal x $n:literal, $what:literal) => {
        AlarmRow {
            watched: Watched::$w,
            key: $key,
            namespace: $ns,
            metric: $metric,
            statistic: $stat,
            comparison: $cmp,
            threshold: $t,
            period_s: $p,
            periods: $n,
            what: $what,
        }
    };
}

/// The alarm table.
pub const ALARMS: &[AlarmRow] = &[
    row!(RdsInstance, "cpu", "AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "CPU above 80% for 15 minutes"),
    row!(RdsInstance, "free-storage", "AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold", 5.0 * GIB, 300 x 1, "less than 5 GiB of storage left"),
    row!(RdsInstance, "memory", "AWS/RDS", "FreeableMemory", "Minimum", "LessThanThreshold", 256.0 * MIB, 300 x 3, "less than 256 MiB of memory free for 15 minutes"),
    row!(RdsReplica, "replica-lag", "AWS/RDS", "ReplicaLag", "Maximum", "GreaterThanThreshold", 60.0, 60 x 5, "replica more than 60 s behind for 5 minutes"),
    row!(Aurora, "cpu", "AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "CPU above 80% for 15 minutes"),
    row!(Aurora, "memory", "AWS/RDS", "FreeableMemory", "Minimum", "LessThanThreshold", 256.0 * MIB, 300 x 3, "less than 256 MiB of memory free for 15 minutes"),
    row!(Aurora, "replica-lag", "AWS/RDS", "AuroraReplicaLagMaximum", "Maximum", "GreaterThanThreshold", 1000.0, 60 x 5, "a reader more than 1 s behind for 5 minutes"),
    row!(DocumentDb, "cpu", "AWS/DocDB", "CPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "CPU above 80% for 15 minutes"),
    row!(DocumentDb, "memory", "AWS/DocDB", "FreeableMemory", "Minimum", "LessThanThreshold", 256.0 * MIB, 300 x 3, "less than 256 MiB of memory free for 15 minutes"),
    row!(DocumentDb, "replica-lag", "AWS/DocDB", "DBClusterReplicaLagMaximum", "Maximum", "GreaterThanThreshold", 1000.0, 60 x 5, "a replica more than 1 s behind for 5 minutes"),
    row!(ElastiCache, "cpu", "AWS/ElastiCache", "EngineCPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "Redis engine CPU above 80% for 15 minutes"),
    row!(ElastiCache, "memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Maximum", "GreaterThanThreshold", 85.0, 300 x 3, "Redis memory above 85% of maxmemory for 15 minutes"),
    row!(Queue, "age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "GreaterThanThreshold", 900.0, 300 x 1, "oldest message waiting more than 15 minutes"),
    row!(Queue, "depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "GreaterThanThreshold", 1000.0, 300 x 3, "more than 1,000 messages waiting for 15 minutes"),
    row!(DeadLetter, "dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "GreaterThanThreshold", 0.0, 300 x 1, "messages in the dead-letter queue"),
    row!(Msk, "offline-partitions", "AWS/Kafka", "OfflinePartitionsCount", "Maximum", "GreaterThanThreshold", 0.0, 60 x 5, "partitions without a leader for 5 minutes"),
    row!(Msk, "controller", "AWS/Kafka", "ActiveControllerCount", "Sum", "LessThanThreshold", 1.0, 60 x 5, "no active controller for 5 minutes"),
];

/// What a managed resource is watched as.
pub fn watched(r: &Resource, read_replicas: u32) -> Vec<Watched> {
    match r.engine {
        Engine::Postgres if r.aurora => vec![Watched::Aurora],
        Engine::Postgres if read_replicas > 0 => vec![Watched::RdsInstance, Watched::RdsReplica],
        Engine::Postgres => vec![Watched::RdsInstance],
        Engine::MongoDb => vec![Watched::DocumentDb],
        Engine::Redis => vec![Watched::ElastiCache],
        Engine::Queue if r.dead_letter => vec![Watched::Queue, Watched::DeadLetter],
        Engine::Queue => vec![Watched::Queue],
        Engine::Kafka => vec![Watched::Msk],
        Engine::Bucket => Vec::new(),
    }
}

/// The nodes of an ElastiCache replication group, as Terraform creates it:
/// `num_cache_clusters = 1 + replicas`, or in cluster mode
/// `num_node_groups = shards` with `replicas_per_node_group = replicas`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheNodes {
    /// Shards in cluster mode; `None` without it (one primary).
    pub shards: Option<u32>,
    /// Replicas per primary.
    pub replicas: u32,
}

/// Shards a cluster-mode group starts with: the program gives no count, so
/// two, resharded online as the data grows.
pub const CACHE_SHARDS: u32 = 2;

/// The nodes of a Redis resource's replication group. Production and
/// multi-AZ environments keep a replica in another zone, so the cache fails
/// over automatically even when the program asks for none.
pub fn cache_nodes(r: &Resource, u: &ResourceUse, production: bool) -> CacheNodes {
    let spread = u.multi_az || production;
    let replicas = if spread { r.replicas.max(1) } else { r.replicas };
    CacheNodes { shards: r.cluster.then_some(CACHE_SHARDS), replicas }
}

impl CacheNodes {
    /// The member suffixes ElastiCache gives the group's nodes: `-001`,
    /// `-002`, … without cluster mode, `-0001-001`, `-0001-002`, … per shard
    /// with it; `<replication_group_id><suffix>` is each node's
    /// `CacheClusterId`, the dimension its node-level metrics carry.
    pub fn members(&self) -> Vec<String> {
        match self.shards {
            None => (1..=1 + self.replicas).map(|n| format!("{n:03}")).collect(),
            Some(shards) => {
                (1..=shards).flat_map(|s| (1..=1 + self.replicas).map(move |n| format!("{s:04}-{n:03}"))).collect()
            }
        }
    }
}

/// The rows of one watched object.
pub fn rows(w: Watched) -> impl Iterator<Item = &'static AlarmRow> {
    ALARMS.iter().filter(move |a| a.watched == w)
}

/// The integrations an environment's alarms page through SNS: the paging
/// ones of `alerts.route_to` (PagerDuty, Opsgenie) in production
/// environments, as the Alertmanager routes do. SNS delivers to their
/// HTTPS endpoints; the endpoint (with its integration key) is a sensitive
/// Terraform variable, since the CloudWatch integration's key is not the
/// Events API key Alertmanager reads.
pub fn paging(model: &Model, production: bool) -> Vec<(String, &'static str)> {
    let Some(alerts) = &model.observability.alerts else { return Vec::new() };
    if !production {
        return Vec::new();
    }
    alerts
        .route_to
        .iter()
        .filter_map(|id| {
            let i = &model.integrations[id.index()];
            match i.kind {
                IntegrationKind::PagerDuty { .. } => Some((i.name.clone(), "pagerduty")),
                IntegrationKind::Opsgenie { .. } => Some((i.name.clone(), "opsgenie")),
                _ => None,
            }
        })
        .collect()
}

/// Whether `alerts.route_to` names a Slack integration: AWS Chatbot can
/// post the alarms to its channel once the workspace is authorised.
pub fn slack(model: &Model) -> Option<String> {
    let alerts = model.observability.alerts.as_ref()?;
    alerts.route_to.iter().find_map(|id| {
        let i = &model.integrations[id.index()];
        matches!(i.kind, IntegrationKind::Slack { .. }).then(|| i.name.clone())
    })
}
