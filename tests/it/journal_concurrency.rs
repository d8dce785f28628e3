//! Several writers sharing one journal file: threads with their own connections, real
//! child processes, a race for the cluster lock, and (ignored) a throughput measurement.
//!
//! The child-process test re-runs this test binary filtered to `child_appender` (by its
//! full name, `journal_concurrency::child_appender`), which does nothing unless the parent
//! set `RINGMASTER_TEST_CHILD_JOURNAL`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use crate::support::journal::{holder, migration_count, new_run, node_event, user_version};
use ringmaster::journal::{Event, EventKind, Journal, JournalError, NewEvent, RunId};
use serde_json::json;

const CHILD_JOURNAL: &str = "RINGMASTER_TEST_CHILD_JOURNAL";
const CHILD_RUN: &str = "RINGMASTER_TEST_CHILD_RUN";
const CHILD_WRITER: &str = "RINGMASTER_TEST_CHILD_WRITER";
const PER_WRITER: usize = 250;

fn tagged(writer: &str, i: usize) -> NewEvent {
    NewEvent { detail: json!({"writer": writer, "i": i}), ..node_event(writer, "edit", EventKind::Info, i) }
}

/// Appends `PER_WRITER` events tagged with `writer` and returns their seqs.
fn append_many(journal: &Journal, run: &RunId, writer: &str) -> Vec<i64> {
    (0..PER_WRITER).map(|i| journal.append(run, &tagged(writer, i)).expect("append").seq).collect()
}

/// Checks that seqs are exactly 1..=n and each writer's events appear in its own order.
fn assert_consistent(events: &[Event], writers: usize) {
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=i64::try_from(writers * PER_WRITER).expect("small")).collect();
    assert_eq!(seqs, expected, "seqs must be unique, consecutive and start at 1");
    let mut per_writer: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for e in events {
        let writer = e.detail["writer"].as_str().expect("writer tag").to_owned();
        per_writer.entry(writer).or_default().push(e.detail["i"].as_u64().expect("i"));
    }
    assert_eq!(per_writer.len(), writers);
    let in_order: Vec<u64> = (0..u64::try_from(PER_WRITER).expect("small")).collect();
    for (writer, order) in per_writer {
        assert_eq!(order, in_order, "writer {writer} lost or reordered events");
    }
}

fn fresh_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.db");
    (dir, path)
}

#[test]
fn simultaneous_opens_of_a_fresh_file_all_succeed_and_migrate_once() {
    let (_dir, path) = fresh_file();
    let barrier = Arc::new(Barrier::new(6));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (barrier, path) = (Arc::clone(&barrier), path.clone());
            thread::spawn(move || {
                barrier.wait();
                Journal::open(&path).map(drop)
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("every opener succeeds");
    }
    assert_eq!(user_version(&path), migration_count());
}

#[test]
fn threads_with_their_own_connections_get_unique_consecutive_seqs() {
    let (_dir, path) = fresh_file();
    let run = Journal::open(&path).expect("open").create_run(&new_run("c1")).expect("run").id;
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (barrier, path, run) = (Arc::clone(&barrier), path.clone(), run.clone());
            thread::spawn(move || {
                let journal = Journal::open(&path).expect("open per thread");
                barrier.wait();
                append_many(&journal, &run, &format!("t{t}"))
            })
        })
        .collect();
    for h in handles {
        let seqs = h.join().expect("thread");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "a writer's own seqs increase");
    }
    assert_consistent(&Journal::open(&path).expect("open").events(&run).expect("events"), 4);
}

#[test]
fn separate_processes_get_unique_consecutive_seqs() {
    let (_dir, path) = fresh_file();
    let journal = Journal::open(&path).expect("open");
    let run = journal.create_run(&new_run("c1")).expect("run").id;
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = ["p1", "p2"]
        .iter()
        .map(|writer| {
            Command::new(&exe)
                .args([child_appender_name().as_str(), "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                .env(CHILD_JOURNAL, &path)
                .env(CHILD_RUN, &run.0)
                .env(CHILD_WRITER, writer)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    append_many(&journal, &run, "parent");
    for child in children {
        let out = child.wait_with_output().expect("wait child");
        assert!(
            out.status.success(),
            "child appender failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_consistent(&journal.events(&run).expect("events"), 3);
}

/// The harness's name of `child_appender`: its module path without the crate's name, so the
/// `--exact` filter finds it wherever this module sits in the test binary.
fn child_appender_name() -> String {
    match module_path!().split_once("::") {
        Some((_crate, module)) => format!("{module}::child_appender"),
        None => "child_appender".to_owned(),
    }
}

/// Runs inside a child process started by `separate_processes_get_unique_consecutive_seqs`.
#[test]
#[ignore = "helper process for separate_processes_get_unique_consecutive_seqs"]
fn child_appender() {
    let (Some(path), Some(run), Some(writer)) =
        (std::env::var_os(CHILD_JOURNAL), std::env::var(CHILD_RUN).ok(), std::env::var(CHILD_WRITER).ok())
    else {
        eprintln!("child_appender: nothing to do outside its parent test");
        return;
    };
    let journal = Journal::open(Path::new(&path)).expect("child open");
    append_many(&journal, &RunId(run), &writer);
}

#[test]
fn exactly_one_of_several_racing_runs_gets_the_lock() {
    let (_dir, path) = fresh_file();
    let setup = Journal::open(&path).expect("open");
    let runs: Vec<RunId> = (0..4).map(|_| setup.create_run(&new_run("c1")).expect("run").id).collect();
    let barrier = Arc::new(Barrier::new(runs.len()));
    let handles: Vec<_> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let (barrier, path, run) = (Arc::clone(&barrier), path.clone(), run.clone());
            thread::spawn(move || {
                let journal = Journal::open(&path).expect("open per thread");
                barrier.wait();
                journal.acquire_lock("c1", &holder(&run, u32::try_from(i).expect("small")))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    let winner = setup.lock_holder("c1").expect("holder").expect("someone holds the lock").run_id;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for (run, result) in runs.iter().zip(&results) {
        match result {
            Ok(()) => assert_eq!(run, &winner),
            Err(JournalError::LockHeld { holder, .. }) => assert_eq!(holder.run_id, winner),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
}

/// Prints committed appends per second with `synchronous=FULL` on a real file.
///
/// Run: `cargo test --test it journal_concurrency::measure_committed_appends -- --ignored --nocapture`
#[test]
#[ignore = "measurement, not a check"]
fn measure_committed_appends_per_second() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir on the target disk");
    let journal = Journal::open(&dir.path().join("bench.db")).expect("open");
    let run = journal.create_run(&new_run("bench")).expect("run").id;
    let n = 2000;
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let _ = journal.append(&run, &node_event("n1", "edit", EventKind::Info, i)).expect("append");
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "{n} committed appends (synchronous=FULL, WAL) in {total:.2?}: {:.0} appends/s; latency median {:.3?}, p90 {:.3?}, p99 {:.3?}",
        n as f64 / total.as_secs_f64(),
        pct(50),
        pct(90),
        pct(99)
    );
}
