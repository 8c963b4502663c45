"""The counts kept in the archive (archive/tallies.py) against a recount the slow way
(issue 19): after every write of a random sequence of ingests, re-deliveries (later ones
that replace the current version, earlier ones that do not, the same bytes again),
retractions, restorations, purges and deliveries into a retracted review, the kept rows
equal the aggregate over the derived rows (``verify``'s :func:`archive.tallies.drift`),
and ``stats``, the figures and ``refs --top`` equal what the aggregate code path gives (a
read-only reader of an archive of schema 3 answers by it). An archive made before the
tables is migrated once by a writer, in one transaction: killed before it commits, the
archive is as it was."""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import citing, listing, tallies
from archive.config import archive_path
from archive.parser import parse
from archive.store import Store
from archive.verify import verify
from bench.corpus import generate, redeliver
from cli import main

ROOT = Path(__file__).resolve().parent.parent
TOP = 15  # works in the compared refs --top (ties among the most cited included)


def _add(store: Store, data: bytes, name: str) -> None:
    for parsed in parse(data, name):
        store.add(parsed, name)


def _as_before(path: Path) -> Store:
    """A reader of the same archive that counts the slow way, as it reads an archive of
    schema 3 it may not write (the code path before the kept counts)."""
    slow = Store(path, read_only=True)
    slow.schema_version = tallies.SCHEMA - 1
    return slow


def _answers(store: Store) -> tuple:
    """What ``reviews stats``, ``reviews refs --top`` and the works ``refs WORDS`` finds
    print, as data."""
    tops = citing.top_references(store, TOP)
    found = [citing.find(store, [w]) for w in ("研究", "的", "学习")]
    found += [citing.find(store, [t.ref_id[:5]]) for t in tops[:3]]  # ids by prefix
    return (listing.stats(store), listing.figures(store), tops,
            [citing.spellings(store, t.ref_id) for t in tops], found)


def _same_as_recount(store: Store) -> None:
    assert tallies.drift(store) == []
    with _as_before(store.path) as slow:
        assert _answers(store) == _answers(slow)


@pytest.fixture(scope="module")
def walked(tmp_path_factory) -> Path:
    """An archive after a random walk of writes, each checked against a recount."""
    path = tmp_path_factory.mktemp("tallies") / "archive.sqlite3"
    rng = random.Random(19)
    fresh = iter(generate(40, seed=19))
    known: list = []  # Generated records in the archive (or purged: re-ingested later)
    ops = {"ingest": 0, "later": 0, "earlier": 0, "same": 0, "retract": 0, "restore": 0,
           "purge": 0, "into retracted": 0}
    with Store(path) as store:
        for g in [next(fresh) for _ in range(8)]:
            _add(store, g.data, g.name)
            known.append(g)
        for step in range(70):
            shown = [u for (u,) in store.execute("SELECT uuid FROM reviews")]
            hidden = [u for (u,) in store.execute("SELECT uuid FROM retracted")]
            op = rng.choice(["ingest", "ingest", "later", "earlier", "same", "retract",
                             "restore", "purge", "into retracted"])
            if op == "ingest" and (g := next(fresh, None)) is not None:
                _add(store, g.data, g.name)
                known.append(g)
            elif op == "later":  # a re-delivery received later: the new current version
                g = rng.choice(known)
                again = redeliver(g, seed=step)
                _add(store, again.data, again.name)
            elif op == "earlier" and (g := next(fresh, None)) is not None:
                # the later delivery arrives first, then the earlier one: stored, not current
                again = redeliver(g, seed=step)
                _add(store, again.data, again.name)
                _add(store, g.data, g.name)
                known.append(g)
            elif op == "same":
                g = rng.choice(known)
                _add(store, g.data, g.name)
            elif op == "retract" and shown:
                store.retract(rng.choice(shown), "a test")
            elif op == "restore" and hidden:
                store.restore(rng.choice(hidden))
            elif op == "purge" and (shown or hidden):
                store.purge(rng.choice(shown + hidden))
            elif op == "into retracted" and hidden:
                u = rng.choice(hidden)
                g = next(k for k in known if k.truth.uuid == u)
                again = redeliver(g, seed=1000 + step)
                _add(store, again.data, again.name)
            else:
                continue
            ops[op] += 1
            _same_as_recount(store)
    assert all(ops.values()), ops  # the walk took every kind of write
    return path


def test_kept_counts_equal_a_recount_after_random_writes(walked):
    with Store(walked, read_only=True) as store:
        assert tallies.kept(store)
        st = listing.stats(store)
        assert st["versions"] > st["reviews"] > 0 and st["flags"] and st["references"]
        assert all(_answers(store)[-1])  # each word and id prefix finds works
        assert verify(store) == []
        _same_as_recount(store)


