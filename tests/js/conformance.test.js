// The conformance tables of tests/conformance/ (the ones tests/test_conformance.py holds
// the Python side to), answered by the engine in Node: the same folding, tokens, grams,
// parsed queries and error codes, and over the tables' corpus the same first pages.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { language, table, siteEngine, SITE } = require("./support.js");

const L = language();

test("analysis table: folding, primary tokens, grams", () => {
  const rows = table("analysis.json");
  assert.ok(rows.length >= 10);
  for (const row of rows) {
    const folded = L.fold(row.text);
    const got = { text: row.text, folded, tokens: L.primary(folded).map((t) => t.text) };
    assert.deepEqual(got, { text: row.text, folded: row.folded, tokens: row.tokens }, JSON.stringify(row.text));
    // as sets: Python sorts by code point, JS by UTF-16 unit
    assert.deepEqual(L.grams(folded), new Set(row.grams), JSON.stringify(row.text));
  }
});

test("query table: parsed forms and error codes", () => {
  const rows = table("queries.json");
  assert.ok(rows.some((r) => r.error) && rows.some((r) => r.parsed));
  for (const row of rows) {
    let got;
    try {
      const p = L.parse(row.query);
      got = { query: row.query, parsed: { groups: p.groups.map((g) => g.map((a) => [a.field, a.value, a.quoted, a.negated])),
                                          since: p.since, until: p.until } };
    } catch (e) {
      if (!(e instanceof L.QueryError)) throw e;
      got = { query: row.query, error: e.code };
    }
    assert.deepEqual(got, row, JSON.stringify(row.query));
  }
});

test("query errors carry the spec's message with its values", () => {
  assert.throws(() => L.parse("foo:bar"), (e) => e.code === "unknown-field" && e.message.includes("foo:"));
});

test("ranking table: the first page of each query over the corpus",
     { skip: SITE ? false : "needs RA_SITE, a site built from the tables' corpus (run: pytest tests/test_js.py)" },
     async () => {
  const engine = siteEngine(SITE);
  const rows = table("ranking.json").queries;
  assert.ok(rows.some((r) => r.first_page.length > 1));
  for (const row of rows) {
    const res = await engine.run(row.query, null, 10);
    assert.equal(res.complete, true);
    const got = await engine.uuidsOf({ reviews: res.reviews.slice(0, 10) });
    assert.deepEqual(got, row.first_page, row.query);
  }
});
