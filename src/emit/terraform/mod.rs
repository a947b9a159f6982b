//! The Terraform target: the AWS infrastructure the services run on, as
//! Terraform's JSON configuration syntax (`*.tf.json`). A `cloud = gcp`
//! program gets the same layout in Google's terms ([`gcp`]), a
//! `cloud = azure` program in Azure's ([`azure`]).
//!
//! **Layout: one root module per environment** (`terraform/<env>/`), plus
//! `terraform/shared/` for what all environments share (the ECR
//! repositories images are promoted through). Environments differ in shape,
//! not only in sizes: a database is managed in one and in the cluster in
//! another, production has replicas and one NAT gateway per zone. One module
//! with per-environment variable files would need a `count` on nearly every
//! resource; separate root modules keep each plan readable, give each
//! environment its own state (a `terraform destroy` in dev cannot touch
//! production) and can be applied by different people. What stays tunable
//! without a rebuild (CIDR, node counts, Kubernetes version) is a variable
//! whose default comes from the program.
//!
//! Blocks are built as `serde_json` values inside typed file envelopes
//! ([`Config`]); the provider schema is the type system here, and CI checks
//! every resource type, argument and reference with `terraform validate`
//! against the real AWS provider. Keys serialise sorted, so output is stable.
//! References between resources are always Terraform expressions
//! (`${aws_db_instance.db.address}`), never copied values.
//!
//! **Invariant:** every `${...}` reference names a resource, data source,
//! local or variable the same module defines (tests/terraform.rs checks it).

mod alarms;
pub mod azure;
mod cdn;
mod cluster;
mod data;
mod edge;
mod failover;
pub mod gcp;
mod network;
mod pipeline;
mod proxy;
mod recovery;
mod security;
mod shared;
mod state;

use super::{Artifact, Target};
use crate::graph::Graph;
use crate::model::{Cloud, EksCluster, Environment, Model, Placement, Registry, ResourceId, SecretStore};
use crate::plan::{Options, Plan};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The AWS provider's major version the output is written for.
pub const AWS_PROVIDER: &str = "~> 5.0";
/// The oldest Terraform that reads the output (`startswith` needs 1.5).
pub const TERRAFORM_VERSION: &str = ">= 1.5.0";

/// A variable block.
#[derive(Serialize, Clone, Debug)]
pub struct Variable {
    #[serde(rename = "type")]
    pub ty: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation: Vec<Validation>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Validation {
    pub condition: String,
    pub error_message: String,
}

/// An output block.
#[derive(Serialize, Clone, Debug)]
pub struct Output {
    pub description: String,
    pub value: String,
    /// Set when the value reads a sensitive attribute (Terraform refuses it otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
}

/// One `*.tf.json` file: the top-level blocks in Terraform's usual order.
#[derive(Serialize, Default, Debug)]
pub struct Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terraform: Option<Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub provider: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variable: BTreeMap<String, Variable>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub locals: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub resource: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub output: BTreeMap<String, Output>,
}

/// A root module being built: its files by name.
#[derive(Default, Debug)]
pub struct Module {
    files: BTreeMap<&'static str, Config>,
}

