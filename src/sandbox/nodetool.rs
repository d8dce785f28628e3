//! The simulated `nodetool`: `status` in the 4.0+/5.0 TableBuilder format, `drain`,
//! `version` and an idle `netstats`, with nodetool's exit codes and its JMX connection error for a node that is not up.
//!
//! The status table follows cassandra-notes.md section 4: every column padded to its widest
//! cell (header included, so rows may end in spaces), two-space separator, an empty line at the
//! end, and rows in Java HashMap order rather than sorted, so parsers must key on the address.

use std::io::Write;
use std::path::Path;

use super::{JMX_PORT, RELEASE_VERSION, STORAGE_PORT, SandboxError, Session};

/// Number of vnodes per node (`num_tokens` of the stock 5.0 yaml).
const TOKENS: u32 = 16;
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
    const UNITS: [(f64, &str); 4] = [
        (1024.0 * 1024.0 * 1024.0 * 1024.0, "TiB"),
        (1024.0 * 1024.0 * 1024.0, "GiB"),
        (1024.0 * 1024.0, "MiB"),
        (1024.0, "KiB"),
    ];
    // Precision loss above 2^53 bytes is irrelevant for a displayed size.
    #[allow(clippy::cast_precision_loss)]
    let value = bytes as f64;
    let (scaled, unit) = UNITS
        .iter()
        .find(|(size, _)| value >= *size)
        .map_or((value, "bytes"), |(size, unit)| (value / size, *unit));
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

/// Formats effective ownership like `DecimalFormat("##0.0%")`.
pub fn format_owns(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// Java `String.hashCode`.
fn java_hash(s: &str) -> u32 {
    s.encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)))
}

/// Orders keys as a Java `HashMap` sized for 12 keys (Guava's default, 32 buckets, doubling
/// past 3/4 load) iterates them, given insertion order.
pub fn java_hashmap_order(keys: &[String]) -> Vec<usize> {
    let mut buckets = 32usize;
    while keys.len() * 4 > buckets * 3 {
        buckets *= 2;
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    let bucket = |i: usize| {
        let h = java_hash(&keys[i]);
        usize::try_from((h ^ (h >> 16)) & u32::try_from(buckets - 1).unwrap_or(u32::MAX))
            .unwrap_or(0)
    };
    // A stable sort keeps insertion order inside a bucket, like HashMap's chains.
    order.sort_by_key(|&i| bucket(i));
    order
}

/// Renders the `nodetool status` output of one datacenter (4.0+ TableBuilder).
pub fn render_status(dc: &str, rows: &[StatusRow]) -> String {
    let title = format!("Datacenter: {dc}");
    let mut out = format!(
        "{title}\n{}\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n",
        "=".repeat(title.len())
    );
    let header = [
        "--",
        "Address",
        "Load",
        "Tokens",
        "Owns (effective)",
        "Host ID",
        "Rack",
    ]
    .map(str::to_owned);
    let mut table = vec![header.to_vec()];
    for r in rows {
        table.push(vec![
            format!("{}N", if r.up { 'U' } else { 'D' }),
            r.address.clone(),
            r.load.clone(),
            r.tokens.to_string(),
            r.owns.clone(),
            r.host_id.clone(),
            r.rack.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            table
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out.push('\n');
    out
}

fn status(session: &Session, me: usize) -> String {
    let nodes = &session.config.nodes;
    let keys: Vec<String> = nodes
        .iter()
        .map(|n| format!("{}:{STORAGE_PORT}", n.address))
        .collect();
    // Lossless for any realistic node count.
    #[allow(clippy::cast_precision_loss)]
    let owns = TRACES_RF.min(nodes.len()) as f64 / nodes.len() as f64;
    let rows: Vec<StatusRow> = java_hashmap_order(&keys)
        .into_iter()
        .map(|i| StatusRow {
            up: i == me || session.can_talk(me, i, session.now),
            address: nodes[i].address.clone(),
            load: format_load(nodes[i].load_bytes),
            tokens: TOKENS,
            owns: format_owns(owns),
            host_id: nodes[i].host_id.clone(),
            rack: "rack1".to_owned(),
        })
        .collect();
    render_status("datacenter1", &rows)
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
    SandboxError::Io {
        action: "write nodetool output to",
        path: "<stdout/stderr>".into(),
        source,
    }
}

/// Runs `nodetool <args>` against a sandbox node and returns nodetool's exit code.
///
/// Supported: `status [keyspace]` (keyspace ignored), `drain`, `version`, `netstats`
/// (a sandbox node never streams: the idle output of NetStats.java). Anything else is
/// a usage error (exit 1). A node that is down or still booting refuses the JMX connection
/// (exit 1), as the real tool does.
pub fn nodetool(
    dir: &Path,
    node: &str,
    args: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, SandboxError> {
    let command = args.first().map(String::as_str);
    if !matches!(command, Some("status" | "drain" | "version" | "netstats")) {
        let msg = match command {
            None => "nodetool: No command specified".to_owned(),
            Some(_) => format!(
                "nodetool: Found unexpected parameters: [{}]",
                args.join(", ")
            ),
        };
        writeln!(
            err,
            "{msg}\nSee 'nodetool help' or 'nodetool help <command>'."
        )
        .map_err(io_err)?;
        return Ok(1);
    }
    let mut session = Session::open(dir)?;
    let me = session.index(node)?;
    if !session.states[me].is_up(session.now) {
        let address = &session.config.nodes[me].address;
        writeln!(
            err,
            "nodetool: Failed to connect to '{address}:{JMX_PORT}' - ConnectException: 'Connection refused'."
        )
        .map_err(io_err)?;
        session.save()?;
        return Ok(1);
    }
    match command {
        Some("status") => out
            .write_all(status(&session, me).as_bytes())
            .map_err(io_err)?,
        Some("drain") => session.drain(me)?,
        Some("netstats") => out.write_all(NETSTATS_IDLE.as_bytes()).map_err(io_err)?,
        _ => writeln!(out, "ReleaseVersion: {RELEASE_VERSION}").map_err(io_err)?,
    }
    session.save()?;
    Ok(0)
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
            row(
                "127.0.0.2",
                "98.47 KiB",
                "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22",
            ),
            row(
                "127.0.0.1",
                "104.33 KiB",
                "c2a1f6b0-5f4e-4c7a-9d43-3b1e2f0a6d11",
            ),
            row(
                "127.0.0.3",
                "110.21 KiB",
                "9f7c3e2d-4b1a-4d5e-b6c7-2a8e9f0d3b33",
            ),
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
