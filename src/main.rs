//! The command-line driver: the only place (with `writer.rs`) that reads
//! files, prints diagnostics and writes output. This file declares the
//! command line; `cli/` implements the commands.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;
mod lsp_stdio;
mod writer;

// Building tens of thousands of small objects is allocation-bound; mimalloc
// makes a large build about a fifth faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cli::{Color, Deny, DiffFormat, Format, GraphFormat, SecretsFormat};

#[derive(Parser)]
#[command(
    name = "deployc",
    version = env!("DEPLOYC_VERSION"),
    about = "Compile a deployment program (.dpl) into checked deployment artifacts",
    after_help = "Examples:\n  deployc check app.dpl\n  deployc build app.dpl -o out\n  deployc diff app.dpl -o out\n  deployc fmt --check\n  deployc explain E0401"
)]
struct Cli {
    /// When to colour output: diagnostics, help, diffs (`NO_COLOR` also turns it off).
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, type-check and resolve a program; write nothing.
    ///
    /// Exits 0 when the program is clean, 1 when it has errors (or warnings
    /// with --deny warnings), 2 on a usage or I/O error.
    #[command(
        after_help = "Examples:\n  deployc check examples/healthcp.dpl\n  deployc check app.dpl --format json --deny warnings\n  deployc check - < app.dpl"
    )]
    Check {
        /// The program's root file (`-`: read it from standard input).
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors.
        #[arg(long, value_enum)]
        deny: Option<Deny>,
    },
    /// Compile a program and write its output tree (atomically, only changed files).
    ///
    /// With --check nothing is written; the command exits 1 and lists every
    /// file that differs from what the sources produce (the GitOps drift check).
    #[command(
        after_help = "Examples:\n  deployc build examples/healthcp.dpl -o examples/healthcp/out\n  deployc build app.dpl --target k8s --target docs\n  deployc build app.dpl --check --diff\n  deployc build app.dpl --stdout --env prod | kubectl apply -f -"
    )]
    Build {
        /// The program's root file.
        file: PathBuf,
        /// Output directory (default: `out/` beside the file); `-` is --stdout.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 if the output on disk differs.
        #[arg(long, conflicts_with = "stdout")]
        check: bool,
        /// Print the Kubernetes objects as one YAML stream instead of writing
        /// a tree (targets k8s, the default here, and argocd).
        #[arg(long, conflicts_with = "out")]
        stdout: bool,
        /// With --stdout, only these environments (repeat to pick several).
        #[arg(long = "env", value_name = "ENV")]
        envs: Vec<String>,
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
    /// Show what a build would change in the committed output, per environment and object.
    ///
    /// Compares the output tree on disk with what the sources produce, like
    /// `build --check`, but parses YAML and JSON documents and reports added,
    /// removed and changed objects with their changed fields
    /// (`spec.replicas: 2 → 3`), as Markdown for a pull request or as JSON
    /// for bots. Writes nothing. Exits 0 when nothing differs, 1 when
    /// something does, 2 when the program has errors or on a usage or I/O
    /// error.
    #[command(
        after_help = "Examples:\n  deployc diff examples/healthcp.dpl -o examples/healthcp/out\n  deployc diff app.dpl --format json > diff.json"
    )]
    Diff {
        /// The program's root file.
        file: PathBuf,
        /// Output directory to compare with (default: `out/` beside the file).
        #[arg(short, long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Targets to compare (default: all); repeat to pick several.
        #[arg(long = "target", value_enum)]
        targets: Vec<deployc::emit::Target>,
    },
    /// Format .dpl files in the canonical layout, keeping comments.
    ///
    /// With no FILES, formats every .dpl file under the current directory
    /// (skipping target/ and .git/); a directory stands for the .dpl files
    /// under it; `-` reads standard input and writes standard output. A file
    /// with syntax errors is not formatted: its diagnostics are printed and
    /// the command exits 1. With --check nothing is written: the command
    /// exits 1 and names the files whose layout differs.
    #[command(
        after_help = "Examples:\n  deployc fmt                      # every .dpl file under the current directory\n  deployc fmt examples/healthcp.dpl\n  deployc fmt --check              # in CI\n  deployc fmt - < app.dpl"
    )]
    Fmt {
        /// Files or directories (default: the current directory).
        files: Vec<PathBuf>,
        /// Write nothing; exit 1 and list the files that would change.
        #[arg(long)]
        check: bool,
        /// Skip files with syntax errors (named on stderr) instead of failing,
        /// for trees that keep deliberately broken inputs (test corpora).
        #[arg(long)]
        skip_unparsable: bool,
    },
    /// Print the resolved dependency and promotion graph.
    #[command(
        after_help = "Examples:\n  deployc graph examples/healthcp.dpl --format mermaid\n  deployc graph app.dpl | dot -Tsvg > graph.svg"
    )]
    Graph {
        /// The program's root file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// List every Secret each environment reads: keys, readers, who produces it and how to provide it.
    #[command(
        after_help = "Examples:\n  deployc secrets examples/austa-cockpit.dpl\n  deployc secrets envs.dpl --format json | jq '.[].secrets[].name'"
    )]
    Secrets {
        /// The program's root file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = SecretsFormat::Text)]
        format: SecretsFormat,
    },
    /// Write a first envs.dpl from what a repository holds.
    ///
    /// Every folder with a Dockerfile or a build manifest (package.json,
    /// pyproject.toml, requirements.txt, go.mod, pom.xml, build.gradle)
    /// becomes a service; a docker-compose.yml adds ports and environment.
    /// Never overwrites envs.dpl without --force.
    #[command(after_help = "Examples:\n  deployc init\n  deployc init path/to/repo --yes")]
    Init {
        /// The repository's folder (default: the current one).
        dir: Option<PathBuf>,
        /// Write without asking (for scripts).
        #[arg(long, short)]
        yes: bool,
        /// Overwrite an existing envs.dpl.
        #[arg(long)]
        force: bool,
    },
    /// Turn Kubernetes manifests or a Compose file into a program.
    ///
    /// INPUTS are folders of YAML manifests, manifest files, `-` (standard
    /// input: `helm template` or `kustomize build` output) or one
    /// docker-compose.yml. What the language cannot carry is kept as a
    /// `// not imported: ...` comment.
    #[command(
        after_help = "Examples:\n  deployc import k8s/ -o envs.dpl\n  helm template shop ./chart | deployc import - -o envs.dpl\n  deployc import docker-compose.yml --project shop"
    )]
    Import {
        /// Folders, files or `-`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Write the program here (default: standard output).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The project's name (default: the current folder's).
        #[arg(long)]
        project: Option<String>,
        /// Overwrite the -o file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print the long explanation of a diagnostic code.
    #[command(after_help = "Examples:\n  deployc explain E0401\n  deployc explain all")]
    Explain {
        /// A code such as E0401, or `all` to list every code.
        code: String,
    },
    /// Run the language server on stdin and stdout (for editors).
    #[command(after_help = "Examples:\n  deployc lsp    (started by the editor; see README \"Editor setup\")")]
    Lsp {
        /// Accepted for clients that pass it (vscode-languageclient); stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print the JSON Schema of the resolved model, for tools that read it.
    #[command(after_help = "Examples:\n  deployc schema > deployc-model.schema.json")]
    Schema,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  deployc completions bash > ~/.local/share/bash-completion/completions/deployc\n  deployc completions zsh > \"${fpath[1]}/_deployc\"\n  deployc completions fish > ~/.config/fish/completions/deployc.fish"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (`include/mimalloc.h`);
/// the test below fails if the index ever names another option.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// See [`MemoryUse::Tree`].
const PURGE_DELAY_MS: std::ffi::c_long = 100;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// How a command uses memory, which decides how the allocator is tuned.
#[derive(Clone, Copy, Debug, PartialEq)]
enum MemoryUse {
    /// Renders and writes an output tree (`build`, `diff`), where the peak
    /// is: memory freed is returned once it has lain unused for 100 ms
    /// (mimalloc's default is 1 s), and transparent huge pages are off.
    ///
    /// A build frees and allocates hundreds of megabytes within a second; a
    /// page returned at once comes back zeroed by a page fault, while a page
    /// never returned holds the peak of every phase at once. At 1,000 x 4
    /// (all targets, on tmpfs) a fresh build peaked at 87 MB with 100 ms,
    /// 115 MB with freed memory kept and 73-82 MB returning at once, in the
    /// same time as keeping it (646 ms against 669 ms, `hyperfine`) where
    /// returning at once took 0.87-0.95 s. With huge pages each fault of
    /// mimalloc's arenas zeroes 2 MB and a page is resident as soon as one
    /// byte of it is used: 120 MB instead of 88 MB, in the same time. A
    /// build that compiled as `Compute` and turned to `Tree` only to render
    /// peaked at 96-105 MB.
    Tree,
    /// Compiles and prints (`check`, `build --stdout`, `graph`): short-lived,
    /// so freed memory is kept for reuse and huge pages stay on. 2 MB
    /// faults instead of 4 KB ones took `check` of the 1,000-service peer
    /// program from 59 to 33 ms and `build --stdout` from 125 to 85 ms;
    /// keeping freed memory (not refaulting it) took `check` of the
    /// 5,000-service one from 186 to 165 ms (medians of 12).
    Compute,
    /// The language server lives long and idles: mimalloc's defaults.
    Server,
}

impl MemoryUse {
    fn tune(self) {
        let delay = match self {
            MemoryUse::Tree => PURGE_DELAY_MS,
            MemoryUse::Compute => -1,
            MemoryUse::Server => return,
        };
        // SAFETY: sets one of mimalloc's options, which it reads on every purge.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, delay) }
        if self == MemoryUse::Tree {
            no_huge_pages();
        }
        if self == MemoryUse::Compute {
            deployc::set_exits_after_compiling();
        }
    }
}

/// Turns transparent huge pages off for the rest of the process, as
/// mimalloc's `allow_thp = 0` does at start.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: sets a flag of this process's memory map, read at each page fault.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Whether `build` prints one stream (`--stdout` or `-o -`) instead of
/// writing or checking a tree.
fn streams(out: Option<&std::path::Path>, stdout: bool, check: bool) -> bool {
    (stdout || out == Some(std::path::Path::new("-"))) && !check
}

fn main() -> ExitCode {
    // Output piped into `head` or `less` that closes early ends the process
    // quietly, as for any Unix tool, instead of a panic on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // clap prints help and usage errors before `--color` is known; look for
    // the flag first so those honour it too.
    let early = cli::early_color(std::env::args_os());
    let cmd = Cli::command().color(early.clap());
    let cli = match cmd.try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let color = cli.color;
    let memory = match &cli.command {
        Command::Lsp { .. } => MemoryUse::Server,
        Command::Build { out, stdout, check, .. } if streams(out.as_deref(), *stdout, *check) => MemoryUse::Compute,
        Command::Build { .. } | Command::Diff { .. } => MemoryUse::Tree,
        _ => MemoryUse::Compute,
    };
    memory.tune();
    match cli.command {
        Command::Check { file, format, deny } => cli::check(&file, format, deny.is_some(), color),
        Command::Build { file, out, check, diff, stdout, envs, targets, deny } => {
            if streams(out.as_deref(), stdout, check) {
                cli::stream(&file, &targets, &envs, deny.is_some(), color)
            } else if !envs.is_empty() {
                eprintln!("error: --env selects environments of a stream; use it with --stdout (or -o -)");
                ExitCode::from(2)
            } else {
                cli::build(&file, out, check, diff, &targets, deny.is_some(), color)
            }
        }
        Command::Diff { file, out, format, targets } => cli::diff::run(&file, out, format, &targets, color),
        Command::Fmt { files, check, skip_unparsable } => cli::fmt::run(&files, check, skip_unparsable, color),
        Command::Graph { file, format } => cli::graph(&file, format, color),
        Command::Explain { code } => cli::explain(&code),
        Command::Init { dir, yes, force } => cli::onboard::init(dir, yes, force),
        Command::Import { inputs, out, project, force } => cli::onboard::import(&inputs, out, project, force),
        Command::Secrets { file, format } => cli::secrets::run(&file, format == SecretsFormat::Json, color),
        Command::Lsp { stdio: _ } => lsp_stdio::run(),
        Command::Schema => {
            let schema = schemars::schema_for!(deployc::model::Model);
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    cli::print_out(&(text + "\n"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "deployc", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn no_huge_pages_sets_the_process_flag() {
        super::no_huge_pages();
        // SAFETY: reads a flag of this process.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) }, 1);
    }

    #[test]
    fn the_purge_delay_option_is_the_one_we_set() {
        // mimalloc 3.3's default purge delay is 1000 (ms, `src/options.c`;
        // the header's comment still says 10); an index naming another
        // option would read another value.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an option.
            assert_eq!(unsafe { super::mi_option_get(super::MI_OPTION_PURGE_DELAY) }, 1000);
        }
    }
}
