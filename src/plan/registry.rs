//! How a cluster outside AWS pulls the project's ECR images, decided once
//! per environment ([`image_source`]). EKS nodes pull with their node role.
//! A GKE cluster this output creates pulls natively from a copy in its own
//! cloud's registry ([`Mirror`]): CI copies every image it pushes to ECR
//! into an Artifact Registry repository, the nodes' service account reads
//! it, and no pod needs a pull secret.
//!
//! The older way is kept below for a GKE cluster that could not have that
//! copy: a pull secret that External Secrets refreshes from ECR, an
//! `ECRAuthorizationToken` generator in each of its environments'
//! namespaces, authenticating as a ServiceAccount whose token (issued by
//! the GKE cluster's OIDC issuer,
//! `https://container.googleapis.com/v1/projects/<project>/locations/<region>/clusters/<name>`)
//! IAM accepts through an OpenID Connect provider and a pull-only role that
//! the AWS `terraform/shared/` root creates beside the repositories. Every
//! GKE cluster the output creates now has the copy, so
//! [`Model::pulls_ecr_with_token`] holds for no environment.
//!
//! **Invariant:** an environment pulls a copy exactly when
//! [`Model::mirrors_to_artifact_registry`] says so, and has the pull secret
//! exactly when [`Model::pulls_ecr_with_token`] does; the checker warns
//! (W0015) for every other environment outside AWS whose images are on
//! ECR, and the Terraform roots grant exactly the identities written here.

use super::topology::Cluster;
use super::EnvPlan;
use crate::model::{Cloud, Environment, Model, Registry};
use serde_json::{json, Value};

/// The Artifact Registry repository a GKE environment pulls the project's
/// images from, and CI copies every released image into
/// ([`Model::mirrors_to_artifact_registry`]). Its name is the project's;
/// the GCP shared root creates it, grants CI's service account
/// `roles/artifactregistry.writer` on it, and the cluster root grants the
/// nodes' service account `roles/artifactregistry.reader` on it, so the
/// nodes pull natively, with no pull secret.
///
/// **Invariant:** the kustomization's `images:` keep the project
/// registry's name (the name CD's tag rewrites and promotions read in
/// every environment) and rename it to [`Mirror::image`] with `newName`;
/// the tag is the same, and the copy keeps the digest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mirror {
    /// The GCP project.
    pub project: String,
    /// The repository's location, the cloud's region.
    pub location: String,
    /// The repository's id.
    pub repository: String,
}

impl Mirror {
    /// The registry host, `<region>-docker.pkg.dev`.
    pub fn host(&self) -> String {
        format!("{}-docker.pkg.dev", self.location)
    }
    /// The prefix of every image in it: `<host>/<project>/<repository>`.
    pub fn prefix(&self) -> String {
        format!("{}/{}/{}", self.host(), self.project, self.repository)
    }
    /// The copy of a project image (named without its registry): `<prefix>/<image>`.
    pub fn image(&self, image: &str) -> String {
        format!("{}/{image}", self.prefix())
    }
}

/// Where an environment's cluster pulls the images CI builds from.
#[derive(Clone, Debug, PartialEq)]
pub enum ImageSource {
    /// The project's registry (EKS nodes with their role, or a registry
    /// the nodes reach as is).
    Project,
    /// A copy in the cluster's cloud's registry.
    ArtifactRegistry(Mirror),
    /// ECR, through the pull secret External Secrets refreshes.
    EcrToken,
}

/// The environment's image source, decided once here.
pub fn image_source(model: &Model, env: &Environment) -> ImageSource {
    if let Some(m) = mirror(model, env) {
        ImageSource::ArtifactRegistry(m)
    } else if model.pulls_ecr_with_token(env) {
        ImageSource::EcrToken
    } else {
        ImageSource::Project
    }
}

/// The Artifact Registry repository of an environment that pulls from one.
pub fn mirror(model: &Model, env: &Environment) -> Option<Mirror> {
    match model.cloud_of(env) {
        Cloud::Gcp { project, region, .. } if model.mirrors_to_artifact_registry(env) => {
            Some(Mirror { project: project.clone(), location: region.clone(), repository: model.project.name.clone() })
        }
        _ => None,
    }
}

/// Every repository CI copies images into, once each, sorted.
pub fn mirrors(model: &Model) -> Vec<Mirror> {
    let mut v: Vec<Mirror> = model.environments.iter().filter_map(|e| mirror(model, e)).collect();
    v.sort();
    v.dedup();
    v
}

/// The repository an environment's nodes pull a built image from, given
/// its project repository name (`<registry>/<image>`): the Artifact
/// Registry copy where the environment has one, else the name as is.
pub fn pulled_repository(model: &Model, env: &Environment, image: &str) -> String {
    match mirror(model, env) {
        Some(m) => m.image(image),
        None => super::env::image_repository(model, image),
    }
}

/// The pull secret's name, its ExternalSecret's and its generator's.
pub const PULL_SECRET: &str = "ecr-pull";
/// The ServiceAccount the generator authenticates as (no pod runs as it).
pub const PULL_ACCOUNT: &str = "ecr-pull";
/// The audience of its token, which the IAM OIDC provider accepts.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// How often the token is renewed (it lasts 12 hours).
pub const REFRESH: &str = "1h";

/// The OIDC issuer of a GKE cluster this output creates.
pub fn gke_issuer(c: &Cluster) -> Option<String> {
    match &c.cloud {
        Cloud::Gcp { project, region, .. } if c.created => Some(format!(
            "https://container.googleapis.com/v1/projects/{project}/locations/{region}/clusters/{}",
            c.name
        )),
        _ => None,
    }
}

