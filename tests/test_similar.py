"""Related reviews (index/similar.py) over a real archive and a real Whoosh index.

The archive holds clean generated records plus records made from them so that we know
which reviews must be related: a *reference twin* (another field's text with the
reference list of a review) and a *near duplicate* (a review's text, with words no other
review uses, under another uuid and with another review's reference list).
"""
from __future__ import annotations

import re

import pytest

import index.similar as sim
from archive.errors import NotFound
from archive.store import Store
from bench.corpus import Quirks, generate
from index.indexer import rebuild, update
from index.similar import Related, related_all, similar
from tests.helpers import add_bytes

REF_TWIN = "0" * 24 + "aaaaaaa1"
NEAR_DUP = "0" * 24 + "aaaaaaa2"
LONELY = "0" * 24 + "aaaaaaa3"
UNIQUE = ("zorblaxite", "quendrovium")  # Latin words no generated record holds
_REFS = re.compile(r"\n# 参考文献:.*?(?=\n对话结束)", re.S)


def _uuid(text: str, uuid: str) -> str:
    return re.sub(r"^UUID[:：].*$", f"UUID: {uuid}", text, count=1, flags=re.M)


def _refs(text: str) -> str:
    return _REFS.search(text).group(0)


def _with_unique(text: str) -> str:
    """The text with the unique words said three times in its content's section 1.1."""
    head, content = text.split("\n内容:", 1)
    words = " ".join(UNIQUE)
    content = re.sub(r"(\n#{2,4} ?1\.1[^\n]*\n)", rf"\1\n{words}，{words}；{words}。\n", content,
                     count=1)
    assert all(w in content for w in UNIQUE)
    return head + "\n内容:" + content


INVENTED = "\n# 参考文献:\n\n" + "\n\n".join(
    f"[{i}] 虚构文献第{i}号：仅此一处引用的报告. 2024." for i in range(1, 13)) + "\n"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("similar")
    store = Store(root / "archive.sqlite3")
    records = list(generate(28, seed=31, quirks=Quirks.none()))
    outside = records.pop()  # its text goes into the reference twin only
    lonely = records.pop()  # its text goes in with invented works
    cited = next(g for g in records if g.truth.domain != outside.truth.domain)
    unique = next(g for g in records if g is not cited)
    base = {g.truth.uuid: g.data.decode("utf-8") for g in records}
    base[unique.truth.uuid] = _with_unique(base[unique.truth.uuid])
    for uuid, text in base.items():
        add_bytes(store, text.encode("utf-8"), f"{uuid}.txt")
    # another field's text with the reference list of `cited`
    twin = _REFS.sub(lambda _: _refs(base[cited.truth.uuid]), outside.data.decode("utf-8"), count=1)
    add_bytes(store, _uuid(twin, REF_TWIN).encode("utf-8"), "twin.txt")
    # `unique` again under another uuid and a revised topic
    dup = re.sub(r"^(主题[:：].*)$", r"\1（修订稿）", base[unique.truth.uuid], count=1, flags=re.M)
    add_bytes(store, _uuid(dup, NEAR_DUP).encode("utf-8"), "dup.txt")
    # a review listing works no other review lists (it relates by its words only)
    alone = _REFS.sub(lambda _: INVENTED, lonely.data.decode("utf-8"), count=1)
    add_bytes(store, _uuid(alone, LONELY).encode("utf-8"), "alone.txt")
    rebuild(store, root / "index")
    yield store, root / "index", cited.truth.uuid, unique.truth.uuid, base
    store.close()


def uuids(items: list[Related]) -> list[str]:
    return [r.uuid for r in items]


def test_reviews_listing_the_same_works_rank_each_other_first(archive, monkeypatch):
    store, ix, cited, _, _ = archive
    assert uuids(similar(store, ix, cited, limit=3))[0] == REF_TWIN
    first = similar(store, ix, REF_TWIN, limit=3)[0]
    assert first.uuid == cited
    n_works = store.execute(
        "SELECT COUNT(DISTINCT refs.ref_id) FROM refs JOIN reviews r "
        "ON refs.version_id = r.current_version WHERE r.uuid = ?", (cited,)).fetchone()[0]
    assert first.shared_refs == n_works > 5
    assert first.reason().startswith(f"共同引用 {n_works} 篇文献")
    # The works alone relate them (their texts are of two fields): words count for nothing.
    monkeypatch.setattr(sim, "WORDS_WEIGHT", 0.0)
    assert uuids(similar(store, ix, cited, limit=1)) == [REF_TWIN]
    assert uuids(similar(store, ix, REF_TWIN, limit=1)) == [cited]


def test_a_near_duplicate_shares_its_unique_words(archive, monkeypatch):
    store, ix, _, unique, _ = archive
    for a, b in ((unique, NEAR_DUP), (NEAR_DUP, unique)):
        first = similar(store, ix, a, limit=5)[0]
        assert first.uuid == b
        assert set(first.shared_terms) & set(UNIQUE), first.shared_terms
        assert "共同关键词：" in first.reason()
    # the words alone put it first: without the works it still is
    monkeypatch.setattr(sim, "REFS_WEIGHT", 0.0)
    first = similar(store, ix, unique, limit=1)[0]
    assert first.uuid == NEAR_DUP and first.score == pytest.approx(1.0, abs=0.02)


