"""The query language, parsed by hand (Ctrl+F semantics; evaluated by :mod:`index.search`).

Syntax (the JS client implements the same):

* items are separated by whitespace (after NFKC, so U+3000 counts) and ANDed:
  a review matches when every item occurs somewhere in it (:mod:`index.literal`);
* ``"..."`` (also ``“...”``) is one item that may hold spaces;
* an item is matched as a *literal* (:class:`index.literal.Literal`): an unspaced
  Chinese string is a literal substring; Latin words are whole words (or whole parts
  of ``a-b`` words);
* ``a OR b`` (upper case): either; OR binds tighter than the AND between items
  (``x a OR b`` = x AND (a OR b));
* ``-item`` or ``NOT item``: reviews in which it occurs anywhere are excluded;
  ``AND`` is allowed and means nothing;
* fields: ``topic:v`` (the review's topic), ``section:v`` (``3.1`` = that section
  and its subsections, ``abstract``, ``references``; other values = words of a
  section's title), ``ref:v`` (``r0123456789`` = reviews citing that reference;
  other values = words of the title of a reference the review cites),
  ``uuid:v`` (a hex prefix; dashes ignored), ``since:YYYY-MM-DD`` and
  ``until:YYYY-MM-DD`` (received on or after / on or before). A value may be
  quoted: ``topic:"a b"``. Unprefixed items search the whole review: topic,
  titles, abstract, keywords, sections and reference titles;
* ``section:`` scopes the other positive unprefixed items: they must occur in the
  sections it names (a number: that section and its subsections; words: the
  sections whose title holds them).

Errors raise :class:`QueryError` with one line: empty query, unbalanced quote,
empty field value, unknown field, OR/NOT with nothing after it, OR with nothing
before it, a negated item inside OR, a query with only negated items, an item with
no searchable characters, a malformed ``uuid:`` or date.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from archive.days import parse_day
from archive.errors import ArchiveError, Usage
from index.analysis import class_chars
from index.literal import Literal
from index.spec import error, spec

_Q = spec()["query"]
FIELDS = tuple(_Q["fields"])
_QUOTES: dict[str, str] = _Q["quotes"]
_FIELD = re.compile(_Q["field"][1:])  # (matched at a position: no ^)
_SECTION_PATH = re.compile(_Q["section_path"])
_REF_ID = re.compile(_Q["ref_id"])
_HEX = re.compile(_Q["uuid_prefix"])
SECTION_NAMES: dict[str, str] = _Q["section_names"]
_OR, _NOT, _AND = (_Q["operators"][k] for k in ("or", "not", "and"))
SPACE = class_chars(spec()["analysis"]["space"])  # what separates items (not str.isspace)


class QueryError(Usage):
    """A query that cannot be parsed; ``str()`` is one line for the user, ``code`` the
    error's code in ``index/spec.json`` (the site shows the same error by its code)."""

    def __init__(self, code: str, **args):
        super().__init__(error(code, **args))
        self.code = code
        self.args_ = args


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
    since: str | None = None
    until: str | None = None

    def positive_atoms(self) -> list[Atom]:
        return [a for g in self.groups for a in g if not a.negated]

    def with_dates(self, since: str | None, until: str | None) -> "Parsed":
        """Also received on or after ``since`` and on or before ``until`` (both kept
        when the query names dates too: the narrower wins)."""
        since, until = check_day("since", since), check_day("until", until)
        if since and (self.since is None or since > self.since):
            self.since = since
        if until and (self.until is None or until < self.until):
            self.until = until
        return self


# -- lexing and parsing -----------------------------------------------------

