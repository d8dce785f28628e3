//! The cluster: its nodes, how to reach each one, where its files are and which
//! commands restart it and ask it for `nodetool status`.
//!
//! `cluster.toml` has a cluster name, an optional secrets file, `[defaults]` and one
//! `[[node]]` table per node, in rollout order. Any node key overrides the default of the
//! same name; string values may use `{node}` and `{address}`. In `restart_command` and
//! `nodetool_command` the values are substituted shell-quoted. Addresses must be an IP
//! literal or a host name, checked at load with the file and line. Passwords are never
//! here: see [`crate::secrets`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cassandra::yaml::Release;

pub mod ansible;

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
    /// The node's Cassandra release line, for a cassandra.yaml whose shape does not tell
    /// (`None`: the editor detects it).
    #[serde(default, with = "release_text")]
    pub cassandra_release: Option<Release>,
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
            cassandra_release: None,
        }
    }
}

/// The whole inventory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    pub path: PathBuf,
    pub cluster: String,
    pub secrets: Option<PathBuf>,
    /// A command (argv, no shell) that prints a secret: `{name}` in an argument becomes the
    /// secret's name (`keystore_password`). See [`crate::secrets::Secrets::resolve`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_command: Option<Vec<String>>,
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
    ssh: Option<toml::Spanned<String>>,
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
    cassandra_release: Option<toml::Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: String,
    address: toml::Spanned<String>,
    transport: Option<TransportKind>,
    ssh: Option<toml::Spanned<String>>,
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
    cassandra_release: Option<toml::Spanned<String>>,
}

impl RawNode {
    fn split(self) -> (String, toml::Spanned<String>, Fields) {
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
            cassandra_release: self.cassandra_release,
        };
        (self.name, self.address, f)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    cluster: String,
    secrets: Option<String>,
    secret_command: Option<Vec<String>>,
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
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = crate::position::line_col(text, span.start);
            InventoryError::Parse { path: path.into(), line, column, message }
        };
        if raw.nodes.is_empty() {
            return Err(invalid("no `[[node]]` entries".into()));
        }
        let d = raw.defaults;
        let mut nodes: Vec<Node> = Vec::new();
        for rn in raw.nodes {
            let (name, spanned_address, n) = rn.split();
            let address = spanned_address.get_ref().clone();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(invalid(format!("node name `{name}` must be letters, digits, `-`, `_` or `.`")));
            }
            if nodes.iter().any(|o| o.name == name) {
                return Err(invalid(format!("node `{name}` appears twice")));
            }
            if let Some(problem) = address_problem(&address) {
                return Err(at(spanned_address.span(), format!("node `{name}`: address `{address}` {problem}")));
            }
            if nodes.iter().any(|o| o.address == address) {
                return Err(invalid(format!("address `{address}` of node `{name}` appears twice")));
            }
            let expand = |v: String| expand_template(&v, &name, &address, false);
            let pick = |own: Option<String>, def: &Option<String>, builtin: &str| {
                expand(own.or_else(|| def.clone()).unwrap_or_else(|| builtin.to_string()))
            };
            let command = |own: Option<String>, def: &Option<String>, builtin: &str| {
                expand_template(&own.or_else(|| def.clone()).unwrap_or_else(|| builtin.to_string()), &name, &address, true)
            };
            let boot_grace_text = pick(n.boot_grace, &d.boot_grace, defaults::BOOT_GRACE);
            let boot_grace = humantime::parse_duration(&boot_grace_text)
                .map_err(|e| invalid(format!("node `{name}`: boot_grace `{boot_grace_text}`: {e}")))?;
            let rel = |p: Option<String>| p.map(|p| base.join(expand(p)));
            let transport = n.transport.or(d.transport).unwrap_or(TransportKind::Ssh);
            let ssh = match n.ssh.as_ref().or(d.ssh.as_ref()) {
                None => address.clone(),
                Some(given) => {
                    let ssh = expand(given.get_ref().clone());
                    if let Some(problem) = crate::transport::ssh::destination_problem(&ssh).filter(|_| transport == TransportKind::Ssh) {
                        return Err(at(given.span(), format!("node `{name}`: ssh destination `{}` {problem}", ssh.escape_debug())));
                    }
                    ssh
                }
            };
            let cassandra_release = match n.cassandra_release.as_ref().or(d.cassandra_release.as_ref()) {
                None => None,
                Some(given) => Some(
                    given.get_ref().parse::<Release>().map_err(|e| at(given.span(), format!("node `{name}`: cassandra_release {e}")))?,
                ),
            };
            let node = Node {
                transport,
                cassandra_release,
                ssh,
                config_path: pick(n.config_path, &d.config_path, defaults::CONFIG_PATH),
                log_path: pick(n.log_path, &d.log_path, defaults::LOG_PATH),
                ssl_dir: pick(n.ssl_dir, &d.ssl_dir, defaults::SSL_DIR),
                restart_command: command(n.restart_command, &d.restart_command, defaults::RESTART_COMMAND),
                nodetool_command: command(n.nodetool_command, &d.nodetool_command, defaults::NODETOOL_COMMAND),
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
        if let Some(argv) = &raw.secret_command {
            crate::secrets::check_command(argv).map_err(|why| invalid(format!("`secret_command` {why}")))?;
        }
        Ok(Inventory {
            path: path.into(),
            cluster: raw.cluster,
            secrets: raw.secrets.map(|s| base.join(s)),
            secret_command: raw.secret_command,
            nodes,
        })
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

/// Fills `{node}` and `{address}` into `template`; in a shell `command`, each value is
/// substituted as one shell word (quoted when it needs it), so no value can add commands.
fn expand_template(template: &str, node: &str, address: &str, command: bool) -> String {
    let value = |v: &str| if command { crate::transport::shell_quote(v) } else { v.to_string() };
    template.replace("{node}", &value(node)).replace("{address}", &value(address))
}

/// Returns why `address` is neither an IP literal nor a host name (`None` when it is one).
///
/// A host name is dot-separated labels of letters, digits, `-` and `_` (no label starts or
/// ends with `-`), at most 253 characters: nothing a shell or ssh would read as more than
/// one word or as an option.
pub fn address_problem(address: &str) -> Option<String> {
    if address.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let why = "is neither an IP address nor a host name (letters, digits, `-`, `_` and `.`)";
    let host = address.strip_suffix('.').unwrap_or(address);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Some(why.into());
    }
    None
}

