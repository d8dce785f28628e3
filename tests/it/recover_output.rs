//! What ringmaster prints: a report that cannot be written ends with one error line, not a
//! panic; a broken `--events-json` stream is reported without disturbing the run.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::sandbox::Sandbox;
use crate::support::{ringmaster, run};
use ringmaster::inventory::{Inventory, Node, TransportKind};
use ringmaster::journal::{Journal, NewRun};

const FULL: &str = "error: cannot write to standard output: No space left on device (os error 28)\n";

fn dev_full() -> File {
    File::options().write(true).open("/dev/full").expect("/dev/full")
}

/// A journal in `dir` holding one run (no events) of a one-node cluster named `cluster`.
fn journal_with_run(dir: &Path, cluster: &str) -> PathBuf {
    let inventory = Inventory {
        secret_command: None,
        path: dir.join("cluster.toml"),
        cluster: cluster.into(),
        secrets: None,
        nodes: vec![Node::with_defaults("node1", "127.0.0.1", TransportKind::Local)],
    };
    let path = dir.join("journal.db");
    let journal = Journal::open(&path).expect("open journal");
    journal
        .create_run(&NewRun {
            cluster: cluster.into(),
            operator: "op".into(),
            host: "host".into(),
            pid: 1,
            command: "ringmaster run".into(),
            inventory_path: inventory.path.display().to_string(),
            inventory: inventory.snapshot(),
            workflow: ringmaster::workflow::BUILTIN_INTERNODE_TLS.into(),
        })
        .expect("create run");
    path
}

#[test]
fn recover_1_report_commands_on_a_full_stdout_exit_1_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_with_run(dir.path(), "c1");
    let commands: [&[&str]; 6] = [
        &["status"],
        &["status", "--json"],
        &["runs"],
        &["runs", "--json"],
        &["export", "--format", "md"],
        &["export", "--format", "jsonl"],
    ];
    for args in commands {
        let out = run(ringmaster().arg("--journal").arg(&journal).args(args).stdout(dev_full()));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), FULL, "{args:?}");
    }
    for args in [["completions", "bash"], ["completions", "zsh"]] {
        let out = run(ringmaster().args(args).stdout(dev_full()));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), FULL, "{args:?}");
    }
    let out = run(ringmaster().arg("man").stdout(dev_full()));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), FULL);
}

#[test]
fn recover_1_a_run_whose_event_stream_breaks_finishes_and_says_so() {
    let sandbox = Sandbox::new(1, "0s");
    let out = run(sandbox.cmd(&["run", "--yes", "--events-json", "-i"]).arg(sandbox.inventory()).stdout(dev_full()).stdin(Stdio::null()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a finished run with a broken stream does not exit 0");
    assert!(stderr.contains("finished: every node completed every pass"), "{stderr}");
    assert!(
        stderr
            .contains("error: cannot write the event stream to standard output: No space left on device (os error 28) (0 events streamed,"),
        "{stderr}"
    );
    assert!(stderr.contains("--format jsonl"), "the hint names the export: {stderr}");
    let status = sandbox.status_json();
    assert_eq!(status["state"], "finished", "the run itself was not disturbed: {status:#}");
}

#[test]
fn recover_2_an_escape_sequence_in_a_cluster_name_or_path_reaches_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_with_run(dir.path(), "red\u{1b}[31mcluster");
    for args in [&["status"][..], &["runs"], &["export", "--format", "md"]] {
        let out = run(ringmaster().arg("--journal").arg(&journal).args(args));
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.contains(&0x1b), "{args:?}: no raw ESC on stdout");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("red\\x1b[31mcluster"), "{args:?}: the name is shown, escaped: {text}");
    }
    // JSON stays JSON: serde's own \u001b, which parses back to the real name.
    let out = run(ringmaster().arg("--journal").arg(&journal).args(["status", "--json"]));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["cluster"], "red\u{1b}[31mcluster");
    // An error naming a path with a terminal title sequence in it.
    let out = run(ringmaster().arg("--journal").arg(dir.path().join("x\u{1b}]0;owned\u{7}.db")).arg("status"));
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b) && !out.stderr.contains(&0x07), "no raw control characters on stderr");
    assert!(String::from_utf8_lossy(&out.stderr).contains("x\\x1b]0;owned\\x07.db"));
}

/// The words a real `sh` makes of `command`.
fn sh_argv(command: &str) -> Vec<String> {
    let out = std::process::Command::new("sh").arg("-c").arg(format!("printf '%s\\0' {command}")).output().expect("sh");
    assert!(out.status.success(), "sh parses `{command}`");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim_end_matches('\0').split('\0').map(String::from).collect()
}

