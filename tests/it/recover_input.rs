//! Hostile and awkward input (issue 14: items 6, 7, 8 and the low "better next step"
//! errors) and the house rules of issue 21 that go with it (one `shell_quote`, the Ansible
//! parser in the inventory layer).

use std::path::{Path, PathBuf};

use crate::support::sandbox::Sandbox;
use crate::support::{ringmaster, run};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn house_one_shell_quote_in_the_transport_layer() {
    let defs: Vec<String> =
        src_files().into_iter().filter(|(_, text)| text.contains("fn shell_quote(")).map(|(p, _)| p.display().to_string()).collect();
    assert_eq!(defs.len(), 1, "one shell_quote, found {defs:?}");
    assert!(defs[0].ends_with("src/transport/quote.rs"), "{defs:?}");
    let borrowed: Vec<String> = src_files()
        .into_iter()
        .filter(|(_, text)| text.contains("sandbox::init::shell_quote"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(borrowed.is_empty(), "the product borrows the sandbox's quoting in {borrowed:?}");
    assert_eq!(ringmaster::transport::shell_quote("it's"), r"'it'\''s'");
}

#[test]
fn house_the_ansible_parser_lives_in_the_inventory_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cli = std::fs::read_to_string(root.join("src/cli/inventory.rs")).unwrap();
    for parser_bit in ["serde_saphyr", "fn ini_words", "fn expand_range", "fn yaml_group", "enum YVal"] {
        assert!(!cli.contains(parser_bit), "src/cli/inventory.rs still holds `{parser_bit}`");
    }
    let lib = std::fs::read_to_string(root.join("src/inventory/ansible.rs")).unwrap();
    assert!(lib.contains("pub fn parse(") && lib.contains("fn expand_range"), "the parser is in src/inventory/ansible.rs");
    let inv = ringmaster::inventory::ansible::parse(Path::new("h.ini"), "[c]\ndb01 ansible_host=10.0.0.1\n").unwrap();
    assert_eq!(inv.resolve(Some("c")).unwrap()[0].address, "10.0.0.1");
}

/// Rewrites the sandbox inventory's text.
fn edit_inventory(sb: &Sandbox, edit: impl FnOnce(String) -> String) {
    let path = sb.inventory();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
}

/// Returns the 1-based line of the first line of `path` that contains `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path).unwrap().lines().position(|l| l.contains(needle)).expect("needle in file") + 1
}

#[test]
fn recover_6_an_address_with_shell_syntax_is_refused_at_load() {
    let sb = Sandbox::new(2, "0s");
    // The address reaches a command through `{address}`: without the check, preflight
    // runs `touch pwned` in the current directory.
    edit_inventory(&sb, |t| {
        t.replace("address = \"127.0.0.1\"", "address = \"127.0.0.1; touch pwned #\"")
            .replace("nodetool_command = \"", "nodetool_command = \"true {address} && ")
    });
    let line = line_of(&sb.inventory(), "touch pwned");
    for cmd in [&["preflight", "-i"][..], &["plan", "-i"][..]] {
        let out = run(sb.cmd(cmd).arg(sb.inventory()).current_dir(sb.path()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let at = format!("{}:{line}:", sb.inventory().display());
        assert!(stderr.contains(&at), "names {at}: {stderr}");
        assert!(stderr.contains("node1") && stderr.contains("neither an IP address nor a host name"), "{stderr}");
        assert!(!sb.path().join("pwned").exists(), "the address reached a shell");
    }
}

#[test]
fn recover_6_from_ansible_refuses_hosts_with_shell_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 4] = [
        ("hosts.ini", "[c]\ndb01 ansible_host=10.0.0.1\ndb02 ansible_host=10.0.0.2;touch\n", "db02"),
        ("hosts.ini", "[c]\ndb01 ansible_host=10.0.0.1 ansible_user='ops;id'\n", "db01"),
        ("hosts.yml", "c:\n  hosts:\n    db01:\n      ansible_host: \"10.0.0.1\\nrestart_command = 'x'\"\n", "db01"),
        ("hosts.yml", "c:\n  hosts:\n    \"db01;id\":\n", "db01;id"),
    ];
    for (name, text, host) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = run(ringmaster().args(["inventory", "from-ansible"]).arg(&file));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(out.stdout.is_empty(), "nothing printed for {text}");
        assert!(stderr.contains(&file.display().to_string()) && stderr.contains(&format!("host `{host}`")), "{stderr}");
    }
}

