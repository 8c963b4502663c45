"""Markdown of a section body to safe HTML, with citation markers as links.

markdown-it-py with raw HTML disabled (``<script>`` in a record is shown as text), GFM
tables on.  Citation markers are recognised by an inline rule (not by a regex over the
produced HTML), so escaping is never bypassed, and with the archive's own pattern
(:data:`archive.citations.MARKER`: ``[n]`` and ``[^n]``, not a markdown link ``[n](``
or definition ``[n]:``). What a marker cites is not worked out again here: the k-th
marker of a body is the k-th parsed :class:`archive.model.Citation` of that section,
which already says which list it resolved against and whether it dangles.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from archive.citations import MARKER
from archive.model import Citation

from . import urls

_THINK = re.compile(r"<think>.*?</think>|</?think>", re.S)


@dataclass
class CiteContext:
    """The parsed citations of one section, in the order their markers stand."""

    cites: deque[Citation] = field(default_factory=deque)

    @classmethod
    def of(cls, citations) -> "CiteContext":
        return cls(deque(sorted(citations, key=lambda c: c.offset)))


def _cite_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    ctx: CiteContext | None = state.env.get("cite")
    if ctx is None:
        return False
    m = MARKER.match(state.src, state.pos)
    if not m:
        return False
    if not silent:
        tok = state.push("cite", "", 0)
        tok.content = m.group(0)
    state.pos = m.end()
    return True


def _render_cite(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    ctx: CiteContext = env["cite"]
    text = escape(tok.content)
    while ctx.cites and ctx.cites[0].marker != tok.content:
        ctx.cites.popleft()  # (a marker markdown kept from the inline text: code, say)
    c = ctx.cites.popleft() if ctx.cites else None
    if c is not None and c.ref_id is not None:
        return f'<a class="cite" href="#{urls.ref_anchor(c.scope, c.n)}">{text}</a>'
    n = c.n if c is not None else tok.content.strip("[]^")
    return f'<span class="cite dangling" title="悬空引用：参考文献中没有第 {escape(str(n))} 条">{text}</span>'


def _make_md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.inline.ruler.before("link", "cite", _cite_rule)
    md.add_render_rule("cite", _render_cite)
    # Links and images in generated text: keep the text, never load or follow anything.
    md.disable(["image", "autolink"])
    md.validateLink = lambda url: False  # type: ignore[method-assign]
    return md


_MD = _make_md()


def markdown(text: str, cite: CiteContext | None = None) -> str:
    """Render one body; ``cite`` tells how its markers resolve (None: no links)."""
    text = _THINK.sub("", text)
    env = {"cite": cite} if cite is not None else {}
    return _MD.render(text, env)
