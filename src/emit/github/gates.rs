//! Gates as jobs: each tool with its usual invocation, the gate's `fail_on`
//! threshold where the tool can apply one, `continue-on-error` for
//! non-blocking gates, and SARIF uploaded to code scanning where the tool
//! writes it. `security.yml` holds the security gates on their `when`
//! triggers; deploy workflows hold the gates their environments require.

use super::steps::{self, checkout, checkout_history, join, prepare, upload_sarif};
use super::wf::{Job, Map, Step, Workflow};
use super::{file, job_if, on_for, Cx};
use crate::emit::Artifact;
use crate::model::{Gate, GateTool, Trigger};
use crate::pins;
use crate::plan::delivery::{check_command, decisions_path, is_quality};
use crate::plan::gates::threshold;
use indexmap::IndexMap;

/// The job id of a gate.
pub fn job_id(g: &Gate) -> String {
    format!("gate-{}", g.name)
}

/// Steps after the first service's run even when an earlier one failed, so
/// one job reports every service; the job still fails.
fn each_service(cx: &Cx, g: &Gate, cache: bool, f: impl Fn(crate::model::Built) -> Vec<Step>) -> Vec<Step> {
    let svcs = crate::plan::delivery::covered(cx.model, g);
    let many = svcs.len() > 1;
    let mut out = Vec::new();
    for s in svcs {
        let tc = s.toolchain;
        let mut group = prepare(tc, &s, cache);
        group.extend(f(s));
        for mut st in group {
            if many {
                st.name = format!("{}: {}", s.name, st.name);
                if !out.is_empty() && st.if_.is_none() {
                    st.if_ = Some("${{ !cancelled() }}".into());
                }
            }
            out.push(st);
        }
    }
    out
}

fn pip(tool: &str) -> String {
    let base = tool.split('[').next().unwrap_or(tool);
    format!("python -m pip install --disable-pip-version-check '{tool}=={}'", pins::tool(base))
}

fn python_tool_setup(tool: &str) -> Vec<Step> {
    vec![
        Step::uses("Set up Python", "actions/setup-python").with("python-version", "3.12"),
        Step::run(format!("Install {tool}"), pip(tool)),
    ]
}

