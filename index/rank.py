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


_SHORT = 4  # bytes: an encoded part map this short is one of few, and seen again
_SHORT_MAPS: dict[bytes, int] = {}  # the short encoded maps decoded so far
_KEPT = 1 << 16  # (emptied at this many: a long-lived server stays bounded)


def part_map_of(value: bytes) -> int:
    """:func:`~index.encoding.decode_parts`, the maps of short values kept: a gram's
    maps are mostly distinct where they are long, but a few dozen over 100,000 reviews
    where they are short (``来研``, ``政策``), and the hot loops of a search decode one
    per candidate."""
    if len(value) > _SHORT:
        return decode_parts(value)
    m = _SHORT_MAPS.get(value)
    if m is None:
        if len(_SHORT_MAPS) >= _KEPT:
            _SHORT_MAPS.clear()
        m = _SHORT_MAPS[value] = decode_parts(value)
    return m


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
            m = self.decoded[d] = part_map_of(v)
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
    the key column writes them: :func:`starts_of`).

    A document's score is a sum taken in one order (each item's words, then its topic
    boost, then its title boost; the meeting last), which the site's client takes too:
    the same doubles on both sides. Each step runs over the documents it concerns as
    one comprehension or set operation (a query in most reviews scores 100,000 of them)."""
    total = dict.fromkeys(docs, 0.0)
    meets: dict[int, dict[int, int]] = {}  # group -> doc -> chapters holding an item
    listed = lambda w: has_term(reader, "w", w)  # noqa: E731
    several = len({i.group for i in items}) > 1  # two or more AND-ed items: may they meet?
    norm: dict[int, float] | None = None  # per document: K1 * (1 - B + B * dl / AVGDL)
    chapter_masks: dict[int, tuple[int, ...]] = {}  # per document, once
    for item in items:
        for x in query_words(item.literal, listed):
            df = live_count(reader, "w", x)
            # (a word in many more reviews than are scored: its postings of those alone)
            weights = (doc_weights_among(reader, "w", x, total) if 8 * len(total) < df
                       else doc_weights(reader, "w", x))
            if norm is None:
                norm = _norms(docs, lengths)
            _add_words(total, norm, weights, idf(n, df))
        gi = idf(n, item.gram_df)
        topic_boost, title_boost = gi * TOPIC_BOOST, gi * TITLE_BOOST
        topic, titles = _fields(item.grams, total, TOPIC if item.topic_only else -1,
                                not item.topic_only)
        for d in topic:
            total[d] += topic_boost
        for d in titles:
            total[d] += title_boost
        group = meets.setdefault(item.group, {})  # (a group of topic: items alone never meets)
        if several and not item.topic_only:  # the chapters where every gram stands
            _meet(group, item.grams, total, chapter_masks, starts)
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


def _norms(docs, lengths: dict[int, int]) -> dict[int, float]:
    """``K1 * (1 - B + B * dl / AVGDL)`` of each document, ``dl`` its length's code
    (:func:`dl_code`): computed once per distinct word count."""
    per_count: dict[int, float] = {}
    for words in set(lengths[d] for d in docs):
        dl = DL_TABLE[dl_code(words)] or 1
        per_count[words] = K1 * (1 - B + B * dl / AVGDL)
    return {d: per_count[lengths[d]] for d in docs}


def _add_words(total: dict[int, float], norm: dict[int, float], weights: dict[int, float],
               wi: float) -> None:
    """Add one word's BM25 share, ``wi * tf * (K1 + 1) / (tf + k)``, to each document
    of ``total`` holding it (the smaller of the two mappings walked)."""
    k1 = K1 + 1
    if len(weights) > len(total):
        for d, k in norm.items():
            tf = weights.get(d)
            if tf is not None:
                total[d] += wi * tf * k1 / (tf + k)
    else:
        for d, tf in weights.items():
            k = norm.get(d)
            if k is not None:
                total[d] += wi * tf * k1 / (tf + k)


def _fields(grams: list[GramMaps], total: dict[int, float], only: int, titles: bool
            ) -> tuple[set[int], set[int]]:
    """The documents of ``total`` where every gram stands in the topic (each gram's map
    ``& only`` holds the topic bit), and those where every gram stands in some title
    (``titles``: else none). One pass per gram over the smaller of its postings and
    ``total``, each map decoded once (into :class:`GramMaps`, by :func:`part_map_of`)."""
    if not grams:  # (no gram: nothing to fail, as for a map that holds every part)
        return set(total), set(total) if titles else set()
    topic: set[int] | None = None
    title: set[int] | None = None
    odd, fixed = _ODD_FIXED, _FIXED_BITS
    for g in grams:
        decoded, raw = g.decoded, g.raw
        known, held = decoded.get, raw.get
        t_docs, h_docs = [], []
        for d in (total if len(total) <= len(raw) else raw):
            m = known(d)
            if m is None:
                v = held(d)
                if v is None or d not in total:
                    continue
                m = decoded[d] = part_map_of(v)
            elif d not in total:
                continue
            m &= only
            if m & TOPIC:
                t_docs.append(d)
            if titles and m & (odd if m.bit_length() <= fixed else odd_bits(m.bit_length())):
                h_docs.append(d)
        topic = set(t_docs) if topic is None else topic.intersection(t_docs)
        title = set(h_docs) if title is None else title.intersection(h_docs)
    return topic, title


def _meet(group: dict[int, int], grams: list[GramMaps], total: dict[int, float],
          masks: dict[int, tuple[int, ...]], starts: dict[int, str]) -> None:
    """Record, per document of ``total`` holding every gram, the chapters where every
    gram stands (ORed into ``group``: the chapters holding some item of the group);
    ``masks``: each document's chapter masks, kept from one item to the next."""
    gets = [g.get for g in grams]
    for d in total:
        maps = [get(d) for get in gets]
        if not all(maps):
            continue
        chapter = masks.get(d)
        if chapter is None:
            chapter = masks[d] = _chapter_masks(starts_of(starts[d]))
        held, bit = 0, 1
        for mask in chapter:
            for m in maps:
                if not m & mask:
                    break
            else:
                held |= bit
            bit <<= 1
        group[d] = group.get(d, 0) | held


