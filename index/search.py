"""Search the index: reviews that hold every term, ranked, with the sections that hold them.

``search(index_dir, "小样本 ResNet", since=..., until=..., limit=20, offset=0)`` returns a :class:`SearchResult`.

A review matches when every positive item occurs somewhere in it, as Ctrl+F over the
whole review would find it (:mod:`index.literal`); ``-item`` drops a review in which the
item occurs anywhere; ``section:`` scopes the other unprefixed items to the sections it
names. Evaluation, with the index holding one document per review
(:mod:`index.document`):

1. **candidates**: each item's grams are ANDed over their postings
   (:mod:`index.postings`), and so are their part maps, which keep only the parts
   (topic, each title, each body) holding every gram: a ``topic:`` item keeps the
   topic, a ``section:`` item the sections it names, and the unprefixed items keep
   what lies inside that scope. Items combine as sets (AND across groups, OR within);
   an item whose grams answer it exactly (one gram: a character, a two-character
   string, a Latin word) is done here;
2. **verification**: for the rest, the candidate's stored folded text is decompressed
   and only the parts its map allows are searched (a substring test for a Chinese
   string, a regular expression otherwise), so the set, and its count, are exact;
3. **ranking** (:mod:`index.rank`) of the whole set; ``limit``/``offset`` take a page;
4. **sections**: for the page's reviews only, the sections where a positive item
   occurs, best first: by chapter (:func:`chapter_order`: the chapters where more items
   may stand first, so the site finds the same sections loading the fewest chapters),
   then more distinct items, more occurrences, document order; each with a snippet of
   about :data:`SNIPPET` characters of the text as written, every occurrence marked.

A search only reads: a missing or damaged index raises :mod:`index.problems`' errors,
and what to do about them is :func:`index.ready.ensure_index`'s to decide. The query
path never imports jieba or Whoosh (it reads the index with :mod:`index.reader`) and
never hashes the index.
"""
from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.analysis import fold, normalize
from index.texts import (
    TOPIC, StoredText, Texts, bits, body_part, chapter_of, part_map, plain_value_verdicts,
    plain_verdict, title_part,
)
from index import halves
from index.folder import open_reader
from index.literal import Literal
from index.postings import (
    Column, doc_set, doc_values, doc_values_among, expand_prefix, live_count,
)
from index.query import SECTION_NAMES, Atom, Parsed, is_ref_id, parse, section_path
from index.facets import Facets, facets as count_facets
from index.rank import (
    GramMaps, Item, chapters, merged, newest_first, odd_bits, order, part_map_of, part_maps,
    rank_keys, scores, starts_of,
)

SNIPPET = 120
SORTS = ("relevance", "date")  # relevance: index.rank.order; date: index.rank.newest_first
_SPACE = re.compile(r"\s+")


@dataclass
class SectionHit:
    number: str  # "3.1.2", "abstract" or "references"
    title: str
    score: float  # distinct items present + a share for their occurrences
    snippet: list[tuple[str, bool]] = field(default_factory=list)  # (text, is_match)


@dataclass
class ReviewHit:
    uuid: str
    topic: str
    received_at: str
    n_sections: int  # sections in which a positive item occurs
    score: float
    sections: list[SectionHit] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    total_reviews: int
    reviews: list[ReviewHit] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    notice: str | None = None  # set when the index had to be rebuilt
    uuids: list[str] = field(default_factory=list)  # every match in rank order (ids_only)
    empty: bool = False  # the index holds no review at all
    sort: str = "relevance"
    facets: Facets | None = None  # over every match (asked for: facets=True)

    def to_dict(self) -> dict:
        d = asdict(self)
        del d["uuids"]
        del d["facets"]
        if self.facets is not None:
            d["facets"] = self.facets.to_dict()
        for review in d["reviews"]:
            for sec in review["sections"]:
                sec["snippet"] = [{"text": t, "match": m} for t, m in sec["snippet"]]
        return d


# -- evaluation ----------------------------------------------------------------------

