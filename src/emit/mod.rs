//! Emitters: the model turned into files. Each target is a module with one
//! free function `emit(&Model, &Graph, &Options) -> Vec<Artifact>`.
//!
//! **Invariant:** emitters are pure (no IO, no clock, no randomness) and
//! iterate in a defined order (model ids, sorted names), so the same model
//! always gives byte-identical artifacts.

pub mod argocd;
pub mod docs;
pub mod github;
pub mod helm;
pub mod jenkins;
pub mod k8s;
pub mod terraform;
pub mod yaml;

use crate::graph::Graph;
use crate::model::Model;
use std::collections::BTreeMap;

/// One output file: a path relative to the output root, and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub contents: String,
}

/// Which outputs to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Target {
    /// Kubernetes manifests and Argo Rollouts, one folder per environment (`k8s/`).
    K8s,
    /// ArgoCD Applications or ApplicationSet (`argocd/`).
    Argocd,
    /// GitHub Actions workflows (`.github/workflows/`), when the pipeline provider is GitHub Actions.
    Github,
    /// A declarative Jenkinsfile (`jenkins/`), when the pipeline provider is Jenkins.
    Jenkins,
    /// Terraform JSON, one root module per environment (`terraform/`).
    Terraform,
    /// A Helm chart with per-environment values (`helm/<project>/`).
    Helm,
    /// The architecture page with Mermaid diagrams (`docs/`).
    Docs,
}

impl Target {
    pub const ALL: &'static [Target] =
        &[Target::K8s, Target::Argocd, Target::Github, Target::Jenkins, Target::Terraform, Target::Helm, Target::Docs];
}

/// Inputs to emission besides the model.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Image tags already released per (environment, image repository), read
    /// from the existing output: CD owns the tags, deployc owns the rest.
    pub image_tags: BTreeMap<(String, String), String>,
}

/// Emits every requested target, sorted by path.
pub fn emit(model: &Model, graph: &Graph, targets: &[Target], opts: &Options) -> Vec<Artifact> {
    let mut out = Vec::new();
    for t in targets {
        match t {
            Target::K8s => out.extend(k8s::emit(model, graph, opts)),
            Target::Argocd => out.extend(argocd::emit(model)),
            Target::Github => out.extend(github::emit(model, graph, opts)),
            Target::Jenkins => out.extend(jenkins::emit(model, graph, opts)),
            Target::Terraform => out.extend(terraform::emit(model, graph, opts)),
            Target::Helm => out.extend(helm::emit(model, graph, opts)),
            Target::Docs => out.extend(docs::emit(model, graph, opts)),
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Serialises one object as a YAML file.
pub fn yaml_file<T: serde::Serialize>(path: String, value: &T) -> Artifact {
    // Serialising our own plain structs cannot fail; an error would be a bug
    // in the serializer, and an empty file makes validators point at it.
    let contents = yaml::to_string(value).unwrap_or_else(|e| format!("# deployc: serialization failed: {e}\n"));
    Artifact { path, contents }
}
