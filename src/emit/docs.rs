//! The docs target: an architecture page with Mermaid diagrams (issue: daily tools).
//! Not implemented yet: emits nothing.

use super::{Artifact, Options};
use crate::graph::Graph;
use crate::model::Model;

pub fn emit(_model: &Model, _graph: &Graph, _opts: &Options) -> Vec<Artifact> {
    Vec::new()
}
