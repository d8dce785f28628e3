//! The cluster-wide nodetool views of a sandbox: `describecluster`, `describering` and a
//! minimal `tablestats`, rendered byte for byte like Cassandra 5.0's nodetool.
//!
//! Sources followed (apache/cassandra, tools/nodetool and service):
//! * `DescribeCluster.execute`: `Cluster Information:` with `\tName:`, `\tSnitch:` (the
//!   sub-snitch class when the dynamic snitch wraps it), `\tDynamicEndPointSnitch:`,
//!   `\tPartitioner:`, `\tSchema versions:` whose entries are `printf("\t\t%s: %s%n%n")`
//!   (so each is followed by an empty line), `Stats for all nodes:`, `println("\nData Centers: ")`
//!   (trailing space), `\t<dc> #Nodes: N #Down: M`, `\nDatabase versions:` entries
//!   `printf("\t%s: %s%n%n")`, `Keyspaces:` entries `printf("\t%s -> Replication class: %s%n")`,
//!   and the effective-ownership problem as `printf("%n" + "Note: <msg>%n")` at the very end.
//! * `StorageProxy.describeSchemaVersions` / `Gossiper.getReleaseVersionsWithPort`: a HashMap
//!   from version to the hosts of `concat(getLiveMembers(), getUnreachableMembers())`; the
//!   live members are `new HashSet<>(liveEndpoints)` plus the local node, so the host lists
//!   come in HashSet order, live before unreachable; unreachable nodes sit under the
//!   `UNREACHABLE` schema version. Schema hosts print without port, release hosts with it.
//! * `StorageService.getKeyspaceReplicationInfo`: `klass.getSimpleName() + " " + options`.
//! * `StorageService.getKeyspaces`: local keyspaces, then distributed ones (see
//!   [`topology::keyspaces_in_schema_order`]).
//! * `DescribeRing.execute` + `StorageService.describeRing` + `TokenRange.toString` (thrift
//!   struct text): `Schema Version:<uuid>`, `TokenRange: `, then one
//!   `\tTokenRange(start_token:S, end_token:E, endpoints:[..], rpc_endpoints:[..],
//!   endpoint_details:[EndpointDetails(host:H, datacenter:D, rack:R), ..])` per range.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::topology::{self, KeyspaceDef, Replication, Ring};
use super::{NodeConfig, RELEASE_VERSION, STORAGE_PORT};

/// The partitioner of every sandbox.
pub const PARTITIONER: &str = "org.apache.cassandra.dht.Murmur3Partitioner";

/// What one node sees of the cluster when a nodetool command runs against it.
#[derive(Debug, Clone)]
pub struct ClusterView<'a> {
    pub cluster_name: &'a str,
    pub nodes: &'a [NodeConfig],
    /// User keyspaces (system keyspaces are implied).
    pub keyspaces: &'a [KeyspaceDef],
    /// The node nodetool talks to.
    pub me: usize,
    /// Per node: true when `me` sees it alive (always true for `me`).
    pub live: Vec<bool>,
}

