"""Build (or update) the static site from the archive: pages, static files, search data.

Incremental: reviews are cut into partitions in the order they were first added
(:mod:`publish.partitions`); a partition whose ``(uuid, version)`` list and build
fingerprint are unchanged is not recomputed at all (its files are kept, its catalog
summary and term list come from the cache, :mod:`publish.cache`), and within a changed
partition only the review pages whose version changed are rendered again.  Listing pages
are cheap and always rendered.  Write-if-changed: a file is rewritten only when its bytes
differ from what is on disk; files this builder wrote before (listed in
``.site-manifest.json``) that are no longer produced are removed.  Nothing else in the
output folder is touched.

The published folder is never half updated: a build stages the new site beside it
(``.<out>.next-<pid>``: unchanged files hard-linked from the live site, changed ones
written, files that are not the builder's carried over), then swaps the two with two
renames. A build killed or stopped by a full disk leaves the previous site as it was;
the next build removes its staging folder (and puts back a site a kill left aside
between the two renames). Where the parent folder cannot be written, it writes in place.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment
from jinja2.utils import htmlsafe_json_dumps

from archive import citing, export, listing
from archive.config import dead_leftovers
from archive.errors import ReadOnly, Usage
from archive.workers import notice

from . import urls
from .cache import SiteCache as _Cache
from .catalog import Catalog
from .figures import home_charts, quality_charts
from .pages import EXPORTS
from .files import link, put
from .partitions import Job, fingerprint, partition_key, run_jobs
from .resources import TEMPLATES, csp, make_env
from .searchdata import (BLOCK, Postings, dictionary, meta, meta_file, review_tables,
                         reference_files, words_from_index)

MANIFEST = ".site-manifest.json"
PER_PAGE = 50
REFS_PER_PAGE = 200
NEWEST = 10
HOME_TOPICS = 30
HOME_REFS = 20


@dataclass
class BuildReport:
    written: int = 0  # files written (new or changed)
    unchanged: int = 0  # files already up to date
    removed: int = 0  # stale files deleted
    pages: int = 0  # HTML pages produced
    search_files: int = 0  # search data files produced
    exports: int = 0  # reference exports (BibTeX, RIS, CSL-JSON) beside review and reference pages
    reviews: int = 0
    references: int = 0
    bytes_total: int = 0  # size of everything produced
    search_bytes: int = 0
    partitions: int = 0
    partitions_rebuilt: int = 0  # partitions whose search data was recomputed
    written_paths: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.pages} pages, {self.exports} exports, {self.search_files} search files: "
                f"{self.written} written, "
                f"{self.unchanged} unchanged, {self.removed} removed "
                f"({self.partitions_rebuilt} of {self.partitions} search partitions recomputed)")


class _Writer:
    """Writes the site's files into ``out``: the staging folder of a build, while ``live``
    is the site as published. A file whose bytes are unchanged is hard-linked from the
    live site (no copy, no write), a changed one written; the live site is untouched
    until :func:`_swap`. With ``out`` == ``live`` (no staging possible) it writes in place."""

    def __init__(self, out: Path, report: BuildReport, live: Path | None = None):
        self.out = out
        self.live = live or out
        self.report = report
        self.produced: dict[str, int] = {}  # path -> size

    def _count(self, rel: str, size: int) -> None:
        if rel in self.produced:
            raise RuntimeError(f"two outputs for one path: {rel}")
        self.produced[rel] = size
        self.report.bytes_total += size
        if rel.endswith(".html"):
            self.report.pages += 1
        elif rel.startswith("search/"):
            self.report.search_files += 1
            self.report.search_bytes += size
        elif rel.startswith(("reviews/", "refs/")):
            self.report.exports += 1

    def _link(self, rel: str) -> None:
        link(self.out, self.live, rel)

    def write(self, rel: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.done(rel, len(data), put(self.out, self.live, rel, data))

    def done(self, rel: str, size: int, written: bool) -> None:
        """A file put in place (:func:`publish.files.put`), here or by a worker."""
        self._count(rel, size)
        if written:
            self.report.written += 1
            self.report.written_paths.append(rel)
        else:
            self.report.unchanged += 1

    def present(self, files: dict[str, int]) -> bool:
        """Are these files (path -> size) all in the live site with those sizes?"""
        for rel, size in files.items():
            try:
                if (self.live / rel).stat().st_size != size:
                    return False
            except FileNotFoundError:
                return False
        return True

    def keep(self, files: dict[str, int]) -> None:
        """Files of the previous build that are still right (see :meth:`present`)."""
        for rel, size in files.items():
            self._count(rel, size)
            self._link(rel)
            self.report.unchanged += 1

    def finish(self, state: dict) -> None:
        manifest = self.out / MANIFEST
        old = _load_manifest(self.live).get("files", [])
        if self.out != self.live:  # files that are not the builder's travel with the site
            ours = set(old) | set(self.produced) | {MANIFEST}
            for root, _, names in os.walk(self.live):
                for name in names:
                    rel = (Path(root) / name).relative_to(self.live).as_posix()
                    if rel not in ours:
                        self._link(rel)
        for rel in sorted(set(old) - set(self.produced)):
            if self.out != self.live:  # staged: the old file is simply not carried over
                self.report.removed += 1
                continue
            target = (self.out / rel).resolve()
            if self.out.resolve() not in target.parents:
                continue  # never outside the output folder
            try:
                target.unlink()
                self.report.removed += 1
            except FileNotFoundError:
                continue
            _prune_empty_dirs(target.parent, self.out.resolve())
        state = {**state, "files": sorted(self.produced)}
        tmp = manifest.with_name(manifest.name + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, separators=(",", ":")), "utf-8")
        os.replace(tmp, manifest)


def _sibling(out: Path, kind: str, pid: int | None = None) -> Path:
    return out.with_name(f".{out.name}.{kind}-{pid or os.getpid()}")


def _stage(out: Path) -> Path | None:
    """A fresh staging folder beside ``out`` (same file system: the swap is two renames);
    None where the parent folder cannot be written (then the build writes in place).
    Stages and swapped-out sites of builds that died are removed, and a site that a
    build killed between its two renames left aside is put back first (said in one line
    on stderr)."""
    out = out.resolve()
    done = []
    for kind in ("next", "prev"):
        for d in sorted(dead_leftovers(out.parent, f".{out.name}.{kind}-*")):
            if kind == "prev" and not out.exists():
                os.rename(d, out)  # killed mid-swap: the previous site is the live one
                done.append(f"put back the site it had moved to {d.name}")
            else:
                shutil.rmtree(d, ignore_errors=True)
                done.append(f"removed {d.name}")
    if done:
        notice(f"cleaned up after a killed site build: {', '.join(done)}")
    stage = _sibling(out, "next")
    try:
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir()
    except OSError:
        return None
    return stage


def _swap(stage: Path, out: Path) -> None:
    """Publish the staged site: the live one aside, the staged one in its place, then
    the old one removed. A reader sees the old site or the new one, never a mix."""
    out = out.resolve()
    prev = _sibling(out, "prev")
    if out.exists():
        os.rename(out, prev)
    os.rename(stage, out)
    shutil.rmtree(prev, ignore_errors=True)


def _load_manifest(out: Path) -> dict:
    try:
        data = json.loads((out / MANIFEST).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {"files": data}


def _prune_empty_dirs(d: Path, root: Path) -> None:
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


class _Pages:
    def __init__(self, env: Environment, writer: _Writer):
        self.env = env
        self.writer = writer

    def render(self, path: str, template: str, **ctx: Any) -> None:
        ctx.setdefault("hide_search_box", False)
        html = self.env.get_template(template).render(url=urls.Linker(path), **ctx)
        self.writer.write(path, html)


#: Related reviews listed on a review's page
RELATED = 5


def _related(store: Any, ix_dir: Path, cache: _Cache, build: str,
             items: list[tuple[str, str]]) -> dict[str, list]:
    """Every review's related reviews (:func:`index.similar.related_all`), computed again
    only when a review was added, changed or removed since the last build (cached beside
    the partitions, keyed by every review's current version)."""
    from index.similar import Related, related_all  # noqa: PLC0415

    key = hashlib.sha1((build + "".join(f"{u}:{v};" for u, v in items)).encode()).hexdigest()
    path = cache.related
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("key") == key:
            return {u: [Related(r[0], r[1], r[2], r[3], tuple(r[4])) for r in rows]
                    for u, rows in data["related"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass
    related = related_all(store, ix_dir, limit=RELATED, procs=min(2, os.cpu_count() or 1))
    rows = {u: [[r.uuid, r.topic, r.score, r.shared_refs, list(r.shared_terms)] for r in rs]
            for u, rs in related.items()}
    cache.dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "related": rows}, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)
    return related


def _related_key(related: Any) -> str:
    """What of a review's related reviews its page shows, as a short key."""
    shown = "|".join(f"{r.uuid}/{r.topic}/{r.reason()}" for r in related)
    return hashlib.sha1(shown.encode("utf-8")).hexdigest()[:12]


def build_site(store: Any, out_dir: str | Path,
               on_progress: Callable[[str, int, int], None] | None = None, *,
               block: int = BLOCK, workers: int | None = None) -> BuildReport:
    """Build (or update) the site in ``out_dir`` from the current versions in ``store``
    (an :class:`archive.store.Store`), bringing the archive's search index up to date
    first (the search data's word counts come from it); ``on_progress(stage, done,
    total)`` is called as partitions are done; ``block`` reviews per partition;
    ``workers`` processes for the partitions (default: up to 2).
    """
    from index.folder import open_reader
    from index.indexer import index_dir, update

    out = Path(out_dir)
    if out.is_dir() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise Usage(f"{out} is not empty and holds no site built by `reviews site` "
                    f"(no {MANIFEST}); choose a new or empty folder, so that none of "
                    "its files is overwritten")
    data_dir = Path(store.path).parent
    ix_dir = index_dir(data_dir)
    _index_up_to_date(store, data_dir, ix_dir, update)
    out.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    stage = _stage(out)
    writer = _Writer(stage or out, report, live=out)
    cache = _Cache(out, data_dir)
    build = f"{fingerprint()}:{block}"
    old = _load_manifest(out)
    if old.get("build") != build:
        old = {}
    old_parts, old_pages = old.get("parts", {}), old.get("pages", {})

    items = [(u, str(v)) for u, v in store.review_order()]
    chunks = [items[i:i + block] for i in range(0, len(items), block)]
    keys = [partition_key(build, c) for c in chunks]
    # the archive-wide search files (dictionary, long postings, review tables...) depend on
    # the current versions only: when none changed, the last build's are kept as they are
    search_key = hashlib.sha1("".join(keys).encode()).hexdigest()
    old_search = old.get("search") or {}
    search_kept = old_search.get("key") == search_key and writer.present(old_search.get("files", {}))

    related = _related(store, ix_dir, cache, build, items)
    # a review page shows its related reviews: it is rendered again when its version or
    # that list changed (a new review elsewhere can change it), not only its version
    page_keys = {u: f"{v}:{_related_key(related.get(u, ()))}" for u, v in items}

    kept: set[int] = set()
    jobs: dict[int, Job] = {}
    for pid, (chunk, key) in enumerate(zip(chunks, keys)):
        prev = old_parts.get(str(pid))
        cached = bool(prev and prev["key"] == key and writer.present(prev["files"])
                      and cache.has(pid, key))
        render = {u for u, _ in chunk
                  if old_pages.get(u) != page_keys[u] or not (out / urls.review(u)).is_file()}
        if cached and not render:
            kept.add(pid)
            continue
        jobs[pid] = Job(pid, pid * block, [int(v) for _, v in chunk], render,
                        str(writer.out), str(writer.live),
                        related={u: related.get(u, []) for u in render}, pages_only=cached)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    results = run_jobs(list(jobs.values()), store, n_workers)

    cache.dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog()
    parts_state: dict[str, dict] = {}
    postings = Postings()
    for pid, (chunk, key) in enumerate(zip(chunks, keys)):
        if pid in kept:
            entry = old_parts[str(pid)]
            writer.keep(entry["files"])
            catalog.merge(cache.catalog(pid, key))
            if not search_kept:
                postings.add_chunks(cache.chunks(pid, key))
            parts_state[str(pid)] = entry
        elif jobs[pid].pages_only:  # search data cached; some review pages rendered again
            res = next(results)
            for rel, size, written in res.files:
                writer.done(rel, size, written)
            entry = old_parts[str(pid)]
            again = {rel for u in jobs[pid].render for rel in urls.review_files(u)}
            reused = {rel: size for rel, size in entry["files"].items() if rel not in again}
            writer.keep(reused)
            catalog.merge(cache.catalog(pid, key))
            if not search_kept:
                postings.add_chunks(cache.chunks(pid, key))
            parts_state[str(pid)] = {"key": key, "files": {
                **reused, **{rel: size for rel, size, _ in res.files}}}
        else:
            res = next(results)
            for rel, size, written in res.files:  # texts and pages, put in place by the worker
                writer.done(rel, size, written)
            reused = {rel: (out / rel).stat().st_size for u, _ in chunk
                      if urls.review(u) not in res.rendered
                      for rel in urls.review_files(u) if (out / rel).is_file()}
            writer.keep(reused)
            files = {rel: size for rel, size, _ in res.files}
            files.update(reused)
            cache.save(pid, key, res.catalog, res.chunks)
            catalog.merge(res.catalog)
            postings.add_chunks(res.chunks)
            parts_state[str(pid)] = {"key": key, "files": files}
            report.partitions_rebuilt += 1
            del res
        if on_progress:
            on_progress("reviews", min((pid + 1) * block, len(items)), len(items))
    report.partitions = len(chunks)

    if search_kept:
        writer.keep(old_search["files"])
        search_meta = old_search["meta"]
    else:
        before = set(writer.produced)
        with open_reader(ix_dir) as index_reader:  # (closed; damage said as IndexProblem)
            search_meta = _search_files(writer, postings, index_reader, items, store)
        old_search = {"key": search_key, "meta": search_meta,
                      "files": {rel: size for rel, size in writer.produced.items() if rel not in before}}
    del postings
    pages = _Pages(make_env(), writer)
    _listing_pages(pages, catalog, store, search_meta)
    _static_files(writer)
    cache.prune(len(chunks))
    writer.finish({"build": build, "parts": parts_state, "pages": page_keys, "search": old_search})
    if stage is not None:
        _swap(stage, out)
    report.reviews = len(catalog.summaries)
    report.references = len(catalog.refs)
    if on_progress:
        on_progress("done", report.pages, report.pages)
    return report


def _index_up_to_date(store: Any, data_dir: Path, ix_dir: Path, update: Callable) -> None:
    """Bring the search index up to date (the search data's word counts come from it).
    On an archive that cannot be written here (a read-only backup), an index already up
    to date is used as it is."""
    from archive.lag import unindexed
    from index.folder import check

    try:
        update(store, ix_dir)
    except PermissionError as err:
        if unindexed(data_dir) == 0 and check(ix_dir, deep=False) is None:
            return
        raise ReadOnly(f"the search index at {ix_dir} is not up to date and cannot be "
                       f"written here ({err.strerror}); run `reviews reindex` where the "
                       "archive can be written, then build the site") from None


def _search_files(writer: _Writer, postings: Postings, index_reader, items: list[tuple[str, str]],
                  store: Any) -> dict:
    """The archive-wide search files: word postings and counts from the index, reference
    spellings, the dictionary, the review tables, the meta."""
    from index.analysis import fold

    uuids = [u for u, _ in items]
    ordinal_of = {u: o for o, u in enumerate(uuids)}
    received = listing.received_of(store)
    with index_reader as reader:
        lengths, prefixes = words_from_index(reader, ordinal_of, postings)
    # the spellings the index's reference documents hold (index.document.reference_document)
    spellings = sorted({(rid, fold(title)) for rid, title in citing.current_spellings(store)})
    for rel, data in reference_files(spellings, postings):
        writer.write(rel, data)
    shards, files = dictionary(postings, prefixes)
    for rel, data in files:
        writer.write(rel, data)
    for rel, data in review_tables(lengths, [received[u] for u in uuids], uuids):
        writer.write(rel, data)
    search_meta = meta(len(uuids), shards)
    writer.write(*meta_file(search_meta))
    return search_meta


def _stats(catalog: Catalog, store: Any) -> dict:
    stats = {
        "reviews": len(catalog.summaries),
        "versions": len(catalog.summaries),
        "references": len(catalog.refs),
        "citations": sum(s.n_citations for s in catalog.summaries.values()),
        "dangling": sum(s.n_dangling for s in catalog.summaries.values()),
        "topics": len({s.topic for s in catalog.summaries.values()}),
    }
    stats["versions"] = listing.stats(store)["versions"]
    return stats


def _listing_pages(pages: _Pages, catalog: Catalog, store: Any, search_meta: dict) -> None:
    newest = catalog.by_date()
    topics = catalog.topics()
    ranked = catalog.refs_by_citations()
    figures = listing.figures(store)
    pages.render(urls.HOME, "index.html", hide_search_box=True, stats=_stats(catalog, store),
                 newest=newest[:NEWEST], topics=topics[:HOME_TOPICS],
                 more_topics=len(topics) > HOME_TOPICS, top_refs=ranked[:HOME_REFS],
                 charts=home_charts(figures))
    n_pages = max(1, -(-len(newest) // PER_PAGE))
    for p in range(1, n_pages + 1):
        chunk = newest[(p - 1) * PER_PAGE: p * PER_PAGE]
        days: list[tuple[str, list]] = []
        for s in chunk:
            if not days or days[-1][0] != s.date:
                days.append((s.date, []))
            days[-1][1].append(s)
        pages.render(urls.by_date(p), "dates.html", days=days, total=len(newest),
                     page=p, pages=n_pages, page_url=urls.by_date)
    pages.render(urls.TOPICS, "topics.html", topics=topics)
    for t, items in topics:
        pages.render(urls.topic(t), "topic.html", topic=t, items=items)
    n_pages = max(1, -(-len(ranked) // REFS_PER_PAGE))
    for p in range(1, n_pages + 1):
        pages.render(urls.refs_page(p), "refs.html", items=ranked[(p - 1) * REFS_PER_PAGE: p * REFS_PER_PAGE],
                     offset=(p - 1) * REFS_PER_PAGE, total=len(ranked), page=p, pages=n_pages,
                     page_url=urls.refs_page)
    for info in ranked:
        pages.render(urls.ref(info.ref_id), "ref.html", exports=EXPORTS, **catalog.ref_context(info, store))
        work = export.works(citing.entries_of(store, info.ref_id))
        for fmt in export.FORMATS:  # the work as BibTeX, RIS and CSL-JSON, beside its page
            pages.writer.write(urls.ref_export(info.ref_id, fmt), export.render(work, fmt))
    pages.render(urls.QUALITY, "quality.html", charts=quality_charts(figures), **catalog.quality())
    linker = urls.Linker(urls.SEARCH)
    scripts = [f"RA.meta({htmlsafe_json_dumps(search_meta)});",
               f"RA.start({{base: {htmlsafe_json_dumps(linker('search/'))}, "
               f"reviewBase: {htmlsafe_json_dumps(linker('reviews/'))}}});"]
    pages.render(urls.SEARCH, "search.html", hide_search_box=True, inline_scripts=scripts,
                 csp=csp(scripts))


def _static_files(writer: _Writer) -> None:
    static = TEMPLATES / "static"
    for f in sorted(static.rglob("*")):
        if f.is_file():
            writer.write(urls.STATIC + f.relative_to(static).as_posix(), f.read_bytes())
