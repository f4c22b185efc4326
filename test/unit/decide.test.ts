import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ControllerMemory, decide, findingKey, lsnBytes } from "../../jobs/controller/decide.ts";
import { buildSnapshot } from "../../jobs/controller/snapshot.ts";
import type { NodeObservation } from "../../probes/observation.ts";
import {
  FIXTURE_NOW,
  harborUnhealthy,
  healthyObservation,
  healthyPair,
  keepalivedStopped,
  postgresDown,
  snapshotInput,
} from "../support/observation-fixtures.ts";
import { examplePolicy } from "../support/site-fixtures.ts";

const policy = examplePolicy();

/** What the controller remembers in a steady site: node01 was the primary; every finding confirmed. */
function memory(changes: Partial<ControllerMemory> = {}): ControllerMemory {
  return {
    confirmations: new Proxy(new Map<string, number>(), {
      get: (target, key) => (key === "get" ? () => 99 : Reflect.get(target, key)),
    }),
    lastPrimary: "node01",
    lastPrimaryLsn: "0/3000148",
    fenced: new Set(),
    diverged: new Set(),
    failovers: [],
    paused: false,
    ...changes,
  };
}

const FAILOVER_TO_NODE02 = ["fence node01", "promote node02", "verify-write node02", "set-roles node02"];

/** keepalived's master down interval with the example's 1 s adverts. */
const TAKEOVER_MS = 4_000;

const unconfirmed = (): ReadonlyMap<string, number> => new Map();

function decideFor(observations: Map<string, NodeObservation>, changes: Partial<ControllerMemory> = {}) {
  return decide({
    snapshot: buildSnapshot(snapshotInput(observations, null)),
    policy,
    memory: memory(changes),
    now: FIXTURE_NOW,
    vrrpTakeoverMs: TAKEOVER_MS,
  });
}

function primaryStopped(): Map<string, NodeObservation> {
  const observations = healthyPair();
  observations.set("node01", postgresDown(healthyObservation("node01", { primary: true })));
  return observations;
}

const kinds = (decision: ReturnType<typeof decide>) =>
  decision.actions.map((a) => `${a.kind} ${"node" in a ? a.node : a.primary}`);

