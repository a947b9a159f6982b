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
    AfterHook, BeforeHook, Engine, Environment, Exposure, Gate, GateTool, Model, NotifyEvent, Placement, Probe,
    Promotion, Registry, ServiceId,
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
/// is a promotion, see [`is_promotion`]). The message goes out when the
/// release is verified, which for a rollout that waits for a person is
/// after that person promoted it (see [`outcome`]).
pub fn notify_success(events: &[NotifyEvent], env: &Environment) -> bool {
    events.iter().any(|e| match e {
        NotifyEvent::Deploy => true,
        NotifyEvent::Promotion => is_promotion(env),
        NotifyEvent::Failure | NotifyEvent::Rollback => false,
    })
}

/// Whether a Slack integration with these `events` is told that a failed
/// release was rolled back.
pub fn notify_rollback(events: &[NotifyEvent]) -> bool {
    events.contains(&NotifyEvent::Rollback)
}

/// What a deploy job has achieved when its steps pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Synced, healthy and checked: the release is verified, recorded
    /// (see [`verified_tag`]) and reported as deployed.
    Deployed,
    /// The rollout is paused until a person promotes it (a blue-green
    /// without auto-promotion, a canary step without a duration). Nothing
    /// is reported as deployed and nothing is recorded as verified until a
    /// second, approved step promotes it, checks it and records it.
    AwaitingPromotion,
}

/// How a deploy to `env` ends when its steps pass.
pub fn outcome(env: &Environment) -> Outcome {
    if manual_pause(env) {
        Outcome::AwaitingPromotion
    } else {
        Outcome::Deployed
    }
}

/// The git tag that records the commit whose kustomization an environment
/// runs and verified: moved by CD only after the rollout is healthy and
/// every `after` check passed. Promotions read the source environment's
/// tags at this commit, never the intended tags at the branch head, so a
/// release that failed its checks is never promoted. A tag rather than a
/// file keeps the generated tree exactly what `deployc build` writes.
pub fn verified_tag(env: &Environment) -> String {
    format!("deployc-verified-{}", env.name)
}

/// [`verified_tag`] computed by the shell from `$ENVIRONMENT`, for renderers
/// that keep the environment's name in the pipeline's own environment.
pub const VERIFIED_TAG_SH: &str = "VERIFIED_TAG=\"deployc-verified-$ENVIRONMENT\"\n";

/// The Argo Rollouts of an environment (the services a canary or blue-green
/// strategy rolls out), which a rollback aborts first; empty for rolling
/// updates (plain Deployments).
pub fn rollouts(model: &Model, env: &Environment) -> Vec<String> {
    env.deployments
        .iter()
        .filter(|d| !matches!(d.strategy.kind, StrategyKind::Rolling { .. }))
        .map(|d| model.service(d.service).name.clone())
        .collect()
}

/// Commits the released tags and pushes them to `$BRANCH` through
/// `$remote` (a shell variable the renderer sets), rebasing on other
/// deploys' commits. Appends `commit=<sha>` (the commit this run made, empty
/// when the environment already ran these tags) and `head=<sha>` (the
/// commit whose kustomization now holds them) to `$RELEASE_OUT`; the
/// committer identity is the renderer's.
pub const COMMIT_RELEASE: &str = r#"git add "$(dirname "$KUSTOMIZATION")"
if git diff --cached --quiet; then
  echo "$ENVIRONMENT already runs these tags"
  echo "commit=" >> "$RELEASE_OUT"
else
  git commit --quiet -m "deploy($ENVIRONMENT): $RELEASED [skip ci]"
  pushed=""
  # Other deploys push to the same branch: rebase on theirs and retry.
  for attempt in 1 2 3 4 5; do
    if git push --quiet "$remote" "HEAD:$BRANCH"; then pushed=yes; break; fi
    sleep $((attempt * 5))
    git pull --quiet --rebase "$remote" "$BRANCH"
  done
  if [ -z "$pushed" ]; then echo "could not push the release commit to $BRANCH" >&2; exit 1; fi
  echo "commit=$(git rev-parse HEAD)" >> "$RELEASE_OUT"
fi
echo "head=$(git rev-parse HEAD)" >> "$RELEASE_OUT"
"#;

