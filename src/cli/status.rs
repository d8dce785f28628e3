//! `ringmaster status [RUN] [--json]`: where a run stands, node by node, pass by pass.

use std::path::PathBuf;

use serde_json::json;

use super::resume::{Pick, find_run};
use crate::cli::error::{CommandError, exit};
use crate::clock::format_ms;
use crate::history::{RunState, journaled_undo_stages, next_work, paused_where, pauses, replay, replay_undo, run_state};
use crate::inventory::Inventory;
use crate::workflow::Workflow;
use crate::workflow::node::phase_name;

/// Show each node's phase in each pass of a run.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The run id (or a unique prefix); default: the newest run
    pub run: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

pub fn cmd_status(journal: Option<PathBuf>, args: &StatusArgs) -> Result<i32, CommandError> {
    let path = super::journal_path(journal);
    if !path.exists() {
        return Err(CommandError::usage(format!("no journal at `{}`", path.display())).hinted("name the journal with `--journal PATH`"));
    }
    let journal = super::export::open_for_reading(&path)?;
    let run = find_run(&journal, args.run.as_deref(), Pick::NewestRun)?;
    let events = journal.events(&run.id)?;
    let inventory = Inventory::from_snapshot(&run.inventory)?;
    let workflow = Workflow::parse(&format!("<workflow of run {}>", run.id), &run.workflow)?;
    let run_state = run_state(&events);
    let state = run_state.name();
    // A paused run: when and where it paused, and what `resume` runs next.
    let pause = (run_state == RunState::Paused).then(|| pauses(&events).pop()).flatten();
    let next = pause.as_ref().and_then(|_| next_work(&events, &inventory, &workflow));
    let undo = journaled_undo_stages(&events).unwrap_or_default();
    // Columns: the workflow's passes, then the undo stages if the run was rolled back.
    let mut columns: Vec<String> = workflow.passes.iter().map(|p| p.name.clone()).collect();
    columns.extend(undo.iter().map(|s| s.name.clone()));
    let nodes: Vec<_> = inventory
        .nodes
        .iter()
        .map(|n| {
            let mut passes: serde_json::Map<String, serde_json::Value> = workflow
                .passes
                .iter()
                .map(|p| (p.name.clone(), json!(phase_name(replay(&events, &n.name, &p.name, workflow.drain_before_restart).state()))))
                .collect();
            for stage in &undo {
                let phase =
                    if stage.nodes.contains(&n.name) { phase_name(replay_undo(&events, &n.name, &stage.name).state()) } else { "-" };
                passes.insert(stage.name.clone(), json!(phase));
            }
            json!({"node": n.name, "address": n.address, "passes": passes})
        })
        .collect();
    if args.json {
        let out = json!({
            "run": run.id.to_string(),
            "cluster": run.cluster,
            "started_at": format_ms(run.started_at),
            "operator": run.operator,
            "host": run.host,
            "state": state,
            "events": events.len(),
            "nodes": nodes,
        });
        let mut out = out;
        if let Some(p) = &pause {
            out["paused"] = json!({
                "at": format_ms(p.at),
                "pass": p.pass,
                "reason": p.reason.name(),
                "completed": p.completed,
                "next": next,
            });
        }
        crate::outln!("{}", serde_json::to_string_pretty(&out).expect("BUG: json"))?;
        return Ok(exit::OK);
    }
    crate::outln!("run      {}", run.id)?;
    crate::outln!("cluster  {}", run.cluster)?;
    crate::outln!("started  {} by {}@{}", format_ms(run.started_at), run.operator, run.host)?;
    crate::outln!("state    {state} ({} journal events)", events.len())?;
    if let Some(p) = &pause {
        let after = paused_where(&p.pass, p.reason, p.completed);
        let next = next.as_ref().map(|n| n.describe()).unwrap_or_else(|| "resume has nothing left to run".into());
        crate::outln!("paused   {after} ({}); {next}", format_ms(p.at))?;
        crate::outln!("resume   `{} resume {}`", crate::run::command_prefix(&journal), run.id)?;
    }
    crate::outln!()?;
    let mut header = format!("{:<16}", "NODE");
    for c in &columns {
        header.push_str(&format!("{:<20}", c.to_uppercase()));
    }
    crate::outln!("{}", header.trim_end())?;
    for n in &nodes {
        let mut line = format!("{:<16}", n["node"].as_str().unwrap_or(""));
        for c in &columns {
            line.push_str(&format!("{:<20}", n["passes"][c].as_str().unwrap_or("")));
        }
        crate::outln!("{}", line.trim_end())?;
    }
    Ok(exit::OK)
}
