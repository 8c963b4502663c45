"""The content part of a record: title, abstract, numbered sections, reference lists.

Headings are recognised by their number path (``3.1.2``), not by how many ``#`` they
carry: generated text uses ``## 1.`` in the outline and ``### 1`` in the content.
"""
from __future__ import annotations

import re

from .citations import extract_citations
from .lint import lint_references
from .model import ABSTRACT, Flag, OutlineItem, Record, Section
from .references import parse_reference_block

_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)(?:\.(?=\s|$))?(?:[ \t\u3000]+|$)(.*)$")
_REFS_TITLE = re.compile(r"^(?:参考文献|References?)[ \t]*[:：]?$", re.I)
_ABSTRACT_MARK = re.compile(r"^[ \t]*(?:\*\*|#+[ \t]*)?摘[ \t]*要(?:\*\*)?[ \t]*[:：]?[ \t]*(?:\*\*)?[ \t]*(.*)$")
_KEYWORDS_MARK = re.compile(r"^[ \t]*(?:\*\*|#+[ \t]*)?关键词(?:\*\*)?[ \t]*[:：]?[ \t]*(?:\*\*)?[ \t]*[:：]?[ \t]*(.*)$")
_KEYWORD_SPLIT = re.compile(r"[,，、;；]")
_ENDS_SENTENCE = set("。！？!?…；;：:.）)」』”\"'》]】>")
_NEXT_CHAPTER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(\d{1,3})(?:[.\s]|$)", re.M)
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"


def heading(line: str) -> tuple[int, str] | None:
    m = _HEADING.match(line)
    if not m:
        return None
    return len(m.group(1)), m.group(2).strip()


def split_number(title: str) -> tuple[str, str]:
    """``"3.1.2 肺癌筛查"`` -> ``("3.1.2", "肺癌筛查")``; ``("", title)`` if unnumbered."""
    m = _NUMBER.match(title)
    if not m:
        return "", title
    return m.group(1), m.group(2).strip()


def strip_think(text: str, flags: list[Flag]) -> str:
    """Remove ``<think>…</think>`` blocks (flagging any with text) in one pass."""
    out: list[str] = []
    pos = 0
    while True:
        i = text.find(_THINK_OPEN, pos)
        if i < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:i])
        j = text.find(_THINK_CLOSE, i + len(_THINK_OPEN))
        if j < 0:
            flags.append(Flag("unclosed-think", "", "a <think> tag without </think> (tag removed)"))
            pos = i + len(_THINK_OPEN)
            continue
        inner = text[i + len(_THINK_OPEN):j]
        if inner.strip():
            nxt = _NEXT_CHAPTER.search(text, j)  # the chapter whose chunk this block opens
            where = nxt.group(1) if nxt else ""
            flags.append(Flag("think-not-empty", where, f"{len(inner.strip())} characters removed"))
        pos = j + len(_THINK_CLOSE)
    return "".join(out).replace(_THINK_CLOSE, "")


def parse_outline(text: str) -> tuple[list[OutlineItem], int | None]:
    items: list[OutlineItem] = []
    chapter_level = None
    for line in text.split("\n"):
        h = heading(line)
        if not h:
            continue
        level, title = h
        number, rest = split_number(title)
        if number:
            depth = number.count(".") + 1
            if depth == 1 and chapter_level is None:
                chapter_level = level
            items.append(OutlineItem(number, rest, depth))
        elif level >= 2:
            items.append(OutlineItem("", title, 0))
    return items, chapter_level


class _Block:
    """A numbered section while its lines are being collected."""

    def __init__(self, number: str, title: str):
        self.number, self.title = number, title
        self.lines: list[str] = []


