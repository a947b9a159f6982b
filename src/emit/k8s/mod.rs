//! The Kubernetes target: per environment, one folder `k8s/<env>/` with one
//! file per object (`<kind>-<name>.yaml`) and a `kustomization.yaml` listing
//! them, so `kubectl apply -k` and ArgoCD's directory source both work.
//!
//! Objects are built as typed structs (k8s-openapi for the core API, our own
//! structs in [`crd`] for Argo Rollouts, External Secrets and the Prometheus
//! Operator) and serialised by [`super::yaml`].

pub mod data;
pub mod network;
pub mod workload;

use super::{yaml_file, Artifact, Target};
use crate::plan::env::service_image;
use crate::plan::{EnvPlan, Plan};
use serde::Serialize;

/// One environment's plan and the objects rendered from it so far.
pub struct EnvCx<'a> {
    pub plan: &'a EnvPlan<'a>,
    sink: Sink<'a>,
    /// Paths of the objects several services share, written so far.
    shared: std::collections::HashSet<String>,
}

/// Where rendered objects go: one artifact per file (a build), or one
/// buffer per environment with each document's path and byte range (the
/// `--stdout` stream, which never needs the files themselves).
enum Sink<'a> {
    Files(Files<'a>),
    Stream(Stream),
}

/// Files rendered and not yet handed on, with every path rendered so far.
struct Files<'a> {
    files: Vec<Artifact>,
    paths: Vec<String>,
    /// Takes the files every [`FLUSH_EVERY`] objects, so a build never holds
    /// a whole environment's text; `false` from it stops the handing on.
    flush: Option<&'a super::Flush<'a>>,
    stopped: bool,
}

/// How many files an environment's folder hands on at once.
const FLUSH_EVERY: usize = 256;

/// An environment's documents in one buffer, each `---`-opened, listed by
/// kind (in the order kinds first appear), each kind's in emission order:
/// the stream joins pieces by folder and kind before sorting by path.
#[derive(Default)]
pub struct Stream {
    pub buf: String,
    /// Every document's path, one after another: one allocation rather
    /// than one per document.
    pub paths: String,
    pub kinds: Vec<(String, Vec<StreamDoc>)>,
}

/// A document of a [`Stream`]: its path in `paths` and its bytes in `buf`.
pub type StreamDoc = (std::ops::Range<usize>, std::ops::Range<usize>);

impl Stream {
    fn doc(&mut self, kind: &str, path: std::ops::Range<usize>, range: std::ops::Range<usize>) {
        let at = match self.kinds.iter().rposition(|(k, _)| k == kind) {
            Some(at) => at,
            None => {
                self.kinds.push((kind.to_string(), Vec::new()));
                self.kinds.len() - 1
            }
        };
        self.kinds[at].1.push((path, range));
    }
}

impl<'a> std::ops::Deref for EnvCx<'a> {
    type Target = EnvPlan<'a>;
    fn deref(&self) -> &EnvPlan<'a> {
        self.plan
    }
}

impl<'a> EnvCx<'a> {
    /// Records an object as `k8s/<env>/<kind>-<name>.yaml`.
    pub fn push<T: Serialize>(&mut self, kind: &str, name: &str, obj: &T) {
        let env = self.plan.env;
        match &mut self.sink {
            Sink::Files(f) => {
                let path = object_path(&env.name, kind, name);
                f.paths.push(path.clone());
                f.files.push(yaml_file(Target::K8s, Some(&env.name), path, obj));
                if let Some(flush) = f.flush.filter(|_| f.files.len() >= FLUSH_EVERY) {
                    let files = std::mem::take(&mut f.files);
                    f.stopped = f.stopped || !flush(files);
                }
            }
            Sink::Stream(st) => {
                let at = st.paths.len();
                push_path(&mut st.paths, &env.name, kind, name);
                let path = at..st.paths.len();
                let start = st.buf.len();
                st.buf.push_str("---\n");
                if let Err(e) = super::yaml::append(&mut st.buf, obj) {
                    st.buf.push_str(&format!("# deployc: serialization failed: {e}\n"));
                }
                let end = st.buf.len();
                st.doc(kind, path, start..end);
            }
        }
    }

    /// [`Self::push`] for an object several services share (a
    /// ServiceAccount): recorded the first time only.
    pub fn push_once<T: Serialize>(&mut self, kind: &str, name: &str, obj: &T) {
        if self.shared.insert(format!("{kind}/{name}")) {
            self.push(kind, name, obj);
        }
    }
}

