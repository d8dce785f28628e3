//! `plan_batches`: turns the inventory order into batches for `node`, `rack` or `auto`
//! mode, each with the sentence `plan` prints to say why it is safe.
//!
//! `auto` is a deterministic first fit over *units*: each rack (cut to `max_batch`) that
//! is safe on its own is one unit, the nodes of an unsafe rack are units of one. Walking
//! the units in inventory order (by their first node), a unit joins the first batch it
//! fits in whole (same datacenter unless `dc_parallel`, within `max_batch`, rule kept for
//! each of its nodes), else opens a new batch. Starting from racks makes the usual layout
//! (NTS, one replica per rack) come out rack by rack, where a per-node first fit pairs
//! nodes of two racks that merely happen not to share a range and strands their
//! rack-mates. First fit rather than an optimal packing keeps the plan stable when one
//! node is added. A node that breaks the rule alone (RF_dc 1 or 2) gets a batch of its own
//! that nothing else may join. Every batch lists its nodes in the caller's order.

use super::check::{Constraint, Index};
use super::{Batch, BatchMode, PlanOptions, Topology, Unsafe, check_batch};
use std::collections::{BTreeMap, HashSet};

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A rack batch takes too many replicas of a range and fallback was not asked for.
    #[error("{0}")]
    Unsafe(Box<Unsafe>),
    /// An address of the restart order is not a node of the topology.
    #[error("node `{0}` of the inventory is not in the topology read from `nodetool status`")]
    UnknownNode(String),
    /// An address appears twice in the restart order.
    #[error("node `{0}` appears twice in the restart order")]
    DuplicateNode(String),
    /// A replica of some range is not a node of the topology: `describering` and
    /// `nodetool status` disagree (another address form, a node missing), and a replica
    /// the planner cannot place could be restarted unseen.
    #[error(
        "replica `{address}` of keyspace `{keyspace}` is not a node of `nodetool status`; \
         the ring and the node list disagree, so no batch can be proven safe"
    )]
    UnknownReplica {
        /// The keyspace whose ranges name it.
        keyspace: String,
        /// The replica's address as `describering` printed it.
        address: String,
    },
    /// `max_batch` is zero.
    #[error("`--max-batch` must be at least 1")]
    ZeroMaxBatch,
}

/// Splits `order` (every inventory address, in inventory order) into restart batches.
///
/// `Node` mode gives one batch per node. `Rack` mode gives one batch per rack (rack k of
/// every datacenter together with `dc_parallel`), split in order to `max_batch`, and
/// fails with the offending range unless `fallback`, which splits an unsafe rack with
/// the `auto` algorithm. `Auto` builds the largest batches it can prove safe. Every node
/// is in exactly one batch, and every batch of two or more nodes passes `check_batch`.
pub fn plan_batches(topology: &Topology, order: &[String], opts: &PlanOptions) -> Result<Vec<Batch>, PlanError> {
    let max = match opts.max_batch {
        Some(0) => return Err(PlanError::ZeroMaxBatch),
        Some(n) => n,
        None => usize::MAX,
    };
    let index = Index::new(topology);
    if let Some((keyspace, address)) = index.stranger {
        return Err(PlanError::UnknownReplica { keyspace: topology.keyspaces[keyspace].keyspace.clone(), address: address.to_owned() });
    }
    let mut seen = HashSet::new();
    let mut nodes = Vec::with_capacity(order.len());
    for address in order {
        let id = index.ids.get(address.as_str()).copied().ok_or_else(|| PlanError::UnknownNode(address.clone()))?;
        if !seen.insert(id) {
            return Err(PlanError::DuplicateNode(address.clone()));
        }
        nodes.push(id);
    }
    let planner = Planner { index, max, dc_parallel: opts.dc_parallel };
    match opts.mode {
        BatchMode::Node => Ok(nodes.iter().map(|&n| planner.batch(&[n], "")).collect()),
        BatchMode::Auto => Ok(planner.auto(&nodes).iter().map(|b| planner.batch(b, "")).collect()),
        BatchMode::Rack => planner.racks(&nodes, opts.fallback),
    }
}

