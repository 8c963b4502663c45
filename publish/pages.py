"""What a review page shows (its context for the template, from its Record), and the
flag labels the listing pages use (see :mod:`publish.catalog`; their summaries are
:class:`archive.listing.Summary`)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from jinja2.utils import htmlsafe_json_dumps

from archive import export
from archive.listing import Summary
from archive.model import ABSTRACT, FLAG_KINDS, Record

from . import urls
from .render import CiteContext, markdown


def flag_label(code: str) -> str:
    kind = FLAG_KINDS.get(code)
    return kind.label if kind else code


# -- one review ---------------------------------------------------------------
def _scopes(rec: Record) -> dict[str, set[int]]:
    lists: dict[str, set[int]] = defaultdict(set)
    for r in rec.references:
        lists[r.scope].add(r.n)
    return lists


def _cites(rec: Record, where: str) -> CiteContext:
    """The parsed citations of one section (or the abstract), in marker order."""
    return CiteContext.of(c for c in rec.citations if c.section == where)


#: The export formats a review's and a reference's page offer, with their labels
EXPORTS = [("bibtex", "BibTeX"), ("ris", "RIS"), ("csl-json", "CSL-JSON")]


def work_rows(works: list[export.Work]) -> list[list]:
    """Works as a review page carries them for its downloads
    (``templates/static/export.js`` renders them as :func:`archive.export.render` does):
    ``[key, title, year, [authors], language, ref id]`` each, every value one line."""
    one = export.one_line
    return [[w.key, one(w.title), None if w.year is None else int(w.year),
             [n for n in (one(a) for a in w.authors) if n], one(w.language), one(w.ref_id)]
            for w in works]


def works_data(rec: Record) -> Any:
    """The works of a review's reference list (:func:`work_rows`) as JSON that is safe
    inside a ``<script>`` element."""
    rows = work_rows(export.works(rec.references))
    return htmlsafe_json_dumps(rows, ensure_ascii=False, separators=(",", ":"))


def review_context(rec: Record, related: Any = (), near: Any = ()) -> dict:
    """A review page; ``related``: its related reviews (:class:`index.similar.Related`);
    ``near``: the reviews of its group of near duplicates (:func:`index.dupes.near`)."""
    lists = _scopes(rec)
    sections = []
    for s in rec.sections:
        sections.append({
            "number": s.number, "title": s.title, "depth": s.depth,
            "anchor": urls.section_anchor(s.number),
            "html": markdown(s.body, _cites(rec, s.number)) if s.body.strip() else "",
        })
    ref_lists = []
    for scope in sorted(lists, key=lambda x: (x != "", _num_key(x))):
        entries = [
            {"n": r.n, "title": r.title, "year": r.year, "ref_id": r.ref_id, "raw": r.raw,
             "anchor": urls.ref_anchor(r.scope, r.n)}
            for r in rec.references if r.scope == scope
        ]
        ref_lists.append({"scope": scope, "entries": entries})
    toc = []
    if rec.abstract or rec.keywords:
        toc.append({"anchor": "abstract", "label": "摘要", "depth": 1})
    toc += [{"anchor": s["anchor"], "label": f'{s["number"]} {s["title"]}'.strip(), "depth": s["depth"]}
            for s in sections]
    if ref_lists:
        toc.append({"anchor": "references", "label": "参考文献", "depth": 1})
    return {
        "rec": rec,
        "summary": Summary.of(rec),
        "abstract_html": markdown(rec.abstract, _cites(rec, ABSTRACT))
        if rec.abstract.strip() else "",
        "sections": sections,
        "ref_lists": ref_lists,
        "exports": EXPORTS if rec.references else [],
        "works": works_data(rec) if rec.references else "",
        "related": [{"uuid": r.uuid, "topic": r.topic, "reason": r.reason()} for r in related],
        "near": list(near),
        "toc": toc,
        "flags": [{"code": f.code, "label": flag_label(f.code), "text": f.describe(),
                   "severity": f.severity} for f in rec.flags],
    }


def _num_key(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 10**6 for p in number.split(".")) if number else ()
