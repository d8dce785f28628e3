//! `ringmaster inspect status`: every real-format fixture parses, garbage is an error.

use std::path::Path;

use crate::support::{ringmaster, run};

#[test]
fn inspect_status_parses_every_fixture_into_json_nodes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/nodetool-status");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "txt")).collect();
    files.sort();
    assert_eq!(files.len(), 6, "the six upstream fixtures");
    let data_row = regex::Regex::new(r"^[UD?][NLJM]\s").unwrap();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let out = run(ringmaster().args(["inspect", "status", "--json"]).arg(&file));
        assert_eq!(out.status.code(), Some(0), "{}", file.display());
        let nodes: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        // One JSON node per data row of the file, with the row's own address and state.
        let rows: Vec<&str> = text.lines().filter(|l| data_row.is_match(l)).collect();
        assert_eq!(nodes.len(), rows.len(), "{}", file.display());
        for (node, row) in nodes.iter().zip(&rows) {
            let fields: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(format!("{}{}", node["status"].as_str().unwrap(), node["state"].as_str().unwrap()), fields[0]);
            assert!(fields[1].contains(node["address"].as_str().unwrap()), "{row}");
            for key in ["datacenter", "status", "state", "address", "load", "tokens", "owns", "host_id", "rack"] {
                assert!(node.get(key).is_some(), "{key} in {node}");
            }
        }
    }
}

#[test]
fn inspect_status_on_stdin_and_garbage_is_an_error_never_up() {
    use std::io::Write;
    use std::process::Stdio;
    for garbage in ["", "hello\n", "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'.\n"] {
        let mut child = ringmaster()
            .args(["inspect", "status", "--json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(garbage.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{garbage:?}");
        assert!(out.stdout.is_empty(), "no nodes printed for {garbage:?}");
    }
}
