"""Writing a site into a staged folder, and publishing it with two renames.

The published folder is never half updated: a build stages the new site beside it
(``.<out>.next-<pid>``: unchanged files hard-linked from the live site, changed ones
written, files that are not the builder's carried over), then swaps the two with two
renames. A build killed or stopped by a full disk leaves the previous site as it was;
the next build removes its staging folder (and puts back a site a kill left aside
between the two renames). Where the parent folder cannot be written, it writes in place.

One file is written by :func:`put`, the rule the parent and the partition workers share:
a file whose bytes equal the live site's copy is hard-linked from it (no write); any
other is written beside its final name and renamed into place, so a reader never sees
half a file. With ``out`` == ``live`` (no staging possible) an unchanged file is left
alone. Workers write their partition's files themselves (file creation is a good part of
a build's time, and it runs in parallel there); the parent only counts them
(:meth:`Writer.done`). Files this builder wrote (listed in ``.site-manifest.json``) that
a build no longer produces are removed; nothing else in the output folder is touched.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from archive.config import dead_leftovers
from archive.workers import notice

MANIFEST = ".site-manifest.json"


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


def present(live: Path, files: dict[str, int]) -> bool:
    """Are these files (path -> size) all in the live site with those sizes?"""
    for rel, size in files.items():
        try:
            if (live / rel).stat().st_size != size:
                return False
        except FileNotFoundError:
            return False
    return True


def load_manifest(out: Path) -> dict:
    """What the last build wrote into ``out`` ({} when none did)."""
    try:
        data = json.loads((out / MANIFEST).read_text("utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return {}
    return data if isinstance(data, dict) else {"files": data}


@dataclass
class Tally:
    """What a build's files came to."""
    written: int = 0  # files written (new or changed)
    unchanged: int = 0  # files already up to date
    removed: int = 0  # stale files deleted
    pages: int = 0  # HTML pages produced
    search_files: int = 0  # search data files produced
    exports: int = 0  # reference exports (BibTeX, RIS, CSL-JSON) beside review and reference pages
    bytes_total: int = 0  # size of everything produced
    search_bytes: int = 0
    written_paths: list[str] = field(default_factory=list)


class Writer:
    """Writes the site's files into ``out``: the staging folder of a build, while ``live``
    is the site as published. A file whose bytes are unchanged is hard-linked from the
    live site (no copy, no write), a changed one written; the live site is untouched
    until :func:`swap`. With ``out`` == ``live`` (no staging possible) it writes in place."""

    def __init__(self, out: Path, tally: Tally, live: Path | None = None):
        self.out = out
        self.live = live or out
        self.report = tally
        self.produced: dict[str, int] = {}  # path -> size

    def _count(self, rel: str, size: int) -> None:
        if rel in self.produced:
            raise RuntimeError(f"two outputs for one path: {rel}")
        self.produced[rel] = size
        self.report.bytes_total += size
        if rel.endswith(".html"):
            self.report.pages += 1
        elif rel.startswith("search/"):
            self.report.search_files += 1
            self.report.search_bytes += size
        elif rel.startswith(("reviews/", "refs/")):
            self.report.exports += 1

    def write(self, rel: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.done(rel, len(data), put(self.out, self.live, rel, data))

    def done(self, rel: str, size: int, written: bool) -> None:
        """A file put in place (:func:`put`), here or by a worker."""
        self._count(rel, size)
        if written:
            self.report.written += 1
            self.report.written_paths.append(rel)
        else:
            self.report.unchanged += 1

    def keep(self, files: dict[str, int]) -> None:
        """Files of the previous build that are still right (see :func:`present`)."""
        for rel, size in files.items():
            self._count(rel, size)
            link(self.out, self.live, rel)
            self.report.unchanged += 1

    def finish(self, state: dict) -> None:
        """Carry over what is not the builder's, drop what it no longer produces, and
        write the manifest (``state`` with the list of files)."""
        manifest = self.out / MANIFEST
        old = load_manifest(self.live).get("files", [])
        if self.out != self.live:  # files that are not the builder's travel with the site
            ours = set(old) | set(self.produced) | {MANIFEST}
            for root, _, names in os.walk(self.live):
                for name in names:
                    rel = (Path(root) / name).relative_to(self.live).as_posix()
                    if rel not in ours:
                        link(self.out, self.live, rel)
        for rel in sorted(set(old) - set(self.produced)):
            if self.out != self.live:  # staged: the old file is simply not carried over
                self.report.removed += 1
                continue
            target = (self.out / rel).resolve()
            if self.out.resolve() not in target.parents:
                continue  # never outside the output folder
            try:
                target.unlink()
                self.report.removed += 1
            except FileNotFoundError:
                continue
            _prune_empty_dirs(target.parent, self.out.resolve())
        state = {**state, "files": sorted(self.produced)}
        tmp = manifest.with_name(manifest.name + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, separators=(",", ":")), "utf-8")
        os.replace(tmp, manifest)


def _sibling(out: Path, kind: str, pid: int | None = None) -> Path:
    return out.with_name(f".{out.name}.{kind}-{pid or os.getpid()}")


def stage(out: Path) -> Path | None:
    """A fresh staging folder beside ``out`` (same file system: the swap is two renames);
    None where the parent folder cannot be written (then the build writes in place).
    Stages and swapped-out sites of builds that died are removed, and a site that a
    build killed between its two renames left aside is put back first (said in one line
    on stderr)."""
    out = out.resolve()
    done = []
    for kind in ("next", "prev"):
        for d in sorted(dead_leftovers(out.parent, f".{out.name}.{kind}-*")):
            if kind == "prev" and not out.exists():
                os.rename(d, out)  # killed mid-swap: the previous site is the live one
                done.append(f"put back the site it had moved to {d.name}")
            else:
                shutil.rmtree(d, ignore_errors=True)
                done.append(f"removed {d.name}")
    if done:
        notice(f"cleaned up after a killed site build: {', '.join(done)}")
    folder = _sibling(out, "next")
    try:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    except OSError:
        return None
    return folder


def aside(out: Path) -> Path | None:
    """The site a build killed between its two renames left aside, when ``out`` is
    missing for that reason (:func:`stage` puts it back)."""
    out = out.resolve()
    if out.exists():
        return None
    return next(iter(sorted(dead_leftovers(out.parent, f".{out.name}.prev-*"))), None)


def swap(staged: Path, out: Path) -> None:
    """Publish the staged site: the live one aside, the staged one in its place, then
    the old one removed. A reader sees the old site or the new one, never a mix."""
    out = out.resolve()
    prev = _sibling(out, "prev")
    if out.exists():
        os.rename(out, prev)
    os.rename(staged, out)
    shutil.rmtree(prev, ignore_errors=True)


def _prune_empty_dirs(d: Path, root: Path) -> None:
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent
