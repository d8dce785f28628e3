//! The sandbox's topology model through the real binary: `init --dcs/--racks/--keyspace`,
//! `nodetool describering` replica placement per rack, multi-DC `status`, `describecluster`
//! keyspaces and down nodes, and a 300-node init past the 127.0.0.254 boundary.

use std::collections::BTreeSet;

use crate::support::sandbox::{Sandbox, sandbox};

fn stdout(sb: &Sandbox, node: &str, args: &[&str]) -> String {
    let out = sb.nodetool(node, args);
    assert!(out.status.success(), "nodetool {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// One parsed `TokenRange(...)` line: end token and the replicas' (host, dc, rack).
struct Range {
    start: i64,
    end: i64,
    replicas: Vec<(String, String, String)>,
}

fn parse_ring(text: &str) -> Vec<Range> {
    let range = regex::Regex::new(
        r"^\tTokenRange\(start_token:(-?\d+), end_token:(-?\d+), endpoints:\[([^\]]*)\], rpc_endpoints:\[([^\]]*)\], endpoint_details:\[(.*)\]\)$",
    )
    .expect("regex");
    let detail = regex::Regex::new(r"EndpointDetails\(host:([^,]+), datacenter:([^,]+), rack:([^)]+)\)").expect("regex");
    let mut lines = text.lines();
    assert!(lines.next().is_some_and(|l| l.starts_with("Schema Version:")), "{text}");
    assert_eq!(lines.next(), Some("TokenRange: "));
    lines
        .map(|l| {
            let c = range.captures(l).unwrap_or_else(|| panic!("bad line {l:?}"));
            let replicas: Vec<(String, String, String)> =
                detail.captures_iter(&c[5]).map(|d| (d[1].to_owned(), d[2].to_owned(), d[3].to_owned())).collect();
            let endpoints: Vec<&str> = c[3].split(", ").collect();
            assert_eq!(endpoints, replicas.iter().map(|r| r.0.as_str()).collect::<Vec<_>>());
            assert_eq!(&c[3], &c[4], "rpc_endpoints are the native addresses");
            Range { start: c[1].parse().expect("token"), end: c[2].parse().expect("token"), replicas }
        })
        .collect()
}

/// Checks that the ranges tile the ring: every end token is the start of exactly one range.
fn assert_tiles_ring(ranges: &[Range]) {
    let starts: BTreeSet<i64> = ranges.iter().map(|r| r.start).collect();
    let ends: BTreeSet<i64> = ranges.iter().map(|r| r.end).collect();
    assert_eq!(starts.len(), ranges.len());
    assert_eq!(starts, ends);
}

#[test]
fn nts_rf3_over_three_racks_puts_one_replica_in_each_rack() {
    let sb = Sandbox::with_args(12, "0s", &["--racks", "3", "--keyspace", "app:NetworkTopologyStrategy:datacenter1=3"]);
    let ranges = parse_ring(&stdout(&sb, "node1", &["describering", "app"]));
    assert_eq!(ranges.len(), 12 * 16);
    assert_tiles_ring(&ranges);
    for r in &ranges {
        let racks: BTreeSet<&str> = r.replicas.iter().map(|x| x.2.as_str()).collect();
        assert_eq!(r.replicas.len(), 3);
        assert_eq!(racks.len(), 3, "range ending {} has {:?}", r.end, r.replicas);
        assert!(r.replicas.iter().all(|x| x.1 == "datacenter1"));
    }
    // Round-robin placement: node4 (127.0.0.4) is in rack1 again.
    let status = stdout(&sb, "node1", &["status", "app"]);
    let row = status.lines().find(|l| l.contains(" 127.0.0.4 ")).expect("node4 row");
    assert!(row.trim_end().ends_with("rack1"), "{row}");
    // Ownership follows the placement: RF 3 over 12 nodes sums to 300%.
    let total: f64 = status
        .lines()
        .filter(|l| l.starts_with("UN"))
        .map(|l| {
            let owns = l.split_whitespace().nth(5).expect("owns");
            owns.trim_end_matches('%').parse::<f64>().expect("percent")
        })
        .sum();
    assert!((total - 300.0).abs() < 1.0, "{status}");
}

#[test]
fn simple_strategy_rf3_doubles_up_a_rack_for_some_range() {
    let sb = Sandbox::with_args(12, "0s", &["--racks", "3", "--keyspace", "simple:SimpleStrategy:3"]);
    let ranges = parse_ring(&stdout(&sb, "node3", &["describering", "simple"]));
    assert_eq!(ranges.len(), 192);
    assert!(ranges.iter().all(|r| r.replicas.len() == 3));
    let doubled = ranges.iter().filter(|r| r.replicas.iter().map(|x| x.2.as_str()).collect::<BTreeSet<_>>().len() < 3).count();
    assert!(doubled > 0, "SimpleStrategy ignores racks");
}

#[test]
fn two_dcs_give_two_status_sections_and_describecluster_lists_them() {
    let sb = Sandbox::with_args(
        6,
        "0s",
        &["--dcs", "2", "--keyspace", "app:NetworkTopologyStrategy:dc1=3,dc2=3", "--keyspace", "logs:SimpleStrategy:2"],
    );
    let status = stdout(&sb, "node1", &["status", "app"]);
    let dc1 = status.find("Datacenter: dc1\n===============\n").expect("dc1");
    let dc2 = status.find("\n\nDatacenter: dc2\n===============\n").expect("dc2 after an empty line");
    assert!(dc1 < dc2);
    let rows: Vec<&str> = status.lines().filter(|l| l.starts_with("UN")).collect();
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.contains("  100.0%  ")), "{status}");
    // node1, node3, node5 are dc1.
    let dc1_block = &status[dc1..dc2];
    for a in ["127.0.0.1 ", "127.0.0.3 ", "127.0.0.5 "] {
        assert!(dc1_block.contains(a), "{status}");
    }

    let text = stdout(&sb, "node2", &["describecluster"]);
    assert!(text.contains("\tSnitch: org.apache.cassandra.locator.GossipingPropertyFileSnitch\n"));
    assert!(text.contains("\nData Centers: \n\tdc1 #Nodes: 3 #Down: 0\n\tdc2 #Nodes: 3 #Down: 0\n"), "{text}");
    assert!(text.contains("\tapp -> Replication class: NetworkTopologyStrategy {dc2=3, dc1=3}\n"), "{text}");
    assert!(text.contains("\tlogs -> Replication class: SimpleStrategy {replication_factor=2}\n"), "{text}");
    assert!(text.contains("\tsystem_auth -> Replication class: SimpleStrategy {replication_factor=1}\n"));
    assert!(text.starts_with("Cluster Information:\n\tName: sandbox\n"));
    assert!(
        text.ends_with(
            "\nNote: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n"
        ),
        "{text}"
    );
    // Without a keyspace the differing user keyspaces make status print `?` and the note.
    let plain = stdout(&sb, "node1", &["status"]);
    assert!(plain.contains("  Owns  "), "{plain}");
    assert!(plain.ends_with(
        "Note: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n"
    ));

    // Tablestats lists every keyspace for tools that grep `Keyspace : `.
    let stats = stdout(&sb, "node1", &["tablestats"]);
    for ks in ["app", "logs", "system", "system_traces"] {
        assert!(stats.contains(&format!("\nKeyspace : {ks}\n")), "{stats}");
    }
}

