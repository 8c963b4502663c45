"""Reference exports read back by real parsers: BibTeX by bibtexparser 2 (and the braces
counted as BibTeX counts them), RIS by rispy, CSL-JSON validated against the official
schema. Every title, year and author list must read back as the Work holds it, for the
real sample, generated records, the shapes of reference line the archive stores, and
hostile titles."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import warnings

import bibtexparser
import jsonschema
import pytest
import rispy
from bibtexparser import middlewares
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from archive.export import ET_AL, FORMATS, MEDIA_TYPES, Work, citation_key, render, works
from archive.model import Reference
from archive.parser import parse
from archive.references import display_title, entry_id, normalize_title, parse_reference_line
from bench.corpus import Quirks, generate
from tests.helpers import ROOT, SAMPLE, SAMPLE_UUID, variant

# The official CSL-JSON input schema, schemas/input/csl-data.json of
# https://github.com/citation-style-language/schema at commit
# e3ce254a72c4470a5ed3b9d23b428017d25674e9 (v1.0.2 + 3; the file last changed in
# 40b3ce0bbbda517ad14b98c93a2c65ab4cde56a9), saved unchanged.
CSL_SCHEMA = json.loads((ROOT / "tests" / "data" / "csl-data.json").read_text("utf-8"))

# pylatexenc's defaults, plus three text symbols of the LaTeX kernel it lacks or maps to
# a look-alike (it reads \textbraceleft as nothing and \textasciicircum as U+02C6).
_ctx = get_default_latex_context_db().filter_context()
_ctx.add_context_category("kernel-text-symbols", prepend=True, macros=[
    MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"),
    MacroTextSpec("textasciicircum", "^")])
LATEX = LatexNodes2Text(latex_context=_ctx)


# -- readers ----------------------------------------------------------------------------------
def _bibtex_braces_balance(value: str) -> bool:
    """BibTeX's own rule: every brace counts, escaped or not (bibtexparser is laxer)."""
    depth = 0
    for ch in value:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            return False
    return depth == 0


def read_bibtex(text: str, caplog) -> list[dict]:
    with caplog.at_level(logging.WARNING, logger="bibtexparser"), warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = bibtexparser.parse_string(text)
        lib = bibtexparser.parse_string(text, append_middleware=[
            middlewares.SeparateCoAuthors(), middlewares.LatexDecodingMiddleware(decoder=LATEX)])
    # a block the splitter gives up on is logged as a warning (and kept in failed_blocks)
    assert not [r for r in caplog.records
                if r.name.startswith("bibtexparser") and r.levelno >= logging.WARNING]
    assert lib.failed_blocks == [] and raw.failed_blocks == []
    assert lib.comments == [] and lib.strings == [] and lib.preambles == []
    for entry in raw.entries:
        for f in entry.fields:
            assert _bibtex_braces_balance(f.value), (entry.key, f.key, f.value)
    out = []
    for e in lib.entries:
        fields = e.fields_dict
        assert e.entry_type == "misc"
        assert set(fields) <= {"title", "author", "year", "language", "note"}
        out.append({
            "key": e.key, "title": fields["title"].value,
            "year": int(fields["year"].value) if "year" in fields else None,
            # BibTeX's "others" is et al.; a braced name is one name, its text LaTeX
            "authors": tuple(ET_AL if a == "others" else LATEX.latex_to_text(a)
                             for a in fields["author"].value) if "author" in fields else (),
            "language": fields["language"].value, "note": fields["note"].value,
        })
    return out


def read_ris(text: str) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records = rispy.loads(text)
    assert text.count("\nER  - \n") + text.startswith("ER  - ") == len(records)
    out = []
    for r in records:
        assert "unknown_tag" not in r, r
        assert set(r) <= {"type_of_reference", "id", "title", "authors", "year", "language", "notes"}
        assert r["type_of_reference"] == "GEN"
        out.append({"key": r["id"], "title": r["title"],
                    "year": int(r["year"]) if "year" in r else None,
                    "authors": tuple(r.get("authors", ())), "language": r["language"],
                    "note": r["notes"][0]})
    return out


