"""Related reviews on the cluster are the embedded engine's (``cluster`` tier, in make test).

A differential test on an archive written on topics (``bench.corpus.generate_on_topics``:
several reviews per topic, a field's works shared by its topics): for each of 20 asked
reviews, the cluster's top 5 (:mod:`index.cluster_similar`) against the embedded top 5
(:mod:`index.similar`): the share of the embedded list the cluster also lists, and the
share of each list that is of the asked review's own topic.

Measured on this archive (600 reviews, seed 6262, used by no other test): overlap 1.00
(18 of the 20 lists in the same order, 98 of the 100 entries the same to the letter) and
the same topic agreement, 0.97; the BM25-weighted cluster query before the change
listed 0.12 of the embedded lists, 0.20 of its lists on topic. 600 reviews, not fewer,
so that words held by more than CHAMPIONS reviews, whose champions the cluster only
approximates, are in play (below 500 the lists are the same by construction).
``python -m tests.test_cluster_similar URL --reviews 1500 --seed 8080 --asked 50`` runs
the comparison on a running cluster (``make cluster``): docs/benchmarks.md.
"""
from __future__ import annotations

import os
from collections import Counter

import pytest

from archive.store import Store
from bench.corpus import generate_on_topics
from index.cluster_client import Target
from index.cluster_sync import catch_up
from index.engine import Cluster
from index.indexer import rebuild
from index.similar import similar as embedded_similar
from tests.helpers import add_bytes

pytestmark = pytest.mark.cluster

SEED, REVIEWS, ASKED, TOP = 6262, 600, 20, 5


def build(root, url: str, reviews: int, seed: int) -> tuple[Store, Cluster, dict[str, str]]:
    """The archive in ``root``, its embedded index and a fresh cluster index; the topic
    of each review."""
    records = list(generate_on_topics(reviews, seed))
    store = Store.open(root)
    for g in records:
        add_bytes(store, g.data, g.name)
    rebuild(store, root / "index")
    eng = Cluster(Target((url,), f"similar-{os.getpid()}-{reviews}-{seed}"))
    catch_up(store, eng.client, eng.index)
    eng.client.request("POST", f"/{eng.index}/_refresh")
    return store, eng, {g.truth.uuid: g.truth.topic for g in records}


def asked_of(topic: dict[str, str], n: int) -> list[str]:
    """``n`` reviews of topics with 6 reviews or more, evenly spaced by uuid."""
    size = Counter(topic.values())
    candidates = sorted(u for u in topic if size[topic[u]] >= 6)
    return candidates[::len(candidates) // n][:n]


def compare(store, index_dir, eng: Cluster, topic: dict[str, str], asked: list[str]) -> dict:
    """Both engines' top ``TOP`` for each asked review: the mean overlap, each engine's
    topic agreement, how many lists are the same, how many of the cluster's entries are
    the embedded ones to the letter (score, works, words), and the lists."""
    both = {u: (embedded_similar(store, index_dir, u, TOP), eng.similar(store, u, TOP))
            for u in asked}

    def on_topic(k: int) -> float:
        return sum(topic[r.uuid] == topic[u] for u, lists in both.items()
                   for r in lists[k]) / (TOP * len(asked))

    overlap = sum(len({r.uuid for r in e} & {r.uuid for r in c}) / TOP
                  for e, c in both.values()) / len(asked)
    same = sum([r.uuid for r in e] == [r.uuid for r in c] for e, c in both.values())
    alike = sum(r.to_dict() in [x.to_dict() for x in e] for e, c in both.values() for r in c)
    return {"overlap": overlap, "embedded": on_topic(0), "cluster": on_topic(1),
            "same": same, "alike": alike, "lists": both}


@pytest.fixture(scope="module")
def on_topics(tmp_path_factory, opensearch_url):
    root = tmp_path_factory.mktemp("similar-topics")
    store, eng, topic = build(root, opensearch_url, REVIEWS, SEED)
    yield store, root / "index", eng, topic
    eng.close()
    store.close()


def test_the_cluster_lists_the_embedded_related_reviews(on_topics):
    store, index_dir, eng, topic = on_topics
    asked = asked_of(topic, ASKED)
    assert len(asked) == ASKED
    got = compare(store, index_dir, eng, topic, asked)
    figures = {k: v for k, v in got.items() if k != "lists"}
    assert got["overlap"] >= 0.9, figures
    assert abs(got["cluster"] - got["embedded"]) <= 0.05, figures
    assert got["embedded"] >= 0.8, figures  # (the archive has topics to agree on)
    # each listed review says why, as on the embedded side: the words both use (the same
    # where the scores are the same) and the works both list
    shown = [r for _, c in got["lists"].values() for r in c]
    assert all(r.shared_terms and r.reason() for r in shown)
    assert any(r.shared_refs for r in shown)
    for e, c in got["lists"].values():
        mine = {r.uuid: r for r in e}
        assert all(r.shared_refs == mine[r.uuid].shared_refs for r in c if r.uuid in mine)
    assert got["alike"] >= 0.9 * len(shown), figures


def test_no_list_asked_and_a_missing_review_is_named(on_topics):
    store, _, eng, topic = on_topics
    u = min(topic)
    assert eng.similar(store, u, 0) == []
    from archive.errors import NotFound

    with pytest.raises(NotFound, match="no review with id"):
        eng.similar(store, "0" * 32, TOP)


def main() -> None:
    """The comparison on a larger archive, against a running cluster (``make cluster``)."""
    import argparse
    import tempfile
    import time
    from pathlib import Path

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("url")
    ap.add_argument("--reviews", type=int, default=REVIEWS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--asked", type=int, default=ASKED)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store, eng, topic = build(Path(tmp), args.url, args.reviews, args.seed)
        try:
            asked = asked_of(topic, args.asked)
            got = compare(store, Path(tmp) / "index", eng, topic, asked)
            start = time.perf_counter()  # (a second pass: the node's caches warm)
            for u in asked:
                eng.similar(store, u, TOP)
            got["cluster ms a list"] = (time.perf_counter() - start) * 1000 / len(asked)
        finally:
            eng.client.request("DELETE", f"/{eng.index}")
            eng.close()
            store.close()
    print({k: round(v, 3) for k, v in got.items() if k != "lists"})


if __name__ == "__main__":
    main()
