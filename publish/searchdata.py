"""The site's search data for the JavaScript client (``static/search-*.js``), format 5.

The client answers a query exactly as ``reviews search`` does, and ranks alike
(:mod:`index.rank`), so it needs the same statistics: per gram, the reviews holding it
and its *summary* in each (topic, some title, the chapters holding it:
:func:`index.rank.summary`); per jieba word, each review's count (BM25's ``tf``, read
from the search index, which is brought up to date first); each review's word count;
and the text, by chapter (:func:`index.units.chapter_starts`), to check what the
postings cannot tell (a literal of several grams, ``section:`` scopes) and to show
snippets. Everything is computed from :mod:`index.units`, :mod:`index.literal` and the
index, the same code as the command line's; ``tests/test_site.py`` checks the summaries
against the index's part maps.

Reviews are numbered (*ordinals*) in the order they were first added to the archive
(``Store.review_order``), so a review's text files keep their names as the archive grows.

Files (classic scripts calling ``RA.*``, so they load over http and from ``file://``; a
``b64`` value is base64 of bytes, ``z64`` base64 of raw-deflated bytes, which the client
inflates with ``DecompressionStream``):

``search/meta.js``        ``RA.meta({format, n, dict, spec, ...})`` (also
                          inlined in search.html): counts, shard counts, the search
                          language (``index/spec.json``).
``search/k/<s>.js``       ``RA.k(s, {key: value})``: the dictionary, sharded by
                          :func:`shard_of` of the term (the key without its ``<field>|``,
                          so every field of a term shares a shard). Keys: ``g|gram``,
                          ``w|word``, ``p|3.1`` (section paths), ``c|<n>`` (``[ref id,
                          posting]``: the reviews citing reference number ``n``, base 36),
                          ``i|r0123456789`` (a
                          reference id's number), ``f|gram`` (reference-title grams), ``l|xy``:
                          the listed CJK words starting with ``xy``, as suffixes
                          (``""`` = ``xy`` itself: the query's words are found by
                          forward maximum matching). A posting value is its ``b64``
                          bytes, or a number ``x``: the posting is ``search/x/<x>.js``.
``search/x/<x>.js``       ``RA.x(x, "z64")``: one long posting.
``search/l.js``           ``RA.l("z64")``: per ordinal the one-byte code of its word count
                          (BM25's ``dl``, :func:`index.rank.dl_code`); then per ordinal its
                          place in the tie-break order (newest received first, then uuid)
                          as a zigzag varint delta from ``n - 1 - ordinal`` (0 for an
                          archive filled in the order of delivery).
``search/r.js``           ``RA.r("z64")``: per ordinal its received day (days since
                          1970); loaded for date filters only.
``search/fm.js``          ``RA.fm("z64")``: per ordinal the number of its topic (topics
                          numbered in code point order), then per ordinal its month
                          received (``12 * (year - 1970) + month - 1``), varints: the
                          facets' counts (~30 KB at 10k reviews, where ``r.js`` is 21).
``search/tn/<b>.js``      ``RA.tn(b, [[topic, [number, ...]], ...])``: topics ``b*TOPICS
                          ...``, each with the numbers of the other topics that
                          ``topic:"it"`` finds too (:func:`index.facets.holders`), so the
                          page can refine to one topic exactly; loaded for the facets shown.
``search/s/<b>.js``       ``RA.s(b, [[folded title, ...], ...])``: the spellings of
                          references ``b*REFS ...`` (``ref:words`` that a run of ideographs
                          does not answer from positions checks titles).
``search/u/<x>.js``       ``RA.u(x, [[uuid, ordinal], ...])``: the uuids starting with
                          hex digit ``x`` (``uuid:`` prefixes).
``search/o/<b>.js``       ``RA.o(b, [uuid, ...])``: the uuids of ordinals ``b*UUIDS ...``.
``search/t/<o/100>/<o>-<c>.js``  ``RA.t(o, c, "z64")``: chapter ``c`` of review ``o``:
                          JSON ``[info, units]``, info ``[uuid, received, title, topic
                          (null: the title), chapters]``, each unit ``[index, key,
                          heading (null: the title), title, body, citations]`` with citations ``[[start, end, ref id, sentence
                          start, sentence end], ...]`` (markers in the body, in code
                          points; ref id ``""`` when dangling).

A posting is varints: per review the ordinal's delta from the previous one (the first
from -1) and, for ``g`` ``w`` ``p`` ``c``, its value (summary, count, chapter map); an
``f`` posting lists spellings (:meth:`Postings.add_spellings`): reference number,
spelling, where the gram stands in the title.
"""
from __future__ import annotations

