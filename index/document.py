"""One search-index document per review, and one small one per reference spelling.

A review document (``kind`` ``review``) holds everything a query needs without the
archive. Its text is a list of *parts*: part 0 the topic, then for each unit
(:func:`index.units.units`) its title (part ``1 + 2i``) and its body (part ``2 + 2i``).

``g``     every gram of every part (:func:`index.literal.grams`), with a *part map* as
          the posting's value: bit ``j`` set when part ``j`` holds the gram
          (:func:`index.encoding.encode_parts`). A literal's candidates are the AND of its grams' postings; the AND of
          their part maps says which parts may hold it, which answers ``topic:`` (bit 0),
          ``section:`` scopes, title boosts and "the terms meet in one section" without
          reading the text.
``w``     jieba words (:mod:`index.words`), weight = the word's count in the review:
          BM25's term frequency.
``path``  every section number and its ancestors (``3``, ``3.1``, ``3.1.2``),
          ``abstract``, ``references``; value: the part map of that section's subtree
          (``section:3.1``).
``refs``  the reference ids the review cites: ``ref:r0123456789``.
``uuid``  the review id (unique); ``key`` (column) ``received|uuid|words|chapters``
          for date filters, tie-breaks, BM25's document length and the units where
          each chapter starts (:func:`index.units.chapter_starts`), read in one go;
          ``facet`` (column) the topic, UTF-8: what ``search --facets`` counts, read
          only then (a stored field would cost ~23 us a review to inflate and unpickle;
          in ``key`` it cost every search of a common word ~4 ms more to read and split).

Stored: ``version`` (the archive version indexed), ``topic``, ``received``, ``keys``
(unit keys, ``\x1f``-joined) and ``cites`` (cited ids per unit, ``;`` between units,
``,`` between ids). The parts as written are a column, ``text`` (:class:`index.texts.Texts`):
consecutive parts joined by :data:`index.literal.SEP` and zstd-compressed in chunks of
about :data:`CHUNK` bytes, behind a small table of where each chunk starts (zstd: the
size of zlib at level 6 and faster to inflate, which is most of what checking a
candidate costs). A check
reads that one value and inflates only the chunk holding the part a part map points
at (Whoosh's stored fields would inflate and unpickle the whole record first); a
snippet maps the folded match back to the text as written.

A reference document (``kind`` ``ref``) per distinct spelling ``(id, title)`` among
the archive's current versions (``rkey``, unique: the id and the title; ``rg``: grams
of the title; stored ``refid`` and folded ``rtitle``). ``ref:words`` finds the ids
whose title holds the words, then the reviews citing them: every use of a work,
whichever spelling a review gives it. :mod:`index.indexer` keeps these documents in
step with the archive.
"""
from __future__ import annotations

from collections import Counter

from archive.model import ABSTRACT, Record
from index.analysis import fold
from index.encoding import encode_parts
from index.literal import SEP, grams
from index.texts import body_part, pack_text, title_part
from index.units import REFERENCES, chapter_starts, paths, units
from index.words import count_words

def clean(text: str) -> str:
    return text.replace(SEP, " ")


def unit_words(folded_part, n_units: int) -> Counter:
    """A review's ranking words with their counts: the topic, then each unit's title and
    body (``folded_part(j)``: part ``j``, folded). The index's ``w`` field, and what
    :mod:`index.similar` counts again from the stored parts."""
    tf: Counter[str] = Counter()
    count_words(folded_part(0), tf)
    for i in range(n_units):
        count_words(folded_part(title_part(i)) + "\n" + folded_part(body_part(i)), tf)
    return tf


def written_parts(record: Record, us) -> list[str]:
    """A review's parts as written (the topic, then each unit's title and body): the
    layout of :mod:`index.texts`, for the embedded index and the cluster's alike."""
    return [clean(record.topic)] + [clean(x) for u in us for x in (u.title, u.body)]


def review_document(record: Record, version_id: int, folded: list[str] | None = None,
                    compact: bool = False) -> dict:
    """The review document (``folded``: its parts folded, when the caller has them;
    ``compact``: its text in the compact layout, :func:`index.texts.pack_text`)."""
    us = units(record)
    written = written_parts(record, us)
    folded = folded if folded is not None else [fold(x) for x in written]
    maps: dict[str, int] = {}
    for j, part in enumerate(folded):
        bit = 1 << j
        for g in grams(part):
            maps[g] = maps.get(g, 0) | bit
    tf = unit_words(folded.__getitem__, len(us))
    subtree: dict[str, int] = {}
    for i, u in enumerate(us):
        bits = (1 << title_part(i)) | (1 << body_part(i))
        for p in [u.key] if u.key in (ABSTRACT, REFERENCES) else paths(u.key):
            subtree[p] = subtree.get(p, 0) | bits
    cited = list(dict.fromkeys(r for u in us for r in u.refs))
    doc = {
        "kind": "review",
        "uuid": record.uuid,
        "key": (f"{record.received_at}|{record.uuid}|{sum(tf.values())}|"
                f"{','.join(map(str, chapter_starts(us)))}").encode("ascii", "replace"),
        "facet": record.topic.encode("utf-8"),
        "g": {g: (1, 1.0, encode_parts(m)) for g, m in maps.items()},
        "w": {w: (n, float(n), b"") for w, n in tf.items()},
        "path": {p: (1, 1.0, encode_parts(m)) for p, m in subtree.items()},
        "refs": {r: (1, 1.0, b"") for r in cited},
        "version": version_id,
        "topic": record.topic,
        "received": record.received_at,
        "keys": "\x1f".join(u.key for u in us),
        "cites": ";".join(",".join(u.refs) for u in us),
        "text": pack_text(written, compact),
    }
    return doc


def reference_document(ref_id: str, title: str) -> dict:
    """The document of one spelling of a reference."""
    folded = fold(title)
    return {"kind": "ref", "rkey": f"{ref_id}|{title}", "refid": ref_id, "rtitle": folded,
            "rg": {g: (1, 1.0, b"") for g in grams(folded)}}
