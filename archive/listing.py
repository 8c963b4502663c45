"""Listings and figures over the archive: read models, as functions over a
:class:`~archive.store.Store` (Datasette's shape: the store is the connection and its
writes; what a page or a command reads is a small function over it).

Every function here reads the *current* version of each review (``reviews`` joined on
``current_version``), so a re-delivery replaces its review and a retracted review (not
in ``reviews``) is left out of all of them.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from archive.days import parse_day
from archive.fold import fold
from archive.citing import top_references
from archive import tallies
from archive.model import DEFECT, FLAG_KINDS, Flag, Record


@dataclass(frozen=True)
class Summary:
    """One current review as a listing shows it: ``reviews list`` and the site's listing
    pages. Two sources fill it: the store's columns (:func:`summaries`, which reads no
    record, so the fields only a parsed record holds stay None) and one parsed record
    (:meth:`of`, which sees no other version, so ``versions`` stays None)."""

    uuid: str
    received_at: str
    topic: str
    versions: int | None
    n_sections: int
    n_references: int
    flags: list[str] = field(default_factory=list)  # distinct flag codes, sorted
    title: str | None = None  # the content's own heading, else the topic
    n_citations: int | None = None
    n_dangling: int | None = None  # citations that point at no listed reference

    @classmethod
    def of(cls, rec: Record) -> "Summary":
        return cls(
            uuid=rec.uuid, received_at=rec.received_at, topic=rec.topic, versions=None,
            n_sections=len(rec.sections), n_references=len(rec.references),
            flags=rec.flag_codes(), title=rec.title or rec.topic,
            n_citations=len(rec.citations),
            n_dangling=sum(1 for c in rec.citations if c.ref_id is None))

    @property
    def date(self) -> str:
        return self.received_at[:10]

    def known(self) -> dict[str, Any]:
        """The fields its source filled, as plain data (``reviews list --json``)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _day_after(day: str) -> str:
    return (_dt.date.fromisoformat(day) + _dt.timedelta(days=1)).isoformat()


def summaries(store, topic: str | None = None, since: str | None = None,
              until: str | None = None, flag: str | None = None,
              limit: int | None = None) -> list[Summary]:
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
        where.append("EXISTS (SELECT 1 FROM flags f WHERE f.version_id = r.current_version"
                     " AND f.code = ?)")
        args.append(flag)
    # one statement for the whole listing; the section count is a column of reviews (schema
    # 2), not json_array_length over the parsed record, nor a column of versions (reading
    # one walks the overflow pages of the raw and parsed columns before it)
    sections = ("r.n_sections" if store.schema_version >= 2 else
                "(SELECT json_array_length(v.parsed, '$.sections') FROM versions v"
                " WHERE v.id = r.current_version)")
    sql = (
        f"SELECT r.uuid, r.received_at, r.topic,"
        " (SELECT count(*) FROM versions w WHERE w.uuid = r.uuid),"
        f" {sections},"
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
            in store.execute(sql, args).fetchall()]


def received_of(store) -> dict[str, str]:
    """Every review's current ``received_at``, by uuid."""
    return dict(store.execute("SELECT uuid, received_at FROM reviews"))


def topics(store, uuids: Iterable[str] | None = None) -> dict[str, str]:
    """The topic of each current review (of the given ones, or all)."""
    if uuids is None:
        return dict(store.execute("SELECT uuid, topic FROM reviews"))
    out: dict[str, str] = {}
    for u in uuids:
        row = store.execute("SELECT topic FROM reviews WHERE uuid = ?", (u,)).fetchone()
        if row is not None:
            out[u] = row[0]
    return out


def flags(store, uuids: list[str] | None = None) -> dict[str, list[Flag]]:
    """Flags of the current versions (of the given reviews, or all), in record order."""
    sql = ('SELECT r.uuid, f.code, f."where", f.detail FROM flags f'
           " JOIN reviews r ON r.current_version = f.version_id")
    out: dict[str, list[Flag]] = {}
    if uuids is not None:
        for u in uuids:
            out[u] = []
        rows: Iterable[tuple[str, str, str, str]] = (
            row for u in uuids
            for row in store.execute(sql + " WHERE r.uuid = ? ORDER BY f.rowid", (u,)))
    else:
        rows = store.execute(sql + " ORDER BY r.uuid, f.rowid")
    for uuid, code, where, detail in rows:
        out.setdefault(uuid, []).append(Flag(code, where or "", detail or ""))
    return out


def stats(store) -> dict[str, Any]:
    """Counts over the archive: reviews, versions, works, citations, flags by code (kept
    in the archive, :mod:`archive.tallies`)."""
    by_code = tallies.groups(store, "flags")
    totals = tallies.totals(store)
    return {
        "reviews": store.execute("SELECT count(*) FROM reviews").fetchone()[0],
        **{k: totals[k] for k in ("versions", "references", "citations", "dangling")},
        "flags": sum(by_code.values()),
        "flags_by_code": by_code,
    }


def by_month(store) -> list[tuple[str, int]]:
    """``(YYYY-MM, reviews received)`` for every month from the first to the last
    (months with none included, so that a chart's axis is time)."""
    rows = tallies.groups(store, "month")
    if not rows:
        return []
    first, last = min(rows), max(rows)
    out, (y, m) = [], (int(first[:4]), int(first[5:7]))
    while f"{y:04d}-{m:02d}" <= last:
        key = f"{y:04d}-{m:02d}"
        out.append((key, rows.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def top_topics(store, limit: int = 10) -> list[tuple[str, int]]:
    """The topics with the most reviews (exact topic text), ties by topic."""
    counts = tallies.groups(store, "topic")
    return [(t, counts[t]) for t in sorted(counts, key=lambda t: (-counts[t], t))[:int(limit)]]


def reviews_by_flag(store) -> dict[str, int]:
    """``{flag code: reviews whose current version has it}``, by code."""
    return tallies.groups(store, "flagged")


def figures(store, top: int = 10) -> dict[str, Any]:
    """The archive at a glance, for the site's charts and ``reviews stats``: reviews per
    month, the most cited works, the topics with most reviews, and the reviews with each
    kind of defect (notes, quirks of the delivery format, are left out)."""
    defects = sorted(((code, n) for code, n in reviews_by_flag(store).items()
                      if (FLAG_KINDS[code].severity if code in FLAG_KINDS else DEFECT) == DEFECT),
                     key=lambda cn: (-cn[1], cn[0]))
    return {
        "months": by_month(store),
        "cited": [r._asdict() for r in top_references(store, top)],
        "topics": top_topics(store, top),
        "defects": defects,
    }
