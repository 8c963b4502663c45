"""The query language, parsed by hand into Whoosh queries (Ctrl+F semantics).

Syntax (the JS client implements the same):

* items are separated by whitespace (after NFKC, so U+3000 counts) and ANDed:
  every item must match the same document (section);
* ``"..."`` (also ``“...”``) is one item that may hold spaces;
* an item is matched as a *literal*: its query terms (``analysis.query_terms``)
  at consecutive positions. An unspaced Chinese string is therefore a literal
  substring; Latin words are whole words (or whole parts of ``a-b`` words);
* ``a OR b`` (upper case): either; OR binds tighter than the AND between items
  (``x a OR b`` = x AND (a OR b));
* ``-item`` or ``NOT item``: documents matching it are excluded; ``AND`` is allowed
  and means nothing;
* fields: ``topic:v`` (the review's topic), ``section:v`` (``3.1`` = that section
  and its subsections, ``abstract``, ``references``; other values = words of the
  section title), ``ref:v`` (``r0123456789`` = sections citing that reference;
  other values = words of the titles of the references a section cites),
  ``uuid:v`` (a hex prefix; dashes ignored). A value may be quoted: ``topic:"a b"``.
  Unprefixed items search topic, section title and section text.

Errors raise :class:`QueryError` with one line: empty query, unbalanced quote,
empty field value, unknown field, OR/NOT with nothing after it, OR with nothing
before it, a negated item inside OR, a query with only negated items, an item with
no searchable characters, a malformed ``uuid:`` or date.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from whoosh import query as wq

from archive.errors import ArchiveError
from index.analysis import cjk_runs, query_terms
from index.schema import BOOSTS, WORD_BOOST

FIELDS = ("topic", "section", "ref", "uuid")
_QUOTES = {'"': '"', "“": "”", "”": "”"}
_FIELD = re.compile(r"([A-Za-z]+):")
_SECTION_PATH = re.compile(r"^(\d+(\.\d+)*|abstract|references)$")
_REF_ID = re.compile(r"^r[0-9a-f]{10}$")
_HEX = re.compile(r"^[0-9a-f]{1,32}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_WORD = 8  # longest jieba word looked up when boosting


class QueryError(ArchiveError):
    """A query that cannot be parsed; ``str()`` is one line for the user."""


@dataclass
class Atom:
    field: str | None  # None = topic/title/body
    value: str
    quoted: bool = False
    negated: bool = False

    def show(self) -> str:
        v = f'"{self.value}"' if self.quoted else self.value
        return f"{self.field}:{v}" if self.field else v


@dataclass
class Parsed:
    """AND of groups; each group is an OR of atoms (all negated or all not)."""

    groups: list[list[Atom]] = field(default_factory=list)

    def positive_atoms(self) -> list[Atom]:
        return [a for g in self.groups for a in g if not a.negated]


# -- lexing and parsing -----------------------------------------------------

def _lex(text: str) -> list[Atom | str]:
    out: list[Atom | str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        negated = False
        if text[i] == "-" and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
        elif text[i] == "-":
            raise QueryError("'-' with nothing after it (write -word to exclude a word)")
        fname = None
        m = _FIELD.match(text, i)
        if m:
            fname = m.group(1).lower()
            if fname not in FIELDS:
                raise QueryError(
                    f"unknown field {m.group(0)!r} (fields: topic:, section:, ref:, uuid:;"
                    " put the text in quotes to search it literally)"
                )
            i = m.end()
            if i >= n or text[i].isspace():
                raise QueryError(f"empty field {m.group(0)!r}: write {m.group(0)}something")
        if text[i] in _QUOTES:
            close = _QUOTES[text[i]]
            end = text.find(close, i + 1)
            if close == "”":  # accept a plain closing quote after a curly opening one
                alt = text.find('"', i + 1)
                end = alt if end < 0 or 0 <= alt < end else end
            if end < 0:
                raise QueryError(f"unbalanced quote: {text[start:][:30]!r} has no closing quote")
            value = text[i + 1:end].strip()
            if not value:
                raise QueryError(f"empty quotes in {text[start:end + 1]!r}")
            out.append(Atom(fname, value, True, negated))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in _QUOTES:
            j += 1
        word = text[i:j]
        if not negated and fname is None and word in ("OR", "NOT", "AND"):
            out.append(word)
        else:
            out.append(Atom(fname, word, False, negated))
        i = j
    return out


def parse(text: str) -> Parsed:
    """Parse a query string; raise :class:`QueryError` for a malformed one."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        raise QueryError("empty query")
    parsed = Parsed()
    pending_or = pending_not = False
    for lex in _lex(text):
        if lex == "AND":
            if pending_or or pending_not:
                raise QueryError(f"'AND' right after '{'OR' if pending_or else 'NOT'}'")
            continue
        if lex == "OR":
            if not parsed.groups or pending_or or pending_not:
                raise QueryError("'OR' with nothing before it")
            if parsed.groups[-1][0].negated:
                raise QueryError("a negated item cannot be part of an OR")
            pending_or = True
            continue
        if lex == "NOT":
            if pending_not:
                raise QueryError("'NOT NOT'")
            if pending_or:
                raise QueryError("a negated item cannot be part of an OR")
            pending_not = True
            continue
        assert isinstance(lex, Atom)
        lex.negated = lex.negated or pending_not
        if pending_or:
            if lex.negated:
                raise QueryError("a negated item cannot be part of an OR")
            parsed.groups[-1].append(lex)
        else:
            parsed.groups.append([lex])
        pending_or = pending_not = False
    if pending_or:
        raise QueryError("'OR' with nothing after it")
    if pending_not:
        raise QueryError("'NOT' with nothing after it")
    if not parsed.positive_atoms():
        raise QueryError("the query needs at least one item that is not excluded")
    return parsed


