//! What one CD run deploys and builds, decided once for every CI renderer:
//! which automatically deployed environments the ref reaches (matched
//! exactly, with the same regexes GitLab uses — a GitHub expression cannot
//! glob, so `release/*` there also admits `release/a/b`), and, with
//! `pipeline { incremental = true }`, which services it builds.
//!
//! **Incremental builds.** A service is left unbuilt only when every
//! environment this run deploys already runs one tag of its image, that tag
//! exists in the registry, the image records the commit it was built from
//! (`org.opencontainers.image.revision`, which every build sets), that
//! commit is in the clone's history, and no file of the service's build
//! context, nor a shared file (the program, root lockfiles and manifests,
//! the CI's own files), changed between that commit and this one. The
//! deploy then keeps that tag. Anything unknown — a first build, a tag the
//! registry lacks, an image without the label, environments that disagree,
//! a rewritten history, a ref that deploys nothing — builds the service.
//! The base is the deployed image's own commit, not the previous push,
//! CI's last deploy commit or Jenkins' changeset, so a failed or
//! rolled-back release, a re-run or a branch's first build cannot leave a
//! change unbuilt.
//!
//! **Invariant:** a deploy sets every image either to the tag this run
//! pushed or to a tag this run found in the registry ([`RELEASE_SH`]
//! refuses anything else), so nothing points at a tag that was not pushed.

use super::delivery::{gitops_path, kustomization, READ_TAG};
use super::env::image_repository;
use crate::model::{Model, PipelineProvider, Promotion};

/// One service CI may build: its image repository and the paths whose
/// change rebuilds it (its build context, and its Dockerfile when that lies
/// outside the context).
#[derive(Clone, Debug, PartialEq)]
pub struct Watched {
    pub service: String,
    pub image: String,
    pub paths: Vec<String>,
}

/// The services CI builds, in the model's order.
pub fn watched(model: &Model) -> Vec<Watched> {
    model
        .built_services()
        .map(|s| {
            let context = norm(&s.build_context);
            let mut paths = vec![context.clone()];
            let dockerfile = norm(&s.dockerfile);
            if !under(&dockerfile, &context) {
                paths.push(dockerfile);
            }
            Watched { service: s.name.clone(), image: image_repository(model, &s.image), paths }
        })
        .collect()
}

fn norm(p: &str) -> String {
    let p = p.trim_start_matches("./").trim_matches('/');
    if p.is_empty() {
        ".".into()
    } else {
        p.to_string()
    }
}

fn under(file: &str, dir: &str) -> bool {
    dir == "." || file == dir || file.starts_with(&format!("{dir}/"))
}

/// Root files whose change rebuilds every service: workspace manifests and
/// lockfiles a build context may read through the workspace.
const ROOT_FILES: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "go.mod",
    "go.sum",
    "go.work",
    "go.work.sum",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "requirements*.txt",
    "Cargo.lock",
    "pom.xml",
    "build.gradle*",
    "settings.gradle*",
    "gradle.lockfile",
    ".dockerignore",
];

/// Glob patterns (bash `[[ == ]]`; one without `/` matches root files
/// only, `*` in one with `/` also crosses `/`) of the files whose change
/// rebuilds every service: the program (any `.dpl`), the root's lockfiles
/// and manifests, and the CI's own files.
pub fn shared(model: &Model) -> Vec<String> {
    let mut v: Vec<String> = vec!["*.dpl".into(), "*/*.dpl".into()];
    v.extend(ROOT_FILES.iter().map(|s| s.to_string()));
    let tree = gitops_path(model);
    match model.pipeline.provider {
        PipelineProvider::GithubActions => {
            let dir = model.pipeline.workflows_dir.trim_matches('/');
            v.push(".github/workflows/*".into());
            v.push(format!("{tree}{dir}/*"));
        }
        PipelineProvider::Jenkins => {
            v.push("Jenkinsfile".into());
            v.push(format!("{tree}jenkins/*"));
        }
        PipelineProvider::Gitlab => {
            v.push(".gitlab-ci.yml".into());
            v.push(format!("{tree}.gitlab-ci.yml"));
        }
    }
    let mut out = Vec::new();
    for p in v {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Files never counted as a change: the environments' folders CD commits
/// tags into (a deploy commit changes no source).
pub fn ignored(model: &Model) -> String {
    format!("{}k8s/", gitops_path(model))
}

/// Whether a ref is a branch or a tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

impl RefKind {
    pub fn word(self) -> &'static str {
        match self {
            RefKind::Branch => "branch",
            RefKind::Tag => "tag",
        }
    }
}

/// An automatically deployed environment: the refs that deploy it (as
/// anchored regexes, `plan::branches::regex`) and its kustomization.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub env: String,
    pub kustomization: String,
    pub refs: Vec<(RefKind, String)>,
}

