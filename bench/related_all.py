"""The related reviews of every review, as a site build computes them, alone and read-only.

    python -m bench.related_all DATA_DIR

``index.similar.related_all`` (5 a review, 2 forked processes, as the site's plan asks)
on the archive and index in ``DATA_DIR``, opened read-only: nothing is written, so it runs
on a shared archive. Prints one JSON line: the seconds, this process's peak resident
memory, its workers' largest, and how much more resident memory it holds after
than before (the lists, and what the tables left behind). A site
build computes them again whenever any review changed (their cache is keyed by every
review's version), so this is also the floor of a rebuild after one new review.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    from archive.store import Store
    from index.indexer import index_dir
    from index.similar import related_all
    from publish.plan import RELATED

    data = Path(sys.argv[1])
    with Store.open(data, read_only=True) as store:
        before = _rss_mb()
        t0 = time.perf_counter()
        lists = related_all(store, index_dir(data), limit=RELATED, procs=2)
        seconds = time.perf_counter() - t0
    print(json.dumps({
        "reviews": len(lists), "seconds": round(seconds, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "workers_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "held_after_mb": round(_rss_mb() - before), "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
