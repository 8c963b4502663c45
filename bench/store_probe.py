"""What one more bulk of records costs the archive's writer, into a copy of an archive.

    python -m bench.store_probe bench/out/data-10000 [--records 300] [--empty]

Copies ``DATA/archive.sqlite3`` into a temporary folder under ``bench/out`` (``--empty``:
starts from no archive), then ingests ``--records`` new generated records (records
1,000,000 on of the benchmark corpus, so in no archive ``bench.ingest`` made) in this one
process under cProfile, and prints the wall and CPU time, the time in SQLite (the
statements, and apart the batches' commits, which write the WAL and may checkpoint it, and
the bulk's closing checkpoint),
and the bytes this process wrote. Why: the growth of a bulk ingest with the archive
(docs/benchmarks.md, issue 19) is in the writer, and one process shows where.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from bench.ingest import OUT


def written() -> int:
    """Bytes this process has sent to the storage layer so far (/proc/self/io)."""
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["write_bytes"])


def main(argv: list[str] | None = None) -> None:
    from archive.ingest import ingest
    from archive.store import Store
    from bench.corpus import generate

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path, help="a folder holding archive.sqlite3 (copied, not written)")
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--empty", action="store_true", help="into an empty archive instead")
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="store-probe-", dir=OUT) as tmp:
        src, data = Path(tmp) / "new", Path(tmp) / "data"
        src.mkdir()
        for g in generate(a.records, seed=0, start=1_000_000):
            (src / g.name).write_bytes(g.data)
        data.mkdir()
        if not a.empty:
            shutil.copyfile(a.data / "archive.sqlite3", data / "archive.sqlite3")
        with Store.open(data) as store:
            prof, w0 = cProfile.Profile(), written()
            t0, c0 = time.perf_counter(), time.process_time()
            prof.runcall(ingest, store, [str(src)], workers=1)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            mb = (written() - w0) / 1e6
        stats = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
        sql = commits = 0.0
        for (_, _, name), (_, _, tt, _, callers) in stats.items():
            if name in ("<method 'execute' of 'sqlite3.Connection' objects>",
                        "<method 'executemany' of 'sqlite3.Connection' objects>"):
                sql += tt
                commits += sum(c[2] for (f, _, fn), c in callers.items() if fn in ("batch", "bulk"))
    print(f"{a.records} records into {'an empty archive' if a.empty else a.data}: wall {wall:.2f} s,"
          f" CPU {cpu:.2f} s, SQLite {sql:.2f} s (commits and checkpoints {commits:.2f} s, statements"
          f" {sql - commits:.2f} s), written {mb:.0f} MB")


if __name__ == "__main__":
    main()