/// The environments CD deploys on a push, in promotion order.
pub fn routes(model: &Model) -> Vec<Route> {
    model
        .environments
        .iter()
        .filter_map(|e| {
            let refs: Vec<(RefKind, String)> = match &e.promote {
                Promotion::OnPush(bs) => bs.iter().map(|b| (RefKind::Branch, super::branches::regex(b))).collect(),
                Promotion::OnTag(t) => vec![(RefKind::Tag, super::branches::regex(t))],
                Promotion::Manual { .. } => return None,
            };
            Some(Route { env: e.name.clone(), kustomization: kustomization(model, e), refs })
        })
        .collect()
}

/// `$ROUTES` for [`SCOPE_SH`]: one `env kind regex` line per ref.
pub fn routes_var(model: &Model) -> String {
    let mut out = String::new();
    for r in routes(model) {
        for (kind, re) in &r.refs {
            out.push_str(&format!("{} {} {re}\n", r.env, kind.word()));
        }
    }
    out
}

/// `$KUSTOMIZATIONS` for [`SCOPE_SH`]: one `env path` line per environment.
pub fn kustomizations_var(model: &Model) -> String {
    routes(model).iter().map(|r| format!("{} {}\n", r.env, r.kustomization)).collect()
}

/// `$SERVICES` for [`SCOPE_SH`]: one `service image path…` line per service.
pub fn services_var(model: &Model) -> String {
    watched(model).iter().map(|w| format!("{} {} {}\n", w.service, w.image, w.paths.join(" "))).collect()
}

/// `$SHARED` for [`SCOPE_SH`]: [`shared`], one pattern a line.
pub fn shared_var(model: &Model) -> String {
    shared(model).iter().map(|p| format!("{p}\n")).collect()
}

/// Decides what the run deploys and builds (bash). Reads `$REF_KIND`
/// (`branch`, `tag` or empty), `$REF_NAME`, `$ROUTES`, and, when
/// `$INCREMENTAL` is `true`, `$SERVICES`, `$SHARED`, `$IGNORED`,
/// `$KUSTOMIZATIONS` and `$GITOPS_REF` (the revision holding the deployed
/// kustomizations). Appends to `$SCOPE_OUT`: `deploy-<env>=true|false` per
/// environment, `deploys=<envs>`, and `build=<services>`,
/// `built=<images>`, `kept=<image:tag…>`. `docker buildx imagetools` reads
/// the registry (logged in), `jq` its JSON; `git` needs the full history.
pub const SCOPE_SH: &str = r#"deploys=""
while read -r env kind re; do
  [ -n "$env" ] || continue
  case " $deploys " in *" $env "*) continue ;; esac
  if [ "$REF_KIND" = "$kind" ] && [[ $REF_NAME =~ $re ]]; then deploys="$deploys $env"; fi
done <<< "$ROUTES"
deploys="${deploys# }"
while read -r env kind re; do
  [ -n "$env" ] || continue
  case " $deploys " in *" $env "*) echo "deploy-$env=true" ;; *) echo "deploy-$env=false" ;; esac
