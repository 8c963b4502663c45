"""The built site in a real Chromium: search equals `reviews search`, links land, no XSS.

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`).
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from archive import citing
from archive.parser import parse
from index.search import search
from publish import urls
from publish.serve import make_server
from publish.site import build_site
from index.literal import Literal
from index.analysis import fold
from tests.conformance.tables import corpus, load
from tests.helpers import SAMPLE, XSS_UUID, broken_links

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SUBPATH = "some/sub/path"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    store, _ = corpus(tmp)  # the corpus of the conformance tables
    out = tmp / "www" / SUBPATH
    build_site(store, out, block=4, workers=2)  # 6 partitions
    server = make_server(tmp / "www", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    records = [r for _, r in store.iter_current()]
    yield {"store": store, "index": tmp / "index", "out": out, "records": records,
           "base": f"http://{host}:{port}/{SUBPATH}/"}
    server.shutdown()
    server.server_close()
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    pg.errors = []
    pg.dialogs = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    # a Content-Security-Policy violation is a console error, not a page error: count it too
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" and (
        "Content Security Policy" in m.text or "Refused to" in m.text) else None)
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()


def _queries(records) -> list[tuple[str, dict]]:
    """Queries over what the corpus holds: literals, phrases, fields, OR, NOT, dates."""
    gen = [r for r in records if r.uuid != XSS_UUID]
    a, b = gen[2], gen[5]
    sec = next(s for s in a.sections if s.depth == 2 and s.body)
    cited = next(c for c in b.citations if c.ref_id and c.section != "abstract")
    ref_title = next(r.title for r in b.references if r.ref_id == cited.ref_id)
    latin = next(k for r in gen for k in r.keywords if k.isascii())
    dates = sorted(r.received_at[:10] for r in gen)
    q = [
        "深度学习", "研究", "学", "图像识别", "迁移学习 数据", sec.body[10:16], a.topic[:5],
        latin, latin.lower(), '"' + sec.body[20:30] + '"', "ResNet", "F1-Score", "f1",
        f"topic:{b.topic[:4]}", f"section:{sec.number}", f"section:{sec.title[:3]}",
        f"ref:{cited.ref_id}", f"ref:{ref_title[:4]}", f"uuid:{a.uuid[:3]}",
        "研究 -方法", "研究 NOT 深度", f"{a.topic[:3]} OR {b.topic[:3]}",
        f"topic:{a.topic[:4]} 研究", "注入", "alert", "script", "不存在的词语组合",
        "ResNet的", "2025年", '"深度 学习"', "“图像识别”", f"ref:{ref_title[:1]}", "topic:的",
    ]
    # review-level matching: terms from two different sections of one review; a
    # section: scope with a term inside it and one outside; NOT of a term one section holds
    other = next(s for s in a.sections if s.number.split(".")[0] != sec.number.split(".")[0]
                 and len(s.body) > 20)
    inside, outside = sec.body[10:14], other.body[12:16]
    q += [f"{inside} {outside}", f'"{inside}" "{outside}"',
          f"section:{sec.number} {inside}", f"section:{sec.number} {outside}",
          f"section:{sec.number} {inside} {outside}", f"uuid:{a.uuid[:3]} -{inside}",
          f"-{outside} {inside}", f"topic:{a.topic[:4]} -{inside}", "section:摘要 研究",
          "section:参考文献 研究"]
    out = [(x, {}) for x in q]
    out.append(("研究", {"since": dates[5], "until": dates[-5]}))
    out.append(("方法", {"since": dates[8]}))
    return out


def _js_query(q: str, opts: dict) -> str:
    extra = "".join(f" {k}:{v}" for k, v in opts.items())
    return q + extra


def _cli(site, q, opts) -> list[str]:
    return search(site["index"], q, ids_only=True, **opts).uuids


def test_search_matches_cli(site, page):
    """Every match, in the same order: the site ranks as `reviews search` does."""
    page.goto(site["base"] + "search.html")
    page.wait_for_function("window.RA && RA.run && RA.language")
    nonempty = 0
    for q, opts in _queries(site["records"]):
        expected = _cli(site, q, opts)
        got = page.evaluate("q => RA.run(q).then(RA.exact).then(r => r.error ? ['ERROR ' + r.error] : RA.uuidsOf(r))",
                            _js_query(q, opts))
        assert got == expected, (q, opts)
        nonempty += len(expected) > 1
    assert nonempty >= 20  # the queries do find things, and rank several
    assert page.errors == []


def test_conformance_tables_in_the_browser(site, page):
    """The tables of tests/conformance/, answered by lang.js and the engine (search-*.js)."""
    page.goto(site["base"] + "search.html")
    page.wait_for_function("window.RA && RA.run && RA.language")
    for row in load("analysis.json"):
        got = page.evaluate("""t => { const f = RA.language.fold(t);
            return {text: t, folded: f, tokens: RA.language.primary(f).map(x => x.text), grams: Array.from(RA.language.grams(f))}; }""",
                            row["text"])
        got["grams"] = sorted(got["grams"])
        assert got == row, row["text"]
    for row in load("queries.json"):
        got = page.evaluate("""q => { try { const p = RA.language.parse(q);
                return {query: q, parsed: {groups: p.groups.map(g => g.map(a => [a.field, a.value, a.quoted, a.negated])),
                                           since: p.since, until: p.until}};
            } catch (e) { if (e instanceof RA.language.QueryError) return {query: q, error: e.code}; throw e; } }""",
                            row["query"])
        assert got == row, row["query"]
    for row in load("ranking.json")["queries"]:
        got = page.evaluate("q => RA.run(q).then(r => RA.uuidsOf({reviews: r.reviews.slice(0, 10)}))", row["query"])
        assert got == row["first_page"], row["query"]
    assert page.errors == []


def test_search_box_by_keyboard(site, page):
    page.goto(site["base"] + "index.html")
    box = page.get_by_role("searchbox")
    box.fill("迁移学习")
    box.press("Enter")
    page.wait_for_selector("body[data-search-done]")
    assert "search.html?q=" in page.url and "q=%E8%BF%81" in page.url
    expected = search(site["index"], "迁移学习", limit=10)
    assert f"找到 {expected.total_reviews} 篇综述" in page.locator("#status").inner_text()
    shown = page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.uuid)")
    assert shown == [r.uuid for r in expected.reviews]  # the CLI's first page, in its order
    # the sections shown are the CLI's, in its order
    for r, li in zip(expected.reviews, page.locator("li.result").all()):
        hrefs = li.locator("a.hit-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        anchors = [h.split("#")[1] for h in hrefs]
        assert anchors == [s.number if s.number in ("abstract", "references") else "s-" + s.number
                           for s in r.sections], r.uuid
    assert set(page.locator("li.result mark").all_inner_texts()) == {"迁移学习"}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)
    # a hit links to its section anchor with the query, and the anchor is on the review page
    link = page.locator("a.hit-link").first
    href = link.get_attribute("href")
    assert "?highlight=" in href
    link.click()
    page.wait_for_selector("body[data-highlighted]")
    anchor = href.split("#")[1]
    assert page.url.endswith(href.split("/")[-1]) and page.locator(f"[id='{anchor}']").count() == 1
    assert page.errors == []


def _unmarked(page, selector: str) -> list[str]:
    """The texts of ``selector`` elements with every <mark> cut out (a NUL in its place)."""
    return page.locator(selector).evaluate_all("""els => els.map(e => { const c = e.cloneNode(true);
        c.querySelectorAll('mark').forEach(m => m.replaceWith('\u0000')); return c.textContent; })""")


@pytest.mark.parametrize("q", ["研究", "学习", "ResNet", "数据 模型"])
def test_every_occurrence_in_a_snippet_is_marked(site, page, q):
    page.goto(site["base"] + "search.html?q=" + quote(q))
    page.wait_for_selector("body[data-search-done]")
    lits = [Literal(w) for w in q.split()]
    snippets = _unmarked(page, "p.snippet") + _unmarked(page, "a.hit-link")
    assert snippets and page.locator("li.result mark").count() > 0
    for text in snippets:
        for piece in text.split("\u0000"):  # what is left between the marks holds no match
            assert not any(lit.occurs(fold(piece)) for lit in lits), (q, piece)
    texts = page.locator("p.snippet").all_inner_texts()
    assert not any("[^" in t for t in texts)  # citation markers: superscripts, never [^3]
    assert page.locator("p.snippet sup.cite").count() > 0
    assert page.errors == []


def test_ref_hits_show_the_citing_sentence(site, page):
    rec = next(r for r in site["records"] if r.uuid != XSS_UUID and any(
        c.ref_id and c.section not in ("abstract",) for c in r.citations))
    cit = next(c for c in rec.citations if c.ref_id and c.section != "abstract")
    page.goto(site["base"] + "search.html?q=" + quote("ref:" + cit.ref_id))
    page.wait_for_selector("body[data-search-done]")
    uses = citing.uses(site["store"], [cit.ref_id])
    sentences = {re.sub(r"\s+", "", re.sub(r"\[\^?\d+\]", "", u.sentence)) for u in uses}
    hits = page.locator("li.hit").all()
    assert hits
    for hit in hits:
        snip = hit.locator("p.snippet")
        assert snip.locator("mark sup.cite").count() >= 1  # the marker, marked
        text = snip.evaluate("e => { const c = e.cloneNode(true); c.querySelectorAll('sup').forEach(s => s.remove()); return c.textContent; }")
        text = re.sub(r"\s+", "", text.strip("…"))
        assert any(text == s or text in s or s in text for s in sentences), text
    assert page.errors == []


def test_results_update_as_you_type_and_arrows_open_one(site, page):
    page.goto(site["base"] + "search.html")
    box = page.locator("#q")
    box.type("迁移学习", delay=20)  # no Enter: results follow the typing
    page.wait_for_selector("body[data-search-done]")
    page.wait_for_function("document.querySelectorAll('li.result').length > 0")
    assert "q=%E8%BF%81" in page.url
    box.press("ArrowDown")
    box.press("ArrowDown")
    selected = page.locator("li.result.selected")
    assert selected.count() == 1
    assert selected.get_attribute("data-uuid") == page.locator("li.result").nth(1).get_attribute("data-uuid")
    box.press("ArrowUp")
    first = page.locator("li.result").first
    assert "selected" in first.get_attribute("class")
    target = first.locator("a.hit-link").first.get_attribute("href")
    box.press("Enter")
    page.wait_for_selector("body[data-highlighted]")
    assert page.url.endswith(target.split("/")[-1])
    # the landing page marks the query's occurrences, and only them
    marks = page.locator("mark.hl").all_inner_texts()
    assert marks and all(fold(m) == "迁移学习" for m in marks)
    assert int(page.locator("body").get_attribute("data-highlighted")) == len(marks)
    page.go_back()
    page.wait_for_selector("#q")
    page.locator("#q").press("Escape")
    assert page.locator("#q").input_value() == "" and page.locator("li.result").count() == 0
    assert page.errors == []


def test_empty_result_and_bad_query_say_so(site, page):
    page.goto(site["base"] + "search.html?q=" + quote("不存在的词语组合"))
    page.wait_for_selector("body[data-search-done]")
    assert "没有找到" in page.locator("#status").inner_text()
    page.goto(site["base"] + "search.html?q=" + quote("-研究"))
    page.wait_for_selector("body[data-search-done]")
    assert "查询有误" in page.locator("#status").inner_text()


def test_search_from_file_url(site, page):
    q = "研究 -深度学习"
    assert "Content-Security-Policy" in (site["out"] / "search.html").read_text("utf-8")
    page.goto((site["out"] / "search.html").as_uri() + "?q=" + quote(q))
    page.wait_for_selector("body[data-search-done]")
    expected = search(site["index"], q, limit=None)
    assert 0 < expected.total_reviews < len(site["records"])
    assert f"找到 {expected.total_reviews} 篇综述" in page.locator("#status").inner_text()
    assert page.evaluate("RA.uuidsOf(RA.lastResult)") and set(page.evaluate("RA.uuidsOf(RA.lastResult)")) == {
        r.uuid for r in expected.reviews}
    assert page.errors == []


def test_first_query_transfer(site, page):
    sizes = []
    page.on("response", lambda r: sizes.append((r.url.split("/search/")[1], len(r.body()))) if "/search/" in r.url else None)
    page.goto(site["base"] + "search.html?q=" + quote("深度学习"))
    page.wait_for_selector("body[data-complete]")
    total = sum(n for _, n in sizes)
    print(f"first query transferred {total} bytes of search data in {len(sizes)} files")
    assert "meta.js" not in {u for u, _ in sizes}  # inlined in search.html
    kinds = {u.split("/")[0] for u, _ in sizes}
    # dictionary, postings, lengths, texts; and once the set is complete, the facets' tables
    # (each review's topic number and day) and the names of the topics shown
    assert kinds <= {"k", "x", "l.js", "t", "fm.js", "tn"}, kinds
    assert 0 < sum(1 for u, _ in sizes if u.startswith("t/")) <= 3 * 10
    assert total < 150 * 1024
    assert page.locator("body[data-search-first]").count() == 1


def _visit(browser, url: str, budget: int | None = None) -> tuple:
    """Open the search page at `url` in a fresh context (a cold cache), with a byte budget
    (RA.budget, read by search.js) if given; returns (context, page, [(file, bytes)])."""
    ctx = browser.new_context()
    if budget is not None:
        ctx.add_init_script(f"globalThis.RA = {{budget: {budget}}};")
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    got = []
    pg.on("response", lambda r: got.append((r.url.split("/search/")[1], len(r.body()))) if "/search/" in r.url else None)
    pg.goto(url)
    pg.wait_for_selector("body[data-complete]")
    return ctx, pg, got


def test_a_query_over_its_budget_shows_a_bound_and_is_exact_when_asked(site, browser):
    """Past its byte budget a query shows its first page, a count worded as a bound with an
    estimate (never as a count), no facets, and loads no more than the budget (give or take
    a few text files); asked (精确计数), it checks the rest: the count, the set and the facets
    are then the CLI's."""
    q = "section:3.1 研究"  # every candidate's text is checked
    want = search(site["index"], q, ids_only=True, limit=None, facets=True)
    url = site["base"] + "search.html?q=" + quote(q)
    costs = []
    for budget in (1, 10**9):  # the first page alone; every candidate
        ctx, pg, got = _visit(browser, url, budget)
        costs.append(sum(n for _, n in got))
        ctx.close()
    budget = sum(costs) // 2
    largest = max(f.stat().st_size for f in (site["out"] / "search" / "t").rglob("*.js"))
    ctx, pg, got = _visit(browser, url, budget)
    status = pg.inner_text("#status")
    assert re.fullmatch(r"找到至少 (\d+) 篇综述（约 (\d+) 篇），第 1 页", status), status
    at_least, about = map(int, re.findall(r"\d+", status)[:2])
    assert 10 <= at_least <= len(want.uuids) and at_least <= about
    assert pg.locator("body[data-exact]").count() == 0 and pg.locator("body[data-bounded]").count() == 1
    assert pg.locator("#facets").is_hidden() and not any(f == "fm.js" for f, _ in got)
    assert pg.locator("li.result").evaluate_all("els => els.map(e => e.dataset.uuid)") == want.uuids[:10]
    assert pg.locator("#pager a[rel=next]").count() == 1
    # (give or take a few text files: those the page loads to show its results are in
    # flight, not yet counted, when the engine decides on its next batch)
    assert costs[0] < sum(n for _, n in got) <= budget + 4 * largest, (costs, budget, largest)
    # asked for: every candidate checked; the count, the set and the facets are the CLI's
    pg.click("#exact-count")
    pg.wait_for_selector("body[data-exact][data-facets]")
    assert pg.inner_text("#status") == f"找到 {len(want.uuids)} 篇综述，第 1 / {-(-len(want.uuids) // 10)} 页"
    assert pg.evaluate("RA.uuidsOf(RA.lastResult)") == want.uuids
    assert pg.evaluate("RA.facetsOf(RA.lastResult)") == want.facets.to_dict()
    assert pg.locator("#exact-count").is_hidden() and pg.locator("#facets").is_visible()
    assert pg.errors == []
    ctx.close()


