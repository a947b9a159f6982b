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
    files: Vec<Artifact>,
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
        let path = format!("k8s/{}/{}-{}.yaml", self.env.name, kind.to_ascii_lowercase(), name);
        self.files.push(yaml_file(Target::K8s, Some(&self.env.name), path, obj));
    }
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
    new_tag: String,
}

/// Emits every environment's folder.
pub fn emit(plan: &Plan) -> Vec<Artifact> {
    // Environments are independent: each is emitted on its own thread.
    let mut out: Vec<Artifact> =
        crate::emit::par_map(&plan.envs, |ep| env_folder(plan, ep)).into_iter().flatten().collect();
    out.extend(cluster(plan));
    out
}

/// One environment's objects and its kustomization.
fn env_folder(plan: &Plan, ep: &crate::plan::EnvPlan) -> Vec<Artifact> {
    let (model, opts) = (plan.model, plan.opts);
    let mut out = Vec::new();
    {
        let env = ep.env;
        let mut cx = EnvCx { plan: ep, files: Vec::new() };
        workload::namespace(&mut cx);
        for d in &env.deployments {
            workload::service(&mut cx, d);
            if let Some(v) = crate::plan::vpa::vpa(ep, d) {
                cx.push("VerticalPodAutoscaler", &v.metadata.name.clone(), &v);
            }
        }
        data::resources(&mut cx);
        data::secrets(&mut cx);
        data::monitoring(&mut cx);
        network::policies(&mut cx);
        for (kind, name, obj) in crate::plan::tracing::objects(ep) {
            cx.push(kind, &name, &obj);
        }
        if let Some(p) = crate::plan::policy::kyverno(ep) {
            let name = p.metadata.name.clone();
            cx.push("Policy", &name, &p);
        }
        let mut files = std::mem::take(&mut cx.files);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let prefix = format!("k8s/{}/", env.name);
        // Only images CD releases: a prebuilt image keeps the tag it was given.
        let mut images: Vec<KImage> = env
            .deployments
            .iter()
            .map(|d| service_image(model, env, model.service(d.service), opts))
            .filter(|i| i.released)
            .map(|i| KImage { name: i.repository, new_tag: i.tag.unwrap_or_default() })
            .collect();
        images.sort_by(|a, b| a.name.cmp(&b.name));
        images.dedup_by(|a, b| a.name == b.name);
        let k = Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources: files
                .iter()
                .map(|f| f.path.trim_start_matches(&prefix).to_string())
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