/// `k8s/<env>/<kind>-<name>.yaml`, built in one allocation: a stream of
/// 5,000 services x 3 names 105,000 objects, and `format!` with a
/// lower-cased copy of the kind cost 24 ms of its CPU.
fn object_path(env: &str, kind: &str, name: &str) -> String {
    let mut path = String::with_capacity(env.len() + kind.len() + name.len() + 11);
    push_path(&mut path, env, kind, name);
    path
}

/// Appends `k8s/<env>/<kind>-<name>.yaml` to `out`.
fn push_path(out: &mut String, env: &str, kind: &str, name: &str) {
    out.push_str("k8s/");
    out.push_str(env);
    out.push('/');
    push_file_name(out, kind, name);
}

/// An object's file name, `<kind>-<name>.yaml` with the kind in lower case.
fn push_file_name(out: &mut String, kind: &str, name: &str) {
    out.extend(kind.chars().map(|c| c.to_ascii_lowercase()));
    out.push('-');
    out.push_str(name);
    out.push_str(".yaml");
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<KImage>,
    /// The team's patches (`k8s/<env>/patches/`); kustomize tells a
    /// strategic merge patch from a JSON 6902 one by its content.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<KPatch>,
    /// Fields copied after the `images:` transformer (Datadog's version
    /// label from the deployed image tag).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replacements: Vec<serde_json::Value>,
}

#[derive(Serialize)]
struct KPatch {
    path: String,
    target: KTarget,
}

#[derive(Serialize)]
struct KTarget {
    kind: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KImage {
    name: String,
    /// The Artifact Registry copy the nodes pull (`plan::registry::Mirror`).
    #[serde(skip_serializing_if = "Option::is_none")]
    new_name: Option<String>,
    new_tag: String,
}

/// Emits every environment's folder.
pub fn emit(plan: &Plan) -> Vec<Artifact> {
    // Environments are independent: they are emitted on all cores.
    let mut out: Vec<Artifact> = crate::par::map(&plan.envs, |ep| env_folder(plan, ep)).into_iter().flatten().collect();
    out.extend(cluster_wide(plan));
    out
}

/// Services per piece of a stream: pieces this small keep both cores busy
/// to the end (three environments on two cores would leave one idle for a
/// third of the time).
const STREAM_PIECE: usize = 64;

/// Bytes reserved per service of a piece: a little more than a plain
/// service's seven objects (5.7 KB in the peer workload). Reserving 32 KB
/// cost a third of `--stdout`'s time at 5,000 services in zeroing pages
/// (huge pages are on while streaming) that were never written.
const PER_SERVICE: usize = 8 * 1024;

/// Bytes of paths reserved per service: seven or eight objects' paths of
/// 40-odd bytes.
const PATHS_PER_SERVICE: usize = 384;

/// What one piece of a stream renders.
enum Piece {
    /// The namespace and the environment-wide objects.
    EnvWide,
    /// These deployments' objects.
    Services(std::ops::Range<usize>),
}

/// Every environment's objects as streams, each with its environment: one
/// for the environment-wide objects and one per [`STREAM_PIECE`] services,
/// rendered in parallel (documents in emission order; the caller orders
/// them by path, and keeps the first of a path several pieces render: a
/// ServiceAccount services share). No kustomizations.
pub fn streams<'p>(plan: &'p Plan) -> Vec<(&'p EnvPlan<'p>, Stream)> {
    let pieces: Vec<(&EnvPlan, Piece)> = plan
        .envs
        .iter()
        .flat_map(|ep| {
            let n = ep.env.deployments.len();
            let services = (0..n).step_by(STREAM_PIECE).map(move |s| Piece::Services(s..(s + STREAM_PIECE).min(n)));
            std::iter::once(Piece::EnvWide).chain(services).map(move |p| (ep, p))
        })
        .collect();
    let streams = crate::par::map(&pieces, |(ep, piece)| {
        let services = match piece {
            Piece::EnvWide => 8,
            Piece::Services(r) => r.len(),
        };
        let st = Stream {
            buf: String::with_capacity(services * PER_SERVICE),
            paths: String::with_capacity(services * PATHS_PER_SERVICE),
            kinds: Vec::new(),
        };
        let mut cx = EnvCx { plan: ep, sink: Sink::Stream(st), shared: Default::default() };
        match piece {
            Piece::EnvWide => {
                workload::namespace(&mut cx);
                env_wide(&mut cx);
            }
            Piece::Services(r) => services_of(&mut cx, r.clone()),
        }
        match cx.sink {
            Sink::Stream(st) => st,
            Sink::Files(_) => Stream::default(),
        }
    });
    pieces.into_iter().map(|(ep, _)| ep).zip(streams).collect()
}

