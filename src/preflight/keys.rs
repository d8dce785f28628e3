//! Key material checks: each node's keystore and truststore, read from the node (or from
//! the local file `stage_keys` will install), opened with the passwords from the secrets.
//!
//! Per node: the keystore opens and matches the configured store type; it holds a private
//! key whose certificate belongs to it; the certificate is valid now and not about to
//! expire; the truststore opens; with endpoint verification on, the SANs cover the
//! node's address; files and directory have the owner and modes Cassandra expects.
//! Across nodes: no two nodes share a private key, and every node's truststore verifies
//! every node's chain by signature (a peer must accept every other peer).

use std::collections::BTreeMap;

use super::{Context, Report, Severity, final_setting, sh};
use crate::cassandra::keystore::{self, CertSummary, ChainVerdict, Store};
use crate::cassandra::yaml::Value;
use crate::inventory::Node;
use crate::transport::{TransportError, shell_quote};

/// What was learned about one node's key material.
struct NodeKeys {
    leaf: Option<(Vec<Vec<u8>>, CertSummary)>,
    truststore: Option<Store>,
}

fn str_setting(ctx: &Context<'_>, node: &Node, key: &str) -> Option<String> {
    match final_setting(ctx, node, key)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// Reads a store's bytes: the local source when `stage_keys` will install it, else the node's file.
async fn read_store(ctx: &Context<'_>, node: &Node, remote: &str, source: Option<&std::path::Path>) -> Result<(Vec<u8>, String), String> {
    if let Some(local) = source {
        return std::fs::read(local)
            .map(|b| (b, format!("`{}` (local, to be staged as `{remote}`)", local.display())))
            .map_err(|e| format!("cannot read `{}` (the inventory's key source for `{}`): {e}", local.display(), node.name));
    }
    let Some(t) = ctx.transport(&node.name) else { return Err(format!("no connection to `{}`", node.name)) };
    match t.read_file(remote, 0).await {
        Ok(b) => Ok((b, format!("`{remote}`"))),
        Err(TransportError::NotFound { .. }) => Err(format!(
            "`{remote}` does not exist on `{}`: install the node's key material there first (or name local files as `keystore_source` / `truststore_source` in the inventory and ringmaster stages them)",
            node.name
        )),
        Err(e) => Err(format!("cannot read `{remote}`: {e}")),
    }
}

fn days(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).map(|t| t.date().to_string()).unwrap_or_else(|_| unix.to_string())
}

