"""What text a review holds, unit by unit: the one list the index and the site agree on.

A review's *units* are its topic, then one unit per shown section: ``abstract`` (the
review's title, its abstract and keywords), every numbered section (its title and its
own body), and ``references`` (every reference title). Ctrl+F over a review is a search
of these units; a phrase never runs from one unit into the next.

:func:`units` feeds the search index (one document per review, :mod:`index.document`);
:func:`section_documents` feeds the site's search data (one entry per section,
:mod:`publish.searchdata`). Both come from here so that they cannot disagree about what
a review contains.
"""
from __future__ import annotations

from dataclasses import dataclass

from archive.model import ABSTRACT, REFERENCES, Record


@dataclass(frozen=True)
class Unit:
    key: str  # "abstract", "3.1.2" or "references"
    heading: str  # what a reader sees as the section's name
    title: str  # searchable title text ("" for references)
    body: str
    refs: tuple[str, ...] = ()  # reference ids cited in this section, first citation first


def paths(number: str) -> list[str]:
    """``3.1.2`` -> ``["3", "3.1", "3.1.2"]``: the section and its ancestors."""
    parts = number.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def units(record: Record) -> list[Unit]:
    """The review's sections as searchable units, in document order (topic excluded)."""
    cited: dict[str, list[str]] = {}
    for c in record.citations:
        if c.ref_id and c.ref_id not in cited.setdefault(c.section, []):
            cited[c.section].append(c.ref_id)
    abstract = "\n".join(p for p in (record.abstract, " ".join(record.keywords)) if p)
    out = [Unit(ABSTRACT, "摘要", record.title, abstract, tuple(cited.get(ABSTRACT, ())))]
    for s in record.sections:
        out.append(Unit(s.number, s.title, s.title, s.body, tuple(cited.get(s.number, ()))))
    out.append(Unit(REFERENCES, "参考文献", "", "\n".join(r.title for r in record.references),
                    tuple(cited.get(REFERENCES, ()))))
    return out


def chapter_starts(us: list[Unit]) -> list[int]:
    """Where each *chapter* of a review starts (indices into its units): the abstract,
    each run of sections under one top-level number, the references. Ranking's
    "the items meet in one chapter" and the site's text files are by chapter."""
    starts: list[int] = []
    prev = None
    for i, u in enumerate(us):
        top = u.key.split(".")[0]
        if top != prev:
            starts.append(i)
            prev = top
    return starts


def section_documents(record: Record) -> list[dict]:
    """One dict per unit, as the site's search data lists them: ``section``,
    ``heading``, ``path`` (the section and its ancestors, space-separated), ``refs``
    (cited ids, space-separated), ``title``, ``body``."""
    docs = []
    for u in units(record):
        path = u.key if u.key in (ABSTRACT, REFERENCES) else " ".join(paths(u.key))
        docs.append({"section": u.key, "heading": u.heading, "path": path,
                     "refs": " ".join(u.refs), "title": u.title, "body": u.body})
    return docs
