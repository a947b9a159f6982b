//! The docs target: the architecture page of each example has its diagrams
//! and tables, and they say what the program says. (CI also renders every
//! diagram with Mermaid's CLI: `.ci/run`.)

mod common;
use deployc::emit::{self, Target};
use deployc::plan::Plan;

fn page(program: &str) -> String {
    let c = common::compile_file(program);
    let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
    let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Docs]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].path, "docs/ARCHITECTURE.md");
    out[0].contents.clone()
}

/// The Mermaid blocks of a page.
fn diagrams(page: &str) -> Vec<String> {
    page.split("```mermaid\n").skip(1).map(|b| b.split("```").next().unwrap_or("").to_string()).collect()
}

/// The rows of the Markdown table that follows `heading`.
fn table(page: &str, heading: &str) -> Vec<Vec<String>> {
    let start = page.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    page[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

const EXAMPLES: &[&str] =
    &["healthcp", "austa-cockpit", "platform-microservices", "cicd-pipeline", "healthcare-devops"];

#[test]
fn every_example_has_the_sections_and_diagrams() {
    for name in EXAMPLES {
        let p = page(&format!("examples/{name}.dpl"));
        for section in [
            "## System overview",
            "## Delivery pipeline",
            "## Environments",
            "## Services",
            "## Resources per environment",
            "## Quality gates",
            "## Integrations",
        ] {
            assert!(p.contains(section), "{name}: no {section}");
        }
        let d = diagrams(&p);
        assert!(d.len() >= 2, "{name}: {} diagrams", d.len());
        assert!(d[0].starts_with("flowchart LR\n"), "{name}");
        assert!(d[1].starts_with("sequenceDiagram\n"), "{name}");
        for diagram in &d {
            // Labels are quoted and escaped: a raw `;` would end a statement.
            for line in diagram.lines().filter(|l| l.contains("[\"")) {
                let label = &line[line.find("[\"").unwrap_or(0) + 2..line.rfind("\"]").unwrap_or(line.len())];
                assert!(!label.contains('"') && !label.contains(';'), "{name}: {line}");
            }
        }
    }
}

#[test]
fn healthcp_page_matches_the_seed() {
    let p = page("examples/healthcp.dpl");
    let envs = table(&p, "## Environments");
    assert_eq!(envs.len(), 3);
    let names: Vec<&str> = envs.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["dev", "qa", "staging"]);
    assert!(envs[0][1].starts_with("Rolling update"));
    assert!(envs[1][1].starts_with("Canary 10% → 30% → 60% → 100%; pause 5m"), "{}", envs[1][1]);
    assert!(envs[2][1].starts_with("Blue-green (preview + active); switch by manual promotion"), "{}", envs[2][1]);
    assert_eq!(envs[1][2], "`healthcp-qa`");
    assert_eq!(envs[1][4], "https://healthcp-qa.agent.opsera.dev");
    assert_eq!(envs[0][5], "automatic on push to `main`");
    assert_eq!(envs[2][5], "manual, from `qa`");

    let gates = table(&p, "## Quality gates");
    let tools: Vec<(&str, &str)> = gates.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(tools, [("`sast`", "sonarqube"), ("`sca`", "grype"), ("`secrets`", "gitleaks")]);
    assert!(gates[1][2].contains("vulnerabilities in dependencies, fails on high"));

    let ints = table(&p, "## Integrations");
    let products: Vec<&str> = ints.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(products, ["Jira", "New Relic", "Slack", "Route53"]);

    let d = diagrams(&p);
    let overview = &d[0];
    for node in ["REPO[", "CI[\"GitHub Actions", "REG[\"AWS ECR", "ARGO[\"ArgoCD", "DNS[\"Route53 DNS", "int_newrelic["]
    {
        assert!(overview.contains(node), "overview lacks {node}:\n{overview}");
    }
    assert!(overview.contains("env_qa[\"<b>qa</b><br/>namespace healthcp-qa<br/>Canary 10% → 30% → 60% → 100%\"]"));

    // The pipeline: push, the gates in parallel, build, dev, then each
    // manual promotion, in this order.
    let seq = &d[1];
    let at = |needle: &str| seq.find(needle).unwrap_or_else(|| panic!("no `{needle}` in\n{seq}"));
    let order = [
        "Dev->>Repo: push to main",
        "par ",
        "CI->>QG: sast (sonarqube)",
        "CI->>QG: secrets (gitleaks)",
        "    end\n",
        "CI->>Reg: build and push images",
        "Argo->>K8s: deploy to dev (rolling)",
        "Note over Dev,K8s: manual promotion dev → qa",
        "Argo->>K8s: deploy to qa (canary 10% → 30% → 60% → 100%)",
        "Note over Dev,K8s: manual promotion qa → staging",
        "Argo->>K8s: deploy to staging (blue-green)",
    ];
    let positions: Vec<usize> = order.iter().map(|n| at(n)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "out of order: {positions:?}\n{seq}");
}

#[test]
fn resources_and_clusters_per_environment() {
    let p = page("examples/platform-microservices.dpl");
    assert!(p.contains("### `dev`") && p.contains("### `production`"));
    let dev = &p[p.find("### `dev`").expect("dev")..];
    let dev_rows = table(dev, "### `dev`");
    let db = dev_rows.iter().find(|r| r[0] == "`db`").expect("db row");
    assert_eq!(db[1], "Aurora PostgreSQL 16");
    assert_eq!(db[2], "managed by AWS");
    assert_eq!(db[3], "`db.t4g.medium`", "the dev override applies");
    let overview = &diagrams(&p)[0];
    assert_eq!(overview.matches("subgraph cluster_").count(), 3, "one subgraph per cluster");
    assert!(overview.contains("AWS EKS · production"));

    let p = page("examples/cicd-pipeline.dpl");
    let staging = table(&p, "### `staging`");
    assert!(staging.iter().all(|r| r[2] == "in the cluster (StatefulSet)"), "{staging:?}");
    // A tag-triggered environment gets its own build, after the push flow.
    let seq = &diagrams(&p)[1];
    assert!(seq.find("push to main").expect("push") < seq.find("push tag v*").expect("tag"));
}

#[test]
fn mermaid_labels_escape_what_mermaid_reads() {
    let src = r#"
project odd {
  repository = "github.com/acme/odd"
  registry   = ghcr { owner = "acme" }
  branch     = "a;b#c"
}
service api {
  language = python
  port     = 8080
}
environment dev { promote = on_push("main") }
"#;
    let c = deployc::compile("odd.dpl", src, &std::collections::BTreeMap::new());
    let (model, graph) = c.output.expect("compiles");
    let page = &emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Docs])[0].contents;
    assert!(page.contains("branch a#59;b#35;c"), "{page}");
}

