"""What the listing, reference and quality pages need, fed one record (or one partition's
state) at a time.

Small things stay in memory: a summary and the flags of each review, and per reference
its spellings, years and counts.  The bulky part, where each reference is listed and
every citing sentence, goes to a SQLite table (in memory by default; a scratch file when
the site builder passes one, so the build's memory does not grow with the citations).
A reference page reads the :data:`REF_REVIEWS` newest reviews that list it from there.
"""
from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict, namedtuple
from dataclasses import astuple, dataclass, field
from pathlib import Path

from archive.model import ABSTRACT, Record
from archive.references import display_title

from . import urls
from .pages import Summary, flag_label, summarize

REF_REVIEWS = 30  # citing reviews listed on a reference page (the newest); the rest: search
Use = namedtuple("Use", "uuid section section_title anchor marker sentence")

_SCHEMA = """
CREATE TABLE listed(ref_id TEXT, uuid TEXT, received TEXT, entries TEXT);
CREATE TABLE uses(ref_id TEXT, uuid TEXT, ordinal INTEGER, section TEXT, section_title TEXT,
                  anchor TEXT, marker TEXT, sentence TEXT);
"""


@dataclass
class RefInfo:
    ref_id: str
    spellings: Counter = field(default_factory=Counter)
    years: set = field(default_factory=set)
    n_uses: int = 0  # citations of it
    n_citing: int = 0  # reviews that cite it
    n_listed: int = 0  # reviews that list it

    @property
    def title(self) -> str:
        return display_title([t for t, _ in self.spellings.most_common()]) or self.ref_id


class Catalog:
    """Summaries, topics, references with their uses, and flags of a set of reviews."""

    def __init__(self, scratch: str | Path | None = None) -> None:
        self.summaries: dict[str, Summary] = {}
        self.refs: dict[str, RefInfo] = {}
        self.flags: dict[str, list] = {}
        if scratch is not None:
            Path(scratch).unlink(missing_ok=True)
        self.db = sqlite3.connect(str(scratch) if scratch is not None else ":memory:")
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self._indexed = False

    def close(self) -> None:
        self.db.close()

    def add(self, rec: Record) -> None:
        self.summaries[rec.uuid] = summarize(rec)
        self.flags[rec.uuid] = [{"code": f.code, "label": flag_label(f.code), "text": f.describe(),
                                 "severity": f.severity}
                                for f in rec.flags]
        listed: dict[str, list] = defaultdict(list)
        for r in rec.references:
            info = self.refs.setdefault(r.ref_id, RefInfo(r.ref_id))
            info.spellings[r.title] += 1
            if r.year:
                info.years.add(r.year)
            listed[r.ref_id].append((r.scope, r.n))
        for ref_id in listed:
            self.refs[ref_id].n_listed += 1
        titles = {s.number: s.title for s in rec.sections}
        titles[ABSTRACT] = "摘要"
        uses, citing = [], set()
        for i, c in enumerate(rec.citations):
            if c.ref_id is None or c.ref_id not in listed:
                continue
            self.refs[c.ref_id].n_uses += 1
            citing.add(c.ref_id)
            uses.append((c.ref_id, rec.uuid, i, c.section, titles.get(c.section, ""),
                         urls.section_anchor(c.section), c.marker, c.sentence))
        for ref_id in citing:
            self.refs[ref_id].n_citing += 1
        self._insert([(rid, rec.uuid, rec.received_at, json.dumps(e)) for rid, e in listed.items()],
                     uses)

    def _insert(self, listed: list, uses: list) -> None:
        self.db.executemany("INSERT INTO listed VALUES (?,?,?,?)", listed)
        self.db.executemany("INSERT INTO uses VALUES (?,?,?,?,?,?,?,?)", uses)

    # -- a catalog as plain JSON data, and merging one into another ---------
    def state(self) -> dict:
        return {
            "summaries": [astuple(s) for s in self.summaries.values()],
            "flags": self.flags,
            "refs": [[r.ref_id, dict(r.spellings), sorted(r.years), r.n_uses, r.n_citing, r.n_listed]
                     for r in self.refs.values()],
            "listed": self.db.execute("SELECT * FROM listed ORDER BY rowid").fetchall(),
            "uses": self.db.execute("SELECT * FROM uses ORDER BY rowid").fetchall(),
        }

    def merge(self, state: dict) -> None:
        """Add a :meth:`state` of other reviews (as if their records were added here)."""
        for row in state["summaries"]:
            self.summaries[row[0]] = Summary(*row)
        self.flags.update(state["flags"])
        for ref_id, spellings, years, n_uses, n_citing, n_listed in state["refs"]:
            info = self.refs.setdefault(ref_id, RefInfo(ref_id))
            info.spellings.update(spellings)
            info.years.update(years)
            info.n_uses += n_uses
            info.n_citing += n_citing
            info.n_listed += n_listed
        self._insert(state["listed"], state["uses"])

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

    def ref_context(self, info: RefInfo) -> dict:
        if not self._indexed:
            self.db.executescript("CREATE INDEX listed_ref ON listed(ref_id, received, uuid);"
                                  "CREATE INDEX uses_ref ON uses(ref_id, uuid, ordinal);")
            self._indexed = True
        newest = self.db.execute(
            "SELECT uuid, entries FROM listed WHERE ref_id = ? ORDER BY received DESC, uuid DESC"
            " LIMIT ?", (info.ref_id, REF_REVIEWS)).fetchall()
        uuids = [u for u, _ in newest]
        by_review: dict[str, list] = defaultdict(list)
        for row in self.db.execute(
                "SELECT uuid, section, section_title, anchor, marker, sentence FROM uses"
                f" WHERE ref_id = ? AND uuid IN ({','.join('?' * len(uuids))}) ORDER BY ordinal",
                (info.ref_id, *uuids)):
            by_review[row[0]].append(Use(*row))
        reviews = [{"summary": self.summaries[uuid], "uses": by_review.get(uuid, []),
                    "entries": [tuple(e) for e in json.loads(entries)]} for uuid, entries in newest]
        return {"ref": info, "spellings": info.spellings.most_common(), "reviews": reviews,
                "years": sorted(info.years), "more": info.n_listed - len(reviews)}

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
        severity = {f["code"]: f["severity"] for fl in self.flags.values() for f in fl}
        codes = [{"code": c, "label": flag_label(c), "count": n, "reviews": newest(reviews_by_code[c]),
                  "severity": severity[c]}
                 for c, n in sorted(by_code.items(),  # defects first, then the most frequent
                                    key=lambda kv: (severity[kv[0]] != "defect", -kv[1], kv[0]))]
        flagged = [(self.summaries[u], fl) for u, fl in self.flags.items() if fl]
        flagged.sort(key=lambda x: (any(f["severity"] == "defect" for f in x[1]), x[0].received_at,
                                    x[0].uuid), reverse=True)
        defective = sum(1 for fl in self.flags.values() if any(f["severity"] == "defect" for f in fl))
        notes_only = sum(1 for fl in self.flags.values() if fl and all(f["severity"] != "defect" for f in fl))
        return {"codes": codes, "flagged": flagged, "defective": defective, "notes_only": notes_only,
                "clean": len(self.flags) - defective}
