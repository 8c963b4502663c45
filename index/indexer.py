"""Build and update the Whoosh index from the store.

One document per review (:mod:`index.document`). ``update`` indexes what
``index.state.pending`` lists (new and changed reviews) in batches: delete the
review's documents, add the new ones, commit, then ``index.state.mark_indexed`` the batch. A run killed midway leaves the index holding
whole committed batches; the next run redoes whatever was not marked (delete+add
is idempotent).

Integrity: after every commit the index directory gets ``manifest.json``
(:mod:`index.folder`: the Whoosh release and index format that wrote it, the size and
sha256 of every file), which ``check`` verifies. A missing, corrupt or outdated index
(of another Whoosh release or format) is rebuilt from the archive and the report's
``message`` says so. Writing needs the Whoosh release :mod:`index.reader` reads.
Reads never import this module (nor Whoosh): they go through
:func:`index.folder.open_reader`.

A commit merges only the smallest segments, within a budget (:mod:`index.merging`),
so one more review costs the same whatever the archive's size.

``rebuild`` builds into a sibling temporary directory and swaps it in, so an
interrupted rebuild never leaves a half index in place; the next writer removes the
building folders of rebuilds whose process is gone, and says so.

Writers are serialised: ``update`` and ``rebuild`` hold ``index.lock`` beside the index
(:func:`archive.workers.exclusive`: an OS lock, released if its holder dies), so two
ingests never write the index at once; the second waits, and ``on_wait`` is told.
Searches take no lock. A bulk build's worker processes (:func:`archive.workers.pool`)
hold neither lock and end with their parent: a killed build leaves nothing running.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as windex

from archive.config import dead_leftovers
from archive.errors import ArchiveError
from archive.model import Record
from archive.workers import exclusive, notice, pool, private
from index.codec import CompactPool, FastCodec
from index.document import reference_document, review_document
from index import state
from index.folder import (
    INDEX_DIR, INDEX_NAME, UNCHANGED, IndexProblem, check, diagnose, index_dir,  # noqa: F401 (part of this API)
    lock_path, take_lock, write_manifest as _write_manifest,
)
from index.merging import merge_small
from index.reader import WHOOSH, release_name
from index.schema import make_schema

BATCH = 100  # reviews per commit
#: A rebuild of at least PARALLEL_MIN reviews indexes in PROCS processes.
PROCS = min(2, os.cpu_count() or 1)
PARALLEL_MIN = 200

Progress = Callable[[int, int], None] | None


@dataclass
class IndexReport:
    indexed: int = 0  # reviews (re)indexed
    removed: int = 0  # reviews dropped from the index
    rebuilt: bool = False
    message: str | None = None  # set when a missing/corrupt index was rebuilt


def open_index(index_dir: str | Path, deep: bool = False):
    """Open the index with Whoosh (for writing; reads go through
    :func:`index.folder.open_reader`); raise :class:`IndexProblem` if it is unusable
    (:class:`~index.problems.IndexOutdated` if another Whoosh release or format wrote it)."""
    _same_whoosh()
    found = diagnose(index_dir, deep=deep, probe=deep)
    if found:
        raise found
    return windex.open_dir(str(index_dir), indexname=INDEX_NAME)


def _same_whoosh() -> None:
    """Refuse to write with another Whoosh release than the one :mod:`index.reader`
    reads: its index would be refused at every open (and rebuilt again by every
    command that may), or, were it not, read wrongly."""
    import whoosh

    if tuple(whoosh.__version__[:3]) != WHOOSH:
        installed, wanted = release_name(whoosh.__version__[:3]), release_name(WHOOSH)
        raise ArchiveError(
            f"{installed} is installed, but index/reader.py reads the files of {wanted}: "
            f"install whoosh-reloaded=={'.'.join(map(str, WHOOSH))} (the version "
            "pyproject.toml pins), or move the pin as docs/DESIGN.md's notes for a maintainer say")


# -- writing ------------------------------------------------------------------

_HELD: dict[str, int] = {}  # lock path -> depth, in this process (re-entrant)


@contextmanager
def _exclusive(index_dir: Path, on_wait: Callable[[], None] | None = None):
    """Hold the index's writer lock, ``index.lock`` beside the index
    (:func:`archive.workers.exclusive`: released if this process dies, never held by its
    workers, taken over from a holder that is gone; a live one is waited for as
    :func:`index.folder.take_lock` says, and ``on_wait`` told). Re-entrant in this
    process. Once it is held, what killed runs left is cleaned up, and said in one line
    on stderr (the next command after a kill, whichever it is, says it)."""
    path = str(lock_path(index_dir))
    if _HELD.get(path):
        _HELD[path] += 1
        try:
            yield
        finally:
            _HELD[path] -= 1
        return
    with exclusive(path, wait=lambda fd: take_lock(fd, index_dir, on_wait)) as gone:
        _HELD[path] = 1
        try:
            said = [f"took over the index lock from indexing run {gone}, which is gone"] if gone else []
            left = _remove_stale_builds(index_dir)
            if left:
                said.append(f"cleaned up after a killed indexing run: {', '.join(left)}")
            if said:
                notice("; ".join(said))
            yield
        finally:
            _HELD.pop(path, None)


def _remove_stale_builds(index_dir: Path) -> list[str]:
    """Building and swapped-out folders of rebuilds whose process is gone (killed), and
    what was done with each: removed, or, when a rebuild was killed between its two
    renames (no index in place), the swapped-out index put back."""
    done = []
    for d in sorted(dead_leftovers(index_dir.parent, index_dir.name + ".old-*")):
        if not index_dir.exists():
            os.replace(d, index_dir)
            done.append(f"put back the index it had moved to {d.name}")
        else:
            shutil.rmtree(d, ignore_errors=True)
            done.append(f"removed {d.name}")
    for kind in (".building-*", ".merging-*"):  # (a merger's: index.merger)
        for d in sorted(dead_leftovers(index_dir.parent, index_dir.name + kind)):
            shutil.rmtree(d, ignore_errors=True)
            done.append(f"removed {d.name}")
    return done


def _writer(ix, lock: bool = True):
    """A segment writer with this index's codec and pool (:mod:`index.codec`); ``lock``
    False for a worker whose parent holds the index's lock."""
    # compound=False: whoosh-reloaded 2.7.5 copies every sub-file of a compound segment
    # into a BytesIO each time a searcher opens it; plain files are read in place.
    from whoosh.writing import SegmentWriter  # (not on the query path: a search only reads)

    writer = SegmentWriter(ix, _lk=lock, timeout=60.0, codec=FastCodec(), compound=False)
    writer.pool = CompactPool()
    return writer


