//! `ringmaster rollback [RUN]`: put every node a run touched back to its backup.

use std::path::PathBuf;

use super::error::{CommandError, exit};
use super::resume::{Pick, find_run};
use super::session::{self, ConnectArgs};
use crate::history::{RunState, run_state};
use crate::journal::Journal;
use crate::run::record::Recorder;
use crate::run::{Cluster, Job, Mode, lock, undo};

/// Undo a run: every node it touched gets its original cassandra.yaml back, newest first,
/// one node at a time (restore, restart, wait UN, verify).
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The run id (or a unique prefix); default: the newest run
    pub run: Option<String>,
    /// Do not ask for confirmation (for scripts)
    #[arg(long)]
    pub yes: bool,
    /// Restore a backup even if it is not byte-identical to the one journaled (journaled)
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn cmd_rollback(journal: Option<PathBuf>, args: &RollbackArgs) -> Result<i32, CommandError> {
    let path = super::journal_path(journal);
    if !path.exists() {
        return Err(CommandError::usage(format!("no journal at `{}`: there is no run to roll back", path.display())));
    }
    let journal = Journal::open(&path)?;
    let run = find_run(&journal, args.run.as_deref(), Pick::NewestChange)?;
    let events = journal.events(&run.id)?;
    if run_state(&events) == RunState::Undone {
        crate::outln!("run {} was already rolled back; nothing to do", run.id)?;
        return Ok(exit::OK);
    }
    let job = Job::of_run(&run)?;
    // The lock first: while another process drives this cluster, even "nothing to do" is
    // not known, and a command that needs the lock and cannot take it exits 5.
    lock::take(&journal, &run, &job.inventory, &job.secrets, args.connect.break_lock)?;
    let release = |code| -> Result<i32, CommandError> {
        lock::release(&journal, &run, &job.inventory)?;
        Ok(code)
    };
    let plan = undo::plan(&events, &job);
    if plan.stages.is_empty() {
        crate::outln!("run {} changed no node; nothing to roll back", run.id)?;
        return release(exit::OK);
    }
    let verb = if plan.continuing { "continue undoing" } else { "undo" };
    eprintln!("ringmaster will {verb} run {} pass by pass, one node at a time (restore, restart, wait UN, verify):", run.id);
    for (stage, done) in plan.stages.iter().zip(&plan.done) {
        let what = if stage.pass_index == 0 {
            "restore the original cassandra.yaml from its backup".to_string()
        } else {
            format!("put the `{}` pass values back", job.workflow.passes[stage.pass_index - 1].name)
        };
        let already = if done.is_empty() { String::new() } else { format!(" (already done: {})", done.join(", ")) };
        crate::ui::out::eprint_line(&format!("  {}: {what} on {}{already}", stage.name, stage.nodes.join(" -> ")));
    }
    if !session::confirm(args.yes, "rollback")? {
        return release(exit::OK);
    }
    undo::begin(&Recorder::new(&journal, &run.id, &job.secrets), &events, &job, &plan, args.force)?;
    let mut cluster = Cluster::new(&job.inventory, args.connect.options())?;
    session::drive(&journal, run, &job, &mut cluster, &args.connect, Mode::Undo { force: args.force })
}
