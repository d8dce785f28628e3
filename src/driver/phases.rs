//! What each phase does on a node, and why each one is safe to run again.
//!
//! | phase | action | safe to repeat because |
//! |---|---|---|
//! | backup | copy cassandra.yaml to `<config><suffix>`, never overwriting | an existing backup is accepted only when its hash is the one journaled (or, for an interrupted first attempt, the current file's) |
//! | edit | render the pass, edit `server_encryption_options`, write atomically | the editor is idempotent: a file that already matches is left alone |
//! | drain | `nodetool drain` | draining a drained node is a no-op |
//! | restart | the restart command | a repeat first looks for a boot in system.log after the journaled offset |
//! | await_un | poll `nodetool status` on every node until the node is UN everywhere | a read |
//! | verify_log | scan system.log from the first boot after the restart's offset | a read |
//! | rollback | put back the backup (first pass) or the previous pass's values | writes known bytes atomically |
//! | rollback_restart | `nodetool drain` first (best effort, with `drain_before_restart`), then the restart command | as restart; a repeated drain is a no-op |

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value as Json, json};

use super::step::Step;
use super::{Driver, DriverError, PhaseResult, health};
use crate::cassandra::log::{from_first_boot, scan};
use crate::cassandra::yaml::{self, EditOptions};
use crate::history::detail::{
    AlreadyBooted, AwaitUnFailure, AwaitUnOk, BackupIntent, BackupMismatch, BackupOk, CommandIntent, CommandOutcome, ConfigIntent, Detail,
    EditOk, Evidence, Failure, RestartIntent, RestoreOk, VerifyLog, journaled_backup_sha, restart_offset,
};
use crate::inventory::Node;
use crate::transport::{Transport, TransportError, sha256_hex};
use crate::workflow::Pass;
use crate::workflow::node::State;

/// Which node, pass and position a step is for.
pub(crate) struct StepCtx<'a> {
    pub node: &'a Node,
    pub pass: &'a Pass,
    pub pass_index: usize,
    pub position: usize,
    /// Index of the node's batch in the pass (its position when one node runs at a time).
    pub batch: usize,
}

fn fail_transport(e: &TransportError) -> PhaseResult {
    PhaseResult::Fail(Failure::new(e.to_string()).to_json())
}

