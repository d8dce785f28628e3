//! One step of a node: journal the intent, act, journal the outcome; and the one way the
//! driver writes to the journal (redacted, streamed, with a crash point after each commit).

use serde_json::{Value as Json, json};

use super::phases::StepCtx;
use super::{Driver, DriverError, STAGE_KEYS};
use crate::history::{RunEvent, open_enter};
use crate::journal::{Event, EventKind, NewEvent};
use crate::workflow::node::{self, State};

/// What one step runs: a phase of the node's machine, or the staging of its key files
/// (the optional first phase, before any pass; see [`super::keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Phase(State),
    StageKeys,
}

impl Step {
    /// The step's name in the journal (`phase` column).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Step::Phase(state) => node::phase_name(&state),
            Step::StageKeys => STAGE_KEYS,
        }
    }
}

/// The outcome of one phase, before it is journaled.
pub(crate) enum PhaseResult {
    Ok(Json),
    Fail(Json),
}

impl Driver<'_> {
    /// Journals intent, runs one step, journals the outcome. Returns whether it succeeded.
    #[tracing::instrument(level = "debug", skip_all, fields(node = %ctx.node.name, pass = %ctx.pass.name, phase = step.name()))]
    pub(crate) async fn step(&self, ctx: &StepCtx<'_>, step: Step) -> Result<bool, DriverError> {
        let (node, pass, phase) = (ctx.node, ctx.pass, step.name());
        if step == Step::Phase(State::Pending {}) {
            // Scheduling a node is a decision, not an action: one `ok` records it.
            let detail = json!({"position": ctx.position + 1, "of": self.inventory.nodes.len(), "batch": ctx.batch + 1});
            self.append(Some(&node.name), Some(&pass.name), phase, EventKind::Ok, detail)?;
            return Ok(true);
        }
        let repeat = open_enter(&self.events.borrow(), &node.name, &pass.name, phase).cloned();
        let mut enter_detail = self.intent(ctx, step, repeat.as_ref()).await;
        if repeat.is_some() {
            enter_detail["repeat"] = json!(true);
        }
        self.ui.status(&format!("[{}] {}: {phase}", pass.name, node.name));
        self.append(Some(&node.name), Some(&pass.name), phase, EventKind::Enter, enter_detail.clone())?;
        let is_repeat = repeat.is_some();
        let first_enter = repeat.map(|e| e.detail).unwrap_or(enter_detail);
        let result = self.act(ctx, step, &first_enter, is_repeat).await?;
        self.crash.point(|| format!("after acting {} {} {}", node.name, pass.name, phase));
        let (kind, detail, ok) = match result {
            PhaseResult::Ok(d) => (EventKind::Ok, d, true),
            PhaseResult::Fail(d) => (EventKind::Fail, d, false),
        };
        self.ui.line(&format!("[{}] {}: {phase} {}", pass.name, node.name, if ok { "ok" } else { "FAILED" }));
        // A restore reverts the edit of the pass it undoes; the journal links the two.
        let reverts = (step == Step::Phase(State::Rollback {}) && ok).then(|| self.edit_undone(ctx)).flatten();
        self.append_reverting(Some(&node.name), Some(&pass.name), phase, kind, detail, reverts)?;
        Ok(ok)
    }

    /// Returns the seq of the edit a successful rollback of `ctx` undoes.
    fn edit_undone(&self, ctx: &StepCtx<'_>) -> Option<i64> {
        let undone_pass = &self.workflow.passes[ctx.pass_index].name;
        self.events
            .borrow()
            .iter()
            .rev()
            .find(|e| {
                e.node.as_deref() == Some(&ctx.node.name)
                    && e.pass.as_ref() == Some(undone_pass)
                    && e.phase == node::phase_name(&State::Edit {})
                    && e.kind == EventKind::Ok
            })
            .map(|e| e.seq)
    }

    /// Appends an event (details are redacted once more, as defence in depth).
    pub(crate) fn append(
        &self,
        node: Option<&str>,
        pass: Option<&str>,
        phase: &str,
        kind: EventKind,
        detail: Json,
    ) -> Result<Event, DriverError> {
        self.append_reverting(node, pass, phase, kind, detail, None)
    }

    /// Appends a typed run event (or a node-level marker when `node` is given).
    pub(crate) fn record(&self, node: Option<&str>, pass: Option<&str>, event: RunEvent) -> Result<Event, DriverError> {
        self.append(node, pass, event.phase(), event.kind(), event.detail())
    }

    /// Appends an event that reverts the event `reverts` (a rollback undoing an edit).
    pub(crate) fn append_reverting(
        &self,
        node: Option<&str>,
        pass: Option<&str>,
        phase: &str,
        kind: EventKind,
        detail: Json,
        reverts: Option<i64>,
    ) -> Result<Event, DriverError> {
        let detail = self.secrets.redact_json(detail);
        let ev = self.journal.append(
            &self.run.id,
            &NewEvent { node: node.map(str::to_string), pass: pass.map(str::to_string), phase: phase.to_string(), kind, detail, reverts },
        )?;
        self.events.borrow_mut().push(ev.clone());
        if let Some(on_event) = &self.on_event {
            on_event(&ev);
        }
        self.crash.point(|| format!("after journaling {} {} {} {}", node.unwrap_or("-"), pass.unwrap_or("-"), phase, kind));
        Ok(ev)
    }
}
