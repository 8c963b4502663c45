"""Search benchmark: in-process query latency, and the `reviews search` command beside rg.

    python -m bench.ingest --sizes 1000 --index --keep   # makes bench/out/data-1000
    python -m bench.search --sizes 1000 10000
    python -m bench.search --sizes 10000 --facets        # only: --facets, --sort date, --count
    python -m bench.search --sizes 10000 --facets --against OTHER/.venv/bin/reviews OTHER_DATA
    python -m bench.search --sizes 100000 --commands-only --before OTHER/.venv/bin/reviews

For each archive in ``bench/out/data-N`` (with its corpus in ``bench/out/corpus-N``):
p50/p95 of :func:`index.search.search` over a fixed list of queries (warm, in one process,
5 rounds: the first page with its exact count, and the exact count alone), then the wall
time of the whole `reviews search -l Q` and `reviews search --limit 10 Q` commands
against `rg -l -F Q` over the same raw files (Debian's ripgrep), in turns, all measured
in this run, as ratios; ``--before`` times another checkout's command on the same
archive in the same turns. The checkout is byte-compiled first, as `make venv` does, so
the command does not pay for compiling.
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
    # issue 19: 5-character phrases whose characters and most pairs are in nearly every
    # review at 100k (the worst queries there), and a common 2-character word
    "5-char phrase": "的研究意义",
    "5-char phrase 2": "综合现有证",
    "2-char word": "政策",
    # phrases that ARE in most reviews (95 % of the files, 99.5 % of the reviews with the
    # GB18030 records rg cannot read): every candidate's text is verified; the two above
    # are in none of the generated reviews, so they never reach the verification
    "4-char phrase in most": "未来研究",
    "3-char phrase in most": "的研究",
}
# the same strings as rg patterns (literal, fixed-string); field queries have none
RG = {"common word": "研究", "common phrase": "深度学习", "rare word": "汜涡县", "latin": "ResNet",
      "6-char phrase": "迁移学习方法", "single char": "段", "5-char phrase": "的研究意义",
      "5-char phrase 2": "综合现有证", "2-char word": "政策", "4-char phrase in most": "未来研究",
      "3-char phrase in most": "的研究"}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def in_process(data: Path, rounds: int = 5) -> tuple[dict, dict, dict]:
    """Per query of :data:`QUERIES`, in one process after a warm-up round: the first page
    (``limit=10``, ranked, with the exact number of matches), and the exact number alone
    (what ``search --count`` runs: the match set, no scores), ``rounds`` times each."""
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
    counts: dict[str, list[float]] = {k: [] for k in QUERIES}
    totals = {}
    for name, q in QUERIES.items():  # warm-up round (opens the index, fills caches)
        totals[name] = search(ix, q, limit=10).total_reviews
        assert search(ix, q, ids_only=True, limit=None, sort="date").total_reviews == totals[name]
    for _ in range(rounds):
        for name, q in QUERIES.items():
            t = time.perf_counter()
            search(ix, q, limit=10)
            times[name].append(time.perf_counter() - t)
            t = time.perf_counter()
            search(ix, q, ids_only=True, limit=None, sort="date")
            counts[name].append(time.perf_counter() - t)
    return times, counts, totals


#: what --facets, --sort date and --count cost on a common word, against the plain search
FACET_QUERY = "研究"
FACET_RUNS = {  # name -> (search() keywords, the command's arguments)
    "search --limit 10": ({"limit": 10}, ["--limit", "10"]),
    "search --facets": ({"limit": 10, "facets": True}, ["--limit", "10", "--facets"]),
    "search --facets --json": ({"limit": 10, "facets": True, "refine": True},
                               ["--limit", "10", "--facets", "--json"]),
    "search --sort date": ({"limit": 10, "sort": "date"}, ["--limit", "10", "--sort", "date"]),
    "search --count": ({"ids_only": True, "limit": None, "sort": "date"}, ["--count"]),
    "search -l": ({"ids_only": True, "limit": None}, ["-l"]),
}


def facet_runs(data: Path, exe: str, rounds: int = 7) -> None:
    """Each of :data:`FACET_RUNS` on :data:`FACET_QUERY`: in one process (median of
    ``rounds`` after a warm-up; ``refine``: the refinements made too, as --json does)
    and as a whole command (median of ``rounds`` cold processes)."""
    from index.folder import index_dir
    from index.search import search

    ix = index_dir(data)
    env = dict(os.environ, REVIEWS_DATA=str(data))
    res = search(ix, FACET_QUERY, limit=10, facets=True)
    print(f"\nfacets on {FACET_QUERY!r}: {res.total_reviews} reviews, "
          f"{len(res.facets.topics)} topics, {len(res.facets.months)} months")
    print("| run | in-process median (max) | whole command median (max) |")
    print("|---|---:|---:|")
    for name, (kw, args) in FACET_RUNS.items():
        kw = dict(kw)
        refine = kw.pop("refine", False)
        times = []
        for k in range(rounds + 1):
            t = time.perf_counter()
            got = search(ix, FACET_QUERY, **kw)
            if refine:
                got.facets.refine()
            if k:
                times.append(time.perf_counter() - t)
        line = [exe, "search", *args, FACET_QUERY]
        wall(line, env, 1)  # (a warm-up: the files in the page cache)
        cmd = [timed(line, env) for _ in range(rounds)]
        print(f"| `{name}` | {statistics.median(times) * 1000:.0f} ms ({max(times) * 1000:.0f}) "
              f"| {statistics.median(cmd) * 1000:.0f} ms ({max(cmd) * 1000:.0f}) |", flush=True)


def against(data: Path, exe: str, other: str, other_data: Path, rounds: int = 9) -> None:
    """The plain search (``--limit 10``, ``-l``) on :data:`FACET_QUERY` by this checkout
    and by ``other`` (another checkout's ``reviews``, on its own copy of the archive),
    run alternately: what the topic in every key (index format 5) costs a search that
    asks for no facets."""
    print(f"\nplain search on {FACET_QUERY!r}, alternately (median of {rounds} cold processes each)")
    print("| command | this checkout | the other |")
    print("|---|---:|---:|")
    for args in (["--limit", "10"], ["-l"]):
        ours = [exe, "search", *args, FACET_QUERY]
        theirs = [other, "search", *args, FACET_QUERY]
        env, env2 = dict(os.environ, REVIEWS_DATA=str(data)), dict(os.environ, REVIEWS_DATA=str(other_data))
        timed(ours, env), timed(theirs, env2)  # (warm-ups)
        a, b = [], []
        for _ in range(rounds):
            a.append(timed(ours, env))
            b.append(timed(theirs, env2))
        print(f"| `search {' '.join(args)}` | {statistics.median(a) * 1000:.0f} ms "
              f"| {statistics.median(b) * 1000:.0f} ms |", flush=True)


def timed(cmd: list[str], env: dict, check: bool = True) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=check)
    return time.perf_counter() - t


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
    ap.add_argument("--facets", action="store_true",
                    help="only what --facets, --sort date and --count cost on a common word")
    ap.add_argument("--against", nargs=2, metavar=("REVIEWS", "DATA"),
                    help="with --facets: also time the plain search against another checkout's "
                         "reviews command on its own archive, alternately")
    ap.add_argument("--before", metavar="REVIEWS",
                    help="also time another checkout's reviews command on the same archive, "
                         "in turns with this one's (before/after in one run)")
    ap.add_argument("--commands-only", action="store_true",
                    help="only the whole commands against rg (no in-process rounds)")
    ap.add_argument("--in-process-only", action="store_true",
                    help="only the in-process rounds (no whole commands)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the whole commands")
    a = ap.parse_args(argv)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    exe = str(Path(sys.executable).with_name("reviews"))
    for n in a.sizes:
        data, corpus = OUT / f"data-{n}", OUT / f"corpus-{n}"
        if not (data / "index").exists():
            print(f"{n}: no {data}/index; run python -m bench.ingest --sizes {n} --index --keep")
            continue
        if a.facets:
            subprocess.run([sys.executable, "-m", "compileall", "-q", "cli.py", "archive", "index",
                            "publish", "shell"], cwd=ROOT, check=True)
            facet_runs(data, exe)
            if a.against:
                against(data, exe, a.against[0], Path(a.against[1]))
            continue
        if a.commands_only:
            commands(data, corpus, exe, a.before, a.rounds)
            continue
        load = os.getloadavg()[0]
        times, counts, totals = in_process(data)
        allt = [t for ts in times.values() for t in ts]
        allc = [t for ts in counts.values() for t in ts]
        print(f"\n{n} reviews: in-process search, 5 rounds after a warm-up (load {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after)")
        print(f"  first page (limit 10, exact count): p50 {pct(allt, 50) * 1000:.0f} ms, "
              f"p95 {pct(allt, 95) * 1000:.0f} ms; the exact count alone: p50 "
              f"{pct(allc, 50) * 1000:.0f} ms, p95 {pct(allc, 95) * 1000:.0f} ms")
        for name, q in QUERIES.items():
            ts, cs = times[name], counts[name]
            print(f"  {name:<15} {q:<22} {totals[name]:>6} reviews  page p50 {pct(ts, 50) * 1000:6.0f} ms"
                  f"  max {max(ts) * 1000:6.0f} ms | count p50 {pct(cs, 50) * 1000:6.0f} ms")
        if a.in_process_only:
            continue
        subprocess.run([sys.executable, "-m", "compileall", "-q", "cli.py", "archive", "index",
                        "publish"], cwd=ROOT, check=True)
        commands(data, corpus, exe, a.before, a.rounds)


def commands(data: Path, corpus: Path, exe: str, before: str | None, rounds: int) -> None:
    """Each :data:`RG` query as whole commands, ``rg -l -F`` first, then ``search -l`` and
    ``search --limit 10`` of this checkout (and of ``before``, another checkout's
    ``reviews`` on the same archive), in turns: ``rounds`` rounds after a warm-up one,
    each round started by the next command, so that a change of load or of what the
    page cache holds hits every command alike; medians and ratios to rg."""
    env = dict(os.environ, REVIEWS_DATA=str(data))
    who = [("", exe)] + ([("before ", before)] if before else [])
    print(f"\nwhole command (median of {rounds}, in turns) vs rg -l -F over the raw files; "
          f"load {os.getloadavg()[0]:.1f}")
    ratios: dict[str, list[float]] = {}
    for name, pattern in RG.items():
        lines = {"rg": ["rg", "-l", "-F", pattern, str(corpus)]}
        for tag, program in who:
            for flag, args in (("-l", ["-l"]), ("--limit 10", ["--limit", "10"])):
                lines[f"{tag}search {flag}"] = [program, "search", *args, QUERIES[name]]
        times: dict[str, list[float]] = {k: [] for k in lines}
        order = list(lines)
        for k in range(rounds + 1):
            for key in order[k % len(order):] + order[:k % len(order)]:  # (each first in turn)
                t = timed(lines[key], env, check=key != "rg")
                if k:
                    times[key].append(t)
        med = {key: statistics.median(ts) for key, ts in times.items()}
        out = f"  {pattern:<8} rg -l {med['rg'] * 1000:6.0f} ms"
        for key in lines:
            if key != "rg":
                ratios.setdefault(key, []).append(med[key] / med["rg"])
                out += f" | {key} {med[key] * 1000:6.0f} ms ({med[key] / med['rg']:4.2f}x)"
        print(out, flush=True)
    for key, rs in ratios.items():
        print(f"  {key}: median ratio {statistics.median(rs):.2f}, max {max(rs):.2f}")
    print(f"  load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
