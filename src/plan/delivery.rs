//! The delivery plan: what the CI/CD renderers (GitHub Actions, Jenkins)
//! share, decided once from the model — which services a gate covers and
//! each lint or type-check tool's pinned command, the test and coverage
//! commands, each environment's Argo CD application, kustomization, images,
//! public routes, backups before a deploy, rollout timing, which
//! notification events fire, how images are cached and pushed, and the
//! shell that rewrites a released tag. Renderers only choose the syntax.
//!
//! **Invariant:** renderers read these decisions and never re-derive them,
//! so the workflows and the Jenkinsfile cannot disagree on a command, a
//! backup or a notification.

use super::env::image_repository;
use crate::model::{
    BeforeHook, Engine, Environment, Exposure, Gate, GateTool, Model, NotifyEvent, Placement, Probe, Promotion,
    Registry,
};
use crate::model::{Step as CStep, StrategyKind, Toolchain};
use crate::pins;

/// Removes duplicates, keeping the first occurrence (declaration order).
pub fn dedup<T: PartialEq + Clone>(v: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in v {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// Where the generated tree lives in the repository (`project.gitops.path`),
/// with a trailing slash, or empty for the root.
pub fn gitops_path(model: &Model) -> String {
    let p = model.project.gitops.path.trim_matches('/');
    if p.is_empty() || p == "." {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// The branch GitOps commits go to: the revision Argo CD tracks, or the
/// project's branch when it tracks HEAD.
pub fn gitops_branch(model: &Model) -> String {
    let r = &model.project.gitops.revision;
    if r == "HEAD" || r.is_empty() {
        model.project.branch.clone()
    } else {
        r.clone()
    }
}

/// The Argo CD application of an environment (both Application and ApplicationSet modes).
pub fn app_name(model: &Model, env: &Environment) -> String {
    format!("{}-{}", model.project.name, env.name)
}

/// The image repositories an environment deploys, as its kustomization lists them.
pub fn images(model: &Model, env: &Environment) -> Vec<String> {
    let mut v: Vec<String> = env
        .deployments
        .iter()
        .map(|d| model.service(d.service))
        .filter(|s| s.prebuilt().is_none())
        .map(|s| image_repository(model, &s.image))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The kustomization whose `newTag` lines CD owns.
pub fn kustomization(model: &Model, env: &Environment) -> String {
    format!("{}k8s/{}/kustomization.yaml", gitops_path(model), env.name)
}

/// One public route of an environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub service: String,
    /// The route's base URL.
    pub base: String,
    /// The health URL, when a probe is reachable from outside.
    pub health: Option<String>,
}

/// Public URLs of an environment's ingress routes.
pub fn routes(model: &Model, env: &Environment) -> Vec<Route> {
    let mut out = Vec::new();
    for d in &env.deployments {
        let s = model.service(d.service);
        if let Exposure::Ingress { host, path, tls, .. } = &s.expose {
            let host = crate::model::render_env(host, &model.project, &env.name, &env.namespace, &env.domain);
            let scheme = if *tls { "https" } else { "http" };
            let base = format!("{scheme}://{host}{}", if path == "/" { "" } else { path.as_str() });
            // The ingress forwards paths unchanged, so a probe path is
            // reachable from outside only under the route's own prefix.
            let health = match s.readiness.as_ref().or(s.health.as_ref()) {
                Some(Probe::Http { path: p, .. }) if path == "/" || p.starts_with(path.as_str()) => {
                    Some(format!("{scheme}://{host}{p}"))
                }
                _ => None,
            };
            out.push(Route { service: s.name.clone(), base, health });
        }
    }
    out
}

/// Whether a deploy to `env` is a promotion (someone promotes it from
/// another environment) rather than an automatic deploy of a new build.
/// Both renderers use this for the `promotion` notification event.
pub fn is_promotion(env: &Environment) -> bool {
    matches!(env.promote, Promotion::Manual { .. })
}

/// Whether a Slack integration with these `events` is told about a
/// successful deploy to an environment (`promotion`: only when the deploy
/// is a promotion, see [`is_promotion`]).
pub fn notify_success(events: &[NotifyEvent], env: &Environment) -> bool {
    events.iter().any(|e| match e {
        NotifyEvent::Deploy => true,
        NotifyEvent::Promotion => is_promotion(env),
        // Nothing rolls back yet (issue 14): no message.
        NotifyEvent::Failure | NotifyEvent::Rollback => false,
    })
}

/// Whether a Slack integration with these `events` is told about a failed deploy.
pub fn notify_failure(events: &[NotifyEvent]) -> bool {
    events.contains(&NotifyEvent::Failure)
}

/// Gate kinds that CI runs next to the tests rather than the security scans.
pub fn is_quality(g: &Gate) -> bool {
    matches!(g.kind.as_str(), "lint" | "types" | "tests" | "coverage")
}

/// The services a gate covers: its `services`, else every service whose
/// toolchain family the tool understands. Only services built here: a
/// prebuilt image has no code in the repository to check.
pub fn covered<'m>(model: &'m Model, g: &Gate) -> Vec<crate::model::Built<'m>> {
    if !g.services.is_empty() {
        return g.services.iter().filter_map(|id| model.built(model.service(*id))).collect();
    }
    let families = super::gates::spec(g.tool).families;
    model.built_services().filter(|s| families.is_empty() || families.contains(&s.toolchain.family.as_str())).collect()
}

/// The command a lint or type-check gate runs in each covered service's
/// folder, with the tool version from the pin table where the tool is
/// installed by the command itself. `None` for the other tools.
pub fn check_command(tool: GateTool) -> Option<String> {
    Some(match tool {
        GateTool::Eslint => "npx eslint .".to_string(),
        GateTool::Tsc => "npx tsc --noEmit".to_string(),
        GateTool::Ruff => format!("python -m pip install 'ruff=={}' && ruff check .", pins::tool("ruff")),
        GateTool::Flake8 => format!("python -m pip install 'flake8=={}' && flake8 .", pins::tool("flake8")),
        GateTool::Mypy => format!("python -m pip install 'mypy=={}' && mypy .", pins::tool("mypy")),
        GateTool::GolangciLint => format!(
            "go run 'github.com/golangci/golangci-lint/v2/cmd/golangci-lint@{}' run ./...",
            pins::tool("golangci-lint")
        ),
        GateTool::Gitleaks
        | GateTool::Trufflehog
        | GateTool::DetectSecrets
        | GateTool::Codeql
        | GateTool::Semgrep
        | GateTool::Sonarqube
        | GateTool::Bandit
        | GateTool::Grype
        | GateTool::Snyk
        | GateTool::Safety
        | GateTool::PipAudit
        | GateTool::NpmAudit
        | GateTool::Trivy
        | GateTool::Checkov
        | GateTool::Tfsec
        | GateTool::LicenseFinder
        | GateTool::Coverage
        | GateTool::Tests => return None,
    })
}

/// The license decisions file, as reached from the service folder the scan
/// runs in (a file given from the repository root).
pub fn decisions_path(dir: &str, decisions: &str) -> String {
    if dir == "." || dir.is_empty() {
        decisions.to_string()
    } else {
        let up = dir.split('/').filter(|p| !p.is_empty()).map(|_| "..").collect::<Vec<_>>().join("/");
        format!("{up}/{decisions}")
    }
}

/// One backup taken before a deploy (`before = [backup]`).
#[derive(Clone, Debug, PartialEq)]
pub enum Backup {
    /// An in-cluster engine: run its backup CronJob now, through Argo CD.
    CronJob { resource: String, cronjob: String, namespace: String },
    /// A managed engine: a snapshot through the AWS CLI, then wait for it.
    Snapshot { resource: String, id: String, script: &'static str },
}

/// The backups before a deploy to `env`, in the program's resource order.
pub fn backups(model: &Model, env: &Environment) -> Vec<Backup> {
    let mut out = Vec::new();
    if !env.before.contains(&BeforeHook::Backup) {
        return out;
    }
    for (r, ru) in model.resources.iter().zip(&env.resources) {
        if r.backup.is_none() || !r.engine.can_run_in_cluster() {
            continue;
        }
        if ru.placement == Placement::InCluster {
            out.push(Backup::CronJob {
                resource: r.name.clone(),
                cronjob: format!("{}-backup", r.name),
                namespace: env.namespace.clone(),
            });
        } else {
            let script = match (&r.engine, r.aurora) {
                (Engine::Postgres, true) => SNAPSHOT_AURORA,
                (Engine::Postgres, false) => SNAPSHOT_RDS,
                (Engine::Redis, _) => SNAPSHOT_ELASTICACHE,
                (Engine::MongoDb | Engine::Queue | Engine::Bucket, _) => SNAPSHOT_DOCDB,
                // Kafka declares no backup: its logs are replicated across brokers.
                (Engine::Kafka, _) => continue,
            };
            let id = format!("{}-{}-{}", model.project.name, env.name, r.name);
            out.push(Backup::Snapshot { resource: r.name.clone(), id, script });
        }
    }
    out
}

/// Runs a backup CronJob now and waits for its Job (`$APP`, `$CRONJOB`, `$NAMESPACE`).
pub const CRONJOB_BACKUP: &str = r#"argocd app actions run "$APP" create-job --kind CronJob --group batch --resource-name "$CRONJOB" --namespace "$NAMESPACE"
argocd app wait "$APP" --resource "batch:Job:$CRONJOB-*" --health --timeout 1800"#;

const SNAPSHOT_AURORA: &str = r#"aws rds create-db-cluster-snapshot --db-cluster-identifier "$ID" --db-cluster-snapshot-identifier "$SNAPSHOT"
aws rds wait db-cluster-snapshot-available --db-cluster-snapshot-identifier "$SNAPSHOT""#;

const SNAPSHOT_RDS: &str = r#"aws rds create-db-snapshot --db-instance-identifier "$ID" --db-snapshot-identifier "$SNAPSHOT"
aws rds wait db-snapshot-available --db-snapshot-identifier "$SNAPSHOT""#;

const SNAPSHOT_ELASTICACHE: &str = r#"aws elasticache create-snapshot --replication-group-id "$ID" --snapshot-name "$SNAPSHOT"
for attempt in $(seq 60); do
  status=$(aws elasticache describe-snapshots --snapshot-name "$SNAPSHOT" --query 'Snapshots[0].SnapshotStatus' --output text)
  [ "$status" = "available" ] && exit 0
  sleep 30
done
exit 1"#;

const SNAPSHOT_DOCDB: &str = r#"aws docdb create-db-cluster-snapshot --db-cluster-identifier "$ID" --db-cluster-snapshot-identifier "$SNAPSHOT"
for attempt in $(seq 60); do
  status=$(aws docdb describe-db-cluster-snapshots --db-cluster-snapshot-identifier "$SNAPSHOT" --query 'DBClusterSnapshots[0].Status' --output text)
  [ "$status" = "available" ] && exit 0
  sleep 30
done
exit 1"#;

/// Checks every health URL of `$HEALTH_URLS` (`after = [health_check]`).
pub const HEALTH_CHECK: &str = r#"for url in $HEALTH_URLS; do
  curl --fail --silent --show-error --retry 10 --retry-delay 6 --retry-all-errors --max-time 10 --output /dev/null "$url"
  echo "healthy: $url"
done"#;

/// Every public route of `$ROUTES` answers without a server error (`after = [smoke_tests]`).
pub const SMOKE_TESTS: &str = r#"# Every public route answers, without a server error.
for url in $ROUTES; do
  code=$(curl --silent --output /dev/null --write-out '%{http_code}' --retry 5 --retry-delay 6 --retry-all-errors --max-time 10 "$url")
  echo "$url: HTTP $code"
  if [ "$code" -eq 000 ] || [ "$code" -ge 500 ]; then exit 1; fi
done"#;

/// The AWS region deploy steps talk to.
pub fn aws_region(model: &Model) -> String {
    match &model.project.cloud {
        crate::model::Cloud::Aws { region, .. } => region.clone(),
        _ => "us-east-1".into(),
    }
}

/// Whether the registry refuses to move a tag (ECR repositories are created
/// `IMMUTABLE`): then no build may push a fixed tag (a `:buildcache` layer
/// cache), and a tag that already exists is not pushed again, so re-running
/// a build of the same commit succeeds.
pub fn immutable_tags(model: &Model) -> bool {
    match model.project.registry {
        Registry::Ecr { .. } => true,
        Registry::Ghcr { .. } | Registry::DockerHub { .. } => false,
    }
}

/// Where image builds keep their layer cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildCache {
    /// `pipeline.cache = false`.
    Off,
    /// A mutable `<image>:buildcache` tag beside the images.
    RegistryTag,
    /// The CI's own store (GitHub's cache service; a directory on the
    /// Jenkins agent), for registries whose tags are immutable.
    CiStore,
}

/// The layer cache of the image builds.
pub fn build_cache(model: &Model) -> BuildCache {
    if !model.pipeline.cache {
        BuildCache::Off
    } else if immutable_tags(model) {
        BuildCache::CiStore
    } else {
        BuildCache::RegistryTag
    }
}

pub const READ_TAG: &str = r#"tag_of() {
  # The newTag of one image in a kustomization's images: list.
  awk -v image="$2" '
    /^[^ ]/ { in_images = ($0 ~ /^images:/); next }
    in_images && /^ *-? *name:/ { n = $0; sub(/^ *-? *name: */, "", n); gsub(/"/, "", n); current = n }
    in_images && /^ *newTag:/ && current == image { t = $0; sub(/^ *newTag: */, "", t); gsub(/"/, "", t); print t; exit }
  ' "$1"
}
"#;

pub const SET_TAG: &str = r#"set_tag() {
  # Rewrites exactly the newTag line of one image, quoting the tag the way
  # deployc writes strings, so the next `deployc build` keeps the file as is.
  awk -v image="$2" -v tag="$3" '
    /^[^ ]/ { in_images = ($0 ~ /^images:/) }
    in_images && /^ *-? *name:/ { n = $0; sub(/^ *-? *name: */, "", n); gsub(/"/, "", n); current = n }
    in_images && /^ *newTag:/ && current == image {
      value = tag
      if (tag !~ /^[A-Za-z_][A-Za-z0-9_.\/@+=-]*$/ || tolower(tag) ~ /^(true|false|yes|no|on|off|y|n|null)$/) value = "\"" tag "\""
      sub(/newTag:.*/, "newTag: " value)
      found = 1
    }
    { print }
    END { exit !found }
  ' "$1" > "$1.new" && mv "$1.new" "$1" || return 1
  # The workloads beside it name the image with its tag too: rewrite those
  # references the same way, so the folder stays what `deployc build` writes.
  for f in "$(dirname "$1")"/*.yaml; do
    [ "$f" = "$1" ] && continue
    awk -v image="$2" -v tag="$3" '
      match($0, /image: "?/) {
        rest = substr($0, RSTART + RLENGTH); sub(/"$/, "", rest)
        if (index(rest, image ":") == 1) {
          ref = image ":" tag
          if (ref !~ /^[A-Za-z_\/][A-Za-z0-9_.\/@+=:-]*$/ || ref ~ /:$/) ref = "\"" ref "\""
          $0 = substr($0, 1, RSTART - 1) "image: " ref
        }
      }
      { print }
    ' "$f" > "$f.new" && mv "$f.new" "$f" || return 1
  done
}
"#;

/// The requirement files a Python toolchain installs (`-r FILE` in its
/// install command), `requirements.txt` when it names none.
pub fn requirement_files(tc: &Toolchain) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(i) = &tc.install {
        let words: Vec<&str> = i.split_whitespace().collect();
        for w in words.windows(2) {
            if w[0] == "-r" || w[0] == "--requirement" {
                out.push(w[1].to_string());
            }
        }
    }
    if out.is_empty() {
        out.push("requirements.txt".into());
    }
    out
}

/// A percentage as written in a program: `80`, `72.5`.
pub fn pct(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The command that runs the tests: the coverage command when the
/// toolchain has one (it runs the tests and measures them), else the test
/// commands.
pub fn test_commands(tc: &Toolchain) -> Vec<(String, String)> {
    match &tc.coverage {
        Some(c) => vec![("Test with coverage".into(), c.clone())],
        None => tc.test.iter().map(|t| (format!("Test: {t}"), t.clone())).collect(),
    }
}

/// The script of [`coverage_check`], reading the minimum from `$COVERAGE_MIN`.
pub fn coverage_script(tc: &Toolchain) -> String {
    match tc.family.as_str() {
        "python" => "coverage report --fail-under=\"$COVERAGE_MIN\"".to_string(),
        "node" => "awk -F: -v min=\"$COVERAGE_MIN\" '\n  /^LF:/ { found += $2 }\n  /^LH:/ { hit += $2 }\n  END {\n    if (found == 0) { print \"no line data in coverage/lcov.info\"; exit 1 }\n    pct = 100 * hit / found\n    printf \"line coverage %.2f%% (minimum %s%%)\\n\", pct, min\n    exit (pct + 0.005 < min)\n  }' coverage/lcov.info".to_string(),
        "go" => "total=$(go tool cover -func=coverage.out | awk '/^total:/ { sub(\"%\", \"\", $3); print $3 }')\necho \"line coverage ${total}% (minimum ${COVERAGE_MIN}%)\"\nawk -v t=\"$total\" -v min=\"$COVERAGE_MIN\" 'BEGIN { exit (t + 0.005 < min) }'".to_string(),
        _ => {
            let report = if tc.cache.as_deref() == Some("gradle") || tc.install.as_deref().unwrap_or("").contains("gradle") {
                "build/reports/jacoco/test/jacocoTestReport.xml"
            } else {
                "target/site/jacoco/jacoco.xml"
            };
            format!(
                "python3 - \"{report}\" <<'EOF'\nimport os, sys, xml.etree.ElementTree as ET\nroot = ET.parse(sys.argv[1]).getroot()\nline = next(c for c in root.findall(\"counter\") if c.get(\"type\") == \"LINE\")\ncovered, missed = int(line.get(\"covered\")), int(line.get(\"missed\"))\npct = 100 * covered / max(covered + missed, 1)\nminimum = float(os.environ[\"COVERAGE_MIN\"])\nprint(f\"line coverage {{pct:.2f}}% (minimum {{minimum}}%)\")\nsys.exit(pct + 0.005 < minimum)\nEOF"
            )
        }
    }
}

/// Whether a rollout in this environment stops until someone promotes it.
pub fn manual_pause(env: &Environment) -> bool {
    match &env.strategy.kind {
        StrategyKind::Canary { steps, .. } => steps.iter().any(|s| matches!(s, CStep::Pause(None))),
        StrategyKind::BlueGreen { auto_promote, auto_promote_after_ms, .. } => {
            !auto_promote && auto_promote_after_ms.is_none()
        }
        StrategyKind::Rolling { .. } => false,
    }
}

/// How long a rollout may take: ten minutes plus its timed pauses and analyses.
pub fn rollout_seconds(env: &Environment) -> u64 {
    let analysis = |a: &Option<crate::model::Analysis>| a.as_ref().map_or(0, |a| a.interval_ms * a.count as u64);
    let ms = match &env.strategy.kind {
        StrategyKind::Canary { steps, analysis: a, .. } => {
            let pauses: u64 = steps.iter().map(|s| if let CStep::Pause(Some(d)) = s { *d } else { 0 }).sum();
            let analyses = steps.iter().filter(|s| matches!(s, CStep::Analysis)).count() as u64;
            pauses + analysis(a) * analyses.max(1)
        }
        StrategyKind::BlueGreen { auto_promote_after_ms, analysis: a, .. } => {
            auto_promote_after_ms.unwrap_or(0) + analysis(a)
        }
        StrategyKind::Rolling { .. } => 0,
    };
    600 + ms / 1000
}