impl Module {
    pub fn file(&mut self, name: &'static str) -> &mut Config {
        self.files.entry(name).or_default()
    }
    /// Adds a configuration of the AWS provider for another region, named
    /// `aws.<alias>`, after the module's existing ones (the first is the
    /// default, whose settings the new one copies).
    pub fn aws_provider_alias(&mut self, alias: &str, region: &str) {
        let main = self.file("main.tf.json");
        let mut list = match main.provider.get("aws").cloned().unwrap_or_else(|| json!({})) {
            Value::Array(v) => v,
            v => vec![v],
        };
        let mut extra = list.first().cloned().unwrap_or_else(|| json!({}));
        extra["alias"] = json!(alias);
        extra["region"] = json!(region);
        list.push(extra);
        main.provider.insert("aws".into(), Value::Array(list));
    }
    pub fn resource(&mut self, file: &'static str, ty: &str, name: &str, body: Value) {
        self.file(file).resource.entry(ty.into()).or_default().insert(name.into(), body);
    }
    pub fn data(&mut self, file: &'static str, ty: &str, name: &str, body: Value) {
        self.file(file).data.entry(ty.into()).or_default().insert(name.into(), body);
    }
    pub fn local(&mut self, name: &str, value: Value) {
        self.file("main.tf.json").locals.insert(name.into(), value);
    }
    pub fn variable(&mut self, name: &str, ty: &str, description: &str, default: Option<Value>) {
        let v = Variable {
            ty: ty.into(),
            description: description.into(),
            default,
            sensitive: None,
            validation: Vec::new(),
        };
        self.file("main.tf.json").variable.insert(name.into(), v);
    }
    pub fn output(&mut self, name: &str, description: &str, value: String) {
        self.file("outputs.tf.json")
            .output
            .insert(name.into(), Output { description: description.into(), value, sensitive: None });
    }
    /// An output whose value reads a sensitive attribute.
    pub fn sensitive_output(&mut self, name: &str, description: &str, value: String) {
        let o = Output { description: description.into(), value, sensitive: Some(true) };
        self.file("outputs.tf.json").output.insert(name.into(), o);
    }

    /// The files under `dir`, serialised.
    fn artifacts(self, dir: &str, env: Option<&str>) -> Vec<Artifact> {
        self.files
            .into_iter()
            .map(|(name, config)| {
                // Plain data structures always serialise; an error would be a bug.
                let mut contents = serde_json::to_string_pretty(&config)
                    .unwrap_or_else(|e| format!("{{\"//\": \"deployc: serialization failed: {e}\"}}"));
                contents.push('\n');
                Artifact::new(Target::Terraform, env, format!("{dir}/{name}"), contents)
            })
            .collect()
    }
}

/// A Terraform identifier for a model name (`ai-service` → `ai_service`).
pub fn ident(name: &str) -> String {
    name.replace('-', "_")
}

/// `${expr}`: a Terraform expression inside a JSON string.
pub fn expr(e: &str) -> String {
    format!("${{{e}}}")
}

/// `${type.name.attr}`: a reference to a resource's attribute.
pub fn attr(ty: &str, name: &str, attribute: &str) -> String {
    format!("${{{ty}.{name}.{attribute}}}")
}

/// `${jsonencode(...)}` of a JSON value: resource policies (KMS, SQS, S3)
/// whose strings may interpolate references. JSON objects are valid HCL
/// object constructors, so the value is written as it is.
pub fn jsonencode(v: &Value) -> String {
    format!("${{jsonencode({v})}}")
}

/// Everything the blocks of one environment need to know.
pub struct Cx<'a> {
    pub model: &'a Model,
    pub graph: &'a Graph,
    pub env: &'a Environment,
    pub opts: &'a Options,
    pub region: &'a str,
    pub zones: &'a [String],
    pub cluster: &'a EksCluster,
    pub m: Module,
    /// See [`Cx::store_secrets`].
    store_secrets: std::cell::OnceCell<BTreeSet<String>>,
}

impl<'a> Cx<'a> {
    /// The environment's Secrets kept in the store (built once per root:
    /// every connection asks).
    pub fn store_secrets(&self) -> &BTreeSet<String> {
        self.store_secrets.get_or_init(|| {
            crate::plan::secrets::secret_names(&crate::plan::EnvPlan::new(self.model, self.graph, self.env, self.opts))
        })
    }

    /// Whether this environment runs `r` as a managed cloud resource.
    pub fn managed(&self, r: ResourceId) -> bool {
        self.env.resources[r.index()].placement == Placement::Managed
    }

    /// A cloud name: `<project>-<env>-<suffix>` through `local.name`.
    pub fn name(&self, suffix: &str) -> String {
        format!("${{local.name}}-{suffix}")
    }

    /// Tags of one resource on top of the provider's default tags.
    pub fn tags(&self, name: &str) -> Value {
        json!({ "Name": name })
    }
}

