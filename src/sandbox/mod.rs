//! A simulated Cassandra 5.0.2 cluster on the local filesystem, for `demo` and fast tests.
//!
//! `init` lays out one directory per node with the stock cassandra.yaml, a PKCS12 keystore,
//! the shared truststore and a system.log, plus an inventory for `ringmaster run`. Nothing
//! listens: the nodes' restart and nodetool commands are `ringmaster sandbox ...`
//! subcommands that read and write the node directories, so the same inventory works locally
//! and, later, over SSH. The behaviour follows cassandra-notes.md: a restart parses
//! `server_encryption_options`, computes the TLS policy, opens the key material (or fails with
//! Cassandra's error chain), logs in Cassandra's format and joins after the start delay;
//! `nodetool status` on X shows Y `UN` only when X and Y can talk under both configurations.
//!
//! A restart returns at once and records when the node will be up; every command first
//! "advances" the cluster (writes the join lines whose time has come), all under an
//! exclusive `flock` on DIR so concurrent invocations are safe. The CLI's `restart` and
//! `start` also leave a detached `sandbox wake` that advances the cluster at the join time,
//! so a node's system.log shows its join when it happens, as a live node's does.
//!
//! ```text
//! DIR/cluster.toml  secrets.toml (0600)  sandbox.json  ca/ca.pem  .sandbox.lock
//! DIR/nodes/<node>/etc/cassandra/cassandra.yaml
//! DIR/nodes/<node>/etc/cassandra/ssl/{<node>-keystore.p12, cassandra-truststore.p12}
//! DIR/nodes/<node>/var/log/cassandra/system.log
//! DIR/nodes/<node>/state.json
//! ```

pub mod certs;
pub mod describe;
pub mod init;
pub mod model;
pub mod node;
pub mod nodetool;
pub mod topology;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use init::{InitOptions, InitReport, init};
pub use nodetool::nodetool;

use model::{Endpoint, Link, Refusal};
use node::{NodeState, ProcessStatus, endpoint, line};

/// The stock 5.0.2 cassandra.yaml every node starts from.
pub const STOCK_YAML: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/cassandra-5.0.2.yaml"));
/// The simulated Cassandra release (`nodetool version`).
pub const RELEASE_VERSION: &str = "5.0.2";
/// The internode storage port.
pub const STORAGE_PORT: u16 = 7000;
/// The JMX port nodetool connects to.
pub const JMX_PORT: u16 = 7199;

/// Why a sandbox command could not run (simulated Cassandra failures are not errors).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not valid sandbox state: {detail}")]
    State { path: PathBuf, detail: String },
    #[error("`{dir}` is not a sandbox (no `sandbox.json`); run `ringmaster sandbox init --dir {}` first", crate::transport::shell_quote(&.dir.display().to_string()))]
    NotASandbox { dir: PathBuf },
    #[error("`{dir}` is not empty; pass `--force` to initialise a sandbox there anyway")]
    NotEmpty { dir: PathBuf },
    #[error("no node `{node}` in the sandbox at `{dir}`")]
    UnknownNode { node: String, dir: PathBuf },
    #[error("cannot generate the sandbox certificates: {detail}")]
    Certificates { detail: String },
    #[error("invalid sandbox option: {detail}")]
    InvalidOption { detail: String },
}

/// One node of `sandbox.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConfig {
    pub name: String,
    pub address: String,
    pub host_id: String,
    /// The Load column, in bytes (stable per node).
    pub load_bytes: u64,
    /// Overrides the sandbox-wide start delay for this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_delay_ms: Option<u64>,
    /// The node's datacenter (`datacenter1` in sandboxes made before DCs existed).
    #[serde(default = "default_dc")]
    pub dc: String,
    /// The node's rack (`rack1` in sandboxes made before racks existed).
    #[serde(default = "default_rack")]
    pub rack: String,
    /// The node's vnode tokens; empty in older sandboxes, which then derive them from the
    /// host ID (see [`NodeConfig::ring_tokens`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<i64>,
}

fn default_dc() -> String {
    "datacenter1".to_owned()
}
fn default_rack() -> String {
    "rack1".to_owned()
}

impl NodeConfig {
    /// The node's tokens: the stored ones, or 16 stable ones derived from the host ID.
    pub fn ring_tokens(&self) -> Vec<i64> {
        if !self.tokens.is_empty() {
            return self.tokens.clone();
        }
        (0..topology::NUM_TOKENS).map(|k| topology::murmur3_token(format!("{}/{k}", self.host_id).as_bytes())).collect()
    }
}

