"""Whole posting lists and column values out of an :class:`index.reader.IndexReader`.

Search never walks postings one by one: it takes each term's whole list (document
numbers, and weights or values where it needs them) and combines them as Python sets.
Document numbers are the index's (segment after segment, as Whoosh numbers them).
Deleted documents (a segment's deletion set, until the next merge) are dropped here, so
every figure computed from these lists (document frequencies included) counts live
documents only, and an index updated in place ranks exactly like a rebuilt one.
"""
from __future__ import annotations

import bisect


def _lists(reader, field: str, term: str, weights: bool = False, values: bool = False):
    """``(offset, ids, weights, values, deleted)`` per segment holding the term."""
    btext = term.encode("utf-8")
    for seg, offset in reader.leaves:
        got = seg.postings(field, btext, weights, values)
        if got is not None:
            yield offset, got[0], got[1], got[2], seg.deleted


def doc_set(reader, field: str, term: str) -> set[int]:
    """Live documents holding ``term`` in ``field``."""
    out: set[int] = set()
    for offset, ids, _, _, deleted in _lists(reader, field, term):
        if deleted:
            ids = [i for i in ids if i not in deleted]
        out.update(i + offset for i in ids) if offset else out.update(ids)
    return out


def _with(reader, field: str, term: str, weights: bool) -> dict:
    out: dict = {}
    for offset, ids, ws, vs, deleted in _lists(reader, field, term, weights, not weights):
        extra = ws if weights else vs
        if not deleted and not offset:
            out.update(zip(ids, extra))
            continue
        for i, x in zip(ids, extra):
            if deleted is None or i not in deleted:
                out[i + offset] = x
    return out


def _among(reader, field: str, term: str, docs, weights: bool) -> dict:
    """:func:`_with` of ``docs`` alone (the rest left out): only the segments and
    posting blocks that may hold one of them are read (:meth:`index.reader.Segment.postings`),
    so a term in most documents costs what the few wanted ones do."""
    wanted = sorted(docs)
    out: dict = {}
    btext = term.encode("utf-8")
    for seg, offset in reader.leaves:
        lo = bisect.bisect_left(wanted, offset)
        hi = bisect.bisect_left(wanted, offset + seg.doccount, lo)
        if lo == hi:
            continue
        local = [d - offset for d in wanted[lo:hi]]
        got = seg.postings(field, btext, weights, not weights, local)
        if got is None:
            continue
        want, deleted = set(local), seg.deleted
        for i, x in zip(got[0], got[1] if weights else got[2]):
            if i in want and (deleted is None or i not in deleted):
                out[i + offset] = x
    return out


def doc_values_among(reader, field: str, term: str, docs) -> dict[int, bytes]:
    """:func:`doc_values` of ``docs`` alone (:func:`_among`)."""
    return _among(reader, field, term, docs, False)


def doc_weights_among(reader, field: str, term: str, docs) -> dict[int, float]:
    """:func:`doc_weights` of ``docs`` alone (:func:`_among`)."""
    return _among(reader, field, term, docs, True)


def live_count(reader, field: str, term: str) -> int:
    """How many live documents hold ``term``: from the term infos, reading postings
    only in segments that hold deleted documents. Over every segment of the index,
    where the reader reads only some (:class:`index.halves.Half`): a statistic is the
    whole index's."""
    btext = term.encode("utf-8")
    total = 0
    for seg in reader.segments:
        if seg.deleted:
            got = seg.postings(field, btext)
            total += sum(1 for i in got[0] if i not in seg.deleted) if got else 0
        else:
            total += seg.doc_frequency(field, btext)
    return total


def doc_weights(reader, field: str, term: str) -> dict[int, float]:
    """Live documents holding ``term`` in ``field``, each with its posting's weight."""
    return _with(reader, field, term, True)


def doc_values(reader, field: str, term: str) -> dict[int, bytes]:
    """Live documents holding ``term`` in ``field``, each with its posting's value."""
    return _with(reader, field, term, False)


def has_term(reader, field: str, term: str) -> bool:
    return (field, term.encode("utf-8")) in reader


def expand_prefix(reader, field: str, prefix: str) -> list[str]:
    """The field's terms that start with ``prefix``, in order."""
    found = {t for seg, _ in reader.leaves for t, _ in seg.field_terms(field, prefix.encode("utf-8"))}
    return [t.decode("utf-8") for t in sorted(found)]


class Column:
    """A column's values by document number, read from each segment's own column."""

    def __init__(self, reader, name: str):
        self._reader, self._name = reader, name

    def __getitem__(self, d: int) -> bytes:
        seg, local = self._reader.leaf(d)
        return seg.column(self._name)[local]

    def located(self, docs: list[int]):
        """``(file, [(d, where d's value starts), ...])`` a segment at a time for the
        sorted ``docs`` that have a value, the file read through its map
        (:class:`index.reader.Mapped`)."""
        for seg, offset in self._reader.leaves:
            end = offset + seg.doccount
            ds = docs[bisect.bisect_left(docs, offset):bisect.bisect_left(docs, end)]
            if not ds:
                continue
            col = seg.column(self._name)
            if col.f is None:
                continue
            lengths, offsets = col.lengths, col.offsets
            yield col.f.mapped(), [(d, offsets[d - offset]) for d in ds if lengths[d - offset]]

    def many(self, docs, text: bool = False) -> dict[int, bytes] | dict[int, str]:
        """The values of ``docs``, read a segment at a time (``text``: as str, a byte a
        character: for ASCII values)."""
        docs = sorted(docs)
        out: dict[int, bytes] = {}
        for seg, offset in self._reader.leaves:
            end = offset + seg.doccount
            ds = docs[bisect.bisect_left(docs, offset):bisect.bisect_left(docs, end)]
            if ds:
                out.update(zip(ds, seg.column(self._name).many([d - offset for d in ds], text)))
        return out
