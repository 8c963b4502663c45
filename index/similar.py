"""Related reviews ("more like this"): the reviews most like a given one, and why.

``similar(store, index_dir, uuid)`` answers for one review (``reviews similar``);
``related_all(store, index_dir)`` for every review at once (the site's pages). Both run
one scoring function (:func:`_rank`) over the same numbers, so a review's list is the
same from either (``tests/test_similar.py`` checks it).

**The evidence.** Two kinds of *features*, each with a weight in each review:

* *words*: the jieba words of the content, which the index keeps per review with their
  counts (field ``w``: :mod:`index.document`). The weight of word ``t`` in review ``d``
  is TF-IDF, ``idf(t) * x``, with ``x = tf / (1 - B + B * dl / AVGDL)`` the count
  normalised by length as :mod:`index.rank` normalises it for BM25 (its ``B``, fixed
  ``AVGDL``, ``dl`` as the one-byte code), but *not* saturated: BM25's saturation, right
  for ranking a short query, flattens a review's word counts (with ``K1`` = 1.2 a word
  said 10 times weighs less than twice one said once), and how often a review uses a word is
  what tells its topic from its field. Only *distinctive* words count: held by
  2 reviews or more and by at most :data:`MAX_SHARE` of them (a word in more than a
  fifth of the archive is a theme of the archive, not of a review: ``研究``, ``方法``),
  and with a letter or an ideograph (a number shared by two reviews is mostly a
  coincidence of tables, years and sizes, and no reason to show a reader).
* *works*: the references (``refs.ref_id``) the current version lists, anywhere in it.
  Weight of work ``r`` in ``d``: ``idf(r)`` times its one occurrence normalised by the
  length of ``d``'s list as above (:data:`AVG_WORKS` works as the fixed average): a
  work listed by few reviews says more, one item of a 200-item list says less than one
  of a 10-item list. The same :data:`MAX_SHARE` applies. Two reviews that list the same
  works are related however differently they are worded.

**The score** of review ``d`` for review ``q``, per kind: over ``q``'s asking features
``f`` (below) that ``d`` answers to, the sum of ``w_q(f) * min(x_q, x_d) / max(x_q, x_d)``,
divided by the sum of ``w_q(f)`` over all of ``q``'s asking features; ``x`` is the count
normalised by length as BM25 normalises it, ``tf / (1 - B + B * dl / AVGDL)`` (for a
work ``tf`` is 1 and the length is the list's). Each part is in [0, 1]; the words' part
is added as it is, the works' part squared (:data:`REFS_POWER`; :data:`WORDS_WEIGHT`,
:data:`REFS_WEIGHT`): works come from a field's common stock, so two reviews of one field
share a few of them whatever their topics, and counted linearly those few pulled the
field's other topics above a review's own (``tests/test_similar_topics.py``); squared, a
part of 0.2 adds 0.04, while a shared list (1.0) still relates two reviews on its own.
Each part is the share of
``q``'s weight on which ``d`` agrees, a feature counting fully when ``d`` uses it as
much as ``q`` does and less the more the two differ either way, so that a review which
merely uses ``q``'s words more (a long review of the same field) does not outrank
``q``'s near duplicate; a review listing the same works as ``q`` scores 1.0 by them. (A
plain dot product of the weights, with ``q``'s self-score as the unit and no preference
for a review's champion words, puts far fewer planted near duplicates first:
``bench/similar.py``, figures in docs/benchmarks.md.) Reviews are ordered
by ``floor(score * 10^6 + 0.5)``, then uuid; a review is never related to itself; only
reviews sharing something are listed. The reason shown is the number of works both list
and the (up to :data:`SHOWN_TERMS`) words that scored most, a word inside another shown
one left out (jieba's search mode also gives the parts of a long word: ``二氧化碳`` stands
for ``二氧`` and ``二氧化``).

**What keeps it fast.** The site computes a list for every review inside its build and
``reviews similar`` must answer well under a second. Scoring every pair by words is the
sparse product of the review-by-word matrix with itself, ``sum(df^2)`` additions, which
grow with the square of the archive: hours of Python at the benchmark's size. The
textbook remedy is *champion lists* (Manning, Raghavan, Schuetze, *Introduction to
Information Retrieval*, 7.1.3): a word answers only with its :data:`CHAMPIONS`
champions, the reviews where it weighs most (all its reviews when it has no more). A
review asks with its :data:`TERMS` heaviest words among those it is a champion of (the
champions of a word relate to each other through it), filled up, when it has fewer, with
its heaviest other words. A word of 1,500 reviews relates ``q`` to the 100 most about
it, not to all 1,500. A list then costs at most ``TERMS * CHAMPIONS`` additions for its
words, whatever the archive's size; works need no bound (a review lists ~20, each listed
by few). ``similar`` reads only what its review needs: its words (its stored text
segmented as the indexer did, :func:`index.words.count_words`), their document counts
from the term dictionary (from the postings when the index holds deleted documents, so
that every count is of live reviews, as in :mod:`index.rank`), the postings of its
heaviest words until ``TERMS`` of them count it among their champions, and, from the
archive, the reviews listing its works. (scipy or numpy would compute the unpruned *dot
products* of all pairs of the synthetic corpus in seconds, but the agreement above is no
matrix product, and a real archive's vocabulary is far larger: no reason to add either.)

**Whoosh's ``Searcher.more_like_this``** (``more_like``: the document's key terms by the
Bo1 model, an OR query of them, BM25F over their whole postings) is not used: neither
fast nor better (``python -m bench.similar``; figures in docs/benchmarks.md). It runs a
search over the whole postings of the key terms for every review, far too slow for the
site's lists, and puts Whoosh's searcher modules on the command's path; it knows nothing
of references, so it misses the reviews that list the same works, and on words it puts
fewer planted near duplicates first. It also needs the document's words given as text: the ``w`` field
has no term vectors (they are passed as the field's ``{word: count}`` value).
"""
from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archive.errors import NotFound
from index.analysis import is_cjk
from index.rank import AVGDL, B, DL_TABLE, dl_code, idf