impl ClusterView<'_> {
    /// The snitch class the dynamic snitch wraps: SimpleSnitch for one DC `datacenter1` and
    /// one rack `rack1`, else GossipingPropertyFileSnitch (what `init` writes in the yaml).
    pub fn snitch(&self) -> &'static str {
        if self.nodes.iter().all(|n| n.dc == "datacenter1" && n.rack == "rack1") {
            "org.apache.cassandra.locator.SimpleSnitch"
        } else {
            "org.apache.cassandra.locator.GossipingPropertyFileSnitch"
        }
    }

    /// The schema version every node agrees on: a name-based (version 3) UUID of the
    /// keyspace definitions, like `SchemaKeyspace.calculateSchemaDigest`'s MD5 UUID.
    pub fn schema_version(&self) -> String {
        let mut hasher = Sha256::new();
        for ks in topology::keyspaces_in_schema_order(self.keyspaces) {
            hasher.update(ks.name.as_bytes());
            hasher.update(ks.replication.info().as_bytes());
        }
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x30;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        uuid::Uuid::from_bytes(bytes).to_string()
    }

    /// `getLiveMembers()` then `getUnreachableMembers()`, each in its Java set's order.
    pub fn gossip_order(&self) -> (Vec<usize>, Vec<usize>) {
        let by_address = |list: &mut Vec<usize>| {
            list.sort_by_key(|&i| self.nodes[i].address.parse::<std::net::Ipv4Addr>().map(u32::from).unwrap_or(0));
        };
        // liveEndpoints is a sorted set without the local node; getLiveMembers copies it into
        // a HashSet and adds the local node last.
        let mut live: Vec<usize> = (0..self.nodes.len()).filter(|&i| i != self.me && self.live[i]).collect();
        by_address(&mut live);
        live.push(self.me);
        let initial = topology::java_hashmap_copy_capacity(live.len() - 1).max(16);
        let buckets = topology::java_hashmap_grown_capacity(initial, live.len());
        let live = self.hash_ordered(&live, buckets);
        let mut down: Vec<usize> = (0..self.nodes.len()).filter(|&i| !self.live[i]).collect();
        by_address(&mut down);
        // unreachableEndpoints is a ConcurrentHashMap (16 bins, resized at 3/4 full).
        let mut buckets = 16;
        while down.len() * 4 >= buckets * 3 {
            buckets *= 2;
        }
        let down = self.hash_ordered(&down, buckets);
        (live, down)
    }

    fn hash_ordered(&self, members: &[usize], buckets: usize) -> Vec<usize> {
        let hashes: Vec<i32> = members.iter().map(|&i| topology::java_endpoint_hash(&self.nodes[i].address, STORAGE_PORT)).collect();
        topology::java_hash_order(&hashes, buckets).into_iter().map(|k| members[k]).collect()
    }

    /// `effectiveOwnership(null)`'s IllegalStateException message, if it throws.
    pub fn ownership_problem(&self) -> Option<&'static str> {
        let user: Vec<&KeyspaceDef> = self.keyspaces.iter().filter(|k| !topology::is_system_keyspace(&k.name)).collect();
        let first = user.first()?;
        user.iter()
            .any(|k| k.replication != first.replication)
            .then_some("Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless")
    }
}

/// Java's `List.toString()`: `[a, b, c]`.
fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// Renders `nodetool describecluster` (without `-pp`).
pub fn describecluster(view: &ClusterView<'_>) -> String {
    let mut out = String::new();
    let (live, down) = view.gossip_order();
    let address = |i: &usize| view.nodes[*i].address.clone();
    let with_port = |i: &usize| format!("{}:{STORAGE_PORT}", view.nodes[*i].address);
    out.push_str("Cluster Information:\n");
    let _ = writeln!(out, "\tName: {}", view.cluster_name);
    let _ = writeln!(out, "\tSnitch: {}", view.snitch());
    out.push_str("\tDynamicEndPointSnitch: enabled\n");
    let _ = writeln!(out, "\tPartitioner: {PARTITIONER}");
    out.push_str("\tSchema versions:\n");
    // HashMap<String, List<String>> with 16 buckets: the version and maybe UNREACHABLE.
    let mut versions = vec![(view.schema_version(), live.iter().map(address).collect::<Vec<_>>())];
    if !down.is_empty() {
        versions.push(("UNREACHABLE".to_owned(), down.iter().map(address).collect()));
    }
    let keys: Vec<String> = versions.iter().map(|(k, _)| k.clone()).collect();
    for i in topology::java_hashmap_order(&keys, 16) {
        let _ = write!(out, "\t\t{}: {}\n\n", versions[i].0, java_list(&versions[i].1));
    }
    out.push_str("Stats for all nodes:\n");
    let _ = writeln!(out, "\tLive: {}", live.len());
    out.push_str("\tJoining: 0\n\tMoving: 0\n\tLeaving: 0\n");
    let _ = writeln!(out, "\tUnreachable: {}", down.len());
    out.push_str("\nData Centers: \n");
    let dcs: std::collections::BTreeSet<&str> = view.nodes.iter().map(|n| n.dc.as_str()).collect();
    for dc in dcs {
        let members = view.nodes.iter().enumerate().filter(|(_, n)| n.dc == dc);
        let (total, down_here) = members.fold((0, 0), |(t, d), (i, _)| (t + 1, d + usize::from(!view.live[i])));
        let _ = writeln!(out, "\t{dc} #Nodes: {total} #Down: {down_here}");
    }
    out.push_str("\nDatabase versions:\n");
    let hosts: Vec<String> = live.iter().chain(&down).map(with_port).collect();
    let _ = write!(out, "\t{RELEASE_VERSION}: {}\n\n", java_list(&hosts));
    out.push_str("Keyspaces:\n");
    for ks in topology::keyspaces_in_schema_order(view.keyspaces) {
        let _ = writeln!(out, "\t{} -> Replication class: {}", ks.name, ks.replication.info());
    }
    if let Some(problem) = view.ownership_problem() {
        let _ = write!(out, "\nNote: {problem}\n");
    }
    out
}