/// A program string as a Terraform template literal: `${` and `%{` start
/// interpolations and directives in every Terraform string, so they are
/// doubled (`$${`, `%%{`) and Terraform reads them back as plain text.
pub fn literal(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

/// Text for the inside of an HCL string literal that the emitter writes into
/// an expression of its own: `\` and `"` escaped (the model's strings
/// already have `${` and `%{` escaped by [`escaped`]).
pub fn hcl_quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The model as the Terraform emitter reads it: every string of the program
/// passed through [`literal`]. This is the one place program text enters
/// Terraform JSON, so no block can forget the escaping; the blocks' own
/// `${...}` references are written by this module and stay live.
///
/// `literal` changes only strings holding `${` or `%{`: a model without
/// any is its own escape and is read as it is, without the round trip
/// through JSON values (at 1,000 services the largest allocation of a
/// build). serde_json writes `$`, `%` and `{` as themselves, so a scan of
/// the model's JSON text (keys included, which only errs towards the round
/// trip) finds every such string.
pub fn escaped(model: &Model) -> Result<std::borrow::Cow<'_, Model>, serde_json::Error> {
    /// Whether the text written to it ever held `${` or `%{`; keeps none of it.
    struct Scan {
        prev: u8,
        found: bool,
    }
    impl std::io::Write for Scan {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            for &b in buf {
                self.found |= b == b'{' && matches!(self.prev, b'$' | b'%');
                self.prev = b;
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut scan = Scan { prev: 0, found: false };
    serde_json::to_writer(&mut scan, model)?;
    if !scan.found {
        return Ok(std::borrow::Cow::Borrowed(model));
    }
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => *s = literal(s),
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(model)?;
    walk(&mut v);
    serde_json::from_value(v).map(std::borrow::Cow::Owned)
}

/// The root modules of every cloud the clusters are in. The project's
/// cloud writes under `terraform/` as a single-cloud program does; every
/// other cloud under `terraform/<cloud>/` (`terraform/gcp/clusters/dr`),
/// with its own shared root, state backend and README. Each cloud's
/// emitter sees the model as a program of that cloud (the project's `cloud`
/// and secret store are the cluster's) and only its clusters and the
/// environments on them.
pub fn emit(plan: &Plan) -> Vec<Artifact> {
    let model = match escaped(plan.model) {
        Ok(m) => m,
        // The model always round-trips through JSON; an error would be a bug.
        Err(e) => {
            let text = format!("{{\"//\": \"deployc: escaping failed: {e}\"}}\n");
            return vec![Artifact::new(Target::Terraform, None, "terraform/ERROR.tf.json".to_string(), text)];
        }
    };
    let mut out = Vec::new();
    let primary = model.project.cloud.kind();
    let pullers = crate::plan::registry::pullers(plan);
    for cloud in plan.topology.clouds(&model) {
        let topology = plan.topology.in_cloud(cloud.kind());
        // The cloud as the escaped model has it (the topology's copy is the
        // program's text, unescaped for HCL).
        let here = model.environments.iter().map(|e| model.cloud_of(e)).find(|c| c.kind() == cloud.kind());
        let here = here.unwrap_or(cloud);
        let store = model.environments.iter().find(|e| topology.runs(e.id)).map(|e| model.secret_store_of(e));
        // The project's own cloud, store and environments: the model as it
        // is (a copy per cloud is a copy of every deployment).
        let unchanged = cloud.kind() == primary
            && *here == model.project.cloud
            && store.as_ref().is_none_or(|s| *s == model.project.secret_store);
        let copy;
        let sub: &Model = if unchanged {
            &model
        } else {
            let mut sub = Model::clone(&model);
            sub.project.cloud = here.clone();
            // Another cloud's program keeps every environment where the whole
            // program puts it: its cluster and cloud pinned, so that what the
            // emitter derives from them (the hub, each cluster's environments)
            // is the program's, not that of a program of this cloud.
            if cloud.kind() != primary {
                for (e, orig) in sub.environments.iter_mut().zip(&model.environments) {
                    e.cluster = model.cluster_key(orig);
                    e.cloud = Some(model.cloud_of(orig).clone());
                }
            }
            if let Some(store) = store {
                sub.project.secret_store = store;
            }
            copy = sub;
            &copy
        };
        let files = emit_cloud(sub, plan.graph, plan.opts, &topology, cloud.kind() == primary, &pullers);
        if cloud.kind() == primary {
            out.extend(files);
        } else {
            let prefix = format!("terraform/{}/", cloud.kind());
            out.extend(files.into_iter().map(|mut a| {
                if let Some(rest) = a.path.strip_prefix("terraform/") {
                    a.path = format!("{prefix}{rest}");
                }
                // The README names the roots by their folders.
                if a.path.ends_with("README.md") {
                    a.contents = a.contents.replace("terraform/", &prefix);
                }
                a
            }));
        }
    }
    // The Checkov findings the output leaves by design (plan/waivers.rs).
    if let Some(b) = crate::plan::waivers::baseline(plan.model) {
        out.push(Artifact::new(Target::Terraform, None, crate::plan::waivers::BASELINE.to_string(), b));
    }
    out
}

/// The roots of one cloud: the shared module (ECR on AWS), the clusters
/// and the environments on them.
fn emit_cloud(
    model: &Model,
    graph: &Graph,
    opts: &Options,
    topology: &crate::plan::topology::Topology,
    primary: bool,
    pullers: &[crate::plan::registry::EcrPuller],
) -> Vec<Artifact> {
    let mut out = Vec::new();
    // The ECR registry's root once: with the project's cloud, or with AWS.
    let shared_region = match (&model.project.registry, &model.project.cloud) {
        (_, Cloud::Aws { region, .. }) => Some(region),
        (Registry::Ecr { region, .. }, _) if primary => Some(region),
        _ => None,
    };
    if let Some(region) = shared_region {
        let ecr = matches!(model.project.registry, Registry::Ecr { .. });
        let mut m = shared::module(model, region, ecr, pullers);
        state::backend(&mut m, model, region, shared_dir(model));
        out.extend(m.artifacts(&format!("terraform/{}", shared_dir(model)), None));
    }
    if let Cloud::Gcp { .. } = &model.project.cloud {
        out.extend(gcp::emit(model, graph, opts, topology, primary));
        return out;
    }
    if let Cloud::Azure { .. } = &model.project.cloud {
        out.extend(azure::emit(model, graph, opts, topology, primary));
        return out;
    }
    let Cloud::Aws { region, zones, cluster, .. } = &model.project.cloud else { return out };
    let envs_here: Vec<&Environment> = model.environments.iter().filter(|e| topology.runs(e.id)).collect();
    let Some(first) = envs_here.first().copied() else { return out };
    let cx_of = |env| Cx {
        model,
        graph,
        env,
        opts,
        region,
        zones,
        cluster,
        m: Module::default(),
        store_secrets: Default::default(),
    };
    for c in topology.clusters.iter().filter(|c| c.created) {
        let envs: Vec<&Environment> = c.envs.iter().map(|id| &model.environments[id.index()]).collect();
        let env = envs.first().copied().unwrap_or(first);
        let mut cx = cx_of(env);
        cluster_main(&mut cx, c);
        security::kms(&mut cx, false);
        network::vpc(&mut cx, envs.iter().any(|e| e.multi_az || e.production));
        cluster::eks(&mut cx);
        cluster::addon_roles(&mut cx, envs.iter().any(|e| e.edge.is_some()));
        if let Some(v) = crate::plan::velero::of(model, c) {
            cluster::velero(&mut cx, &v);
        }
        cluster::log_groups(&mut cx, &envs);
        cluster::keda_operator_role(&mut cx, c, &envs);
        cluster::argocd_access(&mut cx, topology, c);
        state::backend(&mut cx.m, model, region, &format!("clusters/{}", c.key));
        out.extend(cx.m.artifacts(&format!("terraform/{}/{}", clusters_dir(model), c.key), None));
    }
    let mut roots: Vec<String> = vec![format!("terraform/{}", shared_dir(model))];
    // The hub first: the other clusters' access entries name its ArgoCD role.
    let mut created: Vec<_> = topology.clusters.iter().filter(|c| c.created).collect();
    created.sort_by_key(|c| !c.hub);
    roots.extend(created.iter().map(|c| format!("terraform/{}/{}", clusters_dir(model), c.key)));
    roots.extend(envs_here.iter().map(|e| format!("terraform/{}", e.name)));
    out.push(state::readme(model, region, &roots));
    for env in envs_here {
        let mut cx = cx_of(env);
        main(&mut cx);
        env_cluster(&mut cx, topology.of(env.id));
        let watched = alarms::any(&cx);
        security::kms(&mut cx, watched);
        data::resources(&mut cx);
        alarms::alarms(&mut cx);
        security::secrets(&mut cx);
        security::irsa(&mut cx);
        data::backup_store(&mut cx);
        security::dns(&mut cx);
        security::certificates(&mut cx);
        edge::web_acl(&mut cx);
        cdn::distribution(&mut cx);
        failover::primary(&mut cx);
        pipeline::deploy(&mut cx);
        state::backend(&mut cx.m, model, region, &env.name);
        out.extend(cx.m.artifacts(&format!("terraform/{}", env.name), Some(&env.name)));
    }
    out
}

/// The folder of the cluster modules: `clusters`, or `_clusters` when an
/// environment already has that name.
pub fn clusters_dir(model: &Model) -> &'static str {
    if model.environments.iter().any(|e| e.name == "clusters") {
        "_clusters"
    } else {
        "clusters"
    }
}

/// The folder of the shared module: `shared`, or `_shared` when an
/// environment already has that name (environment names cannot start with
/// an underscore).
pub fn shared_dir(model: &Model) -> &'static str {
    if model.environments.iter().any(|e| e.name == "shared") {
        "_shared"
    } else {
        "shared"
    }
}