#[test]
fn the_rendered_overviews_are_kept_beside_the_pages_but_never_generated() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in EXAMPLES {
        let docs = root.join(format!("examples/{name}/out/docs"));
        let png = std::fs::read(docs.join("overview.png")).unwrap_or_else(|_| panic!("{name}: no overview.png"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        let manifest =
            std::fs::read_to_string(root.join(format!("examples/{name}/out/.deployc-manifest"))).expect("manifest");
        assert!(manifest.lines().any(|l| l.ends_with("  docs/ARCHITECTURE.md")), "{name}: the page is generated");
        assert!(!manifest.contains("overview.png"), "{name}: the picture is not deployc's, so builds never remove it");
        // The picture shows the current overview: the diagram it was
        // rendered from is kept beside it.
        let page = std::fs::read_to_string(docs.join("ARCHITECTURE.md")).expect("page");
        let rendered = std::fs::read_to_string(docs.join("overview.mmd")).expect("overview.mmd");
        assert_eq!(
            diagrams(&page)[0],
            rendered,
            "{name}: overview.png is stale; run scripts/render-overviews.sh {name} and look at it"
        );
    }
}

/// The page lists exactly the charts the ArgoCD target's add-on
/// Applications install (one per cluster where there are several).
#[test]
fn the_page_lists_the_cluster_add_ons_argocd_installs() {
    for name in EXAMPLES {
        let program = format!("examples/{name}.dpl");
        let c = common::compile_file(&program);
        let (model, graph) = c.output.unwrap_or_else(|| panic!("{program} compiles"));
        let out = emit::emit(&Plan::new(&model, &graph, &Default::default()), &[Target::Docs, Target::Argocd]);
        let page = &out.iter().find(|a| a.path == "docs/ARCHITECTURE.md").expect("page").contents;
        let listed: std::collections::BTreeSet<String> = table(page, "## Cluster add-ons")
            .into_iter()
            .map(|r| r[1].split('`').nth(1).expect("`chart`").to_string())
            .collect();
        let installed: std::collections::BTreeSet<String> = out
            .iter()
            .filter(|a| a.path.starts_with("argocd/addons/application-"))
            .filter_map(|a| {
                let v: serde_json::Value = serde_yaml_ng::from_str(&a.contents).expect("yaml");
                v["spec"]["source"]["chart"].as_str().map(String::from)
            })
            .collect();
        assert!(!installed.is_empty(), "{name}: no add-ons");
        assert_eq!(listed, installed, "{name}");
    }
}
