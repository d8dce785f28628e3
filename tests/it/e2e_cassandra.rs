//! End to end against a real 3-node Apache Cassandra 5.0 cluster (cassandra-all from
//! Maven Central, Java 17) on 127.0.0.1-3, driven through the real SSH transport (the
//! loopback sshd of `bin/testbed`), with real TLS handshakes between the nodes.
//!
//! Needs `RINGMASTER_CASSANDRA` (the inventory printed by `bin/cassandra-testbed up`) and
//! `RINGMASTER_TESTBED` (the test bed's ssh_config); `bin/test` starts both. Skipped with
//! a printed reason without them, a failure under CI. The four scenarios share one
//! cluster and run in order, with `bin/cassandra-testbed reset` between them.
//!
//! A real CQL client load (`bin/workload` through `bin/cassandra-testbed workload`: QUORUM
//! writes of increasing keys and reads of acknowledged ones, about 60 requests a second)
//! runs through every scenario; each one ends by asserting that no request failed, that
//! every acknowledged write reads back at ALL and that no read returned a wrong value.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::journal::{events, has, wait_for};
use crate::support::ssh::{Turn, turn};
use crate::support::{ringmaster, run};
use ringmaster::journal::{Event, EventKind};

const NODES: [(&str, &str); 3] = [("node1", "127.0.0.1"), ("node2", "127.0.0.2"), ("node3", "127.0.0.3")];

struct Cluster {
    dir: PathBuf,
    inventory: PathBuf,
    journal: PathBuf,
    /// This test's turn at the SSH test bed it reaches the nodes through.
    _turn: Turn,
}

impl Cluster {
    fn testbed(&self, args: &[&str]) -> Output {
        let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("bin/cassandra-testbed"))
            .arg("--dir")
            .arg(&self.dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "cassandra-testbed {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }
    fn config(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("conf/cassandra.yaml")
    }
    fn backup(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("conf/cassandra.yaml.before-internode-tls")
    }
    fn log(&self, node: &str) -> String {
        std::fs::read_to_string(self.dir.join(node).join("logs/system.log")).unwrap()
    }
    fn ssl_dir(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("conf/ssl")
    }
    fn ringmaster(&self, args: &[&str]) -> Command {
        let mut cmd = ringmaster();
        cmd.arg("--journal").arg(&self.journal).args(args);
        cmd
    }

    /// Starts the client load against the cluster; returns once its first write is acknowledged.
    fn workload(&self, scenario: &'static str) -> Workload {
        let ready = self.dir.join(format!("workload-{scenario}.ready"));
        let _ = std::fs::remove_file(&ready);
        let log = self.dir.join(format!("workload-{scenario}.jsonl"));
        let mut child = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("bin/cassandra-testbed"))
            .arg("--dir")
            .arg(&self.dir)
            .args(["workload", "--ready-file"])
            .arg(&ready)
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !ready.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{scenario}: the workload exited before its first acknowledged write: {status}");
            }
            assert!(Instant::now() < deadline, "{scenario}: no acknowledged write from the workload within 120 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Workload { scenario, child, log }
    }

    fn reset(&self) {
        self.testbed(&["reset"]);
        let _ = std::fs::remove_file(&self.journal);
    }

    fn pristine(&self) -> Vec<Vec<u8>> {
        NODES.iter().map(|(n, _)| std::fs::read(self.config(n)).unwrap()).collect()
    }

    fn nodetool_status(&self, node: &str) -> Vec<ringmaster::cassandra::status::StatusNode> {
        let out = Command::new(self.dir.join(node).join("bin/nodetool")).arg("status").output().unwrap();
        assert!(out.status.success(), "nodetool status on {node}: {}", String::from_utf8_lossy(&out.stderr));
        ringmaster::cassandra::status::parse_status(&String::from_utf8_lossy(&out.stdout)).unwrap()
    }

    fn assert_all_un(&self) {
        for (on, _) in NODES {
            let rows = self.nodetool_status(on);
            for (node, addr) in NODES {
                let row = rows.iter().find(|r| r.address == addr).unwrap_or_else(|| panic!("{on} does not list {node}"));
                assert!(row.is_up_normal(), "{on} sees {node} as {}{}", row.status, row.state);
            }
        }
    }

