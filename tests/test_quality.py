"""Quality over time (archive/quality.py) on a generated archive, against figures computed
here from the generator's ground truth (bench.corpus.Truth), not from the archive."""
from __future__ import annotations

import collections
import re
import xml.etree.ElementTree as ET
import json

import pytest

from archive import listing
from archive.model import DEFECT, FLAG_KINDS
from archive.quality import quality, worst_topics
from archive.store import Store
from bench.corpus import Quirks, generate, redeliver
from publish.urls import topic_slug
from tests.helpers import add_bytes

TOPICS = ["图像识别", "联邦学习", "碳中和", "药物发现", "城市交通<script>alert(1)</script>&"]  # escaped on the site


def _corpus():
    """Generated reviews (lint quirks more frequent than by default), five shared topics,
    and one review delivered again: the figures are of the current versions."""
    q = Quirks(future_reference=0.3, duplicate_work=0.3, utf16=0, gb18030=0, bom=0, crlf=0,
               fullwidth_colon=0)
    gens = list(generate(36, seed=31, quirks=q))
    out = []
    for i, g in enumerate(gens):
        topic = TOPICS[i % 5] if i % 3 else g.truth.topic  # a third keep their own topic
        data = g.data.replace(f"主题: {g.truth.topic}\n".encode(), f"主题: {topic}\n".encode(), 1)
        out.append((data, g.truth, topic))
    again = redeliver(gens[1], seed=1)
    topic = out[1][2]
    data = again.data.replace(f"主题: {again.truth.topic}\n".encode(), f"主题: {topic}\n".encode(), 1)
    return out, (data, again.truth, topic)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    records, again = _corpus()
    path = tmp_path_factory.mktemp("quality")
    with Store.open(path) as store:
        for data, _, _ in records + [again]:
            add_bytes(store, data)
    current = {t.uuid: (t, topic) for _, t, topic in records}
    current[again[1].uuid] = (again[1], again[2])  # (received later: the current version)
    return path, list(current.values())


def _expected(truths, key) -> dict[str, dict]:
    """The figures per group, from the truth of each current review."""
    out: dict[str, dict] = {}
    for t, topic in truths:
        g = out.setdefault(key(t, topic), collections.Counter())
        g["reviews"] += 1
        kinds = {code for code, _ in t.flags if FLAG_KINDS[code].severity == DEFECT}
        g["defective"] += bool(kinds)
        for code in kinds:
            g["kind:" + code] += 1
        g["references"] += len(t.references)
        main = [r for r in t.references if r[3] == ""]
        g["main"] += len(main)
        g["yearless"] += sum(1 for r in main if r[2] is None)
        cited = {(c["scope"], c["n"]) for c in t.citations if c["ref_title"] is not None}
        g["uncited"] += sum(1 for n, _, _, scope in t.references if (scope, n) not in cited)
    return out


def _got(rows) -> dict[str, dict]:
    return {q.key: collections.Counter({
        "reviews": q.reviews, "defective": q.defective, "references": q.references,
        "main": q.main_references, "yearless": q.yearless, "uncited": q.uncited,
        **{"kind:" + code: n for code, n in q.kinds.items()}}) for q in rows}


def test_by_month_counts_every_current_review_in_its_month(archive):
    path, truths = archive
    with Store.open(path) as store:
        rows = quality(store, "month")
        flags = listing.flags(store)
        received = listing.received_of(store)
    want = _expected(truths, lambda t, topic: t.received_at[:7])
    got = _got(rows)
    # every month from the first to the last, those without reviews at zero
    months = [q.key for q in rows]
    assert months[0] == min(want) and months[-1] == max(want) and months == sorted(months)
    assert len(months) == len(set(months)) and set(want) <= set(months)
    for m in set(months) - set(want):
        assert got[m] == collections.Counter({"reviews": 0})
    assert {m: +c for m, c in got.items() if m in want} == {m: +c for m, c in want.items()}
    assert any(q.kinds.get("reference-after-received") for q in rows)
    # the defects, counted flag by flag
    for q in rows:
        assert q.defects == sum(1 for u, fl in flags.items() if received[u][:7] == q.key
                                for f in fl if f.severity == DEFECT)


def test_by_topic_and_the_rates(archive):
    path, truths = archive
    with Store.open(path) as store:
        rows = quality(store, "topic")
        worst = worst_topics(store, limit=3)
    want = _expected(truths, lambda t, topic: topic)
    assert _got(rows) == {k: +v for k, v in want.items()}
    assert [q.key for q in rows[:5]] == sorted(TOPICS, key=lambda k: (-want[k]["reviews"], k))
    first = next(q for q in rows if q.key == TOPICS[0]).to_dict("topic")
    w = want[TOPICS[0]]
    assert first["topic"] == TOPICS[0] and first["reviews"] == w["reviews"]
    assert first["defective_per_100"] == round(100 * w["defective"] / w["reviews"], 1)
    assert first["references_per_review"] == round(w["references"] / w["reviews"], 1)
    assert first["yearless_percent"] == round(100 * w["yearless"] / w["main"], 1)
    assert first["uncited_percent"] == round(100 * w["uncited"] / w["references"], 1)
    for code, k in first["kinds"].items():
        assert k == {"reviews": w["kind:" + code], "per_100": round(100 * w["kind:" + code] / w["reviews"], 1)}
    # the worst topics: the shared ones only (a topic of one review is left out), worst first
    rate = {k: v["defective"] / v["reviews"] for k, v in want.items() if v["reviews"] >= 3}
    assert set(rate) == set(TOPICS)
    assert [q.key for q in worst] == sorted(rate, key=lambda k: (-rate[k], -want[k]["reviews"], k))[:3]


