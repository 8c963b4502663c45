"""The built site in a real Chromium: search equals `reviews search`, links land, no XSS.

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`).
"""
from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from archive.parser import parse
from index.indexer import rebuild
from index.search import search
from publish import urls
from publish.serve import make_server
from publish.site import build_site
from tests.test_site import SAMPLE, XSS_UUID, broken_links, make_store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SUBPATH = "some/sub/path"
N_GENERATED = 20

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    store = make_store(tmp, N_GENERATED, seed=11)
    rebuild(store, tmp / "index")
    out = tmp / "www" / SUBPATH
    build_site(store, out, block=4, group=2, workers=2)  # 6 partitions in 3 groups
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


def _cli(site, q, opts) -> set[str]:
    return {r.uuid for r in search(site["index"], q, limit=None, **opts).reviews}


def test_search_matches_cli(site, page):
    page.goto(site["base"] + "search.html")
    page.wait_for_function("window.RA && RA.run")
    nonempty = 0
    for q, opts in _queries(site["records"]):
        expected = _cli(site, q, opts)
        got = page.evaluate("q => RA.run(q).then(r => r.error ? ['ERROR ' + r.error] : RA.uuids(r))",
                            _js_query(q, opts))
        assert set(got) == expected, (q, opts)
        assert len(got) == len(set(got))
        nonempty += bool(expected)
    assert nonempty >= 20  # the queries do find things
    assert page.errors == []


def test_search_box_by_keyboard(site, page):
    page.goto(site["base"] + "index.html")
    box = page.get_by_role("searchbox")
    box.fill("迁移学习")
    box.press("Enter")
    page.wait_for_selector("body[data-search-done]")
    assert "search.html?q=" in page.url and "q=%E8%BF%81" in page.url
    expected = search(site["index"], "迁移学习", limit=None)
    status = page.locator("#status").inner_text()
    assert f"找到 {expected.total_reviews} 篇综述" in status
    shown = page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.uuid)")
    assert 0 < len(shown) <= 10 and set(shown) <= {r.uuid for r in expected.reviews}
    assert page.locator("li.result mark").count() > 0
    assert set(page.locator("li.result mark").all_inner_texts()) == {"迁移学习"}
    # a match in a section's own title is marked in its link; the snippet then shows the
    # beginning of the body instead of repeating the title
    in_heading = [h for h in page.locator("li.hit").all() if h.locator("a.hit-link mark").count()]
    assert in_heading
    for h in in_heading:
        snip = h.locator("p.snippet")
        assert snip.count() == 0 or "迁移学习" not in snip.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)
    # a hit links to its section anchor, and the anchor is on the review page
    link = page.locator("a.hit-link").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_load_state()
    anchor = href.split("#")[1]
    assert page.url.endswith(href.split("/")[-1]) and page.locator(f"[id='{anchor}']").count() == 1
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
    assert page.evaluate("RA.uuids(RA.last)") and set(page.evaluate("RA.uuids(RA.last)")) == {
        r.uuid for r in expected.reviews}
    assert page.errors == []


def test_first_query_transfer(site, page):
    sizes = []
    page.on("response", lambda r: sizes.append((r.url, len(r.body()))) if "/search/" in r.url else None)
    page.goto(site["base"] + "search.html?q=" + quote("深度学习"))
    page.wait_for_selector("body[data-complete]")
    total = sum(n for _, n in sizes)
    print(f"first query transferred {total} bytes of search data in {len(sizes)} files")
    assert not any(u.endswith("/search/meta.js") for u, _ in sizes)  # inlined in search.html
    # only what the query needs: group entries, the shards of partitions whose postings are
    # large, one text file per hit shown; the rows only with a date filter
    assert 0 < sum(1 for u, _ in sizes if "/search/d/" in u) <= 10
    assert sum(1 for u, _ in sizes if "/search/p/" in u) <= 6 * 3  # 深度 度学 学习
    assert not any(u.endswith("/r.js") for u, _ in sizes)
    assert total < 150 * 1024
    assert page.locator("body[data-search-first]").count() == 1


def test_snippets_show_the_text_as_written(site, page):
    """Matching is on folded text; the snippet and its mark keep the original case and width."""
    page.goto(site["base"] + "search.html")
    page.wait_for_function("window.RA && !!RA.snippetText")
    cases = [
        ("模型采用 ResNet 作为骨干网络", "resnet", ["模型采用 ", "ResNet", " 作为骨干网络"]),
        ("模型采用 ResNet-50 作为骨干", "resnet", ["模型采用 ", "ResNet-50", " 作为骨干"]),  # the token
        ("基于ＧＡＮ的生成模型", "gan", ["基于", "ＧＡＮ", "的生成模型"]),
        ("深度学习方法", "学习", ["深度", "学习", "方法"]),
        ("Straße und STRASSE", "strasse", ["", "Straße", " und STRASSE"]),
        ("e\u0301tude de l'É\u0301TUDE", "\u00e9tude", ["", "e\u0301tude", " de l'É\u0301TUDE"]),
    ]
    for text, q, expected in cases:
        assert page.evaluate("([t, q]) => RA.snippetText(t, q)", [text, q]) == expected, q
    assert page.evaluate("RA.snippetText('没有这个词', 'resnet')") is None
    page.goto(site["base"] + "search.html?q=resnet")
    page.wait_for_selector("body[data-complete]")
    marks = set(page.locator("li.result mark").all_inner_texts())
    assert marks and all(m.lower() == "resnet" for m in marks) and "ResNet" in marks, marks


def test_rare_term_skips_partitions(site, page):
    """A term held by one review is answered by its group file: no partition postings
    are loaded, and one text file of that review for the snippet."""
    rec = next(r for r in site["records"] if r.uuid == XSS_UUID)
    urls_ = []
    page.on("response", lambda r: urls_.append(r.url.split("/search/")[1]) if "/search/" in r.url else None)
    page.goto(site["base"] + "search.html?q=" + quote("注入测试"))
    page.wait_for_selector("body[data-complete]")
    assert page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.uuid)") == [rec.uuid]
    assert [u for u in urls_ if u.startswith("p/")] == []
    assert len([u for u in urls_ if u.startswith("d/")]) == 1
    assert {u.split("/")[0] for u in urls_} == {"g", "d"}  # meta is inlined in the page


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