#: A word or work held by more than this share of the reviews never relates two reviews.
MAX_SHARE = 0.2


def _cap(n: int) -> float:
    """The most reviews a linking word or work may be held by: :data:`MAX_SHARE` of the
    archive, and never fewer than 2 (in an archive of 8 reviews, a word two of them
    share still relates them)."""
    return max(2.0, MAX_SHARE * n)
#: A review asks with this many of its words: the heaviest of those it is a champion of.
TERMS = 30
#: A word's champions: the reviews where it weighs most (ties: uuid), the only ones it relates.
CHAMPIONS = 100
#: The fixed average length of a reference list (BM25's avgdl for works).
AVG_WORKS = 20.0
#: How the two kinds of evidence are added: the works' part raised to REFS_POWER first.
WORDS_WEIGHT = 1.0
REFS_WEIGHT = 1.0
REFS_POWER = 2
#: Words shown as the reason.
SHOWN_TERMS = 3
#: Scores are ordered (and reported) rounded to this many parts.
SCALE = 10**6


@dataclass(frozen=True)
class Related:
    uuid: str
    topic: str
    score: float
    shared_refs: int  # works (ref_id) both reviews list
    shared_terms: tuple[str, ...]  # up to 3 distinctive words both use, most telling first

    def reason(self) -> str:
        """Why, in a few Chinese words: ``共同引用 4 篇文献；共同关键词：残差网络、迁移学习``."""
        parts = []
        if self.shared_refs:
            parts.append(f"共同引用 {self.shared_refs} 篇文献")
        if self.shared_terms:
            parts.append("共同关键词：" + "、".join(self.shared_terms))
        return "；".join(parts)

    def to_dict(self) -> dict:
        return {"uuid": self.uuid, "topic": self.topic, "score": self.score,
                "shared_refs": self.shared_refs, "shared_terms": list(self.shared_terms),
                "reason": self.reason()}


