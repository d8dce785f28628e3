//! The cluster: its nodes, how to reach each one, where its files are and which
//! commands restart it and ask it for `nodetool status`.
//!
//! `cluster.toml` has a cluster name, an optional secrets file, `[defaults]` and one
//! `[[node]]` table per node, in rollout order. Any node key overrides the default of the
//! same name; string values may use `{node}` and `{address}`. Passwords are never here:
//! see [`crate::secrets`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How ringmaster reaches a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Local,
    Ssh,
}

/// One node, with every default applied and every template expanded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    /// The address `nodetool status` shows for this node.
    pub address: String,
    pub transport: TransportKind,
    /// SSH destination (`user@host`, a Host alias); defaults to the address.
    pub ssh: String,
    pub config_path: String,
    pub log_path: String,
    /// Where the node's keystore and truststore live (`{ssl_dir}` in workflows).
    pub ssl_dir: String,
    pub restart_command: String,
    pub nodetool_command: String,
    /// Wrap remote commands and file writes in `sudo -n`.
    pub sudo: bool,
    /// How long after a restart command the service may take to write its first log
    /// line; resume waits this long for proof of a boot before restarting again.
    #[serde(with = "humantime_serde_compat")]
    pub boot_grace: Duration,
    pub ssh_config: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    /// Owner of the key files and `ssl_dir` on the node (`stage_keys`, preflight).
    #[serde(default = "default_key_user")]
    pub key_owner: String,
    /// Group of the key files and `ssl_dir` on the node.
    #[serde(default = "default_key_user")]
    pub key_group: String,
    /// A keystore on this machine that `stage_keys` installs as the node's keystore.
    #[serde(default)]
    pub keystore_source: Option<PathBuf>,
    /// A truststore on this machine that `stage_keys` installs as the node's truststore.
    #[serde(default)]
    pub truststore_source: Option<PathBuf>,
}

fn default_key_user() -> String {
    "cassandra".into()
}

/// Built-in defaults, used when neither the node nor `[defaults]` sets a key.
pub mod defaults {
    pub const CONFIG_PATH: &str = "/etc/cassandra/cassandra.yaml";
    pub const LOG_PATH: &str = "/var/log/cassandra/system.log";
    pub const SSL_DIR: &str = "/etc/cassandra/ssl";
    pub const RESTART_COMMAND: &str = "sudo systemctl restart cassandra";
    pub const NODETOOL_COMMAND: &str = "nodetool";
    pub const BOOT_GRACE: &str = "20s";
    pub const KEY_OWNER: &str = "cassandra";
}

impl Node {
    /// Returns a node with every built-in default (as if the inventory named only it).
    pub fn with_defaults(name: &str, address: &str, transport: TransportKind) -> Node {
        Node {
            name: name.into(),
            address: address.into(),
            transport,
            ssh: address.into(),
            config_path: defaults::CONFIG_PATH.into(),
            log_path: defaults::LOG_PATH.into(),
            ssl_dir: defaults::SSL_DIR.into(),
            restart_command: defaults::RESTART_COMMAND.into(),
            nodetool_command: defaults::NODETOOL_COMMAND.into(),
            sudo: false,
            boot_grace: humantime::parse_duration(defaults::BOOT_GRACE).expect("BUG: default parses"),
            ssh_config: None,
            known_hosts: None,
            key_owner: defaults::KEY_OWNER.into(),
            key_group: defaults::KEY_OWNER.into(),
            keystore_source: None,
            truststore_source: None,
        }
    }
}

/// The whole inventory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    pub path: PathBuf,
    pub cluster: String,
    pub secrets: Option<PathBuf>,
    pub nodes: Vec<Node>,
}

