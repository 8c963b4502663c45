"""The site build's plan (publish/plan.py): each decision and its reason on a real small
archive, the build doing what its plan said, and `reviews site --dry-run` writing nothing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.corpus import generate
from cli import main
from index.indexer import index_dir, update
from publish import urls
from archive.store import Store
from publish.cache import CACHE_DIR
from publish.files import MANIFEST
from publish.plan import KEPT, PAGES, REBUILT
from publish.site import build_site, plan_site
from tests.helpers import SAMPLE, SAMPLE_UUID, add_bytes, make_store

BLOCK = 4  # 6 reviews: partitions [4, 2]


def _decisions(plan):
    return [(p.action, p.reason) for p in plan.parts]


def _rendered(report) -> set[str]:
    return {p for p in report.written_paths if p.startswith("reviews/") and p.endswith(".html")}


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``folder`` with its bytes and modification time (but SQLite's
    shared-memory index, where every reader marks what it reads)."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith("-shm")}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """An archive and the site built from it, made once: each test gets them afresh in
    one same folder (the site's cache is keyed by the output folder's path)."""
    root = tmp_path_factory.mktemp("plan")
    with make_store(root / "work", 4) as store:
        build_site(store, root / "work" / "out", block=BLOCK)
    shutil.copytree(root / "work", root / "pristine")
    return root


@pytest.fixture
def built(pristine):
    work = pristine / "work"
    shutil.rmtree(work)
    shutil.copytree(pristine / "pristine", work)
    store = Store(work / "archive.sqlite3")
    yield store, work / "out"
    store.close()


def test_a_fresh_build_rebuilds_everything_and_says_why(tmp_path):
    store = make_store(tmp_path, 4)
    out = tmp_path / "out"
    plan = plan_site(store, out, block=BLOCK)
    assert _decisions(plan) == [(REBUILT, "no site built here yet")] * 2
    assert plan.search == (REBUILT, "no site built here yet")
    assert plan.related is None and not out.exists()  # (no index yet: the build makes it)
    assert {u for p in plan.parts for u in p.render} == {u for u, _ in plan.items}
    report = build_site(store, out, block=BLOCK)
    assert report.partitions_rebuilt == 2
    assert _rendered(report) == {urls.review(u) for u, _ in plan.items}
    store.close()


def test_no_change_keeps_everything(built):
    store, out = built
    plan = plan_site(store, out, block=BLOCK)
    assert _decisions(plan) == [(KEPT, "unchanged")] * 2
    assert plan.search == (KEPT, "no partition changed")
    assert not plan.related_computed and not plan.removed and not plan.static
    assert "  partitions 1-2 (reviews 1-6): kept: unchanged" in plan.lines()
    report = build_site(store, out, block=BLOCK)
    assert (report.written, report.partitions_rebuilt) == (0, 0)


def test_a_new_review_rebuilds_its_partition_and_the_pages_it_changes(built):
    store, out = built
    before = plan_site(store, out, block=BLOCK)
    for g in generate(1, seed=7, start=4):
        add_bytes(store, g.data, g.name)
    update(store, index_dir(store.path.parent))  # (as the build does first)
    plan = plan_site(store, out, block=BLOCK)
    first, last = plan.parts
    assert (last.action, last.reason) == (REBUILT, "1 new review")
    # the first partition's reviews are as they were: only the pages whose related
    # reviews the new review changed are rendered again
    changed = {u for u, _ in first.items if plan.page_keys[u] != before.page_keys[u]}
    assert first.render == changed and changed
    assert (first.action, first.reason) == (PAGES, "their related reviews or near duplicates changed")
    assert plan.search == (REBUILT, "1 partition changed")
    report = build_site(store, out, block=BLOCK)
    assert report.partitions_rebuilt == 1
    assert _rendered(report) == {urls.review(u) for p in plan.parts for u in p.render}


def test_a_changed_review_rebuilds_its_partition(built):
    store, out = built
    add_bytes(store, SAMPLE.read_bytes().replace(b"2025", b"2026", 1), "v2.txt")  # a new version
    plan = plan_site(store, out, block=BLOCK)
    assert plan.parts[0].reason == "1 changed review" and plan.parts[0].action == REBUILT
    assert SAMPLE_UUID in plan.parts[0].render
    assert build_site(store, out, block=BLOCK).partitions_rebuilt == sum(
        p.action == REBUILT for p in plan.parts)


def test_a_retraction_moves_the_reviews_after_it_up(built):
    store, out = built
    store.retract(SAMPLE_UUID, "wrong topic")
    plan = plan_site(store, out, block=BLOCK)
    assert plan.removed == [SAMPLE_UUID]
    assert _decisions(plan) == [
        (REBUILT, "its reviews moved up (a review before them was retracted or purged)")] * 2
    assert "  review pages removed: 1 (reviews retracted or purged)" in plan.lines()
    report = build_site(store, out, block=BLOCK)
    assert report.removed > 0 and not (out / urls.review(SAMPLE_UUID)).exists()


def test_another_partition_size_or_code_rebuilds_everything(built):
    store, out = built
    plan = plan_site(store, out, block=3)
    assert _decisions(plan) == [(REBUILT, "the partition size changed (4 -> 3 reviews)")] * 2
    assert plan.search[0] == REBUILT
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))  # a site an older code built
    manifest["build"] = "0" * 40 + f":{BLOCK}"
    (out / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    plan = plan_site(store, out, block=BLOCK)
    assert _decisions(plan) == [(REBUILT, "the site's templates or code changed since the last build")] * 2
    assert build_site(store, out, block=BLOCK).partitions_rebuilt == 2


def test_missing_files_or_cache_rebuild_their_partition(built):
    store, out = built
    last = next(iter(plan_site(store, out, block=BLOCK).parts[1].items))[0]
    (out / urls.review(last)).unlink()
    plan = plan_site(store, out, block=BLOCK)
    assert _decisions(plan) == [(KEPT, "unchanged"), (REBUILT, f"some of its files are missing from {out}")]
    assert plan.parts[1].render == {last}
    report = build_site(store, out, block=BLOCK)
    assert report.partitions_rebuilt == 1 and _rendered(report) == {urls.review(last)}
    shutil.rmtree(store.path.parent / CACHE_DIR)
    plan = plan_site(store, out, block=BLOCK)
    assert _decisions(plan) == [
        (REBUILT, "its search data is not in the site cache (removed, or a review purged)")] * 2
    assert plan.related_computed and not any(p.render for p in plan.parts)  # the pages are right
    report = build_site(store, out, block=BLOCK)
    assert report.partitions_rebuilt == 2 and report.written == 0


def test_a_static_file_that_differs_is_named(built):
    store, out = built
    (out / "static" / "style.css").write_text("/* edited by hand */")
    plan = plan_site(store, out, block=BLOCK)
    assert plan.static == ["static/style.css"] and _decisions(plan) == [(KEPT, "unchanged")] * 2
    report = build_site(store, out, block=BLOCK)
    assert report.written_paths == ["static/style.css"]


def _cli(data: Path, *args: str):
    return CliRunner().invoke(main, ["site", *args], env={"REVIEWS_DATA": str(data)})


def test_dry_run_writes_nothing(tmp_path):
    store = make_store(tmp_path, 4)
    data, out = tmp_path, tmp_path / "out"
    r = _cli(data, "--dry-run", str(out))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1] == "  partition 1 (reviews 1-6): rebuilt, 6 review pages rendered: no site built here yet"
    assert "note: there is no usable search index yet" in r.output  # (none made yet)
    assert not out.exists() and not (data / CACHE_DIR).exists() and not (data / "index").exists()
    build_site(store, out)
    for g in generate(1, seed=7, start=4):  # a build is due
        add_bytes(store, g.data, g.name)
    site, archive = _snapshot(out), _snapshot(data)  # (the cache and the index, too)
    r = _cli(data, "--dry-run", "--json", str(out))
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert [p["action"] for p in plan["partitions"]] == [REBUILT]
    assert plan["partitions"][0]["reason"] == "1 new review" and plan["related"] == "computed"
    assert plan["notes"][0].startswith("the search index lacks 1 review: the build indexes it")
    assert _snapshot(out) == site and _snapshot(data) == archive
    r = _cli(data, "--json", str(out))  # the build does what the plan said
    assert r.exit_code == 0 and json.loads(r.output)["partitions_rebuilt"] == 1
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    r = _cli(data, "--dry-run", str(mine))
    assert r.exit_code == 2 and "holds no site built by `reviews site`" in r.output
    store.close()


def _site_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


def _listed_by(store, uuid: str) -> set[str]:
    return {rid for (rid,) in store.execute(
        "SELECT f.ref_id FROM refs f JOIN reviews r ON r.current_version = f.version_id"
        " WHERE r.uuid = ?", (uuid,))}


@pytest.mark.slow  # (five builds and two fresh ones: ~3 s of CPU, past make check's budget)
def test_reference_and_topic_pages_are_rendered_only_where_they_change(built, tmp_path):
    """After one new review, the reference pages (and their exports) written are those of
    the works it lists, the topic pages that of its topic; after a retraction, those of
    the retracted review. Every build leaves the site as a fresh build makes it."""
    store, out = built
    g = next(iter(generate(1, seed=7, start=4)))
    add_bytes(store, g.data, g.name)
    new = next(u for u, _ in store.review_order()[::-1])
    report = build_site(store, out, block=BLOCK)
    written = set(report.written_paths)
    refs = {p.split("/")[1].split(".")[0] for p in written if p.startswith("refs/r")}
    assert refs == _listed_by(store, new) and refs
    assert {p for p in written if p.startswith("topics/t")} == {urls.topic(store.execute(
        "SELECT topic FROM reviews WHERE uuid = ?", (new,)).fetchone()[0])}
    ref = sorted(refs)[0]
    assert all(urls.ref_export(ref, fmt) in written for fmt in ("bibtex", "ris", "csl-json"))
    fresh = tmp_path / "fresh"
    build_site(store, fresh, block=BLOCK)
    assert _site_files(out) == _site_files(fresh)

    listed_by = {u: _listed_by(store, u) for u, _ in store.review_order()}
    gone = next(u for u, refs in listed_by.items()  # one that shares a work with another
                if any(refs & others for v, others in listed_by.items() if v != u))
    listed = listed_by[gone]
    store.retract(gone, "wrong topic")
    report = build_site(store, out, block=BLOCK)
    refs = {p.split("/")[1].split(".")[0] for p in report.written_paths if p.startswith("refs/r")}
    assert refs <= listed and refs
    shutil.rmtree(fresh)
    build_site(store, fresh, block=BLOCK)
    assert _site_files(out) == _site_files(fresh)

    # what is kept is not rendered at all: a page edited by hand (its size kept) stays
    probe = out / urls.ref(sorted(_listed_by(store, next(u for u in listed_by if u != gone)))[0])
    probe.write_bytes(probe.read_bytes().replace(b"<h2>", b"<h6>", 1))
    edited = probe.read_bytes()
    assert build_site(store, out, block=BLOCK).written == 0 and probe.read_bytes() == edited