@dataclass
class _Atom:
    """An item compiled against the index: the documents that may hold it, each with
    the part map of where it may stand (-1: anywhere, or not a text item), and whether
    that is the answer or the text must be checked."""

    atom: Atom
    maps: dict[int, int]
    exact: bool
    literal: Literal | None = None
    ids: frozenset[str] = frozenset()  # ref: the reference ids it stands for
    gram_df: int = 0  # documents holding its rarest gram
    grams: list[GramMaps] = field(default_factory=list)  # per gram: doc -> part map

    @property
    def text(self) -> bool:
        return self.literal is not None and self.atom.field in (None, "topic")


def _everywhere(docs: set[int]) -> dict[int, int]:
    return dict.fromkeys(docs, -1)


def _grams(reader, lit: Literal, allowed: int | None, alone: bool = False,
           among: set[int] | None = None) -> tuple[dict[int, int], int, list[GramMaps]]:
    """Documents holding every gram of ``lit`` in one part (restricted to the parts
    ``allowed`` picks: None any, else a function of the map), with that part map; the
    rarest gram's document count (over the whole index, whatever part of it ``reader``
    reads: :mod:`index.halves`); each gram's postings (:class:`index.rank.GramMaps`:
    decoded where this needed them, else when ranking asks).

    ``alone``: the item is a group of its own, or negated, so ranking and sections only
    ever ask its grams about its own candidates. Then each gram after the rarest is read
    for the documents still in the running alone (:func:`index.postings.doc_values_among`:
    only the posting blocks that may hold them), and the reading stops once none is left:
    a phrase of common characters no review holds (``的研究意义`` at 100,000 reviews,
    every pair in most of them) costs what its rarest pair does, not all four lists.
    ``among``: only these documents are asked about (a page's plan, :func:`_evaluate`)."""
    grams = lit.grams()
    dfs = {g: live_count(reader, "g", g) for g in grams}
    least = min(dfs.values(), default=0)
    if (alone and len(grams) > 1) or among is not None:
        got: dict[str, GramMaps] = {}
        maps = None
        for g in sorted(grams, key=dfs.__getitem__):
            docs = maps if maps is not None else among
            gm = got[g] = GramMaps(doc_values(reader, "g", g) if docs is None
                                   else doc_values_among(reader, "g", g, docs))
            maps = _narrow(maps, gm, allowed)
            if not maps:
                break
        return _allowed(maps, allowed), least, [got.get(g) or GramMaps({}) for g in grams]
    each = [GramMaps(doc_values(reader, "g", g)) for g in grams]
    if len(each) == 1 and allowed is None:  # one gram: its postings, decoded when asked
        return each[0], least, each
    maps: dict[int, int] | None = None
    for gm in sorted(each, key=lambda g: len(g.raw)):  # the rarest first: fewest decoded
        maps = _narrow(maps, gm, allowed)
        if not maps:
            return {}, least, each
    return _allowed(maps, allowed), least, each


def _narrow(maps: dict[int, int] | None, gm: GramMaps, allowed: int | None) -> dict[int, int]:
    """The part maps of ``maps`` (None: the first gram's) that ``gm``'s gram shares: one
    pass, each map decoded once into ``gm`` (:func:`index.rank.part_map_of`)."""
    values, decoded, held = gm.raw, gm.decoded, gm.raw.get
    if maps is None:  # (the first gram: each of its documents, with the parts allowed)
        only = TOPIC if allowed == TOPIC else -1
        maps = dict.fromkeys(values, only)
    out: dict[int, int] = {}
    for d, m in maps.items():
        v = held(d)
        if v is not None:
            g = decoded[d] = part_map_of(v)
            if m & g:
                out[d] = m & g
    return out


def _allowed(maps: dict[int, int] | None, allowed: int | None) -> dict[int, int]:
    """``maps`` within the parts ``allowed`` picks (:func:`_grams`)."""
    maps = maps or {}
    if allowed is not None:
        maps = {d: m & (allowed if allowed != -2 else odd_bits(m.bit_length()))
                for d, m in maps.items()}
        maps = {d: m for d, m in maps.items() if m}
    return maps


