//! Cluster checks: the ring as every node sees it (all `UN`, no join/leave/move, the
//! inventory and the ring agree), no streaming, one supported release line, the
//! workflow's keys known to that release, and the entire-SSTable streaming warning.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Report, Severity};
use crate::cassandra::status::{StatusNode, parse_status};
use crate::cassandra::yaml::{self, EditOptions, Release};

/// Runs `nodetool <sub>` on every connected node, [`super::PREFLIGHT_PARALLELISM`] at a
/// time (nodetool is a JVM on each node, and hundreds at once would only queue on this
/// side's SSH masters); (node, stdout or error) in inventory order.
async fn nodetool_all(ctx: &Context<'_>, sub: &str) -> Vec<(String, Result<String, String>)> {
    use futures::StreamExt;
    let futures = ctx.inventory.nodes.iter().filter_map(|n| {
        let t = ctx.transport(&n.name)?;
        let command = format!("{} {sub}", n.nodetool_command);
        Some(async move {
            let r = match t.run(&command, None, ctx.options.command_timeout).await {
                Ok(out) if out.success() => Ok(out.stdout_str()),
                Ok(out) => Err(format!("`nodetool {sub}` {}: {}", out.status_text(), out.stderr_str().trim())),
                Err(e) => Err(e.to_string()),
            };
            (n.name.clone(), r)
        })
    });
    futures::stream::iter(futures).buffered(super::PREFLIGHT_PARALLELISM).collect().await
}

/// Adds the cluster findings to `report`.
pub async fn check(ctx: &Context<'_>, report: &mut Report) {
    let (status, netstats, version) =
        futures::join!(nodetool_all(ctx, "status"), nodetool_all(ctx, "netstats"), nodetool_all(ctx, "version"));
    ring(ctx, &status, report);
    streaming(&netstats, report);
    release(ctx, &version, report);
}

fn ring(ctx: &Context<'_>, views: &[(String, Result<String, String>)], report: &mut Report) {
    let nodes = &ctx.inventory.nodes;
    let known: BTreeSet<&str> = nodes.iter().map(|n| n.address.as_str()).collect();
    for (from, result) in views {
        let rows: Vec<StatusNode> = match result.as_ref().map_err(String::clone).and_then(|t| parse_status(t).map_err(|e| e.to_string())) {
            Ok(rows) => rows,
            Err(e) => {
                report.node(from, "status_un", Severity::Blocker, format!("`nodetool status` on `{from}` gave no usable answer: {e}; make sure Cassandra runs there and `nodetool status` works, then run preflight again"));
                continue;
            }
        };
        let mut not_un = Vec::new();
        for n in nodes {
            match rows.iter().find(|r| r.address == n.address) {
                Some(r) if r.status == "U" => {}
                Some(r) => not_un.push(format!("{} ({}) is {}{}", n.name, n.address, r.status, r.state)),
                None => not_un.push(format!("{} ({}) is not in its ring", n.name, n.address)),
            }
        }
        if not_un.is_empty() {
            report.node(from, "status_un", Severity::Ok, format!("`{from}` sees every inventory node up"));
        } else {
            report.node(from, "status_un", Severity::Blocker, format!("in the view of `{from}`, {}: every node must be UN in every view before the first restart; bring it up (or fix the inventory) and wait until `nodetool status` shows UN everywhere", not_un.join(", ")));
        }
        let moving: Vec<String> =
            rows.iter().filter(|r| r.state != "N").map(|r| format!("{} is {}{}", r.address, r.status, r.state)).collect();
        if moving.is_empty() {
            report.node(from, "ring_movement", Severity::Ok, format!("no node joining, leaving or moving in the view of `{from}`"));
        } else {
            report.node(from, "ring_movement", Severity::Blocker, format!("in the view of `{from}`, {}: wait until the bootstrap, decommission or move finishes (`nodetool netstats` shows its progress), then run preflight again", moving.join(", ")));
        }
        let strangers: Vec<&str> = rows.iter().map(|r| r.address.as_str()).filter(|a| !known.contains(a)).collect();
        if strangers.is_empty() {
            report.node(from, "ring_membership", Severity::Ok, format!("the ring seen by `{from}` is exactly the inventory"));
        } else {
            report.node(from, "ring_membership", Severity::Blocker, format!("ring member(s) {} seen by `{from}` are not in the inventory `{}`: a node left out would be cut off when TLS is enforced; add it as a `[[node]]` (with its key material) or remove it from the ring (`nodetool removenode`)", strangers.join(", "), ctx.inventory.path.display()));
        }
    }
}

