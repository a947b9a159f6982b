//! The command-line driver: the only place that reads files, prints
//! diagnostics and (in later targets) writes output.

use clap::{Parser, Subcommand, ValueEnum};
use deployc::codes::{Code, REGISTRY};
use deployc::diagnostic::{self, Severity};
use deployc::load::FileProvider;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod lsp_stdio;
mod writer;

// Building tens of thousands of small objects is allocation-bound; mimalloc
// makes a large build about a fifth faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "deployc", version, about = "Compile a deployment program (.dpl) into checked deployment artifacts")]
struct Cli {
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// miette's graphical report.
    Human,
    /// One JSON object per line and diagnostic.
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Deny {
    Warnings,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, type-check and resolve a program; write nothing.
    ///
    /// Example: deployc check examples/healthcp.dpl --format json
    Check {
        /// The program's root file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors.
        #[arg(long, value_enum)]
        deny: Option<Deny>,
    },
    /// Compile a program and write its output tree (atomically, only changed files).
    ///
    /// Example: deployc build examples/healthcp.dpl -o examples/healthcp/out
    ///
    /// With --check nothing is written; the command exits 1 and lists every
    /// file that differs from what the sources produce (the GitOps drift check).
    Build {
        /// The program's root file.
        file: PathBuf,
        /// Output directory (default: `out/` beside the file).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 if the output on disk differs.
        #[arg(long)]
        check: bool,
        /// With --check, print a unified diff of each changed file.
        #[arg(long, requires = "check")]
        diff: bool,
        /// Targets to emit (default: all); repeat to pick several.
        #[arg(long = "target", value_enum)]
        targets: Vec<deployc::emit::Target>,
        /// Treat warnings as errors.
        #[arg(long, value_enum)]
        deny: Option<Deny>,
    },
    /// Print the long explanation of a diagnostic code.
    ///
    /// Example: deployc explain E0401
    Explain {
        /// A code such as E0401, or `all` to list every code.
        code: String,
    },
    /// Run the language server on stdin and stdout (for editors).
    ///
    /// Example: deployc lsp    (started by the editor; see README "Editor setup")
    Lsp {
        /// Accepted for clients that pass it (vscode-languageclient); stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print the resolved dependency and promotion graph.
    ///
    /// Example: deployc graph examples/healthcp.dpl --format mermaid
    Graph {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
}

/// Reads imports relative to the working directory, as the loader names them.
struct Fs;

impl FileProvider for Fs {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
    }
}

fn read_root(file: &Path) -> Result<(String, String), ExitCode> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok((file.to_string_lossy().replace('\\', "/"), text)),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            Err(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let color = use_color(cli.color);
    match cli.command {
        Command::Check { file, format, deny } => {
            let (name, text) = match read_root(&file) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let c = deployc::compile(&name, &text, &Fs);
            report(&c, format, color);
            let fail = c.diagnostics.has_errors() || (deny.is_some() && c.diagnostics.warning_count() > 0);
            if fail {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Explain { code } => explain(&code),
        Command::Lsp { stdio: _ } => lsp_stdio::run(),
        Command::Build { file, out, check, diff, targets, deny } => {
            let (name, text) = match read_root(&file) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let c = deployc::compile(&name, &text, &Fs);
            report(&c, Format::Human, color);
            let denied = deny.is_some() && c.diagnostics.warning_count() > 0;
            let Some((model, graph)) = c.output.as_ref().filter(|_| !denied) else {
                eprintln!("build failed: nothing was written");
                return ExitCode::from(1);
            };
            let root = out.unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).join("out"));
            build(&root, model, graph, &targets, check, diff)
        }
        Command::Graph { file, format } => {
            let (name, text) = match read_root(&file) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let c = deployc::compile(&name, &text, &Fs);
            match &c.output {
                Some((model, graph)) => {
                    let text = match format {
                        GraphFormat::Dot => graph.to_dot(model),
                        GraphFormat::Mermaid => graph.to_mermaid(model),
                    };
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                None => {
                    report(&c, Format::Human, color);
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn build(
    root: &Path,
    model: &deployc::model::Model,
    graph: &deployc::graph::Graph,
    targets: &[deployc::emit::Target],
    check: bool,
    diff: bool,
) -> ExitCode {
    use deployc::emit::{self, Options, Target};
    let targets: Vec<Target> = if targets.is_empty() { Target::ALL.to_vec() } else { targets.to_vec() };
    let opts = Options { image_tags: writer::released_tags(root) };
    let mut artifacts = emit::emit(model, graph, &targets, &opts);
    artifacts.push(writer::manifest(&artifacts));
    if check {
        let drift = writer::drift(root, &artifacts);
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
    match writer::write(root, &artifacts) {
        Ok(s) => {
            println!(
                "{}: {} written, {} removed, {} unchanged",
                root.display(),
                s.written.len(),
                s.removed.len(),
                s.unchanged
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: writing {}: {e}", root.display());
            ExitCode::from(2)
        }
    }
}

fn report(c: &deployc::Compilation, format: Format, color: bool) {
    let stderr = std::io::stderr();
    let stdout = std::io::stdout();
    match format {
        Format::Json => {
            let mut out = stdout.lock();
            for d in &c.diagnostics.items {
                let json = serde_json::to_string(&diagnostic::to_json(d, &c.program.sources)).unwrap_or_default();
                let _ = writeln!(out, "{json}");
            }
        }
        Format::Human => {
            let mut err = stderr.lock();
            for d in &c.diagnostics.items {
                let _ = write!(err, "{}", diagnostic::render(d, &c.program.sources, color, 100));
                let _ = writeln!(err);
            }
            let (e, w) = (c.diagnostics.error_count(), c.diagnostics.warning_count());
            if e + w > 0 {
                let _ = writeln!(err, "{e} error(s), {w} warning(s)");
            }
        }
    }
}

fn explain(code: &str) -> ExitCode {
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
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: unknown code `{code}`; `deployc explain all` lists them");
            ExitCode::from(2)
        }
    }
}
