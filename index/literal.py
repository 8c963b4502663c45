"""What a query string matches: Ctrl+F over folded text, defined once.

A *literal* is one query item (a word, an unspaced Chinese string, a quoted phrase).
It is folded like the text (:func:`index.analysis.fold`: NFKC + casefold) and cut into
primary tokens (:func:`index.analysis.primary_tokens`: CJK characters and Latin/digit
words). It matches a text where those tokens stand in that order:

* CJK characters adjacent in the query are adjacent in the text, so an unspaced Chinese
  string is a literal substring;
* CJK characters apart in the query (``"深度 学习"``) are apart in the text: one or more
  non-word characters between them;
* a Latin word is a whole word of the text, or a whole part of a word joined by
  ``- . _ /`` (``Score`` finds ``F1-Score``); a word with connectors (``PM2.5``) is a
  whole word. Spaces and punctuation next to a Latin word are ignored (``F1值`` finds
  ``F1，值``).

Matching never crosses from one unit of a review into the next: units are joined by
:data:`SEP`, which no gap may span.

:meth:`Literal.grams` are the index terms (:func:`grams`) every match needs, so the
index finds candidates by an AND of existence postings, and :meth:`Literal.exact` says
when that AND already is the answer (one gram). Otherwise :meth:`Literal.occurs` checks
the candidate's stored folded text: a substring test for a Chinese string, a regular
expression for the rest. :meth:`Literal.spans` gives every occurrence, for snippets.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from index.analysis import CJK_RANGES, MARKS, fold, may_have_marks, primary_tokens, word_char

SEP = "\x1e"  # joins the units of a review's stored text; no match spans it


def _gap(marks: bool) -> str:
    """Neither a word character nor CJK (``\\w``), nor a unit's end."""
    return f"(?:[^\\w{SEP}{MARKS if marks else ''}]|_)"


@functools.cache
def _run(marks: bool = True) -> re.Pattern:  # compiled when first needed, not on import
    w = word_char(marks)
    return re.compile(f"([{CJK_RANGES}]+)|({w}+(?:[-._/]{w}+)*)")

_CONNECTORS = "-._/"


def grams(norm: str) -> set[str]:
    """The index terms of a folded text (existence only): every CJK character, every
    pair of adjacent CJK characters, every Latin word and every part of a joined word."""
    out: set[str] = set()
    for m in _run(may_have_marks(norm)).finditer(norm):
        run = m.group(1)
        if run:
            out.update(run)
            out.update(run[i:i + 2] for i in range(len(run) - 1))
            continue
        word = m.group(2)
        out.add(word)
        if any(c in word for c in _CONNECTORS):
            out.update(p for p in re.split(r"[-._/]", word) if p)
    return out


def run_pairs(norm: str) -> str:
    """The adjacent CJK pairs of a folded text, in order, space-separated, with ``|``
    between runs: the cluster's positional field (:mod:`index.cluster_doc`), where an
    unspaced Chinese string is found by the phrase of its pairs (:func:`pairs_of`)
    exactly where :meth:`Literal.occurs` finds it: consecutive pairs of one run."""
    out: list[str] = []
    for m in _run(may_have_marks(norm)).finditer(norm):
        run = m.group(1)
        if run and len(run) > 1:
            if out:
                out.append("|")
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return " ".join(out)


def pairs_of(plain: str) -> str:
    """The phrase of a run of CJK characters in :func:`run_pairs`' terms."""
    return " ".join(plain[i:i + 2] for i in range(len(plain) - 1))


