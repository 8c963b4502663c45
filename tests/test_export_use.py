"""`reviews export` and the site's downloads (issue 12): the CLI's three selections (a
review, a work, a search), each read back with a real parser, and the site's files equal
to what the CLI writes; a retracted review exports nothing."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import bibtexparser
import pytest
import rispy
from click.testing import CliRunner

from archive import citing, export
from cli import main
from publish import urls
from publish.site import build_site
from tests.helpers import broken_links, make_store, page_links


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    store = make_store(root, 12, seed=5)
    yield store, root
    store.close()


_RENDER = """
const x = require(process.argv[1]);
const rows = JSON.parse(require("fs").readFileSync(0, "utf-8"));
process.stdout.write(JSON.stringify(["bibtex", "ris", "csl-json"].map(f => x.render(rows, f))));
"""


def _run(root, *args):
    r = CliRunner().invoke(main, list(args), env={"REVIEWS_DATA": str(root)})
    return r


def test_export_a_review_in_each_format(archive):
    store, root = archive
    uuid = store.review_order()[0][0]
    rec = store.current(uuid)
    want = export.works(rec.references)
    assert len(want) == len({r.ref_id for r in rec.references}) > 5
    bib = bibtexparser.parse_string(_run(root, "export", uuid[:8]).output)
    assert not bib.failed_blocks
    assert [(e.key, e.fields_dict["title"].value) for e in bib.entries] == \
        [(w.key, "{" + export.latex(w.title) + "}") for w in want]
    ris = rispy.loads(_run(root, "export", uuid[:8], "--format", "ris").output)
    assert [(e["title"], int(e["year"]) if e.get("year") else None) for e in ris] == \
        [(w.title, w.year) for w in want]
    csl = json.loads(_run(root, "export", uuid[:8], "--format", "csl-json").output)
    assert [c["id"] for c in csl] == [w.key for w in want]


def test_export_one_work_and_a_search(archive, tmp_path):
    store, root = archive
    top = citing.top_references(store, 1)[0]
    ris = rispy.loads(_run(root, "export", "--ref", top.ref_id[:7], "--format", "ris").output)
    assert [e["title"] for e in ris] == [top.title]
    bad = _run(root, "export", "--ref", "r00000zz")
    assert bad.exit_code == 2 and "no work" in bad.output
    found = _run(root, "search", "-l", "研究").stdout.split()
    assert found
    cited = list(dict.fromkeys(r.ref_id for r in citing.references_of(store, found)))
    out = tmp_path / "cited.json"
    r = _run(root, "export", "--search", "研究", "--format", "csl-json", "-o", str(out))
    assert r.exit_code == 0 and r.output == f"wrote {out}\n"
    items = json.loads(out.read_text("utf-8"))
    assert [i["custom"]["review-archive-ref"] for i in items] == cited  # each work once, in order
    assert _run(root, "export").exit_code == 2


def test_site_offers_the_same_downloads(archive, tmp_path):
    store, root = archive
    site = tmp_path / "site"
    build_site(store, site)
    assert broken_links(site) == []
    uuid = store.review_order()[0][0]
    # a review's downloads are made in the browser (static/export.js) from the works its
    # page carries: rendered here by that script in Node, they are what the CLI writes
    html = (site / urls.review(uuid)).read_text("utf-8")
    rows = re.search(r'<script type="application/json" id="works">(.*?)</script>', html, re.S).group(1)
    assert 'data-format="ris"' in html and "static/export.js" in html
    if shutil.which("node"):
        proc = subprocess.run(["node", "-e", _RENDER, str(site / "static" / "export.js")], input=rows,
                              capture_output=True, text=True, timeout=60, check=True)
        for fmt, text in zip(export.FORMATS, json.loads(proc.stdout)):
            assert text == _run(root, "export", uuid, "--format", fmt).output, fmt
    top = citing.top_references(store, 1)[0]
    assert urls.ref_export(top.ref_id, "ris").rsplit("/", 1)[1] in page_links(site / urls.ref(top.ref_id)).links
    assert (site / urls.ref_export(top.ref_id, "ris")).read_text("utf-8") == \
        _run(root, "export", "--ref", top.ref_id, "--format", "ris").output
    # an incremental build that re-renders nothing keeps every download
    again = build_site(store, site)
    assert again.written == 0 and (site / urls.ref_export(top.ref_id, "bibtex")).is_file()


def test_a_retracted_review_exports_nothing(tmp_path):
    store = make_store(tmp_path, 2, seed=3)
    uuid = store.review_order()[-1][0]
    store.retract(uuid, "test")
    r = _run(tmp_path, "export", uuid[:8])
    assert r.exit_code == 2 and "retracted" in r.output
    found = _run(tmp_path, "search", "-l", "的").stdout.split()
    assert found and uuid not in found
    ids = {i["custom"]["review-archive-ref"] for i in
           json.loads(_run(tmp_path, "export", "--search", "的", "--format", "csl-json").output)}
    assert ids == {r.ref_id for u in found for r in store.current(u).references}
    assert ids.isdisjoint(r.ref_id for r in store.record(store.execute(
        "SELECT id FROM versions WHERE uuid = ?", (uuid,)).fetchone()[0]).references
        if r.ref_id not in {x.ref_id for u in found for x in store.current(u).references})
    store.close()
