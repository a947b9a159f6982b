//! Log shipping decided once (`logs = elk | loki | cloudwatch | datadog`).
//!
//! `elk`, `loki` and `cloudwatch` install Fluent Bit (the upstream chart, a
//! cluster add-on) with a configuration generated here: a `tail` input on
//! the containers of this program's namespaces only (the cluster may run
//! others), the CRI/Docker multiline parsers, the `kubernetes` filter
//! (pod, namespace, labels; JSON log lines merged into fields), a
//! `multiline` filter joining Go, Java and Python stack traces, and one
//! output per environment on the cluster (its own index prefix, Loki
//! `environment` label or CloudWatch log group). `datadog` installs the
//! Datadog agent (its chart) with log collection limited to the same
//! namespaces, the integration's site and its API key.
//!
//! Both run in namespaces of their own (`logging`, `datadog`), not in the
//! environments' locked-down ones: a log agent reads `/var/log` on every
//! node, which the environments' `restricted` Pod Security level forbids.
//! The charts create their ServiceAccount and the RBAC that reads pod
//! metadata; no NetworkPolicy selects those namespaces, so their egress is
//! open.
//!
//! **Secrets of add-ons.** The Datadog API key, and the password Fluent
//! Bit sends to Elasticsearch or Loki (`user` and `password`: the
//! `password` key of the named Secret, read into a variable the output's
//! `HTTP_Passwd`/`http_passwd` names), live in the program's secret store;
//! plan/addon_secrets.rs brings them into the agent's namespace.

use super::topology::Cluster;
use super::Plan;
use crate::model::{Environment, IntegrationKind, LogEndpoint, Model, Registry};
use serde_json::{json, Value};

/// Namespaces of the log agents.
pub const FLUENT_BIT_NAMESPACE: &str = "logging";
pub const DATADOG_NAMESPACE: &str = "datadog";
/// The ServiceAccount of the Fluent Bit chart (its `fullnameOverride`),
/// which the CloudWatch IRSA role trusts.
pub const FLUENT_BIT_ACCOUNT: &str = "fluent-bit";
/// The key of the Datadog chart's `apiKeyExistingSecret`.
pub const DATADOG_API_KEY: &str = "api-key";
/// Days every log group keeps its events (CIS/Checkov: at least a year).
pub const RETENTION_DAYS: u32 = 365;

/// Where the program ships logs, once checked.
#[derive(Clone, Debug, PartialEq)]
pub enum LogSink {
    Elasticsearch(LogEndpoint),
    Loki(LogEndpoint),
    CloudWatch { group: String },
    Datadog { site: String, api_key: String },
}

/// The program's log sink when some output ships it (W0006 otherwise).
pub fn sink(model: &Model) -> Option<LogSink> {
    let l = model.observability.logs.as_ref()?;
    let endpoint = || LogEndpoint::parse(l.endpoint.as_deref().unwrap_or_default());
    match l.kind.as_str() {
        "elk" => endpoint().map(LogSink::Elasticsearch),
        "loki" => endpoint().map(LogSink::Loki),
        "cloudwatch" if matches!(model.project.cloud, crate::model::Cloud::Aws { .. }) => {
            Some(LogSink::CloudWatch { group: l.endpoint.clone().unwrap_or_else(|| model.project.name.clone()) })
        }
        "datadog" => model.integrations.iter().find_map(|i| match &i.kind {
            IntegrationKind::Datadog { site, api_key, .. } if !api_key.is_empty() => {
                Some(LogSink::Datadog { site: site.clone(), api_key: api_key.clone() })
            }
            _ => None,
        }),
        _ => None,
    }
}

/// The basic-auth credentials Fluent Bit sends to Elasticsearch or Loki:
/// the user (checked, E0397) and the Secret whose `password` key holds the
/// password.
pub fn credentials(model: &Model) -> Option<(String, String)> {
    let l = model.observability.logs.as_ref()?;
    match (l.kind.as_str(), &l.user, &l.password) {
        ("elk" | "loki", Some(user), Some(secret)) => Some((user.clone(), secret.clone())),
        _ => None,
    }
}

