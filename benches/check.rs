//! Benchmarks of `check` and `build` on synthetic programs of N services ×
//! 4 environments (canary and blue-green environments included).
//!
//! Run: `cargo bench --bench check` (add sizes, e.g. `-- 10 1000`).
//!
//! In process, per phase: load+parse, check (names, types, model, graph),
//! emit of the Kubernetes side (Kubernetes, Rollouts, ArgoCD objects
//! serialised to YAML; "total" and the peak heap cover these three phases),
//! then the other targets (workflows, Terraform, Helm, docs) on their own.
//! Peak heap comes from a counting allocator. Then the release binary end to end: a
//! first `build` into an empty directory, a second `build` of unchanged input
//! (which must rewrite no file), and `build --check`, with the child's peak
//! resident memory from getrusage.

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

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

fn child_peak_rss_mib() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    u.ru_maxrss as f64 / 1024.0
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if args.is_empty() { vec![10, 100, 1_000, 10_000] } else { args };
    let envs = 4;
    // End to end first: a child forked from this process would otherwise
    // report the benchmark's own memory as its peak.
    println!("release binary, end to end (single runs; rss = peak resident memory of the process)");
    println!(
        "{:>8} {:>14} {:>16} {:>12} {:>10}",
        "services", "first build ms", "unchanged ms", "--check ms", "rss MiB"
    );
    let bin = env!("CARGO_BIN_EXE_deployc");
    // Beyond 1,000 services the end-to-end run only measures the disk.
    for &n in sizes.iter().filter(|n| **n <= 1_000) {
        let dir = std::env::temp_dir().join(format!("deployc-bench-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let src = dir.join("synth.dpl");
        std::fs::write(&src, deployc::synth::program(n, envs)).expect("write");
        let out = dir.join("out");
        let run = |extra: &[&str]| {
            let t = Instant::now();
            let o = std::process::Command::new(bin)
                .arg("build")
                .arg(&src)
                .arg("-o")
                .arg(&out)
                .args(extra)
                .output()
                .expect("run");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            (t.elapsed(), String::from_utf8_lossy(&o.stdout).to_string())
        };
        let (first, _) = run(&[]);
        let (second, msg) = run(&[]);
        assert!(msg.contains(" 0 written, 0 removed"), "a second build rewrote files: {msg}");
        let (check, _) = run(&["--check"]);
        println!(
            "{:>8} {:>14.1} {:>16.1} {:>12.1} {:>10.1}",
            n,
            first.as_secs_f64() * 1e3,
            second.as_secs_f64() * 1e3,
            check.as_secs_f64() * 1e3,
            child_peak_rss_mib()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!();
    use deployc::emit::Target;
    // The Kubernetes side (the objects ArgoCD syncs) is the build target of
    // record; the other targets are timed as one more column.
    let k8s_side = [Target::K8s, Target::Argocd];
    let others: Vec<Target> = Target::ALL.iter().copied().filter(|t| !k8s_side.contains(t)).collect();
    println!("in process (median of runs; heap = peak bytes allocated during the run)");
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>7} {:>9} {:>11} {:>8}",
        "services",
        "input KiB",
        "parse ms",
        "check ms",
        "k8s ms",
        "total ms",
        "heap MiB",
        "files",
        "other ms",
        "other files",
        "MiB out"
    );
    for &n in &sizes {
        let text = deployc::synth::program(n, envs);
        let files = std::collections::BTreeMap::new();
        let runs = if n >= 10_000 { 3 } else { 11 };
        let (mut tp, mut tc, mut te, mut tt, mut to) = (vec![], vec![], vec![], vec![], vec![]);
        let mut other_files = 0;
        let mut peak = 0;
        let mut count = 0;
        let mut bytes = 0;
        for _ in 0..runs {
            let base = CURRENT.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let t0 = Instant::now();
            let mut diags = deployc::diagnostic::Diagnostics::default();
            let program = deployc::load::load("synth.dpl", &text, &files, &mut diags);
            let t1 = Instant::now();
            let (model, graph) = deployc::check::check(&program, &mut diags).expect("synthetic program checks clean");
            let t2 = Instant::now();
            let out = deployc::emit::emit(&deployc::plan::Plan::new(&model, &graph, &Default::default()), &k8s_side);
            let t3 = Instant::now();
            peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
            let rest = deployc::emit::emit(&deployc::plan::Plan::new(&model, &graph, &Default::default()), &others);
            to.push(t3.elapsed());
            other_files = rest.len();
            count = out.len();
            bytes = out.iter().chain(&rest).map(|a| a.contents.len()).sum::<usize>();
            drop(rest);
            tp.push(t1 - t0);
            tc.push(t2 - t1);
            te.push(t3 - t2);
            tt.push(t3 - t0);
            drop((out, model, graph, program));
        }
        println!(
            "{:>8} {:>9.0} {:>9.2} {:>9.2} {:>8.2} {:>9.2} {:>9.1} {:>7} {:>9.2} {:>11} {:>8.1}",
            n,
            text.len() as f64 / 1024.0,
            median(tp),
            median(tc),
            median(te),
            median(tt),
            peak as f64 / (1024.0 * 1024.0),
            count,
            median(to),
            other_files,
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}
