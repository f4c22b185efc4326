import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UnrecoverableError } from "bullmq";
import type { JobPolicy } from "../../jobs/job-types.ts";
import { JOB_POLICIES } from "../../jobs/job-types.ts";
import { runWithPolicy } from "../../jobs/run-with-policy.ts";
import { HarborHaError } from "../../support/errors.ts";

const idempotent: JobPolicy = { timeoutMs: 50, idempotent: true, attempts: 3 };
const unsafe: JobPolicy = { timeoutMs: 50, idempotent: false, attempts: 1 };
const where = { node: "node01", jobId: "job-1" };

describe("running a job under its policy", () => {
  test("returns the executor's result", async () => {
    assert.equal(await runWithPolicy("probe", idempotent, async () => 42, where), 42);
  });

  test("aborts the executor at the job's timeout and says which job on which node", async () => {
    let aborted: unknown;
    const stopsWhenAborted = (signal: AbortSignal) =>
      new Promise<never>((_, reject) => {
        signal.addEventListener("abort", () => {
          aborted = signal.reason;
          reject(signal.reason);
        });
      });
    const wedged: unknown[] = [];
    const context = { ...where, abandonGraceMs: 200, onWedged: (error: unknown) => wedged.push(error) };
    await assert.rejects(runWithPolicy("probe", idempotent, stopsWhenAborted, context), (error: unknown) => {
      assert.ok(error instanceof HarborHaError);
      assert.equal(error.code, "JOB_TIMEOUT");
      assert.equal(error.action, "run probe on node01");
      return true;
    });
    assert.ok(aborted instanceof HarborHaError, "the executor's signal was aborted with the timeout error");
    assert.deepEqual(wedged, [], "work that stopped at its signal is not wedged");
  });

  test("work that ignores its abort signal is reported wedged, so the agent can end itself", async () => {
    const ignoresAbort = () => new Promise<never>(() => {});
    const wedged: HarborHaError[] = [];
    const context = { ...where, abandonGraceMs: 100, onWedged: (error: HarborHaError) => wedged.push(error) };
    await assert.rejects(runWithPolicy("promote", idempotent, ignoresAbort, context), (error: unknown) => {
      assert.ok(error instanceof HarborHaError);
      assert.equal(error.code, "JOB_WEDGED");
      assert.match(error.message, /promote did not stop within 100 ms of its 50 ms timeout/);
      return true;
    });
    assert.equal(wedged.length, 1);
    assert.equal(wedged[0]?.code, "JOB_WEDGED");
  });

  test("an idempotent job's failure stays retryable", async () => {
    const failing = async () => {
      throw new Error("daemon busy");
    };
    await assert.rejects(runWithPolicy("probe", idempotent, failing, where), (error: unknown) => {
      assert.ok(!(error instanceof UnrecoverableError));
      return (error as Error).message === "daemon busy";
    });
  });

  test("a job that is not idempotent is never retried: its failure is unrecoverable", async () => {
    const failing = async () => {
      throw new Error("promote half done");
    };
    await assert.rejects(runWithPolicy("promote", unsafe, failing, where), (error: unknown) => {
      assert.ok(error instanceof UnrecoverableError);
      assert.match((error as Error).message, /promote failed and is not safe to retry: promote half done/);
      return true;
    });
  });

  test("a timed-out job that is not idempotent is unrecoverable too", async () => {
    const hang = () => new Promise<never>(() => {});
    await assert.rejects(
      runWithPolicy("promote", unsafe, hang, { ...where, abandonGraceMs: 50 }),
      UnrecoverableError,
    );
  });

  test("every job policy retries only when the job is idempotent", () => {
    for (const [name, policy] of Object.entries(JOB_POLICIES)) {
      assert.ok(policy.timeoutMs > 0, `${name} has a timeout`);
      if (!policy.idempotent)
        assert.equal(policy.attempts, 1, `${name} is not idempotent and must not retry`);
    }
  });
});
