import assert from "node:assert/strict";
import { test } from "node:test";
import { CHAOS_FAULTS, chaosSchedule, seededRandom } from "../../bench/chaos/schedule.ts";

test("the same seed gives the same schedule; another seed another one", () => {
  assert.deepEqual(chaosSchedule(42, 50), chaosSchedule(42, 50));
  assert.notDeepEqual(chaosSchedule(42, 50), chaosSchedule(43, 50));
});

test("a schedule as long as the fault list holds every fault once", () => {
  for (const seed of [1, 2, 3]) {
    assert.deepEqual([...chaosSchedule(seed, CHAOS_FAULTS.length)].sort(), [...CHAOS_FAULTS].sort());
  }
});

test("50 faults repeat kinds and draw only known ones", () => {
  const schedule = chaosSchedule(7, 50);
  assert.equal(schedule.length, 50);
  assert.ok(schedule.every((fault) => CHAOS_FAULTS.includes(fault)));
  assert.ok(new Set(schedule).size === CHAOS_FAULTS.length);
});

test("the generator stays in [0, 1)", () => {
  const random = seededRandom(0);
  for (let i = 0; i < 1_000; i++) {
    const value = random();
    assert.ok(value >= 0 && value < 1);
  }
});
