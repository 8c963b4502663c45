"""What the index's own reader (index/reader.py) must know of what it reads.

The stamp: the manifest names the Whoosh release and the index format that wrote the
index, and every open compares them with this program's. An index of another release
or format, or one written before the stamp, is refused with the fix
(``IndexOutdated``), and rebuilt by the commands that may; never read as if it were of
this one. The table of contents' own release is compared too, and writing needs the
release the reader reads.

The branches a small archive never reaches, on indexes written by Whoosh with this
project's codec and compared with Whoosh's own reader: posting lists of many blocks,
a segment of more than 32,768 documents (its columns then end in offsets and an ``X``),
a term dictionary whose extras (the pickled field map) pass 4 KB, and term records
longer than a first read.
"""
from __future__ import annotations

import io
import json
import pickle
import shutil
import struct
import tomllib
from pathlib import Path

import pytest
import whoosh
from click.testing import CliRunner
from whoosh import columns, index as windex
from whoosh.fields import COLUMN, ID, STORED, Schema

from archive.errors import ArchiveError
from cli import main
from index import indexer
from index.codec import INLINE
from index.folder import FORMAT, MANIFEST, THIS, check, open_reader, write_manifest
from index.postings import Column
from index.problems import IndexDamaged, IndexOutdated
from index.reader import WHOOSH, ReleaseError, IndexReader, read_toc
from index.schema import Terms
from index.search import search
from tests.helpers import ROOT, assert_postings_are_whooshs, make_store

OTHER = (1, 8, 4)  # a Whoosh release that is not this one
QUERIES = ("深度学习", "模型 -GAN", "图像识别")


def _release(r) -> str:
    return ".".join(map(str, r))


def _answers(ix: Path) -> dict[str, list[str]]:
    return {q: search(ix, q, ids_only=True).uuids for q in QUERIES}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A data folder (the archive and its index) and the answers of its healthy index."""
    data = tmp_path_factory.mktemp("format")
    store = make_store(data, 12)
    indexer.update(store, data / "index")
    store.close()
    return data, _answers(data / "index")


def _copy(archive, tmp_path: Path) -> tuple[Path, Path]:
    data, _ = archive
    shutil.copytree(data, tmp_path / "d")
    return tmp_path / "d", tmp_path / "d" / "index"


def _edit_manifest(ix: Path, **changes) -> None:
    manifest = json.loads((ix / MANIFEST).read_text())
    for key, value in changes.items():
        if value is None:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    (ix / MANIFEST).write_text(json.dumps(manifest))


# -- the stamp -----------------------------------------------------------------------

def test_the_manifest_names_the_release_and_format_that_wrote_it(archive):
    manifest = json.loads((archive[0] / "index" / MANIFEST).read_text())
    assert manifest["whoosh"] == list(whoosh.__version__[:3]) == list(WHOOSH)
    assert manifest["format"] == FORMAT
    with IndexReader(archive[0] / "index") as r:
        assert r.release == WHOOSH
    # The reader's release is the one pyproject.toml pins (moving one moves the other).
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"whoosh-reloaded=={_release(WHOOSH)}" in deps


def test_an_index_written_by_another_release_is_refused_then_rebuilt(archive, tmp_path, monkeypatch):
    """Written through Whoosh with another release in its table of contents (as another
    release writes it): the stamp says so, every open refuses it with the fix, and the
    step before a read (index.ready) rebuilds it and gives the healthy index's answers."""
    from index.ready import ensure_index

    _, want = archive
    other = tmp_path / "index"
    with monkeypatch.context() as m:
        m.setattr(windex, "__version__", OTHER)  # what Whoosh writes into the table of contents
        store = make_store(tmp_path, 12)
        indexer.update(store, other)
        store.close()
    assert json.loads((other / MANIFEST).read_text())["whoosh"] == list(OTHER)
    message = (f"the index at {other} was written by whoosh {_release(OTHER)} / format {FORMAT}; "
               f"this is whoosh {_release(WHOOSH)} / format {FORMAT}: run reviews reindex")
    with pytest.raises(IndexOutdated) as err:
        open_reader(other)
    assert str(err.value) == message
    with pytest.raises(IndexOutdated):
        indexer.open_index(other)
    with pytest.raises(ReleaseError, match=_release(OTHER)):
        IndexReader(other)
    with pytest.raises(IndexOutdated) as err:
        search(other, "深度学习")  # a query only reads
    assert str(err.value) == message
    told = []
    with ensure_index(tmp_path, told.append) as engine:
        result = engine.search("深度学习", ids_only=True)
    assert told == [f"search index was written by whoosh {_release(OTHER)} / format {FORMAT} "
                    f"(this is {THIS}); rebuilt it from the archive (14 reviews)"]
    assert result.uuids == want["深度学习"]
    assert _answers(other) == want
    assert json.loads((other / MANIFEST).read_text())["whoosh"] == list(WHOOSH)


