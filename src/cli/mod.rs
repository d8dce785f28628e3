//! (in progress) Command-line entry. Minimal wiring of `ringmaster sandbox` for testing;
//! the integrator owns this file and replaces it.

pub mod sandbox;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "ringmaster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create and drive a simulated Cassandra cluster.
    Sandbox(sandbox::SandboxArgs),
}

/// Runs the command line and returns the process exit code.
pub fn run() -> i32 {
    match Cli::parse().command {
        Command::Sandbox(args) => sandbox::cmd_sandbox(&args).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            1
        }),
    }
}
