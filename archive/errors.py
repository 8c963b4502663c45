"""Errors the archive API raises, and the exit codes of `reviews`, both defined here once.

Every :class:`ArchiveError` class carries ``exit_code``: the status the CLI ends with
when that error ends a command, so that a script can tell a refused file from a full disk
or a read-only archive without reading the message. :data:`EXIT_CODES` is the table the
README and docs/cli.md show (docs/make_cli_reference.py writes it, tests/test_docs.py
checks both), and :func:`exit_code` classifies the errors that do not come from this
code (OSError by its errno, SQLite's by its result code).
"""
from __future__ import annotations

OK, FINDINGS, USAGE, DISK_FULL, READ_ONLY, BUSY, UNREACHABLE, FAILED = 0, 1, 2, 3, 4, 5, 6, 7
INTERRUPTED = 130  # as a shell reports a process that SIGINT ended (128 + 2)

#: ``(code, name, meaning)``, the one table of exit codes.
EXIT_CODES: tuple[tuple[int, str, str], ...] = (
    (OK, "success", "done as asked (also when the program reading the output stopped early, "
     "as `head` does)"),
    (FINDINGS, "findings", "the command ran and found something to act on: `ingest` refused "
     "files (each named on stderr with the reason; every good record is stored), "
     "`check --strict` found defects, `verify` found a problem, `purge` was answered no"),
    (USAGE, "usage error", "the command line is wrong (click's convention): an unknown option, "
     "a bad value (a date not YYYY-MM-DD, a number out of range), a query that does not parse, "
     "a review id, section, flag or work that the archive does not hold (or that matches "
     "several), a folder (--data-dir, $REVIEWS_DATA) that holds no archive, `purge` off a "
     "terminal without --yes"),
    (DISK_FULL, "disk full", "the disk or the quota filled up: what was stored before stays; "
     "free some space and run the same command again"),
    (READ_ONLY, "read-only", "the archive, the index or an output is on a read-only file system "
     "or in a folder this user may not write (or read)"),
    (BUSY, "busy or damaged", "another process holds what the command needs: the search index "
     "(an indexing run, waited for as long as $REVIEWS_WAIT allows) or the port `serve` "
     "wants; or the archive or the index is damaged, or of a newer version"),
    (UNREACHABLE, "cluster unreachable", "no node of the search cluster answered (the "
     "OpenSearch backend)"),
    (FAILED, "other failure", "anything else: an I/O error of another kind, or an internal error "
     "(a bug: `REVIEWS_DEBUG=1` shows its traceback; please report it)"),
    (INTERRUPTED, "interrupted", "Ctrl+C (an interrupted ingest or reindex keeps what it "
     "finished; run it again)"),
)


class ArchiveError(Exception):
    """Base class: ``str(err)`` is a complete message a user can act on."""

    exit_code = FAILED


class Usage(ArchiveError):
    """The user asked for something that cannot be: a bad value, an unknown name."""

    exit_code = USAGE


class RefusedInput(ArchiveError):
    """A file that is not a callback record, with the reason."""

    exit_code = FINDINGS

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class NotFound(Usage):
    pass


class Ambiguous(Usage):
    def __init__(self, prefix: str, matches: list[str]):
        shown = ", ".join(matches[:10]) + (" ..." if len(matches) > 10 else "")
        super().__init__(f"id prefix {prefix!r} matches {len(matches)} reviews: {shown}")
        self.prefix = prefix
        self.matches = matches


class DiskFull(ArchiveError):
    """The disk filled up; ``str()`` says how far the command got."""

    exit_code = DISK_FULL


class ReadOnly(ArchiveError):
    """The archive (or an output) cannot be written here."""

    exit_code = READ_ONLY


class Busy(ArchiveError):
    """Another process holds the index (or the port) longer than this one may wait."""

    exit_code = BUSY


class Damaged(ArchiveError):
    """The archive or the index cannot be read as one (damaged, or of a newer version)."""

    exit_code = BUSY


class Unreachable(ArchiveError):
    """No node of the search cluster could be reached; ``str()`` names them and why."""

    exit_code = UNREACHABLE


# SQLite's primary result codes (the low byte of sqlite3.Error.sqlite_errorcode)
_SQLITE = {13: DISK_FULL,  # SQLITE_FULL
           8: READ_ONLY, 3: READ_ONLY,  # SQLITE_READONLY, SQLITE_PERM
           5: BUSY, 6: BUSY, 11: BUSY, 26: BUSY}  # BUSY, LOCKED, CORRUPT, NOTADB
#: SQLITE_IOERR_SHMSIZE: the WAL's shared-memory file could not grow. On a full disk
#: SQLite says this when it opens the archive, before any write could say SQLITE_FULL.
_SQLITE_EXTENDED = {4874: DISK_FULL}
_ERRNO_NAMES = {DISK_FULL: ("ENOSPC", "EDQUOT", "EFBIG"),
                READ_ONLY: ("EACCES", "EPERM", "EROFS"),
                BUSY: ("EADDRINUSE",)}


def exit_code(err: BaseException, where: str | None = None) -> int:
    """The exit code for an error that ends a command (see :data:`EXIT_CODES`). With
    ``where`` (the archive's folder), SQLite's I/O errors there count as a full disk
    when its file system has no room left (SQLite does not pass on the errno)."""
    if isinstance(err, ArchiveError):
        return err.exit_code
    if isinstance(err, OSError):
        import errno

        for code, names in _ERRNO_NAMES.items():
            if err.errno in {getattr(errno, n, None) for n in names} - {None}:
                return code
        return FAILED
    sqlite_code = getattr(err, "sqlite_errorcode", None)  # sqlite3.Error (Python 3.11+)
    if isinstance(sqlite_code, int):
        code = _SQLITE_EXTENDED.get(sqlite_code) or _SQLITE.get(sqlite_code & 0xFF, FAILED)
        if code == FAILED and sqlite_code & 0xFF == 10 and where and _no_room(where):  # IOERR
            return DISK_FULL
        return code
    return FAILED


def _no_room(folder: str) -> bool:
    import os

    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024
