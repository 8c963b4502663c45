"""How far the search index is behind the archive, answered without opening a Store.

A search runs on the index alone; an indexing run that was stopped (killed, a full disk)
leaves new or changed reviews out of it, and the search would miss them silently. The
store records what the index holds (``index_state``); this module compares it with the
current versions through a read-only SQLite connection: a few milliseconds, no write,
so it also works on an archive mounted read-only, and it imports nothing but sqlite3
(a search command pays for every import).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.config import archive_path


def unindexed(data_dir: str | Path) -> int | None:
    """How many current reviews the index does not hold as they are now (new or changed
    since it was last updated); None when the archive cannot be read."""
    path = archive_path(data_dir)
    if not path.exists():
        return 0
    for mode in ("mode=ro", "immutable=1"):  # (a read-only folder: WAL cannot be opened)
        try:
            return _count(sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=1))
        except sqlite3.Error:
            continue
    return None


def _count(db: sqlite3.Connection) -> int:
    try:
        # Version ids only grow, and a review's current version only ever moves to a
        # newer one, so the index holds exactly the current versions when the counts
        # and the sums of ids agree: two quick aggregates, the join only when not.
        a, b, c, d = db.execute(
            "SELECT (SELECT count(*) FROM reviews), (SELECT total(current_version) FROM reviews),"
            " (SELECT count(*) FROM index_state), (SELECT total(version_id) FROM index_state)"
        ).fetchone()
        if (a, b) == (c, d):
            return 0
        return db.execute(
            "SELECT count(*) FROM reviews r LEFT JOIN index_state s ON s.uuid = r.uuid"
            " WHERE s.version_id IS NULL OR s.version_id != r.current_version").fetchone()[0]
    finally:
        db.close()
