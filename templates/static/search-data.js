/* The site's search data (publish/searchdata.py, format 5), fetched on demand and decoded:
 * dictionary shards, postings, the review tables, chapter texts, uuids, topics.
 * No DOM here: the transport that fetches one data file is handed in (a <script> tag in
 * the page, a file read in Node's unit tests), so the engine runs the same in both.
 * Data files are classic scripts calling RA.<letter>(...): short names, because every one
 * of the thousands of files repeats its call; they report to the store that asked.
 */
(function (RA) {
  "use strict";
  var active = null;  // the store the data files report to (one site per page)
  function to(prefix) { return function (key, value) { active.arrived(prefix + key, value); }; }
  RA.k = to("k/");  // a dictionary shard
  RA.x = to("x/");  // a long posting
  RA.s = to("s/");  // reference spellings
  RA.u = to("u/");  // uuids by first hex digit
  RA.o = to("o/");  // uuids by ordinal
  RA.l = function (z) { active.arrived("l", z); };  // word counts and tie-break places
  RA.r = function (z) { active.arrived("r", z); };  // received days
  RA.fm = function (z) { active.arrived("fm", z); };  // each review's topic number and month
  RA.tn = to("tn/");  // topics by number, with the topics `topic:"it"` finds too
  RA.t = function (o, c, z) { active.arrived(textKey(o, c), z); };  // one chapter's text

  function textKey(o, c) { return "t/" + Math.floor(o / 100) + "/" + o + "-" + c; }

  function bytesOf(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  // raw deflate bytes -> Promise<Uint8Array>
  function inflateBytes(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }
  // varints; values past 2^49 come back as BigInt (a summary's bit map may be that wide)
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
  // FNV-1a (32 bit) over UTF-16 code units: publish/searchdata.py shard_of
  function shardOf(term, shards) {
    var h = 0x811c9dc5;
    for (var i = 0; i < term.length; i++) { h ^= term.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return h % shards;
  }
  // a posting's bytes -> Map(ordinal -> value) (an f| key: [{n, sub, pos}] spellings)
  function decodePosting(field, bytes) {
    var vals = varints(bytes), o = -1, i;
    if (field === "f") {
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

  // bit maps (BigInt) of where a gram stands: bit 0 topic, bit 1 some title, bit 2+c chapter c
  var ALL = -1n;
  function bitsOf(m) { var out = [], c = 0; for (; m > 0n; m >>= 1n, c++) if (m & 1n) out.push(c); return out; }

  // meta: the search/meta.js payload; fetchScript(key) -> Promise, settled once the data
  // file `key` (e.g. "k/12") has run, rejected when it cannot be had
  RA.searchData = function (meta, fetchScript) {
    var cache = {}, pending = {}, inflated = {}, postings = {}, tables = null, days = null, texts = {};
    var facetTables = null;
    var L = RA.lang(meta.spec);
    var fetched = 0;  // bytes of the data files loaded so far (what a query's budget counts)
    var utf8 = new TextEncoder();

    // a data file's size, about as fetched: a z64/b64 payload is ASCII, a table its JSON
    function sizeOf(key, value) {
      var body = typeof value === "string" ? value.length : utf8.encode(JSON.stringify(value)).length;
      return body + key.length + 16;  // the call around it: RA.t(12,0,"…");
    }
    function arrived(key, value) { cache[key] = value; fetched += sizeOf(key, value); }
    function load(key) {
      if (key in cache) return Promise.resolve(cache[key]);
      if (!pending[key]) {
        pending[key] = fetchScript(key).then(function () {
          delete pending[key];
          return cache[key];
        }, function () {
          delete pending[key];
          throw new Error("无法加载搜索数据 " + key);
        });
      }
      return pending[key];
    }
    function loadAll(keys) {
      return Promise.all(Array.from(new Set(keys)).map(load));
    }
    function inflate(key, z) {  // raw deflate, base64 -> Promise<Uint8Array>, once per file
      return inflated[key] || (inflated[key] = inflateBytes(bytesOf(z)));
    }
    function loadInflated(key) {
      return load(key).then(function (z) { return inflate(key, z); });
    }
    function shardKey(key) { return "k/" + shardOf(key.slice(2), meta.dict); }
    function entryOf(key) { var s = cache[shardKey(key)]; return s ? s[key] : undefined; }

    // key -> Promise<Map(ordinal -> value)> (an f| key: Promise<[spelling, ...]>), null if
    // absent; the key's dictionary shard must have been loaded
    function posting(key) {
      if (postings[key]) return postings[key];
      var v = entryOf(key), p;
      if (Array.isArray(v) && key[0] === "c") v = v[1];  // c|<number>: [ref id, posting]
      if (v === undefined) p = Promise.resolve(null);
      else if (typeof v === "string") p = Promise.resolve(decodePosting(key[0], bytesOf(v)));
      else p = loadInflated("x/" + v).then(function (b) { return decodePosting(key[0], b); });
      return (postings[key] = p);
    }
    // {dl: [...], place: [...]}: per ordinal its word count and its place in the tie-break order
    function reviewTable() {
      if (tables) return Promise.resolve(tables);
      return loadInflated("l").then(function (b) {
        var n = meta.n, table = meta.spec.ranking.dl_table, dl = [], place = [];
        for (var o = 0; o < n; o++) dl.push(table[b[o]]);
        varints(b.subarray(n)).forEach(function (z, o) { place.push(n - 1 - o + (z % 2 ? -(z + 1) / 2 : z / 2)); });
        return (tables = { dl: dl, place: place });
      });
    }
    function dayTable() {  // per ordinal its received day (days since 1970)
      if (days) return Promise.resolve(days);
      return loadInflated("r").then(function (b) { return (days = varints(b)); });
    }
    // {topic: [...], month: [...]}: per ordinal the number of its topic, its month received
    // (12 * (year - 1970) + month - 1)
    function facetTable() {
      if (facetTables) return Promise.resolve(facetTables);
      return loadInflated("fm").then(function (b) {
        var v = varints(b), n = meta.n;
        return (facetTables = { topic: v.slice(0, n), month: v.slice(n, 2 * n) });
      });
    }
    // topic numbers -> Promise<Map(number -> [topic, [numbers of the topics it is in]])>
    function topicNames(numbers) {
      var block = function (k) { return "tn/" + Math.floor(k / meta.topicBlock); };
      return loadAll(numbers.map(block)).then(function () {
        var out = new Map();
        numbers.forEach(function (k) { out.set(k, cache[block(k)][k % meta.topicBlock]); });
        return out;
      });
    }
    // chapter c of review o -> Promise<{info, units}>; info: [uuid, received, title, topic,
    // chapters]; a unit: [id, key, number title, title, body, citation markers]
    function chapter(o, c) {
      var key = textKey(o, c);
      return texts[key] || (texts[key] = loadInflated(key).then(function (b) {
        var data = JSON.parse(new TextDecoder().decode(b));
        return { info: data[0], units: data[1] };
      }));
    }
    // the units of review o in the chapters of bit map w
    function unitsIn(o, w) {
      return Promise.all(bitsOf(w >> 2n).map(function (c) { return chapter(o, c); })).then(function (chs) {
        return [].concat.apply([], chs.map(function (ch) { return ch.units; }));
      });
    }
    // a unit's folded title and body, folded once
    function foldedTitle(u) { return u.ft === undefined ? (u.ft = L.fold(u[3])) : u.ft; }
    function foldedBody(u) { return u.fb === undefined ? (u.fb = L.fold(u[4])) : u.fb; }
    // ordinals -> Promise<[uuid, ...]>
    function uuidsOf(ordinals) {
      var block = function (o) { return "o/" + Math.floor(o / meta.uuidBlock); };
      return loadAll(ordinals.map(block)).then(function () {
        return ordinals.map(function (o) { return cache[block(o)][o % meta.uuidBlock]; });
      });
    }

    var store = {
      meta: meta, L: L, arrived: arrived, load: load, fetched: function () { return fetched; }, loadAll: loadAll, cached: function (k) { return cache[k]; },
      shardKey: shardKey, entryOf: entryOf, posting: posting, reviewTable: reviewTable, dayTable: dayTable,
      facetTable: facetTable, topicNames: topicNames,
      chapter: chapter, unitsIn: unitsIn, foldedTitle: foldedTitle, foldedBody: foldedBody, uuidsOf: uuidsOf
    };
    active = store;
    return store;
  };
  RA.searchData.shardOf = shardOf;
  RA.searchData.varints = varints;
  RA.searchData.ALL = ALL;
  RA.searchData.bitsOf = bitsOf;
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
