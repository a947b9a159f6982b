//! The output tree seen through directory handles: every path below the root
//! is opened one component at a time with `O_NOFOLLOW`, so a symlink inside
//! the tree (`out/k8s/prod -> /elsewhere`) is never followed, whoever put it
//! there and whenever. The root itself is the user's choice (`-o DIR`) and
//! is opened as given.
//!
//! Every failure becomes a [`WriteError`] that names the path and carries a
//! code of the I/O range (E09xx).

use deployc::codes::Code;
use deployc::diagnostic::Diagnostic;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// What went wrong, as the user can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Permission denied, or a read-only filesystem.
    Permission,
    /// No space left, quota exceeded, or a file-size limit.
    NoSpace,
    /// A symlink inside the output tree where deployc needs a directory.
    Symlink,
    /// A file where a directory must be, a directory where a file must be,
    /// or a name the filesystem cannot hold.
    Conflict,
    /// An artifact or manifest path that would leave the output root.
    UnsafePath,
    /// Any other I/O error.
    Other,
}

/// A failed filesystem operation: what, where, and the system's words.
#[derive(Debug)]
pub struct WriteError {
    pub problem: Problem,
    pub path: PathBuf,
    pub detail: String,
    /// Whether the build had committed: then the next run completes it.
    pub committed: bool,
}

impl WriteError {
    pub fn new(problem: Problem, path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        WriteError { problem, path: path.into(), detail: detail.into(), committed: false }
    }

    /// Classifies a system error on `path`.
    pub fn io(path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        let problem = match Errno::from_io_error(&e) {
            Some(Errno::ACCESS | Errno::PERM | Errno::ROFS) => Problem::Permission,
            Some(Errno::NOSPC | Errno::DQUOT | Errno::FBIG) => Problem::NoSpace,
            Some(Errno::LOOP) => Problem::Symlink,
            Some(Errno::NOTDIR | Errno::ISDIR | Errno::NAMETOOLONG | Errno::EXIST | Errno::NOTEMPTY) => {
                Problem::Conflict
            }
            _ => Problem::Other,
        };
        WriteError { problem, path: path.into(), detail: e.to_string(), committed: false }
    }

    pub fn code(&self) -> Code {
        match self.problem {
            Problem::Permission => Code::E0901,
            Problem::NoSpace => Code::E0902,
            Problem::Symlink => Code::E0903,
            Problem::Conflict => Code::E0904,
            Problem::UnsafePath => Code::E0905,
            Problem::Other => Code::E0906,
        }
    }

    /// The diagnostic the driver reports: the code, the path, the cause.
    pub fn diagnostic(&self) -> Diagnostic {
        let path = self.path.display();
        let message = match self.problem {
            Problem::Permission => format!("permission denied writing `{path}`"),
            Problem::NoSpace => format!("no space left writing `{path}`"),
            Problem::Symlink => format!("`{path}` is a symlink inside the output tree"),
            Problem::Conflict => format!("`{path}` cannot be written"),
            Problem::UnsafePath => format!("`{path}` would leave the output directory"),
            Problem::Other => format!("cannot write `{path}`"),
        };
        let d = Diagnostic::new(self.code(), format!("{message} ({})", self.detail));
        let help = d.help.clone();
        let outcome = if self.committed {
            "The build had committed: the next deployc run completes it from `.deployc-journal`."
        } else {
            "Nothing was changed: the previous output is intact."
        };
        d.help(format!("{help} {outcome}"))
    }
}

impl From<(PathBuf, Errno)> for WriteError {
    fn from((path, e): (PathBuf, Errno)) -> Self {
        WriteError::io(path, e.into())
    }
}

/// The name of a temporary sibling of `name`; [`is_temp`] recognises it.
pub fn temp_name(name: &str) -> String {
    format!(".{name}{TEMP_SUFFIX}")
}

/// The suffix of every temporary file the writer creates.
pub const TEMP_SUFFIX: &str = ".deployc-tmp";

pub fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// Whether `rel` stays inside the root: relative, no `..`, `.` or empty
/// segments, no control characters (the journal and manifest are line- and
/// tab-separated).
pub fn safe(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.chars().any(char::is_control)
        && !rel.split('/').any(|s| s.is_empty() || s == ".." || s == ".")
}

/// Splits `a/b/c.yaml` into (`a/b`, `c.yaml`); the root's files have dir "".
pub fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

/// What stands at a path.
pub enum Existing {
    Missing,
    File(Vec<u8>),
    Dir,
    /// A symlink, FIFO, socket or device: replaced by a rename, never opened.
    Special,
}

/// The output root, open.
pub struct Tree {
    root: OwnedFd,
    path: PathBuf,
}

