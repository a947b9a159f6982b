//! In-cluster Kafka through the Strimzi operator: one KRaft node pool (every
//! node both controller and broker), the Kafka cluster with a plain internal
//! listener (the NetworkPolicies admit only the services that use it), and
//! one KafkaTopic per declared topic. Kubernetes and Helm render the same
//! specs; the objects' names and labels come from here too.

use super::addons::storage_class;
use super::engines::engine_port;
use super::EnvPlan;
use crate::model::Resource;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "kafka.strimzi.io/v1beta2";

/// The label Strimzi puts on every pod of a cluster and reads on pools and topics.
pub fn cluster_label(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("strimzi.io/cluster".to_string(), name.to_string())])
}

/// The node pool's name: `<cluster>-nodes`.
pub fn pool_name(name: &str) -> String {
    format!("{name}-nodes")
}

#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolSpec {
    pub replicas: u32,
    pub roles: Vec<String>,
    pub storage: Storage,
    pub resources: Resources,
}

#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    #[serde(rename = "type")]
    pub type_: String,
    pub volumes: Vec<Volume>,
}

#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub id: u32,
    #[serde(rename = "type")]
    pub type_: String,
    pub size: String,
    pub class: String,
    /// Deleting the Kafka never deletes its data.
    pub delete_claim: bool,
    pub kraft_metadata: String,
}

#[derive(Clone, Serialize, JsonSchema)]
pub struct Resources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaSpec {
    pub kafka: KafkaBroker,
    pub entity_operator: EntityOperator,
}

#[derive(Clone, Serialize, JsonSchema)]
pub struct KafkaBroker {
    pub version: String,
    pub listeners: Vec<Listener>,
    pub config: BTreeMap<String, u32>,
}

#[derive(Clone, Serialize, JsonSchema)]
pub struct Listener {
    pub name: String,
    pub port: u16,
    #[serde(rename = "type")]
    pub type_: String,
    pub tls: bool,
}

#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityOperator {
    pub topic_operator: BTreeMap<String, String>,
}

#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicSpec {
    /// The topic as Kafka names it (`orders_v2`); the object's name is a
    /// Kubernetes-safe form of it.
    pub topic_name: String,
    pub partitions: u32,
    pub replicas: u32,
    pub config: BTreeMap<String, String>,
}

/// Everything Strimzi needs for one Kafka resource in one environment.
#[derive(Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaPlan {
    pub node_pool: NodePoolSpec,
    pub kafka: KafkaSpec,
    /// Object name → spec.
    pub topics: BTreeMap<String, TopicSpec>,
}

/// The annotations that turn on node pools and KRaft on the Kafka resource.
pub fn kafka_annotations() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("strimzi.io/kraft".to_string(), "enabled".to_string()),
        ("strimzi.io/node-pools".to_string(), "enabled".to_string()),
    ])
}

pub fn plan(cx: &EnvPlan, r: &Resource) -> KafkaPlan {
    let u = cx.resource_use(r.id);
    let brokers = r.brokers.max(1);
    // Three copies where there are three brokers; never more copies than brokers.
    let rf = brokers.min(3);
    let min_isr = if rf >= 3 { 2 } else { 1 };
    let size = super::pod::quantity_mem(u.storage).0;
    let node_pool = NodePoolSpec {
        replicas: brokers,
        roles: vec!["controller".into(), "broker".into()],
        storage: Storage {
            type_: "jbod".into(),
            volumes: vec![Volume {
                id: 0,
                type_: "persistent-claim".into(),
                size,
                class: storage_class(cx.model.cloud_of(cx.env)).name.into(),
                delete_claim: false,
                kraft_metadata: "shared".into(),
            }],
        },
        resources: Resources {
            requests: BTreeMap::from([("cpu".into(), "500m".into()), ("memory".into(), "2Gi".into())]),
            limits: BTreeMap::from([("cpu".into(), "2".into()), ("memory".into(), "2Gi".into())]),
        },
    };
    let kafka = KafkaSpec {
        kafka: KafkaBroker {
            version: r.version.clone(),
            listeners: vec![Listener {
                name: "plain".into(),
                port: engine_port(&r.engine),
                type_: "internal".into(),
                tls: false,
            }],
            config: BTreeMap::from([
                ("default.replication.factor".to_string(), rf),
                ("min.insync.replicas".to_string(), min_isr),
                ("offsets.topic.replication.factor".to_string(), rf),
                ("transaction.state.log.min.isr".to_string(), min_isr),
                ("transaction.state.log.replication.factor".to_string(), rf),
            ]),
        },
        entity_operator: EntityOperator { topic_operator: BTreeMap::new() },
    };
    let topics = r
        .topics
        .iter()
        .map(|t| {
            let spec = TopicSpec {
                topic_name: t.clone(),
                partitions: r.partitions.max(1),
                replicas: rf,
                config: BTreeMap::from([
                    ("min.insync.replicas".to_string(), min_isr.to_string()),
                    ("retention.ms".to_string(), r.retention_ms.to_string()),
                ]),
            };
            (crate::model::topic_object_name(t), spec)
        })
        .collect();
    KafkaPlan { node_pool, kafka, topics }
}
