"""The search index kept with the archive, as a command says it: after a write
(:func:`update_index`, :func:`follow`, :func:`after_ingest`) and before a read
(:func:`ready`, :func:`read`), with the progress bar, the waiting line and a failure
that says what is stored and what command finishes the job. The embedded index in
the data folder, or the OpenSearch cluster that ``REVIEWS_OPENSEARCH`` names."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from archive.errors import DISK_FULL, ArchiveError, exit_code as code_of
from shell.failures import Failure
from shell.output import say
from shell.progress import with_bar


def cluster_mode() -> bool:
    """Does ``REVIEWS_OPENSEARCH`` name a cluster? (Read without importing its client.)"""
    return bool(os.environ.get("REVIEWS_OPENSEARCH", "").strip())


def cluster():
    """The OpenSearch engine when ``REVIEWS_OPENSEARCH`` names a cluster, else None
    (the embedded index in the data folder: :mod:`index.engine`). Unset, nothing of
    the cluster's is imported (importing http.client would be a cost of every search)."""
    if not cluster_mode():
        return None
    from index.cluster_client import configured

    target = configured()
    if target is None:
        return None
    from index.engine import Cluster

    return Cluster(target)


def waiting() -> None:
    say("waiting for another indexing run to finish…", err=True)


def tell(line: str) -> None:
    """What the index's ensure step did or found (:mod:`index.ready`), on stderr."""
    say(line, err=True)


def ready(directory: Path):
    """The engine to read from, brought up to the archive first
    (:func:`index.ready.ensure_index`, saying what it did); a context manager."""
    from index.ready import ensure_index

    return ensure_index(directory, tell, waiting)


def read(engine, query):
    """``query()`` on ``engine``, rebuilding the index once if it meets damage."""
    from index.ready import read as read_once_more

    return read_once_more(engine, query, tell, waiting)


def update_index(store, directory: Path, quiet: bool, changed: bool = False) -> None:
    """Index what the archive holds and the index lacks (and drop what left it).
    ``changed``: the caller changed reviews, so there is work: the update, under its
    lock, asks what (asking first here too is one more join over every review, ~0.2 s
    at 100,000)."""
    from index import state
    from index.indexer import index_dir, update

    engine = cluster()
    if engine is not None:  # the cluster's index instead of the data folder's
        with engine:
            if engine.behind(store):
                with_bar("indexing", quiet, lambda progress: engine.catch_up(store, progress),
                         len(engine.pending(store)))
        return
    if not changed and not state.pending(store) and not state.removed(store):
        return
    res = with_bar("indexing", quiet, lambda progress: update(
        store, index_dir(directory), on_wait=waiting, on_progress=progress))
    if res.message:
        say(res.message, err=True)


def after_ingest(store, rep, directory: Path, quiet: bool) -> None:
    """Bring the search index up to date after an ingest (new and changed reviews only;
    a missing or corrupt index is rebuilt, and the message says so); a failure says
    that the records are stored all the same."""
    try:
        update_index(store, directory, quiet, changed=bool(rep.changed))
    except (OSError, ArchiveError) as err:
        full = code_of(err) == DISK_FULL
        why = "the disk is full" if full else str(err).split(";")[0]
        later = ("they are pending, and the next command that reaches the cluster indexes them"
                 if cluster_mode() else
                 "`reviews reindex` does it once the cause is fixed")
        raise Failure.of(
            err, f"{why}: the records are stored in the archive ({rep.added} added, {rep.versions} "
            f"new versions), but the search index could not be brought up to date; {later}") from None
    if rep.changed:
        try:
            merge_later(directory)
        except OSError:  # (no merger started: the index is complete, only less merged)
            pass


def merge_later(directory: Path) -> None:
    """Start ``reviews merge-segments`` in the background, detached, when the commit
    just made left a merge to it (:func:`index.merging.due_later`) and no merger is at
    work already: the command that ingested returns now.
    What it prints goes nowhere: a merger that fails leaves the index as it was, and
    the next ingest starts another."""
    import subprocess

    from index.folder import index_dir
    from index.merger import running
    from index.merging import due_later

    if cluster_mode() or running(index_dir(directory)) or not due_later(index_dir(directory)):
        return
    subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "merge-segments", "--quiet",
         "--data-dir", str(directory)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)


def follow(store, directory: Path) -> None:
    """Bring the search index up to the archive after a review left or came back (the
    site follows on its next `reviews site`)."""
    from index.indexer import check, index_dir
    from index.merger import paused

    on_cluster = cluster_mode()
    if not on_cluster and check(index_dir(directory), deep=False) == "missing":
        return  # no index yet: the first search or ingest builds it without the review
    try:
        with paused(index_dir(directory)):  # (a merger mid-build holds a copy of its documents)
            update_index(store, directory, quiet=True)
    except (OSError, ArchiveError) as err:
        later = ("the next command that reaches the cluster does it" if on_cluster else
                 "`reviews reindex` does it once the cause is fixed")
        raise Failure.of(
            err, f"{str(err).split(';')[0]}: the archive is changed, but the search index could "
            f"not follow; {later}") from None
