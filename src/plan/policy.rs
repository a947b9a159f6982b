//! Policy as code: what the program promises about every pod (non-root,
//! read-only root filesystem, no `latest`, limits, images from allowed
//! registries), as one Kyverno `Policy` in each environment's namespace
//! (`policy = kyverno`). The namespace's Pod Security admission labels
//! (`restricted`, from [`super::env::EnvPlan::namespace_labels`]) stay as
//! they are; this adds what Pod Security does not check.
//!
//! **Invariant:** the policy admits every pod deployc itself generates
//! (`tests/policy.rs` evaluates the rules against the generated pods).

use super::EnvPlan;
use crate::model::Placement;
use serde::Serialize;
use serde_json::{json, Value};

/// A Kyverno `Policy` (kyverno.io/v1), namespaced.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct KyvernoPolicy {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Meta,
    pub spec: PolicySpec,
}

#[derive(Serialize, Clone, Debug)]
pub struct Meta {
    pub name: String,
    pub namespace: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PolicySpec {
    /// Existing pods are reported too (policy reports), not only new ones.
    pub background: bool,
    pub rules: Vec<Rule>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Rule {
    pub name: String,
    #[serde(rename = "match")]
    pub match_: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Value>,
    pub validate: Validate,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Validate {
    pub failure_action: &'static str,
    pub message: String,
    pub pattern: Value,
}

/// The image prefixes an environment's pods may use: the program's
/// registry, the engine images of the resources it runs in the cluster, the
/// prebuilt images it deploys, and the program's own additions; sorted,
/// without duplicates.
pub fn allowed_images(cx: &EnvPlan) -> Vec<String> {
    let m = cx.model;
    let mut out = vec![super::env::image_repository(m, "")];
    // The Artifact Registry copy the nodes pull the released images from.
    if let Some(mirror) = super::registry::mirror(m, cx.env) {
        out.push(mirror.image(""));
    }
    for r in &m.resources {
        if cx.resource_use(r.id).placement == Placement::InCluster {
            if let Some(ic) = &super::engines::spec(&r.engine).in_cluster {
                out.push(format!("{}:", ic.image));
            }
        }
    }
    // The CLI that copies backups off the cluster and fetches them for the drill.
    if let Some(store) = super::backup::off_cluster(cx) {
        if let Some((repo, _)) = store.cli_image().rsplit_once(':') {
            out.push(format!("{repo}:"));
        }
    }
    // A warm standby's refresh job reads its primary's replica with the AWS CLI.
    if super::failover::refreshes(cx) {
        if let Some((repo, _)) = super::backup::AWS_CLI_IMAGE.rsplit_once(':') {
            out.push(format!("{repo}:"));
        }
    }
    // The prebuilt images the program deploys here, exactly (a tag or a
    // digest follows the repository, nothing else).
    for d in &cx.env.deployments {
        let s = m.service(d.service);
        if s.prebuilt().is_some() {
            let image = super::env::service_image(m, cx.env, s, cx.opts);
            out.push(format!("{}:", image.repository));
            out.push(format!("{}@", image.repository));
        }
    }
    if let Some(p) = &m.project.policy {
        out.extend(p.registries.iter().cloned());
    }
    // The sidecar the mesh injects into every pod.
    if let Some(mesh) = m.project.mesh {
        out.extend(super::mesh::spec(mesh).proxy_images.iter().map(|i| i.to_string()));
    }
    out.sort();
    out.dedup();
    out
}

/// Each container list of a pod (`containers`, and `initContainers` when present)
/// must match `item`.
fn every_container(item: Value) -> Value {
    json!({ "spec": { "containers": [item.clone()], "=(initContainers)": [item] } })
}

/// The environment's policy, when the program declares one.
pub fn kyverno(cx: &EnvPlan) -> Option<KyvernoPolicy> {
    let p = cx.model.project.policy.as_ref()?;
    let action = if p.enforce { "Enforce" } else { "Audit" };
    let pods = json!({ "any": [{ "resources": { "kinds": ["Pod"] } }] });
    // Strimzi creates the Kafka pods from its own templates and images;
    // they are its operator's to secure, not the program's.
    let mut exclude = json!({ "any": [{ "resources": { "selector": {
        "matchExpressions": [{ "key": "strimzi.io/cluster", "operator": "Exists" }]
    } } }] });
    // So do cert-manager's HTTP-01 solver pods (its own image, from quay.io).
    if super::certificates::solves_in(cx.model, cx.env) {
        exclude["any"].as_array_mut().into_iter().for_each(|a| {
            a.push(json!({ "resources": { "selector": {
                "matchExpressions": [{ "key": super::certificates::SOLVER_LABEL, "operator": "Exists" }]
            } } }))
        });
    }
    let allowed = allowed_images(cx);
    let images = allowed.iter().map(|a| format!("{a}*")).collect::<Vec<_>>().join(" | ");
    let rule = |name: &str, message: String, pattern: Value| Rule {
        name: name.to_string(),
        match_: pods.clone(),
        exclude: Some(exclude.clone()),
        validate: Validate { failure_action: action, message, pattern },
    };
    // The services that request cpu without a limit here (`cpu = 100m..`,
    // the team's explicit choice): their pods are held to a memory limit
    // and a cpu request instead of both limits.
    let unlimited: Vec<String> = cx
        .env
        .deployments
        .iter()
        .filter(|d| d.cpu.limit.is_none())
        .map(|d| cx.model.service(d.service).name.clone())
        .collect();
    let named = |names: &[String]| {
        json!({ "resources": { "selector": { "matchExpressions": [
            { "key": "app.kubernetes.io/name", "operator": "In", "values": names }
        ] } } })
    };
    let mut non_root = every_container(json!({ "=(securityContext)": { "=(runAsNonRoot)": true } }));
    non_root["spec"]["securityContext"] = json!({ "runAsNonRoot": true });
    let rules = vec![
        rule("run-as-non-root", "Containers must run as a non-root user (runAsNonRoot).".into(), non_root),
        rule(
            "read-only-root-filesystem",
            "Containers must have a read-only root filesystem.".into(),
            every_container(json!({ "securityContext": { "readOnlyRootFilesystem": true } })),
        ),
        rule("require-image-tag", "Images must name a tag.".into(), every_container(json!({ "image": "*:*" }))),
        rule(
            "no-latest-tag",
            "Images must not use the mutable `latest` tag.".into(),
            every_container(json!({ "image": "!*:latest" })),
        ),
        Rule {
            exclude: Some(if unlimited.is_empty() {
                exclude.clone()
            } else {
                json!({ "any": [exclude["any"][0].clone(), named(&unlimited)] })
            }),
            ..rule(
                "resource-limits",
                "Containers must set cpu and memory limits.".into(),
                every_container(json!({ "resources": { "limits": { "cpu": "?*", "memory": "?*" } } })),
            )
        },
        rule(
            "allowed-registries",
            format!("Images must come from {}.", allowed.join(", ")),
            every_container(json!({ "image": images })),
        ),
    ];
    let mut rules = rules;
    if !unlimited.is_empty() {
        rules.push(Rule {
            match_: json!({ "any": [{ "resources": { "kinds": ["Pod"], "selector": named(&unlimited)["resources"]["selector"] } }] }),
            ..rule(
                "memory-limit-cpu-request",
                "Containers of services without a cpu limit must set a memory limit and a cpu request.".into(),
                every_container(json!({ "resources": { "limits": { "memory": "?*" }, "requests": { "cpu": "?*" } } })),
            )
        });
    }
    let name = format!("{}-pod-promises", cx.model.project.name);
    Some(KyvernoPolicy {
        api_version: "kyverno.io/v1",
        kind: "Policy",
        metadata: Meta {
            labels: cx.labels(&name, "policy"),
            name,
            namespace: cx.ns().to_string(),
            annotations: std::collections::BTreeMap::from([
                (
                    "policies.kyverno.io/description".to_string(),
                    "What the deployc program promises about every pod of this environment.".to_string(),
                ),
                super::env::sync_wave(super::env::Wave::Admission),
            ]),
        },
        spec: PolicySpec { background: true, rules },
    })
}