    /// After a full rollout: TLS line after the last boot, `encrypted(` listener, UN, rows at ALL.
    fn assert_tls_everywhere(&self) {
        for (node, _) in NODES {
            let log = self.log(node);
            let last_boot = log.rfind("Configuration location: ").expect("a boot");
            let since = &log[last_boot..];
            assert!(since.contains("Internode messaging enabled TLS protocols: "), "{node}: no TLS line after its last boot");
            let listener = since.lines().rev().find(|l| l.contains("Listening on ")).expect("listener line");
            assert!(listener.contains("encryption: encrypted("), "{node}: {listener}");
            let block =
                ringmaster::cassandra::yaml::read_server_encryption("cassandra.yaml", &std::fs::read(self.config(node)).unwrap()).unwrap();
            assert_eq!(block["optional"], false);
            assert_eq!(block["internode_encryption"], "all");
        }
        self.assert_all_un();
        let out = self.testbed(&["cql", "--consistency", "ALL", "node3", "SELECT count(*) FROM ringmaster_e2e.kv;"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.lines().any(|l| l.trim() == "10"), "10 rows read back at ALL: {text}");
    }
}

/// A running client load (`bin/workload`); `finish` stops it and checks its figures.
struct Workload {
    scenario: &'static str,
    child: std::process::Child,
    log: PathBuf,
}

impl Drop for Workload {
    /// A scenario that panics before `finish` still stops its load (it would otherwise run
    /// on after the test, against the next one's cluster).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Workload {
    /// Stops the load (SIGTERM), waits for its read-back at ALL and summary, prints the
    /// summary, and asserts: zero failed requests, zero acknowledged writes lost, zero
    /// wrong reads.
    fn finish(mut self) -> serde_json::Value {
        let scenario = self.scenario;
        // SAFETY: kill(2) on our own child's pid, which it keeps until we reap it below.
        assert_eq!(unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) }, 0);
        let mut stdout = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        let out = Output { status, stdout: stdout.into_bytes(), stderr: Vec::new() };
        assert!(out.status.success(), "{scenario}: the workload failed: {}", out.status);
        let text = String::from_utf8_lossy(&out.stdout);
        let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{scenario}: workload summary {text:?}: {e}"));
        eprintln!("e2e: workload during {scenario}: {summary}");
        let why = format!("{scenario}: see every request in {}", self.log.display());
        assert!(summary["acknowledged_writes"].as_u64().unwrap() > 0, "{why}: no write was acknowledged");
        assert_eq!(summary["ops_failed"], 0, "{why}: failed requests, first {}", summary["first_failure"]);
        assert_eq!(summary["acknowledged_writes_lost"], 0, "{why}: acknowledged writes lost ({})", summary["readback"]);
        assert_eq!(summary["wrong_reads"], 0, "{why}: reads returned a wrong value");
        summary
    }
}

/// Prints, per phase, the median time from `enter` to its outcome, and what is left of
/// the run's wall time once drains, restarts and waiting for UN are taken out: the
/// orchestration overhead (docs/BENCHMARKS.md).
fn print_phase_times(evs: &[Event]) {
    let mut open: std::collections::HashMap<(String, String, String), i64> = Default::default();
    let mut times: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for e in evs.iter().filter(|e| e.node.is_some()) {
        let key = (e.node.clone().unwrap(), e.pass.clone().unwrap_or_default(), e.phase.clone());
        match e.kind {
            EventKind::Enter => {
                open.entry(key).or_insert(e.at);
            }
            EventKind::Ok | EventKind::Fail => {
                if let Some(start) = open.remove(&key) {
                    times.entry(e.phase.clone()).or_default().push((e.at - start) as f64 / 1000.0);
                }
            }
            EventKind::Info => {}
        }
    }
    let span = (evs.last().unwrap().at - evs.first().unwrap().at) as f64 / 1000.0;
    let mut node_time = 0.0;
    for (phase, mut v) in times {
        v.sort_by(f64::total_cmp);
        let sum: f64 = v.iter().sum();
        if matches!(phase.as_str(), "drain" | "restart" | "await_un") {
            node_time += sum;
        }
        eprintln!("e2e: phase {phase:<12} n={} median {:.2} s total {:.1} s", v.len(), v[v.len() / 2], sum);
    }
    eprintln!("e2e: run span {span:.1} s, drain+restart+await_un {node_time:.1} s, orchestration overhead {:.1} s", span - node_time);
}