def _add(writer, uuid: str, version_id: int | None, record: Record | None,
         compact: bool = False) -> None:
    """Replace what the index holds of ``uuid`` (``record`` None: delete only;
    ``compact``: :func:`rebuild`'s)."""
    writer.delete_by_term("uuid", uuid)
    if record is not None:
        writer.add_document(**review_document(record, version_id, compact=compact))


def _sync_spellings(writer, store, touched: set[tuple[str, str]], fresh: bool = False) -> None:
    """Make the reference documents of the ``touched`` spellings match the archive:
    one for each still listed by a current version, none for the others (``fresh``:
    a new index, and ``touched`` is every current spelling)."""
    from archive import citing  # noqa: PLC0415 (writing only: not on the query path)
    keep = touched if fresh else citing.current_spellings(store, touched)
    for rid, title in () if fresh else touched:
        writer.delete_by_term("rkey", f"{rid}|{title}")
    for rid, title in sorted(keep):
        writer.add_document(**reference_document(rid, title))


#: A worker starts a new segment when its pool holds this many postings (~100 MB), so
#: a bulk build's memory does not grow with the archive.
SEGMENT_POSTINGS = 5_000_000


def _segment_worker(ix_dir: str, store_path: str, pairs: list[tuple[str, int]],
                    compact: bool = False):
    """Runs in a worker process: new segments holding ``pairs``; returns them. (A
    failing worker does not cancel its writer: cancelling removes the temporary folder
    the other worker is writing in; the parent's cancel cleans up.)"""
    from archive.store import Store

    ix = windex.open_dir(ix_dir, indexname=INDEX_NAME)
    segments, writer = [], None
    with Store(store_path) as store:
        for uuid, vid in pairs:
            if writer is None:
                writer = _writer(ix, lock=False)
            _add(writer, uuid, vid, store.record(vid), compact)
            if writer.pool.postings >= SEGMENT_POSTINGS:
                segments.append(writer._finalize_segment())
                writer = None
    if writer is not None:
        segments.append(writer._finalize_segment())
    return segments


