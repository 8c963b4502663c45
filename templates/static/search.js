/* The search page: the box, the results and the pager, the order (按相关度 / 按时间), the
 * facets (topics and months of every match, each a link that adds its refinement to the
 * query), the keyboard and the history, over the engine (search-engine.js), which holds no
 * DOM. The URL keeps the query (facets clicked included), the order and the page:
 * ?q=…&sort=date&p=2. Data files are fetched by injecting classic <script> tags, so the
 * page searches over http and from file:// alike.
 * The page's inline scripts call RA.meta(meta) (the search/meta.js payload), then
 * RA.start({base, reviewBase}).
 * A query loads at most BUDGET bytes of search data unless the user asks for the exact
 * count (#exact-count) or pages on: past it, the status says what the count is known to be
 * (search-count.js) and the facets, which count every match, wait for the exact set. An
 * exact set whose facet table would take the query past the budget (fm.js grows with the
 * archive: ~3.6 bytes a review) shows its facets when asked (#show-facets).
 * Hooks for the browser tests and the benchmarks: RA.run, RA.exact, RA.language,
 * RA.uuidsOf, RA.facetsOf, RA.lastResult, RA.lastFacets, RA.snippetText, RA.timing; a test
 * may set RA.budget (bytes) before the scripts run.
 */
