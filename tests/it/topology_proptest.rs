//! Property tests of the batch planner on random topologies: 1-3 datacenters, 1-4 racks,
//! 3-40 nodes with 1-4 tokens, keyspaces of RF 1-5 placed like SimpleStrategy and
//! NetworkTopologyStrategy (reference placement shared with the unit tests), keyspaces with
//! arbitrary random replica sets, and local keyspaces. For every mode: no batch of two or
//! more nodes takes more replicas of any range than a brute-force count allows, every
//! node is in exactly one batch, batches keep the caller's order, and `rack` batches are
//! racks. `check_batch` agrees with the brute-force count on random subsets.

#[allow(dead_code)] // shared with the unit tests, which use the helpers this module does not
#[path = "../../src/topology/tests/reference.rs"]
mod reference;

use proptest::prelude::*;
use reference::{Strategy as Placing, place};
use ringmaster::cassandra::ring::{Replica, TokenRange};
use ringmaster::topology::{Batch, BatchMode, KeyspaceRing, Placement, PlanError, PlanOptions, Topology, check_batch, plan_batches};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Deterministic generator for the parts proptest does not need to shrink.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The shape proptest draws; `build` turns it into a topology.
#[derive(Debug, Clone)]
struct Shape {
    datacenters: usize,
    racks: usize,
    nodes: usize,
    tokens: usize,
    keyspaces: Vec<(u8, usize)>,
    seed: u64,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        1usize..=3,
        1usize..=4,
        3usize..=40,
        1usize..=4,
        // RF 3-5 mostly: RF 1-2 forbids every batch, which tests little beyond singletons.
        prop::collection::vec((0u8..4, prop_oneof![4 => 3usize..=5, 1 => 1usize..=2]), 1..=4),
        any::<u64>(),
    )
        .prop_map(|(datacenters, racks, nodes, tokens, keyspaces, seed)| Shape { datacenters, racks, nodes, tokens, keyspaces, seed })
}

fn build(shape: &Shape) -> Topology {
    let mut rng = Rng(shape.seed | 1);
    let nodes: Vec<Placement> = (0..shape.nodes)
        .map(|i| Placement {
            address: format!("10.{}.0.{}", i / 200, i % 200 + 1),
            datacenter: format!("dc{}", rng.below(shape.datacenters) + 1),
            rack: format!("r{}", rng.below(shape.racks) + 1),
        })
        .collect();
    let tokens: Vec<(i64, usize)> = (0..shape.nodes * shape.tokens).map(|p| (rng.next() as i64, p % shape.nodes)).collect();
    let dcs: BTreeSet<&str> = nodes.iter().map(|p| p.datacenter.as_str()).collect();
    let keyspaces = shape
        .keyspaces
        .iter()
        .enumerate()
        .map(|(k, &(kind, rf))| {
            let name = format!("ks{k}");
            let (class, options, ranges) = match kind {
                0 => {
                    let ranges = place(&nodes, &tokens, &Placing::Simple(rf));
                    ("SimpleStrategy", BTreeMap::from([("replication_factor".into(), rf.to_string())]), ranges)
                }
                1 => {
                    // Each datacenter RF `rf` or one less (at least 1).
                    let per_dc: Vec<(String, usize)> = dcs.iter().map(|dc| (dc.to_string(), (rf - rng.below(2)).max(1))).collect();
                    let options = per_dc.iter().map(|(d, r)| (d.clone(), r.to_string())).collect();
                    ("NetworkTopologyStrategy", options, place(&nodes, &tokens, &Placing::Nts(per_dc)))
                }
                2 => {
                    // Arbitrary replica sets of rf or rf-1 distinct nodes, ignoring racks and DCs.
                    let ranges =
                        place(&nodes, &tokens, &Placing::Simple(1)).into_iter().map(|r| random_replicas(r, &nodes, rf, &mut rng)).collect();
                    ("CustomStrategy", BTreeMap::new(), ranges)
                }
                _ => ("LocalStrategy", BTreeMap::new(), place(&nodes, &tokens, &Placing::Simple(1))),
            };
            KeyspaceRing { keyspace: name, class: class.into(), options, ranges }
        })
        .collect();
    Topology { nodes, keyspaces }
}

fn random_replicas(range: TokenRange, nodes: &[Placement], rf: usize, rng: &mut Rng) -> TokenRange {
    let want = (rf - rng.below(2)).clamp(1, nodes.len());
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < want {
        let n = rng.below(nodes.len());
        if !picked.contains(&n) {
            picked.push(n);
        }
    }
    TokenRange {
        endpoints: picked
            .into_iter()
            .map(|n| Replica { address: nodes[n].address.clone(), datacenter: nodes[n].datacenter.clone(), rack: nodes[n].rack.clone() })
            .collect(),
        ..range
    }
}

/// Brute force, written from the rule rather than from `check_batch`: a batch is unsafe
/// when some range of a replicated keyspace keeps fewer than LOCAL_QUORUM live replicas
/// in some datacenter. Returns (keyspace, range end, datacenter) of every violation.
fn violations(topology: &Topology, batch: &[String]) -> Vec<(String, String, String)> {
    let local = ["LocalStrategy", "EverywhereStrategy", "MetaStrategy"];
    let mut found = Vec::new();
    for ks in topology.keyspaces.iter().filter(|k| !local.contains(&k.class.as_str())) {
        for range in &ks.ranges {
            let mut total: HashMap<&str, usize> = HashMap::new();
            let mut down: HashMap<&str, usize> = HashMap::new();
            for e in &range.endpoints {
                *total.entry(&e.datacenter).or_default() += 1;
                if batch.contains(&e.address) {
                    *down.entry(&e.datacenter).or_default() += 1;
                }
            }
            for (dc, rf) in total {
                let live = rf - down.get(dc).copied().unwrap_or(0);
                if live < rf / 2 + 1 {
                    found.push((ks.keyspace.clone(), range.end.clone(), dc.to_owned()));
                }
            }
        }
    }
    found
}