def read_csl(text: str) -> list[dict]:
    items = json.loads(text)
    errors = list(jsonschema.Draft7Validator(CSL_SCHEMA).iter_errors(items))
    assert not errors, [e.message for e in errors]
    out = []
    for it in items:
        assert it["type"] in ("article", "document")
        names = []
        for a in it.get("author", []):
            if "literal" in a:
                assert set(a) == {"literal"}
                names.append(a["literal"])
            else:
                names.append(", ".join(a[k] for k in ("family", "given") if k in a))
        (year,) = it["issued"]["date-parts"][0] if "issued" in it else (None,)
        out.append({"key": it["id"], "title": it["title"], "year": year, "authors": tuple(names),
                    "language": {"zh-CN": "zh", "en": "en"}[it["language"]],
                    "note": it["custom"]["review-archive-ref"]})
    return out


def read(fmt: str, text: str, caplog) -> list[dict]:
    return {"bibtex": lambda t: read_bibtex(t, caplog), "ris": read_ris, "csl-json": read_csl}[fmt](text)


def want(fmt: str, w: Work) -> dict:
    """What a reader should get back: the Work itself (RIS and CSL have no mark for et
    al.); the note names the ref id."""
    authors = w.authors if fmt == "bibtex" else tuple(a for a in w.authors if a != ET_AL)
    return {"key": w.key, "title": w.title, "year": w.year, "authors": authors,
            "language": w.language,
            "note": w.ref_id if fmt == "csl-json" else f"review-archive ref {w.ref_id}"}


def assert_round_trip(ws: list[Work], caplog) -> None:
    for fmt in FORMATS:
        text = render(ws, fmt)
        text.encode("utf-8")  # no lone surrogates
        assert render(ws, fmt) == text
        assert read(fmt, text, caplog) == [want(fmt, w) for w in ws], fmt


def refs_from(lines: list[str], scope: str = "", uuid: str = SAMPLE_UUID) -> list[Reference]:
    """Reference entries as the archive parses and identifies them."""
    out = []
    for line in lines:
        n, title, year = parse_reference_line(line)
        out.append(Reference(n=n, title=title, year=year, raw=line,
                             ref_id=entry_id(title, uuid, scope, n), scope=scope))
    return out


def work(title: str, i: int = 0, **kw) -> Work:
    rid = kw.pop("ref_id", f"r{i:010x}")
    fields = dict(ref_id=rid, title=title, year=2020, authors=(), language="en", key=citation_key(rid))
    fields.update(kw)
    return Work(**fields)


# -- the real sample --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    (p,) = parse(SAMPLE.read_bytes(), SAMPLE.name)
    return p.record


def test_sample_works(sample):
    ws = works(sample.references)
    # 15 global entries, [11] and [12] one work (.pdf.md / .pdf(1).md), 10 chapter-7 entries
    assert len(ws) == 24
    assert [w.ref_id for w in ws] == list(dict.fromkeys(r.ref_id for r in sample.references))
    first = ws[0]
    assert first.title == "基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析"
    assert (first.year, first.authors, first.language) == (2025, (), "zh")
    assert first.key == "ra" + first.ref_id[1:] and re.fullmatch(r"ra[0-9a-f]{10}", first.key)
    pdf = ws[10]
    assert pdf.title == "机械行业深度研究：现代煤化工扩产在即，相关设备需求有望爆发.pdf.md"
    assert pdf.year is None
    # a published-at suffix is part of the only spelling there is: kept, not cut
    assert ws[11].title.endswith("（发布时间：2023-06-14 18:05:06）") and ws[11].year == 2023
    # a headline that opens with names is not an author list the line makes certain
    assert ws[9].title.startswith("朱孝忠，房韡，赵毅：") and ws[9].authors == ()
    local = ws[14:]
    assert [(w.title, w.authors, w.language, w.year) for w in local[:2]] == [
        ("Smith J, et al", ("Smith, J.", ET_AL), "en", None),
        ("Johnson L, et al", ("Johnson, L.", ET_AL), "en", None)]
    assert len({w.key for w in ws}) == 24


def test_sample_round_trips(sample, caplog):
    ws = works(sample.references)
    assert_round_trip(ws, caplog)
    bib = render(ws, "bibtex")
    assert "@misc{" + ws[0].key + "," in bib
    assert "title = {{基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析}}" in bib
    assert "author = {Smith, J. and others}" in bib
    assert "language = {zh}" in bib and "language = {en}" in bib
    # [14]'s "AP&mAP" is LaTeX-escaped, and reads back as written
    assert r"AP\&mAP" in bib
    ris = render(ws, "ris")
    assert ris.startswith("TY  - GEN\nID  - " + ws[0].key + "\nTI  - 基于钻孔图像")
    assert "\nAU  - Smith, J.\n" in ris and "\nLA  - zh\n" in ris and "\nPY  - 2025\n" in ris
    items = json.loads(render(ws, "csl-json"))
    assert items[0]["language"] == "zh-CN" and items[0]["issued"] == {"date-parts": [[2025]]}
    assert items[14]["author"] == [{"family": "Smith", "given": "J."}]
    assert "issued" not in items[10]


