//! The journal that makes a build crash-atomic.
//!
//! `.deployc-journal` in the output root exists for exactly as long as a
//! build may have changed the tree. It is created (state `staging`) before
//! the first temporary file, and replaced atomically, by a rename, with the
//! `commit` state once every temporary file is written: the list of renames
//! and deletions the build is about to make, closed by an `end` line with
//! their count. The build then applies the list and removes the journal.
//!
//! A run that finds a journal repairs the tree before anything else:
//! - `commit` with a matching `end` line: roll forward — apply the list again
//!   (a rename whose temporary file is gone was already done; a deletion
//!   still needs the recorded hash), giving the new tree;
//! - anything else (`staging`, a torn or tampered file): roll back — remove
//!   every temporary file and staged folder under the root by name
//!   (`.NAME.deployc-tmp`, a folder with all it holds); no rename had
//!   happened, so that is the previous tree.

use super::tree::{is_temp, safe, split, temp_name, Existing, Tree, WriteError};
use rustix::fs::AtFlags;
use std::collections::BTreeMap;

/// The journal's name in the output root.
pub const JOURNAL: &str = ".deployc-journal";
const HEADER: &str = "deployc journal 1";

/// One step of a committed build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Move the temporary sibling of this path (a file, or a new folder
    /// staged whole) into place.
    Rename(String),
    /// Remove this path if its content still has this SHA-256.
    Delete { path: String, hash: String },
}

/// What a run found and did about an interrupted build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The build had committed: its renames and deletions were completed.
    Completed,
    /// The build had not committed: this many temporary files were removed.
    RolledBack(usize),
}

/// What applying the steps did.
#[derive(Debug, Default)]
pub struct Applied {
    pub removed: Vec<String>,
}

/// Starts a build: from now until [`finish`], a crash rolls back.
pub fn begin(tree: &Tree) -> Result<(), WriteError> {
    let root =
        tree.dir("", false)?.ok_or_else(|| WriteError::io(tree.full(""), std::io::ErrorKind::NotFound.into()))?;
    tree.create(&root, JOURNAL, JOURNAL, format!("{HEADER}\nstaging\n").as_bytes(), false)
}

/// Commits a build: every temporary file is written; from now on a crash
/// rolls forward. The journal's data and the root's entry are synced first.
pub fn commit(tree: &Tree, steps: &[Step]) -> Result<(), WriteError> {
    let mut text = format!("{HEADER}\ncommit\n");
    for s in steps {
        match s {
            Step::Rename(p) => text.push_str(&format!("rename\t{p}\n")),
            Step::Delete { path, hash } => text.push_str(&format!("delete\t{hash}\t{path}\n")),
        }
    }
    text.push_str(&format!("end\t{}\n", steps.len()));
    let root = tree.root();
    let tmp = temp_name(&JOURNAL[1..]);
    tree.create(root, &tmp, &tmp, text.as_bytes(), true)?;
    rustix::fs::renameat(root, tmp.as_str(), root, JOURNAL).map_err(|e| (tree.full(JOURNAL), e))?;
    rustix::fs::fsync(root).map_err(|e| (tree.full(""), e))?;
    Ok(())
}

/// Ends a build (or a recovery): the tree is consistent again.
pub fn finish(tree: &Tree) -> Result<(), WriteError> {
    match rustix::fs::unlinkat(tree.root(), JOURNAL, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err((tree.full(JOURNAL), e).into()),
    }
}

/// Abandons a build that failed before its commit: removes its temporary
/// files and the journal.
pub fn abandon(tree: &Tree) -> Result<(), WriteError> {
    tree.sweep("")?;
    finish(tree)
}

