"""The synthetic corpus generator (bench/corpus.py): determinism, quirks, truth, encodings."""
from __future__ import annotations

import collections
import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archive.references import parse_reference_line, ref_id
from bench import corpus_words as W
from bench.corpus import (RECORD_QUIRKS, Quirks, _Words, generate, redeliver, reference_pool,
                          write_corpus)

ROOT = Path(__file__).resolve().parent.parent
BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe"}


def text_of(g) -> str:
    data = g.data
    bom = BOMS.get(g.truth.encoding, b"")
    if bom and data.startswith(bom):
        data = data[len(bom):]
    return data.decode(g.truth.encoding).replace("\r\n", "\n")


@pytest.fixture(scope="module")
def default400():
    return list(generate(400, seed=11))


def test_same_seed_gives_identical_bytes_and_start_is_an_offset():
    a = list(generate(30, seed=5))
    b = list(generate(30, seed=5))
    assert [(g.name, g.data) for g in a] == [(g.name, g.data) for g in b]
    tail = list(generate(10, seed=5, start=20))
    assert [(g.name, g.data) for g in tail] == [(g.name, g.data) for g in a[20:]]
    assert [g.name[:7] for g in tail] == [f"{i:06d}_" for i in range(20, 30)]


def test_different_seed_gives_different_records():
    a = list(generate(20, seed=5))
    b = list(generate(20, seed=6))
    assert all(x.data != y.data for x, y in zip(a, b))
    assert len({g.truth.uuid for g in a + b}) == 40


