"""Read the index without Whoosh: the W3 files as whoosh-reloaded 2.7.5 writes them.

Whoosh writes the index (:mod:`index.indexer`, with :mod:`index.codec`); every read goes
through this module. Why: a ``reviews search`` spent about 35 ms importing Whoosh and
unpickling its schema (which imports its field, format and analysis modules) before it
read a byte, more than half of what ``rg`` takes for the whole job over the raw files.
This reader imports only the standard library, maps the files (``mmap``) and reads
exactly what this index writes:

* the table of contents ``_MAIN_<generation>.toc`` (the newest generation, as Whoosh
  picks it): its pickled segment list is read with an unpickler that builds plain
  stand-ins for Whoosh's classes and never imports them; the pickled schema is skipped;
* per segment ``MAIN_<id>.trm``, the term dictionary: an ordered hash file (CDB-like:
  ``(key length, value length, key, value)`` records, a sorted array of their
  positions, the ``fieldmap`` in its pickled extras), a key being the field's number
  (``!H``) and the term's UTF-8 bytes, a value a term info (``!BfIBBfII``: flags,
  weight, document frequency, lengths, max weight, first and last id) followed by the
  inlined postings (a pickle) or the postings' offset and length (``!qi``);
* ``MAIN_<id>.pst``, the postings: ``W3Bl``, then blocks of ``!i`` length (negative for
  the last), a pickled info tuple and a zlib-compressed pickle of ``(ids as deltas,
  weights, values)``; values packed by :func:`index.encoding.pack_values`;
* ``MAIN_<id>.<column>.col``, variable-length byte columns: the values, then their
  lengths (and, past 32,768 documents, offsets) as big-endian arrays, then type codes;
  stored fields are the ``_stored`` column, each value a zlib-compressed pickle.

Deleted documents (a segment's deletion set, until a merge rewrites it) are left out by
:mod:`index.postings`. Anything else (a compound segment, an unknown block) raises
:class:`FormatError`, which a search reports as a corrupt index to rebuild.
``tests/test_reader.py`` compares every term's postings, every column value and every
stored field with Whoosh's own reader, on indexes with several segments, deletions
and inlined lists.
"""
from __future__ import annotations

import io
import mmap
import os
import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from itertools import accumulate
from pathlib import Path

try:  # the C unpickler itself: the pickle module around it costs a search ~2 ms to import
    from _pickle import Unpickler as _CUnpickler
except ImportError:  # pragma: no cover - not CPython
    from pickle import Unpickler as _CUnpickler

from index.encoding import unpack_values

INDEX_NAME = "MAIN"
TOC_VERSION = -111
_INT = struct.Struct("!i")
_USHORT = struct.Struct("!H")
_LENGTHS = struct.Struct("!ii")
_TERMINFO = struct.Struct("!BfIBBfII")
_EXTENT = struct.Struct("!qi")
_MAGIC = b"W3Bl"
_LITTLE = sys.byteorder == "little"


class FormatError(Exception):
    """The index's files are not what this reader knows how to read."""


# -- pickles -------------------------------------------------------------------------