def _changed_copy(src: Path, to: Path, sql: str) -> Path:
    """A copy of the archive in the new folder ``to``, changed by ``sql``."""
    to.mkdir()
    copy = to / "archive.sqlite3"
    shutil.copy(src, copy)
    db = sqlite3.connect(copy)
    db.executescript(sql)
    db.close()
    return copy


def test_verify_reports_a_count_that_drifted(walked, tmp_path):
    copy = _changed_copy(walked, tmp_path / "drifted", "UPDATE works SET cited = cited + 1"
                         " WHERE ref_id = (SELECT ref_id FROM works WHERE listed > 0 LIMIT 1)")
    with Store(copy, read_only=True) as store:
        assert [p.split(":")[0] for p in verify(store)] == ["kept counts (works)"]


def _older(src: Path, to: Path) -> Path:
    """A copy of the archive as schema 3 made it: without the kept counts."""
    return _changed_copy(src, to, "DROP TABLE tallies; DROP TABLE works; DROP TABLE spellings;"
                         "UPDATE meta SET value = '3' WHERE key = 'schema_version';")


def _written(folder: Path) -> tuple[str, int]:
    """The archive file's sha256 and its journal's size (a reader in a writable folder
    makes an empty journal and its index; it writes neither the file nor the journal)."""
    wal = folder / "archive.sqlite3-wal"
    return (hashlib.sha256((folder / "archive.sqlite3").read_bytes()).hexdigest(),
            wal.stat().st_size if wal.exists() else 0)


def _cli(folder: Path, *args: str) -> str:
    r = CliRunner().invoke(main, list(args), env={"REVIEWS_DATA": str(folder)})
    assert r.exit_code == 0, r.output
    return r.output


def test_an_older_archive_is_read_the_slow_way_and_migrated_by_a_writer(walked, tmp_path):
    with Store(walked, read_only=True) as store:
        want = _answers(store)
    old = _older(walked, tmp_path / "old")
    before = _written(old.parent)
    printed = [_cli(old.parent, *args) for args in (["stats"], ["refs", "--top", "10"])]
    assert _written(old.parent) == before  # the reads wrote nothing (no migration)
    with Store(old, read_only=True) as store:
        assert not tallies.kept(store) and _answers(store) == want
    with Store(old) as store:  # a writer migrates it
        assert tallies.kept(store) and store.schema_version >= tallies.SCHEMA
        assert _answers(store) == want and verify(store) == []
    assert [_cli(old.parent, *args) for args in (["stats"], ["refs", "--top", "10"])] == printed


_KILLED_MIGRATION = """
import os, signal, sys
from archive import tallies
from archive.store import Store

def recount(db, _real=tallies.recount):
    _real(db)  # every count written, the transaction not yet committed
    os.kill(os.getpid(), signal.SIGKILL)

tallies.recount = recount
Store(sys.argv[1])
"""


def test_a_migration_killed_before_its_commit_leaves_the_archive_as_it_was(walked, tmp_path):
    with Store(walked, read_only=True) as store:
        want = _answers(store)
    old = _older(walked, tmp_path / "old")
    r = subprocess.run([sys.executable, "-c", _KILLED_MIGRATION, str(old)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    db = sqlite3.connect(old)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    assert not db.execute("SELECT name FROM sqlite_master WHERE name IN ('tallies', 'works',"
                          " 'spellings')").fetchall()
    db.close()
    with Store(old, read_only=True) as store:
        assert not tallies.kept(store) and _answers(store) == want
    with Store(old) as store:  # the next writer migrates it whole
        assert tallies.kept(store) and _answers(store) == want and verify(store) == []


def test_current_spellings_among_given_pairs_read_from_the_kept_counts(walked, tmp_path):
    """`citing.current_spellings(store, among)` (what one more review's index update asks
    for each spelling it touches) looks the kept spellings up: the same answer as the
    join over the current versions' references, which an older archive still asks."""
    from archive import citing

    with Store(walked, read_only=True) as store:
        every = {tuple(r) for r in store.execute("SELECT ref_id, title FROM refs")}
        current = citing.current_spellings(store)
        assert every - current, "the walk left no retired spelling to tell apart"
        among = sorted(every, key=str)[:400] + [("r00000000", "no such"), (None, "x")]
        assert citing.current_spellings(store, among) == current & set(among)
    old = _older(walked, tmp_path / "old")
    with Store(old, read_only=True) as store:
        assert not tallies.kept(store)
        assert citing.current_spellings(store, among) == current & set(among)
