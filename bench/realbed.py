"""The real Cassandra test bed for the B6/B7 sections: bin/cassandra-testbed clusters, the
bin/workload client load, and the per-restart readiness figures read off the journal and
the nodes' system.log.

`RealBed(dir, nodes, racks)` lays out (once) and resets a cluster of real cassandra-all
nodes on 127.0.0.1..N; `rollout(mode)` runs ringmaster's full two-pass workflow on it
through the local transport while `bin/workload` keeps a QUORUM client load running, and
returns the wall time, the journal, the client summary and, per restart, the readiness
signals (`restart_figures`).
"""

import grp
import json
import pwd
import os
import re
import signal
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

import common

TESTBED = common.REPO / "bin" / "cassandra-testbed"
LOG_TIME = re.compile(r"^\w+ +\[[^\]]*\] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
PASSES = ("optional", "enforce")


class RealBed:
    def __init__(self, directory, nodes, racks):
        self.dir = Path(directory)
        self.nodes = nodes
        self.racks = racks
        self.inventory = None

    def testbed(self, *args, timeout=1800):
        argv = [str(TESTBED), "--dir", str(self.dir), "--nodes", str(self.nodes), "--racks", str(self.racks), *args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}:\n{p.stderr[-2000:]}")
        return p.stdout

    def fresh(self):
        """A cluster on its pristine configs, every node UN, and an inventory for it."""
        if not os.access("/usr/bin/java", os.X_OK):
            raise common.Unavailable("no java at /usr/bin/java")
        laid_out = (self.dir / "testbed.conf").exists()
        out = self.testbed("reset" if laid_out else "up")
        local = Path(out.strip().splitlines()[-1])
        certs = self.dir / "certs"
        text = local.read_text().replace(
            'transport = "local"',
            f'transport = "local"\nkeystore_source = "{certs}/{{node}}-keystore.p12"\n'
            f'truststore_source = "{certs}/cassandra-truststore.p12"\nkey_owner = "{pwd.getpwuid(os.getuid()).pw_name}"\nkey_group = "{grp.getgrgid(os.getgid()).gr_name}"',
        )
        self.inventory = self.dir / "cluster-bench.toml"
        self.inventory.write_text(text)
        return self.inventory

    def log(self, node):
        return (self.dir / node / "logs" / "system.log").read_text(errors="replace")

    def rollout(self, label, extra=()):
        """One full two-pass rollout of a fresh cluster under the client load."""
        inventory = self.fresh()
        journal = self.dir / f"bench-{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{journal}{suffix}").unlink(missing_ok=True)
        load = Workload(self, label)
        argv = [str(common.ringmaster_bin()), "--journal", str(journal), "run", "--yes", *extra, "-i", str(inventory)]
        common.log(f"{label}: {' '.join(argv[1:])} (load {common.loadavg()})")
        try:
            t = common.run_timed(argv, timeout=self.nodes * 600 + 600)
        finally:
            client = load.finish()
        if t.rc != 0:
            raise RuntimeError(f"{label}: ringmaster exited {t.rc}:\n{t.stderr.strip()[-2000:]}")
        return {"label": label, "wall": t.wall_s, "journal": str(journal), "client": client,
                "command": common.command_line(argv)}


class Workload:
    """bin/workload through the test bed, from its first acknowledged write to SIGTERM."""

    def __init__(self, bed, label):
        self.ready = bed.dir / f"workload-{label}.ready"
        self.ready.unlink(missing_ok=True)
        self.log = bed.dir / f"workload-{label}.jsonl"
        argv = [str(TESTBED), "--dir", str(bed.dir), "workload", "--ready-file", str(self.ready), "--log", str(self.log)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not self.ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the workload exited ({self.proc.returncode}) before its first acknowledged write")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("no acknowledged write from the workload within 120 s")
            time.sleep(0.1)

    def finish(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=600)
        if self.proc.returncode != 0:
            raise RuntimeError(f"the workload exited {self.proc.returncode}")
        summary = json.loads(out.strip().splitlines()[-1])
        summary["log"] = str(self.log)
        return summary


def journal_events(journal):
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        run = db.execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        rows = db.execute("SELECT seq, at, node, pass, phase, kind, detail FROM events WHERE run_id = ? ORDER BY seq", (run,)).fetchall()
    finally:
        db.close()
    return [{"seq": r[0], "at": r[1] / 1000.0, "node": r[2], "pass": r[3], "phase": r[4], "kind": r[5],
             "detail": json.loads(r[6]) if r[6] else {}} for r in rows]


def journaled_batches(events):
    for e in events:
        if e["node"] is None and e["detail"].get("event") == "batches":
            return [b["nodes"] for b in e["detail"]["batches"]]
    return None


def log_lines(text):
    """(unix time, line) of every timestamped system.log line (local time, as Cassandra logs)."""
    for line in text.splitlines():
        m = LOG_TIME.match(line)
        if m:
            yield datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp(), line


def first_after(lines, since, needle):
    return next((t for t, line in lines if t >= since and needle in line), None)


def restart_figures(bed, events):
    """Per restart (node, pass): seconds from ringmaster's restart to the node's `Startup
    complete`, to the last peer's `InetAddress /ADDR:7000 is now UP` for it, and to
    ringmaster's await_un ok; and the lag from the later of the two signals to await_un ok."""
    names = sorted({e["node"] for e in events if e["node"]}, key=lambda n: int(n[4:]))
    addr = {n: f"127.0.0.{int(n[4:])}" for n in names}
    logs = {n: list(log_lines(bed.log(n))) for n in names}
    rows = []
    for pass_name in PASSES:
        for node in names:
            def at(phase, kind, node=node):
                return next((e["at"] for e in events if e["node"] == node and e["pass"] == pass_name
                             and e["phase"] == phase and e["kind"] == kind), None)
            restart, un_ok = at("restart", "enter"), at("await_un", "ok")
            drain = at("drain", "enter")
            if restart is None or un_ok is None:
                continue
            startup = first_after(logs[node], restart, "Startup complete")
            ups = [first_after(logs[p], restart, f"InetAddress /{addr[node]}:7000 is now UP") for p in names if p != node]
            last_up = None if None in ups else max(ups)
            signals = [s for s in (startup, last_up) if s is not None]
            ready = max(signals) if len(signals) == 2 else None
            rows.append({"node": node, "pass": pass_name, "drain_enter": drain, "restart_enter": restart,
                         "startup": None if startup is None else startup - restart,
                         "last_peer_up": None if last_up is None else last_up - restart,
                         "await_un_ok": un_ok - restart,
                         "lag": None if ready is None else un_ok - ready,
                         "ready_at": ready, "un_ok_at": un_ok})
    return rows


def run_to_first_edit(events):
    first = events[0]["at"]
    edit = next((e["at"] for e in events if e["phase"] == "edit" and e["kind"] == "enter"), None)
    return None if edit is None else edit - first


def client_row(client):
    lat = client["latency_ms"]
    return [client["ops_ok"], client["ops_failed"], json.dumps(client["failures_by_kind"]) if client["failures_by_kind"] else "none",
            f"{lat['p50']} / {lat['p99']} / {lat['max']}", client["acknowledged_writes"],
            client["acknowledged_writes_lost"], client["wrong_reads"]]


CLIENT_HEADERS = ["ops ok", "ops failed", "failures by kind", "latency p50 / p99 / max (ms)", "acknowledged writes",
                  "acknowledged writes lost", "wrong reads"]
