//! `cd.yml` (build, sign and push the images; deploy the environments
//! promoted automatically, on their branch or tag) and one
//! `promote-<env>.yml` per manually promoted environment (a
//! `workflow_dispatch` that deploys, behind the GitHub environment's
//! required reviewers, what the environment it is promoted from runs).
//! Each deploy job `needs` the gate jobs of its environment's `requires`.

use super::deploy::{self, Source};
use super::gates;
use super::steps::checkout;
use super::wf::{Concurrency, Empty, Include, Job, Map, Step, Workflow};
use super::{data, dedup, file, job_if, on_for, or, Cx};
use crate::emit::Artifact;
use crate::model::{Environment, Gate, Promotion, Registry, TagPolicy, Trigger};
use crate::plan::delivery::{self, BuildCache};
use indexmap::IndexMap;

/// The push triggers that deploy an automatically promoted environment
/// (one per branch or pattern of `on_push`).
fn env_triggers(env: &Environment) -> Vec<Trigger> {
    match &env.promote {
        Promotion::OnPush(bs) => bs.iter().map(|b| Trigger::Push(Some(b.clone()))).collect(),
        Promotion::OnTag(t) => vec![Trigger::Tag(t.clone())],
        Promotion::Manual { .. } => Vec::new(),
    }
}

/// `docker/metadata-action` tag rules for the program's tag policy. The
/// priorities make the first (the `version` output, which deploys use) the
/// most specific immutable tag the ref has.
fn tag_rules(policy: &[TagPolicy]) -> String {
    let mut lines = Vec::new();
    for t in policy {
        lines.push(match t {
            TagPolicy::Semver => "type=semver,pattern=v{{version}},priority=1000",
            TagPolicy::BranchSha => {
                "type=sha,prefix={{branch}}-,priority=900,enable=${{ github.ref_type == 'branch' }}"
            }
            TagPolicy::Sha => "type=sha,priority=800",
            TagPolicy::Latest => "type=raw,value=latest,priority=100,enable={{is_default_branch}}",
        });
    }
    lines.join("\n")
}

fn registry_login(cx: &Cx) -> (Vec<Step>, Vec<(&'static str, &'static str)>) {
    let p = &cx.model.project;
    match &p.registry {
        Registry::Ecr { region, account } => {
            let account = account.clone().unwrap_or_else(|| "000000000000".into());
            (
                vec![
                    Step::uses("Assume the ECR push role (OIDC)", "aws-actions/configure-aws-credentials")
                        .with(
                            "role-to-assume",
                            crate::plan::identity::role_arn(&account, &crate::plan::identity::ecr_push_role(cx.model)),
                        )
                        .with("aws-region", region.clone()),
                    Step::uses("Log in to Amazon ECR", "aws-actions/amazon-ecr-login"),
                ],
                vec![("contents", "read"), ("id-token", "write")],
            )
        }
        Registry::Ghcr { .. } => (
            vec![Step::uses("Log in to GitHub Container Registry", "docker/login-action")
                .with("registry", "ghcr.io")
                .with("username", "${{ github.actor }}")
                .with("password", "${{ secrets.GITHUB_TOKEN }}")],
            vec![("contents", "read"), ("id-token", "write"), ("packages", "write")],
        ),
        Registry::DockerHub { .. } => (
            vec![Step::uses("Log in to Docker Hub", "docker/login-action")
                .with("username", "${{ secrets.DOCKERHUB_USERNAME }}")
                .with("password", "${{ secrets.DOCKERHUB_TOKEN }}")],
            vec![("contents", "read"), ("id-token", "write")],
        ),
    }
}

