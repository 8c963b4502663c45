"""The archive's references as a reference manager reads them: BibTeX, RIS and CSL-JSON.

A *work* is what one :func:`archive.references.ref_id` names: the entries of many
reviews (and many spellings) that are one work become one :class:`Work`, its title the
spelling the site shows (:func:`archive.references.display_title`, the spellings most
frequent first, as the store orders them), its year the most common year the entries
give. The archive knows little more than that: most entries are ``[n] 标题. 2025.``, a
web page's or a report's title and a year, so every entry is exported as the generic
type (``@misc``, ``TY  - GEN``, CSL ``document``) rather than guessed into a journal
article.

Authors are taken from an entry only where its line says unmistakably which part names
them (:func:`archive.authors.split_authors`): a list of names with initials (``Smith J, Wang L, et
al. Title``), an ``et al``/``等``, a GB/T 7714 type code after the title
(``张三, 李四. 标题[J]. 期刊``), or an entry the archive itself reads as naming only
authors (:func:`archive.authors.authors_only`, the chapter lists' ``Smith J, et
al``). Anything less certain keeps the whole text as the title and no authors: a
headline such as ``朱孝忠，房韡，赵毅：基于……`` or ``Vitamin D. A review`` is never cut. The
title is the rest of the line as written (a GB/T line keeps its ``[J]. 期刊``: a work has
no container field, and the text is not dropped); Chinese stays Chinese. Latin names
become ``Family, G. K.``, Chinese names stay as written, and a list that goes on is
marked by :data:`ET_AL` (BibTeX ``and others``; RIS and CSL have no such mark and
leave it out).

Every value is one line: control characters, line and paragraph separators become a
space and runs of spaces one (a title with a newline must not end a RIS field, or hold a
``ER  - `` of its own), lone surrogates U+FFFD. BibTeX values are LaTeX: the ten
specials are escaped, braces as ``\\{``/``\\}`` where the title's braces pair up and as
``\\textbraceleft{}``/``\\textbraceright{}`` where they do not (BibTeX counts ``\\{``
as a brace, so one unpaired brace would end or spoil the entry), the input ligatures
(``--``, two back quotes, ``''``, ``<<`` ...) are broken with ``{}`` so the title prints
as written, and the title is braced once more so no style changes its case
(``GWAS-based``, ``基于EfficientNet``). Citation keys are ``ra`` and the ten hex digits
of the ref id: ASCII, stable across exports, and unique wherever the ids are.

Each entry carries the archive's ref id (BibTeX ``note``, RIS ``N1``, CSL ``custom``: the
schema's place for data of one's own, as ``note`` is the reader's). The same works give
the same bytes: no sets, no clocks, entries in the order given, ``\n`` line ends.
``render`` returns text; write it as UTF-8 (no BOM).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .authors import ET_AL, split_authors
from .model import Reference
from .references import REF_ID, display_title

#: Export format name -> file suffix.
FORMATS = {"bibtex": ".bib", "ris": ".ris", "csl-json": ".json"}
#: Export format name -> media type.
MEDIA_TYPES = {
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "csl-json": "application/vnd.citationstyles.csl+json",
}
#: What each export says of the archive's id of the work.
NOTE = "review-archive ref {ref_id}"
_CSL_LANGUAGE = {"zh": "zh-CN", "en": "en"}


@dataclass(frozen=True)
class Work:
    """One work as the exports describe it."""

    ref_id: str  # the archive's reference identity (archive.references.ref_id / entry_id)
    title: str
    year: int | None
    authors: tuple[str, ...]  # where the reference line holds them, else (); may end in ET_AL
    language: str  # "zh" when the title holds Chinese characters, else "en"
    key: str  # citation key: "ra" + the ref id's hex digits; ASCII, BibTeX-safe


# -- text -----------------------------------------------------------------------------------
_SPACES = re.compile(" {2,}")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def one_line(text: str) -> str:
    """``text`` as one line: control characters (Cc), line and paragraph separators to a
    space, lone surrogates to U+FFFD, runs of spaces to one, no spaces at the ends."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(" " if cat in ("Cc", "Zl", "Zp") else "\ufffd" if cat == "Cs" else ch)
    return _SPACES.sub(" ", "".join(out)).strip(" ")


def language(title: str) -> str:
    """``zh`` when the title holds a Chinese character, else ``en``."""
    return "zh" if _HAN.search(title) else "en"


def citation_key(ref_id: str) -> str:
    """``ra`` and the ten hex digits of a ref id (any other string: of its SHA-1)."""
    if REF_ID.match(ref_id):
        return "ra" + ref_id[1:]
    return "ra" + hashlib.sha1(ref_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]


