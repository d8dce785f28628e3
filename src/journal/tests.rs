//! Unit tests that need the journal's private connection: raw SQL against the schema's
//! CHECK constraints, and the connection-level pragmas (which another connection
//! cannot see). Behaviour through the public API is tested in `tests/it/journal_*.rs`.

use std::ffi::OsString;

use serde_json::json;

use super::*;

fn journal_with_run() -> (Journal, Run) {
    let journal = Journal::open_in_memory().expect("in-memory journal");
    let run = journal
        .create_run(&NewRun {
            cluster: "c1".into(),
            operator: "alice".into(),
            host: "ops1".into(),
            pid: 42,
            command: "ringmaster run".into(),
            inventory_path: "inv.toml".into(),
            inventory: json!({"nodes": []}),
            workflow: "[[pass]]".into(),
        })
        .expect("create run");
    (journal, run)
}

/// Inserts one event row directly, bypassing `append`, with the given kind and detail text.
fn raw_insert(journal: &Journal, run: &RunId, seq: i64, kind: &str, detail: &str) -> rusqlite::Result<usize> {
    journal.conn().execute(
        "INSERT INTO events (run_id, seq, at, phase, kind, detail) VALUES (?1, ?2, 0, 'edit', ?3, ?4)",
        params![run.0, seq, kind, detail],
    )
}

fn is_constraint_violation(err: &rusqlite::Error) -> bool {
    err.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
}

#[test]
fn detail_check_rejects_text_that_is_not_json() {
    let (journal, run) = journal_with_run();
    raw_insert(&journal, &run.id, 1, "ok", r#"{"a":1}"#).expect("valid JSON is accepted");
    let err = raw_insert(&journal, &run.id, 2, "ok", "{not json").expect_err("bad JSON must be refused");
    assert!(is_constraint_violation(&err), "{err}");
    assert_eq!(journal.events(&run.id).expect("events").len(), 1);
}

#[test]
fn kind_check_rejects_unknown_kinds() {
    let (journal, run) = journal_with_run();
    let err = raw_insert(&journal, &run.id, 1, "done", "{}").expect_err("unknown kind must be refused");
    assert!(is_constraint_violation(&err), "{err}");
}

#[test]
fn inventory_check_rejects_text_that_is_not_json() {
    let (journal, _) = journal_with_run();
    let err = journal
        .conn()
        .execute(
            "INSERT INTO runs (id, cluster, started_at, operator, host, pid, command, inventory_path, inventory, workflow)
             VALUES ('x', 'c', 0, 'o', 'h', 1, 'cmd', 'p', 'nope', 'w')",
            [],
        )
        .expect_err("bad inventory JSON must be refused");
    assert!(is_constraint_violation(&err), "{err}");
}

#[test]
fn events_must_belong_to_an_existing_run() {
    let (journal, _) = journal_with_run();
    let err = raw_insert(&journal, &RunId("no-such-run".into()), 1, "ok", "{}").expect_err("foreign key");
    assert!(is_constraint_violation(&err), "{err}");
}

#[test]
fn file_journal_uses_wal_full_sync_foreign_keys_and_busy_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = Journal::open(&dir.path().join("j.db")).expect("open");
    let conn = journal.conn();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).expect("journal_mode");
    assert_eq!(mode, "wal");
    // synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
    let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).expect("synchronous");
    assert_eq!(sync, 2);
    let fk: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).expect("foreign_keys");
    assert_eq!(fk, 1);
    let busy: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0)).expect("busy_timeout");
    assert_eq!(busy, 5000);
}

#[test]
fn default_path_prefers_env_then_xdg_then_home() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    };
    let home = Some(PathBuf::from("/home/op"));
    assert_eq!(path_from_env(env(&[("RINGMASTER_JOURNAL", "/j.db"), ("XDG_STATE_HOME", "/s")]), home.clone()), PathBuf::from("/j.db"));
    assert_eq!(
        path_from_env(env(&[("RINGMASTER_JOURNAL", ""), ("XDG_STATE_HOME", "/s")]), home.clone()),
        PathBuf::from("/s/ringmaster/journal.db")
    );
    assert_eq!(
        path_from_env(env(&[("XDG_STATE_HOME", "relative")]), home.clone()),
        PathBuf::from("/home/op/.local/state/ringmaster/journal.db")
    );
    assert_eq!(path_from_env(env(&[]), home), PathBuf::from("/home/op/.local/state/ringmaster/journal.db"));
    assert_eq!(path_from_env(env(&[]), None), PathBuf::from("ringmaster-journal.db"));
}

#[test]
fn event_kind_round_trips_through_text_and_serde() {
    for kind in [EventKind::Enter, EventKind::Ok, EventKind::Fail, EventKind::Info] {
        assert_eq!(kind.to_string().parse::<EventKind>(), Ok(kind));
        assert_eq!(serde_json::to_value(kind).expect("serialize"), json!(kind.as_str()));
    }
    let err = "Enter".parse::<EventKind>().expect_err("kinds are lowercase");
    assert!(err.to_string().contains("`Enter`"), "{err}");
}

#[test]
fn unix_ms_formats_as_rfc3339_utc() {
    assert_eq!(format_unix_ms(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_unix_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    assert!(format_unix_ms(i64::MAX).contains("ms after the unix epoch"));
}

#[test]
fn journal_can_be_shared_between_threads() {
    // The driver shares one `Journal` (in an `Arc`) among the tasks of several nodes.
    fn shareable<T: Send + Sync>() {}
    shareable::<Journal>();
    let journal = std::sync::Arc::new(journal_with_run());
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let shared = std::sync::Arc::clone(&journal);
            std::thread::spawn(move || {
                let (j, run) = &*shared;
                (0..10)
                    .map(|i| {
                        j.append(
                            &run.id,
                            &NewEvent {
                                node: Some(format!("n{t}")),
                                pass: None,
                                phase: "edit".into(),
                                kind: EventKind::Info,
                                detail: json!(i),
                                reverts: None,
                            },
                        )
                        .expect("append")
                        .seq
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seqs: Vec<i64> = handles.into_iter().flat_map(|h| h.join().expect("thread")).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}
