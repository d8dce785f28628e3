//! Export of a real sandbox run with a rollback and a resume, in all three formats, and
//! the `--events-json` stream: the JSON Lines validate against docs/journal-schema.json,
//! the Markdown names the failed node and quotes its evidence, the HTML timeline renders
//! in headless Chromium with one bar per phase attempt, and no password leaks anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::support::journal::{events, wait_for};
use crate::support::run;
use crate::support::sandbox::Sandbox;
use crate::support::schema::{check, schema, validate_line};
use ringmaster::journal::EventKind;
use serde::Deserialize;
use serde_json::Value;

/// A 3-node sandbox whose run rolled node2 back (keystore broken mid-run), then was
/// resumed after the keystore's original bytes were put back, and finished.
fn scenario() -> &'static Sandbox {
    static SCENARIO: OnceLock<Sandbox> = OnceLock::new();
    SCENARIO.get_or_init(|| {
        let sandbox = Sandbox::new(3, "1s");
        let keystore = sandbox.keystore("node2");
        let original = std::fs::read(&keystore).unwrap();
        let child =
            sandbox.cmd(&["run", "--yes", "-i"]).arg(sandbox.inventory()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        wait_for(&sandbox.journal(), "node1 restart", Duration::from_secs(90), |evs| {
            evs.iter().any(|e| e.node.as_deref() == Some("node1") && e.phase == "restart" && e.kind == EventKind::Enter)
        });
        std::fs::write(&keystore, b"not a keystore").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(&keystore, &original).unwrap();
        let resumed = run(&mut sandbox.cmd(&["resume"]));
        assert_eq!(resumed.status.code(), Some(0));
        sandbox
    })
}

