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
        the delivery format); see :data:`FLAG_KINDS`."""
        kind = FLAG_KINDS.get(self.code)
        return kind.severity if kind else DEFECT

    def describe(self) -> str:
        """The ``reviews check`` line: ``8.1.1 truncated``, ``[^16] dangling in 4.2.1``."""
        kind = FLAG_KINDS.get(self.code)
        template = kind.line if kind else ""
        if template:
            return template.format(where=self.where, detail=self.detail).strip()
        parts = [p for p in (self.where, self.code.replace("-", " ")) if p]
        return " ".join(parts) + (f" ({self.detail})" if self.detail else "")


DEFECT = "defect"
NOTE = "note"


@dataclass(frozen=True)
class FlagKind:
    """One quality flag code, defined once: what ``where`` holds, what it means, its
    ``reviews check`` line, its label on the site, and its severity (``defect``: a reader
    of the review suffers from it; ``note``: a quirk of the delivery's form)."""

    code: str
    severity: str
    where: str
    meaning: str
    label: str  # zh-CN, for the site's pages
    line: str = ""  # the check line's template ({where}, {detail}); "" = where + code


_KINDS = [
    FlagKind("truncated", DEFECT, "section path", "text ends mid-sentence", "正文中途截断"),
    FlagKind("dangling-citation", DEFECT, "section path", "a marker beyond its reference list",
             "悬空引用", "{detail} dangling in {where}"),
    FlagKind("placeholder-table", DEFECT, "section path", "a table whose cells are just 1, 2, 3 ...",
             "占位表格"),
    FlagKind("missing-chapter", DEFECT, "outline number", "an outline chapter absent from the content",
             "正文缺少大纲中的章节", "{where} missing from the content ({detail})"),
    FlagKind("empty-section", DEFECT, "section path", "a heading with no body and no subsections",
             "空章节"),
    FlagKind("think-not-empty", DEFECT, "section path", "a <think> block with text (removed)",
             "<think> 块含文字（已移除）"),
    FlagKind("unclosed-think", DEFECT, "", "a <think> tag without </think> (tag removed)",
             "<think> 标签未闭合"),
    FlagKind("missing-references", DEFECT, "references", "no 参考文献 list", "缺少参考文献",
             "no 参考文献 list"),
    FlagKind("reference-no-year", DEFECT, "references", "a reference entry without a year",
             "参考文献缺少年份", "{detail} reference without a year"),
    FlagKind("bad-reference-line", DEFECT, "references or a chapter", "a line of a reference list that is no entry",
             "无法解析的参考文献行"),
    FlagKind("no-sections", DEFECT, "", "no numbered section in the content", "正文没有编号章节"),
    FlagKind("missing-topic", DEFECT, "header", "no 主题 in the header", "缺少主题"),
    FlagKind("duplicate-section", DEFECT, "section number", "two sections with one number (the second kept apart)",
             "章节编号重复"),
    FlagKind("reference-after-received", DEFECT, "references or a chapter",
             "a reference dated after the year the review was received", "参考文献年份晚于接收时间",
             "{detail}: dated after the review was received"),
    FlagKind("bom", NOTE, "", "UTF-8/UTF-16 byte order mark", "字节顺序标记 (BOM)", "byte order mark"),
    FlagKind("crlf", NOTE, "", "CRLF line ends", "CRLF 换行", "CRLF line ends"),
    FlagKind("encoding", NOTE, "", "not UTF-8; detail names it (gb18030, utf-16)", "非 UTF-8 编码",
             "encoded as {detail}"),
    FlagKind("fullwidth-colon", NOTE, "header", "接收时间： style colon in the header",
             "头部使用全角冒号", "full-width colon in the header"),
    FlagKind("heading-level-mismatch", NOTE, "", "outline and content use different # levels",
             "大纲与正文标题级别不一致", "heading levels differ: {detail}"),
    FlagKind("local-references", NOTE, "chapter", "the chapter carries its own reference list",
             "章节自带参考文献列表", "{where} has its own reference list"),
    FlagKind("extra-chapter", NOTE, "section number", "a content chapter the outline lacks",
             "正文多出大纲中没有的章节", "{where} not in the outline ({detail})"),
    FlagKind("missing-end", NOTE, "", "no 对话结束", "缺少“对话结束”", "no 对话结束 (end marker)"),
    FlagKind("missing-outline", NOTE, "", "no 大纲:", "缺少大纲"),
    FlagKind("split-record", NOTE, "", "the file held two records; this is one of them", "一个文件含多条记录"),
    FlagKind("duplicate-reference", NOTE, "references or a chapter", "two entries with one number in a list",
             "参考文献编号重复"),
    FlagKind("reference-uncited", NOTE, "references or a chapter", "an entry of a list that no marker cites",
             "参考文献未被引用", "{detail} never cited"),
    FlagKind("reference-duplicate", NOTE, "references or a chapter",
             "two entries of one list that are the same work (one reference id)", "同一文献重复列出",
             "{detail}: one work listed twice"),
    FlagKind("trailing-text", NOTE, "", "text after 对话结束", "“对话结束”之后还有文字"),
]
#: Every flag code the parser emits, defined once (``tests/test_parser.py`` checks that
#: the parser emits none other and that docs/DESIGN.md lists them all).
FLAG_KINDS: dict[str, FlagKind] = {k.code: k for k in _KINDS}
SEVERITY = {code: k.severity for code, k in FLAG_KINDS.items()}


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
        # A shallow copy per object: dataclasses.asdict deep-copies every value, which
        # would be most of the time of a store add.
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
