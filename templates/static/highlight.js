/* A review page opened from a search result (?highlight=<query>): marks every occurrence
 * of the query's items in the review, as the result's snippet did (lang.js: the same
 * folding and matching as `reviews search`), and shows how many there are. The search
 * language comes from the site's search/meta.js, loaded only when there is a query.
 */
(function () {
  "use strict";
  var q = new URLSearchParams(location.search).get("highlight");
  var me = document.currentScript;
  if (!q || !me) return;
  var RA = (window.RA = window.RA || {});
  RA.meta = function (m) { mark(RA.lang(m.spec)); };
  var s = document.createElement("script");
  s.src = me.dataset.search + "meta.js";
  document.head.appendChild(s);

  function literals(L) {
    var ast;
    try { ast = L.parse(q); } catch (e) { return []; }
    var out = [];
    ast.groups.forEach(function (g) { g.forEach(function (a) {
      if (!a.negated && (a.field === null || a.field === "topic")) out.push(new L.Literal(a.value));
    }); });
    return out;
  }
  function textNodes(root) {
    var out = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        var p = n.parentNode.nodeName;
        return p === "SCRIPT" || p === "STYLE" || p === "MARK" || !n.data.trim() ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      }
    });
    while (walker.nextNode()) out.push(walker.currentNode);
    return out;
  }
  function mark(L) {
    var lits = literals(L), root = document.querySelector("article.review") || document.body, count = 0;
    if (!lits.length) return;
    textNodes(root).forEach(function (node) {
      var fm = L.foldMapped(node.data), spans = [];
      lits.forEach(function (l) { spans = spans.concat(l.spans(fm.folded)); });
      if (!spans.length) return;
      var on = new Uint8Array(fm.pieces.length);
      spans.forEach(function (sp) { for (var i = fm.owner[sp[0]]; i <= fm.owner[sp[1] - 1]; i++) on[i] = 1; });
      var frag = document.createDocumentFragment(), i = 0, n = fm.pieces.length;
      while (i < n) {
        var j = i + 1;
        while (j < n && on[j] === on[i]) j++;
        var text = fm.pieces.slice(i, j).join("");
        if (on[i]) { var m = document.createElement("mark"); m.className = "hl"; m.textContent = text; frag.appendChild(m); count++; }
        else frag.appendChild(document.createTextNode(text));
        i = j;
      }
      node.parentNode.replaceChild(frag, node);
    });
    document.body.dataset.highlighted = String(count);
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.scrollIntoView();
  }
})();
