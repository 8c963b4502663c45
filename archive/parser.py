"""Parse callback records (回调数据记录) into :class:`archive.model.Record`.

Tolerant by design: every defect of generated text becomes a :class:`Flag`; only input
that is not a record at all is refused (:class:`RefusedInput`, naming the reason). All
passes are linear in the size of the input.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from . import sections as sec
from .decode import decode
from .errors import RefusedInput
from .model import Flag, Record

_RECORD_START = re.compile(r"^\ufeff?[ \t]*回调数据记录[ \t]*$", re.M)
_RECEIVED_LINE = re.compile(r"^[ \t]*接收时间[ \t]*[:：]", re.M)
_HEADER_KEY = re.compile(r"^[ \t]*(接收时间|主题|UUID|uuid|Uuid)[ \t]*([:：])[ \t]*(.*?)[ \t]*$")
_SECTION_LINE = re.compile(r"^[ \t]*(大纲|内容)[ \t]*([:：])[ \t]*$", re.M)
_END_LINE = re.compile(r"^[ \t]*对话结束[ \t]*$", re.M)
_UUID = re.compile(r"^[{(]?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})[})]?$")
_DATE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
)


@dataclass
class Parsed:
    record: Record
    raw: bytes  # the exact bytes of this record in the delivered file


def parse(data: bytes, source: str = "<stdin>") -> list[Parsed]:
    """Parse one delivered file. Returns one :class:`Parsed` per record it holds."""
    dec = decode(data, source)
    text = dec.text
    _refuse_foreign(text, source)
    starts = _record_starts(text)
    if len(starts) <= 1:
        return [Parsed(_parse_text(text, source, dec.encoding, bool(dec.bom)), data)]
    out = []
    bounds = [0] + starts[1:] + [len(text)]
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        part_source = f"{source} (record {i + 1} of {len(starts)})"
        rec = _parse_text(text[a:b], part_source, dec.encoding, bool(dec.bom) and i == 0)
        rec.flags.insert(0, Flag("split-record", "", f"record {i + 1} of {len(starts)} in one file"))
        lo = dec.encode_prefix(text[:a]) if a else 0
        hi = dec.encode_prefix(text[:b])
        out.append(Parsed(rec, data[lo:hi]))
    return out


def _refuse_foreign(text: str, source: str) -> None:
    head = text.lstrip("\ufeff \t\r\n")[:512]
    low = head.lower()
    if low.startswith(("<!doctype html", "<html", "<?xml")) or ("<html" in low and "<head" in low):
        raise RefusedInput(source, "an HTML page, not a callback record")
    if head[:1] in "{[":
        try:
            json.loads(text)
            is_json = True
        except ValueError:
            is_json = head[:1] == "{" and '":' in head
        if is_json:
            raise RefusedInput(source, "a JSON payload, not a callback record (expected the 接收时间/主题/UUID text header)")


def _record_starts(text: str) -> list[int]:
    """Character offsets where records begin (two concatenated records give two)."""
    starts = [m.start() for m in _RECORD_START.finditer(text)]
    received = [m.start() for m in _RECEIVED_LINE.finditer(text)]
    if len(received) > len(starts):
        # Records without the 回调数据记录 banner: each 接收时间 line starts one,
        # unless a banner shortly precedes it.
        merged = sorted(set(starts))
        for r in received:
            if not any(0 <= r - s < 200 for s in starts):
                merged.append(r)
        starts = sorted(merged)
    if not starts:
        return [0]
    starts[0] = 0
    # A later "start" that has no UUID line before the next start is not a record header.
    real = [0]
    for i, s in enumerate(starts[1:], 1):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[s:min(end, s + 2000)]
        if re.search(r"^[ \t]*UUID[ \t]*[:：]", chunk, re.M | re.I):
            real.append(s)
    return real


def _parse_text(text: str, source: str, encoding: str, bom: bool) -> Record:
    flags: list[Flag] = []
    if bom:
        flags.append(Flag("bom"))
    if not encoding.startswith("utf-8"):
        flags.append(Flag("encoding", "", encoding))
    if "\r" in text:
        if "\r\n" in text:
            flags.append(Flag("crlf"))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\ufeff")

    content_m = _first(_SECTION_LINE, text, "内容")
    outline_m = _first(_SECTION_LINE, text, "大纲")
    header_end = min(m.start() for m in (content_m, outline_m) if m) if (content_m or outline_m) else len(text)
    header = _parse_header(text[:header_end], source, flags)
    if content_m is None:
        raise RefusedInput(source, "the header has no 内容: section (no review content)")
    if outline_m is None or outline_m.start() > content_m.start():
        flags.append(Flag("missing-outline"))
        outline_text = ""
    else:
        outline_text = text[outline_m.end():content_m.start()]
    body = text[content_m.end():]

    end_m = _END_LINE.search(body)
    if end_m is None:
        flags.append(Flag("missing-end"))
    else:
        trailing = body[end_m.end():].strip()
        if trailing:
            flags.append(Flag("trailing-text", "", f"{len(trailing)} characters after 对话结束"))
        body = body[:end_m.start()]

    body = sec.strip_think(body, flags)
    outline, outline_level = sec.parse_outline(outline_text)
    rec = Record(
        uuid=header["uuid"],
        received_at=header["received_at"],
        topic=header["topic"],
        outline=outline,
        flags=flags,
        encoding=encoding,
    )
    sec.parse_content(body, rec, outline_level)
    rec.language = "zh" if re.search(r"[\u4e00-\u9fff]", rec.topic + rec.title + rec.abstract) else "en"
    return rec


def _first(pattern: re.Pattern, text: str, key: str):
    for m in pattern.finditer(text):
        if m.group(1) == key:
            return m
    return None


def _parse_header(head: str, source: str, flags: list[Flag]) -> dict:
    values: dict[str, str] = {}
    fullwidth = False
    for line in head.split("\n"):
        m = _HEADER_KEY.match(line)
        if not m:
            continue
        key = m.group(1).upper() if m.group(1).lower() == "uuid" else m.group(1)
        if m.group(2) == "：":
            fullwidth = True
        values.setdefault(key, m.group(3))
    if not values:
        raise RefusedInput(source, "not a callback record: no 接收时间 / 主题 / UUID header")
    if fullwidth:
        flags.append(Flag("fullwidth-colon", "header"))
    if "UUID" not in values:
        raise RefusedInput(source, "no UUID in the record header")
    raw_uuid = values["UUID"]
    um = _UUID.match(raw_uuid.strip())
    if not um:
        shown = raw_uuid if len(raw_uuid) <= 60 else raw_uuid[:57] + "..."
        raise RefusedInput(source, f"malformed UUID {shown!r} (expected 32 hex digits)")
    uuid = "".join(um.groups()).lower()
    when = values.get("接收时间")
    if when is None:
        raise RefusedInput(source, "no 接收时间 (received time) in the record header")
    dm = _DATE.match(when.strip())
    if not dm:
        raise RefusedInput(source, f"malformed 接收时间 {when[:60]!r} (expected YYYY-MM-DD HH:MM:SS)")
    y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in dm.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31 and hh < 24 and mm < 60 and ss < 61):
        raise RefusedInput(source, f"malformed 接收时间 {when[:60]!r} (no such date or time)")
    topic = values.get("主题", "").strip()
    if not topic:
        flags.append(Flag("missing-topic", "header"))
    return {
        "uuid": uuid,
        "received_at": f"{y:04d}-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}",
        "topic": topic,
    }
