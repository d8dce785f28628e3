//! The surgical, comment-preserving editor of `server_encryption_options` in cassandra.yaml.
//!
//! Operators keep cassandra.yaml under review, so an edit must change the values it means to
//! change and not one byte more: no re-emitted tree, no reordered keys, no lost comments. The
//! editor therefore works on lines (`scan`): a key that is present gets its value replaced in
//! place (indentation and trailing comment kept), an absent key is written live right below its
//! commented template (`# optional: true`, `#keystore_password: cassandra`) or at the end of
//! the block, and a file without the block gets one appended. Key names follow the file's
//! release (`release`), values are written so SnakeYAML's YAML 1.1 reads them as meant
//! (`scalar`), and every result is re-parsed with saphyr (`verify`): the block must hold exactly
//! the targets and the rest of the document must be unchanged, or nothing is returned.
//!
//! Everything here is pure (bytes in, bytes out); reading and writing the file on a node is the
//! caller's business. Secrets never reach an error message, a `Debug` output or a diff
//! (`masked_diff`).

mod edit;
mod error;
mod release;
mod scalar;
mod scan;
mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

pub use error::YamlError;
pub use release::{ParseReleaseError, RELEASE_NAMES, Release};

/// A target value for one key.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// Written `true` / `false`.
    Bool(bool),
    /// Written plain when unambiguous, else double-quoted; passwords and paths always quoted.
    Str(String),
    /// Written in decimal.
    Int(i64),
}

impl Value {
    /// Returns the JSON form of the value, as `read_server_encryption` reports it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Int(i) => serde_json::Value::from(*i),
        }
    }
}

/// Strings are redacted: a `Value` does not know whether it holds a password.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Str(_) => f.write_str("Str(<redacted>)"),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

/// One key of `server_encryption_options` to set, by its canonical (4.1+) name.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting {
    /// Canonical key name, e.g. `legacy_ssl_storage_port_enabled` (mapped to the file's release).
    pub key: String,
    /// The value to set.
    pub value: Value,
    /// A secret is masked in `Debug` output and must be masked in diffs (`masked_diff`).
    pub secret: bool,
}

impl Setting {
    /// Returns a setting whose value may be shown.
    pub fn new(key: &str, value: impl Into<Value>) -> Self {
        Setting { key: key.to_owned(), value: value.into(), secret: false }
    }

    /// Returns a setting whose value is a secret (a keystore or truststore password).
    pub fn secret(key: &str, value: impl Into<Value>) -> Self {
        Setting { key: key.to_owned(), value: value.into(), secret: true }
    }
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Setting");
        s.field("key", &self.key);
        match (&self.value, self.secret) {
            (_, true) => s.field("value", &format_args!("********")),
            (Value::Str(v), false) => s.field("value", v),
            (v, false) => s.field("value", v),
        };
        s.field("secret", &self.secret).finish()
    }
}

/// Returns the secret string values of `settings`, for `masked_diff`.
pub fn secret_values(settings: &[Setting]) -> Vec<&str> {
    settings
        .iter()
        .filter(|s| s.secret)
        .filter_map(|s| match &s.value {
            Value::Str(v) => Some(v.as_str()),
            _ => None,
        })
        .collect()
}

/// How to edit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditOptions {
    /// The file's release; `None` detects it from the file's shape (`detect_release`).
    pub release: Option<Release>,
}

/// The result of an edit.
#[derive(Clone, PartialEq, Eq)]
pub struct Edit {
    /// The new file contents (equal to the input when nothing had to change).
    pub bytes: Vec<u8>,
    /// Whether `bytes` differs from the input.
    pub changed: bool,
    /// The release whose key names were used.
    pub release: Release,
}

/// The bytes hold passwords, so `Debug` shows only their length.
impl fmt::Debug for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Edit")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("changed", &self.changed)
            .field("release", &self.release)
            .finish()
    }
}

