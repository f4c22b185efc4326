import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildSnapshot, streamsFromUpstream } from "../../jobs/controller/snapshot.ts";
import {
  FIXTURE_NOW,
  healthyObservation,
  healthyPair,
  snapshotInput,
  standbyPostgres,
} from "../support/observation-fixtures.ts";

const codes = (observations = healthyPair(), throughVip?: Parameters<typeof snapshotInput>[1]) =>
  buildSnapshot(snapshotInput(observations, throughVip)).findings.map((finding) => finding.code);

describe("the cluster snapshot", () => {
  test("a primary holding the VIP and a streaming standby is healthy, with no findings", () => {
    const snapshot = buildSnapshot(snapshotInput(healthyPair()));
    assert.equal(snapshot.overall, "healthy");
    assert.deepEqual(snapshot.vip.holders, ["node01"]);
    assert.deepEqual(snapshot.primaries, ["node01"]);
    assert.deepEqual(snapshot.findings, []);
    assert.deepEqual(
      snapshot.nodes.map((view) => [view.node, view.ageMs, view.stale]),
      [
        ["node01", 300, false],
        ["node02", 300, false],
      ],
    );
  });

  test("a node without an observation is silent, and its facts count for nothing", () => {
    const observations = healthyPair();
    observations.delete("node01");
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.equal(snapshot.overall, "critical");
    assert.deepEqual(snapshot.vip.holders, []);
    assert.deepEqual(codes(observations), ["node-silent", "vip-unheld", "no-primary"]);
    assert.match(snapshot.findings[0]?.message ?? "", /node01: no observation/);
  });

  test("an observation older than the staleness limit is silent too, with its age", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: false, ageMs: 12_000 }));
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.deepEqual(codes(observations), ["node-silent"]);
    assert.match(snapshot.findings[0]?.message ?? "", /node02: last observation 12 s old/);
    assert.equal(snapshot.nodes[1]?.stale, true);
  });

  test("two VIP holders after a keepalived crash are a split VIP", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: false, holdsVip: true }));
    assert.deepEqual(codes(observations), ["vip-split"]);
  });

  test("two primaries are split brain; the VIP on the old one is not on 'the' primary", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: true, holdsVip: false }));
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.deepEqual(snapshot.primaries, ["node01", "node02"]);
    assert.deepEqual(codes(observations), ["split-brain"]);
  });

  test("the VIP on the standby's node means writes through the VIP fail", () => {
    const observations = new Map([
      ["node01", healthyObservation("node01", { primary: true, holdsVip: false })],
      ["node02", healthyObservation("node02", { primary: false, holdsVip: true })],
    ]);
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.deepEqual(codes(observations), ["vip-not-on-primary"]);
    assert.match(snapshot.findings[0]?.message ?? "", /VIP is on node02 but the primary is on node01/);
  });

  test("a stopped primary container is PostgreSQL down and leaves no primary", () => {
    const observations = healthyPair();
    const node01 = healthyObservation("node01", { primary: true });
    observations.set("node01", {
      ...node01,
      postgres: { ...standbyPostgres(), ok: true, durationMs: 2, role: "stopped", detail: "exited (137)" },
    });
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.deepEqual(codes(observations), ["no-primary", "postgres-down"]);
    assert.match(
      snapshot.findings.at(-1)?.message ?? "",
      /node01: PostgreSQL is not serving \(stopped: exited \(137\)\)/,
    );
  });

  test("a lagging or disconnected standby is a warning: degraded, not critical", () => {
    const observations = healthyPair();
    const lagging = healthyObservation("node02", { primary: false });
    observations.set("node02", {
      ...lagging,
      postgres: {
        ok: true,
        durationMs: 2,
        ...standbyPostgres(64 * 1024 * 1024),
        walReceiver: { status: "waiting", senderHost: null },
      },
    });
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.equal(snapshot.overall, "degraded");
    assert.deepEqual(codes(observations), ["standby-not-streaming", "standby-lagging"]);
    assert.equal(streamsFromUpstream(buildSnapshot(snapshotInput(healthyPair())), "node02"), true);
    assert.equal(streamsFromUpstream(snapshot, "node02"), false, "waiting is not streaming");
    assert.equal(streamsFromUpstream(snapshot, "node01"), false, "a primary streams from no one");
  });

  test("keepalived not running and Harbor unhealthy are named per node with the failing components", () => {
    const observations = healthyPair();
    const node02 = healthyObservation("node02", { primary: false });
    observations.set("node02", {
      ...node02,
      keepalived: { ok: true, durationMs: 1, running: false, state: "STOP", since: null, priority: null },
      harbor: {
        ok: true,
        durationMs: 1,
        healthy: false,
        components: [
          { name: "core", status: "healthy" },
          { name: "database", status: "unhealthy", error: "connection refused" },
        ],
      },
    });
    const snapshot = buildSnapshot(snapshotInput(observations));
    assert.deepEqual(codes(observations), ["keepalived-down", "harbor-unhealthy"]);
    assert.match(
      snapshot.findings[1]?.message ?? "",
      /node02: Harbor unhealthy: database \(connection refused\)/,
    );
  });

  test("a failed write through the VIP is critical even when every node looks fine", () => {
    const failed = {
      checkedAt: FIXTURE_NOW,
      postgresWrite: {
        ok: false as const,
        error: "cannot execute INSERT in a read-only transaction",
        durationMs: 4,
      },
      harbor: { ok: false as const, error: "connect ECONNREFUSED 10.77.0.100:5000", durationMs: 1 },
    };
    const snapshot = buildSnapshot(snapshotInput(healthyPair(), failed));
    assert.equal(snapshot.overall, "critical");
    assert.deepEqual(codes(healthyPair(), failed), [
      "write-through-vip-failed",
      "harbor-through-vip-unhealthy",
    ]);
  });

  test("with no node observed at all the state is unknown, not healthy", () => {
    assert.equal(buildSnapshot(snapshotInput(new Map(), null)).overall, "unknown");
  });
});
