/* Ranking (index/rank.py), from the same statistics the command line reads: BM25 over the
 * jieba words the query's literals hold, a boost for a literal in the topic or a title,
 * one for groups meeting in one chapter, ties by the archive's order. Scores are compared
 * as integers (spec.ranking.scale) so that float noise never reorders the two sides.
 * No DOM: it reads through a data store (search-data.js).
 */
(function (RA) {
  "use strict";
  var ALL = RA.searchData.ALL;

  function idf(n, df) { return Math.log(1 + (n - df + 0.5) / (df + 0.5)); }

  RA.searchRank = function (data) {
    var L = data.L, R = data.meta.spec.ranking, n = data.meta.n;

    function listedIn(word) {  // is a CJK word among the index's words (the l| list of its first two characters)?
      var cps = Array.from(word), list = data.entryOf("l|" + cps.slice(0, 2).join(""));
      return !!list && list.indexOf(cps.slice(2).join("")) >= 0;
    }
    function latinListed(word) { return data.entryOf("w|" + word) !== undefined; }
    function wordsOf(lit) { return L.queryWords(lit, listedIn, latinListed); }

    // start loading what ranking will read (the query's words' postings, the review table)
    // while the candidates are computed; the dictionary shards of the query's grams are in
    function prefetch(ast) {
      var words = [], common = false;
      ast.groups.forEach(function (g) { g.forEach(function (a) {
        if (a.negated || (a.field !== null && a.field !== "topic")) return;
        var lit = new L.Literal(a.value);
        words = words.concat(wordsOf(lit));
        // a long posting (its own file) means many candidates, hence ranking; a rare item may
        // have one candidate, which needs none
        if (lit.grams().some(function (g) { return typeof data.entryOf("g|" + g) === "number"; })) common = true;
      }); });
      if (!words.length || !common) return;
      data.reviewTable();
      data.loadAll(words.map(function (w) { return data.shardKey("w|" + w); })).then(function () {
        words.forEach(function (w) { data.posting("w|" + w); });
      });
    }

    // the literals ranking weighs: positive, anywhere or in the topic; with their group
    function rankedItems(plan) {
      var items = [];
      plan.positive.forEach(function (g, gi) { g.forEach(function (a) {
        if (a.lit && (a.atom.field === null || a.atom.field === "topic")) items.push({ a: a, group: gi });
      }); });
      return items;
    }
    // BM25 of one word's posting, added to total
    function addWord(total, m, tab) {
      var wi = idf(n, m.size);
      m.forEach(function (tf, o) {
        if (!total.has(o)) return;
        var dl = tab.dl[o] || 1;
        total.set(o, total.get(o) + wi * tf * (R.k1 + 1) / (tf + R.k1 * (1 - R.b + R.b * dl / R.avgdl)));
      });
    }
    // the topic and title boosts of one item; where all its grams stand (chapters) into `meet`
    function addBoosts(total, it, meet) {
      var gi = idf(n, it.a.gramDf), topicOnly = it.a.atom.field === "topic";
      total.forEach(function (s, o) {
        var maps = it.a.grams.map(function (g) { return g.get(o); });
        if (maps.some(function (m) { return m === undefined || m === 0n; })) return;
        if (maps.every(function (m) { return m & 1n; })) s += gi * R.topic_boost;
        if (!topicOnly && maps.every(function (m) { return m & 2n; })) s += gi * R.title_boost;
        total.set(o, s);
        if (meet && !topicOnly) {
          var held = ALL;
          maps.forEach(function (m) { held &= m >> 2n; });
          meet.set(o, (meet.get(o) || 0n) | held);
        }
      });
    }
    // groups that all stand in one chapter of a review multiply its score
    function addMeetings(total, meets) {
      if (meets.size < 2) return;
      var gs = Array.from(meets.values());
      total.forEach(function (s, o) {
        var meet = ALL;
        for (var i = 0; i < gs.length && meet; i++) meet &= gs[i].get(o) || 0n;
        if (meet) total.set(o, s * (1 + R.meet_boost));
      });
    }

    // the candidates `found` (ordinals) in rank order -> Promise<[{o, score, key}]>
    function score(plan, found) {
      if (found.length < 2) return Promise.resolve(found.map(function (o) { return { o: o, score: 0, key: 0 }; }));
      var items = rankedItems(plan), words = items.map(function (it) { return wordsOf(it.a.lit); });
      var keys = [].concat.apply([], words).map(function (w) { return data.shardKey("w|" + w); });
      return data.loadAll(keys).then(function () {
        return Promise.all([data.reviewTable(), Promise.all(words.map(function (ws) {
          return Promise.all(ws.map(function (w) { return data.posting("w|" + w); }));
        }))]);
      }).then(function (got) {
        var tab = got[0], lists = got[1], total = new Map(), meets = new Map();
        var several = new Set(items.map(function (it) { return it.group; })).size > 1;
        found.forEach(function (o) { total.set(o, 0); });
        items.forEach(function (it, k) {
          lists[k].forEach(function (m) { if (m) addWord(total, m, tab); });
          if (several && !meets.has(it.group)) meets.set(it.group, new Map());
          addBoosts(total, it, several ? meets.get(it.group) : null);
        });
        addMeetings(total, meets);
        var ranked = found.map(function (o) {
          var s = total.get(o);
          return { o: o, score: s, key: Math.floor(s * R.scale + 0.5) };
        });
        ranked.sort(function (x, y) { return y.key - x.key || tab.place[x.o] - tab.place[y.o]; });
        return ranked;
      });
    }

    return { score: score, prefetch: prefetch };
  };
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
