"""The conformance tables: one search language, two implementations (Python and
``static/lang.js`` + the engine, ``static/search-*.js``), the same answers.

``analysis.json``  text -> primary tokens and index grams;
``queries.json``   query -> parsed form, or the error code;
``ranking.json``   query -> the first page (uuids, in order) over the fixed corpus
                   :func:`corpus` (``tests/test_browser.py`` builds the same one);
``facets.json``    query -> every match newest first (``--sort date``) and its facets
                   (``--facets --json``) over the same corpus; and a set of topics and
                   dates -> its facets, with the topic table a site ships for them
                   (nested topics, topics that ``topic:`` cannot tell apart, quotation
                   marks: what the corpus lacks).

The expectations are what the Python side answers; ``python -m tests.conformance.tables``
writes them after a deliberate change (review the diff: it is the change in behaviour).
``tests/test_conformance.py`` checks Python against them, ``tests/js/`` (run by
``tests/test_js.py``) the engine in Node, ``tests/test_browser.py`` the browser.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = {"n": 20, "seed": 11}

TEXTS = [
    "深度学习方法", "是一段 文字A股", "采用ResNet与F1-Score评估，CRISPR-Cas9编辑，PM2.5浓度，见2.1.1节。",
    "ＲｅｓＮｅｔ……㎏ café Straße", "हिन्दी भाषा", "İstanbul ıi", "e\u0301tude ÉTUDE", "a\u001cb\ufeffc",
    "x_y a.b.a 𠀀𠀁𠀂", "ﬁne ǰ ΣΑΣ ς", "한국어 日本語のテキスト", "〇一二", "Ꭰꭰ", "[^3]引用[12]", "snake_case-word",
    "٣٤ ١٢", "²³ ½",
]

QUERIES = [
    # items, phrases, fields, operators
    "深度学习", "研究 方法", '"深度 学习"', "“图像识别”", "“图像识别\"", "topic:图像 研究",
    "section:3.1 数据", "section:摘要 研究", "section:参考文献 钻孔", "section:ABSTRACT x",
    "ref:r0123456789", "ref:R0123456789", "ref:钻孔图像", "uuid:E051-AD47", "a OR b c", "a AND b",
    "研究 -方法", "研究 NOT 方法", "since:2025-01-01 until:2025-12-31 研究", 'topic:"a b"',
    "F1-Score", "PM2.5", "Net", "x -y", "-x y",
    # what splits a query (the spec's spaces): not U+001C..U+001F, not U+FEFF
    "a\u3000b", "a\u001cb", "a\ufeffb", "a\u00a0b", "a\u2003b",
    # marks, scripts
    "हिन्दी", "İstanbul", "e\u0301tude", "ǰ", "Straße",
    # every malformed query of tests/test_search.py, and more
    "", "   ", '"unbalanced', 'topic:"x', "topic:", "topic: x", "OR x", "x OR", "x OR OR y",
    "x NOT", "-x", "- x", "NOT x", "foo:bar", "uuid:xyz", "x -y OR z", "、。", '""',
    "x AND OR y", "NOT NOT x", "x since:2025-13-01", "x -since:2025-01-01", "x OR until:2025-01-01",
    "since:2025-01-01 OR x", "x until:20251101", "section: x", "uuid:", "\u001c", "x “”",
]

RANKING = [
    "研究", "深度学习", "学", "迁移学习 数据", "ResNet", "F1-Score", "研究 -深度学习", "topic:图像",
    "图像识别 OR 钻孔", "section:3.1 研究", "深度 学习", "数据 模型 方法", "ref:钻孔", "uuid:0 OR uuid:e",
    "section:摘要 研究", "研究 since:2025-06-01",
]


FACETS = [
    "研究", "深度学习", "钻孔", '"深度 学习"', "研究 -深度学习", "topic:图像 OR topic:冬小麦",
    "研究 since:2025-03-15", "研究 until:2025-03-20", "方法 since:2025-03-14 until:2025-10-01", "注入",
]

#: (topic, received) of a made-up match set: what the facets of a site's page decide
#: from its topic table alone
FACET_ROWS = [
    ("图像识别", "2025-03-05 10:00:00"), ("医学图像识别", "2025-03-31 23:59:59"),
    ("医学图像识别", "2025-04-01 00:00:00"), ("医学图像识别综述", "2025-04-02 08:00:00"),
    ("ResNet 综述", "2025-02-10 09:00:00"), ("resnet综述", "2025-02-11 09:00:00"),
    ("2型糖尿病筛查", "2024-12-31 23:59:59"), ("12型糖尿病筛查", "2025-01-01 00:00:00"),
    ("糖尿病筛查", "2025-01-02 00:00:00"), ('带"引号"的主题', "2025-02-28 12:00:00"),
    ("", "2024-02-29 12:00:00"), ("、。", "2024-02-01 12:00:00"), ("图像识别", "2025-04-06 10:00:00"),
]


def parsed_form(parsed) -> dict:
    return {"groups": [[[a.field, a.value, a.quoted, a.negated] for a in g] for g in parsed.groups],
            "since": parsed.since, "until": parsed.until}


def analysis_row(text: str) -> dict:
    from index.analysis import fold, primary_tokens
    from index.literal import grams

    folded = fold(text)
    return {"text": text, "folded": folded, "tokens": [t.text for t in primary_tokens(folded)],
            "grams": sorted(grams(folded))}


def query_row(q: str) -> dict:
    from index.query import QueryError, parse

    try:
        return {"query": q, "parsed": parsed_form(parse(q))}
    except QueryError as err:
        return {"query": q, "error": err.code}


def corpus(tmp: Path):
    """The fixed corpus of ``ranking.json``: a store and its index under ``tmp``."""
    from index.indexer import rebuild
    from tests.helpers import make_store

    store = make_store(tmp, CORPUS["n"], seed=CORPUS["seed"])
    rebuild(store, tmp / "index")
    return store, tmp / "index"


def ranking_rows(index_dir: Path) -> list[dict]:
    from index.search import search

    return [{"query": q, "first_page": [r.uuid for r in search(index_dir, q, limit=10).reviews]}
            for q in RANKING]


def facet_rows(index_dir: Path) -> list[dict]:
    from index.search import search

    out = []
    for q in FACETS:
        by_date = search(index_dir, q, ids_only=True, sort="date")
        res = search(index_dir, q, limit=0, facets=True)
        out.append({"query": q, "by_date": by_date.uuids, "facets": res.facets.to_dict()})
    return out


def synthetic_facets() -> dict:
    """:data:`FACET_ROWS`, their facets, and the topic table a site would ship for them
    (``tp``: each row's topic number; ``tn``: the topics with the numbers of the topics
    ``topic:"it"`` finds too)."""
    from index.facets import facets
    from publish.searchdata import topic_entries

    entries, number = topic_entries(t for t, _ in FACET_ROWS)
    return {"rows": FACET_ROWS, "tp": [number[t] for t, _ in FACET_ROWS], "tn": entries,
            "facets": facets(FACET_ROWS).to_dict()}


def load(name: str):
    return json.loads((HERE / name).read_text("utf-8"))


def main() -> None:
    import tempfile

    def write(name, data):  # one row a line: a change in behaviour is a one-line diff
        rows = data if isinstance(data, list) else data["queries"]
        body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
        if isinstance(data, list):
            text = "[\n" + body + "\n]\n"
        else:
            text = '{"corpus": ' + json.dumps(data["corpus"]) + ', "queries": [\n' + body + "\n]}\n"
        (HERE / name).write_text(text, "utf-8")

    write("analysis.json", [analysis_row(t) for t in TEXTS])
    write("queries.json", [query_row(q) for q in QUERIES])
    with tempfile.TemporaryDirectory() as tmp:
        store, index_dir = corpus(Path(tmp))
        write("ranking.json", {"corpus": CORPUS, "queries": ranking_rows(index_dir)})
        (HERE / "facets.json").write_text(json.dumps(
            {"corpus": CORPUS, "queries": facet_rows(index_dir), "synthetic": synthetic_facets()},
            ensure_ascii=False, indent=1) + "\n", "utf-8")
        store.close()


if __name__ == "__main__":
    main()
