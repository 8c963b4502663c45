"""The static site: pages, links, escaping, incremental builds (no browser here)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archive import citing, listing
from archive.errors import ArchiveError
from archive.parser import parse
from archive.store import Store
from bench.corpus import generate
from index.indexer import index_dir
from index.similar import similar
from publish import urls
from publish.resources import TEMPLATES
from publish.searchdata import shard_of
from publish.site import RELATED, build_site

from tests.helpers import ROOT, SAMPLE, XSS_UUID, add_bytes, broken_links, make_store, page_links
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    store = make_store(tmp, 6)
    report = build_site(store, tmp / "out")
    yield store, tmp / "out", report
    store.close()


def _sample_uuid() -> str:
    return parse(SAMPLE.read_bytes(), SAMPLE.name)[0].record.uuid


def test_report_counts(built):
    store, out, report = built
    assert report.reviews == 8
    static = len(list((TEMPLATES / "static").iterdir()))  # style.css, lang.js, search.js ...
    assert report.written == report.pages + report.search_files + report.exports + static
    # a reference's page has its three exports beside it; a review's are made in the
    # browser from its page (static/export.js): no file of them
    assert report.exports == 3 * report.references
    assert len(list(out.glob("refs/*.ris"))) == report.references and not list(out.glob("reviews/*.ris"))
    assert report.unchanged == 0 and report.removed == 0
    assert (out / "index.html").is_file() and (out / "search.html").is_file()


def test_review_page_content(built):
    _, out, _ = built
    uuid = _sample_uuid()
    html = (out / urls.review(uuid)).read_text("utf-8")
    assert "<h1>深度学习在图像识别领域的最新进展</h1>" in html
    assert uuid in html  # the full UUID
    assert "8.1.1 truncated" in html and "placeholder-table" in html  # flags shown
    assert "think" not in html.lower()
    assert "<table>" in html and "<th>方法</th>" in html  # markdown table rendered
    ids = page_links(out / urls.review(uuid)).ids
    # TOC entries point to section anchors that exist
    toc = re.findall(r'<li class="d\d"><a href="#([^"]+)"', html)
    assert "s-2.1.1" in toc and "s-9.2" in toc and set(toc) <= ids
    # abstract [1] links to the global list; chapter 7's [^1] to chapter 7's own list
    assert '<a class="cite" href="#ref-1">[1]</a>' in html
    sec7 = html.split('id="s-7.2.1"')[1].split("</section>")[0]
    assert '<a class="cite" href="#ref-7-1">[^1]</a>' in sec7
    assert "ref-7-1" in ids and "ref-15" in ids
    # each entry links to the reference's own page
    entry = re.search(r'<li id="ref-13"[^>]*>.*?href="([^"]+)"', html).group(1)
    assert entry.startswith("../refs/r") and (out / "reviews" / entry).resolve().is_file()


def test_dangling_citation_marked(built):
    _, out, _ = built
    html = (out / urls.review(XSS_UUID)).read_text("utf-8")
    assert re.search(r'<span class="cite dangling"[^>]*>\[\^9\]</span>', html)
    assert '<a class="cite" href="#ref-1">[^1]</a>' in html


def test_reference_page_lists_citing_sentences(built):
    _, out, _ = built
    rec = parse(SAMPLE.read_bytes(), SAMPLE.name)[0].record
    c = next(c for c in rec.citations if c.ref_id and c.section != "abstract")
    html = (out / urls.ref(c.ref_id)).read_text("utf-8")
    assert f'href="../{urls.review(rec.uuid, urls.section_anchor(c.section))}"' in html
    assert c.sentence.split("[")[0][:20] in html
    title = next(r.title for r in rec.references if r.ref_id == c.ref_id)
    assert title in html


def test_record_text_is_escaped_everywhere(built):
    _, out, _ = built
    for page in out.rglob("*.html"):
        html = page.read_text("utf-8")
        assert re.search(r"<img[^>]*onerror", html) is None, page
        scripts = re.findall(r"<script(?! type=\"application/json\")[^>]*>(.*?)</script>", html, re.S)
        assert all("alert" not in s for s in scripts), page
        # a page's data (a review's works, for its downloads) is JSON that cannot end its
        # element or open a tag: no "<" at all
        data = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)
        assert all("<" not in d and json.loads(d) is not None for d in data), page
    review = (out / urls.review(XSS_UUID)).read_text("utf-8")
    assert "正文&lt;script&gt;alert(5)&lt;/script&gt;" in review
    assert "&lt;img src=x onerror=alert(8)&gt;" in review
    # no path is made from record text: topic pages are named by hash
    assert (out / urls.topic("攻击<script>alert(1)</script>主题<img src=x onerror=alert(2)>")).is_file()
    assert all(re.fullmatch(r"t[0-9a-f]{10}\.html|index\.html", p.name) for p in (out / "topics").iterdir())


def test_every_internal_link_resolves(built):
    _, out, _ = built
    assert broken_links(out) == []


def test_links_are_relative_from_nested_pages(built):
    _, out, _ = built
    links = page_links(out / urls.ref(next(iter(p.stem for p in (out / "refs").glob("r*.html")))))
    assert "../static/style.css" in links.links and "../index.html" in links.links


def test_incremental_rebuild(tmp_path):
    store = make_store(tmp_path, 4)  # 6 reviews: partitions of 4 -> [4, 2]
    out = tmp_path / "out"
    first = build_site(store, out, block=4)
    assert (first.partitions, first.partitions_rebuilt) == (2, 2)
    old_review = out / urls.review(_sample_uuid())
    mtime = old_review.stat().st_mtime_ns
    again = build_site(store, out, block=4)
    assert (again.written, again.removed, again.partitions_rebuilt) == (0, 0, 0)
    assert again.unchanged == first.written
    ix = index_dir(tmp_path)
    shown = lambda u: [(r.uuid, r.reason()) for r in similar(store, ix, u, limit=RELATED)]  # noqa: E731
    before = {u: shown(u) for u, _ in store.review_order()}
    for g in generate(2, seed=7, start=4):  # two more records arrive
        add_bytes(store, g.data, g.name)
    more = build_site(store, out, block=4)
    # a page is rendered again when its review is new or its related reviews changed
    rerender = {u for u, _ in store.review_order() if u not in before or shown(u) != before[u]}
    assert (more.partitions, more.partitions_rebuilt) == (2, 1)  # only the last one
    assert 0 < more.written and "2 of" not in more.summary()
    assert more.reviews == first.reviews + 2
    written = set(more.written_paths)
    new_uuids = [parse(g.data, g.name)[0].record.uuid for g in generate(2, seed=7, start=4)]
    assert {urls.review(u) for u in new_uuids} <= written
    assert {p for p in written if p.startswith("reviews/") and p.endswith(".html")} == {
        urls.review(u) for u in rerender}
    if _sample_uuid() not in rerender:
        assert old_review.stat().st_mtime_ns == mtime
    assert "index.html" in written and "search/meta.js" in written
    # texts: only those of the new reviews (ordinals 6 and 7); the archive-wide files may change
    texts = {p for p in written if p.startswith("search/t/")}
    assert texts and all(p.startswith(("search/t/0/6-", "search/t/0/7-")) for p in texts), sorted(texts)
    assert broken_links(out) == []
    store.close()


def test_review_order_is_first_added(tmp_path):
    store = make_store(tmp_path, 3)
    order = [u for u, _ in store.review_order()]
    assert order[:2] == [_sample_uuid(), XSS_UUID]  # added first, whatever their dates
    assert len(order) == 5 == len(set(order))
    # a new version keeps the review's place and gives the new version id
    data = SAMPLE.read_bytes().replace(b"2025", b"2026", 1)
    add_bytes(store, data, "v2.txt")
    after = store.review_order()
    assert [u for u, _ in after] == order
    assert after[0][1] == store.current_version(_sample_uuid()).id != store.review_order()[1][1]
    store.close()


def test_search_data_summaries_are_the_index_part_maps(tmp_path):
    """What the site ships per gram, section path and cited id is what the CLI's ranking
    and evaluation derive from the index (index.rank.summary of the part maps)."""
    from index.folder import open_reader
    from index.indexer import rebuild
    from index.postings import Column, doc_values
    from index.rank import chapters, summary
    from publish.searchdata import review_values

    store = make_store(tmp_path, 4)
    rebuild(store, tmp_path / "index")
    records = {r.uuid: r for _, r in store.iter_current()}
    with open_reader(tmp_path / "index") as reader:
        keys = {}
        for d, value in Column(reader, "key").many(range(reader.doc_count_all())).items():
            if value:
                _, uuid, _, starts = value.decode("ascii").split("|")
                keys[d] = (uuid, tuple(int(s) for s in starts.split(",")))
        expected: dict[str, dict[str, int]] = {u: {} for u in records}
        for field, prefix in (("g", "g|"), ("path", "p|")):
            for term in reader.lexicon(field):
                term = term.decode("utf-8")
                for d, v in doc_values(reader, field, term).items():
                    uuid, starts = keys[d]
                    from index.texts import part_map
                    m = part_map(v)
                    expected[uuid][prefix + term] = summary(m, starts) if field == "g" else chapters(m, starts)
    checked = 0
    for uuid, rec in records.items():
        got = {k: v for k, v in review_values(rec).items() if k[0] in "gp"}
        assert got == expected[uuid], uuid
        checked += len(got)
    assert checked > 5000
    store.close()


def test_removed_things_are_deleted(tmp_path):
    store = make_store(tmp_path / "a", 3)
    out = tmp_path / "out"
    build_site(store, out)
    (out / "mine.txt").write_text("not the builder's")
    assert (out / urls.review(XSS_UUID)).exists()
    smaller = Store(tmp_path / "b" / "archive.sqlite3")  # another archive, without the XSS record
    for _, rec in store.iter_current():
        if rec.uuid != XSS_UUID:
            add_bytes(smaller, store.raw(store.current_version(rec.uuid).id), rec.uuid + ".txt")
    report = build_site(smaller, out)
    assert report.removed > 0
    assert not (out / urls.review(XSS_UUID)).exists()
    assert (out / "mine.txt").read_text() == "not the builder's"
    assert broken_links(out) == []
    store.close()
    smaller.close()


def _fnv(units) -> int:
    h = 0x811C9DC5
    for unit in units:
        h = ((h ^ unit) * 0x01000193) & 0xFFFFFFFF
    return h


def test_shard_hash():
    # FNV-1a over UTF-16 code units (search.js computes the same; checked in the browser test)
    big = 1 << 31
    assert shard_of("f1-score", big) == _fnv(map(ord, "f1-score")) % big
    assert shard_of("学习", big) == _fnv([ord("学"), ord("习")]) % big
    assert shard_of("\U00020000*", big) == _fnv([0xD840, 0xDC00, ord("*")]) % big


def test_partition_chunks_join_into_the_whole_posting():
    """Postings joined from partitions' chunks equal the postings encoded in one piece."""
    from publish.searchdata import Postings, encode_partition

    records = [parse(g.data, g.name)[0].record for g in generate(7, seed=3)]
    joined, whole = Postings(), Postings()
    for pid in range(3):
        joined.add_chunks(encode_partition(pid, pid * 3, records[pid * 3:(pid + 1) * 3]).chunks)
    whole.add_chunks(encode_partition(0, 0, records).chunks)
    assert joined.data == whole.data and len(joined.data) > 1000
    # and the encoding is: delta from the previous ordinal (from -1), then the value
    from index.encoding import read_varint
    key = next(k for k, v in whole.data.items() if len(v) > 6)
    data, i, o, seen = bytes(whole.data[key]), 0, -1, []
    while i < len(data):
        delta, i = read_varint(data, i)
        _, i = read_varint(data, i)
        o += delta
        seen.append(o)
    assert seen == sorted(set(seen)) and seen[-1] < len(records)