def parse_content(body: str, rec: Record, outline_chapter_level: int | None) -> None:
    lines = body.split("\n")
    headings = []  # (line index, level, number, title)
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            h = heading(line)
            if h:
                number, title = split_number(h[1])
                headings.append((i, h[0], number, title if number else h[1]))
    chapter_level = next((lv for _, lv, num, _ in headings if num and "." not in num), None)
    last_numbered = max((i for i, _, num, _ in headings if num), default=-1)
    heading_at = {i: (lv, num, t) for i, lv, num, t in headings}

    preamble: list[str] = []
    blocks: list[_Block] = []
    seen_numbers: set[str] = set()
    global_lines: list[str] | None = None
    local_lists: dict[str, list[str]] = {}
    local_until: dict[str, str] = {}  # chapter -> the section its own list stands in
    target: list[str] | None = preamble  # where plain lines go
    for i, line in enumerate(lines):
        h = heading_at.get(i)
        if h is None:
            target.append(line)
            continue
        level, number, title = h
        if number:
            if number in seen_numbers:
                rec.flags.append(Flag("duplicate-section", number, title[:40]))
                k = 2
                while f"{number}-{k}" in seen_numbers:
                    k += 1
                number = f"{number}-{k}"
            seen_numbers.add(number)
            blocks.append(_Block(number, title))
            target = blocks[-1].lines
        elif _REFS_TITLE.match(title):
            deeper = chapter_level is not None and level > chapter_level  # "#### 参考文献" in a chapter
            is_global = not blocks or (not deeper and (i > last_numbered or level < (chapter_level or 0)))
            if is_global:
                global_lines = global_lines if global_lines is not None else []
                target = global_lines
            else:
                chapter = blocks[-1].number.split(".")[0]
                target = local_lists.setdefault(chapter, [])
                local_until[chapter] = blocks[-1].number  # the list's own section
        elif not blocks and level == 1 and not rec.title:
            rec.title = title
        else:
            if target is global_lines or any(target is v for v in local_lists.values()):
                target = blocks[-1].lines if blocks else preamble
            target.append(line)

    _parse_preamble(preamble, rec)
    if global_lines is None:
        rec.flags.append(Flag("missing-references", "references"))
    else:
        rec.references.extend(parse_reference_block(global_lines, "", rec))
    for chapter, ls in local_lists.items():
        rec.references.extend(parse_reference_block(ls, chapter, rec))
        rec.flags.append(Flag("local-references", chapter))

    numbers = {b.number for b in blocks}
    for b in blocks:
        text = "\n".join(b.lines).strip("\n")
        depth = b.number.split("-")[0].count(".") + 1
        rec.sections.append(Section(b.number, b.title, depth, text, b.number.split(".")[0]))
    _flag_sections(rec, numbers)
    _flag_outline(rec, numbers, outline_chapter_level, chapter_level)
    extract_citations(rec, local_until)
    rec.flags.extend(lint_references(rec))


def _parse_preamble(lines: list[str], rec: Record) -> None:
    abstract: list[str] = []
    seen_mark = False
    rest: list[str] = []
    for line in lines:
        km = _KEYWORDS_MARK.match(line)
        if km and line.strip():
            rec.keywords = [k.strip(" *") for k in _KEYWORD_SPLIT.split(km.group(1)) if k.strip(" *")]
            seen_mark = seen_mark or bool(abstract)
            continue
        am = _ABSTRACT_MARK.match(line) if not seen_mark else None
        if am and line.strip():
            seen_mark = True
            if am.group(1).strip():
                abstract.append(am.group(1))
            continue
        (abstract if seen_mark else rest).append(line)
    text = "\n".join(abstract if seen_mark else rest).strip()
    rec.abstract = text


def _flag_sections(rec: Record, numbers: set[str]) -> None:
    parents = {n.rsplit(".", 1)[0] for n in numbers if "." in n}
    for s in rec.sections:
        if not s.body.strip():
            if s.number not in parents:
                rec.flags.append(Flag("empty-section", s.number))
            continue
        if _ends_mid_sentence(s.body):
            rec.flags.append(Flag("truncated", s.number))
        for _ in _placeholder_tables(s.body):
            rec.flags.append(Flag("placeholder-table", s.number))


def _ends_mid_sentence(body: str) -> bool:
    for line in reversed(body.split("\n")):
        t = line.strip()
        if not t:
            continue
        if t.startswith(("|", "#", "- ", "* ", "+ ", ">", "```")) or re.match(r"^\d+[.)]\s", t):
            return False
        t = t.rstrip("*_ ")
        return bool(t) and t[-1] not in _ENDS_SENTENCE
    return False


def _placeholder_tables(body: str):
    rows: list[str] = []
    for line in body.split("\n") + [""]:
        if line.strip().startswith("|"):
            rows.append(line.strip())
            continue
        if rows:
            if _is_placeholder(rows):
                yield rows
            rows = []


def _is_placeholder(rows: list[str]) -> bool:
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    sep = next((k for k, r in enumerate(cells) if r and all(re.fullmatch(r":?-{1,}:?", c) for c in r if c)), None)
    data = cells[sep + 1:] if sep is not None else cells[1:]
    values = [c for r in data for c in r if c]
    if not data:
        return False
    if not values:
        return True
    if not all(v.isdigit() for v in values):
        return False
    return [int(v) for v in values] == list(range(1, len(values) + 1))


def _flag_outline(rec: Record, numbers: set[str], outline_level: int | None, content_level: int | None) -> None:
    if outline_level and content_level and outline_level != content_level:
        rec.flags.append(
            Flag("heading-level-mismatch", "", f"outline chapters use {'#' * outline_level}, content {'#' * content_level}")
        )
    if not rec.outline:
        return
    outlined = {o.number for o in rec.outline if o.number}
    for o in rec.outline:
        if o.number and o.number not in numbers:
            rec.flags.append(Flag("missing-chapter", o.number, o.title[:40]))
    for s in rec.sections:
        if s.number not in outlined and "-" not in s.number:
            rec.flags.append(Flag("extra-chapter", s.number, s.title[:40]))
    if not rec.sections:
        rec.flags.append(Flag("no-sections"))


__all__ = ["heading", "split_number", "strip_think", "parse_outline", "parse_content", "ABSTRACT"]
