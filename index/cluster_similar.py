"""``reviews similar`` on an OpenSearch cluster: related reviews across every host,
scored as the embedded engine scores them (:mod:`index.similar`, whose code does it).

**The same question.** The review's words are counted from its stored text as the
indexer counted them (:func:`index.document.unit_words`), their document counts come
from the cluster (one ``_msearch`` of counts), and the asking words are chosen by the
embedded engine's own functions: :func:`index.similar._asks` (distinctive, held by 2
reviews or more and by at most :data:`index.similar.MAX_SHARE` of them; weight TF-IDF
of the length-normalised count) and :func:`index.similar._choose` (the
:data:`index.similar.TERMS` heaviest of those the review is a champion of, filled up
with others). Its works weigh as there (:func:`index.similar._list_x`).

**Ranked by OpenSearch, finished by the embedded scoring.** The embedded score of a
review ``d`` adds, per asking word, its share of the weights times how alike the two
reviews' normalised counts are, ``min(x_q, x_d) / max(x_q, x_d)``, and the works' part
squared (:data:`index.similar.REFS_POWER`). No OpenSearch query computes that agreement
without a script (a term's score only grows with its count: BM25), and the index uses
none (:mod:`index.cluster_doc`; the nodes of ``make cluster`` have no script engine).
What a query does compute exactly is the score with every agreement taken as 1, an
*upper bound* of the embedded score (:func:`bound_query`):

* each asking word a ``constant_score`` clause on ``w`` boosted by its TF-IDF weight's
  share (times :data:`index.similar.WORDS_WEIGHT`);
* the works' part squared: a ``function_score`` whose query adds each linking work's
  share of the weights (``constant_score`` clauses on ``works``) and whose functions add
  the same shares again (``filter`` + ``weight``, ``score_mode: sum``), multiplied
  (``boost_mode: multiply``): ``P * P``, times :data:`index.similar.REFS_WEIGHT`.

Ranked by that bound alone, the cluster's top 5 shared 0.17 of the embedded lists (300
reviews of ``tests/test_cluster_similar.py``'s seed): many reviews of a field use most of a
review's words; how *much* they use them is what tells its topic. So the cluster reads
the reviews in the order of their bound, :data:`BATCH` at a time, with their
counts of the asking words (the ``freq`` of BM25's ``explain`` of one term query per
word: ``w`` keeps no term vectors and is not in ``_source``) and their lengths and works
(``_source``), and :func:`index.similar._rank`, the embedded engine's one scoring
function, scores them, reasons included (the words that scored most, the works both
list). It stops when the list's last score is above the bound of the next unread
review, which then cannot enter it (the threshold algorithm: Fagin, Lotem, Naor,
*Optimal aggregation algorithms for middleware*, 2003), or after :data:`MAX_CANDIDATES`.
From 36 to 110 reviews were read for a list of 5 (figures in docs/benchmarks.md).

**What still differs.** The embedded engine lets a word held by more than
:data:`index.similar.CHAMPIONS` reviews relate only its champions, the CHAMPIONS reviews
whose normalised count of it is highest (its length normalised with the fixed
``AVGDL`` and the index's one-byte code of the word count). The cluster keeps a
review's word count only in ``_source`` (Lucene's norms are a coarser one), and reading
every holder's, with its counts, would cost more than all the rest; it takes instead the CHAMPIONS first by its BM25 of the word
alone (:func:`_champions`), normalised by the index's own average length and Lucene's
coarser norms, a set that differs from the embedded one at its edge (1 to 11 of 100 at
1,500 reviews). Below CHAMPIONS / MAX_SHARE = 500 reviews no word has more holders and
both engines give the same lists with the same scores; at 1,500 the cluster's top 5
shares 0.77 of the embedded lists, with the same topic agreement. Words holding a space
are not in the cluster's ``w`` (whitespace analysed) and never ask there.
"""
from __future__ import annotations

import base64
import re