/// Moves `$VERIFIED_TAG` to `$VERIFIED_COMMIT` in `$remote`: the release
/// passed every check. Runs last, after the checks, never on failure.
pub const RECORD_VERIFIED: &str = r#"if [ -z "$VERIFIED_COMMIT" ]; then echo "no release commit to record" >&2; exit 1; fi
git tag --force "$VERIFIED_TAG" "$VERIFIED_COMMIT"
# A re-run finds the tag in place: a push with nothing to update can die of
# SIGPIPE when push options are set, so none is made.
if [ "$(git ls-remote "$remote" "refs/tags/$VERIFIED_TAG" | cut -f1)" != "$VERIFIED_COMMIT" ]; then
  git push --force --quiet "$remote" "refs/tags/$VERIFIED_TAG"
fi
echo "$ENVIRONMENT verified at $VERIFIED_COMMIT ($VERIFIED_TAG)"
"#;

/// Writes the kustomization `$SOURCE` as of the source environment's
/// verified tag `$SOURCE_TAG` to `$SOURCE_FILE`, failing when the source
/// environment has never verified a release.
pub const READ_VERIFIED: &str = r#"if ! git fetch --quiet --force "$remote" "refs/tags/$SOURCE_TAG:refs/tags/$SOURCE_TAG"; then
  echo "$SOURCE_ENVIRONMENT has no verified release ($SOURCE_TAG): deploy and verify it first" >&2
  exit 1
fi
git show "refs/tags/$SOURCE_TAG:$SOURCE" > "$SOURCE_FILE"
echo "promoting what $SOURCE_ENVIRONMENT verified at $(git rev-parse --short "refs/tags/$SOURCE_TAG^{commit}")"
"#;

/// Rolls a failed release back: aborts the environment's rollouts
/// (`$ROLLOUTS`), which returns all traffic to the stable version at once,
/// reverts the release commit `$DEPLOY_COMMIT` on `$BRANCH` (so git says
/// again what runs), has Argo CD sync the revert and waits until healthy.
/// Exits non-zero when the rollback itself fails; the run is failed either way.
pub const ROLLBACK: &str = r#"if [ -z "$DEPLOY_COMMIT" ]; then
  echo "this run committed nothing to $ENVIRONMENT: nothing to roll back"
  exit 0
fi
for rollout in $ROLLOUTS; do
  # Aborting a rollout that is not in progress fails harmlessly; the revert
  # below restores the stable version in any case.
  argocd app actions run "$APP" abort --kind Rollout --group argoproj.io --resource-name "$rollout" ||
    echo "could not abort the rollout $rollout (not in progress?)"
done
reverted=""
for attempt in 1 2 3 4 5; do
  git fetch --quiet "$remote" "$BRANCH"
  git reset --quiet --hard FETCH_HEAD
  git revert --no-edit --no-commit "$DEPLOY_COMMIT"
  git commit --quiet -m "rollback($ENVIRONMENT): revert ${DEPLOY_COMMIT} [skip ci]"
  if git push --quiet "$remote" "HEAD:$BRANCH"; then reverted=yes; break; fi
  sleep $((attempt * 5))
done
if [ -z "$reverted" ]; then echo "could not push the revert of $DEPLOY_COMMIT to $BRANCH" >&2; exit 1; fi
echo "reverted $DEPLOY_COMMIT on $BRANCH"
if [ "$AUTO_SYNC" = true ]; then
  argocd app get "$APP" --refresh > /dev/null
else
  argocd app sync "$APP" --async
fi
argocd app wait "$APP" --sync --health --operation --timeout "$TIMEOUT"
"#;

/// Promotes every paused rollout of `$APP` to all traffic and waits until
/// the application is healthy.
pub const PROMOTE_ROLLOUT: &str = r#"argocd app actions run "$APP" promote-full --kind Rollout --group argoproj.io --all
argocd app wait "$APP" --sync --health --timeout "$TIMEOUT""#;

/// The Sentry release CI creates after a verified deploy: the program's
/// Sentry integration with an `auth_token`, an `org` and a `project`.
#[derive(Clone, Debug, PartialEq)]
pub struct SentryRelease {
    pub org: String,
    pub project: String,
    /// The program's secret holding the auth token.
    pub token: String,
}

/// The Sentry release of the program, when it asks for one (W0016 when
/// `auth_token` comes without `org` or `project`).
pub fn sentry_release(model: &Model) -> Option<SentryRelease> {
    model.integrations.iter().find_map(|i| match &i.kind {
        crate::model::IntegrationKind::Sentry { org: Some(org), project: Some(project), auth_token, .. }
            if !auth_token.is_empty() =>
        {
            Some(SentryRelease { org: org.clone(), project: project.clone(), token: auth_token.clone() })
        }
        _ => None,
    })
}

