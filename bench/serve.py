"""`reviews serve` under parallel clients: do requests stall, time out or fail?

    python -m bench.serve [--clients 20 200] [--rounds 5] [--queue 5] [--site DIR]

A small site (the sample and 40 generated records; or ``--site DIR``) is served by the
real command, ``reviews serve DIR --port 0``, in a process of its own. For each count N
of ``--clients``, N threads connect at once (a barrier), each fetches one file (pages,
scripts, styles and search files in turn) and waits for the others, ``--rounds`` times:
N x rounds requests, each with a 10 s timeout, the whole run bounded by ``--deadline``.
Printed per N: requests answered, failed (timeouts, resets), latency p50, p95 and max,
and how many took over 1 s (a client whose SYN the kernel dropped because the listen
queue was full waits 1 s for the retransmit, then 3 s: those stalls are what a small
queue costs). ``--queue Q`` runs the same clients against a server whose listen queue
is Q (http.server's default is 5) for comparison.
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from publish.serve import _Server

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0


def build_site(out: Path, n: int = 40) -> None:
    from archive.store import Store
    from bench.corpus import generate
    from publish.site import build_site as build
    from tests.helpers import SAMPLE, add_bytes

    with tempfile.TemporaryDirectory() as tmp, Store.open(tmp) as store:
        add_bytes(store, SAMPLE.read_bytes(), SAMPLE.name)
        for g in generate(n, seed=1):
            add_bytes(store, g.data, g.name)
        build(store, out)


def start_server(site: Path, queue: int | None) -> tuple[subprocess.Popen, int]:
    """The real command; with ``queue``, the same server with another listen queue."""
    if queue is None:
        cmd = [str(Path(sys.executable).with_name("reviews")), "serve", str(site), "--port", "0"]
    else:
        cmd = [sys.executable, "-c", "import sys\nfrom publish import serve\n"
               "serve._Server.request_queue_size = int(sys.argv[2])\n"
               "serve.serve(sys.argv[1], port=0, on_ready=lambda u: print('serving at', u, flush=True))\n",
               str(site), str(queue)]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()  # "serving ... at http://127.0.0.1:PORT/ ..."
    port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
    return p, port


def files_of(site: Path) -> list[str]:
    picks = ["index.html", "search.html", "quality.html"]
    picks += sorted(p.relative_to(site).as_posix() for p in site.glob("static/*"))[:6]
    picks += sorted(p.relative_to(site).as_posix() for p in site.glob("reviews/*.html"))[:20]
    picks += sorted(p.relative_to(site).as_posix() for p in site.rglob("search/*") if p.is_file())[:10]
    return picks


def fetch(port: int, path: str) -> tuple[float, str | None]:
    t0 = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", "/" + path)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        err = None if resp.status == 200 else f"HTTP {resp.status}"
    except (OSError, http.client.HTTPException) as e:
        err = type(e).__name__
    return time.perf_counter() - t0, err


def run_clients(port: int, files: list[str], clients: int, rounds: int, deadline: float) -> dict:
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        for r in range(rounds):
            try:
                barrier.wait(timeout=max(1.0, deadline - time.monotonic()))
            except threading.BrokenBarrierError:
                return
            if time.monotonic() > deadline:
                barrier.abort()
                return
            took, err = fetch(port, files[(i + r * clients) % len(files)])
            with lock:
                times.append(took)
                if err:
                    errors.append(err)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + TIMEOUT)
    wall = time.perf_counter() - t0
    times.sort()
    q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
    return {"clients": clients, "requests": len(times), "planned": clients * rounds,
            "failed": len(errors), "errors": sorted(set(errors)), "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * q[18], "max_ms": 1000 * times[-1], "over_1s": sum(t > 1 for t in times),
            "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[20, 200])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--queue", type=int, help="also run a server with this listen queue")
    ap.add_argument("--site", type=Path, help="a built site (default: build a small one)")
    ap.add_argument("--deadline", type=float, default=120.0, help="seconds per client count")
    args = ap.parse_args()
    print(f"# {platform.node()}: {platform.system()} {platform.release()} {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or Path(tmp) / "site"
        if args.site is None:
            build_site(site)
        files = files_of(site)
        for queue in [None] + ([args.queue] if args.queue else []):
            server, port = start_server(site, queue)
            try:
                label = (f"reviews serve (queue {_Server.request_queue_size})" if queue is None
                         else f"listen queue {queue}")
                for n in args.clients:
                    r = run_clients(port, files, n, args.rounds, time.monotonic() + args.deadline)
                    print(f"{label}: {n:>3} clients x {args.rounds} rounds: {r['requests']}/{r['planned']} "
                          f"answered, {r['failed']} failed {r['errors'] or ''}; p50 {r['p50_ms']:.1f} ms, "
                          f"p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.0f} ms, {r['over_1s']} over 1 s; "
                          f"{r['wall_s']:.1f} s in all", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
                server.stdout.close()


if __name__ == "__main__":
    main()