# -- works ------------------------------------------------------------------------------------
def works(references: Iterable[Reference]) -> list[Work]:
    """One :class:`Work` per ref id, in the order the ids are first seen."""
    groups: dict[str, list[Reference]] = {}
    for r in references:
        groups.setdefault(r.ref_id, []).append(r)
    out = []
    for rid, refs in groups.items():
        counts = Counter(r.title for r in refs)
        # most frequent first, then as the store orders spellings (shorter, then by code point)
        spellings = sorted(counts, key=lambda t: (-counts[t], len(t), t))
        authors, title = split_authors(display_title(spellings))
        title = one_line(title)
        years = Counter(r.year for r in refs if r.year is not None)
        out.append(Work(
            ref_id=rid, title=title, year=years.most_common(1)[0][0] if years else None,
            authors=tuple(a for a in (one_line(a) for a in authors) if a),
            language=language(title), key=citation_key(rid)))
    return out


# -- rendering --------------------------------------------------------------------------------
_KEY = re.compile(r"^[A-Za-z0-9_:.\-]+$")


def render(works: list[Work], fmt: str) -> str:
    """The works in one export format (a name of :data:`FORMATS`), in the order given."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    seen: set[str] = set()
    for w in works:
        if not _KEY.match(w.key):
            raise ValueError(f"citation key {w.key!r} is not BibTeX-safe")
        if w.key in seen:
            raise ValueError(f"citation key {w.key!r} given twice")
        seen.add(w.key)
    return {"bibtex": _bibtex, "ris": _ris, "csl-json": _csl_json}[fmt](works)


def _names(w: Work) -> list[str]:
    return [n for n in (one_line(a) for a in w.authors) if n]


# BibTeX
_LATEX = {"\\": r"\textbackslash{}", "%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#",
          "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}
_LIGATURES = {"--", "``", "''", "!`", "?`", ",,", "<<", ">>"}


def _braces_pair(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            return False
    return depth == 0


def latex(text: str) -> str:
    """``text`` (one line) as the LaTeX of a BibTeX value that prints it as written."""
    text = one_line(text)
    paired = _braces_pair(text)
    out: list[str] = []
    prev = ""
    for ch in text:
        if prev + ch in _LIGATURES:
            out.append("{}")
        if ch in "{}":
            out.append("\\" + ch if paired else
                       r"\textbraceleft{}" if ch == "{" else r"\textbraceright{}")
        else:
            out.append(_LATEX.get(ch, ch))
        prev = ch
    return "".join(out)


_AND = re.compile(r"(?:^|\s)and(?:\s|$)", re.IGNORECASE)


def _bib_name(name: str) -> str:
    if name == ET_AL:
        return "others"
    text = latex(name)
    # a name BibTeX would split or misread ("A and B", "x, y, z", a literal "others")
    if _AND.search(name) or name.count(",") > 1 or name.casefold() == "others":
        return "{" + text + "}"
    # bibtexparser 2.1 drops the first two characters of a name after " and " that
    # starts with a backslash; an empty group before it means nothing to BibTeX
    return "{}" + text if text.startswith("\\") else text


def _bibtex(works: list[Work]) -> str:
    entries = []
    for w in works:
        fields = [("title", "{" + latex(w.title) + "}")]
        names = _names(w)
        if names:
            fields.append(("author", " and ".join(_bib_name(n) for n in names)))
        if w.year is not None:
            fields.append(("year", str(int(w.year))))
        fields.append(("language", latex(w.language)))
        fields.append(("note", latex(NOTE.format(ref_id=w.ref_id))))
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
        entries.append(f"@misc{{{w.key},\n{body}\n}}\n")
    return "\n".join(entries)


# RIS
def _ris(works: list[Work]) -> str:
    records = []
    for w in works:
        lines = [("TY", "GEN"), ("ID", w.key), ("TI", w.title)]
        lines += [("AU", n) for n in _names(w) if n != ET_AL]
        if w.year is not None:
            lines.append(("PY", str(int(w.year))))
        lines += [("LA", w.language), ("N1", NOTE.format(ref_id=w.ref_id))]
        text = "".join(f"{tag}  - {one_line(value)}\n" for tag, value in lines)
        records.append(text + "ER  - \n")
    return "\n".join(records)


# CSL-JSON
def _csl_name(name: str) -> dict[str, str]:
    """``Smith, J.`` -> family and given; a bare ``Smith`` -> family; a Chinese name or
    anything else -> literal (CSL never splits a literal)."""
    if not _HAN.search(name):
        if name.count(",") == 1 and ", " in name:
            family, given = name.split(", ")
            if family and given:
                return {"family": family, "given": given}
        elif "," not in name and not any(c.isspace() for c in name):
            return {"family": name}
    return {"literal": name}


def _csl_json(works: list[Work]) -> str:
    items = []
    for w in works:
        item: dict = {"id": w.key, "type": "document", "title": one_line(w.title)}
        names = [_csl_name(n) for n in _names(w) if n != ET_AL]
        if names:
            item["author"] = names
        if w.year is not None:
            item["issued"] = {"date-parts": [[int(w.year)]]}
        lang = one_line(w.language)
        item["language"] = _CSL_LANGUAGE.get(lang, lang)
        item["custom"] = {"review-archive-ref": one_line(w.ref_id)}
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


__all__ = ["FORMATS", "MEDIA_TYPES", "ET_AL", "Work", "works", "render", "split_authors",
           "one_line", "latex", "citation_key", "language"]
