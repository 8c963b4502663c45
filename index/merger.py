"""The merger after a command (``reviews merge-segments``, which ``reviews ingest``
starts in the background): the merges :mod:`index.merging` leaves to it, built beside
the index without its lock, then swapped in under it.

Built without the lock, because a merge of a large tier takes seconds (tier 1 of the
100k archive: ~2.5 s, tier 2 tens of seconds) and a delivery that arrives meanwhile
must not wait for it: its commit takes the lock, adds its segment, and goes. Built
*beside* the index (``index.merging-<pid>``), because every commit deletes the files of
the index folder that its table of contents does not name (Whoosh's ``clean_files``).

Swapped in under the lock if the merged segments are all still there. A document
deleted in one of them meanwhile (nearly every commit deletes some: a new version of a
review, and the reference documents its citations update) is deleted in the merged
segment too. A segment gone (rewritten by a retraction's or a purge's commit) makes the
merge stale: it is thrown away, and the next merger starts over.
A merger killed at any point leaves the last committed index: its folder is removed by
the next writer (:func:`index.indexer._remove_stale_builds`), and files it had moved in
but not named in a table of contents are deleted by the next commit.
"""
from __future__ import annotations

import bisect
import fcntl
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from whoosh import index as windex

from index import merging
from index.codec import CompactPool, FastCodec
from index.folder import INDEX_NAME, UNCHANGED, check, write_manifest
from index.indexer import _exclusive, _same_whoosh, _writer


def _merger_lock(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".merger.lock")


def running(index_dir: str | Path) -> bool:
    """Is a merger at work on this index? (Its lock, held for its whole run: an ingest
    meanwhile starts no other, whose start alone would cost the machine ~0.4 s of CPU.)"""
    path = _merger_lock(Path(index_dir))
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


@contextmanager
def paused(index_dir: str | Path) -> Iterator[None]:
    """No merger runs inside (one at work is waited for): a retraction or a purge must
    leave no copy of the review's documents, and a merger mid-build holds one beside the
    index until it ends. Taken before the index's own lock, as a merger takes the two."""
    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        yield
        return
    fd = os.open(_merger_lock(index_dir), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def merge_due(index_dir: str | Path, on_wait: Callable[[], None] | None = None) -> int:
    """Do the merges that are due within :data:`~index.merging.LATER` bytes, one after
    another while one is (each its own commit); returns how many were swapped in. An
    index that is missing or unusable is left to the next update, which rebuilds it.
    One merger at a time: another one's run is waited for."""
    index_dir = Path(index_dir)
    _same_whoosh()
    if not index_dir.is_dir():
        return 0
    with paused(index_dir):  # (the merger's lock: released with the process, whatever kills it)
        return _merge_while_due(index_dir, on_wait)


def _merge_while_due(index_dir: Path, on_wait: Callable[[], None] | None) -> int:
    done = 0
    while True:
        with _exclusive(index_dir, on_wait):  # (only to see it whole and clean up)
            if check(index_dir, deep=False):
                return done
            ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
            picked = merging.due(ix.storage, ix._segments())
        if not picked:
            return done
        beside = index_dir.with_name(f"{index_dir.name}.merging-{os.getpid()}")
        try:
            merged = _build(ix, picked, beside)
            with _exclusive(index_dir, on_wait):
                if not _swap_in(index_dir, picked, merged, beside):
                    return done
        except FileNotFoundError:  # (a commit meanwhile removed a segment being read)
            return done
        finally:
            shutil.rmtree(beside, ignore_errors=True)
        done += 1


class _Beside:
    """What a Whoosh ``SegmentWriter`` asks of an index, but with the folder it writes
    its segment into replaced by ``folder``: the index's schema, generation and
    segments as read."""

    def __init__(self, ix, folder: Path):
        from whoosh.filedb.filestore import FileStorage

        folder.mkdir()
        self.storage = FileStorage(str(folder))
        self.indexname = ix.indexname
        self._toc = ix._read_toc()

    def _read_toc(self):
        return self._toc


def _build(ix, picked: list, folder: Path):
    """The segment holding the live documents of ``picked``, written into ``folder``.
    (Whoosh copies each segment's live documents in order, so document ``d`` of the
    ``i``-th segment becomes the merged one's number ``base_i + d`` less the documents
    before it that were deleted: :func:`_carried` maps deletions made meanwhile.)"""
    from whoosh.reading import SegmentReader
    from whoosh.writing import SegmentWriter

    writer = SegmentWriter(_Beside(ix, folder), _lk=False, codec=FastCodec(), compound=False)
    writer.pool = CompactPool()
    for seg in picked:
        reader = SegmentReader(ix.storage, ix.schema, seg)
        writer.add_reader(reader)
        reader.close()
    merged = writer._finalize_segment()
    writer._tempstorage.destroy()
    return merged


def _carried(picked: list, now: dict) -> list[int] | None:
    """The merged segment's numbers of the documents deleted in ``picked`` since they
    were read (``now``: the index's segments by id); None if one of them is gone or
    lost a deletion (rewritten: the merge is stale)."""
    out, base = [], 0
    for seg in picked:
        there = now.get(seg.segment_id())
        if there is None:
            return None
        was, is_now = set(seg.deleted_docs()), set(there.deleted_docs())
        if not was <= is_now:
            return None
        before = sorted(was)
        out.extend(base + d - bisect.bisect_left(before, d) for d in sorted(is_now - was))
        base += seg.doc_count_all() - len(was)
    return out


def _swap_in(index_dir: Path, picked: list, merged, folder: Path) -> bool:
    """Under the lock: if ``picked`` are all still in the index, move the merged
    segment's files in, mark in it the documents deleted since they were read, and
    commit the table of contents that names it instead of them (then the manifest);
    else change nothing."""
    if check(index_dir, deep=UNCHANGED):
        return False
    ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
    segments = ix._segments()
    deleted = _carried(picked, {s.segment_id(): s for s in segments})
    if deleted is None:
        return False
    for d in deleted:
        merged.delete_document(d)
    for f in folder.iterdir():
        os.replace(f, index_dir / f.name)
    writer = _writer(ix)  # (Whoosh's own lock, and the next generation)
    try:
        gone = {s.segment_id() for s in picked}
        writer._close_segment()  # (it adds nothing of its own)
        writer._commit_toc([s for s in segments if s.segment_id() not in gone] + [merged])
        writer._finish()
    except BaseException:
        writer.cancel()
        raise
    write_manifest(index_dir)
    return True
