//! `ringmaster export [RUN] --format jsonl|md|html [-o FILE]`: a run's journal as a
//! versioned event stream, a Markdown post-mortem or a self-contained HTML timeline.

use std::path::{Path, PathBuf};

use super::resume::{Pick, find_run};
use crate::cli::error::{CommandError, exit};
use crate::export::{Format, render};
use crate::inventory::Inventory;
use crate::journal::{Journal, JournalError, Run};
use crate::secrets::Secrets;

/// Export a run: JSON Lines for tools, Markdown or HTML for the post-mortem.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The run id (or a unique prefix); default: the newest run
    pub run: Option<String>,
    /// The format
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Opens the journal for a read command, refusing to create one that does not exist.
pub fn open_existing(journal: Option<PathBuf>) -> Result<Journal, CommandError> {
    let path = super::journal_path(journal);
    if !path.exists() {
        return Err(CommandError::usage(format!("no journal at `{}`", path.display())).hinted("name the journal with `--journal PATH`"));
    }
    open_for_reading(&path)
}

/// Opens an existing journal read-only, for the commands that only look (`runs`, `status`,
/// `export`). A journal of an older schema is migrated first when it can be written (as
/// every command did before); a read-only one is refused with what to do.
pub fn open_for_reading(path: &Path) -> Result<Journal, CommandError> {
    match Journal::open_read_only(path) {
        Err(JournalError::NeedsMigration { .. }) if Journal::open(path).is_ok() => Ok(Journal::open_read_only(path)?),
        Err(e @ JournalError::NeedsMigration { .. }) => Err(CommandError::from(e).hinted(format!(
            "make it writable for one command (`chmod u+w {p}`, then `ringmaster runs --journal {p}` migrates it), or inspect it with the ringmaster that wrote it",
            p = crate::transport::shell_quote(&path.display().to_string())
        ))),
        other => Ok(other?),
    }
}

pub fn cmd_export(journal: Option<PathBuf>, args: &ExportArgs) -> Result<i32, CommandError> {
    let journal = open_existing(journal)?;
    let run = find_run(&journal, args.run.as_deref(), Pick::NewestRun)?;
    let events = journal.events(&run.id)?;
    tracing::debug!(run = %run.id, events = events.len(), format = ?args.format, "export");
    let text = redact_known_secrets(&run, render(&run, &events, args.format));
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| CommandError::failed(format!("cannot write `{}`: {e}", path.display())))?;
            crate::ui::out::eprint_line(&format!("wrote {} ({}) of run {}", path.display(), args.format, run.id));
        }
        None => crate::ui::out::print(&text)?,
    }
    Ok(exit::OK)
}

/// Masks any secret this machine knows (the run's secrets file when readable, the
/// environment). Events were redacted when journaled; this is defence in depth for
/// journals written by older or foreign tools.
fn redact_known_secrets(run: &Run, text: String) -> String {
    let file = Inventory::from_snapshot(&run.inventory).ok().and_then(|i| i.secrets);
    let secrets = Secrets::load(file.as_deref()).or_else(|_| Secrets::load(None));
    match secrets {
        Ok(s) => s.redact(&text),
        Err(_) => text,
    }
}
