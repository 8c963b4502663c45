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
    current = os.path.join(live, rel)
    try:
        if os.stat(current).st_size == len(data):
            with open(current, "rb") as fh:
                same = fh.read() == data
            if same:
                link(out, live, rel)
                return False
    except FileNotFoundError:
        pass
    path = os.path.join(out, rel)
    tmp = path + ".tmp"
    try:
        fh = open(tmp, "wb")
    except FileNotFoundError:  # its folder is not there yet (a folder is made once, not
        os.makedirs(os.path.dirname(path), exist_ok=True)  # checked for every file)
        fh = open(tmp, "wb")
    with fh:
        fh.write(data)
    os.replace(tmp, path)
    return True


def link(out: Path, live: Path, rel: str) -> None:
    """The live site's file, kept: hard-linked into the staging folder."""
    if out != live:
        target = os.path.join(out, rel)
        try:
            os.link(os.path.join(live, rel), target)
        except FileNotFoundError:  # its folder is not there yet (made once, not checked each time)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.link(os.path.join(live, rel), target)