@pytest.mark.parametrize("stamp, written", [
    ({"whoosh": None}, f"whoosh (unknown) / format {FORMAT}"),  # written before the stamp
    ({"whoosh": "2.7.5"}, f"whoosh (unknown) / format {FORMAT}"),
    ({"format": FORMAT - 1}, f"whoosh {_release(WHOOSH)} / format {FORMAT - 1}"),
    ({"format": None, "whoosh": None}, "whoosh (unknown) / format (unknown)"),
])
def test_an_index_of_another_or_no_stamp_is_never_read(archive, tmp_path, stamp, written):
    data, ix = _copy(archive, tmp_path)
    _edit_manifest(ix, **stamp)
    problem = f"written by {written} (this is {THIS})"
    assert check(ix, deep=False) == check(ix, deep=True) == problem
    with pytest.raises(IndexOutdated) as err:
        open_reader(ix)
    assert str(err.value) == f"the index at {ix} was written by {written}; this is {THIS}: run reviews reindex"
    assert isinstance(err.value, IndexDamaged) and err.value.exit_code == 5
    # The CLI's search rebuilds it from the archive, says so, and answers.
    run = CliRunner().invoke(main, ["search", "-l", "--data-dir", str(data), "深度学习"])
    assert run.exit_code == 0, run.output
    assert f"search index was {problem}; rebuilt it" in run.stderr
    assert run.stdout.split() == archive[1]["深度学习"]
    assert check(ix) is None


def test_an_update_rebuilds_an_index_of_another_format(archive, tmp_path):
    from archive.store import Store

    data, ix = _copy(archive, tmp_path)
    _edit_manifest(ix, format=FORMAT + 1)
    with Store(data / "archive.sqlite3") as store:
        report = indexer.update(store, ix)
    assert report.rebuilt and report.message == (
        f"search index was written by whoosh {_release(WHOOSH)} / format {FORMAT + 1} "
        f"(this is {THIS}); rebuilt it from the archive (14 reviews)")
    assert _answers(ix) == archive[1]


def test_a_table_of_contents_of_another_release_under_this_stamp(archive, tmp_path):
    """The manifest says this release, the table of contents another (its three
    varints after the sizes, the check number and the version): read_toc compares the
    release it reads, so the index is refused, not read."""
    _, ix = _copy(archive, tmp_path)
    toc = next(ix.glob("_MAIN_*.toc"))
    data = bytearray(toc.read_bytes())
    assert tuple(data[11:14]) == WHOOSH
    data[11:14] = bytes(OTHER)
    toc.write_bytes(bytes(data))
    write_manifest(ix)  # (sizes and checksums of the changed table; it stamps OTHER)
    _edit_manifest(ix, whoosh=list(WHOOSH))
    assert read_toc(ix, release=None)[1] == OTHER
    for open_ in (open_reader, lambda ix: indexer.open_index(ix, deep=True)):
        with pytest.raises(IndexOutdated, match=f"written by whoosh {_release(OTHER)} / format {FORMAT};"):
            open_(ix)
    assert check(ix, deep=True) == f"written by whoosh {_release(OTHER)} / format {FORMAT} (this is {THIS})"


def test_writing_needs_the_release_the_reader_reads(archive, tmp_path, monkeypatch):
    from archive.store import Store

    data, ix = _copy(archive, tmp_path)
    before = {p.name: p.read_bytes() for p in ix.iterdir()}
    monkeypatch.setattr(whoosh, "__version__", OTHER)
    with Store(data / "archive.sqlite3") as store:
        for write in (indexer.update, indexer.rebuild):
            with pytest.raises(ArchiveError) as err:
                write(store, ix)
            assert str(err.value).startswith(f"whoosh {_release(OTHER)} is installed, but index/reader.py "
                                             f"reads the files of whoosh {_release(WHOOSH)}")
            assert "\n" not in str(err.value)
    assert {p.name: p.read_bytes() for p in ix.iterdir()} == before


# -- branches a small archive never reaches ------------------------------------------

def _write(folder: Path, schema: Schema, docs) -> None:
    """One segment of ``docs``, written as the indexer writes (its codec and pool)."""
    ix = windex.create_in(str(folder), schema, indexname=indexer.INDEX_NAME)
    writer = indexer._writer(ix)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(merge=False)


def _blocks(pst: bytes, offset: int) -> int:
    """How many blocks a posting list at ``offset`` of a ``.pst`` file has (``W3Bl``,
    then blocks of ``!i`` length, negative for the last)."""
    assert pst[offset:offset + 4] == b"W3Bl"
    pos, n = offset + 4, 0
    while True:
        (length,) = struct.unpack_from("!i", pst, pos)
        n += 1
        if length < 0:
            return n
        pos += 4 + length