# -- weights ---------------------------------------------------------------------------

def _length(length: float, average: float) -> float:
    """BM25's length factor ``1 - B + B * length / average``."""
    return 1 - B + B * length / average


def _review_length(words: int) -> float:
    """The length factor of a review of ``words`` words (the index's one-byte code of
    its word count, as :mod:`index.rank` ranks): a word's normalised count in it is
    its count divided by this."""
    return _length(DL_TABLE[dl_code(words)] or 1, AVGDL)


def _list_x(works: int) -> float:
    """A work's normalised count in a review listing ``works`` distinct works."""
    return 1.0 / _length(works, AVG_WORKS)


def _weight(idf_: float, x: float) -> float:
    """TF-IDF of the length-normalised count ``x = tf / _length(dl)``, not saturated as
    BM25 would (see the module's docstring)."""
    return idf_ * x


def _agree(a: float, x: float, y: float) -> float:
    """A feature's part of the score (before the normalisation): its weight ``a`` in the
    asking review, times how alike the two reviews' normalised counts are,
    ``min(x, y) / max(x, y)`` (as :func:`_rank` adds it)."""
    return a * y / x if y < x else a * x / y


#: A word without a CJK character relates reviews from this many characters on: ``et``,
#: ``al``, ``of`` and ``m2`` say nothing of what two reviews share.
MIN_LATIN = 3


def distinctive(word: str) -> bool:
    """A word that may relate reviews: it has a letter or an ideograph (not ``2016``),
    and, when it has no CJK character, :data:`MIN_LATIN` characters or more."""
    if not any(c.isalpha() for c in word):
        return False
    return len(word) >= MIN_LATIN or any(is_cjk(c) for c in word)


# -- references (the archive) ------------------------------------------------------------

_CHUNK = 900  # parameters per IN (...) list


