"""Bytes to text: BOMs, UTF-16, GB18030, and clear refusals for what is not text."""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from .errors import RefusedInput

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Markers that show a GB18030 reading of non-UTF-8 bytes is the right one.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f]")
_HEADER_WORDS = ("UUID", "主题", "接收时间", "内容")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # "utf-8", "utf-16-le", "utf-16-be" or "gb18030"
    bom: bytes  # the byte order mark that preceded the text (b"" if none)

    def encode_prefix(self, text_prefix: str) -> int:
        """Byte length of ``text_prefix`` (a prefix of ``text``) in the original file."""
        return len(self.bom) + len(text_prefix.encode(self.encoding))


def decode(data: bytes, source: str) -> Decoded:
    if not data:
        raise RefusedInput(source, "empty file")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                text = body.decode(enc)
            except UnicodeDecodeError as e:
                raise RefusedInput(source, f"{enc} byte order mark, but invalid {enc} at byte {e.start + len(bom)}") from None
            _check_text(text, source)
            return Decoded(text, enc, bom)
    nul = data.find(b"\x00")
    if nul >= 0:
        guessed = _try_utf16(data)
        if guessed is not None:
            _check_text(guessed[0], source)
            return Decoded(guessed[0], guessed[1], b"")
        hint = (" (it may be UTF-16 without a byte order mark, but it does not read as a record)"
                if _utf16_shaped(data) else "")
        raise RefusedInput(source, f"binary data (NUL byte at offset {nul}), not a text record{hint}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.end >= len(data) and e.reason == "unexpected end of data":
            raise RefusedInput(
                source, f"UTF-8 text cut mid-character at byte {e.start} of {len(data)} (the file looks truncated)"
            ) from None
        text = _try_gb18030(data)
        if text is None:
            raise RefusedInput(
                source,
                f"not UTF-8, UTF-16 or GB18030 text (invalid byte 0x{data[e.start]:02x} at offset {e.start})",
            ) from None
        _check_text(text, source)
        return Decoded(text, "gb18030", b"")
    _check_text(text, source)
    return Decoded(text, "utf-8", b"")


def _utf16_shaped(data: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when the NUL bytes of the head stand (nearly all) on one
    side of each byte pair, as the ASCII of UTF-16 text puts them (a few CJK characters,
    such as 一 U+4E00, put one on the other side); else None."""
    if len(data) % 2:
        return None
    head = data[:4096]
    odd = head[1::2].count(0)
    even = head[0::2].count(0)
    if odd >= 4 and even * 8 <= odd:
        return "utf-16-le"
    if even >= 4 and odd * 8 <= even:
        return "utf-16-be"
    return None


def _try_utf16(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a byte order mark: NULs on one side of every pair and a record's
    header words in the text."""
    enc = _utf16_shaped(data)
    if enc is None:
        return None
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        return None
    return (text, enc) if sum(w in text[:4000] for w in _HEADER_WORDS) >= 2 else None


def _try_gb18030(data: bytes) -> str | None:
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    head = text[:4000]
    return text if sum(w in head for w in _HEADER_WORDS) >= 2 else None


def _check_text(text: str, source: str) -> None:
    if not text.strip():
        raise RefusedInput(source, "file holds only whitespace")
    head = text[:4096]
    if "\x00" in head:
        raise RefusedInput(source, "binary data (NUL characters), not a text record")
    controls = len(_CONTROLS.findall(head))
    if controls > max(8, len(head) // 50):
        raise RefusedInput(source, "binary data (control characters), not a text record")
