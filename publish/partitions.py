"""Work of one partition of the site: load its records, encode its search data, render
the review pages that changed, summarise it for the catalog.  Runs in worker processes
(each opens its own Store) or inline.

A partition is identified by its number and keyed by a hash of the build fingerprint
and its ``(uuid, version)`` list: same key, same output, nothing to recompute.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from archive.model import Record
from archive.workers import pool

from . import urls
from .catalog import Catalog
from .files import put
from .pages import review_context
from .resources import TEMPLATES, make_env
from .searchdata import FORMAT, encode_partition

_CODE = Path(__file__).resolve().parent


def fingerprint() -> str:
    """Hash of everything a partition's output depends on besides the data: the page
    templates and the code of the site, the analysis and the record model (archive/,
    index/, publish/).  Not the static files: they are copied on every build."""
    h = hashlib.sha1(f"format {FORMAT}".encode())
    for root in (TEMPLATES, *(_CODE.parent / d for d in ("archive", "index", "publish"))):
        for f in sorted(root.rglob("*")):
            rel = f.relative_to(root)
            if f.is_file() and f.suffix in (".py", ".html") and "static" not in rel.parts:
                h.update(f.relative_to(root.parent).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def partition_key(build: str, items: list[tuple[str, str]]) -> str:
    h = hashlib.sha1(build.encode())
    for uuid, version in items:
        h.update(f"{uuid}:{version};".encode())
    return h.hexdigest()


@dataclass
class Job:
    pid: int
    first: int  # the ordinal of its first review
    versions: list[int]  # store version ids
    render: set[str]  # uuids whose review page must be rendered
    out: str  # where the files go (the staging folder)
    live: str  # the site as published (unchanged files are linked from it)
    related: dict[str, list] = field(default_factory=dict)  # uuid -> its related reviews
    near: dict[str, list] = field(default_factory=dict)  # uuid -> its near duplicates
    pages_only: bool = False  # the search data and catalog are cached: only render pages


@dataclass
class Result:
    files: list[tuple[str, int, bool]]  # (path, size, written) of its texts and pages
    rendered: set[str]  # the review pages among them
    chunks: dict  # its posting chunks (Partition.chunks)
    catalog: dict  # Catalog.state()


_STORE: dict[str, Any] = {}  # per process: store path -> Store


def process_store(store_path: str) -> Any:
    """A worker process's own connection to the archive, opened once and kept for the
    worker's later tasks (a worker is forked with none: a connection is not shared
    across a fork)."""
    if store_path not in _STORE:
        from archive.store import Store  # noqa: PLC0415

        _STORE[store_path] = Store(store_path)
    return _STORE[store_path]


def _records(job: Job, store_path: str | None, store: Any = None) -> list[Record]:
    if store is None:
        store = process_store(store_path)
    return [store.record(v) for v in job.versions or []]


def run_job(job: Job, store_path: str | None = None, store: Any = None) -> Result:
    records = _records(job, store_path, store)
    out, live = Path(job.out), Path(job.live)
    if job.pages_only:
        records = [r for r in records if r.uuid in job.render]
        part, files = None, []
    else:
        part = encode_partition(job.pid, job.first, records)
        files = [(rel, len(data), put(out, live, rel, data)) for rel, data in part.files]
    env = make_env()  # (one per process)
    template = env.get_template("review.html")
    rendered = set()
    catalog = Catalog()
    for rec, version in zip(records, job.versions):  # (pages only: the catalog is not used)
        catalog.add(rec, version)
        if rec.uuid in job.render:
            path = urls.review(rec.uuid)
            ctx = review_context(rec, job.related.get(rec.uuid, ()), job.near.get(rec.uuid, ()))
            html = template.render(url=urls.Linker(path), hide_search_box=False, **ctx).encode("utf-8")
            files.append((path, len(html), put(out, live, path, html)))
            rendered.add(path)  # (its downloads are made in the browser: static/export.js)
    if part is None:
        return Result(files, rendered, {}, {})
    return Result(files, rendered, part.chunks, catalog.state())


def _run_in_worker(args: tuple[Job, str | None]) -> Result:
    return run_job(*args)


def run_jobs(jobs: list[Job], store: Any, workers: int) -> Iterator[Result]:
    """Results in job order; ``workers`` > 1 and two jobs or more: in worker processes,
    at most ``workers + 1`` results waiting (bounded memory)."""
    path = str(store.path)
    if workers <= 1 or len(jobs) < 2:
        for job in jobs:
            yield run_job(job, store=store)
        return
    with pool(workers) as running:  # workers that end with this process (a killed build)
        pending = []
        it: Iterable[Job] = iter(jobs)
        for job in it:
            pending.append(running.submit(_run_in_worker, (job, path)))
            if len(pending) > workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()