def test_facets_past_the_budget_wait_to_be_asked_for(site, browser):
    """An exact count whose facet table would take the query past its budget: the count is
    shown, the facets (and their files) only when asked for, then the CLI's."""
    q = "研究"  # the postings settle every candidate: exact whatever the budget
    want = search(site["index"], q, ids_only=True, limit=None, facets=True)
    ctx, pg, got = _visit(browser, site["base"] + "search.html?q=" + quote(q), budget=1)
    assert pg.inner_text("#status") == f"找到 {len(want.uuids)} 篇综述，第 1 / {-(-len(want.uuids) // 10)} 页"
    assert pg.locator("body[data-exact]").count() == 1 and pg.locator("body[data-facets]").count() == 0
    assert pg.locator("#facets").is_hidden() and not any(f == "fm.js" for f, _ in got)
    pg.click("#show-facets")
    pg.wait_for_selector("body[data-facets]")
    assert pg.evaluate("RA.facetsOf(RA.lastResult)") == want.facets.to_dict()
    assert pg.locator("#facet-topics > li").count() > 0 and any(f == "fm.js" for f, _ in got)
    assert pg.locator("#show-facets").is_hidden() and pg.errors == []
    ctx.close()
    # within the budget (the page's): shown at once
    ctx, pg, got = _visit(browser, site["base"] + "search.html?q=" + quote(q))
    pg.wait_for_selector("body[data-facets]")
    assert pg.locator("#show-facets").is_hidden()
    ctx.close()


