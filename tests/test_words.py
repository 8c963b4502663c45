"""jieba words for ranking: rjieba must give jieba's words, or jieba does the work."""
from __future__ import annotations

import subprocess
import sys

import pytest

from bench.corpus import generate
from index.analysis import fold
from index.words import jieba_cut, segmenter_name, words

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_rjieba_gives_jiebas_words_on_the_corpus(sample_text):
    """Where rjieba is installed it segments; it must give jieba 0.42.1's tokens,
    search mode, HMM off, on the real sample and on generated records."""
    rjieba = pytest.importorskip("rjieba")
    texts = [fold(sample_text)] + [fold(g.data.decode("utf-8", "replace")) for g in generate(30, seed=2)]
    compared = 0
    for text in texts:
        for line in text.splitlines():
            assert rjieba.cut_for_search(line, hmm=False) == jieba_cut(line), line
            compared += 1
    assert compared > 3000


def test_words_are_search_mode_and_skip_single_characters():
    ws = words(fold("中华人民共和国的小样本学习，ResNet-50。"))
    assert "中华人民共和国" in ws and {"中华", "共和国"} <= set(ws)
    assert "的" not in ws and "，" not in ws and "resnet" in ws and "50" in ws


def test_jieba_is_the_fallback():
    code = ("import os; os.environ['REVIEWS_SEGMENTER'] = 'jieba'\n"
            "from index.words import segmenter_name, words\n"
            "import sys; assert segmenter_name() == 'jieba'\n"
            "print(words('深度学习模型'))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(words("深度学习模型"))
    assert segmenter_name() in ("rjieba", "jieba")


def test_counting_a_piece_at_a_time_gives_the_same_words(sample_text):
    """count_words segments a line (a long line a few sentences) at a time, so that a
    20 MB section is never segmented in one go: the words are the same as in one go."""
    from collections import Counter

    from index.words import count_words

    long_line = fold(sample_text).replace("\n", "")  # one line of ~9,000 characters
    for text in (fold(sample_text), long_line, long_line * 3):
        c: Counter = Counter()
        count_words(text, c)
        assert c == Counter(words(text))


def test_what_makes_a_token_a_word_is_a_letter_a_number_or_a_cjk_character():
    """The one regex the segmenting keeps tokens by equals the rule it stands for, on
    every code point: ``str.isalnum()`` or a CJK character."""
    from index.analysis import is_cjk
    from index.words import _WORDLIKE

    wrong = [hex(i) for i in range(0x110000)
             if (_WORDLIKE.search(chr(i)) is not None) != (is_cjk(chr(i)) or chr(i).isalnum())]
    assert wrong == []
