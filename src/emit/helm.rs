//! The Helm target: a chart with `values-<env>.yaml` per environment (issue: Terraform and Helm).
//! Not implemented yet: emits nothing.

use super::{Artifact, Options};
use crate::graph::Graph;
use crate::model::Model;

pub fn emit(_model: &Model, _graph: &Graph, _opts: &Options) -> Vec<Artifact> {
    Vec::new()
}