/// What `nodetool netstats` says: the operation mode and whether any stream is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetStats {
    /// `NORMAL`, `JOINING`, `LEAVING`, `DECOMMISSIONED`, `MOVING`, `DRAINING`, `DRAINED`, ...
    pub mode: String,
    /// The stream plan lines (`Bootstrap <uuid>`, `Repair <uuid>`, ...), empty when idle.
    pub streams: Vec<String>,
}

/// Parses `nodetool netstats` (NetStats.java, 4.0 to 5.0): `Mode: X`, then either
/// `Not sending any streams.` or one `<Operation> <plan id>` line per stream plan with
/// indented session lines, then the read repair and pool statistics.
pub fn parse_netstats(text: &str) -> Result<NetStats, String> {
    let mut lines = text.lines();
    let mode = lines
        .by_ref()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.strip_prefix("Mode: "))
        .ok_or_else(|| "no `Mode:` line".to_string())?
        .trim()
        .to_string();
    let mut streams = Vec::new();
    for l in lines {
        if l.starts_with("Read Repair Statistics:") || l.starts_with("Pool Name") {
            break;
        }
        if l.trim().is_empty() || l.starts_with("Not sending any streams") || l.starts_with(' ') {
            continue;
        }
        streams.push(l.trim().to_string());
    }
    Ok(NetStats { mode, streams })
}

fn streaming(views: &[(String, Result<String, String>)], report: &mut Report) {
    for (from, result) in views {
        match result.as_ref().map_err(String::clone).and_then(|t| parse_netstats(t)) {
            Err(e) => report.node(from, "streaming", Severity::Blocker, format!("`nodetool netstats` on `{from}` gave no usable answer ({e}); streaming cannot be ruled out; check `nodetool netstats` by hand")),
            Ok(s) if !s.streams.is_empty() => report.node(from, "streaming", Severity::Blocker, format!("`{from}` is streaming ({}): a restart would abort it; wait until `nodetool netstats` on `{from}` shows `Not sending any streams.`", s.streams.join("; "))),
            Ok(s) if s.mode != "NORMAL" => report.node(from, "streaming", Severity::Blocker, format!("`nodetool netstats` on `{from}` shows `Mode: {}`: only a node in mode NORMAL may be restarted; wait for the operation to finish", s.mode)),
            Ok(_) => report.node(from, "streaming", Severity::Ok, format!("`{from}` is in mode NORMAL and streams nothing")),
        }
    }
}

/// Returns the release line of `nodetool version` output (`ReleaseVersion: 5.0.2`).
pub fn parse_version(text: &str) -> Option<(u32, u32, String)> {
    let v = text.lines().find_map(|l| l.trim().strip_prefix("ReleaseVersion:"))?.trim().to_string();
    let mut parts = v.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor, v))
}

