"""Near duplicates on the site (issue 21): a page lists the groups and the recycled
passages, a review page says "与 N 篇综述高度相似" with links, the quality report counts
both; a new copy re-renders the pages it concerns."""
from __future__ import annotations

import random
import re

import pytest

from archive.store import Store
from bench.corpus import generate
from index import dupes
from publish import urls
from publish.site import build_site
from tests import dupes_plants as plant
from tests.helpers import add_bytes, broken_links

HOSTILE = "再版<script>alert(1)</script>"


def _copy(i: int) -> str:
    return f"{0xcc000000 + i:08x}" + "0" * 24


def _near(path) -> list[str]:
    html = path.read_text("utf-8")
    m = re.search(r'<p class="near-dupes">与 (\d+) 篇综述高度相似：(.*?)</p>', html, re.S)
    if not m:
        return []
    links = re.findall(r'<a class="near-link" href="([0-9a-f]{32})\.html">', m.group(2))
    assert int(m.group(1)) == len(links)
    return links


# slow tier: two whole site builds (or one with its charts), ~4 s of CPU with their
# worker processes; make check keeps the parts' own tests (docs/benchmarks.md,
# "make check's time")
@pytest.mark.slow
def test_the_site_shows_near_duplicates_and_follows_a_new_copy(tmp_path):
    records = list(generate(20, seed=31))
    store = Store.open(tmp_path)
    rng = random.Random(3)
    for i, g in enumerate(records):
        text = plant.text_of(g)
        add_bytes(store, (plant.with_passage(text) if i in (3, 4, 5) else text).encode("utf-8"), g.name)
    copies = {0: plant.edited(plant.text_of(records[0]), 2, rng),
              1: plant.reordered(plant.text_of(records[1])),
              2: plant.with_header(plant.text_of(records[2]), topic=HOSTILE)}
    for i, text in copies.items():
        text = plant.with_header(text, uuid=_copy(i), received="2027-01-0%d 08:00:00" % (i + 1))
        add_bytes(store, text.encode("utf-8"), f"copy{i}.txt")
    out = tmp_path / "site"
    build_site(store, out, block=4)

    page = (out / urls.DUPES).read_text("utf-8")
    assert page.count('<section class="dupe-group"') == 3
    assert page.count('<section class="passage"') == 1 and plant.PASSAGE in page
    for i in (0, 1, 2):
        original, copy = records[i].truth.uuid, _copy(i)
        assert _near(out / urls.review(original)) == [copy]
        assert _near(out / urls.review(copy)) == [original]
        assert f'href="reviews/{original}.html"' in page and f'href="reviews/{copy}.html"' in page
    assert "2→1、3→2" in page  # the reordered copy's chapters, under the first's numbers
    assert _near(out / urls.review(records[6].truth.uuid)) == []
    for html in (page, (out / urls.review(records[2].truth.uuid)).read_text("utf-8")):
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    passage_links = re.findall(r'<a class="passage-link" href="reviews/([0-9a-f]{32})\.html#(s-[\d.]+)">', page)
    assert {u for u, _ in passage_links} == {records[i].truth.uuid for i in (3, 4, 5)}
    quality = (out / urls.QUALITY).read_text("utf-8")
    assert "近似重复</a>：3 组高度相似的综述（6 篇），1 段" in quality
    assert broken_links(out) == []  # every link, the passages' section anchors too

    # a copy of another review arrives: its original's page is rendered again (as are the
    # pages whose related reviews it changed), and the listing pages count it
    g = records[6]
    text = plant.with_header(plant.text_of(g), uuid=_copy(6), received="2027-02-01 08:00:00")
    add_bytes(store, text.encode("utf-8"), "copy6.txt")
    again = build_site(store, out, block=4)
    rendered = {p for p in again.written_paths if p.startswith("reviews/") and p.endswith(".html")}
    assert {urls.review(g.truth.uuid), urls.review(_copy(6))} <= rendered
    assert _near(out / urls.review(g.truth.uuid)) == [_copy(6)]
    assert "4 组高度相似的综述（8 篇）" in (out / urls.QUALITY).read_text("utf-8")
    assert len(dupes.groups(store, tmp_path)) == 4
    assert broken_links(out) == []
    store.close()
