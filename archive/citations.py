"""Citation markers (``[n]``, ``[^n]``), the sentence each stands in, and what it cites."""
from __future__ import annotations

import re
from bisect import bisect_left

from .model import ABSTRACT, BRACKET, CARET, Citation, Flag, Record

# [^12] or [12], but not a markdown link "[12](" / "[12]:" definition.
MARKER = re.compile(r"\[(\^?)(\d{1,4})\](?![(:])")
_TERMINATOR = re.compile(r"[。！？!?；;\n]")
_BULLET = re.compile(r"^(?:[#>*+-]+|\d+[.)])\s+")
_WINDOW = 400  # a sentence is looked for at most this far either side of its marker


def extract_citations(rec: Record, local_until: dict[str, str] | None = None) -> None:
    """Fill ``rec.citations`` and flag dangling markers.

    ``[^n]`` resolves against its chapter's own list from the chapter's start up to the
    section the list stands in (``local_until``: chapter -> that section; the list's
    own ``文献[^1]…`` line is in it), and against the main list everywhere else, the
    chapter's later sections included."""
    global_refs = {r.n: r for r in rec.references if not r.scope}
    local: dict[str, dict] = {}
    for r in rec.references:
        if r.scope:
            local.setdefault(r.scope, {})[r.n] = r
    order = {s.number: i for i, s in enumerate(rec.sections)}
    until = {ch: order.get(sec, len(order)) for ch, sec in (local_until or {}).items()}
    places = [(ABSTRACT, "", rec.abstract)] + [(s.number, s.chapter, s.body) for s in rec.sections]
    for where, chapter, text in places:
        if chapter in local and order.get(where, -1) > until.get(chapter, len(order)):
            chapter = ""  # past the chapter's own list: the main list applies
        sentences = Sentences(text)
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
                    sentence=sentences.around(m.start(), m.end()),
                    ref_id=ref.ref_id if ref else None,
                    scope=scope,
                    offset=m.start(),
                )
            )
            if ref is None:
                rec.flags.append(Flag("dangling-citation", where, m.group(0)))


class Sentences:
    """Sentence boundaries of one text, found once (linear), looked up by bisection."""

    def __init__(self, text: str):
        self.text = text
        self.ends = [m.start() for m in _TERMINATOR.finditer(text)]

    def _prev_end(self, pos: int) -> int:
        """Start of the sentence holding ``pos``: just after the terminator before it."""
        i = bisect_left(self.ends, pos) - 1
        lo = self.ends[i] + 1 if i >= 0 else 0
        return max(lo, pos - _WINDOW)

    def around(self, start: int, end: int) -> str:
        lo, hi = self.span(start, end)
        return _BULLET.sub("", self.text[lo:hi].strip()).strip()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Where the sentence around ``text[start:end]`` starts and ends (the site shows
        a citing sentence from these offsets)."""
        text = self.text
        lo = self._prev_end(start)
        if lo > 0 and not MARKER.sub("", text[lo:start]).strip():
            # the marker follows the full stop ("...突破。[^2]"): cite the sentence before it
            lo = self._prev_end(lo - 1)
        i = bisect_left(self.ends, end)
        hi = self.ends[i] if i < len(self.ends) else len(text)
        if hi > end + _WINDOW:
            hi = end + _WINDOW
        elif hi < len(text) and text[hi] != "\n":
            hi += 1
        while True:  # a run of markers right after the terminator belongs here too
            m = MARKER.match(text, hi)
            if not m:
                break
            hi = m.end()
        return lo, hi
