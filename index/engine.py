"""The one seam between the commands and a search index: embedded Whoosh, or OpenSearch.

``engine_for(data_dir)`` gives :class:`Embedded` (the default: the Whoosh index in the
data folder, :mod:`index.search`) or, when ``REVIEWS_OPENSEARCH`` names a cluster,
:class:`Cluster` (:mod:`index.cluster_search` and its siblings). Both answer the same
query language (``index/spec.json``) with the same review sets (a differential test,
``tests/test_cluster.py``, holds them together), and both take their reviews from the
archive, which stays the source of truth on every host: the archive writes first, the
engine follows (:meth:`catch_up`).

Reads and writes are apart, as Datasette keeps ``execute_fn`` and ``execute_write_fn``:
``search``, ``find_uses``, ``similar``, ``resolve`` and ``references_of`` only read (a
missing or damaged embedded index raises :mod:`index.problems`' errors); ``ensure``
(called by :func:`index.ready.ensure_index` before a command reads) and ``repair`` are
the only ways a read command may write, building the index or catching it up, and
never on an archive this user may not write.

What differs, and is documented: the cluster ranks by its own BM25 over the same
words (the embedded ranking is the site's, score for score); its related reviews are
the embedded engine's scoring over candidates the cluster ranks, equal below 500 reviews
and approximate above (:mod:`index.cluster_similar`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # (the cluster's client imports http.client: only in cluster mode)
    from index.cluster_client import ClusterError, Target

Progress = Callable[[int, int], None] | None
Tell = Callable[[str], None]


class _Engine:
    kind = ""
    #: The one-line notice of a build or rebuild :meth:`ensure` or :meth:`repair` made.
    notice: str | None = None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Embedded(_Engine):
    """The Whoosh index in the data folder (``index/``)."""

    kind = "embedded"

    def __init__(self, data_dir: Path):
        from index.folder import index_dir

        self.data_dir = Path(data_dir)
        self.index_dir = index_dir(self.data_dir)

    # -- getting ready: may write (the index, index_state), never on a read-only archive
    def ensure(self, tell: Tell, on_wait=None) -> None:
        """Build the index when it is missing, rebuild it when it is unusable (sizes
        checked, not checksums: the reader checks what it reads), then say when the
        archive holds reviews the index lacks (without catching up: an ingest may be
        indexing them now, and a stopped one is for `reviews reindex`)."""
        from index.folder import check

        problem = check(self.index_dir, deep=False, probe=False)
        if problem is not None:
            self._build(problem, tell, on_wait, whole=False)
        self._say_lag(tell)

    def repair(self, err, tell: Tell, on_wait=None) -> None:
        """Rebuild the index after a read found it damaged (``err``: the
        :class:`~index.problems.IndexDamaged` it raised); raises when it cannot."""
        self._build(err.problem or "corrupt", tell, on_wait, whole=True)

    def _build(self, problem: str, tell: Tell, on_wait, whole: bool) -> None:
        from archive.config import archive_path
        from archive.errors import ReadOnly
        from archive.store import Store

        path = archive_path(self.data_dir)
        if Store.read_only_place(path):
            raise ReadOnly(f"the search index at {self.index_dir} is {problem}, and the archive "
                           f"at {path} is read-only here, so it cannot be rebuilt; run "
                           "`reviews reindex` where the archive may be written")
        from index.indexer import rebuild, update  # (Whoosh: only to write)

        with Store.open(self.data_dir) as store:
            # update checks again under the writers' lock: a run that built the index
            # meanwhile leaves it nothing to rebuild
            report = (rebuild if whole else update)(store, self.index_dir, on_wait=on_wait)
        if report.rebuilt and (report.indexed or problem != "missing"):
            verb = "built" if problem == "missing" else "rebuilt"
            self.notice = (f"search index was {problem}; {verb} it from the archive "
                           f"({report.indexed} reviews)")
            tell(self.notice)

    def _say_lag(self, tell: Tell) -> None:
        """Reviews the index does not hold yet, which a read misses silently: say so,
        and why. Either a run is at work on them (an ingest or another indexing run: it
        holds the index's locks) or one was stopped (killed, a full disk), and `reviews
        reindex` adds them. (A rebuild stopped midway leaves the old index answering,
        and counted.)"""
        from archive.lag import unindexed
        from index.folder import indexing_live

        n = unindexed(self.data_dir)
        if not n:
            return
        missing = (f"{n} review{'s' if n != 1 else ''} of the archive "
                   f"{'are' if n != 1 else 'is'} not in the search index")
        if indexing_live(self.index_dir):
            tell(f"note: {missing} yet: being indexed now (search again when that is done)")
        else:
            tell(f"note: {missing} yet (an indexing run was stopped?); `reviews reindex` adds them")

    # -- reads ------------------------------------------------------------------------
    def search(self, query: str, **kw):
        from index.search import search

        return search(self.index_dir, query, **kw)

    def resolve(self, store, review_id: str) -> str:
        return store.resolve(review_id)

    def find_uses(self, store, query: str, limit: int | None = None):
        from index.refs import find_uses

        return find_uses(store, query, limit)

    def uses_of(self, store, ref_id: str):
        from archive import citing

        return citing.uses(store, [ref_id])

    def similar(self, store, uuid: str, limit: int):
        from index.similar import similar

        return similar(store, self.index_dir, uuid, limit=limit)

    def references_of(self, store, uuids: list[str]):
        from archive import citing

        return list(citing.references_of(store, uuids))

    # -- writes (ingest, reindex) -----------------------------------------------------
    def catch_up(self, store, on_progress: Progress = None, on_wait=None):
        from index.indexer import update

        return update(store, self.index_dir, on_progress=on_progress, on_wait=on_wait)

    def reindex(self, store, on_progress: Progress = None, on_wait=None):
        from index.indexer import rebuild

        return rebuild(store, self.index_dir, on_progress=on_progress, on_wait=on_wait)


class Cluster(_Engine):
    """An OpenSearch cluster's index (``REVIEWS_OPENSEARCH``, ``REVIEWS_OPENSEARCH_INDEX``);
    ``data_dir``: this host's archive, if it has one (a host may search without one)."""

    kind = "cluster"

    def __init__(self, target: "Target", data_dir: Path | None = None):
        from index.cluster_client import Client

        self.target = target
        self.index = target.index
        self.client = Client(target)
        self.data_dir = Path(data_dir) if data_dir is not None else None

    def close(self) -> None:
        self.client.close()

    # -- getting ready: may write (the cluster, cluster_state), never on a read-only archive
    def ensure(self, tell: Tell, on_wait=None) -> None:
        """Send the cluster what this archive holds and it lacks (the records an ingest
        stored while the cluster was away), before a read counts on it."""
        from archive.config import archive_path
        from archive.store import Store

        if self.data_dir is None or not archive_path(self.data_dir).exists():
            return
        with Store.open(self.data_dir, read_only=True) as store:
            if not self.behind(store):
                return
        with Store.open(self.data_dir) as store:
            if store.read_only:
                tell("note: the cluster's index lacks reviews of this archive, which is "
                     "read-only here; `reviews reindex` where it may be written sends them")
                return
            self.catch_up(store)

    def repair(self, err, tell: Tell, on_wait=None) -> None:
        raise err  # (the cluster's index is no folder of ours to rebuild)

    def behind(self, store) -> bool:
        """Does this archive hold reviews the cluster lacks, or that left the archive?
        (Answered from the archive alone: no request when nothing is pending.)"""
        from index import cluster_sync

        return cluster_sync.behind(store, self.index)

    # -- reads ------------------------------------------------------------------------
    def search(self, query: str, **kw):
        from index.cluster_client import ClusterError
        from index.cluster_search import search

        try:
            return search(self.client, self.index, query, **kw)
        except ClusterError as err:
            if not _no_index(err):
                raise
        from index.facets import Facets
        from index.search import SearchResult, prepare

        prepare(query, kw.get("since"), kw.get("until"), kw.get("limit"), kw.get("offset", 0),
                kw.get("sort", "relevance"), False)  # (a query that does not parse is refused all the same)
        return SearchResult(query, 0, offset=kw.get("offset", 0), limit=kw.get("limit"), empty=True,
                            sort=kw.get("sort", "relevance"),
                            facets=Facets() if kw.get("facets") else None)

    def resolve(self, store, review_id: str) -> str:
        """A review id or prefix: this archive's, else any host's in the cluster."""
        from archive.errors import NotFound

        if store is not None:
            try:
                return store.resolve(review_id)
            except NotFound:
                pass
        from index.cluster_search import resolve

        return resolve(self.client, self.index, review_id)

    def find_uses(self, store, query: str, limit: int | None = None):
        from index.cluster_client import ClusterError
        from index.cluster_refs import find_uses

        try:
            return find_uses(self.client, self.index, query, limit)
        except ClusterError as err:
            if not _no_index(err):
                raise
            return []

    def uses_of(self, store, ref_id: str):
        from index.cluster_refs import uses_of

        return uses_of(self.client, self.index, ref_id)

    def similar(self, store, uuid: str, limit: int):
        from index.cluster_similar import similar

        return similar(self.client, self.index, uuid, limit=limit)

    def references_of(self, store, uuids: list[str]):
        from index.cluster_refs import references_of

        return references_of(self.client, self.index, uuids)

    # -- writes (ingest, reindex, purge) ------------------------------------------------
    def catch_up(self, store, on_progress: Progress = None, on_wait=None):
        from index.cluster_sync import catch_up

        return catch_up(store, self.client, self.index, on_progress)

    def reindex(self, store, on_progress: Progress = None, on_wait=None):
        from index.cluster_sync import reindex

        return reindex(store, self.client, self.index, on_progress)

    def expunge(self) -> None:
        """Leave no deleted document in the cluster's segments (after a purge)."""
        from index.cluster_sync import expunge

        expunge(self.client, self.index)

    def pending(self, store) -> list[tuple[str, int]]:
        """This archive's reviews no cluster index holds as current (for a progress bar)."""
        from index import cluster_sync

        return cluster_sync.unindexed_pairs(store, self.index)


def _no_index(err: "ClusterError") -> bool:
    """The cluster has no such index yet: nothing was indexed into it."""
    return err.status == 404 and "index_not_found" in str(err)


def engine_for(data_dir: Path) -> Embedded | Cluster:
    """The engine the environment chooses for this archive (``REVIEWS_OPENSEARCH``
    read first: unset, nothing of the cluster's is imported)."""
    if os.environ.get("REVIEWS_OPENSEARCH", "").strip():
        from index.cluster_client import configured

        target = configured()
        if target is not None:
            return Cluster(target, data_dir)
    return Embedded(Path(data_dir))
