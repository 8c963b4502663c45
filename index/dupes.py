"""Near-duplicate reviews and recycled passages (``reviews dupes``).

**What counts.** Only current versions of shown reviews: a re-delivery of one UUID is a
version, not a duplicate, and a retracted or purged review is out. Two reviews are near
duplicates when most of their content is nearly the same: a review regenerated under a
new UUID (a few sentences edited, chapters in another order) or recycled into another
topic (a chapter replaced). Their *similarity* is the share of the two reviews' text in
units (the abstract, each chapter: :mod:`index.sketch`) that pair up across them, each
pair counting by its estimated Jaccard similarity: units are matched one to one, the
most alike first, a pair only when it shares at least :data:`UNIT_MATCH` of its
shingles (far above what distinct chapters of one field share: docs/benchmarks.md), and

    similarity = 2 * (sum over matched pairs of J(u, v)) / (units of A + units of B)

A chapter counts as a chapter whatever its length: a copy with its longest chapter
replaced is as much a copy as one with its shortest replaced (weighed by length, a
review whose longest chapter was swapped fell below the threshold). A copy is 1.0 whatever
the order of its chapters, and one of ten units replaced leaves 0.9.
Reviews at or above the threshold are linked, and a *group* is what the links connect;
each member is shown with its similarity to the group's first review (the earliest
received, then the smallest UUID) and the units they share.

**Finding them** without scoring every pair: the units' MinHash band keys (LSH,
:mod:`index.sketch`); reviews sharing a key are candidates, and each candidate pair is
scored from its units' signatures. A key held by more than :data:`RUN_CAP` reviews is a
chapter of boilerplate, not a sign of a copy, and pairs no one (their other units do).

**Passages** are paragraphs that share a band key, chained; a passage is reported when
its paragraphs stand in at least :data:`PASSAGE_REVIEWS` reviews, the reviews of one
group of near duplicates counting once (their shared paragraphs are that group's, not
recycled text).

**Incremental.** :func:`update` brings the sketches (:mod:`index.dupes_store`) in step
with the archive's current versions: a new or changed review is sketched and paired
against all the others; one that left is forgotten with its pairs. Sketching many
reviews (a first run) runs in :data:`PROCS` worker processes, spawned, not forked:
rensa's thread pool does not survive a fork of a process that has used it.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from archive.model import ABSTRACT
from archive.store import Store, load_doc
from index import sketch as sk
from index.dupes_store import FILE, DupesStore

DEFAULT_THRESHOLD = 0.8
#: Pairs are kept from this similarity on (the lowest ``--threshold`` allowed).
FLOOR = 0.5
UNIT_MATCH = 0.5
RUN_CAP = 64
PASSAGE_REVIEWS = 3
PROCS = 2
_BATCH = 200  # reviews sketched per job
_PARALLEL = 400  # from this many new reviews on, sketching runs in worker processes


@dataclass(frozen=True)
class Shared:
    """A unit of the group's first review matched by one of another member."""

    first: str  # ABSTRACT or a chapter number in the first review
    other: str  # in the other review
    similarity: float


@dataclass(frozen=True)
class Member:
    uuid: str
    received_at: str
    topic: str
    similarity: float  # to the group's first review (1.0 for the first itself)
    shared: tuple[Shared, ...]  # with the first review (() for the first itself)


@dataclass(frozen=True)
class Group:
    members: tuple[Member, ...]  # the first review first, then by similarity

    @property
    def first(self) -> Member:
        return self.members[0]

    @property
    def similarity(self) -> float:
        """The lowest similarity of a member to the first review."""
        return min(m.similarity for m in self.members[1:])


@dataclass(frozen=True)
class Occurrence:
    uuid: str
    received_at: str
    topic: str
    section: str  # ABSTRACT or a section path
    paragraph: int  # its number within the section's body, from 1


@dataclass(frozen=True)
class Passage:
    text: str  # as its first occurrence has it
    occurrences: tuple[Occurrence, ...]  # earliest received first

    @property
    def reviews(self) -> int:
        return len({o.uuid for o in self.occurrences})


@dataclass(frozen=True)
class Updated:
    sketched: int
    forgotten: int


# -- keeping the sketches in step ------------------------------------------------------

def update(store: Store, data_dir: str | Path, announce: Callable[[int], None] | None = None) -> Updated:
    """Sketch and pair what the archive's current versions add; forget what left.
    ``announce(n)`` is told first when ``n`` (many) reviews are to be sketched: a first
    run takes a while."""
    with _updated(store, data_dir, announce) as (ds, done):
        return done


