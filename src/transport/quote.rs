//! Quoting for a POSIX shell: the one `shell_quote` of the house. Every value that becomes
//! part of a command line (paths in the SSH file scripts, template values in the
//! inventory's commands, paths in preflight and `stage_keys` checks) goes through it.

/// Quotes `s` as one word for a POSIX shell.
///
/// Plain words made only of characters no shell treats specially stay as they are (for
/// readable logs); anything else is put in single quotes, where nothing is special except
/// the quote itself, written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::process::Command;

    /// Runs `script` through the local `sh -c` and returns stdout, to check the quoting
    /// against a real shell rather than against our own idea of it.
    pub(crate) fn sh(script: &str) -> Vec<u8> {
        let out = Command::new("sh").arg("-c").arg(script).output().expect("run sh");
        assert!(out.status.success(), "sh failed: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(shell_quote("/etc/cassandra/cassandra.yaml"), "/etc/cassandra/cassandra.yaml");
        assert_eq!(shell_quote("a-b_c.d"), "a-b_c.d");
    }

    #[test]
    fn special_words_are_single_quoted() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("~"), "'~'");
    }

    #[test]
    fn quoted_words_survive_a_real_shell() {
        for word in ["", "it's", "a\nb", "$(rm -rf /)", "`id`", "\\", "*", "a'\"b", "-n", "~root", "é ü"] {
            let got = sh(&format!("printf %s {}", shell_quote(word)));
            assert_eq!(got, word.as_bytes(), "word {word:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_round_trips_through_sh(word in "[^\\x00]{0,40}") {
            let got = sh(&format!("printf %s {}", shell_quote(&word)));
            prop_assert_eq!(got, word.as_bytes().to_vec());
        }
    }
}
