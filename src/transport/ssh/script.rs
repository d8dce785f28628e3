//! The remote side of the SSH transport, as text: shell quoting, the wrapper every remote
//! command goes through, and the small POSIX `sh` scripts behind the file operations.
//!
//! Kept pure (strings in, strings out) so the quoting and the scripts are unit-tested
//! without a network. The scripts need GNU coreutils on the node (`mktemp`, `stat -c`,
//! `chown --reference`, `ln -T`, `mv -T`, `sync FILE`, `timeout`), which every Linux
//! distribution Cassandra runs on ships. File contents only ever travel over stdin: the
//! command line carries paths, sizes and modes, never data.

use std::time::Duration;

use crate::transport::shell_quote;

/// Exit code our scripts use for "the target path does not exist".
pub const EXIT_NOT_FOUND: i32 = 3;
/// Exit code for "the target already exists" (create-new refused).
pub const EXIT_EXISTS: i32 = 4;
/// Exit code for "the `like` reference file does not exist".
pub const EXIT_LIKE_NOT_FOUND: i32 = 6;
/// Exit code for "stdin ended before all the content arrived" (connection dropped mid-write).
pub const EXIT_SHORT_WRITE: i32 = 7;

/// Extra seconds the remote `timeout` waits beyond the local deadline, so the local timer
/// always fires first and the remote one only cleans up a command nobody waits for.
const REMOTE_TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// Builds the command line the ssh server runs for `script`.
///
/// The login shell of the remote user only sees `env LC_ALL=C [sudo -n] timeout ... sh -c
/// '<script>'`, which every shell parses the same way, so the script always runs under
/// `sh` whatever the user's shell is. `LC_ALL=C` keeps the messages we recognise (sudo,
/// coreutils) in English. The remote `timeout` kills the whole process group a little after
/// the local deadline, so a command that timed out does not linger on the node.
pub fn wrap(script: &str, sudo: bool, timeout: Duration) -> String {
    let remote = timeout.saturating_add(REMOTE_TIMEOUT_GRACE);
    format!(
        "env LC_ALL=C {}timeout -k 2 {}.{:03} sh -c {}",
        if sudo { "sudo -n " } else { "" },
        remote.as_secs(),
        remote.subsec_millis(),
        shell_quote(script)
    )
}

/// Splits `path` into its directory (`.` for a bare name) and file name.
fn split(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), path.into()),
    }
}

/// The shared head of the write scripts: a temp file next to the target, filled from stdin
/// and checked for length (a dropped connection ends stdin early; renaming a truncated file
/// into place would be the worst outcome), removed on any exit that did not move it.
fn upload_to_temp(path: &str, size: usize) -> String {
    let (dir, name) = split(path);
    format!(
        "set -e\n\
         p={p}\n\
         d={d}\n\
         t=$(mktemp -- \"$d/\"{tmpl})\n\
         trap 'rm -f -- \"$t\"' EXIT\n\
         cat > \"$t\"\n\
         s=$(wc -c < \"$t\")\n\
         if [ \"$s\" -ne {size} ]; then echo \"received $s of {size} bytes\" >&2; exit {short}; fi\n",
        p = shell_quote(path),
        d = shell_quote(&dir),
        tmpl = shell_quote(&format!("{}{}-XXXXXX.tmp", crate::transport::temp_file_prefix(&name), std::process::id())),
        short = EXIT_SHORT_WRITE,
    )
}

/// Script for `read_file`: the bytes of `path` from `offset` on (`tail -c +N` is 1-based).
pub fn read_file(path: &str, offset: u64) -> String {
    format!(
        "p={p}\n[ -e \"$p\" ] || exit {nf}\nexec tail -c +{n} -- \"$p\"\n",
        p = shell_quote(path),
        nf = EXIT_NOT_FOUND,
        n = offset.saturating_add(1),
    )
}

/// Script for `write_file_atomic`: temp file, owner/group/mode copied from the file it
/// replaces (or `mode` for a new file), fsync, rename over the target, fsync the directory.
///
/// `chown` runs before `chmod` because chown clears setuid/setgid bits.
pub fn write_file_atomic(path: &str, size: usize, mode: u32) -> String {
    format!(
        "{head}\
         if [ -e \"$p\" ]; then\n\
         \x20 chown --reference=\"$p\" -- \"$t\"\n\
         \x20 chmod --reference=\"$p\" -- \"$t\"\n\
         else\n\
         \x20 chmod {mode:o} -- \"$t\"\n\
         fi\n\
         sync -- \"$t\"\n\
         mv -fT -- \"$t\" \"$p\"\n\
         sync -- \"$d\"\n",
        head = upload_to_temp(path, size),
        mode = mode & 0o7777,
    )
}

