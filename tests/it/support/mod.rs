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
