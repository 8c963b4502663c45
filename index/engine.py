"""The one seam between the commands and a search index: embedded Whoosh, or OpenSearch.

``engine_for(data_dir)`` gives :class:`Embedded` (the default: the Whoosh index in the
data folder, :mod:`index.search`) or, when ``REVIEWS_OPENSEARCH`` names a cluster,
:class:`Cluster` (:mod:`index.cluster_search` and its siblings). Both answer the same
query language (``index/spec.json``) with the same review sets (a differential test,
``tests/test_cluster.py``, holds them together), and both take their reviews from the
archive, which stays the source of truth on every host: the archive writes first, the
engine follows (:meth:`catch_up`), and a command that finds the engine behind brings
it up to date before it reads.

What differs, and is documented: the cluster ranks by its own BM25 over the same
words (the embedded ranking is the site's, score for score), and its related reviews
are one OpenSearch query over the same evidence (:mod:`index.cluster_similar`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from index.cluster_client import Client, ClusterError, Target, configured

Progress = Callable[[int, int], None] | None


class Embedded:
    """The Whoosh index in the data folder (``index/``)."""

    kind = "embedded"

    def __init__(self, data_dir: Path):
        from index.folder import index_dir

        self.data_dir = data_dir
        self.index_dir = index_dir(data_dir)

    def close(self) -> None:
        pass

    def search(self, query: str, store=None, **kw):
        from index.search import search

        return search(self.index_dir, query, store=store, **kw)

    def catch_up(self, store, on_progress: Progress = None, on_wait=None):
        from index.indexer import update

        return update(store, self.index_dir, on_progress=on_progress, on_wait=on_wait)

    def reindex(self, store, on_progress: Progress = None, on_wait=None):
        from index.indexer import rebuild

        return rebuild(store, self.index_dir, on_progress=on_progress, on_wait=on_wait)

    def find_uses(self, store, query: str):
        from index.refs import find_uses

        return find_uses(store, query)

    def similar(self, store, uuid: str, limit: int):
        from index.similar import similar

        return similar(store, self.index_dir, uuid, limit=limit)

    def references_of(self, store, uuids: list[str]):
        from archive import citing

        return list(citing.references_of(store, uuids))


class Cluster:
    """An OpenSearch cluster's index (``REVIEWS_OPENSEARCH``, ``REVIEWS_OPENSEARCH_INDEX``)."""

    kind = "cluster"

    def __init__(self, target: Target):
        self.target = target
        self.index = target.index
        self.client = Client(target)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def behind(self, store) -> bool:
        """Does this archive hold reviews the cluster lacks, or that left the archive?
        (Answered from the archive alone: no request when nothing is pending.)"""
        from index import cluster_sync

        return cluster_sync.behind(store, self.index)

    def search(self, query: str, store=None, **kw):
        from index.cluster_search import search

        if store is not None and self.behind(store):
            self.catch_up(store)
        try:
            return search(self.client, self.index, query, **kw)
        except ClusterError as err:
            if not _no_index(err):
                raise
        from index.query import parse
        from index.search import SearchResult

        parse(query)  # (a query that does not parse is refused all the same)
        return SearchResult(query, 0, offset=kw.get("offset", 0), limit=kw.get("limit"), empty=True)

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

    def find_uses(self, store, query: str):
        from index.cluster_refs import find_uses

        if store is not None and self.behind(store):
            self.catch_up(store)
        try:
            return find_uses(self.client, self.index, query)
        except ClusterError as err:
            if not _no_index(err):
                raise
            return []

    def similar(self, store, uuid: str, limit: int):
        from index.cluster_similar import similar

        if store is not None and self.behind(store):
            self.catch_up(store)
        return similar(self.client, self.index, uuid, limit=limit)

    def references_of(self, store, uuids: list[str]):
        from index.cluster_refs import references_of

        return references_of(self.client, self.index, uuids)


def _no_index(err: ClusterError) -> bool:
    """The cluster has no such index yet: nothing was indexed into it."""
    return err.status == 404 and "index_not_found" in str(err)


def engine_for(data_dir: Path) -> Embedded | Cluster:
    """The engine the environment chooses for this archive."""
    target = configured()
    return Cluster(target) if target is not None else Embedded(Path(data_dir))
