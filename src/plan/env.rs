//! One environment's deployment plan: names, labels, images and where each
//! environment variable's value comes from.

use super::engines::{engine_port, managed_port};
use super::Options;
use crate::graph::Graph;
use crate::model::render_env;
use crate::model::{
    AttrRef, AttrTarget, Deployment as Dep, Engine, EnvValue, Environment, Model, Placement, Registry, ResourceId,
    ResourceUse, Service, TPart, Template,
};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, SecretKeySelector};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

/// What every object of one environment needs to know.
pub struct EnvPlan<'a> {
    pub model: &'a Model,
    pub graph: &'a Graph,
    pub env: &'a Environment,
    pub opts: &'a Options,
    /// The secret inventory, made once on first use: every workload asks
    /// which Secrets it reads, and recomputing it per workload is quadratic.
    secrets: std::sync::OnceLock<Vec<super::secrets::SecretPlan>>,
    /// Each reader's Secrets, comma-joined in inventory order, made once
    /// from the inventory (asked once per workload).
    reloads: std::sync::OnceLock<BTreeMap<String, String>>,
    /// Whether migrations run before the workloads (asked once per workload).
    migrations: bool,
    /// The IRSA roles by ServiceAccount, made once (asked once per workload).
    roles: std::sync::OnceLock<BTreeMap<String, super::irsa::ServiceRole>>,
}

impl<'a> EnvPlan<'a> {
    pub fn new(model: &'a Model, graph: &'a Graph, env: &'a Environment, opts: &'a Options) -> Self {
        let migrations = env.before.iter().any(|b| b == "migrations")
            && env.deployments.iter().any(|d| model.service(d.service).migrations.is_some());
        EnvPlan {
            model,
            graph,
            env,
            opts,
            secrets: std::sync::OnceLock::new(),
            reloads: std::sync::OnceLock::new(),
            migrations,
            roles: std::sync::OnceLock::new(),
        }
    }

    /// Every Secret the environment reads (see [`super::secrets::inventory`]).
    pub fn secrets(&self) -> &[super::secrets::SecretPlan] {
        self.secrets.get_or_init(|| super::secrets::build_inventory(self))
    }

    /// The Secrets each reader reads, comma-joined in inventory order.
    pub fn reloads(&self) -> &BTreeMap<String, String> {
        self.reloads.get_or_init(|| {
            let mut out: BTreeMap<String, String> = BTreeMap::new();
            // A generated Secret refreshes on its own schedule (the ECR
            // token hourly) and is read only by the kubelet: no restarts.
            for s in self.secrets().iter().filter(|s| !matches!(s.producer, super::secrets::Producer::Generated { .. }))
            {
                for r in &s.readers {
                    let names = out.entry(r.clone()).or_default();
                    if !names.is_empty() {
                        names.push(',');
                    }
                    names.push_str(&s.name);
                }
            }
            out
        })
    }

    /// The environment's IRSA roles, by ServiceAccount (see [`super::irsa::service_roles`]).
    pub fn roles(&self) -> &BTreeMap<String, super::irsa::ServiceRole> {
        self.roles.get_or_init(|| super::irsa::service_roles(self))
    }

    pub fn ns(&self) -> &str {
        &self.env.namespace
    }

    /// Standard labels of an object belonging to `name` (a service or resource).
    pub fn labels(&self, name: &str, component: &str) -> BTreeMap<String, String> {
        // The selector's label and the others, built in one go: every object
        // carries them, and inserting one by one compared their long shared
        // prefixes again each time.
        BTreeMap::from([
            ("app.kubernetes.io/component".to_string(), component.to_string()),
            ("app.kubernetes.io/managed-by".to_string(), "deployc".to_string()),
            (SELECTOR_LABEL.to_string(), name.to_string()),
            ("app.kubernetes.io/part-of".to_string(), self.model.project.name.clone()),
            ("deployc.dev/environment".to_string(), self.env.name.clone()),
        ])
    }