/// Returns `s` as a valid node name: every character but letters, digits, `-`, `_` and `.`
/// becomes `-` (for names taken from elsewhere: Ansible hosts, discovered addresses).
pub fn node_name_from(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect()
}

/// Quotes `s` as a TOML string, for generated inventories.
pub fn toml_quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// (De)serializes an optional release as its text ("4.0", "4.1+").
mod release_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::cassandra::yaml::Release;

    pub fn serialize<S: Serializer>(r: &Option<Release>, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Some(r) => s.serialize_some(&r.to_string()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Release>, D::Error> {
        Option::<String>::deserialize(d)?.map(|t| t.parse().map_err(serde::de::Error::custom)).transpose()
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

    #[test]
    fn recover_6_addresses_are_ip_literals_or_host_names() {
        for good in ["10.0.0.11", "::1", "fe80::1", "db01.example.com", "db_01", "localhost", "db01."] {
            assert_eq!(address_problem(good), None, "{good}");
        }
        for bad in ["127.0.0.1; touch pwned #", "", "a b", "-oProxyCommand=x", "db..x", "$(id)", "a\nb", "[::1]", "x-"] {
            assert!(address_problem(bad).is_some(), "{bad:?}");
        }
        let bad = INV.replace("\"10.0.0.12\"", "\"10.0.0.12`id`\"");
        let err = Inventory::parse(Path::new("c.toml"), &bad).unwrap_err().to_string();
        assert!(err.starts_with("c.toml:14:11: node `db02`: address `10.0.0.12`id``"), "{err}");
    }

    #[test]
    fn recover_6_template_values_are_shell_quoted_in_commands() {
        let sh = |command: &str| {
            let out = std::process::Command::new("sh").arg("-c").arg(command).output().expect("run sh");
            assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let hostile = ["a b", "x; echo pwned", "$(echo pwned)", "`echo pwned`", "it's", "a\nb", "*"];
        for value in hostile {
            let command = expand_template("printf '%s|' {node} {address}", value, value, true);
            assert_eq!(sh(&command), format!("{value}|{value}|"), "{command}");
        }
        // Paths are not commands: their values stay as written.
        assert_eq!(expand_template("/opt/{node}/c.yaml", "a b", "x", false), "/opt/a b/c.yaml");
        let inv = Inventory::parse(
            Path::new("c.toml"),
            &INV.replace("restart_command = \"sudo systemctl restart cassandra\"", "restart_command = \"restart {node} {address}\""),
        )
        .unwrap();
        assert_eq!(inv.nodes[1].restart_command, "restart db02 10.0.0.12");
    }

    #[test]
    fn recover_low_ssh_destinations_are_checked_at_load() {
        for (bad, why) in [("admin@db01 x", "whitespace"), ("-oProxyCommand=id", "starts with `-`"), ("a\\u0007b", "control")] {
            let text = INV.replace("ssh = \"admin@db01.example\"", &format!("ssh = \"{bad}\""));
            let err = Inventory::parse(Path::new("c.toml"), &text).unwrap_err().to_string();
            assert!(err.starts_with("c.toml:11:7: node `db01`: ssh destination"), "{err}");
            assert!(err.contains(why), "{err}");
        }
        // From [defaults], the error points at the default.
        let text = INV.replace("transport = \"ssh\"", "transport = \"ssh\"\nssh = \"-{node}\"");
        let err = Inventory::parse(Path::new("c.toml"), &text).unwrap_err().to_string();
        assert!(err.starts_with("c.toml:6:7: node `db02`: ssh destination `-db02` starts with `-`"), "{err}");
        // A local node is not reached over ssh: its `ssh` is not checked.
        let local = INV.replace("ssh = \"admin@db01.example\"", "transport = \"local\"\nssh = \"not used\"");
        assert!(Inventory::parse(Path::new("c.toml"), &local).is_ok());
    }
}
