//! Work spread over the machine's cores, with results in a fixed order so
//! output and diagnostics stay deterministic.

/// `f` over `items` on as many threads as the machine has cores, results in
/// the order of `items` (so output stays deterministic). Each thread takes
/// the next item when it is done with one, so uneven items (three
/// environments on two cores, chunks of a stream) keep every core busy.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if threads < 2 {
        return items.iter().map(f).collect();
    }
    let (f, next) = (&f, &AtomicUsize::new(0));
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    out.sort_unstable_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