    /// The labels of the environment's Namespace: ownership and the
    /// `restricted` Pod Security level. ArgoCD's `managedNamespaceMetadata`
    /// carries the same labels, so either creator gives the same Namespace.
    pub fn namespace_labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            ("app.kubernetes.io/part-of".to_string(), self.model.project.name.clone()),
            ("app.kubernetes.io/managed-by".to_string(), "deployc".to_string()),
            ("deployc.dev/environment".to_string(), self.env.name.clone()),
        ]);
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(format!("pod-security.kubernetes.io/{mode}"), "restricted".into());
        }
        labels.extend(super::mesh::namespace_labels(self.model.project.mesh));
        labels
    }

    /// The annotations of the environment's Namespace that ArgoCD's
    /// `managedNamespaceMetadata` carries too: the mesh's injection switch.
    pub fn namespace_annotations(&self) -> BTreeMap<String, String> {
        super::mesh::namespace_annotations(self.model.project.mesh)
    }

    /// Metadata with name, namespace and labels.
    pub fn meta(&self, name: &str, owner: &str, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.ns().to_string()),
            labels: Some(self.labels(owner, component)),
            ..Default::default()
        }
    }

    /// Whether the environment runs migrations before its workloads.
    pub fn runs_migrations(&self) -> bool {
        self.migrations
    }

    pub fn resource_use(&self, r: ResourceId) -> &'a ResourceUse {
        &self.env.resources[r.index()]
    }

    pub fn in_cluster(&self, r: ResourceId) -> bool {
        self.resource_use(r).placement == Placement::InCluster
    }

    /// The image a service runs in this environment.
    pub fn image(&self, s: &Service) -> ServiceImage {
        service_image(self.model, self.env, s, self.opts)
    }
}

/// The phases of an ArgoCD sync, as sync waves: each wave is applied and
/// must be healthy before the next starts. Backing data and everything the
/// migration reads (ServiceAccount, ConfigMap, Secrets) come first, then the
/// pre-deploy backups as Sync hooks (so no migration runs before the data
/// is backed up), then the migration as a Sync hook, then the workloads;
/// objects that only become
/// healthy once a pod uses them (a backup PVC with WaitForFirstConsumer)
/// come last, so they never hold up the waves before them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wave {
    /// Admission policies, in place before any pod of the environment.
    Admission,
    Data,
    Backup,
    Migrate,
    Workloads,
    Deferred,
}

impl Wave {
    pub fn number(self) -> i32 {
        match self {
            Wave::Admission => -1,
            Wave::Data => 0,
            Wave::Backup => 1,
            Wave::Migrate => 2,
            Wave::Workloads => 3,
            Wave::Deferred => 4,
        }
    }
}

/// The annotation that places an object in a sync wave.
pub fn sync_wave(w: Wave) -> (String, String) {
    ("argocd.argoproj.io/sync-wave".to_string(), w.number().to_string())
}

/// Annotations that keep an object (a Namespace, a PVC) when its Application
/// is deleted: removing an environment from GitOps must not delete its data.
pub fn keep_on_delete() -> BTreeMap<String, String> {
    BTreeMap::from([("argocd.argoproj.io/sync-options".to_string(), "Delete=false".to_string())])
}

/// A content hash of a workload's plain configuration, put on its pod
/// template so a config change rolls the pods through the strategy. It is
/// the SHA-256 of the map as Go's `encoding/json` writes it, so the Helm
/// chart computes the same value with `toJson | sha256sum`, also for
/// values a user sets at install time.
pub fn config_checksum(plain: &BTreeMap<String, String>) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(go_json(plain).as_bytes());
    // The first 8 hex digits: enough to notice any change (a collision is one
    // in 4 billion), and too short for secret scanners to take it for a key.
    ["sha256:", &crate::hex(&digest[..4])].concat()
}

