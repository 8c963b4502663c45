"""A full check of the archive (``reviews verify``, and the tests after a fault): SQLite's own
integrity check, every stored original against its sha256, the derived rows against
the parsed record, and each review's current version. Slow on purpose: it reads
every byte, so it is a function of its own and never on a command's hot path."""
from __future__ import annotations

import hashlib

from archive import tallies
from archive.store import load_doc


def verify(store) -> list[str]:
    """Problems found (empty = healthy)."""
    problems = [r[0] for r in store.execute("PRAGMA integrity_check") if r[0] != "ok"]
    problems += [f"foreign key: {tuple(r)}" for r in store.execute("PRAGMA foreign_key_check")]
    last = 0
    while True:
        rows = store.execute(
            "SELECT id, sha256, raw, parsed,"
            " (SELECT count(*) FROM refs WHERE version_id = v.id),"
            " (SELECT count(*) FROM citations WHERE version_id = v.id),"
            " (SELECT count(*) FROM flags WHERE version_id = v.id),"
            + (" (SELECT count(*) FROM sections WHERE version_id = v.id)"
               if store.schema_version >= 3 else " NULL")
            + " FROM versions v WHERE id > ? ORDER BY id LIMIT 100", (last,)).fetchall()
        if not rows:
            break
        for vid, sha, raw, parsed, nref, ncit, nflag, nsec in rows:
            if not isinstance(raw, bytes):  # (SQLite keeps what it is given)
                problems.append(f"version {vid}: raw bytes stored as {type(raw).__name__}")
            elif hashlib.sha256(raw).hexdigest() != sha:
                problems.append(f"version {vid}: raw bytes do not match sha256")
            d = load_doc(parsed)
            want = (len(d["references"]), len(d["citations"]), len(d["flags"]),
                    len(d["sections"]) if nsec is not None else None)
            if (nref, ncit, nflag, nsec) != want:
                problems.append(f"version {vid}: derived rows (refs, citations, flags, sections) "
                                f"{(nref, ncit, nflag, nsec)} != parsed {want}")
        last = rows[-1][0]
    wrong = store.execute(
        "SELECT r.uuid FROM reviews r WHERE r.current_version IS NOT ("
        " SELECT id FROM versions v WHERE v.uuid = r.uuid"
        " ORDER BY received_at DESC, id DESC LIMIT 1)").fetchall()
    problems += [f"review {u}: current version is not the latest" for (u,) in wrong]
    retracted = "" if store.schema_version < 2 else " AND uuid NOT IN (SELECT uuid FROM retracted)"
    orphans = store.execute(
        "SELECT DISTINCT uuid FROM versions WHERE uuid NOT IN (SELECT uuid FROM reviews)"
        + retracted).fetchall()
    problems += [f"review {u}: versions without a reviews row" for (u,) in orphans]
    return problems + tallies.drift(store)
