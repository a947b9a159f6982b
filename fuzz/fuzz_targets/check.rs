//! Arbitrary bytes through the whole front end: parse, check, model, graph,
//! and the rendering of every diagnostic. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let files = std::collections::BTreeMap::new();
    let c = deployc::compile("fuzz.dpl", &text, &files);
    for d in &c.diagnostics.items {
        let _ = deployc::diagnostic::render(d, &c.program.sources, false, 80);
    }
});
