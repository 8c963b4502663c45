"""The archive's counts kept as rows: what ``reviews stats``, ``reviews refs --top`` and
the site's figures report, without an aggregate over the whole archive on every call.

Why: those counts are over the *current* versions' derived rows (``refs``, ``citations``,
``flags``: about 1.8 million reference rows at 100,000 reviews), and counting them again
on every call took 10-20 s there (docs/benchmarks.md, issue 19). A review changes them
only when its current version changes, so each write that changes it (an add that makes
a version current, a retraction, a restoration, a purge) adds the old current version's
rows with -1 and the new one's with +1, in the same transaction as the write
(:func:`moved`, :func:`shown`). An archive made before the tables existed gets them
filled once by its first writer (:func:`recount`, inside the schema migration's single
transaction: killed half way, nothing of it stays); a reader of such an archive that may
not write counts the slow way (:func:`kept` says which).

The slow way stays here as the definition of every count (the ``counted_*`` functions):
the fallback of a read-only older archive, what :func:`recount` fills the tables from, and
the oracle ``reviews verify`` and the tests compare the kept rows with (:func:`drift`).
"""
from __future__ import annotations

import sqlite3
from typing import Any

#: The first schema version that keeps the tables (archive.store.SCHEMA_VERSION >= it).
SCHEMA = 4

#: ``tallies``: small groups by kind: ``total`` (versions, citations, dangling, references),
#: ``month`` (reviews received in YYYY-MM), ``topic`` (reviews), ``flags`` (flag rows by
#: code), ``flagged`` (reviews with the code). ``works``: per reference id, the current
#: versions listing it and the markers resolving to it (the rank index gives the most
#: cited first without a sort). ``spellings``: each title a work is listed under, and how
#: often. Rows that fall to zero are deleted (a purge leaves no title or topic behind).
TABLES = """
CREATE TABLE IF NOT EXISTS tallies(
    kind TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS works(
    ref_id TEXT PRIMARY KEY, listed INTEGER NOT NULL, cited INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS works_rank ON works(cited DESC, listed DESC, ref_id) WHERE listed > 0;
CREATE TABLE IF NOT EXISTS spellings(
    ref_id TEXT NOT NULL, title TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(ref_id, title)
) WITHOUT ROWID;
"""

_TOTALS = ("versions", "citations", "dangling", "references")
_MONTH = "substr(received_at, 1, 7)"
_IS_MONTH = "received_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*'"
_HAS_TOPIC = "coalesce(topic, '') != ''"
_CUR = "JOIN reviews r ON r.current_version = t.version_id"


def kept(store) -> bool:
    """Does this archive keep the counts (else a reader of an older one counts them)?"""
    return store.schema_version >= SCHEMA


# -- the counts, the slow way (the definition; fallback, recount and oracle) -----------------
def counted_totals(db) -> dict[str, int]:
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "versions": one("SELECT count(*) FROM versions v JOIN reviews r ON r.uuid = v.uuid"),
        "citations": one(f"SELECT count(*) FROM citations t {_CUR}"),
        "dangling": one(f"SELECT count(*) FROM citations t {_CUR} WHERE t.ref_id IS NULL"),
        "references": one(f"SELECT count(DISTINCT t.ref_id) FROM refs t {_CUR}"),
    }


def counted_groups(db, kind: str) -> dict[str, int]:
    """``{key: n}`` of one kind of :data:`TABLES`' ``tallies`` other than ``total``."""
    sql = {
        "month": f"SELECT {_MONTH} AS m, count(*) FROM reviews WHERE {_IS_MONTH} GROUP BY m",
        "topic": f"SELECT topic, count(*) FROM reviews WHERE {_HAS_TOPIC} GROUP BY topic",
        "flags": f"SELECT t.code, count(*) FROM flags t {_CUR} GROUP BY t.code",
        "flagged": f"SELECT t.code, count(DISTINCT t.version_id) FROM flags t {_CUR} GROUP BY t.code",
    }[kind]
    return dict(db.execute(sql).fetchall())


def counted_works(db) -> dict[str, tuple[int, int]]:
    """``{ref_id: (markers resolving to it, current versions listing it)}``, the works
    some current version lists."""
    rows = db.execute(
        "WITH cur AS (SELECT current_version AS vid FROM reviews),"
        " listed AS (SELECT f.ref_id, count(DISTINCT f.version_id) AS nrev FROM refs f"
        "   JOIN cur ON cur.vid = f.version_id GROUP BY f.ref_id),"
        " cited AS (SELECT c.ref_id, count(*) AS ncit FROM citations c"
        "   JOIN cur ON cur.vid = c.version_id WHERE c.ref_id IS NOT NULL"
        "   GROUP BY c.ref_id)"
        " SELECT listed.ref_id, coalesce(cited.ncit, 0), listed.nrev FROM listed"
        " LEFT JOIN cited ON cited.ref_id = listed.ref_id")
    return {rid: (ncit, nrev) for rid, ncit, nrev in rows}


