"""Search the index: parse, match, group hits (sections) by review, make snippets.

``search(index_dir, "小样本 ResNet", since=..., until=..., limit=20, offset=0,
store=store)`` returns a :class:`SearchResult`. Reviews are ranked by their best
section (BM25F over topic^4, title^3, body, plus optional jieba-word boosts);
each review shows its best ``per_review`` sections with a snippet of about 120
characters around the first match, match spans marked. ``limit``/``offset``
count reviews. Given a ``store``, a missing or corrupt index is rebuilt and
``SearchResult.notice`` says so; without one, :class:`IndexProblem` is raised.
The query path never imports jieba.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.analysis import QueryTerms, index_terms, normalize, query_terms
from index.indexer import IndexProblem, check, open_index, rebuild
from index.query import IndexView, Parsed, compile_query, date_filter, parse

SNIPPET = 120
_SPACE = re.compile(r"\s+")


@dataclass
class SectionHit:
    number: str  # "3.1.2", "abstract" or "references"
    title: str
    score: float
    snippet: list[tuple[str, bool]] = field(default_factory=list)  # (text, is_match)


@dataclass
class ReviewHit:
    uuid: str
    topic: str
    received_at: str
    n_sections: int  # matching sections in this review
    score: float  # its best section's
    sections: list[SectionHit] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    total_reviews: int
    total_sections: int
    reviews: list[ReviewHit] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    notice: str | None = None  # set when the index had to be rebuilt

    def to_dict(self) -> dict:
        d = asdict(self)
        for review in d["reviews"]:
            for sec in review["sections"]:
                sec["snippet"] = [{"text": t, "match": m} for t, m in sec["snippet"]]
        return d


# -- snippets ---------------------------------------------------------------------

def match_spans(text: str, sequences: list[QueryTerms]) -> list[tuple[int, int]]:
    """Original-text spans where a query's terms occur at consecutive positions
    (the index's own phrase semantics), merged and sorted."""
    norm = normalize(text)
    at: dict[int, dict[str, tuple[int, int]]] = {}
    for t in index_terms(norm.text):
        at.setdefault(t.pos, {}).setdefault(t.text, (t.nstart, t.nend))

    def find(pos: int, term: str, prefix: bool) -> tuple[int, int] | None:
        terms = at.get(pos, {})
        if term in terms:
            return terms[term] if not prefix else (terms[term][0], terms[term][0] + len(term))
        if prefix:
            for text_, (s, _) in terms.items():
                if text_.startswith(term):
                    return s, s + len(term)
        return None

    spans = []
    for qt in sequences:
        n = len(qt.terms)
        for pos in at:
            found = [find(pos + k, t, qt.prefix and k == n - 1) for k, t in enumerate(qt.terms)]
            if n and all(found):
                spans.append(norm.span(found[0][0], found[-1][1]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def snippet(text: str, sequences: list[QueryTerms], width: int = SNIPPET) -> list[tuple[str, bool]]:
    """About ``width`` characters of ``text`` around the first match, as
    ``(text, is_match)`` pieces; the start of the text if nothing matches."""
    spans = match_spans(text, sequences)
    start = max(0, spans[0][0] - width // 4) if spans else 0
    end = min(len(text), start + width)
    start = max(0, end - width) if spans else start
    if spans and spans[0][1] > end:  # a very long first match: show it whole
        end = spans[0][1]
    pieces: list[tuple[str, bool]] = []
    cur = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if s > cur:
            pieces.append((text[cur:s], False))
        pieces.append((text[s:e], True))
        cur = e
    if cur < end:
        pieces.append((text[cur:end], False))
    out = [(_SPACE.sub(" ", t), m) for t, m in pieces]
    if out and start > 0:
        out.insert(0, ("…", False))
    if out and end < len(text):
        out.append(("…", False))
    return out


# -- search ------------------------------------------------------------------------

def _sequences(parsed: Parsed) -> list[QueryTerms]:
    return [query_terms(a.value) for a in parsed.positive_atoms() if a.field is None]


def _run(index_dir: Path, text: str, parsed: Parsed, since, until, limit, offset,
         per_review: int) -> SearchResult:
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        q = compile_query(parsed, IndexView(searcher))
        hits = searcher.search(q, limit=None, filter=date_filter(since, until))
        uuids = reader.column_reader("uuid")
        groups: dict[str, list[tuple[float, int]]] = {}
        for score, docnum in hits.top_n:
            if uuids[docnum]:  # reference documents have no uuid and are never hits
                groups.setdefault(uuids[docnum], []).append((score, docnum))
        total_sections = sum(len(g) for g in groups.values())
        ranked = sorted(groups.items(), key=lambda kv: (-round(max(s for s, _ in kv[1]), 6), kv[0]))
        page = ranked[offset:offset + limit] if limit is not None else ranked[offset:]
        sequences = _sequences(parsed)
        reviews = []
        for uuid, docs in page:
            stored = [(score, searcher.stored_fields(d)) for score, d in docs]
            stored.sort(key=lambda sf: (-round(sf[0], 6), sf[1]["order"]))
            first = stored[0][1]
            sections = [
                SectionHit(f["section"], f["heading"], round(score, 4),
                           snippet(f.get("body", ""), sequences))
                for score, f in stored[:per_review]
            ]
            reviews.append(ReviewHit(uuid, first["topic"], first["received"], len(docs),
                                     round(stored[0][0], 4), sections))
    return SearchResult(text, len(groups), total_sections, reviews, offset, limit)


def search(index_dir: str | Path, query: str, *, since: str | None = None,
           until: str | None = None, limit: int | None = 20, offset: int = 0,
           store=None, per_review: int = 3) -> SearchResult:
    """Run a query (see :mod:`index.query` for the syntax); raises ``QueryError``."""
    index_dir = Path(index_dir)
    parsed = parse(query)
    compile_query(parsed)  # raise QueryError before touching the index
    date_filter(since, until)
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError("limit and offset must not be negative")
    try:
        return _run(index_dir, query, parsed, since, until, limit, offset, per_review)
    except Exception as err:  # noqa: BLE001 - decide below whether the index is at fault
        if isinstance(err, IndexProblem):
            problem = check(index_dir, deep=False)
        else:
            problem = check(index_dir, deep=True)
            if problem is None:
                raise  # the index is healthy: not an index problem
        if store is None:
            if isinstance(err, IndexProblem):
                raise
            raise IndexProblem(f"search index at {index_dir} is {problem}; "
                               "run `reviews reindex` to rebuild it") from err
    report = rebuild(store, index_dir)
    verb = "built" if problem == "missing" else "rebuilt"
    result = _run(index_dir, query, parsed, since, until, limit, offset, per_review)
    result.notice = (f"search index was {problem}; {verb} it from the archive "
                     f"({report.indexed} reviews)")
    return result