def rank_key(score: float) -> int:
    """The score as ordering sees it: ``floor(score * scale + 0.5)``, the same integer
    in Python and JavaScript for the same double."""
    return math.floor(score * SCALE + 0.5)


def rank_keys(scored: dict[int, float]) -> dict[int, int]:
    """:func:`rank_key` of each document's score (its formula inlined: a query in most
    reviews has 100,000 of them)."""
    floor, scale = math.floor, SCALE
    return {d: floor(s * scale + 0.5) for d, s in scored.items()}


def order(scored: dict[int, float], keys: dict[int, tuple]) -> list[int]:
    """Documents by :func:`rank_key`, then newest ``received`` first, then UUID
    (``keys``: ``(received, uuid, ...)``): the date order (:func:`newest_first`), then
    one stable sort by rank key. Every sort takes its keys from a dict made once (a
    query in most reviews orders 100,000, and most of them tie on a few scores)."""
    out = newest_first(scored, keys)
    out.sort(key=rank_keys(scored).__getitem__, reverse=True)  # (stable: ties keep the date order)
    return out


def newest_first(docs, keys: dict[int, tuple]) -> list[int]:
    """Documents newest ``received`` first, then by UUID (``keys``: ``(received, uuid,
    ...)``): the tie-break of :func:`order`, and the whole order of ``search --sort
    date`` (the site's ``l.js`` ships each review's place in it)."""
    uuid = {d: keys[d][1] for d in docs}
    out = sorted(uuid, key=uuid.__getitem__)
    received = {d: keys[d][0] for d in out}
    out.sort(key=received.__getitem__, reverse=True)
    return out


def merged(first: list[tuple], second: list[tuple]) -> list[tuple]:
    """Two lists of rows ``(rank key, received, uuid, ...)``, each in :func:`order`'s
    order (by date, :func:`newest_first`: every rank key 0), as one in that order: the
    halves of a search found in two processes (:mod:`index.halves`), each ordered
    there, merged here in one pass instead of ordered again."""
    out: list[tuple] = []
    i, j, n, m = 0, 0, len(first), len(second)
    while i < n and j < m:
        x, y = first[i], second[j]
        if x[0] != y[0]:
            x_first = x[0] > y[0]
        else:
            x_first = x[1] > y[1] or (x[1] == y[1] and x[2] < y[2])
        if x_first:
            out.append(x)
            i += 1
        else:
            out.append(y)
            j += 1
    return out + first[i:] + second[j:]
