/* In-browser search over the static site's partitioned index (publish/searchdata.py).
 * No dependencies, no server code: data files are classic scripts that call RA.*,
 * loaded by injecting <script> tags, so it works over http and from file:// alike.
 * Semantics mirror `reviews search` (docs/DESIGN.md "Search semantics", index/analysis.py).
 * Partitions are searched newest first: the first page shows as soon as it is final,
 * then the search goes on in the background until the total is exact.
 */
(function () {
  "use strict";
  var RA = (window.RA = window.RA || {});
  var PAGE = 10, BEST = 3, SNIP = 48, PARALLEL = 4;
  var BOOST = { t: 2, h: 3, b: 1, f: 1, p: 1, c: 1, u: 1 };
  var base = "search/", reviewBase = "reviews/";
  var cache = {}, waiting = {};

  // ---- loading ---------------------------------------------------------------
  function arrived(key, value) {
    cache[key] = value;
    var w = waiting[key];
    if (w) { delete waiting[key]; w.forEach(function (f) { f[0](value); }); }
  }
  RA.meta = function (m) { arrived("meta", m); };
  RA.s = function (p, k, m) { arrived("p/" + p + "/" + k, m); };
  RA.r = function (p, rows) { arrived("p/" + p + "/r", rows); };
  RA.g = function (g, k, m) { arrived("g/" + g + "/" + k, m); };
  RA.f = function (k, m) { arrived("f/" + k, m); };
  RA.u = function (x, rows) { arrived("u/" + x, rows); };
  RA.d = function (p, i, c, info, docs) { arrived("d/" + p + "/" + i + "-" + c, { info: info, docs: docs }); };
  RA.loaded = function () { return Object.keys(cache); };

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
    return Promise.all(keys.map(function (k) { return load(k, missingOk); }));
  }


  // ---- analysis (mirrors index/analysis.py) ------------------------------------
  var CJK = /[\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u{20000}-\u{3134f}]/u;
  var WORDCH = /[\p{L}\p{N}\p{M}]/u, MARK = /\p{M}/u;
  function isCjk(c) { return CJK.test(c); }
  function isWord(c) { return WORDCH.test(c) && !CJK.test(c); }
  function fold(text) {
    var cps = Array.from(text), out = "", i = 0;
    while (i < cps.length) {
      var j = i + 1;
      while (j < cps.length && MARK.test(cps[j])) j++;
      out += cps.slice(i, j).join("").normalize("NFKC").toLowerCase()
        .replace(/\u00df|\u1e9e/g, "ss").replace(/\u03c2/g, "\u03c3");
      i = j;
    }
    return out;
  }
  RA.fold = fold;
  // primary tokens of a folded string; start/end index code points of `chars`
  function primary(chars) {
    var out = [], i = 0, n = chars.length;
    while (i < n) {
      var c = chars[i];
      if (isCjk(c)) { out.push({ k: "c", t: c, s: i, e: i + 1 }); i++; }
      else if (isWord(c)) {
        var j = i;
        for (;;) {
          while (j < n && isWord(chars[j])) j++;
          if (j + 1 < n && "-._/".indexOf(chars[j]) >= 0 && isWord(chars[j + 1])) { j++; continue; }
          break;
        }
        out.push({ k: "w", t: chars.slice(i, j).join(""), s: i, e: j });
        i = j;
      } else i++;
    }
    return out;
  }
  function adjacentCjk(prim, i) {
    return prim[i].k === "c" && i + 1 < prim.length && prim[i + 1].k === "c" && prim[i + 1].s === prim[i].e;
  }
  // -> {terms, prefix}: terms at consecutive positions; with prefix the last is one CJK
  // character matching any term that starts with it (index/analysis.py query_terms)
  function queryTerms(text) {
    var prim = primary(Array.from(fold(text))), out = [], n = prim.length;
    for (var i = 0; i < n; i++) {
      if (adjacentCjk(prim, i)) out.push(prim[i].t + prim[i + 1].t);
      else if (i + 1 === n && i > 0 && adjacentCjk(prim, i - 1)) { /* inside the last bigram */ }
      else out.push(prim[i].t);
    }
    var prefix = n > 0 && prim[n - 1].k === "c" && !(n > 1 && adjacentCjk(prim, n - 2));
    return { terms: out, prefix: prefix };
  }
  RA.queryTerms = queryTerms;

  // ---- query parsing (mirrors index/query.py; since:/until: are the web's date filter) ----
  var FIELDS = { topic: 1, section: 1, ref: 1, uuid: 1, since: 1, until: 1 };
  var QUOTES = { '"': '"', "\u201c": "\u201d", "\u201d": "\u201d" };
  function QueryError(msg) { this.message = msg; }
  function isSpace(c) { return /\s/.test(c); }
  function lex(text) {
    var out = [], i = 0, n = text.length;
    while (i < n) {
      if (isSpace(text[i])) { i++; continue; }
      var start = i, negated = false, fname = null;
      if (text[i] === "-" && i + 1 < n && !isSpace(text[i + 1])) { negated = true; i++; }
      else if (text[i] === "-") throw new QueryError("“-”后面没有内容（写 -词 以排除）");
      var m = /^([A-Za-z]+):/.exec(text.slice(i));
      if (m) {
        fname = m[1].toLowerCase();
        if (!FIELDS[fname]) throw new QueryError("未知字段 “" + m[0] + "”（可用 topic: section: ref: uuid: since: until:；加引号可按字面搜索）");
        i += m[0].length;
        if (i >= n || isSpace(text[i])) throw new QueryError("字段 “" + m[0] + "” 没有值");
      }
      if (QUOTES[text[i]]) {
        var close = QUOTES[text[i]], end = text.indexOf(close, i + 1);
        if (close === "\u201d") { var alt = text.indexOf('"', i + 1); if (end < 0 || (alt >= 0 && alt < end)) end = alt; }
        if (end < 0) throw new QueryError("引号没有闭合：" + text.slice(start, start + 30));
        var value = text.slice(i + 1, end).trim();
        if (!value) throw new QueryError("空引号");
        out.push({ field: fname, value: value, quoted: true, neg: negated });
        i = end + 1;
        continue;
      }
      var j = i;
      while (j < n && !isSpace(text[j]) && !QUOTES[text[j]]) j++;
      var word = text.slice(i, j);
      if (!negated && fname === null && (word === "OR" || word === "NOT" || word === "AND")) out.push(word);
      else out.push({ field: fname, value: word, quoted: false, neg: negated });
      i = j;
    }
    return out;
  }
  // -> {clauses: [[atom, atom (OR)], ...], since, until}
  function parse(q) {
    var text = (q || "").normalize("NFKC").trim(), out = { clauses: [], since: null, until: null };
    if (!text) throw new QueryError("请输入关键词");
    var pendOr = false, pendNot = false;
    lex(text).forEach(function (t) {
      if (t === "AND") { if (pendOr || pendNot) throw new QueryError("AND 不能紧跟 OR/NOT"); return; }
      if (t === "OR") {
        if (!out.clauses.length || pendOr || pendNot) throw new QueryError("OR 前面没有内容");
        if (out.clauses[out.clauses.length - 1][0].neg) throw new QueryError("排除项不能放在 OR 里");
        pendOr = true; return;
      }
      if (t === "NOT") {
        if (pendNot) throw new QueryError("NOT NOT");
        if (pendOr) throw new QueryError("排除项不能放在 OR 里");
        pendNot = true; return;
      }
      if (t.field === "since" || t.field === "until") {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(t.value)) throw new QueryError(t.field + ":" + t.value + " 应为日期 YYYY-MM-DD");
        out[t.field] = t.value; return;
      }
      t.neg = t.neg || pendNot;
      if (t.field === "uuid" && !/^[0-9a-f]{1,32}$/.test(t.value.toLowerCase().replace(/-/g, "")))
        throw new QueryError("uuid:" + t.value + " 应为综述编号的十六进制前缀");
      if (t.field !== "uuid" && !isPathOrId(t) && !queryTerms(t.value).terms.length)
        throw new QueryError("“" + t.value + "” 没有可搜索的字符");
      if (pendOr) {
        if (t.neg) throw new QueryError("排除项不能放在 OR 里");
        out.clauses[out.clauses.length - 1].push(t);
      } else out.clauses.push([t]);
      pendOr = pendNot = false;
    });
    if (pendOr) throw new QueryError("OR 后面没有内容");
    if (pendNot) throw new QueryError("NOT 后面没有内容");
    if (!out.clauses.some(function (c) { return !c[0].neg; })) throw new QueryError("至少需要一个不被排除的关键词");
    return out;
  }
  RA.parse = parse;
  var NUMBER = /^(\d+(\.\d+)*|abstract|references)$/, REFID = /^r[0-9a-f]{10}$/;
  var SECTION_NAMES = { "摘要": "abstract", "参考文献": "references" };  // as index/query.py
  function sectionValue(v) { v = v.trim().toLowerCase(); return SECTION_NAMES[v] || v; }
  function isPathOrId(a) {
    var v = a.field === "section" ? sectionValue(a.value) : a.value.trim().toLowerCase();
    return (a.field === "section" && NUMBER.test(v)) || (a.field === "ref" && REFID.test(v));
  }

  // ---- postings --------------------------------------------------------------------
  function b36(s) { return parseInt(s, 36); }
  function shardOf(term, shards) {
    var h = 0x811c9dc5;
    for (var i = 0; i < term.length; i++) { h ^= term.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h % shards;
  }
  RA.shardOf = shardOf;
  // a key is "<field>|<term>"; every field of a term shares the term's shard
  function termOf(key) { return key.slice(key.indexOf("|") + 1); }
  function partFile(p, key) { return "p/" + p + "/" + shardOf(termOf(key), cache.meta.parts[p][0]); }
  function groupFile(g, key) { return "g/" + g + "/" + shardOf(termOf(key), cache.meta.groups[g]); }
  function titleFile(key) { return "f/" + shardOf(termOf(key), cache.meta.titles); }
  function groupOf(p) { return Math.floor(p / cache.meta.group); }

  // a group's entry for a key: {mask: partitions whose posting is in their p/ shard,
  // inline: Map(partition in group -> posting)}, or null if no partition of it holds the key
  var entries = {};
  function groupEntry(g, key) {
    var id = g + "|" + key;
    if (id in entries) return entries[id];
    var raw = (cache[groupFile(g, key)] || {})[key], e = null;
    if (raw) {
      var parts = raw.split("!");
      e = { mask: b36(parts[0]), inline: new Map() };
      for (var i = 1; i < parts.length; i++) {
        var c = parts[i].indexOf(">");
        e.inline.set(b36(parts[i].slice(0, c)), parts[i].slice(c + 1));
      }
    }
    return (entries[id] = e);
  }
  function bit(mask, i) { return Math.floor(mask / Math.pow(2, i)) % 2 === 1; }
  function inShard(p, key) {  // is the posting of key in partition p's p/ shard?
    var g = groupOf(p), e = groupEntry(g, key);
    return !!e && bit(e.mask, p - g * cache.meta.group);
  }
  function present(p, key) {  // does partition p hold key at all?
    var g = groupOf(p), e = groupEntry(g, key);
    return !!e && (e.inline.has(p - g * cache.meta.group) || bit(e.mask, p - g * cache.meta.group));
  }

  var parsed = {}, nd = new Map();  // nd: "p/r" -> documents of the review (from "*n")
  function posting(p, key) {  // -> Map(review -> Map(docKey -> positions[])) in partition p
    var id = p + "|" + key;
    if (id in parsed) return parsed[id];
    var g = groupOf(p), e = groupEntry(g, key), raw = e && e.inline.get(p - g * cache.meta.group);
    if (!raw) { var shard = cache[partFile(p, key)]; raw = shard && shard[key]; }
    var m = new Map();
    if (raw) {
      var r = 0;
      raw.split(";").forEach(function (entry) {
        var c = entry.indexOf(":"), docs = new Map();
        r += b36(entry.slice(0, c));
        entry.slice(c + 1).split(",").forEach(function (d) {
          var parts = d.split("."), pos = [], q = 0;
          for (var i = 1; i < parts.length; i++) { q += b36(parts[i]); pos.push(q); }
          if (parts[0][0] === "*") { docs.set("*", pos); nd.set(p + "/" + r, b36(parts[0].slice(1))); }
          else docs.set(b36(parts[0]), pos);
        });
        m.set(r, docs);
      });
    }
    return (parsed[id] = m);
  }

  // A DocSet is Map(review -> Map(docKey -> score)); docKey "*" = every document.
  // the key of term i: a trailing lone CJK character matches any term starting with it
  function slot(qt, i) { return qt.prefix && i === qt.terms.length - 1 ? qt.terms[i] + "*" : qt.terms[i]; }
  function slots(qt) { return qt.terms.map(function (_, i) { return slot(qt, i); }); }
  function phrase(p, field, qt) {
    var res = new Map(), terms = qt.terms;
    if (!terms.length) return res;
    var lists = terms.map(function (t, i) { return posting(p, field + "|" + slot(qt, i)); });
    lists[0].forEach(function (docs0, r) {
      var rest = lists.map(function (l) { return l.get(r); });
      if (rest.some(function (x) { return !x; })) return;
      docs0.forEach(function (pos0, d) {
        var others = rest.map(function (x) { return x.get(d); });
        if (others.some(function (x) { return !x; })) return;
        var sets = others.map(function (x) { return new Set(x); }), hits = 0;
        pos0.forEach(function (q) {
          for (var i = 1; i < terms.length; i++) if (!sets[i].has(q + i)) return;
          hits++;
        });
        if (field === "p" || field === "c") hits = 1;
        if (hits) {
          if (!res.has(r)) res.set(r, new Map());
          res.get(r).set(d, hits * BOOST[field]);
        }
      });
    });
    return res;
  }
  // ref:words -> the reference ids whose title (any spelling) holds the phrase
  function refIds(qt) {
    var ids = new Set(), keys = slots(qt).map(function (t) { return "f|" + t; });
    var lists = keys.map(function (key) {
      var raw = (cache[titleFile(key)] || {})[key], m = new Map();
      if (raw) raw.split(";").forEach(function (e) {
        var parts = e.split("."), pos = [], q = 0;
        for (var i = 1; i < parts.length; i++) { q += b36(parts[i]); pos.push(q); }
        m.set(parts[0], pos);
      });
      return m;
    });
    lists[0].forEach(function (pos0, sp) {
      var sets = lists.map(function (l) { return l.has(sp) ? new Set(l.get(sp)) : null; });
      if (sets.some(function (x) { return !x; })) return;
      if (pos0.some(function (q) { return sets.every(function (s, i) { return s.has(q + i); }); }))
        ids.add(sp.split("~")[0]);
    });
    return Array.from(ids).sort();
  }
  function union(a, b) {
    var out = new Map(a);
    b.forEach(function (docs, r) {
      var cur = out.get(r);
      if (!cur) { out.set(r, docs); return; }
      var m = new Map(cur);
      docs.forEach(function (s, d) { m.set(d, (m.get(d) || 0) + s); });
      out.set(r, m);
    });
    return out;
  }

  // what a leaf looks up: [[field, queryTerms], ...] (ref:words after its ids are known)
  function leafKeys(leaf) {
    var v = leaf.value, f = leaf.field, low = f === "section" ? sectionValue(v) : v.trim().toLowerCase();
    if (f === "uuid") return [];
    if (f === "section" && NUMBER.test(low)) return [["p", { terms: [low] }]];
    if (f === "ref" && REFID.test(low)) return [["c", { terms: [low] }]];
    if (f === "ref") return (leaf.ids || []).map(function (id) { return ["c", { terms: [id] }]; });
    var terms = queryTerms(v), fields = f === "topic" ? ["t"] : f === "section" ? ["h"] : ["t", "h", "b"];
    return fields.map(function (fl) { return [fl, terms]; });
  }
  function isRefWords(leaf) { return leaf.field === "ref" && !REFID.test(leaf.value.trim().toLowerCase()); }
  function uuidFiles(prefix) {
    var p = prefix.toLowerCase().replace(/-/g, "");
    if (!/^[0-9a-f]+$/.test(p)) return [];
    if (p.length >= 2) return ["u/" + p.slice(0, 2)];
    return "0123456789abcdef".split("").map(function (c) { return "u/" + p + c; });
  }
  function uuidHits(leaf) {  // -> Map(partition -> [index...])
    var p = leaf.value.toLowerCase().replace(/-/g, ""), res = new Map();
    uuidFiles(p).forEach(function (k) {
      (cache[k] || []).forEach(function (row) {  // [uuid, partition, index, documents]
        if (row[0].indexOf(p) !== 0) return;
        if (!res.has(row[1])) res.set(row[1], []);
        res.get(row[1]).push(row[2]);
        nd.set(row[1] + "/" + row[2], row[3]);
      });
    });
    return res;
  }
  function leafSet(p, leaf) {
    if (leaf.field === "uuid") {
      var res = new Map();
      (leaf.hits.get(p) || []).forEach(function (r) { res.set(r, new Map([["*", 1]])); });
      return res;
    }
    return leafKeys(leaf).reduce(function (acc, fk) { return union(acc, phrase(p, fk[0], fk[1])); }, new Map());
  }
  function leafTerms(leaf) {  // every key a leaf may look up
    return [].concat.apply([], leafKeys(leaf).map(function (fk) {
      return slots(fk[1]).map(function (t) { return fk[0] + "|" + t; });
    }));
  }
  // may partition p hold a match of the leaf? (its group's entries)
  function leafPossible(p, leaf) {
    if (leaf.field === "uuid") return leaf.hits.has(p);
    return leafKeys(leaf).some(function (fk) {
      return slots(fk[1]).every(function (t) { return present(p, fk[0] + "|" + t); });
    });
  }
  // does a date filter cut into partition p (so its review dates, r.js, are needed)?
  function needsDates(p, ast) {
    var info = cache.meta.parts[p];
    return !!((ast.since && info[2] < ast.since) || (ast.until && info[3] > ast.until));
  }

  // the matches in one partition: [{p, r, docs: [[docKey, score]...]}], newest first.
  // A review matches when every positive clause occurs somewhere in it (docKey "*": the
  // review's topic, or a uuid: match, which name no section); section: clauses scope the
  // unprefixed ones to their sections; a negative clause drops a review holding it
  // anywhere. The docs listed are the sections holding a positive item (index/search.py).
  function searchPart(p, ast, leaves) {
    var rows = needsDates(p, ast) ? cache["p/" + p + "/r"] : null;
    var pos = [], scopes = [], neg = [];
    ast.clauses.forEach(function (c) {
      var ps = c.filter(function (l) { return !l.neg; }), ns = c.filter(function (l) { return l.neg; });
      if (ps.length) {
        var set = ps.reduce(function (a, l) { return union(a, leafSet(p, l)); }, new Map());
        if (ps.every(function (l) { return l.field === "section"; })) scopes.push(set);
        else pos.push({ set: set, text: ps.some(function (l) { return l.field === null; }) });
      }
      ns.forEach(function (l) { neg.push(leafSet(p, l)); });
    });
    var all = pos.map(function (x) { return x.set; }).concat(scopes).sort(function (a, b) { return a.size - b.size; });
    var out = [];
    all[0].forEach(function (_, r) {
      if (!all.every(function (m) { return m.has(r); })) return;
      if (neg.some(function (m) { return m.has(r); })) return;
      var day = rows ? rows[r][1] : null;
      if (day && ((ast.since && day < ast.since) || (ast.until && day > ast.until))) return;
      var scope = null;
      scopes.forEach(function (m) {
        var ds = new Set(Array.from(m.get(r).keys()).filter(function (d) { return d !== "*"; }));
        scope = scope ? new Set(Array.from(scope).filter(function (d) { return ds.has(d); })) : ds;
      });
      var docs = new Map(), ok = true;
      pos.forEach(function (x) {
        var inScope = 0;
        x.set.get(r).forEach(function (s, d) {
          if (d === "*") return;
          if (scope && x.text && !scope.has(d)) return;
          inScope++;
          docs.set(d, (docs.get(d) || 0) + s);
        });
        if (scope && x.text && !inScope) ok = false;
      });
      if (!ok) return;
      if (scope && !pos.some(function (x) { return x.text; })) scope.forEach(function (d) { if (!docs.has(d)) docs.set(d, 0); });
      var list = Array.from(docs.entries()).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
      out.push({ p: p, r: r, docs: list });
    });
    return out.sort(function (a, b) { return b.r - a.r; });
  }

  // Run a query; onProgress(result) after each partition; resolves to the complete
  // result {reviews: [{p, r, docs}], ast, complete: true} or {reviews: [], error}.
  // Partitions are fetched one at a time until `need` reviews are found (the first page
  // comes cheaper), then PARALLEL ahead.
  RA.run = function (q, onProgress, need) {
    need = need || PAGE;
    var ast;
    try { ast = parse(q); } catch (e) {
      if (e instanceof QueryError) return Promise.resolve({ reviews: [], error: e.message, complete: true });
      throw e;
    }
    var res = { reviews: [], ast: ast, complete: false };
    var leaves = [].concat.apply([], ast.clauses), positives = ast.clauses.map(function (c) {
      return c.filter(function (l) { return !l.neg; });
    }).filter(function (c) { return c.length; });
    return load("meta").then(function (meta) {
      var first = [];  // uuid prefix files; reference-title shards
      leaves.forEach(function (l) {
        if (l.field === "uuid") first = first.concat(uuidFiles(l.value));
        if (isRefWords(l)) slots(queryTerms(l.value)).forEach(function (t) { first.push(titleFile("f|" + t)); });
      });
      return loadAll(first, true).then(function () {
        leaves.forEach(function (l) {
          if (l.field === "uuid") l.hits = uuidHits(l);
          if (isRefWords(l)) l.ids = refIds(queryTerms(l.value));
        });
        var terms = {};
        leaves.forEach(function (l) { leafTerms(l).forEach(function (t) { terms[t] = 1; }); });
        terms = Object.keys(terms);
        var groups = [];
        for (var g = meta.groups.length - 1; g >= 0; g--) groups.push(g);
        return groups.reduce(function (chain, g) {
          return chain.then(function () { return searchGroup(g); });
        }, Promise.resolve());

        function searchGroup(g) {
          return loadAll(terms.map(function (t) { return groupFile(g, t); })).then(function () {
            var parts = [];
            for (var p = Math.min(meta.parts.length, (g + 1) * meta.group) - 1; p >= g * meta.group; p--) {
              var info = meta.parts[p];
              if (ast.since && info[3] < ast.since) continue;
              if (ast.until && info[2] > ast.until) continue;
              if (positives.every(function (c) { return c.some(function (l) { return leafPossible(p, l); }); })) parts.push(p);
            }
            // fetch up to PARALLEL partitions ahead, take their results in order
            var fetches = [], fetch = function (i) {
              if (i >= parts.length || fetches[i]) return;
              var p = parts[i], keys = needsDates(p, ast) ? ["p/" + p + "/r"] : [];
              terms.forEach(function (t) { if (inShard(p, t)) keys.push(partFile(p, t)); });
              fetches[i] = loadAll(Array.from(new Set(keys)));
            };
            return parts.reduce(function (chain, p, i) {
              return chain.then(function () {
                var ahead = res.reviews.length < need ? 1 : PARALLEL;
                for (var k = i; k < i + ahead; k++) fetch(k);
                return fetches[i];
              }).then(function () {
                res.reviews = res.reviews.concat(searchPart(p, ast, leaves));
                if (onProgress) return onProgress(res);  // may hold the search up (a promise)
              });
            }, Promise.resolve());
          });
        }
      }).then(function () { res.complete = true; return res; });
    });
  };
  // the review ids of a result, in order (a promise: loads the rows of its partitions)
  RA.uuids = function (res) {
    var keys = Array.from(new Set(res.reviews.map(function (x) { return "p/" + x.p + "/r"; })));
    return loadAll(keys).then(function () {
      return res.reviews.map(function (x) { return cache["p/" + x.p + "/r"][x.r][0]; });
    });
  };

  // ---- rendering -------------------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function anchor(section) {
    return section === "abstract" || section === "references" ? section : "s-" + section;
  }
  // `text` folded piece by piece (a character with its combining marks): the folded code
  // points, and for each the index of the piece it comes from
  function foldMapped(text) {
    var cps = Array.from(text), pieces = [], chars = [], owner = [], i = 0;
    while (i < cps.length) {
      var j = i + 1;
      while (j < cps.length && MARK.test(cps[j])) j++;
      var piece = j === i + 1 ? cps[i] : cps.slice(i, j).join(""), c = piece.charCodeAt(0);
      var folded = j === i + 1 && (c < 0x80 || (c >= 0x4e00 && c <= 0x9fff)) ? piece.toLowerCase() : fold(piece);
      pieces.push(piece);
      for (var k = 0; k < folded.length; k++) {
        var cp = folded.codePointAt(k);
        if (cp > 0xffff) k++;
        chars.push(String.fromCodePoint(cp)); owner.push(pieces.length - 1);
      }
      i = j;
    }
    return { pieces: pieces, chars: chars, owner: owner };
  }
  // highlighted snippet of `text` (as written) around the first match of any phrase;
  // matching is on the folded text, as in the index
  function snippet(text, phrases, strict) {
    var fm = foldMapped(text), chars = fm.chars, prim = primary(chars), best = null, toks = [];
    prim.forEach(function (t, i) {  // the index terms at each position
      var terms = [adjacentCjk(prim, i) ? t.t + prim[i + 1].t : t.t];
      if (t.k === "w") t.t.split(/[-._\/]/).forEach(function (p) { if (p) terms.push(p); });
      toks.push(terms);
    });
    for (var i = 0; i < prim.length && !best; i++) {
      phrases.forEach(function (qt) {
        var ph = qt.terms, L = ph.length;
        if (best || !L || i + L > prim.length) return;
        for (var k = 0; k < L; k++) {
          var ok = qt.prefix && k === L - 1
            ? toks[i + k].some(function (x) { return x.indexOf(ph[k]) === 0; })
            : toks[i + k].indexOf(ph[k]) >= 0;
          if (!ok) return;
        }
        var last = prim[i + L - 1], tail = Array.from(ph[L - 1]).length > 1 && last.k === "c";
        var end = Math.min(tail ? last.e + 1 : last.e, chars.length);
        best = [fm.owner[prim[i].s], fm.owner[end - 1] + 1];  // in pieces of the original
      });
    }
    var frag = document.createDocumentFragment(), pieces = fm.pieces;
    if (!best && strict) return null;
    if (!best) { frag.appendChild(document.createTextNode(pieces.slice(0, SNIP * 2).join("") + (pieces.length > SNIP * 2 ? "…" : ""))); return frag; }
    var a = Math.max(0, best[0] - SNIP), b = Math.min(pieces.length, best[1] + SNIP);
    frag.appendChild(document.createTextNode((a > 0 ? "…" : "") + pieces.slice(a, best[0]).join("")));
    frag.appendChild(el("mark", null, pieces.slice(best[0], best[1]).join("")));
    frag.appendChild(document.createTextNode(pieces.slice(best[1], b).join("") + (b < pieces.length ? "…" : "")));
    return frag;
  }
  RA.snippetText = function (text, q) {  // for tests: [before, marked, after] of a snippet
    var frag = snippet(text, phrasesOf(parse(q)), true);
    if (!frag) return null;
    var n = frag.childNodes;
    return [n[0].textContent, n[1].textContent, n[2].textContent];
  };


  // the documents shown for a review: its best, and other matches in the same text file
  function shownDocs(x) {
    var k = cache.meta.chunk, c = x.docs.length ? Math.floor(x.docs[0][0] / k) : 0;
    return { file: "d/" + x.p + "/" + x.r + "-" + c,
             docs: x.docs.filter(function (d) { return Math.floor(d[0] / k) === c; }).slice(0, BEST) };
  }
  function phrasesOf(ast) {
    var out = [];
    ast.clauses.forEach(function (c) { c.forEach(function (l) {
      if (!l.neg && l.field !== "uuid" && !isPathOrId(l)) out.push(queryTerms(l.value));
    }); });
    return out;
  }
  function status(q, res, page) {
    var n = res.reviews.length, sections = res.reviews.reduce(function (a, x) { return a + x.docs.length; }, 0);
    var pages = Math.max(1, Math.ceil(n / PAGE));
    if (!res.complete) return "已找到 " + n + " 篇综述，继续搜索…";
    if (!n) return "没有找到与“" + q + "”匹配的综述。";
    return "找到 " + n + " 篇综述（" + sections + " 个匹配章节）" + (pages > 1 ? "，第 " + Math.min(page, pages) + " / " + pages + " 页" : "");
  }
  function renderItem(x, plan, chunk, phrases) {
    var li = el("li", "result");
    if (!chunk) { li.appendChild(el("p", "meta", "无法加载这篇综述的摘要数据")); return li; }
    var head = chunk.info, uuid = head[0];  // [uuid, received, title, topic]
    li.dataset.uuid = uuid;
    var h = el("h2", "result-title"), a = el("a", null, head[2]);
    a.href = reviewBase + uuid + ".html";
    h.appendChild(a); li.appendChild(h);
    li.appendChild(el("p", "meta", head[1].slice(0, 10) + " · " + head[3] + " · " + x.docs.length + " 个匹配章节"));
    var ul = el("ul", "hits"), byIndex = new Map(chunk.docs.map(function (d) { return [d[0], d]; }));
    plan.docs.forEach(function (d) {
      var doc = byIndex.get(d[0]);
      if (!doc) return;
      // the match in the body; else in the section's own title, marked in the link (and the
      // body's beginning below it); else in the review's title (the abstract)
      var hi = el("li", "hit"), link = el("a", "hit-link", doc[1] === "abstract" || doc[1] === "references" ? "" : doc[1] + " ");
      var body = snippet(doc[4], phrases, true), heading = !body && doc[2] === doc[3] ? snippet(doc[2], phrases, true) : null;
      link.appendChild(heading || document.createTextNode(doc[2]));
      link.href = reviewBase + uuid + ".html#" + anchor(doc[1]);
      hi.appendChild(link);
      var text = body || (heading ? (doc[4] ? snippet(doc[4], phrases) : null)
                                  : snippet(doc[3], phrases, true) || snippet(doc[4] || doc[3], phrases));
      if (text) { var p = el("p", "snippet"); p.appendChild(text); hi.appendChild(p); }
      ul.appendChild(hi);
    });
    li.appendChild(ul);
    return li;
  }
  function pageOf(res, page) { return res.reviews.slice((page - 1) * PAGE, page * PAGE); }
  // start loading the texts of the page's results found so far (before the page is full)
  function prefetch(res, page) {
    pageOf(res, page).forEach(function (x) { load(shownDocs(x).file, true); });
  }
  // the results of one page (final once rendered), each shown, in order, once its text is in
  function renderList(q, res, page) {
    var list = document.getElementById("results");
    list.textContent = "";
    var shown = pageOf(res, page), phrases = phrasesOf(res.ast), plans = shown.map(shownDocs);
    var next = 0, ready = plans.map(function () { return false; });
    var flush = function () {
      for (; next < shown.length && ready[next]; next++) {
        list.appendChild(renderItem(shown[next], plans[next], cache[plans[next].file], phrases));
        if (!RA.t.first) { RA.t.first = performance.now(); document.body.dataset.searchFirst = "1"; }
      }
    };
    return Promise.all(plans.map(function (pl, k) {
      return load(pl.file, true).then(function () { ready[k] = true; flush(); });
    })).then(function () { RA.t.page = performance.now(); });
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

  RA.start = function (opts) {
    base = opts.base.replace(/\/?$/, "/");
    reviewBase = opts.reviewBase.replace(/\/?$/, "/");
    var params = new URLSearchParams(location.search), q = (params.get("q") || "").trim();
    var input = document.getElementById("q"), st = document.getElementById("status");
    var page = Math.max(1, parseInt(params.get("p") || "1", 10) || 1);
    input.value = q;
    document.addEventListener("keydown", function (e) {
      if (e.key === "/" && document.activeElement !== input) { e.preventDefault(); input.focus(); input.select(); }
    });
    if (!q) { st.textContent = "输入关键词后按回车搜索。"; return; }
    document.title = q + " · 搜索 · 综述档案";
    st.textContent = "搜索中…";
    RA.done = false;
    var listed = null;  // the promise of the rendered list, once started
    // performance.now() of the start, the first result shown, the whole first page shown and
    // the complete count (bench/site.py)
    RA.t = { start: performance.now() };
    var finish = function () { RA.t.complete = performance.now(); RA.done = true; document.body.dataset.searchDone = "1"; document.body.dataset.complete = "1"; };
    RA.run(q, function (res) {
      st.textContent = status(q, res, page);
      if (!listed && res.reviews.length >= page * PAGE) return (listed = renderList(q, res, page));
      if (!listed) prefetch(res, page);
    }, page * PAGE).then(function (res) {
      RA.last = res;
      if (res.error) { st.textContent = "查询有误：" + res.error; return; }
      if (!listed) {
        page = Math.min(page, Math.max(1, Math.ceil(res.reviews.length / PAGE)));
        listed = res.reviews.length ? renderList(q, res, page) : Promise.resolve();
      }
      return listed.then(function () { st.textContent = status(q, res, page); renderPager(q, res, page); });
    }).then(finish, function (err) { st.textContent = "搜索失败：" + err.message; finish(); });
  };
})();
