/* Snippets: a window of a unit's text around the query's first occurrence (index/search.py
 * snippet()), cut into segments to show: runs of text, marked or not, and citation markers.
 * Matching is on the folded text; what is shown is the text as written, so a window and
 * its marks are counted in *pieces* (a code point with its combining marks, lang.js
 * foldMapped), which map folded offsets back to the original.
 * No DOM: the page turns segments into nodes (search.js), the unit tests read them.
 */
(function (RA) {
  "use strict";
  var SNIP = 120;  // pieces in a window (index/search.py SNIPPET)

  // spans [start, end) sorted, overlapping or touching ones joined
  function merge(spans) {
    var out = [];
    spans.slice().sort(function (a, b) { return a[0] - b[0]; }).forEach(function (s) {
      if (out.length && s[0] <= out[out.length - 1][1]) out[out.length - 1][1] = Math.max(s[1], out[out.length - 1][1]);
      else out.push([s[0], s[1]]);
    });
    return out;
  }
  // per code point of the text, the piece holding it (and one past the end)
  function pieceOfCodePoint(pieces) {
    var out = [], p = 0;
    pieces.forEach(function (pc, i) { for (var k = 0; k < Array.from(pc).length; k++) out[p++] = i; });
    out[p] = pieces.length;
    return out;
  }

  RA.snippets = function (L) {
    // [first piece, end piece] of about `width` pieces around the first span (spans in
    // UTF-16 offsets of the folded text); the start of the text when there is none
    function windowOf(text, spans, width) {
      width = width || SNIP;
      var fm = L.foldMapped(text), n = fm.pieces.length, ps = merge(spans).map(function (s) {
        return [fm.owner[s[0]], fm.owner[s[1] - 1] + 1];
      });
      var start = ps.length ? Math.max(0, ps[0][0] - width / 4) : 0, end = Math.min(n, start + width);
      if (ps.length) start = Math.max(0, end - width);
      if (ps.length && ps[0][1] > end) end = ps[0][1];
      return [start, end];
    }
    // the sentence holding the first marker citing one of `ids` (its bounds come with the
    // text: archive/citations.py Sentences), as a window of pieces; null if none cites them
    function citingWindow(text, cites, ids) {
      var m = cites.filter(function (c) { return ids.has(c[2]); })[0];
      if (!m) return null;
      var cp = pieceOfCodePoint(L.foldMapped(text).pieces);
      return [cp[m[3]], cp[m[4]]];
    }
    // text as written, with the folded spans (UTF-16 offsets of the folded text) marked and
    // citation markers ([start, end, id, ...] in code points of the text) as their labels;
    // `win`: [first piece, end piece] or null for the whole text; `hot`: the ids whose
    // markers are marked. -> [{text, mark}, ...]; a marker is {cite: label, mark}; a cut
    // end is {text: "…"}
    function segments(text, spans, cites, win, hot) {
      var fm = L.foldMapped(text), pieces = fm.pieces, n = pieces.length;
      var inMark = new Uint8Array(n + 1), cite = new Array(n + 1), cp = pieceOfCodePoint(pieces);
      merge(spans).forEach(function (s) {
        if (s[1] <= s[0]) return;
        for (var i = fm.owner[s[0]]; i <= fm.owner[s[1] - 1]; i++) inMark[i] = 1;
      });
      (cites || []).forEach(function (m) {
        var a = cp[m[0]], b = cp[m[1]];
        if (a === undefined || b === undefined) return;
        cite[a] = { end: b, label: pieces.slice(a, b).join("").replace(/[\[\]^]/g, ""), hot: !!hot && hot.has(m[2]) };
      });
      var a = win ? win[0] : 0, b = win ? win[1] : n, out = [];
      if (a > 0) out.push({ text: "…", mark: false });
      var i = a, after = -1;  // after: where the last marker ended (a run of them: 1,2,3)
      while (i < b) {
        if (cite[i]) {
          out.push({ cite: (after === i ? "," : "") + cite[i].label, mark: !!(cite[i].hot || inMark[i]) });
          after = cite[i].end;
          i = cite[i].end;
          continue;
        }
        var j = i + 1;
        while (j < b && inMark[j] === inMark[i] && !cite[j]) j++;
        out.push({ text: pieces.slice(i, j).join("").replace(/\s+/g, " "), mark: !!inMark[i] });
        i = j;
      }
      if (b < n) out.push({ text: "…", mark: false });
      return out;
    }
    // the snippet of `text` for query q, as strings, marked ones in <...>; null when
    // nothing of the query's plain items occurs (a test hook)
    function snippetText(text, q) {
      var ast = L.parse(q), ls = [];
      ast.groups.forEach(function (g) { g.forEach(function (a) { if (!a.negated && a.field === null) ls.push(new L.Literal(a.value)); }); });
      var f = L.fold(text), spans = [].concat.apply([], ls.map(function (l) { return l.spans(f); }));
      if (!spans.length) return null;
      return segments(text, spans, [], windowOf(text, spans)).map(function (s) {
        var t = s.cite !== undefined ? s.cite : s.text;
        return s.mark ? "<" + t + ">" : t;
      });
    }
    return { windowOf: windowOf, citingWindow: citingWindow, segments: segments, snippetText: snippetText };
  };
  RA.snippets.merge = merge;
  RA.snippets.WIDTH = SNIP;
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
