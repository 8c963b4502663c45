"""One search-index document per review, and one small one per reference spelling.

A review document (``kind`` ``review``) holds everything a query needs without the
archive. Its text is a list of *parts*: part 0 the topic, then for each unit
(:func:`index.units.units`) its title (part ``1 + 2i``) and its body (part ``2 + 2i``).

``g``     every gram of every part (:func:`index.literal.grams`), with a *part map* as
          the posting's value: bit ``j`` set when part ``j`` holds the gram
          (:func:`index.encoding.encode_parts`). A literal's candidates are the AND of its grams' postings; the AND of
          their part maps says which parts may hold it, which answers ``topic:`` (bit 0),
          ``section:`` scopes, title boosts and "the terms meet in one section" without
          reading the text.
``w``     jieba words (:mod:`index.words`), weight = the word's count in the review:
          BM25's term frequency.
``path``  every section number and its ancestors (``3``, ``3.1``, ``3.1.2``),
          ``abstract``, ``references``; value: the part map of that section's subtree
          (``section:3.1``).
``refs``  the reference ids the review cites: ``ref:r0123456789``.
``uuid``  the review id (unique); ``key`` (column) ``received|uuid|words|chapters``
          for date filters, tie-breaks, BM25's document length and the units where
          each chapter starts (:func:`index.units.chapter_starts`), read in one go.

Stored: ``version`` (the archive version indexed), ``topic``, ``received``, ``keys``
(unit keys, ``\x1f``-joined) and ``cites`` (cited ids per unit, ``;`` between units,
``,`` between ids). The parts as written are a column, ``text`` (:class:`Texts`):
consecutive parts joined by :data:`index.literal.SEP` and zstd-compressed in chunks of
about :data:`CHUNK` bytes, behind a small table of where each chunk starts (zstd: the
size of zlib at level 6, inflated 2.5x faster, which is most of what checking a
candidate costs). A check
reads that one value and inflates only the chunk holding the part a part map points
at (Whoosh's stored fields would inflate and unpickle the whole record first); a
snippet maps the folded match back to the text as written.

A reference document (``kind`` ``ref``) per distinct spelling ``(id, title)`` among
the archive's current versions (``rkey``, unique: the id and the title; ``rg``: grams
of the title; stored ``refid`` and folded ``rtitle``). ``ref:words`` finds the ids
whose title holds the words, then the reviews citing them: every use of a work,
whichever spelling a review gives it. :mod:`index.indexer` keeps these documents in
step with the archive.
"""
from __future__ import annotations

import bisect
import struct
from collections import Counter

import zstandard

from archive.model import ABSTRACT, Record
from index.analysis import fold
from index.encoding import decode_parts, encode_parts
from index.literal import SEP, grams
from index.units import REFERENCES, chapter_starts, paths, units
from index.words import count_words

TOPIC = 1  # part map bit of the topic


def title_part(i: int) -> int:
    return 1 + 2 * i


def body_part(i: int) -> int:
    return 2 + 2 * i


part_map = decode_parts

CHUNK = 8192  # bytes of text per compressed chunk
_ZC = zstandard.ZstdCompressor(level=9)
_ZD = zstandard.ZstdDecompressor()


_COUNT = struct.Struct("<H")
_CHUNK = struct.Struct("<HI")  # first part of the chunk, end of its bytes


def pack_text(parts: list[str]) -> bytes:
    """The ``text`` column value of a review's parts (see :class:`Texts`)."""
    chunks: list[tuple[int, bytes]] = []
    first, cur, size = 0, [], 0
    for j, part in enumerate(parts):
        cur.append(part)
        size += len(part.encode("utf-8"))
        if size >= CHUNK or j == len(parts) - 1:
            chunks.append((first, _ZC.compress(SEP.join(cur).encode("utf-8"))))
            first, cur, size = j + 1, [], 0
    head = _COUNT.size + _CHUNK.size * len(chunks)
    table, end = [], head
    for start, data in chunks:
        end += len(data)
        table.append(_CHUNK.pack(start, end))
    return _COUNT.pack(len(chunks)) + b"".join(table) + b"".join(data for _, data in chunks)