/// Checks the keystore of `node`; returns its leaf chain and summary when one was found.
async fn keystore_checks(ctx: &Context<'_>, node: &Node, report: &mut Report) -> Option<(Vec<Vec<u8>>, CertSummary)> {
    let name = &node.name;
    let path = str_setting(ctx, node, "keystore")?;
    let Some(password) = ctx.secrets.get(name, "keystore_password") else {
        report.node(
            name,
            "keystore",
            Severity::Blocker,
            format!(
                "no keystore password for `{name}`: set `keystore_password` in the secrets file or RINGMASTER_SECRET_KEYSTORE_PASSWORD"
            ),
        );
        return None;
    };
    password_length(name, "keystore_password", password.expose(), report);
    let (bytes, shown) = match read_store(ctx, node, &path, node.keystore_source.as_deref()).await {
        Ok(r) => r,
        Err(e) => {
            report.node(name, "keystore", Severity::Blocker, e);
            return None;
        }
    };
    let store = match keystore::open(&bytes, password.expose()) {
        Ok(s) => s,
        Err(e) => {
            report.node(name, "keystore", Severity::Blocker, format!("keystore {shown} of `{name}`: {e}; check `keystore_password` for `{name}` in the secrets file, or regenerate the keystore"));
            return None;
        }
    };
    let configured = str_setting(ctx, node, "store_type").unwrap_or_else(|| "JKS".into());
    if !configured.eq_ignore_ascii_case(&store.kind.to_string()) {
        report.node(name, "keystore", Severity::Blocker, format!("keystore {shown} of `{name}` is {} but the workflow sets `store_type: {configured}`: Cassandra would fail with `Invalid keystore format`; convert it (`keytool -importkeystore -srcstoretype {} -deststoretype {configured} ...`) or change `store_type`", store.kind, store.kind));
        return None;
    }
    report.node(name, "keystore", Severity::Ok, format!("keystore {shown} opens with its password ({})", store.kind));
    let Some(entry) = store.keys.first() else {
        report.node(name, "key_pair", Severity::Blocker, format!("keystore {shown} of `{name}` holds no private key (only trusted certificates): import the node's key and certificate (`keytool -importkeystore` or `openssl pkcs12 -export`)"));
        return None;
    };
    match entry.key_matches_leaf() {
        Ok(true) => report.node(name, "key_pair", Severity::Ok, format!("the private key `{}` matches its certificate", entry.alias)),
        Ok(false) => {
            report.node(name, "key_pair", Severity::Blocker, format!("in keystore {shown} of `{name}`, the certificate of entry `{}` does not belong to its private key: rebuild the keystore from the node's key and the certificate issued for it", entry.alias));
            return None;
        }
        Err(e) => {
            report.node(name, "key_pair", Severity::Blocker, format!("keystore {shown} of `{name}`: {e}"));
            return None;
        }
    }
    let leaf = match keystore::describe(&entry.chain[0]) {
        Ok(c) => c,
        Err(e) => {
            report.node(name, "key_pair", Severity::Blocker, format!("keystore {shown} of `{name}`: {e}"));
            return None;
        }
    };
    let now = ctx.options.now;
    let warn = ctx.options.expiry_warning.as_secs() as i64;
    if leaf.not_after < now {
        report.node(
            name,
            "cert_expiry",
            Severity::Blocker,
            format!(
                "the certificate of `{name}` ({}) expired on {}: issue a new certificate for `{name}` and rebuild its keystore",
                leaf.subject,
                date(leaf.not_after)
            ),
        );
    } else if leaf.not_before > now {
        report.node(
            name,
            "cert_expiry",
            Severity::Blocker,
            format!(
                "the certificate of `{name}` ({}) is not valid before {}: check the clock of the CA, or wait",
                leaf.subject,
                date(leaf.not_before)
            ),
        );
    } else if leaf.not_after - now < warn {
        report.node(name, "cert_expiry", Severity::Warning, format!("the certificate of `{name}` ({}) expires on {} (in {} days, under the {}-day threshold): renew it soon; a hot reload picks up the new keystore", leaf.subject, date(leaf.not_after), days(leaf.not_after - now), days(warn)));
    } else {
        report.node(name, "cert_expiry", Severity::Ok, format!("the certificate of `{name}` is valid until {}", date(leaf.not_after)));
    }
    if final_setting(ctx, node, "require_endpoint_verification") == Some(Value::Bool(true)) || any_pass_verifies(ctx) {
        if keystore::san_covers(&leaf, &node.address) {
            report.node(name, "endpoint_san", Severity::Ok, format!("the certificate of `{name}` has a SAN for {}", node.address));
        } else {
            let kind = if node.address.parse::<std::net::IpAddr>().is_ok() { "an IP SAN" } else { "a DNS SAN" };
            report.node(name, "endpoint_san", Severity::Blocker, format!(
                "the workflow sets `require_endpoint_verification: true` but the certificate of `{name}` has no SAN for {} (its SANs: {}): peers would refuse it; reissue it with {kind} `{}` (e.g. `-ext SAN=ip:{}`)",
                node.address,
                sans(&leaf),
                node.address,
                node.address
            ));
        }
    }
    Some((entry.chain.clone(), leaf))
}

/// Adds a `password_length` blocker when the secret `key` of `node` is shorter than Java
/// keystores allow (keytool refuses it, and it could only be masked as a whole value).
fn password_length(name: &str, key: &str, password: &str, report: &mut Report) {
    let min = crate::secrets::MIN_PASSWORD_LEN;
    let len = password.chars().count();
    if len < min {
        report.node(name, "password_length", Severity::Blocker, format!(
            "`{key}` for `{name}` has {len} character(s); Java keystores need at least {min}: set a longer password on the store (`keytool -storepasswd`) and in the secrets file"
        ));
    }
}

fn any_pass_verifies(ctx: &Context<'_>) -> bool {
    ctx.workflow.passes.iter().any(|p| p.settings.iter().any(|(k, v)| k == "require_endpoint_verification" && v.as_bool() == Some(true)))
}

fn sans(c: &CertSummary) -> String {
    let all: Vec<String> = c.ip_sans.iter().map(|i| format!("IP:{i}")).chain(c.dns_sans.iter().map(|d| format!("DNS:{d}"))).collect();
    if all.is_empty() { "none".into() } else { all.join(", ") }
}