/// The content of `DIR/sandbox.json`: the sandbox's own configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxConfig {
    pub cluster_name: String,
    /// Time from a restart until the node has joined, unless a node overrides it.
    pub start_delay_ms: u64,
    pub nodes: Vec<NodeConfig>,
    /// User keyspaces (the system ones are implied); empty in older sandboxes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyspaces: Vec<topology::KeyspaceDef>,
}

impl SandboxConfig {
    /// The token ring of every node.
    pub fn ring(&self) -> topology::Ring {
        topology::Ring::new(
            self.nodes
                .iter()
                .map(|n| topology::RingNode { address: n.address.clone(), dc: n.dc.clone(), rack: n.rack.clone(), tokens: n.ring_tokens() })
                .collect(),
        )
    }

    /// Returns true when the cluster has one DC named `datacenter1` and one rack `rack1`,
    /// i.e. the stock `SimpleSnitch` describes it.
    pub fn is_simple_topology(&self) -> bool {
        self.nodes.iter().all(|n| n.dc == "datacenter1" && n.rack == "rack1")
    }
}

/// Returns `DIR/nodes/<node>`, the node's root (its JVM working directory).
pub fn node_root(dir: &Path, node: &str) -> PathBuf {
    dir.join("nodes").join(node)
}
/// Returns the node's cassandra.yaml path.
pub fn config_path(dir: &Path, node: &str) -> PathBuf {
    node_root(dir, node).join("etc/cassandra/cassandra.yaml")
}
/// Returns the node's system.log path.
pub fn log_path(dir: &Path, node: &str) -> PathBuf {
    node_root(dir, node).join("var/log/cassandra/system.log")
}
/// Returns the node's key material directory.
pub fn ssl_dir(dir: &Path, node: &str) -> PathBuf {
    node_root(dir, node).join("etc/cassandra/ssl")
}
/// Returns the node's PKCS12 keystore path.
pub fn keystore_path(dir: &Path, node: &str) -> PathBuf {
    ssl_dir(dir, node).join(format!("{node}-keystore.p12"))
}
/// Returns the node's copy of the shared truststore.
pub fn truststore_path(dir: &Path, node: &str) -> PathBuf {
    ssl_dir(dir, node).join("cassandra-truststore.p12")
}
fn state_path(dir: &Path, node: &str) -> PathBuf {
    node_root(dir, node).join("state.json")
}

/// Writes a file through a temporary sibling and a rename, so readers never see half of it.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|source| SandboxError::Io { action: "write", path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| SandboxError::Io { action: "replace", path: path.to_owned(), source })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SandboxError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| SandboxError::State { path: path.to_owned(), detail: e.to_string() })?;
    text.push(b'\n');
    write_atomic(path, &text)
}

/// An open sandbox: the config, every node's state, and the DIR lock held until drop.
pub(crate) struct Session {
    dir: PathBuf,
    pub(crate) config: SandboxConfig,
    pub(crate) states: Vec<NodeState>,
    pub(crate) now: u64,
    /// Log lines per node not yet appended to system.log: a 300-node join writes ~90k
    /// gossip lines, one file append each would dominate `init`. Flushed by `save` and drop.
    pending_logs: std::cell::RefCell<Vec<Vec<String>>>,
    /// False for a session opened by [`Session::open_shared`]: `save` writes nothing.
    writable: bool,
    _lock: File,
}

impl Drop for Session {
    fn drop(&mut self) {
        // Errors were reported by `save` when the command finished normally; on an error
        // path the lines written so far still belong in the logs.
        let _ = self.flush_logs();
    }
}

impl Session {
    /// Locks DIR, loads everything and advances the cluster to the present.
    pub(crate) fn open(dir: &Path) -> Result<Self, SandboxError> {
        Self::open_locked(dir, libc::LOCK_EX)
    }

    /// Like [`Session::open`] for a command that only reads (nodetool status, version, ...):
    /// under a shared lock, so the nodetools of many nodes run side by side as on a real
    /// cluster, unless a join is due, which needs the exclusive lock to be written.
    pub(crate) fn open_shared(dir: &Path) -> Result<Self, SandboxError> {
        let session = Self::open_locked(dir, libc::LOCK_SH)?;
        if session.due().is_some() {
            drop(session);
            return Self::open(dir);
        }
        Ok(session)
    }

