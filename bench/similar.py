"""Related reviews benchmark (index/similar.py), and Whoosh's more_like_this beside it.

    python -m bench.similar [--data bench/out/data-10000] [--reviews 50] [--no-plant]
    python -m bench.similar --topics 1500 [--against OLD_SIMILAR.py]

At 10k (the archive and index of ``python -m bench.ingest --sizes 10000 --index --keep``,
opened read-only: nothing is written there):

* ``similar`` latency, p50/p95 over ``--reviews`` reviews (every N/50-th by uuid), in
  one warm process; and the whole cold process (``python -c``: imports, opening the
  index, segmenting the review) for 5 of them;
* ``related_all`` total time and peak RSS, in a child process of its own; that each
  sampled review's ``similar`` list equals its ``related_all`` list;
* quality against the generator's ground truth: the share of related reviews of the
  same research field (``bench.corpus``: six fields; a random pick scores ~0.17);
* Whoosh's ``Searcher.more_like`` (what ``Hit.more_like_this`` calls) on the ``w``
  field, for the same reviews: time per review (the review's words given as the
  field's value: the field has no term vectors), same-field share, overlap with ours.

Then (unless ``--no-plant``) planted pairs in a 1k archive built here in a temporary
folder with the project's own ingest and index (the cached 1k corpus plus 40 records
made from it): 20 *reference twins* (another field's text with the reference list of a
corpus review) and 20 *word twins* (a corpus review's text with another field's
reference list). For each pair, where each review finds the other, ours and
more_like_this.

``--topics N``: topic agreement (``tests/test_similar_topics.py`` at another size) on an
archive of N records of ``bench.corpus.generate_on_topics`` built here in a temporary
folder: the share of the top 5 related reviews of 50 reviews (of topics with 6 reviews or
more) that share the review's topic, against the plain TF-IDF cosine over CJK bigrams;
the two parts of the score (words, works before its power) for the listed reviews' kinds
(same topic, same field on another topic); ``related_all``'s time. ``--against FILE``
measures another ``index/similar.py`` (``git show REV:index/similar.py > FILE``) the
same way in the same run.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MLT_TERMS = 10  # key terms more_like_this asks with (Whoosh's default is 5)


class ReadOnly:
    """The one method of a Store that index/similar.py uses, over a read-only
    connection (a Store would migrate or journal the benchmark's archive)."""

    def __init__(self, data_dir: Path):
        uri = (Path(data_dir) / "archive.sqlite3").resolve().as_uri() + "?mode=ro"
        self._db = sqlite3.connect(uri, uri=True)

    def execute(self, sql: str, params=()):
        return self._db.execute(sql, tuple(params))


def fields_of(corpus: Path) -> dict[str, str]:
    """uuid -> research field of every record of a cached corpus (the generator draws the
    field first from the record's own random stream: ``bench.corpus.generate``)."""
    from archive.decode import decode
    from bench import corpus_words as W
    from bench.corpus import _rng

    names = sorted(W.FIELDS)
    out = {}
    for p in sorted(corpus.glob("*.txt")):
        text = decode(p.read_bytes(), p.name).text
        uuid = re.search(r"UUID[:：]\s*([0-9a-fA-F-]+)", text).group(1).replace("-", "").lower()
        out[uuid] = names[int(_rng(0, int(p.name.split("_")[0])).random() * len(names))]
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# -- more_like_this --------------------------------------------------------------------

class Mlt:
    """Whoosh's more_like on the ``w`` field of our index."""

    def __init__(self, index_dir: Path):
        from index.folder import open_reader
        from index.indexer import open_index
        from index.postings import Column, doc_set

        self.searcher = open_index(index_dir).searcher()  # (Whoosh's, for more_like)
        self.reader = reader = open_reader(index_dir)  # (ours: document numbers are the same)
        docs = doc_set(reader, "kind", "review")
        self.uuid_of = {d: v.decode("ascii").split("|")[1]
                        for d, v in Column(reader, "key").many(docs).items()}
        self.doc_of = {u: d for d, u in self.uuid_of.items()}

    def words(self, uuid: str) -> dict:
        from index.similar import _review_words

        tf = _review_words(self.reader, self.doc_of[uuid])
        return {w: (n, float(n), b"") for w, n in tf.items()}

    def like(self, uuid: str, limit: int, words: dict) -> list[str]:
        hits = self.searcher.more_like(self.doc_of[uuid], "w", text=words, top=limit,
                                       numterms=MLT_TERMS)
        return [self.uuid_of[h.docnum] for h in hits]


# -- 10k ------------------------------------------------------------------------------

def _child_related_all(data: str) -> None:
    """In a child process: related_all's time and peak RSS; the lists as JSON."""
    from index.similar import related_all

    t = time.perf_counter()
    out = related_all(ReadOnly(Path(data)), Path(data) / "index", limit=5)
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss,
                      "lists": {u: [r.to_dict() for r in rs] for u, rs in out.items()}},
                     ensure_ascii=False))


