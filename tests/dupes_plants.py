"""Near duplicates planted in generated records, for the tests of ``reviews dupes``: a
copy under a new UUID with sentences edited, one with its chapters in another order, one
with a chapter replaced, one recycled into another topic; and a paragraph planted in
several reviews. Text in, text out (the records as delivered, decoded)."""
from __future__ import annotations

import random
import re

from archive.decode import decode
from bench.corpus import Generated

_CHUNK = re.compile(r"(?=<think>)")
_TAIL = re.compile(r"\n# 参考文献:|对话结束")
_SENTENCE = re.compile(r"(?<=。)[^。\n#|]{20,90}。")
PASSAGE = ("在多中心前瞻性研究中，研究团队统一了数据采集规范与质量控制流程，并将所有原始记录"
           "交由独立委员会复核，以保证不同机构之间的结果可以直接比较，这一做法后来被视为该领域的参考标准。")


def text_of(g: Generated) -> str:
    return decode(g.data, g.name).text


def with_header(text: str, uuid: str | None = None, received: str | None = None,
                topic: str | None = None) -> str:
    if uuid:
        text = re.sub(r"^UUID[:：].*$", f"UUID: {uuid}", text, count=1, flags=re.M)
    if received:
        text = re.sub(r"^接收时间[:：].*$", f"接收时间: {received}", text, count=1, flags=re.M)
    if topic:
        old = re.search(r"^主题[:：]\s*(.*)$", text, flags=re.M).group(1)
        text = text.replace(old, topic)
    return text


def _chapters(text: str) -> tuple[str, list[str], str]:
    """``(everything up to the first chapter, the chapter chunks, the tail)``."""
    head, content = text.split("\n内容:", 1)
    parts = _CHUNK.split(content)
    last = parts[-1]
    cut = _TAIL.search(last)
    tail = last[cut.start():] if cut else ""
    parts[-1] = last[:cut.start()] if cut else last
    return head + "\n内容:" + "".join(parts[:2]), parts[2:], tail


def _number(chunk: str) -> str:
    return re.search(r"^#+ (\d+)\s", chunk, flags=re.M).group(1)


def _renumber(chunk: str, to: str) -> str:
    return re.sub(rf"^(#+ ){_number(chunk)}(?=[.\s])", rf"\g<1>{to}", chunk, flags=re.M)


def edited(text: str, n: int, rng: random.Random) -> str:
    """``n`` sentences of the chapters written backwards (every shingle of them new)."""
    head, chapters, tail = _chapters(text)
    body = "".join(chapters)
    found = list(_SENTENCE.finditer(body))
    for m in sorted(rng.sample(found, n), key=lambda m: -m.start()):
        body = body[:m.start()] + m.group(0)[-2::-1] + "。" + body[m.end():]
    return head + body + tail


def reordered(text: str) -> str:
    """The chapters' contents in another order, each under the number of its new place."""
    head, chapters, tail = _chapters(text)
    order = chapters[1:] + chapters[:1]
    moved = [_renumber(c, _number(old)) for c, old in zip(order, chapters)]
    return head + "".join(moved) + tail


def replaced(text: str, donor: str, at: int = 2) -> str:
    """Chapter ``at`` (a place, from 0) is the donor's chapter at that place."""
    head, chapters, tail = _chapters(text)
    _, theirs, _ = _chapters(donor)
    chapters[at] = _renumber(theirs[at], _number(chapters[at]))
    return head + "".join(chapters) + tail


def with_passage(text: str, passage: str = PASSAGE) -> str:
    """``passage`` as a paragraph of its own, after the second chapter's first paragraph."""
    head, chapters, tail = _chapters(text)
    first = re.search(r"。\n\n", chapters[1])
    chapters[1] = chapters[1][:first.end()] + passage + "\n\n" + chapters[1][first.end():]
    return head + "".join(chapters) + tail