def counted_spellings(db, ref_id: str | None = None) -> dict[tuple[str, str], int]:
    """``{(ref_id, title): listings}`` in the current versions (of one work, given one)."""
    where = " WHERE t.ref_id = ?" if ref_id is not None else ""
    return {(rid, title): n for rid, title, n in db.execute(
        f"SELECT t.ref_id, t.title, count(*) FROM refs t {_CUR}{where} GROUP BY t.ref_id, t.title",
        () if ref_id is None else (ref_id,))}


def counted(db) -> dict[str, Any]:
    """Every count, the slow way (what the tables must hold)."""
    return {"total": counted_totals(db),
            **{k: counted_groups(db, k) for k in ("month", "topic", "flags", "flagged")},
            "works": counted_works(db), "spellings": counted_spellings(db)}


# -- the counts as kept ---------------------------------------------------------------------
def totals(store) -> dict[str, int]:
    """Versions, citations, dangling citations and distinct works of the shown reviews."""
    if not kept(store):
        return counted_totals(store)
    got = groups(store, "total")
    return {k: got.get(k, 0) for k in _TOTALS}


def groups(store, kind: str) -> dict[str, int]:
    """``{key: n}`` by key of a kind (see :data:`TABLES`)."""
    if not kept(store) and kind != "total":
        return dict(sorted(counted_groups(store, kind).items()))
    return dict(store.execute("SELECT key, n FROM tallies WHERE kind = ? ORDER BY key", (kind,)))


def top_works(store, limit: int) -> list[tuple[str, int, int]]:
    """``(ref_id, citations, reviews)`` of the most cited works: more citations, then
    more reviews, then id."""
    if not kept(store):
        works = counted_works(store)
        best = sorted(works, key=lambda rid: (-works[rid][0], -works[rid][1], rid))[:limit]
        return [(rid, *works[rid]) for rid in best]
    return store.execute(
        "SELECT ref_id, cited, listed FROM works WHERE listed > 0"
        " ORDER BY cited DESC, listed DESC, ref_id LIMIT ?", (int(limit),)).fetchall()


def spellings(store, ref_id: str) -> list[str]:
    """The titles a work is listed under in the current versions, most frequent first
    (then shortest, then by text)."""
    if not kept(store):
        rows = [(title, n) for (_, title), n in counted_spellings(store, ref_id).items()]
    else:
        rows = store.execute("SELECT title, n FROM spellings WHERE ref_id = ?", (ref_id,)).fetchall()
    return [t for t, _ in sorted(rows, key=lambda tn: (-tn[1], len(tn[0]), tn[0]))]


def kept_counts(store) -> dict[str, Any]:
    """Every count as the tables hold it (the shape of :func:`counted`)."""
    return {"total": groups(store, "total"),
            **{k: groups(store, k) for k in ("month", "topic", "flags", "flagged")},
            "works": {rid: (c, n) for rid, c, n in store.execute(
                "SELECT ref_id, cited, listed FROM works WHERE listed > 0")},
            "spellings": {(rid, t): n for rid, t, n in store.execute(
                "SELECT ref_id, title, n FROM spellings")}}


def drift(store) -> list[str]:
    """Where the kept counts differ from a recount (``reviews verify``); empty if exact."""
    if not kept(store):
        return []
    want, have = counted(store), kept_counts(store)
    want["total"] = {k: v for k, v in want["total"].items() if v}  # (kept: no zero rows)
    out = []
    for part in want:
        keys = sorted(set(want[part]) | set(have[part]), key=repr)
        wrong = [k for k in keys if want[part].get(k) != have[part].get(k)]
        if wrong:
            k = wrong[0]
            out.append(f"kept counts ({part}): {len(wrong)} differ from a recount, e.g. {k!r}:"
                       f" kept {have[part].get(k)}, counted {want[part].get(k)}")
    return out


# -- keeping them (inside the write's transaction) --------------------------------------------
def _add(db: sqlite3.Connection, kind: str, rows: list[tuple[str, int]]) -> None:
    db.executemany("INSERT INTO tallies(kind, key, n) VALUES (?, ?, ?)"
                   " ON CONFLICT(kind, key) DO UPDATE SET n = n + excluded.n",
                   [(kind, k, n) for k, n in rows if n])
    db.executemany("DELETE FROM tallies WHERE kind = ? AND key = ? AND n = 0",
                   [(kind, k) for k, n in rows if n < 0])


