//! The failure report of a run whose node failed: what happened, the evidence the
//! journal holds, and the next commands. Built here, redacted, printed by the CLI.

use crate::driver::FailedStep;
use crate::journal::{Journal, RunId};
use crate::secrets::Secrets;

/// What the operator reads when a node failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReport {
    /// The node that failed.
    pub node: String,
    /// The pass it failed in.
    pub pass: String,
    /// `rolled_back` or `failed` (an operator is needed).
    pub state: String,
    /// The whole report, `error: ...` first, `Hint: ...` last; secrets masked.
    pub text: String,
}

impl FailureReport {
    /// Builds the report of `node`'s failure from the evidence the driver collected.
    pub fn new(
        journal: &Journal,
        run: &RunId,
        node: &str,
        pass: &str,
        state: &str,
        evidence: &[FailedStep],
        secrets: &Secrets,
    ) -> FailureReport {
        let rm = super::command_prefix(journal);
        let untouched = evidence.iter().all(|e| matches!(e.phase.as_str(), "stage_keys" | "backup" | "edit"));
        let what = if state == "rolled_back" {
            format!("node `{node}` failed in pass `{pass}` and was rolled back; no further node was touched")
        } else if untouched {
            format!("node `{node}` failed in pass `{pass}` before anything on it was changed; no further node was touched")
        } else {
            format!("node `{node}` failed in pass `{pass}` and could not be rolled back: it needs an operator")
        };
        let mut text = format!("error: {what}\n");
        for FailedStep { phase, failure } in evidence {
            if let Some(msg) = &failure.error {
                text.push_str(&format!("  {phase}: {msg}\n"));
            }
            for ev in failure.evidence.iter().flatten() {
                text.push_str(&format!("    | {}\n", ev.line));
                for c in ev.context.iter().take(6) {
                    text.push_str(&format!("    | {c}\n"));
                }
            }
            for (from, seen) in failure.views.iter().flatten() {
                text.push_str(&format!("    nodetool status on {from}: {seen}\n"));
            }
        }
        text.push_str(&format!("Hint: fix the cause on `{node}`, then `{rm} resume {run}` retries it\n"));
        text.push_str(&format!("Hint: `{rm} rollback {run}` undoes the whole run instead, node by node\n"));
        text.push_str(&format!("Hint: `{rm} status {run}` shows every node's phase"));
        FailureReport { node: node.into(), pass: pass.into(), state: state.into(), text: secrets.redact(&text) }
    }
}
