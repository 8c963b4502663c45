"""Reads only read: the commands that read answer from an archive this user may not write,
as another user, and give the answers they give on the writable original; on the
writable original they write nothing either (the archive's bytes, its journal and the
index stay as they were). Real processes, a real archive and index, a real other user
(``nobody``, through util-linux ``setpriv``)."""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import generate
from tests.helpers import SAMPLE, SAMPLE_UUID

EXE = str(Path(sys.executable).with_name("reviews"))
SETPRIV = shutil.which("setpriv")
#: Read-only commands and what each is asked (the sample cites 钻孔图像 works; the
#: generated reviews give `similar` neighbours).
READS = [["search", "残差网络"], ["search", "-l", "的"], ["search", "--json", "图像 -GAN"],
         ["refs", "钻孔图像"], ["refs", "--top", "5"], ["similar", SAMPLE_UUID[:8]],
         ["show", SAMPLE_UUID[:8]], ["show", SAMPLE_UUID[:8], "--section", "3"],
         ["list"], ["list", "--json"], ["export", SAMPLE_UUID[:8], "--format", "ris"],
         ["stats"], ["stats", "--by", "month"]]


def _as_other_user() -> list[str]:
    """The command prefix that runs as ``nobody``: with no write permission anywhere
    here, and only the capability to read and search folders (CAP_DAC_READ_SEARCH),
    without which it could not reach root's Python and pytest's private temporary
    folder. It grants no write."""
    if os.geteuid() != 0:
        return []  # (not root: this user is the other user)
    if SETPRIV is None:
        pytest.skip("util-linux setpriv is not installed: no way to run as another user")
    caps = "-all,+dac_read_search"
    return [SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            f"--inh-caps={caps}", f"--ambient-caps={caps}"]


