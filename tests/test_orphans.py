"""A killed parallel build leaves nothing running and nothing locked (issue 22).

A bulk index build and a site build fork worker processes. These tests kill -9 the
installed ``reviews`` command at several moments of such a build and check what the
user would meet next: no process of the killed run left a few seconds later, the index
and the site of before still usable, and the next command finishing (with a timeout
here: before the fix it waited for ever on a lock that orphaned workers held) and
saying what it cleaned up. A lock kept by processes that outlived its holder is taken
over; a live holder is waited for.

Real processes throughout: the installed command, a generated corpus of a few hundred
records (enough for the parallel paths), /proc to see processes. Every wait is bounded.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from bench.corpus import generate
from tests.helpers import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")]

EXE = str(Path(sys.executable).with_name("reviews"))  # the installed command
N = 240  # reviews: above index.indexer.PARALLEL_MIN, so that builds fork workers
SAMPLES = ROOT / "samples"
GONE_WITHIN = 5.0  # seconds for a killed run's processes to be gone
WAITING = "waiting for another indexing run to finish…"


# -- processes, as /proc shows them ------------------------------------------------------

def _procs() -> list[tuple[int, int, int, str]]:
    """(pid, ppid, process group, state) of every process."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    f = fh.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            out.append((int(name), int(f[1]), int(f[2]), f[0].decode()))
    return out


def _children(pid: int) -> list[int]:
    return [p for p, parent, _, state in _procs() if parent == pid and state != "Z"]


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            f = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _left(group: int, data: Path) -> list[int]:
    """Live processes of a killed run: its process group (workers inherit it), or any
    process given its archive in REVIEWS_DATA. A zombie is gone (it holds nothing)."""
    mark = f"REVIEWS_DATA={data}".encode()
    found = []
    for pid, _, pgrp, state in _procs():
        if state == "Z" or pid == os.getpid():
            continue
        if pgrp == group:
            found.append(pid)
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                if mark in fh.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def _holds(pid: int, path: Path) -> bool:
    """Has process ``pid`` a descriptor open on ``path``?"""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


