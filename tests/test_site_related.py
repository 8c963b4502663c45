"""Related reviews on the site (issue 12): every review page lists the reviews
`reviews similar` gives, with the reason; a new review re-renders only the pages whose
list it changed, and a build without changes computes nothing again."""
from __future__ import annotations

import re

import pytest

from bench.corpus import generate
from index.indexer import index_dir
from index.similar import related_all
from publish import urls
from publish.site import RELATED, build_site
from tests.helpers import add_bytes, broken_links, make_store


def _shown(path):
    html = path.read_text("utf-8")
    m = re.search(r'<section id="related".*?</section>', html, re.S)
    if not m:
        return []
    return re.findall(r'<a class="related-link" href="([0-9a-f]{32})\.html">[^<]*</a> '
                      r'<span class="meta reason">([^<]+)</span>', m.group(0))


# slow tier: two whole site builds (or one with its charts), ~4 s of CPU with their
# worker processes; make check keeps the parts' own tests (docs/benchmarks.md,
# "make check's time")
@pytest.mark.slow
def test_pages_list_the_related_reviews_and_follow_changes(tmp_path):
    store = make_store(tmp_path, 14, seed=21)
    out = tmp_path / "site"
    first = build_site(store, out, block=4)
    ix = index_dir(tmp_path)
    listed = 0
    lists = related_all(store, ix, limit=RELATED)  # = similar() of each (tests/test_similar.py)
    for uuid, _ in store.review_order():
        want = [(r.uuid, r.reason()) for r in lists[uuid]]
        assert _shown(out / urls.review(uuid)) == want, uuid
        listed += bool(want)
    assert listed >= 10  # most generated reviews have related ones
    assert broken_links(out) == []

    again = build_site(store, out, block=4)
    assert (again.written, again.partitions_rebuilt) == (0, 0)

    before = {u: _shown(out / urls.review(u)) for u, _ in store.review_order()}
    for g in generate(1, seed=21, start=14):  # one more review arrives
        add_bytes(store, g.data, g.name)
    more = build_site(store, out, block=4)
    assert more.partitions_rebuilt == 1  # the search data of the last partition only
    rendered = {p for p in more.written_paths if p.startswith("reviews/") and p.endswith(".html")}
    now = {u: [(r.uuid, r.reason()) for r in rs] for u, rs in related_all(store, ix, limit=RELATED).items()}
    assert all(_shown(out / urls.review(u)) == want for u, want in now.items())
    new = set(now) - set(before)
    assert len(new) == 1
    assert rendered == {urls.review(u) for u in now if u in new or now[u] != before[u]}
    assert broken_links(out) == []
    store.close()