def test_snippets_show_the_text_as_written(site, page):
    """Matching is on folded text; the snippet and its marks keep the original case and width."""
    page.goto(site["base"] + "search.html")
    page.wait_for_function("window.RA && !!RA.snippetText && !!RA.language")
    cases = [
        ("模型采用 ResNet 作为骨干网络", "resnet", ["模型采用 ", "<ResNet>", " 作为骨干网络"]),
        ("模型采用 ResNet-50 作为骨干", "resnet", ["模型采用 ", "<ResNet>", "-50 作为骨干"]),  # a part
        ("基于ＧＡＮ的生成模型", "gan", ["基于", "<ＧＡＮ>", "的生成模型"]),
        ("深度学习方法", "学习", ["深度", "<学习>", "方法"]),
        ("Straße und STRASSE", "strasse", ["<Straße>", " und ", "<STRASSE>"]),  # every one
        ("e\u0301tude de l'É\u0301TUDE", "\u00e9tude", ["<e\u0301tude>", " de l'É\u0301TUDE"]),  # é + ́ is not é
    ]
    for text, q, expected in cases:
        assert page.evaluate("([t, q]) => RA.snippetText(t, q)", [text, q]) == expected, q
    assert page.evaluate("RA.snippetText('没有这个词', 'resnet')") is None
    page.goto(site["base"] + "search.html?q=resnet")
    page.wait_for_selector("body[data-complete]")
    marks = set(page.locator("li.result mark").all_inner_texts())
    assert marks and all(m.lower() == "resnet" for m in marks) and "ResNet" in marks, marks


