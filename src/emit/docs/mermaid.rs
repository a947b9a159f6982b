//! The page's Mermaid diagrams: the system overview (flowchart), the
//! delivery pipeline (sequence diagram) and the service dependencies.
//!
//! Every label goes through [`text`], which writes the characters Mermaid
//! gives a meaning to (`"`, `#`, `;`, `<`, `>`) as entity codes, and node ids
//! are made of letters, digits and `_` only, so any program yields diagrams
//! Mermaid parses (CI renders them with Mermaid's own CLI).

use super::words;
use crate::model::*;
use std::fmt::Write;

/// A label safe inside `"..."` in a flowchart and in sequence-diagram text.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Several lines of one node label.
fn lines(parts: &[&str]) -> String {
    parts.iter().map(|p| text(p)).collect::<Vec<_>>().join("<br/>")
}

/// A node id from a prefix and a name (names are DNS labels or identifiers).
fn id(prefix: &str, name: &str) -> String {
    let mut s = String::from(prefix);
    s.push('_');
    s.extend(name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }));
    s
}

/// Distinct clusters in environment order, each with its environments.
fn clusters(model: &Model) -> Vec<(String, Vec<&Environment>)> {
    let mut out: Vec<(String, Vec<&Environment>)> = Vec::new();
    for e in words::delivery_order(model) {
        match out.iter_mut().find(|(c, _)| *c == e.cluster) {
            Some((_, envs)) => envs.push(e),
            None => out.push((e.cluster.clone(), vec![e])),
        }
    }
    out
}

/// The system overview: source and CI, registry, GitOps, each cluster with
/// its environments (namespace and strategy), users and integrations.
pub fn overview(model: &Model) -> String {
    let p = &model.project;
    let mut s = String::from("flowchart LR\n");
    let host = words::repo_host(&p.repository);
    let ci = words::ci(model.pipeline.provider);
    // No subgraph around the repository and CI: the loop between them
    // (push, then the tag update) stretches one badly.
    let repo = format!("{host} repository");
    let _ = writeln!(s, "    REPO[\"{}\"]", lines(&[&repo, &p.repository, &format!("branch {}", p.branch)]));
    let gates = match model.gates.len() {
        0 => "no quality gates".to_string(),
        1 => "1 quality gate".to_string(),
        n => format!("{n} quality gates"),
    };
    let _ = writeln!(s, "    CI[\"{}\"]", lines(&[ci, &gates]));
    let (reg, detail) = words::registry(&p.registry);
    s.push_str("    subgraph registry[\"Container registry\"]\n");
    let _ = writeln!(s, "        REG[\"{}\"]", lines(&[reg, &detail]));
    // The copy the GKE clusters pull (`plan::registry::Mirror`).
    let mirror = crate::plan::delivery::image_mirror(model);
    if let Some(m) = &mirror {
        let _ = writeln!(s, "        MIRROR[\"{}\"]", lines(&["Google Artifact Registry", &m.prefix()]));
    }
    s.push_str("    end\n");
    s.push_str("    subgraph gitops[\"GitOps\"]\n");
    let mode = match p.gitops.mode {
        GitOpsMode::Application => "one Application per environment",
        GitOpsMode::ApplicationSet => "one ApplicationSet",
    };
    let _ = writeln!(s, "        ARGO[\"{}\"]", lines(&["ArgoCD", &format!("namespace {}", p.gitops.namespace), mode]));
    s.push_str("    end\n");
    let clusters = clusters(model);
    for (i, (cluster, envs)) in clusters.iter().enumerate() {
        // Each cluster's own cloud (environments sharing one share its cloud, E0410).
        let kube = envs.first().map_or(words::kubernetes(&p.cloud), |e| words::kubernetes(model.cloud_of(e)));
        // Nodes in delivery order, so the layout reads in that order too.
        let _ = writeln!(s, "    subgraph cluster_{i}[\"{}\"]", text(&format!("{kube} · {}", words::cluster(cluster))));
        for e in envs {
            let title = if e.production && !e.name.contains("prod") {
                format!("{} (production)", e.name)
            } else {
                e.name.clone()
            };
            let _ = writeln!(
                s,
                "        {}[\"<b>{}</b><br/>{}\"]",
                id("env", &e.name),
                text(&title),
                lines(&[&format!("namespace {}", e.namespace), &words::strategy_short(&e.strategy)])
            );
        }
        s.push_str("    end\n");
    }
    let exposed = model.services.iter().any(|sv| matches!(sv.expose, Exposure::Ingress { .. }));
    if exposed {
        s.push_str("    subgraph internet[\"Internet\"]\n        USERS([\"Users\"])\n");
        if let Some(d) = &p.dns {
            let _ = writeln!(s, "        DNS[\"{}\"]", lines(&["Route53 DNS", &d.zone]));
        }
        s.push_str("    end\n");
    }
    if !model.integrations.is_empty() {
        s.push_str("    subgraph integrations[\"Integrations\"]\n");
        for i in &model.integrations {
            let (product, _) = words::integration(i);
            let _ = writeln!(s, "        {}[\"{}\"]", id("int", &i.name), lines(&[product, &i.name]));
        }
        s.push_str("    end\n");
    }
    // Edges: the delivery loop, each environment, then the outside.
    s.push_str("    REPO -->|push| CI\n");
    s.push_str("    CI -->|build and push images| REG\n");
    if mirror.is_some() {
        s.push_str("    CI -->|copy images| MIRROR\n");
    }
    s.push_str("    CI -->|update image tags| REPO\n");
    s.push_str("    REPO -->|sync| ARGO\n");
    for e in words::delivery_order(model) {
        let _ = writeln!(s, "    ARGO -->|deploy| {}", id("env", &e.name));
    }
    for (i, (_, envs)) in clusters.iter().enumerate() {
        let copy = envs.first().is_some_and(|e| crate::plan::registry::mirror(model, e).is_some());
        let _ = writeln!(s, "    {} -.->|pull| cluster_{i}", if copy { "MIRROR" } else { "REG" });
    }
    if exposed {
        let entry = if p.dns.is_some() {
            s.push_str("    USERS --> DNS\n");
            "DNS"
        } else {
            "USERS"
        };
        for i in 0..clusters.len() {
            let _ = writeln!(s, "    {entry} -->|https| cluster_{i}");
        }
    }
    for i in &model.integrations {
        let (from_ci, label) = match i.kind {
            IntegrationKind::Slack { .. } | IntegrationKind::Jira { .. } => (true, "notify"),
            IntegrationKind::PagerDuty { .. } => (true, "alert"),
            IntegrationKind::Codecov { .. } => (true, "coverage"),
            IntegrationKind::Opsgenie { .. } => (false, "alert"),
            IntegrationKind::NewRelic { .. } | IntegrationKind::Datadog { .. } => (false, "metrics and analysis"),
            IntegrationKind::Sentry { .. } => (false, "errors"),
        };
        if from_ci {
            let _ = writeln!(s, "    CI -.->|{label}| {}", id("int", &i.name));
        } else {
            // Monitoring integrations watch every cluster.
            for k in 0..clusters.len() {
                let _ = writeln!(s, "    cluster_{k} -.->|{label}| {}", id("int", &i.name));
            }
        }
    }
    s
}

