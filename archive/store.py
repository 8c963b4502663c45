"""The archive: one SQLite file, the source of truth.

Every delivery is kept as its exact original bytes (``versions.raw``) with their
sha256, the parsed :class:`~archive.model.Record` as JSON, and derived rows
(``refs``, ``citations``, ``flags``) for fast queries. ``reviews`` points at the
current version of each UUID: the one with the latest ``received_at``; ties go to
the one ingested last (the higher version id).

Concurrency: WAL journal, ``busy_timeout`` 30 s, and every add is one
``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so two
processes adding at once serialise instead of failing on a lock upgrade), retried
if SQLite still reports the database as busy. ``versions.sha256`` is UNIQUE, so the
same bytes are stored once whichever process gets there first.

Durability: ``synchronous=FULL``. The archive is the source of truth and an add
reports "added" to the user, who may then delete the drop file; FULL makes a
committed add survive power loss, not only a process crash (NORMAL in WAL mode only
guarantees the latter). The cost is one fsync per add, small next to parsing.

Nothing taken from a record (topic, title, uuid) is ever used as a file path.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from archive.config import archive_path
from archive.days import parse_day
from archive.errors import Ambiguous, ArchiveError, NotFound
from archive.fold import fold as _fold
from archive.model import ABSTRACT, Flag, Record
from archive.references import REF_ID_PREFIX, display_title

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
_BUSY_RETRIES = 8  # after busy_timeout itself gave up, or busy without the handler

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions(
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    source TEXT,
    size INTEGER,
    encoding TEXT,
    topic TEXT,
    raw BLOB NOT NULL,
    parsed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews(
    uuid TEXT PRIMARY KEY,
    current_version INTEGER NOT NULL REFERENCES versions(id),
    received_at TEXT,
    topic TEXT
);
CREATE TABLE IF NOT EXISTS refs(
    version_id INTEGER NOT NULL REFERENCES versions(id),
    scope TEXT, n INTEGER, ref_id TEXT, title TEXT, year INTEGER, raw TEXT
);
CREATE TABLE IF NOT EXISTS citations(
    version_id INTEGER NOT NULL REFERENCES versions(id),
    ordinal INTEGER, section TEXT, marker TEXT, style TEXT, n INTEGER,
    scope TEXT, ref_id TEXT, sentence TEXT
);
CREATE TABLE IF NOT EXISTS flags(
    version_id INTEGER NOT NULL REFERENCES versions(id),
    code TEXT, "where" TEXT, detail TEXT
);
CREATE TABLE IF NOT EXISTS index_state(uuid TEXT PRIMARY KEY, version_id INTEGER);
CREATE INDEX IF NOT EXISTS versions_uuid ON versions(uuid, received_at, id);
CREATE INDEX IF NOT EXISTS reviews_received ON reviews(received_at);
CREATE INDEX IF NOT EXISTS reviews_current ON reviews(current_version);
CREATE INDEX IF NOT EXISTS refs_version ON refs(version_id);
CREATE INDEX IF NOT EXISTS refs_ref_id ON refs(ref_id);
CREATE INDEX IF NOT EXISTS citations_version ON citations(version_id, ordinal);
CREATE INDEX IF NOT EXISTS citations_ref_id ON citations(ref_id);
CREATE INDEX IF NOT EXISTS flags_version ON flags(version_id);
CREATE INDEX IF NOT EXISTS flags_code ON flags(code);
"""



class ParsedLike(Protocol):
    record: Record
    raw: bytes


@dataclass(frozen=True)
class AddResult:
    status: str  # "added" | "version" | "unchanged"
    uuid: str
    version_id: int
    current: bool  # is this version now the review's current one


@dataclass(frozen=True)
class VersionInfo:
    id: int
    uuid: str
    sha256: str
    received_at: str
    ingested_at: str
    source: str | None
    size: int
    encoding: str | None
    is_current: bool
    number: int = 0  # 1, 2, 3 ... in the order this review's versions were delivered


@dataclass(frozen=True)
class Summary:
    uuid: str
    received_at: str
    topic: str
    versions: int
    n_sections: int
    n_references: int
    flags: list[str] = field(default_factory=list)  # distinct flag codes, sorted


@dataclass(frozen=True)
class Dangling:
    uuid: str
    topic: str
    section: str
    marker: str
    sentence: str


