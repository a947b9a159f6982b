//! The writer through the real binary: it cannot be led outside the output
//! by a symlink or a tampered manifest, a build killed at any moment leaves
//! the tree all-old or all-new once the next run has recovered it, and I/O
//! errors are coded diagnostics that leave no temporary files behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn deployc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deployc"));
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    c
}

fn build(src: &Path, out: &Path) -> Output {
    deployc().arg("build").arg(src).arg("-o").arg(out).output().expect("run")
}

fn check(src: &Path, out: &Path) -> Output {
    deployc().args(["build", "--check"]).arg(src).arg("-o").arg(out).output().expect("run")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn example() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthcp.dpl")).expect("example")
}

/// Every file of a tree with its bytes (symlinks as their target), sorted;
/// without the machine-local build state (`.deployc-cache/`), a cache that
/// a killed build removes and is no part of the output.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            let rel = p.strip_prefix(root).expect("under root").to_path_buf();
            if rel.starts_with(".deployc-cache") {
                continue;
            }
            let ty = e.file_type().expect("type");
            if ty.is_symlink() {
                out.push((rel, fs::read_link(&p).expect("link").into_os_string().into_encoded_bytes()));
            } else if ty.is_dir() {
                stack.push(p);
            } else {
                out.push((rel, fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// Files the writer leaves only while it runs: temporary siblings and the journal.
fn leftovers(root: &Path) -> Vec<PathBuf> {
    snapshot(root)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(".deployc-tmp") || name == ".deployc-journal"
        })
        .collect()
}

#[test]
fn a_symlinked_folder_inside_the_output_is_never_followed() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    // Someone replaces an environment's folder with a link to elsewhere.
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    fs::write(elsewhere.join("keep.txt"), "mine\n").expect("write");
    fs::remove_dir_all(out.join("k8s/dev")).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, out.join("k8s/dev")).expect("symlink");
    let before = snapshot(&out);
    let r = build(&src, &out);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(text(&r).contains("E0903") && text(&r).contains("k8s/dev"), "{}", text(&r));
    assert_eq!(snapshot(&elsewhere), vec![(PathBuf::from("keep.txt"), b"mine\n".to_vec())], "wrote outside");
    assert_eq!(snapshot(&out), before, "a refused build changed the output");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    // --check reads the same way: through the link nothing counts as present.
    let c = check(&src, &out);
    assert_eq!(c.status.code(), Some(1));
    assert!(text(&c).contains("missing   k8s/dev/"), "{}", text(&c));
}

#[test]
fn a_symlinked_file_is_replaced_not_written_through() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "precious\n").expect("write");
    let f = out.join("k8s/dev/kustomization.yaml");
    let generated = fs::read(&f).expect("read");
    fs::remove_file(&f).expect("rm");
    std::os::unix::fs::symlink(&victim, &f).expect("symlink");
    let r = build(&src, &out);
    assert!(r.status.success(), "{}", text(&r));
    assert_eq!(fs::read_to_string(&victim).expect("read"), "precious\n");
    assert!(!fs::symlink_metadata(&f).expect("meta").file_type().is_symlink());
    assert_eq!(fs::read(&f).expect("read"), generated);
}

#[test]
fn a_tampered_manifest_deletes_nothing_it_should_not() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());

    // Files that must survive: the team's notes, a file outside the output,
    // a file behind a symlinked folder, and a generated file edited since.
    let notes = out.join("USER_NOTES.md");
    fs::write(&notes, "ours\n").expect("write");
    let outside = dir.path().join("outside.txt");
    fs::write(&outside, "outside\n").expect("write");
    let linked = dir.path().join("linked");
    fs::create_dir(&linked).expect("mkdir");
    fs::write(linked.join("secret.yaml"), "kind: Secret\n").expect("write");
    std::os::unix::fs::symlink(&linked, out.join("link")).expect("symlink");

    // The manifest lists them, each with the hash of its real content, so
    // only the path checks stand between them and deletion; and a generated
    // file whose recorded hash no longer matches what is on disk.
    let sha = |b: &[u8]| format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(b));
    let manifest = out.join(".deployc-manifest");
    let mut m = fs::read_to_string(&manifest).expect("manifest");
    m.push_str(&format!("{}  USER_NOTES.md\n", "0".repeat(64)));
    m.push_str(&format!("{}  ../outside.txt\n", sha(b"outside\n")));
    m.push_str(&format!("{}  link/secret.yaml\n", sha(b"kind: Secret\n")));
    m.push_str(&format!("{}  {}\n", sha(b"outside\n"), outside.display()));
    fs::write(&manifest, m).expect("write");
    // Drop an environment: its generated files become stale; edit one of them.
    let edited = out.join("k8s/staging/kustomization.yaml");
    fs::write(&edited, fs::read_to_string(&edited).expect("read") + "# tuned by hand\n").expect("write");
    let fewer = example().replace("environment staging", "environment staging2");
    fs::write(&src, &fewer).expect("write");

    let r = build(&src, &out);
    assert!(r.status.success(), "{}", text(&r));
    assert_eq!(fs::read_to_string(&notes).expect("notes survive"), "ours\n");
    assert_eq!(fs::read_to_string(&outside).expect("outside survives"), "outside\n");
    assert_eq!(fs::read_to_string(linked.join("secret.yaml")).expect("linked survives"), "kind: Secret\n");
    assert!(edited.exists(), "an edited stale file is kept");
    assert!(text(&r).contains("kept      k8s/staging/kustomization.yaml"), "{}", text(&r));
    // The unedited stale files of the dropped environment are gone.
    assert!(!out.join("k8s/staging/service-api.yaml").exists());
    assert!(out.join("k8s/staging2/kustomization.yaml").exists());
    assert!(leftovers(&out).is_empty());
}

