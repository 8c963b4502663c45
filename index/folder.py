"""The index folder: where it lives, its manifest, whether it is usable, opening it.

No Whoosh here (a search imports this module): reading goes through
:mod:`index.reader`; :mod:`index.indexer` writes with Whoosh and calls
:func:`write_manifest` after every commit.

What wrote it: ``manifest.json`` is stamped with the Whoosh release that wrote the
index and this project's :data:`FORMAT` (:class:`Stamp`, as Pagefind's index metadata
carries the version its client checks before reading). Every open compares it with
:data:`THIS` before reading a file, and the reader compares the release its table of
contents names: an index of another release or format, or one without a stamp, is
:class:`~index.problems.IndexOutdated` (a kind of :class:`~index.problems.IndexDamaged`,
so what rebuilds a damaged index, :func:`index.ready.ensure_index` and an update,
rebuilds it too), never read as if it were of this one.

Integrity: ``manifest.json`` also holds the size, sha256 and CRC32 of every file, and
each segment has block checksums of its files (``<segment>.crc``,
:class:`index.reader.Checksums`, written here with the manifest). ``check(deep=True)``
verifies sizes and hashes (an update, before it writes, hashes only the files changed
since its last check: :data:`UNCHANGED`) and opens the
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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from archive.errors import Busy, Usage
from index import reader as _reader
from index.problems import IndexOutdated, IndexProblem, unusable  # noqa: F401 (part of this API)

#: The version of this project's part of the index's files, stamped into the manifest
#: with the Whoosh release that wrote them (:class:`Stamp`). Bump it when a change makes
#: an existing index read otherwise: the schema (:mod:`index.schema`), what a document
#: holds (:mod:`index.document`, :mod:`index.texts`), the analysis (:mod:`index.analysis`,
#: :mod:`index.words`), the codec's encoding (:mod:`index.codec`, :mod:`index.encoding`),
#: or what :mod:`index.reader` expects of the files (the block checksums included). An
#: index of another format is refused on open (:class:`IndexOutdated`) and rebuilt where
#: the archive may be written (an update, :func:`index.ready.ensure_index`).
FORMAT = 6
MANIFEST = "manifest.json"
#: ``deep=UNCHANGED``: hash only the files that changed (size, change time or inode)
#: since a writer's deep check last found them matching the manifest. Segment files are
#: never rewritten, so a writer checks what is new, not the whole index again before
#: each commit (at 100,000 reviews 2.4 GB: seconds for every `reviews ingest FILE`,
#: issue 19). Damage no write made (a bad disk) is still found where it is read: a
#: search verifies every block it reads against its segment's checksums.
UNCHANGED = "unchanged"
#: Beside the manifest, the files a writer's deep check found matching it, each as it
#: was then (size, change time, inode): hidden (a dot), not part of the index.
VERIFIED = ".verified.json"
INDEX_DIR = "index"  # inside the data dir
INDEX_NAME = _reader.INDEX_NAME
#: Seconds a writer waits for another's lock before it gives up (unset: as long as it takes).
WAIT_ENV = "REVIEWS_WAIT"
#: Files never rewritten once a segment is committed (the TOC is): Whoosh's, its checksums.
IMMUTABLE = (".seg", ".trm", ".pst", ".vps", ".fdt", ".fdx", ".col", ".cix", ".cmp",
             ".dci", ".dcz", ".fvz", ".lln", ".pos", ".vpi", ".crc")


@dataclass(frozen=True)
class Stamp:
    """What wrote an index: the Whoosh release and this project's :data:`FORMAT`
    (``None``: the manifest does not say, as in an index written before the stamp).
    Only an index of this very stamp is read: the reader reads Whoosh's bytes, so an
    index of any other release or format may read as other terms or documents."""

    whoosh: tuple[int, ...] | None
    format: int | None

    def __str__(self) -> str:
        return f"{_reader.release_name(self.whoosh)} / format {'(unknown)' if self.format is None else self.format}"

    @classmethod
    def of(cls, manifest: dict) -> "Stamp":
        release, fmt = manifest.get("whoosh"), manifest.get("format")
        ok = isinstance(release, list) and len(release) == 3 and all(type(n) is int for n in release)
        return cls(tuple(release) if ok else None, fmt if type(fmt) is int else None)


#: The stamp of the indexes this program reads and writes.
THIS = Stamp(_reader.WHOOSH, FORMAT)


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
    already listed with the same size keeps its checksums.

    A file hashed here matches its manifest entry by construction: once the manifest is
    in place its stamp goes into the writers' record of verified files
    (:func:`_remember`), so the next writer's check (``deep=UNCHANGED``) does not hash it
    again. Without that the first ``reviews ingest FILE`` after a bulk build hashed the
    whole index: 4 GB at 100,000 reviews. (Its stamp is taken before it is read: a file
    changed meanwhile has another change time, and is hashed again.)"""
    try:
        old = json.loads((index_dir / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        old = {}
    _add_checksums(index_dir, _files(index_dir))
    verified, seen = _verified(index_dir), {}
    files = {}
    for f in _files(index_dir):
        st = (index_dir / f).stat()
        size, stamp = st.st_size, _stamp(st)
        known = old.get(f)
        reuse = known and len(known) == 3 and known[0] == size and f.endswith(IMMUTABLE)
        if reuse:
            files[f] = known
            if verified.get(f) == stamp:
                seen[f] = stamp
        else:
            files[f] = [size, *_digests(index_dir / f)]
            seen[f] = stamp
    # The stamp: this format, and the release the table of contents says wrote it.
    release = _reader.read_toc(index_dir, release=None)[1]
    tmp = index_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "whoosh": list(release), "files": files}, indent=0))
    os.replace(tmp, index_dir / MANIFEST)
    _remember(index_dir, seen)