/// The committed steps of a journal's text; `None` unless it is a complete
/// commit whose every path is safe.
fn parse(text: &str) -> Option<Vec<Step>> {
    let mut lines = text.lines();
    if lines.next()? != HEADER || lines.next()? != "commit" {
        return None;
    }
    let mut steps = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["rename", p] if safe(p) => steps.push(Step::Rename(p.to_string())),
            ["delete", h, p] if safe(p) && is_hash(h) => {
                steps.push(Step::Delete { path: p.to_string(), hash: h.to_string() })
            }
            ["end", n] if n.parse::<usize>().ok() == Some(steps.len()) => return Some(steps),
            _ => return None,
        }
    }
    None
}

fn is_hash(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Repairs the tree after an interrupted build, if there was one.
pub fn recover(tree: &Tree) -> Result<Option<Recovery>, WriteError> {
    let root = tree.root();
    let text = match tree.existing(root, JOURNAL, JOURNAL)? {
        Existing::Missing => return Ok(None),
        Existing::File(bytes) => String::from_utf8(bytes).unwrap_or_default(),
        // Not ours (a symlink, a folder): never read it, and roll back.
        Existing::Special | Existing::Dir => String::new(),
    };
    let outcome = match parse(&text) {
        Some(steps) => {
            apply(tree, &steps)?;
            Recovery::Completed
        }
        None => Recovery::RolledBack(tree.sweep("")?),
    };
    match tree.existing(root, JOURNAL, JOURNAL)? {
        Existing::Dir => {
            return Err(WriteError::new(
                super::tree::Problem::Conflict,
                tree.full(JOURNAL),
                "a folder has the journal's name; remove it",
            ))
        }
        _ => finish(tree)?,
    }
    Ok(Some(outcome))
}

/// Carries out committed steps: renames first (in parallel, one directory
/// handle per folder), then deletions whose content still has its hash.
/// Safe to repeat: a rename whose temporary file is gone is skipped.
pub fn apply(tree: &Tree, steps: &[Step]) -> Result<Applied, WriteError> {
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut deletions = Vec::new();
    for s in steps {
        match s {
            Step::Rename(p) => {
                let (dir, name) = split(p);
                by_dir.entry(dir).or_default().push(name);
            }
            Step::Delete { path, hash } => deletions.push((path.as_str(), hash.as_str())),
        }
    }
    let groups: Vec<(&str, Vec<&str>)> = by_dir.into_iter().collect();
    super::parallel(&groups, |(dir, names)| {
        let Some(fd) = tree.dir(dir, false)? else { return Ok(()) };
        for name in names {
            // A file, or a new folder staged whole: the same rename.
            match rustix::fs::renameat(&fd, temp_name(name).as_str(), &fd, *name) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                Err(e) => {
                    let rel = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
                    return Err((tree.full(&rel), e).into());
                }
            }
        }
        Ok(())
    })?;
    let mut applied = Applied { removed: Vec::new() };
    for (path, hash) in deletions {
        if super::remove_if_unchanged(tree, path, hash)? {
            applied.removed.push(path.to_string());
        }
    }
    Ok(applied)
}

/// Whether `name` is one of the writer's own files in the root.
pub fn is_own(name: &str) -> bool {
    name == JOURNAL || is_temp(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_complete_commit_rolls_forward() {
        let h = "a".repeat(64);
        let good = format!("{HEADER}\ncommit\nrename\tk8s/a.yaml\ndelete\t{h}\tk8s/b.yaml\nend\t2\n");
        assert_eq!(
            parse(&good),
            Some(vec![Step::Rename("k8s/a.yaml".into()), Step::Delete { path: "k8s/b.yaml".into(), hash: h.clone() }])
        );
        // Torn before the end line, a wrong count, the staging state, unsafe paths.
        assert_eq!(parse(&good[..good.len() - 6]), None);
        assert_eq!(parse(&good.replace("end\t2", "end\t3")), None);
        assert_eq!(parse(&format!("{HEADER}\nstaging\n")), None);
        assert_eq!(parse(&good.replace("k8s/a.yaml", "../a.yaml")), None);
        assert_eq!(parse(&good.replace("k8s/b.yaml", "/etc/passwd")), None);
    }
}
