//! Presets: `preset web { ... }` holds service fields that several services
//! share, and `service api { extends = web ... }` starts from them.
//!
//! Presets are merged into services here, on checked fields, before the
//! model is built: the rest of the checker and everything after it see
//! ordinary services. Precedence, lowest first: the preset a preset extends,
//! the preset, the service (then, per environment, `service_defaults` and the
//! service's entry in `services`; see `lower`). A field given at a higher
//! level replaces the lower one whole, except the free-key block `env`, which
//! merges variable by variable.
//!
//! **Invariant:** a preset's own fields are checked once, where it is
//! written, so an error in a preset is reported once however many services
//! extend it; a merged field keeps the span of the line that set it.

use super::schema::{self, RefKind};
use super::value::{Cx, Fields, Val, V};
use super::Checked;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use std::collections::BTreeMap;

/// Merges `top` over `base`: `top`'s fields replace `base`'s, blocks of free
/// keys (`V::Map`, e.g. `env`) merge key by key with `top` winning.
pub fn merge(base: &Fields, top: &Fields) -> Fields {
    let mut out = base.clone();
    for (k, (kspan, val)) in top {
        match (out.get_mut(k), &val.v) {
            (Some((_, Val { v: V::Map(lower), .. })), V::Map(upper)) => {
                for (name, entry) in upper {
                    lower.insert(name.clone(), entry.clone());
                }
            }
            _ => {
                out.insert(k.clone(), (*kspan, val.clone()));
            }
        }
    }
    out
}

/// The preset a declaration's fields extend, if it names one that resolved.
fn parent(fields: &Fields) -> Option<(String, crate::source::Span)> {
    match fields.get("extends") {
        Some((_, Val { v: V::Ref(RefKind::Preset, name), span })) => Some((name.clone(), *span)),
        _ => None,
    }
}

/// Checks presets (E0221 fields they cannot carry, E0220 cycles), merges each
/// service's preset into it and reports the service's missing required
/// fields (E0204) on the merged result.
pub fn apply(cx: &mut Cx, checked: &mut [Checked]) {
    let mut presets: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in checked.iter().enumerate() {
        if c.keyword == "preset" {
            presets.insert(c.name().to_string(), i);
            for (field, why) in schema::PRESET_EXCLUDED {
                if let Some((kspan, _)) = c.fields.get(*field) {
                    cx.diags.push(
                        Diagnostic::new(Code::E0221, format!("a preset cannot carry `{field}`"))
                            .label(*kspan, *why)
                            .help(format!("Give `{field}` in each service that extends `{}`.", c.name())),
                    );
                }
            }
        }
    }
    // Resolve every preset's chain once, in name order, so a cycle is
    // reported once, at the first preset of it by name.
    let mut resolved: BTreeMap<String, Option<Fields>> = BTreeMap::new();
    for name in presets.keys() {
        resolve(cx, checked, &presets, name, &mut Vec::new(), &mut resolved);
    }
    for c in checked.iter_mut().filter(|c| c.keyword == "service") {
        if let Some((p, _)) = parent(&c.fields) {
            // A preset in a cycle resolved to nothing: the service keeps its
            // own fields (the cycle is reported; missing fields would only add noise).
            match resolved.get(&p) {
                Some(Some(base)) => c.fields = merge(base, &c.fields),
                _ => continue,
            }
        } else if matches!(c.fields.get("extends"), Some((_, Val { v: V::Error, .. }))) {
            // An unknown preset is reported; its fields are unknown too.
            continue;
        }
        let anchor = c.anchor();
        cx.required(&c.fields, schema::SERVICE, anchor);
    }
}

/// The fields of preset `name` with its chain merged in; `None` when the
/// chain has a cycle (reported here, E0220) or an unknown preset.
fn resolve(
    cx: &mut Cx,
    checked: &[Checked],
    presets: &BTreeMap<String, usize>,
    name: &str,
    stack: &mut Vec<String>,
    resolved: &mut BTreeMap<String, Option<Fields>>,
) -> Option<Fields> {
    if let Some(r) = resolved.get(name) {
        return r.clone();
    }
    let idx = *presets.get(name)?;
    let own = &checked[idx].fields;
    if let Some(pos) = stack.iter().position(|s| s == name) {
        let mut cycle: Vec<&str> = stack[pos..].iter().map(String::as_str).collect();
        cycle.push(name);
        // The edge that closes the cycle is the `extends` of the preset that led here.
        let closing = stack.last().and_then(|s| presets.get(s)).map(|&i| &checked[i]);
        let span = closing.and_then(|c| parent(&c.fields)).map(|(_, s)| s).unwrap_or_else(|| checked[idx].anchor());
        cx.diags.push(
            Diagnostic::new(Code::E0220, format!("presets extend each other in a cycle: {}", cycle.join(" → ")))
                .label(span, "this `extends` closes the cycle")
                .help(Code::E0220.info().help),
        );
        for s in &stack[pos..] {
            resolved.insert(s.clone(), None);
        }
        return None;
    }
    let out = match parent(own) {
        Some((p, _)) => {
            stack.push(name.to_string());
            let base = resolve(cx, checked, presets, &p, stack, resolved);
            stack.pop();
            if resolved.get(name).is_some_and(|r| r.is_none()) {
                // This preset is part of a cycle found further down.
                return None;
            }
            base.map(|b| merge(&b, own))
        }
        None if matches!(own.get("extends"), Some((_, Val { v: V::Error, .. }))) => None,
        None => Some(own.clone()),
    };
    resolved.insert(name.to_string(), out.clone());
    out
}
