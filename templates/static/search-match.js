/* Which reviews a query finds (index/search.py _evaluate, _matches): each item compiled to
 * the reviews its postings allow, with where in each review its grams stand; then, per
 * candidate, the check against the text of what the grams cannot settle (a literal of
 * several grams, section: scopes, inexact NOT), chapter by chapter.
 * No DOM: it reads through a data store (search-data.js).
 */
(function (RA) {
  "use strict";
  var ALL = RA.searchData.ALL, bitsOf = RA.searchData.bitsOf;

  function gramKeys(lit) { return lit.grams().map(function (g) { return "g|" + g; }); }
  function bigrams(lit) {  // the l| lists forward maximum matching may consult
    var out = [];
    lit.tokens.forEach(function (t, k) {
      var n = lit.tokens[k + 1];
      if (t.kind === "cjk" && n && n.kind === "cjk" && n.s === t.e) out.push("l|" + t.text + n.text);
    });
    return out;
  }
  function latinParts(lit) {
    var out = [];
    lit.tokens.forEach(function (t) { if (t.kind === "word") t.text.split(/[-._/]/).forEach(function (p) { if (p) out.push("w|" + p); }); });
    return out;
  }
  function dayNumber(iso) { return Math.round(Date.parse(iso + "T00:00:00Z") / 86400000); }
  function some(items, test) {  // sequential: stops at the first true
    return items.reduce(function (p, x) { return p.then(function (ok) { return ok || test(x); }); }, Promise.resolve(false));
  }
  // a run of ideographs found as written, with no composing mark after it, is found folded too
  function holds(L, lit, text, folded) {
    return (lit.plain !== null && L.bare(text, lit.plain)) || lit.occurs(folded());
  }

  RA.searchMatch = function (data, rank) {
    var L = data.L, meta = data.meta;

    // the dictionary shards a query needs before anything else
    function firstKeys(ast) {
      var keys = [];
      ast.groups.forEach(function (g) { g.forEach(function (a) {
        if (a.field === "uuid") return;
        var path = a.field === "section" ? L.sectionPath(a.value) : null;
        if (path !== null) { keys.push("p|" + path); return; }
        if (a.field === "ref" && L.isRefId(a.value)) { keys.push("i|" + a.value.trim().toLowerCase()); return; }
        var lit = new L.Literal(a.value);
        if (a.field === "ref") { lit.grams().forEach(function (g) { keys.push("f|" + g); }); return; }
        keys = keys.concat(gramKeys(lit), bigrams(lit), latinParts(lit));
      }); });
      return keys.map(data.shardKey);
    }

    // an item compiled: {atom, lit, map: Map(ordinal -> bits), exact, ids, gramDf, grams}
    function compileAtom(a) {
      var field = a.field, value = a.value;
      var out = { atom: a, lit: null, map: new Map(), exact: true, ids: [], gramDf: 0, grams: [] };
      if (field === "uuid") return byUuid(out, value);
      var path = field === "section" ? L.sectionPath(value) : null;
      if (path !== null) {
        return data.posting("p|" + path).then(function (m) {
          if (m) m.forEach(function (c, o) { out.map.set(o, c << 2n); });
          out.path = path;
          return out;
        });
      }
      if (field === "ref" && L.isRefId(value)) {
        var number = data.entryOf("i|" + value.trim().toLowerCase());
        return citing(out, number === undefined ? [] : [number]);
      }
      var lit = (out.lit = new L.Literal(value));
      if (field === "ref") return refNumbers(lit).then(function (ns) { return citing(out, ns); });
      out.exact = lit.exact();
      return Promise.all(gramKeys(lit).map(data.posting)).then(function (lists) {
        lists = lists.map(function (m) { return m || new Map(); });
        out.gramDf = lists.length ? Math.min.apply(null, lists.map(function (m) { return m.size; })) : 0;
        if (field === "topic") lists = lists.map(function (m) {
          var t = new Map(); m.forEach(function (v, o) { if (v & 1n) t.set(o, v & 1n); }); return t;
        });
        out.grams = lists;
        var sorted = lists.slice().sort(function (x, y) { return x.size - y.size; });
        if (!sorted.length) return out;
        sorted[0].forEach(function (v, o) {
          var w = v;
          for (var i = 1; i < sorted.length; i++) {
            var x = sorted[i].get(o);
            if (x === undefined) return;
            w &= x;
          }
          // somewhere holds every gram: the topic or one chapter (for section: words, a title)
          if (field === "section" ? (w & 2n) && (w >> 2n) : (w & ~2n)) out.map.set(o, w);
        });
        return out;
      });
    }
    function byUuid(out, value) {
      var prefix = value.toLowerCase().split("-").join(""), file = "u/" + prefix[0];
      return data.load(file).then(function (rows) {
        (rows || []).forEach(function (row) { if (row[0].indexOf(prefix) === 0) out.map.set(row[1], ALL); });
        return out;
      });
    }
    // the reviews citing references `numbers` (their ids come with their postings)
    function citing(out, numbers) {
      var keys = numbers.map(function (n) { return "c|" + n.toString(36); });
      return data.loadAll(keys.map(data.shardKey)).then(function () {
        out.ids = keys.map(function (k) { var e = data.entryOf(k); return e ? e[0] : null; }).filter(Boolean).sort();
        return Promise.all(keys.map(data.posting));
      }).then(function (lists) {
        lists.forEach(function (m) {
          if (m) m.forEach(function (c, o) { out.map.set(o, (out.map.get(o) || 0n) | (c << 2n)); });
        });
        return out;
      });
    }
    // ref:words -> the numbers of the references one of whose spellings holds the words
    // (index/search.py _ref_ids): a run of ideographs from the positions of its pairs,
    // anything else checked on the titles
    function refNumbers(lit) {
      var grams = lit.grams();
      return Promise.all(grams.map(function (g) { return data.posting("f|" + g); })).then(function (lists) {
        if (!lists.length || lists.some(function (l) { return !l; })) return [];
        var maps = {};
        lists.forEach(function (l, k) {
          var m = new Map();
          l.forEach(function (e) { m.set(e.n + "." + e.sub, e); });
          maps[grams[k]] = m;
        });
        var smallest = lists.slice().sort(function (a, b) { return a.length - b.length; })[0];
        var found = smallest.filter(function (e) {
          return grams.every(function (g) { return maps[g].has(e.n + "." + e.sub); });
        });
        var numbers = function (es) { return Array.from(new Set(es.map(function (e) { return e.n; }))); };
        if (lit.exact()) return numbers(found);
        if (lit.plain !== null) {
          var cps = Array.from(lit.plain), pairs = [];
          for (var i = 0; i + 1 < cps.length; i++) pairs.push(cps[i] + cps[i + 1]);
          return numbers(found.filter(function (e) {
            var key = e.n + "." + e.sub;
            return maps[pairs[0]].get(key).pos.some(function (p) {
              return pairs.every(function (pair, i) { return maps[pair].get(key).pos.indexOf(p + i) >= 0; });
            });
          }));
        }
        var block = function (e) { return "s/" + Math.floor(e.n / meta.refBlock); };
        return data.loadAll(found.map(block)).then(function () {
          return numbers(found.filter(function (e) {
            return lit.occurs(data.cached(block(e))[e.n % meta.refBlock][e.sub]);
          }));
        });
      });
    }

    // ast -> Promise<{plan: {positive, negative, sections}, found: [ordinal, ...]}>: the
    // candidates, before any check against the text
    function evaluate(ast) {
      return data.loadAll(firstKeys(ast)).then(function () {
        rank.prefetch(ast);
        return Promise.all(ast.groups.map(function (g) { return Promise.all(g.map(compileAtom)); }));
      }).then(function (groups) {
        var positive = groups.filter(function (g) { return !g[0].atom.negated; });
        var negative = groups.filter(function (g) { return g[0].atom.negated; }).map(function (g) { return g[0]; });
        var sets = positive.map(function (g) {
          var s = new Set();
          g.forEach(function (a) { a.map.forEach(function (_, o) { s.add(o); }); });
          return s;
        }).sort(function (a, b) { return a.size - b.size; });
        var found = Array.from(sets[0]).filter(function (o) { return sets.every(function (s) { return s.has(o); }); });
        negative.forEach(function (a) { if (a.exact) found = found.filter(function (o) { return !a.map.has(o); }); });
        var plan = { positive: positive, negative: negative,
                     sections: [].concat.apply([], positive).filter(function (a) { return a.atom.field === "section"; }) };
        if (!ast.since && !ast.until) return { plan: plan, found: found };
        return data.dayTable().then(function (d) {
          var lo = ast.since ? dayNumber(ast.since) : -Infinity, hi = ast.until ? dayNumber(ast.until) : Infinity;
          return { plan: plan, found: found.filter(function (o) { var v = d[o]; return v >= lo && v <= hi; }) };
        });
      });
    }

    function needsText(plan) {
      return plan.sections.length > 0 || plan.positive.some(function (g) {
        return g.some(function (a) { return !a.exact && a.atom.field !== "section"; });
      });
    }
    function unitHolds(lit, u, part) {  // part: "title" | "body" | undefined (either)
      if (part !== "body" && holds(L, lit, u[3], function () { return data.foldedTitle(u); })) return true;
      return part !== "title" && holds(L, lit, u[4], function () { return data.foldedBody(u); });
    }
    // the review's info (every chapter file has it): from the first chapter of w, else chapter 0
    function info(o, w) {
      var cs = w === undefined || w === ALL ? [] : bitsOf(w >> 2n);
      return data.chapter(o, cs.length ? cs[0] : 0).then(function (ch) { return ch.info; });
    }
    // the units section: items allow (index/search.py _section_scope), or null: no scope
    function sectionScope(plan, o) {
      if (!plan.sections.length) return Promise.resolve(null);
      return Promise.all(plan.sections.map(function (s) {
        var w = s.map.get(o);
        if (w === undefined) return new Set();
        return data.unitsIn(o, w).then(function (units) {
          var ids = new Set();
          units.forEach(function (u) {
            if (s.path !== undefined ? (u[1] === s.path || u[1].indexOf(s.path + ".") === 0) : s.lit.occurs(data.foldedTitle(u)))
              ids.add(u[0]);
          });
          return ids;
        });
      })).then(function (scopes) {
        var scope = scopes[0];
        scopes.slice(1).forEach(function (s) { scope = new Set(Array.from(scope).filter(function (i) { return s.has(i); })); });
        return scope;
      });
    }
    // does item a hold in review o (index/search.py _occurs)?
    function occurs(a, o, scope) {
      var w = a.map.get(o);
      if (w === undefined) return Promise.resolve(false);
      var f = a.atom.field;
      if (f === null && scope) {
        return data.unitsIn(o, w).then(function (units) {
          return units.some(function (u) { return scope.has(u[0]) && unitHolds(a.lit, u); });
        });
      }
      if (a.lit === null || f === "ref") return Promise.resolve(true);
      if (a.exact) return Promise.resolve(true);
      return info(o, w).then(function (inf) {
        var topic = L.fold(inf[3] === null ? inf[2] : inf[3]);
        if (f === "topic") return a.lit.occurs(topic);
        if (f !== "section" && (w & 1n) && a.lit.occurs(topic)) return true;
        // chapter by chapter, stopping at the first that holds it
        return some(bitsOf(w >> 2n), function (c) {
          return data.chapter(o, c).then(function (ch) {
            return ch.units.some(function (u) { return unitHolds(a.lit, u, f === "section" ? "title" : undefined); });
          });
        });
      });
    }
    // does candidate o pass without its text (the postings settle it)?
    function free(plan, o) {
      return !needsText(plan) && !plan.negative.some(function (a) { return !a.exact && a.map.has(o); });
    }
    // does candidate o pass the checks the postings could not make?
    // -> Promise<{ok, scope}> (scope: the unit ids section: items allow, or null)
    function verify(plan, o) {
      var suspects = plan.negative.filter(function (a) { return !a.exact && a.map.has(o); });
      if (!needsText(plan) && !suspects.length) return Promise.resolve({ ok: true });
      return sectionScope(plan, o).then(function (scope) {
        if (scope && !scope.size) return { ok: false };
        var groups = plan.positive.filter(function (g) { return !g.every(function (a) { return a.atom.field === "section"; }); });
        return groups.reduce(function (p, g) {
          return p.then(function (ok) { return ok && some(g, function (a) { return occurs(a, o, scope); }); });
        }, Promise.resolve(true)).then(function (ok) {
          if (!ok) return false;
          return some(suspects, function (a) { return occurs(a, o, null); }).then(function (bad) { return !bad; });
        }).then(function (ok) { return { ok: ok, scope: scope }; });
      });
    }

    return { evaluate: evaluate, verify: verify, free: free };
  };
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
