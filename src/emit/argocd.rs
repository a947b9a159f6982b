//! The ArgoCD target: an AppProject, and one Application per environment or
//! one ApplicationSet with a list generator, each pointing at the
//! environment's folder of the committed output.
//! Automatically promoted environments sync automatically with self-heal;
//! manually promoted ones wait for a manual sync.

use super::{yaml_file, Artifact, Target};
use crate::model::{Environment, GitOpsMode, Model, Promotion};
use crate::plan::topology::Destination as ClusterDest;
use crate::plan::Plan;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: S,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppSpec {
    project: String,
    source: Source,
    destination: Destination,
    sync_policy: SyncPolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "repoURL")]
    repo_url: String,
    target_revision: String,
    path: String,
}

/// A cluster by the name it is registered under in ArgoCD, or by its API URL.
#[derive(Serialize)]
struct Destination {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    namespace: String,
}

impl Destination {
    /// Where the plan's topology sends an environment.
    fn of(plan: &Plan, e: &Environment) -> Self {
        let (name, server) = match plan.topology.destination(e.id) {
            ClusterDest::Name(n) => (Some(n), None),
            ClusterDest::Server(s) => (None, Some(s)),
        };
        Destination { name, server, namespace: e.namespace.clone() }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    automated: Option<Automated>,
    sync_options: Vec<String>,
    retry: Retry,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Automated {
    prune: bool,
    self_heal: bool,
}

#[derive(Serialize)]
struct Retry {
    limit: i64,
    backoff: Backoff,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Backoff {
    duration: String,
    factor: i64,
    max_duration: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProjectSpec {
    description: String,
    source_repos: Vec<String>,
    destinations: Vec<Destination>,
    cluster_resource_whitelist: Vec<GroupKind>,
}

#[derive(Serialize)]
struct GroupKind {
    group: String,
    kind: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppSetSpec {
    go_template: bool,
    go_template_options: Vec<String>,
    generators: Vec<Generator>,
    template: AppTemplate,
    template_patch: String,
}

#[derive(Serialize)]
struct Generator {
    list: ListGenerator,
}

#[derive(Serialize)]
struct ListGenerator {
    elements: Vec<BTreeMap<String, String>>,
}

#[derive(Serialize)]
struct AppTemplate {
    metadata: ObjectMeta,
    spec: AppSpec,
}

/// The repository as an HTTPS clone URL.
pub fn repo_url(model: &Model) -> String {
    let r = &model.project.repository;
    if r.contains("://") || r.starts_with("git@") {
        r.clone()
    } else {
        format!("https://{}.git", r.trim_end_matches(".git"))
    }
}

fn auto_sync(env: &Environment) -> bool {
    matches!(env.promote, Promotion::OnPush(_))
}

fn sync_policy(auto: bool) -> SyncPolicy {
    SyncPolicy {
        automated: auto.then_some(Automated { prune: true, self_heal: true }),
        sync_options: vec!["PruneLast=true".into()],
        retry: Retry { limit: 5, backoff: Backoff { duration: "10s".into(), factor: 2, max_duration: "3m".into() } },
    }
}

fn meta(model: &Model, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(model.project.gitops.namespace.clone()),
        labels: Some(BTreeMap::from([
            ("app.kubernetes.io/part-of".to_string(), model.project.name.clone()),
            ("app.kubernetes.io/managed-by".to_string(), "deployc".to_string()),
        ])),
        ..Default::default()
    }
}

/// Whether the ApplicationSet names clusters by URL: when some cluster's
/// registered name is unknown (an existing cluster given by URL) and no
/// environment needs a name (every other one runs on the hub).
fn appset_by_url(plan: &Plan) -> bool {
    let envs = &plan.model.environments;
    envs.iter().any(|e| plan.topology.registered_name(e.id).is_none())
        && envs.iter().all(|e| matches!(plan.topology.destination(e.id), ClusterDest::Server(_)))
}

/// An environment's `cluster` element: its URL or its registered name.
fn appset_cluster(plan: &Plan, e: &Environment) -> String {
    match (appset_by_url(plan), plan.topology.destination(e.id)) {
        (true, ClusterDest::Server(s)) => s,
        (_, d) => plan.topology.registered_name(e.id).unwrap_or(match d {
            ClusterDest::Name(n) | ClusterDest::Server(n) => n,
        }),
    }
}

/// The ApplicationSet's destination: `{{.cluster}}` as a URL or a name.
fn appset_destination(plan: &Plan) -> Destination {
    let c = Some("{{.cluster}}".to_string());
    let (name, server) = if appset_by_url(plan) { (None, c) } else { (c, None) };
    Destination { name, server, namespace: "{{.namespace}}".into() }
}

pub fn emit(plan: &Plan) -> Vec<Artifact> {
    let model = plan.model;
    let p = &model.project;
    let mut out = Vec::new();
    let project = Object {
        api_version: "argoproj.io/v1alpha1",
        kind: "AppProject",
        metadata: meta(model, &p.name),
        spec: ProjectSpec {
            description: format!("{} environments, generated by deployc", p.name),
            source_repos: vec![repo_url(model)],
            destinations: model.environments.iter().map(|e| Destination::of(plan, e)).collect(),
            cluster_resource_whitelist: vec![GroupKind { group: String::new(), kind: "Namespace".into() }],
        },
    };
    let mut files = vec![(
        format!("argocd/appproject-{}.yaml", p.name),
        yaml_file(Target::Argocd, None, String::new(), &project).contents,
    )];
    let path = |e: &Environment| format!("{}/k8s/{}", p.gitops.path.trim_end_matches('/'), e.name);
    match p.gitops.mode {
        GitOpsMode::Application => {
            for e in &model.environments {
                let name = format!("{}-{}", p.name, e.name);
                let mut m = meta(model, &name);
                m.finalizers = Some(vec!["resources-finalizer.argocd.argoproj.io".into()]);
                let app = Object {
                    api_version: "argoproj.io/v1alpha1",
                    kind: "Application",
                    metadata: m,
                    spec: AppSpec {
                        project: p.name.clone(),
                        source: Source {
                            repo_url: repo_url(model),
                            target_revision: p.gitops.revision.clone(),
                            path: path(e),
                        },
                        destination: Destination::of(plan, e),
                        sync_policy: sync_policy(auto_sync(e)),
                    },
                };
                files.push((
                    format!("argocd/application-{name}.yaml"),
                    yaml_file(Target::Argocd, None, String::new(), &app).contents,
                ));
            }
        }
        GitOpsMode::ApplicationSet => {
            let elements = model
                .environments
                .iter()
                .map(|e| {
                    BTreeMap::from([
                        ("env".to_string(), e.name.clone()),
                        ("namespace".to_string(), e.namespace.clone()),
                        ("cluster".to_string(), appset_cluster(plan, e)),
                        ("path".to_string(), path(e)),
                        ("autoSync".to_string(), auto_sync(e).to_string()),
                    ])
                })
                .collect();
            let mut tm = ObjectMeta { name: Some(format!("{}-{{{{.env}}}}", p.name)), ..Default::default() };
            tm.labels = Some(BTreeMap::from([("deployc.dev/environment".to_string(), "{{.env}}".to_string())]));
            tm.finalizers = Some(vec!["resources-finalizer.argocd.argoproj.io".into()]);
            let set = Object {
                api_version: "argoproj.io/v1alpha1",
                kind: "ApplicationSet",
                metadata: meta(model, &p.name),
                spec: AppSetSpec {
                    go_template: true,
                    go_template_options: vec!["missingkey=error".into()],
                    generators: vec![Generator { list: ListGenerator { elements } }],
                    template: AppTemplate {
                        metadata: tm,
                        spec: AppSpec {
                            project: p.name.clone(),
                            source: Source { repo_url: repo_url(model), target_revision: p.gitops.revision.clone(), path: "{{.path}}".into() },
                            destination: appset_destination(plan),
                            sync_policy: sync_policy(false),
                        },
                    },
                    // Only automatically promoted environments sync on their own.
                    template_patch: "{{- if eq .autoSync \"true\" }}\nspec:\n  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n{{- end }}\n".into(),
                },
            };
            files.push((
                format!("argocd/applicationset-{}.yaml", p.name),
                yaml_file(Target::Argocd, None, String::new(), &set).contents,
            ));
        }
    }
    files.sort();
    let resources: Vec<String> = files.iter().map(|(f, _)| f.trim_start_matches("argocd/").to_string()).collect();
    for (path, contents) in files {
        out.push(Artifact::new(Target::Argocd, None, path, contents));
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct K {
        api_version: &'static str,
        kind: &'static str,
        resources: Vec<String>,
    }
    out.push(yaml_file(
        Target::Argocd,
        None,
        "argocd/kustomization.yaml".into(),
        &K { api_version: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources },
    ));
    out
}
