//! `ringmaster sandbox init`: lays out a fresh simulated cluster and boots it.
//!
//! Key material is generated here and the CA key is dropped afterwards. Files holding secrets
//! are created with their final mode (0600) instead of being chmod-ed after the write, so no
//! other user can ever read them. The cassandra.yaml of each node is the stock 5.0.2 file with
//! only `cluster_name`, `listen_address` and the seeds changed, as an operator would;
//! `server_encryption_options` stays stock, so the cluster starts without TLS.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::topology::{self, KeyspaceDef, Replication};
use super::{
    NodeConfig, STOCK_YAML, SandboxConfig, SandboxError, Session, certs, config_path, keystore_path, log_path, node_root, ssl_dir,
    truststore_path, write_json,
};
use crate::transport::shell_quote;

/// The cluster name of every sandbox (inventory `cluster` and yaml `cluster_name`).
pub const CLUSTER_NAME: &str = "sandbox";

/// What `init` should build.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The sandbox directory (created if missing).
    pub dir: PathBuf,
    /// Number of nodes, 1 to 254.
    pub nodes: usize,
    /// Time a restarted node needs before it has joined.
    pub start_delay: Duration,
    /// Initialise even if `dir` is not empty (sandbox-owned paths are replaced).
    pub force: bool,
    /// The ringmaster binary the inventory's commands call; `None` = the current executable.
    pub ringmaster_exe: Option<PathBuf>,
    /// Reach the nodes over SSH through this ssh_config (Host aliases = node names, as
    /// `bin/testbed` writes them) instead of the local transport.
    pub ssh_config: Option<PathBuf>,
}

/// The shape of the ring `init_with` builds (the defaults are the single-DC, single-rack
/// cluster `init` has always built).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyOptions {
    /// Number of datacenters: `datacenter1` when 1, else `dc1`..`dcN`.
    pub dcs: usize,
    /// Racks per datacenter, `rack1`..`rackR`.
    pub racks: usize,
    /// User keyspaces to create.
    pub keyspaces: Vec<KeyspaceDef>,
    /// Vnodes per node (`num_tokens`), 2 to 256; the stock 16 by default.
    pub tokens: usize,
}

impl Default for TopologyOptions {
    fn default() -> Self {
        Self { dcs: 1, racks: 1, keyspaces: Vec::new(), tokens: topology::NUM_TOKENS }
    }
}

/// The largest `--nodes` (addresses run 127.0.0.1..254, then 127.0.1.1.., and so on).
pub const MAX_NODES: usize = 1000;

/// What `init` built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// The sandbox directory, absolute.
    pub dir: PathBuf,
    /// `DIR/cluster.toml`, ready for `ringmaster run -i`.
    pub inventory: PathBuf,
    /// Node names, `node1`..`nodeN`.
    pub nodes: Vec<String>,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError {
    let path = path.to_owned();
    move |source| SandboxError::Io { action, path, source }
}

fn random_bytes(n: usize) -> Result<Vec<u8>, SandboxError> {
    let path = Path::new("/dev/urandom");
    let mut buf = vec![0u8; n];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut buf)).map_err(io("read", path))?;
    Ok(buf)
}

fn random_password() -> Result<String, SandboxError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    // 256 % 57 leaves a slight bias; with 24 characters the password still carries >130 bits.
    Ok(random_bytes(24)?.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect())
}

/// Creates a file that must stay private: mode 0600 from the first byte.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(io("create", path))?;
    // An existing file keeps its old mode through open(); force it.
    f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io("chmod", path))?;
    f.write_all(bytes).map_err(io("write", path))
}

fn mkdir(path: &Path, mode: Option<u32>) -> Result<(), SandboxError> {
    std::fs::create_dir_all(path).map_err(io("create directory", path))?;
    if let Some(mode) = mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io("chmod", path))?;
    }
    Ok(())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Returns the stock yaml with the three per-node lines an operator changes.
pub fn node_yaml(node_address: &str, seeds: &str) -> String {
    node_yaml_with_snitch(node_address, seeds, None)
}

/// The snitch a sandbox with several DCs or racks uses, reading `cassandra-rackdc.properties`.
pub const GOSSIPING_SNITCH: &str = "GossipingPropertyFileSnitch";

