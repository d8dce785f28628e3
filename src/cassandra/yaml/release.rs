//! Which `server_encryption_options` keys each Cassandra release line knows, under which names,
//! and how to tell the release of a cassandra.yaml from its shape.
//!
//! Cassandra fails startup on any key its config bean does not know (`Invalid yaml. Please remove
//! properties [...]`), so the editor must never write a key the file's release lacks: `optional`
//! does not exist in 3.11, and 4.0 knows the legacy port flag only as
//! `enable_legacy_ssl_storage_port` (4.1 renamed it and kept the old name as a deprecated alias).
//! Source: docs/cassandra-notes.md sections 1 and 1.6.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A Cassandra release line, as far as `server_encryption_options` is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Release {
    /// 3.11.x: no `optional`, no legacy port flag, 4-space stock indentation.
    V3_11,
    /// 4.0.x: `optional`, `enable_legacy_ssl_storage_port`, 4-space stock indentation.
    V4_0,
    /// 4.1, 5.0 and trunk: `legacy_ssl_storage_port_enabled`, 2-space stock indentation.
    V4_1Plus,
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Release::V3_11 => "3.11",
            Release::V4_0 => "4.0",
            Release::V4_1Plus => "4.1+",
        })
    }
}

/// The `cassandra_release` values the inventory accepts, for messages.
pub const RELEASE_NAMES: &str = "\"3.11\", \"4.0\", \"4.1\" or \"5.0\"";

/// Returned when a text names no release line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Cassandra release ringmaster knows; give {RELEASE_NAMES} (a patch level such as \"4.0.11\" is fine)")]
pub struct ParseReleaseError(pub String);

impl std::str::FromStr for Release {
    type Err = ParseReleaseError;

    /// Reads `3.11`, `4.0`, `4.1`, `5.0` (or `4.1+`, as `Display` writes it), with or
    /// without a patch level; every release from 4.1 on shares one key layout.
    fn from_str(s: &str) -> Result<Release, ParseReleaseError> {
        let err = || ParseReleaseError(s.to_string());
        let t = s.trim();
        if t == "4.1+" {
            return Ok(Release::V4_1Plus);
        }
        let mut parts = t.split('.');
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        if parts.any(|p| p.parse::<u32>().is_err()) {
            return Err(err());
        }
        match (major, minor) {
            (3, 11) => Ok(Release::V3_11),
            (4, 0) => Ok(Release::V4_0),
            (4, 1..) | (5.., _) => Ok(Release::V4_1Plus),
            _ => Err(err()),
        }
    }
}

impl Release {
    /// Returns the indentation of the stock file of this release.
    pub(crate) fn stock_indent(self) -> usize {
        if self == Release::V4_1Plus { 2 } else { 4 }
    }
}

/// The kind of value a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `true` / `false`.
    Bool,
    /// Any string.
    Str,
    /// One of a fixed set of strings.
    OneOf(&'static [&'static str]),
}

/// One scalar key the editor can set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeySpec {
    /// The canonical (4.1+) name callers use.
    pub canonical: &'static str,
    /// What the value must be.
    pub kind: Kind,
    /// Passwords and paths are always written double-quoted.
    pub quote: bool,
    /// The first release line that accepts the key.
    pub since: Release,
}

const fn spec(canonical: &'static str, kind: Kind, quote: bool, since: Release) -> KeySpec {
    KeySpec { canonical, kind, quote, since }
}

/// Scalar keys of `ServerEncryptionOptions` (list keys such as `cipher_suites`, and keys only
/// some 4.1+ releases accept, such as 5.0's `outbound_keystore`, are deliberately absent).
const KEYS: &[KeySpec] = &[
    spec("internode_encryption", Kind::OneOf(&["all", "none", "dc", "rack"]), false, Release::V3_11),
    spec("optional", Kind::Bool, false, Release::V4_0),
    spec("enabled", Kind::Bool, false, Release::V4_0),
    spec("legacy_ssl_storage_port_enabled", Kind::Bool, false, Release::V4_0),
    spec("keystore", Kind::Str, true, Release::V3_11),
    spec("keystore_password", Kind::Str, true, Release::V3_11),
    spec("truststore", Kind::Str, true, Release::V3_11),
    spec("truststore_password", Kind::Str, true, Release::V3_11),
    spec("require_client_auth", Kind::Bool, false, Release::V3_11),
    spec("require_endpoint_verification", Kind::Bool, false, Release::V3_11),
    spec("protocol", Kind::Str, false, Release::V3_11),
    spec("algorithm", Kind::Str, false, Release::V3_11),
    spec("store_type", Kind::Str, false, Release::V3_11),
];

