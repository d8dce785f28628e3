//! Parsers for `nodetool describecluster` and `nodetool describering KEYSPACE`, the
//! evidence the batch planner (`crate::topology`) uses to prove a batch of restarts safe.
//!
//! Both follow the Cassandra 4.0+/5.0 sources byte for byte. `describecluster`
//! (tools/nodetool/DescribeCluster.java) prints a `Keyspaces:` section of
//! `\t<ks> -> Replication class: <Class> {k=v, ...}` lines, the class from
//! `klass.getSimpleName()` and the options from Java's `Map.toString()`.
//! `describering` (tools/nodetool/DescribeRing.java) prints `Schema Version:<uuid>`,
//! `TokenRange: ` and one `\t` + `service/TokenRange.toString(withPorts)` line per range:
//! `TokenRange(start_token:S, end_token:E, endpoints:[..], rpc_endpoints:[..],
//! endpoint_details:[EndpointDetails(host:H, datacenter:D, rack:R), ..])`, where `-pp`
//! adds ports (`127.0.0.1:7000`, `[0:0:0:0:0:0:0:1]:7000`). Addresses are kept as printed,
//! minus port and brackets, exactly like `cassandra::status`, so both match the inventory.
//! The parsers are strict: a range line that does not fit is an error naming its line,
//! never skipped, because a dropped range could hide the replica that makes a batch unsafe.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv6Addr;

/// What `nodetool describecluster` says about the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDescription {
    /// The cluster name (`Name:` line).
    pub name: String,
    /// The schema versions as printed, one per distinct version; a node that does not
    /// answer is listed under the pseudo-version `UNREACHABLE`.
    pub schema_versions: Vec<String>,
    /// Every keyspace of the `Keyspaces:` section, in printed order.
    pub keyspaces: Vec<KeyspaceReplication>,
}

impl ClusterDescription {
    /// Returns true when every node reported the same schema version and none was unreachable.
    pub fn schema_agreed(&self) -> bool {
        self.schema_versions.len() == 1 && self.schema_versions[0] != "UNREACHABLE"
    }

    /// Returns the keyspace with this name, if the cluster has it.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceReplication> {
        self.keyspaces.iter().find(|k| k.name == name)
    }
}

/// The replication settings of one keyspace, as `describecluster` prints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyspaceReplication {
    /// Keyspace name.
    pub name: String,
    /// Strategy class, short form (`SimpleStrategy`), even when printed fully qualified.
    pub class: String,
    /// Replication options (`replication_factor`, or one entry per datacenter for NTS).
    pub options: BTreeMap<String, String>,
}

impl KeyspaceReplication {
    /// Returns true for strategies that do not replicate over the ring (never counted).
    pub fn is_local(&self) -> bool {
        is_local_class(&self.class)
    }
}

/// Returns true for replication classes whose data is not placed on the token ring:
/// `LocalStrategy` (system, system_schema), `MetaStrategy` (5.1 cluster metadata) and
/// DSE's `EverywhereStrategy`; a batch can never break their quorum by ring placement.
pub fn is_local_class(class: &str) -> bool {
    matches!(short_class(class), "LocalStrategy" | "EverywhereStrategy" | "MetaStrategy")
}

/// Returns the simple name of a possibly fully qualified Java class name.
fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// One token range of `describering`: `(start, end]` and its replicas in placement order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRange {
    /// Start token (exclusive), as printed.
    pub start: String,
    /// End token (inclusive), as printed.
    pub end: String,
    /// The replicas, in the order nodetool prints them.
    pub endpoints: Vec<Replica>,
}

/// One replica of a token range, from its `EndpointDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Replica {
    /// Address as printed, without the `-pp` port and without IPv6 brackets.
    pub address: String,
    /// Datacenter named by the snitch.
    pub datacenter: String,
    /// Rack named by the snitch.
    pub rack: String,
}

/// Why `describecluster` or `describering` output could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// The output holds nothing but whitespace.
    #[error("`nodetool {command}` output is empty")]
    Empty {
        /// `describecluster` or `describering`.
        command: &'static str,
    },
    /// nodetool printed its own failure instead of a listing.
    #[error("`nodetool {command}` failed, line {line_no}: `{line}`")]
    NodetoolFailed {
        /// `describecluster` or `describering`.
        command: &'static str,
        /// 1-based line number.
        line_no: usize,
        /// The line, trailing whitespace removed.
        line: String,
    },
    /// A section every complete output has is missing (truncated or foreign output).
    #[error("`nodetool {command}` output has no {what}")]
    Missing {
        /// `describecluster` or `describering`.
        command: &'static str,
        /// What is missing, e.g. "`Keyspaces:` section".
        what: &'static str,
    },
    /// A line does not fit the format.
    #[error("`nodetool {command}` output, line {line_no}: {problem}: `{line}`")]
    Line {
        /// `describecluster` or `describering`.
        command: &'static str,
        /// 1-based line number.
        line_no: usize,
        /// The line, trailing whitespace removed.
        line: String,
        /// What is wrong with it.
        problem: String,
    },
}

