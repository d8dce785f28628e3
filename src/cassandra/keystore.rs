//! Key material as Cassandra's JDK sees it: open a PKCS12 or JKS store with its password,
//! and answer the questions a TLS rollout depends on (does the key match its certificate,
//! when does the certificate expire, which addresses do its SANs cover, does the chain
//! verify against a truststore by signature).
//!
//! Everything is pure Rust and pure functions (bytes in, facts out), so preflight can run
//! on files read from the nodes without a JVM. PKCS12 goes through p12-keystore; JKS is
//! parsed here because stock configs still use it and the format is small: magic
//! `0xFEEDFEED`, version, entries, then a SHA-1 over password (UTF-16BE) + `Mighty
//! Aphrodite` + the data, which is how the JDK tells a wrong password from a good one.
//! JKS private keys are protected with Sun's `KeyProtector` (SHA-1 keystream XOR); this
//! module implements the recovery so the key/certificate match can be checked too.
//! Private keys never leave this module's types except as PKCS#8 for the match check,
//! and no `Debug` output shows them.

use std::fmt;
use std::net::IpAddr;

use sha1::Digest as _;

/// The kind of store a file holds, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum StoreType {
    /// PKCS#12 (`store_type: PKCS12`), the JDK default since 9.
    Pkcs12,
    /// Sun's JKS (`store_type: JKS`), the default of 3.11-era configs.
    Jks,
}

impl fmt::Display for StoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreType::Pkcs12 => "PKCS12",
            StoreType::Jks => "JKS",
        })
    }
}

/// A private-key entry: the key (PKCS#8, never shown) and its certificate chain, leaf first.
#[derive(Clone)]
pub struct KeyEntry {
    /// The entry's alias.
    pub alias: String,
    pkcs8: Vec<u8>,
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
}

impl KeyEntry {
    /// Returns whether the private key belongs to the entry's leaf certificate.
    pub fn key_matches_leaf(&self) -> Result<bool, KeystoreError> {
        let leaf =
            self.chain.first().ok_or_else(|| KeystoreError::Corrupt { detail: format!("entry `{}` has no certificate", self.alias) })?;
        key_matches_cert(&self.pkcs8, leaf)
    }
}

impl fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEntry").field("alias", &self.alias).field("key", &"<private>").field("chain", &self.chain.len()).finish()
    }
}

/// A trusted-certificate entry.
#[derive(Debug, Clone)]
pub struct TrustedCert {
    /// The entry's alias.
    pub alias: String,
    /// The DER certificate.
    pub der: Vec<u8>,
}

/// An opened store.
#[derive(Debug, Clone)]
pub struct Store {
    /// PKCS12 or JKS.
    pub kind: StoreType,
    /// Private-key entries.
    pub keys: Vec<KeyEntry>,
    /// Trusted-certificate entries.
    pub trusted: Vec<TrustedCert>,
}

impl Store {
    /// Returns every certificate the JDK's trust manager would trust from this store:
    /// trusted entries and the leaf of every key entry.
    pub fn anchors(&self) -> Vec<TrustedCert> {
        let mut out = self.trusted.clone();
        for k in &self.keys {
            if let Some(leaf) = k.chain.first() {
                out.push(TrustedCert { alias: k.alias.clone(), der: leaf.clone() });
            }
        }
        out
    }
}

/// Why a store could not be opened or a certificate not be read. Messages never hold a
/// password; the caller adds the node and the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeystoreError {
    /// The password does not open the store (PKCS12 MAC or decryption, JKS integrity digest).
    #[error("the password does not open it ({kind} integrity check failed: wrong password, or the file was tampered with)")]
    WrongPassword { kind: StoreType },
    /// A JCEKS store: it holds secret keys (transparent data encryption), not TLS keys.
    #[error("it is a JCEKS store (secret keys for data encryption), not a TLS keystore")]
    Jceks,
    /// Neither PKCS12 nor JKS.
    #[error("it is neither a PKCS12 nor a JKS store ({detail})")]
    NotAStore { detail: String },
    /// Structurally broken.
    #[error("it is damaged: {detail}")]
    Corrupt { detail: String },
    /// A certificate that does not parse.
    #[error("a certificate in it does not parse: {detail}")]
    BadCertificate { detail: String },
    /// A key algorithm this check cannot compare.
    #[error("its private key uses an algorithm ringmaster cannot check ({detail})")]
    UnsupportedKey { detail: String },
}

