//! The topology: which clusters exist and which environments run on each.
//!
//! An environment's `cluster` names the cluster it runs on. Environments
//! naming the same cluster share it, each in its own namespace; a name is a
//! cluster the Terraform target creates (one VPC and one EKS cluster each,
//! with address ranges that never overlap), an `https://` URL an existing
//! cluster that nothing creates. Without `cluster` (or with ArgoCD's own
//! `https://kubernetes.default.svc`) an environment runs on the hub: the
//! cluster ArgoCD runs in, which is the cluster of the last environment in
//! promotion order (production's, when a chain ends there), or one cluster
//! named `main` when no environment names one.
//!
//! **Invariant:** every environment runs on exactly one planned cluster;
//! created clusters get distinct `10.<n>.0.0/16` ranges in order of first use.

use crate::model::{Cloud, EnvId, Model};

/// ArgoCD's address for the cluster it runs in.
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// ArgoCD's name for the cluster it runs in.
pub const IN_CLUSTER_NAME: &str = "in-cluster";
/// The hub's key when no environment names a cluster.
pub const DEFAULT_CLUSTER: &str = "main";

/// One cluster of the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// The name environments use (`main`, `prod`), or the URL of an existing cluster.
    pub key: String,
    /// Whether this output creates it (a name), rather than only deploys to it (a URL).
    pub created: bool,
    /// Whether ArgoCD runs in it.
    pub hub: bool,
    /// Cluster name (`<project>-<key>-eks`, `-gke` on GCP, distinct from every environment's
    /// `<project>-<env>` prefix); for an existing cluster, its URL.
    pub name: String,
    /// The VPC's address range, for a created cluster.
    pub cidr: Option<String>,
    /// The cloud it runs in: its environments' `cloud`, else the project's.
    pub cloud: Cloud,
    /// The environments running on it, in promotion order.
    pub envs: Vec<EnvId>,
}

/// Where ArgoCD sends an environment's objects.
#[derive(Clone, Debug, PartialEq)]
pub enum Destination {
    /// A cluster registered in ArgoCD under this name (`in-cluster` for the hub).
    Name(String),
    /// A cluster's API server URL.
    Server(String),
}

/// All clusters, in order of first use by an environment.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    pub clusters: Vec<Cluster>,
    /// In one cloud's part of the topology ([`Topology::in_cloud`]): the
    /// hub, when it is in another cloud (ArgoCD reaches these clusters
    /// across clouds).
    pub foreign_hub: Option<Cluster>,
}

impl Topology {
    pub fn new(model: &Model) -> Self {
        let hub = model.hub_key();
        let mut clusters: Vec<Cluster> = Vec::new();
        for e in &model.environments {
            let key = model.cluster_key(e);
            match clusters.iter_mut().find(|c| c.key == key) {
                Some(c) => c.envs.push(e.id),
                None => {
                    let created = model.creates_cluster(e);
                    let cloud = model.cloud_of(e).clone();
                    // The cluster's kind in its name: EKS, GKE or AKS.
                    let suffix = match cloud {
                        Cloud::Aws { .. } => "eks",
                        Cloud::Gcp { .. } => "gke",
                        Cloud::Azure { .. } => "aks",
                    };
                    clusters.push(Cluster {
                        name: if created { format!("{}-{key}-{suffix}", model.project.name) } else { key.clone() },
                        hub: key == hub,
                        created,
                        cidr: None,
                        cloud,
                        envs: vec![e.id],
                        key,
                    });
                }
            }
        }
        // Ranges are numbered across every cloud, so clusters that talk
        // (ArgoCD's hub and the others, peered networks) never overlap.
        for (n, c) in clusters.iter_mut().filter(|c| c.created).enumerate() {
            c.cidr = Some(format!("10.{n}.0.0/16"));
        }
        Topology { clusters, foreign_hub: None }
    }

    /// The clouds of the clusters, the project's first, each once.
    pub fn clouds<'a>(&'a self, model: &'a Model) -> Vec<&'a Cloud> {
        let mut out: Vec<&Cloud> = vec![&model.project.cloud];
        for c in &self.clusters {
            if !out.iter().any(|o| o.kind() == c.cloud.kind()) {
                out.push(&c.cloud);
            }
        }
        out
    }

    /// The clusters in one cloud, as a topology of its own (the hub keeps its flag).
    pub fn in_cloud(&self, kind: &str) -> Topology {
        Topology {
            clusters: self.clusters.iter().filter(|c| c.cloud.kind() == kind).cloned().collect(),
            foreign_hub: self.hub().filter(|h| h.cloud.kind() != kind).cloned(),
        }
    }

    /// Whether an environment runs on one of these clusters.
    pub fn runs(&self, env: EnvId) -> bool {
        self.clusters.iter().any(|c| c.envs.contains(&env))
    }

    /// The cluster an environment runs on.
    pub fn of(&self, env: EnvId) -> &Cluster {
        // Every environment is placed by `new`; the first cluster is a safe fallback.
        self.clusters.iter().find(|c| c.envs.contains(&env)).unwrap_or(&self.clusters[0])
    }

    /// The cluster ArgoCD runs in, when the output creates it.
    pub fn hub(&self) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.hub)
    }

    /// ArgoCD's destination for an environment: its own cluster by the
    /// in-cluster address, the other created clusters by the name they are
    /// registered under, existing clusters by their URL.
    pub fn destination(&self, env: EnvId) -> Destination {
        let c = self.of(env);
        if c.hub {
            Destination::Server(IN_CLUSTER.into())
        } else if c.created {
            Destination::Name(c.name.clone())
        } else {
            Destination::Server(c.key.clone())
        }
    }

    /// The name a cluster is registered under in ArgoCD (`in-cluster` for
    /// the hub), when this output knows it.
    pub fn registered_name(&self, env: EnvId) -> Option<String> {
        let c = self.of(env);
        if c.hub {
            Some(IN_CLUSTER_NAME.into())
        } else if c.created {
            Some(c.name.clone())
        } else {
            None
        }
    }
}

/// The name of the address Terraform reserves for the ingress controller of
/// a GKE or AKS cluster (`${local.name}-ingress` in its cluster root, where
/// `local.name` is the cluster's name).
pub fn ingress_address_name(c: &Cluster) -> String {
    format!("{}-ingress", c.name)
}

/// The resource group holding an AKS cluster's reserved address (`${local.name}-rg`).
pub fn ingress_address_group(c: &Cluster) -> String {
    format!("{}-rg", c.name)
}

/// Whether the environments of a GCP or Azure Terraform output write their
/// hosts' records into that cloud's DNS zone of the project's domain: only
/// when it is the program's own cloud (`primary`) and the program names no
/// other DNS (`dns = route53`). A standby on a second cloud would otherwise
/// look up a zone the team runs elsewhere, and its Terraform would fail; it
/// gives the address to point the records at as an output instead.
pub fn records_in_own_dns(model: &crate::model::Model, primary: bool) -> bool {
    primary && model.project.dns.is_none()
}
