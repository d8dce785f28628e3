//! Ansible inventories (YAML or INI) read into hosts, the way Ansible resolves them, and
//! written out as a starting `cluster.toml` (`ringmaster inventory from-ansible`).
//!
//! Only what ringmaster needs is kept: groups and their children, host and group vars,
//! `ansible_host`/`ansible_user`/`ansible_port`, host ranges (`db[01:03]`). Passwords
//! (`ansible_password`, `ansible_become_pass`, ...) are never read into the output, only
//! noted as present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{node_name_from, toml_quote as q};

/// Why an Ansible inventory could not be converted. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum AnsibleError {
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a YAML inventory: {detail}")]
    Yaml { path: PathBuf, detail: String },
    #[error("{path}: a YAML inventory is a mapping of groups")]
    NotAMapping { path: PathBuf },
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
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
pub struct Ansible {
    path: PathBuf,
    groups: Vec<Group>,
    /// Some host or group sets a password variable (never printed).
    has_passwords: bool,
}

/// A host with its variables resolved the way Ansible resolves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub name: String,
    pub address: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub groups: Vec<String>,
}

const PASSWORD_VARS: [&str; 5] =
    ["ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_become_pass", "ansible_become_password"];

impl Ansible {
    /// Reads and parses the inventory at `path` (`.yml`/`.yaml` as YAML, anything else as INI).
    pub fn load(path: &Path) -> Result<Ansible, AnsibleError> {
        let text = std::fs::read_to_string(path).map_err(|source| AnsibleError::Read { path: path.into(), source })?;
        parse(path, &text)
    }

    /// Returns true when some host or group sets a password variable (never copied).
    pub fn has_passwords(&self) -> bool {
        self.has_passwords
    }

    fn invalid(&self, message: String) -> AnsibleError {
        AnsibleError::Invalid { path: self.path.clone(), message }
    }

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

    /// Refuses a host whose values would not survive into a cluster.toml as one word each:
    /// an address that is no IP literal or host name, a user name with shell or ssh
    /// syntax, a name or group with a newline or other control character.
    fn check_host(&self, h: &Host) -> Result<(), AnsibleError> {
        let refuse = |what: String| {
            self.invalid(format!(
                "host `{}`: {what}; fix it in the Ansible inventory or pass `--group` to leave it out",
                h.name.escape_debug()
            ))
        };
        if h.name.chars().any(char::is_control) {
            return Err(refuse("the host name holds a control character (newline?)".into()));
        }
        if let Some(problem) = super::address_problem(&h.address) {
            return Err(refuse(format!("address `{}` {problem}", h.address.escape_debug())));
        }
        if let Some(u) = &h.user {
            let ok = !u.is_empty() && !u.starts_with('-') && u.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !ok {
                return Err(refuse(format!("ansible_user `{}` is not a user name (letters, digits, `.`, `_`, `-`)", u.escape_debug())));
            }
        }
        if let Some(g) = h.groups.iter().find(|g| g.chars().any(char::is_control)) {
            return Err(refuse(format!("group `{}` holds a control character", g.escape_debug())));
        }
        Ok(())
    }

    /// Every host of `group` (with its children), in file order, with resolved vars.
    pub fn resolve(&self, group: Option<&str>) -> Result<Vec<Host>, AnsibleError> {
        let root = group.unwrap_or("all");
        if root != "all" && !self.groups.iter().any(|g| g.name == root) {
            let known = self.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(self.invalid(format!("no group `{root}` (groups: {known})")));
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
            return Err(self.invalid(format!("group `{root}` has no hosts")));
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
                Some(p) => {
                    Some(p.parse::<u16>().map_err(|_| self.invalid(format!("host `{name}`: ansible_port `{p}` is not a port number")))?)
                }
                None => None,
            };
            let host = Host {
                address: get(&["ansible_host", "ansible_ssh_host"]).unwrap_or_else(|| name.clone()),
                user: get(&["ansible_user", "ansible_ssh_user"]),
                port,
                groups: groups.into_iter().filter(|g| g != "all").collect(),
                name,
            };
            self.check_host(&host)?;
            out.push(host);
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

/// Parses Ansible inventory text; `path` picks the syntax and names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<Ansible, AnsibleError> {
    let mut inv = Ansible { path: path.into(), ..Ansible::default() };
    let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"));
    if yaml {
        let doc: YVal = serde_saphyr::from_str(text).map_err(|e| AnsibleError::Yaml { path: path.into(), detail: e.to_string() })?;
        let YVal::Map(top) = doc else {
            return Err(AnsibleError::NotAMapping { path: path.into() });
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
        let at = |message: String| AnsibleError::Line { path: path.into(), line: i + 1, message };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = match inner.split_once(':') {
                Some((g, kind @ ("vars" | "children"))) => (g.to_string(), kind.to_string()),
                Some(_) => return Err(at(format!("unknown section `[{inner}]`"))),
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
                    return Err(at(format!("expected `key=value` in `[{group}:vars]`")));
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
                        return Err(at(format!("expected `key=value` after host `{host}`, found `{w}`")));
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

/// Returns a `cluster.toml` for `hosts` that `Inventory::parse` accepts, in rollout order,
/// with comments for what TOML cannot carry (SSH ports). `command` is the command line
/// that generated it, for the header.
pub fn cluster_toml(cluster: &str, command: &str, hosts: &[Host], has_passwords: bool) -> String {
    let command: String = command.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
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
            q(&node_name_from(&h.name)),
            q(&h.address)
        ));
        let dest = match &h.user {
            Some(u) => format!("{u}@{}", h.address),
            None => h.address.clone(),
        };
        match h.port.filter(|p| *p != 22) {
            // ssh destinations carry no port; an ssh_config Host alias does.
            Some(port) => {
                out.push_str(&format!("ssh = {}\n", q(&node_name_from(&h.name))));
                out.push_str(&format!("# ssh_config:\n#   Host {}\n#     HostName {}\n", node_name_from(&h.name), h.address));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_errors_name_file_and_line() {
        let err = parse(Path::new("hosts.ini"), "db01\n[x:weird]\n").unwrap_err().to_string();
        assert_eq!(err, "hosts.ini:2: unknown section `[x:weird]`");
        let err = parse(Path::new("hosts.ini"), "db01 port\n").unwrap_err().to_string();
        assert!(err.starts_with("hosts.ini:1: expected `key=value` after host `db01`"), "{err}");
    }

    #[test]
    fn ranges_and_group_vars_resolve() {
        let inv = parse(Path::new("h.ini"), "[c]\ndb[1:2] ansible_user=ops\n[c:vars]\nansible_port=2222\n").unwrap();
        let hosts = inv.resolve(Some("c")).unwrap();
        assert_eq!(hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["db1", "db2"]);
        assert_eq!((hosts[0].user.as_deref(), hosts[0].port), (Some("ops"), Some(2222)));
        assert!(inv.resolve(Some("nope")).unwrap_err().to_string().starts_with("h.ini: no group `nope`"));
    }
}
