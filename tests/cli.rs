//! The editor and shell polish, through the binary: `deployc schema` (the
//! models of the examples validate against it), completions, an example in
//! every subcommand's help, and `--color` everywhere.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn deployc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deployc"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("run")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

// ---------------------------------------------------------------- schema

/// Checks `v` against `schema` for the keywords schemars writes (type,
/// properties, required, additionalProperties, items, $ref, oneOf, anyOf,
/// enum, const, minimum, maximum); returns the first violation.
fn validate(root: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else { return Ok(()) };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let target = root.pointer(r.trim_start_matches('#')).ok_or(format!("{at}: dangling {r}"))?;
        validate(root, target, v, at)?;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            let ok = branches.iter().filter(|b| validate(root, b, v, at).is_ok()).count();
            if ok == 0 || (key == "oneOf" && ok > 1) {
                return Err(format!("{at}: {ok} branches of {key} match {v}"));
            }
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &str| match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{at}: {v} not in {e:?}"));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return Err(format!("{at}: {v} is not {c}"));
        }
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            return Err(format!("{at}: {n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if n > max {
            return Err(format!("{at}: {n} > {max}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    return Err(format!("{at}: missing {r}"));
                }
            }
        }
        for (k, x) in obj {
            match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(p), _) => validate(root, p, x, &format!("{at}.{k}"))?,
                (None, Some(Value::Bool(false))) => return Err(format!("{at}: unexpected {k}")),
                (None, Some(extra)) => validate(root, extra, x, &format!("{at}.{k}"))?,
                (None, None) => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(root, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

#[test]
fn schema_describes_the_model_of_every_example() {
    let out = deployc(&["schema"]);
    assert!(out.status.success());
    let schema: Value = serde_json::from_str(&stdout(&out)).expect("schema is JSON");
    assert_eq!(schema["title"], "Model");
    assert!(schema["$schema"].as_str().is_some_and(|s| s.contains("json-schema.org")));
    for name in ["Service", "Environment", "StrategyKind", "Gate", "Integration"] {
        assert!(schema["$defs"].get(name).is_some(), "no definition of {name}");
    }
    let mut programs: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| format!("examples/{}", e.file_name().to_string_lossy())))
        .filter(|n| n.ends_with(".dpl"))
        .collect();
    programs.push("tests/programs/shop.dpl".into());
    let mut validated = 0;
    for p in programs {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&p)).expect("read");
        // From disk: austa-cockpit reads its sealed files beside it.
        let c = deployc::compile(&p, &text, &common::Disk);
        let Some((model, _)) = c.output else { continue };
        let v = serde_json::to_value(&model).expect("model as JSON");
        validate(&schema, &schema, &v, "model").unwrap_or_else(|e| panic!("{p}: {e}"));
        validated += 1;
    }
    assert_eq!(validated, 6, "every example and the test program have a model");
    // The validator does catch a wrong model.
    let wrong = serde_json::json!({"project": 1});
    assert!(validate(&schema, &schema, &wrong, "model").is_err());
}

// ----------------------------------------------------------- completions

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, marker) in [("bash", "_deployc()"), ("zsh", "#compdef deployc"), ("fish", "complete -c deployc")] {
        let out = deployc(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        for sub in ["check", "build", "fmt", "diff", "schema"] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
    assert_eq!(deployc(&["completions", "tcsh"]).status.code(), Some(2));
}

// ------------------------------------------------------------------ help

#[test]
fn every_subcommand_help_shows_an_example() {
    let subs = ["check", "build", "diff", "fmt", "graph", "explain", "schema", "completions"];
    let top = stdout(&deployc(&["--help"]));
    for sub in subs {
        assert!(top.contains(sub), "`deployc --help` does not list {sub}");
        for flag in ["--help", "-h"] {
            let out = deployc(&[sub, flag]);
            assert!(out.status.success(), "{sub} {flag}");
            let text = stdout(&out);
            assert!(text.contains("Examples:") && text.contains(&format!("deployc {sub}")), "{sub} {flag}:\n{text}");
        }
    }
}

// ----------------------------------------------------------------- color

fn has_ansi(s: &[u8]) -> bool {
    s.windows(2).any(|w| w == b"\x1b[")
}

#[test]
fn color_flag_is_honoured_by_diagnostics_help_and_usage_errors() {
    let broken = "tests/cases/fail/E0203_field_typo_replicas.dpl";
    assert!(has_ansi(&deployc(&["--color", "always", "check", broken]).stderr));
    assert!(has_ansi(&deployc(&["check", broken, "--color=always"]).stderr), "the flag is global");
    assert!(!has_ansi(&deployc(&["--color", "never", "check", broken]).stderr));
    // Not a terminal: `auto` means no colour.
    assert!(!has_ansi(&deployc(&["check", broken]).stderr));

    assert!(has_ansi(&deployc(&["--color", "always", "check", "--help"]).stdout));
    assert!(!has_ansi(&deployc(&["--color", "never", "check", "--help"]).stdout));
    let usage = deployc(&["--color", "always", "check", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(has_ansi(&usage.stderr), "usage errors honour --color too");
    assert!(!has_ansi(&deployc(&["--color", "never", "check", "--no-such-flag"]).stderr));

    // NO_COLOR wins over `auto`, never over `always`.
    let with_no_color = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_deployc"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("run")
    };
    assert!(!has_ansi(&with_no_color(&["check", broken]).stderr));
    assert!(has_ansi(&with_no_color(&["--color", "always", "check", broken]).stderr));
}
