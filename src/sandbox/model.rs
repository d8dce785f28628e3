//! The Cassandra 5.0 rules the sandbox simulates: how `server_encryption_options` turns into a
//! TLS policy at boot, and whether two running nodes can open internode connections.
//!
//! Everything here is pure (no files, no clock) so the rules can be unit-tested one by one
//! against `cassandra-notes.md` section 2: the keystore-exists rule for `optional`, the explicit
//! `optional` flag deciding whether plaintext is refused, `dc`/`rack` encrypting only towards
//! other datacenters/racks (`shouldEncrypt`), and the 5.0 outbound fallback to plaintext when
//! optional.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `internode_encryption` setting: which outbound connections are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Internode {
    /// Never encrypt outbound connections.
    None,
    /// Always encrypt outbound connections.
    All,
    /// Encrypt only towards other datacenters.
    Dc,
    /// Encrypt only towards other racks.
    Rack,
}

impl Internode {
    /// Parses a yaml value the way Cassandra's enum binding does (lowercase names).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "all" => Some(Self::All),
            "dc" => Some(Self::Dc),
            "rack" => Some(Self::Rack),
            _ => None,
        }
    }

    /// `ServerEncryptionOptions.shouldEncrypt(peer)`: `all` always, `dc` towards another
    /// datacenter, `rack` towards another datacenter or rack, `none` never.
    pub fn should_encrypt(self, local: (&str, &str), peer: (&str, &str)) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Dc => local.0 != peer.0,
            Self::Rack => local.0 != peer.0 || local.1 != peer.1,
        }
    }
}

/// `EncryptionOptions.TlsEncryptionPolicy`: what the storage port accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Policy {
    /// Plaintext only; incoming TLS is rejected.
    Unencrypted,
    /// TLS and plaintext on the same port.
    Optional,
    /// TLS only.
    Encrypted,
}

impl Policy {
    /// Returns the `encryption:` word of the `Listening on ...` line (JDK provider).
    pub fn listener_word(self) -> &'static str {
        match self {
            Self::Unencrypted => "unencrypted",
            Self::Optional => "optionally encrypted(jdk)",
            Self::Encrypted => "encrypted(jdk)",
        }
    }
}

/// Every key the 5.0.2 `ServerEncryptionOptions` bean accepts (EncryptionOptions plus the
/// server subclass, including the deprecated alias); anything else fails startup.
pub const KNOWN_SERVER_KEYS: &[&str] = &[
    "accepted_protocols",
    "algorithm",
    "cipher_suites",
    "enable_legacy_ssl_storage_port",
    "enabled",
    "internode_encryption",
    "keystore",
    "keystore_password",
    "legacy_ssl_storage_port_enabled",
    "optional",
    "outbound_keystore",
    "outbound_keystore_password",
    "protocol",
    "require_client_auth",
    "require_endpoint_verification",
    "ssl_context_factory",
    "store_type",
    "truststore",
    "truststore_password",
];

/// A yaml scalar read as text, as SnakeYAML binds numbers and booleans into String properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        de.deserialize_any(V)
    }
}

/// A password from cassandra.yaml; its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Secret(Scalar);

