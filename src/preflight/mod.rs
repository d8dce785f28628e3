//! Preflight: every check that can be made before anything on the cluster is touched,
//! gathered into one report of findings (node, check, severity, message).
//!
//! Most failed TLS rollouts fail on something that was already true before the first
//! restart: a node not `UN`, a ring member nobody listed, a 3.11 cluster, a keystore whose
//! password is wrong, a truststore without the issuing CA, a shared private key. The
//! checks here only read (commands and files through each node's [`Transport`], key
//! material parsed in pure Rust by [`crate::cassandra::keystore`]), and each finding says
//! what is wrong, where, and what to run. `ringmaster preflight` prints the report;
//! `ringmaster run` runs the same checks first and refuses to start on any blocker.
//!
//! * [`cluster`]: the ring as every node sees it, streaming, release line.
//! * [`node`]: connection, sudo, cassandra.yaml present and both passes render, space
//!   for the backup, no foreign backup.
//! * [`keys`]: keystore and truststore of every node, and across nodes.

pub mod cluster;
pub mod keys;
pub mod node;
pub mod topology;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::cassandra::yaml::{self, EditOptions};
use crate::inventory::{Inventory, Node};
use crate::secrets::Secrets;
use crate::transport::Transport;
use crate::workflow::Workflow;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The check passed.
    Ok,
    /// Worth knowing; nothing is wrong (e.g. a symlinked cassandra.yaml).
    Info,
    /// Worth knowing before the window; does not stop a run.
    Warning,
    /// The rollout would fail or do harm; `run` refuses to start.
    Blocker,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Blocker => "blocker",
        })
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The node the finding is about; `None` for the cluster as a whole.
    pub node: Option<String>,
    /// A stable check name (`status_un`, `keystore`, `chain`, ...).
    pub check: String,
    pub severity: Severity,
    /// What is wrong, where, and what to do (never a secret).
    pub message: String,
}

/// Everything preflight found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn push(&mut self, node: Option<&str>, check: &str, severity: Severity, message: impl Into<String>) {
        self.findings.push(Finding { node: node.map(str::to_string), check: check.into(), severity, message: message.into() });
    }
    /// Adds a finding about `node`.
    pub fn node(&mut self, node: &str, check: &str, severity: Severity, message: impl Into<String>) {
        self.push(Some(node), check, severity, message);
    }
    /// Adds a finding about the whole cluster.
    pub fn cluster(&mut self, check: &str, severity: Severity, message: impl Into<String>) {
        self.push(None, check, severity, message);
    }
    /// Returns the blockers.
    pub fn blockers(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Blocker).collect()
    }
    /// Returns the findings of `severity` for `check`, as (node, message).
    pub fn of(&self, check: &str, severity: Severity) -> Vec<(Option<&str>, &str)> {
        self.findings
            .iter()
            .filter(|f| f.check == check && f.severity == severity)
            .map(|f| (f.node.as_deref(), f.message.as_str()))
            .collect()
    }
    /// Returns the report as a text table; `all` includes the `ok` rows.
    pub fn render(&self, all: bool) -> String {
        let rows: Vec<&Finding> = self.findings.iter().filter(|f| all || f.severity != Severity::Ok).collect();
        let node_w = rows.iter().map(|f| f.node.as_deref().unwrap_or("-").len()).max().unwrap_or(4).max(4);
        let check_w = rows.iter().map(|f| f.check.len()).max().unwrap_or(5).max(5);
        let mut out = String::new();
        for f in rows {
            out.push_str(&format!(
                "{:<7}  {:<node_w$}  {:<check_w$}  {}\n",
                f.severity.to_string(),
                f.node.as_deref().unwrap_or("-"),
                f.check,
                f.message
            ));
        }
        let count = |s| self.findings.iter().filter(|f| f.severity == s).count();
        out.push_str(&format!(
            "preflight: {} blocker(s), {} warning(s), {} ok\n",
            count(Severity::Blocker),
            count(Severity::Warning),
            count(Severity::Ok)
        ));
        out
    }
}

