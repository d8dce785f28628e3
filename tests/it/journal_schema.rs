//! docs/journal-schema.json held to the types of `ringmaster::history`: every `RunEvent`
//! variant has its definition and no definition is stale; each run event's and each phase
//! detail's definition lists exactly the fields serde writes (`properties`) and exactly the
//! ones the type needs to read a detail back (`required`: a field added later is
//! `#[serde(default)]`, so older journals still read); every sample validates against its
//! definition. A field added to a type, or to the schema alone, fails here.

use std::collections::BTreeSet;

use ringmaster::history::detail::{
    AlreadyBooted, AwaitUnFailure, AwaitUnOk, BackupIntent, BackupMismatch, BackupOk, CommandIntent, CommandOutcome, ConfigIntent, Detail,
    EditOk, Evidence, Failure, RestartIntent, RestoreOk, VerifyLog,
};
use ringmaster::history::{BatchesEvent, Blocker, JournaledBatch, PauseReason, PreviousHolder, RunEvent, UndoStage};
use serde_json::{Value, json};

use crate::support::schema::{check, schema};

/// One schema definition's sample: the value serde writes with every optional field set,
/// and whether the type reads a given JSON back.
struct Sample {
    def: String,
    written: Value,
    reads: Box<dyn Fn(&Value) -> bool>,
}

fn detail<T: Detail + 'static>(name: &str, value: T) -> Sample {
    Sample { def: format!("detail.{name}"), written: value.to_json(), reads: Box::new(|v| T::of(v).is_some()) }
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every run event, each optional field set (a field left `None` would not show as written).
fn run_events() -> Vec<RunEvent> {
    vec![
        RunEvent::Started {
            workflow: "internode-tls".into(),
            passes: strings(&["optional", "enforce"]),
            nodes: strings(&["n1"]),
            pause_after_pass: true,
        },
        RunEvent::Refused {
            error: some("cluster lock held"),
            blockers: vec![Blocker { node: some("n1"), check: "keystore".into(), message: "wrong password".into() }],
        },
        RunEvent::Topology { topology: Default::default() },
        RunEvent::Batches(BatchesEvent {
            mode: "rack".into(),
            max_batch: Some(2),
            dc_parallel: true,
            fallback: false,
            ignored_keyspaces: strings(&["scratch"]),
            batches: vec![JournaledBatch { nodes: strings(&["n1", "n2"]), why: "rack r1".into() }],
        }),
        RunEvent::Resumed { pid: 7, host: "h".into(), user: "u".into(), previous_state: "interrupted".into(), by: some("rollback") },
        RunEvent::Retry { was: "rolled_back".into() },
        RunEvent::Interrupted {
            signal: some("SIGINT"),
            node: some("n1"),
            pass: some("optional"),
            next_phase: some("edit"),
            detected: some("at resume"),
            last_seq: Some(12),
        },
        RunEvent::Halted { because: "n2".into(), next_phase: "restart".into() },
        RunEvent::Stopped { error: "broken pipe".into() },
        RunEvent::UndoStarted {
            stages: vec![UndoStage { pass_index: 1, name: "undo-enforce".into(), nodes: strings(&["n1"]) }],
            force: true,
            previous_state: "finished".into(),
            user: "u".into(),
            host: "h".into(),
        },
        RunEvent::LockTakenOver {
            previous_holder: Some(PreviousHolder { run: "r1".into(), pid: 9, host: "h".into(), user: "u".into(), since: 5 }),
            explicit: true,
        },
        RunEvent::Preflight { started_at: 1_700_000_000_000, nodes: strings(&["n2", "n3"]), blockers: 0, warnings: 1 },
        RunEvent::Paused { pass: "optional".into(), reason: PauseReason::StopAfter, completed: Some(1) },
        RunEvent::Finished,
        RunEvent::Undone,
        RunEvent::Failed { node: "n2".into(), pass: "optional".into(), state: "rolled_back".into() },
    ]
}

fn evidence() -> Vec<Evidence> {
    vec![Evidence { line: "ERROR [main] failed".into(), context: strings(&["Caused by: java.io.IOException: bad keystore"]) }]
}

fn views() -> std::collections::BTreeMap<String, String> {
    [("n1".to_string(), "all UN".to_string())].into_iter().collect()
}

