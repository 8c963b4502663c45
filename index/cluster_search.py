"""``reviews search`` on an OpenSearch cluster: the same language, the same review sets.

The embedded engine (:mod:`index.search`) finds candidates by the grams of each item,
answers an item of one gram from its postings, and checks the rest against the stored
text. This module does the same with the cluster in place of the postings:

1. **candidates**: one OpenSearch query. Each item becomes a clause over the
   document's fields (:mod:`index.cluster_doc`): an unspaced Chinese string of three
   characters or more is the phrase of its pairs in ``c`` (``tc`` for ``topic:``),
   which is exact; any other literal needs every gram in ``g`` (``tg`` for ``topic:``,
   ``sg`` for ``section:words``), exact when it is one gram; ``path`` for
   ``section:3.1``, ``refs`` for ``ref:``, a prefix of ``uuid``. Groups are ANDed, the
   items of a group ORed; a ``NOT`` item that its grams answer exactly is a
   ``must_not``; the dates are a range on ``received``. Every clause is *named*, so
   each hit says which items it may hold (``matched_queries``);
2. **verification**: where the grams cannot tell (a literal of several grams, a
   ``section:`` scope, an inexact ``NOT``), the hit's stored text is fetched and checked
   by the embedded engine's own code (:func:`index.search._matches` over
   :class:`index.texts.Texts`), so the set is exact and equal to the embedded one;
3. **ranking** is the cluster's: BM25 over the same jieba words (``w``), plus the
   topic and title boosts of :mod:`index.rank` as constant-score clauses. Ties go to
   the newest review, then the UUID, as in the embedded order;
4. **sections and snippets** of the page's reviews come from the stored text by
   :func:`index.search._sections`, with each gram's part map recomputed from the text,
   so they are the embedded engine's.

``ref:words`` first finds the works: reviews listing a title with every gram of the
words (``rg``), their spellings checked by :class:`index.literal.Literal`, as the
embedded engine checks its spelling documents.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from index.cluster_client import Client
from index.encoding import encode_parts
from index.literal import Literal, grams, pairs_of
from index.query import Atom, is_ref_id, section_path
from index.rank import GramMaps, TITLE_BOOST, TOPIC_BOOST, starts_of
from index.facets import facets as count_facets
from index.search import (
    ReviewHit, SearchResult, _Atom, _Plan, _matches, _sections, prepare,
)
from index.texts import TOPIC, StoredText, body_part, title_part

PAGE = 5000  # hits per request while every match is collected (search_after)
FETCH = 500  # documents per _mget while texts are checked


def _all_grams(lit: Literal) -> list[str]:
    return sorted(lit.grams())


def _grams_clause(field: str, lit: Literal, name: str) -> dict:
    gs = _all_grams(lit)
    if not gs:
        return {"match_none": {"_name": name}}
    return {"bool": {"filter": [{"term": {field: g}} for g in gs], "_name": name}}


@dataclass
class _Item:
    """One query item as the cluster sees it: its clause, and how a hit holding it is
    checked (:class:`index.search._Atom` is made per hit from ``kind``)."""

    atom: Atom
    name: str
    clause: dict
    kind: str  # "text", "topic", "titles", "path", "any" (uuid:, ref:)
    exact: bool
    literal: Literal | None = None
    ids: frozenset[str] = frozenset()
    path: str | None = None


def ref_ids(client: Client, index: str, lits: list[Literal]) -> dict[str, list[str]]:
    """Works (ids, each with its spellings as written) one of whose spellings holds every
    literal: found through the reviews listing a title with every gram (``rg``), checked
    on the spellings themselves."""
    from index.analysis import fold

    gs = sorted({g for lit in lits for g in lit.grams()})
    if not gs:
        return {}
    query = {"bool": {"filter": [{"term": {"rg": g}} for g in gs]}}
    found: dict[str, list[str]] = {}
    for hit in _scan(client, index, query, source=["doc.spellings"]):
        for rid, title in hit["_source"]["doc"]["spellings"]:
            folded = fold(title)
            if all(lit.occurs(folded) for lit in lits):
                found.setdefault(rid, []).append(title)
    return found


def _compile(client: Client, index: str, atom: Atom, name: str) -> _Item:
    value = atom.value.strip().lower()
    if atom.field == "uuid":
        prefix = atom.value.lower().replace("-", "")
        return _Item(atom, name, {"prefix": {"uuid": {"value": prefix, "_name": name}}}, "any", True)
    path = section_path(value) if atom.field == "section" else None
    if path:
        return _Item(atom, name, {"term": {"path": {"value": path, "_name": name}}}, "path", True,
                     path=path)
    if atom.field == "ref" and is_ref_id(value):
        return _Item(atom, name, {"term": {"refs": {"value": value, "_name": name}}}, "any", True,
                     ids=frozenset([value]))
    lit = Literal(atom.value)
    if atom.field == "ref":
        ids = frozenset(ref_ids(client, index, [lit]))
        clause = ({"terms": {"refs": sorted(ids), "_name": name}} if ids
                  else {"match_none": {"_name": name}})
        return _Item(atom, name, clause, "any", True, lit, ids)
    if atom.field == "section":
        return _Item(atom, name, _grams_clause("sg", lit, name), "titles", False, lit)
    kind, grams_field, pairs_field = (("topic", "tg", "tc") if atom.field == "topic" else
                                      ("text", "g", "c"))
    if lit.plain is not None and len(lit.plain) > 2:  # a phrase of its pairs: exact
        clause = {"match_phrase": {pairs_field: {"query": pairs_of(lit.plain), "_name": name}}}
        return _Item(atom, name, clause, kind, True, lit)
    return _Item(atom, name, _grams_clause(grams_field, lit, name), kind, lit.exact, lit)


def _scoring(items: list[_Item]) -> list[dict]:
    """The ranking clauses: BM25 over each text item's jieba words, and the topic and
    title boosts when the topic (the titles) hold every gram of an item."""
    from index.analysis import fold
    from index.words import words

    out: list[dict] = []
    for it in items:
        if it.kind not in ("text", "topic") or it.literal is None:
            continue
        ws = [w for w in words(fold(it.atom.value)) if w.strip() and " " not in w]
        if ws:
            out.append({"match": {"w": {"query": " ".join(dict.fromkeys(ws))}}})
        gs = _all_grams(it.literal)
        if gs:
            out.append({"constant_score": {"filter": {"bool": {"filter": [
                {"term": {"tg": g}} for g in gs]}}, "boost": TOPIC_BOOST}})
            if it.kind == "text":
                out.append({"constant_score": {"filter": {"bool": {"filter": [
                    {"term": {"sg": g}} for g in gs]}}, "boost": TITLE_BOOST}})
    return out


def _scan(client: Client, index: str, query: dict, source=False, sort=None, extra=None):
    """Every hit of ``query``, in ``sort`` order (default: index order), a page at a
    time (``search_after``)."""
    sort = sort or [{"uuid": "asc"}]
    after = None
    while True:
        body = {"query": query, "size": PAGE, "sort": sort, "_source": source,
                "track_total_hits": False}
        if extra:
            body.update(extra)
        if after is not None:
            body["search_after"] = after
        res = client.retrying("POST", f"/{index}/_search", body)
        hits = res["hits"]["hits"]
        yield from hits
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def _fetch(client: Client, index: str, uuids: list[str], fields: list[str]) -> dict[str, dict]:
    """The ``_source`` (only ``fields``) of the given documents."""
    out: dict[str, dict] = {}
    for k in range(0, len(uuids), FETCH):
        chunk = uuids[k:k + FETCH]
        res = client.retrying("POST", f"/{index}/_mget", {"ids": chunk},
                              params={"_source_includes": ",".join(fields)})
        for d in res["docs"]:
            if d.get("found"):
                out[d["_id"]] = d["_source"]
    return out


def _parts(keys: str) -> int:
    n = len(keys.split("\x1f")) if keys else 0
    return (1 << (1 + 2 * n)) - 1  # the topic, then a title and a body per unit


def _subtree(keys: str, path: str) -> int:
    """The part map of section ``path`` and its subsections (``abstract``,
    ``references``: that unit), as the index's ``path`` postings hold it."""
    m = 0
    for i, key in enumerate(keys.split("\x1f") if keys else []):
        if key == path or (path[0].isdigit() and key.startswith(path + ".")):
            m |= (1 << title_part(i)) | (1 << body_part(i))
    return m