class Texts:
    """A review's parts as written, from its ``text`` column value: a table of chunks
    (``<H`` count, then ``<HI`` per chunk: its first part and where its bytes end), then
    the zstd chunks. Inflated a chunk at a time and folded a part at a time, on demand."""

    def __init__(self, value: bytes):
        (n,) = _COUNT.unpack_from(value, 0)
        self._value = value
        self._table = [_CHUNK.unpack_from(value, _COUNT.size + _CHUNK.size * c) for c in range(n)]
        self._starts = [start for start, _ in self._table]
        self._raw: dict[int, bytes] = {}
        self._parts: dict[int, str] = {}
        self._folded: dict[int, str] = {}

    def _chunk_of(self, j: int) -> int:
        return bisect.bisect_right(self._starts, j) - 1

    def _inflate(self, c: int) -> bytes:
        data = self._raw.get(c)
        if data is None:
            begin = self._table[c - 1][1] if c else _COUNT.size + _CHUNK.size * len(self._table)
            data = self._raw[c] = _ZD.decompress(self._value[begin:self._table[c][1]])
        return data

    def part(self, j: int) -> str:
        """Part ``j`` as written."""
        p = self._parts.get(j)
        if p is None:
            c = self._chunk_of(j)
            for k, text in enumerate(self._inflate(c).decode("utf-8").split(SEP)):
                self._parts[self._starts[c] + k] = text
            p = self._parts[j]
        return p

    def folded(self, j: int) -> str:
        """Part ``j``, folded."""
        f = self._folded.get(j)
        if f is None:
            f = self._folded[j] = fold(self.part(j))
        return f

    def holds(self, lit, j: int) -> bool:
        """Does part ``j`` hold the literal? A run of CJK ideographs found in the text
        as written is found in the folded text too (folding leaves them and their
        neighbours in place), so the fold is paid only when that test fails."""
        if lit.plain is not None and lit.plain in self.part(j):
            return True
        return lit.occurs(self.folded(j))

    def anywhere(self, lit, parts: int, whole: bool) -> bool:
        """Does any part in the map ``parts`` hold the literal? ``whole``: a match in any
        part of the review will do (the map only says where to look first); then, for a
        run of CJK ideographs, the inflated bytes of the parts' chunks are searched
        (UTF-8 is self-synchronising, so a byte match is a character match)."""
        if whole and lit.plain is not None:
            needle = lit.plain.encode("utf-8")
            ends = self._starts[1:] + [max(parts.bit_length(), self._starts[-1] + 1)]
            for c, (start, end) in enumerate(zip(self._starts, ends)):
                if parts & ((1 << end) - (1 << start)) and needle in self._inflate(c):
                    return True
        return any(self.holds(lit, j) for j in bits(parts))


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


def clean(text: str) -> str:
    return text.replace(SEP, " ")


def unit_words(folded_part, n_units: int) -> Counter:
    """A review's ranking words with their counts: the topic, then each unit's title and
    body (``folded_part(j)``: part ``j``, folded). The index's ``w`` field, and what
    :mod:`index.similar` counts again from the stored parts."""
    tf: Counter[str] = Counter()
    count_words(folded_part(0), tf)
    for i in range(n_units):
        count_words(folded_part(title_part(i)) + "\n" + folded_part(body_part(i)), tf)
    return tf


def review_document(record: Record, version_id: int) -> dict:
    """The review document."""
    us = units(record)
    written = [clean(record.topic)] + [clean(x) for u in us for x in (u.title, u.body)]
    folded = [fold(x) for x in written]
    maps: dict[str, int] = {}
    for j, part in enumerate(folded):
        bit = 1 << j
        for g in grams(part):
            maps[g] = maps.get(g, 0) | bit
    tf = unit_words(folded.__getitem__, len(us))
    subtree: dict[str, int] = {}
    for i, u in enumerate(us):
        bits = (1 << title_part(i)) | (1 << body_part(i))
        for p in [u.key] if u.key in (ABSTRACT, REFERENCES) else paths(u.key):
            subtree[p] = subtree.get(p, 0) | bits
    cited = list(dict.fromkeys(r for u in us for r in u.refs))
    doc = {
        "kind": "review",
        "uuid": record.uuid,
        "key": (f"{record.received_at}|{record.uuid}|{sum(tf.values())}|"
                f"{','.join(map(str, chapter_starts(us)))}").encode("ascii", "replace"),
        "g": {g: (1, 1.0, encode_parts(m)) for g, m in maps.items()},
        "w": {w: (n, float(n), b"") for w, n in tf.items()},
        "path": {p: (1, 1.0, encode_parts(m)) for p, m in subtree.items()},
        "refs": {r: (1, 1.0, b"") for r in cited},
        "version": version_id,
        "topic": record.topic,
        "received": record.received_at,
        "keys": "\x1f".join(u.key for u in us),
        "cites": ";".join(",".join(u.refs) for u in us),
        "text": pack_text(written),
    }
    return doc


def reference_document(ref_id: str, title: str) -> dict:
    """The document of one spelling of a reference."""
    folded = fold(title)
    return {"kind": "ref", "rkey": f"{ref_id}|{title}", "refid": ref_id, "rtitle": folded,
            "rg": {g: (1, 1.0, b"") for g in grams(folded)}}
