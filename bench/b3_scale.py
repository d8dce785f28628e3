#!/usr/bin/env python3
"""B3, scale: `ringmaster preflight` and `ringmaster status` over 100 and 300 sandbox nodes
reached through the loopback sshd testbed (`bin/testbed`): wall time and peak memory.

`preflight -i INV --json` is the command that reads every node over SSH: it opens one
master connection per node, runs `nodetool status|netstats|version` on every node, reads
each cassandra.yaml, checks free space, backups and key material. `status` reads only the
journal (no SSH), so it is timed on the journal of a finished two-pass run over the same
inventory, written by `examples/journal_bench.rs` from a real 3-node run's events.

While preflight runs, a sampler (every 20 ms) records the peak number of ssh master
processes, of `sandbox nodetool` processes running at once (the concurrency the nodes
see) and of ringmaster's open file descriptors. Peak RSS is ringmaster's own, from
wait4(2) (ssh masters are separate processes).

The testbed lives in its own state dir and port (default /tmp/rm-bench-scale-testbed,
2322), never the shared /tmp/ringmaster-testbed. Python 3 stdlib only; writes a markdown
fragment to --out and prints it.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parent.parent










def cmdlines():
    """(pid, argv) of every process we can read."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    out.append((int(d), f.read().split(b"\0")))
            except OSError:
                pass
    return out


def is_master(argv, ssh_config):
    return argv and argv[0].endswith(b"ssh") and b"-M" in argv and ssh_config in argv


class Sampler(threading.Thread):
    """Samples /proc while `pid` runs: peak ssh masters, nodetool processes, open fds."""

    def __init__(self, pid, ssh_config, sandbox):
        super().__init__(daemon=True)
        self.pid, self.cfg, self.sandbox = pid, str(ssh_config).encode(), str(sandbox).encode()
        self.masters = self.nodetools = self.fds = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            procs = cmdlines()
            self.masters = max(self.masters, sum(1 for _, a in procs if is_master(a, self.cfg)))
            self.nodetools = max(self.nodetools, sum(1 for _, a in procs if b"nodetool" in a and self.sandbox in a and not a[0].endswith(b"sh")))
            try:
                self.fds = max(self.fds, len(os.listdir(f"/proc/{self.pid}/fd")))
            except OSError:
                pass
            self.stop.wait(0.02)


