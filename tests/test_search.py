"""Search against a real Whoosh index built from a real store (tmp dirs)."""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from index import state
from archive.parser import parse
from archive.store import Store
from bench.corpus import generate
from index import indexer
from index.analysis import CJK_RANGES, fold, primary_tokens
from index.indexer import IndexProblem, rebuild, update
from index.query import QueryError
from index.search import search
from tests.helpers import ROOT, SAMPLE, SAMPLE_RECEIVED, SAMPLE_TOPIC, SAMPLE_UUID
from tests.helpers import variant as sample_variant

FIRST_SENTENCE = "图像识别技术是计算机视觉领域的重要研究方向"


def variant(n: int, topic: str = SAMPLE_TOPIC, received: str = SAMPLE_RECEIVED,
            extra: str = "") -> bytes:
    """The sample with another uuid/topic/date and ``extra`` text opening section 1.1."""
    return sample_variant(uuid=f"{n:032x}", received=received, topic=topic,
                          replace=(FIRST_SENTENCE, extra + FIRST_SENTENCE)).encode("utf-8")


def add(store: Store, data: bytes, name: str = "x") -> None:
    for p in parse(data, name):
        store.add(p, name)


def uuids(result) -> set[str]:
    return {r.uuid for r in result.reviews}


# -- the generated corpus: recall and precision against a substring scan -----------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    store = Store.open(root)
    for g in generate(24, seed=11):
        add(store, g.data, g.name)
    add(store, SAMPLE.read_bytes(), "sample")
    records = [rec for _, rec in store.iter_current()]
    rebuild(store, root / "index")
    yield store, root / "index", records
    store.close()


def texts(record) -> list[str]:
    """What a review holds, field by field, as the design lists it (not via the indexer)."""
    out = [record.topic, record.title,
           "\n".join(p for p in (record.abstract, " ".join(record.keywords)) if p)]
    out += [s.title for s in record.sections] + [s.body for s in record.sections]
    out.append("\n".join(r.title for r in record.references))
    return [fold(t) for t in out if t]


WC = f"[^\\W_{CJK_RANGES}]"  # a Latin letter or digit
_TOKENS = re.compile(f"([{CJK_RANGES}])|({WC}+(?:[-._/]{WC}+)*)")


def oracle(s: str) -> re.Pattern:
    """Ctrl+F over folded text: CJK characters literally adjacent, a Latin word as a
    whole word (or a whole part of an a-b word), separators next to Latin ignored."""
    parts, prev = [], None
    for m in _TOKENS.finditer(fold(s)):
        if prev is not None:
            adjacent = prev.group(1) and m.group(1) and prev.end() == m.start()
            parts.append("" if adjacent else r"[\W_]+" if prev.group(1) and m.group(1)
                         else r"[\W_]*")
        tok = re.escape(m.group())
        if m.group(2) and any(c in m.group() for c in "-._/"):
            tok = f"(?<!{WC})(?<!{WC}[-._/]){tok}(?![-._/]?{WC})"
        elif m.group(2):
            tok = f"(?<!{WC}){tok}(?!{WC})"
        parts.append(tok)
        prev = m
    return re.compile("".join(parts))