from archive.errors import NotFound
from index.cluster_client import Client, ClusterError
from index.rank import idf
from index.similar import (CHAMPIONS, REFS_POWER, REFS_WEIGHT, TERMS, WORDS_WEIGHT, Related,
                           _asks, _cap, _choose, _list_x, _rank, _review_length, _weight, _Words,
                           _Works, distinctive)
from index.texts import Texts

#: Candidates are read this many at a time, in the order of their bound ...
PAGE = 128
#: ... and scored this many at a time (a batch's counts and lengths: one ``explain``
#: request). A list of 5 needed 51 reviews read on tests/test_cluster_similar.py's
#: archive at 300 reviews, 96 at 600 (read 4 at a time).
BATCH = 32
#: No more candidates than this are read for one list.
MAX_CANDIDATES = 2000
#: The bound is computed in single precision: a margin before trusting it.
MARGIN = 1e-5
_WEIGHT_OF = re.compile(r"weight\(w:(.*) in \d+\) \[")
_FREQ = re.compile(r"score\(freq=([0-9.]+)\)")
#: Hits by score, then uuid (from the doc values: no stored field read, each of which
#: would unpack a compressed block of ``_source``, ~2 ms a hit here).
_IDS_ONLY = {"stored_fields": "_none_", "sort": [{"_score": "desc"}, {"uuid": "asc"}],
             "track_scores": True}


def _msearch(client: Client, lines: list[dict]) -> list[dict]:
    """The answers of an ``_msearch``; one that failed is the cluster's error."""
    answers = client.retrying("POST", "/_msearch", ndjson=lines)["responses"]
    for r in answers:
        if "error" in r:
            err = r["error"]
            why = err.get("reason", err.get("type")) if isinstance(err, dict) else err
            raise ClusterError(f"the cluster refused a search of related reviews: {why}",
                               r.get("status", 0), err)
    return answers


def _counts(client: Client, index: str, field: str, terms: list[str]) -> dict[str, int]:
    """How many reviews hold each term (one request)."""
    lines: list[dict] = []
    for t in terms:
        lines += [{"index": index}, {"size": 0, "track_total_hits": True,
                                     "query": {"term": {field: t}}}]
    if not lines:
        return {}
    return {t: r["hits"]["total"]["value"] for t, r in zip(terms, _msearch(client, lines))}


def _champions(client: Client, index: str, words: list[str]) -> dict[str, frozenset[str]]:
    """The :data:`index.similar.CHAMPIONS` reviews using each word most, by the
    cluster's BM25 of the word alone (its count over its length, ties by uuid; global
    statistics: ``dfs_query_then_fetch``), one request."""
    lines: list[dict] = []
    for w in words:
        lines += [{"index": index, "search_type": "dfs_query_then_fetch"},
                  {"size": CHAMPIONS, **_IDS_ONLY, "query": {"term": {"w": w}}}]
    if not lines:
        return {}
    return {w: frozenset(h["sort"][1] for h in r["hits"]["hits"])
            for w, r in zip(words, _msearch(client, lines))}


def _asking_words(client: Client, index: str, uuid: str, tf: dict[str, int], n: int,
                  length: float) -> tuple[list, dict[str, frozenset[str] | None]]:
    """The review's asking words ``(word, weight, normalised count)``, chosen as the
    embedded engine chooses them (:func:`index.similar._asks`, then
    :func:`index.similar._choose`), and the champions of each (None: every holder)."""
    words = [w for w in tf if distinctive(w) and " " not in w]
    df = _counts(client, index, "w", words)
    tried = []
    for w in words:
        asks = _asks(tf[w], df.get(w, 0), n, length)
        if asks is not None:
            tried.append((-asks[0], w, asks[1]))
    tried.sort()
    champions: dict[str, frozenset[str] | None] = {}

    def candidates():  # (a word's champions read when it is reached, TERMS words a request)
        for i in range(0, len(tried), TERMS):
            part = tried[i:i + TERMS]
            common = _champions(client, index, [w for _, w, _ in part if df[w] > CHAMPIONS])
            for neg, w, x in part:
                champions[w] = common.get(w)
                yield w, -neg, x, champions[w] is None or uuid in champions[w]

    top = _choose(candidates())
    return top, {w: champions[w] for w, _, _ in top}


