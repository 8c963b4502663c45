"""The listings and every command's peak memory on a large archive (issue 19): each
command whole, as a user runs it, under ``/usr/bin/time`` (wall, user CPU, peak RSS).

    python -m bench.listings DATA_DIR [--runs 3] [--tree CHECKOUT] [--memory]
                             [--dupes-timeout 600] [--ingest]

Without ``--memory``: ``list --limit 20``, ``stats``, ``refs --top 10`` and ``check
--strict`` on one review, ``--runs`` times each (the issue's target: at most 1 s each).
``--memory`` adds one run of each other command a user reaches for (``refs`` over a
common title word, ``show``, ``search --facets`` over a common word, ``similar``,
``export``, ``dupes`` within ``--dupes-timeout`` seconds), for the target of no command
above 2 GB resident. ``--ingest`` then adds one new generated record with ``reviews
ingest`` (it writes: give it a copy). The machine's load is printed before each command:
figures here are taken on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import ROOT

LISTINGS = [["list", "--limit", "20"], ["stats"], ["refs", "--top", "10"], ["check", "--strict", "{uuid}"]]
MEMORY = [["refs", "{word}"], ["show", "{uuid}"], ["search", "{word}", "--facets"],
          ["similar", "{uuid}"], ["export", "{uuid}", "--format", "ris"]]


def timed(tree: Path, data: Path, args: list[str], timeout: float | None = None) -> dict:
    """One whole command: wall, user CPU, peak RSS and exit status (None: timed out)."""
    env = dict(os.environ, REVIEWS_DATA=str(data))
    env.pop("REVIEWS_OPENSEARCH", None)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%U %M", str(tree / ".venv" / "bin" / "reviews"), *args],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # its own session: /usr/bin/time and the command
        p.communicate()
        return {"command": " ".join(args), "status": None, "wall_s": round(time.perf_counter() - t, 1),
                "load": round(load, 1)}
    wall = time.perf_counter() - t
    user, rss = err.strip().splitlines()[-1].split()
    return {"command": " ".join(args), "status": p.returncode, "wall_s": round(wall, 2),
            "user_s": float(user), "peak_rss_mb": round(int(rss) / 1024), "load": round(load, 1)}


def first_uuid(tree: Path, data: Path) -> str:
    out = subprocess.run([str(tree / ".venv" / "bin" / "reviews"), "list", "--limit", "1", "--json"],
                         env=dict(os.environ, REVIEWS_DATA=str(data)), capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)[0]["uuid"][:8]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code runs")
    ap.add_argument("--memory", action="store_true", help="also every other reading command, once")
    ap.add_argument("--word", default="研究", help="the common word of refs and search")
    ap.add_argument("--dupes-timeout", type=float, default=600)
    ap.add_argument("--ingest", action="store_true", help="then ingest one new record (writes DATA_DIR)")
    args = ap.parse_args()
    tree, data = args.tree.resolve(), args.data_dir.resolve()
    print(f"# {tree} on {data}, {os.cpu_count()} cores", file=sys.stderr)
    fill = {"uuid": first_uuid(tree, data), "word": args.word}
    plan = [c for c in LISTINGS for _ in range(args.runs)]
    if args.memory:
        plan += MEMORY
    for command in plan:
        print(json.dumps(timed(tree, data, [a.format(**fill) for a in command]), ensure_ascii=False),
              flush=True)
    if args.memory:
        print(json.dumps(timed(tree, data, ["dupes"], timeout=args.dupes_timeout)), flush=True)
    if args.ingest:
        from bench.corpus import generate

        with tempfile.TemporaryDirectory(prefix="bench-listings-") as tmp:
            g = next(generate(1, seed=19, start=20_000_000))
            src = Path(tmp) / g.name
            src.write_bytes(g.data)
            print(json.dumps(timed(tree, data, ["ingest", "--quiet", str(src)])), flush=True)


if __name__ == "__main__":
    main()
