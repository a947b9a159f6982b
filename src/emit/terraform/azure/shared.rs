//! `terraform/shared/` on Azure: GitHub Actions' way in. A user-assigned
//! identity for the pipeline, with one federated credential per run that
//! may act as it: the refs that build (`push_subjects`) and each
//! environment's deploy job (its GitHub environment), all of this
//! repository only — Entra ID matches the `sub` claim exactly. The
//! registry stays the program's (`ghcr` or `dockerhub`): the language has no
//! ACR kind yet, so no registry is created here.

use super::Ax;
use crate::emit::terraform::{attr, expr};
use crate::plan::identity::{deploy_subject, github_repository, push_subjects, GITHUB_OIDC_HOST};
use serde_json::json;

const FILE: &str = "github.tf.json";

pub fn module(ax: &mut Ax) {
    let repo = github_repository(ax.model);
    let mut subjects = push_subjects(ax.model);
    subjects.extend(ax.model.environments.iter().map(|e| deploy_subject(ax.model, e)));
    let m = &mut ax.m;
    m.resource(
        FILE,
        "azurerm_resource_group",
        "main",
        json!({ "name": "${local.name}-shared", "location": expr("var.location"), "tags": expr("local.tags") }),
    );
    m.resource(
        FILE,
        "azurerm_user_assigned_identity",
        "github_deploy",
        json!({
            "name": "${local.name}-github-deploy",
            "location": expr("var.location"),
            "resource_group_name": attr("azurerm_resource_group", "main", "name"),
            "tags": expr("local.tags")
        }),
    );
    // Keyed by position: a Terraform name never carries program text.
    for (n, sub) in subjects.iter().enumerate() {
        m.resource(
            FILE,
            "azurerm_federated_identity_credential",
            &format!("github_{n}"),
            json!({
                "name": format!("github-{n}"),
                "resource_group_name": attr("azurerm_resource_group", "main", "name"),
                "parent_id": attr("azurerm_user_assigned_identity", "github_deploy", "id"),
                "audience": ["api://AzureADTokenExchange"],
                "issuer": format!("https://{GITHUB_OIDC_HOST}"),
                "subject": sub
            }),
        );
    }
    m.output(
        "github_client_id",
        &format!("client-id of azure/login in the workflows of {repo}"),
        attr("azurerm_user_assigned_identity", "github_deploy", "client_id"),
    );
    m.output(
        "github_tenant_id",
        "tenant-id of azure/login",
        attr("data.azurerm_client_config", "current", "tenant_id"),
    );
}