/// Why an inventory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("cannot read inventory `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: no node named `{name}` (nodes: {known})")]
    UnknownNode { path: PathBuf, name: String, known: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    transport: Option<TransportKind>,
    ssh: Option<String>,
    config_path: Option<String>,
    log_path: Option<String>,
    ssl_dir: Option<String>,
    restart_command: Option<String>,
    nodetool_command: Option<String>,
    sudo: Option<bool>,
    boot_grace: Option<String>,
    ssh_config: Option<String>,
    known_hosts: Option<String>,
    key_owner: Option<String>,
    key_group: Option<String>,
    keystore_source: Option<String>,
    truststore_source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: String,
    address: String,
    transport: Option<TransportKind>,
    ssh: Option<String>,
    config_path: Option<String>,
    log_path: Option<String>,
    ssl_dir: Option<String>,
    restart_command: Option<String>,
    nodetool_command: Option<String>,
    sudo: Option<bool>,
    boot_grace: Option<String>,
    ssh_config: Option<String>,
    known_hosts: Option<String>,
    key_owner: Option<String>,
    key_group: Option<String>,
    keystore_source: Option<String>,
    truststore_source: Option<String>,
}

impl RawNode {
    fn split(self) -> (String, String, Fields) {
        let f = Fields {
            transport: self.transport,
            ssh: self.ssh,
            config_path: self.config_path,
            log_path: self.log_path,
            ssl_dir: self.ssl_dir,
            restart_command: self.restart_command,
            nodetool_command: self.nodetool_command,
            sudo: self.sudo,
            boot_grace: self.boot_grace,
            ssh_config: self.ssh_config,
            known_hosts: self.known_hosts,
            key_owner: self.key_owner,
            key_group: self.key_group,
            keystore_source: self.keystore_source,
            truststore_source: self.truststore_source,
        };
        (self.name, self.address, f)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    cluster: String,
    secrets: Option<String>,
    #[serde(default)]
    defaults: Fields,
    #[serde(default, rename = "node")]
    nodes: Vec<RawNode>,
}

impl Inventory {
    /// Reads and validates an inventory file.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read { path: path.into(), source })?;
        Inventory::parse(path, &text)
    }

