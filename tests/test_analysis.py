"""Analysis: exact offsets, sequential positions, Latin tokens, query terms, literals."""
from __future__ import annotations

import pytest

from archive.parser import parse
from index.analysis import (
    CJK_SOURCES, class_chars, fold, may_fold_into_cjk, may_fold_into_cjk_utf8, normalize, primary_tokens,
)
from index.literal import SEP, Literal, grams

LATIN = "采用ResNet与F1-Score评估，CRISPR-Cas9编辑，PM2.5浓度，见2.1.1节。"


@pytest.fixture(scope="module")
def sample_record(sample_bytes):
    return parse(sample_bytes, "sample")[0].record


def _tokens(text):
    """Primary tokens of ``text`` with their offsets in ``text`` as written."""
    norm = normalize(text)
    return [(t.text, *norm.span(t.nstart, t.nend)) for t in primary_tokens(norm.text)]


def _texts(record):
    return [record.topic, record.abstract] + [s.title for s in record.sections] + [
        s.body for s in record.sections] + [r.title for r in record.references]


def test_offsets_exact(sample_record):
    checked = 0
    for text in _texts(sample_record) + [LATIN, "ＲｅｓＮｅｔ……㎏ café Straße हिन्दी İstanbul"]:
        for word, start, end in _tokens(text):
            assert fold(text[start:end]) == word, (text[start:end], word)
            checked += 1
    assert checked > 3000


def test_grams_are_characters_pairs_words_and_parts():
    assert grams(fold("是一段 文字A股")) == {"是", "一", "段", "是一", "一段", "文", "字", "文字",
                                         "a", "股"}
    assert grams(fold("F1-Score")) == {"f1-score", "f1", "score"}


@pytest.mark.parametrize("typed,token", [
    ("ResNet", "resnet"), ("F1-Score", "f1-score"), ("CRISPR-Cas9", "crispr-cas9"),
    ("PM2.5", "pm2.5"), ("2.1.1", "2.1.1"),
])
def test_latin_tokens_as_typed(typed, token):
    assert token in {t[0] for t in _tokens(LATIN)}
    assert [t.text for t in Literal(typed).tokens] == [token]


@pytest.mark.parametrize("typed,words", [
    ("हिन्दी", ["हिन्दी"]),  # vowel signs are marks: one word, not four pieces
    ("İstanbul", ["i̇stanbul"]),
    ("a\x1cb", ["a", "b"]),
])
def test_marks_belong_to_words(typed, words):
    assert [t.text for t in primary_tokens(fold(typed))] == words


def test_normalize_maps_expansions_back():
    text = "A……B"  # NFKC turns each … into three dots
    norm = normalize(text)
    assert norm.text == "a......b"
    assert norm.span(7, 8) == (3, 4)
    assert norm.span(1, 4) == (1, 2)


# -- literals: what a query string matches (index/literal.py) -------------------------

@pytest.mark.parametrize("typed,text,found", [
    ("残差网络", "深度残差网络的应用", True),
    ("段", "阶段性", True),
    ("是一段", "这是一段话", True),
    ("是一段", "是一，段", False),
    ("深度 学习", "深度学习", False),
    ("深度 学习", "深度，学习", True),
    ("ResNet", "采用RESNET-50", True),  # a whole part of a joined word
    ("Net", "采用ResNet", False),  # not a part of a word
    ("F1-Score", "F1-Score-x", False),  # a joined word matches a whole word only
    ("F1值", "F1，值为", True),
    ("PM2.5", "PM2.5浓度", True),
    ("ＧＡＮ", "使用gan模型", True),  # NFKC + casefold both sides
    ("学习方法", "学习" + SEP + "方法", False),  # never across two parts
    ('"深度 学习"', "深度" + SEP + "学习", False),
])
def test_literal_occurs(typed, text, found):
    lit = Literal(typed.strip('"'))
    assert lit.occurs(fold(text)) is found
    if found:  # every match holds the literal's grams: the index finds it as a candidate
        assert set(lit.grams()) <= grams(fold(text))