/// Every phase detail type, each optional field set.
fn phase_details() -> Vec<Sample> {
    let removed = strings(&["/etc/cassandra/.cassandra.yaml.ringmaster-9.tmp"]);
    vec![
        detail("config_intent", ConfigIntent { config: "/c.yaml".into(), config_target: some("/real/c.yaml") }),
        detail(
            "backup_intent",
            BackupIntent { backup: "/c.yaml.bak".into(), config: some("/c.yaml"), config_target: some("/real/c.yaml") },
        ),
        detail("command_intent", CommandIntent { command: "nodetool drain".into() }),
        detail(
            "restart_intent",
            RestartIntent { log_offset: 42, command: some("systemctl restart cassandra"), drain: some("nodetool drain") },
        ),
        detail(
            "backup_ok",
            BackupOk {
                backup: "/c.yaml.bak".into(),
                sha256: "ab".into(),
                size: 3,
                existing: false,
                config: some("/c.yaml"),
                config_target: some("/real/c.yaml"),
                removed_stale_temp_files: removed.clone(),
            },
        ),
        detail(
            "backup_mismatch",
            BackupMismatch { error: "does not match".into(), found_sha256: some("cd"), expected_sha256: "ab".into() },
        ),
        detail(
            "edit_ok",
            EditOk {
                config: some("/c.yaml"),
                config_target: some("/real/c.yaml"),
                changed: true,
                values: "optional".into(),
                before_sha256: "a".into(),
                after_sha256: "b".into(),
                release: "5.0".into(),
                diff: "-x\n+y".into(),
                removed_stale_temp_files: removed.clone(),
                restored_values_of: some("optional"),
            },
        ),
        detail(
            "restore_ok",
            RestoreOk {
                restored_from: "/c.yaml.bak".into(),
                sha256: "ab".into(),
                config: some("/c.yaml"),
                config_target: some("/real/c.yaml"),
                removed_stale_temp_files: removed,
            },
        ),
        detail(
            "command_outcome",
            CommandOutcome {
                command: "restart".into(),
                exit: Some(0),
                stdout: "ok".into(),
                stderr: "".into(),
                log_offset: Some(42),
                drain: Some(Box::new(CommandOutcome {
                    command: "nodetool drain".into(),
                    exit: Some(1),
                    stdout: "".into(),
                    stderr: "Connection refused".into(),
                    log_offset: None,
                    drain: None,
                })),
            },
        ),
        detail("already_booted", AlreadyBooted { already_booted: true, boot_line: "Starting Cassandra".into(), log_offset: 42 }),
        detail("await_un_ok", AwaitUnOk { elapsed_ms: 1500, polls: 3, joined_line_seen: true, views: views() }),
        detail("await_un_failure", AwaitUnFailure { error: "not UN".into(), evidence: Some(evidence()), views: views(), polls: Some(9) }),
        detail(
            "verify_log",
            VerifyLog {
                log: "/var/log/cassandra/system.log".into(),
                from_offset: 42,
                rotated: false,
                success_line: some("Startup complete"),
                listener_line: some("Listening on 10.0.0.1:7001 (encrypted)"),
                evidence: evidence(),
                error: some("1 error line"),
            },
        ),
        detail(
            "failure",
            Failure {
                error: some("gone"),
                hint: some("move it aside"),
                evidence: Some(evidence()),
                views: Some(views()),
                stderr: some("x"),
            },
        ),
    ]
}

fn samples() -> Vec<Sample> {
    let mut out: Vec<Sample> = run_events()
        .into_iter()
        .map(|e| Sample {
            def: format!("run_event.{}", e.name()),
            written: e.detail(),
            reads: Box::new(|v| serde_json::from_value::<RunEvent>(v.clone()).is_ok()),
        })
        .collect();
    out.extend(phase_details());
    let evidence = serde_json::to_value(&evidence()[0]).unwrap();
    out.push(Sample {
        def: "evidence".into(),
        written: evidence,
        reads: Box::new(|v| serde_json::from_value::<Evidence>(v.clone()).is_ok()),
    });
    out
}

/// The names of every `RunEvent` variant as serde knows them: its `unknown variant` error
/// lists them all, so a variant added to the type is seen here without a sample.
fn variant_names() -> BTreeSet<String> {
    let err = serde_json::from_value::<RunEvent>(json!({"event": "no_such_event"})).unwrap_err().to_string();
    let listed = err.split("expected one of").nth(1).unwrap_or_else(|| panic!("unexpected serde message: {err}"));
    let names: BTreeSet<String> = regex::Regex::new(r"`([a-z_]+)`").unwrap().captures_iter(listed).map(|c| c[1].to_string()).collect();
    assert!(names.len() > 10, "read the variants from {err}");
    names
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap_or_else(|| panic!("{v} is not an object")).keys().cloned().collect()
}