impl Secret {
    /// Returns the password text.
    pub fn expose(&self) -> &str {
        &self.0.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The `server_encryption_options` block as written in cassandra.yaml (unset keys are `None`).
#[derive(Debug, Default, Deserialize)]
pub struct RawServerOptions {
    pub internode_encryption: Option<Scalar>,
    pub optional: Option<bool>,
    pub enabled: Option<bool>,
    pub keystore: Option<Scalar>,
    pub keystore_password: Option<Secret>,
    pub truststore: Option<Scalar>,
    pub truststore_password: Option<Secret>,
    pub require_client_auth: Option<bool>,
    pub require_endpoint_verification: Option<bool>,
    pub legacy_ssl_storage_port_enabled: Option<bool>,
    pub enable_legacy_ssl_storage_port: Option<bool>,
    /// Every other key, so unknown ones can be reported the way Cassandra does.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde::de::IgnoredAny>,
}

/// The parts of cassandra.yaml the simulation reads; other top-level keys are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct RawConfig {
    pub server_encryption_options: Option<RawServerOptions>,
}

impl RawServerOptions {
    /// Returns the keys Cassandra would reject with `Invalid yaml. Please remove properties`.
    pub fn unknown_keys(&self) -> Vec<String> {
        self.other.keys().filter(|k| !KNOWN_SERVER_KEYS.contains(&k.as_str())).cloned().collect()
    }
}

/// The server options after Cassandra's defaults are applied (5.0.2 defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    pub internode: Internode,
    /// The `optional` key exactly as written: `None` when absent.
    pub explicit_optional: Option<bool>,
    pub enabled: Option<bool>,
    pub keystore: String,
    pub keystore_password: Option<Secret>,
    pub truststore: String,
    pub truststore_password: Option<Secret>,
    pub require_client_auth: bool,
    pub require_endpoint_verification: bool,
    pub legacy_ssl_storage_port_enabled: bool,
}

/// Why a parsed block cannot be turned into [`ServerOptions`] (startup fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    /// Keys the 5.0 bean does not know.
    UnknownKeys(Vec<String>),
    /// `internode_encryption` is not one of none/all/dc/rack.
    BadInternode(String),
    /// `legacy_ssl_storage_port_enabled: true` with `internode_encryption: none`.
    LegacyPortWithoutEncryption,
}

impl ServerOptions {
    /// Applies the 5.0.2 defaults to a raw block (`None` = the block is absent).
    pub fn from_raw(raw: Option<&RawServerOptions>) -> Result<Self, OptionsError> {
        let default = RawServerOptions::default();
        let raw = raw.unwrap_or(&default);
        let unknown = raw.unknown_keys();
        if !unknown.is_empty() {
            return Err(OptionsError::UnknownKeys(unknown));
        }
        let internode = match &raw.internode_encryption {
            None => Internode::None,
            Some(Scalar(v)) => Internode::parse(v).ok_or_else(|| OptionsError::BadInternode(v.clone()))?,
        };
        let legacy = raw.legacy_ssl_storage_port_enabled.or(raw.enable_legacy_ssl_storage_port).unwrap_or(false);
        if legacy && internode == Internode::None {
            return Err(OptionsError::LegacyPortWithoutEncryption);
        }
        let text = |s: &Option<Scalar>| s.as_ref().map(|Scalar(v)| v.clone());
        Ok(Self {
            internode,
            explicit_optional: raw.optional,
            enabled: raw.enabled,
            keystore: text(&raw.keystore).unwrap_or_else(|| "conf/.keystore".into()),
            keystore_password: raw.keystore_password.clone(),
            truststore: text(&raw.truststore).unwrap_or_else(|| "conf/.truststore".into()),
            truststore_password: raw.truststore_password.clone(),
            require_client_auth: raw.require_client_auth.unwrap_or(false),
            require_endpoint_verification: raw.require_endpoint_verification.unwrap_or(false),
            legacy_ssl_storage_port_enabled: legacy,
        })
    }

    /// Computes `tlsEncryptionPolicy` (EncryptionOptions.applyConfig, 5.0.2).
    ///
    /// `keystore_exists` is `sslContextFactoryInstance.hasKeystore()`: the configured keystore
    /// path names an existing file. The server never sets `enabled`, so an existing keystore
    /// alone makes the node OPTIONAL even with `internode_encryption: none`.
    pub fn policy(&self, keystore_exists: bool) -> Policy {
        let super_enabled = self.enabled.unwrap_or(false);
        let super_optional = match self.explicit_optional {
            Some(flag) => flag,
            None => keystore_exists && !super_enabled,
        };
        let enabled = self.internode != Internode::None;
        let optional = super_optional || matches!(self.internode, Internode::Dc | Internode::Rack);
        if optional {
            Policy::Optional
        } else if enabled {
            Policy::Encrypted
        } else {
            Policy::Unencrypted
        }
    }
}

