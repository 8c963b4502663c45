"""The one step before a command reads the search index: make it readable, or say why not.

A query only reads (:mod:`index.search`, :mod:`index.similar`, the cluster's): it raises
:mod:`index.problems`' errors instead of mending anything. A command that reads calls
:func:`ensure_index` first, which builds a missing index, rebuilds one that is unusable,
or sends the cluster what this archive holds and it lacks, says so on stderr in one line
(``tell``), and gives the engine to read from; then :func:`read` runs the query, and
when the reader meets damage the sizes check could not see (a block that fails its
checksum) rebuilds the index once and reads again. On an archive this user may not
write, nothing is written: an index that cannot answer is an error naming the fix.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

from index.engine import Cluster, Embedded, Tell, engine_for
from index.problems import IndexDamaged

T = TypeVar("T")


def _silent(line: str) -> None:
    pass


def ensure_index(data_dir: str | Path, tell: Tell = _silent, on_wait=None) -> Embedded | Cluster:
    """The engine for the archive in ``data_dir`` (:func:`index.engine.engine_for`),
    brought up to where a read can count on it; close it after (it is a context
    manager). ``on_wait`` is told when another indexing run holds the index."""
    engine = engine_for(Path(data_dir))
    try:
        engine.ensure(tell, on_wait)
    except BaseException:
        engine.close()
        raise
    return engine


def read(engine: Embedded | Cluster, query: Callable[[], T], tell: Tell = _silent,
         on_wait=None) -> T:
    """``query()``; if it finds the index damaged, rebuild it (where the archive may
    be written) and run it once more."""
    try:
        return query()
    except IndexDamaged as err:
        engine.repair(err, tell, on_wait)
    return query()
