"""Plain-text and JSON renderings of archive objects for the CLI (no I/O here)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Iterable, Iterator

from archive.days import parse_day
from archive.errors import NotFound
from archive.model import ABSTRACT, DEFECT, NOTE, REFERENCES, SECTION_NAMES, Flag, Record, Section
from shell.output import Styled, marked, n, plain


def check_date(value: str | None, option: str) -> str | None:
    return parse_day(option, value)


def short(uuid: str) -> str:
    return uuid[:8]


# -- ingest -------------------------------------------------------------------------------
def refusal_lines(rep) -> list[str]:
    """One line per refused input (for stderr)."""
    return [f"refused {src}: {reason}" for src, reason in rep.refused]


def ingest_lines(rep) -> list[str]:
    """The notes and the summary line (for stdout)."""
    lines = list(getattr(rep, "notes", []))
    lines.append(
        f"{rep.added} added, {rep.versions} new versions, {rep.unchanged} unchanged, {len(rep.refused)} refused"
    )
    return lines


def ingest_dict(rep) -> dict:
    return {
        "added": rep.added,
        "versions": rep.versions,
        "unchanged": rep.unchanged,
        "refused": [{"source": s, "reason": r} for s, r in rep.refused],
        "changed": list(rep.changed),
        "notes": list(getattr(rep, "notes", [])),
    }


# -- list / versions ------------------------------------------------------------------------
EMPTY = "no reviews yet; `reviews ingest FILES` adds some"


def list_lines(rows) -> list[str]:
    if not rows:
        return ["no reviews match"]
    out = []
    for r in rows:
        extra = []
        if r.versions > 1:
            extra.append(f"{r.versions} versions")
        if r.flags:
            extra.append("flags: " + ",".join(r.flags))
        tail = f"  ({'; '.join(extra)})" if extra else ""
        out.append(f"{short(r.uuid)}  {r.received_at[:16]}  {r.topic}{tail}")
    return out


def retracted_dicts(rows) -> list[dict]:
    """``Store.retracted()``'s rows for JSON."""
    return [dict(zip(("uuid", "topic", "retracted_at", "reason", "versions"), r)) for r in rows]


def retracted_lines(rows) -> list[str]:
    return [f"{uuid[:8]}  retracted {at[:16]}  {topic or ''}  ({n(count, 'version')}; {reason})"
            for uuid, topic, at, reason, count in rows]


def summary_dict(r) -> dict:
    return r.known()


def version_dict(v) -> dict:
    return asdict(v)


def version_lines(vers) -> list[str]:
    out = []
    for v in vers:
        mark = "*" if v.is_current else " "
        out.append(
            f"{mark} v{v.number}  接收时间 {v.received_at}  ingested {v.ingested_at}  "
            f"{v.size} bytes {v.encoding or ''}  sha256 {v.sha256[:12]}  {v.source or ''}".rstrip()
        )
    out.append("(* = current: the latest 接收时间; vN = the Nth delivery of this review, "
               "for show --version N)")
    return out


# -- show -----------------------------------------------------------------------------------
def section_key(rec: Record, number: str) -> str:
    """The section ``show --section`` names: a number, ``abstract``/``摘要`` or
    ``references``/``参考文献``; :class:`NotFound` saying why when the review has
    none (missing from the content though the outline lists it, or unknown)."""
    key = number.strip().lower()
    key = SECTION_NAMES.get(key, key)
    if key in (ABSTRACT, REFERENCES) or subtree(rec, key):
        return key
    missing = next((f for f in rec.flags if f.code == "missing-chapter" and f.where == key), None)
    if missing:
        raise NotFound(f"section {key} is in the outline ({missing.detail}) but missing "
                       f"from the content of review {rec.uuid[:8]}")
    chapters = [s.number for s in rec.chapters()]
    known = ", ".join(chapters[:20]) + (f", … ({len(chapters)} in all)" if len(chapters) > 20 else "")
    raise NotFound(f"review {rec.uuid[:8]} has no section {number} (chapters: {known}; "
                   "also abstract/摘要 and references/参考文献)")


def subtree(rec: Record, number: str) -> list[Section]:
    if number == ABSTRACT:
        body = "\n\n".join(p for p in (rec.abstract, "关键词：" + "，".join(rec.keywords)
                                         if rec.keywords else "") if p)
        return [Section(ABSTRACT, "摘要", 1, body, ABSTRACT)]
    if number == REFERENCES:
        body = "\n".join(r.raw for r in rec.references if not r.scope)
        return [Section(REFERENCES, "参考文献", 1, body, REFERENCES)]
    return [s for s in rec.sections if s.number == number or s.number.startswith(number + ".")]


def section_text(rec: Record, number: str) -> str:
    parts = []
    for s in subtree(rec, number):
        head = s.title if s.number in (ABSTRACT, REFERENCES) else f"{s.number} {s.title}"
        parts.append(f"{'#' * (s.depth + 1)} {head}")
        if s.body:
            parts.append(s.body)
    return "\n\n".join(parts)


