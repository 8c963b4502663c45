"""The OpenSearch engine against the embedded one, on the same archive and machine.

    python -m bench.ingest --sizes 10000 --index --keep   # makes bench/out/data-10000
    python -m bench.cluster --size 10000 [--nodes 3] [--heap 1g]

Starts a cluster of ``--nodes`` nodes (``cluster.start``, the optimising JIT on:
``CLUSTER_JIT=full``) in ``bench/out/cluster-N``, then measures, in this run:

* how long ``make cluster`` takes the first time (the launcher built by Maven, with
  ``--cold``: ``cluster/target`` removed first; the Maven cache is kept) and a later time;
* bulk index throughput: ``reviews reindex`` into the cluster (reviews/s) beside
  ``reviews reindex`` of the embedded index, and both indexes' size on disk;
* query latency (``search --limit 10``, the benchmark's queries of :mod:`bench.search`)
  with 1 and with 8 concurrent clients (processes), p50 and p95, on both engines;
* the resident memory of each node after all that.

The cluster is stopped at the end (``--keep`` leaves it running).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.search import QUERIES, pct  # noqa: E402


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def _client_run(args) -> list[float]:
    """One client: every query ``rounds`` times (after one warm-up pass), its latencies."""
    kind, data, urls, index, queries, rounds = args
    if kind == "cluster":
        os.environ["REVIEWS_OPENSEARCH"], os.environ["REVIEWS_OPENSEARCH_INDEX"] = urls, index
    else:
        os.environ.pop("REVIEWS_OPENSEARCH", None)
    from index.engine import engine_for

    eng = engine_for(Path(data))
    for q in queries:
        eng.search(q, limit=10)
    out = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            eng.search(q, limit=10)
            out.append(time.perf_counter() - t)
    eng.close()
    return out


def latencies(kind: str, data: Path, urls: str, index: str, queries: list[str], clients: int,
              rounds: int) -> list[float]:
    with ProcessPoolExecutor(clients) as pool:
        jobs = [pool.submit(_client_run, (kind, str(data), urls, index, queries, rounds))
                for _ in range(clients)]
        return [t for j in jobs for t in j.result()]


def per_query(data: Path, urls: str, index: str, top: str) -> None:
    """Each query once warm on each engine: ms for --limit 10 (and the count), ms for -l."""
    os.environ["REVIEWS_OPENSEARCH"], os.environ["REVIEWS_OPENSEARCH_INDEX"] = urls, index
    from index.engine import Embedded, engine_for

    engines = {"embedded": Embedded(data), "cluster": engine_for(data)}
    print("query | reviews | embedded limit 10 / -l ms | cluster limit 10 / -l ms")
    for name, q in QUERIES.items():
        q = q.replace("{top}", top)
        row = []
        for eng in engines.values():
            eng.search(q, limit=10)
            t = time.perf_counter()
            n = eng.search(q, limit=10).total_reviews
            t1 = time.perf_counter()
            eng.search(q, ids_only=True, limit=None)
            row.append(f"{(t1 - t) * 1000:.0f} / {(time.perf_counter() - t1) * 1000:.0f}")
        print(f"{name} `{q}` | {n} | {row[0]} | {row[1]}")
    os.environ.pop("REVIEWS_OPENSEARCH")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--heap", default="1g")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="time a first make cluster (rm cluster/target)")
    ap.add_argument("--keep", action="store_true", help="leave the cluster running")
    ap.add_argument("--reuse", action="store_true",
                    help="use the cluster running in bench/out/cluster-N (no make cluster timings)")
    ap.add_argument("--no-reindex", action="store_true",
                    help="keep both indexes as they are (latencies and memory only)")
    ap.add_argument("--per-query", action="store_true",
                    help="also each query's time on both engines, one client (limit 10 and -l)")
    a = ap.parse_args(argv)
    os.environ["CLUSTER_JIT"] = "full"
    import cluster

    data = OUT / f"data-{a.size}"
    if not (data / "index").exists():
        sys.exit(f"no {data}/index; run python -m bench.ingest --sizes {a.size} --index --keep")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{a.nodes} nodes of heap {a.heap}")
    folder = OUT / f"cluster-{a.size}"
    env = dict(os.environ)
    if not (a.reuse and cluster.urls(folder)):
        cluster.stop(folder)
        make = ["make", "-s", "cluster", f"CLUSTER_NODES={a.nodes}", f"CLUSTER_DIR={folder}",
                f"CLUSTER_HEAP={a.heap}", "CLUSTER_LOG_LEVEL=warn"]
        if a.cold:
            shutil.rmtree(ROOT / "cluster" / "target", ignore_errors=True)
            print(f"first make cluster (Maven builds the launcher): {_timed(make, env):.1f} s")
            cluster.stop(folder)
        print(f"make cluster (built): {_timed(make, env):.1f} s")
    urls = ",".join(cluster.urls(folder))
    index = f"bench-{a.size}"
    exe = str(Path(sys.executable).with_name("reviews"))
    renv = dict(env, REVIEWS_DATA=str(data), REVIEWS_OPENSEARCH=urls, REVIEWS_OPENSEARCH_INDEX=index)
    from index.cluster_client import Client, Target

    client = Client(Target(tuple(urls.split(",")), index))
    if not a.no_reindex:
        client.request("DELETE", f"/{index}", ok=(200, 404))
        t = _timed([exe, "reindex", "-q"], renv)
    stats = client.request("GET", f"/{index}/_stats/store,docs")["_all"]
    n = stats["primaries"]["docs"]["count"]
    if not a.no_reindex:
        print(f"reindex into the cluster: {n} reviews in {t:.1f} s = {n / t:.1f} reviews/s")
    print(f"cluster index: {n} reviews, {stats['primaries']['store']['size_in_bytes'] / 2**20:.0f} "
          f"MB primaries, {stats['total']['store']['size_in_bytes'] / 2**20:.0f} MB with replicas")
    eenv = {k: v for k, v in renv.items() if not k.startswith("REVIEWS_OPENSEARCH")}
    if not a.no_reindex:
        t = _timed([exe, "reindex", "-q"], eenv)
        print(f"reindex of the embedded index: {n} reviews in {t:.1f} s = {n / t:.1f} reviews/s")
    print(f"embedded index: {_du(data / 'index') / 2**20:.0f} MB")
    from archive import citing
    from archive.store import Store

    with Store.open(data) as store:
        top = citing.top_references(store, 1)[0][0]
    queries = [q.replace("{top}", top) for q in QUERIES.values()]
    results = {}
    for kind in ("embedded", "cluster"):
        for clients in (1, 8):
            ts = latencies(kind, data, urls, index, queries, clients, a.rounds)
            results[(kind, clients)] = ts
            print(f"{kind:8} {clients} client(s): {len(ts)} queries, p50 {pct(ts, 50) * 1000:.0f} ms, "
                  f"p95 {pct(ts, 95) * 1000:.0f} ms, mean {statistics.mean(ts) * 1000:.0f} ms")
    if a.per_query:
        per_query(data, urls, index, top)
    for k in range(1, a.nodes + 1):
        pid = int((folder / f"node-{k}.pid").read_text())
        print(f"node {k}: {_rss_mb(pid):.0f} MB resident")
    client.close()
    print(json.dumps({f"{k}-{c}": [round(pct(v, 50) * 1000), round(pct(v, 95) * 1000)]
                      for (k, c), v in results.items()}))
    if not a.keep:
        cluster.stop(folder)


if __name__ == "__main__":
    main()
