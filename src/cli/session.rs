//! What the commands that drive a run share on the command line: the connection flags,
//! the confirmation, the `--events-json` stream, and printing how a run ended. The run
//! itself (lock, start, resume, undo, driving) is the library's [`crate::run`].

use std::path::Path;

use super::error::{CommandError, exit};
use crate::history::{RunEvent, paused_where};
use crate::journal::{Event, Journal, Run};
use crate::run::{Cluster, ConnectOptions, Ending, Job, Mode};

/// Options shared by `run` and `resume`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectArgs {
    /// Take over the cluster lock of a run whose process is gone
    #[arg(long)]
    pub break_lock: bool,
    /// Accept unknown SSH host keys (adds them to known_hosts); changed keys are still refused
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Stream every journaled event as one JSON line on stdout (`ringmaster.event/1`,
    /// see docs/journal-schema.md); reports go to stderr
    #[arg(long)]
    pub events_json: bool,
}

/// Where a forward run pauses on its own (`run` and `resume`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PauseArgs {
    /// Canary: pause cleanly after N nodes (with --batch, N batches) of the current pass
    /// have completed, or at the pass's end if that comes first; `resume` continues
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub stop_after: Option<u32>,
    /// Pause at the end of every pass but the last (the `optional` pass soaks until
    /// `resume`); given to `run`, every later resume of the run pauses there too
    #[arg(long)]
    pub pause_after_pass: bool,
}

impl PauseArgs {
    /// Returns where the run pauses.
    pub fn pauses(&self) -> crate::run::Pauses {
        crate::run::Pauses { stop_after: self.stop_after, after_pass: self.pause_after_pass }
    }
}

impl ConnectArgs {
    /// Returns how nodes are connected.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions { accept_new_host_keys: self.accept_new_host_keys }
    }
}

/// Prints one event as a `ringmaster.event/1` line on stdout, flushed at once; a broken
/// stream is recorded, not fatal (see [`crate::ui::out::EventStream`]).
fn emit_event(e: &Event) {
    crate::ui::out::stdout_events().emit(&crate::export::jsonl::event_line(e));
}

/// Loads what every command that acts on a cluster needs (see [`Job::load`]).
pub fn load_job(inventory: &Path, workflow: Option<&Path>) -> Result<Job, CommandError> {
    Ok(Job::load(inventory, workflow)?)
}

/// Asks "Proceed? [y/N]" on a terminal; `yes` skips the question. Returns whether to go on.
pub fn confirm(yes: bool, what: &str) -> Result<bool, CommandError> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::usage(format!("standard input is not a terminal, so the {what} cannot be confirmed"))
            .hinted("pass `--yes` to go ahead without confirmation"));
    }
    eprint!("Proceed? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let go = matches!(answer.trim(), "y" | "Y" | "yes");
    if !go {
        eprintln!("nothing was done");
    }
    Ok(go)
}

/// Prints the preflight findings that are not `ok` (to stderr), before a run starts.
pub fn print_findings(report: &crate::preflight::Report, job: &Job) {
    if !report.findings.iter().all(|f| f.severity == crate::preflight::Severity::Ok) {
        crate::ui::out::eprint(&job.secrets.redact(&report.render(false)));
    }
}

/// Drives `run` (holding its lock) to its end and prints how it ended; returns the exit code.
pub fn drive(
    journal: &Journal,
    run: Run,
    job: &Job,
    cluster: &mut Cluster<'_>,
    args: &ConnectArgs,
    mode: Mode,
) -> Result<i32, CommandError> {
    let run_id = run.id.clone();
    if args.events_json {
        // The stream starts at this process's `started` / `resumed` / `undo_started`;
        // earlier history is in `ringmaster export --format jsonl`.
        let events = journal.events(&run_id)?;
        let opens =
            |e: &Event| matches!(RunEvent::of(e), Some(RunEvent::Started { .. } | RunEvent::Resumed { .. } | RunEvent::UndoStarted { .. }));
        let from = events.iter().rposition(opens).unwrap_or(events.len());
        events[from..].iter().for_each(emit_event);
    }
    let hook: &dyn Fn(&Event) = &emit_event;
    let ended = crate::run::drive(journal, run, job, cluster, mode, args.events_json.then_some(hook));
    let stream_broke = || crate::ui::out::stdout_events().broken();
    let ending = match ended {
        Ok(e) => e,
        Err(e) => {
            if let Some(why) = stream_broke() {
                eprintln!("error: {why}");
            }
            return Err(e.into());
        }
    };
    // With `--events-json` stdout carries only events; the final report goes to stderr.
    let say = |text: String| {
        if args.events_json || crate::outln!("{text}").is_err() {
            eprintln!("{text}")
        }
    };
    let rm = crate::run::command_prefix(journal);
    let code = match ending {
        Ending::Undone => {
            say(format!("run {run_id} rolled back: every node it touched has its original cassandra.yaml again and is UN"));
            exit::OK
        }
        Ending::Finished => {
            let passes = job.workflow.passes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
            say(format!("run {run_id} finished: every node completed every pass ({passes})"));
            say(format!("see it with `{rm} status {run_id}`"));
            exit::OK
        }
        Ending::Paused { pass, reason, completed, next } => {
            say(format!("run {run_id} paused {}; the cluster lock is released", paused_where(&pass, reason, completed)));
            if let Some(next) = next {
                say(format!("{}: `{rm} resume {run_id}`", next.describe()));
            } else {
                say(format!("continue with `{rm} resume {run_id}`"));
            }
            exit::OK
        }
        Ending::Interrupted { signal } => {
            eprintln!("error: run {run_id} stopped by {signal} at a safe point");
            eprintln!("Hint: `{rm} resume {run_id}` continues from where it stopped");
            exit::INTERRUPTED
        }
        Ending::Failed(report) => {
            crate::ui::out::eprint_line(&report.text);
            exit::FAILED
        }
    };
    if let Some(why) = stream_broke() {
        eprintln!("error: {why}\nHint: the journal has every event: `{rm} export {run_id} --format jsonl`");
        return Ok(if code == exit::OK { exit::FAILED } else { code });
    }
    Ok(code)
}
