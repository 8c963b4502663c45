"""Deterministic synthetic corpus of callback records (回调数据记录) with ground truth.

Each generated record looks like samples/000_a67d181a6c549fd0.txt: header, ``大纲:`` outline,
``内容:`` chunks behind ``<think></think>``, ``[n]`` citations in the abstract and ``[^n]`` in
the chapters, ``# 参考文献:`` list and ``对话结束``.  Format quirks are applied at the rates of
:class:`Quirks`; :class:`Truth` says what the record holds in the terms of archive/model.py
and the flag table of docs/DESIGN.md, so tests can check the parser, search and reference
finder against it.

Everything is driven by ``random.Random`` seeded with strings (never the global generator,
never ``hash()``): the same ``(seed, index)`` gives the same bytes on every machine.

    python -m bench.corpus 1000 /tmp/corpus --seed 1 [--clean] [--truth] [--workers 2]
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from archive.references import normalize_title, parse_reference_line
from bench import corpus_words as W


@dataclass
class Quirks:
    """Probability (0..1) that a record gets each quirk (``ref_variants``: per reference)."""

    crlf: float = 0.05
    bom: float = 0.05  # UTF-8 records only (UTF-16 always carries a BOM)
    utf16: float = 0.03
    gb18030: float = 0.05
    fullwidth_colon: float = 0.08
    uuid_dashes: float = 0.05  # no flag: dashes are accepted silently
    truncated: float = 0.1
    placeholder_table: float = 0.1
    local_references: float = 0.1
    missing_chapter: float = 0.05
    extra_chapter: float = 0.05
    heading_mismatch: float = 0.85  # content `### 1` under outline `## 1.`, as in the sample
    dangling: float = 0.15
    missing_references: float = 0.03
    missing_end: float = 0.05
    think_not_empty: float = 0.05
    no_year: float = 0.1
    empty_section: float = 0.05
    missing_outline: float = 0.03
    future_reference: float = 0.04  # an entry dated after the year the review was received
    duplicate_work: float = 0.04  # the list names one of its works again, at its end, uncited
    ref_variants: float = 0.3  # per reference: other punctuation, 发布时间 suffix, .pdf.md tail

    @classmethod
    def none(cls) -> "Quirks":
        """All rates zero: a clean corpus."""
        return cls(**{f.name: 0.0 for f in fields(cls)})

    @classmethod
    def only(cls, **rates: float) -> "Quirks":
        """All zero except the given rates, e.g. ``Quirks.only(truncated=1.0)``."""
        q = cls.none()
        for name, rate in rates.items():
            if not hasattr(q, name):
                raise TypeError(f"unknown quirk {name!r}")
            setattr(q, name, rate)
        return q


#: Quirks decided once per record (everything but the per-reference ``ref_variants``).
RECORD_QUIRKS = tuple(f.name for f in fields(Quirks) if f.name != "ref_variants")
#: Record quirks of the reference list decided by a generator of their own (seeded by the
#: record's uuid and date), so that adding them left every other draw, and so the bytes of
#: corpora generated before, as they were.
LIST_QUIRKS = ("future_reference", "duplicate_work")


@dataclass
class Truth:
    """What a generated record holds.

    ``references`` gives the canonical pool title (``ref_id`` of the written spelling equals
    ``ref_id`` of it), ``reference_lines`` the lines as written.  ``citations`` are dicts
    ``{section, marker, style, n, scope, ref_title, sentence}`` in document order;
    ``ref_title`` is None for a dangling marker; ``sentence`` is the sentence without its
    final ``。``/``；``.  ``flags`` are ``(code, where)`` pairs; ``quirks`` the names of the
    :class:`Quirks` applied.  ``texts`` maps each section path (and ``"abstract"``) to its
    body as written (a chapter's own ``#### 参考文献`` list is not body: it is in
    ``references`` with scope = the chapter).  Encodings are named as archive/decode.py
    names them: ``utf-8``, ``utf-16-le``, ``gb18030``.
    """

    uuid: str
    received_at: str
    topic: str
    title: str
    encoding: str
    sections: list[tuple[str, str]]
    references: list[tuple[int, str, int | None, str]]
    citations: list[dict]
    flags: set[tuple[str, str]]
    texts: dict[str, str]
    domain: str = ""  # research field (bench.corpus_words.FIELDS key)
    outline: list[tuple[str, str]] = field(default_factory=list)
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    reference_lines: list[str] = field(default_factory=list)
    quirks: set[str] = field(default_factory=set)

    def to_json(self) -> dict:
        d = asdict(self)
        d["flags"] = sorted(self.flags)
        d["quirks"] = sorted(self.quirks)
        return d


@dataclass
class Generated:
    name: str  # "000123_<16 hex>.txt"
    data: bytes  # the file as delivered
    truth: Truth
    index: int = 0
    quirks: Quirks | None = None


# --------------------------------------------------------------------------- words
_SLOT = re.compile(r"\{(\w+)\}")


@functools.cache
def _parts(template: str) -> tuple[str, ...]:
    return tuple(_SLOT.split(template))


class _Words:
    """Fills templates from one field's vocabulary with one random generator."""

    def __init__(self, rng: random.Random, field_name: str, vocab: dict | None = None):
        self.rng = rng
        self.r = rng.random
        v = vocab or W.FIELDS[field_name]
        self.T, self.L, self.O, self.M = v["T"], v["L"], v["O"], v["M"]
        self.E, self.EO = v["E"], v["EO"]
        self.names = [self.name() for _ in range(4)]
        self.places = [self.place() for _ in range(3)]
        self.slots = {  # a list: pick one of it; a function: call it
            "T": self.T, "T2": self.T, "L": self.L, "L2": self.L, "O": self.O,
            "M": self.M, "M2": self.M, "E": self.E, "EO": self.EO,
            "P": self.percent, "P2": self.percent,
            "N": lambda: str(int(12 + self.r() * 4988)),
            "K": lambda: str(int(1 + self.r() * 12)),
            "Y": lambda: str(int(2005 + self.r() * 14)),
            "Y2": lambda: str(int(2019 + self.r() * 6)),
            "V": lambda: f"{int(1 + self.r() * 5)}.{int(self.r() * 10)}.{int(self.r() * 10)}",
            "SEC": lambda: f"{int(2 + self.r() * 7)}.{int(1 + self.r() * 3)}.{int(1 + self.r() * 2)}",
            "NAME": self.names, "NAME2": self.names, "PLACE": self.places,
            "PROB": W.PROBLEMS, "STUDY": W.STUDIES, "J": W.JOURNALS,
        }
        self._compiled: dict[str, list] = {}

    def pick(self, seq):
        return seq[int(self.r() * len(seq))]

    def percent(self) -> str:
        return f"{5 + self.r() * 93:.1f}"

    def name(self) -> str:  # 3-char names from rare characters (not in jieba's dictionary)
        return self.pick(W.SURNAMES) + self.pick(W.GIVEN) + self.pick(W.GIVEN)

    def place(self) -> str:
        return self.pick(W.PLACE_CHARS) + self.pick(W.PLACE_CHARS) + self.pick(W.PLACE_SUFFIX)

    def fill(self, template: str) -> str:
        parts = self._compiled.get(template)
        if parts is None:
            parts = self._compiled[template] = [
                self.slots[p] if i & 1 else p for i, p in enumerate(_parts(template)) if p]
        r = self.r
        return "".join([p if type(p) is str else
                        p[int(r() * len(p))] if type(p) is list else p() for p in parts])


