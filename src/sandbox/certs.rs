//! Key material for the sandbox: a private CA, one PKCS12 keystore per node and the shared
//! PKCS12 truststore, all generated in Rust (rcgen + p12-keystore), plus the reader a booting
//! node uses to open them the way the JDK would.
//!
//! Stores are written with p12-keystore's defaults, which mirror Java 17's keytool
//! (PBES2/AES-256 with an HMAC-SHA256 MAC), so a real Cassandra could open them too. The CA key
//! is never written to disk: the sandbox never signs anything after `init`.

use std::net::IpAddr;
use std::path::Path;

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, Pkcs12ImportPolicy, PrivateKey, PrivateKeyChain};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::SandboxError;
use super::model::CertInfo;

/// The alias of the CA entry in the truststore.
pub const CA_ALIAS: &str = "sandbox-ca";

/// The sandbox certificate authority, alive only during `init`.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert: Certificate,
    pem: String,
}

impl Ca {
    /// Returns the CA certificate in PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }
}

fn cert_error(what: &str, err: impl std::fmt::Display) -> SandboxError {
    SandboxError::Certificates { detail: format!("{what}: {err}") }
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(days);
}

/// Generates a self-signed CA named after the cluster.
pub fn new_ca(cluster: &str) -> Result<Ca, SandboxError> {
    let key = KeyPair::generate().map_err(|e| cert_error("generating the CA key", e))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "ringmaster sandbox");
    dn.push(DnType::CommonName, format!("{cluster} sandbox CA"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params, 3650);
    let cert = params.self_signed(&key).map_err(|e| cert_error("self-signing the CA", e))?;
    let pem = cert.pem();
    let cert = Certificate::from_der(cert.der()).map_err(|e| cert_error("re-reading the CA", e))?;
    Ok(Ca { issuer: Issuer::new(params, key), cert, pem })
}

/// Builds the PKCS12 keystore of one node: its key and a CA-signed certificate
/// (CN=`node`, SAN IP `address` and DNS `node`), chain included, protected by `password`.
pub fn node_keystore(ca: &Ca, node: &str, address: IpAddr, password: &str) -> Result<Vec<u8>, SandboxError> {
    let key = KeyPair::generate().map_err(|e| cert_error("generating a node key", e))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "ringmaster sandbox");
    dn.push(DnType::CommonName, node);
    params.distinguished_name = dn;
    params.subject_alt_names =
        vec![SanType::IpAddress(address), SanType::DnsName(node.try_into().map_err(|e| cert_error("node name as a DNS name", e))?)];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, 825);
    let cert = params.signed_by(&key, &ca.issuer).map_err(|e| cert_error("signing a node certificate", e))?;
    let leaf = Certificate::from_der(cert.der()).map_err(|e| cert_error("re-reading a node certificate", e))?;
    let private = PrivateKey::from_der(&key.serialize_der()).map_err(|e| cert_error("wrapping a node key", e))?;
    let key_id = Sha256::digest(cert.der()).to_vec();
    let chain = PrivateKeyChain::new(key_id, private, [leaf, ca.cert.clone()]);
    let mut store = KeyStore::new();
    store.add_entry(node, KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().map_err(|e| cert_error("writing a keystore", e))
}

/// Builds the shared PKCS12 truststore: one trusted-certificate entry for the CA.
pub fn truststore(ca: &Ca, password: &str) -> Result<Vec<u8>, SandboxError> {
    let mut store = KeyStore::new();
    store.add_entry(CA_ALIAS, KeyStoreEntry::Certificate(ca.cert.clone()));
    store.writer(password).write().map_err(|e| cert_error("writing the truststore", e))
}

/// Why a store could not be opened, in the JDK's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreFailure {
    /// `java.nio.file.NoSuchFileException`.
    Missing,
    /// `java.nio.file.AccessDeniedException`.
    AccessDenied,
    /// A directory or another read error: `java.io.IOException` with this text.
    Unreadable(String),
    /// MAC or decryption failure: the PKCS12 password is wrong.
    WrongPassword,
    /// Not a PKCS12 file the sandbox can read (JKS and PEM stores are not simulated).
    InvalidFormat,
}

/// Reads a store file, mapping I/O errors to what `Files.newInputStream` reports.
pub fn read_store(path: &Path) -> Result<Vec<u8>, StoreFailure> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(match e.kind() {
            std::io::ErrorKind::NotFound => StoreFailure::Missing,
            std::io::ErrorKind::PermissionDenied => StoreFailure::AccessDenied,
            std::io::ErrorKind::IsADirectory => StoreFailure::Unreadable("Is a directory".into()),
            _ => StoreFailure::Unreadable(e.to_string()),
        }),
    }
}

/// Opens PKCS12 bytes with a password, as `KeyStore.load` would.
pub fn open_store(bytes: &[u8], password: &str) -> Result<KeyStore, StoreFailure> {
    use p12_keystore::error::Error;
    KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict).map_err(|e| match e {
        Error::MacError(_) | Error::UnpadError | Error::Pkcs5Error(_) => StoreFailure::WrongPassword,
        _ => StoreFailure::InvalidFormat,
    })
}

/// Describes a DER certificate for the connectivity model; `None` if it does not parse.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let ip_sans = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::IPAddress(raw) => ip_from_bytes(raw),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(CertInfo {
        subject_text: cert.subject().to_string(),
        subject: hex::encode(cert.subject().as_raw()),
        issuer: hex::encode(cert.issuer().as_raw()),
        fingerprint: hex::encode(Sha256::digest(der)),
        not_after: cert.validity().not_after.timestamp(),
        ip_sans,
    })
}

fn ip_from_bytes(raw: &[u8]) -> Option<String> {
    match raw.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(raw).ok()?).to_string()),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(raw).ok()?).to_string()),
        _ => None,
    }
}

/// Returns the leaf certificate of the store's first private-key entry.
pub fn leaf_cert(store: &KeyStore) -> Option<CertInfo> {
    let (_, chain) = store.private_key_chain()?;
    cert_info(chain.certs().first()?.as_der())
}

/// Returns every trusted-certificate entry of a truststore.
pub fn trusted_certs(store: &KeyStore) -> Vec<CertInfo> {
    store
        .entries()
        .filter_map(|(_, entry)| match entry {
            KeyStoreEntry::Certificate(cert) => cert_info(cert.as_der()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystore_round_trip_and_chain() {
        let ca = new_ca("test").expect("ca");
        let ks = node_keystore(&ca, "node2", "127.0.0.2".parse().expect("ip"), "s3cret").expect("keystore");
        let ts = truststore(&ca, "tru5t").expect("truststore");

        let store = open_store(&ks, "s3cret").expect("opens with its password");
        let leaf = leaf_cert(&store).expect("leaf");
        assert!(leaf.subject_text.contains("CN=node2"), "{}", leaf.subject_text);
        assert_eq!(leaf.ip_sans, vec!["127.0.0.2".to_string()]);

        let trusted = trusted_certs(&open_store(&ts, "tru5t").expect("truststore opens"));
        assert_eq!(trusted.len(), 1);
        assert_eq!(trusted[0].subject, leaf.issuer, "leaf is issued by the CA");

        assert_eq!(open_store(&ks, "wrong").unwrap_err(), StoreFailure::WrongPassword);
        assert_eq!(open_store(b"not a keystore", "x").unwrap_err(), StoreFailure::InvalidFormat);
    }
}
