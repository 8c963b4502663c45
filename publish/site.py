"""Build (or update) the static site from the archive: pages, static files, search data.

A build is a plan, then its application. The plan (:mod:`publish.plan`) decides, before
anything is written, what each partition of reviews needs (kept, pages only, rebuilt)
and why; ``reviews site --dry-run`` prints it. Applying it runs the partitions that need
work (:mod:`publish.partitions`, in worker processes), carries the kept files over,
writes the archive-wide search files when a partition changed, and renders the listing
pages (cheap, every build). Every file is written only when its bytes changed, into a
staged copy of the site that replaces the published one with two renames
(:mod:`publish.files`); the partitions' search data and the related reviews are cached
between builds (:mod:`publish.cache`).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment
from jinja2.utils import htmlsafe_json_dumps

from archive import citing, export, listing
from archive.errors import ReadOnly
from archive.quality import quality, worst_topics

from . import urls
from .catalog import Catalog
from .figures import home_charts, quality_charts, topic_rates
from .files import Tally, Writer, aside, stage, swap
from .keyed import Keyed
from .partitions import Job, run_jobs
from .plan import KEPT, PAGES, RELATED, Plan, check_out, make_plan
from .refpages import render_refs
from .resources import TEMPLATES, csp, make_env
from .searchdata import (BLOCK, Postings, dictionary, meta, meta_file, review_tables, facet_tables,
                         reference_files, words_from_index)

__all__ = ["RELATED", "BuildReport", "build_site", "plan_site"]

PER_PAGE = 50
REFS_PER_PAGE = 200
NEWEST = 10
HOME_TOPICS = 30
HOME_REFS = 20


@dataclass
class BuildReport(Tally):
    reviews: int = 0
    references: int = 0
    partitions: int = 0
    partitions_rebuilt: int = 0  # partitions whose search data was recomputed

    def as_dict(self) -> dict[str, int]:
        """The counts, for a script (not the list of paths written)."""
        return {k: v for k, v in asdict(self).items() if k != "written_paths"}

    def summary(self) -> str:
        return (f"{self.pages} pages, {self.exports} exports, {self.search_files} search files: "
                f"{self.written} written, "
                f"{self.unchanged} unchanged, {self.removed} removed "
                f"({self.partitions_rebuilt} of {self.partitions} search partitions recomputed)")


class _Pages:
    def __init__(self, env: Environment, writer: Writer, keyed: Keyed):
        self.env = env
        self.writer = writer
        self.keyed = keyed

    def render(self, path: str, template: str, **ctx: Any) -> None:
        ctx.setdefault("hide_search_box", False)
        html = self.env.get_template(template).render(url=urls.Linker(path), **ctx)
        self.writer.write(path, html)


def plan_site(store: Any, out_dir: str | Path, *, block: int = BLOCK) -> Plan:
    """What :func:`build_site` would do now, and why; writes nothing (not the output
    folder, not the search index, not the cache). When the index lags behind the
    archive, the related reviews come from the index as it is (the build brings it up to
    date first), and the plan says so."""
    from archive.lag import unindexed
    from index.folder import check
    from index.indexer import index_dir

    out = Path(out_dir)
    check_out(out)
    data_dir = Path(store.path).parent
    ix_dir = index_dir(data_dir)
    usable = check(ix_dir, deep=False) is None
    plan = make_plan(store, out, ix_dir if usable else None, block=block, live=aside(out) or out)
    lag = unindexed(data_dir) if usable else 0
    if lag:
        plan.notes.append(f"the search index lacks {lag} review{'s' if lag != 1 else ''}: the build indexes "
                          f"{'them' if lag != 1 else 'it'} first, which may change related reviews and the "
                          "pages showing them")
    return plan


def build_site(store: Any, out_dir: str | Path,
               on_progress: Callable[[str, int, int], None] | None = None, *,
               block: int = BLOCK, workers: int | None = None) -> BuildReport:
    """Build (or update) the site in ``out_dir`` from the current versions in ``store``
    (an :class:`archive.store.Store`), bringing the archive's search index up to date
    first (the search data's word counts come from it); ``on_progress(stage, done,
    total)`` is called as partitions are done; ``block`` reviews per partition;
    ``workers`` processes for the partitions (default: up to 2).
    """
    from index.indexer import index_dir, update

    out = Path(out_dir)
    check_out(out)
    data_dir = Path(store.path).parent
    ix_dir = index_dir(data_dir)
    # (the stages before "reviews": where the time goes, for bench/site_phases.py)
    step = on_progress or (lambda stage, done, total: None)
    _index_up_to_date(store, data_dir, ix_dir, update)
    step("index", 1, 1)
    from index import dupes  # noqa: PLC0415

    dupes.update(store, data_dir)  # (the plan then reads the sketches as they are)
    step("dupes", 1, 1)
    out.mkdir(parents=True, exist_ok=True)
    staged = stage(out)  # (puts back a site a killed build left aside)
    plan = make_plan(store, out, ix_dir, block=block)
    step("plan", 1, 1)
    report = BuildReport()
    writer = Writer(staged or out, report, live=out)
    _apply(plan, store, writer, ix_dir, on_progress,
           workers if workers is not None else min(2, os.cpu_count() or 1))
    if staged is not None:
        swap(staged, out)
    if on_progress:
        on_progress("done", report.pages, report.pages)
    return report


def _apply(plan: Plan, store: Any, writer: Writer, ix_dir: Path,
           on_progress: Callable[[str, int, int], None] | None, n_workers: int) -> None:
    """Do what ``plan`` says, into ``writer``'s folder."""
    from index.folder import open_reader

    report, cache, live = writer.report, plan.cache, writer.live
    cache.make()
    if plan.related_computed:
        cache.save_related(plan.related_key, plan.related)
    related = plan.related or {}
    old_parts = plan.last.get("parts", {})
    jobs = [Job(p.pid, p.pid * plan.block, [int(v) for _, v in p.items], p.render,
                str(writer.out), str(live), related={u: related.get(u, []) for u in p.render},
                near={u: plan.near[u] for u in p.render if u in plan.near},
                pages_only=p.action == PAGES) for p in plan.parts if p.action != KEPT]
    results = run_jobs(jobs, store, n_workers)

    search_kept = plan.search[0] == KEPT
    catalog = Catalog()
    parts_state: dict[str, dict] = {}
    postings = Postings()
    for p in plan.parts:
        pid, key = p.pid, p.key
        if p.action == KEPT:
            entry = old_parts[str(pid)]
            writer.keep(entry["files"])
            catalog.merge(cache.catalog(pid, key))
            if not search_kept:
                postings.add_chunks(cache.chunks(pid, key))
            parts_state[str(pid)] = entry
        elif p.action == PAGES:  # search data cached; some review pages rendered again
            res = next(results)
            for rel, size, written in res.files:
                writer.done(rel, size, written)
            again = {rel for u in p.render for rel in urls.review_files(u)}
            reused = {rel: size for rel, size in old_parts[str(pid)]["files"].items() if rel not in again}
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
            reused = {rel: (live / rel).stat().st_size for u, _ in p.items
                      if urls.review(u) not in res.rendered
                      for rel in urls.review_files(u) if (live / rel).is_file()}
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
            on_progress("reviews", min((pid + 1) * plan.block, len(plan.items)), len(plan.items))
    report.partitions = len(plan.parts)

    if search_kept:
        search = plan.last["search"]
        writer.keep(search["files"])
    else:
        before = set(writer.produced)
        with open_reader(ix_dir) as index_reader:  # (closed; damage said as IndexProblem)
            search_meta = _search_files(writer, postings, index_reader, plan.items, store)
        search = {"key": plan.search_key, "meta": search_meta,
                  "files": {rel: size for rel, size in writer.produced.items() if rel not in before}}
    del postings
    if on_progress:  # (and after it)
        on_progress("search", 1, 1)
    pages = _Pages(make_env(), writer, Keyed(writer, plan.build, plan.last.get("lists", {})))
    _listing_pages(pages, catalog, store, search["meta"], plan.dupes, dict(plan.items), n_workers)
    if on_progress:
        on_progress("listing pages", 1, 1)
    _static_files(writer)
    cache.prune(len(plan.parts))
    writer.finish({"build": plan.build, "parts": parts_state, "pages": plan.page_keys, "search": search,
                   "lists": pages.keyed.state()})
    report.reviews = len(catalog.summaries)
    report.references = len(catalog.refs)


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