/// Returns the complete lines of `bytes` (an unterminated last line is still being written).
fn complete_text(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

impl Driver<'_> {
    /// Returns what a step's `enter` records: whatever a repeat of the step needs.
    pub(crate) async fn intent(&self, ctx: &StepCtx<'_>, step: Step, repeat: Option<&crate::journal::Event>) -> Json {
        let node = ctx.node;
        let state = match step {
            Step::StageKeys => return self.keys_intent(node),
            Step::Phase(state) => state,
        };
        match state {
            State::Restart {} => self.restart_intent(node, repeat).await.to_json(),
            State::RollbackRestart {} => {
                RestartIntent { drain: self.rollback_drain(node), ..self.restart_intent(node, repeat).await }.to_json()
            }
            State::Backup {} => self.backup_intent(node).await.to_json(),
            State::Edit {} | State::Rollback {} => self.config_intent(node).await.to_json(),
            State::Drain {} => CommandIntent { command: format!("{} drain", node.nodetool_command) }.to_json(),
            State::AwaitUn {} | State::VerifyLog {} | State::RollbackAwaitUn {} | State::RollbackVerify {} => json!({}),
            State::Pending {} | State::Done {} | State::RolledBack {} | State::Failed {} => json!({}),
        }
    }

    /// What a restart records before acting: the log's size now (a boot after it is one
    /// this step caused) and the command; a repeat keeps the first intent's offset.
    async fn restart_intent(&self, node: &Node, repeat: Option<&crate::journal::Event>) -> RestartIntent {
        if let Some(first) = repeat {
            return RestartIntent {
                log_offset: RestartIntent::of(&first.detail).unwrap_or_default().log_offset,
                command: None,
                drain: None,
            };
        }
        let offset = match self.transport(&node.name) {
            Ok(t) => t.stat(&node.log_path).await.ok().flatten().map(|s| s.size).unwrap_or(0),
            Err(_) => 0,
        };
        RestartIntent { log_offset: offset, command: Some(node.restart_command.clone()), drain: None }
    }

    /// The drain a `rollback_restart` runs before its restart, when the workflow drains
    /// before restarts: a rollback restarts a node that may be serving clients (a failed
    /// log check, or `ringmaster rollback` of a finished run), and stopping it undrained
    /// fails the writes in flight to it (seen on the real test bed under a QUORUM load).
    fn rollback_drain(&self, node: &Node) -> Option<String> {
        self.workflow.drain_before_restart.then(|| format!("{} drain", node.nodetool_command))
    }

    /// What `backup` records before acting: the backup path and both config paths.
    async fn backup_intent(&self, node: &Node) -> BackupIntent {
        let ConfigIntent { config, config_target } = self.config_intent(node).await;
        BackupIntent { backup: self.backup_path(node), config: Some(config), config_target }
    }

    /// What `edit` and `rollback` record before acting: the config path and the file it
    /// resolves to (the same path unless it is a symlink; `null` when it cannot be resolved
    /// now, and the action then fails and says why).
    async fn config_intent(&self, node: &Node) -> ConfigIntent {
        let target = match self.transport(&node.name) {
            Ok(t) => config_target(t, node).await.ok(),
            Err(_) => None,
        };
        ConfigIntent { config: node.config_path.clone(), config_target: target }
    }

    pub(crate) fn backup_path(&self, node: &Node) -> String {
        format!("{}{}", node.config_path, self.workflow.backup_suffix)
    }

    /// Returns the journaled SHA-256 of `node`'s backup, if this run made or adopted it.
    fn journaled_backup_sha(&self, node: &str) -> Option<String> {
        journaled_backup_sha(&self.events.borrow(), node)
    }

    /// Runs `step` on the node. Transport problems are phase failures, not errors.
    pub(crate) async fn act(&self, ctx: &StepCtx<'_>, step: Step, first_enter: &Json, repeat: bool) -> Result<PhaseResult, DriverError> {
        let t = self.transport(&ctx.node.name)?.clone();
        let state = match step {
            Step::StageKeys => return Ok(self.stage(ctx.node, &t).await.unwrap_or_else(|e| fail_transport(&e))),
            Step::Phase(state) => state,
        };
        let result = match state {
            State::Backup {} => self.backup(ctx, &t).await,
            State::Edit {} => self.edit(ctx, &t, ctx.pass).await,
            State::Drain {} => self.command(&t, &format!("{} drain", ctx.node.nodetool_command)).await,
            State::Restart {} => self.restart(ctx, &t, first_enter, repeat, None).await,
            State::RollbackRestart {} => self.restart(ctx, &t, first_enter, repeat, self.rollback_drain(ctx.node)).await,
            State::AwaitUn {} => self.await_un(ctx, "restart").await,
            State::RollbackAwaitUn {} => self.await_un(ctx, "rollback_restart").await,
            State::VerifyLog {} => self.verify_log(ctx, &t, "restart", true).await,
            State::RollbackVerify {} => self.verify_log(ctx, &t, "rollback_restart", ctx.pass_index > 0).await,
            State::Rollback {} => self.rollback(ctx, &t).await,
            // `pending` is journaled by the step itself; a terminal state takes no step.
            State::Pending {} | State::Done {} | State::RolledBack {} | State::Failed {} => {
                unreachable!("BUG: no action for `{}`", crate::workflow::node::phase_name(&state))
            }
        };
        Ok(result.unwrap_or_else(|e| fail_transport(&e)))
    }

    async fn backup(&self, ctx: &StepCtx<'_>, t: &Transport) -> Result<PhaseResult, TransportError> {
        let node = ctx.node;
        let backup = self.backup_path(node);
        let target = config_target(t, node).await?;
        let removed = remove_stale_temp_files(t, node, &backup).await?;
        // The backup sits next to the path the inventory names (a link or not) and holds
        // the bytes of the file it resolves to.
        let config = t.read_file(&target, 0).await?;
        let config_sha = sha256_hex(&config);
        let journaled = self.journaled_backup_sha(&node.name);
        match t.stat(&backup).await? {
            Some(existing) => {
                let ours = match &journaled {
                    Some(sha) => *sha == existing.sha256,
                    // A first attempt that made the backup and died before journaling it:
                    // the backup then equals the untouched config.
                    None => ctx.pass_index == 0 && existing.sha256 == config_sha,
                };
                if ours {
                    Ok(PhaseResult::Ok(
                        BackupOk {
                            backup,
                            sha256: existing.sha256,
                            size: existing.size,
                            existing: true,
                            config: Some(node.config_path.clone()),
                            config_target: Some(target),
                            removed_stale_temp_files: removed,
                        }
                        .to_json(),
                    ))
                } else {
                    Ok(PhaseResult::Fail(
                        Failure::new(format!(
                            "`{backup}` already exists on `{}` and is not this run's backup (sha256 {}); it is never overwritten",
                            node.name, existing.sha256
                        ))
                        .hinted("move it aside after checking it, then run `ringmaster resume`")
                        .to_json(),
                    ))
                }
            }
            None if journaled.is_some() => Ok(PhaseResult::Fail(
                Failure::new(format!("the backup `{backup}` made by this run is gone from `{}`", node.name)).to_json(),
            )),
            None => {
                t.create_file_new(&backup, &config, Some(&target)).await?;
                let made = t.stat(&backup).await?;
                match made {
                    Some(s) if s.sha256 == config_sha => Ok(PhaseResult::Ok(
                        BackupOk {
                            backup,
                            sha256: s.sha256,
                            size: s.size,
                            existing: false,
                            config: Some(node.config_path.clone()),
                            config_target: Some(target),
                            removed_stale_temp_files: removed,
                        }
                        .to_json(),
                    )),
                    other => Ok(PhaseResult::Fail(
                        BackupMismatch {
                            error: format!("the backup `{backup}` on `{}` does not match the original after copying", node.name),
                            found_sha256: other.map(|s| s.sha256),
                            expected_sha256: config_sha,
                        }
                        .to_json(),
                    )),
                }
            }
        }
    }

    async fn edit(&self, ctx: &StepCtx<'_>, t: &Transport, pass: &Pass) -> Result<PhaseResult, TransportError> {
        Ok(match self.edit_values(ctx, t, pass).await? {
            Ok(edit) => PhaseResult::Ok(edit.to_json()),
            Err(failure) => PhaseResult::Fail(failure.to_json()),
        })
    }

    /// Writes `pass`'s values into the node's config: `edit`, and the `rollback` of a later
    /// pass (with the previous pass's values).
    async fn edit_values(&self, ctx: &StepCtx<'_>, t: &Transport, pass: &Pass) -> Result<Result<EditOk, Failure>, TransportError> {
        let node = ctx.node;
        let settings = match pass.render(node, self.secrets) {
            Ok(s) => s,
            Err(e) => return Ok(Err(Failure::new(e.to_string()))),
        };
        // A symlinked cassandra.yaml (configuration management) keeps its link: the file it
        // points to is edited.
        let target = config_target(t, node).await?;
        let removed = remove_stale_temp_files(t, node, &target).await?;
        let current = t.read_file(&target, 0).await?;
        let edit =
            match yaml::edit_server_encryption(&node.config_path, &current, &settings, &EditOptions { release: node.cassandra_release }) {
                Ok(e) => e,
                Err(e) => return Ok(Err(Failure::new(e.to_string()))),
            };
        let secrets = self.secrets.values();
        let diff = yaml::masked_diff(&node.config_path, &current, &edit.bytes, &secrets);
        if edit.changed {
            t.write_file_atomic(&target, &edit.bytes, 0o644).await?;
        }
        Ok(Ok(EditOk {
            config: Some(node.config_path.clone()),
            config_target: Some(target),
            changed: edit.changed,
            values: pass.name.clone(),
            before_sha256: sha256_hex(&current),
            after_sha256: sha256_hex(&edit.bytes),
            release: edit.release.to_string(),
            diff,
            removed_stale_temp_files: removed,
            restored_values_of: None,
        }))
    }

    async fn command(&self, t: &Transport, command: &str) -> Result<PhaseResult, TransportError> {
        let (ok, outcome) = self.run_command(t, command).await?;
        Ok(if ok { PhaseResult::Ok(outcome.to_json()) } else { PhaseResult::Fail(outcome.to_json()) })
    }

    /// Runs `command` on the node: whether it succeeded, and its outcome.
    async fn run_command(&self, t: &Transport, command: &str) -> Result<(bool, CommandOutcome), TransportError> {
        let out = t.run(command, None, self.workflow.command_timeout).await?;
        let outcome = CommandOutcome {
            command: command.to_string(),
            exit: out.status,
            stdout: tail(&out.stdout_str(), 20),
            stderr: tail(&out.stderr_str(), 20),
            log_offset: None,
            drain: None,
        };
        Ok((out.success(), outcome))
    }

    async fn restart(
        &self,
        ctx: &StepCtx<'_>,
        t: &Transport,
        first_enter: &Json,
        repeat: bool,
        drain_first: Option<String>,
    ) -> Result<PhaseResult, TransportError> {
        let node = ctx.node;
        // The offset of the FIRST intent: a boot after it is a boot caused by this step.
        let offset = RestartIntent::of(first_enter).unwrap_or_default().log_offset;
        if repeat {
            // The step was interrupted: did the node already boot after the intent?
            let deadline = Instant::now() + node.boot_grace;
            loop {
                if let Some(line) = self.boot_since(t, &node.log_path, offset).await? {
                    return Ok(PhaseResult::Ok(AlreadyBooted { already_booted: true, boot_line: line, log_offset: offset }.to_json()));
                }
                if Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(self.workflow.poll_interval.min(node.boot_grace)).await;
            }
        }
        // Best effort: whatever the drain answers (a node that failed to start has nothing
        // to drain), the restart that rolls the node back runs.
        let drained = match drain_first {
            None => None,
            Some(command) => Some(Box::new(match self.run_command(t, &command).await {
                Ok((_, outcome)) => outcome,
                Err(e) => {
                    CommandOutcome { command, exit: None, stdout: String::new(), stderr: e.to_string(), log_offset: None, drain: None }
                }
            })),
        };
        let (ok, mut outcome) = self.run_command(t, &node.restart_command).await?;
        outcome.drain = drained;
        if ok {
            outcome.log_offset = Some(offset);
            return Ok(PhaseResult::Ok(outcome.to_json()));
        }
        Ok(PhaseResult::Fail(outcome.to_json()))
    }

    /// Returns the first boot line in the node's log after `offset`, if any.
    async fn boot_since(&self, t: &Transport, log_path: &str, offset: u64) -> Result<Option<String>, TransportError> {
        // Only the bytes after the intent: this runs on every poll, and a node's log can be
        // tens of megabytes (a rotated log is caught by verify_log's full read).
        let bytes = match t.read_file(log_path, offset).await {
            Ok(b) => b,
            Err(TransportError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = complete_text(&bytes);
        let boot = regex::Regex::new(&self.workflow.log.boot).expect("BUG: validated");
        Ok(text.lines().find(|l| boot.is_match(l)).map(str::to_string))
    }

    async fn await_un(&self, ctx: &StepCtx<'_>, restart_phase: &str) -> Result<PhaseResult, TransportError> {
        let started = Instant::now();
        let deadline = started + self.workflow.await_un_timeout;
        let offset = self.restart_offset(ctx, restart_phase);
        let target_transport = self.transport(&ctx.node.name).map_err(|e| TransportError::Io {
            host: ctx.node.name.clone(),
            op: "find transport for",
            path: String::new(),
            detail: e.to_string(),
        })?;
        let joined = self.workflow.log.joined.as_deref().map(|p| regex::Regex::new(p).expect("BUG: validated"));
        // The target's log is read every LOG_TICK (cheap: one read over the SSH master, of
        // only the bytes it gained); `nodetool status` on every node (a JVM each on a real
        // cluster) runs every poll_interval, and every LOG_TICK once the log says the node
        // joined, so UN is seen within about a tick of the peers seeing it.
        const LOG_TICK: Duration = Duration::from_millis(100);
        let mut polls = 0u32;
        let mut next_round = Instant::now();
        let mut has_joined = false;
        let mut self_sees_all = false;
        let mut judgement = None;
        let mut log = Vec::new();
        loop {
            if has_joined || Instant::now() >= next_round {
                polls += 1;
                // Until the node itself sees every node UN, only its own view is asked
                // for (one nodetool, not N); then every node's view must agree.
                let only = (!self_sees_all).then_some(ctx.node.name.as_str());
                let views = self.collect_views(only).await;
                let j = health::judge_un(&ctx.node.address, &self.inventory.nodes, &views);
                if j.un && self_sees_all {
                    return Ok(PhaseResult::Ok(
                        AwaitUnOk {
                            elapsed_ms: started.elapsed().as_millis() as u64,
                            polls,
                            joined_line_seen: has_joined,
                            views: j.summary,
                        }
                        .to_json(),
                    ));
                }
                if j.un {
                    // Ask everyone at once.
                    self_sees_all = true;
                    next_round = Instant::now();
                    continue;
                }
                judgement = Some(j);
                next_round = Instant::now() + self.workflow.poll_interval;
            }
            // A node that failed to start will never be UN: stop waiting at once.
            // Read only what the log gained since the last tick: this runs every tick.
            if let Ok(bytes) = target_transport.read_file(&ctx.node.log_path, offset + log.len() as u64).await
                && !bytes.is_empty()
            {
                log.extend_from_slice(&bytes);
                let text = complete_text(&log);
                let fatal: Vec<_> = scan(&text, &self.patterns)
                    .errors
                    .into_iter()
                    .filter(|e| self.fatal.iter().any(|re| re.is_match(&e.line) || e.context.iter().any(|c| re.is_match(c))))
                    .collect();
                if !fatal.is_empty() {
                    return Ok(PhaseResult::Fail(
                        AwaitUnFailure {
                            error: format!("`{}` failed to start after its restart", ctx.node.name),
                            evidence: Some(fatal.iter().map(Evidence::from).collect()),
                            views: self.every_view(ctx).await,
                            polls: None,
                        }
                        .to_json(),
                    ));
                }
                has_joined = has_joined || joined.as_ref().is_some_and(|re| text.lines().any(|l| re.is_match(l)));
            }
            if Instant::now() >= deadline {
                return Ok(PhaseResult::Fail(
                    AwaitUnFailure {
                        error: format!(
                            "`{}` was not UN in the view of every node within {}",
                            ctx.node.name,
                            humantime::format_duration(self.workflow.await_un_timeout)
                        ),
                        evidence: None,
                        views: match judgement {
                            Some(j) if self_sees_all => j.summary,
                            _ => self.every_view(ctx).await,
                        },
                        polls: Some(polls),
                    }
                    .to_json(),
                ));
            }
            let now = Instant::now();
            let until_round = if has_joined { LOG_TICK } else { next_round.saturating_duration_since(now) };
            let pause = if joined.is_some() { until_round.min(LOG_TICK) } else { until_round };
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(now))).await;
        }
    }

    /// Returns the log offset before the latest successful `phase` (a restart) of this
    /// node and pass: only log lines after it count.
    fn restart_offset(&self, ctx: &StepCtx<'_>, phase: &str) -> u64 {
        restart_offset(&self.events.borrow(), &ctx.node.name, &ctx.pass.name, phase)
    }

    /// What every node's `nodetool status` says of the cluster now: the evidence a failed
    /// wait leaves in the journal (the restarted node alone is asked while it is down).
    async fn every_view(&self, ctx: &StepCtx<'_>) -> std::collections::BTreeMap<String, String> {
        health::judge_un(&ctx.node.address, &self.inventory.nodes, &self.collect_views(None).await).summary
    }

    /// Asks every node (or only the node named `only`) for `nodetool status`,
    /// concurrently (bounded).
    async fn collect_views(&self, only: Option<&str>) -> Vec<health::View> {
        let timeout = self.workflow.command_timeout.min(Duration::from_secs(60));
        let futures = self.inventory.nodes.iter().filter(|n| only.is_none_or(|o| o == n.name)).map(|n| async move {
            let result = match self.transports.get(&n.name) {
                None => Err("no transport".to_string()),
                Some(t) => match t.run(&format!("{} status", n.nodetool_command), None, timeout).await {
                    Ok(out) if out.success() => crate::cassandra::status::parse_status(&out.stdout_str()).map_err(|e| e.to_string()),
                    Ok(out) => Err(format!("{}: {}", out.status_text(), out.stderr_str().trim())),
                    Err(e) => Err(e.to_string()),
                },
            };
            health::View { from: n.name.clone(), result }
        });
        // Bounded like preflight's reads: on a big cluster hundreds of nodetool JVMs at
        // once would only queue behind each other.
        futures::stream::iter(futures).buffered(crate::preflight::PREFLIGHT_PARALLELISM).collect().await
    }

    async fn verify_log(
        &self,
        ctx: &StepCtx<'_>,
        t: &Transport,
        restart_phase: &str,
        need_success: bool,
    ) -> Result<PhaseResult, TransportError> {
        let node = ctx.node;
        let offset = self.restart_offset(ctx, restart_phase);
        let bytes = t.read_file(&node.log_path, 0).await?;
        let rotated = (bytes.len() as u64) < offset;
        let text = complete_text(log_since(&bytes, offset));
        let text = from_first_boot(&text, &self.patterns);
        let mut found = scan(text, &self.patterns);
        if restart_phase == "rollback_restart" && ctx.pass_index == 0 {
            // Restored to TLS-off: peers that still offer TLS are refused, then fall back.
            found.errors.retain(|e| !self.expected_after_restore.iter().any(|re| re.is_match(&e.line)));
        }
        if restart_phase == "restart" && !ctx.pass.tolerate.is_empty() {
            let tolerated: Vec<regex::Regex> = ctx.pass.tolerate.iter().map(|p| regex::Regex::new(p).expect("BUG: validated")).collect();
            found.errors.retain(|e| !tolerated.iter().any(|re| re.is_match(&e.line)));
        }
        let mut problems = Vec::new();
        if found.boots == 0 {
            problems.push(format!("no boot of `{}` in {} after the restart", node.name, node.log_path));
        }
        if need_success && found.success_lines.is_empty() {
            problems.push(format!("`{}` never logged `{}` after the restart", node.name, self.workflow.log.success.trim()));
        }
        let listener_line = text.lines().rev().find(|l| l.contains("Listening on ")).map(str::to_string);
        if restart_phase == "restart"
            && let Some(re) = &ctx.pass.listener
        {
            let re = regex::Regex::new(re).expect("BUG: validated");
            if !listener_line.as_deref().is_some_and(|l| re.is_match(l)) {
                problems.push(format!(
                    "the storage listener of `{}` does not match `{}` (found: {})",
                    node.name,
                    re.as_str(),
                    listener_line.as_deref().unwrap_or("no listener line")
                ));
            }
        }
        if !found.errors.is_empty() {
            problems.push(format!("`{}` logged {} error line(s) after the restart", node.name, found.errors.len()));
        }
        let detail = VerifyLog {
            log: node.log_path.clone(),
            from_offset: if rotated { 0 } else { offset },
            rotated,
            success_line: found.success_lines.last().cloned(),
            listener_line,
            evidence: found.errors.iter().map(Evidence::from).collect(),
            error: None,
        };
        if problems.is_empty() {
            Ok(PhaseResult::Ok(detail.to_json()))
        } else {
            Ok(PhaseResult::Fail(VerifyLog { error: Some(problems.join("; ")), ..detail }.to_json()))
        }
    }

    async fn rollback(&self, ctx: &StepCtx<'_>, t: &Transport) -> Result<PhaseResult, TransportError> {
        let node = ctx.node;
        if ctx.pass_index == 0 {
            let backup = self.backup_path(node);
            let bytes = t.read_file(&backup, 0).await?;
            let sha = sha256_hex(&bytes);
            if let Some(expected) = self.journaled_backup_sha(&node.name)
                && expected != sha
            {
                return Ok(PhaseResult::Fail(
                    Failure::new(format!(
                        "the backup `{backup}` on `{}` changed since it was made (sha256 {sha}, journaled {expected}); not restoring it",
                        node.name
                    ))
                    .to_json(),
                ));
            }
            let target = config_target(t, node).await?;
            let removed = remove_stale_temp_files(t, node, &target).await?;
            t.write_file_atomic(&target, &bytes, 0o644).await?;
            let restored = RestoreOk {
                restored_from: backup,
                sha256: sha,
                config: Some(node.config_path.clone()),
                config_target: Some(target),
                removed_stale_temp_files: removed,
            };
            Ok(PhaseResult::Ok(restored.to_json()))
        } else {
            // A later pass puts the previous pass's values back.
            let previous = &self.workflow.passes[ctx.pass_index - 1];
            Ok(match self.edit_values(ctx, t, previous).await? {
                Ok(edit) => PhaseResult::Ok(EditOk { restored_values_of: Some(previous.name.clone()), ..edit }.to_json()),
                Err(failure) => PhaseResult::Fail(failure.to_json()),
            })
        }
    }
}

/// Returns the file that holds `node`'s cassandra.yaml: `config_path` itself, or the file
/// its symlink finally points to (a dangling link is `NotFound`, naming the target).
async fn config_target(t: &Transport, node: &Node) -> Result<String, TransportError> {
    Ok(t.symlink_target(&node.config_path).await?.unwrap_or_else(|| node.config_path.clone()))
}

/// Removes the temp files a killed ringmaster left next to `path` (an interrupted write of
/// this phase), says so in the log when there were any, and returns them for the detail.
async fn remove_stale_temp_files(t: &Transport, node: &Node, path: &str) -> Result<Vec<String>, TransportError> {
    let removed = t.remove_stale_temp_files(path).await?;
    if !removed.is_empty() {
        tracing::warn!(node = %node.name, files = ?removed, "removed temp files left by an interrupted ringmaster");
    }
    Ok(removed)
}

fn log_since(bytes: &[u8], offset: u64) -> &[u8] {
    // A log shorter than the offset was rotated: everything in it is new.
    if (bytes.len() as u64) < offset { bytes } else { &bytes[offset as usize..] }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
