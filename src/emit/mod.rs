//! Emitters: the plan rendered as files. Each target is a module with one
//! free function `emit(&Plan) -> Vec<Artifact>`.
//!
//! **Invariant:** emitters are pure (no IO, no clock, no randomness) and
//! iterate in a defined order (model ids, sorted names), so the same model
//! always gives byte-identical artifacts.
//! **Invariant:** an emitter imports the plan, the model and `emit::yaml`,
//! never another emitter (`tests/architecture.rs` enforces it).

pub mod argocd;
pub mod compose;
pub mod docs;
pub mod github;
pub mod gitlab;
pub mod helm;
pub mod jenkins;
pub mod k8s;
pub mod terraform;
pub mod yaml;

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{Model, PipelineProvider};
use crate::plan::Plan;

/// One output file: the target that made it (`None` for the files the
/// driver adds, such as the writer's manifest), the environment it belongs
/// to (`None` for project-wide files), its path relative to the output root,
/// and its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub target: Option<Target>,
    pub environment: Option<String>,
    pub path: String,
    pub contents: String,
}

impl Artifact {
    pub fn new(target: Target, environment: Option<&str>, path: String, contents: String) -> Self {
        Artifact { target: Some(target), environment: environment.map(str::to_string), path, contents }
    }
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
    /// A `.gitlab-ci.yml`, when the pipeline provider is GitLab CI.
    Gitlab,
    /// Terraform JSON, one root module per environment (`terraform/`).
    Terraform,
    /// A Helm chart with per-environment values (`helm/<project>/`).
    Helm,
    /// The architecture page with Mermaid diagrams (`docs/`).
    Docs,
    /// Docker Compose for local development (`compose/`).
    Compose,
}

impl Target {
    pub const ALL: &'static [Target] = &[
        Target::K8s,
        Target::Argocd,
        Target::Github,
        Target::Jenkins,
        Target::Gitlab,
        Target::Terraform,
        Target::Helm,
        Target::Docs,
        Target::Compose,
    ];
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::K8s => "k8s",
            Target::Argocd => "argocd",
            Target::Github => "github",
            Target::Jenkins => "jenkins",
            Target::Gitlab => "gitlab",
            Target::Terraform => "terraform",
            Target::Helm => "helm",
            Target::Docs => "docs",
            Target::Compose => "compose",
        }
    }

    /// Why this target has nothing to emit for a program, when it has nothing.
    pub fn unserved(self, model: &Model) -> Option<&'static str> {
        let no_envs = model.environments.is_empty();
        match self {
            Target::K8s | Target::Argocd | Target::Helm if no_envs => Some("the program declares no environment"),
            Target::K8s | Target::Argocd | Target::Helm | Target::Docs => None,
            Target::Github if model.pipeline.provider != PipelineProvider::GithubActions => {
                Some("the pipeline runs on another provider (`pipeline { provider = ... }`)")
            }
            Target::Jenkins if model.pipeline.provider != PipelineProvider::Jenkins => {
                Some("the pipeline runs on another provider (`pipeline { provider = ... }`)")
            }
            Target::Gitlab if model.pipeline.provider != PipelineProvider::Gitlab => {
                Some("the pipeline runs on another provider (`pipeline { provider = ... }`)")
            }
            Target::Github | Target::Jenkins | Target::Gitlab | Target::Compose if model.services.is_empty() => {
                Some("the program declares no service")
            }
            // Every service runs a prebuilt image: nothing to lint, build or release.
            Target::Github | Target::Jenkins | Target::Gitlab if model.built_services().next().is_none() => {
                Some("every service runs a prebuilt image, so there is nothing to build or release")
            }
            Target::Github | Target::Jenkins | Target::Gitlab | Target::Compose => None,
            // Every cloud of the language has Terraform; what one cannot
            // serve of a program is W0008 (`unserved` below).
            Target::Terraform => None,
        }
    }
}