/// The text between the backticks (or after `prefix` to the line end) that follows `prefix`.
fn suggested<'a>(text: &'a str, prefix: &str) -> &'a str {
    let at = text.find(prefix).unwrap_or_else(|| panic!("`{prefix}` in {text}")) + prefix.len();
    let rest = &text[at..];
    let end = rest.find(['`', '\n']).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn recover_3_suggested_commands_quote_paths_so_a_real_sh_gets_them_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ops team's $HOME dir");
    let out = run(ringmaster().args(["sandbox", "init", "--nodes", "1", "--start-delay", "0s", "--dir"]).arg(&dir));
    assert!(out.status.success());
    let inventory = dir.join("cluster.toml").display().to_string();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(sh_argv(suggested(&stdout, "next: ")), ["ringmaster", "run", "-i", inventory.as_str()]);

    // preflight's backup_exists hint.
    let backup = dir.join("nodes/node1/etc/cassandra/cassandra.yaml.before-internode-tls").display().to_string();
    std::fs::write(&backup, "foreign\n").unwrap();
    let out = run(ringmaster().args(["preflight", "-i", &inventory]));
    assert_eq!(out.status.code(), Some(3));
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(sh_argv(suggested(&report, "move it aside (`")), ["mv", backup.as_str(), &format!("{backup}.old")]);
    std::fs::remove_file(&backup).unwrap();

    // Every hint of a run names its journal.
    let journal = dir.join("my journal.db").display().to_string();
    let out = run(ringmaster().args(["--journal", &journal, "run", "--yes", "-i", &inventory]));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let argv = sh_argv(suggested(&stdout, "see it with `"));
    assert_eq!(argv[..4], ["ringmaster", "--journal", journal.as_str(), "status"]);
    assert_eq!(argv.len(), 5, "{argv:?}");
}

#[test]
fn recover_4_messages_name_exit_statuses_and_formats_in_words_not_rust_debug() {
    let out = run(ringmaster().args(["inventory", "discover", "--transport", "local", "--seed", "seed1", "--nodetool-command", "false"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: `false status` on `seed1` exited with status 1: "), "{stderr}");
    assert!(!stderr.contains("Some("), "{stderr}");

    // preflight's cluster check, with a nodetool that fails.
    let sandbox = Sandbox::new(1, "0s");
    let inventory = std::fs::read_to_string(sandbox.inventory()).unwrap();
    let broken: String = inventory
        .lines()
        .map(|l| if l.starts_with("nodetool_command") { "nodetool_command = \"false\"\n".into() } else { format!("{l}\n") })
        .collect();
    std::fs::write(sandbox.inventory(), broken).unwrap();
    let out = run(ringmaster().args(["preflight", "--json", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(3));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("`nodetool status` exited with status 1"), "{report}");
    assert!(!report.contains("Some("), "{report}");

    // export -o names the format as `--format` spells it.
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_with_run(dir.path(), "c1");
    let file = dir.path().join("run.jsonl");
    let out = run(ringmaster().arg("--journal").arg(&journal).args(["export", "--format", "jsonl", "-o"]).arg(&file));
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with(&format!("wrote {} (jsonl) of run ", file.display())), "{stderr}");
}

#[test]
fn recover_5_render_refuses_a_secret_on_the_command_line_and_says_where_secrets_come_from() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/cassandra-yaml/cassandra-5.0.2.yaml");
    for set in ["keystore_password=Hunter2-secret", "truststore_password=Hunter2-secret", "my_keystore_password=Hunter2-secret"] {
        let out = run(ringmaster()
            .args(["render", "--pass", "optional", "--config"])
            .arg(&config)
            .args(["--set", set])
            .env("RINGMASTER_SECRET_KEYSTORE_PASSWORD", "k-env-123456")
            .env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "t-env-123456"));
        assert_eq!(out.status.code(), Some(2), "{set}");
        assert!(out.stdout.is_empty(), "{set}: no file printed");
        let err = String::from_utf8_lossy(&out.stderr);
        let key = set.split_once('=').unwrap().0;
        assert!(err.contains(&format!("`--set {key}=...` would put a secret on the command line")), "{err}");
        assert!(err.contains("secrets file") && err.contains(&format!("RINGMASTER_SECRET_{}", key.to_uppercase())), "{err}");
        assert!(!err.contains("Hunter2-secret"), "the refusal does not echo the secret: {err}");
    }
    // The same render with the secrets from the environment works.
    let out = run(ringmaster()
        .args(["render", "--pass", "optional", "--config"])
        .arg(&config)
        .env("RINGMASTER_SECRET_KEYSTORE_PASSWORD", "k-env-123456")
        .env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "t-env-123456"));
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("k-env-123456"));
}