def probe_strings(records, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    cjk_run = re.compile(f"[{CJK_RANGES}]+")
    mixed = re.compile(f"({WC}+(?:[-._/]{WC}+)*)([{CJK_RANGES}]{{1,3}})|"
                       f"([{CJK_RANGES}]{{1,3}})({WC}+(?:[-._/]{WC}+)*)")
    for rec in records:
        bodies = [s.body for s in rec.sections if s.body]
        pools = {
            "body": bodies,
            "topic": [rec.topic],
            "title": [s.title for s in rec.sections],
            "ref": [r.title for r in rec.references],
            "abstract": [rec.abstract],
        }
        for name, pool in pools.items():
            runs = [m.group() for t in pool for m in cjk_run.finditer(t)]
            for _ in range(6 if name == "body" else 2):
                if not runs:
                    break
                run = rng.choice(runs)
                size = rng.randint(1, min(6, len(run)))
                at = rng.randrange(len(run) - size + 1)
                out.add(run[at:at + size])
        words = [t.text for b in bodies for t in primary_tokens(fold(b)) if t.kind == "word"]
        for w in rng.sample(words, min(4, len(words))):
            out.add(w)
            out.update(p for p in re.split(r"[-._/]", w) if p)
        mixes = [m.group() for b in bodies for m in mixed.finditer(b)]
        out.update(rng.sample(mixes, min(3, len(mixes))))
    out.update(["段简", "是一段", "小样本", "ResNet", "F1-Score", "CRISPR-Cas9", "PM2.5",
                "2.1.1", "F1值", "ResNet-50", "的"])
    return sorted(out)


@pytest.mark.slow
def test_literal_recall_and_precision(corpus):
    store, index_dir, records = corpus
    holders = {r.uuid: texts(r) for r in records}
    probes = probe_strings(records)
    assert len(probes) > 250
    checked_partial = 0
    for s in probes:
        pattern = oracle(s)
        expected = {u for u, ts in holders.items() if any(pattern.search(t) for t in ts)}
        query = f'"{s}"' if s.upper() in ("OR", "NOT", "AND") else s
        got = uuids(search(index_dir, query, limit=None))
        assert got == expected, (s, sorted(got - expected), sorted(expected - got))
        checked_partial += 0 < len(expected) < len(records)
    assert checked_partial > 100  # most probes split the corpus, so both directions count


def test_boolean_queries_match_the_oracle(corpus):
    """Two-term AND, NOT and OR, review-level, against the substring oracle: `-l`
    (ids_only) gives exactly the reviews the oracle finds."""
    _, index_dir, records = corpus
    holders = {r.uuid: texts(r) for r in records}
    probes = probe_strings(records)
    rng = random.Random(7)
    memo: dict[str, set[str]] = {}

    def holding(s: str) -> set[str]:
        if s not in memo:
            pattern = oracle(s)
            memo[s] = {u for u, ts in holders.items() if any(pattern.search(t) for t in ts)}
        return memo[s]

    split = 0
    for _ in range(80):
        a, b = rng.sample(probes, 2)
        qa, qb = f'"{a}"', f'"{b}"'
        for query, want in [(f"{qa} {qb}", holding(a) & holding(b)),
                            (f"{qa} -{qb}", holding(a) - holding(b)),
                            (f"{qa} OR {qb}", holding(a) | holding(b))]:
            got = search(index_dir, query, ids_only=True).uuids
            assert len(got) == len(set(got)) and set(got) == want, (query, sorted(set(got) ^ want))
            split += 0 < len(want) < len(records)
    assert split > 100


def test_an_item_read_rarest_pair_first_is_the_item_read_whole(corpus):
    """An item alone in its group reads its rarest gram whole and the others only for
    the documents still in the running (index.search._grams, alone): the same
    candidates, part maps and rarest count as every list read whole, and, for each
    candidate, the same part map of every gram (what ranking and sections ask)."""
    from index.folder import open_reader
    from index.literal import Literal
    from index.search import TOPIC, _TITLES, _grams

    _, index_dir, records = corpus
    probes = [p for p in probe_strings(records) if len(Literal(p).grams()) > 1]
    probes += ["的研究意义", "综合现有证", "深度学习模型", "学习 方法"]
    assert len(probes) > 60
    emptied = 0
    with open_reader(index_dir) as reader:
        for p in probes:
            for allowed in (None, TOPIC, _TITLES):
                lit = Literal(p)
                maps, least, each = _grams(reader, lit, allowed, alone=True)
                want_maps, want_least, want_each = _grams(reader, lit, allowed)
                assert (maps, least) == (want_maps, want_least), (p, allowed)
                for d in maps:
                    assert [g.get(d) for g in each] == [g.get(d) for g in want_each], (p, d)
                emptied += not maps and all(want_each)
    assert emptied > 10  # (phrases whose every gram is in the archive, never in one part)


def test_a_stored_text_searched_in_its_file_is_the_text_read_whole(corpus):
    """Reviews' plain texts searched where they lie in the column's files (the map's
    parts of each: index.reader.Mapped) say what each value read whole says, and what
    the compact layout of the same parts says, searching every part; and, part by part,
    what the part's bytes say (the corpus has no composing marks), for needles found and
    not."""
    from index.analysis import may_fold_into_cjk_utf8
    from index.folder import open_reader
    from index.postings import Column
    from index.texts import Texts, is_plain, pack_text, plain_value_verdicts, plain_verdict

    _, index_dir, records = corpus
    needles = [p.encode() for p in probe_strings(records)[::9] if not p.isascii()][:10]
    found = 0
    with open_reader(index_dir) as reader:
        column = Column(reader, "text")
        docs = [d for d in range(reader.doc_count_all()) if column[d]]
        located = [(f, at) for f, ats in column.located(docs) for at in ats]
        assert [d for _, (d, _) in located] == docs
        for f, (d, base) in located:
            whole = column[d]
            assert is_plain(whole)
            text = Texts(whole)
            n = 0
            while True:
                try:
                    text.part(n)
                except IndexError:
                    break
                n += 1
            compact = pack_text([text.part(j) for j in range(n)], compact=True)
            for needle in needles:
                everywhere = (1 << n) - 1  # (the compact layout searches whole chunks)
                [(_, got)] = plain_value_verdicts(f, [(d, base, everywhere)], needle)
                assert got == plain_verdict(whole, needle, everywhere, {})
                assert got == plain_verdict(compact, needle, everywhere, {})
                found += got is True
                maps = [(d, base, 1 << j) for j in range(n)]
                got = [v for _, v in plain_value_verdicts(f, maps, needle)]
                for j in range(n):  # one part: its bytes as written say
                    part = text.part(j).encode("utf-8")
                    want = True if needle in part else (None if may_fold_into_cjk_utf8(part) else False)
                    assert got[j] == want, (d, j, needle)
                    assert plain_verdict(whole, needle, 1 << j, {}) == want
    assert found > 20


def test_snippet_marks_exactly_the_matches(corpus):
    _, index_dir, _ = corpus
    for q in ["小样本", "ResNet", "F1值", "的应用", "迁移学习"]:
        result = search(index_dir, q, limit=None)
        marked = [t for r in result.reviews for s in r.sections for t, m in s.snippet if m]
        assert marked, q
        for text in marked:
            assert oracle(q).fullmatch(fold(text)), (q, text)


def test_search_result_shape_and_json(corpus):
    _, index_dir, records = corpus
    result = search(index_dir, "的", limit=5, offset=2)
    assert result.total_reviews == len(records)
    assert len(result.reviews) == 5
    full = search(index_dir, "的", limit=None)
    assert [r.uuid for r in full.reviews[2:7]] == [r.uuid for r in result.reviews]
    scores = [r.score for r in full.reviews]
    assert scores == sorted(scores, reverse=True)
    for review in result.reviews:
        assert len(review.uuid) == 32 and 1 <= len(review.sections) <= 3
        assert review.n_sections >= len(review.sections)
        assert len({s.number for s in review.sections}) == len(review.sections)
    d = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert d["reviews"][0]["uuid"] == result.reviews[0].uuid
    assert {"text", "match"} == set(d["reviews"][0]["sections"][0]["snippet"][0])


# -- the sample and its variants: fields, booleans, dates, ranking ------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    store = Store.open(root)
    add(store, SAMPLE.read_bytes())
    add(store, variant(1, topic="量子计算的最新进展", received="2025-10-01 08:00:00",
                       extra="罕见词甲乙丙在此出现一次。"))
    add(store, variant(2, topic="罕见词甲乙丙的系统综述", received="2025-10-02 08:00:00"))
    add(store, variant(3, topic="蛋白质结构预测", received="2025-10-03 23:59:59",
                       extra="罕见词甲乙丙。罕见词甲乙丙。罕见词甲乙丙。Zorblax Quimbo方法。"))
    add(store, variant(4, topic="蛋白质结构预测", received="2025-10-04 00:00:00",
                       extra="罕见词甲乙丙。Quimbo Zorblax。"))
    update(store, root / "index")
    yield store, root / "index"
    store.close()


U1, U2, U3, U4 = (f"{n:032x}" for n in (1, 2, 3, 4))


def test_ranking_topic_and_frequency(small):
    _, ix = small
    result = search(ix, "罕见词甲乙丙", limit=None)
    order = [r.uuid for r in result.reviews]
    assert set(order) == {U1, U2, U3, U4}
    assert order[0] == U2  # in the topic: every section matches there
    assert order.index(U3) < order.index(U1)  # three mentions beat one
    assert order.index(U3) < order.index(U4)


def test_phrases(small):
    _, ix = small
    assert uuids(search(ix, '"Zorblax Quimbo"')) == {U3}
    assert uuids(search(ix, '"quimbo zorblax"')) == {U4}
    assert uuids(search(ix, "Zorblax Quimbo")) == {U3, U4}
    assert uuids(search(ix, '"Quimbo方法"')) == {U3}
    assert uuids(search(ix, '"Support Vector Machine"')) == {SAMPLE_UUID, U1, U2, U3, U4}
    assert uuids(search(ix, '"Vector Support"')) == set()


def test_fields(small):
    store, ix = small
    assert uuids(search(ix, "topic:蛋白质")) == {U3, U4}
    assert uuids(search(ix, "topic:残差网络")) == set()  # only in the body
    r = search(ix, "topic:量子计算", limit=None)
    # the topic holds the term, no section does: the review matches, no section is a hit
    assert [x.uuid for x in r.reviews] == [U1] and r.reviews[0].n_sections == 0
    r = search(ix, f"section:2.1 uuid:{SAMPLE_UUID[:6]}", limit=None, per_review=10)
    assert [s.number for s in r.reviews[0].sections] == ["2.1", "2.1.1", "2.1.2"]
    assert uuids(search(ix, "section:残差网络")) == {SAMPLE_UUID, U1, U2, U3, U4}
    r = search(ix, f"section:残差网络 uuid:{U3}", per_review=10)
    assert [s.number for s in r.reviews[0].sections] == ["2.1.1"]
    assert uuids(search(ix, f"uuid:{SAMPLE_UUID[:8].upper()}")) == {SAMPLE_UUID}
    # the abstract and the reference list by their Chinese names too
    for zh, en in (("摘要", "abstract"), ("参考文献", "references")):
        a = search(ix, f"section:{zh} 深度学习", limit=None, per_review=10)
        b = search(ix, f"section:{en} 深度学习", limit=None, per_review=10)
        assert a.to_dict()["reviews"] == b.to_dict()["reviews"] and a.total_reviews > 0


def test_ref_field(small):
    store, ix = small
    rec = store.current(SAMPLE_UUID)
    for ref in rec.references[:15]:
        citing = {c.section for c in rec.citations if c.ref_id == ref.ref_id}
        r = search(ix, f"ref:{ref.ref_id} uuid:{SAMPLE_UUID}", per_review=100)
        got = {s.number for rv in r.reviews for s in rv.sections}
        assert got == citing, ref.title
    # words of a title: the sections citing any reference whose title holds them
    want = {c.section for c in rec.citations
            if c.ref_id and "迁移学习" in next(x.title for x in rec.references
                                           if x.ref_id == c.ref_id)}
    r = search(ix, f"ref:迁移学习 uuid:{SAMPLE_UUID}", per_review=100)
    assert {s.number for rv in r.reviews for s in rv.sections} == want and want


def test_booleans(small):
    _, ix = small
    assert uuids(search(ix, "量子计算 OR 蛋白质")) == {U1, U3, U4}
    assert uuids(search(ix, "罕见词甲乙丙 -蛋白质")) == {U1, U2}
    assert uuids(search(ix, "罕见词甲乙丙 NOT 蛋白质 NOT topic:量子")) == {U2}
    # a review matches when every term occurs anywhere in it: 残差网络 (2.1.1) and
    # 交通标志 (3.2.1) never meet in one section, yet both are in every review
    every = {SAMPLE_UUID, U1, U2, U3, U4}
    assert uuids(search(ix, "残差网络 交通标志")) == every
    assert uuids(search(ix, "残差网络 ImageNet")) == every
    # section: scopes the other terms: 交通标志 is not in 2.1 or below
    assert uuids(search(ix, "section:2.1 残差网络")) == every
    assert uuids(search(ix, "section:2.1 残差网络 交通标志")) == set()
    assert uuids(search(ix, "section:3.2 交通标志")) == every
    # NOT drops a review holding the term anywhere (the sample holds 深度学习)
    assert uuids(search(ix, f"uuid:{SAMPLE_UUID[:8]} -深度学习")) == set()
    assert uuids(search(ix, f"uuid:{SAMPLE_UUID[:8]} -量子计算")) == {SAMPLE_UUID}


def test_sections_shown_are_those_holding_a_term(small):
    store, ix = small
    r = search(ix, f"uuid:{SAMPLE_UUID[:8]} 图像识别领域", per_review=100)
    rec = store.current(SAMPLE_UUID)
    holding = {s.number for s in rec.sections if "图像识别领域" in s.title + s.body}
    if "图像识别领域" in rec.abstract + rec.title:
        holding.add("abstract")
    got = [s.number for s in r.reviews[0].sections]
    assert set(got) == holding and r.reviews[0].n_sections == len(holding)
    assert len(holding) < len(rec.sections)  # not every section, as before
    for s in r.reviews[0].sections:  # every occurrence in the snippet is marked
        text = "".join(t for t, _ in s.snippet)
        marked = sum(1 for t, m in s.snippet if m)
        assert marked == text.count("图像识别领域") and marked >= 1


def test_dates(small):
    _, ix = small
    q = "罕见词甲乙丙"
    assert uuids(search(ix, q, since="2025-10-02", until="2025-10-03")) == {U2, U3}
    assert uuids(search(ix, q, since="2025-10-04")) == {U4}
    assert uuids(search(ix, q, until="2025-10-01")) == {U1}
    # the same filters inside the query; with both, the narrower wins
    assert uuids(search(ix, q + " since:2025-10-02 until:2025-10-03")) == {U2, U3}
    assert uuids(search(ix, q + " until:2025-10-03", since="2025-10-03")) == {U3}
    for bad in (dict(since="2025-13-01"), dict(until="20251101")):
        with pytest.raises(QueryError):
            search(ix, q, **bad)
    for bad in (q + " since:2025-13-01", q + " -since:2025-01-01", q + " OR until:2025-01-01"):
        with pytest.raises(QueryError):
            search(ix, bad)


def test_ties_break_newest_first_then_by_uuid(small):
    _, ix = small
    r = search(ix, "uuid:0 OR uuid:e", limit=None)  # no text item: every score is 0
    assert len(r.reviews) == 5 and {x.score for x in r.reviews} == {0.0}
    newest_first = sorted(r.reviews, key=lambda x: x.uuid)
    newest_first.sort(key=lambda x: x.received_at, reverse=True)
    assert [x.uuid for x in r.reviews] == [x.uuid for x in newest_first]
    assert r.reviews[0].uuid == SAMPLE_UUID  # received 2025-11-21, the newest


def test_ids_only_is_every_match_in_rank_order(small):
    _, ix = small
    for q in ["罕见词甲乙丙", "段", "Zorblax OR 量子计算", "残差网络 -蛋白质"]:
        full = search(ix, q, limit=None)
        ids = search(ix, q, ids_only=True)
        assert ids.uuids == [x.uuid for x in full.reviews] and ids.total_reviews == len(ids.uuids)


@pytest.mark.parametrize("bad", [
    "", "   ", '"unbalanced', 'topic:"x', "topic:", "topic: x", "OR x", "x OR", "x OR OR y",
    "x NOT", "-x", "- x", "NOT x", "foo:bar", "uuid:xyz", "x -y OR z", "、。", '""',
])
def test_syntax_errors_are_one_line(small, bad):
    _, ix = small
    with pytest.raises(QueryError) as err:
        search(ix, bad)
    assert str(err.value) and "\n" not in str(err.value)


# -- keeping the index in step with the store --------------------------------------

def dump(index_dir: Path) -> dict:
    """Index contents independent of document numbers: stored fields and every
    field's terms per document id."""
    from whoosh import index as windex

    ix = windex.open_dir(str(index_dir), indexname=indexer.INDEX_NAME)
    with ix.searcher() as s:
        reader = s.reader()
        ids = {d: f.get("uuid") or f"{f['refid']}|{f['rtitle']}" for d, f in reader.iter_docs()}
        out = {"stored": sorted(repr(sorted(f.items())) for _, f in reader.iter_docs())}
        postings = set()
        for fieldname in ("kind", "uuid", "g", "w", "path", "refs", "rkey", "rg"):
            for term in reader.lexicon(fieldname):
                m = reader.postings(fieldname, term)
                while m.is_active():
                    value = m.value() if fieldname in ("g", "path") else m.weight()
                    postings.add((fieldname, term, ids[m.id()], value))
                    m.next()
        out["postings"] = sorted(postings)
    return out


def test_incremental_update_equals_rebuild(tmp_path):
    store = Store.open(tmp_path / "a")
    gens = list(generate(6, seed=3))
    for g in gens[:4]:
        add(store, g.data, g.name)
    first = update(store, tmp_path / "ix")
    assert first.indexed == 4
    assert update(store, tmp_path / "ix").indexed == 0  # nothing pending
    # a new version of one review, and new reviews; killed after the first batch
    add(store, variant(9, received="2026-01-01 00:00:00"))
    add(store, variant(9, received="2026-01-02 00:00:00", extra="新版本的文字。"))
    for g in gens[4:]:
        add(store, g.data, g.name)

    def die(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        update(store, tmp_path / "ix", on_progress=die, batch=1)
    assert len(state.pending(store)) == 2
    assert update(store, tmp_path / "ix").indexed == 2
    assert uuids(search(tmp_path / "ix", "新版本的文字")) == {f"{9:032x}"}
    rebuild(store, tmp_path / "full")
    assert dump(tmp_path / "ix") == dump(tmp_path / "full")
    segments = len(list((tmp_path / "ix").glob("*.trm")))  # one terms file per segment
    assert segments > 1  # the incremental index has several segments: plan queries on it
    for q in ["F1值", "的应用 OR 研究", "模型 -的 ResNet", "section:2.1 ref:迁移学习", "段"]:
        assert search(tmp_path / "ix", q, limit=None).to_dict() == search(
            tmp_path / "full", q, limit=None).to_dict(), q
    store.close()


@pytest.mark.slow
def test_parallel_rebuild_equals_serial(tmp_path, corpus, monkeypatch):
    store, serial, _ = corpus
    rebuild(store, tmp_path / "par", procs=2)
    assert len(list((tmp_path / "par").glob("*.trm"))) >= 2  # one segment per worker
    assert dump(tmp_path / "par") == dump(serial)
    # a worker whose pool outgrows its budget starts another segment: same index
    monkeypatch.setattr(indexer, "SEGMENT_POSTINGS", 8_000)
    rebuild(store, tmp_path / "many", procs=2)
    assert len(list((tmp_path / "many").glob("*.trm"))) >= 6
    assert dump(tmp_path / "many") == dump(serial)
    for q in ["深度学习", "F1值", "topic:图像识别 section:2.1", "ref:迁移学习 -GAN"]:
        want = search(serial, q, limit=None).to_dict()
        assert search(tmp_path / "par", q, limit=None).to_dict() == want, q
        assert search(tmp_path / "many", q, limit=None).to_dict() == want, q


def _corrupt_segment(index_dir: Path) -> None:
    seg = max((p for p in index_dir.iterdir() if p.suffix in (".pst", ".trm")), key=lambda p: p.stat().st_size)
    data = bytearray(seg.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = b"\xff" * 64
    seg.write_bytes(bytes(data))


def test_corrupt_or_missing_index_is_rebuilt(tmp_path):
    """A query only reads: a missing or damaged index is an error of its kind; the
    ensure step (index.ready) builds or rebuilds it and says so, and a read that meets
    damage the sizes check could not see is rebuilt and read again."""
    from index.problems import IndexDamaged, IndexMissing
    from index.ready import ensure_index, read

    data = tmp_path / "a"
    store = Store.open(data)
    add(store, SAMPLE.read_bytes())
    ix = data / "index"
    assert update(store, ix).message is None  # first build: nothing to report
    _corrupt_segment(ix)
    report = update(store, ix)
    assert report.rebuilt and "corrupt" in report.message
    assert uuids(search(ix, "残差网络")) == {SAMPLE_UUID}

    for toc in ix.glob("*.toc"):
        toc.unlink()
    with pytest.raises(IndexMissing, match="missing"):
        search(ix, "残差网络")
    told = []
    with ensure_index(data, told.append) as engine:
        result = engine.search("残差网络")
    assert told == ["search index was missing; built it from the archive (1 reviews)"]
    assert engine.notice == told[0] and uuids(result) == {SAMPLE_UUID}

    key = sorted(ix.glob("*.key.col"))[0]  # the review's key, which every search reads
    damaged = bytearray(key.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # (the same size: the ensure step's check passes it)
    key.write_bytes(bytes(damaged))
    told.clear()
    with ensure_index(data, told.append) as engine:
        assert told == []
        with pytest.raises(IndexDamaged, match="corrupt"):
            engine.search("残差网络")
        result = read(engine, lambda: engine.search("残差网络"), told.append)
    assert uuids(result) == {SAMPLE_UUID}
    assert len(told) == 1 and told[0].startswith("search index was corrupt (")
    assert told[0].endswith("rebuilt it from the archive (1 reviews)")
    assert indexer.check(ix) is None
    store.close()


def test_search_does_not_load_jieba(small):
    _, ix = small
    code = (
        "import sys, json\n"
        "from index.search import search\n"
        f"r = search({str(ix)!r}, '罕见词甲乙丙 Zorblax')\n"
        "assert r.total_reviews == 2, r\n"
        "print(json.dumps(['jieba' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [False]


@pytest.mark.slow
def test_killed_index_update_leaves_a_searchable_index(tmp_path):
    """kill -9 in the middle of an index update: the last committed index answers,
    and the next update completes it."""
    store = Store.open(tmp_path / "a")
    for g in generate(3, seed=4):
        add(store, g.data, g.name)
    update(store, tmp_path / "ix")
    for g in generate(40, seed=8):
        add(store, g.data, g.name)
    code = (
        "import os, signal\n"
        "from archive.store import Store\n"
        "from index import indexer\n"
        "store = Store.open(%r)\n"
        "def die(done, total):\n"
        "    if done >= 5: os.kill(os.getpid(), signal.SIGKILL)\n"
        "indexer.update(store, %r, on_progress=die, batch=5)\n"
    ) % (str(tmp_path / "a"), str(tmp_path / "ix"))
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == -9, p.stderr
    assert 0 < len(state.pending(store)) < 40  # some, not all, were indexed
    assert search(tmp_path / "ix", "的").total_reviews == 43 - len(state.pending(store))
    assert indexer.check(tmp_path / "ix") is None
    update(store, tmp_path / "ix")
    assert search(tmp_path / "ix", "的").total_reviews == 43
    store.close()


def test_index_writers_wait_for_each_other(tmp_path):
    """An ingest finding the index locked by another indexer says it waits, then
    indexes; nothing it wrote is lost and nothing is rebuilt."""
    import fcntl

    data = tmp_path / "data"
    drop = tmp_path / "drop"
    drop.mkdir()
    gens = list(generate(4, seed=21))
    for g in gens[:2]:
        (drop / g.name).write_bytes(g.data)
    exe = str(Path(sys.executable).with_name("reviews"))
    env = dict(os.environ, REVIEWS_DATA=str(data))
    assert subprocess.run([exe, "ingest", "--quiet", str(drop)], env=env).returncode == 0
    for g in gens[2:]:
        (drop / g.name).write_bytes(g.data)
    lock = os.open(data / "index.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another indexer holds the lock
    p = subprocess.Popen([exe, "ingest", "--quiet", str(drop)], env=env, stderr=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stderr.readline()  # blocks until the ingest reaches the lock
    assert line == "waiting for another indexing run to finish…\n"
    assert p.poll() is None  # still waiting
    os.close(lock)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0 and "rebuilt" not in err and "corrupt" not in err, err
    with Store.open(data) as store:
        assert state.pending(store) == [] and store.count() == 4
    assert indexer.check(data / "index") is None
    assert search(data / "index", "的").total_reviews == 4


def test_stale_building_folders_are_removed_live_ones_kept(tmp_path):
    store = Store.open(tmp_path / "a")
    add(store, SAMPLE.read_bytes())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = tmp_path / f"index.building-{gone}"
        old = tmp_path / f"index.old-{gone}"
        live = tmp_path / f"index.building-{sleeper.pid}"
        for d in (dead, old, live):
            d.mkdir()
            (d / "junk.seg").write_bytes(b"x" * 1000)
        rebuild(store, tmp_path / "index")
        assert not dead.exists() and not old.exists() and live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    store.close()


def test_files_outside_the_manifest_are_not_corruption(tmp_path):
    """A stopped writer's leftovers (its temporary folder, an uncommitted segment file)
    do not make the index look corrupt, so they never trigger a rebuild."""
    store = Store.open(tmp_path / "a")
    add(store, SAMPLE.read_bytes())
    ix = tmp_path / "ix"
    update(store, ix)
    (ix / "MAIN.tmp").mkdir()
    (ix / "MAIN.tmp" / "x.ctmp").write_bytes(b"partial")
    (ix / "MAIN_leftover0123456.pst").write_bytes(b"partial")
    assert indexer.check(ix, deep=True) is None
    add(store, variant(5))
    report = update(store, ix)
    assert not report.rebuilt and report.indexed == 1
    assert uuids(search(ix, "残差网络")) == {SAMPLE_UUID, f"{5:032x}"}
    store.close()


def test_snippet_of_a_huge_section_maps_the_match_back(tmp_path):
    """A 2 MB section whose folding changes lengths before the match (…, ＡＢ, ß, Ⅻ):
    the snippet shows the match as written, marked, without mapping the whole section."""
    from index.search import _snippet
    from index.literal import Literal

    written = ("前文…ＡＢß Ⅻ。" * 150_000) + "找到目标词语Straße就在这里" + ("后文……" * 1000)
    folded = fold(written)
    lit = Literal("目标词语strasse")
    spans = lit.spans(folded)
    assert len(spans) == 1
    pieces = _snippet(written, folded, spans)
    marked = [t for t, m in pieces if m]
    assert marked == ["目标词语Straße"]
    text = "".join(t for t, _ in pieces)
    assert text.startswith("…") and text.endswith("…") and len(text) < 400


def _killed_worker(*args):  # module level: the process pool pickles what it runs
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.slow
def test_a_dying_index_worker_fails_fast(tmp_path, corpus, monkeypatch):
    """A worker killed in the middle of a parallel build (as by the OOM killer): the
    build ends at once with one line, and the index in place is untouched."""
    store, serial, _ = corpus
    rebuild(store, tmp_path / "ix", procs=1)
    before = dump(tmp_path / "ix")

    monkeypatch.setattr(indexer, "_segment_worker", _killed_worker)
    with pytest.raises(IndexProblem, match="worker process died"):
        rebuild(store, tmp_path / "ix", procs=2)
    assert dump(tmp_path / "ix") == before
    assert not list(tmp_path.glob("ix.building-*"))


def test_order_is_rank_then_newest_then_uuid():
    """index.rank.order equals the definition: rank key descending, received
    descending, UUID ascending; so does index.rank.merged of two halves, each ordered."""
    import random

    from index.rank import merged, newest_first, order, rank_key

    rng = random.Random(4)
    for spread in (0, 3, 40, 10**6):
        keys, scored = {}, {}
        for d in range(3000):
            keys[d] = (f"2025-0{rng.randint(1, 3)}-0{rng.randint(1, 2)} 10:00:00",
                       "%032x" % rng.getrandbits(128), 100, "0")
            scored[d] = rng.randint(0, spread) / 7
        want = sorted(scored, key=lambda d: (-rank_key(scored[d]), [-ord(c) for c in keys[d][0]],
                                             keys[d][1]))
        assert order(scored, keys) == want
        # two halves, each ordered, merged (index.halves): the same order
        half = set(rng.sample(sorted(scored), 1400))
        a = {d: s for d, s in scored.items() if d in half}
        b = {d: s for d, s in scored.items() if d not in half}
        def rows(docs, by_date=False):
            return [(0 if by_date else rank_key(scored[d]), *keys[d][:2], d) for d in docs]

        assert [r[3] for r in merged(rows(order(a, keys)), rows(order(b, keys)))] == want
        by_date = newest_first(scored, keys)
        assert [r[3] for r in merged(rows(newest_first(a, keys), True),
                                     rows(newest_first(b, keys), True))] == by_date
        assert merged([], rows(order(b, keys))) == rows(order(b, keys))


def test_folding_can_make_or_break_a_chinese_run(tmp_path):
    """A run of CJK characters is checked on the text as written, and on its fold only
    where folding could change the answer (spec.analysis.cjk_sources): Kangxi radicals
    fold into the ideographs a query names; a composing voiced mark turns a kana the
    query names into another. Each answer equals the oracle over folded text."""
    store = Store.open(tmp_path)
    extras = {1: "⼈⼯智慧之光照亮前路。", 2: "まなぶか\u3099とぶかの話。", 3: "人工智慧之光照亮前路。",
              4: "まなぶかとぶかの話。", 5: "㊀件事。"}
    for n, extra in extras.items():
        add(store, variant(n, extra=extra))
    rebuild(store, tmp_path / "index")
    records = {rec.uuid: texts(rec) for _, rec in store.iter_current()}
    want = {"人工智慧之光": {1, 3}, "まなぶか": {4}, "まなぶが": {2}, "一件事": {5}, "とぶかの話": {2, 4}}
    for q, ns in want.items():
        got = set(search(tmp_path / "index", q, ids_only=True).uuids)
        assert got == {f"{n:032x}" for n in ns}, q
        assert got == {u for u, ts in records.items() if any(oracle(q).search(t) for t in ts)}, q
    store.close()
