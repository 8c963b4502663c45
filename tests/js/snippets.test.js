// Snippet windows and their segments (search-snippets.js, index/search.py snippet()):
// the width, counted in characters as written; joined marks; the original text under
// the folded offsets; citation markers; the citing sentence.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { RA, language } = require("./support.js");

const L = language();
const S = RA.snippets(L);
const W = RA.snippets.WIDTH;

// segments as strings: marked ones in <...>, markers as ^label
const show = (segs) => segs.map((s) => {
  const t = s.cite !== undefined ? "^" + s.cite : s.text;
  return s.mark ? "<" + t + ">" : t;
});
const spansOf = (text, ...words) => {
  const f = L.fold(text);
  return [].concat(...words.map((w) => new L.Literal(w).spans(f)));
};

test("a window is WIDTH characters, a quarter of it before the first occurrence", () => {
  const text = "甲".repeat(200) + "目标" + "乙".repeat(200);
  const win = S.windowOf(text, spansOf(text, "目标"));
  assert.deepEqual(win, [200 - W / 4, 200 - W / 4 + W]);
  assert.deepEqual(show(S.segments(text, spansOf(text, "目标"), [], win)),
                   ["…", "甲".repeat(W / 4), "<目标>", "乙".repeat(W - W / 4 - 2), "…"]);
});

test("a window does not start before the text nor end after it", () => {
  const early = "甲".repeat(5) + "目标" + "乙".repeat(300);
  assert.deepEqual(S.windowOf(early, spansOf(early, "目标")), [0, W]);
  assert.equal(show(S.segments(early, spansOf(early, "目标"), [], [0, W]))[0], "甲".repeat(5));
  const late = "甲".repeat(200) + "目标";
  assert.deepEqual(S.windowOf(late, spansOf(late, "目标")), [202 - W, 202]);  // still W wide
  const short = "短文本里的目标";
  assert.deepEqual(S.windowOf(short, spansOf(short, "目标")), [0, 7]);
});

test("a window with no occurrence is the start of the text", () => {
  const text = "乙".repeat(300);
  assert.deepEqual(S.windowOf(text, []), [0, W]);
  assert.deepEqual(show(S.segments(text, [], [], [0, W])), ["乙".repeat(W), "…"]);
});

test("an occurrence longer than the window is shown whole", () => {
  const long = "甲".repeat(10) + "丙".repeat(150) + "乙".repeat(50);
  assert.deepEqual(S.windowOf(long, [[10, 160]]), [0, 160]);
});

test("the width can be asked for", () => {
  const text = "甲".repeat(100) + "目标" + "乙".repeat(100);
  assert.deepEqual(S.windowOf(text, spansOf(text, "目标"), 40), [90, 130]);
});

test("the width counts characters as written, not UTF-16 units", () => {
  const text = "\u{20000}".repeat(200) + "目标";  // each ideograph two UTF-16 units
  const win = S.windowOf(text, spansOf(text, "目标"));
  assert.deepEqual(win, [202 - W, 202]);
  const segs = show(S.segments(text, spansOf(text, "目标"), [], win));
  assert.deepEqual(segs, ["…", "\u{20000}".repeat(W - 2), "<目标>"]);
});

test("overlapping and touching occurrences are one mark", () => {
  assert.deepEqual(RA.snippets.merge([[5, 7], [0, 2], [1, 3], [3, 4]]), [[0, 4], [5, 7]]);
  const text = "深度学习方法研究";
  assert.deepEqual(show(S.segments(text, spansOf(text, "深度学习", "学习方法"), [], null)), ["<深度学习方法>", "研究"]);
  assert.deepEqual(show(S.segments(text, spansOf(text, "学习", "方法"), [], null)), ["深度", "<学习方法>", "研究"]);
  assert.deepEqual(show(S.segments("学习与学习", spansOf("学习与学习", "学习"), [], null)), ["<学习>", "与", "<学习>"]);
});

test("marks fall on the text as written, under the folded offsets", () => {
  const cases = [
    ["基于ＧＡＮ的生成模型", "gan", ["基于", "<ＧＡＮ>", "的生成模型"]],        // full width
    ["ﬁne tuning", "fine", ["<ﬁne>", " tuning"]],                           // one character, two folded
    ["e\u0301tude ÉTUDE", "\u00e9tude", ["<e\u0301tude>", " ", "<ÉTUDE>"]],  // a combining mark
    ["Straße und STRASSE", "strasse", ["<Straße>", " und ", "<STRASSE>"]],
    ["模型采用 ResNet-50 作为骨干", "resnet", ["模型采用 ", "<ResNet>", "-50 作为骨干"]],
  ];
  for (const [text, q, expected] of cases) {
    assert.deepEqual(show(S.segments(text, spansOf(text, q), [], null)), expected, q);
    assert.deepEqual(S.snippetText(text, q), expected, q);
  }
  assert.equal(S.snippetText("没有这个词", "resnet"), null);
});

test("whitespace runs show as one space", () => {
  assert.deepEqual(show(S.segments("模型\n\n  采用", [], [], null)), ["模型 采用"]);
});

test("citation markers show as their labels, a run of them comma-separated, the query's marked", () => {
  const text = "研究表明[^1][^2]有效。";
  const cites = [[4, 8, "r1"], [8, 12, "r2"]];  // code points of the text, reference id
  assert.deepEqual(show(S.segments(text, [], cites, null, new Set(["r2"]))), ["研究表明", "^1", "<^,2>", "有效。"]);
  assert.deepEqual(show(S.segments(text, spansOf(text, "表明"), cites, null)), ["研究", "<表明>", "^1", "^,2", "有效。"]);
});

test("a reference's snippet is the sentence citing it, in characters as written", () => {
  const text = "第一句。第二句引用[^1]。第三句。";
  const cites = [[9, 13, "r1", 4, 14]];  // marker, id, the sentence's bounds (code points)
  assert.deepEqual(S.citingWindow(text, cites, new Set(["r1"])), [4, 14]);
  assert.equal(S.citingWindow(text, cites, new Set(["r9"])), null);
  assert.deepEqual(show(S.segments(text, [], cites, [4, 14], new Set(["r1"]))), ["…", "第二句引用", "<^1>", "。", "…"]);
  // a combining mark makes two code points one character: the window moves with it
  const marked = "e\u0301。第二句[^1]。";
  assert.deepEqual(S.citingWindow(marked, [[6, 10, "r1", 3, 11]], new Set(["r1"])), [2, 10]);
});
