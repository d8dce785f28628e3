"""Shared helpers for the benchmark sections: the contract every `bench/<id>_*.py` follows.

A section script is run by `bench/run.py` (via `bin/bench`) as
`python3 bench/<id>_<name>.py --out FRAGMENT.md [--quick] [--runs K]`, with the environment
set up by `section_env()`: RINGMASTER_BIN (the binary under test), BENCH_STATE (the harness's
scratch directory), BENCH_INVOCATION (one id per `bin/bench` call, so sections can reuse raw
results another section of the same call saved with `save_results`). It writes one markdown
fragment (see `fragment()`), prints it, and exits 0; exit code SKIP (77) means "could not run
here" and the fragment says why. Everything is stdlib only, so the harness runs on a bare
Python 3.
"""

import argparse
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Exit code of a section that cannot run on this machine (its fragment says why).
SKIP = 77

#: The repository root (bench/ is one level down).
REPO = Path(__file__).resolve().parent.parent

#: Default scratch directory of the harness; `BENCH_STATE` overrides it.
DEFAULT_STATE = Path("/tmp/ringmaster-bench")


class Unavailable(Exception):
    """The section cannot run on this machine (missing tool, port taken, not root): exit SKIP."""


def parse_args(description, extra=None):
    """Parses the standard section arguments: --out, --quick, --runs (default 3; 1 with --quick).

    `extra(parser)` may add a section's own arguments."""
    p = argparse.ArgumentParser(description=description)
    if extra:
        extra(p)
    p.add_argument("--out", type=Path, help="write the markdown fragment here")
    p.add_argument("--quick", action="store_true", help="smallest configuration, one run, for smoke tests")
    p.add_argument("--runs", type=int, default=None, help="runs per configuration (median of K)")
    args = p.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        p.error("--runs wants a number >= 1")
    return args


def ringmaster_bin():
    """Returns the ringmaster binary under test: $RINGMASTER_BIN, else target/release, else target/debug."""
    env = os.environ.get("RINGMASTER_BIN")
    if env:
        return Path(env).resolve()
    for profile in ("release", "debug"):
        p = REPO / "target" / profile / "ringmaster"
        if p.exists():
            return p
    sys.exit("bench: no ringmaster binary; run `cargo build` or set RINGMASTER_BIN")


def example_bin(name):
    """The cargo example `name` built in the profile of the ringmaster binary under test
    (built when missing; this tree's debug build for a binary from elsewhere)."""
    profile_dir = ringmaster_bin().parent
    example = profile_dir / "examples" / name
    if not example.is_file():
        cmd = ["cargo", "build", "--quiet", "--example", name]
        if profile_dir.name == "release":
            cmd.append("--release")
        subprocess.run(cmd, cwd=REPO, check=True)
    if not example.is_file():
        example = REPO / "target" / "debug" / "examples" / name
        if not example.is_file():
            subprocess.run(["cargo", "build", "--quiet", "--example", name], cwd=REPO, check=True)
    return example


def run_checked(cmd, **kw):
    """Runs `cmd` and returns its stdout; a non-zero exit raises RuntimeError with its stderr."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, cmd))}` exited {r.returncode}:\n{r.stderr[-3000:]}")
    return r.stdout


def make_template(rm, work):
    """A real 3-node local sandbox run: the journal whose events `journal_bench` copies."""
    journal = Path(work) / "template.db"
    run_checked([rm, "sandbox", "init", "--dir", Path(work) / "template", "--nodes", "3", "--journal", journal])
    run_checked([rm, "--journal", journal, "run", "-i", Path(work) / "template" / "cluster.toml", "--yes"])
    return journal


def state_dir(*parts):
    """Returns (and creates) a directory under $BENCH_STATE (default /tmp/ringmaster-bench)."""
    d = Path(os.environ.get("BENCH_STATE", DEFAULT_STATE)).joinpath(*parts)
    d.mkdir(parents=True, exist_ok=True)
    return d


def venv_dir():
    """The harness venv for third-party tools (cstar): $BENCH_VENV, else /tmp/ringmaster-bench/venv.

    Shared between state dirs on purpose: a smoke test with its own BENCH_STATE reuses the
    tools a full run installed instead of downloading them again.
    """
    return Path(os.environ.get("BENCH_VENV", DEFAULT_STATE / "venv"))


def log(msg):
    """Prints a progress line on stderr (stdout carries the fragment)."""
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- statistics

def median(xs):
    """Median of a non-empty sequence (None when empty)."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(xs, p):
    """The p-th percentile (0-100) by linear interpolation between closest ranks; None when empty."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt_s(x, digits=2):
    """Formats seconds (or '-' for None)."""
    return "-" if x is None else f"{x:.{digits}f} s"


def fmt_ratio(a, b):
    """Formats a/b as `1/x` when a < b, else `x`, or '-' when undefined."""
    if a is None or b is None or a <= 0 or b <= 0:
        return "-"
    return f"1/{b / a:.1f}" if a < b else f"{a / b:.1f}x"


def md_table(headers, rows):
    """Renders a GitHub markdown table; cells are str()-ed."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------------------- processes