/// Script for `create_file_new`: temp file (owner/group/mode from `like` when given), fsync,
/// then `ln -T` onto the target. link(2) never replaces an existing name, so the target
/// appears whole or not at all and an existing file is left untouched.
pub fn create_file_new(path: &str, size: usize, like: Option<&str>) -> String {
    let (check_like, copy_like) = match like {
        Some(l) => (
            format!("l={}\n[ -e \"$l\" ] || exit {}\n", shell_quote(l), EXIT_LIKE_NOT_FOUND),
            "chown --reference=\"$l\" -- \"$t\"\nchmod --reference=\"$l\" -- \"$t\"\n".to_string(),
        ),
        None => (String::new(), String::new()),
    };
    // Fails early (before the upload) in the common case; `ln` is the real guard.
    let exists_check = format!("if [ -e {p} ] || [ -L {p} ]; then exit {ex}; fi\n", p = shell_quote(path), ex = EXIT_EXISTS);
    format!(
        "{check_like}\
         {exists_check}\
         {head}\
         {copy_like}\
         sync -- \"$t\"\n\
         if ! ln -T -- \"$t\" \"$p\"; then\n\
         \x20 if [ -e \"$p\" ] || [ -L \"$p\" ]; then exit {ex}; fi\n\
         \x20 exit 1\n\
         fi\n\
         rm -f -- \"$t\"\n\
         sync -- \"$d\"\n",
        head = upload_to_temp(path, size),
        ex = EXIT_EXISTS,
    )
}

/// Script for `stat`: `uid gid mode size` (mode in octal) on one line, then the SHA-256 line
/// of `sha256sum`. Exits [`EXIT_NOT_FOUND`] when the path does not exist (symlinks followed).
pub fn stat(path: &str) -> String {
    format!(
        "set -e\np={p}\n[ -e \"$p\" ] || exit {nf}\nstat -L -c '%u %g %a %s' -- \"$p\"\nsha256sum < \"$p\"\n",
        p = shell_quote(path),
        nf = EXIT_NOT_FOUND,
    )
}

/// Script for `symlink_target`: nothing when `path` is not a symlink; else `link`, NUL, the
/// fully resolved target (`readlink -f`), NUL. Exits [`EXIT_NOT_FOUND`] when `path` does not
/// exist or the link dangles (the target is still printed then).
pub fn symlink_target(path: &str) -> String {
    format!(
        "p={p}\n\
         if [ ! -L \"$p\" ]; then [ -e \"$p\" ] || exit {nf}; exit 0; fi\n\
         printf 'link\\0'\n\
         readlink -f -z -- \"$p\" || exit {nf}\n\
         [ -e \"$p\" ] || exit {nf}\n",
        p = shell_quote(path),
        nf = EXIT_NOT_FOUND,
    )
}

/// Parses the output of the [`symlink_target`] script: the target, when `path` is a link.
pub fn parse_symlink_target(stdout: &[u8]) -> Option<String> {
    let rest = stdout.strip_prefix(b"link\0")?;
    let target = rest.strip_suffix(b"\0").unwrap_or(rest);
    (!target.is_empty()).then(|| String::from_utf8_lossy(target).into_owned())
}

/// Script for `list_temp_files`: the hidden `*.tmp` entries of `dir`, NUL-terminated.
pub fn list_temp_files(dir: &str) -> String {
    format!("d={d}\n[ -d \"$d\" ] || exit 0\nexec find \"$d\" -mindepth 1 -maxdepth 1 -name '.*.tmp' -print0\n", d = shell_quote(dir))
}

/// Script for `remove_files`: `rm -f` of every path.
pub fn remove_files(paths: &[String]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
    format!("exec rm -f -- {}\n", quoted.join(" "))
}

