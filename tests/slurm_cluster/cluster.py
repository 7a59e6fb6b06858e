"""A single-node SLURM with accounting, for the tests: start it, use it, stop it.

`start(DIR)` brings up, as root on a Debian machine without systemd, every
daemon the snakemake SLURM executor needs, each with its state, logs, pid and
sockets under DIR and on free loopback ports, so nothing in /etc or /run is
touched and a second cluster (or a second run) does not collide:

    munged      its own key and socket (DIR/munge)
    mariadbd    its own data directory (DIR/mysql), TCP on 127.0.0.1
    slurmdbd    accounting: cluster, account and user added with sacctmgr
    slurmctld   one partition, DefMemPerCPU, a gpu gres
    slurmd      the local host, CPUs and memory of this machine, GPUs on /dev/null

Clients find the cluster through SLURM_CONF=DIR/etc/slurm.conf (`Cluster.env`).
One thing lives outside DIR: /etc/slurm/slurm.conf, a symlink to DIR's while
the cluster runs. Inside a job, the executor's jobstep runs `srun` with every
SLURM_* variable but a few removed (SLURM_CONF too), so srun needs the config
at its compiled-in path, as on any real cluster. start() refuses to replace a
file there that is not such a link; stop() removes the link if it is its own.
`stop(DIR)` cancels the cluster's jobs and ends the daemons it started, by the
pids it recorded (DIR/run/*.pid), never by name. Facts this follows:
/work/shared/docs/slurm-notes.md. Debian packages: slurm-wlm slurmdbd munge
mariadb-server (`bash scripts/setup.sh slurm-wlm slurmdbd munge mariadb-server`).

Example:
  python tests/slurm_cluster/cluster.py start /tmp/slurm   # prints export SLURM_CONF=...
  SLURM_CONF=/tmp/slurm/etc/slurm.conf srun --gpus=1 hostname
  python tests/slurm_cluster/cluster.py stop /tmp/slurm
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES = ("slurm-wlm", "slurmdbd", "munge", "mariadb-server")
# Start order; stop goes the other way.
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")
CLUSTER, PARTITION, ACCOUNT = "alignnet", "debug", "alignnet"
DB_NAME, DB_USER = "slurm_acct_db", "slurm"
GPU_FILES = ("/dev/null", "/dev/zero")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


class ClusterError(RuntimeError):
    """The cluster could not be brought up; the message names the daemon and its log."""


@dataclass(frozen=True)
class Cluster:
    """A running test cluster: what a client needs to submit to it."""

    root: Path
    name: str = CLUSTER
    partition: str = PARTITION
    account: str = ACCOUNT
    host: str = socket.gethostname().split(".")[0]
    gpus: int = len(GPU_FILES)

    @property
    def slurm_conf(self) -> Path:
        return self.root / "etc" / "slurm.conf"

    def env(self) -> dict[str, str]:
        """os.environ with SLURM_CONF pointing at this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.slurm_conf)}

    def run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a SLURM client command (sacct, scontrol, ...) against this cluster."""
        result = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} exited with {result.returncode}: {result.stderr.strip()}")
        return result


def missing_packages() -> list[str]:
    """The Debian packages of PACKAGES that are not installed."""
    missing = []
    for package in PACKAGES:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_file(root: Path, daemon: str) -> Path:
    return root / "run" / f"{daemon}.started.pid"


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie child of ours counts as gone, and is reaped)."""
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _recorded_pid(root: Path, daemon: str) -> int | None:
    """The pid start() recorded for `daemon`, if that process still runs that program."""
    path = _pid_file(root, daemon)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return pid if Path(cmdline).name == daemon and _alive(pid) else None


