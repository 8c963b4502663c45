"""The site's search data for the JavaScript client (static/search.js), in partitions.

Reviews are cut into *partitions* of :data:`BLOCK` reviews in the order they were first
added to the archive (appending touches only the last partition); partitions are
grouped by :data:`GROUP` into *groups*.  Documents, terms and positions are exactly
those of the Whoosh index: documents from :func:`index.indexer.documents`, terms from
the rules of :func:`index.analysis.index_terms` over :func:`index.analysis.fold`-ed text
(:func:`term_positions` is a fast equivalent, checked against it by the tests).

Files (classic scripts calling ``RA.*``, so they load over http and from file://):

``search/meta.js``            ``RA.meta({format, count, block, group, parts, groups})``:
                              per partition ``[shards, reviews, first date, last date]``,
                              per group its ``g`` and ``f`` shard counts.
``search/p/<p>/<k>.js``       ``RA.s(p, k, {key: posting})``: positional postings of
                              partition ``p`` for the terms hashed to shard ``k``.
``search/p/<p>/r.js``         ``RA.r(p, [[uuid, date, ndocs, chunk starts], ...])``.
``search/g/<g>/<k>.js``       ``RA.g(g, k, {term: mask})``: which partitions of group
                              ``g`` hold a term (bit ``i`` = partition ``g*GROUP+i``);
                              ``t|term``: which hold it in a topic.
``search/f/<g>/<k>.js``       ``RA.f(g, k, {"f|term": spellings})``: the reference-title
                              postings of the group's reviews (for ``ref:words``).
``search/u/<xx>.js``          ``RA.u(xx, [[uuid, partition, index], ...])``.
``search/d/<uuid>/<c>.js``    ``RA.d(uuid, c, [received, title, topic], [[i, section,
                              heading, title, body], ...])``: folded texts of a run of
                              documents (about :data:`CHUNK_TARGET` bytes), for snippets.

Shards: FNV-1a (32 bit) over the UTF-16 code units of the term, mod the shard count.
A key is ``<field>|<term>`` (or ``<field>|<c>*``: the positions of every term starting
with the CJK character ``c``); fields ``t`` topic (per review), ``h`` section title,
``b`` body, ``p`` section path, ``c`` cited reference id; ``f`` (group files only)
reference titles.  A posting lists reviews (partition index delta, base 36)
``;``-separated, each ``delta:docs`` with docs ``,``-separated as ``doc.pos.pos...``
(doc number and position deltas in base 36; ``*`` = every document of the review;
``p``/``c`` have no positions).  An ``f`` posting lists reference title spellings:
``refid.pos.pos...`` ``;``-separated (``refid~k``: another spelling of one id).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from archive.model import Record
from index.analysis import CJK_RANGES, fold
from index.indexer import documents

BLOCK = 128  # reviews per partition
GROUP = 16  # partitions per presence group
SHARD_TARGET = 8 * 1024  # bytes per shard file, on average
CHUNK_TARGET = 6 * 1024  # bytes of document text per d/ file, about
FORMAT = 2
_TEXT_FIELDS = (("h", "title"), ("b", "body"))


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
    terms: list[str] = field(default_factory=list)  # every term present (for the groups)
    spellings: list[str] = field(default_factory=list)  # "refid\ttitle"
    uuids: list[str] = field(default_factory=list)  # in partition order

    def info(self) -> list:
        return [self.shards, self.count, *self.dates]


def _doc_rows(rec: Record) -> list[list]:
    return [[d["section"], d["heading"], d["path"].split(), list(dict.fromkeys(d["refs"].split())),
             fold(d["title"]), fold(d["body"])]
            for d in documents(rec) if "uuid" in d]  # not the per-reference documents


def _chunks(uuid: str, rec: Record, docs: list[list]) -> tuple[list[int], list[tuple[str, bytes]]]:
    starts, files, cur, size = [], [], [], 0
    info = [rec.received_at, rec.title or rec.topic, rec.topic]

    def flush():
        c = len(files)
        files.append((f"search/d/{uuid}/{c}.js", js("RA.d", uuid, c, info, cur)))

    for i, d in enumerate(docs):
        if cur and size + len(d[4]) + len(d[5]) > CHUNK_TARGET // 3:  # ~3 bytes a character
            flush()
            cur, size = [], 0
        if not cur:
            starts.append(i)
        cur.append([i, d[0], d[1], d[4], d[5]])
        size += len(d[4]) + len(d[5])
    if cur:
        flush()
    return starts, files


def encode_partition(pid: int, records: list[Record]) -> Partition:
    """Postings, review rows and document texts of one partition (records in order)."""
    part = Partition(pid, count=len(records), uuids=[r.uuid for r in records])
    postings: dict[str, list[str]] = defaultdict(list)
    last: dict[str, int] = {}
    rows, spellings = [], set()
    for idx, rec in enumerate(records):
        docs = _doc_rows(rec)
        spellings.update(f"{r.ref_id}\t{r.title}" for r in rec.references)
        per_key: dict[str, list[str]] = defaultdict(list)
        for term, pos in term_positions(fold(rec.topic)).items():
            per_key["t|" + term].append("*." + _deltas(pos))
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
        starts, files = _chunks(rec.uuid, rec, docs)
        part.files.extend(files)
        rows.append([rec.uuid, rec.received_at[:10], len(docs), starts])
    encoded = {key: ";".join(entries) for key, entries in postings.items()}
    part.shards = shard_count(sum(len(k) + len(v) for k, v in encoded.items()))
    by_shard: dict[int, dict[str, str]] = defaultdict(dict)
    for key, value in encoded.items():
        by_shard[shard_of(key[2:], part.shards)][key] = value
    for k in range(part.shards):
        part.files.append((f"search/p/{pid}/{k}.js", js("RA.s", pid, k, by_shard.get(k, {}))))
    part.files.append((f"search/p/{pid}/r.js", js("RA.r", pid, rows)))
    dates = sorted(r[1] for r in rows)
    part.dates = (dates[0], dates[-1]) if dates else ("", "")
    # every term, and topic terms once more as "t|term" (topic: skips partitions by them)
    part.terms = sorted({key[2:] for key in encoded} | {k for k in encoded if k[0] == "t"})
    part.spellings = sorted(spellings)
    return part


def group_files(gid: int, members: list[tuple[int, list[str], list[str]]],
                group: int = GROUP) -> tuple[list[int], list]:
    """Presence masks (``g/``) and reference-title postings (``f/``) of one group, from
    its partitions' ``(pid, terms, spellings)``; returns ``([g shards, f shards], files)``."""
    masks: dict[str, int] = defaultdict(int)
    spellings: set[str] = set()
    for pid, terms, sps in members:
        bit = 1 << (pid - gid * group)
        for t in terms:
            masks[t] |= bit
        spellings.update(sps)
    presence = {t: b36(m) for t, m in masks.items()}
    titles: dict[str, list[str]] = defaultdict(list)
    nth: dict[str, int] = defaultdict(int)
    for sp in sorted(spellings):  # one entry per distinct spelling: "rid" or "rid~k"
        rid, title = sp.split("\t", 1)
        name = rid + (f"~{nth[rid]}" if nth[rid] else "")
        nth[rid] += 1
        for term, pos in term_positions(fold(title)).items():
            titles["f|" + term].append(name + "." + _deltas(pos))
    files, shards = [], []
    for kind, call, entries in (("g", "RA.g", presence),
                                ("f", "RA.f", {k: ";".join(v) for k, v in titles.items()})):
        n = shard_count(sum(len(k) + len(v) + 6 for k, v in entries.items()))
        by_shard: dict[int, dict[str, str]] = defaultdict(dict)
        for key, value in entries.items():
            by_shard[shard_of(key[2:] if kind == "f" else key, n)][key] = value
        files += [(f"search/{kind}/{gid}/{k}.js", js(call, gid, k, by_shard.get(k, {})))
                  for k in range(n)]
        shards.append(n)
    return shards, files


def uuid_files(parts: list[tuple[int, list[str]]]) -> list[tuple[str, bytes]]:
    """``u/<xx>.js`` from every partition's ``(pid, uuids)``."""
    prefixes: dict[str, list] = defaultdict(list)
    for pid, uuids in parts:
        for idx, u in enumerate(uuids):
            prefixes[u[:2]].append([u, pid, idx])
    return [(f"search/u/{p}.js", js("RA.u", p, prefixes[p])) for p in sorted(prefixes)]


def meta_file(parts: list[list], groups: list[int], count: int, block: int = BLOCK,
              group: int = GROUP) -> tuple[str, bytes]:
    return "search/meta.js", js("RA.meta", {
        "format": FORMAT, "count": count, "block": block, "group": group,
        "parts": parts, "groups": groups,
    })