describe("decide: the runbook's rules", () => {
  test("a healthy site needs nothing", () => {
    const decision = decideFor(healthyPair());
    assert.equal(decision.scenario, "healthy");
    assert.deepEqual(decision.actions, []);
  });

  test("S1/S3: the primary down on the VIP node is fenced before the standby is promoted", () => {
    const decision = decideFor(primaryStopped());
    assert.equal(decision.scenario, "S1/S3: primary down on the VIP node");
    assert.deepEqual(kinds(decision), FAILOVER_TO_NODE02);
    assert.equal(decision.needsApproval, false);
    assert.match(
      decision.reason,
      /the primary on node01 is down \(stopped\): fence node01 .* then promote node02/,
    );
  });

  test("S1/S3 for a controller that never saw the primary: PostgreSQL down on the VIP's node is the old primary", () => {
    const decision = decideFor(primaryStopped(), { lastPrimary: null, lastPrimaryLsn: null });
    assert.equal(decision.scenario, "S1/S3: primary down on the VIP node");
    assert.deepEqual(kinds(decision), FAILOVER_TO_NODE02);
  });

  test("S1/S3 waits for the confirmations: one failed probe is not a failover", () => {
    const decision = decideFor(primaryStopped(), { confirmations: unconfirmed() });
    assert.notEqual(decision.scenario, "S1/S3: primary down on the VIP node");
    assert.deepEqual(decision.actions, []);
  });

  test("a silent primary node is failed over too: the fence (over SSH) must succeed first", () => {
    const observations = healthyPair();
    observations.set("node01", healthyObservation("node01", { primary: true, ageMs: 20_000 }));
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "S1/S3: primary down on the VIP node");
    assert.match(decision.reason, /node01 is silent \(no observation for 20 s\)/);
    assert.equal(kinds(decision)[0], "fence node01");
  });

  test("a silent agent on a primary that still takes writes through the VIP is not failed over", () => {
    const observations = healthyPair();
    observations.set("node01", healthyObservation("node01", { primary: true, ageMs: 20_000 }));
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.equal(snapshot.throughVip?.postgresWrite.ok, true);
    const decision = decide({
      snapshot,
      policy,
      memory: memory(),
      now: FIXTURE_NOW,
      vrrpTakeoverMs: TAKEOVER_MS,
    });
    assert.notEqual(decision.scenario, "S1/S3: primary down on the VIP node");
  });

  test("a standby further behind than policy.maxLagBytes is not promoted without a person", () => {
    const decision = decideFor(primaryStopped(), { lastPrimaryLsn: "1/00000000" });
    assert.equal(decision.needsApproval, true);
    assert.match(decision.reason, /node02 is \d+ bytes behind, over policy.maxLagBytes/);
  });

  test("a standby whose lag nothing tells is not promoted as 0 bytes behind: a person is asked", () => {
    const observations = primaryStopped();
    const standby = healthyObservation("node02", { primary: false });
    const postgres = {
      ...standby.postgres,
      receivedLsn: null,
      replayLagBytes: null,
    } as typeof standby.postgres;
    observations.set("node02", { ...standby, postgres });
    const decision = decideFor(observations, { lastPrimaryLsn: null });
    assert.equal(decision.needsApproval, true);
    assert.deepEqual(kinds(decision), FAILOVER_TO_NODE02);
    assert.match(decision.reason, /how far node02 is behind is unknown .* could lose writes, so it is asked/);
  });

  test("with no standby to promote, it asks and does nothing", () => {
    const observations = primaryStopped();
    observations.set("node02", { ...primaryStopped().get("node01"), node: "node02" } as NodeObservation);
    const decision = decideFor(observations);
    assert.equal(decision.needsApproval, true);
    assert.deepEqual(decision.actions, []);
    assert.match(decision.reason, /no streaming standby is there to promote/);
  });

  test("S4: keepalived down on the primary's node and the VIP moved: fail over to the peer", () => {
    const observations = new Map([
      ["node01", keepalivedStopped(healthyObservation("node01", { primary: true, holdsVip: false }))],
      ["node02", healthyObservation("node02", { primary: false, holdsVip: true })],
    ]);
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "S4: keepalived down on the VIP holder");
    assert.deepEqual(kinds(decision), FAILOVER_TO_NODE02);
  });

  test("S4 after a crash, the VIP still on the primary's node: fail over at once, before a peer takes the VIP too", () => {
    const observations = new Map([
      ["node01", keepalivedStopped(healthyObservation("node01", { primary: true, holdsVip: true }))],
      ["node02", healthyObservation("node02", { primary: false, holdsVip: false })],
    ]);
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "S4: keepalived down on the VIP holder");
    assert.deepEqual(kinds(decision), FAILOVER_TO_NODE02);
    // No keepalived left to take the VIP: the primary keeps it and serves.
    observations.set("node02", keepalivedStopped(healthyObservation("node02", { primary: false })));
    assert.notEqual(decideFor(observations).scenario, "S4: keepalived down on the VIP holder");
  });

  test("S2: the fenced old primary's node is back: rejoin it and start its keepalived; the VIP stays", () => {
    const observations = new Map([
      ["node01", keepalivedStopped(primaryStopped().get("node01") as NodeObservation)],
      ["node02", healthyObservation("node02", { primary: true, holdsVip: true })],
    ]);
    const decision = decideFor(observations, { fenced: new Set(["node01"]), lastPrimary: "node02" });
    assert.equal(decision.scenario, "S2: old primary's node is back");
    assert.deepEqual(kinds(decision), ["rejoin node01", "set-roles node02", "start-keepalived node01"]);
    assert.equal(decision.needsApproval, false);
  });

  test("S2 for the losing side of two primaries asks first: its writes would be discarded", () => {
    const observations = new Map([
      ["node01", primaryStopped().get("node01") as NodeObservation],
      ["node02", healthyObservation("node02", { primary: true, holdsVip: true })],
    ]);
    const decision = decideFor(observations, {
      fenced: new Set(["node01"]),
      diverged: new Set(["node01"]),
      lastPrimary: "node02",
    });
    assert.equal(decision.needsApproval, true);
    assert.match(decision.reason, /discards the writes it took/);
  });

  test("two writable primaries: the one without the VIP is fenced at once", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: true, holdsVip: false }));
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "two writable primaries");
    assert.deepEqual(kinds(decision), ["fence node02"]);
  });

  test("two primaries and the VIP on both (or neither): a person chooses", () => {
    const observations = new Map([
      ["node01", healthyObservation("node01", { primary: true, holdsVip: true })],
      ["node02", healthyObservation("node02", { primary: true, holdsVip: true })],
    ]);
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "two writable primaries");
    assert.equal(decision.needsApproval, true);
    assert.deepEqual(decision.actions, []);
  });

  test("the VIP on two nodes: keepalived restarts on the node without the primary", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: false, holdsVip: true }));
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "VIP on two nodes");
    assert.deepEqual(kinds(decision), ["restart-keepalived node02"]);
  });

  test("the VIP on no node: keepalived (re)starts on the primary's node", () => {
    const observations = healthyPair();
    observations.set("node01", healthyObservation("node01", { primary: true, holdsVip: false }));
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "VIP on no node");
    assert.deepEqual(kinds(decision), [
      "set-roles node01",
      "restart-keepalived node01",
      "verify-write node01",
    ]);
  });

  test("the VIP on no node for less than keepalived's takeover time is a handover: nothing is done yet", () => {
    const observations = healthyPair();
    observations.set("node01", healthyObservation("node01", { primary: true, holdsVip: false }));
    const intervals = (ms: number) => ms / policy.probeIntervalMs;
    const decideAfter = (ms: number) =>
      decideFor(observations, { confirmations: new Map([["vip-unheld:site", intervals(ms)]]) });
    assert.equal(decideAfter(TAKEOVER_MS / 2).scenario, "healthy");
    assert.equal(decideAfter(TAKEOVER_MS).scenario, "VIP on no node");
  });

  test("the VIP on the standby while the primary's keepalived runs: its priority goes back", () => {
    const observations = new Map([
      ["node01", healthyObservation("node01", { primary: true, holdsVip: false })],
      ["node02", healthyObservation("node02", { primary: false, holdsVip: true })],
    ]);
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "VIP not on the primary");
    assert.deepEqual(kinds(decision), ["set-roles node01"]);
  });

  test("the standby's PostgreSQL down: its container starts again", () => {
    const observations = healthyPair();
    observations.set("node02", postgresDown(healthyObservation("node02", { primary: false })));
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "standby PostgreSQL down");
    assert.deepEqual(kinds(decision), ["restart-postgres node02"]);
  });

  test("keepalived down on the standby's node: it starts again; the VIP stays with the primary", () => {
    const observations = healthyPair();
    observations.set("node02", keepalivedStopped(healthyObservation("node02", { primary: false })));
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "keepalived down on a standby's node");
    assert.deepEqual(kinds(decision), ["start-keepalived node02"]);
  });

  test("Harbor unhealthy on a sound site: its failing components restart", () => {
    const observations = healthyPair();
    observations.set(
      "node02",
      harborUnhealthy(healthyObservation("node02", { primary: false }), ["registry"], ["core"]),
    );
    const decision = decideFor(observations);
    assert.equal(decision.scenario, "Harbor unhealthy");
    assert.deepEqual(decision.actions, [
      { kind: "restart-harbor", node: "node02", components: ["registry"] },
    ]);
  });
});