fn modes() -> impl Strategy<Value = PlanOptions> {
    (
        prop_oneof![Just(BatchMode::Node), Just(BatchMode::Rack), Just(BatchMode::Auto)],
        prop::option::of(1usize..=6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mode, max_batch, dc_parallel, fallback)| PlanOptions { mode, max_batch, dc_parallel, fallback })
}

fn place_of<'t>(topology: &'t Topology, address: &str) -> (&'t str, &'t str) {
    let p = topology.placement(address).unwrap();
    (p.datacenter.as_str(), p.rack.as_str())
}

/// Every property that holds for every mode on an Ok plan.
fn check_plan(topology: &Topology, order: &[String], opts: &PlanOptions, batches: &[Batch]) {
    let position: HashMap<&str, usize> = order.iter().enumerate().map(|(i, a)| (a.as_str(), i)).collect();
    let mut seen: Vec<&str> = batches.iter().flat_map(|b| b.nodes.iter().map(String::as_str)).collect();
    seen.sort();
    let mut all: Vec<&str> = order.iter().map(String::as_str).collect();
    all.sort();
    assert_eq!(seen, all, "every node in exactly one batch");
    for batch in batches {
        assert!(!batch.nodes.is_empty());
        assert!(!batch.why.is_empty());
        assert!(batch.nodes.windows(2).all(|w| position[w[0].as_str()] < position[w[1].as_str()]), "caller's order: {batch:?}");
        if let Some(max) = opts.max_batch {
            assert!(batch.nodes.len() <= max || opts.mode == BatchMode::Node);
        }
        if batch.nodes.len() > 1 {
            let broken = violations(topology, &batch.nodes);
            assert!(broken.is_empty(), "batch {batch:?} breaks {broken:?}");
        }
        let dcs: HashSet<&str> = batch.nodes.iter().map(|a| place_of(topology, a).0).collect();
        if !opts.dc_parallel {
            assert_eq!(dcs.len(), 1, "one datacenter per batch: {batch:?}");
        }
    }
    match opts.mode {
        BatchMode::Node => {
            let singles: Vec<Vec<String>> = order.iter().map(|a| vec![a.clone()]).collect();
            assert_eq!(batches.iter().map(|b| b.nodes.clone()).collect::<Vec<_>>(), singles);
        }
        BatchMode::Rack => {
            // Each batch holds at most one rack per datacenter...
            for batch in batches {
                let mut rack_of_dc: HashMap<&str, &str> = HashMap::new();
                for a in &batch.nodes {
                    let (dc, rack) = place_of(topology, a);
                    assert_eq!(*rack_of_dc.entry(dc).or_insert(rack), rack, "{batch:?}");
                }
            }
            // ...and without splitting, the batches are exactly the racks.
            if !opts.dc_parallel && opts.max_batch.is_none() && !opts.fallback {
                let mut racks: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
                for a in order {
                    racks.entry(place_of(topology, a)).or_default().insert(a);
                }
                let got: BTreeSet<BTreeSet<&str>> = batches.iter().map(|b| b.nodes.iter().map(String::as_str).collect()).collect();
                assert_eq!(got, racks.into_values().collect::<BTreeSet<_>>());
            }
        }
        BatchMode::Auto => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn planned_batches_never_take_more_replicas_than_allowed(
        shape in shape(),
        opts in modes(),
        shuffle in any::<u64>(),
    ) {
        let topology = build(&shape);
        let mut order: Vec<String> = topology.nodes.iter().map(|p| p.address.clone()).collect();
        let mut rng = Rng(shuffle | 1);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        match plan_batches(&topology, &order, &opts) {
            Ok(batches) => check_plan(&topology, &order, &opts, &batches),
            Err(PlanError::Unsafe(u)) => {
                // Only a rack batch may be refused, and only when it really is unsafe.
                prop_assert_eq!(opts.mode, BatchMode::Rack);
                prop_assert!(!opts.fallback);
                prop_assert!(u.batch.len() > 1);
                prop_assert!(u.replicas_in_batch.len() > u.allowed);
                prop_assert!(!violations(&topology, &u.batch).is_empty());
                let racks: HashSet<(&str, &str)> = u.batch.iter().map(|a| place_of(&topology, a)).collect();
                let dcs: HashSet<&str> = racks.iter().map(|(d, _)| *d).collect();
                prop_assert_eq!(racks.len(), dcs.len());
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }

    #[test]
    fn check_batch_agrees_with_brute_force(shape in shape(), pick in any::<u64>()) {
        let topology = build(&shape);
        let mut rng = Rng(pick | 1);
        for _ in 0..8 {
            let batch: Vec<String> = topology
                .nodes
                .iter()
                .filter(|_| rng.below(4) == 0)
                .map(|p| p.address.clone())
                .collect();
            let broken = violations(&topology, &batch);
            match check_batch(&topology, &batch) {
                Ok(()) => prop_assert!(broken.is_empty(), "missed {:?}", broken),
                Err(u) => {
                    prop_assert!(broken.contains(&(u.keyspace.clone(), u.range.1.clone(), u.datacenter.clone())));
                    prop_assert!(u.replicas_in_batch.iter().all(|a| batch.contains(a)));
                    prop_assert_eq!(u.replicas_in_batch.len() > u.allowed, true);
                }
            }
        }
    }
}
