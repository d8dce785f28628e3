//! `--batch node|rack|auto`: how many nodes `run` restarts together, and the plan of
//! batches (with why each is safe) that `run` journals and `plan` shows.
//!
//! `node` needs nothing from the cluster: one node per batch in inventory order, the
//! runbook's rule. `rack` and `auto` read the topology ([`crate::preflight::topology`])
//! and ask [`crate::topology::plan_batches`] for batches it can prove keep LOCAL_QUORUM
//! for every token range; a batch it cannot prove is refused with the range and replicas
//! that break it.

use std::collections::BTreeMap;

use crate::cli::error::{CommandError, ErrorKind};
use crate::history::{BatchesEvent, JournaledBatch};
use crate::inventory::Inventory;
use crate::run::Cluster;
use crate::topology::{BatchMode, PlanError, PlanOptions, Topology, plan_batches};

/// How many nodes restart together.
#[derive(Debug, Clone, clap::Args)]
pub struct BatchArgs {
    /// `node`: one node at a time (the runbook's rule); `rack`: one rack of one datacenter
    /// at a time; `auto`: the largest batches that replication proves safe
    #[arg(long, value_enum, default_value = "node")]
    pub batch: BatchMode,
    /// At most N nodes in a batch
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_batch: Option<u32>,
    /// Let one batch hold nodes of several datacenters (each DC's quorum is checked on its own)
    #[arg(long)]
    pub dc_parallel: bool,
    /// With `--batch rack`: split a rack that is not provably safe into smaller safe
    /// batches instead of refusing the run
    #[arg(long)]
    pub fallback: bool,
    /// Do not count this keyspace when proving batches safe (repeatable), e.g. `system_traces`
    #[arg(long = "ignore-keyspace", value_name = "KEYSPACE")]
    pub ignore_keyspaces: Vec<String>,
}

/// One planned batch, by node name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    pub nodes: Vec<String>,
    pub why: String,
}

/// The plan of a run: its mode, the topology it was proven on (none for `node`) and the batches.
#[derive(Debug, Clone)]
pub struct BatchPlan {
    pub mode: BatchMode,
    pub topology: Option<Topology>,
    pub batches: Vec<PlannedBatch>,
}

impl BatchPlan {
    /// The run-level event `run` journals: mode, options and batches by node name.
    pub fn event(&self, args: &BatchArgs) -> BatchesEvent {
        BatchesEvent {
            mode: self.mode.name().to_string(),
            max_batch: args.max_batch,
            dc_parallel: args.dc_parallel,
            fallback: args.fallback,
            ignored_keyspaces: args.ignore_keyspaces.clone(),
            batches: self.batches.iter().map(|b| JournaledBatch { nodes: b.nodes.clone(), why: b.why.clone() }).collect(),
        }
    }

    /// The plan as text: one line per batch and its reason.
    pub fn render(&self) -> String {
        let mut out = format!("  batches (`--batch {}`): {} per pass\n", self.mode.name(), self.batches.len());
        for (i, b) in self.batches.iter().enumerate() {
            out.push_str(&format!("    {:>3}. {}\n", i + 1, b.nodes.join(", ")));
            if !b.why.is_empty() {
                out.push_str(&format!("         {}\n", b.why));
            }
        }
        out
    }
}

/// Plans the batches: reads the topology through the nodes (connecting the cluster, once
/// for the whole command) unless `--batch node`.
pub fn plan(args: &BatchArgs, cluster: &mut Cluster<'_>) -> Result<BatchPlan, CommandError> {
    let inventory = cluster.inventory();
    if args.batch == BatchMode::Node {
        let batches = inventory.nodes.iter().map(|n| PlannedBatch { nodes: vec![n.name.clone()], why: String::new() }).collect();
        return Ok(BatchPlan { mode: BatchMode::Node, topology: None, batches });
    }
    let transports = cluster.all()?;
    let read = crate::preflight::topology::collect(inventory, &transports, &args.ignore_keyspaces, std::time::Duration::from_secs(60));
    let topology = cluster.runtime().block_on(read).map_err(|e| {
        CommandError::new(ErrorKind::Preflight, format!("cannot read the topology for `--batch {}`: {e}", args.batch.name()))
            .hinted("`--batch node` needs no topology")
    })?;
    let batches = plan_on(inventory, &topology, args)?;
    Ok(BatchPlan { mode: args.batch, topology: Some(topology), batches })
}

/// Plans the batches on a known topology (pure; `plan` and the tests share it).
pub fn plan_on(inventory: &Inventory, topology: &Topology, args: &BatchArgs) -> Result<Vec<PlannedBatch>, CommandError> {
    let names: BTreeMap<&str, &str> = inventory.nodes.iter().map(|n| (n.address.as_str(), n.name.as_str())).collect();
    let order: Vec<String> = inventory.nodes.iter().map(|n| n.address.clone()).collect();
    let options = PlanOptions {
        mode: args.batch,
        max_batch: args.max_batch.map(|n| n as usize),
        dc_parallel: args.dc_parallel,
        fallback: args.fallback,
    };
    let named = |addresses: &[String]| {
        addresses.iter().map(|a| names.get(a.as_str()).map_or_else(|| a.clone(), |n| format!("{n} ({a})"))).collect::<Vec<_>>().join(", ")
    };
    let batches = plan_batches(topology, &order, &options).map_err(|e| match e {
        PlanError::Unsafe(u) => CommandError::new(
            ErrorKind::Preflight,
            format!(
                "`--batch {}` is not provably safe: {u}; the batch: {}; the replicas: {}",
                args.batch.name(),
                named(&u.batch),
                named(&u.replicas_in_batch)
            ),
        )
        .hinted("`--batch auto` builds only batches it can prove safe")
        .hinted("`--fallback` splits an unsafe rack into safe batches; `--batch node` restarts one node at a time")
        .hinted("`--ignore-keyspace KS` leaves a keyspace out of the proof (its LOCAL_QUORUM may fail during the batch)"),
        other => CommandError::new(ErrorKind::Preflight, format!("cannot plan `--batch {}`: {other}", args.batch.name())),
    })?;
    Ok(batches
        .into_iter()
        .map(|b| PlannedBatch {
            nodes: b.nodes.iter().map(|a| names.get(a.as_str()).map_or_else(|| a.clone(), |n| n.to_string())).collect(),
            why: b.why,
        })
        .collect())
}
