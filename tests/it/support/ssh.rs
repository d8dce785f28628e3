//! Shared helpers of the `ssh_*` integration tests: finding the sshd testbed (`bin/testbed
//! up`), building targets for its `node1..nodeN` aliases, and watching local processes
//! (the testbed runs on loopback, so the "remote" processes are visible in /proc).
//!
//! The test bed is one sshd for the whole test binary, so its users take turns at it
//! ([`Turn`]): the tests of one module may share it, as they did when each module was its
//! own test binary (binaries run one after another); tests of different modules never
//! overlap, and a test that stops sshd or scans every process takes it alone.

use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ringmaster::transport::ssh::{Ssh, SshTarget};

/// Returns the testbed's ssh_config from `RINGMASTER_TESTBED` with a turn at it shared with
/// the calling module's other tests, or `None` after printing why the test is skipped. Under
/// `CI` a missing testbed is a failure, not a skip.
#[track_caller]
pub fn testbed(test: &str) -> Option<(PathBuf, Turn)> {
    let module = Location::caller().file();
    testbed_config(test).map(|config| (config, TESTBED.take(Holder::Module(module))))
}

/// Like [`testbed`], with the test bed to this test alone (no other test uses it meanwhile).
pub fn testbed_alone(test: &str) -> Option<(PathBuf, Turn)> {
    testbed_config(test).map(|config| (config, TESTBED.take(Holder::Alone)))
}

/// A turn at the test bed shared with the calling module's other tests, for a test that
/// finds the test bed itself.
#[track_caller]
pub fn turn() -> Turn {
    TESTBED.take(Holder::Module(Location::caller().file()))
}

fn testbed_config(test: &str) -> Option<PathBuf> {
    match std::env::var_os("RINGMASTER_TESTBED") {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "RINGMASTER_TESTBED={} is not a file; run `bin/testbed up`", path.display());
            Some(path)
        }
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but RINGMASTER_TESTBED is not: run `bin/testbed up` and export its last line")
        }
        None => {
            skip(test, "RINGMASTER_TESTBED is unset (run `bin/testbed up` and export its last line)");
            None
        }
    }
}

/// Prints why `test` is skipped straight to stderr: the test harness captures `eprintln!` of
/// passing tests, and a skip must stay visible.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipping {test}: {why}");
}

/// Returns a target for the testbed alias `node` (e.g. `node1`) with default settings.
pub fn target(config: &Path, node: &str) -> SshTarget {
    let mut t = SshTarget::new(node, node);
    t.ssh_config = Some(config.to_path_buf());
    t
}

/// Connects to `node` of the testbed, failing the test with the transport's message.
pub async fn connect(config: &Path, node: &str) -> Ssh {
    match Ssh::connect(&target(config, node)).await {
        Ok(ssh) => ssh,
        Err(e) => panic!("connect to {node}: {e}"),
    }
}

/// The testbed's state directory (where `ssh_config` lives).
pub fn state_dir(config: &Path) -> PathBuf {
    config.parent().expect("ssh_config has a parent").to_path_buf()
}

/// Runs `bin/testbed <args>` against the testbed that wrote `config`, failing on error.
pub fn testbed_cmd(config: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bin/testbed");
    let out =
        std::process::Command::new(script).args(args).env("RINGMASTER_TESTBED_DIR", state_dir(config)).output().expect("run bin/testbed");
    assert!(out.status.success(), "bin/testbed {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Returns the pids whose command line contains `needle` (arguments joined by NUL).
pub fn pids_with_cmdline(needle: &[u8]) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).map(|c| c.windows(needle.len()).any(|w| w == needle)).unwrap_or(false))
        .collect()
}

/// Polls `cond` every 20 ms until it holds or `limit` passes; returns whether it held.
pub async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // poll interval until the deadline
    }
}

/// Content that exercises quoting and binary safety: quotes, newlines, NULs, every byte.
pub fn nasty_bytes() -> Vec<u8> {
    let mut v = b"it's \"quoted\" $HOME `id` \\ \n\r\n'\n".to_vec();
    v.extend(0u8..=255);
    v.extend_from_slice(b"\0\0 end without newline");
    v
}

/// Who uses the test bed: the tests of one module (named by its file), or one test alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Holder {
    Module(&'static str),
    Alone,
}

/// Turns at one test bed: its current holder and how many of the holder's tests hold a turn.
struct Gate {
    holder: Mutex<Option<(Holder, usize)>>,
    released: Condvar,
    /// Tests waiting for a turn (for the gate's own test).
    waiting: Mutex<usize>,
}

impl Gate {
    const fn new() -> Gate {
        Gate { holder: Mutex::new(None), released: Condvar::new(), waiting: Mutex::new(0) }
    }

    /// Waits (with a deadline) until the test bed is free or held by `who`'s own module.
    fn take(&'static self, who: Holder) -> Turn {
        let deadline = Instant::now() + Duration::from_secs(1800);
        let mut holder = self.holder.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &mut *holder {
                None => {
                    *holder = Some((who, 1));
                    return Turn(self);
                }
                Some((current, count)) if *current == who && who != Holder::Alone => {
                    *count += 1;
                    return Turn(self);
                }
                Some((current, _)) => {
                    let now = Instant::now();
                    assert!(now < deadline, "waited 30 minutes for the shared test bed, held by {current:?}");
                    *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                    holder = self.released.wait_timeout(holder, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
                    *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
                }
            }
        }
    }
}

/// The one SSH test bed of this test binary.
static TESTBED: Gate = Gate::new();

/// A turn at the shared test bed, held until dropped (the end of the test).
#[must_use = "the turn ends when it is dropped"]
pub struct Turn(&'static Gate);

impl Drop for Turn {
    fn drop(&mut self) {
        let mut holder = self.0.holder.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *holder {
            Some((_, count)) if *count > 1 => *count -= 1,
            _ => *holder = None,
        }
        self.0.released.notify_all();
    }
}

#[test]
fn house_21_testbed_turns_share_within_a_module_and_keep_modules_apart() {
    static GATE: Gate = Gate::new();
    let waiting = || *GATE.waiting.lock().unwrap();
    // Waits (polling, with a deadline) until `n` tests wait at the gate.
    let until_waiting = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while waiting() != n {
            assert!(Instant::now() < deadline, "expected {n} waiting, have {}", waiting());
            std::thread::sleep(Duration::from_millis(5)); // poll interval until the deadline
        }
    };
    let first = GATE.take(Holder::Module("a.rs"));
    let second = GATE.take(Holder::Module("a.rs")); // the same module shares at once
    let (tx, rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn({
        let tx = tx.clone();
        move || {
            let turn = GATE.take(Holder::Module("b.rs"));
            tx.send("b").unwrap();
            drop(turn);
        }
    });
    until_waiting(1);
    drop(first);
    assert!(rx.try_recv().is_err(), "b.rs got a turn while a.rs still held one");
    drop(second);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("b"), "b.rs gets its turn once a.rs is done");
    other.join().unwrap();

    let alone = GATE.take(Holder::Alone);
    let shared = std::thread::spawn(move || {
        let turn = GATE.take(Holder::Module("a.rs"));
        tx.send("a").unwrap();
        drop(turn);
    });
    until_waiting(1);
    assert!(rx.try_recv().is_err(), "a.rs got a turn while a test held the test bed alone");
    drop(alone);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("a"));
    shared.join().unwrap();
    assert!(GATE.holder.lock().unwrap().is_none(), "every turn was given back");
}
