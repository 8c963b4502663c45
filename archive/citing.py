"""Who cites what: the reference read model, as functions over a
:class:`~archive.store.Store`.

Answered from the derived ``refs`` and ``citations`` tables the store writes with each
version (exact, no search index needed), always for the *current* version of each
review, so a retracted review drops out of every count and list here.

A work is identified by :func:`archive.references.ref_id` (its normalised title): the
same work listed as [3] in one review and [11] in another is one id.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, NamedTuple

from archive import tallies
from archive.fold import fold
from archive.model import ABSTRACT, Reference
from archive.references import REF_ID_PREFIX, display_title

_CURRENT = "JOIN reviews r ON r.current_version = f.version_id"


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


class TopRef(NamedTuple):
    ref_id: str
    title: str
    citations: int  # markers resolving to it
    reviews: int  # reviews listing it


def top_references(store, limit: int = 20) -> list[TopRef]:
    """The most cited works first (current versions).

    ``reviews`` counts the reviews whose reference lists hold the work, ``citations``
    the markers resolving to it; ties go to more reviews, then id.
    """
    return [TopRef(rid, display_title(spellings(store, rid)), ncit, nrev)
            for rid, ncit, nrev in tallies.top_works(store, limit)]


def spellings(store, ref_id: str) -> list[str]:
    """The titles under which a reference appears, most frequent first (then shortest)."""
    return tallies.spellings(store, ref_id)


def current_spellings(store, among: Iterable[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    """Distinct ``(ref_id, title)`` of the current versions (only those ``among`` the
    given pairs, when given)."""
    if among is None:
        return set(store.execute(f"SELECT DISTINCT f.ref_id, f.title FROM refs f {_CURRENT}"))
    # (the kept counts hold each current spelling: one key lookup a pair, where the join
    # read every listing of a much-cited work, ~12 ms a pair at 100k: one more review's
    # index update asks for each of its spellings)
    sql = ("SELECT 1 FROM spellings WHERE ref_id = ? AND title = ? AND n > 0" if tallies.kept(store)
           else f"SELECT 1 FROM refs f {_CURRENT} WHERE f.ref_id = ? AND f.title = ? LIMIT 1")
    return {(rid, title) for rid, title in set(among) if store.execute(sql, (rid, title)).fetchone()}


def spellings_of(store, version_ids: Iterable[int]) -> set[tuple[str, str]]:
    """Distinct ``(ref_id, title)`` listed by the given versions (current or not)."""
    out: set[tuple[str, str]] = set()
    for vid in set(version_ids):
        out.update(store.execute("SELECT ref_id, title FROM refs WHERE version_id = ?", (vid,)))
    return out


def find(store, words: list[str], needles: list[str] | None = None,
         holds: Callable[[str], bool] | None = None) -> list[str]:
    """Reference ids, most-listed first: the ids themselves when every word is a
    reference id (or a prefix of one); else the ids of which one spelling's folded title
    holds every needle (default: the folded words) as a substring and, given ``holds``,
    passes ``holds(title)`` (the query language's matching, which this package does not
    know)."""
    words = [w for w in (w.strip() for w in words) if w]
    if not words:
        return []
    if all(REF_ID_PREFIX.match(w.lower()) for w in words):  # ids or their prefixes
        found: set[str] = set()
        listed = ("SELECT f.ref_id FROM works f WHERE f.listed > 0" if tallies.kept(store) else
                  f"SELECT DISTINCT f.ref_id FROM refs f {_CURRENT} WHERE 1")
        for w in {w.lower() for w in words}:
            found.update(r[0] for r in store.execute(
                f"{listed} AND f.ref_id >= ? AND f.ref_id < ?", (w, w + "g")))
        return sorted(found)
    needles = [fold(w) for w in words] if needles is None else needles
    conds = " AND ".join("instr(fold(f.title), ?) > 0" for _ in needles) or "1"
    # each spelling once with its count (kept: 258,000 rows at 100k reviews, not 1.8 million)
    rows = store.execute(f"SELECT f.ref_id, f.title, f.n FROM spellings f WHERE {conds}"
                         if tallies.kept(store) else
                         f"SELECT f.ref_id, f.title, count(*) FROM refs f {_CURRENT} WHERE {conds}"
                         " GROUP BY f.ref_id, f.title", needles).fetchall()
    counts: dict[str, int] = {}
    for rid, title, n in rows:
        if holds is None or holds(title):
            counts[rid] = counts.get(rid, 0) + n
    return sorted(counts, key=lambda rid: (-counts[rid], rid))


def dangling(store) -> list[Dangling]:
    """Markers that resolve to no reference list entry, newest review first."""
    rows = store.execute(
        "SELECT r.uuid, r.topic, c.section, c.marker, c.sentence FROM citations c"
        " JOIN reviews r ON r.current_version = c.version_id WHERE c.ref_id IS NULL"
        " ORDER BY r.received_at DESC, r.uuid, c.ordinal").fetchall()
    return [Dangling(*row) for row in rows]


def uses(store, ref_ids: list[str]) -> list[Use]:
    """Where the given references are cited (current versions), newest review first."""
    if not ref_ids:
        return []
    marks = ",".join("?" * len(ref_ids))
    rows = store.execute(
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
            titles[vid] = section_titles(store, vid)
        out.append(Use(uuid, topic or "", received, section, titles[vid].get(section, ""),
                       marker, sentence or "", n, scope or ""))
    return out


def section_titles(store, version_id: int) -> dict[str, str]:
    """``{section number: title}`` of one stored version (``abstract``: 摘要)."""
    rows = store.execute(
        "SELECT number, title FROM sections WHERE version_id = ?" if store.schema_version >= 3 else
        "SELECT json_extract(s.value, '$.number'), json_extract(s.value, '$.title')"
        " FROM versions v, json_each(v.parsed, '$.sections') s WHERE v.id = ?",
        (version_id,),
    ).fetchall()
    titles = {num: title for num, title in rows}
    titles.setdefault(ABSTRACT, "摘要")
    return titles


def listings(store, ref_id: str, limit: int) -> list[tuple[str, list[tuple[str, int]], list[tuple]]]:
    """The ``limit`` newest reviews that list a work: ``(uuid, [(scope, n)] where they
    list it, [(section, section title, marker, sentence)] where they cite it)``, the
    citations in document order (a reference page)."""
    reviews: dict[str, tuple[int, list]] = {}
    for uuid, vid, scope, n in store.execute(
            f"SELECT r.uuid, r.current_version, coalesce(f.scope, ''), f.n FROM refs f {_CURRENT}"
            " WHERE f.ref_id = ? ORDER BY r.received_at DESC, r.uuid DESC, f.rowid", (ref_id,)):
        if uuid not in reviews:
            if len(reviews) == limit:
                break
            reviews[uuid] = (vid, [])
        reviews[uuid][1].append((scope, n))
    if not reviews:
        return []
    by_version: dict[int, list] = {vid: [] for vid, _ in reviews.values()}
    title = ("(SELECT s.title FROM sections s WHERE s.version_id = c.version_id AND s.number = c.section"
             " ORDER BY s.rowid DESC LIMIT 1)" if store.schema_version >= 3 else "NULL")
    for vid, section, section_title, marker, sentence in store.execute(
            f"SELECT c.version_id, c.section, {title}, c.marker, c.sentence FROM citations c"
            f" WHERE c.ref_id = ? AND c.version_id IN ({','.join('?' * len(by_version))})"
            " ORDER BY c.version_id, c.ordinal", (ref_id, *by_version)):
        if section_title is None:  # an archive of schema 2 or older, read-only
            section_title = section_titles(store, vid).get(section, "")
        by_version[vid].append((section, section_title, marker, sentence or ""))
    return [(uuid, entries, by_version[vid]) for uuid, (vid, entries) in reviews.items()]


_ENTRY = "SELECT f.n, f.title, f.year, f.raw, f.ref_id, coalesce(f.scope, '') FROM refs f"


def references_of(store, uuids: Iterable[str]) -> Iterator[Reference]:
    """Every reference list entry of the given reviews' current versions, review by
    review in the given order, each in list order (what a set of reviews cites)."""
    for u in uuids:
        for row in store.execute(f"{_ENTRY} {_CURRENT} WHERE r.uuid = ? ORDER BY f.rowid", (u,)):
            yield Reference(*row)


def entries_of(store, ref_id: str) -> list[Reference]:
    """Every listing of one work in the current versions, newest review first."""
    return [Reference(*row) for row in store.execute(
        f"{_ENTRY} {_CURRENT} WHERE f.ref_id = ? ORDER BY r.received_at DESC, r.uuid, f.rowid",
        (ref_id,))]
