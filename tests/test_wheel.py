"""The installed product, not the checkout: a wheel built from pyproject.toml, installed
(not editable) in a fresh virtualenv, ingests the sample, builds the site (its templates
and static files come from the wheel) and searches, run from outside the checkout."""
from __future__ import annotations

import pytest

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, SAMPLE


def _tracked_copy(dest: Path) -> Path:
    """The checkout's tracked files (and new ones not ignored), nothing else: a build
    in the checkout itself would leave build/ behind and could package stale files."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    source = _tracked_copy(tmp_path / "source")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                            str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("review_archive-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    work = tmp_path / "elsewhere"  # not the checkout: nothing may come from it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REVIEWS_DATA")}
    env["REVIEWS_DATA"] = str(tmp_path / "data")

    def reviews(*args):
        p = subprocess.run([str(venv / "bin" / "reviews"), *args], cwd=work, env=env,
                           capture_output=True, text=True)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import publish, cli; print(publish.__file__, cli.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True).stdout
    assert str(ROOT) not in where and "site-packages" in where
    reviews("ingest", "--quiet", str(SAMPLE))
    assert reviews("search", "-l", "残差网络") == "e051ad472c3d4412ba23cc0b05bfdbab\n"
    reviews("site", "--quiet", str(tmp_path / "site"))
    site = tmp_path / "site"
    assert (site / "index.html").is_file() and (site / "search.html").is_file()
    for f in (ROOT / "templates" / "static").iterdir():  # every static file (the search engine's too), from the wheel
        assert (site / "static" / f.name).read_bytes() == f.read_bytes(), f.name
    # ... and every script search.html loads is one of them
    scripts = re.findall(r'<script src="static/([^"]+)"', (site / "search.html").read_text("utf-8"))
    assert "search-engine.js" in scripts and all((site / "static" / s).is_file() for s in scripts)
    assert (site / "reviews" / "e051ad472c3d4412ba23cc0b05bfdbab.html").is_file()
    # this session's parts, from the wheel: charts, downloads, export, similar, stats, retraction
    assert 'id="chart-months"' in (site / "index.html").read_text("utf-8")
    assert (site / "reviews" / "e051ad472c3d4412ba23cc0b05bfdbab.ris").read_text("utf-8") == \
        reviews("export", "e051ad47", "--format", "ris")
    assert reviews("similar", "e051ad47") == ""  # one review: none like it
    assert "reviews received per month" in reviews("stats")
    reviews("retract", "e051ad47", "--reason", "wheel test")
    assert reviews("search", "-l", "残差网络") == ""
