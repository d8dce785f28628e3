//! `ringmaster resume [RUN]`: continue a run exactly where it stopped.

use std::path::PathBuf;

use super::session::{self, ConnectArgs};
use crate::error::{CommandError, exit};
use crate::history::{RunEvent, RunState, journaled_undo_stages, replay, replay_undo, run_state, touched_a_node, undo_started};
use crate::inventory::Inventory;
use crate::journal::{Event, Journal, Run};
use crate::secrets::Secrets;
use crate::workflow::Workflow;
use crate::workflow::node::stopped_short;

/// Continue an interrupted or failed run from its journal.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The run id (or a unique prefix); default: the newest run
    pub run: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Which run a command takes when none is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The newest run that was not refused (`status`, `export`).
    NewestRun,
    /// The newest run that changed a node (`rollback`, `resume`): a refusal or a run that
    /// never touched a node is not what an operator means by "undo the last run".
    NewestChange,
}

/// Returns the run named by `id`, or the one `pick` chooses; says which when it chose.
pub fn find_run(journal: &Journal, id: Option<&str>, pick: Pick) -> Result<Run, CommandError> {
    let run = match id {
        Some(id) => journal.run(id)?,
        None => {
            let mut chosen = None;
            let mut fallback = None;
            for run in journal.runs()? {
                let events = journal.events(&run.id)?;
                if run_state(&events) == RunState::Refused {
                    continue;
                }
                if pick == Pick::NewestRun || touched_a_node(&events) {
                    chosen = Some(run);
                    break;
                }
                fallback.get_or_insert(run);
            }
            // `resume` of a run stopped before its first change still continues it.
            let why = if chosen.is_some() { "the newest run that changed a node" } else { "the newest run that was not refused" };
            let run = chosen.or(fallback);
            if let (Some(r), Pick::NewestChange) = (&run, pick) {
                eprintln!("taking run {} (started {}), {why}", r.id, session::format_ms(r.started_at));
            }
            run
        }
    };
    run.ok_or_else(|| {
        let what =
            id.map(|i| format!("no run `{i}` in the journal")).unwrap_or_else(|| "no run (other than refusals) in the journal".into());
        CommandError::usage(format!("{what} `{}`", journal.path().map(|p| p.display().to_string()).unwrap_or_default()))
            .hinted("start one with `ringmaster run -i cluster.toml`, or name the journal with `--journal PATH`")
    })
}

/// Journals a `retry` for every node of the run that stopped in `rolled_back` or `failed`
/// (in an undo, only `failed`: `rolled_back` is an undo's goal), so that replay starts its
/// pass afresh. Every phase is safe to repeat, and the backup made earlier is kept.
pub fn journal_retries(
    journal: &Journal,
    run: &Run,
    events: &[Event],
    inventory: &Inventory,
    workflow: &Workflow,
) -> Result<(), CommandError> {
    let mut stuck = Vec::new();
    if undo_started(events) {
        for stage in journaled_undo_stages(events).unwrap_or_default() {
            for node in stage.nodes {
                let m = replay_undo(events, &node, &stage.name);
                if stopped_short(m.state(), true) {
                    stuck.push((node, stage.name.clone(), m.state().to_owned()));
                }
            }
        }
    } else {
        for pass in &workflow.passes {
            for node in &inventory.nodes {
                let m = replay(events, &node.name, &pass.name, workflow.drain_before_restart);
                if stopped_short(m.state(), false) {
                    stuck.push((node.name.clone(), pass.name.clone(), m.state().to_owned()));
                }
            }
        }
    }
    for (node, pass, was) in stuck {
        let retry = RunEvent::Retry { was: crate::workflow::node::phase_name(&was).to_string() };
        journal.append(&run.id, &retry.to_new_event(Some(&node), Some(&pass)))?;
    }
    Ok(())
}

/// Journals that the previous process of a run ended without a word, if it did.
pub fn journal_silent_end(journal: &Journal, run: &Run, events: &[Event]) -> Result<(), CommandError> {
    if matches!(run_state(events), RunState::Running | RunState::Undoing) {
        session::append_run_event(
            journal,
            &run.id,
            &RunEvent::Interrupted {
                signal: None,
                node: None,
                pass: None,
                next_phase: None,
                detected: Some("at resume: the previous process ended without a word (killed, crashed or lost its terminal)".into()),
                last_seq: events.last().map(|e| e.seq),
            },
        )?;
    }
    Ok(())
}

pub fn cmd_resume(journal: Option<PathBuf>, args: &ResumeArgs) -> Result<i32, CommandError> {
    let path = super::journal_path(journal);
    if !path.exists() {
        return Err(CommandError::usage(format!("no journal at `{}`: there is no run to resume", path.display()))
            .hinted("start one with `ringmaster run -i cluster.toml`, or name the journal with `--journal PATH`"));
    }
    let journal = Journal::open(&path)?;
    let run = find_run(&journal, args.run.as_deref(), Pick::NewestChange)?;
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
    if state == RunState::Refused {
        // A refused run never acted; resuming it would skip the checks that refused it.
        return Err(CommandError::usage(format!("run {} was refused before it touched any node; there is nothing to resume", run.id))
            .hinted(format!("fix what refused it, then start a new run: `ringmaster run -i {}`", run.inventory_path)));
    }
    let inventory = Inventory::from_snapshot(&run.inventory)?;
    let workflow = Workflow::parse(&format!("<workflow of run {}>", run.id), &run.workflow)?;
    let secrets = Secrets::load(inventory.secrets.as_deref())?;
    session::lock(&journal, &run, &inventory, args.connect.break_lock)?;
    if !touched_a_node(&events) {
        // Nothing was changed yet: the cluster may have moved on since the run started, so
        // the same checks as `run` decide, under the lock, before anything is touched.
        super::run::preflight_gate(
            &journal,
            &run,
            std::path::Path::new(&run.inventory_path),
            &inventory,
            &workflow,
            &secrets,
            &args.connect,
        )?;
    }
    journal_silent_end(&journal, &run, &events)?;
    if state == RunState::Failed {
        journal_retries(&journal, &run, &events, &inventory, &workflow)?;
    }
    session::append_run_event(
        &journal,
        &run.id,
        &RunEvent::Resumed {
            pid: std::process::id(),
            host: session::hostname(),
            user: session::username(),
            previous_state: state.name().to_string(),
            by: None,
        },
    )?;
    crate::ui::out::eprint_line(&format!("resuming run {} of cluster `{}`", run.id, inventory.cluster));
    let mode = if undo_started(&events) { session::Mode::Undo { force: false } } else { session::Mode::Forward };
    session::drive(&journal, run, &inventory, &workflow, &secrets, &args.connect, mode)
}