(function (RA) {
  "use strict";
  var PAGE = 10, DEBOUNCE = 200, TOP_TOPICS = 10;
  // bytes of search data a query may load before its count needs asking for: issue 19's
  // 1 MiB for the whole query, less the page and its scripts (~110 KiB) and one batch's
  // misjudged cost
  var BUDGET = 768 * 1024;
  // what the facets are guessed to load: fm.js by reviews, the topics' names (tn/)
  var FACET_BYTES = 4, NAMES_BYTES = 20 * 1024;
  var C = RA.searchCount;
  var base = "search/", reviewBase = "reviews/";
  var engine = null;

  function fetchScript(key) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = base + key + ".js";
      s.async = true;
      s.onload = function () { s.remove(); resolve(); };
      s.onerror = function () { s.remove(); reject(new Error(key)); };
      document.head.appendChild(s);
    });
  }
  function markTiming(name) { if (RA.timing) RA.timing[name] = performance.now(); }

  RA.meta = function (meta) {
    engine = RA.searchEngine(meta, fetchScript);
    RA.language = engine.language;
  };
  // Run query q (the engine's run, the page's first page and timings); sort: "date" or
  // relevance; budget: bytes (default the page's; null: no limit)
  RA.run = function (q, onProgress, need, sort, budget) {
    return engine.run(q, onProgress, need || PAGE, markTiming, sort, budget === undefined ? RA.budget || BUDGET : budget);
  };
  // a result made exact (every candidate checked), as the page's #exact-count does
  RA.exact = function (res) { return res.error ? Promise.resolve(res) : res.more(); };
  RA.uuidsOf = function (res) { return engine.uuidsOf(res); };
  // a complete result's facets, the first `top` topics named (all when top is undefined)
  RA.facetsOf = function (res, top) { return engine.facetsOf(res, top); };

  // the page's URL for a query, an order and a page
  function urlFor(q, sort, page) {
    if (!q) return location.pathname;
    return "?q=" + encodeURIComponent(q) + (sort === "date" ? "&sort=date" : "") + (page > 1 ? "&p=" + page : "");
  }
  function stateOf(search) {
    var params = new URLSearchParams(search);
    return { q: (params.get("q") || "").trim(), sort: params.get("sort") === "date" ? "date" : "relevance",
             page: Math.max(1, parseInt(params.get("p") || "1", 10) || 1) };
  }
  // the pieces of a snippet of `text` for query q, marks in <...>
  RA.snippetText = function (text, q) { return engine.snippets.snippetText(text, q); };

  // ---- rendering ---------------------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // segments (search-snippets.js) -> DocumentFragment
  function fragment(segments) {
    var frag = document.createDocumentFragment();
    segments.forEach(function (s) {
      if (s.cite !== undefined) {
        var sup = el("sup", "cite", s.cite);
        if (s.mark) { var mk = el("mark"); mk.appendChild(sup); frag.appendChild(mk); }
        else frag.appendChild(sup);
      } else frag.appendChild(s.mark ? el("mark", null, s.text) : document.createTextNode(s.text));
    });
    return frag;
  }
  function anchor(key) { return key === "abstract" || key === "references" ? key : "s-" + key; }
  var highlightQuery = "";
  function reviewHref(uuid, key) {
    return reviewBase + uuid + ".html" + (highlightQuery ? "?highlight=" + encodeURIComponent(highlightQuery) : "") +
      (key ? "#" + anchor(key) : "");
  }
  function renderItem(sec) {
    var li = el("li", "result"), inf = sec.info;  // [uuid, received, title, topic, chapters]
    li.dataset.uuid = inf[0];
    var h = el("h2", "result-title"), a = el("a", "result-link", inf[2]);
    a.href = reviewHref(inf[0], null);
    h.appendChild(a); li.appendChild(h);
    li.appendChild(el("p", "meta", inf[1].slice(0, 10) + " · " + (inf[3] === null ? inf[2] : inf[3])));
    var ul = el("ul", "hits");
    sec.hits.forEach(function (hit) {
      var hi = el("li", "hit"), link = el("a", "hit-link", hit.number);
      link.appendChild(fragment(hit.title));
      link.href = reviewHref(inf[0], hit.key);
      hi.appendChild(link);
      if (hit.snippet) { var p = el("p", "snippet"); p.appendChild(fragment(hit.snippet)); hi.appendChild(p); }
      ul.appendChild(hi);
    });
    li.appendChild(ul);
    return li;
  }
  function status(q, res, page) { return C.status(q, res, page, PAGE); }
  function pageOf(res, page) { return res.reviews.slice((page - 1) * PAGE, page * PAGE); }
  // the results of one page, each shown, in order, once its sections are in
  function renderList(res, page, gen) {
    var list = document.getElementById("results");
    list.textContent = "";
    var shown = pageOf(res, page), next = 0, ready = shown.map(function () { return null; });
    var flush = function () {
      if (gen !== generation) return;
      for (; next < shown.length && ready[next]; next++) {
        list.appendChild(renderItem(ready[next]));
        if (!RA.timing.first) { RA.timing.first = performance.now(); document.body.dataset.searchFirst = "1"; }
      }
    };
    return Promise.all(shown.map(function (x, k) {
      return engine.sectionsOf(res.plan, x).then(function (sec) { ready[k] = sec; flush(); });
    })).then(function () { RA.timing.page = performance.now(); select(-1); });
  }
  // (before the count is exact, the number of pages is not known: 第 p 页 and 下一页)
  function renderPager(q, res, page, sort) {
    var pager = document.getElementById("pager"), pages = Math.ceil(res.reviews.length / PAGE);
    var more = C.hasNext(res, page, PAGE);
    pager.textContent = "";
    if (page <= 1 && !more) return;
    var mk = function (p, label, rel) {
      var a = el("a", null, label); a.href = urlFor(q, sort, p); a.rel = rel; pager.appendChild(a);
    };
    if (page > 1) mk(page - 1, "上一页", "prev");
    pager.appendChild(el("span", null, "第 " + page + (res.exact ? " / " + pages : "") + " 页"));
    if (more) mk(page + 1, "下一页", "next");
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

  // ---- the order and the facets --------------------------------------------------------
  var go = function () {};  // (RA.start sets it: show a query, an order, as a new history entry)
  function renderSort(q, sort) {
    var nav = document.getElementById("sort");
    nav.hidden = false;
    nav.querySelectorAll("a").forEach(function (a) {
      var s = a.dataset.sort;
      a.href = urlFor(q, s, 1);
      if (s === sort) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
      a.onclick = function (e) { e.preventDefault(); go(q, s); };
    });
  }
  function facetItem(f, label, q, sort) {
    var li = el("li", "facet-item");
    if (f.refine) {
      var a = el("a", "facet-link", label), next = q + " " + f.refine;
      a.href = urlFor(next, sort, 1);
      a.dataset.refine = f.refine;
      a.onclick = function (e) { e.preventDefault(); go(next, sort); };
      li.appendChild(a);
    } else li.appendChild(el("span", "facet-value", label));
    li.appendChild(el("span", "count", String(f.count)));
    return li;
  }
  function renderFacets(q, sort, facets, res, gen) {
    var topics = document.getElementById("facet-topics"), months = document.getElementById("facet-months");
    var more = document.getElementById("more-topics");
    topics.textContent = ""; months.textContent = "";
    facets.topics.forEach(function (f) {
      if (f.value !== null) topics.appendChild(facetItem(f, f.value || "（无主题）", q, sort));
    });
    facets.months.forEach(function (f) { months.appendChild(facetItem(f, f.value, q, sort)); });
    var hidden = facets.topics.filter(function (f) { return f.value === null; }).length;
    more.hidden = !hidden;
    more.textContent = "显示全部 " + facets.topics.length + " 个主题";
    more.onclick = function () {
      RA.facetsOf(res).then(function (all) {
        if (gen === generation) { RA.lastFacets = all; renderFacets(q, sort, all, res, gen); }
      });
    };
    document.getElementById("facets").hidden = !res.reviews.length;
  }

  var generation = 0;
  function search(q, page, sort) {
    var gen = ++generation, st = document.getElementById("status");
    highlightQuery = q;
    document.getElementById("results").textContent = "";
    document.getElementById("pager").textContent = "";
    document.getElementById("facets").hidden = true;
    document.getElementById("sort").hidden = true;
    delete document.body.dataset.searchDone; delete document.body.dataset.complete; delete document.body.dataset.searchFirst;
    delete document.body.dataset.facets; delete document.body.dataset.exact; delete document.body.dataset.bounded;
    document.getElementById("exact-count").hidden = true;
    document.getElementById("show-facets").hidden = true;
    RA.lastFacets = null;
    if (!q) { st.textContent = "输入关键词后按回车搜索。"; return Promise.resolve(); }
    document.title = q + " · 搜索 · 综述档案";
    st.textContent = "搜索中…";
    var listed = null, began = engine.fetched();
    RA.timing = { start: performance.now() };
    var finish = function () {
      if (gen !== generation) return;
      RA.timing.complete = performance.now();
      document.body.dataset.searchDone = "1"; document.body.dataset.complete = "1";
    };
    return RA.run(q, function (res) {
      if (gen !== generation) { res.cancelled = true; return; }  // (typed over: no more checks)
      st.textContent = status(q, res, page);
      // the page is final: show it, and check the rest only once it is shown
      if (!listed && res.reviews.length >= page * PAGE) return (listed = renderList(res, page, gen));
    }, page * PAGE, sort).then(function (res) {
      if (gen !== generation) return;
      RA.lastResult = res;
      if (res.error) { st.textContent = "查询有误：" + res.error; return; }
      renderSort(q, sort);
      if (!listed) {
        page = Math.min(page, Math.max(1, Math.ceil(res.reviews.length / PAGE)));
        listed = res.reviews.length ? renderList(res, page, gen) : Promise.resolve();
      }
      var shown = function () {
        if (gen !== generation) return;
        st.textContent = status(q, res, page); renderPager(q, res, page, sort);
      };
      if (!res.exact) {
        document.body.dataset.bounded = "1";
        offerExact(q, res, page, sort, gen, shown);
        return listed.then(shown);
      }
      var budget = RA.budget || BUDGET;
      if (res.reviews.length && engine.fetched() - began + engine.meta.n * FACET_BYTES + NAMES_BYTES > budget) {
        offerFacets(q, sort, res, gen);
        return listed.then(shown);
      }
      return Promise.all([listed, showFacets(q, sort, res, gen)]).then(shown);
    }).then(finish, function (err) { if (gen === generation) { st.textContent = "搜索失败：" + err.message; } finish(); });
  }
  // the facets count every match: only of an exact set (none: nothing to load)
  function showFacets(q, sort, res, gen) {
    document.body.dataset.exact = "1";
    var counted = res.reviews.length ? RA.facetsOf(res, TOP_TOPICS) : Promise.resolve({ topics: [], months: [] });
    return counted.then(function (facets) {
      if (gen !== generation) return;
      RA.lastFacets = facets;
      renderFacets(q, sort, facets, res, gen);
      RA.timing.facets = performance.now();
      document.body.dataset.facets = "1";
    });
  }
  // an exact set whose facets the budget cannot afford: the button that shows them
  function offerFacets(q, sort, res, gen) {
    var button = document.getElementById("show-facets");
    document.body.dataset.exact = "1";
    button.hidden = false;
    button.disabled = false;
    button.onclick = function () {
      button.disabled = true;
      showFacets(q, sort, res, gen).then(function () { if (gen === generation) button.hidden = true; });
    };
  }
  // a bounded count: the button that checks every candidate, then shows the count and facets
  function offerExact(q, res, page, sort, gen, shown) {
    var button = document.getElementById("exact-count");
    button.hidden = false;
    button.disabled = false;
    button.onclick = function () {
      button.disabled = true;
      res.counting = true;
      RA.exact(res).then(function () {
        res.counting = false;
        if (gen !== generation) return;
        button.hidden = true;
        delete document.body.dataset.bounded;
        return showFacets(q, sort, res, gen).then(shown);
      }, function (err) { if (gen === generation) document.getElementById("status").textContent = "搜索失败：" + err.message; });
    };
  }

  RA.start = function (opts) {
    base = opts.base.replace(/\/?$/, "/");
    reviewBase = opts.reviewBase.replace(/\/?$/, "/");
    var state = stateOf(location.search);
    var input = document.getElementById("q"), form = document.getElementById("search-form");
    input.value = state.q;
    var timer = null, current = state.q, sort = state.sort;
    function submit(push) {
      clearTimeout(timer);
      var v = input.value.trim();
      if (v === current && push !== "force") return;
      current = v;
      var url = urlFor(v, sort, 1);
      if (push === true) history.pushState(null, "", url); else history.replaceState(null, "", url);
      search(v, 1, sort);
    }
    // a facet or the order clicked: a new history entry, so Back undoes it
    go = function (q, s) {
      clearTimeout(timer);
      input.value = current = q;
      sort = s;
      history.pushState(null, "", urlFor(q, s, 1));
      search(q, 1, s);
    };
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { submit(false); }, DEBOUNCE); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (selected >= 0 && openSelected()) return;
      submit(true);
    });
    window.addEventListener("popstate", function () {
      var st = stateOf(location.search);
      input.value = current = st.q;
      sort = st.sort;
      search(st.q, st.page, st.sort);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "/" && document.activeElement !== input) { e.preventDefault(); input.focus(); input.select(); return; }
      if (e.key === "ArrowDown") { e.preventDefault(); select(selected + 1); return; }
      if (e.key === "ArrowUp") { e.preventDefault(); select(selected - 1); return; }
      if (e.key === "Enter" && selected >= 0 && document.activeElement !== input) { e.preventDefault(); openSelected(); return; }
      if (e.key === "Escape") {
        input.value = ""; current = ""; clearTimeout(timer);
        history.replaceState(null, "", location.pathname);
        search("", 1, sort); select(-1); input.focus();
      }
    });
    return search(state.q, state.page, state.sort);
  };
})(globalThis.RA = globalThis.RA || {});