def gram_positions(norm: str) -> dict[str, list[int]]:
    """Where each of :func:`grams` stands in a folded text (code point offsets, the
    start of the gram): the site's reference-title postings, from which a run of
    ideographs is found by its pairs alone. Its keys are exactly :func:`grams`."""
    out: dict[str, list[int]] = {}
    for m in _run(may_have_marks(norm)).finditer(norm):
        run, at = m.group(), m.start()
        if m.group(1):
            for i, ch in enumerate(run):
                out.setdefault(ch, []).append(at + i)
                if i + 1 < len(run):
                    out.setdefault(run[i:i + 2], []).append(at + i)
            continue
        out.setdefault(run, []).append(at)
        if any(c in run for c in _CONNECTORS):
            k = 0
            for part in re.split(r"([-._/])", run):
                if part and part not in _CONNECTORS:
                    out.setdefault(part, []).append(at + k)
                k += len(part)
    return out


@dataclass
class Literal:
    """One query string, compiled. ``text`` is as typed."""

    text: str
    folded: str = ""
    tokens: list = field(default_factory=list)

    def __post_init__(self):
        self.folded = fold(self.text)
        self.tokens = primary_tokens(self.folded)
        self._patterns: dict[bool, re.Pattern] = {}
        toks = self.tokens
        self.plain: str | None = None  # the substring to look for, for one run of CJK
        if toks and all(t.kind == "cjk" for t in toks) and all(
                toks[i + 1].nstart == toks[i].nend for i in range(len(toks) - 1)):
            self.plain = "".join(t.text for t in toks)

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def grams(self) -> list[str]:
        """Index terms that every match holds (for candidates), rarest-looking first."""
        toks, out = self.tokens, []
        for i, t in enumerate(toks):
            if t.kind == "word":
                out.append(t.text)
                continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            prev = toks[i - 1] if i else None
            if nxt is not None and nxt.kind == "cjk" and nxt.nstart == t.nend:
                out.append(t.text + nxt.text)
            elif not (prev is not None and prev.kind == "cjk" and prev.nend == t.nstart):
                out.append(t.text)  # a CJK character standing alone
        return list(dict.fromkeys(out))

    @property
    def exact(self) -> bool:
        """Does the one gram's posting answer the literal exactly (no text check)?"""
        toks = self.tokens
        if len(toks) == 1:
            return True
        return len(toks) == 2 and self.plain is not None

    def pattern(self, marks: bool = True) -> re.Pattern:
        """The literal as a regular expression; ``marks``: for a text that may hold
        combining marks (:func:`index.analysis.may_have_marks`)."""
        got = self._patterns.get(marks)
        if got is None:
            wc, gap = word_char(marks), _gap(marks)
            parts, prev = [], None
            for t in self.tokens:
                if prev is not None:
                    if prev.kind == "cjk" and t.kind == "cjk":
                        parts.append("" if prev.nend == t.nstart else gap + "+")
                    else:
                        parts.append(gap + "*")
                tok = re.escape(t.text)
                if t.kind == "word" and any(c in t.text for c in _CONNECTORS):
                    tok = f"(?<!{wc})(?<!{wc}[-._/]){tok}(?![-._/]?{wc})"
                elif t.kind == "word":
                    tok = f"(?<!{wc}){tok}(?!{wc})"
                parts.append(tok)
                prev = t
            got = self._patterns[marks] = re.compile("".join(parts))
        return got

    def _for(self, norm: str) -> re.Pattern:
        return self.pattern(may_have_marks(norm) or may_have_marks(self.folded))

    def occurs(self, norm: str) -> bool:
        """Does the literal occur in the folded text ``norm``?"""
        plain = self.plain
        if plain is not None:
            return plain in norm
        return self._for(norm).search(norm) is not None

    def count(self, norm: str) -> int:
        plain = self.plain
        if plain is not None:
            return norm.count(plain)
        return sum(1 for _ in self._for(norm).finditer(norm))

    def spans(self, norm: str) -> list[tuple[int, int]]:
        """Every occurrence in the folded text, as ``(start, end)`` offsets."""
        plain = self.plain
        if plain is not None:
            out, at = [], norm.find(plain)
            while at >= 0:
                out.append((at, at + len(plain)))
                at = norm.find(plain, at + 1)
            return out
        return [m.span() for m in self._for(norm).finditer(norm)]
