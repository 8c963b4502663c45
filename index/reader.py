"""Read the index without Whoosh: the W3 files as whoosh-reloaded 2.7.5 writes them.

Whoosh writes the index (:mod:`index.indexer`, with :mod:`index.codec`); every read goes
through this module. Why: with Whoosh, a ``reviews search`` imports Whoosh and unpickles
its schema (which imports its field, format and analysis modules) before it reads a
byte, which costs more than half of what ``rg`` takes for the whole job over the raw files.
This reader imports only the standard library and reads exactly what this index
writes, with ``os.pread`` (each read a copy of the bytes it needs; mapping the files
costs a cold process a page fault per 4 KB page it touches, which makes a candidate's
text slower to reach than to inflate):

* the table of contents ``_MAIN_<generation>.toc`` (the newest generation, as Whoosh
  picks it): the Whoosh release that wrote it, which must be :data:`WHOOSH` (else
  :class:`ReleaseError`; the manifest's stamp, :class:`index.folder.Stamp`, is checked
  before); its pickled segment list is read with an unpickler that builds plain
  stand-ins for Whoosh's classes and never imports them; the pickled schema is skipped;
* per segment ``MAIN_<id>.trm``, the term dictionary: an ordered hash file (CDB-like:
  ``(key length, value length, key, value)`` records, 256 hash tables of
  ``(hash, position)`` slots found by an MD5 of the key, a sorted array of the records'
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

Damage is found where it is read. Whoosh's files carry no checksums of their own, and
most damaged bytes read on as other bytes would (a term missing, a document number,
a review id, a length), so a search would answer wrongly and say nothing. Each segment
gets ``<segment>.crc`` beside it (:class:`Checksums`: a CRC32 per 4 KB block of each
of its files, written once with the manifest after the commit that made the segment);
every read verifies the blocks it touches the first time it touches them, and the table
of contents, read whole, is checked against the manifest's CRC of it
(:func:`index.folder.open_reader` passes them). A mismatch is a :class:`FormatError`.
What that costs a search (a share per MB read, plus a few blocks per term) is in
``docs/benchmarks.md``; a segment without the file (an index written before it, or one
committed a moment ago) is read unchecked.
``tests/test_reader.py`` compares every term's postings, every column value and every
stored field with Whoosh's own reader, on indexes with several segments, deletions
and inlined lists; ``tests/test_index_format.py`` does so for lists of many blocks, a
segment past 32,768 documents and extras past 4 KB, and checks the stamp.
"""
from __future__ import annotations

import io
import os
import re
import struct
import sys
import time
import zlib
from array import array
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

try:  # ISA-L's CRC32 and inflate: zlib's very results, about 3x faster (README)
    from isal.isal_zlib import crc32 as _crc32, decompress as _inflate
except ImportError:  # pragma: no cover (a dependency; zlib answers the same)
    _crc32, _inflate = zlib.crc32, zlib.decompress

try:  # the built-in MD5 (importing hashlib would be a cost of every search)
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - not CPython
    from hashlib import md5 as _md5
try:  # the C unpickler itself: importing the pickle module around it would cost every search
    from _pickle import Unpickler as _CUnpickler
except ImportError:  # pragma: no cover - not CPython
    from pickle import Unpickler as _CUnpickler

from index.encoding import read_varint, unpack_values  # (Whoosh's varints are these too)

INDEX_NAME = "MAIN"
TOC_VERSION = -111
#: The whoosh-reloaded release whose files this module reads, as its table of contents
#: records it. This module reads bytes, not Whoosh's API: a release that writes them
#: otherwise would read as other terms or documents, not fail. So an index whose table of
#: contents names another release is refused (:class:`ReleaseError`), and the writer
#: (:mod:`index.indexer`) refuses to write with another release installed. Change it
#: only with pyproject.toml's pin, once ``tests/test_reader.py`` and
#: ``tests/test_index_format.py`` pass against the new release (docs/DESIGN.md, "Notes
#: for a maintainer").
WHOOSH = (2, 7, 5)
_INT = struct.Struct("!i")
_USHORT = struct.Struct("!H")
_LENGTHS = struct.Struct("!ii")
_TERMINFO = struct.Struct("!BfIBBfII")
_EXTENT = struct.Struct("!qi")
_SLOT = struct.Struct("!Iq")  # a hash table slot: the key's hash, its record's position
_DIRECTORY = struct.Struct("!qi")  # a hash table: its position and number of slots
_MAGIC = b"W3Bl"
COLUMNS = ("key", "facet", "text", "_stored")  # the columns a reader opens with its segment
_LITTLE = sys.byteorder == "little"
#: Bytes per checksummed block: a read touching a block reads and verifies all of it once
BLOCK = 4096
CHECKSUMS = ".crc"  # a segment's block checksums: MAIN_<id>.crc


