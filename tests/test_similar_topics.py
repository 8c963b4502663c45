"""Related reviews hold up: on an archive whose reviews are written on topics
(``bench.corpus.generate_on_topics``: a topic's reviews lean on a few of their field's
words, every review of a field draws its works from the field's one pool), a review's
related reviews are mostly of its own topic, about as often as a plain TF-IDF cosine
over the records' CJK character bigrams, computed here from the records' text, finds.

The seed is used by no other test: the scoring was not tuned on this archive.

In the slow tier (`make test`, not `make check`): a 300-review archive built for it alone,
~12 s of CPU, a tenth of the fast tier's; the related reviews' behaviour on small archives
stays in the fast tier (test_similar.py).
"""
from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from archive.store import Store
from bench.corpus import generate_on_topics
from index.indexer import rebuild
from index.similar import related_all
from tests.helpers import add_bytes

SEED, REVIEWS, ASKED, TOP = 5150, 300, 20, 5
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def bigram_tfidf_related(texts: dict[str, str], asked: list[str], top: int
                         ) -> dict[str, list[str]]:
    """The oracle: per asked review, the ``top`` reviews nearest by the cosine of TF-IDF
    vectors (raw count times ``log(N / df)``) over CJK character bigrams held by 2
    reviews or more and by at most a fifth of them; ties by uuid."""
    tf = {u: Counter(run[i:i + 2] for run in _CJK.findall(t) for i in range(len(run) - 1))
          for u, t in texts.items()}
    df = Counter(b for c in tf.values() for b in c)
    n = len(tf)
    vectors = {}
    for u, c in tf.items():
        v = {b: k * math.log(n / df[b]) for b, k in c.items() if 2 <= df[b] <= n / 5}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors[u] = {b: x / norm for b, x in v.items()}

    def cosine(a: dict, b: dict) -> float:
        if len(a) > len(b):
            a, b = b, a
        return sum(x * b.get(k, 0.0) for k, x in a.items())

    return {u: sorted((v for v in vectors if v != u),
                      key=lambda v: (-cosine(vectors[u], vectors[v]), v))[:top]
            for u in asked}


def agreement(lists: dict[str, list[str]], topic: dict[str, str], asked: list[str]) -> float:
    """The share of the asked reviews' listed reviews that are of the review's topic."""
    return sum(topic[v] == topic[u] for u in asked for v in lists[u][:TOP]) / (TOP * len(asked))


@pytest.fixture(scope="module")
def on_topics(tmp_path_factory):
    root = tmp_path_factory.mktemp("topics")
    records = list(generate_on_topics(REVIEWS, SEED))
    store = Store(root / "archive.sqlite3")
    with store.batch():  # (one commit, as an ingest's batch)
        for g in records:
            add_bytes(store, g.data, g.name)
    rebuild(store, root / "index")  # (300 reviews: the parallel build)
    yield store, root / "index", records
    store.close()


def asked_of(topic: dict[str, str], n: int) -> list[str]:
    """``n`` reviews of topics with 6 reviews or more, evenly spaced by uuid."""
    size = Counter(topic.values())
    candidates = sorted(u for u in topic if size[topic[u]] >= 6)
    return candidates[::len(candidates) // n][:n]


@pytest.mark.slow
def test_related_reviews_are_of_the_reviews_topic(on_topics):
    store, ix, records = on_topics
    topic = {g.truth.uuid: g.truth.topic for g in records}
    asked = asked_of(topic, ASKED)
    assert len(asked) == ASKED
    oracle = agreement(bigram_tfidf_related({g.truth.uuid: g.data.decode("utf-8")
                                             for g in records}, asked, TOP), topic, asked)
    lists = related_all(store, ix)
    ours = agreement({u: [r.uuid for r in rs] for u, rs in lists.items()}, topic, asked)
    assert ours >= 0.8 and ours >= oracle - 0.1, (ours, oracle)
    # each still says why: the words both use (and the works both list, when they do)
    shown = [r for u in asked for r in lists[u]]
    assert all(r.shared_terms for r in shown)
    assert any(r.shared_refs for r in shown) and all(r.reason() for r in shown)
