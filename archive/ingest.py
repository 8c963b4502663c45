"""Bring delivered files into the store: a one-shot :func:`ingest` and a polling :func:`watch`.

Files are read and parsed one at a time (memory is bounded by the largest file),
in a deterministic order. A file that fails never stops the others: it is
reported in ``IngestReport.refused`` with the reason.
"""
from __future__ import annotations

import errno
import fnmatch
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from archive.errors import DiskFull, RefusedInput, Usage  # noqa: F401 (DiskFull: part of this API)
from archive.parser import parse
from archive.store import Prepared, Store, prepare

STDIN = "-"
STDIN_SOURCE = "<stdin>"
#: Files per transaction in a bulk ingest, and the longest a batch holds the write lock.
BATCH_FILES = 64
BATCH_SECONDS = 1.0
#: Parse in worker processes from this many files on, this many files in flight at most.
PARALLEL_MIN_FILES = 32
POOL_WINDOW = 256
#: Names a drop folder may hold while a file is still being written or is hidden.
_TEMP_SUFFIXES = (".tmp", ".part", ".crdownload")

Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    added: int = 0
    versions: int = 0
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    changed: list[str] = field(default_factory=list)  # uuids added or given a new version
    notes: list[str] = field(default_factory=list)  # e.g. a file that held two records
    #: ``changed`` as a set: asking the list whether it held a uuid read all of it, for
    #: every record: quadratic in a bulk ingest, 37% of the writer's CPU 50,000 records
    #: into a 100k ingest (perf), the writer being the step everything waits for.
    _changed: set[str] = field(default_factory=set, repr=False, compare=False)

    def mark_changed(self, uuid: str) -> None:
        """Add ``uuid`` to :attr:`changed` once, in the order first seen."""
        if uuid not in self._changed:
            self._changed.add(uuid)
            self.changed.append(uuid)


def ignored(name: str) -> bool:
    """Hidden or still-being-written names (``.x``, ``x.tmp``, ``x.part``, ``x.crdownload``)."""
    return name.startswith(".") or name.lower().endswith(_TEMP_SUFFIXES)


def _walk(folder: Path, glob: str, unreadable: list[str] | None = None) -> list[Path]:
    """Files under ``folder`` matching ``glob``; folders that cannot be listed are added
    to ``unreadable`` (Path.rglob would skip them without a word)."""
    found = []
    for root, dirs, files in os.walk(folder, onerror=lambda e: unreadable is not None and
                                     unreadable.append(e.filename)):
        here = Path(root)
        dirs[:] = [d for d in dirs if not ignored(d)]
        for name in files:
            p = here / name
            if (not ignored(name) and p.is_file() and (fnmatch.fnmatch(name, glob) or fnmatch.fnmatch(
                    p.relative_to(folder).as_posix(), glob))):
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _cannot_read(err: OSError) -> str:
    """A read error in words: 'cannot read it: permission denied'."""
    return f"cannot read it: {(err.strerror or type(err).__name__).lower()}"


def expand(inputs: list[str], glob: str = "*.txt") -> tuple[list[str], list[tuple[str, str]]]:
    """Inputs -> (sources to read in order, refusals). ``"-"`` stays as stdin."""
    sources: list[str] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()

    def take(source: str, key: str) -> None:
        if key not in seen:
            seen.add(key)
            sources.append(source)

    for item in inputs:
        if item == STDIN:
            take(STDIN, STDIN)
            continue
        path = Path(item)
        if path.is_dir():
            unreadable: list[str] = []
            files = _walk(path, glob, unreadable)
            for folder in unreadable:
                refused.append((folder, "cannot read this folder: permission denied"
                                if not os.access(folder, os.R_OK | os.X_OK)
                                else "cannot read this folder"))
            if not files and not unreadable:
                refused.append((item, f"no files matching {glob!r} in this directory"))
            for f in files:
                take(str(f), str(f.resolve()))
        elif path.is_file():
            take(item, str(path.resolve()))
        elif path.exists():
            refused.append((item, "not a regular file or directory"))
        else:
            refused.append((item, "no such file or directory"))
    return sources, refused