/// Creates, finalizes and marks deployed to `$ENVIRONMENT` one Sentry
/// release per tag of `$RELEASED` (`image:tag` refs): the release names the
/// pods report (`SENTRY_RELEASE` is the image tag). Reads `$SENTRY_ORG`,
/// `$SENTRY_PROJECT` and `$SENTRY_AUTH_TOKEN` (sentry-cli's own variables)
/// and installs sentry-cli `$SENTRY_CLI_VERSION` from PyPI into a virtual
/// environment. Never fails: the release is verified and running, and a
/// Sentry outage must not roll it back.
pub const SENTRY_RELEASE_SH: &str = r#"failed=""
venv="$(mktemp -d)/sentry-cli"
if python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check "sentry-cli==$SENTRY_CLI_VERSION"; then
  for version in $(for ref in $RELEASED; do echo "${ref##*:}"; done | sort -u); do
    "$venv/bin/sentry-cli" releases new "$version" --project "$SENTRY_PROJECT" &&
      "$venv/bin/sentry-cli" releases finalize "$version" &&
      "$venv/bin/sentry-cli" deploys new --release "$version" --env "$ENVIRONMENT" ||
      failed="$failed $version"
  done
else
  failed="(sentry-cli $SENTRY_CLI_VERSION could not be installed)"
fi
if [ -n "$failed" ]; then echo "could not create the Sentry release(s):$failed" >&2; fi
exit 0
"#;

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
    /// An in-cluster engine: a Job in the environment's folder, an Argo CD
    /// Sync hook in the wave before the migrations ([`super::env::Wave::Backup`]),
    /// so every sync backs the data up and only then migrates; CD checks
    /// after the sync that the hook ran and succeeded.
    Hook { resource: String, job: String },
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
            out.push(Backup::Hook { resource: r.name.clone(), job: predeploy_backup_job(&r.name) });
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

/// The name of the pre-deploy backup Job of an in-cluster resource.
pub fn predeploy_backup_job(resource: &str) -> String {
    format!("{resource}-predeploy-backup")
}

/// After a sync: the pre-deploy backup hook `$JOB` ran in the last sync
/// operation of `$APP` and succeeded (Argo CD fails the operation when a
/// hook fails; this also catches a sync that never ran the hook).
pub const CHECK_BACKUP_HOOK: &str = r#"phase=$(argocd app get "$APP" --output json | jq -r --arg job "$JOB" '[.status.operationState.syncResult.resources[]? | select(.kind == "Job" and .name == $job)][0].hookPhase // "not run"')
echo "pre-deploy backup $JOB: $phase"
if [ "$phase" != Succeeded ]; then echo "the pre-deploy backup $JOB did not succeed in the last sync" >&2; exit 1; fi"#;

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

/// The Artifact Registry repository CI copies every pushed image into,
/// for the GKE clusters that pull from it (`plan::registry::Mirror`): at
/// most one, as a program sets `gcp` up once (E0412).
pub fn image_mirror(model: &Model) -> Option<super::registry::Mirror> {
    super::registry::mirrors(model).into_iter().next()
}

/// The service account CI pushes the copies as (the GCP shared root
/// creates it): `<account id>@<project>.iam.gserviceaccount.com`.
pub fn image_mirror_account(model: &Model, mirror: &super::registry::Mirror) -> String {
    format!(
        "{}@{}.iam.gserviceaccount.com",
        super::identity::gcp_account_id(&format!("{}-image-push", model.project.name)),
        mirror.project
    )
}

/// The Jenkins credential (a secret file) and the GitLab CI variable (of
/// type File) holding the key of that service account, on CIs without a
/// federated identity for Google Cloud.
pub const IMAGE_MIRROR_KEY: &str = "gcp-image-push-key";
pub const IMAGE_MIRROR_KEY_VARIABLE: &str = "GCP_IMAGE_PUSH_KEY";

/// Logs Docker in to Artifact Registry (`$MIRROR_HOST`) with a service
/// account key file (`$KEY_FILE`), read from the file so the key is never
/// on a command line.
pub const MIRROR_LOGIN_SH: &str =
    "docker login --username _json_key --password-stdin \"https://$MIRROR_HOST\" < \"$KEY_FILE\"\n";

/// Logs Docker in to Artifact Registry (`$MIRROR_HOST`) with the access
/// token of gcloud's active (federated) credentials, through stdin.
pub const MIRROR_TOKEN_LOGIN_SH: &str =
    "gcloud auth print-access-token | docker login --username oauth2accesstoken --password-stdin \"https://$MIRROR_HOST\"\n";