def _titles(keys: str) -> int:
    n = len(keys.split("\x1f")) if keys else 0
    return sum(1 << title_part(i) for i in range(n))


def _where(it: _Item, keys: str) -> int:
    """The parts of a review (its unit keys) where item ``it`` may stand, once the
    cluster said the review may hold it."""
    if it.kind == "text":
        return _parts(keys)
    if it.kind == "topic":
        return TOPIC
    if it.kind == "titles":
        return _titles(keys)
    if it.kind == "path":
        return _subtree(keys, it.path or "")
    return -1


def _atom_for(it: _Item, hits: dict[int, tuple[set[str], str]], scoped: bool) -> _Atom:
    """The embedded engine's compiled item over the local numbering of the hits: the
    hits that may hold it, each with the parts it may stand in."""
    maps = {d: _where(it, keys) for d, (names, keys) in hits.items() if it.name in names}
    # a text item answered by its gram is exact at the review's level only: inside a
    # section: scope, its parts are checked on the text
    exact = it.exact and not (scoped and it.kind == "text")
    return _Atom(it.atom, maps, exact, it.literal, it.ids)


def _gram_maps(held: list[set[str]], lit: Literal, d: int) -> list[GramMaps]:
    """Each gram's part map in one review (``held``: each part's grams), what the
    embedded index's ``g`` postings hold: the sections' order uses them."""
    out = []
    for g in lit.grams():
        m = 0
        for j, part in enumerate(held):
            if g in part:
                m |= 1 << j
        out.append(GramMaps({d: encode_parts(m)}))
    return out


