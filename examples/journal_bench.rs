//! Journal benchmark and fixture writer for `bench/b4_journal.py` (and `bench/b3_scale.py`):
//! everything goes through the real `ringmaster::journal` API, so each event is its own
//! `synchronous=FULL` WAL commit exactly as during a rollout.
//!
//! Events are never invented: they are copied from a template journal holding one real run
//! (a 3-node sandbox run made by the bench script), node by node, with the template node's
//! paths, address and position replaced by the target node's. Two subcommands:
//!
//! * `append --template T --journal J --events M` appends M such events to a fresh run and
//!   prints `{"events": M, "seconds": S, "events_per_sec": R}`.
//! * `fixture --template T --journal J --inventory INV [--cut K]` writes the journal of a
//!   two-pass run over every node of INV (its snapshot is the run's inventory, so
//!   `ringmaster resume` drives that cluster), complete except the last K events of the last
//!   node's last pass; `--cut 0` adds the run's `finished` event. Prints
//!   `{"run": ID, "events": N, "seconds": S}`.
//!
//! Run: `cargo run --example journal_bench -- append --template T --journal J --events 2000`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};
use ringmaster::inventory::{Inventory, Node};
use ringmaster::journal::{Event, Journal, NewEvent, NewRun, Run};
use serde_json::{Value, json};

/// Journal benchmark and fixture writer.
#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Append M realistic events to a fresh run and time the commits.
    Append {
        /// Journal holding one real run whose events are the templates.
        #[arg(long)]
        template: PathBuf,
        /// Journal to write (created if missing).
        #[arg(long)]
        journal: PathBuf,
        /// How many events to append.
        #[arg(long, default_value_t = 2000)]
        events: usize,
    },
    /// Write a whole two-pass run over every node of an inventory.
    Fixture {
        /// Journal holding one real run whose events are the templates.
        #[arg(long)]
        template: PathBuf,
        /// Journal to write (created if missing).
        #[arg(long)]
        journal: PathBuf,
        /// The inventory whose nodes the run covers (its snapshot goes into the run).
        #[arg(long)]
        inventory: PathBuf,
        /// Leave out this many events at the end of the last node's last pass.
        #[arg(long, default_value_t = 0)]
        cut: usize,
    },
}

/// The template run: its run row, its first node and that node's events per pass.
struct Template {
    run: Run,
    node: Node,
    started: Value,
    /// (pass, the first node's events of that pass in journal order).
    passes: Vec<(String, Vec<Event>)>,
}

fn load_template(path: &Path) -> Result<Template, String> {
    let journal = Journal::open(path).map_err(|e| e.to_string())?;
    let run =
        journal.latest_run(None).map_err(|e| e.to_string())?.ok_or_else(|| format!("no run in template journal `{}`", path.display()))?;
    let events = journal.events(&run.id).map_err(|e| e.to_string())?;
    let inventory = Inventory::from_snapshot(&run.inventory).map_err(|e| e.to_string())?;
    let node = inventory.nodes.first().cloned().ok_or("the template run has no node")?;
    let started = events
        .iter()
        .find(|e| e.node.is_none() && e.detail.get("event").and_then(Value::as_str) == Some("started"))
        .map(|e| e.detail.clone())
        .ok_or("the template run has no `started` event")?;
    let mut passes: Vec<(String, Vec<Event>)> = Vec::new();
    for e in events.iter().filter(|e| e.node.as_deref() == Some(node.name.as_str())) {
        let pass = e.pass.clone().unwrap_or_default();
        match passes.iter_mut().find(|(p, _)| *p == pass) {
            Some((_, list)) => list.push(e.clone()),
            None => passes.push((pass, vec![e.clone()])),
        }
    }
    if passes.is_empty() {
        return Err(format!("the template run has no event of node `{}`", node.name));
    }
    Ok(Template { run, node, started, passes })
}

