"""``reviews refs`` and the works of ``export --search`` on an OpenSearch cluster.

On the embedded index a work's citations come from the archive's own tables
(:mod:`archive.citing`). On a cluster, other hosts' reviews are not in this archive, so
they come from the documents (:mod:`index.cluster_doc` keeps every review's reference
entries and citations with their sentences): a review another host indexed displays
as fully as one of this host's. Works are matched as on the embedded side:
``ref:words`` semantics (:class:`index.literal.Literal` over each spelling's fold),
or reference ids and their prefixes.
"""
from __future__ import annotations

from collections import Counter

from archive.citing import Use
from archive.model import Reference
from archive.references import REF_ID_PREFIX
from index.cluster_client import Client
from index.cluster_search import _fetch, _scan, ref_ids
from index.literal import Literal
from index.query import QueryError
from index.refs import RefGroup


def _spellings(client: Client, index: str, query: dict, keep) -> dict[str, list[str]]:
    """Each work for which ``keep(id, title)`` holds, with the titles of its listings
    (one per listing) in the reviews ``query`` finds."""
    found: dict[str, list[str]] = {}
    for hit in _scan(client, index, query, source=["doc.spellings"]):
        for rid, title in hit["_source"]["doc"]["spellings"]:
            if keep(rid, title):
                found.setdefault(rid, []).append(title)
    return found


def find_uses(client: Client, index: str, query: str, limit: int | None = None) -> list[RefGroup]:
    """:func:`index.refs.find_uses` over the cluster's documents: the same works in the
    same order, each with all of its spellings, most listed first (the citations of the
    first ``limit`` only, None: all)."""
    words = [w for w in query.split() if w]
    if not words:
        raise QueryError("empty-ref-query")
    if all(REF_ID_PREFIX.match(w.lower()) for w in words):
        prefixes = sorted({w.lower() for w in words})
        listed = _spellings(client, index, {"bool": {
            "should": [{"prefix": {"works": p}} for p in prefixes], "minimum_should_match": 1}},
            lambda rid, _: rid.startswith(tuple(prefixes)))
        order = sorted(listed)
    else:
        holding = ref_ids(client, index, [Literal(w) for w in words])
        order = sorted(holding, key=lambda rid: (-len(holding[rid]), rid))  # most listed first
        wanted = set(order)
        listed = _spellings(client, index, {"terms": {"works": order}},
                            lambda rid, _: rid in wanted) if order else {}
    shown = order if limit is None else order[:limit]
    uses = _uses(client, index, shown)
    groups = []
    for i, rid in enumerate(order):
        counted = Counter(listed.get(rid, []))
        titles = sorted(counted, key=lambda t: (-counted[t], len(t), t))
        groups.append(RefGroup(rid, titles, uses.get(rid, []) if i < len(shown) else None))
    return groups


def uses_of(client: Client, index: str, ref_id: str) -> list[Use]:
    """Every citation of one work, newest review first, in document order."""
    return _uses(client, index, [ref_id]).get(ref_id, [])


def _uses(client: Client, index: str, ids: list[str]) -> dict[str, list[Use]]:
    """Every citation of the given works, newest review first, in document order."""
    out: dict[str, list[Use]] = {}
    if not ids:
        return out
    wanted = set(ids)
    query = {"terms": {"refs": sorted(wanted)}}
    sort = [{"received": "desc"}, {"uuid": "asc"}]
    fields = ["uuid", "topic", "received", "doc.citations"]
    for hit in _scan(client, index, query, source=fields, sort=sort):
        src = hit["_source"]
        for section, title, marker, sentence, n, scope, rid in src["doc"]["citations"]:
            if rid in wanted:
                out.setdefault(rid, []).append(Use(src["uuid"], src["topic"] or "", src["received"],
                                                   section, title, marker, sentence or "", n,
                                                   scope or ""))
    return out


def references_of(client: Client, index: str, uuids: list[str]) -> list[Reference]:
    """Every reference entry of the given reviews, review by review in the given order
    (:func:`archive.citing.references_of` for reviews of any host)."""
    docs = _fetch(client, index, uuids, ["doc.references"])
    out = []
    for u in uuids:
        for row in docs.get(u, {}).get("doc", {}).get("references", []):
            out.append(Reference(*row))
    return out
