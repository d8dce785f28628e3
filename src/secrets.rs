//! Keystore and truststore passwords: where they come from and how they stay secret.
//!
//! Passwords never live in the inventory. They come from a secrets file named by the
//! inventory (TOML: top-level `keystore_password`, `truststore_password`, per-node
//! overrides in `[node.NAME]`) that nobody but its owner may read, or from environment
//! variables `RINGMASTER_SECRET_<NAME>` (e.g. `RINGMASTER_SECRET_KEYSTORE_PASSWORD`),
//! which win over the file, or from a secret manager: `secret_command` (in the inventory
//! or the secrets file) is run once per missing secret name, without a shell, and its
//! standard output is the value (see [`Secrets::resolve`]). A [`Secret`] cannot be printed: its `Debug` and `Display`
//! show `********`, and [`Secrets::redact`] scrubs every known value from any text that
//! is about to reach the journal, a log or the terminal.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The mask shown instead of a secret value.
pub const MASK: &str = "********";

/// Secrets at least this many characters long are masked wherever they appear; shorter ones
/// only as whole values (masking every `e` of a text hides the text and protects nothing).
/// Java keystores need passwords of at least 6 characters, and preflight refuses shorter ones.
pub const MIN_PASSWORD_LEN: usize = 6;

/// Environment variables with this prefix hold secrets (`RINGMASTER_SECRET_KEYSTORE_PASSWORD`).
/// They are read here; the transport removes them from every child process's environment.
pub const ENV_PREFIX: &str = crate::transport::SECRET_ENV_PREFIX;

/// A secret value. Only [`Secret::expose`] gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// Returns the value, for writing it to a node's cassandra.yaml or opening a keystore.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Why secrets could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read secrets file `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("secrets file `{path}` is readable by group or others (mode {mode:o}); run `chmod 600 {}`", crate::transport::shell_quote(&.path.display().to_string()))]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: `{key}` must be a string")]
    NotAString { path: PathBuf, key: String },
    #[error("{path}: `secret_command` {why}")]
    BadCommand { path: PathBuf, why: String },
    /// The secret command failed; its output is never shown (it may hold the secret).
    #[error("the secret command `{command}` for `{name}` {why}; its output is not shown: run it by hand to see it")]
    Command { command: String, name: String, why: String },
}

