"""The charts of the home page and the quality report: the archive's figures
(:func:`archive.listing.figures`, the ones ``reviews stats`` prints) drawn by
:mod:`publish.charts`, with each bar linked to its page."""
from __future__ import annotations

from markupsafe import Markup

from archive.model import FLAG_KINDS

from . import urls
from .charts import Bar, bars, columns


def home_charts(figures: dict) -> dict[str, Markup]:
    link = urls.Linker(urls.HOME)
    months = figures["months"]
    return {
        "months": columns(
            "每月收到的综述", [Bar(m, n) for m, n in months], value_label="综述（篇）",
            axis_label="月份", chart_id="chart-months",
            desc=(f"{months[0][0]} 至 {months[-1][0]}，共 {sum(n for _, n in months)} 篇"
                  if months else "")),
        "cited": bars(
            "被引最多的文献", [Bar(r["title"] or r["ref_id"], r["citations"], link(urls.ref(r["ref_id"])),
                                  f"引用 {r['citations']} 次，{r['reviews']} 篇综述列出")
                           for r in figures["cited"]],
            value_label="引用（次）", axis_label="文献", chart_id="chart-cited",
            desc="按引用次数排列的前几篇文献"),
        "topics": bars(
            "综述最多的主题", [Bar(t, n, link(urls.topic(t))) for t, n in figures["topics"]],
            value_label="综述（篇）", axis_label="主题", chart_id="chart-topics",
            desc="按综述篇数排列的主题"),
    }


def _label(code: str) -> str:
    return FLAG_KINDS[code].label if code in FLAG_KINDS else code


def quality_charts(figures: dict, months: list | None = None) -> dict[str, Markup]:
    """The quality report's charts: the reviews with each kind of defect, and (``months``:
    :func:`archive.quality.quality` by month) the share of reviews with a defect in each
    month received, in whole reviews per 100 (the table behind it has the counts)."""
    charts = {"problems": bars(
        "质量问题（按类型）", [Bar(_label(c), n, f"#code-{c}", c) for c, n in figures["defects"]],
        value_label="有此问题的综述（篇）", axis_label="问题类型", chart_id="chart-problems",
        desc="每类缺陷出现在多少篇综述中（格式上的备注不计）")}
    if months is not None:
        rows = [Bar(q.key, round(q.defective_per_100 or 0),
                    note=f"{q.defective} / {q.reviews} 篇有缺陷" if q.reviews else "本月没有综述")
                for q in months]
        worst = max(months, key=lambda q: (q.defective_per_100 or 0), default=None)
        charts["rate"] = columns(
            "每月有缺陷的综述比例", rows, value_label="有缺陷的综述（每百篇）", axis_label="接收月份",
            chart_id="chart-defect-rate",
            desc=(f"{months[0].key} 至 {months[-1].key}，最高的是 {worst.key}"
                  f"（每百篇 {worst.defective_per_100} 篇）" if worst and worst.reviews else ""))
    return charts


def topic_rates(topics: list) -> list[dict]:
    """The quality report's table of the topics with the highest share of reviews with a
    defect (:func:`archive.quality.worst_topics`): each with its link, its counts, its rate
    and its most frequent kinds of defect."""
    return [{"topic": q.key, "href": urls.topic(q.key), "reviews": q.reviews,
             "defective": q.defective, "rate": q.defective_per_100,
             "kinds": [(_label(code), code, n) for code, n in list(q.kinds.items())[:3]]}
            for q in topics]
