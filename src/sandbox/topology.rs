//! The sandbox's ring: datacenters, racks, vnode tokens, keyspaces and replica placement.
//!
//! Everything here is pure so that the placement rules can be unit-tested against Cassandra
//! 5.0's own: `SimpleStrategy.calculateNaturalReplicas` (walk the ring clockwise from the
//! range's end token, collecting distinct endpoints until RF) and
//! `NetworkTopologyStrategy.calculateNaturalReplicas` with its `DatacenterEndpoints` helper
//! (one walk of the ring; per DC a node in a rack not yet seen is always taken, a node of a
//! seen rack only while `acceptableRackRepeats = RF - racks` is positive). That is the 4.0+
//! algorithm; the 3.x "fill from the skipped endpoints afterwards" variant differs and is not
//! what a 5.0 cluster does.
//!
//! The Java collection orders that leak into nodetool output (HashMap iteration, tokens of
//! keyspace names) are reproduced here too, because parsers are written against real output.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

/// Vnodes per node (`num_tokens` of the stock 5.0 yaml).
pub const NUM_TOKENS: usize = 16;

/// How a keyspace is replicated (`ReplicationParams`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class")]
pub enum Replication {
    /// `LocalStrategy`: every node holds its own copy (`system`, `system_schema`).
    LocalStrategy,
    /// `SimpleStrategy` with `replication_factor`.
    SimpleStrategy { replication_factor: usize },
    /// `NetworkTopologyStrategy` with a replication factor per datacenter (sorted by name).
    NetworkTopologyStrategy { datacenters: BTreeMap<String, usize> },
}

impl Replication {
    /// The strategy's simple class name (`klass.getSimpleName()`).
    pub fn class_name(&self) -> &'static str {
        match self {
            Self::LocalStrategy => "LocalStrategy",
            Self::SimpleStrategy { .. } => "SimpleStrategy",
            Self::NetworkTopologyStrategy { .. } => "NetworkTopologyStrategy",
        }
    }

    /// `ReplicationParams.options.toString()`: `{replication_factor=3}`, `{dc2=3, dc1=3}`.
    ///
    /// The options map is an `ImmutableMap.copyOf(new HashMap<>(schemaRow))`: the schema row
    /// still holds `class`, so the HashMap is sized for one entry more than it keeps, and its
    /// bucket order (not the sorted order) is what nodetool prints.
    pub fn options_text(&self) -> String {
        let entries: Vec<(String, String)> = match self {
            Self::LocalStrategy => Vec::new(),
            Self::SimpleStrategy { replication_factor } => {
                vec![("replication_factor".into(), replication_factor.to_string())]
            }
            Self::NetworkTopologyStrategy { datacenters } => datacenters.iter().map(|(dc, rf)| (dc.clone(), rf.to_string())).collect(),
        };
        let mut keys: Vec<String> = vec!["class".to_owned()];
        keys.extend(entries.iter().map(|(k, _)| k.clone()));
        let buckets = java_hashmap_copy_capacity(keys.len());
        let order = java_hashmap_order(&keys, buckets);
        let text: Vec<String> =
            order.into_iter().filter(|&i| i > 0).map(|i| format!("{}={}", entries[i - 1].0, entries[i - 1].1)).collect();
        format!("{{{}}}", text.join(", "))
    }

    /// `getSimpleName() + " " + options`, as `StorageService.getKeyspaceReplicationInfo`.
    pub fn info(&self) -> String {
        format!("{} {}", self.class_name(), self.options_text())
    }
}

/// One keyspace of the simulated schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyspaceDef {
    pub name: String,
    pub replication: Replication,
}

/// Why a `--keyspace` spec could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("keyspace spec `{spec}`: expected `NAME:SimpleStrategy:RF` or `NAME:NetworkTopologyStrategy:DC=RF,...`")]
    Shape { spec: String },
    #[error("keyspace spec `{spec}`: `{value}` is not a replication factor (1 or more)")]
    Factor { spec: String, value: String },
    #[error("keyspace spec `{spec}`: unknown strategy `{strategy}`")]
    Strategy { spec: String, strategy: String },
    #[error("keyspace spec `{spec}`: `{name}` is not a valid keyspace name (letters, digits, `_`, at most 48, not `system*`)")]
    Name { spec: String, name: String },
}

