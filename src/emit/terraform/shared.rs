//! `terraform/shared/`: what every environment shares, applied once, before
//! the clusters and environments: the ECR repositories (an image is built
//! once and promoted from environment to environment under the same
//! repository, so the repositories cannot belong to any one environment's
//! state), GitHub's OIDC provider and the role CI pushes images with.

use super::{attr, expr, header, jsonencode, Module};
use crate::model::Model;
use serde_json::json;
use std::collections::BTreeSet;

const FILE: &str = "ecr.tf.json";

/// A Terraform name for an image repository (`healthcp/api` → `healthcp_api`).
fn repo_ident(image: &str) -> String {
    image.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// The key policy of the shared root's keys: use of the key delegated to
/// this account's IAM policies, as AWS's default key policy does.
pub fn account_key_policy() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": { "AWS": "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" },
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
}

/// The shared module; ECR repositories only when `ecr` (the project's registry is ECR).
pub fn module(model: &Model, region: &str, ecr: bool, pullers: &[crate::plan::registry::EcrPuller]) -> Module {
    let mut m = Module::default();
    header(&mut m, json!(expr("var.region")));
    m.variable("region", "string", "AWS region of the registry", Some(json!(region)));
    m.local("tags", json!({ "project": model.project.name, "managed-by": "deployc" }));
    m.local("name", json!(model.project.name));
    m.data("data.tf.json", "aws_caller_identity", "current", json!({}));
    m.data("data.tf.json", "aws_partition", "current", json!({}));
    super::state::backups(&mut m, model);
    if !ecr {
        super::pipeline::shared(&mut m, model, &[]);
        return m;
    }
    let policy = account_key_policy();
    m.resource(
        FILE,
        "aws_kms_key",
        "ecr",
        json!({
            "description": "${local.name}: container images",
            "enable_key_rotation": true,
            "deletion_window_in_days": 30,
            "policy": jsonencode(&policy)
        }),
    );
    let images: BTreeSet<&str> = model.built_services().map(|s| s.service.image.as_str()).collect();
    let lifecycle = json!({
        "rules": [{
            "rulePriority": 1,
            "description": "expire untagged images after 14 days",
            "selection": { "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14 },
            "action": { "type": "expire" }
        }]
    });
    let mut urls = Vec::new();
    let mut ids = Vec::new();
    for image in images {
        let id = repo_ident(image);
        m.resource(
            FILE,
            "aws_ecr_repository",
            &id,
            json!({
                "name": image,
                // Release tags are never moved: a tag names one build forever.
                "image_tag_mutability": "IMMUTABLE",
                "image_scanning_configuration": { "scan_on_push": true },
                "encryption_configuration": { "encryption_type": "KMS", "kms_key": attr("aws_kms_key", "ecr", "arn") }
            }),
        );
        m.resource(
            FILE,
            "aws_ecr_lifecycle_policy",
            &id,
            json!({ "repository": attr("aws_ecr_repository", &id, "name"), "policy": jsonencode(&lifecycle) }),
        );
        urls.push(format!("\"{image}\" = aws_ecr_repository.{id}.repository_url"));
        ids.push(id);
    }
    m.output("repository_urls", "ECR repository URL of each image", expr(&format!("{{{}}}", urls.join(", "))));
    super::pipeline::shared(&mut m, model, &ids);
    super::pipeline::ecr_pullers(&mut m, pullers, &ids);
    m
}
