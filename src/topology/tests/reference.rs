//! A small reference of how Cassandra places replicas, for tests only: SimpleStrategy
//! walks the ring clockwise taking distinct nodes, NetworkTopologyStrategy walks it per
//! datacenter preferring unseen racks and repeating a rack only when RF exceeds the rack
//! count (`NetworkTopologyStrategy.DatacenterEndpoints`). Shared by the unit tests and
//! `tests/it/topology_proptest.rs` (through `#[path]`); the including module must have
//! `Placement`, `Replica` and `TokenRange` in scope.

use super::{Placement, Replica, TokenRange};

/// A replication strategy as the reference knows it.
#[derive(Debug, Clone)]
pub enum Strategy {
    /// `SimpleStrategy {replication_factor=RF}`.
    Simple(usize),
    /// `NetworkTopologyStrategy {dc=RF, ...}`.
    Nts(Vec<(String, usize)>),
}

/// Token ranges of a ring: `tokens` are (token, index into `nodes`); each range
/// `(previous token, token]` gets the replicas the strategy places from its end token.
pub fn place(nodes: &[Placement], tokens: &[(i64, usize)], strategy: &Strategy) -> Vec<TokenRange> {
    let mut ring = tokens.to_vec();
    ring.sort();
    ring.dedup_by_key(|(t, _)| *t);
    (0..ring.len())
        .map(|i| {
            let start = ring[(i + ring.len() - 1) % ring.len()].0;
            // Distinct nodes clockwise from this range's end token.
            let mut seen = vec![false; nodes.len()];
            let mut walk: Vec<usize> = Vec::new();
            for step in 0..ring.len() {
                let n = ring[(i + step) % ring.len()].1;
                if !std::mem::replace(&mut seen[n], true) {
                    walk.push(n);
                }
                if walk.len() == nodes.len() {
                    break;
                }
            }
            let chosen = match strategy {
                Strategy::Simple(rf) => walk.iter().copied().take(*rf).collect(),
                Strategy::Nts(dcs) => nts(nodes, &walk, dcs),
            };
            TokenRange {
                start: start.to_string(),
                end: ring[i].0.to_string(),
                endpoints: chosen
                    .into_iter()
                    .map(|n: usize| Replica {
                        address: nodes[n].address.clone(),
                        datacenter: nodes[n].datacenter.clone(),
                        rack: nodes[n].rack.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn nts(nodes: &[Placement], walk: &[usize], dcs: &[(String, usize)]) -> Vec<usize> {
    let mut chosen = Vec::new();
    for (dc, rf) in dcs {
        let in_dc: Vec<usize> = walk.iter().copied().filter(|&n| nodes[n].datacenter == *dc).collect();
        let mut racks: Vec<&str> = in_dc.iter().map(|&n| nodes[n].rack.as_str()).collect();
        racks.sort();
        racks.dedup();
        let mut repeats = *rf as isize - racks.len() as isize;
        let mut seen: Vec<&str> = Vec::new();
        let mut taken = 0;
        for &n in &in_dc {
            if taken == *rf {
                break;
            }
            let rack = nodes[n].rack.as_str();
            if !seen.contains(&rack) {
                seen.push(rack);
            } else if repeats > 0 {
                repeats -= 1;
            } else {
                continue;
            }
            chosen.push(n);
            taken += 1;
        }
    }
    chosen
}

/// `count` nodes named `10.0.<dc>.<i>`, spread round-robin over `racks` racks per
/// datacenter, datacenters `dc1..`, inventory order interleaving racks (r1, r2, r3, r1, ...).
pub fn layout(datacenters: usize, racks: usize, per_dc: usize) -> Vec<Placement> {
    (0..datacenters)
        .flat_map(|d| {
            (0..per_dc).map(move |i| Placement {
                address: format!("10.0.{}.{}", d + 1, i + 1),
                datacenter: format!("dc{}", d + 1),
                rack: format!("r{}", i % racks + 1),
            })
        })
        .collect()
}

/// `per_node` pseudo-random tokens for every node (xorshift from `seed`), like
/// Cassandra's random vnode allocation: consecutive ring positions ignore racks.
pub fn random_tokens(nodes: usize, per_node: usize, seed: u64) -> Vec<(i64, usize)> {
    let mut state = seed | 1;
    (0..nodes * per_node)
        .map(|p| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state as i64, p % nodes)
        })
        .collect()
}