/// Returns the spec of a canonical key name.
pub(crate) fn key_spec(canonical: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.canonical == canonical)
}

/// Returns the names a release accepts for a canonical key, the one to write first.
pub(crate) fn names(canonical: &'static str, release: Release) -> Vec<&'static str> {
    const LEGACY_4_0: &str = "enable_legacy_ssl_storage_port";
    match (canonical, release) {
        ("legacy_ssl_storage_port_enabled", Release::V4_0) => vec![LEGACY_4_0],
        ("legacy_ssl_storage_port_enabled", _) => vec![canonical, LEGACY_4_0],
        _ => vec![canonical],
    }
}

/// Top-level keys that exist only from 4.1 on (the 4.1 duration/size renames, CASSANDRA-15234).
const ONLY_4_1_PLUS: &[&str] = &[
    "read_request_timeout",
    "write_request_timeout",
    "range_request_timeout",
    "request_timeout",
    "max_hint_window",
    "hints_flush_period",
    "commitlog_sync_period",
    "key_cache_size",
];
/// Top-level keys that 4.0 removed (Thrift and the request scheduler).
const ONLY_3_11: &[&str] = &["start_rpc", "rpc_port", "rpc_server_type", "thrift_framed_transport_size_in_mb", "request_scheduler"];
/// Top-level keys that 4.0 introduced.
const SINCE_4_0: &[&str] = &["audit_logging_options", "network_authorizer", "diagnostic_events_enabled"];

/// Returns the release a file belongs to, from the key names (live or commented) found inside its
/// `server_encryption_options` block and its live top-level keys; `None` when nothing decides.
pub(crate) fn detect(block_mentions: &BTreeSet<String>, top_level: &BTreeSet<String>) -> Option<Release> {
    let top = |list: &[&str]| list.iter().any(|k| top_level.contains(*k));
    let block = |k: &str| block_mentions.contains(k);
    if block("legacy_ssl_storage_port_enabled") || top(ONLY_4_1_PLUS) {
        Some(Release::V4_1Plus)
    } else if block("enable_legacy_ssl_storage_port") || block("optional") {
        Some(Release::V4_0)
    } else if top(ONLY_3_11) {
        Some(Release::V3_11)
    } else if top(SINCE_4_0) {
        Some(Release::V4_0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn release_names_parse_with_or_without_a_patch_level() {
        for (text, want) in [("3.11", Release::V3_11), ("3.11.17", Release::V3_11), ("4.0", Release::V4_0), ("4.0.11", Release::V4_0)] {
            assert_eq!(text.parse::<Release>(), Ok(want), "{text}");
        }
        for text in ["4.1", "4.1.5", "5.0", "5.0.2", "4.1+"] {
            assert_eq!(text.parse::<Release>(), Ok(Release::V4_1Plus), "{text}");
        }
        for text in ["", "4", "3.0", "2.2", "four", "4.0.x", "4.0;id"] {
            assert!(text.parse::<Release>().is_err(), "{text}");
        }
        for r in [Release::V3_11, Release::V4_0, Release::V4_1Plus] {
            assert_eq!(r.to_string().parse::<Release>(), Ok(r), "Display round-trips");
        }
    }

    #[test]
    fn block_names_decide_before_file_markers() {
        assert_eq!(detect(&set(&["legacy_ssl_storage_port_enabled"]), &set(&[])), Some(Release::V4_1Plus));
        assert_eq!(detect(&set(&["optional"]), &set(&[])), Some(Release::V4_0));
        assert_eq!(detect(&set(&["enable_legacy_ssl_storage_port"]), &set(&["audit_logging_options"])), Some(Release::V4_0));
        // A 4.1 file that kept the deprecated 4.0 name is still 4.1.
        assert_eq!(detect(&set(&["enable_legacy_ssl_storage_port"]), &set(&["read_request_timeout"])), Some(Release::V4_1Plus));
        assert_eq!(detect(&set(&["keystore"]), &set(&["start_rpc"])), Some(Release::V3_11));
        assert_eq!(detect(&set(&["keystore"]), &set(&["cluster_name"])), None);
    }

    #[test]
    fn legacy_port_flag_has_the_release_name_first() {
        assert_eq!(names("legacy_ssl_storage_port_enabled", Release::V4_0), ["enable_legacy_ssl_storage_port"]);
        assert_eq!(names("legacy_ssl_storage_port_enabled", Release::V4_1Plus)[0], "legacy_ssl_storage_port_enabled");
        for spec in KEYS {
            assert!(!names(spec.canonical, Release::V4_1Plus).is_empty(), "{}", spec.canonical);
        }
    }
}
