"""index/reader.py against Whoosh's own reader: the same documents, terms, postings,
columns and stored fields, on a real index of several segments with deleted documents;
damaged files are found where they are read (block checksums, issue 22): a search or a
related list gives the undamaged index's answer or reports a corrupt index with the fix,
never a wrong answer or another error; and a search never imports Whoosh."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh import index as windex

from archive.store import Store
from cli import main
from index.folder import IndexProblem, check, open_reader, write_manifest
from index.indexer import INDEX_NAME, update
from index.postings import doc_values, doc_values_among, doc_weights, doc_weights_among
from index.reader import FormatError, IndexReader
from index.search import search
from tests.helpers import add_bytes, assert_postings_are_whooshs
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
    with _whoosh(index) as theirs, IndexReader(index) as ours:
        assert assert_postings_are_whooshs(ours, theirs, FIELDS, valued=("g", "path")) > 10_000


def test_postings_among_some_documents_are_the_whole_lists_filtered(index):
    """doc_values_among / doc_weights_among (reading only the segments and blocks that
    may hold the wanted documents) give exactly the whole lists' entries of those
    documents, deleted documents left out as there."""
    with IndexReader(index) as r:
        everyone = range(r.doc_count_all())
        terms = [t.decode() for t in r.lexicon("g")][::40] + [t.decode() for t in r.lexicon("w")][::40]
        assert len(terms) > 50 and any(seg.deleted for seg, _ in r.leaves)
        for k, term in enumerate(terms):
            field = "g" if k < len(terms) // 2 else "w"
            whole = (doc_values if field == "g" else doc_weights)(r, field, term)
            among = doc_values_among if field == "g" else doc_weights_among
            for wanted in (set(everyone[k % 3::3]), set(whole) | {0}, set(), set(everyone)):
                assert among(r, field, term, wanted) == {d: v for d, v in whole.items() if d in wanted}


def test_columns_are_whooshs(index):
    from index.postings import Column

    with _whoosh(index) as theirs, IndexReader(index) as ours:
        for name in ("key", "facet", "text"):
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
    """A copy of the index, with its archive beside it (``a``, as the fixture's)."""
    shutil.copytree(index, tmp_path / "ix")
    if not (tmp_path / "a").exists():
        shutil.copytree(index.parent / "a", tmp_path / "a")
    return tmp_path / "ix"


def _read_everything(ix: Path) -> None:
    """Every term's postings, every stored field, every column of every segment, through
    the reader a search opens (:func:`open_reader`: the manifest's CRC of the table of
    contents, each segment's block checksums)."""
    with open_reader(ix) as r:
        for seg, _ in r.leaves:
            for name in ("key", "facet", "text"):
                col = seg.column(name)
                [col[d] for d in range(seg.doccount)]
        for d in range(r.doc_count_all()):
            r.stored_fields(d)
        for field in FIELDS:
            for term in r.lexicon(field):
                for seg, _ in r.leaves:
                    seg.postings(field, term, True, True)


#: Queries whose answers read every kind of file: terms, postings, part maps, the key
#: column (ids, dates, lengths), texts (phrases, sections, snippets), stored fields,
#: reference documents
QUERIES = [("ids", "的"), ("ids", "研究 方法"), ("ids", "ref:学习"), ("ids", "section:1 方法"),
           ("ids", "模型 -学习"), ("ids", "uuid:0"), ("page", "研究"), ("page", '"的研究"')]


def _answers(ix: Path) -> dict:
    """What a user sees of ``ix``: each query's every id in rank order, or its first page
    whole (sections, snippets), and the related reviews of two reviews (the key column
    and word postings of every review); or the error, when a search reports the index
    as corrupt (the message must say how to mend it)."""
    from index.similar import similar

    out = {}
    for kind, q in QUERIES:
        try:
            res = search(ix, q, limit=None if kind == "ids" else 3, ids_only=kind == "ids")
            out[q] = res.uuids if kind == "ids" else res.to_dict()
        except IndexProblem as err:
            assert "corrupt" in str(err) and "reviews reindex" in str(err), err
            out[q] = IndexProblem
    with Store.open(ix.parent / "a") as store:
        two = [r[0] for r in store.execute("SELECT uuid FROM reviews ORDER BY uuid LIMIT 2")]
        assert len(two) == 2
        for u in two:
            try:
                out[u] = [r.to_dict() for r in similar(store, ix, u, limit=5)]
            except IndexProblem as err:
                assert "corrupt" in str(err) and "reviews reindex" in str(err), err
                out[u] = IndexProblem
    return out


@pytest.fixture(scope="module")
def want(index) -> dict:
    """The undamaged index's answers."""
    return _answers(index)


def _right_or_told(got: dict, want: dict) -> int:
    """Each answer is the undamaged index's, or the damage was reported; how many were."""
    for q, answer in got.items():
        assert answer is IndexProblem or answer == want[q], q
    return sum(answer is IndexProblem for answer in got.values())


def _flip(path: Path, at: int, n: int = 16) -> None:
    data = bytearray(path.read_bytes())
    for i in range(at, min(len(data), at + n)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("what", [".toc", ".trm", ".pst", ".key.col", ".text.col",
                                  "._stored.col", ".crc"])
def test_damaged_files_are_reported_where_they_are_read(index, want, tmp_path, what):
    """Bytes flipped throughout a file of any kind: reading everything ends in a clear
    error (the reader's checks), never another exception; every search or related list
    either answers as the undamaged index does (it read none of the damage) or reports
    the index as corrupt with the fix, and a deep check names the file."""
    ix = _copy(index, tmp_path)
    victim = max((f for f in os.listdir(ix) if f.endswith(what)), key=lambda f: (ix / f).stat().st_size)
    size = (ix / victim).stat().st_size  # (the biggest segment's: the queries read it)
    for at in range(0, size, max(1, size // 64)):
        _flip(ix / victim, at, 1)
    with pytest.raises(IndexProblem, match="corrupt"):
        _read_everything(ix)
    assert victim in check(ix, deep=True)
    _right_or_told(_answers(ix), want)  # (a small index's postings are mostly inlined)


def test_a_flipped_review_id_is_not_an_answer(index, tmp_path):
    """Issue 22's case: 16 bytes of a key column flipped (review ids, dates, lengths):
    `reviews search -l` gives the undamaged index's ids, rebuilt from the archive, and
    says so; `reviews similar` names the corrupt index and the fix, not an internal
    error."""
    data = tmp_path / "data"
    shutil.copytree(index.parent / "a", data)
    shutil.copytree(index, data / "index")
    env = {"REVIEWS_DATA": str(data)}
    want = CliRunner().invoke(main, ["search", "-l", "的"], env=env)
    assert want.exit_code == 0 and len(want.stdout.split()) == 9
    victim = sorted((data / "index").glob("*.key.col"))[0]
    _flip(victim, victim.stat().st_size // 2)
    uuid = want.stdout.split()[0]
    told = CliRunner().invoke(main, ["similar", uuid], env=env)
    assert told.exit_code != 0 and "internal error" not in told.output
    assert "corrupt" in told.output and "reviews reindex" in told.output
    got = CliRunner().invoke(main, ["search", "-l", "的"], env=env)
    assert got.exit_code == 0 and got.stdout == want.stdout
    assert "search index was corrupt" in got.stderr and "rebuilt it" in got.stderr


def test_every_segment_has_its_checksums(index):
    """Each segment of the index has its block checksums, covering each of its files at
    its size, and no other checksum file is left (Whoosh deletes one with its segment
    when a merge or an update retires it)."""
    from index.reader import CHECKSUMS, Checksums, _File

    with open_reader(index) as r:
        names = {seg.name for seg in r.segments}
    sums = {f[:-len(CHECKSUMS)] for f in os.listdir(index) if f.endswith(CHECKSUMS)}
    assert sums == names and len(names) >= 3
    for name in names:
        f = _File(index / f"{name}{CHECKSUMS}")
        table = Checksums(f).files
        f.close()
        files = {f[len(name):] for f in os.listdir(index) if f.startswith(name + ".")}
        assert set(table) == files - {CHECKSUMS}
        for ext, (size, _) in table.items():
            assert (index / f"{name}{ext}").stat().st_size == size


def test_an_index_written_before_checksums_is_read_and_gets_them(index, want, tmp_path):
    """An index whose segments have no checksum files (written before them) answers as
    before, unchecked; the next manifest written (after any commit) adds them."""
    ix = _copy(index, tmp_path)
    for f in ix.glob("*.crc"):
        f.unlink()
    manifest = json.loads((ix / "manifest.json").read_text())
    manifest["files"] = {k: v[:2] for k, v in manifest["files"].items() if not k.endswith(".crc")}
    (ix / "manifest.json").write_text(json.dumps(manifest))
    assert check(ix, deep=True) is None
    assert _answers(ix) == want
    write_manifest(ix)
    assert len(list(ix.glob("*.crc"))) == len(list(index.glob("*.crc")))
    assert check(ix, deep=True) is None and _answers(ix) == want


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
def test_damage_anywhere_gives_the_right_answer_or_a_clear_error(index, want, tmp_path):
    """16 bytes flipped at several places of every file of the index (each kind: the
    table of contents, term dictionaries, postings, columns, stored fields, checksum
    files, the manifest), and a few bits at random places: every query and related list
    answers as the undamaged index does, or reports the index as corrupt with the fix.
    Never a wrong answer without a word, never another exception."""
    import random

    rng = random.Random(22)
    names = sorted(f for f in os.listdir(index) if not f.endswith("LOCK"))
    told = 0
    for name in names:
        size = (index / name).stat().st_size
        spots = sorted({int(size * f) for f in (0.0, 0.3, 0.5, 0.7)} | {max(0, size - 16)}
                       | {rng.randrange(size) for _ in range(2)}) if size else []
        for at in spots:
            ix = _copy(index, tmp_path)
            _flip(ix / name, at)
            told += _right_or_told(_answers(ix), want)
            shutil.rmtree(ix)
    for trial in range(12):
        ix = _copy(index, tmp_path)
        victim = ix / rng.choice([n for n in names if (index / n).stat().st_size])
        data = bytearray(victim.read_bytes())
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        victim.write_bytes(bytes(data))
        told += _right_or_told(_answers(ix), want)
        shutil.rmtree(ix)
    assert told  # (the damage was read, and reported)


def test_a_reader_keeps_the_index_it_opened(tmp_path):
    """A reader opened before a writer commits (and merges away the segments it reads)
    reads on, and gives what it gave before: every file is open from the start."""
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
