//! The front end never panics: arbitrary bytes and mutated example files go
//! through load, parse, check and diagnostic rendering. Bounded here; the
//! `fuzz/` target runs the same property for as long as one likes.

mod common;
use proptest::prelude::*;
use std::path::Path;

fn run(text: &str) {
    let c = deployc::compile("input.dpl", text, &common::Disk);
    for d in &c.diagnostics.items {
        assert!(!d.help.is_empty());
        let _ = deployc::diagnostic::render(d, &c.program.sources, false, 80);
        let _ = deployc::diagnostic::to_json(d, &c.program.sources);
    }
    // A model exists exactly when there are no errors.
    assert_eq!(c.output.is_some(), !c.diagnostics.has_errors());
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("examples dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dpl"))
        .collect();
    v.sort();
    v.iter().map(|p| std::fs::read_to_string(p).expect("readable")).collect()
}

/// Tokens that make mutations land on interesting syntax.
const SNIPPETS: &[&str] = &[
    "{", "}", "[", "]", "(", ")", "=", "..", ".", ",", "\"", "${", "10%", "250m", "0", "-1", "service", "x", "\n", "é",
    "/*",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, muts: &[Mutation]) -> String {
    for m in muts {
        if s.is_empty() {
            break;
        }
        match *m {
            Mutation::Delete(a, n) => {
                let a = floor(&s, a % s.len());
                let b = floor(&s, a + n);
                s.replace_range(a..b, "");
            }
            Mutation::Insert(a, k) => {
                let a = floor(&s, a % s.len());
                s.insert_str(a, SNIPPETS[k]);
            }
            Mutation::Duplicate(a, n) => {
                let a = floor(&s, a % s.len());
                let b = floor(&s, a + n);
                let piece = s[a..b].to_string();
                s.insert_str(b, &piece);
            }
            Mutation::Truncate(a) => {
                let a = floor(&s, a % s.len());
                s.truncate(a);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        run(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_examples_never_panic(which in 0usize..5, muts in proptest::collection::vec(mutation(), 1..6)) {
        let ex = examples();
        let text = apply(ex[which % ex.len()].clone(), &muts);
        run(&text);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let text = format!("service a {{ x = {}1{} }}", "[".repeat(5000), "]".repeat(5000));
    run(&text);
    let text = format!("service a {}{}", "{ b ".repeat(5000), "}".repeat(5000));
    run(&text);
}

#[test]
fn broken_interpolation_next_to_multibyte_chars() {
    // Recovery from a bad `${` once sliced inside `é` and panicked.
    for text in [
        "service api { image = \"${\u{e9}",
        "service api { image = \"${\u{e9}\" }",
        "service api { image = \"${a.\u{e9}\n}",
        "service api { image = \"${ \u{1f600}}\" }",
        "service api { image = \"${",
        "\"${",
    ] {
        run(text);
    }
}
