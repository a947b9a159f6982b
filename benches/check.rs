//! Benchmark of `check` (load, parse, check, model, graph) on synthetic
//! programs of N services × 4 environments. Reports wall time (median and min
//! of several runs) and peak heap, measured by a counting allocator.
//!
//! Run: `cargo bench --bench check` (add `-- 10 100` to choose sizes).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if args.is_empty() { vec![10, 100, 1_000, 10_000] } else { args };
    let envs = 4;
    println!(
        "{:>8} {:>6} {:>10} {:>12} {:>12} {:>14} {:>12}",
        "services", "envs", "input KiB", "median ms", "min ms", "peak heap MiB", "µs/service"
    );
    for n in sizes {
        let text = deployc::synth::program(n, envs);
        let files = std::collections::BTreeMap::new();
        let runs = if n >= 10_000 { 5 } else { 15 };
        let mut times: Vec<Duration> = Vec::new();
        let mut peak = 0;
        for _ in 0..runs {
            let base = CURRENT.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let t = Instant::now();
            let c = deployc::compile("synth.dpl", &text, &files);
            let el = t.elapsed();
            assert!(c.output.is_some(), "synthetic program must check clean");
            peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
            drop(c);
            times.push(el);
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "{:>8} {:>6} {:>10.0} {:>12.2} {:>12.2} {:>14.1} {:>12.2}",
            n,
            envs,
            text.len() as f64 / 1024.0,
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            peak as f64 / (1024.0 * 1024.0),
            median.as_secs_f64() * 1e6 / n as f64
        );
    }
}
