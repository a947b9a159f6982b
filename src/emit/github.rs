//! The GitHub Actions target: CI, security gates, PR checks, build and push, and CD along the promotion graph (issue: pipelines).
//! Not implemented yet: emits nothing.

use super::{Artifact, Options};
use crate::graph::Graph;
use crate::model::Model;

pub fn emit(_model: &Model, _graph: &Graph, _opts: &Options) -> Vec<Artifact> {
    Vec::new()
}
