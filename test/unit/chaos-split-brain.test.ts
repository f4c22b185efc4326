import assert from "node:assert/strict";
import { test } from "node:test";
import { type SiteSample, splitBrainMoments } from "../../bench/chaos/split-brain.ts";

const sample = (at: number, vipHolders: string[], writable: string[] = ["node01"]): SiteSample => ({
  at,
  vipHolders,
  writable,
});

test("a healthy series has no split brain", () => {
  assert.deepEqual(splitBrainMoments([sample(0, ["node01"]), sample(250, ["node01"])], 1_000), []);
});

test("two writable primaries in one sample is split brain at once", () => {
  const moments = splitBrainMoments([sample(0, ["node01"], ["node01", "node02"])], 1_000);
  assert.equal(moments.length, 1);
  assert.equal(moments[0]?.kind, "two writable primaries");
});

test("two VIP holders count only when it lasts longer than one advert interval", () => {
  const brief = [
    sample(0, ["node01", "node02"]),
    sample(750, ["node01", "node02"]),
    sample(1_000, ["node02"]),
  ];
  assert.deepEqual(splitBrainMoments(brief, 1_000), []);
  const long = [
    sample(0, ["node01", "node02"]),
    sample(1_250, ["node01", "node02"]),
    sample(1_500, ["node02"]),
  ];
  const moments = splitBrainMoments(long, 1_000);
  assert.equal(moments.length, 1);
  assert.equal(moments[0]?.kind, "two VIP holders");
  assert.equal(moments[0]?.durationMs, 1_250);
});

test("a run of two holders still open at the end is counted", () => {
  const open = [
    sample(0, ["node02"]),
    sample(250, ["node01", "node02"]),
    sample(2_000, ["node01", "node02"]),
  ];
  assert.equal(splitBrainMoments(open, 1_000).length, 1);
});