def test_bibtex_names_split_as_bibtex_splits_them(sample, caplog):
    ws = [w for w in works(sample.references) if w.authors][:1]
    ws.append(work("标题", 1, authors=("张三", "李四"), language="zh"))
    lib = bibtexparser.parse_string(render(ws, "bibtex"), append_middleware=[
        middlewares.SeparateCoAuthors(), middlewares.SplitNameParts()])
    smith, others = lib.entries[0].fields_dict["author"].value
    assert (smith.last, smith.first) == (["Smith"], ["J."]) and others.last == ["others"]
    assert [n.last for n in lib.entries[1].fields_dict["author"].value] == [["张三"], ["李四"]]


# -- generated records: every spelling variant, chapter lists, many reviews ------------------
def test_generated_corpus_dedup_titles_years(caplog):
    gens = list(generate(12, seed=5))
    gens += list(generate(3, seed=6, quirks=Quirks.only(local_references=1.0)))
    refs, truth = [], {}
    for g in gens:
        for p in parse(g.data, g.name):
            refs += p.record.references
        for n, canonical, year, scope in g.truth.references:
            t = truth.setdefault(entry_id(canonical, g.truth.uuid, scope, n), [canonical, None])
            t[1] = t[1] or year
    ws = works(refs)
    assert len(refs) > len(ws) == len(truth) > 100  # works shared by reviews are one
    assert [w.ref_id for w in ws] == list(dict.fromkeys(r.ref_id for r in refs))
    spellings: dict[str, set[str]] = {}
    for r in refs:
        spellings.setdefault(r.ref_id, set()).add(r.title)
    for w in ws:
        canonical, year = truth[w.ref_id]
        assert w.year == year, w
        if w.authors:  # only the chapter lists' "Smith J, et al" name authors
            assert w.title == canonical and len(w.authors) == 2 and w.authors[1] == ET_AL
            assert re.fullmatch(r"[A-Z][a-z]+, [A-Z]\.", w.authors[0])
        else:
            assert normalize_title(w.title) == normalize_title(canonical)
            assert w.title in {folded(s) for s in spellings[w.ref_id]}  # "A  survey": one space
            if any(".pdf" not in s and "发布时间" not in s for s in spellings[w.ref_id]):
                assert ".pdf" not in w.title and "发布时间" not in w.title
        assert w.language == ("zh" if re.search("[\u4e00-\u9fff]", w.title) else "en")
    assert {w.language for w in ws} == {"zh", "en"}
    assert any(w.authors for w in ws)
    assert_round_trip(ws, caplog)


def test_one_work_from_many_spellings():
    lines = ["[1] 基于深度学习的图像识别研究.pdf.md.",
             "[2] 基于深度学习的图像识别研究. 2023.",
             "[3] 基于深度学习的图像识别研究（发布时间：2024-01-01 08:00:00）. 2024.",
             "[4] 基于深度学习的图像识别研究. 2024.",
             "[5] 基于深度学习的图像识别研究。. 2024.",
             "[6] A survey of soil health in rice. 2024."]
    refs = refs_from(lines)
    ws = works(refs)
    assert len(ws) == 2
    # the most frequent clean spelling, the most common year
    assert (ws[0].title, ws[0].year) == ("基于深度学习的图像识别研究", 2024)
    assert ws[0].title == display_title(["基于深度学习的图像识别研究", "基于深度学习的图像识别研究.pdf.md"])
    assert (ws[1].title, ws[1].year, ws[1].language) == ("A survey of soil health in rice", 2024, "en")
    # the order is first seen: the English work first when it comes first
    assert [w.ref_id for w in works(refs[::-1])] == [ws[1].ref_id, ws[0].ref_id]
    # a tie of years: the year seen first
    tie = refs_from(["[1] Tie. 2019.", "[2] Tie. 2021."])
    assert works(tie)[0].year == 2019 and works(tie[::-1])[0].year == 2021