def search(client: Client, index: str, query: str, *, since: str | None = None,
           until: str | None = None, limit: int | None = 20, offset: int = 0,
           per_review: int = 3, ids_only: bool = False, sort: str = "relevance",
           facets: bool = False) -> SearchResult:
    """Run a query on the cluster; the same arguments and result as
    :func:`index.search.search`. ``sort="date"`` is the cluster's sort on ``received``
    then ``uuid`` (keywords: compared as the embedded engine compares the strings);
    facets are counted by :mod:`index.facets` over the exact match set, from each
    hit's ``topic`` and ``received`` (the document's ``topic`` is not indexed: no
    aggregation can count it, and the set is known only after the text checks anyway)."""
    parsed, dates = prepare(query, since, until, limit, offset, sort, facets)
    counter = iter(range(1 << 30))
    positive = [[_compile(client, index, a, f"p{next(counter)}") for a in g]
                for g in parsed.groups if not g[0].negated]
    negative = [_compile(client, index, g[0], f"n{next(counter)}")
                for g in parsed.groups if g[0].negated]
    filters = [{"bool": {"should": [it.clause for it in g], "minimum_should_match": 1}}
               for g in positive]
    if parsed.since or parsed.until:
        filters.append({"range": {"received": {"gte": parsed.since or "0000",
                                               "lte": (parsed.until or "9999") + "\uffff"}}})
    must_not = [it.clause for it in negative if it.exact]
    suspects = [it for it in negative if not it.exact]
    should = _scoring([it for g in positive for it in g])
    should += [{"constant_score": {"filter": it.clause, "boost": 0.0}} for it in suspects]
    body_query = {"bool": {"filter": filters, "must_not": must_not, "should": should}}
    by_date = [{"received": "desc"}, {"uuid": "asc"}]
    order_by = by_date if sort == "date" else [{"_score": "desc"}, *by_date]

    scoped = any(it.kind in ("path", "titles") for g in positive for it in g)
    needs_text = bool(suspects) or scoped or any(not it.exact for g in positive for it in g)
    if not needs_text and not ids_only and dates is None:  # the clauses are the answer:
        size = limit if limit is not None else 10000          # one page, exact count
        res = client.retrying("POST", f"/{index}/_search", {
            "query": body_query, "sort": order_by, "from": offset, "size": size, "_source": False,
            "track_total_hits": True, "track_scores": True})
        hits = res["hits"]["hits"]
        total = res["hits"]["total"]["value"]
        if limit is None and total > offset + len(hits):  # (every match asked for: all of them)
            hits = list(_scan(client, index, body_query, sort=order_by,
                              extra={"track_scores": True}))[offset:]
        page = [h["_id"] for h in hits]
        names = {d: (set(h.get("matched_queries", ())), "") for d, h in enumerate(hits)}
        plan = _Plan([[_atom_for(it, names, False) for it in g] for g in positive], [], [])
        result = SearchResult(query, total, offset=offset, limit=limit, sort=sort)
        _page(client, index, plan, [it for g in positive for it in g], page,
              {u: d for d, u in enumerate(page)}, {h["_id"]: h["_score"] or 0.0 for h in hits},
              {}, per_review, result)
        return result
    source = (["doc.keys"] if needs_text else []) + (["topic", "received"] if dates is not None else [])
    hits = list(_scan(client, index, body_query, sort=order_by, extra={"track_scores": True},
                      source=source or False))
    order = [h["_id"] for h in hits]
    score = {h["_id"]: h["_score"] or 0.0 for h in hits}
    local = {u: d for d, u in enumerate(order)}
    if ids_only and not needs_text and dates is None:  # the clauses answered every item:
        result = SearchResult(query, len(order), offset=offset, limit=limit, sort=sort)
        result.uuids = order                               # the hits are the set
        return result
    names = {local[h["_id"]]: (set(h.get("matched_queries", ())),
                               h.get("_source", {}).get("doc", {}).get("keys", ""))
             for h in hits}
    items = [it for g in positive for it in g] + suspects
    pos = [[_atom_for(it, names, scoped) for it in g] for g in positive]
    plan = _Plan(pos, [_atom_for(it, names, scoped) for it in suspects],
                 [a for g in pos for a in g if a.atom.field == "section"])
    found, scopes = order, {}
    if needs_text:
        ok, scopes = _matches(_Column(client, index, order), plan, set(range(len(order))))
        found = [u for u in order if local[u] in ok]
    result = SearchResult(query, len(found), offset=offset, limit=limit, sort=sort)
    if dates is not None:
        src = {h["_id"]: h["_source"] for h in hits}
        result.facets = count_facets(((src[u]["topic"], src[u]["received"]) for u in found), *dates)
    if ids_only:
        result.uuids = found
        return result
    page = found[offset:offset + limit] if limit is not None else found[offset:]
    _page(client, index, plan, items, page, local, score, scopes, per_review, result)
    return result


