//! github.tf.json: the identities CI runs with, created where they are used.
//! The shared module holds GitHub's OIDC provider (one per account) and the
//! role the build job pushes images with; an environment's module holds
//! the role its deploy job takes pre-deploy snapshots with. The role names
//! come from `plan::identity`, which the workflows read too; each trust
//! policy admits only this repository's runs on the refs (push) or the
//! GitHub environment (deploy) that use the role.

use super::{attr, expr, ident, Cx, Module};
use crate::model::{Engine, Model, PipelineProvider};
use crate::plan::identity::{
    deploy_role, deploy_subject, ecr_push_role, gitlab_push_subjects, push_subjects, GITHUB_OIDC_HOST, GITLAB_OIDC_HOST,
};
use serde_json::{json, Value};

const FILE: &str = "github.tf.json";

/// A trust policy for GitHub's OIDC token: audience STS, subject one of `subjects`.
fn github_trust(m: &mut Module, id: &str, provider_arn: String, subjects: Vec<String>) {
    oidc_trust(m, FILE, GITHUB_OIDC_HOST, id, provider_arn, subjects)
}

/// A trust policy for an OIDC issuer's token: audience STS, subject one of
/// `subjects` (`StringLike`: a branch pattern's `*` is IAM's wildcard).
fn oidc_trust(m: &mut Module, file: &'static str, host: &str, id: &str, provider_arn: String, subjects: Vec<String>) {
    m.data(
        file,
        "aws_iam_policy_document",
        &format!("{id}_assume"),
        json!({
            "statement": [{
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{ "type": "Federated", "identifiers": [provider_arn] }],
                "condition": [
                    { "test": "StringEquals", "variable": format!("{host}:aud"), "values": ["sts.amazonaws.com"] },
                    { "test": "StringLike", "variable": format!("{host}:sub"), "values": subjects }
                ]
            }]
        }),
    );
}

/// A role with one inline policy.
fn role(m: &mut Module, id: &str, name: String, statements: Vec<Value>) {
    role_in(m, FILE, id, name, statements)
}

fn role_in(m: &mut Module, file: &'static str, id: &str, name: String, statements: Vec<Value>) {
    m.resource(
        file,
        "aws_iam_role",
        id,
        json!({ "name": name, "assume_role_policy": attr("data.aws_iam_policy_document", &format!("{id}_assume"), "json") }),
    );
    m.data(file, "aws_iam_policy_document", id, json!({ "statement": statements }));
    m.resource(
        file,
        "aws_iam_role_policy",
        id,
        json!({ "name": "access", "role": attr("aws_iam_role", id, "id"), "policy": attr("data.aws_iam_policy_document", id, "json") }),
    );
}

/// The ECR push role's permissions on `repositories` (Terraform names).
fn push_statements(repositories: &[String]) -> Vec<Value> {
    let repos: Vec<String> = repositories.iter().map(|id| attr("aws_ecr_repository", id, "arn")).collect();
    vec![
        // GetAuthorizationToken has no resource-level permissions.
        json!({ "sid": "Login", "actions": ["ecr:GetAuthorizationToken"], "resources": ["*"] }),
        json!({
            "sid": "Push",
            "actions": [
                "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                "ecr:DescribeImages"
            ],
            "resources": repos
        }),
    ]
}

/// A GitLab pipeline's part of the shared module: GitLab.com's OIDC
/// provider and the ECR push role its build jobs assume with their ID token
/// (`id_tokens: AWS_ID_TOKEN: aud: sts.amazonaws.com`), trusted for this
/// project's pushes to the branches and tags that build.
fn gitlab_shared(m: &mut Module, model: &Model, repositories: &[String]) {
    const GITLAB_FILE: &str = "gitlab.tf.json";
    m.resource(
        GITLAB_FILE,
        "aws_iam_openid_connect_provider",
        "gitlab",
        json!({ "url": format!("https://{GITLAB_OIDC_HOST}"), "client_id_list": ["sts.amazonaws.com"] }),
    );
    m.output(
        "gitlab_oidc_provider_arn",
        "GitLab.com's OIDC provider, trusted by the pipeline roles",
        attr("aws_iam_openid_connect_provider", "gitlab", "arn"),
    );
    if repositories.is_empty() {
        return;
    }
    oidc_trust(
        m,
        GITLAB_FILE,
        GITLAB_OIDC_HOST,
        "gitlab_ecr_push",
        attr("aws_iam_openid_connect_provider", "gitlab", "arn"),
        gitlab_push_subjects(model),
    );
    role_in(m, GITLAB_FILE, "gitlab_ecr_push", ecr_push_role(model), push_statements(repositories));
    m.output(
        "gitlab_ecr_push_role_arn",
        "the role the GitLab build jobs push images with (AWS_ROLE_ARN)",
        attr("aws_iam_role", "gitlab_ecr_push", "arn"),
    );
}

/// The shared module's part: the OIDC provider and the ECR push role of
/// the program's CI. `repositories` are the Terraform names of the ECR
/// repositories.
pub fn shared(m: &mut Module, model: &Model, repositories: &[String]) {
    if model.pipeline.provider == PipelineProvider::Gitlab {
        return gitlab_shared(m, model, repositories);
    }
    m.resource(
        FILE,
        "aws_iam_openid_connect_provider",
        "github",
        json!({ "url": format!("https://{GITHUB_OIDC_HOST}"), "client_id_list": ["sts.amazonaws.com"] }),
    );
    m.output(
        "github_oidc_provider_arn",
        "GitHub Actions' OIDC provider, trusted by the pipeline roles",
        attr("aws_iam_openid_connect_provider", "github", "arn"),
    );
    if repositories.is_empty() {
        return;
    }
    github_trust(m, "github_ecr_push", attr("aws_iam_openid_connect_provider", "github", "arn"), push_subjects(model));
    role(m, "github_ecr_push", ecr_push_role(model), push_statements(repositories));
    m.output(
        "github_ecr_push_role_arn",
        "the role cd.yml pushes images with",
        attr("aws_iam_role", "github_ecr_push", "arn"),
    );
}

