//! `ringmaster sandbox init`: the directory layout, modes, inventory and key material.

use std::os::unix::fs::PermissionsExt;

use crate::support::bin;
use crate::support::sandbox::{Sandbox, sandbox, sh};
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
use ringmaster::transport::shell_quote;
use x509_parser::extensions::ParsedExtension;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn init_creates_the_layout_with_modes() {
    let sb = Sandbox::new(3, "0s");
    assert_eq!(mode(&sb.path().join("secrets.toml")), 0o600);
    assert!(sb.path().join("ca/ca.pem").is_file());
    assert!(sb.path().join("sandbox.json").is_file());
    let stock = std::fs::read_to_string("fixtures/cassandra-5.0.2.yaml").expect("fixture");
    for (i, node) in ["node1", "node2", "node3"].iter().enumerate() {
        let ssl = sb.path().join("nodes").join(node).join("etc/cassandra/ssl");
        assert_eq!(mode(&ssl), 0o750, "{node} ssl dir");
        assert_eq!(mode(&ssl.join(format!("{node}-keystore.p12"))), 0o600);
        assert_eq!(mode(&ssl.join("cassandra-truststore.p12")), 0o600);
        assert!(sb.path().join("nodes").join(node).join("state.json").is_file());
        let yaml = std::fs::read_to_string(sb.config(node)).expect("yaml");
        assert!(yaml.contains(&format!("\nlisten_address: 127.0.0.{}\n", i + 1)));
        // server_encryption_options is byte-identical to the stock file.
        let block = |t: &str| {
            let s = t.find("\nserver_encryption_options:").expect("block");
            let e = t.find("\nclient_encryption_options:").expect("next");
            t[s..e].to_owned()
        };
        assert_eq!(block(&yaml), block(&stock));
        assert!(sb.log_text(node).contains("Startup complete"), "{node} booted at init");
    }

    let inv = sb.inventory_toml();
    assert_eq!(inv["cluster"].as_str(), Some("sandbox"));
    assert_eq!(inv["secrets"].as_str(), Some("secrets.toml"));
    let d = &inv["defaults"];
    assert_eq!(d["transport"].as_str(), Some("local"));
    assert_eq!(
        d["log_path"].as_str().map(str::to_owned),
        Some(format!("{}/nodes/{{node}}/var/log/cassandra/system.log", sb.path().display()))
    );
    assert_eq!(
        d["nodetool_command"].as_str().map(str::to_owned),
        Some(format!("{} sandbox nodetool --dir {} {{node}}", shell_quote(bin()), shell_quote(&sb.path().display().to_string())))
    );
    let nodes = inv["node"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[2]["name"].as_str(), Some("node3"));
    assert_eq!(nodes[2]["address"].as_str(), Some("127.0.0.3"));
}

#[test]
fn inventory_commands_work_through_sh() {
    let sb = Sandbox::new(2, "0s");
    let inv = sb.inventory_toml();
    let nodetool = inv["defaults"]["nodetool_command"].as_str().expect("cmd").replace("{node}", "node2");
    let out = sh(&format!("{nodetool} version"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ReleaseVersion: 5.0.2\n");
    let restart = inv["defaults"]["restart_command"].as_str().expect("cmd").replace("{node}", "node2");
    let out = sh(&restart);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sb.log_text("node2").matches("Configuration location:").count(), 2, "booted again");
}

#[test]
fn keystores_open_with_the_secrets_and_chain_to_the_ca() {
    let sb = Sandbox::new(2, "0s");
    let (ks_pw, ts_pw) = sb.store_passwords();
    assert_ne!(ks_pw, ts_pw);
    assert!(ks_pw.len() >= 16);
    let ca_pem = std::fs::read(sb.path().join("ca/ca.pem")).expect("ca");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&ca_pem).expect("pem");
    let ca = pem.parse_x509().expect("ca cert");

    for (i, node) in ["node1", "node2"].iter().enumerate() {
        let ssl = sb.path().join("nodes").join(node).join("etc/cassandra/ssl");
        let bytes = std::fs::read(ssl.join(format!("{node}-keystore.p12"))).expect("keystore");
        assert!(KeyStore::from_pkcs12(&bytes, "wrong", Pkcs12ImportPolicy::Strict).is_err());
        let ks = KeyStore::from_pkcs12(&bytes, &ks_pw, Pkcs12ImportPolicy::Strict).expect("opens");
        let (_, chain) = ks.private_key_chain().expect("a private key entry");
        let (_, leaf) = x509_parser::parse_x509_certificate(chain.certs()[0].as_der()).expect("leaf");
        assert_eq!(leaf.issuer().as_raw(), ca.subject().as_raw());
        // Chain link: the leaf's authority key id is the CA's subject key id.
        let aki = leaf.extensions().iter().find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
            _ => None,
        });
        let ski = ca.extensions().iter().find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        });
        assert!(ski.is_some());
        assert_eq!(aki, ski, "{node} certificate is issued by the sandbox CA key");
        assert!(leaf.subject().to_string().contains(&format!("CN={node}")));
        let san = leaf.subject_alternative_name().expect("ok").expect("san");
        let names = format!("{:?}", san.value.general_names);
        assert!(names.contains(&format!("DNSName(\"{node}\")")), "{names}");
        assert!(names.contains(&format!("IPAddress([127, 0, 0, {}])", i + 1)), "{names}");

        let ts = std::fs::read(ssl.join("cassandra-truststore.p12")).expect("truststore");
        let ts = KeyStore::from_pkcs12(&ts, &ts_pw, Pkcs12ImportPolicy::Strict).expect("opens");
        let certs: Vec<_> = ts
            .entries()
            .filter_map(|(_, e)| match e {
                KeyStoreEntry::Certificate(c) => Some(c.as_der().to_vec()),
                _ => None,
            })
            .collect();
        assert_eq!(certs, vec![pem.contents.clone()], "the truststore holds exactly the CA");
    }
}

#[test]
fn init_refuses_a_non_empty_dir_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path().to_str().expect("utf-8");
    std::fs::write(tmp.path().join("precious.txt"), "keep").expect("write");
    let out = sandbox(&["init", "--dir", d, "--nodes", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    assert!(!tmp.path().join("cluster.toml").exists());
    let out = sandbox(&["init", "--dir", d, "--nodes", "1", "--force"]);
    assert!(out.status.success());
    assert!(tmp.path().join("precious.txt").exists(), "only sandbox paths are replaced");
    Sandbox::open(tmp.path()).assert_view("node1", &[("127.0.0.1", "UN")]);
}

#[test]
fn library_init_reports_what_it_built() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = ringmaster::sandbox::init(&ringmaster::sandbox::InitOptions {
        dir: tmp.path().join("lib"),
        nodes: 2,
        start_delay: std::time::Duration::ZERO,
        force: false,
        ringmaster_exe: Some(bin().into()),
        ssh_config: None,
    })
    .expect("init");
    assert_eq!(report.nodes, vec!["node1".to_owned(), "node2".to_owned()]);
    assert_eq!(report.inventory, report.dir.join("cluster.toml"));
    assert!(report.dir.is_absolute());
    Sandbox::open(&report.dir).assert_view("node2", &[("127.0.0.1", "UN"), ("127.0.0.2", "UN")]);
}
