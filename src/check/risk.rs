//! The rules of an environment's `risk` block (E0455-E0458, W0021): the
//! environment rolls out by a canary, the rule names paths, each path is a
//! pattern a changed file's name can match, the trailer is a git trailer
//! line, and the pipeline's CI renders the rule.
//!
//! **Invariant:** an environment of a checked model with `risk` has a
//! canary strategy, at least one path, every path relative, free of `..`
//! and control characters with its brackets closed, and a `Key: value`
//! trailer.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Model, PipelineProvider, StrategyKind};

pub fn check(model: &Model, diags: &mut Diagnostics) {
    for env in &model.environments {
        let Some(rule) = &env.risk else { continue };
        let Some(span) = rule.span else { continue };
        if !matches!(env.progressive(), StrategyKind::Canary { .. }) {
            diags.push(
                Diagnostic::new(Code::E0455, format!("`risk` of `{}` needs a canary strategy", env.name))
                    .label(span, "this rule decides whether the canary's steps run")
                    .help(Code::E0455.info().help),
            );
        }
        if rule.paths.is_empty() {
            diags.push(
                Diagnostic::new(Code::E0456, format!("`risk` of `{}` names no paths", env.name))
                    .label(span, "no file's change could make a release high-risk")
                    .help(Code::E0456.info().help),
            );
        }
        for (i, p) in rule.paths.iter().enumerate() {
            if let Some(why) = bad_pattern(p) {
                diags.push(
                    Diagnostic::new(Code::E0457, format!("bad risk path pattern `{}`", p.escape_debug()))
                        .label(rule.path_spans.get(i).copied().flatten().unwrap_or(span), why)
                        .help(Code::E0457.info().help),
                );
            }
        }
        if !is_trailer(&rule.trailer) {
            diags.push(
                Diagnostic::new(Code::E0458, format!("bad risk trailer `{}`", rule.trailer.escape_debug()))
                    .label(rule.trailer_span.unwrap_or(span), "not a `Key: value` trailer line")
                    .help(Code::E0458.info().help),
            );
        }
        if model.pipeline.provider != PipelineProvider::Jenkins {
            diags.push(
                Diagnostic::new(
                    Code::W0021,
                    format!("`risk` of `{}` is not rendered by this CI yet: every release takes the canary", env.name),
                )
                .label(span, "only the Jenkins pipeline decides a release's risk")
                .help(Code::W0021.info().help),
            );
        }
    }
}

/// Why a `risk { paths }` pattern could never match a changed file's name
/// as git reports it (relative, one line), if it could not.
pub fn bad_pattern(p: &str) -> Option<&'static str> {
    if p.trim().is_empty() {
        return Some("an empty pattern");
    }
    if p.starts_with('/') {
        return Some("git reports names relative to the repository root, never with a leading `/`");
    }
    if p.split('/').any(|part| part == "..") {
        return Some("git reports no name with `..`");
    }
    if p.chars().any(|c| c.is_control()) {
        return Some("a control character");
    }
    // Bash treats an unclosed `[` as a literal, which no intended file name holds.
    let mut open = false;
    for c in p.chars() {
        match c {
            '[' if !open => open = true,
            ']' if open => open = false,
            _ => {}
        }
    }
    if open {
        return Some("an unclosed `[`");
    }
    None
}

/// Whether a `risk { trailer }` is a `Key: value` trailer line.
pub fn is_trailer(t: &str) -> bool {
    let Some((key, value)) = t.split_once(':') else { return false };
    !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !value.trim().is_empty()
        && !t.chars().any(|c| c.is_control())
}
