//! `ringmaster rollback [RUN]`: put every node a run touched back to its backup.

use std::path::PathBuf;

use super::resume::{Pick, find_run};
use super::session::{self, ConnectArgs, Mode};
use crate::error::{CommandError, exit};
use crate::history::{RunEvent, RunState, journaled_undo_stages, replay_undo, run_state, undo_plan};
use crate::inventory::Inventory;
use crate::journal::Journal;
use crate::secrets::Secrets;
use crate::workflow::Workflow;
use crate::workflow::node::reached_goal;

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
    let state = run_state(&events);
    if state == RunState::Undone {
        crate::outln!("run {} was already rolled back; nothing to do", run.id)?;
        return Ok(exit::OK);
    }
    let inventory = Inventory::from_snapshot(&run.inventory)?;
    let workflow = Workflow::parse(&format!("<workflow of run {}>", run.id), &run.workflow)?;
    let secrets = Secrets::load(inventory.secrets.as_deref())?;
    // The lock first: while another process drives this cluster, even "nothing to do" is
    // not known, and a command that needs the lock and cannot take it exits 5.
    session::lock(&journal, &run, &inventory, args.connect.break_lock)?;
    let release = |code| -> Result<i32, CommandError> {
        journal.release_lock(&inventory.cluster, &run.id)?;
        Ok(code)
    };
    // A rollback that was interrupted (killed, stopped, or a node's undo failed) continues
    // with the stages it journaled when it started; nodes already restored are done.
    let continuing = journaled_undo_stages(&events);
    let stages = continuing.clone().unwrap_or_else(|| undo_plan(&events, &workflow));
    if stages.is_empty() {
        crate::outln!("run {} changed no node; nothing to roll back", run.id)?;
        return release(exit::OK);
    }
    let verb = if continuing.is_some() { "continue undoing" } else { "undo" };
    eprintln!("ringmaster will {verb} run {} pass by pass, one node at a time (restore, restart, wait UN, verify):", run.id);
    for stage in &stages {
        let what = if stage.pass_index == 0 {
            "restore the original cassandra.yaml from its backup".to_string()
        } else {
            format!("put the `{}` pass values back", workflow.passes[stage.pass_index - 1].name)
        };
        let done: Vec<&str> =
            stage.nodes.iter().filter(|n| reached_goal(replay_undo(&events, n, &stage.name).state(), true)).map(String::as_str).collect();
        let already = if done.is_empty() { String::new() } else { format!(" (already done: {})", done.join(", ")) };
        crate::ui::out::eprint_line(&format!("  {}: {what} on {}{already}", stage.name, stage.nodes.join(" -> ")));
    }
    if !session::confirm(args.yes, "rollback")? {
        return release(exit::OK);
    }
    if continuing.is_some() {
        super::resume::journal_silent_end(&journal, &run, &events)?;
        super::resume::journal_retries(&journal, &run, &events, &inventory, &workflow)?;
        session::append_run_event(
            &journal,
            &run.id,
            &RunEvent::Resumed {
                pid: std::process::id(),
                host: session::hostname(),
                user: session::username(),
                previous_state: state.name().to_string(),
                by: Some("rollback".into()),
            },
        )?;
    } else {
        session::append_run_event(
            &journal,
            &run.id,
            &RunEvent::UndoStarted {
                stages: stages.clone(),
                force: args.force,
                previous_state: state.name().to_string(),
                user: session::username(),
                host: session::hostname(),
            },
        )?;
    }
    session::drive(&journal, run, &inventory, &workflow, &secrets, &args.connect, Mode::Undo { force: args.force })
}
