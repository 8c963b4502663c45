"""The SQLite store with real records (the sample and modified copies), real files."""
from __future__ import annotations

import hashlib
import re
import sqlite3

import pytest

from archive import citing, listing
from archive.config import archive_path, data_dir
from archive.errors import Ambiguous, ArchiveError, NotFound
from archive.parser import parse
from archive.store import SCHEMA_VERSION, Store
from archive.verify import verify

from index import state
from tests.helpers import SAMPLE, SAMPLE_RECEIVED, SAMPLE_UUID, add_bytes, numbered_uuid, variant


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "data") as s:
        yield s


# -- connection and schema ---------------------------------------------------
def test_connection_settings_and_idempotent_schema(tmp_path):
    with Store.open(tmp_path) as s:
        add_bytes(s, SAMPLE.read_bytes())
    with Store.open(tmp_path) as s:  # reopening keeps the data and the schema
        assert s.count() == 1
    db = sqlite3.connect(archive_path(tmp_path))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"versions", "reviews", "refs", "citations", "flags", "index_state"} <= tables
    db.close()
    with Store.open(tmp_path) as s:
        one = lambda p: s._db.execute(f"PRAGMA {p}").fetchone()[0]  # noqa: E731
        assert one("busy_timeout") >= 30_000
        assert one("synchronous") == 2  # FULL
        assert one("foreign_keys") == 1


def test_newer_schema_is_refused(tmp_path):
    with Store.open(tmp_path):
        pass
    db = sqlite3.connect(archive_path(tmp_path))
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError, match="newer"):
        Store.open(tmp_path)


def test_data_dir_precedence(tmp_path, monkeypatch):
    """--data-dir > $REVIEWS_DATA > the per-user folder; a named folder is created only
    for writing (create=True), the per-user one always, silently."""
    from archive.config import NoArchive

    monkeypatch.setenv("REVIEWS_DATA", str(tmp_path / "env"))
    assert data_dir(tmp_path / "explicit", create=True) == tmp_path / "explicit"
    assert (tmp_path / "explicit").is_dir()
    assert data_dir(None, create=True) == tmp_path / "env"
    assert (tmp_path / "env").is_dir()
    with pytest.raises(NoArchive, match="no archive at"):
        data_dir(tmp_path / "explicit")  # a folder, but no archive in it: reading refuses
    Store.open(tmp_path / "explicit").close()
    assert data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("REVIEWS_DATA")
    monkeypatch.setattr("platformdirs.user_data_dir", lambda app: str(tmp_path / "plat" / app))
    assert data_dir(None) == tmp_path / "plat" / "review-archive"
    assert (tmp_path / "plat" / "review-archive").is_dir()
    assert archive_path(tmp_path) == tmp_path / "archive.sqlite3"


# -- add semantics -----------------------------------------------------------
def test_add_unchanged_version(store):
    data = SAMPLE.read_bytes()
    first = add_bytes(store, data)
    assert (first.status, first.uuid, first.current) == ("added", SAMPLE_UUID, True)
    again = add_bytes(store, data, "copy.txt")
    assert (again.status, again.version_id, again.current) == ("unchanged", first.version_id, True)
    newer = add_bytes(store, variant(received="2025-11-22 08:00:00").encode())
    assert (newer.status, newer.uuid, newer.current) == ("version", SAMPLE_UUID, True)
    assert newer.version_id != first.version_id
    assert store.count() == 1
    assert [v.id for v in store.versions(SAMPLE_UUID)] == [first.version_id, newer.version_id]
    assert store.current_version(SAMPLE_UUID).id == newer.version_id
    assert store.current(SAMPLE_UUID).received_at == "2025-11-22 08:00:00"
    assert store.record(first.version_id).received_at == SAMPLE_RECEIVED
    assert listing.stats(store)["versions"] == 2


def test_current_is_latest_received_even_out_of_order(store):
    late = add_bytes(store, variant(received="2025-11-23 10:00:00").encode())
    early = add_bytes(store, variant(received="2025-11-20 10:00:00").encode())
    assert (early.status, early.current) == ("version", False)
    assert store.current_version(SAMPLE_UUID).id == late.version_id
    # same received_at, different bytes: the one ingested last wins
    tie = add_bytes(store, variant(received="2025-11-23 10:00:00",
                                   replace=("## 摘要", "## 摘要 ")).encode())
    assert (tie.status, tie.current) == ("version", True)
    infos = store.versions(SAMPLE_UUID)
    assert [v.received_at for v in infos] == [
        "2025-11-20 10:00:00", "2025-11-23 10:00:00", "2025-11-23 10:00:00"]
    assert [v.is_current for v in infos] == [False, False, True]
    summary = listing.summaries(store)[0]
    assert (summary.received_at, summary.versions) == ("2025-11-23 10:00:00", 3)
    assert verify(store) == []