/// The IAM role a service's Kubernetes ServiceAccount assumes in an
/// environment, when the service uses cloud APIs: `<project>-<env>-<service>`.
/// External Secrets' role is `<project>-<env>-external-secrets`.
pub fn service_role_name(model: &Model, env: &Environment, service: &str) -> String {
    format!("{}-{}-{service}", model.project.name, env.name)
}

/// The `terraform` and `provider` blocks every module starts with. The
/// `terraform` block has a file of its own (versions.tf.json): Checkov's
/// Terraform JSON parser cannot read its plain attributes and would skip the
/// whole file, with the variables and locals its checks evaluate.
pub fn header(m: &mut Module, region: Value) {
    m.file("versions.tf.json").terraform = Some(json!({
        "required_version": TERRAFORM_VERSION,
        "required_providers": { "aws": { "source": "hashicorp/aws", "version": AWS_PROVIDER } }
    }));
    m.file("main.tf.json")
        .provider
        .insert("aws".into(), json!({ "region": region, "default_tags": { "tags": expr("local.tags") } }));
}

/// Providers, tags and the account lookups every root module shares.
fn common(cx: &mut Cx, name: &str, tags: BTreeMap<String, String>, region_doc: &str) {
    let model = cx.model;
    header(&mut cx.m, json!(expr("var.region")));
    cx.m.variable("region", "string", region_doc, Some(json!(cx.region)));
    let mut tags = tags;
    tags.insert("project".into(), model.project.name.clone());
    tags.insert("managed-by".into(), "deployc".into());
    if let Some(team) = &model.project.team {
        tags.insert("team".into(), team.clone());
    }
    if !model.project.compliance.is_empty() {
        tags.insert("compliance".into(), model.project.compliance.join("-"));
    }
    cx.m.local("name", json!(name));
    cx.m.local("azs", json!(cx.zones));
    cx.m.local("tags", json!(tags));
    // IMDSv2 only; a local so that the value is not read as a credential
    // by secret scanners (the attribute is called `http_tokens`).
    cx.m.local("imds_mode", json!("required"));
    cx.m.local("account_id", json!(expr("data.aws_caller_identity.current.account_id")));
    cx.m.local("partition", json!(expr("data.aws_partition.current.partition")));
    cx.m.data("data.tf.json", "aws_caller_identity", "current", json!({}));
    cx.m.data("data.tf.json", "aws_partition", "current", json!({}));
}

