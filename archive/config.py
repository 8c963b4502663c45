"""Where the archive lives: ``--data-dir`` > ``$REVIEWS_DATA`` > the platform's data dir."""
from __future__ import annotations

import os
from pathlib import Path

from archive.errors import Usage

APP_NAME = "review-archive"
ENV_VAR = "REVIEWS_DATA"
ARCHIVE_FILE = "archive.sqlite3"


def data_dir(explicit: str | Path | None = None, create: bool = False) -> Path:
    """The data directory. The per-user default is created silently; a folder the user
    named (``--data-dir``, ``$REVIEWS_DATA``) only with ``create`` (an ingest), and a
    command that only reads is told there is no archive there, instead of making one
    in, say, the folder of the records."""
    named = explicit or os.environ.get(ENV_VAR)
    if named:
        path = Path(named).expanduser()
        if create:
            path.mkdir(parents=True, exist_ok=True)
        elif not archive_path(path).is_file():
            raise NoArchive(f"no archive at {path} (`reviews ingest --data-dir {path} FILES` "
                            "makes one there)")
        return path
    import platformdirs  # only here: most commands are given the folder

    path = Path(platformdirs.user_data_dir(APP_NAME)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


class NoArchive(Usage):
    """A folder the user named holds no archive."""


def archive_path(directory: str | Path) -> Path:
    return Path(directory) / ARCHIVE_FILE


def dead_leftovers(folder: Path, pattern: str):
    """Entries of ``folder`` matching ``pattern`` whose name ends in ``-<pid>`` of a
    process that is gone (not this one): a killed build's folders, safe to remove."""
    for path in folder.glob(pattern):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            yield path


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` still running? (Leftovers named after a dead process's pid,
    such as a killed build's folders, may be removed.) A zombie is not: it holds nothing
    any more, and one whose parent is gone too may never be reaped (in a container)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):  # no /proc here (or it just ended)
        return True
