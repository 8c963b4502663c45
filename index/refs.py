"""``reviews refs WORDS``: the works whose titles match WORDS in the query language
(``ref:WORDS`` of a search), each with every citation of it. The matching is the
index's (:class:`index.literal.Literal`), the citations come from the archive's
derived tables (:mod:`archive.citing`), so the answer is exact and needs no index.

A work is identified by ``archive.references.ref_id`` (its normalised title), so
the same work listed as [3] in one review and [11] in another, spelled with other
punctuation or a ``.pdf.md`` tail, is one :class:`RefGroup`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from archive import citing
from archive.citing import Use
from archive.references import display_title
from index.analysis import fold
from index.literal import Literal
from index.query import QueryError


def marker_span(use: Use) -> tuple[int, int] | None:
    """``(start, end)`` of the marker in ``use.sentence`` (for highlighting)."""
    at = use.sentence.find(use.marker)
    return (at, at + len(use.marker)) if at >= 0 else None


@dataclass
class RefGroup:
    ref_id: str
    titles: list[str]  # spellings, most frequent first
    #: newest review first, document order; None: not read (a work past the ones shown)
    uses: list[Use] | None = field(default_factory=list)

    @property
    def title(self) -> str:
        return display_title(self.titles)

    @property
    def n_reviews(self) -> int:
        return len({u.uuid for u in self.uses})

    def to_dict(self) -> dict:
        uses = []
        for u in self.uses:
            d = asdict(u)
            span = marker_span(u)
            d["marker_start"], d["marker_end"] = span if span else (None, None)
            uses.append(d)
        return {"ref_id": self.ref_id, "titles": self.titles, "n_reviews": self.n_reviews,
                "uses": uses}


def find_uses(store, query: str, limit: int | None = None) -> list[RefGroup]:
    """Works whose title holds every word of ``query``, matched as ``search ref:word``
    matches it (:class:`index.literal.Literal`: a Chinese string as a substring, a
    Latin word as a whole word or part), or the given reference ids (or prefixes),
    each with every citation of it in the current versions. Listed-but-never-cited
    works come with no uses. Only the first ``limit`` works (None: all) have their
    citations read, the others come with ``uses`` None: a common word matches hundreds
    of works cited hundreds of thousands of times (3.7 GB read whole at 100k reviews)."""
    words = [w for w in query.split() if w]
    if not words:
        raise QueryError("empty-ref-query")
    lits = [Literal(w) for w in words]
    needles = [t.text for lit in lits for t in lit.tokens]
    holds = lambda title: all(lit.occurs(fold(title)) for lit in lits)  # noqa: E731
    groups = []
    for i, rid in enumerate(citing.find(store, words, needles, holds)):
        shown = limit is None or i < limit
        groups.append(RefGroup(rid, citing.spellings(store, rid),
                               citing.uses(store, [rid]) if shown else None))
    return groups

