"""Ranking of matching reviews: BM25 over jieba words, field boosts, chapter meetings.

The score of a review is the sum, over the query's positive text items (unprefixed
items and ``topic:`` items; fields such as ``uuid:`` or ``ref:`` only filter), of

* **BM25 over the item's jieba words**: the item's CJK runs are cut by forward maximum
  matching against the index's own word list (the longest listed word first, at most
  :data:`MAX_WORD` characters), its Latin words by their parts; for each word ``x``
  ``idf(x) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / AVGDL))``, with
  ``idf(x) = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf`` the word's count in the
  review, ``dl`` the review's word count, ``N`` the number of reviews and ``df`` the
  number holding ``x``;
* **field boosts**: ``idf`` of the item's rarest gram times :data:`TOPIC_BOOST` when
  the topic may hold the item (it holds all its grams), plus :data:`TITLE_BOOST` when
  one title may;

and the sum is raised by :data:`MEET_BOOST` of itself when the query has two or more
AND-ed items and one section (its title and body) holds every one of them, as far as
the part maps of their grams tell (:mod:`index.document`). Reviews are ordered by
score (rounded to 6 decimals), then newest received first, then by UUID, so the order
is total and the same however the index was built.

``AVGDL`` is a fixed reference length, not the archive's mean: the score of a review
then depends only on the review and the document frequencies, which are counted over
live documents (:mod:`index.postings`), so an index updated in place ranks exactly as a
rebuilt one.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.document import TOPIC
from index.literal import Literal
from index.postings import doc_weights, has_term
from index.schema import B, K1, MEET_BOOST, TITLE_BOOST, TOPIC_BOOST

MAX_WORD = 8
AVGDL = 3000.0


def idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def query_words(lit: Literal, listed) -> list[str]:
    """The words of a literal that the index lists (``listed(word) -> bool``)."""
    out: list[str] = []
    runs, latin, toks = [], [], lit.tokens
    for k, t in enumerate(toks):
        if t.kind == "word":
            latin.extend(p for p in re.split(r"[-._/]", t.text) if len(p) > 1)
        elif k and toks[k - 1].kind == "cjk" and toks[k - 1].nend == t.nstart:
            runs[-1] += t.text
        else:
            runs.append(t.text)
    for run in runs:
        i = 0
        while i < len(run):
            for j in range(min(len(run), i + MAX_WORD), i + 1, -1):
                if listed(run[i:j]):
                    out.append(run[i:j])
                    i = j
                    break
            else:
                i += 1
    out += [w for w in latin if listed(w)]
    return list(dict.fromkeys(out))


@dataclass
class Item:
    """One positive text item as ranking sees it: the part maps its grams allow per
    candidate review (:mod:`index.document`), and the rarest gram's document count."""

    literal: Literal
    group: int  # the AND group it belongs to (items of one OR share it)
    maps: dict[int, int]
    gram_df: int
    topic_only: bool = False


_ODD: list[int] = [0]


def odd_bits(nbits: int) -> int:
    """A mask of bits 1, 3, 5, ... covering ``nbits`` bits: the title parts."""
    while _ODD[0].bit_length() < nbits:
        size = max(64, 2 * _ODD[0].bit_length())
        _ODD[0] = int("10" * (size // 2), 2)
    return _ODD[0]


def units_of(parts: int) -> int:
    """A part map as a unit map: bit ``2i`` set when unit ``i``'s title or body is."""
    u = parts >> 1
    return (u | (u >> 1)) & (odd_bits(u.bit_length() + 2) >> 1)


def scores(reader, items: list[Item], docs: set[int], n: int,
           lengths: dict[int, int]) -> dict[int, float]:
    """Score every document in ``docs``; ``n`` is the number of live reviews,
    ``lengths`` each document's word count."""
    total = dict.fromkeys(docs, 0.0)
    meets: dict[int, dict[int, int]] = {}  # group -> doc -> units that may hold an item
    listed = lambda w: has_term(reader, "w", w)  # noqa: E731
    several = len({i.group for i in items}) > 1  # two or more AND-ed items: may they meet?
    for item in items:
        for x in query_words(item.literal, listed):
            weights = doc_weights(reader, "w", x)
            wi = idf(n, len(weights))
            for d, tf in weights.items():
                if d in total:
                    dl = lengths[d] or 1
                    total[d] += wi * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / AVGDL))
        gi = idf(n, item.gram_df)
        group = meets.setdefault(item.group, {})
        titles = 0
        for d, parts in item.maps.items():
            if d not in total or not parts:
                continue
            if parts & TOPIC:
                total[d] += gi * TOPIC_BOOST
            if not item.topic_only:
                if parts.bit_length() > titles.bit_length():
                    titles = odd_bits(parts.bit_length())
                if parts & titles:
                    total[d] += gi * TITLE_BOOST
            if several:
                group[d] = group.get(d, 0) | units_of(parts)
    if len(meets) > 1:
        groups = list(meets.values())
        for d in docs:
            meet = -1
            for g in groups:
                meet &= g.get(d, 0)
                if not meet:
                    break
            if meet:
                total[d] *= 1 + MEET_BOOST
    return total


def order(scored: dict[int, float], keys: dict[int, tuple[str, str, int]]) -> list[int]:
    """Documents by score (6 decimals), then newest ``received`` first, then UUID
    (``keys``: ``(received, uuid, words)``)."""
    docs = sorted(scored, key=lambda d: keys[d][1])
    docs.sort(key=lambda d: keys[d][0], reverse=True)
    docs.sort(key=lambda d: -round(scored[d], 6))
    return docs