#[test]
fn stopped_node_answers_with_the_jmx_error_and_others_see_it_down() {
    let sb = Sandbox::with_args(4, "0s", &["--racks", "2", "--keyspace", "app:SimpleStrategy:3"]);
    let out = sb.sandbox("stop", &["node3"]);
    assert!(out.status.success());
    for args in [&["describecluster"][..], &["describering", "app"][..]] {
        let out = sb.nodetool("node3", args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "nodetool: Failed to connect to '127.0.0.3:7199' - ConnectException: 'Connection refused'.\n"
        );
        assert!(out.stdout.is_empty());
    }
    let text = stdout(&sb, "node1", &["describecluster"]);
    assert!(text.contains("\t\tUNREACHABLE: [127.0.0.3]\n\n"), "{text}");
    assert!(text.contains("\tLive: 3\n") && text.contains("\tUnreachable: 1\n"), "{text}");
    assert!(text.contains("\tdatacenter1 #Nodes: 4 #Down: 1\n"), "{text}");
    let cstar_name = regex::Regex::new(r"(?m)^\s*Name:\s*(.*)$").expect("regex");
    assert_eq!(&cstar_name.captures(&text).expect("name")[1], "sandbox");
}

#[test]
fn describering_of_unknown_or_local_keyspace_fails_like_nodetool() {
    let sb = Sandbox::with_args(3, "0s", &[]);
    let out = sb.nodetool("node1", &["describering", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Schema Version:") && stdout.ends_with("TokenRange: \n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: java.io.IOException: No such keyspace: nope\n-- StackTrace --\n"), "{stderr}");
    let out = sb.nodetool("node1", &["describering", "system"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("There is no ring for the keyspace: system"));
    // system_traces is replicated: 48 ranges, 2 replicas each.
    let ranges = parse_ring(&self::stdout(&sb, "node2", &["describering", "system_traces"]));
    assert_eq!(ranges.len(), 48);
    assert!(ranges.iter().all(|r| r.replicas.len() == 2));
    let out = sb.nodetool("node1", &["status", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\nError: The keyspace nope, does not exist\n");
}

#[test]
fn bad_topology_options_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path().join("x");
    let d = d.to_str().expect("utf-8");
    for (args, needle) in [
        (vec!["--nodes", "1001"], "between 1 and 1000"),
        (vec!["--nodes", "4", "--racks", "3", "--dcs", "2"], "`--racks 3`"),
        (vec!["--keyspace", "a:NetworkTopologyStrategy:dc9=3"], "datacenter `dc9`"),
        (vec!["--keyspace", "a:Bogus:3"], "unknown strategy"),
    ] {
        let mut all = vec!["init", "--dir", d];
        all.extend(args);
        let out = sandbox(&all);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn three_hundred_nodes_cross_the_first_address_block() {
    let sb = Sandbox::with_args(300, "0s", &["--racks", "3"]);
    let inv = sb.inventory_toml();
    let nodes = inv["node"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 300);
    assert_eq!(nodes[253]["address"].as_str(), Some("127.0.0.254"));
    assert_eq!(nodes[254]["address"].as_str(), Some("127.0.1.1"));
    assert_eq!(nodes[299]["address"].as_str(), Some("127.0.1.46"));
    let status = stdout(&sb, "node300", &["status"]);
    assert_eq!(status.lines().filter(|l| l.starts_with("UN")).count(), 300);
    assert!(status.contains("UN  127.0.1.46 "), "padded to the widest address");
    let text = stdout(&sb, "node255", &["describecluster"]);
    assert!(text.contains("\tLive: 300\n") && text.contains("#Nodes: 300 #Down: 0"));
}
