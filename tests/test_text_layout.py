"""The reviews' texts in the plain layout (index format 6) answer as the compact layout
of format 5 did (issue 19: any new index layout is held to the previous one's answers on
60 queries or more).

Both indexes are built from one archive by the same code, the compact one with
``rebuild(..., compact=True)`` (the layout the cluster's documents keep); every query is
run on both through the public ``search`` and the answers compared whole: the reviews,
their order, counts, scores, sections and snippets. The queries are strings drawn from
the records (found, partly found, absent), phrases, boolean forms, section and topic
scopes and negations, so the quick check, the slow check and the sections all run.
A damaged byte of a plain text is found, never read on."""
from __future__ import annotations

import shutil

import pytest

from archive.store import Store
from bench.corpus import Quirks, generate
from index.folder import open_reader
from index.indexer import rebuild
from index.postings import Column
from index.problems import IndexDamaged
from index.search import search
from index.texts import is_plain
from tests.helpers import SAMPLE, add_bytes
from tests.test_search import probe_strings

FIXED = [
    "的研究", "未来研究", "研究 方法", "深度学习 -图像", "研究 OR 模型", '"Faster R-CNN"',
    "ResNet", "section:摘要 研究", "section:结论 展望", "topic:学习", "的的的的", "研究意义",
    "综合现有证据", "-研究 学习", "机器学习 section:引言", "ref:深度学习", "数据集 OR 基准 -模型",
    "F1值", "小样本", "迁移学习",
]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("layouts")
    store = Store.open(root / "data")
    for g in generate(30, seed=41):
        add_bytes(store, g.data, g.name)
    for g in generate(4, seed=42, quirks=Quirks.only(local_references=1.0, truncated=1.0)):
        add_bytes(store, g.data, g.name)
    add_bytes(store, SAMPLE.read_bytes(), "sample")
    records = [rec for _, rec in store.iter_current()]
    rebuild(store, root / "plain", procs=1)
    rebuild(store, root / "compact", procs=1, compact=True)
    store.close()
    queries = FIXED + probe_strings(records, seed=9)[:70]
    return root / "plain", root / "compact", queries


def _layouts(index_dir) -> set[bool]:
    with open_reader(index_dir) as reader:
        column = Column(reader, "text")
        return {is_plain(column[d]) for d in range(reader.doc_count_all()) if column[d]}


def test_the_two_indexes_hold_the_two_layouts(both):
    plain, compact, _ = both
    assert _layouts(plain) == {True}
    assert _layouts(compact) == {False}


def test_both_layouts_give_the_same_answers(both):
    plain, compact, queries = both
    assert len(queries) >= 60
    matched = 0
    for q in queries:
        for sort in ("relevance", "date"):
            a = search(plain, q, limit=None, sort=sort, per_review=5)
            b = search(compact, q, limit=None, sort=sort, per_review=5)
            assert a.to_dict() == b.to_dict(), (q, sort)
        matched += a.total_reviews > 0
    assert matched >= 50  # (most queries find something: the checks ran)


def test_a_damaged_text_is_reported_not_read(both, tmp_path):
    """A byte of a review's text changed on disk: the search that looks into it raises
    IndexDamaged (the block's checksum), it does not answer from the bytes."""
    plain, _, _ = both
    copy = tmp_path / "index"
    shutil.copytree(plain, copy)
    col = max(copy.glob("*.text.col"), key=lambda p: p.stat().st_size)
    data = bytearray(col.read_bytes())
    at = data.find("的研究".encode("utf-8"))
    assert at > 0
    data[at + 4] ^= 0x01  # (a byte of 研: the postings still say this part holds 的研究)
    col.write_bytes(bytes(data))
    with pytest.raises(IndexDamaged):
        search(copy, "的研究", limit=None, ids_only=True)