/// What a node's certificate looks like to a peer, recorded at boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// Subject DN in RFC 4514 text, for humans.
    pub subject_text: String,
    /// DER of the subject name, hex.
    pub subject: String,
    /// DER of the issuer name, hex.
    pub issuer: String,
    /// SHA-256 of the certificate DER, hex.
    pub fingerprint: String,
    /// notAfter as unix seconds.
    pub not_after: i64,
    /// IP addresses in the subjectAltName extension.
    pub ip_sans: Vec<String>,
}

/// The TLS configuration a node loaded at boot and keeps until its next restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveTls {
    pub internode: Internode,
    pub explicit_optional: Option<bool>,
    pub policy: Policy,
    pub require_client_auth: bool,
    pub require_endpoint_verification: bool,
    /// The keystore's leaf certificate (present when the policy is not UNENCRYPTED).
    pub cert: Option<CertInfo>,
    /// Trusted certificates of the truststore (empty when not loaded or unreadable).
    pub trusted: Vec<CertInfo>,
}

impl EffectiveTls {
    /// Returns true when inbound plaintext from `peer` (dc, rack) is refused by a node at
    /// `local`.
    ///
    /// InboundConnectionInitiator: `isEncryptionRequired = !isExplicitlyOptional() &&
    /// shouldEncrypt(peer)`; only `optional: true` written in the yaml lets plaintext in.
    pub fn refuses_plaintext(&self, local: (&str, &str), peer: (&str, &str)) -> bool {
        self.explicit_optional != Some(true) && self.internode.should_encrypt(local, peer)
    }

    /// Returns true when this node's truststore validates `cert` at unix time `now`.
    ///
    /// A certificate is trusted when it is itself a trust anchor (anchors are not checked
    /// for expiry, as with the JDK's PKIX) or its issuer is one and it has not expired.
    pub fn trusts(&self, cert: &CertInfo, now: i64) -> bool {
        self.trusted.iter().any(|anchor| anchor.fingerprint == cert.fingerprint || (anchor.subject == cert.issuer && cert.not_after > now))
    }
}

/// One end of a simulated connection.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub address: &'a str,
    /// The node's datacenter, as its snitch reports it.
    pub dc: &'a str,
    /// The node's rack.
    pub rack: &'a str,
    pub tls: &'a EffectiveTls,
}

impl Endpoint<'_> {
    /// `(dc, rack)`.
    pub fn location(&self) -> (&str, &str) {
        (self.dc, self.rack)
    }
}

/// Why a connection attempt failed (the last attempt when the 5.0 fallback was tried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// TLS towards a node whose policy is UNENCRYPTED.
    TlsDisabledAtPeer,
    /// Plaintext towards a node that requires encryption.
    PlaintextRefused,
    /// The initiator does not trust the acceptor's certificate.
    ServerCertUntrusted,
    /// `require_endpoint_verification` and the acceptor's certificate lacks its IP.
    EndpointMismatch,
    /// `require_client_auth` and the acceptor does not trust the initiator's certificate.
    ClientCertUntrusted,
}

/// The result of one outbound connection attempt from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Established with TLS.
    Tls,
    /// Established in plaintext; `fallback` carries the TLS failure when 5.0 fell back.
    Plain { fallback: Option<Refusal> },
    /// Not established.
    Refused(Refusal),
}

impl Link {
    /// Returns true when messages flow over this connection.
    pub fn is_up(self) -> bool {
        !matches!(self, Self::Refused(_))
    }
}

