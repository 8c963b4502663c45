/* The search engine of the static site: it answers and ranks exactly as `reviews search`
 * does (index/search.py, index/rank.py): the same language (lang.js, from index/spec.json),
 * the same candidates from the same grams, the same checks against the text, the same
 * scores from the same statistics and the same tie-breaks, so its first page is
 * `reviews search --limit 10`; by date, `--sort date`; its facets, `--facets`.
 * Order of work: the postings give every candidate and its score; candidates are then
 * checked against their text best first, so the first page is final as soon as it is
 * full; the rest are checked in the background until the count is exact, or until the
 * query's byte budget is spent: then the count is a bound (search-count.js) until asked
 * for (the result's more()).
 * No DOM: the page (search.js) hands in how to fetch a data file; so do the unit tests
 * (tests/js/), in Node. Load order: lang.js, search-data.js, search-rank.js,
 * search-match.js, search-snippets.js, search-sections.js, search-facets.js, this file.
 */
(function (RA) {
  "use strict";

  // meta: the search/meta.js payload; fetchScript(key) -> Promise settled once the data
  // file `key` has run (search-data.js)
  var PROBE = 4096;  // bytes a candidate's check is guessed to load before any was measured

  // the k-th number of the van der Corput sequence in base 2 (0, 1/2, 1/4, 3/4, 1/8, ...)
  function vanDerCorput(k) {
    var out = 0, f = 0.5;
    for (; k; k >>>= 1, f /= 2) if (k & 1) out += f;
    return out;
  }

  RA.searchEngine = function (meta, fetchScript) {
    var data = RA.searchData(meta, fetchScript), L = data.L;
    var rank = RA.searchRank(data), match = RA.searchMatch(data, rank), sections = RA.searchSections(data);
    var facets = RA.searchFacets(data);

    // the candidates newest received first, then by uuid (index/rank.py newest_first): the
    // places of l.js, the tie-break order of ranking
    function byDate(found) {
      return data.reviewTable().then(function (tab) {
        var out = found.map(function (o) { return { o: o, score: 0, key: 0 }; });
        out.sort(function (x, y) { return tab.place[x.o] - tab.place[y.o]; });
        return out;
      });
    }

    // Run query q. onProgress(res) as results are checked (a promise it returns is waited
    // for); resolves to {reviews: [{o, score, key, scope}], ast, plan, candidates, checked,
    // complete: true, exact, more} or, for a query that does not parse, {reviews: [], error,
    // code, complete: true, exact: true}.
    // `need`: how many results to check first (a page), before checking the rest.
    // `mark(stage)`: told when the candidates are in ("candidates") and ranked ("ranked").
    // `sort`: "relevance" (the default) or "date" (newest first; no scores computed).
    // `budget`: bytes of data files the query may load (undefined: no limit). The first
    // `need` results are checked in rank order whatever they cost. The rest are then
    // checked in an order spread evenly over the unchecked ones (a sample, van der Corput:
    // any prefix of it is spread over the whole range), while the bytes loaded since the
    // query began, with the next batch's expected cost, stay within the budget. Past it
    // the run ends with `exact` false: `reviews` are the matches among the first `checked`
    // candidates, `sampled` candidates beyond them were checked too, `sampleHits` of them
    // matched (search-count.js words what can be said of the count), and `more()` checks
    // the rest in rank order, with no limit (the sample's checks are kept), resolving to
    // the same result, exact. Setting `cancelled` on the result (in onProgress: a query
    // typed over) stops the checks; the run then ends, not exact.
    function run(q, onProgress, need, mark, sort, budget) {
      var ast;
      try { ast = L.parse(q); } catch (e) {
        if (e instanceof L.QueryError) return Promise.resolve({ reviews: [], error: e.message, code: e.code, complete: true, exact: true });
        throw e;
      }
      mark = mark || function () {};
      var res = { reviews: [], ast: ast, complete: false, exact: false, candidates: 0, checked: 0, sampled: 0, sampleHits: 0 };
      var began = data.fetched(), ranked = [], checks = new Map(), outside = new Set(), checking = null, paid = 0;
      var report = function () { return Promise.resolve(onProgress ? onProgress(res) : null); };
      // may the background check go on with these candidates? Those whose check loads
      // nothing are free; the others cost the average of those checked so far (a guess
      // before the first: PROBE bytes)
      function within(batch) {
        if (budget === undefined || budget === null) return true;
        var costly = batch.filter(function (x) { return !match.free(res.plan, x.o); }).length;
        if (!costly) return true;
        var each = paid ? (data.fetched() - checking) / paid : PROBE;
        return data.fetched() - began + each * costly <= budget;
      }
      // check candidates (those not checked yet), keeping each answer
      function check(batch) {
        var todo = batch.filter(function (x) { return !checks.has(x.o); });
        paid += todo.filter(function (x) { return !match.free(res.plan, x.o); }).length;
        return Promise.all(todo.map(function (x) {
          return match.verify(res.plan, x.o).then(function (v) { checks.set(x.o, v); });
        }));
      }
      // the prefix in rank order grows over every candidate checked
      function advance() {
        for (; res.checked < ranked.length && checks.has(ranked[res.checked].o); res.checked++) {
          var x = ranked[res.checked], v = checks.get(x.o);
          if (outside.delete(x.o)) { res.sampled--; if (v.ok) res.sampleHits--; }
          if (v.ok) { x.scope = v.scope; res.reviews.push(x); }
        }
        if (res.checked >= ranked.length) res.exact = true;
      }
      // check in rank order, a few at a time, until `need` results (all: every candidate)
      function next(all) {
        if (res.exact || res.cancelled || (!all && res.reviews.length >= need)) return Promise.resolve();
        var size = res.reviews.length < need ? Math.max(4, need - res.reviews.length) : 48;
        return check(ranked.slice(res.checked, res.checked + size)).then(function () {
          advance();
          return report().then(function () { return next(all); });
        });
      }
      // then the sample, within the budget
      var from = 0, span = 0, k = 0, steps = 0;
      function samplePositions(size) {
        var out = [], seen = new Set();
        for (; out.length < size && k < steps; k++) {
          var pos = from + Math.floor(vanDerCorput(k) * span), x = ranked[pos];
          if (!checks.has(x.o) && !seen.has(x.o)) { seen.add(x.o); out.push(x); }
        }
        return out;
      }
      function sample() {
        if (res.exact || res.cancelled) return Promise.resolve();
        if (!steps) { from = res.checked; span = ranked.length - from; for (steps = 1; steps < span; steps *= 2); }
        var k0 = k, batch = samplePositions(48);
        while (batch.length && !within(batch)) { k = k0; batch = samplePositions(Math.floor(batch.length / 2)); }
        if (!batch.length) { k = k0; return Promise.resolve(); }
        return check(batch).then(function () {
          batch.forEach(function (x) { outside.add(x.o); res.sampled++; if (checks.get(x.o).ok) res.sampleHits++; });
          advance();
          return report().then(sample);
        });
      }
      var rest = null;
      res.more = function () {
        res.cancelled = false;
        return rest || (rest = next(true).then(function () { return res; }));
      };
      return match.evaluate(ast).then(function (ev) {
        mark("candidates");
        res.plan = ev.plan;
        return sort === "date" ? byDate(ev.found) : rank.score(ev.plan, ev.found);
      }).then(function (r) {
        mark("ranked");
        ranked = r;
        res.candidates = ranked.length;
        checking = data.fetched();
        advance();  // (none: exact at once)
        return next(false).then(sample);
      }).then(function () { res.complete = true; return res; });
    }

    return {
      meta: meta, language: L, run: run,
      // bytes of data files loaded so far (what a budget counts)
      fetched: data.fetched,
      // a complete result -> Promise<{topics, months}>: every match counted by topic and
      // month, the first `top` topics named and each facet with its refinement
      // (search-facets.js; index/facets.py)
      facetsOf: function (res, top) {
        if (!res.exact) return Promise.reject(new Error("facets count a complete result, exact"));
        return facets.count(res.reviews.map(function (x) { return x.o; })).then(function (c) {
          return facets.describe(c, res.ast, top);
        });
      },
      // a review of a result -> Promise<{info, hits}>: what to show under it
      sectionsOf: sections.sectionsOf,
      snippets: sections.snippets,
      // the review ids of a result, in order
      uuidsOf: function (res) { return data.uuidsOf(res.reviews.map(function (x) { return x.o; })); }
    };
  };
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
