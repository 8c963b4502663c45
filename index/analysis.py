"""Text normalisation and primary tokens, shared by the index, the query parser and (as
a port in ``static/lang.js``, from the same ``index/spec.json``) the site.

Matching needs no dictionary: :mod:`index.literal` builds on the normalisation and
primary tokens here. jieba words, for ranking only, are :mod:`index.words`.

Normalisation (index and query alike; :mod:`archive.fold`, also the store's)
---------------------------------------------------------------------------
The text is cut into *clusters*: one code point plus the combining marks
(``spec.analysis.marks``, Unicode category M*) that follow it. Each cluster is
replaced by ``NFKC(cluster).casefold()`` (JS: NFKC, then per code point
``spec.analysis.fold_exceptions`` or ``toLowerCase``, which is the same). Normalising
cluster by cluster lets every normalised character point back to the original
characters it came from, so offsets are exact in the *original* text.

Primary tokens (scanning the normalised string left to right)
-------------------------------------------------------------
* **CJK character**: one code point in ``spec.analysis.cjk`` (Han ideographs, kana,
  hangul).
* **word**: a maximal run of word characters: Unicode letters and numbers (what
  ``str.isalnum`` holds, JS ``[\\p{L}\\p{N}]``) and combining marks (so ``हिन्दी`` and
  ``i̇stanbul`` are one word each), not CJK; single connectors ``- . _ /``
  (``spec.analysis.connectors``) *between* two word characters join the run:
  ``F1-Score`` -> ``f1-score``, ``PM2.5`` -> ``pm2.5``, ``CRISPR-Cas9`` -> ``crispr-cas9``.
* everything else (spaces, punctuation, symbols) separates tokens and is not indexed.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from archive.fold import Normalized, fold, normalize  # noqa: F401 - the one fold, re-exported
from index.spec import spans as _spans, spec

CJK_RANGES: str = spec()["analysis"]["cjk"]  # a regex class body
MARKS: str = spec()["analysis"]["marks"]
CONNECTORS: str = spec()["analysis"]["connectors"]
CJK_SOURCES: str = spec()["analysis"]["cjk_sources"]
#: a word character (a regex): a letter or number that is not CJK, or a combining mark
WORD_CHAR = f"(?:[^\\W_{CJK_RANGES}]|[{MARKS}])"
#: the same for a text without combining marks: one class, not an alternation, so the
#: usual text (Chinese, ASCII) is scanned at the speed of a plain class
WORD_CHAR_PLAIN = f"[^\\W_{CJK_RANGES}]"


#: Strings up to this long (queries) are scanned by :func:`_scan` and gated by a set
#: lookup: compiling the patterns with the CJK class costs more than a command's whole
#: query takes to scan. ``tests/test_analysis.py`` checks both ways agree.
SHORT = 64


@functools.cache
def _mark_blocks() -> frozenset[int]:
    """Every 16-code-point block that holds a combining mark."""
    return frozenset(c >> 4 for lo, hi in _spans(MARKS) for c in range(lo, hi + 1))


@functools.cache
def _gate() -> re.Pattern:
    """:func:`_mark_blocks` as one class (~150 ranges; fine enough that Chinese
    punctuation, kana and general punctuation, which share 256-blocks with some marks,
    do not open the gate)."""
    blocks = sorted(_mark_blocks())
    ranges: list[list[int]] = []
    for b in blocks:
        if ranges and b == ranges[-1][1] + 1:
            ranges[-1][1] = b
        else:
            ranges.append([b, b])
    body = "".join(f"{re.escape(chr(lo << 4))}-{re.escape(chr((hi << 4) | 0xF))}" for lo, hi in ranges)
    return re.compile(f"[{body}]")


def may_have_marks(text: str) -> bool:
    """Could ``text`` hold a combining mark (a character of a block that has marks)?"""
    if len(text) <= SHORT:
        blocks = _mark_blocks()
        return any(ord(c) >> 4 in blocks for c in text)
    return _gate().search(text) is not None


@functools.cache
def _sources() -> re.Pattern:
    return re.compile(f"[{CJK_SOURCES}]")


def may_fold_into_cjk(text: str) -> bool:
    """Could folding make a CJK character appear in ``text`` that it does not hold as
    written (does it hold a character of ``spec.analysis.cjk_sources``)? If not, a run
    of CJK characters absent from ``text`` is absent from its fold too."""
    return _sources().search(text) is not None


@functools.cache
def _sources_utf8() -> re.Pattern:
    """:func:`may_fold_into_cjk`'s characters as a pattern over UTF-8 bytes, a trie of
    their bytes (a class of last bytes under each lead). UTF-8 is self-synchronising:
    a match starts at a character's first byte, so it finds exactly those characters."""
    trie: dict = {}
    for lo, hi in _spans(CJK_SOURCES):
        for c in range(lo, hi + 1):
            b = chr(c).encode("utf-8")
            node = trie
            for x in b[:-1]:
                node = node.setdefault(x, {})
            node.setdefault(None, []).append(b[-1])

    def emit(node: dict) -> bytes:
        alts = [b"[" + b"".join(b"\\x%02x" % x for x in sorted(v)) + b"]" if k is None
                else b"\\x%02x" % k + emit(v) for k, v in node.items()]
        return alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"

    return re.compile(emit(trie))