/// main.tf.json of a cluster module: its address range and node group sizes.
fn cluster_main(cx: &mut Cx, c: &crate::plan::topology::Cluster) {
    let tags = BTreeMap::from([("cluster".to_string(), c.key.clone())]);
    common(cx, &c.name, tags, "AWS region of this cluster");
    let cidr = c.cidr.clone().unwrap_or_else(|| "10.0.0.0/16".into());
    cx.m.variable(
        "vpc_cidr",
        "string",
        "address space of the VPC; inside 10.0.0.0/8, which the Kubernetes network policies treat as private, and distinct from every other cluster's so that the VPCs can be peered",
        Some(json!(cidr)),
    );
    if let Some(v) = cx.m.file("main.tf.json").variable.get_mut("vpc_cidr") {
        v.validation.push(Validation {
            condition: expr("can(cidrnetmask(var.vpc_cidr)) && startswith(var.vpc_cidr, \"10.\")"),
            error_message: "The VPC CIDR must be an IPv4 block inside 10.0.0.0/8.".into(),
        });
    }
    cx.m.variable(
        "kubernetes_version",
        "string",
        "Kubernetes version of the EKS cluster",
        Some(json!(cx.cluster.version)),
    );
    cx.m.variable(
        "node_instance_types",
        "list(string)",
        "instance types of the managed node group",
        Some(json!(cx.cluster.node_types)),
    );
    cx.m.variable("node_min_size", "number", "smallest node count", Some(json!(cx.cluster.min_nodes)));
    cx.m.variable("node_max_size", "number", "largest node count", Some(json!(cx.cluster.max_nodes)));
    cx.m.variable(
        "node_desired_size",
        "number",
        "node count at creation (the autoscaler owns it afterwards)",
        Some(json!(cx.cluster.min_nodes)),
    );
}