class _Works:
    """Topics and works of the reviews, and the linking works (held by 2 reviews or more
    and by at most MAX_SHARE of them): for every review (:meth:`all`) or what one review
    needs (:meth:`one`); the numbers are the same."""

    def __init__(self, topics: dict[str, str]):
        self.topics = topics
        self.n = len(self.topics)
        #: linking work -> (holders, their normalised count: 1 / the list's length factor)
        self.holders: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {}
        #: review -> [(work, weight, normalised count)] of its linking works, by work
        self.own: dict[str, list[tuple[str, float, float]]] = {}
        self._works: dict[str, set[str]] = {}  # (all) review -> its works
        self._shared: dict[str, int] = {}  # (one) review -> works it shares with the one

    def _weigh(self, held: dict[str, set[str]], lengths: dict[str, int], reviews) -> None:
        """``held``: work -> the reviews listing it; ``lengths``: review -> how many
        works it lists; the linking works, and the weights of ``reviews``' works."""
        cap = _cap(self.n)
        x = {u: _list_x(k) for u, k in lengths.items()}
        for r in sorted(held):
            if not 2 <= len(held[r]) <= cap:
                continue
            i = idf(self.n, len(held[r]))
            us = tuple(sorted(held[r]))
            self.holders[r] = (us, tuple(x[u] for u in us))
            for u in us:
                if u in reviews:
                    self.own.setdefault(u, []).append((r, _weight(i, x[u]), x[u]))

    @staticmethod
    def _topics(store) -> dict[str, str]:
        return {u: t or "" for u, t in store.execute("SELECT uuid, topic FROM reviews")}

    @classmethod
    def all(cls, store) -> "_Works":
        out = cls(cls._topics(store))
        held: dict[str, set[str]] = {}
        works = out._works
        for u, rid in store.execute(
                "SELECT r.uuid, refs.ref_id FROM reviews r "
                "JOIN refs ON refs.version_id = r.current_version WHERE refs.ref_id IS NOT NULL"):
            works.setdefault(u, set()).add(rid)
            held.setdefault(rid, set()).add(u)
        out._weigh(held, {u: len(s) for u, s in works.items()}, works)
        return out

    @classmethod
    def one(cls, store, uuid: str) -> "_Works":
        out = cls(cls._topics(store))
        mine = sorted(r for (r,) in store.execute(
            "SELECT DISTINCT refs.ref_id FROM reviews r JOIN refs ON refs.version_id = "
            "r.current_version WHERE r.uuid = ? AND refs.ref_id IS NOT NULL", (uuid,)))
        held: dict[str, set[str]] = {}
        version: dict[str, int] = {}
        for part in _chunks(mine):
            for rid, u, v in store.execute(
                    "SELECT DISTINCT refs.ref_id, r.uuid, r.current_version FROM refs "
                    "JOIN reviews r ON r.current_version = refs.version_id "
                    f"WHERE refs.ref_id IN ({','.join('?' * len(part))})", part):
                held.setdefault(rid, set()).add(u)
                version[u] = v
        lengths: dict[str, int] = {}
        by_version = {v: u for u, v in version.items()}
        for part in _chunks(sorted(by_version)):
            for v, k in store.execute(
                    "SELECT version_id, COUNT(DISTINCT ref_id) FROM refs WHERE version_id IN "
                    f"({','.join('?' * len(part))}) AND ref_id IS NOT NULL GROUP BY version_id",
                    part):
                lengths[by_version[v]] = k
        out._shared = Counter(u for us in held.values() for u in us)
        out._weigh(held, lengths, {uuid})
        return out

    @classmethod
    def gathered(cls, q: str, topics: dict[str, str], own: list[tuple[str, float, float]],
                 holders: dict[str, tuple[tuple[str, ...], tuple[float, ...]]],
                 shared: dict[str, int]) -> "_Works":
        """What :func:`_rank` needs of the works for ``q``, gathered elsewhere (the
        cluster's candidates, :mod:`index.cluster_similar`): ``q``'s linking works
        ``(work, weight, normalised count)`` by work, their ``holders`` as
        :meth:`_weigh` keeps them, and per review the works it shares with ``q``."""
        out = cls(topics)
        out.own[q] = own
        out.holders = holders
        out._shared = shared
        return out

    def shared(self, q: str, u: str) -> int:
        """How many works ``q`` and ``u`` both list."""
        if self._works:
            return len(self._works.get(q, set()) & self._works.get(u, set()))
        return self._shared.get(u, 0)


def _chunks(items: list) -> list[list]:
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]


# -- words (the index) -------------------------------------------------------------------

