"""A search's per-document work in two processes: half the segments each.

A query that most of 100,000 reviews answer costs a Python loop over each of them in
every step (postings, keys, the text check, scores), and one process uses one of the
machine's cores. :func:`in_two` runs a step function over two views of the index, each
holding about half of its documents (:class:`Half`): the second in a child made by
``fork`` (which shares the open files and the memory read so far, and costs a few
milliseconds), the first in this process, then returns both results.

What a view changes is only which segments its postings and columns are read from
(:mod:`index.postings` walks ``reader.leaves``); what every statistic is counted over
stays the whole index (``live_count`` walks ``reader.segments``), so a score computed in
a half is the score computed whole. The parent merges, orders and pages as before.

Only from a process that runs no other thread (a thread holding a lock at the fork would
hold it in the child for ever: the CLI, not ``reviews serve``), where ``os.fork`` exists,
and for work large enough to pay for it (:data:`THRESHOLD`, which
:func:`index.search._halved` asks). Damage the child meets is
raised in the parent as the same :class:`~index.reader.FormatError`; a child that dies
otherwise (killed, out of memory) has its half done again here, so the answer never
depends on the child.
"""
from __future__ import annotations

import os
import pickle
import signal
import threading

from index.reader import FormatError, Mapped

#: A query's rarest gram in at least this many reviews: the work per review times that
#: outweighs a fork and sending the child's answer back (measured at 100k: docs/benchmarks.md).
THRESHOLD = 5_000


class Half:
    """``reader`` with only ``leaves`` for postings and columns; all else is the
    reader's own (statistics over every segment, documents found by number)."""

    def __init__(self, reader, leaves):
        self._reader, self.leaves = reader, leaves

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def __contains__(self, term) -> bool:
        return term in self._reader


def possible() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def halves(reader) -> tuple[Half, Half]:
    """The reader's segments cut in two at half its reviews, in order (a search's work
    is per review: the documents of references, most of a bulk build's last segment,
    cost it nothing)."""
    weights = [seg.doc_frequency("kind", b"review") for seg, _ in reader.leaves]
    total, count, cut = sum(weights), 0, 0
    while cut < len(weights) and count + weights[cut] / 2 < total / 2:
        count += weights[cut]
        cut += 1
    return Half(reader, reader.leaves[:cut]), Half(reader, reader.leaves[cut:])


def in_two(reader, work):
    """``(work(first half), work(second half))``, the second computed in a forked child
    (see the module's docstring for when it falls back to this process)."""
    mine, theirs = halves(reader)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its answer (or its error) down the pipe, then out at once
        os.close(read_end)
        Mapped.release_pages = False  # (they go back with this process)
        try:
            try:
                data = pickle.dumps(("ok", work(theirs)), protocol=pickle.HIGHEST_PROTOCOL)
            except FormatError as err:
                data = pickle.dumps(("damaged", str(err)))
            except BaseException as err:  # noqa: BLE001 - any other failure: redone in the parent
                data = pickle.dumps(("failed", repr(err)))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)  # (no atexit handlers, no buffers of the parent written twice)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as got:
        try:
            first = work(mine)
            data = got.read()
        except BaseException:
            _stop(pid)
            raise
    os.waitpid(pid, 0)
    try:
        status, answer = pickle.loads(data)
    except Exception:  # noqa: BLE001 - the child died before writing all of it
        status, answer = "failed", None
    if status == "damaged":
        raise FormatError(answer)
    if status != "ok":
        answer = work(theirs)
    return first, answer


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
