"""Text normalisation and tokens shared by the index, the query parser and the site.

Matching needs no dictionary: :mod:`index.literal` builds on the normalisation and
primary tokens here (the CLI's index), and the site's search data keeps the positional
*index terms* below (:mod:`publish.searchdata`, mirrored by ``static/search.js``).
jieba words, for ranking only, are :mod:`index.words`.

Normalisation (index and query alike)
-------------------------------------
The text is cut into *clusters*: one code point plus the combining marks
(Unicode category M*) that follow it. Each cluster is replaced by
``NFKC(cluster).casefold()`` (JS: ``c.normalize("NFKC").toLowerCase()``, which
differs from casefold only for a few letters such as ß). Normalising cluster by
cluster lets every normalised character point back to the original characters it
came from, so token offsets are exact in the *original* text.

Primary tokens (scanning the normalised string left to right)
-------------------------------------------------------------
* **CJK character**: one code point in ``CJK_RANGES`` (Han ideographs, kana, hangul).
* **word**: a maximal run of word characters (``str.isalnum()``: Unicode letters
  and numbers, JS ``[\\p{L}\\p{N}]``, not CJK),
  where single connectors ``- . _ /`` *between* two word characters join the run:
  regex ``W+(?:[-._/]W+)*``. ``F1-Score`` -> ``f1-score``, ``PM2.5`` -> ``pm2.5``,
  ``2.1.1`` -> ``2.1.1``, ``CRISPR-Cas9`` -> ``crispr-cas9``.
* everything else (spaces, punctuation, symbols) separates tokens and is not indexed.

Primary tokens get positions 0, 1, 2 ... in order.

Index terms (the site's search data), one per primary token, at its position
-------------------------------------------------------------------------
* a CJK character directly followed (nothing between, not even a space) by another
  CJK character gives the **bigram** of the two; any other CJK character (the last
  of a run) gives its **unigram**;
* a word gives the whole word, and, when it has connectors, each distinct **part**
  as well (``f1-score`` also gives ``f1`` and ``score``) at the same position.

Query terms (``query_terms``)
-----------------------------
The normalised query string is scanned the same way and turned into terms that
must occur at consecutive positions (a phrase):

* a CJK character directly followed by another CJK character -> their bigram;
* the last character of a CJK run -> dropped when it is the last token of the
  query and the previous character's bigram covers it (``是一段`` -> ``是一 一段``);
  otherwise its unigram, except when it is the last token of the query: then it is
  a **prefix** (any term starting with that character: its unigram or a bigram
  starting with it; ``段`` alone, or ``F1值`` -> ``f1``, ``值*``). In the text a
  character followed by a Latin word, space or punctuation is a unigram there, so
  this is exact;
* a word -> the whole word (it matches a whole word or a whole part of one).

So an unspaced Chinese string matches exactly where it occurs literally (bigrams
only exist between adjacent characters), Latin words match whole words or whole
parts, and punctuation or spaces between a Latin word and anything else are
ignored (``F1值`` also matches ``F1，值``; ``"深度 学习"`` matches ``深度 学习`` and
``深度，学习`` but not ``深度学习``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

CJK_RANGES = (
    "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)

def _spans(ranges: str) -> tuple[tuple[int, int], ...]:
    out, i = [], 0
    while i < len(ranges):
        if i + 2 < len(ranges) and ranges[i + 1] == "-":
            out.append((ord(ranges[i]), ord(ranges[i + 2])))
            i += 3
        else:
            out.append((ord(ranges[i]), ord(ranges[i])))
            i += 1
    return tuple(out)


_CJK_SPANS = _spans(CJK_RANGES)  # is_cjk without compiling a regex at import
_PART = re.compile(r"[^-._/]+")  # the parts of a word joined by connectors


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
    if _MARKS.isdisjoint(text):
        folded = text.translate(_FOLD)
        if _MARKS.isdisjoint(text):  # (the translation may have met its first marks)
            return folded
    return normalize(text).text


def normalize(text: str) -> Normalized:
    n = len(text)
    folded = text.translate(_FOLD)
    if _MARKS.isdisjoint(text):  # every cluster is one code point
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


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _CJK_SPANS)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and not is_cjk(ch)


@dataclass(frozen=True)
class Primary:
    """A primary token: a CJK character or a word, with normalised offsets."""

    kind: str  # "cjk" | "word"
    text: str  # normalised
    nstart: int
    nend: int


_PRIMARY = re.compile(
    f"([{CJK_RANGES}])|((?:[^\\W_{CJK_RANGES}])+(?:[-._/][^\\W_{CJK_RANGES}]+)*)"
)


def primary_tokens(norm: str) -> list[Primary]:
    """Scan a normalised string into primary tokens (see the module docstring)."""
    return [
        Primary("cjk" if m.group(1) else "word", m.group(), m.start(), m.end())
        for m in _PRIMARY.finditer(norm)
    ]


@dataclass(frozen=True)
class Term:
    """An index term with its position and normalised offsets."""

    text: str
    pos: int
    nstart: int
    nend: int


def _adjacent_cjk(prim: list[Primary], i: int) -> bool:
    """Is ``prim[i]`` a CJK character directly followed by another one?"""
    return (i + 1 < len(prim) and prim[i].kind == "cjk" and prim[i + 1].kind == "cjk"
            and prim[i + 1].nstart == prim[i].nend)


def index_terms(norm: str) -> list[Term]:
    """The positional terms of a normalised string, in order (the site's search data)."""
    prim = primary_tokens(norm)
    out: list[Term] = []
    for pos, tok in enumerate(prim):
        if _adjacent_cjk(prim, pos):
            nxt = prim[pos + 1]
            out.append(Term(tok.text + nxt.text, pos, tok.nstart, nxt.nend))
            continue
        out.append(Term(tok.text, pos, tok.nstart, tok.nend))
        if tok.kind == "word" and any(c in tok.text for c in "-._/"):
            seen = {tok.text}
            for m in _PART.finditer(tok.text):
                if m.group() not in seen:
                    seen.add(m.group())
                    out.append(Term(m.group(), pos, tok.nstart + m.start(), tok.nstart + m.end()))
    return out


@dataclass(frozen=True)
class QueryTerms:
    """Terms at consecutive positions; with ``prefix`` the last one is a single CJK
    character that may stand alone or begin a bigram (any term starting with it)."""

    terms: tuple[str, ...]
    prefix: bool = False

    def __bool__(self) -> bool:
        return bool(self.terms)


def query_terms(text: str) -> QueryTerms:
    """What a literal query string must match (see the module docstring)."""
    prim = primary_tokens(fold(text))
    out: list[str] = []
    for i, tok in enumerate(prim):
        if _adjacent_cjk(prim, i):
            out.append(tok.text + prim[i + 1].text)
        elif i + 1 == len(prim) and i > 0 and _adjacent_cjk(prim, i - 1):
            pass  # the last character, already inside the last bigram
        else:
            out.append(tok.text)
    prefix = bool(prim) and prim[-1].kind == "cjk" and not (
        len(prim) > 1 and _adjacent_cjk(prim, len(prim) - 2))
    return QueryTerms(tuple(out), prefix)