/// The keyspace's replication, or `None` when it does not exist.
pub fn find_keyspace(user: &[KeyspaceDef], name: &str) -> Option<Replication> {
    topology::all_keyspaces(user).into_iter().find(|k| k.name == name).map(|k| k.replication)
}

/// Renders `nodetool describering KEYSPACE` for a keyspace that exists and is not local.
pub fn describering(view: &ClusterView<'_>, ring: &Ring, replication: &Replication) -> String {
    let mut out = format!("Schema Version:{}\nTokenRange: \n", view.schema_version());
    for range in ranges_in_map_order(ring.ranges(replication)) {
        let nodes: Vec<&topology::RingNode> = range.replicas.iter().map(|&i| &ring.nodes[i]).collect();
        let addresses: Vec<String> = nodes.iter().map(|n| n.address.clone()).collect();
        let details: Vec<String> =
            nodes.iter().map(|n| format!("EndpointDetails(host:{}, datacenter:{}, rack:{})", n.address, n.dc, n.rack)).collect();
        let _ = writeln!(
            out,
            "\tTokenRange(start_token:{}, end_token:{}, endpoints:{}, rpc_endpoints:{}, endpoint_details:{})",
            range.start,
            range.end,
            java_list(&addresses),
            java_list(&addresses),
            java_list(&details)
        );
    }
    out
}

/// Orders ranges as `constructRangeToEndpointMap`'s `new HashMap<>(ranges.size())` iterates
/// them: inserted in `getAllRanges` order (the wrapping range last), hashed by
/// `AbstractBounds.hashCode` = `31 * left.hashCode() + right.hashCode()` with
/// `LongToken.hashCode` = `Long.hashCode(token)`.
pub fn ranges_in_map_order(ranges: Vec<topology::RangeReplicas>) -> Vec<topology::RangeReplicas> {
    let long_hash = |t: i64| ((t as u64) ^ ((t as u64) >> 32)) as u32 as i32;
    let n = ranges.len();
    // Token order with the wrapping range (index 0) moved to the end.
    let inserted: Vec<usize> = (1..n).chain((n > 0).then_some(0)).collect();
    let hashes: Vec<i32> =
        inserted.iter().map(|&i| long_hash(ranges[i].start).wrapping_mul(31).wrapping_add(long_hash(ranges[i].end))).collect();
    // HashMap(int) starts at tableSizeFor(n) and doubles past three quarters.
    let buckets = topology::java_hashmap_grown_capacity(n.max(1).next_power_of_two(), n);
    let order = topology::java_hash_order(&hashes, buckets);
    let mut slots: Vec<Option<topology::RangeReplicas>> = ranges.into_iter().map(Some).collect();
    order.into_iter().filter_map(|k| slots[inserted[k]].take()).collect()
}

