"""jieba words, for ranking only (matching needs no dictionary: :mod:`index.literal`).

The index keeps, per review, how often each jieba word occurs (BM25's term frequency)
and in which chapters. Words are cut in jieba's search mode with the HMM off, so the
result depends on the dictionary alone: a word and, inside a longer word, its dictionary
words of two and three characters (``图像识别`` also gives ``图像`` and ``识别``).
Single characters and tokens without a letter, digit or CJK character are dropped.

The segmenter is ``rjieba`` (jieba-rs: jieba's algorithm and dictionary in Rust, many
times faster) when it is installed, else jieba 0.42.1 itself, which stays the reference:
``tests/test_words.py`` checks that the two give the same words on the corpus, and
``REVIEWS_SEGMENTER=jieba`` forces jieba. The query path never segments: a query's
words are found by forward maximum matching against the index's own word list.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable

from index.analysis import CJK_RANGES

_CUT: Callable[[str], list[str]] | None = None


def segmenter_name() -> str:
    """``"rjieba"`` or ``"jieba"``: what :func:`words` uses in this process."""
    if os.environ.get("REVIEWS_SEGMENTER") == "jieba":
        return "jieba"
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return "jieba"
    return "rjieba"


def jieba_cut(text: str) -> list[str]:
    """The reference: jieba 0.42.1, search mode, HMM off (dictionary loaded once, quietly)."""
    import jieba

    if not jieba.dt.initialized:
        import logging

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
    return jieba.lcut_for_search(text, HMM=False)


def _cut() -> Callable[[str], list[str]]:
    global _CUT
    if _CUT is None:
        if segmenter_name() == "rjieba":
            import rjieba

            _CUT = lambda text: rjieba.cut_for_search(text, hmm=False)  # noqa: E731
        else:
            _CUT = jieba_cut
    return _CUT


#: a character that makes a token of two characters or more a ranking word: a letter or
#: number (``str.isalnum``: ``[^\W_]``) or a CJK character (one regex search a token, not a
#: Python loop over its characters: a tenth of the indexing time)
_WORDLIKE = re.compile(f"[^\\W_]|[{CJK_RANGES}]")


def words(folded: str) -> list[str]:
    """The ranking words of a folded text, in order, repeats kept."""
    wordlike = _WORDLIKE.search
    return [w for w in _cut()(folded) if len(w) > 1 and wordlike(w)]  # (a ranking word)


_LONG = 4096  # a line longer than this is cut at its sentence ends


def _pieces(folded: str):
    """The text a line at a time, long lines a few sentences at a time: jieba never
    joins a word across a line end or a sentence end, so the words are the same, but
    a 20 MB section is never segmented (and its word list held) in one go."""
    for line in folded.split("\n"):
        if len(line) <= _LONG:
            yield line
            continue
        start = 0
        while start < len(line):
            end = min(len(line), start + _LONG)
            cut = max(line.rfind(p, start, end) for p in "。！？；")
            end = cut + 1 if end < len(line) and cut > start else end
            yield line[start:end]
            start = end


def count_words(folded: str, counter) -> None:
    """Add the ranking words of a folded text to ``counter`` (a Counter), a piece at a
    time (:func:`_pieces`): memory follows a line, not the text."""
    cut, wordlike = _cut(), _WORDLIKE.search
    for piece in _pieces(folded):
        counter.update([w for w in cut(piece) if len(w) > 1 and wordlike(w)])  # (a ranking word)