/// The pull role of one cluster: `<cluster name>-ecr-pull`.
pub fn role_name(c: &Cluster) -> String {
    format!("{}-ecr-pull", c.name)
}

/// One cluster outside AWS that pulls from ECR: the IAM side of it.
#[derive(Clone, Debug, PartialEq)]
pub struct EcrPuller {
    /// The cluster's key (a Terraform name).
    pub key: String,
    pub role_name: String,
    pub issuer: String,
    /// `system:serviceaccount:<namespace>:ecr-pull` of each environment on it.
    pub subjects: Vec<String>,
}

/// The clusters whose environments pull with a refreshed token, in topology order.
pub fn pullers(plan: &super::Plan) -> Vec<EcrPuller> {
    let model = plan.model;
    plan.topology
        .clusters
        .iter()
        .filter_map(|c| {
            let envs: Vec<_> = c.envs.iter().map(|e| model.env(*e)).filter(|e| model.pulls_ecr_with_token(e)).collect();
            if envs.is_empty() {
                return None;
            }
            Some(EcrPuller {
                key: c.key.clone(),
                role_name: role_name(c),
                issuer: gke_issuer(c)?,
                subjects: envs
                    .iter()
                    .map(|e| format!("system:serviceaccount:{}:{PULL_ACCOUNT}", e.namespace))
                    .collect(),
            })
        })
        .collect()
}

/// The registry host of the ECR images.
fn ecr_host(model: &Model) -> Option<String> {
    match (&model.project.registry, model.aws_account()) {
        (Registry::Ecr { region, .. }, Some(a)) => Some(format!("{a}.dkr.ecr.{region}.amazonaws.com")),
        _ => None,
    }
}

/// The pull secrets the environment adds to every built service's pods.
pub fn pull_secrets(cx: &EnvPlan) -> Vec<String> {
    if cx.model.pulls_ecr_with_token(cx.env) {
        vec![PULL_SECRET.to_string()]
    } else {
        Vec::new()
    }
}

/// The environment's objects for the pull secret: the ServiceAccount (with
/// the role's ARN), the generator and the ExternalSecret writing a
/// `kubernetes.io/dockerconfigjson` Secret from the generated token.
pub fn objects(cx: &EnvPlan) -> Vec<(&'static str, String, Value)> {
    let model = cx.model;
    if !model.pulls_ecr_with_token(cx.env) {
        return Vec::new();
    }
    let (Some(host), Some(account), Registry::Ecr { region, .. }) =
        (ecr_host(model), model.aws_account(), &model.project.registry)
    else {
        return Vec::new();
    };
    let cluster = format!("{}-{}-gke", model.project.name, model.cluster_key(cx.env));
    let arn = super::identity::role_arn(account, &format!("{cluster}-ecr-pull"));
    let ns = cx.ns();
    let labels = cx.labels(PULL_SECRET, "registry");
    let sa = json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": PULL_ACCOUNT,
            "namespace": ns,
            "labels": labels,
            "annotations": { super::irsa::ROLE_ANNOTATION: arn, "eks.amazonaws.com/audience": AUDIENCE }
        },
        // Only External Secrets asks for its token (TokenRequest); no pod mounts one.
        "automountServiceAccountToken": false
    });
    let generator = json!({
        "apiVersion": "generators.external-secrets.io/v1alpha1",
        "kind": "ECRAuthorizationToken",
        "metadata": { "name": PULL_SECRET, "namespace": ns, "labels": labels },
        "spec": {
            "region": region,
            // The token's audience is the ServiceAccount's annotation.
            "auth": { "jwt": { "serviceAccountRef": { "name": PULL_ACCOUNT } } }
        }
    });
    // The token's user and password as Docker's config; the host is the
    // registry's own (the generator's proxy endpoint is the same host). The
    // format is a raw string (backquotes): a `\"` inside a template action
    // is no Go template syntax.
    let config = format!(
        "{{\"auths\":{{{}:{{\"username\":\"{{{{ .username }}}}\",\"password\":\"{{{{ .password }}}}\",\"auth\":\"{{{{ printf `%s:%s` .username .password | b64enc }}}}\"}}}}}}",
        Value::String(host)
    );
    let es = json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": { "name": PULL_SECRET, "namespace": ns, "labels": labels },
        "spec": {
            "refreshInterval": REFRESH,
            "dataFrom": [{ "sourceRef": { "generatorRef": {
                "apiVersion": "generators.external-secrets.io/v1alpha1",
                "kind": "ECRAuthorizationToken",
                "name": PULL_SECRET
            } } }],
            "target": {
                "name": PULL_SECRET,
                "creationPolicy": "Owner",
                "template": {
                    "type": "kubernetes.io/dockerconfigjson",
                    "engineVersion": "v2",
                    "data": { ".dockerconfigjson": config }
                }
            }
        }
    });
    vec![
        ("ServiceAccount", PULL_ACCOUNT.to_string(), sa),
        ("ECRAuthorizationToken", PULL_SECRET.to_string(), generator),
        ("ExternalSecret", PULL_SECRET.to_string(), es),
    ]
}

/// A service's pod details in an environment: the program's, plus the
/// refreshed ECR pull secret for the images CI builds.
pub fn pod_details(cx: &EnvPlan, s: &crate::model::Service, max_replicas: u32) -> super::pod::PodDetails {
    let mut pod = super::pod::details(cx.env.production, s, max_replicas);
    if cx.model.built(s).is_some() {
        let extra = pull_secrets(cx);
        if !extra.is_empty() {
            let list = pod.image_pull_secrets.get_or_insert_with(Vec::new);
            for name in extra {
                if !list.iter().any(|r| r.name == name) {
                    list.push(k8s_openapi::api::core::v1::LocalObjectReference { name });
                }
            }
        }
    }
    pod
}
