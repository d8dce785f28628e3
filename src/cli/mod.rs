//! The command line: one file per subcommand, this file holds only the enum and the match.

mod batch;
mod completions;
mod demo;
pub mod error;
mod export;
mod inspect;
mod inventory;
mod plan;
mod preflight;
mod render;
mod resume;
mod rollback;
mod run;
mod runs;
pub mod sandbox;
mod session;
mod status;
mod workflows;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cli::error::{CommandError, ErrorKind, exit};

/// Turn on Cassandra internode TLS across a live cluster, one node at a time, in two
/// rolling passes, journaled so that no run ever loses its place.
#[derive(Debug, Parser)]
#[command(name = "ringmaster", version, propagate_version = true)]
pub struct Cli {
    /// The SQLite journal [default: $RINGMASTER_JOURNAL, else $XDG_STATE_HOME/ringmaster/journal.db]
    #[arg(long, global = true, value_name = "PATH")]
    journal: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Demo(demo::DemoArgs),
    Run(run::RunArgs),
    Preflight(preflight::PreflightArgs),
    Plan(plan::PlanArgs),
    Resume(resume::ResumeArgs),
    Rollback(rollback::RollbackArgs),
    Status(status::StatusArgs),
    Render(render::RenderArgs),
    #[command(subcommand)]
    Inspect(inspect::InspectCommand),
    Sandbox(sandbox::SandboxArgs),
    Export(export::ExportArgs),
    Runs(runs::RunsArgs),
    Workflows(workflows::WorkflowsArgs),
    #[command(subcommand)]
    Inventory(inventory::InventoryCommand),
    Completions(completions::CompletionsArgs),
    Man(completions::ManArgs),
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::USAGE } else { exit::OK };
        }
    };
    init_tracing();
    // A report read through `| head` ends quietly when the pipe closes, like any Unix
    // tool. Commands that change a cluster keep Rust's default (SIGPIPE ignored, the write
    // fails and is reported): a closed `--events-json` consumer must not kill a run
    // between an intent and its outcome.
    if !matches!(cli.command, Command::Demo(_) | Command::Run(_) | Command::Resume(_) | Command::Rollback(_) | Command::Sandbox(_)) {
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let journal = cli.journal.clone();
    let result = match cli.command {
        Command::Demo(args) => demo::cmd_demo(journal, &args),
        Command::Run(args) => run::cmd_run(journal, &args),
        Command::Preflight(args) => preflight::cmd_preflight(&args),
        Command::Plan(args) => plan::cmd_plan(&args),
        Command::Resume(args) => resume::cmd_resume(journal, &args),
        Command::Rollback(args) => rollback::cmd_rollback(journal, &args),
        Command::Status(args) => status::cmd_status(journal, &args),
        Command::Render(args) => render::cmd_render(&args),
        Command::Inspect(cmd) => inspect::cmd_inspect(&cmd),
        Command::Sandbox(args) => sandbox::cmd_sandbox(&args).map_err(|e| match e {
            crate::sandbox::SandboxError::InvalidOption { .. } => CommandError::from_source(ErrorKind::Usage, e),
            e => CommandError::from_source(ErrorKind::Failed, e),
        }),
        Command::Export(args) => export::cmd_export(journal, &args),
        Command::Runs(args) => runs::cmd_runs(journal, &args),
        Command::Workflows(args) => workflows::cmd_workflows(&args),
        Command::Inventory(cmd) => inventory::cmd_inventory(&cmd),
        Command::Completions(args) => completions::cmd_completions(&args),
        Command::Man(args) => completions::cmd_man(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::ui::out::eprint_line(&e.to_string());
            e.kind.exit_code()
        }
    }
}

/// Developer logs through tracing, filtered by `RINGMASTER_LOG`, quiet by default.
fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("RINGMASTER_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Returns the journal path: the flag, else the default.
fn journal_path(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(crate::journal::default_path)
}
