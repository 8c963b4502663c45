"""The index folder: where it lives, its manifest, whether it is usable, opening it.

No Whoosh here (a search imports this module): reading goes through
:mod:`index.reader`; :mod:`index.indexer` writes with Whoosh and calls
:func:`write_manifest` after every commit.

Integrity: ``manifest.json`` holds the index format and the size, sha256 and CRC32 of
every file, and each segment has block checksums of its files (``<segment>.crc``,
:class:`index.reader.Checksums`, written here with the manifest). ``check(deep=True)``
(used by update and rebuild, before they write) verifies sizes and hashes and opens the
index with this project's reader and with Whoosh; ``deep=False`` (used by every search,
which never hashes the index) verifies presence and sizes only. The reader a search
opens verifies what it reads: the table of contents against its CRC here, every other
block against its segment's checksums, so damage is reported as a corrupt index
(:class:`~index.problems.IndexDamaged`, which says to run ``reviews reindex``;
:func:`index.ready.ensure_index` rebuilds it where the archive may be written, and says
so) instead of read on as a wrong answer.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from archive.errors import Busy, Usage
from index import reader as _reader
from index.problems import IndexProblem, unusable  # noqa: F401 (part of this API)

#: Bump when the schema or the analysis changes: an index of another format is rebuilt.
FORMAT = 4
MANIFEST = "manifest.json"
INDEX_DIR = "index"  # inside the data dir
INDEX_NAME = _reader.INDEX_NAME
#: Seconds a writer waits for another's lock before it gives up (unset: as long as it takes).
WAIT_ENV = "REVIEWS_WAIT"
#: Files never rewritten once a segment is committed (the TOC is): Whoosh's, its checksums.
IMMUTABLE = (".seg", ".trm", ".pst", ".vps", ".fdt", ".fdx", ".col", ".cix", ".cmp",
             ".dci", ".dcz", ".fvz", ".lln", ".pos", ".vpi", ".crc")


def index_dir(data_dir: str | Path) -> Path:
    """Where the index of the archive in ``data_dir`` lives."""
    return Path(data_dir) / INDEX_DIR


def lock_path(index_dir: str | Path) -> Path:
    """The writers' lock beside the index (``index.lock``: see ``index.indexer``)."""
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + ".lock")


def _incoming_path(index_dir: str | Path) -> Path:
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + ".incoming")