def test_version_info_fields(store):
    data = SAMPLE.read_bytes()
    res = add_bytes(store, data, "drop/000.txt")
    (info,) = store.versions(SAMPLE_UUID)
    assert info.id == res.version_id and info.uuid == SAMPLE_UUID
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.received_at == SAMPLE_RECEIVED
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", info.ingested_at)
    assert (info.source, info.size, info.encoding, info.is_current) == (
        "drop/000.txt", len(data), "utf-8", True)


@pytest.mark.parametrize("form", ["crlf", "bom", "gb18030", "utf-16"])
def test_raw_bytes_round_trip_exactly(store, form):
    text = variant()
    data = {
        "crlf": text.replace("\n", "\r\n").encode("utf-8"),
        "bom": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "gb18030": text.encode("gb18030"),
        "utf-16": text.encode("utf-16"),
    }[form]
    plain = add_bytes(store, text.encode("utf-8"))
    res = add_bytes(store, data, f"{form}.txt")
    assert res.status == "version"  # same UUID, other bytes
    assert store.raw(res.version_id) == data
    assert store.raw(plain.version_id) == text.encode("utf-8")
    assert store.current_version(SAMPLE_UUID).size == len(data)
    # the parsed form survives the JSON round trip
    assert store.record(res.version_id).to_dict() == parse(data, f"{form}.txt")[0].record.to_dict()
    assert verify(store) == []


def test_missing_ids_raise_not_found(store):
    with pytest.raises(NotFound):
        store.current(SAMPLE_UUID)
    with pytest.raises(NotFound):
        store.raw(12345)
    with pytest.raises(NotFound):
        store.record(12345)
    with pytest.raises(NotFound):
        store.versions(SAMPLE_UUID)


# -- resolve -----------------------------------------------------------------
def test_resolve(store):
    a, b = "abc12300000000000000000000000001", "abc12300000000000000000000000002"
    for u in (a, b, SAMPLE_UUID):
        add_bytes(store, variant(uuid=u).encode())
    assert store.resolve(SAMPLE_UUID) == SAMPLE_UUID
    assert store.resolve("E051AD47-2c3d") == SAMPLE_UUID
    assert store.resolve("e") == SAMPLE_UUID
    assert store.resolve("ABC12300-0000-0000-0000-000000000002") == b
    with pytest.raises(Ambiguous) as amb:
        store.resolve("ABC1")
    assert amb.value.matches == [a, b]
    with pytest.raises(NotFound, match="no review with id 'ff'"):
        store.resolve("ff")
    with pytest.raises(NotFound, match="not a review id"):
        store.resolve("../etc/passwd")
    with pytest.raises(NotFound):
        store.resolve("")


# -- listing -----------------------------------------------------------------
@pytest.fixture
def three(store):
    add_bytes(store, variant(uuid=numbered_uuid(1), received="2025-11-01 09:00:00",
                             topic="ResNet 与迁移学习").encode())
    add_bytes(store, variant(uuid=numbered_uuid(2), received="2025-11-15 23:59:59").encode())
    add_bytes(store, variant(uuid=numbered_uuid(3), received="2025-11-16 00:00:00",
                             replace=("[^13]", "[^99]")).encode())
    return store


def test_list_filters(three):
    u1, u2, u3 = (numbered_uuid(i) for i in (1, 2, 3))
    ids = lambda **kw: [s.uuid for s in listing.summaries(three, **kw)]  # noqa: E731
    assert ids() == [u3, u2, u1]  # newest first
    assert ids(topic="resnet") == [u1]
    assert ids(topic="图像识别") == [u3, u2]
    assert ids(since="2025-11-15") == [u3, u2]
    assert ids(until="2025-11-15") == [u2, u1]  # inclusive, to 23:59:59
    assert ids(since="2025-11-02", until="2025-11-15") == [u2]
    assert ids(flag="dangling-citation") == [u3]
    assert ids(flag="no-such-flag") == []
    assert ids(limit=2) == [u3, u2]
    with pytest.raises(ArchiveError, match="YYYY-MM-DD"):
        listing.summaries(three, since="15/11/2025")
    s = listing.summaries(three, topic="resnet")[0]
    rec = three.current(u1)
    assert (s.topic, s.versions, s.n_sections, s.n_references) == (
        "ResNet 与迁移学习", 1, len(rec.sections), len(rec.references))
    assert s.flags == rec.flag_codes()