def _check(index_dir: Path, deep: bool | str, probe: bool) -> tuple[IndexProblem | None, dict]:
    """:func:`diagnose`'s answer, and the manifest's files (``{name: [size, sha256,
    crc32]}``; an older manifest's lack the CRC)."""
    if not index_dir.is_dir() or _reader.generation(index_dir) < 0:
        return unusable(index_dir, "missing"), {}
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text())
        files = manifest["files"]
        entries = sorted((name, int(e[0]), str(e[1])) for name, e in files.items())
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return unusable(index_dir, "corrupt (no readable manifest: an indexing run was interrupted?)"), {}
    written = Stamp.of(manifest)
    if written != THIS:  # (before any file is read as this program would read it)
        return IndexOutdated(index_dir, written, THIS), {}
    present = set(_files(index_dir))
    known = _verified(index_dir) if deep == UNCHANGED else {}
    seen = {}
    for name, size, digest in entries:
        if name not in present:
            return unusable(index_dir, f"corrupt (file {name} is missing)"), files
        st = (index_dir / name).stat()
        if st.st_size != size:
            return unusable(index_dir, f"corrupt (file {name} changed size)"), files
        seen[name] = _stamp(st)
        if deep and known.get(name) != seen[name] and _digests(index_dir / name, crc=False)[0] != digest:
            return unusable(index_dir, f"corrupt (file {name} does not match its checksum)"), files
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
        return _unreadable(index_dir, err, written), files
    if deep == UNCHANGED:
        _remember(index_dir, seen)
    return None, files


def _stamp(st: os.stat_result) -> list[int]:
    """What says a file is the one verified before: size, change time, inode."""
    return [st.st_size, st.st_ctime_ns, st.st_ino]


def _verified(index_dir: Path) -> dict[str, list[int]]:
    try:
        found = json.loads((index_dir / VERIFIED).read_text())
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(index_dir: Path, seen: dict[str, list[int]]) -> None:
    """Note the files just verified as they are now (a folder that cannot be written
    is verified in full next time)."""
    try:
        tmp = index_dir / (VERIFIED + ".tmp")
        tmp.write_text(json.dumps(seen))
        os.replace(tmp, index_dir / VERIFIED)
    except OSError:
        pass


def _unreadable(index_dir: Path, err: Exception, written: Stamp) -> IndexProblem:
    """The problem of an index that would not open: another release's table of
    contents under a manifest that claims this one, or a corrupt index."""
    if isinstance(err, _reader.ReleaseError):
        return IndexOutdated(index_dir, Stamp(err.release, written.format), THIS)
    return unusable(index_dir, f"corrupt ({type(err).__name__}: {err})")


def _crcs(files: dict) -> dict[str, int]:
    return {name: e[2] for name, e in files.items() if len(e) > 2 and isinstance(e[2], int)}


def diagnose(index_dir: str | Path, deep: bool | str = True, probe: bool = True) -> IndexProblem | None:
    """``None`` if the index looks healthy, else what is wrong as the error to raise:
    :class:`IndexOutdated` for an index of another Whoosh release or format (or one
    that does not say), else an :class:`IndexProblem` (missing, corrupt).

    ``deep`` also compares checksums (:data:`UNCHANGED`: of the files changed since a
    writer's check last found them matching); ``probe`` opens it (a search skips that: it
    opens the index anyway, and any error then leads to a deep check).
    """
    return _check(Path(index_dir), deep, probe)[0]


def check(index_dir: str | Path, deep: bool | str = True, probe: bool = True) -> str | None:
    """:func:`diagnose`, said in one line (``None``: healthy)."""
    found = diagnose(index_dir, deep, probe)
    return found.problem if found else None


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
    CRC of the table of contents and each segment's block checksums), or
    :class:`IndexOutdated` if another Whoosh release or format wrote it."""
    index_dir = Path(index_dir)
    found, files = _check(index_dir, deep=False, probe=False)
    if found is None:
        try:
            return _Reader(index_dir, crcs=_crcs(files))
        except (OSError, _reader.FormatError) as err:
            found = _unreadable(index_dir, err, THIS)
    raise found
