//! The deploy job of one environment: back up what `before` asks for, set
//! the released tags in the environment's `kustomization.yaml` (the one
//! line per image CD owns), commit and push, let ArgoCD sync and wait until
//! it reports the application synced and healthy (or suspended at a manual
//! rollout pause), run the `after` checks and tell the `notify` integrations.
//!
//! Why the Argo CD CLI rather than `kubectl rollout status`: CD never holds
//! cluster credentials. ArgoCD already applies the tree, runs the PreSync
//! migration hooks and computes health for Deployments and Rollouts alike;
//! a scoped ArgoCD token (`ARGOCD_AUTH_TOKEN`, best kept as an environment
//! secret) can sync and read exactly this project's applications.

use super::steps::{checkout, prepare};
use super::wf::{Concurrency, Environment as GhEnv, Job, Step};
use super::{data, secret_ref, Cx};
use crate::model::{Environment, IntegrationKind, Promotion};
use crate::pins;
use crate::plan::delivery::{
    self, app_name, images, kustomization, rollout_seconds, routes, Backup, Check, Outcome, Suite, READ_TAG, SET_TAG,
};

/// Where the tags an environment receives come from.
pub enum Source<'a> {
    /// The `build` job of the same run.
    Build,
    /// What another environment runs now (a promotion).
    From(&'a Environment),
}

fn argo(s: Step) -> Step {
    s.env("ARGOCD_SERVER", "${{ secrets.ARGOCD_SERVER }}")
        .env("ARGOCD_AUTH_TOKEN", "${{ secrets.ARGOCD_AUTH_TOKEN }}")
        .env("ARGOCD_OPTS", "--grpc-web")
}

/// The git identity of CD's commits and the authenticated remote, for the
/// plan's shell (`$remote`).
const GIT_SETUP: &str = r#"git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
remote="https://x-access-token:${GITHUB_TOKEN}@${GITHUB_SERVER_URL#https://}/${GITHUB_REPOSITORY}.git"
"#;

fn install_argocd() -> Step {
    Step::run(
        "Install the Argo CD CLI",
        r#"cd "$RUNNER_TEMP"
base="https://github.com/argoproj/argo-cd/releases/download/$ARGOCD_VERSION"
curl -sSfL -o argocd-linux-amd64 "$base/argocd-linux-amd64"
curl -sSfL -o cli_checksums.txt "$base/cli_checksums.txt"
grep ' argocd-linux-amd64$' cli_checksums.txt | sha256sum --check --strict
sudo install -m 0755 argocd-linux-amd64 /usr/local/bin/argocd
argocd version --client --short"#,
    )
    .env("ARGOCD_VERSION", pins::tool("argocd"))
}

/// The `after` checks of an environment, reading the released image
/// references from `released` (an expression).
fn checks(cx: &Cx, env: &Environment, released: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for c in delivery::checks(cx.model, env) {
        match c {
            Check::Health { urls } => {
                steps.push(Step::run("Health check", delivery::HEALTH_CHECK).env("HEALTH_URLS", data(&urls.join(" "))))
            }
            Check::Routes { urls } => {
                steps.push(Step::run("Smoke tests", delivery::SMOKE_TESTS).env("ROUTES", data(&urls.join(" "))))
            }
            Check::Verification => {
                steps.push(argo(
                    Step::run(
                        "Verify the released images run",
                        "live=$(argocd app get \"$APP\" --output json | jq -r '.status.summary.images[]?')\necho \"$live\"\nfor ref in $RELEASED; do\n  grep -qxF \"$ref\" <<< \"$live\" || { echo \"::error::$ref is not running in $ENVIRONMENT\"; exit 1; }\ndone",
                    )
                    .env("RELEASED", released),
                ));
            }
            Check::Suite(suite) => steps.extend(suite_steps(cx, &suite)),
        }
    }
    steps
}

