"""Facets of a search: how many of its matches stand in each topic and each month received,
and the query items that narrow the search to exactly one of them.

Counted over *every* match, never a page and never an engine's estimate: the embedded
engine (:mod:`index.search`) and the cluster's (:mod:`index.cluster_search`) hand this
module the topic and received time of each review of their exact match set, so both
count the same numbers, and the site's engine (``static/search-facets.js``) counts the
same way over its own exact set. ``reviews search --facets`` prints them.

A facet is worth clicking only if the search it leads to finds as many reviews as it
counts, so each carries its *refinement*, items of the query language (``index/spec.json``)
added to the query:

* a month: ``since:YYYY-MM-01 until:YYYY-MM-<last day>``, clipped to the dates the query
  text names already (a query's later ``since:`` replaces an earlier one, so the items
  added must be the narrower ones);
* a topic: ``topic:"T"``. ``topic:`` finds the topics that *hold* ``T``, so each other
  topic among the matches that holds it is excluded again, ``-topic:"X"``. When that
  cannot be said (an ``X`` that ``T`` holds as well, e.g. topics that differ only in
  case; a topic with a quotation mark or nothing searchable) the facet has no refinement
  (None): its count is still exact, the page shows it without a link.

Order: topics by count, then by topic (code points); months newest first.
"""
from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from index.analysis import CJK_RANGES, fold
from index.literal import Literal, grams
from index.query import QueryError, parse, strip
from index.spec import spec


@dataclass
class Facet:
    value: str  # a topic ("" for a review without one) or a month, "YYYY-MM"
    count: int
    refine: str | None = None  # the query items that keep exactly these matches


@dataclass
class Facets:
    topics: list[Facet] = field(default_factory=list)
    months: list[Facet] = field(default_factory=list)
    since: str | None = None  # the dates the query text names (the months' refinements)
    until: str | None = None
    refined: bool = field(default=False, repr=False, compare=False)

    def refine(self) -> "Facets":
        """Fill in every facet's refinement (once): the topics' cost ~0.15 s for the
        5,575 topics of a common word at 10k reviews, which a count on a terminal does
        without (``--json`` gives them)."""
        if not self.refined:
            held = holders([f.value for f in self.topics])
            for f in self.topics:
                f.refine = topic_refinement(f.value, held[f.value])
            for f in self.months:
                f.refine = month_refinement(f.value, self.since, self.until)
            self.refined = True
        return self

    def to_dict(self) -> dict:
        self.refine()
        return {"topics": [asdict(f) for f in self.topics], "months": [asdict(f) for f in self.months]}


def facets(rows: Iterable[tuple[str, str]], since: str | None = None,
           until: str | None = None) -> Facets:
    """The facets of a match set, counted (:meth:`Facets.refine` adds the refinements):
    ``rows`` holds ``(topic, received_at)`` of every match; ``since``/``until`` are the
    dates the query text itself names."""
    topics: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for topic, received in rows:
        topics[topic] += 1
        months[received[:7]] += 1
    return Facets([Facet(t, topics[t]) for t in sorted(topics, key=lambda t: (-topics[t], t))],
                  [Facet(m, months[m]) for m in sorted(months, reverse=True)], since, until)


def holders(topics: list[str]) -> dict[str, list[str]]:
    """For each topic, the other topics of the list that ``topic:"it"`` finds too
    (sorted). :meth:`index.literal.Literal.occurs` decides, for the few candidates that
    hold every *probe* of the topic: its adjacent CJK pairs and its ASCII letter-digit
    runs, which every text the literal occurs in holds as they are (so 5,575 topics
    take milliseconds, not the seconds of a literal each). The site build lists them for
    every topic of the archive (:mod:`publish.searchdata`)."""
    folded = {t: fold(t) for t in topics}
    pairs = {t: {f[i:i + 2] for i in range(len(f) - 1)} for t, f in folded.items()}
    by_pair: dict[str, list[str]] = defaultdict(list)
    for t, ps in pairs.items():
        for p in ps:
            by_pair[p].append(t)
    out: dict[str, list[str]] = {}
    for t in topics:
        probes = _probes(folded[t])
        cands = min((by_pair.get(p, ()) for p in probes), key=len) if probes else topics
        if len(cands) < 2 and probes:
            out[t] = []
            continue
        ft = folded[t]
        runs = _cjk_run().findall(ft)
        if len(runs) == 1 and runs[0] == ft:  # an unspaced Chinese string: a substring
            out[t] = sorted(x for x in cands if x != t and ft in folded[x])
            continue
        # (each run of ideographs stands in a match as it is; the rest is the literal's
        # to decide, whose pattern costs ~8 ms to compile: only for what is left)
        cands = [x for x in cands if x != t and probes <= pairs[x]
                 and all(r in folded[x] for r in runs)]
        lit = Literal(t) if cands else None
        out[t] = sorted(x for x in cands if lit and lit.occurs(folded[x]))
    return out


@functools.cache
def _probe_pattern() -> re.Pattern:  # (the CJK class: compiled when first needed)
    return re.compile(f"(?=([{CJK_RANGES}]{{2}}|[a-z0-9]{{2}}))")


@functools.cache
def _cjk_run() -> re.Pattern:
    return re.compile(f"[{CJK_RANGES}]+")


def _probes(folded: str) -> set[str]:
    """Two-character strings that every text holding this (folded) literal holds:
    adjacent CJK characters stay adjacent, and an ASCII letter-digit run stands inside
    one word, which a match holds as it is (:mod:`index.literal`)."""
    return set(_probe_pattern().findall(folded))


#: What opens or closes a quoted item (``index/spec.json``): a topic holding one cannot
#: be quoted.
_QUOTES = frozenset(spec()["query"]["quotes"]) | frozenset(spec()["query"]["quotes"].values())


def quoted_topic(topic: str) -> str | None:
    """``topic:"T"``, if the query language reads it back as exactly that topic item.
    The usual topic (no quotation mark, a letter or digit: some token to search) is
    settled without parsing it; anything else is parsed."""
    item = f'topic:"{topic}"'
    norm = unicodedata.normalize("NFKC", topic)
    if _QUOTES.isdisjoint(norm) and norm == strip(norm) and any(c.isalnum() for c in norm):
        return item
    try:
        groups = parse(item).groups
    except QueryError:
        return None
    ok = len(groups) == 1 and len(groups[0]) == 1 and groups[0][0].value == strip(norm)
    return item if ok else None


def topic_refinement(topic: str, others: list[str]) -> str | None:
    """The items that keep, of a search's matches, those of ``topic`` alone (``others``:
    the other matched topics that ``topic:"it"`` finds too); None when none can."""
    item = quoted_topic(topic)
    if item is None:
        return None
    folded = fold(topic)
    out = [item]
    for x in others:
        excluded = quoted_topic(x)
        if excluded is None or Literal(x).occurs(folded):
            return None
        out.append("-" + excluded)
    return " ".join(out)


def month_refinement(month: str, since: str | None, until: str | None) -> str:
    """``since:… until:…`` of a month, ``YYYY-MM``, within the query's own dates."""
    year, mon = int(month[:4]), int(month[5:7])
    first = f"{month}-01"
    last = f"{month}-{calendar.monthrange(year, mon)[1]:02d}"
    if since and since > first:
        first = since
    if until and until < last:
        last = until
    return f"since:{first} until:{last}"
