"""What each page shows: contexts for the templates, computed from Records.

One pass over the archive feeds :class:`Catalog` (summaries, topics, references and
their uses, flags); the review page itself needs only its own record.
"""
from __future__ import annotations

from collections import Counter, defaultdict, namedtuple
from dataclasses import astuple, dataclass, field
from sys import intern

from archive.model import ABSTRACT, Record

from . import urls
from .render import CiteContext, markdown

FLAG_LABELS = {
    "bom": "字节顺序标记 (BOM)",
    "crlf": "CRLF 换行",
    "encoding": "非 UTF-8 编码",
    "fullwidth-colon": "头部使用全角冒号",
    "think-not-empty": "<think> 块含文字（已移除）",
    "heading-level-mismatch": "大纲与正文标题级别不一致",
    "missing-chapter": "正文缺少大纲中的章节",
    "extra-chapter": "正文多出大纲中没有的章节",
    "truncated": "正文中途截断",
    "placeholder-table": "占位表格",
    "empty-section": "空章节",
    "local-references": "章节自带参考文献列表",
    "missing-references": "缺少参考文献",
    "missing-end": "缺少“对话结束”",
    "dangling-citation": "悬空引用",
    "reference-no-year": "参考文献缺少年份",
    "missing-outline": "缺少大纲",
    "split-record": "一个文件含多条记录",
}


def flag_label(code: str) -> str:
    return FLAG_LABELS.get(code, code)


@dataclass
class Summary:
    uuid: str
    received_at: str
    topic: str
    title: str
    n_sections: int
    n_refs: int
    n_citations: int
    n_dangling: int
    flags: list[str]  # distinct codes

    @property
    def date(self) -> str:
        return self.received_at[:10]


def summarize(rec: Record) -> Summary:
    return Summary(
        uuid=rec.uuid, received_at=rec.received_at, topic=rec.topic,
        title=rec.title or rec.topic, n_sections=len(rec.sections),
        n_refs=len(rec.references), n_citations=len(rec.citations),
        n_dangling=sum(1 for c in rec.citations if c.ref_id is None),
        flags=rec.flag_codes(),
    )


# -- one review ---------------------------------------------------------------
def _scopes(rec: Record) -> dict[str, set[int]]:
    lists: dict[str, set[int]] = defaultdict(set)
    for r in rec.references:
        lists[r.scope].add(r.n)
    return lists


def _section_cites(rec: Record, chapter: str, lists: dict[str, set[int]]) -> CiteContext:
    scope = chapter if chapter and chapter in lists else ""
    return CiteContext(scope, lists.get(scope, set()), bracket=False)


def review_context(rec: Record) -> dict:
    lists = _scopes(rec)
    sections = []
    for s in rec.sections:
        sections.append({
            "number": s.number, "title": s.title, "depth": s.depth,
            "anchor": urls.section_anchor(s.number),
            "html": markdown(s.body, _section_cites(rec, s.chapter, lists)) if s.body.strip() else "",
        })
    ref_lists = []
    for scope in sorted(lists, key=lambda x: (x != "", _num_key(x))):
        entries = [
            {"n": r.n, "title": r.title, "year": r.year, "ref_id": r.ref_id, "raw": r.raw,
             "anchor": urls.ref_anchor(r.scope, r.n)}
            for r in rec.references if r.scope == scope
        ]
        ref_lists.append({"scope": scope, "entries": entries})
    toc = []
    if rec.abstract or rec.keywords:
        toc.append({"anchor": "abstract", "label": "摘要", "depth": 1})
    toc += [{"anchor": s["anchor"], "label": f'{s["number"]} {s["title"]}'.strip(), "depth": s["depth"]}
            for s in sections]
    if ref_lists:
        toc.append({"anchor": "references", "label": "参考文献", "depth": 1})
    return {
        "rec": rec,
        "summary": summarize(rec),
        "abstract_html": markdown(rec.abstract, CiteContext("", lists.get("", set()), bracket=True))
        if rec.abstract.strip() else "",
        "sections": sections,
        "ref_lists": ref_lists,
        "toc": toc,
        "flags": [{"code": f.code, "label": flag_label(f.code), "text": f.describe()} for f in rec.flags],
    }


def _num_key(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 10**6 for p in number.split(".")) if number else ()


# -- across the archive ---------------------------------------------------------
REF_REVIEWS = 30  # citing reviews listed on a reference page (the newest); the rest: search
Use = namedtuple("Use", "uuid section section_title anchor marker sentence")


@dataclass
class RefInfo:
    ref_id: str
    spellings: Counter = field(default_factory=Counter)
    years: set = field(default_factory=set)
    listed_in: dict = field(default_factory=dict)  # uuid -> [(scope, n)]
    uses: list = field(default_factory=list)  # Use tuples (of the newest citing reviews)
    citing: set = field(default_factory=set)  # uuids that cite it
    n_uses: int = 0  # all uses, also those no longer in ``uses``

    @property
    def title(self) -> str:
        return self.spellings.most_common(1)[0][0] if self.spellings else self.ref_id