/// A string map as Go's `json.Marshal` writes it: keys sorted, compact, and
/// `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX` (serde_json writes
/// everything else the same way).
fn go_json(map: &BTreeMap<String, String>) -> String {
    let text = serde_json::to_string(map).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The one label a workload's selector matches.
const SELECTOR_LABEL: &str = "app.kubernetes.io/name";

/// The selector labels of a workload: its name only, so that selectors never change.
pub fn selector(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(SELECTOR_LABEL.to_string(), name.to_string())])
}

pub fn label_selector(name: &str) -> LabelSelector {
    LabelSelector { match_labels: Some(selector(name)), ..Default::default() }
}

/// The image a service runs in one environment: the decision every target
/// (Kubernetes, Helm, the kustomization CD rewrites, the pipelines) reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceImage {
    /// The repository with its registry host, as pulled.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Built here and released by CD: the kustomization's `images` list it,
    /// CD rewrites its tag, CI builds and pushes it. A prebuilt image is
    /// deployed exactly as written and is none of these.
    pub released: bool,
    /// Where the nodes pull a released image from when that is not
    /// `repository`: its Artifact Registry copy (`plan::registry::Mirror`).
    /// The Kubernetes output keeps `repository` in the workloads and renames
    /// it in the kustomization (`newName`); Helm's values name this one.
    pub pulled_from: Option<String>,
}

impl ServiceImage {
    /// The full reference: `repository[:tag][@digest]`.
    pub fn reference(&self) -> String {
        let mut r = self.repository.clone();
        if let Some(t) = &self.tag {
            r.push(':');
            r.push_str(t);
        }
        if let Some(d) = &self.digest {
            r.push('@');
            r.push_str(d);
        }
        r
    }
}

/// The image of a service in an environment: a built one is the project's
/// registry, the repository name and the released tag; a prebuilt one is
/// the reference as the program wrote it.
pub fn service_image(model: &Model, env: &Environment, s: &Service, opts: &Options) -> ServiceImage {
    match s.prebuilt().map(crate::image::parse) {
        Some(Ok(r)) => ServiceImage {
            repository: match r.registry {
                Some(host) => format!("{host}/{}", r.repository),
                None => r.repository,
            },
            tag: r.tag,
            digest: r.digest,
            released: false,
            pulled_from: None,
        },
        // The checker parsed every prebuilt reference; a built image is named
        // by the program and tagged by CD.
        _ => {
            let repository = image_repository(model, &s.image);
            let tag = image_tag(model, env, &repository, opts);
            let pulled_from = super::registry::mirror(model, env).map(|m| m.image(&s.image));
            ServiceImage { repository, tag: Some(tag), digest: None, released: true, pulled_from }
        }
    }
}

/// The full repository of an image in the project's registry.
pub fn image_repository(model: &Model, image: &str) -> String {
    match &model.project.registry {
        Registry::Ecr { region, account } => {
            format!("{}.dkr.ecr.{region}.amazonaws.com/{image}", account.as_deref().unwrap_or("000000000000"))
        }
        Registry::Ghcr { owner } => ["ghcr.io/", owner, "/", image].concat(),
        Registry::DockerHub { namespace } => ["docker.io/", namespace, "/", image].concat(),
    }
}

/// The tag deployed in an environment: the one CD released there (read from
/// the existing output), else the first release tag the tag policy yields.
/// Never `latest`: a mutable tag would make rollbacks and audits impossible.
pub fn image_tag(model: &Model, env: &Environment, repo: &str, opts: &Options) -> String {
    if let Some(t) = opts.image_tags.get(&(env.name.clone(), repo.to_string())) {
        return t.clone();
    }
    let tags = &model.pipeline.tags;
    if tags.contains(&crate::model::TagPolicy::Semver) {
        "v0.1.0".into()
    } else {
        model.project.branch.replace('/', "-") + "-initial"
    }
}

