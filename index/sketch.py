"""What near-duplicate detection compares: a review's units and paragraphs, sketched.

A review is cut into *units* (the abstract and each chapter: its sections' bodies in
order, titles left out, since "引言" and "结论与展望" are in every review) and
*paragraphs* (a blank-line block of a body holding at least :data:`PARAGRAPH_MIN`
characters of prose; tables and headings are not prose). Each is folded
(:func:`archive.fold.fold`), stripped of citation markers and whitespace (a copy
renumbered or re-wrapped is still a copy), and cut into overlapping
:data:`SHINGLE`-character shingles. Five characters: long enough that
distinct chapters written from the same phrases share few shingles, short enough that an
edited sentence costs a chapter only the shingles it touches (the shares measured are in
docs/benchmarks.md).

The shingles are hashed here (a polynomial over the code points, whole batches at a
time in numpy) and given to ``rensa`` as 64-bit token hashes; ``rensa`` computes the
MinHash signatures (:data:`UNIT_PERM` slots for a unit, :data:`PARAGRAPH_PERM` for a
paragraph) with the fixed :data:`SEED`, so a signature is the same on every run and
every machine. The LSH band keys are made here too: one 64-bit key per band of
:data:`UNIT_ROWS` (:data:`PARAGRAPH_ROWS`) signature slots, the band's number mixed in,
so that two items share a key only when they agree on a whole band.

Units: 16 bands of 8 slots (two units of Jaccard 0.8 share a band with probability
0.95, of 0.9 with 0.9999, of 0.2 with 4e-5: distinct chapters almost never meet).
Paragraphs: 8 bands of 8 (0.9: 0.99; 0.95: 0.9999), "nearly identical".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from archive.citations import MARKER
from archive.fold import fold_many
from archive.model import ABSTRACT

SHINGLE = 5
SEED = 20261207
UNIT_PERM = 128
UNIT_ROWS = 8  # 16 bands
PARAGRAPH_PERM = 64
PARAGRAPH_ROWS = 8  # 8 bands
UNIT_MIN = 50  # a shorter unit (an empty chapter, a stub) says nothing of a copy
PARAGRAPH_MIN = 80

_SPACE = re.compile(r"\s+")
_BLOCKS = re.compile(r"\n\s*\n")
_MUL = np.uint64(0x100000001B3)  # FNV's prime: the polynomial of the shingle hash
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finaliser spreads the bits
_MIX2 = np.uint64(0x94D049BB133111EB)


@dataclass
class Sketch:
    """One review's sketches: plain arrays, picklable, stored as bytes."""

    units: list[str]  # ABSTRACT or the chapter number, of each row of unit_sigs
    unit_sigs: np.ndarray  # (units, UNIT_PERM) uint32
    unit_bands: np.ndarray  # (units, UNIT_PERM // UNIT_ROWS) uint64
    paragraphs: list[tuple[str, int]]  # (section path, paragraph number from 1)
    paragraph_bands: np.ndarray  # (paragraphs, PARAGRAPH_PERM // PARAGRAPH_ROWS) uint64


def _clean(texts: list[str]) -> list[str]:
    """Folded, without citation markers and whitespace: in one pass over all of them."""
    joined = "\x00".join(fold_many(texts, sep="\x00"))
    return _SPACE.sub("", MARKER.sub("", joined)).split("\x00")


def blocks(body: str) -> list[str]:
    """A body's blank-line blocks; a paragraph's number is its place here, from 1."""
    return _BLOCKS.split(body)


def prose(block: str) -> str:
    """A block's prose lines (a table row or a heading is not a passage)."""
    return "\n".join(ln for ln in block.splitlines() if not ln.lstrip().startswith(("|", "#")))


def pieces(doc: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, int, str]]]:
    """A parsed record (:meth:`archive.model.Record.to_dict` form, as the store keeps it)
    as ``(units, paragraphs)``: ``(key, cleaned text)`` and ``(section, number, cleaned
    text)``, short ones left out. A unit's text is its cleaned prose blocks together."""
    places = [(ABSTRACT, ABSTRACT, doc.get("abstract") or "")]
    places += [(s.get("chapter") or s["number"].split(".")[0], s["number"], s.get("body") or "")
               for s in doc.get("sections", ())]
    cut = [(unit, path, i + 1, prose(b)) for unit, path, body in places
           for i, b in enumerate(blocks(body)) if b.strip()]
    units: dict[str, list[str]] = {}
    paragraphs = []
    for (unit, path, i, _), text in zip(cut, _clean([b for _, _, _, b in cut])):
        units.setdefault(unit, []).append(text)
        if len(text) >= PARAGRAPH_MIN:
            paragraphs.append((path, i, text))
    joined = [(unit, "".join(texts)) for unit, texts in units.items()]
    return [(unit, text) for unit, text in joined if len(text) >= UNIT_MIN], paragraphs


def shingle_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of every text's shingles, one flat uint64 array, and the row offsets
    (``len(texts) + 1``) that say whose they are. Every text has at least
    :data:`SHINGLE` characters."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    if not len(texts):
        return np.zeros(0, np.uint64), np.zeros(1, np.uint64)
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE + 1
    h = codes[:n].copy()
    for j in range(1, SHINGLE):
        h *= _MUL
        h ^= codes[j:n + j]
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    counts = lengths - SHINGLE + 1
    # the shingles of text i start at starts[i] .. starts[i] + counts[i] - 1 (none crosses
    # into the next text)
    index = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    index += np.arange(int(counts.sum()))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.uint64)
    return h[index], offsets


def signatures(texts: list[str], num_perm: int) -> np.ndarray:
    """MinHash signatures, ``(len(texts), num_perm)`` uint32 (rensa's R-MinHash)."""
    import rensa  # noqa: PLC0415 (only the dupes command needs it)

    if not texts:
        return np.zeros((0, num_perm), np.uint32)
    flat, offsets = shingle_hashes(texts)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, num_perm, SEED)
    return np.array(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), num_perm)


def band_keys(sigs: np.ndarray, rows: int) -> np.ndarray:
    """One key per band of ``rows`` slots: ``(len(sigs), perm // rows)`` uint64."""
    n, perm = sigs.shape
    bands = perm // rows
    cells = sigs.reshape(n, bands, rows).astype(np.uint64)
    key = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * _MIX1, (n, bands)).copy()
    for j in range(rows):
        key *= _MUL
        key ^= cells[:, :, j]
    key ^= key >> np.uint64(31)
    key *= _MIX2
    key ^= key >> np.uint64(29)
    return key


def sketch_all(docs: Iterable[dict[str, Any]]) -> list[Sketch]:
    """The sketches of many parsed records, their shingles hashed and signed in two
    batches (one call into rensa per kind, not one per unit)."""
    cut = [pieces(d) for d in docs]
    unit_sigs = signatures([t for units, _ in cut for _, t in units], UNIT_PERM)
    para_sigs = signatures([t for _, paras in cut for _, _, t in paras], PARAGRAPH_PERM)
    unit_keys = band_keys(unit_sigs, UNIT_ROWS)
    para_keys = band_keys(para_sigs, PARAGRAPH_ROWS)
    out, u, p = [], 0, 0
    for units, paras in cut:
        nu, np_ = len(units), len(paras)
        out.append(Sketch(
            units=[k for k, _ in units],
            unit_sigs=unit_sigs[u:u + nu], unit_bands=unit_keys[u:u + nu],
            paragraphs=[(path, i) for path, i, _ in paras],
            paragraph_bands=para_keys[p:p + np_]))
        u, p = u + nu, p + np_
    return out
