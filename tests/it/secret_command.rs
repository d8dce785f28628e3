//! `secret_command`: passwords from the operator's secret manager (issue 20, [operator]),
//! run once per secret name, as argv without a shell, never shown, never given the
//! environment's secrets.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::run;
use crate::support::sandbox::Sandbox;

/// Writes an executable stub secret manager into `dir`: it logs each call (its arguments and
/// whether any RINGMASTER_SECRET_ variable reached it) to `calls.log`, prints the password
/// of `keystore_password`/`truststore_password` from `vault.txt` (`NAME=VALUE` lines), and
/// fails for any other name, printing a decoy "secret" to both streams.
fn stub(dir: &Path) -> PathBuf {
    let path = dir.join("fake-vault");
    let log = dir.join("calls.log");
    let vault = dir.join("vault.txt");
    let script = format!(
        "#!/bin/sh\nleak=$(env | grep -c '^RINGMASTER_SECRET_')\necho \"$* leak=$leak\" >> '{}'\n\
         value=$(grep \"^$2=\" '{}' | cut -d= -f2-)\n\
         if [ -z \"$value\" ]; then echo 'DECOY-OUTPUT-hunter2'; echo 'DECOY-ERR-hunter2' >&2; exit 7; fi\n\
         printf '%s\\n' \"$value\"\n",
        log.display(),
        vault.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Moves the sandbox's passwords from its secrets file into the stub's vault and names the
/// stub as the inventory's `secret_command`.
fn passwords_to_vault(sb: &Sandbox, stub: &Path) {
    let (ks, ts) = sb.store_passwords();
    std::fs::write(stub.with_file_name("vault.txt"), format!("keystore_password={ks}\ntruststore_password={ts}\n")).unwrap();
    std::fs::write(sb.path().join("secrets.toml"), "# the passwords come from the secret manager\n").unwrap();
    let inventory = std::fs::read_to_string(sb.inventory()).unwrap();
    let command = format!("secret_command = [\"{}\", \"get\", \"{{name}}\"]\n", stub.display());
    let with = inventory.replacen("secrets = ", &format!("{command}secrets = "), 1);
    assert_ne!(with, inventory);
    std::fs::write(sb.inventory(), with).unwrap();
}

fn calls(stub: &Path) -> Vec<String> {
    std::fs::read_to_string(stub.with_file_name("calls.log")).unwrap_or_default().lines().map(str::to_string).collect()
}

#[test]
fn operator_secret_command_gives_the_passwords_of_a_whole_rollout_once_per_name() {
    let sb = Sandbox::new(3, "0s");
    let tools = tempfile::tempdir().unwrap();
    let stub = stub(tools.path());
    let originals = sb.read_configs();
    let (ks, ts) = sb.store_passwords();
    passwords_to_vault(&sb, &stub);
    let out = run(sb.cmd(&["run", "--yes", "-i"]).arg(sb.inventory()).env("RINGMASTER_SECRET_UNRELATED", "not-for-children"));
    assert_eq!(out.status.code(), Some(0), "the rollout finishes with passwords from the secret command");
    for (i, node) in sb.nodes.iter().enumerate() {
        let block = sb.server_encryption(node);
        assert_eq!(block["optional"], false, "{node} is enforced");
        assert_eq!(block["keystore_password"], ks.as_str(), "{node} got the manager's keystore password");
        assert!(std::fs::read(sb.backup(node)).unwrap() == originals[i], "backup of {node} is the original");
    }
    // Once per name for the whole run, with the name substituted, and no secret variable
    // of ringmaster's environment reached the command.
    let mut seen = calls(&stub);
    seen.sort();
    assert_eq!(seen, ["get keystore_password leak=0", "get truststore_password leak=0"]);
    // The values reached the nodes, and neither the journal nor the output holds them.
    let journal = std::fs::read(sb.journal()).unwrap();
    for secret in [&ks, &ts] {
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(!text.contains(secret.as_str()), "the output never shows a password");
        assert!(!journal.windows(secret.len()).any(|w| w == secret.as_bytes()), "the journal never holds a password");
    }
}

#[test]
fn operator_secret_command_the_secrets_file_and_environment_win_and_a_failure_names_the_command_not_its_output() {
    let sb = Sandbox::new(3, "0s");
    let tools = tempfile::tempdir().unwrap();
    let stub = stub(tools.path());
    let (ks, _) = sb.store_passwords();
    passwords_to_vault(&sb, &stub);
    // The environment gives one name: the command is asked only for the other.
    std::fs::write(stub.with_file_name("vault.txt"), format!("keystore_password={ks}\n")).unwrap();
    let out = run(sb.cmd(&["preflight", "-i"]).arg(sb.inventory()).env("RINGMASTER_SECRET_TRUSTSTORE_PASSWORD", "from-the-environment"));
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("secret command"), "no secret command failure: {text}");
    assert_eq!(calls(&stub), ["get keystore_password leak=0"], "the environment's name is not asked for");
    // A name the manager does not know: exit 2, the command named, its output not shown.
    let out = run(sb.cmd(&["preflight", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the secret command") && err.contains("get truststore_password"), "{err}");
    assert!(err.contains("exited with status 7"), "{err}");
    assert!(!err.contains("DECOY") && !String::from_utf8_lossy(&out.stdout).contains("DECOY"), "its output is never shown: {err}");
}

#[test]
fn operator_secret_command_that_is_not_an_argv_is_refused_at_load_with_the_file() {
    let sb = Sandbox::new(1, "0s");
    let inventory = std::fs::read_to_string(sb.inventory()).unwrap();
    std::fs::write(sb.inventory(), inventory.replacen("secrets = ", "secret_command = []\nsecrets = ", 1)).unwrap();
    let out = run(sb.cmd(&["preflight", "-i"]).arg(sb.inventory()));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cluster.toml") && err.contains("`secret_command` is empty"), "{err}");
}
