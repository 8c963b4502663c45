"""Faults: a bulk ingest killed with SIGKILL, and two ingest processes at once.

Real subprocesses over real files and one real SQLite archive; the checks read the
database with plain SQL, independently of the Store code under test.
"""
from __future__ import annotations

import pytest

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from archive.config import archive_path
from archive.ingest import ingest
from archive.store import Store, load_doc
from archive.verify import verify
from tests.helpers import numbered_uuid, variant

ROOT = Path(__file__).resolve().parent.parent
INGEST = (
    "import json, sys\n"
    "from archive.store import Store\n"
    "from archive.ingest import ingest\n"
    "with Store.open(sys.argv[1]) as s:\n"
    "    r = ingest(s, sys.argv[2:])\n"
    "print(json.dumps({'added': r.added, 'versions': r.versions,"
    " 'unchanged': r.unchanged, 'refused': r.refused}))\n"
)


def start_ingest(data: Path, *folders: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(data), *map(str, folders)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def write_records(folder: Path, numbers, received: str | None = None, prefix: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in numbers:
        (folder / f"{prefix}{i:04d}.txt").write_text(
            variant(uuid=numbered_uuid(i), received=received), encoding="utf-8")


def versions_count(db_file: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute("SELECT count(*) FROM versions").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def assert_consistent(db_file: Path) -> sqlite3.Connection:
    """Integrity, raw bytes vs sha256, derived rows vs parsed JSON, current versions."""
    db = sqlite3.connect(db_file)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    for vid, sha, raw, parsed in db.execute("SELECT id, sha256, raw, parsed FROM versions"):
        assert hashlib.sha256(raw).hexdigest() == sha, vid
        d = load_doc(parsed)
        for table, key in (("refs", "references"), ("citations", "citations"), ("flags", "flags")):
            n = db.execute(f"SELECT count(*) FROM {table} WHERE version_id = ?", (vid,))
            assert n.fetchone()[0] == len(d[key]), (vid, table)
    for table in ("refs", "citations", "flags"):
        orphans = db.execute(
            f"SELECT count(*) FROM {table} WHERE version_id NOT IN (SELECT id FROM versions)")
        assert orphans.fetchone()[0] == 0, table
    assert (db.execute("SELECT count(DISTINCT uuid) FROM versions").fetchone()
            == db.execute("SELECT count(*) FROM reviews").fetchone())
    for uuid, current in db.execute("SELECT uuid, current_version FROM reviews"):
        (latest,) = db.execute(
            "SELECT id FROM versions WHERE uuid = ? ORDER BY received_at DESC, id DESC LIMIT 1",
            (uuid,)).fetchone()
        assert current == latest, uuid
    return db


@pytest.mark.slow
def test_sigkill_during_bulk_ingest_then_rerun(tmp_path):
    total = 300
    drop, data = tmp_path / "drop", tmp_path / "data"
    write_records(drop, range(total))
    db_file = archive_path(data)
    proc = start_ingest(data, drop)
    try:
        deadline = time.monotonic() + 120
        while versions_count(db_file) < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "ingest made no progress"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    landed = versions_count(db_file)
    assert 5 <= landed < total, "the kill did not land during the ingest"
    assert_consistent(db_file).close()

    with Store.open(data) as store:
        report = ingest(store, [str(drop)])
        assert (report.added, report.unchanged, report.refused) == (total - landed, landed, [])
        assert store.count() == total
        assert verify(store) == []
    db = assert_consistent(db_file)
    assert db.execute("SELECT count(*), count(DISTINCT sha256) FROM versions").fetchone() == (
        total, total)
    stored = {u for (u,) in db.execute("SELECT uuid FROM reviews")}
    assert stored == {numbered_uuid(i) for i in range(total)}
    db.close()


@pytest.mark.slow
def test_two_ingest_processes_at_once(tmp_path):
    a, b, data = tmp_path / "a", tmp_path / "b", tmp_path / "data"
    write_records(a, range(0, 200))
    write_records(b, range(100, 300))  # 100..199: the same bytes in both folders
    # 20 reviews delivered twice with different 接收时间, one delivery in each folder
    write_records(a, range(1000, 1020), received="2025-11-10 08:00:00", prefix="x")
    write_records(b, range(1000, 1020), received="2025-11-12 08:00:00", prefix="y")
    procs = [start_ingest(data, a), start_ingest(data, b)]
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
        reports.append(json.loads(out))
    assert all(r["refused"] == [] for r in reports)
    total = lambda key: sum(r[key] for r in reports)  # noqa: E731
    assert (total("added"), total("versions"), total("unchanged")) == (320, 20, 100)

    db = assert_consistent(archive_path(data))
    assert db.execute("SELECT count(*), count(DISTINCT sha256) FROM versions").fetchone() == (
        340, 340)
    assert db.execute("SELECT count(*) FROM reviews").fetchone() == (320,)
    later = db.execute(
        "SELECT count(*) FROM reviews WHERE received_at = '2025-11-12 08:00:00'").fetchone()
    assert later == (20,)
    db.close()
