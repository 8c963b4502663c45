"""Charts for the site, drawn at build time as inline SVG, and the same figures as text.

Why hand-written SVG: the site is static and must work from disk with a strict
Content-Security-Policy (``script-src``/``style-src`` 'self', see ``resources.py``), so a
chart can use neither JavaScript nor inline ``style=`` attributes nor ``<style>`` elements.
A bar or a column chart is a few rectangles and text: writing them here takes less than a
plotting dependency (matplotlib, plotly ...) would, gives byte-for-byte deterministic pages,
and lets the colours come from classes in ``static/style.css`` (the site's variables).

Every chart is a ``<figure class="chart">``: a caption, an ``<svg role="img">`` with a
``<title>`` and a ``<desc>``, labelled axes, and a ``<details>`` table listing every row
(the text equivalent, with the links). All text goes through ``markupsafe`` (the
``Markup.format`` calls below escape their arguments), control characters are dropped, and
the result is well-formed XML as well as HTML.

Sizes: the drawing is ``WIDTH`` user units wide and scales to its box (``width="100%"``,
``viewBox``); style.css caps the box at 30rem, so a unit is 0.8 px on a 360 px phone (320 px
of content) and at most 1.2 px on a desktop: ``FONT`` (14 units) is 11-17 px. Long labels are
shortened with "…" by their display width (a CJK character is one em, others about 0.6 em);
the full label is in the tooltip (``<title>``) of its bar and in the table. Bar labels stand
above their bar, so a long Chinese title still leaves the bar the whole width.

``text_bars`` gives the same figures as lines of a terminal bar chart for ``reviews stats``.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup

__all__ = ["Bar", "bars", "columns", "text_bars", "display_width"]

WIDTH = 400          # user units across every chart
FONT = 14            # labels
SMALL = 13           # tick values, values at the bars, axis labels
NARROW_EM = 0.6      # estimated advance of a narrow character, in em
EMPTY = "暂无数据"
SVG_NS = "http://www.w3.org/2000/svg"

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SPACE = re.compile(r"\s+")
#: candidate spacings of the labels along a column chart's axis (months: a quarter, half a
#: year, a year ...); the first one at which the labels do not collide is taken
_STEPS = (1, 2, 3, 4, 6, 12, 24, 36, 48, 60, 120, 240, 360, 480, 600, 1200)
_EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class Bar:
    """One row of a chart. ``href`` is a URL relative to the page (the bar and its label
    become a link); ``note`` is extra text for the tooltip and the table."""
    label: str
    value: int
    href: str | None = None
    note: str = ""


# -- text measures ------------------------------------------------------------------------

def _char_cols(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def display_width(s: str) -> int:
    """Terminal columns of ``s``: wide and full-width characters 2, combining marks 0."""
    return sum(_char_cols(c) for c in s)


def _em(c: str) -> float:
    cols = _char_cols(c)
    return 1.0 if cols == 2 else NARROW_EM * cols


def _text_width(s: str, font: float) -> float:
    """Estimated rendered width of ``s`` at ``font`` user units (an upper estimate)."""
    return sum(_em(c) for c in s) * font


def _truncate(s: str, limit: float, font: float) -> str:
    """``s`` if it fits in ``limit`` units, else its longest head that fits with "…"."""
    if _text_width(s, font) <= limit:
        return s
    room, used, out = limit - font, 0.0, []  # "…" is one em in a CJK font
    for c in s:
        w = _em(c) * font
        if used + w > room:
            break
        used += w
        out.append(c)
    return "".join(out).rstrip() + "…"


def _truncate_cols(s: str, cols: int) -> str:
    if display_width(s) <= cols:
        return s
    used, out = 0, []
    for c in s:
        w = _char_cols(c)
        if used + w > cols - 1:
            break
        used += w
        out.append(c)
    return "".join(out) + "…"


def _clean(s: str) -> str:
    """One line of text fit for XML: no control characters, no surrogates, no noncharacters
    U+FFFE/U+FFFF; runs of white space are one space."""
    s = "".join(c for c in str(s) if not (
        (unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r") or c in "\ufffe\uffff"))
    return _SPACE.sub(" ", s).strip()


def _n(x: float) -> str:
    """A coordinate, deterministically: at most two decimals, no trailing zeros."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# -- the parts every chart shares ---------------------------------------------------------

