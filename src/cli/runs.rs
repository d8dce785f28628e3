//! `ringmaster runs [--json]`: every run in the journal, newest first.

use std::path::PathBuf;

use serde::Serialize;

use super::export::open_existing;
use crate::cli::error::{CommandError, exit};
use crate::history::run_state;
use crate::journal::format_unix_ms;

/// List the runs in the journal, newest first.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// One run as `runs --json` prints it.
#[derive(Debug, Serialize)]
struct RunRow {
    id: String,
    cluster: String,
    started_at: i64,
    started: String,
    operator: String,
    host: String,
    state: &'static str,
    events: usize,
}

pub fn cmd_runs(journal: Option<PathBuf>, args: &RunsArgs) -> Result<i32, CommandError> {
    let journal = open_existing(journal)?;
    let mut rows = Vec::new();
    for run in journal.runs()? {
        let events = journal.events(&run.id)?;
        rows.push(RunRow {
            id: run.id.0,
            cluster: run.cluster,
            started_at: run.started_at,
            started: format_unix_ms(run.started_at),
            operator: run.operator,
            host: run.host,
            state: run_state(&events).name(),
            events: events.len(),
        });
    }
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&rows).expect("BUG: runs serialize"))?;
        return Ok(exit::OK);
    }
    if rows.is_empty() {
        crate::outln!("no runs in the journal")?;
        return Ok(exit::OK);
    }
    crate::outln!("{:<38} {:<16} {:<26} {:<20} {:<12} EVENTS", "RUN", "CLUSTER", "STARTED", "OPERATOR", "STATE")?;
    for r in &rows {
        crate::outln!(
            "{:<38} {:<16} {:<26} {:<20} {:<12} {}",
            r.id,
            r.cluster,
            r.started,
            format!("{}@{}", r.operator, r.host),
            r.state,
            r.events
        )?;
    }
    Ok(exit::OK)
}
