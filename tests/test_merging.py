"""What a commit merges (issue 19: one more review into a 100,000-review archive had not
finished after 120 s: Whoosh's default policy rewrote some twenty bulk segments).

The policy's choice is tested on the segment layouts of real archives (sizes as measured
on bench archives); its effect on a real index: reviews ingested one by one, each its own
commit, merge into few segments, never rewrite more than the budget, and the index holds
exactly what a rebuild holds."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.corpus import generate
from index import indexer
from index.merging import BUDGET, GATHER, _sizes, to_merge
from index.search import search
from tests.helpers import add_bytes
from tests.test_search import dump
from archive.store import Store

MB = 1 << 20


class _Seg:
    """A segment as the policy sees it: only its size matters (``_sizes``' answer)."""

    def __init__(self, size: int):
        self.size = size


def _choice(sizes: list[int]) -> list[int]:
    segs = [_Seg(n) for n in sizes]
    return sorted(s.size for s in to_merge(segs, {id(s): s.size for s in segs}))


def test_bulk_segments_are_never_merged_by_a_commit():
    """A 100k archive's layout (about 45 bulk segments of 53 MB, the spellings' 11 MB,
    one new review's 0.35 MB): nothing is merged until GATHER small segments fit in the
    budget, and then only they are."""
    bulk = [53 * MB] * 45 + [11 * MB]
    assert _choice(bulk + [350_000]) == []
    assert _choice(bulk + [350_000] * (GATHER - 1)) == []
    assert _choice(bulk + [350_000] * GATHER) == [350_000] * GATHER


@pytest.mark.parametrize("seed", range(5))
def test_a_commit_rewrites_at_most_the_budget(seed):
    """Whatever the layout, what is merged fits in BUDGET, is the smallest segments, and
    is either nothing or at least GATHER segments."""
    import random

    rng = random.Random(seed)
    sizes = [int(rng.lognormvariate(13, 2.5)) for _ in range(rng.randint(1, 200))]
    picked = _choice(sizes)
    assert sum(picked) <= BUDGET
    assert picked == sorted(sizes)[:len(picked)]
    assert not picked or len(picked) >= GATHER
    if not picked:  # (nothing was merged because GATHER of the smallest do not fit)
        assert len(sizes) < GATHER or sum(sorted(sizes)[:GATHER]) > BUDGET


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


# (slow tier, with the next test: their fixture commits 2 * GATHER + 2 reviews one by
# one and rebuilds, ~4 s of CPU; the policy's own tests above stay fast)
@pytest.mark.slow
def test_reviews_ingested_one_by_one_merge_into_few_segments(one_by_one):
    """Each commit adds a segment; once GATHER small ones have gathered they are merged
    into one, so the count stays below 2 * GATHER; and no commit rewrote more than the
    budget (the bytes of the segments that are gone)."""
    _, _, steps = one_by_one
    assert max(len(s) for s in steps) <= GATHER
    assert len(steps[-1]) < len(steps)  # (merges happened)
    for before, after in zip(steps, steps[1:]):
        gone = sum(n for seg, n in before.items() if seg not in after)
        assert gone <= BUDGET


@pytest.mark.slow
def test_merged_segments_hold_what_a_rebuild_holds(one_by_one):
    """Merging loses and invents nothing: the same stored fields and postings per review
    as an index built in one go, and the same answers."""
    ix, rebuilt, _ = one_by_one
    assert dump(ix) == dump(rebuilt)
    for q in ["研究", "深度学习 -方法", "topic:图像识别"]:
        assert search(ix, q, limit=None).to_dict() == search(rebuilt, q, limit=None).to_dict(), q


def test_the_index_merges_by_this_policy(one_by_one):
    """The writer commits with this policy: the count of segments climbs one a commit
    up to GATHER, and the next commit merges those into the new segment."""
    _, _, steps = one_by_one
    assert [len(s) for s in steps] == [i % GATHER + 1 for i in range(len(steps))]


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