def bench_10k(data: Path, reviews: int) -> None:
    from index.similar import similar

    store = ReadOnly(data)
    index_dir = data / "index"
    uuids = sorted(u for (u,) in store.execute("SELECT uuid FROM reviews"))
    step = max(1, len(uuids) // reviews)
    sample = uuids[::step][:reviews]
    corpus = OUT / f"corpus-{len(uuids)}"
    field = fields_of(corpus) if corpus.is_dir() else {}
    print(f"archive {data}: {len(uuids)} reviews; sample {len(sample)} (every {step}th by uuid)")

    similar(store, index_dir, sample[0])  # warm: rjieba, Whoosh, the page cache
    times, ours = [], {}
    for u in sample:
        t = time.perf_counter()
        ours[u] = similar(store, index_dir, u, limit=5)
        times.append(time.perf_counter() - t)
    print(f"similar, warm process: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {pct(times, 0.95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")

    cold = []
    for u in sample[:5]:
        code = ("import sys; from pathlib import Path; from bench.similar import ReadOnly; "
                "from index.similar import similar; d = Path(sys.argv[1]); "
                "print(len(similar(ReadOnly(d), d / 'index', sys.argv[2])))")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(data), u], cwd=ROOT, check=True,
                       capture_output=True)
        cold.append(time.perf_counter() - t)
    print(f"similar, whole cold process (python -c ...): median {statistics.median(cold):.2f} s, "
          f"max {max(cold):.2f} s (5 runs)")

    p = subprocess.run([sys.executable, "-m", "bench.similar", "--child", str(data)], cwd=ROOT,
                       check=True, capture_output=True, text=True)
    child = json.loads(p.stdout.strip().splitlines()[-1])
    lists = child["lists"]
    print(f"related_all: {child['seconds']:.1f} s for {len(lists)} reviews, "
          f"peak RSS {child['rss_mb']:.0f} MB (child process)")
    same = all([r.to_dict() for r in ours[u]] == lists[u] for u in sample)
    print(f"similar(u, limit=5) == related_all()[u] for the {len(sample)} sampled: {same}")
    empty = sum(1 for rs in lists.values() if not rs)
    both = sum(1 for rs in lists.values() for r in rs if r["shared_refs"] and r["shared_terms"])
    total = sum(len(rs) for rs in lists.values())
    print(f"  {total} related in all, {empty} reviews with none; {both / max(1, total):.0%} "
          f"share both works and words")
    if field:
        hits = [field[r["uuid"]] == field[u] for u, rs in lists.items() for r in rs]
        print(f"  same research field: {sum(hits) / len(hits):.4f} of related reviews "
              "(random pick ~0.17)")

    mlt = Mlt(index_dir)
    mtimes, mlists = [], {}
    for u in sample:
        words = mlt.words(u)
        t = time.perf_counter()
        mlists[u] = mlt.like(u, 5, words)
        mtimes.append(time.perf_counter() - t)
    n = len(uuids)
    print(f"more_like_this ({MLT_TERMS} key terms, words only): p50 "
          f"{statistics.median(mtimes) * 1000:.0f} ms, p95 {pct(mtimes, 0.95) * 1000:.0f} ms per "
          f"review (segmenting the review not counted); for all {n}: "
          f"~{statistics.mean(mtimes) * n:.0f} s")
    overlap = statistics.mean(len(set(mlists[u]) & {r["uuid"] for r in lists[u]}) / 5
                              for u in sample)
    print(f"  overlap with ours (top 5): {overlap:.2f}")
    if field:
        hits = [field[v] == field[u] for u in sample for v in mlists[u]]
        print(f"  same research field: {sum(hits) / len(hits):.4f}")


