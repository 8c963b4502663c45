"""Citation lint: what a review's reference lists say against its markers and its date.

The parser reads each list and each marker on its own; these flags need both at once
(and the review's 接收时间), so they are made after the citations are resolved, from the
record alone: the parser calls :func:`lint_references` last, and an archive written before
these kinds existed gets them the same way when it is first opened by a writer
(``Store._reread``, from the record it kept).

A list is the review's own (scope ``""``, ``where`` = ``references``) or a chapter's
(scope = the chapter, ``where`` = the chapter): its numbers are its own, so an entry is
cited when a resolved marker names that list and that number (``Citation.scope``, ``n``).
Numbering that restarts in a later chapter cites the same main list again; a chapter's
own list is cited only by the markers that resolved against it.
"""
from __future__ import annotations

from .model import REFERENCES, Flag, Record

#: The codes :func:`lint_references` makes (a re-read replaces exactly these).
LINT_CODES = ("reference-uncited", "reference-duplicate", "reference-after-received")


def lint_references(rec: Record) -> list[Flag]:
    """The citation-lint flags of ``rec``, one per entry, in list order:
    ``reference-uncited`` (no resolved marker names it; detail ``[7]``, ``[7] of chapter
    7``), ``reference-duplicate`` (an earlier entry of the same list has its identity,
    ``Reference.ref_id``; detail ``[11] = [3]``) and ``reference-after-received`` (its
    year is after the year the review was received: the month is not known; detail
    ``[5] (2026)``)."""
    cited = {(c.scope, c.n) for c in rec.citations if c.ref_id is not None}
    received_year = int(rec.received_at[:4]) if rec.received_at[:4].isdigit() else None
    first: dict[tuple[str, str], int] = {}
    out: list[Flag] = []
    for r in rec.references:
        where = r.scope or REFERENCES
        of = f" of chapter {r.scope}" if r.scope else ""
        if (r.scope, r.n) not in cited:
            out.append(Flag("reference-uncited", where, f"[{r.n}]{of}"))
        earlier = first.setdefault((r.scope, r.ref_id), r.n)
        if earlier != r.n:
            out.append(Flag("reference-duplicate", where, f"[{r.n}] = [{earlier}]{of}"))
        if r.year is not None and received_year is not None and r.year > received_year:
            out.append(Flag("reference-after-received", where, f"[{r.n}]{of} ({r.year})"))
    return out