/// The key of the log store's Secret holding the password.
pub const PASSWORD_KEY: &str = "password";
/// The variable Fluent Bit reads the password from (`${...}` in its
/// configuration), set from the Secret: the password never stands in the
/// chart's values.
pub const PASSWORD_VAR: &str = "LOG_STORE_PASSWORD";

/// The add-on that ships the program's logs.
pub fn addon(model: &Model) -> Option<super::addons::Addon> {
    Some(match sink(model)? {
        LogSink::Datadog { .. } => super::addons::Addon::DatadogAgent,
        _ => super::addons::Addon::FluentBit,
    })
}

/// The CloudWatch log group of an environment: `<group>/<env>`.
pub fn log_group(model: &Model, env: &Environment) -> Option<String> {
    match sink(model)? {
        LogSink::CloudWatch { group } => Some(format!("{}/{}", group.trim_end_matches('/'), env.name)),
        _ => None,
    }
}

/// The IAM role Fluent Bit writes to CloudWatch with, which the cluster's
/// Terraform root creates: `<cluster name>-fluent-bit`.
pub fn fluent_bit_role_name(c: &Cluster) -> String {
    format!("{}-fluent-bit", c.name)
}

/// The AWS account the clusters live in, when the program names it.
pub fn aws_account(model: &Model) -> Option<&str> {
    if let crate::model::Cloud::Aws { account: Some(a), .. } = &model.project.cloud {
        return Some(a);
    }
    match &model.project.registry {
        Registry::Ecr { account: Some(a), .. } => Some(a),
        _ => None,
    }
}

fn namespaces(plan: &Plan, c: &Cluster) -> Vec<String> {
    c.envs.iter().map(|e| plan.model.env(*e).namespace.clone()).collect()
}

/// The `Match` pattern of one namespace's container logs: `tail` tags each
/// record `kube.<path>` and the file is `<pod>_<namespace>_<container>-<id>.log`.
fn matches_ns(ns: &str) -> String {
    format!("kube.*_{ns}_*")
}

fn section(kind: &str, entries: &[(&str, String)]) -> String {
    let mut s = format!("[{kind}]\n");
    for (k, v) in entries {
        s.push_str(&format!("    {k} {v}\n"));
    }
    s
}

fn on(b: bool) -> String {
    (if b { "On" } else { "Off" }).to_string()
}

/// The Fluent Bit outputs of one environment.
fn fluent_bit_output(model: &Model, sink: &LogSink, env: &Environment, ns: &str, region: &str) -> String {
    let m = matches_ns(ns);
    match sink {
        LogSink::Elasticsearch(e) => {
            let mut v =
                vec![("Name", "es".to_string()), ("Match", m), ("Host", e.host.clone()), ("Port", e.port.to_string())];
            if !e.path.is_empty() {
                v.push(("Path", e.path.clone()));
            }
            v.extend([
                ("tls", on(e.tls)),
                ("tls.verify", on(e.tls)),
                // One index family per environment: <project>-<env>-YYYY.MM.DD.
                ("Logstash_Format", "On".into()),
                ("Logstash_Prefix", format!("{}-{}", model.project.name, env.name)),
                ("Suppress_Type_Name", "On".into()),
                ("Replace_Dots", "On".into()),
                ("Trace_Error", "On".into()),
                ("Retry_Limit", "10".into()),
            ]);
            if let Some((user, _)) = credentials(model) {
                v.extend([("HTTP_User", user), ("HTTP_Passwd", format!("${{{PASSWORD_VAR}}}"))]);
            }
            section("OUTPUT", &v)
        }
        LogSink::Loki(e) => {
            let uri = if e.path.is_empty() { "/loki/api/v1/push".to_string() } else { e.path.clone() };
            let auth: Vec<(&str, String)> = credentials(model)
                .map(|(user, _)| vec![("http_user", user), ("http_passwd", format!("${{{PASSWORD_VAR}}}"))])
                .unwrap_or_default();
            section(
                "OUTPUT",
                &[
                    ("Name", "loki".into()),
                    ("Match", m),
                    ("Host", e.host.clone()),
                    ("Port", e.port.to_string()),
                    ("Uri", uri),
                    ("tls", on(e.tls)),
                    ("tls.verify", on(e.tls)),
                    (
                        "Labels",
                        format!(
                            "job=fluent-bit, project={}, environment={}, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']",
                            model.project.name, env.name
                        ),
                    ),
                    ("Line_Format", "json".into()),
                    ("Retry_Limit", "10".into()),
                ]
                .into_iter()
                .chain(auth)
                .collect::<Vec<_>>(),
            )
        }
        LogSink::CloudWatch { .. } => section(
            "OUTPUT",
            &[
                ("Name", "cloudwatch_logs".into()),
                ("Match", m),
                ("region", region.to_string()),
                ("log_group_name", log_group(model, env).unwrap_or_default()),
                // Terraform creates the group (retention, KMS); the role may not.
                ("auto_create_group", "Off".into()),
                ("log_stream_prefix", "kube.".into()),
                ("Retry_Limit", "10".into()),
            ],
        ),
        LogSink::Datadog { .. } => String::new(),
    }
}

