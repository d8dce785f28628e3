//! What `run` and `resume` share: connecting to the nodes, taking the cluster lock,
//! driving the run under signal handling, and reporting how it ended.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::driver::{Driver, Job, RunOutcome, StopFlag};
use crate::error::{CommandError, ErrorKind, exit};
use crate::history::{PreviousHolder, RunEvent};
use crate::inventory::{Inventory, TransportKind};
use crate::journal::{Journal, LockHolder, Run};
use crate::secrets::Secrets;
use crate::transport::Transport;
use crate::transport::local::Local;
use crate::ui::Ui;
use crate::workflow::Workflow;

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

/// Prints one event as a `ringmaster.event/1` line on stdout, flushed at once; a broken
/// stream is recorded, not fatal (see [`crate::ui::out::EventStream`]).
fn emit_event(e: &crate::journal::Event) {
    crate::ui::out::stdout_events().emit(&crate::export::jsonl::event_line(e));
}

/// Loads what every command that acts on a cluster needs: the inventory, the workflow
/// (the built-in one unless a file is given) and the secrets the inventory names.
pub fn load_job(inventory: &Path, workflow: Option<&Path>) -> Result<(Inventory, Workflow, Secrets), CommandError> {
    let inventory = Inventory::load(inventory)?;
    let workflow = Workflow::load(workflow)?;
    let secrets = Secrets::load(inventory.secrets.as_deref())?;
    Ok((inventory, workflow, secrets))
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

/// Appends a run-level event (no node, no pass).
pub fn append_run_event(
    journal: &Journal,
    run: &crate::journal::RunId,
    event: &RunEvent,
) -> Result<crate::journal::Event, crate::journal::JournalError> {
    journal.append(run, &event.to_new_event(None, None))
}

pub use crate::host::{hostname, username};

pub use crate::clock::now_ms;

/// Formats unix milliseconds as an RFC 3339 UTC time.
pub fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// How many nodes are connected at once: an SSH master costs a handshake (about 160 ms on
/// loopback, more across a WAN), so 300 nodes one by one would take most of a minute,
/// while sshd's `MaxStartups` (10 unauthenticated connections by default) and the local
/// file descriptors argue against opening them all at once.
pub const CONNECT_PARALLELISM: usize = 16;

/// Opens a transport to every node, [`CONNECT_PARALLELISM`] at a time. On failure, the
/// error is the one of the first failing node in inventory order.
pub async fn connect(inventory: &Inventory, args: &ConnectArgs) -> Result<BTreeMap<String, Transport>, CommandError> {
    let mut results = connect_all(inventory, args).await;
    let mut transports = BTreeMap::new();
    for node in &inventory.nodes {
        let t = results.remove(&node.name).expect("BUG: connect_all answers for every node")?;
        transports.insert(node.name.clone(), t);
    }
    Ok(transports)
}

/// Tries to open a transport to every node, [`CONNECT_PARALLELISM`] at a time, and
/// returns each node's result (preflight reports every unreachable node, not the first).
pub async fn connect_all(inventory: &Inventory, args: &ConnectArgs) -> BTreeMap<String, Result<Transport, CommandError>> {
    use futures::StreamExt;
    futures::stream::iter(inventory.nodes.iter())
        .map(|node| async move { (node.name.clone(), connect_one(node, args).await) })
        .buffer_unordered(CONNECT_PARALLELISM)
        .collect()
        .await
}

/// Opens the transport to one node (and checks `sudo -n` when the node uses sudo).
pub async fn connect_one(node: &crate::inventory::Node, args: &ConnectArgs) -> Result<Transport, CommandError> {
    let t = match node.transport {
        TransportKind::Local => Transport::Local(Local::new(&node.name)),
        TransportKind::Ssh => {
            let target = crate::transport::ssh::SshTarget {
                host: node.name.clone(),
                destination: node.ssh.clone(),
                ssh_config: node.ssh_config.clone(),
                known_hosts: node.known_hosts.clone(),
                accept_new_host_keys: args.accept_new_host_keys,
                control_dir: None,
                sudo: node.sudo,
                max_concurrent: 8,
                connect_timeout: std::time::Duration::from_secs(15),
            };
            let ssh = crate::transport::ssh::Ssh::connect(&target).await.map_err(|e| {
                let hint = match &e {
                    crate::transport::TransportError::HostKeyChanged { .. } => {
                        "if the node was really reinstalled, remove the old key as the message says; otherwise do not connect".to_string()
                    }
                    crate::transport::TransportError::HostKeyUnknown { .. } => {
                        "check the key, then add it to known_hosts, or pass `--accept-new-host-keys`".to_string()
                    }
                    _ => format!("check `ssh {}` by hand, then run the command again", crate::transport::shell_quote(&node.ssh)),
                };
                CommandError::from(e).hinted(hint)
            })?;
            if node.sudo {
                // Before anything changes anywhere: `sudo -n` must work on every node.
                ssh.run("true", None, std::time::Duration::from_secs(30)).await.map_err(|e| {
                    CommandError::from_source(ErrorKind::Failed, crate::transport::SudoCheckFailed(e)).hinted(format!(
                        "give the SSH user of `{}` passwordless sudo (NOPASSWD) for ringmaster's commands, or set `sudo = false`",
                        node.name
                    ))
                })?;
            }
            Transport::Ssh(ssh)
        }
    };
    Ok(t)
}

fn holder_alive(h: &LockHolder) -> bool {
    h.is_alive()
}

/// Takes the cluster lock for `run`, or explains who holds it.
pub fn lock(journal: &Journal, run: &Run, inventory: &Inventory, break_lock: bool) -> Result<(), CommandError> {
    let me = LockHolder {
        run_id: run.id.clone(),
        fingerprint: inventory.fingerprint(),
        pid: std::process::id(),
        host: hostname(),
        user: username(),
        acquired_at: now_ms(),
        start_time: crate::host::process_start_time(std::process::id()),
    };
    if let Some(h) = journal.lock_holder(&inventory.cluster)? {
        let alive = holder_alive(&h);
        let ours_and_gone = h.run_id == run.id && !alive;
        let held = format!(
            "cluster `{}` is locked by run {} (pid {} on {}, user {}, since {})",
            inventory.cluster,
            h.run_id,
            h.pid,
            h.host,
            h.user,
            format_ms(h.acquired_at)
        );
        if alive && h.pid != me.pid {
            return Err(CommandError::new(ErrorKind::Locked, held)
                .hinted("wait for that run to finish, or stop it (Ctrl-C stops it at the next safe point)"));
        }
        if !ours_and_gone && !break_lock {
            return Err(CommandError::new(ErrorKind::Locked, format!("{held}, whose process is gone"))
                .hinted(format!("`ringmaster resume {}` continues that run", h.run_id))
                .hinted("or pass `--break-lock` to take the lock over (journaled)"));
        }
        let broken = journal.break_lock(&inventory.cluster)?;
        let previous_holder =
            broken.map(|b| PreviousHolder { run: b.run_id.to_string(), pid: b.pid, host: b.host, user: b.user, since: b.acquired_at });
        append_run_event(journal, &run.id, &RunEvent::LockTakenOver { previous_holder, explicit: break_lock })?;
    }
    journal.acquire_lock(&inventory.cluster, &me)?;
    Ok(())
}

/// Which way a run is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward through the workflow's passes.
    Forward,
    /// Back: restore every touched node's backup (`ringmaster rollback`).
    Undo { force: bool },
}