/// Returns the per-node yaml; with `snitch`, `endpoint_snitch` is changed too (a fourth line).
pub fn node_yaml_with_snitch(node_address: &str, seeds: &str, snitch: Option<&str>) -> String {
    let stock = String::from_utf8_lossy(STOCK_YAML);
    let mut out = String::with_capacity(stock.len() + 64);
    for l in stock.split_inclusive('\n') {
        let replaced = match l.trim_end_matches('\n') {
            "cluster_name: 'Test Cluster'" => format!("cluster_name: '{CLUSTER_NAME}'\n"),
            "listen_address: localhost" => format!("listen_address: {node_address}\n"),
            "      - seeds: \"127.0.0.1:7000\"" => format!("      - seeds: \"{seeds}\"\n"),
            "endpoint_snitch: SimpleSnitch" if snitch.is_some() => {
                format!("endpoint_snitch: {}\n", snitch.unwrap_or_default())
            }
            _ => l.to_owned(),
        };
        out.push_str(&replaced);
    }
    out
}

fn inventory(dir: &Path, exe: &Path, nodes: &[NodeConfig], ssh_config: Option<&Path>) -> String {
    let d = dir.display().to_string();
    let node_path = |rest: &str| toml_str(&format!("{d}/nodes/{{node}}/{rest}"));
    let command =
        |sub: &str| toml_str(&format!("{} sandbox {sub} --dir {} {{node}}", shell_quote(&exe.display().to_string()), shell_quote(&d)));
    let mut out = format!(
        "cluster = {}\nsecrets = \"secrets.toml\"            # relative to the inventory file\n\n[defaults]\n\
         transport = {}\nconfig_path = {}\nlog_path = {}\nssl_dir = {}\nrestart_command = {}\nnodetool_command = {}\n\
         # the simulated restart writes its boot line before it returns\nboot_grace = \"0s\"\n\
         # the sandbox's key files belong to whoever made it\nkey_owner = {}\nkey_group = {}\n",
        toml_str(CLUSTER_NAME),
        match ssh_config {
            None => "\"local\"".to_string(),
            Some(cfg) => format!("\"ssh\"\nssh = \"{{node}}\"\nssh_config = {}", toml_str(&cfg.display().to_string())),
        },
        node_path("etc/cassandra/cassandra.yaml"),
        node_path("var/log/cassandra/system.log"),
        node_path("etc/cassandra/ssl"),
        command("restart"),
        command("nodetool"),
        toml_str(&crate::host::user_of_uid()),
        toml_str(&crate::host::group_of_gid()),
    );
    for n in nodes {
        out.push_str(&format!("\n[[node]]\nname = {}\naddress = {}\n", toml_str(&n.name), toml_str(&n.address)));
    }
    out
}

/// Removes what a previous sandbox left in `dir` (only paths a sandbox creates).
fn clear_previous(dir: &Path) -> Result<(), SandboxError> {
    for sub in ["nodes", "ca"] {
        let p = dir.join(sub);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(io("remove", &p))?;
        }
    }
    for file in ["cluster.toml", "secrets.toml", "sandbox.json"] {
        let p = dir.join(file);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io("remove", &p))?;
        }
    }
    Ok(())
}

/// Creates the sandbox layout under `opts.dir` and boots every node (already joined).
pub fn init(opts: &InitOptions) -> Result<InitReport, SandboxError> {
    init_with(opts, &TopologyOptions::default())
}

fn check_topology(nodes: usize, topo: &TopologyOptions) -> Result<(), SandboxError> {
    let invalid = |detail: String| Err(SandboxError::InvalidOption { detail });
    if !(1..=MAX_NODES).contains(&nodes) {
        return invalid(format!("`--nodes {nodes}` must be between 1 and {MAX_NODES}"));
    }
    // One token per node would switch nodetool status to its single-token layout, which
    // the sandbox does not render.
    if !(2..=256).contains(&topo.tokens) {
        return invalid(format!("`--tokens {}` must be between 2 and 256", topo.tokens));
    }
    if topo.dcs == 0 || topo.dcs > nodes {
        return invalid(format!("`--dcs {}` must be between 1 and the number of nodes ({nodes})", topo.dcs));
    }
    if topo.racks == 0 {
        return invalid("`--racks 0`: every datacenter needs at least 1 rack".into());
    }
    let needed = topo.racks.saturating_mul(topo.dcs);
    if needed > nodes {
        return invalid(format!(
            "`--racks {}` in each of {} datacenter(s) needs at least {needed} nodes (one per rack), there are {nodes}; give `--nodes {needed}` or fewer racks",
            topo.racks, topo.dcs
        ));
    }
    let dc_names: Vec<String> = (0..topo.dcs).map(|d| topology::dc_name(d, topo.dcs)).collect();
    let mut seen = std::collections::HashSet::new();
    for ks in &topo.keyspaces {
        if !seen.insert(ks.name.as_str()) {
            return invalid(format!("keyspace `{}` is given twice", ks.name));
        }
        if let Replication::NetworkTopologyStrategy { datacenters } = &ks.replication
            && let Some(dc) = datacenters.keys().find(|dc| !dc_names.contains(dc))
        {
            return invalid(format!("keyspace `{}` names datacenter `{dc}`, the sandbox has {}", ks.name, dc_names.join(", ")));
        }
    }
    Ok(())
}