class FormatError(Exception):
    """The index's files are not what this reader knows how to read."""


def release_name(release: tuple[int, ...] | None) -> str:
    """``whoosh 2.7.5``; ``whoosh (unknown)`` for an index that does not say."""
    return f"whoosh {'.'.join(map(str, release)) if release else '(unknown)'}"


class ReleaseError(FormatError):
    """The table of contents was written by another Whoosh release than :data:`WHOOSH`;
    ``release`` is the one it names."""

    def __init__(self, toc: str, release: tuple[int, ...]):
        super().__init__(f"{toc} was written by {release_name(release)}; this reader reads "
                         f"{release_name(WHOOSH)}'s files")
        self.release = release


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


class _File:
    """A file read by position (``os.pread``: one system call, no seek, no mapping).

    With ``checks`` (its blocks' CRC32s, :class:`Checksums`) every block a read touches
    is verified the first time it is read, so damaged bytes end in :class:`FormatError`
    where they are read, instead of reading on as other terms, ids or text."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = open(path, "rb", buffering=0)  # (closed with the object)
        self.size = os.fstat(self._fh.fileno()).st_size
        self.checks: Checksums | None = None
        self._ok = b""  # per block: verified (1) or not yet (0)

    def check_with(self, checks: Checksums, at: int, size: int) -> None:
        """Verify reads against the CRCs from ``at`` in ``checks``, for a file of ``size``
        bytes (the size it had when they were computed)."""
        if size != self.size:
            raise FormatError(f"{self.path.name} has {self.size} bytes, its checksums were "
                              f"made for {size}")
        self.checks, self._at = checks, at
        self._ok = bytearray(-(-size // checks.block))

    def get(self, pos: int, n: int) -> bytes:
        if n <= 0:
            return b""
        if pos < 0 or n > self.size - pos:  # (a damaged length: never read, or allocate, past the end)
            raise FormatError(f"{self.path.name} ends at {self.size} bytes, before {pos + n}")
        if self.checks is not None:
            block = self.checks.block
            first, last = pos // block, (pos + n - 1) // block
            if self._ok.find(0, first, last + 1) >= 0:  # some block not verified yet
                return self._verified(pos, n, first, last)
        data = os.pread(self._fh.fileno(), n, pos)
        if len(data) != n:
            raise FormatError(f"{self.path.name} ends at {self.size} bytes, before {pos + n}")
        return data

    def _verified(self, pos: int, n: int, first: int, last: int) -> bytes:
        """Read the whole blocks ``first..last`` (what is returned is what was checked)."""
        block = self.checks.block
        start = first * block
        data = os.pread(self._fh.fileno(), min(self.size, (last + 1) * block) - start, start)
        self.check_blocks(memoryview(data), first, last, first)
        return data[pos - start:pos - start + n]

    def check_blocks(self, view, first: int, last: int, at: int) -> None:
        """Check blocks ``first`` to ``last`` not checked yet against their CRCs;
        ``view`` holds the file's bytes from block ``at`` on."""
        block, crc = self.checks.block, self.checks.crc
        for b in range(first, last + 1):
            if not self._ok[b]:
                if _crc32(view[(b - at) * block:(b - at + 1) * block]) != crc(self._at + b):
                    raise FormatError(f"{self.path.name}: bytes {b * block} to {(b + 1) * block} "
                                      "do not match their checksum")
                self._ok[b] = 1

    def mapped(self) -> "Mapped":
        if self._map is None:
            self._map = Mapped(self)
        return self._map

    _map: "Mapped | None" = None

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._fh.close()


