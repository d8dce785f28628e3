//! Turns what `ssh` and `sudo` print into [`TransportError`] variants an operator can act on.
//!
//! OpenSSH reports failures only as text on stderr (the `openssh` crate hands us the master's
//! log verbatim), so this is pattern matching on its stable English messages. Kept pure and
//! unit-tested against messages captured from OpenSSH 9.2 and sudo 1.9.

use crate::transport::TransportError;

/// Classifies the log of a master connection that failed to start.
///
/// `known_hosts` is the file we told ssh to use, if any; it is only a fallback for the fix
/// command, because ssh names the offending file itself when a key changed.
pub fn classify_connect(host: &str, known_hosts: Option<&str>, log: &str) -> TransportError {
    let log = log.trim();
    let host = host.to_string();
    if log.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || log.contains("has changed and you have requested strict checking") {
        return TransportError::HostKeyChanged { host: host.clone(), detail: host_key_changed_detail(&host, known_hosts, log) };
    }
    if log.contains("Host key verification failed") {
        let what = line_with(log, "host key is known for").unwrap_or("the server's host key is not in known_hosts");
        let file = known_hosts.map_or("the known_hosts file ssh uses".to_string(), |f| format!("`{f}`"));
        return TransportError::HostKeyUnknown {
            host,
            detail: format!(
                "{what}; verify the key out of band and add it to {file} (e.g. `ssh-keyscan`), \
                 or opt in to accept-new host keys"
            ),
        };
    }
    if let Some(line) = line_with(log, "Permission denied (") {
        return TransportError::PermissionDenied {
            host,
            detail: format!("{line}; check the key (IdentityFile, ssh-agent) and the remote user"),
        };
    }
    let unreachable = [
        "Connection refused",
        "No route to host",
        "Network is unreachable",
        "Connection timed out",
        "Operation timed out",
        "timed out",
        "Could not resolve hostname",
        "Name or service not known",
        "Connection closed by",
        "Connection reset",
    ];
    let detail = last_meaningful_line(log).unwrap_or("ssh exited without a message").to_string();
    if unreachable.iter().any(|p| log.contains(p)) {
        return TransportError::Unreachable { host, detail };
    }
    TransportError::Unreachable { host, detail: format!("ssh failed: {detail}") }
}

/// Builds the detail of a changed host key: the fingerprint the server sent, the offending
/// known_hosts line, and the exact command that removes the stale key.
fn host_key_changed_detail(host: &str, known_hosts: Option<&str>, log: &str) -> String {
    let mut lines = log.lines().map(str::trim);
    let fingerprint =
        lines.by_ref().skip_while(|l| !l.starts_with("The fingerprint for the")).nth(1).map(|l| l.trim_end_matches('.').to_string());
    let offending = line_with(log, "Offending ").map(str::to_string);
    let fix = log
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("ssh-keygen "))
        .map(str::to_string)
        .unwrap_or_else(|| format!("ssh-keygen -f {} -R {}", known_hosts.unwrap_or("~/.ssh/known_hosts"), host));
    let mut parts = Vec::new();
    if let Some(fp) = fingerprint {
        parts.push(format!("the server sent {fp}"));
    }
    if let Some(o) = offending {
        parts.push(o);
    }
    parts.push(format!(
        "if the key change of `{host}` is expected, remove the old key with `{fix}` and reconnect; \
         otherwise treat it as a possible man-in-the-middle"
    ));
    parts.join("; ")
}

/// Returns the first trimmed line of `text` containing `needle`.
fn line_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.lines().map(str::trim).find(|l| l.contains(needle))
}

/// Returns the last non-empty line that is not a banner of `@` signs.
fn last_meaningful_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rev().find(|l| !l.is_empty() && !l.starts_with('@'))
}

