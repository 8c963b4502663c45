"""Ranking of matching reviews: BM25 over jieba words, field boosts, chapter meetings.

Defined once, with its parameters, in ``index/spec.json`` (``ranking``); the site's
client (``static/search-rank.js``) computes the same scores from the same statistics, so
its first page equals ``reviews search --limit 10``. The score of a review is the
sum, over the query's positive text items (unprefixed items and ``topic:`` items;
fields such as ``uuid:`` or ``ref:`` only filter), in query order, of

* **BM25 over the item's jieba words**: the item's CJK runs are cut by forward maximum
  matching against the index's own word list (the longest listed word first, at most
  ``max_word`` characters), its Latin words by their parts (of ``min_latin_word``
  characters or more); for each word ``x``, in that order,
  ``idf(x) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / AVGDL))``, with
  ``idf(x) = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf`` the word's count in the
  review, ``dl`` the review's word count as one byte keeps it (:func:`dl_code`: the
  largest ``dl_table`` entry not above it, 6% steps), ``N`` the number of reviews and
  ``df`` the number holding ``x``;
* **field boosts**: ``idf`` of the item's rarest gram (``df`` = the reviews holding
  it) times ``topic_boost`` when the topic holds every gram of the item, plus
  ``title_boost`` when every gram stands in some title (the review's title or a
  section's; not for ``topic:`` items);

and the sum is raised by ``meet_boost`` of itself when the query has two or more
AND-ed groups of text items and one *chapter* (:func:`index.units.chapter_starts`)
holds every gram of an item of each group. What a gram tells per review is its
*summary*: topic, some title, the chapters holding it (:func:`summary`), which is all
the site ships. Reviews are ordered by ``floor(score * scale + 0.5)`` (``scale`` =
10^6; computed alike in IEEE doubles on both sides), then newest received first, then
by UUID, so the order is total and the same however the index was built.

``AVGDL`` is a fixed reference length, not the archive's mean: the score of a review
then depends only on the review and the document frequencies, which are counted over
live documents (:mod:`index.postings`), so an index updated in place ranks exactly as a
rebuilt one.
"""
from __future__ import annotations

import bisect
import functools
import math
import re
from dataclasses import dataclass

from index.encoding import decode_parts
from index.texts import TOPIC
from index.literal import Literal
from index.postings import doc_weights, doc_weights_among, has_term, live_count
from index.spec import spec

#: BM25 parameters and the field boosts of ranking, from the search language's one
#: definition (``index/spec.json``, which the site reads too).
_R = spec()["ranking"]
K1: float = _R["k1"]
B: float = _R["b"]
TOPIC_BOOST: float = _R["topic_boost"]  # a query item in the review's topic
TITLE_BOOST: float = _R["title_boost"]  # a query item in the review's title or section titles
MEET_BOOST: float = _R["meet_boost"]  # extra share of the score when the items meet in a chapter

DL_TABLE: list[int] = spec()["ranking"]["dl_table"]
MAX_WORD: int = spec()["ranking"]["max_word"]
MIN_LATIN: int = spec()["ranking"]["min_latin_word"]
AVGDL: float = spec()["ranking"]["avgdl"]
SCALE: int = spec()["ranking"]["scale"]


def dl_code(words: int) -> int:
    """The one-byte code of a review's word count: the largest ``DL_TABLE`` entry not
    above it (the site ships the code; both sides score with ``DL_TABLE[code]``)."""
    return max(0, bisect.bisect_right(DL_TABLE, words) - 1)


def idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def query_words(lit: Literal, listed) -> list[str]:
    """The words of a literal that the index lists (``listed(word) -> bool``)."""
    out: list[str] = []
    runs, latin, toks = [], [], lit.tokens
    for k, t in enumerate(toks):
        if t.kind == "word":
            latin.extend(p for p in re.split(r"[-._/]", t.text) if len(p) >= MIN_LATIN)
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
    """One positive text item as ranking sees it: per gram, the part map of each
    candidate review (:mod:`index.document`), and the rarest gram's document count."""

    literal: Literal
    group: int  # the AND group it belongs to (items of one OR share it)
    grams: list["GramMaps"]  # per gram: document -> part map
    gram_df: int
    topic_only: bool = False


