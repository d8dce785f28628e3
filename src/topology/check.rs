//! The safety rule itself: `check_batch` scans every counted range once, and `Index`
//! answers the same question incrementally for the planner.
//!
//! A *constraint* is one (keyspace, range, datacenter) with the range's replicas in that
//! datacenter and how many of them may be down at once. Ranges of one keyspace with the
//! same replicas in a datacenter are one constraint (`check_batch` names the range),
//! and each node lists the constraints it is a member of. Adding a node to a batch then
//! only touches that node's constraints, each with a handful of members, which keeps 300
//! nodes with 16 vnodes and several keyspaces well under a second.

use super::{Placement, Topology, allowed_in_batch};
use std::collections::{HashMap, HashSet};

/// Proof that a batch is unsafe: one range whose datacenter would lose LOCAL_QUORUM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "batch [{batch}] is unsafe: range ({start}, {end}] of keyspace `{keyspace}` has {count} of its \
     {rf} `{datacenter}` replicas in the batch ({replicas}); RF {rf} in `{datacenter}` allows {allowed}",
    batch = .batch.join(", "),
    start = .range.0,
    end = .range.1,
    count = .replicas_in_batch.len(),
    replicas = .replicas_in_batch.join(", "),
)]
pub struct Unsafe {
    /// The keyspace whose range breaks the rule.
    pub keyspace: String,
    /// The range `(start, end]`, tokens as printed.
    pub range: (String, String),
    /// The datacenter that would lose LOCAL_QUORUM.
    pub datacenter: String,
    /// That range's replicas in that datacenter which are in the batch.
    pub replicas_in_batch: Vec<String>,
    /// How many may be in one batch (`allowed_in_batch(rf)`).
    pub allowed: usize,
    /// The range's replica count in that datacenter.
    pub rf: usize,
    /// The whole batch, as given.
    pub batch: Vec<String>,
}

/// Checks one batch against every token range of every counted keyspace.
///
/// Returns the first violation in keyspace, range and datacenter order. Local keyspaces
/// are skipped. A one-node batch is checked like any other; the planner decides that a
/// single restart is always allowed.
// The large error is the product here (it names the range, the replicas and the batch)
// and is built at most once per call, so boxing would only burden every caller.
#[allow(clippy::result_large_err)]
pub fn check_batch(topology: &Topology, batch: &[String]) -> Result<(), Unsafe> {
    let members: HashSet<&str> = batch.iter().map(String::as_str).collect();
    for ring in topology.keyspaces.iter().filter(|k| !k.is_local()) {
        for range in &ring.ranges {
            // Datacenters in order of first appearance among the range's replicas.
            let mut per_dc: Vec<(&str, usize, Vec<String>)> = Vec::new();
            for replica in &range.endpoints {
                let slot = match per_dc.iter().position(|(dc, ..)| *dc == replica.datacenter) {
                    Some(i) => i,
                    None => {
                        per_dc.push((&replica.datacenter, 0, Vec::new()));
                        per_dc.len() - 1
                    }
                };
                per_dc[slot].1 += 1;
                if members.contains(replica.address.as_str()) {
                    per_dc[slot].2.push(replica.address.clone());
                }
            }
            for (dc, rf, in_batch) in per_dc {
                let allowed = allowed_in_batch(rf);
                if in_batch.len() > allowed {
                    return Err(Unsafe {
                        keyspace: ring.keyspace.clone(),
                        range: (range.start.clone(), range.end.clone()),
                        datacenter: dc.to_owned(),
                        replicas_in_batch: in_batch,
                        allowed,
                        rf,
                        batch: batch.to_vec(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// One (keyspace, replica set in one datacenter) the planner must respect.
pub(super) struct Constraint {
    /// Index into `Topology::keyspaces`.
    pub keyspace: usize,
    /// Datacenter name.
    pub datacenter: String,
    /// Node ids of the replicas in that datacenter.
    pub members: Vec<usize>,
    /// `allowed_in_batch(members.len())`.
    pub allowed: usize,
}

/// The constraints of a topology, indexed by node.
pub(super) struct Index<'a> {
    pub topology: &'a Topology,
    /// Node id of every address: topology nodes first, then replicas not among them.
    pub ids: HashMap<&'a str, usize>,
    /// Placement of every node id; `None` for a replica `nodetool status` did not list.
    pub placements: Vec<Option<&'a Placement>>,
    /// The first replica address that is not a topology node, with its keyspace index.
    pub stranger: Option<(usize, &'a str)>,
    pub constraints: Vec<Constraint>,
    /// Node id -> ids of the constraints it is a member of.
    pub by_node: Vec<Vec<usize>>,
}

impl<'a> Index<'a> {
    /// Builds the index of every counted keyspace.
    pub fn new(topology: &'a Topology) -> Index<'a> {
        let mut ids: HashMap<&'a str, usize> = HashMap::new();
        let mut placements = Vec::new();
        for node in &topology.nodes {
            if !ids.contains_key(node.address.as_str()) {
                ids.insert(&node.address, placements.len());
                placements.push(Some(node));
            }
        }
        let mut stranger = None;
        let mut constraints = Vec::new();
        let mut seen: HashSet<(usize, &str, Vec<usize>)> = HashSet::new();
        for (k, ring) in topology.keyspaces.iter().enumerate() {
            if ring.is_local() {
                continue;
            }
            for range in &ring.ranges {
                let mut per_dc: Vec<(&'a str, Vec<usize>)> = Vec::new();
                for replica in &range.endpoints {
                    let id = *ids.entry(replica.address.as_str()).or_insert_with(|| {
                        stranger.get_or_insert((k, replica.address.as_str()));
                        placements.push(None);
                        placements.len() - 1
                    });
                    match per_dc.iter_mut().find(|(dc, _)| *dc == replica.datacenter) {
                        Some((_, members)) => members.push(id),
                        None => per_dc.push((&replica.datacenter, vec![id])),
                    }
                }
                for (dc, mut members) in per_dc {
                    members.sort_unstable();
                    members.dedup();
                    if seen.insert((k, dc, members.clone())) {
                        constraints.push(Constraint {
                            keyspace: k,
                            datacenter: dc.to_owned(),
                            allowed: allowed_in_batch(members.len()),
                            members,
                        });
                    }
                }
            }
        }
        let mut by_node = vec![Vec::new(); ids.len()];
        for (c, constraint) in constraints.iter().enumerate() {
            for &m in &constraint.members {
                by_node[m].push(c);
            }
        }
        Index { topology, ids, placements, stranger, constraints, by_node }
    }

    /// Returns true when `node` may join the batch whose members `in_batch` accepts
    /// without taking more replicas of any range than allowed.
    pub fn fits(&self, node: usize, in_batch: impl Fn(usize) -> bool) -> bool {
        self.by_node[node].iter().all(|&c| {
            let constraint = &self.constraints[c];
            let present = constraint.members.iter().filter(|&&m| in_batch(m)).count();
            present < constraint.allowed
        })
    }

    /// Returns the constraints that even this node alone breaks (RF_dc 1 or 2).
    pub fn alone_breaks(&self, node: usize) -> impl Iterator<Item = &Constraint> {
        self.by_node[node].iter().map(|&c| &self.constraints[c]).filter(|c| c.allowed == 0)
    }
}
