"""Ingesting files, folders and stdin, and watching a drop folder (real files, real SQLite)."""
from __future__ import annotations

import io
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from archive import listing
from archive.errors import ArchiveError
from archive.ingest import ingest, watch
from archive.store import Store
from tests.helpers import SAMPLE, SAMPLE_UUID, numbered_uuid, variant


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "data") as s:
        yield s


def test_folder_with_good_and_bad_files(tmp_path, store):
    drop = tmp_path / "drop"
    write(drop / "a.txt", variant(uuid=numbered_uuid(1)))
    write(drop / "b.txt", variant(uuid=numbered_uuid(2)))
    write(drop / "sub" / "c.txt", variant(uuid=numbered_uuid(3)))
    write(drop / "sub" / "c-again.txt", variant(uuid=numbered_uuid(3)))  # same bytes
    write(drop / "sub" / "deeper" / "d.txt",  # same UUID as a.txt, received later
          variant(uuid=numbered_uuid(1), received="2025-12-01 00:00:00"))
    write(drop / "page.txt", "<!DOCTYPE html><html><head></head><body></body></html>")
    write(drop / "payload.txt", '{"uuid": "x", "content": "y"}')
    write(drop / "empty.txt", b"")
    write(drop / "binary.txt", bytes(range(256)) * 4)
    write(drop / "notes.md", "not matched by the glob")
    write(drop / ".hidden.txt", variant(uuid=numbered_uuid(8)))
    write(drop / "e.txt.part", variant(uuid=numbered_uuid(9)))
    (tmp_path / "empty-dir").mkdir()
    progress = []
    report = ingest(store, [str(drop), str(tmp_path / "missing.txt"), str(tmp_path / "empty-dir")],
                    on_progress=lambda done, total, src: progress.append((done, total, src)))

    assert (report.added, report.versions, report.unchanged) == (3, 1, 1)
    assert report.changed == [numbered_uuid(i) for i in (1, 2, 3)]
    reasons = dict(report.refused)
    assert len(report.refused) == 6
    assert reasons[str(tmp_path / "missing.txt")] == "no such file or directory"
    assert "no files matching '*.txt'" in reasons[str(tmp_path / "empty-dir")]
    assert "HTML" in reasons[str(drop / "page.txt")]
    assert "JSON" in reasons[str(drop / "payload.txt")]
    assert reasons[str(drop / "empty.txt")] == "empty file"
    assert "binary" in reasons[str(drop / "binary.txt")]
    # files in sorted relative-path order, every one reported to the progress callback
    order = ["a.txt", "b.txt", "binary.txt", "empty.txt", "page.txt", "payload.txt",
             "sub/c-again.txt", "sub/c.txt", "sub/deeper/d.txt"]
    assert progress == [(i, 9, str(drop / name)) for i, name in enumerate(order, 1)]

    assert store.count() == 3
    assert store.current(numbered_uuid(1)).received_at == "2025-12-01 00:00:00"
    assert store.raw(store.current_version(numbered_uuid(2)).id) == (drop / "b.txt").read_bytes()
    assert store.current_version(numbered_uuid(2)).source == str(drop / "b.txt")

    again = ingest(store, [str(drop)])
    assert (again.added, again.versions, again.unchanged, again.changed) == (0, 0, 5, [])
    assert len(again.refused) == 4


def test_explicit_file_ignores_glob_and_duplicates_are_read_once(tmp_path, store):
    f = write(tmp_path / "record.dat", SAMPLE.read_bytes())
    report = ingest(store, [str(f), str(f)])
    assert (report.added, report.unchanged, report.refused) == (1, 0, [])
    assert store.resolve(SAMPLE_UUID) == SAMPLE_UUID


