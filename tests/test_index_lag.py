"""What a search says about reviews the index does not hold (issue 22, the smaller items):
a rebuild that stopped midway leaves the old index answering, and no review is counted as
missing that the index still finds; while an ingest is at work the note says the reviews
are being indexed now, not that a run was stopped. Real processes, archive and index."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from index.folder import index_dir, lock_path
from tests.helpers import SAMPLE, SAMPLE_UUID, numbered_uuid, variant

ROOT = Path(__file__).resolve().parent.parent
B, C = numbered_uuid(1), numbered_uuid(2)
STOPPED = ("note: 1 review of the archive is not in the search index yet (an indexing run was "
           "stopped?); `reviews reindex` adds them\n")
LIVE = ("note: 1 review of the archive is not in the search index yet: being indexed now "
        "(search again when that is done)\n")


@pytest.fixture
def data(tmp_path) -> Path:
    for uuid in (B, C):
        (tmp_path / f"{uuid[:8]}.txt").write_text(variant(uuid=uuid), "utf-8")
    data = tmp_path / "data"
    r = run(data, "ingest", "--quiet", str(SAMPLE), str(tmp_path / f"{B[:8]}.txt"))
    assert r.exit_code == 0, r.output
    return data


def run(data: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"REVIEWS_DATA": str(data)})


def test_a_rebuild_stopped_midway_leaves_the_old_index_answering_and_uncounted(data):
    """The rebuild fails on a review it cannot read (its stored record damaged), after it
    began and before its new index was in place, as a killed one does. The old index
    still finds both reviews, so the search says nothing is missing (it said 2 were)."""
    import sqlite3

    db = sqlite3.connect(data / "archive.sqlite3")
    with db:
        db.execute("UPDATE versions SET parsed = X'00' WHERE uuid = ?", (B,))
    db.close()
    assert run(data, "reindex").exit_code != 0
    r = run(data, "search", "-l", "残差网络")
    assert r.exit_code == 0 and sorted(r.stdout.split()) == sorted([SAMPLE_UUID, B])
    assert r.stderr == ""


def test_a_review_an_ingest_left_unindexed_is_counted_as_stopped(data, tmp_path):
    """An ingest that stored a review and then stopped (here: stored through the API,
    which does not index) leaves it out; nothing is at work on it, so the note says a
    run was stopped and names the command that adds it."""
    from archive.ingest import ingest
    from archive.store import Store

    with Store.open(data) as store:
        ingest(store, [str(tmp_path / f"{C[:8]}.txt")])
    assert run(data, "search", "-l", "残差网络").stderr == STOPPED


def test_while_an_ingest_waits_to_index_search_says_being_indexed_now(data, tmp_path):
    """Another indexing run holds the index; an ingest stores its record, then waits for
    that run. A search meanwhile says the review is being indexed now; once both runs
    are done, nothing."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys\n"
         "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n",
         str(lock_path(index_dir(data)))], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    exe = Path(sys.executable).with_name("reviews")
    ingesting = None
    try:
        assert holder.stdout.readline() == "held\n"
        ingesting = subprocess.Popen([exe, "ingest", "--quiet", str(tmp_path / f"{C[:8]}.txt")],
                                     env={**_env(), "REVIEWS_DATA": str(data)},
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert ingesting.stderr.readline() == "waiting for another indexing run to finish…\n"
        r = run(data, "search", "-l", "残差网络")
        assert r.stderr == LIVE and C not in r.stdout
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
        if ingesting:
            out, err = ingesting.communicate(timeout=300)
    assert ingesting.returncode == 0, err
    r = run(data, "search", "-l", "残差网络")
    assert r.stderr == "" and C in r.stdout


def test_the_storing_mark_alone_counts_as_live(data, tmp_path):
    """The first part of an ingest, storing records, holds no index lock yet: its mark
    (index.folder.storing, held by the ingest for its whole run) says it is at work."""
    from archive.ingest import ingest
    from archive.store import Store

    with Store.open(data) as store:
        ingest(store, [str(tmp_path / f"{C[:8]}.txt")])
    marker = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom index.folder import storing\n"
         "with storing(sys.argv[1]):\n    print('storing', flush=True)\n    sys.stdin.read()\n",
         str(index_dir(data))], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert marker.stdout.readline() == "storing\n"
        assert run(data, "search", "-l", "残差网络").stderr == LIVE
        assert run(data, "similar", SAMPLE_UUID[:8]).stderr == LIVE
    finally:
        marker.stdin.close()
        marker.wait(timeout=60)
        marker.stdout.close()
    assert run(data, "search", "-l", "残差网络").stderr == STOPPED


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "REVIEWS_WAIT"}
