//! Property test of the editor over generated `server_encryption_options` blocks: any key
//! order, 2- or 4-space indentation, live keys in any quoting with or without inline comments,
//! commented templates (`# key:` and `#key:`), prose and column-0 comments, nested keys, blank
//! lines, LF or CRLF, block in the middle or at the end (with or without a final newline), and
//! passwords and paths drawn from printable ASCII and Unicode. For every case: the bytes
//! outside the block never change, the re-parse holds the targets, both passes are
//! idempotent, and the enforce pass changes only `optional`.

use crate::support::yaml::file_key;
use proptest::prelude::*;
use ringmaster::cassandra::yaml::{EditOptions, Release, Setting, edit_server_encryption, read_server_encryption};

const KEYS: [&str; 10] = [
    "internode_encryption",
    "optional",
    "legacy_ssl_storage_port_enabled",
    "keystore",
    "keystore_password",
    "truststore",
    "truststore_password",
    "require_client_auth",
    "require_endpoint_verification",
    "store_type",
];

/// Old values a stock or hand-edited file may hold, per key (raw YAML text).
fn old_values(key: &str) -> &'static [&'static str] {
    match key {
        "internode_encryption" => &["none", "\"none\"", "'dc'", "all"],
        "optional" | "legacy_ssl_storage_port_enabled" => &["false", "true", "False", "yes"],
        "keystore" | "truststore" => &["conf/.keystore", "'conf/.truststore'", "\"/old/store.jks\""],
        "keystore_password" | "truststore_password" => &["cassandra", "\"cass\\\"andra\"", "'it''s'"],
        "require_client_auth" | "require_endpoint_verification" => &["false", "true", "no", "ON"],
        _ => &["JKS", "\"PKCS12\"", "PKCS12"],
    }
}

#[derive(Debug, Clone)]
enum State {
    Absent,
    /// Live with old value number `form`, and an inline comment after `spaces` blanks.
    Live {
        form: usize,
        comment: Option<usize>,
    },
    /// Commented template, `# key: v` or `#key: v`.
    Template {
        no_space: bool,
    },
}

fn state() -> impl Strategy<Value = State> {
    prop_oneof![
        Just(State::Absent),
        (0usize..4, prop::option::of(1usize..4)).prop_map(|(form, comment)| State::Live { form, comment }),
        any::<bool>().prop_map(|no_space| State::Template { no_space }),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    indent: usize,
    v41: bool,
    states: Vec<State>,
    order: Vec<usize>,
    extras: Vec<u8>,
    crlf: bool,
    at_end: bool,
    final_newline: bool,
    keystore_password: String,
    truststore_password: String,
    keystore: String,
}

fn secret() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,16}", "\\PC{0,8}"]
}

fn case() -> impl Strategy<Value = Case> {
    (
        (prop::sample::select(vec![2usize, 4]), any::<bool>()),
        prop::collection::vec(state(), KEYS.len()),
        Just((0..KEYS.len()).collect::<Vec<_>>()).prop_shuffle(),
        prop::collection::vec(0u8..6, KEYS.len() + 1),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (secret(), secret(), "/[a-z0-9 ._#:'\"-]{1,20}"),
    )
        .prop_map(|((indent, v41), states, order, extras, (crlf, at_end, final_newline), (kp, tp, ks))| Case {
            indent,
            v41,
            states,
            order,
            extras,
            crlf,
            at_end,
            final_newline,
            keystore_password: kp,
            truststore_password: tp,
            keystore: ks,
        })
}

impl Case {
    fn release(&self) -> Release {
        if self.v41 { Release::V4_1Plus } else { Release::V4_0 }
    }

    fn settings(&self, optional: bool) -> Vec<Setting> {
        vec![
            Setting::new("internode_encryption", "all"),
            Setting::new("optional", optional),
            Setting::new("legacy_ssl_storage_port_enabled", false),
            Setting::new("keystore", self.keystore.as_str()),
            Setting::secret("keystore_password", self.keystore_password.as_str()),
            Setting::new("truststore", "/etc/cassandra/ssl/cassandra-truststore.p12"),
            Setting::secret("truststore_password", self.truststore_password.as_str()),
            Setting::new("require_client_auth", true),
            Setting::new("require_endpoint_verification", false),
            Setting::new("store_type", "PKCS12"),
        ]
    }