def test_stdin(store):
    report = ingest(store, ["-"], stdin=io.BytesIO(SAMPLE.read_bytes()))
    assert (report.added, report.changed) == (1, [SAMPLE_UUID])
    assert store.current_version(SAMPLE_UUID).source == "<stdin>"
    bad = ingest(store, ["-"], stdin=io.BytesIO(b"hello\n"))
    assert bad.refused == [("<stdin>", "not a callback record: no 接收时间 / 主题 / UUID header")]


def test_file_holding_two_records(tmp_path, store):
    one = variant(uuid=numbered_uuid(1))
    two = variant(uuid=numbered_uuid(2), received="2025-11-22 10:00:00")
    f = write(tmp_path / "two.txt", one + "\n" + two)
    report = ingest(store, [str(f)])
    assert (report.added, report.refused) == (2, [])
    assert report.notes == [f"split {f}: it held 2 records, stored separately"]
    for u in (numbered_uuid(1), numbered_uuid(2)):
        assert "split-record" in store.current(u).flag_codes()
    # the two stored raws are pieces of the file, in order, and cover it
    raws = [store.raw(store.current_version(u).id) for u in (numbered_uuid(1), numbered_uuid(2))]
    assert b"".join(raws) == f.read_bytes()


def test_a_failing_file_does_not_stop_the_others(tmp_path, store):
    files = [write(tmp_path / f"{i}.txt", variant(uuid=numbered_uuid(i))) for i in range(3)]

    def vanish_next(done, total, source):  # a real fault: the next file disappears
        if done == 1:
            files[1].unlink()

    report = ingest(store, [str(tmp_path)], on_progress=vanish_next)
    assert report.added == 2
    ((source, reason),) = report.refused
    assert source == str(files[1]) and reason == "cannot read it: no such file or directory"


def test_a_20mb_file_is_stored(tmp_path, store):
    big = variant(replace=("对话结束", "大段正文。" * 1_400_000 + "\n\n对话结束"))
    f = write(tmp_path / "big.txt", big)
    assert f.stat().st_size > 20_000_000
    report = ingest(store, [str(f)])
    assert report.added == 1
    assert store.raw(store.current_version(SAMPLE_UUID).id) == f.read_bytes()