/// A minimal ssh inventory whose node1 has `ssh = <ssh>`; writes it (and a secrets file) to `dir`.
fn ssh_inventory(dir: &Path, ssh: &str) -> PathBuf {
    let secrets = dir.join("secrets.toml");
    std::fs::write(&secrets, "keystore_password = \"changeit1\"\ntruststore_password = \"changeit1\"\n").unwrap();
    std::fs::set_permissions(&secrets, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let inv = dir.join("cluster.toml");
    let ssh = toml::Value::String(ssh.into()).to_string();
    std::fs::write(
        &inv,
        format!("cluster = \"c\"\nsecrets = \"secrets.toml\"\n\n[[node]]\nname = \"node1\"\naddress = \"127.0.0.1\"\nssh = {ssh}\n"),
    )
    .unwrap();
    inv
}

#[test]
fn recover_low_ssh_destinations_with_spaces_or_a_leading_dash_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    for (ssh, why) in [("admin@db01 example", "whitespace"), ("-oProxyCommand=touch pwned", "starts with `-`")] {
        let inv = ssh_inventory(dir.path(), ssh);
        let out =
            run(ringmaster().arg("--journal").arg(dir.path().join("j.db")).args(["preflight", "-i"]).arg(&inv).current_dir(dir.path()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("{}:7:7: node `node1`: ssh destination", inv.display())), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains("os error 2"), "{stderr}");
        assert!(!dir.path().join("pwned").exists(), "the destination reached ssh as an option");
    }
    // The seed of `inventory discover` is an ssh destination too.
    let out = run(ringmaster().args(["inventory", "discover", "--seed=-oProxyCommand=touch pwned"]).current_dir(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("starts with `-`"));
    assert!(!dir.path().join("pwned").exists());
}

/// A lock holder that claims to be `pid` on this host, started at `start_time`.
fn holder_of(run: &ringmaster::journal::RunId, pid: u32, start_time: Option<u64>) -> ringmaster::journal::LockHolder {
    ringmaster::journal::LockHolder {
        run_id: run.clone(),
        fingerprint: "f".into(),
        pid,
        host: ringmaster::host::hostname(),
        user: "alice".into(),
        acquired_at: 1_700_000_000_000,
        start_time,
    }
}

fn fake_run(cluster: &str) -> ringmaster::journal::NewRun {
    ringmaster::journal::NewRun {
        cluster: cluster.into(),
        operator: "alice".into(),
        host: ringmaster::host::hostname(),
        pid: std::process::id(),
        command: "ringmaster run".into(),
        inventory_path: "cluster.toml".into(),
        inventory: serde_json::json!({}),
        workflow: String::new(),
    }
}

#[test]
fn recover_7_a_reused_pid_with_another_start_time_is_not_alive() {
    use ringmaster::journal::Journal;
    let me = std::process::id();
    let started = ringmaster::host::process_start_time(me).expect("this process has a start time");
    let journal = Journal::open_in_memory().unwrap();
    let run = journal.create_run(&fake_run("c")).unwrap();
    // The test process is alive; a lock that recorded another start time for its pid
    // was taken by a process that has died since, and the pid was handed on.
    journal.acquire_lock("c", &holder_of(&run.id, me, Some(started + 12_345))).unwrap();
    let stale = journal.lock_holder("c").unwrap().unwrap();
    assert_eq!(stale.start_time, Some(started + 12_345), "the start time round-trips through the journal");
    assert!(!stale.is_alive(), "same host, /proc/PID exists, but another process");
    journal.acquire_lock("c", &holder_of(&run.id, me, Some(started))).unwrap();
    assert!(journal.lock_holder("c").unwrap().unwrap().is_alive(), "the live holder itself");
    // A lock without a start time (an older ringmaster) falls back to the pid check.
    assert!(holder_of(&run.id, me, None).is_alive());
    assert!(!holder_of(&run.id, u32::MAX, None).is_alive());
    let elsewhere = ringmaster::journal::LockHolder { host: "another-host".into(), ..holder_of(&run.id, me, Some(started)) };
    assert!(!elsewhere.is_alive());
}

#[test]
fn recover_7_break_lock_takes_a_stale_lock_whose_pid_was_reused() {
    let sb = Sandbox::new(1, "0s");
    let journal = ringmaster::journal::Journal::open(&sb.journal()).unwrap();
    let stale_run = journal.create_run(&fake_run("sandbox")).unwrap();
    let me = std::process::id();
    let started = ringmaster::host::process_start_time(me).unwrap();
    journal.acquire_lock("sandbox", &holder_of(&stale_run.id, me, Some(started + 1))).unwrap();
    drop(journal);
    let refused = run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory()));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("whose process is gone") && stderr.contains("--break-lock"), "{stderr}");
    let taken = run(sb.cmd(&["run", "--yes", "--break-lock", "-i"]).arg(sb.inventory()));
    assert_eq!(taken.status.code(), Some(0), "{}", String::from_utf8_lossy(&taken.stderr));
    let evs = crate::support::journal::events(&sb.journal());
    let over = evs.iter().find(|e| e.detail["event"] == "lock_taken_over").expect("journaled take-over");
    assert_eq!(over.detail["previous_holder"]["run"], stale_run.id.to_string());
}

