"""The index's codec and pool (index/codec.py) and posting reads (index/reader.py,
index/postings.py): what is written reads back exactly, through Whoosh's own matchers
and through ours."""
from __future__ import annotations

import random

from whoosh import index as windex
from whoosh.fields import ID, Schema
from whoosh.writing import SegmentWriter

from index.codec import INLINE, CompactPool, FastCodec
from index.encoding import decode_parts, encode_parts, pack_values, unpack_values
from index.postings import doc_set, doc_values, doc_weights
from index.reader import IndexReader
from index.schema import Terms


def test_part_maps_round_trip():
    rng = random.Random(1)
    cases = [1, 2, 1 << 200, (1 << 130) - 1] + [rng.getrandbits(rng.randint(1, 300)) | 1 for _ in range(500)]
    for bits in cases:
        data = encode_parts(bits)
        assert data and decode_parts(data) == bits
    sparse, dense = encode_parts(1 << 120), encode_parts((1 << 120) - 1)
    assert len(sparse) <= 3 and len(dense) == 1 + 15  # the shorter form is chosen


def test_packed_values_round_trip():
    values = [b"\x00\x01", b"x" * 300, b"\x01\x05", b"\xff"]
    assert unpack_values(pack_values(values)) == tuple(values)


def _index(tmp_path, docs: list[dict], segments: int = 1):
    schema = Schema(key=ID(stored=True, unique=True), v=Terms(valued=True), w=Terms(scorable=True))
    ix = windex.create_in(str(tmp_path), schema, indexname="T")
    per = -(-len(docs) // segments)
    for k in range(segments):
        writer = SegmentWriter(ix, codec=FastCodec(), compound=False)
        writer.pool = CompactPool()
        for d in docs[k * per:(k + 1) * per]:
            writer.add_document(**d)
        writer.commit(merge=False)
    return ix


def test_postings_read_back_exactly(tmp_path):
    """Short lists (inlined in the term dictionary), long ones (several blocks), values
    and weights, over several segments and with deleted documents: our readers and
    Whoosh's matchers agree, and both give what was written."""
    rng = random.Random(3)
    docs, truth = [], {}
    for n in range(700):
        v, w = {}, {}
        for t in rng.sample(range(60), 6) + [0]:  # term "t0" in every document: long list
            bits = rng.getrandbits(rng.randint(1, 150)) | 1
            v[f"t{t}"] = (1, 1.0, encode_parts(bits))
            w[f"t{t}"] = (t + 1, float(t + 1), b"")
            truth.setdefault(f"t{t}", {})[f"d{n}"] = (bits, float(t + 1))
        rare = f"r{n % 350}"  # a list of 2 postings: inlined in the term dictionary
        v[rare] = (1, 1.0, encode_parts(n + 1))
        truth.setdefault(rare, {})[f"d{n}"] = (n + 1, None)
        docs.append({"key": f"d{n}", "v": v, "w": w})
    assert INLINE >= 2
    ix = _index(tmp_path, docs, segments=3)
    writer = SegmentWriter(ix, codec=FastCodec(), compound=False)
    writer.pool = CompactPool()
    gone = {f"d{n}" for n in range(0, 700, 7)}
    for key in gone:
        writer.delete_by_term("key", key)
    writer.commit(merge=False)
    with ix.searcher() as s, IndexReader(tmp_path, name="T") as ours:
        reader = s.reader()
        assert len(list(reader.leaf_readers())) == 3 == len(ours.segments)
        names = {d: f["key"] for d, f in reader.iter_docs()}
        assert {d: ours.stored_fields(d)["key"] for d in names} == names
        for term, want in truth.items():
            live = {k: v for k, v in want.items() if k not in gone}
            assert {names[d] for d in doc_set(ours, "v", term)} == set(live)
            got = {names[d]: decode_parts(v) for d, v in doc_values(ours, "v", term).items()}
            assert got == {k: bits for k, (bits, _) in live.items()}, term
            m = reader.postings("v", term)  # Whoosh's own matcher, same answer
            seen = {}
            while m.is_active():
                seen[names[m.id()]] = decode_parts(m.value())
                m.next()
            assert seen == got
            if term.startswith("t"):
                weights = {names[d]: w for d, w in doc_weights(ours, "w", term).items()}
                assert weights == {k: w for k, (_, w) in live.items()}


def test_pool_sorts_what_arrives_out_of_order():
    pool = CompactPool()
    for doc in (5, 2, 9):
        pool.add(("f", b"x", doc, 1.0, b"\x00\x01"))
    pool.add(("e", b"y", 3, 2.0, b""))
    assert list(pool.iter_postings()) == [
        ("e", b"y", 3, 2.0, b""), ("f", b"x", 2, 1.0, b"\x00\x01"),
        ("f", b"x", 5, 1.0, b"\x00\x01"), ("f", b"x", 9, 1.0, b"\x00\x01")]