# -- watch -------------------------------------------------------------------
@pytest.mark.slow
def test_watch_ingests_settled_files_only(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    reports = []
    stop = threading.Event()
    got = threading.Condition()

    def on_report(report, path):
        with got:
            reports.append((report, path))
            got.notify_all()

    def wait_for(n):
        with got:
            assert got.wait_for(lambda: len(reports) >= n, timeout=60), reports

    with Store.open(tmp_path / "data") as writer:
        t = threading.Thread(target=watch, args=(writer, drop), daemon=True,
                             kwargs=dict(on_report=on_report, stop=stop, interval=0.05,
                                         settle=1.5))
        t.start()
        try:
            full = variant(uuid=numbered_uuid(1)).encode()
            half = drop / "slow.txt"
            with open(half, "wb") as fh:  # written in two halves with a pause
                fh.write(full[: len(full) // 2])
                fh.flush()
                time.sleep(0.3)
                fh.write(full[len(full) // 2:])
            write(drop / "incoming.txt.part", variant(uuid=numbered_uuid(3)))
            write(drop / ".hidden.txt", variant(uuid=numbered_uuid(4)))
            wait_for(1)
            write(drop / "quick.txt", variant(uuid=numbered_uuid(2)))
            wait_for(2)
        finally:
            stop.set()
            t.join(timeout=30)
        assert not t.is_alive()

    assert [p.name for _, p in reports] == ["slow.txt", "quick.txt"]
    assert [r.added for r, _ in reports] == [1, 1]
    with Store.open(tmp_path / "data") as s:
        assert s.count() == 2
        (v,) = s.versions(numbered_uuid(1))
        assert s.raw(v.id) == full  # never the half-written file
        assert listing.stats(s)["versions"] == 2


def test_watch_needs_a_folder(tmp_path, store):
    with pytest.raises(ArchiveError, match="not a directory"):
        watch(store, tmp_path / "nope", stop=threading.Event())


def test_unreadable_file_and_folder_are_refused_in_words(sample_bytes):
    """A file and a folder the user may not read: each refused with the reason in
    words, on stderr; the readable file still goes in. As root, who reads anything,
    the command runs without root's file-access capabilities (util-linux setpriv)."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="unreadable-"))
    try:
        root.chmod(0o755)
        drop = root / "drop"
        (drop / "locked").mkdir(parents=True)
        write(drop / "ok.txt", sample_bytes)
        write(drop / "secret.txt", sample_bytes.replace(SAMPLE_UUID.encode(), numbered_uuid(7).encode()))
        write(drop / "locked" / "x.txt", sample_bytes)
        (drop / "secret.txt").chmod(0)
        (drop / "locked").chmod(0)
        data = root / "data"
        data.mkdir()
        data.chmod(0o777)
        caps = "-dac_override,-dac_read_search"
        as_user = ([shutil.which("setpriv") or "setpriv", f"--inh-caps={caps}", f"--ambient-caps={caps}",
                    f"--bounding-set={caps}"] if os.geteuid() == 0 else [])
        exe = str(Path(sys.executable).with_name("reviews"))
        p = subprocess.run([*as_user, exe, "ingest", "--quiet", str(drop)], capture_output=True,
                           text=True, env=dict(os.environ, REVIEWS_DATA=str(data)))
        assert p.returncode == 1, p.stderr
        assert sorted(p.stderr.splitlines()) == [
            f"refused {drop / 'locked'}: cannot read this folder: permission denied",
            f"refused {drop / 'secret.txt'}: cannot read it: permission denied",
        ]
        assert p.stdout.splitlines()[-1] == "1 added, 0 new versions, 0 unchanged, 2 refused"
    finally:
        for d in (root / "drop" / "locked",):
            if d.exists():
                d.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def test_an_earlier_dated_redelivery_says_it_is_not_current(tmp_path, store):
    text = SAMPLE.read_text("utf-8")
    write(tmp_path / "now.txt", text)
    older = text.replace("2025-11-21 19:20:13", "2025-01-02 03:04:05").replace("图像识别技术", "图像识别方法", 1)
    write(tmp_path / "old.txt", older)
    ingest(store, [str(tmp_path / "now.txt")])
    rep = ingest(store, [str(tmp_path / "old.txt")])
    assert rep.versions == 1 and rep.notes == [
        f"older {tmp_path / 'old.txt'}: a version of {SAMPLE_UUID[:12]} received before the "
        "current one; kept in its versions, the current one stays current"]
    assert store.current(SAMPLE_UUID).received_at == "2025-11-21 19:20:13"
    later = text.replace("2025-11-21 19:20:13", "2026-01-02 03:04:05").replace("图像识别技术", "图像识别手段", 1)
    write(tmp_path / "new.txt", later)
    rep = ingest(store, [str(tmp_path / "new.txt")])
    assert rep.versions == 1 and rep.notes == []


def test_a_full_disk_stops_the_ingest_in_one_line_and_keeps_what_was_stored(tmp_path):
    """SQLite's 'database or disk is full' (SQLITE_FULL, here through max_page_count on
    the store's own connection) in the middle of a bulk ingest: one clear error with how
    far it got; what was stored before stays; the same ingest again adds the rest."""
    from archive.ingest import DiskFull
    from tests.helpers import variant as sample_variant

    from archive.ingest import BATCH_FILES

    total = BATCH_FILES * 2 + 10
    folder = tmp_path / "drop"
    for i in range(total):
        write(folder / f"{i:03d}.txt", sample_variant(uuid=numbered_uuid(i)))
    probe = Store.open(tmp_path / "probe")  # how many pages one record takes
    before = probe._db.execute("PRAGMA page_count").fetchone()[0]
    ingest(probe, [str(folder / "000.txt"), str(folder / "001.txt")], workers=1)
    per_record = (probe._db.execute("PRAGMA page_count").fetchone()[0] - before) / 2
    probe.close()
    store = Store.open(tmp_path / "data")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    room = int(per_record * BATCH_FILES * 1.5)  # a batch and a half
    store._db.execute(f"PRAGMA max_page_count = {pages + room}")
    with pytest.raises(DiskFull) as err:
        ingest(store, [str(folder)], workers=1)
    message = str(err.value)
    assert message.startswith("the disk is full: ") and "\n" not in message
    stored = int(message.split(": ")[1].split(" of ")[0])
    assert 0 < stored < total and message.split(" of ")[1].startswith(f"{total} files")
    assert store.count() == stored  # whole batches only, each record whole
    store.close()
    store = Store.open(tmp_path / "data")  # room again: the same ingest completes it
    report = ingest(store, [str(folder)], workers=1)
    assert store.count() == total and report.added == total - stored and report.unchanged == stored
    store.close()


def test_an_add_that_fails_inside_a_batch_is_rolled_back_whole(tmp_path, store):
    """A batch's adds are savepoints whose journal is kept in memory (Store.batch): an add
    that fails after writing some rows leaves none of them, and the adds before and after
    it in the same transaction stay whole, the kept counts exact."""
    import dataclasses

    from archive import tallies
    from archive.parser import parse
    from archive.store import prepare
    from bench.corpus import generate

    made = [prepare(parse(g.data, g.name)[0]) for g in generate(3, seed=11)]
    # the version row and its references are written, then the citations fail to bind
    broken = dataclasses.replace(made[1], citations=[("too", "few")])
    assert made[1].refs and made[0].citations
    with store.batch():
        assert store.execute("PRAGMA temp_store").fetchone()[0] == 2  # (MEMORY)
        store.add_prepared(made[0], "a.txt")
        with pytest.raises(sqlite3.ProgrammingError):
            store.add_prepared(broken, "b.txt")
        store.add_prepared(made[2], "c.txt")
    assert store.execute("PRAGMA temp_store").fetchone()[0] == 0  # the default again
    kept = {made[0].uuid, made[2].uuid}
    assert {u for (u,) in store.execute("SELECT uuid FROM reviews")} == kept
    assert {u for (u,) in store.execute("SELECT uuid FROM versions")} == kept
    for table in ("refs", "citations", "sections"):
        assert store.execute(f"SELECT count(*) FROM {table} WHERE version_id NOT IN"
                             " (SELECT id FROM versions)").fetchone()[0] == 0
    assert store.execute("SELECT count(*) FROM refs").fetchone()[0] == len(made[0].refs) + len(made[2].refs)
    assert tallies.drift(store) == []
    assert store.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_bulk_ingest_checkpoints_once_at_the_end(tmp_path, store):
    """During a bulk ingest the WAL is checkpointed every BULK_CHECKPOINT_PAGES, not after
    each batch; at the end the settings are SQLite's again and the reviews are in the
    database file itself (read here as it is on disk, WAL ignored), not only in the WAL."""
    drop = tmp_path / "drop"
    for i in range(3):
        write(drop / f"{i}.txt", variant(uuid=numbered_uuid(i)))
    seen = []
    pragmas = lambda: tuple(store.execute(f"PRAGMA {p}").fetchone()[0]  # noqa: E731
                            for p in ("wal_autocheckpoint", "temp_store"))
    before = pragmas()
    report = ingest(store, [str(drop)], on_progress=lambda *_: seen.append(pragmas()))
    assert report.added == 3
    on_disk = sqlite3.connect(f"{store.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        assert on_disk.execute("SELECT count(*) FROM reviews").fetchone()[0] == 3
    finally:
        on_disk.close()
    from archive.store import BULK_CHECKPOINT_PAGES

    assert seen == [(BULK_CHECKPOINT_PAGES, 2)] * 3 and before == (1000, 0) and pragmas() == before
