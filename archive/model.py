"""The record model: what one callback record (回调数据记录) holds once parsed.

Everything here is plain data with ``to_dict`` / ``from_dict`` so the store can
keep the parsed form as JSON beside the original bytes, and the index and the
site can be rebuilt from it without re-parsing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Section path used for the abstract (摘要) of a review.
ABSTRACT = "abstract"
#: Section path of the reference list.
REFERENCES = "references"
#: The abstract and the reference list by their Chinese names (``show --section 摘要``,
#: ``search section:参考文献``).
SECTION_NAMES = {"摘要": ABSTRACT, "参考文献": REFERENCES}
#: Citation styles.
BRACKET = "bracket"  # [n]  (abstract)
CARET = "caret"  # [^n] (chapters)


@dataclass
class Flag:
    """A quality defect found while parsing, with where it is.

    ``code`` is a short stable name (``truncated``, ``placeholder-table``,
    ``dangling-citation`` ...), ``where`` a section path, ``header``,
    ``references`` or ``""`` for the whole record, ``detail`` a human text.
    """

    code: str
    where: str = ""
    detail: str = ""

    @property
    def severity(self) -> str:
        """``defect`` (a reader of the review suffers from it) or ``note`` (a quirk of
        the delivery format); see :data:`SEVERITY`."""
        return SEVERITY.get(self.code, DEFECT)

    def describe(self) -> str:
        """The ``reviews check`` line: ``8.1.1 truncated``, ``[^16] dangling in 4.2.1``."""
        template = _DESCRIBE.get(self.code)
        if template:
            return template.format(where=self.where, detail=self.detail).strip()
        parts = [p for p in (self.where, self.code.replace("-", " ")) if p]
        return " ".join(parts) + (f" ({self.detail})" if self.detail else "")


DEFECT = "defect"
NOTE = "note"
#: What each flag code means for a reader. Defects: the review itself is damaged (cut
#: off, missing or empty parts, citations that lead nowhere, placeholder tables, leaked
#: <think> text, unreadable or missing references). Notes: the delivery's form (encoding,
#: byte order mark, line ends, heading levels, colons, where a list or marker stands).
SEVERITY = {
    "truncated": DEFECT, "dangling-citation": DEFECT, "placeholder-table": DEFECT,
    "missing-chapter": DEFECT, "empty-section": DEFECT, "think-not-empty": DEFECT,
    "unclosed-think": DEFECT, "missing-references": DEFECT, "reference-no-year": DEFECT,
    "bad-reference-line": DEFECT, "no-sections": DEFECT, "missing-topic": DEFECT,
    "duplicate-section": DEFECT,
    "bom": NOTE, "crlf": NOTE, "encoding": NOTE, "fullwidth-colon": NOTE,
    "heading-level-mismatch": NOTE, "local-references": NOTE, "extra-chapter": NOTE,
    "missing-end": NOTE, "missing-outline": NOTE, "split-record": NOTE,
    "duplicate-reference": NOTE, "trailing-text": NOTE,
}

_DESCRIBE = {
    "dangling-citation": "{detail} dangling in {where}",
    "reference-no-year": "{detail} reference without a year",
    "missing-chapter": "{where} missing from the content ({detail})",
    "extra-chapter": "{where} not in the outline ({detail})",
    "local-references": "{where} has its own reference list",
    "heading-level-mismatch": "heading levels differ: {detail}",
    "missing-references": "no 参考文献 list",
    "missing-end": "no 对话结束 (end marker)",
    "encoding": "encoded as {detail}",
    "bom": "byte order mark",
    "crlf": "CRLF line ends",
    "fullwidth-colon": "full-width colon in the header",
}


@dataclass
class OutlineItem:
    number: str  # "3.1.2" ("" for unnumbered items such as 摘要)
    title: str
    depth: int  # 1 for chapters, 2 for sections ...


@dataclass
class Section:
    """A chapter, section or subsection of the content, in document order."""

    number: str  # "3", "3.1", "3.1.2"
    title: str
    depth: int  # number of components in ``number``
    body: str  # markdown of this section only (children excluded), <think> removed
    chapter: str = ""  # the chapter number this section belongs to ("3")

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip()


@dataclass
class Reference:
    """One entry of a reference list.

    ``scope`` is ``""`` for the review's own list (``# 参考文献:``) and the
    chapter number for a list a chapter carries itself (the sample's chapter 7).
    ``ref_id`` is the stable identity from :func:`archive.references.ref_id`.
    """

    n: int
    title: str
    year: int | None
    raw: str
    ref_id: str
    scope: str = ""


@dataclass
class Citation:
    """One citation marker such as ``[3]`` or ``[^3]`` where it stands."""

    marker: str  # the marker as written, "[^3]"
    style: str  # BRACKET or CARET
    n: int
    section: str  # section path, or ABSTRACT
    sentence: str  # the sentence the marker stands in (markers kept)
    ref_id: str | None  # None when dangling
    scope: str = ""  # the reference list it resolved against ("" = the review's)
    offset: int = 0  # character offset of the marker in the section body

    @property
    def dangling(self) -> bool:
        return self.ref_id is None


@dataclass
class Record:
    uuid: str  # 32 lowercase hex digits
    received_at: str  # "YYYY-MM-DD HH:MM:SS" as delivered (normalised separators)
    topic: str
    language: str = "zh"
    title: str = ""  # the content's own "# ..." heading
    outline: list[OutlineItem] = field(default_factory=list)
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    encoding: str = "utf-8"

    # -- helpers -----------------------------------------------------------
    def section(self, number: str) -> Section | None:
        for s in self.sections:
            if s.number == number:
                return s
        return None

    def chapters(self) -> list[Section]:
        return [s for s in self.sections if s.depth == 1]

    def global_references(self) -> list[Reference]:
        return [r for r in self.references if not r.scope]

    def flag_codes(self) -> list[str]:
        return sorted({f.code for f in self.flags})

    def to_dict(self) -> dict[str, Any]:
        # A shallow copy per object: dataclasses.asdict deep-copies and was two thirds
        # of the time of a store add.
        d = dict(self.__dict__)
        for key in ("outline", "sections", "references", "citations", "flags"):
            d[key] = [dict(x.__dict__) for x in d[key]]
        d["keywords"] = list(self.keywords)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Record":
        d = dict(d)
        d["outline"] = [OutlineItem(**o) for o in d.get("outline", [])]
        d["sections"] = [Section(**s) for s in d.get("sections", [])]
        d["references"] = [Reference(**r) for r in d.get("references", [])]
        d["citations"] = [Citation(**c) for c in d.get("citations", [])]
        d["flags"] = [Flag(**f) for f in d.get("flags", [])]
        return cls(**d)
