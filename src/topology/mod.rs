//! The cluster's topology and the batch planner that proves a batch of restarts safe.
//!
//! One node at a time is the runbook's rule and the default. A larger batch is allowed
//! only when, for every token range of every replicated keyspace, each datacenter keeps
//! LOCAL_QUORUM of that range's replicas up: at most `RF_dc - (RF_dc/2 + 1)` of them may
//! be in the batch (`allowed_in_batch`). The replicas come from `nodetool describering`
//! (`cassandra::ring`), so vnodes, racks and mixed strategies are all covered exactly.
//! Everything here is pure and serde-serializable: preflight reads the topology, the
//! journal records it and the plan, and `plan` shows every batch with why it is safe.

mod check;
mod plan;

pub use check::{Unsafe, check_batch};
pub use plan::{PlanError, plan_batches};

use crate::cassandra::ring::{KeyspaceReplication, TokenRange, is_local_class};
use crate::cassandra::status::StatusNode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where one node sits: its address, datacenter and rack (from `nodetool status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Address as `nodetool status` prints it (no port, no brackets).
    pub address: String,
    /// Datacenter name.
    pub datacenter: String,
    /// Rack name.
    pub rack: String,
}

impl From<&StatusNode> for Placement {
    fn from(node: &StatusNode) -> Placement {
        Placement { address: node.address.clone(), datacenter: node.datacenter.clone(), rack: node.rack.clone() }
    }
}

/// One keyspace's replication and the replicas of every token range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyspaceRing {
    /// Keyspace name.
    pub keyspace: String,
    /// Strategy class, short form (`NetworkTopologyStrategy`).
    pub class: String,
    /// Replication options as `describecluster` prints them.
    pub options: BTreeMap<String, String>,
    /// Every token range with its replicas (`nodetool describering`).
    pub ranges: Vec<TokenRange>,
}

impl KeyspaceRing {
    /// Joins a keyspace's `describecluster` replication with its `describering` ranges.
    pub fn new(replication: &KeyspaceReplication, ranges: Vec<TokenRange>) -> KeyspaceRing {
        KeyspaceRing { keyspace: replication.name.clone(), class: replication.class.clone(), options: replication.options.clone(), ranges }
    }

    /// Returns true when the keyspace is not replicated over the ring and is never counted.
    pub fn is_local(&self) -> bool {
        is_local_class(&self.class)
    }

    /// Returns the replication as one short phrase: `NetworkTopologyStrategy dc1=3, dc2=3`.
    pub fn replication_summary(&self) -> String {
        let options: Vec<String> = self.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if options.is_empty() { self.class.clone() } else { format!("{} {}", self.class, options.join(", ")) }
    }
}

/// Everything the planner knows: where each node is and where each range's replicas are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Every node of the cluster.
    pub nodes: Vec<Placement>,
    /// Every keyspace, local ones included (they are skipped when counting).
    pub keyspaces: Vec<KeyspaceRing>,
}

impl Topology {
    /// Returns the placement of the node with this address.
    pub fn placement(&self, address: &str) -> Option<&Placement> {
        self.nodes.iter().find(|p| p.address == address)
    }
}

/// How `run --batch` groups restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BatchMode {
    /// One node at a time, in inventory order (the runbook's rule; the default).
    #[default]
    Node,
    /// One rack of one datacenter at a time, refused unless proven safe.
    Rack,
    /// The largest batches that are proven safe, built greedily in inventory order.
    Auto,
}

impl BatchMode {
    /// The mode's command-line (and journal) name.
    pub fn name(self) -> &'static str {
        match self {
            BatchMode::Node => "node",
            BatchMode::Rack => "rack",
            BatchMode::Auto => "auto",
        }
    }
}

/// What the operator asked of the planner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// How to group restarts.
    pub mode: BatchMode,
    /// Largest batch allowed (`--max-batch`); `None` for no cap.
    pub max_batch: Option<usize>,
    /// Restart batches of different datacenters together (`--dc-parallel`).
    pub dc_parallel: bool,
    /// In `rack` mode, split an unsafe rack into safe batches instead of refusing.
    pub fallback: bool,
}

/// One batch of nodes restarted together, with the reason it is safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Node addresses, in the caller's (inventory) order.
    pub nodes: Vec<String>,
    /// Why this batch is allowed, in one sentence for `plan` and the journal.
    pub why: String,
}

/// Returns how many of a range's `rf_dc` replicas in one datacenter may be down at once
/// while LOCAL_QUORUM (`rf_dc/2 + 1`) stays available: RF 3 gives 1, RF 5 gives 2, RF 1 and
/// RF 2 give 0.
pub fn allowed_in_batch(rf_dc: usize) -> usize {
    rf_dc.saturating_sub(rf_dc / 2 + 1)
}

#[cfg(test)]
mod tests;