# --------------------------------------------------------------------------- reference pool
POOL_PER_FIELD = 260
POOL_GENERAL = 120


_ENDS_IN_YEAR = re.compile(r"(?:19|20)\d\d[.。]?$")


def _title_ok(title: str) -> bool:
    """The title reads back unchanged from ``[1] title. 2024.`` and from ``[1] title.``;
    and it does not end in a year-like number (left out since before the parser read
    those right, so that the pool, and every corpus made from it, stays the same)."""
    return (parse_reference_line(f"[1] {title}. 2024.") == (1, title, 2024)
            and parse_reference_line(f"[1] {title}.") == (1, title, None)
            and not _ENDS_IN_YEAR.search(title))


@functools.cache
def reference_pool() -> dict[str, list[tuple[str, int]]]:
    """Canonical ``(title, year)`` per field plus ``"general"``; fixed, independent of seeds."""
    rng = random.Random("bench.corpus.pool")
    seen: set[str] = set()
    pool: dict[str, list[tuple[str, int]]] = {}
    names = list(W.FIELDS)
    for key in names + ["general"]:
        entries: list[tuple[str, int]] = []
        want = POOL_GENERAL if key == "general" else POOL_PER_FIELD
        while len(entries) < want:
            words = _Words(rng, key if key != "general" else rng.choice(names))
            title = words.fill(rng.choice(W.REF_TITLES))
            norm = normalize_title(title)
            if norm in seen or not _title_ok(title):
                continue
            seen.add(norm)
            entries.append((title, rng.choice((2016, 2018, 2019, 2020, 2021, 2022, 2023, 2023,
                                               2024, 2024, 2025, 2025, 2025))))
        pool[key] = entries
    return pool