def _ref_ids(reader, lit: Literal) -> frozenset[str]:
    """Reference ids whose title (any spelling in the archive) holds the literal."""
    sets = sorted((doc_set(reader, "rg", g) for g in lit.grams()), key=len)
    found = set(sets[0]) if sets else set()
    for other in sets[1:]:
        found &= other
    ids = set()
    for d in found:
        f = reader.stored_fields(d)
        if lit.exact or lit.occurs(f["rtitle"]):
            ids.add(f["refid"])
    return frozenset(ids)


_TITLES = -2  # _grams: only title parts


def _compile(reader, atom: Atom, alone: bool = False, among: set[int] | None = None) -> _Atom:
    """``alone``, ``among`` (text items only): see :func:`_grams`."""
    value = atom.value.strip().lower()
    if atom.field == "uuid":
        prefix = atom.value.lower().replace("-", "")
        docs: set[int] = set()
        for term in expand_prefix(reader, "uuid", prefix):
            docs |= doc_set(reader, "uuid", term)
        return _Atom(atom, _everywhere(docs), True)
    path = section_path(value) if atom.field == "section" else None
    if path:
        return _Atom(atom, {d: part_map(v) for d, v in doc_values(reader, "path", path).items()}, True)
    if atom.field == "ref" and is_ref_id(value):
        return _Atom(atom, _everywhere(doc_set(reader, "refs", value)), True, ids=frozenset([value]))
    lit = Literal(atom.value)
    if atom.field == "ref":
        ids = _ref_ids(reader, lit)
        docs = set()
        for i in ids:
            docs |= doc_set(reader, "refs", i)
        return _Atom(atom, _everywhere(docs), True, lit, ids)
    allowed = {"topic": TOPIC, "section": _TITLES}.get(atom.field)
    maps, least, each = _grams(reader, lit, allowed, alone, among)
    return _Atom(atom, maps, lit.exact, lit, gram_df=least, grams=each)


@dataclass
class _Plan:
    positive: list[list[_Atom]]
    negative: list[_Atom]
    sections: list[_Atom]  # the section: items (they scope the unprefixed ones)

    def scope(self, d: int) -> int | None:
        """The parts the section: items allow in document ``d`` (None: no scope)."""
        if not self.sections:
            return None
        reach = -1
        for s in self.sections:
            m = s.maps.get(d, 0)
            if s.literal is not None:  # section:words -> those sections' title and body
                m |= m << 1
            reach &= m
        return reach


def _occurs(a: _Atom, d: int, text: StoredText | None, scope: int | None) -> bool:
    """Does item ``a`` hold in document ``d`` (its text checked where needed)?"""
    m = a.maps.get(d, 0)
    if not m:
        return False
    whole = a.atom.field is None and scope is None
    if a.atom.field is None and scope is not None:
        m &= scope
        if not m:
            return False
    elif a.literal is None or a.atom.field == "ref":
        return True  # uuid:, ref:, section:3.1: the postings are the answer
    if a.exact:
        return True
    return text is not None and text.anywhere(a.literal, m, whole)


class _Lazy:
    """A document's text (:class:`index.texts.Texts`), read on first use."""

    def __init__(self, column, d: int):
        self.column, self.d, self._text = column, d, None

    def get(self) -> Texts:
        if self._text is None:
            self._text = Texts(self.column[self.d])
        return self._text


def _section_scope(plan: _Plan, d: int, lazy: _Lazy) -> int | None:
    """The scope, with inexact section:words items checked against the titles."""
    scope = plan.scope(d)
    for s in plan.sections:
        if s.literal is None or s.exact or scope is None:
            continue
        text = lazy.get()
        titles = 0
        for j in bits(s.maps.get(d, 0)):
            if text.holds(s.literal, j):
                titles |= (1 << j) | (1 << (j + 1))
        scope &= titles
    return scope


def _quick_matches(column, quick: list[list[tuple]], candidates) -> set[int]:
    """The candidates that hold an item of every group (``quick``: per group, per item
    ``(maps, literal, needle)``, the needle None for an exact item), a group at a time
    over the candidates still in the running."""
    alive = set(candidates)
    for group in quick:
        passed: set[int] = set()
        for maps, lit, needle in group:
            todo = [d for d in alive if d not in passed and maps.get(d)]
            if needle is None:
                passed.update(todo)
                continue
            for d, verdict in _verdicts(column, todo, needle, maps):
                if verdict or (verdict is None and any(
                        Texts(column[d]).holds(lit, j) for j in bits(maps[d]))):
                    passed.add(d)
        alive = passed
        if not alive:
            break
    return alive


