//! The failure report of a run whose node failed: what happened, the evidence the
//! journal holds, and the next commands. Built here, redacted, printed by the CLI.

use serde_json::Value as Json;

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
    pub fn new(journal: &Journal, run: &RunId, node: &str, pass: &str, state: &str, evidence: &[Json], secrets: &Secrets) -> FailureReport {
        let rm = super::command_prefix(journal);
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
        FailureReport { node: node.into(), pass: pass.into(), state: state.into(), text: secrets.redact(&text) }
    }
}
