"""What the listing, reference and quality pages need, fed one record (or one partition's
state) at a time: a summary and the flags of each review, and per reference its
spellings, years and counts (small, in memory, cached per partition by the site build).

Where a work is listed and cited, and the citing sentences, are not copied here: a
reference page asks the archive (:func:`archive.citing.listings`), whose ``refs``,
``citations`` and ``sections`` tables already hold them.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict, namedtuple
from dataclasses import astuple, dataclass, field

from archive.citing import listings
from archive.listing import Summary
from archive.model import DEFECT, SEVERITY, Record
from archive.references import display_title

from . import urls
from .pages import flag_label

REF_REVIEWS = 30  # citing reviews listed on a reference page (the newest); the rest: search
Use = namedtuple("Use", "uuid section section_title anchor marker sentence")


class Flag(namedtuple("Flag", "code text")):
    """One flag of a review as the quality report shows it: its code and its text (the
    label and the severity follow from the code). Two strings, not a dict of four: the
    catalog holds every flag of the archive (~95,000 at 10k reviews: 49 MB as dicts)."""

    __slots__ = ()

    @property
    def label(self) -> str:
        return flag_label(self.code)

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.code, DEFECT)



@dataclass
class RefInfo:
    ref_id: str
    spellings: Counter = field(default_factory=Counter)
    years: set = field(default_factory=set)
    n_uses: int = 0  # citations of it
    n_citing: int = 0  # reviews that cite it
    n_listed: int = 0  # reviews that list it
    #: which reviews list it, as one number: the XOR of :func:`lister` of each listing
    #: review's (uuid, version). What a reference page and its exports show is a function
    #: of those reviews alone, so an unchanged number lets a build keep the page as it is;
    #: XOR merges partitions in any order and takes a review out as it put it in.
    listers: int = 0

    @property
    def title(self) -> str:
        return display_title([t for t, _ in self.spellings.most_common()]) or self.ref_id


def lister(uuid: str, version: object) -> int:
    """One listing review's share of :attr:`RefInfo.listers` (64 bits of a SHA-1)."""
    return int.from_bytes(hashlib.sha1(f"{uuid}:{version}".encode()).digest()[:8], "big")


class Catalog:
    """Summaries, topics, references with their uses, and flags of a set of reviews."""

    def __init__(self) -> None:
        self.summaries: dict[str, Summary] = {}
        self.refs: dict[str, RefInfo] = {}
        self.flags: dict[str, list] = {}

    def add(self, rec: Record, version: object = None) -> None:
        """One record; ``version``: its stored version id (what :attr:`RefInfo.listers`
        is made of)."""
        self.summaries[rec.uuid] = Summary.of(rec)
        self.flags[rec.uuid] = [Flag(f.code, f.describe()) for f in rec.flags]
        listed: dict[str, list] = defaultdict(list)
        for r in rec.references:
            info = self.refs.setdefault(r.ref_id, RefInfo(r.ref_id))
            info.spellings[r.title] += 1
            if r.year:
                info.years.add(r.year)
            listed[r.ref_id].append((r.scope, r.n))
        share = lister(rec.uuid, version)
        for ref_id in listed:
            self.refs[ref_id].n_listed += 1
            self.refs[ref_id].listers ^= share
        citing = set()
        for c in rec.citations:
            if c.ref_id is None or c.ref_id not in listed:
                continue
            self.refs[c.ref_id].n_uses += 1
            citing.add(c.ref_id)
        for ref_id in citing:
            self.refs[ref_id].n_citing += 1

    # -- a catalog as plain JSON data, and merging one into another ---------
    def state(self) -> dict:
        return {
            "summaries": [astuple(s) for s in self.summaries.values()],
            "flags": self.flags,
            "refs": [[r.ref_id, dict(r.spellings), sorted(r.years), r.n_uses, r.n_citing, r.n_listed,
                      r.listers] for r in self.refs.values()],
        }

    def merge(self, state: dict) -> None:
        """Add a :meth:`state` of other reviews (as if their records were added here)."""
        for row in state["summaries"]:
            self.summaries[row[0]] = Summary(*row)
        self.flags.update({u: [Flag(*f) for f in fl] for u, fl in state["flags"].items()})
        for ref_id, spellings, years, n_uses, n_citing, n_listed, listers in state["refs"]:
            info = self.refs.setdefault(ref_id, RefInfo(ref_id))
            info.spellings.update(spellings)
            info.years.update(years)
            info.n_uses += n_uses
            info.n_citing += n_citing
            info.n_listed += n_listed
            info.listers ^= listers

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
                      key=lambda r: (-r.n_uses, -r.n_listed, r.ref_id))  # as archive.citing.top_references

    def ref_context(self, info: RefInfo, store) -> dict:
        """A reference page: the work, and the :data:`REF_REVIEWS` newest reviews that list
        it, each with where it cites it (from the archive)."""
        reviews = []
        for uuid, entries, uses in listings(store, info.ref_id, REF_REVIEWS):
            reviews.append({"summary": self.summaries[uuid], "entries": entries,
                            "uses": [Use(uuid, section, title, urls.section_anchor(section), marker, sentence)
                                     for section, title, marker, sentence in uses]})
        return {"ref": info, "spellings": info.spellings.most_common(), "reviews": reviews,
                "years": sorted(info.years), "more": info.n_listed - len(reviews)}

    def quality(self) -> dict:
        by_code: Counter = Counter()
        reviews_by_code: dict[str, set] = defaultdict(set)
        for uuid, flags in self.flags.items():
            for f in flags:
                by_code[f.code] += 1
                reviews_by_code[f.code].add(uuid)

        def newest(uuids):
            return sorted((self.summaries[u] for u in uuids), key=lambda s: (s.received_at, s.uuid),
                          reverse=True)
        severity = {f.code: f.severity for fl in self.flags.values() for f in fl}
        codes = [{"code": c, "label": flag_label(c), "count": n, "reviews": newest(reviews_by_code[c]),
                  "severity": severity[c]}
                 for c, n in sorted(by_code.items(),  # defects first, then the most frequent
                                    key=lambda kv: (severity[kv[0]] != "defect", -kv[1], kv[0]))]
        flagged = [(self.summaries[u], fl) for u, fl in self.flags.items() if fl]
        flagged.sort(key=lambda x: (any(f.severity == "defect" for f in x[1]), x[0].received_at,
                                    x[0].uuid), reverse=True)
        defective = sum(1 for fl in self.flags.values() if any(f.severity == "defect" for f in fl))
        notes_only = sum(1 for fl in self.flags.values() if fl and all(f.severity != "defect" for f in fl))
        return {"codes": codes, "flagged": flagged, "defective": defective, "notes_only": notes_only,
                "clean": len(self.flags) - defective}
