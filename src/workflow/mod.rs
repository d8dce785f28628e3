//! Workflow as code: the passes of a rollout, the settings each pass writes, and what
//! proves success or forces a rollback.
//!
//! The shipped workflows (`workflows/*.toml`, listed in [`SHIPPED`]) are embedded in the
//! binary; `internode-tls` is the default, and `--workflow NAME|FILE` names another shipped
//! one or a file. The per-node phase machine that executes a pass is [`node`].

pub mod node;

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::cassandra::yaml::{Setting, Value};
use crate::inventory::Node;
use crate::secrets::Secrets;

/// The default workflow shipped with ringmaster.
pub const BUILTIN_INTERNODE_TLS: &str = include_str!("../../workflows/internode-tls.toml");

/// Every workflow shipped with ringmaster, embedded in the binary: its name (that of its
/// file in `workflows/`, and its `name` key) and its TOML text. `ringmaster workflows`
/// lists them; `--workflow NAME` takes one.
pub const SHIPPED: &[(&str, &str)] = &[("internode-tls", BUILTIN_INTERNODE_TLS)];

/// A loaded workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    pub description: String,
    pub drain_before_restart: bool,
    pub await_un_timeout: Duration,
    pub poll_interval: Duration,
    pub command_timeout: Duration,
    pub backup_suffix: String,
    pub log: LogRules,
    pub passes: Vec<Pass>,
    /// The TOML text it was loaded from (journaled with the run).
    pub source: String,
}

/// What system.log must and must not show after a restart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRules {
    pub success: String,
    pub boot: String,
    pub errors: Vec<String>,
    /// Errors that prove a failed startup (checked while waiting for UN).
    #[serde(default)]
    pub fatal: Vec<String>,
    /// Error lines that are expected after restoring the original configuration.
    #[serde(default)]
    pub expected_after_restore: Vec<String>,
    /// A line the restarted node writes once it has joined the ring. While waiting for
    /// UN, its log is read every 100 ms (one small read over the SSH master) and the
    /// `nodetool status` rounds go from `poll_interval` to back to back once it shows.
    #[serde(default)]
    pub joined: Option<String>,
}

/// One rolling pass over every node.
#[derive(Debug, Clone)]
pub struct Pass {
    pub name: String,
    pub description: String,
    /// Regex the storage listener line must match after the restart, if set.
    pub listener: Option<String>,
    /// Error lines expected during this pass (regexes): not a reason to roll back.
    pub tolerate: Vec<String>,
    /// `server_encryption_options` key and value template, in file order.
    pub settings: Vec<(String, toml::Value)>,
    /// Pause the run when this pass is complete on every node (not after the last pass):
    /// `resume` starts the next one (e.g. to let the `optional` pass soak).
    pub pause_after: bool,
}

/// Why a workflow could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot read workflow `{path}`: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: String, line: usize, column: usize, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "pass `{pass}`, node `{node}`: setting `{key}` needs the secret `{secret}`, which neither the secrets file nor RINGMASTER_SECRET_{upper} provides"
    )]
    MissingSecret { pass: String, node: String, key: String, secret: String, upper: String },
    #[error("pass `{pass}`: setting `{key}` uses unknown template `{{{template}}}` (known: node, address, ssl_dir, secret:NAME)")]
    UnknownTemplate { pass: String, key: String, template: String },
    #[error("no pass named `{name}` (passes: {known})")]
    UnknownPass { name: String, known: String },
    #[error("`{name}` is neither a shipped workflow ({known}; `ringmaster workflows` describes them) nor a workflow file")]
    UnknownWorkflow { name: String, known: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "yes")]
    drain_before_restart: bool,
    await_un_timeout: String,
    poll_interval: String,
    command_timeout: String,
    backup_suffix: String,
    log: LogRules,
    #[serde(rename = "pass")]
    passes: Vec<RawPass>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPass {
    name: String,
    #[serde(default)]
    description: String,
    listener: Option<String>,
    #[serde(default)]
    tolerate: Vec<String>,
    #[serde(default)]
    pause_after: bool,
    settings: toml::Table,
}