const JKS_MAGIC: u32 = 0xFEED_FEED;
const JCEKS_MAGIC: u32 = 0xCECE_CECE;

/// Opens a store, telling PKCS12 from JKS by its first bytes.
pub fn open(bytes: &[u8], password: &str) -> Result<Store, KeystoreError> {
    match bytes.get(..4).map(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]])) {
        Some(JKS_MAGIC) => open_jks(bytes, password),
        Some(JCEKS_MAGIC) => Err(KeystoreError::Jceks),
        _ => open_pkcs12(bytes, password),
    }
}

fn open_pkcs12(bytes: &[u8], password: &str) -> Result<Store, KeystoreError> {
    use p12_keystore::error::Error;
    use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
    if bytes.first() != Some(&0x30) {
        return Err(KeystoreError::NotAStore { detail: "no DER sequence at its start".into() });
    }
    let load = |policy| {
        KeyStore::from_pkcs12(bytes, password, policy).map_err(|e| match e {
            Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_) => KeystoreError::WrongPassword { kind: StoreType::Pkcs12 },
            other => KeystoreError::NotAStore { detail: other.to_string() },
        })
    };
    let mut ks = load(Pkcs12ImportPolicy::Strict)?;
    if ks.entries_len() == 0 {
        // A certificate-only store written by OpenSSL has no Java "trusted" attribute and
        // reads empty under Strict; the JDK still trusts those certificates.
        ks = load(Pkcs12ImportPolicy::Raw)?;
    }
    let mut store = Store { kind: StoreType::Pkcs12, keys: vec![], trusted: vec![] };
    for (alias, entry) in ks.entries() {
        match entry {
            KeyStoreEntry::PrivateKeyChain(chain) => store.keys.push(KeyEntry {
                alias: alias.clone(),
                pkcs8: chain.key().as_der().to_vec(),
                chain: chain.certs().iter().map(|c| c.as_der().to_vec()).collect(),
            }),
            KeyStoreEntry::Certificate(c) => store.trusted.push(TrustedCert { alias: alias.clone(), der: c.as_der().to_vec() }),
            KeyStoreEntry::Secret(_) => {}
        }
    }
    Ok(store)
}

/// A cursor over JKS bytes (big-endian, Java `DataInputStream`).
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], KeystoreError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| KeystoreError::Corrupt { detail: format!("truncated at byte {}", self.pos) })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u16(&mut self) -> Result<u16, KeystoreError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, KeystoreError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Java `readUTF`: a u16 length and modified UTF-8 (aliases are ASCII in practice).
    fn utf(&mut self) -> Result<String, KeystoreError> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    fn blob(&mut self) -> Result<Vec<u8>, KeystoreError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
}

/// The password as the JDK feeds it to SHA-1: each UTF-16 unit, big-endian.
fn jks_password_bytes(password: &str) -> Vec<u8> {
    password.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn open_jks(bytes: &[u8], password: &str) -> Result<Store, KeystoreError> {
    let mut r = Reader { bytes, pos: 4 };
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return Err(KeystoreError::Corrupt { detail: format!("unknown JKS version {version}") });
    }
    let count = r.u32()?;
    let mut store = Store { kind: StoreType::Jks, keys: vec![], trusted: vec![] };
    let mut protected = Vec::new();
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = r.utf()?;
        r.take(8)?; // creation date
        match tag {
            1 => {
                let key = r.blob()?;
                let n = r.u32()?;
                let mut chain = Vec::new();
                for _ in 0..n {
                    if version == 2 {
                        r.utf()?; // certificate type, "X.509"
                    }
                    chain.push(r.blob()?);
                }
                protected.push((alias, key, chain));
            }
            2 => {
                if version == 2 {
                    r.utf()?;
                }
                store.trusted.push(TrustedCert { alias, der: r.blob()? });
            }
            3 => return Err(KeystoreError::Jceks),
            other => return Err(KeystoreError::Corrupt { detail: format!("unknown JKS entry tag {other}") }),
        }
    }
    let data_end = r.pos;
    let stored = r.take(20)?;
    let pw = jks_password_bytes(password);
    let mut h = sha1::Sha1::new();
    h.update(&pw);
    h.update(b"Mighty Aphrodite");
    h.update(&bytes[..data_end]);
    if h.finalize().as_slice() != stored {
        return Err(KeystoreError::WrongPassword { kind: StoreType::Jks });
    }
    for (alias, key, chain) in protected {
        // Cassandra has no separate key password for server_encryption_options: the
        // store password must open the key too, as keytool's default makes it.
        let pkcs8 = jks_recover_key(&key, &pw).ok_or(KeystoreError::WrongPassword { kind: StoreType::Jks })?;
        store.keys.push(KeyEntry { alias, pkcs8, chain });
    }
    Ok(store)
}

