"""Which segments are merged, and when: a commit merges only what costs it little, and a
merger run after the command (:func:`due_later`, ``reviews merge-segments``) does the
larger merges, so that one more review costs the same in an archive of 1,000 reviews or
of 100,000 and the segments stay few.

Whoosh's default policy (``MERGE_SMALL`` in whoosh-reloaded 2.7.5) merges every segment
below the first point where the running total of their documents falls under a
Fibonacci number of their rank: at 100,000 reviews (about 50 bulk segments) the commit
of one new review rewrote some 20 of them, 44,000 reviews' documents, and had not
finished after 120 s (issue 19).

A merge re-reads and re-sorts every posting of the segments it takes, almost the cost
of indexing them again (0.3 s per MB of segment files on the 2-core benchmark box, and
each review makes ~0.15-0.35 MB). So segments are merged in *tiers* by their bytes on
disk: tier 0 under :data:`LEVEL`, tier k from ``LEVEL * GATHER**(k-1)`` up to
``LEVEL * GATHER**k``. Once :data:`GATHER` segments share the lowest tier that has as
many, those, the smallest of it, become one segment, mostly of the next tier. (Merging
keeps the terms its parts share once: eight tier-1 segments of a real index made one of
45 % of their bytes. A merged segment still in its parts' tier is the largest there,
merged when GATHER such have gathered.) Each review is so rewritten a logarithmic
number of times, and the count of segments stays about ``GATHER`` per tier
(``tests/test_merging.py`` plays 10,000 deliveries one by one).

*When*: a commit merges a tier only when the merge fits in :data:`NOW` (tier 0:
GATHER one-review segments, ~0.7 s at 100k); a tier that is due but larger waits for the
merger that ``reviews ingest`` starts in the background when :func:`due_later` says so
(as ``git gc --auto`` runs after a command), up to :data:`LATER` bytes a merge. Past
that, segments are as large as a bulk build's, which ``reviews reindex`` writes anew.
"""
from __future__ import annotations

#: Tier 0: segments under this many bytes of files (a one-review segment is ~0.15-0.35 MB).
LEVEL = 1 << 20
#: A tier is merged once this many segments share it, into one (of the next tier).
GATHER = 8
#: A commit merges a due tier only if its segments have at most this many bytes.
NOW = 4 << 20
#: The merger after a command merges a due tier of at most this many bytes.
LATER = 512 << 20


def _sizes(storage, segments: list) -> dict[int, int]:
    """Each segment's bytes on disk (all its files: ``<index>_<segid>.*``)."""
    lengths = {name: storage.file_length(name) for name in storage.list()}
    sizes = {}
    for seg in segments:
        prefix = seg.make_filename("") + "."
        sizes[id(seg)] = sum(n for name, n in lengths.items() if name.startswith(prefix))
    return sizes


def tier(size: int) -> int:
    """The tier of a segment of ``size`` bytes (see the module's docstring)."""
    k, top = 0, LEVEL
    while size >= top:
        k, top = k + 1, top * GATHER
    return k


def to_merge(segments: list, sizes: dict[int, int], budget: int = NOW) -> list:
    """The segments to merge into one: the :data:`GATHER` smallest of the lowest tier
    that holds as many, if they have at most ``budget`` bytes; else none (a higher
    tier's are larger still)."""
    tiers: dict[int, list] = {}
    for seg in segments:
        tiers.setdefault(tier(sizes[id(seg)]), []).append(seg)
    for k in sorted(tiers):
        if len(tiers[k]) >= GATHER:
            picked = sorted(tiers[k], key=lambda s: sizes[id(s)])[:GATHER]
            return picked if sum(sizes[id(s)] for s in picked) <= budget else []
    return []


def merging_at_most(budget: int):
    """The Whoosh merge policy (``writer.commit(mergetype=...)``) that merges
    :func:`to_merge`'s choice within ``budget``: it returns the segments it keeps as they
    are; those it merges go into the writer's new segment."""
    def policy(writer, segments: list) -> list:
        from whoosh.reading import SegmentReader  # (writing only: not on the query path)

        merged = to_merge(segments, _sizes(writer.storage, segments), budget)
        for seg in merged:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
        gone = {id(s) for s in merged}
        return [s for s in segments if id(s) not in gone]

    return policy


#: A commit's policy: merges within :data:`NOW`.
merge_small = merging_at_most(NOW)


def due(storage, segments: list, budget: int = LATER) -> list:
    """What a merge within ``budget`` would take from this index's ``segments`` now."""
    return to_merge(segments, _sizes(storage, segments), budget)


def due_later(index_dir) -> bool:
    """Is a merge due that a commit leaves to the merger (more than :data:`NOW` bytes,
    at most :data:`LATER`)? Read from the index's table of contents and file sizes,
    without the writer's lock; False where there is no index to read."""
    from whoosh import index as windex
    from whoosh.filedb.filestore import FileStorage

    from index.reader import INDEX_NAME

    try:
        segments = windex.open_dir(str(index_dir), indexname=INDEX_NAME)._segments()
    except Exception:  # noqa: BLE001 (missing, being rebuilt, damaged: the next writer sees it)
        return False
    sizes = _sizes(FileStorage(str(index_dir)), segments)  # (the folder listed once)
    return bool(to_merge(segments, sizes, LATER)) and not to_merge(segments, sizes, NOW)
