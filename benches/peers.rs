//! The peer benchmark's workload (`shared/bench/peers/`) written two ways:
//! in full, as the shared `gen_deployc.py` writes it, and with presets and
//! environment `service_defaults`. Prints how much shorter the second is and
//! how long each takes to check; with a directory argument, writes both
//! programs there (`full.dpl`, `presets.dpl`) for `run.sh` or `deployc build`.
//!
//! `cargo bench --bench peers -- [N] [DIR]` (N defaults to 1000).
//! `tests/presets.rs` checks that both programs emit the same files.

use std::time::Instant;

fn check_ms(text: &str) -> f64 {
    let files = std::collections::BTreeMap::new();
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let c = deployc::compile("bench.dpl", text, &files);
            assert!(c.output.is_some(), "the benchmark program checks clean");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; keep only our arguments.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let full = deployc::synth::peers::full(n);
    let short = deployc::synth::peers::with_presets(n);
    if let Some(dir) = args.get(1) {
        std::fs::create_dir_all(dir).expect("output dir");
        std::fs::write(format!("{dir}/full.dpl"), &full).expect("write full.dpl");
        std::fs::write(format!("{dir}/presets.dpl"), &short).expect("write presets.dpl");
    }
    println!("{:>10} {:>10} {:>8} {:>10}", "N = ".to_string() + &n.to_string(), "bytes", "lines", "check ms");
    for (name, text) in [("full", &full), ("presets", &short)] {
        println!("{:>10} {:>10} {:>8} {:>10.1}", name, text.len(), text.lines().count(), check_ms(text));
    }
    println!(
        "presets: {:.1}% of the bytes, {:.1}% of the lines",
        100.0 * short.len() as f64 / full.len() as f64,
        100.0 * short.lines().count() as f64 / full.lines().count() as f64
    );
}