/// Sun's `KeyProtector.recover`: `EncryptedPrivateKeyInfo` whose data is salt(20) ||
/// key XOR keystream || SHA-1(password || key); the keystream is SHA-1 chained from the
/// salt. Returns the PKCS#8 key, or `None` when the check digest does not match.
fn jks_recover_key(encrypted_info: &[u8], pw: &[u8]) -> Option<Vec<u8>> {
    const KEY_PROTECTOR_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01];
    let (_, info, _) = der(encrypted_info, 0x30)?;
    let (_, alg, rest) = der(info, 0x30)?;
    let (_, oid, _) = der(alg, 0x06)?;
    if oid != KEY_PROTECTOR_OID {
        return None;
    }
    let (_, data, _) = der(rest, 0x04)?;
    if data.len() < 40 {
        return None;
    }
    let (salt, tail) = data.split_at(20);
    let (encrypted, check) = tail.split_at(tail.len() - 20);
    let mut digest = salt.to_vec();
    let mut plain = Vec::with_capacity(encrypted.len());
    for chunk in encrypted.chunks(20) {
        let mut h = sha1::Sha1::new();
        h.update(pw);
        h.update(&digest);
        digest = h.finalize().to_vec();
        plain.extend(chunk.iter().zip(&digest).map(|(a, b)| a ^ b));
    }
    let mut h = sha1::Sha1::new();
    h.update(pw);
    h.update(&plain);
    (h.finalize().as_slice() == check).then_some(plain)
}

/// Reads one DER element; returns (tag, content, rest) when its tag is `want` (0 = any).
fn der(input: &[u8], want: u8) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    if want != 0 && tag != want {
        return None;
    }
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let len = input.get(2..2 + n)?.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    let content = input.get(header..header.checked_add(len)?)?;
    Some((tag, content, &input[header + len..]))
}