# -- planted pairs at 1k ---------------------------------------------------------------

_REFS = re.compile(r"\n# 参考文献:.*?(?=\n对话结束)", re.S)


def _set_uuid(text: str, uuid: str) -> str:
    return re.sub(r"^UUID[:：].*$", f"UUID: {uuid}", text, count=1, flags=re.M)


def planted(n: int = 20) -> tuple[list[tuple[str, bytes]], list[tuple[str, str, str]]]:
    """Records made from clean generated ones: ``(file name, bytes)``, and the pairs
    ``(kind, corpus uuid, planted uuid)``."""
    from bench.corpus import Quirks, generate

    pool = list(generate(10 * n, seed=424242, quirks=Quirks.none()))
    files, pairs = [], []
    by_field: dict[str, list] = {}
    for g in pool:
        by_field.setdefault(g.truth.domain, []).append(g)
    fields = sorted(by_field)
    for k in range(2 * n):
        kind = "reference twin" if k < n else "word twin"
        a_field, b_field = fields[k % len(fields)], fields[(k + 3) % len(fields)]
        a, b = by_field[a_field].pop(), by_field[b_field].pop()
        ta, tb = a.data.decode("utf-8"), b.data.decode("utf-8")
        twin = f"{0xabc000 + k:032x}"
        if kind == "reference twin":  # b's text, a's reference list
            text = _REFS.sub(lambda _: _REFS.search(ta).group(0), tb, count=1)
        else:  # a's text, b's reference list
            text = _REFS.sub(lambda _: _REFS.search(tb).group(0), ta, count=1)
        files.append((a.name, a.data))
        files.append((f"twin_{k:03d}.txt", _set_uuid(text, twin).encode("utf-8")))
        pairs.append((kind, a.truth.uuid, twin))
    return files, pairs