@dataclass(frozen=True)
class Use:
    """One citation of a reference, in a current version."""

    uuid: str
    topic: str
    received_at: str
    section: str  # section path or "abstract"
    section_title: str
    marker: str
    sentence: str
    n: int
    scope: str


def fold(text: str | None) -> str:
    """The comparison form for titles, topics and query words (:mod:`archive.fold`, the
    one the index and the site use)."""
    return _fold(text or "")


def _now() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _day_after(day: str) -> str:
    return (_dt.date.fromisoformat(day) + _dt.timedelta(days=1)).isoformat()


def _is_busy(err: sqlite3.OperationalError) -> bool:
    msg = str(err).lower()
    return "locked" in msg or "busy" in msg


@dataclass(frozen=True)
class Prepared:
    """Everything :meth:`Store.add_prepared` writes, computed outside the write lock
    (and, in a bulk ingest, in worker processes): plain picklable values."""

    uuid: str
    received_at: str
    topic: str
    encoding: str
    raw: bytes
    sha256: str
    doc: str  # the Record as JSON
    refs: list[tuple]
    citations: list[tuple]
    flags: list[tuple]


def prepare(parsed: ParsedLike) -> Prepared:
    record, raw = parsed.record, bytes(parsed.raw)
    return Prepared(
        uuid=record.uuid,
        received_at=record.received_at,
        topic=record.topic,
        encoding=record.encoding,
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        doc=json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")),
        refs=[(r.scope, r.n, r.ref_id, r.title, r.year, r.raw) for r in record.references],
        citations=[(i, c.section, c.marker, c.style, c.n, c.scope, c.ref_id, c.sentence)
                   for i, c in enumerate(record.citations)],
        flags=[(f.code, f.where, f.detail) for f in record.flags],
    )


