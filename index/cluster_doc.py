"""The review document of the OpenSearch index, and the index's mapping.

One document per review, id = its UUID, built from the same pieces as the embedded
index's document (:func:`index.document.review_document`), so both engines read one
analysis:

``g``      every gram of the review (:func:`index.literal.grams`: each CJK character,
           each pair of adjacent ones, each Latin word and part), a keyword array:
           a literal's candidates are the reviews holding all of its grams, and a
           literal of one gram is answered by them exactly, as in the embedded index;
``tg``     the grams of the topic (``topic:``); ``sg`` of the titles (``section:words``);
``rg``     of the reference titles the review lists (``ref:words`` finds the works);
``path``   section numbers and their ancestors, ``abstract``, ``references``;
``refs``   the reference ids the review cites; ``works`` those it lists (related
           reviews share works); ``uuid``; ``received`` (as written);
``c``      per part, the adjacent CJK pairs with positions (``tc``: the topic's), so an
           unspaced Chinese string of 3 characters or more is a phrase query, exact;
``w``      the jieba words of :func:`index.document.unit_words`, each repeated by its
           count and joined by spaces, analysed by OpenSearch's ``whitespace``
           analyser: BM25 ranks on the same words as the embedded index;
``doc``    what a reader needs and no query reads (``enabled: false``, kept in
           ``_source`` only): the parts as written (:class:`index.texts.Texts`' bytes,
           base64), unit keys and cited ids, chapter starts, the reference entries and
           the citations with their sentences, so that a host that never ingested a
           review displays it fully (search, ``refs``, ``export --search``).

Versions are *external*: :func:`external_version` orders deliveries by received time,
ties broken by the content hash, so whichever host writes last, the newest delivery
stays, an older re-delivery never overwrites it and a re-run changes nothing.
The mapping is ``dynamic: strict`` and the index uses no script.
"""
from __future__ import annotations

import base64
import calendar
import time

from archive.model import Record
from index.analysis import fold
from index.document import review_document, written_parts
from index.literal import grams, run_pairs
from index.texts import title_part
from index.units import units

#: Seconds are counted from 2000-01-01, leaving 31 bits below them for the hash.
_EPOCH = calendar.timegm((2000, 1, 1, 0, 0, 0))

_KEYWORD = {"type": "keyword", "doc_values": False}  # existence only: no sorting, no aggregations
#: Adjacent CJK pairs with their positions (:func:`index.literal.run_pairs`), one value
#: per part: a phrase never runs from one part into the next (the gap between values).
_PAIRS = {"type": "text", "analyzer": "whitespace", "index_options": "positions", "norms": False,
          "position_increment_gap": 100}
#: The layout of the documents and the mapping; an index of another one is refused.
FORMAT = 1


def mapping(shards: int = 1, replicas: int = 0) -> dict:
    """The index's settings and mapping (see the module's docstring)."""
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "codec": "best_compression",
                "max_result_window": 10000,
                "refresh_interval": "1s",
                # a purge expunges every segment holding a deleted document (default 10 %)
                "merge.policy.expunge_deletes_allowed": 0,
            },
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"review_archive_format": FORMAT},
            "_source": {"excludes": ["g", "tg", "sg", "rg", "w", "c", "tc", "path"]},
            "properties": {
                "uuid": {"type": "keyword"},
                "received": {"type": "keyword"},
                "topic": {"type": "keyword", "index": False, "doc_values": False},
                "sha256": {"type": "keyword", "index": False, "doc_values": False},
                "host": {"type": "keyword"},
                "g": _KEYWORD,
                "tg": _KEYWORD,
                "sg": _KEYWORD,
                "rg": _KEYWORD,
                "path": _KEYWORD,
                "refs": _KEYWORD,
                "works": _KEYWORD,
                "w": {"type": "text", "analyzer": "whitespace", "index_options": "freqs"},
                "c": _PAIRS,
                "tc": _PAIRS,
                "doc": {"type": "object", "enabled": False},
            },
        },
    }


def external_version(received_at: str, sha256: str) -> int:
    """The document's external version: received time, then the content hash."""
    secs = calendar.timegm(time.strptime(received_at[:19], "%Y-%m-%d %H:%M:%S")) - _EPOCH
    return (max(secs, 0) << 31) | (int(sha256[:8], 16) >> 1)


def cluster_document(record: Record, sha256: str, host: str) -> dict:
    """The cluster's document of a review's current version (its ``_source``)."""
    us = units(record)
    folded = [fold(x) for x in written_parts(record, us)]  # (once, for both documents)
    base = review_document(record, 0, folded, compact=True)  # (a sixth of the bytes to send)
    titles = {u.key: u.heading for u in us}  # (the abstract's heading: 摘要)
    title_grams: set[str] = set()
    for i in range(len(us)):
        title_grams |= grams(folded[title_part(i)])
    ref_grams: set[str] = set()
    spellings = []
    for r in record.references:
        ref_grams |= grams(fold(r.title))
        spellings.append([r.ref_id, r.title])  # (as written: `refs` shows them)
    words = []
    for w, (n, _, _) in base["w"].items():
        if " " not in w:  # (a whitespace-analysed field: a word never holds a space)
            words.extend([w] * n)
    received, uuid, count, starts = base["key"].decode("ascii").split("|")
    return {
        "uuid": record.uuid,
        "received": record.received_at,
        "topic": record.topic,
        "sha256": sha256,
        "host": host,
        "g": sorted(base["g"]),
        "tg": sorted(grams(folded[0])),
        "sg": sorted(title_grams),
        "rg": sorted(ref_grams),
        "path": sorted(base["path"]),
        "refs": sorted(base["refs"]),
        "works": sorted({r.ref_id for r in record.references}),
        "w": " ".join(words),
        "c": [run_pairs(f) for f in folded],
        "tc": run_pairs(folded[0]),
        "doc": {
            "text": base64.b64encode(base["text"]).decode("ascii"),
            "keys": base["keys"],
            "cites": base["cites"],
            "words": int(count),
            "starts": starts,
            "spellings": spellings,
            "references": [[r.n, r.title, r.year, r.raw, r.ref_id, r.scope] for r in record.references],
            "citations": [[c.section, titles.get(c.section, ""), c.marker, c.sentence, c.n, c.scope, c.ref_id]
                          for c in record.citations if c.ref_id],
        },
    }