fn factor(spec: &str, value: &str) -> Result<usize, SpecError> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|rf| *rf > 0)
        .ok_or_else(|| SpecError::Factor { spec: spec.to_owned(), value: value.to_owned() })
}

/// Parses `NAME:SimpleStrategy:RF` or `NAME:NetworkTopologyStrategy:dc1=3,dc2=3`.
pub fn parse_keyspace_spec(spec: &str) -> Result<KeyspaceDef, SpecError> {
    let shape = || SpecError::Shape { spec: spec.to_owned() };
    let mut parts = spec.splitn(3, ':');
    let (Some(name), Some(strategy), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(shape());
    };
    let valid_name = !name.is_empty()
        && name.len() <= 48
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && (!name.to_ascii_lowercase().starts_with("system") || ALTERABLE_SYSTEM_KEYSPACES.contains(&name.to_ascii_lowercase().as_str()));
    if !valid_name {
        return Err(SpecError::Name { spec: spec.to_owned(), name: name.to_owned() });
    }
    // Cassandra folds unquoted names to lower case.
    let name = name.to_ascii_lowercase();
    let replication = match strategy.rsplit('.').next().unwrap_or(strategy) {
        "SimpleStrategy" => Replication::SimpleStrategy { replication_factor: factor(spec, rest)? },
        "NetworkTopologyStrategy" => {
            let mut datacenters = BTreeMap::new();
            for pair in rest.split(',') {
                let (dc, rf) = pair.split_once('=').ok_or_else(shape)?;
                if dc.trim().is_empty() {
                    return Err(shape());
                }
                datacenters.insert(dc.trim().to_owned(), factor(spec, rf)?);
            }
            Replication::NetworkTopologyStrategy { datacenters }
        }
        other => {
            return Err(SpecError::Strategy { spec: spec.to_owned(), strategy: other.to_owned() });
        }
    };
    Ok(KeyspaceDef { name, replication })
}

/// The keyspaces of a stock 5.0 cluster (virtual keyspaces are not listed by nodetool).
pub fn system_keyspaces() -> Vec<KeyspaceDef> {
    let ks = |name: &str, replication| KeyspaceDef { name: name.to_owned(), replication };
    let simple = |rf| Replication::SimpleStrategy { replication_factor: rf };
    vec![
        ks("system_schema", Replication::LocalStrategy),
        ks("system", Replication::LocalStrategy),
        ks("system_auth", simple(1)),
        ks("system_distributed", simple(3)),
        ks("system_traces", simple(2)),
    ]
}

/// The system keyspaces whose replication an operator may change (`ALTER KEYSPACE`), as
/// production clusters do before relying on LOCAL_QUORUM: `--keyspace system_auth:...`
/// replaces the stock replication instead of adding a keyspace.
pub const ALTERABLE_SYSTEM_KEYSPACES: &[&str] = &["system_auth", "system_distributed", "system_traces"];

/// Every keyspace of the sandbox: the stock system ones (with the replication the user
/// gave an alterable one) and the user ones.
pub fn all_keyspaces(user: &[KeyspaceDef]) -> Vec<KeyspaceDef> {
    let mut all: Vec<KeyspaceDef> =
        system_keyspaces().into_iter().map(|k| user.iter().find(|u| u.name == k.name).cloned().unwrap_or(k)).collect();
    all.extend(user.iter().filter(|u| !is_system_keyspace(&u.name)).cloned());
    all
}

/// Returns true for the names `SchemaConstants` treats as system keyspaces.
pub fn is_system_keyspace(name: &str) -> bool {
    system_keyspaces().iter().any(|k| k.name == name)
}

/// The keyspaces in `StorageService.getKeyspaces()` order: the local ones (`system_schema`,
/// `system`) first, then every distributed keyspace in the token order of its name, which is
/// the order `SchemaKeyspace` reads the `system_schema.keyspaces` partitions at startup.
pub fn keyspaces_in_schema_order(user: &[KeyspaceDef]) -> Vec<KeyspaceDef> {
    let (local, mut distributed): (Vec<KeyspaceDef>, Vec<KeyspaceDef>) =
        all_keyspaces(user).into_iter().partition(|k| k.replication == Replication::LocalStrategy);
    distributed.sort_by_key(|k| murmur3_token(k.name.as_bytes()));
    local.into_iter().chain(distributed).collect()
}

