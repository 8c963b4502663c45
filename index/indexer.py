"""Build and update the Whoosh index from the store.

``update`` indexes what ``store.pending_index()`` lists (new and changed reviews)
in batches: delete the review's documents, add the new ones, commit, then
``store.mark_indexed`` the batch. A run killed midway leaves the index holding
whole committed batches; the next run redoes whatever was not marked (delete+add
is idempotent).

Integrity: after every commit the index directory gets ``manifest.json`` with the
index format and the size and sha256 of every file. ``check(deep=True)`` (used by
update/rebuild) verifies sizes and hashes and opens the index; ``deep=False``
(used per search) verifies presence and sizes only, and a search that still fails
reading the index reports it as corrupt. A missing, corrupt or outdated index is
rebuilt from the archive and the report's ``message`` says so.

``rebuild`` builds into a sibling temporary directory and swaps it in, so an
interrupted rebuild never leaves a half index in place.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as windex

from archive.errors import ArchiveError
from archive.model import ABSTRACT, Record
from index.schema import FORMAT, make_schema

MANIFEST = "manifest.json"
INDEX_DIR = "index"  # inside the data dir
INDEX_NAME = "MAIN"
#: Whoosh files that are never rewritten once a segment is committed (the TOC is).
IMMUTABLE = (".seg", ".trm", ".pst", ".vps", ".fdt", ".fdx", ".col", ".cix", ".cmp",
             ".dci", ".dcz", ".fvz", ".lln", ".pos", ".vpi")
BATCH = 100  # reviews per commit
#: A rebuild of at least PARALLEL_MIN reviews indexes in PROCS processes.
PROCS = min(2, os.cpu_count() or 1)
PARALLEL_MIN = 200

Progress = Callable[[int, int], None] | None


class IndexProblem(ArchiveError):
    """The index is missing or unreadable; ``str()`` says which and what to do."""


@dataclass
class IndexReport:
    indexed: int = 0  # reviews (re)indexed
    removed: int = 0  # reviews dropped from the index
    rebuilt: bool = False
    message: str | None = None  # set when a missing/corrupt index was rebuilt


def index_dir(data_dir: str | Path) -> Path:
    """Where the index of the archive in ``data_dir`` lives."""
    return Path(data_dir) / INDEX_DIR


# -- documents ----------------------------------------------------------------

def _path(number: str) -> str:
    parts = number.split(".")
    return " ".join(".".join(parts[: i + 1]) for i in range(len(parts)))


def documents(record: Record) -> list[dict]:
    """The index documents of one record: abstract, each section, the reference
    list, and one small document per reference entry (for ``ref:words``)."""
    cited: dict[str, list[str]] = {}
    for c in record.citations:
        if c.ref_id and c.ref_id not in cited.setdefault(c.section, []):
            cited[c.section].append(c.ref_id)

    def doc(order: int, section: str, path: str, heading: str, title: str, body: str) -> dict:
        refs = cited.get(section, [])
        return {
            "id": f"{record.uuid}/{section}",
            "uuid": record.uuid,
            "section": section,
            "order": order,
            "path": path,
            "heading": heading,
            "received": record.received_at,
            "topic": record.topic,
            "title": title,
            "body": body,
            "refs": " ".join(refs),
            "words": f"{title}\n{body}",
        }

    abstract_body = "\n".join(p for p in (record.abstract, " ".join(record.keywords)) if p)
    docs = [doc(0, ABSTRACT, ABSTRACT, "摘要", record.title, abstract_body)]
    for i, s in enumerate(record.sections, start=1):
        docs.append(doc(i, s.number, _path(s.number), s.title, s.title, s.body))
    ref_body = "\n".join(r.title for r in record.references)
    docs.append(doc(len(docs), "references", "references", "参考文献", "", ref_body))
    for r in record.references:
        docs.append({"id": f"ref/{record.uuid}/{r.scope}/{r.n}", "refowner": record.uuid,
                     "refid": r.ref_id, "reftitle": r.title})
    return docs


# -- manifest and checks --------------------------------------------------------

def _files(index_dir: Path) -> list[str]:
    return sorted(
        f for f in os.listdir(index_dir)
        if f != MANIFEST and not f.endswith("LOCK") and not f.startswith(".")
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_manifest(index_dir: Path) -> None:
    """Sizes and checksums of the index files. Segment files never change once
    written, so a file already listed with the same size keeps its checksum."""
    try:
        old = json.loads((index_dir / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        old = {}
    files = {}
    for f in _files(index_dir):
        size = (index_dir / f).stat().st_size
        known = old.get(f)
        reuse = known and known[0] == size and f.endswith(IMMUTABLE)
        files[f] = [size, known[1] if reuse else _sha256(index_dir / f)]
    tmp = index_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "files": files}, indent=0))
    os.replace(tmp, index_dir / MANIFEST)


def check(index_dir: str | Path, deep: bool = True, probe: bool = True) -> str | None:
    """``None`` if the index looks healthy, else what is wrong (one line).

    ``deep`` also compares checksums; ``probe`` opens it (a search skips that: it
    opens the index anyway, and any error then leads to a deep check).
    """
    index_dir = Path(index_dir)
    if not index_dir.is_dir() or not windex.exists_in(str(index_dir), INDEX_NAME):
        return "missing"
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return "corrupt (no readable manifest: an indexing run was interrupted?)"
    if manifest.get("format") != FORMAT:
        return f"of an older format ({manifest.get('format')}, now {FORMAT})"
    present = set(_files(index_dir))
    for name, (size, digest) in sorted(files.items()):
        if name not in present:
            return f"corrupt (file {name} is missing)"
        if (index_dir / name).stat().st_size != size:
            return f"corrupt (file {name} changed size)"
        if deep and _sha256(index_dir / name) != digest:
            return f"corrupt (file {name} does not match its checksum)"
    extra = sorted(present - set(files))
    if deep and extra:
        return f"corrupt (unexpected file {extra[0]})"
    if not probe:
        return None
    try:
        ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
        with ix.searcher() as s:
            s.doc_count()
    except Exception as err:  # noqa: BLE001 - any failure to read means unusable
        return f"corrupt ({type(err).__name__}: {err})"
    return None


def open_index(index_dir: str | Path, deep: bool = False):
    """Open the index for reading; raise :class:`IndexProblem` if it is unusable."""
    problem = check(index_dir, deep=deep, probe=deep)
    if problem:
        raise IndexProblem(
            f"search index at {index_dir} is {problem}; run `reviews reindex` to rebuild it"
        )
    return windex.open_dir(str(index_dir), indexname=INDEX_NAME)


# -- writing ------------------------------------------------------------------

def _write(ix, index_dir: Path, records: Iterable[tuple[str, Record | None]],
           on_each: Callable[[], None] | None = None, procs: int = 1) -> None:
    """Replace the documents of each uuid (``None`` = delete only), then commit."""
    # compound=False: whoosh-reloaded 2.7.5 copies every sub-file of a compound segment
    # into a BytesIO each time a searcher opens it (150 ms at 1k reviews); plain files don't.
    if procs > 1:
        # Two worker processes, each writing its own segment (multisegment: no final
        # merge of the workers' runs, the step where pool.runs[0] IndexErrors were seen).
        writer = ix.writer(procs=procs, multisegment=True, limitmb=128, timeout=60.0, compound=False)
    else:
        writer = ix.writer(limitmb=128, timeout=60.0, compound=False)  # waits for a concurrent indexer
    try:
        for uuid, record in records:
            writer.delete_by_term("uuid", uuid)
            writer.delete_by_term("refowner", uuid)
            if record is not None:
                for d in documents(record):
                    writer.add_document(**d)
            if on_each:
                on_each()
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    _write_manifest(index_dir)


def _batches(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def update(store, index_dir: str | Path, on_progress: Progress = None,
           batch: int = BATCH) -> IndexReport:
    """Index new and changed reviews (``batch`` reviews per commit); rebuild
    instead if the index is missing or unusable."""
    index_dir = Path(index_dir)
    problem = check(index_dir, deep=True)
    if problem:
        first_build = problem == "missing" and len(store.pending_index()) == store.count()
        report = rebuild(store, index_dir, on_progress)
        if first_build:
            report.message = None
        elif problem == "missing":
            report.message = (f"search index was missing; built it from the archive "
                              f"({report.indexed} reviews)")
        else:
            report.message = (f"search index was {problem}; rebuilt it from the archive "
                              f"({report.indexed} reviews)")
        return report
    ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
    report = IndexReport()
    removed = store.removed_from_index()
    if removed:
        _write(ix, index_dir, [(u, None) for u in removed])
        report.removed = len(removed)
    pending = store.pending_index()
    done = 0
    for chunk in _batches(pending, batch):
        _write(ix, index_dir, [(u, store.record(v)) for u, v in chunk])
        store.mark_indexed(chunk)
        done += len(chunk)
        if on_progress:
            on_progress(done, len(pending))
    report.indexed = done
    return report


def rebuild(store, index_dir: str | Path, on_progress: Progress = None,
            procs: int | None = None) -> IndexReport:
    """Build the whole index from the archive's current versions (in ``procs``
    processes; default: :data:`PROCS` from :data:`PARALLEL_MIN` reviews on)."""
    index_dir = Path(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_dir.with_name(index_dir.name + f".building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    store.reset_index_state()
    ix = windex.create_in(str(tmp), make_schema(), indexname=INDEX_NAME)
    total = store.count()
    marked: list[tuple[str, int]] = []

    def records():
        for info, record in store.iter_current():
            marked.append((info.uuid, info.id))
            yield info.uuid, record

    def tick():
        if on_progress and (len(marked) % BATCH == 0 or len(marked) == total):
            on_progress(len(marked), total)

    if procs is None:
        procs = PROCS if total >= PARALLEL_MIN else 1
    _write(ix, tmp, records(), tick, procs=procs)
    old = index_dir.with_name(index_dir.name + f".old-{os.getpid()}")
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)
    store.mark_indexed(marked)
    return IndexReport(indexed=len(marked), rebuilt=True)