class GramMaps:
    """One gram's part maps: the posting's encoded values, decoded on first use. Reads
    as a mapping of its documents to their part maps (``get``, ``in``, iteration)."""

    __slots__ = ("raw", "decoded")

    def __init__(self, raw: dict[int, bytes]):
        self.raw = raw
        self.decoded: dict[int, int] = {}

    def get(self, d: int, default: int = 0) -> int:
        m = self.decoded.get(d)
        if m is None:
            v = self.raw.get(d)
            if v is None:
                return default
            m = self.decoded[d] = decode_parts(v)
        return m

    def __contains__(self, d: int) -> bool:
        return d in self.raw

    def __iter__(self):
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def part_maps(grams: list[GramMaps], d: int, only: int = -1) -> list[int]:
    """Document ``d``'s part map of each gram (0 where it lacks one), ``& only``."""
    return [g.get(d) & only for g in grams]


_ODD: list[int] = [0]


def odd_bits(nbits: int) -> int:
    """A mask of bits 1, 3, 5, ... covering ``nbits`` bits: the title parts."""
    while _ODD[0].bit_length() < nbits:
        size = max(64, 2 * _ODD[0].bit_length())
        _ODD[0] = int("10" * (size // 2), 2)
    return _ODD[0]


_FIXED_BITS = 4096
_ODD_FIXED = odd_bits(_FIXED_BITS)  # the title bits of any review of up to 2,047 units


@functools.lru_cache(maxsize=4096)
def _chapter_masks(starts: tuple[int, ...]) -> tuple[int, ...]:
    """Per chapter, the part map of its units (titles and bodies)."""
    out = []
    for c, s in enumerate(starts):
        e = starts[c + 1] if c + 1 < len(starts) else 1 << 12  # (units)
        out.append(((1 << (2 * e + 1)) - 1) ^ ((1 << (1 + 2 * s)) - 1))
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def starts_of(written: str) -> tuple[int, ...]:
    """Chapter starts as the index's key column writes them (``"0,1,5,9"``)."""
    return tuple(int(s) for s in written.split(","))


def chapters(parts: int, starts: tuple[int, ...]) -> int:
    """The chapter map (bit ``c``: chapter ``c`` holds a part of ``parts``)."""
    out = 0
    for c, mask in enumerate(_chapter_masks(starts)):
        if parts & mask:
            out |= 1 << c
    return out


def summary(parts: int, starts: tuple[int, ...]) -> int:
    """What the site knows of a gram in a review: bit 0 the topic holds it, bit 1 some
    title does, bit ``2 + c`` chapter ``c`` does."""
    return (parts & 1) | (2 if parts & odd_bits(parts.bit_length()) else 0) | (
        chapters(parts, starts) << 2)


def scores(reader, items: list[Item], docs: set[int], n: int,
           lengths: dict[int, int], starts: dict[int, str]) -> dict[int, float]:
    """Score every document in ``docs``; ``n`` is the number of live reviews,
    ``lengths`` each document's word count, ``starts`` its chapters' first units (as
    the key column writes them: :func:`starts_of`)."""
    total = dict.fromkeys(docs, 0.0)
    meets: dict[int, dict[int, int]] = {}  # group -> doc -> chapters holding an item
    listed = lambda w: has_term(reader, "w", w)  # noqa: E731
    several = len({i.group for i in items}) > 1  # two or more AND-ed items: may they meet?
    norm: dict[int, float] = {}  # per document: K1 * (1 - B + B * dl / AVGDL), once
    codes: dict[int, float] = {}  # per word count: DL_TABLE[dl_code(words)] or 1
    chapter_masks: dict[int, tuple[int, ...]] = {}  # per document, once
    for item in items:
        for x in query_words(item.literal, listed):
            df = live_count(reader, "w", x)
            # (a word in many more reviews than are scored: its postings of those alone)
            weights = (doc_weights_among(reader, "w", x, total) if 8 * len(total) < df
                       else doc_weights(reader, "w", x))
            wi = idf(n, df)
            mine = (((d, weights[d]) for d in total if d in weights) if len(weights) > len(total)
                    else ((d, tf) for d, tf in weights.items() if d in total))
            for d, tf in mine:
                k = norm.get(d)
                if k is None:
                    words = lengths[d]
                    dl = codes.get(words)
                    if dl is None:
                        dl = codes[words] = DL_TABLE[dl_code(words)] or 1
                    k = norm[d] = K1 * (1 - B + B * dl / AVGDL)
                total[d] += wi * tf * (K1 + 1) / (tf + k)
        gi = idf(n, item.gram_df)
        topic_boost, title_boost = gi * TOPIC_BOOST, gi * TITLE_BOOST
        group = meets.setdefault(item.group, {})
        titles = _ODD_FIXED
        gets = [g.get for g in item.grams]
        only = TOPIC if item.topic_only else -1
        meet = several and not item.topic_only
        if len(gets) == 1 and not meet:  # (one gram, no meeting: the loop below, simpler)
            _one_gram(total, gets[0], only, topic_boost, None if item.topic_only else title_boost)
            continue
        for d in total:
            maps = [get(d) & only for get in gets]
            if not all(maps):
                continue
            common = -1  # the bits every gram's map holds (a topic bit common to all)
            for m in maps:
                common &= m
            if common & TOPIC:
                total[d] += topic_boost
            if not item.topic_only and all(
                    m & (titles if m.bit_length() <= _FIXED_BITS else odd_bits(m.bit_length()))
                    for m in maps):
                total[d] += title_boost
            if meet:  # the chapters where every gram stands
                masks = chapter_masks.get(d)
                if masks is None:
                    masks = chapter_masks[d] = _chapter_masks(starts_of(starts[d]))
                held, bit = 0, 1
                for mask in masks:
                    for m in maps:
                        if not m & mask:
                            break
                    else:
                        held |= bit
                    bit <<= 1
                group[d] = group.get(d, 0) | held
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


def _one_gram(total: dict[int, float], get, only: int, topic_boost: float,
              title_boost: float | None) -> None:
    """The field boosts of an item of one gram (what :func:`scores` adds, in its order)."""
    titles = _ODD_FIXED
    for d in total:
        m = get(d) & only
        if not m:
            continue
        if m & TOPIC:
            total[d] += topic_boost
        if title_boost is not None and m & (
                titles if m.bit_length() <= _FIXED_BITS else odd_bits(m.bit_length())):
            total[d] += title_boost


def rank_key(score: float) -> int:
    """The score as ordering sees it: ``floor(score * scale + 0.5)``, the same integer
    in Python and JavaScript for the same double."""
    return math.floor(score * SCALE + 0.5)


def order(scored: dict[int, float], keys: dict[int, tuple]) -> list[int]:
    """Documents by :func:`rank_key`, then newest ``received`` first, then UUID
    (``keys``: ``(received, uuid, ...)``). Sorted by rank key alone, then each run of
    equal keys by the tie-breaks (most runs are one document long)."""
    rk = {d: rank_key(s) for d, s in scored.items()}
    docs = sorted(rk, key=rk.__getitem__, reverse=True)
    out: list[int] = []
    i, n = 0, len(docs)
    while i < n:
        k, j = rk[docs[i]], i + 1
        while j < n and rk[docs[j]] == k:
            j += 1
        if j - i == 1:
            out.append(docs[i])
        else:
            out.extend(newest_first(docs[i:j], keys))
        i = j
    return out


def newest_first(docs, keys: dict[int, tuple]) -> list[int]:
    """Documents newest ``received`` first, then by UUID (``keys``: ``(received, uuid,
    ...)``): the tie-break of :func:`order`, and the whole order of ``search --sort
    date`` (the site's ``l.js`` ships each review's place in it)."""
    out = sorted(docs, key=lambda d: keys[d][1])
    out.sort(key=lambda d: keys[d][0], reverse=True)
    return out
