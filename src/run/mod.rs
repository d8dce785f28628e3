//! The run layer: what a run *does* over its life, in the library. Starting one
//! ([`start`]: create, lock, refuse or pass preflight, fix the batches), continuing one
//! ([`resume`]: which run, silent ends, retries), undoing one ([`undo`]), and driving it to
//! an end under signals ([`drive`]), with the one cluster lock ([`lock`]) and the one
//! connection per command ([`cluster`]) that batch planning, preflight and the driver share.
//! Run events are written only through [`record`], which redacts them.
//!
//! The command line parses, confirms and prints; it asks this layer for everything else.
//! The run layer reads runs back through [`crate::history`] and drives them with
//! [`crate::driver`]; it never prints (the failure report is built here and printed by
//! the CLI, see [`report`]).

pub mod cluster;
pub mod drive;
mod error;
pub mod lock;
pub mod record;
pub mod report;
pub mod resume;
pub mod start;
pub mod undo;

use std::path::Path;

pub use cluster::{CONNECT_PARALLELISM, Cluster, ConnectOptions};
pub use drive::{Ending, Mode, Pauses, drive};
pub use error::RunError;
pub use report::FailureReport;

use crate::inventory::Inventory;
use crate::journal::Run;
use crate::secrets::Secrets;
use crate::workflow::Workflow;

/// What every command that acts on a cluster needs: the inventory, the workflow and the
/// secrets the inventory names.
pub struct Job {
    pub inventory: Inventory,
    pub workflow: Workflow,
    pub secrets: Secrets,
}

impl Job {
    /// Loads the inventory, the workflow (the built-in one unless a file is given) and the
    /// secrets the inventory names.
    pub fn load(inventory: &Path, workflow: Option<&Path>) -> Result<Job, RunError> {
        let inventory = Inventory::load(inventory)?;
        let workflow = Workflow::load(workflow)?;
        let secrets = load_secrets(&inventory, &workflow)?;
        Ok(Job { inventory, workflow, secrets })
    }

    /// Returns the job as the driver borrows it.
    pub fn parts(&self) -> crate::driver::JobRef<'_> {
        crate::driver::JobRef { inventory: &self.inventory, workflow: &self.workflow, secrets: &self.secrets }
    }

    /// Returns the job of a journaled run: the inventory and workflow it started with, and
    /// the secrets as they are now (they are never journaled).
    pub fn of_run(run: &Run) -> Result<Job, RunError> {
        let inventory = Inventory::from_snapshot(&run.inventory)?;
        let workflow = Workflow::parse(&format!("<workflow of run {}>", run.id), &run.workflow)?;
        let secrets = load_secrets(&inventory, &workflow)?;
        Ok(Job { inventory, workflow, secrets })
    }
}

/// Loads the secrets the inventory names and fills what the workflow needs and neither the
/// file nor the environment gives from the secret command, if there is one.
pub fn load_secrets(inventory: &Inventory, workflow: &Workflow) -> Result<Secrets, crate::secrets::SecretsError> {
    let mut secrets = Secrets::load(inventory.secrets.as_deref())?;
    secrets.resolve(&workflow.secret_names(), inventory.secret_command.as_deref())?;
    Ok(secrets)
}

/// The `ringmaster` invocation that every hint names, with the journal spelled out so the
/// hint works whatever the default journal is.
pub fn command_prefix(journal: &crate::journal::Journal) -> String {
    match journal.path() {
        Some(p) => format!("ringmaster --journal {}", crate::transport::shell_quote(&p.display().to_string())),
        None => "ringmaster".to_string(),
    }
}