def _write_parallel(ix, index_dir: Path, store, pairs: list[tuple[str, int]],
                    spellings: set[tuple[str, str]], procs: int,
                    on_each: Callable[[int], None] | None, fresh: bool = False,
                    compact: bool = False) -> None:
    """Add new reviews in ``procs`` processes, each writing a segment of its own (as
    Whoosh's MpWriter does with ``multisegment=True``, but each worker also loads and
    analyses its reviews, so nothing is pickled but the finished segment)."""
    parent = _writer(ix)  # holds Whoosh's write lock (its workers write without)
    try:
        for uuid, _ in pairs:  # the workers only add: what the index holds goes here
            parent.delete_by_term("uuid", uuid)
        shares = [pairs[i::procs] for i in range(procs)]
        # A worker that dies (killed, out of memory) breaks the pool at once instead of
        # leaving this process waiting for a result that never comes; workers end with
        # this process, and none of them holds Whoosh's write lock (archive.workers).
        from concurrent.futures.process import BrokenProcessPool  # (only a bulk build)

        with private(parent.writelock.fd), pool(procs) as workers:
            jobs = [workers.submit(_segment_worker, str(index_dir), str(store.path), share, compact)
                    for share in shares if share]
            _sync_spellings(parent, store, spellings, fresh)  # meanwhile, in this process
            try:
                segments = [seg for job in jobs for seg in job.result()]
            except BrokenProcessPool:
                raise IndexProblem("an indexing worker process died (out of memory or disk? "
                                   "killed?); the index is unchanged: run `reviews reindex` "
                                   "again") from None
        if on_each:
            on_each(len(pairs))
        final = parent._merge_segments(merge_small, False, False) + segments
        if parent._added:
            final.append(parent._finalize_segment())
        else:
            parent._close_segment()
        parent._commit_toc(final)
        parent._finish()
    except BaseException:
        parent.cancel()
        raise
    _write_manifest(index_dir)


def _rewrite_deleted(writer, segments):
    """A merge policy: rewrite every segment that holds deleted documents without them.

    Whoosh only marks a deleted document; its stored text and terms stay in the segment
    files until a merge. A review taken out of the archive (retracted, purged: content
    that must not be kept) must leave the index files too, not only its answers."""
    from whoosh.reading import SegmentReader

    kept = []
    for seg in segments:
        if seg.has_deletions():
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
        else:
            kept.append(seg)
    return kept


def _drop(ix, index_dir: Path, store, removed: list[str]) -> None:
    """Take reviews that left the archive (retracted or purged) out of the index, with
    the reference spellings no current version lists any more, rewriting every segment
    that held them (:func:`_rewrite_deleted`), then forget them in ``index_state``.

    A retracted review's versions are still in the archive, and so is the list of the
    spellings they gave. A purged review's are gone with its bytes: its spellings are
    then found the other way round, as every spelling the index holds that no current
    version lists (else a title only that review gave stays on disk, and ``ref:`` finds
    it). Its ``index_state`` row, the last place in the archive file naming it, is
    deleted with ``secure_delete`` (its bytes zeroed) and the journal checkpointed into
    the file, so no copy stays in either."""
    from archive import citing  # noqa: PLC0415 (writing only: not on the query path)
    spellings = citing.spellings_of(store, state.indexed_versions(store, removed))
    purged = [u for u in removed
              if not store.execute("SELECT 1 FROM versions WHERE uuid = ? LIMIT 1", (u,)).fetchone()]
    if purged:
        from index.folder import open_reader  # noqa: PLC0415

        with open_reader(index_dir) as reader:
            held = {tuple(t.decode("utf-8").split("|", 1)) for t in reader.lexicon("rkey")}
        spellings |= held - citing.current_spellings(store)
    _write(ix, index_dir, store, [(u, None, None) for u in removed], spellings, drop_deleted=True)
    if purged:
        store.execute("PRAGMA secure_delete = ON")
    state.forget(store, removed)
    if purged:
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _write(ix, index_dir: Path, store, items: Iterable[tuple[str, int | None, Record | None]],
           spellings: set[tuple[str, str]], on_each: Callable[[], None] | None = None,
           fresh: bool = False, drop_deleted: bool = False, compact: bool = False) -> None:
    """Replace the documents of each uuid in one process, bring the ``spellings``
    in step, then commit (``drop_deleted``: rewriting the segments that hold deleted
    documents, so that nothing of them stays on disk)."""
    writer = _writer(ix)  # waits for a concurrent indexer
    try:
        for uuid, vid, record in items:
            _add(writer, uuid, vid, record, compact)
            if on_each:
                on_each()
        _sync_spellings(writer, store, spellings, fresh)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=_rewrite_deleted if drop_deleted else merge_small)
    _write_manifest(index_dir)


