//! Arbitrary bytes through the formatter: it never panics, and whatever it
//! formats formats to itself (it checks tree and comments itself, and
//! returns `Err` with no diagnostics if it would have changed either: that
//! is a bug too).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match deployc::fmt::format("fuzz.dpl", &text) {
        Ok(once) => {
            let twice = deployc::fmt::format("fuzz.dpl", &once).expect("formatted text formats");
            assert_eq!(once, twice, "not idempotent");
        }
        Err(d) => assert!(!d.items.is_empty(), "the formatter refused its own output"),
    }
});
