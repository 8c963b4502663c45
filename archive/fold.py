"""Folding text for comparison: NFKC + casefold, cluster by cluster, with offsets kept.

One fold for the whole project: the store compares titles and topics with it (SQL
``fold()``), the index and the query parser match with it (:mod:`index.analysis`), and
the site's ``lang.js`` ports it. The text is cut into *clusters*, a code point and the
combining marks (Unicode category M*) that follow it; each cluster becomes
``NFKC(cluster).casefold()``. Folding cluster by cluster lets every folded character
point back to the original characters it came from (:func:`normalize`), so a match
found in folded text is marked exactly in the text as written.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Normalized:
    """The normalised text and, per normalised character, its original span."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the normalised slice ``[nstart, nend)``."""
        return self.starts[nstart], self.ends[nend - 1]


_MARKS: set[str] = set()  # combining marks seen so far (they need the cluster path)


class _FoldTable(dict):
    """``str.translate`` table: code point -> NFKC + casefold of it, filled lazily."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if unicodedata.category(ch)[0] == "M":
            _MARKS.add(ch)
        piece = unicodedata.normalize("NFKC", ch).casefold()
        self[code] = piece
        return piece


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """The normalised form alone (NFKC + casefold, cluster by cluster)."""
    if not _MARKS or _MARKS.isdisjoint(text):  # (no mark met yet: none can be in text)
        folded = text.translate(_FOLD)
        if not _MARKS or _MARKS.isdisjoint(text):  # (the translation may have met its first)
            return folded
    return normalize(text).text


def fold_many(texts: list[str], sep: str = "\x1e") -> list[str]:
    """``[fold(t) for t in texts]``, in one translation where no text has a combining
    mark (a code point alone then folds the same wherever it stands); ``sep``, a
    character no text holds, joins them meanwhile."""
    joined = sep.join(texts)
    if not _MARKS or _MARKS.isdisjoint(joined):
        folded = joined.translate(_FOLD)
        if not _MARKS or _MARKS.isdisjoint(joined):
            out = folded.split(sep)
            if len(out) == len(texts):
                return out
    return [fold(t) for t in texts]


def normalize(text: str) -> Normalized:
    n = len(text)
    folded = text.translate(_FOLD)
    if not _MARKS or _MARKS.isdisjoint(text):  # every cluster is one code point
        if len(folded) == n:
            return Normalized(folded, range(n), range(1, n + 1))
        starts: list[int] = []
        ends: list[int] = []
        for i, ch in enumerate(text):
            k = len(_FOLD[ord(ch)])
            starts.extend([i] * k)
            ends.extend([i + 1] * k)
        return Normalized(folded, starts, ends)
    out: list[str] = []
    starts, ends = [], []
    i = 0
    while i < n:
        j = i + 1
        while j < n and unicodedata.category(text[j])[0] == "M":
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j]).casefold()
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return Normalized("".join(out), starts, ends)