const DESCRIBECLUSTER: &str = "describecluster";
const DESCRIBERING: &str = "describering";

/// Numbered lines (1-based) with trailing whitespace (and `\r`) removed.
fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> + Clone {
    text.lines().map(str::trim_end).enumerate().map(|(i, l)| (i + 1, l))
}

/// Fails with the first line nodetool prints instead of output: the JMX connect failure
/// (`nodetool: ...`), an exception (`error: <message>` then `-- StackTrace --`) and the
/// lines the command-specific `also` recognises.
fn check_failure<'a>(
    command: &'static str,
    lines: impl Iterator<Item = (usize, &'a str)>,
    also: fn(&str) -> bool,
) -> Result<(), RingError> {
    for (line_no, line) in lines {
        if line.starts_with("nodetool: ") || line.starts_with("error: ") || also(line) {
            return Err(RingError::NodetoolFailed { command, line_no, line: line.to_owned() });
        }
    }
    Ok(())
}

/// Parses the complete stdout (optionally with stderr) of `nodetool describecluster`.
///
/// Reads the cluster name, the schema versions and the `Keyspaces:` section; the
/// other sections (snitch, stats, datacenters, database versions) are skipped.
pub fn parse_describecluster(text: &str) -> Result<ClusterDescription, RingError> {
    let command = DESCRIBECLUSTER;
    let lines = numbered(text);
    let line_error = |line_no: usize, line: &str, problem: &str| RingError::Line {
        command,
        line_no,
        line: line.to_owned(),
        problem: problem.to_owned(),
    };
    // `Error: <msg>` after the stats is the harmless "effective ownership information is
    // meaningless" note (keyspaces with different replication); the fatal variant prints a
    // literal `%nError: ` (a println of a format string) and exits 1.
    check_failure(command, lines.clone(), |l| l.starts_with("%nError: "))?;
    let Some((first_no, first)) = lines.clone().find(|(_, l)| !l.is_empty()) else {
        return Err(RingError::Empty { command });
    };
    if first != "Cluster Information:" {
        return Err(line_error(first_no, first, "expected `Cluster Information:`"));
    }

    #[derive(PartialEq)]
    enum Section {
        Other,
        SchemaVersions,
        Keyspaces,
    }
    let mut section = Section::Other;
    let mut name = None;
    let mut schema_versions = Vec::new();
    let mut keyspaces = Vec::new();
    let mut saw_keyspaces = false;
    for (line_no, line) in lines {
        if line.is_empty() {
            continue;
        }
        if let Some(value) = line.strip_prefix("\tName: ") {
            name = Some(value.to_owned());
            continue;
        }
        if line == "\tSchema versions:" {
            section = Section::SchemaVersions;
            continue;
        }
        if line == "Keyspaces:" {
            section = Section::Keyspaces;
            saw_keyspaces = true;
            continue;
        }
        match section {
            Section::SchemaVersions if line.starts_with("\t\t") => {
                let (version, hosts) =
                    line[2..].split_once(": [").ok_or_else(|| line_error(line_no, line, "expected `<version>: [<hosts>]`"))?;
                if version.is_empty() || !hosts.ends_with(']') {
                    return Err(line_error(line_no, line, "expected `<version>: [<hosts>]`"));
                }
                schema_versions.push(version.to_owned());
            }
            Section::SchemaVersions => section = Section::Other,
            // The ownership note some releases print after the keyspaces (keyspaces with
            // different replication): information, not a keyspace.
            Section::Keyspaces if line.starts_with("Note: ") || line.starts_with("Error: ") => section = Section::Other,
            Section::Keyspaces => keyspaces.push(parse_keyspace_line(line).map_err(|p| line_error(line_no, line, p))?),
            Section::Other => {}
        }
    }
    let name = name.ok_or(RingError::Missing { command, what: "`Name:` line" })?;
    if schema_versions.is_empty() {
        return Err(RingError::Missing { command, what: "schema version" });
    }
    if !saw_keyspaces || keyspaces.is_empty() {
        return Err(RingError::Missing { command, what: "`Keyspaces:` section" });
    }
    Ok(ClusterDescription { name, schema_versions, keyspaces })
}