/// A toolchain's suite against the deployed environment: its runtime, its
/// dependencies, then each command in its folder with `BASE_URL` set.
fn suite_steps(cx: &Cx, suite: &Suite) -> Vec<Step> {
    let s = cx.model.service(suite.service);
    let Some(b) = cx.model.built(s) else { return Vec::new() };
    // The service's earlier suite in this job set up its runtime and dependencies.
    let prepared = if suite.install { prepare(b.toolchain, s, false) } else { Vec::new() };
    let mut v: Vec<Step> = prepared
        .into_iter()
        .map(|mut st| {
            if st.uses.is_none() {
                st.name = format!("Install {} dependencies", suite.name);
            }
            st
        })
        .collect();
    for c in &suite.commands {
        v.push(
            Step::run(format!("{} tests of {}: {c}", title(suite.kind.word()), suite.name), c.clone())
                .dir(&suite.dir)
                .env("BASE_URL", data(&suite.base_url)),
        );
    }
    v
}

fn title(w: &str) -> String {
    let mut c = w.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Records the verified release (`head`, an expression): the last step
/// before the success messages.
/// The Sentry release of a verified deploy (`delivery::sentry_release`):
/// sentry-cli from PyPI on the runner's Python, one release per deployed tag.
fn sentry_release(cx: &Cx, released: &str) -> Vec<Step> {
    let Some(r) = delivery::sentry_release(cx.model) else { return Vec::new() };
    vec![
        Step::uses("Set up Python for sentry-cli", "actions/setup-python").with("python-version", "3.12"),
        Step::run("Create the Sentry release", delivery::SENTRY_RELEASE_SH)
            .env("RELEASED", released)
            .env("SENTRY_CLI_VERSION", pins::tool("sentry-cli"))
            .env("SENTRY_ORG", data(&r.org))
            .env("SENTRY_PROJECT", data(&r.project))
            .env("SENTRY_AUTH_TOKEN", secret_ref(&r.token)),
    ]
}

fn record_verified(env: &Environment, head: &str) -> Step {
    Step::run(
        format!("Record the verified release of {}", env.name),
        format!("{GIT_SETUP}{}", delivery::RECORD_VERIFIED),
    )
    .env("VERIFIED_TAG", delivery::verified_tag(env))
    .env("VERIFIED_COMMIT", head)
    .env("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}")
}

/// Reverts the release commit (`commit`, a bare expression such as
/// `steps.release.outputs.commit`) when a step failed.
fn rollback(cx: &Cx, env: &Environment, commit: &str) -> Step {
    argo(
        Step::run(
            format!("Roll {} back (abort, revert the release commit)", env.name),
            format!("{GIT_SETUP}{}", delivery::ROLLBACK),
        )
        .when(&format!("${{{{ failure() && {commit} != '' }}}}"))
        .env("DEPLOY_COMMIT", format!("${{{{ {commit} }}}}"))
        .env("BRANCH", cx.gitops_branch())
        .env("ROLLOUTS", delivery::rollouts(cx.model, env).join(" "))
        .env("AUTO_SYNC", matches!(env.promote, Promotion::OnPush(_)).to_string())
        .env("TIMEOUT", rollout_seconds(env).to_string())
        .env("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}"),
    )
}

/// The deploy job of `env`.
pub fn job(cx: &Cx, env: &Environment, source: Source) -> Job {
    let m = cx.model;
    let app = app_name(cx.model, env);
    let routes = routes(cx.model, env);
    // The environment's link in GitHub: the site root when a service serves it.
    let url = routes.iter().find(|r| r.base.matches('/').count() == 2).or(routes.first()).map(|r| data(&r.base));
    let name = match &source {
        Source::Build => format!("Deploy to {}", env.name),
        Source::From(f) => format!("Promote {} to {}", f.name, env.name),
    };
    let mut job = Job::new(name);
    job.environment = Some(GhEnv { name: env.name.clone(), url });
    job.concurrency =
        Some(Concurrency { group: format!("deploy-{}-{}", m.project.name, env.name), cancel_in_progress: false });
    let wait = rollout_seconds(env);
    job = job.timeout((wait / 60) as u32 * 2 + 30);
    job.env.insert("APP".into(), app.clone());
    job.env.insert("ENVIRONMENT".into(), env.name.clone());
    job.env.insert("KUSTOMIZATION".into(), kustomization(cx.model, env));
    for o in ["released", "commit", "head"] {
        job.outputs.insert(o.into(), format!("${{{{ steps.release.outputs.{o} }}}}"));
    }

    let mut steps = vec![checkout().with("ref", cx.gitops_branch()).with("fetch-depth", 0), install_argocd()];

    // before: managed snapshots, in the order the program lists the
    // resources. In-cluster backups are Sync hooks of the release itself.
    let mut aws = false;
    let mut hooks = Vec::new();
    for b in delivery::backups(m, env) {
        match b {
            Backup::Hook { resource, job } => hooks.push((resource, job)),
            Backup::Snapshot { resource, id, script } => {
                if !aws {
                    aws = true;
                    let role = match crate::plan::identity::account(m) {
                        Some(a) => crate::plan::identity::role_arn(a, &crate::plan::identity::deploy_role(m, env)),
                        None => "${{ vars.AWS_DEPLOY_ROLE_ARN }}".to_string(),
                    };
                    steps.push(
                        Step::uses("Assume the deploy role (OIDC)", "aws-actions/configure-aws-credentials")
                            .with("role-to-assume", role)
                            .with("aws-region", delivery::aws_region(m)),
                    );
                }
                steps.push(
                    Step::run(format!("Back up {resource} (snapshot)"), script)
                        .env("ID", id.clone())
                        .env("SNAPSHOT", format!("{id}-predeploy-${{{{ github.run_id }}}}")),
                );
            }
        }
    }

    // The release: the tags, the commit, the push.
    let mut release = Step::run(
        match &source {
            Source::Build => format!("Release the new images to {}", env.name),
            Source::From(f) => format!("Release what {} verified to {}", f.name, env.name),
        },
        String::new(),
    )
    .id("release")
    .env("IMAGES", data(&images(cx.model, env).join(" ")))
    .env("BRANCH", cx.gitops_branch())
    .env("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}");
    let pick = match &source {
        Source::Build => {
            release = release.env("TAG", "${{ needs.build.outputs.tag }}");
            let check = r#"case "$TAG" in
  "") echo "::error::the tag policy gives no image tag for $GITHUB_REF"; exit 1 ;;
  latest) echo "::error::refusing to deploy the mutable tag latest"; exit 1 ;;
esac
"#;
            if cx.model.pipeline.incremental {
                // The images this run built get its tag; the others keep the
                // tag the scope job found deployed and in the registry.
                let scope = super::cd::SCOPE;
                release = release
                    .env("BUILT", format!("${{{{ needs.{scope}.outputs.built }}}}"))
                    .env("KEPT", format!("${{{{ needs.{scope}.outputs.kept }}}}"));
                format!("{check}{}", crate::plan::changes::release_sh("$TAG"))
            } else {
                format!(
                    "{check}released=\"\"\nfor image in $IMAGES; do\n  set_tag \"$KUSTOMIZATION\" \"$image\" \"$TAG\"\n  released=\"$released $image:$TAG\"\ndone\n"
                )
            }
        }
        Source::From(f) => {
            release = release
                .env("SOURCE", kustomization(cx.model, f))
                .env("SOURCE_ENVIRONMENT", f.name.clone())
                .env("SOURCE_TAG", delivery::verified_tag(f));
            format!(
                "{READ_TAG}SOURCE_FILE=\"$RUNNER_TEMP/source-kustomization.yaml\"\n{}released=\"\"\nfor image in $IMAGES; do\n  tag=$(tag_of \"$SOURCE_FILE\" \"$image\")\n  if [ -z \"$tag\" ]; then echo \"::error::{} verified no tag of $image\"; exit 1; fi\n  set_tag \"$KUSTOMIZATION\" \"$image\" \"$tag\"\n  released=\"$released $image:$tag\"\ndone\n",
                delivery::READ_VERIFIED,
                f.name
            )
        }
    };
    release.run = Some(format!(
        "{GIT_SETUP}RELEASE_OUT=\"$GITHUB_OUTPUT\"\n{SET_TAG}{pick}echo \"released=${{released# }}\" >> \"$GITHUB_OUTPUT\"\nexport RELEASED=\"${{released# }}\"\n{}",
        delivery::COMMIT_RELEASE
    ));
    steps.push(release);

    // Sync and wait.
    let auto = matches!(env.promote, Promotion::OnPush(_));
    let migrations = env.before.iter().any(|b| b == "migrations")
        && env.deployments.iter().any(|d| m.service(d.service).migrations.is_some());
    let start = if auto {
        // Automatic sync is on for this application: ask ArgoCD to look at
        // the repository now instead of at its next poll.
        "argocd app get \"$APP\" --refresh > /dev/null"
    } else {
        "argocd app sync \"$APP\" --async"
    };
    let paused = delivery::outcome(env) == Outcome::AwaitingPromotion;
    let flags = if paused { "--sync --health --suspended --operation" } else { "--sync --health --operation" };
    let mut wait_name = "Sync and wait until healthy".to_string();
    match (hooks.is_empty(), migrations) {
        (true, false) => {}
        (true, true) => wait_name = "Sync (PreSync migration jobs first) and wait until healthy".into(),
        (false, false) => wait_name = "Sync (the backup jobs first) and wait until healthy".into(),
        (false, true) => wait_name = "Sync (backup, then migration jobs first) and wait until healthy".into(),
    }
    if paused {
        wait_name.push_str(" or paused for promotion");
    }
    steps.push(argo(
        Step::run(wait_name, format!("{start}\nargocd app wait \"$APP\" {flags} --timeout \"$TIMEOUT\""))
            .env("TIMEOUT", wait.to_string()),
    ));
    for (resource, job) in hooks {
        steps.push(argo(
            Step::run(format!("Check the pre-deploy backup of {resource} ran"), delivery::CHECK_BACKUP_HOOK)
                .env("JOB", job),
        ));
    }

    let released = "${{ steps.release.outputs.released }}";
    let commit = "steps.release.outputs.commit";
    let (what, verified) = match (&source, paused) {
        (Source::Build, false) => (format!("deployed to {}", env.name), true),
        (Source::From(f), false) => (format!("promoted from {} to {}", f.name, env.name), true),
        (Source::Build, true) => (format!("released to {} (awaiting promotion)", env.name), false),
        (Source::From(f), true) => (format!("released from {} to {} (awaiting promotion)", f.name, env.name), false),
    };
    if verified {
        steps.extend(checks(cx, env, released));
        steps.push(record_verified(env, "${{ steps.release.outputs.head }}"));
        steps.extend(sentry_release(cx, released));
    } else {
        steps.push(Step::run(
            "Awaiting promotion",
            "echo \"::notice::$ENVIRONMENT runs the new version beside the old one, paused: the next job promotes it once approved\"",
        ));
    }
    steps.push(rollback(cx, env, commit));
    steps.extend(notifications(cx, env, &what, released, verified, commit));
    steps.push(summary(released));
    job.steps = steps;
    let mut perms = vec![("contents", "write")];
    if aws {
        perms.push(("id-token", "write"));
    }
    job.permissions(&perms)
}