// ---------------------------------------------------------------------------------------
// Java collection orders and hashes.

/// Java `String.hashCode`.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `InetAddressAndPort.hashCode()`: `Objects.hash(address, port)` of an IPv4 address.
pub fn java_endpoint_hash(address: &str, port: u16) -> i32 {
    let ip: u32 = address.parse::<std::net::Ipv4Addr>().map(u32::from).unwrap_or(0);
    let a = 31i32.wrapping_add(ip as i32);
    a.wrapping_mul(31).wrapping_add(i32::from(port))
}

/// The table size of `new HashMap<>(map)` for a source map of `entries` entries
/// (`tableSizeFor((int)(s / 0.75f + 1))`).
pub fn java_hashmap_copy_capacity(entries: usize) -> usize {
    // Exact for the small sizes this is used with (float rounding only matters near 2^24).
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let t = (entries as f32 / 0.75 + 1.0) as usize;
    t.max(1).next_power_of_two()
}

/// The table size a HashMap/HashSet starting with `initial` buckets grows to for `len` keys
/// (it doubles when the size exceeds three quarters of the table).
pub fn java_hashmap_grown_capacity(initial: usize, len: usize) -> usize {
    let mut buckets = initial.max(1);
    while len * 4 > buckets * 3 {
        buckets *= 2;
    }
    buckets
}

/// Orders keys as a Java HashMap with `buckets` buckets iterates them, given their hashes
/// in insertion order (`hash ^ (hash >>> 16)`, stable within a bucket like HashMap's chains;
/// a resize splits chains without reordering them, so the final table size is enough).
pub fn java_hash_order(hashes: &[i32], buckets: usize) -> Vec<usize> {
    let mask = u32::try_from(buckets.saturating_sub(1)).unwrap_or(u32::MAX);
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    order.sort_by_key(|&i| {
        let h = hashes[i] as u32;
        (h ^ (h >> 16)) & mask
    });
    order
}

/// Orders string keys as a Java HashMap with a final table of `buckets` buckets.
pub fn java_hashmap_order(keys: &[String], buckets: usize) -> Vec<usize> {
    let hashes: Vec<i32> = keys.iter().map(|k| java_string_hash(k)).collect();
    java_hash_order(&hashes, buckets)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// `Murmur3Partitioner.getToken`: the first half of Cassandra's `MurmurHash.hash3_x64_128`
/// (seed 0), with `Long.MIN_VALUE` normalised to `Long.MAX_VALUE`.
///
/// Cassandra's variant sign-extends the tail bytes (`(long) key.get(i)`); that is reproduced,
/// so names with non-ASCII bytes hash as they do in Cassandra.
pub fn murmur3_token(key: &[u8]) -> i64 {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (0u64, 0u64);
    let blocks = key.len() / 16;
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    for i in 0..blocks {
        let mut k1 = word(&key[i * 16..i * 16 + 8]);
        let mut k2 = word(&key[i * 16 + 8..i * 16 + 16]);
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(27).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2.rotate_left(31).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x3849_5ab5);
    }
    let tail = &key[blocks * 16..];
    // Sign extension of each byte, as in Cassandra's `(long) key.get(offset + i)`.
    let byte = |i: usize| i64::from(tail[i] as i8) as u64;
    let (mut k1, mut k2) = (0u64, 0u64);
    for i in (8..tail.len()).rev() {
        k2 ^= byte(i) << ((i - 8) * 8);
    }
    if tail.len() > 8 {
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
    }
    for i in (0..tail.len().min(8)).rev() {
        k1 ^= byte(i) << (i * 8);
    }
    if !tail.is_empty() {
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
    }
    let len = key.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    let token = h1 as i64;
    if token == i64::MIN { i64::MAX } else { token }
}

// ---------------------------------------------------------------------------------------
// The ring and replica placement.

/// Where a node sits in the ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingNode {
    pub address: String,
    pub dc: String,
    pub rack: String,
    pub tokens: Vec<i64>,
}

