"""Analysis: exact offsets, sequential positions, Latin tokens, query terms."""
from __future__ import annotations

import pytest

from archive.parser import parse
from index.analysis import (
    CjkTokenizer, QueryTerms, WordTokenizer, fold, index_terms, normalize, query_terms,
)

LATIN = "采用ResNet与F1-Score评估，CRISPR-Cas9编辑，PM2.5浓度，见2.1.1节。"


@pytest.fixture(scope="module")
def sample_record(sample_bytes):
    return parse(sample_bytes, "sample")[0].record


def _tokens(tokenizer, text):
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in tokenizer(text, positions=True, chars=True)]


def _texts(record):
    return [record.topic, record.abstract] + [s.title for s in record.sections] + [
        s.body for s in record.sections] + [r.title for r in record.references]


@pytest.mark.parametrize("tokenizer", [CjkTokenizer(), WordTokenizer()], ids=["cjk", "jieba"])
def test_offsets_exact_and_positions_sequential(tokenizer, sample_record):
    checked = 0
    for text in _texts(sample_record) + [LATIN, "ＲｅｓＮｅｔ……㎏ café Straße"]:
        toks = _tokens(tokenizer, text)
        positions = [p for _, p, _, _ in toks]
        assert positions == sorted(positions)
        assert sorted(set(positions)) == list(range(len(set(positions))))
        for word, _, start, end in toks:
            assert fold(text[start:end]) == word, (text[start:end], word)
            checked += 1
    assert checked > 3000


def test_jieba_subwords_sit_at_their_parent_word():
    text = "中华人民共和国的小样本学习"
    toks = _tokens(WordTokenizer(), text)
    parent = next(t for t in toks if t[0] == "中华人民共和国")
    subs = [t for t in toks if t[1] == parent[1] and t is not parent]
    assert {t[0] for t in subs} >= {"中华", "人民", "共和国"}
    for word, _, start, end in subs:
        assert parent[2] <= start < end <= parent[3]
    # the word after the parent is exactly one position later
    after = [t for t in toks if t[2] >= parent[3]]
    assert after[0][1] == parent[1] + 1


def test_cjk_terms_bigrams_and_run_final_unigrams():
    terms = [(t.text, t.pos) for t in index_terms(fold("是一段 文字A股"))]
    assert terms == [("是一", 0), ("一段", 1), ("段", 2), ("文字", 3), ("字", 4), ("a", 5),
                     ("股", 6)]


@pytest.mark.parametrize("typed,token", [
    ("ResNet", "resnet"), ("F1-Score", "f1-score"), ("CRISPR-Cas9", "crispr-cas9"),
    ("PM2.5", "pm2.5"), ("2.1.1", "2.1.1"),
])
def test_latin_tokens_as_typed(typed, token):
    tokens = {t[0] for t in _tokens(CjkTokenizer(), LATIN)}
    assert token in tokens
    assert query_terms(typed) == QueryTerms((token,))


def test_compound_parts_are_indexed_at_the_compound_position():
    toks = _tokens(CjkTokenizer(), "F1-Score")
    assert toks == [("f1-score", 0, 0, 8), ("f1", 0, 0, 2), ("score", 0, 3, 8)]


@pytest.mark.parametrize("typed,terms,prefix", [
    ("是一段", ("是一", "一段"), False),
    ("段", ("段",), True),
    ("F1值", ("f1", "值"), True),
    ("值F1", ("值", "f1"), False),
    ("ResNet的应用", ("resnet", "的应", "应用"), False),
    ("深度 学习", ("深度", "度", "学习"), False),
    ("ＲｅｓＮｅｔ", ("resnet",), False),
    ("、。", (), False),
])
def test_query_terms(typed, terms, prefix):
    assert query_terms(typed) == QueryTerms(terms, prefix)


def test_normalize_maps_expansions_back():
    text = "A……B"  # NFKC turns each … into three dots
    norm = normalize(text)
    assert norm.text == "a......b"
    assert norm.span(7, 8) == (3, 4)
    assert norm.span(1, 4) == (1, 2)