fn summary(released: &str) -> Step {
    Step::run(
        "Summary",
        "{\n  echo \"### $ENVIRONMENT\"\n  echo\n  echo \"Argo CD application \\`$APP\\`\"\n  for ref in $RELEASED; do echo \"- \\`$ref\\`\"; done\n} >> \"$GITHUB_STEP_SUMMARY\"",
    )
    .when("${{ !cancelled() }}")
    .env("RELEASED", released)
}

/// The job that finishes a release paused for promotion (the plan's
/// [`Outcome::AwaitingPromotion`]): behind the GitHub environment's
/// reviewers it promotes the paused rollout to all traffic, runs the
/// `after` checks, records the verified release and only then reports it;
/// a failure aborts the rollout and reverts the release commit. `None` for
/// environments whose deploy job finishes the release itself.
pub fn release_job(cx: &Cx, env: &Environment, deploy_job: &str) -> Option<Job> {
    if delivery::outcome(env) != Outcome::AwaitingPromotion {
        return None;
    }
    let m = cx.model;
    let mut job = Job::new(format!("Promote the paused rollout in {}", env.name));
    job.needs = vec![deploy_job.to_string()];
    job.environment = Some(GhEnv { name: env.name.clone(), url: None });
    job.concurrency =
        Some(Concurrency { group: format!("release-{}-{}", m.project.name, env.name), cancel_in_progress: false });
    let wait = rollout_seconds(env);
    job = job.timeout((wait / 60) as u32 * 2 + 30);
    job.env.insert("APP".into(), app_name(m, env));
    job.env.insert("ENVIRONMENT".into(), env.name.clone());
    let out = |o: &str| format!("needs.{deploy_job}.outputs.{o}");
    let released = format!("${{{{ {} }}}}", out("released"));
    let mut steps = vec![checkout().with("ref", cx.gitops_branch()).with("fetch-depth", 0), install_argocd()];
    steps.push(argo(Step::run("Promote to all traffic", delivery::PROMOTE_ROLLOUT).env("TIMEOUT", wait.to_string())));
    steps.extend(checks(cx, env, &released));
    steps.push(record_verified(env, &format!("${{{{ {} }}}}", out("head"))));
    steps.extend(sentry_release(cx, &released));
    steps.push(rollback(cx, env, &out("commit")));
    steps.extend(notifications(cx, env, &format!("released to {}", env.name), &released, true, &out("commit")));
    steps.push(summary(&released));
    job.steps = steps;
    Some(job.permissions(&[("contents", "write")]))
}