/// Strips the sign byte of a DER INTEGER.
fn unsigned(int: &[u8]) -> &[u8] {
    let mut i = int;
    while i.len() > 1 && i[0] == 0 {
        i = &i[1..];
    }
    i
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Returns whether the PKCS#8 private key belongs to the certificate's public key.
///
/// RSA compares modulus and exponent; EC and Ed25519 let ring rebuild the key pair from
/// the private key and the certificate's public key, which fails unless they match.
pub fn key_matches_cert(pkcs8: &[u8], cert_der: &[u8]) -> Result<bool, KeystoreError> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).map_err(|e| KeystoreError::BadCertificate { detail: e.to_string() })?;
    let spki = &cert.public_key().subject_public_key.data;
    let bad = |what: &str| KeystoreError::UnsupportedKey { detail: format!("PKCS#8 {what}") };
    let (_, info, _) = der(pkcs8, 0x30).ok_or_else(|| bad("structure"))?;
    let (_, _, rest) = der(info, 0x02).ok_or_else(|| bad("version"))?;
    let (_, alg, rest) = der(rest, 0x30).ok_or_else(|| bad("algorithm"))?;
    let (_, key, _) = der(rest, 0x04).ok_or_else(|| bad("key"))?;
    let (_, oid, params) = der(alg, 0x06).ok_or_else(|| bad("algorithm"))?;
    match oid {
        OID_RSA => {
            // RSAPrivateKey { version, n, e, ... } against RSAPublicKey { n, e }.
            let (_, k, _) = der(key, 0x30).ok_or_else(|| bad("RSA key"))?;
            let (_, _, k) = der(k, 0x02).ok_or_else(|| bad("RSA key"))?;
            let (_, n, k) = der(k, 0x02).ok_or_else(|| bad("RSA key"))?;
            let (_, e, _) = der(k, 0x02).ok_or_else(|| bad("RSA key"))?;
            let Some((_, p, _)) = der(spki, 0x30) else { return Ok(false) };
            let Some((_, pn, p)) = der(p, 0x02) else { return Ok(false) };
            let Some((_, pe, _)) = der(p, 0x02) else { return Ok(false) };
            Ok(unsigned(n) == unsigned(pn) && unsigned(e) == unsigned(pe))
        }
        OID_EC => {
            let (_, curve, _) = der(params, 0x06).ok_or_else(|| bad("EC curve"))?;
            let alg = match curve {
                OID_P256 => &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                OID_P384 => &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                _ => return Err(KeystoreError::UnsupportedKey { detail: "an EC curve other than P-256 or P-384".into() }),
            };
            // ECPrivateKey { version, privateKey OCTET STRING, ... }
            let (_, k, _) = der(key, 0x30).ok_or_else(|| bad("EC key"))?;
            let (_, _, k) = der(k, 0x02).ok_or_else(|| bad("EC key"))?;
            let (_, scalar, _) = der(k, 0x04).ok_or_else(|| bad("EC key"))?;
            let rng = ring::rand::SystemRandom::new();
            Ok(ring::signature::EcdsaKeyPair::from_private_key_and_public_key(alg, scalar, spki, &rng).is_ok())
        }
        OID_ED25519 => {
            let (_, seed, _) = der(key, 0x04).ok_or_else(|| bad("Ed25519 key"))?;
            Ok(ring::signature::Ed25519KeyPair::from_seed_and_public_key(seed, spki).is_ok())
        }
        _ => Err(KeystoreError::UnsupportedKey { detail: "not RSA, EC or Ed25519".into() }),
    }
}

/// What preflight needs to know about a certificate (nothing secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertSummary {
    /// Subject DN, e.g. `CN=node1, O=...`.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// IP address SANs.
    pub ip_sans: Vec<IpAddr>,
    /// DNS name SANs.
    pub dns_sans: Vec<String>,
    /// SHA-256 of the SubjectPublicKeyInfo: equal for two certificates of one private key.
    pub public_key_sha256: String,
    /// True when subject equals issuer and the certificate verifies with its own key.
    pub self_signed: bool,
}

/// Describes a DER certificate.
pub fn describe(der_bytes: &[u8]) -> Result<CertSummary, KeystoreError> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der_bytes).map_err(|e| KeystoreError::BadCertificate { detail: e.to_string() })?;
    let mut ip_sans = Vec::new();
    let mut dns_sans = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::IPAddress(raw) => match raw.len() {
                    4 => ip_sans.extend(<[u8; 4]>::try_from(*raw).ok().map(IpAddr::from)),
                    16 => ip_sans.extend(<[u8; 16]>::try_from(*raw).ok().map(IpAddr::from)),
                    _ => {}
                },
                GeneralName::DNSName(d) => dns_sans.push((*d).to_string()),
                _ => {}
            }
        }
    }
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        ip_sans,
        dns_sans,
        public_key_sha256: crate::transport::sha256_hex(cert.public_key().raw),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok(),
    })
}

/// Returns whether the certificate's SANs cover `address` as a peer dials it: an IP needs
/// an IP SAN (a DNS SAN with the same text does not count, as in the JDK), a host name a
/// DNS SAN (a leading `*.` wildcard matches one label).
pub fn san_covers(cert: &CertSummary, address: &str) -> bool {
    match address.parse::<IpAddr>() {
        Ok(ip) => cert.ip_sans.contains(&ip),
        Err(_) => cert.dns_sans.iter().any(|d| {
            let d = d.to_ascii_lowercase();
            let a = address.to_ascii_lowercase();
            d == a
                || d.strip_prefix("*.")
                    .is_some_and(|suffix| a.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == suffix))
        }),
    }
}

/// How a certificate chain fared against a truststore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Every link verifies by signature up to a trusted certificate.
    Verified {
        /// The alias of the trusted certificate that ends the chain.
        anchor: String,
    },
    /// No trusted (or intermediate) certificate is named as the issuer.
    NoIssuer {
        /// The issuer DN looked for.
        issuer: String,
    },
    /// A certificate carries the issuer's name, but the signature does not verify with its key.
    BadSignature {
        /// The issuer DN.
        issuer: String,
    },
    /// A certificate in the chain does not parse.
    Unreadable(String),
}