/// What a `sudo -n` failure means, when `stderr` comes from sudo itself.
pub fn classify_sudo(host: &str, status: Option<i32>, stderr: &str) -> Option<TransportError> {
    if status != Some(1) {
        return None;
    }
    let sudo_line = stderr.lines().map(str::trim).find(|l| l.starts_with("sudo: "))?;
    if sudo_line.contains("a password is required") || sudo_line.contains("a terminal is required") {
        return Some(TransportError::SudoNeedsPassword { host: host.to_string() });
    }
    let denied = ["is not in the sudoers file", "is not allowed to", "you must have a tty", "not allowed to execute"];
    denied.iter().any(|d| sudo_line.contains(d)).then(|| TransportError::PermissionDenied {
        host: host.to_string(),
        detail: format!("`{sudo_line}`; ringmaster needs passwordless `sudo -n` for this user"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANGED: &str = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:hC10jcGBj/UoyeC4TRdm9JcJfyXCI3ylODdRifm/qq8.
Please contact your system administrator.
Add correct host key in /tmp/wrongkh to get rid of this message.
Offending ED25519 key in /tmp/wrongkh:1
  remove with:
  ssh-keygen -f \"/tmp/wrongkh\" -R \"[127.0.0.11]:2222\"
Host key for [127.0.0.11]:2222 has changed and you have requested strict checking.
Host key verification failed.";

    #[test]
    fn changed_key_names_host_fingerprint_and_fix() {
        let e = classify_connect("node1", None, CHANGED);
        let TransportError::HostKeyChanged { host, detail } = &e else { panic!("got {e:?}") };
        assert_eq!(host, "node1");
        assert!(detail.contains("SHA256:hC10jcGBj/UoyeC4TRdm9JcJfyXCI3ylODdRifm/qq8"), "{detail}");
        assert!(detail.contains("Offending ED25519 key in /tmp/wrongkh:1"), "{detail}");
        assert!(detail.contains("ssh-keygen -f \"/tmp/wrongkh\" -R \"[127.0.0.11]:2222\""), "{detail}");
        assert!(e.to_string().contains("`node1`"));
    }

    #[test]
    fn unknown_key_is_not_called_changed() {
        let log =
            "No ED25519 host key is known for [127.0.0.11]:2222 and you have requested strict checking.\nHost key verification failed.";
        let e = classify_connect("node1", Some("/kh"), log);
        let TransportError::HostKeyUnknown { detail, .. } = &e else { panic!("got {e:?}") };
        assert!(detail.contains("No ED25519 host key is known for [127.0.0.11]:2222"), "{detail}");
        assert!(detail.contains("`/kh`"), "{detail}");
    }

    #[test]
    fn publickey_refusal_is_permission_denied() {
        let e = classify_connect("node1", None, "root@127.0.0.11: Permission denied (publickey).");
        assert!(matches!(e, TransportError::PermissionDenied { .. }), "{e:?}");
    }

    #[test]
    fn network_failures_are_unreachable_with_ssh_line() {
        for log in [
            "ssh: connect to host 127.0.0.99 port 2222: Connection refused",
            "ssh: connect to host 10.1.1.1 port 22: Connection timed out",
            "ssh: Could not resolve hostname nope: Name or service not known",
            "ssh: connect to host 10.0.0.1 port 22: No route to host",
        ] {
            let e = classify_connect("n", None, log);
            let TransportError::Unreachable { detail, .. } = &e else { panic!("{log}: {e:?}") };
            assert_eq!(detail, log);
        }
    }

    #[test]
    fn sudo_password_prompt_is_recognised_only_from_sudo() {
        let e = classify_sudo("n", Some(1), "sudo: a password is required\n");
        assert!(matches!(e, Some(TransportError::SudoNeedsPassword { .. })), "{e:?}");
        assert!(classify_sudo("n", Some(1), "grep: a password is required\n").is_none());
        assert!(classify_sudo("n", Some(0), "sudo: a password is required\n").is_none());
        let e = classify_sudo("n", Some(1), "sudo: alice is not in the sudoers file.\n");
        assert!(matches!(e, Some(TransportError::PermissionDenied { .. })), "{e:?}");
    }
}
