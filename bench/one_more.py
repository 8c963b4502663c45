"""One more review, again and again: `reviews ingest FILE` into an archive whose index has
the segment layout of a large bulk build.

    python -m bench.one_more DATA_DIR [--segment-postings N] [--runs 6] [--tree CHECKOUT]

A bulk build writes a segment per ``index.indexer.SEGMENT_POSTINGS`` postings a worker
has gathered: 10 segments at 10,000 reviews, about 50 at 100,000. What a commit then
merges depends on that layout (:mod:`index.merging`), so the 100,000-review case can be
had from a 10,000-review archive: its index is rebuilt (in a copy) with a smaller
``--segment-postings`` (500,000 gives 47 segments of ~220 reviews, as 100k has ~50 of
~2,200). Then ``--runs`` new generated records are ingested one after another into that
copy, each by the whole command, timed (wall, and the child's user CPU and peak RSS by
``/usr/bin/time``), with the number of segments after it.

``--tree`` runs another checkout's code (its ``.venv``) on the same archive: the figure
before and after a change, from one script.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import ROOT

_REBUILD = """
import sys
from archive.store import Store
from index import indexer
if __name__ == "__main__":
    indexer.SEGMENT_POSTINGS = int(sys.argv[2])
    with Store.open(sys.argv[1]) as store:
        indexer.rebuild(store, sys.argv[1] + "/index", procs=2)
"""

_SEGMENTS = """
import sys
from whoosh import index
print(len(index.open_dir(sys.argv[1], indexname="MAIN")._segments()))
"""


def _python(tree: Path) -> str:
    return str(tree / ".venv" / "bin" / "python")


def run(data_dir: Path, segment_postings: int | None, runs: int, tree: Path) -> list[dict]:
    from bench.corpus import generate

    out = []
    with tempfile.TemporaryDirectory(prefix="bench-one-more-", dir=data_dir.parent) as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("site-cache"))
        if segment_postings:
            script = Path(tmp) / "rebuild.py"
            script.write_text(_REBUILD)
            subprocess.run([_python(tree), str(script), str(copy), str(segment_postings)],
                           cwd=tree, check=True, env=dict(os.environ, PYTHONPATH=str(tree)))
        for i, g in enumerate(generate(runs, seed=19, start=10_000_000)):
            src = Path(tmp) / g.name
            src.write_bytes(g.data)
            t = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%U %M", str(tree / ".venv" / "bin" / "reviews"),
                                "ingest", "--quiet", str(src)], capture_output=True, text=True,
                               env=dict(os.environ, REVIEWS_DATA=str(copy)))
            wall = time.perf_counter() - t
            assert p.returncode == 0, p.stderr
            user, rss = p.stderr.strip().splitlines()[-1].split()
            segs = subprocess.run([_python(tree), "-c", _SEGMENTS, str(copy / "index")],
                                  capture_output=True, text=True, check=True).stdout.strip()
            out.append({"run": i + 1, "wall_s": round(wall, 2), "user_s": float(user),
                        "peak_rss_mb": round(int(rss) / 1024), "segments": int(segs)})
            print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--segment-postings", type=int, help="rebuild the copy's index with this many postings a segment")
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code runs (default: this one)")
    args = ap.parse_args()
    print(f"# {args.tree.resolve()} on {args.data_dir}, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    run(args.data_dir.resolve(), args.segment_postings, args.runs, args.tree.resolve())


if __name__ == "__main__":
    main()
