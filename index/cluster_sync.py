"""Keeping the cluster's index in step with this archive: catch up, reindex, retract, purge.

The archive (SQLite) stays the source of truth on every host. What the cluster holds
of *this* archive is recorded in the archive's ``cluster_state`` table, per target
(the index's own UUID, which changes when the index is deleted and made again), as
``index_state`` records what the embedded index holds. So:

* :func:`catch_up` pushes the current reviews the cluster lacks (new, changed, or left
  over by a stopped run) and deletes those that left the archive (retracted, purged):
  ``ingest`` stores first and indexes after, and a record stored while the cluster was
  unreachable is simply *pending* until the next command that reaches it;
* :func:`reindex` pushes every current review again, in batches; a run that was
  stopped (killed, a node lost, the cluster gone) leaves a mark, and the next run goes
  on from where it stopped instead of starting over;
* writes use *external versions* (:func:`index.cluster_doc.external_version`):
  ``version_type=external_gte``, so when two hosts deliver one UUID the newest
  delivery stays whichever writes last, and a re-run rewrites a document with itself.
  An item refused as a version conflict is an older delivery than the cluster's, and
  counts as done.

Bulk items the cluster cannot take yet (429, 503: a node died and its shards are being
promoted) are sent again with a growing pause; what still fails ends the run with the
reason, and what went through is recorded, so a re-run completes.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from index.cluster_client import Client, ClusterError
from index.cluster_doc import FORMAT, cluster_document, external_version, mapping

#: Reviews per bulk request (~2-5 MB of JSON at the corpus's sizes); a test makes it
#: smaller to stop a run between batches.
BATCH = int(os.environ.get("REVIEWS_OPENSEARCH_BATCH", "200"))
RETRIES = 6
Progress = Callable[[int, int], None] | None

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cluster_state(target TEXT NOT NULL, uuid TEXT NOT NULL,"
    " version_id INTEGER NOT NULL, PRIMARY KEY(target, uuid))",
    "CREATE TABLE IF NOT EXISTS cluster_runs(target TEXT PRIMARY KEY, started TEXT NOT NULL)",
    # the index (by name) this archive last wrote to, and that index's own UUID
    "CREATE TABLE IF NOT EXISTS cluster_targets(name TEXT PRIMARY KEY, target TEXT NOT NULL)",
)


@dataclass
class SyncReport:
    indexed: int = 0
    deleted: int = 0
    resumed: bool = False
    message: str | None = None


# -- the index --------------------------------------------------------------------------

def index_uuid(client: Client, index: str, create: bool) -> str | None:
    """The index's own UUID (None when it does not exist and ``create`` is false); made
    with :func:`index.cluster_doc.mapping` when missing: one shard per data node (at
    most 6), one replica when there is a second node."""
    try:
        settings = client.request("GET", f"/{index}/_settings", ok=(200,))
    except ClusterError as err:
        if err.status != 404:
            raise
        if not create:
            return None
        health = client.retrying("GET", "/_cluster/health")
        nodes = int(health.get("number_of_data_nodes") or 1)
        try:
            client.request("PUT", f"/{index}", mapping(min(max(nodes, 1), 6), 1 if nodes > 1 else 0))
        except ClusterError as made:  # another host made it meanwhile
            if "resource_already_exists" not in str(made):
                raise
        client.retrying("GET", "/_cluster/health/" + index,
                        params={"wait_for_status": "yellow", "timeout": "60s"})
        settings = client.request("GET", f"/{index}/_settings")
    (entry,) = settings.values()
    _check_mapping(client, index)
    return entry["settings"]["index"]["uuid"]


def _check_mapping(client: Client, index: str) -> None:
    got = client.request("GET", f"/{index}/_mapping")
    (entry,) = got.values()
    mappings = entry.get("mappings", {})
    fmt = mappings.get("_meta", {}).get("review_archive_format")
    if fmt != FORMAT:
        what = ("is not a review-archive index" if fmt is None else
                f"was made by another version of review-archive (format {fmt}, this one {FORMAT})")
        raise ClusterError(f"the index {index!r} on the cluster {what}; name another one with "
                           "REVIEWS_OPENSEARCH_INDEX, or delete it (every host's reviews go "
                           "with it) and run `reviews reindex` on every host")


# -- bookkeeping in the archive ----------------------------------------------------------

def _ensure_tables(store) -> None:
    if _has_tables(store):
        return
    store.write(lambda: [store.execute(s) for s in _SCHEMA])


def _has_tables(store) -> bool:
    return store.execute("SELECT 1 FROM sqlite_master WHERE name = 'cluster_targets'").fetchone() is not None


def pending(store, target: str) -> list[tuple[str, int]]:
    """``(uuid, current version id)`` of the reviews the cluster does not hold as current."""
    if not _has_tables(store):
        return _every_review(store)
    return [tuple(r) for r in store.execute(  # type: ignore[misc]
        "SELECT r.uuid, r.current_version FROM reviews r LEFT JOIN cluster_state s"
        " ON s.target = ? AND s.uuid = r.uuid"
        " WHERE s.version_id IS NULL OR s.version_id != r.current_version ORDER BY r.uuid", (target,))]


def _every_review(store) -> list[tuple[str, int]]:
    return [tuple(r) for r in store.execute(  # type: ignore[misc]
        "SELECT uuid, current_version FROM reviews ORDER BY uuid")]


def removed(store, target: str) -> list[str]:
    """Reviews the cluster holds for this archive that the archive no longer shows."""
    if not _has_tables(store):
        return []
    return [r[0] for r in store.execute(
        "SELECT s.uuid FROM cluster_state s LEFT JOIN reviews r ON r.uuid = s.uuid"
        " WHERE s.target = ? AND r.uuid IS NULL ORDER BY s.uuid", (target,))]


def _mark(store, target: str, pairs: list[tuple[str, int]]) -> None:
    store.write(lambda: store.executemany(
        "INSERT INTO cluster_state(target, uuid, version_id) VALUES (?, ?, ?)"
        " ON CONFLICT(target, uuid) DO UPDATE SET version_id = excluded.version_id",
        [(target, u, v) for u, v in pairs]))


def _forget(store, target: str, uuids: Iterable[str]) -> None:
    store.write(lambda: store.executemany(
        "DELETE FROM cluster_state WHERE target = ? AND uuid = ?", [(target, u) for u in uuids]))


def known_target(store, name: str) -> str | None:
    """The UUID of the index called ``name`` that this archive last wrote to (None:
    never), so that a command knows without asking the cluster whether it is behind."""
    if not _has_tables(store):
        return None
    row = store.execute("SELECT target FROM cluster_targets WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def _remember(store, name: str, target: str) -> None:
    store.write(lambda: store.execute(
        "INSERT INTO cluster_targets(name, target) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET target = excluded.target", (name, target)))


def unindexed_pairs(store, name: str) -> list[tuple[str, int]]:
    """The reviews the index called ``name`` lacks, as this archive last knew it."""
    target = known_target(store, name)
    return _every_review(store) if target is None else pending(store, target)


def behind(store, name: str) -> bool:
    """Does the index called ``name`` lack reviews of this archive, or hold some that
    left it? (From the archive alone: no request. An index deleted and made again
    behind the archive's back is found out by the next ``reviews reindex``.)"""
    target = known_target(store, name)
    if target is None:
        return store.count() > 0
    return bool(pending(store, target)) or bool(removed(store, target))


# -- writing -----------------------------------------------------------------------------

def _actions(store, pairs: list[tuple[str, int]], index: str, host: str) -> list[dict]:
    lines: list[dict] = []
    for uuid, vid in pairs:
        sha = store.execute("SELECT sha256 FROM versions WHERE id = ?", (vid,)).fetchone()[0]
        record = store.record(vid)
        lines.append({"index": {"_index": index, "_id": uuid,
                                "version": external_version(record.received_at, sha),
                                "version_type": "external_gte"}})
        lines.append(cluster_document(record, sha, host))
    return lines


def _worker_actions(store_path: str, pairs: list[tuple[str, int]], index: str,
                    host: str) -> list[dict]:
    """:func:`_actions` in a worker process, over a connection of its own."""
    from archive.store import Store

    with Store(store_path) as store:
        return _actions(store, pairs, index, host)


def _bulk(client: Client, lines: list[dict]) -> None:
    """Send bulk ``lines`` (action, source pairs); items the cluster cannot take yet are
    sent again; a version conflict (an older delivery than the cluster's) is done."""
    todo = lines
    for attempt in range(RETRIES):
        res = client.retrying("POST", "/_bulk", ndjson=todo)
        if not res.get("errors"):
            return
        again: list[dict] = []
        fatal = None
        for k, item in enumerate(res["items"]):
            (op, out), = item.items()
            status = out.get("status", 200)
            if status < 300 or status == 409 or (op == "delete" and status == 404):
                continue
            if status in (429, 500, 502, 503, 504):
                again.extend(todo[2 * k:2 * k + 2] if op == "index" else todo[2 * k:2 * k + 1])
                continue
            err = out.get("error") or {}
            fatal = fatal or f"{out.get('_id')}: {err.get('type')}: {err.get('reason')}"
        if fatal:
            raise ClusterError(f"the OpenSearch cluster refused a review ({fatal})")
        if not again:
            return
        todo = again
        time.sleep(min(8.0, 0.5 * 2 ** attempt))
    raise ClusterError(f"the OpenSearch cluster could not take {len(todo) // 2 or len(todo)} "
                       "reviews after several tries (shards unavailable); run the command again")


def _host() -> str:
    return socket.gethostname()


def catch_up(store, client: Client, index: str, on_progress: Progress = None,
             create: bool = True) -> SyncReport:
    """Push what the cluster lacks of this archive, delete what left it; refresh."""
    target = index_uuid(client, index, create)
    if target is None:
        return SyncReport()
    _ensure_tables(store)
    _remember(store, index, target)
    rep = SyncReport()
    rep.deleted = _delete(store, client, index, target)
    todo = pending(store, target)
    rep.indexed = _push(store, client, index, target, todo, on_progress)
    if rep.indexed and not rep.deleted:
        client.retrying("POST", f"/{index}/_refresh")
    return rep


def _delete(store, client: Client, index: str, target: str) -> int:
    """Delete the reviews that left the archive (retracted, purged). OpenSearch only
    marks a deleted document: a purge then calls :func:`expunge`."""
    gone = removed(store, target)
    if not gone:
        return 0
    # deleted at the version they hold (external_gte): a plain delete would leave a
    # tombstone one version above, and a restore, writing the same delivery again,
    # would then be refused as older for the next minute (index.gc_deletes)
    held = client.retrying("POST", f"/{index}/_mget", {"ids": gone}, params={"_source": "false"})
    versions = {d["_id"]: d["_version"] for d in held["docs"] if d.get("found")}
    _bulk(client, [{"delete": {"_index": index, "_id": u, "version": versions[u],
                               "version_type": "external_gte"}} for u in gone if u in versions])
    client.retrying("POST", f"/{index}/_refresh")
    _forget(store, target, gone)
    return len(gone)


#: From this many reviews on, documents are made in PROCS worker processes while this
#: one sends them (making a document, jieba and grams, costs more than the cluster's
#: indexing of it: a single process kept the nodes mostly idle).
PARALLEL_MIN = 2 * BATCH
PROCS = max(1, min(8, (os.cpu_count() or 1)))  # (the nodes may live elsewhere: every core)


def _push(store, client: Client, index: str, target: str, todo: list[tuple[str, int]],
          on_progress: Progress) -> int:
    """Send ``todo`` in batches, marking each batch once the cluster took it."""
    host = _host()
    chunks = [todo[k:k + BATCH] for k in range(0, len(todo), BATCH)]
    if len(todo) < PARALLEL_MIN or PROCS < 2:
        made = (_actions(store, chunk, index, host) for chunk in chunks)
        return _send(store, client, target, chunks, made, on_progress, len(todo))
    from archive.workers import pool

    with pool(PROCS) as workers:  # ends with this process, however it ends
        ahead = PROCS + 1  # batches being made while one is sent
        futures = [workers.submit(_worker_actions, str(store.path), c, index, host)
                   for c in chunks[:ahead]]

        def made():
            for k in range(len(chunks)):
                lines = futures[k].result()
                futures[k] = None
                if k + ahead < len(chunks):
                    futures.append(workers.submit(_worker_actions, str(store.path),
                                                  chunks[k + ahead], index, host))
                yield lines

        return _send(store, client, target, chunks, made(), on_progress, len(todo))


def _send(store, client: Client, target: str, chunks, made, on_progress: Progress,
          total: int) -> int:
    done = 0
    for chunk, lines in zip(chunks, made):
        _bulk(client, lines)
        _mark(store, target, chunk)
        done += len(chunk)
        if on_progress:
            on_progress(done, total)
    return done


def reindex(store, client: Client, index: str, on_progress: Progress = None) -> SyncReport:
    """Push every current review of this archive again, in batches, resumably."""
    target = index_uuid(client, index, create=True)
    assert target is not None
    _ensure_tables(store)
    _remember(store, index, target)
    started = store.execute("SELECT started FROM cluster_runs WHERE target = ?", (target,)).fetchone()
    rep = SyncReport(resumed=started is not None)
    if started is None:  # a new run: everything is to be pushed again
        def begin():
            store.execute("DELETE FROM cluster_state WHERE target = ?", (target,))
            store.execute("INSERT INTO cluster_runs(target, started) VALUES (?, datetime('now'))",
                          (target,))
        store.write(begin)
    rep.indexed = _push(store, client, index, target, pending(store, target), on_progress)
    rep.deleted = _delete(store, client, index, target)
    client.retrying("POST", f"/{index}/_refresh")
    store.write(lambda: store.execute("DELETE FROM cluster_runs WHERE target = ?", (target,)))
    return rep


def expunge(client: Client, index: str, timeout: float = 120.0) -> None:
    """Merge away every deleted document of the index, on every copy, and commit: what
    ``purge`` needs to leave no copy. OpenSearch keeps deleted documents its shard
    copies may still need (peer-recovery retention leases, synced every 30 s), so this
    merges, refreshes and flushes until no copy counts a deleted document."""
    deadline = time.monotonic() + timeout
    while True:
        client.retrying("POST", f"/{index}/_forcemerge", params={"only_expunge_deletes": "true"})
        client.retrying("POST", f"/{index}/_refresh")
        client.retrying("POST", f"/{index}/_flush", params={"force": "true"})
        stats = client.retrying("GET", f"/{index}/_stats/docs")
        if not stats["_all"]["total"]["docs"]["deleted"]:
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"the cluster still keeps deleted documents of {index!r} after "
                               f"{timeout:.0f} s (retention leases of a shard copy that is "
                               "down?); run `reviews purge` again for the same review once "
                               "every node is up")
        time.sleep(3)