def _upsert(into: str, select: str, where: str, key: str, column: str) -> str:
    """``INSERT INTO into select`` over this version's rows (``:v``, and ``where``), each
    row's ``column`` added to the one already there under the same ``key``."""
    return (f"INSERT INTO {into} {select} WHERE version_id = :v AND {where}"
            f" ON CONFLICT({key}) DO UPDATE SET {column} = {column} + excluded.{column}")


#: One current version's rows added to the counts with the sign ``:s`` (set-based: a few
#: statements a version, whatever its size).
_COUNT = [
    _upsert("works(ref_id, listed, cited)", "SELECT DISTINCT ref_id, :s, 0 FROM refs",
            "ref_id IS NOT NULL", "ref_id", "listed"),
    _upsert("works(ref_id, listed, cited)", "SELECT ref_id, 0, :s * count(*) FROM citations",
            "ref_id IS NOT NULL GROUP BY ref_id", "ref_id", "cited"),
    _upsert("spellings(ref_id, title, n)", "SELECT ref_id, title, :s * count(*) FROM refs",
            "ref_id IS NOT NULL AND title IS NOT NULL GROUP BY ref_id, title", "ref_id, title", "n"),
    _upsert("tallies(kind, key, n)", "SELECT 'flags', code, :s * count(*) FROM flags",
            "code IS NOT NULL GROUP BY code", "kind, key", "n"),
    _upsert("tallies(kind, key, n)", "SELECT 'flagged', code, :s FROM flags",
            "code IS NOT NULL GROUP BY code", "kind, key", "n"),
]
#: After taking a version away: the rows it brought to zero (only its own keys).
_ZEROED = [
    "DELETE FROM works WHERE listed = 0 AND cited = 0 AND ref_id IN"
    " (SELECT ref_id FROM refs WHERE version_id = :v"
    "  UNION SELECT ref_id FROM citations WHERE version_id = :v)",
    "DELETE FROM spellings WHERE n = 0 AND (ref_id, title) IN"
    " (SELECT ref_id, title FROM refs WHERE version_id = :v)",
    "DELETE FROM tallies WHERE kind IN ('flags', 'flagged') AND n = 0 AND key IN"
    " (SELECT code FROM flags WHERE version_id = :v)",
]


def _count(db: sqlite3.Connection, vid: int, sign: int) -> None:
    """Add (``sign`` +1) or take away (-1) one current version's rows."""
    args = {"v": vid, "s": sign}
    for sql in _COUNT:
        db.execute(sql, args)
    # the works this version lists that it just made listed (now 1) or unlisted (now 0)
    turned = db.execute("SELECT count(*) FROM works WHERE listed = :edge AND ref_id IN"
                        " (SELECT ref_id FROM refs WHERE version_id = :v)",
                        {"v": vid, "edge": 1 if sign > 0 else 0}).fetchone()[0]
    marks, dangling = db.execute("SELECT count(*), coalesce(sum(ref_id IS NULL), 0) FROM citations"
                                 " WHERE version_id = ?", (vid,)).fetchone()
    received, topic = db.execute("SELECT received_at, topic FROM versions WHERE id = ?",
                                 (vid,)).fetchone()
    if sign < 0:
        for sql in _ZEROED:
            db.execute(sql, args)
    _add(db, "total", [("citations", sign * marks), ("dangling", sign * dangling),
                       ("references", sign * turned)])
    _add(db, "month", [(m, sign) for (m,) in db.execute(
        f"SELECT {_MONTH} FROM (SELECT ? AS received_at) WHERE {_IS_MONTH}", (received,))])
    _add(db, "topic", [(topic, sign)] if topic else [])


def moved(db: sqlite3.Connection, old: int | None, new: int | None) -> None:
    """A review's current version changed from ``old`` to ``new`` (None: not shown)."""
    if old == new:
        return
    if old is not None:
        _count(db, old, -1)
    if new is not None:
        _count(db, new, +1)


def shown(db: sqlite3.Connection, versions: int) -> None:
    """``versions`` more (or, negative, fewer) stored versions belong to shown reviews."""
    _add(db, "total", [("versions", versions)])


def recount(db: sqlite3.Connection) -> None:
    """Fill the tables from the archive's rows, the slow way (an archive made before they
    existed, or whose derived rows were read again): inside the caller's transaction."""
    for table in ("tallies", "works", "spellings"):
        db.execute(f"DELETE FROM {table}")
    c = counted(db)
    for kind in ("total", "month", "topic", "flags", "flagged"):
        _add(db, kind, sorted(c[kind].items()))
    db.executemany("INSERT INTO works(ref_id, listed, cited) VALUES (?, ?, ?)",
                   [(rid, nrev, ncit) for rid, (ncit, nrev) in c["works"].items() if rid is not None])
    db.executemany("INSERT INTO spellings(ref_id, title, n) VALUES (?, ?, ?)",
                   [(rid, t, n) for (rid, t), n in c["spellings"].items()
                    if rid is not None and t is not None])