/// The Secret holding a backing resource's connection details.
pub fn connection_secret(resource: &str) -> String {
    format!("{resource}-connection")
}

/// Name of a managed queue or bucket in the cloud: `<project>-<env>-<resource>`.
pub fn cloud_name(model: &Model, env: &Environment, resource: &str) -> String {
    format!("{}-{}-{}", model.project.name, env.name, resource)
}

/// Name of an SQS queue, as Terraform creates it and the pods read it
/// (`name`): the cloud name, with the `.fifo` SQS requires of a FIFO queue.
/// KEDA's trigger and its operator's IAM policy name the queue by it too.
pub fn queue_name(model: &Model, env: &Environment, r: &crate::model::Resource) -> String {
    let n = cloud_name(model, env, &r.name);
    if r.fifo {
        format!("{n}.fifo")
    } else {
        n
    }
}

/// Where an environment variable's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Plain(String),
    Secret { name: String, key: String },
}

/// Resolves one attribute reference in this environment.
pub fn resolve_attr(cx: &EnvPlan, r: &AttrRef) -> Source {
    let m = cx.model;
    let ns = cx.ns();
    match &r.target {
        AttrTarget::Service(name) => {
            let Some(s) = m.service_by_name(name) else { return Source::Plain(String::new()) };
            let host = format!("{name}.{ns}.svc.cluster.local");
            // A reference to a workload without a port is E0365.
            let port = s.service_port.unwrap_or_default();
            Source::Plain(match r.attr.as_str() {
                "url" => format!("http://{host}:{port}"),
                "address" => format!("{host}:{port}"),
                "host" => host,
                _ => port.to_string(),
            })
        }
        AttrTarget::Resource(name) => {
            let Some(res) = m.resource_by_name(name) else { return Source::Plain(String::new()) };
            let placement = cx.resource_use(res.id).placement;
            let secret = |key: &str| Source::Secret { name: connection_secret(name), key: key.into() };
            let bootstrap = format!("{name}-kafka-bootstrap.{ns}.svc.cluster.local");
            match (&res.engine, r.attr.as_str(), placement) {
                // Strimzi's bootstrap Service: a plain address, no credentials.
                (Engine::Kafka, "url", Placement::InCluster) => {
                    Source::Plain(format!("{bootstrap}:{}", engine_port(&res.engine)))
                }
                (Engine::Kafka, "host", Placement::InCluster) => Source::Plain(bootstrap),
                (Engine::Kafka, "port", Placement::Managed) => Source::Plain(managed_port(&res.engine).to_string()),
                // `auth = false`: nothing secret about the address.
                (_, "url", Placement::InCluster) if !super::engines::uses_password(res) => {
                    let host = format!("{name}.{ns}.svc.cluster.local");
                    super::engines::open_url(res, &host).map_or_else(|| secret("url"), Source::Plain)
                }
                (_, "url", _) => secret("url"),
                // The host:port form many apps read (`REDIS_ADDR`).
                (_, "address", Placement::InCluster) => {
                    Source::Plain(format!("{name}.{ns}.svc.cluster.local:{}", engine_port(&res.engine)))
                }
                (_, "address", Placement::Managed) => secret("address"),
                (_, "user", Placement::InCluster) => Source::Plain(
                    super::engines::spec(&res.engine).in_cluster.as_ref().map_or("", |c| c.user).to_string(),
                ),
                (_, "user", Placement::Managed) => secret("user"),
                (_, "password", Placement::InCluster) if !super::engines::uses_password(res) => {
                    Source::Plain(String::new())
                }
                (_, "password", _) => secret("password"),
                (_, "database", _) => Source::Plain(res.database.clone()),
                (Engine::Queue | Engine::Bucket, "arn", _) => secret("arn"),
                (Engine::Queue, "name", _) => Source::Plain(queue_name(m, cx.env, res)),
                (Engine::Bucket, "name", _) => Source::Plain(cloud_name(m, cx.env, name)),
                (_, "host", Placement::InCluster) => Source::Plain(format!("{name}.{ns}.svc.cluster.local")),
                (_, "host", Placement::Managed) => secret("host"),
                (_, "port", _) => Source::Plain(engine_port(&res.engine).to_string()),
                (_, "name", _) => Source::Plain(res.database.clone()),
                _ => secret(&r.attr),
            }
        }
        AttrTarget::Project | AttrTarget::Env => {
            Source::Plain(render(cx, &Template { parts: vec![TPart::Ref(r.clone())] }))
        }
    }
}

