"""The installed product, not the checkout: a wheel built from pyproject.toml, installed
(not editable) in a fresh virtualenv, ingests the sample, builds the site (its templates
and static files come from the wheel) and searches, run from outside the checkout."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_a67d181a6c549fd0.txt"


def test_wheel_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                            str(ROOT)], capture_output=True, text=True)
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
    assert (site / "static" / "search.js").read_bytes() == (ROOT / "templates" / "static" / "search.js").read_bytes()
    assert (site / "reviews" / "e051ad472c3d4412ba23cc0b05bfdbab.html").is_file()
