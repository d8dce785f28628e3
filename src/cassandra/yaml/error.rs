//! The one error type of the cassandra.yaml editor. Every variant names the file and, where a
//! line is meaningful, its 1-based line, so an operator can open the file at the right place.
//! No variant carries a configuration value: keys, lines and releases only, so a message can be
//! printed, logged or journaled without leaking a keystore or truststore password.

use super::Release;

/// Why cassandra.yaml could not be read or edited; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// The file is not UTF-8 (SnakeYAML reads cassandra.yaml as UTF-8).
    #[error("`{path}`:{line}: the file is not valid UTF-8")]
    NotUtf8 {
        /// The file.
        path: String,
        /// First line holding an invalid byte sequence.
        line: usize,
    },
    /// A carriage return that is not followed by a line feed.
    #[error("`{path}`:{line}: bare carriage return (old Mac line ending); convert the file to LF or CRLF first")]
    BareCarriageReturn {
        /// The file.
        path: String,
        /// The offending line.
        line: usize,
    },
    /// The YAML parser rejected the file.
    #[error("`{path}`:{line}: not valid YAML: {reason}")]
    InvalidYaml {
        /// The file.
        path: String,
        /// Where the parser stopped.
        line: usize,
        /// The parser's own words (never a value from the file).
        reason: String,
    },
    /// More than one YAML document (`---`) in the file.
    #[error("`{path}`:{line}: the file holds several YAML documents; Cassandra reads exactly one")]
    MultipleDocuments {
        /// The file.
        path: String,
        /// Start of the second document.
        line: usize,
    },
    /// The document, or `server_encryption_options`, is not a block mapping.
    #[error("`{path}`:{line}: {what} is not a mapping")]
    NotAMapping {
        /// The file.
        path: String,
        /// Where the offending node starts.
        line: usize,
        /// Which node, e.g. "`server_encryption_options`".
        what: String,
    },
    /// `server_encryption_options` appears twice at the top level.
    #[error("`{path}`:{second}: `server_encryption_options` is defined twice (first at line {first}); remove one by hand")]
    DuplicateBlock {
        /// The file.
        path: String,
        /// Line of the first definition.
        first: usize,
        /// Line of the second definition.
        second: usize,
    },
    /// A key (or two names Cassandra treats as the same key) appears twice in the block.
    #[error("`{path}`:{second}: `server_encryption_options.{key}` is set twice (first at line {first}); remove one by hand")]
    DuplicateKey {
        /// The file.
        path: String,
        /// The key as written at the second place.
        key: String,
        /// Line of the first occurrence.
        first: usize,
        /// Line of the second occurrence.
        second: usize,
    },
    /// `server_encryption_options: {...}` in flow style.
    #[error(
        "`{path}`:{line}: `server_encryption_options` is written in flow style (`{{...}}`); rewrite it as an indented block mapping by hand, then run again"
    )]
    FlowStyleBlock {
        /// The file.
        path: String,
        /// The line of the flow mapping.
        line: usize,
    },
    /// A tab in the indentation of a line of the block.
    #[error("`{path}`:{line}: tab in the indentation inside `server_encryption_options`; YAML allows only spaces there")]
    TabIndentation {
        /// The file.
        path: String,
        /// The offending line.
        line: usize,
    },
    /// A line of the block is indented less than its sibling keys.
    #[error("`{path}`:{line}: this line of `server_encryption_options` is indented less than the keys above it")]
    Indentation {
        /// The file.
        path: String,
        /// The offending line.
        line: usize,
    },
    /// A node the editor does not rewrite safely (multi-line value, anchor, alias, tag, merge key).
    #[error("`{path}`:{line}: `{node}` is {reason}; the editor only rewrites single-line scalars, edit it by hand")]
    UnsupportedValue {
        /// The file.
        path: String,
        /// The line of the node.
        line: usize,
        /// The node, e.g. `server_encryption_options.keystore`.
        node: String,
        /// What was found, e.g. "a block scalar".
        reason: String,
    },
    /// A pass sets `optional` on a Cassandra 3.11 file.
    #[error(
        "`{path}`:{line}: refusing to set `server_encryption_options.optional` on a Cassandra 3.11 cassandra.yaml: \
         3.11 has no `optional` (startup fails with `Invalid yaml. Please remove properties [optional]`), and without it \
         a rolling switch to `internode_encryption: all` splits the cluster (a switched node talks only TLS on \
         `ssl_storage_port`); upgrade the cluster to Cassandra 4.0 or later first"
    )]
    OptionalOn311 {
        /// The file.
        path: String,
        /// The `server_encryption_options:` line (1 when the block is missing).
        line: usize,
    },
    /// A setting the detected release does not know; writing it would fail Cassandra's startup.
    #[error(
        "`{path}`:{line}: `server_encryption_options.{key}` does not exist in Cassandra {release}; writing it would make startup fail with `Invalid yaml. Please remove properties [{key}]`"
    )]
    KeyUnknownToRelease {
        /// The file.
        path: String,
        /// The `server_encryption_options:` line (1 when the block is missing).
        line: usize,
        /// The canonical (4.1+) key name that was asked for.
        key: String,
        /// The release of the file.
        release: Release,
    },
    /// The block already holds a key name the release does not accept.
    #[error(
        "`{path}`:{line}: `server_encryption_options.{key}` is not a key of Cassandra {release}; either the file is not a {release} file (check the release given) or it would not start as it is"
    )]
    ReleaseMismatch {
        /// The file.
        path: String,
        /// The line of the key.
        line: usize,
        /// The key name found.
        key: String,
        /// The release the edit was asked for.
        release: Release,
    },
    /// The caller asked for a key this editor does not know at all.
    #[error("`{path}`: `{key}` is not a scalar `server_encryption_options` key this editor can set")]
    UnknownSetting {
        /// The file.
        path: String,
        /// The key asked for.
        key: String,
    },
    /// The caller gave a value of the wrong kind for a key.
    #[error("`{path}`: `server_encryption_options.{key}` must be {expected}")]
    InvalidSettingValue {
        /// The file.
        path: String,
        /// The key.
        key: String,
        /// What is allowed, e.g. "a boolean".
        expected: String,
    },
    /// The caller gave the same key twice.
    #[error("`{path}`: `server_encryption_options.{key}` is given twice in the settings")]
    DuplicateSetting {
        /// The file.
        path: String,
        /// The key.
        key: String,
    },
    /// The release could not be told from the file and none was given.
    #[error(
        "`{path}`: cannot tell which Cassandra release this cassandra.yaml belongs to (no `optional`/legacy ssl port key in `server_encryption_options`, no release-specific top-level key); set `cassandra_release` for the node in the inventory (\"3.11\", \"4.0\", \"4.1\" or \"5.0\")"
    )]
    ReleaseUndetected {
        /// The file.
        path: String,
    },
    /// The edited text did not re-parse to exactly the intended values: a bug, nothing written.
    #[error("`{path}`:{line}: the edited file does not re-parse as intended ({detail}); nothing was written")]
    VerifyFailed {
        /// The file.
        path: String,
        /// The closest line (the block's key line, or 1).
        line: usize,
        /// What differed (keys only).
        detail: String,
    },
}