/// Parses the output of the [`stat`] script into `(uid, gid, mode, size, sha256)`.
pub fn parse_stat(stdout: &str) -> Option<(u32, u32, u32, u64, String)> {
    let mut lines = stdout.lines();
    let mut fields = lines.next()?.split_whitespace();
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    let mode = u32::from_str_radix(fields.next()?, 8).ok()?;
    let size = fields.next()?.parse().ok()?;
    let hash = lines.next()?.split_whitespace().next()?;
    let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| (uid, gid, mode, size, hash.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::quote::tests::sh;
    use std::process::Command;

    #[test]
    fn wrapped_script_runs_under_sh_with_its_quotes_intact() {
        let script = "printf '%s|' \"it's\" \"$0\"";
        let got = sh(&wrap(script, false, Duration::from_secs(5)));
        assert_eq!(String::from_utf8_lossy(&got), "it's|sh|");
    }

    #[test]
    fn wrap_puts_sudo_before_timeout_and_adds_the_grace() {
        let w = wrap("true", true, Duration::from_millis(1500));
        assert_eq!(w, "env LC_ALL=C sudo -n timeout -k 2 3.500 sh -c true");
    }

    #[test]
    fn split_handles_root_relative_and_nested() {
        assert_eq!(split("/a"), ("/".into(), "a".into()));
        assert_eq!(split("a"), (".".into(), "a".into()));
        assert_eq!(split("/x/y/z.yaml"), ("/x/y".into(), "z.yaml".into()));
    }

    #[test]
    fn parse_stat_reads_octal_mode_and_hash() {
        let out = "0 999 640 12\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -\n";
        let (uid, gid, mode, size, hash) = parse_stat(out).expect("parses");
        assert_eq!((uid, gid, mode, size), (0, 999, 0o640, 12));
        assert_eq!(hash, crate::transport::sha256_hex(b""));
        assert!(parse_stat("0 0 640\nabc  -\n").is_none());
        assert!(parse_stat("0 0 640 1\nnot-a-hash  -\n").is_none());
    }

    /// The file scripts, run locally against a temp dir: the same text the node runs.
    fn run_script(script: &str, stdin: &[u8]) -> std::process::Output {
        use std::io::Write;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let mut pipe = child.stdin.take().expect("piped");
        // The script may exit before reading stdin (create-new refusal): ignore EPIPE.
        let _ = pipe.write_all(stdin);
        drop(pipe);
        child.wait_with_output().expect("wait sh")
    }

    #[test]
    fn scripts_write_create_read_and_stat_locally() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("it's a file").to_string_lossy().into_owned();
        let out = run_script(&write_file_atomic(&p, 5, 0o640), b"hello");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run_script(&stat(&p), b"");
        let (_, _, mode, size, hash) = parse_stat(&String::from_utf8_lossy(&out.stdout)).expect("stat");
        assert_eq!((mode, size, hash), (0o640, 5, crate::transport::sha256_hex(b"hello")));
        assert_eq!(run_script(&read_file(&p, 2), b"").stdout, b"llo");
        assert_eq!(run_script(&create_file_new(&p, 1, None), b"x").status.code(), Some(EXIT_EXISTS));
        let out = run_script(&write_file_atomic(&p, 10, 0o600), b"short");
        assert_eq!(out.status.code(), Some(EXIT_SHORT_WRITE));
        assert_eq!(std::fs::read(&p).expect("read"), b"hello");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names.len(), 1, "temp files left behind: {names:?}");
        // The temp files' listing and removal.
        let stale = dir.path().join(".it's a file.ringmaster-1-abc.tmp").to_string_lossy().into_owned();
        std::fs::write(&stale, b"x").expect("write");
        let out = run_script(&list_temp_files(&dir.path().to_string_lossy()), b"");
        assert_eq!(out.stdout, format!("{stale}\0").into_bytes());
        assert!(run_script(&remove_files(std::slice::from_ref(&stale)), b"").status.success());
        assert!(!std::path::Path::new(&stale).exists());
    }

    #[test]
    fn symlink_script_tells_files_links_and_dangling_links_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real\nname.yaml");
        std::fs::write(&real, "x").expect("write");
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let dangling = dir.path().join("dangling.yaml");
        std::os::unix::fs::symlink(dir.path().join("gone"), &dangling).expect("symlink");
        let run = |p: &std::path::Path| run_script(&symlink_target(&p.to_string_lossy()), b"");
        let out = run(&real);
        assert_eq!((out.status.code(), parse_symlink_target(&out.stdout)), (Some(0), None));
        let out = run(&link);
        let canonical = std::fs::canonicalize(&real).expect("canonical").to_string_lossy().into_owned();
        assert_eq!((out.status.code(), parse_symlink_target(&out.stdout)), (Some(0), Some(canonical)));
        let out = run(&dangling);
        assert_eq!(out.status.code(), Some(EXIT_NOT_FOUND));
        assert!(parse_symlink_target(&out.stdout).is_some_and(|t| t.ends_with("/gone")));
        assert_eq!(run(&dir.path().join("nothing")).status.code(), Some(EXIT_NOT_FOUND));
    }
}
