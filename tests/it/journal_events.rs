//! Runs and events through the public API: numbering, round-trips, `reverts`, lookup by
//! id prefix, ordering, and the database-level append-only guarantee.

use crate::support::journal::{new_run, node_event};
use ringmaster::journal::{EventKind, Journal, JournalError, NewEvent, RunId};
use serde_json::json;

#[test]
fn append_numbers_each_run_separately_from_one_without_gaps() {
    let journal = Journal::open_in_memory().expect("open");
    let a = journal.create_run(&new_run("c1")).expect("run a");
    let b = journal.create_run(&new_run("c2")).expect("run b");
    for i in 0..5 {
        let ea = journal.append(&a.id, &node_event("n1", "edit", EventKind::Enter, i)).expect("append a");
        assert_eq!(ea.seq, i64::try_from(i).expect("small") + 1);
        if i % 2 == 0 {
            let eb = journal.append(&b.id, &node_event("n2", "edit", EventKind::Ok, i)).expect("append b");
            assert_eq!(eb.seq, i64::try_from(i / 2).expect("small") + 1);
        }
    }
    let seqs = |run: &RunId| journal.events(run).expect("events").iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&a.id), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(&b.id), vec![1, 2, 3]);
}

#[test]
fn appended_events_read_back_exactly_and_in_order() {
    let journal = Journal::open_in_memory().expect("open");
    let run = journal.create_run(&new_run("c1")).expect("run");
    let run_level = NewEvent {
        node: None,
        pass: None,
        phase: "lock".to_owned(),
        kind: EventKind::Info,
        detail: json!({"broken": {"pid": 7, "host": "h"}, "list": [1, 2.5, null, "x"]}),
        reverts: None,
    };
    let written = vec![
        journal.append(&run.id, &run_level).expect("append"),
        journal.append(&run.id, &node_event("n1", "restart", EventKind::Fail, 1)).expect("append"),
    ];
    assert_eq!(written[0].node, None);
    assert_eq!(written[0].detail, run_level.detail);
    assert_eq!(written[1].kind, EventKind::Fail);
    assert!(written[0].at > 1_600_000_000_000 && written[0].at <= written[1].at, "at is unix ms");
    assert_eq!(journal.events(&run.id).expect("events"), written);
}

#[test]
fn reverts_must_name_an_earlier_event_of_the_same_run() {
    let journal = Journal::open_in_memory().expect("open");
    let run = journal.create_run(&new_run("c1")).expect("run");
    let edit = journal.append(&run.id, &node_event("n1", "edit", EventKind::Ok, 0)).expect("append");
    let undo = |reverts| NewEvent { reverts: Some(reverts), ..node_event("n1", "rollback", EventKind::Ok, 1) };

    for bad in [0, 2, -1] {
        let err = journal.append(&run.id, &undo(bad)).expect_err("reverts out of range");
        assert!(matches!(&err, JournalError::InvalidReverts { reverts, last: 1, .. } if *reverts == bad), "{err:?}");
        assert!(err.to_string().contains(&format!("revert event {bad}")), "{err}");
    }
    let rollback = journal.append(&run.id, &undo(edit.seq)).expect("valid revert");
    assert_eq!((rollback.seq, rollback.reverts), (2, Some(1)));
    assert_eq!(journal.events(&run.id).expect("events").len(), 2, "refused appends wrote nothing");
}

#[test]
fn append_to_an_unknown_run_is_refused_naming_it() {
    let journal = Journal::open_in_memory().expect("open");
    let ghost = RunId("0190ffff-0000-7000-8000-000000000000".to_owned());
    let err = journal.append(&ghost, &node_event("n1", "edit", EventKind::Enter, 0)).expect_err("unknown run");
    assert!(matches!(err, JournalError::UnknownRun { ref run_id, .. } if *run_id == ghost.0), "{err:?}");
    assert!(err.to_string().contains("`0190ffff-0000-7000-8000-000000000000`"), "{err}");
}