fn setup() -> Option<Cluster> {
    let (Some(inv), Some(ssh_config)) = (std::env::var_os("RINGMASTER_CASSANDRA"), std::env::var_os("RINGMASTER_TESTBED")) else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but RINGMASTER_CASSANDRA / RINGMASTER_TESTBED are not (bin/test starts both)");
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipping e2e_cassandra: RINGMASTER_CASSANDRA and RINGMASTER_TESTBED are needed (bin/test sets them)"
        );
        return None;
    };
    let local = PathBuf::from(inv);
    let dir = local.parent().unwrap().to_path_buf();
    // The same cluster, reached through the SSH test bed (node1..3 are Host aliases there),
    // with the key material of bin/gen-certs installed by ringmaster's stage_keys.
    let certs = dir.join("certs");
    let user = ringmaster::host::user_of_uid();
    let group = ringmaster::host::group_of_gid();
    let text = std::fs::read_to_string(&local).unwrap().replace(
        "transport = \"local\"",
        &format!(
            "transport = \"ssh\"\nssh = \"{{node}}\"\nssh_config = \"{}\"\nkeystore_source = \"{}/{{node}}-keystore.p12\"\n\
             truststore_source = \"{}/cassandra-truststore.p12\"\nkey_owner = \"{user}\"\nkey_group = \"{group}\"",
            PathBuf::from(ssh_config).display(),
            certs.display(),
            certs.display()
        ),
    );
    let inventory = dir.join("cluster-ssh.toml");
    std::fs::write(&inventory, text).unwrap();
    let journal = dir.join("e2e-journal.db");
    Some(Cluster { dir, inventory, journal, _turn: turn() })
}

