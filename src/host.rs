//! Who and where ringmaster runs: host name, user and group names, for the journal (who
//! ran a run, from where) and for the sandbox (which user owns its key files); and when a
//! process started, so the cluster lock can tell its holder from a reused pid.

use std::ffi::CStr;

/// Returns this machine's host name.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Returns the operator's user name: `$USER`, `$LOGNAME`, else the passwd entry of the uid.
pub fn username() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| user_of_uid())
}

/// Returns the passwd name of the current uid (`uid<N>` when there is none).
pub fn user_of_uid() -> String {
    // SAFETY: getuid never fails; getpwuid returns NULL or a pointer to static storage
    // that stays valid until the next getpw* call, and we copy the name out at once.
    unsafe {
        let uid = libc::getuid();
        let pw = libc::getpwuid(uid);
        if pw.is_null() || (*pw).pw_name.is_null() {
            return format!("uid{uid}");
        }
        CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned()
    }
}

/// Returns the group name of the current gid (`gid<N>` when there is none).
pub fn group_of_gid() -> String {
    // SAFETY: as in `user_of_uid`, for getgrgid.
    unsafe {
        let gid = libc::getgid();
        let gr = libc::getgrgid(gid);
        if gr.is_null() || (*gr).gr_name.is_null() {
            return format!("gid{gid}");
        }
        CStr::from_ptr((*gr).gr_name).to_string_lossy().into_owned()
    }
}

/// Returns the start time of process `pid` (clock ticks since boot, field 22 of
/// `/proc/PID/stat`), or `None` when there is no such process or no `/proc`.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    start_time_from_stat(&stat)
}

/// Reads field 22 of a `/proc/PID/stat` line. The command name (field 2) is in
/// parentheses and may itself hold spaces and `)`, so the fields are counted after the
/// last `)`: field 3 is the first word there, field 22 the twentieth.
fn start_time_from_stat(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_counted_after_the_last_paren() {
        let stat = "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615";
        assert_eq!(start_time_from_stat(stat), Some(987654));
        assert_eq!(start_time_from_stat("4242 (short) S 1"), None);
        assert_eq!(start_time_from_stat("no parens"), None);
    }

    #[test]
    fn this_process_has_a_stable_start_time() {
        let me = std::process::id();
        let t = process_start_time(me).expect("/proc/self/stat");
        assert_eq!(process_start_time(me), Some(t));
        assert_eq!(process_start_time(u32::MAX), None);
    }
}