fn release(ctx: &Context<'_>, views: &[(String, Result<String, String>)], report: &mut Report) {
    let mut lines: BTreeMap<(u32, u32), Vec<String>> = BTreeMap::new();
    for (from, result) in views {
        let parsed = result.as_ref().ok().and_then(|t| parse_version(t));
        let Some((major, minor, full)) = parsed else {
            let why = result.as_ref().err().cloned().unwrap_or_else(|| "no `ReleaseVersion:` line".into());
            report.node(
                from,
                "release",
                Severity::Blocker,
                format!("cannot tell the Cassandra release of `{from}` from `nodetool version` ({why})"),
            );
            continue;
        };
        lines.entry((major, minor)).or_default().push(from.clone());
        match (major, minor) {
            (3, _) | (0..=2, _) => report.node(from, "release", Severity::Blocker, format!(
                "`{from}` runs Cassandra {full}: before 4.0 internode TLS has no `optional` mode and `internode_encryption: all` moves traffic to ssl_storage_port 7001, so a rolling switch splits the cluster until every node is switched; upgrade to 4.0 or later first (or plan a full-cluster restart by hand)"
            )),
            _ => report.node(from, "release", Severity::Ok, format!("`{from}` runs Cassandra {full}")),
        }
    }
    if lines.len() > 1 {
        let mixed = lines.iter().map(|((a, b), nodes)| format!("{a}.{b} on {}", nodes.join(", "))).collect::<Vec<_>>().join("; ");
        report.cluster(
            "release",
            Severity::Blocker,
            format!(
                "the nodes run different release lines ({mixed}): finish the upgrade so every node runs one release line, then roll out TLS"
            ),
        );
    }
    let Some(((major, minor), _)) = lines.iter().next_back() else { return };
    if lines.len() != 1 || *major < 4 {
        return;
    }
    let release = if (*major, *minor) == (4, 0) { Release::V4_0 } else { Release::V4_1Plus };
    release_keys(ctx, release, report);
    // Cassandra streams whole SSTables zero-copy only over unencrypted connections.
    let encrypts =
        ctx.workflow.passes.iter().any(|p| p.settings.iter().any(|(k, v)| k == "internode_encryption" && v.as_str() != Some("none")));
    if encrypts {
        report.cluster("sstable_streaming", Severity::Warning, "once internode encryption is on, Cassandra no longer streams entire SSTables (zero-copy streaming needs plaintext connections): bootstrap, rebuild and repair stream slower; watch any that run in the window");
    }
}

/// The workflow's keys must exist in the cluster's release, or the node fails to start.
fn release_keys(ctx: &Context<'_>, release: Release, report: &mut Report) {
    let indent = if release == Release::V4_1Plus { "  " } else { "    " };
    let probe = format!("server_encryption_options:\n{indent}internode_encryption: none\n");
    let Some(node) = ctx.inventory.nodes.first() else { return };
    for pass in &ctx.workflow.passes {
        let Ok(settings) = pass.render(node, ctx.secrets) else { continue };
        match yaml::edit_server_encryption("<release probe>", probe.as_bytes(), &settings, &EditOptions { release: Some(release) }) {
            Ok(_) => {
                report.cluster("release_keys", Severity::Ok, format!("every key of pass `{}` exists in Cassandra {release}", pass.name))
            }
            Err(e) => report.cluster(
                "release_keys",
                Severity::Blocker,
                format!(
                    "pass `{}` of workflow `{}` does not fit Cassandra {release}: {}; use a workflow written for this release",
                    pass.name,
                    ctx.workflow.name,
                    ctx.secrets.redact(&e.to_string())
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstats_idle_and_busy() {
        let idle = "Mode: NORMAL\nNot sending any streams.\nRead Repair Statistics:\nAttempted: 0\nMismatch (Blocking): 0\nMismatch (Background): 0\nPool Name                    Active   Pending      Completed   Dropped\nLarge messages                  n/a         0              0         0\n";
        assert_eq!(parse_netstats(idle).unwrap(), NetStats { mode: "NORMAL".into(), streams: vec![] });
        let busy = "Mode: JOINING\nBootstrap 1f1c6e90-7a4e-11ef-9d4c-0b6a5f1e2d3c\n    /127.0.0.2\n        Receiving 3 files, 1024 bytes total. Already received 1 files (33.33%), 100 bytes total (9.77%)\nRead Repair Statistics:\n";
        let s = parse_netstats(busy).unwrap();
        assert_eq!(s.mode, "JOINING");
        assert_eq!(s.streams, ["Bootstrap 1f1c6e90-7a4e-11ef-9d4c-0b6a5f1e2d3c"]);
        assert!(parse_netstats("nodetool: Failed to connect").is_err());
    }

    #[test]
    fn version_lines() {
        assert_eq!(parse_version("ReleaseVersion: 5.0.2\n").map(|v| (v.0, v.1)), Some((5, 0)));
        assert_eq!(parse_version("ReleaseVersion: 3.11.17\n").map(|v| (v.0, v.1)), Some((3, 11)));
        assert_eq!(parse_version("ReleaseVersion: 4.1-SNAPSHOT\n").map(|v| (v.0, v.1)), Some((4, 1)));
        assert_eq!(parse_version("garbage"), None);
    }
}
