//! What the run layer fails with. Each variant keeps its typed source; its operator
//! wording is its `Display` and [`RunError::hints`], and the CLI maps it to an exit code.

use crate::history::Blocker;
use crate::inventory::InventoryError;
use crate::journal::{JournalError, LockHolder};
use crate::preflight::NoConnection;
use crate::secrets::SecretsError;
use crate::workflow::WorkflowError;

/// Why a run could not start, continue or end as asked.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A node has no connection (an unreachable host, a host key, `sudo -n`).
    #[error("{error}", error = .error.error)]
    NotConnected { node: String, error: NoConnection },
    /// Another live process holds the cluster lock.
    #[error("{}", held(.cluster, .holder))]
    LockHeld { cluster: String, holder: Box<LockHolder> },
    /// The lock's holder is gone, but it is not this run's and `--break-lock` was not given.
    #[error("{}, whose process is gone", held(.cluster, .holder))]
    LockStale { cluster: String, holder: Box<LockHolder> },
    /// Preflight found blockers; nothing was touched (or, `resume` set, nothing more: the
    /// resume of a paused run was refused and the run stays paused). Messages are redacted.
    #[error("preflight found {} blocker(s); {}:\n  {}", .blockers.len(), if .resume.is_some() { "the run stays paused, nothing more was touched" } else { "nothing was touched" }, listed(.blockers))]
    Refused {
        blockers: Vec<Blocker>,
        inventory_path: String,
        /// The command that resumes the paused run once the blockers are fixed.
        resume: Option<String>,
    },
    /// The driver stopped on an error of its own (journal, transport bookkeeping).
    #[error(transparent)]
    Driver(#[from] crate::driver::DriverError),
    /// Driving run `run` stopped on `error`; `stopped` is journaled and the lock released.
    #[error("{error}")]
    Stopped {
        run: String,
        /// The `ringmaster --journal ...` prefix of the hint.
        rm: String,
        #[source]
        error: Box<RunError>,
    },
    /// No run of that id (or no run at all, refusals aside) in the journal.
    #[error("{} `{journal}`", match .id { Some(i) => format!("no run `{i}` in the journal"), None => "no run (other than refusals) in the journal".to_string() })]
    NoRun { id: Option<String>, journal: String },
    /// `resume` of a run that preflight or the lock refused.
    #[error("run {run} was refused before it touched any node; there is nothing to resume")]
    ResumeRefused { run: String, inventory_path: String },
}

fn held(cluster: &str, h: &LockHolder) -> String {
    format!(
        "cluster `{cluster}` is locked by run {} (pid {} on {}, user {}, since {})",
        h.run_id,
        h.pid,
        h.host,
        h.user,
        crate::clock::format_ms(h.acquired_at)
    )
}

fn listed(blockers: &[Blocker]) -> String {
    blockers.iter().map(|b| format!("{}: {}", b.node.as_deref().unwrap_or("cluster"), b.message)).collect::<Vec<_>>().join("\n  ")
}

impl RunError {
    /// Returns the operator's next steps for this error (the CLI prints them as `Hint:` lines).
    pub fn hints(&self) -> Vec<String> {
        match self {
            RunError::NotConnected { error, .. } => error.hints.clone(),
            RunError::LockHeld { .. } => vec!["wait for that run to finish, or stop it (Ctrl-C stops it at the next safe point)".into()],
            RunError::LockStale { holder, .. } => vec![
                format!("`ringmaster resume {}` continues that run", holder.run_id),
                "or pass `--break-lock` to take the lock over (journaled)".into(),
            ],
            RunError::Refused { resume: Some(resume), .. } => vec![format!("fix them, then `{resume}` continues the run")],
            RunError::Refused { inventory_path, .. } => vec![format!(
                "fix them, check with `ringmaster preflight -i {}`, then run again",
                crate::transport::shell_quote(inventory_path)
            )],
            RunError::Stopped { run, rm, error } => {
                let mut hints = error.hints();
                hints.push(format!("`{rm} resume {run}` continues from where it stopped"));
                hints
            }
            RunError::NoRun { .. } => {
                vec!["start one with `ringmaster run -i cluster.toml`, or name the journal with `--journal PATH`".into()]
            }
            RunError::ResumeRefused { inventory_path, .. } => {
                vec![format!(
                    "fix what refused it, then start a new run: `ringmaster run -i {}`",
                    crate::transport::shell_quote(inventory_path)
                )]
            }
            _ => vec![],
        }
    }
}
