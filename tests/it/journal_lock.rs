//! The cluster lock through the public API: refusal with holder details, re-acquire by
//! the same run (resume), release, and break.

use crate::support::journal::{holder, new_run};
use ringmaster::journal::{Journal, JournalError, RunId};

#[test]
fn lock_lifecycle_refuses_others_and_lets_the_holder_resume() {
    let journal = Journal::open_in_memory().expect("open");
    let a = journal.create_run(&new_run("c1")).expect("run a").id;
    let b = journal.create_run(&new_run("c1")).expect("run b").id;
    assert_eq!(journal.lock_holder("c1").expect("holder"), None);

    journal.acquire_lock("c1", &holder(&a, 100)).expect("a takes the lock");
    assert_eq!(journal.lock_holder("c1").expect("holder"), Some(holder(&a, 100)));

    let mut other = holder(&b, 200);
    other.host = "ops-2".to_owned();
    let err = journal.acquire_lock("c1", &other).expect_err("b is refused");
    match &err {
        JournalError::LockHeld { cluster, holder: h, .. } => {
            assert_eq!(cluster, "c1");
            assert_eq!(**h, holder(&a, 100));
        }
        other => panic!("expected LockHeld, got {other:?}"),
    }
    let msg = err.to_string();
    for part in [format!("`{a}`"), "pid 100".to_owned(), "`ops-1`".to_owned(), "`alice`".to_owned(), "2023-11-14T22:13:20Z".to_owned()] {
        assert!(msg.contains(&part), "LockHeld message lacks {part}: {msg}");
    }

    // Resume from a new process: same run, new pid.
    journal.acquire_lock("c1", &holder(&a, 101)).expect("a re-acquires");
    assert_eq!(journal.lock_holder("c1").expect("holder").map(|h| h.pid), Some(101));

    let err = journal.release_lock("c1", &b).expect_err("b cannot release a's lock");
    assert!(matches!(&err, JournalError::LockNotOwned { holder, .. } if holder.run_id == a), "{err:?}");
    assert!(journal.lock_holder("c1").expect("holder").is_some(), "a refused release changes nothing");

    journal.release_lock("c1", &a).expect("a releases");
    assert_eq!(journal.lock_holder("c1").expect("holder"), None);
    journal.release_lock("c1", &a).expect("releasing a free lock is a no-op");

    journal.acquire_lock("c1", &other).expect("b takes the free lock");
    assert_eq!(journal.break_lock("c1").expect("break"), Some(other));
    assert_eq!(journal.lock_holder("c1").expect("holder"), None);
    assert_eq!(journal.break_lock("c1").expect("break a free lock"), None);
}

#[test]
fn clusters_are_locked_independently() {
    let journal = Journal::open_in_memory().expect("open");
    let a = journal.create_run(&new_run("c1")).expect("run a").id;
    let b = journal.create_run(&new_run("c2")).expect("run b").id;
    journal.acquire_lock("c1", &holder(&a, 1)).expect("c1");
    journal.acquire_lock("c2", &holder(&b, 2)).expect("c2");
    assert_eq!(journal.break_lock("c1").expect("break c1").map(|h| h.run_id), Some(a));
    assert_eq!(journal.lock_holder("c2").expect("c2 holder").map(|h| h.run_id), Some(b));
}

#[test]
fn a_lock_for_a_run_the_journal_does_not_know_is_refused() {
    let journal = Journal::open_in_memory().expect("open");
    let ghost = RunId("not-a-run".to_owned());
    let err = journal.acquire_lock("c1", &holder(&ghost, 1)).expect_err("unknown run");
    assert!(matches!(err, JournalError::UnknownRun { .. }), "{err:?}");
    assert_eq!(journal.lock_holder("c1").expect("holder"), None);
}