def _lex(text: str) -> list[Atom | str]:
    out: list[Atom | str] = []
    i, n = 0, len(text)
    exclude = _Q["exclude"]
    while i < n:
        if text[i] in SPACE:
            i += 1
            continue
        start = i
        negated = False
        if text[i] == exclude and i + 1 < n and text[i + 1] not in SPACE:
            negated, i = True, i + 1
        elif text[i] == exclude:
            raise QueryError("dash-alone")
        fname = None
        m = _FIELD.match(text, i)
        if m:
            fname = m.group(1).lower()
            if fname not in FIELDS:
                raise QueryError("unknown-field", field=m.group(0))
            i = m.end()
            if i >= n or text[i] in SPACE:
                raise QueryError("empty-field", field=m.group(0))
        if text[i] in _QUOTES:
            close = _QUOTES[text[i]]
            end = text.find(close, i + 1)
            if close != _Q["curly_close_also"]:  # a plain closing quote after a curly opening one
                alt = text.find(_Q["curly_close_also"], i + 1)
                end = alt if end < 0 or 0 <= alt < end else end
            if end < 0:
                raise QueryError("unbalanced-quote", text=text[start:][:30])
            value = strip(text[i + 1:end])
            if not value:
                raise QueryError("empty-quotes", text=text[start:end + 1])
            out.append(Atom(fname, value, True, negated))
            i = end + 1
            continue
        j = i
        while j < n and text[j] not in SPACE and text[j] not in _QUOTES:
            j += 1
        word = text[i:j]
        if not negated and fname is None and word in (_OR, _NOT, _AND):
            out.append(word)
        else:
            out.append(Atom(fname, word, False, negated))
        i = j
    return out


def strip(text: str) -> str:
    """``text`` without the spaces (``SPACE``) at either end."""
    i, j = 0, len(text)
    while i < j and text[i] in SPACE:
        i += 1
    while j > i and text[j - 1] in SPACE:
        j -= 1
    return text[i:j]


def parse(text: str) -> Parsed:
    """Parse a query string; raise :class:`QueryError` for a malformed one."""
    text = strip(unicodedata.normalize("NFKC", text or ""))
    if not text:
        raise QueryError("empty-query")
    parsed = Parsed()
    pending_or = pending_not = False
    lexed = _lex(text)
    for lex in lexed:
        if lex == _AND:
            if pending_or or pending_not:
                raise QueryError("and-after", op=_OR if pending_or else _NOT)
            continue
        if lex == _OR:
            if not parsed.groups or pending_or or pending_not:
                raise QueryError("or-first")
            if parsed.groups[-1][0].negated:
                raise QueryError("or-negated")
            pending_or = True
            continue
        if lex == _NOT:
            if pending_not:
                raise QueryError("not-not")
            if pending_or:
                raise QueryError("or-negated")
            pending_not = True
            continue
        assert isinstance(lex, Atom)
        lex.negated = lex.negated or pending_not
        if lex.field in _Q["filters"]:
            if lex.negated or pending_or or _next_is_or(lexed, lex):
                raise QueryError("filter-item", field=lex.field)
            setattr(parsed, lex.field, check_day(lex.field, lex.value))
            pending_not = False
            continue
        _check_atom(lex)
        if pending_or:
            if lex.negated:
                raise QueryError("or-negated")
            parsed.groups[-1].append(lex)
        else:
            parsed.groups.append([lex])
        pending_or = pending_not = False
    if pending_or:
        raise QueryError("or-last")
    if pending_not:
        raise QueryError("not-last")
    if not parsed.positive_atoms():
        raise QueryError("only-negated")
    return parsed


def _next_is_or(lexed: list, atom: Atom) -> bool:
    at = next(i for i, x in enumerate(lexed) if x is atom)
    return at + 1 < len(lexed) and lexed[at + 1] == "OR"


def _check_atom(atom: Atom) -> None:
    """Refuse an item that can match nothing for a reason the user can fix."""
    value = strip(atom.value).lower()
    if atom.field == "uuid":
        if not _HEX.match(atom.value.lower().replace("-", "")):
            raise QueryError("bad-uuid", value=atom.value)
        return
    if atom.field == "section" and is_section_path(value):
        return
    if atom.field == "ref" and _REF_ID.match(value):
        return
    if not Literal(atom.value):
        raise QueryError("nothing-searchable", item=atom.show())


def section_path(value: str) -> str | None:
    """The section path a ``section:`` value names (``3.1``, ``abstract``/``摘要``,
    ``references``/``参考文献``), or None when it is words of a title."""
    v = strip(value).lower()
    v = SECTION_NAMES.get(v, v)
    return v if _SECTION_PATH.match(v) else None


def is_section_path(value: str) -> bool:
    return section_path(value) is not None


def is_ref_id(value: str) -> bool:
    return bool(_REF_ID.match(strip(value).lower()))


def check_day(name: str, value: str | None) -> str | None:
    """``value`` if it is a date ``YYYY-MM-DD`` (:func:`archive.days.parse_day`); else
    :class:`QueryError` (code ``bad-date``)."""
    try:
        return parse_day(name, value)
    except ArchiveError:
        raise QueryError("bad-date", field=name, value=value) from None