def _verdicts(column, docs: list[int], needle: bytes, maps: dict[int, int]):
    """``(d, plain_verdict)`` of each of ``docs``: in the column's files, a segment at a
    time (:func:`index.texts.plain_value_verdicts`), where the column is the index's;
    else (the cluster's fetched values) value by value."""
    if not isinstance(column, Column):
        for d in docs:
            yield d, plain_verdict(column[d], needle, maps[d])
        return
    for file, located in column.located(sorted(docs)):
        yield from plain_value_verdicts(file, ((d, at, maps[d]) for d, at in located), needle)
        file.release()


def _matches(column, plan: _Plan, candidates: set[int]) -> tuple[set[int], dict[int, int]]:
    """The candidates that really match (text checks where the postings cannot tell),
    and the scope of each where section: items give one. ``column[d]``: document
    ``d``'s ``text`` value (:class:`index.texts.Texts`), read only where needed; the
    cluster's search (:mod:`index.cluster_search`) gives its fetched documents' here."""
    out, scopes = set(), {}
    needs_text = any(not a.exact and a.atom.field != "section"
                     for g in plan.positive for a in g) or plan.sections
    # the usual case, checked without building Texts: every item exact or an unspaced
    # Chinese string anywhere in the review (plain_in, then Texts.holds), no section: scope
    quick = None
    if not plan.sections and all(
            a.exact or (a.atom.field is None and a.literal is not None and a.literal.plain is not None)
            for g in plan.positive for a in g):
        quick = [[(a.maps, a.literal, None if a.exact else a.literal.plain.encode("utf-8"))
                  for a in g] for g in plan.positive]
    fast: list[int] = []  # (checked together after the loop: _quick_matches)
    for d in candidates:
        suspects = [a for a in plan.negative if not a.exact and d in a.maps]
        if not needs_text and not suspects:
            out.add(d)
            continue
        if quick is not None and not suspects:
            fast.append(d)
            continue
        lazy = _Lazy(column, d)
        scope = _section_scope(plan, d, lazy)
        if scope is not None:
            if not scope:
                continue
            scopes[d] = scope
        ok = True
        for g in plan.positive:
            if all(a.atom.field == "section" for a in g):
                continue
            if not any(_occurs(a, d, lazy.get() if not a.exact else None, scope) for a in g):
                ok = False
                break
        if ok and not any(_occurs(a, d, lazy.get(), None) for a in suspects):
            out.add(d)
    if fast:
        out |= _quick_matches(column, quick, fast)
    return out, scopes


def _evaluate(reader, parsed: Parsed, among: set[int] | None = None) -> tuple[_Plan, set[int]]:
    """The plan, and the candidates: review documents only, as every field an item
    reads (``g``, ``path``, ``refs``, ``uuid``) is a field of review documents alone
    (:mod:`index.document`). ``among``: a plan for these documents alone (a page's,
    where the matches were found in two processes: :func:`_found`), for a query of
    text items only (:func:`_halved`)."""
    positive = [[_compile(reader, a, len(g) == 1, among) for a in g]
                for g in parsed.groups if not g[0].negated]
    negative = [_compile(reader, g[0], True, among) for g in parsed.groups if g[0].negated]
    sections = [a for g in positive for a in g if a.atom.field == "section"]
    plan = _Plan(positive, negative, sections)
    sets = sorted((set().union(*(a.maps for a in g)) for g in positive), key=len)
    found = sets[0]
    for s in sets[1:]:
        found &= s
    for a in negative:
        if a.exact:
            found -= set(a.maps)
    return plan, found


