//! The build state: what makes a rebuild with nothing changed cost a
//! `stat` per file instead of emitting and reading back the whole tree.
//!
//! After a successful build the writer records, in `.deployc-cache/state`,
//! the *input fingerprint* (a SHA-256 over everything that decides the
//! output: deployc's version and binary, the targets, every loaded source
//! file, the image tags and team files read from the existing tree) and,
//! for every file it generated (the manifest among them), the metadata a
//! change to it would alter: inode, size, mtime and ctime (which no user
//! tool can set back). A later `build` or `build --check` with the same
//! fingerprint, no journal and every file's metadata as recorded has
//! nothing to do, and says so without emitting.
//!
//! A file changed within the same clock tick as the state was written could
//! keep all four values ("racy", as git calls it): such entries also record
//! the SHA-256 of their content, and the fast path reads them back.
//!
//! The state is a cache, never an authority: it is removed before a build
//! changes anything and written only after the build finished, so a killed
//! build leaves none. A missing, torn, foreign or edited state only costs
//! the slow path; it can never make the writer delete or keep a file (those
//! decisions read the manifest and the files' hashes). The folder holds a
//! `.gitignore` of `*`, so the machine-local state is never committed with
//! the output.

use super::tree::{safe, split, Tree, WriteError};
use deployc::hex;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;

/// The folder of the state, in the output root; no artifact may live there.
pub const CACHE_DIR: &str = ".deployc-cache";
const STATE: &str = "state";
const STATE_NEW: &str = "state.new";
const HEADER: &str = "deployc state 1";
/// A content change within this long before the state was written may
/// have left a file's times as recorded (coarse filesystem clocks tick
/// every few milliseconds): such entries are checked by content.
const RACY_NS: i128 = 50_000_000;
/// Files one thread stats before it takes the next piece of the tree.
const STAT_PIECE: usize = 1024;

/// Builds the input fingerprint: each part is hashed with its length, so
/// parts cannot run into each other.
#[derive(Default)]
pub struct Fingerprint(Sha256);

impl Fingerprint {
    pub fn new() -> Self {
        let mut f = Fingerprint(Sha256::new());
        f.part(HEADER.as_bytes());
        f.part(env!("CARGO_PKG_VERSION").as_bytes());
        // The binary itself: a rebuilt deployc (a changed emitter, a new
        // standard library) may write other bytes under the same version.
        // Its identity is cheap to read; reading its bytes would not be.
        match std::env::current_exe().and_then(std::fs::metadata) {
            Ok(m) => {
                use std::os::unix::fs::MetadataExt;
                f.part(format!("exe {} {} {} {}.{}", m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()).as_bytes())
            }
            // Unknown binary: a fingerprint no later run can reproduce.
            Err(_) => f.part(format!("exe unknown {:?}", std::time::SystemTime::now()).as_bytes()),
        }
        f
    }

