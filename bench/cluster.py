"""The benchmark cluster: sandbox nodes behind ONE loopback sshd on port 22, for every tool.

cstar addresses hosts by the IP `nodetool status` reports and has no port option, so each
sandbox node K (address 127.0.0.K) gets an sshd ListenAddress 127.0.0.K:22. A ForceCommand
wrapper gives every node its own home and working directory (cstar keys its remote job dir by
job id only; shared homes collide), puts a `nodetool` that answers for that node on the PATH,
sets TERM=xterm (cstar's curses output needs a real terminfo entry) and TZ=UTC (the sandbox
writes log times in local time), and serves SFTP from the node's home (cstar uploads its job
with SFTP). ringmaster reaches the same sshd through an ssh_config (Host node1..nodeN, strict
known_hosts), so both tools pay the same SSH costs against the same nodes.

Port 22 is machine-wide, so `LoopbackCluster.start` takes an exclusive lock
(/tmp/ringmaster-bench-port22.lock) for as long as its sshd runs: two benchmark processes
(a smoke test and a full run) queue instead of fighting. Only 127.x addresses are accepted.
"""

import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

import common

#: sshd accepts at most 16 ListenAddress lines per process; one process per chunk.
LISTEN_PER_SSHD = 16
LOCK_PATH = Path("/tmp/ringmaster-bench-port22.lock")
SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


class ClusterUnavailable(common.Unavailable):
    """This machine cannot host the cluster (not root, no sshd, port 22 taken, lock busy)."""


def node_address(k):
    """The loopback address of sandbox node K (1-based), as `ringmaster sandbox init` assigns it."""
    return f"127.0.0.{k}"


def check_prerequisites(addresses):
    """Raises ClusterUnavailable with a reason when the cluster cannot run here."""
    if os.geteuid() != 0:
        raise ClusterUnavailable("not root (sshd on port 22 and root logins need root)")
    for exe in (SSHD, SFTP_SERVER, "/usr/bin/ssh", "/usr/bin/ssh-keygen"):
        if not os.access(exe, os.X_OK):
            raise ClusterUnavailable(f"`{exe}` is missing (apt-get install openssh-server openssh-client)")
    for a in addresses:
        if not a.startswith("127."):
            raise ClusterUnavailable(f"refusing non-loopback address `{a}`")


def _port_free(addr, port=22):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class LoopbackCluster:
    """One sshd (per 16 addresses) on <addr>:22 for nodes node1..nodeN, state under `state`.

    Use as a context manager: `with LoopbackCluster(state, n, sandbox_dir, bin) as c:`.
    `c.ssh_config` is the ringmaster-side config, `c.key` the client key (RSA, PEM, which
    paramiko reads), `c.home` a HOME for client tools (cstar), `c.sandbox_init(n, delay)`
    makes a fresh sandbox reached through this sshd and returns its inventory path.
    """

    def __init__(self, state, nodes, sandbox_dir, ringmaster, lock_wait_s=None):
        self.state = Path(state)
        self.n = nodes
        self.addresses = [node_address(k) for k in range(1, nodes + 1)]
        self.sandbox_dir = Path(sandbox_dir)
        self.bin = Path(ringmaster)
        # How long to queue behind another benchmark on port 22 ($BENCH_LOCK_WAIT_S, default 15 min).
        self.lock_wait_s = lock_wait_s if lock_wait_s is not None else float(os.environ.get("BENCH_LOCK_WAIT_S", 900))
        self.ssh_config = self.state / "ssh_config"
        self.known_hosts = self.state / "known_hosts"
        self.key = self.state / "id_rsa"
        self.home = self.state / "home"
        self.tools = self.state / "bin"
        self._lock = None
        self._pids = []

    # ------------------------------------------------------------------ files

    def _write_exec(self, path, text):
        path.write_text(text)
        path.chmod(0o755)

    def _prepare(self):
        check_prerequisites(self.addresses)
        s = self.state
        for d in (s, self.tools, self.home, s / "homes"):
            d.mkdir(parents=True, exist_ok=True)
        s.chmod(0o755)
        if not (s / "host_ed25519").exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ringmaster-bench-host",
                            "-f", str(s / "host_ed25519")], check=True)
        if not self.key.exists():
            # PEM RSA: paramiko (cstar) loads it through --ssh-identity-file; OpenSSH too.
            subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-m", "PEM", "-N", "",
                            "-C", "ringmaster-bench-client", "-f", str(self.key)], check=True)
        (s / "authorized_keys").write_text((s / "id_rsa.pub").read_text())
        (s / "authorized_keys").chmod(0o644)
        nodes_map = "".join(f"{a} node{k}\n" for k, a in enumerate(self.addresses, 1))
        (s / "nodes.map").write_text(nodes_map)
        for k in range(1, self.n + 1):
            (s / "homes" / f"node{k}").mkdir(exist_ok=True)
        lookup = (f'read -r _ _ addr _ <<<"$SSH_CONNECTION"\n'
                  f"node=$(awk -v a=\"$addr\" '$1 == a {{ print $2 }}' '{s}/nodes.map')\n"
                  f'[ -n "$node" ] || {{ echo "bench: no node listens at \'$addr\'" >&2; exit 1; }}\n')
        self._write_exec(self.tools / "rm-session", (
            "#!/bin/bash\n"
            "# generated by bench/cluster.py: the ForceCommand of the benchmark sshd. Gives each\n"
            "# node (the local address of the connection) its own HOME and working directory.\n"
            + lookup +
            f"export HOME='{s}/homes/'\"$node\" RM_NODE=\"$node\" TERM=xterm TZ=UTC\n"
            f"export PATH='{self.tools}':/usr/local/bin:/usr/bin:/bin\n"
            f"export RINGMASTER_JOURNAL='{s}/sandbox-journal.db'\n"
            'cd "$HOME" || exit 1\n'
            'case "$SSH_ORIGINAL_COMMAND" in\n'
            '  "") exec bash -l ;;\n'
            f'  {SFTP_SERVER}*|internal-sftp*) exec {SFTP_SERVER} -d "$HOME" ;;\n'
            '  *) exec bash -c "$SSH_ORIGINAL_COMMAND" ;;\n'
            "esac\n"))
        self._write_exec(self.tools / "nodetool", (
            "#!/bin/bash\n"
            "# generated by bench/cluster.py: nodetool for the sandbox node this ssh session is on.\n"
            + lookup +
            "args=()\n"
            "while [ $# -gt 0 ]; do\n"
            "  case $1 in\n"
            "    -u|-pw|-pwf|-h|-p) shift 2 || shift ;;\n"
            '    *) args+=("$1"); shift ;;\n'
            "  esac\n"
            "done\n"
            f"echo \"$(date +%s.%N) $node nodetool ${{args[*]}}\" >>'{s}/calls.log'\n"
            f"exec '{self.bin}' sandbox nodetool --dir '{self.sandbox_dir}' \"$node\" \"${{args[@]}}\"\n"))
        hostkey = " ".join((s / "host_ed25519.pub").read_text().split()[:2])
        self.known_hosts.write_text("".join(f"{a} {hostkey}\n" for a in self.addresses))
        self.ssh_config.write_text("".join(
            f"Host node{k}\n    HostName {a}\n    Port 22\n    User root\n    IdentityFile {self.key}\n"
            f"    IdentitiesOnly yes\n    UserKnownHostsFile {self.known_hosts}\n"
            f"    StrictHostKeyChecking yes\n    BatchMode yes\n"
            for k, a in enumerate(self.addresses, 1)))

    def _sshd_config(self, i, addresses):
        s = self.state
        return "".join(f"ListenAddress {a}:22\n" for a in addresses) + (
            f"HostKey {s}/host_ed25519\n"
            f"PidFile {s}/sshd{i}.pid\n"
            f"AuthorizedKeysFile {s}/authorized_keys\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
            "MaxSessions 64\nMaxStartups 64:30:128\n"
            # Skips root's ~/.bashrc for non-interactive sessions (see bin/testbed).
            "SetEnv SHLVL=1\n"
            f"Subsystem sftp {SFTP_SERVER}\n"
            f"ForceCommand {self.tools}/rm-session\n"
            "LogLevel INFO\n")

    # ------------------------------------------------------------------ lifecycle

    def _take_lock(self):
        self._lock = open(LOCK_PATH, "a+")
        deadline = time.monotonic() + self.lock_wait_s
        announced = False
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClusterUnavailable(f"another benchmark holds {LOCK_PATH} (port 22) for over {self.lock_wait_s:.0f} s")
                if not announced:
                    common.log(f"waiting for {LOCK_PATH}: another benchmark uses port 22")
                    announced = True
                time.sleep(0.5)

    def start(self):
        """Writes the files, takes the port-22 lock, starts sshd and waits until every node logs in."""
        self._prepare()
        self._take_lock()
        taken = [a for a in self.addresses if not _port_free(a)]
        if taken:
            self.stop()
            raise ClusterUnavailable(f"port 22 is taken on {', '.join(taken)}")
        Path("/run/sshd").mkdir(exist_ok=True)
        for i in range(0, self.n, LISTEN_PER_SSHD):
            chunk = self.addresses[i:i + LISTEN_PER_SSHD]
            cfg = self.state / f"sshd{i}.conf"
            cfg.write_text(self._sshd_config(i, chunk))
            pidfile = self.state / f"sshd{i}.pid"
            pidfile.unlink(missing_ok=True)
            r = subprocess.run([SSHD, "-f", str(cfg), "-E", str(self.state / f"sshd{i}.log")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                self.stop()
                raise ClusterUnavailable(f"sshd did not start: {r.stderr.strip()} (see {self.state}/sshd{i}.log)")
            deadline = time.monotonic() + 10
            while not pidfile.exists() or not pidfile.read_text().strip():
                if time.monotonic() > deadline:
                    self.stop()
                    raise ClusterUnavailable(f"sshd wrote no pid file {pidfile} within 10 s")
                time.sleep(0.05)
            self._pids.append(int(pidfile.read_text().strip()))
        self._wait_ready()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + 20
        for k in range(1, self.n + 1):
            while True:
                r = subprocess.run(["ssh", "-F", str(self.ssh_config), "-o", "ConnectTimeout=2", f"node{k}", "true"],
                                   capture_output=True, text=True)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    self.stop()
                    raise ClusterUnavailable(f"node{k} refused ssh for 20 s: {r.stderr.strip()}")
                time.sleep(0.1)

    def stop(self):
        """Stops the sshd processes this object started (and their session children), frees the lock."""
        for pid in self._pids:
            children = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    children.append(int(stat.parent.name))
            for p in [pid] + children:
                try:
                    os.kill(p, 15)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        self._pids = []
        if self._lock:
            self._lock.close()
            self._lock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ sandbox

    def sandbox_init(self, nodes, start_delay, journal, extra=()):
        """Makes a fresh sandbox of `nodes` nodes (all UN) reached through this sshd; returns cluster.toml.

        `extra`: more `sandbox init` arguments (`--racks 3 --keyspace ...`)."""
        if nodes > self.n:
            raise ValueError(f"sandbox of {nodes} nodes on a cluster of {self.n} addresses")
        r = common.run_timed([self.bin, "--journal", journal, "sandbox", "init", "--dir", self.sandbox_dir,
                              "--nodes", nodes, "--start-delay", start_delay, "--ssh-config", self.ssh_config,
                              "--force", *extra], env=dict(os.environ, TZ="UTC"))
        if r.rc != 0:
            raise RuntimeError(f"sandbox init failed: {r.stderr.strip()}")
        return self.sandbox_dir / "cluster.toml"
