"""What the search index holds, as the archive sees it: the ``index_state`` table
(``uuid -> version id`` the index holds as current).

The table lives in the archive's SQLite file, so that a review's new version and the
fact that the index is behind are in one database; but only the index reads or writes
it, through these functions. An update indexes :func:`pending`, then
:func:`mark_indexed`; a review that left the archive (retracted or purged) is in
:func:`removed` until the index has deleted it and :func:`forget` is called.

Both questions are asked of ``index_todo`` (the archive's triggers put there every
review whose two rows may disagree, in the transaction that changes one), so their
cost follows the work to do, not the archive's size; each function that records the
index's work then drops the todo rows now in agreement (``_TIDY``), in its own
transaction: a version stored meanwhile keeps its row. An archive of an older schema
(read-only, so never migrated) is asked with the joins over every review.
"""
from __future__ import annotations

from typing import Iterable


_TODO_SCHEMA = 5  # the first archive schema with index_todo


def _todo(store) -> bool:
    return store.schema_version >= _TODO_SCHEMA


def pending(store) -> list[tuple[str, int]]:
    """``(uuid, current version id)`` of reviews the index does not hold as current."""
    among = ("index_todo t JOIN reviews r ON r.uuid = t.uuid" if _todo(store) else "reviews r")
    return [tuple(r) for r in store.execute(  # type: ignore[misc]
        f"SELECT r.uuid, r.current_version FROM {among}"
        " LEFT JOIN index_state s ON s.uuid = r.uuid"
        " WHERE s.version_id IS NULL OR s.version_id != r.current_version ORDER BY r.uuid")]


#: Drops the todo rows whose review the index holds as it is now, or whose review is
#: gone from both (see the module's docstring).
_TIDY = ("DELETE FROM index_todo WHERE uuid IN (SELECT t.uuid FROM index_todo t"
         " LEFT JOIN reviews r ON r.uuid = t.uuid LEFT JOIN index_state s ON s.uuid = t.uuid"
         " WHERE r.current_version IS s.version_id)")


def _recording(store, change) -> None:
    """``change()`` to ``index_state``, then the tidy of the todo, in one transaction."""
    def both() -> None:
        change()
        if _todo(store):
            store.execute(_TIDY)

    store.write(both)


def mark_indexed(store, pairs: Iterable[tuple[str, int]]) -> None:
    rows = [(u, int(v)) for u, v in pairs]
    _recording(store, lambda: store.executemany(
        "INSERT INTO index_state(uuid, version_id) VALUES (?, ?)"
        " ON CONFLICT(uuid) DO UPDATE SET version_id = excluded.version_id", rows))


def forget(store, uuids: Iterable[str]) -> None:
    """The index no longer holds these reviews."""
    rows = [(u,) for u in uuids]
    _recording(store, lambda: store.executemany("DELETE FROM index_state WHERE uuid = ?", rows))


def reset(store, pairs: Iterable[tuple[str, int]] = ()) -> None:
    """The index holds exactly ``pairs`` now (a rebuild swapped in): one transaction, so
    that no moment says it holds nothing while the old index still answers."""
    rows = [(u, int(v)) for u, v in pairs]

    def replace() -> None:
        store.execute("DELETE FROM index_state")
        store.executemany("INSERT INTO index_state(uuid, version_id) VALUES (?, ?)", rows)

    _recording(store, replace)


def removed(store) -> list[str]:
    """UUIDs the index holds that the archive no longer shows (retracted or purged)."""
    among = ("index_todo t JOIN index_state s ON s.uuid = t.uuid" if _todo(store)
             else "index_state s")
    return [r[0] for r in store.execute(
        f"SELECT s.uuid FROM {among} LEFT JOIN reviews r ON r.uuid = s.uuid"
        " WHERE r.uuid IS NULL ORDER BY s.uuid")]


def indexed_versions(store, uuids: Iterable[str]) -> list[int]:
    """The version ids the index holds for these reviews (none for new ones)."""
    out = []
    for u in set(uuids):
        row = store.execute("SELECT version_id FROM index_state WHERE uuid = ?", (u,)).fetchone()
        if row:
            out.append(row[0])
    return out
