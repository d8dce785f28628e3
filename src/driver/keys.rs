//! `stage_keys`: the optional first phase that installs each node's keystore and
//! truststore from local files the inventory names (`keystore_source`,
//! `truststore_source`), before the first pass touches any cassandra.yaml.
//!
//! On the node: `install -d -o OWNER -g GROUP -m 750 DIR`, each file written atomically
//! with mode 600 (content over the transport's stdin/in-process write, never on a command
//! line), `chown OWNER:GROUP`, then read back: checksum, owner and mode must be what was
//! meant. The journal holds paths and SHA-256 only. Safe to repeat: the same bytes are
//! written again and verified again; a node whose staging is journaled `ok` is skipped.

use serde_json::{Value as Json, json};

use super::phases::StepCtx;
use super::step::Step;
use super::{Driver, DriverError, PhaseResult, RunOutcome};
use crate::cassandra::yaml::Value;
use crate::inventory::Node;
use crate::journal::EventKind;
use crate::transport::{Transport, TransportError, sha256_hex, shell_quote as quote};
use crate::workflow::Pass;
use crate::workflow::node::State;

/// The journal's pass name for staging events.
pub const KEYS_PASS: &str = "keys";
/// The phase name of staging events.
pub const STAGE_KEYS: &str = "stage_keys";

/// The journal's pass of staging events: not one of the workflow's passes.
fn keys_pass() -> Pass {
    Pass::bare(KEYS_PASS, "")
}

/// The directory the key files go to: that of the first one (`ssl_dir` when there is none).
fn staging_dir(node: &Node, files: &[Staged]) -> String {
    files
        .first()
        .and_then(|f| std::path::Path::new(&f.target).parent())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| node.ssl_dir.clone())
}

/// One file to install: where from, where to, and what it must hash to.
struct Staged {
    source: std::path::PathBuf,
    target: String,
    bytes: Vec<u8>,
    sha256: String,
}

impl Driver<'_> {
    /// Returns the target path the workflow's last pass configures for `key`.
    fn configured_path(&self, node: &Node, key: &str) -> Option<String> {
        let settings = self.workflow.passes.last()?.render(node, self.secrets).ok()?;
        settings.into_iter().find(|s| s.key == key).and_then(|s| match s.value {
            Value::Str(p) => Some(p),
            _ => None,
        })
    }

    /// Stages the key files of every node that names local ones, each through the same
    /// step as every phase ([`Step::StageKeys`]); returns why the run must stop, if it must.
    pub(crate) async fn stage_keys(&mut self) -> Result<Option<RunOutcome>, DriverError> {
        let pass = keys_pass();
        for (position, node) in self.inventory.nodes.iter().enumerate() {
            if node.keystore_source.is_none() && node.truststore_source.is_none() {
                continue;
            }
            let done = self
                .events
                .borrow()
                .iter()
                .any(|e| e.node.as_deref() == Some(&node.name) && e.phase == STAGE_KEYS && e.kind == EventKind::Ok);
            if done {
                continue;
            }
            let ctx = StepCtx { node, pass: &pass, pass_index: 0, position, batch: position };
            if !self.step(&ctx, Step::StageKeys).await? {
                return Ok(Some(self.failed_outcome(node, &pass, &State::Failed {})));
            }
        }
        Ok(None)
    }

    /// What staging records before acting: the directory, owner, group and each file's
    /// target and SHA-256 (only the owner and group when a source cannot be read; the
    /// action then fails and says why).
    pub(crate) fn keys_intent(&self, node: &Node) -> Json {
        match self.staged_files(node) {
            Ok(files) => {
                let listed: Vec<Json> = files.iter().map(|f| json!({"path": f.target, "sha256": f.sha256})).collect();
                json!({"dir": staging_dir(node, &files), "owner": node.key_owner, "group": node.key_group, "files": listed})
            }
            Err(_) => json!({"owner": node.key_owner, "group": node.key_group}),
        }
    }

    /// Installs `node`'s key files and reads them back.
    pub(crate) async fn stage(&self, node: &Node, t: &Transport) -> Result<PhaseResult, TransportError> {
        match self.staged_files(node) {
            Ok(files) => self.install(node, t, &staging_dir(node, &files), &files).await,
            Err(e) => Ok(PhaseResult::Fail(json!({"error": e}))),
        }
    }

    fn staged_files(&self, node: &Node) -> Result<Vec<Staged>, String> {
        let mut out = Vec::new();
        for (source, key) in [(&node.keystore_source, "keystore"), (&node.truststore_source, "truststore")] {
            let Some(source) = source else { continue };
            let target = self.configured_path(node, key).ok_or_else(|| {
                format!("the workflow sets no `{key}` path for `{}`, so there is nowhere to stage `{}`", node.name, source.display())
            })?;
            let bytes = std::fs::read(source)
                .map_err(|e| format!("cannot read `{}` (the {key} source of `{}`): {e}", source.display(), node.name))?;
            out.push(Staged { source: source.clone(), target, sha256: sha256_hex(&bytes), bytes });
        }
        Ok(out)
    }

    async fn install(&self, node: &Node, t: &Transport, dir: &str, files: &[Staged]) -> Result<PhaseResult, TransportError> {
        let (owner, group) = (&node.key_owner, &node.key_group);
        let timeout = self.workflow.command_timeout;
        let mkdir = format!("install -d -o {} -g {} -m 750 {}", quote(owner), quote(group), quote(dir));
        let out = t.run(&mkdir, None, timeout).await?;
        if !out.success() {
            return Ok(PhaseResult::Fail(json!({"error": format!("`{mkdir}` failed on `{}`: {}", node.name, out.stderr_str().trim())})));
        }
        let mut staged = Vec::new();
        for f in files {
            t.write_file_atomic(&f.target, &f.bytes, 0o600).await?;
            let fix = format!("chown {}:{} {p} && chmod 600 {p}", quote(owner), quote(group), p = quote(&f.target));
            let out = t.run(&fix, None, timeout).await?;
            if !out.success() {
                return Ok(PhaseResult::Fail(json!({"error": format!("`{fix}` failed on `{}`: {}", node.name, out.stderr_str().trim())})));
            }
            // Read back what landed: content, owner and mode.
            let stat = t.stat(&f.target).await?;
            let shown = t.run(&format!("stat -c '%U %G %a' {}", quote(&f.target)), None, timeout).await?;
            let meta = shown.stdout_str().trim().to_string();
            let expected = format!("{owner} {group} 600");
            match stat {
                Some(s) if s.sha256 == f.sha256 && meta == expected => {
                    staged.push(json!({"path": f.target, "sha256": s.sha256, "source": f.source.display().to_string(), "owner": owner, "group": group, "mode": "600"}));
                }
                other => {
                    return Ok(PhaseResult::Fail(json!({
                        "error": format!("`{}` on `{}` is not what was staged after the copy (expected sha256 {} and `{expected}`, found {} and `{meta}`)", f.target, node.name, f.sha256, other.map(|s| s.sha256).unwrap_or_else(|| "no file".into())),
                    })));
                }
            }
        }
        Ok(PhaseResult::Ok(json!({"dir": dir, "dir_mode": "750", "files": staged})))
    }
}