class _Words:
    """Per distinctive word its champions ``{review: normalised count}``, and per review
    its asking words ``[(word, weight, normalised count)]``, heaviest first: for every
    review (:meth:`all`) or for one (:meth:`one`), with the same numbers."""

    def __init__(self):
        self.top: dict[str, list[tuple[str, float, float]]] = {}
        self.champions: dict[str, dict[str, float]] = {}

    @classmethod
    def gathered(cls, q: str, top: list[tuple[str, float, float]],
                 champions: dict[str, dict[str, float]]) -> "_Words":
        """What :func:`_rank` needs of the words for ``q``, gathered elsewhere (the
        cluster's candidates): its asking words (:func:`_asking`) and, per word, the
        normalised counts of the reviews it relates ``q`` to."""
        out = cls()
        out.top[q] = top
        out.champions = champions
        return out

    @staticmethod
    def _reviews(reader, topics) -> tuple[dict[int, str], dict[str, float], int]:
        """``doc -> uuid`` and ``uuid -> BM25 length factor`` of the live review documents
        of reviews in the archive; and how many live review documents there are."""
        from index.postings import Column, doc_set

        docs = doc_set(reader, "kind", "review")
        uuid_of: dict[int, str] = {}
        lengths: dict[str, float] = {}
        for d, value in Column(reader, "key").many(docs).items():
            _, u, words, _ = value.decode("ascii").split("|")
            if u in topics:
                uuid_of[d] = u
                lengths[u] = _review_length(int(words))
        return uuid_of, lengths, len(docs)

    @staticmethod
    def _posting(reader, word: str, uuid_of, lengths, n: int
                 ) -> tuple[float, dict[str, float], dict[str, float]] | None:
        """``(idf, champions, every holder)`` of ``word`` (review -> normalised count);
        None if it is not distinctive (held by fewer than 2 or more than MAX_SHARE of
        the ``n`` reviews)."""
        from index.postings import doc_weights

        held = {uuid_of[d]: tf / lengths[uuid_of[d]]
                for d, tf in doc_weights(reader, "w", word).items() if d in uuid_of}
        if not 2 <= len(held) <= _cap(n):
            return None
        champions = held
        if len(held) > CHAMPIONS:  # (for one word, the weight grows with the normalised count)
            champions = dict(sorted(held.items(), key=lambda p: (-p[1], p[0]))[:CHAMPIONS])
        return idf(n, len(held)), champions, held

    @classmethod
    def all(cls, reader, topics) -> "_Words":
        out = cls()
        if not reader.doc_count_all():
            return out
        uuid_of, lengths, _ = cls._reviews(reader, topics)
        n = len(uuid_of)
        deleted = reader.doc_count_all() - reader.doc_count()
        counts: Counter[bytes] = Counter()  # from the term infos: deleted documents too
        for seg in reader.segments:
            for term, df in seg.field_terms("w"):
                counts[term] += df
        owned: dict[str, list[tuple[str, float, float]]] = {}  # words it is a champion of
        others: dict[str, list] = {}  # heaps of its heaviest other words
        for seq, term in enumerate(sorted(counts)):  # (UTF-8 order is code point order)
            c = counts[term]
            if c < 2 or c - deleted > _cap(n):
                continue
            word = term.decode("utf-8")
            if not distinctive(word):
                continue
            found = cls._posting(reader, word, uuid_of, lengths, n)
            if found is None:
                continue
            i, champions, held = found
            out.champions[word] = champions
            rank = -seq  # equal weights: the smaller word is kept
            for u, x in held.items():
                a = _weight(i, x)
                if u in champions:
                    owned.setdefault(u, []).append((word, a, x))
                    continue
                h = others.get(u)
                if h is None:
                    others[u] = [(a, rank, word, x)]
                elif len(h) < TERMS:
                    heapq.heappush(h, (a, rank, word, x))
                elif (a, rank) > h[0][:2]:
                    heapq.heapreplace(h, (a, rank, word, x))
        for u in owned.keys() | others.keys():
            out.top[u] = _asking(owned.get(u, []),
                                 [(word, a, x) for a, _, word, x in others.get(u, [])])
        return out

    @classmethod
    def one(cls, reader, topics, uuid: str) -> "_Words":
        """What :func:`_rank` needs of the words for ``uuid``: its asking words and their
        champions, from the postings of its own words only (heaviest first, until TERMS
        of them count it among their champions)."""
        out = cls()
        if not reader.doc_count_all():
            return out
        uuid_of, lengths, live = cls._reviews(reader, topics)
        doc = next((d for d, u in uuid_of.items() if u == uuid), None)
        if doc is None:  # not indexed (yet): references only
            return out
        n = len(uuid_of)
        # The term infos count the live reviews when no document is deleted and every
        # live review is in the archive: then the words are ordered without their postings.
        exact = reader.doc_count_all() == reader.doc_count() and live == n
        tried = []
        for word, tf in _review_words(reader, doc).items():
            if not distinctive(word):
                continue
            if exact:
                asks = _asks(tf, reader.doc_frequency("w", word), n, lengths[uuid])
                if asks is not None:
                    tried.append((-asks[0], word, None))
            else:
                found = cls._posting(reader, word, uuid_of, lengths, n)
                if found is not None and uuid in found[2]:
                    tried.append((-_weight(found[0], found[2][uuid]), word, found))
        tried.sort(key=lambda t: t[:2])
        champions_of = {}

        def candidates():  # (the postings read lazily: _choose stops at TERMS owned)
            for _, word, found in tried:
                if found is None:
                    found = cls._posting(reader, word, uuid_of, lengths, n)
                if found is None or uuid not in found[2]:
                    continue
                i, champions_of[word], held = found
                x = held[uuid]
                yield word, _weight(i, x), x, uuid in champions_of[word]

        out.top[uuid] = _choose(candidates())
        out.champions = {word: champions_of[word] for word, _, _ in out.top[uuid]}
        return out