def test_posting_lists_of_many_blocks_and_long_term_records(tmp_path):
    """Lists of 128 postings a block (Whoosh's block size) and more, with weights and
    values, and inlined lists whose values make a term record longer than the reader's
    first read of it: the same postings as Whoosh's."""
    schema = Schema(uuid=ID(stored=True), g=Terms(valued=True), w=Terms(scorable=True))
    docs = []
    for n in range(1000):
        g = {"all": (1, 1.0, bytes([n % 200 + 1, n // 200 + 1])),
             f"m{n % 3}": (1, 1.0, b"\x02" * (n % 50 + 1))}
        if n % 150 == 0:  # 7 documents (fewer than INLINE): an inlined list of long values
            g["big"] = (1, 1.0, bytes([n // 150 + 1]) * 300)
        docs.append({"uuid": f"d{n}", "g": g, "w": {"all": (n % 9 + 1, float(n % 9 + 1), b""),
                                                      f"m{n % 7}": (2, 2.0, b"")}})
    _write(tmp_path, schema, docs)
    with windex.open_dir(str(tmp_path), indexname=indexer.INDEX_NAME).reader() as theirs, \
            IndexReader(tmp_path) as ours:
        seg = ours.segments[0]
        pst = (tmp_path / f"{seg.name}.pst").read_bytes()
        for term, blocks in ((b"all", 8), (b"m0", 3)):
            info = seg.info("g", term)
            assert info[0] == 0  # (not inlined)
            assert _blocks(pst, struct.unpack_from("!q", info, struct.calcsize("!BfIBBfII"))[0]) == blocks
        big = seg.info("g", b"big")
        assert INLINE > 7
        assert big[0] and len(big) > 8 + 256  # inlined, longer than the first read
        assert assert_postings_are_whooshs(ours, theirs, ("uuid", "g", "w"), valued=("g",)) > 4000
        assert [ours.stored_fields(d) for d in range(1000)] == [theirs.stored_fields(d) for d in range(1000)]
        # among: only the blocks that may hold the wanted documents are decoded
        ids, _, values = seg.postings("g", b"all", values=True)
        for wanted in ([0], [500], [127, 128], [999], [3, 640, 998]):
            got = seg.postings("g", b"all", values=True, among=wanted)
            assert len(got[0]) <= 128 * len(wanted) < len(ids)
            assert dict(zip(*got[::2])).items() >= {d: values[d] for d in wanted}.items()
        assert seg.postings("g", b"m0", among=[1000])[0] == []  # (past its last block)


# (slow tier: writes a 33,000-document segment, ~1.7 s of CPU; the reader's other
# branches stay fast)
@pytest.mark.slow
def test_a_segment_of_more_than_32768_documents(tmp_path):
    """Past 2**15 documents Whoosh writes a column's offsets too and ends it with ``X``:
    tiny documents make such a segment in seconds. Every column value and stored field
    and the postings are Whoosh's."""
    n = 2 ** 15 + 40
    schema = Schema(uuid=ID(stored=True), key=COLUMN(columns.VarBytesColumn()),
                    text=COLUMN(columns.VarBytesColumn()), g=Terms(valued=True))
    docs = ({"uuid": f"{d:x}", "key": b"" if d % 5 == 0 else b"k%d" % d,
             "text": b"t" * (d % 300),  # lengths past 255: a wider length array
             "g": {"all": (1, 1.0, b"\x01"), f"m{d % 7}": (1, 1.0, bytes([d % 250 + 1]))}}
            for d in range(n))
    _write(tmp_path, schema, docs)
    with windex.open_dir(str(tmp_path), indexname=indexer.INDEX_NAME).reader() as theirs, \
            IndexReader(tmp_path) as ours:
        seg = ours.segments[0]
        assert seg.doccount == n
        for name in ("key", "text", "_stored"):
            assert (tmp_path / f"{seg.name}.{name}.col").read_bytes()[-1:] == b"X", name
        everyone = range(n)
        for name in ("key", "text"):
            their = theirs.column_reader(name, translate=False)
            want = [their[d] for d in everyone]
            assert [seg.column(name)[d] for d in everyone] == want, name
            assert Column(ours, name).many(everyone) == dict(zip(everyone, want)), name
        assert all(ours.stored_fields(d) == theirs.stored_fields(d) for d in everyone)
        assert assert_postings_are_whooshs(ours, theirs, ("g",), valued=("g",)) == 2 * n


def test_a_term_dictionary_whose_extras_pass_4_kb(tmp_path):
    """The field map is pickled into the term dictionary's extras; the reader reads
    4 KB of them first, and all of them when they are longer: many fields with long
    names make them so."""
    names = [f"a_field_with_a_rather_long_name_{k:03d}" for k in range(160)]
    schema = Schema(uuid=ID(stored=True), **{f: Terms(valued=True) for f in names})
    docs = [{"uuid": f"d{n}", **{f: {f"t{(n + k) % 5}": (1, 1.0, bytes([k % 250 + 1]))}
                                   for k, f in enumerate(names) if (n + k) % 3}}
            for n in range(60)]
    _write(tmp_path, schema, docs)
    with windex.open_dir(str(tmp_path), indexname=indexer.INDEX_NAME).reader() as theirs, \
            IndexReader(tmp_path) as ours:
        trm = (tmp_path / f"{ours.segments[0].name}.trm").read_bytes()
        (exlen,) = struct.unpack_from("!i", trm, len(trm) - 4)
        extras = io.BytesIO(trm[len(trm) - 4 - exlen:])
        assert len(pickle.load(extras)["fieldmap"]) == len(names) + 1
        assert extras.tell() > 4096  # the pickle alone
        assert assert_postings_are_whooshs(ours, theirs, ["uuid", *names], valued=names) > 60 * 100