    /// Parses inventory text; relative paths resolve against the file's directory.
    pub fn parse(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
        let raw: RawInventory = toml::from_str(text).map_err(|e| {
            let (line, column) = crate::position::line_col(text, e.span().map(|s| s.start).unwrap_or(0));
            InventoryError::Parse { path: path.into(), line, column, message: e.message().trim().to_string() }
        })?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let invalid = |message: String| InventoryError::Invalid { path: path.into(), message };
        if raw.nodes.is_empty() {
            return Err(invalid("no `[[node]]` entries".into()));
        }
        let d = raw.defaults;
        let mut nodes: Vec<Node> = Vec::new();
        for rn in raw.nodes {
            let (name, address, n) = rn.split();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(invalid(format!("node name `{name}` must be letters, digits, `-`, `_` or `.`")));
            }
            if nodes.iter().any(|o| o.name == name) {
                return Err(invalid(format!("node `{name}` appears twice")));
            }
            if nodes.iter().any(|o| o.address == address) {
                return Err(invalid(format!("address `{address}` of node `{name}` appears twice")));
            }
            let expand = |v: String| v.replace("{node}", &name).replace("{address}", &address);
            let pick = |own: Option<String>, def: &Option<String>, builtin: &str| {
                expand(own.or_else(|| def.clone()).unwrap_or_else(|| builtin.to_string()))
            };
            let boot_grace_text = pick(n.boot_grace, &d.boot_grace, defaults::BOOT_GRACE);
            let boot_grace = humantime::parse_duration(&boot_grace_text)
                .map_err(|e| invalid(format!("node `{name}`: boot_grace `{boot_grace_text}`: {e}")))?;
            let rel = |p: Option<String>| p.map(|p| base.join(expand(p)));
            let node = Node {
                transport: n.transport.or(d.transport).unwrap_or(TransportKind::Ssh),
                ssh: pick(n.ssh, &d.ssh, &address),
                config_path: pick(n.config_path, &d.config_path, defaults::CONFIG_PATH),
                log_path: pick(n.log_path, &d.log_path, defaults::LOG_PATH),
                ssl_dir: pick(n.ssl_dir, &d.ssl_dir, defaults::SSL_DIR),
                restart_command: pick(n.restart_command, &d.restart_command, defaults::RESTART_COMMAND),
                nodetool_command: pick(n.nodetool_command, &d.nodetool_command, defaults::NODETOOL_COMMAND),
                sudo: n.sudo.or(d.sudo).unwrap_or(false),
                boot_grace,
                ssh_config: rel(n.ssh_config.or_else(|| d.ssh_config.clone())),
                known_hosts: rel(n.known_hosts.or_else(|| d.known_hosts.clone())),
                key_owner: pick(n.key_owner, &d.key_owner, defaults::KEY_OWNER),
                key_group: pick(n.key_group, &d.key_group, defaults::KEY_OWNER),
                keystore_source: rel(n.keystore_source.or_else(|| d.keystore_source.clone())),
                truststore_source: rel(n.truststore_source.or_else(|| d.truststore_source.clone())),
                name,
                address,
            };
            for (what, value) in [("config_path", &node.config_path), ("log_path", &node.log_path)] {
                if !value.starts_with('/') {
                    return Err(invalid(format!("node `{}`: {what} `{value}` must be an absolute path", node.name)));
                }
            }
            nodes.push(node);
        }
        Ok(Inventory { path: path.into(), cluster: raw.cluster, secrets: raw.secrets.map(|s| base.join(s)), nodes })
    }

    /// Returns the node called `name`.
    pub fn node(&self, name: &str) -> Result<&Node, InventoryError> {
        self.nodes.iter().find(|n| n.name == name).ok_or_else(|| InventoryError::UnknownNode {
            path: self.path.clone(),
            name: name.into(),
            known: self.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// Returns the inventory as JSON, for the journal (it holds no secrets).
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("BUG: inventory serializes")
    }

    /// Returns the inventory a run was started with, from its journaled snapshot.
    pub fn from_snapshot(value: &serde_json::Value) -> Result<Inventory, InventoryError> {
        serde_json::from_value(value.clone())
            .map_err(|e| InventoryError::Invalid { path: PathBuf::from("<journal snapshot>"), message: e.to_string() })
    }

    /// Returns a fingerprint of the cluster's membership (names and addresses).
    pub fn fingerprint(&self) -> String {
        let mut members: Vec<String> = self.nodes.iter().map(|n| format!("{}={}", n.name, n.address)).collect();
        members.sort();
        crate::transport::sha256_hex(members.join(",").as_bytes())[..16].to_string()
    }
}

/// (De)serializes a Duration as humantime text ("20s").
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INV: &str = r#"
cluster = "prod"
secrets = "secrets.toml"
[defaults]
transport = "ssh"
ssl_dir = "/etc/cassandra/ssl"
restart_command = "sudo systemctl restart cassandra"
[[node]]
name = "db01"
address = "10.0.0.11"
ssh = "admin@db01.example"
[[node]]
name = "db02"
address = "10.0.0.12"
config_path = "/opt/{node}/cassandra.yaml"
"#;

    #[test]
    fn defaults_overrides_and_templates() {
        let inv = Inventory::parse(Path::new("/etc/rm/cluster.toml"), INV).unwrap();
        assert_eq!(inv.cluster, "prod");
        assert_eq!(inv.secrets.as_deref(), Some(Path::new("/etc/rm/secrets.toml")));
        let (a, b) = (&inv.nodes[0], &inv.nodes[1]);
        assert_eq!(a.ssh, "admin@db01.example");
        assert_eq!(b.ssh, "10.0.0.12");
        assert_eq!(a.config_path, "/etc/cassandra/cassandra.yaml");
        assert_eq!(b.config_path, "/opt/db02/cassandra.yaml");
        assert_eq!(b.log_path, "/var/log/cassandra/system.log");
        assert_eq!(b.nodetool_command, "nodetool");
        assert_eq!(a.boot_grace, Duration::from_secs(20));
        assert!(inv.node("db03").unwrap_err().to_string().contains("db01, db02"));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let bad = INV.replace("ssh = \"admin@db01.example\"", "ssh = \"admin@db01.example\"\npasword = 1");
        let err = Inventory::parse(Path::new("c.toml"), &bad).unwrap_err().to_string();
        assert!(err.starts_with("c.toml:12:"), "{err}");
        assert!(err.contains("pasword"), "{err}");
        let dup = INV.replace("10.0.0.12", "10.0.0.11");
        assert!(Inventory::parse(Path::new("c.toml"), &dup).unwrap_err().to_string().contains("appears twice"));
    }
}
