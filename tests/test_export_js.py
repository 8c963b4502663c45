"""The site's downloads of a review's reference list are made in the browser
(templates/static/export.js) from the works its page carries (publish.pages.work_rows):
they must be byte for byte what archive.export.render makes, and what `reviews export`
writes. Checked here in Node (one process) on the hard cases of tests/test_export.py and
on the works of a generated corpus; the browser tier clicks the links
(tests/test_browser.py)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from archive.export import ET_AL, FORMATS, render, works
from archive.parser import parse
from bench.corpus import generate
from publish.pages import work_rows
from publish.resources import TEMPLATES
from tests.test_export import HOSTILE, SHAPES, refs_from, work

NODE = shutil.which("node")
_RUN = """
const x = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf-8"));
process.stdout.write(JSON.stringify(cases.map(rows => ["bibtex", "ris", "csl-json"].map(f => x.render(rows, f)))));
"""

NAMES = ("Smith, J.", "A and B", "x, y, z", "others", "OTHERS", "other\u017f", "{Brace", "\\cmd%",
         "张三", "Lee\ufeffK", "Family, Given Names", "Solo", "Two Words", "a,b", "anD c", ET_AL)


def _cases() -> list[list]:
    cases = [[work(t, i, language="zh" if re.search("[\u4e00-\u9fff]", t) else "en", authors=NAMES,
                   year=None if i % 3 == 0 else 1990 + i)
              for i, t in enumerate(HOSTILE)]]
    cases.append(works(refs_from([line for line, _, _ in SHAPES])))
    for g in generate(40, seed=11):
        (p,) = parse(g.data, g.name)
        cases.append(works(p.record.references))
    cases.append([])
    return cases


@pytest.mark.skipif(NODE is None, reason="needs Node.js (`node` on PATH)")
def test_downloads_made_in_the_browser_equal_the_exports():
    cases = _cases()
    assert sum(len(c) for c in cases) > 500
    proc = subprocess.run([NODE, "-e", _RUN, str(TEMPLATES / "static" / "export.js")],
                          input=json.dumps([work_rows(c) for c in cases]), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    for ws, texts in zip(cases, got):
        for fmt, text in zip(FORMATS, texts):
            assert text == render(ws, fmt), (fmt, [w.title for w in ws][:3])
