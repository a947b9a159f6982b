//! `deployc secrets`: every Secret each environment reads, its keys, who
//! reads it, who produces it, and how the team provides the values that only
//! people have. Read from the plan's secret inventory, so it lists exactly
//! what the Kubernetes and Helm outputs reference.

use super::{compile_file, print_out, report, Color, Format};
use deployc::plan::sealed::{create_command, seal_command};
use deployc::plan::secrets::{inventory, Origin, Producer, SecretPlan};
use deployc::plan::{Options, Plan};
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

#[derive(Serialize)]
struct EnvSecrets<'a> {
    environment: &'a str,
    namespace: &'a str,
    secrets: Vec<SecretPlan>,
}

pub fn run(file: &Path, json: bool, color: Color) -> ExitCode {
    let c = match compile_file(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some((model, graph)) = &c.output else {
        report(&c.diagnostics, &c.program.sources, Format::Human, color);
        return ExitCode::from(1);
    };
    let program = super::display(file);
    let opts = Options::default();
    let plan = Plan::new(model, graph, &opts);
    let mut envs: Vec<EnvSecrets> = plan
        .envs
        .iter()
        .map(|e| EnvSecrets { environment: &e.env.name, namespace: e.ns(), secrets: inventory(e) })
        .collect();
    // The cluster add-ons' Secrets (the Datadog agent's API key, ArgoCD's
    // webhook secret), each in its add-on's namespace, from its cluster's
    // secrets environment.
    let addon = deployc::plan::addon_secrets::addon_secrets(&plan);
    for s in &addon {
        envs.push(EnvSecrets {
            environment: &model.env(s.env).name,
            namespace: &s.namespace,
            secrets: vec![s.secret.clone()],
        });
    }
    if json {
        match serde_json::to_string_pretty(&envs) {
            Ok(t) => print_out(&(t + "\n")),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
        return ExitCode::SUCCESS;
    }
    let mut out = String::new();
    for e in &envs {
        let _ = writeln!(out, "environment {} (namespace {})", e.environment, e.namespace);
        if e.secrets.is_empty() {
            let _ = writeln!(out, "  no secrets\n");
            continue;
        }
        for s in &e.secrets {
            let keys: Vec<&str> = s.keys.iter().map(String::as_str).collect();
            let readers: Vec<&str> = s.readers.iter().map(String::as_str).collect();
            let _ = writeln!(out, "  {}  keys: {}  read by: {}", s.name, keys.join(", "), readers.join(", "));
            let _ = writeln!(out, "    {}", provide(&program, e.namespace, e.environment, s));
        }
        out.push('\n');
    }
    print_out(&out);
    ExitCode::SUCCESS
}

/// How the value arrives, as a sentence with the command to run. `program`
/// is the program's path, from which a sealed file's is joined.
fn provide(program: &str, ns: &str, env: &str, s: &SecretPlan) -> String {
    let what = match &s.origin {
        Origin::Program => "a value only people have".to_string(),
        Origin::Connection { resource } => format!("the connection details of `{resource}`"),
        Origin::PullSecret => {
            "registry credentials to pull images with (type kubernetes.io/dockerconfigjson)".to_string()
        }
    };
    let create = create_command(ns, s);
    match &s.producer {
        // Terraform writes the connection details it creates (endpoints,
        // generated passwords) into Secrets Manager or Secret Manager itself
        // (what GCP cannot serve yet is W0008 at build).
        Producer::ExternalSecret { store, key }
            if (store == "aws_secrets_manager" || store == "gcp_secret_manager")
                && matches!(s.origin, Origin::Connection { .. }) =>
        {
            format!(
                "{what}: the ExternalSecret `{}` copies it from {store} `{key}`, which Terraform writes (terraform/{env}); nothing to set",
                s.name
            )
        }
        Producer::ExternalSecret { store, key } => {
            let put = match store.as_str() {
                "vault" => format!("vault kv put {key} {}", kv(s, "=...")),
                "gcp_secret_manager" => format!(
                    "printf '%s' '{{{}}}' | gcloud secrets versions add {key} --data-file=-",
                    kv(s, ":\"...\"")
                ),
                _ => format!("aws secretsmanager put-secret-value --secret-id {key} --secret-string '{{{}}}'", kv(s, ":\"...\"")),
            };
            format!("{what}: the ExternalSecret `{}` copies it from {store} `{key}`; set it with: {put}", s.name)
        }
        Producer::SealedByTeam { controller_namespace, file: Some(file) } => {
            let path = deployc::load::join(program, file);
            format!(
                "{what}: provided by {path} (checked, and written to k8s/{env}/sealedsecret-{}.yaml and the Helm chart); reseal it with: {}",
                s.name,
                seal_command(ns, s, controller_namespace, &path)
            )
        }
        Producer::SealedByTeam { controller_namespace, file: None } => format!(
            "{what}: seal it into k8s/{env}/extra/ (listed by the kustomization): {} --dry-run=client -o yaml | kubeseal --controller-namespace {controller_namespace} --format yaml > k8s/{env}/extra/sealedsecret-{}.yaml",
            create,
            s.name
        ),
        Producer::Generated { generator } => format!(
            "{what}: the ExternalSecret `{}` writes it from the {generator} generator's token, refreshed every {}; nothing to set",
            s.name,
            deployc::plan::registry::REFRESH
        ),
        Producer::CreatedByTeam => {
            format!("{what}: create it in the cluster: {create}")
        }
    }
}

/// `k1<sep> k2<sep>` for a store command line (JSON-ish for AWS, k=v for Vault).
fn kv(s: &SecretPlan, sep: &str) -> String {
    let quoted = sep.starts_with(':');
    s.keys
        .iter()
        .map(|k| if quoted { format!("\"{k}\"{sep}") } else { format!("{k}{sep}") })
        .collect::<Vec<_>>()
        .join(if quoted { "," } else { " " })
}
