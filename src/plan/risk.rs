//! Which releases take the canary, decided once for every CI renderer: an
//! environment with `risk { paths trailer }` runs its canary's steps, its
//! analysis and its approval only for a high-risk release; any other
//! release is promoted in full right after the sync (every rollout at
//! once, as a blue-green switch), and rolled back the same way on failure.
//!
//! A release is high-risk when a file matching one of the paths changed
//! between the source commit the environment last verified and this one,
//! when a commit in between carries the trailer, or when the environment
//! has no verified source commit yet (its first release, or history CI
//! cannot read). The base is the *source* commit of the last verified
//! release, recorded as the tag [`base_tag`] beside `deployc-verified-<env>`
//! (which marks the GitOps commit, on the GitOps branch, whose history also
//! holds changes never released): a failed or rolled-back release never
//! moves it, so its changes still count for the next one.
//!
//! **Invariant:** [`RISK_SH`] reads the program's patterns and trailer from
//! variables only (never from its own text), matches them with `[[ == ]]`
//! (pattern matching, no expansion), and writes `risk=high` unless it has
//! positively found the release low-risk.

use crate::model::{Environment, Model, PipelineProvider, RiskRule, StrategyKind};

/// An environment's risk rule, when its canary depends on it: a canary
/// strategy (E0455) under a CI that renders the rule (Jenkins; elsewhere
/// W0021, and every release takes the canary).
pub fn rule<'m>(model: &Model, env: &'m Environment) -> Option<&'m RiskRule> {
    env.risk.as_ref().filter(|_| {
        matches!(env.progressive(), StrategyKind::Canary { .. }) && model.pipeline.provider == PipelineProvider::Jenkins
    })
}

/// The tag recording the source commit of an environment's last verified
/// release (`deployc-verified-` prefix: CI skips pipelines for it as for the
/// verified tag).
pub fn base_tag(env: &Environment) -> String {
    format!("deployc-verified-{}-source", env.name)
}

/// `$RISK_PATHS` for [`RISK_SH`]: one pattern a line.
pub fn paths_var(rule: &RiskRule) -> String {
    rule.paths.iter().map(|p| format!("{p}\n")).collect()
}

/// Decides the release's risk (bash). Reads `$ENVIRONMENT`, `$remote` (the
/// git remote), `$RISK_PATHS` (one pattern a line, matched by `matches`,
/// `plan::changes::MATCHES_SH`), `$RISK_TRAILER`, `$IGNORED` (files never
/// counted: the environments' folders CD commits tags into), with the
/// release's source commit checked out. Appends `risk=high|low` and
/// `source=<commit>` to `$RISK_OUT`.
pub const RISK_SH: &str = r#"RISK_BASE_TAG="deployc-verified-$ENVIRONMENT-source"
risk=high
source=$(git rev-parse HEAD)
work=$(mktemp -d)
if ! git fetch --quiet --force "$remote" "refs/tags/$RISK_BASE_TAG:refs/tags/$RISK_BASE_TAG" 2> /dev/null < /dev/null; then
  why="$ENVIRONMENT has no verified release yet ($RISK_BASE_TAG)"
elif ! base=$(git rev-parse --verify --quiet "refs/tags/$RISK_BASE_TAG^{commit}") ||
  ! git diff -z --name-only "$base" HEAD > "$work/changed" < /dev/null ||
  ! git log --format='%(trailers:only,unfold)' "$base..HEAD" > "$work/trailers" < /dev/null; then
  why="cannot compare this commit with $RISK_BASE_TAG"
else
  why=""
  while IFS= read -r -d '' f; do
    case "$f" in "$IGNORED"*) continue ;; esac
    while IFS= read -r p; do
      if [ -n "$p" ] && matches "$f" "$p"; then why="$f changed (matches $p)"; break; fi
    done <<< "$RISK_PATHS"
    [ -z "$why" ] || break
  done < "$work/changed"
  if [ -z "$why" ] && [ -n "$RISK_TRAILER" ] && grep -qixF -- "$RISK_TRAILER" "$work/trailers"; then
    why="a commit since $base carries the trailer $RISK_TRAILER"
  fi
  if [ -z "$why" ]; then
    risk=low
    why="no high-risk path changed and no commit carries $RISK_TRAILER since $base"
  fi