/// Parses `\t<ks> -> Replication class: <Class> {k=v, k2=v2}`.
fn parse_keyspace_line(line: &str) -> Result<KeyspaceReplication, &'static str> {
    if line.starts_with("something went wrong for keyspace: ") {
        return Err("nodetool could not read this keyspace's replication");
    }
    let body = line.strip_prefix('\t').ok_or("expected a tab-indented keyspace line")?;
    let (name, info) =
        body.split_once(" -> Replication class: ").ok_or("expected `<keyspace> -> Replication class: <class> {<options>}`")?;
    if name.is_empty() {
        return Err("keyspace name missing");
    }
    let (class, options) = info.split_once(' ').ok_or("expected `<class> {<options>}` after `Replication class:`")?;
    let inner = options.strip_prefix('{').and_then(|o| o.strip_suffix('}')).ok_or("replication options are not `{k=v, ...}`")?;
    let mut map = BTreeMap::new();
    if !inner.is_empty() {
        for pair in inner.split(", ") {
            let (key, value) = pair.split_once('=').ok_or("replication option is not `key=value`")?;
            if key.is_empty() {
                return Err("replication option has an empty key");
            }
            map.insert(key.to_owned(), value.to_owned());
        }
    }
    let class = short_class(class);
    if class.is_empty() || class == "null" {
        return Err("replication class missing");
    }
    Ok(KeyspaceReplication { name: name.to_owned(), class: class.to_owned(), options: map })
}

/// Parses the complete stdout (optionally with stderr) of `nodetool describering KEYSPACE`.
///
/// Returns every range in printed order. An unknown keyspace (`error: No such keyspace`),
/// a local keyspace (`There is no ring for the keyspace`), a failed connection and an
/// output without a single range are errors: an empty ring must never read as "safe".
pub fn parse_describering(text: &str) -> Result<Vec<TokenRange>, RingError> {
    let command = DESCRIBERING;
    let lines = numbered(text);
    check_failure(command, lines.clone(), |l| l.starts_with("Error: "))?;
    let mut body = lines.filter(|(_, l)| !l.is_empty());
    let Some((first_no, first)) = body.next() else {
        return Err(RingError::Empty { command });
    };
    let line_error = |line_no: usize, line: &str, problem: &str| RingError::Line {
        command,
        line_no,
        line: line.to_owned(),
        problem: problem.to_owned(),
    };
    match first.strip_prefix("Schema Version:") {
        Some(version) if !version.trim().is_empty() => {}
        _ => {
            return Err(line_error(first_no, first, "expected `Schema Version:<uuid>`"));
        }
    }
    match body.next() {
        Some((_, "TokenRange:")) => {}
        Some((line_no, line)) => return Err(line_error(line_no, line, "expected `TokenRange:`")),
        None => {
            return Err(RingError::Missing { command, what: "`TokenRange:` header" });
        }
    }
    let ranges =
        body.map(|(line_no, line)| parse_range_line(line).map_err(|p| line_error(line_no, line, &p))).collect::<Result<Vec<_>, _>>()?;
    if ranges.is_empty() {
        return Err(RingError::Missing { command, what: "token range" });
    }
    Ok(ranges)
}

/// Parses one `\tTokenRange(...)` line.
fn parse_range_line(line: &str) -> Result<TokenRange, String> {
    let inner = line
        .strip_prefix('\t')
        .and_then(|l| l.strip_prefix("TokenRange("))
        .and_then(|l| l.strip_suffix(')'))
        .ok_or("expected `\\tTokenRange(...)`")?;
    let rest = inner.strip_prefix("start_token:").ok_or("expected `start_token:`")?;
    let (start, rest) = rest.split_once(", end_token:").ok_or("expected `, end_token:`")?;
    // CASSANDRA-15682 added the `, ` before `endpoints:`; early 4.0 builds glued them on.
    let (end, rest) = split_field(rest, "endpoints:[")?;
    let (hosts, rest) = split_field(rest, "rpc_endpoints:[")?;
    let (_rpcs, rest) = split_field(rest, "endpoint_details:[")?;
    let details = rest.strip_suffix(']').ok_or("`endpoint_details` list is not closed")?;
    for (what, token) in [("start", start), ("end", end)] {
        if token.is_empty() || token.contains([' ', ',', '[', ']']) {
            return Err(format!("bad {what} token `{token}`"));
        }
    }
    let endpoints = parse_details(details)?;
    // endpoints and endpoint_details come from one loop: any disagreement means garbling.
    let listed = parse_list(hosts.strip_suffix(']').ok_or("`endpoints` list is not closed")?)
        .iter()
        .map(|h| host_of(h).ok_or_else(|| format!("bad endpoint `{h}`")))
        .collect::<Result<Vec<_>, _>>()?;
    let detailed: Vec<&str> = endpoints.iter().map(|r| r.address.as_str()).collect();
    if listed != detailed {
        return Err(format!("`endpoints` [{}] disagree with `endpoint_details` [{}]", listed.join(", "), detailed.join(", ")));
    }
    if endpoints.is_empty() {
        return Err("range has no replica".into());
    }
    Ok(TokenRange { start: start.to_owned(), end: end.to_owned(), endpoints })
}

