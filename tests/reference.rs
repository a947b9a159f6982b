//! The generated field reference in grammar/README.md must match
//! `deployc::reference::markdown()`. Run with `UPDATE_REFERENCE=1` to rewrite
//! the section between the markers instead of comparing it.

use std::path::Path;

const BEGIN: &str = "<!-- BEGIN GENERATED REFERENCE -->";
const END: &str = "<!-- END GENERATED REFERENCE -->";

#[test]
fn generated_reference_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/README.md");
    let text = std::fs::read_to_string(&path).expect("grammar/README.md is readable");
    let begin = text.find(BEGIN).expect("grammar/README.md has the BEGIN GENERATED REFERENCE marker");
    let body_start = begin + BEGIN.len();
    let end = body_start
        + text[body_start..].find(END).expect("grammar/README.md has the END GENERATED REFERENCE marker after BEGIN");
    // The generated text sits on its own lines between the two marker lines.
    let wanted = format!("\n{}", deployc::reference::markdown());
    let current = &text[body_start..end];

    if std::env::var("UPDATE_REFERENCE").is_ok_and(|v| v == "1") {
        if current != wanted {
            let updated = format!("{}{wanted}{}", &text[..body_start], &text[end..]);
            std::fs::write(&path, updated).expect("grammar/README.md is writable");
        }
        return;
    }

    if current != wanted {
        let line = current
            .lines()
            .zip(wanted.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(wanted.lines().count()));
        panic!(
            "the generated reference in grammar/README.md is out of date \
             (first difference at line {} of the section: {:?} vs {:?}); \
             run `UPDATE_REFERENCE=1 cargo test --test reference` to regenerate it",
            line + 1,
            current.lines().nth(line).unwrap_or("<end>"),
            wanted.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

#[test]
fn every_diagnostic_code_is_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/README.md");
    let text = std::fs::read_to_string(&path).expect("grammar/README.md is readable");
    let missing: Vec<&str> = deployc::codes::REGISTRY
        .iter()
        .map(|i| i.code.as_str())
        .filter(|c| !text.contains(&format!("| {c} |")))
        .collect();
    assert!(missing.is_empty(), "grammar/README.md (\"Rules and diagnostic codes\") does not list {missing:?}");
}