fn parse_cert(d: &[u8]) -> Result<x509_parser::certificate::X509Certificate<'_>, String> {
    x509_parser::parse_x509_certificate(d).map(|(_, c)| c).map_err(|e| e.to_string())
}

/// Verifies `chain` (leaf first; the rest are intermediates offered by the peer) up to
/// one of `anchors`, by signature at every step, never by name alone.
pub fn verify_chain(chain: &[Vec<u8>], anchors: &[TrustedCert]) -> ChainVerdict {
    let Some(leaf) = chain.first() else { return ChainVerdict::Unreadable("empty chain".into()) };
    let mut current = match parse_cert(leaf) {
        Ok(c) => c,
        Err(e) => return ChainVerdict::Unreadable(e),
    };
    let mut name_matched = false;
    // A bounded walk: real chains are short, and a loop in a bad chain must end.
    for _ in 0..8 {
        for a in anchors {
            let Ok(anchor) = parse_cert(&a.der) else { continue };
            if anchor.subject().as_raw() == current.issuer().as_raw() {
                name_matched = true;
                if current.verify_signature(Some(anchor.public_key())).is_ok() {
                    return ChainVerdict::Verified { anchor: a.alias.clone() };
                }
            }
        }
        let next = chain[1..].iter().filter_map(|d| parse_cert(d).ok()).find(|c| {
            c.subject().as_raw() == current.issuer().as_raw()
                && c.subject().as_raw() != current.subject().as_raw()
                && current.verify_signature(Some(c.public_key())).is_ok()
        });
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    let issuer = current.issuer().to_string();
    if name_matched { ChainVerdict::BadSignature { issuer } } else { ChainVerdict::NoIssuer { issuer } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../shared/fixtures/keystores/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
    }

    #[test]
    fn jks_fixtures_open_with_their_password_only() {
        let ks = open(&fixture("cassandra_ssl_test.keystore"), "cassandra").expect("opens");
        assert_eq!(ks.kind, StoreType::Jks);
        assert_eq!(ks.keys.len(), 1);
        assert!(ks.keys[0].key_matches_leaf().unwrap(), "the fixture's key matches its certificate");
        assert_eq!(
            open(&fixture("cassandra_ssl_test.keystore"), "wrong").unwrap_err(),
            KeystoreError::WrongPassword { kind: StoreType::Jks }
        );
        let ts = open(&fixture("cassandra_ssl_test.truststore"), "cassandra").expect("truststore");
        assert_eq!(ts.trusted.len() + ts.keys.len(), 4, "{ts:?}");
        assert!(matches!(verify_chain(&ks.keys[0].chain, &ts.anchors()), ChainVerdict::Verified { .. }));
        assert_eq!(open(&fixture("cassandra.keystore"), "cassandra").unwrap_err(), KeystoreError::Jceks);
        let ev = open(&fixture("cassandra_ssl_test_endpoint_verify.keystore"), "cassandra").unwrap();
        let leaf = describe(&ev.keys[0].chain[0]).unwrap();
        assert!(san_covers(&leaf, "127.0.0.1") && !san_covers(&leaf, "127.0.0.2"));
        assert!(leaf.not_after < 1_700_000_000, "expired in 2023");
    }

    #[test]
    fn empty_password_pkcs12_fixture_opens() {
        let ks = open(&fixture("cassandra_ssl_test_nopassword.keystore"), "").expect("opens");
        assert_eq!(ks.kind, StoreType::Pkcs12);
        assert!(ks.keys[0].key_matches_leaf().unwrap());
    }

    #[test]
    fn wildcard_dns_san_covers_one_label() {
        let c = CertSummary {
            subject: String::new(),
            issuer: String::new(),
            not_before: 0,
            not_after: 0,
            ip_sans: vec![],
            dns_sans: vec!["*.db.example".into()],
            public_key_sha256: String::new(),
            self_signed: false,
        };
        assert!(san_covers(&c, "n1.db.example"));
        assert!(!san_covers(&c, "a.n1.db.example"));
        assert!(!san_covers(&c, "10.0.0.1"));
    }
}