/// Drives `run` to its end under signal handling and reports the outcome.
pub fn drive(
    journal: &Journal,
    run: Run,
    inventory: &Inventory,
    workflow: &Workflow,
    secrets: &Secrets,
    args: &ConnectArgs,
    mode: Mode,
) -> Result<i32, CommandError> {
    let rt = super::runtime()?;
    let ui = Ui::new();
    let stop = Arc::new(StopFlag::default());
    let run_id = run.id.clone();
    if args.events_json {
        // The stream starts at this process's `started` / `resumed` / `undo_started`;
        // earlier history is in `ringmaster export --format jsonl`.
        let events = journal.events(&run_id)?;
        let from = events
            .iter()
            .rposition(|e| {
                e.node.is_none() && matches!(e.detail.get("event").and_then(|v| v.as_str()), Some("started" | "resumed" | "undo_started"))
            })
            .unwrap_or(events.len());
        events[from..].iter().for_each(emit_event);
    }
    // With `--events-json` stdout carries only events; the final report goes to stderr.
    let say = |text: String| {
        if args.events_json || crate::outln!("{text}").is_err() {
            eprintln!("{text}")
        }
    };
    let result = rt.block_on(async {
        install_signal_handlers(stop.clone());
        let transports = connect(inventory, args).await?;
        let mut driver =
            Driver::new(journal, run, Job { inventory, workflow, secrets }, transports, &ui, stop).map_err(CommandError::failed)?;
        if args.events_json {
            driver.on_event = Some(Box::new(emit_event));
        }
        match mode {
            Mode::Forward => driver.execute().await,
            Mode::Undo { force } => {
                driver.force_backup = force;
                driver.execute_undo().await
            }
        }
        .map_err(CommandError::failed)
    });
    ui.finish();
    // Every hint names the journal, so it works whatever the default journal is.
    let rm = match journal.path() {
        Some(p) => format!("ringmaster --journal {}", crate::transport::shell_quote(&p.display().to_string())),
        None => "ringmaster".to_string(),
    };
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let stopped = append_run_event(journal, &run_id, &RunEvent::Stopped { error: secrets.redact(&e.message) });
            if let (true, Ok(ev)) = (args.events_json, &stopped) {
                emit_event(ev);
            }
            let _ = journal.release_lock(&inventory.cluster, &run_id);
            if let Some(why) = crate::ui::out::stdout_events().broken() {
                eprintln!("error: {why}");
            }
            return Err(e.hinted(format!("`{rm} resume {run_id}` continues from where it stopped")));
        }
    };
    let end = |event: RunEvent| {
        let ev = append_run_event(journal, &run_id, &event)?;
        if args.events_json {
            emit_event(&ev);
        }
        Ok::<_, crate::journal::JournalError>(ev)
    };
    let code = match &outcome {
        RunOutcome::Done if matches!(mode, Mode::Undo { .. }) => {
            end(RunEvent::Undone)?;
            say(format!("run {run_id} rolled back: every node it touched has its original cassandra.yaml again and is UN"));
            exit::OK
        }
        RunOutcome::Done => {
            end(RunEvent::Finished)?;
            say(format!("run {run_id} finished: every node completed every pass ({})", pass_list(workflow)));
            say(format!("see it with `{rm} status {run_id}`"));
            exit::OK
        }
        RunOutcome::Interrupted { signal } => {
            eprintln!("error: run {run_id} stopped by {signal} at a safe point");
            eprintln!("Hint: `{rm} resume {run_id}` continues from where it stopped");
            exit::INTERRUPTED
        }
        RunOutcome::Failed { node, pass, state, evidence } => {
            end(RunEvent::Failed { node: node.clone(), pass: pass.clone(), state: state.clone() })?;
            report_failure(&rm, &run_id.to_string(), node, pass, state, evidence, secrets);
            exit::FAILED
        }
    };
    journal.release_lock(&inventory.cluster, &run_id)?;
    if let Some(why) = crate::ui::out::stdout_events().broken() {
        eprintln!("error: {why}\nHint: the journal has every event: `{rm} export {run_id} --format jsonl`");
        return Ok(if code == exit::OK { exit::FAILED } else { code });
    }
    Ok(code)
}

