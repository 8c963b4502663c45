"""Retract, restore and purge (issues 12 and 22): a retracted review is gone from every
reader of the archive and the index, and comes back whole; a purge leaves no byte of it
in the data folder (the archive file, its journal, the index files, the site's cache),
retracted first or not."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import citing, listing
from archive.config import archive_path
from archive.errors import NotFound
from archive.parser import parse
from archive.store import SCHEMA_VERSION, Store
from archive.verify import verify
from cli import main
from index import dupes, state
from index.indexer import index_dir, rebuild, update
from index.search import search
from publish.cache import forget
from publish.site import build_site
from tests.helpers import SAMPLE, add_bytes, numbered_uuid, variant

#: A word only the first review holds (added to its abstract)
UNIQUE = "独有词汇甲乙丙丁"
#: The sample's first reference, and a title only the first review gives in its place
FIRST_REF = "[1] 基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析. 2025."
UNIQUE_TITLE = "仅此一篇的文献标题戊己庚辛"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """What `two` and `built` give, made once (``two/``, ``built/``); each test gets a
    fresh copy."""
    root = tmp_path_factory.mktemp("retract")
    with Store.open(root / "two") as store:
        add_bytes(store, variant(uuid=numbered_uuid(1), replace=("**摘要**", f"**摘要**\n{UNIQUE}。"))
                  .encode())
        add_bytes(store, variant(uuid=numbered_uuid(2), received="2025-11-22 08:00:00").encode())
        rebuild(store, index_dir(root / "two"))
    first = variant(uuid=numbered_uuid(1), replace=("**摘要**", f"**摘要**\n{UNIQUE}。"))
    assert first.count(FIRST_REF) == 1
    data = root / "work" / "data"
    with Store.open(data) as store:
        add_bytes(store, first.replace(FIRST_REF, f"[1] {UNIQUE_TITLE}. 2025.").encode())
        add_bytes(store, variant(uuid=numbered_uuid(2), received="2025-11-22 08:00:00").encode())
        rebuild(store, index_dir(data))
        build_site(store, data.parent / "site")
    shutil.copytree(root / "work", root / "built")
    return root


@pytest.fixture
def two(made, tmp_path):
    """An archive of two reviews sharing the sample's references, and its index."""
    shutil.copytree(made / "two", tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def built(made):
    """Two reviews, the first with a word and a reference title of its own (the
    reference standing in for a delivery's first one), indexed, and a site built from
    them (its cache in the data folder; the site is ``data/../site``). Always in one same
    folder: the site's cache is keyed by the site's path."""
    work = made / "work"
    shutil.rmtree(work)
    shutil.copytree(made / "built", work)
    return work / "data"


def test_retract_hides_everywhere_and_restore_brings_back(two):
    first = numbered_uuid(1)
    with Store.open(two) as store:
        before = {t.ref_id: t for t in citing.top_references(store, 5)}
        store.retract(first, "wrong topic")
        update(store, index_dir(two))
        assert [s.uuid for s in listing.summaries(store)] == [numbered_uuid(2)]
        assert listing.stats(store)["reviews"] == 1
        assert search(index_dir(two), UNIQUE).total_reviews == 0
        assert search(index_dir(two), "残差网络").total_reviews == 1
        after = {t.ref_id: t for t in citing.top_references(store, 5)}
        assert all(after[r].reviews == before[r].reviews - 1 for r in before)
        assert {u.uuid for u in citing.uses(store, list(before))} == {numbered_uuid(2)}
        with pytest.raises(NotFound, match="retracted on .*wrong topic.*reviews restore"):
            store.resolve(first[:8])
        (row,) = store.retracted()
        assert row[0] == first and row[3] == "wrong topic" and row[4] == 1
        assert verify(store) == []
        assert state.removed(store) == []  # the index dropped it and forgot it

        store.restore(store.resolve(first[:8], among="retracted"))
        update(store, index_dir(two))
        assert store.retracted() == []
        assert search(index_dir(two), UNIQUE).total_reviews == 1
        assert {t.ref_id: t.reviews for t in citing.top_references(store, 5)} == \
            {r: t.reviews for r, t in before.items()}
        assert verify(store) == []


def test_a_redelivery_of_a_retracted_review_is_stored_and_stays_hidden(two):
    first = numbered_uuid(1)
    with Store.open(two) as store:
        store.retract(first, "bad")
        res = add_bytes(store, variant(uuid=first, received="2025-12-01 00:00:00").encode())
        assert res.status == "version" and res.retracted and not res.current
        assert first not in {s.uuid for s in listing.summaries(store)}
        store.restore(first)
        assert store.current_version(first).received_at == "2025-12-01 00:00:00"
        assert len(store.versions(first)) == 2


def test_retract_needs_a_reason(two):
    with Store.open(two) as store, pytest.raises(Exception, match="reason"):
        store.retract(numbered_uuid(1), "   ")


def _no_copy(folder: Path, needles: list[str]) -> None:
    """No file under ``folder`` holds any of ``needles`` (as UTF-8 bytes)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    for p in files:
        data = p.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, (str(p.relative_to(folder)), needle)


@pytest.mark.parametrize("retracted_first", [False, True])
def test_purge_leaves_no_copy_of_the_bytes(built, retracted_first):
    """Every derived store lets go of a purged review, retracted before or not: the
    archive file and its journal, the index's segments (the review's document and the
    document of a reference title only it gave), the site's cache and the near-duplicate
    sketches."""
    data, first = built, numbered_uuid(1)
    cache = [p for p in (data / "site-cache").rglob("*") if p.is_file()]
    assert any(first.encode() in p.read_bytes() for p in cache)  # (the test covers the cache)
    with Store.open(data) as store:
        assert search(index_dir(data), f"ref:{UNIQUE_TITLE}").total_reviews == 1
        if retracted_first:
            store.retract(first, "wrong topic")
            update(store, index_dir(data))
        store.purge(first)
        update(store, index_dir(data))
        forget(data, first)
        dupes.forget(data, first)  # (the near-duplicate sketches the site build made)
        assert store.count() == 1 and verify(store) == []
        assert search(index_dir(data), UNIQUE).total_reviews == 0
        assert search(index_dir(data), f"ref:{UNIQUE_TITLE}").total_reviews == 0
        assert search(index_dir(data), "残差网络").total_reviews == 1
    assert {p.name for p in data.iterdir()} >= {"archive.sqlite3", "index", "site-cache"}
    _no_copy(data, [UNIQUE, UNIQUE_TITLE, first])


def test_purge_on_the_command_line_and_the_next_site_build(built):
    """`reviews purge` after a site build: nothing of the review stays in the data
    folder, the message says the site follows at its next build, and that build drops
    its page and reuses what the cache still holds."""
    first = numbered_uuid(1)
    r = _cli(built, "purge", first[:8], "--yes")
    assert r.exit_code == 0, r.output
    assert "search index" in r.output and "next `reviews site`" in r.output
    _no_copy(built, [UNIQUE, UNIQUE_TITLE, first])
    site = built.parent / "site"
    assert (site / "reviews" / f"{first}.html").is_file()  # the site as built before
    assert _cli(built, "site", "--quiet", str(site)).exit_code == 0
    _no_copy(site, [UNIQUE, UNIQUE_TITLE, first])
    assert (site / "reviews" / f"{numbered_uuid(2)}.html").is_file()


def test_migrates_a_schema_1_archive(tmp_path):
    data = tmp_path / "old"
    with Store.open(data) as store:
        add_bytes(store, SAMPLE.read_bytes())
    want = len(parse(SAMPLE.read_bytes())[0].record.sections)
    db = sqlite3.connect(archive_path(data))
    # schema 1 held the parsed record as JSON text
    db.execute("UPDATE versions SET parsed = ?", (json.dumps(parse(SAMPLE.read_bytes())[0].record.to_dict(),
                                                            ensure_ascii=False),))
    db.commit()
    db.executescript("ALTER TABLE reviews DROP COLUMN n_sections; DROP TABLE retracted;"
                     "DROP TABLE sections;"
                     "UPDATE meta SET value = '1' WHERE key = 'schema_version';")
    db.close()
    # a read-only old archive (a mounted backup) is read as it is (as root: without
    # root's file-access capabilities, as in test_cli's read-only test)
    for p in [data, *data.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    caps = "-dac_override,-dac_read_search,-fowner"
    as_user = ([shutil.which("setpriv") or "setpriv", f"--inh-caps={caps}", f"--ambient-caps={caps}",
                f"--bounding-set={caps}"] if os.geteuid() == 0 else [])
    exe = str(Path(sys.executable).with_name("reviews"))
    env = dict(os.environ, REVIEWS_DATA=str(data))
    try:
        for args in (["list", "--json"], ["list", "--retracted"]):
            r = subprocess.run([*as_user, exe, *args], env=env, capture_output=True, text=True)
            assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
            if args == ["list", "--json"]:
                assert [s["n_sections"] for s in json.loads(r.stdout)] == [want]
            else:
                assert r.stderr == "no retracted reviews\n"
    finally:
        for p in [data, *data.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    with Store.open(data) as store:  # a writable one is migrated on open
        assert store.schema_version == SCHEMA_VERSION
        assert listing.summaries(store)[0].n_sections == want
        assert verify(store) == []
    db = sqlite3.connect(archive_path(data))
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert db.execute("SELECT n_sections FROM reviews").fetchall() == [(want,)]
    titles = [(s.number, s.title) for s in parse(SAMPLE.read_bytes())[0].record.sections]
    assert db.execute("SELECT number, title FROM sections ORDER BY rowid").fetchall() == titles


def _cli(data, *args, input=None):
    return CliRunner().invoke(main, list(args), input=input, env={"REVIEWS_DATA": str(data)})


def test_cli_retract_restore_purge(two):
    first = numbered_uuid(1)
    r = _cli(two, "retract", first[:8], "--reason", "delivered twice")
    assert r.exit_code == 0 and "retracted" in r.output
    assert _cli(two, "search", "-l", UNIQUE).output == ""
    assert first[:8] not in _cli(two, "list").output
    listed = _cli(two, "list", "--retracted")
    assert first[:8] in listed.output and "delivered twice" in listed.output
    shown = _cli(two, "show", first[:8])
    assert shown.exit_code == 2 and "restore" in shown.output
    assert _cli(two, "retract", first[:8], "--reason", "x").exit_code == 2  # already hidden
    assert _cli(two, "restore", first[:8]).exit_code == 0
    assert _cli(two, "search", "-l", UNIQUE).output == first + "\n"
    refused = _cli(two, "purge", first[:8])  # CliRunner: not a terminal
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert _cli(two, "purge", first[:8], "--yes").exit_code == 0
    assert _cli(two, "search", "-l", UNIQUE).output == ""
    gone = _cli(two, "show", first[:8])
    assert gone.exit_code == 2 and "no review" in gone.output
