/* What the search page may say of a result's count (issue 19). Once every candidate of the
 * postings is checked against its text, the count is exact ("找到 N 篇"). A query over its
 * byte budget (search-engine.js) checks its first page, then a sample of the rest spread
 * over their ranks, as far as the budget allows: then all that is known is that the N
 * matches found so far stand ("至少 N"), that the unchecked candidates may all match or
 * none ("至多"), and an estimate from the share of the sample that matched ("约 N",
 * rounded to two figures so that it reads as one). An estimate is never worded as a
 * count. No DOM: the page words its status
 * line with it, the unit tests (tests/js/count.test.js) check the wording.
 */
(function (RA) {
  "use strict";

  // n rounded to two significant figures (5634 -> 5600; 87 -> 87)
  function twoFigures(n) {
    if (n < 100) return Math.round(n);
    var step = Math.pow(10, Math.floor(Math.log10(n)) - 1);
    return Math.round(n / step) * step;
  }

  // a result (search-engine.js run) -> {exact: true, count} or {exact: false, atLeast,
  // about, atMost}: the matches found (the checked prefix's and the sample's), those and
  // every unchecked candidate, and between them the share of the sample that matched (of
  // the prefix when there is no sample: the better ranked, so a high guess) applied to the
  // unchecked candidates
  function bounds(res) {
    var n = res.reviews.length;
    if (res.exact) return { exact: true, count: n };
    var sampled = res.sampled || 0, hits = res.sampleHits || 0;
    var left = Math.max(0, res.candidates - res.checked - sampled);
    var share = sampled ? hits / sampled : res.checked ? n / res.checked : 1;
    var atLeast = n + hits, atMost = atLeast + left;
    var about = Math.min(atMost, Math.max(atLeast, twoFigures(atLeast + left * share)));
    return { exact: false, atLeast: atLeast, about: about, atMost: atMost };
  }

  // the status line for query q, a result and the page shown (perPage results a page)
  function status(q, res, page, perPage) {
    var n = res.reviews.length;
    if (!res.complete) return "已找到 " + n + " 篇综述，继续搜索…";
    var b = bounds(res);
    if (b.exact) {
      if (!n) return "没有找到与“" + q + "”匹配的综述。";
      var pages = Math.max(1, Math.ceil(n / perPage));
      return "找到 " + n + " 篇综述" + (pages > 1 ? "，第 " + Math.min(page, pages) + " / " + pages + " 页" : "");
    }
    var text = "找到至少 " + b.atLeast + " 篇综述（约 " + b.about + " 篇），第 " + page + " 页";
    if (res.counting) text += "；正在精确计数：已核对 " + res.checked + " / " + res.candidates + " 篇候选";
    return text;
  }

  // may there be a page after `page`? (not known exactly before the count is)
  function hasNext(res, page, perPage) {
    return res.reviews.length > page * perPage || (!res.exact && res.checked < res.candidates);
  }

  RA.searchCount = { bounds: bounds, status: status, hasNext: hasNext, twoFigures: twoFigures };
})(globalThis.RA = globalThis.RA || {});
if (typeof module !== "undefined") module.exports = globalThis.RA;
