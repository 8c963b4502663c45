"""Near-duplicate benchmark (index/dupes.py): the full pass, one new review, and the two
MinHash libraries side by side.

    python -m bench.dupes [--data bench/out/data-10000] [--runs 5] [--libs 500]

On a copy of the archive in ``--data`` (the archive of ``python -m bench.ingest --sizes N
--keep``; only ``archive.sqlite3`` is copied, into a temporary folder):

* the full pass: ``reviews dupes`` with no sketches yet (every review sketched in two
  worker processes, every candidate pair scored), as a whole command in a fresh process:
  wall and CPU time, peak RSS, the size of ``dupes.sqlite3``; then ``reviews dupes
  --passages`` on the sketches it left;
* one new review, ``--runs`` times: a copy of an archived review under a new UUID with a
  sentence edited is stored, then ``reviews dupes`` runs as a whole command (sketching
  the new review, pairing it, listing the groups); each run's copy must be grouped with
  its original.

``--libs N``: first, how much units of different reviews share by shingle length (3 to 8
characters); then rensa (what index/sketch.py uses) against datasketch 2 (``pip install
datasketch``; not a dependency) on the units of the first N generated records plus 200
planted copies of units with three sentences reversed: the same 5-character shingles
for both, 128 slots, LSH of 16 bands x 8 rows; time to sign, to build and query the LSH,
the error of the estimated Jaccard against the exact one on the planted pairs, how many
planted pairs are candidates, and the import time of each library in a fresh process.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(data: str, what: str) -> None:
    """Runs in a fresh process: one ``reviews dupes`` as the CLI does it; a JSON line."""
    t0 = time.perf_counter()
    from archive.store import Store
    from index import dupes

    with Store.open(data) as store:
        found = dupes.passages(store, data) if what == "passages" else dupes.groups(store, data)
        result = {"found": len(found),
                  "groups": [[m.uuid for m in g.members] for g in found] if what == "groups" else []}
    ru, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": time.perf_counter() - t0,
                      "cpu_seconds": ru.ru_utime + ru.ru_stime + kids.ru_utime + kids.ru_stime,
                      "peak_rss_mb": ru.ru_maxrss / 1024, "worker_peak_rss_mb": kids.ru_maxrss / 1024,
                      **result}))


def _run(data: Path, what: str) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "bench.dupes", "--child", str(data), what],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_seconds"] = time.perf_counter() - t0
    return out


def _copy_with_edit(text: str, uuid: str, rng: random.Random) -> str:
    import re

    text = re.sub(r"^UUID[:：].*$", f"UUID: {uuid}", text, count=1, flags=re.M)
    head, content = text.split("\n内容:", 1)
    sentences = list(re.finditer(r"(?<=。)[^。\n#|]{20,90}。", content))
    m = sentences[rng.randrange(len(sentences))]
    return head + "\n内容:" + content[:m.start()] + m.group(0)[-2::-1] + "。" + content[m.end():]


def archive_runs(data: Path, runs: int) -> None:
    from archive.decode import decode
    from archive.parser import parse
    from archive.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-dupes-") as tmp:
        work = Path(tmp)
        shutil.copy2(data / "archive.sqlite3", work / "archive.sqlite3")
        with Store.open(work) as store:
            n = store.count()
        full = _run(work, "groups")
        size = (work / "dupes.sqlite3").stat().st_size / 1e6
        print(f"{n:>6} reviews: full pass (whole command, fresh process) {full['process_seconds']:.1f} s"
              f" (in the command {full['seconds']:.1f} s, cpu {full['cpu_seconds']:.1f} s with its 2 workers),"
              f" peak RSS {full['peak_rss_mb']:.0f} MB (workers {full['worker_peak_rss_mb']:.0f} MB),"
              f" {full['found']} groups, dupes.sqlite3 {size:.0f} MB", flush=True)
        pas = _run(work, "passages")
        print(f"{n:>6} reviews: --passages on those sketches {pas['process_seconds']:.2f} s,"
              f" {pas['found']} passages", flush=True)
        rng = random.Random(1)
        times = []
        with Store.open(work) as store:
            originals = [u for (u,) in store.execute("SELECT uuid FROM reviews ORDER BY uuid")]
        for i in range(runs):
            original = originals[(i * 7919) % len(originals)]
            copy = f"{0xbe000000 + i:08x}" + "0" * 24
            with Store.open(work) as store:
                raw = store.raw(store.current_version(original).id)
                text = _copy_with_edit(decode(raw, "bench").text, copy, rng)
                for parsed in parse(text.encode("utf-8"), "bench-copy.txt"):
                    store.add(parsed, "bench-copy.txt")
            one = _run(work, "groups")
            assert any({original, copy} <= set(g) for g in one["groups"]), (original, copy)
            times.append(one["process_seconds"])
            print(f"        one new review, run {i + 1}: {one['process_seconds']:.2f} s"
                  f" (in the command {one['seconds']:.2f} s)", flush=True)
        print(f"{n:>6} reviews: one new review, whole command: median {statistics.median(times):.2f} s,"
              f" max {max(times):.2f} s ({runs} runs; each copy grouped with its original)", flush=True)


def shingle_lengths(owned: list[tuple[int, str]], samples: int = 20000) -> None:
    """How much two units of different reviews share, by shingle length: the exact
    Jaccard of ``samples`` random pairs (the generator writes every review from one
    field's phrases, so distinct units do share shingles)."""
    print(f"shingles: {len(owned)} units (abstracts and chapters) of generated reviews")
    rng = random.Random(1)
    pairs = [(a, b) for a, b in ((rng.randrange(len(owned)), rng.randrange(len(owned)))
                                 for _ in range(samples)) if owned[a][0] != owned[b][0]]
    for k in (3, 4, 5, 6, 8):
        sets = [{t[j:j + k] for j in range(len(t) - k + 1)} for _, t in owned]
        shares = sorted(len(sets[a] & sets[b]) / len(sets[a] | sets[b]) for a, b in pairs)
        print(f"  {k}-shingles, units of different reviews ({len(pairs)} random pairs): Jaccard max"
              f" {shares[-1]:.3f}, 99.9th percentile {shares[int(len(shares) * 0.999)]:.3f},"
              f" 99th {shares[int(len(shares) * 0.99)]:.3f}", flush=True)


def libraries(n: int) -> None:
    import numpy as np

    from archive.parser import parse
    from bench.corpus import generate
    from index import sketch as sk

    owned = [(i, t) for i, g in enumerate(generate(n, seed=3))
             for _, t in sk.pieces(parse(g.data, g.name)[0].record.to_dict())[0]]
    base = [t for _, t in owned]
    shingle_lengths(owned)
    rng = random.Random(5)
    planted, copies = [], []
    long = [i for i, t in enumerate(base) if t.count("。") >= 12]  # 3 of 12+ sentences edited
    for _ in range(200):
        i = long[rng.randrange(len(long))]
        parts = base[i].split("。")
        for _ in range(3):
            j = rng.randrange(len(parts))
            parts[j] = parts[j][::-1]
        planted.append((i, len(base) + len(copies)))
        copies.append("。".join(parts))
    texts = base + copies
    tokens = [sorted({t[j:j + sk.SHINGLE] for j in range(len(t) - sk.SHINGLE + 1)}) for t in texts]
    exact = [len(set(tokens[a]) & set(tokens[b])) / len(set(tokens[a]) | set(tokens[b])) for a, b in planted]
    print(f"libraries: {n} generated reviews, {len(texts)} units (200 planted copies with 3 sentences"
          f" reversed, exact Jaccard {min(exact):.2f}-{max(exact):.2f}), 128 slots, 16 bands x 8 rows")

    def line(name: str, sign: float, lsh: float, est: list[float], found: int, imp: float) -> None:
        err = [abs(e - x) for e, x in zip(est, exact)]
        print(f"  {name:<22} sign {sign:6.2f} s ({sign / len(texts) * 1000:5.2f} ms a unit)  LSH build+query {lsh:5.2f} s"
              f"  |est - exact| mean {statistics.mean(err):.3f} max {max(err):.3f}"
              f"  planted pairs found {found}/{len(planted)}  import {imp * 1000:.0f} ms", flush=True)

    def import_time(module: str) -> float:
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                    text=True).stdout)

    import rensa

    t = time.perf_counter()
    matrix = rensa.RMinHash.digest_matrix_from_token_sets(tokens, 128, sk.SEED)
    sigs = np.array(matrix.to_rows(), dtype=np.uint32)
    sign = time.perf_counter() - t
    t = time.perf_counter()
    lsh = rensa.RMinHashLSH(0.7, 128, 16)
    lsh.insert_matrix(matrix)
    cands = lsh.query_all(rensa.RMinHash.from_token_sets(tokens, 128, sk.SEED))
    lsh_s = time.perf_counter() - t
    line("rensa (str tokens)", sign, lsh_s, [float((sigs[a] == sigs[b]).mean()) for a, b in planted],
         sum(b in set(cands[a]) for a, b in planted), import_time("rensa"))
    t = time.perf_counter()
    ours = sk.signatures(texts, 128)
    sign = time.perf_counter() - t
    keys = sk.band_keys(ours, sk.UNIT_ROWS)
    line("rensa (index/sketch)", sign, 0.0, [float((ours[a] == ours[b]).mean()) for a, b in planted],
         sum(bool(set(keys[a].tolist()) & set(keys[b].tolist())) for a, b in planted), import_time("rensa"))
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        print("  datasketch: not installed (pip install datasketch==2.0.0 to compare)")
        return
    t = time.perf_counter()
    hashes = []
    for tk in tokens:
        m = MinHash(num_perm=128, seed=sk.SEED)
        m.update_batch([x.encode("utf-8") for x in tk])
        hashes.append(m)
    sign = time.perf_counter() - t
    t = time.perf_counter()
    index = MinHashLSH(num_perm=128, params=(16, 8))
    for i, m in enumerate(hashes):
        index.insert(i, m)
    found = sum(b in set(index.query(hashes[a])) for a, b in planted)
    for m in hashes:
        index.query(m)
    lsh_s = time.perf_counter() - t
    line("datasketch", sign, lsh_s, [hashes[a].jaccard(hashes[b]) for a, b in planted], found,
         import_time("datasketch"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="an archive's data folder (bench.ingest --keep)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--libs", type=int, metavar="N", help="compare rensa and datasketch on N records")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _child(*a.child)
        return
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if a.data:  # first: a child started later inherits this process's peak RSS (fork)
        archive_runs(a.data, a.runs)
    if a.libs:
        libraries(a.libs)


if __name__ == "__main__":
    main()