/// All secrets of a cluster: defaults plus per-node overrides.
#[derive(Default, Clone)]
pub struct Secrets {
    defaults: BTreeMap<String, Secret>,
    per_node: BTreeMap<String, BTreeMap<String, Secret>>,
    /// `secret_command` of the secrets file, if any.
    command: Option<Vec<String>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.defaults.keys().collect::<Vec<_>>())
            .field("nodes", &self.per_node.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// Loads the secrets file (when given) and overlays `RINGMASTER_SECRET_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Secrets, SecretsError> {
        let mut secrets = match file {
            Some(path) => Secrets::from_file(path)?,
            None => Secrets::default(),
        };
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix(ENV_PREFIX) {
                secrets.defaults.insert(name.to_ascii_lowercase(), Secret::new(value));
            }
        }
        Ok(secrets)
    }

    fn from_file(path: &Path) -> Result<Secrets, SecretsError> {
        let meta = std::fs::metadata(path).map_err(|source| SecretsError::Read { path: path.into(), source })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretsError::Permissions { path: path.into(), mode });
        }
        let text = std::fs::read_to_string(path).map_err(|source| SecretsError::Read { path: path.into(), source })?;
        Secrets::parse(path, &text)
    }

    /// Parses the TOML text of a secrets file. Parse errors never quote the file's text.
    pub fn parse(path: &Path, text: &str) -> Result<Secrets, SecretsError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let (line, column) = crate::position::line_col(text, e.span().map(|s| s.start).unwrap_or(0));
            SecretsError::Parse { path: path.into(), line, column, message: e.message().to_string() }
        })?;
        let mut secrets = Secrets::default();
        for (key, value) in table {
            match value {
                toml::Value::Array(items) if key == "secret_command" => {
                    let argv: Option<Vec<String>> = items.into_iter().map(|v| v.as_str().map(str::to_string)).collect();
                    let argv =
                        argv.ok_or_else(|| SecretsError::BadCommand { path: path.into(), why: "must be an array of strings".into() })?;
                    check_command(&argv).map_err(|why| SecretsError::BadCommand { path: path.into(), why })?;
                    secrets.command = Some(argv);
                }
                toml::Value::String(s) => {
                    secrets.defaults.insert(key, Secret::new(s));
                }
                toml::Value::Table(nodes) if key == "node" => {
                    for (node, entries) in nodes {
                        let toml::Value::Table(entries) = entries else {
                            return Err(SecretsError::NotAString { path: path.into(), key: format!("node.{node}") });
                        };
                        let slot = secrets.per_node.entry(node.clone()).or_default();
                        for (k, v) in entries {
                            let toml::Value::String(s) = v else {
                                return Err(SecretsError::NotAString { path: path.into(), key: format!("node.{node}.{k}") });
                            };
                            slot.insert(k, Secret::new(s));
                        }
                    }
                }
                _ => return Err(SecretsError::NotAString { path: path.into(), key }),
            }
        }
        Ok(secrets)
    }

    /// Returns the secret `name` for `node`: the node's override, else the default.
    pub fn get(&self, node: &str, name: &str) -> Option<&Secret> {
        self.per_node.get(node).and_then(|m| m.get(name)).or_else(|| self.defaults.get(name))
    }

    /// Fills every name of `names` that neither the environment nor the secrets file gives
    /// from the secret command: the secrets file's `secret_command`, else `fallback` (the
    /// inventory's). The command runs once per missing name, as argv without a shell,
    /// `{name}` in an argument replaced by the name, with no stdin and without any
    /// `RINGMASTER_SECRET_*` variable; its stdout, less one final newline, is the value.
    pub fn resolve(&mut self, names: &[String], fallback: Option<&[String]>) -> Result<(), SecretsError> {
        let Some(argv) = self.command.clone().or_else(|| fallback.map(<[String]>::to_vec)) else { return Ok(()) };
        for name in names {
            if self.defaults.contains_key(name) {
                continue;
            }
            let value = run_command(&argv, name)?;
            self.defaults.insert(name.clone(), Secret::new(value));
        }
        Ok(())
    }

    /// Adds or replaces a default secret (used by `render --set`).
    pub fn insert(&mut self, name: &str, value: Secret) {
        self.defaults.insert(name.to_string(), value);
    }

    /// Returns every known secret value (non-empty), for masking.
    pub fn values(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .defaults
            .values()
            .chain(self.per_node.values().flat_map(|m| m.values()))
            .map(|s| s.expose())
            .filter(|s| !s.is_empty())
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        v
    }

    /// Returns `text` with every known secret value replaced by [`MASK`] (see [`mask`]).
    pub fn redact(&self, text: &str) -> String {
        mask(text, &self.values())
    }

    /// Returns `value` with every secret masked in every string, recursively.
    pub fn redact_json(&self, value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value as Json;
        match value {
            Json::String(s) => Json::String(self.redact(&s)),
            Json::Array(a) => Json::Array(a.into_iter().map(|v| self.redact_json(v)).collect()),
            Json::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, self.redact_json(v))).collect()),
            other => other,
        }
    }
}

/// Checks a `secret_command` argv: a program and its arguments, no control characters.
pub fn check_command(argv: &[String]) -> Result<(), String> {
    match argv.first() {
        None => {
            Err("is empty: give the program and its arguments, e.g. [\"vault\", \"kv\", \"get\", \"-field={name}\", \"secret/cassandra\"]"
                .into())
        }
        Some(p) if p.trim().is_empty() => Err("names no program (its first element is empty)".into()),
        _ if argv.iter().any(|a| a.chars().any(char::is_control)) => Err("holds a control character".into()),
        _ => Ok(()),
    }
}

/// Runs the secret command for `name` and returns its stdout less one final newline.
fn run_command(argv: &[String], name: &str) -> Result<String, SecretsError> {
    let args: Vec<String> = argv.iter().map(|a| a.replace("{name}", name)).collect();
    let command = args.iter().map(|a| crate::transport::shell_quote(a)).collect::<Vec<_>>().join(" ");
    let fail = |why: String| SecretsError::Command { command: command.clone(), name: name.to_string(), why };
    let mut cmd = std::process::Command::new(&args[0]);
    cmd.args(&args[1..]).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(ENV_PREFIX.as_bytes()) {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().map_err(|e| fail(format!("could not be started ({e})")))?;
    if !out.status.success() {
        let how = match out.status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "was killed by a signal".to_string(),
        };
        return Err(fail(how));
    }
    let mut value = String::from_utf8(out.stdout).map_err(|_| fail("printed bytes that are not UTF-8".into()))?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        return Err(fail("printed nothing".into()));
    }
    Ok(value)
}