@pytest.mark.parametrize("typed,exact", [
    ("段", True), ("研究", True), ("ResNet", True), ("F1-Score", True),
    ("是一段", False), ("F1值", False), ("深度 学习", False),
])
def test_literal_exact_when_one_gram_answers(typed, exact):
    assert Literal(typed).exact is exact


def test_literal_spans_every_occurrence():
    text = fold("深度学习与深度学习方法，Deep Learning；deep-learning")
    assert Literal("深度学习").spans(text) == [(0, 4), (5, 9)]
    assert [text[s:e] for s, e in Literal("learning").spans(text)] == ["learning", "learning"]


def test_one_fold_for_store_and_index():
    """The store compares titles with the fold the index matches with (combining
    sequences included, where a whole-string NFKC would differ)."""
    from archive.store import fold as store_fold

    for text in ["e\u0301tude", "É\u0301TUDE", "ＲｅｓＮｅｔ", "Straße", "İstanbul", "ﬁ", "一"]:
        assert store_fold(text) == fold(text)


def test_gram_positions_are_the_grams_where_they_stand(sample_record):
    from index.literal import gram_positions

    for text in _texts(sample_record) + [LATIN, "深度学习研究深度学习 F1-Score pm2.5 हिन्दी"]:
        norm = fold(text)
        pos = gram_positions(norm)
        assert set(pos) == grams(norm)
        for g, where in pos.items():
            assert all(norm.startswith(g, at) for at in where), g


def test_short_strings_scan_as_the_pattern_does():
    """A query-sized string is tokenised and gated without compiling the big patterns
    (index.analysis._scan, a set lookup); both ways give the same, on strings built from
    every kind of character the definition distinguishes."""
    import random

    from index import analysis

    pool = (list("研究深度学习模型のカナ한국어") + list("abcXYZ019") + list("-._/") + ["_", " ", "，", "。",
            "\u0301", "\u0915", "\u094d", "\u0130", "Ａ", "２", "½", "Ⅻ", "😀", "\u00b7", "ǅ", "\u200d",
            "\U00020000", "\u3007", "ー", "\uff3f", "–", "ß", "ﬁ", "\u0663"])
    rng = random.Random(5)
    cases = ["", "F1-Score", "a-b-", "-a", "a--b", "pm2.5", "x/y_z", "हिन्दी", "i̇stanbul", "a\u0301-b"]
    cases += ["".join(rng.choice(pool) for _ in range(rng.randint(1, analysis.SHORT))) for _ in range(4000)]
    differ = 0  # cases where the combining marks change the tokens: the marks are exercised
    for text in cases:
        assert len(text) <= analysis.SHORT
        differ += analysis._scan(text, True) != analysis._scan(text, False)
        gated = analysis._gate().search(text) is not None
        assert analysis.may_have_marks(text) == gated, text
        for marks in (False, True):
            pattern = [analysis.Primary("cjk" if m.group(1) else "word", m.group(), m.start(), m.end())
                       for m in analysis._primary(marks).finditer(text)]
            assert analysis._scan(text, marks) == pattern, (text, marks)
        long = text + " " * analysis.SHORT  # past SHORT: the pattern itself
        assert primary_tokens(long) == primary_tokens(text)
    assert differ > 100


def test_the_utf8_test_of_characters_that_fold_into_cjk_is_the_str_one():
    """may_fold_into_cjk_utf8 (a search's test of a candidate's bytes, undecoded) says
    what may_fold_into_cjk says of the decoded text: every source character, and every
    7th other code point, between ideographs."""
    sources = class_chars(CJK_SOURCES)
    others = [chr(c) for c in range(0x20, 0x30000, 7) if not 0xD800 <= c < 0xE000]
    for ch in sorted(sources) + others:
        text = f"中{ch}文"
        assert may_fold_into_cjk_utf8(text.encode("utf-8")) == may_fold_into_cjk(text), hex(ord(ch))