def test_one_summary_from_the_store_or_a_record(three):
    """A listing line is one Summary whichever source fills it: the store's columns
    (``reviews list``) and a parsed record (the site) agree on every field both know."""
    for s in listing.summaries(three):
        of = listing.Summary.of(three.current(s.uuid))
        assert s.title is None and of.versions is None
        assert {k: v for k, v in of.known().items() if k in s.known()} == \
            {k: v for k, v in s.known().items() if k != "versions"}
        assert set(s.known()) == {"uuid", "received_at", "topic", "versions", "n_sections",
                                  "n_references", "flags"}  # the keys of `reviews list --json`
    dangling = listing.Summary.of(three.current(numbered_uuid(3)))
    assert dangling.n_dangling == 1 and dangling.n_citations > 1 and dangling.title


def test_topics(three):
    u1, u2, u3 = (numbered_uuid(i) for i in (1, 2, 3))
    assert listing.topics(three) == {s.uuid: s.topic for s in listing.summaries(three)}
    assert listing.topics(three, [u1, "0" * 32]) == {u1: "ResNet 与迁移学习"}
    assert listing.topics(three, [u3]) == {u3: three.current(u3).topic}


def test_stats_flags_and_iteration(three):
    recs = {u: three.current(u) for u in (numbered_uuid(i) for i in (1, 2, 3))}
    st = listing.stats(three)
    assert (st["reviews"], st["versions"]) == (3, 3)
    assert st["references"] == len({r.ref_id for rec in recs.values() for r in rec.references})
    assert st["citations"] == sum(len(rec.citations) for rec in recs.values())
    dangling = sum(1 for rec in recs.values() for c in rec.citations if c.dangling)
    assert st["dangling"] == dangling > 0
    assert st["flags"] == sum(len(rec.flags) for rec in recs.values())
    assert st["flags_by_code"]["dangling-citation"] >= 1
    assert sum(st["flags_by_code"].values()) == st["flags"]

    u3 = numbered_uuid(3)
    flags = listing.flags(three, [u3])
    assert list(flags) == [u3] and flags[u3] == recs[u3].flags
    assert listing.flags(three) == {u: rec.flags for u, rec in recs.items() if rec.flags}

    seen = list(three.iter_current(batch=2))
    assert [info.uuid for info, _ in seen] == sorted(recs)
    assert all(info.is_current and rec == recs[info.uuid] for info, rec in seen)
    assert three.count() == 3


def test_only_current_versions_count(store):
    add_bytes(store, variant(replace=("[^13]", "[^99]")).encode())
    assert listing.stats(store)["dangling"] > 0
    add_bytes(store, variant(received="2025-12-01 00:00:00").encode())  # fixed in a newer one
    assert listing.stats(store)["dangling"] == 0
    assert citing.dangling(store) == []
    assert listing.summaries(store, flag="dangling-citation") == []
    assert listing.stats(store)["versions"] == 2


# -- references --------------------------------------------------------------
def test_reference_queries(three):
    rec = three.current(numbered_uuid(2))
    by_n = {r.n: r for r in rec.global_references()}
    # [11] and [12] are spelled differently but are one work
    assert by_n[11].ref_id == by_n[12].ref_id
    assert set(citing.spellings(three, by_n[11].ref_id)) == {by_n[11].title, by_n[12].title}

    top = citing.top_references(three, limit=3)
    assert len(top) == 3
    counts = {}
    for r in three.iter_current():
        for c in r[1].citations:
            if c.ref_id:
                counts[c.ref_id] = counts.get(c.ref_id, 0) + 1
    best = max(counts.values())
    ref_id, title, n_cit, n_rev = top[0]
    assert (n_cit, n_rev) == (best, 3) and counts[ref_id] == best
    assert title == citing.spellings(three, ref_id)[0]
    assert [t[2] for t in top] == sorted((t[2] for t in top), reverse=True)

    # every word a case-insensitive substring of the NFKC title
    found = citing.find(three, ["efficientnet", "围岩"])
    assert found == [by_n[2].ref_id]
    assert citing.find(three, ["ＮＰＪ", "science"]) == [by_n[7].ref_id]  # NFKC full-width
    assert citing.find(three, [by_n[9].ref_id]) == [by_n[9].ref_id]
    assert citing.find(three, ["r0000000000"]) == []
    assert citing.find(three, ["不存在的标题词"]) == []
    wide = citing.find(three, ["深度"])
    assert {by_n[2].ref_id, by_n[3].ref_id, by_n[5].ref_id} <= set(wide)
    assert by_n[1].ref_id not in wide
    assert citing.find(three, ["深度", "书籍"]) == [by_n[3].ref_id]

    uses = citing.uses(three, [by_n[13].ref_id])
    expected = [c for r in (three.current(numbered_uuid(i)) for i in (1, 2, 3))
                for c in r.citations if c.ref_id == by_n[13].ref_id]
    assert len(uses) == len(expected) > 0
    assert uses[0].uuid == numbered_uuid(3)  # newest review first
    for u in uses:
        sec = three.current(u.uuid).section(u.section)
        title = "摘要" if u.section == "abstract" else sec.title
        assert u.section_title == title and u.marker in u.sentence and u.n == 13