/// Copies one pushed image, `$IMAGE:$TAG`, to `$MIRROR:$TAG` (every
/// platform, registry to registry, no local pull), unless a re-run already
/// did. Both registries then name the same build with the same tag.
pub const MIRROR_IMAGE_SH: &str = r#"if docker buildx imagetools inspect "$MIRROR:$TAG" > /dev/null 2>&1; then
  echo "$MIRROR:$TAG is already copied (a re-run): keeping it"
else
  docker buildx imagetools create --tag "$MIRROR:$TAG" "$IMAGE:$TAG"
fi
"#;

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
    match env.progressive() {
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
    let ms = match env.progressive() {
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

/// A database or cache an integration test stage runs beside the tests,
/// from the service's resources (one row per engine).
#[derive(Clone, Debug, PartialEq)]
pub struct TestService {
    /// The resource's engine word (`postgres`), also the container's alias.
    pub alias: &'static str,
    pub image: &'static str,
    pub port: u16,
    /// The container's own settings.
    pub container_env: &'static [(&'static str, &'static str)],
    /// A command inside the container that succeeds once it serves.
    pub ready: &'static str,
    /// The variable the tests read, and its URL with `{host}` and `{port}`.
    pub var: &'static str,
    pub url: &'static str,
}

impl TestService {
    /// The URL the tests read, reaching the container at `host:port`.
    pub fn url_at(&self, host: &str, port: &str) -> String {
        self.url.replace("{host}", host).replace("{port}", port)
    }
}

/// The engine table of integration test containers.
fn test_service(engine: &Engine) -> Option<TestService> {
    Some(match engine {
        Engine::Postgres => TestService {
            alias: "postgres",
            image: "postgres:16",
            port: 5432,
            // A container that lives as long as the job, reached only from it:
            // no password (none to leak, none for secret scanners to flag).
            container_env: &[
                ("POSTGRES_DB", "test"),
                ("POSTGRES_USER", "test"),
                ("POSTGRES_HOST_AUTH_METHOD", "trust"),
            ],
            ready: "pg_isready -U test -d test",
            var: "DATABASE_URL",
            url: "postgresql://test@{host}:{port}/test",
        },
        Engine::Redis => TestService {
            alias: "redis",
            image: "redis:7",
            port: 6379,
            container_env: &[],
            ready: "redis-cli ping",
            var: "REDIS_URL",
            url: "redis://{host}:{port}/0",
        },
        Engine::MongoDb => TestService {
            alias: "mongo",
            image: "mongo:7",
            port: 27017,
            container_env: &[],
            ready: "mongosh --quiet --eval 'db.runCommand({ ping: 1 })'",
            var: "MONGODB_URL",
            url: "mongodb://{host}:{port}/test",
        },
        // Kafka, queues and buckets have no container here: their tests
        // bring their own (testcontainers) or stub them.
        Engine::Kafka | Engine::Queue | Engine::Bucket => return None,
    })
}

/// The containers an integration test stage of `s` runs beside its tests:
/// one per engine among the resources the service uses, in resource order.
pub fn test_services(model: &Model, s: &crate::model::Service) -> Vec<TestService> {
    let mut out: Vec<TestService> = Vec::new();
    for r in &s.uses {
        if let Some(t) = test_service(&model.resources[r.index()].engine) {
            if !out.iter().any(|o| o.alias == t.alias) {
                out.push(t);
            }
        }
    }
    out
}

/// The suites a toolchain declares beside its unit tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuiteKind {
    Integration,
    Smoke,
    Performance,
}

impl SuiteKind {
    pub fn word(self) -> &'static str {
        match self {
            SuiteKind::Integration => "integration",
            SuiteKind::Smoke => "smoke",
            SuiteKind::Performance => "performance",
        }
    }
    /// The toolchain's commands of this suite.
    pub fn commands(self, tc: &Toolchain) -> &[String] {
        match self {
            SuiteKind::Integration => &tc.integration,
            SuiteKind::Smoke => &tc.smoke,
            SuiteKind::Performance => &tc.performance,
        }
    }
    /// The `after` entry that runs this suite against an environment.
    pub fn hook(self) -> AfterHook {
        match self {
            SuiteKind::Integration => AfterHook::IntegrationTests,
            SuiteKind::Smoke => AfterHook::SmokeTests,
            SuiteKind::Performance => AfterHook::PerformanceTests,
        }
    }
}