def _keys(reader, docs: set[int], since: str | None, until: str | None
          ) -> dict[int, tuple[str, str, int, str]]:
    """``(received, uuid, words, chapter starts as written: "0,1,5")`` of each document,
    those outside the dates left out."""
    keys = {}
    lo, hi = since or "0000", (until or "9999") + "\uffff"
    dated = since is not None or until is not None
    for d, value in Column(reader, "key").many(docs, text=True).items():
        received, uuid, words, starts = value.split("|")
        if not dated or lo <= received[:10] <= hi:
            keys[d] = (received, uuid, int(words), starts)  # (starts parsed when needed)
    return keys


# -- sections and snippets -----------------------------------------------------------

_STEP = 4096  # characters folded at a time while looking for where a match stands


def _original_offset(written: str, target: int) -> tuple[int, int]:
    """Where the character holding folded offset ``target`` of ``written`` starts, in
    ``written`` and in the folded text: found by folding it a piece at a time (cut
    before a base character, never between one and its combining marks) and
    normalising only the piece holding ``target``."""
    cum = start = 0
    n = len(written)
    while start < n:
        end = min(n, start + _STEP)
        while end < n and unicodedata.category(written[end])[0] == "M":
            end += 1
        piece = written[start:end]
        folded = fold(piece)  # (a translation: no offset lists are built here)
        if cum + len(folded) > target:
            norm = normalize(piece)
            k = target - cum
            while k > 0 and norm.starts[k - 1] == norm.starts[k]:
                k -= 1  # back to the first folded character of that character
            return start + norm.starts[k], cum + k
        cum += len(folded)
        start = end
    return n, cum


