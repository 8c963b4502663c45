"""The site build's cache: what a partition computed, kept between builds, and what
leaves it when a review is purged.

Per output folder, one folder ``site-cache/<hash of the output path>`` in the archive's
data folder: derived data like the search index, not in the output folder (which a
static host publishes whole) and not beside it, outside the folder the user named;
only when the archive cannot be written (a read-only backup) beside the output folder.
It holds, per partition and tagged with the partition key, ``p<pid>.json`` (its catalog
state: summaries, flags, reference titles) and ``p<pid>.chunks`` (its posting chunks,
:attr:`publish.partitions.Partition.chunks`, marshalled), and ``related.json`` (every
review's related reviews, :meth:`SiteCache.related`).

These files hold copies of what the reviews say, so :func:`forget` is part of a purge:
a review deleted for good must not stay here until the next build.
"""
from __future__ import annotations

import hashlib
import json
import marshal
import os
from pathlib import Path
from typing import Any

CACHE_DIR = "site-cache"  # in the data folder
BESIDE = ".site-cache"  # the suffix of the fallback beside the output folder
RELATED = "related.json"


class SiteCache:
    """The cache of the site built into ``out`` from the archive in ``data_dir``.

    Finding it writes nothing (a plan reads it); :meth:`make` creates it before a build
    saves into it."""

    def __init__(self, out: Path, data_dir: Path):
        key = hashlib.sha1(str(out.resolve()).encode("utf-8")).hexdigest()[:16]
        self.dir = Path(data_dir) / CACHE_DIR / key
        self._beside = out.resolve().parent / f".{out.resolve().name}{BESIDE}"
        if not self.dir.is_dir() and self._beside.is_dir():
            self.dir = self._beside  # made by a build from a read-only archive

    def make(self) -> None:
        """Create the folder; where the archive cannot be written (a read-only backup),
        beside the output folder instead."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except PermissionError:
            self.dir = self._beside

    def related(self, key: str) -> dict[str, list] | None:
        """Every review's related reviews as the build keyed ``key`` saved them, or None."""
        from index.similar import Related  # noqa: PLC0415

        try:
            data = json.loads((self.dir / RELATED).read_text("utf-8"))
            if data.get("key") == key:
                return {u: [Related(r[0], r[1], r[2], r[3], tuple(r[4])) for r in rows]
                        for u, rows in data["related"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            pass
        return None

    def save_related(self, key: str, related: dict[str, list]) -> None:
        rows = {u: [[r.uuid, r.topic, r.score, r.shared_refs, list(r.shared_terms)] for r in rs]
                for u, rs in related.items()}
        self._write(RELATED, json.dumps({"key": key, "related": rows}, ensure_ascii=False).encode("utf-8"))

    def _write(self, name: str, data: bytes) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / (name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.dir / name)

    def save(self, pid: int, key: str, catalog: dict, chunks: dict) -> None:
        state = json.dumps({"key": key, "data": catalog}, ensure_ascii=False, separators=(",", ":"))
        self._write(f"p{pid}.json", state.encode("utf-8"))
        self._write(f"p{pid}.chunks", marshal.dumps((key, chunks)))

    def has(self, pid: int, key: str) -> bool:
        """Whether partition ``pid``'s cached state is there for ``key`` (reads its head)."""
        try:
            with open(self.dir / f"p{pid}.json", "rb") as fh:
                head = fh.read(len(key) + 16)
        except OSError:
            return False
        return head.startswith(b'{"key":' + json.dumps(key).encode()) and (
            self.dir / f"p{pid}.chunks").is_file()

    def _damaged(self, pid: int) -> RuntimeError:
        return RuntimeError(f"site cache of partition {pid} is damaged; delete {self.dir} "
                            "and build the site again")

    def catalog(self, pid: int, key: str) -> Any:
        try:
            data = json.loads((self.dir / f"p{pid}.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            data = {}
        if data.get("key") != key:
            raise self._damaged(pid)
        return data["data"]

    def chunks(self, pid: int, key: str) -> dict:
        try:
            got_key, chunks = marshal.loads((self.dir / f"p{pid}.chunks").read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            got_key, chunks = None, None
        if got_key != key:
            raise self._damaged(pid)
        return chunks

    def prune(self, pids: int) -> None:
        if self.dir.is_dir():
            for f in self.dir.iterdir():
                stem = f.name.split(".")[0]
                if stem[1:].isdigit() and int(stem[1:]) >= pids:
                    f.unlink()


def forget(data_dir: str | Path, uuid: str) -> int:
    """Drop from every site cache of the archive in ``data_dir`` each file that holds
    review ``uuid`` (a full id), with the other files of its partition, and any
    half-written ``.tmp`` file; returns how many files were removed.

    A partition's cached catalog names each of its reviews by id, so a file naming
    ``uuid`` is how the partition that held the review is found (its chunks hold the
    review's grams but no id); ``related.json`` names it too. Partitions that never held
    it stay: the next build reuses them, and computes the others again, as after any
    removal (the reviews after a removed one move up a partition).
    """
    root = Path(data_dir) / CACHE_DIR
    if not root.is_dir():
        return 0
    needle = uuid.encode("ascii")
    removed = 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.iterdir() if p.is_file())
        holding = {f.name.split(".")[0] for f in files
                   if not f.name.endswith(".tmp") and needle in f.read_bytes()}
        for f in files:
            if f.name.endswith(".tmp") or f.name.split(".")[0] in holding:
                f.unlink(missing_ok=True)
                removed += 1
    return removed