/// Chart values of the log add-on on one cluster, `None` for other add-ons.
pub fn values(plan: &Plan, a: super::addons::Addon, c: &Cluster) -> Option<Value> {
    use super::addons::Addon;
    let model = plan.model;
    let sink = sink(model)?;
    let nss = namespaces(plan, c);
    match (a, &sink) {
        (Addon::FluentBit, LogSink::Datadog { .. }) => None,
        (Addon::FluentBit, _) => {
            let region = match &model.project.cloud {
                crate::model::Cloud::Aws { region, .. } => region.clone(),
                _ => String::new(),
            };
            let input = section(
                "INPUT",
                &[
                    ("Name", "tail".into()),
                    (
                        "Path",
                        nss.iter().map(|n| format!("/var/log/containers/*_{n}_*.log")).collect::<Vec<_>>().join(","),
                    ),
                    ("Tag", "kube.*".into()),
                    ("multiline.parser", "cri, docker".into()),
                    ("Mem_Buf_Limit", "10MB".into()),
                    ("Skip_Long_Lines", "On".into()),
                    ("Refresh_Interval", "10".into()),
                ],
            );
            let filters = [
                section(
                    "FILTER",
                    &[
                        ("Name", "kubernetes".into()),
                        ("Match", "kube.*".into()),
                        ("Kube_Tag_Prefix", "kube.var.log.containers.".into()),
                        // JSON log lines become fields; others stay in `log`.
                        ("Merge_Log", "On".into()),
                        ("Merge_Parser", "json_log".into()),
                        ("Keep_Log", "Off".into()),
                        ("K8S-Logging.Parser", "On".into()),
                        ("K8S-Logging.Exclude", "On".into()),
                        ("Labels", "On".into()),
                        ("Annotations", "Off".into()),
                    ],
                ),
                section(
                    "FILTER",
                    &[
                        ("Name", "multiline".into()),
                        ("Match", "kube.*".into()),
                        ("multiline.key_content", "log".into()),
                        ("multiline.parser", "go, java, python".into()),
                    ],
                ),
            ]
            .concat();
            let outputs: String = c
                .envs
                .iter()
                .map(|e| fluent_bit_output(model, &sink, model.env(*e), &model.env(*e).namespace, &region))
                .collect();
            let parsers = section(
                "PARSER",
                &[
                    ("Name", "json_log".into()),
                    ("Format", "json".into()),
                    ("Time_Key", "time".into()),
                    ("Time_Format", "%Y-%m-%dT%H:%M:%S.%L%z".into()),
                    ("Time_Keep", "On".into()),
                ],
            );
            let mut sa = json!({ "create": true, "name": FLUENT_BIT_ACCOUNT });
            if let (LogSink::CloudWatch { .. }, Some(account), true) = (&sink, aws_account(model), c.created) {
                sa["annotations"] = json!({
                    "eks.amazonaws.com/role-arn": format!("arn:aws:iam::{account}:role/{}", fluent_bit_role_name(c))
                });
            }
            let values = json!({
                "fullnameOverride": FLUENT_BIT_ACCOUNT,
                "kind": "DaemonSet",
                "serviceAccount": sa,
                "rbac": { "create": true },
                "resources": {
                    "requests": { "cpu": "50m", "memory": "64Mi" },
                    "limits": { "memory": "256Mi" }
                },
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": { "drop": ["ALL"] }
                },
                "config": {
                    "inputs": input,
                    "filters": filters,
                    "outputs": outputs,
                    "customParsers": parsers
                }
            });
            // The password's variable is set by chart parameters
            // (`parameters`), not here.
            Some(values)
        }
        (Addon::DatadogAgent, LogSink::Datadog { site, .. }) => {
            let include: Vec<String> = nss.iter().map(|n| format!("kube_namespace:^{n}$")).collect();
            let mut dd = json!({
                "site": site,
                "logs": { "enabled": true, "containerCollectAll": true },
                // Only this program's namespaces: the cluster may run others.
                "containerExcludeLogs": "kube_namespace:.*",
                "containerIncludeLogs": include.join(" "),
                "kubeStateMetricsEnabled": false
            });
            if c.created {
                dd["clusterName"] = json!(c.name);
            }
            Some(json!({ "datadog": dd, "clusterAgent": { "enabled": true } }))
        }
        _ => None,
    }
}

