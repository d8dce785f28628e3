#!/usr/bin/env python3
"""B7: real Cassandra 5.0, 6 nodes in 3 racks, `--batch rack` against `--batch node` under client load.

A real 6-node cassandra-all 5.0.9 cluster of bin/cassandra-testbed on 127.0.0.1-6
(`--nodes 6 --racks 3`: GossipingPropertyFileSnitch, two nodes per rack of DC dc1, the
workload's keyspace and the replicated system keyspaces NetworkTopologyStrategy dc1: 3), the
full two-pass workflow with `--batch rack` (two nodes down at once) and with `--batch node`,
each on a fresh cluster, while bin/workload keeps its QUORUM load running. Not part of CI.
"""

import os

import common
import realbed

NODES, RACKS = 6, 3
MODES = ("rack", "node")


def report(results, runs, bed, heap, rss):
    med = {m: common.median([r["wall"] for r in results if r["mode"] == m]) for m in MODES}
    rows, client_rows = [], []
    for r in results:
        sizes = "+".join(str(len(b)) for b in r["batches"]) if r["batches"] else "1 per node"
        rows.append([f"`--batch {r['mode']}`", r["run"], len(r["batches"]) if r["batches"] else NODES, sizes,
                     common.fmt_s(r["wall"], 1), common.fmt_ratio(r["wall"], med["node"])])
        client_rows.append([f"`--batch {r['mode']}` run {r['run']}", *realbed.client_row(r["client"])])
    failed = sum(r["client"]["ops_failed"] for r in results)
    lost = sum(r["client"]["acknowledged_writes_lost"] or 0 for r in results)
    wrong = sum(r["client"]["wrong_reads"] for r in results)
    heads = [f"B7 real 5.0.9, 6 nodes in 3 racks under a QUORUM load: --batch rack {common.fmt_s(med['rack'], 0)} against "
             f"node {common.fmt_s(med['node'], 0)} ({common.fmt_ratio(med['rack'], med['node'])}); client: {failed} failed "
             f"requests, {lost} acknowledged writes lost, {wrong} wrong reads"]
    body = "\n".join([
        f"{runs} run(s) per mode, each on a fresh cluster (bin/cassandra-testbed reset); load average at the end "
        f"{common.loadavg()}. Heap {heap} per node; the six JVMs took {rss} resident in all (measured at the end of "
        "the first rollout). Batches are the ones the run journaled, per pass.",
        "",
        common.md_table(["mode", "run", "batches per pass", "batch sizes", "wall (s)", "ratio to node"], rows),
        "",
        common.md_table(["run", *realbed.CLIENT_HEADERS], client_rows),
        "",
        f"- `--batch rack` takes {common.fmt_ratio(med['rack'], med['node'])} of `--batch node`'s wall time.",
        f"- Two nodes of a rack down at once, a QUORUM client sees {failed} failed requests, {lost} acknowledged "
        f"writes lost, {wrong} wrong reads ({'met' if failed == lost == wrong == 0 else 'NOT met'}).",
        "",
        "On this test bed the six JVMs share 2 cores, so two nodes restarting at once boot about half as fast as one (Cassandra's start is CPU-bound here), and preflight starts its `nodetool` JVMs on all six nodes at once: the window `--batch rack` saves on separate machines (B5's sandbox: 3 rounds per pass instead of 6) mostly goes to CPU contention here. What this section proves is the safety of two nodes down at once under a live QUORUM client, not the speed-up.",
        "",
        "Command of a `--batch rack` run:", "", "```sh",
        next(r["command"] for r in results if r["mode"] == "rack"), "```",
    ])
    return common.fragment(
        "B7", "real 6-node cluster in 3 racks: --batch rack against node, under client load",
        "What it shows: the riskiest thing ringmaster does, two nodes down at once, on real Cassandra with a live "
        "QUORUM client, and the maintenance window it saves.",
        f"bin/bench --only B7 --runs {runs}", body, heads)


def resident(bed):
    total = 0
    for k in range(1, NODES + 1):
        try:
            pid = (bed.dir / f"node{k}" / "pid").read_text().strip()
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return f"{total / 1024 / 1024:.1f} GiB"


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 1 if args.quick else args.runs

    def work():
        heap = os.environ.get("RINGMASTER_CASSANDRA_HEAP", "768m")
        bed = realbed.RealBed(os.environ.get("BENCH_CASSANDRA_DIR", "/tmp/ringmaster-cassandra-b7"), NODES, RACKS)
        results, rss = [], None
        for run_no in range(1, runs + 1):
            for mode in (MODES if run_no % 2 else tuple(reversed(MODES))):
                r = bed.rollout(f"b7-{mode}-r{run_no}", ["--batch", mode])
                rss = rss or resident(bed)
                events = realbed.journal_events(r["journal"])
                r.update(mode=mode, run=run_no, batches=realbed.journaled_batches(events))
                results.append(r)
        bed.testbed("down")
        common.save_results("B7", {"results": results})
        return report(results, runs, bed, heap, rss)

    return common.guarded(args, "B7", "real 6-node cluster in 3 racks", "bin/bench --only B7", work)


if __name__ == "__main__":
    raise SystemExit(main())
