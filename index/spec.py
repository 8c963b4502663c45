"""The search language, defined once: ``index/spec.json``, read here and by the site.

``spec.json`` holds everything the command line (:mod:`index.query`,
:mod:`index.literal`, :mod:`index.rank`) and the site's client (``static/lang.js``, ``static/search-*.js``)
must agree on: the fields, operators and quote pairs of the query language, the
character classes of the analysis, the ranking function's parameters and the error
codes with their messages (``en`` for the command line, ``zh`` for the site). The site
build writes the same file into ``search.html`` for the client, so neither side
restates a constant, and ``tests/conformance/`` runs the same tables against both.

The character tables (``analysis.marks``, ``analysis.space``,
``analysis.fold_exceptions``, ``analysis.cjk_sources``) are generated from this Python's ``unicodedata`` by
``python -m index.spec`` and committed: the browser then uses the very same classes
whatever Unicode version its engine has, and ``tests/test_spec.py`` fails when the
running Python would generate different ones.
"""
from __future__ import annotations

import functools
import json
import sys
import unicodedata
from pathlib import Path

PATH = Path(__file__).resolve().parent / "spec.json"


@functools.cache
def spec() -> dict:
    return json.loads(PATH.read_text("utf-8"))


def error(code: str, lang: str = "en", **args) -> str:
    """The message of error ``code`` with its arguments filled in."""
    return spec()["errors"][code][lang].format(**args)


def _ranges(codes: list[int]) -> str:
    """A regex class body (no brackets) covering the code points, as ranges."""
    out, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        a, b = chr(codes[i]), chr(codes[j])
        out.append(_esc(a) if i == j else f"{_esc(a)}-{_esc(b)}")
        i = j + 1
    return "".join(out)


def _esc(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch


def generate_tables() -> dict:
    """The character tables of ``spec.json["analysis"]`` from this Python's unicodedata.

    * ``marks``: every combining mark (category M*): a word character, and the tail of
      the cluster folding works on;
    * ``space``: the Unicode White_Space characters, which separate query items (not
      U+001C..U+001F, which Python's ``str.isspace`` counts, nor U+FEFF, which JS's
      ``\\s`` counts);
    * ``fold_exceptions``: characters whose ``casefold()`` differs from their
      ``lower()`` (``ß`` -> ``ss``): JS has only ``toLowerCase``;
    * ``cjk_sources``: the characters through which folding can make a CJK character
      appear where the text as written has none: those whose fold holds a CJK
      character other than themselves (``⼀`` -> ``一``, ``㊀``, ``豈``, half-width kana),
      and the marks that compose with a character into a CJK one (``か`` + U+3099 ->
      ``が``). A run of CJK characters absent from a text without them is absent from
      its fold too, so a search need not fold it to know (:func:`index.texts.Texts.holds`).
    """
    cjk = spans(json.loads(PATH.read_text("utf-8"))["analysis"]["cjk"])
    is_cjk = lambda c: any(lo <= ord(c) <= hi for lo, hi in cjk)  # noqa: E731
    marks, exceptions, sources = [], {}, set()
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.category(ch)[0] == "M":
            marks.append(cp)
        if ch.casefold() != ch.lower():
            exceptions[ch] = ch.casefold()
        folded = unicodedata.normalize("NFKC", ch).casefold()
        if folded != ch and any(is_cjk(c) for c in folded):
            sources.add(cp)
        decomposition = unicodedata.decomposition(ch)
        if is_cjk(ch) and decomposition and not decomposition.startswith("<"):
            sources.update(int(h, 16) for h in decomposition.split()[1:])
    space = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
             0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    return {"marks": _ranges(marks), "space": _ranges(space),
            "fold_exceptions": dict(sorted(exceptions.items())),
            "cjk_sources": _ranges(sorted(sources)),
            "unicode": unicodedata.unidata_version}


def spans(body: str) -> tuple[tuple[int, int], ...]:
    """A regex class body made of characters and ranges (the spec's tables) as
    ``(first, last)`` code point pairs."""
    out, i = [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out.append((ord(body[i]), ord(body[i + 2])))
            i += 3
        else:
            out.append((ord(body[i]), ord(body[i])))
            i += 1
    return tuple(out)


def main() -> None:
    data = json.loads(PATH.read_text("utf-8"))
    data["analysis"].update(generate_tables())
    PATH.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"wrote {PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