async fn truststore_checks(ctx: &Context<'_>, node: &Node, report: &mut Report) -> Option<Store> {
    let name = &node.name;
    let path = str_setting(ctx, node, "truststore")?;
    let Some(password) = ctx.secrets.get(name, "truststore_password") else {
        report.node(name, "truststore", Severity::Blocker, format!("no truststore password for `{name}`: set `truststore_password` in the secrets file or RINGMASTER_SECRET_TRUSTSTORE_PASSWORD"));
        return None;
    };
    password_length(name, "truststore_password", password.expose(), report);
    let (bytes, shown) = match read_store(ctx, node, &path, node.truststore_source.as_deref()).await {
        Ok(r) => r,
        Err(e) => {
            report.node(name, "truststore", Severity::Blocker, e);
            return None;
        }
    };
    match keystore::open(&bytes, password.expose()) {
        Ok(s) if s.anchors().is_empty() => {
            report.node(name, "truststore", Severity::Blocker, format!("truststore {shown} of `{name}` holds no certificate: import the CA (`keytool -importcert -alias ca -file ca.pem -keystore {}`)", shell_quote(&path)));
            None
        }
        Ok(s) => {
            report.node(
                name,
                "truststore",
                Severity::Ok,
                format!("truststore {shown} opens with its password ({}, {} certificate(s))", s.kind, s.anchors().len()),
            );
            Some(s)
        }
        Err(e) => {
            report.node(
                name,
                "truststore",
                Severity::Blocker,
                format!("truststore {shown} of `{name}`: {e}; check `truststore_password` for `{name}` in the secrets file"),
            );
            None
        }
    }
}