fn export(sandbox: &Sandbox, format: &str) -> String {
    let out = run(&mut sandbox.cmd(&["export", "--format", format]));
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn passwords(sandbox: &Sandbox) -> Vec<String> {
    let secrets: toml::Table = toml::from_str(&sandbox.secrets_text()).unwrap();
    fn collect(t: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in t {
            match v {
                toml::Value::String(s) if k.ends_with("password") => out.push(s.clone()),
                toml::Value::Table(inner) => collect(inner, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    collect(&secrets, &mut out);
    assert!(!out.is_empty(), "the sandbox has passwords to look for");
    out
}

#[test]
fn schema_checker_rejects_what_the_schema_forbids() {
    let s = schema();
    let good = r#"{"schema":"ringmaster.event/1","run_id":"01a225a2-4efe-7702-8da1-9b8d4e5cc83c","seq":1,"at":5,"time":"t","node":null,"pass":null,"phase":"run","kind":"enter","detail":{"event":"finished"},"reverts":null}"#;
    let v: Value = serde_json::from_str(good).unwrap();
    assert!(check(&s, &s, &v, "$").is_ok());
    for (field, bad) in
        [("kind", "\"later\""), ("seq", "0"), ("reverts", "\"x\""), ("schema", "\"ringmaster.event/2\""), ("extra", "1"), ("node", "3")]
    {
        let mut w = v.clone();
        w[field] = serde_json::from_str(bad).unwrap();
        assert!(check(&s, &s, &w, "$").is_err(), "{field}={bad} must be rejected");
    }
    let mut missing = v.clone();
    missing.as_object_mut().unwrap().remove("detail");
    assert!(check(&s, &s, &missing, "$").is_err());
}

#[test]
fn jsonl_export_of_a_rolled_back_and_resumed_run_validates_against_the_schema() {
    let sandbox = scenario();
    let text = export(sandbox, "jsonl");
    let schema = schema();
    let journal = events(&sandbox.journal());
    let lines: Vec<&str> = text.lines().collect();
    let header = validate_line(&schema, lines[0]);
    assert_eq!(header["schema"], "ringmaster.run/1");
    assert_eq!(header["state"], "finished");
    assert_eq!(header["events"], journal.len());
    assert_eq!(lines.len(), journal.len() + 1);
    for (line, e) in lines[1..].iter().zip(&journal) {
        let v = validate_line(&schema, line);
        assert_eq!(v["schema"], "ringmaster.event/1");
        assert_eq!(v["seq"], e.seq);
        assert_eq!(v["phase"], e.phase.as_str());
        assert_eq!(v["detail"], e.detail);
    }
    let all: Vec<Value> = lines[1..].iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(all.iter().any(|v| v["phase"] == "rollback" && v["kind"] == "ok" && v["reverts"].is_i64()), "a rollback names what it reverts");
    assert!(all.iter().any(|v| v["phase"] == "retry" && v["node"] == "node2"));
    assert!(all.iter().any(|v| v["detail"]["event"] == "resumed"));
}

/// Reads `detail` back through the history type of its phase and kind; `None` for a detail
/// no type covers (`pending`, `stage_keys`, the intents of reads).
fn typed(phase: &str, kind: EventKind, detail: &Value) -> Option<Value> {
    use ringmaster::history::detail::*;
    fn back<T: Detail>(v: &Value) -> Value {
        T::of(v).unwrap_or_else(|| panic!("{} does not read {v}", std::any::type_name::<T>())).to_json()
    }
    Some(match (phase, kind) {
        ("run" | "retry" | "halted", _) => ringmaster::history::RunEvent::deserialize(detail).map(|e| e.detail()).unwrap(),
        ("backup", EventKind::Enter) => back::<BackupIntent>(detail),
        ("edit" | "rollback", EventKind::Enter) => back::<ConfigIntent>(detail),
        ("drain", EventKind::Enter) => back::<CommandIntent>(detail),
        ("restart" | "rollback_restart", EventKind::Enter) => back::<RestartIntent>(detail),
        ("backup", EventKind::Ok) => back::<BackupOk>(detail),
        ("edit", EventKind::Ok) => back::<EditOk>(detail),
        ("rollback", EventKind::Ok) if detail.get("restored_from").is_some() => back::<RestoreOk>(detail),
        ("rollback", EventKind::Ok) => back::<EditOk>(detail),
        ("drain", _) => back::<CommandOutcome>(detail),
        ("restart" | "rollback_restart", EventKind::Ok) => back::<RestartOk>(detail),
        ("restart" | "rollback_restart", EventKind::Fail) if detail.get("command").is_some() => back::<CommandOutcome>(detail),
        ("await_un" | "rollback_await_un", EventKind::Ok) => back::<AwaitUnOk>(detail),
        ("await_un" | "rollback_await_un", EventKind::Fail) if detail.get("views").is_some() => back::<AwaitUnFailure>(detail),
        ("verify_log" | "rollback_verify", EventKind::Enter) => return None,
        ("verify_log" | "rollback_verify", _) => back::<VerifyLog>(detail),
        (_, EventKind::Fail) => back::<Failure>(detail),
        _ => return None,
    })
}

#[test]
fn house_21_every_detail_of_a_real_run_reads_back_typed_byte_for_byte() {
    let journal = events(&scenario().journal());
    let mut covered = std::collections::BTreeSet::new();
    for e in &journal {
        let mut detail = e.detail.clone();
        // The driver's step marks a repeated intent; it is no field of the intent's type.
        if e.kind == EventKind::Enter {
            detail.as_object_mut().unwrap().remove("repeat");
        }
        if let Some(back) = typed(&e.phase, e.kind, &detail) {
            assert_eq!(back, detail, "seq {} ({} {}) is written back byte for byte", e.seq, e.phase, e.kind);
            covered.insert(format!("{} {}", e.phase, e.kind));
        }
    }
    for must in [
        "run enter",
        "backup enter",
        "backup ok",
        "edit ok",
        "restart enter",
        "restart ok",
        "await_un ok",
        "verify_log ok",
        "rollback ok",
        "retry info",
    ] {
        assert!(covered.contains(must), "the scenario journals `{must}`: {covered:?}");
    }
    assert!(covered.iter().any(|c| c.ends_with(" fail") && !c.starts_with("run")), "a phase failed: {covered:?}");
}

#[test]
fn markdown_post_mortem_names_the_failed_node_and_quotes_its_evidence() {
    let sandbox = scenario();
    let md = export(sandbox, "md");
    assert!(md.contains("| **outcome** | finished, after 1 rollback and 1 resume |"), "{md}");
    assert!(md.contains("### `node2` in pass `optional`, phase `await_un`"), "{md}");
    assert!(md.contains("Caused by: java.io.IOException: Invalid keystore format"), "evidence quoted verbatim:\n{md}");
    assert!(md.contains("Exception encountered during startup"), "{md}");
    assert!(md.contains("- on `node1`: node2 DN"), "nodetool views:\n{md}");
    assert!(md.contains("`node2` in pass `optional`: rollback ok, rollback\\_restart ok, rollback\\_await\\_un ok, rollback\\_verify ok; ended **rolled\\_back**; seq "), "{md}");
    assert!(md.contains("retry of \\`node2\\` in pass \\`optional\\` (was rolled\\_back)"), "{md}");
    assert!(md.contains("resumed by "), "{md}");
    let run = &events(&sandbox.journal())[0].run_id;
    assert!(md.contains(&format!("# Post-mortem of ringmaster run `{run}`")));
    assert!(md.contains("| **command** | `") && md.contains(" run --yes -i "), "{md}");
    // node2's optional row: 2 attempts, 3 restarts (restart, rollback_restart, restart).
    let row = md.lines().find(|l| l.starts_with("| `node2` |")).unwrap();
    assert!(row.starts_with("| `node2` | done | 2 | 3 |"), "{row}");
    assert!(md.contains("## Pass `enforce`"));
}

#[test]
fn runs_lists_the_run_as_a_table_and_as_json() {
    let sandbox = scenario();
    let out = run(&mut sandbox.cmd(&["runs", "--json"]));
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["cluster"], "sandbox");
    assert_eq!(rows[0]["state"], "finished");
    assert_eq!(rows[0]["events"], events(&sandbox.journal()).len());
    let table = run(&mut sandbox.cmd(&["runs"]));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains(rows[0]["id"].as_str().unwrap()) && text.contains("finished"), "{text}");
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
    })
}

/// Returns chromium, or says on stderr that the HTML is checked statically only (under
/// `CI=true` a missing chromium fails instead).
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed, and CI=true: install it (apt-get install -y chromium)"
        );
        eprintln!("SKIP: chromium is not installed (apt-get install -y chromium); the HTML was checked statically only");
    }
    found
}

