"""The parser against the real sample, every quirk of generated text, and every refusal."""
from __future__ import annotations

import codecs
import json
import re

import pytest

from archive.errors import RefusedInput
from archive.parser import parse
from archive.references import normalize_title, ref_id

UUID = "e051ad472c3d4412ba23cc0b05bfdbab"


def one(data: bytes, source="t.txt"):
    [p] = parse(data, source)
    return p.record


def codes(rec):
    return {(f.code, f.where) for f in rec.flags}


def refused(data: bytes, source="bad.txt") -> str:
    with pytest.raises(RefusedInput) as e:
        parse(data, source)
    assert str(e.value).startswith(f"{source}: ")
    return e.value.reason


# -- the real sample -------------------------------------------------------------------------
def test_sample_header_and_abstract(sample_bytes):
    r = one(sample_bytes)
    assert r.uuid == UUID
    assert r.received_at == "2025-11-21 19:20:13"
    assert r.topic == "深度学习在图像识别领域的最新进展"
    assert r.title == r.topic
    assert r.language == "zh" and r.encoding == "utf-8"
    assert r.abstract.startswith("深度学习在图像识别领域取得显著突破")
    assert r.abstract.endswith("可解释性不足与计算资源消耗问题仍待进一步优化[6]。")
    assert r.keywords == ["深度学习", "图像识别", "卷积神经网络", "迁移学习", "模型优化"]


def test_sample_structure(sample_bytes):
    r = one(sample_bytes)
    assert [c.number for c in r.chapters()] == [str(i) for i in range(1, 10)]
    assert r.section("3.1.1").title == "肺癌筛查中的深度学习模型"
    assert r.section("2").title == "技术发展与方法创新"
    assert r.section("9.2").depth == 2 and r.section("2.1.1").depth == 3
    # outline sections the content never reached
    assert r.section("8.1.2") is None and r.section("7.3") is None
    assert len(r.outline) == 1 + 9 + sum(1 for o in r.outline if o.number.count(".") >= 1)
    assert "<think>" not in "".join(s.body for s in r.sections)
    # unnumbered table captions stay in the body of their section
    assert "##### 表X 表格：模型压缩技术比较" in r.section("7.1.1").body


def test_sample_references(sample_bytes):
    r = one(sample_bytes)
    glob = r.global_references()
    assert [x.n for x in glob] == list(range(1, 16))
    assert glob[0].title == "基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析"
    assert glob[0].year == 2025 and glob[10].year is None
    assert glob[12].raw.startswith("[13] 图像识别算法评价指标") and glob[12].year == 2023
    # [11] .pdf.md and [12] .pdf(1).md are one work
    assert glob[10].ref_id == glob[11].ref_id
    local = [x for x in r.references if x.scope == "7"]
    assert [x.n for x in local] == list(range(1, 11))
    assert local[0].title == "Smith J, et al"


def test_sample_citations(sample_bytes):
    r = one(sample_bytes)
    by_section = {}
    for c in r.citations:
        by_section.setdefault(c.section, []).append(c.marker)
    assert by_section["abstract"] == ["[1]", "[2]", "[1]", "[7]", "[6]"]
    assert by_section["1.1"] == ["[^1]", "[^2]"]
    assert by_section["4.1.2"] == ["[^13]"] * 3
    assert by_section["4.2.1"] == ["[^14]"] * 4
    assert by_section["7.2.1"] == ["[^1]", "[^2]", "[^1]", "[^2]", "[^3]", "[^4]"]
    assert by_section["9.2"] == ["[^4]", "[^5]", "[^6]", "[^7]"]
    assert len(r.citations) == 81
    assert not [c for c in r.citations if c.dangling]
    glob = {x.n: x.ref_id for x in r.global_references()}
    local = {x.n: x.ref_id for x in r.references if x.scope == "7"}
    for c in r.citations:
        expected = local if c.section.startswith("7.") else glob
        assert c.ref_id == expected[c.n], c
        assert c.scope == ("7" if c.section.startswith("7.") else "")
    first = next(c for c in r.citations if c.section == "3.1.1")
    assert first.sentence == (
        "例如，Google Health团队开发的深度学习系统在独立测试中达到了与专业放射科医师相当的诊断水平[^1]。"
    )
    run = [c for c in r.citations if c.section == "abstract" and c.n == 7][0]
    assert run.sentence.endswith("展现良好应用前景[1][7]。")


