"""Which segments a commit merges: only small ones, so that one more review costs the
same in an archive of 1,000 reviews or of 100,000.

Whoosh's default policy (``MERGE_SMALL`` in whoosh-reloaded 2.7.5) sorts the segments
by size and merges every one below the first point where the running total of their
documents falls under a Fibonacci number of their rank. A bulk build leaves a few dozen
segments of similar size (one per ``SEGMENT_POSTINGS`` postings a worker writes): at
10,000 reviews 10 segments, where the rule never fires; at 100,000 about 50, and then
the Fibonacci numbers overtake the running total around rank 20, so the commit of one
new review rewrote some 20 segments, 44,000 reviews' documents, at 8-15 ms each: the
`reviews ingest FILE` that had not finished after 120 s (issue 19).

A merge re-reads and re-sorts every posting of the segments it takes, almost the cost
of indexing them again (about 0.3-0.6 s per MB of segment files on the 2-core benchmark
box). So a commit here merges the smallest segments, and only what fits in
:data:`BUDGET` bytes of segment files, and only once :data:`GATHER` of them fit: what
one commit rewrites is bounded whatever the archive's size. Segments merged this way
grow in tiers (eight one-review segments into one, eight of those into one) until
eight of them no longer fit in the budget; past that size a commit leaves them alone.
A bulk ingest writes segments of thousands of reviews, and ``reviews reindex`` writes
the whole index anew in its fewest segments.
"""
from __future__ import annotations

#: At most this many bytes of segment files are merged by one commit.
BUDGET = 8 << 20
#: Segments are merged once this many of the smallest fit in the budget (into one).
GATHER = 8


def _sizes(storage, segments: list) -> dict[int, int]:
    """Each segment's bytes on disk (all its files: ``<index>_<segid>.*``)."""
    lengths = {name: storage.file_length(name) for name in storage.list()}
    sizes = {}
    for seg in segments:
        prefix = seg.make_filename("") + "."
        sizes[id(seg)] = sum(n for name, n in lengths.items() if name.startswith(prefix))
    return sizes


def to_merge(segments: list, sizes: dict[int, int]) -> list:
    """The segments a commit merges: the smallest, as many as fit in :data:`BUDGET`
    together, when at least :data:`GATHER` do; else none."""
    picked, total = [], 0
    for seg in sorted(segments, key=lambda s: sizes[id(s)]):
        if total + sizes[id(seg)] > BUDGET:
            break
        picked.append(seg)
        total += sizes[id(seg)]
    return picked if len(picked) >= GATHER else []


def merge_small(writer, segments: list) -> list:
    """A Whoosh merge policy (``writer.commit(mergetype=merge_small)``): returns the
    segments it keeps as they are; those it merges go into the writer's new segment."""
    from whoosh.reading import SegmentReader  # (writing only: not on the query path)

    merged = to_merge(segments, _sizes(writer.storage, segments))
    for seg in merged:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    gone = {id(s) for s in merged}
    return [s for s in segments if id(s) not in gone]
