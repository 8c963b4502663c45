"""A search's matches found in two processes, half the segments each (index.halves),
answer exactly as one process does: the same reviews, order, scores, counts, pages
(by relevance, and by date for a third), sections and facets, on a real multi-segment index (40 queries: the fixed ones and
strings drawn from the records). Damage met in the child's half is
reported as damage; a child that dies has its half done again in the parent."""
from __future__ import annotations

import os
import shutil
import threading

import pytest

from archive.store import Store
from bench.corpus import generate
from index import halves
from index import search as search_module
from index.folder import open_reader
from index.indexer import rebuild, update
from index.problems import IndexDamaged
from index.query import parse
from index.search import search
from tests.helpers import SAMPLE, add_bytes
from tests.test_search import probe_strings

TEXT_QUERIES = [
    "的研究", "未来研究", "研究 方法", "深度学习 -图像", "研究 OR 模型", '"Faster R-CNN"',
    "ResNet", "topic:学习", "的的的的", "研究意义", "综合现有证据", "-研究 学习",
    "数据集 OR 基准 -模型", "F1值", "小样本", "迁移学习", "topic:学习 方法", "学习 OR 未来研究",
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """An index of several review segments (two workers, then two updates) and the
    queries: fixed ones and strings drawn from the records."""
    root = tmp_path_factory.mktemp("halves")
    store = Store.open(root / "data")
    for g in generate(16, seed=43):
        add_bytes(store, g.data, g.name)
    add_bytes(store, SAMPLE.read_bytes(), "sample")
    rebuild(store, root / "index", procs=2)
    for seed in (44, 45):
        for g in generate(2, seed=seed):
            add_bytes(store, g.data, g.name)
        update(store, root / "index")
    records = [rec for _, rec in store.iter_current()]
    store.close()
    with open_reader(root / "index") as reader:
        assert len(reader.leaves) >= 3
        first, second = halves.halves(reader)
        assert first.leaves and second.leaves
    return root / "index", TEXT_QUERIES + probe_strings(records, seed=13)[:22]


def _answers(index_dir, q, by_date: bool):
    out = [search(index_dir, q, limit=None, ids_only=True).uuids]
    for sort in ("relevance", "date") if by_date else ("relevance",):
        out.append(search(index_dir, q, limit=4, offset=1, sort=sort, per_review=5,
                          facets=True).to_dict())
    return out


def test_two_processes_answer_as_one_on_the_fixed_queries(index_dir, monkeypatch):
    """The fast tier's share of the test below: the fixed queries alone (phrases in
    most reviews, OR, NOT, topic:)."""
    _same_answers(index_dir[0], TEXT_QUERIES[:9], monkeypatch, 7)


# (slow: 40 queries, ~4 s; the fixed ones above keep a fast test)
@pytest.mark.slow
def test_two_processes_answer_as_one(index_dir, monkeypatch):
    index_dir, queries = index_dir
    assert len(queries) >= 40
    _same_answers(index_dir, queries, monkeypatch, 25)


def _same_answers(index_dir, queries, monkeypatch, least_found: int):
    assert halves.possible(), f"a fork needs this process alone: {threading.enumerate()}"
    with open_reader(index_dir) as reader:  # (text items: two processes, or one by the threshold)
        monkeypatch.setattr(halves, "THRESHOLD", 0)
        assert all(search_module._halved(reader, parse(q)) for q in queries)
        monkeypatch.setattr(halves, "THRESHOLD", 10**9)
        assert not any(search_module._halved(reader, parse(q)) for q in queries)
    found = 0
    for k, q in enumerate(queries):
        by_date = k % 3 == 0  # (a page by date for a third of them)
        monkeypatch.setattr(halves, "THRESHOLD", 10**9)
        whole = _answers(index_dir, q, by_date)
        monkeypatch.setattr(halves, "THRESHOLD", 0)
        assert _answers(index_dir, q, by_date) == whole, q
        found += bool(whole[0])
    assert found >= least_found


def test_fields_that_look_across_the_index_stay_in_one_process(index_dir, monkeypatch):
    index_dir, _ = index_dir
    monkeypatch.setattr(halves, "THRESHOLD", 0)
    with open_reader(index_dir) as reader:
        for q in ("ref:深度学习 研究", "section:摘要 研究", "uuid:0 研究"):
            assert not search_module._halved(reader, parse(q)), q


def test_damage_in_the_childs_half_is_reported(index_dir, tmp_path, monkeypatch):
    """A byte of a text in the second half (the child's) changed on disk: the search
    raises IndexDamaged, as one process does, instead of answering without it."""
    index_dir, _ = index_dir
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    with open_reader(copy) as reader:
        _, second = halves.halves(reader)
        names = [seg.name for seg, _ in second.leaves]
    cols = [p for name in names for p in copy.glob(f"{name}.text.col")]
    col = max(cols, key=lambda p: p.stat().st_size)
    data = bytearray(col.read_bytes())
    at = data.find("的研究".encode("utf-8"))
    assert at > 0
    data[at + 4] ^= 0x01
    col.write_bytes(bytes(data))
    monkeypatch.setattr(halves, "THRESHOLD", 0)
    with pytest.raises(IndexDamaged):
        search(copy, "的研究", limit=None, ids_only=True)


def test_a_child_that_dies_has_its_half_done_here(index_dir):
    index_dir, _ = index_dir
    parent = os.getpid()

    def work(half):
        if os.getpid() != parent:
            os._exit(9)  # (killed before it answers)
        return [seg.name for seg, _ in half.leaves]

    with open_reader(index_dir) as reader:
        first, second = halves.in_two(reader, work)
        assert first + second == [seg.name for seg, _ in reader.leaves]


def test_no_fork_beside_another_thread():
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not halves.possible()
    finally:
        stop.set()
        worker.join()
    assert halves.possible()
