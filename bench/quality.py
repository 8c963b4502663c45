"""Quality-over-time benchmark: `reviews stats --by month|topic` on a kept archive, and the
citation-lint flags given to an archive written before them (``--relint``).

    python -m bench.ingest --sizes 10000 --keep     # makes bench/out/data-10000
    python -m bench.quality --size 10000 [--runs 5] [--relint]

The commands are timed as a user runs them (a new process each, wall time, median of
``--runs``), and ``archive.quality.quality`` in one process (the part that is the query).
``--relint`` copies the archive, takes every lint flag out of its rows and its kept
records and marks it derived version 2 (what an archive of the parser before looked like),
then times the first writer's open, which gives them back (``Store._relint``).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def _command(data: Path, args: list[str], runs: int) -> tuple[float, float]:
    exe = str(Path(sys.executable).with_name("reviews"))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run([exe, "--data-dir", str(data), *args], capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        assert p.returncode == 0, p.stderr
    return statistics.median(times), max(times)


def _in_process(data: Path, by: str, runs: int) -> float:
    from archive.quality import quality
    from archive.store import Store

    with Store.open(data) as store:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            quality(store, by)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def as_before_lint(path: Path) -> int:
    """Take the lint flags out of an archive's rows and kept records and mark it derived
    version 2, as a parser before them left it; the number of versions changed (the
    tests make such an archive too)."""
    from archive.lint import LINT_CODES
    from archive.store import dump_doc, load_doc

    db = sqlite3.connect(path)
    marks = ",".join("?" * len(LINT_CODES))
    vids = [v for (v,) in db.execute(
        f"SELECT DISTINCT version_id FROM flags WHERE code IN ({marks})", LINT_CODES)]
    for vid in vids:
        (parsed,) = db.execute("SELECT parsed FROM versions WHERE id = ?", (vid,)).fetchone()
        doc = load_doc(parsed)
        doc["flags"] = [f for f in doc["flags"] if f["code"] not in LINT_CODES]
        db.execute("UPDATE versions SET parsed = ? WHERE id = ?", (dump_doc(doc), vid))
    db.execute(f"DELETE FROM flags WHERE code IN ({marks})", LINT_CODES)
    db.execute("UPDATE meta SET value = '2' WHERE key = 'derived_version'")
    db.commit()
    db.close()
    return len(vids)


def _relint(data: Path) -> str:
    from archive.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-relint-", dir=OUT) as tmp:
        copy = Path(tmp) / "data"
        copy.mkdir()
        shutil.copy2(data / "archive.sqlite3", copy / "archive.sqlite3")
        changed = as_before_lint(copy / "archive.sqlite3")
        t = time.perf_counter()
        Store.open(copy).close()
        seconds = time.perf_counter() - t
    return f"first open of a derived-version-2 copy: {seconds:.1f} s ({changed} versions given flags)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--relint", action="store_true", help="also time giving an older archive the lint flags")
    a = ap.parse_args(argv)
    data = OUT / f"data-{a.size}"
    if not (data / "archive.sqlite3").exists():
        sys.exit(f"no archive in {data}: run `python -m bench.ingest --sizes {a.size} --keep` first")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for by in ("month", "topic"):
        median, worst = _command(data, ["stats", "--by", by], a.runs)
        inner = _in_process(data, by, a.runs)
        print(f"reviews stats --by {by:<5}  {median:.2f} s median, {worst:.2f} s max "
              f"({a.runs} runs); archive.quality.quality {inner * 1000:.0f} ms")
    median, worst = _command(data, ["stats"], a.runs)
    print(f"reviews stats (for comparison)  {median:.2f} s median, {worst:.2f} s max")
    if a.relint:
        print(_relint(data))


if __name__ == "__main__":
    main()
