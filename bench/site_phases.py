"""Where a site build's time and memory go, phase by phase, on an existing archive.

    python -m bench.site_phases DATA_DIR OUT

Builds (or updates) the site ``OUT`` from the archive in ``DATA_DIR`` in this process
(the partitions in 2 workers, as `reviews site` does) and prints one JSON line per phase
of :func:`publish.site.build_site` (the index brought up to date, the near-duplicate
sketches, the plan with the related reviews, every 10th partition, the search files, the
listing pages, done): the seconds since the start, this process's resident memory then
and its peak so far, and the largest peak of a finished child process (the related
reviews' and the partitions' workers). Run it under ``/usr/bin/time -v`` for the peak of
the whole build. The archive is written to (its index, sketches and site cache), so
give it a copy of a shared archive.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir")
    ap.add_argument("out")
    args = ap.parse_args()
    from archive.store import Store
    from publish.site import build_site

    t0 = time.perf_counter()
    shown = [-1]

    def phase(stage: str, done: int, total: int) -> None:
        if stage == "reviews":
            if done // 10_000 == shown[0] and done != total:
                return
            shown[0] = done // 10_000
        print(json.dumps({
            "stage": stage, "done": done, "total": total, "s": round(time.perf_counter() - t0, 1),
            "rss_mb": round(_rss_mb()),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "child_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "load": os.getloadavg()[0]}), flush=True)

    with Store.open(args.data_dir) as store:
        rep = build_site(store, args.out, on_progress=phase)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), **rep.as_dict()}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
