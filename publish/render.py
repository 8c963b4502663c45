"""Markdown of a section body to safe HTML, with citation markers as links.

markdown-it-py with raw HTML disabled (``<script>`` in a record is shown as text), GFM
tables on.  Citation markers are recognised by an inline rule (not by a regex over the
produced HTML), so escaping is never bypassed: ``[^n]`` everywhere and ``[n]`` in the
abstract become links to the entry of the review's reference list, or are marked
dangling when the list has no such entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from . import urls

_CITE = re.compile(r"\[(\^?)(\d{1,4})\]")
_THINK = re.compile(r"<think>.*?</think>|</?think>", re.S)


@dataclass
class CiteContext:
    """How markers of one section resolve: ``lists[scope]`` = set of entry numbers."""

    scope: str  # "" (the review's list) or the chapter whose own list applies
    numbers: set[int] = field(default_factory=set)
    bracket: bool = False  # also link [n] (the abstract's style)


def _cite_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    ctx: CiteContext | None = state.env.get("cite")
    if ctx is None:
        return False
    m = _CITE.match(state.src, state.pos)
    if not m or (not m.group(1) and not ctx.bracket):
        return False
    if not silent:
        tok = state.push("cite", "", 0)
        tok.content = m.group(0)
        tok.meta = {"n": int(m.group(2))}
    state.pos = m.end()
    return True


def _render_cite(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    ctx: CiteContext = env["cite"]
    n = tok.meta["n"]
    text = escape(tok.content)
    if n in ctx.numbers:
        anchor = urls.ref_anchor(ctx.scope, n)
        return f'<a class="cite" href="#{anchor}">{text}</a>'
    return f'<span class="cite dangling" title="悬空引用：参考文献中没有第 {n} 条">{text}</span>'


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