def _search_files(writer: Writer, postings: Postings, index_reader, items: list[tuple[str, str]],
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
    topic_of = listing.topics(store)
    n_topics, files = facet_tables([topic_of[u] or "" for u in uuids], [received[u] for u in uuids])
    for rel, data in files:
        writer.write(rel, data)
    search_meta = meta(len(uuids), shards, n_topics)
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


def _listing_pages(pages: _Pages, catalog: Catalog, store: Any, search_meta: dict,
                   groups: list, version_of: dict[str, str], workers: int) -> None:
    """Every page but the reviews'; a topic page, a page of the reference table and a
    reference page (with its exports) only where what it shows changed (:mod:`.keyed`)."""
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
    keyed = pages.keyed
    for t, items in topics:  # (a review's summary is a function of its version)
        if not keyed.kept([urls.topic(t)], t, [(s.uuid, version_of[s.uuid]) for s in items]):
            pages.render(urls.topic(t), "topic.html", topic=t, items=items)
    n_pages = max(1, -(-len(ranked) // REFS_PER_PAGE))
    for p in range(1, n_pages + 1):
        items = ranked[(p - 1) * REFS_PER_PAGE: p * REFS_PER_PAGE]
        if not keyed.kept([urls.refs_page(p)], p, n_pages, len(ranked),
                          [(r.ref_id, r.title, r.n_uses, r.n_listed) for r in items]):
            pages.render(urls.refs_page(p), "refs.html", items=items, offset=(p - 1) * REFS_PER_PAGE,
                         total=len(ranked), page=p, pages=n_pages, page_url=urls.refs_page)
    # a work's page and exports show the reviews that list it, nothing else
    render_refs([info.ref_id for info in ranked if not keyed.kept(
        [urls.ref(info.ref_id), *(urls.ref_export(info.ref_id, fmt) for fmt in export.FORMATS)],
        info.ref_id, info.listers, info.n_listed)], catalog, store, pages.writer, workers)
    from index.dupes import passages  # noqa: PLC0415

    recycled = passages(store, Path(store.path).parent)
    dupes = {"groups": len(groups), "reviews": sum(len(g.members) for g in groups),
             "passages": len(recycled)}
    pages.render(urls.QUALITY, "quality.html", **catalog.quality(),
                 charts=quality_charts(figures, quality(store, "month")),
                 topic_rates=topic_rates(worst_topics(store)), dupes=dupes)
    pages.render(urls.DUPES, "dupes.html", groups=groups, passages=recycled, dupes=dupes)
    linker = urls.Linker(urls.SEARCH)
    scripts = [f"RA.meta({htmlsafe_json_dumps(search_meta)});",
               f"RA.start({{base: {htmlsafe_json_dumps(linker('search/'))}, "
               f"reviewBase: {htmlsafe_json_dumps(linker('reviews/'))}}});"]
    pages.render(urls.SEARCH, "search.html", hide_search_box=True, inline_scripts=scripts,
                 csp=csp(scripts))


def _static_files(writer: Writer) -> None:
    static = TEMPLATES / "static"
    for f in sorted(static.rglob("*")):
        if f.is_file():
            writer.write(urls.STATIC + f.relative_to(static).as_posix(), f.read_bytes())
