"""Worker processes that end with their command, and a writer lock they cannot keep.

Why this module: a bulk index build and a site build fork worker processes, and a forked
process inherits every descriptor of its parent: the index's writer lock, Whoosh's write
lock, both ends of the pool's pipes. When the parent is killed (kill -9, the OOM killer),
plain workers live on, waiting for ever on a queue nobody will write to again, and keep
the lock, so every later ingest would wait for ever too. Three defences:

- :func:`pool`: a fork :class:`~concurrent.futures.ProcessPoolExecutor` whose workers,
  first thing after the fork, ask the kernel for SIGKILL when their parent dies (Linux
  ``prctl(PR_SET_PDEATHSIG)``), then check that their parent is still the process that
  forked them (it may have died before they asked). Without prctl, a thread in each
  worker watches ``getppid()``.
- :func:`private`: descriptors that a forked child closes at once (``os.register_at_fork``),
  so that no child ever holds a lock of its parent's, whatever forked it.
- :func:`exclusive`: the writer lock (``flock``), with its holder's pid, start time, host
  and pid namespace written in the lock file. A lock still held although its holder is
  gone (held by processes that inherited it: workers of an older version, a helper
  started with it) is taken over: the file is replaced by a fresh one, which the leftover
  processes do not hold. A holder that is alive, or that this process cannot judge
  (another host, another container), is waited for, never taken over.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from archive.config import pid_alive

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# -- descriptors a child must not keep ------------------------------------------------

_PRIVATE: set[int] = set()


def _close_private() -> None:
    for fd in _PRIVATE:
        try:
            os.close(fd)  # the child's copy only: a flock stays with the parent's descriptor
        except OSError:
            pass
    _PRIVATE.clear()


os.register_at_fork(after_in_child=_close_private)


@contextmanager
def private(fd: int) -> Iterator[int]:
    """While in this block, a process forked from this one closes ``fd`` at once."""
    _PRIVATE.add(fd)
    try:
        yield fd
    finally:
        _PRIVATE.discard(fd)


# -- workers that end with their parent -------------------------------------------------

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_EVERY = 0.5  # seconds, where the kernel cannot signal a parent's death


def _death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # noqa: PLC0415 (in a worker only)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_EVERY)
    os._exit(1)


def _tie_to_parent(parent: int, initializer: Callable | None, initargs: tuple) -> None:
    """A pool worker's first act: end when ``parent`` ends. (The death signal is asked
    for before the check, so a parent that dies between the two is still noticed.)"""
    armed = _death_signal()
    if os.getppid() != parent:  # it died before we asked: we were given to init already
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                         name="watch-parent").start()
    if initializer is not None:
        initializer(*initargs)


def pool(workers: int, initializer: Callable | None = None,
         initargs: tuple = (), fresh: bool = False) -> ProcessPoolExecutor:
    """A pool of ``workers`` forked processes that end within moments of this process
    (however it ends: killed too). The fork start method (where there is one): workers
    share what the parent read before (no pickling of tables), and a pool of it forks all its
    workers on the first submit, from the submitting thread: create and use it from the
    main thread (the kernel's death signal follows the thread that forked).

    ``fresh``: new interpreters instead (spawn), for work that calls a library whose
    thread pool does not survive a fork (rensa's Rayon pool: a forked child waits for
    ever on threads that exist only in its parent, once the parent has used it)."""
    import multiprocessing  # noqa: PLC0415 (bulk work only)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and not fresh else "spawn"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_tie_to_parent,
                               initargs=(os.getpid(), initializer, initargs))


# -- the writer lock ----------------------------------------------------------------------


def _start_time(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot, Linux), "-" where unknown; with the
    pid it names one process, not whichever later reuses its number."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "-"


def _namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").replace(" ", "")
    except OSError:
        return "-"


def _gone_holder(fd: int) -> int | None:
    """The pid the lock file names, when that process is certainly gone; else None
    (alive, reused pid of an unknown start, another host or pid namespace, no record)."""
    try:
        pid, start, host, ns = os.pread(fd, 512, 0).decode().split()
        pid = int(pid)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if host != socket.gethostname() or ns != _namespace():
        return None
    if not pid_alive(pid):
        return pid
    now = _start_time(pid)
    return pid if start != "-" and now not in ("-", start) else None


def _write_holder(fd: int) -> None:
    me = os.getpid()
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{me} {_start_time(me)} {socket.gethostname()} {_namespace()}\n".encode(), 0)


@contextmanager
def _guard(path: Path) -> Iterator[None]:
    """A short lock (``<lock>.guard``) around every look at the lock and every change of
    its holder record or of the file itself: a holder counts only once it has written its
    record on the current file under it, and two commands never both take over."""
    import fcntl  # noqa: PLC0415

    fd = os.open(path.with_name(path.name + ".guard"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        with private(fd):
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
    finally:
        os.close(fd)


def _try(path: Path) -> tuple[int, bool, int | None]:
    """Under the guard: ``(fd, True, None)`` when the lock is taken, ``(fd, True, pid)``
    when it was taken over from the gone process ``pid``, ``(fd, False, None)`` when a
    holder keeps it (``fd`` open on the lock file, to wait on)."""
    import fcntl  # noqa: PLC0415

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        gone = _gone_holder(fd)
        if gone is None:
            return fd, False, None
        # Processes that inherited the lock keep it on the old file; a new file at the
        # same path is a lock nobody holds (every try opens the path under the guard).
        os.close(fd)
        os.unlink(path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _write_holder(fd)
        return fd, True, gone
    _write_holder(fd)
    return fd, True, None


def _current(fd: int, path: Path) -> bool:
    """Is ``fd`` still the file at ``path`` (not replaced by a take-over meanwhile)?"""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _block(fd: int) -> None:
    import fcntl  # noqa: PLC0415

    fcntl.flock(fd, fcntl.LOCK_EX)


@contextmanager
def exclusive(path: str | Path, wait: Callable[[int], None] = _block) -> Iterator[int | None]:
    """Hold the writer lock ``path`` (an exclusive ``flock``; not re-entrant); yields the
    pid of a gone holder whose lock it took over, else None. While a live holder keeps
    it, ``wait(fd)`` returns once it has ``flock``ed ``fd`` (or raises: Ctrl+C, a time
    limit). The OS releases the lock if this process dies, and no child of it holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        with _guard(path):
            fd, held, gone = _try(path)
        if held:
            break
        try:
            wait(fd)
            with _guard(path):
                if _current(fd, path):
                    _write_holder(fd)
                    break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # taken over meanwhile: the lock is the new file now
    try:
        with private(fd):
            yield gone
    finally:
        try:
            os.ftruncate(fd, 0)  # no holder any more (the lock itself goes with the close)
        finally:
            os.close(fd)


def notice(line: str) -> None:
    """One line on stderr about what a command found and cleaned up after a killed one.
    Written here, not passed up: whichever command meets the leftovers first (ingest,
    reindex, search, similar, site) says it, and none of them has to carry it."""
    print(line, file=sys.stderr, flush=True)
