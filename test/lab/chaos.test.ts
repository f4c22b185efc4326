/**
 * `npm run chaos` in short: every fault kind once, in the order seed 1 gives, on the lab with
 * synchronous replication, a writer through the VIP and a split-brain watch throughout. The
 * full run is `npm run chaos` (50 faults). Root needed; the lab always comes down.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { chaosTable, runChaos } from "../../bench/chaos/chaos.ts";
import { CHAOS_FAULTS } from "../../bench/chaos/schedule.ts";

// A session to a node that vanished with the lab must never keep this file's process (and the
// whole suite) waiting: sessions are closed with closePg, and this is the last resort.
after(() => {
  setTimeout(() => process.exit(process.exitCode), 5_000).unref();
});

test("chaos, seed 1, each fault once: no split brain, no acknowledged write lost, every fault settles", async (t) => {
  const report = await runChaos({ seed: 1, faults: CHAOS_FAULTS.length, log: (line) => t.diagnostic(line) });
  t.diagnostic(chaosTable(report));
  assert.equal(report.outcomes.length, CHAOS_FAULTS.length);
  assert.deepEqual(report.splitBrain, [], "no split-brain moment");
  assert.ok(report.writesAcknowledged > 0, "the writer committed through the VIP");
  assert.equal(report.writesLost, 0, "no acknowledged write lost under synchronous replication");
  assert.deepEqual(
    report.outcomes.filter((o) => !o.resolved).map((o) => `${o.fault}: ${o.error}`),
    [],
    "every fault settled without a person",
  );
});