/// Returns the template event `e` as it would read for `target`, `position` (0-based) of the
/// nodes `all`: its paths and commands, its position, and one `nodetool status` view per node
/// (as `await_un` journals them, so the detail grows with the cluster as in a real run).
fn retarget(t: &Template, e: &Event, target: &Node, position: usize, all: &[Node]) -> NewEvent {
    let mut text = e.detail.to_string();
    // Commands first: they contain the paths.
    for (from, to) in [
        (&t.node.restart_command, &target.restart_command),
        (&t.node.nodetool_command, &target.nodetool_command),
        (&t.node.config_path, &target.config_path),
        (&t.node.log_path, &target.log_path),
        (&t.node.ssl_dir, &target.ssl_dir),
    ] {
        let (from, to) = (serde_json::to_string(from).expect("BUG: str"), serde_json::to_string(to).expect("BUG: str"));
        // JSON-escaped, without the quotes, so commands with quotes inside still match.
        text = text.replace(&from[1..from.len() - 1], &to[1..to.len() - 1]);
    }
    let mut detail: Value = serde_json::from_str(&text).expect("BUG: replacing escaped strings keeps JSON valid");
    if e.phase == "pending" {
        detail["position"] = json!(position + 1);
        detail["of"] = json!(all.len());
    }
    if let Some(seen) = detail.get("views").and_then(Value::as_object).and_then(|v| v.values().next().cloned()) {
        detail["views"] = Value::Object(all.iter().map(|n| (n.name.clone(), seen.clone())).collect());
    }
    NewEvent { node: Some(target.name.clone()), pass: e.pass.clone(), phase: e.phase.clone(), kind: e.kind, detail, reverts: None }
}

fn new_run(journal: &Journal, t: &Template, inventory: &Inventory, inventory_path: &Path) -> Result<Run, String> {
    journal
        .create_run(&NewRun {
            cluster: inventory.cluster.clone(),
            operator: t.run.operator.clone(),
            host: t.run.host.clone(),
            pid: std::process::id(),
            command: format!("ringmaster run -i {} --yes", inventory_path.display()),
            inventory_path: inventory_path.display().to_string(),
            inventory: inventory.snapshot(),
            workflow: t.run.workflow.clone(),
        })
        .map_err(|e| e.to_string())
}

fn run_event(phase_kind: ringmaster::journal::EventKind, detail: Value) -> NewEvent {
    NewEvent { node: None, pass: None, phase: "run".into(), kind: phase_kind, detail, reverts: None }
}

fn append(template: &Path, path: &Path, count: usize) -> Result<Value, String> {
    let t = load_template(template)?;
    let inventory = Inventory::from_snapshot(&t.run.inventory).map_err(|e| e.to_string())?;
    let journal = Journal::open(path).map_err(|e| e.to_string())?;
    let run = new_run(&journal, &t, &inventory, Path::new(&t.run.inventory_path))?;
    // Node after node, pass after pass, the template's per-node sequence over and over.
    let nodes = &inventory.nodes;
    let all: Vec<(&Event, usize)> =
        t.passes.iter().flat_map(|(_, list)| (0..nodes.len()).flat_map(move |i| list.iter().map(move |e| (e, i)))).collect();
    let events: Vec<NewEvent> = (0..count)
        .map(|k| {
            let (e, i) = all[k % all.len()];
            retarget(&t, e, &nodes[i], i, nodes)
        })
        .collect();
    let started = Instant::now();
    for ev in &events {
        journal.append(&run.id, ev).map_err(|e| e.to_string())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({"events": count, "seconds": seconds, "events_per_sec": count as f64 / seconds}))
}

fn fixture(template: &Path, path: &Path, inventory_path: &Path, cut: usize) -> Result<Value, String> {
    let t = load_template(template)?;
    let inventory = Inventory::load(inventory_path).map_err(|e| e.to_string())?;
    let journal = Journal::open(path).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let run = new_run(&journal, &t, &inventory, inventory_path)?;
    let mut detail = t.started.clone();
    detail["nodes"] = json!(inventory.nodes.iter().map(|n| &n.name).collect::<Vec<_>>());
    let mut written = 0;
    let mut put = |ev: &NewEvent| -> Result<(), String> {
        written += 1;
        journal.append(&run.id, ev).map(|_| ()).map_err(|e| e.to_string())
    };
    put(&run_event(ringmaster::journal::EventKind::Enter, detail))?;
    let n = inventory.nodes.len();
    for (p, (_, list)) in t.passes.iter().enumerate() {
        for (i, node) in inventory.nodes.iter().enumerate() {
            let last = p + 1 == t.passes.len() && i + 1 == n;
            let keep = if last { list.len().saturating_sub(cut) } else { list.len() };
            for e in &list[..keep] {
                put(&retarget(&t, e, node, i, &inventory.nodes))?;
            }
        }
    }
    if cut == 0 {
        put(&run_event(ringmaster::journal::EventKind::Ok, json!({"event": "finished"})))?;
    }
    Ok(json!({"run": run.id.to_string(), "events": written, "seconds": started.elapsed().as_secs_f64()}))
}

fn main() {
    let args = Args::parse();
    let result = match args.command {
        Command::Append { template, journal, events } => append(&template, &journal, events),
        Command::Fixture { template, journal, inventory, cut } => fixture(&template, &journal, &inventory, cut),
    };
    match result {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
