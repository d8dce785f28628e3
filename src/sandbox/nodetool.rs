//! The simulated `nodetool`: `status` in the 4.0+/5.0 TableBuilder format (one block per DC),
//! `describecluster`, `describering`, minimal `tablestats`, `drain`, `version` and an idle
//! `netstats`, with nodetool's exit codes and its JMX connection error for a node that is not up.
//!
//! The status table follows cassandra-notes.md section 4: every column padded to its widest
//! cell (header included, so rows may end in spaces), two-space separator, an empty line at the
//! end, and rows in Java HashMap order rather than sorted, so parsers must key on the address.

use std::io::Write;
use std::path::Path;

use super::describe;
use super::topology;
use super::{JMX_PORT, RELEASE_VERSION, STORAGE_PORT, SandboxError, Session};
/// Replication factor of `system_traces`, whose effective ownership `status` shows when no
/// keyspace is given and there are no user keyspaces.
const TRACES_RF: usize = 2;

/// One row of the status table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// True for `U`, false for `D`.
    pub up: bool,
    pub address: String,
    pub load: String,
    pub tokens: u32,
    pub owns: String,
    pub host_id: String,
    pub rack: String,
}

/// Formats a byte count like `FileUtils.stringifyFileSize` (`#.##` and binary units).
pub fn format_load(bytes: u64) -> String {
    const UNITS: [(f64, &str); 4] =
        [(1024.0 * 1024.0 * 1024.0 * 1024.0, "TiB"), (1024.0 * 1024.0 * 1024.0, "GiB"), (1024.0 * 1024.0, "MiB"), (1024.0, "KiB")];
    // Precision loss above 2^53 bytes is irrelevant for a displayed size.
    #[allow(clippy::cast_precision_loss)]
    let value = bytes as f64;
    let (scaled, unit) = UNITS.iter().find(|(size, _)| value >= *size).map_or((value, "bytes"), |(size, unit)| (value / size, *unit));
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

/// Formats effective ownership like `DecimalFormat("##0.0%")`.
pub fn format_owns(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// Orders keys as the Guava `ArrayListMultimap` of `nodetool status` iterates them: a
/// HashMap sized for 12 keys (32 buckets, doubling past 3/4 load), given insertion order.
pub fn java_hashmap_order(keys: &[String]) -> Vec<usize> {
    topology::java_hashmap_order(keys, topology::java_hashmap_grown_capacity(32, keys.len()))
}

/// Renders the `nodetool status` output of one datacenter (4.0+ TableBuilder).
pub fn render_status(dc: &str, rows: &[StatusRow]) -> String {
    render_status_dcs(&[(dc.to_owned(), rows.to_vec())], true, None)
}

/// Renders `nodetool status` for several datacenters (in the order given, which nodetool
/// makes TreeMap order): one block each, an empty line between blocks and at the end, every
/// column padded to its widest cell across ALL blocks. `effective` picks the
/// `Owns (effective)` header over `Owns`; `note` is appended as `Note: <note>`.
pub fn render_status_dcs(dcs: &[(String, Vec<StatusRow>)], effective: bool, note: Option<&str>) -> String {
    let header =
        ["--", "Address", "Load", "Tokens", if effective { "Owns (effective)" } else { "Owns" }, "Host ID", "Rack"].map(str::to_owned);
    let cells = |r: &StatusRow| {
        vec![
            format!("{}N", if r.up { 'U' } else { 'D' }),
            r.address.clone(),
            r.load.clone(),
            r.tokens.to_string(),
            r.owns.clone(),
            r.host_id.clone(),
            r.rack.clone(),
        ]
    };
    let all: Vec<Vec<String>> = std::iter::once(header.to_vec()).chain(dcs.iter().flat_map(|(_, rows)| rows.iter().map(cells))).collect();
    let widths: Vec<usize> = (0..header.len()).map(|c| all.iter().map(|row| row[c].chars().count()).max().unwrap_or(0)).collect();
    let line = |row: &[String]| {
        let padded: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        format!("{}\n", padded.join("  "))
    };
    let blocks: Vec<String> = dcs
        .iter()
        .map(|(dc, rows)| {
            let title = format!("Datacenter: {dc}");
            let mut out = format!("{title}\n{}\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n", "=".repeat(title.len()));
            out.push_str(&line(&header));
            for r in rows {
                out.push_str(&line(&cells(r)));
            }
            out
        })
        .collect();
    let mut out = blocks.join("\n");
    out.push('\n');
    if let Some(note) = note {
        out.push_str(&format!("Note: {note}\n"));
    }
    out
}

/// `nodetool status [keyspace]` as node `me` sees it; `Err` carries the text of a keyspace
/// that does not exist (nodetool prints it and exits 1).
fn status(session: &Session, me: usize, keyspace: Option<&str>) -> Result<String, String> {
    let config = &session.config;
    let nodes = &config.nodes;
    let ring = config.ring();
    let view = cluster_view(session, me);
    // StorageService.effectiveOwnership: the keyspace given, else the first user keyspace
    // (all must replicate alike), else system_traces.
    let replication = match keyspace {
        Some(name) => Some(describe::find_keyspace(&config.keyspaces, name).ok_or_else(|| format!("The keyspace {name}, does not exist"))?),
        None => match view.ownership_problem() {
            Some(_) => None,
            None => Some(
                config
                    .keyspaces
                    .iter()
                    .find(|k| !topology::is_system_keyspace(&k.name))
                    .map_or(topology::Replication::SimpleStrategy { replication_factor: TRACES_RF }, |k| k.replication.clone()),
            ),
        },
    };
    let owned = if keyspace.is_none() && config.keyspaces.is_empty() {
        // No keyspace and no user keyspaces: system_traces (RF 2). A real 5.0 cluster places
        // its tokens with allocate_tokens_for_local_replication_factor, which balances this to
        // RF / N; the sandbox's random tokens would not, so the balanced value is shown.
        // Lossless for any realistic node count.
        #[allow(clippy::cast_precision_loss)]
        let even = TRACES_RF.min(nodes.len()) as f64 / nodes.len() as f64;
        Some(vec![even; nodes.len()])
    } else {
        replication.as_ref().and_then(|r| ring.effective_ownership(r))
    };
    let note = match (&replication, &owned) {
        (None, _) => view.ownership_problem(),
        (Some(_), None) => Some("Ownership values for keyspaces with LocalStrategy are meaningless"),
        _ => None,
    };
    let mut dcs = Vec::new();
    for dc in ring.datacenters() {
        let members: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].dc == dc).collect();
        let keys: Vec<String> = members.iter().map(|&i| format!("{}:{STORAGE_PORT}", nodes[i].address)).collect();
        let rows = java_hashmap_order(&keys)
            .into_iter()
            .map(|k| {
                let i = members[k];
                StatusRow {
                    up: view.live[i],
                    address: nodes[i].address.clone(),
                    load: format_load(nodes[i].load_bytes),
                    tokens: u32::try_from(nodes[i].ring_tokens().len()).unwrap_or(u32::MAX),
                    owns: owned.as_ref().map_or("?".to_owned(), |o| format_owns(o[i])),
                    host_id: nodes[i].host_id.clone(),
                    rack: nodes[i].rack.clone(),
                }
            })
            .collect();
        dcs.push((dc.to_owned(), rows));
    }
    Ok(render_status_dcs(&dcs, owned.is_some(), note))
}

