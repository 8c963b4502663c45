"""The archive connection a command gets: one that may write for the commands that
change the archive, one that cannot for those that only read (so that they answer on
a read-only copy, and can never change what they read)."""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from archive.config import archive_path, data_dir as resolve_data_dir
from shell.indexing import cluster_mode

if TYPE_CHECKING:
    from archive.store import Store


def open_store(data_dir: Path | None, create: bool = False) -> "Store":
    """The archive for a command that writes (``create``: an ingest may make it)."""
    from archive.store import Store

    return Store.open(resolve_data_dir(data_dir, create=create))


def read_store(data_dir: Path | None) -> "Store":
    """The archive for a command that only reads: a connection that cannot write
    (:meth:`archive.store.Store.open` with ``read_only``)."""
    from archive.store import Store

    return Store.open(resolve_data_dir(data_dir), read_only=True)


def local_read_store(directory: Path):
    """:func:`read_store`, or None when a host searching a cluster has no archive."""
    from archive.store import Store

    if cluster_mode() and not archive_path(directory).exists():
        return nullcontext()
    return Store.open(directory, read_only=True)
