//! Update pull requests as Dependabot reads `.github/dependabot.yml`: one
//! entry per ecosystem and folder (it refuses duplicates), the package
//! ecosystem of each service's toolchain in its build context, the base
//! images in its Dockerfile's folder, the declared schedules, nothing for
//! the generated workflows, and nothing at all where GitHub does not host
//! the repository (W0019). `.ci/run` checks the files against Dependabot's
//! JSON schema.

mod common;
use deployc::emit::Target;
use serde_json::Value;
use std::collections::BTreeSet;

const FILE: &str = ".github/dependabot.yml";

/// The program's Dependabot entries (ecosystem, directory, interval), compiled
/// as if it were the file `rel` (relative paths such as sealed files resolve).
fn entries_of(rel: &str, text: &str) -> Vec<(String, String, String)> {
    let c = deployc::compile(rel, text, &common::Disk);
    let errs: Vec<_> = c.diagnostics.items.iter().map(|d| d.message.clone()).collect();
    let (model, graph) = c.output.unwrap_or_else(|| panic!("{rel} compiles: {errs:?}"));
    let options = Default::default();
    let plan = deployc::plan::Plan::new(&model, &graph, &options);
    let arts = deployc::emit::emit(&plan, &[Target::Github]);
    let Some(a) = arts.iter().find(|a| a.path == FILE) else { return Vec::new() };
    let cfg: Value = serde_yaml_ng::from_str(&a.contents).expect("YAML");
    assert_eq!(cfg["version"], 2);
    cfg["updates"]
        .as_array()
        .expect("updates")
        .iter()
        .map(|u| {
            let s = |k: &str| u.pointer(k).and_then(Value::as_str).expect(k).to_string();
            (s("/package-ecosystem"), s("/directory"), s("/schedule/interval"))
        })
        .collect()
}

fn entries(text: &str) -> Vec<(String, String, String)> {
    entries_of("p.dpl", text)
}

fn example(name: &str) -> String {
    common::programs().into_iter().find(|(r, _)| r.ends_with(name)).expect("program").1
}

fn owned(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

#[test]
fn each_service_folder_gets_its_ecosystem_and_its_base_images() {
    assert_eq!(
        entries_of("examples/austa-cockpit.dpl", &example("examples/austa-cockpit.dpl")),
        owned(&[
            ("docker", "/ai-service", "monthly"),
            ("docker", "/backend", "monthly"),
            ("docker", "/frontend", "monthly"),
            ("npm", "/backend", "weekly"),
            ("npm", "/frontend", "weekly"),
            ("pip", "/ai-service", "weekly"),
        ])
    );
}

#[test]
fn services_sharing_a_folder_share_its_entry() {
    // Four services build from the repository root with node and python toolchains.
    assert_eq!(
        entries(&example("tests/programs/worker.dpl")),
        owned(&[("docker", "/", "monthly"), ("npm", "/", "daily"), ("pip", "/", "daily")])
    );
}

#[test]
fn no_program_names_an_ecosystem_and_folder_twice_or_the_generated_workflows() {
    let mut seen = 0;
    for (name, text) in common::programs() {
        let e = entries_of(&name, &text);
        let pairs: BTreeSet<_> = e.iter().map(|(eco, dir, _)| (eco.clone(), dir.clone())).collect();
        assert_eq!(pairs.len(), e.len(), "{name}: {e:?}");
        assert!(e.iter().all(|(eco, dir, _)| eco != "github-actions" && dir.starts_with('/')), "{name}");
        seen += usize::from(!e.is_empty());
    }
    assert!(seen >= 2, "only {seen} programs ask for maintenance");
}

#[test]
fn never_writes_no_entry_and_no_block_writes_no_file() {
    let text = example("tests/programs/worker.dpl");
    let no_deps = text.replace("maintenance { dependencies = daily }", "maintenance { dependencies = never }");
    assert_eq!(entries(&no_deps), owned(&[("docker", "/", "monthly")]));
    let none = text
        .replace("maintenance { dependencies = daily }", "maintenance { dependencies = never base_images = never }");
    assert!(entries(&none).is_empty());
    assert!(entries(&text.replace("  maintenance { dependencies = daily }\n", "")).is_empty());
}

/// Dependabot serves a repository on GitHub whatever CI builds it: a Jenkins
/// pipeline still gets the file; a GitLab repository gets W0019 and none.
#[test]
fn the_file_follows_the_repository_host_not_the_ci() {
    let text = example("tests/programs/worker.dpl");
    let jenkins = text.replace("maintenance { dependencies = daily }", "provider = jenkins\n  maintenance {}");
    assert_eq!(entries(&jenkins), owned(&[("docker", "/", "monthly"), ("npm", "/", "weekly"), ("pip", "/", "weekly")]));
    let gitlab = text
        .replace("github.com/acme/tasks", "gitlab.com/acme/tasks")
        .replace("maintenance { dependencies = daily }", "provider = gitlab\n  maintenance {}");
    let c = deployc::compile("p.dpl", &gitlab, &common::Disk);
    let codes: Vec<String> = c.diagnostics.items.iter().map(|d| format!("{:?}", d.code)).collect();
    assert!(codes.contains(&"W0019".to_string()), "{codes:?}");
    assert!(entries(&gitlab).is_empty());
}
