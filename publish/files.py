"""Writing one file of a staged site: the one rule the parent and the partition workers share.

A file whose bytes equal the live site's copy is hard-linked from it (no write); any
other is written beside its final name and renamed into place, so a reader never sees
half a file. With ``out`` == ``live`` (no staging possible) an unchanged file is left
alone. Workers write their partition's files themselves (file creation is a good part of
a build's time, and it runs in parallel there); the parent only counts them.
"""
from __future__ import annotations

import os
from pathlib import Path


def put(out: Path, live: Path, rel: str, data: bytes) -> bool:
    """Make ``out/rel`` hold ``data``; True when it was written, False when the live
    site's file was kept (hard-linked into ``out``)."""
    try:
        current = live / rel
        if current.stat().st_size == len(data) and current.read_bytes() == data:
            link(out, live, rel)
            return False
    except FileNotFoundError:
        pass
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def link(out: Path, live: Path, rel: str) -> None:
    """The live site's file, kept: hard-linked into the staging folder."""
    if out != live:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(live / rel, target)