class _StandIn:
    """An object of one of Whoosh's (or our codec's) classes, as its pickled state."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __setstate__(self, state):
        if isinstance(state, tuple):  # (dict, slots dict)
            state = {k: v for part in state if part for k, v in part.items()}
        self.__dict__.update(state)


class _Unpickler(_CUnpickler):
    """Plain data only; with ``stand_ins`` other classes become :class:`_StandIn`s
    (nothing is imported), else they are refused."""

    _PLAIN = {("_codecs", "encode"), ("builtins", "set"), ("builtins", "frozenset"),
              ("builtins", "int"), ("builtins", "bytes"), ("collections", "defaultdict"),
              ("collections", "OrderedDict"), ("copyreg", "_reconstructor"),
              ("builtins", "object")}

    def __init__(self, data: bytes, stand_ins: bool = False):
        super().__init__(io.BytesIO(data) if not isinstance(data, io.BytesIO) else data)
        self.stand_ins = stand_ins

    def find_class(self, module, name):
        if (module, name) in self._PLAIN:
            return super().find_class(module, name)
        if self.stand_ins:
            return type(name, (_StandIn,), {"module": module})
        raise FormatError(f"unexpected {module}.{name} in the index")


def _loads(data) -> object:
    try:
        return _Unpickler(data).load()
    except FormatError:
        raise
    except Exception as err:  # noqa: BLE001 - any unreadable pickle is a format error
        raise FormatError(f"unreadable pickle ({type(err).__name__}: {err})") from err


def _array(typecode: str, data) -> array:
    """A big-endian array (Whoosh writes them so) in this machine's order."""
    a = array(typecode)
    a.frombytes(data)
    if _LITTLE and a.itemsize > 1:
        a.byteswap()
    return a


def _map(path: Path):
    """The file's bytes, mapped (an empty file: ``b""``)."""
    with open(path, "rb") as fh:
        if not os.fstat(fh.fileno()).st_size:
            return b""
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


# -- the table of contents -------------------------------------------------------------

