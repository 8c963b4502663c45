"""Why the search index cannot answer a read, as types a caller can tell apart.

A query only reads: when the index is not there or not readable it raises one of
these and writes nothing. What to do about it (build, rebuild, or tell the user to) is
decided in one place before and after the read, :func:`index.ready.ensure_index`, which
may write because the command allows it; the query never does. The split follows
Datasette's ``execute_fn`` / ``execute_write_fn``: reads and writes do not share a path.

Every one is an :class:`archive.errors.Damaged` (exit code 5) whose message names the
index and the command that mends it.
"""
from __future__ import annotations

from archive.errors import Damaged


class IndexProblem(Damaged):
    """The index is missing or unreadable; ``str()`` says which and what to do,
    ``problem`` is what :func:`index.folder.check` (or the reader) found."""

    def __init__(self, message: str, problem: str | None = None):
        super().__init__(message)
        self.problem = problem


class IndexMissing(IndexProblem):
    """No index yet (never built, or its folder was removed)."""


class IndexDamaged(IndexProblem):
    """An index is there but cannot be read as one: corrupt, cut short, or of another
    format. Found by the sizes check before a read, or by the reader's checksums during it."""


class IndexOutdated(IndexDamaged):
    """The index was written by another Whoosh release or index format (``written``)
    than this program's (``this``), or says nothing of what wrote it (an index from
    before the stamp): :class:`index.folder.Stamp`. Nothing is wrong with its bytes, but
    this program cannot know it reads them right, so it is rebuilt like a damaged one."""

    def __init__(self, index_dir, written, this):
        super().__init__(f"the index at {index_dir} was written by {written}; this is {this}: "
                         "run reviews reindex", f"written by {written} (this is {this})")
        self.written = written


def unusable(index_dir, problem: str) -> IndexProblem:
    """The error for ``problem`` (a :func:`index.folder.check` answer) at ``index_dir``."""
    kind = IndexMissing if problem == "missing" else IndexDamaged
    return kind(f"search index at {index_dir} is {problem}; "
                "run `reviews reindex` to rebuild it", problem)