_WIDTH = {"：": ":", "，": ",", "（": "(", "）": ")", "；": ";", "！": "!",
          ":": "：", ",": "，", "(": "（", ")": "）", ";": "；"}
_WIDTH_TABLE = str.maketrans(_WIDTH)


def spell_variant(title: str, year: int, kind: str, rng: random.Random) -> tuple[str, bool]:
    """Another spelling of ``title``; returns it and whether the line keeps its year."""
    if kind == "width":
        swapped = title.translate(_WIDTH_TABLE)
        return (swapped if swapped != title else title.replace(" ", "  ", 1)), True
    if kind == "published":
        stamp = (f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                 f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
        return f"{title}（发布时间：{stamp}）", True
    if kind == "pdf":
        return title + rng.choice((".pdf.md", ".pdf(1).md")), False
    return title, True


VARIANT_KINDS = ("width", "published", "pdf")


# --------------------------------------------------------------------------- structure
class _Node:
    __slots__ = ("number", "title", "children")

    def __init__(self, number: str, title: str):
        self.number = number
        self.title = title
        self.children: list[_Node] = []

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def leaves(self):
        return [n for n in self.walk() if not n.children]


def _outline(w: _Words, rng: random.Random) -> list[_Node]:
    n_chapters = rng.randint(6, 10)
    middle = rng.sample(W.CHAPTER_TITLES, n_chapters - 2)
    titles = ["引言"] + middle + ["结论与展望"]
    chapters = []
    for ci, title in enumerate(titles, 1):
        ch = _Node(str(ci), title)
        if ci == 1:
            sec_titles = W.INTRO_SECTIONS[: rng.randint(3, 4)]
        elif ci == len(titles):
            sec_titles = W.CONCLUSION_SECTIONS[: rng.randint(2, 3)]
        else:
            sec_titles = rng.sample(W.SECTION_TITLES, rng.randint(2, 3))
        deep = 1 < ci < len(titles) and rng.random() < 0.75
        for si, st in enumerate(sec_titles, 1):
            sec = _Node(f"{ci}.{si}", w.fill(st))
            if deep:
                for ki in range(1, (3 if rng.random() < 0.2 else 2) + 1):
                    sec.children.append(_Node(f"{ci}.{si}.{ki}", w.fill(rng.choice(W.SECTION_TITLES))))
            ch.children.append(sec)
        chapters.append(ch)
    return chapters


# --------------------------------------------------------------------------- record builder
class _Citer:
    """Numbers the markers of one chapter and resolves them (against ``refs``)."""

    def __init__(self, style: str, refs: list[str] | None, scope: str, limit: int,
                 listed: int = 0):
        self.style, self.refs, self.scope, self.limit, self.next = style, refs, scope, limit, 1
        self.listed = max(limit, listed)  # entries the list has (a duplicate_work one more)

    def numbers(self, rng: random.Random) -> list[int]:
        x = rng.random()
        k = 1 if x < 0.75 else 2 if x < 0.9 else 3
        out = []
        for _ in range(k):
            if self.next > self.limit:
                self.next = 1
            out.append(self.next)
            self.next += 1
        if rng.random() < 0.2:  # the same work cited again by the next sentence
            self.next -= 1
        return out

    def resolve(self, n: int) -> str | None:
        if self.refs is None or not 1 <= n <= len(self.refs):
            return None
        return self.refs[n - 1]


class _Builder:
    def __init__(self, rng: random.Random, q: Quirks, field_name: str, vocab: dict | None = None):
        self.rng = rng
        self.q = q
        self.w = _Words(rng, field_name, vocab)
        self.field = field_name
        self.citations: list[dict] = []
        self.flags: set[tuple[str, str]] = set()
        self.per_leaf = 4.0

    # -- text ------------------------------------------------------------
    def paragraph(self, path: str, citer: _Citer, units: int,
                  p_cite: float = 0.6, extra: int | None = None) -> str:
        """``units`` sentences; markers from ``citer``; ``extra``: one more marker n (dangling)."""
        r, fill = self.rng.random, self.w.fill
        sentences, clauses_t = W.SENTENCES, W.CLAUSES
        caret = citer.style == "caret"
        out = []
        for i in range(units):
            sentence = fill(sentences[int(r() * len(sentences))])
            nums: list[int] = []
            if r() < p_cite:
                nums = citer.numbers(self.rng) if caret else self._bracket_run(citer)
            if extra is not None and i == 0:
                nums.append(extra)
            markers = "".join([f"[^{n}]" if caret else f"[{n}]" for n in nums])
            if r() < 0.2:  # a second clause; the markers go after either
                clause = fill(clauses_t[int(r() * len(clauses_t))])
                if r() < 0.5:
                    sentence = f"{sentence}{markers}，{clause}"
                else:
                    sentence = f"{sentence}，{clause}{markers}"
            else:
                sentence += markers
            for n in nums:
                self.citations.append({
                    "section": path, "marker": f"[^{n}]" if caret else f"[{n}]",
                    "style": citer.style, "n": n, "scope": citer.scope,
                    "ref_title": citer.resolve(n), "sentence": sentence})
            out.append(sentence)
            out.append("；" if i < units - 1 and r() < 0.1 else "。")
        return "".join(out)

    def _bracket_run(self, citer: _Citer) -> list[int]:  # abstract: [3] or [1][7]
        k = 1 if self.rng.random() < 0.7 else 2
        return sorted(self.rng.sample(range(1, citer.limit + 1), k))

    def truncated_tail(self) -> str:
        """A sentence cut in the middle: ends on a letter or CJK character, no punctuation."""
        s = self.w.fill(self.w.pick(W.SENTENCES))
        cut = s[: self.rng.randint(max(4, len(s) // 3), max(5, len(s) * 2 // 3))]
        while cut and (cut[-1].isspace() or unicodedata.category(cut[-1])[0] in "PS"):
            cut = cut[:-1]
        return cut

    def table(self, placeholder: bool, k: int) -> str:
        w = self.w
        caption = f"##### 表X 表格：{w.fill('{T}相关方法在{O}中的比较')}"
        head = ["方法", f"{w.pick(w.M)}（%）", w.pick(w.M), "样本量"]
        rows = [f"{caption}", f"表{k} 比较了多种方法在{w.pick(w.M)}上的表现。  ",
                "| " + " | ".join(head) + " |  ", "|" + "|".join("------" for _ in head) + "|  "]
        if placeholder:
            rows += ["| 1 | 2 | 3 |  ", "| 4 | 5 | 6 |  ", "| 7 | 8 | 9 |  "]
        else:
            for _ in range(self.rng.randint(2, 4)):
                rows.append(f"| {w.pick(w.L)} | {w.percent()} | {self.rng.random():.2f} | "
                            f"{self.rng.randint(50, 9000)} |  ")
        return "\n".join(rows)

    def references(self, applied: set[str]):
        """The review's own list: ``(size, titles or None if not written, truth, lines)``."""
        rng, flags = self.rng, self.flags
        pool = reference_pool()
        own, general = pool[self.field], pool["general"]
        n_refs = rng.randint(10, 25)
        chosen: dict[str, int] = {}
        while len(chosen) < n_refs:  # popular works come first in the pool and often here
            src = general if rng.random() < 0.2 else own
            t, y = src[int(len(src) * rng.random() ** 1.6)]
            chosen.setdefault(t, y)
        no_year_at = set(rng.sample(range(n_refs), rng.randint(1, 2))) if "no_year" in applied else set()
        side, received_year = self.side, self.received_year
        written, truth = [], []
        for i, (t, y) in enumerate(chosen.items()):
            kind = rng.choice(VARIANT_KINDS) if rng.random() < self.q.ref_variants else ""
            y = min(y, received_year)  # a review cites no work from after its own year ...
            spelling, keeps_year = spell_variant(t, y, kind, rng)
            written.append(spelling)
            truth.append((i + 1, t, y if keeps_year and i not in no_year_at else None, ""))
        dated = [i for i, r in enumerate(truth) if r[2] is not None]
        if "future_reference" in applied and dated:  # ... but for this quirk's one entry
            n, t, _, _ = truth[i := side.choice(dated)]
            truth[i] = (n, t, received_year + side.randint(1, 2), "")
        if "duplicate_work" in applied:  # one of its works again, at the end, spelled otherwise
            _, t, year, _ = truth[side.randrange(n_refs)]
            spelling, keeps_year = spell_variant(t, year or 2020, side.choice(VARIANT_KINDS), side)
            written.append(spelling)
            truth.append((n_refs + 1, t, year if keeps_year else None, ""))
        lines = [f"[{n}] {w}. {year}." if year else f"[{n}] {w}."
                 for w, (n, _, year, _) in zip(written, truth)]
        if "missing_references" in applied:
            flags.add(("missing-references", "references"))
            return n_refs, None, [], []
        if any(r[2] is None for r in truth):
            flags.add(("reference-no-year", "references"))
        for i, (n, t, year, _) in enumerate(truth):
            if year is not None and year > self.received_year:
                flags.add(("reference-after-received", "references"))
            if any(t == other[1] for other in truth[:i]):
                flags.add(("reference-duplicate", "references"))
        return n_refs, list(chosen), truth, lines

    def outline_text(self, title: str, keywords: list[str], outline: list[tuple[str, str]]) -> str:
        w = self.w
        bullets = [("背景", w.fill("{T}在{O}领域取得显著进展，但仍存在{PROB}等问题")),
                   ("目的", f"综述{title}的最新方法与应用场景"),
                   ("方法", w.fill("系统检索近五年文献，重点关注{T}、{T2}等技术")),
                   ("主要发现", w.fill("{T}与{L}成为研究热点")),
                   ("结论与展望", w.fill("{M}持续提升，但{PROB}仍待解决")),
                   ("关键词", "；".join(keywords))]
        out = ["大纲:" + "\n" * self.rng.randint(2, 12), f"# {title}\n\n## 摘要\n"]
        out += [f"- {k}：{v}  \n" for k, v in bullets]
        for number, node_title in outline:
            depth = number.count(".") + 1
            if depth == 1:
                out.append(f"\n## {number}. {node_title}\n")
            else:
                out.append(f"{'#' * (1 + depth)} {number} {node_title}\n")
        return "".join(out) + "\n"

    # -- the record ------------------------------------------------------
    def build(self, index: int, uuid: str | None = None, topic: str | None = None,
              after: datetime | None = None) -> Generated:
        rng, w, q = self.rng, self.w, self.q
        if uuid is None:
            uuid = f"{rng.getrandbits(128):032x}"
        if after is None:
            when = datetime(2024, 6, 1) + timedelta(seconds=rng.randrange(540 * 86400))
        else:
            when = after + timedelta(seconds=rng.randrange(3600, 30 * 86400))
        received = when.strftime("%Y-%m-%d %H:%M:%S")
        topic = topic or w.fill(rng.choice(W.TOPICS))
        title = topic

        applied = {n for n in RECORD_QUIRKS if n not in ("utf16", "gb18030", "bom", *LIST_QUIRKS)
                   and rng.random() < getattr(q, n)}
        self.side = random.Random(f"bench.corpus.lists|{uuid}|{received}")
        applied |= {n for n in LIST_QUIRKS if self.side.random() < getattr(q, n)}
        self.received_year = when.year
        r = rng.random()
        if r < q.utf16:
            encoding = "utf-16-le"
            applied.add("utf16")
        elif r < q.utf16 + q.gb18030:
            encoding = "gb18030"
            applied.add("gb18030")
        else:
            encoding = "utf-8"
            if rng.random() < q.bom:
                applied.add("bom")

        chapters = _outline(w, rng)
        outline = [(n.number, n.title) for ch in chapters for n in ch.walk()]
        flags = self.flags

        # -- structural quirks: which parts are absent, odd or carry what ---------
        present = list(chapters)
        absent: list[str] = []
        if "missing_chapter" in applied:
            dropped = rng.choice(chapters[1:-1])
            present.remove(dropped)
            absent += [n.number for n in dropped.walk()]
        used: set[str] = set()  # leaves that already carry a quirk
        cut_leaf = None
        if "truncated" in applied:
            ch = rng.choice(present)
            nodes = list(ch.walk())
            cut_leaf = rng.choice(ch.leaves())
            after_cut = nodes[nodes.index(cut_leaf) + 1:]
            absent += [n.number for n in after_cut]
            gone = {id(n) for n in after_cut}
            for n in nodes:  # prune what comes after the cut
                n.children = [c for c in n.children if id(c) not in gone]
            used.add(cut_leaf.number)
            flags.add(("truncated", cut_leaf.number))
        local_ch = None
        if "local_references" in applied:
            choices = [c for c in present if cut_leaf is None or not cut_leaf.number.startswith(c.number + ".")]
            local_ch = rng.choice(choices)
            used.add(local_ch.leaves()[-1].number)
            flags.add(("local-references", local_ch.number))
        leaves = [lf for ch in present for lf in ch.leaves()]

        def pick_leaf(name: str) -> str | None:
            free = [lf.number for lf in leaves if lf.number not in used]
            if name not in applied:
                return None
            if not free:
                applied.discard(name)
                return None
            chosen = rng.choice(free)
            used.add(chosen)
            return chosen

        placeholder_at = pick_leaf("placeholder_table")
        dangling_at = pick_leaf("dangling")
        empty_at = pick_leaf("empty_section")
        if placeholder_at:
            flags.add(("placeholder-table", placeholder_at))
        if empty_at:
            flags.add(("empty-section", empty_at))
        think_ch = rng.choice(present).number if "think_not_empty" in applied else None
        shift = 1 if "heading_mismatch" in applied else 0
        if shift:
            flags.add(("heading-level-mismatch", ""))
        if think_ch:
            flags.add(("think-not-empty", think_ch))
        extra = None
        if "extra_chapter" in applied:
            extra = _Node(str(len(chapters) + 1), w.fill("附录：{T}相关补充讨论"))
            present.append(extra)
            flags.add(("extra-chapter", extra.number))
        for number in absent:
            flags.add(("missing-chapter", number))

        # about 140-190 sentences in all, like the sample (~27 KB)
        self.per_leaf = rng.randint(140, 190) / (len(leaves) + (extra is not None))

        n_refs, global_titles, ref_truth, ref_lines = self.references(applied)

        # -- abstract --------------------------------------------------------
        texts: dict[str, str] = {}
        keywords = rng.sample(w.T, 3) + rng.sample(w.L, 1) + rng.sample(w.O, 1)
        abstract = self.paragraph("abstract", _Citer("bracket", global_titles, "", n_refs),
                                  rng.randint(5, 7), p_cite=0.45)
        texts["abstract"] = abstract

        # -- chapters --------------------------------------------------------
        chunks = [f"# {title}  \n**摘要**  \n{abstract}  \n\n**关键词** : {', '.join(keywords)}\n"]
        sections: list[tuple[str, str]] = []
        local_refs: list[str] = []
        local_lines: list[str] = []
        citer = _Citer("caret", global_titles, "", n_refs, len(ref_truth))
        for ch in present:
            if ch is local_ch:
                local_refs = [f"{w.pick(W.LATIN_AUTHORS)} {w.pick('ABCDEFGHJKLMRSTWXYZ')}, et al"
                              for _ in range(rng.randint(6, 10))]
                ch_citer = _Citer("caret", local_refs, ch.number, len(local_refs))
                ref_truth += [(i + 1, t, None, ch.number) for i, t in enumerate(local_refs)]
            else:
                if rng.random() < 0.6 or citer.next > n_refs:
                    citer.next = 1  # numbering restarts with the chapter
                ch_citer = citer
            lines = []
            for node in ch.walk():
                lines.append(f"{'#' * (1 + shift + node.number.count('.') + 1)} {node.number} {node.title}")
                sections.append((node.number, node.title))
                body = ""
                if not node.children and node.number != empty_at:
                    body = self.leaf_body(node, ch_citer, node is cut_leaf,
                                          node.number == placeholder_at,
                                          node.number == dangling_at)
                texts[node.number] = body
                if ch is local_ch and node is ch.leaves()[-1]:  # the list is not body text
                    local_lines = [f"{i + 1}. {t}." for i, t in enumerate(local_refs)]
                    body += "\n\n#### 参考文献\n" + "".join(f"\n{ln}  " for ln in local_lines)[1:]
                if body:
                    lines.append(body)
            think = ""
            if ch.number == think_ch:
                think = w.fill(w.pick(W.THINK_TEXTS).replace("{CH}", ch.number)) + "。"
            chunks.append((think, "\n\n".join(lines) + "\n"))

        for c in self.citations:
            if c["ref_title"] is None:
                flags.add(("dangling-citation", c["section"]))
        cited = {(c["scope"], c["n"]) for c in self.citations if c["ref_title"] is not None}
        for n, _, _, scope in ref_truth:
            if (scope, n) not in cited:
                flags.add(("reference-uncited", scope or "references"))

        # -- header, outline, assembly ---------------------------------------------
        colon = "：" if "fullwidth_colon" in applied else ": "
        shown_uuid = uuid
        if "uuid_dashes" in applied:
            shown_uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
        if "fullwidth_colon" in applied:
            flags.add(("fullwidth-colon", "header"))
        out = [f"回调数据记录\n{'=' * 30}\n接收时间{colon}{received}\n主题{colon}{topic}\n"
               f"UUID{colon}{shown_uuid}\n\n"]
        if "missing_outline" in applied:
            flags.add(("missing-outline", ""))
            flags.difference_update({f for f in flags if f[0] in ("missing-chapter", "extra-chapter",
                                                                  "heading-level-mismatch")})
        else:  # the outline as planned, before any truncation
            out.append(self.outline_text(title, keywords, outline))
        out.append("内容:\n")
        for i, chunk in enumerate(chunks):
            think, text = ("", chunk) if i == 0 else chunk
            out.append(f"<think>\n{think}\n</think>\n\n{text}\n")
        if global_titles is not None:
            out.append("\n# 参考文献:\n\n" + "".join(f"{ln}\n\n" for ln in ref_lines))
        if "missing_end" in applied:
            flags.add(("missing-end", ""))
        else:
            out.append("对话结束\n\n\n")
        text = "".join(out)

        data = _encode(text, encoding, applied, flags)
        truth = Truth(uuid=uuid, received_at=received, topic=topic, title=title,
                      encoding=encoding, sections=sections, references=ref_truth,
                      citations=self.citations, flags=flags, texts=texts, domain=self.field,
                      outline=outline, abstract=abstract, keywords=keywords,
                      reference_lines=ref_lines + local_lines, quirks=applied)
        name = f"{index:06d}_{rng.getrandbits(64):016x}.txt"
        return Generated(name=name, data=data, truth=truth, index=index, quirks=q)

    def leaf_body(self, node: _Node, citer: _Citer, cut: bool, placeholder: bool,
                  dangling: bool) -> str:
        """Paragraphs of about ``self.per_leaf`` sentences, maybe a table."""
        rng = self.rng
        units = max(2, round(self.per_leaf * (0.6 + 0.8 * rng.random())))
        sizes = [units] if units <= 6 or rng.random() < 0.3 else [units // 2, units - units // 2]
        extra = citer.listed + rng.randint(1, 5) if dangling else None
        paras = [self.paragraph(node.number, citer, k, extra=extra if i == 0 else None)
                 for i, k in enumerate(sizes)]
        if cut:
            paras[-1] += self.truncated_tail()
            return "\n\n".join(paras)
        if placeholder or rng.random() < 0.06:
            table = self.table(placeholder, rng.randint(1, 4))
            paras.insert(1, table)  # after the first paragraph; with one paragraph it closes
            # the section, as in 7.1.1 of the sample, unless one more paragraph follows
            if len(paras) == 2 and rng.random() < 0.5:
                paras.append(self.paragraph(node.number, citer, rng.randint(2, 4)))
        return "\n\n".join(paras)


def _encode(text: str, encoding: str, applied: set[str], flags: set[tuple[str, str]]) -> bytes:
    if "crlf" in applied:
        text = text.replace("\n", "\r\n")
        flags.add(("crlf", ""))
    if encoding == "utf-16-le":
        flags |= {("encoding", ""), ("bom", "")}
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "gb18030":
        flags.add(("encoding", ""))
        return text.encode("gb18030")
    if "bom" in applied:
        flags.add(("bom", ""))
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode("utf-8")


# --------------------------------------------------------------------------- public API
def _rng(*key) -> random.Random:
    return random.Random(":".join(["bench.corpus", *map(str, key)]))


def generate(n: int, seed: int = 0, quirks: Quirks | None = None,
             start: int = 0) -> Iterator[Generated]:
    """Records ``start`` .. ``start + n - 1``; record i depends only on (seed, i, quirks)."""
    q = Quirks() if quirks is None else quirks
    names = sorted(W.FIELDS)
    for i in range(start, start + n):
        rng = _rng(seed, i)
        yield _Builder(rng, q, names[int(rng.random() * len(names))]).build(i)


LEAN = 2


def topic_pool(seed: int, per_field: int) -> dict[str, list[tuple[str, dict]]]:
    """``per_field`` topics per field, each ``(topic, vocabulary)``: the concepts, methods
    and objects a review on it speaks of are a few of its field's (topics of one field
    overlap), its measures and English words the field's."""
    pool: dict[str, list[tuple[str, dict]]] = {}
    for name in sorted(W.FIELDS):
        v, topics = W.FIELDS[name], []
        for k in range(per_field):
            rng = _rng("topic", seed, name, k)
            sub = {**v, **{k: rng.sample(v[k], size) * LEAN + v[k]
                           for k, size in (("T", 5), ("L", 4), ("O", 3))}}
            topics.append((_Words(rng, name, sub).fill(rng.choice(W.TOPICS)), sub))
        pool[name] = topics
    return pool


def generate_on_topics(n: int, seed: int, per_field: int = 6,
                       quirks: Quirks | None = None) -> Iterator[Generated]:
    """Clean-or-quirked records as :func:`generate` makes them, each on one of
    ``per_field`` topics of its field (:func:`topic_pool`): its text in the topic's
    vocabulary, its works drawn from the whole field's pool. Ground truth for related
    reviews: a review's own topic is what a reader wants next to it."""
    q = Quirks.none() if quirks is None else quirks
    names, pool = sorted(W.FIELDS), topic_pool(seed, per_field)
    for i in range(n):
        rng = _rng("on-topic", seed, i)
        name = names[int(rng.random() * len(names))]
        topic, vocab = pool[name][int(rng.random() * per_field)]
        yield _Builder(rng, q, name, vocab).build(i, topic=topic)


def redeliver(g: Generated, seed: int) -> Generated:
    """The same review delivered again: same UUID and topic, later 接收时间, new content."""
    rng = _rng("redeliver", seed, g.truth.uuid, g.truth.received_at)
    after = datetime.strptime(g.truth.received_at, "%Y-%m-%d %H:%M:%S")
    builder = _Builder(rng, g.quirks or Quirks(), g.truth.domain)
    return builder.build(g.index, uuid=g.truth.uuid, topic=g.truth.topic, after=after)


def _write_chunk(out_dir: Path, start: int, n: int, seed: int, quirks: Quirks | None,
                 truth_file: bool) -> tuple[list[Path], list[str]]:
    paths, truths = [], []
    for g in generate(n, seed, quirks, start):
        p = out_dir / g.name
        p.write_bytes(g.data)
        paths.append(p)
        if truth_file:
            truths.append(json.dumps({"name": g.name, **g.truth.to_json()}, ensure_ascii=False))
    return paths, truths


def write_corpus(out_dir: Path, n: int, seed: int = 0, quirks: Quirks | None = None,
                 truth_file: bool = False, workers: int = 1, chunk: int = 500) -> list[Path]:
    """Write records 0..n-1 into ``out_dir``: ``workers`` processes, ``chunk`` records per job;
    the same files either way.

    With ``truth_file`` also ``truth.jsonl``: one :meth:`Truth.to_json` line per record.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(out_dir, a, min(chunk, n - a), seed, quirks, truth_file) for a in range(0, n, chunk)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_write_chunk, *zip(*jobs)))
    else:
        results = [_write_chunk(*job) for job in jobs]
    paths = [p for ps, _ in results for p in ps]
    if truth_file:
        lines = [t for _, ts in results for t in ts]
        (out_dir / "truth.jsonl").write_text("".join(t + "\n" for t in lines), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clean", action="store_true", help="no quirks (Quirks.none())")
    ap.add_argument("--truth", action="store_true", help="also write truth.jsonl")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args(argv)
    paths = write_corpus(a.out_dir, a.n, a.seed, Quirks.none() if a.clean else None, a.truth,
                         a.workers)
    print(f"wrote {len(paths)} records to {a.out_dir}")


if __name__ == "__main__":
    main()
