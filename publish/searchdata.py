"""The site's search data for the JavaScript client (static/search.js), in partitions.

Reviews are cut into *partitions* of :data:`BLOCK` reviews in the order they were first
added to the archive (appending touches only the last partition); partitions are
grouped by :data:`GROUP` into *groups*.  Documents, terms and positions are exactly
those the search index sees: documents from :func:`index.units.section_documents`, terms from
the rules of :func:`index.analysis.index_terms` over :func:`index.analysis.fold`-ed text
(:func:`term_positions` is a fast equivalent, checked against it by the tests).

Files (classic scripts calling ``RA.*``, so they load over http and from file://):

``search/meta.js``            ``RA.meta({format, count, block, group, chunk, parts, groups,
                              titles})`` (also inlined in search.html): per partition
                              ``[shards, reviews, first date, last date]``, per group its
                              shard count, the number of reference-title shards.
``search/g/<g>/<k>.js``       ``RA.g(g, k, {key: entry})``: every key of the group's
                              partitions.  An entry is ``mask`` (base 36, bit ``i``: the
                              posting of partition ``g*GROUP+i`` is in its ``p/`` shard)
                              then ``!i>posting`` for each partition whose posting is small
                              (at most :data:`INLINE` bytes): it is here, not in ``p/``.
                              So a rare key is answered for 16 partitions by one file.
``search/p/<p>/<k>.js``       ``RA.s(p, k, {key: posting})``: the partition's large postings.
``search/p/<p>/r.js``         ``RA.r(p, [[uuid, date, ndocs], ...])`` (date filters, ids).
``search/f/<k>.js``           ``RA.f(k, {"f|term": spellings})``: reference-title postings
                              of every distinct spelling in the archive (for ``ref:words``).
``search/u/<xx>.js``          ``RA.u(xx, [[uuid, partition, index, ndocs], ...])``.
``search/d/<p>/<i>-<c>.js``   ``RA.d(p, i, c, [uuid, received, title, topic], [[doc, section,
                              heading, title, body], ...])``: the texts (as written) of documents
                              ``c*CHUNK .. c*CHUNK+CHUNK-1`` of review ``i``, for snippets.

Shards: FNV-1a (32 bit) over the UTF-16 code units of the term (the key without its
``<field>|``), mod the shard count, so every field of a term shares one file.
A key is ``<field>|<term>`` (or ``<field>|<c>*``: the positions of every term starting
with the CJK character ``c``); fields ``t`` topic (per review), ``h`` section title,
``b`` body, ``p`` section path, ``c`` cited reference id; ``f`` (title files only)
reference titles.  A posting lists reviews (partition index delta, base 36)
``;``-separated, each ``delta:docs`` with docs ``,``-separated as ``doc.pos.pos...``
(doc number and position deltas in base 36; ``*n`` = every document of the review,
which has ``n`` documents; ``p``/``c`` have no positions).  An ``f`` posting lists
reference title spellings: ``refid.pos.pos...`` ``;``-separated (``refid~k``: another
spelling of one id).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from archive.model import Record
from index.analysis import CJK_RANGES, fold
from index.units import section_documents

BLOCK = 128  # reviews per partition
GROUP = 16  # partitions per group
SHARD_TARGET = 8 * 1024  # bytes per shard file, on average
INLINE = 256  # a partition's posting of at most this many bytes goes in the group file
CHUNK = 4  # documents per d/ file
FORMAT = 3


def shard_of(term: str, shards: int) -> int:
    """The shard of a term: FNV-1a (32 bit) over its UTF-16 code units; search.js
    mirrors it."""
    h = 0x811C9DC5
    data = term.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h % shards


def shard_count(nbytes: int, target: int = SHARD_TARGET) -> int:
    """Power of two giving shards of about ``target`` bytes, 1 .. 65536."""
    n = 1
    while n * target < nbytes and n < 65536:
        n *= 2
    return n


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_SMALL = [_DIGITS[n] if n < 36 else _DIGITS[n // 36] + _DIGITS[n % 36] for n in range(1296)]


def b36(n: int) -> str:
    if n < 1296:
        return _SMALL[n]
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out))


def _deltas(pos: list[int]) -> str:
    prev = 0
    out = []
    for p in pos:
        out.append(_SMALL[p - prev] if p - prev < 1296 else b36(p - prev))
        prev = p
    return ".".join(out)


_RUN = re.compile(f"([{CJK_RANGES}]+)|((?:[^\\W_{CJK_RANGES}])+(?:[-._/][^\\W_{CJK_RANGES}]+)*)")
_PART = re.compile(r"[^-._/]+")


def term_positions(norm: str) -> dict[str, list[int]]:
    """Positions of each index term of a folded string, plus ``c*`` keys: every position
    where a term starting with the CJK character ``c`` stands (a query ending in a lone
    CJK character matches any such term).  Same terms and positions as
    :func:`index.analysis.index_terms`, without building a Term per token."""
    out: dict[str, list[int]] = defaultdict(list)
    pos = 0
    for m in _RUN.finditer(norm):
        run = m.group(1)
        if run:
            n = len(run)
            for i in range(n - 1):
                a = run[i]
                out[a + run[i + 1]].append(pos + i)
                out[a + "*"].append(pos + i)
            last = run[-1]
            out[last].append(pos + n - 1)
            out[last + "*"].append(pos + n - 1)
            pos += n
            continue
        word = m.group(2)
        out[word].append(pos)
        if "-" in word or "." in word or "_" in word or "/" in word:
            seen = {word}
            for part in _PART.findall(word):
                if part not in seen:
                    seen.add(part)
                    out[part].append(pos)
        pos += 1
    return out


def js(call: str, *args) -> bytes:
    body = ",".join(json.dumps(a, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
                    for a in args)
    return f"{call}({body});\n".encode("utf-8")


@dataclass
class Partition:
    """The search data of one partition: its files, and what the group files and the
    uuid files need from it."""

    pid: int
    files: list[tuple[str, bytes]] = field(default_factory=list)
    shards: int = 1
    count: int = 0
    dates: tuple[str, str] = ("", "")
    keys: dict[str, str] = field(default_factory=dict)  # every key: its posting if small, else ""
    uuids: list[str] = field(default_factory=list)  # in partition order
    ndocs: list[int] = field(default_factory=list)  # documents of each review

    def info(self) -> list:
        return [self.shards, self.count, *self.dates]


def _doc_rows(rec: Record) -> list[list]:
    """``[section, heading, paths, cited ids, folded title, folded body, title, body]``."""
    return [[d["section"], d["heading"], d["path"].split(), list(dict.fromkeys(d["refs"].split())),
             fold(d["title"]), fold(d["body"]), d["title"], d["body"]]
            for d in section_documents(rec)]


def _chunks(pid: int, idx: int, rec: Record, docs: list[list]) -> list[tuple[str, bytes]]:
    info = [rec.uuid, rec.received_at, rec.title or rec.topic, rec.topic]
    return [(f"search/d/{pid}/{idx}-{c}.js",
             js("RA.d", pid, idx, c, info,
                [[i, d[0], d[1], d[6], d[7]] for i, d in enumerate(docs[c * CHUNK:(c + 1) * CHUNK],
                                                                 start=c * CHUNK)]))
            for c in range(-(-len(docs) // CHUNK))]


def encode_partition(pid: int, records: list[Record], inline: int = INLINE) -> Partition:
    """Postings, review rows and document texts of one partition (records in order)."""
    part = Partition(pid, count=len(records), uuids=[r.uuid for r in records])
    postings: dict[str, list[str]] = defaultdict(list)
    last: dict[str, int] = {}
    rows = []
    for idx, rec in enumerate(records):
        docs = _doc_rows(rec)
        per_key: dict[str, list[str]] = defaultdict(list)
        every = "*" + b36(len(docs)) + "."
        for term, pos in term_positions(fold(rec.topic)).items():
            per_key["t|" + term].append(every + _deltas(pos))
        for i, d in enumerate(docs):
            di = b36(i)
            for term, pos in term_positions(d[4]).items():
                per_key["h|" + term].append(di + "." + _deltas(pos))
            for term, pos in term_positions(d[5]).items():
                per_key["b|" + term].append(di + "." + _deltas(pos))
            for p in d[2]:
                per_key["p|" + p].append(di)
            for r in d[3]:
                per_key["c|" + r].append(di)
        for key, entries in per_key.items():
            postings[key].append(b36(idx - last.get(key, 0)) + ":" + ",".join(entries))
            last[key] = idx
        part.files.extend(_chunks(pid, idx, rec, docs))
        rows.append([rec.uuid, rec.received_at[:10], len(docs)])
    encoded = {key: ";".join(entries) for key, entries in postings.items()}
    part.keys = {key: (value if len(value) <= inline else "") for key, value in encoded.items()}
    large = {key: value for key, value in encoded.items() if len(value) > inline}
    part.shards, shard_files = _sharded(large, f"search/p/{pid}", "RA.s", pid)
    part.files.extend(shard_files)
    part.files.append((f"search/p/{pid}/r.js", js("RA.r", pid, rows)))
    part.ndocs = [r[2] for r in rows]
    dates = sorted(r[1] for r in rows)
    part.dates = (dates[0], dates[-1]) if dates else ("", "")
    return part


def _sharded(entries: dict[str, str], path: str, call: str, *head) -> tuple[int, list]:
    """Files ``<path>/<k>.js`` holding ``entries`` by the shard of their term (key[2:])."""
    n = shard_count(sum(len(k) + len(v) + 6 for k, v in entries.items()))
    by_shard: dict[int, dict[str, str]] = defaultdict(dict)
    for key, value in entries.items():
        by_shard[shard_of(key[2:], n)][key] = value
    return n, [(f"{path}/{k}.js", js(call, *head, k, by_shard.get(k, {}))) for k in range(n)]


def group_files(gid: int, members: Iterable[tuple[int, dict[str, str]]],
                group: int = GROUP) -> tuple[int, list]:
    """The ``g/`` files of one group from its partitions' ``(pid, keys)``
    (:attr:`Partition.keys`); returns ``(shards, files)``."""
    masks: dict[str, int] = defaultdict(int)
    inline: dict[str, list[str]] = defaultdict(list)
    for pid, keys in members:
        i = pid - gid * group
        for key, posting in keys.items():
            if posting:
                inline[key].append(f"!{b36(i)}>{posting}")
            else:
                masks[key] |= 1 << i
    entries = {key: b36(masks.get(key, 0)) + "".join(inline.get(key, ()))
               for key in masks.keys() | inline.keys()}
    return _sharded(entries, f"search/g/{gid}", "RA.g", gid)


def title_files(spellings: Iterable[tuple[str, str]]) -> tuple[int, list]:
    """The ``f/`` files (reference-title postings) from every ``(ref_id, title)`` spelling
    in the archive; returns ``(shards, files)``."""
    titles: dict[str, list[str]] = defaultdict(list)
    nth: dict[str, int] = defaultdict(int)
    for rid, title in sorted(set(spellings)):  # one entry per distinct spelling: "rid" or "rid~k"
        name = rid + (f"~{nth[rid]}" if nth[rid] else "")
        nth[rid] += 1
        for term, pos in term_positions(fold(title)).items():
            titles["f|" + term].append(name + "." + _deltas(pos))
    return _sharded({k: ";".join(v) for k, v in titles.items()}, "search/f", "RA.f")


def uuid_files(parts: list[tuple[int, list[str], list[int]]]) -> list[tuple[str, bytes]]:
    """``u/<xx>.js`` from every partition's ``(pid, uuids, ndocs)``."""
    prefixes: dict[str, list] = defaultdict(list)
    for pid, uuids, ndocs in parts:
        for idx, (u, n) in enumerate(zip(uuids, ndocs)):
            prefixes[u[:2]].append([u, pid, idx, n])
    return [(f"search/u/{p}.js", js("RA.u", p, prefixes[p])) for p in sorted(prefixes)]


def meta(parts: list[list], groups: list[int], titles: int, count: int,
         block: int = BLOCK, group: int = GROUP) -> dict:
    """What the client needs first (also inlined into search.html, saving a round trip)."""
    return {"format": FORMAT, "count": count, "block": block, "group": group, "chunk": CHUNK,
            "parts": parts, "groups": groups, "titles": titles}


def meta_file(payload: dict) -> tuple[str, bytes]:
    return "search/meta.js", js("RA.meta", payload)
