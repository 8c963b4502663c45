"""How a command fails: one line on stderr and the exit code of its kind
(:data:`archive.errors.EXIT_CODES`), never a traceback."""
from __future__ import annotations

import os
import sys

import click

from archive.errors import DISK_FULL, FAILED, INTERRUPTED, OK, ArchiveError, exit_code as code_of
from shell.output import plain


class Failure(click.ClickException):
    """One line on stderr, and the exit code of its kind (``archive.errors.EXIT_CODES``):
    the one way a command fails. The message may name a file or quote a record, so it is
    shown through :func:`shell.output.plain`."""

    def __init__(self, message: str, exit_code: int = FAILED):
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def of(cls, err: BaseException, message: str | None = None) -> "Failure":
        """``err`` (an ArchiveError, an OSError...) as a Failure with its exit code."""
        return cls(str(err) if message is None else message, code_of(err))

    def format_message(self) -> str:
        return plain(self.message)


def disk_full(detail: str = "") -> str:
    return f"the disk is full{detail}; free some space and run the command again"


class ArchiveGroup(click.Group):
    """Turns API errors into one-line messages with their exit codes instead of
    tracebacks; anything else unexpected too (``REVIEWS_DEBUG=1`` shows its traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArchiveError as e:
            raise Failure.of(e) from None
        except BrokenPipeError:  # `reviews ... | head`: the reader left; stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(OK)
        except OSError as e:
            if code_of(e) == DISK_FULL:
                raise Failure(disk_full(f" (writing {e.filename})" if e.filename else ""),
                              DISK_FULL) from None
            raise Failure.of(e, f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from None
        except KeyboardInterrupt:
            raise Failure("interrupted", INTERRUPTED) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - a bug: one line, not a traceback
            where = ctx.meta.get("data_dir") or os.environ.get("REVIEWS_DATA")
            code = code_of(e, where)  # SQLite's errors carry their kind
            if code == DISK_FULL:
                raise Failure(disk_full() + " (what was written before is kept)", code) from None
            if code != FAILED:
                raise Failure(f"{where or 'the archive'}: {e} (SQLite)", code) from None
            if os.environ.get("REVIEWS_DEBUG"):
                raise
            raise Failure(
                f"internal error ({type(e).__name__}: {e}); run again with REVIEWS_DEBUG=1 "
                "for the details, and please report it") from None
