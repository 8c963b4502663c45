"""The near-duplicate sketches of the archive's current reviews: ``dupes.sqlite3`` in the
data folder, beside the index.

Derived data, like the index: the archive is the source of truth, and this file can be
rebuilt from it at any time (deleted, damaged, or made by another method: its ``method``
row differs from :func:`method` and it starts empty). It holds no text: per review the
version sketched, its units' numbers and sizes, their MinHash signatures and band keys,
its paragraphs' places and band keys (:mod:`index.sketch`), and the scored pairs of
reviews; titles, topics and passages are read from the archive when shown, so a purged
review leaves nothing readable here once :func:`index.dupes.update` has run.

A review is sketched once per version. ``paired = 0`` marks a sketch whose pairs are not
scored yet; scoring happens in one write transaction (``BEGIN IMMEDIATE``), so two
commands updating at once serialise and the second finds nothing left to pair.
Where the data folder cannot be written (a mounted backup) or the disk is full, the file
is copied into memory and brought up to date there, for this command only.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from archive.store import immediate
from index import sketch as sk

FILE = "dupes.sqlite3"
_BUSY_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sketches(
    uuid TEXT PRIMARY KEY, version_id INTEGER NOT NULL, paired INTEGER NOT NULL,
    units TEXT NOT NULL, unit_sigs BLOB NOT NULL, unit_bands BLOB NOT NULL,
    paragraphs TEXT NOT NULL, paragraph_bands BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pairs(
    a TEXT NOT NULL, b TEXT NOT NULL, similarity REAL NOT NULL, shared TEXT NOT NULL,
    PRIMARY KEY(a, b)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pairs_b ON pairs(b);
"""


def method() -> str:
    """Everything a stored sketch depends on; another value means sketch again."""
    import rensa  # noqa: PLC0415

    return json.dumps({"format": 1, "shingle": sk.SHINGLE, "seed": sk.SEED,
                       "unit": [sk.UNIT_PERM, sk.UNIT_ROWS, sk.UNIT_MIN],
                       "paragraph": [sk.PARAGRAPH_PERM, sk.PARAGRAPH_ROWS, sk.PARAGRAPH_MIN],
                       "rensa": rensa.RMinHash.ALGORITHM_VERSION}, sort_keys=True)


def _writable(path: Path) -> bool:
    if path.exists():
        return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return os.access(path.parent, os.W_OK)


