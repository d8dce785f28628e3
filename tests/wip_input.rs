//! Hostile and awkward input (issue 14: items 6, 7, 8 and the low "better next step"
//! errors) and the house rules of issue 21 that go with it (one `shell_quote`, the Ansible
//! parser in the inventory layer).

mod common;

use std::path::{Path, PathBuf};

#[allow(unused_imports)]
use common::{ringmaster, run};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn house_one_shell_quote_in_the_transport_layer() {
    let defs: Vec<String> =
        src_files().into_iter().filter(|(_, text)| text.contains("fn shell_quote(")).map(|(p, _)| p.display().to_string()).collect();
    assert_eq!(defs.len(), 1, "one shell_quote, found {defs:?}");
    assert!(defs[0].ends_with("src/transport/quote.rs"), "{defs:?}");
    let borrowed: Vec<String> = src_files()
        .into_iter()
        .filter(|(_, text)| text.contains("sandbox::init::shell_quote"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(borrowed.is_empty(), "the product borrows the sandbox's quoting in {borrowed:?}");
    assert_eq!(ringmaster::transport::shell_quote("it's"), r"'it'\''s'");
}

#[test]
fn house_the_ansible_parser_lives_in_the_inventory_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cli = std::fs::read_to_string(root.join("src/cli/inventory.rs")).unwrap();
    for parser_bit in ["serde_saphyr", "fn ini_words", "fn expand_range", "fn yaml_group", "enum YVal"] {
        assert!(!cli.contains(parser_bit), "src/cli/inventory.rs still holds `{parser_bit}`");
    }
    let lib = std::fs::read_to_string(root.join("src/inventory/ansible.rs")).unwrap();
    assert!(lib.contains("pub fn parse(") && lib.contains("fn expand_range"), "the parser is in src/inventory/ansible.rs");
    let inv = ringmaster::inventory::ansible::parse(Path::new("h.ini"), "[c]\ndb01 ansible_host=10.0.0.1\n").unwrap();
    assert_eq!(inv.resolve(Some("c")).unwrap()[0].address, "10.0.0.1");
}