/// Splits `<value>[, ]<marker>...` at the marker, returning the value (with the list's
/// closing `]` when the value is a list) and the text after the marker.
fn split_field<'a>(text: &'a str, marker: &str) -> Result<(&'a str, &'a str), String> {
    let at = find_marker(text, marker).ok_or_else(|| format!("expected `{marker}`"))?;
    let value = text[..at].strip_suffix(", ").unwrap_or(&text[..at]);
    Ok((value, &text[at + marker.len()..]))
}

/// Finds `marker` not preceded by `rpc_` (so `endpoints:[` never matches inside `rpc_endpoints:[`).
fn find_marker(text: &str, marker: &str) -> Option<usize> {
    text.match_indices(marker).map(|(at, _)| at).find(|&at| !text[..at].ends_with("rpc_"))
}

/// Splits a Java `List.toString()` body (`a, b, c`) into its items.
fn parse_list(body: &str) -> Vec<&str> {
    if body.is_empty() { Vec::new() } else { body.split(", ").collect() }
}

/// Parses `EndpointDetails(host:H, datacenter:D, rack:R), EndpointDetails(...)`.
fn parse_details(body: &str) -> Result<Vec<Replica>, String> {
    let mut replicas = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let item = rest.strip_prefix("EndpointDetails(host:").ok_or("expected `EndpointDetails(host:` in `endpoint_details`")?;
        let close = item.find(')').ok_or("`EndpointDetails(` is not closed")?;
        let (fields, after) = (&item[..close], &item[close + 1..]);
        rest = after.strip_prefix(", ").unwrap_or(after);
        if !after.is_empty() && rest.len() == after.len() {
            return Err("expected `, ` between `EndpointDetails`".into());
        }
        let (host, fields) = fields
            .split_once(", datacenter:")
            .ok_or_else(|| format!("`EndpointDetails(host:{fields})` has no datacenter (snitch returned null)"))?;
        let (datacenter, rack) = fields.split_once(", rack:").ok_or_else(|| format!("`EndpointDetails` of `{host}` has no rack"))?;
        let address = host_of(host).ok_or_else(|| format!("bad host `{host}`"))?;
        if datacenter.is_empty() || rack.is_empty() {
            return Err(format!("`EndpointDetails` of `{host}` has an empty datacenter or rack"));
        }
        replicas.push(Replica { address: address.to_owned(), datacenter: datacenter.to_owned(), rack: rack.to_owned() });
    }
    Ok(replicas)
}

