//! `inventory from-ansible` on YAML and INI inventories (groups, children, host and group
//! vars, ports, passwords never copied) and `inventory discover` on the sandbox.

use std::path::Path;

use crate::support::sandbox::Sandbox;
use crate::support::{ringmaster, run};
use ringmaster::inventory::Inventory;

const YAML: &str = r#"
all:
  vars:
    ansible_user: root
    ansible_password: hunter2-ansible
  children:
    cassandra:
      vars:
        ansible_user: ops
      hosts:
        db02:
          ansible_host: 10.0.0.12
        db01:
          ansible_host: 10.0.0.11
          ansible_user: admin
      children:
        cassandra_dc2:
          vars:
            ansible_port: 2222
          hosts:
            db[03:04]:
    web:
      hosts:
        www1:
"#;

const INI: &str = r#"
# a classic INI inventory
www1 ansible_host=192.0.2.1

[dc1]
db02 ansible_host=10.0.0.12
db01 ansible_host=10.0.0.11 ansible_user=admin ansible_become_pass='s3cret pass'

[dc2]
db03 ansible_host=10.0.1.13 ansible_port=2222

[cassandra:children]
dc1
dc2

[cassandra:vars]
ansible_user=ops

[all:vars]
ansible_user=root
"#;

fn convert(file: &Path, args: &[&str]) -> (String, Inventory) {
    let out = run(ringmaster().args(["inventory", "from-ansible"]).arg(file).args(args));
    assert!(out.status.success());
    let toml = String::from_utf8(out.stdout).unwrap();
    let path = file.with_extension("toml");
    std::fs::write(&path, &toml).unwrap();
    let inv = Inventory::load(&path).unwrap_or_else(|e| panic!("the output is a valid cluster.toml: {e}\n{toml}"));
    (toml, inv)
}

fn names(inv: &Inventory) -> Vec<&str> {
    inv.nodes.iter().map(|n| n.name.as_str()).collect()
}

#[test]
fn yaml_inventory_group_with_children_vars_ranges_and_ports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts.yml");
    std::fs::write(&file, YAML).unwrap();
    let (toml, inv) = convert(&file, &["--group", "cassandra"]);
    assert_eq!(inv.cluster, "cassandra");
    assert_eq!(names(&inv), ["db02", "db01", "db03", "db04"], "file order, children after, ranges expanded");
    let node = |n: &str| inv.node(n).unwrap();
    assert_eq!(node("db01").address, "10.0.0.11");
    assert_eq!(node("db01").ssh, "admin@10.0.0.11", "host var beats group var");
    assert_eq!(node("db02").ssh, "ops@10.0.0.12", "child group var beats `all`");
    assert_eq!(node("db03").address, "db03", "no ansible_host: the name");
    assert_eq!(node("db03").ssh, "db03", "a port needs an ssh_config Host alias");
    assert!(toml.contains("#   Host db03\n#     HostName db03\n#     User ops\n#     Port 2222\n"), "{toml}");
    assert!(!toml.contains("hunter2"), "passwords are never copied");
    assert!(toml.contains("sets password variables"), "{toml}");
    // Without --group: every host, the web one too.
    let (_, all) = convert(&file, &[]);
    assert_eq!(names(&all), ["db02", "db01", "db03", "db04", "www1"]);
    assert_eq!(all.node("www1").unwrap().ssh, "root@www1");
}

#[test]
fn ini_inventory_with_children_group_vars_and_quoted_host_vars() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts.ini");
    std::fs::write(&file, INI).unwrap();
    let (toml, inv) = convert(&file, &["--group", "cassandra", "--cluster", "prod-eu"]);
    assert_eq!(inv.cluster, "prod-eu");
    assert_eq!(names(&inv), ["db02", "db01", "db03"]);
    assert_eq!(inv.node("db01").unwrap().ssh, "admin@10.0.0.11");
    assert_eq!(inv.node("db02").unwrap().ssh, "ops@10.0.0.12", "[cassandra:vars] reaches the children");
    assert_eq!(inv.node("db03").unwrap().address, "10.0.1.13");
    assert!(toml.contains("#     Port 2222"), "{toml}");
    assert!(!toml.contains("s3cret"), "{toml}");
    let json = run(ringmaster().args(["inventory", "from-ansible"]).arg(&file).args(["--group", "dc2", "--json"]));
    let hosts: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        hosts,
        serde_json::json!([{"name": "db03", "address": "10.0.1.13", "user": "ops", "port": 2222, "groups": ["cassandra", "dc2"]}])
    );
    let unknown = run(ringmaster().args(["inventory", "from-ansible"]).arg(&file).args(["--group", "nope"]));
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no group `nope`"));
}

#[test]
fn discover_reads_nodetool_status_of_one_sandbox_node() {
    let sandbox = Sandbox::new(3, "0s");
    let inv = Inventory::load(&sandbox.inventory()).unwrap();
    let nodetool = &inv.node("node1").unwrap().nodetool_command;
    let out = run(ringmaster().args([
        "inventory",
        "discover",
        "--seed",
        "node1",
        "--transport",
        "local",
        "--cluster",
        "found",
        "--nodetool-command",
        nodetool,
    ]));
    assert!(out.status.success());
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(toml.contains("# 3 nodes in 1 datacenter(s): datacenter1 (racks rack1)"), "{toml}");
    assert!(toml.contains("# datacenter datacenter1, rack rack1"), "{toml}");
    let path = sandbox.path().join("discovered.toml");
    std::fs::write(&path, &toml).unwrap();
    let found = Inventory::load(&path).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(found.cluster, "found");
    let mut addresses: Vec<&str> = found.nodes.iter().map(|n| n.address.as_str()).collect();
    addresses.sort();
    assert_eq!(addresses, ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    // A stopped node is flagged.
    run(ringmaster().args(["sandbox", "stop", "--dir"]).arg(sandbox.path()).arg("node3"));
    let json = run(ringmaster().args([
        "inventory",
        "discover",
        "--seed",
        "node1",
        "--transport",
        "local",
        "--json",
        "--nodetool-command",
        nodetool,
    ]));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let node3 = v["nodes"].as_array().unwrap().iter().find(|n| n["address"] == "127.0.0.3").unwrap();
    assert_eq!(node3["status"], "D");
    let bad = run(ringmaster().args(["inventory", "discover", "--seed", "node1", "--transport", "local", "--nodetool-command", "false"]));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`false status` on `node1` exited"));
}