/// Builds every image for the declared platforms, pushes it with the tag
/// policy's tags, signs it (keyless, Sigstore) and attests its SBOM.
fn build_job(cx: &Cx) -> Job {
    let p = &cx.model.pipeline;
    let include = cx.build_matrix(true);
    let (login, perms) = registry_login(cx);
    let mut j =
        Job::new("Build, sign and push (${{ matrix.service }})").matrix(include).permissions(&perms).timeout(60);
    if p.incremental {
        // Only the services the scope job found changed (or unknown).
        j.needs = vec![SCOPE.to_string()];
        j.if_ = Some(format!("needs.{SCOPE}.outputs.build != ''"));
        if let Some(st) = &mut j.strategy {
            st.matrix.include = Include::Expr(format!("${{{{ fromJSON(needs.{SCOPE}.outputs.matrix) }}}}"));
        }
    }
    j.outputs.insert("tag".into(), "${{ steps.meta.outputs.version }}".into());
    j = j.step(checkout());
    let platforms: Vec<String> = p.platforms.iter().map(|a| format!("linux/{a}")).collect();
    if p.platforms.iter().any(|a| a != "amd64") {
        j = j.step(Step::uses("Set up QEMU for other architectures", "docker/setup-qemu-action"));
    }
    j = j.step(Step::uses("Set up Buildx", "docker/setup-buildx-action"));
    j = j.steps(login);
    let mirror = delivery::image_mirror(cx.model);
    if let Some(mirror) = &mirror {
        // Keyless: the GCP shared root's Workload Identity provider admits
        // this repository's runs as the account that may write the copies.
        j = j.step(
            Step::uses("Authenticate to Google Cloud (Workload Identity Federation)", "google-github-actions/auth")
                .id("gcp")
                .with("workload_identity_provider", "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}")
                .with("service_account", data(&delivery::image_mirror_account(cx.model, mirror))),
        );
        // gcloud (on GitHub's hosted runners) reads the credentials file the
        // auth step exports; its access token lasts an hour, longer than the job.
        j = j.step(
            Step::run("Log in to Artifact Registry", delivery::MIRROR_TOKEN_LOGIN_SH.trim_end())
                .env("MIRROR_HOST", data(&mirror.host())),
        );
    }
    j = j.step(
        Step::uses("Tags from the tag policy", "docker/metadata-action")
            .id("meta")
            .with("images", "${{ matrix.image }}")
            .with("flavor", "latest=false")
            .with("tags", tag_rules(&p.tags)),
    );
    let mut build = Step::uses("Build and push", "docker/build-push-action")
        .id("build")
        .with("context", "${{ matrix.context }}")
        .with("file", "${{ matrix.dockerfile }}")
        .with("target", "${{ matrix.target }}")
        .with("platforms", platforms.join(","))
        .with("push", true)
        .with("tags", "${{ steps.meta.outputs.tags }}")
        .with("labels", "${{ steps.meta.outputs.labels }}");
    match delivery::build_cache(cx.model) {
        BuildCache::Off => {}
        // A registry cache, written only by these trusted pushes: unlike the
        // Actions cache, no pull request can seed it.
        BuildCache::RegistryTag => {
            build = build.with("cache-from", "type=registry,ref=${{ matrix.image }}:buildcache").with(
                "cache-to",
                "type=registry,ref=${{ matrix.image }}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true",
            );
        }
        // The registry's tags are immutable, so a fixed cache tag could be
        // pushed once only. GitHub's cache service is scoped by ref: a pull
        // request's entries are invisible to the branch CD builds from.
        BuildCache::CiStore => {
            build = build
                .with("cache-from", "type=gha,scope=${{ matrix.service }}")
                .with("cache-to", "type=gha,scope=${{ matrix.service }},mode=max");
        }
    }
    // Re-running a build of the same commit: the tag is already pushed and
    // signed, and an immutable registry would refuse it again.
    let skip = delivery::immutable_tags(cx.model);
    let fresh = "${{ steps.pushed.outputs.exists != 'true' }}";
    if skip {
        j = j.step(
            Step::run(
                "Skip a tag that is already pushed",
                "if docker buildx imagetools inspect \"$IMAGE:$VERSION\" > /dev/null 2>&1; then\n  echo \"$IMAGE:$VERSION is already pushed (a re-run): keeping it\"\n  echo \"exists=true\" >> \"$GITHUB_OUTPUT\"\nelse\n  echo \"exists=false\" >> \"$GITHUB_OUTPUT\"\nfi",
            )
            .id("pushed")
            .env("IMAGE", "${{ matrix.image }}")
            .env("VERSION", "${{ steps.meta.outputs.version }}"),
        );
        build = build.when(fresh);
    }
    j = j.step(build);
    let mut cosign = Step::uses("Install cosign", "sigstore/cosign-installer");
    let mut sign = Step::run("Sign the image (keyless)", "cosign sign --yes \"$IMAGE@$DIGEST\"")
        .env("IMAGE", "${{ matrix.image }}")
        .env("DIGEST", "${{ steps.build.outputs.digest }}");
    if skip {
        cosign = cosign.when(fresh);
        sign = sign.when(fresh);
    }
    j = j.step(cosign);
    j = j.step(sign);
    if p.sbom {
        let mut sbom = Step::uses("Generate the SBOM", "anchore/sbom-action")
            .with("image", "${{ matrix.image }}@${{ steps.build.outputs.digest }}")
            .with("format", "spdx-json")
            .with("output-file", "sbom.spdx.json")
            .with("artifact-name", "sbom-${{ matrix.service }}.spdx.json");
        let mut attest = Step::run(
            "Attest the SBOM to the image",
            "cosign attest --yes --type spdxjson --predicate sbom.spdx.json \"$IMAGE@$DIGEST\"",
        )
        .env("IMAGE", "${{ matrix.image }}")
        .env("DIGEST", "${{ steps.build.outputs.digest }}");
        if skip {
            sbom = sbom.when(fresh);
            attest = attest.when(fresh);
        }
        j = j.step(sbom);
        j = j.step(attest);
    }
    if mirror.is_some() {
        // After a re-run's skipped push too: the copy may be what failed.
        j = j.step(
            Step::run("Copy the image to Artifact Registry (the GKE clusters pull it)", delivery::MIRROR_IMAGE_SH)
                .env("IMAGE", "${{ matrix.image }}")
                .env("MIRROR", "${{ matrix.mirror }}")
                .env("TAG", "${{ steps.meta.outputs.version }}"),
        );
    }
    j
}