/// Messages to the environment's `notify` integrations, on success and on failure.
fn notifications(cx: &Cx, env: &Environment, what: &str, released: &str, success: bool, commit: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let what = format!("{}: {what}", cx.model.project.name);
    let rolled_back = format!("${{{{ failure() && {commit} != '' }}}}");
    for id in &env.notify {
        let i = &cx.model.integrations[id.index()];
        match &i.kind {
            IntegrationKind::Slack { channel, webhook, events } => {
                let script = "run_url=\"$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID\"\npayload=$(jq -n --arg channel \"$CHANNEL\" --arg text \"$TEXT $RELEASED ($run_url)\" '{channel: $channel, text: $text}')\ncurl --fail --silent --show-error -X POST -H 'Content-Type: application/json' --data \"$payload\" \"$SLACK_WEBHOOK_URL\"";
                if success && delivery::notify_success(events, env) {
                    out.push(
                        Step::run(format!("Tell Slack ({})", i.name), script)
                            .when("${{ success() }}")
                            .env("SLACK_WEBHOOK_URL", secret_ref(webhook))
                            .env("CHANNEL", data(channel))
                            .env("TEXT", format!(":white_check_mark: {what}:"))
                            .env("RELEASED", released),
                    );
                }
                if delivery::notify_failure(events) {
                    out.push(
                        Step::run(format!("Tell Slack about the failure ({})", i.name), script)
                            .when("${{ failure() }}")
                            .env("SLACK_WEBHOOK_URL", secret_ref(webhook))
                            .env("CHANNEL", data(channel))
                            .env("TEXT", format!(":x: {what} failed:"))
                            .env("RELEASED", released),
                    );
                }
                if delivery::notify_rollback(events) {
                    out.push(
                        Step::run(format!("Tell Slack about the rollback ({})", i.name), script)
                            .when(&rolled_back)
                            .env("SLACK_WEBHOOK_URL", secret_ref(webhook))
                            .env("CHANNEL", data(channel))
                            .env("TEXT", format!(":rewind: {what} failed its checks and was rolled back:"))
                            .env("RELEASED", released),
                    );
                }
            }
            IntegrationKind::Jira { url, project: key, token } if success => {
                out.push(
                    Step::run(
                        format!("Record the deployment in Jira ({})", i.name),
                        "# JIRA_AUTH holds user-email:api-token (Jira Cloud basic authentication).\npayload=$(jq -n --arg key \"$JIRA_PROJECT\" --arg summary \"$TEXT\" --arg body \"Released: $RELEASED. Run: $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID\" '{fields: {project: {key: $key}, issuetype: {name: \"Task\"}, summary: $summary, description: $body, labels: [\"deployment\"]}}')\ncurl --fail --silent --show-error -u \"$JIRA_AUTH\" -H 'Content-Type: application/json' --data \"$payload\" \"$JIRA_URL/rest/api/2/issue\"",
                    )
                    .when("${{ success() }}")
                    .env("JIRA_URL", data(url.trim_end_matches('/')))
                    .env("JIRA_PROJECT", data(key))
                    .env("JIRA_AUTH", secret_ref(token))
                    .env("TEXT", what.clone())
                    .env("RELEASED", released),
                );
            }
            IntegrationKind::PagerDuty { routing_key, severity } => {
                out.push(
                    Step::run(
                        format!("Page on failure ({})", i.name),
                        "payload=$(jq -n --arg key \"$ROUTING_KEY\" --arg summary \"$TEXT\" --arg severity \"$SEVERITY\" '{routing_key: $key, event_action: \"trigger\", payload: {summary: $summary, source: \"github-actions\", severity: $severity}}')\ncurl --fail --silent --show-error -H 'Content-Type: application/json' --data \"$payload\" https://events.pagerduty.com/v2/enqueue",
                    )
                    .when("${{ failure() }}")
                    .env("ROUTING_KEY", secret_ref(routing_key))
                    .env("SEVERITY", data(severity))
                    .env("TEXT", format!("{what} failed")),
                );
            }
            IntegrationKind::Datadog { site, api_key, .. } => {
                out.push(
                    Step::run(
                        format!("Send a deployment event to Datadog ({})", i.name),
                        "if [ \"$JOB_STATUS\" = success ]; then alert=success; else alert=error; fi\npayload=$(jq -n --arg title \"$TEXT ($JOB_STATUS)\" --arg text \"$RELEASED\" --arg alert \"$alert\" --arg env \"env:$ENVIRONMENT\" '{title: $title, text: $text, alert_type: $alert, tags: [$env, \"source:github-actions\"]}')\ncurl --fail --silent --show-error -H 'Content-Type: application/json' -H \"DD-API-KEY: $DD_API_KEY\" --data \"$payload\" \"https://api.$DD_SITE/api/v1/events\"",
                    )
                    .when(if success { "${{ !cancelled() }}" } else { "${{ failure() }}" })
                    .env("DD_SITE", data(site))
                    .env("DD_API_KEY", secret_ref(api_key))
                    .env("JOB_STATUS", "${{ job.status }}")
                    .env("TEXT", what.clone())
                    .env("RELEASED", released),
                );
            }
            IntegrationKind::NewRelic { account_id, api_key, region } if success => {
                let host = if region == "eu" { "api.eu.newrelic.com" } else { "api.newrelic.com" };
                let services: Vec<String> =
                    env.deployments.iter().map(|d| cx.model.service(d.service).name.clone()).collect();
                out.push(
                    Step::run(
                        format!("Mark the deployment in New Relic ({})", i.name),
                        r#"# A change-tracking deployment marker on each service's APM entity.
version="${RELEASED##*:}"
for service in $SERVICES; do
  query=$(jq -n --arg q "name = '$service' AND domain = 'APM' AND accountId = $NEW_RELIC_ACCOUNT" '{query: "query($q: String!) { actor { entitySearch(query: $q) { results { entities { guid } } } } }", variables: {q: $q}}')
  guid=$(curl --fail --silent --show-error -H 'Content-Type: application/json' -H "API-Key: $NEW_RELIC_API_KEY" --data "$query" "https://$NEW_RELIC_API/graphql" | jq -r '.data.actor.entitySearch.results.entities[0].guid // empty')
  if [ -z "$guid" ]; then echo "::warning::no New Relic APM entity named $service"; continue; fi
  mutation=$(jq -n --arg guid "$guid" --arg version "$version" '{query: "mutation($guid: EntityGuid!, $version: String!) { changeTrackingCreateDeployment(deployment: {entityGuid: $guid, version: $version}) { deploymentId } }", variables: {guid: $guid, version: $version}}')
  curl --fail --silent --show-error -H 'Content-Type: application/json' -H "API-Key: $NEW_RELIC_API_KEY" --data "$mutation" "https://$NEW_RELIC_API/graphql" > /dev/null
done"#,
                    )
                    .when("${{ success() }}")
                    .env("NEW_RELIC_API", host)
                    .env("NEW_RELIC_ACCOUNT", data(account_id))
                    .env("NEW_RELIC_API_KEY", secret_ref(api_key))
                    .env("SERVICES", services.join(" "))
                    .env("RELEASED", released),
                );
            }
            IntegrationKind::Jira { .. }
            | IntegrationKind::NewRelic { .. }
            | IntegrationKind::Sentry { .. }
            | IntegrationKind::Codecov { .. }
            | IntegrationKind::Opsgenie { .. } => {}
        }
    }
    out
}