@contextmanager
def storing(index_dir: str | Path) -> Iterator[None]:
    """Mark a run that stores reviews and indexes them next (an ingest) as live for its
    whole length: a shared ``flock`` on ``index.incoming`` (any number of ingests at
    once), so that a search can tell reviews on their way into the index from reviews a
    stopped run left out. Without a writable folder there is no mark (and no ingest)."""
    import fcntl

    try:
        fd = os.open(_incoming_path(index_dir), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases it


def indexing_live(index_dir: str | Path) -> bool:
    """Is an indexing run at work now: a writer holding the index's lock, or an ingest
    (:func:`storing`)? Asked with non-blocking ``flock``s released at once, so neither
    kind of run waits on the question for more than an instant."""
    import fcntl

    def held(path: Path, probe: int) -> bool:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # no such file: no such run ever began here
            return False
        try:
            fcntl.flock(fd, probe | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # (releases the probe's lock, if it got it)
        return False

    return held(lock_path(index_dir), fcntl.LOCK_SH) or held(_incoming_path(index_dir), fcntl.LOCK_EX)


def take_lock(fd: int, index_dir: str | Path, on_wait=None) -> None:
    """``flock`` the open lock file ``fd`` exclusively. When another run holds it,
    ``on_wait()`` is told and this waits: as long as it takes, or at most $REVIEWS_WAIT
    seconds, then :class:`~archive.errors.Busy` (so that a scheduled job does not queue up
    behind a stuck run forever)."""
    import fcntl
    import time

    limit = os.environ.get(WAIT_ENV, "").strip()
    try:
        seconds = float(limit) if limit else None
    except ValueError:
        raise Usage(f"{WAIT_ENV} {limit!r}: expected a number of seconds") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    if on_wait:
        on_wait()
    if seconds is None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # interruptible (Ctrl+C)
        return
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise Busy(f"the search index at {index_dir} is being written by another "
                           f"indexing run (it holds {lock_path(index_dir)}, waited for {seconds:g} s: "
                           f"the {WAIT_ENV} limit); run the command again once it is done") from None
            time.sleep(0.05)


def _files(index_dir: Path) -> list[str]:
    return sorted(
        f for f in os.listdir(index_dir)
        if f != MANIFEST and not f.endswith("LOCK") and not f.startswith(".")
    )


def _digests(path: Path, crc: bool = True) -> tuple[str, int]:
    """The sha256 (deep checks) and, with ``crc``, the CRC32 (a search's check of a file
    it reads whole) of a file, in one read."""
    import hashlib  # (deep checks and writers only: a search never hashes the index)
    import zlib

    h, c = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            if crc:
                c = zlib.crc32(block, c)
    return h.hexdigest(), c


def _add_checksums(index_dir: Path, names: list[str]) -> None:
    """Write the block checksums (:class:`index.reader.Checksums`) of every segment
    that has none yet: its files are complete, a commit wrote them and none changes
    again. Whoosh deletes the file with its segment (it is named like the segment's)."""
    for stale in index_dir.glob(f".*{_reader.CHECKSUMS}.tmp"):  # (a writer killed here)
        stale.unlink(missing_ok=True)
    segments: dict[str, list[str]] = {}
    for name in names:
        stem, dot, ext = name.partition(".")
        if dot and stem.startswith(INDEX_NAME + "_"):
            segments.setdefault(stem, []).append("." + ext)
    for stem, exts in sorted(segments.items()):
        if _reader.CHECKSUMS in exts:
            continue
        files = [(ext, *_reader.block_crcs(index_dir / (stem + ext), _reader.BLOCK))
                 for ext in sorted(exts)]
        tmp = index_dir / f".{stem}{_reader.CHECKSUMS}.tmp"  # (a dot: neither Whoosh's nor listed)
        tmp.write_bytes(_reader.Checksums.pack(files, _reader.BLOCK))
        os.replace(tmp, index_dir / (stem + _reader.CHECKSUMS))


def write_manifest(index_dir: Path) -> None:
    """Sizes and checksums of the index files: ``[size, sha256, crc32]`` each; first the
    block checksums of new segments. Segment files never change once written, so a file
    already listed with the same size keeps its checksums."""
    try:
        old = json.loads((index_dir / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        old = {}
    _add_checksums(index_dir, _files(index_dir))
    files = {}
    for f in _files(index_dir):
        size = (index_dir / f).stat().st_size
        known = old.get(f)
        reuse = known and len(known) == 3 and known[0] == size and f.endswith(IMMUTABLE)
        files[f] = known if reuse else [size, *_digests(index_dir / f)]
    tmp = index_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "files": files}, indent=0))
    os.replace(tmp, index_dir / MANIFEST)


def _check(index_dir: Path, deep: bool, probe: bool) -> tuple[str | None, dict]:
    """:func:`check`'s answer, and the manifest's files (``{name: [size, sha256,
    crc32]}``; an older manifest's lack the CRC)."""
    if not index_dir.is_dir() or _reader.generation(index_dir) < 0:
        return "missing", {}
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text())
        files = manifest["files"]
        entries = sorted((name, int(e[0]), str(e[1])) for name, e in files.items())
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return "corrupt (no readable manifest: an indexing run was interrupted?)", {}
    if manifest.get("format") != FORMAT:
        return f"of an older format ({manifest.get('format')}, now {FORMAT})", {}
    present = set(_files(index_dir))
    for name, size, digest in entries:
        if name not in present:
            return f"corrupt (file {name} is missing)", files
        if (index_dir / name).stat().st_size != size:
            return f"corrupt (file {name} changed size)", files
        if deep and _digests(index_dir / name, crc=False)[0] != digest:
            return f"corrupt (file {name} does not match its checksum)", files
    # Files the manifest does not list are a running writer's, or a stopped one's
    # leftovers (Whoosh deletes unreferenced files at its next commit): not corruption.
    if not probe:
        return None, files
    try:
        with _reader.IndexReader(index_dir, crcs=_crcs(files)) as r:
            r.doc_count()
        from whoosh import index as windex  # (the writer's view: deep checks only)

        with windex.open_dir(str(index_dir), indexname=INDEX_NAME).reader() as r:
            r.doc_count()
    except Exception as err:  # noqa: BLE001 - any failure to read means unusable
        return f"corrupt ({type(err).__name__}: {err})", files
    return None, files


def _crcs(files: dict) -> dict[str, int]:
    return {name: e[2] for name, e in files.items() if len(e) > 2 and isinstance(e[2], int)}


def check(index_dir: str | Path, deep: bool = True, probe: bool = True) -> str | None:
    """``None`` if the index looks healthy, else what is wrong (one line).

    ``deep`` also compares checksums; ``probe`` opens it (a search skips that: it
    opens the index anyway, and any error then leads to a deep check).
    """
    return _check(Path(index_dir), deep, probe)[0]


class _Reader(_reader.IndexReader):
    """The reader :func:`open_reader` gives: damage it meets while open (a block that
    does not match its checksum, bytes it cannot read as what they should be) leaves
    its ``with`` block as :class:`~index.problems.IndexDamaged`, which says to rebuild
    the index (and which :func:`index.ready.read` answers by rebuilding it), not as an
    internal error."""

    def __exit__(self, kind, err, tb):
        self.close()
        if isinstance(err, _reader.FormatError):
            raise unusable(self.folder, f"corrupt ({err})") from err


def open_reader(index_dir: str | Path) -> _reader.IndexReader:
    """Open the index for reading; raise :class:`IndexProblem` if it is unusable (sizes
    checked, not checksums: the reader verifies what it reads against the manifest's
    CRC of the table of contents and each segment's block checksums)."""
    index_dir = Path(index_dir)
    problem, files = _check(index_dir, deep=False, probe=False)
    if problem is None:
        try:
            return _Reader(index_dir, crcs=_crcs(files))
        except (OSError, _reader.FormatError) as err:
            problem = f"corrupt ({type(err).__name__}: {err})"
    raise unusable(index_dir, problem)
