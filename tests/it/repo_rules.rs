//! Rules about the code itself that a reviewer would otherwise have to remember.

use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn journal_events_are_never_updated_or_deleted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    walk(&root.join("migrations"), &mut files);
    let re = regex::Regex::new(r"(?i)\b(UPDATE|DELETE\s+FROM)\s+events\b").unwrap();
    let offenders: Vec<String> =
        files.iter().filter(|p| re.is_match(&std::fs::read_to_string(p).unwrap_or_default())).map(|p| p.display().to_string()).collect();
    assert!(offenders.is_empty(), "UPDATE/DELETE of journal events in {offenders:?}");
}

/// The layers of the library, lowest first: a module may import (`crate::X`) only from
/// layers below its own. Same-rank modules do not import each other.
const LAYERS: &[&[&str]] = &[
    &["position", "host", "clock", "ui"],
    &["transport", "journal"],
    &["secrets"],
    &["cassandra"],
    &["topology"],
    &["inventory"],
    &["workflow", "sandbox"],
    &["preflight", "history"],
    &["driver", "export"],
    &["run"],
    &["cli"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[test]
fn house_21_no_module_imports_one_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let uses = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut offenders = Vec::new();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let relative = path.strip_prefix(&root).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if first == "main" || first == "lib" {
            continue;
        }
        let own = rank(&first).unwrap_or_else(|| panic!("src/{first} is in no layer of LAYERS: add it where it belongs"));
        for (n, line) in std::fs::read_to_string(path).unwrap().lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for m in uses.captures_iter(code) {
                let target = &m[1];
                if target == first || target == "outln" {
                    continue;
                }
                match rank(target) {
                    Some(r) if r < own => {}
                    _ => offenders.push(format!("src/{}:{}: `{first}` imports `crate::{target}`", relative.display(), n + 1)),
                }
            }
        }
    }
    assert!(offenders.is_empty(), "imports against the layering (docs/DESIGN.md):\n{}", offenders.join("\n"));
}

#[test]
fn house_21_one_clock_helper() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    let clocks: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.contains("fn now_ms") || text.contains("SystemTime::now")
        })
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert_eq!(clocks, ["src/clock.rs"], "the wall clock is read in one place: crate::clock::now_ms");
}

#[test]
fn house_21_the_driver_only_drives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let driver = std::fs::read_to_string(root.join("src/driver/mod.rs")).unwrap();
    assert!(driver.lines().count() < 300, "src/driver/mod.rs has {} lines", driver.lines().count());
    let mut files = Vec::new();
    walk(&root.join("src/driver"), &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(root).unwrap().display().to_string();
        assert!(!text.contains("too_many_arguments"), "{name}: a driver takes its parts, not eight arguments");
        // Steps dispatch on the machine's `State`; a phase name is only journaled.
        assert!(!text.contains("match phase"), "{name} dispatches on a phase name");
        assert!(!text.contains("fn interruptible"), "{name} re-lists what the machine knows (node::is_interruptible)");
    }
}

/// Returns the `.rs` files under src/ outside src/history/ whose text matches `re`.
fn outside_history_matching(re: &regex::Regex) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.starts_with(root.join("src/history")))
        .filter(|p| re.is_match(&std::fs::read_to_string(p).unwrap_or_default()))
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

/// Issue 21: run events are written as `history::RunEvent`s, never as JSON literals.
#[test]
fn house_21_no_run_event_json_literal_outside_history() {
    let re = regex::Regex::new(r#"json!\(\s*\{\s*"event""#).unwrap();
    assert!(re.is_match(r#"json!({"event": "finished"})"#) && re.is_match("json!(\n    {\n \"event\": 1})"), "the rule sees a literal");
    let offenders = outside_history_matching(&re);
    assert!(offenders.is_empty(), "json!({{\"event\" ...}}) outside src/history/ in {offenders:?}: write a history::RunEvent");
}

/// Issue 21: journaled details are read back through the typed events and details of
/// src/history/ (`RunEvent::of`, `history::detail`), not by string key.
#[test]
fn house_21_journaled_details_are_read_only_through_history() {
    let re = regex::Regex::new(r#"\bdetail\s*\.\s*get\(|\["detail"\]|\bdetail\[|=\s*&\w+\.detail;"#).unwrap();
    for read in [r#"e.detail.get("event")"#, r#"let d = &e.detail;"#, r#"e["detail"]"#, r#"detail["error"]"#] {
        assert!(re.is_match(read), "the rule sees `{read}`");
    }
    // The lead's run layer takes these over (the `--events-json` start and the failure
    // report); an entry must go once its file no longer reads details by key.
    let pending: [&str; 0] = [];
    let offenders = outside_history_matching(&re);
    for p in pending {
        assert!(offenders.iter().any(|o| o == p), "`{p}` reads details through history now: drop it from `pending`");
    }
    let offenders: Vec<&String> = offenders.iter().filter(|o| !pending.contains(&o.as_str())).collect();
    assert!(offenders.is_empty(), "details read by string key outside src/history/ in {offenders:?}: use RunEvent::of or history::detail");
}
