"""A local OpenSearch 2.19 cluster for tests and development: one JVM a node, 127.0.0.1 only.

    python -m cluster start [--nodes 3] [--dir .cluster] [--heap 512m]   (make cluster)
    python -m cluster stop [--dir .cluster]                              (make cluster-stop)
    python -m cluster status [--dir .cluster]

    import cluster
    urls = cluster.start(3, "/tmp/c3", heap="512m")   # ["http://127.0.0.1:PORT", ...] once green
    cluster.stop("/tmp/c3")

Standard library only. Each node is `java reviewarchive.cluster.Launcher key=value ...` (the
Java under src/, built with Maven into target/ the first time, or when pom.xml or src/ changed),
started detached (its own session, stdin /dev/null, not our child: it outlives the caller and a
kill -9 leaves no zombie behind). In DIR:

    node-K/          the node's home: data/, logs/ (OpenSearch's own, unused), tmp/
    node-K.log       the node's log (log4j, and the JVM's stdout and stderr)
    node-K.pid       the JVM's pid, K = 1..N
    url              every node's base URL, comma-separated, in node order (written once green)

A start always makes a fresh cluster (the node-K/ folders are emptied first), except when the
same number of nodes already runs in DIR: then it says so and returns their URLs. A cluster
that runs only in part (a node was killed) or with another node count is stopped and started
anew.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ClusterError", "build", "start", "stop", "urls"]

HERE = Path(__file__).resolve().parent
TARGET = HERE / "target"
CLASSES = TARGET / "classes"
LIB = TARGET / "lib"
BUILT = TARGET / ".built"  # touched after a successful build: newer than pom.xml and src/
MAIN = "reviewarchive.cluster.Launcher"
MARKER = ".review-archive-node"  # in each node-K/ we made: only such folders are ever emptied


class ClusterError(RuntimeError):
    """The launcher could not be built, or a node did not start (the message has its log tail)."""


class _PortTaken(ClusterError):
    """A node could not bind its port: taken between our choosing it and the JVM binding it."""


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# --- build -----------------------------------------------------------------------------------

def _stale() -> bool:
    if not BUILT.exists() or not (CLASSES / "reviewarchive/cluster/Launcher.class").exists():
        return True
    if not any(LIB.glob("opensearch-*.jar")):
        return True
    built = BUILT.stat().st_mtime
    sources = [HERE / "pom.xml", *(p for p in (HERE / "src").rglob("*") if p.is_file())]
    return any(p.stat().st_mtime > built for p in sources)


def build(*, force: bool = False, quiet: bool = True) -> None:
    """Compile the launcher and copy its dependencies into target/lib, when needed (or forced)."""
    TARGET.mkdir(exist_ok=True)
    with _locked(TARGET / ".build.lock"):  # two starts at once build once
        if not force and not _stale():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ClusterError("Maven (mvn) is not on PATH: apt-get install maven")
        _say(quiet, "building the OpenSearch launcher with Maven (a first build downloads ~50 MB) ...")
        t0 = time.monotonic()
        done = subprocess.run([mvn, "-q", "-B", "package"], cwd=HERE, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            raise ClusterError("mvn package failed:\n" + _last_lines(done.stdout, 40))
        BUILT.touch()
        _say(quiet, f"built in {time.monotonic() - t0:.1f} s")


# --- processes -------------------------------------------------------------------------------

def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    java = shutil.which("java")
    if java is None:
        raise ClusterError("java is not on PATH (OpenSearch 2.19 needs Java 11 or newer)")
    return java


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X")  # a zombie is dead


def _ours(pid: int, node_dir: Path) -> bool:
    """pid is alive and is the launcher JVM of that node folder (not a reused pid)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (_alive(pid) and MAIN.encode() in args
            and f"path.home={node_dir}".encode() in args)


# forks the JVM off a throwaway interpreter, so that it is nobody's child here
_SPAWN = r"""
import os, sys
log, cwd, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    try:
        os.setsid()
        os.chdir(cwd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.execv(argv[0], argv)
    except BaseException as e:
        os.write(2, ("cannot start %s: %s\n" % (argv[0], e)).encode())
    os._exit(127)
print(pid)
"""


def _spawn(cmd: list[str], log: Path, cwd: Path) -> int:
    out = subprocess.run([sys.executable, "-c", _SPAWN, str(log), str(cwd), *cmd],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=True, text=True)
    return int(out.stdout)


def _free_ports(n: int) -> list[int]:
    """n distinct ports free on 127.0.0.1 now (all held open together while chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@contextmanager
def _locked(path: Path):
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _last_lines(text: str, n: int) -> str:
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


def _log_tail(log: Path, n: int = 30) -> str:
    """The last n lines of a node's log, after its last ERROR line and the two lines after it."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 256 * 1024))
            lines = f.read().decode("utf-8", "replace").rstrip("\n").split("\n")
    except OSError as e:
        return f"(no log: {e})"
    errors = [i for i, line in enumerate(lines) if "][ERROR" in line]
    if errors and errors[-1] < len(lines) - n:
        return "\n".join(lines[errors[-1]:errors[-1] + 3] + ["..."] + lines[-n:])
    return "\n".join(lines[-n:])