def test_sample_flags(sample_bytes):
    r = one(sample_bytes)
    assert ("truncated", "8.1.1") in codes(r)
    assert ("placeholder-table", "7.2.1") in codes(r)
    assert ("placeholder-table", "7.1.1") not in codes(r)  # a real table
    assert ("local-references", "7") in codes(r)
    assert ("heading-level-mismatch", "") in codes(r)
    missing = sorted(w for c, w in codes(r) if c == "missing-chapter")
    assert missing == ["7.2.2", "7.3", "7.3.1", "7.3.2", "8.1.2", "8.2", "8.2.1", "8.2.2"]
    assert {f.detail for f in r.flags if f.code == "reference-no-year"} == {"[11]", "[12]"}
    assert not {c for c, _ in codes(r)} & {"crlf", "bom", "encoding", "missing-end", "missing-references"}
    lines = {f.describe() for f in r.flags}
    assert "8.1.1 truncated" in lines and "7.2.1 placeholder table" in lines


def test_raw_is_the_file(sample_bytes):
    [p] = parse(sample_bytes, "s")
    assert p.raw == sample_bytes


# -- quirks ------------------------------------------------------------------------------------
def test_crlf_bom_and_fullwidth_colons(sample_text):
    text = sample_text.replace("接收时间: ", "接收时间：").replace("UUID: ", "UUID：").replace("内容:", "内容：")
    data = codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8")
    r = one(data)
    assert {("crlf", ""), ("bom", ""), ("fullwidth-colon", "header")} <= codes(r)
    assert r.uuid == UUID and len(r.chapters()) == 9 and len(r.citations) == 81
    assert "\r" not in r.section("1.1").body