/// Returns `input` with `server_encryption_options` set to `settings`, touching only the block.
///
/// `path` is used in error messages only. The result is re-parsed and checked before it is
/// returned; applying the same settings to the result returns it unchanged.
///
/// # Errors
/// Every refusal of `YamlError`: invalid YAML, duplicated block or key, flow style, tabs,
/// multi-line values of a key to set, `optional` on 3.11, a key the release does not know, an
/// undetectable release, or a failed re-parse check.
pub fn edit_server_encryption(path: &str, input: &[u8], settings: &[Setting], opts: &EditOptions) -> Result<Edit, YamlError> {
    edit::edit(path, input, settings, opts)
}

/// Returns the release a cassandra.yaml belongs to, judged from its shape; `None` if unclear.
///
/// A `legacy_ssl_storage_port_enabled` key (live or commented) in the block, or a 4.1-only
/// top-level key (`read_request_timeout`, ...), means 4.1+; `optional` or
/// `enable_legacy_ssl_storage_port` in the block means 4.0; Thrift keys (`start_rpc`, ...) mean
/// 3.11; 4.0-only top-level keys (`audit_logging_options`, ...) mean 4.0.
pub fn detect_release(input: &[u8]) -> Option<Release> {
    let doc = scan::split("", input).ok()?;
    detect(&doc)
}

fn detect(doc: &scan::Doc<'_>) -> Option<Release> {
    release::detect(&scan::mentioned_keys(doc), &scan::top_level_keys(doc))
}

/// Returns the current live values of `server_encryption_options` (empty when the block is
/// absent), with plain scalars read as SnakeYAML reads them (`yes` is `true`).
///
/// The values include passwords: do not print them.
///
/// # Errors
/// Invalid YAML, or a block the editor would refuse (duplicates, flow style, tabs).
pub fn read_server_encryption(path: &str, input: &[u8]) -> Result<BTreeMap<String, serde_json::Value>, YamlError> {
    let doc = scan::split(path, input)?;
    let block = scan::locate(path, &doc)?;
    let parsed = verify::parse(path, doc.text)?;
    verify::block_values(path, block.map_or(1, |b| b.key_line + 1), parsed.block.as_ref())
}

/// Returns names as "`a`, `b`" for messages.
fn backticked(names: impl Iterator<Item = impl fmt::Display>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

const MASK: &str = "********";

/// A `key: value` line whose key names a password (live or commented, any diff prefix).
static PASSWORD_LINE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"^([-+ ][ \t]*#?[ \t]*["']?[A-Za-z0-9_]*password[A-Za-z0-9_]*["']?[ \t]*:[ \t]+)(.*?)([ \t]+#.*)?(\r?)$"#)
        .expect("static regex")
});

/// Returns a unified diff of `old` and `new` in which every secret is `********`.
///
/// The value of every `*password*:` line is masked, so the passwords already in the old file
/// are hidden too; and each string of `secrets` (raw, double- or single-quote escaped) is
/// masked as [`crate::secrets::mask`] does: anywhere when it is long enough, else only as a
/// whole value (a password `e` does not mask every `e` of the diff). Masking happens after diffing: a changed password still shows as a
/// changed line.
pub fn masked_diff(path: &str, old: &[u8], new: &[u8], secrets: &[&str]) -> String {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
    let shown = path.trim_start_matches('/');
    let text = diff.unified_diff().context_radius(3).header(&format!("a/{shown}"), &format!("b/{shown}")).to_string();
    let mut forms: Vec<String> = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .flat_map(|s| {
            let double = scalar::double_quote(s);
            [(*s).to_owned(), double[1..double.len() - 1].to_owned(), s.replace('\'', "''")]
        })
        .collect();
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if i < 2 && (line.starts_with("--- ") || line.starts_with("+++ ")) {
                return line.to_owned();
            }
            let body = crate::secrets::mask(line, &forms.iter().map(String::as_str).collect::<Vec<_>>());
            let (content, nl) = body.strip_suffix('\n').map_or((body.as_str(), ""), |c| (c, "\n"));
            match PASSWORD_LINE.captures(content) {
                Some(c) if !c[2].is_empty() => {
                    format!("{}{MASK}{}{}{nl}", &c[1], c.get(3).map_or("", |m| m.as_str()), &c[4])
                }
                _ => body.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