/// One token range `(start, end]` and its replicas (indices into the ring's nodes), in the
/// order the strategy picked them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeReplicas {
    pub start: i64,
    pub end: i64,
    pub replicas: Vec<usize>,
}

/// The token ring of a set of nodes.
#[derive(Debug, Clone)]
pub struct Ring {
    pub nodes: Vec<RingNode>,
    /// Every token with its owner, sorted by token.
    sorted: Vec<(i64, usize)>,
}

impl Ring {
    /// Builds the ring; duplicate tokens keep the first owner, like TokenMetadata.
    pub fn new(nodes: Vec<RingNode>) -> Self {
        let mut sorted: Vec<(i64, usize)> = nodes.iter().enumerate().flat_map(|(i, n)| n.tokens.iter().map(move |t| (*t, i))).collect();
        sorted.sort_by_key(|(t, i)| (*t, *i));
        sorted.dedup_by_key(|(t, _)| *t);
        Self { nodes, sorted }
    }

    /// Every token with its owner, ascending.
    pub fn tokens(&self) -> &[(i64, usize)] {
        &self.sorted
    }

    /// The ring walk starting at the position of the range ending at `sorted[pos]`.
    fn walk(&self, pos: usize) -> impl Iterator<Item = usize> + '_ {
        let n = self.sorted.len();
        (0..n).map(move |k| self.sorted[(pos + k) % n].1)
    }

    /// The replicas of the range ending at the `pos`-th token.
    pub fn replicas_at(&self, pos: usize, replication: &Replication) -> Vec<usize> {
        match replication {
            Replication::LocalStrategy => Vec::new(),
            Replication::SimpleStrategy { replication_factor } => {
                let mut out: Vec<usize> = Vec::new();
                for node in self.walk(pos) {
                    if out.len() >= *replication_factor {
                        break;
                    }
                    if !out.contains(&node) {
                        out.push(node);
                    }
                }
                out
            }
            Replication::NetworkTopologyStrategy { datacenters } => self.nts_replicas(pos, datacenters),
        }
    }

    fn nts_replicas(&self, pos: usize, datacenters: &BTreeMap<String, usize>) -> Vec<usize> {
        struct DcFill {
            rf_left: usize,
            acceptable_rack_repeats: i64,
        }
        let mut dcs: BTreeMap<&str, DcFill> = BTreeMap::new();
        for (dc, rf) in datacenters {
            let members: Vec<&RingNode> = self.nodes.iter().filter(|n| &n.dc == dc).collect();
            let racks: HashSet<&str> = members.iter().map(|n| n.rack.as_str()).collect();
            if *rf == 0 || members.is_empty() {
                continue;
            }
            dcs.insert(
                dc.as_str(),
                DcFill {
                    rf_left: (*rf).min(members.len()),
                    acceptable_rack_repeats: i64::try_from(*rf).unwrap_or(i64::MAX) - i64::try_from(racks.len()).unwrap_or(0),
                },
            );
        }
        let mut to_fill = dcs.len();
        let mut seen_racks: HashSet<(&str, &str)> = HashSet::new();
        let mut out: Vec<usize> = Vec::new();
        for node in self.walk(pos) {
            if to_fill == 0 {
                break;
            }
            let n = &self.nodes[node];
            let Some(fill) = dcs.get_mut(n.dc.as_str()) else {
                continue;
            };
            if fill.rf_left == 0 || out.contains(&node) {
                continue;
            }
            if seen_racks.insert((n.dc.as_str(), n.rack.as_str())) {
                // A rack not seen yet in this DC is always taken.
            } else if fill.acceptable_rack_repeats <= 0 {
                continue;
            } else {
                fill.acceptable_rack_repeats -= 1;
            }
            out.push(node);
            fill.rf_left -= 1;
            if fill.rf_left == 0 {
                to_fill -= 1;
            }
        }
        out
    }

    /// Every range of the ring with its replicas, in token order; the first range wraps
    /// around (its start is the last token).
    pub fn ranges(&self, replication: &Replication) -> Vec<RangeReplicas> {
        let n = self.sorted.len();
        (0..n)
            .map(|pos| RangeReplicas {
                start: self.sorted[(pos + n - 1) % n].0,
                end: self.sorted[pos].0,
                replicas: self.replicas_at(pos, replication),
            })
            .collect()
    }

    /// Effective ownership of every node for a keyspace: the fraction of the ring each node
    /// replicates (`StorageService.effectiveOwnership`), `None` for LocalStrategy.
    pub fn effective_ownership(&self, replication: &Replication) -> Option<Vec<f64>> {
        if *replication == Replication::LocalStrategy {
            return None;
        }
        let mut owned = vec![0f64; self.nodes.len()];
        for r in self.ranges(replication) {
            // Unsigned distance on the ring; a single token owns everything.
            let width = if self.sorted.len() == 1 {
                2f64.powi(64)
            } else {
                #[allow(clippy::cast_precision_loss)]
                let w = r.end.wrapping_sub(r.start) as u64 as f64;
                w
            };
            for i in r.replicas {
                owned[i] += width / 2f64.powi(64);
            }
        }
        Some(owned)
    }

    /// Datacenter names, sorted (nodetool prints DCs in TreeMap order).
    pub fn datacenters(&self) -> BTreeSet<&str> {
        self.nodes.iter().map(|n| n.dc.as_str()).collect()
    }
}

