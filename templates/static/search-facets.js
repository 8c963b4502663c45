/* Facets of a search (index/facets.py): how many of its matches stand in each topic and
 * each month received, counted over every match once the set is exact (never a page, never
 * an estimate), and the query items that narrow the search to exactly one of them:
 * a month's `since:… until:…` within the query's own dates; a topic's `topic:"T"` with
 * `-topic:"X"` for each other matched topic X that `topic:"T"` finds too (listed for every
 * topic at build time, publish/searchdata.py), or none when that cannot be said.
 * Order: topics by count, then by number (the topics' code point order); months newest
 * first. No DOM: it reads through a data store (search-data.js).
 */
(function (RA) {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // a month's code in fm.js (12 * (year - 1970) + month - 1) -> "YYYY-MM"
  function monthOf(code) { return (1970 + Math.floor(code / 12)) + "-" + pad(code % 12 + 1); }

  // index/facets.py month_refinement
  function monthRefinement(month, since, until) {
    var y = +month.slice(0, 4), m = +month.slice(5, 7);
    var first = month + "-01", last = month + "-" + pad(new Date(Date.UTC(y, m, 0)).getUTCDate());
    if (since && since > first) first = since;
    if (until && until < last) last = until;
    return "since:" + first + " until:" + last;
  }

  RA.searchFacets = function (data) {
    var L = data.L;

    // index/facets.py quoted_topic: `topic:"T"`, if the language reads it back as that item
    function quotedTopic(topic) {
      var item = 'topic:"' + topic + '"', parsed;
      try { parsed = L.parse(item); } catch (e) { if (e instanceof L.QueryError) return null; throw e; }
      var g = parsed.groups;
      return g.length === 1 && g[0].length === 1 && g[0][0].value === L.strip(topic.normalize("NFKC")) ? item : null;
    }
    // index/facets.py topic_refinement (others: the other matched topics topic:"it" finds)
    function topicRefinement(topic, others) {
      var item = quotedTopic(topic);
      if (item === null) return null;
      var folded = L.fold(topic), out = [item];
      for (var i = 0; i < others.length; i++) {
        var excluded = quotedTopic(others[i]);
        if (excluded === null || new L.Literal(others[i]).occurs(folded)) return null;
        out.push("-" + excluded);
      }
      return out.join(" ");
    }

    // ordinals -> Promise<{topics: [{n, count}], months: [{value, count}]}>, sorted
    function count(ordinals) {
      return data.facetTable().then(function (table) {
        var tp = table.topic, codes = new Map(), byTopic = new Map(), byMonth = new Map();
        ordinals.forEach(function (o) {
          byTopic.set(tp[o], (byTopic.get(tp[o]) || 0) + 1);
          codes.set(table.month[o], (codes.get(table.month[o]) || 0) + 1);
        });
        codes.forEach(function (n, code) { byMonth.set(monthOf(code), n); });
        var topics = Array.from(byTopic, function (e) { return { n: e[0], count: e[1] }; });
        topics.sort(function (a, b) { return b.count - a.count || a.n - b.n; });
        var months = Array.from(byMonth, function (e) { return { value: e[0], count: e[1] }; });
        months.sort(function (a, b) { return a.value < b.value ? 1 : a.value > b.value ? -1 : 0; });
        return { topics: topics, months: months };
      });
    }

    // counted facets (count) -> Promise of the same with the first `top` topics named and
    // refined: {value, count, refine} (a topic not named yet: value null); months refined
    // within the query's own dates (ast: the parsed query)
    function describe(counted, ast, top) {
      var shown = counted.topics.slice(0, top === undefined ? counted.topics.length : top);
      var matched = new Map(counted.topics.map(function (t) { return [t.n, t]; }));
      return data.topicNames(shown.map(function (t) { return t.n; })).then(function (names) {
        var others = [];
        shown.forEach(function (t) { names.get(t.n)[1].forEach(function (k) { if (matched.has(k)) others.push(k); }); });
        return data.topicNames(others).then(function (more) {
          more.forEach(function (v, k) { names.set(k, v); });
          return {
            topics: counted.topics.map(function (t, i) {
              if (i >= shown.length) return { value: null, count: t.count, refine: null };
              var entry = names.get(t.n);
              var within = entry[1].filter(function (k) { return matched.has(k); })
                .map(function (k) { return names.get(k)[0]; });
              return { value: entry[0], count: t.count, refine: topicRefinement(entry[0], within) };
            }),
            months: counted.months.map(function (m) {
              return { value: m.value, count: m.count, refine: monthRefinement(m.value, ast.since, ast.until) };
            })
          };
        });
      });
    }

    return { count: count, describe: describe, quotedTopic: quotedTopic, topicRefinement: topicRefinement };
  };
  RA.searchFacets.monthOf = monthOf;
  RA.searchFacets.monthRefinement = monthRefinement;
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