def review_dict(rec: Record, vers) -> dict:
    """``show --json``: the record and its versions."""
    return {**rec.to_dict(), "versions": [version_dict(v) for v in vers]}


def show_text(rec: Record, vers) -> str:
    cites = Counter((c.scope, c.n) for c in rec.citations if not c.dangling)
    lines = [
        rec.topic or rec.title or "(no topic)",
        f"UUID      {rec.uuid}",
        f"接收时间  {rec.received_at}",
        f"versions  {len(vers)}  encoding {rec.encoding}",
    ]
    if rec.keywords:
        lines.append("关键词    " + ", ".join(rec.keywords))
    lines += ["", "Outline:"]
    outlined = {s.number for s in rec.sections}
    for o in rec.outline:
        if not o.number:
            continue
        missing = "" if o.number in outlined else "   [missing from content]"
        lines.append(f"{'  ' * o.depth}{o.number} {o.title}{missing}")
    lines += ["", "Sections:"]
    for s in rec.sections:
        n = sum(1 for c in rec.citations if c.section == s.number)
        lines.append(f"{'  ' * s.depth}{s.number} {s.title}  ({len(s.body)} chars, {n} citations)")
    for scope in sorted({r.scope for r in rec.references}):
        lines += ["", "References:" if not scope else f"References of chapter {scope}:"]
        for r in rec.references:
            if r.scope != scope:
                continue
            year = f" {r.year}" if r.year else ""
            lines.append(f"  [{r.n}] {r.title}.{year}  (cited {cites[(scope, r.n)]}x, {r.ref_id})")
    lines += ["", "Flags:"]
    lines += [f"  {f.describe()}" for f in rec.flags] or ["  none"]
    return "\n".join(lines)


# -- check / stats ----------------------------------------------------------------------------
def check_lines(flags: dict[str, list[Flag]], topics: dict[str, str], notes: bool = False) -> list[str]:
    """The quality report: each review's defects (and its notes with ``notes``), a
    problem repeated in one review shown once with its count, then the totals."""
    out = []
    defects = hidden = 0
    for uuid, fl in flags.items():
        shown = [f for f in fl if notes or f.severity == DEFECT]
        defects += sum(1 for f in fl if f.severity == DEFECT)
        hidden += sum(1 for f in fl if f.severity != DEFECT) if not notes else 0
        if not shown:
            continue
        out.append(f"{short(uuid)}  {topics.get(uuid, '')}")
        counts = Counter((f.severity, f.describe()) for f in shown)
        for (severity, text), n in counts.items():
            tag = "" if severity == DEFECT else "note: "
            out.append(f"  {tag}{text}" + (f" (×{n})" if n > 1 else ""))
    if not flags:
        return [EMPTY]
    with_defects = sum(1 for fl in flags.values() if any(f.severity == DEFECT for f in fl))
    line = f"{defects} defects in {with_defects} of {len(flags)} reviews"
    n_notes = sum(1 for fl in flags.values() for f in fl if f.severity != DEFECT)
    if n_notes:
        line += f"; {n_notes} notes" + (" (--all shows them)" if hidden else "")
    out.append(line)
    return out


def check_dicts(flags: dict[str, list[Flag]], topics: dict[str, str]) -> list[dict]:
    """``check --json``: each review's flags with their severity."""
    return [{"uuid": u, "topic": topics.get(u, ""),
             "flags": [{**f.__dict__, "severity": f.severity} for f in fl]}
            for u, fl in flags.items()]


def with_severity(st: dict) -> dict:
    """The store's stats with ``defects`` and ``notes`` (counts of flags) beside ``flags``."""
    by_code = st.get("flags_by_code") or {}
    return {**st, "defects": sum(n for c, n in by_code.items() if Flag(c).severity == DEFECT),
            "notes": sum(n for c, n in by_code.items() if Flag(c).severity == NOTE)}


def figure_rows(figures: dict) -> list[tuple[str, list[tuple[str, int]]]]:
    """``(title, [(label, value)])`` of each figure of :func:`archive.listing.figures`."""
    return [
        ("reviews received per month", list(figures["months"])),
        ("most cited works (citations)", [(f"{r['ref_id']} {r['title']}", r["citations"])
                                          for r in figures["cited"]]),
        ("topics with the most reviews", list(figures["topics"])),
        ("reviews with each defect", list(figures["defects"])),
    ]


def figure_lines(figures: dict) -> list[str]:
    """The figures as text bar charts, each after a blank line and its title."""
    if not figures:
        return []
    from publish.charts import text_bars

    out = []
    for title, rows in figure_rows(figures):
        out += ["", title]
        out += ["  " + line for line in text_bars(rows, width=30)]
    return out