@pytest.mark.parametrize("encoding,name", [("utf-16", "utf-16-le"), ("gb18030", "gb18030"),
                                           ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be")])
def test_other_encodings(sample_text, encoding, name):
    """utf-16 writes a byte order mark; utf-16-le/-be (no mark) are recognised by where
    their NUL bytes stand and by the record's header words."""
    data = sample_text.encode(encoding)
    [p] = parse(data, "e.txt")
    assert p.record.encoding == name
    assert ("encoding", "") in codes(p.record)
    assert p.record.topic == "深度学习在图像识别领域的最新进展"
    assert len(p.record.citations) == 81 and p.raw == data


def test_gbk_subset(sample_text):
    data = sample_text.replace("•", "").encode("gbk")
    assert one(data).encoding == "gb18030"


def test_think_with_text_is_removed_and_flagged(sample_text):
    text = sample_text.replace("<think>\n\n</think>\n\n### 2 ", "<think>先想一想结构。</think>\n\n### 2 ", 1)
    r = one(text.encode())
    assert "think-not-empty" in {c for c, _ in codes(r)}
    assert "先想一想" not in r.section("1.3").body + r.section("2").body


def test_unclosed_think_does_not_swallow_content(sample_text):
    text = sample_text.replace("<think>\n\n</think>\n\n### 9 ", "<think>\n\n### 9 ", 1)
    r = one(text.encode())
    assert r.section("9.2") is not None
    assert "unclosed-think" in {c for c, _ in codes(r)}


def test_outline_and_content_disagree(sample_text):
    text = sample_text.replace("## 9. 结论与展望", "## 9. 结论与展望\n## 10. 附录", 1)
    text = text.replace("### 9 结论与展望", "### 9 结论与展望\n\n#### 9.3 新增的小节\n\n新增内容。", 1)
    text = text.replace("#### 9.3 新增的小节\n\n新增内容。", "")  # keep 9.3 out again
    text = text.replace("\n# 参考文献:", "\n#### 9.4 额外小节\n\n额外内容。\n\n# 参考文献:", 1)
    r = one(text.encode())
    assert ("missing-chapter", "10") in codes(r)
    assert ("extra-chapter", "9.4") in codes(r)
    assert r.section("9.4").body == "额外内容。"


def test_dangling_and_runs(sample_text):
    text = sample_text.replace("领域自适应和元学习等方法[^15]。", "领域自适应和元学习等方法[^3][^4][^16]。", 1)
    r = one(text.encode())
    run = [c for c in r.citations if c.section == "4.2.2" and c.marker in ("[^3]", "[^4]", "[^16]")]
    assert [c.marker for c in run] == ["[^3]", "[^4]", "[^16]"]
    assert [c.dangling for c in run] == [False, False, True]
    assert len({c.sentence for c in run}) == 1
    assert "[^16] dangling in 4.2.2" in {f.describe() for f in r.flags}


def test_missing_reference_list_and_end(sample_text):
    text = sample_text[: sample_text.index("# 参考文献:")]
    r = one(text.encode())
    assert {("missing-references", "references"), ("missing-end", "")} <= codes(r)
    assert r.global_references() == []
    # the chapter-7 list still resolves; everything else dangles
    assert all(c.dangling for c in r.citations if not c.section.startswith("7."))
    assert not any(c.dangling for c in r.citations if c.section.startswith("7."))


def test_heading_levels_follow_numbers_not_hashes(sample_text):
    text = sample_text.replace("### 3 应用场景", "## 3 应用场景").replace("#### 3.1 医疗", "### 3.1 医疗")
    r = one(text.encode())
    assert r.section("3").depth == 1 and r.section("3.1").depth == 2 and r.section("3.1.1").depth == 3


def test_reference_identity_variants():
    a = "深度学习中准确率、精确率的解释说明（发布时间：2024-03-20 19:48:25）"
    b = "深度学习中准确率，精确率的解释说明"
    c = "深度学习中准确率、精确率的解释说明.pdf(1).md"
    d = "ＤＥＥＰ Learning：a  Survey"
    assert ref_id(a) == ref_id(b) == ref_id(c)
    assert ref_id(d) == ref_id("deep learning a survey")
    assert normalize_title(c) == "深度学习中准确率精确率的解释说明"
    assert ref_id("Deep learning") != ref_id("Deep learning 2")


def test_no_outline_is_tolerated(sample_text):
    a = sample_text.index("大纲:")
    b = sample_text.index("内容:")
    r = one((sample_text[:a] + sample_text[b:]).encode())
    assert ("missing-outline", "") in codes(r) and len(r.chapters()) == 9


def test_dashed_uppercase_uuid_is_normalised(sample_text):
    text = sample_text.replace(UUID, "E051AD47-2C3D-4412-BA23-CC0B05BFDBAB")
    assert one(text.encode()).uuid == UUID


# -- refusals ------------------------------------------------------------------------------------
def test_refuse_empty_and_whitespace():
    assert refused(b"") == "empty file"
    assert refused(b" \n\r\n\t ") == "file holds only whitespace"


def test_refuse_binary():
    assert refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == "binary data (NUL byte at offset 8), not a text record"
    assert refused("just some words, no record".encode("utf-16-le")) == (
        "binary data (NUL byte at offset 1), not a text record (it may be UTF-16 without a byte "
        "order mark, but it does not read as a record)")


def test_refuse_html():
    assert refused(b"<!DOCTYPE html><html><head><title>x</title></head></html>") == "an HTML page, not a callback record"


def test_refuse_json():
    payload = json.dumps({"uuid": UUID, "content": "深度学习"}, ensure_ascii=False).encode()
    assert refused(payload).startswith("a JSON payload, not a callback record")


def test_refuse_text_without_header():
    assert refused("这是一段普通的文本，不是回调记录。\n".encode()) == (
        "not a callback record: no 接收时间 / 主题 / UUID header"
    )


def test_refuse_missing_uuid(sample_text):
    text = re.sub(r"UUID: \w+\n", "", sample_text)
    assert refused(text.encode()) == "no UUID in the record header"


def test_refuse_malformed_uuid_says_what_was_found(sample_text):
    text = sample_text.replace(UUID, "e051ad47-not-a-uuid")
    assert refused(text.encode()) == "malformed UUID 'e051ad47-not-a-uuid' (expected 32 hex digits)"


def test_refuse_header_without_content(sample_text):
    text = sample_text[: sample_text.index("内容:")]
    assert refused(text.encode()) == "the header has no 内容: section (no review content)"


def test_refuse_utf8_cut_mid_character(sample_bytes):
    data = sample_bytes[:-1] + "测".encode()[:2]
    assert refused(data) == f"UTF-8 text cut mid-character at byte {len(data) - 2} of {len(data)} (the file looks truncated)"


def test_refuse_bad_date(sample_text):
    text = sample_text.replace("2025-11-21 19:20:13", "yesterday")
    assert refused(text.encode()) == "malformed 接收时间 'yesterday' (expected YYYY-MM-DD HH:MM:SS)"


def test_two_records_in_one_file_are_split(sample_bytes, sample_text):
    other = sample_text.replace(UUID, "0" * 31 + "1").replace("2025-11-21", "2025-11-22")
    data = sample_bytes + b"\n" + other.encode()
    parts = parse(data, "two.txt")
    assert [p.record.uuid for p in parts] == [UUID, "0" * 31 + "1"]
    assert b"".join(p.raw for p in parts) == data
    assert all(("split-record", "") in codes(p.record) for p in parts)
    assert all(len(p.record.citations) == 81 for p in parts)


def test_two_gb18030_records_split_on_byte_boundaries(sample_text):
    other = sample_text.replace(UUID, "f" * 32)
    data = (sample_text + other).encode("gb18030")
    parts = parse(data, "two.txt")
    assert b"".join(p.raw for p in parts) == data
    assert parts[1].raw.decode("gb18030") == other


# -- size -----------------------------------------------------------------------------------------
def test_huge_record_and_long_line(sample_text):
    para = sample_text[sample_text.index("尽管深度学习在图像识别中取得了显著成就"):].split("\n")[0]
    chapters = "".join(f"### {i} 第{i}章\n\n#### {i}.1 小节\n\n" + (para + "\n\n") * 24 for i in range(10, 999))
    text = sample_text.replace("# 参考文献:", chapters + "# 参考文献:", 1)
    data = text.encode()
    assert len(data) > 20_000_000
    r = one(data)
    assert r.section("998.1") is not None
    assert len(r.sections) == len(one(sample_text.encode()).sections) + 989 * 2
    assert sum(1 for c in r.citations if c.section == "500.1") == 4 * 24
    line = "深度学习模型" * 170_000 + "[^1]。"
    r2 = one(sample_text.replace("图像识别技术是计算机视觉领域", line + "图像识别技术是计算机视觉领域", 1).encode())
    long_cite = [c for c in r2.citations if c.section == "1.1"][0]
    assert len(long_cite.sentence) <= 1000  # the sentence window is bounded


def test_a_chapter_list_covers_its_chapter_only_up_to_the_list(sample_text):
    """Chapter 7 carries its own list (in 7.2.1, then its 文献[^1]… line). A section of
    chapter 7 after it cites [^12]: the main list's [12], not a dangling local [12]."""
    after = "##### 文献[^1][^2][^3][^4]\n"
    assert sample_text.count(after) == 1
    text = sample_text.replace(after, after + "\n#### 7.3 跨学科融合与创新\n\n跨学科研究正在兴起[^12]。\n", 1)
    r = one(text.encode("utf-8"))
    late = [c for c in r.citations if c.section == "7.3"]
    main_12 = next(x for x in r.references if not x.scope and x.n == 12)
    assert [(c.marker, c.scope, c.ref_id) for c in late] == [("[^12]", "", main_12.ref_id)]
    assert not any(f.code == "dangling-citation" and f.where == "7.3" for f in r.flags)
    # before the list, chapter 7 still cites its own list (the sample's resolution)
    local = {x.n: x.ref_id for x in r.references if x.scope == "7"}
    early = [c for c in r.citations if c.section.startswith("7.") and c.section != "7.3"]
    assert early and all(c.scope == "7" and c.ref_id == local.get(c.n) for c in early)


def test_every_flag_code_is_defined_once_and_documented():
    """The codes the archive's code can emit (every Flag("...") in it) are the codes of
    FLAG_KINDS, each with a label and a severity, and DESIGN.md's table lists them all."""
    import re
    from pathlib import Path

    from archive.model import DEFECT, FLAG_KINDS, NOTE

    root = Path(__file__).resolve().parent.parent
    emitted = {m for f in (root / "archive").glob("*.py")
               for m in re.findall(r'Flag\("([a-z-]+)"', f.read_text("utf-8"))}
    assert emitted == set(FLAG_KINDS)
    design = (root / "docs" / "DESIGN.md").read_text("utf-8")
    for code, kind in FLAG_KINDS.items():
        assert f"| `{code}` |" in design, code
        assert kind.severity in (DEFECT, NOTE) and kind.label and kind.meaning, code


def test_an_unknown_section_of_a_huge_review_names_a_few_chapters(sample_text):
    from archive.errors import ArchiveError
    from shell.report import section_key

    para = "正文。" * 10
    chapters = "".join(f"### {i} 第{i}章\n\n{para}\n\n" for i in range(10, 200))
    rec = one(sample_text.replace("# 参考文献:", chapters + "# 参考文献:", 1).encode())
    with pytest.raises(ArchiveError) as err:
        section_key(rec, "5000")
    msg = str(err.value)
    assert "1, 2, 3" in msg and "198" not in msg and f"({len(rec.chapters())} in all)" in msg
    assert len(msg) < 300
