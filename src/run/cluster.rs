//! One connection per command: the async runtime and every node's transport, opened
//! once and shared by batch planning, preflight and the driver.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;

use super::RunError;
use crate::inventory::{Inventory, Node, TransportKind};
use crate::preflight::NoConnection;
use crate::transport::local::Local;
use crate::transport::ssh::{Ssh, SshTarget};
use crate::transport::{SudoCheckFailed, Transport, TransportError, shell_quote};

/// How many nodes are connected at once: an SSH master costs a handshake (about 160 ms on
/// loopback, more across a WAN), so 300 nodes one by one would take most of a minute,
/// while sshd's `MaxStartups` (10 unauthenticated connections by default) and the local
/// file descriptors argue against opening them all at once.
pub const CONNECT_PARALLELISM: usize = 16;

/// How nodes are connected.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectOptions {
    /// Accept unknown SSH host keys (adds them to known_hosts); changed keys are still refused.
    pub accept_new_host_keys: bool,
}

/// The runtime of one command and its connections to the nodes of one inventory.
pub struct Cluster<'a> {
    inventory: &'a Inventory,
    options: ConnectOptions,
    rt: tokio::runtime::Runtime,
    transports: Option<BTreeMap<String, Result<Transport, NoConnection>>>,
}

impl<'a> Cluster<'a> {
    /// Returns a cluster of `inventory`'s nodes, not connected yet.
    pub fn new(inventory: &'a Inventory, options: ConnectOptions) -> Result<Cluster<'a>, RunError> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(RunError::Runtime)?;
        Ok(Cluster { inventory, options, rt, transports: None })
    }

    /// The inventory whose nodes this is.
    pub fn inventory(&self) -> &'a Inventory {
        self.inventory
    }

    /// The command's async runtime.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }

    /// Returns the runtime and every node's connection (or why it has none), connecting
    /// on first use, [`CONNECT_PARALLELISM`] at a time: preflight reports every
    /// unreachable node.
    pub fn each(&mut self) -> (&tokio::runtime::Runtime, &BTreeMap<String, Result<Transport, NoConnection>>) {
        if self.transports.is_none() {
            let (inventory, options) = (self.inventory, self.options);
            let all = self.rt.block_on(async {
                futures::stream::iter(inventory.nodes.iter())
                    .map(|node| async move { (node.name.clone(), connect_one(node, options).await) })
                    .buffer_unordered(CONNECT_PARALLELISM)
                    .collect::<BTreeMap<_, _>>()
                    .await
            });
            self.transports = Some(all);
        }
        (&self.rt, self.transports.as_ref().expect("BUG: connected just above"))
    }

    /// Returns a transport to every node, or the connection error of the first node (in
    /// inventory order) that has none.
    pub fn all(&mut self) -> Result<BTreeMap<String, Transport>, RunError> {
        let inventory = self.inventory;
        self.each();
        let each = self.transports.as_mut().expect("BUG: connected just above");
        if let Some(node) = inventory.nodes.iter().find(|n| matches!(each.get(&n.name), Some(Err(_)))) {
            let Some(Err(error)) = each.remove(&node.name) else { unreachable!("BUG: found just above") };
            return Err(RunError::NotConnected { node: node.name.clone(), error });
        }
        Ok(each.iter().filter_map(|(name, t)| Some((name.clone(), t.as_ref().ok()?.clone()))).collect())
    }
}

/// Opens the transport to one node (and checks `sudo -n` when the node uses sudo).
pub async fn connect_one(node: &Node, options: ConnectOptions) -> Result<Transport, NoConnection> {
    let t = match node.transport {
        TransportKind::Local => Transport::Local(Local::new(&node.name)),
        TransportKind::Ssh => {
            let target = SshTarget {
                host: node.name.clone(),
                destination: node.ssh.clone(),
                ssh_config: node.ssh_config.clone(),
                known_hosts: node.known_hosts.clone(),
                accept_new_host_keys: options.accept_new_host_keys,
                control_dir: None,
                sudo: node.sudo,
                max_concurrent: 8,
                connect_timeout: Duration::from_secs(15),
            };
            let ssh = Ssh::connect(&target).await.map_err(|e| {
                let hint = match &e {
                    TransportError::HostKeyChanged { .. } => {
                        "if the node was really reinstalled, remove the old key as the message says; otherwise do not connect".to_string()
                    }
                    TransportError::HostKeyUnknown { .. } => {
                        "check the key, then add it to known_hosts, or pass `--accept-new-host-keys`".to_string()
                    }
                    _ => format!("check `ssh {}` by hand, then run the command again", shell_quote(&node.ssh)),
                };
                NoConnection { error: Box::new(e), hints: vec![hint] }
            })?;
            if node.sudo {
                // Before anything changes anywhere: `sudo -n` must work on every node.
                ssh.run("true", None, Duration::from_secs(30)).await.map_err(|e| NoConnection {
                    error: Box::new(SudoCheckFailed(e)),
                    hints: vec![format!(
                        "give the SSH user of `{}` passwordless sudo (NOPASSWD) for ringmaster's commands, or set `sudo = false`",
                        node.name
                    )],
                })?;
            }
            Transport::Ssh(ssh)
        }
    };
    Ok(t)
}
