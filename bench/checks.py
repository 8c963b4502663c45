"""What the index's block checksums cost a search: the same index read unchecked and checked.

    python -m bench.ingest --sizes 1000 --index --keep   # makes bench/out/data-1000
    python -m bench.checks --sizes 1000

For each archive in ``bench/out/data-N``: a copy of its index without the checksum files
(``<segment>.crc``) and with the manifest as written before them (no CRCs), which the
reader reads unchecked, as it reads an index written before; beside the index itself,
checked (``index.folder.write_manifest`` adds the checksums first if it has none). Then
the queries of :mod:`bench.search`, each on both, alternating which goes first, for
``--rounds`` rounds in one process; CPU time (``time.process_time``), which other load on
the machine disturbs less than wall time, each search opening its own reader as a command
does. Prints each query's median on both and the difference.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.search import OUT, QUERIES


def unchecked_copy(index: Path, into: Path) -> Path:
    """``index`` as an index written before block checksums: no ``.crc`` files, manifest
    entries of ``[size, sha256]``."""
    from index.reader import CHECKSUMS

    copy = into / "index"
    shutil.copytree(index, copy, ignore=shutil.ignore_patterns(f"*{CHECKSUMS}"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"] = {name: entry[:2] for name, entry in manifest["files"].items()
                         if not name.endswith(CHECKSUMS)}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def compare(unchecked: Path, checked: Path, queries: dict[str, str], rounds: int):
    from index.search import search

    cpu: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in queries}
    for ix in (unchecked, checked):  # warm-up: the page cache, the modules
        for q in queries.values():
            search(ix, q, limit=10)
    for r in range(rounds):
        for name, q in queries.items():
            sides = ((0, unchecked), (1, checked)) if r % 2 == 0 else ((1, checked), (0, unchecked))
            for side, ix in sides:
                t = time.process_time()
                search(ix, q, limit=10)
                cpu[name][side].append(time.process_time() - t)
    return {k: (statistics.median(a), statistics.median(b)) for k, (a, b) in cpu.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args(argv)
    from archive import citing
    from archive.store import Store
    from index.folder import check, write_manifest

    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    for n in a.sizes:
        data = OUT / f"data-{n}"
        index = data / "index"
        if not index.exists():
            print(f"{n}: no {index}; run python -m bench.ingest --sizes {n} --index --keep")
            continue
        if not list(index.glob("*.crc")):
            write_manifest(index)
        assert check(index, deep=False) is None
        with Store.open(data) as store:
            top = citing.top_references(store, 1)[0][0]
        queries = {k: q.replace("{top}", top) for k, q in QUERIES.items()}
        sums = sum(f.stat().st_size for f in index.glob("*.crc"))
        total = sum(f.stat().st_size for f in index.iterdir())
        print(f"\n{n} reviews: checksum files {sums / 1e3:.0f} KB of {total / 1e6:.0f} MB; "
              f"CPU ms per search, median of {a.rounds} rounds")
        with tempfile.TemporaryDirectory() as tmp:
            got = compare(unchecked_copy(index, Path(tmp)), index, queries, a.rounds)
        print(f"  {'query':<16} {'unchecked':>9} {'checked':>8} {'diff':>7}")
        for name, (x, y) in got.items():
            print(f"  {name:<16} {x * 1000:9.2f} {y * 1000:8.2f} {(y - x) * 1000:+7.2f}")
        x, y = (sum(v[i] for v in got.values()) for i in (0, 1))
        print(f"  {'sum of medians':<16} {x * 1000:9.1f} {y * 1000:8.1f} {(y - x) * 1000:+7.1f}"
              f" ({(y / x - 1) * 100:+.1f} %)")


if __name__ == "__main__":
    main()
