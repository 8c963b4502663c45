"""What a commit merges, and what the merger after a command merges (issue 19: one more
review into a 100,000-review archive had not finished after 120 s: Whoosh's default
policy rewrote some twenty bulk segments; then a commit that merged everything small
that fitted in 8 MiB took up to 2.6 s, and past that size segments gathered for good).

The policy's choice is tested on the segment layouts of real archives (sizes as measured
on bench archives) and on random ones; its effect on a real index: reviews ingested one
by one, each its own commit, merge by tiers, a commit never rewrites more than
:data:`NOW`, the merger does the rest, and the index holds exactly what a rebuild holds."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.corpus import generate
from index import indexer, merger
from index.merging import GATHER, LATER, LEVEL, NOW, _sizes, due_later, tier, to_merge
from index.search import search
from tests.helpers import add_bytes
from tests.test_search import dump
from archive.store import Store

MB = 1 << 20


class _Seg:
    """A segment as the policy sees it: only its size matters (``_sizes``' answer)."""

    def __init__(self, size: int):
        self.size = size


def _choice(sizes: list[int], budget: int = NOW) -> list[int]:
    segs = [_Seg(n) for n in sizes]
    return sorted(s.size for s in to_merge(segs, {id(s): s.size for s in segs}, budget))


def test_bulk_segments_are_never_merged_by_a_commit_nor_by_the_merger():
    """A 100k archive's layout (47 bulk segments of 86 MB, the spellings' 11 MB, one new
    review's 0.15-0.35 MB): nothing is merged until GATHER one-review segments have
    gathered, and then only they are; the bulk ones are too big for the merger too."""
    bulk = [86 * MB] * 47 + [11 * MB]
    assert _choice(bulk + [350_000]) == []
    assert _choice(bulk + [350_000] * (GATHER - 1)) == []
    assert _choice(bulk + [350_000] * GATHER) == [350_000] * GATHER
    assert _choice(bulk + [350_000] * (GATHER - 1), LATER) == []


def test_gathered_segments_of_one_tier_make_one_of_the_next():
    """GATHER segments of a tier add up to the next tier: so a merged segment is never
    merged again with the ones it was made from."""
    for k in range(4):
        low, high = (0 if k == 0 else LEVEL * GATHER ** (k - 1)), LEVEL * GATHER ** k
        for size in (max(low, 1), (low + high) // 2, high - 1):
            assert tier(size) == k
            if k:
                assert tier(size * GATHER) == k + 1


@pytest.mark.parametrize("seed", range(8))
def test_a_merge_takes_the_smallest_of_the_lowest_full_tier_within_its_budget(seed):
    """Whatever the layout: nothing, or exactly GATHER segments of one tier, the smallest
    of it, within the budget; every lower tier holds fewer than GATHER; and nothing only
    when the lowest full tier (if any) is over the budget."""
    rng = random.Random(seed)
    sizes = [int(rng.lognormvariate(14, 2.5)) for _ in range(rng.randint(1, 300))]
    by_tier: dict[int, list[int]] = {}
    for n in sizes:
        by_tier.setdefault(tier(n), []).append(n)
    full = [k for k in sorted(by_tier) if len(by_tier[k]) >= GATHER]
    for budget in (NOW, LATER):
        picked = _choice(sizes, budget)
        if picked:
            (k,) = {tier(n) for n in picked}
            assert len(picked) == GATHER and sum(picked) <= budget
            assert picked == sorted(by_tier[k])[:GATHER] and k == full[0]
        else:
            assert not full or sum(sorted(by_tier[full[0]])[:GATHER]) > budget


@pytest.mark.parametrize("kept", [0.45, 1.0])
def test_deliveries_one_by_one_keep_few_segments_and_each_commit_cheap(kept):
    """One-review segments (0.15-0.35 MB) delivered one by one, 10,000 of them, into the
    100k layout. A commit merges within NOW; when it leaves a due merge, the merger
    does it (within LATER). A merged segment keeps ``kept`` of its parts' bytes (0.45:
    eight tier-1 segments of a real index made one of 45 %, their shared terms once).
    No commit rewrites more than NOW, and the segments beside the bulk ones stay few
    (about GATHER a tier) instead of one more per delivery."""
    rng = random.Random(19)
    bulk = [86 * MB] * 47
    segs, worst_commit, most = list(bulk), 0, 0
    for _ in range(10_000):
        merged = _choice(segs)
        for n in merged:
            segs.remove(n)
        new = int(rng.uniform(0.15, 0.35) * MB)
        segs.append(int((new + sum(merged)) * kept) if merged else new)
        worst_commit = max(worst_commit, sum(merged))
        while not _choice(segs) and (later := _choice(segs, LATER)):  # (due_later)
            for n in later:
                segs.remove(n)
            segs.append(int(sum(later) * kept))
        most = max(most, len(segs) - len(bulk))
    assert worst_commit <= NOW
    assert most <= 8 * GATHER


@pytest.fixture(scope="module")
def one_by_one(tmp_path_factory) -> tuple[Path, Path, list[dict[str, int]]]:
    """An archive whose reviews were indexed one commit each (as `reviews ingest FILE`
    does for each delivery); each step's segments and their sizes."""
    tmp = tmp_path_factory.mktemp("merging")
    store = Store.open(tmp / "data")
    ix = tmp / "data" / "index"
    steps = []
    for g in generate(2 * GATHER + 2, seed=19):
        add_bytes(store, g.data, g.name)
        indexer.update(store, ix)
        steps.append(_segments(ix))
    rebuilt = tmp / "rebuilt"
    indexer.rebuild(store, rebuilt, procs=1)
    store.close()
    return ix, rebuilt, steps


def _segments(ix: Path) -> dict[str, int]:
    from whoosh import index as windex

    segs = windex.open_dir(str(ix), indexname=indexer.INDEX_NAME)._segments()

    class _Storage:  # (the sizes as the policy measures them, from the folder)
        def list(self):
            return [p.name for p in ix.iterdir()]

        def file_length(self, name):
            return (ix / name).stat().st_size

    sizes = _sizes(_Storage(), segs)
    return {s.segment_id(): sizes[id(s)] for s in segs}


def _expected_counts(commits: int) -> list[int]:
    """The count of segments after each one-review commit, by the policy: a commit that
    finds GATHER one-review segments merges them with its own review into one of tier 1
    (GATHER such reviews are 1.2-2.8 MB: more than LEVEL, less than NOW)."""
    small = merged = 0
    counts = []
    for _ in range(commits):
        if small == GATHER:
            small, merged = 0, merged + 1
        else:
            small += 1
        counts.append(small + merged)
    return counts


# (slow tier, with the next test: their fixture commits 2 * GATHER + 2 reviews one by
# one and rebuilds, ~4 s of CPU; the policy's own tests above stay fast)
@pytest.mark.slow
def test_reviews_ingested_one_by_one_merge_by_tiers(one_by_one):
    """Each commit adds a segment; once GATHER one-review ones have gathered they are
    merged with the next into one of the next tier, which is not merged again with the
    small ones; and no commit rewrote more than NOW (the bytes of the segments gone)."""
    _, _, steps = one_by_one
    assert [len(s) for s in steps] == _expected_counts(len(steps))
    for before, after in zip(steps, steps[1:]):
        gone = sum(n for seg, n in before.items() if seg not in after)
        assert gone <= NOW
    assert sorted(tier(n) for n in steps[-1].values()) == [1, 1]


@pytest.mark.slow
def test_merged_segments_hold_what_a_rebuild_holds(one_by_one):
    """Merging loses and invents nothing: the same stored fields and postings per review
    as an index built in one go, and the same answers."""
    ix, rebuilt, _ = one_by_one
    assert dump(ix) == dump(rebuilt)
    for q in ["研究", "深度学习 -方法", "topic:图像识别"]:
        assert search(ix, q, limit=None).to_dict() == search(rebuilt, q, limit=None).to_dict(), q


def test_the_index_merges_by_this_policy(one_by_one):
    """The writer commits with this policy (the counts the policy predicts), and leaves
    the merger nothing to do while only tier 0 fills."""
    ix, _, steps = one_by_one
    assert [len(s) for s in steps] == _expected_counts(len(steps))
    assert not due_later(ix)


@pytest.fixture(scope="module")
def tier_one(tmp_path_factory) -> Path:
    """An archive whose index holds GATHER segments of tier 1 (GATHER deliveries of
    GATHER reviews each, indexed one commit a delivery): a merge the commits leave to
    the merger is due."""
    tmp = tmp_path_factory.mktemp("tier-one")
    records = list(generate(GATHER * GATHER, seed=23))
    with Store.open(tmp / "data") as store:
        for i in range(0, len(records), GATHER):
            for g in records[i:i + GATHER]:
                add_bytes(store, g.data, g.name)
            indexer.update(store, tmp / "data" / "index")
    return tmp / "data"


def _copy(data: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(data, to)
    return to


@pytest.mark.slow  # (a rebuild and a dump of both indexes: ~6 s)
def test_the_merger_merges_what_commits_leave_and_loses_nothing(tier_one, tmp_path):
    """`reviews merge-segments` merges the due tier into one segment (the only merge),
    then finds nothing due; the index holds what a rebuild of the same archive holds."""
    import json

    from click.testing import CliRunner

    from cli import main

    data = _copy(tier_one, tmp_path / "data")
    ix = data / "index"
    before = _segments(ix)
    assert [tier(n) for n in before.values()] == [1] * GATHER and due_later(ix)
    run = lambda *a: CliRunner().invoke(main, ["merge-segments", *a, "--data-dir", str(data)])  # noqa: E731
    r = run()
    assert r.exit_code == 0 and r.output == "merged 1 group of small segments\n", r.output
    after = _segments(ix)
    assert len(after) == 1 and not set(after) & set(before) and not due_later(ix)
    assert run().output == "no merge was due\n" and run("--quiet").output == ""
    assert json.loads(run("--json").output) == {"merged": 0}
    with Store.open(data) as store:
        indexer.rebuild(store, tmp_path / "rebuilt", procs=1)
    assert dump(ix) == dump(tmp_path / "rebuilt")


def test_an_ingest_leaves_the_larger_merge_to_a_merger_in_the_background(tier_one, tmp_path):
    """`reviews ingest FILE` commits its review without merging the due tier (more than
    NOW), starts the merger and returns; the merger, detached, merges it."""
    import subprocess
    import sys
    import time

    data = _copy(tier_one, tmp_path / "data")
    sizes = _segments(data / "index").values()
    (g,) = generate(1, seed=23, start=GATHER * GATHER)
    (tmp_path / g.name).write_bytes(g.data)
    exe = str(Path(sys.executable).with_name("reviews"))
    r = subprocess.run([exe, "ingest", "--quiet", str(tmp_path / g.name), "--data-dir", str(data)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 120
    while len(_segments(data / "index")) > 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    after = sorted(_segments(data / "index").values())
    assert len(after) == 2 and tier(after[0]) == 0, after  # the new review's, the merged one
    assert after[1] > max(sizes)
    from index.indexer import _exclusive  # (the merger's lock released: it has finished)

    with _exclusive(data / "index"):
        pass
    assert search(data / "index", "研究", limit=None).total_reviews == GATHER * GATHER + 1


def test_the_merger_leaves_a_missing_index_alone(tmp_path):
    with Store.open(tmp_path / "data"):
        pass
    assert merger.merge_due(tmp_path / "data" / "index") == 0
    assert not (tmp_path / "data" / "index").exists() and not due_later(tmp_path / "data" / "index")


def test_a_writer_hashes_only_what_changed_since_its_last_check(one_by_one, tmp_path):
    """Before a commit the index is checked against its manifest; files found matching
    before, untouched since (same size, change time, inode), are not hashed again:
    a manifest whose sha256 of such a file is wrong passes that check, and fails the
    full one. Any write to a file (damage included) makes it hashed again."""
    import json
    import shutil

    from index.folder import MANIFEST, UNCHANGED, check

    ix = tmp_path / "index"
    shutil.copytree(one_by_one[0], ix)  # (a copy: new inodes, so nothing is trusted yet)
    assert check(ix, deep=UNCHANGED) is None
    manifest = json.loads((ix / MANIFEST).read_text())
    victim = max(manifest["files"], key=lambda f: manifest["files"][f][0])
    manifest["files"][victim][1] = "0" * 64
    (ix / MANIFEST).write_text(json.dumps(manifest))
    assert check(ix, deep=UNCHANGED) is None
    assert victim in check(ix, deep=True)
    (ix / victim).write_bytes((ix / victim).read_bytes())  # (same bytes, written again)
    assert victim in check(ix, deep=UNCHANGED)


def test_a_writer_trusts_what_the_last_writer_hashed(tmp_path):
    """A rebuild (and an update) records the files it hashed into its manifest as
    verified, so the next writer's check does not hash them again: the first
    `reviews ingest FILE` after a bulk build read the whole index (4 GB at 100k). A
    manifest entry made wrong afterwards passes that check and fails the full one; a
    file written again is hashed again and caught."""
    import json

    from index.folder import MANIFEST, UNCHANGED, check

    store = Store.open(tmp_path / "data")
    for g in generate(3, seed=29):
        add_bytes(store, g.data, g.name)
    ix = tmp_path / "data" / "index"
    indexer.rebuild(store, ix, procs=1)
    store.close()
    manifest = json.loads((ix / MANIFEST).read_text())
    victim = max(manifest["files"], key=lambda f: manifest["files"][f][0])
    manifest["files"][victim][1] = "0" * 64
    (ix / MANIFEST).write_text(json.dumps(manifest))
    assert check(ix, deep=UNCHANGED) is None  # (no file hashed: the rebuild had)
    assert victim in check(ix, deep=True)
    (ix / victim).write_bytes((ix / victim).read_bytes())  # (same bytes, written again)
    assert victim in check(ix, deep=UNCHANGED)


@pytest.mark.slow  # (a rebuild and a dump of both indexes each: ~6 s)
@pytest.mark.parametrize("meanwhile", ["a new review", "a new version of a merged review",
                                       "a merged review retracted"])
def test_a_merge_built_while_a_commit_lands_keeps_what_the_commit_did(
        tier_one, tmp_path, meanwhile):
    """The merger builds without the lock, and a delivery committed meanwhile is kept.
    One that adds a segment and deletes documents in the merged ones (a new version of
    a review they hold; the reference documents its citations update) leaves the merge
    good: it is swapped in with those deletions. One that rewrote a merged segment (a
    retraction drops the review's documents from the files) makes it stale: it is
    thrown away, the index stays as the commit left it, and the next merger merges
    again (here nothing is due: the retraction's commit rewrote them into one). Either
    way the index holds what a rebuild holds."""
    from whoosh import index as windex

    from index.indexer import _exclusive
    from index.merging import due

    data = _copy(tier_one, tmp_path / "data")
    ix_dir = data / "index"
    ix = windex.open_dir(str(ix_dir), indexname=indexer.INDEX_NAME)
    picked = due(ix.storage, ix._segments())
    assert len(picked) == GATHER
    beside = tmp_path / "beside"
    merged = merger._build(ix, picked, beside)
    records = list(generate(GATHER * GATHER + 1, seed=23))
    with Store.open(data) as store:
        if meanwhile == "a new review":
            add_bytes(store, records[-1].data, records[-1].name)
        elif meanwhile == "a merged review retracted":
            store.retract(store.resolve(records[0].truth.uuid), "test")
        else:
            first = records[0].data.decode("utf-8")
            add_bytes(store, first.replace("研究", "研讨", 1).encode("utf-8"), "again.txt")
        indexer.update(store, ix_dir)
    committed = _segments(ix_dir)
    with _exclusive(ix_dir):
        swapped = merger._swap_in(ix_dir, picked, merged, beside)
    after = _segments(ix_dir)
    if meanwhile == "a merged review retracted":
        assert not swapped and after == committed
        merger.merge_due(ix_dir)  # (the retraction's commit rewrote them into one: none due)
        ix = windex.open_dir(str(ix_dir), indexname=indexer.INDEX_NAME)
        assert not due(ix.storage, ix._segments()) and not list(tmp_path.glob("data/index.merging-*"))
    else:
        assert swapped and len(after) == len(committed) - GATHER + 1
    with Store.open(data) as store:
        indexer.rebuild(store, tmp_path / "rebuilt", procs=1)
    assert dump(ix_dir) == dump(tmp_path / "rebuilt")
    for q in ["研究", "研讨", "深度学习 -方法"]:
        assert (search(ix_dir, q, limit=None).to_dict()
                == search(tmp_path / "rebuilt", q, limit=None).to_dict()), q


def test_a_merger_at_work_is_seen_so_no_other_is_started(tmp_path):
    """`merger.running` is what keeps an ingest from starting a merger while one works
    (each start alone costs ~0.4 s of CPU): it sees the merger's lock held, and only
    while it is."""
    import fcntl
    import os

    ix = tmp_path / "index"
    ix.mkdir()
    assert not merger.running(ix)
    fd = os.open(merger._merger_lock(ix), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    assert merger.running(ix)
    os.close(fd)
    assert not merger.running(ix)


def test_a_purge_waits_for_a_merger_at_work(tier_one, tmp_path):
    """A merger mid-build holds a copy of the documents it merges beside the index
    (`index.merging-<pid>`), so a purge (and a retraction) waits for a merger at work
    before it takes the review out of the index: here the merger's lock is held (as a
    merger at work holds it) while `reviews purge` runs. The archive lets go of the
    review at once; the index only once the lock is released, and then it does."""
    import os
    import subprocess
    import sys
    import time

    from index import state

    data = _copy(tier_one, tmp_path / "data")
    victim = next(generate(1, seed=23)).truth.uuid
    exe = str(Path(sys.executable).with_name("reviews"))
    lock = str(merger._merger_lock(data / "index"))

    def holds_lock(pid: int) -> bool:  # (waiting on it: it has the lock file open)
        fds = Path(f"/proc/{pid}/fd")
        try:
            return any(os.readlink(f) == lock for f in fds.iterdir())
        except OSError:
            return False

    with merger.paused(data / "index"):
        purge = subprocess.Popen([exe, "purge", victim, "--yes", "--data-dir", str(data)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while purge.poll() is None and not holds_lock(purge.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert purge.poll() is None and holds_lock(purge.pid)  # waiting for the merger
        with Store.open(data, read_only=True) as store:
            assert victim not in {r[0] for r in store.execute("SELECT uuid FROM versions")}
            assert state.removed(store) == [victim]  # the index still holds it
    _, err = purge.communicate(timeout=120)
    assert purge.returncode == 0, err
    with Store.open(data, read_only=True) as store:
        assert state.removed(store) == []
    assert search(data / "index", f"uuid:{victim}", limit=None).total_reviews == 0


