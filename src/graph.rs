//! The dependency and promotion graph of a model (petgraph).
//!
//! Nodes are services, resources and environments. Edges point from a
//! service to what it depends on (services and resources) and from an
//! environment to the environments promoted from it. Emitters use it to
//! derive network policies and pipeline order; `deployc graph` prints it.

use crate::model::{EnvId, Model, Promotion, ResourceId, ServiceId};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Service(ServiceId),
    Resource(ResourceId),
    Env(EnvId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// A service calls another service.
    DependsOn,
    /// A service uses a backing resource.
    Uses,
    /// A release moves from one environment to the next.
    Promotes,
}

/// A stable identifier of a node in DOT and Mermaid text.
fn node_id(n: Node) -> String {
    match n {
        Node::Service(i) => format!("svc_{}", i.0),
        Node::Resource(i) => format!("res_{}", i.0),
        Node::Env(i) => format!("env_{}", i.0),
    }
}

#[derive(Clone, Debug)]
pub struct Graph {
    pub graph: DiGraph<Node, Edge>,
    index: BTreeMap<Node, NodeIndex>,
}

impl Graph {
    /// Builds the graph; nodes and edges are added in id order, so it is deterministic.
    pub fn build(model: &Model) -> Graph {
        let mut g = Graph { graph: DiGraph::new(), index: BTreeMap::new() };
        for s in &model.services {
            g.add(Node::Service(s.id));
        }
        for r in &model.resources {
            g.add(Node::Resource(r.id));
        }
        for e in &model.environments {
            g.add(Node::Env(e.id));
        }
        for s in &model.services {
            for d in &s.depends_on {
                g.edge(Node::Service(s.id), Node::Service(*d), Edge::DependsOn);
            }
            for r in &s.uses {
                g.edge(Node::Service(s.id), Node::Resource(*r), Edge::Uses);
            }
        }
        for e in &model.environments {
            if let Promotion::Manual { from: Some(f) } = &e.promote {
                g.edge(Node::Env(*f), Node::Env(e.id), Edge::Promotes);
            }
        }
        g
    }

    fn add(&mut self, n: Node) {
        let i = self.graph.add_node(n);
        self.index.insert(n, i);
    }

    fn edge(&mut self, a: Node, b: Node, e: Edge) {
        self.graph.add_edge(self.index[&a], self.index[&b], e);
    }

    /// The nodes `n` points at with edges of kind `kind`, sorted.
    pub fn targets(&self, n: Node, kind: Edge) -> Vec<Node> {
        let mut v: Vec<Node> =
            self.graph.edges(self.index[&n]).filter(|e| *e.weight() == kind).map(|e| self.graph[e.target()]).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The nodes pointing at `n` with edges of kind `kind`, sorted.
    pub fn sources(&self, n: Node, kind: Edge) -> Vec<Node> {
        let mut v: Vec<Node> = self
            .graph
            .edges_directed(self.index[&n], petgraph::Direction::Incoming)
            .filter(|e| *e.weight() == kind)
            .map(|e| self.graph[e.source()])
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Every cycle among edges of `kind`, one per strongly connected
    /// component, each spelled out from its smallest node back to it.
    pub fn cycles(&self, kind: Edge) -> Vec<Vec<Node>> {
        let filtered = self.graph.filter_map(|_, n| Some(*n), |_, e| (*e == kind).then_some(*e));
        let mut out = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&filtered) {
            let self_loop = scc.len() == 1 && filtered.find_edge(scc[0], scc[0]).is_some();
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let start = *scc.iter().min_by_key(|i| filtered[**i]).unwrap_or(&scc[0]);
            // Breadth-first search for the shortest way back to the start within the component.
            let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut found = None;
            'bfs: while let Some(n) = queue.pop_front() {
                let mut next: Vec<NodeIndex> = filtered.neighbors(n).filter(|m| scc.contains(m)).collect();
                next.sort_by_key(|m| filtered[*m]);
                for m in next {
                    if m == start {
                        found = Some(n);
                        break 'bfs;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(m) {
                        e.insert(n);
                        queue.push_back(m);
                    }
                }
            }
            let Some(mut last) = found else { continue };
            let mut path = vec![filtered[start]];
            let mut back = vec![];
            while last != start {
                back.push(filtered[last]);
                last = prev[&last];
            }
            back.reverse();
            path.extend(back);
            path.push(filtered[start]);
            out.push(path);
        }
        out.sort();
        out
    }

    pub fn name(&self, model: &Model, n: Node) -> String {
        match n {
            Node::Service(id) => model.service(id).name.clone(),
            Node::Resource(id) => model.resource(id).name.clone(),
            Node::Env(id) => model.env(id).name.clone(),
        }
    }

    /// Graphviz DOT text.
    pub fn to_dot(&self, model: &Model) -> String {
        let mut out = format!("digraph \"{}\" {{\n  rankdir=LR;\n", model.project.name);
        for n in self.graph.node_weights() {
            let (shape, label) = match n {
                Node::Service(_) => ("box", format!("service {}", self.name(model, *n))),
                Node::Resource(r) => {
                    ("cylinder", format!("{} {}", model.resource(*r).engine.word(), self.name(model, *n)))
                }
                Node::Env(_) => ("oval", format!("environment {}", self.name(model, *n))),
            };
            out.push_str(&format!("  {} [shape={shape}, label=\"{label}\"];\n", node_id(*n)));
        }
        for e in self.graph.edge_references() {
            let style = match e.weight() {
                Edge::DependsOn => "",
                Edge::Uses => " [style=dashed]",
                Edge::Promotes => " [label=\"promote\"]",
            };
            out.push_str(&format!(
                "  {} -> {}{style};\n",
                node_id(self.graph[e.source()]),
                node_id(self.graph[e.target()])
            ));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart text.
    pub fn to_mermaid(&self, model: &Model) -> String {
        let mut out = String::from("flowchart LR\n");
        for n in self.graph.node_weights() {
            let name = self.name(model, *n);
            let node = match n {
                Node::Service(_) => format!("{}[\"{}\"]", node_id(*n), name),
                Node::Resource(r) => format!("{}[(\"{} {}\")]", node_id(*n), model.resource(*r).engine.word(), name),
                Node::Env(_) => format!("{}([\"{}\"])", node_id(*n), name),
            };
            out.push_str(&format!("  {node}\n"));
        }
        for e in self.graph.edge_references() {
            let arrow = match e.weight() {
                Edge::DependsOn => "-->",
                Edge::Uses => "-.->",
                Edge::Promotes => "-->|promote|",
            };
            out.push_str(&format!(
                "  {} {arrow} {}\n",
                node_id(self.graph[e.source()]),
                node_id(self.graph[e.target()])
            ));
        }
        out
    }
}