#[test]
fn a_full_disk_is_a_coded_error_that_leaves_the_old_tree_and_no_temporary_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    let before = snapshot(&out);
    // A new environment (new files), then a file-size limit that every
    // large file exceeds (EFBIG, as a full disk gives ENOSPC).
    fs::write(&src, example().replace("environment staging", "environment staging2")).expect("write");
    let mut cmd = deployc();
    cmd.arg("build").arg(&src).arg("-o").arg(&out);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit { rlim_cur: 2000, rlim_max: 2000 };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let r = cmd.output().expect("run");
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(text(&r).contains("E0902"), "{}", text(&r));
    assert!(text(&r).contains(&out.display().to_string()), "names the path: {}", text(&r));
    assert_eq!(snapshot(&out), before, "a failed write changed the tree");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
}

#[test]
fn a_file_where_a_folder_belongs_is_a_coded_conflict() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("k8s"), "not a folder\n").expect("write");
    let r = build(&src, &out);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(text(&r).contains("E0904") && text(&r).contains("k8s"), "{}", text(&r));
    assert_eq!(snapshot(&out), vec![(PathBuf::from("k8s"), b"not a folder\n".to_vec())]);
}

#[test]
fn leftovers_without_a_journal_are_removed_and_a_torn_journal_rolls_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("app.dpl");
    fs::write(&src, example()).expect("write");
    let out = dir.path().join("out");
    assert!(build(&src, &out).status.success());
    let before = snapshot(&out);
    // An older deployc's leftover, with no journal to list it.
    fs::write(out.join("k8s/dev/.service-api.yaml.deployc-tmp"), "half").expect("write");
    let r = build(&src, &out);
    assert!(r.status.success(), "{}", text(&r));
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    // A journal cut off before its end line is not trusted: roll back,
    // even with a staged file in a new folder.
    fs::create_dir_all(out.join("k8s/new")).expect("mkdir");
    fs::write(out.join("k8s/new/.x.yaml.deployc-tmp"), "staged").expect("write");
    fs::write(out.join(".deployc-journal"), "deployc journal 1\ncommit\nrename\tk8s/new/x.yaml\n").expect("write");
    let r = check(&src, &out);
    assert!(r.status.success(), "{}", text(&r));
    assert!(text(&r).contains("rolled back an interrupted build (1 temporary file(s) removed)"), "{}", text(&r));
    assert_eq!(snapshot(&out), before);
    assert!(!out.join("k8s/new").exists(), "the folder that held only a temporary file is gone");
}

#[test]
fn every_io_code_is_explained() {
    for code in ["E0901", "E0902", "E0903", "E0904", "E0905", "E0906"] {
        let r = deployc().args(["explain", code]).output().expect("run");
        assert!(r.status.success(), "{code}");
        assert!(String::from_utf8_lossy(&r.stdout).len() > 200, "{code}: {}", text(&r));
    }
}