/// What node `me` sees of the cluster right now.
fn cluster_view(session: &Session, me: usize) -> describe::ClusterView<'_> {
    describe::ClusterView {
        cluster_name: &session.config.cluster_name,
        nodes: &session.config.nodes,
        keyspaces: &session.config.keyspaces,
        me,
        live: (0..session.config.nodes.len()).map(|i| i == me || session.can_talk(me, i, session.now)).collect(),
    }
}

/// `nodetool netstats` of an idle 5.0 node: `Mode: %s`, no stream plans, then the read
/// repair counters and the pools (`%-25s%10s%10s%15s%10s`), as NetStats.java prints them.
const NETSTATS_IDLE: &str = "Mode: NORMAL\nNot sending any streams.\nRead Repair Statistics:\nAttempted: 0\n\
Mismatch (Blocking): 0\nMismatch (Background): 0\n\
Pool Name                    Active   Pending      Completed   Dropped\n\
Large messages                  n/a         0              0         0\n\
Small messages                  n/a         0              6         0\n\
Gossip messages                 n/a         0             41         0\n";

fn io_err(source: std::io::Error) -> SandboxError {
    SandboxError::Io { action: "write nodetool output to", path: "<stdout/stderr>".into(), source }
}

/// Runs `nodetool <args>` against a sandbox node and returns nodetool's exit code.
///
/// Supported: `status [keyspace]` (one block per DC, effective ownership from the replica
/// placement), `describecluster`, `describering KS`, `tablestats`/`cfstats [KS...]`
/// (keyspace blocks only), `drain`, `version`, `netstats` (a sandbox node never streams: the
/// idle output of NetStats.java). Anything else is a usage error (exit 1). A node that is down or still booting refuses the JMX connection
/// (exit 1), as the real tool does.
pub fn nodetool(dir: &Path, node: &str, args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, SandboxError> {
    let command = args.first().map(String::as_str);
    let known = matches!(
        command,
        Some("status" | "drain" | "version" | "netstats" | "describecluster" | "describering" | "tablestats" | "cfstats")
    );
    let missing_keyspace = command == Some("describering") && args.len() != 2;
    if !known || missing_keyspace {
        let msg = match command {
            None => "nodetool: No command specified".to_owned(),
            Some("describering") if args.len() < 2 => "nodetool: Required parameters are missing: keyspace".to_owned(),
            Some(_) => format!("nodetool: Found unexpected parameters: [{}]", args.join(", ")),
        };
        writeln!(err, "{msg}\nSee 'nodetool help' or 'nodetool help <command>'.").map_err(io_err)?;
        return Ok(1);
    }
    // Only `drain` changes anything; the reads share the lock.
    let mut session = if command == Some("drain") { Session::open(dir)? } else { Session::open_shared(dir)? };
    let me = session.index(node)?;
    if !session.states[me].is_up(session.now) {
        let address = &session.config.nodes[me].address;
        writeln!(err, "nodetool: Failed to connect to '{address}:{JMX_PORT}' - ConnectException: 'Connection refused'.").map_err(io_err)?;
        session.save()?;
        return Ok(1);
    }
    let mut code = 0;
    match command {
        Some("status") => match status(&session, me, args.get(1).map(String::as_str)) {
            Ok(text) => out.write_all(text.as_bytes()).map_err(io_err)?,
            Err(error) => {
                write!(out, "\nError: {error}\n").map_err(io_err)?;
                code = 1;
            }
        },
        Some("describecluster") => out.write_all(describe::describecluster(&cluster_view(&session, me)).as_bytes()).map_err(io_err)?,
        Some("describering") => code = describering(&session, me, &args[1], out, err)?,
        Some("tablestats" | "cfstats") => {
            let only: Vec<String> = args[1..].iter().filter(|a| !a.starts_with('-')).cloned().collect();
            out.write_all(describe::tablestats(&session.config.keyspaces, &only).as_bytes()).map_err(io_err)?;
        }
        Some("drain") => session.drain(me)?,
        Some("netstats") => out.write_all(NETSTATS_IDLE.as_bytes()).map_err(io_err)?,
        _ => writeln!(out, "ReleaseVersion: {RELEASE_VERSION}").map_err(io_err)?,
    }
    session.save()?;
    Ok(code)
}

/// `nodetool describering KS`: the ranges, or for an unknown or local keyspace the
/// `IOException` that `describeRingJMX` throws, wrapped by DescribeRing in a RuntimeException
/// and reported by NodeTool.err (`error: ...`, `-- StackTrace --`, exit 2) after the two
/// header lines were already printed.
fn describering(session: &Session, me: usize, keyspace: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, SandboxError> {
    let view = cluster_view(session, me);
    let problem = match describe::find_keyspace(&session.config.keyspaces, keyspace) {
        None => format!("No such keyspace: {keyspace}"),
        Some(topology::Replication::LocalStrategy) => {
            format!("There is no ring for the keyspace: {keyspace}")
        }
        Some(replication) => {
            let ring = session.config.ring();
            out.write_all(describe::describering(&view, &ring, &replication).as_bytes()).map_err(io_err)?;
            return Ok(0);
        }
    };
    write!(out, "Schema Version:{}\nTokenRange: \n", view.schema_version()).map_err(io_err)?;
    let cause = format!("java.io.IOException: {problem}");
    write!(
        err,
        "error: {cause}\n-- StackTrace --\njava.lang.RuntimeException: {cause}\n\
         \tat org.apache.cassandra.tools.nodetool.DescribeRing.execute(DescribeRing.java)\n\
         \tat org.apache.cassandra.tools.NodeTool$NodeToolCmd.runInternal(NodeTool.java)\n\
         \tat org.apache.cassandra.tools.NodeTool$NodeToolCmd.run(NodeTool.java)\n\
         \tat org.apache.cassandra.tools.NodeTool.execute(NodeTool.java)\n\
         \tat org.apache.cassandra.tools.NodeTool.main(NodeTool.java)\n\
         Caused by: {cause}\n\
         \tat org.apache.cassandra.service.StorageService.describeRingJMX(StorageService.java)\n\n"
    )
    .map_err(io_err)?;
    Ok(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `status-5.0-1dc-3nodes-UN.txt` from the shared fixtures, byte for byte.
    const FIXTURE_UN: &str = "Datacenter: datacenter1\n=======================\nStatus=Up/Down\n\
|/ State=Normal/Leaving/Joining/Moving\n\
--  Address    Load        Tokens  Owns (effective)  Host ID                               Rack \n\
UN  127.0.0.2  98.47 KiB   16      66.7%             5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22  rack1\n\
UN  127.0.0.1  104.33 KiB  16      66.7%             c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11  rack1\n\
UN  127.0.0.3  110.21 KiB  16      66.7%             9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33  rack1\n\n";

    fn row(address: &str, load: &str, host_id: &str) -> StatusRow {
        StatusRow {
            up: true,
            address: address.into(),
            load: load.into(),
            tokens: 16,
            owns: format_owns(2.0 / 3.0),
            host_id: host_id.into(),
            rack: "rack1".into(),
        }
    }

    #[test]
    fn renders_the_fixture_byte_for_byte() {
        let rows = [
            row("127.0.0.2", "98.47 KiB", "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22"),
            row("127.0.0.1", "104.33 KiB", "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11"),
            row("127.0.0.3", "110.21 KiB", "9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33"),
        ];
        assert_eq!(render_status("datacenter1", &rows), FIXTURE_UN);
    }

    #[test]
    fn hashmap_order_matches_java_for_three_loopback_nodes() {
        let keys: Vec<String> = (1..=3).map(|i| format!("127.0.0.{i}:7000")).collect();
        assert_eq!(java_hashmap_order(&keys), vec![1, 0, 2]);
    }

    #[test]
    fn load_and_owns_formats() {
        assert_eq!(format_load(100_833), "98.47 KiB");
        assert_eq!(format_load(1024 * 1024 * 5), "5 MiB");
        assert_eq!(format_load(512), "512 bytes");
        assert_eq!(format_owns(1.0), "100.0%");
        assert_eq!(format_owns(0.5), "50.0%");
    }
}
