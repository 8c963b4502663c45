"""The one grammar of author names in a reference line, and its two readings.

A reference entry may name its authors (``Smith J, Wang L, et al. Title``, ``张三, 李四.
标题[J]. 期刊``) or name *only* authors (the chapter lists' ``Smith J, et al``). Both
questions are answered here from the same pieces (a Latin surname, its initials, a
Chinese name, the separators, ``et al``/``等``):

- :func:`authors_only`: does the entry name only authors? Then it names no work, and its
  identity is its own (:func:`archive.references.entry_id`). This reading decides stored
  ref ids, so it is kept exactly as archives were written with: its run of initials is
  the plain ``J``, ``JK``, ``J.``, ``J K`` form (:data:`INITIAL_RUN`).
- :func:`split_authors`: which leading part of a line names its authors, for the exports
  (:mod:`archive.export`); only where the line says so unmistakably, else none. It also
  reads joined dotted initials (``J.K.``, :data:`INITIALS`).
"""
from __future__ import annotations

import re
import unicodedata

#: A Latin surname: ``Smith``, ``O'Neil``, ``Lee-Park``, ``LECUN``.
LATIN_NAME = r"[A-Z][A-Za-z'’\-]+"
#: A Chinese name: two to five ideographs (a ``·`` between the parts of a transliteration).
HAN_NAME = r"[\u4e00-\u9fff·]{2,5}"
#: One group of initials as written: ``J``, ``JK``, ``J.``, ``J.K.``, ``J. K.``.
INITIALS = r"(?:[A-Z]\.(?:\s?[A-Z]\.){0,2}|[A-Z]{1,3}(?![A-Za-z]))"
#: The initials after a surname as the authors-only reading takes them: ``J``, ``J.``,
#: ``JK``, ``J K``, ``J. K.`` (each group spaced off).
INITIAL_RUN = r"(?:\s+[A-Z]{1,3}\.?)+"
LATIN_ET_AL = r"et\s+al\b\.?"
ANY_ET_AL = rf"(?:{LATIN_ET_AL}|等)"
#: The last of a work's authors when its line says the list goes on (``et al``, ``等``).
ET_AL = "et al."
HAN_SEP = r"\s*[,，、]\s*"

# -- only authors -------------------------------------------------------------------------
#: An entry naming only its authors, no work: "Smith J, et al", "Smith J, Lee K",
#: "Smith, Lee et al.", "张三, 李四, 等".
_AUTHORS_ONLY = re.compile(
    rf"^{LATIN_NAME}{INITIAL_RUN}(?:\s*,\s*{LATIN_NAME}{INITIAL_RUN})*(?:\s*,?\s*{ANY_ET_AL})?\s*$"
    rf"|^{LATIN_NAME}(?:\s*,?\s*{LATIN_NAME})*\s*,?\s*{ANY_ET_AL}\s*$"
    rf"|^{HAN_NAME}(?:{HAN_SEP}{HAN_NAME})*\s*[,，、]?\s*等\.?\s*$"
)


def authors_only(title: str) -> bool:
    """Does the entry name only authors (no title of a work)?"""
    return bool(_AUTHORS_ONLY.match(unicodedata.normalize("NFKC", title).strip().rstrip(".。")))


# -- the authors a line names ---------------------------------------------------------------
_LATIN_AUTHOR = rf"{LATIN_NAME}\s+{INITIALS}"
# names, an optional et al, then the end of the text or a full stop before the title
_LATIN_LIST = re.compile(
    rf"(?P<names>{_LATIN_AUTHOR}(?:\s*,\s*{_LATIN_AUTHOR})*)(?P<etal>\s*,?\s*{LATIN_ET_AL})?"
    r"(?:\s*[.．]?\s*$|\s*[.．]\s+|(?<=\.)\s+)")
_LATIN_ONE_ET_AL = re.compile(rf"(?P<names>{LATIN_NAME})(?P<etal>\s*,?\s*{LATIN_ET_AL})\s*$")
_HAN_LIST = re.compile(
    rf"(?P<names>{HAN_NAME}(?:{HAN_SEP}{HAN_NAME})*)(?P<etal>\s*[,，、]?\s*等)?"
    r"(?:\s*[.．。]?\s*$|\s*[.．。]\s*)")
_NAME_SEP = re.compile(HAN_SEP)
#: GB/T 7714 document type codes: [J] journal, [M] book, [C] proceedings, [EB/OL] ...
_GBT_TYPE = re.compile(r"\[(?:M|C|N|J|D|R|S|P|A|G|Z|DB|CP|EB)(?:/OL)?\]")
_LATIN_SPLIT = re.compile(rf"({LATIN_NAME})\s+(.+)")


def _latin_name(written: str) -> str:
    """``Smith JK`` / ``Smith J.K.`` -> ``Smith, J. K.``; a bare ``Smith`` stays."""
    m = _LATIN_SPLIT.fullmatch(written.strip())
    if not m:
        return written.strip()
    letters = [c for c in m.group(2) if c.isalpha()]
    return f"{m.group(1)}, " + " ".join(f"{c}." for c in letters)


def split_authors(text: str) -> tuple[tuple[str, ...], str]:
    """``(authors, title)`` of an entry's text: the authors its line names for certain
    (Latin names as ``Family, G. K.``, Chinese as written, :data:`ET_AL` last when
    the list goes on) and the rest of the line as the title; ``((), text)`` when unsure. An entry
    that names only authors keeps its whole text as the title too (it names no other)."""
    only = authors_only(text)
    for pattern, latin in ((_LATIN_LIST, True), (_LATIN_ONE_ET_AL, True), (_HAN_LIST, False)):
        m = pattern.match(text)
        if not m:
            continue
        names = [n for n in _NAME_SEP.split(m.group("names")) if n]
        etal = bool(m.group("etal"))
        rest = text[m.end():].strip()
        if not rest:
            sure = only
        elif latin:
            sure = len(names) > 1 or etal or bool(_GBT_TYPE.search(rest))
        else:
            sure = etal or bool(_GBT_TYPE.search(rest))
        if not sure or (rest and not any(c.isalnum() for c in rest)):
            continue
        authors = tuple(_latin_name(n) if latin else n for n in names)
        return authors + ((ET_AL,) if etal else ()), (rest or text)
    return (), text
