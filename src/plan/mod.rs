//! The plan: every decision about what to deploy and how, made once, between
//! the model and the emitters. Kubernetes and Helm render the same
//! per-environment deployment plan ([`EnvPlan`] and the functions beside it);
//! GitHub Actions and Jenkins render the same delivery plan.
//!
//! **Invariant:** the plan is pure and reads only the model, the graph and
//! [`Options`]; it never imports an emitter. Emitters import the plan and
//! never each other.

pub mod addon_secrets;
pub mod addons;
pub mod alarms;
pub mod analysis;
pub mod backup;
pub mod branches;
pub mod certificates;
pub mod changes;
pub mod crd;
pub mod dashboards;
pub mod delivery;
pub mod edge;
pub mod engines;
pub mod env;
pub mod failover;
pub mod gates;
pub mod identity;
pub mod irsa;
pub mod kafka;
pub mod keda;
pub mod local;
pub mod logs;
pub mod maintenance;
pub mod mesh;
pub mod network;
pub mod observability;
pub mod pod;
pub mod policy;
pub mod ports;
pub mod registry;
pub mod replica_set;
pub mod risk;
pub mod routes;
pub mod sealed;
pub mod secrets;
pub mod slo;
pub mod topology;
pub mod tracing;
pub mod velero;
pub mod vpa;
pub mod waivers;
pub mod webhook;

pub use env::EnvPlan;

use crate::graph::Graph;
use crate::model::Model;
use std::collections::BTreeMap;

/// Inputs to planning besides the model.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Image tags already released per (environment, image repository), read
    /// from the existing output: CD owns the tags, deployc owns the rest.
    pub image_tags: BTreeMap<(String, String), String>,
    /// Files the team keeps in `k8s/<env>/extra/` of the existing output
    /// (SealedSecrets from kubeseal, one-off objects), by environment: the
    /// environment's kustomization lists them; deployc never writes there.
    pub extra_files: BTreeMap<String, Vec<String>>,
}

/// The folder, inside each environment's folder, that belongs to the team.
pub const EXTRA_DIR: &str = "extra";
/// The folder, inside each environment's folder, that holds the team's
/// patches. Inside the kustomization's root because kustomize refuses files
/// outside it by default.
pub const PATCHES_DIR: &str = "patches";

/// The whole plan: the model and graph it was made from, and one deployment
/// plan per environment, in promotion order.
pub struct Plan<'m> {
    pub model: &'m Model,
    pub graph: &'m Graph,
    pub opts: &'m Options,
    pub envs: Vec<EnvPlan<'m>>,
    /// The clusters and which environments run on each.
    pub topology: topology::Topology,
}

impl<'m> Plan<'m> {
    /// Plans every environment of a checked program.
    pub fn new(model: &'m Model, graph: &'m Graph, opts: &'m Options) -> Self {
        let envs = model.environments.iter().map(|env| EnvPlan::new(model, graph, env, opts)).collect();
        Plan { model, graph, opts, envs, topology: topology::Topology::new(model) }
    }
}