    pub fn part(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// What a file's metadata says about its content.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Meta {
    ino: u64,
    size: u64,
    mtime: i128,
    ctime: i128,
}

fn meta(st: &rustix::fs::Stat) -> Meta {
    Meta {
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        ctime: st.st_ctime as i128 * 1_000_000_000 + st.st_ctime_nsec as i128,
    }
}

/// One recorded file, or a folder the build wrote to, borrowed from the
/// state's text: a state lists tens of thousands of files.
struct Entry<'a> {
    path: &'a str,
    meta: Meta,
    kind: Kind<'a>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Kind<'a> {
    /// A file whose metadata tells (`-`).
    File,
    /// A racy file: the SHA-256 of its content (hex, either case).
    Racy(&'a str),
    /// A folder the build wrote files to (`dir`): a file added to it (a
    /// leftover temporary file the slow path would clear) changes its
    /// times. A racy folder (`dir?`) is listed instead.
    Dir { racy: bool },
}

/// Removes the state: called before a build changes the tree.
pub fn forget(tree: &Tree) -> Result<(), WriteError> {
    let Ok(Some(fd)) = tree.dir(CACHE_DIR, false) else { return Ok(()) };
    match rustix::fs::unlinkat(&fd, STATE, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err((tree.full(&format!("{CACHE_DIR}/{STATE}")), e).into()),
    }
}

/// Stats `rel` without following symlinks: its metadata if it is a regular file.
fn stat_file(fd: &std::os::fd::OwnedFd, name: &str) -> Option<Meta> {
    let st = rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
    (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then(|| meta(&st))
}

/// Groups items by the folder of their path, keeping their order.
fn by_dir<'a, T>(items: &'a [T], path: impl Fn(&'a T) -> &'a str) -> Vec<(&'a str, Vec<&'a T>)> {
    let mut groups: BTreeMap<&'a str, Vec<&'a T>> = BTreeMap::new();
    for it in items {
        groups.entry(split(path(it)).0).or_default().push(it);
    }
    groups.into_iter().collect()
}

/// Records the state after a successful build: `files` are the paths the
/// build generated (the manifest among them) with the SHA-256 (lowercase
/// hex) of their contents. A failure
/// only leaves no state (the next run takes the slow path).
pub fn record(tree: &Tree, recorded: &Recorded, files: &[(&str, &str)]) {
    let _ = try_record(tree, recorded, files);
}

/// What a build records beside its files: its input fingerprint and, for a
/// build that reported no diagnostic, the sources it loaded, in load order
/// — enough for the next run to recompute the fingerprint without parsing
/// or checking anything ([`recorded_sources`]). A build with diagnostics
/// lists none: those must be reported again, so its next run compiles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    pub fingerprint: String,
    pub sources: Vec<RecordedSource>,
}

/// One loaded source: a standard module (from the binary) or a file.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedSource {
    pub std: bool,
    pub name: String,
}

/// The recorded fingerprint and sources of the tree's state, when it lists
/// sources and no build was interrupted. Reads the state's head only.
pub fn recorded_sources(tree: &Tree) -> Option<Recorded> {
    let text = read_head(tree)?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let fingerprint = lines.next()?.strip_prefix("fingerprint\t")?.to_string();
    let sources: Vec<RecordedSource> = lines.map_while(source_line).collect();
    (!sources.is_empty()).then_some(Recorded { fingerprint, sources })
}

/// A `source\t<std|file>\t<name>` line.
fn source_line(line: &str) -> Option<RecordedSource> {
    let rest = line.strip_prefix("source\t")?;
    let (kind, name) = rest.split_once('\t')?;
    Some(RecordedSource { std: kind == "std", name: name.to_string() })
}

/// A folder's items in pieces of [`STAT_PIECE`], each thread taking the
/// next piece when done (folders hold from one file to ten thousand): the
/// folder, its items, and whether the piece is its first (which also
/// stats the folder). A folder without items is one empty piece.
fn pieces<D, T>(groups: &[(D, Vec<T>)]) -> Vec<(&D, &[T], bool)> {
    groups
        .iter()
        .flat_map(|(dir, items)| {
            let first = std::iter::once((dir, &items[..items.len().min(STAT_PIECE)], true));
            first.chain(items.chunks(STAT_PIECE).skip(1).map(move |c| (dir, c, false)))
        })
        .collect()
}

/// The stamp: a time no earlier than any stat made before it, on the
/// filesystem's clock (the mtime of an emptied `state.new`).
fn stamp(cache: &std::os::fd::OwnedFd) -> Option<i128> {
    write_file(cache, STATE_NEW, b"")?;
    Some(meta(&rustix::fs::statat(cache, STATE_NEW, AtFlags::SYMLINK_NOFOLLOW).ok()?).mtime)
}

/// Whether a change within the clock tick of `stamp` could have left these
/// times as they are: then the content must be checked.
fn racy(m: &Meta, stamp: i128) -> bool {
    m.ctime + RACY_NS >= stamp || m.mtime + RACY_NS >= stamp
}

/// What `record` stats in one folder: the folder and each file.
type Stats<'a> = (&'a str, Option<Meta>, Vec<(&'a str, &'a str, Option<Meta>)>);