@contextmanager
def _updated(store: Store, data_dir: str | Path, announce: Callable[[int], None] | None,
             write: bool = True) -> Iterator[tuple[DupesStore, Updated]]:
    """The sketches, brought up to date; in memory when the disk is full (a reading
    command answers on a full disk, as the others do) or when told not to ``write``."""
    ds = None
    try:
        ds = DupesStore.open(data_dir, in_memory=not write)
        done = _update(store, ds, announce)
    except sqlite3.OperationalError as err:
        if ds is not None:
            ds.close()
        if getattr(err, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_FULL:
            raise
        ds = DupesStore.open(data_dir, in_memory=True)
        done = _update(store, ds, announce)
    with ds:
        yield ds, done


def _update(store: Store, ds: DupesStore, announce: Callable[[int], None] | None = None) -> Updated:
    current = dict(store.execute("SELECT uuid, current_version FROM reviews"))
    held = ds.held()
    gone = sorted(u for u, v in held.items() if current.get(u) != v)
    new = sorted((v, u) for u, v in current.items() if held.get(u) != v)
    ds.forget(gone)
    if announce is not None and len(new) >= _BATCH:
        announce(len(new))
    if len(new) >= _PARALLEL:
        from archive.workers import pool  # noqa: PLC0415

        jobs = [new[at:at + _BATCH] for at in range(0, len(new), _BATCH)]
        with pool(PROCS, _open_worker, (str(store.path),), fresh=True) as workers:
            for done in workers.map(_sketch_job, jobs):
                ds.put(done)
    else:
        for at in range(0, len(new), _BATCH):
            ds.put(_sketch(store, new[at:at + _BATCH]))
    ds.write(lambda: _pair(ds))
    return Updated(sketched=len(new), forgotten=len(gone))


def forget(data_dir: str | Path, uuid: str) -> None:
    """A purged review leaves the sketches now (``reviews purge``: no copy of its id stays
    in the data folder); nothing to do where there are no sketches yet."""
    if (Path(data_dir) / FILE).is_file():
        with DupesStore.open(data_dir) as ds:
            ds.forget([uuid], for_good=True)


_WORKER: dict[str, Store] = {}


def _open_worker(path: str) -> None:
    _WORKER["store"] = Store(path, read_only=True)


def _sketch_job(batch: list[tuple[int, str]]) -> list[tuple[str, int, sk.Sketch]]:
    return _sketch(_WORKER["store"], batch)


def _sketch(store: Store, batch: list[tuple[int, str]]) -> list[tuple[str, int, sk.Sketch]]:
    vids = [v for v, _ in batch]
    docs = dict(store.execute(f"SELECT id, parsed FROM versions WHERE id IN"
                              f" ({','.join('?' * len(vids))})", vids))
    sketches = sk.sketch_all(load_doc(docs[v]) for v in vids)
    return [(u, v, s) for (v, u), s in zip(batch, sketches)]


def _pair(ds: DupesStore) -> None:
    """Score every candidate pair with an unpaired review (inside a write transaction)."""
    uuids, unpaired, keys, owner = ds.unit_bands()
    if not unpaired.any():
        return
    found: set[tuple[int, int]] = set()
    for run in collisions(keys, owner, RUN_CAP):
        reviews = np.unique(owner[run])
        fresh = reviews[unpaired[reviews]]
        for a in fresh.tolist():
            found.update((min(a, b), max(a, b)) for b in reviews.tolist() if b != a)
    units = ds.units({uuids[i] for pair in found for i in pair})
    rows = []
    for a, b in sorted(found):
        similarity, shared = score(*units[uuids[a]], *units[uuids[b]])
        if similarity >= FLOOR:
            rows.append((uuids[a], uuids[b], similarity, shared))
    ds.add_pairs(rows, [uuids[i] for i in np.flatnonzero(unpaired).tolist()])


def collisions(keys: np.ndarray, owner: np.ndarray, cap: int | None = None) -> Iterator[np.ndarray]:
    """The positions of each key held by two owners or more (at most ``cap`` owners)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    # only the positions where a key repeats the one before (few: a key a run of them),
    # not a start and an end for every distinct key (arrays of all keys' size)
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    del ordered
    if not len(same):
        return
    for block in np.split(same, np.flatnonzero(np.diff(same) != 1) + 1):
        run = order[int(block[0]):int(block[-1]) + 2]  # (block: i where key i+1 equals key i)
        n = len(np.unique(owner[run]))
        if n > 1 and (cap is None or n <= cap):
            yield run


def score(units_a: list[str], sigs_a: np.ndarray,
          units_b: list[str], sigs_b: np.ndarray) -> tuple[float, list]:
    """The similarity of two reviews and their matched units ``[[a, b, J], ...]``."""
    j = (sigs_a[:, None, :] == sigs_b[None, :, :]).mean(axis=2)
    flat = j.ravel()
    order = np.argsort(-flat, kind="stable")
    taken_a, taken_b, shared, total = set(), set(), [], 0.0
    for k in order[flat[order] >= UNIT_MATCH].tolist():
        ia, ib = divmod(k, j.shape[1])
        if ia in taken_a or ib in taken_b:
            continue
        taken_a.add(ia)
        taken_b.add(ib)
        total += 2 * float(flat[k])
        shared.append([units_a[ia], units_b[ib], round(float(flat[k]), 3)])
    shared.sort(key=lambda s: _unit_order(s[0]))
    size = len(units_a) + len(units_b)
    return (round(total / size, 3) if size else 0.0), shared


def _unit_order(key: str) -> tuple:
    return (0,) if key == ABSTRACT else (1, *(int(p) if p.isdigit() else 0 for p in key.split(".")))


# -- reading -----------------------------------------------------------------------------

def groups(store: Store, data_dir: str | Path, threshold: float = DEFAULT_THRESHOLD,
           announce: Callable[[int], None] | None = None, write: bool = True) -> list[Group]:
    """The groups of near-duplicate reviews, most alike first (brought up to date first;
    ``write=False``: in memory, the data folder left as it is, for a dry run)."""
    with _updated(store, data_dir, announce, write) as (ds, _):
        return _groups(store, ds, threshold)


def _groups(store: Store, ds: DupesStore, threshold: float) -> list[Group]:
    pairs = ds.pairs(threshold)
    known = {(a, b): (s, shared) for a, b, s, shared in pairs}
    components = _components([(a, b) for a, b, _, _ in pairs])
    info = _reviews(store, {u for c in components for u in c})
    out = []
    for component in components:
        first, *others = sorted(component, key=lambda u: (info[u][0], u))
        missing = [u for u in others if (min(first, u), max(first, u)) not in known]
        units = ds.units([first, *missing]) if missing else {}
        members = [Member(first, *info[first], 1.0, ())]
        for u in others:
            if (min(first, u), max(first, u)) in known:
                s, shared = known[(min(first, u), max(first, u))]
                if u < first:  # stored as (a, b) with a < b: put the first review's side first
                    shared = sorted(([y, x, js] for x, y, js in shared),
                                    key=lambda t: _unit_order(t[0]))
            else:  # linked through another member only
                s, shared = score(*units[first], *units[u])
            members.append(Member(u, *info[u], s, tuple(Shared(*x) for x in shared)))
        members[1:] = sorted(members[1:], key=lambda m: (-m.similarity, m.received_at, m.uuid))
        out.append(Group(tuple(members)))
    out.sort(key=lambda g: (-g.similarity, -len(g.members), g.first.received_at, g.first.uuid))
    return out


def _components(edges: list[tuple[str, str]]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out: dict[str, list[str]] = {}
    for x in sorted(parent):
        out.setdefault(find(x), []).append(x)
    return list(out.values())


def _reviews(store: Store, uuids: set[str]) -> dict[str, tuple[str, str]]:
    """``uuid -> (received_at, topic)``."""
    wanted = sorted(uuids)
    out = {}
    for at in range(0, len(wanted), 500):
        chunk = wanted[at:at + 500]
        out.update((u, (r or "", t or "")) for u, r, t in store.execute(
            f"SELECT uuid, received_at, topic FROM reviews WHERE uuid IN"
            f" ({','.join('?' * len(chunk))})", chunk))
    return out


def passages(store: Store, data_dir: str | Path,
             announce: Callable[[int], None] | None = None) -> list[Passage]:
    """Paragraphs recurring nearly identical in :data:`PASSAGE_REVIEWS` reviews or more
    (a group of near duplicates counting once), the most widespread first."""
    with _updated(store, data_dir, announce) as (ds, _):
        group_of = {m.uuid: g.first.uuid for g in _groups(store, ds, DEFAULT_THRESHOLD)
                    for m in g.members}
        places, keys, owner = ds.paragraph_bands()
    parent = np.arange(len(places))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    linked: set[int] = set()
    for run in collisions(keys, owner):
        paragraphs = np.unique(owner[run]).tolist()
        linked.update(paragraphs)
        for other in paragraphs[1:]:
            ra, rb = find(paragraphs[0]), find(other)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    chains: dict[int, list[int]] = {}
    for p in sorted(linked):
        chains.setdefault(find(p), []).append(p)
    found = [[places[p] for p in chain] for chain in chains.values()
             if len({group_of.get(places[p][0], places[p][0]) for p in chain}) >= PASSAGE_REVIEWS]
    info = _reviews(store, {u for chain in found for u, _, _ in chain})
    out = []
    for chain in found:
        occ = sorted((Occurrence(u, *info[u], section, number) for u, section, number in chain),
                     key=lambda o: (o.received_at, o.uuid, _unit_order(o.section), o.paragraph))
        out.append(Passage(_paragraph_text(store, occ[0]), tuple(occ)))
    out.sort(key=lambda p: (-p.reviews, p.occurrences[0].received_at, p.occurrences[0].uuid))
    return out


def _paragraph_text(store: Store, at: Occurrence) -> str:
    record = store.current(at.uuid)
    body = record.abstract if at.section == ABSTRACT else record.section(at.section).body
    return " ".join(sk.prose(sk.blocks(body)[at.paragraph - 1]).split())


def near(found: list[Group]) -> dict[str, list[dict]]:
    """``uuid -> the other reviews of its group`` (uuid, topic, received), earliest first:
    what a review's page links to."""
    out = {}
    for g in found:
        members = sorted(g.members, key=lambda m: (m.received_at, m.uuid))
        for m in members:
            out[m.uuid] = [{"uuid": o.uuid, "topic": o.topic, "received_at": o.received_at}
                           for o in members if o.uuid != m.uuid]
    return out