/// Chart parameters (Argo CD's `helm.parameters`, one `--set` each) of an
/// add-on: the Secret the Datadog agent reads its API key from
/// (`datadog.apiKeyExistingSecret`). A parameter rather than a value, so the
/// Secret's name never stands on one line beside the word "apiKey", which
/// secret scanners read as a credential.
///
/// Fluent Bit's log store password the same way: the variable its outputs
/// read (`${LOG_STORE_PASSWORD}`) is the chart's `env[0]`, set from the
/// Secret the store produces in its namespace (`addon_secrets`). In the
/// values, `secretKeyRef:` beside `key: password` is what scanners flag.
pub fn parameters(model: &Model, a: super::addons::Addon) -> Vec<(String, String)> {
    match (a, sink(model)) {
        (super::addons::Addon::DatadogAgent, Some(LogSink::Datadog { api_key, .. })) => {
            vec![("datadog.apiKeyExistingSecret".to_string(), api_key)]
        }
        (super::addons::Addon::FluentBit, Some(LogSink::Elasticsearch(_) | LogSink::Loki(_))) => credentials(model)
            .map(|(_, secret)| {
                vec![
                    ("env[0].name".to_string(), PASSWORD_VAR.to_string()),
                    ("env[0].valueFrom.secretKeyRef.name".to_string(), secret),
                    ("env[0].valueFrom.secretKeyRef.key".to_string(), PASSWORD_KEY.to_string()),
                ]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The Secret the log add-on reads, if any: its name, namespace, key and
/// reader. The Datadog agent's API key, or Fluent Bit's log store password.
pub(super) fn addon_secret(model: &Model) -> Option<(String, &'static str, &'static str, &'static str)> {
    match sink(model)? {
        LogSink::Datadog { api_key, .. } => Some((api_key, DATADOG_NAMESPACE, DATADOG_API_KEY, "datadog-agent")),
        LogSink::Elasticsearch(_) | LogSink::Loki(_) => {
            credentials(model).map(|(_, secret)| (secret, FLUENT_BIT_NAMESPACE, PASSWORD_KEY, FLUENT_BIT_ACCOUNT))
        }
        LogSink::CloudWatch { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_strictly() {
        let e = LogEndpoint::parse("https://es.logging.svc.cluster.local:9200").expect("valid");
        assert_eq!((e.tls, e.host.as_str(), e.port, e.path.as_str()), (true, "es.logging.svc.cluster.local", 9200, ""));
        let e = LogEndpoint::parse("http://loki:3100/loki/api/v1/push").expect("valid");
        assert_eq!((e.tls, e.port, e.path.as_str()), (false, 3100, "/loki/api/v1/push"));
        for bad in [
            "es:9200",
            "ftp://es",
            "https://",
            "https://es:0",
            "https://a b",
            "https://es/x\n[OUTPUT]",
            "https://u:p@es",
        ] {
            assert!(LogEndpoint::parse(bad).is_none(), "{bad}");
        }
    }
}
