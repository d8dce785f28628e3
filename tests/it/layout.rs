//! The test suite's own layout: one test binary, `tests/it/main.rs`, and every Rust file
//! under `tests/` one of its modules. A `tests/NAME.rs` would be a binary of its own (a
//! second link of the whole crate, run apart from this one); a `tests/it/NAME.rs` without
//! its `mod NAME;` line is never compiled, so its tests silently never run. And each data
//! file (fixture, test bed input, example) is stored once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Returns the module files `file` declares (`mod NAME;`, honouring `#[path = "..."]`),
/// where rustc looks for them: next to a `main.rs`/`mod.rs`, else in a directory named
/// after the file.
fn declared_modules(file: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let decl = regex::Regex::new(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;").expect("regex");
    let path_attr = regex::Regex::new(r#"^\s*#\[path\s*=\s*"([^"]+)"\]"#).expect("regex");
    let dir = file.parent().expect("a parent");
    let name = file.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
    let base = if matches!(name, "main" | "mod") { dir.to_path_buf() } else { dir.join(name) };
    let mut path = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(c) = path_attr.captures(line) {
            path = Some(dir.join(&c[1]));
        } else if let Some(c) = decl.captures(line) {
            let module = &c[1];
            out.push(path.take().unwrap_or_else(|| {
                let flat = base.join(format!("{module}.rs"));
                if flat.exists() { flat } else { base.join(module).join("mod.rs") }
            }));
        } else if !line.trim_start().starts_with("#[") && !line.trim_start().starts_with("//") {
            path = None;
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    walk(dir, out);
    out.retain(|p| p.extension().is_some_and(|x| x == "rs"));
}

/// The files of the module tree rooted at `root`, `root` included.
fn module_tree(root: &Path) -> BTreeSet<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(file) = todo.pop() {
        let file = std::fs::canonicalize(&file).unwrap_or_else(|e| panic!("{} is declared but missing: {e}", file.display()));
        if seen.insert(file.clone()) {
            todo.extend(declared_modules(&file));
        }
    }
    seen
}

/// Names the file's fix: where it goes and which line declares it.
fn fix_for(tests: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(tests).unwrap_or(file);
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("NAME");
    if rel.components().count() == 1 {
        format!(
            "tests/{}: its own test binary; `git mv tests/{0} tests/it/{0}`, add `mod {stem};` to tests/it/main.rs and replace its `mod common;` by `use crate::support::...`",
            rel.display()
        )
    } else {
        format!(
            "tests/{}: not declared by any module; add `mod {stem};` to its parent (tests/it/main.rs for tests/it/{stem}.rs)",
            rel.display()
        )
    }
}

#[test]
fn house_21_no_test_file_is_forgotten() {
    let tests = std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")).expect("tests/");
    let compiled = module_tree(&tests.join("it/main.rs"));
    let mut files = Vec::new();
    rust_files(&tests, &mut files);
    let forgotten: Vec<String> = files
        .iter()
        .map(|f| std::fs::canonicalize(f).expect("canonical"))
        .filter(|f| !compiled.contains(f))
        .map(|f| fix_for(&tests, &f))
        .collect();
    assert!(forgotten.is_empty(), "test files outside the one test binary (tests/it/main.rs):\n{}", forgotten.join("\n"));
    // The tree walk itself sees this binary's modules, this one and the support ones included.
    for module in ["it/layout.rs", "it/support/mod.rs", "it/support/sandbox.rs", "it/rollout.rs"] {
        assert!(compiled.contains(&tests.join(module)), "{module} not found in the module tree: {compiled:?}");
    }
}

#[test]
fn house_21_each_fixture_is_stored_once() {
    use sha2::Digest;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["fixtures", "cassandra", "tests/data", "examples", "workflows"] {
        walk(&root.join(dir), &mut files);
    }
    assert!(files.iter().any(|f| f.ends_with("fixtures/cassandra-5.0.2.yaml")), "the stock yaml is in fixtures/");
    let mut by_content: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for f in &files {
        let hash = hex::encode(sha2::Sha256::digest(std::fs::read(f).expect("read")));
        by_content.entry(hash).or_default().push(f.strip_prefix(root).expect("in the repo").display().to_string());
    }
    let copies: Vec<&Vec<String>> = by_content.values().filter(|names| names.len() > 1).collect();
    assert!(copies.is_empty(), "the same file stored more than once (keep one, point every user at it): {copies:?}");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
