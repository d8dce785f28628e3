//! Opening the journal: directory creation, migration on open, reopen idempotence, and
//! refusal of files it cannot use (newer schema, not a database, unusable directory).

use crate::support::journal::{migration_count, new_run, node_event, user_version};
use ringmaster::journal::{EventKind, Journal, JournalError};

#[test]
fn open_creates_parent_directories_and_migrates_to_the_latest_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state/ringmaster/journal.db");
    let journal = Journal::open(&path).expect("open");
    assert_eq!(journal.path(), Some(path.as_path()));
    assert!(path.is_file());
    assert!(migration_count() >= 1);
    assert_eq!(user_version(&path), migration_count());
}

#[test]
fn reopening_keeps_data_and_changes_no_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.db");
    let schema = |p: &std::path::Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(p).expect("raw open");
        let mut stmt = conn.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").expect("prepare");
        stmt.query_map([], |r| r.get(0)).expect("query").collect::<Result<_, _>>().expect("rows")
    };

    let (run, events) = {
        let journal = Journal::open(&path).expect("first open");
        let run = journal.create_run(&new_run("c1")).expect("create run");
        let first = journal.append(&run.id, &node_event("n1", "backup", EventKind::Enter, 0)).expect("append");
        let second = journal.append(&run.id, &node_event("n1", "backup", EventKind::Ok, 1)).expect("append");
        (run, vec![first, second])
    };
    let schema_before = schema(&path);
    let version_before = user_version(&path);

    let journal = Journal::open(&path).expect("reopen");
    assert_eq!(user_version(&path), version_before);
    assert_eq!(schema(&path), schema_before);
    assert_eq!(journal.run(&run.id.0).expect("lookup"), Some(run.clone()));
    assert_eq!(journal.events(&run.id).expect("events"), events);
    let third = journal.append(&run.id, &node_event("n2", "backup", EventKind::Enter, 2)).expect("append");
    assert_eq!(third.seq, 3, "numbering continues after reopen");
}

#[test]
fn journal_with_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).expect("create"));
    let newer = migration_count() + 7;
    rusqlite::Connection::open(&path).expect("raw open").pragma_update(None, "user_version", newer).expect("bump user_version");

    let err = Journal::open(&path).expect_err("newer schema must be refused");
    match &err {
        JournalError::TooNew { found, known, .. } => {
            assert_eq!(*found, newer);
            assert_eq!(*known, migration_count());
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&format!("`{}`", path.display())), "message names the file: {msg}");
    assert!(msg.contains(&format!("version {newer}")), "{msg}");
    assert_eq!(user_version(&path), newer, "a refused journal is not modified");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "this is not sqlite, just some text that is long enough to have a header\n".repeat(20)).expect("write");
    let err = Journal::open(&path).expect_err("not a database");
    let msg = err.to_string();
    assert!(msg.contains(&format!("`{}`", path.display())) && msg.contains("not a database"), "{msg}");
}

#[test]
fn a_parent_that_is_a_file_is_reported_as_a_directory_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").expect("write");
    let path = blocker.join("sub/journal.db");
    let err = Journal::open(&path).expect_err("cannot create directory");
    assert!(matches!(err, JournalError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("`{}`", path.display())), "{err}");
}

#[test]
fn in_memory_journal_has_no_path_and_works() {
    let journal = Journal::open_in_memory().expect("open");
    assert_eq!(journal.path(), None);
    let run = journal.create_run(&new_run("c1")).expect("create run");
    let ev = journal.append(&run.id, &node_event("n1", "edit", EventKind::Info, 0)).expect("append");
    assert_eq!(ev.seq, 1);
}
