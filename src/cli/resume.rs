//! `ringmaster resume [RUN]`: continue a run exactly where it stopped.

use std::path::PathBuf;

use super::error::{CommandError, exit};
use super::session::{self, ConnectArgs, PauseArgs};
use crate::journal::Journal;
use crate::run::resume::{Ended, Picked};
use crate::run::{Cluster, Job, Mode};

pub use crate::run::resume::Pick;

/// Continue a paused, interrupted or failed run from its journal.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The run id (or a unique prefix); default: the newest run
    pub run: Option<String>,
    #[command(flatten)]
    pub pause: PauseArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Returns the run named by `id`, or the one `pick` chooses; says which when it chose.
pub fn find_run(journal: &Journal, id: Option<&str>, pick: Pick) -> Result<crate::journal::Run, CommandError> {
    let Picked { run, why } = crate::run::resume::find_run(journal, id, pick)?;
    if let Some(why) = why {
        eprintln!("taking run {} (started {}), {why}", run.id, crate::clock::format_ms(run.started_at));
    }
    Ok(run)
}

pub fn cmd_resume(journal: Option<PathBuf>, args: &ResumeArgs) -> Result<i32, CommandError> {
    let path = super::journal_path(journal);
    if !path.exists() {
        return Err(CommandError::usage(format!("no journal at `{}`: there is no run to resume", path.display()))
            .hinted("start one with `ringmaster run -i cluster.toml`, or name the journal with `--journal PATH`"));
    }
    let journal = Journal::open(&path)?;
    let run = find_run(&journal, args.run.as_deref(), Pick::NewestChange)?;
    match crate::run::resume::ended(&run, &journal.events(&run.id)?)? {
        Some(Ended::Finished) => {
            crate::outln!("run {} already finished; nothing to resume", run.id)?;
            return Ok(exit::OK);
        }
        Some(Ended::Undone) => {
            crate::outln!("run {} was rolled back; nothing to resume", run.id)?;
            return Ok(exit::OK);
        }
        None => {}
    }
    let job = Job::of_run(&run)?;
    let mut cluster = Cluster::new(&job.inventory, args.connect.options())?;
    let on_report = |report: &crate::preflight::Report| session::print_findings(report, &job);
    let mut mode = crate::run::resume::take_over(&journal, &run, &job, &mut cluster, args.connect.break_lock, on_report)?;
    if let Mode::Forward(pauses) = &mut mode {
        *pauses = args.pause.pauses();
    }
    crate::ui::out::eprint_line(&format!("resuming run {} of cluster `{}`", run.id, job.inventory.cluster));
    session::drive(&journal, run, &job, &mut cluster, &args.connect, mode)
}
