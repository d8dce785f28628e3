//! Who and where ringmaster runs: host name, user and group names, for the journal (who
//! ran a run, from where) and for the sandbox (which user owns its key files).

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
