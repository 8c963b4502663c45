// What the engine's unit tests share: the static files loaded in the page's order, the
// search language from index/spec.json, the conformance tables, and an engine over a
// built site read from disk (RA_SITE: its folder; tests/test_js.py builds one).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const STATIC = path.join(ROOT, "templates", "static");
// the order of templates/search.html, without the page (search.js)
const ENGINE = ["lang.js", "search-data.js", "search-rank.js", "search-match.js", "search-snippets.js",
                "search-sections.js", "search-facets.js", "search-engine.js", "search-count.js"];
ENGINE.forEach((name) => require(path.join(STATIC, name)));
const RA = globalThis.RA;

function readJson(...parts) { return JSON.parse(fs.readFileSync(path.join(ROOT, ...parts), "utf8")); }
const spec = () => readJson("index", "spec.json");
const language = () => RA.lang(spec());
const table = (name) => readJson("tests", "conformance", name);

// a data file of the site run as the page runs it (it calls RA.<letter>(...))
function runDataFile(file, ra) { new Function("RA", fs.readFileSync(file, "utf8"))(ra); }

// an engine over the site in `dir`, reading its search data files as the page would
function siteEngine(dir) {
  let meta = null;
  runDataFile(path.join(dir, "search", "meta.js"), { meta: (m) => { meta = m; } });
  const fetchScript = (key) => fs.promises.readFile(path.join(dir, "search", key + ".js"), "utf8")
    .then((src) => { new Function("RA", src)(RA); });
  return RA.searchEngine(meta, fetchScript);
}

module.exports = { RA, ROOT, ENGINE, spec, language, table, siteEngine, SITE: process.env.RA_SITE || null };