/// The job that scopes a run (`plan::changes`).
pub const SCOPE: &str = "scope";

/// Whether a deploy job's `if:` can admit a ref its environment's patterns
/// do not: a pattern the expression cannot match exactly (`release/*` is
/// `startsWith`, which also admits `release/a/b`) while the workflow's
/// `on.push` filter lets in refs from patterns that are not the
/// environment's own. When every pattern of that kind in the filter is the
/// environment's, GitHub's filter (which globs exactly) already made the
/// decision and the expression only tells the environments apart.
fn loose(env: &Environment, all: &[Trigger]) -> bool {
    let exact = |p: &str| match p.find('*') {
        None => true,
        Some(i) => p.ends_with("**") && i == p.len() - 2 && (i == 0 || p[..i].ends_with('/')),
    };
    let mine = env_triggers(env);
    let filter = |tag: bool| -> Vec<String> {
        all.iter()
            .filter_map(|t| match (t, tag) {
                (Trigger::Push(None), false) => Some("**".to_string()),
                (Trigger::Push(Some(b)), false) => Some(b.clone()),
                (Trigger::Tag(p), true) => Some(p.clone()),
                _ => None,
            })
            .collect()
    };
    mine.iter().any(|t| {
        let (p, tag) = match t {
            Trigger::Push(Some(b)) => (b, false),
            Trigger::Tag(p) => (p, true),
            _ => return false,
        };
        !exact(p)
            && filter(tag)
                .iter()
                .any(|q| !mine.iter().any(|m| matches!(m, Trigger::Push(Some(x)) | Trigger::Tag(x) if x == q)))
    })
}

