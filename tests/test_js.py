"""The search engine's unit tests (tests/js/, run by `node --test`): the site's client on the
conformance tables and on snippet windows, with no browser. Run here so that `make check`
and `make test` run them; the ranking table needs a site of the tables' corpus, built here
(RA_SITE tells the tests where)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from archive.store import Store
from publish.site import build_site

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")


def _node_major() -> int:
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout  # v20.1.0
    return int(re.match(r"v(\d+)", out).group(1))


@pytest.mark.skipif(NODE is None, reason="needs Node.js 20+ (`node` on PATH) for tests/js/")
def test_engine_unit_tests_in_node(conformance_corpus, tmp_path):
    if _node_major() < 20:
        pytest.skip("needs Node.js 20+ for tests/js/ (node:test, DecompressionStream)")
    shutil.copytree(conformance_corpus, tmp_path / "data")  # (the build writes its cache there)
    with Store(tmp_path / "data" / "archive.sqlite3") as store:
        build_site(store, tmp_path / "site", workers=1)
    env = {**os.environ, "RA_SITE": str(tmp_path / "site")}
    proc = subprocess.run([NODE, "--test", "--test-reporter=tap", str(JS)], capture_output=True,
                          text=True, env=env, cwd=JS.parent.parent, timeout=300)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    counts = {k: int(v) for k, v in re.findall(r"^# (pass|fail|skipped) (\d+)$", report, re.M)}
    # every test ran (none skipped for want of the site), and there are some
    assert counts.get("fail") == 0 and counts.get("skipped") == 0 and counts.get("pass", 0) >= 15, report
