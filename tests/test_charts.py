"""The site's charts (publish/charts.py): well-formed, accessible, escaped, proportional SVG
with a data table; the terminal bars of `reviews stats`; the pages that hold them, in
Chromium at a desktop and a phone width."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markupsafe import Markup

from publish import urls
from publish.charts import Bar, bars, columns, display_width, text_bars
from publish.resources import TEMPLATES, make_env

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script> & \"双\" 'single' ]]> <!-- x -->"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")


def _fig(m: Markup) -> ET.Element:
    assert isinstance(m, Markup)
    fig = ET.fromstring(str(m))  # the whole figure is well-formed XML
    assert fig.tag == "figure" and "chart" in fig.get("class").split()
    return fig


def _svg(fig: ET.Element) -> ET.Element:
    svgs = fig.findall(f"{NS}svg")
    assert len(svgs) == 1
    return svgs[0]


def _rects(svg: ET.Element) -> list[ET.Element]:
    return [r for r in svg.iter(f"{NS}rect") if r.get("class") == "bar"]


def _texts(svg: ET.Element, cls: str | None = None) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(f"{NS}text") if cls is None or t.get("class") == cls]


def _group_texts(svg: ET.Element, cls: str) -> list[ET.Element]:
    g = [e for e in svg.iter(f"{NS}g") if e.get("class") == cls]
    assert len(g) == 1, cls
    return list(g[0].iter(f"{NS}text"))


def _table_rows(fig: ET.Element) -> list[tuple[str, str, str, str | None]]:
    """(label, value, note, href) of every row of the data table."""
    details = fig.find("details")
    assert details is not None and details.find("summary").text == "数据表"
    out = []
    for tr in details.find("table").find("tbody").findall("tr"):
        th, *tds = list(tr)
        a = th.find("a")
        out.append(("".join(th.itertext()), tds[0].text, "".join(tds[1].itertext()) if len(tds) > 1 else "",
                    a.get("href") if a is not None else None))
    return out


def _check_accessible(fig: ET.Element, title: str) -> ET.Element:
    svg = _svg(fig)
    assert svg.get("role") == "img" and svg.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ [\d.]+", svg.get("viewBox"))
    ids = {e.get("id"): e for e in fig.iter() if e.get("id")}
    t, d = ids[svg.get("aria-labelledby")], ids[svg.get("aria-describedby")]
    assert t.tag == f"{NS}title" and t.text == title and list(svg)[0] is t
    assert d.tag == f"{NS}desc" and d.text.strip()
    assert fig.find("figcaption").text == title
    # the CSP allows no inline styles and no scripts
    for e in fig.iter():
        assert "style" not in e.attrib and not e.tag.endswith(("style", "script"))
        assert not any(k.startswith("on") for k in e.attrib)
    return svg


CITED = [Bar("深度残差学习用于图像识别", 42, "refs/r0123456789.html", "引用 42 次，17 篇综述"),
         Bar("Attention Is All You Need", 30, "refs/r1111111111.html", "引用 30 次，12 篇综述"),
         Bar("ImageNet 大规模视觉识别挑战赛", 7, None, ""),
         Bar("零次引用", 0)]


def test_bars_structure_axes_and_proportions():
    fig = _fig(bars("被引最多的参考文献", CITED, value_label="引用次数", axis_label="文献"))
    svg = _check_accessible(fig, "被引最多的参考文献")
    rects = _rects(svg)
    assert [int(r.get("data-value")) for r in rects] == [b.value for b in CITED]  # in the order given
    widths = [float(r.get("width")) for r in rects]
    assert widths[-1] == 0  # a zero value is a zero-length bar
    per_unit = widths[0] / CITED[0].value
    for w, b in zip(widths, CITED):
        assert w == pytest.approx(b.value * per_unit, abs=0.02)
    assert len({r.get("x") for r in rects}) == 1  # every bar starts at the axis
    # the value axis: round ticks from 0 past the largest value, and its label; the rows' heading
    ticks = [int(t.text) for t in _group_texts(svg, "ticks")]
    assert ticks[0] == 0 and ticks[-1] >= 42 and 3 <= len(ticks) <= 7
    steps = {b - a for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and re.fullmatch(r"[125]0*", str(steps.pop()))
    assert _texts(svg, "axis-label") == ["文献", "引用次数"]
    # the tick at the top of the axis stands where a bar of that value would end
    top_x = float(_group_texts(svg, "ticks")[-1].get("x"))
    assert top_x == pytest.approx(float(rects[0].get("x")) + ticks[-1] * per_unit, abs=0.02)
    assert _texts(svg, "value") == ["42", "30", "7", "0"]


def test_every_row_in_the_table_and_links():
    fig = _fig(bars("被引最多的参考文献", CITED, value_label="引用次数"))
    assert _table_rows(fig) == [(b.label, str(b.value), b.note, b.href) for b in CITED]
    svg = _svg(fig)
    links = list(svg.iter(f"{NS}a"))
    assert [a.get("href") for a in links] == [b.href for b in CITED if b.href]
    # the bar and its label are the link; the tooltip holds label, value and note
    first = links[0]
    assert first.find(f".//{NS}rect") is not None and first.find(f".//{NS}text").text == CITED[0].label
    tip = first.find(f".//{NS}title").text
    assert CITED[0].label in tip and "42" in tip and CITED[0].note in tip
    # no note anywhere: no note column
    plain = _fig(bars("t", [Bar("a", 1), Bar("b", 2)], value_label="v"))
    assert len(plain.find("details/table/thead/tr")) == 2


def test_text_is_escaped_everywhere():
    rows = [Bar(HOSTILE, 3, "a.html?x=1&y=\"2\"", HOSTILE), Bar("b", 1)]
    for m in (bars(HOSTILE, rows, value_label=HOSTILE, axis_label=HOSTILE, desc=HOSTILE),
              columns(HOSTILE, rows, value_label=HOSTILE, axis_label=HOSTILE, desc=HOSTILE)):
        raw = str(m)
        assert "<script" not in raw and "]]>" not in raw and "<!--" not in raw
        fig = _fig(m)  # parses, so every &, <, > and quote was escaped
        svg = _svg(fig)
        assert fig.find("figcaption").text == HOSTILE
        assert svg.find(f"{NS}title").text == HOSTILE and svg.find(f"{NS}desc").text == HOSTILE
        assert _table_rows(fig)[0] == (HOSTILE, "3", HOSTILE, "a.html?x=1&y=\"2\"")
        assert next(svg.iter(f"{NS}a")).get("href") == "a.html?x=1&y=\"2\""
        assert all(HOSTILE.startswith(t.rstrip("…")) for t in _texts(svg, "axis-label"))
        assert not [e for e in fig.iter() if e.tag in ("script", f"{NS}script")]


def test_control_characters_do_not_break_the_xml():
    fig = _fig(bars("a\x00b\x1bc", [Bar("x\x07y\nz\ufffe", 1, note="n\x0bm")], value_label="v"))
    assert fig.find("figcaption").text == "abc"
    assert _table_rows(fig)[0][:3] == ("xy z", "1", "nm")


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JavaScript:alert(1)", "//evil.example/x",
                                  "https://evil.example/", "/abs.html", "data:text/html,x"])
def test_links_must_be_relative(href):
    with pytest.raises(ValueError):
        bars("t", [Bar("a", 1, href)], value_label="v")
    with pytest.raises(ValueError):
        columns("t", [Bar("a", 1, href)], value_label="v", axis_label="x")


def test_values_must_be_counts():
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError):
            bars("t", [Bar("a", bad)], value_label="v")


def test_empty_and_all_zero():
    for m in (bars("空图", [], value_label="v"), columns("空图", [], value_label="v", axis_label="月份")):
        fig = _fig(m)
        svg = _check_accessible(fig, "空图")
        assert "暂无数据" in _texts(svg) and "暂无数据" in svg.find(f"{NS}desc").text
        assert not _rects(svg) and fig.find("details") is None
    for m in (bars("零", [Bar("a", 0), Bar("b", 0)], value_label="v"),
              columns("零", [Bar("2025-01", 0), Bar("2025-02", 0)], value_label="v", axis_label="月份")):
        svg = _check_accessible(_fig(m), "零")
        rects = _rects(svg)
        assert len(rects) == 2
        assert all(float(r.get("width" if "bars" in str(m)[:40] else "height")) == 0 for r in rects)
        assert [int(t.text) for t in _group_texts(svg, "ticks")] == [0, 1]


def test_long_labels_are_shortened_by_display_width():
    long_zh = "基于深度卷积神经网络与注意力机制的多模态医学图像分割方法及其在临床诊断中的应用研究综述"
    long_en = "A Very Long English Title About Convolutional Neural Networks For Image Segmentation"
    fig = _fig(bars("长标签", [Bar(long_zh, 5, "a.html"), Bar(long_en, 3), Bar("短", 1)], value_label="次"))
    svg = _svg(fig)
    zh, en, short = _texts(svg, "label")
    assert zh.endswith("…") and long_zh.startswith(zh[:-1]) and short == "短"
    assert en.endswith("…") and long_en.startswith(en[:-1].rstrip())
    # shortened by their width as drawn (a CJK character is wider): both fill the line
    assert len(zh) < len(en)
    for s in (zh, en):
        assert 400 - 3 * 14 <= _estimated_width(s, 14) <= 400 - 8
    # the full label is in the bar's tooltip and in the table
    tips = [g.find(f"{NS}title").text for g in svg.iter(f"{NS}g") if g.get("class") == "row"]
    assert tips[0].startswith(long_zh) and tips[1].startswith(long_en)
    assert [r[0] for r in _table_rows(fig)] == [long_zh, long_en, "短"]


def test_ids_are_unique_per_chart_and_stable():
    a = bars("被引最多的参考文献", CITED, value_label="引用次数")
    b = bars("主题综述数", CITED, value_label="综述数")
    c = columns("每月收到的综述", [Bar("2025-01", 1)], value_label="综述数", axis_label="月份")
    ids = [e.get("id") for m in (a, b, c) for e in _fig(m).iter() if e.get("id")]
    assert len(ids) == len(set(ids)) == 9  # figure, title, desc of each
    assert str(a) == str(bars("被引最多的参考文献", CITED, value_label="引用次数"))  # deterministic
    d = _fig(bars("被引最多的参考文献", CITED, value_label="引用次数", chart_id="cited2"))
    assert d.get("id") == "cited2" and _svg(d).get("aria-labelledby") == "cited2-t"
    with pytest.raises(ValueError):
        bars("t", CITED, value_label="v", chart_id='x" onload="alert(1)')


def _months(n: int, start: tuple[int, int] = (2016, 3)) -> list[Bar]:
    y, m = start
    out = []
    for i in range(n):
        out.append(Bar(f"{y}-{m:02d}", (i * 7919) % 23, f"dates/{y}-{m:02d}.html" if i % 2 else None))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_columns_structure_and_proportions():
    rows = _months(14)
    fig = _fig(columns("每月收到的综述", rows, value_label="综述数", axis_label="月份"))
    svg = _check_accessible(fig, "每月收到的综述")
    rects = _rects(svg)
    assert [int(r.get("data-value")) for r in rects] == [b.value for b in rows]
    vmax = max(b.value for b in rows)
    top = max(rects, key=lambda r: int(r.get("data-value")))
    per_unit = float(top.get("height")) / vmax
    bottoms = set()
    for r, b in zip(rects, rows):
        assert float(r.get("height")) == pytest.approx(b.value * per_unit, abs=0.02)
        bottoms.add(round(float(r.get("y")) + float(r.get("height")), 1))
    assert len(bottoms) == 1  # every column stands on the axis
    xs = [float(r.get("x")) for r in rects]
    assert xs == sorted(xs) and len({round(b - a, 1) for a, b in zip(xs, xs[1:])}) == 1
    ticks = [int(t.text) for t in _group_texts(svg, "ticks")]
    assert ticks[0] == 0 and ticks[-1] >= vmax
    assert _texts(svg, "axis-label") == ["综述数", "月份"]
    assert [r[0] for r in _table_rows(fig)] == [b.label for b in rows]
    assert [a.get("href") for a in svg.iter(f"{NS}a")] == [b.href for b in rows if b.href]


def _estimated_width(s: str, font: float) -> float:
    return sum(1.0 if display_width(c) == 2 else 0.6 for c in s) * font


@pytest.mark.parametrize("n", [1, 5, 12, 30, 60, 120])
def test_axis_labels_are_thinned_and_never_collide(n):
    rows = _months(n)
    svg = _svg(_fig(columns("每月", rows, value_label="综述数", axis_label="月份")))
    cats = _group_texts(svg, "cats")
    shown = [(float(t.get("x")), t.text, int(t.get("font-size") or 13)) for t in cats]
    assert 1 <= len(shown) <= n
    if n <= 5:
        assert [s for _, s, _ in shown] == [b.label for b in rows]  # few columns: every label
    # evenly spaced, and no two overlap (at the width the chart assumes for its font)
    gaps = [b[0] - a[0] for a, b in zip(shown, shown[1:])]
    assert not gaps or max(gaps) - min(gaps) < 0.05
    for (x1, s1, f), (x2, s2, _) in zip(shown, shown[1:]):
        assert x2 - x1 >= (_estimated_width(s1, 13) + _estimated_width(s2, 13)) / 2 + 4
    # every label inside the drawing
    width = float(svg.get("viewBox").split()[2])
    for x, s, _ in shown:
        assert x - _estimated_width(s, 13) / 2 >= 0 and x + _estimated_width(s, 13) / 2 <= width
    # each label stands under its column
    centres = {round(float(r.get("x")) + float(r.get("width")) / 2, 1): b.label for r, b in zip(_rects(svg), rows)}
    for x, s, _ in shown:
        assert centres[round(x, 1)].startswith(s)
    if n == 120:
        assert 4 <= len(shown) <= 12
        # a yearly step labels Januaries with the year alone
        assert all(re.fullmatch(r"\d{4}", s) for _, s, _ in shown)
        assert all(centres[round(x, 1)].endswith("-01") for x, _, _ in shown)


def test_columns_without_month_labels():
    rows = [Bar(f"第{i}周", i) for i in range(1, 41)]
    svg = _svg(_fig(columns("每周", rows, value_label="篇", axis_label="周")))
    shown = [t.text for t in _group_texts(svg, "cats")]
    assert 2 <= len(shown) < 40 and shown[0] == "第1周"


def test_text_bars_align_by_display_width():
    rows = [("深度学习", 40), ("ResNet", 23), ("图像识别 CV", 7), ("零", 0), ("x", 1)]
    lines = text_bars(rows, width=20)
    assert len(lines) == len(rows)
    starts = set()
    for line, (label, v) in zip(lines, rows):
        assert line.startswith(label) and line.endswith(str(v))
        body = line[len(label):]
        lead = len(body) - len(body.lstrip(" "))
        starts.add(display_width(label) + lead)  # the display column where the bar begins
        bar = body.strip(" ")[: -len(str(v))].strip()
        assert set(bar) <= set("█▏▎▍▌▋▊▉")
        eighths = 8 * bar.count("█") + (" ▏▎▍▌▋▊▉".index(bar[-1]) if bar and bar[-1] != "█" else 0)
        expected = round(v * 20 * 8 / 40)
        assert eighths == (max(expected, 1) if v else 0)
    assert starts == {display_width("图像识别 CV") + 1}
    assert lines[0].count("█") == 20  # the largest value fills the width


def test_text_bars_edge_cases():
    assert text_bars([]) == []
    assert text_bars([("a", 0), ("b", 0)]) == ["a 0", "b 0"]
    long = text_bars([("很" * 30, 1), ("b", 2)], width=4, label_width=10)
    assert long[0].startswith("很很很很…") and display_width(long[0].split(" ")[0]) <= 10
    with pytest.raises(ValueError):
        text_bars([("a", -1)])


# -- the pages ----------------------------------------------------------------------------

def _charts() -> dict:
    topics = [Bar(t, n, f"topics/{t}.html") for t, n in
              [("深度学习在医学图像分割中的应用与挑战", 17), ("大语言模型", 12), ("强化学习", 9),
               ("联邦学习与隐私保护", 4), ("量子计算", 1)]]
    return {
        "months": columns("每月收到的综述", _months(120), value_label="综述数", axis_label="月份"),
        "cited": bars("被引最多的参考文献", CITED + [Bar(HOSTILE, 2)], value_label="引用次数"),
        "topics": bars("综述最多的主题", topics, value_label="综述数", axis_label="主题"),
        "problems": bars("质量问题（按类别）", [Bar("truncated 截断", 12, "#code-truncated"),
                                          Bar("dangling-citation 悬空引用", 8, "#code-dangling-citation"),
                                          Bar("crlf 换行", 0)], value_label="综述数", axis_label="问题"),
    }


def _render(template: str, **extra) -> str:
    ctx = {"url": urls.Linker(template), "hide_search_box": False}
    if template == "index.html":
        ctx.update(newest=[], topics=[], more_topics=False, top_refs=[],
                   stats={k: 0 for k in ("reviews", "versions", "references", "citations", "dangling", "topics")})
    else:
        ctx.update(codes=[], flagged=[], defective=0, notes_only=0, clean=0)
    return make_env().get_template(template).render(**ctx, **extra)


def test_pages_render_with_and_without_charts():
    charts = _charts()
    for template, keys in (("index.html", ("months", "cited", "topics")), ("quality.html", ("problems",))):
        bare = _render(template)
        assert "chart" not in bare  # today's builder passes no charts: the page is as before
        assert _render(template, charts={}) == bare
        html = _render(template, charts=charts)
        for k in keys:
            assert str(charts[k]) in html  # as made, not escaped again
        others = set(charts) - set(keys)
        assert not any(str(charts[k]) in html for k in others)
        # one chart alone is fine; a chart given as a plain string is escaped, not trusted
        one = _render(template, charts={keys[0]: charts[keys[0]]})
        assert one.count("<figure") == 1
        assert "&lt;svg" in _render(template, charts={keys[0]: str(charts[keys[0]])})


@pytest.fixture(scope="module")
def chart_pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("charts")
    (out / "static").mkdir()
    shutil.copy(TEMPLATES / "static" / "style.css", out / "static" / "style.css")
    (out / "index.html").write_text(_render("index.html", charts=_charts()), "utf-8")
    (out / "quality.html").write_text(_render("quality.html", charts=_charts()), "utf-8")
    return out


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_charts_in_chromium_at_desktop_and_phone_widths(chart_pages):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            for width in (1280, 360):
                ctx = browser.new_context(viewport={"width": width, "height": 800})
                page = ctx.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                for name in ("index", "quality"):
                    page.goto((chart_pages / f"{name}.html").as_uri())
                    n = 3 if name == "index" else 1
                    assert page.locator("figure.chart svg").count() == n
                    page.screenshot(path=str(ARTIFACTS / f"charts-{name}-{width}.png"), full_page=True)
                    # the data tables, opened, fit as well
                    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                    if name == "index":
                        page.screenshot(path=str(ARTIFACTS / f"charts-{name}-{width}-tables.png"), full_page=True)
                    m = page.evaluate("""() => {
                        const vw = document.documentElement.clientWidth;
                        const figs = [...document.querySelectorAll('figure.chart')].map(f => {
                            const r = f.getBoundingClientRect(), s = f.querySelector('svg');
                            const sr = s.getBoundingClientRect();
                            return {left: r.left, right: r.right, svgHeight: sr.height,
                                    scale: sr.width / s.viewBox.baseVal.width,  // CSS px per user unit
                                    fontSizes: [...s.querySelectorAll('text')].map(t =>
                                        parseFloat(getComputedStyle(t).fontSize))};
                        });
                        return {vw, scrollWidth: document.documentElement.scrollWidth, figs};
                    }""")
                    assert m["scrollWidth"] <= m["vw"], f"horizontal overflow at {width}px on {name}"
                    for f in m["figs"]:
                        assert f["left"] >= 0 and f["right"] <= m["vw"] and f["svgHeight"] > 50
                        # text stays legible: the smallest font, as drawn, is at least 10 CSS px
                        assert min(f["fontSizes"]) * f["scale"] >= 10, (width, f)
                        if width == 1280:  # and not huge on a desktop
                            assert max(f["fontSizes"]) * f["scale"] <= 18, f
                assert not errors, errors  # no CSP refusal, no script error
                ctx.close()
        finally:
            browser.close()
