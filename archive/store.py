"""The archive: one SQLite file, the source of truth.

Every delivery is kept as its exact original bytes (``versions.raw``) with their
sha256, the parsed :class:`~archive.model.Record` as JSON (zstd-compressed,
:func:`dump_doc`; rows of older archives hold the JSON as text), and derived rows
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

Reading apart from writing (Datasette's ``execute_fn`` beside ``execute_write_fn``): a
command that only reads opens ``Store.open(data_dir, read_only=True)``, a ``mode=ro``
connection that cannot write, so opening it migrates nothing and re-reads nothing (an
older archive is read as it is until a writer opens it); an archive this process may not
write is opened that way whatever was asked (:meth:`Store._connect_read_only` says how
SQLite reads a WAL archive in a read-only folder).

Nothing taken from a record (topic, title, uuid) is ever used as a file path.
"""
from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from archive.config import archive_path
from archive.errors import Ambiguous, Damaged, NotFound, ReadOnly, Usage
from archive.fold import fold as _fold
from archive.model import Record
from archive import tallies

SCHEMA_VERSION = 5
#: The parser's version of what is derived from a delivery and stored (the parsed
#: record, its refs, citations and flags). Bump it when parsing the same bytes again
#: gives other rows, and make :meth:`Store._reread` bring an older archive up to it:
#: the bytes are kept, so an archive is never stuck with an older parser's reading.
#: 2: a year closing a reference entry needs its own separator ("Vision 2030." is a title).
#: 3: the citation-lint flags (:mod:`archive.lint`: uncited, duplicate, after received).
DERIVED_VERSION = 3
BUSY_TIMEOUT_MS = 30_000
#: How long a read waits for an archive being created to get its tables (a first ingest
#: makes them in one transaction, in milliseconds).
CREATING_WAIT_S = 2.0
#: WAL pages a bulk ingest lets gather before it checkpoints them into the database
#: (:meth:`Store.bulk`): about 128 MiB at 4 KiB pages, against SQLite's 1,000 (4 MiB).
BULK_CHECKPOINT_PAGES = 32_768
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
    topic TEXT,
    n_sections INTEGER
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
CREATE TABLE IF NOT EXISTS sections(
    version_id INTEGER NOT NULL REFERENCES versions(id), number TEXT, title TEXT
);
CREATE TABLE IF NOT EXISTS flags(
    version_id INTEGER NOT NULL REFERENCES versions(id),
    code TEXT, "where" TEXT, detail TEXT
);
CREATE TABLE IF NOT EXISTS retracted(
    uuid TEXT PRIMARY KEY, at TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS index_state(uuid TEXT PRIMARY KEY, version_id INTEGER);
CREATE TABLE IF NOT EXISTS index_todo(uuid TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_uuid ON versions(uuid, received_at, id);
CREATE INDEX IF NOT EXISTS reviews_received ON reviews(received_at);
CREATE INDEX IF NOT EXISTS reviews_current ON reviews(current_version);
CREATE INDEX IF NOT EXISTS refs_version ON refs(version_id);
DROP INDEX IF EXISTS refs_ref_id;
CREATE INDEX IF NOT EXISTS refs_work ON refs(ref_id, version_id);
CREATE INDEX IF NOT EXISTS citations_version ON citations(version_id, ordinal);
DROP INDEX IF EXISTS citations_ref_id;
CREATE INDEX IF NOT EXISTS citations_work ON citations(ref_id, version_id);
CREATE INDEX IF NOT EXISTS flags_version ON flags(version_id);
CREATE INDEX IF NOT EXISTS sections_number ON sections(version_id, number);
CREATE INDEX IF NOT EXISTS flags_code ON flags(code);
""" + tallies.TABLES

#: What turns an archive of an older schema into the current one (run once, in one
#: transaction, by the first process that may write it). A read-only archive of an older
#: schema is read as it is: the read models look at ``Store.schema_version``.
_MIGRATIONS = {
    2: [  # the current version's section count beside it (a listing reads
        # no JSON and no versions row, whose big columns come first), and retraction
        "ALTER TABLE reviews ADD COLUMN n_sections INTEGER",
        "UPDATE reviews SET n_sections = (SELECT json_array_length(v.parsed, '$.sections')"
        " FROM versions v WHERE v.id = reviews.current_version)",
    ],
    3: [  # section titles as rows (a reference page names the citing sections without JSON)
        "CREATE TABLE sections(version_id INTEGER NOT NULL REFERENCES versions(id),"
        " number TEXT, title TEXT)",
        "INSERT INTO sections SELECT v.id, json_extract(s.value, '$.number'),"
        " json_extract(s.value, '$.title') FROM versions v, json_each(v.parsed, '$.sections') s"
        " ORDER BY v.id, s.key",
    ],
    4: [],  # the kept counts (archive.tallies): the tables are _SCHEMA's, filled by recount
    5: [  # the reviews the index may be behind on (index.state), kept by _TRIGGERS
        "CREATE TABLE IF NOT EXISTS index_todo(uuid TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT OR IGNORE INTO index_todo SELECT r.uuid FROM reviews r LEFT JOIN index_state s"
        " ON s.uuid = r.uuid WHERE s.version_id IS NULL OR s.version_id != r.current_version"
        " UNION SELECT s.uuid FROM index_state s LEFT JOIN reviews r ON r.uuid = s.uuid"
        " WHERE r.uuid IS NULL",
    ],
}

#: ``index_todo`` holds every review whose row in ``reviews`` and in ``index_state``
#: may disagree: any change to either row puts the review there, in the transaction
#: that makes it (a new or changed review, one that left, one the index must take
#: again, what the index recorded). So what the index must do next is read from this
#: short table, not from a join over every review (two such joins were ~0.3 s of one
#: more review at 100,000). It may hold more: the index removes the rows it finds in
#: agreement when it records its work (index.state).
#: (Not INSERT OR IGNORE: a trigger's statements take the conflict policy of the statement
#: that fired them, so an upsert into reviews would fail on a todo row already there.)
_ADD_TODO = ("INSERT INTO index_todo(uuid) SELECT {0}.uuid"
             " WHERE NOT EXISTS (SELECT 1 FROM index_todo WHERE uuid = {0}.uuid)")
_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS todo_review_in AFTER INSERT ON reviews"
    f" BEGIN {_ADD_TODO.format('NEW')}; END",
    "CREATE TRIGGER IF NOT EXISTS todo_review_moved AFTER UPDATE OF current_version ON reviews"
    f" BEGIN {_ADD_TODO.format('NEW')}; END",
    "CREATE TRIGGER IF NOT EXISTS todo_review_out AFTER DELETE ON reviews"
    f" BEGIN {_ADD_TODO.format('OLD')}; END",
    "CREATE TRIGGER IF NOT EXISTS todo_state_in AFTER INSERT ON index_state"
    f" BEGIN {_ADD_TODO.format('NEW')}; END",
    "CREATE TRIGGER IF NOT EXISTS todo_state_moved AFTER UPDATE ON index_state"
    f" BEGIN {_ADD_TODO.format('NEW')}; END",
    "CREATE TRIGGER IF NOT EXISTS todo_state_out AFTER DELETE ON index_state"
    f" BEGIN {_ADD_TODO.format('OLD')}; END",
]


class ParsedLike(Protocol):
    record: Record
    raw: bytes


@dataclass(frozen=True)
class AddResult:
    status: str  # "added" | "version" | "unchanged"
    uuid: str
    version_id: int
    current: bool  # is this version now the review's current one
    retracted: bool = False  # the review is retracted: stored, and it stays hidden


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


def fold(text: str | None) -> str:
    """The comparison form for titles, topics and query words (:mod:`archive.fold`, the
    one the index and the site use)."""
    return _fold(text or "")


def _now() -> str:
    return _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _newer(path: Path, on_disk: int) -> str:
    return (f"{path}: archive schema version {on_disk} is newer than this program supports "
            f"({SCHEMA_VERSION}); upgrade review-archive")


def _not_an_archive(path: Path, err: BaseException) -> None:
    """Raise :class:`Damaged` when SQLite found ``path`` corrupt or no database at all."""
    if getattr(err, "sqlite_errorcode", 0) & 0xFF in (11, 26):  # CORRUPT, NOTADB
        raise Damaged(f"{path} is not a readable archive ({err}); restore it from a "
                      "backup, or move it away and ingest again") from None


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
    doc: bytes  # the Record as JSON, zstd-compressed (:func:`dump_doc`)
    refs: list[tuple]
    citations: list[tuple]
    flags: list[tuple]
    sections: list[tuple]


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ITEMS = 64  # list elements encoded at once (one C call instead of one each: ~20 % of parsing)


def _json_pieces(doc: dict[str, Any]) -> Iterator[str]:
    """``json.dumps(doc)`` (compact, UTF-8 as is) in pieces: each top-level value, and
    each run of :data:`_ITEMS` elements of a top-level list, encoded by the C encoder."""
    yield "{"
    for i, (key, value) in enumerate(doc.items()):
        yield ("," if i else "") + _ENCODE(key) + ":"
        if isinstance(value, list):
            yield "["
            for j in range(0, len(value), _ITEMS):
                yield ("," if j else "") + _ENCODE(value[j:j + _ITEMS])[1:-1]
            yield "]"
        else:
            yield _ENCODE(value)
    yield "}"


def dump_doc(doc: dict[str, Any]) -> bytes:
    """The parsed record as stored: compact JSON, zstd-compressed as it is encoded.

    A record's JSON is about twice its delivery (the text, and every citation with its
    sentence); compressed it is a fraction of it, and a large delivery's JSON
    never exists whole in memory, neither as a Python string nor as a copy SQLite binds.
    Archives written before hold the JSON as TEXT; :func:`load_doc` reads both."""
    import zstandard  # noqa: PLC0415 (not on the query path)

    out = bytearray()
    comp = zstandard.ZstdCompressor(level=3).compressobj()
    for piece in _json_pieces(doc):
        out += comp.compress(piece.encode("utf-8"))
    out += comp.flush()
    return bytes(out)


def load_doc(value: str | bytes) -> dict[str, Any]:
    """A stored ``versions.parsed``: JSON text (older rows) or :func:`dump_doc` bytes."""
    if isinstance(value, str):
        return json.loads(value)
    return json.loads(_decompressor().decompressobj().decompress(value))


@functools.cache
def _decompressor():
    import zstandard  # noqa: PLC0415 (not on the query path)

    return zstandard.ZstdDecompressor()


def _insert_references(db: sqlite3.Connection, vid: int, refs: list[tuple],
                       citations: list[tuple], flags: list[tuple]) -> None:
    """A version's refs, citations and flags rows."""
    db.executemany("INSERT INTO refs(version_id, scope, n, ref_id, title, year, raw)"
                   " VALUES (?,?,?,?,?,?,?)", [(vid, *r) for r in refs])
    db.executemany("INSERT INTO citations(version_id, ordinal, section, marker, style, n, scope,"
                   " ref_id, sentence) VALUES (?,?,?,?,?,?,?,?,?)", [(vid, *c) for c in citations])
    db.executemany('INSERT INTO flags(version_id, code, "where", detail) VALUES (?,?,?,?)',
                   [(vid, *f) for f in flags])


def immediate(db: sqlite3.Connection, fn: Callable[[], Any]) -> Any:
    """``fn()`` in one ``BEGIN IMMEDIATE`` transaction of ``db`` (autocommit mode): the
    write lock taken up front, committed, or rolled back when ``fn`` raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def _put_large(db: sqlite3.Connection, column: str, rowid: int, data: bytes) -> None:
    """Write ``data`` into a value of its length already in place (incremental blob I/O,
    in 1 MiB pieces): binding it would have SQLite copy the whole of it first."""
    view = memoryview(data)
    with db.blobopen("versions", column, rowid) as blob:
        for at in range(0, len(view), 1 << 20):
            blob.write(view[at:at + (1 << 20)])


def _refs(record: Record) -> list[tuple]:
    return [(r.scope, r.n, r.ref_id, r.title, r.year, r.raw) for r in record.references]


def _citations(record: Record) -> list[tuple]:
    return [(i, c.section, c.marker, c.style, c.n, c.scope, c.ref_id, c.sentence)
            for i, c in enumerate(record.citations)]


def _flags(record: Record) -> list[tuple]:
    return [(f.code, f.where, f.detail) for f in record.flags]


def prepare(parsed: ParsedLike) -> Prepared:
    record, raw = parsed.record, bytes(parsed.raw)
    return Prepared(
        uuid=record.uuid,
        received_at=record.received_at,
        topic=record.topic,
        encoding=record.encoding,
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        doc=dump_doc(record.to_dict()),
        refs=_refs(record),
        citations=_citations(record),
        flags=_flags(record),
        sections=[(s.number, s.title) for s in record.sections],
    )


class Store:
    """The archive database. ``with Store.open(data_dir) as store: ...``

    One Store is one connection; use it from one thread at a time (each process
    or thread that works concurrently opens its own Store).
    """

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self._in_batch = False
        #: Opened to read only, where this process could write: a write is a bug.
        self._reading = read_only and self.path.is_file() and not self.read_only_place(self.path)
        self.read_only = self._reading or self.read_only_place(self.path)
        if self.read_only:  # a mounted backup, a read-only folder, a command that reads
            self._db = self._connect_read_only(self.path)
            self._db.create_function("fold", 1, fold, deterministic=True)
            self.schema_version = self._schema_on_disk()
            if self.schema_version > SCHEMA_VERSION:
                self._db.close()
                raise Damaged(_newer(self.path, self.schema_version))
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
        except BaseException as err:
            self._db.close()
            _not_an_archive(self.path, err)
            raise

    @staticmethod
    def read_only_place(path: Path) -> bool:
        """An archive that exists where this process may not write (file or folder)."""
        return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))

    @staticmethod
    def _connect_read_only(path: Path) -> sqlite3.Connection:
        """A connection that cannot write (``mode=ro``), which still sees what a live
        writer commits: the archive is in WAL mode, and a WAL reader needs the
        ``-shm`` index beside the file, which SQLite makes when the folder is writable
        and reads as it is when it was copied along.

        In a read-only folder without a ``-shm`` (a backup taken after the last writer
        closed, so the ``-wal`` is gone too and the file is whole), ``mode=ro`` cannot
        start, and the file is opened ``immutable=1``: no locks, no shared memory, no
        journal read. Never where a ``-wal`` with content is left beside it (immutable
        would ignore those transactions and answer from an older archive: refused,
        saying why), and never in a folder a writer could use. A file without the
        archive's tables there is one being created: waited for (:meth:`_being_created`)."""
        uri = path.resolve().as_uri()
        try:
            return Store._connect(uri + "?mode=ro", path)
        except sqlite3.OperationalError as err:
            if os.access(path.parent, os.W_OK):
                if "no such table" in str(err):
                    return Store._being_created(uri, path)
                raise  # (a full disk, a lock: the CLI says it by SQLite's code)
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size:
            raise ReadOnly(f"cannot read the archive at {path} here: its journal ({wal.name}) "
                           "holds transactions that SQLite reads only with the -shm file "
                           "beside it, in a folder this user may not write; copy that file "
                           "along, or open the archive once where it may be written")
        try:
            return Store._connect(uri + "?mode=ro&immutable=1", path)
        except sqlite3.OperationalError:
            pass
        raise Damaged(f"cannot read the archive at {path}: SQLite cannot open it read-only "
                      "(is it an archive of this program?)")

    @staticmethod
    def _being_created(uri: str, path: Path) -> sqlite3.Connection:
        """An SQLite file without the archive's tables, in a folder a writer may use:
        the first ingest is creating it (the file exists a moment before the transaction
        that makes its tables commits), or one was stopped before it could. The first is
        waited for (:data:`CREATING_WAIT_S`); the second is said as such."""
        deadline = time.monotonic() + CREATING_WAIT_S
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                return Store._connect(uri + "?mode=ro", path)
            except sqlite3.OperationalError as err:
                if "no such table" not in str(err):
                    raise
        raise Damaged(f"the archive at {path} has no tables yet: another command is creating "
                      "it, or the first ingest into it was stopped before it could; run "
                      "`reviews ingest` again")

    @staticmethod
    def _connect(uri: str, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(uri, uri=True, isolation_level=None,
                             timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            db.execute("SELECT count(*) FROM reviews").fetchone()
            return db
        except sqlite3.DatabaseError as err:
            db.close()
            _not_an_archive(path, err)
            raise

    @classmethod
    def open(cls, data_dir: str | Path, read_only: bool = False) -> "Store":
        """The archive in ``data_dir``; ``read_only``: for a command that only reads,
        whose connection then cannot write (no schema migration, no re-reading on open:
        an older archive is read as it is until a writer opens it). A missing archive is
        made, read-only or not (the per-user folder's first use)."""
        return cls(archive_path(data_dir), read_only)

    def close(self) -> None:
        self._db.close()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """Run one read statement on this store's connection (the read models in
        :mod:`archive.listing` and :mod:`archive.citing` are functions over this)."""
        return self._db.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> sqlite3.Cursor:
        """Inside :meth:`write` only."""
        return self._db.executemany(sql, rows)

    def write(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` (which writes with :meth:`execute`) as one transaction, retried
        while another process holds the write lock; read-only archives refuse."""
        return self._write(fn)

    def _schema_on_disk(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else SCHEMA_VERSION

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

        The savepoint's journal (the pages an add changes, as they were before it, kept
        to roll that add back) is held in memory (``temp_store = MEMORY`` from before the
        ``BEGIN``, when SQLite decides it): on a file it was one write a page, ~350 an
        add at 10k-100k reviews, where an add's index entries land on pages of their
        own. It is emptied at each add's release, so it holds one add's pages at most;
        the archive's durability is the WAL's and does not depend on it.
        """
        if self.read_only:
            self._write(lambda: None)  # raises: the archive is read-only here
        if self._in_batch:
            yield
            return
        self._db.execute("PRAGMA temp_store = MEMORY")
        try:
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
        finally:  # (the default again: a VACUUM's or a migration's temporary data on disk)
            self._db.execute("PRAGMA temp_store = DEFAULT")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many batches in a row (a bulk ingest): the WAL is checkpointed into the
        database every :data:`BULK_CHECKPOINT_PAGES` instead of after each batch.

        Why: in an archive of 10k-100k reviews an add's index entries (citations and
        references by work, spellings, UUIDs, hashes) fall on pages of their own, so a
        batch's commit wrote some 6,000 pages to the WAL, and the checkpoint that
        followed each commit wrote them all again, at random places in a multi-GB
        file, with its own fsync. Gathered over many batches, a page changed by several
        of them (the counts, a common work's entries) is written to the database once.
        Every commit still reaches the disk (``synchronous=FULL`` on the WAL): a kill
        leaves the last committed batch, which the next opening reads from the WAL.
        At the end the WAL is checkpointed (not left holding up to 128 MiB)."""
        if self.read_only:
            yield
            return
        was = self._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        self._db.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            self._db.execute(f"PRAGMA wal_autocheckpoint = {was}")
        # (PASSIVE: waits for no reader; what a reader still uses, a later commit checkpoints)
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _write(self, fn):  # type: ignore[no-untyped-def]
        """Run ``fn()`` in one BEGIN IMMEDIATE transaction, retried while busy
        (a savepoint when inside :meth:`batch`)."""
        if self._reading:
            raise ReadOnly(f"the archive at {self.path} was opened for reading only")
        if self.read_only:
            raise ReadOnly(f"the archive at {self.path} is read-only here: reading works, "
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

        return self._retry(lambda: immediate(self._db, fn))

    def _init_schema(self) -> None:
        def create() -> None:
            existing = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
            row = (self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                   if "meta" in existing else None)
            on_disk = int(row[0]) if row else (1 if "versions" in existing else SCHEMA_VERSION)
            if on_disk > SCHEMA_VERSION:
                raise Damaged(_newer(self.path, on_disk))
            if "versions" in existing:  # an older archive: migrate before the new indexes
                for version in range(on_disk + 1, SCHEMA_VERSION + 1):
                    for stmt in _MIGRATIONS.get(version, ()):
                        self._db.execute(stmt)
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    self._db.execute(stmt)
            for stmt in _TRIGGERS:
                self._db.execute(stmt)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'derived_version'").fetchone()
            derived = int(row[0]) if row else (1 if "versions" in existing else DERIVED_VERSION)
            if derived < 2:
                self._reread()
            if derived < 3:
                self._relint()
            if "versions" in existing and (on_disk < tallies.SCHEMA or derived < DERIVED_VERSION):
                tallies.recount(self._db)  # after the rows they count were read again
            for key, value in (("schema_version", SCHEMA_VERSION), ("derived_version", DERIVED_VERSION)):
                self._db.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))

        self._write(create)
        self.schema_version = SCHEMA_VERSION

    def _reread(self) -> None:
        """Bring the derived rows of an archive written by an older parser up to this
        one's (inside the opening transaction): every version with a reference line this
        parser reads otherwise gets its references, citations and flags read again
        (:func:`archive.references.reread`), and its review is indexed again."""
        from archive.references import parse_reference_line, reread  # noqa: PLC0415

        db = self._db
        vids = sorted({vid for vid, n, title, year, raw in db.execute(
            "SELECT version_id, n, title, year, raw FROM refs")
            if (got := parse_reference_line(raw or "")) is not None and got != (n, title, year)})
        uuids = set()
        for vid in vids:
            uuid, parsed = db.execute("SELECT uuid, parsed FROM versions WHERE id = ?",
                                      (vid,)).fetchone()
            record = Record.from_dict(load_doc(parsed))
            if not reread(record):
                continue
            db.execute("UPDATE versions SET parsed = ? WHERE id = ?",
                       (dump_doc(record.to_dict()), vid))
            for table in ("refs", "citations", "flags"):
                db.execute(f"DELETE FROM {table} WHERE version_id = ?", (vid,))
            _insert_references(db, vid, _refs(record), _citations(record), _flags(record))
            uuids.add(uuid)
        db.executemany("DELETE FROM index_state WHERE uuid = ?", [(u,) for u in sorted(uuids)])

    def _relint(self) -> None:
        """Give an archive written before the citation-lint flags existed the flags a
        fresh ingest makes (inside the opening transaction). They follow from rows the
        archive holds (the lists, the resolved markers, the received date), so a
        version's record is read and written again only when it has any; the index
        holds no flags and is left as it is."""
        from archive.lint import LINT_CODES, lint_references  # noqa: PLC0415
        from archive.model import Citation, Reference  # noqa: PLC0415

        db = self._db
        refs: dict[int, list[Reference]] = {}
        for vid, scope, n, rid, year in db.execute(
                "SELECT version_id, scope, n, ref_id, year FROM refs ORDER BY rowid"):
            refs.setdefault(vid, []).append(Reference(n, "", year, "", rid, scope or ""))
        cited: dict[int, list[Citation]] = {}
        for vid, scope, n in db.execute("SELECT DISTINCT version_id, scope, n FROM citations"
                                        " WHERE ref_id IS NOT NULL"):
            cited.setdefault(vid, []).append(Citation("", "", n, "", "", "", scope or ""))
        for vid, received in db.execute("SELECT id, received_at FROM versions").fetchall():
            lists = Record("", received, "", references=refs.get(vid, []),
                           citations=cited.get(vid, []))
            if not lint_references(lists):
                continue
            record = self.record(vid)
            record.flags = ([f for f in record.flags if f.code not in LINT_CODES]
                            + lint_references(record))
            db.execute("UPDATE versions SET parsed = ? WHERE id = ?",
                       (dump_doc(record.to_dict()), vid))
            db.execute("DELETE FROM flags WHERE version_id = ?", (vid,))
            _insert_references(db, vid, [], [], _flags(record))

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
            cur = db.execute("SELECT current_version FROM reviews WHERE uuid = ?", (uuid,)).fetchone()
            return AddResult("unchanged", uuid, vid, cur is not None and cur[0] == vid,
                             retracted=cur is None)
        uuid = p.uuid
        known = db.execute("SELECT 1 FROM versions WHERE uuid = ?", (uuid,)).fetchone()
        # the raw bytes go in as a placeholder of their length, then are written in place: a
        # large delivery is not copied whole by SQLite's binding first
        vid = db.execute(
            "INSERT INTO versions(uuid, sha256, received_at, ingested_at, source, size,"
            " encoding, topic, raw, parsed) VALUES (?,?,?,?,?,?,?,?, zeroblob(?), ?)",
            (uuid, p.sha256, p.received_at, _now(), source, len(p.raw), p.encoding,
             p.topic, len(p.raw), p.doc),
        ).lastrowid
        _put_large(db, "raw", vid, p.raw)
        _insert_references(db, vid, p.refs, p.citations, p.flags)
        db.executemany("INSERT INTO sections(version_id, number, title) VALUES (?,?,?)",
                       [(vid, *s) for s in p.sections])
        if self._retraction(uuid) is not None:  # stored, and the review stays hidden
            return AddResult("version", uuid, vid, False, retracted=True)
        tallies.shown(db, 1)
        cur_id = self._make_current(uuid)
        return AddResult("version" if known else "added", uuid, vid, cur_id == vid)

    def _make_current(self, uuid: str) -> int:
        """Point ``reviews`` at the review's latest version (received, then ingested),
        and count the change (:func:`archive.tallies.moved`)."""
        was = self._db.execute("SELECT current_version FROM reviews WHERE uuid = ?", (uuid,)).fetchone()
        cur_id, cur_received, cur_topic = self._db.execute(
            "SELECT id, received_at, topic FROM versions WHERE uuid = ?"
            " ORDER BY received_at DESC, id DESC LIMIT 1", (uuid,)).fetchone()
        self._db.execute(
            "INSERT INTO reviews(uuid, current_version, received_at, topic, n_sections)"
            " VALUES (?,?,?,?, (SELECT count(*) FROM sections WHERE version_id = ?))"
            " ON CONFLICT(uuid) DO UPDATE SET current_version = excluded.current_version,"
            " received_at = excluded.received_at, topic = excluded.topic,"
            " n_sections = excluded.n_sections",
            (uuid, cur_id, cur_received, cur_topic, cur_id))
        tallies.moved(self._db, was[0] if was else None, cur_id)
        return cur_id

    # -- retraction ----------------------------------------------------------
    # A retracted review leaves ``reviews`` (every listing, search, reference count,
    # export and page reads current versions through it) and is kept, with its versions,
    # in ``retracted`` with the time and the reason; restoring puts it back.
    def _retraction(self, uuid: str) -> tuple[str, str] | None:
        if self.schema_version < 2:
            return None
        row = self._db.execute("SELECT at, reason FROM retracted WHERE uuid = ?", (uuid,)).fetchone()
        return (row[0], row[1]) if row else None

    def retract(self, uuid: str, reason: str) -> None:
        """Hide a review (a full UUID, see :meth:`resolve`) everywhere; keep its bytes."""
        reason = " ".join((reason or "").split())
        if not reason:
            raise Usage("a retraction needs a reason (--reason TEXT)")

        def run() -> None:
            self._db.execute("INSERT INTO retracted(uuid, at, reason) VALUES (?,?,?)",
                             (uuid, _now(), reason))
            self._hide(uuid)
        self._write(run)

    def restore(self, uuid: str) -> None:
        """Undo :meth:`retract`: the review's latest version is current again."""
        def run() -> None:
            if self._db.execute("DELETE FROM retracted WHERE uuid = ?", (uuid,)).rowcount:
                tallies.shown(self._db, self._n_versions(uuid))
            self._make_current(uuid)
        self._write(run)

    def purge(self, uuid: str) -> int:
        """Delete every stored byte of a review (its versions, their derived rows, the
        retraction), then rewrite the database file (VACUUM) and empty the journal, so
        that no copy of the bytes stays in either. Returns the versions deleted."""
        def run() -> int:
            vids = [r[0] for r in self._db.execute("SELECT id FROM versions WHERE uuid = ?", (uuid,))]
            self._hide(uuid)  # (counted while its rows are there)
            for table in ("refs", "citations", "flags", "sections"):
                self._db.executemany(f"DELETE FROM {table} WHERE version_id = ?", [(v,) for v in vids])
            self._db.execute("DELETE FROM retracted WHERE uuid = ?", (uuid,))
            self._db.execute("DELETE FROM versions WHERE uuid = ?", (uuid,))
            # (the index's todo row names it too; kept only while the index holds it,
            # for the index to drop it and then this row: index.state)
            self._db.execute("DELETE FROM index_todo WHERE uuid = ? AND uuid NOT IN"
                             " (SELECT uuid FROM index_state)", (uuid,))
            return len(vids)
        self._db.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left
        n = self._write(run)
        self._retry(lambda: self._db.execute("VACUUM"))
        self._retry(lambda: self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        return n

    def _hide(self, uuid: str) -> None:
        """Take a review out of ``reviews``, and its versions out of the counts."""
        was = self._db.execute("SELECT current_version FROM reviews WHERE uuid = ?", (uuid,)).fetchone()
        if was is None:
            return
        tallies.moved(self._db, was[0], None)
        tallies.shown(self._db, -self._n_versions(uuid))
        self._db.execute("DELETE FROM reviews WHERE uuid = ?", (uuid,))

    def _n_versions(self, uuid: str) -> int:
        return self._db.execute("SELECT count(*) FROM versions WHERE uuid = ?", (uuid,)).fetchone()[0]

    def retracted(self) -> list[tuple[str, str, str, str, int]]:
        """``(uuid, topic, retracted at, reason, versions)`` of the retracted reviews,
        latest retraction first."""
        if self.schema_version < 2:
            return []
        return self._db.execute(
            "SELECT t.uuid, (SELECT v.topic FROM versions v WHERE v.uuid = t.uuid"
            "   ORDER BY v.received_at DESC, v.id DESC LIMIT 1), t.at, t.reason,"
            " (SELECT count(*) FROM versions v WHERE v.uuid = t.uuid)"
            " FROM retracted t ORDER BY t.at DESC, t.uuid").fetchall()

    # -- lookups -----------------------------------------------------------
    def resolve(self, id_or_prefix: str, among: str = "shown") -> str:
        """A full UUID from a UUID or unique prefix (case and dashes ignored), among the
        ``shown`` reviews, the ``retracted`` ones, or ``any``."""
        key = (id_or_prefix or "").strip().lower().replace("-", "")
        if not key or not re.fullmatch(r"[0-9a-f]{1,32}", key):
            raise NotFound(
                f"{id_or_prefix!r} is not a review id: expected hex digits of a UUID "
                "(see `reviews list`)"
            )
        tables = {"shown": ["reviews"], "retracted": ["retracted"],
                  "any": ["reviews", "retracted"]}[among]
        if self.schema_version < 2:
            tables = [t for t in tables if t != "retracted"]
        rows = sorted({r[0] for t in tables for r in self._db.execute(
            f"SELECT uuid FROM {t} WHERE uuid >= ? AND uuid < ? ORDER BY uuid LIMIT 101",
            (key, key + "g"))})
        if not rows:
            hidden = among == "shown" and self.schema_version >= 2 and self._db.execute(
                "SELECT uuid, at, reason FROM retracted WHERE uuid >= ? AND uuid < ? LIMIT 2",
                (key, key + "g")).fetchall()
            if hidden and len(hidden) == 1:
                uuid, at, reason = hidden[0]
                raise NotFound(f"review {uuid[:8]} was retracted on {at[:10]} ({reason}); "
                               f"`reviews restore {uuid[:8]}` brings it back")
            where = {"shown": "`reviews list`", "retracted": "`reviews list --retracted`",
                     "any": "`reviews list` and `reviews list --retracted`"}[among]
            raise NotFound(f"no {'retracted ' if among == 'retracted' else ''}review with id "
                           f"{id_or_prefix!r} (see {where})")
        if len(rows) > 1:
            raise Ambiguous(id_or_prefix, rows)
        return rows[0]

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
        return Record.from_dict(load_doc(found[0]))

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

    # -- the whole archive --------------------------------------------------
    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM reviews").fetchone()[0]

    def review_order(self) -> list[tuple[str, int]]:
        """``(uuid, current version id)`` of every review, in the order the reviews were
        first added (appending never moves a review: the static site's partitions)."""
        return self._db.execute(
            "SELECT r.uuid, r.current_version FROM reviews r JOIN (SELECT uuid, min(id) AS"
            " first FROM versions GROUP BY uuid) f ON f.uuid = r.uuid ORDER BY f.first"
        ).fetchall()

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
                yield self._info(row), Record.from_dict(load_doc(row[9]))
            last = rows[-1][1]