def test_author_only_entries_of_two_reviews_stay_two():
    a = refs_from(["1. Smith J, et al."], scope="7", uuid="a" * 32)
    b = refs_from(["1. Smith J, et al."], scope="7", uuid="b" * 32)
    ws = works(a + b + a)
    assert len(ws) == 2 and ws[0].key != ws[1].key
    assert all(w.title == "Smith J, et al" and w.authors == ("Smith, J.", ET_AL) for w in ws)


# -- the shapes of reference line ------------------------------------------------------------
SHAPES = [
    # line as written -> (authors, title)
    ("1. Smith J, Wang L, et al. Deep residual learning for image recognition. CVPR, 2016.",
     ("Smith, J.", "Wang, L.", ET_AL), "Deep residual learning for image recognition. CVPR"),
    ("[2] 张三, 李四. 基于深度学习的图像识别研究[J]. 计算机学报, 2020.",
     ("张三", "李四"), "基于深度学习的图像识别研究[J]. 计算机学报"),
    ("[3] 王小明，李华，等. 深度学习综述[J]. 软件学报, 2019.",
     ("王小明", "李华", ET_AL), "深度学习综述[J]. 软件学报"),
    ("[4] He K, Zhang X, Ren S, et al. Deep residual learning[C]//Proceedings of CVPR. 2016: 770-778.",
     ("He, K.", "Zhang, X.", "Ren, S.", ET_AL), "Deep residual learning[C]//Proceedings of CVPR. 2016: 770-778"),
    ("[5] LECUN Y, BENGIO Y, HINTON G. Deep learning[J]. Nature, 2015.",
     ("LECUN, Y.", "BENGIO, Y.", "HINTON, G."), "Deep learning[J]. Nature"),
    ("[6] Smith J.K. A single author with a type code[M]. Beijing: Science Press, 2018.",
     ("Smith, J. K.",), "A single author with a type code[M]. Beijing: Science Press"),
    ("3. 张三, 李四, 等.", ("张三", "李四", ET_AL), "张三, 李四, 等"),
    ("4. Smith J, Lee K.", ("Smith, J.", "Lee, K."), "Smith J, Lee K"),
    ("5. Garcia et al.", ("Garcia", ET_AL), "Garcia et al"),
    # not certain: the whole text is the title, no authors
    ("[7] 朱孝忠，房韡，赵毅：基于深度VGG模型在乙烯裂解炉装置的预测应用. 2025.",
     (), "朱孝忠，房韡，赵毅：基于深度VGG模型在乙烯裂解炉装置的预测应用"),
    ("[8] Vitamin D. A review of supplementation trials. 2021.",
     (), "Vitamin D. A review of supplementation trials"),
    ("[9] 张三. 一个没有文献类型标识的标题. 2020.", (), "张三. 一个没有文献类型标识的标题"),
    ("[10] 机器学习, 深度学习. 两个概念的比较. 2020.", (), "机器学习, 深度学习. 两个概念的比较"),
    ("[11] Smith, Lee et al. 2022.", (), "Smith, Lee et al"),
    ("[12] CGE在制造业企业中的应用：仉珩彧团队最新成果（发布时间：2019-05-24 23:47:10）. 2019.",
     (), "CGE在制造业企业中的应用：仉珩彧团队最新成果（发布时间：2019-05-24 23:47:10）"),
    ("[13] 张三, 李四", (), "张三, 李四"),
]


@pytest.mark.parametrize("line,authors,title", SHAPES, ids=[s[0][:24] for s in SHAPES])
def test_reference_shapes(line, authors, title, caplog):
    scope = "" if line.startswith("[") else "7"
    (w,) = works(refs_from([line], scope=scope))
    assert (w.authors, w.title) == (authors, title)
    assert w.language == ("zh" if re.search("[\u4e00-\u9fff]", title) else "en")
    assert_round_trip([w], caplog)


#: One grammar, two readings: does the entry name only authors (its identity, entry_id)
#: and which authors the export names. Each line: (authors only?, authors exported).
READINGS = [
    ("Smith J, et al", True, ("Smith, J.", ET_AL)),
    ("Smith J, Lee K", True, ("Smith, J.", "Lee, K.")),
    ("Garcia et al", True, ("Garcia", ET_AL)),
    ("张三, 李四, 等", True, ("张三", "李四", ET_AL)),
    ("Smith J K, Lee K", True, ()),  # spaced initials: only authors, but no certain split
    ("Smith, Lee et al", True, ()),  # surnames without initials: no certain split
    ("Smith J.K.", False, ()),  # joined dotted initials: not read as only authors (ids stay)
    ("Smith J. Title", False, ()),
    ("张三. 一个标题", False, ()),
]


