import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LoopWatchdog, stepBudgetMs } from "../../jobs/controller/loop-watchdog.ts";
import { JOB_POLICIES } from "../../jobs/job-types.ts";

describe("the control loop's watchdog", () => {
  test("nothing is overdue while idle or within the budget", () => {
    const watchdog = new LoopWatchdog();
    assert.equal(watchdog.overdue(1_000), undefined);
    watchdog.begin("an evaluation", 500, 1_000);
    assert.equal(watchdog.overdue(1_500), undefined);
    assert.deepEqual(watchdog.overdue(1_700), { what: "an evaluation", overdueMs: 200 });
  });

  test("an ended piece of work can no longer be overdue", () => {
    const watchdog = new LoopWatchdog();
    const ended = watchdog.begin("an evaluation", 500, 0);
    ended(100);
    assert.equal(watchdog.overdue(10_000), undefined);
  });

  test("a long plan step inside a turn is judged by its own budget, and the turn gets its budget again after it", () => {
    const watchdog = new LoopWatchdog();
    watchdog.begin("an evaluation", 1_000, 0);
    const stepEnded = watchdog.begin("step 1 (rejoin)", 300_000, 100);
    assert.equal(watchdog.overdue(200_000), undefined, "the turn's 1 s does not count while the step runs");
    stepEnded(200_000);
    assert.equal(watchdog.overdue(200_900), undefined);
    assert.equal(watchdog.overdue(201_100)?.what, "an evaluation");
  });

  test("a step's budget covers every job it may send, with retries, and the fence's SSH and lease fallbacks", () => {
    const fence = stepBudgetMs({ kind: "fence", node: "node01" }, 6_000);
    const jobs =
      JOB_POLICIES["keepalived.stop"].timeoutMs * JOB_POLICIES["keepalived.stop"].attempts +
      JOB_POLICIES["postgres.fence"].timeoutMs * JOB_POLICIES["postgres.fence"].attempts;
    assert.ok(fence > jobs + 6_000, `fence budget ${fence} ms covers its jobs (${jobs} ms) and the lease`);
    const rejoin = stepBudgetMs({ kind: "rejoin", node: "node01", primary: "node02" }, 6_000);
    assert.ok(rejoin > JOB_POLICIES["postgres.rejoin"].timeoutMs);
    assert.ok(stepBudgetMs({ kind: "verify-write", node: "node02" }, 6_000) > 0);
  });
});
