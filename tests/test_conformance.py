"""The Python half of the conformance suite (tests/conformance/): the search language
answers as its tables say. The browser half runs the same tables in Chromium
(tests/test_browser.py::test_conformance_tables_in_the_browser)."""
from __future__ import annotations

import unicodedata

import pytest

from index.spec import error, generate_tables, spec
from tests.conformance.tables import (QUERIES, RANKING, TEXTS, analysis_row, load, query_row,
                                      ranking_rows)


def test_analysis_table():
    rows = load("analysis.json")
    assert [r["text"] for r in rows] == TEXTS
    for row in rows:
        assert analysis_row(row["text"]) == row


def test_query_table():
    rows = load("queries.json")
    assert [r["query"] for r in rows] == QUERIES
    for row in rows:
        assert query_row(row["query"]) == row
    codes = {r["error"] for r in rows if "error" in r}
    assert len(codes) >= 14  # most error codes are exercised


def test_ranking_table(conformance_corpus):
    table = load("ranking.json")
    assert [r["query"] for r in table["queries"]] == RANKING
    assert ranking_rows(conformance_corpus / "index") == table["queries"]


def test_every_error_has_both_messages():
    for code, messages in spec()["errors"].items():
        assert set(messages) == {"en", "zh"}, code
        assert error(code, field="f:", value="v", text="t", op="OR", item="i")


@pytest.mark.skipif(spec()["analysis"]["unicode"] != unicodedata.unidata_version,
                    reason="the spec's tables were generated from another Unicode version")
def test_spec_tables_are_this_pythons_unicode():
    """The committed character tables are what this Python's unicodedata gives (else
    run `python -m index.spec` and review the diff)."""
    tables = generate_tables()
    for key, value in tables.items():
        assert spec()["analysis"][key] == value, key


def test_the_query_language_reads_the_archives_ref_id_shape():
    from archive.references import REF_ID, ref_id

    assert spec()["query"]["ref_id"] == REF_ID.pattern
    assert REF_ID.match(ref_id("深度学习综述"))


def test_the_query_languages_section_names_are_the_archives():
    from archive.model import SECTION_NAMES

    assert spec()["query"]["section_names"] == SECTION_NAMES
