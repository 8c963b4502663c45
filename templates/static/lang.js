/* The search language in the browser: normalisation, primary tokens, literals, the
 * query parser and the query's words, built from the one definition the command line
 * reads too (index/spec.json, handed over as `spec`). Each function ports one Python
 * function, named beside it; tests/conformance/ runs the same tables on both sides.
 * Offsets are in UTF-16 code units of the folded string (Python counts code points;
 * neither side ever shows an offset to the other).
 * A classic script (the site works from file://, where modules do not load) that Node can
 * require too, for the unit tests in tests/js/.
 */
(function () {
  "use strict";
  var RA = (globalThis.RA = globalThis.RA || {});

  RA.lang = function (spec) {
    var A = spec.analysis, Q = spec.query, R = spec.ranking;
    var CJK_CLASS = "[" + A.cjk + "]", MARKS_CLASS = "[" + A.marks + "]";
    var MARK = new RegExp("^" + MARKS_CLASS + "$", "u");
    // index/analysis.py WORD_CHAR: a letter or number that is not CJK, or a mark
    var WC = "(?:(?!" + CJK_CLASS + ")[\\p{L}\\p{N}]|" + MARKS_CLASS + ")";
    var PRIMARY = new RegExp("(" + CJK_CLASS + ")|(" + WC + "+(?:[-._/]" + WC + "+)*)", "gu");
    var SEP = "\u001e";
    // index/literal.py _GAP: neither a word character nor CJK (\w), nor a unit's end
    var GAP = "(?:[^\\p{L}\\p{N}" + A.marks + SEP + "_]|_)";
    var SPACE = new RegExp("[" + A.space + "]", "u");
    var EXC = A.fold_exceptions, CONNECTORS = A.connectors;

    function isSpace(ch) { return SPACE.test(ch); }
    function lowerOne(cp) { var e = EXC[cp]; return e !== undefined ? e : cp.toLowerCase(); }
    // index/analysis.py fold: cluster by cluster, NFKC then casefold
    var memo = new Map();
    function foldPiece(piece) {
      var c = piece.charCodeAt(0);
      if (piece.length === 1 && ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x61 && c <= 0x7a) || (c >= 0x20 && c < 0x41)))
        return piece;  // CJK ideographs, lower case ASCII, digits and punctuation: unchanged
      var f = memo.get(piece);
      if (f === undefined) {
        f = "";
        for (var ch of piece.normalize("NFKC")) f += lowerOne(ch);
        if (memo.size < 100000) memo.set(piece, f);
      }
      return f;
    }
    function clusters(text) {  // [piece, ...]: a code point and its combining marks
      var cps = Array.from(text), out = [], i = 0;
      while (i < cps.length) {
        var j = i + 1;
        while (j < cps.length && MARK.test(cps[j])) j++;
        out.push(j === i + 1 ? cps[i] : cps.slice(i, j).join(""));
        i = j;
      }
      return out;
    }
    function same(c) {  // a UTF-16 unit that folding leaves as it is and that is no mark
      return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x61 && c <= 0x7a) || (c >= 0x20 && c < 0x41) || c === 10;
    }
    function isMarkAt(text, j) {
      var d = text.charCodeAt(j);
      if (d < 0x300 || same(d)) return false;
      return MARK.test(String.fromCodePoint(text.codePointAt(j)));
    }
    function fold(text) {
      var out = "", n = text.length, i = 0, start = 0;
      while (i < n) {
        if (same(text.charCodeAt(i)) && !(i + 1 < n && isMarkAt(text, i + 1))) { i++; continue; }
        out += text.slice(start, i);
        var j = i + (text.codePointAt(i) > 0xffff ? 2 : 1);
        while (j < n && isMarkAt(text, j)) j += text.codePointAt(j) > 0xffff ? 2 : 1;
        out += foldPiece(text.slice(i, j));
        i = start = j;
      }
      return start === 0 ? text : out + text.slice(start);
    }
    // the folded text and, per UTF-16 unit of it, the index of the original piece it
    // comes from (index/analysis.py normalize)
    function foldMapped(text) {
      var pieces = clusters(text), folded = "", owner = [];
      for (var i = 0; i < pieces.length; i++) {
        var f = foldPiece(pieces[i]);
        folded += f;
        for (var k = 0; k < f.length; k++) owner.push(i);
      }
      return { pieces: pieces, folded: folded, owner: owner };
    }
    // index/analysis.py primary_tokens
    function primary(norm) {
      var out = [], m;
      PRIMARY.lastIndex = 0;
      while ((m = PRIMARY.exec(norm))) {
        out.push({ kind: m[1] ? "cjk" : "word", text: m[0], s: m.index, e: m.index + m[0].length });
      }
      return out;
    }
    // index/literal.py grams (the index terms of a folded text)
    function grams(norm) {
      var out = new Set();
      primaryRuns(norm, function (run) {
        var cps = Array.from(run);
        for (var i = 0; i < cps.length; i++) {
          out.add(cps[i]);
          if (i + 1 < cps.length) out.add(cps[i] + cps[i + 1]);
        }
      }, function (word) {
        out.add(word);
        if (/[-._/]/.test(word)) word.split(/[-._/]/).forEach(function (p) { if (p) out.add(p); });
      });
      return out;
    }
    var RUN = new RegExp("(" + CJK_CLASS + "+)|(" + WC + "+(?:[-._/]" + WC + "+)*)", "gu");
    function primaryRuns(norm, onRun, onWord) {
      var m;
      RUN.lastIndex = 0;
      while ((m = RUN.exec(norm))) { if (m[1]) onRun(m[1]); else onWord(m[2]); }
    }
    function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&"); }

    // index/literal.py Literal
    function Literal(text) {
      this.text = text;
      this.folded = fold(text);
      this.tokens = primary(this.folded);
      var t = this.tokens, plain = t.length > 0;
      for (var i = 0; i < t.length; i++) {
        if (t[i].kind !== "cjk" || (i + 1 < t.length && t[i + 1].s !== t[i].e)) { plain = false; break; }
      }
      this.plain = plain ? t.map(function (x) { return x.text; }).join("") : null;
      this._re = null;
    }
    Literal.prototype.empty = function () { return !this.tokens.length; };
    Literal.prototype.grams = function () {
      var t = this.tokens, out = [];
      for (var i = 0; i < t.length; i++) {
        if (t[i].kind === "word") { out.push(t[i].text); continue; }
        var nxt = t[i + 1], prev = t[i - 1];
        if (nxt && nxt.kind === "cjk" && nxt.s === t[i].e) out.push(t[i].text + nxt.text);
        else if (!(prev && prev.kind === "cjk" && prev.e === t[i].s)) out.push(t[i].text);
      }
      return Array.from(new Set(out));
    };
    Literal.prototype.exact = function () {
      return this.tokens.length === 1 || (this.tokens.length === 2 && this.plain !== null);
    };
    Literal.prototype.pattern = function () {
      if (this._re) return this._re;
      var parts = [], prev = null;
      this.tokens.forEach(function (t) {
        if (prev) {
          if (prev.kind === "cjk" && t.kind === "cjk") parts.push(prev.e === t.s ? "" : GAP + "+");
          else parts.push(GAP + "*");
        }
        var tok = escapeRe(t.text);
        if (t.kind === "word" && /[-._/]/.test(t.text)) tok = "(?<!" + WC + ")(?<!" + WC + "[-._/])" + tok + "(?![-._/]?" + WC + ")";
        else if (t.kind === "word") tok = "(?<!" + WC + ")" + tok + "(?!" + WC + ")";
        parts.push(tok);
        prev = t;
      });
      return (this._re = new RegExp(parts.join(""), "gu"));
    };
    Literal.prototype.occurs = function (norm) {
      if (this.plain !== null) return norm.indexOf(this.plain) >= 0;
      var re = this.pattern();
      re.lastIndex = 0;
      return re.test(norm);
    };
    // every occurrence in a folded text, as [start, end] (UTF-16 offsets)
    Literal.prototype.spans = function (norm) {
      var out = [];
      if (this.plain !== null) {
        var at = norm.indexOf(this.plain);
        while (at >= 0) { out.push([at, at + this.plain.length]); at = norm.indexOf(this.plain, at + 1); }
        return out;
      }
      var re = this.pattern(), m;
      re.lastIndex = 0;
      while ((m = re.exec(norm))) {
        out.push([m.index, m.index + m[0].length]);
        if (m[0].length === 0) re.lastIndex++;
      }
      return out;
    };

    // index/rank.py query_words: the words of a literal that the index lists; `listed`
    // answers for a CJK word, `latinListed` for a Latin part
    function queryWords(lit, listed, latinListed) {
      var runs = [], latin = [], toks = lit.tokens, out = [];
      toks.forEach(function (t, k) {
        if (t.kind === "word") {
          t.text.split(/[-._/]/).forEach(function (p) { if (Array.from(p).length >= R.min_latin_word) latin.push(p); });
        } else if (k && toks[k - 1].kind === "cjk" && toks[k - 1].e === t.s) runs[runs.length - 1] += t.text;
        else runs.push(t.text);
      });
      runs.forEach(function (run) {
        var cps = Array.from(run), i = 0;
        while (i < cps.length) {
          var found = false;
          for (var j = Math.min(cps.length, i + R.max_word); j > i + 1; j--) {
            var w = cps.slice(i, j).join("");
            if (listed(w)) { out.push(w); i = j; found = true; break; }
          }
          if (!found) i++;
        }
      });
      latin.forEach(function (w) { if (latinListed(w)) out.push(w); });
      return Array.from(new Set(out));
    }

    // ---- the query language (index/query.py) ---------------------------------------
    function QueryError(code, args) {
      this.code = code;
      this.args = args || {};
      var msg = spec.errors[code].zh;
      Object.keys(this.args).forEach(function (k) { msg = msg.split("{" + k + "}").join(String(args[k])); });
      this.message = msg;
    }
    var FIELD = new RegExp(Q.field.slice(1), "y"), OR = Q.operators.or, NOT = Q.operators.not, AND = Q.operators.and;
    var SECTION_PATH = new RegExp(Q.section_path), REF_ID = new RegExp(Q.ref_id), HEX = new RegExp(Q.uuid_prefix), DATE = new RegExp(Q.date);
    function strip(text) {
      var i = 0, j = text.length;
      while (i < j && isSpace(text[i])) i++;
      while (j > i && isSpace(text[j - 1])) j--;
      return text.slice(i, j);
    }
    function lex(text) {
      var out = [], i = 0, n = text.length;
      while (i < n) {
        if (isSpace(text[i])) { i++; continue; }
        var start = i, negated = false, fname = null;
        if (text[i] === Q.exclude && i + 1 < n && !isSpace(text[i + 1])) { negated = true; i++; }
        else if (text[i] === Q.exclude) throw new QueryError("dash-alone");
        FIELD.lastIndex = i;
        var m = FIELD.exec(text);
        if (m) {
          fname = m[1].toLowerCase();
          if (Q.fields.indexOf(fname) < 0) throw new QueryError("unknown-field", { field: m[0] });
          i += m[0].length;
          if (i >= n || isSpace(text[i])) throw new QueryError("empty-field", { field: m[0] });
        }
        if (Q.quotes[text[i]] !== undefined) {
          var close = Q.quotes[text[i]], end = text.indexOf(close, i + 1);
          if (close !== Q.curly_close_also) {
            var alt = text.indexOf(Q.curly_close_also, i + 1);
            end = end < 0 || (alt >= 0 && alt < end) ? alt : end;
          }
          if (end < 0) throw new QueryError("unbalanced-quote", { text: Array.from(text.slice(start)).slice(0, 30).join("") });
          var value = strip(text.slice(i + 1, end));
          if (!value) throw new QueryError("empty-quotes", { text: text.slice(start, end + 1) });
          out.push({ field: fname, value: value, quoted: true, negated: negated });
          i = end + 1;
          continue;
        }
        var j = i;
        while (j < n && !isSpace(text[j]) && Q.quotes[text[j]] === undefined) j++;
        var word = text.slice(i, j);
        if (!negated && fname === null && (word === OR || word === NOT || word === AND)) out.push(word);
        else out.push({ field: fname, value: word, quoted: false, negated: negated });
        i = j;
      }
      return out;
    }
    function show(a) { var v = a.quoted ? '"' + a.value + '"' : a.value; return a.field ? a.field + ":" + v : v; }
    function sectionPath(value) {
      var v = strip(value).toLowerCase();
      v = Q.section_names[v] !== undefined ? Q.section_names[v] : v;
      return SECTION_PATH.test(v) ? v : null;
    }
    function isRefId(value) { return REF_ID.test(strip(value).toLowerCase()); }
    function checkDay(name, value) {
      var ok = DATE.test(value);
      if (ok) {
        var d = new Date(value + "T00:00:00Z");
        ok = !isNaN(d) && d.toISOString().slice(0, 10) === value;
      }
      if (!ok) throw new QueryError("bad-date", { field: name, value: value });
      return value;
    }
    function checkAtom(a) {
      if (a.field === "uuid") {
        if (!HEX.test(a.value.toLowerCase().split("-").join(""))) throw new QueryError("bad-uuid", { value: a.value });
        return;
      }
      if (a.field === "section" && sectionPath(a.value) !== null) return;
      if (a.field === "ref" && isRefId(a.value)) return;
      if (new Literal(a.value).empty()) throw new QueryError("nothing-searchable", { item: show(a) });
    }
    // -> {groups: [[atom, ...], ...], since, until} or throws QueryError
    function parse(q) {
      var text = strip((q || "").normalize("NFKC"));
      if (!text) throw new QueryError("empty-query");
      var out = { groups: [], since: null, until: null }, pendOr = false, pendNot = false;
      var lexed = lex(text);
      lexed.forEach(function (t, k) {
        if (t === AND) { if (pendOr || pendNot) throw new QueryError("and-after", { op: pendOr ? OR : NOT }); return; }
        if (t === OR) {
          if (!out.groups.length || pendOr || pendNot) throw new QueryError("or-first");
          if (out.groups[out.groups.length - 1][0].negated) throw new QueryError("or-negated");
          pendOr = true; return;
        }
        if (t === NOT) {
          if (pendNot) throw new QueryError("not-not");
          if (pendOr) throw new QueryError("or-negated");
          pendNot = true; return;
        }
        t.negated = t.negated || pendNot;
        if (Q.filters.indexOf(t.field) >= 0) {
          if (t.negated || pendOr || lexed[k + 1] === OR) throw new QueryError("filter-item", { field: t.field });
          out[t.field] = checkDay(t.field, t.value);
          pendNot = false;
          return;
        }
        checkAtom(t);
        if (pendOr) {
          if (t.negated) throw new QueryError("or-negated");
          out.groups[out.groups.length - 1].push(t);
        } else out.groups.push([t]);
        pendOr = pendNot = false;
      });
      if (pendOr) throw new QueryError("or-last");
      if (pendNot) throw new QueryError("not-last");
      if (!out.groups.some(function (g) { return !g[0].negated; })) throw new QueryError("only-negated");
      return out;
    }

    // index/analysis.py composing_marks: the marks among spec.analysis.cjk_sources
    // (U+3099, U+309A), which compose with the character before them when folded
    var COMPOSING = (function () {
      var body = Array.from(A.cjk_sources), out = [];
      for (var i = 0; i < body.length; i++) {
        var lo = body[i].codePointAt(0), hi = lo;
        if (body[i + 1] === "-" && i + 2 < body.length) { hi = body[i + 2].codePointAt(0); i += 2; }
        for (var c = lo; c <= hi; c++) {
          var ch = String.fromCodePoint(c);
          if (MARK.test(ch)) out.push(ch);
        }
      }
      return out;
    })();
    // index/texts.py _bare: does the run stand in text, once at least, with no composing
    // mark right after it? (Then its fold holds the run too.)
    function bare(text, run) {
      var at = text.indexOf(run);
      while (at >= 0) {
        if (COMPOSING.indexOf(String.fromCodePoint(text.codePointAt(at + run.length) || 0)) < 0) return true;
        at = text.indexOf(run, at + 1);
      }
      return false;
    }

    return {
      spec: spec, fold: fold, foldMapped: foldMapped, primary: primary, grams: grams,
      Literal: Literal, queryWords: queryWords, parse: parse, QueryError: QueryError,
      sectionPath: sectionPath, isRefId: isRefId, bare: bare, strip: strip
    };
  };
})();
if (typeof module !== "undefined") module.exports = globalThis.RA;
