"""Text normalisation and primary tokens, shared by the index, the query parser and (as
a port in ``static/search.js``, from the same ``index/spec.json``) the site.

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
from dataclasses import dataclass

from archive.fold import Normalized, fold, normalize  # noqa: F401 - the one fold, re-exported
from index.spec import spec

CJK_RANGES: str = spec()["analysis"]["cjk"]  # a regex class body
MARKS: str = spec()["analysis"]["marks"]
CONNECTORS: str = spec()["analysis"]["connectors"]
#: a word character (a regex): a letter or number that is not CJK, or a combining mark
WORD_CHAR = f"(?:[^\\W_{CJK_RANGES}]|[{MARKS}])"
#: the same for a text without combining marks: one class, not an alternation, so the
#: usual text (Chinese, ASCII) is scanned at the speed of a plain class
WORD_CHAR_PLAIN = f"[^\\W_{CJK_RANGES}]"


@functools.cache
def _gate() -> re.Pattern:
    """Every 16-code-point block that holds a combining mark, as one class (~150 ranges;
    fine enough that Chinese punctuation, kana and general punctuation, which share
    256-blocks with some marks, do not open the gate)."""
    blocks = sorted({c >> 4 for lo, hi in _spans(MARKS) for c in range(lo, hi + 1)})
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
    return _gate().search(text) is not None


def word_char(marks: bool) -> str:
    return WORD_CHAR if marks else WORD_CHAR_PLAIN

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
    return [
        Primary("cjk" if m.group(1) else "word", m.group(), m.start(), m.end())
        for m in _primary(may_have_marks(norm)).finditer(norm)
    ]


def class_chars(body: str) -> frozenset[str]:
    """The characters of a regex class body made of characters and ranges (spec tables)."""
    return frozenset(chr(c) for lo, hi in _spans(body) for c in range(lo, hi + 1))