def test_dangling_citations(three):
    (d,) = citing.dangling(three)
    assert (d.uuid, d.marker) == (numbered_uuid(3), "[^99]")
    assert d.section == "4.1.1" and "[^99]" in d.sentence
    assert d.topic == three.current(d.uuid).topic


# -- index bookkeeping -------------------------------------------------------
def test_index_state(three):
    pending = state.pending(three)
    assert [u for u, _ in pending] == sorted(numbered_uuid(i) for i in (1, 2, 3))
    state.mark_indexed(three, pending)
    assert state.pending(three) == []
    res = add_bytes(three, variant(uuid=numbered_uuid(2), received="2025-12-01 00:00:00").encode())
    assert state.pending(three) == [(numbered_uuid(2), res.version_id)]
    # an older version arriving late does not make the review pending again
    state.mark_indexed(three, state.pending(three))
    add_bytes(three, variant(uuid=numbered_uuid(2), received="2025-10-01 00:00:00").encode())
    assert state.pending(three) == []
    assert state.removed(three) == []
    state.reset(three)
    assert len(state.pending(three)) == 3


# -- integrity -----------------------------------------------------------------
def test_verify_detects_damage(three):
    assert verify(three) == []
    three._db.execute("UPDATE versions SET raw = X'00' WHERE id = 1")
    three._db.execute("DELETE FROM citations WHERE version_id = 2 AND ordinal = 0")
    problems = verify(three)
    assert any("version 1: raw bytes" in p for p in problems)
    assert any(p.startswith("version 2: derived rows") for p in problems)


def test_record_text_never_becomes_a_path(tmp_path):
    data = tmp_path / "data"
    with Store.open(data) as s:
        add_bytes(s, variant(topic="../../escape/主题").encode())
        add_bytes(s, variant(uuid=numbered_uuid(9), topic="/tmp/evil").encode())
        assert s.count() == 2
    assert {p.name for p in tmp_path.rglob("*")} <= {
        "data", "archive.sqlite3", "archive.sqlite3-wal", "archive.sqlite3-shm"}


def test_parsed_json_is_stored_compressed_and_old_text_rows_still_read(tmp_path):
    """Issue 10: the parsed record is zstd-compressed as it is encoded (a huge record's JSON
    is never one string in memory); it decodes to exactly the JSON the record gives, and a
    row of an older archive (JSON text) still reads."""
    import json

    from archive.store import dump_doc, load_doc

    rec = parse(SAMPLE.read_bytes())[0].record
    d = rec.to_dict()
    packed = dump_doc(d)
    text = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    assert len(packed) < len(text.encode()) / 3
    assert load_doc(packed) == d == load_doc(text)
    import zstandard
    assert zstandard.ZstdDecompressor().decompressobj().decompress(packed).decode() == text
    with Store.open(tmp_path) as s:
        add_bytes(s, SAMPLE.read_bytes())
        assert s.execute("SELECT typeof(parsed) FROM versions").fetchone() == ("blob",)
        s.write(lambda: s.execute("UPDATE versions SET parsed = ?", (text,)))  # as written before
        assert s.current(SAMPLE_UUID) == rec and verify(s) == []


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 129])
def test_parsed_json_in_pieces_is_json_dumps_whatever_the_list_lengths(n):
    """The pieces encode runs of list elements at once: the JSON is the same bytes for
    lists shorter than, as long as, and longer than a run."""
    import json

    from archive.store import _json_pieces

    d = parse(SAMPLE.read_bytes())[0].record.to_dict()
    d = {**d, "citations": (d["citations"] * 200)[:n], "empty": [], "x": {"a": ["\u2028", "研究"]}}
    assert "".join(_json_pieces(d)) == json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def test_a_read_waits_for_an_archive_being_created_and_names_one_left_without_tables(tmp_path):
    """The archive file exists a moment before the first ingest's transaction gives it
    its tables: a read then waits for them, instead of calling the archive damaged
    ("is it an archive of this program?", as it did). A file left without them (the
    first ingest killed) is said as such."""
    import threading

    from archive.errors import Damaged

    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(archive_path(data)).close()  # (an SQLite file without tables)
    with pytest.raises(Damaged, match="has no tables yet.*run `reviews ingest` again"):
        Store.open(data, read_only=True)
    writer = threading.Timer(0.3, lambda: Store.open(data).close())
    writer.start()
    try:
        with Store.open(data, read_only=True) as store:
            assert store.count() == 0
    finally:
        writer.join()
