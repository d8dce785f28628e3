#!/usr/bin/env python3
"""B2: UN detection latency, from ringmaster's journal against the sandbox's own log.

For every restarted node of the B1 ringmaster runs: the time ringmaster journaled the
`await_un` `ok` minus the time the node became `UN` (the sandbox's `state jump to NORMAL`
line). Reuses the runs B1 made in the same `bin/bench` call; run alone (`--only B2`) it makes
its own ringmaster-only rollouts with B1's configurations.
"""

import sys

import b1_rollout as b1
import common


def latencies(results, tool="ringmaster"):
    """(configuration label, seconds) per restarted node of every run of `tool` (a ringmaster variant)."""
    out = []
    for r in results:
        if r["tool"] != tool:
            continue
        for v in r["per_node"].values():
            if v.get("un_seen") is not None and v.get("up") is not None:
                out.append((f"N={r['nodes']}, outage {r['outage']}", (v["un_seen"] - v["up"]) / 1000))
    return out


def rows_of(lat, label):
    """Table rows per N and over all N for one variant."""
    groups = [(c, [x for m, x in lat if m == c]) for c in dict.fromkeys(m for m, _ in lat)]
    groups.append(("all", [x for _, x in lat]))
    return [[label, g, len(xs), f"**{common.median(xs):.3f} s**", f"{common.percentile(xs, 90):.3f} s",
             f"{min(xs):.3f} s", f"{max(xs):.3f} s"] for g, xs in groups if xs]


def report(results, quick, runs, reused):
    """The B2 markdown fragment."""
    all_xs = [x for _, x in latencies(results)]
    rows = rows_of(latencies(results), "built-in (500 ms)")
    variant = latencies(results, "ringmaster-poll100")
    if variant:
        rows += rows_of(variant, "`poll_interval = \"100ms\"`")
    med, p90 = common.median(all_xs), common.percentile(all_xs, 90)
    met = "met" if med is not None and med <= 0.5 else "NOT met"
    head = (f"B2 UN detection latency (built-in workflow): median {med:.3f} s, p90 {p90:.3f} s over "
            f"{len(all_xs)} restarts (goal median at most 0.5 s: {met})")
    source = ("the ringmaster runs of B1 above" if reused
              else f"{runs} ringmaster-only run(s) per B1 configuration, made by this section")
    body = "\n".join([
        f"Samples: every restarted node of {source}; load average at the end {common.loadavg()}.",
        "",
        common.md_table(["poll interval", "runs of", "samples", "median", "p90", "min", "max"], rows),
        "",
        f"- {head}.",
        "",
        "The wait is a poll, not a busy loop: `nodetool status` on every node every `poll_interval` (500 ms "
        "in the built-in workflow), each poll over the node's SSH master. The latency is therefore bounded by "
        "one poll interval plus one round of `nodetool status` over SSH (in the sandbox a `ringmaster sandbox "
        "nodetool` process per node); journal times are the commit of the `ok` event, so the figure includes "
        "the journal write. The sandbox's outage is exact, so where the join falls within the poll cycle "
        "repeats from node to node and the spread is narrow; with real restart times it is spread over a "
        "whole cycle (poll interval plus the poll round itself).",
    ])
    return common.fragment(
        "B2", "`UN` detection latency",
        "What it shows: how long after a restarted node is `UN` again ringmaster acts on it. Ground truth is the "
        "sandbox's `state jump to NORMAL` log line; ringmaster's side is the `at` (unix ms) of the `await_un` "
        "`ok` event in its journal (read with sqlite3, see docs/journal-schema.md).",
        "bin/bench --only B1,B2" + (" --quick" if quick else f" --runs {runs}"), body, [head])


def main():
    args = common.parse_args(__doc__.splitlines()[0])
    saved = common.load_results("B1")
    reused = saved is not None
    def work():
        results = saved["results"] if reused else b1.rollouts(args.quick, args.runs, tools=("ringmaster", "ringmaster-poll100"))
        if not latencies(results):
            raise RuntimeError("no ringmaster sample (no await_un ok in the journals)")
        return report(results, args.quick, args.runs, reused)

    return common.guarded(args, "B2", "`UN` detection latency", "bin/bench --only B2", work)


if __name__ == "__main__":
    sys.exit(main())