#[test]
fn real_cassandra_rollout_rollback_failure_and_crash_under_client_load() {
    let Some(c) = setup() else { return };
    let started = Instant::now();

    // 1. The full two-pass rollout.
    c.reset();
    let pristine = c.pristine();
    let load = c.workload("rollout");
    let t = Instant::now();
    let out = run(c.ringmaster(&["run", "--yes", "-i"]).arg(&c.inventory));
    assert_eq!(out.status.code(), Some(0));
    let rollout_secs = t.elapsed().as_secs_f64();
    load.finish();
    c.assert_tls_everywhere();
    for (i, (node, _)) in NODES.iter().enumerate() {
        assert!(std::fs::read(c.backup(node)).unwrap() == pristine[i], "{node}: backup byte-identical");
        // stage_keys installed the key material: directory 750, files 600, same bytes.
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(c.ssl_dir(node)).unwrap().mode() & 0o777, 0o750);
        for file in [format!("{node}-keystore.p12"), "cassandra-truststore.p12".to_string()] {
            let staged = c.ssl_dir(node).join(&file);
            assert_eq!(std::fs::metadata(&staged).unwrap().mode() & 0o777, 0o600, "{}", staged.display());
            assert_eq!(std::fs::read(&staged).unwrap(), std::fs::read(c.dir.join("certs").join(&file)).unwrap());
        }
    }
    let evs = events(&c.journal);
    assert!(has(&evs, "node3", "keys", "stage_keys", EventKind::Ok));
    let restart_ms: Vec<u64> =
        evs.iter().filter(|e| e.phase == "await_un" && e.kind == EventKind::Ok).filter_map(|e| e.detail["elapsed_ms"].as_u64()).collect();
    eprintln!("e2e: full rollout {rollout_secs:.1} s; restart-to-UN per node (ms): {restart_ms:?}");
    print_phase_times(&evs);

    // 2. `ringmaster rollback` of that finished run: pass by pass (enforce back to optional,
    //    then optional back to the original), every node on its original bytes again.
    let boots: Vec<usize> = NODES.iter().map(|(n, _)| c.log(n).matches("Configuration location: ").count()).collect();
    let load = c.workload("rollback");
    let t = Instant::now();
    let out = run(&mut c.ringmaster(&["rollback", "--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rollback_secs = t.elapsed().as_secs_f64();
    load.finish();
    for (i, (node, _)) in NODES.iter().enumerate() {
        assert_eq!(std::fs::read(c.config(node)).unwrap(), pristine[i], "{node}: original cassandra.yaml after rollback");
        let log = c.log(node);
        assert_eq!(log.matches("Configuration location: ").count(), boots[i] + 2, "{node}: one restart per undone pass");
        let since = &log[log.rfind("Configuration location: ").unwrap()..];
        assert!(!since.contains("Internode messaging enabled TLS protocols: "), "{node}: TLS after the rollback's last boot");
        let listener = since.lines().rev().find(|l| l.contains("Listening on ")).expect("listener line");
        assert!(listener.contains("encryption: unencrypted"), "{node}: {listener}");
    }
    c.assert_all_un();
    let evs = events(&c.journal);
    for (node, _) in NODES {
        assert!(has(&evs, node, "undo-optional", "rollback_verify", EventKind::Ok), "{node}: undo of the optional pass verified");
    }
    eprintln!("e2e: rollback of the finished run {rollback_secs:.1} s");

    // 3. node2's keystore stops opening while node1 restarts: automatic rollback.
    c.reset();
    let pristine = c.pristine();
    let node3_boots = c.log("node3").matches("Configuration location: ").count();
    let load = c.workload("keystore-breaks");
    let child = c.ringmaster(&["run", "--yes", "-i"]).arg(&c.inventory).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for(&c.journal, "node1 restart", Duration::from_secs(900), |evs| has(evs, "node1", "optional", "restart", EventKind::Enter));
    std::fs::write(c.ssl_dir("node2").join("node2-keystore.p12"), b"not a keystore at all").unwrap();
    let out = child.wait_with_output().unwrap();
    load.finish();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("node `node2` failed in pass `optional` and was rolled back"), "{stderr}");
    assert!(
        stderr.contains("Failed to initialize SSL") || stderr.contains("failed to build key manager store"),
        "the real error chain is quoted"
    );
    let evs = events(&c.journal);
    // node3 only got its key material (stage_keys, before the first pass): its config was
    // never edited and it was never restarted.
    assert!(!evs.iter().any(|e| e.node.as_deref() == Some("node3") && e.pass.as_deref() != Some("keys")), "node3 was never touched");
    assert_eq!(std::fs::read(c.config("node3")).unwrap(), pristine[2]);
    assert!(has(&evs, "node2", "optional", "rollback_verify", EventKind::Ok));
    assert_eq!(std::fs::read(c.config("node2")).unwrap(), pristine[1], "node2 is back on its original config");
    for (i, node) in ["node1", "node2"].iter().enumerate() {
        assert!(std::fs::read(c.backup(node)).unwrap() == pristine[i], "{node}: backup byte-identical");
    }
    assert!(!c.backup("node3").exists());
    assert_eq!(c.log("node3").matches("Configuration location: ").count(), node3_boots, "node3 was not restarted");
    assert!(c.log("node2").contains("Exception encountered during startup"), "node2 really failed to start");
    c.assert_all_un();

    // 4. SIGKILL of ringmaster while a node restarts in the enforce pass; resume finishes.
    if !crate::support::crash_hooks("e2e_cassandra part 3 (SIGKILL mid-restart)") {
        return;
    }
    c.reset();
    let pristine = c.pristine();
    let boots_before = c.log("node2").matches("Configuration location: ").count();
    let load = c.workload("sigkill-resume");
    let out =
        run(c.ringmaster(&["run", "--yes", "-i"]).arg(&c.inventory).env("RINGMASTER_TEST_CRASH_AT", "after acting node2 enforce restart"));
    assert_eq!(out.status.signal(), Some(9));
    let out = run(&mut c.ringmaster(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    load.finish();
    c.assert_tls_everywhere();
    let evs = events(&c.journal);
    let restart_ok = evs
        .iter()
        .rev()
        .find(|e| {
            e.node.as_deref() == Some("node2") && e.pass.as_deref() == Some("enforce") && e.phase == "restart" && e.kind == EventKind::Ok
        })
        .unwrap();
    assert_eq!(restart_ok.detail["already_booted"], true, "resume saw the boot and did not restart node2 again");
    assert_eq!(
        c.log("node2").matches("Configuration location: ").count(),
        boots_before + 2,
        "one restart per pass, no second one after the kill"
    );
    for (i, (node, _)) in NODES.iter().enumerate() {
        assert!(std::fs::read(c.backup(node)).unwrap() == pristine[i], "{node}: backup byte-identical");
    }
    eprintln!("e2e: all four scenarios in {:.0} s", started.elapsed().as_secs_f64());
}
