//! The commands of the binary: reading the program, reporting diagnostics,
//! and each command's work. `main.rs` declares the command line.

pub mod diff;
pub mod fmt;
pub mod onboard;
pub mod secrets;

use crate::writer;
use clap::ValueEnum;
use deployc::codes::Severity;
use deployc::codes::{Code, REGISTRY};
use deployc::diagnostic::{self, Diagnostics};
use deployc::load::FileProvider;
use deployc::source::SourceMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The stream a coloured text goes to.
#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Color {
    /// Whether to colour what goes to `stream`: `auto` colours a terminal
    /// unless `NO_COLOR` is set.
    pub fn enabled(self, stream: Stream) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && match stream {
                        Stream::Stdout => std::io::stdout().is_terminal(),
                        Stream::Stderr => std::io::stderr().is_terminal(),
                    }
            }
        }
    }
    /// The same choice for clap's help and usage errors.
    pub fn clap(self) -> clap::ColorChoice {
        match self {
            Color::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => clap::ColorChoice::Never,
            Color::Auto => clap::ColorChoice::Auto,
            Color::Always => clap::ColorChoice::Always,
            Color::Never => clap::ColorChoice::Never,
        }
    }
}

/// `--color` as written on the command line, before clap parses it (the
/// last one wins, as clap would have it); `auto` when absent or invalid.
pub fn early_color(args: impl IntoIterator<Item = OsString>) -> Color {
    let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut color = Color::Auto;
    for (i, a) in args.iter().enumerate() {
        if a == "--" {
            break;
        }
        let value = match a.strip_prefix("--color") {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        if let Some(c) = value.and_then(|v| Color::from_str(v, true).ok()) {
            color = c;
        }
    }
    color
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// miette's graphical report.
    Human,
    /// One JSON object per line and diagnostic.
    Json,
    /// GitHub Actions annotations (`::error file=…,line=…::…`), one per line.
    Github,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Deny {
    Warnings,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SecretsFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiffFormat {
    /// Markdown, for people and pull-request comments.
    Text,
    /// One JSON document, for bots.
    Json,
}

/// Reads imports relative to the working directory, as the loader names them.
pub struct Fs;

impl FileProvider for Fs {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }
}

/// Reads and compiles a program's root file (imports through the filesystem);
/// an unreadable file is exit code 2, already reported. A file that is not
/// UTF-8 is read, and reported by the loader with a position (E0008).
///
/// The compilation is never dropped: every command ends the process soon
/// after, and the system takes the memory back at once, where freeing the
/// syntax tree, model and graph node by node cost a twentieth of `check`.
pub fn compile_file(file: &Path) -> Result<std::mem::ManuallyDrop<deployc::Compilation>, ExitCode> {
    let (name, bytes) = read_root(file)?;
    Ok(std::mem::ManuallyDrop::new(deployc::compile_bytes(&name, bytes, &Fs)))
}

/// Reads the root file: its display name and bytes, or exit code 2.
pub fn read_root(file: &Path) -> Result<(String, Vec<u8>), ExitCode> {
    if file == Path::new("-") {
        // `check -`: the program on standard input; imports are relative to
        // the working directory.
        let mut bytes = Vec::new();
        return match std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes) {
            Ok(_) => Ok(("<stdin>".to_string(), bytes)),
            Err(e) => {
                eprintln!("error: cannot read standard input: {e}");
                Err(ExitCode::from(2))
            }
        };
    }
    match std::fs::read(file) {
        Ok(text) => Ok((display(file), text)),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            Err(ExitCode::from(2))
        }
    }
}

/// Frees the syntax trees once diagnostics are reported: rendering reads
/// only the model, and reuses their memory (a tenth of a build's peak).
fn free_syntax(c: &mut deployc::Compilation) {
    for m in &mut c.program.modules {
        m.ast = Default::default();
    }
}