def _until(cond: Callable[[], object], seconds: float, what: str):
    """``cond()``'s first true value, asked every 50 ms for at most ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > end:
            pytest.fail(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)


# -- the archive ------------------------------------------------------------------------

def _env(data: Path) -> dict:
    return dict(os.environ, REVIEWS_DATA=str(data))


def _run(args: list, data: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *map(str, args)], env=_env(data), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """An archive of N reviews with its index, and its site: built once, copied by each test."""
    root = tmp_path_factory.mktemp("orphans")
    corpus = root / "corpus"
    corpus.mkdir()
    for g in generate(N, seed=22):
        (corpus / g.name).write_bytes(g.data)
    data, site = root / "data", root / "site"
    for args in (["ingest", "-q", corpus], ["site", "-q", site]):
        p = _run(args, data)
        assert p.returncode == 0, p.stderr
    return data, site


@pytest.fixture
def copy(built, tmp_path) -> tuple[Path, Path]:
    data, site = tmp_path / "data", tmp_path / "site"
    shutil.copytree(built[0], data)
    shutil.copytree(built[1], site)
    return data, site


def _search_ids(data: Path) -> list[str]:
    p = _run(["search", "-l", "的"], data, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def _site_whole(site: Path) -> None:
    """The site of before, as it was published: every file its manifest lists."""
    files = json.loads((site / ".site-manifest.json").read_text("utf-8"))["files"]
    assert len(files) > N and "index.html" in files
    assert [f for f in files if not (site / f).is_file()] == []


# -- killing a build at a moment ----------------------------------------------------------

def _kill_when(args: list, data: Path, moment: Callable[[subprocess.Popen], object],
               log: Path) -> int:
    """Run ``reviews ARGS`` in a process group of its own, kill -9 it once ``moment(proc)``
    is true, and return its pid (= its group); fails if it ends before that moment."""
    with open(log, "w") as out:
        proc = subprocess.Popen([EXE, *map(str, args)], env=_env(data), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def reached():
            if proc.poll() is not None:
                pytest.fail(f"`reviews {args[0]}` ended (rc {proc.returncode}) before the moment: "
                            + log.read_text())
            return moment(proc)

        _until(reached, 600, f"the moment to kill `reviews {args[0]}`")
    finally:
        proc.kill()
        proc.wait(timeout=60)
    return proc.pid


def _nothing_left(group: int, data: Path) -> None:
    left = []

    def gone():
        left[:] = _left(group, data)
        return not left

    end = time.monotonic() + GONE_WITHIN
    while not gone() and time.monotonic() < end:
        time.sleep(0.05)
    cmds = {p: Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ") for p in left
            if Path(f"/proc/{p}/cmdline").exists()}
    assert left == [], f"processes of the killed run still there after {GONE_WITHIN:g} s: {cmds}"


def _building(data: Path, pid: int) -> Path:
    return data / f"index.building-{pid}"


def _workers_busy(proc: subprocess.Popen) -> list[int] | None:
    """Every worker has run a second of CPU: well into its share of the work."""
    kids = _children(proc.pid)
    return kids if len(kids) >= 2 and all(_cpu_seconds(k) >= 1.0 for k in kids) else None


REINDEX_MOMENTS = {
    # the parent has made its building folder and not forked yet
    "building": lambda data: lambda proc: _building(data, proc.pid).is_dir(),
    # the workers have just been forked
    "forked": lambda data: lambda proc: _children(proc.pid),
    # the workers are deep in their shares
    "working": lambda data: _workers_busy,
}


@pytest.mark.parametrize("moment", REINDEX_MOMENTS)
def test_killed_reindex_leaves_nothing_running_and_the_next_ingest_finishes(copy, tmp_path, moment):
    data, _ = copy
    before = _search_ids(data)
    assert len(before) == N
    pid = _kill_when(["reindex", "-q"], data, REINDEX_MOMENTS[moment](data), tmp_path / "reindex.log")
    _nothing_left(pid, data)
    assert sorted(_search_ids(data)) == sorted(before)  # the index of before answers
    assert _building(data, pid).is_dir()  # what it leaves behind
    p = _run(["ingest", "-q", SAMPLES], data, timeout=600)
    assert p.returncode == 0, p.stderr
    assert WAITING not in p.stderr and "took over" not in p.stderr  # the lock was free
    said = [line for line in p.stderr.splitlines() if "killed" in line]
    assert said == [f"cleaned up after a killed indexing run: removed index.building-{pid}"], p.stderr
    assert not _building(data, pid).exists()
    assert len(_search_ids(data)) > N  # the samples are found too


def test_workers_hold_no_lock_of_their_parent(copy, tmp_path):
    """What the workers of a bulk build may not keep: the index's lock and Whoosh's."""
    data, _ = copy
    seen = {}

    def busy(proc):
        kids = _workers_busy(proc)
        if kids:
            seen.update({k: [f for f in (data / "index.lock",
                                         _building(data, proc.pid) / "MAIN_WRITELOCK")
                             if _holds(k, f)] for k in kids})
            seen["parent"] = _holds(proc.pid, data / "index.lock")
        return kids

    pid = _kill_when(["reindex", "-q"], data, busy, tmp_path / "reindex.log")
    assert seen.pop("parent") is True  # (the check does see a holder)
    assert seen and all(held == [] for held in seen.values()), seen
    _nothing_left(pid, data)


def test_killed_first_build_then_search_builds_the_index(copy, tmp_path):
    """No index yet, its first build killed: a search builds it instead of blocking."""
    data, _ = copy
    shutil.rmtree(data / "index")
    pid = _kill_when(["reindex", "-q"], data, REINDEX_MOMENTS["forked"](data), tmp_path / "reindex.log")
    _nothing_left(pid, data)
    assert len(_search_ids(data)) == N


SITE_MOMENTS = {
    # the related reviews are being scored in forked workers
    "related": lambda out: lambda proc: _children(proc.pid),
    # the partition workers are writing review pages into the staging folder
    "pages": lambda out: lambda proc: _children(proc.pid) and any(
        (out.parent / f".{out.name}.next-{proc.pid}" / "reviews").glob("*.html")),
}


@pytest.mark.parametrize("moment", SITE_MOMENTS)
def test_killed_site_build_leaves_nothing_running_and_the_site_whole(copy, tmp_path, moment):
    data, site = copy
    pid = _kill_when(["site", "-q", site], data, SITE_MOMENTS[moment](site), tmp_path / "site.log")
    _nothing_left(pid, data)
    _site_whole(site)
    stage = site.parent / f".site.next-{pid}"
    assert stage.is_dir()  # what it leaves behind
    p = _run(["ingest", "-q", SAMPLES], data, timeout=600)
    assert p.returncode == 0 and WAITING not in p.stderr, p.stderr
    p = _run(["site", "-q", site], data, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [f"cleaned up after a killed site build: removed {stage.name}"]
    assert not stage.exists()
    _site_whole(site)


# -- the lock ---------------------------------------------------------------------------

HOLD = """
import os, subprocess, sys, signal
from archive.workers import exclusive
from index.folder import lock_path

def target(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # (the descriptor listdir itself used)
        return None

lock = lock_path(sys.argv[1])
with exclusive(lock):
    fd = next(int(f) for f in os.listdir("/proc/self/fd") if target(f) == str(lock))
    if sys.argv[2] == "abandon":  # a helper started with the lock, then the holder killed
        child = subprocess.Popen(["sleep", "600"], pass_fds=[fd], start_new_session=True,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        print(child.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    print(os.getpid(), flush=True)
    sys.stdin.read()  # hold it until the test closes stdin
"""


def test_a_lock_whose_holder_is_gone_is_taken_over(copy):
    """The holder was killed, but a process it started keeps its lock (as the workers
    did): the next ingest takes the lock over, says so, and finishes."""
    data, _ = copy
    holder = subprocess.run([sys.executable, "-c", HOLD, data / "index", "abandon"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert holder.returncode == -signal.SIGKILL, holder.stderr
    keeper = int(holder.stdout)
    try:
        assert _holds(keeper, data / "index.lock")
        p = _run(["ingest", "-q", SAMPLES], data, timeout=600)
        assert p.returncode == 0, p.stderr
        took = [line for line in p.stderr.splitlines() if "took over the index lock" in line]
        assert len(took) == 1 and "which is gone" in took[0], p.stderr
        assert WAITING not in p.stderr
        assert len(_search_ids(data)) > N
        # the lock is a new file now, free; the leftover keeps only the old one
        assert (data / "index.lock").read_text() == "" and not _holds(keeper, data / "index.lock")
    finally:
        os.kill(keeper, signal.SIGKILL)


def test_a_live_holder_is_waited_for_not_taken_over(copy):
    """A holder that is alive keeps its lock: the ingest says it waits, then indexes
    once the holder lets go, and takes nothing over."""
    data, _ = copy
    with subprocess.Popen([sys.executable, "-c", HOLD, data / "index", "keep"], cwd=ROOT,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert int(holder.stdout.readline()) == holder.pid  # it holds the lock
            with subprocess.Popen([EXE, "ingest", "-q", SAMPLES], env=_env(data), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) as ingest:
                try:
                    line = ingest.stderr.readline()  # blocks until the ingest meets the lock
                    assert line == WAITING + "\n"
                    assert ingest.poll() is None and holder.poll() is None
                    assert (data / "index.lock").read_text().split()[0] == str(holder.pid)
                    holder.stdin.close()  # the holder lets go
                    _, err = ingest.communicate(timeout=600)
                finally:
                    ingest.kill()
        finally:
            holder.kill()
    assert ingest.returncode == 0 and "took over" not in err, err
    assert len(_search_ids(data)) > N