/// Writes a journal of schema version 1 (before the lock's start time) with one run and its lock.
fn version_1_journal(path: &Path) {
    {
        let conn = rusqlite::Connection::open(path).unwrap();
        let v1 = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/0001_create_journal.sql")).unwrap();
        conn.execute_batch(&v1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO runs (id, cluster, started_at, operator, host, pid, command, inventory_path, inventory, workflow)
             VALUES ('0190', 'c', 1, 'alice', 'h', 1, 'ringmaster run', 'c.toml', '{}', '')",
            [],
        )
        .unwrap();
        conn.execute("INSERT INTO locks VALUES ('c', 'f', '0190', 1, 'h', 'alice', 1)", []).unwrap();
    }
}

#[test]
fn recover_7_a_journal_from_before_the_start_time_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    version_1_journal(&path);
    let journal = ringmaster::journal::Journal::open(&path).expect("a version 1 journal migrates");
    let holder = journal.lock_holder("c").unwrap().expect("the old lock is kept");
    assert_eq!((holder.pid, holder.start_time), (1, None));
}

/// The bytes and modification time of `path`.
fn fingerprint(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (std::fs::read(path).unwrap(), std::fs::metadata(path).unwrap().modified().unwrap())
}

#[test]
fn recover_8_a_read_only_journal_can_be_inspected() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new(1, "0s");
    assert_eq!(run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory())).status.code(), Some(0));
    // A copy for the post-mortem, in the rollback-journal mode the sqlite3 shell leaves a
    // `.backup` in: a writing open would switch it to WAL, which rewrites its header.
    let copies = tempfile::tempdir().unwrap();
    let ro = copies.path().join("journal-copy.db");
    {
        let src = rusqlite::Connection::open(sb.journal()).unwrap();
        src.execute("VACUUM INTO ?1", [ro.display().to_string()]).unwrap();
    }
    let mode: String = rusqlite::Connection::open(&ro).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode.to_lowercase(), "delete");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(copies.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = fingerprint(&ro);
    let read_commands: [&[&str]; 3] = [&["runs"], &["status"], &["export", "--format", "jsonl"]];
    for args in read_commands {
        let out = run(ringmaster().arg("--journal").arg(&ro).args(args));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
    }
    assert!(fingerprint(&ro) == before, "a read command wrote the journal");
    let names: Vec<_> = std::fs::read_dir(copies.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no -wal/-shm/-journal left beside it: {names:?}");
    // The read-only open really is read-only (root ignores the file mode, SQLite does not).
    let journal = ringmaster::journal::Journal::open_read_only(&ro).unwrap();
    assert_eq!(journal.runs().unwrap().len(), 1);
    let err = journal.create_run(&fake_run("sandbox")).expect_err("a write through a read-only open");
    assert!(err.to_string().contains("readonly"), "{err}");
    drop(journal);
    assert!(fingerprint(&ro) == before);
    // As an unprivileged user, for whom the mode counts (skipped when not root or without setpriv).
    if unsafe_is_root() && Path::new("/usr/bin/setpriv").exists() {
        for args in read_commands {
            let mut cmd = std::process::Command::new("/usr/bin/setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_ringmaster"), "--journal"])
                .arg(&ro)
                .args(args);
            cmd.env("RINGMASTER_LOG", "off").env("HOME", copies.path());
            let out = run(&mut cmd);
            assert_eq!(out.status.code(), Some(0), "as nobody, {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(fingerprint(&ro) == before);
    }
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .is_some_and(|ids| ids.split_whitespace().nth(1) == Some("0"))
}

#[test]
fn recover_8_a_read_only_open_refuses_schemas_it_would_have_to_migrate() {
    use ringmaster::journal::{Journal, JournalError};
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    version_1_journal(&old);
    let before = fingerprint(&old);
    match Journal::open_read_only(&old) {
        Err(e @ JournalError::NeedsMigration { found: 1, .. }) => assert!(e.to_string().contains("old.db"), "{e}"),
        other => panic!("expected NeedsMigration, got {other:?}"),
    }
    assert!(fingerprint(&old) == before, "a refused read-only open wrote nothing");
    let newer = dir.path().join("newer.db");
    drop(Journal::open(&newer).unwrap());
    rusqlite::Connection::open(&newer).unwrap().pragma_update(None, "user_version", 99).unwrap();
    assert!(matches!(Journal::open_read_only(&newer), Err(JournalError::TooNew { found: 99, .. })));
    // A read command on a writable older journal migrates it first, as before.
    let out = run(ringmaster().arg("--journal").arg(&old).arg("runs"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(Journal::open_read_only(&old).is_ok());
}

#[test]
fn recover_low_sandbox_init_racks_0_says_a_rack_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(ringmaster().args(["sandbox", "init", "--dir"]).arg(dir.path()).args(["--nodes", "3", "--racks", "0"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at least 1 rack") && !stderr.contains("at least 0 nodes"), "{stderr}");
}

#[test]
fn recover_low_a_foreign_sqlite_file_as_journal_is_one_clear_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("app.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE runs (x); CREATE TABLE users (name);").unwrap();
    let before = fingerprint(&foreign);
    for args in [&["runs"][..], &["status"][..], &["rollback", "--yes"][..], &["resume"][..]] {
        let out = run(ringmaster().arg("--journal").arg(&foreign).args(args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.lines().count() <= 3, "one message and a hint, not the migration SQL: {stderr}");
        assert!(!stderr.contains("CREATE"), "{stderr}");
        assert!(stderr.contains(&format!("`{}` is a SQLite database but not a ringmaster journal", foreign.display())), "{stderr}");
        assert!(stderr.contains("--journal PATH"), "{stderr}");
    }
    assert!(fingerprint(&foreign) == before, "ringmaster left the foreign file as it was");
    // Even one without a `runs` table gets no ringmaster tables written into it.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE things (x);").unwrap();
    assert_eq!(run(ringmaster().arg("--journal").arg(&other).arg("runs")).status.code(), Some(2));
    let tables: i64 =
        rusqlite::Connection::open(&other).unwrap().query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn recover_low_a_malformed_journal_says_what_to_do_next() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5au8; 8192]).unwrap();
    let out = run(ringmaster().arg("--journal").arg(&garbage).arg("runs"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("`{}` is not a ringmaster journal", garbage.display())) && stderr.contains("Hint:"), "{stderr}");
    // A journal whose pages were damaged after it was written.
    let damaged = dir.path().join("damaged.db");
    {
        let journal = ringmaster::journal::Journal::open(&damaged).unwrap();
        for _ in 0..50 {
            journal.create_run(&fake_run("c")).unwrap();
        }
    }
    let mut bytes = std::fs::read(&damaged).unwrap();
    assert!(bytes.len() > 8192);
    for b in bytes.iter_mut().skip(4096 + 100).step_by(7) {
        *b ^= 0x5a;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let out = run(ringmaster().arg("--journal").arg(&damaged).arg("runs"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains(&damaged.display().to_string()) && stderr.contains("Hint: the journal file is damaged"), "{stderr}");
    assert!(stderr.contains(".recover"), "{stderr}");
}

/// The preflight findings (`--json`) that mention `needle`.
fn findings_mentioning(sb: &Sandbox, needle: &str) -> Vec<serde_json::Value> {
    let out = run(sb.cmd(&["preflight", "--json", "-i"]).arg(sb.inventory()));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("preflight --json");
    let rows = v.as_array().cloned().or_else(|| v["findings"].as_array().cloned()).expect("findings");
    rows.into_iter().filter(|r| r.to_string().contains(needle)).collect()
}

#[test]
fn recover_low_cassandra_release_in_the_inventory_settles_an_undetectable_yaml() {
    let sb = Sandbox::new(2, "0s");
    std::fs::write(sb.config("node1"), "").unwrap();
    let undetected = findings_mentioning(&sb, "cannot tell which Cassandra release");
    assert_eq!(undetected.len(), 1, "{undetected:?}");
    assert_eq!(undetected[0]["node"], "node1");
    assert!(undetected[0].to_string().contains("set `cassandra_release` for the node in the inventory"), "{undetected:?}");
    edit_inventory(&sb, |t| t.replace("name = \"node1\"\n", "name = \"node1\"\ncassandra_release = \"5.0\"\n"));
    assert_eq!(findings_mentioning(&sb, "cannot tell which Cassandra release"), Vec::<serde_json::Value>::new());
    let render = run(ringmaster()
        .args(["render", "--pass", "optional", "--diff", "--node", "node1", "--config"])
        .arg(sb.config("node1"))
        .arg("-i")
        .arg(sb.inventory()));
    let diff = String::from_utf8_lossy(&render.stdout);
    assert_eq!(render.status.code(), Some(0), "{}", String::from_utf8_lossy(&render.stderr));
    assert!(diff.contains("+  legacy_ssl_storage_port_enabled"), "the 4.1+ key name and indentation: {diff}");
    // An unknown release is refused when the inventory loads, with its line.
    edit_inventory(&sb, |t| t.replace("cassandra_release = \"5.0\"", "cassandra_release = \"3.0\""));
    let line = line_of(&sb.inventory(), "cassandra_release");
    let out = run(sb.cmd(&["preflight", "-i"]).arg(sb.inventory()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("cluster.toml:{line}:")) && stderr.contains("\"4.0\""), "{stderr}");
}
