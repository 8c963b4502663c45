"""Search benchmark: in-process query latency, and the `reviews search` command beside rg.

    python -m bench.ingest --sizes 1000 --index --keep   # makes bench/out/data-1000
    python -m bench.search --sizes 1000 10000

For each archive in ``bench/out/data-N`` (with its corpus in ``bench/out/corpus-N``):
p50/p95 of :func:`index.search.search` over a fixed list of queries (warm, in one process,
5 rounds), then the wall time of the whole `reviews search -l Q` and
`reviews search --limit 10 Q` commands against `rg -l -F Q` over the same raw files
(Debian's ripgrep), all measured in this run, as ratios. The checkout is byte-compiled
first, as `make venv` does, so the command does not pay for compiling.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

QUERIES = {
    "common word": "研究",
    "common phrase": "深度学习",
    "two words": "深度学习 模型",
    "rare word": "汜涡县",
    "single char": "段",
    "cross-boundary": "是一段",
    "6-char phrase": "迁移学习方法",
    "latin": "ResNet",
    "latin compound": "F1-Score",
    "OR": "联邦学习 OR 差分隐私",
    "NOT": "模型 -GAN",
    "topic field": "topic:图像识别",
    "section field": "section:2.1 模型",
    "section title": "section:残差网络 ResNet",
    "ref field": "ref:迁移学习",
    "ref id field": "ref:{top}",  # the most cited work of the archive, filled in at run time
    "uuid field": "uuid:0a 研究",
    "date field": "深度学习 since:2025-06-01",
}
# the same strings as rg patterns (literal, fixed-string); field queries have none
RG = {"common word": "研究", "common phrase": "深度学习", "rare word": "汜涡县", "latin": "ResNet",
      "6-char phrase": "迁移学习方法", "single char": "段"}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def in_process(data: Path) -> dict[str, list[float]]:
    from index.indexer import index_dir
    from index.search import search

    from archive import citing
    from archive.store import Store

    ix = index_dir(data)
    with Store.open(data) as store:
        top = citing.top_references(store, 1)[0][0]
    for k, q in QUERIES.items():
        QUERIES[k] = q.replace("{top}", top)
    times: dict[str, list[float]] = {k: [] for k in QUERIES}
    totals = {}
    for name, q in QUERIES.items():  # warm-up round (opens the index, fills caches)
        totals[name] = search(ix, q, limit=10).total_reviews
    for _ in range(5):
        for name, q in QUERIES.items():
            t = time.perf_counter()
            search(ix, q, limit=10)
            times[name].append(time.perf_counter() - t)
    return times, totals


def wall(cmd: list[str], env: dict, runs: int = 3) -> float:
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    best = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best.append(time.perf_counter() - t)
    return statistics.median(best)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    a = ap.parse_args(argv)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    exe = str(Path(sys.executable).with_name("reviews"))
    for n in a.sizes:
        data, corpus = OUT / f"data-{n}", OUT / f"corpus-{n}"
        if not (data / "index").exists():
            print(f"{n}: no {data}/index; run python -m bench.ingest --sizes {n} --index --keep")
            continue
        times, totals = in_process(data)
        allt = [t for ts in times.values() for t in ts]
        print(f"\n{n} reviews: in-process search, limit 10, 5 rounds after a warm-up")
        print(f"  all queries: p50 {pct(allt, 50) * 1000:.0f} ms, p95 {pct(allt, 95) * 1000:.0f} ms")
        for name, q in QUERIES.items():
            ts = times[name]
            print(f"  {name:<15} {q:<22} {totals[name]:>6} reviews  p50 {pct(ts, 50) * 1000:6.0f} ms"
                  f"  max {max(ts) * 1000:6.0f} ms")
        env = dict(os.environ, REVIEWS_DATA=str(data))
        subprocess.run([sys.executable, "-m", "compileall", "-q", "cli.py", "archive", "index",
                        "publish"], cwd=ROOT, check=True)
        print(f"\n{n} reviews: whole command (median of 5) vs rg -l -F over the raw files")
        ratios: dict[str, list[float]] = {"-l": [], "--limit 10": []}
        for name, pattern in RG.items():
            rg = wall(["rg", "-l", "-F", pattern, str(corpus)], env, 5)
            line = f"  {pattern:<8} rg -l {rg * 1000:6.0f} ms"
            for flag, args in (("-l", ["-l"]), ("--limit 10", ["--limit", "10"])):
                ours = wall([exe, "search", *args, QUERIES[name]], env, 5)
                ratios[flag].append(ours / rg)
                line += f" | search {flag} {ours * 1000:6.0f} ms ({ours / rg:4.2f}x)"
            print(line)
        for flag, rs in ratios.items():
            print(f"  median ratio, search {flag}: {statistics.median(rs):.2f}")


if __name__ == "__main__":
    main()
