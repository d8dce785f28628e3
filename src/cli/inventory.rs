//! `ringmaster inventory from-ansible FILE [--group G]` and `ringmaster inventory
//! discover --seed HOST`: write a starting `cluster.toml` from what already describes
//! the cluster (an Ansible inventory, or `nodetool status` on one node).
//!
//! Both print TOML that `Inventory::parse` accepts, in rollout order, with comments for
//! what TOML cannot carry (SSH ports, datacenters and racks). Nothing secret is ever
//! printed: Ansible passwords (`ansible_password`, `ansible_become_pass`, ...) are never
//! read into the output, only noted as present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::session::{self, ConnectArgs};
use crate::cassandra::status::{StatusNode, parse_status};
use crate::error::{CommandError, exit};
use crate::inventory::{Inventory, Node, TransportKind};
use crate::transport::shell_quote;
use crate::ui::out;

/// Write a cluster.toml from an Ansible inventory or from `nodetool status`.
#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// Convert an Ansible inventory (YAML or INI) into a cluster.toml on stdout
    FromAnsible {
        /// The Ansible inventory file (`.yml`/`.yaml` is read as YAML, anything else as INI)
        file: PathBuf,
        /// Only the hosts of this group (and its children); default: every host
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
        /// The cluster name; default: the group name, else `cluster`
        #[arg(long)]
        cluster: Option<String>,
        /// Print the resolved hosts as JSON instead of TOML
        #[arg(long)]
        json: bool,
    },
    /// Ask one node for `nodetool status` and print its nodes, DCs and racks as a cluster.toml
    Discover {
        /// The node to ask (an SSH destination or Host alias; any name with `--transport local`)
        #[arg(long, value_name = "HOST")]
        seed: String,
        /// The nodetool command on that node (`status` is appended)
        #[arg(long, default_value = "nodetool", value_name = "CMD")]
        nodetool_command: String,
        /// How to reach the seed
        #[arg(long, value_enum, default_value = "ssh")]
        transport: Via,
        /// An ssh_config file for the SSH connection
        #[arg(long, value_name = "FILE")]
        ssh_config: Option<PathBuf>,
        /// A known_hosts file for the SSH connection
        #[arg(long, value_name = "FILE")]
        known_hosts: Option<PathBuf>,
        /// Accept the seed's SSH host key if it is unknown
        #[arg(long)]
        accept_new_host_keys: bool,
        /// The cluster name to write
        #[arg(long, default_value = "cluster")]
        cluster: String,
        /// Print the parsed `nodetool status` rows as JSON instead of TOML
        #[arg(long)]
        json: bool,
    },
}

/// How `discover` reaches the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    Ssh,
    Local,
}

pub fn cmd_inventory(cmd: &InventoryCommand) -> Result<i32, CommandError> {
    match cmd {
        InventoryCommand::FromAnsible { file, group, cluster, json } => {
            let text = std::fs::read_to_string(file).map_err(|e| CommandError::usage(format!("cannot read `{}`: {e}", file.display())))?;
            let inv = parse_ansible(file, &text)?;
            let hosts = inv.resolve(group.as_deref()).map_err(|m| CommandError::usage(format!("{}: {m}", file.display())))?;
            if *json {
                crate::outln!("{}", serde_json::to_string_pretty(&hosts).expect("BUG: hosts serialize"))?;
            } else {
                let cluster = cluster.clone().or_else(|| group.clone()).unwrap_or_else(|| "cluster".into());
                let command = format!(
                    "ringmaster inventory from-ansible {}{}",
                    shell_quote(&file.display().to_string()),
                    group.as_ref().map(|g| format!(" --group {}", shell_quote(g))).unwrap_or_default()
                );
                out::print(&ansible_toml(&cluster, &command, &hosts, inv.has_passwords))?;
            }
            Ok(exit::OK)
        }
        InventoryCommand::Discover { seed, nodetool_command, transport, ssh_config, known_hosts, accept_new_host_keys, cluster, json } => {
            let kind = match transport {
                Via::Ssh => TransportKind::Ssh,
                Via::Local => TransportKind::Local,
            };
            let mut node = Node::with_defaults(seed, seed, kind);
            node.nodetool_command = nodetool_command.clone();
            node.boot_grace = Duration::ZERO;
            node.ssh_config = ssh_config.clone();
            node.known_hosts = known_hosts.clone();
            let inventory = Inventory { path: PathBuf::from("<discover>"), cluster: cluster.clone(), secrets: None, nodes: vec![node] };
            let connect = ConnectArgs { accept_new_host_keys: *accept_new_host_keys, ..ConnectArgs::default() };
            let command = format!("{nodetool_command} status");
            let rt = super::runtime()?;
            let output = rt.block_on(async {
                let transports = session::connect(&inventory, &connect).await?;
                let t = transports.get(seed.as_str()).expect("BUG: connect returns every node");
                t.run(&command, None, Duration::from_secs(60)).await.map_err(CommandError::from)
            })?;
            if !output.success() {
                return Err(CommandError::failed(format!(
                    "`{command}` on `{seed}` {}: {}",
                    output.status_text(),
                    output.stderr_str().trim()
                ))
                .hinted("check the command by hand on that node, or give it with `--nodetool-command`"));
            }
            let nodes =
                parse_status(&output.stdout_str()).map_err(|e| CommandError::failed(format!("`nodetool status` on `{seed}`: {e}")))?;
            if *json {
                crate::outln!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"seed": seed, "nodes": nodes})).expect("BUG: nodes serialize")
                )?;
            } else {
                out::print(&discovered_toml(cluster, seed, *transport, &nodes))?;
            }
            Ok(exit::OK)
        }
    }
}