# --- the cluster -----------------------------------------------------------------------------

def _pids(root: Path) -> dict[int, int]:
    """{K: pid} of the node-K.pid files in root whose JVM still runs."""
    running = {}
    for pidfile in root.glob("node-*.pid"):
        try:
            k, pid = int(pidfile.stem[5:]), int(pidfile.read_text().strip())
        except ValueError:
            continue
        if _ours(pid, root / f"node-{k}"):
            running[k] = pid
    return running


def urls(dir: str | os.PathLike = ".cluster") -> list[str]:
    """The base URLs of the cluster running in dir (node order), or [] when none runs whole."""
    root = Path(dir).resolve()
    try:
        found = (root / "url").read_text().strip().split(",")
    except OSError:
        return []
    running = _pids(root)
    return found if sorted(running) == list(range(1, len(found) + 1)) else []


def _get(url: str, timeout: float) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:  # 408: a health wait that timed out, still a JSON answer
        with e:
            body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {}


def _node_args(k: int, n: int, root: Path, ports: list[int], heap: str, log_level: str) -> list[str]:
    node = root / f"node-{k}"
    http, transport = ports[2 * (k - 1)], ports[2 * (k - 1) + 1]
    jvm = [
        _java(),
        f"-Xms{heap}", f"-Xmx{heap}",
        "-XX:+UseSerialGC",         # one GC thread and the least memory: right for small heaps
        # C1 only: starts in half the time on 2 cores, less memory (tests); CLUSTER_JIT=full
        # keeps the optimising compiler, for benchmarks of throughput
        *([] if os.environ.get("CLUSTER_JIT") == "full" else ["-XX:TieredStopAtLevel=1"]),
        "-Xss1m",
        "-XX:+ExitOnOutOfMemoryError",  # a node out of heap dies visibly rather than limping on
        f"-XX:ErrorFile={node}/hs_err_pid%p.log",
        f"-Djava.io.tmpdir={node}/tmp",
        "-Djava.net.preferIPv4Stack=true",  # plain IPv4 sockets: ss shows 127.0.0.1:PORT
        "-Dfile.encoding=UTF-8",
        # as the distribution's jvm.options: Netty without Unsafe and with no recycler caches
        "-Dio.netty.noUnsafe=true", "-Dio.netty.noKeySetOptimization=true",
        "-Dio.netty.recycler.maxCapacityPerThread=0",
        "-Dopensearch.set.netty.runtime.available.processors=false",
        "-Dlog4j2.disable.jmx=true",
        "-Dlog4j.shutdownHookEnabled=false",  # the launcher stops log4j after the node closed
        f"-Dlog4j2.configurationFile={CLASSES / 'log4j2.properties'}",
        f"-Dreviewarchive.log={root / f'node-{k}.log'}",
        f"-Dreviewarchive.log.level={log_level}",
        "-cp", f"{CLASSES}:{LIB}/*",
        MAIN,
    ]
    settings = {
        # one name per folder: two clusters on this machine never join each other
        "cluster.name": "review-archive-" + hashlib.sha1(str(root).encode()).hexdigest()[:10],
        "node.name": f"node-{k}",
        "path.home": str(node),
        "path.data": str(node / "data"),
        "path.logs": str(node / "logs"),
        "network.host": "127.0.0.1",
        "http.host": "127.0.0.1",
        "transport.host": "127.0.0.1",
        "http.port": str(http),
        "transport.port": str(transport),
        # a test box's disk may be nearly full: never refuse shards or turn indices read-only
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    }
    if n == 1:
        settings["discovery.type"] = "single-node"
    else:
        settings["discovery.seed_hosts"] = ",".join(f"127.0.0.1:{p}" for p in ports[1::2])
        settings["cluster.initial_cluster_manager_nodes"] = ",".join(f"node-{j}" for j in range(1, n + 1))
    return jvm + [f"{key}={value}" for key, value in settings.items()]