fn handshake(from: Endpoint<'_>, to: Endpoint<'_>, now: i64) -> Result<(), Refusal> {
    if to.tls.policy == Policy::Unencrypted {
        return Err(Refusal::TlsDisabledAtPeer);
    }
    // The outbound context is always built with verifyPeerCertificate=true.
    let server_cert = to.tls.cert.as_ref().ok_or(Refusal::ServerCertUntrusted)?;
    if !from.tls.trusts(server_cert, now) {
        return Err(Refusal::ServerCertUntrusted);
    }
    if from.tls.require_endpoint_verification && !server_cert.ip_sans.iter().any(|ip| ip == to.address) {
        return Err(Refusal::EndpointMismatch);
    }
    if to.tls.require_client_auth {
        let client_cert = from.tls.cert.as_ref().ok_or(Refusal::ClientCertUntrusted)?;
        if !to.tls.trusts(client_cert, now) {
            return Err(Refusal::ClientCertUntrusted);
        }
    }
    Ok(())
}

/// Simulates the outbound connection `from` -> `to` between two running nodes.
pub fn connect(from: Endpoint<'_>, to: Endpoint<'_>, now: i64) -> Link {
    let mut fallback = None;
    if from.tls.internode.should_encrypt(from.location(), to.location()) {
        match handshake(from, to, now) {
            Ok(()) => return Link::Tls,
            // 5.0 cycles its reconnect strategies down to NO_SSL only when optional.
            Err(refusal) if from.tls.policy == Policy::Optional => fallback = Some(refusal),
            Err(refusal) => return Link::Refused(refusal),
        }
    }
    if to.tls.refuses_plaintext(to.location(), from.location()) {
        Link::Refused(Refusal::PlaintextRefused)
    } else {
        Link::Plain { fallback }
    }
}