class Catalog:
    """Everything the listing, reference and quality pages need, fed one record at a time."""

    def __init__(self) -> None:
        self.summaries: dict[str, Summary] = {}
        self.refs: dict[str, RefInfo] = {}
        self.flags: dict[str, list] = {}

    def add(self, rec: Record) -> None:
        self.summaries[rec.uuid] = summarize(rec)
        self.flags[rec.uuid] = [{"code": f.code, "label": flag_label(f.code), "text": f.describe()}
                                for f in rec.flags]
        for r in rec.references:
            info = self.refs.setdefault(r.ref_id, RefInfo(r.ref_id))
            info.spellings[r.title] += 1
            if r.year:
                info.years.add(r.year)
            info.listed_in.setdefault(rec.uuid, []).append((r.scope, r.n))
        titles = {s.number: s.title for s in rec.sections}
        titles[ABSTRACT] = "摘要"
        for c in rec.citations:
            if c.ref_id is None or c.ref_id not in self.refs:
                continue
            info = self.refs[c.ref_id]
            info.citing.add(rec.uuid)
            info.n_uses += 1
            info.uses.append(Use(rec.uuid, c.section, titles.get(c.section, ""),
                                 urls.section_anchor(c.section), c.marker, c.sentence))

    # -- a catalog as plain JSON data, and merging one into another ---------
    def state(self) -> dict:
        return {
            "summaries": [astuple(s) for s in self.summaries.values()],
            "flags": self.flags,
            "refs": [[r.ref_id, dict(r.spellings), sorted(r.years), r.listed_in,
                      [list(u) for u in r.uses], sorted(r.citing), r.n_uses]
                     for r in self.refs.values()],
        }

    def merge(self, state: dict) -> None:
        """Add a :meth:`state` of other reviews (as if their records were added here)."""
        # UUIDs recur in every reference a review cites: intern them, so the sets and
        # dicts below share one string per review.
        for row in state["summaries"]:
            self.summaries[intern(row[0])] = Summary(intern(row[0]), *row[1:])
        self.flags.update(state["flags"])
        for ref_id, spellings, years, listed_in, uses, citing, n_uses in state["refs"]:
            info = self.refs.setdefault(ref_id, RefInfo(ref_id))
            info.spellings.update(spellings)
            info.years.update(years)
            for uuid, entries in listed_in.items():
                info.listed_in[intern(uuid)] = [tuple(e) for e in entries]
            info.uses.extend(Use(intern(u[0]), *u[1:]) for u in uses)
            info.citing.update(map(intern, citing))
            info.n_uses += n_uses
            if len(info.uses) > 4 * REF_REVIEWS:
                self._prune(info)

    def _newest(self, uuids) -> list[str]:
        return sorted(uuids, key=lambda u: (self.summaries[u].received_at, u), reverse=True)

    def _prune(self, info: RefInfo) -> None:
        """Keep the uses of the newest :data:`REF_REVIEWS` citing reviews only (the
        reference page shows no more): bounded memory however often it is cited."""
        keep = set(self._newest({u.uuid for u in info.uses})[:REF_REVIEWS])
        info.uses = [u for u in info.uses if u.uuid in keep]

    # -- views -------------------------------------------------------------
    def by_date(self) -> list[Summary]:
        return sorted(self.summaries.values(), key=lambda s: (s.received_at, s.uuid), reverse=True)

    def topics(self) -> list[tuple[str, list[Summary]]]:
        groups: dict[str, list[Summary]] = defaultdict(list)
        for s in self.by_date():
            groups[s.topic].append(s)
        return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))

    def refs_by_citations(self) -> list[RefInfo]:
        return sorted(self.refs.values(),
                      key=lambda r: (-r.n_uses, -len(r.listed_in), r.title, r.ref_id))

    def ref_context(self, info: RefInfo) -> dict:
        by_review: dict[str, list] = defaultdict(list)
        for u in info.uses:
            by_review[u.uuid].append(u)
        reviews = []
        for uuid in self._newest(info.listed_in)[:REF_REVIEWS]:
            reviews.append({"summary": self.summaries[uuid], "entries": info.listed_in[uuid],
                            "uses": by_review.get(uuid, [])})
        return {"ref": info, "spellings": info.spellings.most_common(), "reviews": reviews,
                "years": sorted(info.years), "more": len(info.listed_in) - len(reviews)}

    def quality(self) -> dict:
        by_code: Counter = Counter()
        reviews_by_code: dict[str, set] = defaultdict(set)
        for uuid, flags in self.flags.items():
            for f in flags:
                by_code[f["code"]] += 1
                reviews_by_code[f["code"]].add(uuid)
        def newest(uuids):
            return sorted((self.summaries[u] for u in uuids), key=lambda s: (s.received_at, s.uuid),
                          reverse=True)
        codes = [{"code": c, "label": flag_label(c), "count": n, "reviews": newest(reviews_by_code[c])}
                 for c, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))]
        flagged = [(self.summaries[u], fl) for u, fl in self.flags.items() if fl]
        flagged.sort(key=lambda x: (x[0].received_at, x[0].uuid), reverse=True)
        return {"codes": codes, "flagged": flagged, "clean": len(self.flags) - len(flagged)}
