import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeProbes } from "../../probes/node-probes.ts";
import type { NodeObservation, ProbeReading } from "../../probes/observation.ts";
import { startObserver } from "../../probes/observer.ts";
import { createLogger } from "../../support/logger.ts";

const logger = createLogger({ component: "observer-test", level: "silent", destination: process.stderr });
const ok = { ok: true as const, durationMs: 1 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a condition of the loop's own pace (not the test's guess of it), up to 10 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail("the loop did not get there within 10 s");
    await sleep(5);
  }
}

/**
 * Probes of a quiet healthy standby that answer after `delayMs`, counting how many rounds run at
 * once; the Harbor probe can be made to hang, as it does when the database behind it is gone.
 */
function quietStandbyProbes(options: { delayMs?: number; harborHangsMs?: number } = {}) {
  const stats = { inFlight: 0, maxInFlight: 0, harborReads: 0, closed: false, confirmAsked: [] as boolean[] };
  const answer =
    <T extends object>(facts: T) =>
    async (): Promise<ProbeReading<T>> => {
      stats.inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      await sleep(options.delayMs ?? 5);
      stats.inFlight -= 1;
      return { ...ok, ...facts };
    };
  const probes: NodeProbes = {
    postgres: answer({
      role: "standby" as const,
      detail: "in recovery",
      timeline: 1,
      currentLsn: null,
      receivedLsn: "0/1",
      replayedLsn: "0/1",
      replayLagBytes: 0,
      replayLagSeconds: 0,
      walReceiver: { status: "streaming", senderHost: "10.77.0.11" },
      replication: [],
      synchronousStandbyNames: null,
    }),
    vip: async () => ({ ...ok, address: "10.77.0.100", interface: "eth0", holds: false }),
    keepalived: async (round) => {
      stats.confirmAsked.push(round.afterDockerEvent);
      return { ...ok, running: true, state: "BACKUP", since: null, priority: 100 };
    },
    redis: async () => ({ ...ok, role: "master" }),
    docker: async () => ({ ...ok, version: "20.10.24", containers: [] }),
    harbor: async () => {
      stats.harborReads += 1;
      if (stats.harborReads > 1 && options.harborHangsMs) await sleep(options.harborHangsMs);
      return { ...ok, healthy: stats.harborReads === 1, components: [] };
    },
    storage: async () => ({ ...ok, path: "/shared", latencyMs: 1 }),
    close: async () => {
      stats.closed = true;
    },
  };
  return { probes, stats };
}

function observe(probes: NodeProbes, intervalMs: number, slowIntervalMs = 2_000) {
  const seen: NodeObservation[] = [];
  const readings: string[] = [];
  const observer = startObserver({
    site: "lab",
    node: "node02",
    probes,
    intervalMs,
    slowIntervalMs,
    onObservation: (observation) => seen.push(observation),
    onReading: (probe) => readings.push(probe),
    logger,
  });
  return { observer, seen, readings };
}

describe("the observation loop", () => {
  test("observes on its interval with a seq that grows by one, starting with a complete start observation", async () => {
    const { probes, stats } = quietStandbyProbes();
    const { observer, seen } = observe(probes, 50);
    await until(() => seen.length >= 5);
    await observer.stop();
    assert.deepEqual(
      seen.map((observation) => observation.seq),
      seen.map((_, index) => index + 1),
    );
    const span = (seen[4]?.observedAt ?? 0) - (seen[0]?.observedAt ?? 0);
    assert.ok(span >= 4 * 50 - 5, `5 rounds at 50 ms span at least 200 ms, not ${span} ms`);
    assert.equal(seen[0]?.trigger, "start");
    assert.equal(seen[0]?.harbor.ok, true, "the first observation waited for the slow probes");
    assert.ok(seen.slice(1).every((observation) => observation.trigger === "interval"));
    assert.equal(seen[0]?.agentPid, process.pid);
    assert.equal(stats.closed, true, "stopping closes the probes' connections");
  });

  test("rounds never overlap, even when the probes are slower than the interval", async () => {
    const { probes, stats } = quietStandbyProbes({ delayMs: 60 });
    const { observer, seen } = observe(probes, 10);
    await until(() => seen.length >= 4);
    await observer.stop();
    assert.equal(stats.maxInFlight, 1);
  });

  test("a Docker event cuts the wait short: the next observation says which event, coalesced", async () => {
    const { probes } = quietStandbyProbes();
    const { observer, seen } = observe(probes, 60_000);
    while (seen.length === 0) await sleep(5);
    const before = performance.now();
    observer.observeNow("postgres-node02 kill (signal 9)");
    observer.observeNow("postgres-node02 die (exit 137)");
    while (seen.length < 2) await sleep(5);
    await observer.stop();
    assert.ok(performance.now() - before < 5_000, "did not wait for the 60 s interval");
    assert.equal(seen[1]?.trigger, "docker-event");
    assert.equal(seen[1]?.triggerDetail, "postgres-node02 kill (signal 9), postgres-node02 die (exit 137)");
    assert.equal(seen.length, 2, "two events in quick succession make one round, not two");
  });

  test("a hanging slow probe does not hold the rounds; its last reading is carried meanwhile", async () => {
    const { probes, stats } = quietStandbyProbes({ harborHangsMs: 3_000 });
    const { observer, seen, readings } = observe(probes, 20, 20);
    await until(() => stats.harborReads === 2 && seen.length >= 8);
    const during = seen.length;
    await observer.stop();
    assert.equal(stats.harborReads, 2, "one reading at a time: no second call while the first hangs");
    assert.ok(seen.every((observation) => observation.harbor.ok && observation.harbor.healthy));
    assert.equal(
      readings.filter((probe) => probe === "harbor").length,
      2,
      "stop waits for the reading in flight",
    );
    assert.ok(readings.filter((probe) => probe === "postgres").length >= during);
  });

  test("only the round after a Docker event asks for container lists confirmed by inspect", async () => {
    const { probes, stats } = quietStandbyProbes();
    const { observer, seen } = observe(probes, 60_000);
    await until(() => seen.length === 1);
    observer.observeNow("keepalived-node02 die (exit 0)");
    await until(() => seen.length === 2);
    await observer.stop();
    assert.deepEqual(stats.confirmAsked, [false, true]);
  });
});