    fn open_locked(dir: &Path, mode: libc::c_int) -> Result<Self, SandboxError> {
        let dir = std::path::absolute(dir).map_err(|source| SandboxError::Io { action: "resolve", path: dir.to_owned(), source })?;
        let config_file = dir.join("sandbox.json");
        if !config_file.is_file() {
            return Err(SandboxError::NotASandbox { dir });
        }
        let lock_path = dir.join(".sandbox.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| SandboxError::Io { action: "open", path: lock_path.clone(), source })?;
        // SAFETY: flock on a file descriptor we own; it is released when `lock` is dropped.
        if unsafe { libc::flock(lock.as_raw_fd(), mode) } != 0 {
            let source = std::io::Error::last_os_error();
            return Err(SandboxError::Io { action: "lock", path: lock_path, source });
        }
        let bytes = std::fs::read(&config_file).map_err(|source| SandboxError::Io { action: "read", path: config_file.clone(), source })?;
        let config: SandboxConfig =
            serde_json::from_slice(&bytes).map_err(|e| SandboxError::State { path: config_file.clone(), detail: e.to_string() })?;
        let states = config.nodes.iter().map(|n| node::load_state(&state_path(&dir, &n.name))).collect::<Result<Vec<_>, _>>()?;
        let mut session = Self {
            dir,
            config,
            states,
            now: u64::try_from(crate::clock::now_ms()).unwrap_or(0),
            pending_logs: std::cell::RefCell::new(Vec::new()),
            writable: mode == libc::LOCK_EX,
            _lock: lock,
        };
        if session.writable {
            session.advance()?;
        }
        Ok(session)
    }

    /// Returns the index of a node by name.
    pub(crate) fn index(&self, node: &str) -> Result<usize, SandboxError> {
        self.config
            .nodes
            .iter()
            .position(|n| n.name == node)
            .ok_or_else(|| SandboxError::UnknownNode { node: node.to_owned(), dir: self.dir.clone() })
    }

    /// Writes every node's state.json and sandbox.json (nothing for a shared session,
    /// which changed nothing).
    pub(crate) fn save(&self) -> Result<(), SandboxError> {
        if !self.writable {
            return Ok(());
        }
        self.flush_logs()?;
        for (cfg, state) in self.config.nodes.iter().zip(&self.states) {
            write_json(&state_path(&self.dir, &cfg.name), state)?;
        }
        write_json(&self.dir.join("sandbox.json"), &self.config)
    }

    fn log(&self, i: usize, lines: &[String]) -> Result<(), SandboxError> {
        let mut pending = self.pending_logs.borrow_mut();
        if pending.len() <= i {
            pending.resize_with(self.config.nodes.len().max(i + 1), Vec::new);
        }
        pending[i].extend_from_slice(lines);
        Ok(())
    }

    /// Appends every buffered log line to its node's system.log, in order.
    fn flush_logs(&self) -> Result<(), SandboxError> {
        let pending = std::mem::take(&mut *self.pending_logs.borrow_mut());
        for (i, lines) in pending.iter().enumerate() {
            node::append_log(&log_path(&self.dir, &self.config.nodes[i].name), lines)?;
        }
        Ok(())
    }

    fn endpoint(&self, i: usize) -> Option<Endpoint<'_>> {
        Some(Endpoint {
            address: &self.config.nodes[i].address,
            dc: &self.config.nodes[i].dc,
            rack: &self.config.nodes[i].rack,
            tls: self.states[i].tls.as_ref()?,
        })
    }

    /// Returns true when nodes `a` and `b` both gossip at time `t` and can talk both ways.
    pub(crate) fn can_talk(&self, a: usize, b: usize, t: u64) -> bool {
        if !(self.states[a].serving(t) && self.states[b].serving(t)) {
            return false;
        }
        match (self.endpoint(a), self.endpoint(b)) {
            (Some(ea), Some(eb)) => model::can_talk(ea, eb, unix_seconds(t)),
            _ => false,
        }
    }

    /// The node whose join is due first, if any.
    fn due(&self) -> Option<usize> {
        (0..self.states.len())
            .filter(|&i| {
                let s = &self.states[i];
                s.status == ProcessStatus::Running && !s.joined && s.is_up(self.now)
            })
            .min_by_key(|&i| (self.states[i].up_at_ms, i))
    }

    /// Writes the join lines of every node whose start delay has elapsed, oldest first.
    fn advance(&mut self) -> Result<(), SandboxError> {
        while let Some(i) = self.due() {
            self.join(i)?;
        }
        Ok(())
    }

