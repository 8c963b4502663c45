"""Citation markers (``[n]``, ``[^n]``), the sentence each stands in, and what it cites."""
from __future__ import annotations

import re

from .model import ABSTRACT, BRACKET, CARET, Citation, Flag, Record

# [^12] or [12], but not a markdown link "[12](" / "[12]:" definition.
MARKER = re.compile(r"\[(\^?)(\d{1,4})\](?![(:])")
_TERMINATORS = set("。！？!?；;\n")
_WINDOW = 400  # a sentence is looked for at most this far either side of its marker


def extract_citations(rec: Record) -> None:
    """Fill ``rec.citations`` and flag dangling markers."""
    global_refs = {r.n: r for r in rec.references if not r.scope}
    local: dict[str, dict] = {}
    for r in rec.references:
        if r.scope:
            local.setdefault(r.scope, {})[r.n] = r
    places = [(ABSTRACT, "", rec.abstract)] + [(s.number, s.chapter, s.body) for s in rec.sections]
    for where, chapter, text in places:
        for m in MARKER.finditer(text):
            style = CARET if m.group(1) else BRACKET
            n = int(m.group(2))
            scope = chapter if (style == CARET and chapter in local) else ""
            ref = (local[scope] if scope else global_refs).get(n)
            rec.citations.append(
                Citation(
                    marker=m.group(0),
                    style=style,
                    n=n,
                    section=where,
                    sentence=sentence_at(text, m.start(), m.end()),
                    ref_id=ref.ref_id if ref else None,
                    scope=scope,
                    offset=m.start(),
                )
            )
            if ref is None:
                rec.flags.append(Flag("dangling-citation", where, m.group(0)))


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]``, markers kept, markdown bullets dropped."""
    lo = _left_boundary(text, start)
    if not MARKER.sub("", text[lo:start]).strip() and lo > 0:
        # the marker follows the full stop ("...突破。[^2]"): cite the sentence before it
        lo = _left_boundary(text, lo - 1)
    hi = end
    limit = min(len(text), end + _WINDOW)
    while hi < limit and text[hi] not in _TERMINATORS:
        hi += 1
    if hi < len(text) and text[hi] != "\n":
        hi += 1
    while True:  # a run of markers right after the terminator belongs here too
        m = MARKER.match(text, hi)
        if not m:
            break
        hi = m.end()
    s = text[lo:hi].strip()
    return re.sub(r"^(?:[#>*+-]+|\d+[.)])\s+", "", s).strip()


def _left_boundary(text: str, pos: int) -> int:
    lo = pos
    floor = max(0, pos - _WINDOW)
    while lo > floor and text[lo - 1] not in _TERMINATORS:
        lo -= 1
    return lo
