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


def quality_charts(figures: dict) -> dict[str, Markup]:
    def label(code: str) -> str:
        return FLAG_KINDS[code].label if code in FLAG_KINDS else code

    return {"problems": bars(
        "质量问题（按类型）", [Bar(label(c), n, f"#code-{c}", c) for c, n in figures["defects"]],
        value_label="有此问题的综述（篇）", axis_label="问题类型", chart_id="chart-problems",
        desc="每类缺陷出现在多少篇综述中（格式上的备注不计）")}