    fn join(&mut self, i: usize) -> Result<(), SandboxError> {
        let t = self.states[i].up_at_ms.unwrap_or(self.now);
        self.log(i, &node::join_lines(t, &self.config.nodes[i].address))?;
        self.states[i].joined = true;
        let restarted = self.states[i].boots > 1;
        for p in 0..self.states.len() {
            if p == i || !self.states[p].joined || !self.states[p].serving(t) {
                continue;
            }
            self.log_handshakes(i, p, t)?;
            self.log_handshakes(p, i, t)?;
            if self.can_talk(i, p, t) {
                let gossip = "Gossiper.java:1431";
                let (me, peer) = (endpoint(&self.config.nodes[i].address), endpoint(&self.config.nodes[p].address));
                self.log(i, &[line("INFO", "GossipStage:1", t, gossip, &format!("InetAddress {peer} is now UP"))])?;
                let seen = if restarted { format!("Node {me} has restarted, now UP") } else { format!("InetAddress {me} is now UP") };
                self.log(p, &[line("INFO", "GossipStage:1", t, gossip, &seen)])?;
            }
        }
        Ok(())
    }

    /// Logs what the two ends report when `from` opens a connection to `to` and it fails
    /// (or falls back), with the texts of cassandra-notes.md section 3.5.
    fn log_handshakes(&self, from: usize, to: usize, t: u64) -> Result<(), SandboxError> {
        let (Some(a), Some(b)) = (self.endpoint(from), self.endpoint(to)) else {
            return Ok(());
        };
        let refusal = match model::connect(a, b, unix_seconds(t)) {
            Link::Tls | Link::Plain { fallback: None } => return Ok(()),
            Link::Plain { fallback: Some(r) } | Link::Refused(r) => r,
        };
        // The initiator's ephemeral port: any stable value in the Linux range will do.
        let boots = usize::try_from(self.states[from].boots).unwrap_or(0);
        let port = 40_000 + (97 * from + 13 * to + boots) % 20_000;
        let remote = format!("/{}:{port}", a.address);
        let (inbound, outbound) = ("InboundConnectionInitiator.java:476", "OutboundConnectionInitiator.java:253");
        let thread = "Messaging-EventLoop-3-1";
        let netty = "io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException";
        match refusal {
            Refusal::TlsDisabledAtPeer => self.log(to, &[line("INFO", thread, t, inbound, &format!(
                "Rejected incoming TLS connection before negotiating from {remote} to {}. TLS is explicitly disabled by configuration.",
                endpoint(b.address)))]),
            Refusal::PlaintextRefused => self.log(to, &[line("WARN", thread, t, inbound, &format!(
                "peer {remote} attempted to establish an unencrypted connection (broadcast address {})",
                endpoint(a.address)))]),
            Refusal::ServerCertUntrusted | Refusal::EndpointMismatch => {
                let cause = if refusal == Refusal::EndpointMismatch {
                    format!("No subject alternative names matching IP address {} found", b.address)
                } else {
                    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: \
                     unable to find valid certification path to requested target"
                        .to_owned()
                };
                let peer = endpoint(b.address);
                self.log(from, &[
                    line("ERROR", thread, t, outbound, &format!("Failed to handshake with peer {peer}({peer})")),
                    format!("{netty}: {cause}"),
                ])
            }
            Refusal::ClientCertUntrusted => self.log(to, &[
                line("ERROR", thread, t, inbound, &format!("Failed to properly handshake with peer {remote}. Closing the channel.")),
                format!("{netty}: Empty client certificate chain"),
            ]),
        }
    }

    /// Tells every peer that could talk to node `i` that it went down.
    fn announce_down(&self, i: usize) -> Result<(), SandboxError> {
        let me = endpoint(&self.config.nodes[i].address);
        for p in 0..self.states.len() {
            if p != i && self.states[p].joined && self.can_talk(i, p, self.now) {
                self.log(p, &[line("INFO", "GossipStage:1", self.now, "Gossiper.java:1452", &format!("InetAddress {me} is now DOWN"))])?;
            }
        }
        Ok(())
    }

    /// Stops node `i` like SIGTERM (no-op when it is not running).
    pub(crate) fn stop(&mut self, i: usize) -> Result<(), SandboxError> {
        if self.states[i].status != ProcessStatus::Running {
            return Ok(());
        }
        let serving = self.states[i].serving(self.now);
        self.log(i, &node::shutdown_lines(self.now, serving))?;
        if serving {
            self.announce_down(i)?;
        }
        let s = &mut self.states[i];
        s.status = ProcessStatus::Down;
        s.up_at_ms = None;
        s.joined = false;
        s.drained_at_ms = None;
        s.tls = None;
        Ok(())
    }

