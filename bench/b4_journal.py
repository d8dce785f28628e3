#!/usr/bin/env python3
"""B4, journal: committed events per second with fsync, and `resume` replay time of a
300-node two-pass journal.

Both go through the real code: `examples/journal_bench.rs` appends events with the
`ringmaster::journal` API (synchronous=FULL, WAL: one fsync'd transaction per event), and
the resume is `ringmaster resume --events-json` on a real sandbox cluster. The events are
copied from a real 3-node sandbox run made first (per node and pass: pending, backup,
edit, drain, restart, await_un, verify_log enter/ok), retargeted to each node.

The resume journal is complete except the last 6 events of the last node's last pass
(restart, await_un, verify_log enter/ok). The sandbox is first brought to the state that
journal describes (every node edited for both passes and restarted), so the resume really
restarts the last node, waits for UN and verifies its log, and the run finishes.

Python 3 stdlib only. Writes a markdown fragment to --out and prints it.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent
# Events cut from the end of the last node's last pass.
CUT = 6












def prepare_sandbox(rm, work, nodes):
    """A local sandbox of `nodes` nodes in the state a finished run leaves (backup made,
    both passes rendered, restarted), so a resume of the last node's last phases succeeds."""
    d = work / f"sandbox{nodes}"
    common.run_checked([rm, "sandbox", "init", "--dir", d, "--nodes", nodes, "--journal", work / "init.db"])
    inv = d / "cluster.toml"

    def one(k):
        name = f"node{k}"
        cfg = d / "nodes" / name / "etc" / "cassandra" / "cassandra.yaml"
        shutil.copyfile(cfg, str(cfg) + ".before-internode-tls")
        opt = common.run_checked([rm, "render", "-i", inv, "--node", name, "--config", cfg, "--pass", "optional"])
        tmp = cfg.with_name("optional.yaml")
        tmp.write_text(opt)
        enf = common.run_checked([rm, "render", "-i", inv, "--node", name, "--config", tmp, "--pass", "enforce"])
        tmp.unlink()
        cfg.write_text(enf)
        common.run_checked([rm, "sandbox", "restart", "--dir", d, name])

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, range(1, nodes + 1)))
    return inv


def bench_append(example, template, work, events, runs):
    rates = []
    for k in range(runs):
        j = work / f"append{k}.db"
        out = json.loads(common.run_checked([example, "append", "--template", template, "--journal", j, "--events", events]))
        rates.append(out["events_per_sec"])
    return rates


def bench_resume(rm, example, template, inv, work, runs):
    """Per run: a fresh fixture journal, then `ringmaster resume --events-json` timed."""
    rows = []
    for k in range(runs):
        j = work / f"resume{k}.db"
        fx = json.loads(common.run_checked([example, "fixture", "--template", template, "--journal", j, "--inventory", inv, "--cut", CUT]))
        before = fx["events"] + 1  # the run's events, then one more per new event
        start_ms = time.time() * 1000
        t0 = time.monotonic()
        p = subprocess.Popen([str(rm), "--journal", str(j), "resume", "--events-json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_node_line = None
        for line in p.stdout:
            ev = json.loads(line)
            if first_node_line is None and ev.get("node"):
                first_node_line = time.monotonic() - t0
        _, status, usage = os.wait4(p.pid, 0)
        total = time.monotonic() - t0
        err = p.stderr.read()
        code = os.waitstatus_to_exitcode(status)
        db = sqlite3.connect(str(j))
        first_at, last_detail = db.execute("SELECT min(at), (SELECT detail FROM events ORDER BY seq DESC LIMIT 1) FROM events WHERE seq >= ?", (before,)).fetchone()
        db.close()
        if code != 0:
            sys.exit(f"b4: resume exited {code}:\n{err[-3000:]}")
        rows.append({
            "events": fx["events"],
            "first_new": (first_at - start_ms) / 1000,
            "first_node": first_node_line,
            "total": total,
            "rss_mb": usage.ru_maxrss / 1024,
            "end": json.loads(last_detail).get("event"),
        })
    return rows


def main():
    def extra(ap):
        ap.add_argument("--events", type=int, default=2000, help="events per append run")
        ap.add_argument("--nodes", type=int, default=300, help="nodes of the resumed run")

    args = common.parse_args(__doc__.splitlines()[0], extra)
    if args.quick:
        args.runs, args.events, args.nodes = 1, 200, 3
    rm = common.ringmaster_bin()
    example = common.example_bin("journal_bench")
    with tempfile.TemporaryDirectory(prefix="rm-b4-") as tmp:
        work = Path(tmp)
        template = common.make_template(rm, work)
        rates = bench_append(example, template, work, args.events, args.runs)
        t = time.monotonic()
        inv = prepare_sandbox(rm, work, args.nodes)
        prep = time.monotonic() - t
        rows = bench_resume(rm, example, template, inv, work, args.runs)

    cmd = "bench/b4_journal.py" + (" --quick" if args.quick else f" --runs {args.runs} --events {args.events} --nodes {args.nodes}")
    m = lambda key: common.median([r[key] for r in rows])
    per_event_ms = 1000 / common.median(rates)
    md = f"""## B4: journal

What it shows: how fast the journal commits events with `synchronous=FULL` in WAL mode (one
fsync'd transaction per event, through `ringmaster::journal::Journal::append`), and how long
`ringmaster resume` needs to replay a {args.nodes}-node two-pass journal before it acts again.
Events are copies of a real 3-node sandbox run's events, retargeted per node
(`examples/journal_bench.rs`). The resume journal lacks the last {CUT} events of the last node's
last pass; the resume restarts that node, waits for UN, verifies its log and finishes the run
(local transport, so the time is ringmaster's own, not SSH's).

Command: `{cmd}` (binary `{rm.relative_to(ROOT) if rm.is_relative_to(ROOT) else rm}`)

| measure | median of {args.runs} | all runs |
|---|---|---|
| committed events/s ({args.events} events per run) | {common.median(rates):.0f} | {", ".join(f"{r:.0f}" for r in rates)} |
| ms per committed event | {per_event_ms:.2f} | |
| resume: journal events replayed | {rows[0]["events"]} | |
| resume: start to first new journal event (s) | {m("first_new"):.3f} | {", ".join(f"{r['first_new']:.3f}" for r in rows)} |
| resume: start to first action on the node (s) | {m("first_node"):.3f} | {", ".join(f"{r['first_node']:.3f}" for r in rows)} |
| resume: total until the run finished (s) | {m("total"):.3f} | {", ".join(f"{r['total']:.3f}" for r in rows)} |
| resume: peak RSS (MiB) | {m("rss_mb"):.1f} | {", ".join(f"{r['rss_mb']:.1f}" for r in rows)} |

Ratios: one committed event costs {per_event_ms:.2f} ms, against a rollout's ~{13 * 2 * args.nodes} events
for {args.nodes} nodes that is {13 * 2 * args.nodes * per_event_ms / 1000:.1f} s of fsync over the whole run;
the replay before the first action is {m("first_node") / m("total") * 100:.0f}% of this resume.
(Sandbox preparation, not timed above: {prep:.1f} s. Last event of each resume: `{rows[0]["end"]}`.)
"""
    md += "\n" + common.headline(
        f"B4 journal: {common.median(rates):.0f} committed events/s (synchronous=FULL, WAL); resume of a {args.nodes}-node "
        f"two-pass journal ({rows[0]['events']} events) journals its first event after {m('first_new'):.3f} s") + "\n"
    common.emit(args, md)


if __name__ == "__main__":
    main()
