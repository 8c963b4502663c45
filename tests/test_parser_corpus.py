"""The parser against the ground truth of the synthetic corpus (bench/corpus.py).

Every generated record is parsed and compared with its :class:`bench.corpus.Truth`: header,
sections and bodies, abstract, keywords, references (by ref_id), citations (resolution,
dangling, sentence) and flags. 
"""
from __future__ import annotations

import functools


from archive.parser import parse
from archive.references import entry_id
from bench.corpus import RECORD_QUIRKS, Quirks, generate



def compare(g, rec) -> list[tuple[str, str]]:
    """``(kind, message)`` for every way ``rec`` differs from ``g.truth``."""
    t = g.truth
    out: list[tuple[str, str]] = []

    def bad(kind: str, msg: str) -> None:
        out.append((kind, f"{g.name}: {msg}"))

    got = (rec.uuid, rec.received_at, rec.topic, rec.title, rec.encoding)
    want = (t.uuid, t.received_at, t.topic, t.title, t.encoding)
    if got != want:
        bad("header", f"header {got} != {want}")
    secs = [(s.number, s.title) for s in rec.sections]
    if secs != t.sections:
        bad("sections", f"sections {secs} != {t.sections}")
    for s in rec.sections:
        if s.body.strip() != t.texts.get(s.number, "").strip():
            bad("body", f"body of {s.number}: ...{s.body[-120:]!r} != ...{t.texts.get(s.number, '')[-120:]!r}")
    if rec.abstract.strip() != t.abstract:
        bad("abstract", f"abstract {rec.abstract[:80]!r} != {t.abstract[:80]!r}")
    if rec.keywords != t.keywords:
        bad("keywords", f"keywords {rec.keywords} != {t.keywords}")
    refs = [(r.n, r.ref_id, r.year, r.scope) for r in rec.references]
    want_refs = [(n, entry_id(title, t.uuid, scope, n), year, scope)
                 for n, title, year, scope in t.references]
    if refs != want_refs:
        bad("references", f"references differ: parser-only {[r for r in refs if r not in want_refs][:4]}, "
                          f"truth-only {[r for r in want_refs if r not in refs][:4]}")
    cites = [(c.section, c.marker, c.n, c.scope, c.ref_id, c.sentence.rstrip("。；")) for c in rec.citations]
    want_cites = [(c["section"], c["marker"], c["n"], c["scope"],
                   entry_id(c["ref_title"], t.uuid, c["scope"], c["n"]) if c["ref_title"] else None,
                   c["sentence"])
                  for c in t.citations]
    if cites != want_cites:
        first = next(((a, b) for a, b in zip(cites, want_cites) if a != b), None)
        bad("citations", f"{len(cites)} citations vs {len(want_cites)}; first difference {first}")
    flags = {(f.code, f.where) for f in rec.flags}
    extra, missing = flags - t.flags, t.flags - flags
    if extra or missing:
        think_only = ({f for f in extra if f[0] != "think-not-empty"} == set()
                      and {f for f in missing if f[0] != "think-not-empty"} == set())
        bad("think-where" if think_only else "flags",
            f"flags: parser-only {sorted(extra)}, truth-only {sorted(missing)}")
    return out


@functools.cache
def corpus_mismatches() -> tuple[tuple[str, str], ...]:
    high = Quirks(**{name: 0.5 for name in RECORD_QUIRKS}, ref_variants=0.6)
    high.utf16 = high.gb18030 = 0.2
    records = list(generate(300, seed=21)) + list(generate(200, seed=22, quirks=high))
    records += list(generate(40, seed=23, quirks=Quirks.none()))
    out: list[tuple[str, str]] = []
    for g in records:
        parsed = parse(g.data, g.name)
        assert len(parsed) == 1, g.name
        assert parsed[0].raw == g.data
        out += compare(g, parsed[0].record)
    return tuple(out)


def test_parser_agrees_with_the_corpus_truth():
    unexpected = [m for _, m in corpus_mismatches()]
    assert not unexpected, "\n".join(unexpected[:15])


def test_clean_records_parse_without_flags():
    for g in generate(20, seed=5, quirks=Quirks.none()):
        rec = parse(g.data, g.name)[0].record
        assert rec.flags == [], (g.name, rec.flags)
        assert compare(g, rec) == []
