"""What ``reviews dupes`` prints: groups of near-duplicate reviews and recycled passages,
as text lines and as JSON (full UUIDs)."""
from __future__ import annotations

from archive.model import ABSTRACT
from shell.output import n

_PREVIEW = 60  # characters of a passage shown in the text form


def unit_name(key: str) -> str:
    return "摘要" if key == ABSTRACT else key


def shared_text(shared) -> str:
    """``摘要 1-4 5→6 6→5 7-9``: the units two reviews share, first review's number first;
    a run of chapters matched under their own numbers as one range."""
    parts: list[str] = []
    run: list[int] = []

    def close() -> None:
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run.clear()

    for s in shared:
        if s.first == s.other and s.first.isdigit():
            if run and int(s.first) != run[-1] + 1:
                close()
            run.append(int(s.first))
            continue
        close()
        parts.append(unit_name(s.first) if s.first == s.other
                     else f"{unit_name(s.first)}→{unit_name(s.other)}")
    close()
    return " ".join(parts)


def group_dicts(groups) -> list[dict]:
    return [{"similarity": g.similarity, "first": g.first.uuid,
             "reviews": [{"uuid": m.uuid, "received_at": m.received_at, "topic": m.topic,
                          "similarity": m.similarity,
                          "shared": [{"first": s.first, "other": s.other, "similarity": s.similarity}
                                     for s in m.shared]} for m in g.members]} for g in groups]


def group_lines(groups) -> list[str]:
    lines: list[str] = []
    for i, g in enumerate(groups, 1):
        if i > 1:
            lines.append("")
        lines.append(f"group {i}: {n(len(g.members), 'review')}, similarity {g.similarity:.2f}")
        first = g.first
        lines.append(f"  first  {first.uuid[:12]}  {first.received_at}  {first.topic}")
        for m in g.members[1:]:
            lines.append(f"  {m.similarity:.2f}   {m.uuid[:12]}  {m.received_at}  {m.topic}")
            lines.append(f"         shares {shared_text(m.shared)}")
    return lines


def passage_dicts(passages) -> list[dict]:
    return [{"text": p.text, "reviews": p.reviews,
             "occurrences": [{"uuid": o.uuid, "received_at": o.received_at, "topic": o.topic,
                              "section": o.section, "paragraph": o.paragraph}
                             for o in p.occurrences]} for p in passages]


def passage_lines(passages) -> list[str]:
    lines: list[str] = []
    for i, p in enumerate(passages, 1):
        text = p.text if len(p.text) <= _PREVIEW else p.text[:_PREVIEW] + "…"
        if i > 1:
            lines.append("")
        lines += [f"passage {i}: in {n(p.reviews, 'review')}", f"  {text}"]
        lines += [f"  {o.uuid[:12]}  {o.received_at}  {unit_name(o.section)} ¶{o.paragraph}  {o.topic}"
                  for o in p.occurrences]
    return lines
