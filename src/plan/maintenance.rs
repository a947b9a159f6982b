//! Scheduled maintenance (`pipeline { maintenance { ... } }`): which update
//! pull requests the repository gets, decided once here and written by the
//! GitHub target as `.github/dependabot.yml`.
//!
//! One update entry per package ecosystem and folder: the services' package
//! manifests in their build contexts (the ecosystem from the toolchain's
//! package manager, [`ECOSYSTEMS`]) and the folders of their Dockerfiles
//! (`docker`, the `FROM` images). Services sharing a folder share its entry:
//! Dependabot refuses a configuration that names one ecosystem and folder
//! twice.
//!
//! The generated workflows are left out on purpose (no `github-actions`
//! entry): their actions are pinned by deployc's pin table and rewritten on
//! every build, so an update pull request to them would be a hand edit of
//! generated output, which the drift guard rejects. They move with deployc.
//!
//! **Invariant:** every (ecosystem, directory) pair appears once, directories
//! are absolute from the repository root, and an interval of `never` writes
//! no entry.

use crate::model::{Model, Toolchain, UpdateInterval};
use std::collections::BTreeMap;

/// Dependabot's package ecosystem per package manager (a toolchain's
/// `cache`), then per toolchain family when the package manager is unknown.
pub static ECOSYSTEMS: &[(&str, &str)] = &[
    ("npm", "npm"),
    ("yarn", "npm"),
    ("pnpm", "npm"),
    ("pip", "pip"),
    ("pipenv", "pip"),
    ("poetry", "pip"),
    ("go", "gomod"),
    ("maven", "maven"),
    ("gradle", "gradle"),
];

/// The ecosystem of a family, when its toolchain names no known package manager.
pub static FAMILY_ECOSYSTEMS: &[(&str, &str)] =
    &[("node", "npm"), ("python", "pip"), ("go", "gomod"), ("java", "maven")];

/// Dependabot's ecosystem for a toolchain's package manifests.
pub fn ecosystem(tc: &Toolchain) -> Option<&'static str> {
    let find = |table: &'static [(&str, &str)], key: &str| table.iter().find(|(k, _)| *k == key).map(|(_, e)| *e);
    tc.cache.as_deref().and_then(|c| find(ECOSYSTEMS, c)).or_else(|| find(FAMILY_ECOSYSTEMS, &tc.family))
}

/// One update entry: an ecosystem in one folder, on one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub ecosystem: &'static str,
    /// From the repository root, `/` first.
    pub directory: String,
    pub interval: UpdateInterval,
    /// The services whose files the entry updates, for the entry's comment.
    pub services: Vec<String>,
}

/// A folder of the repository as Dependabot names it (`/`, `/backend`).
fn folder(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_matches('/');
    if p.is_empty() || p == "." {
        "/".into()
    } else {
        format!("/{p}")
    }
}

/// The update entries the program asks for; empty without `maintenance`.
pub fn updates(model: &Model) -> Vec<Update> {
    let Some(m) = &model.pipeline.maintenance else { return Vec::new() };
    let mut entries: BTreeMap<(&'static str, String), (UpdateInterval, Vec<String>)> = BTreeMap::new();
    for b in model.built_services() {
        let s = b.service;
        if m.dependencies != UpdateInterval::Never {
            if let Some(eco) = ecosystem(b.toolchain) {
                let e = entries.entry((eco, folder(&s.build_context))).or_insert((m.dependencies, Vec::new()));
                e.1.push(s.name.clone());
            }
        }
        if m.base_images != UpdateInterval::Never {
            let dir = s.dockerfile.rsplit_once('/').map(|(d, _)| d).unwrap_or(".");
            let e = entries.entry(("docker", folder(dir))).or_insert((m.base_images, Vec::new()));
            e.1.push(s.name.clone());
        }
    }
    entries
        .into_iter()
        .map(|((ecosystem, directory), (interval, services))| Update { ecosystem, directory, interval, services })
        .collect()
}

/// Whether the repository is on GitHub, where Dependabot runs (W0019).
pub fn on_github(model: &Model) -> bool {
    model.repository_on_github()
}

#[cfg(test)]
mod tests {
    use super::folder;

    #[test]
    fn folders_are_absolute_from_the_repository_root() {
        assert_eq!(folder("."), "/");
        assert_eq!(folder(""), "/");
        assert_eq!(folder("./backend/"), "/backend");
        assert_eq!(folder("services/api"), "/services/api");
    }
}