/// Writes to stdout; a closed pipe (`deployc diff | head`) is not an error.
pub fn print_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// A path as diagnostics and listings name it: `/` separators.
pub fn display(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Prints diagnostics to stderr (human) or stdout (one JSON object a line).
pub fn report(diags: &Diagnostics, sources: &SourceMap, format: Format, color: Color) {
    match format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            for d in &diags.items {
                let json = serde_json::to_string(&diagnostic::to_json(d, sources)).unwrap_or_default();
                let _ = writeln!(out, "{json}");
            }
        }
        Format::Github => {
            let mut out = std::io::stdout().lock();
            for d in &diags.items {
                let _ = writeln!(out, "{}", diagnostic::to_github(&diagnostic::to_json(d, sources)));
            }
        }
        Format::Human => {
            let color = color.enabled(Stream::Stderr);
            let mut err = std::io::stderr().lock();
            for d in &diags.items {
                let _ = write!(err, "{}", diagnostic::render(d, sources, color, 100));
                let _ = writeln!(err);
            }
            let (e, w) = (diags.error_count(), diags.warning_count());
            if e + w > 0 {
                let _ = writeln!(err, "{e} error(s), {w} warning(s)");
            }
        }
    }
}

pub fn check(file: &Path, format: Format, deny: bool, color: Color) -> ExitCode {
    let c = match compile_file(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    report(&c.diagnostics, &c.program.sources, format, color);
    let fail = c.diagnostics.has_errors() || (deny && c.diagnostics.warning_count() > 0);
    if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The output directory: `-o DIR`, or `out/` beside the program.
pub fn out_dir(file: &Path, out: Option<PathBuf>) -> PathBuf {
    out.unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).join("out"))
}

