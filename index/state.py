"""What the search index holds, as the archive sees it: the ``index_state`` table
(``uuid -> version id`` the index holds as current).

The table lives in the archive's SQLite file, so that a review's new version and the
fact that the index is behind are in one database; but only the index reads or writes
it, through these functions. An update indexes :func:`pending`, then
:func:`mark_indexed`; a review that left the archive (retracted or purged) is in
:func:`removed` until the index has deleted it and :func:`forget` is called.
"""
from __future__ import annotations

from typing import Iterable


def pending(store) -> list[tuple[str, int]]:
    """``(uuid, current version id)`` of reviews the index does not hold as current."""
    return [tuple(r) for r in store.execute(  # type: ignore[misc]
        "SELECT r.uuid, r.current_version FROM reviews r"
        " LEFT JOIN index_state s ON s.uuid = r.uuid"
        " WHERE s.version_id IS NULL OR s.version_id != r.current_version ORDER BY r.uuid")]


def mark_indexed(store, pairs: Iterable[tuple[str, int]]) -> None:
    rows = [(u, int(v)) for u, v in pairs]
    store.write(lambda: store.executemany(
        "INSERT INTO index_state(uuid, version_id) VALUES (?, ?)"
        " ON CONFLICT(uuid) DO UPDATE SET version_id = excluded.version_id", rows))


def forget(store, uuids: Iterable[str]) -> None:
    """The index no longer holds these reviews."""
    rows = [(u,) for u in uuids]
    store.write(lambda: store.executemany("DELETE FROM index_state WHERE uuid = ?", rows))


def reset(store, pairs: Iterable[tuple[str, int]] = ()) -> None:
    """The index holds exactly ``pairs`` now (a rebuild swapped in): one transaction, so
    that no moment says it holds nothing while the old index still answers."""
    rows = [(u, int(v)) for u, v in pairs]

    def replace() -> None:
        store.execute("DELETE FROM index_state")
        store.executemany("INSERT INTO index_state(uuid, version_id) VALUES (?, ?)", rows)

    store.write(replace)


def removed(store) -> list[str]:
    """UUIDs the index holds that the archive no longer shows (retracted or purged)."""
    return [r[0] for r in store.execute(
        "SELECT s.uuid FROM index_state s LEFT JOIN reviews r ON r.uuid = s.uuid"
        " WHERE r.uuid IS NULL ORDER BY s.uuid")]


def indexed_versions(store, uuids: Iterable[str]) -> list[int]:
    """The version ids the index holds for these reviews (none for new ones)."""
    out = []
    for u in set(uuids):
        row = store.execute("SELECT version_id FROM index_state WHERE uuid = ?", (u,)).fetchone()
        if row:
            out.append(row[0])
    return out