class Mapped:
    """A file's bytes through a read-only memory map, for a search that looks into many
    stored values a little each (:func:`index.texts.plain_value_verdicts`: a ``find`` in
    one part of each candidate's text): no system call and no copy per value, which
    ``os.pread`` costs. ``raw`` is the map; a reader of it calls :meth:`check` for the
    bytes an answer depends on before it answers (the blocks not checked yet are
    checked against the checksums, as :meth:`_File.get` checks what it reads). The map's
    pages count as this process's memory once touched: :meth:`release` gives them back
    to the page cache (after each segment: a search that looks into every text of a
    large archive would otherwise hold them all)."""

    def __init__(self, f: _File):
        import mmap  # noqa: PLC0415 (a text search only)

        self.f = f
        self.size = f.size
        self.raw = mmap.mmap(f._fh.fileno(), 0, access=mmap.ACCESS_READ) if f.size else b""
        self._view = memoryview(self.raw)
        checks = f.checks
        # (for a loop that checks inline: the block size, 0 without checksums, and the
        # flags of the blocks checked, which :meth:`check` sets)
        self.block, self.flags = checks.block if checks is not None else 0, f._ok
        # the file's CRCs in one read (~50 KB for 50 MB of texts): a check of one block,
        # most of them, then costs no call beyond this one
        self._crcs = (checks.table(f._at, -(-f.size // self.block))
                      if checks is not None and f.size else None)

    def check(self, start: int, end: int) -> None:
        """Raise :class:`FormatError` unless bytes ``start`` to ``end`` are in the file
        and match their checksums."""
        if start < 0 or end > self.size:
            raise FormatError(f"{self.f.path.name} ends at {self.size} bytes, before {end}")
        block = self.block
        if not block or end <= start:
            return
        first, last, ok = start // block, (end - 1) // block, self.flags
        if first == last:
            if not ok[first]:
                if _crc32(self._view[first * block:(first + 1) * block]) != self._crcs[first]:
                    self.f.check_blocks(self._view, first, last, 0)  # (raises, as any read does)
                ok[first] = 1
        elif ok.find(0, first, last + 1) >= 0:
            self.f.check_blocks(self._view, first, last, 0)

    #: False in a process that exits once its search is done (:mod:`index.halves`' child):
    #: the pages go back with the process, while the parent goes on
    release_pages = True

    def release(self) -> None:
        if self.release_pages and hasattr(self.raw, "madvise"):
            import mmap  # noqa: PLC0415

            self.raw.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        if not isinstance(self.raw, bytes):
            self._view.release()
            self.raw.close()


class Checksums:
    """A segment's block checksums, ``<segment>.crc`` (written with the manifest by
    :func:`index.folder.write_manifest`, after the commit that wrote the segment):

    ``RACK``, the block size and the number of files (``!4sII``); per file its name
    after the segment's (``.trm``, ``.key.col``: ``!B`` length, then UTF-8), its size
    (``!q``) and where its CRCs start (``!I``, in CRCs); the CRC32 of all that
    (``!I``); then the CRC32 of each block of each file (``!I`` each). A search reads
    the table whole, and the CRCs of the blocks it reads as it reads them. Damaged CRCs
    only ever disagree with the bytes they cover: the damage is reported, never read on."""

    MAGIC = b"RACK"
    _HEAD = struct.Struct("!4sII")
    _ENTRY = struct.Struct("!qI")
    _CRC = struct.Struct("!I")

    def __init__(self, f: _File):
        self.f = f
        head = f.get(0, min(f.size, 4096))
        try:
            magic, self.block, count = self._HEAD.unpack_from(head)
            if magic != self.MAGIC or not 512 <= self.block <= 1 << 24:
                raise FormatError(f"{f.path.name}: not a checksum file")
            at, files = self._HEAD.size, {}
            for _ in range(count):
                n = head[at]
                name = head[at + 1:at + 1 + n].decode("utf-8")
                files[name] = self._ENTRY.unpack_from(head, at + 1 + n)
                at += 1 + n + self._ENTRY.size
            (crc,) = self._CRC.unpack_from(head, at)
        except (IndexError, struct.error, UnicodeDecodeError) as err:
            raise FormatError(f"{f.path.name}: a damaged checksum table ({err})") from err
        if zlib.crc32(head[:at]) != crc:
            raise FormatError(f"{f.path.name}: its table does not match its checksum")
        self.files: dict[str, tuple[int, int]] = files  # name -> (size, first CRC)
        self._start = at + 4
        self._pages: dict[int, array] = {}

    _PAGE = 1024  # CRCs read at once (4 KB of this file)

    def crc(self, k: int) -> int:
        """The ``k``-th CRC of the file (read a page at a time, when first needed: a
        search reads a few blocks of most files)."""
        page = self._pages.get(k // self._PAGE)
        if page is None:
            at = k - k % self._PAGE
            n = min(self._PAGE, (self.f.size - self._start) // 4 - at)
            page = self._pages[k // self._PAGE] = _array("I", self.f.get(self._start + 4 * at, 4 * n))
        try:
            return page[k % self._PAGE]
        except IndexError:
            raise FormatError(f"{self.f.path.name} ends before CRC {k}") from None

    def table(self, first: int, count: int) -> array:
        """CRCs ``first`` to ``first + count`` (a file's, read whole)."""
        data = self.f.get(self._start + 4 * first, 4 * count)
        if len(data) != 4 * count:
            raise FormatError(f"{self.f.path.name} ends before CRC {first + count}")
        return _array("I", data)

    @classmethod
    def pack(cls, files: list[tuple[str, int, bytes]], block: int) -> bytes:
        """The checksum file of ``(name, size, packed big-endian CRCs)`` for each file."""
        head = bytearray(cls._HEAD.pack(cls.MAGIC, block, len(files)))
        at = 0
        for name, size, crcs in files:
            raw = name.encode("utf-8")
            head += bytes([len(raw)]) + raw + cls._ENTRY.pack(size, at)
            at += len(crcs) // 4
        head += cls._CRC.pack(zlib.crc32(head))
        return bytes(head) + b"".join(c for _, _, c in files)



def block_crcs(path: Path, block: int = BLOCK) -> tuple[int, bytes]:
    """``(size, big-endian CRC32 of each block)`` of a file, for :meth:`Checksums.pack`."""
    crcs = array("I")
    size = 0
    with open(path, "rb") as fh:
        for data in iter(lambda: fh.read(block * 256), b""):
            size += len(data)
            view = memoryview(data)
            crcs.extend(_crc32(view[i:i + block]) for i in range(0, len(data), block))
    if _LITTLE:
        crcs.byteswap()
    return size, crcs.tobytes()


def _md5_hash(key: bytes) -> int:
    return int(_md5(key, usedforsecurity=False).hexdigest(), 16) & 0xFFFFFFFF


def _crc_hash(key: bytes) -> int:
    return zlib.crc32(key) & 0xFFFFFFFF


def _cdb_hash(key: bytes) -> int:
    h = 5381
    for c in key:
        h = (h + (h << 5)) & 0xFFFFFFFF ^ c
    return h


_HASHES = (_md5_hash, _crc_hash, _cdb_hash)  # Whoosh's hash types 0, 1, 2


# -- the table of contents -------------------------------------------------------------

def generation(folder: Path, name: str = INDEX_NAME) -> int:
    """The newest generation of the table of contents in ``folder`` (-1: none)."""
    toc = re.compile(rf"^_{re.escape(name)}_([0-9]+)\.toc$")
    gens = [int(m.group(1)) for m in map(toc.match, os.listdir(folder)) if m]
    return max(gens, default=-1)


def read_toc(folder: Path, name: str = INDEX_NAME, crcs: dict[str, int] | None = None,
             release: tuple[int, ...] | None = WHOOSH) -> tuple[int, tuple[int, int, int], list]:
    """``(generation, Whoosh release, segment stand-ins)`` of the newest table of
    contents; ``crcs``: the CRC32 of files by name (the manifest's), which the table's
    must match if listed. A table written by another release than ``release`` is a
    :class:`ReleaseError` (``None``: any release, for the writer's stamp)."""
    gen = generation(folder, name)
    if gen < 0:
        raise FormatError(f"no table of contents in {folder}")
    toc = f"_{name}_{gen}.toc"
    data = (folder / toc).read_bytes()
    expected = crcs.get(toc) if crcs else None
    if expected is not None and zlib.crc32(data) != expected:
        raise FormatError(f"{toc} does not match its checksum")
    try:
        i = 0
        sizes = []
        for _ in range(3):
            n, i = read_varint(data, i)
            sizes.append(n)
        (check,), (version,) = _INT.unpack_from(data, i), _INT.unpack_from(data, i + 4)
        i += 8
        written = []
        for _ in range(3):  # the Whoosh release that wrote it
            n, i = read_varint(data, i)
            written.append(n)
        n, i = read_varint(data, i)  # the pickled schema: not needed here
        i += n
        (stored_gen,) = _INT.unpack_from(data, i)
        i += 8  # (and an unused int)
    except (IndexError, struct.error) as err:
        raise FormatError(f"truncated table of contents ({err})") from err
    if sizes != [4, 8, 4] or check != -12345 or version != TOC_VERSION or stored_gen != gen:
        raise FormatError(f"unknown table of contents (version {version})")
    written = tuple(written)
    if release is not None and written != tuple(release):
        raise ReleaseError(toc, written)
    try:
        segments = _Unpickler(data[i:], stand_ins=True).load()
    except Exception as err:  # noqa: BLE001
        raise FormatError(f"unreadable segment list ({type(err).__name__}: {err})") from err
    return gen, written, list(segments)


# -- one segment -----------------------------------------------------------------------

class _Terms:
    """A segment's term dictionary (Whoosh's ``OrderedHashReader``): a key is found
    through its hash table, as Whoosh finds it (two or three small reads); keys in order
    (a field's terms, a prefix's) through the sorted array of record positions."""

    _READ = 8 + 256  # bytes read at once from a record: lengths, key and a term info

    def __init__(self, f: _File):
        self.f = f
        head = f.get(0, 13) if f.size >= 17 else b""
        if head[:4] != b"HSH3" or head[4] >= len(_HASHES):
            raise FormatError(f"{f.path.name}: a term dictionary without its HSH3 header")
        self.hashfn = _HASHES[head[4]]
        end = f.size - 4
        (exlen,) = _INT.unpack(f.get(end, 4))
        expos = end - exlen
        if not 0 < exlen <= end or expos < 13 + _DIRECTORY.size * 256:
            raise FormatError(f"{f.path.name}: a term dictionary without its extras")
        directory = f.get(expos - _DIRECTORY.size * 256, _DIRECTORY.size * 256)
        self.tables = list(_DIRECTORY.iter_unpack(directory))
        buf = io.BytesIO(f.get(expos, min(exlen, 4096)))
        try:
            extras = _Unpickler(buf).load()
        except FormatError:
            raise
        except Exception:  # noqa: BLE001 - longer than 4 KB (or damaged): read it all
            buf = io.BytesIO(f.get(expos, exlen))
            extras = _loads(buf)
        try:
            self.fieldmap: dict[str, int] = extras["fieldmap"]
            self._index = (expos + buf.tell(), extras["indextype"], extras["indexlen"])
        except (KeyError, TypeError) as err:
            raise FormatError(f"{f.path.name}: unexpected extras ({err})") from err
        self._positions: array | None = None

    def get(self, key: bytes):
        """The value of ``key``, or None."""
        f, h = self.f, self.hashfn(key)
        start, slots = self.tables[h & 255]
        if not slots:
            return None
        size = _SLOT.size
        k = (h >> 8) % slots
        for _ in range(slots):
            slothash, pos = _SLOT.unpack(f.get(start + k * size, size))
            if not pos:
                return None
            if slothash == h:
                head = f.get(pos, min(self._READ, f.size - pos))
                if len(head) < 8:
                    raise FormatError(f"{f.path.name}: a slot points past the records")
                keylen, datalen = _LENGTHS.unpack_from(head)
                if keylen == len(key) and head[8:8 + keylen] == key:
                    if 8 + keylen + datalen > len(head):
                        head = f.get(pos, 8 + keylen + datalen)
                    return head[8 + keylen:8 + keylen + datalen]
            k = k + 1 if k + 1 < slots else 0
        return None

    def positions(self) -> array:
        if self._positions is None:
            at, code, n = self._index
            try:
                size = array(code).itemsize
            except (TypeError, ValueError) as err:
                raise FormatError(f"{self.f.path.name}: unknown index type {code!r}") from err
            self._positions = _array(code, self.f.get(at, n * size))
        return self._positions

    def _key(self, pos: int) -> bytes:
        keylen, _ = _LENGTHS.unpack(self.f.get(pos, 8))
        return self.f.get(pos + 8, keylen)

    def items_from(self, prefix: bytes):
        """``(key, value)`` of every key starting with ``prefix``, in order (records
        read 64 KB at a time from the first one)."""
        positions = self.positions()
        lo, hi = 0, len(positions)
        while lo < hi:  # the first key >= prefix
            mid = (lo + hi) // 2
            if self._key(positions[mid]) < prefix:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(positions):
            return
        pos, block, at = positions[lo], b"", 0
        end = self.tables[0][0]  # the records end where the first hash table starts
        while pos < end:
            if at + 8 > len(block):
                block, at = self.f.get(pos, min(1 << 16, end - pos)), 0
            keylen, datalen = _LENGTHS.unpack_from(block, at)
            if at + 8 + keylen + datalen > len(block):
                block, at = self.f.get(pos, max(1 << 16, 8 + keylen + datalen)), 0
            key = block[at + 8:at + 8 + keylen]
            if not key.startswith(prefix):
                return
            yield key, block[at + 8 + keylen:at + 8 + keylen + datalen]
            size = 8 + keylen + datalen
            at += size
            pos += size


class _VarColumn:
    """A variable-length bytes column of one segment (Whoosh's ``VarBytesColumn``)."""

    def __init__(self, f: _File | None, doccount: int):
        self.f = f
        if f is None or not f.size:  # no document of the segment has a value
            self.lengths = self.offsets = array("B", bytes(doccount))
            self.f = None  # (the segment closes its files)
            return
        tail = f.get(max(0, f.size - 3), min(3, f.size))
        last = f.size - 1
        code = chr(tail[-1])
        offsets = None
        try:
            if code == "X":  # offsets were written too
                code, ocode = chr(tail[-3]), chr(tail[-2])
                start = (last - 2) - doccount * array(ocode).itemsize
                offsets = _array(ocode, f.get(start, last - 2 - start))
                last = start
            size = array(code).itemsize
        except (ValueError, IndexError) as err:
            raise FormatError(f"{f.path.name}: not a column ({err})") from err
        self.lengths = _array(code, f.get(last - size * doccount, size * doccount))
        if offsets is None:
            offsets = array("q", accumulate(self.lengths, initial=0))
        self.offsets = offsets

    def __getitem__(self, d: int) -> bytes:
        n = self.lengths[d]
        return self.f.get(self.offsets[d], n) if n else b""

    def many(self, docs: list[int], text: bool = False) -> list[bytes] | list[str]:
        """The values of ``docs`` (local numbers); many of them: one read of the span.
        ``text``: as str, decoded as Latin-1 (a byte a character; for ASCII values)."""
        if len(docs) < 32 or self.f is None:
            return [self[d].decode("latin-1") if text else self[d] for d in docs]
        lo, hi = min(docs), max(docs)
        base = self.offsets[lo]
        data = self.f.get(base, self.offsets[hi] + self.lengths[hi] - base)
        if text:
            data = data.decode("latin-1")
        offsets, lengths = self.offsets, self.lengths
        return [data[offsets[d] - base:offsets[d] - base + lengths[d]] for d in docs]


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
        # Every file is opened now: a writer that commits meanwhile may delete the files
        # of merged segments, and an open file outlives its name (this reader keeps the
        # index as it was when opened).
        self._files: dict[str, _File] = {}
        self._columns: dict[str, _VarColumn] = {}
        try:
            self._files[".trm"] = _File(folder / f"{self.name}.trm")
            checks = self._checksums()
            for ext in (".pst", *(f".{c}.col" for c in COLUMNS)):
                try:
                    self._files[ext] = _File(folder / f"{self.name}{ext}")
                except FileNotFoundError:  # (a column no document of the segment has)
                    if checks is not None and ext in checks.files:
                        raise FormatError(f"{self.name}{ext} is missing") from None
            if checks is not None:
                for ext, f in self._files.items():
                    if ext != CHECKSUMS:
                        if ext not in checks.files:
                            raise FormatError(f"{self.name}{CHECKSUMS} lacks {ext}")
                        size, at = checks.files[ext]
                        f.check_with(checks, at, size)
            self.terms = _Terms(self._files[".trm"])
        except BaseException:
            self.close()
            raise

    def _checksums(self) -> Checksums | None:
        """The segment's block checksums; None for a segment written before they were
        (or committed a moment ago: the manifest's writer adds them), read unchecked."""
        try:
            f = self._files[CHECKSUMS] = _File(self.folder / f"{self.name}{CHECKSUMS}")
        except FileNotFoundError:
            return None
        return Checksums(f)

    def close(self) -> None:
        for f in self._files.values():
            f.close()

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

    def doc_frequency(self, field: str, btext: bytes) -> int:
        """Documents of this segment holding the term, deleted ones included."""
        info = self.info(field, btext)
        return _TERMINFO.unpack_from(info)[2] if info is not None else 0

    def postings(self, field: str, btext: bytes, weights: bool = False, values: bool = False,
                 among: list[int] | None = None):
        """``(ids, weights or None, values or None)`` of a term in this segment (local
        document numbers, deletions included), or None if the segment lacks it.
        ``among`` (local numbers, ascending): only blocks that may hold one of them are
        decoded (a block's info gives its last id), so a common term is cheap to
        intersect with a few documents; the lists then hold those blocks' postings."""
        info = self.info(field, btext)
        if info is None:
            return None
        try:
            if info[0]:  # inlined in the term info
                ids, ws, vs = _loads(info[_TERMINFO.size:])
                return list(ids), list(ws) if weights else None, list(vs) if values else None
            offset, length = _EXTENT.unpack_from(info, _TERMINFO.size)
            return self._blocks(offset, length, weights, values, among)
        except (FormatError, OSError):
            raise
        except Exception as err:  # noqa: BLE001 - a damaged term info or blocks
            raise FormatError(f"unreadable postings of a {field} term in {self.name} "
                              f"({type(err).__name__}: {err})") from err

    def _blocks(self, offset: int, length: int, weights: bool, values: bool,
                among: list[int] | None = None):
        posts = self._files.get(".pst")
        if posts is None:
            raise FormatError(f"{self.name}.pst is missing")
        data = posts.get(offset, length)  # the term's blocks, in one read
        if data[:4] != _MAGIC:
            raise FormatError(f"postings at {offset} of {self.name}.pst lack their header")
        ids: list[int] = []
        ws: list[float] | None = [] if weights else None
        vs: list[bytes] | None = [] if values else None
        pos, end = 4, length
        k, before = 0, -1  # among: the next wanted id's place; the last id of the block before
        while pos < end:
            (n,) = _INT.unpack_from(data, pos)
            last = n < 0
            n = -n if last else n
            block = io.BytesIO(data[pos + 4:pos + 4 + n])
            count, last_id, _, compression, _, _ = _Unpickler(block).load()
            if among is not None:
                k = bisect_right(among, before, k)
                before = last_id
                if k == len(among):
                    break
                if among[k] > last_id:  # no wanted id in this block
                    pos += 4 + n
                    if last:
                        break
                    continue
            raw = block.read()
            if compression:
                raw = _inflate(raw)
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
        """One of :data:`COLUMNS`."""
        col = self._columns.get(name)
        if col is None:
            if name not in COLUMNS:
                raise ValueError(f"{name!r} is not a column this reader opens")
            col = self._columns[name] = _VarColumn(self._files.get(f".{name}.col"), self.doccount)
        return col

    def stored_fields(self, d: int) -> dict:
        value = self.column("_stored")[d]
        if not value:
            return {}
        try:
            value = _inflate(value)
        except zlib.error as err:
            raise FormatError(f"unreadable stored fields of document {d} of {self.name}") from err
        return _loads(value)


# -- the whole index -------------------------------------------------------------------

class IndexReader:
    """The index as one sequence of documents: segment after segment, in the table of
    contents' order (Whoosh numbers them the same way). ``crcs``: the manifest's CRC32
    of files by name, for the table of contents (segments bring their own checksums)."""

    def __init__(self, folder: str | Path, name: str = INDEX_NAME,
                 crcs: dict[str, int] | None = None):
        self.folder = Path(folder)
        self.segments: list[Segment] = []
        for attempt in range(5):  # a writer's commit may delete files between list and open
            try:
                self.generation, self.release, stand_ins = read_toc(self.folder, name, crcs)
                for s in stand_ins:
                    self.segments.append(Segment(self.folder, s))
                break
            except FileNotFoundError:
                self.close()
                self.segments = []
                if attempt == 4:
                    raise
                time.sleep(0.02)
            except BaseException:
                self.close()
                raise
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
        for seg in self.segments:
            seg.close()

    def doc_count_all(self) -> int:
        return sum(s.doccount for s in self.segments)

    def doc_count(self) -> int:
        """Live documents."""
        return sum(s.live_count() for s in self.segments)

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return any(term in s for s in self.segments)

    def leaf(self, d: int) -> tuple[Segment, int]:
        """The segment holding document ``d``, and ``d``'s number in it."""
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
        return sum(seg.doc_frequency(field, btext) for seg in self.segments)

    def lexicon(self, field: str) -> list[bytes]:
        """Every term of the field, once, in order."""
        return sorted({t for seg in self.segments for t, _ in seg.field_terms(field)})
