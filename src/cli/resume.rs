//! `ringmaster resume [RUN]`: continue a run exactly where it stopped.

use std::path::PathBuf;

use serde_json::json;

use super::session::{self, ConnectArgs};
use crate::driver::{RUN_PHASE, RunState, journaled_undo_stages, replay, replay_undo, run_state, undo_started};
use crate::error::{CommandError, exit};
use crate::inventory::Inventory;
use crate::journal::{EventKind, Journal, NewEvent, Run};
use crate::secrets::Secrets;
use crate::workflow::Workflow;
use crate::workflow::node::State;

/// Continue an interrupted or failed run from its journal.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The run id (or a unique prefix); default: the newest run
    pub run: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Returns the run named by `id`, or the newest one.
pub fn find_run(journal: &Journal, id: Option<&str>) -> Result<Run, CommandError> {
    let run = match id {
        Some(id) => journal.run(id)?,
        None => journal.latest_run(None)?,
    };
    run.ok_or_else(|| {
        let what = id.map(|i| format!("no run `{i}` in the journal")).unwrap_or_else(|| "no run in the journal".into());
        CommandError::usage(format!("{what} `{}`", journal.path().map(|p| p.display().to_string()).unwrap_or_default()))
            .hinted("start one with `ringmaster run -i cluster.toml`, or name the journal with `--journal PATH`")
    })
}

pub fn cmd_resume(journal: Option<PathBuf>, args: &ResumeArgs) -> Result<i32, CommandError> {
    let path = super::journal_path(journal);
    if !path.exists() {
        return Err(CommandError::usage(format!("no journal at `{}`: there is no run to resume", path.display()))
            .hinted("start one with `ringmaster run -i cluster.toml`, or name the journal with `--journal PATH`"));
    }
    let journal = Journal::open(&path)?;
    let run = find_run(&journal, args.run.as_deref())?;
    let events = journal.events(&run.id)?;
    let state = run_state(&events);
    if state == RunState::Finished {
        crate::outln!("run {} already finished; nothing to resume", run.id)?;
        return Ok(exit::OK);
    }
    if state == RunState::Undone {
        crate::outln!("run {} was rolled back; nothing to resume", run.id)?;
        return Ok(exit::OK);
    }
    let inventory = Inventory::from_snapshot(&run.inventory)?;
    let workflow = Workflow::parse(&format!("<workflow of run {}>", run.id), &run.workflow)?;
    let secrets = Secrets::load(inventory.secrets.as_deref())?;
    session::lock(&journal, &run, &inventory, args.connect.break_lock)?;
    let append = |node: Option<&str>, pass: Option<&str>, phase: &str, detail| {
        let ev = NewEvent {
            node: node.map(str::to_string),
            pass: pass.map(str::to_string),
            phase: phase.into(),
            kind: EventKind::Info,
            detail,
            reverts: None,
        };
        journal.append(&run.id, &ev)
    };
    match state {
        RunState::Running => {
            // The previous process ended without journaling why: it was killed or crashed.
            append(
                None,
                None,
                RUN_PHASE,
                json!({"event": "interrupted", "signal": null, "detected": "at resume: the previous process ended without a word (killed, crashed or lost its terminal)", "last_seq": events.last().map(|e| e.seq)}),
            )?;
        }
        RunState::Failed => {
            // A retry starts the failed node's pass again from the beginning; every phase
            // is safe to repeat and the backup made earlier is kept.
            let mut stuck = Vec::new();
            if undo_started(&events) {
                for stage in journaled_undo_stages(&events).unwrap_or_default() {
                    for node in stage.nodes {
                        let m = replay_undo(&events, &node, &stage.name);
                        if matches!(m.state(), State::Failed {}) {
                            stuck.push((node, stage.name.clone(), m.state().to_owned()));
                        }
                    }
                }
            } else {
                for pass in &workflow.passes {
                    for node in &inventory.nodes {
                        let m = replay(&events, &node.name, &pass.name, workflow.drain_before_restart);
                        if matches!(m.state(), State::RolledBack {} | State::Failed {}) {
                            stuck.push((node.name.clone(), pass.name.clone(), m.state().to_owned()));
                        }
                    }
                }
            }
            for (node, pass, was) in stuck {
                append(Some(&node), Some(&pass), "retry", json!({"event": "retry", "was": crate::workflow::node::phase_name(&was)}))?;
            }
        }
        RunState::Interrupted | RunState::Finished | RunState::Undoing | RunState::Undone => {}
    }
    append(
        None,
        None,
        RUN_PHASE,
        json!({"event": "resumed", "pid": std::process::id(), "host": session::hostname(), "user": session::username(), "previous_state": format!("{state:?}").to_lowercase()}),
    )?;
    crate::ui::out::eprint_line(&format!("resuming run {} of cluster `{}`", run.id, inventory.cluster));
    let mode = if undo_started(&events) { session::Mode::Undo { force: false } } else { session::Mode::Forward };
    session::drive(&journal, run, &inventory, &workflow, &secrets, &args.connect, mode)
}
