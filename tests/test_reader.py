"""index/reader.py against Whoosh's own reader: the same documents, terms, postings,
columns and stored fields, on a real index of several segments with deleted documents;
unreadable files end in FormatError (a search then reports a corrupt index), and a
search never imports Whoosh."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index as windex

from archive.store import Store
from index.folder import IndexProblem, check, open_reader
from index.indexer import INDEX_NAME, update
from index.reader import FormatError, IndexReader
from index.search import search
from tests.helpers import add_bytes
from bench.corpus import generate

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("kind", "uuid", "g", "w", "path", "refs", "rkey", "rg")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """Three updates (three segments at least) and re-deliveries: documents deleted in
    older segments, which Whoosh keeps until a merge."""
    tmp = tmp_path_factory.mktemp("reader")
    store = Store.open(tmp / "a")
    gens = list(generate(9, seed=11))
    for part in (gens[:4], gens[4:7], gens[7:]):
        for g in part:
            add_bytes(store, g.data, g.name)
        update(store, tmp / "ix")
    for g, extra in ((gens[0], "再次交付的文字。"), (gens[5], "第三次交付。")):
        add_bytes(store, g.data.replace("。".encode(), ("。" + extra).encode(), 1), g.name)
        update(store, tmp / "ix")
    store.close()
    return tmp / "ix"


def _whoosh(ix_dir: Path):
    return windex.open_dir(str(ix_dir), indexname=INDEX_NAME).reader()


def test_documents_and_deletions_are_whooshs(index):
    with _whoosh(index) as theirs, IndexReader(index) as ours:
        leaves = theirs.leaf_readers() if hasattr(theirs, "leaf_readers") else [(theirs, 0)]
        assert len(ours.segments) == len(leaves) >= 3
        assert any(seg.deleted for seg in ours.segments)  # the test covers deletions
        assert ours.doc_count_all() == theirs.doc_count_all()
        assert ours.doc_count() == theirs.doc_count()
        for (seg, offset), (leaf, their_offset) in zip(ours.leaves, leaves):
            assert offset == their_offset and seg.doccount == leaf.doc_count_all()
            assert set(seg.deleted or ()) == {d for d in range(seg.doccount) if leaf.is_deleted(d)}
        for d in range(theirs.doc_count_all()):
            if not theirs.is_deleted(d):
                assert ours.stored_fields(d) == theirs.stored_fields(d)


def test_every_posting_is_whooshs(index):
    checked = 0
    with _whoosh(index) as theirs, IndexReader(index) as ours:
        leaves = theirs.leaf_readers() if hasattr(theirs, "leaf_readers") else [(theirs, 0)]
        for field in FIELDS:
            lexicon = list(theirs.lexicon(field))
            assert ours.lexicon(field) == lexicon, field
            for term in lexicon:
                assert ours.doc_frequency(field, term.decode()) == theirs.doc_frequency(field, term)
                for (seg, _), (leaf, _) in zip(ours.leaves, leaves):
                    mine = seg.postings(field, term, weights=True, values=True)
                    if (field, term) not in leaf:
                        assert mine is None
                        continue
                    m = leaf.postings(field, term)
                    m = getattr(m, "child", m)  # (a segment with deletions wraps its matcher)
                    m.reset()
                    ids, weights, values = [], [], []
                    while m.is_active():
                        ids.append(m.id())
                        weights.append(m.weight())
                        values.append(m.value())
                        m.next()
                    assert mine[0] == ids and mine[1] == weights, (field, term)
                    if field in ("g", "path"):  # valued fields
                        assert mine[2] == values, (field, term)
                    checked += len(ids)
    assert checked > 10_000


def test_columns_are_whooshs(index):
    from index.postings import Column

    with _whoosh(index) as theirs, IndexReader(index) as ours:
        for name in ("key", "text"):
            col = Column(ours, name)
            their = theirs.column_reader(name, translate=False)
            everyone = range(theirs.doc_count_all())
            assert col.many(everyone) == {d: their[d] for d in everyone}
            assert [col[d] for d in everyone] == [their[d] for d in everyone]


def test_prefixes_match_whooshs(index):
    from index.postings import expand_prefix

    with _whoosh(index) as theirs, IndexReader(index) as ours:
        for prefix in ["", "0", "a", "f", "zz", "研", "\uffff"]:
            want = [t.decode() for t in theirs.expand_prefix("uuid", prefix)]
            assert expand_prefix(ours, "uuid", prefix) == want


def _copy(index: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(index, tmp_path / "ix")
    return tmp_path / "ix"


def _read_everything(ix: Path) -> None:
    """Every term's postings, every stored field, every column of every segment."""
    with IndexReader(ix) as r:
        for field in FIELDS:
            for term in r.lexicon(field):
                for seg, _ in r.leaves:
                    seg.postings(field, term, True, True)
        for d in range(r.doc_count_all()):
            r.stored_fields(d)
        for seg, _ in r.leaves:
            for name in ("key", "text"):
                col = seg.column(name)
                [col[d] for d in range(seg.doccount)]


