//! The shape of a GitHub Actions workflow as typed structs, in the key order
//! people expect to read (name, triggers, permissions, then jobs; in a job
//! its graph position before its steps), with small builders.
//!
//! Maps that carry meaning in their order (`jobs`, `with`, `env`) are
//! `IndexMap`s filled in a defined order, so output stays deterministic.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

pub type Map = IndexMap<String, String>;

#[derive(Serialize)]
pub struct Workflow {
    pub name: String,
    pub on: On,
    /// Top level: nothing; every job asks for what it needs.
    pub permissions: Map,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    pub jobs: IndexMap<String, Job>,
}

#[derive(Serialize, Default, Clone, PartialEq)]
pub struct On {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<Push>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<Cron>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_dispatch: Option<Empty>,
}

#[derive(Serialize, Default, Clone, PartialEq)]
pub struct Push {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Serialize, Default, Clone, PartialEq)]
pub struct PullRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

#[derive(Serialize, Clone, PartialEq)]
pub struct Cron {
    pub cron: String,
}

/// Serialises as `{}`.
#[derive(Serialize, Default, Clone, PartialEq)]
pub struct Empty {}

#[derive(Serialize, Clone)]
#[serde(rename_all = "kebab-case")]
pub struct Concurrency {
    pub group: String,
    pub cancel_in_progress: bool,
}

#[derive(Serialize, Clone)]
pub struct Environment {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "kebab-case")]
pub struct Strategy {
    pub fail_fast: bool,
    pub matrix: Matrix,
}

#[derive(Serialize, Clone)]
pub struct Matrix {
    pub include: Include,
}

/// A matrix's entries: listed, or an expression that yields them
/// (`${{ fromJSON(needs.scope.outputs.matrix) }}`).
#[derive(Serialize, Clone)]
#[serde(untagged)]
pub enum Include {
    List(Vec<Map>),
    Expr(String),
}

#[derive(Serialize, Clone)]
pub struct Defaults {
    pub run: RunDefaults,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "kebab-case")]
pub struct RunDefaults {
    pub working_directory: String,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_: Option<String>,
    pub runs_on: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    pub permissions: Map,
    pub timeout_minutes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_on_error: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defaults: Option<Defaults>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, Container>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: Map,
    pub steps: Vec<Step>,
}

/// A service container of a job (`services:`), reached from the runner at
/// `localhost` through its published port.
#[derive(Serialize, Clone)]
pub struct Container {
    pub image: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map,
    pub ports: Vec<String>,
    pub options: String,
}

impl Job {
    /// A job on the latest Ubuntu runner, reading the repository only.
    pub fn new(name: impl Into<String>) -> Self {
        Job {
            name: name.into(),
            needs: Vec::new(),
            if_: None,
            runs_on: "ubuntu-latest".into(),
            environment: None,
            concurrency: None,
            permissions: perms(&[("contents", "read")]),
            timeout_minutes: 30,
            continue_on_error: None,
            strategy: None,
            defaults: None,
            services: IndexMap::new(),
            env: Map::new(),
            outputs: Map::new(),
            steps: Vec::new(),
        }
    }
    pub fn permissions(mut self, p: &[(&str, &str)]) -> Self {
        self.permissions = perms(p);
        self
    }
    pub fn timeout(mut self, minutes: u32) -> Self {
        self.timeout_minutes = minutes;
        self
    }
    pub fn working_directory(mut self, dir: &str) -> Self {
        if dir != "." && !dir.is_empty() {
            self.defaults = Some(Defaults { run: RunDefaults { working_directory: dir.to_string() } });
        }
        self
    }
    pub fn matrix(mut self, include: Vec<Map>) -> Self {
        self.strategy = Some(Strategy { fail_fast: false, matrix: Matrix { include: Include::List(include) } });
        self
    }
    pub fn step(mut self, s: Step) -> Self {
        self.steps.push(s);
        self
    }
    pub fn steps(mut self, s: impl IntoIterator<Item = Step>) -> Self {
        self.steps.extend(s);
        self
    }
}

pub fn perms(p: &[(&str, &str)]) -> Map {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "kebab-case")]
pub struct Step {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub with: IndexMap<String, Value>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub env: Map,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_on_error: Option<bool>,
}

impl Step {
    fn blank(name: impl Into<String>) -> Self {
        Step {
            name: name.into(),
            id: None,
            if_: None,
            uses: None,
            with: IndexMap::new(),
            env: Map::new(),
            working_directory: None,
            run: None,
            continue_on_error: None,
        }
    }
    /// A shell step. Scripts never interpolate `${{ }}`: values reach them
    /// through `env`, so nothing a pull request controls becomes code.
    pub fn run(name: impl Into<String>, script: impl Into<String>) -> Self {
        let mut s = Self::blank(name);
        s.run = Some(script.into());
        s
    }
    /// An action step; `action` is a key of the pin table, optionally with a
    /// sub-path (`github/codeql-action/init`).
    pub fn uses(name: impl Into<String>, action: &str) -> Self {
        let mut s = Self::blank(name);
        s.uses = Some(super::pins::reference(action));
        s
    }
    pub fn with(mut self, k: &str, v: impl Into<Value>) -> Self {
        self.with.insert(k.to_string(), v.into());
        self
    }
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.insert(k.to_string(), v.into());
        self
    }
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }
    pub fn when(mut self, cond: &str) -> Self {
        self.if_ = Some(cond.to_string());
        self
    }
    pub fn dir(mut self, dir: &str) -> Self {
        if dir != "." && !dir.is_empty() {
            self.working_directory = Some(dir.to_string());
        }
        self
    }
}