/// One gate as a job. `cache` is false in workflows that publish.
pub fn job(cx: &Cx, g: &Gate, cache: bool) -> (Job, Vec<(String, String)>) {
    let mut skips = Vec::new();
    let sarif = g.sarif;
    let title = if g.name == g.tool { g.name.clone() } else { format!("{} ({})", g.name, g.tool) };
    let mut job = Job::new(title.clone()).timeout(30);
    let read_pr = [("contents", "read"), ("pull-requests", "read")];
    let scanning = [("contents", "read"), ("security-events", "write"), ("actions", "read")];
    let config = g.config.as_deref().map(super::data);
    let steps: Vec<Step> = match g.tool {
        GateTool::Gitleaks => {
            job = job.permissions(&read_pr);
            let mut s = Step::uses("Scan the history with Gitleaks", "gitleaks/gitleaks-action")
                .env("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}")
                .env("GITLEAKS_LICENSE", "${{ secrets.GITLEAKS_LICENSE }}")
                .env("GITLEAKS_ENABLE_COMMENTS", "false");
            if let Some(c) = &config {
                s = s.env("GITLEAKS_CONFIG", c.clone());
            }
            vec![checkout_history(), s]
        }
        GateTool::Trufflehog => {
            let mut args = "--results=verified,unknown".to_string();
            if let Some(c) = &config {
                args.push_str(&format!(" --config={c}"));
            }
            vec![
                checkout_history(),
                Step::uses("Scan the history with TruffleHog", "trufflesecurity/trufflehog").with("extra_args", args),
            ]
        }
        GateTool::DetectSecrets => {
            let baseline = config.clone().unwrap_or_else(|| ".secrets.baseline".into());
            let mut v = python_tool_setup("detect-secrets");
            v.push(
                Step::run(
                    "Scan for secrets with detect-secrets",
                    "if [ -f \"$BASELINE\" ]; then\n  git ls-files -z | xargs -0 detect-secrets-hook --baseline \"$BASELINE\"\nelse\n  detect-secrets scan > detect-secrets.json\n  jq -e '.results == {}' detect-secrets.json > /dev/null || { jq '.results' detect-secrets.json; exit 1; }\nfi",
                )
                .env("BASELINE", baseline),
            );
            let mut all = vec![checkout()];
            all.extend(v);
            all
        }
        GateTool::Codeql => {
            job = job.permissions(&[
                ("contents", "read"),
                ("security-events", "write"),
                ("actions", "read"),
                ("packages", "read"),
            ]);
            let mut langs: Vec<(&str, &str)> = crate::plan::delivery::covered(cx.model, g)
                .iter()
                .map(|s| match s.toolchain.family.as_str() {
                    "node" => ("javascript-typescript", "none"),
                    "python" => ("python", "none"),
                    "go" => ("go", "autobuild"),
                    _ => ("java-kotlin", "none"),
                })
                .collect();
            langs.sort();
            langs.dedup();
            job = job.matrix(
                langs
                    .iter()
                    .map(|(l, b)| {
                        Map::from([("language".to_string(), l.to_string()), ("build-mode".to_string(), b.to_string())])
                    })
                    .collect(),
            );
            job.name = format!("{title}: ${{{{ matrix.language }}}}");
            let mut init = Step::uses("Initialise CodeQL", "github/codeql-action/init")
                .with("languages", "${{ matrix.language }}")
                .with("build-mode", "${{ matrix.build-mode }}");
            if let Some(c) = &config {
                init = init.with("config-file", c.clone());
            }
            vec![
                checkout(),
                init,
                Step::uses("Analyse", "github/codeql-action/analyze")
                    .id("analyze")
                    .with("category", "/language:${{ matrix.language }}")
                    .with("output", "sarif-results")
                    .with("upload", if sarif { "always" } else { "never" }),
                steps::sarif_threshold("sarif-results", &g.fail_on),
            ]
        }
        GateTool::Semgrep => {
            if sarif {
                job = job.permissions(&scanning);
            }
            let cfg = config.clone().unwrap_or_else(|| "p/default".into());
            let mut v = vec![checkout()];
            v.extend(python_tool_setup("semgrep"));
            v.push(
                Step::run(
                    "Scan with Semgrep",
                    "semgrep scan --config \"$SEMGREP_RULES\" --metrics off --sarif --output semgrep.sarif",
                )
                .env("SEMGREP_RULES", cfg),
            );
            if sarif {
                v.push(upload_sarif("semgrep.sarif", "semgrep"));
            }
            v.push(steps::sarif_threshold("semgrep.sarif", &g.fail_on));
            v
        }
        GateTool::Sonarqube => {
            let mut args = format!("-Dsonar.projectKey={} -Dsonar.qualitygate.wait=true", cx.model.project.name);
            if let Some(c) = &config {
                args.push_str(&format!(" -Dproject.settings={c}"));
            }
            vec![
                checkout_history(),
                Step::uses("Analyse with SonarQube and wait for its quality gate", "SonarSource/sonarqube-scan-action")
                    .with("args", args)
                    .env("SONAR_TOKEN", "${{ secrets.SONAR_TOKEN }}")
                    .env("SONAR_HOST_URL", "${{ secrets.SONAR_HOST_URL }}"),
            ]
        }
        GateTool::Bandit => {
            if sarif {
                job = job.permissions(&scanning);
            }
            let level = threshold(g.tool, &g.fail_on).unwrap_or_default();
            let dirs: Vec<String> =
                crate::plan::delivery::covered(cx.model, g).iter().map(|s| s.build_context.clone()).collect();
            let mut v = vec![checkout()];
            v.extend(python_tool_setup("bandit[sarif]"));
            let mut scan = Step::run(
                "Scan with Bandit",
                "mkdir -p bandit-results\nstatus=0\nfor dir in $DIRS; do\n  name=$(echo \"$dir\" | tr '/.' '--')\n  bandit -r \"$dir\" --severity-level \"$LEVEL\" $CONFIG -f sarif -o \"bandit-results/$name.sarif\" || status=1\n  bandit -r \"$dir\" --severity-level \"$LEVEL\" $CONFIG -f screen || true\ndone\nexit \"$status\"",
            )
            .env("DIRS", dirs.join(" "))
            .env("LEVEL", level);
            scan = scan.env("CONFIG", config.as_ref().map(|c| format!("-c {c}")).unwrap_or_default());
            v.push(scan);
            if sarif {
                v.push(upload_sarif("bandit-results", "bandit"));
            }
            v
        }
        GateTool::Grype => {
            if sarif {
                job = job.permissions(&scanning);
            }
            let targets: Vec<(String, String)> = if g.services.is_empty() {
                vec![("repository".into(), ".".into())]
            } else {
                crate::plan::delivery::covered(cx.model, g)
                    .iter()
                    .map(|s| (s.name.clone(), s.build_context.clone()))
                    .collect()
            };
            let mut v = vec![checkout()];
            for (i, (name, dir)) in targets.iter().enumerate() {
                let id = format!("grype-{}", i + 1);
                let mut s = Step::uses(format!("Scan {name} dependencies with Grype"), "anchore/scan-action")
                    .id(&id)
                    .with("path", dir.clone())
                    .with("fail-build", true)
                    .with("severity-cutoff", g.fail_on.clone())
                    .with("output-format", if sarif { "sarif" } else { "table" });
                if let Some(c) = &config {
                    s = s.with("config", c.clone());
                }
                if i > 0 {
                    s = s.when("${{ !cancelled() }}");
                }
                v.push(s);
                if sarif {
                    v.push(upload_sarif(&format!("${{{{ steps.{id}.outputs.sarif }}}}"), &format!("grype-{name}")));
                }
            }
            v
        }
        GateTool::Snyk => {
            if sarif {
                job = job.permissions(&scanning);
            }
            let mut v = vec![checkout()];
            v.push(Step::run("Install the Snyk CLI", format!("npm install --global 'snyk@{}'", pins::tool("snyk"))));
            v.extend(each_service(cx, g, cache, |s| {
                let mut st = Step::run(
                    "Test dependencies with Snyk",
                    "snyk test --severity-threshold=\"$FAIL_ON\" --sarif-file-output=snyk.sarif",
                )
                .env("SNYK_TOKEN", "${{ secrets.SNYK_TOKEN }}")
                .env("FAIL_ON", g.fail_on.clone())
                .dir(&s.build_context);
                st.continue_on_error = None;
                let mut out = vec![st];
                if sarif {
                    out.push(upload_sarif(&join(&s.build_context, "snyk.sarif"), &format!("snyk-{}", s.name)));
                }
                out
            }));
            v
        }
        GateTool::Safety => {
            let mut v = vec![checkout()];
            v.extend(python_tool_setup("safety"));
            for s in crate::plan::delivery::covered(cx.model, g) {
                let tc = s.toolchain;
                let files: Vec<String> = steps::requirement_files(tc).iter().map(|f| format!("-r {f}")).collect();
                let mut st = Step::run(
                    format!("Check {} dependencies with Safety", s.name),
                    "safety check $REQUIREMENTS --full-report",
                )
                .env("REQUIREMENTS", files.join(" "))
                .env("SAFETY_API_KEY", "${{ secrets.SAFETY_API_KEY }}")
                .dir(&s.build_context);
                if v.len() > 3 {
                    st = st.when("${{ !cancelled() }}");
                }
                v.push(st);
            }
            v
        }
        GateTool::PipAudit => {
            let mut v = vec![checkout()];
            v.extend(python_tool_setup("pip-audit"));
            for s in crate::plan::delivery::covered(cx.model, g) {
                let tc = s.toolchain;
                let files: Vec<String> = steps::requirement_files(tc).iter().map(|f| format!("-r {f}")).collect();
                let mut st = Step::run(
                    format!("Audit {} dependencies with pip-audit", s.name),
                    "pip-audit $REQUIREMENTS --desc",
                )
                .env("REQUIREMENTS", files.join(" "))
                .dir(&s.build_context);
                if v.len() > 3 {
                    st = st.when("${{ !cancelled() }}");
                }
                v.push(st);
            }
            v
        }
        GateTool::NpmAudit => {
            let level = threshold(g.tool, &g.fail_on).unwrap_or_default();
            let mut v = vec![checkout()];
            let svcs = crate::plan::delivery::covered(cx.model, g);
            for s in &svcs {
                let tc = s.toolchain;
                let mut st = Step::run(
                    format!("Audit {} dependencies with npm audit", s.name),
                    "npm audit --audit-level=\"$AUDIT_LEVEL\"",
                )
                .env("AUDIT_LEVEL", level.clone())
                .dir(&s.build_context);
                if v.len() > 1 {
                    st = st.when("${{ !cancelled() }}");
                } else {
                    v.push(steps::setup(tc, &s.build_context, false));
                }
                v.push(st);
            }
            v
        }
        GateTool::Trivy => {
            if sarif {
                job = job.permissions(&scanning);
            }
            let image_scan = g.kind == "container";
            let sev = threshold(g.tool, &g.fail_on).unwrap_or_default();
            let mut v = vec![checkout()];
            if image_scan {
                v.push(Step::uses("Set up Buildx", "docker/setup-buildx-action"));
                skips.push((String::new(), "checkov:skip=CKV_GHA_5,CKV_GHA_6:images are built here only to be scanned and are never pushed; cd.yml signs and attests the images it publishes".to_string()));
            }
            for (i, s) in crate::plan::delivery::covered(cx.model, g).iter().enumerate() {
                let cond = (i > 0).then_some("${{ !cancelled() }}");
                if image_scan {
                    let mut b = Step::uses(format!("Build the {} image", s.name), "docker/build-push-action")
                        .with("context", s.build_context.clone())
                        .with("file", s.dockerfile.clone())
                        .with("load", true)
                        .with("push", false)
                        .with("tags", format!("{}:scan", s.name));
                    if let Some(t) = &s.build_target {
                        b = b.with("target", t.clone());
                    }
                    if let Some(c) = cond {
                        b = b.when(c);
                    }
                    v.push(b);
                }
                let mut t = Step::uses(format!("Scan {} with Trivy", s.name), "aquasecurity/trivy-action")
                    .with("scan-type", if image_scan { "image" } else { "fs" });
                t = if image_scan {
                    t.with("image-ref", format!("{}:scan", s.name))
                } else {
                    t.with("scan-ref", s.build_context.clone())
                };
                t = t.with("severity", sev.clone()).with("exit-code", "1");
                if sarif {
                    t = t
                        .with("format", "sarif")
                        .with("output", format!("trivy-{}.sarif", s.name))
                        .with("limit-severities-for-sarif", true);
                }
                if let Some(c) = &config {
                    t = t.with("trivy-config", c.clone());
                }
                if let Some(c) = cond {
                    t = t.when(c);
                }
                v.push(t);
                if sarif {
                    v.push(upload_sarif(&format!("trivy-{}.sarif", s.name), &format!("trivy-{}", s.name)));
                }
            }
            v
        }
        GateTool::Checkov => {
            if sarif {
                job = job.permissions(&scanning);
            }
            let mut v = vec![checkout()];
            v.extend(python_tool_setup("checkov"));
            let mut st = Step::run(
                "Scan infrastructure code with Checkov",
                "checkov --directory . --quiet --compact $CONFIG $BASELINE --output cli --output sarif --output-file-path console,checkov.sarif",
            )
            .env("CONFIG", config.as_ref().map(|c| format!("--config-file {c}")).unwrap_or_default())
            // The findings the output waives by design (plan/waivers.rs).
            .env(
                "BASELINE",
                crate::plan::waivers::baseline_in_repo(cx.model)
                    .map(|b| format!("--baseline {}", super::data(&b)))
                    .unwrap_or_default(),
            );
            st.id = Some("checkov".into());
            v.push(st);
            if sarif {
                v.push(upload_sarif("checkov.sarif", "checkov"));
            }
            v
        }
        GateTool::Tfsec => {
            let sev = threshold(g.tool, &g.fail_on).unwrap_or_default();
            vec![
                checkout(),
                Step::uses("Scan Terraform with tfsec", "aquasecurity/tfsec-action")
                    .with("additional_args", format!("--minimum-severity {sev}"))
                    .with("github_token", "${{ secrets.GITHUB_TOKEN }}"),
            ]
        }
        GateTool::LicenseFinder => {
            let decisions = config.clone().unwrap_or_else(|| "doc/dependency_decisions.yml".into());
            let mut v = vec![checkout()];
            v.push(Step::run(
                "Install LicenseFinder",
                format!("sudo gem install license_finder --version '{}' --no-document", pins::tool("license_finder")),
            ));
            v.extend(each_service(cx, g, cache, |s| {
                vec![Step::run(
                    "Check dependency licences with LicenseFinder",
                    "license_finder --decisions-file \"$DECISIONS\"",
                )
                .env("DECISIONS", decisions_path(&s.build_context, &decisions))
                .dir(&s.build_context)]
            }));
            v
        }
        GateTool::Coverage => {
            let min = g.min.unwrap_or(70.0);
            let mut v = vec![checkout()];
            v.extend(each_service(cx, g, cache, |s| {
                let tc = s.toolchain;
                let mut out: Vec<Step> =
                    steps::test_commands(tc).into_iter().map(|(n, c)| Step::run(n, c).dir(&s.build_context)).collect();
                if tc.coverage.is_some() {
                    out.push(steps::coverage_check(
                        tc,
                        &format!("Coverage at least {}%", steps::pct(min)),
                        min,
                        &s.build_context,
                    ));
                }
                out
            }));
            v
        }
        GateTool::Tests => {
            let mut v = vec![checkout()];
            v.extend(each_service(cx, g, cache, |s| {
                let tc = s.toolchain;
                tc.test.iter().map(|t| Step::run(format!("Test: {t}"), t.clone()).dir(&s.build_context)).collect()
            }));
            v
        }
        // Linters and type checkers: the tool on each covered service.
        tool @ (GateTool::Eslint
        | GateTool::Ruff
        | GateTool::Flake8
        | GateTool::GolangciLint
        | GateTool::Tsc
        | GateTool::Mypy) => {
            let cmd = check_command(tool).unwrap_or_default();
            let mut v = vec![checkout()];
            v.extend(each_service(cx, g, cache, |s| {
                vec![Step::run(format!("Run {tool}"), cmd.clone()).dir(&s.build_context)]
            }));
            v
        }
    };
    job = job.steps(steps);
    if !g.blocking {
        job.continue_on_error = Some(true);
    }
    let id = job_id(g);
    let skips = skips.into_iter().map(|(_, c)| (id.clone(), c)).collect();
    (job, skips)
}

