//! When is a node `UN`? Only when every node that answers says so.
//!
//! Each node is asked for `nodetool status`; each answer is a [`View`]. The target
//! counts as up-normal when its own view answers (its JMX is up, it has started), and
//! every view that answers shows every inventory node `UN`: the target, because peers
//! must see it back, and the others, because the next restart must not start while
//! any node is down. A view that does not answer is recorded, never read as "up"; a
//! node missing from an answer counts as down.

use std::collections::BTreeMap;

use crate::cassandra::status::StatusNode;
use crate::inventory::Node;

/// One node's answer to `nodetool status` (or why there was none).
#[derive(Debug, Clone)]
pub struct View {
    pub from: String,
    pub result: Result<Vec<StatusNode>, String>,
}

/// The verdict of one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub un: bool,
    /// For each view: `"all UN"`, or what it showed that is not UN, or why it is missing.
    pub summary: BTreeMap<String, String>,
}

/// Judges whether the node at `target` is UN in every answering view.
pub fn judge_un(target: &str, nodes: &[Node], views: &[View]) -> Judgement {
    let mut summary = BTreeMap::new();
    let mut un = true;
    let target_name = nodes.iter().find(|n| n.address == target).map(|n| n.name.as_str());
    for view in views {
        match &view.result {
            Err(e) => {
                summary.insert(view.from.clone(), format!("no answer: {e}"));
                if Some(view.from.as_str()) == target_name {
                    un = false;
                }
            }
            Ok(rows) => {
                let mut not_un = Vec::new();
                for n in nodes {
                    match rows.iter().find(|r| r.address == n.address) {
                        Some(r) if r.is_up_normal() => {}
                        Some(r) => not_un.push(format!("{} {}{}", n.name, r.status, r.state)),
                        None => not_un.push(format!("{} missing", n.name)),
                    }
                }
                if not_un.is_empty() {
                    summary.insert(view.from.clone(), "all UN".into());
                } else {
                    un = false;
                    summary.insert(view.from.clone(), not_un.join(", "));
                }
            }
        }
    }
    if target_name.is_none() || views.is_empty() {
        un = false;
    }
    Judgement { un, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use std::path::Path;

    fn nodes() -> Vec<Node> {
        let text = "cluster = \"c\"\n[[node]]\nname = \"a\"\naddress = \"10.0.0.1\"\n[[node]]\nname = \"b\"\naddress = \"10.0.0.2\"\n";
        Inventory::parse(Path::new("/c.toml"), text).unwrap().nodes
    }

    fn row(address: &str, status: &str) -> StatusNode {
        StatusNode {
            datacenter: "dc1".into(),
            status: status[..1].into(),
            state: status[1..].into(),
            address: address.into(),
            port: None,
            load: None,
            tokens: Some(16),
            owns: None,
            host_id: "5d0e8b3a-1c2f-4e6b-8a9d-7f3c4b2e1a22".into(),
            token: None,
            rack: "rack1".into(),
        }
    }

    fn view(from: &str, rows: &[(&str, &str)]) -> View {
        View { from: from.into(), result: Ok(rows.iter().map(|(a, s)| row(a, s)).collect()) }
    }

    #[test]
    fn un_only_when_every_answer_agrees() {
        let n = nodes();
        let all = [("10.0.0.1", "UN"), ("10.0.0.2", "UN")];
        assert!(judge_un("10.0.0.1", &n, &[view("a", &all), view("b", &all)]).un);
        let j = judge_un("10.0.0.1", &n, &[view("a", &all), view("b", &[("10.0.0.1", "DN"), ("10.0.0.2", "UN")])]);
        assert!(!j.un);
        assert_eq!(j.summary["b"], "a DN");
        let j = judge_un("10.0.0.1", &n, &[view("a", &all), view("b", &[("10.0.0.2", "UN")])]);
        assert_eq!(j.summary["b"], "a missing");
        assert!(!j.un);
        assert!(!judge_un("10.0.0.1", &n, &[view("a", &all), view("b", &[("10.0.0.1", "UJ"), ("10.0.0.2", "UN")])]).un);
    }

    #[test]
    fn a_silent_target_is_not_up_but_a_silent_peer_is_only_recorded() {
        let n = nodes();
        let all = [("10.0.0.1", "UN"), ("10.0.0.2", "UN")];
        let silent = |from: &str| View { from: from.into(), result: Err("Connection refused".into()) };
        assert!(!judge_un("10.0.0.1", &n, &[silent("a"), view("b", &all)]).un);
        let j = judge_un("10.0.0.1", &n, &[view("a", &all), silent("b")]);
        assert!(j.un);
        assert!(j.summary["b"].contains("Connection refused"));
        assert!(!judge_un("10.9.9.9", &n, &[view("a", &all)]).un);
    }
}