/// Warnings for the targets of a build that have nothing to emit. With no
/// `--target`, only the surprising absences are reported: the pipeline
/// provider the program did not choose is not one of them.
pub fn unserved(model: &Model, requested: &[Target]) -> Vec<Diagnostic> {
    let explicit = !requested.is_empty();
    let targets = if explicit { requested } else { Target::ALL };
    let mut out: Vec<Diagnostic> = targets
        .iter()
        .filter_map(|t| t.unserved(model).map(|why| (*t, why)))
        .filter(|(t, _)| explicit || !matches!(t, Target::Github | Target::Jenkins | Target::Gitlab))
        .map(|(t, why)| {
            Diagnostic::new(Code::W0005, format!("target `{}` has nothing to emit: {why}", t.name()))
                .label_opt(model.project.span, if t == Target::Terraform { "this cloud" } else { "in this program" })
                .help(Code::W0005.info().help)
        })
        .collect();
    // What the Terraform target serves only in part (W0008).
    if targets.contains(&Target::Terraform) {
        out.extend(terraform::gcp::gaps(model));
        out.extend(terraform::azure::gaps(model));
    }
    if targets.iter().any(|t| matches!(t, Target::Terraform | Target::K8s | Target::Helm)) {
        out.extend(backup_gaps(model));
    }
    out
}

/// W0014 for each in-cluster database whose backups cannot be copied off the cluster.
pub fn backup_gaps(model: &Model) -> Vec<Diagnostic> {
    // One warning per reason (clouds differ per cluster) and database.
    let mut whys: Vec<&'static str> =
        model.environments.iter().filter_map(|e| crate::plan::backup::stays_in_cluster(model, e)).collect();
    whys.sort_unstable();
    whys.dedup();
    whys.into_iter()
        .flat_map(|why| model.resources.iter().map(move |r| (why, r)))
        .filter(|(_, r)| r.backup.is_some() && crate::plan::backup::restore_script(&r.engine).is_some())
        .filter_map(|(why, r)| {
            let envs: Vec<&str> = model
                .environments
                .iter()
                .filter(|e| e.resources[r.id.index()].placement == crate::model::Placement::InCluster)
                .filter(|e| crate::plan::backup::stays_in_cluster(model, e) == Some(why))
                .map(|e| e.name.as_str())
                .collect();
            (!envs.is_empty()).then(|| {
                Diagnostic::new(
                    Code::W0014,
                    format!("backups of `{}` stay in the cluster (environments: {}): {why}", r.name, envs.join(", ")),
                )
                .label_opt(r.span, "backed up only inside the cluster")
                .help(Code::W0014.info().help)
            })
        })
        .collect()
}

/// W0007 when the build writes the Helm chart for a program with patches:
/// a chart cannot carry kustomize patches, so Helm users apply them with a
/// post-renderer.
pub fn helm_gaps(model: &Model, requested: &[Target]) -> Vec<Diagnostic> {
    if !requested.is_empty() && !requested.contains(&Target::Helm) {
        return Vec::new();
    }
    model
        .environments
        .iter()
        .filter_map(|e| e.patches.first().map(|p| (e, p)))
        .map(|(e, p)| {
            Diagnostic::new(
                Code::W0007,
                format!("the Helm chart does not carry the {} patch(es) of environment `{}`", e.patches.len(), e.name),
            )
            .label_opt(p.span, "applied by the kustomization only")
            .help(Code::W0007.info().help)
        })
        .collect()
}

/// E0230 for every patch aimed at an object its environment's Kubernetes
/// output does not have. Plans and renders the Kubernetes target only when
/// some environment has patches.
pub fn check_patches(model: &Model, graph: &crate::graph::Graph) -> Vec<Diagnostic> {
    if model.environments.iter().all(|e| e.patches.is_empty()) {
        return Vec::new();
    }
    let opts = crate::plan::Options::default();
    let plan = Plan::new(model, graph, &opts);
    let mut objects: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    let files = k8s::emit(&plan);
    for a in &files {
        if let (Some(env), Some(o)) = (&a.environment, object_of(&a.contents)) {
            objects.entry(env.as_str()).or_default().push(o);
        }
    }
    let mut out = Vec::new();
    for e in &model.environments {
        let have = objects.get(e.name.as_str()).map(Vec::as_slice).unwrap_or_default();
        for p in &e.patches {
            let target = format!("{}/{}", p.kind, p.name);
            if have.contains(&target) {
                continue;
            }
            let d = Diagnostic::new(Code::E0230, format!("environment `{}` has no object `{target}` to patch", e.name))
                .label_opt(p.span, "not in this environment's output");
            // The same name under another kind (a canary's `Rollout`) first, then a near spelling.
            let same_name = ["Rollout", "Deployment", "StatefulSet", "Service"]
                .iter()
                .map(|k| format!("{k}/{}", p.name))
                .find(|o| have.contains(o))
                .or_else(|| have.iter().find(|o| o.split_once('/').is_some_and(|(_, n)| n == p.name)).cloned());
            let best = same_name
                .or_else(|| crate::suggest::closest(&target, have.iter().map(String::as_str)).map(str::to_string));
            let d = match best {
                Some(best) => d.help(format!("did you mean `{best}`? {}", Code::E0230.info().help)),
                None => d.help(Code::E0230.info().help),
            };
            out.push(d);
        }
    }
    out
}