impl Workflow {
    /// Returns the built-in internode-TLS workflow.
    pub fn builtin() -> Workflow {
        Workflow::parse("<builtin internode-tls.toml>", BUILTIN_INTERNODE_TLS).expect("BUG: the shipped workflow parses")
    }

    /// Returns every shipped workflow, in [`SHIPPED`] order.
    pub fn shipped() -> Vec<Workflow> {
        SHIPPED
            .iter()
            .map(|(name, text)| Workflow::parse(&format!("<shipped {name}.toml>"), text).expect("BUG: a shipped workflow parses"))
            .collect()
    }

    /// Loads the workflow `spec` names, or the built-in one when `None`: a shipped
    /// workflow's name first (`internode-tls`), else a file (`./NAME` for a file that has a
    /// shipped workflow's name). A bare word that is neither names the shipped ones.
    pub fn load(spec: Option<&Path>) -> Result<Workflow, WorkflowError> {
        let Some(p) = spec else { return Ok(Workflow::builtin()) };
        if let Some(wf) = Workflow::shipped().into_iter().find(|w| Path::new(&w.name) == p) {
            return Ok(wf);
        }
        let bare_word = p.components().count() == 1 && p.extension().is_none();
        if bare_word && !p.exists() {
            let known = SHIPPED.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            return Err(WorkflowError::UnknownWorkflow { name: p.display().to_string(), known });
        }
        let text = std::fs::read_to_string(p).map_err(|source| WorkflowError::Read { path: p.display().to_string(), source })?;
        Workflow::parse(&p.display().to_string(), &text)
    }

    /// Parses and validates workflow TOML.
    pub fn parse(path: &str, text: &str) -> Result<Workflow, WorkflowError> {
        let raw: RawWorkflow = toml::from_str(text).map_err(|e| {
            let (line, column) = crate::position::line_col(text, e.span().map(|s| s.start).unwrap_or(0));
            WorkflowError::Parse { path: path.into(), line, column, message: e.message().trim().to_string() }
        })?;
        let invalid = |message: String| WorkflowError::Invalid { path: path.into(), message };
        check_backup_suffix(&raw.backup_suffix).map_err(|why| invalid(format!("`backup_suffix` = {:?} {why}", raw.backup_suffix)))?;
        let duration = |what: &str, v: &str| humantime::parse_duration(v).map_err(|e| invalid(format!("`{what}` = `{v}`: {e}")));
        for re in raw
            .log
            .errors
            .iter()
            .chain(&raw.log.fatal)
            .chain(&raw.log.expected_after_restore)
            .chain([&raw.log.success, &raw.log.boot])
            .chain(raw.log.joined.iter())
        {
            regex::Regex::new(re).map_err(|e| invalid(format!("log pattern `{re}`: {e}")))?;
        }
        if raw.passes.is_empty() {
            return Err(invalid("no `[[pass]]`".into()));
        }
        let mut passes: Vec<Pass> = Vec::new();
        for p in raw.passes {
            if passes.iter().any(|o| o.name == p.name) {
                return Err(invalid(format!("pass `{}` appears twice", p.name)));
            }
            for re in p.listener.iter().chain(&p.tolerate) {
                regex::Regex::new(re).map_err(|e| invalid(format!("pass `{}` pattern `{re}`: {e}", p.name)))?;
            }
            let mut settings = Vec::new();
            for (key, value) in p.settings {
                match &value {
                    toml::Value::String(_) | toml::Value::Boolean(_) | toml::Value::Integer(_) => {}
                    _ => return Err(invalid(format!("pass `{}`: setting `{key}` must be a string, boolean or integer", p.name))),
                }
                settings.push((key, value));
            }
            passes.push(Pass {
                name: p.name,
                description: p.description,
                listener: p.listener,
                tolerate: p.tolerate,
                settings,
                pause_after: p.pause_after,
            });
        }
        let wf = Workflow {
            name: raw.name,
            description: raw.description,
            drain_before_restart: raw.drain_before_restart,
            await_un_timeout: duration("await_un_timeout", &raw.await_un_timeout)?,
            poll_interval: duration("poll_interval", &raw.poll_interval)?,
            command_timeout: duration("command_timeout", &raw.command_timeout)?,
            backup_suffix: raw.backup_suffix,
            log: raw.log,
            passes,
            source: text.to_string(),
        };
        check_semantics(&wf.passes).map_err(invalid)?;
        // Every template must be known now, not halfway through a run.
        for pass in &wf.passes {
            for (key, value) in &pass.settings {
                if let toml::Value::String(s) = value {
                    for t in templates(s) {
                        if !matches!(t, "node" | "address" | "ssl_dir") && !t.starts_with("secret:") {
                            return Err(WorkflowError::UnknownTemplate { pass: pass.name.clone(), key: key.clone(), template: t.into() });
                        }
                    }
                }
            }
        }
        Ok(wf)
    }