@pytest.mark.parametrize("text,only,authors", READINGS, ids=[r[0] for r in READINGS])
def test_one_author_grammar_two_readings(text, only, authors):
    """The identity of an entry (archive.references) and the export's authors
    (archive.export) read one grammar, archive.authors."""
    scope_entry = entry_id(text, "a" * 32, "7", 1)
    assert (scope_entry != entry_id(text, "b" * 32, "7", 1)) == only
    (w,) = works([Reference(n=1, title=text, year=None, raw=f"1. {text}", ref_id=scope_entry, scope="7")])
    assert w.authors == authors and w.title == text


def test_shapes_through_the_parser(caplog):
    """GB/T and author-first lines in a chapter's own list of a real record."""
    text = variant(replace=("1. Smith J, et al.", "1. 张三, 李四. 基于深度学习的图像识别研究[J]. 计算机学报, 2020."))
    text = text.replace("2. Johnson L, et al.", "2. He K, Zhang X, Ren S, et al. Deep residual learning "
                        "for image recognition[C]//Proceedings of CVPR. 2016: 770-778.", 1)
    (p,) = parse(text.encode("utf-8"), "shapes.txt")
    local = works([r for r in p.record.references if r.scope == "7"])
    assert (local[0].authors, local[0].title, local[0].year, local[0].language) == (
        ("张三", "李四"), "基于深度学习的图像识别研究[J]. 计算机学报", 2020, "zh")
    assert local[1].authors == ("He, K.", "Zhang, X.", "Ren, S.", ET_AL)
    assert local[1].title == "Deep residual learning for image recognition[C]//Proceedings of CVPR. 2016: 770-778"
    assert local[1].year is None  # the year is not at the end of the line: the archive reads none
    assert_round_trip(local, caplog)


# -- hostile titles ---------------------------------------------------------------------------
HOSTILE = [
    "}{ unbalanced {",
    "closing only }",
    "{",
    "{balanced {nested}} braces",
    "\\input{/etc/passwd} \\\\ \\end{document}",
    "Trailing backslash \\",
    "100% & $5 #1 a_b x^2 ~tilde",
    "%comment at the start",
    "line one\nER  - \nTY  - JOUR\nTI  - injected",
    "ER  - ",
    "TY  - BOOK",
    "ctrl\x00\x07\x08\x1b\x7f\r\n\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029end",
    "@misc{evil, title = {x}}",
    '"quoted" and a lone " quote, = comma',
    "a--b---c ``double'' `single' !` ?` ,,low,, <<guillemets>>",
    "  spaces   inside  and\u3000全角空格 and\u00a0nbsp  ",
    "lone surrogate \ud800 here",
    "emoji 😀 中文标题《书名》【标签】（括号）",
    "中文标题\n第二行}{",
    "",
]


