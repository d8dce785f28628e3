#!/usr/bin/env python3
"""B5: topology-aware batches: a 12-node two-pass rollout, `--batch node` against `rack` and `auto`.

A sandbox of 12 nodes in 3 racks of one DC, every replicated keyspace NetworkTopologyStrategy
RF 3 (an `app` keyspace and the three replicated system keyspaces, altered as production
clusters run them), reached over the loopback sshd of bench/cluster.py. Each restart is a
fixed outage (the sandbox's start delay). The whole built-in workflow runs (both passes,
backup, edit, drain, restart, UN everywhere, log verification) with each batch mode; the
figures are the tool's wall time, the batches it journaled and the ratio against `node`.
"""

import os
import sqlite3
import json
from pathlib import Path

import common
from cluster import LoopbackCluster

MODES = ("node", "rack", "auto")
KEYSPACES = ("app", "system_auth", "system_distributed", "system_traces")


def configs(quick):
    """(nodes, racks, outage) of the runs."""
    return (6, 3, "1s") if quick else (12, 3, "5s")


def journaled_batches(journal):
    """The batches of the newest run, from its `batches` event (one per node without one)."""
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        run = db.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        rows = db.execute("SELECT detail FROM events WHERE run_id = ? AND node IS NULL ORDER BY seq", (run,)).fetchall()
        nodes = db.execute("SELECT COUNT(DISTINCT node) FROM events WHERE run_id = ? AND node IS NOT NULL",
                           (run,)).fetchone()[0]
    finally:
        db.close()
    for (detail,) in rows:
        d = json.loads(detail)
        if d.get("event") == "batches":
            return [b["nodes"] for b in d["batches"]]
    return [[f"node{k}"] for k in range(1, nodes + 1)]


def rollout(cluster, mode, nodes, racks, outage, run_no):
    """One full two-pass rollout of a fresh sandbox with `--batch mode`."""
    state = common.state_dir("b5")
    journal = state / f"{mode}-r{run_no}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    extra = ["--racks", str(racks)]
    for ks in KEYSPACES:
        extra += ["--keyspace", f"{ks}:NetworkTopologyStrategy:datacenter1=3"]
    inventory = cluster.sandbox_init(nodes, outage, journal, extra)
    argv = [cluster.bin, "--journal", journal, "run", "--yes", "--batch", mode, "-i", inventory]
    common.log(f"B5 run {run_no}: --batch {mode} (load {common.loadavg()})")
    t = common.run_timed(argv, env=dict(os.environ, TZ="UTC"), timeout=nodes * 240 + 120)
    if t.rc != 0:
        raise RuntimeError(f"--batch {mode} exited {t.rc}:\n{t.stderr.strip()[-1500:]}")
    batches = journaled_batches(journal)
    return {"mode": mode, "run": run_no, "wall": t.wall_s, "batches": batches,
            "command": common.command_line(argv, {"TZ": "UTC"})}


def report(results, quick, runs, nodes, racks, outage):
    """The B5 markdown fragment."""
    walls = {m: [r["wall"] for r in results if r["mode"] == m] for m in MODES}
    med = {m: common.median(w) for m, w in walls.items()}
    rows = []
    for m in MODES:
        b = next(r["batches"] for r in results if r["mode"] == m)
        sizes = "+".join(str(len(x)) for x in b)
        rows.append([f"`--batch {m}`", len(b), sizes, 2 * len(b), f"**{common.fmt_s(med[m])}**",
                     ", ".join(f"{w:.1f}" for w in walls[m]), common.fmt_ratio(med[m], med["node"])])
    heads = [f"B5 {nodes} nodes in {racks} racks, NTS RF 3, outage {outage}, two passes: --batch rack "
             f"{common.fmt_s(med['rack'])} and auto {common.fmt_s(med['auto'])} against node "
             f"{common.fmt_s(med['node'])} ({common.fmt_ratio(med['rack'], med['node'])} and "
             f"{common.fmt_ratio(med['auto'], med['node'])})"]
    body = "\n".join([
        f"Medians of {runs} run(s) per mode; load average at the end {common.loadavg()}. {nodes} sandbox nodes, "
        f"{racks} racks of one DC (node k in rack ((k-1) mod {racks}) + 1), keyspaces {', '.join(KEYSPACES)} all "
        f"NetworkTopologyStrategy `datacenter1=3`, each restart down for {outage}; the full built-in workflow "
        "(two passes) over SSH through the loopback sshd. Batches are the ones the run journaled.",
        "",
        common.md_table(["mode", "batches per pass", "batch sizes", "restart rounds (2 passes)", "total",
                         "runs (s)", "ratio to node"], rows),
        "",
        f"- {heads[0]}.",
        "",
        "With one replica of every range in each rack, a rack holds at most 1 of the 3 replicas of any range, "
        "which is what RF 3 allows (3 - LOCAL_QUORUM 2): `rack` and `auto` both find the three racks. The time "
        "per batch stays close to one outage plus ringmaster's per-node overhead: the nodes of a batch go "
        "through their phases concurrently, and the batch ends when all of them are UN everywhere and verified.",
        "",
        "Example command:", "", "```sh", next(r["command"] for r in results if r["mode"] == "rack"), "```",
    ])
    return common.fragment(
        "B5", "topology-aware batches: node against rack and auto",
        "What it shows: how much of a maintenance window `--batch rack|auto` saves when replication proves "
        "that a whole rack can restart at once.",
        "bin/bench --only B5" + (" --quick" if quick else f" --runs {runs}"), body, heads)


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    nodes, racks, outage = configs(args.quick)

    def work():
        results = []
        with LoopbackCluster(common.state_dir("cluster"), nodes, common.state_dir("sandbox"),
                             common.ringmaster_bin()) as c:
            for run_no in range(1, args.runs + 1):
                order = MODES if run_no % 2 else tuple(reversed(MODES))
                for mode in order:
                    results.append(rollout(c, mode, nodes, racks, outage, run_no))
        common.save_results("B5", {"results": results})
        return report(results, args.quick, args.runs, nodes, racks, outage)

    return common.guarded(args, "B5", "topology-aware batches", "bin/bench --only B5", work)


if __name__ == "__main__":
    raise SystemExit(main())
