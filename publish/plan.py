"""What a site build will do, and why, decided before anything is written.

Reviews are cut into partitions of ``block`` in the order they were first added
(:mod:`publish.partitions`). Each partition gets one of three decisions, with the reason:

- **kept**: its ``(uuid, version)`` list and the build fingerprint are those of the last
  build, its files are all in the site and its search data is in the cache: nothing is
  computed, its files are carried over;
- **pages only**: as kept, but some review pages show something else now (their related
  reviews changed: a new review elsewhere can change a list) or are missing: those pages
  are rendered again, the search data is kept;
- **rebuilt**: its search data and catalog state are computed again (new, changed or
  moved reviews, another build fingerprint, files or cache missing); within it only the
  review pages whose page key changed are rendered again.

The archive-wide search files are kept when no partition key changed. Listing pages and
static files are produced by every build and written where their bytes changed.

Making a plan reads the archive, the last build's manifest, the live site and the cache,
and computes the related reviews when the cache does not hold them; it writes nothing,
so ``reviews site --dry-run`` shows it and :func:`publish.site.build_site` applies it.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.errors import Usage

from . import urls
from .cache import SiteCache
from .files import MANIFEST, load_manifest, present
from .partitions import fingerprint, partition_key
from .resources import TEMPLATES

KEPT, PAGES, REBUILT = "kept", "pages only", "rebuilt"

#: Related reviews listed on a review's page
RELATED = 5


@dataclass
class Part:
    """One partition's decision."""
    pid: int
    items: list[tuple[str, str]]  # (uuid, version id) of its reviews, in order
    key: str
    action: str  # KEPT, PAGES or REBUILT
    reason: str
    render: set[str] = field(default_factory=set)  # uuids whose review page is rendered


@dataclass
class Plan:
    """What a build of ``out`` does: per partition (:class:`Part`) and for the files
    the whole archive shares."""
    out: Path
    build: str  # the build fingerprint and the partition size
    block: int
    items: list[tuple[str, str]]  # every current review, in the order first added
    parts: list[Part]
    search: tuple[str, str]  # the archive-wide search files: (KEPT or REBUILT, reason)
    search_key: str
    related: dict[str, list] | None  # every review's related reviews (None: not known)
    related_key: str
    related_computed: bool  # computed now (the build saves them to the cache)
    page_keys: dict[str, str]  # uuid -> what its page shows (version, related reviews)
    dupes: list  # the groups of near-duplicate reviews (index.dupes.Group)
    near: dict[str, list]  # uuid -> the reviews of its group (index.dupes.near)
    removed: list[str]  # uuids of the review pages the last build wrote that go
    static: list[str]  # static files that differ from the live site's
    cache: SiteCache
    last: dict  # the last build's manifest (its parts and search files), for this build
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The plan for a reader, one line each (runs of partitions alike together)."""
        n = len(self.items)
        out = [f"plan for {self.out}: {n} review{'s' if n != 1 else ''} in "
               f"{len(self.parts)} partition{'s' if len(self.parts) != 1 else ''} of {self.block}"]
        runs: list[list[Part]] = []
        for p in self.parts:
            if runs and (runs[-1][-1].action, runs[-1][-1].reason) == (p.action, p.reason):
                runs[-1].append(p)
            else:
                runs.append([p])
        for run in runs:
            a, b = run[0], run[-1]
            which = (f"partition {a.pid + 1}" if a is b else f"partitions {a.pid + 1}-{b.pid + 1}")
            first, last = a.pid * self.block + 1, b.pid * self.block + len(b.items)
            pages = sum(len(p.render) for p in run)
            rendered = f", {pages} review page{'s' if pages != 1 else ''} rendered" if pages else ""
            out.append(f"  {which} (reviews {first}-{last}): {a.action}{rendered}: {a.reason}")
        out.append(f"  search files: {'kept' if self.search[0] == KEPT else 'written again'}: "
                   f"{self.search[1]}")
        related = ("computed again" if self.related_computed else "from the cache")
        if self.related is None:
            related = "not known here (no usable search index)"
        out.append(f"  related reviews: {related}")
        if self.removed:
            out.append(f"  review pages removed: {len(self.removed)} (reviews retracted or purged)")
        if self.static:
            out.append(f"  static files to write (not as in the site): {', '.join(self.static)}")
        out.append("  listing, topic and reference pages: rendered, written where they changed")
        out.extend(f"note: {note}" for note in self.notes)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The plan for a script (partitions and reviews numbered from 1; full UUIDs)."""
        return {
            "out": str(self.out), "reviews": len(self.items), "block": self.block,
            "partitions": [{"partition": p.pid + 1, "reviews": [u for u, _ in p.items],
                            "action": p.action, "reason": p.reason,
                            "render": sorted(p.render)} for p in self.parts],
            "search_files": {"action": self.search[0], "reason": self.search[1]},
            "related": None if self.related is None else (
                "computed" if self.related_computed else "cached"),
            "removed": self.removed, "static": self.static, "notes": self.notes,
        }


def check_out(out: Path) -> None:
    """Refuse a folder that holds files but no site of ours: none of them is overwritten."""
    if out.is_dir() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise Usage(f"{out} is not empty and holds no site built by `reviews site` "
                    f"(no {MANIFEST}); choose a new or empty folder, so that none of "
                    "its files is overwritten")