def ingest(
    store: Store,
    inputs: list[str],
    glob: str = "*.txt",
    on_progress: Progress | None = None,
    stdin: BinaryIO | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Parse and store every input (files, directories searched recursively with
    ``glob``, ``"-"`` for ``stdin``); returns what happened to each.

    Files are parsed in ``workers`` processes (default: up to 2) when there are many;
    this process only writes, in batches of one transaction each.
    """
    sources, refused = expand(inputs, glob)
    report = IngestReport(refused=refused)
    loaded = _loaded(sources, stdin, workers)
    done = committed = 0
    try:
        with store.bulk():  # the WAL checkpointed every ~128 MiB, not after each batch
            while done < len(sources):
                with store.batch():  # one commit per batch; each record is still atomic
                    deadline = time.monotonic() + BATCH_SECONDS
                    for name, prepared, reason in islice(loaded, BATCH_FILES):
                        _store(store, name, prepared, reason, report)
                        done += 1
                        if on_progress is not None:
                            on_progress(done, len(sources), name)
                        if time.monotonic() > deadline:
                            break
                committed = done
    except (sqlite3.OperationalError, OSError) as err:
        if not _disk_full(err):
            raise
        raise DiskFull(
            f"the disk is full: {committed} of {len(sources)} files were stored before it "
            "filled (the archive keeps them); free some space and run the same command "
            "again to add the rest") from None
    return report


def _disk_full(err: BaseException) -> bool:
    return (isinstance(err, OSError) and err.errno == errno.ENOSPC) or (
        isinstance(err, sqlite3.OperationalError) and "full" in str(err))


Loaded = tuple[str, "list[Prepared] | None", "str | None"]  # (source, records, refusal)


def _loaded(sources: list[str], stdin: BinaryIO | None, workers: int | None) -> Iterator[Loaded]:
    """Each source read, parsed and prepared, in order; in a process pool for many files."""
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    if workers < 2 or len(sources) < PARALLEL_MIN_FILES or STDIN in sources:
        for source in sources:
            yield _load(source, stdin)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for i in range(0, len(sources), POOL_WINDOW):  # bounded: one window in flight
            yield from pool.imap(_load, sources[i:i + POOL_WINDOW], chunksize=4)


def _load(source: str, stdin: BinaryIO | None = None) -> Loaded:
    name = STDIN_SOURCE if source == STDIN else source
    try:
        data = Path(source).read_bytes() if source != STDIN else (stdin or sys.stdin.buffer).read()
        return name, [prepare(p) for p in parse(data, name)], None
    except RefusedInput as err:
        return name, None, err.reason
    except OSError as err:
        return name, None, _cannot_read(err)
    except Exception as err:  # noqa: BLE001 - one bad file must not stop the others
        return name, None, f"{type(err).__name__}: {err}"


def _store(store: Store, name: str, prepared: list[Prepared] | None, reason: str | None,
           report: IngestReport) -> None:
    if prepared is None:
        report.refused.append((name, reason or "unreadable"))
        return
    if len(prepared) > 1:
        report.notes.append(f"split {name}: it held {len(prepared)} records, stored separately")
    for p in prepared:
        try:
            result = store.add_prepared(p, name)
        except Exception as err:  # noqa: BLE001 - one bad record must not stop the others
            if _disk_full(err):
                raise  # not this record's fault: the whole run stops (see ingest)
            report.refused.append((name, f"{type(err).__name__}: {err}"))
            continue
        if result.retracted:
            report.notes.append(
                f"retracted {name}: {result.uuid[:12]} is retracted; "
                + ("this version is stored and stays hidden" if result.status != "unchanged"
                   else "these bytes were already stored")
                + f" (`reviews restore {result.uuid[:8]}` shows it again)")
        if result.status == "unchanged":
            report.unchanged += 1
            continue
        if result.status == "added":
            report.added += 1
        else:
            report.versions += 1
            if not result.current and not result.retracted:
                report.notes.append(
                    f"older {name}: a version of {result.uuid[:12]} received before the current "
                    "one; kept in its versions, the current one stays current")
        report.mark_changed(result.uuid)


# -- watching a drop folder ------------------------------------------------
def _scan(folder: Path, glob: str) -> Iterator[tuple[Path, tuple[int, int]]]:
    for p in _walk(folder, glob):
        try:
            st = p.stat()
        except OSError:  # removed between listing and stat
            continue
        yield p, (st.st_size, st.st_mtime_ns)


def watch(
    store: Store,
    folder: str | Path,
    glob: str = "*.txt",
    on_report: Callable[[IngestReport, Path], None] | None = None,
    stop: threading.Event | None = None,
    interval: float = 1.0,
    settle: float = 2.0,
) -> None:
    """Poll ``folder`` and ingest each new or modified file once its size and mtime
    have not changed for ``settle`` seconds. Returns when ``stop`` is set."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Usage(f"{folder}: not a directory to watch")
    stop = stop or threading.Event()
    done: dict[Path, tuple[int, int]] = {}  # signature when last ingested
    seen: dict[Path, tuple[tuple[int, int], float]] = {}  # signature, since when unchanged
    while not stop.is_set():
        now = time.monotonic()
        present = set()
        for path, sig in _scan(folder, glob):
            if stop.is_set():
                return
            present.add(path)
            if done.get(path) == sig:
                continue
            first = seen.get(path)
            if first is None or first[0] != sig:
                seen[path] = (sig, now)
                continue
            if now - first[1] < settle:
                continue
            report = ingest(store, [str(path)], glob=glob)
            done[path] = sig
            del seen[path]
            if on_report is not None:
                on_report(report, path)
        for table in (seen, done):
            for gone in set(table) - present:
                del table[gone]
        stop.wait(interval)