/// The DC name of the `d`-th of `dcs` datacenters: `datacenter1` alone, else `dc1..dcN`.
pub fn dc_name(d: usize, dcs: usize) -> String {
    if dcs <= 1 { "datacenter1".to_owned() } else { format!("dc{}", d + 1) }
}

/// Where node `i` (0-based) goes: DC first, then rack, round-robin, so node1 is dc1/rack1,
/// node2 dc2/rack1 with two DCs, and with one DC node2 is rack2.
pub fn placement(i: usize, dcs: usize, racks: usize) -> (String, String) {
    let dcs = dcs.max(1);
    let racks = racks.max(1);
    let d = i % dcs;
    let r = (i / dcs) % racks;
    (dc_name(d, dcs), format!("rack{}", r + 1))
}

/// The loopback address of node `i` (0-based): 127.0.0.1..254, then 127.0.1.1..254, ...
pub fn node_address(i: usize) -> String {
    format!("127.0.{}.{}", i / 254, i % 254 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(address: &str, dc: &str, rack: &str, tokens: &[i64]) -> RingNode {
        RingNode { address: address.into(), dc: dc.into(), rack: rack.into(), tokens: tokens.to_vec() }
    }

    #[test]
    fn murmur3_matches_known_cassandra_tokens() {
        // Ordering observed in a real 4.0.3 `describecluster`: system_auth, tutorialspoint,
        // system_distributed, system_traces (schema partitions are read in token order).
        let mut names = vec!["system_traces", "tutorialspoint", "system_distributed", "system_auth"];
        names.sort_by_key(|n| murmur3_token(n.as_bytes()));
        assert_eq!(names, vec!["system_auth", "tutorialspoint", "system_distributed", "system_traces"]);
    }

    #[test]
    fn java_hashes() {
        assert_eq!(java_string_hash("dc1"), 99_218);
        assert_eq!(java_string_hash(""), 0);
        // 127.0.0.1:7000 -> 31 * (31 + 0x7f000001) + 7000, wrapped.
        assert_eq!(java_endpoint_hash("127.0.0.1", 7000), 1_627_397_944);
        assert_eq!(java_hashmap_copy_capacity(2), 4);
        assert_eq!(java_hashmap_copy_capacity(3), 8);
        assert_eq!(java_hashmap_grown_capacity(16, 13), 32);
    }

    #[test]
    fn replication_info_texts() {
        let simple = Replication::SimpleStrategy { replication_factor: 3 };
        assert_eq!(simple.info(), "SimpleStrategy {replication_factor=3}");
        assert_eq!(Replication::LocalStrategy.info(), "LocalStrategy {}");
        let nts = parse_keyspace_spec("app:NetworkTopologyStrategy:dc1=3,dc2=3").unwrap();
        // "dc1" and "dc2" land in buckets 3 and 2 of the 8-bucket copy: dc2 prints first.
        assert_eq!(nts.replication.info(), "NetworkTopologyStrategy {dc2=3, dc1=3}");
    }

    #[test]
    fn keyspace_specs() {
        let ks = parse_keyspace_spec("App:SimpleStrategy:3").unwrap();
        assert_eq!(ks.name, "app");
        assert_eq!(ks.replication, Replication::SimpleStrategy { replication_factor: 3 });
        assert!(matches!(parse_keyspace_spec("x:SimpleStrategy:0"), Err(SpecError::Factor { .. })));
        assert!(matches!(parse_keyspace_spec("x:Everywhere:1"), Err(SpecError::Strategy { .. })));
        assert!(matches!(parse_keyspace_spec("x:1"), Err(SpecError::Shape { .. })));
        assert!(matches!(parse_keyspace_spec("system_x:SimpleStrategy:1"), Err(SpecError::Name { .. })));
    }

    #[test]
    fn simple_strategy_walks_clockwise_skipping_repeats() {
        let ring = Ring::new(vec![node("a", "dc", "r1", &[0, 30]), node("b", "dc", "r1", &[10]), node("c", "dc", "r1", &[20])]);
        let rf2 = Replication::SimpleStrategy { replication_factor: 2 };
        // Tokens: 0(a) 10(b) 20(c) 30(a). Range (20,30] -> a, then wrap: a again, then b.
        assert_eq!(ring.replicas_at(3, &rf2), vec![0, 1]);
        assert_eq!(ring.replicas_at(1, &rf2), vec![1, 2]);
        let rf5 = Replication::SimpleStrategy { replication_factor: 5 };
        assert_eq!(ring.replicas_at(0, &rf5), vec![0, 1, 2], "RF above nodes");
    }

    #[test]
    fn nts_prefers_new_racks_then_accepts_first_repeats() {
        // dc1: a(r1) b(r1) c(r2); RF 3 with 2 racks allows one repeat: the first met.
        let ring = Ring::new(vec![
            node("a", "dc1", "r1", &[0]),
            node("b", "dc1", "r1", &[10]),
            node("x", "dc2", "r1", &[15]),
            node("c", "dc1", "r2", &[20]),
        ]);
        let rf = |m: &[(&str, usize)]| Replication::NetworkTopologyStrategy {
            datacenters: m.iter().map(|(d, r)| ((*d).to_owned(), *r)).collect(),
        };
        assert_eq!(ring.replicas_at(0, &rf(&[("dc1", 3)])), vec![0, 1, 3]);
        // RF 2 with 2 racks: no repeat allowed, b (r1 again) is skipped for c.
        assert_eq!(ring.replicas_at(0, &rf(&[("dc1", 2)])), vec![0, 3]);
        // Both DCs filled in one walk; dc2 has one node.
        assert_eq!(ring.replicas_at(1, &rf(&[("dc1", 2), ("dc2", 3)])), vec![1, 2, 3]);
    }

    #[test]
    fn ownership_sums_to_rf() {
        let nodes: Vec<RingNode> = (0..6)
            .map(|i| {
                let (dc, rack) = placement(i, 1, 3);
                let tokens = (0..4).map(|k| murmur3_token(format!("{i}-{k}").as_bytes())).collect::<Vec<_>>();
                node(&node_address(i), &dc, &rack, &tokens)
            })
            .collect();
        let ring = Ring::new(nodes);
        let rf = Replication::SimpleStrategy { replication_factor: 3 };
        let owned = ring.effective_ownership(&rf).unwrap();
        let total: f64 = owned.iter().sum();
        assert!((total - 3.0).abs() < 1e-9, "{total}");
    }

    #[test]
    fn placement_and_addresses() {
        assert_eq!(placement(0, 1, 3), ("datacenter1".into(), "rack1".into()));
        assert_eq!(placement(1, 1, 3), ("datacenter1".into(), "rack2".into()));
        assert_eq!(placement(3, 1, 3), ("datacenter1".into(), "rack1".into()));
        assert_eq!(placement(1, 2, 2), ("dc2".into(), "rack1".into()));
        assert_eq!(placement(2, 2, 2), ("dc1".into(), "rack2".into()));
        assert_eq!(node_address(0), "127.0.0.1");
        assert_eq!(node_address(253), "127.0.0.254");
        assert_eq!(node_address(254), "127.0.1.1");
        assert_eq!(node_address(999), "127.0.3.238");
    }
}
