"""Whole posting lists out of a Whoosh reader, fast.

Search here never walks postings one by one through Whoosh's matcher tree: it takes
each term's whole list (document numbers, and weights where ranking needs them) and
combines them as Python sets. Whoosh's on-disk matcher (``W3LeafMatcher``) keeps a
block of up to 128 postings as one pickled array, so reading a block at a time costs
one unpickle per 128 postings instead of several method calls per posting. Deleted
documents (a segment's deletion set, until the next merge) are dropped here, so every
figure computed from these lists (document frequencies included) counts live
documents only, and an index updated in place ranks exactly like a rebuilt one.

Anything else (a term inlined in the term dictionary, another codec) is read through
the ordinary matcher interface. :class:`Column` does the same for column values.
"""
from __future__ import annotations

import bisect

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher


def _read(matcher, what: str) -> tuple[list[int], list]:
    """``(ids, extra)``: ``what`` is ``""``, ``"weight"`` or ``"value"``."""
    ids: list[int] = []
    extra: list = []
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            ids.extend(matcher._ids)
            if what == "weight":
                if matcher._weights is None:
                    matcher._read_weights()
                extra.extend(matcher._weights)
            elif what == "value":
                if matcher._values is None:
                    matcher._read_values()
                extra.extend(matcher._values)
            matcher._next_block()
        return ids, extra
    while matcher.is_active():
        ids.append(matcher.id())
        if what:
            extra.append(matcher.weight() if what == "weight" else matcher.value())
        matcher.next()
    return ids, extra


def _leaves(reader, field: str, term: str):
    btext = term.encode("utf-8")
    for leaf, offset in reader.leaf_readers():
        if (field, btext) not in leaf:
            continue
        m = leaf.postings(field, btext)
        deleted = None
        if isinstance(m, FilterMatcher):  # the segment has deletions
            deleted, m = m._ids, m.child
            m.reset()
        yield m, offset, deleted


def doc_set(reader, field: str, term: str) -> set[int]:
    """Live documents holding ``term`` in ``field``."""
    out: set[int] = set()
    for m, offset, deleted in _leaves(reader, field, term):
        ids, _ = _read(m, "")
        if deleted:
            ids = [i for i in ids if i not in deleted]
        out.update(i + offset for i in ids) if offset else out.update(ids)
    return out


def _with(reader, field: str, term: str, what: str) -> dict:
    out: dict = {}
    for m, offset, deleted in _leaves(reader, field, term):
        ids, extra = _read(m, what)
        for i, x in zip(ids, extra):
            if deleted is None or i not in deleted:
                out[i + offset] = x
    return out


def doc_weights(reader, field: str, term: str) -> dict[int, float]:
    """Live documents holding ``term`` in ``field``, each with its posting's weight."""
    return _with(reader, field, term, "weight")


def doc_values(reader, field: str, term: str) -> dict[int, bytes]:
    """Live documents holding ``term`` in ``field``, each with its posting's value."""
    return _with(reader, field, term, "value")


def has_term(reader, field: str, term: str) -> bool:
    return (field, term.encode("utf-8")) in reader


def expand_prefix(reader, field: str, prefix: str) -> list[str]:
    return [t.decode("utf-8") if isinstance(t, bytes) else t
            for t in reader.expand_prefix(field, prefix)]


class Column:
    """A column's values by document number, read from each segment's own column
    reader (no multi-reader indirection per value), many at once where asked."""

    def __init__(self, reader, name: str):
        self._leaves = [(offset, leaf.column_reader(name, translate=False))
                        for leaf, offset in reader.leaf_readers()]
        self._offsets = [offset for offset, _ in self._leaves]

    def __getitem__(self, d: int) -> bytes:
        offset, col = self._leaves[bisect.bisect_right(self._offsets, d) - 1]
        return col[d - offset]

    def many(self, docs) -> dict[int, bytes]:
        """The values of ``docs``. A variable-length column's data is read in one piece
        per segment and sliced (Whoosh would seek and read once per value)."""
        out: dict[int, bytes] = {}
        bounds = self._offsets[1:] + [float("inf")]
        for (offset, col), end in zip(self._leaves, bounds):
            mine = [d for d in docs if offset <= d < end]
            if not mine:
                continue
            lengths = getattr(col, "_lengths", None)
            if lengths is None or not hasattr(col, "_offsets"):
                out.update((d, col[d - offset]) for d in mine)
                continue
            offs = col._offsets
            data = col._dbfile.get(col._basepos, offs[-1] + lengths[-1]) if len(offs) else b""
            for d in mine:
                a = offs[d - offset]
                out[d] = data[a:a + lengths[d - offset]]
        return out
