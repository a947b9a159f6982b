//! The global symbol table: every named declaration by kind and name.

use super::schema::RefKind;
use crate::source::Span;
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct Sym {
    /// Span of the declared name.
    pub span: Span,
    /// Whether it was declared in a standard-library module.
    pub from_std: bool,
    /// The tag of a tagged declaration (`postgres`, `canary`, `grype`), else empty.
    pub tag: String,
    /// Set by whichever thread checks a reference to it (declarations are
    /// checked in parallel).
    pub used: std::sync::atomic::AtomicBool,
    /// Index of the declaration in the checker's list.
    pub decl: usize,
}

#[derive(Default, Debug)]
pub struct Symbols {
    map: BTreeMap<(RefKind, String), Sym>,
}

impl Symbols {
    pub fn insert(&mut self, kind: RefKind, name: &str, sym: Sym) -> Result<(), &Sym> {
        let key = (kind, name.to_string());
        if self.map.contains_key(&key) {
            return Err(&self.map[&key]);
        }
        self.map.insert(key, sym);
        Ok(())
    }
    pub fn get(&self, kind: RefKind, name: &str) -> Option<&Sym> {
        self.map.get(&(kind, name.to_string()))
    }
    pub fn mark_used(&self, kind: RefKind, name: &str) {
        if let Some(s) = self.map.get(&(kind, name.to_string())) {
            s.used.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    /// Names of one kind, sorted.
    pub fn names(&self, kind: RefKind) -> impl Iterator<Item = &str> {
        self.map.range((kind, String::new())..).take_while(move |((k, _), _)| *k == kind).map(|((_, n), _)| n.as_str())
    }
    /// The kind a name is declared as, if any (the first in kind order).
    pub fn kind_of(&self, name: &str) -> Option<RefKind> {
        self.map.keys().find(|(_, n)| n == name).map(|(k, _)| *k)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&(RefKind, String), &Sym)> {
        self.map.iter()
    }
}