def make_plan(store: Any, out: Path, ix_dir: Path | None, *, block: int,
              live: Path | None = None) -> Plan:
    """The plan of a build of ``out`` from ``store`` (writes nothing). ``ix_dir``: the
    search index the related reviews come from (None: none usable, they are not known
    and pages are compared by version only); ``live``: where the site as published is
    (``out``, or the site a killed build left aside)."""
    check_out(out)
    live = live or out
    data_dir = Path(store.path).parent
    build = f"{fingerprint()}:{block}"
    last = load_manifest(live)
    why_all = _build_changed(last, build)
    same = last if why_all is None else {}
    last_parts, last_pages = same.get("parts", {}), same.get("pages", {})
    cache = SiteCache(out, data_dir)

    items = [(u, str(v)) for u, v in store.review_order()]
    chunks = [items[i:i + block] for i in range(0, len(items), block)]
    keys = [partition_key(build, c) for c in chunks]

    related_key = hashlib.sha1((build + "".join(f"{u}:{v};" for u, v in items)).encode()).hexdigest()
    related = cache.related(related_key)
    computed = related is None and ix_dir is not None
    if computed:
        from index.similar import related_all  # noqa: PLC0415

        related = related_all(store, ix_dir, limit=RELATED, procs=min(2, os.cpu_count() or 1))
    from index import dupes as near_dupes  # noqa: PLC0415

    groups = near_dupes.groups(store, data_dir, write=False)  # (the build updated the file)
    near = near_dupes.near(groups)
    # a review page shows its related reviews and its near duplicates: it is rendered again
    # when its version or those lists changed (a new review elsewhere can change them)
    page_keys = {u: _page_key(v, None if related is None else related.get(u, ()), last_pages.get(u),
                              near.get(u, ()))
                 for u, v in items}
    old_versions = {u: k.split(":", 1)[0] for u, k in last.get("pages", {}).items()}

    parts = []
    for pid, (chunk, key) in enumerate(zip(chunks, keys)):
        prev = last_parts.get(str(pid))
        render = {u for u, _ in chunk
                  if last_pages.get(u) != page_keys[u] or not (live / urls.review(u)).is_file()}
        if why_all is not None:
            action, reason = REBUILT, why_all
        elif prev is None:
            action, reason = REBUILT, f"new partition: {_changes(chunk, old_versions)}"
        elif prev["key"] != key:
            action, reason = REBUILT, _changes(chunk, old_versions)
        elif not present(live, prev["files"]):
            action, reason = REBUILT, f"some of its files are missing from {out}"
        elif not cache.has(pid, key):
            action, reason = REBUILT, "its search data is not in the site cache (removed, or a review purged)"
        elif render:
            action, reason = PAGES, "their related reviews or near duplicates changed"  # (its pages are all there)
        else:
            action, reason = KEPT, "unchanged"
        parts.append(Part(pid, chunk, key, action, reason, render))

    # the archive-wide search files (dictionary, long postings, review tables...) depend on
    # the current versions only: when none changed, the last build's are kept as they are
    search_key = hashlib.sha1("".join(keys).encode()).hexdigest()
    old_search = same.get("search") or {}
    if why_all is not None:
        search = (REBUILT, why_all)
    elif old_search.get("key") != search_key:
        changed = sum(p.action == REBUILT for p in parts)
        search = (REBUILT, f"{changed} partition{'s' if changed != 1 else ''} changed" if changed
                  else "reviews were removed")
    elif not present(live, old_search.get("files", {})):
        search = (REBUILT, f"some of them are missing from {out}")
    else:
        search = (KEPT, "no partition changed")

    current = {u for u, _ in items}
    plan = Plan(out=out, build=build, block=block, items=items, parts=parts,
                search=search, search_key=search_key, related=related, related_key=related_key,
                related_computed=computed, page_keys=page_keys, dupes=groups, near=near,
                removed=sorted(u for u in last.get("pages", {}) if u not in current),
                static=_static_changed(live), cache=cache, last=same)
    if related is None:
        plan.notes.append("there is no usable search index yet: the build makes it first, and "
                          "also renders the pages whose related reviews it changes")
    return plan


def _build_changed(last: dict, build: str) -> str | None:
    """Why every partition is rebuilt, or None when the last build was made alike."""
    if not last:
        return "no site built here yet"
    if last.get("build") == build:
        return None
    old_print, _, old_block = str(last.get("build", "")).rpartition(":")
    new_print, _, new_block = build.rpartition(":")
    if old_print == new_print:
        return f"the partition size changed ({old_block} -> {new_block} reviews)"
    return "the site's templates or code changed since the last build"


def _changes(chunk: list[tuple[str, str]], old_versions: dict[str, str]) -> str:
    new = sum(u not in old_versions for u, _ in chunk)
    changed = sum(u in old_versions and old_versions[u] != v for u, v in chunk)
    said = [f"{n} {what}" for n, what in ((new, "new review" + "s" * (new != 1)),
                                          (changed, "changed review" + "s" * (changed != 1))) if n]
    return ", ".join(said) or "its reviews moved up (a review before them was retracted or purged)"


def _page_key(version: str, related: list | None, last: str | None, near: Any = ()) -> str:
    """What a review's page shows, as a short key: its version, its related reviews
    (when these are not known, as the last build showed them) and its near duplicates."""
    dupes = "|".join(f"{d['uuid']}/{d['topic']}" for d in near)
    if related is None:
        return f"{version}:{last.split(':', 1)[1] if last else '?'}"
    shown = "|".join(f"{r.uuid}/{r.topic}/{r.reason()}" for r in related) + "#" + dupes
    return f"{version}:{hashlib.sha1(shown.encode('utf-8')).hexdigest()[:12]}"


def _static_changed(live: Path) -> list[str]:
    """The static files whose bytes differ from the live site's (every build writes them)."""
    static = TEMPLATES / "static"
    changed = []
    for f in sorted(static.rglob("*")):
        if f.is_file():
            rel = urls.STATIC + f.relative_to(static).as_posix()
            try:
                same = (live / rel).read_bytes() == f.read_bytes()
            except OSError:
                same = False
            if not same:
                changed.append(rel)
    return changed