def _spawn(root: Path, daemon: str, cmd: list[str], env: dict[str, str]) -> int:
    """Start a foreground daemon in its own session, output to DIR/log/<daemon>.out; record its pid."""
    with open(root / "log" / f"{daemon}.out", "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, start_new_session=True)
    _pid_file(root, daemon).write_text(f"{proc.pid}\n")
    return proc.pid


def _wait(what: str, ready, pid: int, log: Path, timeout: float) -> None:
    """Poll `ready()` until true; fail naming `what` and its log if its process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not _alive(pid):
            raise ClusterError(f"{what} exited during start; see {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} not ready within {timeout:.0f} s; see {log}:\n{_tail(log)}")
        time.sleep(0.3)


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _render(template: str, target: Path, values: dict[str, object], mode: int = 0o644) -> None:
    text = string.Template((HERE / template).read_text()).substitute(values)
    target.write_text(text)
    target.chmod(mode)


SCHEDULED_MEMORY_MB = 131072  # RealMemory of the node: room for the profile's largest requests


def _memory_mb() -> int:
    """This machine's memory less 1 GiB for the daemons, in MB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return max(1024, int(line.split()[1]) // 1024 - 1024)
    raise ClusterError("MemTotal missing from /proc/meminfo")


def _configure(root: Path, cluster: Cluster) -> dict[str, object]:
    """Write DIR/etc/{slurm,slurmdbd,gres}.conf (with fresh ports) and return the values used."""
    for sub in ("etc", "run", "log", "munge", "mysql", "state/slurmctld", "state/slurmd"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    password_file = root / "etc" / "db-password"
    if not password_file.exists():
        password_file.write_text(secrets.token_hex(12))
        password_file.chmod(0o600)
    cpus = os.cpu_count() or 1
    values = {
        "root": root,
        "cluster": cluster.name,
        "partition": cluster.partition,
        "host": cluster.host,
        "ctld_port": free_port(),
        "slurmd_port": free_port(),
        "dbd_port": free_port(),
        "mysql_port": free_port(),
        "munge_socket": root / "munge" / "munge.socket",
        "cpus": cpus,
        "real_memory": max(SCHEDULED_MEMORY_MB, _memory_mb()),
        "def_mem_per_cpu": min(1000, _memory_mb() // cpus),
        "gpus": cluster.gpus,
        "gpu_files": ",".join(GPU_FILES[: cluster.gpus]),
        "db_user": DB_USER,
        "db_password": password_file.read_text().strip(),
        "db_name": DB_NAME,
    }
    _render("slurm.conf.in", root / "etc" / "slurm.conf", values)
    _render("gres.conf.in", root / "etc" / "gres.conf", values)
    _render("slurmdbd.conf.in", root / "etc" / "slurmdbd.conf", values, mode=0o600)
    return values


def _link_system_conf(conf: Path) -> None:
    """Point /etc/slurm/slurm.conf at `conf`; only a missing file or a dangling or own link is replaced."""
    if SYSTEM_CONF.is_symlink() and (SYSTEM_CONF.resolve() == conf or not SYSTEM_CONF.exists()):
        SYSTEM_CONF.unlink()
    elif SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        raise ClusterError(f"{SYSTEM_CONF} belongs to another SLURM ({SYSTEM_CONF.resolve()}); not replacing it")
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SYSTEM_CONF.symlink_to(conf)


def _unlink_system_conf(conf: Path) -> None:
    if SYSTEM_CONF.is_symlink() and SYSTEM_CONF.resolve() == conf.resolve():
        SYSTEM_CONF.unlink()


def _start_munge(root: Path, env: dict[str, str], timeout: float) -> None:
    key = root / "munge" / "munge.key"
    if not key.exists():
        subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True)
    sock = root / "munge" / "munge.socket"
    cmd = [
        "munged",
        "--foreground",
        "--force",
        f"--socket={sock}",
        f"--key-file={key}",
        f"--log-file={root / 'log' / 'munged.log'}",
        f"--pid-file={root / 'run' / 'munged.pid'}",
        f"--seed-file={root / 'munge' / 'munged.seed'}",
    ]
    pid = _spawn(root, "munged", cmd, env)
    _wait("munged", sock.exists, pid, root / "log" / "munged.out", timeout)


def _mysql(root: Path, sql: str) -> None:
    cmd = ["mariadb", "--no-defaults", f"--socket={root / 'mysql' / 'mysqld.sock'}", "-u", "root", "-e", sql]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def _start_mariadb(root: Path, values: dict[str, object], env: dict[str, str], timeout: float) -> None:
    data = root / "mysql" / "data"
    if not (data / "mysql").exists():
        cmd = [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ]
        with open(root / "log" / "mariadb-install-db.out", "ab") as out:
            subprocess.run(cmd, check=True, stdout=out, stderr=out)
    sock = root / "mysql" / "mysqld.sock"
    cmd = [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={sock}",
        f"--port={values['mysql_port']}",
        "--bind-address=127.0.0.1",
        f"--pid-file={root / 'run' / 'mariadbd.pid'}",
        "--user=root",
        f"--log-error={root / 'log' / 'mariadbd.log'}",
        "--innodb-use-native-aio=0",
        "--innodb-buffer-pool-size=64M",
        "--skip-log-bin",
    ]
    pid = _spawn(root, "mariadbd", cmd, env)
    _wait(
        "mariadbd",
        lambda: sock.exists() and _port_open(int(values["mysql_port"])),
        pid,
        root / "log" / "mariadbd.log",
        timeout,
    )
    user, password = values["db_user"], values["db_password"]
    _mysql(
        root,
        f"CREATE DATABASE IF NOT EXISTS {DB_NAME}; "
        f"CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'; "
        f"CREATE USER IF NOT EXISTS '{user}'@'localhost' IDENTIFIED BY '{password}'; "
        f"GRANT ALL ON {DB_NAME}.* TO '{user}'@'127.0.0.1'; "
        f"GRANT ALL ON {DB_NAME}.* TO '{user}'@'localhost';",
    )


def _sacctmgr_add(cluster: Cluster, *args: str) -> None:
    """`sacctmgr -i add ...`; an entity that already exists is fine (idempotent start)."""
    result = cluster.run("sacctmgr", "-i", "add", *args, check=False)
    said = (result.stdout + result.stderr).lower()
    if result.returncode != 0 and "already exist" not in said and "nothing new added" not in said:
        raise ClusterError(f"sacctmgr add {' '.join(args)}: {result.stdout.strip()} {result.stderr.strip()}")


def _node_state(cluster: Cluster) -> str:
    result = cluster.run("sinfo", "-h", "-n", cluster.host, "-o", "%T", check=False, timeout=20)
    return result.stdout.strip()


def start(root: Path, timeout: float = 120) -> Cluster:
    """Bring the cluster under `root` up (or find it up) and return it; raises ClusterError."""
    root = Path(root).resolve()
    if missing := missing_packages():
        raise ClusterError(f"Debian packages missing: {' '.join(missing)} (bash scripts/setup.sh {' '.join(missing)})")
    cluster = Cluster(root)
    if all(_recorded_pid(root, daemon) for daemon in DAEMONS) and _node_state(cluster) == "idle":
        return cluster
    stop(root)
    values = _configure(root, cluster)
    _link_system_conf(cluster.slurm_conf)
    env = cluster.env()
    _start_munge(root, env, timeout)
    _start_mariadb(root, values, env, timeout)
    pid = _spawn(root, "slurmdbd", ["slurmdbd", "-D"], env)
    _wait("slurmdbd", lambda: _port_open(int(values["dbd_port"])), pid, root / "log" / "slurmdbd.log", timeout)
    _sacctmgr_add(cluster, "cluster", cluster.name)
    _sacctmgr_add(cluster, "account", cluster.account, f"Cluster={cluster.name}", "Description=tests")
    user = os.environ.get("USER") or "root"
    _sacctmgr_add(cluster, "user", user, f"Account={cluster.account}", f"Cluster={cluster.name}")
    pid = _spawn(root, "slurmctld", ["slurmctld", "-D", "-i", "-f", str(cluster.slurm_conf)], env)
    _wait(
        "slurmctld",
        lambda: cluster.run("scontrol", "ping", check=False, timeout=20).returncode == 0,
        pid,
        root / "log" / "slurmctld.log",
        timeout,
    )
    pid = _spawn(root, "slurmd", ["slurmd", "-D", "-f", str(cluster.slurm_conf)], env)
    _wait("slurmd", lambda: _node_state(cluster) in ("idle", "mixed"), pid, root / "log" / "slurmd.log", timeout)
    return cluster


def stop(root: Path, timeout: float = 30) -> list[str]:
    """Cancel the cluster's jobs and end the daemons start() recorded, by pid. Returns the names ended."""
    root = Path(root).resolve()
    conf = root / "etc" / "slurm.conf"
    if _recorded_pid(root, "slurmctld") and shutil.which("scancel"):
        env = {**os.environ, "SLURM_CONF": str(conf)}
        subprocess.run(["scancel", "--full", f"--partition={PARTITION}"], env=env, capture_output=True, timeout=30)
    ended = []
    for daemon in reversed(DAEMONS):
        pid = _recorded_pid(root, daemon)
        if pid is None:
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        _pid_file(root, daemon).unlink(missing_ok=True)
        ended.append(daemon)
    _unlink_system_conf(conf)
    return ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("directory", type=Path, help="where state, logs, pids and sockets go")
    args = parser.parse_args(argv)
    if args.action == "stop":
        print("stopped:", " ".join(stop(args.directory)) or "nothing")
        return 0
    try:
        cluster = start(args.directory)
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    print(f"export SLURM_CONF={cluster.slurm_conf}")
    print(f"# partition {cluster.partition}, account {cluster.account}, {cluster.gpus} GPU(s) on {cluster.host}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