def _share(field: str, value: str, boost: float, among: frozenset[str] | None = None) -> dict:
    term = {"term": {field: value}}
    if among is not None:
        term = {"bool": {"filter": [term, {"ids": {"values": sorted(among)}}]}}
    return {"constant_score": {"filter": term, "boost": boost}}


def bound_query(uuid: str, top: list[tuple[str, float, float]],
                own: list[tuple[str, float, float]],
                champions: dict[str, frozenset[str] | None]) -> dict:
    """The query ranking the reviews by the upper bound of their score for ``uuid``
    (see the module's docstring): ``top`` its asking words, ``own`` its linking works,
    each ``(feature, weight, normalised count)``; a word relates only its
    ``champions`` (None: every holder)."""
    should = []
    if top:
        inv = WORDS_WEIGHT / sum(a for _, a, _ in top)
        should += [_share("w", w, a * inv, champions[w]) for w, a, _ in top]
    if own:
        inv = 1.0 / sum(a for _, a, _ in own)
        part: dict = {"bool": {"should": [_share("works", r, a * inv) for r, a, _ in own]}}
        functions = [{"filter": {"term": {"works": r}}, "weight": a * inv} for r, a, _ in own]
        for _ in range(REFS_POWER - 1):
            part = {"function_score": {"query": part, "functions": functions,
                                       "score_mode": "sum", "boost_mode": "multiply"}}
        should.append({"bool": {"must": [part], "boost": REFS_WEIGHT}})
    return {"bool": {"should": should, "minimum_should_match": 1,
                     "must_not": [{"ids": {"values": [uuid]}}]}}


def _details(client: Client, index: str, ids: list[str], words: list[str]
             ) -> list[tuple[dict, dict[str, float]]]:
    """Per review of ``ids``: its ``_source`` (topic, works, word count), and how many
    times it uses each of ``words`` it holds (one request: the ``explain`` of one
    term query per word, cut down to the two levels that name the word and its count)."""
    body = {"size": len(ids), "_source": ["topic", "works", "doc.words"], "explain": True,
            "query": {"bool": {"filter": [{"ids": {"values": ids}}],
                               "should": [{"term": {"w": w}} for w in words]}}}
    keep = ",".join(f"hits.hits.{f}" for f in ("_id", "_score", "_source",
                                                "_explanation.details.description",
                                                "_explanation.details.details.description"))
    got = client.retrying("POST", f"/{index}/_search", body, params={"filter_path": keep})
    hits = got.get("hits", {}).get("hits", [])  # (none: filter_path leaves out the key)
    out = []
    for h in hits:
        counts = {}
        for node in h.get("_explanation", {}).get("details", ()):
            word = _WEIGHT_OF.match(node.get("description", ""))
            for d in node.get("details", ()) if word else ():
                freq = _FREQ.match(d.get("description", ""))
                if freq:
                    counts[word.group(1)] = float(freq.group(1))
        if h.get("_score", 0) > 0 and not counts:
            raise ClusterError("related reviews: the cluster's explanation of a word's score "
                               "gave no count (an OpenSearch version this code does not read)")
        out.append((h, counts))
    return out


