//! `ringmaster demo`: a whole two-pass rollout on a fresh local sandbox cluster.

use std::path::PathBuf;
use std::time::Duration;

use super::session::ConnectArgs;
use crate::cli::error::{CommandError, ErrorKind, exit};
use crate::inventory::Inventory;
use crate::journal::Journal;
use crate::transport::shell_quote;
use crate::ui::out::{eprint, eprint_line};
use crate::workflow::Workflow;

/// Make a simulated cluster and run the whole internode-TLS rollout on it.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the sandbox cluster is made [default: a new directory under /tmp]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How many nodes
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// How long each simulated node takes to rejoin after a restart
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    pub start_delay: Duration,
}

pub fn cmd_demo(journal: Option<PathBuf>, args: &DemoArgs) -> Result<i32, CommandError> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("ringmaster-demo-{}", std::process::id())),
    };
    let report = crate::sandbox::init(&crate::sandbox::InitOptions {
        dir: dir.clone(),
        nodes: args.nodes,
        start_delay: args.start_delay,
        force: false,
        ringmaster_exe: None,
        ssh_config: None,
    })
    .map_err(|e| CommandError::from_source(ErrorKind::Usage, e).hinted("choose an empty directory with `--dir DIR`"))?;
    eprint_line(&format!("sandbox cluster of {} nodes in {}", args.nodes, dir.display()));
    let journal_path = journal.unwrap_or_else(|| dir.join("journal.db"));
    let inventory = Inventory::load(&report.inventory)?;
    let workflow = Workflow::builtin();
    let secrets = crate::run::load_secrets(&inventory, &workflow)?;
    let job = crate::run::Job { inventory, workflow, secrets };
    eprint(&super::run::plan(&job.inventory, &job.workflow, &journal_path));
    let journal = Journal::open(&journal_path)?;
    let connect = ConnectArgs::default();
    let mut cluster = crate::run::Cluster::new(&job.inventory, connect.options())?;
    let code = super::run::start(&journal, &report.inventory, &job, &mut cluster, &connect, None, Default::default())?;
    let j = shell_quote(&journal_path.display().to_string());
    crate::outln!()?;
    crate::outln!("journal:   {}", journal_path.display())?;
    crate::outln!("status:    ringmaster status --journal {j}")?;
    crate::outln!("as JSON:   ringmaster status --journal {j} --json")?;
    crate::outln!("inventory: {}", report.inventory.display())?;
    crate::outln!("node logs: {}/nodes/*/var/log/cassandra/system.log", shell_quote(&dir.display().to_string()))?;
    crate::outln!("the journal is plain SQLite: sqlite3 {j} 'select seq, node, pass, phase, kind from events'")?;
    Ok(if code == exit::OK { exit::OK } else { code })
}