def _asks(tf: int, df: int, n: int, length: float) -> tuple[float, float] | None:
    """``(weight, normalised count)`` of a distinctive word a review uses ``tf`` times
    (its length factor ``length``), held by ``df`` of the ``n`` reviews; None when the
    word relates no reviews (held by fewer than 2 or more than MAX_SHARE of them)."""
    if not 2 <= df <= _cap(n):
        return None
    x = tf / length
    return _weight(idf(n, df), x), x


def _choose(tried: Iterable[tuple[str, float, float, bool]]) -> list[tuple[str, float, float]]:
    """A review's asking words from its candidate words ``(word, weight, normalised
    count, is the review one of the word's champions)``, heaviest first (ties by word):
    taken until :data:`TERMS` of them are words it is a champion of, the others kept to
    fill up (:func:`_asking`). :meth:`_Words.one` and :mod:`index.cluster_similar` ask
    with it, reading each word's champions only when it is reached."""
    owned: list[tuple[str, float, float]] = []
    others: list[tuple[str, float, float]] = []
    for word, a, x, champion in tried:
        if champion:
            owned.append((word, a, x))
            if len(owned) == TERMS:
                break
        elif len(others) < TERMS:
            others.append((word, a, x))
    return _asking(owned, others)


def _asking(owned: list[tuple[str, float, float]], others: list[tuple[str, float, float]]
            ) -> list[tuple[str, float, float]]:
    """A review's asking words ``(word, weight, normalised count)`` from its candidates:
    the :data:`TERMS` heaviest of the words it is a champion of (``owned``), filled up
    with the heaviest of its other words; heaviest first, ties by word. The one rule
    behind :meth:`_Words.all` and :meth:`_Words.one`, so a review's list is the same
    from either."""
    def order(w):
        return (-w[1], w[0])
    top = sorted(owned, key=order)[:TERMS]
    if len(top) < TERMS:
        top += sorted(others, key=order)[:TERMS - len(top)]
    return sorted(top, key=order)


def _review_words(reader, doc: int) -> Counter:
    """The words of an index document, counted from its stored parts as the indexer
    counted them (:func:`index.document.unit_words`)."""
    from index.analysis import fold
    from index.document import unit_words
    from index.texts import Texts
    from index.postings import Column

    text = Texts(Column(reader, "text")[doc])
    keys = reader.stored_fields(doc)["keys"]
    return unit_words(lambda j: fold(text.part(j)), len(keys.split("\x1f")) if keys else 0)


# -- scoring -----------------------------------------------------------------------------