def _touched(store, pairs: list[tuple[str, int]]) -> set[tuple[str, str]]:
    """The reference spellings that indexing ``pairs`` may add or retire: those of the
    new versions and of the versions the index held until now."""
    from archive import citing  # noqa: PLC0415 (writing only: not on the query path)
    return citing.spellings_of(store, [v for _, v in pairs] + state.indexed_versions(store, (u for u, _ in pairs)))


def _batches(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def update(store, index_dir: str | Path, on_progress: Progress = None,
           batch: int = BATCH, on_wait: Callable[[], None] | None = None) -> IndexReport:
    """Index new and changed reviews (``batch`` reviews per commit); rebuild
    instead if the index is missing or unusable. Waits for a concurrent indexer."""
    index_dir = Path(index_dir)
    _same_whoosh()
    with _exclusive(index_dir, on_wait):
        return _update(store, index_dir, on_progress, batch)


def _update(store, index_dir: Path, on_progress: Progress, batch: int) -> IndexReport:
    problem = check(index_dir, deep=UNCHANGED)  # before writing on top of it: every checksum
                                                # of a file changed since the last such check
    if problem:
        first_build = problem == "missing" and len(state.pending(store)) == store.count()
        report = _rebuild(store, index_dir, on_progress, None)
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
    removed = state.removed(store)
    if removed:
        _drop(ix, index_dir, store, removed)
        report.removed = len(removed)
    pending = state.pending(store)
    if len(pending) >= PARALLEL_MIN and PROCS > 1:  # a bulk ingest: all processes
        touched = _touched(store, pending)
        _write_parallel(ix, index_dir, store, pending, touched, PROCS,
                        (lambda n: on_progress(n, len(pending))) if on_progress else None)
        state.mark_indexed(store, pending)
        report.indexed = len(pending)
        return report
    done = 0
    for chunk in _batches(pending, batch):
        _write(ix, index_dir, store, [(u, v, store.record(v)) for u, v in chunk],
               _touched(store, chunk))
        state.mark_indexed(store, chunk)
        done += len(chunk)
        if on_progress:
            on_progress(done, len(pending))
    report.indexed = done
    return report


def rebuild(store, index_dir: str | Path, on_progress: Progress = None,
            procs: int | None = None, on_wait: Callable[[], None] | None = None,
            compact: bool = False) -> IndexReport:
    """Build the whole index from the archive's current versions (in ``procs``
    processes; default: :data:`PROCS` from :data:`PARALLEL_MIN` reviews on) into a
    sibling folder, then swap it in. Waits for a concurrent indexer. ``compact``: the
    reviews' texts in the compact layout (:mod:`index.texts`), as format 5 wrote them
    and the cluster still does: searches read both, and ``tests/test_text_layout.py``
    holds them to the same answers."""
    index_dir = Path(index_dir)
    _same_whoosh()
    with _exclusive(index_dir, on_wait):
        return _rebuild(store, index_dir, on_progress, procs, compact)


def _rebuild(store, index_dir: Path, on_progress: Progress, procs: int | None,
             compact: bool = False) -> IndexReport:
    from archive import citing  # noqa: PLC0415 (writing only: not on the query path)
    tmp = index_dir.with_name(index_dir.name + f".building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ix = windex.create_in(str(tmp), make_schema(), indexname=INDEX_NAME)
    pairs = store.review_order()
    total = len(pairs)
    if procs is None:
        procs = PROCS if total >= PARALLEL_MIN else 1
    spellings = citing.current_spellings(store)
    try:
        if procs > 1:
            _write_parallel(ix, tmp, store, pairs, spellings, procs,
                            (lambda n: on_progress(n, total)) if on_progress else None, fresh=True,
                            compact=compact)
        else:
            done = [0]

            def tick():
                done[0] += 1
                if on_progress and (done[0] % BATCH == 0 or done[0] == total):
                    on_progress(done[0], total)

            _write(ix, tmp, store, ((u, v, store.record(v)) for u, v in pairs), spellings, tick,
                   fresh=True, compact=compact)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # the old index stays as it was
        raise
    old = index_dir.with_name(index_dir.name + f".old-{os.getpid()}")
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)
    state.reset(store, pairs)  # only now: a rebuild stopped before leaves the old index and its state
    return IndexReport(indexed=total, rebuilt=True)
