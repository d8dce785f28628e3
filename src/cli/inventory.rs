//! `ringmaster inventory from-ansible FILE [--group G]` and `ringmaster inventory
//! discover --seed HOST`: write a starting `cluster.toml` from what already describes
//! the cluster (an Ansible inventory, or `nodetool status` on one node).
//!
//! Both print TOML that `Inventory::parse` accepts, in rollout order, with comments for
//! what TOML cannot carry (SSH ports, datacenters and racks). The Ansible reading lives in
//! [`crate::inventory::ansible`]; this file parses arguments and prints.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::session::ConnectArgs;
use crate::cassandra::status::{StatusNode, parse_status};
use crate::cli::error::{CommandError, exit};
use crate::inventory::ansible::{self, Ansible};
use crate::inventory::{Inventory, Node, TransportKind, node_name_from, toml_quote as q};
use crate::transport::shell_quote;
use crate::ui::out;

/// Write a cluster.toml from an Ansible inventory or from `nodetool status`.
#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// Convert an Ansible inventory (YAML or INI) into a cluster.toml on stdout
    FromAnsible {
        /// The Ansible inventory file (`.yml`/`.yaml` is read as YAML, anything else as INI)
        file: PathBuf,
        /// Only the hosts of this group (and its children); default: every host
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
        /// The cluster name; default: the group name, else `cluster`
        #[arg(long)]
        cluster: Option<String>,
        /// Print the resolved hosts as JSON instead of TOML
        #[arg(long)]
        json: bool,
    },
    /// Ask one node for `nodetool status` and print its nodes, DCs and racks as a cluster.toml
    Discover {
        /// The node to ask (an SSH destination or Host alias; any name with `--transport local`)
        #[arg(long, value_name = "HOST")]
        seed: String,
        /// The nodetool command on that node (`status` is appended)
        #[arg(long, default_value = "nodetool", value_name = "CMD")]
        nodetool_command: String,
        /// How to reach the seed
        #[arg(long, value_enum, default_value = "ssh")]
        transport: Via,
        /// An ssh_config file for the SSH connection
        #[arg(long, value_name = "FILE")]
        ssh_config: Option<PathBuf>,
        /// A known_hosts file for the SSH connection
        #[arg(long, value_name = "FILE")]
        known_hosts: Option<PathBuf>,
        /// Accept the seed's SSH host key if it is unknown
        #[arg(long)]
        accept_new_host_keys: bool,
        /// The cluster name to write
        #[arg(long, default_value = "cluster")]
        cluster: String,
        /// Print the parsed `nodetool status` rows as JSON instead of TOML
        #[arg(long)]
        json: bool,
    },
}

/// How `discover` reaches the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    Ssh,
    Local,
}

pub fn cmd_inventory(cmd: &InventoryCommand) -> Result<i32, CommandError> {
    match cmd {
        InventoryCommand::FromAnsible { file, group, cluster, json } => {
            let inv = Ansible::load(file).map_err(CommandError::usage)?;
            let hosts = inv.resolve(group.as_deref()).map_err(CommandError::usage)?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&hosts).expect("BUG: hosts serialize"))?;
            } else {
                let cluster = cluster.clone().or_else(|| group.clone()).unwrap_or_else(|| "cluster".into());
                let command = format!(
                    "ringmaster inventory from-ansible {}{}",
                    shell_quote(&file.display().to_string()),
                    group.as_ref().map(|g| format!(" --group {}", shell_quote(g))).unwrap_or_default()
                );
                out::print(&ansible::cluster_toml(&cluster, &command, &hosts, inv.has_passwords()))?;
            }
            Ok(exit::OK)
        }
        InventoryCommand::Discover { seed, nodetool_command, transport, ssh_config, known_hosts, accept_new_host_keys, cluster, json } => {
            let kind = match transport {
                Via::Ssh => TransportKind::Ssh,
                Via::Local => TransportKind::Local,
            };
            if let Some(problem) = crate::transport::ssh::destination_problem(seed).filter(|_| kind == TransportKind::Ssh) {
                return Err(CommandError::usage(format!("`--seed {}`: the ssh destination {problem}", shell_quote(seed)))
                    .hinted("give the seed as `user@host` or a `Host` alias of your ssh_config"));
            }
            let mut node = Node::with_defaults(seed, seed, kind);
            node.nodetool_command = nodetool_command.clone();
            node.boot_grace = Duration::ZERO;
            node.ssh_config = ssh_config.clone();
            node.known_hosts = known_hosts.clone();
            let inventory = Inventory {
                path: PathBuf::from("<discover>"),
                cluster: cluster.clone(),
                secrets: None,
                secret_command: None,
                nodes: vec![node],
            };
            let connect = ConnectArgs { accept_new_host_keys: *accept_new_host_keys, ..ConnectArgs::default() };
            let command = format!("{nodetool_command} status");
            let mut nodes = crate::run::Cluster::new(&inventory, connect.options())?;
            let t = nodes.all()?.remove(seed.as_str()).expect("BUG: connected every node");
            let output = nodes.runtime().block_on(t.run(&command, None, Duration::from_secs(60)))?;
            if !output.success() {
                return Err(CommandError::failed(format!(
                    "`{command}` on `{seed}` {}: {}",
                    output.status_text(),
                    output.stderr_str().trim()
                ))
                .hinted("check the command by hand on that node, or give it with `--nodetool-command`"));
            }
            let nodes =
                parse_status(&output.stdout_str()).map_err(|e| CommandError::failed(format!("`nodetool status` on `{seed}`: {e}")))?;
            if *json {
                crate::outln!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"seed": seed, "nodes": nodes})).expect("BUG: nodes serialize")
                )?;
            } else {
                out::print(&discovered_toml(cluster, seed, *transport, &nodes))?;
            }
            Ok(exit::OK)
        }
    }
}

fn discovered_toml(cluster: &str, seed: &str, via: Via, nodes: &[StatusNode]) -> String {
    let mut dcs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in nodes {
        let racks = dcs.entry(&n.datacenter).or_default();
        if !racks.contains(&n.rack.as_str()) {
            racks.push(&n.rack);
        }
    }
    let summary = dcs.iter().map(|(dc, racks)| format!("{dc} (racks {})", racks.join(", "))).collect::<Vec<_>>().join("; ");
    let mut out = format!(
        "# discovered by `ringmaster inventory discover --seed {}` from `nodetool status` on {seed}\n# {} nodes in {} datacenter(s): {summary}\n# node names are the addresses; rename them, and check the rollout order (file order)\ncluster = {}\n# secrets = \"secrets.toml\"\n\n[defaults]\ntransport = {}\n",
        shell_quote(seed),
        nodes.len(),
        dcs.len(),
        q(cluster),
        q(match via {
            Via::Ssh => "ssh",
            Via::Local => "local",
        })
    );
    let mut current: Option<(&str, &str)> = None;
    for n in nodes {
        if current != Some((&n.datacenter, &n.rack)) {
            out.push_str(&format!("\n# datacenter {}, rack {}\n", n.datacenter, n.rack));
            current = Some((&n.datacenter, &n.rack));
        }
        out.push_str(&format!("[[node]]\nname = {}\naddress = {}\n", q(&node_name_from(&n.address)), q(&n.address)));
        let state = format!("{}{}", n.status, n.state);
        out.push_str(&format!(
            "# host id {}, {state} in the view of {seed}{}\n",
            n.host_id,
            if n.is_up_normal() { "" } else { "  <-- NOT UN" }
        ));
    }
    out
}