fi
rm -rf "$work"
echo "release risk: $risk ($why)"
{
  echo "risk=$risk"
  echo "source=$source"
} >> "$RISK_OUT"
"#;

/// [`RISK_SH`] with the `matches` function it calls.
pub fn risk_script() -> String {
    format!("{}{RISK_SH}", super::changes::MATCHES_SH)
}

/// Reads the decision of [`RISK_SH`] from `$RISK_OUT` into `$RELEASE_RISK`
/// (`high` when the file holds none, or is missing: under `pipefail` too)
/// and `$RISK_SOURCE`.
pub const READ_RISK: &str = r#"RELEASE_RISK=$(sed -n 's/^risk=//p' "$RISK_OUT" 2> /dev/null | tail -n 1 || true)
RISK_SOURCE=$(sed -n 's/^source=//p' "$RISK_OUT" 2> /dev/null | tail -n 1 || true)
[ "$RELEASE_RISK" = low ] || RELEASE_RISK=high
"#;

/// After the sync reached the canary's first pause (or health): a
/// low-risk release promotes each rollout of `$ROLLOUTS` in full and waits
/// until healthy; a high-risk one goes on through the canary's steps,
/// waited for here when `paused` is false (no step waits for a person),
/// else promoted by the approved release step. Argo CD refuses
/// `promote-full` on a rollout already fully promoted (one this release did
/// not change), so a refusal is only reported: the wait fails if a rollout
/// really stayed behind. Reads `$APP`, `$ROLLOUTS`, `$TIMEOUT` and
/// [`READ_RISK`]'s variables.
pub fn finish_sh(paused: bool) -> String {
    let high = if paused {
        "  echo \"high-risk release: the canary waits for its approval\"\n"
    } else {
        "  echo \"high-risk release: the canary runs every step\"\n  argocd app wait \"$APP\" --sync --health --timeout \"$TIMEOUT\"\n"
    };
    format!(
        r#"{READ_RISK}if [ "$RELEASE_RISK" = low ]; then
  echo "low-risk release: promoting every rollout of $APP in full"
  for rollout in $ROLLOUTS; do
    argocd app actions run "$APP" promote-full --kind Rollout --group argoproj.io --resource-name "$rollout" ||
      echo "could not promote the rollout $rollout (fully promoted already?)"
  done
  argocd app wait "$APP" --sync --health --timeout "$TIMEOUT"
else
{high}fi
"#
    )
}

/// Moves [`base_tag`] to the release's source commit (`$RISK_SOURCE`, from
/// [`READ_RISK`]) in `$remote`, after the release was verified.
pub const RECORD_BASE: &str = r#"RISK_BASE_TAG="deployc-verified-$ENVIRONMENT-source"
if [ -z "$RISK_SOURCE" ]; then echo "no release source recorded: $RISK_BASE_TAG stays" >&2; exit 1; fi
git tag --force "$RISK_BASE_TAG" "$RISK_SOURCE"
# As the verified tag (plan::delivery::RECORD_VERIFIED): no push when it is in place.
if [ "$(git ls-remote "$remote" "refs/tags/$RISK_BASE_TAG" | cut -f1)" != "$RISK_SOURCE" ]; then
  git push --force --quiet "$remote" "refs/tags/$RISK_BASE_TAG"
fi
echo "$ENVIRONMENT verified the source $RISK_SOURCE ($RISK_BASE_TAG)"
"#;

/// The approved release step of a paused canary under a risk rule: a
/// high-risk release is promoted now
/// (`plan::delivery::PROMOTE_ROLLOUT`'s command); a low-risk one was
/// promoted after the sync, so this only waits. Reads `$APP`, `$TIMEOUT`
/// and [`READ_RISK`]'s variables.
pub const PROMOTE_SH: &str = r#"if [ "$RELEASE_RISK" = low ]; then
  echo "low-risk release: promoted in full after the sync"
else
  argocd app actions run "$APP" promote-full --kind Rollout --group argoproj.io --all
fi
argocd app wait "$APP" --sync --health --timeout "$TIMEOUT"
"#;
