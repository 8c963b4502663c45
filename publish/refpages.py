"""The reference pages and their exports, rendered in worker processes.

A work's page asks the archive where it is listed and cited (two queries), its exports
read every entry of it: at 100,000 reviews ~85,000 works, the one long serial step of a
fresh build after the partitions. The works whose pages must be rendered are split among
``workers`` processes forked once the catalog is complete (they share it: nothing is
pickled but the works' ids); each opens its own connection to the archive once and puts its
files into the staging folder itself (:func:`publish.files.put`), as the partition
workers do; the parent counts them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from archive import citing, export

from . import urls
from .catalog import Catalog
from .files import put
from .partitions import process_store
from .pages import EXPORTS
from .resources import make_env

_SHARED: list = []  # (catalog, store path, out, live), set before the pool forks
_CHUNK = 200  # works a task


def _render(ref_ids: list[str], catalog: Catalog, store: Any, out: Path, live: Path
            ) -> list[tuple[str, int, bool]]:
    template = make_env().get_template("ref.html")
    files = []
    for ref_id in ref_ids:
        info = catalog.refs[ref_id]
        page = urls.ref(ref_id)
        html = template.render(url=urls.Linker(page), hide_search_box=False, exports=EXPORTS,
                               **catalog.ref_context(info, store)).encode("utf-8")
        files.append((page, len(html), put(out, live, page, html)))
        work = export.works(citing.entries_of(store, ref_id))
        for fmt in export.FORMATS:  # the work as BibTeX, RIS and CSL-JSON, beside its page
            rel, data = urls.ref_export(ref_id, fmt), export.render(work, fmt).encode("utf-8")
            files.append((rel, len(data), put(out, live, rel, data)))
    return files


def _in_worker(ref_ids: list[str]) -> list[tuple[str, int, bool]]:
    catalog, path, out, live = _SHARED[0]
    return _render(ref_ids, catalog, process_store(path), out, live)


def render_refs(ref_ids: list[str], catalog: Catalog, store: Any, writer: Any, workers: int) -> None:
    """Render the pages (and exports) of ``ref_ids`` into ``writer``'s folder."""
    out, live = Path(writer.out), Path(writer.live)
    step = max(1, min(_CHUNK, -(-len(ref_ids) // (2 * max(1, workers)))))  # (a small site too)
    chunks = [ref_ids[i:i + step] for i in range(0, len(ref_ids), step)]
    if workers <= 1 or len(chunks) < 2:
        for c in chunks:
            _count(writer, _render(c, catalog, store, out, live))
        return
    from archive.workers import pool  # noqa: PLC0415

    _SHARED[:] = [(catalog, str(store.path), out, live)]
    try:
        with pool(workers) as running:
            for files in running.map(_in_worker, chunks):
                _count(writer, files)
    finally:
        _SHARED.clear()


def _count(writer: Any, files: list[tuple[str, int, bool]]) -> None:
    for rel, size, written in files:
        writer.done(rel, size, written)