class DupesStore:
    """``with DupesStore.open(data_dir) as ds: ...``: one connection."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    @classmethod
    def open(cls, data_dir: str | Path, in_memory: bool = False) -> "DupesStore":
        """The file; a copy of it in memory where it cannot be written (or if asked:
        a disk that filled up)."""
        path = Path(data_dir) / FILE
        if in_memory or not _writable(path):
            return cls(cls._in_memory(path))
        for attempt in (1, 2):
            db = sqlite3.connect(str(path), isolation_level=None, timeout=_BUSY_MS / 1000)
            try:
                db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")  # derived: a lost commit is redone
                db.execute("PRAGMA secure_delete = ON")  # a forgotten review's rows zeroed
                store = cls(db)
                store._prepare()
                return store
            except sqlite3.DatabaseError:
                db.close()
                if attempt == 2:
                    raise
                from archive.workers import notice  # noqa: PLC0415

                notice(f"rebuilding {path.name}: it was not readable (derived data)")
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)
        raise AssertionError("unreachable")

    @staticmethod
    def _in_memory(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:", isolation_level=None)
        if path.is_file():
            try:
                src = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
                src.backup(db)
                src.close()
            except sqlite3.DatabaseError:
                db.close()
                db = sqlite3.connect(":memory:", isolation_level=None)
        DupesStore(db)._prepare()
        return db

    def _prepare(self) -> None:
        want = method()

        def run() -> None:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self._db.execute(stmt)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'method'").fetchone()
            if row is None or row[0] != want:
                self._db.execute("DELETE FROM sketches")
                self._db.execute("DELETE FROM pairs")
                self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('method', ?)",
                                 (want,))
        self.write(run)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "DupesStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def write(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` in one ``BEGIN IMMEDIATE`` transaction."""
        return immediate(self._db, fn)

    # -- sketches ------------------------------------------------------------
    def held(self) -> dict[str, int]:
        """``uuid -> version id`` of what is sketched."""
        return dict(self._db.execute("SELECT uuid, version_id FROM sketches"))

    def forget(self, uuids: Iterable[str], for_good: bool = False) -> None:
        """Drop these reviews' sketches and pairs; ``for_good`` (a purge): and empty the
        journal, so that no page of the file or of its WAL still names them."""
        rows = [(u,) for u in uuids]

        def run() -> None:
            self._db.executemany("DELETE FROM sketches WHERE uuid = ?", rows)
            self._db.executemany("DELETE FROM pairs WHERE a = ? OR b = ?",
                                 [(u, u) for (u,) in rows])
        if rows:
            self.write(run)
        if for_good:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def put(self, items: Iterable[tuple[str, int, sk.Sketch]]) -> None:
        rows = [(uuid, vid, json.dumps(s.units), s.unit_sigs.tobytes(), s.unit_bands.tobytes(),
                 json.dumps(s.paragraphs, ensure_ascii=False), s.paragraph_bands.tobytes())
                for uuid, vid, s in items]
        self.write(lambda: self._db.executemany(
            "INSERT OR REPLACE INTO sketches(uuid, version_id, paired, units, unit_sigs,"
            " unit_bands, paragraphs, paragraph_bands) VALUES (?,?,0,?,?,?,?,?)", rows))

    def unit_bands(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Every sketched review's unit band keys: ``(uuids, unpaired mask, keys, owner)``,
        ``owner[i]`` the index in ``uuids`` of the review holding ``keys[i]``."""
        uuids, unpaired, blobs = [], [], []
        for uuid, paired, blob in self._db.execute(
                "SELECT uuid, paired, unit_bands FROM sketches ORDER BY uuid"):
            uuids.append(uuid)
            unpaired.append(not paired)
            blobs.append(blob)
        keys, owner = _stack(blobs)
        return uuids, np.array(unpaired, dtype=bool), keys, owner

    def paragraph_bands(self) -> tuple["Places", np.ndarray, np.ndarray]:
        """Every sketched paragraph ``(uuid, section, number)`` (:class:`Places`) and the
        band keys ``(keys, owner)``, ``owner[i]`` the index of the paragraph holding
        ``keys[i]``."""
        uuids, lists, counts, blobs = [], [], [], []
        for uuid, paragraphs, blob in self._db.execute(
                "SELECT uuid, paragraphs, paragraph_bands FROM sketches ORDER BY uuid"):
            uuids.append(uuid)
            lists.append(paragraphs)
            counts.append(len(blob) // (8 * (sk.PARAGRAPH_PERM // sk.PARAGRAPH_ROWS)))
            blobs.append(blob)
        keys = np.frombuffer(b"".join(blobs), dtype=np.uint64)
        del blobs
        places = Places(uuids, lists, counts)
        bands = sk.PARAGRAPH_PERM // sk.PARAGRAPH_ROWS
        return places, keys, np.repeat(np.arange(len(places), dtype=np.int32), bands)

    def units(self, uuids: Iterable[str]) -> dict[str, tuple[list[str], np.ndarray]]:
        """``uuid -> (units, signatures)`` of these reviews (those sketched)."""
        out = {}
        wanted = sorted(set(uuids))
        for at in range(0, len(wanted), 500):
            chunk = wanted[at:at + 500]
            for uuid, units, sigs in self._db.execute(
                    f"SELECT uuid, units, unit_sigs FROM sketches WHERE uuid IN"
                    f" ({','.join('?' * len(chunk))})", chunk):
                out[uuid] = (json.loads(units),
                             np.frombuffer(sigs, dtype=np.uint32).reshape(-1, sk.UNIT_PERM))
        return out

    # -- pairs ---------------------------------------------------------------
    def add_pairs(self, rows: list[tuple[str, str, float, list]], paired: Iterable[str]) -> None:
        """Inside :meth:`write`: the scored pairs, and these reviews marked paired."""
        self._db.executemany(
            "INSERT OR REPLACE INTO pairs(a, b, similarity, shared) VALUES (?,?,?,?)",
            [(a, b, s, json.dumps(shared)) for a, b, s, shared in rows])
        self._db.executemany("UPDATE sketches SET paired = 1 WHERE uuid = ?",
                             [(u,) for u in paired])

    def pairs(self, threshold: float) -> list[tuple[str, str, float, list]]:
        return [(a, b, s, json.loads(shared)) for a, b, s, shared in self._db.execute(
            "SELECT a, b, similarity, shared FROM pairs WHERE similarity >= ? ORDER BY a, b",
            (threshold,))]


def _stack(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The band keys of many reviews, one array, and whose each one is."""
    keys = np.frombuffer(b"".join(blobs), dtype=np.uint64)
    counts = np.fromiter((len(b) // 8 for b in blobs), dtype=np.int64, count=len(blobs))
    return keys, np.repeat(np.arange(len(blobs)), counts)


class Places:
    """Every sketched paragraph's ``(uuid, section, number)`` by its index, read when
    asked: each review's places stay the JSON text the file holds (a list of a Python tuple
    for each of the archive's paragraphs held ~120 bytes each: ~450 MB at 100,000
    reviews, for the few paragraphs that recur)."""

    def __init__(self, uuids: list[str], lists: list[str], counts: list[int]):
        self._uuids = uuids
        self._lists = lists
        self._starts = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
        self._parsed: dict[int, list] = {}

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, i: int) -> tuple[str, str, int]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        r = int(np.searchsorted(self._starts, i, side="right")) - 1
        parsed = self._parsed.get(r)
        if parsed is None:
            parsed = self._parsed[r] = json.loads(self._lists[r])
        section, number = parsed[i - int(self._starts[r])]
        return self._uuids[r], section, number
