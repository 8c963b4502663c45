"""The installed product, not the checkout: a wheel built from pyproject.toml, installed
the way the README says (``pipx install``: a virtualenv of its own, since the wheel's
top-level ``archive``, ``index``, ``publish``, ``shell`` and ``cli`` could collide with other
packages' in a shared one), ingests the sample, builds the site (its templates and static
files come from the wheel) and searches, run from outside the checkout."""
from __future__ import annotations

import pytest

import os
import re
import shutil
import subprocess
import sys
import zipfile
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
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {"archive", "index", "publish", "shell", "cli.py"} <= tops and "bench" not in tops, tops
    # pipx, as the README installs it, with its home and its bin folder in the test's folder
    pipx = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REVIEWS_DATA")}
    pipx.update(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"),
                PIPX_MAN_DIR=str(tmp_path / "man"))
    install = subprocess.run([sys.executable, "-m", "pipx", "install", "--python", sys.executable,
                              str(wheel)], env=pipx, capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    venv = tmp_path / "pipx" / "venvs" / "review-archive"
    exe = tmp_path / "bin" / "reviews"
    assert exe.resolve() == (venv / "bin" / "reviews").resolve()
    work = tmp_path / "elsewhere"  # not the checkout: nothing may come from it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REVIEWS_DATA")}
    env["REVIEWS_DATA"] = str(tmp_path / "data")

    def reviews(*args):
        p = subprocess.run([str(exe), *args], cwd=work, env=env,
                           capture_output=True, text=True)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import publish, cli, importlib.util as u;"
                            " print(publish.__file__, cli.__file__, u.find_spec('bench'))"],
                           cwd=work, env=env, capture_output=True, text=True).stdout
    assert str(ROOT) not in where and str(venv) in where and where.endswith(" None\n"), where
    assert "Usage: reviews" in reviews("--help")
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
    page = (site / "reviews" / "e051ad472c3d4412ba23cc0b05bfdbab.html").read_text("utf-8")
    assert 'id="works"' in page and 'data-format="ris"' in page  # (made by static/export.js)
    ref = re.search(r'href="\.\./refs/(r[0-9a-f]{10})\.html"', page).group(1)
    assert (site / "refs" / f"{ref}.ris").read_text("utf-8") == reviews("export", "--ref", ref, "--format", "ris")
    assert reviews("similar", "e051ad47") == ""  # one review: none like it
    assert "reviews received per month" in reviews("stats")
    reviews("retract", "e051ad47", "--reason", "wheel test")
    assert reviews("search", "-l", "残差网络") == ""