def test_a_review_citing_nothing_shared_is_related_by_words(archive):
    store, ix, _, _, _ = archive
    found = similar(store, ix, LONELY, limit=5)
    assert found and all(r.shared_refs == 0 and r.shared_terms for r in found)
    assert all("共同引用" not in r.reason() for r in found)


def test_similar_equals_related_all_for_every_review(archive):
    store, ix, _, _, _ = archive
    everything = related_all(store, ix, limit=5)
    listed = [u for (u,) in store.execute("SELECT uuid FROM reviews ORDER BY uuid")]
    assert sorted(everything) == listed
    for u in listed:
        assert similar(store, ix, u, limit=5) == everything[u], u
    assert related_all(store, ix, limit=5) == everything  # deterministic


def test_never_itself_limit_honoured_ordered(archive):
    store, ix, _, _, _ = archive
    everything = related_all(store, ix, limit=4)
    assert all(u not in uuids(rs) for u, rs in everything.items())
    assert all(len(rs) <= 4 for rs in everything.values())
    assert sum(len(rs) == 4 for rs in everything.values()) > len(everything) // 2
    for rs in everything.values():
        assert [(-r.score, r.uuid) for r in rs] == sorted((-r.score, r.uuid) for r in rs)
        assert all(r.score > 0 for r in rs)
    u = next(iter(everything))
    assert len(similar(store, ix, u, limit=2)) == 2
    assert similar(store, ix, u, limit=2) == similar(store, ix, u, limit=7)[:2]
    assert similar(store, ix, u, limit=0) == []
    with pytest.raises(NotFound):
        similar(store, ix, "f" * 32)


def test_reasons_are_chinese(archive):
    store, ix, _, _, _ = archive
    pattern = re.compile(r"^(共同引用 [1-9]\d* 篇文献)?(；)?(共同关键词：[^、；]+(、[^、；]+){0,2})?$")
    for rs in related_all(store, ix, limit=5).values():
        for r in rs:
            assert r.reason() and pattern.match(r.reason()), r.reason()
            assert ("共同引用" in r.reason()) == (r.shared_refs > 0)
            assert ("共同关键词" in r.reason()) == bool(r.shared_terms)
            assert not any(t.isdigit() for t in r.shared_terms)
            d = r.to_dict()
            assert d["reason"] == r.reason() and d["shared_terms"] == list(r.shared_terms)
    assert Related("a", "t", 1.0, 4, ("残差网络", "迁移学习")).reason() == \
        "共同引用 4 篇文献；共同关键词：残差网络、迁移学习"
    assert Related("a", "t", 1.0, 0, ("残差网络",)).reason() == "共同关键词：残差网络"
    assert Related("a", "t", 1.0, 2, ()).reason() == "共同引用 2 篇文献"


def test_after_an_update_in_place_both_still_agree(archive, tmp_path):
    """A new version re-indexed in place (the index may then hold deleted documents,
    whose words the term dictionary still counts): both entry points still agree."""
    store, ix, cited, unique, base = archive
    import shutil

    copy_db, copy_ix = tmp_path / "archive.sqlite3", tmp_path / "index"
    store.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(store.path, copy_db)
    shutil.copytree(ix, copy_ix)
    with Store(copy_db) as other:
        newer = re.sub(r"^接收时间[:：].*$", "接收时间: 2030-01-01 00:00:00",
                       base[cited], count=1, flags=re.M).replace("综上所述", "概括而言", 1)
        add_bytes(other, newer.encode("utf-8"), "newer.txt")
        update(other, copy_ix)
        from index.indexer import open_index

        with open_index(copy_ix).reader() as reader:
            assert reader.has_deletions()  # (so similar reads postings, not term infos)
        everything = related_all(other, copy_ix, limit=5)
        for u in everything:
            assert similar(other, copy_ix, u, limit=5) == everything[u], u
        assert uuids(everything[cited])[0] == REF_TWIN


def test_a_small_archive_still_relates_reviews(tmp_path):
    """In an archive of 8 reviews a fifth is 1.6 of them: a word or work two reviews
    share must still relate them (the cap never falls below 2)."""
    from index.indexer import index_dir, rebuild
    from tests.helpers import make_store

    store = make_store(tmp_path, 6, seed=4)
    rebuild(store, index_dir(tmp_path))
    related = related_all(store, index_dir(tmp_path))
    assert len(related) == 8 and sum(1 for v in related.values() if v) >= 4
    store.close()


def test_related_all_in_two_processes_is_the_same(archive):
    store, ix, _, _, _ = archive  # (only read: the module's archive of 29 reviews)
    one = related_all(store, ix)
    assert related_all(store, ix, procs=2) == one and any(one.values())


def test_short_latin_tokens_never_relate_reviews():
    """``et al`` is in half the reference lists: two reviews sharing it are not alike."""
    assert not sim.distinctive("et") and not sim.distinctive("al") and not sim.distinctive("2016")
    assert sim.distinctive("resnet") and sim.distinctive("土壤") and sim.distinctive("n2o")