/// The address part of `ip`, `ip:port`, `[ipv6]:port` or a bare IPv6 address;
/// `None` for anything else.
fn host_of(cell: &str) -> Option<&str> {
    if let Some(bracketed) = cell.strip_prefix('[') {
        let (host, port) = bracketed.split_once("]:")?;
        host.parse::<Ipv6Addr>().ok()?;
        port.parse::<u16>().ok()?;
        return Some(host);
    }
    let host = match cell.matches(':').count() {
        0 => cell,
        1 => {
            let (host, port) = cell.split_once(':')?;
            port.parse::<u16>().ok()?;
            host
        }
        _ => return cell.parse::<Ipv6Addr>().ok().map(|_| cell),
    };
    let plausible = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    plausible.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: &str = "\tTokenRange(start_token:-9, end_token:-3, endpoints:[10.0.0.2, 10.0.0.3], rpc_endpoints:[10.0.0.2, 10.0.0.3], endpoint_details:[EndpointDetails(host:10.0.0.2, datacenter:dc1, rack:r2), EndpointDetails(host:10.0.0.3, datacenter:dc1, rack:r3)])";

    #[test]
    fn describecluster_with_a_trailing_ownership_note_ends_the_keyspaces() {
        let text = "Cluster Information:\n\tName: c\n\tSchema versions:\n\t\tcf5251c2-a39c-3ffa-9f5e-39a59b8d1347: [10.0.0.1]\n\nKeyspaces:\n\tsystem -> Replication class: LocalStrategy {}\n\tapp -> Replication class: SimpleStrategy {replication_factor=3}\n\nNote: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n";
        let d = parse_describecluster(text).unwrap();
        assert_eq!(d.keyspaces.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["system", "app"]);
        // Anything else after the keyspaces is still refused.
        assert!(parse_describecluster(&text.replace("Note: ", "\tbogus")).is_err());
    }

    #[test]
    fn range_line_reads_tokens_and_replicas_in_order() {
        let r = parse_range_line(RANGE).unwrap();
        assert_eq!((r.start.as_str(), r.end.as_str()), ("-9", "-3"));
        let hosts: Vec<_> = r.endpoints.iter().map(|e| (e.address.as_str(), e.rack.as_str())).collect();
        assert_eq!(hosts, [("10.0.0.2", "r2"), ("10.0.0.3", "r3")]);
    }

    #[test]
    fn range_line_without_separators_of_early_4_0_still_parses() {
        let glued = RANGE
            .replace(", endpoints:[", "endpoints:[")
            .replace(", rpc_endpoints:[", "rpc_endpoints:[")
            .replace(", endpoint_details:[", "endpoint_details:[");
        assert_eq!(parse_range_line(&glued).unwrap(), parse_range_line(RANGE).unwrap());
    }

    #[test]
    fn range_line_with_ports_and_ipv6_strips_them() {
        let line = "\tTokenRange(start_token:1, end_token:2, endpoints:[[0:0:0:0:0:0:0:1]:7000, 10.0.0.1:7000], rpc_endpoints:[[0:0:0:0:0:0:0:1]:9042, 10.0.0.1:9042], endpoint_details:[EndpointDetails(host:[0:0:0:0:0:0:0:1]:7000, datacenter:dc1, rack:r1), EndpointDetails(host:10.0.0.1:7000, datacenter:dc1, rack:r2)])";
        let r = parse_range_line(line).unwrap();
        let hosts: Vec<_> = r.endpoints.iter().map(|e| e.address.as_str()).collect();
        assert_eq!(hosts, ["0:0:0:0:0:0:0:1", "10.0.0.1"]);
    }

    #[test]
    fn range_line_whose_lists_disagree_is_refused() {
        let line = RANGE.replace("endpoints:[10.0.0.2, 10.0.0.3]", "endpoints:[10.0.0.2, 10.0.0.4]");
        let err = parse_range_line(&line).unwrap_err();
        assert!(err.contains("disagree"), "{err}");
    }

    #[test]
    fn details_without_datacenter_are_refused() {
        let line = RANGE.replace("host:10.0.0.3, datacenter:dc1, rack:r3", "host:10.0.0.3");
        assert!(parse_range_line(&line).unwrap_err().contains("no datacenter"));
    }

    #[test]
    fn keyspace_line_takes_short_or_qualified_class() {
        let short = parse_keyspace_line("\tapp -> Replication class: NetworkTopologyStrategy {dc1=3, dc2=3}").unwrap();
        let long =
            parse_keyspace_line("\tapp -> Replication class: org.apache.cassandra.locator.NetworkTopologyStrategy {dc1=3, dc2=3}").unwrap();
        assert_eq!(short, long);
        assert_eq!(short.options.get("dc2").map(String::as_str), Some("3"));
        let local = parse_keyspace_line("\tsystem -> Replication class: LocalStrategy {}").unwrap();
        assert!(local.is_local() && local.options.is_empty());
        assert!(!short.is_local());
    }

    #[test]
    fn host_of_accepts_every_printed_form_only() {
        assert_eq!(host_of("10.0.0.1:7000"), Some("10.0.0.1"));
        assert_eq!(host_of("[2001:db8:0:0:0:0:0:11]:7000"), Some("2001:db8:0:0:0:0:0:11"));
        assert_eq!(host_of("2001:db8:0:0:0:0:0:11"), Some("2001:db8:0:0:0:0:0:11"));
        assert_eq!(host_of("10.0.0.1:x"), None);
        assert_eq!(host_of("a b"), None);
    }
}
