// Facets and the date order of the site's engine (search-facets.js, search-engine.js) against
// what Python answers (tests/conformance/facets.json, which tests/test_facets.py keeps current):
// over the tables' corpus, every match newest first and its facets; over a made-up set of
// topics (nested ones, ones `topic:` cannot tell apart, quotation marks), the facets decided
// from the topic table a site ships for it.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { RA, language, table, siteEngine, SITE } = require("./support.js");

const L = language();
const F = RA.searchFacets;

test("a month of its code in fm.js, and a month's refinement within the query's dates", () => {
  assert.equal(F.monthOf(0), "1970-01");
  assert.equal(F.monthOf(12 * (2024 - 1970) + 1), "2024-02");
  assert.equal(F.monthOf(12 * (2025 - 1970) + 11), "2025-12");
  assert.equal(F.monthRefinement("2025-02", null, null), "since:2025-02-01 until:2025-02-28");
  assert.equal(F.monthRefinement("2024-02", null, null), "since:2024-02-01 until:2024-02-29");
  assert.equal(F.monthRefinement("2025-03", "2025-03-10", "2025-04-01"), "since:2025-03-10 until:2025-03-31");
});

// a data store holding only what the facets read: the facet table (as fm.js gives it), the
// topics' names, the language
function fakeData(syn) {
  const month = (r) => 12 * (+r.slice(0, 4) - 1970) + +r.slice(5, 7) - 1;
  return {
    L, meta: { topicBlock: 4 },
    facetTable: () => Promise.resolve({ topic: syn.tp, month: syn.rows.map((r) => month(r[1])) }),
    topicNames: (ns) => Promise.resolve(new Map(ns.map((k) => [k, syn.tn[k]]))),
  };
}

test("facets of a made-up match set: counts, order, and refinements that exclude nested topics", async () => {
  const syn = table("facets.json").synthetic;
  const facets = F(fakeData(syn));
  const counted = await facets.count(syn.rows.map((_, o) => o));
  const got = await facets.describe(counted, { since: null, until: null });
  assert.deepEqual(got, syn.facets);
  assert.ok(got.topics.some((f) => f.refine && f.refine.includes(" -topic:")));  // the case is there
  assert.ok(got.topics.some((f) => f.refine === null && f.value === "ResNet 综述"));
  // only the first two topics named and refined: the rest keep their counts
  const top = await facets.describe(counted, { since: null, until: null }, 2);
  assert.deepEqual(top.topics.slice(0, 2), syn.facets.topics.slice(0, 2));
  assert.deepEqual(top.topics.slice(2).map((f) => [f.value, f.count]), syn.facets.topics.slice(2).map((f) => [null, f.count]));
});

test("every match newest first, and its facets, as `reviews search --sort date` and `--facets` give them",
     { skip: SITE ? false : "needs RA_SITE, a site built from the tables' corpus (run: pytest tests/test_js.py)" },
     async () => {
  const engine = siteEngine(SITE), rows = table("facets.json").queries;
  assert.ok(rows.some((r) => r.by_date.length > 10));
  // by date: every match in the CLI's order; by relevance: the same set; both, the same facets
  for (const { query, by_date: byDate, facets } of rows) {
    for (const sort of ["date", "relevance"]) {
      const res = await engine.run(query, null, 10, null, sort), ids = await engine.uuidsOf(res);
      assert.deepEqual(sort === "date" ? ids : ids.sort(), sort === "date" ? byDate : [...byDate].sort(), query);
      assert.deepEqual(await engine.facetsOf(res), facets, `${query} (${sort})`);
    }
  }
  await assert.rejects(engine.facetsOf({ reviews: [], complete: false }), /complete/);
});