def stats_lines(st: dict) -> list[str]:
    """The archive's figures; quality flags as defects and notes, each by code."""
    keys = ["reviews", "versions", "references", "citations", "dangling"]
    out = [f"{k:<11}{st.get(k, 0)}" for k in keys]
    by_code = st.get("flags_by_code") or {}
    width = max([24] + [len(code) + 2 for code in by_code])  # a space after the longest code
    for kind, label in ((DEFECT, "defects"), (NOTE, "notes")):
        mine = {c: n for c, n in by_code.items() if Flag(c).severity == kind}
        out.append(f"{label:<11}{sum(mine.values())}")
        out.extend(f"  {code:<{width}}{n}" for code, n in sorted(mine.items(), key=lambda kv: (-kv[1], kv[0])))
    if not st.get("reviews"):
        out.append(EMPTY)
    return out


def quality_lines(rows, by: str) -> list[str]:
    """``stats --by month|topic``: a line of figures per group (the group last: a topic is
    long), then the defect kinds of the group, each as reviews with it per 100 reviews."""
    def rate(x) -> str:
        return "–" if x is None else f"{x:.1f}"

    head = ["reviews", "defective/100", "defects/100", "refs/review", "no year %", "uncited %"]
    out = ["  ".join(head) + f"  {by}"]
    for q in rows:
        d = q.to_dict(by)
        cells = [str(q.reviews), rate(d["defective_per_100"]), rate(d["defects_per_100"]),
                 rate(d["references_per_review"]), rate(d["yearless_percent"]),
                 rate(d["uncited_percent"])]
        out.append("  ".join(c.rjust(len(h)) for c, h in zip(cells, head))
                   + f"  {q.key or '(no topic)'}")
        if d["kinds"]:
            out.append("    " + ", ".join(f"{code} {k['per_100']:.1f}" for code, k in d["kinds"].items()))
    if not rows:
        out = [EMPTY]
    return out


# -- search, refs ---------------------------------------------------------------------------
def search_lines(res, offset: int) -> list[str]:
    """A page of search results: each review, the sections holding the terms with their
    marked snippets, then which of how many reviews these are."""
    out = []
    for r in res.reviews:
        out.append(f"{r.uuid[:12]}  {r.received_at[:10]}  {r.topic}  ({n(r.n_sections, 'section')})")
        for s in r.sections:
            out.append(f"  {s.number} {s.title}")
            if s.snippet:
                out.append(Styled("    " + marked(s.snippet)))
    shown = f"{offset + 1}-{offset + len(res.reviews)} of " if res.reviews else ""
    out.append(f"{shown}{n(res.total_reviews, 'review')}")
    return out


def facet_lines(facets, top: int = 10) -> list[str]:
    """``search --facets``: the ``top`` biggest topics and every month, each with how
    many matches stand in it (``--json`` gives every topic, with its refinement)."""
    out = [f"by topic ({n(len(facets.topics), 'topic')}):"]
    out += [f"  {f.count:>6}  {f.value or '(no topic)'}" for f in facets.topics[:top]]
    if len(facets.topics) > top:
        out.append(f"  … {len(facets.topics) - top} more topics (--json lists every one)")
    out.append("by month received:")
    out += [f"  {f.count:>6}  {f.value}" for f in facets.months]
    return out


def top_lines(rows) -> list[str]:
    """``refs --top``: each work with its citations and citing reviews."""
    return [f"{r.ref_id}  {n(r.citations, 'citation', 4)}  {n(r.reviews, 'review', 3)}  {r.title}"
            for r in rows]


def dangling_dicts(rows) -> list[dict]:
    return [dict(uuid=d.uuid, topic=d.topic, section=d.section, marker=d.marker,
                 sentence=d.sentence) for d in rows]


def dangling_lines(rows) -> list[str]:
    """``refs --dangling``: each marker where it stands, with its sentence."""
    return ([f"{d.uuid[:12]}  {d.section}  {d.marker}  {d.sentence}" for d in rows]
            or ["no dangling citations"])


def uses_lines(groups: Iterable, found: int) -> Iterator[str]:
    """``refs WORDS``: each work shown (its other spellings), then every citation of it
    with the review, the section and the sentence, the marker highlighted; then how many
    of the ``found`` works were not shown. Line by line, as each work's citations are
    read (one work can be cited 100,000 times)."""
    from index.refs import marker_span

    shown = 0
    for g in groups:
        shown += 1
        yield f"{g.ref_id}  {g.title}  ({n(len(g.uses), 'citation')} in {n(g.n_reviews, 'review')})"
        yield from (f"    also: {other}" for other in g.titles[1:])
        for u in g.uses:
            span = marker_span(u)
            sentence = (marked([(u.sentence[:span[0]], False), (u.marker, True),
                                (u.sentence[span[1]:], False)]) if span else plain(u.sentence))
            yield f"  {u.uuid[:12]}  {u.received_at[:10]}  {u.section} {u.section_title}"
            yield Styled("    " + sentence)
    if found > shown:
        yield f"… {found - shown} more works, use --all (or --limit N)"
    if not found:
        yield "no reference matches"