@pytest.mark.parametrize("what", ["toc", "trm", "pst", "col"])
def test_damaged_files_are_a_format_error(index, tmp_path, what):
    """Garbage in the table of contents, a term dictionary or the postings ends in
    FormatError (or an OSError), never another exception; a search either answers (its
    terms missed the damage) or names the index as corrupt, never a traceback."""
    ix = _copy(index, tmp_path)
    victim = sorted(f for f in os.listdir(ix) if f.endswith({"toc": ".toc", "trm": ".trm", "pst": ".pst",
                                                           "col": ".key.col"}[what]))[0]
    data = bytearray((ix / victim).read_bytes())
    for i in range(0, len(data), max(1, len(data) // 64)):
        data[i] ^= 0x5A
    (ix / victim).write_bytes(bytes(data))
    if what != "col":  # (a column value is bytes: damage there shows where it is used)
        with pytest.raises((FormatError, OSError)):
            _read_everything(ix)
    assert check(ix, deep=True) is not None
    failed = 0
    for q in ["研究", "的", "模型 -学习", "section:1 方法", "ref:学习", "uuid:0"]:
        try:  # a query that misses the damaged bytes may still answer
            search(ix, q)
        except IndexProblem as err:
            assert "corrupt" in str(err) and "reviews reindex" in str(err)
            failed += 1
    assert failed or what in ("pst", "col")


def test_the_toc_never_imports_a_class(index, tmp_path):
    """The segment list is unpickled with stand-ins: a pickle naming another class
    imports nothing and runs nothing."""
    import pickle
    from index.reader import _StandIn, _Unpickler

    flag = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {flag}",)

    evil = pickle.dumps([Evil()], protocol=4)
    got = _Unpickler(evil, stand_ins=True).load()[0]
    assert isinstance(got, _StandIn) and type(got).__name__ == "system" and not flag.exists()
    with pytest.raises(FormatError):
        _Unpickler(evil).load()
    assert not flag.exists()


def test_a_search_never_imports_whoosh_or_jieba(index):
    code = ("import sys; from index.search import search; "
            f"r = search({str(index)!r}, '研究 -模型', limit=3); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('whoosh', 'jieba', 'rjieba')); "
            "print(r.total_reviews, bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] == "[]" and int(out[0]) >= 0


def test_open_reader_reports_a_missing_index(tmp_path):
    with pytest.raises(IndexProblem) as err:
        open_reader(tmp_path / "nothing")
    assert "missing" in str(err.value)


@pytest.mark.slow
def test_random_damage_never_escapes_as_another_error(index, tmp_path):
    """A few bytes flipped anywhere in a term dictionary, the postings or a column: the
    reader reads on or raises FormatError (or OSError), never anything else (the
    manifest's checksums, not the reader, tell damage that reads on)."""
    import random
    import shutil

    rng = random.Random(9)
    names = sorted(f for f in os.listdir(index) if f.endswith((".trm", ".pst", ".col", ".toc")))
    raised = 0
    for trial in range(40):
        ix = tmp_path / f"ix{trial}"
        shutil.copytree(index, ix)
        victim = ix / rng.choice(names)
        data = bytearray(victim.read_bytes())
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        victim.write_bytes(bytes(data))
        try:
            _read_everything(ix)
        except (FormatError, OSError):
            raised += 1
        shutil.rmtree(ix)
    assert raised  # some damage is seen by the reader itself


def test_a_reader_keeps_the_index_it_opened(tmp_path):
    """A reader opened before a writer commits (and merges away the segments it reads)
    reads on, and gives what it gave before: every file is open from the start."""
    import shutil

    from index.indexer import rebuild
    from index.postings import Column, doc_set

    store = Store.open(tmp_path / "a")
    gens = list(generate(6, seed=5))
    for g in gens[:3]:
        add_bytes(store, g.data, g.name)
        update(store, tmp_path / "ix")  # three segments
    reader = IndexReader(tmp_path / "ix")
    before = (doc_set(reader, "g", "研究"), Column(reader, "text").many(range(reader.doc_count_all())))
    for g in gens[3:]:
        add_bytes(store, g.data, g.name)
    rebuild(store, tmp_path / "ix")  # a new folder swapped in, the old one deleted
    shutil.rmtree(tmp_path / "ix", ignore_errors=True)
    assert (doc_set(reader, "g", "研究"), Column(reader, "text").many(range(reader.doc_count_all()))) == before
    assert reader.stored_fields(0)
    reader.close()
    store.close()
