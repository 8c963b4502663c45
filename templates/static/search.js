/* In-browser search over the static site's search data (publish/searchdata.py, format 4).
 * It answers and ranks exactly as `reviews search` does (index/search.py, index/rank.py):
 * the same language (lang.js, from index/spec.json), the same candidates from the same
 * grams, the same checks against the text, the same scores from the same statistics and
 * the same tie-breaks, so its first page is `reviews search --limit 10`.
 * No dependencies, no server: data files are classic scripts that call RA.*, loaded by
 * injecting <script> tags, so it works over http and from file:// alike.
 * Order of work: the postings give every candidate and its score; candidates are then
 * checked against their text best first, so the first page is final as soon as it is
 * full; the rest are checked in the background until the count is exact.
 */
(function () {
  "use strict";
  var RA = (window.RA = window.RA || {});
  var PAGE = 10, SNIP = 120, DEBOUNCE = 200;
  var base = "search/", reviewBase = "reviews/";
  var cache = {}, waiting = {}, L = null, META = null;

  // ---- loading ---------------------------------------------------------------
  function arrived(key, value) {
    cache[key] = value;
    var w = waiting[key];
    if (w) { delete waiting[key]; w.forEach(function (f) { f[0](value); }); }
  }
  RA.meta = function (m) { META = m; L = RA.lang(m.spec); RA.L = L; arrived("meta", m); };
  RA.k = function (s, m) { arrived("k/" + s, m); };
  RA.x = function (x, z) { arrived("x/" + x, z); };
  RA.l = function (z) { arrived("l", z); };
  RA.r = function (z) { arrived("r", z); };
  RA.s = function (b, rows) { arrived("s/" + b, rows); };
  RA.u = function (p, rows) { arrived("u/" + p, rows); };
  RA.o = function (b, rows) { arrived("o/" + b, rows); };
  RA.t = function (o, c, z) { arrived(textKey(o, c), z); };

  function textKey(o, c) { return "t/" + Math.floor(o / 100) + "/" + o + "-" + c; }
  function load(key, missingOk) {
    if (key in cache) return Promise.resolve(cache[key]);
    return new Promise(function (resolve, reject) {
      var first = !waiting[key];
      (waiting[key] = waiting[key] || []).push([resolve, reject]);
      if (!first) return;
      var s = document.createElement("script");
      s.src = base + key + ".js";
      s.async = true;
      s.onerror = function () {
        var w = waiting[key] || [];
        delete waiting[key];
        if (missingOk) { cache[key] = null; w.forEach(function (f) { f[0](null); }); }
        else w.forEach(function (f) { f[1](new Error("无法加载搜索数据 " + key)); });
      };
      s.onload = function () { s.remove(); };
      document.head.appendChild(s);
    });
  }
  function loadAll(keys, missingOk) {
    return Promise.all(Array.from(new Set(keys)).map(function (k) { return load(k, missingOk); }));
  }

  // ---- decoding ----------------------------------------------------------------
  function bytesOf(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  var inflated = {};
  function inflate(key, z) {  // raw deflate, base64 -> Promise<Uint8Array>
    if (inflated[key]) return inflated[key];
    var stream = new Blob([bytesOf(z)]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return (inflated[key] = new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); }));
  }
  // varints; values past 2^49 come back as BigInt
  function varints(bytes) {
    var out = [], i = 0, n = bytes.length;
    while (i < n) {
      var v = 0, mul = 1, big = null, bmul = null, b;
      do {
        b = bytes[i++];
        if (big === null && mul < 562949953421312) { v += (b & 127) * mul; mul *= 128; }
        else {
          if (big === null) { big = BigInt(v); bmul = BigInt(mul); }
          big += BigInt(b & 127) * bmul; bmul *= 128n;
        }
      } while (b & 128);
      out.push(big === null ? v : big);
    }
    return out;
  }
  function shardOf(term, shards) {
    var h = 0x811c9dc5;
    for (var i = 0; i < term.length; i++) { h ^= term.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h % shards;
  }
  RA.shardOf = shardOf;
  function shardKey(key) { return "k/" + shardOf(key.slice(2), META.dict); }
  function entryOf(key) { var s = cache[shardKey(key)]; return s ? s[key] : undefined; }

  var postings = {};
  // key -> Promise<Map(ordinal -> value)> (an f| key: Promise<[spelling, ...]>); null if absent
  function posting(key) {
    if (postings[key]) return postings[key];
    var v = entryOf(key), p;
    if (Array.isArray(v) && key[0] === "c") v = v[1];  // c|<number>: [ref id, posting]
    if (v === undefined) p = Promise.resolve(null);
    else if (typeof v === "string") p = Promise.resolve(decode(key, bytesOf(v)));
    else p = load("x/" + v).then(function (z) { return inflate("x/" + v, z); }).then(function (b) { return decode(key, b); });
    return (postings[key] = p);
  }
  function decode(key, bytes) {
    var vals = varints(bytes), field = key[0], o = -1, i;
    if (field === "f") {  // spellings: [{n: reference number, sub, pos: [...]}]
      var out = [];
      for (i = 0; i < vals.length;) {
        o += vals[i];
        var e = { n: o, sub: vals[i + 1], pos: [] }, count = vals[i + 2], q = -1;
        i += 3;
        for (var k = 0; k < count; k++) { q += vals[i++]; e.pos.push(q); }
        out.push(e);
      }
      return out;
    }
    var m = new Map();
    for (i = 0; i < vals.length; i += 2) {
      o += Number(vals[i]);
      m.set(o, field === "w" ? Number(vals[i + 1]) : BigInt(vals[i + 1]));
    }
    return m;
  }
  var tables = null;  // {dl: [...], place: [...]} from l.js
  function reviewTable() {
    if (tables) return Promise.resolve(tables);
    return load("l").then(function (z) { return inflate("l", z); }).then(function (b) {
      var n = META.n, table = META.spec.ranking.dl_table, dl = [], place = [];
      for (var o = 0; o < n; o++) dl.push(table[b[o]]);
      varints(b.subarray(n)).forEach(function (z, o) { place.push(n - 1 - o + (z % 2 ? -(z + 1) / 2 : z / 2)); });
      return (tables = { dl: dl, place: place });
    });
  }
  var days = null;
  function dayTable() {
    if (days) return Promise.resolve(days);
    return load("r").then(function (z) { return inflate("r", z); }).then(function (b) { return (days = varints(b)); });
  }
  function dayNumber(iso) { return Math.round(Date.parse(iso + "T00:00:00Z") / 86400000); }
  var texts = {};
  function chapter(o, c) {  // -> Promise<{info, units}>
    var key = textKey(o, c);
    if (texts[key]) return texts[key];
    return (texts[key] = load(key).then(function (z) { return inflate(key, z); }).then(function (b) {
      var data = JSON.parse(new TextDecoder().decode(b));
      return { info: data[0], units: data[1] };
    }));
  }

  // ---- bit maps (BigInt): bit 0 topic, bit 1 some title, bit 2+c chapter c -------------
  var ALL = -1n;
  function bitsOf(m) { var out = [], c = 0; for (; m > 0n; m >>= 1n, c++) if (m & 1n) out.push(c); return out; }

  // ---- compiling the query ----------------------------------------------------------
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
  function uuidFiles(value) { return ["u/" + value.toLowerCase().split("-").join("")[0]]; }
  // an atom compiled: {atom, lit, map: Map(ordinal -> bits), exact, ids, gramDf, grams}
  function compileAtom(a) {
    var field = a.field, value = a.value;
    var out = { atom: a, lit: null, map: new Map(), exact: true, ids: [], gramDf: 0, grams: [] };
    if (field === "uuid") {
      var prefix = value.toLowerCase().split("-").join("");
      return loadAll(uuidFiles(value)).then(function () {
        uuidFiles(value).forEach(function (f) {
          (cache[f] || []).forEach(function (row) { if (row[0].indexOf(prefix) === 0) out.map.set(row[1], ALL); });
        });
        return out;
      });
    }
    var path = field === "section" ? L.sectionPath(value) : null;
    if (path !== null) {
      return posting("p|" + path).then(function (m) {
        if (m) m.forEach(function (c, o) { out.map.set(o, c << 2n); });
        out.path = path;
        return out;
      });
    }
    if (field === "ref" && L.isRefId(value)) {
      var number = entryOf("i|" + value.trim().toLowerCase());
      return citing(out, number === undefined ? [] : [number]);
    }
    var lit = (out.lit = new L.Literal(value));
    if (field === "ref") return refNumbers(lit).then(function (ns) { return citing(out, ns); });
    out.exact = lit.exact();
    return Promise.all(gramKeys(lit).map(posting)).then(function (lists) {
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
  // the reviews citing references `numbers` (their ids come with their postings)
  function citing(out, numbers) {
    var keys = numbers.map(function (n) { return "c|" + n.toString(36); });
    return loadAll(keys.map(shardKey)).then(function () {
      out.ids = keys.map(function (k) { var e = entryOf(k); return e ? e[0] : null; }).filter(Boolean).sort();
      return Promise.all(keys.map(posting));
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
    return Promise.all(grams.map(function (g) { return posting("f|" + g); })).then(function (lists) {
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
      var blocks = found.map(function (e) { return "s/" + Math.floor(e.n / META.refBlock); });
      return loadAll(blocks).then(function () {
        return numbers(found.filter(function (e) {
          return lit.occurs(cache["s/" + Math.floor(e.n / META.refBlock)][e.n % META.refBlock][e.sub]);
        }));
      });
    });
  }
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
    return keys.map(shardKey);
  }

  // ---- evaluation (index/search.py _evaluate, _matches) ---------------------------------
  // start loading what ranking will read (the query's words' postings, the review table)
  // while the candidates are computed
  function prefetchRanking(ast) {
    var words = [], common = false;
    ast.groups.forEach(function (g) { g.forEach(function (a) {
      if (a.negated || (a.field !== null && a.field !== "topic")) return;
      var lit = new L.Literal(a.value);
      words = words.concat(L.queryWords(lit, listedIn, latinListed));
      // a long posting (its own file) means many candidates, hence ranking; a rare item may
      // have one candidate, which needs none
      if (gramKeys(lit).some(function (k) { return typeof entryOf(k) === "number"; })) common = true;
    }); });
    if (!words.length || !common) return;
    reviewTable();
    loadAll(words.map(function (w) { return shardKey("w|" + w); })).then(function () {
      words.forEach(function (w) { posting("w|" + w); });
    });
  }
  function evaluate(ast) {
    return loadAll(firstKeys(ast)).then(function () {
      prefetchRanking(ast);
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
      return dayTable().then(function (d) {
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
  // folded title and body of a unit, once
  function ft(u) { return u.ft === undefined ? (u.ft = L.fold(u[3])) : u.ft; }
  function fb(u) { return u.fb === undefined ? (u.fb = L.fold(u[4])) : u.fb; }
  // a run of ideographs found as written, with no composing mark after it, is found folded too
  function holds(lit, text, folded) {
    return (lit.plain !== null && L.bare(text, lit.plain)) || lit.occurs(folded());
  }
  function unitHolds(lit, u, part) {  // part: "title" | "body" | undefined (either)
    if (part !== "body" && holds(lit, u[3], function () { return ft(u); })) return true;
    return part !== "title" && holds(lit, u[4], function () { return fb(u); });
  }
  // the units of review o in the chapters of bits w
  function unitsIn(o, w) {
    return Promise.all(bitsOf(w >> 2n).map(function (c) { return chapter(o, c); })).then(function (chs) {
      return [].concat.apply([], chs.map(function (ch) { return ch.units; }));
    });
  }
  function range(n) { var out = []; for (var i = 0; i < n; i++) out.push(i); return out; }
  // the review's info (every chapter file has it): from the first chapter of w, else chapter 0
  function info(o, w) {
    var cs = w === undefined || w === ALL ? [] : bitsOf(w >> 2n);
    return chapter(o, cs.length ? cs[0] : 0).then(function (ch) { return ch.info; });
  }
  // the units section: items allow (index/search.py _section_scope), or null: no scope
  function sectionScope(plan, o) {
    if (!plan.sections.length) return Promise.resolve(null);
    return Promise.resolve().then(function () {
      return Promise.all(plan.sections.map(function (s) {
        var w = s.map.get(o);
        if (w === undefined) return new Set();
        return unitsIn(o, w).then(function (units) {
          var ids = new Set();
          units.forEach(function (u) {
            if (s.path !== undefined ? (u[1] === s.path || u[1].indexOf(s.path + ".") === 0) : s.lit.occurs(ft(u)))
              ids.add(u[0]);
          });
          return ids;
        });
      })).then(function (scopes) {
        var scope = scopes[0];
        scopes.slice(1).forEach(function (s) { scope = new Set(Array.from(scope).filter(function (i) { return s.has(i); })); });
        return scope;
      });
    });
  }
  // does item a hold in review o (index/search.py _occurs)?
  function occurs(a, o, scope) {
    var w = a.map.get(o);
    if (w === undefined) return Promise.resolve(false);
    var f = a.atom.field;
    if (f === null && scope) {
      return unitsIn(o, w).then(function (units) {
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
        return chapter(o, c).then(function (ch) {
          return ch.units.some(function (u) { return unitHolds(a.lit, u, f === "section" ? "title" : undefined); });
        });
      });
    });
  }
  function some(items, test) {  // sequential: stops at the first true
    return items.reduce(function (p, x) { return p.then(function (ok) { return ok || test(x); }); }, Promise.resolve(false));
  }
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

  // ---- ranking (index/rank.py) --------------------------------------------------------
  function idf(n, df) { return Math.log(1 + (n - df + 0.5) / (df + 0.5)); }
  function listedIn(word) {  // is a CJK word among the index's words (the l| list of its first two characters)?
    var cps = Array.from(word), list = entryOf("l|" + cps.slice(0, 2).join(""));
    return !!list && list.indexOf(cps.slice(2).join("")) >= 0;
  }
  function latinListed(word) { return entryOf("w|" + word) !== undefined; }
  function score(plan, found) {
    if (found.length < 2) return Promise.resolve(found.map(function (o) { return { o: o, score: 0, key: 0 }; }));
    var R = META.spec.ranking, n = META.n, items = [];
    plan.positive.forEach(function (g, gi) { g.forEach(function (a) {
      if (a.lit && (a.atom.field === null || a.atom.field === "topic")) items.push({ a: a, group: gi });
    }); });
    var words = items.map(function (it) { return L.queryWords(it.a.lit, listedIn, latinListed); });
    var keys = [].concat.apply([], words).map(function (w) { return shardKey("w|" + w); });
    return loadAll(keys).then(function () {
      return Promise.all([reviewTable(), Promise.all(words.map(function (ws) {
        return Promise.all(ws.map(function (w) { return posting("w|" + w); }));
      }))]);
    }).then(function (got) {
      var tab = got[0], lists = got[1], total = new Map();
      found.forEach(function (o) { total.set(o, 0); });
      var meets = new Map(), several = new Set(items.map(function (it) { return it.group; })).size > 1;
      items.forEach(function (it, k) {
        lists[k].forEach(function (m) {
          if (!m) return;
          var wi = idf(n, m.size);
          m.forEach(function (tf, o) {
            if (!total.has(o)) return;
            var dl = tab.dl[o] || 1;
            total.set(o, total.get(o) + wi * tf * (R.k1 + 1) / (tf + R.k1 * (1 - R.b + R.b * dl / R.avgdl)));
          });
        });
        var gi = idf(n, it.a.gramDf), topicOnly = it.a.atom.field === "topic";
        if (!meets.has(it.group)) meets.set(it.group, new Map());
        var group = meets.get(it.group);
        total.forEach(function (s, o) {
          var maps = it.a.grams.map(function (g) { return g.get(o); });
          if (maps.some(function (m) { return m === undefined || m === 0n; })) return;
          if (maps.every(function (m) { return m & 1n; })) s += gi * R.topic_boost;
          if (!topicOnly && maps.every(function (m) { return m & 2n; })) s += gi * R.title_boost;
          total.set(o, s);
          if (several && !topicOnly) {
            var held = ALL;
            maps.forEach(function (m) { held &= m >> 2n; });
            group.set(o, (group.get(o) || 0n) | held);
          }
        });
      });
      if (meets.size > 1) {
        var gs = Array.from(meets.values());
        total.forEach(function (s, o) {
          var meet = ALL;
          for (var i = 0; i < gs.length && meet; i++) meet &= gs[i].get(o) || 0n;
          if (meet) total.set(o, s * (1 + R.meet_boost));
        });
      }
      var ranked = found.map(function (o) {
        var s = total.get(o);
        return { o: o, score: s, key: Math.floor(s * R.scale + 0.5) };
      });
      ranked.sort(function (x, y) { return y.key - x.key || tab.place[x.o] - tab.place[y.o]; });
      return ranked;
    });
  }

  // Run a query. onProgress(res) as results are checked; resolves to the complete result
  // {reviews: [{o, score}], ast, plan, complete: true} or {reviews: [], error, code}.
  // `need`: how many results to check first (the page), before checking the rest.
  RA.run = function (q, onProgress, need) {
    need = need || PAGE;
    var ast;
    try { ast = L.parse(q); } catch (e) {
      if (e instanceof L.QueryError) return Promise.resolve({ reviews: [], error: e.message, code: e.code, complete: true });
      throw e;
    }
    var res = { reviews: [], ast: ast, complete: false, candidates: 0 };
    var mark = function (name) { if (RA.timing) RA.timing[name] = performance.now(); };
    return evaluate(ast).then(function (ev) {
      mark("candidates");
      res.plan = ev.plan;
      return score(ev.plan, ev.found);
    }).then(function (ranked) {
      mark("ranked");
      res.candidates = ranked.length;
      var checks = {};
      // check in rank order, a few at a time; report progress
      var i = 0;
      function next() {
        if (i >= ranked.length) return Promise.resolve();
        var batch = ranked.slice(i, i + (res.reviews.length < need ? Math.max(4, need - res.reviews.length) : 48));
        i += batch.length;
        return Promise.all(batch.map(function (x) { return verify(res.plan, x.o).then(function (v) { checks[x.o] = v; }); }))
          .then(function () {
            batch.forEach(function (x) { if (checks[x.o].ok) { x.scope = checks[x.o].scope; res.reviews.push(x); } });
            res.checked = i;
            var p = onProgress ? onProgress(res) : null;
            return Promise.resolve(p).then(next);
          });
      }
      return next();
    }).then(function () { res.complete = true; return res; });
  };
  // for tests: the pieces of a snippet of `text` for query q, marks in upper case keys
  RA.snippetText = function (text, q) {
    var ast = L.parse(q), ls = [];
    ast.groups.forEach(function (g) { g.forEach(function (a) { if (!a.negated && a.field === null) ls.push(new L.Literal(a.value)); }); });
    var f = L.fold(text), spans = [].concat.apply([], ls.map(function (l) { return l.spans(f); }));
    if (!spans.length) return null;
    var frag = marked(text, spans, [], windowOf(text, spans));
    return Array.from(frag.childNodes).map(function (n) { return n.nodeName === "MARK" ? "<" + n.textContent + ">" : n.textContent; });
  };
  RA.uuids = function (res) {  // the review ids of a result, in order (for tests)
    var blocks = res.reviews.map(function (x) { return "o/" + Math.floor(x.o / META.uuidBlock); });
    return loadAll(blocks).then(function () {
      return res.reviews.map(function (x) { return cache["o/" + Math.floor(x.o / META.uuidBlock)][x.o % META.uuidBlock]; });
    });
  };

  // ---- sections of a shown review (index/search.py _sections, chapter_order) -----------
  // each chapter's weight: the items that may stand in it (index/search.py chapter_order)
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
  function lits(plan) {
    var out = [];
    plan.positive.forEach(function (g) { g.forEach(function (a) { if (a.lit && a.atom.field === null) out.push(a.lit); }); });
    return out;
  }
  function queryIds(plan) {
    var ids = new Set();
    plan.positive.forEach(function (g) { g.forEach(function (a) { a.ids.forEach(function (i) { ids.add(i); }); }); });
    return ids;
  }
  // -> Promise<{info, hits: [{unit, titleSpans, bodySpans, ...}]}>
  function sectionsOf(plan, x, perReview) {
    var ls = lits(plan), ids = queryIds(plan), scope = x.scope, weight = chapterWeights(plan, x.o);
    var best = 0;  // the best chapter is loaded first, and tells how many there are
    weight.forEach(function (w, c) { if (w > (weight[best] || 0)) best = c; });
    return chapter(x.o, best).then(function (ch) {
      var inf = ch.info, co = chapterOrder(weight, inf[4]), ranked = [], k = 0;
      var scopeOnly = scope && !ls.length, scoped = 0n;
      if (scopeOnly) plan.sections.forEach(function (s) { scoped |= (s.map.get(x.o) || 0n) >> 2n; });
      function step() {
        if (k >= co.order.length || ranked.length >= perReview) return Promise.resolve();
        var c = co.order[k++];
        // a chapter no item may stand in, or (only section: asked) outside the sections named
        if (scopeOnly ? !((scoped >> BigInt(c)) & 1n) : !co.weight[c]) return step();
        return chapter(x.o, c).then(function (ch) {
          ch.units.forEach(function (u) {
            if (scope && !scope.has(u[0])) return;
            var spans = ls.map(function (l) { return [l.spans(ft(u)), l.spans(fb(u))]; });
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
        return { info: inf, hits: ranked.slice(0, perReview) };
      });
    });
  }

  // ---- rendering ---------------------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function anchor(key) { return key === "abstract" || key === "references" ? key : "s-" + key; }
  function merge(spans) {
    var out = [];
    spans.slice().sort(function (a, b) { return a[0] - b[0]; }).forEach(function (s) {
      if (out.length && s[0] <= out[out.length - 1][1]) out[out.length - 1][1] = Math.max(s[1], out[out.length - 1][1]);
      else out.push([s[0], s[1]]);
    });
    return out;
  }
  // text as written, with the folded spans (UTF-16 offsets of the folded text) marked and
  // citation markers ([start, end, id] in code points of the text) shown as superscripts;
  // `window`: [first piece, end piece] or null for the whole text. -> DocumentFragment
  function marked(text, spans, cites, win, hot) {
    var fm = L.foldMapped(text), pieces = fm.pieces, n = pieces.length;
    var inMark = new Uint8Array(n + 1), cite = new Array(n + 1);
    merge(spans).forEach(function (s) {
      if (s[1] <= s[0]) return;
      for (var i = fm.owner[s[0]]; i <= fm.owner[s[1] - 1]; i++) inMark[i] = 1;
    });
    var cpToPiece = [], p = 0;
    pieces.forEach(function (pc, i) { for (var k = 0; k < Array.from(pc).length; k++) cpToPiece[p++] = i; });
    cpToPiece[p] = n;
    (cites || []).forEach(function (m) {
      var a = cpToPiece[m[0]], b = cpToPiece[m[1]];
      if (a === undefined || b === undefined) return;
      cite[a] = { end: b, label: pieces.slice(a, b).join("").replace(/[\[\]^]/g, ""), hot: hot && hot.has(m[2]) };
    });
    var a = win ? win[0] : 0, b = win ? win[1] : n, frag = document.createDocumentFragment();
    if (a > 0) frag.appendChild(document.createTextNode("…"));
    var i = a, after = -1;  // after: where the last marker ended (a run of them: 1,2,3)
    while (i < b) {
      if (cite[i]) {
        var sup = el("sup", "cite", (after === i ? "," : "") + cite[i].label);
        after = cite[i].end;
        if (cite[i].hot || inMark[i]) { var mk = el("mark"); mk.appendChild(sup); frag.appendChild(mk); }
        else frag.appendChild(sup);
        i = cite[i].end;
        continue;
      }
      var j = i + 1;
      while (j < b && inMark[j] === inMark[i] && !cite[j]) j++;
      var t = pieces.slice(i, j).join("").replace(/\s+/g, " ");
      frag.appendChild(inMark[i] ? el("mark", null, t) : document.createTextNode(t));
      i = j;
    }
    if (b < n) frag.appendChild(document.createTextNode("…"));
    return frag;
  }
  // index/search.py snippet(): about SNIP pieces around the first span
  function windowOf(text, spans) {
    var fm = L.foldMapped(text), n = fm.pieces.length, ps = merge(spans).map(function (s) {
      return [fm.owner[s[0]], fm.owner[s[1] - 1] + 1];
    });
    var start = ps.length ? Math.max(0, ps[0][0] - SNIP / 4) : 0, end = Math.min(n, start + SNIP);
    if (ps.length) start = Math.max(0, end - SNIP);
    if (ps.length && ps[0][1] > end) end = ps[0][1];
    return [start, end];
  }
  // the sentence holding the first marker citing one of `ids` (its bounds come with the
  // text: archive/citations.py Sentences), as a window of pieces
  function citingWindow(text, cites, ids) {
    var m = cites.filter(function (c) { return ids.has(c[2]); })[0];
    if (!m) return null;
    var fm = L.foldMapped(text), cpToPiece = [], p = 0;
    fm.pieces.forEach(function (pc, i) { for (var k = 0; k < Array.from(pc).length; k++) cpToPiece[p++] = i; });
    cpToPiece[p] = fm.pieces.length;
    return [cpToPiece[m[3]], cpToPiece[m[4]]];
  }
  var highlightQuery = "";
  function reviewHref(uuid, key) {
    return reviewBase + uuid + ".html" + (highlightQuery ? "?highlight=" + encodeURIComponent(highlightQuery) : "") +
      (key ? "#" + anchor(key) : "");
  }
  function renderItem(x, sec, ids) {
    var li = el("li", "result"), inf = sec.info;  // [uuid, received, title, topic, chapters]
    li.dataset.uuid = inf[0];
    var h = el("h2", "result-title"), a = el("a", "result-link", inf[2]);
    a.href = reviewHref(inf[0], null);
    h.appendChild(a); li.appendChild(h);
    li.appendChild(el("p", "meta", inf[1].slice(0, 10) + " · " + (inf[3] === null ? inf[2] : inf[3])));
    var ul = el("ul", "hits");
    sec.hits.forEach(function (hit) {
      var u = hit.unit, hi = el("li", "hit");
      var link = el("a", "hit-link", u[1] === "abstract" || u[1] === "references" ? "" : u[1] + " ");
      var titleSpans = [].concat.apply([], hit.spans.map(function (s) { return s[0]; }));
      link.appendChild(titleSpans.length && u[2] === null ? marked(u[3], titleSpans, [], null)
                       : document.createTextNode(u[2] === null ? u[3] : u[2]));
      link.href = reviewHref(inf[0], u[1]);
      hi.appendChild(link);
      var bodySpans = [].concat.apply([], hit.spans.map(function (s) { return s[1]; }));
      var win = bodySpans.length ? windowOf(u[4], bodySpans) : citingWindow(u[4], u[5], ids) || windowOf(u[4], []);
      if (u[4]) { var p = el("p", "snippet"); p.appendChild(marked(u[4], bodySpans, u[5], win, ids)); hi.appendChild(p); }
      ul.appendChild(hi);
    });
    li.appendChild(ul);
    return li;
  }
  function status(q, res, page) {
    var n = res.reviews.length, pages = Math.max(1, Math.ceil(n / PAGE));
    if (!res.complete) return "已找到 " + n + " 篇综述，继续搜索…";
    if (!n) return "没有找到与“" + q + "”匹配的综述。";
    return "找到 " + n + " 篇综述" + (pages > 1 ? "，第 " + Math.min(page, pages) + " / " + pages + " 页" : "");
  }
  function pageOf(res, page) { return res.reviews.slice((page - 1) * PAGE, page * PAGE); }
  // the results of one page, each shown, in order, once its sections are in
  function renderList(res, page, gen) {
    var list = document.getElementById("results");
    list.textContent = "";
    var shown = pageOf(res, page), ids = queryIds(res.plan), per = META.spec.ranking.per_review;
    var next = 0, ready = shown.map(function () { return null; });
    var flush = function () {
      if (gen !== generation) return;
      for (; next < shown.length && ready[next]; next++) {
        list.appendChild(renderItem(shown[next], ready[next], ids));
        if (!RA.timing.first) { RA.timing.first = performance.now(); document.body.dataset.searchFirst = "1"; }
      }
    };
    return Promise.all(shown.map(function (x, k) {
      return sectionsOf(res.plan, x, per).then(function (sec) { ready[k] = sec; flush(); });
    })).then(function () { RA.timing.page = performance.now(); select(-1); });
  }
  function renderPager(q, res, page) {
    var pager = document.getElementById("pager"), pages = Math.ceil(res.reviews.length / PAGE);
    pager.textContent = "";
    if (pages <= 1) return;
    var mk = function (p, label, rel) {
      var a = el("a", null, label); a.href = "?q=" + encodeURIComponent(q) + "&p=" + p; a.rel = rel; pager.appendChild(a);
    };
    if (page > 1) mk(page - 1, "上一页", "prev");
    pager.appendChild(el("span", null, "第 " + page + " / " + pages + " 页"));
    if (page < pages) mk(page + 1, "下一页", "next");
  }

  // ---- keyboard: ↑/↓ through results, Enter opens, / focuses, Esc clears ----------------
  var selected = -1;
  function results() { return Array.from(document.querySelectorAll("#results > li.result")); }
  function select(i) {
    var items = results();
    items.forEach(function (li) { li.classList.remove("selected"); li.removeAttribute("aria-selected"); });
    selected = Math.max(-1, Math.min(i, items.length - 1));
    if (selected >= 0) {
      items[selected].classList.add("selected");
      items[selected].setAttribute("aria-selected", "true");
      items[selected].scrollIntoView({ block: "nearest" });
    }
  }
  function openSelected() {
    var li = results()[selected];
    if (!li) return false;
    var a = li.querySelector("a.hit-link") || li.querySelector("a.result-link");
    if (a) location.href = a.href;
    return !!a;
  }

  var generation = 0;
  function search(q, page) {
    var gen = ++generation, st = document.getElementById("status");
    highlightQuery = q;
    document.getElementById("results").textContent = "";
    document.getElementById("pager").textContent = "";
    delete document.body.dataset.searchDone; delete document.body.dataset.complete; delete document.body.dataset.searchFirst;
    if (!q) { st.textContent = "输入关键词后按回车搜索。"; return Promise.resolve(); }
    document.title = q + " · 搜索 · 综述档案";
    st.textContent = "搜索中…";
    RA.done = false;
    var listed = null;
    RA.timing = { start: performance.now() };
    var finish = function () {
      if (gen !== generation) return;
      RA.timing.complete = performance.now(); RA.done = true;
      document.body.dataset.searchDone = "1"; document.body.dataset.complete = "1";
    };
    return RA.run(q, function (res) {
      if (gen !== generation) return;
      st.textContent = status(q, res, page);
      // the page is final: show it, and check the rest only once it is shown
      if (!listed && res.reviews.length >= page * PAGE) return (listed = renderList(res, page, gen));
    }, page * PAGE).then(function (res) {
      if (gen !== generation) return;
      RA.last = res;
      if (res.error) { st.textContent = "查询有误：" + res.error; return; }
      if (!listed) {
        page = Math.min(page, Math.max(1, Math.ceil(res.reviews.length / PAGE)));
        listed = res.reviews.length ? renderList(res, page, gen) : Promise.resolve();
      }
      return listed.then(function () {
        if (gen !== generation) return;
        st.textContent = status(q, res, page); renderPager(q, res, page);
      });
    }).then(finish, function (err) { if (gen === generation) { st.textContent = "搜索失败：" + err.message; } finish(); });
  }

  RA.start = function (opts) {
    base = opts.base.replace(/\/?$/, "/");
    reviewBase = opts.reviewBase.replace(/\/?$/, "/");
    var params = new URLSearchParams(location.search), q = (params.get("q") || "").trim();
    var input = document.getElementById("q"), form = document.getElementById("search-form");
    var page = Math.max(1, parseInt(params.get("p") || "1", 10) || 1);
    input.value = q;
    var timer = null, current = q;
    function submit(push) {
      clearTimeout(timer);
      var v = input.value.trim();
      if (v === current && push !== "force") return;
      current = v;
      var url = v ? "?q=" + encodeURIComponent(v) : location.pathname;
      if (push === true) history.pushState(null, "", url); else history.replaceState(null, "", url);
      search(v, 1);
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { submit(false); }, DEBOUNCE); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (selected >= 0 && openSelected()) return;
      submit(true);
    });
    window.addEventListener("popstate", function () {
      var v = (new URLSearchParams(location.search).get("q") || "").trim();
      input.value = current = v;
      search(v, Math.max(1, parseInt(new URLSearchParams(location.search).get("p") || "1", 10) || 1));
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "/" && document.activeElement !== input) { e.preventDefault(); input.focus(); input.select(); return; }
      if (e.key === "ArrowDown") { e.preventDefault(); select(selected + 1); return; }
      if (e.key === "ArrowUp") { e.preventDefault(); select(selected - 1); return; }
      if (e.key === "Enter" && selected >= 0 && document.activeElement !== input) { e.preventDefault(); openSelected(); return; }
      if (e.key === "Escape") {
        input.value = ""; current = ""; clearTimeout(timer);
        history.replaceState(null, "", location.pathname);
        search("", 1); select(-1); input.focus();
      }
    });
    return search(q, page);
  };
})();
