//! The journal in tests: sample runs, events and lock holders for the `journal_*` modules,
//! and the read-backs of a run's events (with a polling wait) for the rest.

use std::path::Path;
use std::time::{Duration, Instant};

use ringmaster::journal::{Event, EventKind, Journal, LockHolder, NewEvent, NewRun, RunId};
use serde_json::json;

/// Returns a run description for `cluster` with recognisable field values.
pub fn new_run(cluster: &str) -> NewRun {
    NewRun {
        cluster: cluster.to_owned(),
        operator: "alice".to_owned(),
        host: "ops-1".to_owned(),
        pid: 4242,
        command: "ringmaster run --inventory inv.toml".to_owned(),
        inventory_path: "/etc/ringmaster/inv.toml".to_owned(),
        inventory: json!({"cluster": cluster, "nodes": ["n1", "n2", "n3"]}),
        workflow: "[[pass]]\nname = \"optional\"\n".to_owned(),
    }
}

/// Returns a node event with `detail` `{"i": i}`.
pub fn node_event(node: &str, phase: &str, kind: EventKind, i: usize) -> NewEvent {
    NewEvent {
        node: Some(node.to_owned()),
        pass: Some("optional".to_owned()),
        phase: phase.to_owned(),
        kind,
        detail: json!({ "i": i }),
        reverts: None,
    }
}

/// Returns a lock holder for `run` with the given pid.
pub fn holder(run: &RunId, pid: u32) -> LockHolder {
    LockHolder {
        run_id: run.clone(),
        fingerprint: "sha256:abc".to_owned(),
        pid,
        host: "ops-1".to_owned(),
        user: "alice".to_owned(),
        acquired_at: 1_700_000_000_000,
        start_time: None,
    }
}

/// Returns the number of `migrations/*.sql` files, i.e. the schema version a fresh journal reaches.
pub fn migration_count() -> i64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let n = std::fs::read_dir(dir)
        .expect("migrations directory")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count();
    i64::try_from(n).expect("few migrations")
}

/// Returns `PRAGMA user_version` of the database file at `path`, read by a separate connection.
pub fn user_version(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("raw open");
    conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("user_version")
}

/// Returns the events of the newest run in `journal`.
pub fn events(journal: &Path) -> Vec<Event> {
    let j = Journal::open(journal).expect("open journal");
    let run = j.latest_run(None).expect("query").expect("a run");
    j.events(&run.id).expect("events")
}

/// Returns true when the events hold `kind` of `phase` for `node` in `pass`.
pub fn has(evs: &[Event], node: &str, pass: &str, phase: &str, kind: EventKind) -> bool {
    evs.iter().any(|e| e.node.as_deref() == Some(node) && e.pass.as_deref() == Some(pass) && e.phase == phase && e.kind == kind)
}

/// Polls the journal at `journal` (with a deadline) until `pred` holds for its newest run's
/// events. A journal that does not exist yet, or is being created, reads as no events.
pub fn wait_for(journal: &Path, what: &str, deadline: Duration, pred: impl Fn(&[Event]) -> bool) {
    let until = Instant::now() + deadline;
    loop {
        let evs = if journal.exists() { std::panic::catch_unwind(|| events(journal)).unwrap_or_default() } else { vec![] };
        if pred(&evs) {
            return;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
}
