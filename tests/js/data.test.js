// Decoding the site's search data (search-data.js) as publish/searchdata.py encodes it.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { RA, siteEngine, SITE } = require("./support.js");

const D = RA.searchData;

test("varints, and values past 2^49 as BigInt", () => {
  assert.deepEqual(D.varints(new Uint8Array([0, 1, 0x7f, 0x96, 0x01])), [0, 1, 127, 150]);
  const big = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);  // 2^56
  assert.deepEqual(D.varints(big), [2n ** 56n]);
  assert.deepEqual(D.varints(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), [2 ** 49 - 1]);
});

test("the shard of a term is publish/searchdata.py shard_of (FNV-1a over UTF-16 units)", () => {
  // the values shard_of gives
  assert.equal(D.shardOf("f1-score", 2 ** 31), 813617059);
  assert.equal(D.shardOf("学习", 2 ** 31), 1261583355);
  assert.equal(D.shardOf("\u{20000}*", 2 ** 31), 1913856485);
  assert.equal(D.shardOf("f1-score", 64), 35);
});

test("bit maps: the chapters a gram stands in", () => {
  assert.deepEqual(D.bitsOf(0b101101n), [0, 2, 3, 5]);
  assert.deepEqual(D.bitsOf(0n), []);
});

test("a data file that is not there is an error naming it",
     { skip: SITE ? false : "needs RA_SITE (run: pytest tests/test_js.py)" }, async () => {
  const engine = siteEngine(SITE);
  await assert.rejects(engine.uuidsOf({ reviews: [{ o: 10 ** 7 }] }), /无法加载搜索数据 o\/4882/);
});