/// Tunable thresholds.
#[derive(Debug, Clone)]
pub struct Options {
    /// A certificate expiring sooner than this is a warning.
    pub expiry_warning: Duration,
    /// "Now", in unix seconds (tests pin it).
    pub now: i64,
    /// How long one command may take.
    pub command_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            expiry_warning: Duration::from_secs(30 * 86_400),
            now: crate::clock::now_ms() / 1000,
            command_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a node has no connection to check: the typed error (a
/// [`TransportError`](crate::transport::TransportError), or a
/// [`SudoCheckFailed`](crate::transport::SudoCheckFailed) when the node connected but
/// `sudo -n` did not work) and the operator's next steps.
#[derive(Debug)]
pub struct NoConnection {
    pub error: Box<dyn std::error::Error + Send + Sync>,
    pub hints: Vec<String>,
}

impl NoConnection {
    /// Returns true when the node connected and only `sudo -n` failed.
    pub fn is_sudo(&self) -> bool {
        self.error.downcast_ref::<crate::transport::SudoCheckFailed>().is_some()
    }

    /// Returns the finding's text: the error, then its hints.
    pub fn finding(&self) -> String {
        let mut text = self.error.to_string();
        for h in &self.hints {
            text.push_str(&format!("; {h}"));
        }
        text
    }
}

/// What the checks read from: the cluster, the workflow, the secrets, and a connection
/// (or the reason there is none) per node.
pub struct Context<'a> {
    pub inventory: &'a Inventory,
    pub workflow: &'a Workflow,
    pub secrets: &'a Secrets,
    pub transports: &'a BTreeMap<String, Result<Transport, NoConnection>>,
    pub options: Options,
}

impl Context<'_> {
    /// Returns the node's transport when it connected.
    pub fn transport(&self, node: &str) -> Option<&Transport> {
        self.transports.get(node).and_then(|t| t.as_ref().ok())
    }
}

/// Runs every check and returns the report (cluster rows first, then node and key rows).
pub async fn run(ctx: &Context<'_>) -> Report {
    let mut report = Report::default();
    for node in &ctx.inventory.nodes {
        node::connection(ctx, node, &mut report);
    }
    cluster::check(ctx, &mut report).await;
    let parts = per_node(ctx, |node| async move {
        let mut r = Report::default();
        node::check(ctx, node, &mut r).await;
        r
    })
    .await;
    for part in parts {
        report.findings.extend(part.findings);
    }
    keys::check(ctx, &mut report).await;
    report
}

/// How many nodes the per-node checks read at once (each node's commands also share its
/// transport's own limit).
pub const PREFLIGHT_PARALLELISM: usize = 32;

/// Runs `check` for every node, [`PREFLIGHT_PARALLELISM`] at a time; returns the
/// results in inventory order, so the report reads the same whatever order the nodes
/// answered in.
pub(crate) async fn per_node<'c, T, F, Fut>(ctx: &'c Context<'_>, check: F) -> Vec<T>
where
    F: Fn(&'c Node) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    futures::stream::iter(ctx.inventory.nodes.iter()).map(check).buffered(PREFLIGHT_PARALLELISM).collect().await
}

/// One pass rendered for one node: the new file and a diff with passwords masked.
#[derive(Debug, Clone)]
pub struct RenderedPass {
    pub pass: String,
    pub changed: bool,
    pub diff: String,
    /// The file after this pass (input of the next one). Holds passwords: never print it.
    pub bytes: Vec<u8>,
}

/// Renders every pass of the workflow on `config` in order, as the run would write them
/// (the editor's dry run). The error names the pass and never holds a secret.
pub fn render_passes(node: &Node, config: &[u8], workflow: &Workflow, secrets: &Secrets) -> Result<Vec<RenderedPass>, String> {
    let mut current = config.to_vec();
    let mut out = Vec::new();
    for pass in &workflow.passes {
        let settings = pass.render(node, secrets).map_err(|e| e.to_string())?;
        let edit = yaml::edit_server_encryption(&node.config_path, &current, &settings, &EditOptions { release: node.cassandra_release })
            .map_err(|e| format!("pass `{}`: {}", pass.name, secrets.redact(&e.to_string())))?;
        let diff = yaml::masked_diff(&node.config_path, &current, &edit.bytes, &secrets.values());
        out.push(RenderedPass { pass: pass.name.clone(), changed: edit.changed, diff, bytes: edit.bytes.clone() });
        current = edit.bytes;
    }
    Ok(out)
}

/// Returns the value of `key` the last pass sets for `node`, secrets filled in.
pub(crate) fn final_setting(ctx: &Context<'_>, node: &Node, key: &str) -> Option<yaml::Value> {
    let pass = ctx.workflow.passes.last()?;
    let settings = pass.render(node, ctx.secrets).ok()?;
    settings.into_iter().find(|s| s.key == key).map(|s| s.value)
}

/// Quotes a path for `sh -c` (the transport's one quoting, under a short name).
pub(crate) use crate::transport::shell_quote as sh;