def test_rare_term_loads_little(site, page):
    """A term one review holds: its dictionary shard (the posting is inline there) and the
    one chapter of that review that holds it; then, for its facets, the facet table
    and the names of its one topic; nothing else."""
    rec = next(r for r in site["records"] if r.uuid == XSS_UUID)
    urls_ = []
    page.on("response", lambda r: urls_.append(r.url.split("/search/")[1]) if "/search/" in r.url else None)
    page.goto(site["base"] + "search.html?q=" + quote("注入测试"))
    page.wait_for_selector("body[data-complete]")
    assert page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.uuid)") == [rec.uuid]
    assert {u.split("/")[0] for u in urls_} == {"k", "t", "fm.js", "tn"}, urls_
    assert len([u for u in urls_ if u.startswith("t/")]) == 1
    assert len([u for u in urls_ if u.startswith("tn/")]) == 1


def test_citation_and_reference_links_land(site, page):
    rec = parse(SAMPLE.read_bytes(), SAMPLE.name)[0].record
    page.goto(site["base"] + urls.review(rec.uuid))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=False)
    cite = page.locator("#s-7\\.2\\.1 a.cite").first  # chapter 7 has its own list
    cite.click()
    assert page.url.endswith("#ref-7-1")
    target = page.locator("[id='ref-7-1']")
    assert "Smith J" in target.inner_text()
    assert target.evaluate("e => e.closest('section').id") == "references"
    page.locator("#abstract a.cite").first.click()
    assert page.url.endswith("#ref-1")
    page.locator("[id='ref-1'] a.ref-link").click()
    page.wait_for_load_state()
    ref_id = next(r.ref_id for r in rec.references if r.n == 1 and not r.scope)
    assert page.url.endswith(f"/{SUBPATH}/refs/{ref_id}.html")
    assert "混凝土坝裂缝检测" in page.locator("h1").inner_text()
    # from the reference page back to the citing section
    page.locator("a.use-link").first.click()
    page.wait_for_load_state()
    assert f"/reviews/{rec.uuid}.html#" in page.url
    anchor = page.url.split("#")[1]
    assert page.locator(f"[id='{anchor}']").count() == 1