fn try_record(tree: &Tree, recorded: &Recorded, files: &[(&str, &str)]) -> Option<()> {
    let fingerprint = recorded.fingerprint.as_str();
    // The cache folder first: creating it changes the root's times.
    let fd = tree.dir(CACHE_DIR, true).ok()??;
    let ignore = rustix::fs::statat(&fd, ".gitignore", AtFlags::SYMLINK_NOFOLLOW);
    if !matches!(ignore, Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile) {
        write_file(&fd, ".gitignore", b"# deployc's machine-local build state: never committed.\n*\n")?;
    }
    let groups = by_dir(files, |f| f.0);
    let done = deployc::par::map(&pieces(&groups), |(dir, items, first)| {
        // A folder missing now: no state.
        let dfd = tree.dir(dir, false).ok()??;
        let dmeta = if *first { Some(meta(&rustix::fs::fstat(&dfd).ok()?)) } else { None };
        let files: Vec<_> = items.iter().map(|(path, hash)| (*path, *hash, stat_file(&dfd, split(path).1))).collect();
        Some((**dir, dmeta, files))
    });
    let mut stats: Vec<Stats> = Vec::with_capacity(groups.len());
    for piece in done {
        match piece? {
            (dir, Some(m), files) => stats.push((dir, Some(m), files)),
            (_, None, files) => stats.last_mut()?.2.extend(files),
        }
    }
    let stamp = stamp(&fd)?;
    let racy = |m: &Meta| racy(m, stamp);
    let mut text = String::with_capacity(64 + files.len() * 96);
    text.push_str(HEADER);
    text.push('\n');
    text.push_str("fingerprint\t");
    text.push_str(fingerprint);
    text.push('\n');
    use std::fmt::Write as _;
    // A name with a line break cannot be listed: then none is.
    if !recorded.sources.iter().any(|s| s.name.contains(['\n', '\r'])) {
        for s in &recorded.sources {
            let _ = writeln!(text, "source\t{}\t{}", if s.std { "std" } else { "file" }, s.name);
        }
    }
    let mut count = 0usize;
    for (dir, dmeta, files) in &stats {
        // Anything not there as expected: no fast path next time.
        let m = (*dmeta)?;
        let kind = if racy(&m) { "dir?" } else { "dir" };
        let name = if dir.is_empty() { "." } else { dir };
        let _ = writeln!(text, "{}\t{}\t{}\t{}\t{kind}\t{name}", m.ino, m.size, m.mtime, m.ctime);
        count += 1;
        for (path, content_hash, m) in files {
            let m = (*m)?;
            let hash = if racy(&m) { content_hash } else { "-" };
            let _ = writeln!(text, "{}\t{}\t{}\t{}\t{hash}\t{path}", m.ino, m.size, m.mtime, m.ctime);
            count += 1;
        }
    }
    let _ = writeln!(text, "end\t{count}");
    write_file(&fd, STATE_NEW, text.as_bytes())?;
    rustix::fs::renameat(&fd, STATE_NEW, &fd, STATE).ok()
}

/// Writes `bytes` to `name` in `dir`, replacing it; never through a symlink.
fn write_file(dir: &std::os::fd::OwnedFd, name: &str, bytes: &[u8]) -> Option<()> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o666)).ok()?;
    std::fs::File::from(fd).write_all(bytes).ok()
}

/// Parses a state's text: the fingerprint and the entries; `None` unless
/// complete and every path safe.
#[cfg(test)]
fn parse(text: &str) -> Option<(&str, Vec<Entry<'_>>)> {
    let (fingerprint, lines) = entry_lines(text)?;
    Some((fingerprint, lines.into_iter().map(entry).collect::<Option<_>>()?))
}