def test_serve_serves_the_site_and_nothing_else(built):
    """No directory listings, no dotfiles (the manifest, the cache), a bad path is a 400
    with no traceback, and security headers on every answer."""
    import threading
    import urllib.error
    import urllib.request

    from publish.serve import make_server

    _, out, _ = built
    server = make_server(out, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://%s:%d/" % server.server_address[:2]

    def get(path):
        try:
            with urllib.request.urlopen(base + path) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    try:
        status, headers, body = get("index.html")
        assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Frame-Options"] == "DENY"
        assert get("")[0] == 200  # the folder's index.html
        assert (out / ".site-manifest.json").exists()
        for path in ("reviews/", "search/", "static/", ".site-manifest.json", "search/../.site-manifest.json"):
            status, headers, body = get(path)
            assert status == 404 and b"Directory listing" not in body, path
            assert headers["X-Content-Type-Options"] == "nosniff"
        assert get("%00")[0] == 400 and get("a%00b.html")[0] == 400
    finally:
        server.shutdown()
        server.server_close()


def test_quality_page_tells_defects_from_notes(built):
    """Every review has a note (heading levels); the page counts reviews without
    defects, not reviews without any flag, and labels each code's kind."""
    store, out, _ = built
    flags = listing.flags(store)
    clean = sum(1 for fl in flags.values() if not any(f.severity == "defect" for f in fl))
    defective = len(flags) - clean
    page = (out / "quality.html").read_text("utf-8")
    assert f"{clean} 篇综述没有缺陷，{defective} 篇有缺陷" in page
    assert '<tr class="severity-note"><td><a href="#code-heading-level-mismatch">' in page
    assert "<td>备注</td>" in page and "<td>缺陷</td>" in page


def test_site_never_overwrites_a_folder_it_did_not_build(tmp_path):
    store = make_store(tmp_path, 2)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html").write_text("my own page")
    with pytest.raises(ArchiveError, match="not empty and holds no site built by"):
        build_site(store, mine)
    assert (mine / "index.html").read_text() == "my own page" and len(list(mine.iterdir())) == 1
    out = tmp_path / "out"
    build_site(store, out)  # new folder: built; again: it is a previous site, updated
    assert build_site(store, out).written == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    build_site(store, empty)  # an empty folder is fine
    # the partition cache lives in the archive's folder, not in or beside the output
    assert not any(p.name.endswith("site-cache") for p in tmp_path.iterdir() if p.name.startswith("."))
    assert not (out / ".site-cache").exists()
    assert any((store.path.parent / "site-cache").iterdir())
    store.close()


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_killed_update_leaves_the_published_site_whole(tmp_path):
    """kill -9 in the middle of a site update: the published folder is still exactly the
    previous site (the new one was being staged beside it); the next build publishes the
    new one and removes the dead build's staging folder."""
    import signal
    import subprocess
    import sys

    store = make_store(tmp_path, 6)
    out = tmp_path / "out"
    build_site(store, out, block=2, workers=1)
    before = _files(out)
    for g in generate(4, seed=99, start=50):  # the archive grows: an update is due
        add_bytes(store, g.data, g.name)
    store.close()
    code = (
        "import os, signal, sys\n"
        "from archive.store import Store\n"
        "from publish.site import build_site\n"
        "def die(stage, done, total):\n"
        "    if stage == 'reviews' and done >= 4: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"build_site(Store({str(tmp_path / 'archive.sqlite3')!r}), {str(out)!r}, on_progress=die,"
        " block=2, workers=1)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == -signal.SIGKILL, p.stderr
    assert list(tmp_path.glob(".out.next-*"))  # the dead build's stage, beside the site
    assert _files(out) == before  # the published site: untouched
    store = Store(tmp_path / "archive.sqlite3")
    report = build_site(store, out, block=2, workers=1)
    assert report.reviews == 12 and not list(tmp_path.glob(".out.next-*"))
    assert broken_links(out) == [] and _files(out) != before
    store.close()


def test_most_cited_order_is_the_clis(built):
    """The site's reference listing ranks works as `reviews refs --top` does (ties: more
    reviews, then id)."""
    store, out, _ = built
    html = (out / "refs" / "index.html").read_text("utf-8")
    listed = re.findall(r'href="(r[0-9a-f]{10})\.html"', html)
    top = [row[0] for row in citing.top_references(store, len(listed))]
    assert listed and listed == top


def test_citation_links_come_from_the_parsed_citations():
    """The site links exactly the markers the archive parsed, as it resolved them: `[3]`
    in a chapter is a citation, `[^2](http://x)` is a markdown link (not followed), and a
    marker past the chapter's own list resolves against the main list."""
    from archive.parser import parse as parse_record
    from publish.pages import review_context

    text = SAMPLE.read_text("utf-8").replace(
        "传统机器学习方法，如", "传统机器学习方法（见文献[3]。另见[^2](http://x)），如", 1)
    rec = parse_record(text.encode("utf-8"), "t.txt")[0].record
    where = next(s for s in rec.sections if "另见[^2](http://x)" in s.body)
    parsed = [c.marker for c in rec.citations if c.section == where.number]
    assert "[3]" in parsed and parsed.count("[^2]") == where.body.count("[^2]") - 1
    html = next(s["html"] for s in review_context(rec)["sections"] if s["number"] == where.number)
    assert '>[3]</a>' in html  # linked, as the archive counts it
    assert "另见[^2](http://x)" in html and 'href="http' not in html  # plain text, not a citation
    links = re.findall(r'class="cite"[^>]*>(\[[^<]*\])<', html)
    dangling = re.findall(r'class="cite dangling"[^>]*>(\[[^<]*\])<', html)
    assert sorted(links + dangling) == sorted(parsed)  # every parsed marker, and no other
    assert len(dangling) == sum(1 for c in rec.citations if c.section == where.number and c.ref_id is None)
