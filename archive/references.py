"""Reference entries and their stable identity across reviews.

The same work is cited as [3] in one review and [11] in another, and spelled with
different punctuation, a ``（发布时间：…）`` suffix or a ``.pdf(1).md`` tail. ``ref_id`` maps
all of those to one id; the raw spellings are kept on each :class:`Reference`.
"""
from __future__ import annotations

import dataclasses
import hashlib
from functools import lru_cache
import re
import unicodedata

from .authors import authors_only
from .model import Flag, Record, Reference

# "[12] Title. 2025."  /  "12. Title"  /  "[12] Title"
_ENTRY = re.compile(r"^\s*(?:\[(\d{1,4})\]|(\d{1,4})[.、)）])\s*(.*?)\s*$")
#: The year closing an entry, after its own separator ("Title. 2025."): a number that
#: ends a title without one is the title's ("中国制造2025.", "Vision 2030.").
_YEAR_TAIL = re.compile(r"[.。,，]\s*((?:19|20)\d\d)\s*[.。]?\s*$")
_PUBLISHED = re.compile(r"[（(]\s*发布时间\s*[:：][^）)]*[）)]")
_FILE_TAIL = re.compile(r"(?:\.pdf)?(?:\s*[（(]\d+[）)])?(?:\.md)?\s*$", re.IGNORECASE)


def parse_reference_line(line: str) -> tuple[int, str, int | None] | None:
    """``"[3] Title. 2025."`` -> ``(3, "Title", 2025)``; ``None`` if not an entry."""
    m = _ENTRY.match(line)
    if not m:
        return None
    n = int(m.group(1) or m.group(2))
    rest = m.group(3)
    year = None
    ym = _YEAR_TAIL.search(rest)
    if ym and ym.start() > 0:
        year = int(ym.group(1))
        rest = rest[: ym.start()]
    title = rest.strip().rstrip(".。").strip()
    if not title:
        return None
    return n, title, year


def normalize_title(title: str) -> str:
    t = unicodedata.normalize("NFKC", title)
    t = _PUBLISHED.sub("", t)
    t = t.strip().rstrip(".。 ")
    prev = None
    while prev != t:  # "x.pdf(1).md", "x.pdf.md", "x(1)"
        prev = t
        stripped = _FILE_TAIL.sub("", t)
        t = stripped if stripped else t
    t = t.casefold()
    return "".join(
        ch for ch in t if not ch.isspace() and unicodedata.category(ch)[0] not in "PSZC"
    )


def display_title(spellings: list[str]) -> str:
    """The spelling to show for a work, given its spellings most frequent first: the most
    frequent without a ``（发布时间：…）`` suffix or a file tail (``.pdf.md``), else the
    most frequent."""
    for t in spellings:
        if not _PUBLISHED.search(t) and not _FILE_TAIL.search(t).group(0).strip():
            return t
    return spellings[0] if spellings else ""


#: The shape of a reference id (``ref_id``, ``entry_id``): "r" and 10 hex digits. The
#: query language's ``ref:`` reads the same pattern from index/spec.json (a test ties them).
REF_ID = re.compile(r"^r[0-9a-f]{10}$")
REF_ID_PREFIX = re.compile(r"^r[0-9a-f]{4,10}$")  # at least 4 hex digits: not a word


@lru_cache(maxsize=1 << 16)
def ref_id(title: str) -> str:
    key = normalize_title(title) or title
    return "r" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def entry_id(title: str, uuid: str, scope: str, n: int) -> str:
    """The identity of an entry: :func:`ref_id` of its title, the same work across
    reviews; but an entry naming only authors names no work, so its identity is its own
    (the review, the list and the number): "Smith J, et al" in two reviews is two
    entries, not one work cited twice."""
    if not authors_only(title):
        return ref_id(title)
    key = f"{uuid}\0{scope}\0{n}\0{normalize_title(title)}"
    return "r" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def reread(record: Record) -> bool:
    """Read a stored record's reference entries again with this parser, from their lines
    as written (``Reference.raw``): titles, years and identities, what its citations
    point at, and its ``reference-no-year`` flags. True if anything changed. (An archive
    ingested by an older parser is read again so: :mod:`archive.store`.)"""
    refs, changed = [], False
    for r in record.references:
        p = parse_reference_line(r.raw)
        if p is not None and p[0] == r.n:
            _, title, year = p
            rid = entry_id(title, record.uuid, r.scope, r.n)
            if (title, year, rid) != (r.title, r.year, r.ref_id):
                r = dataclasses.replace(r, title=title, year=year, ref_id=rid)
                changed = True
        refs.append(r)
    if not changed:
        return False
    record.references = refs
    ids = {(r.scope, r.n): r.ref_id for r in refs}
    for c in record.citations:
        if c.ref_id is not None:
            c.ref_id = ids.get((c.scope, c.n), c.ref_id)
    old = [i for i, f in enumerate(record.flags) if f.code == "reference-no-year"]
    at = old[0] if old else len(record.flags)  # (no such flag stands before it)
    kept = [f for f in record.flags if f.code != "reference-no-year"]
    kept[at:at] = [Flag("reference-no-year", "references", f"[{r.n}]")
                   for r in refs if not r.scope and r.year is None]
    record.flags = kept
    return True


def parse_reference_block(lines: list[str], scope: str, rec: Record) -> list[Reference]:
    """Reference entries from the lines of a 参考文献 list (blank lines ignored)."""
    out: list[Reference] = []
    seen: set[int] = set()
    where = f"{scope}" if scope else "references"
    for line in lines:
        if not line.strip():
            continue
        p = parse_reference_line(line)
        if p is None:
            rec.flags.append(Flag("bad-reference-line", where, line.strip()[:80]))
            continue
        n, title, year = p
        if n in seen:
            rec.flags.append(Flag("duplicate-reference", where, f"[{n}]"))
            continue
        seen.add(n)
        if year is None and not scope:
            rec.flags.append(Flag("reference-no-year", "references", f"[{n}]"))
        out.append(Reference(n=n, title=title, year=year, raw=line.strip(),
                             ref_id=entry_id(title, rec.uuid, scope, n), scope=scope))
    return out
