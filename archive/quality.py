"""Quality over time and by topic: the read model behind ``reviews stats --by month|topic``
and the quality report's defect-rate chart and topic table.

Why rates of *reviews*: a kind's figure is how many of every 100 reviews have it at least
once, so a review missing eight sections counts once for ``missing-chapter`` and a month
of many reviews compares with a month of few. Beside them ``defects_per_100`` counts every
defect flag. The reference figures say how the lists themselves change: entries per review,
the share of the main list's entries without a year (what ``reference-no-year`` flags; a
chapter's own list names authors, rarely a year) and the share of all entries that no
marker cites (``reference-uncited``).

Every figure is of the current version of each review (``reviews`` joined on
``current_version``), grouped by the month it was received or by its exact topic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.listing import by_month
from archive.model import DEFECT, Flag

#: What a group is keyed by: the month received (YYYY-MM) or the topic as written.
GROUPINGS = {"month": "substr(r.received_at, 1, 7)", "topic": "coalesce(r.topic, '')"}


def _rate(part: int, whole: int) -> float | None:
    """``part`` per 100 of ``whole``, to one decimal (None when there is no whole)."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Quality:
    """The figures of one month or one topic."""

    key: str  # "2025-11" or a topic
    reviews: int
    defective: int = 0  # reviews with at least one defect
    defects: int = 0  # defect flags
    kinds: dict[str, int] = field(default_factory=dict)  # defect code -> reviews with it
    references: int = 0  # entries of every list
    main_references: int = 0  # entries of the review's own list (# 参考文献)
    yearless: int = 0  # of those, entries without a year
    uncited: int = 0  # entries of every list that no marker cites

    @property
    def defective_per_100(self) -> float | None:
        return _rate(self.defective, self.reviews)

    def to_dict(self, by: str) -> dict[str, Any]:
        """The figures for ``--json``: the counts and the rates ``reviews stats`` prints."""
        return {
            by: self.key, "reviews": self.reviews,
            "defective": self.defective, "defective_per_100": self.defective_per_100,
            "defects": self.defects, "defects_per_100": _rate(self.defects, self.reviews),
            "kinds": {code: {"reviews": n, "per_100": _rate(n, self.reviews)}
                      for code, n in self.kinds.items()},
            "references": self.references,
            "references_per_review": (round(self.references / self.reviews, 1)
                                      if self.reviews else None),
            "yearless": self.yearless,
            "yearless_percent": _rate(self.yearless, self.main_references),
            "uncited": self.uncited, "uncited_percent": _rate(self.uncited, self.references),
        }


def quality(store, by: str) -> list[Quality]:
    """The figures per month (every month from the first to the last, months without
    reviews included, so that a chart's axis is time) or per topic (most reviews first,
    then by topic). ``kinds`` lists the defect kinds present, most reviews first."""
    if by not in GROUPINGS:
        raise ValueError(f"quality figures are by {' or '.join(GROUPINGS)}, not {by!r}")
    key = GROUPINGS[by]
    cur = "JOIN reviews r ON r.current_version = t.version_id"
    if by == "month":
        counts = dict(by_month(store))
    else:
        counts = dict(store.execute(f"SELECT {key}, count(*) FROM reviews r GROUP BY 1"))
    kinds: dict[str, dict[str, int]] = {}
    defects: dict[str, int] = {}
    for group, code, n_reviews, n_flags in store.execute(
            f"SELECT {key}, t.code, count(DISTINCT t.version_id), count(*) FROM flags t {cur}"
            " GROUP BY 1, 2"):
        if Flag(code).severity == DEFECT:
            kinds.setdefault(group, {})[code] = n_reviews
            defects[group] = defects.get(group, 0) + n_flags
    defect_codes = sorted({code for k in kinds.values() for code in k})
    marks = ",".join("?" * len(defect_codes))
    defective = dict(store.execute(
        f"SELECT {key}, count(DISTINCT t.version_id) FROM flags t {cur}"
        f" WHERE t.code IN ({marks}) GROUP BY 1", defect_codes)) if defect_codes else {}
    uncited = dict(store.execute(
        f"SELECT {key}, count(*) FROM flags t {cur} WHERE t.code = 'reference-uncited' GROUP BY 1"))
    refs = {group: rest for group, *rest in store.execute(
        f"SELECT {key}, count(*), total(t.scope = ''), total(t.scope = '' AND t.year IS NULL)"
        f" FROM refs t {cur} GROUP BY 1")}
    out = []
    for group, n in counts.items():
        listed, main, yearless = refs.get(group, (0, 0, 0))
        mine = kinds.get(group, {})
        out.append(Quality(
            group, n, defective.get(group, 0), defects.get(group, 0),
            dict(sorted(mine.items(), key=lambda kv: (-kv[1], kv[0]))),
            listed, int(main), int(yearless), uncited.get(group, 0)))
    if by == "topic":
        out.sort(key=lambda q: (-q.reviews, q.key))
    return out


def worst_topics(store, limit: int = 10, min_reviews: int = 3) -> list[Quality]:
    """The topics with the highest share of reviews with a defect, among those with at
    least ``min_reviews`` reviews (one bad review of a topic's only one says little);
    ties: more reviews first, then by topic."""
    rows = [q for q in quality(store, "topic") if q.reviews >= min_reviews]
    rows.sort(key=lambda q: (-q.defective / q.reviews, -q.reviews, q.key))
    return rows[:limit]