pub fn build(
    file: &Path,
    out: Option<PathBuf>,
    check: bool,
    diff: bool,
    targets: &[deployc::emit::Target],
    deny: bool,
    color: Color,
) -> ExitCode {
    use deployc::emit::Target;
    use deployc::plan::Plan;
    // Nothing changed since the last quiet build on this machine: the
    // sources it recorded read the same, and its state says the tree is as
    // it wrote it, so there is nothing to compile, report or write.
    if let Some(code) = unchanged_since_recorded(file, out.as_deref(), targets, check) {
        return code;
    }
    let mut c = match compile_file(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut diagnostics = c.diagnostics.clone();
    if let Some((model, _)) = &c.output {
        diagnostics.items.extend(deployc::emit::unserved(model, targets));
        diagnostics.items.extend(deployc::emit::helm_gaps(model, targets));
    }
    report(&diagnostics, &c.program.sources, Format::Human, color);
    free_syntax(&mut c);
    let denied = deny && diagnostics.warning_count() > 0;
    let Some((model, graph)) = c.output.as_ref().filter(|_| !denied) else {
        eprintln!("build failed: nothing was written");
        return ExitCode::from(1);
    };
    let root = out_dir(file, out);
    let opts = options(&root);
    let fingerprint = fingerprint_of(&c.program.sources, targets, &opts);
    // Nothing changed since the last build on this machine: its recorded
    // state says so without emitting or reading the files back.
    if let Some(n) = writer::up_to_date(&root, &fingerprint, !check) {
        if check {
            println!("{}: up to date ({n} files, as recorded)", root.display());
        } else {
            println!("{}: 0 written, 0 removed, {n} unchanged (as recorded)", root.display());
        }
        return ExitCode::SUCCESS;
    }
    if check {
        let artifacts = artifacts(model, graph, targets, opts);
        let drift = match writer::drift(&root, &artifacts) {
            Ok((drift, recovered)) => {
                report_recovery(&root, recovered);
                drift
            }
            Err(e) => return write_failed(&e, color),
        };
        if drift.is_empty() {
            println!("{}: up to date ({} files)", root.display(), artifacts.len());
            return ExitCode::SUCCESS;
        }
        for d in &drift {
            match d {
                writer::Drift::Missing(p) => println!("missing   {p}"),
                writer::Drift::Stale(p) => println!("stale     {p} (no longer generated)"),
                writer::Drift::Changed { path, on_disk, expected } => {
                    println!("changed   {path}");
                    if diff {
                        print!("{}", writer::unified_diff(path, on_disk, expected));
                    }
                }
            }
        }
        println!("{}: {} file(s) differ from the sources; run `deployc build` and commit", root.display(), drift.len());
        return ExitCode::from(1);
    }
    // A build keeps the image tags it finds in its output (CD owns them), so
    // what the next run reads from the tree is what this one wrote: the
    // fingerprint to record is computed from the written tree.
    let quiet = diagnostics.items.is_empty();
    let next = || writer::Recorded {
        fingerprint: fingerprint_of(&c.program.sources, targets, &options(&root)),
        sources: if quiet { loaded_sources(&c.program) } else { Vec::new() },
    };
    // Each piece of the output is staged as soon as it is rendered, and its
    // text dropped: the build never holds the whole tree.
    let all: Vec<Target> = if targets.is_empty() { Target::ALL.to_vec() } else { targets.to_vec() };
    let plan = Plan::new(model, graph, &opts);
    let produce = |stager: &writer::Stager| deployc::emit::emit_each(&plan, &all, &|piece| stager.stage(piece));
    match writer::write(&root, produce, Some(&next)) {
        Ok(s) => {
            report_recovery(&root, s.recovered);
            for k in &s.kept {
                println!("kept      {k} (no longer generated, but edited since deployc wrote it)");
            }
            println!(
                "{}: {} written, {} removed, {} unchanged",
                root.display(),
                s.written.len(),
                s.removed.len(),
                s.unchanged
            );
            ExitCode::SUCCESS
        }
        Err(e) => write_failed(&e, color),
    }
}

/// `build --stdout`: the Kubernetes objects of the chosen targets (k8s by
/// default) and environments (all by default) as one YAML stream on stdout.
/// Reads nothing from an output tree: no released tags, no team files.
pub fn stream(file: &Path, targets: &[deployc::emit::Target], envs: &[String], deny: bool, color: Color) -> ExitCode {
    use deployc::emit::{self, Target, STREAMABLE};
    use deployc::plan::{Options, Plan};
    let targets: Vec<Target> = if targets.is_empty() { vec![Target::K8s] } else { targets.to_vec() };
    if let Some(t) = targets.iter().find(|t| !STREAMABLE.contains(t)) {
        let names: Vec<&str> = STREAMABLE.iter().map(|t| t.name()).collect();
        eprintln!("error: target `{}` writes no Kubernetes objects; a stream takes {}", t.name(), names.join(", "));
        return ExitCode::from(2);
    }
    let c = match compile_file(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut diagnostics = c.diagnostics.clone();
    if let Some((model, _)) = &c.output {
        diagnostics.items.extend(emit::unserved(model, &targets));
    }
    report(&diagnostics, &c.program.sources, Format::Human, color);
    // The syntax trees are not freed: the process ends after this stream,
    // and freeing them (on this thread, of tokens the lexer's thread
    // allocated) took 10 ms of the 260 ms stream of 5,000 services.
    let denied = deny && diagnostics.warning_count() > 0;
    let Some((model, graph)) = c.output.as_ref().filter(|_| !denied) else {
        eprintln!("build failed: nothing was written");
        return ExitCode::from(1);
    };
    if let Some(unknown) = envs.iter().find(|e| !model.environments.iter().any(|m| &m.name == *e)) {
        let names: Vec<&str> = model.environments.iter().map(|m| m.name.as_str()).collect();
        eprintln!("error: no environment `{unknown}`; the program has {}", names.join(", "));
        return ExitCode::from(2);
    }
    let opts = Options::default();
    let mut plan = Plan::new(model, graph, &opts);
    if !envs.is_empty() {
        plan.envs.retain(|p| envs.contains(&p.env.name));
    }
    // A closed pipe (`deployc build --stdout | head`) is not an error.
    // Unbuffered: the stream is written a thousand documents to a call.
    let mut out = std::io::stdout().lock();
    let _ = emit::stream(&plan, &targets, envs, &mut out);
    ExitCode::SUCCESS
}

/// The team's own files in each environment's `extra/` folder of an existing
/// output: regular `.yaml`/`.yml` files only (never through a symlink), sorted.
fn extra_files(root: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(envs) = std::fs::read_dir(root.join("k8s")) else { return out };
    for e in envs.filter_map(|e| e.ok()) {
        let dir = e.path().join(deployc::plan::EXTRA_DIR);
        let Ok(meta) = std::fs::symlink_metadata(&dir) else { continue };
        if !meta.is_dir() {
            continue;
        }
        let Ok(items) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<String> = items
            .filter_map(|i| i.ok())
            .filter(|i| i.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|i| i.file_name().to_string_lossy().to_string())
            .filter(|n| (n.ends_with(".yaml") || n.ends_with(".yml")) && !n.starts_with('.'))
            .collect();
        files.sort();
        if !files.is_empty() {
            out.insert(e.file_name().to_string_lossy().to_string(), files);
        }
    }
    out
}

/// Says what a run did about an interrupted earlier build.
pub fn report_recovery(root: &Path, recovered: Option<writer::Recovery>) {
    match recovered {
        Some(writer::Recovery::Completed) => {
            eprintln!("note: {}: completed an interrupted build from its journal", root.display())
        }
        Some(writer::Recovery::RolledBack(n)) => {
            eprintln!("note: {}: rolled back an interrupted build ({n} temporary file(s) removed)", root.display())
        }
        None => {}
    }
}

/// Reports a writer error as a coded diagnostic; exit code 2.
pub fn write_failed(e: &writer::WriteError, color: Color) -> ExitCode {
    let mut diags = Diagnostics::default();
    diags.push(e.diagnostic());
    report(&diags, &SourceMap::new(), Format::Human, color);
    ExitCode::from(2)
}

/// The sources a compilation loaded, in load order, as a state records them.
fn loaded_sources(program: &deployc::load::Program) -> Vec<writer::RecordedSource> {
    let mut std = vec![false; program.sources.len()];
    for m in &program.modules {
        if let Some(s) = std.get_mut(m.source.0 as usize) {
            *s = m.is_std;
        }
    }
    (0..program.sources.len())
        .map(|i| writer::RecordedSource {
            std: std[i],
            name: program.sources.get(deployc::source::SourceId(i as u32)).name.clone(),
        })
        .collect()
}

/// The fast path of an unchanged rebuild: reads the sources the last quiet
/// build recorded (its root must be `file`), recomputes the fingerprint and
/// asks the state whether the tree is as that build left it. `None` when
/// anything differs or cannot be read: then the build compiles.
fn unchanged_since_recorded(
    file: &Path,
    out: Option<&Path>,
    targets: &[deployc::emit::Target],
    check: bool,
) -> Option<ExitCode> {
    if file == Path::new("-") {
        return None;
    }
    let root = out_dir(file, out.map(Path::to_path_buf));
    let recorded = writer::recorded_sources(&root)?;
    let mut sources = SourceMap::default();
    let mut roots = 0;
    for s in &recorded.sources {
        let text = if s.std {
            deployc::load::stdlib_module(&s.name)?.to_string()
        } else {
            // The first file is the program's root, named as on this command line.
            if roots == 0 && s.name != display(file) {
                return None;
            }
            roots += 1;
            String::from_utf8(std::fs::read(&s.name).ok()?).ok()?
        };
        sources.add(s.name.clone(), text);
    }
    if fingerprint_of(&sources, targets, &options(&root)) != recorded.fingerprint {
        return None;
    }
    let n = writer::up_to_date(&root, &recorded.fingerprint, !check)?;
    if check {
        println!("{}: up to date ({n} files, as recorded)", root.display());
    } else {
        println!("{}: 0 written, 0 removed, {n} unchanged (as recorded)", root.display());
    }
    Some(ExitCode::SUCCESS)
}

/// What a build reads from the existing output under `root`: released
/// image tags and the team's extra files.
pub fn options(root: &Path) -> deployc::plan::Options {
    deployc::plan::Options { image_tags: writer::released_tags(root), extra_files: extra_files(root) }
}

/// The input fingerprint of a build: everything that decides its output
/// (deployc itself, the targets, every loaded file, what it reads from the
/// existing output). Two builds with the same fingerprint write the same bytes.
pub fn fingerprint_of(sources: &SourceMap, targets: &[deployc::emit::Target], opts: &deployc::plan::Options) -> String {
    use deployc::emit::Target;
    let mut f = writer::Fingerprint::new();
    let mut targets: Vec<Target> = if targets.is_empty() { Target::ALL.to_vec() } else { targets.to_vec() };
    targets.sort();
    targets.dedup();
    for t in targets {
        f.part(t.name().as_bytes());
    }
    f.part(b"sources");
    for i in 0..sources.len() {
        let file = sources.get(deployc::source::SourceId(i as u32));
        f.part(file.name.as_bytes());
        f.part(file.text.as_bytes());
    }
    f.part(b"image tags");
    for ((env, image), tag) in &opts.image_tags {
        f.part(env.as_bytes());
        f.part(image.as_bytes());
        f.part(tag.as_bytes());
    }
    f.part(b"extra files");
    for (env, files) in &opts.extra_files {
        f.part(env.as_bytes());
        files.iter().for_each(|n| f.part(n.as_bytes()));
        f.part(b"");
    }
    f.finish()
}

/// Everything a build writes, the manifest included.
pub fn artifacts(
    model: &deployc::model::Model,
    graph: &deployc::graph::Graph,
    targets: &[deployc::emit::Target],
    opts: deployc::plan::Options,
) -> Vec<deployc::emit::Artifact> {
    use deployc::emit::{self, Target};
    use deployc::plan::Plan;
    let targets: Vec<Target> = if targets.is_empty() { Target::ALL.to_vec() } else { targets.to_vec() };
    let mut artifacts = emit::emit(&Plan::new(model, graph, &opts), &targets);
    artifacts.push(writer::manifest(&artifacts));
    artifacts
}

pub fn graph(file: &Path, format: GraphFormat, color: Color) -> ExitCode {
    let c = match compile_file(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match &c.output {
        Some((model, graph)) => {
            let text = match format {
                GraphFormat::Dot => graph.to_dot(model),
                GraphFormat::Mermaid => graph.to_mermaid(model),
            };
            print_out(&text);
            ExitCode::SUCCESS
        }
        None => {
            report(&c.diagnostics, &c.program.sources, Format::Human, color);
            ExitCode::from(1)
        }
    }
}

pub fn explain(code: &str) -> ExitCode {
    if code.eq_ignore_ascii_case("all") {
        for i in REGISTRY {
            let sev = if i.severity == Severity::Error { "error" } else { "warning" };
            println!("{}  {sev:7}  {}", i.code.as_str(), i.title);
        }
        return ExitCode::SUCCESS;
    }
    match Code::parse(code) {
        Some(c) => {
            let i = c.info();
            println!("{}: {}\n\n{}\n\nHelp: {}", i.code.as_str(), i.title, i.explanation, i.help);
            if let Some(e) = deployc::explain::example(c) {
                println!("\n{}", deployc::explain::render(e));
            }
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: unknown code `{code}`; `deployc explain all` lists them");
            ExitCode::from(2)
        }
    }
}
