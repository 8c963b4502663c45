"""``reviews similar`` on an OpenSearch cluster: related reviews across every host.

The embedded engine scores related reviews from the whole index's postings
(:mod:`index.similar`). A cluster is asked instead, in one query, with the same
evidence and the same weights where they can be had:

* the review's words are counted from its stored text as the indexer counted them
  (:func:`index.document.unit_words`); their document counts come from the cluster
  (one ``_msearch`` of counts), and only *distinctive* words ask
  (:func:`index.similar.distinctive`, held by 2 reviews or more and by at most
  :data:`index.similar.MAX_SHARE` of them), the :data:`index.similar.TERMS` heaviest
  by BM25 weight, each a ``term`` clause on ``w`` boosted by that weight;
* the works it lists (``works``), each boosted by its idf over the same share.

OpenSearch's BM25 of the clauses ranks the answers (scores are the cluster's, not
comparable with the embedded ones); every clause is named, so each answer says which
words and works it shares: the reason shown, as on the embedded side.
"""
from __future__ import annotations

import base64

from archive.errors import NotFound
from index.cluster_client import Client
from index.rank import AVGDL, B, K1, dl_code, DL_TABLE, idf
from index.similar import SHOWN_TERMS, TERMS, Related, _cap, distinctive
from index.texts import Texts


def _counts(client: Client, index: str, field: str, terms: list[str]) -> dict[str, int]:
    """How many reviews hold each term (one request)."""
    lines: list[dict] = []
    for t in terms:
        lines += [{"index": index}, {"size": 0, "track_total_hits": True,
                                     "query": {"term": {field: t}}}]
    if not lines:
        return {}
    res = client.retrying("POST", "/_msearch", ndjson=lines)
    return {t: r["hits"]["total"]["value"] for t, r in zip(terms, res["responses"])}


def similar(client: Client, index: str, uuid: str, limit: int = 10) -> list[Related]:
    """The reviews most like review ``uuid`` (a full id), best first, from the cluster."""
    from index.analysis import fold
    from index.document import unit_words

    got = client.request("GET", f"/{index}/_doc/{uuid}", ok=(200, 404),
                         params={"_source_includes": "doc.text,doc.keys,doc.references"})
    if not got or not got.get("found"):
        raise NotFound(f"no review with id {uuid!r} in the cluster's index (see `reviews list`)")
    doc = got["_source"]["doc"]
    text = Texts(base64.b64decode(doc["text"]))
    n_units = len(doc["keys"].split("\x1f")) if doc["keys"] else 0
    tf = unit_words(lambda j: fold(text.part(j)), n_units)
    n = client.retrying("POST", f"/{index}/_count", {"query": {"match_all": {}}})["count"]
    cap = _cap(n)
    candidates = [w for w in tf if distinctive(w) and " " not in w]
    df = _counts(client, index, "w", candidates)
    dl = DL_TABLE[dl_code(sum(tf.values()))]
    norm = 1 - B + B * dl / AVGDL
    weights = {w: idf(n, df[w]) * tf[w] * (K1 + 1) / (tf[w] + K1 * norm)
               for w in candidates if 2 <= df.get(w, 0) <= cap}
    top = sorted(weights, key=lambda w: (-weights[w], w))[:TERMS]
    works = sorted({row[4] for row in doc["references"]})
    wdf = _counts(client, index, "works", works)
    should = [{"term": {"w": {"value": w, "boost": weights[w], "_name": f"w:{w}"}}} for w in top]
    should += [{"term": {"works": {"value": r, "boost": idf(n, wdf[r]), "_name": f"r:{r}"}}}
               for r in works if 2 <= wdf.get(r, 0) <= cap]
    if not should:
        return []
    body = {"size": limit, "_source": ["topic"],
            "query": {"bool": {"should": should, "minimum_should_match": 1,
                               "must_not": [{"ids": {"values": [uuid]}}]}},
            "sort": [{"_score": "desc"}, {"uuid": "asc"}], "track_scores": True}
    hits = client.retrying("POST", f"/{index}/_search", body)["hits"]["hits"]
    out = []
    for h in hits:
        names = h.get("matched_queries", ())
        shared = [nm[2:] for nm in names if nm.startswith("w:")]
        shared.sort(key=lambda w: (-weights.get(w, 0.0), w))
        kept = [w for w in shared if not any(w in o for o in shared if o != w)][:SHOWN_TERMS]
        out.append(Related(h["_id"], h["_source"].get("topic", ""), round(h["_score"], 6),
                           sum(1 for nm in names if nm.startswith("r:")), tuple(kept)))
    return out

