//! Reads what batch planning needs from the cluster itself: the datacenter and rack of
//! every node (`nodetool status`), every keyspace's replication (`nodetool
//! describecluster`) and the replicas of every token range of every counted keyspace
//! (`nodetool describering KS`).
//!
//! One node answers for the cluster: the first in inventory order whose nodetool works.
//! Preflight has already checked that every node sees the same ring, all `UN`, so one
//! view is the ring; `describering` is exact (it is what the coordinator uses), where
//! recomputing placement from replication settings would guess at the snitch.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cassandra::ring::{parse_describecluster, parse_describering};
use crate::cassandra::status::parse_status;
use crate::inventory::Inventory;
use crate::topology::{KeyspaceRing, Placement, Topology};
use crate::transport::Transport;

/// Reads the topology through the first node that answers; `ignore` names keyspaces not
/// to count. The error says which node answered what.
pub async fn collect(
    inventory: &Inventory,
    transports: &BTreeMap<String, Transport>,
    ignore: &[String],
    timeout: Duration,
) -> Result<Topology, String> {
    let mut tried = Vec::new();
    for node in &inventory.nodes {
        let Some(t) = transports.get(&node.name) else {
            tried.push(format!("`{}`: not connected", node.name));
            continue;
        };
        let nodetool = |sub: String| {
            let command = format!("{} {sub}", node.nodetool_command);
            async move {
                match t.run(&command, None, timeout).await {
                    Ok(out) if out.success() => Ok(out.stdout_str()),
                    Ok(out) => Err(format!("`{command}` on `{}` {}: {}", node.name, out.status_text(), out.stderr_str().trim())),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        let status = match nodetool("status".into()).await {
            Ok(s) => s,
            Err(e) => {
                tried.push(e);
                continue;
            }
        };
        let rows = parse_status(&status).map_err(|e| format!("`nodetool status` on `{}`: {e}", node.name))?;
        let mut nodes = Vec::new();
        for n in &inventory.nodes {
            let row = rows.iter().find(|r| r.address == n.address).ok_or_else(|| {
                format!(
                    "`{}` ({}) is not in `nodetool status` on `{}`, so its datacenter and rack are unknown",
                    n.name, n.address, node.name
                )
            })?;
            nodes.push(Placement { address: n.address.clone(), datacenter: row.datacenter.clone(), rack: row.rack.clone() });
        }
        let cluster = nodetool("describecluster".into()).await?;
        let description = parse_describecluster(&cluster).map_err(|e| format!("`nodetool describecluster` on `{}`: {e}", node.name))?;
        let mut keyspaces = Vec::new();
        for ks in description.keyspaces.iter().filter(|k| !k.is_local() && !ignore.contains(&k.name)) {
            let ring = nodetool(format!("describering {}", ks.name)).await?;
            let ranges = parse_describering(&ring).map_err(|e| format!("`nodetool describering {}` on `{}`: {e}", ks.name, node.name))?;
            keyspaces.push(KeyspaceRing::new(ks, ranges));
        }
        return Ok(Topology { nodes, keyspaces });
    }
    Err(format!("no node answered `nodetool status`: {}", tried.join("; ")))
}