/// The scope job: which environments the ref deploys, matched exactly
/// (`deploy-<env>` outputs the deploy jobs require), and with incremental
/// builds which services to build (`build`, `matrix`) and which deployed
/// tags to keep (`built`, `kept`).
fn scope_job(cx: &Cx) -> Job {
    let m = cx.model;
    let incremental = m.pipeline.incremental;
    let mut j = Job::new("Scope the run (environments, changed services)").timeout(15);
    let mut script = String::from("SCOPE_OUT=\"$GITHUB_OUTPUT\"\n");
    if incremental {
        let (login, perms) = registry_login(cx);
        // Reading the registry needs no write access.
        let ecr = matches!(m.project.registry, Registry::Ecr { .. });
        let perms: Vec<(&str, &str)> = perms
            .into_iter()
            .filter(|(k, _)| *k != "id-token" || ecr)
            .map(|(k, v)| if k == "packages" { (k, "read") } else { (k, v) })
            .collect();
        j = j.permissions(&perms).step(super::steps::checkout_history()).steps(login);
        script.push_str(&crate::plan::changes::scope_script());
    } else {
        script.push_str(crate::plan::changes::SCOPE_SH);
    }
    let mut step = Step::run("Match the ref and compare the sources", script)
        .id(SCOPE)
        // cd.yml runs on pushes only (branches and tags).
        .env("REF_KIND", "${{ github.ref_type }}")
        .env("REF_NAME", "${{ github.ref_name }}")
        .env("ROUTES", super::data(&crate::plan::changes::routes_var(m)))
        .env("INCREMENTAL", incremental.to_string());
    if incremental {
        step = step
            .env("SERVICES", super::data(&crate::plan::changes::services_var(m)))
            .env("SHARED", super::data(&crate::plan::changes::shared_var(m)))
            .env("IGNORED", super::data(&crate::plan::changes::ignored(m)))
            .env("KUSTOMIZATIONS", super::data(&crate::plan::changes::kustomizations_var(m)))
            .env("GITOPS_REF", format!("origin/{}", cx.gitops_branch()));
    }
    j = j.step(step);
    for r in crate::plan::changes::routes(m) {
        let k = format!("deploy-{}", r.env);
        j.outputs.insert(k.clone(), format!("${{{{ steps.{SCOPE}.outputs.{k} }}}}"));
    }
    if incremental {
        let all = serde_json::to_string(&cx.build_matrix(true)).unwrap_or_else(|_| "[]".into());
        j = j.step(
            Step::run(
                "The build matrix of the changed services",
                "matrix=$(jq -c --arg build \" $BUILD \" '[.[] | select(.service as $s | $build | contains(\" \" + $s + \" \"))]' <<< \"$ALL\")\necho \"matrix=$matrix\" >> \"$GITHUB_OUTPUT\"",
            )
            .id("matrix")
            .env("BUILD", format!("${{{{ steps.{SCOPE}.outputs.build }}}}"))
            .env("ALL", all),
        );
        for k in ["build", "built", "kept"] {
            j.outputs.insert(k.into(), format!("${{{{ steps.{SCOPE}.outputs.{k} }}}}"));
        }
        j.outputs.insert("matrix".into(), "${{ steps.matrix.outputs.matrix }}".into());
    }
    j
}

/// The gate jobs a set of environments require, each running when any of
/// those environments deploys.
fn gate_jobs(
    cx: &Cx,
    envs: &[(&Environment, Option<String>)],
    jobs: &mut IndexMap<String, Job>,
) -> Vec<(String, String)> {
    let mut skips = Vec::new();
    for g in &cx.model.gates {
        let conds: Vec<Option<String>> =
            envs.iter().filter(|(e, _)| e.requires.contains(&g.id)).map(|(_, c)| c.clone()).collect();
        if conds.is_empty() {
            continue;
        }
        let (mut j, s) = gates::job(cx, g, false);
        j.if_ = if conds.iter().any(Option::is_none) {
            None
        } else {
            Some(or(&dedup(&conds.into_iter().flatten().collect::<Vec<_>>())))
        };
        skips.extend(s);
        jobs.insert(gates::job_id(g), j);
    }
    skips
}

