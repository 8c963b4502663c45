"""Errors the archive API raises; the CLI turns each into one line for the user."""
from __future__ import annotations


class ArchiveError(Exception):
    """Base class: ``str(err)`` is a complete message a user can act on."""


class RefusedInput(ArchiveError):
    """A file that is not a callback record, with the reason."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class NotFound(ArchiveError):
    pass


class Ambiguous(ArchiveError):
    def __init__(self, prefix: str, matches: list[str]):
        shown = ", ".join(matches[:10]) + (" ..." if len(matches) > 10 else "")
        super().__init__(f"id prefix {prefix!r} matches {len(matches)} reviews: {shown}")
        self.prefix = prefix
        self.matches = matches
