"""The archive at a glance (issue 12): the figures against a recount from the parsed
records, the site's charts showing exactly them (linked to pages that exist), and
`reviews stats` printing the same."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from click.testing import CliRunner

from archive import listing
from archive.model import FLAG_KINDS
from cli import main
from publish.site import build_site
from tests.helpers import broken_links, make_store


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    store = make_store(root, 20, seed=12)
    build_site(store, root / "site")
    yield store, root
    store.close()


def _records(store):
    return [rec for _, rec in store.iter_current()]


def test_figures_equal_a_recount(built):
    store, _ = built
    recs = _records(store)
    fig = listing.figures(store, top=5)
    months = Counter(r.received_at[:7] for r in recs)
    assert dict(fig["months"]) == {m: months.get(m, 0) for m, _ in fig["months"]}
    assert fig["months"][0][0] == min(months) and fig["months"][-1][0] == max(months)
    assert sum(n for _, n in fig["months"]) == len(recs)
    topics = Counter(r.topic for r in recs)
    assert [n for _, n in fig["topics"]] == sorted(topics.values(), reverse=True)[:5]
    defects = Counter(c for r in recs for c in {f.code for f in r.flags}
                      if FLAG_KINDS[c].severity == "defect")
    assert dict(fig["defects"]) == dict(defects)
    cited = Counter(c.ref_id for r in recs for c in r.citations if c.ref_id)
    assert [r["citations"] for r in fig["cited"]] == sorted(cited.values(), reverse=True)[:5]


def _table(page, chart_id):
    """Rows of a chart's text-equivalent table: (label, value, link)."""
    html = page.read_text("utf-8")
    m = re.search(rf'<figure class="chart[^"]*" id="{chart_id}">.*?</figure>', html, re.S)
    assert m, chart_id
    fig = ET.fromstring(m.group(0))  # the chart is well-formed XML
    assert fig.find(".//{http://www.w3.org/2000/svg}title") is not None
    rows = []
    for tr in fig.find(".//table/tbody").iter("tr"):
        head, value = tr.find("th"), tr.find("td")
        a = head.find("a")
        rows.append(("".join(head.itertext()), int("".join(value.itertext())),
                     a.get("href") if a is not None else None))
    return rows


def test_charts_on_the_site_show_the_figures(built):
    store, root = built
    site = root / "site"
    fig = listing.figures(store)
    assert [(l, v) for l, v, _ in _table(site / "index.html", "chart-months")] == fig["months"]
    cited = _table(site / "index.html", "chart-cited")
    assert [v for _, v, _ in cited] == [r["citations"] for r in fig["cited"]]
    assert all(href == f"refs/{r['ref_id']}.html" for (_, _, href), r in zip(cited, fig["cited"]))
    topics = _table(site / "index.html", "chart-topics")
    assert [(l, v) for l, v, _ in topics] == fig["topics"]
    problems = _table(site / "quality.html", "chart-problems")
    assert [v for _, v, _ in problems] == [n for _, n in fig["defects"]]
    assert [h for _, _, h in problems] == [f"#code-{c}" for c, _ in fig["defects"]]
    assert broken_links(site) == []


def test_stats_prints_the_same_figures(built):
    store, root = built
    env = {"REVIEWS_DATA": str(root)}
    out = CliRunner().invoke(main, ["stats", "--json"], env=env)
    assert out.exit_code == 0
    got = json.loads(out.output)["figures"]
    assert got == json.loads(json.dumps(listing.figures(store)))
    text = CliRunner().invoke(main, ["stats"], env=env).output
    assert "reviews received per month" in text and "reviews with each defect" in text
    month, n = listing.figures(store)["months"][0]
    assert re.search(rf"^  {month} +[█▏▎▍▌▋▊▉]+ {n}$", text, re.M)
