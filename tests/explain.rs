//! `deployc explain CODE` shows a mistake and its fix for every code of the
//! registry: the wrong example must produce the code, the fixed one must be
//! clean.

use deployc::codes::{Code, REGISTRY};
use deployc::explain::{self, Frame};
use deployc::load::FileProvider;

/// The example is the only file: `main.dpl` (which E0102's example imports),
/// or the program and its sealed file ([`Frame::Sealed`]).
struct Only(String, Option<String>);

impl FileProvider for Only {
    fn read(&self, path: &str) -> Option<String> {
        match path.trim_start_matches("./") {
            "main.dpl" => Some(self.0.clone()),
            p if p == explain::SEALED_FILE => self.1.clone(),
            _ => None,
        }
    }
    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        self.read(path).map(String::into_bytes)
    }
}

/// The codes a compilation of `text` in `frame` reports.
fn codes(frame: Frame, text: &str) -> Vec<Code> {
    let source = explain::program(frame, text);
    let c = if frame == Frame::Latin1 {
        // Latin-1 keeps every character below U+0100 as one byte.
        let bytes: Vec<u8> = source.chars().map(|ch| u8::try_from(u32::from(ch)).expect("Latin-1 text")).collect();
        deployc::compile_bytes("main.dpl", bytes, &Only(source.clone(), None))
    } else if frame == Frame::Sealed {
        let program = explain::SEALED_PROGRAM.to_string();
        deployc::compile("main.dpl", &program, &Only(program.clone(), Some(source)))
    } else {
        deployc::compile("main.dpl", &source, &Only(source.clone(), None))
    };
    let mut codes: Vec<Code> = c.diagnostics.items.iter().map(|d| d.code).collect();
    if let Some((model, _)) = &c.output {
        let target = match frame {
            Frame::TerraformBuild => Some(deployc::emit::Target::Terraform),
            Frame::HelmBuild => Some(deployc::emit::Target::Helm),
            _ => None,
        };
        if let Some(t) = target {
            codes.extend(deployc::emit::unserved(model, &[t]).iter().map(|d| d.code));
            codes.extend(deployc::emit::helm_gaps(model, &[t]).iter().map(|d| d.code));
        }
    }
    codes
}

#[test]
fn every_code_has_a_wrong_and_a_fixed_example() {
    let missing: Vec<&str> =
        REGISTRY.iter().filter(|i| explain::example(i.code).is_none()).map(|i| i.code.as_str()).collect();
    assert!(missing.is_empty(), "codes without an example in src/explain.rs: {missing:?}");
    for i in REGISTRY {
        let e = explain::example(i.code).expect("checked above");
        assert!(!e.wrong.trim().is_empty() && !e.fixed.trim().is_empty(), "{}: empty example", i.code.as_str());
        assert_ne!(e.wrong, e.fixed, "{}: the fix changes nothing", i.code.as_str());
    }
}

#[test]
fn the_wrong_example_produces_the_code_and_the_fixed_one_is_clean() {
    let mut failures = Vec::new();
    for i in REGISTRY {
        let code = i.code;
        let e = explain::example(code).expect("every code has an example");
        if e.frame == Frame::Writer {
            // The writer's codes name a situation of the file system, not a
            // program; tests/writer.rs produces each of them.
            assert!(code.as_str().starts_with("E09"), "{}: only writer codes may use Frame::Writer", code.as_str());
            continue;
        }
        let wrong = codes(e.frame, e.wrong);
        if !wrong.contains(&code) {
            failures.push(format!("{}: the wrong example reports {wrong:?}", code.as_str()));
        }
        let fixed = codes(e.frame, e.fixed);
        if !fixed.is_empty() {
            failures.push(format!("{}: the fixed example reports {fixed:?}", code.as_str()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn explain_prints_the_mistake_and_the_fix() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deployc"))
        .args(["explain", "e0203"])
        .output()
        .expect("deployc runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("E0203: unknown field"), "{text}");
    assert!(text.contains("Wrong") && text.contains("    replcias = 2") && text.contains("    replicas = 2"), "{text}");
}