/// Quotes a TOML string.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Returns `s` as a valid node name (letters, digits, `-`, `_`, `.`).
fn node_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect()
}

fn discovered_toml(cluster: &str, seed: &str, via: Via, nodes: &[StatusNode]) -> String {
    let mut dcs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in nodes {
        let racks = dcs.entry(&n.datacenter).or_default();
        if !racks.contains(&n.rack.as_str()) {
            racks.push(&n.rack);
        }
    }
    let summary = dcs.iter().map(|(dc, racks)| format!("{dc} (racks {})", racks.join(", "))).collect::<Vec<_>>().join("; ");
    let mut out = format!(
        "# discovered by `ringmaster inventory discover --seed {}` from `nodetool status` on {seed}\n# {} nodes in {} datacenter(s): {summary}\n# node names are the addresses; rename them, and check the rollout order (file order)\ncluster = {}\n# secrets = \"secrets.toml\"\n\n[defaults]\ntransport = {}\n",
        shell_quote(seed),
        nodes.len(),
        dcs.len(),
        q(cluster),
        q(match via {
            Via::Ssh => "ssh",
            Via::Local => "local",
        })
    );
    let mut current: Option<(&str, &str)> = None;
    for n in nodes {
        if current != Some((&n.datacenter, &n.rack)) {
            out.push_str(&format!("\n# datacenter {}, rack {}\n", n.datacenter, n.rack));
            current = Some((&n.datacenter, &n.rack));
        }
        out.push_str(&format!("[[node]]\nname = {}\naddress = {}\n", q(&node_name(&n.address)), q(&n.address)));
        let state = format!("{}{}", n.status, n.state);
        out.push_str(&format!(
            "# host id {}, {state} in the view of {seed}{}\n",
            n.host_id,
            if n.is_up_normal() { "" } else { "  <-- NOT UN" }
        ));
    }
    out
}

/// A YAML value that keeps mapping order (serde_json's map would sort the hosts).
#[derive(Debug, Clone)]
enum YVal {
    Null,
    Scalar(String),
    /// A sequence; inventories use none where ringmaster looks, so its items are dropped.
    Seq,
    Map(Vec<(String, YVal)>),
}

