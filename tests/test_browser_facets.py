"""The search page's facets and date order in a real Chromium, against the command line:
for a common word, a rare one, a phrase, a NOT query and a topic filter, the counts by
topic and month and the order 按时间 are `reviews search --facets --json` and `--sort date`;
a facet clicked narrows the results to the set the command gives with that filter, and the
URL keeps it (back, forward, reload). The archive holds nested topics, topics the query
language cannot tell apart and a tie in received time (tests/test_facets.py's).

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`).
"""
from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from click.testing import CliRunner

from cli import main
from publish.serve import make_server
from publish.site import build_site
from tests.test_browser import CHROMIUM, browser, page  # noqa: F401 (the fixtures)
from tests.test_facets import planted

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")]

RARE = "罕见词甲乙丙"
QUERIES = ["研究", RARE, '"深度 学习"', "图像识别 -医学", "topic:图像识别 研究", "糖尿病"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("facet-site")
    store = planted(root, 24, 17, rare=RARE)
    out = root / "www"
    build_site(store, out, block=8, workers=2)
    store.close()
    server = make_server(out, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    yield {"data": root, "base": f"http://{host}:{port}/"}
    server.shutdown()
    server.server_close()


def cli(site, *args) -> str:
    got = CliRunner().invoke(main, ["search", "--data-dir", str(site["data"]), *args])
    assert got.exit_code == 0, got.output
    return got.output


def cli_facets(site, q: str) -> dict:
    return json.loads(cli(site, "--facets", "--json", "--limit", "1", q))["facets"]


def cli_by_date(site, q: str) -> list[str]:
    return cli(site, "-l", "--sort", "date", q).split()


def open_search(page, site, q: str, sort: str | None = None):
    page.goto(site["base"] + "search.html?q=" + quote(q) + (f"&sort={sort}" if sort else ""))
    page.wait_for_selector("body[data-search-done][data-facets]")


def shown_facets(page) -> dict:
    """The facets as the page shows them: [label, count, refinement or None]."""
    return page.evaluate("""() => Object.fromEntries(['facet-topics', 'facet-months'].map(id =>
        [id, Array.from(document.querySelectorAll('#' + id + ' > li')).map(li => {
            const a = li.querySelector('a.facet-link');
            return [li.firstChild.textContent, +li.querySelector('.count').textContent, a ? a.dataset.refine : null];
        })]))""")


def test_facet_counts_and_date_order_are_the_clis(site, page):
    seen = {"rare": 0, "many": 0}
    for q in QUERIES:
        want, by_date = cli_facets(site, q), cli_by_date(site, q)
        open_search(page, site, q, "date")
        # every match, newest first, and every facet with its refinement, as the CLI's
        assert page.evaluate("RA.uuidsOf(RA.lastResult)") == by_date, q
        assert page.evaluate("RA.facetsOf(RA.lastResult)") == want, q
        # what the page shows: the ten biggest topics and every month, with their counts
        shown = shown_facets(page)
        assert shown["facet-topics"] == [[f["value"] or "（无主题）", f["count"], f["refine"]]
                                         for f in want["topics"][:10]], q
        assert shown["facet-months"] == [[f["value"], f["count"], f["refine"]] for f in want["months"]], q
        more = page.locator("#more-topics")
        assert more.is_visible() == (len(want["topics"]) > 10), q
        # the first page is the CLI's first page in date order
        assert page.locator("li.result").evaluate_all("els => els.map(e => e.dataset.uuid)") == by_date[:10], q
        assert page.locator("#sort-date[aria-current]").count() == 1, q
        seen["rare"] += 0 < len(by_date) <= 3
        seen["many"] += len(want["topics"]) > 10 and len(want["months"]) > 5
    assert seen["rare"] >= 1 and seen["many"] >= 1
    # all topics on demand
    open_search(page, site, "研究")
    page.click("#more-topics")
    page.locator("#facet-topics > li").nth(10).wait_for()
    assert [row[:2] for row in shown_facets(page)["facet-topics"]] == \
        [[f["value"] or "（无主题）", f["count"]] for f in cli_facets(site, "研究")["topics"]]
    assert page.errors == []


def _state(page) -> tuple[str, str | None]:
    params = parse_qs(urlsplit(page.url).query)
    return params["q"][0], params.get("sort", [None])[0]


def _shown_set(page) -> list[str]:
    return sorted(page.evaluate("RA.uuidsOf(RA.lastResult)"))


def test_clicking_a_facet_narrows_to_the_clis_set_and_the_url_keeps_it(site, page):
    q = "图像识别"
    open_search(page, site, q)
    # the order switch: 按时间, kept in the URL
    page.click("#sort-date")
    page.wait_for_selector("body[data-search-done][data-facets]")
    assert _state(page) == (q, "date")
    assert page.evaluate("RA.uuidsOf(RA.lastResult)") == cli_by_date(site, q)
    # a topic with nested ones among the matches: its refinement excludes them again
    topic = next(f for f in cli_facets(site, q)["topics"] if f["value"] == "图像识别")
    assert " -topic:" in topic["refine"]
    page.locator("#facet-topics a.facet-link[data-refine^='topic:\"图像识别\"']").click()
    page.wait_for_selector("body[data-search-done][data-facets]")
    narrowed = f"{q} {topic['refine']}"
    assert _state(page) == (narrowed, "date") and page.input_value("#q") == narrowed
    got = _shown_set(page)
    assert got == sorted(cli_by_date(site, narrowed)) and len(got) == topic["count"] == 2
    assert f"找到 {topic['count']} 篇综述" in page.locator("#status").inner_text()
    # then a month: the two are in different months; one is left
    month = cli_facets(site, narrowed)["months"][0]
    assert month["count"] == 1
    page.locator("#facet-months a.facet-link").first.click()
    page.wait_for_selector("body[data-search-done][data-facets]")
    twice = f"{narrowed} {month['refine']}"
    assert _state(page) == (twice, "date")
    assert _shown_set(page) == sorted(cli_by_date(site, twice)) and len(_shown_set(page)) == month["count"]
    # back and forward walk through them; a reload restores the state
    page.go_back()
    page.wait_for_selector("body[data-search-done][data-facets]")
    assert _state(page) == (narrowed, "date") and page.input_value("#q") == narrowed
    assert _shown_set(page) == sorted(cli_by_date(site, narrowed))
    page.go_back()
    page.wait_for_selector("body[data-search-done][data-facets]")
    assert _state(page) == (q, "date") and _shown_set(page) == sorted(cli_by_date(site, q))
    page.go_forward()
    page.wait_for_selector("body[data-search-done][data-facets]")
    assert _state(page) == (narrowed, "date")
    page.reload()
    page.wait_for_selector("body[data-search-done][data-facets]")
    assert _state(page) == (narrowed, "date") and page.input_value("#q") == narrowed
    assert page.evaluate("RA.uuidsOf(RA.lastResult)") == cli_by_date(site, narrowed)
    assert page.locator("#sort-date[aria-current]").count() == 1
    # back to 按相关度: the CLI's relevance order
    page.click("#sort-relevance")
    page.wait_for_selector("body[data-search-done][data-facets]")
    assert _state(page) == (narrowed, None)
    assert page.evaluate("RA.uuidsOf(RA.lastResult)") == cli(site, "-l", narrowed).split()
    assert page.errors == []


def test_a_topic_the_language_cannot_single_out_is_shown_without_a_link(site, page):
    open_search(page, site, "topic:resnet")
    rows = {label: (n, refine) for label, n, refine in shown_facets(page)["facet-topics"]}
    assert rows["ResNet 综述"] == (1, None) and rows["resnet综述"] == (1, None)
    assert page.locator("#facet-topics span.facet-value", has_text="ResNet 综述").count() == 1
    assert page.errors == []
