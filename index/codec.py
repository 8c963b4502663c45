"""Whoosh's W3 codec, made compact for this index's postings.

The index's postings are many and short: a review has a few thousand grams, most of
them in one or two reviews of the archive, and each ``g`` posting carries a part map
(:mod:`index.document`). Whoosh 2.7's W3 codec (whoosh-reloaded 2.7.5) stores that
badly, so :class:`FastCodec` changes three things and nothing else:

* **values**: W3 pickles a block's values as a tuple of ``bytes`` objects with pickle
  protocol 2, which writes every one as a ``_codecs.encode`` call on a latin-1 string
  (about 15 bytes per value). Here a block's values are one byte string: each value's
  length as a varint, then the value. Part maps are written by
  :func:`index.encoding.encode_parts`/``decode_parts``: a bitmap or, when shorter, the list of
  set bits as varint deltas.
* **short lists inline**: W3 meant to keep posting lists shorter than ``inlinelimit``
  in the term dictionary, but calls ``W3TermInfo.set_inline``, which does not exist
  (the method is ``set_inlined``); with the default limit of 1 the branch never runs.
  :class:`CompactTermInfo` supplies the name, and lists shorter than :data:`INLINE`
  (W3's test is ``len < inlinelimit``) are inlined, saving the block header, info pickle and zlib frame each
  list would otherwise cost.
* **no length statistics** (``length_stats = False``): they only serve Whoosh's own
  block-quality skipping, which this index never uses (it ranks with
  :mod:`index.rank`), and gathering them re-reads a field length for every posting.

The codec object is pickled into every segment of the table of contents, so these
classes live at module level and Whoosh's own reader needs this module; this project's
reader (:mod:`index.reader`) reads the same files without it.
``tests/test_index_codec.py`` checks that postings read back exactly as written.
"""
from __future__ import annotations

from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter, W3TermInfo

from index.encoding import pack_values, unpack_values, varint

INLINE = 8  # posting lists this short live in the term dictionary


class CompactTermInfo(W3TermInfo):
    def set_inline(self, ids, weights, values):
        self.set_inlined(ids, weights, values)


class CompactPostingsWriter(W3PostingsWriter):
    def start_postings(self, format_, terminfo):
        if type(terminfo) is W3TermInfo:
            terminfo.__class__ = CompactTermInfo
        super().start_postings(format_, terminfo)

    def _mini_values(self):
        fixedsize = self._format.fixed_value_size()
        if fixedsize is None or fixedsize < 0:
            return pack_values(self._values)
        return super()._mini_values()


class CompactLeafMatcher(W3LeafMatcher):
    def _read_values(self):
        if self._data is None:
            self._read_data()
        fixedsize = self._fixedsize
        if (fixedsize is None or fixedsize < 0) and isinstance(self._data[2], bytes):
            self._values = unpack_values(self._data[2])
        else:
            super()._read_values()


class FastCodec(W3Codec):
    length_stats = False

    def __init__(self, blocklimit=128, compression=3, inlinelimit=INLINE):
        super().__init__(blocklimit, compression, inlinelimit)

    def postings_writer(self, dbfile, byteids=False):
        return CompactPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                     compression=self._compression,
                                     inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return CompactLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class CompactPool:
    """The writer's posting pool, kept as an in-memory inverted index.

    Whoosh's ``PostingPool`` keeps every posting as a 5-tuple (about 200 bytes), sorts
    them all at the end, and past its memory limit pickles them to temporary files one
    posting at a time (2.4 GB of files for 5,000 reviews). Here each term keeps one byte
    string of ``(document, weight)`` pairs and one of its values, about 10 bytes a
    posting, so a worker holds its whole share in memory and writes one segment, with
    no sort of the postings (a term's documents arrive in order) and no temporary files.
    The interface is the part :class:`whoosh.writing.SegmentWriter` uses: ``add``,
    ``iter_postings`` (by field, term, document) and ``cleanup``.
    """

    _PAIR = __import__("struct").Struct("<If")

    def __init__(self):
        self.terms: dict[tuple[str, bytes], list] = {}
        self.fieldnames: set[str] = set()
        self.postings = 0  # held now (a writer may start a new segment past a budget)

    def add(self, item) -> None:
        fieldname, btext, docnum, weight, vbytes = item
        if docnum < 0:  # spelling words: this index keeps none
            return
        self.postings += 1
        entry = self.terms.get((fieldname, btext))
        if entry is None:
            entry = self.terms[(fieldname, btext)] = [bytearray(), None, 0]
            self.fieldnames.add(fieldname)
        entry[0] += self._PAIR.pack(docnum, weight)
        if vbytes:
            if entry[1] is None:
                entry[1] = bytearray()
            varint(len(vbytes), entry[1])
            entry[1] += vbytes
        if entry[2] >= 0:  # the last document, or -1 once one came out of order
            entry[2] = docnum if docnum >= entry[2] else -1

    def iter_postings(self):
        unpack = self._PAIR.iter_unpack
        for key in sorted(self.terms):
            pairs, values, last = self.terms.pop(key)
            vs = unpack_values(bytes(values)) if values is not None else None
            rows = [(key[0], key[1], d, w, vs[i] if vs else b"")
                    for i, (d, w) in enumerate(unpack(pairs))]
            if last < 0:
                rows.sort(key=lambda r: r[2])
            yield from rows

    def cleanup(self) -> None:
        self.terms.clear()
        self.postings = 0