/// A state's fingerprint and its entry lines, unparsed; `None` unless the
/// header is right and the end line counts the entries.
fn entry_lines(text: &str) -> Option<(&str, Vec<&str>)> {
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let fingerprint = lines.next()?.strip_prefix("fingerprint\t")?;
    // About 90 bytes a line: sized once, not grown tens of times.
    let mut entries = Vec::with_capacity(text.len() / 64);
    for line in lines.skip_while(|l| l.starts_with("source\t")) {
        if let Some(n) = line.strip_prefix("end\t") {
            return (n.parse::<usize>().ok()? == entries.len()).then_some((fingerprint, entries));
        }
        entries.push(line);
    }
    None
}

/// An entry line's kind and path, without parsing the rest: enough to group
/// the lines by folder. A path holds no tab (no control character is safe).
fn kind_and_path(line: &str) -> Option<(&str, &str)> {
    let mut f = line.rsplitn(3, '\t');
    let path = f.next()?;
    Some((f.next()?, path))
}

/// Whether an entry line's kind is a folder's.
fn is_dir(kind: &str) -> bool {
    kind == "dir" || kind == "dir?"
}

/// Parses one entry line; `None` unless well-formed and its path safe.
fn entry(line: &str) -> Option<Entry<'_>> {
    let mut f = line.splitn(6, '\t');
    // Sizes and inodes are unsigned; times are nanoseconds since 1970,
    // in an i64 until 2262.
    let ino = f.next()?.parse::<u64>().ok()?;
    let size = f.next()?.parse::<u64>().ok()?;
    let mut time = || f.next()?.parse::<i64>().ok().map(i128::from);
    let (mtime, ctime) = (time()?, time()?);
    let kind = f.next()?;
    let mut path = f.next()?;
    let kind = match kind {
        "-" => Kind::File,
        "dir" | "dir?" => {
            if path == "." {
                path = "";
            }
            Kind::Dir { racy: kind == "dir?" }
        }
        h if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => Kind::Racy(h),
        _ => return None,
    };
    let root = matches!(kind, Kind::Dir { .. }) && path.is_empty();
    if !(root || safe(path)) || super::in_cache(path) {
        return None;
    }
    Some(Entry { path, meta: Meta { ino, size, mtime, ctime }, kind })
}

/// The state's head (header, fingerprint, sources), read until the first
/// line after them: the entries are most of a state (3 MB at 35,000 files),
/// and a rebuild that compiles reads them later or never.
fn read_head(tree: &Tree) -> Option<String> {
    use std::io::Read;
    if !no_journal(tree) {
        return None;
    }
    let fd = tree.dir(CACHE_DIR, false).ok()??;
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = rustix::fs::openat(&fd, STATE, flags, Mode::empty()).ok()?;
    if FileType::from_raw_mode(rustix::fs::fstat(&file).ok()?.st_mode) != FileType::RegularFile {
        return None;
    }
    let mut file = std::fs::File::from(file);
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = file.read(&mut chunk).ok()?;
        bytes.extend_from_slice(&chunk[..n]);
        // Complete lines only: a source name cut at the chunk's end is not.
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let past_sources = bytes[..whole]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .skip(2)
            .any(|l| !l.starts_with(b"source\t"));
        if n == 0 || past_sources {
            bytes.truncate(whole);
            return String::from_utf8(bytes).ok();
        }
    }
}

/// Whether no build was interrupted: a journal means the slow path must
/// repair the tree first.
fn no_journal(tree: &Tree) -> bool {
    matches!(
        rustix::fs::statat(tree.root(), super::journal::JOURNAL, AtFlags::SYMLINK_NOFOLLOW),
        Err(rustix::io::Errno::NOENT)
    )
}

/// The state's text, unless a build was interrupted (the slow path must
/// repair it first) or there is none.
fn read_state(tree: &Tree) -> Option<String> {
    if !no_journal(tree) {
        return None;
    }
    let fd = tree.dir(CACHE_DIR, false).ok()??;
    match tree.existing(&fd, STATE, STATE).ok()? {
        super::tree::Existing::File(bytes) => String::from_utf8(bytes).ok(),
        _ => None,
    }
}

