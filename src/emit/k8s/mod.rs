//! The Kubernetes target: per environment, one folder `k8s/<env>/` with one
//! file per object (`<kind>-<name>.yaml`) and a `kustomization.yaml` listing
//! them, so `kubectl apply -k` and ArgoCD's directory source both work.
//!
//! Objects are built as typed structs (k8s-openapi for the core API, our own
//! structs in [`crd`] for Argo Rollouts, External Secrets and the Prometheus
//! Operator) and serialised by [`super::yaml`].

pub mod crd;
pub mod data;
pub mod network;
pub mod workload;

use super::{yaml_file, Artifact, Options};
use crate::graph::Graph;
use crate::model::{Environment, Model, Placement, Registry, ResourceUse};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;
use std::collections::BTreeMap;

/// What every object of one environment needs to know.
pub struct EnvCx<'a> {
    pub model: &'a Model,
    pub graph: &'a Graph,
    pub env: &'a Environment,
    pub opts: &'a Options,
    /// Objects emitted so far: (kind, name, file).
    files: Vec<Artifact>,
}

impl<'a> EnvCx<'a> {
    /// A context with no objects yet, for tools that apply the same rules
    /// without emitting files (the Helm and Terraform targets, the language
    /// server's hovers).
    pub fn new(model: &'a Model, graph: &'a Graph, env: &'a Environment, opts: &'a Options) -> Self {
        EnvCx { model, graph, env, opts, files: Vec::new() }
    }

    pub fn ns(&self) -> &str {
        &self.env.namespace
    }

    /// Records an object as `k8s/<env>/<kind>-<name>.yaml`.
    pub fn push<T: Serialize>(&mut self, kind: &str, name: &str, obj: &T) {
        let path = format!("k8s/{}/{}-{}.yaml", self.env.name, kind.to_ascii_lowercase(), name);
        self.files.push(yaml_file(path, obj));
    }

    /// Standard labels of an object belonging to `name` (a service or resource).
    pub fn labels(&self, name: &str, component: &str) -> BTreeMap<String, String> {
        let mut l = selector(name);
        l.insert("app.kubernetes.io/part-of".into(), self.model.project.name.clone());
        l.insert("app.kubernetes.io/component".into(), component.into());
        l.insert("app.kubernetes.io/managed-by".into(), "deployc".into());
        l.insert("deployc.dev/environment".into(), self.env.name.clone());
        l
    }

    /// Metadata with name, namespace and labels.
    pub fn meta(&self, name: &str, owner: &str, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.ns().to_string()),
            labels: Some(self.labels(owner, component)),
            ..Default::default()
        }
    }

    pub fn resource_use(&self, r: crate::model::ResourceId) -> &'a ResourceUse {
        &self.env.resources[r.index()]
    }

    pub fn in_cluster(&self, r: crate::model::ResourceId) -> bool {
        self.resource_use(r).placement == Placement::InCluster
    }

    /// The image reference of a service in this environment.
    pub fn image(&self, image: &str) -> String {
        let repo = image_repository(self.model, image);
        let tag = image_tag(self.model, self.env, &repo, self.opts);
        format!("{repo}:{tag}")
    }
}

/// The selector labels of a workload: its name only, so that selectors never change.
pub fn selector(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), name.to_string())])
}

pub fn label_selector(name: &str) -> LabelSelector {
    LabelSelector { match_labels: Some(selector(name)), ..Default::default() }
}

/// The full repository of an image in the project's registry.
pub fn image_repository(model: &Model, image: &str) -> String {
    match &model.project.registry {
        Registry::Ecr { region, account } => {
            format!("{}.dkr.ecr.{region}.amazonaws.com/{image}", account.as_deref().unwrap_or("000000000000"))
        }
        Registry::Ghcr { owner } => format!("ghcr.io/{owner}/{image}"),
        Registry::DockerHub { namespace } => format!("docker.io/{namespace}/{image}"),
    }
}

/// The tag deployed in an environment: the one CD released there (read from
/// the existing output), else the first release tag the tag policy yields.
/// Never `latest`: a mutable tag would make rollbacks and audits impossible.
pub fn image_tag(model: &Model, env: &Environment, repo: &str, opts: &Options) -> String {
    if let Some(t) = opts.image_tags.get(&(env.name.clone(), repo.to_string())) {
        return t.clone();
    }
    let tags = &model.pipeline.tags;
    if tags.iter().any(|t| t == "semver") {
        "v0.1.0".into()
    } else {
        format!("{}-initial", model.project.branch.replace('/', "-"))
    }
}

/// A container image pinned to a version, for the backing resources run in-cluster.
pub fn resource_image(engine: &crate::model::Engine, version: &str) -> String {
    use crate::model::Engine;
    match engine {
        Engine::Postgres => format!("docker.io/library/postgres:{version}-alpine"),
        Engine::Redis => format!("docker.io/library/redis:{version}-alpine"),
        Engine::MongoDb => format!("docker.io/library/mongo:{version}"),
        _ => String::new(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<KImage>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KImage {
    name: String,
    new_tag: String,
}

/// Emits every environment's folder.
pub fn emit(model: &Model, graph: &Graph, opts: &Options) -> Vec<Artifact> {
    let mut out = Vec::new();
    for env in &model.environments {
        let mut cx = EnvCx::new(model, graph, env, opts);
        workload::namespace(&mut cx);
        for d in &env.deployments {
            workload::service(&mut cx, d);
        }
        data::resources(&mut cx);
        data::secrets(&mut cx);
        data::monitoring(&mut cx);
        network::policies(&mut cx);
        let mut files = std::mem::take(&mut cx.files);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let prefix = format!("k8s/{}/", env.name);
        let mut images: Vec<KImage> = env
            .deployments
            .iter()
            .map(|d| {
                let repo = image_repository(model, &model.service(d.service).image);
                let tag = image_tag(model, env, &repo, opts);
                KImage { name: repo, new_tag: tag }
            })
            .collect();
        images.sort_by(|a, b| a.name.cmp(&b.name));
        images.dedup_by(|a, b| a.name == b.name);
        let k = Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources: files.iter().map(|f| f.path.trim_start_matches(&prefix).to_string()).collect(),
            images,
        };
        out.extend(files);
        out.push(yaml_file(format!("{prefix}kustomization.yaml"), &k));
    }
    out
}