def _varint(data: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def generation(folder: Path, name: str = INDEX_NAME) -> int:
    """The newest generation of the table of contents in ``folder`` (-1: none)."""
    toc = re.compile(rf"^_{re.escape(name)}_([0-9]+)\.toc$")
    gens = [int(m.group(1)) for m in map(toc.match, os.listdir(folder)) if m]
    return max(gens, default=-1)


def read_toc(folder: Path, name: str = INDEX_NAME) -> tuple[int, list]:
    """``(generation, segment stand-ins)`` of the newest table of contents."""
    gen = generation(folder, name)
    if gen < 0:
        raise FormatError(f"no table of contents in {folder}")
    data = (folder / f"_{name}_{gen}.toc").read_bytes()
    try:
        i = 0
        sizes = []
        for _ in range(3):
            n, i = _varint(data, i)
            sizes.append(n)
        (check,), (version,) = _INT.unpack_from(data, i), _INT.unpack_from(data, i + 4)
        i += 8
        for _ in range(3):  # Whoosh's release
            _, i = _varint(data, i)
        n, i = _varint(data, i)  # the pickled schema: not needed here
        i += n
        (stored_gen,) = _INT.unpack_from(data, i)
        i += 8  # (and an unused int)
    except (IndexError, struct.error) as err:
        raise FormatError(f"truncated table of contents ({err})") from err
    if sizes != [4, 8, 4] or check != -12345 or version != TOC_VERSION or stored_gen != gen:
        raise FormatError(f"unknown table of contents (version {version})")
    try:
        segments = _Unpickler(data[i:], stand_ins=True).load()
    except Exception as err:  # noqa: BLE001
        raise FormatError(f"unreadable segment list ({type(err).__name__}: {err})") from err
    return gen, list(segments)


# -- one segment -----------------------------------------------------------------------

class _Terms:
    """A segment's term dictionary (Whoosh's ``OrderedHashReader``, read by its sorted
    array of key positions: lookups and prefixes alike are a binary search)."""

    def __init__(self, data):
        if len(data) < 8 or data[:4] != b"HSH3":
            raise FormatError("term dictionary without its HSH3 header")
        self.data = data
        end = len(data) - 4
        (exlen,) = _INT.unpack_from(data, end)
        buf = io.BytesIO(data[end - exlen:end])
        extras = _Unpickler(buf).load()
        at = end - exlen + buf.tell()
        code, n = extras["indextype"], extras["indexlen"]
        self.positions = _array(code, data[at:at + n * array(code).itemsize])
        self.fieldmap: dict[str, int] = extras["fieldmap"]

    def _key(self, pos: int) -> bytes:
        keylen, _ = _LENGTHS.unpack_from(self.data, pos)
        return self.data[pos + 8:pos + 8 + keylen]

    def get(self, key: bytes):
        """The value of ``key``, or None."""
        positions = self.positions
        k = bisect_left(positions, key, key=self._key)
        if k == len(positions):
            return None
        pos = positions[k]
        keylen, datalen = _LENGTHS.unpack_from(self.data, pos)
        start = pos + 8
        if self.data[start:start + keylen] != key:
            return None
        return self.data[start + keylen:start + keylen + datalen]

    def items_from(self, prefix: bytes):
        """``(key, value)`` of every key starting with ``prefix``, in order."""
        data, positions = self.data, self.positions
        k = bisect_left(positions, prefix, key=self._key)
        for pos in positions[k:]:
            keylen, datalen = _LENGTHS.unpack_from(data, pos)
            key = data[pos + 8:pos + 8 + keylen]
            if not key.startswith(prefix):
                return
            yield key, data[pos + 8 + keylen:pos + 8 + keylen + datalen]


class _VarColumn:
    """A variable-length bytes column of one segment (Whoosh's ``VarBytesColumn``)."""

    def __init__(self, data, doccount: int):
        self.data = data
        if not data:  # no document of the segment has a value
            self.lengths = self.offsets = array("B", bytes(doccount))
            return
        last = len(data) - 1
        code = chr(data[last])
        offsets = None
        if code == "X":  # offsets were written too
            code, ocode = chr(data[last - 2]), chr(data[last - 1])
            start = (last - 2) - doccount * array(ocode).itemsize
            offsets = _array(ocode, data[start:last - 2])
            last = start
        size = array(code).itemsize
        self.lengths = _array(code, data[last - size * doccount:last])
        if offsets is None:
            offsets = array("q", accumulate(self.lengths, initial=0))
        self.offsets = offsets

    def __getitem__(self, d: int) -> bytes:
        n = self.lengths[d]
        if not n:
            return b""
        a = self.offsets[d]
        return self.data[a:a + n]


class Segment:
    """One segment: its documents, deletions, terms, postings and columns."""

    def __init__(self, folder: Path, stand_in):
        seg = getattr(stand_in, "_child", stand_in)
        if getattr(seg, "compound", False):
            raise FormatError("a compound segment (this index writes none)")
        try:
            self.name = f"{seg.indexname}_{seg.segid}"
            self.doccount: int = seg._doccount
            deleted = getattr(seg, "_deleted", None)
        except AttributeError as err:
            raise FormatError(f"unknown segment ({err})") from err
        self.deleted: frozenset[int] | None = frozenset(deleted) if deleted else None
        self.folder = folder
        self.terms = _Terms(_map(folder / f"{self.name}.trm"))
        self._posts = None
        self._columns: dict[str, _VarColumn] = {}

    def live_count(self) -> int:
        return self.doccount - (len(self.deleted) if self.deleted else 0)

    # terms

    def _key(self, field: str, btext: bytes) -> bytes | None:
        num = self.terms.fieldmap.get(field)
        return None if num is None else _USHORT.pack(num) + btext

    def info(self, field: str, btext: bytes):
        """The term info bytes of a term, or None."""
        key = self._key(field, btext)
        return None if key is None else self.terms.get(key)

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self.info(*term) is not None

    def field_terms(self, field: str, prefix: bytes = b""):
        """``(term bytes, document frequency)`` of the field's terms (from ``prefix``),
        in order; the frequency counts deleted documents too, as Whoosh's does."""
        key = self._key(field, prefix)
        if key is None:
            return
        for k, value in self.terms.items_from(key):
            yield k[2:], _TERMINFO.unpack_from(value)[2]

    def postings(self, field: str, btext: bytes, weights: bool = False, values: bool = False):
        """``(ids, weights or None, values or None)`` of a term in this segment (local
        document numbers, deletions included), or None if the segment lacks it."""
        info = self.info(field, btext)
        if info is None:
            return None
        if info[0]:  # inlined in the term info
            ids, ws, vs = _loads(info[_TERMINFO.size:])
            return list(ids), list(ws) if weights else None, list(vs) if values else None
        offset, length = _EXTENT.unpack_from(info, _TERMINFO.size)
        return self._blocks(offset, length, weights, values)

    def _blocks(self, offset: int, length: int, weights: bool, values: bool):
        if self._posts is None:
            self._posts = _map(self.folder / f"{self.name}.pst")
        data = self._posts
        if data[offset:offset + 4] != _MAGIC:
            raise FormatError(f"postings at {offset} of {self.name}.pst lack their header")
        ids: list[int] = []
        ws: list[float] | None = [] if weights else None
        vs: list[bytes] | None = [] if values else None
        pos, end = offset + 4, offset + length
        while pos < end:
            (n,) = _INT.unpack_from(data, pos)
            last = n < 0
            n = -n if last else n
            block = io.BytesIO(data[pos + 4:pos + 4 + n])
            count, _, _, compression, _, _ = _Unpickler(block).load()
            raw = block.read()
            if compression:
                raw = zlib.decompress(raw)
            bids, bweights, bvalues = _loads(raw)
            ids.extend(accumulate(bids))
            if ws is not None:
                if bweights is None:
                    ws.extend([1.0] * count)
                elif isinstance(bweights, float):
                    ws.extend([bweights] * count)
                else:
                    ws.extend(bweights)
            if vs is not None:
                vs.extend(unpack_values(bvalues) if isinstance(bvalues, bytes) else bvalues or ())
            pos += 4 + n
            if last:
                break
        return ids, ws, vs

    # columns and stored fields

    def column(self, name: str) -> _VarColumn:
        col = self._columns.get(name)
        if col is None:
            path = self.folder / f"{self.name}.{name}.col"
            data = _map(path) if path.exists() else b""
            col = self._columns[name] = _VarColumn(data, self.doccount)
        return col

    def stored_fields(self, d: int) -> dict:
        value = self.column("_stored")[d]
        return _loads(zlib.decompress(value)) if value else {}


# -- the whole index -------------------------------------------------------------------

class IndexReader:
    """The index as one sequence of documents: segment after segment, in the table of
    contents' order (Whoosh numbers them the same way)."""

    def __init__(self, folder: str | Path, name: str = INDEX_NAME):
        self.folder = Path(folder)
        self.generation, stand_ins = read_toc(self.folder, name)
        self.segments = [Segment(self.folder, s) for s in stand_ins]
        self.leaves: list[tuple[Segment, int]] = []
        at = 0
        for seg in self.segments:
            self.leaves.append((seg, at))
            at += seg.doccount
        self._offsets = [o for _, o in self.leaves]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.segments = []  # (maps are closed when their last slice is gone)

    def doc_count_all(self) -> int:
        return sum(s.doccount for s in self.segments)

    def doc_count(self) -> int:
        """Live documents."""
        return sum(s.live_count() for s in self.segments)

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return any(term in s for s in self.segments)

    def leaf(self, d: int) -> tuple[Segment, int]:
        """The segment holding document ``d``, and ``d``'s number in it."""
        from bisect import bisect_right

        k = bisect_right(self._offsets, d) - 1
        if k < 0 or d - self._offsets[k] >= self.segments[k].doccount:
            raise IndexError(f"no document {d}")
        return self.segments[k], d - self._offsets[k]

    def stored_fields(self, d: int) -> dict:
        seg, local = self.leaf(d)
        return seg.stored_fields(local)

    def doc_frequency(self, field: str, text: str) -> int:
        """Documents holding the term, deleted ones included (as Whoosh counts)."""
        btext = text.encode("utf-8")
        total = 0
        for seg in self.segments:
            info = seg.info(field, btext)
            if info is not None:
                total += _TERMINFO.unpack_from(info)[2]
        return total

    def lexicon(self, field: str) -> list[bytes]:
        """Every term of the field, once, in order."""
        return sorted({t for seg in self.segments for t, _ in seg.field_terms(field)})