/// Renders every object of one environment into its sink.
fn objects(cx: &mut EnvCx) {
    workload::namespace(cx);
    services_of(cx, 0..cx.plan.env.deployments.len());
    env_wide(cx);
}

/// The objects of some of an environment's deployments.
fn services_of(cx: &mut EnvCx, range: std::ops::Range<usize>) {
    let ep = cx.plan;
    for d in &ep.env.deployments[range] {
        workload::service(cx, d);
        if let Some(v) = crate::plan::vpa::vpa(ep, d) {
            cx.push("VerticalPodAutoscaler", &v.metadata.name.clone(), &v);
        }
        network::service_policies(cx, d.service);
    }
}

/// An environment's objects that belong to no one deployment.
fn env_wide(cx: &mut EnvCx) {
    let ep = cx.plan;
    data::resources(cx);
    data::secrets(cx);
    data::monitoring(cx);
    network::policies(cx);
    for (kind, name, obj) in crate::plan::sealed::objects(ep) {
        cx.push(kind, &name, &obj);
    }
    for (kind, name, obj) in crate::plan::tracing::objects(ep) {
        cx.push(kind, &name, &obj);
    }
    for (kind, name, obj) in crate::plan::mesh::objects(ep) {
        cx.push(kind, &name, &obj);
    }
    for (kind, name, obj) in crate::plan::keda::objects(ep) {
        cx.push(kind, &name, &obj);
    }
    for (kind, name, obj) in crate::plan::registry::objects(ep) {
        cx.push(kind, &name, &obj);
    }
    if let Some(p) = crate::plan::policy::kyverno(ep) {
        let name = p.metadata.name.clone();
        cx.push("Policy", &name, &p);
    }
}

/// One environment's objects and its kustomization.
pub fn env_folder(plan: &Plan, ep: &crate::plan::EnvPlan) -> Vec<Artifact> {
    env_folder_flushed(plan, ep, None)
}

/// [`env_folder`], handing its files to `flush` as they are rendered when
/// given; returns the files not handed on (the kustomization among them).
pub fn env_folder_flushed(plan: &Plan, ep: &crate::plan::EnvPlan, flush: Option<&super::Flush<'_>>) -> Vec<Artifact> {
    let (model, opts) = (plan.model, plan.opts);
    let mut out = Vec::new();
    {
        let env = ep.env;
        let files = Files { files: Vec::new(), paths: Vec::new(), flush, stopped: false };
        let mut cx = EnvCx { plan: ep, sink: Sink::Files(files), shared: Default::default() };
        objects(&mut cx);
        let Sink::Files(Files { mut files, mut paths, .. }) = cx.sink else { return out };
        files.sort_by(|a, b| a.path.cmp(&b.path));
        paths.sort();
        let prefix = format!("k8s/{}/", env.name);
        // Only images CD releases: a prebuilt image keeps the tag it was given.
        let mut images: Vec<KImage> = env
            .deployments
            .iter()
            .map(|d| service_image(model, env, model.service(d.service), opts))
            .filter(|i| i.released)
            .map(|i| KImage { name: i.repository, new_name: i.pulled_from, new_tag: i.tag.unwrap_or_default() })
            .collect();
        images.sort_by(|a, b| a.name.cmp(&b.name));
        images.dedup_by(|a, b| a.name == b.name);
        let k = Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources: paths
                .iter()
                .map(|p| p.trim_start_matches(&prefix).to_string())
                .chain(
                    opts.extra_files
                        .get(&env.name)
                        .into_iter()
                        .flatten()
                        .map(|f| format!("{}/{f}", crate::plan::EXTRA_DIR)),
                )
                .collect(),
            images,
            patches: env
                .patches
                .iter()
                .map(|p| KPatch {
                    path: format!("{}/{}", crate::plan::PATCHES_DIR, p.file),
                    target: KTarget { kind: p.kind.clone(), name: p.name.clone() },
                })
                .collect(),
            replacements: env
                .deployments
                .iter()
                .filter_map(|d| crate::plan::observability::version_replacement(ep, d))
                .collect(),
        };
        out.extend(files);
        out.push(yaml_file(Target::K8s, Some(&env.name), format!("{prefix}kustomization.yaml"), &k));
    }
    out
}