@dataclass
class Timed:
    """What `run_timed` observed: exit code, output, wall seconds, peak RSS (KiB)."""
    argv: list
    rc: int
    stdout: str
    stderr: str
    wall_s: float
    start: float
    end: float
    peak_rss_kib: int


def run_timed(argv, env=None, cwd=None, timeout=None, stdin_data=None):
    """Runs argv, returns a `Timed`.

    Wall time is monotonic; `start`/`end` are unix seconds (to compare with log and journal
    times). Peak RSS comes from wait4(2): the largest resident set of the child or any
    descendant it waited for. Output goes through temp files so that a chatty child never
    blocks on a full pipe. On timeout the child's process group is killed and rc is -9.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.time()
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [str(a) for a in argv], env=env, cwd=cwd, stdout=out, stderr=err,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            start_new_session=True,
        )
        if stdin_data is not None:
            proc.stdin.write(stdin_data.encode())
            proc.stdin.close()
        deadline = None if timeout is None else t0 + timeout
        status = rusage = None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                os.killpg(proc.pid, 9)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - t0
        end = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Timed([str(a) for a in argv], proc.returncode, out.read().decode(errors="replace"),
                     err.read().decode(errors="replace"), wall, start, end, rusage.ru_maxrss)


def command_line(argv, env=None):
    """Renders argv (with selected env assignments first) as a copy-pasteable shell line."""
    pre = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in (env or {}).items())
    return (pre + " " if pre else "") + " ".join(shlex.quote(str(a)) for a in argv)


# ---------------------------------------------------------------------------- machine

def _first_line(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine_info():
    """Facts that make figures comparable: cores, load, memory, kernel, OS, ssh, python, commit."""
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    osname = "unknown"
    try:
        m = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M)
        osname = m.group(1) if m else osname
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "memory": mem,
        "kernel": platform.release(),
        "os": osname,
        "ssh": _first_line(["ssh", "-V"]),
        "python": platform.python_version(),
        "rustc": _first_line(["rustc", "--version"]),
        "commit": _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def loadavg():
    """The 1-minute load average now, formatted (sections quote it next to their tables)."""
    return f"{os.getloadavg()[0]:.2f}"


# ---------------------------------------------------------------------------- output

def headline(text):
    """A marker line `bench/run.py` collects into the closing note of docs/BENCHMARKS.md."""
    return f"<!-- headline: {text} -->"


def fragment(section_id, title, shows, command, body, headlines=()):
    """Assembles a section fragment: `## ID: title`, what it shows, the command, the body."""
    parts = [f"## {section_id}: {title}", "", shows.strip(), "", "Reproduce:", "", "```sh",
             command.strip(), "```", "", body.strip(), ""]
    parts += [headline(h) for h in headlines]
    return "\n".join(parts).rstrip() + "\n"


def emit(args, text):
    """Prints the fragment on stdout and writes it to --out when given."""
    sys.stdout.write(text)
    sys.stdout.flush()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


def guarded(args, section_id, title, command, work):
    """Runs `work()`, which returns the section's fragment, and emits it (exit 0). A
    `Unavailable` emits a "Skipped on this machine" fragment (exit SKIP); a RuntimeError is
    logged (exit 1). Returns the exit code for `main`."""
    try:
        text = work()
    except Unavailable as e:
        emit(args, fragment(section_id, title, "Skipped.", command, f"Skipped on this machine: {e}."))
        log(f"{section_id} skipped: {e}")
        return SKIP
    except RuntimeError as e:
        log(f"{section_id} failed: {e}")
        return 1
    emit(args, text)
    return 0


def save_results(section_id, data):
    """Saves a section's raw results as JSON under $BENCH_STATE/results/<id>.json (tagged with the invocation)."""
    data = dict(data, invocation=os.environ.get("BENCH_INVOCATION"))
    path = state_dir("results") / f"{section_id.lower()}.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def load_results(section_id):
    """Returns the raw results another section saved in this same `bin/bench` call, else None."""
    path = state_dir("results") / f"{section_id.lower()}.json"
    inv = os.environ.get("BENCH_INVOCATION")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if inv and data.get("invocation") == inv else None
