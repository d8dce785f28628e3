#!/usr/bin/env python3
"""B6: real Cassandra 5.0 under client load: per-restart readiness and the client's view.

A real 3-node cassandra-all 5.0.9 cluster of bin/cassandra-testbed on 127.0.0.1-3 (Java 17),
the full built-in two-pass workflow through the local transport, while bin/workload keeps a
QUORUM load of writes and reads of acknowledged keys (RF 3, about 60 requests a second, three
client threads, 5 s client timeout) running. Per restart it reports, from ringmaster's
journal and every node's system.log: restart to the node's `Startup complete`, to the last
peer's `InetAddress /ADDR:7000 is now UP` for it, and to ringmaster's `await_un` ok; the lag
from the later of those signals to `await_un` ok (what [readiness] improves); `run` to the
first edit; and the client figures (failed requests, lost writes, wrong reads, latency).
"""

import os

import common
import realbed

NODES, RACKS = 3, 0


def report(results, quick, runs):
    rows, lags, firsts, walls, shares = [], [], [], [], []
    bed = results[0]["bed"]
    for r in results:
        walls.append(r["wall"])
        firsts.append(r["first_edit"])
        cassandra = 0.0
        for f in r["restarts"]:
            rows.append([r["run"], f["node"], f["pass"], common.fmt_s(f["startup"], 1), common.fmt_s(f["last_peer_up"], 1),
                         common.fmt_s(f["await_un_ok"], 1), common.fmt_s(f["lag"], 1)])
            if f["lag"] is not None:
                lags.append(f["lag"])
            start = f["drain_enter"] or f["restart_enter"]
            if f["ready_at"] is not None:
                cassandra += f["ready_at"] - start
        shares.append((r["wall"] - cassandra) / r["wall"])
    med_lag, med_first, med_wall, med_share = (common.median(lags), common.median(firsts), common.median(walls),
                                                common.median(shares))
    client_rows = [[r["run"], *realbed.client_row(r["client"])] for r in results]
    failed = sum(r["client"]["ops_failed"] for r in results)
    lost = sum(r["client"]["acknowledged_writes_lost"] or 0 for r in results)
    wrong = sum(r["client"]["wrong_reads"] for r in results)
    heads = [f"B6 real 5.0.9, 3 nodes, two passes under a QUORUM load of 60 ops/s: {common.fmt_s(med_wall, 0)} wall, "
             f"median lag from the last readiness signal to await_un ok {common.fmt_s(med_lag)} (goal of [readiness]: 1.0 s), "
             f"run to first edit {common.fmt_s(med_first)} (goal 8 s); client: {failed} failed requests, {lost} acknowledged "
             f"writes lost, {wrong} wrong reads"]
    body = "\n".join([
        f"{runs} run(s) of the full two-pass rollout on a fresh cluster (bin/cassandra-testbed reset), medians over "
        f"every restart; load average at the end {common.loadavg()}. Heap 768 MiB per node; ringmaster through the "
        "local transport (the nodes are on this machine; the SSH e2e test covers the transport).",
        "Times are seconds from ringmaster's journaled `restart` enter; `lag` is `await_un` ok minus the later of the "
        "node's `Startup complete` and the last peer's `is now UP` for it (log timestamps, millisecond resolution, "
        "same clock).",
        "",
        common.md_table(["run", "node", "pass", "to Startup complete", "to last peer's is now UP", "to await_un ok",
                         "lag"], rows),
        "",
        f"- Median lag from the last readiness signal to ringmaster's next action: **{common.fmt_s(med_lag)}** "
        f"([readiness] goal: at most 1.0 s; {'met' if med_lag is not None and med_lag <= 1.0 else 'NOT met'}).",
        f"- `run` to the first node's edit (preflight, stage_keys) under the load: **{common.fmt_s(med_first)}** "
        f"([readiness] goal: at most 8 s; {'met' if med_first is not None and med_first <= 8 else 'NOT met'}).",
        f"- Wall time of the rollout: {common.fmt_s(med_wall, 1)}; ringmaster's own share (wall time minus, per "
        f"restart, drain to the last readiness signal): {med_share * 100:.0f} %.",
        "",
        "The client's view (bin/workload: QUORUM writes of increasing keys and reads of acknowledged ones, idempotent "
        "prepared statements, token-aware round robin, the driver's default retry policy; every acknowledged write "
        "read back at ALL at the end):",
        "",
        common.md_table(["run", *realbed.CLIENT_HEADERS], client_rows),
        "",
        f"- Zero downtime for the client: {failed} failed requests, {lost} acknowledged writes lost, {wrong} wrong "
        f"reads ({'met' if failed == lost == wrong == 0 else 'NOT met'}).",
        "",
        "Command of one run:", "", "```sh", results[0]["command"], "```",
        "",
        f"Every request of each run is in `{bed}/workload-b6-rN.jsonl` (one JSON line per request).",
    ])
    return common.fragment(
        "B6", "real Cassandra 5.0 under client load: readiness per restart",
        "What it shows: on real nodes, how long after a restarted node is ready ringmaster moves on, how long "
        "preflight takes, and that a client at QUORUM sees no failed request during the whole two-pass rollout.",
        "bin/bench --only B6" + (" --quick" if quick else f" --runs {runs}"), body, heads)


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 1 if args.quick else args.runs

    def work():
        bed = realbed.RealBed(os.environ.get("BENCH_CASSANDRA_DIR", "/tmp/ringmaster-cassandra-b6"), NODES, RACKS)
        results = []
        for run_no in range(1, runs + 1):
            r = bed.rollout(f"b6-r{run_no}")
            events = realbed.journal_events(r["journal"])
            r.update(run=run_no, bed=str(bed.dir), restarts=realbed.restart_figures(bed, events),
                     first_edit=realbed.run_to_first_edit(events))
            results.append(r)
        bed.testbed("down")
        common.save_results("B6", {"results": results})
        return report(results, args.quick, runs)

    return common.guarded(args, "B6", "real Cassandra 5.0 under client load", "bin/bench --only B6", work)


if __name__ == "__main__":
    raise SystemExit(main())