/// The gates that run on a push (in parallel, before the build).
fn push_gates(model: &Model) -> Vec<&Gate> {
    let mut gates: Vec<&Gate> =
        model.gates.iter().filter(|g| g.when.iter().any(|t| matches!(t, Trigger::Push(_)))).collect();
    if let Some(first) = model.environments.first() {
        for g in &first.requires {
            let g = &model.gates[g.0 as usize];
            if !gates.iter().any(|x| x.id == g.id) {
                gates.push(g);
            }
        }
    }
    gates.sort_by_key(|g| g.id);
    gates
}

/// The delivery pipeline: push, gates in parallel, build, the first
/// environment, then each promotion.
pub fn pipeline(model: &Model) -> String {
    let p = &model.project;
    let mut s = String::from("sequenceDiagram\n");
    let host = words::repo_host(&p.repository);
    let (reg, _) = words::registry(&p.registry);
    let gates = push_gates(model);
    s.push_str("    actor Dev as Developer\n");
    let _ = writeln!(s, "    participant Repo as {}", text(host));
    let _ = writeln!(s, "    participant CI as {}", text(words::ci(model.pipeline.provider)));
    if !gates.is_empty() {
        s.push_str("    participant QG as Quality gates\n");
    }
    let _ = writeln!(s, "    participant Reg as {}", text(reg));
    s.push_str("    participant Argo as ArgoCD\n");
    s.push_str("    participant K8s as Kubernetes\n");

    let build = |s: &mut String, trigger: &str| {
        let _ = writeln!(s, "    Dev->>Repo: {}", text(trigger));
        s.push_str("    Repo->>CI: start the pipeline\n");
    };
    let gates_and_image = |s: &mut String| {
        if !gates.is_empty() {
            for (i, g) in gates.iter().enumerate() {
                let _ = writeln!(s, "    {} {}", if i == 0 { "par" } else { "and" }, text(&g.name));
                let what = if g.name == g.tool { g.name.clone() } else { format!("{} ({})", g.name, g.tool) };
                let _ = writeln!(s, "        CI->>QG: {}", text(&what));
            }
            s.push_str("    end\n");
            s.push_str("    QG-->>CI: blocking gates passed\n");
        }
        let tags = if model.pipeline.tags.is_empty() {
            String::new()
        } else {
            format!(" ({})", words::words_of(&model.pipeline.tags))
        };
        let _ = writeln!(s, "    CI->>Reg: {}", text(&format!("build and push images{tags}")));
    };
    let deploy = |s: &mut String, e: &Environment| {
        let _ = writeln!(s, "    CI->>Repo: {}", text(&format!("update {} image tags", e.name)));
        // With the push webhook the repository tells ArgoCD; without it
        // ArgoCD notices the commit on its next poll.
        let how = if model.project.gitops.webhook.is_some() { "webhook: sync" } else { "sync" };
        let _ = writeln!(s, "    Repo->>Argo: {}", text(&format!("{how} {}", e.name)));
        let before = words::before_steps(model, e);
        if !before.is_empty() {
            let _ = writeln!(s, "    Argo->>K8s: {}", text(&format!("before: {}", before.join(", "))));
        }
        let _ = writeln!(
            s,
            "    Argo->>K8s: {}",
            text(&format!("deploy to {} ({})", e.name, words::strategy_word(&e.strategy)))
        );
        if !e.after.is_empty() {
            let _ = writeln!(s, "    K8s-->>CI: {}", text(&format!("{}: {}", e.name, words::words_of(&e.after))));
        }
    };
    // The push that starts everything: the first environment's trigger, or
    // the pipeline's own.
    let mut built_for: Option<String> = None;
    for e in words::delivery_order(model) {
        match &e.promote {
            Promotion::OnPush(b) => {
                let b = b.join(", ");
                if built_for.as_deref() != Some(b.as_str()) {
                    build(&mut s, &format!("push to {b}"));
                    gates_and_image(&mut s);
                    built_for = Some(b);
                }
                deploy(&mut s, e);
            }
            Promotion::OnTag(t) => {
                build(&mut s, &format!("push tag {t}"));
                gates_and_image(&mut s);
                deploy(&mut s, e);
            }
            Promotion::Manual { from } => {
                if built_for.is_none() && from.is_none() {
                    build(&mut s, &format!("push to {}", p.branch));
                    gates_and_image(&mut s);
                    built_for = Some(p.branch.clone());
                }
                let what = match from {
                    Some(f) => format!("manual promotion {} → {}", model.env(*f).name, e.name),
                    None => format!("manual deployment to {}", e.name),
                };
                let _ = writeln!(s, "    Note over Dev,K8s: {}", text(&what));
                let who = if e.approvers.is_empty() {
                    String::new()
                } else {
                    format!(" (approval: {})", e.approvers.join(", "))
                };
                let _ = writeln!(s, "    Dev->>CI: {}", text(&format!("promote to {}{who}", e.name)));
                deploy(&mut s, e);
            }
        }
    }
    if model.environments.is_empty() {
        build(&mut s, &format!("push to {}", p.branch));
        gates_and_image(&mut s);
    }
    s
}

/// Services and what they depend on and use.
pub fn dependencies(model: &Model) -> String {
    let mut s = String::from("flowchart LR\n");
    for sv in &model.services {
        let _ = writeln!(
            s,
            "    {}[\"{}\"]",
            id("svc", &sv.name),
            lines(&[
                &sv.name,
                &match sv.port {
                    Some(p) => format!("port {p}"),
                    None => sv.kind.word().to_string(),
                }
            ])
        );
    }
    for r in &model.resources {
        let _ = writeln!(s, "    {}[(\"{}\")]", id("res", &r.name), lines(&[&r.name, &words::engine(r)]));
    }
    for sv in &model.services {
        for d in &sv.depends_on {
            let _ = writeln!(s, "    {} --> {}", id("svc", &sv.name), id("svc", &model.service(*d).name));
        }
        for r in &sv.uses {
            let _ = writeln!(s, "    {} -.-> {}", id("svc", &sv.name), id("res", &model.resource(*r).name));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_what_mermaid_reads() {
        assert_eq!(text("#deploys \"x\"; <b>"), "#35;deploys #quot;x#quot;#59; #lt;b#gt;");
        assert_eq!(id("env", "qa-eu"), "env_qa_eu");
    }
}