/// The objects of no one environment: cluster-wide ones and the add-ons'.
pub fn cluster_wide(plan: &Plan) -> Vec<Artifact> {
    let mut out = cluster(plan);
    out.extend(addon_objects(plan));
    out
}

/// `k8s/_addons/<cluster>/`: the objects the add-ons need per cluster (the
/// log agent's Secret from the store, plan/logs.rs), Velero's Schedules
/// in `k8s/_addons/<cluster>/velero/` (plan/velero.rs) and the ClusterIssuer
/// in `k8s/_addons/<cluster>/cert-manager/` (plan/certificates.rs).
fn addon_objects(plan: &Plan) -> Vec<Artifact> {
    let mut out = Vec::new();
    for c in &plan.topology.clusters {
        if let Some(v) = crate::plan::velero::of(plan.model, c) {
            let objects = crate::plan::velero::objects(plan.model, &v)
                .into_iter()
                .map(|(name, obj)| (format!("schedule-{name}.yaml"), obj))
                .collect();
            addon_folder(&mut out, &crate::plan::velero::schedules_dir(plan, c), objects);
        }
        if crate::plan::certificates::needed_on(plan.model, c) {
            let issuer = crate::plan::certificates::issuer(plan.model);
            let file = format!("clusterissuer-{}.yaml", crate::plan::certificates::ISSUER);
            addon_folder(&mut out, &crate::plan::certificates::issuer_dir(plan, c), vec![(file, issuer)]);
        }
        let objects: Vec<(String, serde_json::Value)> = crate::plan::addon_secrets::addon_objects(plan, c)
            .into_iter()
            .map(|(kind, name, obj)| {
                let mut file = String::new();
                push_file_name(&mut file, kind, &name);
                (file, obj)
            })
            .collect();
        if !objects.is_empty() {
            addon_folder(&mut out, &crate::plan::addon_secrets::addons_dir(plan, c), objects);
        }
    }
    out
}

/// One add-on folder: each object in its file and a kustomization listing them.
fn addon_folder(out: &mut Vec<Artifact>, dir: &str, objects: Vec<(String, serde_json::Value)>) {
    let mut files = Vec::new();
    for (file, obj) in objects {
        out.push(yaml_file(Target::K8s, None, format!("{dir}/{file}"), &obj));
        files.push(file);
    }
    files.sort();
    let k = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: files,
        images: Vec::new(),
        patches: Vec::new(),
        replacements: Vec::new(),
    };
    out.push(yaml_file(Target::K8s, None, format!("{dir}/kustomization.yaml"), &k));
}

/// The cluster-wide objects (the StorageClass) and their kustomization.
fn cluster(plan: &Plan) -> Vec<Artifact> {
    if !crate::plan::addons::needs_cluster_objects(plan) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for c in &plan.topology.clusters {
        if done.contains(&c.cloud.kind()) {
            continue;
        }
        done.push(c.cloud.kind());
        out.extend(storage_class(plan, &c.cloud));
    }
    out
}

/// One cloud's cluster-wide folder: its StorageClass and kustomization.
fn storage_class(plan: &Plan, cloud: &crate::model::Cloud) -> Vec<Artifact> {
    use k8s_openapi::api::storage::v1::StorageClass;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let model = plan.model;
    let dir = crate::plan::addons::cluster_dir(plan, cloud);
    let sc = crate::plan::addons::storage_class(cloud);
    let obj = StorageClass {
        metadata: ObjectMeta {
            name: Some(sc.name.into()),
            labels: Some(std::collections::BTreeMap::from([
                ("app.kubernetes.io/part-of".to_string(), model.project.name.clone()),
                ("app.kubernetes.io/managed-by".to_string(), "deployc".to_string()),
            ])),
            ..Default::default()
        },
        provisioner: sc.provisioner.into(),
        parameters: Some(sc.parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        reclaim_policy: Some("Retain".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        allow_volume_expansion: Some(true),
        ..Default::default()
    };
    let file = format!("storageclass-{}.yaml", sc.name);
    let k = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: vec![file.clone()],
        images: Vec::new(),
        patches: Vec::new(),
        replacements: Vec::new(),
    };
    vec![
        yaml_file(Target::K8s, None, format!("{dir}/{file}"), &obj),
        yaml_file(Target::K8s, None, format!("{dir}/kustomization.yaml"), &k),
    ]
}