/// Returns true when gossip works both ways between two running nodes.
pub fn can_talk(a: Endpoint<'_>, b: Endpoint<'_>, now: i64) -> bool {
    connect(a, b, now).is_up() && connect(b, a, now).is_up()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(yaml: &str) -> ServerOptions {
        let raw: RawConfig = serde_saphyr::from_str(yaml).expect("test yaml parses");
        ServerOptions::from_raw(raw.server_encryption_options.as_ref()).expect("valid options")
    }

    fn cert(subject: &str, issuer: &str, ip: &str) -> CertInfo {
        CertInfo {
            subject_text: format!("CN={subject}"),
            subject: subject.into(),
            issuer: issuer.into(),
            fingerprint: format!("fp-{subject}"),
            not_after: 2_000_000_000,
            ip_sans: vec![ip.into()],
        }
    }

    fn tls(internode: Internode, optional: Option<bool>, keystore: bool) -> EffectiveTls {
        let options = ServerOptions {
            internode,
            explicit_optional: optional,
            enabled: None,
            keystore: String::new(),
            keystore_password: None,
            truststore: String::new(),
            truststore_password: None,
            require_client_auth: false,
            require_endpoint_verification: false,
            legacy_ssl_storage_port_enabled: false,
        };
        let policy = options.policy(keystore);
        let loaded = policy != Policy::Unencrypted;
        EffectiveTls {
            internode,
            explicit_optional: optional,
            policy,
            require_client_auth: false,
            require_endpoint_verification: false,
            cert: loaded.then(|| cert("node", "ca", "127.0.0.1")),
            trusted: if loaded { vec![cert("ca", "ca", "")] } else { vec![] },
        }
    }

    fn talk(a: &EffectiveTls, b: &EffectiveTls) -> bool {
        let ea = Endpoint { address: "127.0.0.1", dc: "datacenter1", rack: "rack1", tls: a };
        let eb = Endpoint { address: "127.0.0.1", dc: "datacenter1", rack: "rack1", tls: b };
        can_talk(ea, eb, 1_000)
    }

    #[test]
    fn stock_block_without_keystore_is_unencrypted() {
        let o = opts("server_encryption_options:\n  internode_encryption: none\n  keystore: conf/.keystore\n");
        assert_eq!(o.policy(false), Policy::Unencrypted);
        assert_eq!(o.keystore, "conf/.keystore");
        assert_eq!(o.keystore_password, None);
    }

    #[test]
    fn existing_keystore_makes_none_optional() {
        let o = opts("server_encryption_options:\n  internode_encryption: none\n");
        assert_eq!(o.policy(true), Policy::Optional);
    }

    #[test]
    fn explicit_optional_false_wins_over_keystore_rule() {
        let o = opts("server_encryption_options:\n  internode_encryption: all\n  optional: false\n");
        assert_eq!(o.policy(true), Policy::Encrypted);
        let o = opts("server_encryption_options:\n  internode_encryption: all\n");
        assert_eq!(o.policy(true), Policy::Optional, "all + keystore + unset optional");
        assert_eq!(o.policy(false), Policy::Encrypted);
    }

    #[test]
    fn dc_and_rack_are_always_optional() {
        for v in ["dc", "rack"] {
            let o = opts(&format!("server_encryption_options:\n  internode_encryption: {v}\n  optional: false\n"));
            assert_eq!(o.policy(false), Policy::Optional, "{v}");
        }
    }

    #[test]
    fn unknown_key_is_reported() {
        let raw: RawConfig = serde_saphyr::from_str(
            "server_encryption_options:\n  internode_encryption: all\n  optinal: true\n  keystore_password: 123456\n",
        )
        .expect("parses");
        let err = ServerOptions::from_raw(raw.server_encryption_options.as_ref()).unwrap_err();
        assert_eq!(err, OptionsError::UnknownKeys(vec!["optinal".into()]));
    }

    #[test]
    fn numeric_password_is_read_as_text() {
        let o = opts("server_encryption_options:\n  keystore_password: 123456\n");
        assert_eq!(o.keystore_password.as_ref().map(Secret::expose), Some("123456"));
        assert!(!format!("{o:?}").contains("123456"), "passwords stay out of Debug output");
    }

    #[test]
    fn legacy_port_without_encryption_fails() {
        let raw: RawConfig =
            serde_saphyr::from_str("server_encryption_options:\n  internode_encryption: none\n  legacy_ssl_storage_port_enabled: true\n")
                .expect("parses");
        let err = ServerOptions::from_raw(raw.server_encryption_options.as_ref()).unwrap_err();
        assert_eq!(err, OptionsError::LegacyPortWithoutEncryption);
    }

    #[test]
    fn stock_yaml_file_parses_to_unencrypted_defaults() {
        let text = std::str::from_utf8(super::super::STOCK_YAML).expect("utf-8");
        let raw: RawConfig = serde_saphyr::from_str(text).expect("stock yaml parses");
        let o = ServerOptions::from_raw(raw.server_encryption_options.as_ref()).expect("stock is valid");
        assert_eq!(o.internode, Internode::None);
        assert_eq!(o.explicit_optional, None);
        assert_eq!(o.truststore_password, None);
        assert!(!o.require_client_auth);
    }

    #[test]
    fn connectivity_matrix() {
        let plain = tls(Internode::None, None, false);
        let none_with_keystore = tls(Internode::None, None, true);
        let pass1 = tls(Internode::All, Some(true), true);
        let pass2 = tls(Internode::All, Some(false), true);
        let all_unset = tls(Internode::All, None, true);
        let rack = tls(Internode::Rack, Some(false), true);

        assert!(talk(&plain, &plain));
        assert!(talk(&pass1, &plain), "5.0 falls back to plaintext when optional");
        assert!(talk(&pass1, &pass1));
        assert!(talk(&pass1, &pass2));
        assert!(talk(&pass2, &pass2));
        assert!(!talk(&pass2, &plain), "enforcing node refuses plaintext and cannot fall back");
        assert!(!talk(&pass2, &none_with_keystore), "none never encrypts outbound");
        assert!(!talk(&all_unset, &plain), "unset optional refuses plaintext");
        assert!(talk(&rack, &plain), "rack does not encrypt within a rack");
    }

    #[test]
    fn fallback_is_recorded_and_untrusted_certs_fail() {
        let pass1 = tls(Internode::All, Some(true), true);
        let plain = tls(Internode::None, None, false);
        let link = connect(
            Endpoint { address: "127.0.0.1", dc: "datacenter1", rack: "rack1", tls: &pass1 },
            Endpoint { address: "127.0.0.2", dc: "datacenter1", rack: "rack1", tls: &plain },
            0,
        );
        assert_eq!(link, Link::Plain { fallback: Some(Refusal::TlsDisabledAtPeer) });

        let mut stranger = tls(Internode::All, Some(false), true);
        stranger.cert = Some(cert("node", "other-ca", "127.0.0.2"));
        let pass2 = tls(Internode::All, Some(false), true);
        let link = connect(
            Endpoint { address: "127.0.0.1", dc: "datacenter1", rack: "rack1", tls: &pass2 },
            Endpoint { address: "127.0.0.2", dc: "datacenter1", rack: "rack1", tls: &stranger },
            0,
        );
        assert_eq!(link, Link::Refused(Refusal::ServerCertUntrusted));

        let mut expired = pass2.clone();
        expired.cert = Some(CertInfo { not_after: 10, ..cert("node", "ca", "127.0.0.2") });
        assert!(!talk(&pass2, &expired), "expired leaf fails PKIX");
    }

    #[test]
    fn client_auth_and_endpoint_verification() {
        let mut server = tls(Internode::All, Some(false), true);
        server.require_client_auth = true;
        let mut client = tls(Internode::All, Some(false), true);
        client.cert = Some(cert("node", "other-ca", "127.0.0.1"));
        client.trusted.push(cert("other-ca", "other-ca", ""));
        let link = connect(
            Endpoint { address: "127.0.0.1", dc: "datacenter1", rack: "rack1", tls: &client },
            Endpoint { address: "127.0.0.2", dc: "datacenter1", rack: "rack1", tls: &server },
            0,
        );
        assert_eq!(link, Link::Refused(Refusal::ClientCertUntrusted));

        let mut verifier = tls(Internode::All, Some(false), true);
        verifier.require_endpoint_verification = true;
        let other = tls(Internode::All, Some(false), true);
        let link = connect(
            Endpoint { address: "127.0.0.1", dc: "datacenter1", rack: "rack1", tls: &verifier },
            Endpoint { address: "127.0.0.9", dc: "datacenter1", rack: "rack1", tls: &other },
            0,
        );
        assert_eq!(link, Link::Refused(Refusal::EndpointMismatch));
    }

    #[test]
    fn dc_and_rack_encrypt_across_locations_only() {
        let rack = tls(Internode::Rack, Some(false), true);
        let dc = tls(Internode::Dc, Some(false), true);
        let plain = tls(Internode::None, None, false);
        let at = |tls, dc, rack| Endpoint { address: "127.0.0.1", dc, rack, tls };
        let t = 1_000;
        // Same rack: plaintext, even towards an UNENCRYPTED peer.
        assert!(can_talk(at(&rack, "dc1", "r1"), at(&plain, "dc1", "r1"), t));
        // Another rack: `rack` encrypts and the plaintext-only peer rejects TLS; the explicit
        // `optional: false` peer refuses plaintext back, so the pair is cut.
        assert_eq!(
            connect(at(&rack, "dc1", "r1"), at(&plain, "dc1", "r2"), t),
            Link::Plain { fallback: Some(Refusal::TlsDisabledAtPeer) },
            "dc/rack are optional policies, so 5.0 falls back"
        );
        assert!(!can_talk(at(&rack, "dc1", "r1"), at(&plain, "dc1", "r2"), t));
        assert!(can_talk(at(&rack, "dc1", "r1"), at(&rack, "dc1", "r2"), t));
        // `dc` does not encrypt across racks of one DC, but does across DCs.
        assert!(can_talk(at(&dc, "dc1", "r1"), at(&plain, "dc1", "r2"), t));
        assert!(!can_talk(at(&dc, "dc1", "r1"), at(&plain, "dc2", "r1"), t));
        assert!(Internode::Rack.should_encrypt(("a", "r1"), ("b", "r1")));
        assert!(!Internode::Dc.should_encrypt(("a", "r1"), ("a", "r2")));
    }
}