fn needs(cx: &Cx, env: &Environment, first: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    let gates: Vec<&Gate> = env.requires.iter().map(|id| &cx.model.gates[id.index()]).collect();
    v.extend(gates.iter().map(|g| gates::job_id(g)));
    v
}

/// `cd.yml`.
pub fn cd(cx: &Cx) -> Artifact {
    let m = cx.model;
    let mut triggers: Vec<Trigger> =
        m.pipeline.triggers.iter().filter(|t| matches!(t, Trigger::Push(_) | Trigger::Tag(_))).cloned().collect();
    let autos: Vec<(&Environment, Vec<Trigger>)> =
        m.environments.iter().map(|e| (e, env_triggers(e))).filter(|(_, ts)| !ts.is_empty()).collect();
    triggers.extend(autos.iter().flat_map(|(_, ts)| ts.iter().cloned()));
    if triggers.is_empty() {
        triggers.push(Trigger::Push(Some(m.project.branch.clone())));
    }
    let triggers = dedup(&triggers);
    let mut jobs = IndexMap::new();
    let conds: Vec<(&Environment, Option<String>)> = autos.iter().map(|(e, ts)| (*e, job_if(ts, &triggers))).collect();
    let scoped = m.pipeline.incremental || autos.iter().any(|(e, _)| loose(e, &triggers));
    if scoped {
        jobs.insert(SCOPE.to_string(), scope_job(cx));
    }
    jobs.insert("build".to_string(), build_job(cx));
    let mut skips = Vec::new();
    if !m.pipeline.sbom {
        skips.push((
            "build".to_string(),
            "checkov:skip=CKV_GHA_6:the program turns SBOMs off (pipeline.sbom = false); images are still signed"
                .to_string(),
        ));
    }
    skips.extend(gate_jobs(cx, &conds, &mut jobs));
    for (e, c) in &conds {
        let mut j = deploy::job(cx, e, Source::Build);
        // The release job needs only the deploy job, which carries the gate.
        let release_if = c.clone();
        let c = if scoped {
            j.needs = needs(cx, e, &[SCOPE, "build"]);
            // The ref matched one of the environment's patterns exactly.
            let gate = format!("needs.{SCOPE}.outputs.deploy-{} == 'true'", e.name);
            Some(match c {
                Some(c) => format!("({c}) && {gate}"),
                None => gate,
            })
        } else {
            j.needs = needs(cx, e, &["build"]);
            c.clone()
        };
        j.if_ = c.clone();
        let id = format!("deploy-{}", e.name);
        jobs.insert(id.clone(), j);
        if let Some(mut r) = deploy::release_job(cx, e, &id) {
            r.if_ = release_if;
            jobs.insert(format!("release-{}", e.name), r);
        }
    }
    let wf = Workflow {
        name: "CD".into(),
        on: on_for(&triggers),
        permissions: Map::new(),
        // Never cancel a run half-way through a deploy; later runs queue.
        concurrency: Some(Concurrency {
            group: "${{ github.workflow }}-${{ github.ref }}".into(),
            cancel_in_progress: false,
        }),
        jobs,
    };
    let mut header = vec![
        "CD: builds every image for the declared platforms, pushes it with the tag".to_string(),
        "policy's tags, signs it with cosign (keyless) and attests its SBOM; then".to_string(),
        "deploys each automatically promoted environment on its trigger:".to_string(),
    ];
    for (e, ts) in &autos {
        let when: Vec<String> = ts
            .iter()
            .map(|t| match t {
                Trigger::Tag(p) => format!("tags {p}"),
                Trigger::Push(Some(b)) => format!("pushes to {b}"),
                _ => "pushes".into(),
            })
            .collect();
        let when = when.join(", ");
        let reqs: Vec<String> = e.requires.iter().map(|g| m.gates[g.index()].name.clone()).collect();
        let gates = if reqs.is_empty() { String::new() } else { format!(", after the gates {}", reqs.join(", ")) };
        header.push(format!("  {} on {when}{gates}", e.name));
        if !e.approvers.is_empty() {
            header.push(format!(
                "    approved by the required reviewers of the \"{}\" environment (repository settings): {}",
                e.name,
                e.approvers.join(", ")
            ));
        }
    }
    if m.pipeline.incremental {
        header.extend([
            String::new(),
            "Incremental builds: the scope job builds a service only when the image each".to_string(),
            "environment this run deploys runs is missing from the registry, records no".to_string(),
            "source commit, or was built from a commit since which the service's build".to_string(),
            "context, the program, a root lockfile or the workflows changed. The other".to_string(),
            "services keep the tag they run, which the scope job found in the registry.".to_string(),
        ]);
    } else if scoped {
        header.extend([
            String::new(),
            "The scope job matches the ref against each environment's branch patterns".to_string(),
            "exactly (an expression cannot glob: `release/*` would admit `release/a/b`).".to_string(),
        ]);
    }
    header.extend(deploy_notes(cx));
    file(cx, "cd.yml", &header, &wf, &skips)
}