class Store:
    """The archive database. ``with Store.open(data_dir) as store: ...``

    One Store is one connection; use it from one thread at a time (each process
    or thread that works concurrently opens its own Store).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._in_batch = False
        self.read_only = self._read_only_place(self.path)
        if self.read_only:  # a mounted backup, a read-only folder: reading still works
            self._db = self._connect_read_only(self.path)
            self._db.create_function("fold", 1, fold, deterministic=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.create_function("fold", 1, fold, deterministic=True)
            self._retry(lambda: self._db.execute("PRAGMA journal_mode = WAL"))
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA cache_size = -65536")  # 64 MiB: the indexes of a large archive stay cached
            self._db.execute("PRAGMA foreign_keys = ON")
            self._init_schema()
        except BaseException:
            self._db.close()
            raise

    @staticmethod
    def _read_only_place(path: Path) -> bool:
        """An archive that exists where this process may not write (file or folder)."""
        return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))

    @staticmethod
    def _connect_read_only(path: Path) -> sqlite3.Connection:
        """Read-only; where SQLite cannot even keep its WAL index beside the file (a
        read-only folder), as an immutable file."""
        uri = path.resolve().as_uri()
        for params in ("?mode=ro", "?mode=ro&immutable=1"):
            db = sqlite3.connect(uri + params, uri=True, isolation_level=None,
                                 check_same_thread=False)
            try:
                db.execute("SELECT count(*) FROM reviews").fetchone()
                return db
            except sqlite3.OperationalError:
                db.close()
        raise ArchiveError(f"cannot read the archive at {path}: it is read-only and SQLite "
                           "cannot open it (is it an archive of this program?)")

    @classmethod
    def open(cls, data_dir: str | Path) -> "Store":
        return cls(archive_path(data_dir))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ------------------------------------------------------
    def _retry(self, fn):  # type: ignore[no-untyped-def]
        for attempt in range(_BUSY_RETRIES):
            try:
                return fn()
            except sqlite3.OperationalError as err:
                if not _is_busy(err) or attempt == _BUSY_RETRIES - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the adds inside into one transaction: one fsync instead of one per add.

        Each add stays all-or-nothing (a savepoint); a crash loses at most the batch,
        which the same ingest run again completes.
        """
        if self.read_only:
            self._write(lambda: None)  # raises: the archive is read-only here
        if self._in_batch:
            yield
            return
        self._retry(lambda: self._db.execute("BEGIN IMMEDIATE"))
        self._in_batch = True
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        finally:
            self._in_batch = False

    def _write(self, fn):  # type: ignore[no-untyped-def]
        """Run ``fn()`` in one BEGIN IMMEDIATE transaction, retried while busy
        (a savepoint when inside :meth:`batch`)."""
        if self.read_only:
            raise ArchiveError(f"the archive at {self.path} is read-only here: reading works, "
                               "changing it needs a folder this user may write")
        if self._in_batch:
            self._db.execute("SAVEPOINT add_one")
            try:
                result = fn()
            except BaseException:
                if self._db.in_transaction:  # (SQLITE_FULL rolls the whole transaction back)
                    self._db.execute("ROLLBACK TO add_one")
                    self._db.execute("RELEASE add_one")
                raise
            self._db.execute("RELEASE add_one")
            return result

        def attempt():  # type: ignore[no-untyped-def]
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = fn()
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return result

        return self._retry(attempt)

    def _init_schema(self) -> None:
        def create() -> None:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self._db.execute(stmt)
            row = self._db.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise ArchiveError(
                    f"{self.path}: archive schema version {row[0]} is newer than this "
                    f"program supports ({SCHEMA_VERSION}); upgrade review-archive"
                )

        self._write(create)

    # -- adding ------------------------------------------------------------
    def add(self, parsed: ParsedLike, source: str) -> AddResult:
        """Store one delivery; see the module docstring for the semantics."""
        return self.add_prepared(prepare(parsed), source)

    def add_prepared(self, p: "Prepared", source: str) -> AddResult:
        """Store a delivery made ready by :func:`prepare` (possibly in another process)."""
        return self._write(lambda: self._add(p, source))

    def _add(self, p: "Prepared", source: str) -> AddResult:
        db = self._db
        row = db.execute("SELECT id, uuid FROM versions WHERE sha256 = ?", (p.sha256,)).fetchone()
        if row is not None:
            vid, uuid = row
            cur = db.execute("SELECT current_version FROM reviews WHERE uuid = ?", (uuid,))
            return AddResult("unchanged", uuid, vid, cur.fetchone()[0] == vid)
        uuid = p.uuid
        known = db.execute("SELECT 1 FROM reviews WHERE uuid = ?", (uuid,)).fetchone()
        vid = db.execute(
            "INSERT INTO versions(uuid, sha256, received_at, ingested_at, source, size,"
            " encoding, topic, raw, parsed) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (uuid, p.sha256, p.received_at, _now(), source, len(p.raw), p.encoding,
             p.topic, p.raw, p.doc),
        ).lastrowid
        db.executemany(
            "INSERT INTO refs(version_id, scope, n, ref_id, title, year, raw)"
            " VALUES (?,?,?,?,?,?,?)",
            [(vid, *r) for r in p.refs],
        )
        db.executemany(
            "INSERT INTO citations(version_id, ordinal, section, marker, style, n, scope,"
            " ref_id, sentence) VALUES (?,?,?,?,?,?,?,?,?)",
            [(vid, *c) for c in p.citations],
        )
        db.executemany(
            'INSERT INTO flags(version_id, code, "where", detail) VALUES (?,?,?,?)',
            [(vid, *f) for f in p.flags],
        )
        cur_id, cur_received, cur_topic = db.execute(
            "SELECT id, received_at, topic FROM versions WHERE uuid = ?"
            " ORDER BY received_at DESC, id DESC LIMIT 1",
            (uuid,),
        ).fetchone()
        db.execute(
            "INSERT INTO reviews(uuid, current_version, received_at, topic) VALUES (?,?,?,?)"
            " ON CONFLICT(uuid) DO UPDATE SET current_version = excluded.current_version,"
            " received_at = excluded.received_at, topic = excluded.topic",
            (uuid, cur_id, cur_received, cur_topic),
        )
        return AddResult("version" if known else "added", uuid, vid, cur_id == vid)

    # -- lookups -----------------------------------------------------------
    def resolve(self, id_or_prefix: str) -> str:
        """A full UUID from a UUID or unique prefix (case and dashes ignored)."""
        key = (id_or_prefix or "").strip().lower().replace("-", "")
        if not key or not re.fullmatch(r"[0-9a-f]{1,32}", key):
            raise NotFound(
                f"{id_or_prefix!r} is not a review id: expected hex digits of a UUID "
                "(see `reviews list`)"
            )
        rows = self._db.execute(
            "SELECT uuid FROM reviews WHERE uuid >= ? AND uuid < ? ORDER BY uuid LIMIT 101",
            (key, key + "g"),
        ).fetchall()
        if not rows:
            raise NotFound(f"no review with id {id_or_prefix!r} (see `reviews list`)")
        if len(rows) > 1:
            raise Ambiguous(id_or_prefix, [r[0] for r in rows])
        return rows[0][0]

    def _current_id(self, uuid: str) -> int:
        row = self._db.execute(
            "SELECT current_version FROM reviews WHERE uuid = ?", (uuid,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no review with id {uuid!r} (see `reviews list`)")
        return int(row[0])

    def current(self, uuid: str) -> Record:
        return self.record(self._current_id(uuid))

    def record(self, version_id: int) -> Record:
        row = self._db.execute("SELECT parsed FROM versions WHERE id = ?", (version_id,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"no stored version {version_id}")
        return Record.from_dict(json.loads(found[0]))

    def raw(self, version_id: int) -> bytes:
        found = self._db.execute(
            "SELECT raw FROM versions WHERE id = ?", (version_id,)
        ).fetchone()
        if found is None:
            raise NotFound(f"no stored version {version_id}")
        return bytes(found[0])

    _VERSION_COLS = (
        "v.id, v.uuid, v.sha256, v.received_at, v.ingested_at, v.source, v.size,"
        " v.encoding, (r.current_version = v.id)"
    )

    @staticmethod
    def _info(row: tuple[Any, ...]) -> VersionInfo:
        return VersionInfo(*row[:8], is_current=bool(row[8]))

    def versions(self, uuid: str) -> list[VersionInfo]:
        """All versions of a review, oldest first (by received_at, then ingestion)."""
        rows = self._db.execute(
            f"SELECT {self._VERSION_COLS} FROM versions v JOIN reviews r ON r.uuid = v.uuid"
            " WHERE v.uuid = ? ORDER BY v.received_at, v.id",
            (uuid,),
        ).fetchall()
        if not rows:
            raise NotFound(f"no review with id {uuid!r} (see `reviews list`)")
        number = {vid: i + 1 for i, vid in enumerate(sorted(r[0] for r in rows))}
        return [replace(self._info(r), number=number[r[0]]) for r in rows]

    def current_version(self, uuid: str) -> VersionInfo:
        return next(v for v in self.versions(uuid) if v.is_current)

    # -- listing -----------------------------------------------------------
    def list(
        self,
        topic: str | None = None,
        since: str | None = None,
        until: str | None = None,
        flag: str | None = None,
        limit: int | None = None,
    ) -> list[Summary]:
        """Current reviews, newest first; filters are ANDed."""
        where, args = [], []
        if topic:
            where.append("instr(fold(r.topic), ?) > 0")
            args.append(fold(topic))
        if since:
            where.append("r.received_at >= ?")
            args.append(parse_day("--since", since))
        if until:
            where.append("r.received_at < ?")
            args.append(_day_after(parse_day("--until", until)))
        if flag:
            where.append(
                "EXISTS (SELECT 1 FROM flags f WHERE f.version_id = r.current_version"
                " AND f.code = ?)"
            )
            args.append(flag)
        # one statement for the whole listing (not a query per row and figure)
        sql = (
            "SELECT r.uuid, r.received_at, r.topic,"
            " (SELECT count(*) FROM versions v WHERE v.uuid = r.uuid),"
            " (SELECT json_array_length(v.parsed, '$.sections') FROM versions v"
            "   WHERE v.id = r.current_version),"
            " (SELECT count(*) FROM refs f WHERE f.version_id = r.current_version),"
            " (SELECT group_concat(DISTINCT g.code) FROM flags g WHERE g.version_id = r.current_version)"
            " FROM reviews r"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY r.received_at DESC, r.uuid"
        )
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [Summary(uuid, received, topic_ or "", n_versions, n_sections or 0, n_refs,
                        sorted(codes.split(",")) if codes else [])
                for uuid, received, topic_, n_versions, n_sections, n_refs, codes
                in self._db.execute(sql, args).fetchall()]

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM reviews").fetchone()[0]

    def review_order(self) -> list[tuple[str, int]]:
        """``(uuid, current version id)`` of every review, in the order the reviews were
        first added (appending never moves a review: the static site's partitions)."""
        return self._db.execute(
            "SELECT r.uuid, r.current_version FROM reviews r JOIN (SELECT uuid, min(id) AS"
            " first FROM versions GROUP BY uuid) f ON f.uuid = r.uuid ORDER BY f.first"
        ).fetchall()

    def received_of(self) -> dict[str, str]:
        """Every review's current ``received_at``, by uuid."""
        return dict(self._db.execute("SELECT uuid, received_at FROM reviews"))

    def iter_current(self, batch: int = 100) -> Iterator[tuple[VersionInfo, Record]]:
        """Every review's current version, by uuid, fetched in batches (bounded memory)."""
        last = ""
        while True:
            rows = self._db.execute(
                f"SELECT {self._VERSION_COLS}, v.parsed FROM reviews r"
                " JOIN versions v ON v.id = r.current_version"
                " WHERE r.uuid > ? ORDER BY r.uuid LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._info(row), Record.from_dict(json.loads(row[9]))
            last = rows[-1][1]

    # -- statistics and flags ---------------------------------------------
    def stats(self) -> dict[str, Any]:
        db = self._db
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        cur = "JOIN reviews r ON r.current_version = t.version_id"
        by_code = db.execute(
            f"SELECT t.code, count(*) FROM flags t {cur} GROUP BY t.code ORDER BY t.code"
        ).fetchall()
        return {
            "reviews": one("SELECT count(*) FROM reviews"),
            "versions": one("SELECT count(*) FROM versions"),
            "references": one(f"SELECT count(DISTINCT t.ref_id) FROM refs t {cur}"),
            "citations": one(f"SELECT count(*) FROM citations t {cur}"),
            "dangling": one(f"SELECT count(*) FROM citations t {cur} WHERE t.ref_id IS NULL"),
            "flags": sum(n for _, n in by_code),
            "flags_by_code": dict(by_code),
        }

    def flags(self, uuids: list[str] | None = None) -> dict[str, list[Flag]]:
        """Flags of the current versions (of the given reviews, or all), in record order."""
        sql = (
            'SELECT r.uuid, f.code, f."where", f.detail FROM flags f'
            " JOIN reviews r ON r.current_version = f.version_id"
        )
        out: dict[str, list[Flag]] = {}
        if uuids is not None:
            for u in uuids:
                out[u] = []
            rows: Iterable[tuple[str, str, str, str]] = (
                row for u in uuids
                for row in self._db.execute(sql + " WHERE r.uuid = ? ORDER BY f.rowid", (u,))
            )
        else:
            rows = self._db.execute(sql + " ORDER BY r.uuid, f.rowid")
        for uuid, code, where, detail in rows:
            out.setdefault(uuid, []).append(Flag(code, where or "", detail or ""))
        return out

    def topics(self, uuids: Iterable[str] | None = None) -> dict[str, str]:
        """The topic of each current review (of the given ones, or all)."""
        if uuids is None:
            return dict(self._db.execute("SELECT uuid, topic FROM reviews"))
        out: dict[str, str] = {}
        for u in uuids:
            row = self._db.execute("SELECT topic FROM reviews WHERE uuid = ?", (u,)).fetchone()
            if row is not None:
                out[u] = row[0]
        return out

    # -- references --------------------------------------------------------
    def top_references(self, limit: int = 20) -> list[tuple[str, str, int, int]]:
        """``(ref_id, title, citations, reviews)``, most cited first (current versions).

        ``reviews`` counts the reviews whose reference lists hold the work,
        ``citations`` the markers resolving to it; ties go to more reviews, then id.
        """
        rows = self._db.execute(
            "WITH cur AS (SELECT current_version AS vid FROM reviews),"
            " listed AS (SELECT f.ref_id, count(DISTINCT f.version_id) AS nrev FROM refs f"
            "   JOIN cur ON cur.vid = f.version_id GROUP BY f.ref_id),"
            " cited AS (SELECT c.ref_id, count(*) AS ncit FROM citations c"
            "   JOIN cur ON cur.vid = c.version_id WHERE c.ref_id IS NOT NULL"
            "   GROUP BY c.ref_id)"
            " SELECT listed.ref_id, coalesce(cited.ncit, 0) AS ncit, listed.nrev FROM listed"
            " LEFT JOIN cited ON cited.ref_id = listed.ref_id"
            " ORDER BY ncit DESC, listed.nrev DESC, listed.ref_id LIMIT ?",
            (int(limit),),
        ).fetchall()
        return [(rid, display_title(self.reference_spellings(rid)), ncit, nrev)
                for rid, ncit, nrev in rows]

    def reference_spellings(self, ref_id: str) -> list[str]:
        """The titles under which a reference appears, most frequent first."""
        rows = self._db.execute(
            "SELECT f.title, count(*) AS n FROM refs f"
            " JOIN reviews r ON r.current_version = f.version_id WHERE f.ref_id = ?"
            " GROUP BY f.title ORDER BY n DESC, length(f.title), f.title",
            (ref_id,),
        ).fetchall()
        return [t for t, _ in rows]

    def current_spellings(self, among: Iterable[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
        """Distinct ``(ref_id, title)`` of the current versions (only those ``among``
        the given pairs, when given)."""
        if among is None:
            return set(self._db.execute(
                "SELECT DISTINCT f.ref_id, f.title FROM refs f"
                " JOIN reviews r ON r.current_version = f.version_id"))
        out = set()
        for rid, title in set(among):
            if self._db.execute(
                    "SELECT 1 FROM refs f JOIN reviews r ON r.current_version = f.version_id"
                    " WHERE f.ref_id = ? AND f.title = ? LIMIT 1", (rid, title)).fetchone():
                out.add((rid, title))
        return out

    def all_spellings(self) -> set[tuple[str, str]]:
        """Every distinct ``(ref_id, title)`` the current versions list."""
        return set(self._db.execute(
            "SELECT DISTINCT f.ref_id, f.title FROM refs f"
            " JOIN reviews r ON r.current_version = f.version_id"))

    def spellings_of(self, version_ids: Iterable[int]) -> set[tuple[str, str]]:
        """Distinct ``(ref_id, title)`` listed by the given versions."""
        out: set[tuple[str, str]] = set()
        for vid in set(version_ids):
            out.update(self._db.execute(
                "SELECT ref_id, title FROM refs WHERE version_id = ?", (vid,)))
        return out

    def indexed_versions(self, uuids: Iterable[str]) -> list[int]:
        """The version ids the search index holds for these reviews (none for new ones)."""
        out = []
        for u in set(uuids):
            row = self._db.execute("SELECT version_id FROM index_state WHERE uuid = ?", (u,)).fetchone()
            if row:
                out.append(row[0])
        return out

    def find_references(self, words: list[str], needles: list[str] | None = None,
                        holds: Callable[[str], bool] | None = None) -> list[str]:
        """Reference ids, most-listed first: the ids themselves when every word is a
        reference id (or a prefix of one); else the ids of which one spelling's folded
        title holds every needle (default: the folded words) as a substring and, given
        ``holds``, passes ``holds(title)`` (the query language's matching, which
        this package does not know)."""
        words = [w for w in (w.strip() for w in words) if w]
        if not words:
            return []
        cur = "JOIN reviews r ON r.current_version = f.version_id"
        if all(REF_ID_PREFIX.match(w.lower()) for w in words):  # ids or their prefixes
            found: set[str] = set()
            for w in {w.lower() for w in words}:
                found.update(r[0] for r in self._db.execute(
                    f"SELECT DISTINCT f.ref_id FROM refs f {cur} WHERE f.ref_id >= ? AND f.ref_id < ?",
                    (w, w + "g")))
            return sorted(found)
        needles = [fold(w) for w in words] if needles is None else needles
        conds = " AND ".join("instr(fold(f.title), ?) > 0" for _ in needles) or "1"
        rows = self._db.execute(
            f"SELECT f.ref_id, f.title, count(*) FROM refs f {cur} WHERE {conds}"
            " GROUP BY f.ref_id, f.title", needles).fetchall()
        counts: dict[str, int] = {}
        for rid, title, n in rows:
            if holds is None or holds(title):
                counts[rid] = counts.get(rid, 0) + n
        return sorted(counts, key=lambda rid: (-counts[rid], rid))

    def dangling_citations(self) -> list[Dangling]:
        rows = self._db.execute(
            "SELECT r.uuid, r.topic, c.section, c.marker, c.sentence FROM citations c"
            " JOIN reviews r ON r.current_version = c.version_id WHERE c.ref_id IS NULL"
            " ORDER BY r.received_at DESC, r.uuid, c.ordinal"
        ).fetchall()
        return [Dangling(*row) for row in rows]

    def citations_of(self, ref_ids: list[str]) -> list[Use]:
        """Where the given references are cited (current versions), newest review first."""
        if not ref_ids:
            return []
        marks = ",".join("?" * len(ref_ids))
        rows = self._db.execute(
            "SELECT r.uuid, r.topic, r.received_at, c.section, c.marker, c.sentence, c.n,"
            " c.scope, c.version_id FROM citations c"
            " JOIN reviews r ON r.current_version = c.version_id"
            f" WHERE c.ref_id IN ({marks}) ORDER BY r.received_at DESC, r.uuid, c.ordinal",
            list(ref_ids),
        ).fetchall()
        titles: dict[int, dict[str, str]] = {}
        out = []
        for uuid, topic, received, section, marker, sentence, n, scope, vid in rows:
            if vid not in titles:
                titles[vid] = self._section_titles(vid)
            out.append(Use(uuid, topic or "", received, section, titles[vid].get(section, ""),
                           marker, sentence or "", n, scope or ""))
        return out

    def _section_titles(self, version_id: int) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT json_extract(s.value, '$.number'), json_extract(s.value, '$.title')"
            " FROM versions v, json_each(v.parsed, '$.sections') s WHERE v.id = ?",
            (version_id,),
        ).fetchall()
        titles = {num: title for num, title in rows}
        titles.setdefault(ABSTRACT, "摘要")
        return titles

    # -- search-index bookkeeping -----------------------------------------
    def pending_index(self) -> list[tuple[str, int]]:
        """``(uuid, current version id)`` of reviews the index does not hold as current."""
        return [tuple(r) for r in self._db.execute(  # type: ignore[misc]
            "SELECT r.uuid, r.current_version FROM reviews r"
            " LEFT JOIN index_state s ON s.uuid = r.uuid"
            " WHERE s.version_id IS NULL OR s.version_id != r.current_version ORDER BY r.uuid"
        )]

    def mark_indexed(self, pairs: Iterable[tuple[str, int]]) -> None:
        pairs = [(u, int(v)) for u, v in pairs]
        self._write(lambda: self._db.executemany(
            "INSERT INTO index_state(uuid, version_id) VALUES (?, ?)"
            " ON CONFLICT(uuid) DO UPDATE SET version_id = excluded.version_id",
            pairs,
        ))

    def reset_index_state(self) -> None:
        self._write(lambda: self._db.execute("DELETE FROM index_state"))

    def removed_from_index(self) -> list[str]:
        """UUIDs the index holds that the archive no longer has (none unless deleted)."""
        return [r[0] for r in self._db.execute(
            "SELECT s.uuid FROM index_state s LEFT JOIN reviews r ON r.uuid = s.uuid"
            " WHERE r.uuid IS NULL ORDER BY s.uuid"
        )]

    # -- verification ------------------------------------------------------
    def verify(self) -> list[str]:
        """Problems found by a full check (empty = healthy): SQLite integrity, raw
        bytes against their sha256, derived rows against the parsed JSON, and each
        review's current version."""
        db = self._db
        problems = [r[0] for r in db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {tuple(r)}" for r in db.execute("PRAGMA foreign_key_check")]
        last = 0
        while True:
            rows = db.execute(
                "SELECT id, sha256, raw, parsed,"
                " (SELECT count(*) FROM refs WHERE version_id = v.id),"
                " (SELECT count(*) FROM citations WHERE version_id = v.id),"
                " (SELECT count(*) FROM flags WHERE version_id = v.id)"
                " FROM versions v WHERE id > ? ORDER BY id LIMIT 100",
                (last,),
            ).fetchall()
            if not rows:
                break
            for vid, sha, raw, parsed, nref, ncit, nflag in rows:
                if hashlib.sha256(raw).hexdigest() != sha:
                    problems.append(f"version {vid}: raw bytes do not match sha256")
                d = json.loads(parsed)
                want = (len(d["references"]), len(d["citations"]), len(d["flags"]))
                if (nref, ncit, nflag) != want:
                    problems.append(
                        f"version {vid}: derived rows (refs, citations, flags) "
                        f"{(nref, ncit, nflag)} != parsed {want}"
                    )
            last = rows[-1][0]
        wrong = db.execute(
            "SELECT r.uuid FROM reviews r WHERE r.current_version IS NOT ("
            " SELECT id FROM versions v WHERE v.uuid = r.uuid"
            " ORDER BY received_at DESC, id DESC LIMIT 1)"
        ).fetchall()
        problems += [f"review {u}: current version is not the latest" for (u,) in wrong]
        orphans = db.execute(
            "SELECT DISTINCT uuid FROM versions WHERE uuid NOT IN (SELECT uuid FROM reviews)"
        ).fetchall()
        problems += [f"review {u}: versions without a reviews row" for (u,) in orphans]
        return problems
