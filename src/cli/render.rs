//! `ringmaster render`: print what a pass would make of a cassandra.yaml, offline.

use std::path::PathBuf;

use crate::cassandra::yaml::{self, EditOptions, Value};
use crate::cli::error::{CommandError, exit};
use crate::inventory::{Inventory, Node, TransportKind};
use crate::secrets::Secrets;
use crate::workflow::Workflow;

/// Print a cassandra.yaml as a pass would edit it (or the diff); touches nothing.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The cassandra.yaml to edit (read only)
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The pass whose settings to apply (e.g. `optional`, `enforce`)
    #[arg(long, value_name = "NAME")]
    pub pass: String,
    /// An inventory, for the node's paths and secrets
    #[arg(short = 'i', long, value_name = "INV", requires = "node")]
    pub inventory: Option<PathBuf>,
    /// The node to render for
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Set or override a value: a setting (`store_type=JKS`), `ssl_dir=/path` or
    /// `cassandra_release=4.0`; never a secret (passwords come from the secrets file or
    /// `RINGMASTER_SECRET_*`)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print a unified diff (passwords masked) instead of the file
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub workflow: super::workflows::WorkflowArg,
}

pub fn cmd_render(args: &RenderArgs) -> Result<i32, CommandError> {
    let workflow = Workflow::load(args.workflow.spec.as_deref())?;
    let pass = workflow.pass(&args.pass)?;
    let (mut node, secrets) = match &args.inventory {
        Some(path) => {
            let inv = Inventory::load(path)?;
            let node = inv.node(args.node.as_deref().expect("clap: requires node"))?.clone();
            (node, crate::run::load_secrets(&inv, &workflow)?)
        }
        None => (offline_node(args.node.as_deref().unwrap_or("node")), Secrets::load(None)?),
    };
    let secret_names = workflow.secret_names();
    let mut overrides = Vec::new();
    for item in &args.set {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| CommandError::usage(format!("`--set {}` must look like KEY=VALUE", mask_if(item, &secret_names))))?;
        if is_secret(key, &secret_names) {
            return Err(secret_on_command_line(key, args.inventory.is_some()));
        } else if key == "ssl_dir" {
            node.ssl_dir = value.to_string();
        } else if key == "cassandra_release" {
            node.cassandra_release = Some(value.parse().map_err(|e| CommandError::usage(format!("`--set cassandra_release`: {e}")))?);
        } else {
            overrides.push((key.to_string(), value.to_string()));
        }
    }
    let mut settings = pass.render(&node, &secrets)?;
    if let Some(s) = settings.iter().find(|s| s.secret && overrides.iter().any(|(k, _)| *k == s.key)) {
        return Err(secret_on_command_line(&s.key, args.inventory.is_some()));
    }
    for (key, value) in overrides {
        let parsed = match value.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            v => v.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::Str(v.to_string())),
        };
        match settings.iter_mut().find(|s| s.key == key) {
            Some(s) => s.value = parsed,
            None => settings.push(yaml::Setting { key, value: parsed, secret: false }),
        }
    }
    let path = args.config.display().to_string();
    let input = std::fs::read(&args.config).map_err(|e| CommandError::usage(format!("cannot read `{path}`: {e}")))?;
    let edit = yaml::edit_server_encryption(&path, &input, &settings, &EditOptions { release: node.cassandra_release })?;
    let mut masked: Vec<&str> = secrets.values();
    masked.extend(settings.iter().filter(|s| s.secret).filter_map(|s| match &s.value {
        Value::Str(v) if !v.is_empty() => Some(v.as_str()),
        _ => None,
    }));
    if args.diff {
        crate::ui::out::print(&yaml::masked_diff(&path, &input, &edit.bytes, &masked))?;
    } else {
        // The file as it would be written to the node, passwords included.
        crate::ui::out::write_raw(&edit.bytes)?;
    }
    Ok(exit::OK)
}

/// Returns true when `key` names a secret: one the workflow takes from the secrets, or any
/// password.
fn is_secret(key: &str, secret_names: &[String]) -> bool {
    secret_names.iter().any(|s| s == key) || key.to_ascii_lowercase().contains("password")
}

/// The refusal of `--set SECRET=...`: a command line is visible in `ps` and shell history.
fn secret_on_command_line(key: &str, has_inventory: bool) -> CommandError {
    let env = format!("RINGMASTER_SECRET_{}", key.to_ascii_uppercase());
    let file = if has_inventory { "the secrets file the inventory names (`secrets = ...`)" } else { "a secrets file (`-i INV --node N`)" };
    CommandError::usage(format!(
        "`--set {key}=...` would put a secret on the command line, where `ps` and the shell history show it; ringmaster takes secrets only from {file} or the environment"
    ))
    .hinted(format!("let the shell prompt for it without echo: `read -rs {env} && export {env}`, then run render again without `--set {key}`"))
}

fn mask_if(item: &str, secret_names: &[String]) -> String {
    match item.split_once('=') {
        Some((k, _)) if secret_names.iter().any(|s| s == k) => format!("{k}={}", crate::secrets::MASK),
        _ => item.to_string(),
    }
}

/// A node with the default paths, for rendering without an inventory.
fn offline_node(name: &str) -> Node {
    Node::with_defaults(name, "127.0.0.1", TransportKind::Local)
}