def test_hostile_record_shows_as_text(site, page):
    page.goto(site["base"] + urls.review(XSS_UUID))
    page.wait_for_load_state("load")
    body = page.locator("main").inner_text()
    assert "<script>alert(5)</script>" in body and "<img src=x onerror=\"alert(6)\">" in body
    assert "<script>alert(7)</script>" in body and "alert(1)" in body
    assert page.locator("main script, main img").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    for path in ["index.html", urls.topic(next(r.topic for r in site["records"] if r.uuid == XSS_UUID)),
                 "refs/index.html", "quality.html",
                 "search.html?q=" + quote("注入"), "search.html?q=" + quote("alert")]:
        page.goto(site["base"] + path)
        page.wait_for_load_state("load")
        if path.startswith("search"):
            page.wait_for_selector("body[data-search-done]")
            assert page.locator("li.result").count() >= 1
        assert page.evaluate("document.querySelectorAll('[onerror], main script, main img').length") == 0
    page.wait_for_timeout(300)
    assert page.dialogs == [] and page.errors == []


def test_site_links_resolve(site):
    assert broken_links(site["out"]) == []


def test_sections_shown_are_the_clis(site, page):
    """Under each result, the same sections in the same order as `reviews search` lists."""
    rec = next(r for r in site["records"] if r.uuid != XSS_UUID and len(r.sections) > 5)
    sec = next(s for s in rec.sections if s.depth == 2)
    cited = next(c.ref_id for c in rec.citations if c.ref_id)
    for q in [f"section:{sec.number}", "section:摘要 研究", f"ref:{cited}", "深度学习 模型", "研究"]:
        page.goto(site["base"] + "search.html?q=" + quote(q))
        page.wait_for_selector("body[data-search-done]")
        expected = search(site["index"], q, limit=10)
        items = page.locator("li.result").all()
        assert [li.get_attribute("data-uuid") for li in items] == [r.uuid for r in expected.reviews], q
        for r, li in zip(expected.reviews, items):
            hrefs = li.locator("a.hit-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
            assert [h.split("#")[1] for h in hrefs] == [
                s.number if s.number in ("abstract", "references") else "s-" + s.number
                for s in r.sections], (q, r.uuid)
    assert page.errors == []


def test_a_retracted_review_leaves_the_site(tmp_path, page):
    """Issue 12: after a retraction and the next build, the review's own words find
    nothing in the browser (as in the CLI), its page is gone and the counts of the works
    it cited drop; a restore and a build bring all of it back."""
    from archive.store import Store
    from index.indexer import index_dir, update
    from tests.helpers import add_bytes, numbered_uuid, variant

    unique = "撤回专用词语乙丙"
    data, out = tmp_path / "data", tmp_path / "site"
    store = Store.open(data)
    gone = numbered_uuid(1)
    add_bytes(store, variant(uuid=gone, replace=("**摘要**", f"**摘要**\n{unique}。")).encode())
    add_bytes(store, variant(uuid=numbered_uuid(2), received="2025-11-22 08:00:00").encode())
    top = citing.top_references(store, 1)[0]

    def browser_finds(q):
        page.goto((out / "search.html").as_uri() + "?q=" + quote(q))
        page.wait_for_selector("body[data-search-done]")
        return page.evaluate("RA.uuidsOf(RA.lastResult)")

    def ref_page_counts():
        text = (out / urls.ref(top.ref_id)).read_text("utf-8")
        return re.search(r"被 (\d+) 篇综述引用 (\d+) 次 · 列于 (\d+) 篇综述", text).groups()

    build_site(store, out)
    assert browser_finds(unique) == [gone]
    before = ref_page_counts()
    store.retract(gone, "test")
    update(store, index_dir(data))
    build_site(store, out)
    assert browser_finds(unique) == [] == search(index_dir(data), unique, ids_only=True).uuids
    assert browser_finds("残差网络") == [numbered_uuid(2)]
    assert not (out / urls.review(gone)).exists()
    after = ref_page_counts()
    assert int(after[0]) == int(before[0]) - 1 and int(after[2]) == int(before[2]) - 1
    assert broken_links(out) == []
    store.restore(gone)
    update(store, index_dir(data))
    build_site(store, out)
    assert browser_finds(unique) == [gone] and ref_page_counts() == before
    assert page.errors == []
    store.close()


def test_folding_answers_alike_in_the_browser(tmp_path, page):
    """Where folding makes or breaks a Chinese run (Kangxi radicals, a composing voiced
    mark), the site finds what `reviews search` finds (which checks the text as written
    first, and its fold only where spec.analysis.cjk_sources says it may differ)."""
    from archive.store import Store
    from index.indexer import index_dir, update
    from tests.helpers import add_bytes, numbered_uuid, variant

    extras = {1: "⼈⼯智慧之光照亮前路。", 2: "まなぶか\u3099とぶかの話。", 3: "人工智慧之光照亮前路。",
              4: "まなぶかとぶかの話。"}
    data, out = tmp_path / "data", tmp_path / "site"
    store = Store.open(data)
    for n, extra in extras.items():
        add_bytes(store, variant(uuid=numbered_uuid(n), replace=("**摘要**", f"**摘要**\n{extra}")).encode())
    update(store, index_dir(data))
    build_site(store, out)
    page.goto((out / "search.html").as_uri())
    page.wait_for_function("window.RA && RA.run && RA.language")
    for q in ("人工智慧之光", "まなぶか", "まなぶが", "とぶかの話"):
        cli = search(index_dir(data), q, ids_only=True).uuids
        assert cli, q
        got = page.evaluate("q => RA.run(q).then(RA.exact).then(r => RA.uuidsOf(r))", q)
        assert got == cli, q
    assert set(search(index_dir(data), "人工智慧之光", ids_only=True).uuids) == {numbered_uuid(1), numbered_uuid(3)}
    assert search(index_dir(data), "まなぶか", ids_only=True).uuids == [numbered_uuid(4)]
    assert page.errors == []
    store.close()


@pytest.mark.parametrize("where", ["http", "file"])
def test_review_downloads_are_the_exports(site, page, where):
    """A review's three downloads, made in the browser from its page (static/export.js),
    are what `reviews export` writes (archive.export.render), over http and from disk;
    the hostile record's too."""
    from archive import export

    with_refs = [r for r in site["records"] if r.references]
    for rec in [next(r for r in with_refs if r.uuid == XSS_UUID), *with_refs[:2]]:
        base = site["base"] if where == "http" else site["out"].as_uri() + "/"
        page.goto(base + urls.review(rec.uuid))
        links = page.locator("a.export-link")
        assert links.count() == 3
        for i, fmt in enumerate(export.FORMATS):
            with page.expect_download() as dl:
                links.nth(i).click()
            got = dl.value
            assert got.suggested_filename == rec.uuid[:8] + export.FORMATS[fmt]
            text = Path(got.path()).read_text("utf-8")
            assert text == export.render(export.works(rec.references), fmt), (rec.uuid, fmt)
    assert page.errors == []