/// The index and the options every mode shares.
struct Planner<'a> {
    index: Index<'a>,
    max: usize,
    dc_parallel: bool,
}

impl Planner<'_> {
    fn address(&self, node: usize) -> &str {
        self.placement(node).address.as_str()
    }

    fn placement(&self, node: usize) -> &super::Placement {
        // plan_batches only lets nodes with a placement in.
        self.index.placements[node].expect("BUG: planned node without placement")
    }

    /// First-fit batches of `nodes`; see the module comment.
    fn auto(&self, nodes: &[usize]) -> Vec<Vec<usize>> {
        struct Open<'p> {
            nodes: Vec<usize>,
            datacenter: &'p str,
            open: bool,
        }
        let position = self.positions(nodes);
        // Units: a rack (in `max`-sized pieces) that is safe on its own, else its nodes one by one.
        let mut units: Vec<Vec<usize>> = Vec::new();
        for (_, racks) in self.group_racks(nodes) {
            for (_, members) in racks {
                for chunk in members.chunks(self.max) {
                    if self.safe_together(chunk) {
                        units.push(chunk.to_vec());
                    } else {
                        units.extend(chunk.iter().map(|&n| vec![n]));
                    }
                }
            }
        }
        units.sort_by_key(|unit| position[unit[0]]);
        let mut batch_of: Vec<Option<usize>> = vec![None; self.index.placements.len()];
        let mut batches: Vec<Open> = Vec::new();
        for unit in units {
            let datacenter = self.placement(unit[0]).datacenter.as_str();
            let alone = unit.len() == 1 && self.index.alone_breaks(unit[0]).next().is_some();
            let fit = (!alone)
                .then(|| {
                    (0..batches.len()).find(|&i| {
                        let b = &batches[i];
                        b.open
                            && (self.dc_parallel || b.datacenter == datacenter)
                            && b.nodes.len() + unit.len() <= self.max
                            && self.try_join(&unit, i, &mut batch_of)
                    })
                })
                .flatten();
            match fit {
                Some(i) => batches[i].nodes.extend(&unit),
                None => {
                    for &n in &unit {
                        batch_of[n] = Some(batches.len());
                    }
                    batches.push(Open { nodes: unit, datacenter, open: !alone });
                }
            }
        }
        batches
            .into_iter()
            .map(|mut b| {
                b.nodes.sort_by_key(|&n| position[n]);
                b.nodes
            })
            .collect()
    }

    /// Puts `unit` into batch `i` node by node if every node fits; leaves it untouched otherwise.
    fn try_join(&self, unit: &[usize], i: usize, batch_of: &mut [Option<usize>]) -> bool {
        for (j, &n) in unit.iter().enumerate() {
            if !self.index.fits(n, |m| batch_of[m] == Some(i)) {
                for &m in &unit[..j] {
                    batch_of[m] = None;
                }
                return false;
            }
            batch_of[n] = Some(i);
        }
        true
    }

    /// Returns true when `nodes` may restart together.
    fn safe_together(&self, nodes: &[usize]) -> bool {
        if nodes.len() < 2 {
            return true;
        }
        let mut in_batch = vec![false; self.index.placements.len()];
        nodes.iter().all(|&n| {
            let fits = self.index.fits(n, |m| in_batch[m]);
            in_batch[n] = true;
            fits
        })
    }

    /// Position of every node in the caller's order (indexed by node id).
    fn positions(&self, nodes: &[usize]) -> Vec<usize> {
        let mut position = vec![usize::MAX; self.index.placements.len()];
        for (i, &n) in nodes.iter().enumerate() {
            position[n] = i;
        }
        position
    }

    /// Datacenters, and racks within each, in order of first appearance, nodes in order.
    fn group_racks(&self, nodes: &[usize]) -> Vec<(&str, Racks<'_>)> {
        let mut dcs: Vec<(&str, Racks)> = Vec::new();
        for &n in nodes {
            let p = self.placement(n);
            let d = match dcs.iter().position(|(dc, _)| *dc == p.datacenter) {
                Some(d) => d,
                None => {
                    dcs.push((&p.datacenter, Vec::new()));
                    dcs.len() - 1
                }
            };
            let racks = &mut dcs[d].1;
            match racks.iter_mut().find(|(rack, _)| *rack == p.rack) {
                Some((_, members)) => members.push(n),
                None => racks.push((&p.rack, vec![n])),
            }
        }
        dcs
    }

    /// Rack batches, checked, split or refused; see `plan_batches`.
    fn racks(&self, nodes: &[usize], fallback: bool) -> Result<Vec<Batch>, PlanError> {
        let dcs = self.group_racks(nodes);
        let position = self.positions(nodes);
        let mut units: Vec<(String, Vec<usize>)> = Vec::new();
        if self.dc_parallel {
            let most = dcs.iter().map(|(_, racks)| racks.len()).max().unwrap_or(0);
            for k in 0..most {
                let parts: Vec<_> = dcs.iter().filter_map(|(dc, racks)| Some((dc, racks.get(k)?))).collect();
                let label = parts.iter().map(|(dc, (rack, _))| format!("{dc}/{rack}")).collect::<Vec<_>>();
                let mut members: Vec<usize> = parts.iter().flat_map(|(_, (_, m))| m.iter().copied()).collect();
                // Batches list nodes in the caller's order, whatever their datacenter.
                members.sort_by_key(|&n| position[n]);
                units.push((format!("racks {}", label.join(" + ")), members));
            }
        } else {
            for (dc, racks) in &dcs {
                for (rack, members) in racks {
                    units.push((format!("rack {dc}/{rack}"), members.clone()));
                }
            }
        }
        let mut batches = Vec::new();
        for (label, members) in units {
            for chunk in members.chunks(self.max) {
                let addresses: Vec<String> = chunk.iter().map(|&n| self.address(n).to_owned()).collect();
                // A single restart is always allowed (the runbook's rule).
                let verdict = if chunk.len() == 1 { Ok(()) } else { check_batch(self.index.topology, &addresses) };
                match verdict {
                    Ok(()) => batches.push(self.batch(chunk, &format!("{label}: "))),
                    Err(unsafe_) if fallback => {
                        let prefix = format!(
                            "split from {label} (range ({}, {}] of `{}` has {} of its {} `{}` replicas there, {} allowed): ",
                            unsafe_.range.0,
                            unsafe_.range.1,
                            unsafe_.keyspace,
                            unsafe_.replicas_in_batch.len(),
                            unsafe_.rf,
                            unsafe_.datacenter,
                            unsafe_.allowed
                        );
                        batches.extend(self.auto(chunk).iter().map(|b| self.batch(b, &prefix)));
                    }
                    Err(unsafe_) => return Err(PlanError::Unsafe(Box::new(unsafe_))),
                }
            }
        }
        Ok(batches)
    }

    /// Makes the batch with its `why`, prefixed by `prefix`.
    fn batch(&self, nodes: &[usize], prefix: &str) -> Batch {
        Batch { nodes: nodes.iter().map(|&n| self.address(n).to_owned()).collect(), why: format!("{prefix}{}", self.why(nodes)) }
    }

    /// Names the members and the binding constraint (the one with the least slack).
    fn why(&self, nodes: &[usize]) -> String {
        let head = self.describe(nodes);
        let topology = self.index.topology;
        if let [n] = nodes {
            // (keyspace, datacenter) -> smallest and largest RF_dc among the ranges below quorum.
            let mut below: BTreeMap<(usize, &str), (usize, usize)> = BTreeMap::new();
            for c in self.index.alone_breaks(*n) {
                let rf = c.members.len();
                let span = below.entry((c.keyspace, c.datacenter.as_str())).or_insert((rf, rf));
                *span = (span.0.min(rf), span.1.max(rf));
            }
            let below: Vec<String> = below
                .into_iter()
                .map(|((k, dc), rf)| format!("`{}` (RF {} in `{dc}`)", topology.keyspaces[k].keyspace, span(rf)))
                .collect();
            let rule = format!("{head} alone: one node at a time is always allowed (the runbook's rule)");
            return if below.is_empty() {
                rule
            } else {
                format!("{rule}; note: a single restart already drops below LOCAL_QUORUM for {}", below.join(", "))
            };
        }
        let members: HashSet<usize> = nodes.iter().copied().collect();
        let touched: HashSet<usize> = nodes.iter().flat_map(|&n| self.index.by_node[n].iter().copied()).collect();
        // (keyspace, datacenter) -> (least slack, most in batch, rf range, allowed range)
        let mut groups: BTreeMap<(usize, &str), Tally> = BTreeMap::new();
        for c in touched {
            let constraint: &Constraint = &self.index.constraints[c];
            let present = constraint.members.iter().filter(|m| members.contains(m)).count();
            groups.entry((constraint.keyspace, constraint.datacenter.as_str())).or_insert_with(Tally::new).add(
                present,
                constraint.members.len(),
                constraint.allowed,
            );
        }
        let Some(((keyspace, datacenter), tally)) = groups.iter().min_by_key(|((k, dc), t)| (t.slack, *k, *dc)) else {
            return format!("{head}: no replicated keyspace has a replica on these nodes");
        };
        let ring = &topology.keyspaces[*keyspace];
        format!(
            "{head}: every range of `{}` ({}) has at most {} of its {} `{datacenter}` replicas here ({} allowed)",
            ring.keyspace,
            ring.replication_summary(),
            tally.most,
            span(tally.rf),
            span(tally.allowed),
        )
    }

    /// "node 10.0.0.1 (dc1/r1)", "4 nodes of dc1/r2", "6 nodes of dc1 (racks r1, r2)",
    /// "6 nodes across dc1, dc2".
    fn describe(&self, nodes: &[usize]) -> String {
        let placements: Vec<_> = nodes.iter().map(|&n| self.placement(n)).collect();
        let first = placements[0];
        if let [only] = placements.as_slice() {
            return format!("node {} ({}/{})", only.address, only.datacenter, only.rack);
        }
        let mut dcs: Vec<&str> = Vec::new();
        let mut racks: Vec<&str> = Vec::new();
        for p in &placements {
            if !dcs.contains(&p.datacenter.as_str()) {
                dcs.push(&p.datacenter);
            }
            if !racks.contains(&p.rack.as_str()) {
                racks.push(&p.rack);
            }
        }
        match (dcs.len(), racks.len()) {
            (1, 1) => format!("{} nodes of {}/{}", nodes.len(), first.datacenter, first.rack),
            (1, _) => format!("{} nodes of {} (racks {})", nodes.len(), first.datacenter, racks.join(", ")),
            _ => format!("{} nodes across {}", nodes.len(), dcs.join(", ")),
        }
    }
}

/// The racks of one datacenter, in order of first appearance, with their nodes in order.
type Racks<'a> = Vec<(&'a str, Vec<usize>)>;

/// What one (keyspace, datacenter) looks like inside a batch.
struct Tally {
    /// Least `allowed - present` over its ranges.
    slack: isize,
    /// Most replicas of one range in the batch.
    most: usize,
    /// Smallest and largest RF_dc.
    rf: (usize, usize),
    /// Smallest and largest allowance.
    allowed: (usize, usize),
}

impl Tally {
    fn new() -> Tally {
        Tally { slack: isize::MAX, most: 0, rf: (usize::MAX, 0), allowed: (usize::MAX, 0) }
    }

    fn add(&mut self, present: usize, rf: usize, allowed: usize) {
        self.slack = self.slack.min(allowed as isize - present as isize);
        self.most = self.most.max(present);
        self.rf = (self.rf.0.min(rf), self.rf.1.max(rf));
        self.allowed = (self.allowed.0.min(allowed), self.allowed.1.max(allowed));
    }
}

/// `3` or `2-3`.
fn span((low, high): (usize, usize)) -> String {
    if low == high { low.to_string() } else { format!("{low}-{high}") }
}
