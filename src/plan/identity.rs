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

/// The OIDC subjects (`sub` claims) of the runs that build and push images:
/// pushes to the branches and tags that start `cd.yml`.
pub fn push_subjects(model: &Model) -> Vec<String> {
    let repo = github_repository(model);
    let mut refs: Vec<String> = Vec::new();
    for t in &model.pipeline.triggers {
        match t {
            Trigger::Push(Some(b)) => refs.push(format!("refs/heads/{b}")),
            Trigger::Push(None) => refs.push("refs/heads/*".into()),
            Trigger::Tag(p) => refs.push(format!("refs/tags/{p}")),
            _ => {}
        }
    }
    for e in &model.environments {
        match &e.promote {
            Promotion::OnPush(b) => refs.push(format!("refs/heads/{b}")),
            Promotion::OnTag(p) => refs.push(format!("refs/tags/{p}")),
            Promotion::Manual { .. } => {}
        }
    }
    if refs.is_empty() {
        refs.push(format!("refs/heads/{}", model.project.branch));
    }
    let mut seen = std::collections::BTreeSet::new();
    refs.retain(|r| seen.insert(r.clone()));
    refs.into_iter().map(|r| format!("repo:{repo}:ref:{r}")).collect()
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
        let tag: String = hash.iter().take(3).map(|b| format!("{b:02x}")).collect();
        s = format!("{}-{tag}", s[..23].trim_end_matches('-'));
    }
    let mut s = s.trim_end_matches('-').to_string();
    while s.len() < 6 {
        s.push('0');
    }
    s
}