    /// Returns (prefix, block, suffix) with `\n` line endings.
    fn render(&self) -> (String, String, String) {
        let pad = " ".repeat(self.indent);
        let prefix = "cluster_name: 'Test Cluster'\nnum_tokens: 16\n\n# Configure server-to-server internode encryption\n#\n".to_owned();
        let mut block = "server_encryption_options:\n".to_owned();
        let extra = |block: &mut String, kind: u8, n: usize| match kind {
            1 => block.push_str(&format!("{pad}# prose about the next key: it matters\n")),
            2 => block.push_str("#  outbound_keystore: conf/.keystore\n"),
            3 => block.push('\n'),
            4 => block.push_str(&format!("{pad}nested_{n}:\n{pad}{pad}class_name: org.example.F{n} # nested\n")),
            5 => block.push_str(&format!("{pad}# cipher_suites: [\n{pad}#   TLS_A, TLS_B\n{pad}# ]\n")),
            _ => {}
        };
        extra(&mut block, self.extras[KEYS.len()], KEYS.len());
        for &k in &self.order {
            let name = file_key(KEYS[k], self.release());
            match &self.states[k] {
                State::Absent => {}
                State::Live { form, comment } => {
                    let values = old_values(KEYS[k]);
                    let v = values[form % values.len()];
                    let c = comment.map(|s| format!("{}# was {k}", " ".repeat(s))).unwrap_or_default();
                    block.push_str(&format!("{pad}{name}: {v}{c}\n"));
                }
                State::Template { no_space } => {
                    let hash = if *no_space { "#" } else { "# " };
                    block.push_str(&format!("{pad}{hash}{name}: {}\n", old_values(KEYS[k])[0]));
                }
            }
            extra(&mut block, self.extras[k], k);
        }
        let suffix = if self.at_end {
            String::new()
        } else {
            "\n# Configure client-to-server encryption.\nclient_encryption_options:\n  enabled: false\n  # optional: true\n".to_owned()
        };
        (prefix, block, suffix)
    }

    /// Returns the file bytes and the lengths of prefix and suffix in them.
    fn file(&self) -> (Vec<u8>, usize, usize) {
        let (prefix, block, suffix) = self.render();
        let mut text = format!("{prefix}{block}{suffix}");
        if !self.final_newline {
            text.pop();
        }
        let eol = |s: &str| {
            if self.crlf { s.replace('\n', "\r\n") } else { s.to_owned() }
        };
        let (p, s) = (eol(&prefix).len(), if self.at_end { 0 } else { eol(&suffix).len() - usize::from(!self.final_newline) });
        (eol(&text).into_bytes(), p, s)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn outside_bytes_never_change_and_the_reparse_holds(case in case()) {
        let (input, prefix_len, suffix_len) = case.file();
        let release = case.release();
        let opts = EditOptions { release: Some(release) };
        let before = read_server_encryption("gen.yaml", &input).expect("generated input reads");
        for optional in [true, false] {
            let settings = case.settings(optional);
            let out = edit_server_encryption("gen.yaml", &input, &settings, &opts).expect("edit");
            prop_assert_eq!(&out.bytes[..prefix_len], &input[..prefix_len], "prefix changed");
            prop_assert_eq!(&out.bytes[out.bytes.len() - suffix_len..], &input[input.len() - suffix_len..], "suffix changed");
            prop_assert_eq!(out.bytes.ends_with(b"\n"), input.ends_with(b"\n"), "final newline state changed");
            if case.crlf {
                let t = String::from_utf8(out.bytes.clone()).expect("utf-8");
                prop_assert_eq!(t.matches('\n').count(), t.matches("\r\n").count(), "bare LF written");
            }
            let mut expected = before.clone();
            for s in &settings {
                expected.insert(file_key(&s.key, release).to_owned(), s.value.to_json());
            }
            let after = read_server_encryption("gen.yaml", &out.bytes).expect("output reads");
            prop_assert_eq!(after, expected);

            let again = edit_server_encryption("gen.yaml", &out.bytes, &settings, &opts).expect("again");
            prop_assert!(!again.changed, "not idempotent");
            if optional {
                let enforced = edit_server_encryption("gen.yaml", &out.bytes, &case.settings(false), &opts).expect("enforce");
                let old = String::from_utf8(out.bytes.clone()).expect("utf-8");
                let new = String::from_utf8(enforced.bytes).expect("utf-8");
                let diff: Vec<_> = old.split('\n').zip(new.split('\n')).filter(|(a, b)| a != b).collect();
                prop_assert_eq!(old.split('\n').count(), new.split('\n').count());
                prop_assert_eq!(diff.len(), 1);
                prop_assert!(diff[0].0.trim_start().starts_with("optional: true"));
                prop_assert!(diff[0].1.trim_start().starts_with("optional: false"));
            }
        }
    }
}