/// Renders a minimal `nodetool tablestats` / `cfstats`: the keyspace blocks without tables,
/// enough for tools that grep `Keyspace : <name>`.
pub fn tablestats(user: &[KeyspaceDef], only: &[String]) -> String {
    let mut out = String::from("Total number of tables: 0\n----------------\n");
    let mut names: Vec<String> = topology::keyspaces_in_schema_order(user)
        .into_iter()
        .map(|k| k.name)
        .filter(|n| only.is_empty() || only.iter().any(|o| o == n || o.split('.').next() == Some(n)))
        .collect();
    names.sort();
    for name in names {
        let _ = write!(
            out,
            "Keyspace : {name}\n\tRead Count: 0\n\tRead Latency: NaN ms\n\tWrite Count: 0\n\tWrite Latency: NaN ms\n\tPending Flushes: 0\n----------------\n"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<NodeConfig> {
        (0..n)
            .map(|i| NodeConfig {
                name: format!("node{}", i + 1),
                address: topology::node_address(i),
                host_id: format!("00000000-0000-4000-8000-00000000000{i}"),
                load_bytes: 1,
                start_delay_ms: None,
                dc: "datacenter1".into(),
                rack: "rack1".into(),
                tokens: vec![],
            })
            .collect()
    }

    #[test]
    fn describecluster_matches_the_5_0_layout() {
        let nodes = nodes(3);
        let view = ClusterView { cluster_name: "sandbox", nodes: &nodes, keyspaces: &[], me: 0, live: vec![true, true, false] };
        let text = describecluster(&view);
        let version = view.schema_version();
        let expected = "Cluster Information:\n\tName: sandbox\n\tSnitch: org.apache.cassandra.locator.SimpleSnitch\n\
             \tDynamicEndPointSnitch: enabled\n\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner\n\
             \tSchema versions:\n";
        assert!(text.starts_with(expected), "{text}");
        assert!(text.contains(&format!("\t\t{version}: [127.0.0.2, 127.0.0.1]\n\n")), "{text}");
        assert!(text.contains("\t\tUNREACHABLE: [127.0.0.3]\n\n"), "{text}");
        assert!(
            text.contains(
                "Stats for all nodes:\n\tLive: 2\n\tJoining: 0\n\tMoving: 0\n\tLeaving: 0\n\tUnreachable: 1\n\
             \nData Centers: \n\tdatacenter1 #Nodes: 3 #Down: 1\n\
             \nDatabase versions:\n\t5.0.2: [127.0.0.2:7000, 127.0.0.1:7000, 127.0.0.3:7000]\n\n\
             Keyspaces:\n\tsystem_schema -> Replication class: LocalStrategy {}\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("\tsystem_traces -> Replication class: SimpleStrategy {replication_factor=2}\n"), "{text}");
        let cstar_name = regex::Regex::new(r"(?m)^\s*Name:\s*(.*)$").unwrap();
        assert_eq!(&cstar_name.captures(&text).unwrap()[1], "sandbox");
    }

    #[test]
    fn differing_user_keyspaces_add_the_note() {
        let nodes = nodes(3);
        let ks = vec![
            topology::parse_keyspace_spec("a:SimpleStrategy:3").unwrap(),
            topology::parse_keyspace_spec("b:SimpleStrategy:2").unwrap(),
        ];
        let view = ClusterView { cluster_name: "sandbox", nodes: &nodes, keyspaces: &ks, me: 1, live: vec![true; 3] };
        let text = describecluster(&view);
        assert!(
            text.ends_with(
                "\nNote: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless\n"
            ),
            "{text}"
        );
        assert!(!text.contains("UNREACHABLE"));
    }

    #[test]
    fn schema_version_is_a_v3_uuid_that_follows_the_schema() {
        let nodes = nodes(1);
        let a = ClusterView { cluster_name: "x", nodes: &nodes, keyspaces: &[], me: 0, live: vec![true] };
        let ks = vec![topology::parse_keyspace_spec("a:SimpleStrategy:3").unwrap()];
        let b = ClusterView { keyspaces: &ks, ..a.clone() };
        assert_ne!(a.schema_version(), b.schema_version());
        assert_eq!(a.schema_version().as_bytes()[14], b'3');
    }
}