/// Owner, group and modes of the key files and their directory on the node.
async fn file_modes(ctx: &Context<'_>, node: &Node, report: &mut Report) {
    let name = &node.name;
    let Some(t) = ctx.transport(name) else { return };
    let mut files: Vec<String> = Vec::new();
    if node.keystore_source.is_none() {
        files.extend(str_setting(ctx, node, "keystore"));
    }
    if node.truststore_source.is_none() {
        files.extend(str_setting(ctx, node, "truststore"));
    }
    let Some(first) = files.first() else { return };
    let dir = std::path::Path::new(first).parent().map(|p| p.display().to_string()).unwrap_or_else(|| "/".into());
    let paths: Vec<&String> = files.iter().chain(std::iter::once(&dir)).collect();
    let args: Vec<String> = paths.iter().map(|p| sh(p)).collect();
    // One line per path, in the order given, and no path in the output: a path may hold
    // any byte but NUL, a newline too.
    let out = t.run(&format!("stat -L -c '%U %G %a' -- {}", args.join(" ")), None, ctx.options.command_timeout).await;
    let text = match out {
        Ok(o) if o.success() => o.stdout_str(),
        // A missing file is already a keystore/truststore blocker.
        _ => return,
    };
    let mut problems = Vec::new();
    let (mut chown, mut chmod600, mut chmod750) = (Vec::new(), Vec::new(), Vec::new());
    let (owner, group) = (&node.key_owner, &node.key_group);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != paths.len() {
        report.node(name, "key_files", Severity::Warning, format!("cannot read the owner and modes of the key files on `{name}` (`stat` printed {} line(s) for {} path(s)); check them by hand", lines.len(), paths.len()));
        return;
    }
    for (line, path) in lines.into_iter().zip(paths.iter().map(|p| p.as_str())) {
        let mut parts = line.splitn(3, ' ');
        let (Some(u), Some(_g), Some(mode)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let is_dir = path == dir;
        let want = if is_dir { "750" } else { "600" };
        let mode = format!("{mode:0>3}");
        if u != owner {
            problems.push(format!("`{path}` is owned by `{u}`, not `{owner}`"));
            chown.push(sh(path));
        }
        if mode != want {
            problems.push(format!("`{path}` has mode {mode}, not {want}"));
            if is_dir { chmod750.push(sh(path)) } else { chmod600.push(sh(path)) }
        }
    }
    let mut fixes = Vec::new();
    if !chown.is_empty() {
        fixes.push(format!("sudo chown {owner}:{group} {}", chown.join(" ")));
    }
    if !chmod600.is_empty() {
        fixes.push(format!("sudo chmod 600 {}", chmod600.join(" ")));
    }
    if !chmod750.is_empty() {
        fixes.push(format!("sudo chmod 750 {}", chmod750.join(" ")));
    }
    if problems.is_empty() {
        report.node(name, "key_files", Severity::Ok, format!("key files on `{name}` are owned by `{owner}`, mode 600, directory 750"));
    } else {
        report.node(name, "key_files", Severity::Warning, format!("on `{name}`: {}; run: {}", problems.join(", "), fixes.join(" && ")));
    }
}

/// Returns what keeps `anchors` from verifying each node's certificate chain.
fn chain_problems(found: &BTreeMap<String, NodeKeys>, anchors: &[keystore::TrustedCert]) -> Vec<String> {
    let mut problems = Vec::new();
    for (peer, k) in found {
        let Some((chain, leaf)) = &k.leaf else { continue };
        match keystore::verify_chain(chain, anchors) {
            ChainVerdict::Verified { .. } => {}
            ChainVerdict::NoIssuer { issuer } => problems.push(format!("it does not hold `{issuer}`, the issuer of `{peer}`'s certificate ({})", leaf.subject)),
            ChainVerdict::BadSignature { issuer } => problems.push(format!("it holds a certificate named `{issuer}`, but `{peer}`'s certificate was not signed by its key (a different CA with the same name)")),
            ChainVerdict::Unreadable(e) => problems.push(format!("the chain of `{peer}` does not parse: {e}")),
        }
    }
    problems
}

/// Adds every key finding, per node and across nodes.
pub async fn check(ctx: &Context<'_>, report: &mut Report) {
    let mut found: BTreeMap<String, NodeKeys> = BTreeMap::new();
    let parts = super::per_node(ctx, |node| async move {
        let mut r = Report::default();
        let leaf = keystore_checks(ctx, node, &mut r).await;
        let truststore = truststore_checks(ctx, node, &mut r).await;
        file_modes(ctx, node, &mut r).await;
        (node, r, NodeKeys { leaf, truststore })
    })
    .await;
    for (node, r, keys) in parts {
        report.findings.extend(r.findings);
        found.insert(node.name.clone(), keys);
    }
    // One private key on two nodes: same public key in both certificates.
    let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, k) in &found {
        if let Some((_, leaf)) = &k.leaf {
            by_key.entry(leaf.public_key_sha256.as_str()).or_default().push(name);
        }
    }
    for (name, k) in &found {
        let Some((_, leaf)) = &k.leaf else { continue };
        let sharing: Vec<&str> = by_key[leaf.public_key_sha256.as_str()].iter().copied().filter(|n| n != name).collect();
        if sharing.is_empty() {
            report.node(name, "unique_key", Severity::Ok, format!("`{name}` has a private key of its own"));
        } else {
            report.node(name, "unique_key", Severity::Blocker, format!(
                "`{name}` uses the same private key as {}: each node needs its own key pair (a copied key cannot be revoked for one node); generate a new key and certificate for `{name}`",
                sharing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    // Every truststore must accept every node's chain (each node is a peer of each).
    // The truststore is usually the same file on every node: verify each distinct set of
    // anchors once (N nodes would otherwise cost N^2 signature checks, 90,000 at 300 nodes).
    let mut verdicts: BTreeMap<Vec<Vec<u8>>, Vec<String>> = BTreeMap::new();
    for node in &ctx.inventory.nodes {
        let Some(ts) = found.get(&node.name).and_then(|k| k.truststore.as_ref()) else { continue };
        let anchors = ts.anchors();
        let key: Vec<Vec<u8>> = anchors.iter().map(|a| a.der.clone()).collect();
        let problems = verdicts.entry(key).or_insert_with(|| chain_problems(&found, &anchors)).clone();
        let path = str_setting(ctx, node, "truststore").unwrap_or_default();
        if problems.is_empty() {
            report.node(
                &node.name,
                "chain",
                Severity::Ok,
                format!("the truststore of `{}` verifies every node's certificate by signature", node.name),
            );
        } else {
            report.node(&node.name, "chain", Severity::Blocker, format!(
                "truststore `{path}` of `{}`: {}; import the CA that issued those certificates (`keytool -importcert -alias ca -file ca.pem -keystore {}`) and install the same truststore on every node",
                node.name,
                problems.join("; "),
                shell_quote(&path)
            ));
        }
    }
}