class _Candidates:
    """The question (the review, its works, asking words and their champions, linking
    works) and the reviews read so far, as :func:`index.similar._rank` takes them."""

    def __init__(self, uuid: str, works: set[str], top, own, champions):
        self.uuid, self.works, self.top, self.own = uuid, works, top, own
        self.among: dict[str, frozenset[str] | None] = champions
        self.topics: dict[str, str] = {}
        self.champions: dict[str, dict[str, float]] = {w: {} for w, _, _ in top}
        self.holders: dict[str, list[tuple[str, float]]] = {r: [] for r, _, _ in own}
        self.shared: dict[str, int] = {}

    def add(self, details: list[tuple[dict, dict[str, float]]]) -> None:
        """Reviews as :func:`_details` gives them."""
        for h, counts in details:
            u, src = h["_id"], h.get("_source", {})
            self.topics[u] = src.get("topic", "")
            length = _review_length(int(src.get("doc", {}).get("words", 0)))
            for w, tf in counts.items():
                among = self.among.get(w)
                if w in self.champions and (among is None or u in among):
                    self.champions[w][u] = tf / length
            listed = set(src.get("works", ()))
            self.shared[u] = len(listed & self.works)
            x = _list_x(len(listed))
            for r in listed:
                if r in self.holders:
                    self.holders[r].append((u, x))

    def rank(self, limit: int) -> list[Related]:
        holders = {r: (tuple(u for u, _ in hs), tuple(x for _, x in hs))
                   for r, hs in self.holders.items()}
        words = _Words.gathered(self.uuid, self.top, self.champions)
        works = _Works.gathered(self.uuid, self.topics, self.own, holders, self.shared)
        return _rank(self.uuid, words, works, limit)


def similar(client: Client, index: str, uuid: str, limit: int = 10) -> list[Related]:
    """The reviews most like review ``uuid`` (a full id), best first, from the cluster."""
    from index.analysis import fold
    from index.document import unit_words

    got = client.request("GET", f"/{index}/_doc/{uuid}", ok=(200, 404),
                         params={"_source_includes": "doc.text,doc.keys,doc.words,works"})
    if not got or not got.get("found"):
        raise NotFound(f"no review with id {uuid!r} in the cluster's index (see `reviews list`)")
    if limit <= 0:
        return []
    src = got["_source"]
    doc = src["doc"]
    text = Texts(base64.b64decode(doc["text"]))
    n_units = len(doc["keys"].split("\x1f")) if doc["keys"] else 0
    tf = unit_words(lambda j: fold(text.part(j)), n_units)
    n = client.retrying("POST", f"/{index}/_count", {"query": {"match_all": {}}})["count"]
    top, champions = _asking_words(client, index, uuid, tf, n, _review_length(int(doc["words"])))
    works = set(src.get("works", ()))
    wdf = _counts(client, index, "works", sorted(works))
    x = _list_x(len(works))
    own = [(r, _weight(idf(n, wdf[r]), x), x) for r in sorted(works)
           if 2 <= wdf.get(r, 0) <= _cap(n)]
    if not (top or own):
        return []
    return _read(client, index, _Candidates(uuid, works, top, own, champions), limit)


def _read(client: Client, index: str, seen: _Candidates, limit: int) -> list[Related]:
    """Candidates in the order of their bound, :data:`BATCH` at a time scored exactly,
    until no unread one can enter the list (see the module's docstring)."""
    body = {"size": PAGE, **_IDS_ONLY,
            "query": bound_query(seen.uuid, seen.top, seen.own, seen.among)}
    words = [w for w, _, _ in seen.top]
    read, ranked = 0, []
    while True:
        hits = client.retrying("POST", f"/{index}/_search", body)["hits"]["hits"]
        for i in range(0, len(hits), BATCH):
            part = hits[i:i + BATCH]
            seen.add(_details(client, index, [h["sort"][1] for h in part], words))
            read += len(part)
            ranked = seen.rank(limit)
            unread = hits[min(i + BATCH, len(hits) - 1)]  # (the next one's bound, or above)
            if len(ranked) == limit and ranked[-1].score > unread["_score"] + MARGIN:
                return ranked
            if read >= MAX_CANDIDATES:
                return ranked
        if len(hits) < PAGE:
            return ranked
        body["search_after"] = hits[-1]["sort"]
