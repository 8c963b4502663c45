"""Facets and the date order of `reviews search` (index/facets.py, index/search.py), and
the command's --facets, --sort and --count. Every count is checked against the match set
itself (`search -l`) and the archive's own topics and dates; every refinement by running
it. The cluster engine is held to the same in tests/test_cluster.py, the site's engine in
tests/js/facets.test.js and tests/test_browser.py."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from archive import listing
from archive.store import Store
from cli import main
from index.analysis import fold
from index.facets import holders, month_refinement, quoted_topic
from index.indexer import rebuild
from index.literal import Literal
from index.query import QueryError, parse
from index.search import search
from tests.conformance.tables import FACET_ROWS, FACETS, corpus, facet_rows, load, synthetic_facets
from tests.helpers import add_bytes, make_store, variant

#: nested topics, topics `topic:` cannot tell apart, quotation marks, no topic, a tie
PLANTED = FACET_ROWS + [("医学影像", "2025-03-31 23:59:59")]
QUERIES = ["研究", "图像识别", "糖尿病", '"深度 学习"', "图像识别 -医学", "topic:图像识别",
           "研究 since:2025-03-10 until:2025-04-01", "topic:综述 OR topic:筛查", "模型 -研究"]
UNSAYABLE = {"ResNet 综述", "resnet综述", '带"引号"的主题', "", "、。"}


def planted(root, n: int, seed: int, rare: str | None = None) -> Store:
    """An archive in ``root`` with its index: :func:`tests.helpers.make_store`'s reviews
    and :data:`PLANTED` (variants of the sample; every fifth with ``rare`` in its text)."""
    store = make_store(root, n, seed=seed)
    for i, (topic, received) in enumerate(PLANTED):
        extra = ("图像识别技术", f"{rare}图像识别技术") if rare and i % 5 == 0 else None
        add_bytes(store, variant(uuid=f"{i + 1:032x}", received=received, topic=topic,
                                 replace=extra).encode(), f"p{i}")
    rebuild(store, root / "index")
    return store


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("facets")
    store = planted(root, 14, 13)
    yield root, listing.topics(store), listing.received_of(store)
    store.close()


def matches(root, q: str) -> list[str]:
    return search(root / "index", q, ids_only=True, limit=None).uuids


def test_facets_count_every_match_not_a_page(archive):
    root, topic, received = archive
    split = 0
    for q in QUERIES:
        ids = matches(root, q)
        res = search(root / "index", q, limit=2, facets=True)
        assert res.total_reviews == len(ids) and len(res.reviews) == min(2, len(ids)), q
        topics, months = Counter(topic[u] for u in ids), Counter(received[u][:7] for u in ids)
        assert [(f.value, f.count) for f in res.facets.topics] == \
            sorted(topics.items(), key=lambda kv: (-kv[1], kv[0])), q
        assert [(f.value, f.count) for f in res.facets.months] == sorted(months.items(), reverse=True), q
        split += len(topics) > 2 and len(months) > 2
    assert split >= 4  # the queries spread over several topics and months


def test_date_order_is_newest_first_then_by_uuid(archive):
    root, _, received = archive
    for q in QUERIES:
        ids = matches(root, q)
        want = sorted(sorted(ids), key=lambda u: received[u], reverse=True)
        assert search(root / "index", q, ids_only=True, sort="date").uuids == want, q
        page = search(root / "index", q, limit=3, offset=2, sort="date")
        assert [r.uuid for r in page.reviews] == want[2:5] and page.sort == "date", q
    # the planted tie: one received time, two reviews, by uuid
    tied = [u for u in matches(root, "图像识别") if received[u] == "2025-03-31 23:59:59"]
    assert len(tied) == 2
    got = search(root / "index", "图像识别", ids_only=True, sort="date").uuids
    assert [u for u in got if u in tied] == sorted(tied)
    with pytest.raises(ValueError, match="sort must be one of"):
        search(root / "index", "研究", sort="newest")


def test_each_refinement_keeps_exactly_its_facet(archive):
    """A facet's refinement added to the query finds its count of reviews, those of
    that topic (month) among the matches: nested topics are excluded again; topics the
    language cannot tell apart, or quote, have none."""
    root, topic, received = archive
    checked = set()
    for q in QUERIES:
        ids = matches(root, q)
        facets = search(root / "index", q, limit=0, facets=True).facets.refine()
        for f in facets.topics:
            if f.refine is None:
                assert f.value in UNSAYABLE, (q, f)
                continue
            got = matches(root, f"{q} {f.refine}")
            assert sorted(got) == sorted(u for u in ids if topic[u] == f.value) and len(got) == f.count, (q, f)
            checked.add(f.value)
        for f in facets.months:
            got = matches(root, f"{q} {f.refine}")
            assert sorted(got) == sorted(u for u in ids if received[u][:7] == f.value), (q, f)
    assert {"图像识别", "医学图像识别", "糖尿病筛查", "2型糖尿病筛查"} <= checked
    refine = {f.value: f.refine for f in search(root / "index", "图像识别", limit=0, facets=True).facets.refine().topics}
    assert refine["图像识别"] == ('topic:"图像识别" -topic:"医学图像识别" -topic:"医学图像识别综述" '
                                '-topic:"深度学习在图像识别领域的最新进展"')  # (the sample's)


def test_a_months_refinement_stays_within_the_querys_dates():
    assert month_refinement("2025-02", None, None) == "since:2025-02-01 until:2025-02-28"
    assert month_refinement("2024-02", None, None) == "since:2024-02-01 until:2024-02-29"
    assert month_refinement("2025-03", "2025-03-10", "2025-04-01") == "since:2025-03-10 until:2025-03-31"
    assert month_refinement("2025-04", "2025-03-10", "2025-04-01") == "since:2025-04-01 until:2025-04-01"


def test_holders_are_what_topic_finds(archive):
    """The probes only narrow the candidates: the answer is the literal's, checked here
    against every pair of topics."""
    _, topic, _ = archive
    names = sorted(set(topic.values()) | {"AI", "AI芯片设计", "ai 芯片", "PM2.5 监测", "pm2.5监测",
                                           "PM2", "X", "x射线", "5G", "5G通信", "CRISPR-Cas9 编辑", "Cas9"})
    held = holders(names)
    for t in names:
        lit = Literal(t)
        assert held[t] == sorted(x for x in names if x != t and lit and lit.occurs(fold(x))), t
    assert held["AI"] == ["AI芯片设计", "ai 芯片"] and held["Cas9"] == ["CRISPR-Cas9 编辑"]


@pytest.mark.parametrize("t", ["图像识别", 'a"b', "a“b", "＂全角引号", " 前导空格", "、。", "", "x", "ä",
                               "e\u0301tude", "\u0301", "a\u001cb", "a b", "-x", "OR", "topic:x"])
def test_a_topic_is_quoted_only_when_the_language_reads_it_back(t):
    """``topic:"T"`` is offered when it parses to one topic item that T's own text holds
    (the usual topic is settled without parsing: the two must agree)."""
    try:
        groups = parse(f'topic:"{t}"').groups
        back = (len(groups) == 1 and len(groups[0]) == 1 and groups[0][0].field == "topic"
                and Literal(groups[0][0].value).occurs(fold(t)))
    except QueryError:
        back = False
    assert (quoted_topic(t) is not None) == back, t


def test_the_facet_table_is_what_python_answers(tmp_path):
    """tests/conformance/facets.json, which the site's engine is held to in Node and in
    Chromium (regenerate: python -m tests.conformance.tables)."""
    table = load("facets.json")
    assert [r["query"] for r in table["queries"]] == FACETS
    store, index_dir = corpus(tmp_path)
    try:
        assert facet_rows(index_dir) == table["queries"]
    finally:
        store.close()
    assert json.loads(json.dumps(synthetic_facets())) == table["synthetic"]
    assert sum(len(r["facets"]["months"]) > 3 for r in table["queries"]) >= 4


# -- the command --------------------------------------------------------------------------

def run(root, *args):
    return CliRunner().invoke(main, ["search", "--data-dir", str(root), *args])


def test_count_facets_and_sort_on_the_command_line(archive):
    root, _, _ = archive
    n = len(matches(root, "研究"))
    got = run(root, "--count", "研究")
    assert got.exit_code == 0 and got.output == f"{n}\n"
    assert json.loads(run(root, "--count", "--json", "研究").output) == {"count": n}
    # --facets with --json: every topic and month with its refinement, as the API gives them
    data = json.loads(run(root, "--facets", "--json", "--limit", "1", "图像识别").output)
    assert data["facets"] == search(root / "index", "图像识别", facets=True).facets.to_dict()
    assert len(data["reviews"]) == 1 and data["total_reviews"] == len(matches(root, "图像识别"))
    both = json.loads(run(root, "--count", "--facets", "--json", "图像识别").output)
    assert both == {"count": data["total_reviews"], "facets": data["facets"]}
    text = run(root, "--facets", "研究").output.splitlines()
    at = text.index(next(x for x in text if x.startswith("by topic (")))
    assert text[at + 11].startswith("  … ") and "by month received:" in text
    by_date = json.loads(run(root, "--sort", "date", "--json", "--limit", "50", "研究").output)
    assert [r["uuid"] for r in by_date["reviews"]] == search(root / "index", "研究", ids_only=True, sort="date").uuids
    assert run(root, "-l", "--sort", "date", "研究").output.split() == [r["uuid"] for r in by_date["reviews"]]
    # a NOT item still reads as one (the new options have no short forms to take it)
    assert run(root, "--count", "研究", "-模型").output == f"{len(matches(root, '研究 -模型'))}\n"


def test_the_new_options_have_no_short_forms_and_refuse_ids():
    command = main.commands["search"]
    opts = {o for p in command.params if p.name in ("sort", "with_facets", "count_only") for o in p.opts}
    assert opts == {"--sort", "--facets", "--count"}


@pytest.mark.parametrize("args", [["-l", "--facets"], ["-l", "--count"], ["--sort", "newest"]])
def test_usage_errors(archive, args):
    root, _, _ = archive
    got = run(root, *args, "研究")
    assert got.exit_code == 2 and "Traceback" not in got.output and "Error:" in got.output