/// What every deploy workflow needs from the repository settings.
fn deploy_notes(cx: &Cx) -> Vec<String> {
    let mut v = vec![
        String::new(),
        format!("A deploy sets the released tags in {}k8s/<env>/kustomization.yaml, commits", cx.gitops_path()),
        format!("and pushes to {}, then waits for Argo CD (secrets ARGOCD_SERVER and", cx.gitops_branch()),
        "ARGOCD_AUTH_TOKEN, best set per GitHub environment) to report the application".to_string(),
        "synced and healthy. Branch protection must let github-actions[bot] push.".to_string(),
    ];
    if let Registry::Ecr { .. } = cx.model.project.registry {
        v.push(format!(
            "Images are pushed through the IAM role {}, assumed",
            crate::plan::identity::ecr_push_role(cx.model)
        ));
        v.push("with GitHub's OIDC token (no stored AWS keys).".to_string());
    }
    v
}

/// One `promote-<env>.yml` per manually promoted environment.
pub fn promotions(cx: &Cx) -> Vec<Artifact> {
    let m = cx.model;
    let mut out = Vec::new();
    for env in &m.environments {
        let Promotion::Manual { from } = &env.promote else { continue };
        let from_env = from.map(|f| m.env(f)).unwrap_or(env);
        let mut jobs = IndexMap::new();
        let skips = gate_jobs(cx, &[(env, None)], &mut jobs);
        let mut j = deploy::job(cx, env, Source::From(from_env));
        j.needs = needs(cx, env, &[]);
        let id = format!("deploy-{}", env.name);
        jobs.insert(id.clone(), j);
        if let Some(r) = deploy::release_job(cx, env, &id) {
            jobs.insert(format!("release-{}", env.name), r);
        }
        let mut on = on_for(&[]);
        on.workflow_dispatch = Some(Empty {});
        let wf = Workflow {
            name: format!("Promote {} to {}", from_env.name, env.name),
            on,
            permissions: Map::new(),
            concurrency: Some(Concurrency { group: format!("promote-{}", env.name), cancel_in_progress: false }),
            jobs,
        };
        let mut header = vec![
            format!("Manual promotion of {} to {}: run it from the Actions tab. It deploys", from_env.name, env.name),
            format!("the image tags {} verified last, once the gates pass and the GitHub", from_env.name),
            format!("environment \"{}\" approves.", env.name),
        ];
        if env.approvers.is_empty() {
            header.push(format!(
                "Set required reviewers on the \"{}\" environment in the repository settings.",
                env.name
            ));
        } else {
            header.push(format!(
                "Required reviewers of the \"{}\" environment (repository settings): {}",
                env.name,
                env.approvers.join(", ")
            ));
        }
        header.extend(deploy_notes(cx));
        out.push(file(cx, &format!("promote-{}.yml", env.name), &header, &wf, &skips));
    }
    out
}
