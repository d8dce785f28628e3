//! Helpers shared by the test modules: the binary under test (here), the journal
//! (`journal`), the sandbox cluster (`sandbox`), the journal schema (`schema`), the SSH test bed (`ssh`) and the
//! cassandra.yaml editor's fixtures (`yaml`).

pub mod journal;
pub mod sandbox;
pub mod schema;
pub mod ssh;
pub mod yaml;

use std::process::{Command, Output};

/// The ringmaster binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ringmaster")
}

/// Returns a Command for the built binary with a clean RINGMASTER_* environment.
pub fn ringmaster() -> Command {
    let mut cmd = Command::new(bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("RINGMASTER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("RINGMASTER_LOG", "off");
    cmd
}

/// Returns true when the binary under test has its crash hooks (built with
/// `--features test-crash-hooks`, as `bin/test` builds it). Without them a test that kills
/// the run at a crash point cannot run: it says so on stderr and is skipped, except under
/// `CI` or `RINGMASTER_REQUIRE_CRASH_HOOKS` (bin/test sets it), where it fails.
pub fn crash_hooks(test: &str) -> bool {
    if cfg!(feature = "test-crash-hooks") {
        return true;
    }
    let why = "the crash hooks are compiled only with `--features test-crash-hooks` \
               (run `cargo test --features test-crash-hooks`; bin/test passes it)";
    if std::env::var_os("CI").is_some() || std::env::var_os("RINGMASTER_REQUIRE_CRASH_HOOKS").is_some() {
        panic!("{test}: {why}");
    }
    ssh::skip(test, why);
    false
}

/// Runs the command and returns its output, printing it when the test fails later.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn ringmaster");
    eprintln!(
        "$ {:?}\n[exit {:?}]\n--- stdout\n{}--- stderr\n{}",
        cmd,
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
