//! Pipeline identities: the IAM roles CI assumes with GitHub's OIDC token,
//! named once here. The workflows (`emit::github`) put these names in
//! `role-to-assume`; the Terraform target creates the roles under the same
//! names, with trust scoped to the repository and to the refs or GitHub
//! environments that run the jobs.

use crate::model::{Environment, Model, Promotion, Trigger};
use sha2::{Digest, Sha256};

/// GitHub's OIDC issuer, the identity provider the roles trust.
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";

/// The role the build job pushes images to ECR with: `<project>-github-ecr-push`.
pub fn ecr_push_role(model: &Model) -> String {
    format!("{}-github-ecr-push", model.project.name)
}

/// The role an environment's deploy job takes snapshots with: `<project>-<env>-github-deploy`.
pub fn deploy_role(model: &Model, env: &Environment) -> String {
    format!("{}-{}-github-deploy", model.project.name, env.name)
}

/// The AWS account the pipeline roles live in, when the program names it:
/// the ECR registry's, else the `aws` cloud block's.
pub fn account(model: &Model) -> Option<&str> {
    model.aws_account()
}

/// `arn:aws:iam::<account>:role/<name>`.
pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// `owner/name` of the GitHub repository (`github.com/acme/shop` → `acme/shop`).
pub fn github_repository(model: &Model) -> String {
    let r = model.project.repository.trim_end_matches(".git");
    r.strip_prefix("https://").unwrap_or(r).strip_prefix("github.com/").unwrap_or(r).to_string()
}

/// A ref whose pushes build and push images: a branch (name or pattern,
/// as an IAM `StringLike` value) or a tag pattern.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PushRef {
    Branch(String),
    Tag(String),
}

/// The refs whose pushes build and push images: the pipeline's push and tag
/// triggers and the automatically promoted environments' branches and tags
/// (the project's branch when there are none), once each, in that order.
pub fn push_refs(model: &Model) -> Vec<PushRef> {
    let mut refs: Vec<PushRef> = Vec::new();
    for t in &model.pipeline.triggers {
        match t {
            Trigger::Push(Some(b)) => refs.push(PushRef::Branch(b.clone())),
            Trigger::Push(None) => refs.push(PushRef::Branch("*".into())),
            Trigger::Tag(p) => refs.push(PushRef::Tag(p.clone())),
            _ => {}
        }
    }
    for e in &model.environments {
        match &e.promote {
            Promotion::OnPush(bs) => refs.extend(bs.iter().map(|b| PushRef::Branch(super::branches::iam(b)))),
            Promotion::OnTag(p) => refs.push(PushRef::Tag(p.clone())),
            Promotion::Manual { .. } => {}
        }
    }
    if refs.is_empty() {
        refs.push(PushRef::Branch(model.project.branch.clone()));
    }
    let mut seen = std::collections::BTreeSet::new();
    refs.retain(|r| seen.insert(r.clone()));
    refs
}

/// The OIDC subjects (`sub` claims) of the runs that build and push images:
/// pushes to the branches and tags that start `cd.yml`.
pub fn push_subjects(model: &Model) -> Vec<String> {
    let repo = github_repository(model);
    push_refs(model)
        .into_iter()
        .map(|r| match r {
            PushRef::Branch(b) => format!("repo:{repo}:ref:refs/heads/{b}"),
            PushRef::Tag(t) => format!("repo:{repo}:ref:refs/tags/{t}"),
        })
        .collect()
}

/// GitLab.com's OIDC issuer, trusted by the push role of a GitLab pipeline.
pub const GITLAB_OIDC_HOST: &str = "gitlab.com";

/// The project path of the repository on GitLab (`gitlab.com/acme/shop` →
/// `acme/shop`; a path without a host stays as written).
pub fn gitlab_project_path(model: &Model) -> String {
    let r = model.project.repository.trim_end_matches(".git").trim_end_matches('/');
    let r = r.strip_prefix("https://").unwrap_or(r);
    match r.split_once('/') {
        Some((host, rest)) if host.contains('.') => rest.to_string(),
        _ => r.to_string(),
    }
}

/// The GitLab ID token subjects (`sub` claims) of the jobs that push
/// images: `project_path:<path>:ref_type:branch|tag:ref:<ref>`.
pub fn gitlab_push_subjects(model: &Model) -> Vec<String> {
    let path = gitlab_project_path(model);
    push_refs(model)
        .into_iter()
        .map(|r| match r {
            PushRef::Branch(b) => format!("project_path:{path}:ref_type:branch:ref:{b}"),
            PushRef::Tag(t) => format!("project_path:{path}:ref_type:tag:ref:{t}"),
        })
        .collect()
}

/// The OIDC subject of an environment's deploy job, which runs in the GitHub
/// environment of the same name (so its protection rules apply).
pub fn deploy_subject(model: &Model, env: &Environment) -> String {
    format!("repo:{}:environment:{}", github_repository(model), env.name)
}

/// A Google service account id: 6–30 characters, lowercase letters, digits
/// and hyphens, starting with a letter. Longer names keep their start and
/// end with a short hash of the whole, so two long names stay distinct.
pub fn gcp_account_id(name: &str) -> String {
    let mut s: String =
        name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert(0, 'a');
    }
    if s.len() > 30 {
        let hash = Sha256::digest(name.as_bytes());
        let tag = crate::hex(&hash[..3]);
        s = format!("{}-{tag}", s[..23].trim_end_matches('-'));
    }
    let mut s = s.trim_end_matches('-').to_string();
    while s.len() < 6 {
        s.push('0');
    }
    s
}