/// `Kind/name` of a generated Kubernetes object, read from its YAML.
fn object_of(yaml: &str) -> Option<String> {
    let mut kind = None;
    let mut in_meta = false;
    for line in yaml.lines() {
        if let Some(k) = line.strip_prefix("kind: ") {
            kind = Some(k.trim_matches('"').to_string());
        } else if line == "metadata:" {
            in_meta = true;
        } else if in_meta && !line.starts_with(' ') {
            in_meta = false;
        } else if let Some(n) = line.strip_prefix("  name: ").filter(|_| in_meta) {
            return kind.map(|k| format!("{k}/{}", n.trim_matches('"')));
        }
    }
    None
}

/// One target's files.
fn emit_one(plan: &Plan, target: Target) -> Vec<Artifact> {
    match target {
        Target::K8s => k8s::emit(plan),
        Target::Argocd => argocd::emit(plan),
        Target::Github => github::emit(plan),
        Target::Jenkins => jenkins::emit(plan),
        Target::Gitlab => gitlab::emit(plan),
        Target::Terraform => terraform::emit(plan),
        Target::Helm => helm::emit(plan),
        Target::Docs => docs::emit(plan),
        Target::Compose => compose::emit(plan),
    }
}

/// Emits every requested target, sorted by path. The targets are
/// independent renderings of one plan, so they run on threads of their own
/// (the Kubernetes target on one, the others shared out); the result does
/// not depend on the threads, since it is sorted by path.
pub fn emit(plan: &Plan, targets: &[Target]) -> Vec<Artifact> {
    let mut parts: Vec<Vec<Artifact>> = if targets.len() < 2 {
        targets.iter().map(|t| emit_one(plan, *t)).collect()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = targets.iter().map(|t| s.spawn(move || emit_one(plan, *t))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    };
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in &mut parts {
        out.append(p);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Takes rendered files; `false` asks the renderer to stop.
pub type Flush<'a> = dyn Fn(Vec<Artifact>) -> bool + Sync + 'a;

/// One piece of a build's output, the unit [`emit_each`] renders and hands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    /// A whole target's files.
    Target(Target),
    /// One environment's Kubernetes folder (by its index in the plan).
    K8sEnv(usize),
    /// The Kubernetes objects of no one environment.
    K8sClusterWide,
}

impl Piece {
    /// Pieces whose rendering holds much memory besides its files (the
    /// Helm values of every environment as JSON, the escaped model of the
    /// Terraform target): one of them at a time.
    fn heavy(self) -> bool {
        matches!(self, Piece::Target(Target::Helm | Target::Terraform))
    }

    /// The piece's files; a large piece may hand some to `flush` first.
    fn emit(self, plan: &Plan, flush: &Flush<'_>) -> Vec<Artifact> {
        match self {
            Piece::Target(t) => emit_one(plan, t),
            Piece::K8sEnv(i) => k8s::env_folder_flushed(plan, &plan.envs[i], Some(flush)),
            Piece::K8sClusterWide => k8s::cluster_wide(plan),
        }
    }
}

/// Emits every requested target piece by piece (each environment's
/// Kubernetes folder, the cluster-wide objects, each other target) on as
/// many threads as the machine has cores, handing each piece to `sink` on
/// the thread that rendered it as soon as it is rendered; a build's writer
/// stages the files there and keeps none of their text, so memory holds a
/// few pieces rather than the whole output. Stops taking pieces once `sink`
/// returns `false`. The pieces arrive in no defined order; each one's files
/// are the same as in [`emit`].
pub fn emit_each(plan: &Plan, targets: &[Target], sink: &Flush<'_>) {
    // The longest first, so that the threads finish together; the heavy ones
    // on one thread after another.
    let mut pieces: Vec<Piece> = targets.iter().filter(|t| **t != Target::K8s).map(|t| Piece::Target(*t)).collect();
    pieces.sort_by_key(|p| !p.heavy());
    if targets.contains(&Target::K8s) {
        let at = pieces.iter().filter(|p| p.heavy()).count().min(1);
        pieces.splice(at..at, (0..plan.envs.len()).map(Piece::K8sEnv).chain([Piece::K8sClusterWide]));
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(pieces.len());
    if threads < 2 {
        for p in pieces {
            if !sink(p.emit(plan, sink)) {
                return;
            }
        }
        return;
    }
    // What is left to render, whether a heavy piece is being rendered, and
    // whether to stop.
    struct Queue {
        left: Vec<Piece>,
        heavy: bool,
        stop: bool,
    }
    pieces.reverse();
    let queue = std::sync::Mutex::new(Queue { left: pieces, heavy: false, stop: false });
    let turn = std::sync::Condvar::new();
    let next = || -> Option<Piece> {
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if q.stop || q.left.is_empty() {
                return None;
            }
            // The next piece in order that may start now.
            if let Some(i) = q.left.iter().rposition(|p| !(p.heavy() && q.heavy)) {
                let p = q.left.remove(i);
                q.heavy |= p.heavy();
                return Some(p);
            }
            q = turn.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    };
    let done = |p: Piece, go_on: bool| {
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        q.heavy &= !p.heavy();
        q.stop |= !go_on;
        turn.notify_all();
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    while let Some(p) = next() {
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(p.emit(plan, sink))));
                        // Always release the piece, so no thread waits for it.
                        done(p, matches!(r, Ok(true)));
                        if let Err(e) = r {
                            std::panic::resume_unwind(e);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// The targets whose files are Kubernetes objects, which a stream can hold.
pub const STREAMABLE: &[Target] = &[Target::K8s, Target::Argocd];

/// The Kubernetes objects of the requested targets as one YAML stream
/// (`deployc build --stdout`, like `kustomize build` or `helm template`):
/// every document of every YAML file in apply order (see [`apply_order`]),
/// each opened by `---`, the kustomizations left out (they configure
/// kustomize, they are no objects). With `envs`, only those environments'
/// objects and the project-wide ones. `None` when a target does not write
/// Kubernetes objects.
///
/// The Kubernetes target renders each environment straight into one buffer
/// (no file artifacts, no second copy): the documents are written to `out`
/// from those buffers.
pub fn stream(
    plan: &Plan,
    targets: &[Target],
    envs: &[String],
    out: &mut dyn std::io::Write,
) -> Option<std::io::Result<()>> {
    if targets.iter().any(|t| !STREAMABLE.contains(t)) {
        return None;
    }
    let chosen = |e: Option<&String>| envs.is_empty() || e.is_none_or(|e| envs.contains(e));
    let k8s = targets.contains(&Target::K8s);
    // Whole files: the other targets, and the cluster-wide Kubernetes objects.
    let mut files: Vec<Artifact> =
        targets.iter().filter(|t| **t != Target::K8s).flat_map(|t| emit_one(plan, *t)).collect();
    if k8s {
        files.extend(k8s::cluster_wide(plan));
    }
    let streams = if k8s { k8s::streams(plan) } else { Vec::new() };
    // Runs of documents, each of one folder and kind in emission order: a
    // whole file is a run, and so is each kind of a stream's piece.
    let mut runs: Vec<(ApplyOrder, Vec<Doc>)> = files
        .iter()
        .filter(|a| chosen(a.environment.as_ref()))
        .filter(|a| a.path.ends_with(".yaml") && !a.path.ends_with("/kustomization.yaml"))
        .map(|a| {
            let kind = a.contents.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap_or_default();
            (apply_order(kind), vec![(0, a.path.as_str(), a.contents.as_str(), !a.contents.starts_with("---"))])
        })
        .collect();
    for (ep, st) in &streams {
        if chosen(Some(&ep.env.name)) {
            for (kind, docs) in &st.kinds {
                runs.push((
                    apply_order(kind),
                    docs.iter().map(|(p, r)| (0, &st.paths[p.clone()], &st.buf[r.clone()], false)).collect(),
                ));
            }
        }
    }
    let mut docs = in_apply_order(runs);
    // Of a path several pieces rendered, the first piece's document is kept,
    // as one environment rendered in order would keep it.
    docs.dedup_by(|b, a| a.1 == b.1);
    Some(write_docs(out, &docs))
}

/// A document of a stream: the rank of its kind in apply order, its path,
/// its text and whether it needs a `---`.
type Doc<'a> = (usize, &'a str, &'a str, bool);

/// Kinds `kubectl apply -f -` must create before the others, in this order:
/// it applies a stream as it reads it, so an object before its namespace
/// fails ("namespaces not found") until a second apply. The order of
/// kustomize's `legacy` sort and of `helm template`, with admission
/// policies before the objects they judge.
const APPLY_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    // Kyverno's admission policies judge only what is created after them:
    // before every object they may judge, as their sync wave (-1) puts
    // them in the tree. Kyverno's own webhook is the cluster's add-on.
    "ClusterPolicy",
    "Policy",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds applied after all others: admission webhooks, which would
/// otherwise judge the objects applied after them.
const APPLY_LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// Where a kind goes in a stream: [`APPLY_FIRST`] in its order, then the
/// kinds of neither list by name, then [`APPLY_LAST`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct ApplyOrder<'a>(u8, usize, &'a str);

/// The [`ApplyOrder`] of `kind`.
fn apply_order(kind: &str) -> ApplyOrder<'_> {
    if let Some(i) = APPLY_FIRST.iter().position(|k| *k == kind) {
        ApplyOrder(0, i, "")
    } else if let Some(i) = APPLY_LAST.iter().position(|k| *k == kind) {
        ApplyOrder(2, i, "")
    } else {
        ApplyOrder(1, 0, kind)
    }
}

/// The documents of `runs` sorted by kind in apply order, then by path,
/// stably: of equal paths, the earlier one first. Sorting them all at once
/// made n log n comparisons of paths sharing long prefixes (15-25 ms for
/// the 105,000 documents of 5,000 services x 3). Each run holds one folder's
/// documents of one kind: each sorted by path, and the runs sorted (stably)
/// by kind and folder, they come out in order wherever a folder's runs
/// cover ranges of names one after another (pieces of services in name
/// order); the final stable sort then only checks them.
fn in_apply_order<'a>(mut runs: Vec<(ApplyOrder<'a>, Vec<Doc<'a>>)>) -> Vec<Doc<'a>> {
    fn group(path: &str) -> &str {
        let file = path.rfind('/').map_or(0, |i| i + 1);
        &path[..path[file..].find('-').map_or(path.len(), |i| file + i)]
    }
    runs.retain(|(_, r)| !r.is_empty());
    // Kinds ranked, so documents compare by a number and a path.
    let mut orders: Vec<ApplyOrder> = runs.iter().map(|(o, _)| *o).collect();
    orders.sort();
    orders.dedup();
    let mut ranked: Vec<(usize, &str, Vec<Doc>)> = runs
        .into_iter()
        .map(|(order, mut run)| {
            let rank = orders.partition_point(|o| *o < order);
            for d in &mut run {
                d.0 = rank;
            }
            run.sort_by(|a, b| a.1.cmp(b.1));
            (rank, group(run[0].1), run)
        })
        .collect();
    ranked.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut docs = Vec::with_capacity(ranked.iter().map(|r| r.2.len()).sum());
    for (_, _, run) in ranked {
        docs.extend(run);
    }
    docs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    docs
}

/// Writes documents as one stream, many to a system call: the documents
/// are slices of the rendered buffers, so nothing is copied into a buffer
/// first (16 ms of copying for the 85 MB stream of 5,000 services x 3).
fn write_docs(out: &mut dyn std::io::Write, docs: &[Doc]) -> std::io::Result<()> {
    use std::io::IoSlice;
    // At most IOV_MAX (1,024 on Linux) slices a call.
    const SLICES: usize = 1024;
    let mut slices: Vec<IoSlice> = Vec::with_capacity(SLICES);
    let mut flush = |slices: &mut Vec<IoSlice>| -> std::io::Result<()> {
        let mut rest: &mut [IoSlice] = slices;
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        slices.clear();
        Ok(())
    };
    for (_, _, text, open) in docs {
        if slices.len() + 3 > SLICES {
            flush(&mut slices)?;
        }
        if *open {
            slices.push(IoSlice::new(b"---\n"));
        }
        slices.push(IoSlice::new(text.as_bytes()));
        if !text.ends_with('\n') {
            slices.push(IoSlice::new(b"\n"));
        }
    }
    flush(&mut slices)?;
    out.flush()
}

/// Serialises one object as a YAML file.
pub fn yaml_file<T: serde::Serialize>(target: Target, env: Option<&str>, path: String, value: &T) -> Artifact {
    // Serialising our own plain structs cannot fail; an error would be a bug
    // in the serializer, and an empty file makes validators point at it.
    let contents = yaml::to_string(value).unwrap_or_else(|e| format!("# deployc: serialization failed: {e}\n"));
    Artifact::new(target, env, path, contents)
}