def _page(client: Client, index: str, plan: _Plan, items: list[_Item], page: list[str],
          local: dict[str, int], score: dict[str, float], scopes: dict[int, int],
          per_review: int, result: SearchResult) -> None:
    """The page's reviews, each with the sections where the items stand (the embedded
    engine's :func:`index.search._sections` over the review's own text)."""
    docs = _fetch(client, index, page, ["uuid", "topic", "received", "doc"])
    compiled = [(it, a) for it, a in zip(items, [a for g in plan.positive for a in g] + plan.negative)]
    for u in page:
        src, d = docs[u], local[u]
        doc = src["doc"]
        text = StoredText({"keys": doc["keys"], "cites": doc["cites"]},
                          base64.b64decode(doc["text"]))
        held = None  # each part's grams, made once for the review's items
        for it, a in compiled:  # (the parts from this review's own units)
            if d in a.maps:
                a.maps[d] = _where(it, doc["keys"])
            if a.literal is not None and a.atom.field is None:
                held = held or [grams(text.folded(j)) for j in range(1 + 2 * len(text.keys))]
                a.grams = _gram_maps(held, a.literal, d)
        count, secs = _sections(plan, d, text, scopes.get(d), per_review, starts_of(doc["starts"]))
        result.reviews.append(ReviewHit(u, src["topic"], src["received"], count,
                                        round(score[u], 4), secs))


class _Column:
    """The ``text`` values of the hits, by local number, fetched a batch at a time the
    first time one of a batch is asked for (most checks need a few of the hits only
    when the grams already settle the rest)."""

    def __init__(self, client: Client, index: str, order: list[str]):
        self.client, self.index, self.order = client, index, order
        self.values: dict[int, bytes] = {}

    def __getitem__(self, d: int) -> bytes:
        v = self.values.get(d)
        if v is None:
            start = d - d % FETCH
            chunk = self.order[start:start + FETCH]
            got = _fetch(self.client, self.index, chunk, ["doc.text"])
            for k, u in enumerate(chunk):
                if u in got:
                    self.values[start + k] = base64.b64decode(got[u]["doc"]["text"])
            v = self.values[d]
        return v


def resolve(client: Client, index: str, review_id: str) -> str:
    """A review's full id from an id or a unique prefix, among every host's reviews."""
    from archive.errors import Ambiguous, NotFound

    prefix = review_id.strip().lower().replace("-", "")
    if not prefix or any(c not in "0123456789abcdef" for c in prefix):
        raise NotFound(f"no review with id {review_id!r} (see `reviews list`)")
    body = {"query": {"prefix": {"uuid": prefix}}, "size": 11, "_source": False,
            "sort": [{"uuid": "asc"}]}
    found = [h["_id"] for h in client.retrying("POST", f"/{index}/_search", body)["hits"]["hits"]]
    if not found:
        raise NotFound(f"no review with id {review_id!r} in this archive or the cluster's index")
    if len(found) > 1:
        raise Ambiguous(review_id, found)
    return found[0]
