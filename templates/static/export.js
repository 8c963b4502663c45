/* A review's reference list as BibTeX, RIS and CSL-JSON, made in the browser.
 *
 * The site used to hold three files beside every review page (12 KB a review at 1k, half
 * the size of its record: 1.2 GB at 100k) that repeat its reference list. The page now
 * carries the works once, as the exports see them (archive/export.py's Work, computed by
 * the build: <script type="application/json" id="works">), and this script renders the
 * three formats from them with the same rules, byte for byte (tests/test_export_js.py
 * compares it with archive.export.render on the corpus and on the hard cases), and
 * makes each export link a download of its text. The values are one line already
 * (archive.export.one_line, applied by the build), as render() re-applies it to no
 * effect. Works as a browser script (RAExport) and as a Node module (the test).
 */
(function (root) {
  "use strict";
  const ET_AL = "et al.";
  const NOTE = "review-archive ref ";
  const LATEX = {"\\": "\\textbackslash{}", "%": "\\%", "&": "\\&", "$": "\\$", "#": "\\#",
                 "_": "\\_", "^": "\\textasciicircum{}", "~": "\\textasciitilde{}"};
  const LIGATURES = new Set(["--", "``", "''", "!`", "?`", ",,", "<<", ">>"]);
  // Python's str.isspace() (JS's \s also holds U+FEFF, and not U+001C-U+001F, U+0085)
  const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const AND = new RegExp(`(?:^|[${SPACE}])and(?:[${SPACE}]|$)`, "i");
  const HAS_SPACE = new RegExp(`[${SPACE}]`);
  // archive/export.py's _HAN, as code points
  const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]/u;
  const CSL_LANGUAGE = {zh: "zh-CN", en: "en"};

  function bracesPair(text) {
    let depth = 0;
    for (const ch of text) {
      depth += ch === "{" ? 1 : ch === "}" ? -1 : 0;
      if (depth < 0) return false;
    }
    return depth === 0;
  }

  function latex(text) {
    const paired = bracesPair(text);
    const out = [];
    let prev = "";
    for (const ch of text) {
      if (LIGATURES.has(prev + ch)) out.push("{}");
      if (ch === "{" || ch === "}") {
        out.push(paired ? "\\" + ch : ch === "{" ? "\\textbraceleft{}" : "\\textbraceright{}");
      } else {
        out.push(Object.prototype.hasOwnProperty.call(LATEX, ch) ? LATEX[ch] : ch);
      }
      prev = ch;
    }
    return out.join("");
  }

  // str.casefold() as far as it can make "others": ſ (long s) folds to s
  function casefold(s) { return s.toLowerCase().replace(/\u017f/g, "s"); }

  function bibName(name) {
    if (name === ET_AL) return "others";
    const text = latex(name);
    if (AND.test(name) || name.split(",").length - 1 > 1 || casefold(name) === "others") {
      return "{" + text + "}";
    }
    return text.startsWith("\\") ? "{}" + text : text;
  }

  // a work: [key, title, year or null, [authors], language, ref id]
  function bibtex(works) {
    return works.map(([key, title, year, authors, lang, refId]) => {
      const fields = [["title", "{" + latex(title) + "}"]];
      if (authors.length) fields.push(["author", authors.map(bibName).join(" and ")]);
      if (year !== null) fields.push(["year", String(year)]);
      fields.push(["language", latex(lang)]);
      fields.push(["note", latex(NOTE + refId)]);
      const body = fields.map(([k, v]) => `  ${k} = {${v}}`).join(",\n");
      return `@misc{${key},\n${body}\n}\n`;
    }).join("\n");
  }

  function ris(works) {
    return works.map(([key, title, year, authors, lang, refId]) => {
      const lines = [["TY", "GEN"], ["ID", key], ["TI", title]];
      for (const n of authors) if (n !== ET_AL) lines.push(["AU", n]);
      if (year !== null) lines.push(["PY", String(year)]);
      lines.push(["LA", lang], ["N1", NOTE + refId]);
      return lines.map(([tag, value]) => `${tag}  - ${value}\n`).join("") + "ER  - \n";
    }).join("\n");
  }

  function cslName(name) {
    if (!HAN.test(name)) {
      const commas = name.split(",").length - 1;
      if (commas === 1 && name.includes(", ")) {
        const [family, given] = name.split(", ");
        if (family && given) return {family, given};
      } else if (commas === 0 && !HAS_SPACE.test(name)) {
        return {family: name};
      }
    }
    return {literal: name};
  }

  function cslJson(works) {
    const items = works.map(([key, title, year, authors, lang, refId]) => {
      const item = {id: key, type: "document", title};
      const names = authors.filter(n => n !== ET_AL).map(cslName);
      if (names.length) item.author = names;
      if (year !== null) item.issued = {"date-parts": [[year]]};
      item.language = Object.prototype.hasOwnProperty.call(CSL_LANGUAGE, lang) ? CSL_LANGUAGE[lang] : lang;
      item.custom = {"review-archive-ref": refId};
      return item;
    });
    return JSON.stringify(items, null, 2) + "\n";
  }

  const RENDER = {"bibtex": bibtex, "ris": ris, "csl-json": cslJson};

  function render(works, fmt) { return RENDER[fmt](works); }

  /* Make each a.export-link[data-format] of the page a download of its text. */
  function start(doc) {
    const data = doc.getElementById("works");
    if (!data) return;
    const works = JSON.parse(data.textContent);
    for (const a of doc.querySelectorAll("a.export-link[data-format]")) {
      const blob = new Blob([render(works, a.dataset.format)], {type: a.type + ";charset=utf-8"});
      a.href = URL.createObjectURL(blob);
    }
  }

  const api = {render, latex, start};
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else {
    root.RAExport = api;
    start(root.document);
  }
})(typeof window !== "undefined" ? window : globalThis);