/// One service's suite run against a deployed environment: its commands,
/// in its build context, with `BASE_URL` set to its public route.
#[derive(Clone, Debug, PartialEq)]
pub struct Suite {
    pub kind: SuiteKind,
    pub service: ServiceId,
    pub name: String,
    pub dir: String,
    pub base_url: String,
    pub commands: Vec<String>,
    /// Install the toolchain's dependencies first: true for the service's
    /// first suite of a deploy. Its later suites run in the same workspace
    /// (one job, one stage), where the dependencies already are.
    pub install: bool,
}

/// One check after a deploy, in the order the environment's `after` lists them.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// `health_check`: every health URL answers (see [`HEALTH_CHECK`], `$HEALTH_URLS`).
    Health { urls: Vec<String> },
    /// `smoke_tests` for the public services whose toolchain has no `smoke`
    /// commands: every route answers without a server error ([`SMOKE_TESTS`], `$ROUTES`).
    Routes { urls: Vec<String> },
    /// `verification`: the released images run.
    Verification,
    /// A toolchain's suite against the environment.
    Suite(Suite),
}

/// The suites of `kind` an environment runs after a deploy: one per
/// deployed service with a public route whose toolchain declares them
/// (a service without a route has no URL CI can reach: W0013).
pub fn suites(model: &Model, env: &Environment, kind: SuiteKind) -> Vec<Suite> {
    let routes = routes(model, env);
    let mut out = Vec::new();
    for d in &env.deployments {
        let s = model.service(d.service);
        let Some(b) = model.built(s) else { continue };
        let commands = kind.commands(b.toolchain);
        if commands.is_empty() {
            continue;
        }
        if let Some(r) = routes.iter().find(|r| r.service == s.name) {
            out.push(Suite {
                kind,
                service: s.id,
                name: s.name.clone(),
                dir: b.build_context.clone(),
                base_url: r.base.clone(),
                commands: commands.to_vec(),
                install: true,
            });
        }
    }
    out
}

/// The checks after a deploy to `env`, every renderer's list.
pub fn checks(model: &Model, env: &Environment) -> Vec<Check> {
    let routes = routes(model, env);
    let mut out = Vec::new();
    for a in &env.after {
        match a {
            AfterHook::HealthCheck => {
                let urls: Vec<String> = routes.iter().filter_map(|r| r.health.clone()).collect();
                if !urls.is_empty() {
                    out.push(Check::Health { urls });
                }
            }
            AfterHook::SmokeTests => {
                let suites = suites(model, env, SuiteKind::Smoke);
                let urls: Vec<String> = routes
                    .iter()
                    .filter(|r| !suites.iter().any(|s| s.name == r.service))
                    .map(|r| r.base.clone())
                    .collect();
                if !urls.is_empty() {
                    out.push(Check::Routes { urls });
                }
                out.extend(suites.into_iter().map(Check::Suite));
            }
            AfterHook::Verification => out.push(Check::Verification),
            AfterHook::IntegrationTests => {
                out.extend(suites(model, env, SuiteKind::Integration).into_iter().map(Check::Suite))
            }
            AfterHook::PerformanceTests => {
                out.extend(suites(model, env, SuiteKind::Performance).into_iter().map(Check::Suite))
            }
        }
    }
    // Dependencies once per service: its first suite installs them.
    let mut installed = Vec::new();
    for c in &mut out {
        if let Check::Suite(s) = c {
            s.install = !installed.contains(&s.service);
            installed.push(s.service);
        }
    }
    out
}

/// The tag policy's rules in the order CI tries them, most specific first
/// (the GitHub workflows' `priority`): a release tag's semver, branch-sha,
/// sha, latest. The first that applies names `$IMAGE_TAG`; `sha` always
/// applies, so no rule after it is listed.
pub fn tag_order(policy: &[crate::model::TagPolicy]) -> Vec<crate::model::TagPolicy> {
    use crate::model::TagPolicy;
    let rank = |t: &TagPolicy| match t {
        TagPolicy::Semver => 4,
        TagPolicy::BranchSha => 3,
        TagPolicy::Sha => 2,
        TagPolicy::Latest => 1,
    };
    let mut v = policy.to_vec();
    v.sort_by_key(|t| std::cmp::Reverse(rank(t)));
    v.dedup();
    if let Some(i) = v.iter().position(|t| *t == TagPolicy::Sha) {
        v.truncate(i + 1);
    }
    v
}
