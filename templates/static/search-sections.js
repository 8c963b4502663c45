/* The sections shown under a found review (index/search.py _sections, chapter_order): the
 * units where the query's items occur, best chapter first, each with its title and a
 * snippet ready to show (search-snippets.js). Chapters are read best first and reading
 * stops once the review's quota (spec.ranking.per_review) is full.
 * No DOM: it reads through a data store (search-data.js).
 */
(function (RA) {
  "use strict";
  var ALL = RA.searchData.ALL, bitsOf = RA.searchData.bitsOf;

  function range(n) { var out = []; for (var i = 0; i < n; i++) out.push(i); return out; }
  function flat(lists) { return [].concat.apply([], lists); }
  // the literals snippets mark: positive items with no field
  function lits(plan) {
    var out = [];
    plan.positive.forEach(function (g) { g.forEach(function (a) { if (a.lit && a.atom.field === null) out.push(a.lit); }); });
    return out;
  }
  // the reference ids the query cites (ref: items), whose markers are marked
  function queryIds(plan) {
    var ids = new Set();
    plan.positive.forEach(function (g) { g.forEach(function (a) { a.ids.forEach(function (i) { ids.add(i); }); }); });
    return ids;
  }
  // each chapter's weight in review o: the items that may stand in it
  function chapterWeights(plan, o) {
    var weight = [];
    function add(c) { weight[c] = (weight[c] || 0) + 1; }
    plan.positive.forEach(function (g) { g.forEach(function (a) {
      if (!a.lit || a.atom.field !== null || !a.grams.length) return;
      var held = ALL;
      a.grams.forEach(function (gm) { held &= (gm.get(o) || 0n) >> 2n; });
      bitsOf(held).forEach(add);
    }); });
    var cited = 0n;
    plan.positive.forEach(function (g) { g.forEach(function (a) { if (a.ids.length) cited |= (a.map.get(o) || 0n) >> 2n; }); });
    bitsOf(cited).forEach(add);
    return weight;
  }
  function chapterOrder(weight, nch) {
    var w = range(nch).map(function (c) { return weight[c] || 0; });
    return { order: range(nch).sort(function (x, y) { return w[y] - w[x] || x - y; }), weight: w };
  }

  RA.searchSections = function (data) {
    var snip = RA.snippets(data.L);

    // one unit found: its key (section number, "abstract", "references"), its number to
    // show, its title and a snippet of its body, as segments
    function view(hit, ids) {
      var u = hit.unit;
      var titleSpans = flat(hit.spans.map(function (s) { return s[0]; }));
      var bodySpans = flat(hit.spans.map(function (s) { return s[1]; }));
      var title = titleSpans.length && u[2] === null ? snip.segments(u[3], titleSpans, [], null)
                  : [{ text: u[2] === null ? u[3] : u[2], mark: false }];
      var win = bodySpans.length ? snip.windowOf(u[4], bodySpans)
                : snip.citingWindow(u[4], u[5], ids) || snip.windowOf(u[4], []);
      return { key: u[1], number: u[1] === "abstract" || u[1] === "references" ? "" : u[1] + " ",
               title: title, snippet: u[4] ? snip.segments(u[4], bodySpans, u[5], win, ids) : null };
    }

    // review x ({o, scope}) of a result with plan `plan` -> Promise<{info, hits: [view]}>
    function sectionsOf(plan, x) {
      var ls = lits(plan), ids = queryIds(plan), scope = x.scope, weight = chapterWeights(plan, x.o);
      var perReview = data.meta.spec.ranking.per_review;
      var best = 0;  // the best chapter is loaded first, and tells how many there are
      weight.forEach(function (w, c) { if (w > (weight[best] || 0)) best = c; });
      return data.chapter(x.o, best).then(function (ch) {
        var inf = ch.info, co = chapterOrder(weight, inf[4]), ranked = [], k = 0;
        var scopeOnly = scope && !ls.length, scoped = 0n;
        if (scopeOnly) plan.sections.forEach(function (s) { scoped |= (s.map.get(x.o) || 0n) >> 2n; });
        function step() {
          if (k >= co.order.length || ranked.length >= perReview) return Promise.resolve();
          var c = co.order[k++];
          // a chapter no item may stand in, or (only section: asked) outside the sections named
          if (scopeOnly ? !((scoped >> BigInt(c)) & 1n) : !co.weight[c]) return step();
          return data.chapter(x.o, c).then(function (ch) {
            ch.units.forEach(function (u) {
              if (scope && !scope.has(u[0])) return;
              var spans = ls.map(function (l) { return [l.spans(data.foldedTitle(u)), l.spans(data.foldedBody(u))]; });
              var present = spans.filter(function (s) { return s[0].length || s[1].length; }).length;
              var cites = new Set(u[5].filter(function (m) { return ids.has(m[2]); }).map(function (m) { return m[2]; })).size;
              if (!present && !cites && !scopeOnly) return;
              var occ = spans.reduce(function (t, s) { return t + s[0].length + s[1].length; }, 0) + cites;
              ranked.push({ place: k, present: present + (cites ? 1 : 0), occ: occ, unit: u, spans: spans });
            });
            return step();
          });
        }
        return step().then(function () {
          ranked.sort(function (a, b) { return a.place - b.place || b.present - a.present || b.occ - a.occ || a.unit[0] - b.unit[0]; });
          return { info: inf, hits: ranked.slice(0, perReview).map(function (h) { return view(h, ids); }) };
        });
      });
    }
    return { sectionsOf: sectionsOf, snippets: snip };
  };
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
