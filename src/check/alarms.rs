//! `alarms { ... }` on a resource and on an environment's resource
//! override: CloudWatch alarm thresholds, each checked against what the
//! resource's alarms read (E0391) and against the values at which its alarm
//! could ever change state (E0392).

use super::value::{Fields, V};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{AlarmUnit, Engine, Resource, ALARM_FIELDS};
use std::collections::BTreeMap;

/// The thresholds of one `alarms` block, in the model's units (percent,
/// bytes, milliseconds, counts). `storage` is the allocated storage where
/// the block applies (the environment's, for an override).
pub fn thresholds(f: Option<&Fields>, r: &Resource, storage: u64, diags: &mut Diagnostics) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Some(f) = f else { return out };
    let fields = r.alarm_fields();
    for (name, (key_span, v)) in f {
        let Some(field) = ALARM_FIELDS.iter().find(|a| a.name == name) else { continue };
        if !fields.iter().any(|a| a.name == name) {
            let reads: Vec<String> = fields.iter().map(|a| format!("`{}`", a.name)).collect();
            let why = match (name.as_str(), &r.engine) {
                ("free_storage", Engine::Postgres) => {
                    "Aurora's storage grows by itself: there is no allocated storage to run out of".to_string()
                }
                ("dead_letters", Engine::Queue) => {
                    "the queue has no dead-letter queue (`dead_letter = false`)".to_string()
                }
                _ => format!("no alarm of {} reads it", crate::suggest::with_article(r.engine.word())),
            };
            diags.push(
                Diagnostic::new(Code::E0391, format!("`{name}` is not an alarm of resource `{}`", r.name))
                    .label(*key_span, why)
                    .help(if reads.is_empty() {
                        "Remove the `alarms` block: this resource has no CloudWatch alarms.".to_string()
                    } else {
                        format!("This resource's alarms read {}.", reads.join(", "))
                    }),
            );
            continue;
        }
        let value = match (&v.v, field.unit) {
            (V::Percent(p), AlarmUnit::Percent) => *p,
            (V::Memory(b), AlarmUnit::Bytes) => *b as f64,
            (V::Duration(ms), AlarmUnit::Duration) => *ms as f64,
            (V::Int(n), AlarmUnit::Count) => *n as f64,
            _ => continue, // a type error, already reported
        };
        let problem = match (field.unit, name.as_str()) {
            (AlarmUnit::Percent, _) if value <= 0.0 || value >= 100.0 => {
                Some("a share above 0% and below 100%: at 0% the alarm always fires, at 100% never".to_string())
            }
            (AlarmUnit::Bytes, "free_storage") if value <= 0.0 || value >= storage as f64 => Some(format!(
                "more than 0 and less than the allocated storage ({} GiB here), or the alarm never fires or always does",
                storage as f64 / (1u64 << 30) as f64
            )),
            (AlarmUnit::Bytes, _) if value <= 0.0 => Some("more than 0: free memory is never below 0".to_string()),
            (AlarmUnit::Duration, "age") if value <= 0.0 || value >= r.retention_ms as f64 => Some(format!(
                "more than 0s and less than the queue's retention ({}), after which SQS deletes the message",
                duration(r.retention_ms)
            )),
            (AlarmUnit::Duration, _) if value <= 0.0 => Some("more than 0s".to_string()),
            (AlarmUnit::Count, _) if value < 0.0 => Some("0 or more".to_string()),
            _ => None,
        };
        if let Some(range) = problem {
            diags.push(
                Diagnostic::new(Code::E0392, format!("alarm threshold `{name}` out of range"))
                    .label(v.span, range)
                    .help(format!(
                        "Set `{name}` to a value its alarm can reach, or leave it out for the table's default."
                    )),
            );
            continue;
        }
        out.insert(name.clone(), value);
    }
    out
}

/// A duration as the program writes one: `4d`, `12h`, `30m`, `45s`, `500ms`.
fn duration(ms: u64) -> String {
    for (unit, n) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms >= n && ms % n == 0 {
            return format!("{}{unit}", ms / n);
        }
    }
    format!("{ms}ms")
}
