//! `ringmaster workflows [--json]`: the workflows shipped in the binary, with what each does.

use std::path::PathBuf;

use serde_json::json;

use crate::cli::error::{CommandError, exit};
use crate::workflow::Workflow;

/// The `--workflow` flag of every command that loads a workflow.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WorkflowArg {
    /// A shipped workflow by name (`ringmaster workflows` lists them) or a workflow file,
    /// instead of the built-in internode-tls
    #[arg(long = "workflow", value_name = "NAME|FILE")]
    pub spec: Option<PathBuf>,
}

/// List the shipped workflows (`--workflow NAME` takes one) with their descriptions.
#[derive(Debug, clap::Args)]
pub struct WorkflowsArgs {
    /// Print a JSON array instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn cmd_workflows(args: &WorkflowsArgs) -> Result<i32, CommandError> {
    let shipped = Workflow::shipped();
    if args.json {
        let rows: Vec<_> = shipped
            .iter()
            .map(|w| {
                let passes: Vec<_> =
                    w.passes.iter().map(|p| json!({"name": p.name, "description": p.description, "pause_after": p.pause_after})).collect();
                json!({"name": w.name, "description": w.description, "passes": passes})
            })
            .collect();
        crate::outln!("{}", serde_json::to_string_pretty(&rows).expect("BUG: json"))?;
        return Ok(exit::OK);
    }
    let width = shipped.iter().map(|w| w.name.len()).max().unwrap_or(0);
    for (i, w) in shipped.iter().enumerate() {
        let default = if i == 0 { " (default)" } else { "" };
        crate::outln!("{:<width$}  {}{default}", w.name, w.description)?;
        for p in &w.passes {
            let pause = if p.pause_after && !std::ptr::eq(p, w.passes.last().expect("BUG: a workflow has a pass")) {
                "; pauses when complete"
            } else {
                ""
            };
            crate::outln!("{:<width$}    pass `{}`: {}{pause}", "", p.name, p.description)?;
        }
    }
    Ok(exit::OK)
}
