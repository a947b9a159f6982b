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
    /// What the alarm means at the default threshold.
    pub what: &'static str,
    /// The `alarms { ... }` field that replaces the threshold, and the
    /// unit CloudWatch reads the metric in; `None`: fixed.
    pub field: Option<(&'static str, MetricUnit)>,
}

/// The unit a CloudWatch metric is reported in, to convert a program's
/// threshold (kept in the model's units: percent, bytes, ms, count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricUnit {
    Percent,
    Bytes,
    Seconds,
    Milliseconds,
    Count,
}

impl MetricUnit {
    fn of_model(self, v: f64) -> f64 {
        match self {
            MetricUnit::Seconds => v / 1000.0,
            MetricUnit::Percent | MetricUnit::Bytes | MetricUnit::Milliseconds | MetricUnit::Count => v,
        }
    }

    fn words(self, v: f64) -> String {
        match self {
            MetricUnit::Percent => format!("{v}%"),
            MetricUnit::Bytes if v >= GIB => format!("{} GiB", v / GIB),
            MetricUnit::Bytes if v >= MIB => format!("{} MiB", v / MIB),
            MetricUnit::Bytes => format!("{v} bytes"),
            MetricUnit::Seconds => format!("{v} s"),
            MetricUnit::Milliseconds => format!("{v} ms"),
            MetricUnit::Count => format!("{v}"),
        }
    }
}

/// A row's threshold where `alarms` (the resource's with the environment's
/// over them, [`crate::model::ResourceUse::alarms`]) sets its field, else
/// the table's; and what the alarm means at it.
pub fn threshold(row: &AlarmRow, alarms: &std::collections::BTreeMap<String, f64>) -> (f64, String) {
    let Some((field, unit)) = row.field else { return (row.threshold, row.what.to_string()) };
    let Some(v) = alarms.get(field).map(|v| unit.of_model(*v)) else {
        return (row.threshold, row.what.to_string());
    };
    let side = if row.comparison.starts_with("Greater") { "above" } else { "below" };
    let minutes = row.period_s * row.periods / 60;
    (v, format!("{} ({}) {side} {} for {minutes} minutes", row.metric, row.statistic, unit.words(v)))
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

macro_rules! row {
    ($w:ident, $key:literal, $ns:literal, $metric:literal, $stat:literal, $cmp:literal, $t:expr, $p:literal x $n:literal, $what:literal $(, $field:literal $unit:ident)?) => {
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
            field: row!(@field $($field $unit)?),
        }
    };
    (@field) => { None };
    (@field $field:literal $unit:ident) => { Some(($field, MetricUnit::$unit)) };
}