def start(nodes: int = 3, dir: str | os.PathLike = ".cluster", *, heap: str = "512m",
          timeout: float = 120.0, log_level: str = "info", quiet: bool = True) -> list[str]:
    """Start a cluster of `nodes` nodes in dir and wait until it is green with all of them.

    Returns every node's base URL (http://127.0.0.1:PORT), in node order; they are also written
    to dir/url. When the same number of nodes already runs in dir, returns their URLs and
    starts nothing. Raises ClusterError (with the log tail) when a node dies or the cluster is
    not green within `timeout` seconds; the nodes started are then stopped. Progress goes to
    stderr unless quiet.
    """
    if nodes < 1:
        raise ValueError("nodes must be 1 or more")
    root = Path(dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        running = urls(root)
        if len(running) == nodes:
            _say(quiet, f"a cluster of {nodes} node(s) is already running in {root}")
            return running
        if _pids(root):
            _say(quiet, f"stopping the cluster in {root} (not whole, or not {nodes} node(s))")
            _stop(root, 20.0, quiet)
        build(quiet=quiet)
        _say(quiet, f"starting {nodes} OpenSearch node(s) in {root} (heap {heap} each) ...")
        t0 = time.monotonic()
        for attempt in range(3):
            try:
                found = _start(root, nodes, heap, log_level, t0 + timeout)
                break
            except _PortTaken as e:  # rare: someone took a port we had found free; new ports
                if attempt == 2:
                    raise
                _say(quiet, f"{str(e).split(';')[0]}: its port was taken meanwhile; again on other ports")
        _say(quiet, f"green with {nodes} node(s) in {time.monotonic() - t0:.1f} s; logs in {root}/node-K.log")
        return found


def _start(root: Path, nodes: int, heap: str, log_level: str, deadline: float) -> list[str]:
    for old in [*root.glob("node-*.pid"), root / "url"]:
        old.unlink(missing_ok=True)
    for k in range(1, nodes + 1):
        _fresh_node_dir(root / f"node-{k}")
        (root / f"node-{k}.log").write_bytes(b"")
    for extra in root.glob("node-*"):  # the folders of a former, larger cluster
        if extra.name[5:].isdigit() and int(extra.name[5:]) > nodes and (extra / MARKER).exists():
            shutil.rmtree(extra)
            (root / f"{extra.name}.log").unlink(missing_ok=True)
    ports = _free_ports(2 * nodes)
    pids = {}
    try:
        for k in range(1, nodes + 1):
            cmd = _node_args(k, nodes, root, ports, heap, log_level)
            pids[k] = _spawn(cmd, root / f"node-{k}.log", root / f"node-{k}")
            (root / f"node-{k}.pid").write_text(f"{pids[k]}\n")
        found = [f"http://127.0.0.1:{ports[2 * (k - 1)]}" for k in range(1, nodes + 1)]
        _wait_green(root, found, pids, deadline)
    except BaseException:  # a node died, a timeout, Ctrl+C: leave nothing running
        _stop(root, 5.0, True)
        raise
    (root / "url").write_text(",".join(found) + "\n")
    return found


def _fresh_node_dir(node: Path) -> None:
    if node.exists():
        if not (node / MARKER).exists() and any(node.iterdir()):
            raise ClusterError(f"{node} exists and was not made by this launcher: not emptying it")
        shutil.rmtree(node)
    (node / "tmp").mkdir(parents=True)
    (node / MARKER).write_text("made by cluster/__init__.py; emptied on each start\n")


def _wait_green(root: Path, found: list[str], pids: dict[int, int], deadline: float) -> None:
    n, last = len(found), "no answer yet"
    query = f"/_cluster/health?wait_for_status=green&wait_for_nodes={n}&timeout=2s"
    while True:
        for k, pid in pids.items():
            if not _alive(pid):
                log = root / f"node-{k}.log"
                tail = _log_tail(log)
                error = _PortTaken if b"BindException" in log.read_bytes() else ClusterError
                raise error(f"node-{k} (pid {pid}) died while starting; the end of "
                            f"{root}/node-{k}.log:\n{tail}")
        try:
            status, health = _get(found[0] + query, timeout=10)
            last = f"HTTP {status}: {health}"
            if status == 200 and health.get("status") == "green" and not health.get("timed_out"):
                # each node answers on its own port too (a node opens HTTP just after joining)
                if all(_get(url + "/", timeout=10)[0] == 200 for url in found[1:]):
                    return
        except (OSError, ValueError) as e:  # not listening yet
            last = str(e)
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- node-{k}.log\n{_log_tail(root / f'node-{k}.log', 15)}" for k in pids)
            raise ClusterError(f"the cluster in {root} was not green with {n} node(s) in time "
                               f"(last health: {last})\n{tails}")
        time.sleep(0.5)


def stop(dir: str | os.PathLike = ".cluster", *, timeout: float = 20.0, quiet: bool = True) -> list[int]:
    """Stop the nodes running in dir: SIGTERM, then SIGKILL after `timeout` seconds.

    Only a pid whose command line is our launcher for that node folder is signalled. Removes the
    pid files and the url file. Returns the pids that were running ([] when none: not an error).
    """
    root = Path(dir).resolve()
    if not root.is_dir():
        return []
    with _locked(root / ".lock"):
        return _stop(root, timeout, quiet)


def _stop(root: Path, timeout: float, quiet: bool) -> list[int]:
    running = _pids(root)
    for pid in running.values():
        _signal(pid, signal.SIGTERM)
    if running:
        _say(quiet, f"stopping {len(running)} node(s) in {root} ...")
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in running.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for k, pid in running.items():
        if _ours(pid, root / f"node-{k}"):
            _say(quiet, f"node-{k} (pid {pid}) ignored SIGTERM for {timeout:.0f} s: SIGKILL")
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in running.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for old in [*root.glob("node-*.pid"), root / "url"]:
        old.unlink(missing_ok=True)
    return sorted(running.values())


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # it ended meanwhile
        pass