/// An environment's deploy role, when its deploy job snapshots managed data
/// stores before deploying (`before = [backup]`).
pub fn deploy(cx: &mut Cx) {
    if !cx.env.before.iter().any(|b| b == "backup") {
        return;
    }
    let arn = |kind: &str, what: &str| {
        format!("arn:${{local.partition}}:{kind}:${{var.region}}:${{local.account_id}}:{what}")
    };
    let mut statements = Vec::new();
    for r in &cx.model.resources {
        if r.backup.is_none() || !r.engine.can_run_in_cluster() || !cx.managed(r.id) {
            continue;
        }
        let id = ident(&r.name);
        let sid = id.replace('_', "");
        // The snapshot names the deploy job gives: `<project>-<env>-<resource>-predeploy-<run>`.
        let snap = format!("${{local.name}}-{}-predeploy-*", r.name);
        let (create, describe, source, target) = match (&r.engine, r.aurora) {
            (Engine::Postgres, false) => (
                "rds:CreateDBSnapshot",
                "rds:DescribeDBSnapshots",
                attr("aws_db_instance", &id, "arn"),
                arn("rds", &format!("snapshot:{snap}")),
            ),
            (Engine::Postgres, true) => (
                "rds:CreateDBClusterSnapshot",
                "rds:DescribeDBClusterSnapshots",
                attr("aws_rds_cluster", &id, "arn"),
                arn("rds", &format!("cluster-snapshot:{snap}")),
            ),
            (Engine::Redis, _) => (
                "elasticache:CreateSnapshot",
                "elasticache:DescribeSnapshots",
                attr("aws_elasticache_replication_group", &id, "arn"),
                arn("elasticache", &format!("snapshot:{snap}")),
            ),
            _ => (
                "rds:CreateDBClusterSnapshot",
                "rds:DescribeDBClusterSnapshots",
                attr("aws_docdb_cluster", &id, "arn"),
                arn("rds", &format!("cluster-snapshot:{snap}")),
            ),
        };
        statements.push(
            json!({ "sid": format!("{sid}Snapshot"), "actions": [create], "resources": [source, target.clone()] }),
        );
        statements.push(json!({ "sid": format!("{sid}Wait"), "actions": [describe], "resources": [target] }));
    }
    if statements.is_empty() {
        return;
    }
    cx.m.data(
        "data.tf.json",
        "aws_iam_openid_connect_provider",
        "github",
        json!({ "url": format!("https://{GITHUB_OIDC_HOST}") }),
    );
    let subject = deploy_subject(cx.model, cx.env);
    github_trust(
        &mut cx.m,
        "github_deploy",
        attr("data.aws_iam_openid_connect_provider", "github", "arn"),
        vec![subject],
    );
    role(&mut cx.m, "github_deploy", deploy_role(cx.model, cx.env), statements);
    cx.m.output(
        "github_deploy_role_arn",
        "the role this environment's deploy job snapshots with",
        expr("aws_iam_role.github_deploy.arn"),
    );
}

/// The pull roles of the clusters outside AWS that pull the ECR images
/// (`plan::registry`): an OIDC provider for each GKE cluster's issuer
/// (known before the cluster exists) and a role its environments'
/// `ecr-pull` ServiceAccounts may assume, allowed to pull and nothing else.
pub fn ecr_pullers(m: &mut Module, pullers: &[crate::plan::registry::EcrPuller], repositories: &[String]) {
    use super::literal;
    use crate::plan::registry::AUDIENCE;
    if repositories.is_empty() {
        return;
    }
    let repos: Vec<String> = repositories.iter().map(|id| attr("aws_ecr_repository", id, "arn")).collect();
    for p in pullers {
        let id = format!("ecr_pull_{}", ident(&p.key));
        let issuer = literal(&p.issuer);
        let host = issuer.trim_start_matches("https://").to_string();
        m.resource(
            FILE,
            "aws_iam_openid_connect_provider",
            &id,
            json!({ "url": issuer, "client_id_list": [AUDIENCE] }),
        );
        m.data(
            FILE,
            "aws_iam_policy_document",
            &format!("{id}_assume"),
            json!({
                "statement": [{
                    "actions": ["sts:AssumeRoleWithWebIdentity"],
                    "principals": [{ "type": "Federated", "identifiers": [attr("aws_iam_openid_connect_provider", &id, "arn")] }],
                    "condition": [
                        { "test": "StringEquals", "variable": format!("{host}:aud"), "values": [AUDIENCE] },
                        { "test": "StringEquals", "variable": format!("{host}:sub"), "values": p.subjects.iter().map(|s| literal(s)).collect::<Vec<_>>() }
                    ]
                }]
            }),
        );
        role(
            m,
            &id,
            literal(&p.role_name),
            vec![
                // GetAuthorizationToken has no resource-level permissions.
                json!({ "sid": "Login", "actions": ["ecr:GetAuthorizationToken"], "resources": ["*"] }),
                json!({
                    "sid": "Pull",
                    "actions": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "resources": repos
                }),
            ],
        );
        m.output(
            &format!("{id}_role_arn"),
            "the role External Secrets in the GKE cluster gets ECR pull tokens with (its ecr-pull ServiceAccounts)",
            attr("aws_iam_role", &id, "arn"),
        );
    }
}
