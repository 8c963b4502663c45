"""Bring delivered files into the store: a one-shot :func:`ingest` and a polling :func:`watch`.

Files are read and parsed one at a time (memory is bounded by the largest file),
in a deterministic order. A file that fails never stops the others: it is
reported in ``IngestReport.refused`` with the reason.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from archive.errors import ArchiveError, RefusedInput
from archive.parser import parse
from archive.store import Store

STDIN = "-"
STDIN_SOURCE = "<stdin>"
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

    @property
    def stored(self) -> int:
        return self.added + self.versions

    def merge(self, other: "IngestReport") -> None:
        self.added += other.added
        self.versions += other.versions
        self.unchanged += other.unchanged
        self.refused.extend(other.refused)
        self.notes.extend(other.notes)
        for uuid in other.changed:
            if uuid not in self.changed:
                self.changed.append(uuid)

    def summary(self) -> str:
        return (f"{self.added} added, {self.versions} new versions, "
                f"{self.unchanged} unchanged, {len(self.refused)} refused")


def ignored(name: str) -> bool:
    """Hidden or still-being-written names (``.x``, ``x.tmp``, ``x.part``, ``x.crdownload``)."""
    return name.startswith(".") or name.lower().endswith(_TEMP_SUFFIXES)


def _walk(folder: Path, glob: str) -> list[Path]:
    found = []
    for p in folder.rglob(glob):
        rel = p.relative_to(folder)
        if any(ignored(part) for part in rel.parts) or not p.is_file():
            continue
        found.append(p)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


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
            files = _walk(path, glob)
            if not files:
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
) -> IngestReport:
    """Parse and store every input (files, directories searched recursively with
    ``glob``, ``"-"`` for ``stdin``); returns what happened to each."""
    sources, refused = expand(inputs, glob)
    report = IngestReport(refused=refused)
    for done, source in enumerate(sources, 1):
        name = STDIN_SOURCE if source == STDIN else source
        try:
            data = _read(source, stdin)
            _ingest_bytes(store, data, name, report)
        except RefusedInput as err:
            report.refused.append((name, err.reason))
        except Exception as err:  # noqa: BLE001 - one bad file must not stop the others
            report.refused.append((name, f"{type(err).__name__}: {err}"))
        if on_progress is not None:
            on_progress(done, len(sources), name)
    return report


def _read(source: str, stdin: BinaryIO | None) -> bytes:
    if source != STDIN:
        return Path(source).read_bytes()
    return (stdin or sys.stdin.buffer).read()


def _ingest_bytes(store: Store, data: bytes, source: str, report: IngestReport) -> None:
    records = parse(data, source)
    if len(records) > 1:
        report.notes.append(f"split {source}: it held {len(records)} records, stored separately")
    for parsed in records:
        result = store.add(parsed, source)
        if result.status == "unchanged":
            report.unchanged += 1
            continue
        if result.status == "added":
            report.added += 1
        else:
            report.versions += 1
        if result.uuid not in report.changed:
            report.changed.append(result.uuid)


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
        raise ArchiveError(f"{folder}: not a directory to watch")
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