def bench_planted() -> None:
    from archive.ingest import ingest
    from archive.store import Store
    from bench.ingest import corpus
    from index.indexer import index_dir, update
    from index.similar import related_all

    src = corpus(1000)
    files, pairs = planted()
    with tempfile.TemporaryDirectory(prefix="bench-similar-") as tmp:
        extra = Path(tmp) / "planted"
        extra.mkdir()
        for name, data in files:
            (extra / name).write_bytes(data)
        data = Path(tmp) / "data"
        t = time.perf_counter()
        with Store.open(data) as store:
            ingest(store, [str(src), str(extra)])
            update(store, index_dir(data))
        print(f"\nplanted pairs: 1k corpus + {len(files)} records, ingested and indexed in "
              f"{time.perf_counter() - t:.0f} s")
        with Store.open(data) as store:
            t = time.perf_counter()
            lists = related_all(store, index_dir(data), limit=10)
            print(f"related_all at {len(lists)} reviews: {time.perf_counter() - t:.1f} s")
        mlt = Mlt(index_dir(data))
        print("| pairs | finds its pair first (ours) | in top 5 (ours) | first (more_like_this) "
              "| in top 5 (more_like_this) |")
        print("|---|---:|---:|---:|---:|")
        for kind in ("reference twin", "word twin"):
            ours1 = ours5 = m1 = m5 = total = 0
            for _, a, b in (p for p in pairs if p[0] == kind):
                for x, y in ((a, b), (b, a)):
                    got = [r.uuid for r in lists[x]]
                    theirs = mlt.like(x, 10, mlt.words(x))
                    total += 1
                    ours1 += got[:1] == [y]
                    ours5 += y in got[:5]
                    m1 += theirs[:1] == [y]
                    m5 += y in theirs[:5]
            print(f"| {kind}s ({total // 2}, both ways) | {ours1}/{total} | {ours5}/{total} | "
                  f"{m1}/{total} | {m5}/{total} |")
        sample = [(kind, a, b) for kind, a, b in pairs[:: len(pairs) // 4]]
        for kind, a, b in sample:
            r = next((r for r in lists[a] if r.uuid == b), None)
            print(f"  {kind}: {r.reason() if r else '(not listed)'}")


# -- topic agreement ---------------------------------------------------------------

def _parts(mod, store, index_dir, asked, topic, field) -> str:
    """The two parts of the score (before any power) of the asking review's field: the
    words' mean for its own topic and for the field's other topics; the works' mean
    over the reviews sharing a work with it, and how many do."""
    saved = mod.WORDS_WEIGHT, mod.REFS_WEIGHT, getattr(mod, "REFS_POWER", 1)
    scores = {}
    for kind, weights in (("words", (1.0, 0.0, 1)), ("works", (0.0, 1.0, 1))):
        mod.WORDS_WEIGHT, mod.REFS_WEIGHT, mod.REFS_POWER = weights
        scores[kind] = {u: {r.uuid: r.score for r in mod.similar(store, index_dir, u, 10**6)}
                        for u in asked}
    mod.WORDS_WEIGHT, mod.REFS_WEIGHT, mod.REFS_POWER = saved
    same, other, works, fields = [], [], [], 0
    for u in asked:
        for v in topic:
            if v != u and field[v] == field[u]:
                fields += 1
                w = scores["words"][u].get(v, 0.0)
                (same if topic[v] == topic[u] else other).append(w)
                if v in scores["works"][u]:
                    works.append(scores["works"][u][v])
    return (f"words {statistics.mean(same):.3f} own topic, {statistics.mean(other):.3f} "
            f"field's other topics; works {statistics.mean(works):.3f} "
            f"(max {max(works):.2f}) for the {len(works) / fields:.0%} of the field sharing one")


def bench_topics(n: int, against: Path | None) -> None:
    import importlib.util

    import index.similar
    from archive.ingest import ingest
    from archive.store import Store
    from bench.corpus import generate_on_topics
    from index.indexer import index_dir, update
    from tests.test_similar_topics import TOP, agreement, asked_of, bigram_tfidf_related

    records = list(generate_on_topics(n, seed=8080))
    topic = {g.truth.uuid: g.truth.topic for g in records}
    field = {g.truth.uuid: g.truth.domain for g in records}
    asked = asked_of(topic, 50)
    modules = [("this", index.similar)]
    if against:
        spec = importlib.util.spec_from_file_location("similar_against", against)
        old = sys.modules["similar_against"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        modules.insert(0, (str(against), old))
    with tempfile.TemporaryDirectory(prefix="bench-similar-") as tmp:
        src = Path(tmp) / "records"
        src.mkdir()
        for g in records:
            (src / g.name).write_bytes(g.data)
        data = Path(tmp) / "data"
        with Store.open(data) as store:
            ingest(store, [str(src)])
            update(store, index_dir(data))
        t = time.perf_counter()
        oracle = bigram_tfidf_related({g.truth.uuid: g.data.decode("utf-8") for g in records},
                                      asked, TOP)
        print(f"\ntopic agreement, {n} on-topic reviews (seed 8080), {len(asked)} asked, top {TOP}:")
        print(f"  plain TF-IDF cosine over CJK bigrams: {agreement(oracle, topic, asked):.2f} "
              f"({time.perf_counter() - t:.0f} s)")
        with Store.open(data) as store:
            for name, mod in modules:
                t = time.perf_counter()
                lists = mod.related_all(store, index_dir(data), limit=TOP)
                seconds = time.perf_counter() - t
                found = {u: [r.uuid for r in rs] for u, rs in lists.items()}
                print(f"  {name}: {agreement(found, topic, asked):.2f}; related_all "
                      f"{seconds:.1f} s (one process)")
                print(f"    {_parts(mod, store, index_dir(data), asked, topic, field)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=OUT / "data-10000")
    ap.add_argument("--reviews", type=int, default=50)
    ap.add_argument("--no-plant", action="store_true", help="skip the planted pairs at 1k")
    ap.add_argument("--topics", type=int, metavar="N",
                    help="only topic agreement, on N on-topic reviews")
    ap.add_argument("--against", type=Path, help="with --topics: another index/similar.py")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child_related_all(args.child)
        return
    if args.topics:
        bench_topics(args.topics, args.against)
        return
    bench_10k(args.data, args.reviews)
    if not args.no_plant:
        bench_planted()


if __name__ == "__main__":
    main()