done <<< "$ROUTES" | sort -u >> "$SCOPE_OUT"
echo "deploys=$deploys" >> "$SCOPE_OUT"
echo "this run deploys: ${deploys:-no environment}"
[ "$INCREMENTAL" = true ] || exit 0
set -o pipefail
image_revision() {
  # The commit an image was built from, as its build labelled it; the
  # first platform's for a multi-platform image.
  docker buildx imagetools inspect "$1" --format '{{json .Image}}' < /dev/null |
    jq -r 'if has("config") then . else ([.[]] | first) end | .config.Labels["org.opencontainers.image.revision"] // empty'
}
work=$(mktemp -d)
build=""
built=""
kept=""
while read -r service image paths; do
  [ -n "$service" ] || continue
  why=""
  tag=""
  if [ -z "$deploys" ]; then why="this ref deploys no environment"; fi
  for env in $deploys; do
    [ -z "$why" ] || break
    file=$(awk -v env="$env" '$1 == env { print $2 }' <<< "$KUSTOMIZATIONS")
    if [ -z "$file" ] || ! git show "$GITOPS_REF:$file" > "$work/kustomization.yaml" 2> /dev/null < /dev/null; then
      why="$env's kustomization is not at $GITOPS_REF"
      break
    fi
    t=$(tag_of "$work/kustomization.yaml" "$image")
    # An environment that does not deploy the service has no say.
    [ -n "$t" ] || continue
    if [ -n "$tag" ] && [ "$t" != "$tag" ]; then
      why="the environments run different tags ($tag, $t)"
    else
      tag="$t"
    fi
  done
  if [ -z "$why" ] && [ -z "$tag" ]; then why="no environment this run deploys runs $image"; fi
  rev=""
  if [ -z "$why" ] && ! rev=$(image_revision "$image:$tag"); then why="$image:$tag is not in the registry"; fi
  if [ -z "$why" ] && [ -z "$rev" ]; then why="$image:$tag records no source revision"; fi
  if [ -z "$why" ] && ! git cat-file -e "$rev^{commit}" 2> /dev/null; then why="$image:$tag was built from $rev, which this history lacks"; fi
  if [ -z "$why" ]; then
    if ! git diff --name-only "$rev" HEAD > "$work/changed" < /dev/null; then why="cannot compare $rev with HEAD"; fi
  fi
  if [ -z "$why" ]; then
    while IFS= read -r f; do
      [ -n "$f" ] || continue
      case "$f" in "$IGNORED"*) continue ;; esac
      while IFS= read -r p; do
        if [ -n "$p" ] && matches "$f" "$p"; then why="$f changed (shared)"; break; fi
      done <<< "$SHARED"
      [ -z "$why" ] || break
      for p in $paths; do
        if [ "$p" = . ] || [ "$f" = "$p" ] || [[ $f == "$p"/* ]]; then why="$f changed"; break; fi
      done
      [ -z "$why" ] || break
    done < "$work/changed"
  fi
  if [ -n "$why" ]; then
    echo "build $service: $why"
    build="$build $service"
    built="$built $image"
  else
    echo "keep $service at $image:$tag (nothing it is built from changed since $rev)"
    kept="$kept $image:$tag"
  fi
done <<< "$SERVICES"
rm -rf "$work"
{
  echo "build=${build# }"
  echo "built=${built# }"
  echo "kept=${kept# }"
} >> "$SCOPE_OUT"
"#;

/// `matches FILE PATTERN`: whether a changed file matches a [`shared`]
/// pattern (bash).
pub const MATCHES_SH: &str = r#"matches() {
  # Whether the file $1 matches the shared pattern $2.
  case $2 in
    */*) [[ $1 == $2 ]] ;;
    *) [[ $1 != */* && $1 == $2 ]] ;;
  esac
}
"#;

/// [`SCOPE_SH`] with the `tag_of` and `matches` functions it calls.
pub fn scope_script() -> String {
    format!("{READ_TAG}{MATCHES_SH}{SCOPE_SH}")
}

/// A pull request's changed files by the services they rebuild, as
/// [`SCOPE_SH`] decides for incremental builds (bash). Reads `$BASE_SHA`
/// (the pull request's base), `$SERVICES`, `$SHARED` and `$IGNORED`, with
/// the merge commit checked out and the history fetched. Writes a table to
/// `$SUMMARY` (the job summary), the added, copied, modified or renamed
/// files to `changed-files.txt`, and `services=<rebuilt services>` to
/// `$OUT`. File names are the contributor's: the summary shows them in code
/// spans with the characters that could end one replaced.
pub const PR_FILES_SH: &str = r####"set -o pipefail
git diff --name-only --diff-filter=ACMR "$BASE_SHA" HEAD > changed-files.txt < /dev/null
git diff --name-only "$BASE_SHA" HEAD > all-changed.txt < /dev/null
total=$(grep -c . all-changed.txt || true)
shared=""
while IFS= read -r f; do
  [ -n "$f" ] || continue
  case "$f" in "$IGNORED"*) continue ;; esac
  while IFS= read -r p; do
    if [ -n "$p" ] && matches "$f" "$p"; then shared="$f"; break; fi
  done <<< "$SHARED"
  [ -z "$shared" ] || break
done < all-changed.txt
show() { printf '`%s`' "$(printf '%s' "$1" | tr '`|<>
' '??????')"; }
rebuilt=""
{
  echo "### Changed files by service"
  echo
  echo "$total files changed."
  if [ -n "$shared" ]; then echo; echo "A shared file changed ($(show "$shared")): every service rebuilds."; fi
  echo
  echo "| service | files changed | e.g. |"
  echo "|---|---|---|"
  while read -r service image paths; do
    [ -n "$service" ] || continue
    n=0
    first=""
    while IFS= read -r f; do
      [ -n "$f" ] || continue
      for p in $paths; do
        if [ "$p" = . ] || [ "$f" = "$p" ] || [[ $f == "$p"/* ]]; then
          n=$((n + 1))
          [ -n "$first" ] || first="$f"
          break
        fi
      done
    done < all-changed.txt
    if [ "$n" -gt 0 ] || [ -n "$shared" ]; then rebuilt="$rebuilt $service"; fi
    echo "| $service | $n | $([ -n "$first" ] && show "$first") |"
  done <<< "$SERVICES"
} >> "$SUMMARY"
echo "services=${rebuilt# }" >> "$OUT"
echo "rebuilt:${rebuilt:- none}"
"####;

/// Reads a scope written to the file `$SCOPE_FILE` (Jenkins, GitLab) into
/// `$BUILD`, `$BUILT` and `$KEPT`; fails when the file is missing.
pub const READ_SCOPE: &str = r#"BUILD=$(sed -n 's/^build=//p' "$SCOPE_FILE")
BUILT=$(sed -n 's/^built=//p' "$SCOPE_FILE")
KEPT=$(sed -n 's/^kept=//p' "$SCOPE_FILE")
"#;

/// Whether `$SERVICE` is in the scope's `$BUILD`; a push step that is not
/// stops here, successfully.
pub const SKIP_UNCHANGED: &str = r#"case " $BUILD " in
  *" $SERVICE "*) ;;
  *) echo "$SERVICE: nothing it is built from changed; its deployed image stays"; exit 0 ;;
esac
"#;

/// `released_tag IMAGE`: the tag a deploy sets for an image — the tag this
/// run pushed (the variable named by the renderer) for an image of
/// `$BUILT`, else its tag in `$KEPT`, which the scope found in the
/// registry; fails for an image in neither.
pub fn released_tag_sh(tag_var: &str) -> String {
    format!(
        r#"released_tag() {{
  case " $BUILT " in *" $1 "*) echo "{tag_var}"; return 0 ;; esac
  for ref in $KEPT; do
    if [ "${{ref%:*}}" = "$1" ]; then echo "${{ref##*:}}"; return 0; fi
  done
  echo "$1 was neither built by this run nor found in the registry at its deployed tag" >&2
  return 1
}}
"#
    )
}

/// Sets every image of `$IMAGES` in `$KUSTOMIZATION` to its
/// `released_tag` ([`released_tag_sh`]); leaves `$released`.
pub fn release_sh(tag_var: &str) -> String {
    format!(
        r#"{}released=""
for image in $IMAGES; do
  tag=$(released_tag "$image") || exit 1
  set_tag "$KUSTOMIZATION" "$image" "$tag"
  released="$released $image:$tag"
done
"#,
        released_tag_sh(tag_var)
    )
}

/// The `verification` check with incremental builds: each image of
/// `$IMAGES` runs at its `released_tag`, by Argo CD's summary of `$APP`.
pub fn verify_sh(tag_var: &str) -> String {
    format!(
        r#"{}live=$(argocd app get "$APP" --output json | jq -r '.status.summary.images[]?')
for image in $IMAGES; do
  tag=$(released_tag "$image") || exit 1
  printf '%s\n' "$live" | grep -qxF "$image:$tag" || {{ echo "$image:$tag is not running"; exit 1; }}
done
"#,
        released_tag_sh(tag_var)
    )
}