/// The alarm table.
pub const ALARMS: &[AlarmRow] = &[
    row!(RdsInstance, "cpu", "AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "CPU above 80% for 15 minutes", "cpu" Percent),
    row!(RdsInstance, "free-storage", "AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold", 5.0 * GIB, 300 x 1, "less than 5 GiB of storage left", "free_storage" Bytes),
    row!(RdsInstance, "memory", "AWS/RDS", "FreeableMemory", "Minimum", "LessThanThreshold", 256.0 * MIB, 300 x 3, "less than 256 MiB of memory free for 15 minutes", "free_memory" Bytes),
    row!(RdsReplica, "replica-lag", "AWS/RDS", "ReplicaLag", "Maximum", "GreaterThanThreshold", 60.0, 60 x 5, "replica more than 60 s behind for 5 minutes", "replica_lag" Seconds),
    row!(Aurora, "cpu", "AWS/RDS", "CPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "CPU above 80% for 15 minutes", "cpu" Percent),
    row!(Aurora, "memory", "AWS/RDS", "FreeableMemory", "Minimum", "LessThanThreshold", 256.0 * MIB, 300 x 3, "less than 256 MiB of memory free for 15 minutes", "free_memory" Bytes),
    row!(Aurora, "replica-lag", "AWS/RDS", "AuroraReplicaLagMaximum", "Maximum", "GreaterThanThreshold", 1000.0, 60 x 5, "a reader more than 1 s behind for 5 minutes", "replica_lag" Milliseconds),
    row!(DocumentDb, "cpu", "AWS/DocDB", "CPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "CPU above 80% for 15 minutes", "cpu" Percent),
    row!(DocumentDb, "memory", "AWS/DocDB", "FreeableMemory", "Minimum", "LessThanThreshold", 256.0 * MIB, 300 x 3, "less than 256 MiB of memory free for 15 minutes", "free_memory" Bytes),
    row!(DocumentDb, "replica-lag", "AWS/DocDB", "DBClusterReplicaLagMaximum", "Maximum", "GreaterThanThreshold", 1000.0, 60 x 5, "a replica more than 1 s behind for 5 minutes", "replica_lag" Milliseconds),
    row!(ElastiCache, "cpu", "AWS/ElastiCache", "EngineCPUUtilization", "Average", "GreaterThanThreshold", 80.0, 300 x 3, "Redis engine CPU above 80% for 15 minutes", "cpu" Percent),
    row!(ElastiCache, "memory", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Maximum", "GreaterThanThreshold", 85.0, 300 x 3, "Redis memory above 85% of maxmemory for 15 minutes", "memory_used" Percent),
    row!(Queue, "age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "GreaterThanThreshold", 900.0, 300 x 1, "oldest message waiting more than 15 minutes", "age" Seconds),
    row!(Queue, "depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "GreaterThanThreshold", 1000.0, 300 x 3, "more than 1,000 messages waiting for 15 minutes", "depth" Count),
    row!(DeadLetter, "dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "GreaterThanThreshold", 0.0, 300 x 1, "messages in the dead-letter queue", "dead_letters" Count),
    row!(Msk, "offline-partitions", "AWS/Kafka", "OfflinePartitionsCount", "Maximum", "GreaterThanThreshold", 0.0, 60 x 5, "partitions without a leader for 5 minutes", "offline_partitions" Count),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlarmUnit, ALARM_FIELDS};

    fn engine(w: Watched) -> Engine {
        match w {
            Watched::RdsInstance | Watched::RdsReplica | Watched::Aurora => Engine::Postgres,
            Watched::DocumentDb => Engine::MongoDb,
            Watched::ElastiCache => Engine::Redis,
            Watched::Queue | Watched::DeadLetter => Engine::Queue,
            Watched::Msk => Engine::Kafka,
        }
    }

    /// The checker admits exactly the fields the table reads, per engine,
    /// in a unit the table converts.
    #[test]
    fn the_table_reads_exactly_the_fields_the_checker_admits() {
        for row in ALARMS {
            let Some((name, unit)) = row.field else { continue };
            let f = ALARM_FIELDS.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name} is admitted"));
            assert!(f.engines.contains(&engine(row.watched)), "{name}: admitted on {:?}", row.watched);
            let fits = match f.unit {
                AlarmUnit::Percent => unit == MetricUnit::Percent,
                AlarmUnit::Bytes => unit == MetricUnit::Bytes,
                AlarmUnit::Duration => matches!(unit, MetricUnit::Seconds | MetricUnit::Milliseconds),
                AlarmUnit::Count => unit == MetricUnit::Count,
            };
            assert!(fits, "{name}: {:?} read as {unit:?}", f.unit);
        }
        for f in ALARM_FIELDS {
            for e in f.engines {
                assert!(
                    ALARMS.iter().any(|r| r.field.map(|x| x.0) == Some(f.name) && engine(r.watched) == *e),
                    "{} on {e:?}: admitted but no alarm reads it",
                    f.name
                );
            }
        }
    }

    #[test]
    fn a_threshold_is_converted_to_the_metric_unit_and_described() {
        let lag = ALARMS.iter().find(|r| r.watched == Watched::RdsReplica).expect("a replica-lag row");
        let set = std::collections::BTreeMap::from([("replica_lag".to_string(), 30_000.0)]);
        assert_eq!(threshold(lag, &set), (30.0, "ReplicaLag (Maximum) above 30 s for 5 minutes".to_string()));
        let aurora =
            ALARMS.iter().find(|r| r.watched == Watched::Aurora && r.key == "replica-lag").expect("an Aurora lag row");
        assert_eq!(threshold(aurora, &set).0, 30_000.0);
        assert_eq!(threshold(aurora, &Default::default()), (1000.0, aurora.what.to_string()));
    }
}