def _check(rows: list[Bar]) -> list[Bar]:
    out = []
    for r in rows:
        if not isinstance(r.value, int) or isinstance(r.value, bool) or r.value < 0:
            raise ValueError(f"a chart's value must be a count (an int >= 0), not {r.value!r}")
        if r.href is not None:
            parts = urlsplit(r.href)
            if parts.scheme or parts.netloc or r.href.lstrip().startswith(("/", "\\")) or _clean(r.href) != r.href:
                raise ValueError(f"a chart's link must be a relative URL, not {r.href!r}")
        out.append(Bar(_clean(r.label), r.value, r.href, _clean(r.note)))
    return out


def _chart_id(title: str, chart_id: str | None) -> str:
    if chart_id is not None:
        if not _ID.match(chart_id):
            raise ValueError(f"chart_id must be a letter then letters, digits, - or _: {chart_id!r}")
        return chart_id
    return "chart-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]


def _ticks(vmax: int) -> tuple[int, list[int]]:
    """A round step giving about four intervals up to ``vmax``: (axis top, tick values)."""
    if vmax <= 0:
        return 1, [0, 1]
    step, k = 1, 0
    while step * 4 < vmax:  # 1, 2, 5, 10, 20, 50 ...
        k += 1
        step = (1, 2, 5)[k % 3] * 10 ** (k // 3)
    top = -(-vmax // step) * step
    return top, list(range(0, top + 1, step))


def _tip(r: Bar, value_label: str) -> str:
    return "\n".join(x for x in (r.label, f"{value_label}：{r.value}", r.note) if x)


def _figure(cid: str, title: str, kind: str, svg: Markup, table: Markup) -> Markup:
    return Markup('<figure class="chart chart-{}" id="{}">\n<figcaption>{}</figcaption>\n{}{}</figure>\n').format(
        kind, cid, title, svg, table)


def _svg(cid: str, title: str, desc: str, height: float, body: list[Markup]) -> Markup:
    head = Markup('<svg xmlns="{}" class="chart-svg" role="img" aria-labelledby="{}-t" aria-describedby="{}-d" '
                  'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet">'
                  '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>\n').format(
        SVG_NS, cid, cid, WIDTH, _n(height), cid, title, cid, desc)
    return head + Markup("").join(body) + Markup("</svg>\n")


def _table(rows: list[Bar], first: str, value_label: str) -> Markup:
    notes = any(r.note for r in rows)
    head = Markup('<th scope="col">{}</th><th scope="col">{}</th>').format(first, value_label)
    if notes:
        head += Markup('<th scope="col">说明</th>')
    body = []
    for r in rows:
        label = (Markup('<a href="{}">{}</a>').format(r.href, r.label) if r.href is not None
                 else Markup("{}").format(r.label))
        row = Markup('<tr><th scope="row">{}</th><td class="num">{}</td>').format(label, r.value)
        if notes:
            row += Markup("<td>{}</td>").format(r.note)
        body.append(row + Markup("</tr>\n"))
    return Markup('<details class="chart-data"><summary>数据表</summary>\n<table class="chart-table">'
                  '<thead><tr>{}</tr></thead>\n<tbody>\n{}</tbody></table>\n</details>\n').format(
        head, Markup("").join(body))


def _empty(cid: str, title: str, kind: str, desc: str) -> Markup:
    body = [Markup('<text class="chart-empty" x="{}" y="34" font-size="{}" text-anchor="middle">{}</text>\n').format(
        WIDTH // 2, FONT, EMPTY)]
    svg = _svg(cid, title, (desc + " " if desc else "") + EMPTY + "。", 56, body)
    return _figure(cid, title, kind, svg, Markup(""))


def _link(r: Bar, inner: Markup) -> Markup:
    if r.href is None:
        return inner
    return Markup('<a href="{}">{}</a>').format(r.href, inner)


# -- the charts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Frame:
    cid: str
    rows: list[Bar]
    vmax: int
    top: int
    ticks: list[int]
    biggest: Bar  # the first row of the largest value (the default description names it)


def _frame(title: str, rows: list[Bar], chart_id: str | None) -> _Frame | None:
    """What both kinds of chart start from (None: no rows, draw :func:`_empty`)."""
    rows = _check(rows)
    if not rows:
        return None
    vmax = max(r.value for r in rows)
    top, ticks = _ticks(vmax)
    return _Frame(_chart_id(title, chart_id), rows, vmax, top, ticks,
                  next(r for r in rows if r.value == vmax))


def bars(title: str, rows: list[Bar], *, value_label: str, desc: str = "", axis_label: str = "",
         chart_id: str | None = None) -> Markup:
    """A horizontal bar chart, rows in the order given (most cited works, topics with most
    reviews, quality problems by kind). Each label stands above its bar, the value after
    it; the value axis (ticks, ``value_label``) is below, ``axis_label`` (what the rows are)
    heads the rows when given. ``chart_id`` (default: from the title) must be unique on
    the page."""
    title, value_label, desc, axis_label = map(_clean, (title, value_label, desc, axis_label))
    f = _frame(title, rows, chart_id)
    if f is None:
        return _empty(_chart_id(title, chart_id), title, "bars", desc)
    cid, rows, vmax, top, ticks = f.cid, f.rows, f.vmax, f.top, f.ticks
    if not desc:
        desc = f"横向条形图，共 {len(rows)} 项，{value_label}最多的是“{f.biggest.label}”（{vmax}）。"
    pad = 4.0
    value_room = max(_text_width(str(r.value), SMALL) for r in rows) + 6
    plot_w = WIDTH - 2 * pad - value_room
    row_h, y0 = 38.0, (24.0 if axis_label else 6.0)
    bottom = y0 + row_h * len(rows) + 2
    scale = plot_w / top
    out: list[Markup] = []
    if axis_label:
        out.append(Markup('<text class="axis-label" x="{}" y="15" font-size="{}">{}</text>\n').format(
            _n(pad), SMALL, _truncate(axis_label, WIDTH - 2 * pad, SMALL)))
    out.append(Markup('<g class="grid">'))
    for t in ticks[1:]:
        x = pad + t * scale
        out.append(Markup('<line x1="{}" x2="{}" y1="{}" y2="{}"/>').format(_n(x), _n(x), _n(y0), _n(bottom)))
    out.append(Markup("</g>\n"))
    for i, r in enumerate(rows):
        y = y0 + i * row_h
        w = r.value * scale
        label = _truncate(r.label, WIDTH - 2 * pad - 3, FONT)
        inner = Markup('<g class="row"><title>{}</title>'
                       '<text class="label" x="{}" y="{}" font-size="{}">{}</text>'
                       '<rect class="bar" x="{}" y="{}" width="{}" height="12" data-value="{}"/>'
                       '<text class="value" x="{}" y="{}" font-size="{}">{}</text></g>').format(
            _tip(r, value_label), _n(pad + 3), _n(y + 14), FONT, label,
            _n(pad), _n(y + 19), _n(w), r.value, _n(pad + w + 4), _n(y + 29.5), SMALL, r.value)
        out.append(_link(r, inner) + Markup("\n"))
    out.append(Markup('<g class="axis"><line x1="{}" x2="{}" y1="{}" y2="{}"/><line x1="{}" x2="{}" y1="{}" y2="{}"/></g>\n').format(
        _n(pad), _n(pad), _n(y0), _n(bottom), _n(pad), _n(pad + plot_w), _n(bottom), _n(bottom)))
    out.append(Markup('<g class="ticks" font-size="{}" text-anchor="middle">').format(SMALL))
    for t in ticks:
        x = pad + t * scale
        out.append(Markup('<text x="{}" y="{}">{}</text>').format(
            _n(max(x, pad + _text_width(str(t), SMALL) / 2)), _n(bottom + 16), t))
    out.append(Markup("</g>\n"))
    out.append(Markup('<text class="axis-label" x="{}" y="{}" font-size="{}" text-anchor="middle">{}</text>\n').format(
        _n(pad + plot_w / 2), _n(bottom + 36), SMALL, _truncate(value_label, plot_w, SMALL)))
    svg = _svg(cid, title, desc, bottom + 44, out)
    return _figure(cid, title, "bars", svg, _table(rows, axis_label or "项目", value_label))


def _month(label: str) -> int | None:
    m = _MONTH.match(label)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def _axis_labels(labels: list[str], band: float) -> tuple[int, int, bool]:
    """Which category labels to write under a column chart: every ``step``-th from
    ``offset`` (months: those whose month number is a multiple of the step, so a yearly step
    labels Januaries and writes only the year). Returns (step, offset, years_only)."""
    months = [_month(x) for x in labels]
    consecutive = all(m is not None for m in months) and all(
        b == a + 1 for a, b in zip(months, months[1:]))
    for step in _STEPS + (len(labels),):
        years = consecutive and step % 12 == 0
        shown = [x[:4] if years else x for x in labels]
        need = max(_text_width(x, SMALL) for x in shown) + 6
        if step * band >= need or step >= len(labels):
            offset = (-months[0]) % step if consecutive else 0
            return step, offset, years
    raise AssertionError("unreachable")


def columns(title: str, rows: list[Bar], *, value_label: str, axis_label: str, desc: str = "",
            chart_id: str | None = None) -> Markup:
    """A vertical column chart over an ordered axis (reviews received per month, labels
    "2025-11"). The value axis (``value_label`` above it, round ticks) is at the left, the
    category axis (``axis_label``) below; with many columns only every n-th label is
    written (a quarter, half a year, a year ... for months)."""
    title, value_label, axis_label, desc = map(_clean, (title, value_label, axis_label, desc))
    f = _frame(title, rows, chart_id)
    if f is None:
        return _empty(_chart_id(title, chart_id), title, "columns", desc)
    cid, rows, vmax, top, ticks = f.cid, f.rows, f.vmax, f.top, f.ticks
    if not desc:
        desc = (f"柱状图，{axis_label}从 {rows[0].label} 到 {rows[-1].label}，共 {len(rows)} 列，"
                f"{value_label}最多的是 {f.biggest.label}（{vmax}）。")
    labels = [_truncate(r.label, 10 * NARROW_EM * SMALL, SMALL) for r in rows]
    label_half = max(_text_width(x, SMALL) for x in labels) / 2
    tick_w = max(_text_width(str(t), SMALL) for t in ticks)
    left = max(tick_w + 10, label_half + 2)
    right = max(8.0, label_half + 2)
    plot_top, plot_h = 28.0, 150.0
    bottom = plot_top + plot_h
    plot_w = WIDTH - left - right
    band = plot_w / len(rows)
    bar_w = min(band * 0.8, 36.0)
    scale = plot_h / top
    step, offset, years = _axis_labels(labels, band)
    out: list[Markup] = [Markup('<text class="axis-label" x="0" y="14" font-size="{}">{}</text>\n').format(
        SMALL, _truncate(value_label, WIDTH, SMALL))]
    out.append(Markup('<g class="grid">'))
    for t in ticks[1:]:
        y = bottom - t * scale
        out.append(Markup('<line x1="{}" x2="{}" y1="{}" y2="{}"/>').format(_n(left), _n(left + plot_w), _n(y), _n(y)))
    out.append(Markup("</g>\n"))
    out.append(Markup('<g class="ticks" font-size="{}" text-anchor="end">').format(SMALL))
    for t in ticks:
        out.append(Markup('<text x="{}" y="{}">{}</text>').format(_n(left - 5), _n(bottom - t * scale + 4.5), t))
    out.append(Markup("</g>\n"))
    show_values = max(_text_width(str(r.value), SMALL) for r in rows) + 2 <= band
    for i, r in enumerate(rows):
        cx = left + (i + 0.5) * band
        h = r.value * scale
        inner = Markup('<g class="col"><title>{}</title><rect class="bar" x="{}" y="{}" width="{}" height="{}" data-value="{}"/>').format(
            _tip(r, value_label), _n(cx - bar_w / 2), _n(bottom - h), _n(bar_w), _n(h), r.value)
        if show_values:
            inner += Markup('<text class="value" x="{}" y="{}" font-size="{}" text-anchor="middle">{}</text>').format(
                _n(cx), _n(bottom - h - 4), SMALL, r.value)
        out.append(_link(r, inner + Markup("</g>")) + Markup("\n"))
    out.append(Markup('<g class="axis"><line x1="{}" x2="{}" y1="{}" y2="{}"/><line x1="{}" x2="{}" y1="{}" y2="{}"/>').format(
        _n(left), _n(left), _n(plot_top), _n(bottom), _n(left), _n(left + plot_w), _n(bottom), _n(bottom)))
    for i in range(offset, len(rows), step):
        cx = left + (i + 0.5) * band
        out.append(Markup('<line x1="{}" x2="{}" y1="{}" y2="{}"/>').format(_n(cx), _n(cx), _n(bottom), _n(bottom + 4)))
    out.append(Markup("</g>\n"))
    out.append(Markup('<g class="cats" font-size="{}" text-anchor="middle">').format(SMALL))
    for i in range(offset, len(rows), step):
        cx = left + (i + 0.5) * band
        out.append(Markup('<text x="{}" y="{}">{}</text>').format(
            _n(cx), _n(bottom + 18), labels[i][:4] if years else labels[i]))
    out.append(Markup("</g>\n"))
    out.append(Markup('<text class="axis-label" x="{}" y="{}" font-size="{}" text-anchor="middle">{}</text>\n').format(
        _n(left + plot_w / 2), _n(bottom + 38), SMALL, _truncate(axis_label, plot_w, SMALL)))
    svg = _svg(cid, title, desc, bottom + 46, out)
    return _figure(cid, title, "columns", svg, _table(rows, axis_label or "项目", value_label))


def text_bars(rows: list[tuple[str, int]], width: int = 30, *, label_width: int = 40) -> list[str]:
    """The figures as lines of a terminal bar chart: the label padded to the widest one by
    display width (CJK characters are two columns; labels longer than ``label_width``
    columns end in "…"), then a bar of "█" with an eighth block for the remainder (a bar
    ``width`` columns long for the largest value; a value above zero shows at least "▏"),
    then the value. Every bar starts at the same display column."""
    if not rows:
        return []
    labels = [_truncate_cols(_clean(label), label_width) for label, _ in rows]
    pad = max(display_width(x) for x in labels)
    vmax = max(v for _, v in rows)
    out = []
    for label, (_, v) in zip(labels, rows):
        if v < 0:
            raise ValueError(f"a bar's value must be >= 0, not {v!r}")
        eighths = round(v * width * 8 / vmax) if vmax else 0
        if v and not eighths:
            eighths = 1
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        out.append(f"{label}{' ' * (pad - display_width(label))} {bar}{' ' if bar else ''}{v}")
    return out
