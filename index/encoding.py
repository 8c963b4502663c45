"""Byte encodings of the index's values, shared by the writer and the reader.

Varints; part maps (:func:`encode_parts`: a bitmap or the list of set bits, whichever is
shorter); and a block's values as one byte string (:func:`pack_values`: each value's
length as a varint, then the value), which :class:`index.codec.FastCodec` writes in
place of Whoosh's pickled tuple of byte strings. No Whoosh here: the search path reads
the index with :mod:`index.reader` and never imports it.
"""
from __future__ import annotations

from itertools import accumulate


def varint(n: int, out: bytearray) -> None:
    if n < 0x80:  # (most values: one byte, no loop)
        out.append(n)
        return
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def read_varint(data: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def encode_parts(bits: int) -> bytes:
    """A part map as bytes: ``0`` then the little-endian bitmap, or ``1`` then the set
    bits as varint deltas, whichever is shorter (never empty)."""
    bitmap = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    if bits.bit_count() * 2 >= len(bitmap):
        return b"\x00" + bitmap
    out = bytearray(b"\x01")
    prev, m = 0, bits
    while m:  # (set bits only, lowest first: few of them on this branch)
        low = m & -m
        j = low.bit_length() - 1
        varint(j - prev, out)
        prev = j
        m ^= low
    return bytes(out)


def decode_parts(value: bytes) -> int:
    if value[0] == 0:
        return int.from_bytes(value[1:], "little")
    body = value[1:]
    bits = 0
    if body and max(body) < 0x80:  # every delta one byte (nearly always): no varint loop
        for at in accumulate(body):
            bits |= 1 << at
        return bits
    at, i = 0, 1
    while i < len(value):
        delta, i = read_varint(value, i)
        at += delta
        bits |= 1 << at
    return bits


def pack_values(values) -> bytes:
    out = bytearray()
    for v in values:
        varint(len(v), out)
        out += v
    return bytes(out)


def unpack_values(data: bytes) -> tuple[bytes, ...]:
    out, i, end = [], 0, len(data)
    while i < end:
        n = data[i]
        if n < 0x80:  # (a length of one byte: nearly always)
            i += 1
        else:
            n, i = read_varint(data, i)
        out.append(data[i:i + n])
        i += n
    return tuple(out)