import base64
import json
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from archive.citations import Sentences
from archive.model import ABSTRACT, Record
from index.analysis import fold
from index.encoding import varint
from index.document import clean
from index.literal import SEP, gram_positions, grams
from index.rank import dl_code
from index.spec import spec
from index.units import REFERENCES, chapter_starts, paths, units

FORMAT = 5
BLOCK = 128  # reviews per partition (a unit of work and of caching)
SHARD_TARGET = 8 * 1024  # bytes per dictionary shard, on average
INLINE = 512  # a posting of at most this many base64 characters stays in the dictionary
REFS = 256  # references per s/ file
UUIDS = 2048  # uuids per o/ file
TOPICS = 32  # topics per tn/ file: the page loads those of the ten facets it shows


def shard_of(term: str, shards: int) -> int:
    """The shard of a term: FNV-1a (32 bit) over its UTF-16 code units;
    ``static/search-data.js`` mirrors it."""
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


def js(call: str, *args) -> bytes:
    body = ",".join(json.dumps(a, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
                    for a in args)
    return f"{call}({body});\n".encode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def z64(data: bytes) -> str:
    """Raw deflate (deterministic: same bytes, same output), base64."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return b64(c.compress(data) + c.flush())


def text_path(ordinal: int, chapter: int) -> str:
    return f"search/t/{ordinal // 100}/{ordinal}-{chapter}.js"


# -- one review (in the partition workers) ---------------------------------------------

def review_values(rec: Record) -> dict[str, int]:
    """Posting values of one review: ``g|gram`` its summary (bit 0 the topic holds it,
    bit 1 some title, bit ``2 + c`` chapter ``c``: :func:`index.rank.summary` of the
    index's part map), ``p|path`` and ``c|ref id`` the chapters holding that section or
    citing that reference (bit ``c``)."""
    us = units(rec)
    starts = chapter_starts(us) + [len(us)]
    g: dict[str, int] = {}  # gram -> summary
    out: dict[str, int] = {}
    for c in range(len(starts) - 1):  # the grams of a chapter: of its parts joined by SEP,
        bit = 4 << c  # across which no gram runs (index.literal.grams)
        chapter = us[starts[c]:starts[c + 1]]
        for x in grams(fold(SEP.join(clean(t) for u in chapter for t in (u.title, u.body)))):
            g[x] = g.get(x, 0) | bit
        bit = 1 << c
        for u in chapter:
            for p in [u.key] if u.key in (ABSTRACT, REFERENCES) else paths(u.key):
                out["p|" + p] = out.get("p|" + p, 0) | bit
            for r in u.refs:
                out["c|" + r] = out.get("c|" + r, 0) | bit
    for x in grams(fold(SEP.join(clean(u.title) for u in us))):
        g[x] = g.get(x, 0) | 2
    for x in grams(fold(clean(rec.topic))):
        g[x] = g.get(x, 0) | 1
    out.update(("g|" + x, v) for x, v in g.items())
    return out


def chapter_files(ordinal: int, rec: Record) -> list[tuple[str, bytes]]:
    """The ``t/`` files of one review, one per chapter."""
    us = units(rec)
    starts = chapter_starts(us)
    marks: dict[str, list] = defaultdict(list)
    for cit in rec.citations:
        marks[cit.section].append((cit.offset, cit.offset + len(cit.marker), cit.ref_id or ""))
    title = rec.title or rec.topic
    info = [rec.uuid, rec.received_at, title, rec.topic if rec.topic != title else None, len(starts)]
    out = []
    for c, s in enumerate(starts):
        e = starts[c + 1] if c + 1 < len(starts) else len(us)
        rows = [[i, us[i].key, us[i].heading if us[i].heading != us[i].title else None, us[i].title, us[i].body,
                 _citations(us[i].body, marks.get(us[i].key, [])) if us[i].key != REFERENCES else []]
                for i in range(s, e)]
        data = json.dumps([info, rows], ensure_ascii=False, separators=(",", ":"))
        out.append((text_path(ordinal, c), js("RA.t", ordinal, c, z64(data.encode("utf-8")))))
    return out


def _citations(body: str, marks: list[tuple[int, int, str]]) -> list[list]:
    """``[start, end, ref id, sentence start, sentence end]`` of each marker in a body
    (the sentence as :class:`archive.citations.Sentences` finds it for ``reviews refs``)."""
    sentences = Sentences(body)
    return [[a, b, rid, *sentences.span(a, b)] for a, b, rid in sorted(marks)]


@dataclass
class Partition:
    """What one partition contributes: its text files and, per key, a *chunk* of its
    postings: ``(first ordinal, last ordinal, entries)`` with entries the first
    review's value then ``delta value`` pairs, so that the partitions' chunks join by
    writing one delta between them (:meth:`Postings.add_chunks`)."""

    pid: int
    files: list[tuple[str, bytes]] = field(default_factory=list)
    chunks: dict[str, tuple[int, int, bytes]] = field(default_factory=dict)
    uuids: list[str] = field(default_factory=list)


def encode_partition(pid: int, first_ordinal: int, records: list[Record]) -> Partition:
    part = Partition(pid, uuids=[r.uuid for r in records])
    entries: dict[str, bytearray] = {}
    bounds: dict[str, list[int]] = {}
    for k, rec in enumerate(records):
        o = first_ordinal + k
        part.files.extend(chapter_files(o, rec))
        for key, value in review_values(rec).items():
            buf = entries.get(key)
            if buf is None:
                buf = entries[key] = bytearray()
                bounds[key] = [o, o]
            else:
                varint(o - bounds[key][1], buf)
                bounds[key][1] = o
            varint(value, buf)
    part.chunks = {key: (b[0], b[1], bytes(entries[key])) for key, b in bounds.items()}
    return part


# -- the whole archive (in the parent) ---------------------------------------------------

class Postings:
    """Every key's posting, joined from the partitions' chunks in ordinal order."""

    def __init__(self):
        self.data: dict[str, bytearray] = {}
        self.last: dict[str, int] = {}
        self.numbers: dict[str, int] = {}  # i|<ref id> -> the reference's number
        self.names: dict[str, str] = {}  # c|<number> -> the reference's id

    def add_chunks(self, chunks: dict[str, tuple[int, int, bytes]]) -> None:
        for key, (first, last, data) in chunks.items():
            buf = self.data.get(key)
            if buf is None:
                buf = self.data[key] = bytearray()
                varint(first + 1, buf)
            else:
                varint(first - self.last[key], buf)
            buf += data
            self.last[key] = last

    def add(self, key: str, pairs: Iterable[tuple[int, int]]) -> None:
        """A posting given whole: ``(ordinal, value)`` in ordinal order."""
        buf = bytearray()
        prev = -1
        for o, v in pairs:
            varint(o - prev, buf)
            varint(v, buf)
            prev = o
        if buf:
            self.data[key] = buf

    def add_spellings(self, key: str, entries: Iterable[tuple[int, int, list[int]]]) -> None:
        """A posting of reference spellings with positions: per spelling the delta of its
        reference number (0: the same reference), its number among the reference's
        spellings, the count of positions, the positions as deltas (from -1)."""
        buf = bytearray()
        prev = -1
        for n, sub, pos in entries:
            varint(n - prev, buf)
            varint(sub, buf)
            varint(len(pos), buf)
            last = -1
            for q in pos:
                varint(q - last, buf)
                last = q
            prev = n
        self.data[key] = buf


def words_from_index(reader, ordinal_of: dict[str, int], post: Postings
                     ) -> tuple[list[int], dict[str, list[str]]]:
    """The ``w`` postings (each review's count of each word) and each ordinal's word
    count, from the search index; and the CJK words by their first two characters
    (the ``l|`` lists)."""
    from index.analysis import is_cjk
    from index.postings import Column, doc_set, doc_weights

    docs: dict[int, int] = {}  # index document -> ordinal
    lengths = [0] * len(ordinal_of)
    for d, value in Column(reader, "key").many(sorted(doc_set(reader, "kind", "review"))).items():
        _, uuid, words, _ = value.decode("ascii").split("|")
        o = ordinal_of.get(uuid)
        if o is not None:
            docs[d] = o
            lengths[o] = int(words)
    prefixes: dict[str, list[str]] = defaultdict(list)
    for word in reader.lexicon("w"):
        word = word.decode("utf-8") if isinstance(word, bytes) else word
        pairs = sorted((docs[d], int(tf)) for d, tf in doc_weights(reader, "w", word).items()
                       if d in docs)
        if not pairs:
            continue
        post.add("w|" + word, pairs)
        if len(word) >= 2 and all(is_cjk(ch) for ch in word):
            prefixes[word[:2]].append(word[2:])
    return lengths, prefixes


def dictionary(post: Postings, prefixes: dict[str, list[str]], inline: int = INLINE
               ) -> tuple[int, list[tuple[str, bytes]]]:
    """The ``k/`` shards and ``x/`` files; returns ``(shards, files)``."""
    entries: dict[str, object] = {}
    files: list[tuple[str, bytes]] = []
    for key in sorted(post.data):
        data = bytes(post.data[key])
        text = b64(data)
        if len(text) <= inline:
            entries[key] = text
        else:
            x = len(files)
            files.append((f"search/x/{x}.js", js("RA.x", x, z64(data))))
            entries[key] = x
        if key in post.names:  # c|<number>: [ref id, posting]
            entries[key] = [post.names[key], entries[key]]
    for pre, suffixes in prefixes.items():
        entries["l|" + pre] = sorted(suffixes)
    entries.update(post.numbers)
    size = sum(len(k) + (len(v) if isinstance(v, str) else 8) + 6 for k, v in entries.items())
    n = shard_count(size)
    by_shard: dict[int, dict] = defaultdict(dict)
    for key, value in entries.items():
        by_shard[shard_of(key[2:], n)][key] = value
    files += [(f"search/k/{s}.js", js("RA.k", s, by_shard.get(s, {}))) for s in range(n)]
    return n, files


def review_tables(lengths: list[int], received: list[str], uuids: list[str]
                  ) -> list[tuple[str, bytes]]:
    """``l.js`` (word counts, tie-break places), ``r.js`` (days), ``o/`` and ``u/``."""
    import datetime as dt

    order = sorted(range(len(uuids)), key=lambda o: uuids[o])
    order.sort(key=lambda o: received[o], reverse=True)
    place = [0] * len(uuids)
    for k, o in enumerate(order):
        place[o] = k
    codes = bytes(dl_code(n) for n in lengths)  # one byte each (index.rank.dl_code)
    buf = bytearray()
    last = len(uuids) - 1
    for o, p in enumerate(place):
        d = p - (last - o)  # 0 when reviews were added in the order they were received
        varint(2 * d if d >= 0 else -2 * d - 1, buf)
    epoch = dt.date(1970, 1, 1)
    rbuf = bytearray()
    for o in range(len(uuids)):
        varint((dt.date.fromisoformat(received[o][:10]) - epoch).days, rbuf)
    files = [("search/l.js", js("RA.l", z64(codes + bytes(buf)))), ("search/r.js", js("RA.r", z64(bytes(rbuf))))]
    for b in range(0, max(1, -(-len(uuids) // UUIDS))):
        files.append((f"search/o/{b}.js", js("RA.o", b, uuids[b * UUIDS:(b + 1) * UUIDS])))
    by_prefix: dict[str, list] = {c: [] for c in "0123456789abcdef"}
    for o, u in enumerate(uuids):
        by_prefix[u[0]].append([u, o])
    files += [(f"search/u/{p}.js", js("RA.u", p, by_prefix[p])) for p in sorted(by_prefix)]
    return files


def topic_entries(topics: Iterable[str]) -> tuple[list[list], dict[str, int]]:
    """The distinct topics in code point order (their numbers), each ``[topic, [numbers
    of the other topics that topic:"it" finds too]]`` (:func:`index.facets.holders`);
    and the number of each topic."""
    from index.facets import holders

    names = sorted(set(topics))
    number = {t: k for k, t in enumerate(names)}
    held = holders(names)
    return [[t, [number[x] for x in held[t]]] for t in names], number


def facet_tables(topics: list[str], received: list[str]) -> tuple[int, list[tuple[str, bytes]]]:
    """``fm.js`` and the ``tn/`` files from each ordinal's topic and received time;
    returns the number of distinct topics too. Numbers follow code point order, the
    order of equal counts in :mod:`index.facets`, so the page breaks ties by number."""
    entries, number = topic_entries(topics)
    buf = bytearray()
    for t in topics:
        varint(number[t], buf)
    for r in received:
        varint(12 * (int(r[:4]) - 1970) + int(r[5:7]) - 1, buf)
    files = [("search/fm.js", js("RA.fm", z64(bytes(buf))))]
    files += [(f"search/tn/{b}.js", js("RA.tn", b, entries[b * TOPICS:(b + 1) * TOPICS]))
              for b in range(-(-len(entries) // TOPICS))]
    return len(entries), files


def b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def reference_files(spellings: list[tuple[str, str]], post: Postings) -> list[tuple[str, bytes]]:
    """Reference numbers, ``s/`` files and ``f|`` postings from every ``(ref id, folded
    title)`` spelling in the archive; the ``c|<id>`` postings become ``c|<number>`` and
    each id gets an ``i|<id>`` entry (its number)."""
    ids = sorted({rid for rid, _ in spellings} | {k[2:] for k in post.data if k.startswith("c|")})
    number = {rid: n for n, rid in enumerate(ids)}
    titles: list[list[str]] = [[] for _ in ids]
    for rid, title in sorted(set(spellings)):
        titles[number[rid]].append(title)
    holders: dict[str, list[tuple[int, int, list[int]]]] = defaultdict(list)
    for n, ts in enumerate(titles):
        for sub, title in enumerate(ts):
            for g, pos in gram_positions(title).items():
                holders[g].append((n, sub, sorted(set(pos))))
    for g, entries in holders.items():
        post.add_spellings("f|" + g, entries)
    for rid in ids:
        data = post.data.pop("c|" + rid, None)
        if data is not None:
            post.data["c|" + b36(number[rid])] = data
            post.names["c|" + b36(number[rid])] = rid
        post.numbers["i|" + rid] = number[rid]
    return [(f"search/s/{b}.js", js("RA.s", b, titles[b * REFS:(b + 1) * REFS]))
            for b in range(-(-len(ids) // REFS))]


def meta(n: int, shards: int, topics: int = 0) -> dict:
    """What the client needs first (also inlined into search.html, saving a round trip)."""
    return {"format": FORMAT, "n": n, "dict": shards, "refBlock": REFS, "uuidBlock": UUIDS,
            "topics": topics, "topicBlock": TOPICS, "spec": spec()}


def meta_file(payload: dict) -> tuple[str, bytes]:
    return "search/meta.js", js("RA.meta", payload)