pub const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

impl Tree {
    /// Opens and locks the root (an exclusive `flock`, held until the tree
    /// is dropped), creating it (and its parents) when `create` is set;
    /// `None` when it does not exist and `create` is not set.
    pub fn open(path: &Path, create: bool) -> Result<Option<Tree>, WriteError> {
        if create {
            std::fs::create_dir_all(path).map_err(|e| WriteError::io(path, e))?;
        }
        match rustix::fs::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => {
                // One deployc at a time per output: a second run waits, so it
                // cannot take the first one's journal for an interrupted build.
                // The lock dies with the process, even under `kill -9`.
                rustix::fs::flock(&fd, rustix::fs::FlockOperation::LockExclusive)
                    .map_err(|e| WriteError::from((path.to_path_buf(), e)))?;
                Ok(Some(Tree { root: fd, path: path.to_path_buf() }))
            }
            Err(Errno::NOENT) if !create => Ok(None),
            Err(e) => Err((path.to_path_buf(), e).into()),
        }
    }

    /// The full path of `rel`, for messages.
    pub fn full(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.path.clone()
        } else {
            self.path.join(rel)
        }
    }

    pub fn root(&self) -> &OwnedFd {
        &self.root
    }

    /// Opens the directory `rel` ("" is the root) without following any
    /// symlink; creates missing directories when `create` is set. `None`
    /// when a directory is missing and `create` is not set.
    pub fn dir(&self, rel: &str, create: bool) -> Result<Option<OwnedFd>, WriteError> {
        Ok(self.open_dir(rel, create)?.map(|(fd, _)| fd))
    }

    /// Opens (creating what is missing) the directory `rel`, and whether
    /// this call created it: a folder this call created held nothing but
    /// what the build writes into it since.
    pub fn make_dir(&self, rel: &str) -> Result<(OwnedFd, bool), WriteError> {
        self.open_dir(rel, true)?.ok_or_else(|| WriteError::new(Problem::Other, self.full(rel), "cannot create"))
    }

    fn open_dir(&self, rel: &str, create: bool) -> Result<Option<(OwnedFd, bool)>, WriteError> {
        let mut fd = rustix::io::dup(&self.root).map_err(|e| (self.path.clone(), e))?;
        let mut created = false;
        if rel.is_empty() {
            return Ok(Some((fd, created)));
        }
        let mut at = String::new();
        for seg in rel.split('/') {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(seg);
            created = false;
            fd = match rustix::fs::openat(&fd, seg, DIR_FLAGS, Mode::empty()) {
                Ok(next) => next,
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&fd, seg, Mode::from_raw_mode(0o777)) {
                        Ok(()) => created = true,
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err((self.full(&at), e).into()),
                    }
                    rustix::fs::openat(&fd, seg, DIR_FLAGS, Mode::empty()).map_err(|e| self.why(&fd, seg, &at, e))?
                }
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(self.why(&fd, seg, &at, e)),
            };
        }
        Ok(Some((fd, created)))
    }

    /// Explains a failed directory open: a symlink or something else in the way.
    pub fn why(&self, parent: &OwnedFd, name: &str, rel: &str, e: Errno) -> WriteError {
        let path = self.full(rel);
        match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => WriteError::new(
                Problem::Symlink,
                path,
                "deployc does not follow symlinks inside its output; remove the link or point -o elsewhere",
            ),
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {
                WriteError::new(Problem::Conflict, path, "a file stands where deployc needs a directory")
            }
            _ => (path, e).into(),
        }
    }

    /// What stands at `name` in `dir`; reads it when it is a regular file.
    pub fn existing(&self, dir: &OwnedFd, name: &str, rel: &str) -> Result<Existing, WriteError> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(Existing::Missing),
            // O_NOFOLLOW on a symlink.
            Err(Errno::LOOP) => return Ok(Existing::Special),
            Err(e) => return Err((self.full(rel), e).into()),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| (self.full(rel), e))?;
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => {
                let mut bytes = Vec::with_capacity(st.st_size as usize);
                std::fs::File::from(fd).read_to_end(&mut bytes).map_err(|e| WriteError::io(self.full(rel), e))?;
                Ok(Existing::File(bytes))
            }
            FileType::Directory => Ok(Existing::Dir),
            _ => Ok(Existing::Special),
        }
    }

    /// Writes `bytes` to a new file `name` in `dir` (never through a
    /// symlink); removes it again when the write fails.
    pub fn create(&self, dir: &OwnedFd, name: &str, rel: &str, bytes: &[u8], sync: bool) -> Result<(), WriteError> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(0o666);
        let fd = match rustix::fs::openat(dir, name, flags, mode) {
            Err(Errno::EXIST) => {
                // A leftover of an earlier run: remove it and start afresh.
                rustix::fs::unlinkat(dir, name, AtFlags::empty()).map_err(|e| (self.full(rel), e))?;
                rustix::fs::openat(dir, name, flags, mode)
            }
            r => r,
        }
        .map_err(|e| (self.full(rel), e))?;
        let mut f = std::fs::File::from(fd);
        let done = f.write_all(bytes).and_then(|()| if sync { f.sync_all() } else { Ok(()) });
        if let Err(e) = done {
            drop(f);
            let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
            return Err(WriteError::io(self.full(rel), e));
        }
        Ok(())
    }

    /// Removes the directories of `rel` that are empty, deepest first, up to
    /// (not including) the root.
    pub fn prune(&self, rel_dir: &str) {
        let mut dir = rel_dir;
        while !dir.is_empty() {
            let (parent, name) = split(dir);
            let Ok(Some(pfd)) = self.dir(parent, false) else { return };
            if rustix::fs::unlinkat(&pfd, name, AtFlags::REMOVEDIR).is_err() {
                return;
            }
            dir = parent;
        }
    }

    /// Removes the temporary files and staged folders (by name) directly in
    /// `dir` (at `rel`); returns how many files that removed and the other
    /// sub-folders it saw.
    pub fn clear(&self, fd: &OwnedFd, rel: &str) -> Result<(usize, Vec<String>), WriteError> {
        let mut removed = 0;
        let mut subdirs = Vec::new();
        let entries = rustix::fs::Dir::read_from(fd).map_err(|e| (self.full(rel), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| (self.full(rel), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let ty = match entry.file_type() {
                FileType::Unknown => rustix::fs::statat(fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| FileType::from_raw_mode(st.st_mode))
                    .unwrap_or(FileType::Unknown),
                t => t,
            };
            if ty == FileType::Directory && is_temp(&name) {
                // A new folder staged whole: everything in it is the build's.
                removed += self.remove_staged_dir(fd, &name, &child)?;
            } else if ty == FileType::Directory {
                subdirs.push(child);
            } else if is_temp(&name) {
                match rustix::fs::unlinkat(fd, name.as_str(), AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => removed += 1,
                    Err(e) => return Err((self.full(&child), e).into()),
                }
            }
        }
        Ok((removed, subdirs))
    }

    /// Removes the folder `name` in `parent` and everything in it, never
    /// following a symlink (a link inside is removed, not entered). Returns
    /// how many files it removed.
    fn remove_staged_dir(&self, parent: &OwnedFd, name: &str, rel: &str) -> Result<usize, WriteError> {
        let fd = match rustix::fs::openat(parent, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(0),
            Err(e) => return Err(self.why(parent, name, rel, e)),
        };
        let mut removed = 0;
        let entries = rustix::fs::Dir::read_from(&fd).map_err(|e| (self.full(rel), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| (self.full(rel), e))?;
            let child = entry.file_name().to_string_lossy().into_owned();
            if child == "." || child == ".." {
                continue;
            }
            let at = format!("{rel}/{child}");
            let ty = match entry.file_type() {
                FileType::Unknown => rustix::fs::statat(&fd, child.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| FileType::from_raw_mode(st.st_mode))
                    .unwrap_or(FileType::Unknown),
                t => t,
            };
            if ty == FileType::Directory {
                removed += self.remove_staged_dir(&fd, &child, &at)?;
            } else {
                match rustix::fs::unlinkat(&fd, child.as_str(), AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => removed += 1,
                    Err(e) => return Err((self.full(&at), e).into()),
                }
            }
        }
        match rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) => Ok(removed),
            Err(e) => Err((self.full(rel), e).into()),
        }
    }

    /// Removes every temporary file (by name) under `rel`, without following
    /// symlinks, and the folders that removal empties. Returns how many
    /// files it removed.
    pub fn sweep(&self, rel: &str) -> Result<usize, WriteError> {
        let Some(fd) = self.dir(rel, false)? else { return Ok(0) };
        let (mut removed, subdirs) = self.clear(&fd, rel)?;
        for sub in subdirs {
            let n = self.sweep(&sub)?;
            if n > 0 {
                // Only folders that held our temporary files, so a team's own
                // empty folder stays.
                let (parent, name) = split(&sub);
                if let Ok(Some(pfd)) = self.dir(parent, false) {
                    let _ = rustix::fs::unlinkat(&pfd, name, AtFlags::REMOVEDIR);
                }
            }
            removed += n;
        }
        Ok(removed)
    }
}
