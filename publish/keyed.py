"""Listing pages kept from the last build when what they show did not change.

At 100,000 reviews the site holds ~85,000 reference pages (each with its three
exports), tens of thousands of topic pages and hundreds of pages of the reference
table. Rendering all of them to find the few whose bytes changed made a rebuild after
one new review take minutes: a page's SQL, its template and a read of the live file to
compare. Each such page now has a *key*, a hash of everything it shows (which reviews,
in which versions; the counts and titles of a table's rows), computed from the catalog
without rendering; the manifest keeps the keys of the last build (``lists``: path ->
[key, size]). A page whose key is unchanged and whose file is still in the live site
with its size is hard-linked as it is; any other is rendered and written. The build
fingerprint is part of every key (a changed template or code renders them all again).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from .files import Writer


def key_of(*parts: object) -> str:
    """A short key of what a page shows (``repr`` of each part, in order)."""
    h = hashlib.sha1()
    for p in parts:
        h.update(repr(p).encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()[:16]


class Keyed:
    """The keys of the last build's listing pages, and those of this build's."""

    def __init__(self, writer: Writer, build: str, last: dict[str, list]):
        self.writer = writer
        self.build = build
        self.last = last
        self.now: dict[str, str] = {}

    def kept(self, paths: Iterable[str], *parts: object) -> bool:
        """True when the pages ``paths`` show what their key says as the last build
        wrote them: they are carried over (nothing rendered). False: the caller renders
        and writes them; their key is recorded either way."""
        paths = list(paths)
        key = key_of(self.build, *parts)
        for p in paths:
            self.now[p] = key
        live = self.writer.live
        sizes = {}
        for p in paths:
            old = self.last.get(p)
            if not old or old[0] != key or not _has(live, p, old[1]):
                return False
            sizes[p] = old[1]
        self.writer.keep(sizes)
        return True

    def state(self) -> dict[str, list]:
        """For the manifest: path -> [key, size] of the keyed pages this build produced."""
        produced = self.writer.produced
        return {p: [k, produced[p]] for p, k in self.now.items() if p in produced}


def _has(live: Path, rel: str, size: int) -> bool:
    try:
        return os.stat(os.path.join(live, rel)).st_size == size
    except OSError:
        return False
