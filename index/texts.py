"""A review document's layout, as a reader sees it: parts, part maps, chapters, texts.

Part 0 is the topic; unit ``i`` (:func:`index.units.units`) has its title in part
``1 + 2i`` and its body in part ``2 + 2i``; a *part map* is an int with bit ``j`` set
for part ``j`` (the value of a ``g`` or ``path`` posting). The parts as written are the
``text`` column (:class:`Texts`), in one of two layouts: *plain* (the embedded index:
the parts' UTF-8 bytes one after another behind a table of where each ends, so a check
reads only the parts a posting names, straight from the column's file) or *compact*
(the cluster's documents: zstd chunks, a sixth of the size, to be inflated before any
byte is read). A value says which it is. :mod:`index.document` builds documents in this layout;
the search reads them through this module, which imports neither the archive's model
nor jieba (a search command pays for every import).
"""
from __future__ import annotations

import bisect
import functools
import struct
from collections.abc import Sequence

from archive.fold import fold_many
from index.analysis import composing_marks, fold, may_fold_into_cjk, may_fold_into_cjk_utf8
from index.encoding import decode_parts
from index.literal import SEP

TOPIC = 1  # part map bit of the topic


def title_part(i: int) -> int:
    return 1 + 2 * i


def body_part(i: int) -> int:
    return 2 + 2 * i


part_map = decode_parts

CHUNK = 8192  # bytes of text per compressed chunk


_COUNT = struct.Struct("<H")
_SEP_BYTE = SEP.encode("utf-8")
_CHUNK = struct.Struct("<HI")  # first part of the chunk, end of its bytes


@functools.cache
def _compressor():  # (made when first needed, as zstandard is imported: not by `search -l 研究`)
    import zstandard

    return zstandard.ZstdCompressor(level=9)


@functools.cache
def _inflate():
    import zstandard

    return zstandard.ZstdDecompressor().decompress


def pack_text(parts: list[str], compact: bool = False) -> bytes:
    """The ``text`` column value of a review's parts: plain, or ``compact`` (see
    :class:`Texts`)."""
    return _pack_compact(parts) if compact else _pack_plain(parts)


_PLAIN = b"\0\0"  # a plain value's first bytes: a compact one has at least one chunk
_PARTS = struct.Struct("<I")


def _pack_plain(parts: list[str]) -> bytes:
    """``00 00``, the number of parts (``<I``), where each part's bytes end (``<I`` each,
    counted from the first part's first byte), then the parts' UTF-8 bytes."""
    data = [p.encode("utf-8") for p in parts]
    ends, end = [], 0
    for d in data:
        end += len(d)
        ends.append(end)
    return _PLAIN + _PARTS.pack(len(data)) + struct.pack(f"<{len(ends)}I", *ends) + b"".join(data)


def is_plain(value) -> bool:
    return value[:2] == _PLAIN


def _pack_compact(parts: list[str]) -> bytes:
    chunks: list[tuple[int, bytes]] = []
    first, cur, size = 0, [], 0
    for j, part in enumerate(parts):
        cur.append(part)
        size += len(part.encode("utf-8"))
        if size >= CHUNK or j == len(parts) - 1:
            chunks.append((first, _compressor().compress(SEP.join(cur).encode("utf-8"))))
            first, cur, size = j + 1, [], 0
    head = _COUNT.size + _CHUNK.size * len(chunks)
    table, end = [], head
    for start, data in chunks:
        end += len(data)
        table.append(_CHUNK.pack(start, end))
    return _COUNT.pack(len(chunks)) + b"".join(table) + b"".join(data for _, data in chunks)


def part_span(value: bytes, j: int) -> tuple[int, int] | None:
    """Where part ``j`` of the plain ``value`` lies in it (``(start, end)``), None past
    its last part."""
    (n,) = _PARTS.unpack_from(value, 2)
    if j >= n:
        return None
    text = 6 + 4 * n
    if j == 0:
        return text, text + _PARTS.unpack_from(value, 6)[0]
    start, end = _TWO.unpack_from(value, 2 + 4 * j)
    return text + start, text + end


_TWO = struct.Struct("<2I")


