//! The table of pinned actions and tool versions (`stdlib/actions.toml`,
//! embedded in the binary): every `uses:` the workflows write is
//! `owner/repo[/path]@<40-hex commit>`, and the release tag it stands for is
//! added as a comment after the SHA when the file is finished.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The embedded table, as written in the standard library.
pub const TABLE: &str = include_str!("../stdlib/actions.toml");

#[derive(Deserialize, Debug, Clone)]
pub struct Pin {
    pub version: String,
    pub sha: String,
}

#[derive(Deserialize, Debug, Default)]
pub struct Table {
    pub actions: BTreeMap<String, Pin>,
    pub tools: BTreeMap<String, String>,
}

/// The parsed table. The file ships inside the binary and a test parses it,
/// so a parse failure here is a build defect; it degrades to an empty table
/// (every reference then reads `@unpinned`, which the validators reject).
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| toml::from_str(TABLE).unwrap_or_default())
}

/// `owner/repo[/path]@sha` for an action of the table.
pub fn reference(action: &str) -> String {
    let repo: String = action.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
    match table().actions.get(&repo) {
        Some(p) => format!("{action}@{}", p.sha),
        None => format!("{action}@unpinned"),
    }
}

/// The pinned version of a command-line tool.
pub fn tool(name: &str) -> &'static str {
    table().tools.get(name).map(String::as_str).unwrap_or("latest")
}

/// Replaces the table's pins by the program's `pipeline.actions` (the
/// repository name without its owner → commit and tag), then appends
/// `# <tag>` to every `uses: ...@<sha>` line, so reviewers and Dependabot see
/// which release a SHA is.
pub fn annotate(yaml: &str, overrides: &BTreeMap<String, (String, String)>) -> String {
    let mut yaml = yaml.to_string();
    let mut by_sha: BTreeMap<&str, &str> =
        table().actions.values().map(|p| (p.sha.as_str(), p.version.as_str())).collect();
    for (repo, pin) in &table().actions {
        let name = repo.split_once('/').map_or(repo.as_str(), |(_, n)| n);
        if let Some((sha, tag)) = overrides.get(name) {
            // A commit names one repository, so this also moves its sub-path
            // actions (`github/codeql-action/init`).
            yaml = yaml.replace(&format!("@{}", pin.sha), &format!("@{sha}"));
            by_sha.insert(sha.as_str(), tag.as_str());
        }
    }
    let mut out = String::with_capacity(yaml.len() + 256);
    for line in yaml.lines() {
        out.push_str(line);
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(r) = t.strip_prefix("uses: ") {
            if let Some((_, sha)) = r.rsplit_once('@') {
                if let Some(v) = by_sha.get(sha) {
                    // A tag from the program stays on its comment line.
                    out.push_str(" # ");
                    out.extend(v.chars().map(|c| if c.is_control() { ' ' } else { c }));
                }
            }
        }
        out.push('\n');
    }
    out
}