def _snippet(written: str, folded: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The snippet of a part as written, every span (in folded offsets) in it marked. Its
    cost follows the snippet's size, not the part's: where folding changed lengths, only
    a window around the first match is mapped back (a 20 MB section stays cheap)."""
    spans = _merge(spans)
    if written == folded:  # folding changed nothing: offsets are the same
        return snippet(written, [sp for sp in spans if sp[0] < (spans[0][0] + SNIPPET if spans else 0)])
    if not spans:
        return snippet(written, [])
    ws = max(0, spans[0][0] - SNIPPET)
    we = min(len(folded), spans[0][1] + SNIPPET)
    (a, base), (b, _) = _original_offset(written, ws), _original_offset(written, we)
    window = written[a:b]
    norm = normalize(window)
    local = [norm.span(s - base, e - base) for s, e in spans
             if base <= s and e - base <= len(norm.text) and e > s]
    pieces = snippet(window, local)
    if a > 0 and pieces and pieces[0] != ("…", False):
        pieces.insert(0, ("…", False))
    if b < len(written) and pieces and pieces[-1] != ("…", False):
        pieces.append(("…", False))
    return pieces


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def snippet(text: str, spans: list[tuple[int, int]], width: int = SNIPPET) -> list[tuple[str, bool]]:
    """About ``width`` characters of ``text`` around its first span, every span in it
    marked, as ``(text, is_match)`` pieces; the start of the text without spans."""
    spans = _merge(spans)
    start = max(0, spans[0][0] - width // 4) if spans else 0
    end = min(len(text), start + width)
    start = max(0, end - width) if spans else start
    if spans and spans[0][1] > end:  # a very long first match: show it whole
        end = spans[0][1]
    pieces: list[tuple[str, bool]] = []
    cur = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if s > cur:
            pieces.append((text[cur:s], False))
        pieces.append((text[s:e], True))
        cur = e
    if cur < end:
        pieces.append((text[cur:end], False))
    out = [(_SPACE.sub(" ", t), m) for t, m in pieces]
    if out and start > 0:
        out.insert(0, ("…", False))
    if out and end < len(text):
        out.append(("…", False))
    return out


def chapter_order(plan: _Plan, d: int, starts: tuple[int, ...], cites: list[list[str]]
                  ) -> list[int]:
    """Each chapter's place when a review's sections are listed: chapters where more
    positive items may stand come first (a text item: every gram of it in the chapter;
    the ``ref:`` items together: a unit of the chapter cites one), then document order.
    The site knows the same from its postings, so it loads the best chapters first."""
    weight = [0] * len(starts)
    for g in plan.positive:
        for a in g:
            if a.literal is None or a.atom.field is not None or not a.grams:
                continue
            held = -1
            for m in part_maps(a.grams, d):
                held &= chapters(m, starts)
            for c in bits(held):
                weight[c] += 1
    ids = frozenset().union(*(a.ids for g in plan.positive for a in g))
    if ids:
        hit: set[int] = set()
        for i, cited in enumerate(cites):
            if ids.intersection(cited):
                hit.add(chapter_of(starts, i))
        for c in hit:
            weight[c] += 1
    ranked = sorted(range(len(starts)), key=lambda c: (-weight[c], c))
    place = [0] * len(starts)
    for k, c in enumerate(ranked):
        place[c] = k
    return place


def _sections(plan: _Plan, d: int, text: StoredText, scope: int | None,
              per_review: int, starts: tuple[int, ...]) -> tuple[int, list[SectionHit]]:
    atoms = [a for g in plan.positive for a in g if a.literal is not None and a.atom.field is None]
    lits = [a.literal for a in atoms]
    ids = frozenset().union(*(a.ids for g in plan.positive for a in g))
    place = chapter_order(plan, d, starts, text.cites)
    chapter = [chapter_of(starts, i) for i in range(len(text.keys))]
    where = 0  # the parts that may hold an item (their grams say so)
    for a in atoms:
        where |= a.maps.get(d, 0)
    if scope is not None:
        where = where & scope if lits else scope
    if lits and (where < 0 or where.bit_count() > 8):  # most parts will be read
        text.fold_all()
    ranked = []
    for i in range(len(text.keys)):
        t, b = title_part(i), body_part(i)
        cites = len(ids.intersection(text.cites[i]))
        if not where & ((1 << t) | (1 << b)) and not cites:
            continue
        spans = [[lit.spans(text.folded(t)), lit.spans(text.folded(b))] for lit in lits]
        present = sum(1 for ts, bs in spans if ts or bs)
        if not present and not cites and not (scope is not None and not lits):
            continue
        occurrences = sum(len(ts) + len(bs) for ts, bs in spans) + cites
        ranked.append((place[chapter[i]], -(present + bool(cites)), -occurrences, i, spans))
    ranked.sort(key=lambda r: r[:4])
    out = []
    for _, neg_present, neg_occ, i, spans in ranked[:per_review]:
        written, folded = text.part(body_part(i)), text.folded(body_part(i))
        body_spans = [s for _, bs in spans for s in bs]
        key = text.keys[i]
        heading = _HEADINGS.get(key) or text.part(title_part(i))
        score = round(-neg_present + min(-neg_occ, 99) / 100, 4)
        out.append(SectionHit(key, heading, score, _snippet(written, folded, body_spans)))
    return len(ranked), out


_HEADINGS = {path: name for name, path in SECTION_NAMES.items()}  # abstract -> 摘要 ...


# -- the API -------------------------------------------------------------------------

class _Found:
    """What the matching reviews are: each one's key (:func:`_keys`) and, sorted by
    relevance, score; where this process found them all, the plan and the scopes too
    (else a page makes its own: :func:`_page_plan`). Found in two processes, they come
    as the halves' rows, merged in order (:func:`_found`), and the keys are made from
    them only when asked for (a page, facets): `search -l` needs the UUIDs alone."""

    def __init__(self, keys: dict | None, scored: dict[int, float] | None,
                 plan: _Plan | None = None, scopes: dict[int, int] | None = None,
                 rows: list[tuple] | None = None):
        self._keys, self.scored, self.plan = keys, scored, plan
        self.scopes = scopes if scopes is not None else {}
        self.rows = rows  # (rank key, received, uuid, document), in order
        self.ranked: list[int] | None = None if rows is None else [r[3] for r in rows]

    @property
    def keys(self) -> dict[int, tuple]:
        if self._keys is None:  # (the halves' rows: received and UUID, what ordering reads)
            self._keys = {d: (received, uuid, 0, "") for _, received, uuid, d in self.rows}
        return self._keys

    def ordered(self) -> list[int]:
        """The matches in order: :func:`index.rank.order` (by relevance) or
        :func:`index.rank.newest_first` (by date: no scores)."""
        if self.ranked is None:
            self.ranked = (order(self.scored, self.keys) if self.scored is not None
                           else newest_first(self.keys, self.keys))
        return self.ranked

    def uuids(self) -> list[str]:
        """The matches' UUIDs, in order."""
        if self.rows is not None:
            return [r[2] for r in self.rows]
        keys = self.keys
        return [keys[d][1] for d in self.ordered()]


def _find(reader, parsed: Parsed, relevance: bool) -> _Found:
    """The matches among the documents ``reader`` reads (all of them, or a half:
    :mod:`index.halves`)."""
    plan, candidates = _evaluate(reader, parsed)
    keys = _keys(reader, candidates, parsed.since, parsed.until)
    found, scopes = _matches(Column(reader, "text"), plan, set(keys))
    keys = {d: keys[d] for d in found}
    scored = _score(reader, plan, keys, found) if relevance else None
    return _Found(keys, scored, plan, scopes)


def _score(reader, plan: _Plan, keys: dict[int, tuple], docs: set[int]) -> dict[int, float]:
    """The scores of ``docs`` (a review's score depends on it alone: a page can be
    scored), with the plan's text items."""
    n = live_count(reader, "kind", "review")
    items = [Item(a.literal, gi, a.grams, a.gram_df, a.atom.field == "topic")
             for gi, g in enumerate(plan.positive) for a in g if a.text]
    return scores(reader, items, docs, n, {d: keys[d][2] for d in docs},
                  {d: keys[d][3] for d in docs})


def _halved(reader, parsed: Parsed) -> bool:
    """Find the matches in two processes (:mod:`index.halves`)? Where a fork may be
    made, for a query of text items alone (``uuid:``, ``ref:`` and ``section:`` look
    things up across the index: they stay whole), when its first group's rarest gram
    is in :data:`index.halves.THRESHOLD` reviews or more (most of them to check)."""
    if not halves.possible() or len(reader.leaves) < 2:
        return False
    if any(a.field not in (None, "topic") for g in parsed.groups for a in g):
        return False
    first = next((g for g in parsed.groups if not g[0].negated), None)
    if first is None:
        return False
    least = min((min((live_count(reader, "g", gram) for gram in Literal(a.value).grams()),
                     default=0) for a in first), default=0)
    return least >= halves.THRESHOLD


def _found(reader, parsed: Parsed, relevance: bool) -> _Found:
    """:func:`_find` over the whole index, or over each half in its own process
    (:func:`_halved`), the halves' rows merged (:func:`index.rank.merged`): no plan (a
    page makes its own), and of each key only what ordering reads (a page reads the
    rest again)."""
    if not _halved(reader, parsed):
        return _find(reader, parsed, relevance)
    first, second = halves.in_two(reader, lambda half: _packed(_find(half, parsed, relevance)))
    first, scored = _unpacked(first)
    second, more = _unpacked(second)
    if scored is not None:
        scored.update(more)
    return _Found(None, scored, rows=merged(first, second))


def _packed(found: _Found) -> tuple:
    """A half's matches, in order (:meth:`_Found.ordered`), as a few long values (a dict
    of 50,000 tuples costs five times as much to send): their numbers, rank keys
    (:func:`index.rank.rank_key`; none by date), received times and UUIDs (joined by
    newlines, which neither holds, or kept as lists if one did), and scores."""
    docs = found.ordered()
    keys, scored = found.keys, found.scored
    columns = []
    for k in (0, 1):
        values = [keys[d][k] for d in docs]
        joined = "\n".join(values)
        columns.append(joined if joined.count("\n") == len(values) - 1 else values)
    if scored is None:
        return array("q", docs).tobytes(), None, *columns, None
    ranks = rank_keys(scored)
    return (array("q", docs).tobytes(), array("q", [ranks[d] for d in docs]).tobytes(),
            *columns, array("d", [scored[d] for d in docs]).tobytes())


def _unpacked(packed: tuple) -> tuple[list[tuple], dict | None]:
    """:func:`_packed`'s values as rows ``(rank key, received, uuid, document)`` in the
    half's order (rank keys 0 by date), and scores by document."""
    docs, ranks, received, uuids, scores = packed
    docs = _numbers("q", docs)
    received, uuids = (c.split("\n") if isinstance(c, str) else c for c in (received, uuids))
    if not docs:
        return [], None if scores is None else {}
    rows = list(zip(_numbers("q", ranks) if ranks is not None else [0] * len(docs),
                    received, uuids, docs))
    return rows, None if scores is None else dict(zip(docs, _numbers("d", scores)))


def _numbers(code: str, data: bytes) -> array:
    out = array(code)
    out.frombytes(data)
    return out


def _page_plan(reader, parsed: Parsed, found: _Found, page: list[int]
               ) -> tuple[_Plan, dict[int, int], dict[int, tuple]]:
    """The plan, scopes and keys of the page's reviews: the ones the matches were found
    with, or, where the matches came from two processes, a plan made for the page alone
    and its keys read whole again."""
    if found.plan is not None:
        return found.plan, found.scopes, found.keys
    plan, _ = _evaluate(reader, parsed, among=set(page))
    return plan, {}, _keys(reader, set(page), None, None)


def _run(index_dir: Path, text: str, parsed: Parsed, limit, offset, per_review: int,
         ids_only: bool, sort: str, dates: tuple | None) -> SearchResult:
    with open_reader(index_dir) as reader:
        if not reader.doc_count():
            return SearchResult(text, 0, offset=offset, limit=limit, empty=True, sort=sort,
                                facets=Facets() if dates is not None else None)
        found = _found(reader, parsed, sort == "relevance")
        scored = found.scored  # (by date: no scores but the page's)
        ranked = found.ordered()
        result = SearchResult(text, len(ranked), offset=offset, limit=limit, sort=sort)
        if dates is not None:  # (the topics: read for the facets alone)
            keys = found.keys
            topics = Column(reader, "facet").many(keys)
            result.facets = count_facets(((topics[d].decode("utf-8"), keys[d][0]) for d in keys), *dates)
        if ids_only:
            result.uuids = found.uuids()
            return result
        page = ranked[offset:offset + limit] if limit is not None else ranked[offset:]
        plan, scopes, keys = _page_plan(reader, parsed, found, page)
        scored = scored if scored is not None else _score(reader, plan, keys, set(page))
        column = Column(reader, "text")
        for d in page:
            fields = reader.stored_fields(d)
            text_ = StoredText(fields, column[d])
            count, sections = _sections(plan, d, text_, scopes.get(d), per_review,
                                        starts_of(keys[d][3]))
            result.reviews.append(ReviewHit(fields["uuid"], fields["topic"], fields["received"],
                                            count, round(scored[d], 4), sections))
    return result


def search(index_dir: str | Path, query: str, *, since: str | None = None,
           until: str | None = None, limit: int | None = 20, offset: int = 0,
           per_review: int = 3, ids_only: bool = False, sort: str = "relevance",
           facets: bool = False) -> SearchResult:
    """Run a query (see :mod:`index.query` for the syntax); raises ``QueryError``.
    ``ids_only``: no sections, just :attr:`SearchResult.uuids`, every match in order.
    ``sort``: ``relevance`` (:func:`index.rank.order`) or ``date`` (newest received
    first, then by UUID). ``facets``: :attr:`SearchResult.facets`, counted over every
    match (:mod:`index.facets`).

    Only reads: an index that is missing or unreadable raises
    :class:`~index.problems.IndexMissing` or :class:`~index.problems.IndexDamaged`
    (the command's :func:`index.ready.ensure_index` decides what to do about it)."""
    parsed, dates = prepare(query, since, until, limit, offset, sort, facets)
    return _run(Path(index_dir), query, parsed, limit, offset, per_review, ids_only, sort, dates)


def prepare(query: str, since, until, limit, offset, sort: str, facets: bool
            ) -> tuple[Parsed, tuple | None]:
    """The parsed query (raises ``QueryError`` before any index is read) and, when
    facets are asked for, the dates the query text names (a month's refinement stays
    within them: :func:`index.facets.month_refinement`); checks the other arguments.
    Both engines start here."""
    parsed = parse(query)
    dates = (parsed.since, parsed.until) if facets else None
    parsed.with_dates(since, until)
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError("limit and offset must not be negative")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    return parsed, dates
