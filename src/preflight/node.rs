//! Node checks: the connection (and `sudo -n` where the inventory asks for it),
//! cassandra.yaml present and both passes render with the editor (a dry run), free space
//! for the backup, and no backup left over from something else.

use super::{Context, Report, Severity, render_passes, sh};
use crate::inventory::Node;
use crate::transport::{TransportError, shell_quote};

/// Adds the `ssh` (and `sudo`) rows: the connection was made (or not) before the checks.
pub fn connection(ctx: &Context<'_>, node: &Node, report: &mut Report) {
    let how = match node.transport {
        crate::inventory::TransportKind::Local => "local transport",
        crate::inventory::TransportKind::Ssh => "SSH",
    };
    match ctx.transports.get(&node.name) {
        Some(Ok(_)) => {
            report.node(&node.name, "ssh", Severity::Ok, format!("`{}` is reachable ({how})", node.name));
            if node.sudo {
                report.node(&node.name, "sudo", Severity::Ok, format!("`sudo -n` works on `{}`", node.name));
            }
        }
        Some(Err(e)) if e.is_sudo() => {
            report.node(&node.name, "ssh", Severity::Ok, format!("`{}` is reachable ({how})", node.name));
            report.node(&node.name, "sudo", Severity::Blocker, e.finding());
        }
        Some(Err(e)) => report.node(&node.name, "ssh", Severity::Blocker, e.finding()),
        None => report.node(&node.name, "ssh", Severity::Blocker, format!("no connection to `{}` was attempted (BUG)", node.name)),
    }
}