fn pass_list(workflow: &Workflow) -> String {
    workflow.passes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn report_failure(rm: &str, run: &str, node: &str, pass: &str, state: &str, evidence: &[serde_json::Value], secrets: &Secrets) {
    let untouched = evidence.iter().all(|e| matches!(e["phase"].as_str(), Some("stage_keys" | "backup" | "edit")));
    let what = if state == "rolled_back" {
        format!("node `{node}` failed in pass `{pass}` and was rolled back; no further node was touched")
    } else if untouched {
        format!("node `{node}` failed in pass `{pass}` before anything on it was changed; no further node was touched")
    } else {
        format!("node `{node}` failed in pass `{pass}` and could not be rolled back: it needs an operator")
    };
    let mut text = format!("error: {what}\n");
    for e in evidence {
        let phase = e["phase"].as_str().unwrap_or("?");
        let d = &e["detail"];
        if let Some(msg) = d.get("error").and_then(|m| m.as_str()) {
            text.push_str(&format!("  {phase}: {msg}\n"));
        }
        for ev in d.get("evidence").and_then(|v| v.as_array()).into_iter().flatten() {
            if let Some(line) = ev.get("line").and_then(|l| l.as_str()) {
                text.push_str(&format!("    | {line}\n"));
            }
            for c in ev.get("context").and_then(|v| v.as_array()).into_iter().flatten().take(6) {
                text.push_str(&format!("    | {}\n", c.as_str().unwrap_or("")));
            }
        }
        if let Some(views) = d.get("views").and_then(|v| v.as_object()) {
            for (from, seen) in views {
                text.push_str(&format!("    nodetool status on {from}: {}\n", seen.as_str().unwrap_or("")));
            }
        }
    }
    text.push_str(&format!("Hint: fix the cause on `{node}`, then `{rm} resume {run}` retries it\n"));
    text.push_str(&format!("Hint: `{rm} rollback {run}` undoes the whole run instead, node by node\n"));
    text.push_str(&format!("Hint: `{rm} status {run}` shows every node's phase"));
    crate::ui::out::eprint_line(&secrets.redact(&text));
}

fn install_signal_handlers(stop: Arc<StopFlag>) {
    use tokio::signal::unix::{SignalKind, signal};
    for (kind, name) in [(SignalKind::interrupt(), "SIGINT"), (SignalKind::terminate(), "SIGTERM"), (SignalKind::hangup(), "SIGHUP")] {
        let stop = stop.clone();
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move {
                if s.recv().await.is_some() {
                    stop.request(name);
                }
            });
        }
    }
}