/// `cassandra-rackdc.properties` for `GossipingPropertyFileSnitch`.
fn rackdc_properties(dc: &str, rack: &str) -> String {
    format!("dc={dc}\nrack={rack}\n")
}

/// Like [`init`], with several DCs, racks and user keyspaces. Nodes are placed round-robin,
/// DC first, then rack: with 2 DCs and 2 racks node1 is dc1/rack1, node2 dc2/rack1, node3
/// dc1/rack2, node4 dc2/rack2. Every node gets 16 random Murmur3 tokens.
pub fn init_with(opts: &InitOptions, topo: &TopologyOptions) -> Result<InitReport, SandboxError> {
    check_topology(opts.nodes, topo)?;
    mkdir(&opts.dir, None)?;
    let dir = std::fs::canonicalize(&opts.dir).map_err(io("resolve", &opts.dir))?;
    let non_empty = std::fs::read_dir(&dir).map_err(io("list", &dir))?.next().is_some();
    if non_empty && !opts.force {
        return Err(SandboxError::NotEmpty { dir });
    }
    clear_previous(&dir)?;
    let exe = match &opts.ringmaster_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(io("locate", Path::new("ringmaster")))?,
    };

    let keystore_password = random_password()?;
    let truststore_password = random_password()?;
    let ca = certs::new_ca(CLUSTER_NAME)?;
    mkdir(&dir.join("ca"), None)?;
    std::fs::write(dir.join("ca/ca.pem"), ca.pem()).map_err(io("write", &dir.join("ca/ca.pem")))?;
    let truststore = certs::truststore(&ca, &truststore_password)?;

    let names: Vec<String> = (1..=opts.nodes).map(|i| format!("node{i}")).collect();
    let seeds = (0..opts.nodes.min(3)).map(|i| format!("{}:7000", topology::node_address(i))).collect::<Vec<_>>().join(",");
    let simple = topo.dcs == 1 && topo.racks == 1;
    let snitch = (!simple).then_some(GOSSIPING_SNITCH);
    let mut nodes = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let address = topology::node_address(i);
        let (dc, rack) = topology::placement(i, topo.dcs, topo.racks);
        let ssl = ssl_dir(&dir, name);
        mkdir(&ssl, Some(0o750))?;
        mkdir(log_path(&dir, name).parent().unwrap_or(&dir), None)?;
        let yaml = config_path(&dir, name);
        let mut text = node_yaml_with_snitch(&address, &seeds, snitch);
        if topo.tokens != topology::NUM_TOKENS {
            text = text.replacen(&format!("\nnum_tokens: {}\n", topology::NUM_TOKENS), &format!("\nnum_tokens: {}\n", topo.tokens), 1);
        }
        std::fs::write(&yaml, text).map_err(io("write", &yaml))?;
        // Not readable by others, as a cassandra.yaml that will hold passwords should be.
        std::fs::set_permissions(&yaml, std::fs::Permissions::from_mode(0o640)).map_err(io("chmod", &yaml))?;
        if !simple {
            let props = yaml.with_file_name("cassandra-rackdc.properties");
            std::fs::write(&props, rackdc_properties(&dc, &rack)).map_err(io("write", &props))?;
        }
        let ip = address.parse().map_err(|_| SandboxError::InvalidOption { detail: format!("bad address `{address}`") })?;
        write_private(&keystore_path(&dir, name), &certs::node_keystore(&ca, name, ip, &keystore_password)?)?;
        write_private(&truststore_path(&dir, name), &truststore)?;
        let log = log_path(&dir, name);
        std::fs::OpenOptions::new().create(true).append(true).open(&log).map_err(io("create", &log))?;
        let id = random_bytes(18 + 8 * topo.tokens)?;
        let tokens = id[18..]
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            // Long.MIN_VALUE is the partitioner's minimum, never a node token.
            .map(|t| if t == i64::MIN { i64::MAX } else { t })
            .collect();
        let host_id = uuid::Builder::from_random_bytes(id[..16].try_into().unwrap_or([0; 16])).into_uuid();
        nodes.push(NodeConfig {
            name: name.clone(),
            address,
            host_id: host_id.to_string(),
            // 90 to 130 KiB: a freshly created node's system tables.
            load_bytes: 92_160 + u64::from(u16::from_le_bytes([id[16], id[17]])) % 40_960,
            start_delay_ms: None,
            dc,
            rack,
            tokens,
        });
        debug_assert!(node_root(&dir, name).is_dir());
    }
    write_private(
        &dir.join("secrets.toml"),
        format!("keystore_password = {}\ntruststore_password = {}\n", toml_str(&keystore_password), toml_str(&truststore_password))
            .as_bytes(),
    )?;
    let config = SandboxConfig {
        cluster_name: CLUSTER_NAME.to_owned(),
        start_delay_ms: u64::try_from(opts.start_delay.as_millis()).unwrap_or(u64::MAX),
        nodes,
        keyspaces: topo.keyspaces.clone(),
    };
    write_json(&dir.join("sandbox.json"), &config)?;
    let inventory_path = dir.join("cluster.toml");
    std::fs::write(&inventory_path, inventory(&dir, &exe, &config.nodes, opts.ssh_config.as_deref()))
        .map_err(io("write", &inventory_path))?;

    // The cluster exists before ringmaster arrives: boot every node with no delay.
    let mut session = Session::open(&dir)?;
    for i in 0..names.len() {
        session.start(i, 0)?;
    }
    session.save()?;
    Ok(InitReport { dir, inventory: inventory_path, nodes: names })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_yaml_changes_exactly_three_lines() {
        let stock = String::from_utf8_lossy(STOCK_YAML);
        let yaml = node_yaml("127.0.0.2", "127.0.0.1:7000,127.0.0.2:7000");
        let changed: Vec<(&str, &str)> = stock.lines().zip(yaml.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(
            changed,
            vec![
                ("cluster_name: 'Test Cluster'", "cluster_name: 'sandbox'"),
                ("      - seeds: \"127.0.0.1:7000\"", "      - seeds: \"127.0.0.1:7000,127.0.0.2:7000\""),
                ("listen_address: localhost", "listen_address: 127.0.0.2"),
            ]
        );
        assert_eq!(stock.lines().count(), yaml.lines().count());
    }

    #[test]
    fn recover_low_sandbox_topology_messages_say_what_is_wrong() {
        let check = |nodes, dcs, racks| {
            let topo = TopologyOptions { dcs, racks, ..TopologyOptions::default() };
            check_topology(nodes, &topo).unwrap_err().to_string()
        };
        let zero = check(3, 1, 0);
        assert!(zero.contains("`--racks 0`") && zero.contains("at least 1 rack") && !zero.contains("at least 0"), "{zero}");
        let many = check(4, 2, 3);
        assert!(many.contains("needs at least 6 nodes") && many.contains("there are 4") && many.contains("--nodes 6"), "{many}");
        assert!(check(2, 0, 1).contains("`--dcs 0` must be between 1"));
        assert!(check(3, 1, usize::MAX).contains("needs at least"), "no overflow");
    }

    #[test]
    fn inventory_has_the_agreed_shape() {
        let nodes = vec![NodeConfig {
            name: "node1".into(),
            address: "127.0.0.1".into(),
            host_id: "x".into(),
            load_bytes: 1,
            start_delay_ms: None,
            dc: "datacenter1".into(),
            rack: "rack1".into(),
            tokens: vec![],
        }];
        let text = inventory(Path::new("/tmp/sb"), Path::new("/bin/ring master"), &nodes, None);
        let v: toml::Value = toml::from_str(&text).expect("valid toml");
        assert_eq!(v["cluster"].as_str(), Some("sandbox"));
        assert_eq!(v["secrets"].as_str(), Some("secrets.toml"));
        assert_eq!(v["defaults"]["transport"].as_str(), Some("local"));
        assert_eq!(v["defaults"]["config_path"].as_str(), Some("/tmp/sb/nodes/{node}/etc/cassandra/cassandra.yaml"));
        assert_eq!(v["defaults"]["restart_command"].as_str(), Some("'/bin/ring master' sandbox restart --dir /tmp/sb {node}"));
        assert_eq!(v["node"][0]["address"].as_str(), Some("127.0.0.1"));
    }
}