def folded(t: str) -> str:
    """What any title becomes on one line, computed here without the module."""
    t = "".join(" " if (ord(c) < 32 or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u2029")
                else "\ufffd" if 0xd800 <= ord(c) <= 0xdfff else c for c in t)
    return re.sub(" {2,}", " ", t).strip(" ")


def test_hostile_titles_read_back_exactly(caplog):
    ws = [work(t, i, language="zh" if re.search("[\u4e00-\u9fff]", t) else "en",
               authors=("Smith, J.", "A and B", "x, y, z", "others", "{Brace", "\\cmd%", "张三", ET_AL))
          for i, t in enumerate(HOSTILE)]
    for fmt in FORMATS:
        got = read(fmt, render(ws, fmt), caplog)
        assert len(got) == len(ws)
        for w, g in zip(ws, got):
            assert g["title"] == folded(w.title), (fmt, w.title)
            names = [folded(a) for a in w.authors]
            if fmt == "bibtex":  # a name "others" is not et al.
                assert g["authors"] == tuple(names)
            else:
                assert g["authors"] == tuple(a for a in names if a != ET_AL)
            assert (g["key"], g["year"]) == (w.key, w.year)


def test_hostile_titles_cannot_break_the_record_structure():
    ws = [work(t, i) for i, t in enumerate(HOSTILE)]
    ris = render(ws, "ris")
    lines = ris.split("\n")
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", ln) or ln == "" for ln in lines)
    assert sum(ln == "ER  - " for ln in lines) == sum(ln == "TY  - GEN" for ln in lines) == len(ws)
    assert ris.splitlines() == ris.split("\n")[:-1]  # no CR, VT, FF, NEL, U+2028 ... in a value
    bib = render(ws, "bibtex")
    assert bib.count("\n@misc{") + bib.startswith("@misc{") == len(ws)
    assert bib.splitlines() == bib.split("\n")[:-1]
    assert "\\input" not in bib and "\\end{document}" not in bib and re.search(r"(?<!\\)%", bib) is None
    csl = render(ws, "csl-json")
    assert csl.splitlines() == csl.split("\n")[:-1]
    assert len(json.loads(csl)) == len(ws)


def test_titles_keep_their_text():
    """Nothing but control characters and repeated spaces is ever changed: Chinese stays
    Chinese, full-width punctuation stays full-width."""
    t = "深度学习中准确率、精确率、召回率（F1-Score、AP&mAP）的解释：“指标”！"
    (w,) = works(refs_from([f"[1] {t}. 2024."]))
    assert w.title == t
    assert json.loads(render([w], "csl-json"))[0]["title"] == t
    assert f"TI  - {t}\n" in render([w], "ris")


# -- the API ----------------------------------------------------------------------------------
def test_formats_and_media_types():
    assert FORMATS == {"bibtex": ".bib", "ris": ".ris", "csl-json": ".json"}
    assert MEDIA_TYPES == {"bibtex": "application/x-bibtex",
                           "ris": "application/x-research-info-systems",
                           "csl-json": "application/vnd.citationstyles.csl+json"}


@pytest.mark.parametrize("fmt", ["BibTeX", "csl", "json", "", "endnote"])
def test_unknown_format(fmt, sample):
    with pytest.raises(ValueError) as e:
        render(works(sample.references), fmt)
    assert all(name in str(e.value) for name in FORMATS)
    assert repr(fmt) in str(e.value)


def test_keys_must_be_safe_and_unique():
    w = work("x", 1)
    with pytest.raises(ValueError, match="twice"):
        render([w, w], "ris")
    with pytest.raises(ValueError, match="BibTeX-safe"):
        render([work("x", 2, key="ra x,}")], "bibtex")
    assert citation_key("r0123456789") == "ra0123456789"
    odd = citation_key("not an id {}")
    assert re.fullmatch(r"ra[0-9a-f]{10}", odd) and odd == citation_key("not an id {}")


def test_empty_export(caplog):
    assert render([], "bibtex") == "" and render([], "ris") == ""
    assert json.loads(render([], "csl-json")) == []
    assert_round_trip([], caplog)


def test_entries_in_the_given_order(sample):
    ws = works(sample.references)
    for fmt in FORMATS:
        forward, backward = render(ws, fmt), render(ws[::-1], fmt)
        keys = re.findall(r"ra[0-9a-f]{10}", forward)
        assert list(dict.fromkeys(keys)) == [w.key for w in ws]
        assert list(dict.fromkeys(re.findall(r"ra[0-9a-f]{10}", backward))) == [w.key for w in ws[::-1]]


def test_same_bytes_in_every_process():
    code = ("import sys; from archive.export import works, render, FORMATS; from archive.parser import parse;"
            "from tests.helpers import SAMPLE; from bench.corpus import generate;"
            "refs = [r for p in parse(SAMPLE.read_bytes()) for r in p.record.references];"
            "refs += [r for g in generate(4, seed=3) for p in parse(g.data) for r in p.record.references];"
            "ws = works(refs);"
            "sys.stdout.buffer.write(b''.join(render(ws, f).encode('utf-8') for f in FORMATS))")
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.append(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                                   capture_output=True, check=True).stdout)
    assert outs[0] == outs[1] and len(outs[0]) > 10_000


def test_the_schema_check_can_fail():
    """The validator is not vacuous: items the schema forbids are caught."""
    good = json.loads(render([work("x", 1)], "csl-json"))
    jsonschema.validate(good, CSL_SCHEMA)
    for broken in ({**good[0], "type": "misc"}, {k: v for k, v in good[0].items() if k != "id"},
                   {**good[0], "author": [{"name": "Smith"}]}, {**good[0], "issued": [2020]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate([broken], CSL_SCHEMA)
