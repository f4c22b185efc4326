import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeError, readProbe, withTimeout } from "../../probes/reading.ts";

describe("a probe reading", () => {
  test("work that answers is an ok reading with its facts and duration", async () => {
    const reading = await readProbe(1_000, "test probe", async () => ({ holds: true }));
    assert.equal(reading.ok, true);
    assert.ok(reading.ok && reading.holds);
    assert.ok(reading.durationMs >= 0);
  });

  test("work that throws is a failed reading with the reason, never a throw", async () => {
    const reading = await readProbe(1_000, "test probe", async () => {
      throw new Error("connect ECONNREFUSED 10.77.0.12:5432");
    });
    assert.deepEqual(
      { ...reading, durationMs: 0 },
      { ok: false, error: "connect ECONNREFUSED 10.77.0.12:5432", durationMs: 0 },
    );
  });

  test("work that hangs and ignores its signal is cut off at the deadline", async () => {
    const started = performance.now();
    const reading = await readProbe(50, "hung probe", () => new Promise<never>(() => {}));
    assert.equal(reading.ok, false);
    assert.match(reading.ok ? "" : reading.error, /hung probe: no answer within 50 ms/);
    assert.ok(performance.now() - started < 1_000);
  });

  test("the work's signal aborts at the deadline, so it can stop its I/O", async () => {
    let aborted: AbortSignal | undefined;
    await assert.rejects(
      withTimeout(20, "slow", (signal) => {
        aborted = signal;
        return new Promise(() => {});
      }),
      /slow: no answer within 20 ms/,
    );
    assert.equal(aborted?.aborted, true);
  });
});

describe("error descriptions", () => {
  test("an empty AggregateError (a multi-address connect) names its inner errors", () => {
    const error = new AggregateError(
      [new Error("connect ECONNREFUSED ::1:5432"), new Error("connect ECONNREFUSED 127.0.0.1:5432")],
      "",
    );
    assert.equal(describeError(error), "connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432");
  });

  test("fetch's 'fetch failed' gives way to its cause", () => {
    assert.equal(
      describeError(
        new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 10.77.0.11:5000") }),
      ),
      "connect ECONNREFUSED 10.77.0.11:5000",
    );
  });

  test("a thrown non-error is its text", () => {
    assert.equal(describeError("boom"), "boom");
  });
});
