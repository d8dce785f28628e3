//! Shell completions and man pages are generated from the real command definition.

use crate::support::{ringmaster, run};

#[test]
fn completions_cover_every_command_in_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(ringmaster().args(["completions", shell]));
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        for cmd in ["export", "runs", "inventory", "resume", "status"] {
            assert!(text.contains(cmd), "{shell} completion knows `{cmd}`");
        }
        assert!(text.contains("events-json"), "{shell} completion knows run's flags");
    }
    let bad = run(ringmaster().args(["completions", "tcsh"]));
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_prints_a_roff_page_and_writes_one_page_per_command() {
    let out = run(ringmaster().arg("man"));
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH ringmaster"), "{page}");
    assert!(page.contains("export") && page.contains("journal"));
    let dir = tempfile::tempdir().unwrap();
    let out = run(ringmaster().args(["man", "--dir"]).arg(dir.path()));
    assert!(out.status.success());
    for name in ["ringmaster.1", "ringmaster-export.1", "ringmaster-runs.1", "ringmaster-inventory.1"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|_| panic!("{name} written"));
        assert!(text.contains(".TH"), "{name}");
    }
}