/// Adds the config, render, backup space and backup rows of `node`.
pub async fn check(ctx: &Context<'_>, node: &Node, report: &mut Report) {
    let Some(t) = ctx.transport(&node.name) else { return };
    let name = &node.name;
    let Ok(link_target) = config_link(node, t, report).await else { return };
    let config = match t.read_file(&node.config_path, 0).await {
        Ok(bytes) => {
            report.node(name, "config", Severity::Ok, format!("`{}` exists on `{name}` ({} bytes)", node.config_path, bytes.len()));
            bytes
        }
        Err(TransportError::NotFound { .. }) => {
            report.node(
                name,
                "config",
                Severity::Blocker,
                format!(
                    "`{}` does not exist on `{name}`: set `config_path` of `{name}` in the inventory to its cassandra.yaml",
                    node.config_path
                ),
            );
            return;
        }
        Err(e) => {
            let what = match &link_target {
                Some(target) => format!("`{target}` (the target of the symlink `{}`)", node.config_path),
                None => format!("`{}`", node.config_path),
            };
            report.node(
                name,
                "config",
                Severity::Blocker,
                format!("cannot read {what} on `{name}`: {e}; give the SSH user read access (or `sudo = true`)"),
            );
            return;
        }
    };
    config_mode(node, t, link_target.as_deref().unwrap_or(&node.config_path), report).await;
    match render_passes(node, &config, ctx.workflow, ctx.secrets) {
        Ok(passes) => report.node(
            name,
            "render",
            Severity::Ok,
            format!(
                "every pass renders on `{name}` ({})",
                passes
                    .iter()
                    .map(|p| format!("{}: {}", p.pass, if p.changed { "changes the block" } else { "no change" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Err(e) => report.node(
            name,
            "render",
            Severity::Blocker,
            format!(
                "the workflow cannot be applied to `{}` on `{name}`: {e}; fix the file (or the workflow) and run preflight again",
                node.config_path
            ),
        ),
    }
    backup_space(ctx, node, t, config.len() as u64, report).await;
    let backup = format!("{}{}", node.config_path, ctx.workflow.backup_suffix);
    match t.stat(&backup).await {
        Ok(None) => report.node(name, "backup_exists", Severity::Ok, format!("no `{backup}` on `{name}` yet")),
        Ok(Some(s)) => report.node(name, "backup_exists", Severity::Blocker, format!(
            "`{backup}` already exists on `{name}` (sha256 {}, {} bytes) and does not belong to this rollout; ringmaster never overwrites a backup: if it belongs to an interrupted run, `ringmaster resume` it; otherwise check it and move it aside (`mv {} {}`)",
            &s.sha256[..16.min(s.sha256.len())],
            s.size,
            shell_quote(&backup),
            shell_quote(&format!("{backup}.old"))
        )),
        Err(e) => report.node(name, "backup_exists", Severity::Blocker, format!("cannot check for `{backup}` on `{name}`: {e}")),
    }
}

/// Adds the `config_link` row when cassandra.yaml is a symlink: an info finding when the
/// link resolves to a file ringmaster will back up and edit in place (the link is kept), a
/// blocker when it dangles or cannot be resolved. Returns the target, or `Err` after a blocker.
async fn config_link(node: &Node, t: &crate::transport::Transport, report: &mut Report) -> Result<Option<String>, ()> {
    let name = &node.name;
    match t.symlink_target(&node.config_path).await {
        Ok(None) => Ok(None),
        // Not there at all: the `config` row says so.
        Err(TransportError::NotFound { path, .. }) if path == node.config_path => Ok(None),
        Ok(Some(target)) => {
            report.node(
                name,
                "config_link",
                Severity::Info,
                format!(
                    "`{}` on `{name}` is a symlink to `{target}`: ringmaster backs up and edits `{target}` and keeps the link",
                    node.config_path
                ),
            );
            Ok(Some(target))
        }
        Err(TransportError::NotFound { path, .. }) => {
            report.node(
                name,
                "config_link",
                Severity::Blocker,
                format!(
                    "`{}` on `{name}` is a symlink to `{path}`, which does not exist: point the link at the node's cassandra.yaml (or set `config_path` of `{name}` to the real file)",
                    node.config_path
                ),
            );
            Err(())
        }
        Err(e) => {
            report.node(
                name,
                "config_link",
                Severity::Blocker,
                format!("cannot resolve the symlink `{}` on `{name}`: {e}; make its target readable (or `sudo = true`)", node.config_path),
            );
            Err(())
        }
    }
}

/// Adds a `config_mode` warning when the file that holds cassandra.yaml (`file`, the link's
/// target for a symlink) is readable by every user: after the edit it holds the keystore and
/// truststore passwords.
async fn config_mode(node: &Node, t: &crate::transport::Transport, file: &str, report: &mut Report) {
    let name = &node.name;
    match t.stat(file).await {
        Ok(Some(st)) if st.mode & 0o004 != 0 => report.node(
            name,
            "config_mode",
            Severity::Warning,
            format!(
                "`{file}` on `{name}` is readable by every user (mode {:03o}) and will hold the keystore and truststore passwords: run `chmod o-r {}` on `{name}`",
                st.mode,
                sh(file)
            ),
        ),
        Ok(Some(st)) => report.node(name, "config_mode", Severity::Ok, format!("`{file}` on `{name}` is not readable by others (mode {:03o})", st.mode)),
        // The `config` row already says what is wrong.
        Ok(None) | Err(_) => {}
    }
}

/// Returns the available bytes from `df -Pk` output (POSIX format: one header line, then
/// filesystem, 1024-blocks, used, available, capacity, mount point).
pub fn parse_df_available(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let available: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(available * 1024)
}

async fn backup_space(ctx: &Context<'_>, node: &Node, t: &crate::transport::Transport, size: u64, report: &mut Report) {
    let name = &node.name;
    let dir = std::path::Path::new(&node.config_path).parent().map(|p| p.display().to_string()).unwrap_or_else(|| "/".into());
    // The backup, plus the temp file of the atomic edit, plus slack for the filesystem.
    let need = size * 2 + 1024 * 1024;
    let out = t.run(&format!("df -Pk {}", sh(&dir)), None, ctx.options.command_timeout).await;
    let available = match &out {
        Ok(o) if o.success() => parse_df_available(&o.stdout_str()),
        _ => None,
    };
    match available {
        None => report.node(
            name,
            "backup_space",
            Severity::Warning,
            format!(
                "cannot tell the free space of `{dir}` on `{name}` (`df -Pk` failed); make sure {} KiB are free for the backup",
                need / 1024
            ),
        ),
        Some(a) if a < need => report.node(
            name,
            "backup_space",
            Severity::Blocker,
            format!(
                "`{dir}` on `{name}` has {} KiB free, the backup and the edit need {} KiB: free some space there",
                a / 1024,
                need / 1024
            ),
        ),
        Some(a) => report.node(name, "backup_space", Severity::Ok, format!("`{dir}` on `{name}` has {} MiB free", a / 1024 / 1024)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn df_available_is_the_fourth_column_in_kib() {
        let out =
            "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/sda1        41152812 20581108  18436888      53% /\n";
        assert_eq!(super::parse_df_available(out), Some(18_436_888 * 1024));
        assert_eq!(super::parse_df_available("df: no such file\n"), None);
    }
}