fn listed(def: &Value, keyword: &str) -> BTreeSet<String> {
    match keyword {
        "properties" => def["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default(),
        _ => def[keyword].as_array().into_iter().flatten().map(|k| k.as_str().unwrap().to_string()).collect(),
    }
}

#[test]
fn house_21_every_run_event_variant_has_its_schema_definition_and_none_is_stale() {
    let schema = schema();
    let in_schema: BTreeSet<String> = schema["$defs"]["run_event"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = r["$ref"].as_str().unwrap().strip_prefix("#/$defs/").unwrap();
            let def = &schema["$defs"][name];
            let event = def["properties"]["event"]["const"].as_str().unwrap_or_else(|| panic!("{name} names no event"));
            assert_eq!(name, format!("run_event.{event}"), "a definition is named after its event");
            event.to_string()
        })
        .collect();
    assert_eq!(in_schema, variant_names(), "the schema's run events (left) and RunEvent's variants (right)");
    let sampled: BTreeSet<String> = run_events().iter().map(|e| e.name().to_string()).collect();
    assert_eq!(sampled, variant_names(), "this test has a sample of every variant");
    let defined: BTreeSet<String> =
        schema["$defs"].as_object().unwrap().keys().filter_map(|k| k.strip_prefix("run_event.")).map(str::to_string).collect();
    assert_eq!(defined, variant_names(), "no run_event.* definition is left over");
}

#[test]
fn house_21_each_detail_definition_lists_the_fields_serde_writes_and_requires() {
    let schema = schema();
    let samples = samples();
    let sampled: BTreeSet<&str> = samples.iter().map(|s| s.def.as_str()).collect();
    for def in schema["$defs"].as_object().unwrap().keys().filter(|k| k.starts_with("detail.")) {
        assert!(sampled.contains(def.as_str()), "`{def}` in the schema is no phase detail type of src/history/detail.rs");
    }
    for s in &samples {
        let def = schema["$defs"].get(&s.def).unwrap_or_else(|| panic!("no `{}` in docs/journal-schema.json", s.def));
        assert_eq!(listed(def, "properties"), keys(&s.written), "`{}`: schema properties (left), fields serde writes (right)", s.def);
        assert!((s.reads)(&s.written), "{}: the sample reads back", s.def);
        // Required: the fields without which the type cannot read the detail back.
        let needed: BTreeSet<String> = keys(&s.written)
            .into_iter()
            .filter(|k| {
                let mut without = s.written.clone();
                without.as_object_mut().unwrap().remove(k);
                !(s.reads)(&without)
            })
            .collect();
        assert_eq!(listed(def, "required"), needed, "`{}`: schema required (left), fields the type needs to read (right)", s.def);
        check(def, &schema, &s.written, &s.def).unwrap_or_else(|e| panic!("the sample of `{}` does not validate: {e}", s.def));
    }
}

#[test]
fn house_21_schema_checks_details_by_phase_and_kind() {
    let schema = schema();
    let line = |phase: &str, kind: &str, detail: Value| {
        json!({"schema": "ringmaster.event/1", "run_id": "01a225a2-4efe-7702-8da1-9b8d4e5cc83c", "seq": 1, "at": 5, "time": "t",
            "node": "n1", "pass": "optional", "phase": phase, "kind": kind, "detail": detail, "reverts": null})
    };
    let ok = |v: &Value| check(&schema, &schema, v, "$");
    let restart = RestartIntent { log_offset: 42, command: some("restart"), drain: None }.to_json();
    assert!(ok(&line("restart", "enter", restart)).is_ok());
    assert!(ok(&line("restart", "enter", json!({"log_offset": "42"}))).is_err(), "a restart intent's offset is a number");
    assert!(ok(&line("backup", "ok", json!({"backup": "/b", "sha256": "ab"}))).is_err(), "a backup ok without size and existing");
    assert!(ok(&line("run", "info", json!({"event": "no_such_event"}))).is_err(), "an event this version does not write");
    assert!(ok(&line("verify_log", "fail", json!({"error": 3}))).is_err(), "a failure's error is text");
    let booted = AlreadyBooted { already_booted: true, boot_line: "Starting".into(), log_offset: 1 }.to_json();
    assert!(ok(&line("rollback_restart", "ok", booted)).is_ok());
}