def test_an_empty_archive_and_a_bad_grouping(tmp_path):
    with Store.open(tmp_path) as store:
        assert quality(store, "month") == [] and quality(store, "topic") == []
        assert worst_topics(store) == []
        with pytest.raises(ValueError):
            quality(store, "week")


def test_stats_by_month_and_topic_in_the_cli(archive):
    from click.testing import CliRunner

    from cli import main

    path, _ = archive
    runner = CliRunner()
    with Store.open(path) as store:
        want = {by: [q.to_dict(by) for q in quality(store, by)] for by in ("month", "topic")}
    for by in ("month", "topic"):
        r = runner.invoke(main, ["--data-dir", str(path), "stats", "--by", by, "--json"])
        assert r.exit_code == 0 and json.loads(r.output) == want[by]
    text = runner.invoke(main, ["--data-dir", str(path), "stats", "--by", "topic"]).output.splitlines()
    assert text[0].split() == ["reviews", "defective/100", "defects/100", "refs/review", "no",
                               "year", "%", "uncited", "%", "topic"]
    first = want["topic"][0]
    cells = text[1].split()
    assert cells[0] == str(first["reviews"]) and cells[-1] == first["topic"]
    assert cells[1:6] == [f"{first[k]:.1f}" for k in ("defective_per_100", "defects_per_100",
                          "references_per_review", "yearless_percent", "uncited_percent")]
    assert text[2].strip() == ", ".join(f"{c} {k['per_100']:.1f}" for c, k in first["kinds"].items())
    bad = runner.invoke(main, ["--data-dir", str(path), "stats", "--by", "week"])
    assert bad.exit_code == 2 and "week" in bad.output


def _chart_rows(html: str, chart_id: str) -> list[tuple[str, int, str]]:
    """(label, value, note) of each row of a chart's data table."""
    m = re.search(rf'<figure class="chart[^"]*" id="{chart_id}">.*?</figure>', html, re.S)
    assert m, chart_id
    fig = ET.fromstring(m.group(0))  # well-formed XML, an SVG with its title
    assert fig.find(".//{http://www.w3.org/2000/svg}title") is not None
    return [("".join(tr.find("th").itertext()), int("".join(tr.find("td").itertext())),
             "".join(tr.findall("td")[1].itertext())) for tr in fig.find(".//table/tbody").iter("tr")]


# slow tier: two whole site builds (or one with its charts), ~4 s of CPU with their
# worker processes; make check keeps the parts' own tests (docs/benchmarks.md,
# "make check's time")
@pytest.mark.slow
def test_the_quality_report_charts_the_rate_by_month_and_names_the_worst_topics(archive, tmp_path):
    from publish.site import build_site
    from tests.helpers import broken_links

    path, truths = archive
    with Store.open(path) as store:
        build_site(store, tmp_path / "site")
    html = (tmp_path / "site" / "quality.html").read_text("utf-8")
    want = _expected(truths, lambda t, topic: t.received_at[:7])
    rows = _chart_rows(html, "chart-defect-rate")
    assert [m for m, _, _ in rows] == sorted(m for m in _months(want))
    for month, value, note in rows:
        w = want.get(month)
        if w is None:
            assert (value, note) == (0, "本月没有综述")
        else:
            assert value == round(100 * w["defective"] / w["reviews"])
            assert note == f"{w['defective']} / {w['reviews']} 篇有缺陷"
    # the topics table: the shared topics, worst first, each linked to its topic page
    table = re.search(r'<table class="flag-table topic-rates">.*?</table>', html, re.S).group(0)
    body = ET.fromstring(table).find("tbody")
    topics = _expected(truths, lambda t, topic: topic)
    rate = {k: v["defective"] / v["reviews"] for k, v in topics.items() if v["reviews"] >= 3}
    order = sorted(rate, key=lambda k: (-rate[k], -topics[k]["reviews"], k))
    got = [("".join(tr[0].itertext()), tr[0].find("a").get("href"), int(tr[1].text), int(tr[2].text))
           for tr in body.iter("tr")]
    assert got == [(k, f"topics/{topic_slug(k)}.html", topics[k]["reviews"], topics[k]["defective"])
                   for k in order]
    assert broken_links(tmp_path / "site") == []


def _months(want: dict) -> list[str]:
    """Every month from the first to the last of ``want``."""
    y, m = int(min(want)[:4]), int(min(want)[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= max(want):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