#[test]
fn runs_are_found_by_full_id_or_unique_prefix_and_ambiguity_is_an_error() {
    let journal = Journal::open_in_memory().expect("open");
    let a = journal.create_run(&new_run("c1")).expect("run a");
    let b = journal.create_run(&new_run("c1")).expect("run b");
    let common = a.id.0.chars().zip(b.id.0.chars()).take_while(|(x, y)| x == y).count();
    assert!(common >= 1, "uuid v7 ids made together share their time prefix");

    assert_eq!(journal.run(&a.id.0).expect("full id"), Some(a.clone()));
    assert_eq!(journal.run(&b.id.0[..common + 1]).expect("unique prefix"), Some(b.clone()));
    assert_eq!(journal.run(&a.id.0[..common + 1].to_uppercase()).expect("case-insensitive"), Some(a.clone()));

    let err = journal.run(&a.id.0[..common]).expect_err("ambiguous prefix");
    match &err {
        JournalError::AmbiguousRunId { matches, .. } => {
            assert_eq!(matches, &vec![a.id.0.clone(), b.id.0.clone()])
        }
        other => panic!("expected AmbiguousRunId, got {other:?}"),
    }
    assert!(err.to_string().contains(&a.id.0) && err.to_string().contains(&b.id.0), "{err}");

    assert_eq!(journal.run("zzzz").expect("no match"), None);
    assert_eq!(journal.run("").expect("empty"), None);
    assert_eq!(journal.run("%").expect("LIKE wildcards are literal"), None);
}

#[test]
fn runs_list_newest_first_and_latest_run_filters_by_cluster() {
    let journal = Journal::open_in_memory().expect("open");
    assert_eq!(journal.latest_run(None).expect("empty"), None);
    let first = journal.create_run(&new_run("c1")).expect("run");
    let second = journal.create_run(&new_run("c2")).expect("run");
    let third = journal.create_run(&new_run("c1")).expect("run");

    let ids: Vec<RunId> = journal.runs().expect("runs").into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![third.id.clone(), second.id.clone(), first.id.clone()]);
    assert_eq!(journal.latest_run(None).expect("latest"), Some(third.clone()));
    assert_eq!(journal.latest_run(Some("c1")).expect("latest c1"), Some(third));
    assert_eq!(journal.latest_run(Some("c2")).expect("latest c2"), Some(second));
    assert_eq!(journal.latest_run(Some("c3")).expect("latest c3"), None);
}

#[test]
fn create_run_stores_every_field_and_a_v7_id() {
    let journal = Journal::open_in_memory().expect("open");
    let wanted = new_run("prod-eu");
    let run = journal.create_run(&wanted).expect("run");
    let id = uuid::Uuid::parse_str(&run.id.0).expect("uuid");
    assert_eq!(id.get_version_num(), 7);
    assert_eq!(run.id.0, id.hyphenated().to_string(), "lowercase hyphenated");
    assert_eq!(
        (&run.cluster, &run.operator, &run.host, run.pid, &run.command, &run.inventory_path, &run.inventory, &run.workflow),
        (
            &wanted.cluster,
            &wanted.operator,
            &wanted.host,
            wanted.pid,
            &wanted.command,
            &wanted.inventory_path,
            &wanted.inventory,
            &wanted.workflow
        )
    );
    assert_eq!(journal.run(&run.id.0).expect("read back"), Some(run));
}

#[test]
fn events_serialize_with_plain_run_id_and_lowercase_kind() {
    let journal = Journal::open_in_memory().expect("open");
    let run = journal.create_run(&new_run("c1")).expect("run");
    let ev = journal.append(&run.id, &node_event("n1", "await_un", EventKind::Enter, 3)).expect("append");
    let value = serde_json::to_value(&ev).expect("serialize");
    assert_eq!(value["run_id"], json!(run.id.0));
    assert_eq!(value["kind"], json!("enter"));
    assert_eq!(value["seq"], json!(1));
    assert_eq!(value["detail"], json!({"i": 3}));
    assert_eq!(value["reverts"], json!(null));
}

#[test]
fn the_database_itself_refuses_to_change_or_remove_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.db");
    let journal = Journal::open(&path).expect("open");
    let run = journal.create_run(&new_run("c1")).expect("run");
    let before = vec![
        journal.append(&run.id, &node_event("n1", "edit", EventKind::Enter, 0)).expect("append"),
        journal.append(&run.id, &node_event("n1", "edit", EventKind::Ok, 1)).expect("append"),
    ];

    // A second, raw connection: the guarantee must hold for any client, not just ours.
    let raw = rusqlite::Connection::open(&path).expect("raw open");
    let attempts = [
        ("UPDATE events SET phase = 'forged' WHERE seq = 1", "append-only"),
        ("DELETE FROM events WHERE seq = 2", "append-only"),
        ("DELETE FROM events", "append-only"),
        ("UPDATE runs SET operator = 'mallory'", "immutable"),
        ("DELETE FROM runs", "immutable"),
    ];
    for (sql, why) in attempts {
        let err = raw.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains(why), "`{sql}` refused for the wrong reason: {err}");
    }
    assert_eq!(journal.events(&run.id).expect("events"), before);
    assert_eq!(journal.run(&run.id.0).expect("run"), Some(run));
}