    /// Starts node `i` with the given start delay (no-op when it is already running).
    pub(crate) fn start(&mut self, i: usize, delay_ms: u64) -> Result<(), SandboxError> {
        if self.states[i].status == ProcessStatus::Running {
            return Ok(());
        }
        let name = self.config.nodes[i].name.clone();
        let config = config_path(&self.dir, &name);
        let mut lines = vec![node::boot_marker(self.now, &config)];
        let s = &mut self.states[i];
        s.boots += 1;
        s.boot_ms = Some(self.now);
        match node::load_tls(&config, &node_root(&self.dir, &name)) {
            Err(failure) => {
                lines.extend(failure.render(self.now));
                s.last_failure = Some(failure.summary(self.now));
            }
            Ok((tls, _)) => {
                lines.extend(node::boot_lines(self.now, &self.config.nodes[i].address, &tls));
                s.status = ProcessStatus::Running;
                s.up_at_ms = Some(self.now.saturating_add(delay_ms));
                s.joined = false;
                s.drained_at_ms = None;
                s.tls = Some(tls);
                s.last_failure = None;
            }
        }
        self.log(i, &lines)?;
        self.advance()
    }

    /// Returns the start delay that applies to node `i`.
    pub(crate) fn delay_ms(&self, i: usize) -> u64 {
        self.config.nodes[i].start_delay_ms.unwrap_or(self.config.start_delay_ms)
    }

    /// Drains node `i` (it must be up); peers see it down until its next restart.
    pub(crate) fn drain(&mut self, i: usize) -> Result<(), SandboxError> {
        if self.states[i].drained_at_ms.is_some() {
            return Ok(());
        }
        self.log(i, &node::drain_lines(self.now))?;
        self.announce_down(i)?;
        self.states[i].drained_at_ms = Some(self.now);
        Ok(())
    }
}

fn unix_seconds(ms: u64) -> i64 {
    i64::try_from(ms / 1000).unwrap_or(i64::MAX)
}

/// Restarts a node like `systemctl restart`: returns at once; the node is up after its
/// delay. Returns when it will be up (unix ms), if it started.
pub fn restart(dir: &Path, node: &str) -> Result<Option<u64>, SandboxError> {
    let mut s = Session::open(dir)?;
    let i = s.index(node)?;
    s.stop(i)?;
    s.start(i, s.delay_ms(i))?;
    s.save()?;
    Ok(s.states[i].up_at_ms)
}

/// Waits until `at_ms` (unix ms), then advances the cluster: the join lines of a node whose
/// time has come are written when it joins, as a live node writes its own log, not only
/// when the next command looks. A sandbox deleted meanwhile is not an error.
pub fn wake(dir: &Path, at_ms: u64) -> Result<(), SandboxError> {
    let now = u64::try_from(crate::clock::now_ms()).unwrap_or(0);
    if at_ms > now {
        std::thread::sleep(Duration::from_millis(at_ms - now));
    }
    match Session::open(dir) {
        Ok(s) => s.save(),
        Err(SandboxError::NotASandbox { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Stops a node (no-op when it is already down).
pub fn stop(dir: &Path, node: &str) -> Result<(), SandboxError> {
    let mut s = Session::open(dir)?;
    let i = s.index(node)?;
    s.stop(i)?;
    s.save()
}

/// Starts a node (no-op when it is already running). Returns when it will be up (unix
/// ms), if it started.
pub fn start(dir: &Path, node: &str) -> Result<Option<u64>, SandboxError> {
    let mut s = Session::open(dir)?;
    let i = s.index(node)?;
    s.start(i, s.delay_ms(i))?;
    s.save()?;
    Ok(s.states[i].up_at_ms)
}

/// Sets the start delay of one node, or the sandbox default when `node` is `None`.
pub fn set_start_delay(dir: &Path, node: Option<&str>, delay: Duration) -> Result<(), SandboxError> {
    let mut s = Session::open(dir)?;
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    match node {
        Some(name) => {
            let i = s.index(name)?;
            s.config.nodes[i].start_delay_ms = Some(ms);
        }
        None => s.config.start_delay_ms = ms,
    }
    s.save()
}

/// Returns a node's current state, after advancing the cluster (for tests and tools).
pub fn node_state(dir: &Path, node: &str) -> Result<NodeState, SandboxError> {
    let s = Session::open(dir)?;
    let i = s.index(node)?;
    s.save()?;
    Ok(s.states[i].clone())
}