/// Renders a string template in this environment. References to secrets
/// become `$(VAR)` expansions that the caller must define first.
pub fn render(cx: &EnvPlan, t: &Template) -> String {
    let env = cx.env;
    render_env(t, &cx.model.project, &env.name, &env.namespace, &env.domain)
}

/// A deployment's environment variables: the plain ones (its ConfigMap)
/// and the rest, each from where the program says.
pub type ContainerEnv = (BTreeMap<String, String>, Vec<EnvVar>);

/// The environment of a service's container: plain values for the ConfigMap,
/// and `env` entries (secrets, and strings that embed secrets).
pub fn container_env(cx: &EnvPlan, d: &Dep) -> ContainerEnv {
    let mut plain = BTreeMap::new();
    let mut env = Vec::new();
    let secret_var = |name: &str, secret: &str, key: &str| EnvVar {
        name: name.to_string(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: Some(false) }),
            ..Default::default()
        }),
        ..Default::default()
    };
    for (name, v) in &d.env {
        match v {
            EnvValue::Secret { name: s, key } => env.push(secret_var(name, s, key.as_deref().unwrap_or("value"))),
            EnvValue::Ref(r) => match resolve_attr(cx, r) {
                Source::Plain(p) => {
                    plain.insert(name.clone(), p);
                }
                Source::Secret { name: s, key } => env.push(secret_var(name, &s, &key)),
            },
            EnvValue::Literal(t) => {
                // Parts that resolve to secrets are injected through helper
                // variables and Kubernetes' $(VAR) expansion, never in clear.
                // Kubernetes expands `$(` only in `env` values, not in
                // ConfigMap data: the text is escaped only when it goes there.
                let mut raw = String::new();
                let mut escaped = String::new();
                let mut helpers = Vec::new();
                for p in &t.parts {
                    match p {
                        TPart::Lit(s) => {
                            raw.push_str(s);
                            escaped.push_str(&s.replace("$(", "$$("));
                        }
                        TPart::Ref(r) => match resolve_attr(cx, r) {
                            Source::Plain(p) => {
                                raw.push_str(&p);
                                escaped.push_str(&p.replace("$(", "$$("));
                            }
                            Source::Secret { name: s, key } => {
                                let helper = format!("DEPLOYC_{}_{}", name, helpers.len());
                                escaped.push_str(&format!("$({helper})"));
                                helpers.push(secret_var(&helper, &s, &key));
                            }
                        },
                    }
                }
                if helpers.is_empty() {
                    plain.insert(name.clone(), raw);
                } else {
                    env.extend(helpers);
                    env.push(EnvVar { name: name.clone(), value: Some(escaped), ..Default::default() });
                }
            }
        }
    }
    // Error tracking and the like, decided in plan/observability.rs.
    for (name, v) in super::observability::pod_env(cx, d) {
        match v {
            super::observability::PodVar::Plain(p) => {
                plain.insert(name, p);
            }
            super::observability::PodVar::Secret { name: s, key } => env.push(secret_var(&name, &s, &key)),
            super::observability::PodVar::Field(path) => env.push(EnvVar {
                name,
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector { field_path: path, api_version: None }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            super::observability::PodVar::Expanded(v) => {
                env.push(EnvVar { name, value: Some(v), ..Default::default() })
            }
        }
    }
    (plain, env)
}