/// A tiny deterministic generator (xorshift), so a failing run can be
/// repeated with `DEPLOYC_KILL_SEED`.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Waits until `path` exists (or `child` ends); whether it appeared.
fn wait_for(path: &Path, child: &mut std::process::Child) -> bool {
    loop {
        if path.symlink_metadata().is_ok() {
            return true;
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}

#[test]
fn a_build_killed_at_any_moment_is_all_old_or_all_new_after_the_next_run() {
    let dir = tempfile::tempdir().expect("tmp");
    // Two programs of thousands of files that differ in most of them, in
    // which files exist, and in folders.
    let a = deployc::synth::program(80, 4);
    let b = deployc::synth::program(70, 5).replace("LOG_LEVEL = \"info\"", "LOG_LEVEL = \"debug\"");
    let srcs = [dir.path().join("a.dpl"), dir.path().join("b.dpl")];
    fs::write(&srcs[0], a).expect("write");
    fs::write(&srcs[1], b).expect("write");
    // The recovering run checks a small program against the output: it
    // repairs the tree first and compiles quickly.
    let small = dir.path().join("small.dpl");
    fs::write(&small, example()).expect("write");
    let out = dir.path().join("out");

    // The old tree, then the new one built over it while the journal is
    // watched: how long the writer works (the journal exists) and when it
    // commits (the journal grows to its list of steps). Kills land over that
    // whole window, half of them after the commit.
    let journal = out.join(".deployc-journal");
    let r = build(&srcs[0], &out);
    assert!(r.status.success(), "{}", text(&r));
    let mut trees = vec![snapshot(&out)];
    let mut child = deployc().arg("build").arg(&srcs[1]).arg("-o").arg(&out).spawn().expect("spawn");
    assert!(wait_for(&journal, &mut child), "the writer keeps a journal");
    let began = Instant::now();
    let mut commit = None;
    while let Ok(m) = journal.symlink_metadata() {
        if commit.is_none() && m.len() > 100 {
            commit = Some(began.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let window = began.elapsed();
    let mut commit = commit.unwrap_or(window / 2);
    assert!(child.wait().expect("wait").success());
    trees.push(snapshot(&out));
    let files = trees[0].len().min(trees[1].len());
    assert!(files > 2000, "only {files} files");
    let mut current = 1usize;
    let seed = std::env::var("DEPLOYC_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed);
    let (mut trials, mut mid_write, mut committed, mut old, mut new) = (0, 0, 0, 0, 0);
    let started = Instant::now();
    // Under load fewer kills land after the commit: more trials, same bar.
    while trials < 32 || (committed < 5 && trials < 160) {
        trials += 1;
        let next = 1 - current;
        let mut child = deployc()
            .arg("build")
            .arg(&srcs[next])
            .arg("-o")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // One kill in six lands while the program is still being checked.
        let early = rng.below(6) == 0;
        let mut aimed_late = false;
        if !early && wait_for(&journal, &mut child) {
            let began = Instant::now();
            aimed_late = rng.below(2) == 0;
            let (lo, hi) = if aimed_late { (commit, window.max(commit) * 6 / 5) } else { (Duration::ZERO, commit) };
            let delay = lo + Duration::from_micros(rng.below((hi - lo.min(hi)).as_micros() as u64));
            while began.elapsed() < delay && child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_micros(300));
            }
        } else {
            std::thread::sleep(Duration::from_millis(rng.below(200)));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if !leftovers(&out).is_empty() {
            mid_write += 1;
        }
        // Killed after the commit: the next run must roll forward. Timing
        // drifts with the machine's load, so a kill meant for that phase
        // that came too early (or too late) moves the aim.
        match journal.symlink_metadata().map(|m| m.len()) {
            Ok(n) if n > 100 => committed += 1,
            Ok(_) if aimed_late => commit += commit / 5,
            Err(_) if aimed_late => commit -= commit / 10,
            _ => {}
        }
        // The next run repairs the tree before it compares.
        let r = check(&small, &out);
        assert_eq!(r.status.code(), Some(1), "{}", text(&r));
        let after = snapshot(&out);
        assert!(leftovers(&out).is_empty(), "trial {trials} (seed {seed}): {:?}", leftovers(&out));
        if after == trees[next] {
            new += 1;
            current = next;
        } else {
            assert!(after == trees[current], "trial {trials} (seed {seed}): neither the old nor the new tree");
            old += 1;
        }
    }
    eprintln!(
        "kill test: {trials} trials on {files}+ files, {mid_write} killed mid-write ({committed} after the commit), {old} all-old, {new} all-new, \
         writer window {window:?} (commit at {commit:?}), {:?}",
        started.elapsed()
    );
    assert!(mid_write >= 10, "only {mid_write} of {trials} kills hit the writer at work");
    assert!(committed >= 5, "only {committed} kills after the commit: roll-forward untested");
    assert!(old > 0 && new >= committed, "every kill after the commit rolls forward: {old} old, {new} new");
}