# -- compiling to Whoosh --------------------------------------------------------

class IndexView:
    """What compiling needs to know about the index (all cheap lexicon look-ups)."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.reader = searcher.reader()

    def has_word(self, word: str) -> bool:
        return ("words", word) in self.reader

    def expand(self, fieldname: str, prefix: str) -> list[str]:
        return [t.decode("utf-8") if isinstance(t, bytes) else t
                for t in self.reader.expand_prefix(fieldname, prefix)]

    def ref_ids(self, q: wq.Query) -> list[str]:
        hits = self.searcher.search(q, limit=None)
        return sorted({h["refid"] for h in hits})


class _SpanOr(wq.SpanOr):
    """``SpanOr`` that can estimate its size (whoosh's raises NotImplementedError
    when a multi-segment index plans an And/Or around it)."""

    def estimate_size(self, ixreader):
        return self.q.estimate_size(ixreader)

    def estimate_min_size(self, ixreader):
        return self.q.estimate_min_size(ixreader)


def _literal(fieldname: str, atom: Atom, view: IndexView | None, boost: float = 1.0) -> wq.Query:
    qt = query_terms(atom.value)
    if not qt:
        raise QueryError(f"{atom.show()!r} has no searchable characters")
    terms = list(qt.terms)
    if qt.prefix and len(terms) == 1:
        return wq.Prefix(fieldname, terms[0], boost=boost)
    if not qt.prefix or view is None:  # view None: syntax check only
        if len(terms) == 1:
            return wq.Term(fieldname, terms[0], boost=boost)
        return wq.Phrase(fieldname, terms, boost=boost)
    last = [wq.Term(fieldname, t) for t in view.expand(fieldname, terms[-1])]
    if not last:
        return wq.NullQuery
    spans = [wq.Term(fieldname, t) for t in terms[:-1]]
    spans.append(last[0] if len(last) == 1 else _SpanOr(last))
    return wq.Or([wq.SpanNear2(spans, slop=1, ordered=True, mindist=1)], boost=boost)


def atom_query(atom: Atom, view: IndexView | None = None) -> wq.Query:
    """The matching query of one atom."""
    if atom.field is None:
        return wq.Or([_literal(f, atom, view, b) for f, b in BOOSTS.items()])
    if atom.field == "topic":
        return _literal("topic", atom, view)
    if atom.field == "section":
        value = atom.value.strip().lower()
        if _SECTION_PATH.match(value):
            return wq.Term("path", value)
        return _literal("title", atom, view)
    if atom.field == "ref":
        value = atom.value.strip().lower()
        if _REF_ID.match(value):
            return wq.Term("refs", value)
        words = _literal("reftitle", atom, view)
        if view is None:
            return words
        ids = view.ref_ids(words)
        return wq.Or([wq.Term("refs", i) for i in ids]) if ids else wq.NullQuery
    value = atom.value.lower().replace("-", "")
    if not _HEX.match(value):
        raise QueryError(f"uuid:{atom.value}: expected hex digits of a review id")
    return wq.Prefix("uuid", value)


def word_boosts(atoms: list[Atom], has_word: Callable[[str], bool]) -> list[wq.Query]:
    """Ranking terms on the jieba ``words`` field, found without jieba.

    Each CJK run of the positive text atoms is split by forward maximum matching
    against the index's own ``words`` lexicon (``has_word``); words of two or more
    characters become optional boosting terms.
    """
    out: list[wq.Query] = []
    seen: set[str] = set()
    for atom in atoms:
        if atom.field not in (None, "topic"):
            continue
        for run in cjk_runs(atom.value):
            i = 0
            while i < len(run):
                for j in range(min(len(run), i + MAX_WORD), i + 1, -1):
                    if has_word(run[i:j]):
                        if run[i:j] not in seen:
                            seen.add(run[i:j])
                            out.append(wq.Term("words", run[i:j], boost=WORD_BOOST))
                        i = j
                        break
                else:
                    i += 1
    return out


def compile_query(parsed: Parsed, view: IndexView | None = None) -> wq.Query:
    """The Whoosh query; without ``view`` only checks that it compiles."""
    must: list[wq.Query] = []
    must_not: list[wq.Query] = []
    for group in parsed.groups:
        qs = [atom_query(a, view) for a in group]
        (must_not if group[0].negated else must).append(qs[0] if len(qs) == 1 else wq.Or(qs))
    if must_not:  # (whoosh's AndNot misses exclusions when the positive side is a phrase)
        must.append(wq.Not(must_not[0] if len(must_not) == 1 else wq.Or(must_not)))
    q: wq.Query = wq.And(must) if len(must) > 1 else must[0]
    boosts = word_boosts(parsed.positive_atoms(), view.has_word) if view else []
    if boosts:
        q = wq.AndMaybe(q, wq.Or(boosts))
    return q


def date_filter(since: str | None, until: str | None) -> wq.Query | None:
    """Filter on the received date, both ends inclusive (``YYYY-MM-DD``)."""
    for name, value in (("since", since), ("until", until)):
        if value is None:
            continue
        try:
            ok = bool(_DATE.match(value)) and bool(_dt.date.fromisoformat(value))
        except ValueError:
            ok = False
        if not ok:
            raise QueryError(f"{name} {value!r}: expected a date YYYY-MM-DD")
    if since is None and until is None:
        return None
    return wq.TermRange(
        "received", since or "0000", (until + " 99") if until else "9999",
        startexcl=False, endexcl=False,
    )