/// Whether the tree is exactly what a build with `fingerprint` wrote last:
/// the number of files it generated, or `None` when the slow path must
/// decide. Reads no file except racy ones; writes nothing in the tree.
///
/// With `refresh`, a state whose racy entries all checked out is written
/// again with those now old enough as plain ones: a fresh build leaves the
/// files and folders of its last 50 ms racy (at 1,000 x 4, the Helm values
/// and the manifest, 8 MB read and hashed on every run, and the root's
/// folders listed), and nothing else would ever clear them. `build --check`
/// does not refresh: a check writes nothing.
pub fn up_to_date(tree: &Tree, fingerprint: &str, refresh: bool) -> Option<usize> {
    let text = read_state(tree)?;
    let (recorded, lines) = entry_lines(&text)?;
    if recorded != fingerprint {
        return None;
    }
    // Each folder's entry, then its files' lines: grouped here by their
    // paths alone, parsed in full by the threads that stat them.
    let mut groups: Vec<(Entry, Vec<&str>)> = Vec::new();
    let mut any_racy = false;
    for line in lines {
        let (kind, path) = kind_and_path(line)?;
        any_racy |= kind != "-" && kind != "dir";
        match groups.last_mut() {
            _ if is_dir(kind) => groups.push((entry(line)?, Vec::new())),
            Some((dir, files)) if split(path).0 == dir.path => files.push(line),
            _ => return None,
        }
    }
    let files: usize = groups.iter().map(|(_, f)| f.len()).sum();
    if files == 0 {
        return None;
    }
    let same = deployc::par::map(&pieces(&groups), |(dir, items, first)| {
        let Ok(Some(fd)) = tree.dir(dir.path, false) else { return false };
        let folder = !first
            || match dir.kind {
                Kind::Dir { racy: false } => rustix::fs::fstat(&fd).ok().map(|st| meta(&st)) == Some(dir.meta),
                // No temporary file the slow path would clear.
                _ => no_temporary_files(&fd),
            };
        folder
            && items.iter().all(|line| {
                let Some(e) = entry(line) else { return false };
                let name = split(e.path).1;
                stat_file(&fd, name) == Some(e.meta)
                    && match &e.kind {
                        Kind::File => true,
                        Kind::Racy(h) => match tree.existing(&fd, name, e.path) {
                            Ok(super::tree::Existing::File(bytes)) => {
                                hex(&Sha256::digest(&bytes)).eq_ignore_ascii_case(h)
                            }
                            _ => false,
                        },
                        // Grouped as a file: a folder's line is never.
                        Kind::Dir { .. } => false,
                    }
            })
    });
    if !same.into_iter().all(|s| s) {
        return None;
    }
    if refresh && any_racy {
        refresh_racy(tree, &text);
    }
    Some(files)
}

/// Writes the state again with its racy entries, just checked, recorded
/// as plain ones where they are now old enough: a file's content matched
/// its hash and its metadata the state's, so any later change moves its
/// ctime past the state's time; a folder is plain only if its metadata is
/// still the recorded one. Best effort: a state not written stays as it was.
fn refresh_racy(tree: &Tree, text: &str) -> Option<()> {
    let fd = tree.dir(CACHE_DIR, false).ok()??;
    let stamp = stamp(&fd)?;
    let old = |m: &Meta| !racy(m, stamp);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let plain = match entry(line.trim_end_matches('\n')) {
            Some(e @ Entry { kind: Kind::Racy(_), .. }) if old(&e.meta) => Some("-"),
            Some(e @ Entry { kind: Kind::Dir { racy: true }, .. }) if old(&e.meta) => {
                let now = rustix::fs::fstat(&tree.dir(e.path, false).ok()??).ok().map(|st| meta(&st));
                (now == Some(e.meta)).then_some("dir")
            }
            _ => None,
        };
        match plain {
            // The kind is the fifth field; the path after it holds no tab.
            Some(kind) => {
                let mut f = line.splitn(6, '\t');
                for field in f.by_ref().take(4) {
                    out.push_str(field);
                    out.push('\t');
                }
                f.next()?;
                out.push_str(kind);
                out.push('\t');
                out.push_str(f.next()?);
            }
            None => out.push_str(line),
        }
    }
    write_file(&fd, STATE_NEW, out.as_bytes())?;
    rustix::fs::renameat(&fd, STATE_NEW, &fd, STATE).ok()
}

