//! `examples/README.md` lists, per example, what its seed describes that the
//! language cannot say: exactly the `// not expressible yet:` lines of the
//! program, in order. Out-of-scope items are argued in the README's own
//! section and carry no such line.

use std::collections::BTreeMap;
use std::path::Path;

const MARK: &str = "// not expressible yet: ";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Per example file name, its `not expressible yet` items in order.
fn from_programs() -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(root().join("examples")).expect("examples") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "dpl") {
            let text = std::fs::read_to_string(&p).expect("readable");
            let items: Vec<String> =
                text.lines().filter_map(|l| l.trim().strip_prefix(MARK)).map(|s| s.trim().to_string()).collect();
            if !items.is_empty() {
                out.insert(p.file_name().expect("name").to_string_lossy().to_string(), items);
            }
        }
    }
    out
}

/// The README's `## Not expressible yet` section: `### NAME.dpl` headings and `- item` bullets.
fn from_readme() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(root().join("examples/README.md")).expect("README");
    let section = text.split("## Not expressible yet").nth(1).expect("the README has the section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            current = Some(h.trim().to_string());
        } else if let (Some(item), Some(c)) = (line.strip_prefix("- "), &current) {
            out.entry(c.clone()).or_default().push(item.trim().to_string());
        }
    }
    out
}

#[test]
fn the_readme_lists_exactly_the_lines_of_the_programs() {
    let programs = from_programs();
    let readme = from_readme();
    // Both may be empty (every line expressed or argued out of scope); the
    // section must still exist, which `from_readme` holds.
    assert_eq!(readme, programs, "examples/README.md and the `{MARK}` lines of examples/*.dpl differ");
}