impl<'de> Deserialize<'de> for YVal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<YVal, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = YVal;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E>(self) -> Result<YVal, E> {
                Ok(YVal::Null)
            }
            fn visit_none<E>(self) -> Result<YVal, E> {
                Ok(YVal::Null)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<YVal, D::Error> {
                YVal::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<YVal, E> {
                Ok(YVal::Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<YVal, E> {
                Ok(YVal::Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<YVal, E> {
                Ok(YVal::Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<YVal, E> {
                Ok(YVal::Scalar(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<YVal, E> {
                Ok(YVal::Scalar(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<YVal, A::Error> {
                while a.next_element::<YVal>()?.is_some() {}
                Ok(YVal::Seq)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<YVal, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<YVal, YVal>()? {
                    let key = match k {
                        YVal::Scalar(s) => s,
                        YVal::Null => "null".into(),
                        _ => return Err(serde::de::Error::custom("a mapping key must be a scalar")),
                    };
                    out.push((key, v));
                }
                Ok(YVal::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

type Vars = Vec<(String, String)>;

/// One Ansible group, merged over every place the file mentions it.
#[derive(Debug, Default)]
struct Group {
    name: String,
    /// Hosts listed directly, in file order, with their inline vars.
    hosts: Vec<(String, Vars)>,
    children: Vec<String>,
    vars: Vars,
}

/// An Ansible inventory reduced to what ringmaster needs.
#[derive(Debug, Default)]
struct Ansible {
    groups: Vec<Group>,
    /// Some host or group sets a password variable (never printed).
    has_passwords: bool,
}

/// A host with its variables resolved the way Ansible resolves them.
#[derive(Debug, Serialize)]
struct Host {
    name: String,
    address: String,
    user: Option<String>,
    port: Option<u16>,
    groups: Vec<String>,
}

const PASSWORD_VARS: [&str; 5] =
    ["ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_pass", "ansible_become_password"];

impl Ansible {
    fn group(&mut self, name: &str) -> &mut Group {
        if let Some(i) = self.groups.iter().position(|g| g.name == name) {
            return &mut self.groups[i];
        }
        self.groups.push(Group { name: name.into(), ..Group::default() });
        self.groups.last_mut().expect("BUG: just pushed")
    }

    fn note_vars(&mut self, vars: &Vars) {
        if vars.iter().any(|(k, _)| PASSWORD_VARS.contains(&k.as_str())) {
            self.has_passwords = true;
        }
    }

    fn add_host(&mut self, group: &str, host: &str, vars: Vars) {
        self.note_vars(&vars);
        for h in expand_range(host) {
            self.group(group).hosts.push((h, vars.clone()));
        }
    }

    fn add_child(&mut self, parent: &str, child: &str) {
        self.group(child);
        let g = self.group(parent);
        if !g.children.iter().any(|c| c == child) {
            g.children.push(child.into());
        }
    }

    fn parents(&self, name: &str) -> Vec<&str> {
        let mut p: Vec<&str> = self.groups.iter().filter(|g| g.children.iter().any(|c| c == name)).map(|g| g.name.as_str()).collect();
        if p.is_empty() && name != "all" {
            p.push("all");
        }
        p
    }

    fn depth(&self, name: &str, seen: &mut Vec<String>) -> usize {
        if name == "all" || seen.iter().any(|s| s == name) {
            return 0;
        }
        seen.push(name.into());
        let d = self.parents(name).into_iter().map(|p| self.depth(p, seen) + 1).max().unwrap_or(1);
        seen.pop();
        d
    }

    /// Every host of `group` (with its children), in file order, with resolved vars.
    fn resolve(&self, group: Option<&str>) -> Result<Vec<Host>, String> {
        let root = group.unwrap_or("all");
        if root != "all" && !self.groups.iter().any(|g| g.name == root) {
            let known = self.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(format!("no group `{root}` (groups: {known})"));
        }
        // Which groups are under the root (all groups for `all`).
        let mut under: Vec<String> = vec![root.to_string()];
        let mut i = 0;
        while i < under.len() {
            if let Some(g) = self.groups.iter().find(|g| g.name == under[i]) {
                for c in &g.children {
                    if !under.contains(c) {
                        under.push(c.clone());
                    }
                }
            }
            i += 1;
        }
        let mut names: Vec<String> = Vec::new();
        for g in self.groups.iter().filter(|g| root == "all" || under.contains(&g.name)) {
            for (h, _) in &g.hosts {
                if !names.contains(h) {
                    names.push(h.clone());
                }
            }
        }
        if names.is_empty() {
            return Err(format!("group `{root}` has no hosts"));
        }
        let mut out = Vec::new();
        for name in names {
            // Ansible's precedence: `all`, then groups by depth (parents before children,
            // same depth by name), then the host's own vars.
            let mut groups: Vec<String> = Vec::new();
            let mut todo: Vec<String> =
                self.groups.iter().filter(|g| g.hosts.iter().any(|(h, _)| *h == name)).map(|g| g.name.clone()).collect();
            while let Some(g) = todo.pop() {
                if groups.contains(&g) {
                    continue;
                }
                todo.extend(self.parents(&g).into_iter().map(str::to_string));
                groups.push(g);
            }
            if !groups.iter().any(|g| g == "all") {
                groups.push("all".into());
            }
            groups.sort_by_key(|g| (self.depth(g, &mut Vec::new()), g.clone()));
            let mut vars: BTreeMap<String, String> = BTreeMap::new();
            for g in &groups {
                if let Some(group) = self.groups.iter().find(|x| &x.name == g) {
                    vars.extend(group.vars.iter().cloned());
                }
            }
            for g in &self.groups {
                for (h, hv) in &g.hosts {
                    if *h == name {
                        vars.extend(hv.iter().cloned());
                    }
                }
            }
            let get = |keys: &[&str]| keys.iter().find_map(|k| vars.get(*k).cloned());
            let port = match get(&["ansible_port", "ansible_ssh_port"]) {
                Some(p) => Some(p.parse::<u16>().map_err(|_| format!("host `{name}`: ansible_port `{p}` is not a port number"))?),
                None => None,
            };
            out.push(Host {
                address: get(&["ansible_host", "ansible_ssh_host"]).unwrap_or_else(|| name.clone()),
                user: get(&["ansible_user", "ansible_ssh_user"]),
                port,
                groups: groups.into_iter().filter(|g| g != "all").collect(),
                name,
            });
        }
        Ok(out)
    }
}

/// Expands Ansible's host ranges: `db[01:03]` is db01, db02, db03; `[a:c]` letters.
fn expand_range(host: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (host.find('['), host.find(']')) else { return vec![host.into()] };
    let Some((a, b)) = host[open + 1..close].split_once(':') else { return vec![host.into()] };
    let (prefix, suffix) = (&host[..open], &host[close + 1..]);
    if let (Ok(x), Ok(y)) = (a.parse::<u32>(), b.parse::<u32>()) {
        let width = if a.starts_with('0') { a.len() } else { 0 };
        return (x..=y).flat_map(|i| expand_range(&format!("{prefix}{i:0width$}{suffix}"))).collect();
    }
    match (a.chars().next(), b.chars().next()) {
        (Some(x), Some(y)) if a.len() == 1 && b.len() == 1 => (x..=y).flat_map(|c| expand_range(&format!("{prefix}{c}{suffix}"))).collect(),
        _ => vec![host.into()],
    }
}

fn scalar_vars(v: &YVal) -> Vars {
    match v {
        YVal::Map(m) => m
            .iter()
            .filter_map(|(k, v)| match v {
                YVal::Scalar(s) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

fn yaml_group(inv: &mut Ansible, name: &str, def: &YVal) {
    inv.group(name);
    let YVal::Map(entries) = def else { return };
    for (key, value) in entries {
        match key.as_str() {
            "hosts" => {
                if let YVal::Map(hosts) = value {
                    for (h, hv) in hosts {
                        inv.add_host(name, h, scalar_vars(hv));
                    }
                }
            }
            "vars" => {
                let vars = scalar_vars(value);
                inv.note_vars(&vars);
                inv.group(name).vars.extend(vars);
            }
            "children" => {
                if let YVal::Map(children) = value {
                    for (child, cdef) in children {
                        inv.add_child(name, child);
                        yaml_group(inv, child, cdef);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Splits an INI host line into words, honouring quotes: `db01 a=1 b="x y"`.
fn ini_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(ch),
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            (None, '#') if cur.is_empty() => break,
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn parse_ansible(path: &Path, text: &str) -> Result<Ansible, CommandError> {
    let mut inv = Ansible::default();
    let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"));
    if yaml {
        let doc: YVal =
            serde_saphyr::from_str(text).map_err(|e| CommandError::usage(format!("{}: not a YAML inventory: {e}", path.display())))?;
        let YVal::Map(top) = doc else {
            return Err(CommandError::usage(format!("{}: a YAML inventory is a mapping of groups", path.display())));
        };
        for (name, def) in &top {
            if name != "all" {
                inv.add_child("all", name);
            }
            yaml_group(&mut inv, name, def);
        }
        return Ok(inv);
    }
    let mut section = ("ungrouped".to_string(), "hosts".to_string());
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = match inner.split_once(':') {
                Some((g, kind @ ("vars" | "children"))) => (g.to_string(), kind.to_string()),
                Some(_) => return Err(CommandError::usage(format!("{}:{}: unknown section `[{inner}]`", path.display(), i + 1))),
                None => (inner.to_string(), "hosts".to_string()),
            };
            if section.0 != "all" {
                inv.add_child("all", &section.0.clone());
            }
            continue;
        }
        let (group, kind) = (&section.0, section.1.as_str());
        match kind {
            "vars" => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(CommandError::usage(format!("{}:{}: expected `key=value` in `[{group}:vars]`", path.display(), i + 1)));
                };
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
                let vars = vec![(k.trim().to_string(), v)];
                inv.note_vars(&vars);
                inv.group(group).vars.extend(vars);
            }
            "children" => {
                let child = line.to_string();
                inv.add_child(group, &child);
            }
            _ => {
                let words = ini_words(line);
                let Some((host, rest)) = words.split_first() else { continue };
                let mut vars = Vars::new();
                for w in rest {
                    let Some((k, v)) = w.split_once('=') else {
                        return Err(CommandError::usage(format!(
                            "{}:{}: expected `key=value` after host `{host}`, found `{w}`",
                            path.display(),
                            i + 1
                        )));
                    };
                    vars.push((k.to_string(), v.to_string()));
                }
                inv.add_host(group, host, vars);
            }
        }
    }
    // A group listed under another's `:children` is not a direct child of `all`.
    let nested: Vec<String> = inv.groups.iter().filter(|g| g.name != "all").flat_map(|g| g.children.clone()).collect();
    if let Some(all) = inv.groups.iter_mut().find(|g| g.name == "all") {
        all.children.retain(|c| !nested.contains(c));
    }
    Ok(inv)
}

fn ansible_toml(cluster: &str, command: &str, hosts: &[Host], has_passwords: bool) -> String {
    let mut out = format!("# generated by `{command}`\n# rollout order = the order below (the inventory's order); check it\n");
    if has_passwords {
        out.push_str("# the Ansible inventory sets password variables; ringmaster never copies them: use SSH keys\n");
    }
    out.push_str(&format!(
        "cluster = {}\n# secrets = \"secrets.toml\"   # keystore/truststore passwords, chmod 600\n\n[defaults]\ntransport = \"ssh\"\n",
        q(cluster)
    ));
    if hosts.iter().any(|h| h.port.is_some_and(|p| p != 22)) {
        out.push_str("# some hosts use another SSH port: put the `Host` blocks below into an ssh_config file and name it here\n# ssh_config = \"ssh_config\"\n");
    }
    for h in hosts {
        out.push_str(&format!(
            "\n[[node]]\nname = {}\naddress = {}   # must be the address `nodetool status` shows\n",
            q(&node_name(&h.name)),
            q(&h.address)
        ));
        let dest = match &h.user {
            Some(u) => format!("{u}@{}", h.address),
            None => h.address.clone(),
        };
        match h.port.filter(|p| *p != 22) {
            // ssh destinations carry no port; an ssh_config Host alias does.
            Some(port) => {
                out.push_str(&format!("ssh = {}\n", q(&node_name(&h.name))));
                out.push_str(&format!("# ssh_config:\n#   Host {}\n#     HostName {}\n", node_name(&h.name), h.address));
                if let Some(u) = &h.user {
                    out.push_str(&format!("#     User {u}\n"));
                }
                out.push_str(&format!("#     Port {port}\n"));
            }
            None if dest != h.address => out.push_str(&format!("ssh = {}\n", q(&dest))),
            None => {}
        }
        if !h.groups.is_empty() {
            out.push_str(&format!("# ansible groups: {}\n", h.groups.join(", ")));
        }
    }
    out
}
