//! JSON merge patches (RFC 7386), the way Helm layers a values file over the
//! chart's `values.yaml`: maps merge key by key, `null` deletes a key, any
//! other value (lists included) replaces. `values-<env>.yaml` is the patch
//! from the defaults to that environment's values.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The smallest patch that turns `base` into `target`.
pub fn diff(base: &Value, target: &Value) -> Value {
    match (base, target) {
        (Value::Object(b), Value::Object(t)) => {
            let mut out = Map::new();
            for k in b.keys() {
                if !t.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            for (k, tv) in t {
                put(&mut out, k, b.get(k), tv);
            }
            Value::Object(out)
        }
        _ => target.clone(),
    }
}

/// The patch's entry for a key `target` has: nothing when unchanged, the
/// patch between two objects, else the target's value.
fn put(out: &mut Map<String, Value>, k: &str, base: Option<&Value>, target: &Value) {
    match base {
        Some(b) if b == target => {}
        Some(b @ Value::Object(_)) if target.is_object() => {
            out.insert(k.to_string(), diff(b, target));
        }
        _ => {
            out.insert(k.to_string(), target.clone());
        }
    }
}

/// The patch between two maps of typed values (the `services` of two
/// environments), each entry turned into JSON only while it is compared:
/// the same as [`diff`] of the two maps as JSON objects.
pub fn diff_maps<T>(
    base: &BTreeMap<String, T>,
    target: &BTreeMap<String, T>,
    json: impl Fn(&T) -> Value,
) -> Map<String, Value> {
    let mut out = Map::new();
    for k in base.keys() {
        if !target.contains_key(k) {
            out.insert(k.clone(), Value::Null);
        }
    }
    for (k, t) in target {
        put(&mut out, k, base.get(k).map(&json).as_ref(), &json(t));
    }
    out
}

/// Applies a patch, as Helm does when it reads `-f values-<env>.yaml`.
pub fn apply(base: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else { return patch.clone() };
    let mut out = match base {
        Value::Object(b) => b.clone(),
        _ => Map::new(),
    };
    for (k, pv) in p {
        if pv.is_null() {
            out.remove(k);
        } else {
            let merged = apply(out.get(k).unwrap_or(&Value::Null), pv);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_then_apply_gives_the_target() {
        let base = json!({"a": 1, "m": {"x": 1, "y": {"z": 2}}, "l": [1, 2], "gone": {"k": 1}});
        let target = json!({"a": 1, "m": {"x": 2, "y": {"z": 2}, "n": 3}, "l": [1], "new": {"k": 1}});
        let p = diff(&base, &target);
        assert_eq!(p, json!({"m": {"x": 2, "n": 3}, "l": [1], "gone": null, "new": {"k": 1}}));
        assert_eq!(apply(&base, &p), target);
        assert_eq!(diff(&target, &target), json!({}));
    }
}