def test_cli_in_another_process_writes_the_same_bytes(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="12345")  # str hashing must not matter
    out = tmp_path / "c"
    subprocess.run([sys.executable, "-m", "bench.corpus", "6", str(out), "--seed", "3",
                    "--truth", "--workers", "1"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    expected = list(generate(6, seed=3))
    assert sorted(p.name for p in out.glob("*.txt")) == sorted(g.name for g in expected)
    for g in expected:
        assert (out / g.name).read_bytes() == g.data
    lines = (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(ln)["uuid"] for ln in lines] == [g.truth.uuid for g in expected]


def test_write_corpus_with_workers_matches_generate(tmp_path):
    paths = write_corpus(tmp_path, 45, seed=4, workers=2, chunk=10)
    expected = list(generate(45, seed=4))
    assert [p.name for p in paths] == [g.name for g in expected]
    assert all(p.read_bytes() == g.data for p, g in zip(paths, expected))


def test_quirk_rates_are_roughly_respected(default400):
    q = Quirks()
    n = len(default400)
    counts = collections.Counter(name for g in default400 for name in g.truth.quirks)
    for name in RECORD_QUIRKS:
        p = getattr(q, name)
        if name == "bom":  # only UTF-8 records get a chosen BOM
            p *= 1 - q.utf16 - q.gb18030
        sd = math.sqrt(n * p * (1 - p))
        assert abs(counts[name] - n * p) <= 4 * sd + 2, (name, counts[name], n * p)


def test_clean_corpus_has_no_quirks_or_flags():
    for g in generate(60, seed=2, quirks=Quirks.none()):
        t = g.truth
        assert t.flags == set() and t.quirks == set()
        assert t.encoding == "utf-8" and not g.data.startswith(BOMS["utf-8"])
        assert b"\r" not in g.data
        for line, (n, title, year, scope) in zip(t.reference_lines, t.references):
            assert line == f"[{n}] {title}. {year}." and scope == ""


# Per quirk: the flag codes it must give (first) and may give besides.
QUIRK_FLAGS = {
    "crlf": ({"crlf"}, set()),
    "bom": ({"bom"}, set()),
    "utf16": ({"encoding", "bom"}, set()),
    "gb18030": ({"encoding"}, set()),
    "fullwidth_colon": ({"fullwidth-colon"}, set()),
    "uuid_dashes": (set(), set()),
    "truncated": ({"truncated"}, {"missing-chapter"}),
    "placeholder_table": ({"placeholder-table"}, set()),
    "local_references": ({"local-references"}, set()),
    "missing_chapter": ({"missing-chapter"}, set()),
    "extra_chapter": ({"extra-chapter"}, set()),
    "heading_mismatch": ({"heading-level-mismatch"}, set()),
    "dangling": ({"dangling-citation"}, set()),
    "missing_references": ({"missing-references", "dangling-citation"}, set()),
    "missing_end": ({"missing-end"}, set()),
    "think_not_empty": ({"think-not-empty"}, set()),
    "no_year": ({"reference-no-year"}, set()),
    "empty_section": ({"empty-section"}, set()),
    "missing_outline": ({"missing-outline"}, set()),
    "future_reference": ({"reference-after-received"}, set()),
    "duplicate_work": ({"reference-duplicate", "reference-uncited"}, {"reference-no-year"}),
}


#: What any record may show besides: a chapter's numbering restarting at [^1] leaves the
#: last entries of a long list uncited now and then, whatever the quirk.
ANY_RECORD = {"reference-uncited"}


def test_every_record_quirk_has_a_flag_expectation():
    assert set(QUIRK_FLAGS) == set(RECORD_QUIRKS)


@pytest.mark.parametrize("name", sorted(QUIRK_FLAGS))
def test_each_quirk_shows_in_bytes_and_flags(name):
    must, may = QUIRK_FLAGS[name]
    for g in generate(25, seed=9, quirks=Quirks.only(**{name: 1.0})):
        t = g.truth
        assert t.quirks == {name}
        codes = {c for c, _ in t.flags}
        assert must <= codes <= must | may | ANY_RECORD, (g.name, t.flags)
        where = {c: w for c, w in t.flags}
        text = text_of(g)
        outline_numbers = {n for n, _ in t.outline}
        content_numbers = {n for n, _ in t.sections}
        if name == "crlf":
            assert b"\r\n" in g.data and b"\n" not in g.data.replace(b"\r\n", b"")
        elif name == "bom":
            assert g.data.startswith(BOMS["utf-8"])
        elif name == "utf16":
            assert g.data.startswith(b"\xff\xfe") and t.encoding == "utf-16-le"
        elif name == "gb18030":
            assert t.encoding == "gb18030"
            with pytest.raises(UnicodeDecodeError):
                g.data.decode("utf-8")
        elif name == "fullwidth_colon":
            assert f"接收时间：{t.received_at}" in text and f"UUID：{t.uuid}" in text
        elif name == "uuid_dashes":
            u = t.uuid
            assert f"UUID: {u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}\n" in text
        elif name == "truncated":
            body = t.texts[where["truncated"]]
            assert body and body[-1] not in "。；.|" and not body[-1].isspace()
            missing = {w for c, w in t.flags if c == "missing-chapter"}
            assert missing == outline_numbers - content_numbers
            assert all(m.split(".")[0] == where["truncated"].split(".")[0] for m in missing)
        elif name == "placeholder_table":
            assert "| 1 | 2 | 3 |" in t.texts[where["placeholder-table"]]
        elif name == "local_references":
            ch = where["local-references"]
            local = [r for r in t.references if r[3] == ch]
            assert local and "#### 参考文献\n1. " in text
            assert all(c["scope"] == ch for c in t.citations if c["section"].split(".")[0] == ch)
        elif name in ("missing_chapter", "extra_chapter"):
            missing = {w for c, w in t.flags if c == "missing-chapter"}
            extra = {w for c, w in t.flags if c == "extra-chapter"}
            assert missing == outline_numbers - content_numbers
            assert extra == content_numbers - outline_numbers
            assert (missing if name == "missing_chapter" else extra)
        elif name == "heading_mismatch":
            assert "\n### 1 引言\n" in text and "\n## 1. 引言\n" in text
        elif name == "dangling":
            dangling = [c for c in t.citations if c["ref_title"] is None]
            assert len(dangling) == 1 and dangling[0]["n"] > len(t.references)
            assert ("dangling-citation", dangling[0]["section"]) in t.flags
        elif name == "missing_references":
            assert "参考文献" not in text and t.references == []
            assert all(c["ref_title"] is None for c in t.citations)
        elif name == "missing_end":
            assert "对话结束" not in text
        elif name == "think_not_empty":
            assert re.search(r"<think>\n[^\n]+\n</think>\n\n#+ " + where["think-not-empty"] + " ",
                             text)
        elif name == "no_year":
            assert any(r[2] is None for r in t.references)
        elif name == "empty_section":
            assert t.texts[where["empty-section"]] == ""
        elif name == "missing_outline":
            assert "大纲" not in text
    if name != "heading_mismatch":  # without the quirk the content uses the outline's levels
        assert "\n## 1 引言\n" in text


def test_truth_matches_the_text(default400):
    for g in default400[:150]:
        t = g.truth
        text = text_of(g)
        assert text.startswith("回调数据记录\n") and f"{t.topic}\n" in text
        assert t.uuid in text.replace("-", "") and t.received_at in text
        for number, title in t.sections:
            assert re.search(rf"^#+ {re.escape(number)} {re.escape(title)}$", text, re.M)
        for path, body in t.texts.items():
            assert body in text
        global_refs = [r for r in t.references if not r[3]]
        for c in t.citations:
            assert c["marker"] in c["sentence"] and c["sentence"] in t.texts[c["section"]]
            refs = global_refs if not c["scope"] else [r for r in t.references if r[3] == c["scope"]]
            if c["ref_title"] is None:
                assert not 1 <= c["n"] <= len(refs)
            else:
                assert refs[c["n"] - 1][1] == c["ref_title"]
        assert {("dangling-citation", c["section"]) for c in t.citations
                if c["ref_title"] is None} <= t.flags


def test_records_decode_in_their_declared_encoding(default400):
    encodings = collections.Counter()
    for g in default400:
        encodings[g.truth.encoding] += 1
        text = text_of(g)
        assert text.startswith("回调数据记录") and g.truth.topic in text
        if g.truth.encoding != "utf-8":
            with pytest.raises(UnicodeDecodeError):
                g.data.decode("utf-8")
    assert set(encodings) == {"utf-8", "utf-16-le", "gb18030"}


def test_record_sizes_look_like_the_sample():
    sizes = sorted(len(g.data) for g in generate(200, seed=3, quirks=Quirks.none()))
    assert 18_000 <= sizes[0] and sizes[-1] <= 45_000
    assert 22_000 <= sizes[len(sizes) // 2] <= 35_000


def test_reference_pool_titles_are_distinct_and_mixed():
    pool = reference_pool()
    titles = [t for entries in pool.values() for t, _ in entries]
    assert len({ref_id(t) for t in titles}) == len(titles)
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", t)) for t in titles) > len(titles) / 2
    assert sum(not re.search(r"[\u4e00-\u9fff]", t) for t in titles) > 50


def test_reference_variants_share_ref_id_with_the_canonical_title():
    kinds = collections.Counter()
    for g in generate(150, seed=8, quirks=Quirks.only(ref_variants=1.0)):
        for line, (n, canonical, year, scope) in zip(g.truth.reference_lines, g.truth.references):
            parsed = parse_reference_line(line)
            assert parsed is not None, line
            got_n, title, got_year = parsed
            assert (got_n, got_year) == (n, year)
            assert ref_id(title) == ref_id(canonical), (line, canonical)
            if "发布时间" in title:
                kinds["published"] += 1
            elif ".pdf" in title:
                kinds["pdf"] += 1
            elif title != canonical:
                kinds["width"] += 1
            else:
                kinds["same"] += 1
    assert min(kinds["published"], kinds["pdf"], kinds["width"]) > 100, kinds


def test_the_same_work_is_cited_by_many_reviews_under_different_numbers(default400):
    numbers = collections.defaultdict(set)
    reviews = collections.Counter()
    for g in default400:
        for n, title, _, scope in g.truth.references:
            if not scope:
                numbers[title].add(n)
                reviews[title] += 1
    popular = [t for t, k in reviews.items() if k >= 5]
    assert len(popular) >= 20
    assert all(len(numbers[t]) >= 2 for t in popular[:20])


def test_text_has_latin_terms_numbers_and_rare_names(default400):
    text = "\n".join(text_of(g) for g in default400[:100])
    for term in ("ResNet", "F1-Score", "CRISPR-Cas9", "PM2.5", "YOLOv5", "BERT", "LiDAR"):
        assert term in text, term
    assert re.search(r"第\d\.\d\.\d节", text)
    names = {_Words(random.Random(k), "ai").name() for k in range(300)}
    found = [nm for nm in names if nm in text]
    assert found


def test_made_up_names_are_not_in_jiebas_dictionary():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    w = _Words(random.Random(1), "medicine")
    names = {w.name() for _ in range(300)} | {w.place() for _ in range(100)}
    assert not [nm for nm in names if nm in jieba.dt.FREQ]
    assert all(len(nm) == 3 for nm in names)


def test_redeliver_keeps_uuid_with_later_time_and_new_content():
    g = next(generate(1, seed=4, start=7))
    r = redeliver(g, seed=1)
    assert r.truth.uuid == g.truth.uuid and r.truth.topic == g.truth.topic
    assert r.truth.received_at > g.truth.received_at
    assert r.data != g.data and r.name.startswith("000007_") and r.name != g.name
    assert redeliver(g, seed=1).data == r.data
    assert redeliver(g, seed=2).data != r.data


def test_vocabulary_is_gb18030_encodable_without_symbols_outside_the_bmp():
    strings = [s for lists in W.FIELDS.values() for lst in lists.values() for s in lst]
    strings += W.SENTENCES + W.CLAUSES + W.REF_TITLES + list(W.SURNAMES + W.GIVEN)
    for s in strings:
        s.encode("gb18030")
        assert all(ord(ch) < 0x10000 for ch in s), s