/// Writes `html` to `dir/name`; returns the file and its `file://` URL.
fn page_url(dir: &Path, name: &str, html: &str) -> (PathBuf, String) {
    let page = dir.join(name);
    std::fs::write(&page, html).unwrap();
    let url = format!("file://{}", page.display());
    (page, url)
}

fn headless(chromium: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("120").arg(chromium).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display())).args(extra).arg(url);
    let out = cmd.output().expect("start chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn html_timeline_has_one_bar_per_phase_attempt_and_renders_in_headless_chromium() {
    let sandbox = scenario();
    let html = export(sandbox, "html");
    // Self-contained: nothing to fetch.
    for needle in ["<script", "<link", "src=", "@import", "url(http"] {
        assert!(!html.contains(needle), "the page must load nothing, found `{needle}`");
    }
    assert_eq!(html.matches("http").count(), html.matches("http://www.w3.org/2000/svg").count(), "only the SVG namespace URI");
    let Some(chromium) = chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (page, url) = page_url(dir.path(), "run.html", &html);
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("export-timeline.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &chromium,
        &dir.path().join("profile-shot"),
        &["--screenshot=".to_string() + &shot.display().to_string(), "--window-size=1400,900".into()]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &url,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot ({} bytes)", png.len());
    std::fs::copy(&page, artifacts.join("export-timeline.html")).unwrap();

    let dom = headless(&chromium, &dir.path().join("profile-dom"), &["--dump-dom"], &url);
    let stderr = String::from_utf8_lossy(&dom.stderr);
    for bad in ["Uncaught", "CONSOLE", "Refused to", "net::ERR"] {
        assert!(!stderr.contains(bad), "browser reported `{bad}`:\n{stderr}");
    }
    let dom = String::from_utf8_lossy(&dom.stdout);
    let bar = regex::Regex::new(
        r#"<rect class="bar (ok|fail|interrupted)( rollback)?" data-node="([^"]+)" data-pass="([^"]+)" data-phase="([^"]+)""#,
    )
    .unwrap();
    let mut drawn: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut outcomes: Vec<(String, String, String, String)> = Vec::new();
    for c in bar.captures_iter(&dom) {
        *drawn.entry((c[3].into(), c[4].into(), c[5].into())).or_default() += 1;
        outcomes.push((c[1].into(), c[3].into(), c[4].into(), c[5].into()));
    }
    let mut entered: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for e in events(&sandbox.journal()).iter().filter(|e| e.kind == EventKind::Enter && e.node.is_some()) {
        *entered.entry((e.node.clone().unwrap(), e.pass.clone().unwrap(), e.phase.clone())).or_default() += 1;
    }
    assert_eq!(drawn, entered, "one bar per journaled phase attempt, as the browser parsed the page");
    assert!(outcomes.contains(&("fail".into(), "node2".into(), "optional".into(), "await_un".into())), "node2's failed wait is a red bar");
    assert_eq!(outcomes.iter().filter(|o| o.0 == "fail").count(), 1);
    assert!(dom.contains("<title>node2 · pass optional · await_un: fail"), "hover title on the failed bar");
    assert!(dom.contains("Invalid keystore format"), "the post-mortem follows the timeline");
}

#[test]
fn no_password_appears_in_any_export() {
    let sandbox = scenario();
    let pw = passwords(sandbox);
    for format in ["jsonl", "md", "html"] {
        let text = export(sandbox, format);
        for p in &pw {
            assert!(!text.contains(p.as_str()), "a password leaked into the {format} export");
        }
    }
    // The journal holds the masked diff, so the export shows the mask instead.
    assert!(export(sandbox, "jsonl").contains("keystore_password: ********"));
}

#[test]
fn run_events_json_streams_every_event_as_schema_lines_identical_to_the_export() {
    let sandbox = Sandbox::new(2, "0s");
    let out = run(sandbox.cmd(&["run", "--yes", "--events-json", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("finished: every node completed every pass"), "the report goes to stderr");
    let schema = schema();
    let streamed: Vec<&str> = stdout.lines().collect();
    for line in &streamed {
        let v = validate_line(&schema, line);
        assert_eq!(v["schema"], "ringmaster.event/1");
    }
    let exported = export(&sandbox, "jsonl");
    let exported: Vec<&str> = exported.lines().skip(1).collect();
    assert_eq!(streamed, exported, "the stream is exactly the journal, line for line");
    assert!(streamed.len() > 30);
    let last: Value = serde_json::from_str(streamed.last().unwrap()).unwrap();
    assert_eq!(last["detail"]["event"], "finished");
    for p in passwords(&sandbox) {
        assert!(!stdout.contains(p.as_str()));
    }
}

/// The post-mortem of a run that staged keys, paused after its `optional` pass and was
/// resumed: passes drawn in the order they ran, every node labelled by its outcome,
/// preflight on the timeline and in the report, the pause a labelled gap.
#[test]
fn post_mortem_draws_passes_in_the_order_they_ran_with_preflight_and_the_pause() {
    let sandbox = Sandbox::new(3, "0s");
    crate::preflight_stage_keys::prepare(&sandbox, &crate::preflight_stage_keys::id("-un"), &crate::preflight_stage_keys::id("-gn"));
    let out = run(sandbox.cmd(&["run", "--yes", "--pause-after-pass", "-i"]).arg(sandbox.inventory()));
    assert_eq!(out.status.code(), Some(0));
    let out = run(&mut sandbox.cmd(&["resume"]));
    assert_eq!(out.status.code(), Some(0));
    let evs = events(&sandbox.journal());
    assert!(evs.iter().any(|e| e.pass.as_deref() == Some("keys") && e.phase == "stage_keys" && e.kind == EventKind::Ok));

    let md = export(&sandbox, "md");
    let at = |needle: &str| md.find(needle).unwrap_or_else(|| panic!("`{needle}` in:\n{md}"));
    assert!(at("## Preflight") < at("## Pass `keys`"), "preflight comes first");
    assert!(at("## Pass `keys`") < at("## Pass `optional`") && at("## Pass `optional`") < at("## Pass `enforce`"), "in the order they ran");
    let keys = &md[at("## Pass `keys`")..at("## Pass `optional`")];
    assert!(!keys.contains("pending"), "staged nodes are not `(pending)`:\n{keys}");
    for node in &sandbox.nodes {
        assert!(keys.contains(&format!("| `{node}` | done |")), "{keys}");
    }
    let preflight = &md[at("## Preflight")..at("## Pass `keys`")];
    assert_eq!(preflight.matches("passed in ").count(), 2, "the run's preflight and the resume's:\n{preflight}");
    assert!(preflight.contains("the cluster and 3 node(s), 0 blocker(s)"), "{preflight}");
    assert!(preflight.contains("the cluster and 0 node(s)"), "the resume after the pass: every node touched, cluster checks only");
    assert!(md.contains("## Pauses\n\n- paused after pass \\`optional\\` for "), "{md}");

    let html = export(&sandbox, "html");
    let passes: Vec<&str> = regex::Regex::new(r#"<text class="pass" x="4" y="[0-9.]+">([^<]+)</text>"#)
        .unwrap()
        .captures_iter(&html)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(passes, ["preflight", "pass keys", "pass optional", "pass enforce"], "lanes in the order things ran");
    for node in &sandbox.nodes {
        assert!(html.contains(&format!(">{node} (done)</text>")), "{node} labelled by its outcome");
        assert!(!html.contains(&format!(">{node} (pending)</text>")));
    }
    let x_of =
        |re: &str| -> Vec<f64> { regex::Regex::new(re).unwrap().captures_iter(&html).map(|c| c[1].parse::<f64>().unwrap()).collect() };
    let preflight_x = x_of(r#"<rect class="preflight passed" data-seq="\d+" x="([0-9.]+)""#);
    assert_eq!(preflight_x.len(), 2, "both preflights are drawn");
    let keys_x = x_of(r#"<rect class="bar ok" data-node="node1" data-pass="keys" data-phase="stage_keys" data-seq="\d+" x="([0-9.]+)""#);
    let optional_x =
        x_of(r#"<rect class="bar ok" data-node="node1" data-pass="optional" data-phase="backup" data-seq="\d+" x="([0-9.]+)""#);
    let enforce_x = x_of(r#"<rect class="bar ok" data-node="node1" data-pass="enforce" data-phase="backup" data-seq="\d+" x="([0-9.]+)""#);
    let pause_x = x_of(r#"<rect class="pause" x="([0-9.]+)""#);
    assert_eq!(pause_x.len(), 1, "one pause, one gap");
    assert!(preflight_x[0] <= keys_x[0] && keys_x[0] < optional_x[0], "preflight, then keys, then optional, left to right");
    assert!(
        optional_x[0] < pause_x[0] && pause_x[0] < preflight_x[1] && preflight_x[1] <= enforce_x[0],
        "the pause, then preflight, then enforce"
    );
    assert!(regex::Regex::new(r#"<text class="pause"[^>]*>paused \d"#).unwrap().is_match(&html), "the gap names the pause's duration");

    let Some(chromium) = chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_, url) = page_url(dir.path(), "paused.html", &html);
    let dom = headless(&chromium, &dir.path().join("profile-dom"), &["--dump-dom"], &url);
    let stderr = String::from_utf8_lossy(&dom.stderr);
    for bad in ["Uncaught", "CONSOLE", "Refused to", "net::ERR"] {
        assert!(!stderr.contains(bad), "browser reported `{bad}`:\n{stderr}");
    }
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<rect class=\"pause\""), "the browser parsed the pause gap");
    assert_eq!(dom.matches("<rect class=\"preflight passed\"").count(), 2);
}
