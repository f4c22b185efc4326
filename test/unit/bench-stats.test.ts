import assert from "node:assert/strict";
import { test } from "node:test";
import { percentile, ratio, summarize } from "../bench/stats.ts";

test("percentiles by nearest rank, whatever the order of the samples", () => {
  const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(samples, 50), 5);
  assert.equal(percentile(samples, 90), 9);
  assert.equal(percentile(samples, 99), 10);
  assert.equal(percentile(samples, 0), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.deepEqual(summarize([3, 1, 2]), { count: 3, p50: 2, p95: 3, p99: 3, max: 3 });
});

test("a ratio says how many times the baseline a figure is", () => {
  assert.equal(ratio(3, 2), "x1.50");
  assert.equal(ratio(1, 0), "x?");
});
