// A query's byte budget and what its count may then say (search-engine.js, search-count.js):
// past the budget the engine stops checking candidates after the first page, the result is
// not exact, the count is worded as a bound ("至少") with an estimate ("约"), never as a
// count; asked for (more()), every candidate is checked and the set is the unlimited run's.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { RA, siteEngine, SITE } = require("./support.js");

const C = RA.searchCount;
const needsSite = { skip: SITE ? false : "needs RA_SITE, a site built from the tables' corpus (run: pytest tests/test_js.py)" };
// a query whose every candidate needs its text (a section: scope): 21 of 21 match
const SCOPED = "section:3.1 研究";

// a result as the engine gives it: n matches of `checked` candidates checked, of `candidates`
function result(n, checked, candidates, exact) {
  return { reviews: Array.from({ length: n }, (_, o) => ({ o })), checked, candidates, complete: true, exact };
}

test("bounds: exact once every candidate is checked; else at least the matches, about the share", () => {
  assert.deepEqual(C.bounds(result(7, 40, 40, true)), { exact: true, count: 7 });
  // 10 of 20 checked matched, 980 left: at least 10, at most 990, about 10 + 490 = 500
  assert.deepEqual(C.bounds(result(10, 20, 1000, false)), { exact: false, atLeast: 10, about: 500, atMost: 990 });
  // every checked one matched: about every candidate, rounded to two figures, never past at most
  assert.deepEqual(C.bounds(result(12, 12, 5634, false)), { exact: false, atLeast: 12, about: 5600, atMost: 5634 });
  assert.deepEqual(C.bounds(result(12, 12, 5678, false)).about, 5678);  // (5700 > at most)
  // a sample beyond the prefix: 10 of the first 20 matched, 5 of 50 sampled; 930 unchecked
  assert.deepEqual(C.bounds({ ...result(10, 20, 1000, false), sampled: 50, sampleHits: 5 }),
                   { exact: false, atLeast: 15, about: 110, atMost: 945 });
  assert.equal(C.twoFigures(87), 87);
  assert.equal(C.twoFigures(123), 120);
  assert.equal(C.twoFigures(98765), 99000);
});

test("the status line: a count only when exact; a bound and an estimate otherwise", () => {
  assert.equal(C.status("q", result(7, 40, 40, true), 1, 10), "找到 7 篇综述");
  assert.equal(C.status("q", result(25, 40, 40, true), 2, 10), "找到 25 篇综述，第 2 / 3 页");
  assert.equal(C.status("深度", result(0, 3, 3, true), 1, 10), "没有找到与“深度”匹配的综述。");
  const bounded = C.status("q", result(10, 20, 1000, false), 1, 10);
  assert.equal(bounded, "找到至少 10 篇综述（约 500 篇），第 1 页");
  assert.doesNotMatch(bounded, /找到 \d+ 篇/);  // never a bare number
  const counting = C.status("q", { ...result(30, 60, 1000, false), counting: true }, 1, 10);
  assert.match(counting, /^找到至少 30 篇综述（约 \d+ 篇），第 1 页；正在精确计数：已核对 60 \/ 1000 篇候选$/);
  assert.equal(C.status("q", { ...result(3, 4, 9, false), complete: false }, 1, 10), "已找到 3 篇综述，继续搜索…");
  // a next page while candidates are unchecked, though the matches fill this one exactly
  assert.equal(C.hasNext(result(10, 20, 1000, false), 1, 10), true);
  assert.equal(C.hasNext(result(10, 20, 20, true), 1, 10), false);
});

test("over its budget a query stops after its page, says so, and is exact when asked", needsSite, async () => {
  // (one engine at a time: the data files report to the engine made last)
  const whole = siteEngine(SITE), all = await whole.run(SCOPED, null, 2);
  assert.equal(all.exact, true);
  assert.ok(all.candidates >= 10, "the case is there");
  const fullCost = whole.fetched(), allFacets = await whole.facetsOf(all);
  // a budget smaller than the first page: the page is checked, nothing more
  const engine = siteEngine(SITE), res = await engine.run(SCOPED, null, 2, null, undefined, 1);
  assert.equal(res.complete, true);
  assert.equal(res.exact, false);
  assert.ok(res.reviews.length >= 2 && res.checked < res.candidates, JSON.stringify([res.checked, res.candidates]));
  assert.ok(engine.fetched() < fullCost);
  // the matches so far are the unlimited run's first, in its order; the bounds hold its count
  const ids = (r) => r.reviews.map((x) => x.o);
  assert.equal(res.sampled, 0);  // (no budget left for a sample)
  assert.deepEqual(ids(res), ids(all).slice(0, res.reviews.length));
  const b = C.bounds(res);
  assert.ok(b.atLeast <= all.reviews.length && all.reviews.length <= b.atMost, JSON.stringify(b));
  await assert.rejects(engine.facetsOf(res), /exact/);  // no facets of a partial set
  // asked for: every candidate checked, the same set and order as the unlimited run
  const exact = await res.more();
  assert.equal(exact, res);
  assert.equal(res.exact, true);
  assert.deepEqual(ids(res), ids(all));
  assert.deepEqual(C.bounds(res), { exact: true, count: all.reviews.length });
  assert.deepEqual(await engine.facetsOf(res), allFacets);
});

test("a budget between the page's cost and the whole query's is kept to within one text file", needsSite, async () => {
  const page = siteEngine(SITE), first = await page.run(SCOPED, null, 2, null, undefined, 1);
  const whole = siteEngine(SITE), all = await whole.run(SCOPED, null, 2);
  const budget = Math.floor((page.fetched() + whole.fetched()) / 2);
  const texts = path.join(SITE, "search", "t");
  let largest = 0;
  for (const dir of fs.readdirSync(texts)) {
    for (const f of fs.readdirSync(path.join(texts, dir))) largest = Math.max(largest, fs.statSync(path.join(texts, dir, f)).size);
  }
  const engine = siteEngine(SITE), res = await engine.run(SCOPED, null, 2, null, undefined, budget);
  assert.equal(res.exact, false);
  assert.ok(res.sampled > first.sampled, "it checked more than the page in the background");
  assert.ok(engine.fetched() <= budget + largest, JSON.stringify([engine.fetched(), budget, largest]));
  const b = C.bounds(res);
  assert.ok(b.atLeast === res.reviews.length + res.sampleHits && b.atLeast <= all.reviews.length &&
            all.reviews.length <= b.atMost, JSON.stringify(b));
  // asked for: the sample's checks kept, the rest checked, the unlimited run's set and order
  await res.more();
  assert.deepEqual(res.reviews.map((x) => x.o), all.reviews.map((x) => x.o));
  assert.equal(res.sampled, 0);
  assert.equal(engine.fetched(), whole.fetched());  // what the unlimited run loads, nothing twice
});

test("a query whose checks load nothing is exact whatever its budget", needsSite, async () => {
  const engine = siteEngine(SITE), res = await engine.run("数据 模型 方法", null, 1, null, undefined, 1);
  assert.equal(res.exact, true);
  assert.equal(res.checked, res.candidates);
});

test("a query typed over stops checking", needsSite, async () => {
  const engine = siteEngine(SITE);
  let calls = 0;
  const res = await engine.run(SCOPED, (r) => { calls++; r.cancelled = true; }, 2);
  assert.equal(calls, 1);
  assert.equal(res.exact, false);
  assert.ok(res.checked < res.candidates && res.sampled === 0);
});