def _reviews(data: Path, *args: str, user: list[str] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "REVIEWS_DATA": str(data)}
    env.pop("REVIEWS_OPENSEARCH", None)
    return subprocess.run([*user, EXE, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, by relative path: its sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _read_only_copy(data: Path, to: Path) -> Path:
    shutil.copytree(data, to)
    for p in [to, *to.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    return to


def _writable_again(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.fixture
def shared(tmp_path) -> Path:
    """A folder the other user can reach (pytest's temporary folders are private to
    root, and access(2), which click asks about --data-dir, ignores capabilities)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="reviews-readonly-"))
    folder.chmod(0o755)
    yield folder
    _writable_again(folder)
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The sample and 12 generated reviews, ingested and indexed."""
    root = tmp_path_factory.mktemp("readonly")
    drop = root / "drop"
    drop.mkdir()
    shutil.copy(SAMPLE, drop)
    for g in generate(12, seed=5):
        (drop / g.name).write_bytes(g.data)
    data = root / "data"
    r = _reviews(data, "ingest", "--quiet", str(drop))
    assert r.returncode == 0, r.stderr
    return data


@pytest.fixture(scope="module")
def on_original(archive, tmp_path_factory):
    """Each of READS run once on the writable original (a copy of it), as its owner: the
    answers the other tests compare with, and what the data folder was before and after.

    A connection held open keeps any transaction a command would write in the journal
    (not folded into the file, the journal not removed when the command closes)."""
    data = tmp_path_factory.mktemp("original") / "data"
    shutil.copytree(archive, data)
    wal = data / "archive.sqlite3-wal"
    hold = sqlite3.connect(data / "archive.sqlite3")
    try:
        hold.execute("PRAGMA wal_autocheckpoint = 0")
        hold.execute("SELECT count(*) FROM reviews").fetchone()
        before, journal = _tree(data), wal.stat().st_size
        answers = {tuple(args): _reviews(data, *args) for args in READS}
        after = _tree(data), wal.stat().st_size
    finally:
        hold.close()
    return data, answers, (before, journal), after


# (slow tier: every read command in a subprocess as another user, ~3 s of CPU;
# test_cli.py's read-only test stays fast)
@pytest.mark.slow
def test_reads_on_a_read_only_copy_as_another_user_answer_as_on_the_original(on_original, shared):
    user = _as_other_user()
    original, want, _, _ = on_original
    for args, r in want.items():
        assert r.returncode == 0 and r.stdout, (args, r.stderr)
    ro = _read_only_copy(original, shared / "ro")
    before = _tree(ro)
    try:
        for args in READS:
            got = _reviews(ro, *args, user=user)
            assert got.returncode == 0, (args, got.stderr)
            assert got.stderr == want[tuple(args)].stderr, args
            assert got.stdout == want[tuple(args)].stdout.replace(str(original), str(ro)), args
        assert _tree(ro) == before
    finally:
        _writable_again(shared)


def test_reads_on_the_writable_original_write_nothing(on_original):
    """No migration, no meta update, no index_state mark, no rebuild: the archive's
    journal gains no transaction, the archive file keeps its bytes, the index its files
    (READS as :func:`on_original` ran them)."""
    _, answers, (before, journal), (after, journal_after) = on_original
    for args, r in answers.items():
        assert r.returncode == 0, (args, r.stderr)
    assert journal_after == journal == 0
    assert after == before


def test_a_read_only_copy_without_an_index_says_it_cannot_build_one(archive, on_original, tmp_path,
                                                                   shared):
    """The index cannot be built where the archive may not be written: the commands that
    need it end with one line naming the fix (exit code 4), the others answer."""
    user = _as_other_user()
    copy = tmp_path / "noindex"
    shutil.copytree(archive, copy, ignore=shutil.ignore_patterns("index"))
    ro = _read_only_copy(copy, shared / "ro")
    try:
        for args in (["search", "残差网络"], ["similar", SAMPLE_UUID[:8]],
                     ["export", "--search", "残差网络"]):
            r = _reviews(ro, *args, user=user)
            assert r.returncode == 4 and "Traceback" not in r.stderr, (args, r.stderr)
            assert r.stderr == (f"Error: the search index at {ro / 'index'} is missing, and the "
                                f"archive at {ro / 'archive.sqlite3'} is read-only here, so it "
                                "cannot be rebuilt; run `reviews reindex` where the archive may "
                                "be written\n"), args
        for args in (("refs", "钻孔图像"), ("show", SAMPLE_UUID[:8]), ("list",)):  # (in READS)
            r = _reviews(ro, *args, user=user)
            assert r.returncode == 0 and r.stdout == on_original[1][args].stdout, args
        assert not (ro / "index").exists()
    finally:
        _writable_again(shared)


def test_a_journal_copied_along_is_read_and_never_skipped(archive, tmp_path, shared):
    """A copy taken while the archive's last transaction is still in its journal (-wal):
    with the -shm beside it the read-only copy shows that transaction; without the -shm,
    SQLite could only open the file as immutable, which would skip the journal and answer
    from an older archive: that is refused, with the reason (exit code 4)."""
    user = _as_other_user()
    live = tmp_path / "live"
    shutil.copytree(archive, live)
    hold = sqlite3.connect(live / "archive.sqlite3")  # keeps the journal from being folded in
    try:
        hold.execute("PRAGMA wal_autocheckpoint = 0")
        hold.execute("SELECT count(*) FROM reviews").fetchone()
        r = _reviews(live, "retract", SAMPLE_UUID[:8], "--reason", "test")
        assert r.returncode == 0, r.stderr
        assert (live / "archive.sqlite3-wal").stat().st_size > 0
        with_shm = _read_only_copy(live, shared / "with-shm")
        without = tmp_path / "without-shm"
        shutil.copytree(live, without, ignore=shutil.ignore_patterns("*-shm"))
        without = _read_only_copy(without, shared / "without-shm")
    finally:
        hold.close()
    try:
        r = _reviews(with_shm, "list", "--retracted", user=user)
        assert r.returncode == 0 and r.stdout.startswith(SAMPLE_UUID[:8]), r.stderr
        r = _reviews(without, "list", "--retracted", user=user)
        assert r.returncode == 4 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith(f"Error: cannot read the archive at {without / 'archive.sqlite3'} "
                                   "here: its journal (archive.sqlite3-wal) holds transactions")
    finally:
        _writable_again(shared)