test("Harbor waits longer than a database fault before a restart: it recovers by itself after a failover", () => {
  const observations = healthyPair();
  observations.set("node02", harborUnhealthy(healthyObservation("node02", { primary: false }), ["registry"]));
  const counted = (count: number) => new Map([["harbor-unhealthy:node02", count]]);
  assert.equal(decideFor(observations, { confirmations: counted(policy.confirmations) }).scenario, "healthy");
  assert.equal(
    decideFor(observations, { confirmations: counted(policy.confirmations * 6) }).scenario,
    "Harbor unhealthy",
  );
});

test("Harbor failing only on its database is left to the database rules: no Harbor restart fixes PostgreSQL", () => {
  const observations = healthyPair();
  const harbor = (names: string[]) =>
    harborUnhealthy(healthyObservation("node02", { primary: false }), names);
  observations.set("node02", harbor(["database"]));
  assert.equal(decideFor(observations).scenario, "healthy");
  observations.set("node02", harbor(["database", "core"]));
  assert.deepEqual(decideFor(observations).actions, [
    { kind: "restart-harbor", node: "node02", components: ["core"] },
  ]);
});

describe("decide: the guardrails", () => {
  test("paused: the plan is made and asked, never run", () => {
    const decision = decideFor(primaryStopped(), { paused: true });
    assert.equal(decision.needsApproval, true);
    assert.equal(decision.actions.length, 4);
    assert.match(decision.reason, /automation is paused/);
  });

  test("flap damping: after maxAutoFailovers in the window, the next failover is asked", () => {
    const recent = [FIXTURE_NOW - 60_000, FIXTURE_NOW - 120_000];
    const damped = decideFor(primaryStopped(), { failovers: recent });
    assert.equal(damped.needsApproval, true);
    assert.match(damped.reason, /2 automatic failovers in the last 30 min \(flap damping\)/);
    const old = [FIXTURE_NOW - 31 * 60_000, FIXTURE_NOW - 60_000];
    assert.equal(
      decideFor(primaryStopped(), { failovers: old }).needsApproval,
      false,
      "an old failover has left the window",
    );
  });

  test("flap damping does not hold back repairs that are not failovers", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: false, holdsVip: true }));
    const decision = decideFor(observations, {
      failovers: [FIXTURE_NOW - 1_000, FIXTURE_NOW - 2_000, FIXTURE_NOW - 3_000],
    });
    assert.equal(decision.needsApproval, false);
  });

  test("a fenced node is never failed over again while it is down", () => {
    const decision = decideFor(primaryStopped(), { fenced: new Set(["node01"]) });
    assert.notEqual(decision.scenario, "S1/S3: primary down on the VIP node");
  });

  test("LSN arithmetic crosses the 4 GiB boundary", () => {
    assert.equal(lsnBytes("1/00000010", "0/FFFFFFF0"), 32);
    assert.equal(lsnBytes("0/10", "0/20"), 0, "never negative");
    assert.equal(lsnBytes(null, "0/20"), undefined);
    assert.equal(findingKey("vip-split"), "vip-split:site");
  });
});
