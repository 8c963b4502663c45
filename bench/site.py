"""Static site benchmark: build time, peak RSS, sizes, and first-query cost in Chromium.

    python -m bench.site --sizes 1000 10000 [--keep DIR] [--repeat N] [--site DIR]

Per size: the generated corpus (bench/ingest.py's cache) is ingested into a temporary
data dir, the site is built in a child process (its own peak RSS), built again with no
change, then served on 127.0.0.1 and each query of :data:`QUERIES` is run in a fresh
headless Chromium context (cold cache): bytes of search data transferred until the
first page of results is shown and until the search is complete, and the times (from the
moment search.js starts the query, which is after the page and search.js have loaded) of
the first result shown, the whole first page shown, the facets shown (every match counted
by topic and month: the count is exact by then) and the search complete (exact, or
stopped at the page's byte budget with the count shown as a bound); what the facets' own
files weigh (the facet table, the shown topics' names); the page and its scripts; and,
where the count was a bound, the time from the ask (the button 精确计数) until the count
and facets are shown, and the bytes of the whole query by then.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from bench.ingest import ROOT, corpus, run_phase

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUERIES = ["研究", "深度学习", "禤彧", '"Faster R-CNN"', "topic:图像识别", "ref:深度学习",
           "ResNet", "研究 -深度学习", "研究 -方法", "研究&sort=date"]  # (&…: more of the URL)


def _build(data_dir: str, out: str) -> None:
    """Runs inside the child process; prints one JSON line."""
    from archive.store import Store
    from publish.site import build_site

    t0 = time.perf_counter()
    with Store.open(data_dir) as store:
        rep = build_site(store, out)
    wall = time.perf_counter() - t0
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(json.dumps({"seconds": wall, "peak_rss_mb": peak, "written": rep.written,
                      "unchanged": rep.unchanged, "partitions_rebuilt": rep.partitions_rebuilt,
                      "partitions": rep.partitions}))


def build(data_dir: Path, out: Path) -> dict:
    p = subprocess.run([sys.executable, "-m", "bench.site", "--child", str(data_dir), str(out)],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def sizes(out: Path) -> dict:
    total = search = files = search_files = 0
    for dirpath, _, names in os.walk(out):
        for name in names:
            size = os.path.getsize(os.path.join(dirpath, name))
            total += size
            files += 1
            if Path(dirpath).relative_to(out).parts[:1] == ("search",):
                search += size
                search_files += 1
    return {"site_mb": total / 2**20, "search_mb": search / 2**20, "files": files,
            "search_files": search_files}


def search_kinds(out: Path) -> list[tuple[str, int, int, int]]:
    """The search data by kind (``t``, ``x``, ``k``, ..., ``l.js``): (kind, files, bytes,
    bytes on disk), biggest first; on disk counts whole blocks, which a folder of many
    small files (the texts by chapter) fills a good part of with nothing."""
    kinds: dict[str, list[int]] = {}
    root = out / "search"
    for dirpath, _, names in os.walk(root):
        parts = Path(dirpath).relative_to(root).parts
        for name in names:
            st = os.stat(os.path.join(dirpath, name))
            k = kinds.setdefault(parts[0] if parts else name, [0, 0, 0])
            k[0] += 1
            k[1] += st.st_size
            k[2] += st.st_blocks * 512
    return sorted(((k, *v) for k, v in kinds.items()), key=lambda r: -r[2])


def print_kinds(out: Path) -> None:
    rows = search_kinds(out)
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    print("| search data | files | MiB | MiB on disk |\n|---|---:|---:|---:|")
    for k, files, size, disk in rows + [("all", *total)]:
        print(f"| {k} | {files} | {size / 2**20:.1f} | {disk / 2**20:.1f} |")
    print()


_TIMING = """() => {
  const t = RA.timing || {}, first = t.first || t.complete, page = t.page || t.complete;
  const res = performance.getEntriesByType("resource").filter(e => e.name.includes("/search/"));
  const upto = lim => res.filter(e => e.responseEnd <= lim + 1).reduce((a, e) => a + e.encodedBodySize, 0);
  const kinds = {};
  res.filter(e => e.responseEnd <= page + 1).forEach(e => {
    const k = e.name.split("/search/")[1].split("/")[0].replace(/\\.js$/, "");
    kinds[k] = (kinds[k] || 0) + e.encodedBodySize / 1024;
  });
  const facetKinds = {};  // the facets' own files: the facet table, the topics' names
  res.forEach(e => {
    const k = e.name.split("/search/")[1].split("/")[0].replace(/\.js$/, "");
    if (["fm", "tn"].includes(k)) facetKinds[k] = (facetKinds[k] || 0) + e.encodedBodySize / 1024;
  });
  // the page and its scripts (the first page's budget counts them too)
  const nav = performance.getEntriesByType("navigation")[0];
  const shell = (nav ? nav.encodedBodySize : 0) + performance.getEntriesByType("resource")
    .filter(e => !e.name.includes("/search/")).reduce((a, e) => a + e.encodedBodySize, 0);
  return {first_ms: first, page_ms: page, complete_ms: t.complete, start_ms: t.start, shell_kib: shell / 1024,
          bounded: !!document.body.dataset.bounded,
          page_kib: upto(page) / 1024, page_kinds: kinds, facets_ms: t.facets || t.complete,
          facets_kib: upto(t.facets || t.complete) / 1024, facet_kinds: facetKinds,
          topics: document.querySelectorAll("#facet-topics > li").length,
          complete_kib: upto(t.complete) / 1024, files: res.length,
          status: document.getElementById("status").innerText};
}"""


_EXACT = """() => {
  const res = performance.getEntriesByType("resource").filter(e => e.name.includes("/search/"));
  return {ms: RA.timing.facets - RA.askedAt,
          kib: res.reduce((a, e) => a + e.encodedBodySize, 0) / 1024, files: res.length,
          status: document.getElementById("status").innerText};
}"""


def browse(out: Path, repeat: int = 1) -> list[dict]:
    """Each query ``repeat`` times, each in a fresh context; per query the run with the
    median time to the first page, with the slowest first-page time beside it."""
    from playwright.sync_api import sync_playwright

    from publish.serve import make_server

    server = make_server(out, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for q in QUERIES:
                runs = []
                for _ in range(repeat):
                    ctx = browser.new_context()
                    # (Chromium keeps 250 resource timings by default: a query that checks
                    # many texts would drop the later files from the byte counts)
                    ctx.add_init_script("performance.setResourceTimingBufferSize(100000)")
                    page = ctx.new_page()
                    q_, _, more = q.partition("&")
                    page.goto(f"http://{host}:{port}/search.html?q={quote(q_)}" + (f"&{more}" if more else ""))
                    page.wait_for_selector("body[data-complete]", timeout=600_000)
                    row = page.evaluate(_TIMING)
                    if row["bounded"]:  # the count asked for: what making it exact costs
                        page.evaluate("RA.askedAt = performance.now()")
                        page.click("#exact-count")
                        page.wait_for_selector("body[data-exact][data-facets]", timeout=600_000)
                        row["exact"] = page.evaluate(_EXACT)
                    runs.append(row)
                    ctx.close()
                runs.sort(key=lambda r: r["page_ms"] - r["start_ms"])
                worst = runs[-1]["page_ms"] - runs[-1]["start_ms"]
                rows.append({"query": q, **runs[len(runs) // 2], "worst_page_ms": worst})
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--keep", type=Path, help="build into DIR/site-N and keep it")
    ap.add_argument("--repeat", type=int, default=3, help="runs per query (default 3)")
    ap.add_argument("--site", type=Path, help="only run the queries against this built site")
    ap.add_argument("--child", nargs=2, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _build(*a.child)
        return
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if a.site:
        print_kinds(a.site)
        _table(a.site, a.repeat)
        return
    for n in a.sizes:
        src = corpus(n)
        with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
            data = Path(tmp) / "data"
            run_phase("store", src, data)
            out = (a.keep / f"site-{n}") if a.keep else Path(tmp) / "site"
            first = build(data, out)
            again = build(data, out)
            sz = sizes(out)
            print(f"\n## {n} reviews\n")
            print(f"build {first['seconds']:.1f} s (peak RSS {first['peak_rss_mb']:.0f} MB, "
                  f"{first['partitions']} partitions); no-change rebuild {again['seconds']:.1f} s "
                  f"({again['written']} written, {again['partitions_rebuilt']} partitions recomputed, "
                  f"peak RSS {again['peak_rss_mb']:.0f} MB)")
            print(f"site {sz['site_mb']:.0f} MiB in {sz['files']} files; search data "
                  f"{sz['search_mb']:.0f} MiB in {sz['search_files']} files\n")
            print_kinds(out)
            _table(out, a.repeat)


def _table(out: Path, repeat: int) -> None:
    print(f"(median of {repeat} runs per query; slowest first page in brackets)\n")
    print("| query | first result shown, ms | first page shown, ms | KiB until first page (by kind; "
          "+ page and scripts) | facets shown, ms | KiB until facets (the facets' own files) "
          "| complete, ms | KiB until complete | status | asked for the exact count: ms, KiB, status |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in browse(out, repeat):
        kinds = " ".join(f"{k} {v:.0f}" for k, v in sorted(r["page_kinds"].items()))
        fkinds = " ".join(f"{k} {v:.0f}" for k, v in sorted(r["facet_kinds"].items()))
        start = r["start_ms"]
        ex = r.get("exact")
        exact = f"{ex['ms']:.0f} ms, {ex['kib']:.0f} KiB in {ex['files']} files: {ex['status']}" if ex else "–"
        facets = "–" if r["bounded"] else f"{r['facets_ms'] - start:.0f}"
        fkib = "–" if r["bounded"] else f"{r['facets_kib']:.0f} ({fkinds})"
        print(f"| `{r['query']}` | {r['first_ms'] - start:.0f} | {r['page_ms'] - start:.0f} "
              f"({r['worst_page_ms']:.0f}) | {r['page_kib']:.0f} ({kinds}; + {r['shell_kib']:.0f}) | "
              f"{facets} | {fkib} | {r['complete_ms'] - start:.0f} | {r['complete_kib']:.0f} "
              f"| {r['status']} | {exact} |", flush=True)


if __name__ == "__main__":
    main()
