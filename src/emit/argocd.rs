//! The ArgoCD target: an AppProject, and one Application per environment or
//! one ApplicationSet with a list generator, each pointing at the
//! environment's folder of the committed output.
//! Automatically promoted environments sync automatically, by default with
//! self-heal and pruning (`argocd { self_heal prune }`); manually promoted
//! ones wait for a manual sync. Every sync is retried (`argocd { retry }`).
//!
//! Each Application creates its Namespace (`CreateNamespace=true`, with the
//! Pod Security labels), so hooks and the first wave find it; ArgoCD never
//! deletes a namespace it created, so deleting an Application keeps the data.
//! The cluster add-ons (`argocd/addons/`) install the controllers the output
//! needs and the cluster-wide objects (`k8s/_cluster/`), in earlier sync
//! waves than the environments.

use super::{yaml_file, Artifact, Target};
use crate::model::{Environment, GitOpsMode, Model, Promotion, SyncSettings};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chart: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    helm: Option<HelmSource>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmSource {
    release_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<HelmParameter>,
    #[serde(skip_serializing_if = "String::is_empty")]
    values: String,
}

#[derive(Serialize)]
struct HelmParameter {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct NamespaceMetadata {
    labels: BTreeMap<String, String>,
    /// The mesh's injection annotation (Linkerd), as the Namespace carries it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_namespace_metadata: Option<NamespaceMetadata>,
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
    sync_policy: AppSetSyncPolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppSetSyncPolicy {
    /// Removing an environment from the list (or deleting the set) keeps
    /// what its Application deployed: the data stays.
    preserve_resources_on_deletion: bool,
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

/// The add-ons project and its Applications: one per add-on and cluster,
/// and one for the cluster-wide objects, in sync waves before the
/// environments (when an app of apps syncs this folder).
fn addons(plan: &Plan) -> Vec<(String, String)> {
    let model = plan.model;
    let p = &model.project;
    let needed = crate::plan::addons::needed(plan);
    let cluster_objects = crate::plan::addons::needs_cluster_objects(plan);
    if needed.is_empty() && !cluster_objects {
        return Vec::new();
    }
    // Each cluster of the topology once, reached as its first environment is.
    let clusters: Vec<(&str, &Environment, &crate::model::Cloud)> = plan
        .topology
        .clusters
        .iter()
        .filter_map(|c| c.envs.first().map(|e| (c.key.as_str(), model.env(*e), &c.cloud)))
        .collect();
    let to = |e: &Environment, namespace: &str| Destination { namespace: namespace.into(), ..Destination::of(plan, e) };
    let project = format!("{}-addons", p.name);
    let mut repos: Vec<String> = needed.iter().map(|a| a.repo_url.to_string()).collect();
    repos.push(repo_url(model));
    repos.sort();
    repos.dedup();
    let proj = Object {
        api_version: "argoproj.io/v1alpha1",
        kind: "AppProject",
        metadata: meta(model, &project),
        spec: ProjectSpec {
            description: format!(
                "cluster add-ons of {}: controllers and cluster-wide objects, generated by deployc",
                p.name
            ),
            source_repos: repos,
            destinations: clusters.iter().map(|(_, e, _)| to(e, "*")).collect(),
            cluster_resource_whitelist: vec![GroupKind { group: "*".into(), kind: "*".into() }],
        },
    };
    let mut files = vec![(
        format!("argocd/addons/appproject-{project}.yaml"),
        yaml_file(Target::Argocd, None, String::new(), &proj).contents,
    )];
    let several = clusters.len() > 1;
    for (key, first_env, cloud) in &clusters {
        let Some(cluster) = plan.topology.clusters.iter().find(|c| c.key == *key) else { continue };
        let suffix = if several { format!("-{key}") } else { String::new() };
        let app = |name: String, wave: i32, source: Source, namespace: &str| {
            let mut m = meta(model, &name);
            m.annotations = Some(BTreeMap::from([("argocd.argoproj.io/sync-wave".to_string(), wave.to_string())]));
            let obj = Object {
                api_version: "argoproj.io/v1alpha1",
                kind: "Application",
                metadata: m,
                spec: AppSpec {
                    project: project.clone(),
                    source,
                    destination: to(first_env, namespace),
                    sync_policy: SyncPolicy {
                        // Controllers are never pruned automatically: removing
                        // one would break every workload that needs it.
                        automated: Some(Automated { prune: false, self_heal: true }),
                        sync_options: vec!["CreateNamespace=true".into(), "ServerSideApply=true".into()],
                        managed_namespace_metadata: None,
                        retry: Retry {
                            limit: 10,
                            backoff: Backoff { duration: "10s".into(), factor: 2, max_duration: "5m".into() },
                        },
                    },
                },
            };
            (
                format!("argocd/addons/application-{name}.yaml"),
                yaml_file(Target::Argocd, None, String::new(), &obj).contents,
            )
        };
        for a in &needed {
            let Some(values) = crate::plan::addons::cluster_values(plan, a, cluster) else { continue };
            let source = Source {
                repo_url: a.repo_url.into(),
                target_revision: a.version.into(),
                path: None,
                chart: Some(a.chart.into()),
                helm: Some(HelmSource {
                    release_name: a.name.into(),
                    parameters: crate::plan::logs::parameters(model, a.addon)
                        .into_iter()
                        .chain(crate::plan::velero::parameters(a.addon))
                        .map(|(name, value)| HelmParameter { name, value })
                        .collect(),
                    values: addon_values(plan, a, cluster, values),
                }),
            };
            files.push(app(
                format!("{}-{}{suffix}", p.name, a.name),
                -2,
                source,
                crate::plan::addons::namespace(model, a),
            ));
        }
        // The add-ons' Secrets (plan/logs.rs), after External Secrets' CRDs.
        if !crate::plan::addon_secrets::addon_objects(plan, cluster).is_empty() {
            let path = format!(
                "{}/{}",
                p.gitops.path.trim_end_matches('/'),
                crate::plan::addon_secrets::addons_dir(plan, cluster)
            );
            files.push(app(format!("{}-addon-secrets{suffix}", p.name), -1, git_source(model, path), "default"));
        }
        // Velero's Schedules (plan/velero.rs), after its CRDs.
        if crate::plan::velero::of(model, cluster).is_some() {
            let path = format!(
                "{}/{}",
                p.gitops.path.trim_end_matches('/'),
                crate::plan::velero::schedules_dir(plan, cluster)
            );
            files.push(app(
                format!("{}-volume-backups{suffix}", p.name),
                -1,
                git_source(model, path),
                crate::plan::velero::NAMESPACE,
            ));
        }
        // The ClusterIssuer of nginx Ingresses (plan/certificates.rs), after cert-manager's CRDs.
        if crate::plan::certificates::needed_on(model, cluster) {
            let path = format!(
                "{}/{}",
                p.gitops.path.trim_end_matches('/'),
                crate::plan::certificates::issuer_dir(plan, cluster)
            );
            files.push(app(format!("{}-certificates{suffix}", p.name), -1, git_source(model, path), "cert-manager"));
        }
        if cluster_objects {
            let dir = crate::plan::addons::cluster_dir(plan, cloud);
            let path = format!("{}/{dir}", p.gitops.path.trim_end_matches('/'));
            files.push(app(format!("{}-cluster{suffix}", p.name), -1, git_source(model, path), "default"));
        }
    }
    files
}

/// An add-on's chart values: generated from the program (the log add-ons)
/// or the table's.
/// The log agents' values are generated per cluster (plan/logs.rs); the
/// other add-ons take the table's values with what the cluster adds.
fn addon_values(
    plan: &Plan,
    a: &crate::plan::addons::AddonSpec,
    c: &crate::plan::topology::Cluster,
    values: String,
) -> String {
    if a.addon == crate::plan::addons::Addon::Velero {
        if let Some(v) = crate::plan::velero::of(plan.model, c) {
            return crate::emit::yaml::to_string(&crate::plan::velero::values(&v)).unwrap_or_default();
        }
    }
    match crate::plan::logs::values(plan, a.addon, c) {
        Some(v) => crate::emit::yaml::to_string(&v).unwrap_or_default(),
        None => values,
    }
}

fn git_source(model: &Model, path: String) -> Source {
    Source {
        repo_url: repo_url(model),
        target_revision: model.project.gitops.revision.clone(),
        path: Some(path),
        chart: None,
        helm: None,
    }
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

/// An environment's sync policy: automatic (with the program's `self_heal`
/// and `prune`) when it is promoted on push, retried `retry` times.
fn sync_policy(sync: &SyncSettings, auto: bool, namespace: Option<NamespaceMetadata>) -> SyncPolicy {
    let mut sync_options = vec!["PruneLast=true".to_string()];
    if namespace.is_some() {
        sync_options.insert(0, "CreateNamespace=true".into());
    }
    SyncPolicy {
        automated: auto.then_some(Automated { prune: sync.prune, self_heal: sync.self_heal }),
        sync_options,
        managed_namespace_metadata: namespace,
        // The default of 10 is generous: on a fresh cluster the add-ons'
        // CRDs arrive in parallel.
        retry: Retry {
            limit: sync.retry,
            backoff: Backoff { duration: "10s".into(), factor: 2, max_duration: "5m".into() },
        },
    }
}

/// The ApplicationSet's `templatePatch`: the automatic sync of the
/// environments promoted on push (an element's `autoSync`).
fn appset_auto_patch(sync: &SyncSettings) -> String {
    format!(
        "{{{{- if eq .autoSync \"true\" }}}}\nspec:\n  syncPolicy:\n    automated:\n      prune: {}\n      selfHeal: {}\n{{{{- end }}}}\n",
        sync.prune, sync.self_heal
    )
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
    // Each environment's Application belongs to that environment.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    match p.gitops.mode {
        GitOpsMode::Application => {
            for ep in &plan.envs {
                let e = ep.env;
                let name = format!("{}-{}", p.name, e.name);
                let mut m = meta(model, &name);
                m.finalizers = Some(vec!["resources-finalizer.argocd.argoproj.io".into()]);
                let app = Object {
                    api_version: "argoproj.io/v1alpha1",
                    kind: "Application",
                    metadata: m,
                    spec: AppSpec {
                        project: p.name.clone(),
                        source: git_source(model, path(e)),
                        destination: Destination::of(plan, e),
                        sync_policy: sync_policy(
                            &p.gitops.sync,
                            auto_sync(e),
                            Some(NamespaceMetadata {
                                labels: ep.namespace_labels(),
                                annotations: ep.namespace_annotations(),
                            }),
                        ),
                    },
                };
                let file = format!("argocd/application-{name}.yaml");
                owners.insert(file.clone(), e.name.clone());
                files.push((file, yaml_file(Target::Argocd, Some(&e.name), String::new(), &app).contents));
            }
        }
        GitOpsMode::ApplicationSet => {
            // The same labels as each environment's, with its name templated.
            let mut set_labels = plan.envs.first().map(|e| e.namespace_labels()).unwrap_or_default();
            let set_annotations = plan.envs.first().map(|e| e.namespace_annotations()).unwrap_or_default();
            if let Some(v) = set_labels.get_mut("deployc.dev/environment") {
                *v = "{{.env}}".into();
            }
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
                            source: git_source(model, "{{.path}}".into()),
                            destination: appset_destination(plan),
                            sync_policy: sync_policy(
                                &p.gitops.sync,
                                false,
                                Some(NamespaceMetadata { labels: set_labels, annotations: set_annotations }),
                            ),
                        },
                    },
                    // Only automatically promoted environments sync on their own.
                    sync_policy: AppSetSyncPolicy { preserve_resources_on_deletion: true },
                    template_patch: appset_auto_patch(&p.gitops.sync),
                },
            };
            files.push((
                format!("argocd/applicationset-{}.yaml", p.name),
                yaml_file(Target::Argocd, None, String::new(), &set).contents,
            ));
        }
    }
    files.extend(addons(plan));
    files.sort();
    let resources: Vec<String> = files.iter().map(|(f, _)| f.trim_start_matches("argocd/").to_string()).collect();
    for (path, contents) in files {
        let env = owners.get(&path).map(String::as_str);
        out.push(Artifact::new(Target::Argocd, env, path, contents));
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
