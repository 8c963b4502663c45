"""What a fresh site build costs in CPU, and what it does, on an existing archive.

    python -m bench.site_cpu DATA_DIR [--profile]

Wall time on this 2-core VM varies by 12x between runs of the same code: creating the
site's files (``open()`` of ~30 files per review) is system time on a shared disk, and
other work shares the two cores. Two figures do not depend on that, and are what this
prints (one JSON line) to compare two checkouts (run each checkout's own venv on its
own archive, alternating):

* the build's user and system CPU, its process and its workers (``getrusage``);
* with ``--profile``: the build in one process (``workers=1``) under cProfile: the
  number of function calls (deterministic for one archive and one checkout), and the
  profile's (wall-clock) time spent in ``open()`` and outside it: the split is only
  meaningful on a quiet machine, the call count always is.

The archive is copied first (without its ``site-cache``), so the build is a fresh one
and the archive given is left as it was.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time


def _cpu() -> tuple[float, float]:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + c.ru_utime, s.ru_stime + c.ru_stime


def _profiled(build) -> dict:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    build()
    prof.disable()
    stats = pstats.Stats(prof)
    opened = sum(tt for (_, _, name), (_, _, tt, _, _) in stats.stats.items()
                 if name == "<built-in method io.open>")
    return {"calls": stats.total_calls, "open_s": round(opened, 1),
            "outside_open_s": round(stats.total_tt - opened, 1)}


def measure(data_dir: str, profile: bool) -> dict:
    from archive.store import Store
    from publish.site import build_site

    with tempfile.TemporaryDirectory(prefix="site-cpu-", dir=os.path.dirname(os.path.abspath(data_dir))) as tmp:
        data = os.path.join(tmp, "data")
        shutil.copytree(data_dir, data, ignore=shutil.ignore_patterns("site-cache"))
        out = os.path.join(tmp, "site")
        u0, s0 = _cpu()
        t0 = time.perf_counter()
        with Store.open(data) as store:
            if profile:
                result = _profiled(lambda: build_site(store, out, workers=1))
            else:
                build_site(store, out)
                result = {}
        u1, s1 = _cpu()
        result.update(wall_s=round(time.perf_counter() - t0, 1), user_s=round(u1 - u0, 1),
                      sys_s=round(s1 - s0, 1), load=round(os.getloadavg()[0], 1))
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir")
    ap.add_argument("--profile", action="store_true", help="one process under cProfile")
    args = ap.parse_args()
    print(json.dumps(measure(args.data_dir, args.profile)), flush=True)


if __name__ == "__main__":  # (the build's workers are spawned: they import this module)
    main()