/// main.tf.json of an environment module.
fn main(cx: &mut Cx) {
    let env = cx.env;
    let tags = BTreeMap::from([("environment".to_string(), env.name.clone())]);
    common(cx, &format!("{}-{}", cx.model.project.name, env.name), tags, "AWS region of this environment");
    cx.m.local("namespace", json!(env.namespace));
}

/// What an environment module reads of the cluster it runs on: looked up
/// by the cluster's name through data sources, so the environment's state
/// never holds the cluster and a cluster created elsewhere works the same.
/// The VPC, its database subnets (tagged `tier = database`) and the
/// cluster's OIDC provider come from the cluster itself.
fn env_cluster(cx: &mut Cx, c: &crate::plan::topology::Cluster) {
    let default = if c.created { Some(json!(c.name)) } else { None };
    cx.m.variable("cluster_name", "string", "name of the EKS cluster this environment runs on", default);
    cx.m.data("data.tf.json", "aws_eks_cluster", "main", json!({ "name": expr("var.cluster_name") }));
    cx.m.data(
        "data.tf.json",
        "aws_subnets",
        "database",
        json!({ "filter": [
            { "name": "vpc-id", "values": [expr("local.vpc_id")] },
            { "name": "tag:tier", "values": ["database"] }
        ] }),
    );
    cx.m.data(
        "data.tf.json",
        "aws_iam_openid_connect_provider",
        "eks",
        json!({ "url": expr("data.aws_eks_cluster.main.identity[0].oidc[0].issuer") }),
    );
    cx.m.local("vpc_id", json!(expr("data.aws_eks_cluster.main.vpc_config[0].vpc_id")));
    cx.m.local(
        "cluster_security_group_id",
        json!(expr("data.aws_eks_cluster.main.vpc_config[0].cluster_security_group_id")),
    );
    cx.m.local("database_subnet_ids", json!(expr("data.aws_subnets.database.ids")));
    cx.m.local(
        "oidc_issuer",
        json!(expr("replace(data.aws_eks_cluster.main.identity[0].oidc[0].issuer, \"https://\", \"\")")),
    );
    cx.m.local("oidc_provider_arn", json!(attr("data.aws_iam_openid_connect_provider", "eks", "arn")));
}

/// Whether the project keeps its secrets in AWS Secrets Manager.
pub fn secrets_manager(model: &Model) -> Option<&str> {
    match &model.project.secret_store {
        SecretStore::AwsSecretsManager { prefix, .. } => Some(prefix),
        _ => None,
    }
}