def _rank(q: str, words: _Words, works: _Works, limit: int) -> list[Related]:
    """The related reviews of ``q``: the one scoring of both entry points. Each review's
    sum is built in the same order (``q``'s words heaviest first, then its works by id)
    from the same numbers, so it is the same double from either."""
    if limit <= 0:
        return []
    acc: dict[str, float] = {}
    get = acc.get
    top = words.top.get(q, ())
    if top:
        inv = WORDS_WEIGHT / sum(a for _, a, _ in top)
        for word, a, x in top:  # add a * min(x, y) / max(x, y) * inv (:func:`_agree`)
            below, above = a * inv / x, a * inv * x
            for u, y in words.champions[word].items():
                acc[u] = get(u, 0.0) + (y * below if y < x else above / y)
    own = works.own.get(q, ())
    if own:
        part: dict[str, float] = {}
        inv = 1.0 / sum(a for _, a, _ in own)
        for r, a, x in own:
            below, above = a * inv / x, a * inv * x
            for u, y in zip(*works.holders[r]):
                part[u] = part.get(u, 0.0) + (y * below if y < x else above / y)
        for u, p in part.items():
            acc[u] = get(u, 0.0) + REFS_WEIGHT * p ** REFS_POWER
    acc.pop(q, None)
    if not acc:
        return []
    floor = heapq.nlargest(limit, acc.values())[-1] - 1.0 / SCALE
    ranked = sorted((-_key(v), u) for u, v in acc.items() if v >= floor)[:limit]
    return [Related(u, works.topics.get(u, ""), -neg / SCALE, works.shared(q, u),
                    _shown(u, top, words))
            for neg, u in ranked if neg < 0]


def _key(score: float) -> int:
    return int(score * SCALE + 0.5)


def _shown(u: str, top, words: _Words) -> tuple[str, ...]:
    """The words that related ``u``, the largest part of the score first; a word inside
    another one shown is left out (jieba's search mode also gives the parts of a long
    word: ``二氧化碳`` stands for ``二氧`` and ``二氧化``)."""
    scored = sorted((-_agree(a, x, words.champions[word][u]), word) for word, a, x in top
                    if u in words.champions[word])
    found = [word for _, word in scored]
    kept: list[str] = []
    for word in found:
        if any(word in other for other in found if other != word):
            continue
        kept.append(word)
        if len(kept) == SHOWN_TERMS:
            break
    return tuple(kept)


# -- the API -----------------------------------------------------------------------------

def similar(store, index_dir, uuid: str, limit: int = 10) -> list[Related]:
    """The reviews most like review ``uuid`` (a full id), best first."""
    from index.folder import open_reader

    works = _Works.one(store, uuid)
    if uuid not in works.topics:
        raise NotFound(f"no review with id {uuid!r} (see `reviews list`)")
    with open_reader(Path(index_dir)) as reader:
        words = _Words.one(reader, works.topics, uuid)
    return _rank(uuid, words, works, limit)


_SHARED: list = []  # (words, works, limit), inherited by forked workers


def _rank_slice(uuids: list[str]) -> list[list[Related]]:
    words, works, limit = _SHARED[0]
    return [_rank(u, words, works, limit) for u in uuids]


def related_all(store, index_dir, limit: int = 5, procs: int = 1) -> dict[str, list[Related]]:
    """Every review's related reviews (as :func:`similar` gives them), by uuid; the
    scoring in ``procs`` processes (forked after the tables are read, so they share
    them; each review's list is computed as in one process)."""
    from index.folder import open_reader

    works = _Works.all(store)
    with open_reader(Path(index_dir)) as reader:
        words = _Words.all(reader, works.topics)
    uuids = sorted(works.topics)
    if procs <= 1 or len(uuids) < 2 * procs or os.name != "posix":
        return {u: _rank(u, words, works, limit) for u in uuids}
    from archive.workers import pool  # noqa: PLC0415 (forked workers that end with this process)

    _SHARED[:] = [(words, works, limit)]
    try:
        step = -(-len(uuids) // (procs * 4))
        slices = [uuids[i:i + step] for i in range(0, len(uuids), step)]
        with pool(procs) as workers:
            lists = [x for part in workers.map(_rank_slice, slices) for x in part]
    finally:
        _SHARED.clear()
    return dict(zip(uuids, lists))