/// `security.yml`: every security gate on its own triggers.
pub fn security(cx: &Cx) -> Option<Artifact> {
    let gates: Vec<&Gate> = cx.model.gates.iter().filter(|g| !is_quality(g)).collect();
    if gates.is_empty() {
        return None;
    }
    let all: Vec<Trigger> = gates.iter().flat_map(|g| g.when.iter().cloned()).collect();
    let all = super::dedup(&all);
    let mut jobs = IndexMap::new();
    let mut skips = Vec::new();
    for g in &gates {
        let (mut j, s) = job(cx, g, !all.iter().any(|t| matches!(t, Trigger::Tag(_))));
        j.if_ = job_if(&g.when, &all);
        skips.extend(s);
        jobs.insert(job_id(g), j);
    }
    let wf = Workflow {
        name: "Security".into(),
        on: on_for(&all),
        permissions: Map::new(),
        concurrency: Some(super::wf::Concurrency {
            group: "${{ github.workflow }}-${{ github.ref }}".into(),
            cancel_in_progress: true,
        }),
        jobs,
    };
    let header = vec![
        "Security gates: each gate of the program is a job running the tool's usual".to_string(),
        "invocation on the gate's `when` triggers, failing at its `fail_on` severity".to_string(),
        "and uploading SARIF to code scanning where the tool writes it. Deploy".to_string(),
        "workflows run the gates an environment `requires` again as `needs:` of its".to_string(),
        "deploy job. Secrets read here: GITLEAKS_LICENSE, SONAR_TOKEN, SONAR_HOST_URL,".to_string(),
        "SNYK_TOKEN, SAFETY_API_KEY (for the gates that use them).".to_string(),
    ];
    Some(file(cx, "security.yml", &header, &wf, &skips))
}