/// Returns `text` with each of `values` replaced by [`MASK`]: anywhere for a value of at least
/// [`MIN_PASSWORD_LEN`] characters; a shorter one only where it stands as a whole value, between
/// the ends of the text, whitespace, quotes or the punctuation that separates values
/// (`:`, `=`, `,`, ...). Give `values` longest first, so a secret that contains another is
/// masked whole.
pub fn mask(text: &str, values: &[&str]) -> String {
    let mut out = text.to_string();
    for value in values.iter().filter(|v| !v.is_empty()) {
        if !out.contains(value) {
            continue;
        }
        out = if value.chars().count() >= MIN_PASSWORD_LEN { out.replace(value, MASK) } else { mask_whole(&out, value) };
    }
    out
}

/// Replaces the occurrences of `value` in `text` that are whole values.
fn mask_whole(text: &str, value: &str) -> String {
    let separates = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || "\"'`:=,;()[]{}<>|".contains(c));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(value) {
        let end = at + value.len();
        if at < last || !separates(text[..at].chars().next_back()) || !separates(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(MASK);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn redaction_reaches_nested_strings() {
        let secrets = super::Secrets::parse(std::path::Path::new("s"), "keystore_password = \"hunter2\"\n").unwrap();
        let out = secrets.redact_json(serde_json::json!({"a": ["x hunter2 y"], "b": {"c": "hunter2"}}));
        assert!(!out.to_string().contains("hunter2"));
    }

    use super::*;

    #[test]
    fn per_node_override_wins_and_nothing_prints() {
        let s = Secrets::parse(
            Path::new("s.toml"),
            "keystore_password = \"k-default\"\ntruststore_password = \"t\"\n[node.n2]\nkeystore_password = \"k-two\"\n",
        )
        .unwrap();
        assert_eq!(s.get("n1", "keystore_password").unwrap().expose(), "k-default");
        assert_eq!(s.get("n2", "keystore_password").unwrap().expose(), "k-two");
        assert_eq!(s.get("n2", "truststore_password").unwrap().expose(), "t");
        let shown = format!("{s:?} {:?} {}", s.get("n2", "keystore_password").unwrap(), s.get("n1", "truststore_password").unwrap());
        assert!(!shown.contains("k-default") && !shown.contains("k-two") && !shown.contains("\"t\""), "{shown}");
        assert_eq!(s.redact("a k-two b k-default"), "a ******** b ********");
    }

    #[test]
    fn recover_low_short_secrets_are_masked_as_whole_values_only() {
        let s = Secrets::parse(Path::new("s.toml"), "keystore_password = \"e\"\ntruststore_password = \"hunter22\"\n").unwrap();
        // A one-letter password leaves the words around it alone...
        assert_eq!(s.redact("keystore error: the password is wrong"), "keystore error: the password is wrong");
        // ...and is still masked where it is the whole value.
        assert_eq!(s.redact("e"), MASK);
        assert_eq!(s.redact("keystore_password: \"e\" (set)"), "keystore_password: \"********\" (set)");
        assert_eq!(s.redact("password=e, next"), "password=********, next");
        // A long one is masked anywhere, inside words too.
        assert_eq!(s.redact("xhunter22y"), "x********y");
    }

    #[test]
    fn parse_errors_point_at_line_and_column_without_quoting_values() {
        let err = Secrets::parse(Path::new("s.toml"), "keystore_password = \"hunter2\"\ntruststore_password = \n").err().unwrap();
        let msg = err.to_string();
        assert!(msg.starts_with("s.toml:2:"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn group_readable_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secrets.toml");
        std::fs::write(&p, "keystore_password = \"x\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = Secrets::load(Some(&p)).err().unwrap();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Secrets::load(Some(&p)).is_ok());
    }
}
