//! `ringmaster plan -i INV [--json]`: the order of nodes in each pass and the
//! cassandra.yaml diff each pass would make on each node (passwords masked), computed
//! from the files read from the nodes. Changes nothing and journals nothing.

use std::path::PathBuf;

use serde_json::json;

use super::session::ConnectArgs;
use crate::cli::error::{CommandError, ErrorKind, exit};
use crate::preflight::render_passes;

/// Show what a run would do on every node, pass by pass; change nothing.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The inventory (cluster.toml)
    #[arg(short = 'i', long, value_name = "INV")]
    pub inventory: PathBuf,
    #[command(flatten)]
    pub workflow: super::workflows::WorkflowArg,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub batch: super::batch::BatchArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn cmd_plan(args: &PlanArgs) -> Result<i32, CommandError> {
    let crate::run::Job { inventory, workflow, secrets } = super::session::load_job(&args.inventory, args.workflow.spec.as_deref())?;
    let mut cluster = crate::run::Cluster::new(&inventory, args.connect.options())?;
    let batches = super::batch::plan(&args.batch, &mut cluster)?;
    let (rt, transports) = cluster.each();
    let order: Vec<&str> = inventory.nodes.iter().map(|n| n.name.as_str()).collect();
    let mut passes: Vec<serde_json::Value> = workflow.passes.iter().map(|p| json!({"pass": p.name, "order": order, "nodes": []})).collect();
    let mut problems = 0;
    for node in &inventory.nodes {
        let rendered = match transports.get(&node.name) {
            Some(Ok(t)) => match rt.block_on(t.read_file(&node.config_path, 0)) {
                Ok(config) => render_passes(node, &config, &workflow, &secrets),
                Err(e) => Err(e.to_string()),
            },
            Some(Err(e)) => Err(e.finding()),
            None => Err("not connected".into()),
        };
        match rendered {
            Ok(list) => {
                for (i, r) in list.iter().enumerate() {
                    passes[i]["nodes"]
                        .as_array_mut()
                        .expect("BUG: built as array")
                        .push(json!({"node": node.name, "config": node.config_path, "changed": r.changed, "diff": r.diff}));
                }
            }
            Err(e) => {
                problems += 1;
                for p in &mut passes {
                    p["nodes"]
                        .as_array_mut()
                        .expect("BUG: built as array")
                        .push(json!({"node": node.name, "config": node.config_path, "error": secrets.redact(&e)}));
                }
            }
        }
    }
    if args.json {
        let doc = json!({"cluster": inventory.cluster, "workflow": workflow.name, "batches": batches.event(&args.batch), "topology": batches.topology, "passes": passes});
        crate::outln!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CommandError::from_source(ErrorKind::Failed, e))?)?;
    } else {
        let mut out = format!("workflow `{}` on cluster `{}`\n", workflow.name, inventory.cluster);
        if batches.topology.is_some() {
            out.push_str(&batches.render());
        }
        for p in &passes {
            out.push_str(&format!("\npass `{}`: {}\n", p["pass"].as_str().unwrap_or(""), order.join(" -> ")));
            for n in p["nodes"].as_array().into_iter().flatten() {
                let name = n["node"].as_str().unwrap_or("");
                match (n.get("error"), n["changed"].as_bool()) {
                    (Some(e), _) => out.push_str(&format!("  {name}: cannot plan: {}\n", e.as_str().unwrap_or(""))),
                    (None, Some(false)) => out.push_str(&format!("  {name}: no change\n")),
                    _ => {
                        out.push_str(&format!("  {name}:\n"));
                        for line in n["diff"].as_str().unwrap_or("").lines() {
                            out.push_str(&format!("    {line}\n"));
                        }
                    }
                }
            }
        }
        crate::ui::out::print(&out)?;
    }
    Ok(if problems == 0 { exit::OK } else { exit::FAILED })
}