def may_fold_into_cjk_utf8(data: bytes) -> bool:
    """:func:`may_fold_into_cjk` of UTF-8 bytes, without decoding them."""
    return _sources_utf8().search(data) is not None


@functools.cache
def composing_marks() -> tuple[str, ...]:
    """The marks among the sources (U+3099, U+309A): one right after a CJK run found as
    written may compose with its last character (``か`` + U+3099 folds to ``が``)."""
    return tuple(sorted(c for lo, hi in _spans(CJK_SOURCES) for c in map(chr, range(lo, hi + 1))
                        if unicodedata.category(c)[0] == "M"))


def word_char(marks: bool) -> str:
    return WORD_CHAR if marks else WORD_CHAR_PLAIN

_CJK_SPANS = _spans(CJK_RANGES)  # is_cjk without compiling a regex at import


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _CJK_SPANS)


@dataclass(frozen=True)
class Primary:
    """A primary token: a CJK character or a word, with normalised offsets."""

    kind: str  # "cjk" | "word"
    text: str  # normalised
    nstart: int
    nend: int


@functools.cache
def _primary(marks: bool) -> re.Pattern:
    w = word_char(marks)
    return re.compile(f"([{CJK_RANGES}])|({w}+(?:[-._/]{w}+)*)")


def primary_tokens(norm: str) -> list[Primary]:
    """Scan a normalised string into primary tokens (see the module docstring)."""
    if len(norm) <= SHORT:
        return _scan(norm, may_have_marks(norm))
    return [
        Primary("cjk" if m.group(1) else "word", m.group(), m.start(), m.end())
        for m in _primary(may_have_marks(norm)).finditer(norm)
    ]


@functools.cache
def _marks() -> frozenset[str]:
    return class_chars(MARKS)


def _scan(norm: str, marks: bool) -> list[Primary]:
    """:func:`primary_tokens` of a short string, character by character: the same
    tokens as the pattern (``\\w`` is ``str.isalnum()`` or ``_``)."""
    mark_set = _marks() if marks else frozenset()

    def word(ch: str) -> bool:
        return (ch.isalnum() and not is_cjk(ch)) or ch in mark_set

    out, i, n = [], 0, len(norm)
    while i < n:
        ch = norm[i]
        if is_cjk(ch):
            out.append(Primary("cjk", ch, i, i + 1))
            i += 1
        elif word(ch):
            j = i + 1
            while True:
                while j < n and word(norm[j]):
                    j += 1
                if j + 1 < n and norm[j] in CONNECTORS and word(norm[j + 1]):
                    j += 2
                    continue
                break
            out.append(Primary("word", norm[i:j], i, j))
            i = j
        else:
            i += 1
    return out


def class_chars(body: str) -> frozenset[str]:
    """The characters of a regex class body made of characters and ranges (spec tables)."""
    return frozenset(chr(c) for lo, hi in _spans(body) for c in range(lo, hi + 1))