def plain_value_verdicts(file, docs, needle: bytes):
    """``(d, verdict)`` for each ``(d, where its value starts, part map)`` of ``docs``,
    values of one column file read through its map (:class:`index.reader.Mapped`):
    :func:`plain_verdict` of each, None for a compact value (:meth:`Texts.holds`
    decides). Only the parts of the map are searched, each by one ``find`` over its
    bytes as written, since a run found in no part of the map is in none (every gram
    of a run that a part holds is in that part's map). Nothing is decoded or copied;
    the bytes each verdict rests on are checked first: the value's head and table (in
    one check: a damaged count lies in the first block checked), the run found (and
    the bytes after it), or the whole part it is absent from, which is then asked
    whether a character of it may fold into CJK.

    One loop with its reads and its checks inlined (a block already checked costs a
    ``find`` in the file's flags; the rest :meth:`~index.reader.Mapped.check`), over
    many values: a phrase in most reviews is checked in nearly every review of the
    archive, and a call or a copy per read would cost more than the ``find``."""
    mm, check, head, two, one = file.raw, file.check, _HEAD.unpack_from, _TWO.unpack_from, _PARTS.unpack_from
    ok, block, size = file.flags, file.block, file.size
    marks, leads, width = _composing_bytes(), _composing_leads(), len(needle)
    for d, base, parts in docs:
        if base + 6 > size:
            check(base, base + 6)  # (raises: the value lies past the file's end)
        zero, n = head(mm, base)
        if zero:  # a compact value
            check(base, base + 2)
            yield d, None
            continue
        text = base + 6 + 4 * n
        if text > size or block and ok.find(0, base // block, (text - 1) // block + 1) >= 0:
            check(base, text)
        verdict: bool | None = False
        while parts:
            low = parts & -parts
            parts ^= low
            j = low.bit_length() - 1
            if j >= n:
                break
            if j:
                start, end = two(mm, base + 2 + 4 * j)
            else:
                start, (end,) = 0, one(mm, base + 6)
            start, end = text + start, text + end
            i = mm.find(needle, start, end)
            while i >= 0:
                after = i + width
                stop = min(end, after + _MARK)
                if stop > size or block and ok.find(0, i // block, (stop - 1) // block + 1) >= 0:
                    check(i, stop)
                if after == end or mm[after] not in leads or not mm[after:stop].startswith(marks):
                    verdict = True
                    break
                i = mm.find(needle, i + 1, end)
            if verdict:
                break
            check(start, end)  # (absent: every byte searched counts)
            if verdict is False and may_fold_into_cjk_utf8(mm[start:end]):
                verdict = None
        yield d, verdict


_HEAD = struct.Struct("<HI")  # a plain value's 00 00 and its number of parts


@functools.cache
def _composing_leads() -> frozenset[int]:
    """The first bytes of the composing marks' UTF-8 (most bytes after a run are none)."""
    return frozenset(m[0] for m in _composing_bytes())


class _InMemory:
    """A plain value in memory, read as :func:`plain_value_verdicts` reads a mapped file
    (its bytes are what was read: nothing to check)."""

    flags, block = b"", 0  # (no checksums: every check passes)

    def __init__(self, value: bytes):
        self.raw = value
        self.size = len(value)

    def check(self, start: int, end: int) -> None:
        pass


def _plain_verdict(value: bytes, needle: bytes, parts: int) -> bool | None:
    """:func:`plain_value_verdicts` of one plain value in memory."""
    return next(plain_value_verdicts(_InMemory(value), [(0, 0, parts)], needle))[1]


_MARK = 3  # UTF-8 bytes of a composing mark (U+3099, U+309A)


class Texts:
    """A review's parts as written, from its ``text`` column value. Plain
    (:func:`_pack_plain`): sliced out as asked. Compact: a table of chunks (``<H``
    count, then ``<HI`` per chunk: its first part and where its bytes end), then the
    zstd chunks, inflated a chunk at a time. Folded a part at a time, on demand."""

    def __init__(self, value: bytes):
        self._value = value
        self.plain = is_plain(value)
        self._table = [] if self.plain else chunk_table(value)
        self._starts = [start for start, _ in self._table]
        self._raw: dict[int, bytes] = {}  # chunk -> its inflated bytes
        self._parts: dict[int, str] = {}
        self._folded: dict[int, str] = {}

    def _chunk_of(self, j: int) -> int:
        return bisect.bisect_right(self._starts, j) - 1

    def _inflate(self, c: int) -> bytes:
        data = self._raw.get(c)
        if data is None:
            begin = self._table[c - 1][1] if c else _COUNT.size + _CHUNK.size * len(self._table)
            data = self._raw[c] = _inflate()(self._value[begin:self._table[c][1]])
        return data

    def _chunk_parts(self, c: int) -> list[str]:
        texts = self._inflate(c).decode("utf-8").split(SEP)
        for k, text in enumerate(texts):
            self._parts[self._starts[c] + k] = text
        return texts

    def part(self, j: int) -> str:
        """Part ``j`` as written."""
        p = self._parts.get(j)
        if p is None:
            if self.plain:
                span = part_span(self._value, j)
                if span is None:
                    raise IndexError(j)
                p = self._parts[j] = self._value[span[0]:span[1]].decode("utf-8")
                return p
            self._chunk_parts(self._chunk_of(j))
            p = self._parts[j]
        return p

    def fold_all(self) -> None:
        """Fold every part now, a chunk's parts (plain: all parts) in one translation
        (:func:`archive.fold.fold_many`): cheaper than one at a time when most are needed."""
        if self.plain:
            texts = [self.part(j) for j in range(_PARTS.unpack(self._value[2:6])[0])]
            for j, f in enumerate(fold_many(texts, SEP)):
                self._folded.setdefault(j, f)
            return
        for c in range(len(self._table)):
            texts = self._chunk_parts(c)
            for k, f in enumerate(fold_many(texts, SEP)):
                self._folded.setdefault(self._starts[c] + k, f)

    def folded(self, j: int) -> str:
        """Part ``j``, folded."""
        f = self._folded.get(j)
        if f is None:
            f = self._folded[j] = fold(self.part(j))
        return f

    def holds(self, lit, j: int) -> bool:
        """Does part ``j`` hold the literal (in its fold)? For a run of CJK characters
        the text as written answers without folding, unless it holds a character of
        ``spec.analysis.cjk_sources`` (:func:`index.analysis.may_fold_into_cjk`): found
        is found in the fold too (folding leaves the run and its neighbours in place),
        unless a composing mark follows it; absent is absent."""
        plain = lit.plain
        if plain is not None:
            part = self.part(j)
            if _bare(part, plain, composing_marks()):
                return True
            if plain not in part and not may_fold_into_cjk(part):
                return False
        return lit.occurs(self.folded(j))

    def anywhere(self, lit, parts: int, whole: bool) -> bool:
        """Does any part in the map ``parts`` hold the literal? ``whole``: a match in any
        part of the review will do (the map only says where to look first); then, for a
        run of CJK ideographs, the chunks are searched first (:func:`plain_in`)."""
        if whole and lit.plain is not None and not self.plain and plain_in(
                self._value, lit.plain.encode("utf-8"), parts, self._raw):
            return True
        return any(self.holds(lit, j) for j in bits(parts))


def plain_in(value: bytes, needle: bytes, parts: int, inflated: dict | None = None) -> bool:
    """Do the UTF-8 bytes ``needle`` (a run of CJK characters) stand in the inflated
    bytes of a chunk of the ``text`` value ``value`` that holds a part of the map
    ``parts``, with no composing mark right after them? Then the fold holds the run
    too. (UTF-8 is self-synchronising, so a byte match is a character match.) False
    says only "not found so": :meth:`Texts.holds` then decides, part by part."""
    return plain_verdict(value, needle, parts, inflated) is True


def plain_verdict(value: bytes, needle: bytes, parts: int, inflated: dict | None = None
                  ) -> bool | None:
    """:func:`plain_in`, and False where the fold cannot hold the run either: absent
    from every chunk holding a part of ``parts``, as written, and none of those chunks
    holds a character that may fold into CJK (:func:`index.analysis.may_fold_into_cjk_utf8`,
    as :meth:`Texts.holds` asks of a part); None: :meth:`Texts.holds` must decide. The
    quick test of a compact value (the cluster's fetched documents; a plain one is
    searched part by part, :func:`plain_value_verdicts`): no object built, nothing
    decoded; the chunks it inflates are kept in ``inflated`` (chunk -> bytes) for
    :class:`Texts` to reuse.
    """
    if is_plain(value):
        return _plain_verdict(value, needle, parts)
    table = chunk_table(value)
    n = len(table)
    begin = _COUNT.size + _CHUNK.size * n
    verdict: bool | None = False
    for c, (start, end_byte) in enumerate(table):
        end = table[c + 1][0] if c + 1 < n else max(parts.bit_length(), start + 1)
        if parts & ((1 << end) - (1 << start)):
            data = inflated.get(c) if inflated is not None else None
            if data is None:
                data = _inflate()(value[begin:end_byte])
                if inflated is not None:
                    inflated[c] = data
            if _bare(data, needle, _composing_bytes()):
                return True
            if verdict is False:  # (only the chunk's parts in the map: a few of them)
                pieces = data.split(_SEP_BYTE)
                if any(may_fold_into_cjk_utf8(pieces[j - start]) for j in bits(
                        parts & ((1 << end) - (1 << start))) if j - start < len(pieces)):
                    verdict = None
        begin = end_byte
    return verdict


def chunk_table(value: bytes) -> list[tuple[int, int]]:
    """``(first part, end of bytes)`` of each chunk of a compact ``text`` value."""
    (n,) = _COUNT.unpack(value[:_COUNT.size])
    end = _COUNT.size + _CHUNK.size * n
    return list(_CHUNK.iter_unpack(value[_COUNT.size:end]))


def _bare(text, run, marks) -> bool:
    """Does ``run`` stand in ``text`` (both str or both bytes) with none of ``marks``
    right after it, at least once?"""
    i = text.find(run)
    while i >= 0:
        if not text.startswith(marks, i + len(run)):
            return True
        i = text.find(run, i + 1)
    return False


@functools.cache
def _composing_bytes() -> tuple[bytes, ...]:
    return tuple(m.encode("utf-8") for m in composing_marks())


def bits(m: int):
    """The set bits of a part map, lowest first."""
    while m:
        low = m & -m
        yield low.bit_length() - 1
        m ^= low


class StoredText(Texts):
    """A review's text with its unit keys and cited ids (stored fields)."""

    def __init__(self, fields: dict, value: bytes):
        super().__init__(value)
        self.keys: list[str] = fields["keys"].split("\x1f")
        self.cites: list[list[str]] = [c.split(",") if c else [] for c in fields["cites"].split(";")]


def chapter_of(starts: Sequence[int], unit: int) -> int:
    """The chapter holding unit ``unit`` (``starts``: :func:`index.units.chapter_starts`)."""
    return bisect.bisect_right(starts, unit) - 1