    /// Returns the pass called `name`.
    pub fn pass(&self, name: &str) -> Result<&Pass, WorkflowError> {
        self.passes.iter().find(|p| p.name == name).ok_or_else(|| WorkflowError::UnknownPass {
            name: name.into(),
            known: self.passes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// Returns the names of the secrets the workflow needs (e.g. `keystore_password`).
    pub fn secret_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .passes
            .iter()
            .flat_map(|p| p.settings.iter())
            .filter_map(|(_, v)| v.as_str())
            .flat_map(|s| templates(s).into_iter().filter_map(|t| t.strip_prefix("secret:").map(str::to_string)).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl Pass {
    /// Returns a pass that sets and checks nothing: the journal's pass of key staging or of
    /// an undo stage.
    pub fn bare(name: &str, description: &str) -> Pass {
        Pass { name: name.into(), description: description.into(), listener: None, tolerate: vec![], settings: vec![], pause_after: false }
    }

    /// Returns the concrete settings of this pass for `node`, secrets filled in.
    pub fn render(&self, node: &Node, secrets: &Secrets) -> Result<Vec<Setting>, WorkflowError> {
        let mut out = Vec::with_capacity(self.settings.len());
        for (key, template) in &self.settings {
            let (value, secret) = match template {
                toml::Value::Boolean(b) => (Value::Bool(*b), false),
                toml::Value::Integer(i) => (Value::Int(*i), false),
                toml::Value::String(s) => {
                    let mut secret = false;
                    let mut text = String::new();
                    let mut rest = s.as_str();
                    while let Some(start) = rest.find('{') {
                        let Some(len) = rest[start..].find('}') else { break };
                        text.push_str(&rest[..start]);
                        let name = &rest[start + 1..start + len];
                        match name {
                            "node" => text.push_str(&node.name),
                            "address" => text.push_str(&node.address),
                            "ssl_dir" => text.push_str(node.ssl_dir.trim_end_matches('/')),
                            _ => {
                                let secret_name = name.strip_prefix("secret:").ok_or_else(|| WorkflowError::UnknownTemplate {
                                    pass: self.name.clone(),
                                    key: key.clone(),
                                    template: name.into(),
                                })?;
                                let value = secrets.get(&node.name, secret_name).ok_or_else(|| WorkflowError::MissingSecret {
                                    pass: self.name.clone(),
                                    node: node.name.clone(),
                                    key: key.clone(),
                                    secret: secret_name.into(),
                                    upper: secret_name.to_ascii_uppercase(),
                                })?;
                                text.push_str(value.expose());
                                secret = true;
                            }
                        }
                        rest = &rest[start + len + 1..];
                    }
                    text.push_str(rest);
                    (Value::Str(text), secret)
                }
                _ => unreachable!("BUG: validated in Workflow::parse"),
            };
            out.push(Setting { key: key.clone(), value, secret });
        }
        Ok(out)
    }
}

/// Checks that `suffix` makes a backup path next to cassandra.yaml that is not the file itself
/// and not in another directory; returns why not.
fn check_backup_suffix(suffix: &str) -> Result<(), &'static str> {
    if suffix.is_empty() {
        return Err("is empty: the backup path would be cassandra.yaml itself; use e.g. \".before-internode-tls\"");
    }
    if suffix.contains('/') {
        return Err("contains `/`: the backup must sit next to cassandra.yaml, in the same directory; use e.g. \".before-internode-tls\"");
    }
    if suffix.chars().any(char::is_control) {
        return Err("contains a control character (NUL, newline, ...); use letters, digits, `.`, `-` or `_`");
    }
    if suffix.chars().all(|c| c == '.') {
        return Err("is only dots; use e.g. \".before-internode-tls\"");
    }
    Ok(())
}

/// Refuses the pass settings that Cassandra reads differently from what they seem to say
/// (docs: cassandra-notes.md section 2). The enforce passes are every pass after the first
/// (the only pass of a one-pass workflow):
/// * with a `keystore` set and no `optional`, Cassandra does not read a missing `optional` as
///   `false`: a keystore that exists makes it optional, and the editor leaves the previous
///   pass's `optional: true` in the file;
/// * `internode_encryption` `dc` or `rack` is always optional inbound, so with
///   `require_client_auth: true` plaintext is still accepted from every peer (CVE-2020-17516).
fn check_semantics(passes: &[Pass]) -> Result<(), String> {
    let enforce = if passes.len() == 1 { passes } else { &passes[1..] };
    for pass in enforce {
        let get = |key: &str| pass.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let text = |v: &toml::Value| match v {
            toml::Value::String(s) => s.trim().to_ascii_lowercase(),
            other => other.to_string(),
        };
        if get("keystore").is_some() && get("optional").is_none() {
            return Err(format!(
                "pass `{}` sets `keystore` but not `optional`: Cassandra does not read a missing `optional` as false when the keystore exists (it makes the node optional, and the previous pass's `optional: true` would stay in the file); set `optional = false`",
                pass.name
            ));
        }
        let mode = get("internode_encryption").map(text);
        let client_auth = get("require_client_auth").map(text);
        if let Some(mode @ ("dc" | "rack")) = mode.as_deref()
            && matches!(client_auth.as_deref(), Some("true" | "yes" | "on"))
        {
            return Err(format!(
                "pass `{}` sets `internode_encryption = \"{mode}\"` with `require_client_auth = true`: `dc` and `rack` force optional inbound, so plaintext is still accepted from every peer (CVE-2020-17516) and client authentication is not enforced; use `internode_encryption = \"all\"`",
                pass.name
            ));
        }
    }
    Ok(())
}

/// Returns the `{...}` template names in `s`.
fn templates(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        out.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;

    #[test]
    fn builtin_has_two_passes_that_differ_only_in_optional() {
        let wf = Workflow::builtin();
        assert_eq!(wf.passes.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["optional", "enforce"]);
        let diff: Vec<_> =
            wf.passes[0].settings.iter().zip(&wf.passes[1].settings).filter(|(a, b)| a != b).map(|(a, _)| a.0.as_str()).collect();
        assert_eq!(diff, ["optional"]);
        assert_eq!(wf.secret_names(), ["keystore_password", "truststore_password"]);
        assert!(wf.drain_before_restart);
    }

    #[test]
    fn every_shipped_workflow_loads_by_its_name_and_describes_itself() {
        for (name, _) in SHIPPED {
            let wf = Workflow::load(Some(Path::new(name))).unwrap();
            assert_eq!(&wf.name, name, "a shipped workflow's `name` is its key");
            assert!(!wf.description.is_empty(), "{name} has a description");
        }
        let err = Workflow::load(Some(Path::new("client-tsl"))).unwrap_err().to_string();
        assert!(err.contains("`client-tsl`") && err.contains("`internode-tls`"), "{err}");
        let err = Workflow::load(Some(Path::new("missing/flow.toml"))).unwrap_err();
        assert!(matches!(err, WorkflowError::Read { .. }), "a path is read as a path: {err}");
    }

    #[test]
    fn render_fills_templates_and_marks_secrets() {
        let inv = Inventory::parse(
            Path::new("/x/c.toml"),
            "cluster = \"c\"\n[defaults]\nssl_dir = \"/srv/{node}/ssl/\"\n[[node]]\nname = \"db01\"\naddress = \"10.0.0.1\"\n",
        )
        .unwrap();
        let secrets = Secrets::parse(Path::new("s"), "keystore_password = \"k\\\"s\"\ntruststore_password = \"t\"\n").unwrap();
        let settings = Workflow::builtin().passes[0].render(&inv.nodes[0], &secrets).unwrap();
        let get = |k: &str| settings.iter().find(|s| s.key == k).unwrap();
        assert_eq!(get("keystore").value, Value::Str("/srv/db01/ssl/db01-keystore.p12".into()));
        assert_eq!(get("keystore_password").value, Value::Str("k\"s".into()));
        assert!(get("keystore_password").secret && !get("keystore").secret);
        assert_eq!(get("optional").value, Value::Bool(true));
        let missing = Workflow::builtin().passes[0].render(&inv.nodes[0], &Secrets::default()).unwrap_err().to_string();
        assert!(missing.contains("RINGMASTER_SECRET_KEYSTORE_PASSWORD"), "{missing}");
    }

    #[test]
    fn recover_low_backup_suffix_is_validated_when_the_workflow_loads() {
        let with = |suffix: &str| Workflow::parse("w.toml", &BUILTIN_INTERNODE_TLS.replace("\".before-internode-tls\"", suffix));
        for (bad, why) in [
            ("\"\"", "is empty"),
            ("\".d/b\"", "contains `/`"),
            ("\".bak\\u0000\"", "control character"),
            ("\"..\"", "only dots"),
            ("\".\"", "only dots"),
        ] {
            let err = with(bad).expect_err(bad).to_string();
            assert!(err.starts_with("w.toml: `backup_suffix`") && err.contains(why), "{bad}: {err}");
        }
        assert_eq!(with("\".orig\"").expect("a plain suffix loads").backup_suffix, ".orig");
        assert_eq!(Workflow::builtin().backup_suffix, ".before-internode-tls");
    }

    #[test]
    fn recover_semantics_misleading_enforce_settings_are_refused() {
        let enforce_at = BUILTIN_INTERNODE_TLS.find("name = \"enforce\"").unwrap();
        let (head, tail) = BUILTIN_INTERNODE_TLS.split_at(enforce_at);
        let no_optional = format!("{head}{}", tail.replace("optional = false\n", ""));
        let err = Workflow::parse("w.toml", &no_optional).unwrap_err().to_string();
        assert!(err.contains("pass `enforce`") && err.contains("missing `optional` as false"), "{err}");
        for mode in ["dc", "rack"] {
            let text = format!("{head}{}", tail.replace("internode_encryption = \"all\"", &format!("internode_encryption = \"{mode}\"")));
            let err = Workflow::parse("w.toml", &text).unwrap_err().to_string();
            assert!(err.contains("CVE-2020-17516") && err.contains(&format!("\"{mode}\"")), "{err}");
        }
        // Without client auth `dc` is a choice, not a contradiction; the first pass may omit `optional`.
        let dc_no_auth = format!(
            "{head}{}",
            tail.replace("internode_encryption = \"all\"", "internode_encryption = \"dc\"")
                .replace("require_client_auth = true", "require_client_auth = false")
        );
        assert!(Workflow::parse("w.toml", &dc_no_auth).is_ok());
        let first_without = format!("{}{tail}", head.replace("optional = true\n", ""));
        assert!(Workflow::parse("w.toml", &first_without).is_ok());
        Workflow::parse("workflows/internode-tls.toml", BUILTIN_INTERNODE_TLS).expect("the shipped workflow loads");
    }

    #[test]
    fn bad_workflows_are_refused_with_positions() {
        let err = Workflow::parse("w.toml", &BUILTIN_INTERNODE_TLS.replace("poll_interval", "pol_interval")).unwrap_err();
        assert!(err.to_string().starts_with("w.toml:"), "{err}");
        let err = Workflow::parse("w.toml", &BUILTIN_INTERNODE_TLS.replace("{ssl_dir}/{node}", "{sl_dir}/{node}")).unwrap_err();
        assert!(err.to_string().contains("{sl_dir}"), "{err}");
    }
}
