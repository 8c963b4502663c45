"""Ingest benchmark: parse + store (and the index update) of generated corpora.

    python -m bench.ingest --sizes 1000 10000 [--index] [--keep] [--one] [--jieba]

Each phase runs in a fresh subprocess so its peak RSS is its own. ``--index`` also brings
the search index up to date (on a new archive: the parallel build) and reports its size
beside the raw records'. ``--one`` then times the whole `reviews ingest FILE` command
for one new record into the finished archive (index update included), 5 times, each
on a fresh copy of the archive. ``--jieba`` also times plain ``jieba.lcut`` over the
same records' text in one process (the reference the ingest target is stated against:
ingest + index within 0.75x of it), in the same run. Corpora are generated
once per size into ``bench/out/corpus-N`` (deterministic, seed 0) and reused.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def corpus(n: int) -> Path:
    from bench.corpus import write_corpus

    d = OUT / f"corpus-{n}"
    if not (d / ".complete").exists():
        shutil.rmtree(d, ignore_errors=True)
        write_corpus(d, n, seed=0, workers=min(2, os.cpu_count() or 1))
        (d / ".complete").write_text("ok")
    return d


def _phase(phase: str, src: str, data_dir: str) -> None:
    """Runs inside the child process; prints one JSON line."""
    from archive.ingest import ingest
    from archive.store import Store

    t0 = time.perf_counter()
    with Store.open(data_dir) as store:
        if phase == "store":
            rep = ingest(store, [src])
            result = {"added": rep.added, "refused": len(rep.refused)}
        else:  # "index": bring the search index up to date with the archive
            from index.indexer import update

            rep = update(store, Path(data_dir) / "index")
            result = {"indexed": rep.indexed, "index_mb": sum(f.stat().st_size for f in (Path(data_dir) / "index").iterdir()) / 1e6}
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = ru.ru_maxrss / 1024  # KiB on Linux -> MiB
    cpu = ru.ru_utime + ru.ru_stime + kids.ru_utime + kids.ru_stime
    print(json.dumps({"phase": phase, "seconds": wall, "cpu_seconds": cpu, "peak_rss_mb": rss,
                      "worker_peak_rss_mb": kids.ru_maxrss / 1024, **result}, default=str))


def run_phase(phase: str, src: Path, data_dir: Path) -> dict:
    p = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--child", phase, str(src), str(data_dir)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(p.stdout.strip().splitlines()[-1])


def _jieba(src: str) -> None:
    """Runs inside the child process: jieba.lcut over every record's text; one JSON line."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    files = sorted(Path(src).glob("*.txt"))
    t0 = time.perf_counter()
    for f in files:
        jieba.lcut(f.read_bytes().decode("utf-8", "replace"))
    print(json.dumps({"phase": "jieba", "seconds": time.perf_counter() - t0, "files": len(files)}))


def one_more(data: Path, runs: int = 5) -> str:
    """Wall time of `reviews ingest NEW.txt` into copies of the archive in ``data``."""
    import statistics

    from bench.corpus import generate

    exe = str(Path(sys.executable).with_name("reviews"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", "cli.py", "archive", "index",
                    "publish"], cwd=ROOT, check=True)
    times = []
    with tempfile.TemporaryDirectory(prefix="bench-one-") as tmp:
        new = next(iter(generate(1, seed=987654)))
        src = Path(tmp) / "new.txt"
        src.write_bytes(new.data)
        for i in range(runs):
            copy = Path(tmp) / f"data-{i}"
            shutil.copytree(data, copy)
            t = time.perf_counter()
            p = subprocess.run([exe, "ingest", "--quiet", str(src)], capture_output=True, text=True,
                               env=dict(os.environ, REVIEWS_DATA=str(copy)))
            times.append(time.perf_counter() - t)
            assert p.returncode == 0, p.stderr
            shutil.rmtree(copy)
    return f"median {statistics.median(times):.2f} s, max {max(times):.2f} s ({runs} runs)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--index", action="store_true", help="also time the index update")
    ap.add_argument("--keep", action="store_true", help="keep the archive in bench/out/data-N (for bench.search)")
    ap.add_argument("--one", action="store_true", help="then time ingesting one new record (needs --index)")
    ap.add_argument("--jieba", action="store_true", help="also time jieba.lcut over the same text")
    ap.add_argument("--child", nargs=3, metavar=("PHASE", "SRC", "DATA"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        if a.child[0] == "jieba":
            _jieba(a.child[1])
            return
        _phase(*a.child)
        return
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for n in a.sizes:
        src = corpus(n)
        mb = sum(f.stat().st_size for f in src.glob("*.txt")) / 1e6
        keep = OUT / f"data-{n}"
        if a.keep:
            shutil.rmtree(keep, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            tmp = keep if a.keep else Path(tmp)
            st = run_phase("store", src, Path(tmp))
            line = (f"{n:>6} records {mb:8.1f} MB  parse+store {st['seconds']:7.1f} s "
                    f"{n / st['seconds']:7.1f} rec/s {mb / st['seconds']:6.2f} MB/s "
                    f"(cpu {st['cpu_seconds']:.1f} s) peak RSS {st['peak_rss_mb']:.0f} MB"
                    f" (workers {st['worker_peak_rss_mb']:.0f} MB)")
            if a.index:
                ix = run_phase("index", src, Path(tmp))
                total = st["seconds"] + ix["seconds"]
                line += (f" | index {ix['seconds']:7.1f} s (cpu {ix['cpu_seconds']:.1f} s) peak RSS"
                         f" {ix['peak_rss_mb']:.0f} MB (workers {ix['worker_peak_rss_mb']:.0f} MB)"
                         f" | ingest+index {total:7.1f} s {mb / total:5.2f} MB/s"
                         f" | index {ix['index_mb']:.0f} MB = {ix['index_mb'] / mb:.2f}x the records")
            print(line, flush=True)
            if a.jieba:
                jb = run_phase("jieba", src, Path(tmp))
                ratio = f" = {total / jb['seconds']:.2f}x of it" if a.index else ""
                print(f"{n:>6} records: jieba.lcut over the same text, one process: "
                      f"{jb['seconds']:.1f} s{ratio}", flush=True)
            if a.index and a.one:
                print(f"{n:>6} records: one more, whole command: {one_more(Path(tmp))}", flush=True)


if __name__ == "__main__":
    main()