def timed_rss(cmd, env, sample=None):
    """Runs cmd, reaping it with wait4(2) for its own peak RSS; returns secs, rss_mb, code, out, err, sampler."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen([str(c) for c in cmd], stdout=fo, stderr=fe, env=env)
        s = Sampler(p.pid, *sample) if sample else None
        if s:
            s.start()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        secs = time.monotonic() - t0
        if s:
            s.stop.set()
            s.join()
        fo.seek(0)
        fe.seek(0)
        return {"secs": secs, "rss_mb": usage.ru_maxrss / 1024, "code": p.returncode,
                "out": fo.read().decode(), "err": fe.read().decode(), "sampler": s}




def bench_size(rm, example, template, work, nodes, runs, tb_env):
    t = time.monotonic()
    up = common.run_checked([ROOT / "bin" / "testbed", "up", "--nodes", nodes], env=tb_env)
    up_secs = time.monotonic() - t
    inv = Path(up.strip().splitlines()[-1])
    state = Path(tb_env["RINGMASTER_TESTBED_DIR"])
    env = dict(os.environ, RINGMASTER_JOURNAL=str(work / f"preflight{nodes}.db"))
    pre = []
    for _ in range(runs):
        r = timed_rss([rm, "preflight", "-i", inv, "--json"], env, sample=(state / "ssh_config", state / "sandbox"))
        if r["code"] not in (0, 3):
            sys.exit(f"b3: preflight on {nodes} nodes exited {r['code']}:\n{r['err'][-3000:]}")
        findings = json.loads(r["out"])
        r["findings"] = len(findings)
        r["blockers"] = sorted({f["check"] for f in findings if f["severity"] == "blocker"})
        # One message per blocking check, and how many nodes it hit, to say why.
        r["why"] = {}
        for f in findings:
            if f["severity"] == "blocker":
                n, msg = r["why"].get(f["check"], (0, f["message"]))
                r["why"][f["check"]] = (n + 1, msg)
        r["ssh_ok"] = sum(1 for f in findings if f["check"] == "ssh" and f["severity"] == "ok")
        # Masters left behind after ringmaster exited (they idle out after 300 s otherwise).
        r["left"] = sum(1 for _, a in cmdlines() if is_master(a, str(state / "ssh_config").encode()))
        pre.append(r)
    j = work / f"status{nodes}.db"
    fx = json.loads(common.run_checked([example, "fixture", "--template", template, "--journal", j, "--inventory", inv, "--cut", "0"]))
    st = [timed_rss([rm, "--journal", j, "status", fx["run"]], env) for _ in range(runs)]
    stj = [timed_rss([rm, "--journal", j, "status", "--json", fx["run"]], env) for _ in range(runs)]
    for r in st + stj:
        if r["code"] != 0:
            sys.exit(f"b3: status exited {r['code']}:\n{r['err'][-2000:]}")
    return {"nodes": nodes, "up": up_secs, "pre": pre, "st": st, "stj": stj, "events": fx["events"]}


def main():
    def extra(ap):
        ap.add_argument("--sizes", default="100,300", help="comma-separated node counts")
        ap.add_argument("--testbed-dir", default="/tmp/rm-bench-scale-testbed")
        ap.add_argument("--port", default="2322")
        ap.add_argument("--keep", action="store_true", help="leave the testbed running afterwards")

    args = common.parse_args(__doc__.splitlines()[0], extra)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        args.runs, sizes = 1, sizes[:1]
    rm = common.ringmaster_bin()
    example = common.example_bin("journal_bench")
    # The bench's own testbed: explicit dir and port, whatever the caller's environment says.
    tb_env = dict(os.environ, RINGMASTER_TESTBED_DIR=args.testbed_dir, RINGMASTER_TESTBED_PORT=args.port, RINGMASTER_BIN=str(rm))
    results = []
    with tempfile.TemporaryDirectory(prefix="rm-b3-") as tmp:
        work = Path(tmp)
        template = common.make_template(rm, work)
        try:
            for n in sizes:
                results.append(bench_size(rm, example, template, work, n, args.runs, tb_env))
        finally:
            if not args.keep:
                subprocess.run([ROOT / "bin" / "testbed", "down"], env=tb_env, capture_output=True)

    m = lambda rows, key: common.median([r[key] for r in rows])
    cmd = "bench/b3_scale.py" + (" --quick" if args.quick else f" --runs {args.runs} --sizes {args.sizes}")
    lines = [
        "## B3: scale (preflight and status over 100 and 300 nodes)",
        "",
        "What it shows: wall time and peak memory of `ringmaster preflight -i INV --json` (reads",
        "every node over SSH through the loopback sshd testbed, ceil(N/16) sshd processes) and of",
        "`ringmaster status` (reads the journal of a finished two-pass run over the same nodes).",
        "Peak masters / nodetools / fds are sampled from /proc every 20 ms during preflight.",
        "",
        f"Command: `{cmd}` (binary `{rm.relative_to(ROOT) if rm.is_relative_to(ROOT) else rm}`)",
        "",
        f"| nodes | preflight s (median of {args.runs}) | all runs | peak RSS MiB | peak ssh masters | peak concurrent nodetool | peak fds | masters left after exit | ssh ok | blockers | status s | status --json s | status RSS MiB | journal events |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        pre = r["pre"]
        each = ", ".join("%.2f" % x["secs"] for x in pre)
        blockers = ", ".join(pre[0]["blockers"]) or "none"
        lines.append(
            f"| {r['nodes']} | {m(pre, 'secs'):.2f} | {each} | {m(pre, 'rss_mb'):.1f} "
            f"| {max(x['sampler'].masters for x in pre)} | {max(x['sampler'].nodetools for x in pre)} | {max(x['sampler'].fds for x in pre)} "
            f"| {max(x['left'] for x in pre)} | {pre[0]['ssh_ok']}/{r['nodes']} | {blockers} "
            f"| {m(r['st'], 'secs'):.3f} | {m(r['stj'], 'secs'):.3f} | {m(r['st'], 'rss_mb'):.1f} | {r['events']} |"
        )
    if any(x["why"] for r in results for x in r["pre"]):
        lines.append("")
    for r in results:
        for k, x in enumerate(r["pre"]):
            for check, (n, msg) in sorted(x["why"].items()):
                lines.append(f"- {r['nodes']} nodes, run {k + 1}: `{check}` blocker on {n} node(s), e.g. {msg[:300]}")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        ratio = m(b["pre"], "secs") / m(a["pre"], "secs")
        lines += ["", f"Ratios: preflight {b['nodes']} vs {a['nodes']} nodes: {ratio:.2f}x the time for "
                  f"{b['nodes'] / a['nodes']:.1f}x the nodes; {m(b['pre'], 'secs') / b['nodes'] * 1000:.0f} ms per node at {b['nodes']}. "
                  f"Goal: {b['nodes']} nodes under 10 s: {'met' if m(b['pre'], 'secs') < 10 else 'NOT met'}."]
    lines += ["", "Testbed `up` (sshd groups + sandbox init), not timed above: "
              + ", ".join(f"{r['nodes']} nodes {r['up']:.1f} s" for r in results) + "."]
    big = results[-1]
    lines += ["", common.headline(
        f"B3 preflight over {big['nodes']} nodes through the loopback sshd: {m(big['pre'], 'secs'):.2f} s, peak RSS "
        f"{m(big['pre'], 'rss_mb'):.0f} MiB (goal under 10 s: {'met' if m(big['pre'], 'secs') < 10 else 'NOT met'}); "
        f"status of its journal {m(big['st'], 'secs'):.3f} s")]
    common.emit(args, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