/// Whether a folder holds no temporary file of the writer.
fn no_temporary_files(fd: &std::os::fd::OwnedFd) -> bool {
    let Ok(entries) = rustix::fs::Dir::read_from(fd) else { return false };
    for entry in entries {
        let Ok(entry) = entry else { return false };
        if super::tree::is_temp(&entry.file_name().to_string_lossy()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_complete_safe_state_parses() {
        let h = "b".repeat(64);
        let good = format!(
            "{HEADER}\nfingerprint\tabc\n9\t9\t9\t9\tdir\t.\n5\t6\t7\t8\t{h}\t.deployc-manifest\n9\t9\t9\t9\tdir?\tk8s\n1\t2\t3\t4\t-\tk8s/a.yaml\nend\t4\n"
        );
        let (fp, entries) = parse(&good).expect("parses");
        assert_eq!(fp, "abc");
        assert_eq!(entries.len(), 4);
        assert_eq!((&entries[0].kind, entries[0].path), (&Kind::Dir { racy: false }, ""));
        assert_eq!(entries[1].kind, Kind::Racy(&h));
        assert_eq!(entries[2].kind, Kind::Dir { racy: true });
        assert_eq!(entries[3].meta, Meta { ino: 1, size: 2, mtime: 3, ctime: 4 });
        // Torn, miscounted, unsafe paths, bad hashes, negative sizes.
        assert!(parse(&good[..good.len() - 4]).is_none());
        assert!(parse(&good.replace("end\t4", "end\t3")).is_none());
        assert!(parse(&good.replace("k8s/a.yaml", "../a.yaml")).is_none());
        assert!(parse(&good.replace("k8s/a.yaml", ".deployc-cache/state")).is_none());
        assert!(parse(&good.replace(&h, "xyz")).is_none());
        assert!(parse(&good.replace("1\t2\t3", "1\t-2\t3")).is_none());
    }

    #[test]
    fn the_sources_are_read_whole_however_long_the_head() {
        let dir = tempfile::tempdir().expect("tmp");
        let tree = Tree::open(dir.path(), false).expect("opens").expect("exists");
        let cache = tree.dir(CACHE_DIR, true).expect("creates").expect("a folder");
        // 2,000 sources of 40-odd bytes: the head spans several reads, and
        // reads end inside a source line.
        let names: Vec<String> = (0..2000).map(|i| format!("modules/team-{i:05}/services.dpl")).collect();
        let mut text = format!("{HEADER}\nfingerprint\tabc\n");
        for n in &names {
            text.push_str(&format!("source\tfile\t{n}\n"));
        }
        text.push_str("9\t9\t9\t9\tdir\t.\nend\t1\n");
        write_file(&cache, STATE, text.as_bytes()).expect("writes");
        let recorded = recorded_sources(&tree).expect("a head");
        assert_eq!(recorded.fingerprint, "abc");
        assert_eq!(recorded.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), names);
        // A state cut inside its sources lists only its whole lines.
        let cut = &text[..text.find("team-01000").expect("there")];
        write_file(&cache, STATE, cut.as_bytes()).expect("writes");
        assert_eq!(recorded_sources(&tree).expect("a head").sources.len(), 1000);
    }

    #[test]
    fn fingerprint_parts_do_not_run_into_each_other() {
        let fp = |parts: &[&str]| {
            let mut f = Fingerprint::new();
            parts.iter().for_each(|p| f.part(p.as_bytes()));
            f.finish()
        };
        assert_eq!(fp(&["ab", "c"]), fp(&["ab", "c"]));
        assert_ne!(fp(&["ab", "c"]), fp(&["a", "bc"]));
    }
}
